/*
 * test_ws_harness.h - a loopback rig for the websocket unit tests.
 *
 * A TCP listener on 127.0.0.1 plays the web server: it reads a request head,
 * hands the socket to ws_upgrade() like the HTTP layer does (with the bytes
 * read past the head) or writes the HTTP error it returns.  Raw TCP clients
 * on the same loop send handshakes and hand-made frames and collect what
 * comes back, so every byte on the wire is under the test's control.
 */
#ifndef AH_TESTS_UNIT_TEST_WS_HARNESS_H
#define AH_TESTS_UNIT_TEST_WS_HARNESS_H

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "check.h"
#include "ws/ws_internal.h"

struct harness {
    uv_loop_t loop;
    ah_app_t *app;
    uv_tcp_t listener;
    int port;
};

/* ------------------------------------------------------------ server side */

struct fake_http {
    struct harness *h;
    uv_tcp_t *tcp;
    struct buf in;
    char *resp;
};

static inline void fh_on_close(uv_handle_t *hd)
{
    free(hd);
}

static inline void fh_free(struct fake_http *f)
{
    buf_release(&f->in);
    free(f->resp);
    free(f);
}

static inline void fh_on_written(uv_write_t *w, int status)
{
    struct fake_http *f = w->data;

    (void)status;
    uv_close((uv_handle_t *)f->tcp, fh_on_close);
    fh_free(f);
    free(w);
}

/* Value of header `name` in the head (copied into a static slot). */
static inline const char *fh_header(const char *head, const char *name, char *slot, size_t slotlen)
{
    const char *p = strstr(head, "\r\n");
    size_t n = strlen(name);

    while (p && p[2] != '\r') {
        const char *line = p + 2, *end = strstr(line, "\r\n");

        if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            size_t len;

            while (*v == ' ')
                v++;
            len = (size_t)(end - v);
            if (len >= slotlen)
                len = slotlen - 1;
            memcpy(slot, v, len);
            slot[len] = '\0';
            return slot;
        }
        p = end;
    }
    return NULL;
}

static inline void fh_alloc(uv_handle_t *hd, size_t sz, uv_buf_t *b)
{
    (void)hd;
    b->base = malloc(sz);
    b->len = sz;
}

static inline void fh_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    struct fake_http *f = s->data;
    char *end;

    if (nread < 0) {
        free(b->base);
        uv_close((uv_handle_t *)f->tcp, fh_on_close);
        fh_free(f);
        return;
    }
    buf_add(&f->in, b->base, (size_t)nread);
    free(b->base);
    end = strstr(f->in.data, "\r\n\r\n");
    if (end) {
        static char url[512], method[16], upgrade[128], connection[128], key[128], version[32],
            protocol[256], proto_buf[16];
        struct ws_upgrade_req req;
        size_t head_len = (size_t)(end - f->in.data) + 4;
        const char *body;
        int status = 0, rc, minor = 1;

        uv_read_stop(s);
        memset(&req, 0, sizeof(req));
        sscanf(f->in.data, "%15s %511s HTTP/1.%d", method, url, &minor);
        (void)proto_buf;
        req.method = method;
        req.url = url;
        req.http_major = 1;
        req.http_minor = minor;
        req.upgrade = fh_header(f->in.data, "Upgrade", upgrade, sizeof(upgrade));
        req.connection = fh_header(f->in.data, "Connection", connection, sizeof(connection));
        req.key = fh_header(f->in.data, "Sec-WebSocket-Key", key, sizeof(key));
        req.version = fh_header(f->in.data, "Sec-WebSocket-Version", version, sizeof(version));
        req.protocol = fh_header(f->in.data, "Sec-WebSocket-Protocol", protocol, sizeof(protocol));
        req.remote_ip = "127.0.0.1";
        req.remote_port = "12345";
        rc = ws_upgrade(f->h->app, f->tcp, &req, f->in.data + head_len, f->in.len - head_len,
                        &status, &body);
        if (rc == 0) {
            fh_free(f);  /* ws owns the socket now */
        } else {
            uv_write_t *w = malloc(sizeof(*w));
            uv_buf_t ub;

            f->resp = xasprintf("HTTP/1.1 %d Error\r\n%sContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                                status, ws_upgrade_error_headers(status), strlen(body), body);
            ub = uv_buf_init(f->resp, (unsigned int)strlen(f->resp));
            w->data = f;
            uv_write(w, s, &ub, 1, fh_on_written);
        }
    }
}

static inline void fh_on_connection(uv_stream_t *l, int status)
{
    struct harness *h = l->data;
    struct fake_http *f;

    if (status < 0)
        return;
    f = xcalloc(1, sizeof(*f));
    f->h = h;
    buf_init(&f->in);
    f->tcp = malloc(sizeof(*f->tcp));
    uv_tcp_init(&h->loop, f->tcp);
    f->tcp->data = f;
    if (uv_accept(l, (uv_stream_t *)f->tcp) < 0) {
        uv_close((uv_handle_t *)f->tcp, fh_on_close);
        fh_free(f);
        return;
    }
    uv_read_start((uv_stream_t *)f->tcp, fh_alloc, fh_on_read);
}

