/*
 * apply.c - api.connections.apply and api.connections.applyResponder
 * (cluster.md §4, connection.md §7; the API is include/ah/cluster.h).
 *
 * apply() is an RPC through src/cluster even when the connection is ours,
 * as in Actionhero: doCluster("api.connections.applyResponder",
 * [id, method, args], id, true).  Only the server holding the connection
 * runs the responder (cluster.c drops targeted calls for connections it
 * does not hold), so a Node Actionhero server and this one can apply to
 * each other's connections.
 *
 * The responder follows Actionhero's: when both `method` and `args` are
 * truthy it calls the method ("sendMessage" / "sendFile" with args as one
 * value, others with args spread like Function.prototype.apply: an array
 * spreads, another object gives no arguments, any other value throws),
 * then answers with the serialised connection.  A method that does not
 * exist or fails sends no answer (Actionhero's handler throws), so the
 * caller gets "RPC Timeout"; we log why at warning.
 *
 * A C connection has typed fields, so "set" differs from Actionhero's
 * `connection[key] = value`: params and session must be objects, canChat a
 * boolean, messageId a string or number; names the server manages (id,
 * rooms, pendingActions, ...) and method names are refused; any other name
 * goes to connection->props (at most general.maxConnectionProperties).
 */
#include <stdlib.h>
#include <string.h>

#include <ah/ah.h>

#include "app/app.h"
#include "cluster/cluster.h"
#include "config/config.h"
#include "conn/conn.h"
#include "core/core.h"
#include "dispatch/dispatch.h"
#include "log/log.h"

#define APPLY_PATH "connections.applyResponder"

/* ---------------------------------------------------------------- caller */

struct apply_req {
    ah_ctx_t *ctx;
    ah_apply_cb ctx_cb;
    ah_apply_app_cb app_cb;
    void *arg;
};

static void on_applied(ah_app_t *app, int status, json_t *response, const char *error, void *arg)
{
    struct apply_req *q = arg;
    json_t *conn = status == 0 && json_is_object(response) ? response : NULL;

    if (q->ctx_cb)
        q->ctx_cb(q->ctx, status, conn, status < 0 ? error : NULL);
    else
        q->app_cb(app, status, conn, status < 0 ? error : NULL, q->arg);
    free(q);
}

static int apply_start(ah_app_t *app, const char *id, const char *method, json_t *args, struct apply_req *q)
{
    json_t *call_args;
    int rc;

    if (app == NULL || id == NULL || id[0] == '\0') {
        free(q);
        return AH_EINVAL;
    }
    /* JSON.stringify turns the undefined of apply(id) into null */
    call_args = json_pack("[s, o, o]", id, method ? json_string(method) : json_null(),
                          args ? json_deep_copy(args) : json_null());
    if (call_args == NULL) { /* method is not UTF-8 */
        free(q);
        return AH_EINVAL;
    }
    if ((rc = cluster_do(app, "api." APPLY_PATH, call_args, id, true, on_applied, q)) < 0)
        free(q);
    return rc;
}

int ah_connections_apply(ah_ctx_t *ctx, const char *connection_id, const char *method, json_t *args,
                         ah_apply_cb cb)
{
    struct apply_req *q;

    if (ctx == NULL || cb == NULL)
        return AH_EINVAL;
    q = xcalloc(1, sizeof(*q));
    q->ctx = ctx;
    q->ctx_cb = cb;
    return apply_start(ah_app(ctx), connection_id, method, args, q);
}

int ah_connections_app_apply(ah_app_t *app, const char *connection_id, const char *method, json_t *args,
                             ah_apply_app_cb cb, void *arg)
{
    struct apply_req *q;

    if (cb == NULL)
        return AH_EINVAL;
    q = xcalloc(1, sizeof(*q));
    q->app_cb = cb;
    q->arg = arg;
    return apply_start(app, connection_id, method, args, q);
}

/* ---------------------------------------------------------------- responder */

