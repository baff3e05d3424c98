/*
 * cluster.c - the pub/sub channel, message envelope and RPC of cluster.md
 * §2-§3 (see cluster.h), and the "cluster" initializer.
 *
 * Lifetime: the state lives in the app slot "cluster" from load to stop.
 * Work that outlives a loop turn (RPC methods running, RPC requests
 * waiting, publishes in flight) never holds a pointer to that state: it
 * keeps the app and looks the slot up again when it resumes, so a stop
 * in between only turns its completion into a no-op or an error.  The
 * exceptions are the waiting RPC requests, which are listed in the state
 * and failed by the stop.
 */
#include "cluster/cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "app/app.h"
#include "config/config.h"
#include "conn/conn.h"
#include "core/core.h"
#include "core/json_out.h"
#include "dispatch/dispatch.h"
#include "log/log.h"

#define CLUSTER_SLOT "cluster"

struct handler {
    char *type;
    cluster_handler_fn fn;
    void *arg;
};

struct method {
    char *path;
    cluster_method_fn fn;
    void *arg;
};

struct ready_hook {
    char *name;
    void (*fn)(ah_app_t *app, void *arg);
    void *arg;
};

/* A message that arrived, waiting for the next loop turn. */
struct inbound {
    struct inbound *next;
    size_t len;
    char text[]; /* NUL-terminated */
};

/* A doCluster call waiting for its doResponse. */
struct rpc_wait {
    struct rpc_wait *next, *prev;
    uv_timer_t timer;
    ah_app_t *app;
    char message_id[37];
    cluster_rpc_cb cb;
    void *arg;
};

struct cluster {
    ah_app_t *app;
    struct store *store;
    char *channel;
    struct handler *handlers;
    size_t n_handlers;
    struct method *methods;
    size_t n_methods;
    struct ready_hook *ready;
    size_t n_ready;
    bool was_ready;

    uv_idle_t idle;
    bool idle_active;
    struct inbound *in_head, *in_tail;

    struct rpc_wait *waiting;
    size_t n_waiting;
    size_t max_waiting;

    /* the join notice waits for the subscription, so that this server
     * hears it too (Actionhero subscribes before it starts) */
    bool subscribed, started, announced;
};

struct cluster_call {
    ah_app_t *app;
    json_t *message_id;
    char *path;
};

static struct cluster *cluster_get(ah_app_t *app)
{
    return app ? ah_app_get(app, CLUSTER_SLOT) : NULL;
}

const char *cluster_server_token(ah_app_t *app)
{
    json_t *v = config_get(app, "general.serverToken");

    return json_is_string(v) ? json_string_value(v) : "change-me";
}

const char *cluster_server_id(ah_app_t *app)
{
    return app->id ? app->id : "actionhero";
}

/* ---------------------------------------------------------------- handlers */

int cluster_handle(ah_app_t *app, const char *type, cluster_handler_fn fn, void *arg)
{
    struct cluster *cl = cluster_get(app);
    size_t i;

    if (cl == NULL)
        return AH_ESTATE;
    if (type == NULL)
        return AH_EINVAL;
    for (i = 0; i < cl->n_handlers; i++) {
        if (strcmp(cl->handlers[i].type, type) == 0) {
            if (fn == NULL) {
                free(cl->handlers[i].type);
                cl->handlers[i] = cl->handlers[--cl->n_handlers];
            } else {
                cl->handlers[i].fn = fn;
                cl->handlers[i].arg = arg;
            }
            return 0;
        }
    }
    if (fn == NULL)
        return 0;
    cl->handlers = xrealloc(cl->handlers, (cl->n_handlers + 1) * sizeof(*cl->handlers));
    cl->handlers[cl->n_handlers].type = xstrdup(type);
    cl->handlers[cl->n_handlers].fn = fn;
    cl->handlers[cl->n_handlers].arg = arg;
    cl->n_handlers++;
    return 0;
}

