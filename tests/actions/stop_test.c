/*
 * stop_test.c - `stopTurnTest` stays pending until the process begins to
 * stop, then finishes in that very loop turn: a check handle (the phase
 * right after the poll that delivered the signal) sees app->shutting_down
 * and closes itself; the close callback calls ah_done.  The web server then
 * queues the connection to resume at the next idle phase, but the drain's
 * first tick (a timer, due at once) runs before it and stops the servers.
 * tests/integration/74-process-drain.sh checks that this stop still frees
 * everything.
 */
#include <uv.h>

#include <ah/ah.h>

#include "app/app.h"

struct stop_turn {
    uv_check_t check;
    ah_ctx_t *ctx;
};

static void on_closed(uv_handle_t *h)
{
    struct stop_turn *st = h->data;
    ah_ctx_t *ctx = st->ctx;

    json_object_set_new(ah_response(ctx), "finishedOnStop", json_true());
    ah_done(ctx); /* frees the arena holding `st`: last */
}

static void on_check(uv_check_t *c)
{
    struct stop_turn *st = c->data;

    if (!ah_app(st->ctx)->shutting_down)
        return;
    uv_check_stop(c);
    uv_close((uv_handle_t *)c, on_closed);
}

static int run(ah_ctx_t *ctx)
{
    struct stop_turn *st = ah_alloc(ctx, sizeof(*st));
    int rc;

    st->ctx = ctx;
    if ((rc = uv_check_init(ah_app(ctx)->loop, &st->check)) < 0)
        return ah_fail(ctx, rc, "cannot start a check handle: %s", uv_strerror(rc));
    st->check.data = st;
    uv_check_start(&st->check, on_check);
    return AH_PENDING;
}

AH_ACTION(stop_turn_test) = {
    .name = "stopTurnTest",
    .description = "I finish in the loop turn in which the process begins to stop",
    .run = run,
};
