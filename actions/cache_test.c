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

/* save (5000 ms) -> size -> load -> destroy, each awaited in turn as
 * Actionhero's run does; a failing step fails the action with its text. */
static json_t *results(ah_ctx_t *ctx)
{
    return json_object_get(ah_response(ctx), "cacheTestResults");
}

static const char *cache_key(ah_ctx_t *ctx)
{
    return ah_sprintf(ctx, "cacheTest_%s", ah_param_str(ctx, "key"));
}

static bool step_failed(ah_ctx_t *ctx, int status, const char *error)
{
    if (status >= 0)
        return false;
    /* Actionhero's run throws before returning anything */
    json_object_del(ah_response(ctx), "cacheTestResults");
    ah_fail(ctx, status, "%s", error);
    ah_done(ctx);
    return true;
}

static void on_destroyed(ah_ctx_t *ctx, int status, json_t *result, const char *error)
{
    if (step_failed(ctx, status, error))
        return;
    json_object_set(results(ctx), "deleteResp", result);
    ah_done(ctx);
}

static void on_loaded(ah_ctx_t *ctx, int status, json_t *result, const char *error)
{
    int rc;

    if (step_failed(ctx, status, error))
        return;
    json_object_set(results(ctx), "loadResp", result);
    if ((rc = ah_cache_destroy(ctx, cache_key(ctx), on_destroyed)) < 0)
        step_failed(ctx, rc, "the cache is not running");
}

static void on_sized(ah_ctx_t *ctx, int status, json_t *result, const char *error)
{
    int rc;

    if (step_failed(ctx, status, error))
        return;
    json_object_set(results(ctx), "sizeResp", result);
    if ((rc = ah_cache_load(ctx, cache_key(ctx), NULL, on_loaded)) < 0)
        step_failed(ctx, rc, "the cache is not running");
}

static void on_saved(ah_ctx_t *ctx, int status, json_t *result, const char *error)
{
    int rc;

    if (step_failed(ctx, status, error))
        return;
    json_object_set(results(ctx), "saveResp", result);
    if ((rc = ah_cache_size(ctx, NULL, on_sized)) < 0)
        step_failed(ctx, rc, "the cache is not running");
}

static int run(ah_ctx_t *ctx)
{
    json_t *value = ah_param(ctx, "value");
    int rc;

    json_object_set_new(ah_response(ctx), "cacheTestResults", json_object());
    rc = ah_cache_save(ctx, cache_key(ctx), value, 5000, on_saved);
    if (rc < 0)
        return ah_fail(ctx, rc, "the cache is not running");
    return AH_PENDING;
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
