/*
 * cache.h - Actionhero's cache for actions, initializers and tasks
 * (spec/cache.md): values with expiry, locks, lists and the namespace
 * tools, stored with Actionhero's own keys and JSON, so a Node Actionhero
 * server on the same Redis shares the entries:
 *
 *   <general.cachePrefix><key>   {"value": <value>, "createdAt": <ms>}
 *   <general.cachePrefix><key>   a list of {"data": <item>} (push/pop)
 *   <general.lockPrefix><key>    the lock owner's name, with a TTL
 *
 * Every function is asynchronous, in two forms:
 *
 *   ah_cache_load(ctx, key, opts, on_value)          from an action
 *   ah_cache_app_load(app, key, opts, on_value, arg)  from anywhere else
 *
 * Each returns 0, and then its callback runs exactly once on a later loop
 * turn, or a negative code (AH_EINVAL for a NULL key/callback, AH_ESTATE when
 * the cache is not running), and then it never runs.  The callback gets:
 *
 *   status   0 or a negative code (below)
 *   result   the function's result as JSON (borrowed: json_incref() it to
 *            keep it), or NULL when status < 0
 *   error    NULL, or the error text an Actionhero client would see
 *
 *   status                  error text
 *   AH_ENOTFOUND            "Object not found"   (load: missing, expired, not JSON)
 *   AH_CACHE_ELOCKED        "Object locked"      (save, load, destroy)
 *   AH_EUNAVAIL             "redis not connected, cache cannot be used"
 *   AH_EFAIL                Redis's own text ("WRONGTYPE Operation against a key
 *                           holding the wrong kind of value"), or a file error
 *                           ("ENOENT: no such file or directory, open 'x'")
 *   AH_ELIMIT               which bound was reached (memory store full, ...)
 *
 * An action would typically do:
 *
 *     static void on_value(ah_ctx_t *ctx, int status, json_t *result, const char *error)
 *     {
 *         if (status < 0)
 *             ah_set_error(ctx, "%s", error);
 *         else
 *             json_object_set(ah_response(ctx), "cached", json_object_get(result, "value"));
 *         ah_done(ctx);
 *     }
 *
 *     static int run(ah_ctx_t *ctx)
 *     {
 *         if (ah_cache_load(ctx, "greeting", NULL, on_value) < 0)
 *             return ah_fail(ctx, AH_EFAIL, "cache unavailable");
 *         return AH_PENDING;
 *     }
 *
 * Keys are the caller's keys without the prefix.  Values and items are any
 * JSON value (borrowed: serialised before the call returns); NULL means
 * JavaScript's `undefined` (the field is left out, as JSON.stringify does).
 * Everything runs on the loop thread.
 */
#ifndef AH_CACHE_H
#define AH_CACHE_H

#include <limits.h>
#include <stdbool.h>

#include <jansson.h>

#include <ah/ah.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AH_CACHE_ELOCKED AH_ESTATE      /* "Object locked" */
#define AH_CACHE_LOCK_DEFAULT LLONG_MIN /* lock(): use general.lockDuration */

typedef void (*ah_cache_cb)(ah_ctx_t *ctx, int status, json_t *result, const char *error);
typedef void (*ah_cache_app_cb)(ah_app_t *app, int status, json_t *result, const char *error, void *arg);

/* load() options ({} when NULL). */
typedef struct ah_cache_load_opts {
    long long expire_ms;   /* non-zero: PEXPIRE the key with it after the load (a
                              sliding expiry; negative deletes the key) */
    long long retry_ms;    /* > 0: while another owner holds the lock, check again
                              every 100 ms for up to this long */
    bool ignore_lock;      /* Actionhero's `retry: true`: another owner's lock is
                              ignored (a quirk of v29 kept for compatibility) */
} ah_cache_load_opts_t;

/* save(key, value, expireTimeMS) -> true.  expire_ms 0: no expiry (and a
 * previous TTL is cleared); > 0: expires after that many ms; < 0: the key is
 * deleted at once.  Fails with "Object locked" if another owner holds the
 * key's lock. */
int ah_cache_save(ah_ctx_t *ctx, const char *key, json_t *value, long long expire_ms, ah_cache_cb cb);
int ah_cache_app_save(ah_app_t *app, const char *key, json_t *value, long long expire_ms,
                      ah_cache_app_cb cb, void *arg);

/* load(key, options) -> {"key", "value", "createdAt"}. */
int ah_cache_load(ah_ctx_t *ctx, const char *key, const ah_cache_load_opts_t *opts, ah_cache_cb cb);
int ah_cache_app_load(ah_app_t *app, const char *key, const ah_cache_load_opts_t *opts,
                      ah_cache_app_cb cb, void *arg);

/* destroy(key) -> true if a value was deleted, else false. */
int ah_cache_destroy(ah_ctx_t *ctx, const char *key, ah_cache_cb cb);
int ah_cache_app_destroy(ah_app_t *app, const char *key, ah_cache_app_cb cb, void *arg);

