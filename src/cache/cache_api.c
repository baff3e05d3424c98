/*
 * cache_api.c - the public functions of include/ah/cache.h: each one
 * checks its arguments, makes a request bound to an action (ctx) or to app
 * code (callback + arg), and starts the operation.
 */
#include "cache/cache_internal.h"

#include "app/app.h"
#include "dispatch/dispatch.h"

/* ------------------------------------------------------------- the API */

/* Bind the completion: from an action (ctx) or from app code. */
static struct creq *for_ctx(ah_ctx_t *ctx, const char *key, ah_cache_cb cb)
{
    struct creq *q;

    if (ctx == NULL || cb == NULL || (q = cache_req_new(ctx->app, key)) == NULL)
        return NULL;
    q->ctx = ctx;
    q->ctx_cb = cb;
    return q;
}

static struct creq *for_app(ah_app_t *app, const char *key, ah_cache_app_cb cb, void *arg)
{
    struct creq *q;

    if (app == NULL || cb == NULL || (q = cache_req_new(app, key)) == NULL)
        return NULL;
    q->app_cb = cb;
    q->arg = arg;
    return q;
}

/* Why a request could not be made: bad arguments or no running cache. */
static int no_req(ah_app_t *app, const void *cb, const char *key, bool key_needed)
{
    if (cb == NULL || (key_needed && key == NULL) || app == NULL)
        return AH_EINVAL;
    return AH_ESTATE;
}

#define APP_OF_CTX(ctx) ((ctx) ? (ctx)->app : NULL)

/* save */
int ah_cache_save(ah_ctx_t *ctx, const char *key, json_t *value, long long expire_ms, ah_cache_cb cb)
{
    struct creq *q = key ? for_ctx(ctx, key, cb) : NULL;

    return q ? cache_op_save(q, value, expire_ms) : no_req(APP_OF_CTX(ctx), (const void *)cb, key, true);
}

int ah_cache_app_save(ah_app_t *app, const char *key, json_t *value, long long expire_ms, ah_cache_app_cb cb,
                      void *arg)
{
    struct creq *q = key ? for_app(app, key, cb, arg) : NULL;

    return q ? cache_op_save(q, value, expire_ms) : no_req(app, (const void *)cb, key, true);
}

/* load */
int ah_cache_load(ah_ctx_t *ctx, const char *key, const ah_cache_load_opts_t *opts, ah_cache_cb cb)
{
    struct creq *q = key ? for_ctx(ctx, key, cb) : NULL;

    return q ? cache_op_load(q, opts) : no_req(APP_OF_CTX(ctx), (const void *)cb, key, true);
}

int ah_cache_app_load(ah_app_t *app, const char *key, const ah_cache_load_opts_t *opts, ah_cache_app_cb cb,
                      void *arg)
{
    struct creq *q = key ? for_app(app, key, cb, arg) : NULL;

    return q ? cache_op_load(q, opts) : no_req(app, (const void *)cb, key, true);
}

/* destroy */
int ah_cache_destroy(ah_ctx_t *ctx, const char *key, ah_cache_cb cb)
{
    struct creq *q = key ? for_ctx(ctx, key, cb) : NULL;

    return q ? cache_op_destroy(q) : no_req(APP_OF_CTX(ctx), (const void *)cb, key, true);
}

int ah_cache_app_destroy(ah_app_t *app, const char *key, ah_cache_app_cb cb, void *arg)
{
    struct creq *q = key ? for_app(app, key, cb, arg) : NULL;

    return q ? cache_op_destroy(q) : no_req(app, (const void *)cb, key, true);
}

/* push / pop / listLength */
int ah_cache_push(ah_ctx_t *ctx, const char *key, json_t *item, ah_cache_cb cb)
{
    struct creq *q = key ? for_ctx(ctx, key, cb) : NULL;

    return q ? cache_op_push(q, item) : no_req(APP_OF_CTX(ctx), (const void *)cb, key, true);
}

int ah_cache_app_push(ah_app_t *app, const char *key, json_t *item, ah_cache_app_cb cb, void *arg)
{
    struct creq *q = key ? for_app(app, key, cb, arg) : NULL;

    return q ? cache_op_push(q, item) : no_req(app, (const void *)cb, key, true);
}