static void dispatch_one(struct cluster *cl, const char *text, size_t len)
{
    json_t *msg = core_json_parse(text, len, NULL);
    json_t *token, *type;
    size_t i;

    /* invalid JSON is treated as {}: no serverToken, ignored */
    if (!json_is_object(msg))
        goto out;
    token = json_object_get(msg, "serverToken");
    if (!json_is_string(token) || strcmp(json_string_value(token), cluster_server_token(cl->app)) != 0)
        goto out;
    type = json_object_get(msg, "messageType");
    if (!json_is_string(type))
        goto out;
    for (i = 0; i < cl->n_handlers; i++) {
        if (strcmp(cl->handlers[i].type, json_string_value(type)) == 0) {
            cl->handlers[i].fn(cl->app, msg, cl->handlers[i].arg);
            break;
        }
    }
out:
    json_decref(msg);
}

static void on_idle(uv_idle_t *h)
{
    struct cluster *cl = h->data;
    struct inbound *m = cl->in_head, *next;

    /* Detach the queue first: handlers may publish, and what arrives
     * meanwhile waits for the next turn. */
    cl->in_head = cl->in_tail = NULL;
    for (; m; m = next) {
        next = m->next;
        /* a handler may have stopped the app: the slot is gone then */
        if (cluster_get(cl->app) == cl)
            dispatch_one(cl, m->text, m->len);
        free(m);
    }
    if (cl->in_head == NULL && cl->idle_active) {
        uv_idle_stop(&cl->idle);
        cl->idle_active = false;
    }
}

static void on_message(const char *channel, const char *msg, size_t len, void *arg)
{
    struct cluster *cl = arg;
    struct inbound *m;

    if (cl->channel == NULL || strcmp(channel, cl->channel) != 0)
        return;
    m = xmalloc(sizeof(*m) + len + 1);
    m->next = NULL;
    m->len = len;
    memcpy(m->text, msg, len);
    m->text[len] = '\0';
    if (cl->in_tail)
        cl->in_tail->next = m;
    else
        cl->in_head = m;
    cl->in_tail = m;
    if (!cl->idle_active) {
        uv_idle_start(&cl->idle, on_idle);
        cl->idle_active = true;
    }
}

/* ---------------------------------------------------------------- publish */

struct pub {
    ah_app_t *app;
    store_cb cb;
    void *arg;
    char *text;
    char *channel;
};

static void on_published(int status, const struct store_reply *reply, void *arg)
{
    struct pub *p = arg;

    if (status < 0) {
        json_t *data = json_pack("{s:s, s:s}", "channel", p->channel, "payload", p->text);

        log_msg(AH_LOG_ERROR, data, "cannot send message, redis disconnected (%s)",
                store_strerror(status, reply));
        json_decref(data);
    }
    if (p->cb)
        p->cb(status, reply, p->arg);
    free(p->text);
    free(p->channel);
    free(p);
}

int cluster_publish_take(ah_app_t *app, char *text, size_t len, store_cb cb, void *arg)
{
    struct cluster *cl = cluster_get(app);
    struct store *s = store_get(app);
    struct pub *p;
    int rc;

    if (cl == NULL || s == NULL) {
        free(text);
        return AH_ESTATE;
    }
    p = xcalloc(1, sizeof(*p));
    p->app = app;
    p->cb = cb;
    p->arg = arg;
    p->text = text;
    p->channel = xstrdup(cl->channel);
    if ((rc = store_publish(s, p->channel, text, len, on_published, p)) < 0) {
        free(p->text);
        free(p->channel);
        free(p);
    }
    return rc;
}

int cluster_publish(ah_app_t *app, const json_t *payload, store_cb cb, void *arg)
{
    size_t len;
    char *text;

    if (payload == NULL)
        return AH_EINVAL;
    text = json_out_str(payload, 0, 0, &len);
    if (text == NULL)
        return AH_EINVAL;
    return cluster_publish_take(app, text, len, cb, arg);
}

int cluster_publish_text(ah_app_t *app, const char *json, size_t len, store_cb cb, void *arg)
{
    char *text;

    if (json == NULL)
        return AH_EINVAL;
    text = xmalloc(len + 1);
    memcpy(text, json, len);
    text[len] = '\0';
    return cluster_publish_take(app, text, len, cb, arg);
}

/* ---------------------------------------------------------------- RPC: callee */

