/*
 * rooms.c - the chatRoom API of chat.md §2-§3 on the store: list, add,
 * destroy, exists, roomStatus, addMember, removeMember, and the RPC
 * methods other servers call (api.chatRoom.addMember / removeMember /
 * broadcast).
 *
 * Keys and values are Actionhero's: the SET actionhero:chatRoom:rooms and
 * one HASH actionhero:chatRoom:members:<room> per room, field = connection
 * id, value = JSON.stringify(generateMemberDetails(connection)).
 *
 * Where Actionhero makes two round trips that need not be ordered (exists,
 * then HGETALL / HLEN) they are pipelined into one.  add() is one SADD
 * (0 means it existed), which also makes it atomic.
 */
#include "chat/chat_internal.h"

#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "cluster/cluster.h"
#include "config/config.h"
#include "conn/conn.h"
#include "core/json_out.h"
#include "dispatch/dispatch.h"
#include "log/log.h"

/* ---------------------------------------------------------------- helpers */

static char *store_error(int status, const struct store_reply *reply)
{
    return xstrdup(store_strerror(status, reply));
}

/* The store refused at once: answer on the next turn. */
static void op_fail_rc(struct chat_op *op, int rc)
{
    chat_op_done_later(op, NULL, xstrdup(store_strerror(rc, NULL)));
}

/* Failed reply (or a failed element of a pipeline): finish the op with the
 * error and return true. */
static bool failed(struct chat_op *op, int status, const struct store_reply *reply)
{
    if (chat_get(op->app) == NULL) {
        chat_op_done(op, NULL, "the server is shutting down");
        return true;
    }
    if (status < 0) {
        char *e = store_error(status, reply);

        chat_op_done(op, NULL, e);
        free(e);
        return true;
    }
    if (reply && reply->type == STORE_REPLY_ERROR) {
        chat_op_done(op, NULL, reply->str ? reply->str : "store error");
        return true;
    }
    return false;
}

static const struct store_reply *elem(const struct store_reply *r, size_t i)
{
    return r && r->type == STORE_REPLY_ARRAY && i < r->elements ? r->element[i] : NULL;
}

static long long int_of(const struct store_reply *r)
{
    return r && r->type == STORE_REPLY_INT ? r->integer : 0;
}

/* ---------------------------------------------------------------- list */

static void on_list(int status, const struct store_reply *reply, void *arg)
{
    struct chat_op *op = arg;
    json_t *names;
    size_t i;

    if (failed(op, status, reply))
        return;
    names = json_array();
    for (i = 0; reply->type == STORE_REPLY_ARRAY && i < reply->elements; i++) {
        const struct store_reply *e = reply->element[i];
        json_t *s = e && e->type == STORE_REPLY_STR ? json_stringn(e->str, e->len) : NULL;

        if (s) /* a name that is not UTF-8 cannot be JSON: skipped */
            json_array_append_new(names, s);
    }
    chat_op_done(op, names, NULL);
    json_decref(names);
}

int ah_chat_list(ah_app_t *app, ah_chat_cb cb, void *arg)
{
    struct chat_op *op;
    struct store *s;
    int rc;

    if (app == NULL)
        return AH_EINVAL;
    op = chat_op_new(app, cb, arg, NULL);
    if ((s = chat_store_or_fail(op)) == NULL)
        return 0;
    if ((rc = store_command(s, on_list, op, "SMEMBERS", CHAT_KEY_ROOMS, NULL)) < 0)
        op_fail_rc(op, rc);
    return 0;
}

/* ---------------------------------------------------------------- add */

static void on_added(int status, const struct store_reply *reply, void *arg)
{
    struct chat_op *op = arg;
    json_t *one;

    if (failed(op, status, reply))
        return;
    if (int_of(reply) == 0) {
        char *e = chat_err(op->app, "connectionRoomExists", "room", op->room, "room exists");

        chat_op_done(op, NULL, e);
        free(e);
        return;
    }
    one = json_integer(int_of(reply));
    chat_op_done(op, one, NULL);
    json_decref(one);
}

int ah_chat_add(ah_app_t *app, const char *room, ah_chat_cb cb, void *arg)
{
    struct chat_op *op;
    struct store *s;
    int rc;

    if (app == NULL || room == NULL)
        return AH_EINVAL;
    op = chat_op_new(app, cb, arg, room);
    if ((s = chat_store_or_fail(op)) == NULL)
        return 0;
    if ((rc = store_command(s, on_added, op, "SADD", CHAT_KEY_ROOMS, room, NULL)) < 0)
        op_fail_rc(op, rc);
    return 0;
}

