/*
 * chat.c - the chat state and its initializer (chat.md §7: starting
 * rooms), chat middleware (§6), the overridable functions (§2), the index
 * of local members used for delivery, and the helpers of the asynchronous
 * operations.
 *
 * The local index maps a room name to the chat-capable connections of
 * this server that are in it, so that delivering a message costs the
 * room's local members, not every connection times its rooms.  It changes
 * only together with c->rooms (join, leave, destroy), which are the only
 * writers of c->rooms.
 */
#include "chat/chat_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "cluster/cluster.h"
#include "config/config.h"
#include "core/json_out.h"
#include "log/log.h"

#define CHAT_SLOT "chatRoom"

/* build/gen/registry.c (tools/gen-registry.sh) */
extern const ah_chat_middleware_t *const ah_gen_chat_middleware[];

struct chat *chat_get(ah_app_t *app)
{
    return app ? ah_app_get(app, CHAT_SLOT) : NULL;
}

/* ---------------------------------------------------------------- errors */

char *chat_err(ah_app_t *app, const char *key, const char *var, const char *val, const char *fmt)
{
    char *t = config_error_text(app, key, var, val ? val : "", NULL);

    if (t == NULL || strcmp(t, key) == 0) {
        free(t);
        t = xasprintf(fmt, val ? val : "");
    }
    return t;
}

char *chat_err_not_in_room(ah_app_t *app, const char *room_text)
{
    return chat_err(app, "connectionNotInRoom", "room", room_text ? room_text : "undefined",
                    "connection not in this room (%s)");
}

char *chat_err_room_not_exist(ah_app_t *app, const char *room)
{
    return chat_err(app, "connectionRoomNotExist", "room", room ? room : "undefined", "room does not exist");
}

char *chat_err_too_many_rooms(ah_app_t *app, long long max)
{
    char n[32];

    snprintf(n, sizeof(n), "%lld", max);
    return chat_err(app, "connectionTooManyRooms", "max", n, "connection is in too many rooms (max %s)");
}

/* ---------------------------------------------------------------- rooms of a connection */

bool chat_conn_in_room(const ah_connection_t *c, const char *room)
{
    size_t i;

    if (room == NULL || c == NULL)
        return false;
    for (i = 0; i < json_array_size(c->rooms); i++) {
        const char *r = json_string_value(json_array_get(c->rooms, i));

        if (r && strcmp(r, room) == 0)
            return true;
    }
    return false;
}

bool chat_conn_drop_room(ah_connection_t *c, const char *room)
{
    size_t i;

    for (i = 0; room && i < json_array_size(c->rooms); i++) {
        const char *r = json_string_value(json_array_get(c->rooms, i));

        if (r && strcmp(r, room) == 0) {
            json_array_remove(c->rooms, i);
            return true;
        }
    }
    return false;
}

/* ---------------------------------------------------------------- local index */

static uint32_t hash_name(const char *s)
{
    uint32_t h = 2166136261u;

    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return h;
}

struct chat_local_room *chat_local_find(struct chat *ch, const char *room)
{
    struct chat_local_room *r;
    uint32_t h;

    if (ch->n_buckets == 0 || room == NULL)
        return NULL;
    h = hash_name(room);
    for (r = ch->buckets[h & (ch->n_buckets - 1)]; r; r = r->next)
        if (r->hash == h && strcmp(r->name, room) == 0)
            return r;
    return NULL;
}

static void rehash(struct chat *ch, size_t n)
{
    struct chat_local_room **nb = xcalloc(n, sizeof(*nb));
    size_t i;

    for (i = 0; i < ch->n_buckets; i++) {
        struct chat_local_room *r = ch->buckets[i], *next;

        for (; r; r = next) {
            next = r->next;
            r->next = nb[r->hash & (n - 1)];
            nb[r->hash & (n - 1)] = r;
        }
    }
    free(ch->buckets);
    ch->buckets = nb;
    ch->n_buckets = n;
}

void chat_local_add(struct chat *ch, const char *room, ah_connection_t *c)
{
    struct chat_local_room *r = chat_local_find(ch, room);
    size_t i;

    if (r == NULL) {
        size_t len = strlen(room);

        if (ch->n_rooms + 1 > ch->n_buckets)
            rehash(ch, ch->n_buckets ? ch->n_buckets * 2 : 16);
        r = xcalloc(1, sizeof(*r) + len + 1);
        memcpy(r->name, room, len + 1);
        r->hash = hash_name(room);
        r->next = ch->buckets[r->hash & (ch->n_buckets - 1)];
        ch->buckets[r->hash & (ch->n_buckets - 1)] = r;
        ch->n_rooms++;
    }
    for (i = 0; i < r->n; i++)
        if (r->conns[i] == c)
            return;
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 4;
        r->conns = xrealloc(r->conns, r->cap * sizeof(*r->conns));
    }
    r->conns[r->n++] = c;
}

