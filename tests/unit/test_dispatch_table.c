/*
 * test_dispatch_table.c - the action table (actions.md §1, §2): load-time
 * validation messages, duplicate name+version, versions as string keys
 * and the "latest" quirk, the post-variable list, version rendering and
 * JS number text.
 */
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "check.h"
#include "dispatch/dispatch.h"
#include "testkit/testkit.h"

static int run_ok(ah_ctx_t *ctx)
{
    (void)ctx;
    return AH_DONE;
}

static int run_other(ah_ctx_t *ctx)
{
    json_object_set_new(ah_response(ctx), "other", json_true());
    return AH_DONE;
}

static const ah_input_t reserved_inputs[] = {
    {.name = "fine"},
    {.name = "callback"},
    {0},
};

static const ah_input_t bad_default[] = {
    {.name = "x", .default_json = "{nope"},
    {0},
};

static const ah_input_t new_inputs[] = {
    {.name = "brandNewInput"},
    {0},
};

static const ah_action_t no_name = {.run = run_ok};
static const ah_action_t empty_name = {.name = "", .run = run_ok};
static const ah_action_t no_run = {.name = "noRun"};
static const ah_action_t verb_name = {.name = "roomAdd", .run = run_ok};
static const ah_action_t verb_name2 = {.name = "paramsView", .run = run_ok};
static const ah_action_t reserved = {.name = "reservedInput", .inputs = reserved_inputs, .run = run_ok};
static const ah_action_t bad_dflt = {.name = "badDefault", .inputs = bad_default, .run = run_ok};
static const ah_action_t dup_action = {.name = "randomNumber", .version = "1", .run = run_other};
static const ah_action_t skipped = {.name = "versionTest", .version = "7"}; /* no run */
static const ah_action_t extra = {.name = "extraAction", .version = "1.5", .inputs = new_inputs, .run = run_ok};

static void expect_fail(ah_app_t *app, const ah_action_t *a, const char *msg)
{
    app->fail_msg[0] = '\0';
    CHECK(dispatch_load_action(app, a, "tests/unit/x.c") < 0);
    CHECK_EQ_STR(app->fail_msg, msg);
}

static void test_validation(ah_app_t *app)
{
    size_t before = dispatch_count(app);

    expect_fail(app, &no_name, "name is required for this action");
    expect_fail(app, &empty_name, "name is required for this action");
    expect_fail(app, &no_run, "action `noRun` has no run method");
    expect_fail(app, &verb_name, "action `roomAdd` is a reserved verb for connections. choose a new name");
    expect_fail(app, &verb_name2, "action `paramsView` is a reserved verb for connections. choose a new name");
    expect_fail(app, &reserved, "input `callback` in action `reservedInput` is a reserved param");
    app->fail_msg[0] = '\0';
    CHECK(dispatch_load_action(app, &bad_dflt, "tests/unit/x.c") < 0);
    CHECK(strstr(app->fail_msg, "default of input `x` in action `badDefault` is not valid JSON") != NULL);
    /* a bad definition of a name that already has a version is skipped */
    app->fail_msg[0] = '\0';
    CHECK_EQ_INT(dispatch_load_action(app, &skipped, "tests/unit/x.c"), 0);
    CHECK_EQ_STR(app->fail_msg, "");
    CHECK(dispatch_find(app, "versionTest", "7") == NULL);
    CHECK_EQ_INT(dispatch_count(app), before);
    CHECK(dispatch_find(app, "noRun", NULL) == NULL);
}

static void test_duplicate(ah_app_t *app)
{
    size_t before = dispatch_count(app);
    json_t *r;

    /* same name and version: the later one wins (a warning is logged) */
    CHECK_EQ_INT(dispatch_load_action(app, &dup_action, "tests/unit/dup.c"), 0);
    CHECK_EQ_INT(dispatch_count(app), before);
    CHECK(dispatch_find(app, "randomNumber", "1") == &dup_action);
    r = testkit_run_action(app, "randomNumber", NULL);
    CHECK(json_is_true(json_object_get(r, "other")));
    json_decref(r);
}

