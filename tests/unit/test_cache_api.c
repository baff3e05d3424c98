/*
 * test_cache_api.c - every cache function (spec/cache.md), the same checks
 * on both backends: the memory store, then a private redis-server.  The
 * stored keys and JSON are read back raw (through the store, and with
 * redis-cli on Redis) to pin Actionhero's layout, and entries written the
 * way Node Actionhero writes them are read through our API.
 */
#include <ah/cache.h>

#include "store_testlib.h"

#include "app/app.h"
#include "cache/cache.h"
#include "config/config.h"
#include "log/log.h"
#include "dispatch/dispatch.h"

extern const ah_initializer_t ah_initializer__redis;

static uv_loop_t loop_;
static uv_loop_t *loop = &loop_;
static struct tres t;
static struct test_redis rs;

struct cres {
    bool done;
    int calls;
    int status;
    json_t *result;
    char error[512];
};
static struct cres cr;

static void cres_cb(ah_app_t *app, int status, json_t *result, const char *error, void *arg)
{
    struct cres *c = arg;

    (void)app;
    c->calls++;
    c->done = true;
    c->status = status;
    json_decref(c->result);
    c->result = result ? json_incref(result) : NULL;
    snprintf(c->error, sizeof(c->error), "%s", error ? error : "");
    if ((status < 0) != (error != NULL)) {
        printf("not ok - error text and status disagree (%d, %s)\n", status, error ? error : "NULL");
        check_failed++;
    }
}

static void cres_reset(struct cres *c)
{
    json_decref(c->result);
    memset(c, 0, sizeof(*c));
}

/* Wait for the call started with rc; check the contract. */
static struct cres *cwait(int rc, const char *what)
{
    if (rc < 0) {
        printf("not ok - %s: returned %d\n", what, rc);
        check_failed++;
        return &cr;
    }
    if (cr.done) {
        printf("not ok - %s: callback ran inline\n", what);
        check_failed++;
    }
    if (!test_run_until(loop, &cr.done, 15000)) {
        printf("not ok - %s: callback never ran\n", what);
        check_failed++;
        return &cr;
    }
    test_run_for(loop, 0);
    if (cr.calls != 1) {
        printf("not ok - %s: callback ran %d times\n", what, cr.calls);
        check_failed++;
    }
    return &cr;
}

#define CALL(fn, ...) (cres_reset(&cr), cwait(fn(__VA_ARGS__, cres_cb, &cr), #fn))

static void check_json(const char *file, int line, json_t *got, const char *want_text)
{
    json_t *want = json_loads(want_text, JSON_DECODE_ANY, NULL);
    char *g = got ? json_dumps(got, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;

    check_report(want && got && json_equal(got, want), file, line, "json", g ? g : "(null)", want_text);
    free(g);
    json_decref(want);
}
#define CHECK_JSON(got, want) check_json(__FILE__, __LINE__, (got), (want))
#define CHECK_OK(c, want) do { CHECK_EQ_INT((c)->status, 0); CHECK_JSON((c)->result, (want)); } while (0)
#define CHECK_FAIL(c, code, text) do { CHECK_EQ_INT((c)->status, (code)); CHECK_EQ_STR((c)->error, (text)); \
    CHECK((c)->result == NULL); } while (0)

static ah_app_t *app;

#define RAW(...) TCMD(loop, store_get(app), &t, __VA_ARGS__)

static json_t *parse(const char *s)
{
    return s ? json_loads(s, JSON_DECODE_ANY, NULL) : NULL;
}

/* ------------------------------------------------------------- the app */

static ah_app_t *make_app(bool redis, int port, const char *extra_json)
{
    ah_app_t *a = app_new(loop);
    json_t *redis_cfg;

    a->config = json_pack("{s:{s:s}, s:{s:b, s:i, s:i, s:i, s:i, s:i}}", "general", "serverName", "test",
                          "redis", "enabled", redis, "port", redis ? port : 6379, "retryFirstDelay", 50, "retryStep", 10,
                          "retryMaxDelay", 100, "stopTimeout", 0);
    redis_cfg = json_object_get(a->config, "redis");
    json_object_set_new(redis_cfg, "scanCount", json_integer(3)); /* several SCAN rounds */
    if (extra_json) {
        json_t *x = json_loads(extra_json, 0, NULL);

        config_merge(a->config, x);
        json_decref(x);
    }
    a->id = xstrdup("192.0.2.7");
    if (ah_initializer__redis.initialize(a) < 0) {
        printf("not ok - store initializer: %s\n", a->fail_msg);
        check_failed++;
    }
    if (cache_start(a) < 0) {
        printf("not ok - cache_start: %s\n", a->fail_msg);
        check_failed++;
    }
    return a;
}

static void free_app(ah_app_t *a)
{
    uint64_t deadline;

    cache_stop(a);
    ah_initializer__redis.stop(a);
    deadline = core_mono_ms() + 3000;
    while (uv_loop_alive(loop) && core_mono_ms() < deadline)
        test_run_for(loop, 5);
    app_free(a);
}

/* ------------------------------------------------------------- save / load */

