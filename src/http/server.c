/*
 * server.c - the web server's transport (web.md §2, §9.3): the listener,
 * one client per socket, llhttp glue, pipelining, keep-alive, limits,
 * timeouts, the outbound buffer and back-pressure.
 *
 * Requests on one socket are handled strictly one at a time, which keeps
 * pipelined responses in order without a response queue:
 *
 *  - on_message_complete returns HPE_PAUSED, so llhttp_execute() stops right
 *    after each message and the request runs outside the parser callbacks;
 *  - a synchronous action finishes inside http_request_run(): its response
 *    is appended to `out` and the loop parses the next message, so a read
 *    carrying 16 pipelined requests ends in one write of 16 responses;
 *  - while a response is not finished (an action pending, a file being
 *    read), unparsed input waits in `in`; reading stops once `in` holds more
 *    than maxPipelineBytes, and resumes (on the next loop turn, never from
 *    inside an action's completion) when the response is done;
 *  - parsing also stops while more than maxOutboundBytes wait to be written
 *    (a client that does not read its responses stops being read).
 *
 * Timers: one uv_timer_t per client with a lazy deadline (a phase change
 * only moves `deadline`; the armed timer re-arms itself when it fires
 * early), so the per-request cost is a comparison, not a heap operation.
 * Fresh and keep-alive connections close silently when idle; a request
 * whose head (headersTimeout) or body (requestTimeout) does not arrive in
 * time is answered 408.
 *
 * Closing: after the last response is written the socket is shut down
 * (FIN) and input is discarded until the peer closes or a short linger
 * timeout, so that unread pipelined input never turns our FIN into a RST
 * that would destroy the response in flight.
 */
#include "http/http_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/app.h"
#include "config/config.h"
#include "conn/conn.h"
#include "http/http.h"
#include "log/log.h"

#define LINGER_MS 2000

static void client_close(struct http_client *cl);
static void graceful_close(struct http_client *cl);
static void drive(struct http_client *cl);
static void maybe_finish(struct http_client *cl);
static void try_upgrade(struct http_client *cl);

/* ------------------------------------------------------------ helpers */

const char *http_date_now(struct http_server *srv)
{
    uint64_t now = core_now_ms();

    if (now / 1000 != srv->date_sec) {
        srv->date_sec = now / 1000;
        core_http_date(now, srv->date, sizeof(srv->date));
    }
    return srv->date;
}

static uint64_t now_ms(struct http_client *cl)
{
    return uv_now(cl->srv->app->loop);
}

static void on_timer(uv_timer_t *t);

/* Move the deadline; arm the timer only if it would fire too late. */
static void set_deadline(struct http_client *cl, uint64_t deadline)
{
    uint64_t now;

    cl->deadline = deadline;
    if (deadline == 0 || cl->closing)
        return;
    if (cl->timer_due != 0 && cl->timer_due <= deadline)
        return;
    now = now_ms(cl);
    cl->timer_due = deadline;
    uv_timer_start(&cl->timer, on_timer, deadline > now ? deadline - now : 0, 0);
}

size_t http_client_outbound(const struct http_client *cl)
{
    return cl->out.len + cl->wbuf.len;
}

void http_client_append(struct http_client *cl, const void *p, size_t n)
{
    if (cl == NULL || cl->closing || cl->stream == NULL)
        return;
    buf_add(&cl->out, p, n);
}

static void start_reading(struct http_client *cl);

static void on_write(uv_write_t *w, int status)
{
    struct http_client *cl = w->data;

    cl->writing = false;
    cl->wbuf.len = 0;
    if (cl->wbuf.cap > 256 * 1024)
        buf_release(&cl->wbuf);
    cl->refs--;
    if (cl->closing) {
        if (cl->refs == 0 && cl->pending_closes == 0)
            client_close(cl); /* frees */
        return;
    }
    if (status < 0) {
        client_close(cl);
        return;
    }
    http_client_flush(cl);
    if (cl->writing)
        return;
    /* everything is written */
    if (cl->upgrade_wait) {
        try_upgrade(cl);
        return;
    }
    if (cl->req && cl->req->file)
        http_static_resume(cl->req);
    if (cl->closing)
        return;
    if (cl->phase != PH_BUSY && cl->in.len > 0 && !cl->no_more_requests)
        drive(cl);
    maybe_finish(cl);
    if (!cl->closing)
        start_reading(cl);
}

