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
#include "cache/cache.h"

#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include <ah/cache.h>

#include "app/app.h"
#include "cluster/store.h"
#include "config/config.h"
#include "core/core.h"
#include "core/json_out.h"
#include "dispatch/dispatch.h"
#include "log/log.h"

#define CACHE_SLOT "cache"
#define LOCK_RETRY_MS 100   /* Actionhero's lockRetry */
#define CHUNK 1000          /* keys per DEL, commands per pipeline */

static const char E_NOTFOUND[] = "Object not found";
static const char E_LOCKED[] = "Object locked";
static const char E_NOREDIS[] = "redis not connected, cache cannot be used";

struct creq;

struct cache {
    int refs;
    bool running;
    ah_app_t *app;
    struct cache_config cfg;
    char *prefix, *lock_prefix;
    char *lock_name;          /* override, or NULL: the server id */
    struct creq *waiting;     /* requests between two lock checks */
};

typedef void (*step_fn)(struct creq *q, int status, const struct store_reply *r);

struct creq {
    struct cache *c;
    ah_app_t *app;

    /* who gets the result */
    ah_ctx_t *ctx;
    ah_cache_cb ctx_cb;
    ah_cache_app_cb app_cb;
    void *arg;

    step_fn next;              /* the step a store reply goes to */
    char *key, *full, *lock_key;
    char *payload;
    size_t plen;
    long long expire_ms;

    /* lock check */
    long long retry_ms;
    bool ignore_lock;
    uint64_t lock_start;
    void (*after_lock)(struct creq *q, bool ok);
    uv_timer_t *timer;
    struct creq *wprev, *wnext; /* in c->waiting while the timer runs */
    bool in_wait;

    /* scan */
    char *pattern;
    long long count;
    char cursor[32];
    json_t *keys;
    void (*after_scan)(struct creq *q);
    size_t idx;

    /* load */
    json_t *obj;

    /* dump files */
    char *file;
    uv_fs_t fs;
    uv_file fd;
    struct buf data;
    size_t off;
    json_t *dump;
    int kind;                  /* DUMP_READ / DUMP_WRITE / SIZE / CLEAR / KEYS */
};

enum { K_KEYS, K_SIZE, K_CLEAR, K_DUMP_WRITE, K_DUMP_READ };

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
static void finish(struct creq *q, int status, json_t *result, const char *error)
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
static void fail_store(struct creq *q, int status, const struct store_reply *r)
{
    if (status == AH_EUNAVAIL || status == AH_ESTATE)
        finish(q, AH_EUNAVAIL, NULL, E_NOREDIS);
    else
        finish(q, status < 0 ? status : AH_EFAIL, NULL, store_strerror(status, r));
}

static void on_store(int status, const struct store_reply *r, void *arg)
{
    struct creq *q = arg;

    q->next(q, status, r);
}

/* Send one command (NULL-terminated strings) whose reply goes to `next`. */
static int sendv(struct creq *q, step_fn next, int argc, const char *const *argv, const size_t *lens)
{
    struct store *s = store_get(q->app);

    if (s == NULL)
        return AH_EUNAVAIL;
    q->next = next;
    return store_commandv(s, STORE_CLIENT, argc, argv, lens, on_store, q);
}

static int send_cmd(struct creq *q, step_fn next, const char *name, ...)
{
    const char *argv[8];
    va_list ap;
    int argc = 1;

    argv[0] = name;
    va_start(ap, name);
    while (argc < 8 && (argv[argc] = va_arg(ap, const char *)) != NULL)
        argc++;
    va_end(ap);
    return sendv(q, next, argc, argv, NULL);
}

/* In a later step: a send that fails at once still ends the request. */
static void later(struct creq *q, int rc)
{
    if (rc < 0)
        fail_store(q, rc, NULL);
}

static struct creq *req_new(ah_app_t *app, const char *key)
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
static json_t *ints_back(json_t *v)
{
    const char *k;
    json_t *e;
    size_t i;

    if (json_is_real(v)) {
        double d = json_real_value(v);

        if (d == (double)(long long)d && d >= -9007199254740992.0 && d <= 9007199254740992.0)
            return json_integer((json_int_t)d);
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, e)
            json_array_set_new(v, i, ints_back(e));
    } else if (json_is_object(v)) {
        json_object_foreach(v, k, e)
            json_object_set_new(v, k, ints_back(e));
    }
    return json_incref(v);
}

/* JSON.parse: any value.  Integers past 64 bits (JSON.stringify writes
 * 1e20 as 100000000000000000000) make jansson fail; read them as reals. */
static json_t *parse_json(const char *s, size_t n, json_error_t *err)
{
    json_t *v = json_loadb(s, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, err), *w;

    if (v == NULL && strstr(err->text, "too big") != NULL) {
        v = json_loadb(s, n, JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, err);
        if (v) {
            w = ints_back(v);
            json_decref(v);
            v = w;
        }
    }
    return v;
}

/* Bytes from Redis as a JS string: invalid UTF-8 becomes U+FFFD, as
 * Node's decoder does. */
static json_t *js_string(const char *s, size_t n)
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

static char *dump_json(json_t *v, size_t *len)
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
        fail_store(q, status, r);
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
    later(q, send_cmd(q, on_lock_reply, "GET", q->lock_key, NULL));
}

