/*
 * test_actions_builtin.c - the built-in actions through the specHelper
 * (builtin.md §1, §3).
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
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
    CHECK(json_integer_value(get(r, "sleepDelta")) >= 19);
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

int main(void)
{
    ah_app_t *app = testkit_app_new();

    test_random_number(app);
    test_status(app);
    test_sleep(app);
    test_unknown(app);
    CHECK_EQ_INT(testkit_app_free(app), 0);
    return check_done();
}
