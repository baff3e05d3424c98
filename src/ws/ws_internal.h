/*
 * ws_internal.h - what the files of src/ws share.
 *
 * Layers, bottom up:
 *   handshake.c  RFC 6455 opening handshake (pure functions)
 *   conn.c       one websocket: libuv stream <-> wslay, frames, close
 *                handshake, outbound buffer and back-pressure
 *   primus.c     the Primus protocol on top: JSON per text frame,
 *                primus:: control strings, heartbeat, U+2028/9 escaping
 *   messages.c   Actionhero's websocket server type (connection, verbs,
 *                actions, files) on top of Primus
 *   server.c     the initializer, configuration, ws_upgrade() and the
 *                test-only echo modes
 *   http_answer.c  plain HTTP requests under the Primus path
 *
 * Everything runs on the app's loop thread.
 */
#ifndef AH_SRC_WS_WS_INTERNAL_H
#define AH_SRC_WS_WS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>
#include <wslay/wslay.h>

#include "core/core.h"
#include "core/json_out.h"
#include "ws/ws.h"

#define WS_ACCEPT_LEN 28
#define WS_READ_BUF 65536
/* Buffers that grew past this are given back after use, so that an idle
 * connection does not keep the memory of its largest message. */
#define WS_KEEP_BUF 65536
/* Rough heap sizes for app_note_freed(): a wslay event context (its two
 * 4 KB buffers and the rest), an Actionhero connection with its strings
 * and params. */
#define WS_WSLAY_CTX_BYTES 8600
#define WS_AC_BYTES 1024

/* ------------------------------------------------------------- handshake */

struct ws_handshake {
    char accept[WS_ACCEPT_LEN + 1];
    char protocol[256];       /* selected subprotocol or "" */
};

/* Validate an upgrade request.  0 and *hs filled, or <0 with the HTTP
 * status and a static body text. */
int ws_handshake_check(const struct ws_upgrade_req *req, struct ws_handshake *hs,
                       int *status, const char **body);
/* Sec-WebSocket-Accept for a (valid) key. */
void ws_handshake_accept(const char *key, char out[WS_ACCEPT_LEN + 1]);
/* Append the 101 response to out. */
void ws_handshake_response(struct buf *out, const struct ws_handshake *hs);
/* Does a comma-separated header value contain `token` (case-insensitive)? */
bool ws_header_has_token(const char *value, const char *token);

/* ---------------------------------------------------------------- server */

struct ws_config {
    bool enabled;
    char *pathname;            /* "/primus" */
    size_t pathname_len;
    long long ping_interval;   /* ms; 0: no heartbeat */
    json_t *ping_interval_json;/* as configured, for /primus/spec */
    uint64_t max_payload;      /* bytes per message */
    size_t max_outbound;       /* bytes queued per connection */
    long long close_timeout;   /* ms to wait for the peer's close frame */
    char *echo_path;           /* test-only echo path or NULL */
    char *cookie_key;          /* web.fingerprintOptions.cookieKey */
    bool destroy_on_shutdown;
};

enum ws_mode {
    WS_MODE_ACTIONHERO,   /* Primus + Actionhero messages (the real thing) */
    WS_MODE_ECHO_RAW,     /* test-only: RFC 6455 echo, no Primus */
    WS_MODE_ECHO_PRIMUS,  /* test-only: Primus, data values echoed back */
};

struct ws_conn;

/* A wslay event context and what goes with it, bound to a connection only
 * while it is needed (conn.c); the callbacks' user_data. */
struct ws_slot {
    wslay_event_context_ptr ctx;
    struct ws_conn *conn;      /* NULL while pooled */
    struct ws_slot *next;      /* in the server's pool */
    uint8_t close_payload[125];/* close frame being received */
    uint8_t close_len;
};

/* Idle wslay contexts kept for reuse; past this they are freed. */
#define WS_POOL_MAX 8
/* Empty buffers kept for reuse (message, output, partial frame). */
#define WS_SPARE_MAX 4
#define WS_SPARE_CAP 16384

struct ws_server {
    ah_app_t *app;
    struct ws_config cfg;
    uv_timer_t heartbeat;
    bool heartbeat_started;
    bool stopped;
    struct ws_conn *conns;     /* every open websocket (doubly linked) */
    size_t n_conns;
    struct ws_slot *pool;      /* idle wslay contexts (singly linked) */
    size_t pool_len;
    size_t n_bound;            /* contexts bound to a connection now */
    size_t n_slots_made;       /* contexts created so far (tests) */
    struct buf spare[WS_SPARE_MAX];
    size_t n_spare;
    char read_buf[WS_READ_BUF];/* shared: a read is consumed before the next */
    struct buf scratch;        /* JSON encoding, reused */
    char *spec_json;           /* body of /primus/spec */
};

/* The initializer's start and stop (exposed for the unit tests). */
int ws_server_start(ah_app_t *app);
int ws_server_stop(ah_app_t *app);
struct ws_server *ws_server_get(ah_app_t *app);
/* After a stop, the server is freed once its last connection is. */
void ws_server_maybe_free(struct ws_server *srv);

/* ------------------------------------------------------------ connection */

/* What a connection needs only while a write is in flight. */
struct ws_writing {
    uv_write_t req;
    struct buf inflight;       /* being written by uv_write */
};

/* What a connection needs only once it is closing. */
struct ws_closing {
    uv_timer_t timer;          /* websocket.closeTimeout */
    bool timer_open;
    uv_shutdown_t shutdown_req;
};

/* One websocket.  Idle, it holds this struct and nothing else: the wslay
 * context, the partial frame, the message, the output and the write
 * request exist only while something is in progress (conn.c). */
