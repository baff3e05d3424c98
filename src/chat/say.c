/*
 * say.c - broadcast (chat.md §4) and delivery (§5).
 *
 * A message always goes through pub/sub on general.channel, also to
 * members on this server: every server (this one included) hears it and
 * delivers to its own members, so the memory and Redis backends take the
 * same path.
 *
 * Delivery serialises once: without `say` middleware every recipient gets
 * the same payload, so it is rendered once (JSON.stringify form, U+2028 /
 * U+2029 escaped as websocket output needs) and the same bytes go to every
 * member whose server type has send_serialized; others get the object
 * through send_message.  With `say` middleware each recipient gets its own
 * copy, which its server renders.
 */
#include "chat/chat_internal.h"

#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "cluster/cluster.h"
#include "core/json_out.h"
#include "dispatch/dispatch.h"
#include "log/log.h"

/* ---------------------------------------------------------------- broadcast */

static bool rooms_contain(json_t *rooms, const char *room)
{
    size_t i;

    for (i = 0; i < json_array_size(rooms); i++) {
        const char *r = json_string_value(json_array_get(rooms, i));

        if (r && strcmp(r, room) == 0)
            return true;
    }
    return false;
}

static char *too_large(ah_app_t *app, long long max)
{
    char n[32];

    snprintf(n, sizeof(n), "%lld", max);
    return chat_err(app, "chatMessageTooLarge", "max", n, "message is too large (more than %s bytes)");
}

static void on_published(int status, const struct store_reply *reply, void *arg)
{
    struct chat_op *op = arg;

    if (status < 0) {
        chat_op_done(op, NULL, store_strerror(status, reply));
        return;
    }
    chat_op_done(op, NULL, NULL);
}

/* The message to publish from the payload onSayReceive left: only
 * message, sentAt, from and room survive (chat.md §4 step 7). */
static json_t *envelope(ah_app_t *app, json_t *p)
{
    json_t *m = json_object(), *conn = json_object(), *v;

    json_object_set_new(m, "messageType", json_string("chat"));
    json_object_set_new(m, "serverToken", json_string(cluster_server_token(app)));
    json_object_set_new(m, "serverId", json_string(cluster_server_id(app)));
    if ((v = json_object_get(p, "message")) != NULL)
        json_object_set(m, "message", v);
    if ((v = json_object_get(p, "sentAt")) != NULL)
        json_object_set(m, "sentAt", v);
    if ((v = json_object_get(p, "from")) != NULL)
        json_object_set(conn, "id", v);
    if ((v = json_object_get(p, "room")) != NULL)
        json_object_set(conn, "room", v);
    json_object_set_new(m, "connection", conn);
    return m;
}

int chat_broadcast_as(ah_app_t *app, ah_connection_t *speaker, const char *speaker_id, json_t *speaker_rooms,
                      const char *room, json_t *message, ah_chat_cb cb, void *arg)
{
    struct chat_op *op;
    struct chat *ch;
    ah_chat_event_t ev = {0};
    json_t *msg, *conn, *payload, *out;
    char *err, *text;
    size_t len;
    int rc;

    if (app == NULL)
        return AH_EINVAL;
    op = chat_op_new(app, cb, arg, room);
    if (speaker)
        chat_op_set_conn(op, speaker);
    if (chat_store_or_fail(op) == NULL)
        return 0;
    ch = chat_get(app);
    if (room == NULL || room[0] == '\0' || !core_truthy(message)) {
        chat_op_done_later(op, NULL,
                           chat_err(app, "connectionRoomAndMessage", NULL, NULL, "both room and message are required"));
        return 0;
    }
    if (speaker_rooms && !rooms_contain(speaker_rooms, room)) {
        chat_op_done_later(op, NULL, chat_err_not_in_room(app, room));
        return 0;
    }
    if (json_is_string(message) && (long long)json_string_length(message) > ch->max_message) {
        chat_op_done_later(op, NULL, too_large(app, ch->max_message));
        return 0;
    }
    msg = json_object();
    json_object_set_new(msg, "messageType", json_string("chat"));
    json_object_set_new(msg, "serverToken", json_string(cluster_server_token(app)));
    json_object_set_new(msg, "serverId", json_string(cluster_server_id(app)));
    json_object_set(msg, "message", message);
    json_object_set_new(msg, "sentAt", json_integer((json_int_t)core_now_ms()));
    conn = json_object();
    json_object_set_new(conn, "id", json_string(speaker_id && speaker_id[0] ? speaker_id : "0"));
    json_object_set_new(conn, "room", json_string(room));
    json_object_set_new(msg, "connection", conn);
    payload = ch->hooks.generate_message_payload(app, msg);
    json_decref(msg);

    /* onSayReceive: once, here, on a shallow copy */
    ev.app = app;
    ev.connection = speaker;
    ev.room = json_is_string(json_object_get(payload, "room")) ? json_string_value(json_object_get(payload, "room"))
                                                               : room;
    ev.payload = json_is_object(payload) ? json_copy(payload) : payload ? json_incref(payload) : NULL;
    rc = chat_run_middleware(ch, CHAT_ON_SAY_RECEIVE, &ev, &err);
    json_decref(payload);
    if (rc < 0) {
        json_decref(ev.payload);
        chat_op_done_later(op, NULL, err);
        return 0;
    }
    if (ev.payload == NULL || json_is_null(ev.payload)) { /* dropped */
        json_decref(ev.payload);
        chat_op_done_later(op, NULL, NULL);
        return 0;
    }
    out = envelope(app, ev.payload);
    json_decref(ev.payload);
    text = json_out_str(out, 0, 0, &len);
    json_decref(out);
    if ((long long)len > ch->max_message) {
        free(text);
        chat_op_done_later(op, NULL, too_large(app, ch->max_message));
        return 0;
    }
    if ((rc = cluster_publish_take(app, text, len, on_published, op)) < 0)
        chat_op_done_later(op, NULL, xstrdup("redis not connected, chatRoom cannot be used"));
    return 0;
}

