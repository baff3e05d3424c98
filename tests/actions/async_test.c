/*
 * async_test.c - test actions that finish later: on a timer (`asyncTest`,
 * param delay in ms), with ah_done called twice (`doubleDoneTest`), with
 * ah_done called inside run before AH_PENDING (`earlyDoneTest`), failing
 * after AH_PENDING (`asyncFailTest`), and held until the test releases
 * them (`holdTest`, see hold.h).
 */
#include <stdlib.h>

#include <uv.h>

#include <ah/ah.h>

#include "app/app.h"
#include "hold.h"

struct later {
    uv_timer_t t;
    ah_ctx_t *ctx;
    int mode;
};

enum { MODE_PLAIN, MODE_DOUBLE, MODE_FAIL };

static void on_closed(uv_handle_t *h)
{
    struct later *l = h->data;
    ah_ctx_t *ctx = l->ctx;
    int mode = l->mode; /* `l` lives in the arena, gone after ah_done */

    json_object_set_new(ah_response(ctx), "async", json_true());
    json_object_set_new(ah_response(ctx), "alive", json_boolean(ah_ctx_alive(ctx)));
    if (mode == MODE_FAIL)
        ah_fail(ctx, AH_EFAIL, "failed later");
    ah_done(ctx);
    if (mode == MODE_DOUBLE)
        ah_done(ctx); /* a bug: logged and ignored */
}

static void on_timer(uv_timer_t *t)
{
    uv_close((uv_handle_t *)t, on_closed);
}

static int start(ah_ctx_t *ctx, int mode)
{
    struct later *l = ah_alloc(ctx, sizeof(*l));
    long long delay = ah_param_int(ctx, "delay", 1);

    l->ctx = ctx;
    l->mode = mode;
    uv_timer_init(ah_app(ctx)->loop, &l->t);
    l->t.data = l;
    uv_timer_start(&l->t, on_timer, delay > 0 ? (uint64_t)delay : 1, 0);
    return AH_PENDING;
}

static int run_async(ah_ctx_t *ctx)
{
    return start(ctx, MODE_PLAIN);
}

static int run_double(ah_ctx_t *ctx)
{
    return start(ctx, MODE_DOUBLE);
}

static int run_fail(ah_ctx_t *ctx)
{
    return start(ctx, MODE_FAIL);
}

static int run_early(ah_ctx_t *ctx)
{
    json_object_set_new(ah_response(ctx), "early", json_true());
    ah_done(ctx);
    return AH_PENDING;
}

static const ah_input_t delay_inputs[] = {
    {.name = "delay", .format = ah_format_integer},
    {0},
};

AH_ACTION(async_test) = {.name = "asyncTest", .inputs = delay_inputs, .run = run_async};
AH_ACTION(double_done_test) = {.name = "doubleDoneTest", .run = run_double};
AH_ACTION(async_fail_test) = {.name = "asyncFailTest", .run = run_fail};
AH_ACTION(early_done_test) = {.name = "earlyDoneTest", .run = run_early};

/* ---------------------------------------------------------------- hold */

#define MAX_HELD 64
static ah_ctx_t *held[MAX_HELD];
static size_t n_held;

static int run_hold(ah_ctx_t *ctx)
{
    if (n_held == MAX_HELD)
        return ah_fail(ctx, AH_ELIMIT, "too many held actions");
    held[n_held++] = ctx;
    json_object_set_new(ah_response(ctx), "held", json_true());
    return AH_PENDING;
}

size_t test_hold_count(void)
{
    return n_held;
}

bool test_hold_alive(size_t i)
{
    return i < n_held && ah_ctx_alive(held[i]);
}

void test_hold_release_all(void)
{
    while (n_held > 0) {
        ah_ctx_t *ctx = held[--n_held];

        json_object_set_new(ah_response(ctx), "aliveAtRelease", json_boolean(ah_ctx_alive(ctx)));
        ah_done(ctx);
    }
}

AH_ACTION(hold_test) = {.name = "holdTest", .run = run_hold};