/* checkLock(key, retry): `after` gets true when the key is free or ours. */
static int check_lock(struct creq *q, long long retry_ms, bool ignore, void (*after)(struct creq *, bool))
{
    q->retry_ms = retry_ms;
    q->ignore_lock = ignore;
    q->after_lock = after;
    q->lock_start = core_now_ms();
    return send_cmd(q, on_lock_reply, "GET", q->lock_key, NULL);
}

static void done_true(struct creq *q, int status, const struct store_reply *r)
{
    if (status < 0)
        fail_store(q, status, r);
    else
        finish(q, 0, json_true(), NULL);
}

/* ------------------------------------------------------------- save */

static void on_save_multi(struct creq *q, int status, const struct store_reply *r)
{
    size_t i;

    if (status < 0) {
        fail_store(q, status, r);
        return;
    }
    for (i = 0; i < r->elements; i++) {
        if (r->element[i]->type == STORE_REPLY_ERROR) {
            fail_store(q, AH_EFAIL, r->element[i]);
            return;
        }
    }
    finish(q, 0, json_true(), NULL);
}

static void save_locked(struct creq *q, bool ok)
{
    char ms[32];

    if (!ok) {
        finish(q, AH_CACHE_ELOCKED, NULL, E_LOCKED);
        return;
    }
    snprintf(ms, sizeof(ms), "%lld", q->expire_ms);
    if (q->expire_ms > 0) {
        /* SET then PEXPIRE in Actionhero: SET ... PX gives the same value
         * and TTL without a window where the key has none */
        const char *argv[5] = {"SET", q->full, q->payload, "PX", ms};
        size_t lens[5] = {3, strlen(q->full), q->plen, 2, strlen(ms)};

        later(q, sendv(q, done_true, 5, argv, lens));
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
            rc = store_multi(s, STORE_CLIENT, &b, on_store, q);
        store_batch_release(&b);
        later(q, rc);
    } else {
        const char *argv[3] = {"SET", q->full, q->payload};
        size_t lens[3] = {3, strlen(q->full), q->plen};

        later(q, sendv(q, done_true, 3, argv, lens));
    }
}

static void set_payload(struct creq *q, json_t *obj_take)
{
    q->payload = dump_json(obj_take, &q->plen);
    json_decref(obj_take);
}

static int start(struct creq *q, int rc)
{
    if (rc < 0)
        req_free(q);
    return rc < 0 ? rc : 0;
}

static int do_save(struct creq *q, json_t *value, long long expire_ms)
{
    json_t *obj = json_object();

    if (value)
        json_object_set(obj, "value", value);
    json_object_set_new(obj, "createdAt", json_integer((json_int_t)core_now_ms()));
    set_payload(q, obj);
    q->expire_ms = expire_ms;
    return start(q, check_lock(q, 0, false, save_locked));
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
    finish(q, 0, res, NULL);
}

static void on_load_pexpire(struct creq *q, int status, const struct store_reply *r)
{
    if (status < 0)
        fail_store(q, status, r);
    else
        load_result(q);
}

static void load_locked_again(struct creq *q, bool ok)
{
    char ms[32];

    if (!ok) {
        finish(q, AH_CACHE_ELOCKED, NULL, E_LOCKED);
        return;
    }
    if (q->expire_ms == 0) {
        load_result(q);
        return;
    }
    snprintf(ms, sizeof(ms), "%lld", q->expire_ms);
    later(q, send_cmd(q, on_load_pexpire, "PEXPIRE", q->full, ms, NULL));
}

static void on_load_get(struct creq *q, int status, const struct store_reply *r)
{
    json_error_t jerr;

    if (status < 0) {
        fail_store(q, status, r);
        return;
    }
    if (r->type == STORE_REPLY_STR)
        q->obj = parse_json(r->str, r->len, &jerr);
    /* JSON.parse(null), invalid JSON and falsy values all mean "not found" */
    if (q->obj == NULL || !core_truthy(q->obj)) {
        finish(q, AH_ENOTFOUND, NULL, E_NOTFOUND);
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
        finish(q, AH_CACHE_ELOCKED, NULL, E_LOCKED);
        return;
    }
    later(q, send_cmd(q, on_load_get, "GET", q->full, NULL));
}

static int do_load(struct creq *q, const ah_cache_load_opts_t *opts)
{
    ah_cache_load_opts_t none = {0, 0, false};

    if (opts == NULL)
        opts = &none;
    q->expire_ms = opts->expire_ms;
    return start(q, check_lock(q, opts->retry_ms, opts->ignore_lock, load_locked));
}

/* ------------------------------------------------------------- destroy */

static void on_del(struct creq *q, int status, const struct store_reply *r)
{
    if (status < 0)
        fail_store(q, status, r);
    else
        finish(q, 0, json_boolean(r->type == STORE_REPLY_INT && r->integer == 1), NULL);
}

static void destroy_locked(struct creq *q, bool ok)
{
    if (!ok) {
        finish(q, AH_CACHE_ELOCKED, NULL, E_LOCKED);
        return;
    }
    later(q, send_cmd(q, on_del, "DEL", q->full, NULL));
}

static int do_destroy(struct creq *q)
{
    return start(q, check_lock(q, 0, false, destroy_locked));
}

/* ------------------------------------------------------------- lists */

static int do_push(struct creq *q, json_t *item)
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
    return start(q, sendv(q, done_true, 3, argv, lens));
}

