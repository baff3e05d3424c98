/*
 * inline_test.c - test actions for ah_run_inline (actions.md §9):
 * `inlineTest` runs params.target in-line with params.targetParams and
 * answers what the callback got; `connInfoTest` answers the connection it
 * runs on.
 */
#include <ah/ah.h>

#include "conn/conn.h"
#include "dispatch/dispatch.h"

struct inline_state {
    bool returned;
};

static void on_inline(ah_ctx_t *ctx, json_t *response, const char *error, void *arg)
{
    struct inline_state *st = arg;
    json_t *res = ah_response(ctx);

    json_object_set_new(res, "cbAfterReturn", json_boolean(st->returned));
    json_object_set(res, "inlineResponse", response ? response : json_null());
    json_object_set_new(res, "inlineError", error ? json_string(error) : json_null());
    ah_done(ctx);
}

static int run_inline(ah_ctx_t *ctx)
{
    struct inline_state *st = ah_alloc(ctx, sizeof(*st));
    const char *target = ah_param_str(ctx, "target");
    json_t *tp = ah_param(ctx, "targetParams");
    int rc;

    st->returned = false;
    rc = ah_run_inline(ctx, target ? target : "", ah_param_str(ctx, "targetVersion"),
                       json_is_object(tp) ? json_deep_copy(tp) : NULL, on_inline, st);
    if (rc < 0)
        return ah_fail(ctx, rc, "ah_run_inline failed: %s", ah_strerror(rc));
    st->returned = true;
    return AH_PENDING;
}

static int run_conn_info(ah_ctx_t *ctx)
{
    ah_connection_t *c = ah_connection(ctx);
    json_t *res = ah_response(ctx);

    json_object_set_new(res, "type", json_string(c->type));
    json_object_set_new(res, "remoteIP", json_string(c->remote_ip));
    json_object_set_new(res, "remotePortIsString", json_boolean(c->remote_port_is_string));
    json_object_set_new(res, "remotePort", json_string(c->remote_port));
    json_object_set_new(res, "canChat", json_boolean(c->can_chat));
    json_object_set(res, "params", ah_params(ctx));
    return AH_DONE;
}

static const ah_input_t inline_inputs[] = {
    {.name = "target", .required = true},
    {.name = "targetVersion"},
    {.name = "targetParams"},
    {0},
};

static const ah_input_t info_inputs[] = {
    {.name = "x"},
    {0},
};

AH_ACTION(inline_test) = {.name = "inlineTest", .inputs = inline_inputs, .run = run_inline};
AH_ACTION(conn_info_test) = {.name = "connInfoTest", .inputs = info_inputs, .run = run_conn_info};
