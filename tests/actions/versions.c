/*
 * versions.c - test actions: one name with versions 1, 2 and 10 (latest is
 * "2": the versions sort as strings) and one with 1, 2 and "three".
 */
#include <ah/ah.h>

static int run(ah_ctx_t *ctx)
{
    const ah_action_t *a = ah_action_template(ctx);

    json_object_set_new(ah_response(ctx), "version", json_string(a->version ? a->version : "1"));
    return AH_DONE;
}

AH_ACTION(version_test_1) = {.name = "versionTest", .version = "1", .run = run};
AH_ACTION(version_test_2) = {.name = "versionTest", .version = "2", .run = run};
AH_ACTION(version_test_10) = {.name = "versionTest", .version = "10", .run = run};
AH_ACTION(version_string_1) = {.name = "versionString", .run = run};
AH_ACTION(version_string_2) = {.name = "versionString", .version = "2", .run = run};
AH_ACTION(version_string_three) = {.name = "versionString", .version = "three", .run = run};
