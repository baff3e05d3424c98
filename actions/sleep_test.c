/*
 * sleep_test.c - the `sleepTest` action (builtin.md §1.4): waits
 * sleepDuration ms on a libuv timer, then answers with the timings.
 *
 * Like setTimeout, a duration that is not a number, below 1 or above
 * 2^31-1 sleeps 1 ms.  The timer lives in the invocation's arena, so
 * ah_done() is called from the close callback, after libuv has let go of
 * the handle.
 */
#include <math.h>

#include <uv.h>

#include <ah/ah.h>

#include "app/app.h"

struct sleep_state {
    uv_timer_t timer;
    ah_ctx_t *ctx;
    uint64_t started;
};

static json_t *default_duration(ah_ctx_t *ctx, const char *name)
{
    (void)ctx;
    (void)name;
    return json_integer(1000);
}

static void on_closed(uv_handle_t *h)
{
    struct sleep_state *st = h->data;
    ah_ctx_t *ctx = st->ctx;
    json_t *res = ah_response(ctx);
    uint64_t ended = ah_now_ms();
    json_t *dur = ah_param(ctx, "sleepDuration");

    json_object_set_new(res, "sleepStarted", json_integer((json_int_t)st->started));
    json_object_set_new(res, "sleepEnded", json_integer((json_int_t)ended));
    json_object_set_new(res, "sleepDelta", json_integer((json_int_t)(ended - st->started)));
    json_object_set(res, "sleepDuration", dur ? dur : json_null());
    ah_done(ctx); /* frees the arena holding `st`: last */
}

static void on_timer(uv_timer_t *t)
{
    uv_close((uv_handle_t *)t, on_closed);
}

static int run(ah_ctx_t *ctx)
{
    struct sleep_state *st = ah_alloc(ctx, sizeof(*st));
    double ms = ah_param_real(ctx, "sleepDuration", NAN);
    int rc;

    if (!(ms >= 1 && ms <= 2147483647.0))
        ms = 1;
    st->ctx = ctx;
    st->started = ah_now_ms();
    if ((rc = uv_timer_init(ah_app(ctx)->loop, &st->timer)) < 0)
        return ah_fail(ctx, rc, "cannot start a timer: %s", uv_strerror(rc));
    st->timer.data = st;
    uv_timer_start(&st->timer, on_timer, (uint64_t)ms, 0);
    return AH_PENDING;
}

static const ah_input_t inputs[] = {
    {.name = "sleepDuration", .required = true, .format = ah_format_integer, .default_fn = default_duration},
    {0},
};

AH_ACTION(sleep_test) = {
    .name = "sleepTest",
    .description = "I will sleep and then return",
    .inputs = inputs,
    .output_example = "{\"sleepStarted\": 1420953571322, \"sleepEnded\": 1420953572327, \"sleepDelta\": 1005, "
                      "\"sleepDuration\": 1000}",
    .run = run,
};