/* Fields of the serialised form and methods of a connection: "set" may
 * not replace them. */
static const char *const managed[] = {
    "type", "id", "fingerprint", "remotePort", "remoteIP", "connectedAt", "error", "rooms",
    "pendingActions", "totalActions", "destroyed", "rawConnection", "response", "extension",
    "matchedRoute", "api", "sendMessage", "sendFile", "destroy", "set", "verbs", "setHeader",
    "setStatusCode", "pipe", "props", NULL,
};

static bool is_managed(const char *key)
{
    const char *const *p;

    for (p = managed; *p; p++)
        if (strcmp(*p, key) == 0)
            return true;
    return false;
}

/* connection.set(key, value): 0, or <0 with *why set. */
static int conn_set(ah_connection_t *c, json_t *args, const char **why)
{
    json_t *value = json_array_get(args, 1);
    char *key = dispatch_js_string(json_array_get(args, 0));
    long long max;
    int rc = 0;

    if (strcmp(key, "params") == 0 || strcmp(key, "session") == 0) {
        json_t **field = key[0] == 'p' ? &c->params : &c->session;

        if (!json_is_object(value)) {
            *why = "params and session must be objects";
            rc = AH_EINVAL;
        } else {
            json_decref(*field);
            *field = json_deep_copy(value);
        }
    } else if (strcmp(key, "canChat") == 0) {
        if (!json_is_boolean(value)) {
            *why = "canChat must be a boolean";
            rc = AH_EINVAL;
        } else {
            c->can_chat = json_is_true(value);
        }
    } else if (strcmp(key, "messageId") == 0) {
        char *s = json_is_string(value) || json_is_number(value) ? dispatch_js_string(value) : NULL;

        if (s == NULL || strlen(s) >= sizeof(c->message_id)) {
            *why = "messageId must be a string or number of at most 63 bytes";
            rc = AH_EINVAL;
        } else {
            memcpy(c->message_id, s, strlen(s) + 1);
        }
        free(s);
    } else if (is_managed(key)) {
        *why = "the server manages that property";
        rc = AH_EINVAL;
    } else if (value == NULL) {
        /* set(key) is connection[key] = undefined: gone from the JSON */
        if (c->props)
            json_object_del(c->props, key);
    } else {
        max = config_int(c->app, "general.maxConnectionProperties", 100);
        if (c->props == NULL)
            c->props = json_object();
        if (json_object_get(c->props, key) == NULL && (long long)json_object_size(c->props) >= max) {
            *why = "too many properties (general.maxConnectionProperties)";
            rc = AH_ELIMIT;
        } else {
            json_object_set_new(c->props, key, json_deep_copy(value));
        }
    }
    free(key);
    return rc;
}

/* The answer: the serialised connection. */
static void reply_with(struct cluster_call *call, ah_connection_t *c)
{
    json_t *snap = ah_connection_to_json(c);

    cluster_call_reply(call, snap);
    json_decref(snap);
}

/* A verb called through apply finished. */
static void on_verb(ah_connection_t *c, json_t *result, const char *error, void *arg)
{
    struct cluster_call *call = arg;

    (void)result;
    if (error)
        cluster_call_fail(call, "connection %s: %s", c->id, error);
    else
        reply_with(call, c);
    ah_connection_unref(c);
}

/* Function.prototype.apply's argument list: an array as is, another
 * object as no arguments, anything else a TypeError. */
static json_t *spread(json_t *args)
{
    if (json_is_array(args))
        return json_incref(args);
    if (json_is_object(args))
        return json_array();
    return NULL;
}

