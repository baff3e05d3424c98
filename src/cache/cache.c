/*
 * cache.c - Actionhero's cache (spec/cache.md) over the store: the same
 * Redis commands, keys and JSON as src/modules/cache.ts of Actionhero 29,
 * so that Node and C servers sharing a Redis share the entries.
 *
 * Each call is a request (struct creq) that walks through its steps in
 * store callbacks: a lock check (GET <lockPrefix><key>, polled every 100 ms
 * when asked to retry), then the command(s).  The first step runs inside
 * the API call, so a failure there is returned (the callback never runs);
 * every later failure goes to the callback.  The request holds a reference
 * on the cache state, so a stop while requests are in flight is safe.
 *
 * Where we differ from Actionhero (each noted where it happens):
 *  - lock() sets the lock with SET NX EX (one atomic command) instead of
 *    SETNX then EXPIRE; the stored value and TTL are the same;
 *  - save() with an expiry uses SET ... PX (atomic) instead of SET then
 *    PEXPIRE; same value and TTL;
 *  - dumpRead() reads and checks the file before clearing the namespace, so
 *    a missing or broken file does not wipe the cache.
 */
#include "cache/cache_internal.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "config/config.h"
#include "core/json_out.h"
#include "dispatch/dispatch.h"
#include "log/log.h"

#define CACHE_SLOT "cache"
#define LOCK_RETRY_MS 100   /* Actionhero's lockRetry */

const char cache_e_notfound[] = "Object not found";
const char cache_e_locked[] = "Object locked";
const char cache_e_noredis[] = "redis not connected, cache cannot be used";

/* ------------------------------------------------------------- state */

static struct cache *cache_of(ah_app_t *app)
{
    return app ? ah_app_get(app, CACHE_SLOT) : NULL;
}

static void cache_unref(struct cache *c)
{
    if (--c->refs > 0)
        return;
    free(c->prefix);
    free(c->lock_prefix);
    free(c->lock_name);
    free(c);
}

const struct cache_config *cache_config_get(ah_app_t *app)
{
    struct cache *c = cache_of(app);

    return c ? &c->cfg : NULL;
}

static const char *lock_name(const struct cache *c)
{
    if (c->lock_name)
        return c->lock_name;
    return c->app && c->app->id ? c->app->id : "actionhero";
}

const char *ah_cache_lock_name(ah_app_t *app)
{
    struct cache *c = cache_of(app);

    if (c)
        return lock_name(c);
    return app && app->id ? app->id : "actionhero";
}

void ah_cache_override_lock_name(ah_app_t *app, const char *name)
{
    struct cache *c = cache_of(app);

    if (c == NULL)
        return;
    free(c->lock_name);
    c->lock_name = name && *name ? xstrdup(name) : NULL;
}

/* ------------------------------------------------------------- requests */

static void on_timer_freed(uv_handle_t *h)
{
    free(h);
}

static void wait_link(struct creq *q)
{
    if (q->in_wait)
        return;
    q->wprev = NULL;
    q->wnext = q->c->waiting;
    if (q->wnext)
        q->wnext->wprev = q;
    q->c->waiting = q;
    q->in_wait = true;
}

static void wait_unlink(struct creq *q)
{
    if (!q->in_wait)
        return;
    if (q->wprev)
        q->wprev->wnext = q->wnext;
    else
        q->c->waiting = q->wnext;
    if (q->wnext)
        q->wnext->wprev = q->wprev;
    q->in_wait = false;
}

static void req_free(struct creq *q)
{
    wait_unlink(q);
    if (q->timer) {
        uv_timer_stop(q->timer);
        uv_close((uv_handle_t *)q->timer, on_timer_freed);
    }
    free(q->key);
    free(q->full);
    free(q->lock_key);
    free(q->payload);
    free(q->pattern);
    free(q->file);
    json_decref(q->keys);
    json_decref(q->obj);
    json_decref(q->dump);
    buf_release(&q->data);
    cache_unref(q->c);
    free(q);
}

