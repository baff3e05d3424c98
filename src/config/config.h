/*
 * config.h - the configuration tree (config.md).
 *
 * Build order: compiled-in defaults (every namespace, Actionhero 29's values)
 * -> each config directory's files (config/<area>.json, sorted; a file holds
 * {"<namespace>": {...}}) -> the environment overlay
 * (config/environments/<env>.json, same shape; built-in overlays for
 * "test" and "production" apply first) -> environment variables (PORT,
 * ALLOWED_HOSTS, AUTOMATIC_ROUTES, LOG_LEVEL, REDIS_*, ...) ->
 * ACTIONHERO_CONFIG_OVERRIDES -> command-line flags (--port=, --config=,
 * --ACTIONHERO_CONFIG_OVERRIDES=, --NODE_ENV=, --title=, --set a.b=json).
 * Merge rules are Actionhero's: objects merge recursively, arrays and scalars
 * replace, null deletes; routes concatenate per method (duplicates removed).
 *
 * Then every option of the option table (name, type, default, min, max) is
 * validated; a bad file or value stops boot with one line naming the file,
 * the key and the problem.
 */
#ifndef AH_SRC_CONFIG_CONFIG_H
#define AH_SRC_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include <ah/ah.h>

struct config_args {
    int argc;               /* the arguments after the command word */
    char **argv;
};

/* Build app->config, app->env, app->id, app->project_root.  On error returns
 * <0 and writes one line (no newline) into err. */
int config_load(ah_app_t *app, const struct config_args *args, char *err, size_t errlen);

/* Lookups by dotted path ("web.formOptions.maxFileSize"); borrowed. */
json_t *config_get(ah_app_t *app, const char *path);
long long config_int(ah_app_t *app, const char *path, long long dflt);
double config_real(ah_app_t *app, const char *path, double dflt);
const char *config_str(ah_app_t *app, const char *path, const char *dflt);
bool config_bool(ah_app_t *app, const char *path, bool dflt); /* JS truthiness */

/* Error texts of config.errors (config.md §5), with {name} placeholders
 * filled from `vars` ("name", value, ..., NULL).  Returns a new string. */
char *config_error_text(ah_app_t *app, const char *key, ...);

/* Deep-merge `src` into `dst` with Actionhero's rules (exposed for tests). */
void config_merge(json_t *dst, json_t *src);

#endif /* AH_SRC_CONFIG_CONFIG_H */