void http_client_flush(struct http_client *cl)
{
    uv_buf_t b;
    int n, rc;
    struct buf tmp;

    if (cl == NULL || cl->writing || cl->out.len == 0 || cl->closing || cl->stream == NULL)
        return;
    /* Try the write at once: most responses fit the socket buffer, which
     * saves the write request and a loop turn. */
    b = uv_buf_init(cl->out.data, (unsigned)cl->out.len);
    n = uv_try_write(cl->stream, &b, 1);
    if (n == (int)cl->out.len) {
        cl->out.len = 0;
        if (cl->out.cap > 256 * 1024)
            buf_release(&cl->out);
        return;
    }
    if (n < 0 && n != UV_EAGAIN) {
        client_close(cl);
        return;
    }
    if (n < 0)
        n = 0;
    /* the rest goes through uv_write from wbuf; out starts empty again */
    tmp = cl->wbuf;
    cl->wbuf = cl->out;
    cl->out = tmp;
    cl->out.len = 0;
    if (n > 0) {
        memmove(cl->wbuf.data, cl->wbuf.data + n, cl->wbuf.len - (size_t)n);
        cl->wbuf.len -= (size_t)n;
    }
    b = uv_buf_init(cl->wbuf.data, (unsigned)cl->wbuf.len);
    cl->wreq.data = cl;
    rc = uv_write(&cl->wreq, cl->stream, &b, 1, on_write);
    if (rc < 0) {
        cl->wbuf.len = 0;
        client_close(cl);
        return;
    }
    cl->writing = true;
    cl->refs++;
}

/* ------------------------------------------------------------ requests */

/* Finished requests the server keeps for reuse: a web request's
 * connection usually lets go of it after its client has moved on, so the
 * per-client spare alone would allocate (and zero) one per request. */
#define HTTP_REQ_POOL 64

static struct http_req *req_new(struct http_client *cl)
{
    struct http_server *srv = cl->srv;
    struct http_req *req = cl->spare;

    if (req) {
        cl->spare = NULL;
    } else if ((req = srv->req_pool) != NULL) {
        srv->req_pool = req->pool_next;
        srv->n_req_pool--;
        req->pool_next = NULL;
    } else {
        req = xcalloc(1, sizeof(*req));
        req->srv = cl->srv;
        hdrq_init(&req->rh);
        hdrq_init(&req->res_headers);
        cl->srv->n_reqs++;
    }
    req->client = cl;
    req->refs = 1;
    return req;
}

static void req_free(struct http_req *req)
{
    struct http_server *srv = req->srv;

    http_req_clear(req);
    buf_release(&req->url);
    buf_release(&req->hbuf);
    buf_release(&req->body);
    buf_release(&req->path);
    free(req->parts);
    free(req->hdrs);
    hdrq_release(&req->rh);
    hdrq_release(&req->res_headers);
    harena_release(&req->arena);
    free(req);
    srv->n_reqs--;
    http_server_maybe_free(srv);
}

void http_req_ref(struct http_req *req)
{
    req->refs++;
}

void http_req_unref(struct http_req *req)
{
    struct http_client *cl;

    if (--req->refs > 0)
        return;
    cl = req->client;
    if (cl && !cl->closing && cl->spare == NULL && cl->req != req) {
        http_req_clear(req);
        req->client = NULL;
        cl->spare = req;
        return;
    }
    if (!req->srv->freeing && req->srv->n_req_pool < HTTP_REQ_POOL) {
        http_req_clear(req);
        req->client = NULL;
        req->pool_next = req->srv->req_pool;
        req->srv->req_pool = req;
        req->srv->n_req_pool++;
        return;
    }
    req_free(req);
}

/* Stop associating `req` with its client (the client moves on or goes). */
static void req_detach(struct http_client *cl, struct http_req *req)
{
    if (cl->req == req)
        cl->req = NULL;
    if (req->refs > 1) {
        /* a connection or a file operation still holds it */
        req->client = NULL;
        http_req_unref(req);
    } else {
        http_req_unref(req); /* recycled into cl->spare */
    }
}

static void queue_resume(struct http_client *cl);

void http_request_finished(struct http_req *req)
{
    struct http_client *cl = req->client;
    ah_connection_t *c = req->conn;

    if (req->finished_reported)
        return;
    req->finished_reported = true;
    req->response_done = true;
    /* The web connection ends with its response (connection.md §1). */
    if (c && !c->destroyed)
        ah_connection_destroy(c);
    if (cl == NULL)
        return;
    if (!req->keep_alive) {
        cl->no_more_requests = true;
        cl->close_after_write = true;
    }
    cl->phase = PH_IDLE;
    cl->phase_start = now_ms(cl);
    /* keepAliveTimeout 0 disables the idle timeout (as in Node) */
    cl->deadline = 0;
    if (cl->srv->cfg.keepalive_timeout > 0)
        set_deadline(cl, cl->phase_start + cl->srv->cfg.keepalive_timeout);
    req_detach(cl, req);
    if (cl->in_execute)
        return; /* the parse loop goes on */
    http_client_flush(cl);
    queue_resume(cl);
}

/* ------------------------------------------------------------ llhttp */

#define CL(p) ((struct http_client *)(p)->data)

static int reject(struct http_client *cl, int status, const char *text)
{
    if (cl->reject_status == 0) {
        cl->reject_status = status;
        cl->reject_text = text;
    }
    return HPE_USER;
}

static int on_message_begin(llhttp_t *p)
{
    struct http_client *cl = CL(p);

    if (cl->req == NULL)
        cl->req = req_new(cl);
    cl->phase = PH_HEAD;
    cl->phase_start = now_ms(cl);
    cl->hdr_in_value = false;
    cl->head_bytes = 0;
    cl->body_bytes = 0;
    cl->chunk_ext_bytes = 0;
    set_deadline(cl, cl->phase_start + cl->srv->cfg.headers_timeout);
    return 0;
}