/* Deliver the result (taken) and end the request. */
void cache_finish(struct creq *q, int status, json_t *result, const char *error)
{
    if (status < 0) {
        json_decref(result);
        result = NULL;
    }
    if (q->ctx_cb)
        q->ctx_cb(q->ctx, status, result, status < 0 ? error : NULL);
    else if (q->app_cb)
        q->app_cb(q->app, status, result, status < 0 ? error : NULL, q->arg);
    json_decref(result);
    req_free(q);
}

/* A failed store step: Redis down becomes Actionhero's "not connected"
 * text; Redis's own errors pass through. */
void cache_fail_store(struct creq *q, int status, const struct store_reply *r)
{
    if (status == AH_EUNAVAIL || status == AH_ESTATE)
        cache_finish(q, AH_EUNAVAIL, NULL, cache_e_noredis);
    else
        cache_finish(q, status < 0 ? status : AH_EFAIL, NULL, store_strerror(status, r));
}

void cache_on_store(int status, const struct store_reply *r, void *arg)
{
    struct creq *q = arg;

    q->next(q, status, r);
}

/* Send one command (NULL-terminated strings) whose reply goes to `next`. */
int cache_sendv(struct creq *q, step_fn next, int argc, const char *const *argv, const size_t *lens)
{
    struct store *s = store_get(q->app);

    if (s == NULL)
        return AH_EUNAVAIL;
    q->next = next;
    return store_commandv(s, STORE_CLIENT, argc, argv, lens, cache_on_store, q);
}

int cache_send_cmd(struct creq *q, step_fn next, const char *name, ...)
{
    const char *argv[8];
    va_list ap;
    int argc = 1;

    argv[0] = name;
    va_start(ap, name);
    while (argc < 8 && (argv[argc] = va_arg(ap, const char *)) != NULL)
        argc++;
    va_end(ap);
    return cache_sendv(q, next, argc, argv, NULL);
}

/* In a later step: a send that fails at once still ends the request. */
void cache_later(struct creq *q, int rc)
{
    if (rc < 0)
        cache_fail_store(q, rc, NULL);
}

struct creq *cache_req_new(ah_app_t *app, const char *key)
{
    struct cache *c = cache_of(app);
    struct creq *q;

    if (c == NULL || !c->running)
        return NULL;
    q = xcalloc(1, sizeof(*q));
    q->c = c;
    c->refs++;
    q->app = app;
    q->fd = -1;
    if (key) {
        q->key = xstrdup(key);
        q->full = xasprintf("%s%s", c->prefix, key);
        q->lock_key = xasprintf("%s%s", c->lock_prefix, key);
    }
    return q;
}

/* ------------------------------------------------------------- JSON */

/* After a parse with JSON_DECODE_INT_AS_REAL: integral reals a double
 * holds exactly become integers again (JS has one number type; C callers
 * expect 5, not 5.0).  Returns the value to use (a new reference). */
/* JSON.parse: any value (src/core/json_parse.c). */
json_t *cache_parse_json(const char *s, size_t n, json_error_t *err)
{
    return core_json_parse(s, n, err);
}

/* Bytes from Redis as a JS string: invalid UTF-8 becomes U+FFFD, as
 * Node's decoder does. */
json_t *cache_js_string(const char *s, size_t n)
{
    json_t *v = json_stringn(s, n);
    struct buf b = BUF_INIT;
    size_t i = 0;

    if (v)
        return v;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        json_t *probe;

        if (len > 0 && i + len <= n && (probe = json_stringn(s + i, len)) != NULL) {
            json_decref(probe);
            buf_add(&b, s + i, len);
            i += len;
        } else {
            buf_adds(&b, "\xEF\xBF\xBD");
            i++;
        }
    }
    v = json_stringn(b.data ? b.data : "", b.len);
    buf_release(&b);
    return v;
}

char *cache_dump_json(json_t *v, size_t *len)
{
    return json_out_str(v, 0, 0, len);
}

/* ------------------------------------------------------------- checkLock */

static void lock_get(struct creq *q);

static void on_lock_timer(uv_timer_t *t)
{
    struct creq *q = t->data;

    wait_unlink(q);
    lock_get(q);
}