struct ws_conn {
    struct ws_server *srv;
    uv_tcp_t *tcp;             /* malloc'd by the HTTP layer, freed here; a
                                * uv_pipe_t for a Unix socket listener (then
                                * only its uv_stream_t part is used) */
    struct ws_slot *slot;      /* wslay, while bound */
    struct ws_writing *w;      /* while a uv_write is in flight */
    struct ws_closing *cl;     /* once closing */

    /* input: the bytes being fed to wslay */
    const uint8_t *in;
    size_t in_len;
    struct buf pend;           /* an incomplete frame across reads */

    /* the message being assembled (wslay runs without buffering) */
    struct buf msg;

    /* output: `out` accumulates while `w->inflight` is being written */
    struct buf out;

    /* Actionhero */
    ah_connection_t *ac;       /* NULL in the echo modes or once detached */
    json_t *message_id;        /* connection.messageId as the client sent it */

    struct ws_conn *next, *prev;

    int cork;                  /* >0: flush later (inside a read or setup) */
    uint8_t open_handles;      /* tcp + close timer not yet closed */
    uint8_t mode;              /* enum ws_mode */
    uint8_t msg_opcode;
    bool frame_is_ctrl;
    bool msg_failed;
    bool frag_open;            /* a fragmented data message is in progress */
    bool writing;
    bool close_queued;         /* a close frame is queued or sent: no more data */
    bool failing;              /* protocol failure: close TCP once flushed */
    bool wslay_broken;         /* wslay returned a fatal error: bypass it */
    bool shut;                 /* FIN sent: waiting for the peer's */
    bool dead;                 /* TCP close started */

    /* Primus */
    bool alive;                /* life since the last heartbeat tick */
    char spark_id[22];
};

/* Free the server's pooled contexts and spare buffers (its stop). */
void ws_conn_pool_release(struct ws_server *srv);

/* Create a connection for an upgraded TCP handle (nothing written yet;
 * corked).  Never fails. */
struct ws_conn *ws_conn_new(struct ws_server *srv, uv_tcp_t *tcp, enum ws_mode mode);
/* Start reading; `early` bytes are processed first.  Uncorks. */
void ws_conn_start(struct ws_conn *c, const char *early, size_t early_len);
/* Free a connection that never started (ws_upgrade failed late); the TCP
 * handle is given back to the caller untouched. */
void ws_conn_discard(struct ws_conn *c);

/* Append raw bytes (the 101 response) to the outbound buffer. */
void ws_conn_write_raw(struct ws_conn *c, const void *p, size_t n);
/* Send one unfragmented data message (WSLAY_TEXT_FRAME / WSLAY_BINARY_FRAME).
 * Dropped once closing; disconnects the client if its outbound buffer would
 * exceed websocket.maxOutboundBytes. */
void ws_conn_send(struct ws_conn *c, uint8_t opcode, const void *p, size_t n);
/* Start the close handshake: a close frame with `code` (0: no status code),
 * then wait for the peer's close frame up to websocket.closeTimeout. */
void ws_conn_close(struct ws_conn *c, uint16_t code);
/* Close the TCP connection now (no close frame). */
void ws_conn_abort(struct ws_conn *c);
/* Can data still be sent? */
bool ws_conn_open(const struct ws_conn *c);
/* Flush what is buffered (no-op when corked). */
void ws_conn_flush(struct ws_conn *c);
/* Queued outbound bytes (tests, logs). */
size_t ws_conn_queued(const struct ws_conn *c);

/* ---------------------------------------------------------------- Primus */

/* A complete text or binary message arrived on a Primus connection. */
void ws_primus_on_message(struct ws_conn *c, uint8_t opcode, const char *p, size_t n);
/* A WebSocket ping arrived: counts as life for the heartbeat. */
void ws_primus_on_ping(struct ws_conn *c);
/* spark.write(value): JSON-encode `value` (borrowed), escape U+2028/9,
 * send it as one text frame. */
void ws_primus_write(struct ws_conn *c, json_t *value);
/* Object `obj` plus the members `more` writes (json_out_object), as one
 * message: no jansson copy of obj is made. */
void ws_primus_write_object(struct ws_conn *c, const json_t *obj,
                            void (*more)(struct json_out_w *w, void *arg), void *arg);
/* spark.end(): "primus::server::close" unless `reconnect`, then a close
 * frame without status code. */
void ws_primus_end(struct ws_conn *c, bool reconnect);
/* A new spark id: 21 URL-safe random characters, like Primus's nanoid. */
void ws_primus_spark_id(char out[22]);
/* One heartbeat tick over every Primus connection. */
void ws_primus_heartbeat(struct ws_server *srv);
/* JSON text of `v` for the wire into b (appended): JSON.stringify output
 * with U+2028 / U+2029 escaped. */
void ws_json_encode(struct buf *b, const json_t *v);
/* JSON.parse of a message: a NEW value, or NULL if it is not JSON. */
json_t *ws_json_decode(const char *p, size_t n);

/* ------------------------------------------------------------ Actionhero */

/* The socket is open (101 queued): create the Actionhero connection, run
 * create middleware, send the welcome.  <0 if middleware refused. */
int ws_messages_open(struct ws_conn *c, const struct ws_upgrade_req *req);
/* A decoded Primus data value (borrowed). */
void ws_messages_on_data(struct ws_conn *c, json_t *value);
/* A binary message (Primus passes it on as a Buffer). */
void ws_messages_on_binary(struct ws_conn *c, const char *p, size_t n);
/* connection.destroy() from the server side (shutdown with
 * destroyClientsOnShutdown): middleware, rooms, goodbye. */
void ws_messages_destroy(struct ws_conn *c);
/* The socket is gone: destroy the Actionhero connection. */
void ws_messages_on_close(struct ws_conn *c);

#endif /* AH_SRC_WS_WS_INTERNAL_H */
