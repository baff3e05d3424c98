/*
 * primus.c - the Primus 8 protocol over a websocket (websocket.md §2).
 *
 * Every message is JSON.stringify(value) in one text frame.  Inbound text
 * that is not JSON is dropped silently (Primus makes a ParserError nobody
 * listens to).  A string starting with "primus::" is a control message:
 * the type is the text between "primus::" and the next ':' (JS
 * `msg.slice(8, msg.indexOf(':', 8))`); "pong" marks the spark alive, "id"
 * asks for the spark id; any other type falls through as data.  Binary
 * frames are not decoded by the JSON parser: they reach the application as
 * a Buffer.
 *
 * Heartbeat: one server timer every pingInterval; a spark that showed no
 * life (pong or WebSocket ping) since the previous tick is ended without
 * "primus::server::close", the others get "primus::ping::<ms>" and are
 * marked not alive.
 *
 * Outbound JSON has U+2028 and U+2029 escaped (Primus's "Hack 1").
 */
#include <string.h>

#include <sodium.h>

#include "core/json_out.h"
#include "log/log.h"
#include "ws/ws_internal.h"

/* ------------------------------------------------------------------ JSON */

void ws_json_encode(struct buf *b, const json_t *v)
{
    json_out(b, v, 0, JSON_OUT_ESCAPE_LS_PS);
}

json_t *ws_json_decode(const char *p, size_t n)
{
    return core_json_parse(p, n, NULL); /* JSON.parse semantics */
}

/* ----------------------------------------------------------------- write */

void ws_primus_write(struct ws_conn *c, json_t *value)
{
    struct buf *b = &c->srv->scratch;

    if (!ws_conn_open(c))
        return;
    buf_reset(b);
    ws_json_encode(b, value);
    ws_conn_send(c, WSLAY_TEXT_FRAME, b->data, b->len);
    if (b->cap > WS_KEEP_BUF)
        buf_release(b);
}

void ws_primus_write_object(struct ws_conn *c, const json_t *obj,
                            void (*more)(struct json_out_w *w, void *arg), void *arg)
{
    struct buf *b = &c->srv->scratch;

    if (!ws_conn_open(c))
        return;
    buf_reset(b);
    json_out_object(b, obj, 0, JSON_OUT_ESCAPE_LS_PS, more, arg);
    ws_conn_send(c, WSLAY_TEXT_FRAME, b->data, b->len);
    if (b->cap > WS_KEEP_BUF)
        buf_release(b);
}

static void write_string(struct ws_conn *c, const char *s)
{
    json_t *v = json_string(s);

    ws_primus_write(c, v);
    json_decref(v);
}

void ws_primus_end(struct ws_conn *c, bool reconnect)
{
    if (!ws_conn_open(c))
        return;
    if (!reconnect)
        write_string(c, "primus::server::close");
    ws_conn_close(c, 0);
}

/* ---------------------------------------------------------------- input */

/* Primus's spark.protocol(): true if the string was a control message. */
static bool control(struct ws_conn *c, const char *s, size_t n)
{
    const char *colon;
    size_t end;
    char reply[64];

    if (n < 8 || memcmp(s, "primus::", 8) != 0)
        return false;
    colon = memchr(s + 8, ':', n - 8);
    /* slice(8, -1) when there is no ':' */
    end = colon ? (size_t)(colon - s) : (n - 1 > 8 ? n - 1 : 8);
    if (end - 8 == 4 && memcmp(s + 8, "pong", 4) == 0) {
        c->alive = true;
        return true;
    }
    if (end - 8 == 2 && memcmp(s + 8, "id", 2) == 0) {
        snprintf(reply, sizeof(reply), "primus::id::%s", c->spark_id);
        write_string(c, reply);
        return true;
    }
    return false;
}

void ws_primus_on_ping(struct ws_conn *c)
{
    c->alive = true;
}

void ws_primus_on_message(struct ws_conn *c, uint8_t opcode, const char *p, size_t n)
{
    json_t *v;

    if (opcode == WSLAY_BINARY_FRAME) {
        if (c->mode == WS_MODE_ECHO_PRIMUS)
            ws_conn_send(c, WSLAY_BINARY_FRAME, p, n);
        else
            ws_messages_on_binary(c, p, n);
        return;
    }
    v = ws_json_decode(p, n);
    if (v == NULL) {
        log_debug("[server: websocket] dropped a message that is not JSON");
        return;
    }
    if (!json_is_string(v) || !control(c, json_string_value(v), json_string_length(v))) {
        if (c->mode == WS_MODE_ECHO_PRIMUS)
            ws_primus_write(c, v);
        else
            ws_messages_on_data(c, v);
    }
    json_decref(v);
}

/* ------------------------------------------------------------- heartbeat */

void ws_primus_heartbeat(struct ws_server *srv)
{
    struct ws_conn *c;
    char ping[64];

    snprintf(ping, sizeof(ping), "primus::ping::%llu", (unsigned long long)core_now_ms());
    /* Connections are unlinked only in their close callback, never during
     * this walk, so following `next` is safe even if one is aborted. */
    for (c = srv->conns; c; c = c->next) {
        if (c->mode == WS_MODE_ECHO_RAW || !ws_conn_open(c))
            continue;
        if (!c->alive) {
            log_debug("[server: websocket] heartbeat timeout spark=%s", c->spark_id);
            ws_primus_end(c, true);
            continue;
        }
        c->alive = false;
        write_string(c, ping);
    }
}

/* A spark id like Primus's (21 URL-safe random characters). */
void ws_primus_spark_id(char out[22])
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
    unsigned char r[21];
    int i;

    randombytes_buf(r, sizeof(r));
    for (i = 0; i < 21; i++)
        out[i] = alphabet[r[i] & 63];
    out[21] = '\0';
}
