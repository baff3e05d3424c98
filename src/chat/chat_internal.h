/*
 * chat_internal.h - what the files of src/chat share.
 *
 *   chat.c   the state, the initializer (starting rooms), middleware,
 *            the overridable functions, the local member index, the
 *            operation helpers
 *   rooms.c  list / add / destroy / exists / roomStatus / addMember /
 *            removeMember, and their RPC methods
 *   say.c    broadcast and delivery
 *   verbs.c  the chat verbs and leaving every room on destroy
 *
 * Lifetime: the state lives in the app slot "chatRoom" from load until
 * the chat stop (priority 99997, after the connections are gone and
 * before the cluster layer and the store close).  Operations in flight
 * never keep a pointer to the state across a loop turn: they keep the app
 * and look the slot up again (chat_get) when they resume.
 */
#ifndef AH_SRC_CHAT_CHAT_INTERNAL_H
#define AH_SRC_CHAT_CHAT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include <ah/ah.h>

#include "chat/chat.h"
#include "cluster/store.h"
#include "core/core.h"

#define CHAT_KEY_ROOMS "actionhero:chatRoom:rooms"
#define CHAT_KEY_MEMBERS "actionhero:chatRoom:members:"

enum chat_hook {
    CHAT_JOIN,
    CHAT_LEAVE,
    CHAT_ON_SAY_RECEIVE,
    CHAT_SAY,
};

struct chat_mw_entry {
    const ah_chat_middleware_t *mw;
    int priority;
};

/* The connections of this server in one room (for delivery). */
struct chat_local_room {
    struct chat_local_room *next;
    uint32_t hash;
    ah_connection_t **conns;
    size_t n, cap;
    char name[]; /* NUL-terminated */
};

struct chat {
    ah_app_t *app;
    struct chat_mw_entry *mws;   /* stable-sorted by priority */
    size_t n_mws;
    size_t n_say_mws;            /* how many have a `say` hook */
    ah_chat_hooks_t hooks;

    struct chat_local_room **buckets;
    size_t n_buckets, n_rooms;

    long long max_members;       /* general.maxRoomMembers */
    long long max_rooms;         /* general.maxRoomsPerConnection */
    long long max_message;       /* general.maxChatMessageBytes */
    struct buf out;              /* delivery rendering, reused */
};

struct chat *chat_get(ah_app_t *app);

/* Text of config.errors.<key> with {room} / {max} filled, falling back to
 * `fmt` (one %s for `val`).  New string. */
char *chat_err(ah_app_t *app, const char *key, const char *var, const char *val, const char *fmt);
char *chat_err_not_in_room(ah_app_t *app, const char *room_text);
char *chat_err_room_not_exist(ah_app_t *app, const char *room);
char *chat_err_too_many_rooms(ah_app_t *app, long long max);

/* Run the `which` hooks in order on `ev`.  0, or <0 with *error set (a new
 * string: the hook's text) when a hook blocked. */
int chat_run_middleware(struct chat *ch, enum chat_hook which, ah_chat_event_t *ev, char **error);

/* The local member index. */
void chat_local_add(struct chat *ch, const char *room, ah_connection_t *c);
void chat_local_remove(struct chat *ch, const char *room, ah_connection_t *c);
struct chat_local_room *chat_local_find(struct chat *ch, const char *room);

/* Is `room` in c->rooms?  Remove it (true if it was there). */
bool chat_conn_in_room(const ah_connection_t *c, const char *room);
bool chat_conn_drop_room(ah_connection_t *c, const char *room);

/* ------------------------------------------------------------ operations */

/* One asynchronous chat call: the caller's callback, plus what the steps
 * need.  chat_op_done() runs the callback (the caller is on a later loop
 * turn: a store or RPC callback) and frees the op; chat_op_done_later()
 * does it on the next loop turn (for answers known at once). */
struct chat_op {
    ah_app_t *app;
    ah_chat_cb cb;
    void *arg;
    char *room;            /* NULL: undefined */
    char *key;             /* the members hash key */
    ah_connection_t *c;    /* a reference, or NULL */
    json_t *json;          /* step data (message, member ids, ...) */
    size_t i;
    bool flag;
    /* destroy: remote removals still waiting for their answer, the end of
     * the member list reached, the first local failure (malloc'd) */
    size_t pending;
    bool listed;
    char *stop_error;
    /* deferred completion */
    uv_timer_t timer;
    bool timer_used;
    json_t *result;
    char *error;
};

struct chat_op *chat_op_new(ah_app_t *app, ah_chat_cb cb, void *arg, const char *room);
void chat_op_set_conn(struct chat_op *op, ah_connection_t *c);
void chat_op_done(struct chat_op *op, json_t *result, const char *error);
/* Takes `error_take` (malloc'd, may be NULL); result borrowed. */
void chat_op_done_later(struct chat_op *op, json_t *result, char *error_take);
/* The op failed before it started anything: free it (no callback). */
void chat_op_discard(struct chat_op *op);

/* The store, or NULL (then the op is finished later with
 * "redis not connected, chatRoom cannot be used"). */
struct store *chat_store_or_fail(struct chat_op *op);

/* Local forms used by the verbs (connection `c` is on this server). */
int chat_add_member_local(ah_app_t *app, ah_connection_t *c, const char *room, ah_chat_cb cb, void *arg);
int chat_remove_member_local(ah_app_t *app, ah_connection_t *c, const char *room, ah_chat_cb cb, void *arg);

/* broadcast (say.c): `speaker` (may be NULL) is the connection given to
 * onSayReceive; `speaker_id` (NULL: "0") goes into the message;
 * `speaker_rooms` (borrowed, NULL: any room) is checked for `room`. */
int chat_broadcast_as(ah_app_t *app, ah_connection_t *speaker, const char *speaker_id, json_t *speaker_rooms,
                      const char *room, json_t *message, ah_chat_cb cb, void *arg);

/* Delivery of a `chat` pub/sub message (say.c). */
void chat_on_pubsub(ah_app_t *app, json_t *message, void *arg);
/* RPC methods (rooms.c). */
void chat_register_methods(ah_app_t *app);

#endif /* AH_SRC_CHAT_CHAT_INTERNAL_H */