static void test_save_load(void)
{
    json_t *v = json_pack("{s:i}", "a", 1), *stored;
    struct cres *c;
    long long now = (long long)core_now_ms();
    const char *iter_key;

    c = CALL(ah_cache_app_save, app, "k1", v, 0);
    CHECK_OK(c, "true");
    c = CALL(ah_cache_app_load, app, "k1", NULL);
    CHECK_EQ_INT(c->status, 0);
    CHECK_JSON(json_object_get(c->result, "value"), "{\"a\":1}");
    CHECK_EQ_STR(json_string_value(json_object_get(c->result, "key")), "k1");
    CHECK(json_integer_value(json_object_get(c->result, "createdAt")) >= now - 1000);
    CHECK(json_integer_value(json_object_get(c->result, "createdAt")) <= now + 1000);
    /* result key order: key, value, createdAt */
    iter_key = json_object_iter_key(json_object_iter(c->result));
    CHECK_EQ_STR(iter_key, "key");

    /* the raw layout: {"value":...,"createdAt":N} under the prefix, no TTL */
    stored = parse(RAW("GET", "actionhero:cache:k1") ? t.r->str : NULL);
    CHECK(t.r && strncmp(t.r->str, "{\"value\":{\"a\":1},\"createdAt\":", 29) == 0);
    CHECK_EQ_INT(json_object_size(stored), 2);
    CHECK_EQ_STR(json_object_iter_key(json_object_iter(stored)), "value");
    CHECK_INT(RAW("PTTL", "actionhero:cache:k1"), -1);
    json_decref(stored);

    /* expiry in ms; a plain re-save makes the key permanent again */
    c = CALL(ah_cache_app_save, app, "k1", v, 10000);
    CHECK_OK(c, "true");
    RAW("PTTL", "actionhero:cache:k1");
    CHECK(t.r && t.r->integer > 9000 && t.r->integer <= 10000);
    c = CALL(ah_cache_app_save, app, "k1", v, 0);
    CHECK_INT(RAW("PTTL", "actionhero:cache:k1"), -1);

    /* expired entries are "Object not found" (no "Object expired" in v29) */
    c = CALL(ah_cache_app_save, app, "ke", v, 50);
    CHECK_OK(c, "true");
    test_run_for(loop, 150);
    c = CALL(ah_cache_app_load, app, "ke", NULL);
    CHECK_FAIL(c, AH_ENOTFOUND, "Object not found");
    /* a negative expiry deletes at once */
    c = CALL(ah_cache_app_save, app, "kn", v, -1);
    CHECK_OK(c, "true");
    c = CALL(ah_cache_app_load, app, "kn", NULL);
    CHECK_FAIL(c, AH_ENOTFOUND, "Object not found");
    CHECK_INT(RAW("EXISTS", "actionhero:cache:kn"), 0);

    /* missing */
    c = CALL(ah_cache_app_load, app, "nope", NULL);
    CHECK_FAIL(c, AH_ENOTFOUND, "Object not found");

    /* any JSON value, and undefined (NULL) */
    json_decref(v);
    v = json_loads("[1,\"two\",null,{\"x\":1.5,\"y\":false}]", 0, NULL);
    c = CALL(ah_cache_app_save, app, "arr", v, 0);
    c = CALL(ah_cache_app_load, app, "arr", NULL);
    CHECK_JSON(json_object_get(c->result, "value"), "[1,\"two\",null,{\"x\":1.5,\"y\":false}]");
    RAW("GET", "actionhero:cache:arr");
    CHECK(t.r && strncmp(t.r->str, "{\"value\":[1,\"two\",null,{\"x\":1.5,\"y\":false}],\"createdAt\":", 56) == 0);
    c = CALL(ah_cache_app_save, app, "undef", NULL, 0);
    CHECK_OK(c, "true");
    RAW("GET", "actionhero:cache:undef");
    CHECK(t.r && strncmp(t.r->str, "{\"createdAt\":", 13) == 0);
    c = CALL(ah_cache_app_load, app, "undef", NULL);
    CHECK_EQ_INT(c->status, 0);
    CHECK(json_object_get(c->result, "value") == NULL);
    CHECK(json_object_get(c->result, "createdAt") != NULL);
    json_decref(v);
    v = json_string("héllo \"quoted\"\n");
    c = CALL(ah_cache_app_save, app, "str", v, 0);
    c = CALL(ah_cache_app_load, app, "str", NULL);
    CHECK_JSON(json_object_get(c->result, "value"), "\"héllo \\\"quoted\\\"\\n\"");
    json_decref(v);
    v = json_false();
    c = CALL(ah_cache_app_save, app, "falsy", v, 0);
    c = CALL(ah_cache_app_load, app, "falsy", NULL);
    CHECK_EQ_INT(c->status, 0);
    CHECK_JSON(json_object_get(c->result, "value"), "false");
    json_decref(v);
}