int ah_cache_pop(ah_ctx_t *ctx, const char *key, ah_cache_cb cb)
{
    struct creq *q = key ? for_ctx(ctx, key, cb) : NULL;

    return q ? cache_op_pop(q) : no_req(APP_OF_CTX(ctx), (const void *)cb, key, true);
}

int ah_cache_app_pop(ah_app_t *app, const char *key, ah_cache_app_cb cb, void *arg)
{
    struct creq *q = key ? for_app(app, key, cb, arg) : NULL;

    return q ? cache_op_pop(q) : no_req(app, (const void *)cb, key, true);
}


int ah_cache_list_length(ah_ctx_t *ctx, const char *key, ah_cache_cb cb)
{
    struct creq *q = key ? for_ctx(ctx, key, cb) : NULL;

    return q ? cache_op_llen(q) : no_req(APP_OF_CTX(ctx), (const void *)cb, key, true);
}

int ah_cache_app_list_length(ah_app_t *app, const char *key, ah_cache_app_cb cb, void *arg)
{
    struct creq *q = key ? for_app(app, key, cb, arg) : NULL;

    return q ? cache_op_llen(q) : no_req(app, (const void *)cb, key, true);
}

/* lock / unlock / checkLock */

int ah_cache_lock(ah_ctx_t *ctx, const char *key, long long expire_ms, ah_cache_cb cb)
{
    struct creq *q = key ? for_ctx(ctx, key, cb) : NULL;

    return q ? cache_op_lock(q, expire_ms) : no_req(APP_OF_CTX(ctx), (const void *)cb, key, true);
}

int ah_cache_app_lock(ah_app_t *app, const char *key, long long expire_ms, ah_cache_app_cb cb, void *arg)
{
    struct creq *q = key ? for_app(app, key, cb, arg) : NULL;

    return q ? cache_op_lock(q, expire_ms) : no_req(app, (const void *)cb, key, true);
}


int ah_cache_unlock(ah_ctx_t *ctx, const char *key, ah_cache_cb cb)
{
    struct creq *q = key ? for_ctx(ctx, key, cb) : NULL;

    return q ? cache_op_unlock(q) : no_req(APP_OF_CTX(ctx), (const void *)cb, key, true);
}

int ah_cache_app_unlock(ah_app_t *app, const char *key, ah_cache_app_cb cb, void *arg)
{
    struct creq *q = key ? for_app(app, key, cb, arg) : NULL;

    return q ? cache_op_unlock(q) : no_req(app, (const void *)cb, key, true);
}


int ah_cache_check_lock(ah_ctx_t *ctx, const char *key, long long retry_ms, bool ignore_lock, ah_cache_cb cb)
{
    struct creq *q = key ? for_ctx(ctx, key, cb) : NULL;

    return q ? cache_op_check_lock(q, retry_ms, ignore_lock) : no_req(APP_OF_CTX(ctx), (const void *)cb, key, true);
}

int ah_cache_app_check_lock(ah_app_t *app, const char *key, long long retry_ms, bool ignore_lock,
                            ah_cache_app_cb cb, void *arg)
{
    struct creq *q = key ? for_app(app, key, cb, arg) : NULL;

    return q ? cache_op_check_lock(q, retry_ms, ignore_lock) : no_req(app, (const void *)cb, key, true);
}

/* keys / locks / getKeys / size / clear */

int ah_cache_keys(ah_ctx_t *ctx, const char *scope, ah_cache_cb cb)
{
    struct creq *q = for_ctx(ctx, NULL, cb);

    return q ? cache_op_scan(q, q->c->prefix, scope, NULL, 0, CACHE_SCAN_KEYS)
             : no_req(APP_OF_CTX(ctx), (const void *)cb, NULL, false);
}

int ah_cache_app_keys(ah_app_t *app, const char *scope, ah_cache_app_cb cb, void *arg)
{
    struct creq *q = for_app(app, NULL, cb, arg);

    return q ? cache_op_scan(q, q->c->prefix, scope, NULL, 0, CACHE_SCAN_KEYS) : no_req(app, (const void *)cb, NULL, false);
}