static inline int harness_init(struct harness *h, const char *config)
{
    struct sockaddr_in addr;
    struct sockaddr_storage name;
    int namelen = sizeof(name);
    json_error_t err;

    memset(h, 0, sizeof(*h));
    signal(SIGPIPE, SIG_IGN);  /* as the server's main() does */
    core_init();
    uv_loop_init(&h->loop);
    h->app = app_new(&h->loop);
    h->app->config = json_loads(config, 0, &err);
    if (h->app->config == NULL) {
        printf("# bad config: %s\n", err.text);
        return -1;
    }
    if (ws_server_start(h->app) < 0) {
        printf("# ws_server_start: %s\n", h->app->fail_msg);
        return -1;
    }
    uv_tcp_init(&h->loop, &h->listener);
    h->listener.data = h;
    uv_ip4_addr("127.0.0.1", 0, &addr);
    uv_tcp_bind(&h->listener, (const struct sockaddr *)&addr, 0);
    uv_listen((uv_stream_t *)&h->listener, 128, fh_on_connection);
    uv_tcp_getsockname(&h->listener, (struct sockaddr *)&name, &namelen);
    h->port = ntohs(((struct sockaddr_in *)&name)->sin_port);
    return 0;
}

/* Stop the server, close everything and check that no handle is left. */
static inline void harness_done(struct harness *h)
{
    ws_server_stop(h->app);
    uv_close((uv_handle_t *)&h->listener, NULL);
    uv_run(&h->loop, UV_RUN_DEFAULT);
    CHECK_EQ_INT(uv_loop_close(&h->loop), 0);
    app_free(h->app);
}

/* ------------------------------------------------------------- clients */

struct client {
    struct harness *h;
    uv_tcp_t tcp;
    uv_connect_t creq;
    struct buf in;
    bool connected, eof, closed, handle_closed;
    size_t head_len;          /* bytes of the HTTP response head, 0 until complete */
};

struct frame {
    int fin, op;
    const unsigned char *data;
    size_t len;
};

static inline void cl_alloc(uv_handle_t *hd, size_t sz, uv_buf_t *b)
{
    (void)hd;
    b->base = malloc(sz);
    b->len = sz;
}

static inline void cl_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    struct client *c = s->data;

    if (nread > 0) {
        buf_add(&c->in, b->base, (size_t)nread);
        if (c->head_len == 0) {
            char *end = strstr(c->in.data, "\r\n\r\n");

            if (end)
                c->head_len = (size_t)(end - c->in.data) + 4;
        }
    } else if (nread < 0) {
        c->eof = true;
        uv_read_stop(s);
    }
    free(b->base);
}

static inline void cl_on_connect(uv_connect_t *r, int status)
{
    struct client *c = r->data;

    c->connected = status == 0;
    if (status == 0)
        uv_read_start((uv_stream_t *)&c->tcp, cl_alloc, cl_on_read);
    else
        c->eof = true;
}

struct cl_write {
    uv_write_t req;
    char data[];
};

static inline void cl_on_write(uv_write_t *w, int status)
{
    (void)status;
    free(w);
}

static inline void client_send(struct client *c, const void *p, size_t n)
{
    struct cl_write *w = malloc(sizeof(*w) + n);
    uv_buf_t b = uv_buf_init(w->data, (unsigned int)n);

    memcpy(w->data, p, n);
    uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, cl_on_write);
}

static inline void client_sends(struct client *c, const char *s)
{
    client_send(c, s, strlen(s));
}

static inline void on_timeout(uv_timer_t *t)
{
    *(bool *)t->data = true;
}

static inline void timer_closed(uv_handle_t *hd)
{
    (void)hd;
}

/* Run the loop until pred(c, arg) holds or ms elapse; returns pred's value. */
static inline bool run_until(struct harness *h, bool (*pred)(struct client *, void *), struct client *c,
                      void *arg, unsigned ms)
{
    uv_timer_t t;
    bool timed_out = false, ok;

    uv_timer_init(&h->loop, &t);
    t.data = &timed_out;
    uv_timer_start(&t, on_timeout, ms, 0);
    while (!(ok = pred(c, arg)) && !timed_out)
        uv_run(&h->loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&t, timer_closed);
    uv_run(&h->loop, UV_RUN_NOWAIT);
    return ok;
}

static inline bool is_connected(struct client *c, void *arg)
{
    (void)arg;
    return c->connected || c->eof;
}

static inline bool has_head(struct client *c, void *arg)
{
    (void)arg;
    return c->head_len > 0 || c->eof;
}

static inline bool is_eof(struct client *c, void *arg)
{
    (void)arg;
    return c->eof;
}

static inline bool always(struct client *c, void *arg)
{
    (void)c;
    (void)arg;
    return false;
}

/* Let the loop run for ms (pending writes, timers). */
static inline void settle(struct harness *h, struct client *c, unsigned ms)
{
    run_until(h, always, c, NULL, ms);
}