/* What other writers may have left: JSON.parse rules. */
static void test_load_raw(void)
{
    struct cres *c;

    CHECK_STATUS(RAW("SET", "actionhero:cache:bad", "not json"), "OK");
    c = CALL(ah_cache_app_load, app, "bad", NULL);
    CHECK_FAIL(c, AH_ENOTFOUND, "Object not found");
    CHECK_STATUS(RAW("SET", "actionhero:cache:bad", "null"), "OK");
    c = CALL(ah_cache_app_load, app, "bad", NULL);
    CHECK_FAIL(c, AH_ENOTFOUND, "Object not found");
    CHECK_STATUS(RAW("SET", "actionhero:cache:bad", "0"), "OK");
    c = CALL(ah_cache_app_load, app, "bad", NULL);
    CHECK_FAIL(c, AH_ENOTFOUND, "Object not found");
    CHECK_STATUS(RAW("SET", "actionhero:cache:bad", "\"\""), "OK");
    c = CALL(ah_cache_app_load, app, "bad", NULL);
    CHECK_FAIL(c, AH_ENOTFOUND, "Object not found");
    /* truthy but not an object: value and createdAt are undefined */
    CHECK_STATUS(RAW("SET", "actionhero:cache:odd", "5"), "OK");
    c = CALL(ah_cache_app_load, app, "odd", NULL);
    CHECK_OK(c, "{\"key\":\"odd\"}");
    /* an object without createdAt */
    CHECK_STATUS(RAW("SET", "actionhero:cache:odd", "{\"value\":1}"), "OK");
    c = CALL(ah_cache_app_load, app, "odd", NULL);
    CHECK_OK(c, "{\"key\":\"odd\",\"value\":1}");
    /* written by Node Actionhero (JSON.stringify), big numbers included */
    CHECK_STATUS(RAW("SET", "actionhero:cache:node",
                     "{\"value\":{\"from\":\"node\",\"n\":[1,2.5,1e+21,100000000000000000000]},\"createdAt\":1796300513445}"),
                 "OK");
    c = CALL(ah_cache_app_load, app, "node", NULL);
    CHECK_EQ_INT(c->status, 0);
    CHECK_EQ_INT(json_integer_value(json_object_get(c->result, "createdAt")), 1796300513445LL);
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(c->result, "value"), "from")), "node");
    CHECK_EQ_INT(json_array_size(json_object_get(json_object_get(c->result, "value"), "n")), 4);
    /* a list under the key: Redis's WRONGTYPE, as ioredis would throw */
    CHECK_INT(RAW("RPUSH", "actionhero:cache:alist", "x"), 1);
    c = CALL(ah_cache_app_load, app, "alist", NULL);
    CHECK_FAIL(c, AH_EFAIL, "WRONGTYPE Operation against a key holding the wrong kind of value");
    RAW("DEL", "actionhero:cache:alist", "actionhero:cache:bad", "actionhero:cache:odd", "actionhero:cache:node");
}

static void test_load_expire(void)
{
    json_t *v = json_string("v");
    ah_cache_load_opts_t o = {5000, 0, false};
    struct cres *c;

    c = CALL(ah_cache_app_save, app, "ks", v, 0);
    c = CALL(ah_cache_app_load, app, "ks", &o);
    CHECK_EQ_INT(c->status, 0);
    CHECK_JSON(json_object_get(c->result, "value"), "\"v\"");
    RAW("PTTL", "actionhero:cache:ks");
    CHECK(t.r && t.r->integer > 4000 && t.r->integer <= 5000);
    /* without the option the TTL is left alone */
    c = CALL(ah_cache_app_load, app, "ks", NULL);
    RAW("PTTL", "actionhero:cache:ks");
    CHECK(t.r && t.r->integer > 0);
    o.expire_ms = -1;
    c = CALL(ah_cache_app_load, app, "ks", &o);
    CHECK_EQ_INT(c->status, 0);
    CHECK_INT(RAW("EXISTS", "actionhero:cache:ks"), 0);
    json_decref(v);
}

static void test_destroy(void)
{
    json_t *v = json_integer(3);
    struct cres *c;

    c = CALL(ah_cache_app_save, app, "kd", v, 0);
    c = CALL(ah_cache_app_destroy, app, "kd");
    CHECK_OK(c, "true");
    c = CALL(ah_cache_app_destroy, app, "kd");
    CHECK_OK(c, "false");
    c = CALL(ah_cache_app_load, app, "kd", NULL);
    CHECK_FAIL(c, AH_ENOTFOUND, "Object not found");
    json_decref(v);
}

/* ------------------------------------------------------------- locks */

struct delayed_del {
    uv_timer_t timer;
    const char *key;
};

static void on_unlock_later(uv_timer_t *h)
{
    struct delayed_del *d = h->data;

    store_command(store_get(app), NULL, NULL, "DEL", d->key, NULL);
    uv_close((uv_handle_t *)h, NULL);
}