static void on_pop(struct creq *q, int status, const struct store_reply *r)
{
    json_error_t jerr;
    json_t *item, *data;

    if (status < 0) {
        fail_store(q, status, r);
        return;
    }
    if (r->type != STORE_REPLY_STR || r->len == 0) {
        finish(q, 0, json_null(), NULL);
        return;
    }
    if ((item = parse_json(r->str, r->len, &jerr)) == NULL) {
        char msg[160];

        snprintf(msg, sizeof(msg), "Unexpected token in JSON at position %d", jerr.position);
        finish(q, AH_EFAIL, NULL, msg);
        return;
    }
    if (json_is_null(item)) {
        json_decref(item);
        finish(q, AH_EFAIL, NULL, "Cannot read properties of null (reading 'data')");
        return;
    }
    data = json_is_object(item) ? json_object_get(item, "data") : NULL;
    data = data ? json_incref(data) : json_null();
    json_decref(item);
    finish(q, 0, data, NULL);
}

static void on_llen(struct creq *q, int status, const struct store_reply *r)
{
    if (status < 0)
        fail_store(q, status, r);
    else
        finish(q, 0, json_integer(r->type == STORE_REPLY_INT ? r->integer : 0), NULL);
}

/* ------------------------------------------------------------- locks */

static void on_lock_set(struct creq *q, int status, const struct store_reply *r)
{
    if (status < 0)
        fail_store(q, status, r);
    else
        finish(q, 0, json_boolean(r->type == STORE_REPLY_STATUS), NULL);
}

static void on_lock_expire(struct creq *q, int status, const struct store_reply *r)
{
    if (status < 0)
        fail_store(q, status, r);
    else
        finish(q, 0, json_true(), NULL);
}

static void on_lock_setnx(struct creq *q, int status, const struct store_reply *r)
{
    char secs[32];

    if (status < 0) {
        fail_store(q, status, r);
        return;
    }
    if (r->type != STORE_REPLY_INT || r->integer != 1) {
        finish(q, 0, json_false(), NULL);
        return;
    }
    snprintf(secs, sizeof(secs), "%lld", q->expire_ms);
    later(q, send_cmd(q, on_lock_expire, "EXPIRE", q->lock_key, secs, NULL));
}

static void lock_locked(struct creq *q, bool ok)
{
    char secs[32];

    if (!ok) {
        finish(q, 0, json_false(), NULL);
        return;
    }
    /* expire_ms holds ceil(ms / 1000) here */
    snprintf(secs, sizeof(secs), "%lld", q->expire_ms);
    if (q->expire_ms > 0)
        later(q, send_cmd(q, on_lock_set, "SET", q->lock_key, lock_name(q->c), "NX", "EX", secs, NULL));
    else /* EXPIRE with 0 or less deletes the lock at once, as in Actionhero */
        later(q, send_cmd(q, on_lock_setnx, "SETNX", q->lock_key, lock_name(q->c), NULL));
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
        finish(q, 0, json_false(), NULL);
        return;
    }
    later(q, send_cmd(q, done_true, "DEL", q->lock_key, NULL));
}

static void check_lock_done(struct creq *q, bool ok)
{
    finish(q, 0, json_boolean(ok), NULL);
}

/* ------------------------------------------------------------- scans */

static void scan_next(struct creq *q);

static void on_scan(struct creq *q, int status, const struct store_reply *r)
{
    const struct store_reply *cur, *arr;
    size_t i;

    if (status < 0) {
        fail_store(q, status, r);
        return;
    }
    if (r->type != STORE_REPLY_ARRAY || r->elements != 2 || (cur = r->element[0])->type != STORE_REPLY_STR ||
        (arr = r->element[1])->type != STORE_REPLY_ARRAY || cur->len >= sizeof(q->cursor)) {
        finish(q, AH_EFAIL, NULL, "unexpected SCAN reply");
        return;
    }
    for (i = 0; i < arr->elements; i++) {
        if (arr->element[i]->type != STORE_REPLY_STR)
            continue;
        if (json_array_size(q->keys) >= q->c->cfg.max_scan_keys) {
            char msg[128];

            snprintf(msg, sizeof(msg), "more than cache.maxScanKeys (%zu) keys match '%.40s'",
                     q->c->cfg.max_scan_keys, q->pattern);
            finish(q, AH_ELIMIT, NULL, msg);
            return;
        }
        json_array_append_new(q->keys, js_string(arr->element[i]->str, arr->element[i]->len));
    }
    memcpy(q->cursor, cur->str, cur->len);
    q->cursor[cur->len] = '\0';
    if (strcmp(q->cursor, "0") == 0)
        q->after_scan(q);
    else
        scan_next(q);
}

static int scan_send(struct creq *q)
{
    char count[32];

    snprintf(count, sizeof(count), "%lld", q->count);
    return send_cmd(q, on_scan, "SCAN", q->cursor, "MATCH", q->pattern, "COUNT", count, NULL);
}

static void scan_next(struct creq *q)
{
    later(q, scan_send(q));
}

/* getKeys(pattern, count): collect, then after_scan(q). */
static int scan_start(struct creq *q, const char *pattern, long long count, void (*after)(struct creq *))
{
    q->pattern = xstrdup(pattern);
    q->count = count > 0 ? count : q->c->cfg.scan_count;
    q->keys = json_array();
    snprintf(q->cursor, sizeof(q->cursor), "0");
    q->after_scan = after;
    return scan_send(q);
}

