/*
 * conn.c - one websocket: the libuv stream, wslay, the outbound buffer.
 *
 * Memory.  An idle connection holds its struct ws_conn and nothing else
 * (with 10,000 idle sockets that is what counts).  Everything else exists
 * only while it is needed:
 *  - the wslay event context (~8.3 KB: two 4 KB buffers) is bound from a
 *    small per-server pool while the connection has bytes being processed,
 *    a fragmented message in progress, control frames queued, or a close
 *    handshake (from then on it stays until the end, and is freed, not
 *    pooled, like a context that saw an error);
 *  - an incomplete frame is kept in `pend` until its last byte arrives, so
 *    that wslay is only ever fed whole frames and never holds half of one
 *    between reads (the frame's length comes from its 2..14-byte header;
 *    wslay still does all the parsing);
 *  - the message being assembled, the output and the write request are
 *    given back (to a few spare buffers, or freed) once empty;
 *  - the close timer and the shutdown request come with the close.
 *
 * Input.  uv_read fills the server's shared read buffer (a read is consumed
 * completely before the next one starts, so one buffer serves every
 * connection); wslay_event_recv() then pulls whole frames through
 * on_wslay_recv() until they are gone (WOULDBLOCK).  wslay runs without
 * message buffering: it parses frames, unmasks, checks masking, reserved
 * bits and opcodes, fragmentation order, control frame sizes, UTF-8 of text
 * (across fragments) and of close reasons, answers pings and echoes close
 * frames; we assemble data messages in a per-connection buffer, after
 * checking the announced frame length against websocket.maxPayload before
 * any byte is stored (close 1009).  A frame announced larger than that (or
 * a control frame over 125 bytes) is not buffered: its header goes to
 * wslay at once, which fails the connection.
 *
 * What wslay 1.1.1 does not do the way RFC 6455 and the `ws` library want,
 * and is handled here:
 *  - a frame-level error (control frame over 125 bytes or fragmented,
 *    non-minimal or 63-bit length) makes wslay queue a close frame without
 *    status code and give up; we send 1002 instead and drop the TCP
 *    connection once it is written;
 *  - a close frame with a 1-byte payload is echoed by wslay; it is a
 *    protocol error (1002);
 *  - close codes 1012-1014 (registered after RFC 6455, accepted by ws) are
 *    refused by wslay; we echo them.
 *
 * Output.  Server frames are not masked, so data frames are written
 * straight into `out` (header + payload, one copy); wslay only produces the
 * control frames (pong, close) through on_wslay_send(), which appends to the
 * same buffer.  Since that callback always takes everything, wslay never
 * holds half a frame and the two sources cannot interleave inside a frame.
 * `out` accumulates while `w->inflight` is being written by uv_write; when
 * the write completes they swap.  Both are bounded together by
 * websocket.maxOutboundBytes: a client that does not read is disconnected
 * when that would be exceeded, so it costs at most that much memory and
 * never delays anyone else.
 *
 * Lifetime.  Nothing is freed inside a callback chain: ws_conn_abort()
 * starts uv_close() on the TCP handle and the close timer, and the memory
 * goes in the last close callback.  `dead` stops all further processing.
 */
#include <string.h>

#include "app/app.h"
#include "log/log.h"
#include "ws/ws_internal.h"

static void start_write(struct ws_conn *c);
static void maybe_finish(struct ws_conn *c);
static const struct wslay_event_callbacks callbacks;

/* ---------------------------------------------------------------- buffers */

/* Before appending to an empty buffer: take a spare one, if any. */
static void buf_take(struct ws_server *srv, struct buf *b)
{
    if (b->cap == 0 && srv->n_spare > 0)
        *b = srv->spare[--srv->n_spare];
}

