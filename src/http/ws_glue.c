/*
 * ws_glue.c - the web server's side of the websocket hand-over (web.md
 * §11): which paths belong to the websocket server, handing an upgraded
 * socket over, and plain requests under its path.  The only file of
 * src/http that calls src/ws.
 */
#include "http/http_internal.h"

#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "ws/ws.h"

bool http_ws_owns(struct http_server *srv, const char *path, size_t len)
{
    return ws_owns_path(srv->app, path, len);
}

int http_ws_upgrade(struct http_req *req, const char *rest, size_t restlen, int *status, const char **body)
{
    struct http_client *cl = req->client;
    struct ws_upgrade_req u;
    struct remote_addr ra;

    memset(&u, 0, sizeof(u));
    u.url = req->url.data ? req->url.data : "/";
    u.method = req->method_str;
    u.http_major = req->http_major;
    u.http_minor = req->http_minor;
    u.upgrade = http_req_header(req, "upgrade", NULL);
    u.connection = http_req_header(req, "connection", NULL);
    u.key = http_req_header(req, "sec-websocket-key", NULL);
    u.version = http_req_header(req, "sec-websocket-version", NULL);
    u.protocol = http_req_header(req, "sec-websocket-protocol", NULL);
    u.extensions = http_req_header(req, "sec-websocket-extensions", NULL);
    u.origin = http_req_header(req, "origin", NULL);
    if (http_remote_addr(http_req_header(req, "x-forwarded-for", NULL), http_req_header(req, "x-forwarded-port", NULL),
                         http_req_header(req, "x-real-ip", NULL), &ra) < 0) {
        *status = 400;
        *body = "failed to parse address";
        return AH_EINVAL;
    }
    if (!ra.have_ip)
        snprintf(ra.ip, sizeof(ra.ip), "%s", cl->peer_ip[0] ? cl->peer_ip : "0.0.0.0");
    if (!ra.have_port) {
        snprintf(ra.port, sizeof(ra.port), "%s", cl->has_peer_port ? cl->peer_port : "0");
        ra.port_is_string = !cl->has_peer_port;
    }
    u.remote_ip = ra.ip;
    u.remote_port = ra.port;
    u.remote_port_is_string = ra.port_is_string;
    /* For a Unix socket listener the handle is a uv_pipe_t: the websocket
     * server uses it as a uv_stream_t only. */
    return ws_upgrade(req->srv->app, (uv_tcp_t *)cl->stream, &u, rest, restlen, status, body);
}

void http_ws_answer(struct http_req *req)
{
    int status = 426;
    const char *ct = "text/plain", *extra = "", *body = "Upgrade Required";
    size_t blen = 16;
    struct buf *h = &req->srv->hdr_scratch;

    ws_http_answer(req->srv->app, req->path.data, req->path.len, &status, &ct, &extra, &body, &blen);
    buf_reset(h);
    if (ct)
        buf_addf(h, "content-type: %s\r\n", ct);
    if (extra)
        buf_adds(h, extra);
    http_write_response(req, status, h->data, h->len, body, blen, -1, false);
}

void http_ws_refuse(struct http_client *cl, int status, const char *body)
{
    if (cl == NULL || cl->closing)
        return;
    buf_addf(&cl->out,
             "HTTP/1.1 %d %s\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: %zu\r\n%s"
             "Date: %s\r\nConnection: close\r\n\r\n%s",
             status, http_reason(status), strlen(body), ws_upgrade_error_headers(status), http_date_now(cl->srv),
             body);
    http_client_abandon(cl);
}