int cluster_method_add(ah_app_t *app, const char *path, cluster_method_fn fn, void *arg)
{
    struct cluster *cl = cluster_get(app);
    size_t i;

    if (cl == NULL)
        return AH_ESTATE;
    if (path == NULL || fn == NULL)
        return AH_EINVAL;
    for (i = 0; i < cl->n_methods; i++) {
        if (strcmp(cl->methods[i].path, path) == 0) {
            cl->methods[i].fn = fn;
            cl->methods[i].arg = arg;
            return 0;
        }
    }
    cl->methods = xrealloc(cl->methods, (cl->n_methods + 1) * sizeof(*cl->methods));
    cl->methods[cl->n_methods].path = xstrdup(path);
    cl->methods[cl->n_methods].fn = fn;
    cl->methods[cl->n_methods].arg = arg;
    cl->n_methods++;
    return 0;
}

ah_app_t *cluster_call_app(const struct cluster_call *call)
{
    return call->app;
}

static void call_free(struct cluster_call *call)
{
    json_decref(call->message_id);
    free(call->path);
    free(call);
}

void cluster_call_reply(struct cluster_call *call, json_t *response)
{
    ah_app_t *app = call->app;

    if (cluster_get(app) != NULL) {
        json_t *m = json_object();

        json_object_set_new(m, "messageType", json_string("doResponse"));
        json_object_set_new(m, "serverId", json_string(cluster_server_id(app)));
        json_object_set_new(m, "serverToken", json_string(cluster_server_token(app)));
        json_object_set(m, "messageId", call->message_id ? call->message_id : json_null());
        if (response)
            json_object_set(m, "response", response);
        if (cluster_publish(app, m, NULL, NULL) < 0)
            log_warn("RPC method `%s`: cannot publish the response", call->path);
        json_decref(m);
    }
    call_free(call);
}

void cluster_call_fail(struct cluster_call *call, const char *fmt, ...)
{
    struct buf b = BUF_INIT;
    va_list ap;

    va_start(ap, fmt);
    buf_vaddf(&b, fmt, ap);
    va_end(ap);
    log_warn("RPC method `%s` failed: %s", call->path, b.data ? b.data : "");
    buf_release(&b);
    call_free(call);
}

/* The `do` handler (cluster.md §3, "Handling a do message"). */
static void on_do(ah_app_t *app, json_t *msg, void *arg)
{
    struct cluster *cl = arg;
    json_t *cid = json_object_get(msg, "connectionId");
    json_t *method = json_object_get(msg, "method");
    json_t *args = json_object_get(msg, "args");
    struct cluster_call *call;
    const char *m, *rest;
    size_t i;

    if (core_truthy(cid)) {
        char *id = dispatch_js_string(cid);
        bool local = conn_find(app, id) != NULL;

        free(id);
        if (!local)
            return;
    }
    if (!json_is_string(method)) {
        /* Actionhero throws a TypeError here (message.method.split) */
        log_error("RPC message without a method (from server %s)",
                  json_is_string(json_object_get(msg, "serverId")) ? json_string_value(json_object_get(msg, "serverId"))
                                                                   : "?");
        return;
    }
    m = json_string_value(method);
    if (strncmp(m, "api", 3) != 0 || (m[3] != '.' && m[3] != '\0')) {
        log_error("cannot operate on a method outside of the api object (`%s`)", m);
        return;
    }
    rest = m[3] == '.' ? m + 4 : m + 3;
    for (i = 0; i < cl->n_methods; i++)
        if (strcmp(cl->methods[i].path, rest) == 0)
            break;
    if (i == cl->n_methods) {
        log_crit("RPC method `%s` not found", rest);
        return;
    }
    if (args == NULL || json_is_null(args))
        args = json_array();
    else if (json_is_array(args))
        json_incref(args);
    else
        args = json_pack("[O]", args);
    call = xcalloc(1, sizeof(*call));
    call->app = app;
    call->message_id = json_incref(json_object_get(msg, "messageId"));
    call->path = xstrdup(rest);
    cl->methods[i].fn(call, args, cl->methods[i].arg);
    json_decref(args);
}

