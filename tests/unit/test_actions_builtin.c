/*
 * test_actions_builtin.c - the built-in actions through the specHelper
 * (builtin.md §1, §3).
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dispatch/dispatch.h"
#include "testkit/testkit.h"

static json_t *get(json_t *o, const char *path)
{
    char buf[256], *p, *save = NULL;

    snprintf(buf, sizeof(buf), "%s", path);
    for (p = strtok_r(buf, ".", &save); p && o; p = strtok_r(NULL, ".", &save))
        o = json_object_get(o, p);
    return o;
}

static const char *str(json_t *o, const char *path)
{
    return json_string_value(get(o, path));
}

static void test_random_number(ah_app_t *app)
{
    json_t *r = testkit_run_action(app, "randomNumber", NULL);
    double n;
    char want[80];
    const char *keys[] = {"randomNumber", "stringRandomNumber", "messageId", "serverInformation",
                          "requesterInformation"};
    const char *k;
    json_t *v;
    size_t i = 0;

    CHECK(r != NULL);
    CHECK(json_is_real(get(r, "randomNumber")));
    n = json_real_value(get(r, "randomNumber"));
    CHECK(n >= 0 && n < 1);
    CHECK(strncmp(str(r, "stringRandomNumber"), "Your random number is ", 22) == 0);
    CHECK_EQ_INT(strtod(str(r, "stringRandomNumber") + 22, NULL) == n, 1);
    (void)want;
    json_object_foreach(r, k, v) {
        if (i < 5)
            CHECK_EQ_STR(k, keys[i]);
        i++;
    }
    CHECK_EQ_INT(i, 5);
    CHECK_EQ_STR(str(r, "serverInformation.serverName"), "actionhero");
    CHECK(str(r, "serverInformation.apiVersion") != NULL);
    CHECK_EQ_STR(str(r, "requesterInformation.remoteIP"), "testServer");
    CHECK_EQ_STR(str(r, "requesterInformation.receivedParams.action"), "randomNumber");
    CHECK_EQ_INT(json_integer_value(get(r, "requesterInformation.receivedParams.apiVersion")), 1);
    CHECK_EQ_INT(strlen(str(r, "messageId")), 36);
    json_decref(r);
}

static void test_status(ah_app_t *app)
{
    json_t *r = testkit_run_action(app, "status", NULL);
    const char *keys[] = {"id", "actionheroVersion", "name", "description", "version", "uptime",
                          "consumedMemoryMB", "resqueTotalQueueLength", "nodeStatus", "problems"};
    const char *k;
    json_t *v;
    size_t i = 0;

    CHECK(r != NULL);
    json_object_foreach(r, k, v) {
        if (i < 10)
            CHECK_EQ_STR(k, keys[i]);
        i++;
    }
    CHECK_EQ_STR(str(r, "actionheroVersion"), "29.3.5");
    CHECK_EQ_STR(str(r, "nodeStatus"), "Node Healthy");
    CHECK_EQ_INT(json_array_size(get(r, "problems")), 0);
    CHECK(json_is_number(get(r, "consumedMemoryMB")));
    CHECK(json_number_value(get(r, "consumedMemoryMB")) > 0);
    CHECK_EQ_INT(json_integer_value(get(r, "resqueTotalQueueLength")), 0);
    json_decref(r);

    setenv("maxMemoryAlloted", "0", 1);
    r = testkit_run_action(app, "status", NULL);
    CHECK_EQ_STR(str(r, "nodeStatus"), "Node Unhealthy");
    CHECK_EQ_STR(json_string_value(json_array_get(get(r, "problems"), 0)), "Using more than 0 MB of RAM/HEAP");
    json_decref(r);
    unsetenv("maxMemoryAlloted");
}

static void test_sleep(ah_app_t *app)
{
    json_t *r = testkit_run_action(app, "sleepTest", "{\"sleepDuration\": \"20\"}");
    const struct testkit_last *last = testkit_last(app);

    CHECK(r != NULL);
    CHECK_EQ_INT(last->action_status, 0);
    CHECK_EQ_INT(json_integer_value(get(r, "sleepDuration")), 20);
    CHECK_EQ_INT(json_integer_value(get(r, "sleepDelta")),
                 json_integer_value(get(r, "sleepEnded")) - json_integer_value(get(r, "sleepStarted")));
    CHECK_EQ_INT(json_integer_value(get(r, "requesterInformation.receivedParams.sleepDuration")), 20);
    json_decref(r);

    /* v29: "" gets no default, parseInt("") is NaN, NaN is not "missing":
     * the action runs (1 ms) and JSON shows NaN as null */
    r = testkit_run_action(app, "sleepTest", "{\"sleepDuration\": \"\"}");
    CHECK(r && get(r, "error") == NULL);
    CHECK(json_is_null(get(r, "sleepDuration")));
    json_decref(r);

    /* absent: the default function gives 1000 (formatted by parseInt) */
    r = testkit_run_action(app, "sleepTest", "{\"sleepDuration\": \"5 ms\"}");
    CHECK_EQ_INT(json_integer_value(get(r, "sleepDuration")), 5);
    json_decref(r);
}

