/*
 * http_internal.h - what the files of src/http share: the server, its
 * clients (one per TCP socket), requests (one per HTTP message, the
 * rawConnection of a web connection) and the response header queue.
 *
 * Who owns what:
 *  - struct http_server: one per app (app->http), created by the web
 *    initializer, holds the cached configuration and the list of clients.
 *  - struct http_client: one per accepted socket.  Its stream (uv_tcp_t or
 *    uv_pipe_t) is malloc'd on its own so that a websocket upgrade can take
 *    it over.  Freed once its handles are closed and nothing refers to it.
 *  - struct http_req: one per HTTP request, reference counted: the client
 *    holds one while the request is its current one, the web connection one
 *    (released by the server type's release hook), and every file operation
 *    in flight one.  A request whose client has gone has client == NULL.
 *    Finished requests are recycled by their client to avoid malloc churn.
 */
#ifndef AH_SRC_HTTP_HTTP_INTERNAL_H
#define AH_SRC_HTTP_HTTP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <llhttp.h>
#include <uv.h>
#include <zlib.h>

#include <ah/ah.h>

#include "core/core.h"
#include "http/multipart.h"
#include "http/query.h"

struct http_client;
struct http_req;
struct http_file;
struct fcache;

/* A cached small static file (fcache.c). */
struct fcache_entry {
    char *path;                     /* the file as found */
    uint64_t dev, ino, size, mtime_ms;
    char *content;                  /* size bytes */
    const char *mime;               /* of path (static text), or NULL */
    char etag[64];                  /* http_etag(size, mtime_ms) */
};
struct route;

/* A piece of a string (path parts). */
struct seg {
    const char *p;
    size_t n;
};

/* routes.c, beyond routes.h: match without building JSON; the route's
 * apiVersion value (borrowed, or NULL); free the table. */
const struct route *routes_match_parts(ah_app_t *app, const char *method, const struct seg *parts, size_t n,
                                       json_t **vars);
json_t *routes_api_version(const struct route *r);
void routes_free(ah_app_t *app);

/* ------------------------------------------------------------ small arena */

/* Strings that live as long as one request (owned header names/values,
 * cookie text): carved from blocks that are kept across requests. */
struct harena_block {
    struct harena_block *next;
    size_t used, cap;
    char data[];
};
struct harena {
    struct harena_block *head;
};
char *harena_dup(struct harena *a, const char *s, size_t n);
void harena_reset(struct harena *a);   /* keep the first block */
void harena_release(struct harena *a);

/* ------------------------------------------------------------ headers */

/* One response header: name and value are borrowed (config strings, static
 * text) or carved from the request arena. */
struct hdr {
    const char *name, *value;
    uint32_t nlen, vlen;
};

#define HDRQ_INLINE 20
struct hdr_queue {
    struct hdr *v;
    size_t n, cap;
    struct hdr inline_v[HDRQ_INLINE];
};
void hdrq_init(struct hdr_queue *q);
void hdrq_release(struct hdr_queue *q);
void hdrq_push(struct hdr_queue *q, const char *name, size_t nlen, const char *value, size_t vlen);
/* The value of the last queued `name` (case-insensitive) or NULL. */
const struct hdr *hdrq_last(const struct hdr_queue *q, const char *name);

/* Header finalisation (web.md §9.1): reversed, de-duplicated keeping the
 * first (= last queued) of each name case-insensitively, every Set-Cookie
 * kept, Transfer-Encoding dropped for HEAD.  Writes "name: value\r\n" lines
 * with lower-cased names into out; `skip` names (lower-case, NULL-ended) are
 * left out (the server computes them).  Returns the number of lines. */
size_t hdr_finalize(const struct hdr *v, size_t n, bool head, const char *const *skip, struct buf *out);

/* A finalised block of header lines built once (the defaults: Content-Type
 * and httpHeaders), indexed so that a response can merge its own queued
 * headers in without finalising the whole list again. */