static inline void client_open(struct harness *h, struct client *c)
{
    struct sockaddr_in addr;

    memset(c, 0, sizeof(*c));
    c->h = h;
    buf_init(&c->in);
    uv_tcp_init(&h->loop, &c->tcp);
    c->tcp.data = c;
    c->creq.data = c;
    uv_ip4_addr("127.0.0.1", h->port, &addr);
    uv_tcp_connect(&c->creq, &c->tcp, (const struct sockaddr *)&addr, cl_on_connect);
    run_until(h, is_connected, c, NULL, 2000);
}

static inline void cl_on_close(uv_handle_t *hd)
{
    struct client *c = hd->data;

    c->handle_closed = true;
}

static inline void client_close(struct client *c)
{
    if (!c->closed) {
        c->closed = true;
        uv_close((uv_handle_t *)&c->tcp, cl_on_close);
    }
    while (!c->handle_closed)
        uv_run(&c->h->loop, UV_RUN_ONCE);
    buf_release(&c->in);
}

#define TEST_KEY "dGhlIHNhbXBsZSBub25jZQ=="

static inline const char *handshake_for(const char *path)
{
    static char req[512];

    snprintf(req, sizeof(req),
             "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: " TEST_KEY "\r\nSec-WebSocket-Version: 13\r\n\r\n", path);
    return req;
}

/* Append a client frame (masked unless mask == false); len64 >= 0 forces a
 * 64-bit length field with that value (the payload is then `n` bytes). */
static inline void frame_ex(struct buf *b, int fin, int rsv, int op, const void *p, size_t n, bool mask,
                     long long len64)
{
    static const unsigned char key[4] = {0x37, 0xfa, 0x21, 0x3d};
    const unsigned char *s = p;
    size_t i;

    buf_addc(b, (char)((fin ? 0x80 : 0) | (rsv << 4) | op));
    if (len64 >= 0 || n >= 65536) {
        unsigned long long v = len64 >= 0 ? (unsigned long long)len64 : n;

        buf_addc(b, (char)((mask ? 0x80 : 0) | 127));
        for (i = 0; i < 8; i++)
            buf_addc(b, (char)(v >> (56 - 8 * i)));
    } else if (n >= 126) {
        buf_addc(b, (char)((mask ? 0x80 : 0) | 126));
        buf_addc(b, (char)(n >> 8));
        buf_addc(b, (char)n);
    } else {
        buf_addc(b, (char)((mask ? 0x80 : 0) | n));
    }
    if (mask)
        buf_add(b, key, 4);
    for (i = 0; i < n; i++)
        buf_addc(b, (char)(mask ? s[i] ^ key[i & 3] : s[i]));
}

static inline void frame(struct buf *b, int fin, int op, const void *p, size_t n)
{
    frame_ex(b, fin, 0, op, p, n, true, -1);
}

static inline void close_frame(struct buf *b, int code, const char *reason)
{
    char payload[128];
    size_t n = 0;

    if (code >= 0) {
        payload[0] = (char)(code >> 8);
        payload[1] = (char)code;
        n = 2;
        if (reason) {
            memcpy(payload + 2, reason, strlen(reason));
            n += strlen(reason);
        }
    }
    frame(b, 1, 8, payload, n);
}

/* Parse the server frames received after the response head. */
static inline size_t client_frames(struct client *c, struct frame *out, size_t max)
{
    const unsigned char *p, *end;
    size_t n = 0;

    if (c->head_len == 0)
        return 0;
    p = (const unsigned char *)c->in.data + c->head_len;
    end = (const unsigned char *)c->in.data + c->in.len;
    while (end - p >= 2 && n < max) {
        unsigned long long len = p[1] & 0x7f;
        const unsigned char *q = p + 2;
        int i;

        if (len == 126) {
            if (end - q < 2)
                break;
            len = (unsigned long long)q[0] << 8 | q[1];
            q += 2;
        } else if (len == 127) {
            if (end - q < 8)
                break;
            for (len = 0, i = 0; i < 8; i++)
                len = len << 8 | q[i];
            q += 8;
        }
        if ((unsigned long long)(end - q) < len)
            break;
        out[n].fin = p[0] >> 7;
        out[n].op = p[0] & 0x0f;
        out[n].data = q;
        out[n].len = (size_t)len;
        n++;
        p = q + len;
    }
    return n;
}

/* Close code of the first close frame: -1 none, 1005 empty payload. */
static inline int client_close_code(struct client *c)
{
    struct frame f[64];
    size_t n = client_frames(c, f, 64), i;

    for (i = 0; i < n; i++) {
        if (f[i].op == 8)
            return f[i].len >= 2 ? (f[i].data[0] << 8 | f[i].data[1]) : 1005;
    }
    return -1;
}

static inline bool has_frames(struct client *c, void *arg)
{
    struct frame f[64];

    return client_frames(c, f, 64) >= *(size_t *)arg || c->eof;
}

static inline bool has_close(struct client *c, void *arg)
{
    (void)arg;
    return client_close_code(c) != -1 || c->eof;
}

#endif /* AH_TESTS_UNIT_TEST_WS_HARNESS_H */
