/*
 * testkit.c - the specHelper (builtin.md §3): the testServer connection
 * type, its actionComplete rendering and the loop-driving helpers of
 * testkit.h.  The "specHelper" initializer (start priority 901) only logs
 * `loading the testServer` in the test environment; the functions work on
 * any app the testkit built.
 */
#include "testkit/testkit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "config/config.h"
#include "conn/conn.h"
#include "core/core.h"
#include "dispatch/dispatch.h"
#include "log/log.h"

struct testkit {
    bool no_metadata;
    struct testkit_last last;
};

struct test_conn {
    json_t *messages;
};

static struct testkit *tk_get(ah_app_t *app)
{
    struct testkit *tk = ah_app_get(app, "specHelper");

    if (tk == NULL) {
        tk = xcalloc(1, sizeof(*tk));
        ah_app_set(app, "specHelper", tk);
    }
    return tk;
}

/* ---------------------------------------------------------------- server type */

static void ts_send_message(ah_connection_t *c, json_t *message)
{
    struct test_conn *tc = c->raw;

    json_array_append_new(tc->messages, json_deep_copy(message));
}

static void ts_send_file(ah_connection_t *c, const char *path)
{
    /* TODO(#4): the static-file flow ({content, mime, length, error}) once
     * src/static exists. */
    (void)c;
    (void)path;
}

static void ts_release(ah_connection_t *c)
{
    struct test_conn *tc = c->raw;

    if (tc) {
        json_decref(tc->messages);
        free(tc);
    }
    c->raw = NULL;
}

static const ah_server_type_t test_server = {
    .name = "testServer",
    .can_chat = true,
    .log_connections = false,
    .log_exits = false,
    .send_welcome_message = true,
    .verbs = conn_verbs_all,
    .send_message = ts_send_message,
    .send_file = ts_send_file,
    .release = ts_release,
};

const ah_server_type_t *testkit_server_type(void)
{
    return &test_server;
}

json_t *testkit_messages(ah_connection_t *c)
{
    struct test_conn *tc = c && c->server == &test_server ? c->raw : NULL;

    return tc ? tc->messages : NULL;
}

ah_connection_t *testkit_connection_new_as(ah_app_t *app, const char *type)
{
    /* connection.type is a borrowed string: keep the names in a small
     * static table (tests use a handful) */
    static char types[16][32];
    ah_connection_t *c = testkit_connection_new(app);
    size_t i;

    if (c == NULL || type == NULL)
        return c;
    for (i = 0; i < ARRAY_SIZE(types); i++) {
        if (types[i][0] == '\0')
            snprintf(types[i], sizeof(types[i]), "%s", type);
        if (strcmp(types[i], type) == 0) {
            c->type = types[i];
            break;
        }
    }
    return c;
}

ah_connection_t *testkit_connection_new(ah_app_t *app)
{
    struct conn_init init = {0};
    struct test_conn *tc = xcalloc(1, sizeof(*tc));
    ah_connection_t *c;
    char id[37];

    core_uuid4(id);
    init.id = id;
    init.fingerprint = id;
    init.remote_ip = "testServer";
    init.remote_port = "0";
    init.raw = tc;
    tc->messages = json_array();
    c = conn_new(app, &test_server, &init);
    if (c == NULL) {
        json_decref(tc->messages);
        free(tc);
        return NULL;
    }
    if (conn_start(c) < 0) {
        ah_connection_destroy(c);
        return NULL;
    }
    return c;
}

/* ---------------------------------------------------------------- loop */

void testkit_run_until(ah_app_t *app, const bool *done)
{
    while (!*done) {
        if (uv_run(app->loop, UV_RUN_ONCE) == 0 && !*done) {
            /* nothing active: one more pass for closing handles */
            if (uv_run(app->loop, UV_RUN_NOWAIT) == 0 && !*done)
                return;
        }
    }
}

/* ---------------------------------------------------------------- actions */

struct run_state {
    ah_app_t *app;
    json_t *message_id;  /* what response.messageId shows */
    json_t *rendered;
    bool done;
};