enum { HL_COOKIE = 1, HL_ETAG = 2, HL_CE = 4 };
struct hdr_line {
    uint32_t off, len;               /* "name: value\r\n" in text */
    uint32_t nlen;                   /* the name (lower-cased) at text + off */
    unsigned flags;                  /* HL_* */
};
struct hdr_block {
    struct buf text;
    struct hdr_line *lines;
    size_t n;
};
/* hdr_finalize(v, n, false, skip) into b, with its line index. */
void hdr_block_build(struct hdr_block *b, const struct hdr *v, size_t n, const char *const *skip);
void hdr_block_release(struct hdr_block *b);

/* Is `s` a valid header name (RFC 7230 token) / value (no CR, LF, NUL)? */
bool hdr_valid_name(const char *s, size_t n);
bool hdr_valid_value(const char *s, size_t n);

/* Reason phrase for a status code ("Not Found"; "unknown" like Node). */
const char *http_reason(int status);

/* ------------------------------------------------------------ config */

struct http_kv {
    char *name, *value;
    size_t nlen, vlen;
};

struct http_cfg {
    /* limits and timeouts */
    size_t max_header_bytes, max_url_length, max_body_bytes;
    size_t max_pipeline_bytes, max_outbound_bytes, max_connections;
    uint64_t headers_timeout, request_timeout, keepalive_timeout;

    /* web.md §1 */
    bool secure, enable_etag, save_raw_body, return_error_codes, compress;
    bool meta_server, meta_requester, disable_param_scrubbing;
    int padding;                     /* 0: compact */
    int default_error_status;
    long long flat_file_cache_duration;
    char **allowed_hosts;
    size_t n_allowed_hosts;
    char **actions_prefix, **files_prefix;   /* split like the URL path */
    size_t n_actions_prefix, n_files_prefix;
    bool root_api;                   /* rootEndpointType == "api" */
    struct http_kv *headers;         /* httpHeaders with truthy values, in order */
    size_t n_headers;
    bool headers_have_acam, headers_have_acao; /* for OPTIONS (§7.1) */

    /* fingerprint (connection.md §2.1) */
    char *cookie_key;
    char *cookie_key_lower;          /* header lookup of the exact key */
    char *cookie_header;             /* "x-<cookieKey lower-cased>" */
    bool to_set_cookie;
    json_t *cookie_settings;         /* borrowed from the config tree, or NULL */

    /* general */
    char *server_name, *api_version, *directory_file_type;
    char **public_paths;             /* absolute, normalised */
    size_t n_public_paths;
    int file_log_level;

    /* body parsing */
    struct multipart_opts form;
    char *upload_dir;                /* owned; form.upload_dir points here */
    struct qs_opts qs;

    /* the listen address as configured, for logs */
    char *bind_ip;                   /* NULL: Unix socket */
    char *port_text;
    bool unix_socket;
};

/* ------------------------------------------------------------ server */

struct http_server {
    ah_app_t *app;
    struct http_cfg cfg;
    uv_stream_t *listener;          /* uv_tcp_t or uv_pipe_t, malloc'd */
    bool listening, dual_stack, stopping;

    struct http_client *clients;    /* doubly linked list of open clients */
    size_t n_clients;

    llhttp_settings_t settings;
    char rbuf[65536];               /* shared read buffer (one loop thread) */
    bool rbuf_busy;

    /* Clients whose request finished asynchronously wait here for the
     * next loop turn to resume parsing (never re-enter the parser from an
     * action's completion). */
    uv_idle_t resume_idle;
    struct http_client *resume_head;

    /* Date header, cached per second */
    uint64_t date_sec;
    char date[40];

    /* the finalised default headers (httpHeaders + content-type json) */
    struct hdr_block base_block;
    bool base_conn_close;           /* the last default Connection is "close" */
    /* "max-age=<flatFileCacheDuration>, must-revalidate, public" */
    char cache_control[64];
    size_t cache_control_len;
    /* the unfinalised base queue (content-type + httpHeaders) */
    struct hdr *base, *base_opts;
    size_t n_base;

