/*
 * conn.c - connection lifetime (connection.md §1, §3, §4), the registry of
 * live connections, connection middleware (§5) and the "connections"
 * initializer.
 *
 * Lifetime: conn_new() returns a connection with one reference, the
 * creator's; ah_connection_destroy() runs once (later calls do nothing) and
 * drops that reference as its last step.  Actions in flight hold their own
 * references, so a connection whose client left while an action was
 * pending stays readable (destroyed = true, sends are no-ops) until the
 * action finishes; the memory goes when the last reference does.
 */
#include "conn/conn_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "app/app.h"
#include "chat/chat.h"
#include "config/config.h"
#include "core/core.h"
#include "log/log.h"

struct conn_registry *conn_registry_get(ah_app_t *app)
{
    return app ? app->conns : NULL;
}

/* ---------------------------------------------------------------- registry */

static void reg_insert(struct conn_registry *r, ah_connection_t *c)
{
    c->reg_prev = NULL;
    c->reg_next = r->head;
    if (r->head)
        r->head->reg_prev = c;
    r->head = c;
    r->count++;
    c->in_registry = true;
}

static void reg_remove(struct conn_registry *r, ah_connection_t *c)
{
    if (!c->in_registry)
        return;
    if (c->reg_prev)
        c->reg_prev->reg_next = c->reg_next;
    else
        r->head = c->reg_next;
    if (c->reg_next)
        c->reg_next->reg_prev = c->reg_prev;
    c->reg_next = c->reg_prev = NULL;
    c->in_registry = false;
    r->count--;
}

size_t conn_count(ah_app_t *app)
{
    struct conn_registry *r = conn_registry_get(app);

    return r ? r->count : 0;
}

ah_connection_t *conn_find(ah_app_t *app, const char *id)
{
    struct conn_registry *r = conn_registry_get(app);
    ah_connection_t *c;

    for (c = r ? r->head : NULL; c; c = c->reg_next)
        if (strcmp(c->id, id) == 0)
            return c;
    return NULL;
}

void conn_foreach(ah_app_t *app, void (*fn)(ah_connection_t *c, void *arg), void *arg)
{
    struct conn_registry *r = conn_registry_get(app);
    ah_connection_t *c, *next;

    for (c = r ? r->head : NULL; c; c = next) {
        next = c->reg_next;
        fn(c, arg);
    }
}

/* ---------------------------------------------------------------- construction */

/* Copy into a fixed field, truncated to fit (the server bounds these). */
/* core_strlcpy, with every byte outside printable ASCII replaced by '?'. */
static void copy_ascii(char *dst, size_t n, const char *src)
{
    size_t i;

    for (i = 0; i < n - 1; i++) {
        unsigned char ch = (unsigned char)src[i];

        if (ch == '\0')
            break;
        dst[i] = (char)(ch - 0x20u < 0x5fu ? ch : '?'); /* 0x20..0x7e */
    }
    dst[i] = '\0';
}

/* ASan: a spare connection is poisoned, so that a pointer kept past the
 * last unref still faults while the struct waits for reuse. */
#if defined(__SANITIZE_ADDRESS__)
#define CONN_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CONN_ASAN 1
#endif
#endif
#ifdef CONN_ASAN
#include <sanitizer/asan_interface.h>
#define SPARE_POISON(c) ASAN_POISON_MEMORY_REGION((c), sizeof(*(c)))
#define SPARE_UNPOISON(c) ASAN_UNPOISON_MEMORY_REGION((c), sizeof(*(c)))
#else
#define SPARE_POISON(c) ((void)(c))
#define SPARE_UNPOISON(c) ((void)(c))
#endif

/* A zeroed connection with empty rooms, params and session: a recycled one
 * when there is one. */
static ah_connection_t *conn_alloc(struct conn_registry *r)
{
    ah_connection_t *c;

    if (r && r->n_spare > 0) {
        c = r->spare[--r->n_spare];
        SPARE_UNPOISON(c);
        return c;
    }
    c = xcalloc(1, sizeof(*c));
    c->rooms = json_array();
    c->params = json_object();
    c->session = json_object();
    return c;
}

/* Can this container be emptied and handed to the next connection?  Only
 * when nobody else holds it (an action or a hook may have kept a
 * reference) and it still has the type the connection started with. */
static bool reusable(const json_t *j, json_type type)
{
    return j && json_typeof(j) == type && j->refcount == 1;
}

