/*
 * cache_test.c - the `cacheTest` action (builtin.md §1.3): key and value,
 * both required, turned into strings and at least 3 characters long.
 */
#include <string.h>

#include <ah/ah.h>

static const char *min3(ah_ctx_t *ctx, const char *name, json_t *value)
{
    (void)ctx;
    (void)name;
    /* s.length < 3, in UTF-16 units: count code points, astral ones twice */
    if (json_is_string(value)) {
        const unsigned char *p = (const unsigned char *)json_string_value(value);
        size_t units = 0;

        for (; *p; p++)
            if ((*p & 0xc0) != 0x80)
                units += *p >= 0xf0 ? 2 : 1;
        if (units < 3)
            return "inputs should be at least 3 letters long";
    }
    return AH_VALID;
}

static int run(ah_ctx_t *ctx)
{
    /* TODO(#4): save (5000 ms), size, load, destroy through src/cache once
     * it exists: {cacheTestResults: {saveResp, sizeResp, loadResp,
     * deleteResp}}. */
    return ah_fail(ctx, AH_EUNAVAIL, "the cache is not available yet");
}

static const ah_input_t inputs[] = {
    {.name = "key", .required = true, .format = ah_format_string, .validate = min3},
    {.name = "value", .required = true, .format = ah_format_string, .validate = min3},
    {0},
};

AH_ACTION(cache_test) = {
    .name = "cacheTest",
    .description = "I will test the internal cache functions of the API",
    .inputs = inputs,
    .output_example = "{\"cacheTestResults\": {\"saveResp\": true, \"sizeResp\": 1, \"loadResp\": {\"key\": "
                      "\"cacheTest_key\", \"value\": \"value\", \"createdAt\": 1420953269716}, \"deleteResp\": true}}",
    .run = run,
};
