/*
 * ws.h - the websocket server (websocket.md): RFC 6455 through wslay, the
 * Primus layer, and Actionhero's websocket messages.
 *
 * The web server owns the listener.  When a request under the Primus
 * pathname asks for an upgrade, it hands the TCP handle over with
 * ws_upgrade(); plain (non-upgrade) requests under that path are answered
 * by ws_http_answer().
 */
#ifndef AH_SRC_WS_WS_H
#define AH_SRC_WS_WS_H

#include <stdbool.h>
#include <stddef.h>

#include <uv.h>

#include <ah/ah.h>

/* What the HTTP layer learned from the upgrade request.  All strings are
 * borrowed for the duration of the call; NULL when the header was absent. */
struct ws_upgrade_req {
    const char *url;          /* request target, e.g. "/primus?sessionID=x" */
    const char *method;       /* "GET" */
    int http_major, http_minor;
    const char *upgrade;      /* Upgrade header */
    const char *connection;   /* Connection header */
    const char *key;          /* Sec-WebSocket-Key */
    const char *version;      /* Sec-WebSocket-Version */
    const char *protocol;     /* Sec-WebSocket-Protocol */
    const char *extensions;   /* Sec-WebSocket-Extensions */
    const char *origin;
    /* remoteIP / remotePort as computed from the socket and the
     * X-Forwarded-For / X-Real-IP / X-Forwarded-Port headers (connection.md §2.3) */
    const char *remote_ip;
    const char *remote_port;
    bool remote_port_is_string;
};

/* Is `path` (the request path, no query) owned by the websocket server
 * (prefix match on websocket.pathname, "/primus" by default)? */
bool ws_owns_path(ah_app_t *app, const char *path, size_t len);

/* Take over `tcp` for a websocket.  The caller has stopped reading and has no
 * write in flight on it; `rest` holds bytes already read past the request
 * head (may be empty).  On 0 the websocket server owns `tcp` (it was
 * allocated with malloc; ws frees it in its close callback).  On <0 nothing
 * was written or taken: the caller answers the HTTP error in *status / body
 * and keeps ownership. */
int ws_upgrade(ah_app_t *app, uv_tcp_t *tcp, const struct ws_upgrade_req *req,
               const char *rest, size_t restlen, int *status, const char **body);

/* Extra headers ("name: value\r\n" lines, static, may be "") for an error
 * status returned by ws_upgrade(): a 426 carries `Sec-WebSocket-Version: 13`
 * (RFC 6455 §4.4) and Primus's no-cache headers.  The body is text/plain. */
const char *ws_upgrade_error_headers(int status);

/* Answer a plain request under the Primus path (web.md §11): fills the
 * status, content type, extra headers ("name: value\r\n" lines, may be "")
 * and body (borrowed static or app-owned memory). */
void ws_http_answer(ah_app_t *app, const char *path, size_t len, int *status,
                    const char **content_type, const char **extra_headers,
                    const char **body, size_t *body_len);

#endif /* AH_SRC_WS_WS_H */
