/*
 * error_test.c - test actions for the error paths of actions.md §4.2: an
 * action-set response.error (string or object), a thrown error, string
 * and array responses, blockedConnectionTypes and a debug logLevel.
 */
#include <ah/ah.h>

static int run_set_error(ah_ctx_t *ctx)
{
    json_object_set_new(ah_response(ctx), "partial", json_true());
    ah_set_error(ctx, "custom error %d", 7);
    return AH_DONE;
}

static int run_error_object(ah_ctx_t *ctx)
{
    json_object_set_new(ah_response(ctx), "error", json_pack("{s:i}", "code", 42));
    return AH_DONE;
}

static int run_throw(ah_ctx_t *ctx)
{
    json_object_set_new(ah_response(ctx), "before", json_true());
    return ah_fail(ctx, AH_EFAIL, "thrown in run");
}

static int run_code_only(ah_ctx_t *ctx)
{
    (void)ctx;
    return AH_ENOTFOUND; /* no ah_fail: the code's text is the message */
}

static int run_string(ah_ctx_t *ctx)
{
    ah_set_response(ctx, json_string("just a string"));
    if (ah_param(ctx, "fail"))
        return ah_fail(ctx, AH_EFAIL, "string failed");
    return AH_DONE;
}

static int run_array(ah_ctx_t *ctx)
{
    ah_set_response(ctx, json_pack("[i,i,i]", 1, 2, 3));
    if (ah_param(ctx, "fail"))
        return ah_fail(ctx, AH_EFAIL, "array failed");
    return AH_DONE;
}

static int run_ok(ah_ctx_t *ctx)
{
    json_object_set_new(ah_response(ctx), "ok", json_true());
    return AH_DONE;
}

static const ah_input_t fail_inputs[] = {
    {.name = "fail"},
    {0},
};

static const char *const blocked_types[] = {"websocket", "testServer", NULL};

AH_ACTION(error_set_test) = {.name = "errorSetTest", .run = run_set_error};
AH_ACTION(error_object_test) = {.name = "errorObjectTest", .run = run_error_object};
AH_ACTION(throw_test) = {.name = "throwTest", .run = run_throw};
AH_ACTION(code_only_test) = {.name = "codeOnlyTest", .run = run_code_only};
AH_ACTION(string_response_test) = {.name = "stringResponseTest", .inputs = fail_inputs, .run = run_string};
AH_ACTION(array_response_test) = {.name = "arrayResponseTest", .inputs = fail_inputs, .run = run_array};
AH_ACTION(blocked_test) = {.name = "blockedTest", .blocked_connection_types = blocked_types, .run = run_ok};
AH_ACTION(debug_log_test) = {.name = "debugLogTest", .log_level = "debug", .run = run_ok};
