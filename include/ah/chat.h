/*
 * chat.h - chat rooms (chat.md): the chatRoom API, chat middleware and the
 * overridable member / payload functions.
 *
 * Rooms live in the state backend with Actionhero's keys (a SET
 * `actionhero:chatRoom:rooms`, a HASH `actionhero:chatRoom:members:<room>`
 * per room), so on the Redis backend every server of a cluster (C or Node)
 * sees the same rooms.  Messages always travel through pub/sub on
 * config.general.channel, also when sender and receivers share a server;
 * every server delivers to its own members.
 *
 * Every function here runs on the loop thread.  A function taking an
 * ah_chat_cb either returns <0 (AH_EINVAL for a missing app or an invalid
 * argument; the callback never runs) or 0: then the callback runs exactly
 * once, on a later loop turn, never inside the call.  "Thrown" errors of
 * Actionhero (room does not exist, RPC Timeout, ...) reach the callback as
 * `error`: the text of config.errors (no "Error: " prefix).
 *
 * Example, an action announcing something in a room:
 *
 *     static void on_said(ah_app_t *app, json_t *result, const char *error, void *arg)
 *     {
 *         ah_ctx_t *ctx = arg;
 *
 *         (void)app; (void)result;
 *         if (error)
 *             ah_set_error(ctx, "%s", error);
 *         ah_done(ctx);
 *     }
 *
 *     static int run(ah_ctx_t *ctx)
 *     {
 *         json_t *msg = json_string("the server says hi");
 *         int rc = ah_chat_broadcast(ah_app(ctx), NULL, "defaultRoom", msg, on_said, ctx);
 *
 *         json_decref(msg);
 *         return rc < 0 ? ah_fail(ctx, rc, "cannot broadcast") : AH_PENDING;
 *     }
 */
#ifndef AH_CHAT_H
#define AH_CHAT_H

#include <jansson.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ah_app ah_app_t;
typedef struct ah_connection ah_connection_t;

/* Completion of a chat call: `result` is borrowed for the call (NULL when
 * the function returns nothing); `error` is NULL on success or the error
 * text. */
typedef void (*ah_chat_cb)(ah_app_t *app, json_t *result, const char *error, void *arg);

/* chatRoom.list(): result = array of every room name (Redis set order). */
int ah_chat_list(ah_app_t *app, ah_chat_cb cb, void *arg);

/* chatRoom.add(room): result = 1; error `room exists` (connectionRoomExists)
 * if it already exists.  AH_EINVAL if room is NULL. */
int ah_chat_add(ah_app_t *app, const char *room, ah_chat_cb cb, void *arg);

/* chatRoom.destroy(room): broadcasts `this room has been deleted`
 * (connectionRoomHasBeenDeleted) to the room, removes every member in turn
 * (remote ones by RPC, without waiting), then deletes the room and its
 * members hash.  result = NULL; error `room does not exist`. */
int ah_chat_destroy(ah_app_t *app, const char *room, ah_chat_cb cb, void *arg);

/* chatRoom.exists(room): result = true / false (NULL room: false). */
int ah_chat_exists(ah_app_t *app, const char *room, ah_chat_cb cb, void *arg);

/* chatRoom.roomStatus(room): result = {room, members: {<id>: <sanitized
 * member details>}, membersCount}; errors `a room is required` (NULL or
 * ""), `room does not exist`. */
int ah_chat_room_status(ah_app_t *app, const char *room, ah_chat_cb cb, void *arg);

/* chatRoom.addMember(connectionId, room) (chat.md §3): result = true.
 * A connection of another server is reached by RPC (waiting up to
 * general.rpcTimeout: error `RPC Timeout`).  Errors: `connection already
 * in this room (<room>)`, `room does not exist`, a join middleware's text,
 * `room is full (<room>)` (general.maxRoomMembers, default 100000),
 * `connection is in too many rooms (max <n>)`
 * (general.maxRoomsPerConnection, default 1000). */
int ah_chat_add_member(ah_app_t *app, const char *connection_id, const char *room, ah_chat_cb cb,
                       void *arg);

/* chatRoom.removeMember(connectionId, room, waitRemote): result = true
 * (for a remote connection without waiting: the number of servers that
 * received the request).  Errors: `connection not in this room (<room>)`,
 * `room does not exist`, a leave middleware's text, `RPC Timeout`. */
int ah_chat_remove_member(ah_app_t *app, const char *connection_id, const char *room, bool wait_remote,
                          ah_chat_cb cb, void *arg);

/* chatRoom.broadcast(connection, room, message) (chat.md §4): `c` is the
 * speaker, or NULL for the server itself (which may speak in any room);
 * `message` is borrowed (any JSON value).  result = NULL, also when
 * onSayReceive middleware dropped the message.  Errors: `both room and
 * message are required` (NULL / "" room, falsy message), `connection not
 * in this room (<room>)`, an onSayReceive middleware's text, `message is
 * too large (more than <n> bytes)` (general.maxChatMessageBytes, default
 * 1 MiB, counted on the JSON text published), the store's error when the
 * message cannot be published ("redis unavailable"). */