static void on_lock_reply(struct creq *q, int status, const struct store_reply *r)
{
    const char *me = lock_name(q->c);
    long long delta;

    if (status < 0) {
        cache_fail_store(q, status, r);
        return;
    }
    if (r->type == STORE_REPLY_NIL ||
        (r->type == STORE_REPLY_STR && r->len == strlen(me) && memcmp(r->str, me, r->len) == 0)) {
        q->after_lock(q, true);
        return;
    }
    delta = (long long)(core_now_ms() - q->lock_start);
    if (q->ignore_lock) {         /* retry === true */
        q->after_lock(q, true);
        return;
    }
    if (q->retry_ms == 0 || delta > q->retry_ms) {
        q->after_lock(q, false);
        return;
    }
    if (q->timer == NULL) {
        q->timer = xmalloc(sizeof(*q->timer));
        uv_timer_init(q->app->loop, q->timer);
        q->timer->data = q;
    }
    uv_timer_start(q->timer, on_lock_timer, LOCK_RETRY_MS, 0);
    wait_link(q);
}

static void lock_get(struct creq *q)
{
    cache_later(q, cache_send_cmd(q, on_lock_reply, "GET", q->lock_key, NULL));
}

/* checkLock(key, retry): `after` gets true when the key is free or ours. */
static int check_lock(struct creq *q, long long retry_ms, bool ignore, void (*after)(struct creq *, bool))
{
    q->retry_ms = retry_ms;
    q->ignore_lock = ignore;
    q->after_lock = after;
    q->lock_start = core_now_ms();
    return cache_send_cmd(q, on_lock_reply, "GET", q->lock_key, NULL);
}

static void done_true(struct creq *q, int status, const struct store_reply *r)
{
    if (status < 0)
        cache_fail_store(q, status, r);
    else
        cache_finish(q, 0, json_true(), NULL);
}

/* ------------------------------------------------------------- save */

static void on_save_multi(struct creq *q, int status, const struct store_reply *r)
{
    size_t i;

    if (status < 0) {
        cache_fail_store(q, status, r);
        return;
    }
    for (i = 0; i < r->elements; i++) {
        if (r->element[i]->type == STORE_REPLY_ERROR) {
            cache_fail_store(q, AH_EFAIL, r->element[i]);
            return;
        }
    }
    cache_finish(q, 0, json_true(), NULL);
}

static void save_locked(struct creq *q, bool ok)
{
    char ms[32];

    if (!ok) {
        cache_finish(q, AH_CACHE_ELOCKED, NULL, cache_e_locked);
        return;
    }
    snprintf(ms, sizeof(ms), "%lld", q->expire_ms);
    if (q->expire_ms > 0) {
        /* SET then PEXPIRE in Actionhero: SET ... PX gives the same value
         * and TTL without a window where the key has none */
        const char *argv[5] = {"SET", q->full, q->payload, "PX", ms};
        size_t lens[5] = {3, strlen(q->full), q->plen, 2, strlen(ms)};

        cache_later(q, cache_sendv(q, done_true, 5, argv, lens));
    } else if (q->expire_ms < 0) {
        /* a negative expiry deletes the key right after the SET */
        struct store_batch b = STORE_BATCH_INIT;
        const char *argv[3] = {"SET", q->full, q->payload};
        size_t lens[3] = {3, strlen(q->full), q->plen};
        struct store *s = store_get(q->app);
        int rc = AH_EUNAVAIL;

        store_batch_addv(&b, 3, argv, lens);
        store_batch_add(&b, "PEXPIRE", q->full, ms, NULL);
        q->next = on_save_multi;
        if (s)
            rc = store_multi(s, STORE_CLIENT, &b, cache_on_store, q);
        store_batch_release(&b);
        cache_later(q, rc);
    } else {
        const char *argv[3] = {"SET", q->full, q->payload};
        size_t lens[3] = {3, strlen(q->full), q->plen};

        cache_later(q, cache_sendv(q, done_true, 3, argv, lens));
    }
}

static void set_payload(struct creq *q, json_t *obj_take)
{
    q->payload = cache_dump_json(obj_take, &q->plen);
    json_decref(obj_take);
}

int cache_start_req(struct creq *q, int rc)
{
    if (rc < 0)
        req_free(q);
    return rc < 0 ? rc : 0;
}