/* ---------------------------------------------------------------- exists */

static void on_exists(int status, const struct store_reply *reply, void *arg)
{
    struct chat_op *op = arg;

    if (failed(op, status, reply))
        return;
    chat_op_done(op, int_of(reply) ? json_true() : json_false(), NULL);
}

int ah_chat_exists(ah_app_t *app, const char *room, ah_chat_cb cb, void *arg)
{
    struct chat_op *op;
    struct store *s;
    int rc;

    if (app == NULL)
        return AH_EINVAL;
    op = chat_op_new(app, cb, arg, room);
    if ((s = chat_store_or_fail(op)) == NULL)
        return 0;
    if (room == NULL) {
        chat_op_done_later(op, json_false(), NULL);
        return 0;
    }
    if ((rc = store_command(s, on_exists, op, "SISMEMBER", CHAT_KEY_ROOMS, room, NULL)) < 0)
        op_fail_rc(op, rc);
    return 0;
}

/* ---------------------------------------------------------------- roomStatus */

static void on_status(int status, const struct store_reply *reply, void *arg)
{
    struct chat_op *op = arg;
    const struct store_reply *exists = elem(reply, 0), *all = elem(reply, 1);
    struct chat *ch;
    json_t *members, *out;
    long long count = 0;
    size_t i;

    if (failed(op, status, reply) || failed(op, 0, exists) || failed(op, 0, all))
        return;
    if (int_of(exists) == 0) {
        char *e = chat_err_room_not_exist(op->app, op->room);

        chat_op_done(op, NULL, e);
        free(e);
        return;
    }
    ch = chat_get(op->app);
    members = json_object();
    for (i = 0; all && all->type == STORE_REPLY_ARRAY && i + 1 < all->elements; i += 2) {
        const struct store_reply *f = all->element[i], *v = all->element[i + 1];
        char *id = xstrndup(f->str ? f->str : "", f->len);
        json_t *data = v->str ? core_json_parse(v->str, v->len, NULL) : NULL;
        json_t *clean;

        if (data == NULL) {
            /* Actionhero's JSON.parse would throw here and fail the whole
             * call: one bad entry should not hide the room from everyone */
            log_warn("chat room '%s': member '%s' has details that are not JSON (skipped)", op->room, id);
            free(id);
            continue;
        }
        clean = ch->hooks.sanitize_member_details(op->app, data);
        json_object_set_new(members, id, clean ? clean : json_object());
        json_decref(data);
        free(id);
        count++;
    }
    out = json_object();
    json_object_set_new(out, "room", json_string(op->room));
    json_object_set_new(out, "members", members);
    json_object_set_new(out, "membersCount", json_integer(count));
    chat_op_done(op, out, NULL);
    json_decref(out);
}

int ah_chat_room_status(ah_app_t *app, const char *room, ah_chat_cb cb, void *arg)
{
    struct store_batch b = STORE_BATCH_INIT;
    struct chat_op *op;
    struct store *s;
    int rc;

    if (app == NULL)
        return AH_EINVAL;
    op = chat_op_new(app, cb, arg, room);
    if ((s = chat_store_or_fail(op)) == NULL)
        return 0;
    if (room == NULL || room[0] == '\0') {
        chat_op_done_later(op, NULL, chat_err(app, "connectionRoomRequired", NULL, NULL, "a room is required"));
        return 0;
    }
    store_batch_add(&b, "SISMEMBER", CHAT_KEY_ROOMS, room, NULL);
    store_batch_add(&b, "HGETALL", op->key, NULL);
    if ((rc = store_pipeline(s, STORE_CLIENT, &b, on_status, op)) < 0)
        op_fail_rc(op, rc);
    store_batch_release(&b);
    return 0;
}

/* ---------------------------------------------------------------- remote members */

static void on_rpc_done(ah_app_t *app, int status, json_t *response, const char *error, void *arg)
{
    struct chat_op *op = arg;

    (void)app;
    (void)status;
    chat_op_done(op, response, error);
}

