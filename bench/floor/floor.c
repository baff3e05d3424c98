/*
 * floor.c - the physical floor for HTTP on this machine: a minimal libuv
 * server that answers every request with a fixed 200 response.  It parses
 * nothing beyond finding the end of each request head ("\r\n\r\n"; GET
 * only), and answers all requests of one read with one write, so that the
 * benchmark can put actionhero-c's CPU per request next to the least any
 * server can spend on the same loop, kernel and load generator.
 *
 *   build/bench/floor PORT
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

static const char resp[] =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: application/json; charset=utf-8\r\n"
    "Content-Length: 80\r\n"
    "Connection: keep-alive\r\n"
    "\r\n"
    "{\"randomNumber\":0.1727163797747333,\"stringRandomNumber\":\"Your number 0.1727163\"}";

struct client {
    uv_tcp_t tcp;
    char in[65536];
    int state;              /* matched bytes of "\r\n\r\n" */
};

struct wreq {
    uv_write_t req;
    char *data;
};

static void on_close(uv_handle_t *h)
{
    free(h->data);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    struct client *c = h->data;

    (void)hint;
    b->base = c->in;
    b->len = sizeof(c->in);
}

static void on_written(uv_write_t *w, int status)
{
    struct wreq *r = (struct wreq *)w;

    (void)status;
    free(r->data);
    free(r);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    struct client *c = s->data;
    static const char end[] = "\r\n\r\n";
    size_t count = 0, i;
    struct wreq *r;
    uv_buf_t out;

    if (n < 0) {
        uv_close((uv_handle_t *)s, on_close);
        return;
    }
    for (i = 0; i < (size_t)n; i++) {
        if (b->base[i] == end[c->state]) {
            if (++c->state == 4) {
                count++;
                c->state = 0;
            }
        } else {
            c->state = b->base[i] == '\r' ? 1 : 0;
        }
    }
    if (count == 0)
        return;
    r = malloc(sizeof(*r));
    r->data = malloc(count * (sizeof(resp) - 1));
    for (i = 0; i < count; i++)
        memcpy(r->data + i * (sizeof(resp) - 1), resp, sizeof(resp) - 1);
    out = uv_buf_init(r->data, (unsigned)(count * (sizeof(resp) - 1)));
    uv_write(&r->req, s, &out, 1, on_written);
}

static void on_conn(uv_stream_t *server, int status)
{
    struct client *c;

    if (status < 0)
        return;
    c = calloc(1, sizeof(*c));
    uv_tcp_init(server->loop, &c->tcp);
    c->tcp.data = c;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) == 0) {
        uv_tcp_nodelay(&c->tcp, 1);
        uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    } else {
        uv_close((uv_handle_t *)&c->tcp, on_close);
    }
}

int main(int argc, char **argv)
{
    uv_loop_t *loop = uv_default_loop();
    struct sockaddr_in addr;
    uv_tcp_t server;
    int rc;

    signal(SIGPIPE, SIG_IGN);
    uv_ip4_addr("127.0.0.1", argc > 1 ? atoi(argv[1]) : 8090, &addr);
    uv_tcp_init(loop, &server);
    if ((rc = uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0)) < 0 ||
        (rc = uv_listen((uv_stream_t *)&server, 1024, on_conn)) < 0) {
        fprintf(stderr, "floor: cannot listen: %s\n", uv_strerror(rc));
        return 1;
    }
    return uv_run(loop, UV_RUN_DEFAULT);
}