/* An emptied buffer: keep its memory as a spare, or free it. */
static void buf_give(struct ws_server *srv, struct buf *b)
{
    if (b->cap == 0)
        return;
    if (b->cap <= WS_SPARE_CAP && srv->n_spare < WS_SPARE_MAX && !srv->stopped) {
        buf_reset(b);
        srv->spare[srv->n_spare++] = *b;
        buf_init(b);
        return;
    }
    if (b->cap > WS_KEEP_BUF)
        app_note_freed(srv->app, b->cap);
    buf_release(b);
}

static size_t inflight_len(const struct ws_conn *c)
{
    return c->w ? c->w->inflight.len : 0;
}

static bool out_room(struct ws_conn *c, size_t n)
{
    size_t queued = c->out.len + inflight_len(c);

    return n <= c->srv->cfg.max_outbound && queued <= c->srv->cfg.max_outbound - n;
}

static void overflow(struct ws_conn *c, size_t n)
{
    static struct log_ratelimit rl;
    json_t *data = json_pack("{s:s, s:I, s:I, s:I}", "to", c->ac ? c->ac->remote_ip : "?",
                             "queued", (json_int_t)(c->out.len + inflight_len(c)), "adding", (json_int_t)n,
                             "limit", (json_int_t)c->srv->cfg.max_outbound);

    log_peer(&rl, AH_LOG_WARNING, data,
             "[server: websocket] dropping a client that does not read: outbound buffer full");
    json_decref(data);
    ws_conn_abort(c);
}

size_t ws_conn_queued(const struct ws_conn *c)
{
    return c->out.len + inflight_len(c);
}

/* ------------------------------------------------------------ wslay pool */

static struct ws_slot *slot_new(struct ws_server *srv)
{
    struct ws_slot *s = xcalloc(1, sizeof(*s));

    if (wslay_event_context_server_init(&s->ctx, &callbacks, s) != 0)
        AH_BUG("out of memory in wslay");
    wslay_event_config_set_no_buffering(s->ctx, 1);
    wslay_event_config_set_max_recv_msg_length(s->ctx, srv->cfg.max_payload);
    srv->n_slots_made++;
    return s;
}

static void slot_free(struct ws_slot *s)
{
    wslay_event_context_free(s->ctx);
    free(s);
}

/* The connection's wslay context, bound if it had none. */
static wslay_event_context_ptr bind_wslay(struct ws_conn *c)
{
    struct ws_server *srv = c->srv;
    struct ws_slot *s = c->slot;

    if (s == NULL) {
        if (srv->pool) {
            s = srv->pool;
            srv->pool = s->next;
            srv->pool_len--;
        } else {
            s = slot_new(srv);
        }
        s->next = NULL;
        s->conn = c;
        s->close_len = 0;
        c->slot = s;
        srv->n_bound++;
    }
    return s->ctx;
}

/* Let go of the context: pooled when `reuse` (it is between frames with
 * nothing queued and no close), else freed. */
static void unbind_wslay(struct ws_conn *c, bool reuse)
{
    struct ws_server *srv = c->srv;
    struct ws_slot *s = c->slot;

    if (s == NULL)
        return;
    c->slot = NULL;
    s->conn = NULL;
    srv->n_bound--;
    if (reuse && srv->pool_len < WS_POOL_MAX && !srv->stopped) {
        s->next = srv->pool;
        srv->pool = s;
        srv->pool_len++;
    } else {
        slot_free(s);
        if (!reuse)
            app_note_freed(srv->app, WS_WSLAY_CTX_BYTES);
    }
}

/* Once a read (or the setup) is over: give the context back if the
 * connection is quiescent.  wslay was fed whole frames only, so it holds
 * no partial frame; what is left to check is its message and close state
 * and its output queue. */
static void maybe_unbind(struct ws_conn *c)
{
    wslay_event_context_ptr ctx;

    if (c->slot == NULL || c->dead || c->cork > 0 || c->frag_open || c->close_queued || c->failing ||
        c->wslay_broken)
        return;
    ctx = c->slot->ctx;
    if (!wslay_event_get_read_enabled(ctx) || !wslay_event_get_write_enabled(ctx) ||
        wslay_event_get_close_received(ctx) || wslay_event_get_close_sent(ctx) ||
        wslay_event_want_write(ctx))
        return;
    unbind_wslay(c, true);
}

