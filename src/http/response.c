/*
 * response.c - emitting responses (web.md §6.4-§7, §9-§10): the header
 * queue with its defaults, the response object's own headers
 * (connection.setHeader), status and body of a finished action, OPTIONS,
 * TRACE, sendMessage and pipe.
 *
 * Speed: the default part of the queue (Content-Type and httpHeaders) is
 * finalised once at boot into srv->base_block (with its lines indexed); a
 * response finalises only what it queued itself and copies the default
 * lines no queued header replaced, with no allocation.  Bodies are serialised into a reused scratch
 * buffer and appended to the client's output buffer.
 */
#include "http/http_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "config/config.h"
#include "core/json_out.h"
#include "dispatch/dispatch.h"
#include "http/http.h"
#include "log/log.h"

/* Headers the server computes itself; queued ones are not sent. */
static const char *const computed[] = {"content-length", "transfer-encoding", "connection", "keep-alive", "date",
                                       NULL};
static const char *const computed_etag[] = {"content-length", "transfer-encoding", "connection", "keep-alive",
                                            "date", "etag", NULL};
static const char *const computed_ce[] = {"content-length", "transfer-encoding", "connection", "keep-alive",
                                          "date", "content-encoding", NULL};
static const char *const computed_etag_ce[] = {"content-length", "transfer-encoding", "connection", "keep-alive",
                                               "date", "etag", "content-encoding", NULL};

static const char *const *skip_list(unsigned skip)
{
    switch (skip & (HDR_SKIP_ETAG | HDR_SKIP_CE)) {
    case HDR_SKIP_ETAG: return computed_etag;
    case HDR_SKIP_CE: return computed_ce;
    case HDR_SKIP_ETAG | HDR_SKIP_CE: return computed_etag_ce;
    default: return computed;
    }
}

/* ------------------------------------------------------------ queue */

void http_resp_init(struct http_req *req)
{
    req->rh.n = 0;
    req->res_headers.n = 0;
    req->custom_headers = false;
}

void http_resp_queue(struct http_req *req, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value);

    if (!hdr_valid_name(name, nl) || !hdr_valid_value(value, vl)) {
        log_warn("[server: web] invalid response header '%.64s' not queued", name);
        return;
    }
    hdrq_push(&req->rh, harena_dup(&req->arena, name, nl), nl, harena_dup(&req->arena, value, vl), vl);
    req->custom_headers = true;
}

/* The whole queue: fingerprint cookie, defaults, then what was queued. */
static struct hdr *full_queue(struct http_req *req, size_t *n, struct hdr *small, size_t small_n)
{
    struct http_server *srv = req->srv;
    size_t total = (req->set_cookie_len ? 1 : 0) + srv->n_base + req->rh.n, k = 0;
    struct hdr *v = total <= small_n ? small : xmalloc(total * sizeof(*v));

    if (req->set_cookie_len) {
        v[k].name = "Set-Cookie";
        v[k].nlen = 10;
        v[k].value = req->set_cookie;
        v[k].vlen = (uint32_t)req->set_cookie_len;
        k++;
    }
    memcpy(v + k, srv->base, srv->n_base * sizeof(*v));
    k += srv->n_base;
    memcpy(v + k, req->rh.v, req->rh.n * sizeof(*v));
    k += req->rh.n;
    *n = k;
    return v;
}

/* extractHeader: the last queued value of `name` (case-insensitive). */
const struct hdr *http_resp_last(struct http_req *req, const char *name)
{
    const struct hdr *h = hdrq_last(&req->rh, name);
    struct http_server *srv = req->srv;
    size_t i = srv->n_base, nl = strlen(name);

    if (h)
        return h;
    while (i-- > 0)
        if (srv->base[i].nlen == nl && strncasecmp(srv->base[i].name, name, nl) == 0)
            return &srv->base[i];
    return NULL;
}

static bool name_is(const struct hdr *h, const char *lname)
{
    size_t n = strlen(lname);

    return h->nlen == n && strncasecmp(h->name, lname, n) == 0;
}

static void add_line(struct buf *out, const struct hdr *h, bool lower)
{
    size_t k;

    buf_grow(out, h->nlen + h->vlen + 4);
    for (k = 0; k < h->nlen; k++)
        out->data[out->len + k] = lower ? (char)tolower((unsigned char)h->name[k]) : h->name[k];
    out->len += h->nlen;
    buf_add(out, ": ", 2);
    buf_add(out, h->value, h->vlen);
    buf_add(out, "\r\n", 2);
}

