/*
 * validation_test.c - the `validationTest` action (builtin.md §1.7): a
 * required string checked by a validator, and a `number` whose formatter
 * throws for 123 and whose validator throws for every number (on purpose:
 * it exercises both error paths).
 */
#include <ah/ah.h>

#include "dispatch/dispatch.h"

static const char *string_validator(ah_ctx_t *ctx, const char *name, json_t *value)
{
    (void)ctx;
    (void)name;
    return json_is_string(value) ? AH_VALID : AH_INVALID;
}

static json_t *number_formatter(ah_ctx_t *ctx, const char *name, json_t *value)
{
    json_t *n = ah_format_integer(ctx, name, value);

    if (json_is_integer(n) && json_integer_value(n) == 123) {
        json_decref(n);
        ah_fail(ctx, AH_EINVAL, "Failed formatting %s correctly!", name);
        return NULL;
    }
    return n;
}

static const char *number_validator(ah_ctx_t *ctx, const char *name, json_t *value)
{
    /* typeof param === "number": NaN (stored as a marked null) included */
    if (json_is_number(value) || (json_is_null(value) && dispatch_param_is_nan(ctx, name))) {
        ah_fail(ctx, AH_EINVAL, "Param %s is not a valid number!", name);
        return AH_INVALID;
    }
    return AH_VALID_STOP; /* returns nothing: pass and stop */
}

static int run(ah_ctx_t *ctx)
{
    json_t *res = ah_response(ctx);
    json_t *s = ah_param(ctx, "string"), *n = ah_param(ctx, "number");

    json_object_set(res, "string", s ? s : json_null());
    if (n)
        json_object_set(res, "number", n);
    return AH_DONE;
}

static const ah_input_t inputs[] = {
    {.name = "string", .required = true, .validate = string_validator},
    {.name = "number", .format = number_formatter, .validate = number_validator},
    {0},
};

AH_ACTION(validation_test) = {
    .name = "validationTest",
    .description = "I will test action input validators.",
    .inputs = inputs,
    .output_example = "{\"string\": \"imAString!\", \"number\": 2}",
    .run = run,
};
