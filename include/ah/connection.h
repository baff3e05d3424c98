/*
 * connection.h - the Connection of connection.md, in C.
 *
 * One ah_connection_t per HTTP request, per WebSocket, per specHelper test
 * connection and per in-line action.  Fields are public for reading; change
 * them only through the functions below (the registry, rooms and counters
 * have invariants).  A connection is freed when it is destroyed *and* no
 * action holds it any more (a reference count): after ah_connection_destroy()
 * a pending action may still read it, and its sends become no-ops.
 */
#ifndef AH_CONNECTION_H
#define AH_CONNECTION_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ah_connection ah_connection_t;
typedef struct ah_app ah_app_t;
typedef struct ah_server_type ah_server_type_t;

/* What a server type (web, websocket, testServer, in-line-action) provides.
 * Every hook is optional. */
struct ah_server_type {
    const char *name;              /* connection.type: "web", "websocket", ... */
    bool can_chat;
    bool log_connections;
    bool log_exits;
    bool send_welcome_message;
    const char *const *verbs;      /* NULL-terminated list of allowed verbs */

    /* connection.sendMessage(message): `message` is borrowed. */
    void (*send_message)(ah_connection_t *c, json_t *message);
    /* Optional fast path for fan-out (chat): send a message already
     * rendered as JSON text (`len` bytes, JSON.stringify form with U+2028
     * and U+2029 escaped).  It is only used for objects that have a
     * `context` other than "response" and no `error`, which send_message
     * would send unchanged, so the server writes the bytes as they are
     * (websocket: one text frame).  The bytes are borrowed for the call.
     * Without it, send_message gets the object. */
    void (*send_serialized)(ah_connection_t *c, const char *json, size_t len);
    /* connection.sendFile(path): params.file is already set. */
    void (*send_file)(ah_connection_t *c, const char *path);
    /* web only: queue a header / set the status code. */
    void (*set_header)(ah_connection_t *c, const char *name, const char *value);
    void (*set_status_code)(ah_connection_t *c, int code);
    /* The server's goodbye: close the socket politely (after destroy). */
    void (*goodbye)(ah_connection_t *c);
    /* Free server-private state (raw) when the connection is freed. */
    void (*release)(ah_connection_t *c);
};

struct ah_connection {
    ah_app_t *app;
    const ah_server_type_t *server;
    const char *type;         /* == server->name */
    char id[96];              /* web: <fingerprint>-<messageId>; else UUID v4 */
    char fingerprint[64];
    char message_id[64];      /* "0" until a message arrives (websocket) */
    char remote_ip[64];
    char remote_port[16];     /* text form */
    bool remote_port_is_string; /* render remotePort as a JSON string */
    uint64_t connected_at;    /* ms since the epoch */
    json_t *error;            /* NULL or a string: local error (web body/file errors) */
    json_t *rooms;            /* array of room names, join order */
    json_t *params;           /* object: params for the next action */
    json_t *session;          /* object: free storage */
    json_t *response;         /* object: scratch (websocket resets per action) */
    int pending_actions;
    int total_actions;
    bool can_chat;
    bool destroyed;
    char *extension;          /* web: text after the last '.' of the path, or NULL */
    json_t *matched_route;    /* web: {path, matchTrailingPathParts, action, dir, apiVersion} or NULL */
    void *raw;                /* rawConnection: server-private state */
    json_t *props;            /* NULL or an object: other properties, set with
                                 connections.apply(id, "set", [key, value])
                                 (include/ah/cluster.h); in the serialised form */

    /* private to the core */
    int refs;
    bool in_registry;
    struct ah_connection *reg_next, *reg_prev;
};

/* connection.setHeader / setStatusCode (web only; no-ops elsewhere). */
void ah_connection_set_header(ah_connection_t *c, const char *name, const char *value);
void ah_connection_set_status_code(ah_connection_t *c, int code);
/* connection.sendMessage: `message` is borrowed (object, array or string). */
void ah_connection_send_message(ah_connection_t *c, json_t *message);
/* connection.sendFile: sets params.file and runs the server's file flow.
 * The action must ah_set_to_render(ctx, false). */
void ah_connection_send_file(ah_connection_t *c, const char *path);
/* connection.destroy: idempotent.  Runs destroy middleware, leaves rooms,
 * says goodbye, leaves the registry. */
void ah_connection_destroy(ah_connection_t *c);

/* connection.verbs(verb, words): `words` borrowed (array of strings, or a
 * single value, or NULL).  The callback runs once, never before this
 * returns, with `result` borrowed (may be NULL) and `error` NULL or the
 * error's string form as JS String(error) gives it: "Error: <message>" (or
 * "TypeError: ..." for `documentation`), which websocket replies carry in
 * `status` and `error`.  Returns 0 or a negative code (then the callback
 * never runs). */
typedef void (*ah_verb_cb)(ah_connection_t *c, json_t *result, const char *error, void *arg);
int ah_connection_verbs(ah_connection_t *c, const char *verb, json_t *words,
                        ah_verb_cb cb, void *arg);

/* Serialised form (connection.md §1): a NEW object. */
json_t *ah_connection_to_json(const ah_connection_t *c);

/* Reference counting: hold a connection across loop turns. */
void ah_connection_ref(ah_connection_t *c);
void ah_connection_unref(ah_connection_t *c);

/* ------------------------------------------------------ connection middleware */

typedef struct ah_connection_middleware {
    const char *name;
    int priority;                              /* 0: default priority (100) */
    int (*create)(ah_connection_t *c);         /* <0 aborts the connection */
    void (*destroy)(ah_connection_t *c);
} ah_connection_middleware_t;

#define AH_CONNECTION_MIDDLEWARE(id) const ah_connection_middleware_t ah_connection_middleware__##id

/* Register at run time.  Returns 0 or AH_EINVAL ("middleware.name is required"). */
int ah_connection_middleware_add(ah_app_t *app, const ah_connection_middleware_t *mw);

#ifdef __cplusplus
}
#endif

#endif /* AH_CONNECTION_H */
