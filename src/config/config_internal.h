/*
 * config_internal.h - helpers shared by the files of src/config.
 */
#ifndef AH_SRC_CONFIG_CONFIG_INTERNAL_H
#define AH_SRC_CONFIG_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* Value at a dotted path of `root` (borrowed) or NULL. */
json_t *config_tree_get(json_t *root, const char *path);
/* Set (takes the reference; NULL or json null deletes), creating
 * intermediate objects.  Returns 0 or -1 (empty segment, non-object). */
int config_tree_set(json_t *root, const char *path, json_t *value_take);

/* Where each value came from: dotted path -> source name ("config/web.json",
 * "environment variable PORT", "option --port").  The longest recorded
 * prefix of a path names its source. */
struct config_origins {
    json_t *map;
};
void config_origin_set(struct config_origins *o, const char *path, const char *source);
const char *config_origin_get(const struct config_origins *o, const char *path);

/* hashMerge of `src` into `dst` (config.h), recording `source` for every
 * key set under `prefix` (may be "" for the root) when `o` is non-NULL. */
void config_merge_from(json_t *dst, json_t *src, const char *prefix, struct config_origins *o,
                       const char *source);

/* Validate and normalise the whole tree with the option table.  On the
 * first error writes "<source>: <key>: <problem>" into err and returns -1.
 * Non-fatal findings (unknown options) are appended to `warnings` as
 * strings. */
int config_validate(json_t *root, const struct config_origins *o, json_t *warnings, char *err,
                    size_t errlen);

/* Compact JSON of `v` for messages, at most ~80 characters. */
void config_describe(const json_t *v, char *out, size_t outlen);

#endif /* AH_SRC_CONFIG_CONFIG_INTERNAL_H */