int ah_chat_broadcast(ah_app_t *app, ah_connection_t *c, const char *room, json_t *message, ah_chat_cb cb,
                      void *arg);

/* ------------------------------------------------------------ middleware */

/* One middleware invocation.  `payload` (say, onSayReceive): the message
 * payload {message, room, from, context, sentAt} as this hook sees it, a
 * shallow copy owned by the chain: change it in place, or replace it with
 * ah_chat_set_payload() (NULL drops the message; later hooks still run and
 * see NULL).  Returning 0 passes the payload on as it is now. */
typedef struct ah_chat_event {
    ah_app_t *app;
    ah_connection_t *connection; /* joining / leaving / receiving connection;
                                    for onSayReceive the speaker or NULL */
    const char *room;
    json_t *payload;             /* NULL for join / leave, or once dropped */
    char *error_;                /* private: set by ah_chat_block */
} ah_chat_event_t;

/* A hook returns 0 to let the event pass, or <0 to block it ("throw"):
 * use `return ah_chat_block(ev, "joining rooms blocked");`, whose text
 * reaches the caller (a websocket client sees "Error: joining rooms
 * blocked").  A join or leave that is blocked does not happen; a blocked
 * onSayReceive fails the broadcast; a blocked say (or one that fails)
 * only skips that recipient and is logged at warning.  Hooks run in
 * ascending priority (ties in registration order), synchronously.  During
 * a connection's destroy, leave hooks run but cannot stop it. */
typedef int (*ah_chat_hook_fn)(ah_chat_event_t *ev);

typedef struct ah_chat_middleware {
    const char *name;
    int priority;                  /* 0: general.defaultMiddlewarePriority */
    ah_chat_hook_fn join;
    ah_chat_hook_fn leave;
    ah_chat_hook_fn on_say_receive; /* once per broadcast, on the speaker's server */
    ah_chat_hook_fn say;            /* once per recipient, on its server */
} ah_chat_middleware_t;

/* Defines `ah_chat_middleware__<id>`; tools/gen-registry.sh collects it and
 * the chat initializer registers it at load. */
#define AH_CHAT_MIDDLEWARE(id) const ah_chat_middleware_t ah_chat_middleware__##id

/* chatRoom.addMiddleware: returns 0, AH_EINVAL (`middleware.name is
 * required`) or AH_ESTATE (chat not loaded yet).  Registering a name again
 * replaces its entry.  `mw` must outlive the app. */
int ah_chat_middleware_add(ah_app_t *app, const ah_chat_middleware_t *mw);

/* Block the event with a message (printf format); returns AH_EFAIL. */
int ah_chat_block(ah_chat_event_t *ev, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Replace the payload (takes the reference; NULL drops the message). */
void ah_chat_set_payload(ah_chat_event_t *ev, json_t *payload_take);

/* ------------------------------------------------ overridable functions */

/* Actionhero lets applications replace these three functions; in C an
 * initializer (load priority > 520) sets them with ah_chat_set_hooks().
 * Each returns a NEW reference; NULL members of `hooks` keep the current
 * function.  The defaults are exported so that an override can wrap them. */
typedef struct ah_chat_hooks {
    /* Stored (as JSON) in the members hash when `c` joins.
     * Default: {id, joinedAt: <now ms>, host: <server id>}. */
    json_t *(*generate_member_details)(ah_app_t *app, ah_connection_t *c);
    /* What roomStatus shows of a member (`member` borrowed, parsed from
     * the hash).  Default: {id, joinedAt}. */
    json_t *(*sanitize_member_details)(ah_app_t *app, json_t *member);
    /* The payload delivered to members, from the pub/sub message
     * {messageType, serverToken, serverId, message, sentAt, connection:
     * {id, room}} (borrowed).  Default: {message, room, from, context:
     * "user", sentAt}.  Must yield an object with a string `room`. */
    json_t *(*generate_message_payload)(ah_app_t *app, json_t *pubsub_message);
} ah_chat_hooks_t;

/* Returns 0, or AH_ESTATE if the chat initializer has not loaded. */
int ah_chat_set_hooks(ah_app_t *app, const ah_chat_hooks_t *hooks);

json_t *ah_chat_default_generate_member_details(ah_app_t *app, ah_connection_t *c);
json_t *ah_chat_default_sanitize_member_details(ah_app_t *app, json_t *member);
json_t *ah_chat_default_generate_message_payload(ah_app_t *app, json_t *pubsub_message);

#ifdef __cplusplus
}
#endif

#endif /* AH_CHAT_H */