int ah_cache_locks(ah_ctx_t *ctx, const char *scope, ah_cache_cb cb)
{
    struct creq *q = for_ctx(ctx, NULL, cb);

    return q ? cache_op_scan(q, q->c->lock_prefix, scope, NULL, 0, CACHE_SCAN_KEYS)
             : no_req(APP_OF_CTX(ctx), (const void *)cb, NULL, false);
}

int ah_cache_app_locks(ah_app_t *app, const char *scope, ah_cache_app_cb cb, void *arg)
{
    struct creq *q = for_app(app, NULL, cb, arg);

    return q ? cache_op_scan(q, q->c->lock_prefix, scope, NULL, 0, CACHE_SCAN_KEYS)
             : no_req(app, (const void *)cb, NULL, false);
}

int ah_cache_get_keys(ah_ctx_t *ctx, const char *pattern, long long count, ah_cache_cb cb)
{
    struct creq *q = pattern ? for_ctx(ctx, NULL, cb) : NULL;

    return q ? cache_op_scan(q, NULL, NULL, pattern, count, CACHE_SCAN_KEYS)
             : no_req(APP_OF_CTX(ctx), (const void *)cb, pattern, true);
}

int ah_cache_app_get_keys(ah_app_t *app, const char *pattern, long long count, ah_cache_app_cb cb, void *arg)
{
    struct creq *q = pattern ? for_app(app, NULL, cb, arg) : NULL;

    return q ? cache_op_scan(q, NULL, NULL, pattern, count, CACHE_SCAN_KEYS) : no_req(app, (const void *)cb, pattern, true);
}

int ah_cache_size(ah_ctx_t *ctx, const char *pattern, ah_cache_cb cb)
{
    struct creq *q = for_ctx(ctx, NULL, cb);

    return q ? cache_op_scan(q, q->c->prefix, NULL, pattern, 0, CACHE_SCAN_SIZE)
             : no_req(APP_OF_CTX(ctx), (const void *)cb, NULL, false);
}

int ah_cache_app_size(ah_app_t *app, const char *pattern, ah_cache_app_cb cb, void *arg)
{
    struct creq *q = for_app(app, NULL, cb, arg);

    return q ? cache_op_scan(q, q->c->prefix, NULL, pattern, 0, CACHE_SCAN_SIZE) : no_req(app, (const void *)cb, NULL, false);
}

int ah_cache_clear(ah_ctx_t *ctx, const char *pattern, ah_cache_cb cb)
{
    struct creq *q = for_ctx(ctx, NULL, cb);

    return q ? cache_op_scan(q, q->c->prefix, NULL, pattern, 0, CACHE_SCAN_CLEAR)
             : no_req(APP_OF_CTX(ctx), (const void *)cb, NULL, false);
}

int ah_cache_app_clear(ah_app_t *app, const char *pattern, ah_cache_app_cb cb, void *arg)
{
    struct creq *q = for_app(app, NULL, cb, arg);

    return q ? cache_op_scan(q, q->c->prefix, NULL, pattern, 0, CACHE_SCAN_CLEAR) : no_req(app, (const void *)cb, NULL, false);
}

/* dumpWrite / dumpRead */

int ah_cache_dump_write(ah_ctx_t *ctx, const char *file, ah_cache_cb cb)
{
    struct creq *q = file ? for_ctx(ctx, NULL, cb) : NULL;

    return q ? cache_op_dump_write(q, file) : no_req(APP_OF_CTX(ctx), (const void *)cb, file, true);
}

int ah_cache_app_dump_write(ah_app_t *app, const char *file, ah_cache_app_cb cb, void *arg)
{
    struct creq *q = file ? for_app(app, NULL, cb, arg) : NULL;

    return q ? cache_op_dump_write(q, file) : no_req(app, (const void *)cb, file, true);
}


int ah_cache_dump_read(ah_ctx_t *ctx, const char *file, ah_cache_cb cb)
{
    struct creq *q = file ? for_ctx(ctx, NULL, cb) : NULL;

    return q ? cache_op_dump_read(q, file) : no_req(APP_OF_CTX(ctx), (const void *)cb, file, true);
}

int ah_cache_app_dump_read(ah_app_t *app, const char *file, ah_cache_app_cb cb, void *arg)
{
    struct creq *q = file ? for_app(app, NULL, cb, arg) : NULL;

    return q ? cache_op_dump_read(q, file) : no_req(app, (const void *)cb, file, true);
}