void ws_conn_pool_release(struct ws_server *srv)
{
    while (srv->pool) {
        struct ws_slot *s = srv->pool;

        srv->pool = s->next;
        slot_free(s);
    }
    srv->pool_len = 0;
    while (srv->n_spare > 0)
        buf_release(&srv->spare[--srv->n_spare]);
}

/* ----------------------------------------------------------------- close */

static void on_handle_close(uv_handle_t *h)
{
    struct ws_conn *c = h->data;
    struct ws_server *srv = c->srv;
    size_t freed;

    if (--c->open_handles > 0)
        return;
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    srv->n_conns--;
    /* roughly what goes back to the heap with this connection (ours, the
     * handle, the Actionhero connection already freed) */
    freed = sizeof(*c) + sizeof(*c->tcp) + WS_AC_BYTES + c->msg.cap + c->out.cap + c->pend.cap;
    unbind_wslay(c, false);
    buf_release(&c->msg);
    buf_release(&c->out);
    buf_release(&c->pend);
    if (c->w) {
        freed += c->w->inflight.cap;
        buf_release(&c->w->inflight);
        free(c->w);
    }
    free(c->cl);
    free(c->tcp);
    free(c);
    app_note_freed(srv->app, freed);
    ws_server_maybe_free(srv);
}

void ws_conn_abort(struct ws_conn *c)
{
    if (c->dead)
        return;
    c->dead = true;
    if (c->slot) {
        wslay_event_shutdown_read(c->slot->ctx);
        wslay_event_shutdown_write(c->slot->ctx);
    }
    if (c->open_handles == 0)
        return;  /* not started: ws_upgrade() gives the handle back */
    uv_read_stop((uv_stream_t *)c->tcp);
    /* The Actionhero connection is destroyed now (destroy middleware, room
     * leaves); it is detached from us first, so its goodbye does nothing. */
    if (c->mode == WS_MODE_ACTIONHERO)
        ws_messages_on_close(c);
    uv_close((uv_handle_t *)c->tcp, on_handle_close);
    if (c->cl && c->cl->timer_open)
        uv_close((uv_handle_t *)&c->cl->timer, on_handle_close);
}

static void on_close_timeout(uv_timer_t *t)
{
    struct ws_conn *c = t->data;

    log_debug("[server: websocket] close handshake timed out");
    ws_conn_abort(c);
}

static struct ws_closing *closing_state(struct ws_conn *c)
{
    if (c->cl == NULL)
        c->cl = xcalloc(1, sizeof(*c->cl));
    return c->cl;
}

/* The close timer runs from the first close frame queued (ws_conn_start
 * arms it for a close queued before the connection started). */
static void arm_close_timer(struct ws_conn *c)
{
    struct ws_closing *cl;

    if (c->open_handles == 0 || c->dead)
        return;
    cl = closing_state(c);
    if (!cl->timer_open) {
        uv_timer_init(c->srv->app->loop, &cl->timer);
        cl->timer.data = c;
        cl->timer_open = true;
        c->open_handles++;
    }
    uv_timer_start(&cl->timer, on_close_timeout, (uint64_t)c->srv->cfg.close_timeout, 0);
}

/* A close frame is queued (by us or by wslay): no more data, and the TCP
 * connection goes at the latest after websocket.closeTimeout. */
static void closing(struct ws_conn *c)
{
    if (c->close_queued)
        return;
    c->close_queued = true;
    arm_close_timer(c);
}

/* Fail the connection from outside wslay (it gave up on a frame): write a
 * close frame with `code` ourselves and drop TCP once it is out. */
static void fail_raw(struct ws_conn *c, uint16_t code)
{
    uint8_t f[4] = {0x88, 2, (uint8_t)(code >> 8), (uint8_t)(code & 0xff)};

    log_debug("[server: websocket] protocol error, closing code=%u", code);
    c->wslay_broken = true;
    c->failing = true;
    if (!c->close_queued && out_room(c, sizeof(f))) {
        buf_take(c->srv, &c->out);
        buf_add(&c->out, f, sizeof(f));
    }
    closing(c);
}