static void test_unknown(ah_app_t *app)
{
    json_t *r = testkit_run_action(app, "nope", NULL);

    CHECK_EQ_STR(str(r, "error"), "Error: unknown action or invalid apiVersion");
    CHECK(json_is_null(get(r, "requesterInformation.receivedParams.apiVersion")));
    CHECK_EQ_STR(str(r, "requesterInformation.receivedParams.action"), "nope");
    json_decref(r);
    r = testkit_run_action(app, "randomNumber", "{\"apiVersion\": 7}");
    CHECK_EQ_STR(str(r, "error"), "Error: unknown action or invalid apiVersion");
    json_decref(r);
}

/* actions/swagger.c */
struct swagger_route {
    const char *method;
    const char *path;
    const char *action;
};
json_t *swagger_paths(ah_ctx_t *ctx, const struct swagger_route *routes, size_t n);

static json_t *paths_result;

static int run_paths(ah_ctx_t *ctx)
{
    static const struct swagger_route routes[] = {
        {"all", "/status", "status"},
        {"get", "/status", "status"},
        {"get", "/v:apiVersion/sleep/:sleepDuration", "sleepTest"},
        {"get", "/users/:id(^\\d+$)/x", "cacheTest"},
        {"post", "/cache/:key", "cacheTest"},
        {"get", "/missing", "noSuchAction"},
        {"get", "/versions", "versionTest"},
    };

    paths_result = swagger_paths(ctx, routes, sizeof(routes) / sizeof(routes[0]));
    return AH_DONE;
}

static const ah_action_t paths_action = {.name = "swaggerPathsProbe", .run = run_paths};