int cache_op_save(struct creq *q, json_t *value, long long expire_ms)
{
    json_t *obj = json_object();

    if (value)
        json_object_set(obj, "value", value);
    json_object_set_new(obj, "createdAt", json_integer((json_int_t)core_now_ms()));
    set_payload(q, obj);
    q->expire_ms = expire_ms;
    return cache_start_req(q, check_lock(q, 0, false, save_locked));
}

/* ------------------------------------------------------------- load */

static void load_result(struct creq *q)
{
    json_t *res = json_object(), *v;

    json_object_set_new(res, "key", json_string(q->key));
    if (json_is_object(q->obj)) {
        if ((v = json_object_get(q->obj, "value")) != NULL)
            json_object_set(res, "value", v);
        if ((v = json_object_get(q->obj, "createdAt")) != NULL)
            json_object_set(res, "createdAt", v);
    }
    cache_finish(q, 0, res, NULL);
}

static void on_load_pexpire(struct creq *q, int status, const struct store_reply *r)
{
    if (status < 0)
        cache_fail_store(q, status, r);
    else
        load_result(q);
}

static void load_locked_again(struct creq *q, bool ok)
{
    char ms[32];

    if (!ok) {
        cache_finish(q, AH_CACHE_ELOCKED, NULL, cache_e_locked);
        return;
    }
    if (q->expire_ms == 0) {
        load_result(q);
        return;
    }
    snprintf(ms, sizeof(ms), "%lld", q->expire_ms);
    cache_later(q, cache_send_cmd(q, on_load_pexpire, "PEXPIRE", q->full, ms, NULL));
}

static void on_load_get(struct creq *q, int status, const struct store_reply *r)
{
    json_error_t jerr;

    if (status < 0) {
        cache_fail_store(q, status, r);
        return;
    }
    if (r->type == STORE_REPLY_STR)
        q->obj = cache_parse_json(r->str, r->len, &jerr);
    /* JSON.parse(null), invalid JSON and falsy values all mean "not found" */
    if (q->obj == NULL || !core_truthy(q->obj)) {
        cache_finish(q, AH_ENOTFOUND, NULL, cache_e_notfound);
        return;
    }
    /* checkLock again, with a fresh start time, as Actionhero does */
    q->lock_start = core_now_ms();
    q->after_lock = load_locked_again;
    lock_get(q);
}

static void load_locked(struct creq *q, bool ok)
{
    if (!ok) {
        cache_finish(q, AH_CACHE_ELOCKED, NULL, cache_e_locked);
        return;
    }
    cache_later(q, cache_send_cmd(q, on_load_get, "GET", q->full, NULL));
}

int cache_op_load(struct creq *q, const ah_cache_load_opts_t *opts)
{
    ah_cache_load_opts_t none = {0, 0, false};

    if (opts == NULL)
        opts = &none;
    q->expire_ms = opts->expire_ms;
    return cache_start_req(q, check_lock(q, opts->retry_ms, opts->ignore_lock, load_locked));
}

/* ------------------------------------------------------------- destroy */

static void on_del(struct creq *q, int status, const struct store_reply *r)
{
    if (status < 0)
        cache_fail_store(q, status, r);
    else
        cache_finish(q, 0, json_boolean(r->type == STORE_REPLY_INT && r->integer == 1), NULL);
}

static void destroy_locked(struct creq *q, bool ok)
{
    if (!ok) {
        cache_finish(q, AH_CACHE_ELOCKED, NULL, cache_e_locked);
        return;
    }
    cache_later(q, cache_send_cmd(q, on_del, "DEL", q->full, NULL));
}

int cache_op_destroy(struct creq *q)
{
    return cache_start_req(q, check_lock(q, 0, false, destroy_locked));
}

/* ------------------------------------------------------------- lists */

int cache_op_push(struct creq *q, json_t *item)
{
    json_t *obj = json_object();
    const char *argv[3];
    size_t lens[3];

    if (item)
        json_object_set(obj, "data", item);
    set_payload(q, obj);
    argv[0] = "RPUSH";
    argv[1] = q->full;
    argv[2] = q->payload;
    lens[0] = 5;
    lens[1] = strlen(q->full);
    lens[2] = q->plen;
    return cache_start_req(q, cache_sendv(q, done_true, 3, argv, lens));
}