static inline char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

static bool same_name(const char *a, const char *b, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (lower(a[i]) != lower(b[i]))
            return false;
    return true;
}

/* Is h one of the headers the server computes (the skip lists above)? */
static bool is_computed(const struct hdr *h, unsigned skip_flags)
{
    switch (h->nlen) {
    case 4:
        return same_name(h->name, "date", 4) || ((skip_flags & HDR_SKIP_ETAG) && same_name(h->name, "etag", 4));
    case 10: return same_name(h->name, "connection", 10) || same_name(h->name, "keep-alive", 10);
    case 14: return same_name(h->name, "content-length", 14);
    case 16: return (skip_flags & HDR_SKIP_CE) && same_name(h->name, "content-encoding", 16);
    case 17: return same_name(h->name, "transfer-encoding", 17);
    default: return false;
    }
}

/* Append "name: value\r\n" with the name lower-cased. */
static void put_line(struct buf *out, const struct hdr *h)
{
    char *p;
    size_t k;

    buf_grow(out, h->nlen + h->vlen + 4);
    p = out->data + out->len;
    for (k = 0; k < h->nlen; k++)
        p[k] = lower(h->name[k]);
    p += h->nlen;
    *p++ = ':';
    *p++ = ' ';
    memcpy(p, h->value, h->vlen);
    p += h->vlen;
    *p++ = '\r';
    *p++ = '\n';
    out->len = (size_t)(p - out->data);
    *p = '\0';
}

/* web.md §9.1 without the response object's own headers: the queue is
 * [fingerprint cookie, defaults..., queued...], so the result is the
 * queued ones finalised (last first), then the default block built at boot
 * minus the names a queued header replaced, then the cookie. */
static void merge_queued(struct http_req *req, struct buf *out, unsigned skip_flags)
{
    const struct hdr_block *b = &req->srv->base_block;
    const struct hdr *v = req->rh.v;
    size_t n = req->rh.n, i, j;
    unsigned drop = ((skip_flags & HDR_SKIP_ETAG) ? HL_ETAG : 0) | ((skip_flags & HDR_SKIP_CE) ? HL_CE : 0);
    int conn_close = -1; /* decided by the last queued Connection, else the defaults */

    for (i = n; i-- > 0;) {
        const struct hdr *h = &v[i];

        if (!(h->nlen == 10 && same_name(h->name, "set-cookie", 10))) {
            bool dup = false;

            for (j = i + 1; j < n && !dup; j++)
                dup = v[j].nlen == h->nlen && same_name(v[j].name, h->name, h->nlen);
            if (dup)
                continue;
            if (conn_close < 0 && h->nlen == 10 && same_name(h->name, "connection", 10))
                conn_close = h->vlen >= 5 && same_name(h->value, "close", 5);
        }
        if (!is_computed(h, skip_flags))
            put_line(out, h);
    }
    for (i = 0; i < b->n; i++) {
        const struct hdr_line *l = &b->lines[i];
        const char *name = b->text.data + l->off;

        if (l->flags & drop)
            continue;
        if (!(l->flags & HL_COOKIE)) {
            bool replaced = false;

            for (j = 0; j < n && !replaced; j++)
                replaced = v[j].nlen == l->nlen && same_name(v[j].name, name, l->nlen);
            if (replaced)
                continue;
        }
        buf_add(out, name, l->len);
    }
    if (req->set_cookie_len) {
        struct hdr c = {"set-cookie", req->set_cookie, 10, (uint32_t)req->set_cookie_len};

        put_line(out, &c);
    }
    /* a queued "Connection: close" is honoured */
    if (conn_close < 0)
        conn_close = req->srv->base_conn_close;
    if (conn_close)
        req->keep_alive = false;
}