static void test_swagger(ah_app_t *app)
{
    json_t *r = testkit_run_action(app, "swagger", NULL), *p, *op, *params;
    const char *keys[] = {"swagger", "info", "host", "basePath", "schemes", "paths", "securityDefinitions",
                          "externalDocs"};
    const char *k;
    json_t *v;
    size_t i = 0;

    json_object_foreach(r, k, v) {
        if (i < 8)
            CHECK_EQ_STR(k, keys[i]);
        i++;
    }
    CHECK_EQ_STR(str(r, "swagger"), "2.0");
    /* the test environment listens on 18080 (config.md: PORT or 18080 + JEST_WORKER_ID) */
    CHECK_EQ_STR(str(r, "host"), "localhost:18080");
    CHECK_EQ_STR(str(r, "basePath"), "/api/");
    CHECK_EQ_INT(json_array_size(get(r, "schemes")), 1);
    CHECK_EQ_STR(str(r, "externalDocs.url"), "https://www.actionherojs.com");
    CHECK_EQ_STR(str(r, "info.title"), "actionhero");
    json_decref(r);

    testkit_config_set(app, "web.allowedRequestHosts", json_pack("[s]", "https://api.example.com"));
    r = testkit_run_action(app, "swagger", NULL);
    CHECK_EQ_STR(str(r, "host"), "api.example.com");
    CHECK_EQ_STR(json_string_value(json_array_get(get(r, "schemes"), 0)), "https");
    CHECK_EQ_INT(json_array_size(get(r, "schemes")), 2);
    json_decref(r);
    testkit_config_set(app, "web.allowedRequestHosts", json_array());

    /* the paths builder on a synthetic route table */
    CHECK_EQ_INT(dispatch_load_action(app, &paths_action, "tests/unit/x.c"), 0);
    json_decref(testkit_run_action(app, "swaggerPathsProbe", NULL));
    p = paths_result;
    CHECK(json_object_get(p, "/missing") == NULL);
    CHECK_EQ_INT(json_object_size(p), 5);
    op = json_object_get(p, "/status");
    CHECK(json_object_get(op, "all") != NULL && json_object_get(op, "get") != NULL);
    CHECK_EQ_STR(str(json_object_get(op, "get"), "summary"), "I will return some basic information about the API");
    op = json_object_get(json_object_get(p, "/sleep/{sleepDuration}"), "get");
    CHECK(op != NULL);
    params = json_object_get(op, "parameters");
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(params, 0), "in")), "path");
    CHECK(json_is_true(json_object_get(json_array_get(params, 0), "required")));
    CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(params, 0), "default")), 1000);
    CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(op, "tags"), 0)), "sleepTest");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(json_object_get(op, "responses"), "422"),
                                                   "description")),
                 "Missing or invalid params");
    /* a regex constraint stays after the {name} */
    CHECK(json_object_get(p, "/users/{id}(^\\d+$)/x") != NULL);
    op = json_object_get(json_object_get(p, "/cache/{key}"), "post");
    params = json_object_get(op, "parameters");
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(params, 0), "name")), "key"); /* sorted */
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(params, 0), "in")), "path");
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(params, 1), "name")), "value");
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(params, 1), "in")), "query");
    CHECK(json_object_get(json_array_get(params, 1), "default") == NULL);
    CHECK(json_object_get(json_object_get(p, "/versions"), "get") != NULL);
    json_decref(paths_result);
}

static void test_others(ah_app_t *app)
{
    ah_connection_t *c = testkit_connection_new(app);
    json_t *r;

    /* sendFile: no rendered response, params.file set */
    r = testkit_run_action_on(c, "sendFile");
    CHECK(r == NULL);
    CHECK(testkit_last(app)->completed);
    CHECK(!testkit_last(app)->rendered);
    CHECK_EQ_STR(json_string_value(json_object_get(c->params, "file")), "logo/actionhero.png");
    ah_connection_destroy(c);

    r = testkit_run_action(app, "createChatRoom", "{\"name\": \"room\"}");
    CHECK_EQ_STR(str(r, "name"), "room");
    CHECK(json_is_true(get(r, "didCreate")));
    json_decref(r);
    r = testkit_run_action(app, "createChatRoom", "{\"name\": \"room\"}");
    CHECK(json_is_false(get(r, "didCreate")));
    json_decref(r);
    r = testkit_run_action(app, "cacheTest", "{\"key\": \"abc\", \"value\": \"def\"}");
    CHECK(str(r, "error") == NULL); /* the details: test_cache_action.c */
    json_decref(r);
    r = testkit_run_action(app, "recursiveAction", NULL);
    CHECK(json_is_true(get(r, "local")));
    CHECK(json_is_real(get(r, "randomNumber")));
    json_decref(r);
}

int main(void)
{
    ah_app_t *app = testkit_app_new();

    test_random_number(app);
    test_status(app);
    test_sleep(app);
    test_unknown(app);
    test_swagger(app);
    test_others(app);
    CHECK_EQ_INT(testkit_app_free(app), 0);
    return check_done();
}
