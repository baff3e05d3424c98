/*
 * test_dispatch_inputs.c - params handling (actions.md §3, §6): scrubbing,
 * defaults, formatters (also on defaults), validators and their results,
 * the required check and missingParamChecks, nested schemas, the stock
 * formatters, and validationTest / cacheTest / createChatRoom inputs.
 */
#include <math.h>
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

static const char *err(json_t *r)
{
    return str(r, "error");
}

#define BASE "\"required\": 1, \"stopper\": \"x\""

static void test_required(ah_app_t *app)
{
    json_t *r;

    r = testkit_run_action(app, "inputsTest", NULL);
    CHECK_EQ_STR(err(r), "Error: required is a required parameter for this action");
    CHECK_EQ_INT(testkit_last(app)->action_status, AH_STATUS_MISSING_PARAMS);
    json_decref(r);
    /* null and "" are missing; false, 0 and [] are not */
    r = testkit_run_action(app, "inputsTest", "{\"required\": null, \"stopper\": 1}");
    CHECK_EQ_STR(err(r), "Error: required is a required parameter for this action");
    json_decref(r);
    r = testkit_run_action(app, "inputsTest", "{\"required\": \"\", \"stopper\": 1}");
    CHECK_EQ_STR(err(r), "Error: required is a required parameter for this action");
    json_decref(r);
    r = testkit_run_action(app, "inputsTest", "{\"required\": false, \"stopper\": 1}");
    CHECK(err(r) == NULL);
    CHECK(json_is_false(get(r, "params.required")));
    json_decref(r);
    r = testkit_run_action(app, "inputsTest", "{\"required\": 0, \"stopper\": 1}");
    CHECK(err(r) == NULL);
    json_decref(r);
    r = testkit_run_action(app, "inputsTest", "{\"required\": [], \"stopper\": 1}");
    CHECK(err(r) == NULL);
    json_decref(r);
    /* the first missing name is the one reported */
    r = testkit_run_action(app, "inputsTest", "{\"required\": 1}");
    CHECK_EQ_STR(err(r), "Error: stopper is a required parameter for this action");
    json_decref(r);
    /* quirk: a validator returning "nothing" on "" skips the required check */
    r = testkit_run_action(app, "inputsTest", "{\"required\": 1, \"stopper\": \"\"}");
    CHECK(err(r) == NULL);
    CHECK_EQ_STR(str(r, "params.stopper"), "");
    json_decref(r);
    /* missing params win over validator errors */
    r = testkit_run_action(app, "inputsTest", "{\"checked\": \"bad\"}");
    CHECK_EQ_STR(err(r), "Error: required is a required parameter for this action");
    json_decref(r);
    /* missingParamChecks from the config: only null now */
    testkit_config_set(app, "general.missingParamChecks", json_pack("[n]"));
    r = testkit_run_action(app, "inputsTest", "{\"required\": \"\", \"stopper\": 1}");
    CHECK(err(r) == NULL);
    json_decref(r);
    r = testkit_run_action(app, "inputsTest", "{\"required\": null, \"stopper\": 1}");
    CHECK_EQ_STR(err(r), "Error: required is a required parameter for this action");
    json_decref(r);
    testkit_config_set(app, "general.missingParamChecks", json_pack("[n,s,i]", "", 0));
    r = testkit_run_action(app, "inputsTest", "{\"required\": 0, \"stopper\": 1}");
    CHECK_EQ_STR(err(r), "Error: required is a required parameter for this action");
    json_decref(r);
    testkit_config_set(app, "general.missingParamChecks", json_pack("[n,s]", ""));
}