/* api.log(message, severity = "info", data) */
static void method_log(struct cluster_call *call, json_t *args, void *arg)
{
    json_t *sev = json_array_get(args, 1);
    json_t *data = json_array_get(args, 2);
    int level = AH_LOG_INFO;
    char *text = dispatch_js_string(json_array_get(args, 0));

    (void)arg;
    if (json_is_string(sev) && log_level_parse(json_string_value(sev)) >= 0)
        level = log_level_parse(json_string_value(sev));
    log_msg(level, json_is_object(data) ? data : NULL, "%s", text);
    free(text);
    cluster_call_reply(call, NULL);
}

/* ---------------------------------------------------------------- RPC: caller */

static void on_wait_closed(uv_handle_t *h)
{
    free(h->data);
}

/* Take `w` out of the list (if listed), stop its timer and free it once
 * the timer handle is closed. */
static void wait_finish(struct rpc_wait *w)
{
    struct cluster *cl = cluster_get(w->app);

    if (cl && (w->prev || cl->waiting == w)) {
        if (w->prev)
            w->prev->next = w->next;
        else
            cl->waiting = w->next;
        if (w->next)
            w->next->prev = w->prev;
        cl->n_waiting--;
    }
    w->next = w->prev = NULL;
    uv_close((uv_handle_t *)&w->timer, on_wait_closed);
}

static void on_wait_timeout(uv_timer_t *t)
{
    struct rpc_wait *w = t->data;
    cluster_rpc_cb cb = w->cb;

    w->cb = NULL;
    if (cb)
        cb(w->app, AH_EFAIL, NULL, "RPC Timeout", w->arg);
    wait_finish(w);
}

static void on_do_response(ah_app_t *app, json_t *msg, void *arg)
{
    struct cluster *cl = arg;
    json_t *mid = json_object_get(msg, "messageId");
    struct rpc_wait *w;

    if (!json_is_string(mid))
        return;
    for (w = cl->waiting; w; w = w->next) {
        if (strcmp(w->message_id, json_string_value(mid)) == 0) {
            cluster_rpc_cb cb = w->cb;
            void *cb_arg = w->arg;

            /* w is freed once its timer handle has closed, later */
            w->cb = NULL;
            uv_timer_stop(&w->timer);
            wait_finish(w);
            if (cb)
                cb(app, 0, json_object_get(msg, "response"), NULL, cb_arg);
            return;
        }
    }
    /* not ours, or a later answer to a call already answered: ignored */
}

/* The request of a waiting call was published (or not). */
static void on_do_published_wait(int status, const struct store_reply *reply, void *arg)
{
    struct rpc_wait *w = arg;

    if (status < 0 && w->cb) {
        cluster_rpc_cb cb = w->cb;

        /* fail fast instead of waiting rpcTimeout for an answer that
         * cannot come */
        w->cb = NULL;
        uv_timer_stop(&w->timer);
        cb(w->app, status, NULL, store_strerror(status, reply), w->arg);
        wait_finish(w);
    }
}

struct do_nowait {
    ah_app_t *app;
    cluster_rpc_cb cb;
    void *arg;
};

static void on_do_published(int status, const struct store_reply *reply, void *arg)
{
    struct do_nowait *d = arg;

    if (d->cb) {
        if (status < 0) {
            d->cb(d->app, status, NULL, store_strerror(status, reply), d->arg);
        } else {
            json_t *n = json_integer(reply && reply->type == STORE_REPLY_INT ? reply->integer : 0);

            d->cb(d->app, 0, n, NULL, d->arg);
            json_decref(n);
        }
    }
    free(d);
}