static int remote_call(ah_app_t *app, const char *method, const char *id, const char *room, bool wait,
                       ah_chat_cb cb, void *arg)
{
    struct chat_op *op = chat_op_new(app, cb, arg, room);
    json_t *args = json_array();
    int rc;

    json_array_append_new(args, json_string(id));
    /* JSON.stringify([id, undefined]) is [id, null] */
    json_array_append_new(args, room ? json_string(room) : json_null());
    rc = cluster_do(app, method, args, id, wait, on_rpc_done, op);
    if (rc == AH_ELIMIT)
        chat_op_done_later(op, NULL, xstrdup("too many RPC calls are waiting for an answer"));
    else if (rc < 0)
        chat_op_done_later(op, NULL, xstrdup("redis not connected, chatRoom cannot be used"));
    return 0;
}

/* ---------------------------------------------------------------- addMember */

static void rollback_join(struct chat_op *op)
{
    struct chat *ch = chat_get(op->app);

    if (op->flag && chat_conn_drop_room(op->c, op->room) && ch)
        chat_local_remove(ch, op->room, op->c);
}

static void on_member_stored(int status, const struct store_reply *reply, void *arg)
{
    struct chat_op *op = arg;

    if (status < 0 || (reply && reply->type == STORE_REPLY_ERROR)) {
        rollback_join(op);
        failed(op, status, reply);
        return;
    }
    chat_op_done(op, json_true(), NULL);
}

static void on_join_checked(int status, const struct store_reply *reply, void *arg)
{
    struct chat_op *op = arg;
    const struct store_reply *exists = elem(reply, 0), *count = elem(reply, 1);
    ah_chat_event_t ev = {0};
    ah_connection_t *c = op->c;
    struct chat *ch;
    struct store *s;
    json_t *details;
    char *err, *text;
    int rc;

    if (failed(op, status, reply) || failed(op, 0, exists) || failed(op, 0, count))
        return;
    ch = chat_get(op->app);
    if (c->destroyed) {
        /* Actionhero would still add it, leaving a member nobody removes */
        chat_op_done(op, NULL, "the connection is closed");
        return;
    }
    if (int_of(exists) == 0) {
        err = chat_err_room_not_exist(op->app, op->room);
        chat_op_done(op, NULL, err);
        free(err);
        return;
    }
    if (int_of(count) >= ch->max_members && !chat_conn_in_room(c, op->room)) {
        err = chat_err(op->app, "connectionRoomFull", "room", op->room, "room is full (%s)");
        chat_op_done(op, NULL, err);
        free(err);
        return;
    }
    ev.app = op->app;
    ev.connection = c;
    ev.room = op->room;
    if ((rc = chat_run_middleware(ch, CHAT_JOIN, &ev, &err)) < 0) {
        chat_op_done(op, NULL, err);
        free(err);
        return;
    }
    if (c->destroyed) { /* a join hook may close the connection */
        chat_op_done(op, NULL, "the connection is closed");
        return;
    }
    /* two joins in flight: the second finds the room there and only
     * rewrites the member entry, as in Actionhero */
    if (!chat_conn_in_room(c, op->room) && (long long)json_array_size(c->rooms) >= ch->max_rooms) {
        err = chat_err_too_many_rooms(op->app, ch->max_rooms);
        chat_op_done(op, NULL, err);
        free(err);
        return;
    }
    if (!chat_conn_in_room(c, op->room)) {
        json_array_append_new(c->rooms, json_string(op->room));
        if (c->can_chat)
            chat_local_add(ch, op->room, c);
        op->flag = true;
    }
    details = ch->hooks.generate_member_details(op->app, c);
    text = json_out_str(details ? details : json_object(), 0, 0, NULL);
    json_decref(details);
    s = store_get(op->app);
    rc = s ? store_command(s, on_member_stored, op, "HSET", op->key, c->id, text, NULL) : AH_ESTATE;
    free(text);
    if (rc < 0) {
        rollback_join(op);
        op_fail_rc(op, rc);
    }
}

int chat_add_member_local(ah_app_t *app, ah_connection_t *c, const char *room, ah_chat_cb cb, void *arg)
{
    struct store_batch b = STORE_BATCH_INIT;
    struct chat_op *op = chat_op_new(app, cb, arg, room);
    struct store *s;
    int rc;

    chat_op_set_conn(op, c);
    if ((s = chat_store_or_fail(op)) == NULL)
        return 0;
    if (chat_conn_in_room(c, room)) {
        chat_op_done_later(op, NULL,
                           chat_err(app, "connectionAlreadyInRoom", "room", room,
                                    "connection already in this room (%s)"));
        return 0;
    }
    if ((long long)json_array_size(c->rooms) >= chat_get(app)->max_rooms) {
        chat_op_done_later(op, NULL, chat_err_too_many_rooms(app, chat_get(app)->max_rooms));
        return 0;
    }
    if (room == NULL) { /* exists(undefined) is false */
        chat_op_done_later(op, NULL, chat_err_room_not_exist(app, NULL));
        return 0;
    }
    store_batch_add(&b, "SISMEMBER", CHAT_KEY_ROOMS, room, NULL);
    store_batch_add(&b, "HLEN", op->key, NULL);
    if ((rc = store_pipeline(s, STORE_CLIENT, &b, on_join_checked, op)) < 0)
        op_fail_rc(op, rc);
    store_batch_release(&b);
    return 0;
}