static void after_keys(struct creq *q)
{
    json_t *keys = q->keys;

    q->keys = NULL;
    finish(q, 0, keys, NULL);
}

static void after_size(struct creq *q)
{
    finish(q, 0, json_integer((json_int_t)json_array_size(q->keys)), NULL);
}

/* DEL the scanned keys, CHUNK per command, in one pipeline; then `next`. */
static void del_keys(struct creq *q, step_fn next)
{
    struct store_batch b = STORE_BATCH_INIT;
    struct store *s = store_get(q->app);
    size_t n = json_array_size(q->keys), i, j;
    int rc = AH_EUNAVAIL;

    for (i = 0; i < n; i += CHUNK) {
        size_t m = n - i < CHUNK ? n - i : CHUNK;
        const char **argv = xcalloc(m + 1, sizeof(*argv));
        size_t *lens = xcalloc(m + 1, sizeof(*lens));

        argv[0] = "DEL";
        lens[0] = 3;
        for (j = 0; j < m; j++) {
            json_t *k = json_array_get(q->keys, i + j);

            argv[j + 1] = json_string_value(k);
            lens[j + 1] = json_string_length(k);
        }
        store_batch_addv(&b, (int)m + 1, argv, lens);
        free(argv);
        free(lens);
    }
    q->next = next;
    if (s)
        rc = store_pipeline(s, STORE_CLIENT, &b, on_store, q);
    store_batch_release(&b);
    later(q, rc);
}

static void on_cleared(struct creq *q, int status, const struct store_reply *r)
{
    json_t *keys;

    if (status < 0) {
        fail_store(q, status, r);
        return;
    }
    keys = q->keys;
    q->keys = NULL;
    finish(q, 0, keys, NULL);
}

static void after_clear(struct creq *q)
{
    if (json_array_size(q->keys) == 0)
        after_keys(q);
    else
        del_keys(q, on_cleared);
}

/* ------------------------------------------------------------- files */

/* Node's fs error text: "ENOENT: no such file or directory, open 'x'". */
static void fail_fs(struct creq *q, int rc, const char *op)
{
    char msg[600];

    if (strcmp(op, "open") == 0)
        snprintf(msg, sizeof(msg), "%s: %s, open '%.400s'", uv_err_name(rc), uv_strerror(rc), q->file);
    else
        snprintf(msg, sizeof(msg), "%s: %s, %s", uv_err_name(rc), uv_strerror(rc), op);
    finish(q, AH_EFAIL, NULL, msg);
}

/* -- dumpWrite: keys() -> GET in pipelines -> write the file */

static void write_next(uv_fs_t *req);

static void on_write_closed(uv_fs_t *req)
{
    struct creq *q = req->data;
    int rc = (int)req->result;

    uv_fs_req_cleanup(req);
    q->fd = -1;
    if (rc < 0)
        fail_fs(q, rc, "close");
    else
        finish(q, 0, json_integer((json_int_t)json_array_size(q->keys)), NULL);
}

static void write_close(struct creq *q)
{
    int rc = uv_fs_close(q->app->loop, &q->fs, q->fd, on_write_closed);

    if (rc < 0) {
        q->fd = -1;
        fail_fs(q, rc, "close");
    }
}

static void on_written(uv_fs_t *req)
{
    struct creq *q = req->data;
    ssize_t n = req->result;

    uv_fs_req_cleanup(req);
    if (n < 0) {
        uv_fs_close(q->app->loop, &q->fs, q->fd, NULL); /* synchronous */
        uv_fs_req_cleanup(&q->fs);
        q->fd = -1;
        fail_fs(q, (int)n, "write");
        return;
    }
    q->off += (size_t)n;
    write_next(req);
}

static void write_next(uv_fs_t *req)
{
    struct creq *q = req->data;
    uv_buf_t b;
    int rc;

    if (q->off >= q->data.len) {
        write_close(q);
        return;
    }
    b = uv_buf_init(q->data.data + q->off, (unsigned)(q->data.len - q->off));
    rc = uv_fs_write(q->app->loop, &q->fs, q->fd, &b, 1, -1, on_written);
    if (rc < 0) {
        uv_fs_close(q->app->loop, &q->fs, q->fd, NULL); /* synchronous */
        uv_fs_req_cleanup(&q->fs);
        q->fd = -1;
        fail_fs(q, rc, "write");
    }
}

static void on_write_open(uv_fs_t *req)
{
    struct creq *q = req->data;
    int rc = (int)req->result;

    uv_fs_req_cleanup(req);
    if (rc < 0) {
        fail_fs(q, rc, "open");
        return;
    }
    q->fd = rc;
    q->off = 0;
    write_next(req);
}

static void dump_get_next(struct creq *q);

static void on_dump_gets(struct creq *q, int status, const struct store_reply *r)
{
    size_t i;

    if (status < 0) {
        fail_store(q, status, r);
        return;
    }
    for (i = 0; i < r->elements; i++) {
        const struct store_reply *e = r->element[i];
        json_t *k = json_array_get(q->keys, q->idx + i);

        if (e->type == STORE_REPLY_ERROR) {
            /* a list under the prefix: Actionhero throws WRONGTYPE too */
            fail_store(q, AH_EFAIL, e);
            return;
        }
        json_object_setn_new(q->dump, json_string_value(k), json_string_length(k),
                             e->type == STORE_REPLY_STR ? js_string(e->str, e->len) : json_null());
    }
    q->idx += r->elements;
    dump_get_next(q);
}