void http_build_headers(struct http_req *req, struct buf *out, unsigned skip_flags)
{
    struct http_server *srv = req->srv;
    bool head = req->method == HTTP_HEAD;
    struct hdr small[48];
    struct hdr *v, *fin;
    size_t n, nf = 0, i;
    struct buf lines = BUF_INIT;

    if (req->res_headers.n == 0 && !(head && srv->base_has_te)) {
        merge_queued(req, out, skip_flags);
        return;
    }
    v = full_queue(req, &n, small, ARRAY_SIZE(small));
    if (req->res_headers.n == 0) {
        hdr_finalize(v, n, head, skip_list(skip_flags), out);
        goto done;
    }
    /* Node's writeHead(code, headers) over headers set with setHeader:
     * those keep their place, with the queue's value when it names them. */
    fin = xmalloc((n + 1) * sizeof(*fin));
    {
        /* finalise into a list (same rules as hdr_finalize) */
        size_t j = n;

        while (j-- > 0) {
            bool cookie = name_is(&v[j], "set-cookie"), dup = false;
            size_t k;

            for (k = 0; k < nf && !cookie && !dup; k++)
                dup = v[j].nlen == fin[k].nlen && strncasecmp(v[j].name, fin[k].name, v[j].nlen) == 0;
            if (dup)
                continue;
            if (head && v[j].nlen == 17 && memcmp(v[j].name, "Transfer-Encoding", 17) == 0)
                continue;
            fin[nf++] = v[j];
        }
    }
    {
        bool *used = xcalloc(nf + 1, sizeof(*used));
        const char *const *skip = skip_list(skip_flags);

        for (i = 0; i < req->res_headers.n; i++) {
            const struct hdr *r = &req->res_headers.v[i];
            bool replaced = false, skipped = false;
            size_t k;
            const char *const *s;

            for (s = skip; *s && !skipped; s++)
                skipped = name_is(r, *s);
            if (skipped)
                continue;
            for (k = 0; k < nf; k++) {
                if (!used[k] && fin[k].nlen == r->nlen && strncasecmp(fin[k].name, r->name, r->nlen) == 0) {
                    add_line(out, &fin[k], true);
                    used[k] = true;
                    replaced = true;
                }
            }
            if (!replaced)
                add_line(out, r, false);
        }
        for (i = 0; i < nf; i++) {
            const char *const *s;
            bool skipped = false;

            for (s = skip; *s && !skipped; s++)
                skipped = name_is(&fin[i], *s);
            if (!used[i] && !skipped)
                add_line(out, &fin[i], true);
        }
        free(used);
    }
    free(fin);
done:
    /* a queued "Connection: close" is honoured */
    {
        const struct hdr *c = http_resp_last(req, "connection");

        if (c && c->vlen >= 5 && strncasecmp(c->value, "close", 5) == 0)
            req->keep_alive = false;
    }
    if (v != small)
        free(v);
    buf_release(&lines);
}

/* ------------------------------------------------------------ writing */

/* Decimal digits of v at p; returns the end. */
static char *put_uint(char *p, unsigned long long v)
{
    char tmp[24];
    size_t i = sizeof(tmp), n;

    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    n = sizeof(tmp) - i;
    memcpy(p, tmp + i, n);
    return p + n;
}

static char *put(char *p, const char *s, size_t n)
{
    if (n)
        memcpy(p, s, n);
    return p + n;
}

#define PUT_LIT(p, lit) put((p), (lit), sizeof(lit) - 1)

/* "HTTP/1.1 <status> <reason>\r\n" */
static char *put_status_line(char *p, int status)
{
    const char *reason;

    switch (status) {
    case 200: return PUT_LIT(p, "HTTP/1.1 200 OK\r\n");
    case 304: return PUT_LIT(p, "HTTP/1.1 304 Not Modified\r\n");
    case 404: return PUT_LIT(p, "HTTP/1.1 404 Not Found\r\n");
    default: break;
    }
    reason = http_reason(status);
    p = PUT_LIT(p, "HTTP/1.1 ");
    p = put_uint(p, (unsigned)status);
    *p++ = ' ';
    p = put(p, reason, strlen(reason));
    return PUT_LIT(p, "\r\n");
}