static int on_url(llhttp_t *p, const char *at, size_t n)
{
    struct http_client *cl = CL(p);
    struct http_req *req = cl->req;

    cl->head_bytes += n;
    if (req->url.len + n > cl->srv->cfg.max_url_length)
        return reject(cl, 414, "URI too long");
    if (cl->head_bytes > cl->srv->cfg.max_header_bytes)
        return reject(cl, 431, "request header fields too large");
    buf_add(&req->url, at, n);
    return 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t n)
{
    struct http_client *cl = CL(p);
    struct http_req *req = cl->req;
    struct rhdr *h;
    size_t i;

    cl->head_bytes += n;
    if (cl->phase == PH_BODY) {
        /* trailers: counted, not kept (Node ignores them too) */
        if (cl->head_bytes > cl->srv->cfg.max_header_bytes)
            return reject(cl, 431, "request header fields too large");
        return 0;
    }
    if (!cl->hdr_in_value && req->n_hdrs > 0) {
        h = &req->hdrs[req->n_hdrs - 1];
    } else {
        cl->head_bytes += 4; /* ": " and CRLF */
        if (req->n_hdrs == req->cap_hdrs) {
            req->cap_hdrs = req->cap_hdrs ? req->cap_hdrs * 2 : 32;
            req->hdrs = xrealloc(req->hdrs, req->cap_hdrs * sizeof(*req->hdrs));
        }
        h = &req->hdrs[req->n_hdrs++];
        h->noff = (uint32_t)req->hbuf.len;
        h->nlen = 0;
        h->voff = 0;
        h->vlen = 0;
        cl->hdr_in_value = false;
    }
    if (cl->head_bytes > cl->srv->cfg.max_header_bytes)
        return reject(cl, 431, "request header fields too large");
    buf_grow(&req->hbuf, n + 1);
    for (i = 0; i < n; i++) {
        char ch = at[i];

        req->hbuf.data[req->hbuf.len++] = (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
    }
    req->hbuf.data[req->hbuf.len] = '\0';
    h->nlen += (uint32_t)n;
    return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t n)
{
    struct http_client *cl = CL(p);
    struct http_req *req = cl->req;
    struct rhdr *h;

    cl->head_bytes += n;
    if (cl->head_bytes > cl->srv->cfg.max_header_bytes)
        return reject(cl, 431, "request header fields too large");
    if (cl->phase == PH_BODY)
        return 0;
    h = &req->hdrs[req->n_hdrs - 1];
    if (!cl->hdr_in_value) {
        /* NUL-terminate the name, then the value starts */
        buf_addc(&req->hbuf, '\0');
        h->voff = (uint32_t)req->hbuf.len;
        cl->hdr_in_value = true;
    }
    buf_add(&req->hbuf, at, n);
    h->vlen += (uint32_t)n;
    return 0;
}

static int on_header_value_complete(llhttp_t *p)
{
    struct http_client *cl = CL(p);
    struct http_req *req = cl->req;

    if (cl->phase == PH_BODY)
        return 0;
    if (!cl->hdr_in_value) {
        /* an empty value: on_header_value never ran */
        struct rhdr *h = &req->hdrs[req->n_hdrs - 1];

        buf_addc(&req->hbuf, '\0');
        h->voff = (uint32_t)req->hbuf.len;
        h->vlen = 0;
    }
    buf_addc(&req->hbuf, '\0');
    cl->hdr_in_value = false;
    /* the next field starts a new header */
    cl->hdr_in_value = true;
    return 0;
}

static int on_headers_complete(llhttp_t *p)
{
    struct http_client *cl = CL(p);
    struct http_server *srv = cl->srv;
    struct http_req *req = cl->req;
    int st;

    req->method = (uint8_t)p->method;
    req->http_major = p->http_major;
    req->http_minor = p->http_minor;
    {
        const char *m = llhttp_method_name((llhttp_method_t)p->method);
        size_t ml = strnlen(m, sizeof(req->method_str) - 1);

        memcpy(req->method_str, m, ml);
        req->method_str[ml] = '\0';
    }
    if (!(req->http_major == 1 && (req->http_minor == 0 || req->http_minor == 1)))
        return reject(cl, 400, "unsupported HTTP version");
    req->keep_alive = llhttp_should_keep_alive(p) != 0;
    req->upgrade = p->upgrade != 0;
    req->has_content_length = (p->flags & F_CONTENT_LENGTH) != 0;
    req->parser_content_length = req->has_content_length ? p->content_length : 0;
    if (p->method == HTTP_CONNECT)
        return reject(cl, 400, "CONNECT is not supported");
    if (req->has_content_length && p->content_length > srv->cfg.max_body_bytes)
        return reject(cl, 413, "request body too large");
    cl->phase = PH_BODY;
    set_deadline(cl, cl->phase_start + srv->cfg.request_timeout);
    st = http_request_head(req);
    if (st != 0)
        return reject(cl, st, cl->reject_text ? cl->reject_text : "bad request");
    return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t n)
{
    struct http_client *cl = CL(p);

    cl->body_bytes += n;
    if (cl->body_bytes > cl->srv->cfg.max_body_bytes)
        return reject(cl, 413, "request body too large");
    http_request_body(cl->req, at, n);
    return 0;
}

/* Chunk extensions are not kept; like Node, at most 16 KiB of them per
 * request (a client could otherwise stream them forever). */
#define MAX_CHUNK_EXT_BYTES 16384

static int on_chunk_ext(llhttp_t *p, const char *at, size_t n)
{
    struct http_client *cl = CL(p);

    (void)at;
    cl->chunk_ext_bytes += n;
    if (cl->chunk_ext_bytes > MAX_CHUNK_EXT_BYTES)
        return reject(cl, 413, "chunk extensions too large");
    return 0;
}

/* A chunk announcing more than the body may still hold is refused before
 * its bytes arrive (llhttp puts the chunk size in content_length). */
static int on_chunk_header(llhttp_t *p)
{
    struct http_client *cl = CL(p);
    size_t left = cl->srv->cfg.max_body_bytes - cl->body_bytes;

    if (p->content_length > left)
        return reject(cl, 413, "request body too large");
    return 0;
}

static int on_message_complete(llhttp_t *p)
{
    struct http_client *cl = CL(p);

    cl->phase = PH_BUSY;
    cl->deadline = 0;
    /* stop the parser after every message: the request runs outside it */
    return HPE_PAUSED;
}

void http_settings_init(llhttp_settings_t *s)
{
    llhttp_settings_init(s);
    s->on_message_begin = on_message_begin;
    s->on_url = on_url;
    s->on_header_field = on_header_field;
    s->on_header_value = on_header_value;
    s->on_header_value_complete = on_header_value_complete;
    s->on_headers_complete = on_headers_complete;
    s->on_body = on_body;
    s->on_chunk_extension_name = on_chunk_ext;
    s->on_chunk_extension_value = on_chunk_ext;
    s->on_chunk_header = on_chunk_header;
    s->on_message_complete = on_message_complete;
}

/* ------------------------------------------------------------ parsing */

static const char *error_text(llhttp_errno_t err, const char *reason)
{
    (void)err;
    return reason && *reason ? reason : "bad request";
}

/* Feed p[0..n) to the parser; stop after a message whose response is not
 * finished, when no more requests are wanted, or when too much output is
 * waiting.  Returns the number of bytes consumed. */
static size_t execute(struct http_client *cl, const char *p, size_t n)
{
    size_t off = 0;

    cl->in_execute = true;
    while (off < n && !cl->closing && !cl->no_more_requests && cl->phase != PH_BUSY &&
           http_client_outbound(cl) <= cl->srv->cfg.max_outbound_bytes) {
        llhttp_errno_t err = llhttp_execute(&cl->parser, p + off, n - off);
        const char *pos;

        if (err == HPE_OK) {
            off = n;
            break;
        }
        pos = llhttp_get_error_pos(&cl->parser);
        if (err == HPE_PAUSED && cl->phase == PH_BUSY) {
            struct http_req *req = cl->req;

            off = (size_t)(pos - p);
            llhttp_resume(&cl->parser);
            if (req->upgrade) {
                /* nothing after an upgrade request is HTTP any more */
                cl->no_more_requests = true;
                if (http_ws_owns(cl->srv, req->path.data, req->path.len) && req->method == HTTP_GET) {
                    /* keep the rest for the websocket */
                    if (p == cl->in.data) {
                        memmove(cl->in.data, cl->in.data + off, n - off);
                        cl->in.len = n - off;
                    } else {
                        buf_reset(&cl->in);
                        buf_add(&cl->in, p + off, n - off);
                    }
                    cl->in_execute = false;
                    cl->upgrade_wait = true;
                    if (cl->reading) {
                        uv_read_stop(cl->stream);
                        cl->reading = false;
                    }
                    return SIZE_MAX;
                }
                req->keep_alive = false;
            }
            http_request_run(req);
            continue;
        }
        /* a protocol error or one of our limits */
        off = n;
        if (cl->reject_status)
            http_send_error(cl, cl->reject_status, cl->reject_text);
        else
            http_send_error(cl, 400, error_text(err, llhttp_get_error_reason(&cl->parser)));
        break;
    }
    cl->in_execute = false;
    return off;
}

/* Parse what waits in cl->in, for as long as responses can be produced:
 * parsing stops at a pending response, at the output bound, or when the
 * input is used up; a write that drains at once lets it go on. */
static void drive(struct http_client *cl)
{
    while (!cl->closing && cl->in.len > 0 && cl->phase != PH_BUSY && !cl->no_more_requests &&
           http_client_outbound(cl) <= cl->srv->cfg.max_outbound_bytes) {
        size_t used = execute(cl, cl->in.data, cl->in.len);

        if (used == SIZE_MAX) {
            try_upgrade(cl);
            return;
        }
        if (cl->closing)
            return;
        if (used >= cl->in.len || cl->no_more_requests) {
            cl->in.len = 0;
            if (cl->in.cap > 256 * 1024)
                buf_release(&cl->in);
        } else if (used > 0) {
            memmove(cl->in.data, cl->in.data + used, cl->in.len - used);
            cl->in.len -= used;
        }
        http_client_flush(cl);
        if (used == 0)
            break;
    }
    if (cl->closing)
        return;
    http_client_flush(cl);
    maybe_finish(cl);
}

static void on_resume(uv_idle_t *h)
{
    struct http_server *srv = h->data;

    while (srv->resume_head) {
        struct http_client *cl = srv->resume_head;

        srv->resume_head = cl->resume_next;
        cl->resume_queued = false;
        cl->resume_next = NULL;
        cl->refs--;
        if (cl->closing) {
            if (cl->refs == 0 && cl->pending_closes == 0)
                client_close(cl);
            continue;
        }
        drive(cl);
        if (cl->closing)
            continue;
        maybe_finish(cl);
        if (!cl->closing)
            start_reading(cl);
    }
    uv_idle_stop(h);
}

static void queue_resume(struct http_client *cl)
{
    struct http_server *srv = cl->srv;

    if (cl->resume_queued || cl->closing)
        return;
    cl->resume_queued = true;
    cl->refs++;
    cl->resume_next = srv->resume_head;
    srv->resume_head = cl;
    uv_idle_start(&srv->resume_idle, on_resume);
}

/* Nothing more will come or be answered: close once the output is out. */
static void maybe_finish(struct http_client *cl)
{
    if (cl->closing || cl->phase == PH_BUSY || cl->upgrade_wait)
        return;
    if (cl->eof && (cl->in.len == 0 || cl->no_more_requests)) {
        if (cl->phase == PH_HEAD || cl->phase == PH_BODY) {
            /* the peer half-closed in the middle of a request */
            http_send_error(cl, 400, "incomplete request");
            return;
        }
        cl->close_after_write = true;
    }
    if (cl->no_more_requests && cl->phase == PH_IDLE)
        cl->close_after_write = true;
    if (cl->close_after_write && !cl->writing && cl->out.len == 0)
        graceful_close(cl);
}

/* ------------------------------------------------------------ reading */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    struct http_client *cl = h->data;

    (void)suggested;
    if (cl->srv->rbuf_busy) {
        /* cannot happen on one loop thread; stay safe anyway */
        *b = uv_buf_init(NULL, 0);
        return;
    }
    cl->srv->rbuf_busy = true;
    *b = uv_buf_init(cl->srv->rbuf, sizeof(cl->srv->rbuf));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    struct http_client *cl = s->data;
    size_t used;

    cl->srv->rbuf_busy = false;
    (void)b;
    if (nread == 0)
        return;
    if (nread < 0) {
        if (nread != UV_EOF || cl->draining) {
            client_close(cl);
            return;
        }
        cl->eof = true;
        uv_read_stop(s);
        cl->reading = false;
        if (cl->phase == PH_BUSY || cl->upgrade_wait)
            return; /* answer what was asked first */
        if (cl->in.len > 0 && !cl->no_more_requests && !cl->writing &&
            http_client_outbound(cl) <= cl->srv->cfg.max_outbound_bytes) {
            drive(cl);
            if (cl->closing)
                return;
        }
        maybe_finish(cl);
        return;
    }
    if (cl->draining || cl->no_more_requests)
        return; /* discarded */
    if (cl->phase == PH_BUSY || cl->in.len > 0 ||
        http_client_outbound(cl) > cl->srv->cfg.max_outbound_bytes) {
        buf_add(&cl->in, b->base, (size_t)nread);
        if (cl->phase != PH_BUSY && http_client_outbound(cl) <= cl->srv->cfg.max_outbound_bytes) {
            drive(cl);
            if (cl->closing)
                return;
        }
        if (cl->in.len > cl->srv->cfg.max_pipeline_bytes && cl->reading) {
            uv_read_stop(s);
            cl->reading = false;
        }
        return;
    }
    used = execute(cl, b->base, (size_t)nread);
    if (used == SIZE_MAX) {
        try_upgrade(cl);
        return;
    }
    if (cl->closing)
        return;
    if (used < (size_t)nread && !cl->no_more_requests)
        buf_add(&cl->in, b->base + used, (size_t)nread - used);
    http_client_flush(cl);
    /* the write may have drained at once: go on with what is left */
    drive(cl);
    if (cl->closing)
        return;
    if (cl->in.len > cl->srv->cfg.max_pipeline_bytes && cl->reading) {
        uv_read_stop(s);
        cl->reading = false;
    }
}