static void test_locks(void)
{
    json_t *v = json_string("locked value");
    struct cres *c;
    ah_cache_load_opts_t o = {0, 0, false};
    struct delayed_del dd;
    uint64_t t0;

    CHECK_EQ_STR(ah_cache_lock_name(app), "192.0.2.7");
    c = CALL(ah_cache_app_save, app, "kl", v, 0);
    c = CALL(ah_cache_app_lock, app, "kl", AH_CACHE_LOCK_DEFAULT);
    CHECK_OK(c, "true");
    CHECK_STR(RAW("GET", "actionhero:lock:kl"), "192.0.2.7");
    CHECK_INT(RAW("TTL", "actionhero:lock:kl"), 10); /* general.lockDuration 10000 ms */
    /* not re-entrant */
    c = CALL(ah_cache_app_lock, app, "kl", AH_CACHE_LOCK_DEFAULT);
    CHECK_OK(c, "false");
    /* our own lock does not block us */
    c = CALL(ah_cache_app_check_lock, app, "kl", 0, false);
    CHECK_OK(c, "true");
    c = CALL(ah_cache_app_save, app, "kl", v, 0);
    CHECK_OK(c, "true");
    c = CALL(ah_cache_app_load, app, "kl", NULL);
    CHECK_EQ_INT(c->status, 0);

    /* another owner */
    ah_cache_override_lock_name(app, "other-server");
    CHECK_EQ_STR(ah_cache_lock_name(app), "other-server");
    c = CALL(ah_cache_app_check_lock, app, "kl", 0, false);
    CHECK_OK(c, "false");
    c = CALL(ah_cache_app_save, app, "kl", v, 0);
    CHECK_FAIL(c, AH_CACHE_ELOCKED, "Object locked");
    c = CALL(ah_cache_app_load, app, "kl", NULL);
    CHECK_FAIL(c, AH_CACHE_ELOCKED, "Object locked");
    c = CALL(ah_cache_app_destroy, app, "kl");
    CHECK_FAIL(c, AH_CACHE_ELOCKED, "Object locked");
    c = CALL(ah_cache_app_lock, app, "kl", AH_CACHE_LOCK_DEFAULT);
    CHECK_OK(c, "false");
    c = CALL(ah_cache_app_unlock, app, "kl");
    CHECK_OK(c, "false");
    CHECK_STR(RAW("GET", "actionhero:lock:kl"), "192.0.2.7");
    /* retry: true ignores the lock (v29 quirk) */
    o.ignore_lock = true;
    c = CALL(ah_cache_app_load, app, "kl", &o);
    CHECK_EQ_INT(c->status, 0);
    CHECK_JSON(json_object_get(c->result, "value"), "\"locked value\"");
    c = CALL(ah_cache_app_check_lock, app, "kl", 0, true);
    CHECK_OK(c, "true");
    /* retry in ms: still locked after the wait */
    o.ignore_lock = false;
    o.retry_ms = 250;
    t0 = core_mono_ms();
    c = CALL(ah_cache_app_load, app, "kl", &o);
    CHECK_FAIL(c, AH_CACHE_ELOCKED, "Object locked");
    CHECK(core_mono_ms() - t0 >= 250);
    /* retry in ms: the lock goes away while we poll */
    dd.key = "actionhero:lock:kl";
    uv_timer_init(loop, &dd.timer);
    dd.timer.data = &dd;
    uv_timer_start(&dd.timer, on_unlock_later, 150, 0);
    o.retry_ms = 5000;
    c = CALL(ah_cache_app_load, app, "kl", &o);
    CHECK_EQ_INT(c->status, 0);
    CHECK_JSON(json_object_get(c->result, "value"), "\"locked value\"");
    c = CALL(ah_cache_app_check_lock, app, "kl", 0, false);
    CHECK_OK(c, "true");
    ah_cache_override_lock_name(app, NULL);
    CHECK_EQ_STR(ah_cache_lock_name(app), "192.0.2.7");

    /* unlock */
    c = CALL(ah_cache_app_lock, app, "kl", AH_CACHE_LOCK_DEFAULT);
    CHECK_OK(c, "true");
    c = CALL(ah_cache_app_unlock, app, "kl");
    CHECK_OK(c, "true");
    CHECK_INT(RAW("EXISTS", "actionhero:lock:kl"), 0);
    c = CALL(ah_cache_app_unlock, app, "kl");
    CHECK_OK(c, "true");
    /* durations: whole seconds rounded up; 0 or less removes the lock */
    c = CALL(ah_cache_app_lock, app, "k2", 1500);
    CHECK_OK(c, "true");
    CHECK_INT(RAW("TTL", "actionhero:lock:k2"), 2);
    c = CALL(ah_cache_app_unlock, app, "k2");
    c = CALL(ah_cache_app_lock, app, "k2", 0);
    CHECK_OK(c, "true");
    CHECK_INT(RAW("EXISTS", "actionhero:lock:k2"), 0);
    c = CALL(ah_cache_app_lock, app, "k2", -5000);
    CHECK_OK(c, "true");
    CHECK_INT(RAW("EXISTS", "actionhero:lock:k2"), 0);
    /* a lock left by Node Actionhero on another server */
    CHECK_STATUS(RAW("SET", "actionhero:lock:kl", "192.0.2.2", "EX", "5"), "OK");
    c = CALL(ah_cache_app_save, app, "kl", v, 0);
    CHECK_FAIL(c, AH_CACHE_ELOCKED, "Object locked");
    RAW("DEL", "actionhero:lock:kl");
    c = CALL(ah_cache_app_destroy, app, "kl");
    CHECK_OK(c, "true");
    json_decref(v);
}

/* ------------------------------------------------------------- lists */