void http_write_response(struct http_req *req, int status, const char *hdrs, size_t hlen, const char *body,
                         size_t blen, long long content_length, bool more)
{
    struct http_client *cl = req->client;
    struct http_server *srv = req->srv;
    bool no_length, no_body;

    if (status < 100 || status > 999)
        status = 500;
    no_length = status < 200 || status == 204 || status == 304;
    no_body = no_length || req->method == HTTP_HEAD;
    if (srv->stopping)
        req->keep_alive = false;
    /* a body of unknown length ends with the connection for HTTP/1.0 */
    if (content_length == HTTP_CL_CHUNKED && req->http_minor == 0 && !no_body)
        req->keep_alive = false;
    req->response_started = true;
    if (cl && !cl->closing && cl->stream) {
        struct buf *o = &cl->out;
        const char *date = http_date_now(srv);
        size_t dlen = strlen(date);
        char *p;

        /* status line (at most 9 + 3 + 1 + 32 + 2 with the longest reason),
         * the fixed lines (~160) and the Keep-Alive line */
        buf_grow(o, 256 + srv->keepalive_line.len + hlen + dlen + (no_body ? 0 : blen));
        p = put_status_line(o->data + o->len, status);
        p = put(p, hdrs, hlen);
        if (!no_length && content_length != HTTP_CL_CHUNKED) {
            p = PUT_LIT(p, "content-length: ");
            p = put_uint(p, content_length >= 0 ? (unsigned long long)content_length : (unsigned long long)blen);
            p = PUT_LIT(p, "\r\n");
        }
        p = PUT_LIT(p, "Date: ");
        p = put(p, date, dlen);
        if (req->keep_alive) {
            p = PUT_LIT(p, "\r\nConnection: keep-alive\r\n");
            if (srv->keepalive_line.len) {
                p = put(p, srv->keepalive_line.data, srv->keepalive_line.len);
                p = PUT_LIT(p, "\r\n");
            }
        } else {
            p = PUT_LIT(p, "\r\nConnection: close\r\n");
        }
        if (content_length == HTTP_CL_CHUNKED && req->http_minor >= 1 && !no_body)
            p = PUT_LIT(p, "Transfer-Encoding: chunked\r\n");
        p = PUT_LIT(p, "\r\n");
        if (!no_body && blen)
            p = put(p, body, blen);
        o->len = (size_t)(p - o->data);
        *p = '\0';
    }
    if (!more)
        http_resp_end(req);
}

void http_resp_end(struct http_req *req)
{
    req->response_done = true;
    http_request_finished(req);
}

void http_send_string(struct http_req *req, int status, const char *body, size_t len)
{
    struct http_server *srv = req->srv;
    struct buf *h = &srv->hdr_scratch;
    int enc = http_choose_encoding(req);

    if (req->response_done)
        return;
    buf_reset(h);
    http_build_headers(req, h, enc ? HDR_SKIP_CE : 0);
    if (enc) {
        buf_reset(&srv->zbuf);
        if (http_compress(enc, body, len, &srv->zbuf) == 0) {
            buf_addf(h, "content-encoding: %s\r\n", http_encoding_name(enc));
            http_write_response(req, status, h->data, h->len, srv->zbuf.data, srv->zbuf.len, -1, false);
            if (srv->zbuf.cap > 1024 * 1024)
                buf_release(&srv->zbuf);
            return;
        }
    }
    http_write_response(req, status, h->data, h->len, body, len, -1, false);
}

void http_resp_message(struct http_req *req, const char *body, size_t len)
{
    if (req->response_done)
        return;
    /* sendMessage sends nothing for HEAD (Content-Length 0) */
    if (req->method == HTTP_HEAD)
        len = 0;
    http_send_string(req, req->status, body, len);
}

/* ------------------------------------------------------------ metadata */

/* requesterInformation and serverInformation are written straight into
 * the response text (development config), not built as jansson values. */
static void put_requester_members(struct json_out_w *w, struct http_req *req)
{
    ah_connection_t *c = req->conn;
    struct http_cfg *cfg = &req->srv->cfg;
    struct json_out_w rp;
    const char *k;
    json_t *v;

    json_out_w_key(w, "id");
    json_out_w_string(w, c->id);
    json_out_w_key(w, "fingerprint");
    json_out_w_string(w, c->fingerprint);
    json_out_w_key(w, "messageId");
    json_out_w_string(w, c->message_id);
    json_out_w_key(w, "remoteIP");
    json_out_w_string(w, c->remote_ip);
    json_out_w_key(w, "receivedParams");
    json_out_w_begin(w, &rp);
    json_object_foreach(c->params, k, v) {
        if (cfg->disable_param_scrubbing || dispatch_is_post_variable(c->app, k)) {
            json_out_w_key(&rp, k);
            json_out_w_value(&rp, v);
        }
    }
    json_out_w_end(&rp);
}