static void responder(struct cluster_call *call, json_t *args, void *arg)
{
    ah_app_t *app = cluster_call_app(call);
    char *id = dispatch_js_string(json_array_get(args, 0));
    json_t *method = json_array_get(args, 1);
    json_t *margs = json_array_get(args, 2);
    ah_connection_t *c = conn_find(app, id);
    const char *m, *why = NULL;
    json_t *list = NULL;
    int rc;

    (void)arg;
    free(id);
    if (c == NULL) {
        /* Actionhero returns undefined: an answer without `response` */
        cluster_call_reply(call, NULL);
        return;
    }
    if (!core_truthy(method) || !core_truthy(margs)) {
        reply_with(call, c);
        return;
    }
    if (!json_is_string(method)) {
        cluster_call_fail(call, "connection %s: the method is not a string", c->id);
        return;
    }
    m = json_string_value(method);
    if (strcmp(m, "sendMessage") == 0) {
        ah_connection_send_message(c, margs);
        reply_with(call, c);
        return;
    }
    if (strcmp(m, "sendFile") == 0) {
        if (!json_is_string(margs)) {
            cluster_call_fail(call, "connection %s: sendFile needs a path", c->id);
            return;
        }
        ah_connection_send_file(c, json_string_value(margs));
        reply_with(call, c);
        return;
    }
    if ((list = spread(margs)) == NULL) {
        cluster_call_fail(call, "connection %s: %s: the arguments are not an array", c->id, m);
        return;
    }
    if (strcmp(m, "destroy") == 0) {
        /* the destroy may free it: hold it for the answer */
        ah_connection_ref(c);
        ah_connection_destroy(c);
        reply_with(call, c);
        ah_connection_unref(c);
    } else if (strcmp(m, "set") == 0) {
        if ((rc = conn_set(c, list, &why)) < 0)
            cluster_call_fail(call, "connection %s: cannot set that property: %s", c->id, why);
        else
            reply_with(call, c);
    } else if (strcmp(m, "verbs") == 0) {
        json_t *verb = json_array_get(list, 0);

        if (!json_is_string(verb)) {
            cluster_call_fail(call, "connection %s: verbs needs a verb", c->id);
        } else {
            ah_connection_ref(c);
            if ((rc = ah_connection_verbs(c, json_string_value(verb), json_array_get(list, 1), on_verb, call)) < 0) {
                cluster_call_fail(call, "connection %s: verb: %s", c->id, ah_strerror(rc));
                ah_connection_unref(c);
            }
        }
    } else if (strcmp(m, "setHeader") == 0 && c->server->set_header) {
        json_t *name = json_array_get(list, 0);
        char *value = dispatch_js_string(json_array_get(list, 1));

        if (!json_is_string(name)) {
            cluster_call_fail(call, "connection %s: setHeader needs a name", c->id);
        } else {
            ah_connection_set_header(c, json_string_value(name), value);
            reply_with(call, c);
        }
        free(value);
    } else if (strcmp(m, "setStatusCode") == 0 && c->server->set_status_code) {
        json_t *code = json_array_get(list, 0);

        if (!json_is_integer(code) || json_integer_value(code) < 100 || json_integer_value(code) > 999) {
            cluster_call_fail(call, "connection %s: setStatusCode needs a status code", c->id);
        } else {
            ah_connection_set_status_code(c, (int)json_integer_value(code));
            reply_with(call, c);
        }
    } else {
        /* Actionhero: TypeError: connection[method] is not a function */
        cluster_call_fail(call, "connection %s: connection.%s is not a function", c->id, m);
    }
    json_decref(list);
}

/* ---------------------------------------------------------------- initializer */

static int apply_initialize(ah_app_t *app)
{
    int rc;

    if ((rc = cluster_method_add(app, APPLY_PATH, responder, NULL)) < 0)
        return ah_app_fail(app, "cannot register api.%s: %s", APPLY_PATH, ah_strerror(rc));
    return 0;
}

/* After "cluster" (201) and "connections" (400).  The method goes with the
 * cluster state at stop. */
AH_INITIALIZER(connections_apply) = {
    .name = "connectionsApply",
    .load_priority = PRIO_CONNECTIONS + 1,
    .start_priority = PRIO_DEFAULT,
    .stop_priority = PRIO_DEFAULT,
    .initialize = apply_initialize,
};
