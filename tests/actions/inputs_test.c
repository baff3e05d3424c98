/*
 * inputs_test.c - test actions for params handling (actions.md §3, §6):
 * defaults (value and function), formatter lists (also on defaults),
 * validator results, the required check and nested schemas.  Each answers
 * {params: <what run saw>}.
 */
#include <string.h>

#include <ah/ah.h>

static int run_echo(ah_ctx_t *ctx)
{
    json_object_set(ah_response(ctx), "params", ah_params(ctx));
    return AH_DONE;
}

static json_t *exclaim(ah_ctx_t *ctx, const char *name, json_t *value)
{
    const char *s = json_string_value(value);

    (void)name;
    return json_string(ah_sprintf(ctx, "%s!", s ? s : "?"));
}

static json_t *fn_default(ah_ctx_t *ctx, const char *name)
{
    (void)ctx;
    (void)name;
    return json_string("Computed");
}

static const char *first_error(ah_ctx_t *ctx, const char *name, json_t *value)
{
    (void)name;
    if (json_is_string(value) && strcmp(json_string_value(value), "bad") == 0)
        return ah_sprintf(ctx, "%s is bad", name);
    return AH_VALID;
}

static const char *always_false(ah_ctx_t *ctx, const char *name, json_t *value)
{
    (void)ctx;
    (void)name;
    if (json_is_string(value) && strcmp(json_string_value(value), "bad") == 0)
        return AH_INVALID;
    return AH_VALID;
}

static const char *stop_on_empty(ah_ctx_t *ctx, const char *name, json_t *value)
{
    (void)ctx;
    (void)name;
    if (json_is_string(value) && json_string_length(value) == 0)
        return AH_VALID_STOP;
    return AH_VALID;
}

static const char *throws(ah_ctx_t *ctx, const char *name, json_t *value)
{
    (void)value;
    ah_fail(ctx, AH_EINVAL, "validator for %s threw", name);
    return AH_VALID;
}

static const ah_format_fn lower_then_exclaim[] = {ah_format_lower, exclaim, NULL};
static const ah_validate_fn two_validators[] = {first_error, always_false, NULL};

static const ah_input_t inputs[] = {
    {.name = "required", .required = true},
    {.name = "withDefault", .default_json = "\"Default\"", .formats = lower_then_exclaim},
    {.name = "withFnDefault", .default_fn = fn_default, .format = ah_format_lower},
    {.name = "objDefault", .default_json = "{\"a\": [1, 2]}"},
    {.name = "checked", .validates = two_validators},
    {.name = "stopper", .required = true, .validate = stop_on_empty},
    {.name = "thrower", .validate = throws},
    {.name = "number", .format = ah_format_number},
    {.name = "integer", .format = ah_format_integer, .validate = ah_valid_integer},
    {0},
};

AH_ACTION(inputs_test) = {.name = "inputsTest", .inputs = inputs, .run = run_echo};

static const ah_input_t deep[] = {
    {.name = "d", .required = true},
    {0},
};

static const ah_input_t nested[] = {
    {.name = "a", .required = true},
    {.name = "b", .default_json = "5"},
    {.name = "c", .schema = deep},
    {0},
};

static const ah_input_t schema_inputs[] = {
    {.name = "obj", .required = true, .schema = nested},
    {0},
};

AH_ACTION(schema_test) = {.name = "schemaTest", .inputs = schema_inputs, .run = run_echo};