int cluster_do(ah_app_t *app, const char *method, json_t *args_take, const char *connection_id, bool wait,
               cluster_rpc_cb cb, void *arg)
{
    struct cluster *cl = cluster_get(app);
    char id[37];
    json_t *m;
    int rc;

    if (method == NULL || (args_take != NULL && !json_is_array(args_take))) {
        json_decref(args_take);
        return AH_EINVAL;
    }
    if (cl == NULL) {
        json_decref(args_take);
        return AH_ESTATE;
    }
    if (wait && cl->n_waiting >= cl->max_waiting) {
        json_decref(args_take);
        log_warn("RPC `%s` refused: %zu calls already wait for an answer (general.rpcMaxPending)", method,
                 cl->n_waiting);
        return AH_ELIMIT;
    }
    core_uuid4(id);
    m = json_object();
    json_object_set_new(m, "messageType", json_string("do"));
    json_object_set_new(m, "serverId", json_string(cluster_server_id(app)));
    json_object_set_new(m, "serverToken", json_string(cluster_server_token(app)));
    json_object_set_new(m, "messageId", json_string(id));
    json_object_set_new(m, "method", json_string(method));
    if (connection_id)
        json_object_set_new(m, "connectionId", json_string(connection_id));
    json_object_set_new(m, "args", args_take ? args_take : json_array());
    if (wait) {
        /* registered before publishing: the answer may come before the
         * PUBLISH reply (actionhero#1244) */
        struct rpc_wait *w = xcalloc(1, sizeof(*w));
        long long timeout = config_int(app, "general.rpcTimeout", 5000);

        if ((rc = uv_timer_init(app->loop, &w->timer)) < 0) {
            free(w);
            json_decref(m);
            return rc;
        }
        w->timer.data = w;
        w->app = app;
        w->cb = cb;
        w->arg = arg;
        memcpy(w->message_id, id, sizeof(id));
        w->next = cl->waiting;
        if (cl->waiting)
            cl->waiting->prev = w;
        cl->waiting = w;
        cl->n_waiting++;
        uv_timer_start(&w->timer, on_wait_timeout, (uint64_t)(timeout > 0 ? timeout : 1), 0);
        if ((rc = cluster_publish(app, m, on_do_published_wait, w)) < 0) {
            w->cb = NULL;
            uv_timer_stop(&w->timer);
            wait_finish(w);
        }
    } else {
        struct do_nowait *d = xcalloc(1, sizeof(*d));

        d->app = app;
        d->cb = cb;
        d->arg = arg;
        if ((rc = cluster_publish(app, m, on_do_published, d)) < 0)
            free(d);
    }
    json_decref(m);
    return rc;
}

/* ---------------------------------------------------------------- readiness */

int cluster_on_ready(ah_app_t *app, const char *name, void (*fn)(ah_app_t *app, void *arg), void *arg)
{
    struct cluster *cl = cluster_get(app);
    size_t i;

    if (cl == NULL)
        return AH_ESTATE;
    for (i = 0; i < cl->n_ready; i++) {
        if (strcmp(cl->ready[i].name, name) == 0) {
            cl->ready[i].fn = fn;
            cl->ready[i].arg = arg;
            return 0;
        }
    }
    cl->ready = xrealloc(cl->ready, (cl->n_ready + 1) * sizeof(*cl->ready));
    cl->ready[cl->n_ready].name = xstrdup(name);
    cl->ready[cl->n_ready].fn = fn;
    cl->ready[cl->n_ready].arg = arg;
    cl->n_ready++;
    return 0;
}

static void announce_join(struct cluster *cl);

static void on_store_ready(struct store *s, bool ready, void *arg)
{
    struct cluster *cl = arg;
    size_t i;

    (void)s;
    /* Redis was away at boot: announce once it is there */
    if (ready && cl->started && !cl->announced)
        announce_join(cl);
    if (ready && !cl->was_ready) {
        for (i = 0; i < cl->n_ready; i++)
            cl->ready[i].fn(cl->app, cl->ready[i].arg);
    }
    cl->was_ready = ready;
}

/* ---------------------------------------------------------------- initializer */

static void on_idle_closed(uv_handle_t *h)
{
    struct cluster *cl = h->data;
    struct inbound *m, *next;
    size_t i;

    for (m = cl->in_head; m; m = next) {
        next = m->next;
        free(m);
    }
    for (i = 0; i < cl->n_handlers; i++)
        free(cl->handlers[i].type);
    for (i = 0; i < cl->n_methods; i++)
        free(cl->methods[i].path);
    for (i = 0; i < cl->n_ready; i++)
        free(cl->ready[i].name);
    free(cl->handlers);
    free(cl->methods);
    free(cl->ready);
    free(cl->channel);
    free(cl);
}

static void on_subscribed(int status, const struct store_reply *reply, void *arg);