/* push(key, item) -> true; pop(key) -> the oldest item, or null;
 * listLength(key) -> integer.  Lists ignore locks. */
int ah_cache_push(ah_ctx_t *ctx, const char *key, json_t *item, ah_cache_cb cb);
int ah_cache_app_push(ah_app_t *app, const char *key, json_t *item, ah_cache_app_cb cb, void *arg);
int ah_cache_pop(ah_ctx_t *ctx, const char *key, ah_cache_cb cb);
int ah_cache_app_pop(ah_app_t *app, const char *key, ah_cache_app_cb cb, void *arg);
int ah_cache_list_length(ah_ctx_t *ctx, const char *key, ah_cache_cb cb);
int ah_cache_app_list_length(ah_app_t *app, const char *key, ah_cache_app_cb cb, void *arg);

/* lock(key, expireTimeMS) -> true if this process now holds the lock
 * (locks are not re-entrant: a second lock() by the same owner is false).
 * The lock lives ceil(expire_ms / 1000) s; AH_CACHE_LOCK_DEFAULT uses
 * general.lockDuration.  unlock(key) -> false if another owner holds it.
 * checkLock(key, retry) -> true if the key is free or ours (retry as in
 * ah_cache_load_opts_t). */
int ah_cache_lock(ah_ctx_t *ctx, const char *key, long long expire_ms, ah_cache_cb cb);
int ah_cache_app_lock(ah_app_t *app, const char *key, long long expire_ms, ah_cache_app_cb cb, void *arg);
int ah_cache_unlock(ah_ctx_t *ctx, const char *key, ah_cache_cb cb);
int ah_cache_app_unlock(ah_app_t *app, const char *key, ah_cache_app_cb cb, void *arg);
int ah_cache_check_lock(ah_ctx_t *ctx, const char *key, long long retry_ms, bool ignore_lock,
                        ah_cache_cb cb);
int ah_cache_app_check_lock(ah_app_t *app, const char *key, long long retry_ms, bool ignore_lock,
                            ah_cache_app_cb cb, void *arg);

/* keys(scope) / locks(scope) -> array of full key names under
 * <cachePrefix><scope>* / <lockPrefix><scope>* (scope may be NULL).
 * getKeys(pattern, count) -> the same for any glob pattern (count <= 0:
 * redis.scanCount).  size(pattern) -> how many; clear(pattern) -> the keys
 * deleted.  A NULL pattern means <cachePrefix>*. */
int ah_cache_keys(ah_ctx_t *ctx, const char *scope, ah_cache_cb cb);
int ah_cache_app_keys(ah_app_t *app, const char *scope, ah_cache_app_cb cb, void *arg);
int ah_cache_locks(ah_ctx_t *ctx, const char *scope, ah_cache_cb cb);
int ah_cache_app_locks(ah_app_t *app, const char *scope, ah_cache_app_cb cb, void *arg);
int ah_cache_get_keys(ah_ctx_t *ctx, const char *pattern, long long count, ah_cache_cb cb);
int ah_cache_app_get_keys(ah_app_t *app, const char *pattern, long long count, ah_cache_app_cb cb,
                          void *arg);
int ah_cache_size(ah_ctx_t *ctx, const char *pattern, ah_cache_cb cb);
int ah_cache_app_size(ah_app_t *app, const char *pattern, ah_cache_app_cb cb, void *arg);
int ah_cache_clear(ah_ctx_t *ctx, const char *pattern, ah_cache_cb cb);
int ah_cache_app_clear(ah_app_t *app, const char *pattern, ah_cache_app_cb cb, void *arg);

/* dumpWrite(file) -> the number of keys written to `file` as
 * {"<full key>": "<stored JSON text>"} (TTLs are not kept; a list under the
 * prefix fails with WRONGTYPE, as in Actionhero).  dumpRead(file) -> the
 * number of entries loaded: the file is read and checked first, then the
 * namespace is cleared and every entry SET (keeping no TTL).  Paths are
 * relative to the working directory; file sizes are bounded by
 * cache.maxDumpBytes. */
int ah_cache_dump_write(ah_ctx_t *ctx, const char *file, ah_cache_cb cb);
int ah_cache_app_dump_write(ah_app_t *app, const char *file, ah_cache_app_cb cb, void *arg);
int ah_cache_dump_read(ah_ctx_t *ctx, const char *file, ah_cache_cb cb);
int ah_cache_app_dump_read(ah_app_t *app, const char *file, ah_cache_app_cb cb, void *arg);

/* The lock owner's name: the one set by ah_cache_override_lock_name(), else
 * the server id (borrowed; valid until the next override).  Override with
 * NULL to go back to the server id. */
const char *ah_cache_lock_name(ah_app_t *app);
void ah_cache_override_lock_name(ah_app_t *app, const char *name);

#ifdef __cplusplus
}
#endif

#endif /* AH_CACHE_H */