static void start_reading(struct http_client *cl)
{
    if (cl->reading || cl->closing || cl->eof || cl->upgrade_wait || cl->stream == NULL)
        return;
    if (!cl->draining) {
        if (cl->no_more_requests && cl->phase != PH_BUSY)
            return;
        if (cl->in.len > cl->srv->cfg.max_pipeline_bytes)
            return;
    }
    if (uv_read_start(cl->stream, on_alloc, on_read) == 0)
        cl->reading = true;
}

/* ------------------------------------------------------------ timeouts */

static void on_timer(uv_timer_t *t)
{
    struct http_client *cl = t->data;
    uint64_t now = now_ms(cl);

    cl->timer_due = 0;
    if (cl->closing || cl->deadline == 0)
        return;
    if (now < cl->deadline) {
        uint64_t d = cl->deadline;

        cl->deadline = 0;
        set_deadline(cl, d);
        return;
    }
    cl->deadline = 0;
    if (cl->draining) {
        client_close(cl);
        return;
    }
    switch (cl->phase) {
    case PH_IDLE:
        if (cl->writing || cl->out.len > 0) {
            /* still writing a response: idle time starts after it */
            set_deadline(cl, now + (cl->srv->cfg.keepalive_timeout > 1000 ? cl->srv->cfg.keepalive_timeout : 1000));
            return;
        }
        client_close(cl);
        break;
    case PH_HEAD:
    case PH_BODY:
        http_send_error(cl, 408, "request timeout");
        break;
    case PH_BUSY:
        break;
    }
}

