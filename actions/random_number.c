/*
 * random_number.c - the `randomNumber` action (builtin.md §1.2): a CSPRNG
 * float in [0, 1) and the same number in words.
 */
#include <string.h>

#include <ah/ah.h>

#include "core/json_out.h"

static int run(ah_ctx_t *ctx)
{
    json_t *res = ah_response(ctx);
    double n = ah_random_unit();
    static const char prefix[] = "Your random number is ";
    char text[sizeof(prefix) + 32];
    int len;

    memcpy(text, prefix, sizeof(prefix) - 1);
    /* the shortest round-trip form, as JS prints it */
    len = json_out_number(n, text + sizeof(prefix) - 1);
    text[sizeof(prefix) - 1 + len] = '\0';
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