    /* boot and teardown */
    int boot_attempts;
    bool listener_closing, idle_closing, idle_closed, freeing;
    size_t n_reqs;              /* requests allocated (live, spare or pooled) */
    struct http_req *req_pool;  /* finished requests kept for reuse */
    size_t n_req_pool;          /* at most HTTP_REQ_POOL */
    size_t n_client_structs;    /* clients allocated (open or closing) */

    /* small static files (fcache.c) */
    struct fcache *fcache;
    struct http_file *spare_file;   /* a recycled file transfer (static.c) */

    /* random bytes for fingerprints and message ids, drawn from
     * libsodium 4 KiB at a time (one getrandom per ~100 requests) */

    /* the fingerprint cookie after "<key>=<fp>", cached per second */
    uint64_t cookie_sec;
    struct buf cookie_suffix;

    /* scratch space for response bodies and header lines (reused) */
    struct buf scratch;
    struct buf hdr_scratch;
    struct buf keepalive_line;      /* "Keep-Alive: timeout=5" */
    struct buf zbuf;                /* compressed string bodies */
    bool base_has_te;
};

/* server.c: lifecycle */
void http_settings_init(llhttp_settings_t *s);
int http_server_listen(struct http_server *srv);
void http_server_stop_accepting(struct http_server *srv);
void http_server_close_all(struct http_server *srv);
void http_server_shutdown(struct http_server *srv);
void http_server_maybe_free(struct http_server *srv);
/* http.c */
void http_cfg_release(struct http_cfg *cfg);

/* ------------------------------------------------------------ client */

enum client_phase {
    PH_IDLE,        /* between requests (keep-alive) */
    PH_HEAD,        /* receiving request line and headers */
    PH_BODY,        /* receiving the body */
    PH_BUSY,        /* request complete, response not finished */
};

struct http_client {
    struct http_server *srv;
    struct http_client *next, *prev;
    uv_stream_t *stream;            /* malloc'd; NULL after a hand-over */
    uv_timer_t timer;
    llhttp_t parser;

    struct http_req *req;           /* the request being received/processed */
    struct http_req *spare;         /* a recycled request */

    struct buf in;                  /* received, not yet parsed */
    struct buf out;                 /* responses not yet handed to uv_write */
    struct buf wbuf;                /* bytes of the write in flight */
    uv_write_t wreq;
    uv_shutdown_t sreq;

    enum client_phase phase;
    uint64_t phase_start;           /* uv_now of the start of the phase */
    uint64_t deadline;              /* uv_now ms; 0 = none */
    uint64_t timer_due;             /* when the armed timer fires; 0 = off */

    bool reading;                   /* uv_read_start is active */
    bool writing;                   /* a uv_write is in flight */
    bool eof;                       /* the peer half-closed */
    bool no_more_requests;          /* stop parsing (close, upgrade, error) */
    bool close_after_write;
    bool closing;                   /* handles are being closed */
    bool draining;                  /* shut down, discarding input */
    bool in_execute;                /* inside the parse loop */
    bool resume_queued;
    bool upgrade_wait;              /* a websocket hand-over waits for writes */
    struct http_client *resume_next;
    int pending_closes;
    int refs;                       /* file reads in flight etc. */

    /* the peer, from the socket */
    char peer_ip[64];
    char peer_port[8];
    bool has_peer_port;

    /* while parsing */
    bool hdr_in_value;
    size_t head_bytes;
    size_t body_bytes;
    size_t chunk_ext_bytes;     /* chunk extensions of this request */
    int reject_status;              /* limit hit inside a callback */
    const char *reject_text;
};

/* ------------------------------------------------------------ request */

enum req_mode { MODE_API, MODE_FILE, MODE_OPTIONS, MODE_TRACE, MODE_WS, MODE_NONE };

enum body_kind { BODY_DISCARD, BODY_BUFFER, BODY_MULTIPART };