static void test_lists(void)
{
    json_t *a = json_pack("{s:i}", "x", 1), *b = json_string("two");
    struct cres *c;

    c = CALL(ah_cache_app_push, app, "q", a);
    CHECK_OK(c, "true");
    c = CALL(ah_cache_app_push, app, "q", b);
    c = CALL(ah_cache_app_push, app, "q", NULL);
    c = CALL(ah_cache_app_list_length, app, "q");
    CHECK_OK(c, "3");
    RAW("LRANGE", "actionhero:cache:q", "0", "-1");
    CHECK(t.r && t.r->elements == 3);
    CHECK_STR(t.r ? t.r->element[0] : NULL, "{\"data\":{\"x\":1}}");
    CHECK_STR(t.r ? t.r->element[1] : NULL, "{\"data\":\"two\"}");
    CHECK_STR(t.r ? t.r->element[2] : NULL, "{}");
    c = CALL(ah_cache_app_pop, app, "q");
    CHECK_OK(c, "{\"x\":1}");
    c = CALL(ah_cache_app_pop, app, "q");
    CHECK_OK(c, "\"two\"");
    c = CALL(ah_cache_app_pop, app, "q");
    CHECK_OK(c, "null");
    c = CALL(ah_cache_app_pop, app, "q");
    CHECK_OK(c, "null");
    c = CALL(ah_cache_app_list_length, app, "q");
    CHECK_OK(c, "0");
    /* pushed by Node */
    CHECK_INT(RAW("RPUSH", "actionhero:cache:q", "{\"data\":[1,{\"n\":null}]}"), 1);
    c = CALL(ah_cache_app_pop, app, "q");
    CHECK_OK(c, "[1,{\"n\":null}]");
    /* lists ignore locks */
    CHECK_STATUS(RAW("SET", "actionhero:lock:q", "someone-else"), "OK");
    c = CALL(ah_cache_app_push, app, "q", a);
    CHECK_OK(c, "true");
    c = CALL(ah_cache_app_pop, app, "q");
    CHECK_OK(c, "{\"x\":1}");
    RAW("DEL", "actionhero:lock:q");
    /* broken items and wrong types */
    CHECK_INT(RAW("RPUSH", "actionhero:cache:q", "null", "{oops"), 2);
    c = CALL(ah_cache_app_pop, app, "q");
    CHECK_FAIL(c, AH_EFAIL, "Cannot read properties of null (reading 'data')");
    c = CALL(ah_cache_app_pop, app, "q");
    CHECK_EQ_INT(c->status, AH_EFAIL);
    CHECK(strncmp(c->error, "Unexpected token in JSON", 24) == 0);
    c = CALL(ah_cache_app_save, app, "q", a, 0);
    c = CALL(ah_cache_app_pop, app, "q");
    CHECK_FAIL(c, AH_EFAIL, "WRONGTYPE Operation against a key holding the wrong kind of value");
    c = CALL(ah_cache_app_list_length, app, "q");
    CHECK_FAIL(c, AH_EFAIL, "WRONGTYPE Operation against a key holding the wrong kind of value");
    c = CALL(ah_cache_app_push, app, "q", a);
    CHECK_FAIL(c, AH_EFAIL, "WRONGTYPE Operation against a key holding the wrong kind of value");
    c = CALL(ah_cache_app_destroy, app, "q");
    json_decref(a);
    json_decref(b);
}

/* ------------------------------------------------------------- namespace */

static bool has(json_t *arr, const char *s)
{
    size_t i;
    json_t *v;

    json_array_foreach(arr, i, v)
        if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
            return true;
    return false;
}

static void test_namespace(void)
{
    json_t *v = json_true();
    struct cres *c;
    int i;
    char key[32];

    c = CALL(ah_cache_app_clear, app, NULL);
    CHECK_EQ_INT(c->status, 0);
    RAW("FLUSHDB");
    for (i = 0; i < 7; i++) { /* more than scanCount (3): several SCAN rounds */
        snprintf(key, sizeof(key), "sc:%d", i);
        c = CALL(ah_cache_app_save, app, key, v, 0);
    }
    c = CALL(ah_cache_app_save, app, "other", v, 0);
    c = CALL(ah_cache_app_lock, app, "sc:1", AH_CACHE_LOCK_DEFAULT);
    CHECK_STATUS(RAW("SET", "unrelated:key", "x"), "OK");

    c = CALL(ah_cache_app_keys, app, NULL);
    CHECK_EQ_INT(c->status, 0);
    CHECK_EQ_INT(json_array_size(c->result), 8);
    CHECK(has(c->result, "actionhero:cache:sc:0") && has(c->result, "actionhero:cache:other"));
    CHECK(!has(c->result, "unrelated:key"));
    c = CALL(ah_cache_app_keys, app, "sc:");
    CHECK_EQ_INT(json_array_size(c->result), 7);
    CHECK(!has(c->result, "actionhero:cache:other"));
    c = CALL(ah_cache_app_locks, app, NULL);
    CHECK_OK(c, "[\"actionhero:lock:sc:1\"]");
    c = CALL(ah_cache_app_locks, app, "zz");
    CHECK_OK(c, "[]");
    c = CALL(ah_cache_app_get_keys, app, "unrelated:*", 0);
    CHECK_OK(c, "[\"unrelated:key\"]");
    c = CALL(ah_cache_app_get_keys, app, "actionhero:*", 2);
    CHECK_EQ_INT(json_array_size(c->result), 9);
    c = CALL(ah_cache_app_size, app, NULL);
    CHECK_OK(c, "8");
    c = CALL(ah_cache_app_size, app, "actionhero:cache:sc:*");
    CHECK_OK(c, "7");
    c = CALL(ah_cache_app_clear, app, "actionhero:cache:sc:[0-2]");
    CHECK_EQ_INT(json_array_size(c->result), 3);
    CHECK(has(c->result, "actionhero:cache:sc:2"));
    c = CALL(ah_cache_app_clear, app, NULL);
    CHECK_EQ_INT(c->status, 0);
    CHECK_EQ_INT(json_array_size(c->result), 5);
    c = CALL(ah_cache_app_size, app, NULL);
    CHECK_OK(c, "0");
    /* clear leaves locks and other namespaces alone */
    CHECK_INT(RAW("EXISTS", "unrelated:key", "actionhero:lock:sc:1"), 2);
    c = CALL(ah_cache_app_clear, app, NULL);
    CHECK_OK(c, "[]");
    RAW("DEL", "unrelated:key", "actionhero:lock:sc:1");
}