int ah_chat_add_member(ah_app_t *app, const char *connection_id, const char *room, ah_chat_cb cb, void *arg)
{
    ah_connection_t *c;

    if (app == NULL || connection_id == NULL)
        return AH_EINVAL;
    c = conn_find(app, connection_id);
    if (c == NULL)
        return remote_call(app, "api.chatRoom.addMember", connection_id, room, true, cb, arg);
    return chat_add_member_local(app, c, room, cb, arg);
}

/* ---------------------------------------------------------------- removeMember */

static void on_hdel_logged(int status, const struct store_reply *reply, void *arg)
{
    (void)arg;
    if (status < 0)
        log_warn("cannot remove a chat room member: %s", store_strerror(status, reply));
}

/* HDEL without waiting (destroy, stale rooms). */
static void hdel_later(ah_app_t *app, const char *room, const char *id)
{
    struct store *s = store_get(app);
    char *key;

    if (s == NULL)
        return;
    key = xasprintf(CHAT_KEY_MEMBERS "%s", room);
    if (store_command(s, on_hdel_logged, NULL, "HDEL", key, id, NULL) < 0)
        log_warn("cannot remove chat room member '%s' from '%s': the store is closing", id, room);
    free(key);
}

static void on_member_deleted(int status, const struct store_reply *reply, void *arg)
{
    struct chat_op *op = arg;

    if (failed(op, status, reply))
        return;
    chat_op_done(op, json_true(), NULL);
}

static void on_leave_checked(int status, const struct store_reply *reply, void *arg)
{
    struct chat_op *op = arg;
    ah_connection_t *c = op->c;
    ah_chat_event_t ev = {0};
    struct chat *ch;
    struct store *s;
    char *err;
    int rc;

    if (failed(op, status, reply))
        return;
    ch = chat_get(op->app);
    if (!chat_conn_in_room(c, op->room)) { /* left meanwhile */
        err = chat_err_not_in_room(op->app, op->room);
        chat_op_done(op, NULL, err);
        free(err);
        return;
    }
    if (int_of(reply) == 0) {
        /* The room was deleted while `c` was listed in it (a remote
         * destroy removes members without waiting): Actionhero leaves the
         * connection listed in a room it can never leave.  We drop it
         * and still report the error. */
        if (chat_conn_drop_room(c, op->room))
            chat_local_remove(ch, op->room, c);
        hdel_later(op->app, op->room, c->id);
        err = chat_err_room_not_exist(op->app, op->room);
        chat_op_done(op, NULL, err);
        free(err);
        return;
    }
    ev.app = op->app;
    ev.connection = c;
    ev.room = op->room;
    if ((rc = chat_run_middleware(ch, CHAT_LEAVE, &ev, &err)) < 0) {
        chat_op_done(op, NULL, err);
        free(err);
        return;
    }
    if (chat_conn_drop_room(c, op->room))
        chat_local_remove(ch, op->room, c);
    s = store_get(op->app);
    rc = s ? store_command(s, on_member_deleted, op, "HDEL", op->key, c->id, NULL) : AH_ESTATE;
    if (rc < 0)
        op_fail_rc(op, rc);
}

int chat_remove_member_local(ah_app_t *app, ah_connection_t *c, const char *room, ah_chat_cb cb, void *arg)
{
    struct chat_op *op = chat_op_new(app, cb, arg, room);
    struct store *s;
    int rc;

    chat_op_set_conn(op, c);
    if ((s = chat_store_or_fail(op)) == NULL)
        return 0;
    if (!chat_conn_in_room(c, room)) {
        chat_op_done_later(op, NULL, chat_err_not_in_room(app, room));
        return 0;
    }
    if ((rc = store_command(s, on_leave_checked, op, "SISMEMBER", CHAT_KEY_ROOMS, room, NULL)) < 0)
        op_fail_rc(op, rc);
    return 0;
}