void chat_local_remove(struct chat *ch, const char *room, ah_connection_t *c)
{
    struct chat_local_room *r = chat_local_find(ch, room), **pp;
    size_t i;

    if (r == NULL)
        return;
    for (i = 0; i < r->n; i++) {
        if (r->conns[i] == c) {
            /* keep join order: delivery order follows it */
            memmove(&r->conns[i], &r->conns[i + 1], (r->n - i - 1) * sizeof(*r->conns));
            r->n--;
            break;
        }
    }
    if (r->n > 0)
        return;
    for (pp = &ch->buckets[r->hash & (ch->n_buckets - 1)]; *pp; pp = &(*pp)->next) {
        if (*pp == r) {
            *pp = r->next;
            break;
        }
    }
    ch->n_rooms--;
    free(r->conns);
    free(r);
}

static void local_free(struct chat *ch)
{
    size_t i;

    for (i = 0; i < ch->n_buckets; i++) {
        struct chat_local_room *r = ch->buckets[i], *next;

        for (; r; r = next) {
            next = r->next;
            free(r->conns);
            free(r);
        }
    }
    free(ch->buckets);
    ch->buckets = NULL;
    ch->n_buckets = ch->n_rooms = 0;
}

/* ---------------------------------------------------------------- middleware */

int ah_chat_middleware_add(ah_app_t *app, const ah_chat_middleware_t *mw)
{
    struct chat *ch = chat_get(app);
    int prio;
    size_t i, j;

    if (mw == NULL || mw->name == NULL || mw->name[0] == '\0') {
        log_error("middleware.name is required");
        return AH_EINVAL;
    }
    if (ch == NULL) {
        log_error("cannot add chat middleware `%s`: the chatRoom initializer has not loaded", mw->name);
        return AH_ESTATE;
    }
    prio = mw->priority ? mw->priority : (int)config_int(app, "general.defaultMiddlewarePriority", 100);
    for (i = 0; i < ch->n_mws; i++) {
        if (strcmp(ch->mws[i].mw->name, mw->name) == 0) {
            if (ch->mws[i].mw->say)
                ch->n_say_mws--;
            memmove(&ch->mws[i], &ch->mws[i + 1], (ch->n_mws - i - 1) * sizeof(*ch->mws));
            ch->n_mws--;
            break;
        }
    }
    ch->mws = xrealloc(ch->mws, (ch->n_mws + 1) * sizeof(*ch->mws));
    for (j = ch->n_mws; j > 0 && ch->mws[j - 1].priority > prio; j--)
        ch->mws[j] = ch->mws[j - 1];
    ch->mws[j].mw = mw;
    ch->mws[j].priority = prio;
    ch->n_mws++;
    if (mw->say)
        ch->n_say_mws++;
    return 0;
}

int ah_chat_block(ah_chat_event_t *ev, const char *fmt, ...)
{
    struct buf b = BUF_INIT;
    va_list ap;

    va_start(ap, fmt);
    buf_vaddf(&b, fmt, ap);
    va_end(ap);
    free(ev->error_);
    ev->error_ = buf_detach(&b, NULL);
    if (ev->error_ == NULL)
        ev->error_ = xstrdup("");
    return AH_EFAIL;
}

void ah_chat_set_payload(ah_chat_event_t *ev, json_t *payload_take)
{
    json_t *old = ev->payload;

    ev->payload = payload_take;
    json_decref(old);
}

int chat_run_middleware(struct chat *ch, enum chat_hook which, ah_chat_event_t *ev, char **error)
{
    size_t i;

    *error = NULL;
    /* by index: a hook may add middleware (the array may move) */
    for (i = 0; i < ch->n_mws; i++) {
        const ah_chat_middleware_t *mw = ch->mws[i].mw;
        ah_chat_hook_fn fn = which == CHAT_JOIN             ? mw->join
                             : which == CHAT_LEAVE          ? mw->leave
                             : which == CHAT_ON_SAY_RECEIVE ? mw->on_say_receive
                                                            : mw->say;
        int rc;

        if (fn == NULL)
            continue;
        ev->error_ = NULL;
        rc = fn(ev);
        if (rc < 0) {
            *error = ev->error_ ? ev->error_ : xstrdup(ah_strerror(rc));
            ev->error_ = NULL;
            return rc;
        }
        free(ev->error_);
        ev->error_ = NULL;
    }
    return 0;
}