/* ------------------------------------------------------------ closing */

static void client_free(struct http_client *cl)
{
    struct http_server *srv = cl->srv;
    /* roughly what goes back to the heap with this client (its stream was
     * freed just before, unless a websocket took it), for the trim timer
     * as websocket closes do */
    size_t freed = sizeof(*cl) + sizeof(uv_tcp_t) + cl->in.cap + cl->out.cap + cl->wbuf.cap;

    buf_release(&cl->in);
    buf_release(&cl->out);
    buf_release(&cl->wbuf);
    if (cl->spare) {
        struct http_req *s = cl->spare;

        cl->spare = NULL;
        s->client = NULL;
        s->refs = 1;
        http_req_unref(s);
        freed += sizeof(*s);
    }
    free(cl);
    srv->n_client_structs--;
    if (srv->app)
        app_note_freed(srv->app, freed);
    http_server_maybe_free(srv);
}

static void on_handle_closed(uv_handle_t *h)
{
    struct http_client *cl = h->data;

    if ((uv_handle_t *)&cl->timer != h)
        free(h); /* the stream */
    if (--cl->pending_closes == 0 && cl->refs == 0)
        client_free(cl);
}

static void unlink_client(struct http_client *cl)
{
    struct http_server *srv = cl->srv;

    if (cl->prev)
        cl->prev->next = cl->next;
    else if (srv->clients == cl)
        srv->clients = cl->next;
    if (cl->next)
        cl->next->prev = cl->prev;
    cl->next = cl->prev = NULL;
    srv->n_clients--;
}