/* Fail the connection through wslay (it is still consistent). */
static void fail(struct ws_conn *c, uint16_t code)
{
    wslay_event_context_ptr ctx = bind_wslay(c);

    log_debug("[server: websocket] protocol error, closing code=%u", code);
    c->failing = true;
    wslay_event_queue_close(ctx, code, NULL, 0);
    wslay_event_shutdown_read(ctx);
    closing(c);
}

void ws_conn_close(struct ws_conn *c, uint16_t code)
{
    if (c->dead || c->close_queued)
        return;
    if (c->wslay_broken) {
        ws_conn_abort(c);
        return;
    }
    wslay_event_queue_close(bind_wslay(c), code, NULL, 0);
    closing(c);
    ws_conn_flush(c);
}

bool ws_conn_open(const struct ws_conn *c)
{
    return !c->dead && !c->close_queued && !c->wslay_broken;
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    struct ws_conn *c = req->data;

    if (status < 0 && !c->dead)
        ws_conn_abort(c);
}

/* The close handshake is over (or failed) and everything is written: send
 * FIN and keep reading (input is discarded) until the peer closes too, or
 * the close timer fires.  Closing at once could drop our close frame: if
 * the peer's data is still arriving, the kernel answers it with a RST. */
static void end_gracefully(struct ws_conn *c)
{
    struct ws_closing *cl;

    if (c->shut)
        return;
    c->shut = true;
    cl = closing_state(c);
    cl->shutdown_req.data = c;
    if (uv_shutdown(&cl->shutdown_req, (uv_stream_t *)c->tcp, on_shutdown) < 0)
        ws_conn_abort(c);
}

/* End TCP when the close handshake is over and everything is written. */
static void maybe_finish(struct ws_conn *c)
{
    wslay_event_context_ptr ctx;

    if (c->dead || c->writing || c->out.len > 0 || c->open_handles == 0)
        return;
    if (c->wslay_broken) {
        if (c->failing)
            end_gracefully(c);
        return;
    }
    if (c->slot == NULL)
        return;  /* no close frame went through wslay */
    ctx = c->slot->ctx;
    if (wslay_event_get_close_sent(ctx) &&
        (wslay_event_get_close_received(ctx) || !wslay_event_get_read_enabled(ctx)))
        end_gracefully(c);
}

/* ---------------------------------------------------------------- output */

static void on_write(uv_write_t *req, int status)
{
    struct ws_conn *c = req->data;

    c->writing = false;
    buf_give(c->srv, &c->w->inflight);
    if (c->dead)
        return;
    if (status < 0) {
        log_debug("[server: websocket] write failed: %s", uv_strerror(status));
        ws_conn_abort(c);
        return;
    }
    if (c->out.len > 0) {
        start_write(c);
    } else {
        free(c->w);
        c->w = NULL;
    }
    maybe_finish(c);
}

static void start_write(struct ws_conn *c)
{
    uv_buf_t b = uv_buf_init(c->out.data, (unsigned int)c->out.len);
    struct buf tmp;
    size_t done;
    int n, rc;

    if (c->out.len > UINT32_MAX)
        AH_BUG("outbound buffer larger than its bound");
    /* Most writes fit in the socket buffer: try that first, without a
     * request and a loop turn. */
    n = uv_try_write((uv_stream_t *)c->tcp, &b, 1);
    if (n < 0 && n != UV_EAGAIN) {
        log_debug("[server: websocket] write failed: %s", uv_strerror(n));
        ws_conn_abort(c);
        return;
    }
    done = n > 0 ? (size_t)n : 0;
    if (done == c->out.len) {
        buf_give(c->srv, &c->out);
        if (c->w && !c->writing) {
            free(c->w);
            c->w = NULL;
        }
        return;
    }
    /* The rest is written from `inflight` while `out` takes new frames. */
    if (c->w == NULL) {
        c->w = xmalloc(sizeof(*c->w));
        buf_init(&c->w->inflight);
    }
    tmp = c->w->inflight;
    c->w->inflight = c->out;
    c->out = tmp;
    b = uv_buf_init(c->w->inflight.data + done, (unsigned int)(c->w->inflight.len - done));
    c->w->req.data = c;
    rc = uv_write(&c->w->req, (uv_stream_t *)c->tcp, &b, 1, on_write);
    if (rc < 0) {
        log_debug("[server: websocket] write failed: %s", uv_strerror(rc));
        ws_conn_abort(c);
        return;
    }
    c->writing = true;
}