/* ---------------------------------------------------------------- overridable functions */

json_t *ah_chat_default_generate_member_details(ah_app_t *app, ah_connection_t *c)
{
    json_t *o = json_object();

    json_object_set_new(o, "id", json_string(c->id));
    json_object_set_new(o, "joinedAt", json_integer((json_int_t)core_now_ms()));
    json_object_set_new(o, "host", json_string(cluster_server_id(app)));
    return o;
}

json_t *ah_chat_default_sanitize_member_details(ah_app_t *app, json_t *member)
{
    json_t *o = json_object();
    json_t *v;

    (void)app;
    /* JSON.stringify drops undefined members: copy only what is there */
    if ((v = json_object_get(member, "id")) != NULL)
        json_object_set(o, "id", v);
    if ((v = json_object_get(member, "joinedAt")) != NULL)
        json_object_set(o, "joinedAt", v);
    return o;
}

json_t *ah_chat_default_generate_message_payload(ah_app_t *app, json_t *msg)
{
    json_t *o = json_object();
    json_t *conn = json_object_get(msg, "connection");
    json_t *v;

    (void)app;
    if ((v = json_object_get(msg, "message")) != NULL)
        json_object_set(o, "message", v);
    if ((v = json_object_get(conn, "room")) != NULL)
        json_object_set(o, "room", v);
    if ((v = json_object_get(conn, "id")) != NULL)
        json_object_set(o, "from", v);
    json_object_set_new(o, "context", json_string("user"));
    if ((v = json_object_get(msg, "sentAt")) != NULL)
        json_object_set(o, "sentAt", v);
    return o;
}

int ah_chat_set_hooks(ah_app_t *app, const ah_chat_hooks_t *hooks)
{
    struct chat *ch = chat_get(app);

    if (ch == NULL)
        return AH_ESTATE;
    if (hooks == NULL)
        return AH_EINVAL;
    if (hooks->generate_member_details)
        ch->hooks.generate_member_details = hooks->generate_member_details;
    if (hooks->sanitize_member_details)
        ch->hooks.sanitize_member_details = hooks->sanitize_member_details;
    if (hooks->generate_message_payload)
        ch->hooks.generate_message_payload = hooks->generate_message_payload;
    return 0;
}

/* ---------------------------------------------------------------- operations */

struct chat_op *chat_op_new(ah_app_t *app, ah_chat_cb cb, void *arg, const char *room)
{
    struct chat_op *op = xcalloc(1, sizeof(*op));

    op->app = app;
    op->cb = cb;
    op->arg = arg;
    if (room) {
        op->room = xstrdup(room);
        op->key = xasprintf(CHAT_KEY_MEMBERS "%s", room);
    }
    return op;
}

void chat_op_set_conn(struct chat_op *op, ah_connection_t *c)
{
    ah_connection_ref(c);
    op->c = c;
}

static void on_op_closed(uv_handle_t *h)
{
    free(h->data);
}

static void op_free(struct chat_op *op)
{
    if (op->c)
        ah_connection_unref(op->c);
    free(op->room);
    free(op->key);
    json_decref(op->json);
    json_decref(op->result);
    free(op->error);
    free(op->stop_error);
    if (op->timer_used)
        uv_close((uv_handle_t *)&op->timer, on_op_closed);
    else
        free(op);
}

void chat_op_done(struct chat_op *op, json_t *result, const char *error)
{
    if (op->cb)
        op->cb(op->app, error ? NULL : result, error, op->arg);
    op_free(op);
}

void chat_op_discard(struct chat_op *op)
{
    op_free(op);
}

static void on_op_timer(uv_timer_t *t)
{
    struct chat_op *op = t->data;

    chat_op_done(op, op->result, op->error);
}

void chat_op_done_later(struct chat_op *op, json_t *result, char *error_take)
{
    int rc;

    op->result = result ? json_incref(result) : NULL;
    op->error = error_take;
    if (!op->timer_used) {
        if ((rc = uv_timer_init(op->app->loop, &op->timer)) < 0)
            AH_BUG("uv_timer_init failed");
        op->timer.data = op;
        op->timer_used = true;
    }
    uv_timer_start(&op->timer, on_op_timer, 0, 0);
}

struct store *chat_store_or_fail(struct chat_op *op)
{
    struct store *s = chat_get(op->app) ? store_get(op->app) : NULL;

    if (s == NULL)
        chat_op_done_later(op, NULL, xstrdup("redis not connected, chatRoom cannot be used"));
    return s;
}

/* ---------------------------------------------------------------- starting rooms */