static int cluster_initialize(ah_app_t *app)
{
    struct store *s = store_get(app);
    struct cluster *cl;
    const char *channel = config_str(app, "general.channel", "actionhero");
    long long max = config_int(app, "general.rpcMaxPending", 10000);
    int rc;

    if (s == NULL)
        return ah_app_fail(app, "the cluster layer needs the store (redis initializer)");
    if (channel == NULL || channel[0] == '\0')
        return ah_app_fail(app, "config 'general.channel': expected a non-empty string");
    if (max < 1 || max > 100000000)
        return ah_app_fail(app, "config 'general.rpcMaxPending': expected an integer from 1 to 100000000");
    cl = xcalloc(1, sizeof(*cl));
    cl->app = app;
    cl->store = s;
    cl->channel = xstrdup(channel);
    cl->max_waiting = (size_t)max;
    cl->was_ready = store_ready(s, STORE_CLIENT);
    if ((rc = uv_idle_init(app->loop, &cl->idle)) < 0) {
        free(cl->channel);
        free(cl);
        return ah_app_fail(app, "cannot create the cluster idle handle: %s", uv_strerror(rc));
    }
    cl->idle.data = cl;
    ah_app_set(app, CLUSTER_SLOT, cl);
    cluster_handle(app, "do", on_do, cl);
    cluster_handle(app, "doResponse", on_do_response, cl);
    cluster_method_add(app, "log", method_log, NULL);
    store_watch(s, on_store_ready, cl);
    /* Down now: the store subscribes when Redis is back. */
    if ((rc = store_subscribe(s, cl->channel, on_message, cl, on_subscribed, app)) < 0)
        return ah_app_fail(app, "cannot subscribe to '%s': %s", cl->channel, ah_strerror(rc));
    return 0;
}

/* `actionhero member <id> has joined the cluster`, once. */
static void announce_join(struct cluster *cl)
{
    char *text = xasprintf("actionhero member %s has joined the cluster", cluster_server_id(cl->app));

    cl->announced = true;
    if (cluster_do(cl->app, "api.log", json_pack("[s]", text), NULL, false, NULL, NULL) < 0)
        log_warn("cannot announce this server to the cluster");
    free(text);
}

/* The subscription is active (status 0), or Redis is away (it is made
 * when Redis is back; on_store_ready announces then).  `arg` is the app:
 * the cluster state may be gone by now. */
static void on_subscribed(int status, const struct store_reply *reply, void *arg)
{
    struct cluster *cl = cluster_get(arg);

    (void)reply;
    if (cl == NULL || status < 0)
        return;
    cl->subscribed = true;
    if (cl->started && !cl->announced)
        announce_join(cl);
}

static int cluster_start(ah_app_t *app)
{
    struct cluster *cl = cluster_get(app);

    if (cl == NULL)
        return 0;
    cl->started = true;
    if (cl->subscribed)
        announce_join(cl);
    return 0;
}

static int cluster_stop(ah_app_t *app)
{
    struct cluster *cl = cluster_get(app);
    struct store *s = store_get(app);
    char *text;

    if (cl == NULL)
        return 0;
    if (s) {
        store_unsubscribe(s, cl->channel, NULL, NULL);
        store_watch(s, NULL, NULL);
    }
    text = xasprintf("actionhero member %s has left the cluster", cluster_server_id(app));
    cluster_do(app, "api.log", json_pack("[s]", text), NULL, false, NULL, NULL);
    free(text);
    /* fail every call still waiting */
    while (cl->waiting) {
        struct rpc_wait *w = cl->waiting;
        cluster_rpc_cb cb = w->cb;
        void *cb_arg = w->arg;
        char *err = config_error_text(app, "serverShuttingDown", NULL);

        w->cb = NULL;
        uv_timer_stop(&w->timer);
        wait_finish(w);
        if (cb)
            cb(app, AH_ESTATE, NULL,
               strcmp(err, "serverShuttingDown") == 0 ? "the server is shutting down" : err, cb_arg);
        free(err);
    }
    ah_app_set(app, CLUSTER_SLOT, NULL);
    if (cl->idle_active)
        uv_idle_stop(&cl->idle);
    uv_close((uv_handle_t *)&cl->idle, on_idle_closed);
    return 0;
}

AH_INITIALIZER(cluster) = {
    .name = "cluster",
    .load_priority = 201,
    .start_priority = 101,
    .stop_priority = 99998,
    .initialize = cluster_initialize,
    .start = cluster_start,
    .stop = cluster_stop,
};