int ah_chat_remove_member(ah_app_t *app, const char *connection_id, const char *room, bool wait_remote,
                          ah_chat_cb cb, void *arg)
{
    ah_connection_t *c;

    if (app == NULL || connection_id == NULL)
        return AH_EINVAL;
    c = conn_find(app, connection_id);
    if (c == NULL)
        return remote_call(app, "api.chatRoom.removeMember", connection_id, room, wait_remote, cb, arg);
    return chat_remove_member_local(app, c, room, cb, arg);
}

/* ---------------------------------------------------------------- destroy */

static void destroy_next(struct chat_op *op);

static void on_destroy_deleted(int status, const struct store_reply *reply, void *arg)
{
    struct chat_op *op = arg;

    if (failed(op, status, reply))
        return;
    chat_op_done(op, NULL, NULL);
}

/* Every member is handled: delete the room, or report the first local
 * failure (Actionhero stops there and leaves the room). */
static void destroy_finish(struct chat_op *op)
{
    struct store_batch b = STORE_BATCH_INIT;
    struct store *s;
    int rc;

    if (op->stop_error) {
        chat_op_done(op, NULL, op->stop_error);
        return;
    }
    if ((s = store_get(op->app)) == NULL) {
        chat_op_done_later(op, NULL, xstrdup("redis not connected, chatRoom cannot be used"));
        return;
    }
    store_batch_add(&b, "SREM", CHAT_KEY_ROOMS, op->room, NULL);
    store_batch_add(&b, "DEL", op->key, NULL);
    if ((rc = store_pipeline(s, STORE_CLIENT, &b, on_destroy_deleted, op)) < 0)
        op_fail_rc(op, rc);
    store_batch_release(&b);
}

static void on_destroy_member_removed(ah_app_t *app, json_t *result, const char *error, void *arg)
{
    struct chat_op *op = arg;

    (void)app;
    (void)result;
    if (error) { /* Actionhero stops at the first failure too */
        op->stop_error = xstrdup(error);
        op->listed = true;
        if (op->pending == 0)
            destroy_finish(op);
        return;
    }
    op->i++;
    destroy_next(op);
}

/* A member held by another server answered (or did not, within
 * general.rpcTimeout).  Actionhero does not wait for these answers, so its
 * receivers may find the room already gone ("room does not exist"), which
 * a Node Actionhero server does not catch: its process dies of the
 * unhandled rejection.  We delete the room only once every holder has
 * answered, or after one rpcTimeout for all of them (the calls run in
 * parallel). */
static void on_destroy_remote_removed(ah_app_t *app, json_t *result, const char *error, void *arg)
{
    struct chat_op *op = arg;

    (void)app;
    (void)result;
    if (error)
        log_debug("destroying chat room '%s': a member on another server: %s", op->room, error);
    op->pending--;
    if (op->pending == 0 && op->listed)
        destroy_finish(op);
}

static void destroy_next(struct chat_op *op)
{
    int rc;

    while (op->i < json_array_size(op->json)) {
        const char *id = json_string_value(json_array_get(op->json, op->i));

        if (conn_find(op->app, id) != NULL) {
            /* ours: in turn; continues in on_destroy_member_removed */
            rc = ah_chat_remove_member(op->app, id, op->room, false, on_destroy_member_removed, op);
            if (rc < 0) {
                op->stop_error = xstrdup(ah_strerror(rc));
                break;
            }
            return;
        }
        /* another server's: by RPC, all at once (remote_call answers
         * later, never inline) */
        op->i++;
        op->pending++;
        remote_call(op->app, "api.chatRoom.removeMember", id, op->room, true, on_destroy_remote_removed, op);
    }
    op->listed = true;
    if (op->pending == 0)
        destroy_finish(op);
}

static void on_destroy_members(int status, const struct store_reply *reply, void *arg)
{
    struct chat_op *op = arg;
    size_t i;

    if (failed(op, status, reply))
        return;
    op->json = json_array();
    for (i = 0; reply->type == STORE_REPLY_ARRAY && i + 1 < reply->elements; i += 2) {
        const struct store_reply *f = reply->element[i];

        json_array_append_new(op->json, json_string(f->str ? f->str : ""));
    }
    op->i = 0;
    destroy_next(op);
}