static void dump_get_next(struct creq *q)
{
    size_t n = json_array_size(q->keys), i, m;
    struct store_batch b = STORE_BATCH_INIT;
    struct store *s;
    char *text;
    int rc = AH_EUNAVAIL;

    if (q->idx >= n) {
        size_t len;

        text = dump_json(q->dump, &len);
        buf_release(&q->data);
        buf_add(&q->data, text, len);
        free(text);
        q->fs.data = q;
        rc = uv_fs_open(q->app->loop, &q->fs, q->file, O_WRONLY | O_CREAT | O_TRUNC, 0666, on_write_open);
        if (rc < 0)
            fail_fs(q, rc, "open");
        return;
    }
    m = n - q->idx < CHUNK ? n - q->idx : CHUNK;
    for (i = 0; i < m; i++) {
        json_t *k = json_array_get(q->keys, q->idx + i);
        const char *argv[2] = {"GET", json_string_value(k)};
        size_t lens[2] = {3, json_string_length(k)};

        store_batch_addv(&b, 2, argv, lens);
    }
    q->next = on_dump_gets;
    if ((s = store_get(q->app)) != NULL)
        rc = store_pipeline(s, STORE_CLIENT, &b, on_store, q);
    store_batch_release(&b);
    later(q, rc);
}

static void after_dump_keys(struct creq *q)
{
    q->dump = json_object();
    q->idx = 0;
    dump_get_next(q);
}

/* -- dumpRead: read and check the file -> clear() -> SET ... KEEPTTL */

static void on_dump_sets(struct creq *q, int status, const struct store_reply *r);

/* The stored text for one dump entry: strings as they are; numbers and
 * booleans as JavaScript's String() would give them (what ioredis sends). */
static char *entry_text(json_t *v, size_t *len)
{
    char num[64];

    if (json_is_string(v)) {
        *len = json_string_length(v);
        return xstrndup(json_string_value(v), *len);
    }
    if (json_is_integer(v))
        snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        json_out_number(json_real_value(v), num);
    else if (json_is_boolean(v))
        snprintf(num, sizeof(num), "%s", json_is_true(v) ? "true" : "false");
    else if (json_is_null(v))
        num[0] = '\0';
    else
        return NULL;
    *len = strlen(num);
    return xstrdup(num);
}

static void dump_set_next(struct creq *q)
{
    struct store_batch b = STORE_BATCH_INIT;
    void *it = json_object_iter(q->dump);
    struct store *s;
    size_t i, m = 0;
    int rc = AH_EUNAVAIL;

    /* skip the entries already sent */
    for (i = 0; it && i < q->idx; i++)
        it = json_object_iter_next(q->dump, it);
    if (it == NULL) {
        finish(q, 0, json_integer((json_int_t)json_object_size(q->dump)), NULL);
        return;
    }
    for (; it && m < CHUNK; it = json_object_iter_next(q->dump, it), m++) {
        const char *k = json_object_iter_key(it);
        size_t vlen = 0;
        char *v = entry_text(json_object_iter_value(it), &vlen);
        const char *argv[4] = {"SET", k, v, "KEEPTTL"};
        size_t lens[4] = {3, strlen(k), vlen, 7};

        store_batch_addv(&b, 4, argv, lens);
        free(v);
    }
    q->idx += m;
    q->next = on_dump_sets;
    if ((s = store_get(q->app)) != NULL)
        rc = store_pipeline(s, STORE_CLIENT, &b, on_store, q);
    store_batch_release(&b);
    later(q, rc);
}

static void on_dump_sets(struct creq *q, int status, const struct store_reply *r)
{
    size_t i;

    if (status < 0) {
        fail_store(q, status, r);
        return;
    }
    for (i = 0; i < r->elements; i++) {
        if (r->element[i]->type == STORE_REPLY_ERROR) {
            fail_store(q, store_reply_status_of(r->element[i]), r->element[i]);
            return;
        }
    }
    dump_set_next(q);
}

static void on_dump_cleared(struct creq *q, int status, const struct store_reply *r)
{
    if (status < 0) {
        fail_store(q, status, r);
        return;
    }
    q->idx = 0;
    dump_set_next(q);
}

static void after_dump_clear_scan(struct creq *q)
{
    if (json_array_size(q->keys) == 0) {
        q->idx = 0;
        dump_set_next(q);
    } else {
        del_keys(q, on_dump_cleared);
    }
}