/* The testServer's actionComplete (specHelper.ts). */
static void on_complete(ah_ctx_t *ctx, void *arg)
{
    struct run_state *rs = arg;
    struct testkit *tk = tk_get(ctx->app);
    json_t *resp = ctx->response;
    json_t *out;

    tk->last.action_status = ctx->action_status;
    tk->last.rendered = ctx->to_render;
    tk->last.completed = true;
    tk->last.connection_destroyed = ctx->connection->destroyed;
    if (json_is_string(resp) || json_is_array(resp)) {
        out = json_incref(resp);
    } else {
        json_t *err = dispatch_serialize_error(ctx, "specHelper");

        out = json_object();
        json_object_update(out, resp);
        if (err && core_truthy(json_object_get(resp, "error")))
            json_object_set(out, "error", err);
        json_decref(err);
        if (!tk->no_metadata) {
            json_t *ri;

            json_object_set(out, "messageId", rs->message_id);
            json_object_set_new(out, "serverInformation",
                                json_pack("{s:s, s:s}", "serverName",
                                          config_str(ctx->app, "general.serverName", "actionhero"), "apiVersion",
                                          config_str(ctx->app, "general.apiVersion", "0.1.0")));
            ri = json_pack("{s:s, s:s}", "id", ctx->connection->id, "remoteIP", ctx->connection->remote_ip);
            json_object_set_new(ri, "receivedParams", json_deep_copy(ctx->params));
            json_object_set_new(out, "requesterInformation", ri);
        }
    }
    if (ctx->to_render) {
        ah_connection_send_message(ctx->connection, out);
        rs->rendered = json_incref(out);
    }
    json_decref(out);
    rs->done = true;
}

static json_t *run_on(ah_connection_t *c, const char *name)
{
    struct testkit *tk;
    struct run_state rs = {0};
    json_t *mid;
    char id[37];

    if (c == NULL)
        return NULL;
    tk = tk_get(c->app);
    memset(&tk->last, 0, sizeof(tk->last));
    tk->last.action_status = AH_STATUS_NONE;
    rs.app = c->app;
    json_object_set_new(c->params, "action", json_string(name));
    mid = json_object_get(c->params, "messageId");
    if (core_truthy(mid)) {
        char *s = dispatch_js_string(mid);

        snprintf(c->message_id, sizeof(c->message_id), "%s", s);
        free(s);
        rs.message_id = json_incref(mid);
    } else {
        core_uuid4(id);
        snprintf(c->message_id, sizeof(c->message_id), "%s", id);
        rs.message_id = json_string(id);
    }
    if (dispatch_action(c, NULL, NULL, NULL, on_complete, &rs) < 0) {
        json_decref(rs.message_id);
        return NULL;
    }
    testkit_run_until(c->app, &rs.done);
    json_decref(rs.message_id);
    return rs.rendered;
}

json_t *testkit_run_action_on(ah_connection_t *c, const char *name)
{
    return run_on(c, name);
}

json_t *testkit_run_action_json(ah_app_t *app, const char *name, json_t *params_take)
{
    ah_connection_t *c = testkit_connection_new(app);

    if (c == NULL) {
        json_decref(params_take);
        return NULL;
    }
    if (json_is_object(params_take)) {
        json_decref(c->params);
        c->params = params_take;
    } else {
        json_decref(params_take);
    }
    return run_on(c, name);
}

json_t *testkit_run_action(ah_app_t *app, const char *name, const char *params_json)
{
    json_t *params = NULL;

    if (params_json) {
        json_error_t jerr;

        params = json_loads(params_json, 0, &jerr);
        if (!json_is_object(params)) {
            fprintf(stderr, "testkit_run_action: params are not a JSON object: %s\n", jerr.text);
            json_decref(params);
            return NULL;
        }
    }
    return testkit_run_action_json(app, name, params);
}

const struct testkit_last *testkit_last(ah_app_t *app)
{
    return &tk_get(app)->last;
}

void testkit_set_return_metadata(ah_app_t *app, bool on)
{
    tk_get(app)->no_metadata = !on;
}

/* ---------------------------------------------------------------- verbs */

struct verb_state {
    json_t *result;
    char *error;
    bool done;
};