/* ------------------------------------------------------------- dumps */

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    struct buf b = BUF_INIT;
    char chunk[4096];
    size_t n;

    if (f == NULL)
        return NULL;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        buf_add(&b, chunk, n);
    fclose(f);
    if (b.data == NULL)
        buf_adds(&b, "");
    return buf_detach(&b, NULL);
}

static void spit(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");

    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void test_dumps(void)
{
    char dir[] = "/tmp/ah-cache-dump-XXXXXX", file[128], bad[160], *text;
    json_t *v = json_pack("{s:s}", "d", "v"), *dump;
    struct cres *c;

    if (mkdtemp(dir) == NULL)
        return;
    snprintf(file, sizeof(file), "%s/dump.json", dir);
    c = CALL(ah_cache_app_clear, app, NULL);
    c = CALL(ah_cache_app_save, app, "d1", v, 0);
    c = CALL(ah_cache_app_save, app, "d2", v, 60000);
    c = CALL(ah_cache_app_dump_write, app, file);
    CHECK_OK(c, "2");
    text = slurp(file);
    dump = parse(text);
    CHECK(json_is_object(dump) && json_object_size(dump) == 2);
    RAW("GET", "actionhero:cache:d1");
    CHECK_EQ_STR(json_string_value(json_object_get(dump, "actionhero:cache:d1")), t.r ? t.r->str : "");
    CHECK(text && text[0] == '{' && strstr(text, "\"actionhero:cache:d1\":\"{\\\"value\\\":{\\\"d\\\":\\\"v\\\"},"));
    free(text);
    json_decref(dump);

    /* dumpRead clears the namespace, then loads; TTLs are not restored */
    c = CALL(ah_cache_app_save, app, "gone", v, 0);
    c = CALL(ah_cache_app_dump_read, app, file);
    CHECK_OK(c, "2");
    c = CALL(ah_cache_app_load, app, "gone", NULL);
    CHECK_FAIL(c, AH_ENOTFOUND, "Object not found");
    c = CALL(ah_cache_app_load, app, "d2", NULL);
    CHECK_EQ_INT(c->status, 0);
    CHECK_JSON(json_object_get(c->result, "value"), "{\"d\":\"v\"}");
    CHECK_INT(RAW("PTTL", "actionhero:cache:d2"), -1);

    /* a dump written by Node Actionhero */
    spit(file, "{\"actionhero:cache:n1\":\"{\\\"value\\\":\\\"from node\\\",\\\"createdAt\\\":1796300513758}\"}");
    c = CALL(ah_cache_app_dump_read, app, file);
    CHECK_OK(c, "1");
    c = CALL(ah_cache_app_load, app, "n1", NULL);
    CHECK_OK(c, "{\"key\":\"n1\",\"value\":\"from node\",\"createdAt\":1796300513758}");
    c = CALL(ah_cache_app_load, app, "d1", NULL);
    CHECK_FAIL(c, AH_ENOTFOUND, "Object not found");

    /* errors: a missing file (and the cache is left alone), bad JSON,
     * not an object, a value that is not a string */
    snprintf(bad, sizeof(bad), "%s/missing.json", dir);
    c = CALL(ah_cache_app_dump_read, app, bad);
    CHECK_EQ_INT(c->status, AH_EFAIL);
    CHECK(strncmp(c->error, "ENOENT: no such file or directory, open '", 41) == 0);
    c = CALL(ah_cache_app_load, app, "n1", NULL);
    CHECK_EQ_INT(c->status, 0);
    spit(file, "{\"a\": ");
    c = CALL(ah_cache_app_dump_read, app, file);
    CHECK_EQ_INT(c->status, AH_EFAIL);
    CHECK(strncmp(c->error, "invalid JSON in '", 17) == 0);
    spit(file, "[\"a\"]");
    c = CALL(ah_cache_app_dump_read, app, file);
    CHECK_EQ_INT(c->status, AH_EFAIL);
    CHECK(strstr(c->error, "expected a JSON object") != NULL);
    spit(file, "{\"actionhero:cache:x\": {\"no\": 1}}");
    c = CALL(ah_cache_app_dump_read, app, file);
    CHECK_EQ_INT(c->status, AH_EFAIL);
    CHECK(strstr(c->error, "is not a string") != NULL);
    c = CALL(ah_cache_app_load, app, "n1", NULL);
    CHECK_EQ_INT(c->status, 0);
    c = CALL(ah_cache_app_dump_write, app, dir); /* a directory */
    CHECK_EQ_INT(c->status, AH_EFAIL);
    CHECK(strncmp(c->error, "EISDIR: illegal operation on a directory, open '", 48) == 0);
    /* a list under the prefix makes dumpWrite fail, as in Actionhero */
    c = CALL(ah_cache_app_push, app, "alist", v);
    c = CALL(ah_cache_app_dump_write, app, file);
    CHECK_FAIL(c, AH_EFAIL, "WRONGTYPE Operation against a key holding the wrong kind of value");
    c = CALL(ah_cache_app_clear, app, NULL);
    /* empty namespace */
    c = CALL(ah_cache_app_dump_write, app, file);
    CHECK_OK(c, "0");
    text = slurp(file);
    CHECK_EQ_STR(text, "{}");
    free(text);
    c = CALL(ah_cache_app_dump_read, app, file);
    CHECK_OK(c, "0");

    unlink(file);
    rmdir(dir);
    json_decref(v);
}

/* ------------------------------------------------------------- the ctx API */

static struct {
    bool done;
    int calls;
    int status;
    json_t *result;
} cx;

static void ctx_cb(ah_ctx_t *ctx, int status, json_t *result, const char *error)
{
    (void)ctx;
    (void)error;
    cx.done = true;
    cx.calls++;
    cx.status = status;
    json_decref(cx.result);
    cx.result = result ? json_incref(result) : NULL;
}

static void test_ctx_api(void)
{
    struct ah_ctx ctx;
    json_t *v = json_string("from an action");

    memset(&ctx, 0, sizeof(ctx));
    ctx.app = app;
    memset(&cx, 0, sizeof(cx));
    CHECK_EQ_INT(ah_cache_save(&ctx, "cx", v, 0, ctx_cb), 0);
    CHECK(!cx.done);
    test_run_until(loop, &cx.done, 5000);
    CHECK_EQ_INT(cx.status, 0);
    cx.done = false;
    CHECK_EQ_INT(ah_cache_load(&ctx, "cx", NULL, ctx_cb), 0);
    test_run_until(loop, &cx.done, 5000);
    CHECK_JSON(json_object_get(cx.result, "value"), "\"from an action\"");
    cx.done = false;
    CHECK_EQ_INT(ah_cache_destroy(&ctx, "cx", ctx_cb), 0);
    test_run_until(loop, &cx.done, 5000);
    CHECK_EQ_INT(cx.calls, 3);
    /* bad arguments: an error now, the callback never runs */
    CHECK_EQ_INT(ah_cache_load(&ctx, NULL, NULL, ctx_cb), AH_EINVAL);
    CHECK_EQ_INT(ah_cache_load(&ctx, "x", NULL, NULL), AH_EINVAL);
    CHECK_EQ_INT(ah_cache_load(NULL, "x", NULL, ctx_cb), AH_EINVAL);
    CHECK_EQ_INT(ah_cache_app_save(app, NULL, v, 0, cres_cb, &cr), AH_EINVAL);
    CHECK_EQ_INT(ah_cache_app_get_keys(app, NULL, 0, cres_cb, &cr), AH_EINVAL);
    CHECK_EQ_INT(ah_cache_app_dump_read(app, NULL, cres_cb, &cr), AH_EINVAL);
    CHECK_EQ_INT(ah_cache_app_keys(app, NULL, NULL, NULL), AH_EINVAL);
    test_run_for(loop, 10);
    CHECK_EQ_INT(cx.calls, 3);
    json_decref(cx.result);
    cx.result = NULL;
    json_decref(v);
}

/* ------------------------------------------------------------- the suite */

static void suite(const char *label)
{
    int before = check_failed;

    RAW("FLUSHDB");
    test_save_load();
    test_load_raw();
    test_load_expire();
    test_destroy();
    test_locks();
    test_lists();
    test_namespace();
    test_dumps();
    test_ctx_api();
    printf("%s - cache API on the %s backend\n", check_failed == before ? "ok" : "not ok", label);
}

/* Redis only: the layout as redis-cli sees it, and Redis going away. */
static void redis_extras(void)
{
    json_t *v = json_pack("{s:i}", "a", 1);
    struct cres *c;
    char *out;
    int i;

    c = CALL(ah_cache_app_save, app, "cli", v, 10000);
    out = test_redis_cli(&rs, "GET actionhero:cache:cli");
    CHECK(out && strncmp(out, "{\"value\":{\"a\":1},\"createdAt\":", 29) == 0);
    free(out);
    out = test_redis_cli(&rs, "TTL actionhero:cache:cli");
    CHECK(out && (strcmp(out, "10") == 0 || strcmp(out, "9") == 0));
    free(out);
    c = CALL(ah_cache_app_lock, app, "cli", 5000);
    out = test_redis_cli(&rs, "GET actionhero:lock:cli");
    CHECK_EQ_STR(out, "192.0.2.7");
    free(out);
    out = test_redis_cli(&rs, "TTL actionhero:lock:cli");
    CHECK_EQ_STR(out, "5");
    free(out);
    c = CALL(ah_cache_app_unlock, app, "cli");

    /* written from outside, in exactly the shape Node Actionhero writes */
    free(test_redis_cli(&rs, "SET actionhero:cache:fromcli "
                             "'{\"value\":{\"from\":\"cli\",\"list\":[1,2.5,\"x\"]},\"createdAt\":1796300513445}' "
                             "PX 60000"));
    c = CALL(ah_cache_app_load, app, "fromcli", NULL);
    CHECK_OK(c, "{\"key\":\"fromcli\",\"value\":{\"from\":\"cli\",\"list\":[1,2.5,\"x\"]},"
                "\"createdAt\":1796300513445}");
    free(test_redis_cli(&rs, "RPUSH actionhero:cache:cliq '{\"data\":{\"job\":1}}'"));
    c = CALL(ah_cache_app_pop, app, "cliq");
    CHECK_OK(c, "{\"job\":1}");
    free(test_redis_cli(&rs, "SET actionhero:lock:fromcli 192.0.2.2 EX 5"));
    c = CALL(ah_cache_app_destroy, app, "fromcli");
    CHECK_FAIL(c, AH_CACHE_ELOCKED, "Object locked");
    free(test_redis_cli(&rs, "DEL actionhero:lock:fromcli"));

    /* Redis goes away: fast, clear errors; back: works again */
    test_redis_stop(&rs);
    c = CALL(ah_cache_app_load, app, "cli", NULL);
    CHECK_FAIL(c, AH_EUNAVAIL, "redis not connected, cache cannot be used");
    c = CALL(ah_cache_app_save, app, "cli", v, 0);
    CHECK_FAIL(c, AH_EUNAVAIL, "redis not connected, cache cannot be used");
    c = CALL(ah_cache_app_keys, app, NULL);
    CHECK_FAIL(c, AH_EUNAVAIL, "redis not connected, cache cannot be used");
    CHECK(test_redis_start(&rs, rs.port));
    for (i = 0; i < 300 && !store_ready(store_get(app), STORE_CLIENT); i++)
        test_run_for(loop, 10);
    c = CALL(ah_cache_app_save, app, "cli", v, 0);
    CHECK_OK(c, "true");
    c = CALL(ah_cache_app_load, app, "cli", NULL);
    CHECK_JSON(json_object_get(c->result, "value"), "{\"a\":1}");
    json_decref(v);
}

/* Memory only: the store's bounds reach the cache caller. */
static void memory_full(void)
{
    ah_app_t *a = make_app(false, 0, "{\"store\": {\"maxKeys\": 2}, \"cache\": {\"maxScanKeys\": 1}}");
    json_t *v = json_integer(1);
    ah_app_t *saved = app;
    struct cres *c;

    app = a;
    c = CALL(ah_cache_app_save, app, "m1", v, 0);
    c = CALL(ah_cache_app_save, app, "m2", v, 0);
    CHECK_OK(c, "true");
    c = CALL(ah_cache_app_save, app, "m3", v, 0);
    CHECK_FAIL(c, AH_ELIMIT, "OOM memory store full: store.maxKeys (2) reached");
    c = CALL(ah_cache_app_keys, app, NULL);
    CHECK_FAIL(c, AH_ELIMIT, "more than cache.maxScanKeys (1) keys match 'actionhero:cache:*'");
    app = saved;
    free_app(a);
    json_decref(v);
}

/* A stopped cache refuses new calls; requests in flight still finish. */
static void stopped(void)
{
    ah_app_t *a = make_app(false, 0, NULL);
    json_t *v = json_integer(1);

    ah_cache_load_opts_t wait_long = {0, 600000, false};
    struct cres c2;

    /* a load waiting (up to 10 minutes) for another owner's lock */
    ah_cache_override_lock_name(a, "someone-else");
    cres_reset(&cr);
    CHECK_EQ_INT(ah_cache_app_lock(a, "w", 60000, cres_cb, &cr), 0);
    test_run_until(loop, &cr.done, 5000);
    ah_cache_override_lock_name(a, NULL);
    memset(&c2, 0, sizeof(c2));
    CHECK_EQ_INT(ah_cache_app_load(a, "w", &wait_long, cres_cb, &c2), 0);
    test_run_for(loop, 250);
    CHECK(!c2.done);

    cres_reset(&cr);
    CHECK_EQ_INT(ah_cache_app_save(a, "s", v, 0, cres_cb, &cr), 0);
    cache_stop(a);
    CHECK_EQ_INT(ah_cache_app_load(a, "s", NULL, cres_cb, &cr), AH_ESTATE);
    test_run_until(loop, &cr.done, 5000);
    CHECK_EQ_INT(cr.calls, 1);
    CHECK_EQ_INT(cr.status, 0);
    /* the waiting load ends with the stop, not 10 minutes later */
    CHECK(c2.done);
    CHECK_EQ_INT(c2.calls, 1);
    CHECK_EQ_INT(c2.status, AH_EUNAVAIL);
    CHECK_EQ_STR(c2.error, "redis not connected, cache cannot be used");
    cres_reset(&c2);
    free_app(a);
    json_decref(v);
}

static void config_errors(void)
{
    ah_app_t *a = app_new(loop);

    a->config = json_loads("{\"general\": {\"lockDuration\": \"soon\"}}", 0, NULL);
    CHECK_EQ_INT(cache_start(a), AH_EINVAL);
    CHECK(strstr(a->fail_msg, "general.lockDuration") != NULL);
    app_free(a);
}

int main(void)
{
    core_init();
    uv_loop_init(loop);
    log_setup(&(struct log_opts){.level = AH_LOG_CRIT});

    app = make_app(false, 0, NULL);
    suite("memory");
    free_app(app);
    memory_full();
    stopped();
    config_errors();

    if (!test_redis_available()) {
        printf("not ok - redis-server is not installed: the Redis backend was not tested "
               "(make test installs it)\n");
        check_failed++;
    } else if (!test_redis_start(&rs, 0)) {
        printf("not ok - could not start redis-server\n");
        check_failed++;
    } else {
        app = make_app(true, rs.port, NULL);
        suite("redis");
        redis_extras();
        free_app(app);
    }
    test_redis_cleanup(&rs);
    cres_reset(&cr);
    tres_reset(&t);
    test_loop_done(loop);
    return check_done();
}