static void put_server_members(struct json_out_w *w, struct http_req *req)
{
    struct http_cfg *cfg = &req->srv->cfg;
    uint64_t now = core_now_ms();

    json_out_w_key(w, "serverName");
    json_out_w_string(w, cfg->server_name);
    json_out_w_key(w, "apiVersion");
    json_out_w_string(w, cfg->api_version);
    json_out_w_key(w, "requestDuration");
    json_out_w_int(w, (long long)(now - req->conn->connected_at));
    json_out_w_key(w, "currentTime");
    json_out_w_int(w, (long long)now);
}

struct meta {
    struct http_req *req;
    bool server, requester;
};

static void put_meta(struct json_out_w *w, void *arg)
{
    struct meta *m = arg;
    struct json_out_w inner;

    if (m->server) {
        json_out_w_key(w, "serverInformation");
        json_out_w_begin(w, &inner);
        put_server_members(&inner, m->req);
        json_out_w_end(&inner);
    }
    if (m->requester) {
        json_out_w_key(w, "requesterInformation");
        json_out_w_begin(w, &inner);
        put_requester_members(&inner, m->req);
        json_out_w_end(&inner);
    }
}

static void put_requester(struct json_out_w *w, void *arg)
{
    put_requester_members(w, arg);
}

/* The metadata as a jansson value: only when the action's response
 * already has the key, which keeps its place (JS property assignment). */
static json_t *meta_value(struct http_req *req, bool server)
{
    struct meta m = {req, server, !server};
    struct buf t = BUF_INIT;
    json_t *o, *v;

    json_out_object(&t, NULL, 0, 0, put_meta, &m);
    o = json_loadb(t.data, t.len, 0, NULL);
    buf_release(&t);
    v = json_incref(json_object_get(o, server ? "serverInformation" : "requesterInformation"));
    json_decref(o);
    return v;
}

static void render(struct buf *body, json_t *resp, int padding, struct meta *meta)
{
    if (json_is_object(resp) && (meta->server || meta->requester))
        json_out_object(body, resp, padding, 0, put_meta, meta);
    else
        json_out(body, resp, padding, 0);
}

void http_render_action(struct http_req *req, ah_ctx_t *ctx)
{
    struct http_server *srv = req->srv;
    struct http_cfg *cfg = &srv->cfg;
    ah_connection_t *c = req->conn;
    json_t *resp = ctx->response, *error = NULL;
    struct buf *body = &srv->scratch;
    const struct hdr *ct;
    bool is_obj = json_is_object(resp), has_error;
    struct meta meta = {req, false, false};

    if (req->response_done)
        return;
    if (resp == NULL) {
        ctx->response = resp = json_object();
        is_obj = true;
    }
    if (is_obj) {
        /* written while rendering, after the response's own keys */
        meta.server = cfg->meta_server;
        meta.requester = cfg->meta_requester;
        if (meta.server && json_object_get(resp, "serverInformation")) {
            json_object_set_new(resp, "serverInformation", meta_value(req, true));
            meta.server = false;
        }
        if (meta.requester && json_object_get(resp, "requesterInformation")) {
            json_object_set_new(resp, "requesterInformation", meta_value(req, false));
            meta.requester = false;
        }
    }
    if (is_obj)
        error = json_object_get(resp, "error");
    has_error = core_truthy(error);
    req->status = http_error_status(error, (int)ctx->action_status, req->status, cfg->return_error_codes,
                                    cfg->default_error_status, has_error);
    if (!has_error && ctx->action && core_truthy(json_object_get(ctx->params, "apiVersion")) &&
        ctx->action_template && ctx->action_template->match_extension_mime_type != AH_NO && c->extension) {
        const char *mime = http_mime_lookup(c->extension);

        if (mime)
            http_resp_queue(req, "Content-Type", mime);
    }
    if (has_error) {
        json_t *se = dispatch_serialize_error(ctx, "web");

        if (se)
            json_object_set_new(resp, "error", se);
    }
    buf_reset(body);
    ct = http_resp_last(req, "content-type");
    if (ct && memmem(ct->value, ct->vlen, "json", 4)) {
        json_t *cb = json_object_get(ctx->params, "callback");

        if (core_truthy(cb)) {
            json_t *ccb = json_object_get(c->params, "callback");
            char *s = dispatch_js_string(ccb);

            http_resp_queue(req, "Content-Type", "application/javascript");
            http_callback_escape(s, body);
            free(s);
            buf_addc(body, '(');
            render(body, resp, cfg->padding, &meta);
            buf_add(body, ");", 2);
        } else {
            render(body, resp, cfg->padding, &meta);
        }
    } else {
        char *s = dispatch_js_string(resp);

        buf_adds(body, s);
        free(s);
    }
    http_resp_message(req, body->data ? body->data : "", body->len);
}

