/*
 * random_number.c - the `randomNumber` action (builtin.md §1.2): a CSPRNG
 * float in [0, 1) and the same number in words.
 */
#include <stdio.h>

#include <ah/ah.h>

#include "core/json_out.h"

static int run(ah_ctx_t *ctx)
{
    json_t *res = ah_response(ctx);
    double n = ah_random_unit();
    char num[32], text[64];

    json_out_number(n, num); /* shortest round-trip form, as JS prints it */
    snprintf(text, sizeof(text), "Your random number is %s", num);
    json_object_set_new(res, "randomNumber", json_real(n));
    json_object_set_new(res, "stringRandomNumber", json_string(text));
    return AH_DONE;
}

AH_ACTION(random_number) = {
    .name = "randomNumber",
    .description = "I am an API method which will generate a random number",
    .output_example = "{\"randomNumber\": 0.123}",
    .run = run,
};