static void on_destroy_broadcast(ah_app_t *app, json_t *result, const char *error, void *arg)
{
    struct chat_op *op = arg;
    struct store *s;
    int rc;

    (void)app;
    (void)result;
    if (error) {
        chat_op_done(op, NULL, error);
        return;
    }
    if ((s = store_get(op->app)) == NULL) {
        chat_op_done(op, NULL, "redis not connected, chatRoom cannot be used");
        return;
    }
    if ((rc = store_command(s, on_destroy_members, op, "HGETALL", op->key, NULL)) < 0)
        op_fail_rc(op, rc);
}

static void on_destroy_checked(int status, const struct store_reply *reply, void *arg)
{
    struct chat_op *op = arg;
    json_t *text;
    char *t;
    int rc;

    if (failed(op, status, reply))
        return;
    if (int_of(reply) == 0) {
        t = chat_err_room_not_exist(op->app, op->room);
        chat_op_done(op, NULL, t);
        free(t);
        return;
    }
    t = chat_err(op->app, "connectionRoomHasBeenDeleted", "room", op->room, "this room has been deleted");
    text = json_string(t);
    free(t);
    rc = ah_chat_broadcast(op->app, NULL, op->room, text, on_destroy_broadcast, op);
    json_decref(text);
    if (rc < 0)
        chat_op_done_later(op, NULL, xstrdup(ah_strerror(rc)));
}

int ah_chat_destroy(ah_app_t *app, const char *room, ah_chat_cb cb, void *arg)
{
    struct chat_op *op;
    struct store *s;
    int rc;

    if (app == NULL)
        return AH_EINVAL;
    op = chat_op_new(app, cb, arg, room);
    if ((s = chat_store_or_fail(op)) == NULL)
        return 0;
    if (room == NULL) {
        chat_op_done_later(op, NULL, chat_err_room_not_exist(app, NULL));
        return 0;
    }
    if ((rc = store_command(s, on_destroy_checked, op, "SISMEMBER", CHAT_KEY_ROOMS, room, NULL)) < 0)
        op_fail_rc(op, rc);
    return 0;
}

/* ---------------------------------------------------------------- RPC methods */

/* An RPC argument as a string: undefined / null -> NULL, else String(v). */
static char *arg_str(json_t *args, size_t i)
{
    json_t *v = json_array_get(args, i);

    if (v == NULL || json_is_null(v))
        return NULL;
    return dispatch_js_string(v);
}

static void on_method_done(ah_app_t *app, json_t *result, const char *error, void *arg)
{
    struct cluster_call *call = arg;

    (void)app;
    if (error)
        cluster_call_fail(call, "%s", error);
    else
        cluster_call_reply(call, result);
}

static void method_add_member(struct cluster_call *call, json_t *args, void *arg)
{
    char *id = arg_str(args, 0), *room = arg_str(args, 1);

    (void)arg;
    if (id == NULL || ah_chat_add_member(cluster_call_app(call), id, room, on_method_done, call) < 0)
        cluster_call_fail(call, "a connection id is required");
    free(id);
    free(room);
}

static void method_remove_member(struct cluster_call *call, json_t *args, void *arg)
{
    char *id = arg_str(args, 0), *room = arg_str(args, 1);
    json_t *w = json_array_get(args, 2);
    bool wait = w == NULL || core_truthy(w); /* toWaitRemote = true */

    (void)arg;
    if (id == NULL || ah_chat_remove_member(cluster_call_app(call), id, room, wait, on_method_done, call) < 0)
        cluster_call_fail(call, "a connection id is required");
    free(id);
    free(room);
}

/* api.chatRoom.broadcast(connection, room, message): the connection is a
 * plain object here; if it has `rooms`, the room must be one of them. */
static void method_broadcast(struct cluster_call *call, json_t *args, void *arg)
{
    json_t *conn = json_array_get(args, 0);
    json_t *rooms = json_object_get(conn, "rooms");
    json_t *id = json_object_get(conn, "id");
    char *room = arg_str(args, 1), *sid = core_truthy(id) ? dispatch_js_string(id) : NULL;

    (void)arg;
    if (chat_broadcast_as(cluster_call_app(call), NULL, sid, rooms, room, json_array_get(args, 2),
                          on_method_done, call) < 0)
        cluster_call_fail(call, "cannot broadcast");
    free(room);
    free(sid);
}

void chat_register_methods(ah_app_t *app)
{
    cluster_method_add(app, "chatRoom.addMember", method_add_member, NULL);
    cluster_method_add(app, "chatRoom.removeMember", method_remove_member, NULL);
    cluster_method_add(app, "chatRoom.broadcast", method_broadcast, NULL);
}