struct rhdr {                        /* a received header: offsets into hbuf */
    uint32_t noff, nlen, voff, vlen;
};

struct http_req {
    struct http_server *srv;
    struct http_client *client;     /* NULL once the socket has gone */
    struct http_req *pool_next;     /* in srv->req_pool */
    int refs;
    ah_connection_t *conn;

    /* received */
    uint8_t method;                 /* llhttp_method_t */
    char method_str[24];
    int http_major, http_minor;
    struct buf url;
    struct buf hbuf;                /* header names (lower-cased) and values */
    struct rhdr *hdrs;
    size_t n_hdrs, cap_hdrs;
    struct buf body;
    bool keep_alive;
    bool upgrade;
    bool has_content_length;

    uint64_t parser_content_length;

    /* derived from the URL */
    struct buf path;                /* url.parse(url).pathname */
    const char *query;              /* after '?' (not NUL-terminated), or NULL */
    size_t query_len;
    struct seg *parts;              /* pathname split on '/' */
    size_t n_parts, cap_parts;
    size_t prefix_n;                /* parts taken by the api/file prefix */
    enum req_mode mode;

    /* body */
    bool want_body;                 /* api/trace, not GET/HEAD, Content-Type */
    int body_type;
    enum body_kind body_kind;
    struct multipart *mp;
    bool mp_failed;
    char mp_error[256];

    /* the web connection's raw state (web.md §10) */
    json_t *cookies;                /* object, built when asked for */
    json_t *raw_params;             /* {query, body, files}, built when asked for */
    json_t *body_fields, *body_files; /* of a parsed body, or NULL */
    char fingerprint[64];
    char message_id[40];
    bool new_fingerprint;
    char set_cookie[256];           /* the fingerprint Set-Cookie value */
    size_t set_cookie_len;

    /* response */
    int status;                     /* responseHttpCode */
    struct hdr_queue rh;            /* rawConnection.responseHeaders */
    struct hdr_queue res_headers;   /* connection.setHeader (on res) */
    bool custom_headers;            /* anything queued beyond the defaults */
    struct harena arena;
    bool response_started;          /* headers written (file streaming) */
    bool response_done;             /* the whole response is appended */
    bool finished_reported;
    bool dispatched;                /* an action runs on this request */
    bool action_done;
    uint64_t start_ms;

    struct http_file *file;         /* a static file being sent */
};

/* ------------------------------------------------------------ server.c */

/* Append response bytes for `req` (ignored once the client has gone). */
void http_client_append(struct http_client *cl, const void *p, size_t n);
/* Hand what was appended to the socket (one uv_write at a time). */
void http_client_flush(struct http_client *cl);
/* A transport error was answered: no more requests, close after the
 * write, drop the request in progress. */
void http_client_abandon(struct http_client *cl);
/* Close at once (a response cannot be completed). */
void http_client_abort(struct http_client *cl);
/* Outbound bytes not yet written (appended + in flight). */
size_t http_client_outbound(const struct http_client *cl);
/* The response of `req` is complete (all of it appended, or the client
 * gone): the client moves on to the next request. */
void http_request_finished(struct http_req *req);
/* The cached Date header value for now. */
const char *http_date_now(struct http_server *srv);

void http_req_ref(struct http_req *req);
void http_req_unref(struct http_req *req);

/* ------------------------------------------------------------ request.c */

/* Headers are complete: decide the mode and how to take the body.  Returns
 * 0, or an HTTP status to refuse the request with (413, 417, 400). */
int http_request_head(struct http_req *req);
/* Body bytes (any chunking). */
void http_request_body(struct http_req *req, const char *p, size_t n);
/* The message is complete: run the request pipeline (web.md §3).  The
 * response may be finished before this returns. */
void http_request_run(struct http_req *req);
/* A header of the request, Node style: the first value for headers Node
 * keeps once, the values joined with ", " ("; " for cookie) otherwise.
 * Returns a pointer valid until the next call on this request, or NULL. */
