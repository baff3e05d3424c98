/*
 * run_action.c - the built-in `runAction` task (tasks.md §8): run an action
 * in-line (actions.md §9: an `in-line-action` connection, destroyed
 * afterwards) with params.action, params.version and params.params; a
 * failing action fails the job, with the message action.run would throw.
 */
#include <stdlib.h>
#include <string.h>

#include <ah/ah.h>

#include "conn/conn.h"
#include "core/core.h"
#include "core/json_out.h"
#include "dispatch/dispatch.h"
#include "log/log.h"
#include "tasks/tasks_internal.h"

static void on_action_done(ah_ctx_t *ctx, void *arg)
{
    ah_job_t *job = arg;
    json_t *err = json_is_object(ctx->response) ? json_object_get(ctx->response, "error") : NULL;
    json_t *params = ah_job_params(job);
    char *text;

    if (core_truthy(err)) {
        /* throw new Error(data.response.error): String() of an Error is "Error: <message>" */
        if (dispatch_error_is_exception(ctx))
            ah_job_fail(job, AH_EFAIL, "Error: %s", json_string_value(err));
        else {
            text = dispatch_js_string(err);
            ah_job_fail(job, AH_EFAIL, "%s", text);
            free(text);
        }
    } else {
        text = json_out_str(params ? params : json_null(), 0, 0, NULL);
        ah_job_log(job, AH_LOG_DEBUG, "[ action @ task ] params=%s", text);
        free(text);
        ah_job_set_result(job, json_incref(ctx->response));
    }
    ah_connection_destroy(ctx->connection);
    ah_job_done(job);
}

static int run(ah_job_t *job, json_t *params)
{
    static const struct conn_init init = {
        .remote_ip = "0",
        .remote_port = "0",
        .remote_port_is_string = true,
    };
    ah_app_t *app = ah_job_app(job);
    json_t *action, *version, *p;
    ah_connection_t *c;
    char vbuf[32];
    const char *vs = NULL;
    int rc;

    if (!json_is_object(params))
        params = NULL; /* if (!params) params = {} */
    action = params ? json_object_get(params, "action") : NULL;
    version = params ? json_object_get(params, "version") : NULL;
    p = params ? json_object_get(params, "params") : NULL;
    if (json_is_string(version))
        vs = json_string_value(version);
    else if (json_is_number(version)) {
        json_out_number(json_number_value(version), vbuf);
        vs = vbuf;
    }
    c = conn_new(app, dispatch_inline_server_type(), &init);
    if (c == NULL)
        return ah_job_fail(job, AH_EFAIL, "cannot create an in-line connection");
    if (json_is_object(p)) {
        json_decref(c->params);
        c->params = json_deep_copy(p);
    }
    if ((rc = conn_start(c)) < 0) {
        ah_connection_destroy(c);
        return ah_job_fail(job, rc, "%s", ah_strerror(rc));
    }
    rc = dispatch_action(c, json_is_string(action) ? json_string_value(action) : "", vs, NULL, on_action_done, job);
    if (rc < 0) {
        ah_connection_destroy(c);
        return ah_job_fail(job, rc, "%s", ah_strerror(rc));
    }
    return AH_PENDING;
}

AH_TASK(core_run_action) = {
    .name = "runAction",
    .description = "I will run an action and return the connection object",
    .frequency = 0,
    .queue = "default",
    .run = run,
};