/* The file is read: parse and check it, then clear() the namespace. */
static void dump_parsed(struct creq *q)
{
    json_error_t jerr;
    const char *k;
    json_t *v;
    char msg[600], *pattern;
    int rc;

    q->dump = parse_json(q->data.data ? q->data.data : "", q->data.len, &jerr);
    if (q->dump == NULL || !json_is_object(q->dump)) {
        if (q->dump == NULL)
            snprintf(msg, sizeof(msg), "invalid JSON in '%.400s': %s (line %d)", q->file, jerr.text, jerr.line);
        else
            snprintf(msg, sizeof(msg), "invalid dump file '%.400s': expected a JSON object", q->file);
        finish(q, AH_EFAIL, NULL, msg);
        return;
    }
    json_object_foreach(q->dump, k, v) {
        if (!json_is_string(v) && !json_is_number(v) && !json_is_boolean(v) && !json_is_null(v)) {
            snprintf(msg, sizeof(msg), "invalid dump file '%.400s': the value of '%.100s' is not a string",
                     q->file, k);
            finish(q, AH_EFAIL, NULL, msg);
            return;
        }
    }
    buf_release(&q->data);
    pattern = xasprintf("%s*", q->c->prefix);
    rc = scan_start(q, pattern, 0, after_dump_clear_scan);
    free(pattern);
    later(q, rc);
}

static void read_next(struct creq *q);

static void on_read_closed(uv_fs_t *req)
{
    struct creq *q = req->data;

    uv_fs_req_cleanup(req);
    q->fd = -1;
    dump_parsed(q);
}

static void on_read(uv_fs_t *req)
{
    struct creq *q = req->data;
    ssize_t n = req->result;
    int rc;

    uv_fs_req_cleanup(req);
    if (n < 0) {
        uv_fs_close(q->app->loop, &q->fs, q->fd, NULL); /* synchronous */
        uv_fs_req_cleanup(&q->fs);
        q->fd = -1;
        fail_fs(q, (int)n, "read");
        return;
    }
    q->data.len += (size_t)n;
    q->data.data[q->data.len] = '\0';
    if (q->data.len > q->c->cfg.max_dump_bytes) {
        char msg[600];

        uv_fs_close(q->app->loop, &q->fs, q->fd, NULL); /* synchronous */
        uv_fs_req_cleanup(&q->fs);
        q->fd = -1;
        snprintf(msg, sizeof(msg), "dump file '%.400s' is larger than cache.maxDumpBytes (%zu)", q->file,
                 q->c->cfg.max_dump_bytes);
        finish(q, AH_ELIMIT, NULL, msg);
        return;
    }
    if (n == 0) {
        rc = uv_fs_close(q->app->loop, &q->fs, q->fd, on_read_closed);
        if (rc < 0) {
            q->fd = -1;
            dump_parsed(q);
        }
        return;
    }
    read_next(q);
}

static void read_next(struct creq *q)
{
    uv_buf_t b;
    int rc;

    buf_grow(&q->data, 65536);
    b = uv_buf_init(q->data.data + q->data.len, (unsigned)(q->data.cap - q->data.len - 1));
    rc = uv_fs_read(q->app->loop, &q->fs, q->fd, &b, 1, -1, on_read);
    if (rc < 0) {
        uv_fs_close(q->app->loop, &q->fs, q->fd, NULL); /* synchronous */
        uv_fs_req_cleanup(&q->fs);
        q->fd = -1;
        fail_fs(q, rc, "read");
    }
}

static void on_read_open(uv_fs_t *req)
{
    struct creq *q = req->data;
    int rc = (int)req->result;

    uv_fs_req_cleanup(req);
    if (rc < 0) {
        fail_fs(q, rc, "open");
        return;
    }
    q->fd = rc;
    read_next(q);
}

/* ------------------------------------------------------------- the API */

/* Bind the completion: from an action (ctx) or from app code. */
static struct creq *for_ctx(ah_ctx_t *ctx, const char *key, ah_cache_cb cb)
{
    struct creq *q;

    if (ctx == NULL || cb == NULL || (q = req_new(ctx->app, key)) == NULL)
        return NULL;
    q->ctx = ctx;
    q->ctx_cb = cb;
    return q;
}

static struct creq *for_app(ah_app_t *app, const char *key, ah_cache_app_cb cb, void *arg)
{
    struct creq *q;

    if (app == NULL || cb == NULL || (q = req_new(app, key)) == NULL)
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

    return q ? do_save(q, value, expire_ms) : no_req(APP_OF_CTX(ctx), (const void *)cb, key, true);
}

int ah_cache_app_save(ah_app_t *app, const char *key, json_t *value, long long expire_ms, ah_cache_app_cb cb,
                      void *arg)
{
    struct creq *q = key ? for_app(app, key, cb, arg) : NULL;

    return q ? do_save(q, value, expire_ms) : no_req(app, (const void *)cb, key, true);
}

/* load */
int ah_cache_load(ah_ctx_t *ctx, const char *key, const ah_cache_load_opts_t *opts, ah_cache_cb cb)
{
    struct creq *q = key ? for_ctx(ctx, key, cb) : NULL;

    return q ? do_load(q, opts) : no_req(APP_OF_CTX(ctx), (const void *)cb, key, true);
}

int ah_cache_app_load(ah_app_t *app, const char *key, const ah_cache_load_opts_t *opts, ah_cache_app_cb cb,
                      void *arg)
{
    struct creq *q = key ? for_app(app, key, cb, arg) : NULL;

    return q ? do_load(q, opts) : no_req(app, (const void *)cb, key, true);
}

/* destroy */
int ah_cache_destroy(ah_ctx_t *ctx, const char *key, ah_cache_cb cb)
{
    struct creq *q = key ? for_ctx(ctx, key, cb) : NULL;

    return q ? do_destroy(q) : no_req(APP_OF_CTX(ctx), (const void *)cb, key, true);
}