ah_connection_t *conn_new(ah_app_t *app, const ah_server_type_t *st, const struct conn_init *init)
{
    static const struct conn_init empty;
    struct conn_registry *r = conn_registry_get(app);
    bool enforce = config_bool(app, "general.enforceConnectionProperties", true);
    const char *port, *ip;
    ah_connection_t *c;
    char uuid[37];

    if (init == NULL)
        init = &empty;
    if (st == NULL || st->name == NULL || st->name[0] == '\0') {
        log_error("type is required to create a new connection object");
        return NULL;
    }
    port = init->remote_port;
    ip = init->remote_ip;
    if (enforce) {
        if (port == NULL || port[0] == '\0') {
            log_error("remotePort is required to create a new connection object");
            return NULL;
        }
        if (ip == NULL || ip[0] == '\0') {
            log_error("remoteIP is required to create a new connection object");
            return NULL;
        }
    }
    c = conn_alloc(r);
    c->app = app;
    c->server = st;
    c->type = st->name;
    if (init->id) {
        core_strlcpy(c->id, init->id, sizeof(c->id));
    } else {
        core_uuid4(uuid);
        core_strlcpy(c->id, uuid, sizeof(c->id));
    }
    core_strlcpy(c->fingerprint, init->fingerprint ? init->fingerprint : c->id, sizeof(c->fingerprint));
    core_strlcpy(c->message_id, init->message_id ? init->message_id : "0", sizeof(c->message_id));
    /* Both may come from X-Forwarded-* headers: keep them printable ASCII
     * so that they always serialise (jansson refuses invalid UTF-8) and
     * never carry control bytes into log lines. */
    copy_ascii(c->remote_ip, sizeof(c->remote_ip), ip && ip[0] ? ip : "0");
    copy_ascii(c->remote_port, sizeof(c->remote_port), port && port[0] ? port : "0");
    c->remote_port_is_string = init->remote_port_is_string;
    c->connected_at = core_now_ms();
    c->can_chat = st->can_chat;
    c->raw = init->raw;
    c->refs = 1;
    if (r)
        reg_insert(r, c);
    return c;
}

/* Drop a reference on the next loop turn, so that the caller of
 * conn_start() may still read a connection a hook destroyed. */
struct unref_later {
    uv_timer_t timer;
    ah_connection_t *c;
};

static void on_unref_closed(uv_handle_t *h)
{
    struct unref_later *u = h->data;

    ah_connection_unref(u->c);
    free(u);
}

static void on_unref_timer(uv_timer_t *t)
{
    uv_close((uv_handle_t *)t, on_unref_closed);
}

static void unref_later(ah_connection_t *c)
{
    struct unref_later *u = xcalloc(1, sizeof(*u));

    if (uv_timer_init(c->app->loop, &u->timer) < 0) {
        free(u);
        ah_connection_unref(c);
        return;
    }
    u->timer.data = u;
    u->c = c;
    uv_timer_start(&u->timer, on_unref_timer, 0, 0);
}

int conn_start(ah_connection_t *c)
{
    struct conn_registry *r = conn_registry_get(c->app);
    size_t i;

    /* a hook may destroy the connection: keep it readable until the caller
     * has seen the result */
    ah_connection_ref(c);
    for (i = 0; r && i < r->n_mws; i++) {
        const ah_connection_middleware_t *mw = r->mws[i].mw;
        int rc;

        if (mw->create == NULL)
            continue;
        rc = mw->create(c);
        if (c->destroyed) {
            unref_later(c);
            return rc < 0 ? rc : AH_ESTATE;
        }
        if (rc < 0) {
            log_error("connection middleware `%s` refused connection %s (%s): %s", mw->name, c->id, c->type,
                      ah_strerror(rc));
            ah_connection_unref(c);
            return rc;
        }
    }
    ah_connection_unref(c);
    if (c->server->log_connections) {
        json_t *data = json_pack("{s:s}", "to", c->remote_ip);

        log_msg(AH_LOG_INFO, data, "[server: %s] new connection", c->type);
        json_decref(data);
    }
    if (c->server->send_welcome_message) {
        const char *w = config_str(c->app, "general.welcomeMessage", NULL);
        char *dflt = NULL;
        json_t *msg;

        if (w == NULL)
            w = dflt = xasprintf("Welcome to the %s api", config_str(c->app, "general.serverName", "actionhero"));
        msg = json_pack("{s:s, s:s}", "welcome", w, "context", "api");
        ah_connection_send_message(c, msg);
        json_decref(msg);
        free(dflt);
    }
    return 0;
}

/* ---------------------------------------------------------------- methods */

void ah_connection_set_header(ah_connection_t *c, const char *name, const char *value)
{
    if (c && !c->destroyed && c->server->set_header)
        c->server->set_header(c, name, value);
}

