/*
 * test_cache_action.c - the cacheTest action (builtin.md §1.3) through the
 * whole processor (testkit), on both backends: save with a 5000 ms expiry,
 * size, load, destroy; its errors; and a locked key or a Redis that is
 * down failing it with the cache's text.
 */
#include <ah/cache.h>

#include "store_testlib.h"

#include "app/app.h"
#include "testkit/testkit.h"

static struct test_redis rs;

static json_t *get(json_t *o, const char *path)
{
    char buf[128], *p, *save = NULL;

    snprintf(buf, sizeof(buf), "%s", path);
    for (p = strtok_r(buf, ".", &save); p && o; p = strtok_r(NULL, ".", &save))
        o = json_object_get(o, p);
    return o;
}

static const char *str(json_t *o, const char *path)
{
    return json_string_value(get(o, path));
}

static void use_redis(ah_app_t *app, void *arg)
{
    int port = *(int *)arg;

    testkit_config_set(app, "redis.enabled", json_true());
    testkit_config_set(app, "redis.port", json_integer(port));
    testkit_config_set(app, "redis.retryFirstDelay", json_integer(50));
    testkit_config_set(app, "redis.retryStep", json_integer(10));
    testkit_config_set(app, "redis.retryMaxDelay", json_integer(100));
    testkit_config_set(app, "redis.stopTimeout", json_integer(0));
}

struct done {
    bool done;
    int status;
};

static void on_cache(ah_app_t *app, int status, json_t *result, const char *error, void *arg)
{
    struct done *d = arg;

    (void)app;
    (void)result;
    (void)error;
    d->done = true;
    d->status = status;
}

/* Run one cache call from the test itself, to completion. */
#define APP_CALL(app, fn, ...)                                            \
    do {                                                                  \
        struct done d_ = {false, 0};                                      \
        CHECK_EQ_INT(fn(app, __VA_ARGS__, on_cache, &d_), 0);             \
        testkit_run_until(app, &d_.done);                                 \
        CHECK_EQ_INT(d_.status, 0);                                       \
    } while (0)

static void suite(ah_app_t *app, const char *label)
{
    int before = check_failed;
    json_t *r, *res, *v = json_string("x");
    const char *k;
    const char *order[] = {"saveResp", "sizeResp", "loadResp", "deleteResp"};
    size_t i = 0;
    void *it;

    APP_CALL(app, ah_cache_app_clear, NULL);
    r = testkit_run_action(app, "cacheTest", "{\"key\": \"abc\", \"value\": \"def\"}");
    res = get(r, "cacheTestResults");
    CHECK(str(r, "error") == NULL);
    CHECK(json_is_true(get(res, "saveResp")));
    CHECK_EQ_INT(json_integer_value(get(res, "sizeResp")), 1);
    CHECK_EQ_STR(str(res, "loadResp.key"), "cacheTest_abc");
    CHECK_EQ_STR(str(res, "loadResp.value"), "def");
    CHECK(json_integer_value(get(res, "loadResp.createdAt")) > 1700000000000LL);
    CHECK(json_is_true(get(res, "deleteResp")));
    for (it = json_object_iter(res); it; it = json_object_iter_next(res, it), i++) {
        k = json_object_iter_key(it);
        if (i < 4)
            CHECK_EQ_STR(k, order[i]);
    }
    CHECK_EQ_INT(i, 4);
    json_decref(r);

    /* size counts every key under the prefix; the value goes through
     * String(), so numbers are stored as strings */
    APP_CALL(app, ah_cache_app_save, "other", v, 0);
    r = testkit_run_action(app, "cacheTest", "{\"key\": \"num\", \"value\": 12345}");
    CHECK_EQ_INT(json_integer_value(get(r, "cacheTestResults.sizeResp")), 2);
    CHECK_EQ_STR(str(r, "cacheTestResults.loadResp.value"), "12345");
    json_decref(r);

    /* the entry is gone afterwards */
    r = testkit_run_action(app, "cacheTest", "{\"key\": \"num\", \"value\": \"again\"}");
    CHECK_EQ_INT(json_integer_value(get(r, "cacheTestResults.sizeResp")), 2);
    json_decref(r);

    /* inputs */
    r = testkit_run_action(app, "cacheTest", "{\"value\": \"def\"}");
    CHECK_EQ_STR(str(r, "error"), "Error: key is a required parameter for this action");
    json_decref(r);
    r = testkit_run_action(app, "cacheTest", "{\"key\": \"ab\", \"value\": \"def\"}");
    CHECK_EQ_STR(str(r, "error"), "Error: inputs should be at least 3 letters long");
    json_decref(r);

    /* a key locked by another server: save throws "Object locked" */
    ah_cache_override_lock_name(app, "someone-else");
    APP_CALL(app, ah_cache_app_lock, "cacheTest_locked", 10000);
    ah_cache_override_lock_name(app, NULL);
    r = testkit_run_action(app, "cacheTest", "{\"key\": \"locked\", \"value\": \"def\"}");
    CHECK_EQ_STR(str(r, "error"), "Error: Object locked");
    CHECK(get(r, "cacheTestResults") == NULL);
    json_decref(r);
    json_decref(v);
    printf("%s - cacheTest on the %s backend\n", check_failed == before ? "ok" : "not ok", label);
}

int main(void)
{
    ah_app_t *app;
    json_t *r;

    app = testkit_app_new();
    suite(app, "memory");
    CHECK_EQ_INT(testkit_app_free(app), 0);

    if (!test_redis_available()) {
        printf("not ok - redis-server is not installed: cacheTest on Redis was not tested "
               "(make test installs it)\n");
        return 1;
    }
    if (!test_redis_start(&rs, 0)) {
        printf("not ok - could not start redis-server\n");
        return 1;
    }
    app = testkit_app_new_with(use_redis, &rs.port);
    suite(app, "redis");
    {
        char *out = test_redis_cli(&rs, "KEYS 'actionhero:*'");

        /* only "other" and the lock are left behind */
        CHECK(out && strstr(out, "actionhero:cache:other") && strstr(out, "actionhero:lock:cacheTest_locked"));
        CHECK(out && !strstr(out, "cacheTest_abc"));
        free(out);
    }
    test_redis_stop(&rs);
    r = testkit_run_action(app, "cacheTest", "{\"key\": \"abc\", \"value\": \"def\"}");
    CHECK_EQ_STR(str(r, "error"), "Error: redis not connected, cache cannot be used");
    json_decref(r);
    CHECK(test_redis_start(&rs, rs.port));
    {
        int i;

        for (i = 0; i < 300 && !store_ready(store_get(app), STORE_CLIENT); i++)
            test_run_for(app->loop, 10);
    }
    r = testkit_run_action(app, "cacheTest", "{\"key\": \"abc\", \"value\": \"def\"}");
    CHECK(json_is_true(get(r, "cacheTestResults.deleteResp")));
    json_decref(r);
    CHECK_EQ_INT(testkit_app_free(app), 0);
    test_redis_cleanup(&rs);
    return check_done();
}