static void on_pop(struct creq *q, int status, const struct store_reply *r)
{
    json_error_t jerr;
    json_t *item, *data;

    if (status < 0) {
        cache_fail_store(q, status, r);
        return;
    }
    if (r->type != STORE_REPLY_STR || r->len == 0) {
        cache_finish(q, 0, json_null(), NULL);
        return;
    }
    if ((item = cache_parse_json(r->str, r->len, &jerr)) == NULL) {
        char msg[160];

        snprintf(msg, sizeof(msg), "Unexpected token in JSON at position %d", jerr.position);
        cache_finish(q, AH_EFAIL, NULL, msg);
        return;
    }
    if (json_is_null(item)) {
        json_decref(item);
        cache_finish(q, AH_EFAIL, NULL, "Cannot read properties of null (reading 'data')");
        return;
    }
    data = json_is_object(item) ? json_object_get(item, "data") : NULL;
    data = data ? json_incref(data) : json_null();
    json_decref(item);
    cache_finish(q, 0, data, NULL);
}

static void on_llen(struct creq *q, int status, const struct store_reply *r)
{
    if (status < 0)
        cache_fail_store(q, status, r);
    else
        cache_finish(q, 0, json_integer(r->type == STORE_REPLY_INT ? r->integer : 0), NULL);
}

/* ------------------------------------------------------------- locks */

static void on_lock_set(struct creq *q, int status, const struct store_reply *r)
{
    if (status < 0)
        cache_fail_store(q, status, r);
    else
        cache_finish(q, 0, json_boolean(r->type == STORE_REPLY_STATUS), NULL);
}

static void on_lock_expire(struct creq *q, int status, const struct store_reply *r)
{
    if (status < 0)
        cache_fail_store(q, status, r);
    else
        cache_finish(q, 0, json_true(), NULL);
}

static void on_lock_setnx(struct creq *q, int status, const struct store_reply *r)
{
    char secs[32];

    if (status < 0) {
        cache_fail_store(q, status, r);
        return;
    }
    if (r->type != STORE_REPLY_INT || r->integer != 1) {
        cache_finish(q, 0, json_false(), NULL);
        return;
    }
    snprintf(secs, sizeof(secs), "%lld", q->expire_ms);
    cache_later(q, cache_send_cmd(q, on_lock_expire, "EXPIRE", q->lock_key, secs, NULL));
}

static void lock_locked(struct creq *q, bool ok)
{
    char secs[32];

    if (!ok) {
        cache_finish(q, 0, json_false(), NULL);
        return;
    }
    /* expire_ms holds ceil(ms / 1000) here */
    snprintf(secs, sizeof(secs), "%lld", q->expire_ms);
    if (q->expire_ms > 0)
        cache_later(q, cache_send_cmd(q, on_lock_set, "SET", q->lock_key, lock_name(q->c), "NX", "EX", secs, NULL));
    else /* EXPIRE with 0 or less deletes the lock at once, as in Actionhero */
        cache_later(q, cache_send_cmd(q, on_lock_setnx, "SETNX", q->lock_key, lock_name(q->c), NULL));
}

/* Math.ceil(ms / 1000) */
static long long ceil_secs(long long ms)
{
    if (ms > 0)
        return ms / 1000 + (ms % 1000 != 0);
    return -(-ms / 1000); /* division truncates toward zero: ceil for ms <= 0 */
}

static void unlock_locked(struct creq *q, bool ok)
{
    if (!ok) {
        cache_finish(q, 0, json_false(), NULL);
        return;
    }
    cache_later(q, cache_send_cmd(q, done_true, "DEL", q->lock_key, NULL));
}

static void check_lock_done(struct creq *q, bool ok)
{
    cache_finish(q, 0, json_boolean(ok), NULL);
}

int cache_op_pop(struct creq *q)
{
    return cache_start_req(q, cache_send_cmd(q, on_pop, "LPOP", q->full, NULL));
}

int cache_op_llen(struct creq *q)
{
    return cache_start_req(q, cache_send_cmd(q, on_llen, "LLEN", q->full, NULL));
}

int cache_op_lock(struct creq *q, long long expire_ms)
{
    q->expire_ms = ceil_secs(expire_ms == AH_CACHE_LOCK_DEFAULT ? q->c->cfg.lock_duration : expire_ms);
    return cache_start_req(q, check_lock(q, 0, false, lock_locked));
}