int ah_chat_broadcast(ah_app_t *app, ah_connection_t *c, const char *room, json_t *message, ah_chat_cb cb,
                      void *arg)
{
    if (app == NULL)
        return AH_EINVAL;
    return chat_broadcast_as(app, c, c ? c->id : NULL, c ? c->rooms : NULL, room, message, cb, arg);
}

/* ---------------------------------------------------------------- delivery */

/* Through `say` middleware, for one recipient. */
static void deliver_one(struct chat *ch, ah_connection_t *c, const char *room, json_t *payload)
{
    ah_chat_event_t ev = {0};
    char *err;

    ev.app = ch->app;
    ev.connection = c;
    ev.room = room;
    ev.payload = json_copy(payload);
    if (chat_run_middleware(ch, CHAT_SAY, &ev, &err) < 0) {
        char *p = json_out_str(payload, 0, 0, NULL);
        json_t *data = json_pack("{s:s, s:s}", "messagePayload", p ? p : "", "connection", c->id);

        log_msg(AH_LOG_WARNING, data, "chat say middleware failed: %s", err);
        json_decref(data);
        free(p);
        free(err);
    } else if (ev.payload != NULL && !json_is_null(ev.payload)) {
        ah_connection_send_message(c, ev.payload);
    }
    json_decref(ev.payload);
}

void chat_on_pubsub(ah_app_t *app, json_t *message, void *arg)
{
    struct chat *ch = chat_get(app);
    struct chat_local_room *lr;
    ah_connection_t *stack[64], **to;
    json_t *payload, *rv, *ctx;
    char *room;
    bool shared;
    size_t i, n;

    (void)arg;
    if (ch == NULL)
        return;
    payload = ch->hooks.generate_message_payload(app, message);
    rv = json_object_get(payload, "room");
    if (!json_is_object(payload) || rv == NULL || json_is_null(rv)) {
        json_decref(payload);
        return; /* no room: nobody can be in it */
    }
    room = json_is_string(rv) ? xstrdup(json_string_value(rv)) : dispatch_js_string(rv);
    lr = chat_local_find(ch, room);
    if (lr == NULL || lr->n == 0)
        goto out;
    /* A snapshot with references: a send may close a connection (slow
     * consumer), whose destroy leaves its rooms. */
    n = lr->n;
    to = n <= ARRAY_SIZE(stack) ? stack : xcalloc(n, sizeof(*to));
    for (i = 0; i < n; i++) {
        to[i] = lr->conns[i];
        ah_connection_ref(to[i]);
    }
    if (ch->n_say_mws > 0) {
        for (i = 0; i < n; i++)
            if (!to[i]->destroyed && to[i]->can_chat)
                deliver_one(ch, to[i], room, payload);
    } else {
        ctx = json_object_get(payload, "context");
        /* the bytes a server's send_message would write unchanged */
        shared = json_is_string(ctx) && strcmp(json_string_value(ctx), "response") != 0 &&
                 json_object_get(payload, "error") == NULL;
        if (shared) {
            buf_reset(&ch->out);
            json_out(&ch->out, payload, 0, JSON_OUT_ESCAPE_LS_PS);
        }
        for (i = 0; i < n; i++) {
            ah_connection_t *c = to[i];

            if (c->destroyed || !c->can_chat)
                continue;
            if (shared && c->server->send_serialized)
                c->server->send_serialized(c, ch->out.data, ch->out.len);
            else
                ah_connection_send_message(c, payload);
        }
    }
    for (i = 0; i < n; i++)
        ah_connection_unref(to[i]);
    if (to != stack)
        free(to);
    /* do not keep the memory of the largest message ever said */
    if (ch->out.cap > 65536)
        buf_release(&ch->out);
out:
    free(room);
    json_decref(payload);
}
