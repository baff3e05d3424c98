/*
 * middleware_test.c - test actions and named (not global) action
 * middleware.  Every hook appends its name to response.trace, so a test
 * can read the order.  Global middleware is added by the unit tests at run
 * time, so that the test server's other actions are not affected.
 */
#include <uv.h>

#include <ah/ah.h>

#include "app/app.h"

static void trace(ah_ctx_t *ctx, const char *what)
{
    json_t *res = ah_response(ctx), *t;

    if (res == NULL)
        return;
    t = json_object_get(res, "trace");
    if (t == NULL) {
        t = json_array();
        json_object_set_new(res, "trace", t);
    }
    json_array_append_new(t, json_string(what));
}

static int a_pre(ah_ctx_t *ctx)
{
    trace(ctx, "a.pre");
    /* preProcessors see the raw (unscrubbed) params and may change them */
    if (ah_param(ctx, "notAnInput"))
        json_object_set_new(ah_response(ctx), "sawRaw", json_true());
    json_object_set_new(ah_params(ctx), "fromPre", json_string("set by a.pre"));
    json_object_set_new(ah_session(ctx), "a", json_true());
    return AH_DONE;
}

static int a_post(ah_ctx_t *ctx)
{
    trace(ctx, "a.post");
    if (json_is_true(json_object_get(ah_session(ctx), "a")))
        json_object_set_new(ah_response(ctx), "sessionSeen", json_true());
    return AH_DONE;
}

AH_ACTION_MIDDLEWARE(test_mw_a) = {.name = "test-mw-a", .pre = a_pre, .post = a_post};

struct later {
    uv_timer_t t;
    ah_ctx_t *ctx;
};

static void on_later_closed(uv_handle_t *h)
{
    struct later *l = h->data;

    trace(l->ctx, "async.resumed");
    ah_done(l->ctx);
}

static void on_later(uv_timer_t *t)
{
    uv_close((uv_handle_t *)t, on_later_closed);
}

static int later(ah_ctx_t *ctx, const char *name)
{
    struct later *l = ah_alloc(ctx, sizeof(*l));

    trace(ctx, name);
    l->ctx = ctx;
    uv_timer_init(ah_app(ctx)->loop, &l->t);
    l->t.data = l;
    uv_timer_start(&l->t, on_later, 1, 0);
    return AH_PENDING;
}

static int async_pre(ah_ctx_t *ctx)
{
    return later(ctx, "async.pre");
}

static int async_post(ah_ctx_t *ctx)
{
    return later(ctx, "async.post");
}

AH_ACTION_MIDDLEWARE(test_mw_async) = {.name = "test-mw-async", .priority = 50, .pre = async_pre, .post = async_post};

static int block_pre(ah_ctx_t *ctx)
{
    trace(ctx, "block.pre");
    return ah_fail(ctx, AH_EFAIL, "BLOCKED");
}

AH_ACTION_MIDDLEWARE(test_mw_block) = {.name = "test-mw-block", .pre = block_pre};

static int noprocess_pre(ah_ctx_t *ctx)
{
    trace(ctx, "noprocess.pre");
    ah_set_to_process(ctx, false);
    return AH_DONE;
}

AH_ACTION_MIDDLEWARE(test_mw_noprocess) = {.name = "test-mw-noprocess", .pre = noprocess_pre};

static int norender_post(ah_ctx_t *ctx)
{
    trace(ctx, "norender.post");
    ah_set_to_render(ctx, false);
    return AH_DONE;
}

AH_ACTION_MIDDLEWARE(test_mw_norender) = {.name = "test-mw-norender", .post = norender_post};

static int failpost_post(ah_ctx_t *ctx)
{
    trace(ctx, "failpost.post");
    return ah_fail(ctx, AH_EFAIL, "post failed");
}

AH_ACTION_MIDDLEWARE(test_mw_failpost) = {.name = "test-mw-failpost", .post = failpost_post};

static int run(ah_ctx_t *ctx)
{
    trace(ctx, "run");
    if (ah_param(ctx, "fromPre"))
        json_object_set(ah_response(ctx), "fromPre", ah_param(ctx, "fromPre"));
    json_object_set_new(ah_response(ctx), "notAnInputAtRun", json_boolean(ah_param(ctx, "notAnInput") != NULL));
    return AH_DONE;
}

static const char *const mw_list[] = {"test-mw-a", "test-mw-async", NULL};
static const char *const mw_block[] = {"test-mw-block", "test-mw-a", NULL};
static const char *const mw_noprocess[] = {"test-mw-noprocess", "test-mw-a", NULL};
static const char *const mw_norender[] = {"test-mw-norender", NULL};
static const char *const mw_unknown[] = {"no-such-middleware", NULL};
static const char *const mw_failpost[] = {"test-mw-failpost", "test-mw-a", NULL};

static const ah_input_t inputs[] = {
    {.name = "fromPre"},
    {0},
};

AH_ACTION(middleware_test) = {.name = "middlewareTest", .inputs = inputs, .middleware = mw_list, .run = run};
AH_ACTION(middleware_block_test) = {.name = "middlewareBlockTest", .middleware = mw_block, .run = run};
AH_ACTION(middleware_noprocess_test) = {.name = "middlewareNoProcessTest", .middleware = mw_noprocess, .run = run};
AH_ACTION(middleware_norender_test) = {.name = "middlewareNoRenderTest", .middleware = mw_norender, .run = run};
AH_ACTION(middleware_unknown_test) = {.name = "middlewareUnknownTest", .middleware = mw_unknown, .run = run};
AH_ACTION(middleware_failpost_test) = {.name = "middlewareFailPostTest", .middleware = mw_failpost, .run = run};
AH_ACTION(plain_test) = {.name = "plainTest", .run = run};