int cache_op_unlock(struct creq *q)
{
    return cache_start_req(q, check_lock(q, 0, false, unlock_locked));
}

int cache_op_check_lock(struct creq *q, long long retry_ms, bool ignore)
{
    return cache_start_req(q, check_lock(q, retry_ms, ignore, check_lock_done));
}

/* ------------------------------------------------------------- the initializer */

static int read_size(ah_app_t *app, const char *path, long long dflt, long long min, long long max,
                     long long *out)
{
    json_t *v = config_get(app, path);
    long long n = dflt;

    if (v != NULL && !json_is_null(v)) {
        if (!json_is_number(v))
            return ah_app_fail(app, "config '%s': expected a number", path);
        n = json_is_integer(v) ? (long long)json_integer_value(v) : (long long)json_real_value(v);
    }
    if (n < min || n > max)
        return ah_app_fail(app, "config '%s': %lld is out of range (%lld to %lld)", path, n, min, max);
    *out = n;
    return 0;
}

int cache_start(ah_app_t *app)
{
    struct cache *c;
    json_t *v;
    long long n;

    c = xcalloc(1, sizeof(*c));
    c->refs = 1;
    c->app = app;
    v = config_get(app, "general.cachePrefix");
    c->prefix = xstrdup(json_is_string(v) ? json_string_value(v) : "actionhero:cache:");
    v = config_get(app, "general.lockPrefix");
    c->lock_prefix = xstrdup(json_is_string(v) ? json_string_value(v) : "actionhero:lock:");
    if ((v = config_get(app, "general.cachePrefix")) && !json_is_string(v) && !json_is_null(v))
        goto bad_prefix;
    if ((v = config_get(app, "general.lockPrefix")) && !json_is_string(v) && !json_is_null(v))
        goto bad_prefix;
    if (read_size(app, "general.lockDuration", 10000, LLONG_MIN / 2, LLONG_MAX / 2, &c->cfg.lock_duration) < 0)
        goto fail;
    /* config.redis.scanCount || 1000 */
    v = config_get(app, "redis.scanCount");
    c->cfg.scan_count = 1000;
    if (v && core_truthy(v)) {
        if (read_size(app, "redis.scanCount", 1000, 1, 1000000000, &c->cfg.scan_count) < 0)
            goto fail;
    }
    if (read_size(app, "cache.maxScanKeys", 1000000, 1, 1000000000, &n) < 0)
        goto fail;
    c->cfg.max_scan_keys = (size_t)n;
    if (read_size(app, "cache.maxDumpBytes", 64LL << 20, 16, 1LL << 40, &n) < 0)
        goto fail;
    c->cfg.max_dump_bytes = (size_t)n;
    c->cfg.prefix = c->prefix;
    c->cfg.lock_prefix = c->lock_prefix;
    c->running = true;
    ah_app_set(app, CACHE_SLOT, c);
    return 0;
bad_prefix:
    ah_app_fail(app, "config 'general.cachePrefix' and 'general.lockPrefix' must be strings");
fail:
    cache_unref(c);
    return AH_EINVAL;
}

void cache_stop(ah_app_t *app)
{
    struct cache *c = cache_of(app);

    if (c == NULL)
        return;
    ah_app_set(app, CACHE_SLOT, NULL);
    c->running = false;
    /* A load polling a lock (retry up to minutes) must not hold the stop:
     * the store is going away too. */
    while (c->waiting) {
        struct creq *q = c->waiting;

        wait_unlink(q);
        uv_timer_stop(q->timer);
        cache_finish(q, AH_EUNAVAIL, NULL, cache_e_noredis);
    }
    cache_unref(c);
}

static int cache_initialize(ah_app_t *app)
{
    return cache_start(app);
}

static int cache_stop_phase(ah_app_t *app)
{
    cache_stop(app);
    return 0;
}

/* After the store (load 200); stopped just before it (stop 99999). */
AH_INITIALIZER(cache) = {
    .name = "cache",
    .load_priority = 205,
    .start_priority = 1000,
    .stop_priority = 99998,
    .initialize = cache_initialize,
    .stop = cache_stop_phase,
};