/* Close now (errors, stop, timeouts).  Safe to call again: the last call
 * with no references left frees the client. */
static void client_close(struct http_client *cl)
{
    struct http_req *req;

    if (cl->closing) {
        if (cl->pending_closes == 0 && cl->refs == 0)
            client_free(cl);
        return;
    }
    cl->closing = true;
    unlink_client(cl);
    req = cl->req;
    if (req) {
        /* the socket is gone: the web connection ends (connection.md §1) */
        ah_connection_t *c = req->conn;

        cl->req = NULL;
        if (c && !c->destroyed)
            ah_connection_destroy(c);
        req->client = NULL;
        http_req_unref(req);
    }
    cl->pending_closes = 1;
    uv_close((uv_handle_t *)&cl->timer, on_handle_closed);
    if (cl->stream) {
        cl->pending_closes++;
        uv_close((uv_handle_t *)cl->stream, on_handle_closed);
        cl->stream = NULL;
    }
}

static void on_shutdown(uv_shutdown_t *r, int status)
{
    struct http_client *cl = r->data;

    cl->refs--;
    if (cl->closing) {
        if (cl->refs == 0 && cl->pending_closes == 0)
            client_free(cl);
        return;
    }
    if (status < 0 || cl->eof) {
        client_close(cl);
        return;
    }
    /* wait for the peer's FIN, discarding input, for a short while */
    cl->draining = true;
    set_deadline(cl, now_ms(cl) + LINGER_MS);
    start_reading(cl);
}

static void graceful_close(struct http_client *cl)
{
    if (cl->closing || cl->draining || cl->stream == NULL)
        return;
    cl->draining = true;
    cl->no_more_requests = true;
    cl->sreq.data = cl;
    if (uv_shutdown(&cl->sreq, cl->stream, on_shutdown) < 0) {
        client_close(cl);
        return;
    }
    cl->refs++;
    cl->deadline = 0;
}