int ah_cache_app_destroy(ah_app_t *app, const char *key, ah_cache_app_cb cb, void *arg)
{
    struct creq *q = key ? for_app(app, key, cb, arg) : NULL;

    return q ? do_destroy(q) : no_req(app, (const void *)cb, key, true);
}

/* push / pop / listLength */
int ah_cache_push(ah_ctx_t *ctx, const char *key, json_t *item, ah_cache_cb cb)
{
    struct creq *q = key ? for_ctx(ctx, key, cb) : NULL;

    return q ? do_push(q, item) : no_req(APP_OF_CTX(ctx), (const void *)cb, key, true);
}

int ah_cache_app_push(ah_app_t *app, const char *key, json_t *item, ah_cache_app_cb cb, void *arg)
{
    struct creq *q = key ? for_app(app, key, cb, arg) : NULL;

    return q ? do_push(q, item) : no_req(app, (const void *)cb, key, true);
}

static int do_pop(struct creq *q)
{
    return start(q, send_cmd(q, on_pop, "LPOP", q->full, NULL));
}

int ah_cache_pop(ah_ctx_t *ctx, const char *key, ah_cache_cb cb)
{
    struct creq *q = key ? for_ctx(ctx, key, cb) : NULL;

    return q ? do_pop(q) : no_req(APP_OF_CTX(ctx), (const void *)cb, key, true);
}

int ah_cache_app_pop(ah_app_t *app, const char *key, ah_cache_app_cb cb, void *arg)
{
    struct creq *q = key ? for_app(app, key, cb, arg) : NULL;

    return q ? do_pop(q) : no_req(app, (const void *)cb, key, true);
}

static int do_llen(struct creq *q)
{
    return start(q, send_cmd(q, on_llen, "LLEN", q->full, NULL));
}

int ah_cache_list_length(ah_ctx_t *ctx, const char *key, ah_cache_cb cb)
{
    struct creq *q = key ? for_ctx(ctx, key, cb) : NULL;

    return q ? do_llen(q) : no_req(APP_OF_CTX(ctx), (const void *)cb, key, true);
}

int ah_cache_app_list_length(ah_app_t *app, const char *key, ah_cache_app_cb cb, void *arg)
{
    struct creq *q = key ? for_app(app, key, cb, arg) : NULL;

    return q ? do_llen(q) : no_req(app, (const void *)cb, key, true);
}

/* lock / unlock / checkLock */
static int do_lock(struct creq *q, long long expire_ms)
{
    q->expire_ms = ceil_secs(expire_ms == AH_CACHE_LOCK_DEFAULT ? q->c->cfg.lock_duration : expire_ms);
    return start(q, check_lock(q, 0, false, lock_locked));
}

int ah_cache_lock(ah_ctx_t *ctx, const char *key, long long expire_ms, ah_cache_cb cb)
{
    struct creq *q = key ? for_ctx(ctx, key, cb) : NULL;

    return q ? do_lock(q, expire_ms) : no_req(APP_OF_CTX(ctx), (const void *)cb, key, true);
}

int ah_cache_app_lock(ah_app_t *app, const char *key, long long expire_ms, ah_cache_app_cb cb, void *arg)
{
    struct creq *q = key ? for_app(app, key, cb, arg) : NULL;

    return q ? do_lock(q, expire_ms) : no_req(app, (const void *)cb, key, true);
}

static int do_unlock(struct creq *q)
{
    return start(q, check_lock(q, 0, false, unlock_locked));
}

int ah_cache_unlock(ah_ctx_t *ctx, const char *key, ah_cache_cb cb)
{
    struct creq *q = key ? for_ctx(ctx, key, cb) : NULL;

    return q ? do_unlock(q) : no_req(APP_OF_CTX(ctx), (const void *)cb, key, true);
}

int ah_cache_app_unlock(ah_app_t *app, const char *key, ah_cache_app_cb cb, void *arg)
{
    struct creq *q = key ? for_app(app, key, cb, arg) : NULL;

    return q ? do_unlock(q) : no_req(app, (const void *)cb, key, true);
}

static int do_check_lock(struct creq *q, long long retry_ms, bool ignore)
{
    return start(q, check_lock(q, retry_ms, ignore, check_lock_done));
}

int ah_cache_check_lock(ah_ctx_t *ctx, const char *key, long long retry_ms, bool ignore_lock, ah_cache_cb cb)
{
    struct creq *q = key ? for_ctx(ctx, key, cb) : NULL;

    return q ? do_check_lock(q, retry_ms, ignore_lock) : no_req(APP_OF_CTX(ctx), (const void *)cb, key, true);
}

int ah_cache_app_check_lock(ah_app_t *app, const char *key, long long retry_ms, bool ignore_lock,
                            ah_cache_app_cb cb, void *arg)
{
    struct creq *q = key ? for_app(app, key, cb, arg) : NULL;

    return q ? do_check_lock(q, retry_ms, ignore_lock) : no_req(app, (const void *)cb, key, true);
}

/* keys / locks / getKeys / size / clear */
static int do_scan(struct creq *q, const char *prefix, const char *scope, const char *pattern, long long count,
                   void (*after)(struct creq *))
{
    char *p = pattern ? xstrdup(pattern) : xasprintf("%s%s*", prefix, scope ? scope : "");
    int rc = scan_start(q, p, count, after);

    free(p);
    return start(q, rc);
}