/* ------------------------------------------------------------ OPTIONS, TRACE */

void http_respond_options(struct http_req *req)
{
    struct http_cfg *cfg = &req->srv->cfg;

    if (!cfg->headers_have_acam && !http_resp_last(req, "Access-Control-Allow-Methods"))
        http_resp_queue(req, "Access-Control-Allow-Methods", "HEAD, GET, POST, PATCH, PUT, DELETE, OPTIONS, TRACE");
    if (!cfg->headers_have_acao && !http_resp_last(req, "Access-Control-Allow-Origin"))
        http_resp_queue(req, "Access-Control-Allow-Origin", "*");
    http_resp_message(req, "", 0);
}

void http_respond_trace(struct http_req *req)
{
    struct buf *body = &req->srv->scratch;

    buf_reset(body);
    json_out_object(body, NULL, req->srv->cfg.padding, 0, put_requester, req);
    http_resp_message(req, body->data, body->len);
}

/* ------------------------------------------------------------ errors */

void http_send_error(struct http_client *cl, int status, const char *text)
{
    struct buf body = BUF_INIT;
    const char *p;

    if (cl == NULL || cl->closing)
        return;
    buf_adds(&body, "{\"error\":\"");
    for (p = text ? text : "error"; *p; p++) {
        if (*p == '"' || *p == '\\')
            buf_addc(&body, '\\');
        if ((unsigned char)*p >= 32)
            buf_addc(&body, *p);
    }
    buf_adds(&body, "\"}");
    buf_addf(&cl->out,
             "HTTP/1.1 %d %s\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: %zu\r\n"
             "Date: %s\r\nConnection: close\r\n\r\n",
             status, http_reason(status), body.len, http_date_now(cl->srv));
    buf_add(&cl->out, body.data, body.len);
    buf_release(&body);
    http_client_abandon(cl);
}

/* ------------------------------------------------------------ web connection methods */

struct http_req *http_req_of(const ah_connection_t *c)
{
    if (c == NULL || c->server != &http_server_type)
        return NULL;
    return c->raw;
}

static void web_send_message(ah_connection_t *c, json_t *message)
{
    struct http_req *req = http_req_of(c);
    char *s;

    if (req == NULL || req->response_done || req->file)
        return;
    s = dispatch_js_string(message);
    http_resp_message(req, s, strlen(s));
    free(s);
}

static void web_send_file(ah_connection_t *c, const char *path)
{
    struct http_req *req = http_req_of(c);

    (void)path;
    if (req == NULL || req->response_done || req->file)
        return;
    http_static_send(req);
}

static void web_set_header(ah_connection_t *c, const char *name, const char *value)
{
    struct http_req *req = http_req_of(c);
    size_t nl, vl, i;

    if (req == NULL || req->response_started || name == NULL || value == NULL)
        return;
    nl = strlen(name);
    vl = strlen(value);
    if (!hdr_valid_name(name, nl) || !hdr_valid_value(value, vl)) {
        log_warn("[server: web] invalid header '%.64s' not set", name);
        return;
    }
    name = harena_dup(&req->arena, name, nl);
    value = harena_dup(&req->arena, value, vl);
    for (i = 0; i < req->res_headers.n; i++) {
        struct hdr *h = &req->res_headers.v[i];

        if (h->nlen == nl && strncasecmp(h->name, name, nl) == 0) {
            h->name = name;
            h->value = value;
            h->vlen = (uint32_t)vl;
            return;
        }
    }
    hdrq_push(&req->res_headers, name, nl, value, vl);
}