void ah_connection_set_status_code(ah_connection_t *c, int code)
{
    if (c && !c->destroyed && c->server->set_status_code)
        c->server->set_status_code(c, code);
}

void ah_connection_send_message(ah_connection_t *c, json_t *message)
{
    if (c && !c->destroyed && message && c->server->send_message)
        c->server->send_message(c, message);
}

void ah_connection_send_file(ah_connection_t *c, const char *path)
{
    json_t *p;

    if (c == NULL || c->destroyed || path == NULL)
        return;
    p = json_string(path);
    if (p == NULL)
        return;
    json_object_set_new(c->params, "file", p);
    if (c->server->send_file)
        c->server->send_file(c, path);
}

/* The last reference is gone: release the server's state, then keep the
 * struct and its three containers for the next conn_new (bounded), or free
 * them. */
static void conn_free(ah_connection_t *c)
{
    struct conn_registry *r;
    json_t *rooms, *params, *session;

    if (c->server && c->server->release)
        c->server->release(c);
    json_decref(c->error);
    json_decref(c->response);
    json_decref(c->matched_route);
    json_decref(c->props);
    free(c->extension);
    rooms = c->rooms;
    params = c->params;
    session = c->session;
    r = conn_registry_get(c->app);
    if (r && r->n_spare < CONN_SPARE_MAX && reusable(rooms, JSON_ARRAY) && reusable(params, JSON_OBJECT) &&
        reusable(session, JSON_OBJECT)) {
        if (json_array_size(rooms))
            json_array_clear(rooms);
        if (json_object_size(params))
            json_object_clear(params);
        if (json_object_size(session))
            json_object_clear(session);
        memset(c, 0, sizeof(*c));
        c->rooms = rooms;
        c->params = params;
        c->session = session;
        SPARE_POISON(c);
        r->spare[r->n_spare++] = c;
        return;
    }
    json_decref(rooms);
    json_decref(params);
    json_decref(session);
    free(c);
}

static void spare_free_all(struct conn_registry *r)
{
    while (r->n_spare > 0) {
        ah_connection_t *c = r->spare[--r->n_spare];

        SPARE_UNPOISON(c);
        json_decref(c->rooms);
        json_decref(c->params);
        json_decref(c->session);
        free(c);
    }
}

void ah_connection_ref(ah_connection_t *c)
{
    c->refs++;
}

void ah_connection_unref(ah_connection_t *c)
{
    if (c->refs <= 0) {
        log_error("connection %s: reference count below zero (ignored)", c->id);
        return;
    }
    if (--c->refs > 0)
        return;
    if (!c->destroyed) {
        /* released without a destroy: destroy now (middleware, registry) */
        log_error("connection %s released before it was destroyed", c->id);
        c->refs = 1;
        ah_connection_destroy(c);
        return;
    }
    conn_free(c);
}

void ah_connection_destroy(ah_connection_t *c)
{
    struct conn_registry *r;
    size_t i;

    if (c == NULL || c->destroyed)
        return;
    c->destroyed = true;
    r = conn_registry_get(c->app);
    for (i = 0; r && i < r->n_mws; i++)
        if (r->mws[i].mw->destroy)
            r->mws[i].mw->destroy(c);
    /* Leave every room (leave middleware, HDEL).  Actionhero does this
     * only for canChat connections and leaves the member entries of
     * others (an in-line action added to a room) behind: we remove them
     * for every connection. */
    chat_connection_leave_all(c);
    if (c->server->log_exits) {
        json_t *data = json_pack("{s:s}", "to", c->remote_ip);

        log_msg(AH_LOG_INFO, data, "[server: %s] connection closed", c->type);
        json_decref(data);
    }
    if (c->server->goodbye)
        c->server->goodbye(c);
    if (r)
        reg_remove(r, c);
    ah_connection_unref(c);
}

/* ---------------------------------------------------------------- to_json */

json_t *conn_port_json(const ah_connection_t *c)
{
    char *end;
    long long v;

    if (c->remote_port_is_string)
        return json_string(c->remote_port);
    v = strtoll(c->remote_port, &end, 10);
    if (*end != '\0' || c->remote_port[0] == '\0')
        return json_string(c->remote_port);
    return json_integer(v);
}