static void test_defaults_formatters(ah_app_t *app)
{
    json_t *r, *r2;

    r = testkit_run_action(app, "inputsTest", "{" BASE "}");
    CHECK(err(r) == NULL);
    /* defaults are formatted: "Default" -> lower -> "default!" */
    CHECK_EQ_STR(str(r, "params.withDefault"), "default!");
    CHECK_EQ_STR(str(r, "params.withFnDefault"), "computed");
    CHECK_EQ_INT(json_integer_value(json_array_get(get(r, "params.objDefault.a"), 1)), 2);
    /* receivedParams show the processed params */
    CHECK_EQ_STR(str(r, "requesterInformation.receivedParams.withDefault"), "default!");
    /* an object default is a fresh copy each time */
    json_object_set_new(get(r, "params.objDefault"), "mutated", json_true());
    r2 = testkit_run_action(app, "inputsTest", "{" BASE "}");
    CHECK(get(r2, "params.objDefault.mutated") == NULL);
    json_decref(r);
    json_decref(r2);

    /* null and "" are not replaced by the default, but are formatted */
    r = testkit_run_action(app, "inputsTest", "{" BASE ", \"withDefault\": null, \"withFnDefault\": \"\"}");
    CHECK_EQ_STR(str(r, "params.withDefault"), "null!");
    CHECK_EQ_STR(str(r, "params.withFnDefault"), "");
    json_decref(r);
    r = testkit_run_action(app, "inputsTest", "{" BASE ", \"withDefault\": \"ABC\"}");
    CHECK_EQ_STR(str(r, "params.withDefault"), "abc!");
    json_decref(r);

    /* stock parseFloat / parseInt formatters */
    r = testkit_run_action(app, "inputsTest", "{" BASE ", \"number\": \" 3.5e1abc\", \"integer\": \"0x1A\"}");
    CHECK(fabs(json_number_value(get(r, "params.number")) - 35) < 1e-9);
    CHECK_EQ_INT(json_integer_value(get(r, "params.integer")), 26);
    json_decref(r);
    r = testkit_run_action(app, "inputsTest", "{" BASE ", \"number\": \"abc\", \"integer\": \"-12.9px\"}");
    CHECK(json_is_null(get(r, "params.number"))); /* NaN shows as null */
    CHECK_EQ_INT(json_integer_value(get(r, "params.integer")), -12);
    json_decref(r);
    r = testkit_run_action(app, "inputsTest", "{" BASE ", \"integer\": \"x\"}");
    CHECK_EQ_STR(err(r), "Error: Input for parameter \"integer\" failed validation!");
    json_decref(r);
}

static void test_validators(ah_app_t *app)
{
    json_t *r;

    /* every validator runs; the first error is the one reported */
    r = testkit_run_action(app, "inputsTest", "{" BASE ", \"checked\": \"bad\"}");
    CHECK_EQ_STR(err(r), "Error: checked is bad");
    CHECK_EQ_INT(testkit_last(app)->action_status, AH_STATUS_VALIDATOR_ERRORS);
    json_decref(r);
    r = testkit_run_action(app, "inputsTest", "{" BASE ", \"checked\": \"good\"}");
    CHECK(err(r) == NULL);
    json_decref(r);
    /* a validator that "throws" (ah_fail) records its message */
    r = testkit_run_action(app, "inputsTest", "{" BASE ", \"thrower\": 1}");
    CHECK_EQ_STR(err(r), "Error: validator for thrower threw");
    json_decref(r);
    /* errors from all inputs are collected: the first input's comes first */
    r = testkit_run_action(app, "inputsTest", "{" BASE ", \"thrower\": 1, \"checked\": \"bad\"}");
    CHECK_EQ_STR(err(r), "Error: checked is bad");
    json_decref(r);
}

static void test_scrubbing(ah_app_t *app)
{
    json_t *r;

    r = testkit_run_action(app, "inputsTest", "{" BASE ", \"extra\": 1, \"callback\": \"cb\", \"messageId\": \"m1\"}");
    CHECK(get(r, "params.extra") == NULL);
    CHECK_EQ_STR(str(r, "params.callback"), "cb");       /* safe params stay */
    CHECK_EQ_STR(str(r, "params.messageId"), "m1");
    CHECK_EQ_STR(str(r, "messageId"), "m1");             /* and give the id */
    json_decref(r);
    testkit_config_set(app, "general.disableParamScrubbing", json_true());
    r = testkit_run_action(app, "inputsTest", "{" BASE ", \"extra\": 1}");
    CHECK_EQ_INT(json_integer_value(get(r, "params.extra")), 1);
    json_decref(r);
    r = testkit_run_action(app, "schemaTest", "{\"obj\": {\"a\": 1, \"extra\": 2}}");
    CHECK_EQ_INT(json_integer_value(get(r, "params.obj.extra")), 2);
    json_decref(r);
    testkit_config_set(app, "general.disableParamScrubbing", json_false());
}