static void test_versions(ah_app_t *app)
{
    const ah_action_t *a;
    json_t *v;

    CHECK_EQ_STR(dispatch_latest_version(app, "versionTest"), "2");
    CHECK_EQ_STR(dispatch_latest_version(app, "versionString"), "three");
    CHECK(dispatch_latest_version(app, "nope") == NULL);
    a = dispatch_find(app, "versionTest", NULL);
    CHECK_EQ_STR(a->version, "2");
    CHECK_EQ_STR(dispatch_find(app, "versionTest", "10")->version, "10");
    CHECK(dispatch_find(app, "versionTest", "3") == NULL);
    /* swagger's pick: JS object key order, so 10 is last */
    CHECK_EQ_STR(dispatch_find_last_key(app, "versionTest")->version, "10");
    CHECK_EQ_STR(dispatch_find_last_key(app, "versionString")->version, "three");

    v = dispatch_version_json(a);
    CHECK(json_is_integer(v) && json_integer_value(v) == 2);
    json_decref(v);
    v = dispatch_version_json(dispatch_find(app, "versionString", "three"));
    CHECK_EQ_STR(json_string_value(v), "three");
    json_decref(v);
    v = dispatch_version_json(dispatch_find(app, "randomNumber", NULL)); /* default "1" */
    CHECK(json_is_integer(v) && json_integer_value(v) == 1);
    json_decref(v);

    CHECK_EQ_INT(dispatch_load_action(app, &extra, "tests/unit/extra.c"), 0);
    v = dispatch_version_json(&extra);
    CHECK(json_is_real(v) && json_real_value(v) == 1.5);
    json_decref(v);
    {
        static const ah_action_t lead = {.name = "lead0", .version = "01", .run = run_ok};

        v = dispatch_version_json(&lead); /* "01" is not a JS number's text */
        CHECK_EQ_STR(json_string_value(v), "01");
        json_decref(v);
    }
}

static void test_post_variables(ah_app_t *app)
{
    const char *const *list;
    size_t n = dispatch_post_variables(app, &list), i;
    const char *safe[] = {"file", "apiVersion", "callback", "action", "messageId"};

    CHECK(n > 5);
    for (i = 0; i < 5; i++)
        CHECK_EQ_STR(list[i], safe[i]);
    CHECK(dispatch_is_post_variable(app, "sleepDuration"));
    CHECK(dispatch_is_post_variable(app, "key"));
    CHECK(dispatch_is_post_variable(app, "obj"));
    CHECK(!dispatch_is_post_variable(app, "a")); /* nested inputs are not */
    CHECK(!dispatch_is_post_variable(app, "brandNewInput"));
    dispatch_build_post_variables(app);
    CHECK(dispatch_is_post_variable(app, "brandNewInput"));
    /* no duplicates */
    n = dispatch_post_variables(app, &list);
    for (i = 0; i < n; i++) {
        size_t j;

        for (j = i + 1; j < n; j++)
            CHECK(strcmp(list[i], list[j]) != 0);
    }
}

static void test_number_text(void)
{
    struct {
        double v;
        const char *want;
    } cases[] = {
        {0.1727163797747333, "0.1727163797747333"}, {0.5, "0.5"}, {1, "1"}, {-2.5, "-2.5"},
        {1e21, "1e+21"}, {1e20, "100000000000000000000"}, {1.5e-7, "1.5e-7"}, {0.000001, "0.000001"},
        {123.456, "123.456"}, {0.1 + 0.2, "0.30000000000000004"}, {5e-324, "5e-324"},
        {1.7976931348623157e308, "1.7976931348623157e+308"}, {0, "0"},
    };
    size_t i;
    char out[32];

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        dispatch_number_text(cases[i].v, out);
        CHECK_EQ_STR(out, cases[i].want);
    }
}

int main(void)
{
    ah_app_t *app = testkit_app_new();

    test_validation(app);
    test_duplicate(app);
    test_versions(app);
    test_post_variables(app);
    test_number_text();
    CHECK_EQ_INT(testkit_app_free(app), 0);
    return check_done();
}
