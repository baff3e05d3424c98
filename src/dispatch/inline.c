/*
 * inline.c - running an action from code (actions.md §9, action.run):
 * a fresh `in-line-action` connection per call, the processor, then the
 * connection is destroyed whatever happened.
 *
 * The caller's callback runs on a later loop turn even when the in-line
 * action was synchronous (the libuv contract of ah.h); the caller keeps its
 * own invocation pending meanwhile.
 */
#include "dispatch/dispatch_internal.h"

#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "conn/conn.h"
#include "core/core.h"
#include "log/log.h"

static const ah_server_type_t inline_type = {
    .name = "in-line-action",
    .can_chat = false,
};

const ah_server_type_t *dispatch_inline_server_type(void)
{
    return &inline_type;
}

struct inline_call {
    ah_ctx_t *caller;
    ah_inline_cb cb;
    void *arg;
    json_t *response;
    char *error;
};

static void fire(void *p)
{
    struct inline_call *ic = p;

    ic->cb(ic->caller, ic->response, ic->error, ic->arg);
    json_decref(ic->response);
    free(ic->error);
    free(ic);
}

static void on_inline_done(ah_ctx_t *ctx, void *arg)
{
    struct inline_call *ic = arg;
    json_t *err = json_is_object(ctx->response) ? json_object_get(ctx->response, "error") : NULL;

    ic->response = json_incref(ctx->response);
    /* `throw new Error(data.response.error)`: the message is String(error),
     * so an Error becomes "Error: <message>" */
    if (core_truthy(err)) {
        if (dispatch_error_is_exception(ctx))
            ic->error = xasprintf("Error: %s", json_string_value(err));
        else
            ic->error = dispatch_js_string(err);
    }
    ah_connection_destroy(ctx->connection);
    dispatch_defer(dispatch_of_ctx(ctx), fire, ic);
}

int ah_run_inline(ah_ctx_t *caller, const char *name, const char *version, json_t *params_take, ah_inline_cb cb,
                  void *arg)
{
    static const struct conn_init init = {
        .remote_ip = "0",
        .remote_port = "0",
        .remote_port_is_string = true,
    };
    struct inline_call *ic;
    ah_connection_t *c;
    int rc;

    if (caller == NULL || name == NULL || cb == NULL) {
        json_decref(params_take);
        return AH_EINVAL;
    }
    if (dispatch_get(caller->app) == NULL) {
        json_decref(params_take);
        return AH_ESTATE;
    }
    c = conn_new(caller->app, &inline_type, &init);
    if (c == NULL) {
        json_decref(params_take);
        return AH_EFAIL;
    }
    if (json_is_object(params_take)) {
        json_decref(c->params);
        c->params = params_take;
    } else {
        json_decref(params_take);
    }
    if ((rc = conn_start(c)) < 0) {
        ah_connection_destroy(c);
        return rc;
    }
    ic = xcalloc(1, sizeof(*ic));
    ic->caller = caller;
    ic->cb = cb;
    ic->arg = arg;
    rc = dispatch_action(c, name, version, NULL, on_inline_done, ic);
    if (rc < 0) {
        free(ic);
        ah_connection_destroy(c);
    }
    return rc;
}