static void test_schema(ah_app_t *app)
{
    json_t *r;

    r = testkit_run_action(app, "schemaTest", "{\"obj\": {\"a\": 1, \"extra\": 2}}");
    CHECK(err(r) == NULL);
    CHECK(get(r, "params.obj.extra") == NULL);           /* nested scrubbing */
    CHECK_EQ_INT(json_integer_value(get(r, "params.obj.b")), 5); /* nested default */
    json_decref(r);
    r = testkit_run_action(app, "schemaTest", "{\"obj\": {}}");
    CHECK_EQ_STR(err(r), "Error: obj.a is a required parameter for this action");
    json_decref(r);
    r = testkit_run_action(app, "schemaTest", "{\"obj\": {\"a\": 1, \"c\": {\"x\": 1}}}");
    CHECK_EQ_STR(err(r), "Error: obj.c.d is a required parameter for this action");
    CHECK(get(r, "requesterInformation.receivedParams.obj.c.x") == NULL);
    json_decref(r);
    r = testkit_run_action(app, "schemaTest", "{\"obj\": {\"a\": 1, \"c\": {\"d\": 0}}}");
    CHECK(err(r) == NULL);
    json_decref(r);
    /* a truthy non-object: nested inputs are absent */
    r = testkit_run_action(app, "schemaTest", "{\"obj\": \"text\"}");
    CHECK_EQ_STR(err(r), "Error: obj.a is a required parameter for this action");
    json_decref(r);
    /* absent parent: only the parent is missing */
    r = testkit_run_action(app, "schemaTest", NULL);
    CHECK_EQ_STR(err(r), "Error: obj is a required parameter for this action");
    json_decref(r);
}

static void test_validation_action(ah_app_t *app)
{
    json_t *r;

    r = testkit_run_action(app, "validationTest", "{\"string\": \"hello\"}");
    CHECK(err(r) == NULL);
    CHECK_EQ_STR(str(r, "string"), "hello");
    CHECK(get(r, "number") == NULL);
    json_decref(r);
    r = testkit_run_action(app, "validationTest", NULL);
    CHECK_EQ_STR(err(r), "Error: string is a required parameter for this action");
    json_decref(r);
    r = testkit_run_action(app, "validationTest", "{\"string\": 87}");
    CHECK_EQ_STR(err(r), "Error: Input for parameter \"string\" failed validation!");
    json_decref(r);
    /* a throwing formatter: a generic error with its message */
    r = testkit_run_action(app, "validationTest", "{\"string\": \"s\", \"number\": \"123\"}");
    CHECK_EQ_STR(err(r), "Error: Failed formatting number correctly!");
    CHECK_EQ_INT(testkit_last(app)->action_status, AH_STATUS_GENERIC_ERROR);
    json_decref(r);
    r = testkit_run_action(app, "validationTest", "{\"string\": \"s\", \"number\": 7}");
    CHECK_EQ_STR(err(r), "Error: Param number is not a valid number!");
    CHECK_EQ_INT(testkit_last(app)->action_status, AH_STATUS_VALIDATOR_ERRORS);
    json_decref(r);
    /* NaN is a number too */
    r = testkit_run_action(app, "validationTest", "{\"string\": \"s\", \"number\": \"abc\"}");
    CHECK_EQ_STR(err(r), "Error: Param number is not a valid number!");
    json_decref(r);

    r = testkit_run_action(app, "cacheTest", "{\"key\": \"k\", \"value\": \"abcdef\"}");
    CHECK_EQ_STR(err(r), "Error: inputs should be at least 3 letters long");
    json_decref(r);
    r = testkit_run_action(app, "cacheTest", "{\"value\": \"abcdef\"}");
    CHECK_EQ_STR(err(r), "Error: key is a required parameter for this action");
    json_decref(r);
    r = testkit_run_action(app, "cacheTest", "{\"key\": 12345, \"value\": \"abcdef\"}");
    CHECK_EQ_STR(str(r, "requesterInformation.receivedParams.key"), "12345"); /* String() */
    json_decref(r);
    r = testkit_run_action(app, "createChatRoom", NULL);
    CHECK_EQ_STR(err(r), "Error: name is a required parameter for this action");
    json_decref(r);
}

static void test_js_string(void)
{
    struct {
        const char *json;
        const char *want;
    } cases[] = {
        {"\"abc\"", "abc"}, {"12", "12"}, {"1.5", "1.5"}, {"true", "true"}, {"null", "null"},
        {"[1, null, \"a\", [2, 3]]", "1,,a,2,3"}, {"{\"a\": 1}", "[object Object]"}, {"1e21", "1e+21"},
        {"0.000001", "0.000001"}, {"1e-7", "1e-7"}, {"123456789012345680000.0", "123456789012345680000"},
        {"-0.1", "-0.1"}, {"0.1", "0.1"},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *v = json_loads(cases[i].json, JSON_DECODE_ANY, NULL);
        char *s = dispatch_js_string(v);

        CHECK_EQ_STR(s, cases[i].want);
        free(s);
        json_decref(v);
    }
}

int main(void)
{
    ah_app_t *app = testkit_app_new();

    test_required(app);
    test_defaults_formatters(app);
    test_validators(app);
    test_scrubbing(app);
    test_schema(app);
    test_validation_action(app);
    test_js_string();
    CHECK_EQ_INT(testkit_app_free(app), 0);
    return check_done();
}