static void on_verb(ah_connection_t *c, json_t *result, const char *error, void *arg)
{
    struct verb_state *vs = arg;

    (void)c;
    vs->result = result ? json_incref(result) : NULL;
    vs->error = error ? xstrdup(error) : NULL;
    vs->done = true;
}

int testkit_verb(ah_connection_t *c, const char *verb, json_t *words, json_t **result, char **error)
{
    struct verb_state vs = {0};
    ah_app_t *app = c->app;

    if (result)
        *result = NULL;
    if (error)
        *error = NULL;
    if (ah_connection_verbs(c, verb, words, on_verb, &vs) < 0) {
        if (error)
            *error = xstrdup("Error: the verb could not run");
        return -1;
    }
    testkit_run_until(app, &vs.done);
    if (result)
        *result = vs.result;
    else
        json_decref(vs.result);
    if (vs.error) {
        if (error)
            *error = vs.error;
        else
            free(vs.error);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- app */

void testkit_config_set(ah_app_t *app, const char *path, json_t *value_take)
{
    json_t *cur;
    const char *p = path;

    config_changed();
    if (app->config == NULL)
        app->config = json_object();
    cur = app->config;
    for (;;) {
        const char *dot = strchr(p, '.');
        char *key;
        json_t *next;

        if (dot == NULL) {
            json_object_set_new(cur, p, value_take);
            return;
        }
        key = xstrndup(p, (size_t)(dot - p));
        next = json_object_get(cur, key);
        if (!json_is_object(next)) {
            next = json_object();
            json_object_set_new(cur, key, next);
        }
        free(key);
        cur = next;
        p = dot + 1;
    }
}

ah_app_t *testkit_app_new_with(void (*configure)(ah_app_t *app, void *arg), void *arg)
{
    uv_loop_t *loop = xmalloc(sizeof(*loop));
    char *argv[] = {(char *)"--NODE_ENV=test", NULL};
    struct config_args args = {1, argv};
    struct log_opts lo = {AH_LOG_CRIT, false, false, NULL, AH_LOG_CRIT};
    const char *lvl = getenv("LOG_LEVEL");
    char err[1024];
    ah_app_t *app;

    if (lvl && log_level_parse(lvl) >= 0)
        lo.level = log_level_parse(lvl);
    log_setup(&lo);
    if (core_init() < 0) {
        fprintf(stderr, "testkit: cannot initialise libsodium\n");
        exit(1);
    }
    uv_loop_init(loop);
    setenv("NODE_ENV", "test", 1);
    app = app_new(loop);
    if (config_load(app, &args, err, sizeof(err)) < 0) {
        fprintf(stderr, "testkit: %s\n", err);
        exit(1);
    }
    /* no sockets in unit tests */
    testkit_config_set(app, "web.enabled", json_false());
    testkit_config_set(app, "websocket.enabled", json_false());
    if (configure)
        configure(app, arg);
    if (app_initialize(app) < 0 || app_start(app) < 0) {
        fprintf(stderr, "testkit: %s\n", app->fail_msg);
        exit(1);
    }
    return app;
}

ah_app_t *testkit_app_new(void)
{
    return testkit_app_new_with(NULL, NULL);
}

static void on_stopped(ah_app_t *app)
{
    struct testkit *tk = ah_app_get(app, "specHelper");

    (void)tk;
}

int testkit_app_free(ah_app_t *app)
{
    uv_loop_t *loop = app->loop;
    struct testkit *tk;
    int rc;

    app_stop(app, on_stopped);
    uv_run(loop, UV_RUN_DEFAULT);
    rc = app_loop_close(app);
    tk = ah_app_get(app, "specHelper");
    free(tk);
    app_free(app);
    free(loop);
    return rc;
}

/* ---------------------------------------------------------------- initializer */

static int spechelper_start(ah_app_t *app)
{
    if (app->env && strcmp(app->env, "test") == 0)
        log_info("loading the testServer");
    return 0;
}

AH_INITIALIZER(core_spechelper) = {
    .name = "specHelper",
    .load_priority = 900,
    .start_priority = PRIO_SPECHELPER,
    .stop_priority = PRIO_DEFAULT,
    .initialize = NULL,
    .start = spechelper_start,
};
