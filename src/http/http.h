/*
 * http.h - the web server (web.md) as seen by the rest of the server and by
 * test actions: the raw state of a web connection (rawConnection) and the
 * web-only connection methods that ah.h does not cover.
 *
 * Everything here runs on the loop thread.  `c` must be a connection of
 * type "web"; for any other connection the functions do nothing and return
 * NULL / false.
 */
#ifndef AH_SRC_HTTP_HTTP_H
#define AH_SRC_HTTP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <ah/ah.h>

/* Is `c` a web (HTTP) connection? */
bool http_is_web(const ah_connection_t *c);

/* rawConnection.method ("GET") and the request target ("/api/x?y=1");
 * borrowed, valid while the connection lives. */
const char *http_method(const ah_connection_t *c);
const char *http_url(const ah_connection_t *c);

/* A request header (name in lower case), Node style (repeated headers
 * joined with ", "); borrowed until the next call for this connection. */
const char *http_header(ah_connection_t *c, const char *lname);

/* rawConnection.cookies: object (borrowed). */
json_t *http_cookies(const ah_connection_t *c);
/* rawConnection.params: {query, body, files} (borrowed object; body and
 * files only for parsed bodies). */
json_t *http_raw_params(const ah_connection_t *c);
/* rawConnection.params.rawBody: the body bytes when web.saveRawBody (else
 * empty); borrowed. */
const char *http_raw_body(const ah_connection_t *c, size_t *len);

/* rawConnection.responseHeaders.push([name, value]) (copies). */
void http_queue_header(ah_connection_t *c, const char *name, const char *value);
/* rawConnection.responseHttpCode */
int http_status_code(const ah_connection_t *c);

/* connection.pipe(body, headers): set each header on the response object
 * (`headers` = name, value, ..., NULL), then end the response with `body`
 * (status 200 of the response object, not responseHttpCode).  The action
 * must ah_set_to_render(ctx, false). */
void http_pipe(ah_connection_t *c, const void *body, size_t len, const char *const *headers);

/* api.staticFile.get for connections of other servers (websocket `file`
 * events and connection.sendFile): resolve c->params.file against the
 * public search locations (web.md §8.2) and read the whole file, both on
 * the threadpool; a file over max_bytes is a read error.  When it is not
 * found (or unreadable) c->error is set as for the web.  `cb` runs once,
 * later, on the loop thread, with `r` and its strings borrowed for the
 * call; the connection is held until then.  Returns 0, or <0 (no web
 * server, cannot queue) and `cb` never runs. */
struct http_file_result {
    bool found;
    const char *error;           /* not found: the fileNotFound text, else NULL */
    const char *mime;            /* by extension (NULL if unknown); "text/html" when not found */
    uint64_t length;             /* file size, or the length of `error` */
    uint64_t mtime_ms;           /* found: last modification, ms since the epoch */
    const char *content;         /* found: the bytes (not NUL-terminated text) */
    size_t content_len;
};
typedef void (*http_file_cb)(ah_connection_t *c, const struct http_file_result *r, void *arg);
int http_static_get(ah_connection_t *c, size_t max_bytes, http_file_cb cb, void *arg);

/* The web server's stop hooks (registered by its initializer). */
struct http_server;
size_t http_open_sockets(ah_app_t *app);

#endif /* AH_SRC_HTTP_HTTP_H */
