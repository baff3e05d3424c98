/*
 * chat_verbs.c - the chat verbs of connection.md §6 (roomAdd, roomLeave,
 * roomView, say) and connection.destroy()'s "leave every room" (§4 step 3).
 *
 * Words arrive as JSON values (websocket: [room, ...other values]).  A
 * room is String(word) (so 5 and "5" name the same room; Actionhero would
 * keep the number in connection.rooms); a missing word is undefined.
 * `say` joins the remaining words with single spaces, as
 * Array.prototype.join does (null and undefined become "").
 */
#include "chat/chat_internal.h"

#include <stdlib.h>
#include <string.h>

#include "dispatch/dispatch.h"
#include "log/log.h"

static const char *const chat_verbs[] = {"roomAdd", "roomLeave", "roomView", "say", NULL};

bool chat_is_verb(const char *verb)
{
    size_t i;

    for (i = 0; verb && chat_verbs[i]; i++)
        if (strcmp(chat_verbs[i], verb) == 0)
            return true;
    return false;
}

struct verb_op {
    ah_connection_t *c;
    ah_verb_cb cb;
    void *arg;
};

static void on_verb_done(ah_app_t *app, json_t *result, const char *error, void *arg)
{
    struct verb_op *v = arg;

    (void)app;
    if (error) {
        char *e = xasprintf("Error: %s", error);

        v->cb(v->c, NULL, e, v->arg);
        free(e);
    } else {
        v->cb(v->c, result, NULL, v->arg);
    }
    ah_connection_unref(v->c);
    free(v);
}

/* A room word: NULL for undefined / null, else String(word). */
static char *room_word(json_t *w)
{
    if (w == NULL || json_is_null(w))
        return NULL;
    return dispatch_js_string(w);
}

/* words.slice(1).join(" ") */
static json_t *join_rest(json_t *words)
{
    struct buf b = BUF_INIT;
    json_t *out;
    size_t i;

    for (i = 1; i < json_array_size(words); i++) {
        json_t *w = json_array_get(words, i);

        if (i > 1)
            buf_addc(&b, ' ');
        if (json_is_string(w)) {
            buf_add(&b, json_string_value(w), json_string_length(w));
        } else if (w && !json_is_null(w)) {
            char *s = dispatch_js_string(w);

            buf_adds(&b, s);
            free(s);
        }
    }
    out = json_stringn(b.data ? b.data : "", b.len);
    buf_release(&b);
    return out ? out : json_string("");
}

int chat_verb(ah_connection_t *c, const char *verb, json_t *words, ah_verb_cb cb, void *arg)
{
    ah_app_t *app = c ? c->app : NULL;
    json_t *w0 = json_array_get(words, 0);
    struct verb_op *v;
    char *room;
    int rc;

    if (c == NULL || cb == NULL || !chat_is_verb(verb))
        return AH_EINVAL;
    if (chat_get(app) == NULL)
        return AH_ESTATE;
    v = xcalloc(1, sizeof(*v));
    v->c = c;
    v->cb = cb;
    v->arg = arg;
    ah_connection_ref(c);
    room = room_word(w0);
    if (strcmp(verb, "roomAdd") == 0) {
        rc = chat_add_member_local(app, c, room, on_verb_done, v);
    } else if (strcmp(verb, "roomLeave") == 0) {
        rc = chat_remove_member_local(app, c, room, on_verb_done, v);
    } else if (strcmp(verb, "roomView") == 0) {
        if (chat_conn_in_room(c, room)) {
            rc = ah_chat_room_status(app, room, on_verb_done, v);
        } else {
            /* through a failing broadcast-free path: answer later */
            struct chat_op *op = chat_op_new(app, on_verb_done, v, room);
            char *t = w0 ? dispatch_js_string(w0) : NULL;

            chat_op_done_later(op, NULL, chat_err_not_in_room(app, t));
            free(t);
            rc = 0;
        }
    } else { /* say */
        json_t *message = join_rest(words);

        /* `!room` on the word itself: 0, "" and null are falsy */
        rc = chat_broadcast_as(app, c, c->id, c->rooms, core_truthy(w0) ? room : NULL, message, on_verb_done, v);
        json_decref(message);
    }
    free(room);
    if (rc < 0) {
        ah_connection_unref(c);
        free(v);
    }
    return rc;
}

/* ---------------------------------------------------------------- destroy */

static void on_hdel(int status, const struct store_reply *reply, void *arg)
{
    (void)arg;
    if (status < 0)
        log_warn("cannot remove a chat room member of a closed connection: %s", store_strerror(status, reply));
}

void chat_connection_leave_all(ah_connection_t *c)
{
    struct chat *ch;
    struct store *s;
    json_t *rooms;
    size_t i;

    /* most connections (every web request) never join a room: no lookups */
    if (json_array_size(c->rooms) == 0)
        return;
    ch = chat_get(c->app);
    s = store_get(c->app);
    /* a leave hook could touch c->rooms: walk a copy */
    rooms = json_copy(c->rooms);
    for (i = 0; i < json_array_size(rooms); i++) {
        const char *room = json_string_value(json_array_get(rooms, i));
        ah_chat_event_t ev = {0};
        char *err, *key;

        if (room == NULL)
            continue;
        if (ch) {
            ev.app = c->app;
            ev.connection = c;
            ev.room = room;
            if (chat_run_middleware(ch, CHAT_LEAVE, &ev, &err) < 0) {
                log_warn("chat leave middleware refused to let closed connection %s leave '%s' (ignored): %s",
                         c->id, room, err);
                free(err);
            }
            chat_local_remove(ch, room, c);
        }
        if (s) {
            key = xasprintf(CHAT_KEY_MEMBERS "%s", room);
            if (store_command(s, on_hdel, NULL, "HDEL", key, c->id, NULL) < 0)
                log_warn("cannot remove closed connection %s from chat room '%s': the store is closing", c->id,
                         room);
            free(key);
        }
    }
    json_decref(rooms);
    json_array_clear(c->rooms);
}
