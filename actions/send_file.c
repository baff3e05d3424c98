/*
 * send_file.c - the `sendFile` action (builtin.md §1.9): answers with
 * public/logo/actionhero.png through the connection's file flow.
 */
#include <ah/ah.h>

static int run(ah_ctx_t *ctx)
{
    ah_connection_send_file(ah_connection(ctx), "logo/actionhero.png");
    ah_set_to_render(ctx, false);
    return AH_DONE;
}

AH_ACTION(send_file) = {
    .name = "sendFile",
    .description = "I send a file though an action",
    .output_example = "{}",
    .run = run,
};