json_t *ah_connection_to_json(const ah_connection_t *c)
{
    json_t *o = json_object();

    json_object_set_new(o, "type", json_string(c->type));
    json_object_set_new(o, "id", json_string(c->id));
    json_object_set_new(o, "fingerprint", json_string(c->fingerprint));
    json_object_set_new(o, "remotePort", conn_port_json(c));
    json_object_set_new(o, "remoteIP", json_string(c->remote_ip));
    json_object_set_new(o, "messageId", json_string(c->message_id));
    json_object_set_new(o, "connectedAt", json_integer((json_int_t)c->connected_at));
    /* JSON.stringify of an Error is {} (no enumerable properties) */
    json_object_set_new(o, "error", c->error ? json_object() : json_null());
    json_object_set_new(o, "rooms", json_deep_copy(c->rooms));
    json_object_set_new(o, "params", json_deep_copy(c->params));
    json_object_set_new(o, "session", json_deep_copy(c->session));
    json_object_set_new(o, "pendingActions", json_integer(c->pending_actions));
    json_object_set_new(o, "totalActions", json_integer(c->total_actions));
    json_object_set_new(o, "canChat", json_boolean(c->can_chat));
    json_object_set_new(o, "destroyed", json_boolean(c->destroyed));
    if (c->response)
        json_object_set_new(o, "response", json_deep_copy(c->response));
    if (c->extension)
        json_object_set_new(o, "extension", json_string(c->extension));
    if (c->matched_route)
        json_object_set_new(o, "matchedRoute", json_deep_copy(c->matched_route));
    if (c->props) {
        const char *k;
        json_t *v;

        /* properties set through connections.apply "set" (src/conn/apply.c
         * refuses the names above) */
        json_object_foreach(c->props, k, v) {
            if (json_object_get(o, k) == NULL)
                json_object_set_new(o, k, json_deep_copy(v));
        }
    }
    return o;
}

/* ---------------------------------------------------------------- middleware */

int ah_connection_middleware_add(ah_app_t *app, const ah_connection_middleware_t *mw)
{
    struct conn_registry *r = conn_registry_get(app);
    int prio;
    size_t i, j;

    if (mw == NULL || mw->name == NULL || mw->name[0] == '\0') {
        log_error("middleware.name is required");
        return AH_EINVAL;
    }
    if (r == NULL) {
        log_error("cannot add connection middleware `%s`: the connections initializer has not run", mw->name);
        return AH_ESTATE;
    }
    prio = mw->priority ? mw->priority : (int)config_int(app, "general.defaultMiddlewarePriority", 100);
    /* Re-registering replaces the definition; v29 would also list the name
     * twice and run its hooks twice: we keep one entry. */
    for (i = 0; i < r->n_mws; i++) {
        if (strcmp(r->mws[i].mw->name, mw->name) == 0) {
            memmove(&r->mws[i], &r->mws[i + 1], (r->n_mws - i - 1) * sizeof(*r->mws));
            r->n_mws--;
            break;
        }
    }
    r->mws = xrealloc(r->mws, (r->n_mws + 1) * sizeof(*r->mws));
    for (j = r->n_mws; j > 0 && r->mws[j - 1].priority > prio; j--)
        r->mws[j] = r->mws[j - 1];
    r->mws[j].mw = mw;
    r->mws[j].priority = prio;
    r->n_mws++;
    return 0;
}

/* ---------------------------------------------------------------- init */

int conn_registry_init(ah_app_t *app)
{
    struct conn_registry *r;
    size_t i;
    int rc;

    if (app->conns)
        return 0;
    r = xcalloc(1, sizeof(*r));
    app->conns = r;
    for (i = 0; ah_gen_connection_middleware[i]; i++) {
        if ((rc = ah_connection_middleware_add(app, ah_gen_connection_middleware[i])) < 0)
            return ah_app_fail(app, "middleware.name is required");
    }
    return 0;
}

static void destroy_one(ah_connection_t *c, void *arg)
{
    (void)arg;
    ah_connection_destroy(c);
}

void conn_registry_free(ah_app_t *app)
{
    struct conn_registry *r = conn_registry_get(app);

    if (r == NULL)
        return;
    /* Whatever the servers left (test and in-line connections) goes now. */
    conn_foreach(app, destroy_one, NULL);
    app->conns = NULL;
    spare_free_all(r);
    free(r->mws);
    free(r);
}

static int connections_initialize(ah_app_t *app)
{
    return conn_registry_init(app);
}

static int connections_stop(ah_app_t *app)
{
    conn_registry_free(app);
    return 0;
}

AH_INITIALIZER(core_connections) = {
    .name = "connections",
    .load_priority = PRIO_CONNECTIONS,
    .start_priority = PRIO_DEFAULT,
    .stop_priority = 9000,
    .initialize = connections_initialize,
    .stop = connections_stop,
};