void ws_conn_flush(struct ws_conn *c)
{
    if (c->dead || c->cork > 0)
        return;
    if (c->slot && !c->wslay_broken && wslay_event_want_write(c->slot->ctx)) {
        if (wslay_event_send(c->slot->ctx) != 0) {
            if (!c->dead)
                ws_conn_abort(c);
            return;
        }
    }
    if (!c->writing && c->out.len > 0)
        start_write(c);
    maybe_finish(c);
}

/* Move the control frames wslay has queued into `out` (where the outbound
 * bound applies).  False if the connection died doing so. */
static bool drain_wslay(struct ws_conn *c)
{
    if (c->slot && !c->wslay_broken && wslay_event_want_write(c->slot->ctx) &&
        wslay_event_send(c->slot->ctx) != 0 && !c->dead)
        ws_conn_abort(c);
    return !c->dead;
}

void ws_conn_write_raw(struct ws_conn *c, const void *p, size_t n)
{
    buf_take(c->srv, &c->out);
    buf_add(&c->out, p, n);
}

void ws_conn_send(struct ws_conn *c, uint8_t opcode, const void *p, size_t n)
{
    uint8_t hdr[10];
    size_t hlen;

    if (!ws_conn_open(c))
        return;
    /* Control frames wslay queued (a pong for a ping that came before this
     * message) go out first, in the order things happened. */
    if (!drain_wslay(c))
        return;
    hdr[0] = (uint8_t)(0x80 | (opcode & 0x0f));
    if (n < 126) {
        hdr[1] = (uint8_t)n;
        hlen = 2;
    } else if (n < 65536) {
        hdr[1] = 126;
        hdr[2] = (uint8_t)(n >> 8);
        hdr[3] = (uint8_t)n;
        hlen = 4;
    } else {
        uint64_t len = n;
        int i;

        hdr[1] = 127;
        for (i = 0; i < 8; i++)
            hdr[2 + i] = (uint8_t)(len >> (56 - 8 * i));
        hlen = 10;
    }
    if (n > SIZE_MAX - hlen || !out_room(c, hlen + n)) {
        overflow(c, hlen + n);
        return;
    }
    buf_take(c->srv, &c->out);
    buf_grow(&c->out, hlen + n);
    memcpy(c->out.data + c->out.len, hdr, hlen);
    memcpy(c->out.data + c->out.len + hlen, p, n);
    c->out.len += hlen + n;
    c->out.data[c->out.len] = '\0';
    ws_conn_flush(c);
}

/* ----------------------------------------------------------- wslay glue */

static struct ws_conn *slot_conn(void *user)
{
    return ((struct ws_slot *)user)->conn;
}

static ssize_t on_wslay_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len,
                             int flags, void *user)
{
    struct ws_conn *c = slot_conn(user);
    size_t n;

    (void)flags;
    if (c == NULL || c->in_len == 0 || c->dead) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    n = len < c->in_len ? len : c->in_len;
    memcpy(buf, c->in, n);
    c->in += n;
    c->in_len -= n;
    return (ssize_t)n;
}