void http_client_abandon(struct http_client *cl)
{
    struct http_req *req = cl->req;

    cl->no_more_requests = true;
    cl->close_after_write = true;
    cl->upgrade_wait = false;
    if (req) {
        ah_connection_t *c = req->conn;

        if (c && !c->destroyed)
            ah_connection_destroy(c);
        req_detach(cl, req);
    }
    cl->phase = PH_IDLE;
    cl->deadline = 0;
    if (cl->in_execute)
        return; /* the parse loop flushes and finishes */
    http_client_flush(cl);
    maybe_finish(cl);
}

void http_client_abort(struct http_client *cl)
{
    if (cl)
        client_close(cl);
}

/* ------------------------------------------------------------ upgrade */

/* A websocket upgrade waits until every earlier response is written. */
static void try_upgrade(struct http_client *cl)
{
    struct http_req *req = cl->req;
    int status = 400;
    const char *body = "bad websocket request";
    int rc;

    if (cl->closing)
        return;
    if (cl->writing || cl->out.len > 0) {
        http_client_flush(cl);
        return; /* on_write comes back here */
    }
    cl->upgrade_wait = false;
    rc = http_ws_upgrade(req, cl->in.data ? cl->in.data : "", cl->in.len, &status, &body);
    if (rc == 0) {
        /* the websocket server owns the stream now */
        cl->stream = NULL;
        client_close(cl);
        return;
    }
    cl->in.len = 0;
    http_ws_refuse(cl, status, body);
}

/* ------------------------------------------------------------ accepting */

static char busy_response[] =
    "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json; charset=utf-8\r\n"
    "content-length: 31\r\nconnection: close\r\n\r\n{\"error\":\"too many connections\"}";

static void on_reject_closed(uv_handle_t *h)
{
    free(h);
}

static void peer_address(struct http_client *cl)
{
    struct sockaddr_storage ss;
    int len = sizeof(ss);

    cl->peer_ip[0] = '\0';
    cl->has_peer_port = false;
    if (cl->srv->cfg.unix_socket)
        return;
    if (uv_tcp_getpeername((uv_tcp_t *)cl->stream, (struct sockaddr *)&ss, &len) != 0)
        return;
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;

        uv_ip4_name(a, cl->peer_ip, sizeof(cl->peer_ip));
        snprintf(cl->peer_port, sizeof(cl->peer_port), "%u", ntohs(a->sin_port));
        cl->has_peer_port = true;
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

        uv_ip6_name(a, cl->peer_ip, sizeof(cl->peer_ip));
        snprintf(cl->peer_port, sizeof(cl->peer_port), "%u", ntohs(a->sin6_port));
        cl->has_peer_port = true;
    }
}

static void on_connection(uv_stream_t *listener, int status)
{
    struct http_server *srv = listener->data;
    struct http_client *cl;
    uv_stream_t *s;

    if (status < 0) {
        log_warn("[server: web] cannot accept a connection: %s", uv_strerror(status));
        return;
    }
    if (srv->cfg.unix_socket) {
        s = xmalloc(sizeof(uv_pipe_t));
        uv_pipe_init(srv->app->loop, (uv_pipe_t *)s, 0);
    } else {
        s = xmalloc(sizeof(uv_tcp_t));
        uv_tcp_init(srv->app->loop, (uv_tcp_t *)s);
    }
    if (uv_accept(listener, s) != 0) {
        uv_close((uv_handle_t *)s, on_reject_closed);
        return;
    }
    if (srv->n_clients >= srv->cfg.max_connections || srv->stopping) {
        uv_buf_t b = uv_buf_init(busy_response, sizeof(busy_response) - 1);

        (void)uv_try_write(s, &b, 1);
        uv_close((uv_handle_t *)s, on_reject_closed);
        return;
    }
    if (!srv->cfg.unix_socket)
        uv_tcp_nodelay((uv_tcp_t *)s, 1);
    cl = xcalloc(1, sizeof(*cl));
    srv->n_client_structs++;
    cl->srv = srv;
    cl->stream = s;
    s->data = cl;
    uv_timer_init(srv->app->loop, &cl->timer);
    cl->timer.data = cl;
    llhttp_init(&cl->parser, HTTP_REQUEST, &srv->settings);
    cl->parser.data = cl;
    cl->next = srv->clients;
    if (srv->clients)
        srv->clients->prev = cl;
    srv->clients = cl;
    srv->n_clients++;
    peer_address(cl);
    cl->phase = PH_IDLE;
    cl->phase_start = now_ms(cl);
    /* a fresh connection gets the headers timeout to send its first request */
    set_deadline(cl, cl->phase_start + srv->cfg.headers_timeout);
    start_reading(cl);
}

/* ------------------------------------------------------------ listen */