int ah_cache_keys(ah_ctx_t *ctx, const char *scope, ah_cache_cb cb)
{
    struct creq *q = for_ctx(ctx, NULL, cb);

    return q ? do_scan(q, q->c->prefix, scope, NULL, 0, after_keys)
             : no_req(APP_OF_CTX(ctx), (const void *)cb, NULL, false);
}

int ah_cache_app_keys(ah_app_t *app, const char *scope, ah_cache_app_cb cb, void *arg)
{
    struct creq *q = for_app(app, NULL, cb, arg);

    return q ? do_scan(q, q->c->prefix, scope, NULL, 0, after_keys) : no_req(app, (const void *)cb, NULL, false);
}

int ah_cache_locks(ah_ctx_t *ctx, const char *scope, ah_cache_cb cb)
{
    struct creq *q = for_ctx(ctx, NULL, cb);

    return q ? do_scan(q, q->c->lock_prefix, scope, NULL, 0, after_keys)
             : no_req(APP_OF_CTX(ctx), (const void *)cb, NULL, false);
}

int ah_cache_app_locks(ah_app_t *app, const char *scope, ah_cache_app_cb cb, void *arg)
{
    struct creq *q = for_app(app, NULL, cb, arg);

    return q ? do_scan(q, q->c->lock_prefix, scope, NULL, 0, after_keys)
             : no_req(app, (const void *)cb, NULL, false);
}

int ah_cache_get_keys(ah_ctx_t *ctx, const char *pattern, long long count, ah_cache_cb cb)
{
    struct creq *q = pattern ? for_ctx(ctx, NULL, cb) : NULL;

    return q ? do_scan(q, NULL, NULL, pattern, count, after_keys)
             : no_req(APP_OF_CTX(ctx), (const void *)cb, pattern, true);
}

int ah_cache_app_get_keys(ah_app_t *app, const char *pattern, long long count, ah_cache_app_cb cb, void *arg)
{
    struct creq *q = pattern ? for_app(app, NULL, cb, arg) : NULL;

    return q ? do_scan(q, NULL, NULL, pattern, count, after_keys) : no_req(app, (const void *)cb, pattern, true);
}

int ah_cache_size(ah_ctx_t *ctx, const char *pattern, ah_cache_cb cb)
{
    struct creq *q = for_ctx(ctx, NULL, cb);

    return q ? do_scan(q, q->c->prefix, NULL, pattern, 0, after_size)
             : no_req(APP_OF_CTX(ctx), (const void *)cb, NULL, false);
}

int ah_cache_app_size(ah_app_t *app, const char *pattern, ah_cache_app_cb cb, void *arg)
{
    struct creq *q = for_app(app, NULL, cb, arg);

    return q ? do_scan(q, q->c->prefix, NULL, pattern, 0, after_size) : no_req(app, (const void *)cb, NULL, false);
}

int ah_cache_clear(ah_ctx_t *ctx, const char *pattern, ah_cache_cb cb)
{
    struct creq *q = for_ctx(ctx, NULL, cb);

    return q ? do_scan(q, q->c->prefix, NULL, pattern, 0, after_clear)
             : no_req(APP_OF_CTX(ctx), (const void *)cb, NULL, false);
}

int ah_cache_app_clear(ah_app_t *app, const char *pattern, ah_cache_app_cb cb, void *arg)
{
    struct creq *q = for_app(app, NULL, cb, arg);

    return q ? do_scan(q, q->c->prefix, NULL, pattern, 0, after_clear) : no_req(app, (const void *)cb, NULL, false);
}

/* dumpWrite / dumpRead */
static int do_dump_write(struct creq *q, const char *file)
{
    q->file = xstrdup(file);
    return do_scan(q, q->c->prefix, NULL, NULL, 0, after_dump_keys);
}

int ah_cache_dump_write(ah_ctx_t *ctx, const char *file, ah_cache_cb cb)
{
    struct creq *q = file ? for_ctx(ctx, NULL, cb) : NULL;

    return q ? do_dump_write(q, file) : no_req(APP_OF_CTX(ctx), (const void *)cb, file, true);
}

int ah_cache_app_dump_write(ah_app_t *app, const char *file, ah_cache_app_cb cb, void *arg)
{
    struct creq *q = file ? for_app(app, NULL, cb, arg) : NULL;

    return q ? do_dump_write(q, file) : no_req(app, (const void *)cb, file, true);
}

static int do_dump_read(struct creq *q, const char *file)
{
    q->file = xstrdup(file);
    q->fs.data = q;
    return start(q, uv_fs_open(q->app->loop, &q->fs, q->file, O_RDONLY, 0, on_read_open));
}

int ah_cache_dump_read(ah_ctx_t *ctx, const char *file, ah_cache_cb cb)
{
    struct creq *q = file ? for_ctx(ctx, NULL, cb) : NULL;

    return q ? do_dump_read(q, file) : no_req(APP_OF_CTX(ctx), (const void *)cb, file, true);
}

int ah_cache_app_dump_read(ah_app_t *app, const char *file, ah_cache_app_cb cb, void *arg)
{
    struct creq *q = file ? for_app(app, NULL, cb, arg) : NULL;

    return q ? do_dump_read(q, file) : no_req(app, (const void *)cb, file, true);
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
        finish(q, AH_EUNAVAIL, NULL, E_NOREDIS);
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