static void web_set_status_code(ah_connection_t *c, int code)
{
    struct http_req *req = http_req_of(c);

    if (req)
        req->status = code;
}

static void web_release(ah_connection_t *c)
{
    struct http_req *req = http_req_of(c);

    if (req == NULL)
        return;
    c->raw = NULL;
    req->conn = NULL;
    http_req_unref(req);
}

static const char *const no_verbs[] = {NULL};

const ah_server_type_t http_server_type = {
    .name = "web",
    .can_chat = false,
    .log_connections = false,
    .log_exits = false,
    .send_welcome_message = false,
    .verbs = no_verbs,
    .send_message = web_send_message,
    .send_file = web_send_file,
    .set_header = web_set_header,
    .set_status_code = web_set_status_code,
    .release = web_release,
};

/* ------------------------------------------------------------ http.h */

bool http_is_web(const ah_connection_t *c)
{
    return http_req_of(c) != NULL;
}

const char *http_method(const ah_connection_t *c)
{
    struct http_req *req = http_req_of(c);

    return req ? req->method_str : NULL;
}

const char *http_url(const ah_connection_t *c)
{
    struct http_req *req = http_req_of(c);

    return req ? (req->url.data ? req->url.data : "") : NULL;
}

const char *http_header(ah_connection_t *c, const char *lname)
{
    struct http_req *req = http_req_of(c);

    return req ? http_req_header(req, lname, NULL) : NULL;
}

json_t *http_cookies(const ah_connection_t *c)
{
    struct http_req *req = http_req_of(c);
    size_t n = 0;
    const char *s;

    if (req == NULL)
        return NULL;
    if (req->cookies == NULL) {
        s = http_req_header(req, "cookie", &n);
        req->cookies = s ? http_parse_cookies(s, n) : json_object();
    }
    return req->cookies;
}

json_t *http_raw_params(const ah_connection_t *c)
{
    struct http_req *req = http_req_of(c);

    if (req == NULL)
        return NULL;
    if (req->raw_params == NULL) {
        req->raw_params = json_object();
        /* api and trace mode (web.md §6.1) */
        if (req->mode == MODE_API || req->mode == MODE_TRACE)
            json_object_set_new(req->raw_params, "query",
                                query_parse_simple(req->query ? req->query : "", req->query ? req->query_len : 0));
        if (req->body_fields)
            json_object_set(req->raw_params, "body", req->body_fields);
        if (req->body_files)
            json_object_set(req->raw_params, "files", req->body_files);
    }
    return req->raw_params;
}

const char *http_raw_body(const ah_connection_t *c, size_t *len)
{
    struct http_req *req = http_req_of(c);

    if (req == NULL || !req->srv->cfg.save_raw_body || !req->want_body) {
        if (len)
            *len = 0;
        return req ? "" : NULL;
    }
    if (len)
        *len = req->body.len;
    return req->body.data ? req->body.data : "";
}

void http_queue_header(ah_connection_t *c, const char *name, const char *value)
{
    struct http_req *req = http_req_of(c);

    if (req && !req->response_started && name && value)
        http_resp_queue(req, name, value);
}

int http_status_code(const ah_connection_t *c)
{
    struct http_req *req = http_req_of(c);

    return req ? req->status : 0;
}

void http_pipe(ah_connection_t *c, const void *body, size_t len, const char *const *headers)
{
    struct http_req *req = http_req_of(c);
    struct buf lines = BUF_INIT;
    size_t i;

    if (req == NULL || req->response_done || req->file)
        return;
    for (; headers && headers[0] && headers[1]; headers += 2)
        web_set_header(c, headers[0], headers[1]);
    /* res.end(body): only the response object's headers, its status (200) */
    for (i = 0; i < req->res_headers.n; i++) {
        const struct hdr *h = &req->res_headers.v[i];
        const char *const *s;
        bool skipped = false;

        for (s = computed; *s && !skipped; s++)
            skipped = name_is(h, *s);
        if (!skipped)
            add_line(&lines, h, false);
    }
    http_write_response(req, 200, lines.data, lines.len, body, len, -1, false);
    buf_release(&lines);
}

size_t http_open_sockets(ah_app_t *app)
{
    return app->http ? app->http->n_clients : 0;
}