const char *http_req_header(struct http_req *req, const char *lname, size_t *len);
/* Release per-request state and get ready for the next request. */
void http_req_clear(struct http_req *req);

extern const ah_server_type_t http_server_type;
/* The request behind a web connection, or NULL. */
struct http_req *http_req_of(const ah_connection_t *c);

/* ------------------------------------------------------------ response.c */

/* Start the response header queue (web.md §3 step 4). */
void http_resp_init(struct http_req *req);
/* Queue a header (rawConnection.responseHeaders.push); copies. */
void http_resp_queue(struct http_req *req, const char *name, const char *value);
/* content_length for a body of unknown length (compressed files): no
 * Content-Length, Transfer-Encoding: chunked for HTTP/1.1 clients, the
 * connection closes after the body for HTTP/1.0 ones. */
#define HTTP_CL_CHUNKED (-2)
/* Write one response: status line, `hdrs` ("name: value\r\n" lines),
 * content-length (content_length == -1: blen; none for 1xx/204/304), Date,
 * Connection/Keep-Alive, then the body unless HEAD/204/304.  The response
 * is finished unless `more` (a file body follows). */
void http_write_response(struct http_req *req, int status, const char *hdrs, size_t hlen, const char *body,
                         size_t blen, long long content_length, bool more);
/* The queued headers (web.md §9.1) merged with the response object's
 * (connection.setHeader), as lines; `skip_etag` leaves a queued ETag out. */
enum { HDR_SKIP_ETAG = 1, HDR_SKIP_CE = 2 };
void http_build_headers(struct http_req *req, struct buf *out, unsigned skip);
/* extractHeader: the last queued `name` (case-insensitive), the defaults
 * included, or NULL. */
const struct hdr *http_resp_last(struct http_req *req, const char *name);
/* A string body with the queued headers and `status`, compressed when the
 * client accepts it (sendWithCompression; HEAD keeps the length). */
void http_send_string(struct http_req *req, int status, const char *body, size_t len);
/* Finish a response whose body was streamed (files). */
void http_resp_end(struct http_req *req);
/* sendMessage(String(message)) with the queued headers and status. */
void http_resp_message(struct http_req *req, const char *body, size_t len);
/* A server-generated error (limits, protocol errors): JSON body, close. */
void http_send_error(struct http_client *cl, int status, const char *text);
/* Render a finished action (web.md §6.4-§6.5). */
void http_render_action(struct http_req *req, ah_ctx_t *ctx);
void http_respond_options(struct http_req *req);
void http_respond_trace(struct http_req *req);

/* ------------------------------------------------------------ static.c */

/* Serve params.file of the connection (web.md §8.2-§8.3). */
void http_static_send(struct http_req *req);
/* The client can take more bytes: continue a file being streamed. */
void http_static_resume(struct http_req *req);
/* The request is being freed: abandon a file transfer. */
void http_static_abort(struct http_req *req);
/* The server is being freed: release what static.c keeps. */
void http_static_release(struct http_server *srv);

/* fcache.c: a hit (borrowed until the next fcache call) if the file is
 * still the same one; fill from a full resolution (copies). */
const struct fcache_entry *fcache_get(struct http_server *srv, const char *key, size_t n);
void fcache_put(struct http_server *srv, const char *key, size_t n, const struct fcache_entry *e);
void fcache_free(struct http_server *srv);

/* Pure helpers, exposed for unit tests. */
/* Lexical normalisation of an absolute or relative path (path.normalize):
 * "." removed, ".." resolved, repeated '/' collapsed; a trailing '/' kept. */
void http_path_normalize(const char *p, size_t n, struct buf *out);
/* Is `file` the search path itself or inside `dir` + "/"? */
bool http_path_inside(const char *file, const char *dir);
/* Resolve `rel` (params.file, already decoded) against `root` into out:
 * returns false when it leaves root. */
bool http_path_resolve(const char *root, const char *rel, size_t rellen, struct buf *out);
/* W/"<size hex>-<mtime ms hex>" */
void http_etag(uint64_t size, uint64_t mtime_ms, char out[64]);
/* 304 decision (web.md §8.3 steps 6-7); *add_etag tells whether the ETag
 * header is sent. */