static ssize_t on_wslay_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len,
                             int flags, void *user)
{
    struct ws_conn *c = slot_conn(user);

    (void)flags;
    if (c == NULL || c->dead) {
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    if (!out_room(c, len)) {
        overflow(c, len);
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    buf_take(c->srv, &c->out);
    buf_add(&c->out, data, len);
    return (ssize_t)len;
}

static bool is_ctrl(uint8_t opcode)
{
    return (opcode & 0x08) != 0;
}

static void on_frame_start(wslay_event_context_ptr ctx,
                           const struct wslay_event_on_frame_recv_start_arg *arg, void *user)
{
    struct ws_conn *c = slot_conn(user);

    (void)ctx;
    if (c == NULL || c->dead)
        return;
    c->frame_is_ctrl = is_ctrl(arg->opcode);
    if (c->frame_is_ctrl) {
        if (arg->opcode == WSLAY_CONNECTION_CLOSE) {
            c->slot->close_len = 0;
            if (arg->payload_length == 1)
                fail(c, WSLAY_CODE_PROTOCOL_ERROR);
        }
        return;
    }
    /* wslay has checked the order (a continuation needs a message, a new
     * message needs none open) before calling us. */
    c->frag_open = !arg->fin;
    if (arg->opcode != WSLAY_CONTINUATION_FRAME) {
        c->msg_opcode = arg->opcode;
        c->msg_failed = false;
        buf_reset(&c->msg);
    }
    if (c->msg_failed)
        return;
    if (arg->payload_length > c->srv->cfg.max_payload ||
        c->msg.len > c->srv->cfg.max_payload - arg->payload_length) {
        c->msg_failed = true;
        fail(c, WSLAY_CODE_MESSAGE_TOO_BIG);
    }
}

static void on_frame_chunk(wslay_event_context_ptr ctx,
                           const struct wslay_event_on_frame_recv_chunk_arg *arg, void *user)
{
    struct ws_conn *c = slot_conn(user);

    (void)ctx;
    if (c == NULL || c->dead)
        return;
    if (c->frame_is_ctrl) {
        /* only close frames need their payload here (wslay keeps its own
         * copy of every control frame) */
        struct ws_slot *s = c->slot;
        size_t n = arg->data_length;

        if (n > sizeof(s->close_payload) - s->close_len)
            n = sizeof(s->close_payload) - s->close_len;
        memcpy(s->close_payload + s->close_len, arg->data, n);
        s->close_len = (uint8_t)(s->close_len + n);
        return;
    }
    if (!c->msg_failed) {
        buf_take(c->srv, &c->msg);
        buf_add(&c->msg, arg->data, arg->data_length);
    }
}

static void on_frame_end(wslay_event_context_ptr ctx, void *user)
{
    struct ws_conn *c = slot_conn(user);
    struct ws_slot *s = user;
    uint16_t code;

    if (c == NULL || c->dead || !c->frame_is_ctrl || s->close_len < 2)
        return;
    code = (uint16_t)(s->close_payload[0] << 8 | s->close_payload[1]);
    /* wslay would answer 1002 to these; ws accepts and echoes them.  Once our
     * echo is queued, wslay's attempt to queue its 1002 is refused. */
    if (code >= 1012 && code <= 1014 && !c->close_queued) {
        wslay_event_queue_close(ctx, code, s->close_payload + 2, s->close_len - 2u);
        wslay_event_shutdown_read(ctx);
    }
}

static void deliver(struct ws_conn *c, uint8_t opcode, const char *p, size_t n)
{
    switch (c->mode) {
    case WS_MODE_ECHO_RAW:
        ws_conn_send(c, opcode, p, n);
        break;
    case WS_MODE_ECHO_PRIMUS:
    case WS_MODE_ACTIONHERO:
        ws_primus_on_message(c, opcode, p, n);
        break;
    default:
        break;
    }
}

static void on_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                   void *user)
{
    struct ws_conn *c = slot_conn(user);

    (void)ctx;
    if (c == NULL || c->dead)
        return;
    switch (arg->opcode) {
    case WSLAY_TEXT_FRAME:
    case WSLAY_BINARY_FRAME:
        c->frag_open = false;
        if (!c->msg_failed && ws_conn_open(c))
            deliver(c, arg->opcode, c->msg.data, c->msg.len);
        if (!c->dead)
            buf_give(c->srv, &c->msg);
        break;
    case WSLAY_PING:
        /* take the pong out of wslay's queue now: a read full of pings
         * must not pile up thousands of queued pongs before the flush */
        if (!drain_wslay(c))
            break;
        if (c->mode != WS_MODE_ECHO_RAW)
            ws_primus_on_ping(c);
        break;
    default:
        break;
    }
}

/* --------------------------------------------------------------- input */

/* The frame at p (n bytes there): false while its header is incomplete,
 * else its total size (header + payload, may be more than n) and whether
 * wslay should see it at once instead: a payload over what may be stored
 * (websocket.maxPayload for the message, 125 for a control frame) or a
 * fragmented control frame.  wslay fails the connection on its header;
 * buffering it first would only hold memory.  This reads lengths only:
 * wslay parses and checks every frame. */
static bool frame_size(const struct ws_conn *c, const uint8_t *p, size_t n, uint64_t *total, bool *now)
{
    uint64_t len;
    size_t hlen = 2, i;

    if (n < 2)
        return false;
    len = p[1] & 0x7f;
    if (len == 126)
        hlen += 2;
    else if (len == 127)
        hlen += 8;
    if (p[1] & 0x80)
        hlen += 4;
    if (n < hlen)
        return false;
    if (len >= 126) {
        size_t k = len == 126 ? 2 : 8;

        len = 0;
        for (i = 0; i < k; i++)
            len = len << 8 | p[2 + i];
    }
    if (is_ctrl(p[0] & 0x0f)) {
        *now = len > 125 || !(p[0] & 0x80);
    } else {
        uint64_t max = c->srv->cfg.max_payload;
        uint64_t have = (p[0] & 0x0f) == WSLAY_CONTINUATION_FRAME ? c->msg.len : 0;

        *now = len > max || have > max - len;
    }
    *total = *now ? hlen : hlen + len;
    return true;
}

/* Feed bytes (whole frames) to wslay and act on what it decided. */
static void feed(struct ws_conn *c, const uint8_t *p, size_t n)
{
    wslay_event_context_ptr ctx;
    int rc;

    if (c->dead || c->wslay_broken || n == 0)
        return;
    ctx = bind_wslay(c);
    c->in = p;
    c->in_len = n;
    rc = wslay_event_recv(ctx);
    c->in = NULL;
    c->in_len = 0;
    if (c->dead)
        return;
    if (rc != 0) {
        /* Our recv callback never fails, so this is a frame wslay could not
         * parse (WSLAY_ERR_PROTO inside): a protocol error. */
        fail_raw(c, WSLAY_CODE_PROTOCOL_ERROR);
        return;
    }
    if (!wslay_event_get_read_enabled(ctx))
        closing(c);  /* wslay queued a close (echo or failure) */
}

/* Is the connection still taking input? */
static bool reading(const struct ws_conn *c)
{
    return !c->dead && !c->wslay_broken && (c->slot == NULL || wslay_event_get_read_enabled(c->slot->ctx));
}

/* Bytes from the socket: whole frames go to wslay; the incomplete frame at
 * the end waits in `pend` (bounded by the frame size frame_size() lets
 * through: websocket.maxPayload plus a header). */
static void process_input(struct ws_conn *c, const char *data, size_t n)
{
    const uint8_t *p = (const uint8_t *)data;
    uint64_t total;
    bool now;

    while (n > 0 && reading(c)) {
        size_t off = 0;

        if (c->pend.len > 0) {
            /* complete the frame begun in an earlier read */
            size_t take;

            if (!frame_size(c, (const uint8_t *)c->pend.data, c->pend.len, &total, &now))
                take = 14 - c->pend.len;  /* up to the longest header */
            else
                take = now ? n : (size_t)(total - c->pend.len);
            if (take > n)
                take = n;
            buf_add(&c->pend, p, take);
            p += take;
            n -= take;
            if (!frame_size(c, (const uint8_t *)c->pend.data, c->pend.len, &total, &now))
                continue;  /* header still incomplete: n is 0 */
            if (now) {
                /* fed with the rest: wslay gives up on its header */
                buf_add(&c->pend, p, n);
                n = 0;
            } else if (c->pend.len < total) {
                continue;  /* payload incomplete: n is 0 */
            } else if (c->pend.len > total) {
                /* header bytes taken past this frame belong to the next */
                size_t extra = c->pend.len - (size_t)total;

                c->pend.len = (size_t)total;
                p -= extra;
                n += extra;
            }
            {
                struct buf whole = c->pend;

                buf_init(&c->pend);
                feed(c, (const uint8_t *)whole.data, whole.len);
                buf_give(c->srv, &whole);
            }
            continue;
        }
        /* whole frames straight from the read buffer */
        while (off < n && frame_size(c, p + off, n - off, &total, &now) && !now && total <= n - off)
            off += (size_t)total;
        if (off > 0) {
            feed(c, p, off);
            p += off;
            n -= off;
            continue;
        }
        if (frame_size(c, p, n, &total, &now) && now) {
            feed(c, p, n);
            return;
        }
        buf_take(c->srv, &c->pend);
        buf_add(&c->pend, p, n);
        return;
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    struct ws_conn *c = h->data;

    (void)suggested;
    *b = uv_buf_init(c->srv->read_buf, sizeof(c->srv->read_buf));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    struct ws_conn *c = s->data;

    if (nread == 0 || c->dead)
        return;
    if (nread < 0) {
        if (nread != UV_EOF)
            log_debug("[server: websocket] read failed: %s", uv_strerror((int)nread));
        ws_conn_abort(c);
        return;
    }
    c->cork++;
    process_input(c, b->base, (size_t)nread);
    c->cork--;
    ws_conn_flush(c);
    maybe_unbind(c);
}

/* ------------------------------------------------------------- lifetime */

static const struct wslay_event_callbacks callbacks = {
    on_wslay_recv,
    on_wslay_send,
    NULL,
    on_frame_start,
    on_frame_chunk,
    on_frame_end,
    on_msg,
};

struct ws_conn *ws_conn_new(struct ws_server *srv, uv_tcp_t *tcp, enum ws_mode mode)
{
    struct ws_conn *c = xcalloc(1, sizeof(*c));

    c->srv = srv;
    c->tcp = tcp;
    c->mode = (uint8_t)mode;
    c->alive = true;
    c->cork = 1;
    buf_init(&c->pend);
    buf_init(&c->msg);
    buf_init(&c->out);
    return c;
}

void ws_conn_discard(struct ws_conn *c)
{
    unbind_wslay(c, false);
    buf_release(&c->pend);
    buf_release(&c->msg);
    buf_release(&c->out);
    free(c->cl);
    free(c);
}

void ws_conn_start(struct ws_conn *c, const char *early, size_t early_len)
{
    struct ws_server *srv = c->srv;
    int rc;

    c->tcp->data = c;
    c->open_handles = 1;
    c->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = c;
    srv->conns = c;
    srv->n_conns++;
    if (c->close_queued)
        arm_close_timer(c);
    /* The web server may listen on a Unix socket: then the handle is a
     * uv_pipe_t, used here as a uv_stream_t only. */
    if (c->tcp->type == UV_TCP)
        uv_tcp_nodelay(c->tcp, 1);
    rc = uv_read_start((uv_stream_t *)c->tcp, on_alloc, on_read);
    if (rc < 0) {
        log_debug("[server: websocket] cannot read: %s", uv_strerror(rc));
        c->cork--;
        ws_conn_abort(c);
        return;
    }
    /* Frames that came in the same packets as the request head. */
    if (early_len > 0)
        process_input(c, early, early_len);
    c->cork--;
    ws_conn_flush(c);
    maybe_unbind(c);
}