static void on_rooms_ensured(int status, const struct store_reply *reply, void *arg)
{
    (void)arg;
    if (status < 0)
        log_error("cannot create the starting chat rooms (general.startingChatRooms): %s",
                  store_strerror(status, reply));
}

/* chat.md §7: add(room) for each, ignoring `room exists`: one SADD of
 * every name, which is the same for a set.  Not awaited: every later
 * command on the store's client connection comes after it. */
static void ensure_starting_rooms(ah_app_t *app, void *arg)
{
    json_t *rooms = config_get(app, "general.startingChatRooms");
    struct store *s = store_get(app);
    const char **argv;
    const char *name;
    json_t *v;
    int argc = 2;

    (void)arg;
    if (!json_is_object(rooms) || json_object_size(rooms) == 0 || s == NULL)
        return;
    argv = xcalloc(json_object_size(rooms) + 2, sizeof(*argv));
    argv[0] = "SADD";
    argv[1] = CHAT_KEY_ROOMS;
    json_object_foreach(rooms, name, v) {
        log_debug("ensuring the existence of the chatRoom: %s", name);
        argv[argc++] = name;
    }
    if (store_commandv(s, STORE_CLIENT, argc, argv, NULL, on_rooms_ensured, NULL) < 0)
        log_error("cannot create the starting chat rooms (general.startingChatRooms): the store is closing");
    free(argv);
}

/* ---------------------------------------------------------------- initializer */

static int opt_int(ah_app_t *app, const char *path, long long dflt, long long min, long long max, long long *out)
{
    json_t *v = config_get(app, path);

    if (v == NULL || json_is_null(v)) {
        *out = dflt;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return ah_app_fail(app, "config '%s': expected an integer from %lld to %lld", path, min, max);
    *out = json_integer_value(v);
    return 0;
}

static int chat_initialize(ah_app_t *app)
{
    json_t *rooms = config_get(app, "general.startingChatRooms");
    long long max_members, max_message, max_rooms;
    struct chat *ch;
    size_t i;
    int rc;

    if (rooms != NULL && !json_is_object(rooms) && !json_is_null(rooms))
        return ah_app_fail(app, "config 'general.startingChatRooms': expected an object {roomName: options}");
    if ((rc = opt_int(app, "general.maxRoomMembers", 100000, 1, 1000000000, &max_members)) < 0)
        return rc;
    if ((rc = opt_int(app, "general.maxChatMessageBytes", 1 << 20, 64, 1LL << 30, &max_message)) < 0)
        return rc;
    if ((rc = opt_int(app, "general.maxRoomsPerConnection", 1000, 1, 1000000, &max_rooms)) < 0)
        return rc;
    if (store_get(app) == NULL || cluster_handle(app, "chat", NULL, NULL) < 0)
        return ah_app_fail(app, "the chatRoom initializer needs the store and the cluster layer");
    ch = xcalloc(1, sizeof(*ch));
    ch->app = app;
    ch->max_members = max_members;
    ch->max_message = max_message;
    ch->max_rooms = max_rooms;
    ch->hooks.generate_member_details = ah_chat_default_generate_member_details;
    ch->hooks.sanitize_member_details = ah_chat_default_sanitize_member_details;
    ch->hooks.generate_message_payload = ah_chat_default_generate_message_payload;
    ah_app_set(app, CHAT_SLOT, ch);
    for (i = 0; ah_gen_chat_middleware[i]; i++)
        if (ah_chat_middleware_add(app, ah_gen_chat_middleware[i]) < 0)
            return ah_app_fail(app, "middleware.name is required");
    cluster_handle(app, "chat", chat_on_pubsub, NULL);
    cluster_on_ready(app, "startingChatRooms", ensure_starting_rooms, NULL);
    chat_register_methods(app);
    return 0;
}

static int chat_start(ah_app_t *app)
{
    ensure_starting_rooms(app, NULL);
    return 0;
}

static int chat_stop(ah_app_t *app)
{
    struct chat *ch = chat_get(app);

    if (ch == NULL)
        return 0;
    cluster_handle(app, "chat", NULL, NULL);
    ah_app_set(app, CHAT_SLOT, NULL);
    local_free(ch);
    buf_release(&ch->out);
    free(ch->mws);
    free(ch);
    return 0;
}

/* process.md §1: load 520, start 200 (after the store and the cluster
 * layer); stop after the connections (9000) have left their rooms and
 * before the cluster layer (99998) and the store (99999) close. */
AH_INITIALIZER(chat_room) = {
    .name = "chatRoom",
    .load_priority = PRIO_CHAT,
    .start_priority = 200,
    .stop_priority = 99997,
    .initialize = chat_initialize,
    .start = chat_start,
    .stop = chat_stop,
};