bool http_not_modified(const char *if_modified_since, const char *if_none_match,
                       const char *cache_control, bool enable_etag, uint64_t size,
                       uint64_t mtime_ms, const char *etag, bool *add_etag);
/* MIME type of an extension or file name; NULL when unknown. */
const char *http_mime_lookup(const char *name);

/* ------------------------------------------------------------ reqinfo.c */

/* Cookie header -> object (the simple parser of connection.md §2.1). */
json_t *http_parse_cookies(const char *s, size_t n);
/* The value of one cookie (same rules, last wins) without the object. */
bool http_cookie_value(const char *s, size_t n, const char *key, const char **val, size_t *vlen);
/* Fingerprint cookie text: "<key>=<fp>;path=/;expires=<date>;" */
void http_fingerprint_cookie(const char *key, const char *fp, json_t *settings, uint64_t now_ms,
                             struct buf *out);
/* Remote IP / port (connection.md §2.3).  Inputs may be NULL.  Returns 0,
 * or -1 for a bracketed X-Forwarded-For that does not parse. */
struct remote_addr {
    char ip[64];
    char port[16];
    bool port_is_string;
    bool have_ip, have_port;
};
int http_remote_addr(const char *xff, const char *xfport, const char *xrealip, struct remote_addr *out);
/* Split a path like the web server: leading empty parts removed, one
 * trailing empty part removed.  NEW array of strings. */
json_t *http_split_path(const char *p, size_t n);
/* utils.collapseObjectToArray: a NEW array when the object's keys are
 * exactly "0".."n-1", else NULL. */
json_t *http_collapse_to_array(json_t *obj);
/* fillParamsFromWebRequest: merge `vars` (borrowed) into params. */
void http_fill_params(json_t *params, json_t *vars);
/* callbackHtmlEscape */
void http_callback_escape(const char *s, struct buf *out);
/* The HTTP status for a finished action (web.md §6.4). */
int http_error_status(json_t *error, int action_status, int current, bool return_error_codes,
                      int default_status, bool has_error);

/* Random ids from the server's pool: 40 lower-case hex characters, and a
 * UUID v4 (37 bytes with the NUL). */
void http_random_fingerprint(struct http_server *srv, char out[41]);
void http_random_uuid(struct http_server *srv, char out[37]);

/* ------------------------------------------------------------ compress.c */

enum { HTTP_ENC_NONE, HTTP_ENC_GZIP, HTTP_ENC_DEFLATE };
/* web.compress and Accept-Encoding: which encoding to use. */
int http_choose_encoding(struct http_req *req);
const char *http_encoding_name(int enc);
/* One-shot compression of in[0..n) appended to out; 0 or -1. */
int http_compress(int enc, const void *in, size_t n, struct buf *out);
/* Streaming: init, then steps appending to out; the step with `finish`
 * returns 1 when the stream is complete.  deflateEnd() when done. */
int http_deflate_init(z_stream *zs, int enc);
int http_deflate_step(z_stream *zs, const void *in, size_t n, bool finish, struct buf *out);

/* ------------------------------------------------------------ ws_glue.c */

bool http_ws_owns(struct http_server *srv, const char *path, size_t len);
/* Hand the client's socket to the websocket server.  Returns 0 when taken;
 * else fills *status and *body for the HTTP answer. */
int http_ws_upgrade(struct http_req *req, const char *rest, size_t restlen, int *status,
                    const char **body);
/* Answer a plain request under the websocket path. */
void http_ws_answer(struct http_req *req);
/* An upgrade ws_upgrade() refused: its status and text/plain body, with
 * ws_upgrade_error_headers() (a 426 names the supported version), close. */
void http_ws_refuse(struct http_client *cl, int status, const char *body);

#endif /* AH_SRC_HTTP_HTTP_INTERNAL_H */
