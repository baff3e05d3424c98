/*
 * recursive_action.c - the `recursiveAction` action (builtin.md §1.8):
 * runs randomNumber in-line and answers its response plus "local": true.
 */
#include <ah/ah.h>

static void on_random(ah_ctx_t *ctx, json_t *response, const char *error, void *arg)
{
    (void)arg;
    if (error) {
        ah_fail(ctx, AH_EFAIL, "%s", error);
    } else if (json_is_object(response)) {
        json_object_update(ah_response(ctx), response);
        json_object_set_new(ah_response(ctx), "local", json_true());
    }
    ah_done(ctx);
}

static int run(ah_ctx_t *ctx)
{
    int rc = ah_run_inline(ctx, "randomNumber", NULL, NULL, on_random, NULL);

    if (rc < 0)
        return ah_fail(ctx, rc, "cannot run randomNumber: %s", ah_strerror(rc));
    return AH_PENDING;
}

AH_ACTION(recursive_action) = {
    .name = "recursiveAction",
    .description = "I am an action that runs another action",
    .output_example = "{}",
    .run = run,
};