static int listen_once(struct http_server *srv, char *err, size_t errlen)
{
    uv_loop_t *loop = srv->app->loop;
    struct http_cfg *cfg = &srv->cfg;
    int rc;

    if (cfg->unix_socket) {
        uv_pipe_t *p = xmalloc(sizeof(*p));

        uv_pipe_init(loop, p, 0);
        srv->listener = (uv_stream_t *)p;
        p->data = srv;
        rc = uv_pipe_bind(p, cfg->port_text);
        if (rc == 0)
            rc = uv_listen((uv_stream_t *)p, 1024, on_connection);
        if (rc == 0)
            chmod(cfg->port_text, 0777);
    } else {
        uv_tcp_t *t = xmalloc(sizeof(*t));
        struct sockaddr_storage ss;
        int port = atoi(cfg->port_text);

        uv_tcp_init(loop, t);
        srv->listener = (uv_stream_t *)t;
        t->data = srv;
        if (strchr(cfg->bind_ip, ':')) {
            rc = uv_ip6_addr(cfg->bind_ip, port, (struct sockaddr_in6 *)&ss);
            srv->dual_stack = true;
        } else {
            rc = uv_ip4_addr(cfg->bind_ip, port, (struct sockaddr_in *)&ss);
        }
        if (rc == 0)
            rc = uv_tcp_bind(t, (struct sockaddr *)&ss, 0);
        if (rc == 0)
            rc = uv_listen((uv_stream_t *)t, 1024, on_connection);
    }
    if (rc < 0) {
        /* Node's text: "Error: listen EADDRINUSE: address already in use ::1:8080" */
        snprintf(err, errlen, "Error: listen %s: %s %s%s%s", uv_err_name(rc), uv_strerror(rc),
                 cfg->unix_socket ? "" : cfg->bind_ip, cfg->unix_socket ? "" : ":", cfg->port_text);
        uv_close((uv_handle_t *)srv->listener, on_reject_closed);
        srv->listener = NULL;
        return rc;
    }
    srv->listening = true;
    return 0;
}

int http_server_listen(struct http_server *srv)
{
    struct http_cfg *cfg = &srv->cfg;
    char err[256];
    int attempts = 0;

    for (;;) {
        if (listen_once(srv, err, sizeof(err)) == 0)
            return 0;
        attempts++;
        if (attempts >= srv->boot_attempts)
            break;
        log_error("cannot boot web server; trying again [%s]", err);
        if (attempts == 1 && cfg->unix_socket) {
            if (unlink(cfg->port_text) == 0)
                log_info("removed stale unix socket @ %s", cfg->port_text);
            else
                log_error("cannot remove stale socket @ %s: %s", cfg->port_text, strerror(errno));
        }
        /* boot is synchronous: nothing else runs yet, so a plain sleep */
        uv_sleep(1000);
        log_info("attempting to boot again..");
    }
    return ah_app_fail(srv->app, "cannot start web server @ %s:%s => %s",
                       cfg->bind_ip ? cfg->bind_ip : "null", cfg->port_text, err);
}

static void on_listener_closed(uv_handle_t *h)
{
    struct http_server *srv = h->data;

    free(h);
    srv->listener_closing = false;
    http_server_maybe_free(srv);
}

void http_server_stop_accepting(struct http_server *srv)
{
    srv->stopping = true;
    if (srv->listener && !srv->listener_closing) {
        srv->listener_closing = true;
        uv_close((uv_handle_t *)srv->listener, on_listener_closed);
        srv->listener = NULL;
        srv->listening = false;
    }
}

void http_server_close_all(struct http_server *srv)
{
    http_server_stop_accepting(srv);
    while (srv->clients)
        client_close(srv->clients);
}

static void on_idle_closed(uv_handle_t *h)
{
    struct http_server *srv = h->data;

    srv->idle_closing = false;
    srv->idle_closed = true;
    http_server_maybe_free(srv);
}

void http_server_shutdown(struct http_server *srv)
{
    srv->freeing = true;
    while (srv->req_pool) {
        struct http_req *req = srv->req_pool;

        srv->req_pool = req->pool_next;
        srv->n_req_pool--;
        req_free(req);
    }
    http_server_close_all(srv);
    /* Clients queued for on_resume hold a reference that only on_resume
     * drops, and on_resume never runs once resume_idle is closed: drop the
     * queue here (every client is closing now; the last close frees it). */
    while (srv->resume_head) {
        struct http_client *cl = srv->resume_head;

        srv->resume_head = cl->resume_next;
        cl->resume_queued = false;
        cl->resume_next = NULL;
        cl->refs--;
        client_close(cl);
    }
    if (!srv->idle_closed && !srv->idle_closing) {
        srv->idle_closing = true;
        uv_close((uv_handle_t *)&srv->resume_idle, on_idle_closed);
    }
    http_server_maybe_free(srv);
}

void http_server_maybe_free(struct http_server *srv)
{
    if (!srv->freeing || srv->n_clients > 0 || srv->n_reqs > 0 || srv->listener ||
        srv->listener_closing || srv->idle_closing || !srv->idle_closed || srv->n_client_structs > 0)
        return;
    if (srv->app->http == srv)
        srv->app->http = NULL;
    fcache_free(srv);
    http_static_release(srv);
    http_cfg_release(&srv->cfg);
    hdr_block_release(&srv->base_block);
    buf_release(&srv->scratch);
    buf_release(&srv->hdr_scratch);
    buf_release(&srv->keepalive_line);
    buf_release(&srv->cookie_suffix);
    buf_release(&srv->zbuf);
    free(srv->base);
    free(srv);
}
