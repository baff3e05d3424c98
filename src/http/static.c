/*
 * static.c - the static file server (web.md §8): resolving params.file
 * against the public search locations, conditional requests, and sending
 * the file on the same HTTP connection.
 *
 * Nothing here blocks the loop on the disk.  Resolution (normalise, stat,
 * directory index, realpath containment, open, fstat) and, for files up to
 * SMALL_FILE bytes, reading the whole content run in one uv_queue_work job
 * on the libuv threadpool; the job touches no JSON, connection or request,
 * only copies and the immutable configuration.  Larger files are streamed
 * in CHUNK-byte uv_fs_read calls, one at a time, pausing while more than
 * STREAM_HIGH bytes wait to be written to the client (back-pressure), and
 * resuming when the client's output has drained.  Small files that were
 * resolved and read once are kept in fcache.c; a repeated request is
 * answered from memory after one stat(2) on the loop that proves the file
 * is still the same (device, inode, size, mtime).
 *
 * Containment: a path that leaves the search location after lexical
 * normalisation is refused; so is a NUL byte; then both the file found and
 * the location are canonicalised with realpath(3) and the file must still
 * be inside, so symlinks cannot lead out of public/.
 */
#include "http/http_internal.h"
#include "http/http.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/app.h"
#include "config/config.h"
#include "core/mime.h"
#include "log/log.h"

#define SMALL_FILE (128 * 1024)
#define CHUNK (64 * 1024)
#define STREAM_HIGH (256 * 1024)

enum file_result { FILE_FOUND, FILE_NOT_FOUND, FILE_NOT_PROVIDED, FILE_READ_ERROR };

struct http_file {
    struct http_req *req;          /* holds a reference while an operation runs */
    struct http_server *srv;
    uv_work_t work;
    uv_fs_t fs;
    bool busy;                     /* a job or a read is in flight */
    bool aborted;
    bool recyclable;               /* a plain transfer (not a file_get) */
    bool path_borrowed;            /* path is the cache entry's (a hit) */
    const char *mime;              /* known MIME type (a hit), or NULL */

    /* input (copies) */
    char *rel;
    size_t rel_len;
    bool head;
    char *ims, *inm, *cc;          /* If-Modified-Since, If-None-Match, Cache-Control */

    /* output of the job */
    enum file_result result;
    char *path;                    /* the file as found (not canonicalised) */
    char err[256];
    int fd;
    uint64_t size, mtime_ms, dev, ino;
    char *content;                 /* whole file when small and needed */
    const char *content_ref;       /* or the cached copy (a cache hit) */
    bool not_modified, add_etag;
    char etag[64];

    /* streaming */
    uint64_t offset;
    char *chunk;
    uint64_t started;

    /* compression (web.compress): the deflate stream is only used by one
     * threadpool job at a time */
    int enc;
    z_stream zs;
    bool zinit, zfinished, zerr;
    struct buf zout;
};

/* ------------------------------------------------------------ paths */

void http_path_normalize(const char *p, size_t n, struct buf *out)
{
    bool abs = n > 0 && p[0] == '/';
    bool trailing = n > 0 && p[n - 1] == '/';
    struct seg *parts = xcalloc(n / 2 + 2, sizeof(*parts));
    size_t np = 0, i = 0, k;

    while (i < n) {
        size_t j = i;

        while (j < n && p[j] != '/')
            j++;
        if (j > i) {
            const char *s = p + i;
            size_t l = j - i;

            if (l == 1 && s[0] == '.') {
                /* skip */
            } else if (l == 2 && s[0] == '.' && s[1] == '.') {
                if (np > 0 && !(parts[np - 1].n == 2 && parts[np - 1].p[0] == '.' && parts[np - 1].p[1] == '.'))
                    np--;
                else if (!abs)
                    parts[np++] = (struct seg){s, l};
            } else {
                parts[np++] = (struct seg){s, l};
            }
        }
        i = j + 1;
    }
    buf_reset(out);
    if (abs)
        buf_addc(out, '/');
    for (k = 0; k < np; k++) {
        if (k > 0)
            buf_addc(out, '/');
        buf_add(out, parts[k].p, parts[k].n);
    }
    if (np == 0 && !abs)
        buf_addc(out, '.');
    if (trailing && np > 0)
        buf_addc(out, '/');
    free(parts);
}

bool http_path_inside(const char *file, const char *dir)
{
    size_t dl = strlen(dir);

    if (strcmp(file, dir) == 0)
        return true;
    if (dl > 0 && dir[dl - 1] == '/')
        return strncmp(file, dir, dl) == 0;
    return strncmp(file, dir, dl) == 0 && file[dl] == '/';
}

bool http_path_resolve(const char *root, const char *rel, size_t rellen, struct buf *out)
{
    struct buf joined = BUF_INIT;
    bool ok;

    if (memchr(rel, '\0', rellen) != NULL) {
        buf_reset(out);
        return false;
    }
    if (rellen > 0 && rel[0] == '/') {
        buf_add(&joined, rel, rellen);
    } else {
        buf_adds(&joined, root);
        if (rellen > 0) {
            buf_addc(&joined, '/');
            buf_add(&joined, rel, rellen);
        }
    }
    http_path_normalize(joined.data, joined.len, out);
    buf_release(&joined);
    ok = http_path_inside(out->data, root);
    return ok;
}

static char *put_hex(char *p, uint64_t v)
{
    char tmp[16];
    size_t i = sizeof(tmp);

    do {
        tmp[--i] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v);
    memcpy(p, tmp + i, sizeof(tmp) - i);
    return p + (sizeof(tmp) - i);
}

void http_etag(uint64_t size, uint64_t mtime_ms, char out[64])
{
    char *p = out;

    /* W/"<size hex>-<mtime hex>": at most 3 + 16 + 1 + 16 + 1 bytes */
    memcpy(p, "W/\"", 3);
    p = put_hex(p + 3, size);
    *p++ = '-';
    p = put_hex(p, mtime_ms);
    *p++ = '"';
    *p = '\0';
}

static bool has_token(const char *list, const char *tag)
{
    /* split(/ *, * /) and compare each piece exactly */
    const char *p = list;

    while (p) {
        const char *comma = strchr(p, ',');
        const char *e = comma ? comma : p + strlen(p);
        const char *s = p;
        size_t n;

        /* spaces around commas belong to the separator; the ends stay */
        if (p != list)
            while (*s == ' ')
                s++;
        n = (size_t)(e - s);
        if (comma)
            while (n > 0 && s[n - 1] == ' ')
                n--;
        if (strlen(tag) == n && strncmp(s, tag, n) == 0)
            return true;
        p = comma ? comma + 1 : NULL;
    }
    return false;
}

bool http_not_modified(const char *if_modified_since, const char *if_none_match, const char *cache_control,
                       bool enable_etag, uint64_t size, uint64_t mtime_ms, const char *etag, bool *add_etag)
{
    *add_etag = false;
    if (if_modified_since) {
        uint64_t ims;

        /* mtime truncated to seconds; an unparsable date compares false */
        if (core_parse_http_date(if_modified_since, &ims) == 0 && (mtime_ms / 1000) * 1000 <= ims)
            return true;
        return false;
    }
    if (enable_etag) {
        char weak[80];
        bool match;

        *add_etag = true;
        if (if_none_match == NULL)
            return false;
        size_t el = strlen(etag);

        if (el > sizeof(weak) - 3)
            el = sizeof(weak) - 3;
        memcpy(weak, "W/", 2);
        memcpy(weak + 2, etag, el);
        weak[2 + el] = '\0';
        match = has_token(if_none_match, "*") || has_token(if_none_match, etag) || has_token(if_none_match, weak);
        if (match && !(cache_control && strstr(cache_control, "no-cache")))
            return true;
    }
    (void)size;
    return false;
}

/* mime.getType(name): NULL when unknown. */
const char *http_mime_lookup(const char *name)
{
    return mime_lookup(name);
}

/* ------------------------------------------------------------ the job */

static bool stat_regular(const char *path, int depth, struct buf *found, const char *index)
{
    struct stat st;

    if (depth > 16 || stat(path, &st) != 0)
        return false;
    if (S_ISDIR(st.st_mode)) {
        struct buf sub = BUF_INIT;
        bool r;

        buf_addf(&sub, "%s/%s", path, index);
        r = stat_regular(sub.data, depth + 1, found, index);
        buf_release(&sub);
        return r;
    }
    if (!S_ISREG(st.st_mode))
        return false;
    buf_reset(found);
    buf_adds(found, path);
    return true;
}


/* Read up to n bytes from the start of fd (threadpool side); returns how
 * many arrived (fewer: the file shrank or a read failed, errno says). */
static size_t read_all(int fd, char *p, size_t n)
{
    size_t got = 0;

    while (got < n) {
        ssize_t r = pread(fd, p + got, n - got, (off_t)got);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    return got;
}
static void job_run(uv_work_t *w)
{
    struct http_file *f = w->data;
    struct http_cfg *cfg = &f->srv->cfg;
    struct buf cand = BUF_INIT, found = BUF_INIT;
    size_t i;

    f->result = FILE_NOT_FOUND;
    f->fd = -1;
    if (f->rel_len == 0) {
        f->result = FILE_NOT_PROVIDED;
        goto out;
    }
    for (i = 0; i < cfg->n_public_paths; i++) {
        const char *root = cfg->public_paths[i];
        char real_root[PATH_MAX], real_file[PATH_MAX];
        struct stat st;

        if (!http_path_resolve(root, f->rel, f->rel_len, &cand))
            continue;
        if (!stat_regular(cand.data, 0, &found, cfg->directory_file_type))
            continue;
        if (realpath(root, real_root) == NULL || realpath(found.data, real_file) == NULL)
            continue;
        if (!http_path_inside(real_file, real_root))
            continue;
        f->path = xstrdup(found.data);
        f->fd = open(found.data, O_RDONLY | O_CLOEXEC);
        if (f->fd < 0 || fstat(f->fd, &st) != 0) {
            snprintf(f->err, sizeof(f->err), "Error: %s, open '%s'", strerror(errno), found.data);
            f->result = FILE_READ_ERROR;
            if (f->fd >= 0)
                close(f->fd);
            f->fd = -1;
            goto out;
        }
        f->result = FILE_FOUND;
        f->dev = (uint64_t)st.st_dev;
        f->ino = (uint64_t)st.st_ino;
        f->size = (uint64_t)st.st_size;
        f->mtime_ms = (uint64_t)st.st_mtim.tv_sec * 1000 + (uint64_t)st.st_mtim.tv_nsec / 1000000;
        http_etag(f->size, f->mtime_ms, f->etag);
        f->not_modified = http_not_modified(f->ims, f->inm, f->cc, cfg->enable_etag, f->size, f->mtime_ms, f->etag,
                                            &f->add_etag);
        if (!f->not_modified && !f->head && f->size <= SMALL_FILE) {
            size_t got;

            f->content = xmalloc(f->size + 1);
            got = read_all(f->fd, f->content, f->size);
            if (got < f->size) {
                snprintf(f->err, sizeof(f->err), "Error: %s, read '%s'", got ? "file changed" : strerror(errno),
                         found.data);
                f->result = FILE_READ_ERROR;
                free(f->content);
                f->content = NULL;
            }
            close(f->fd);
            f->fd = -1;
            if (f->content && f->enc) {
                /* small files are compressed here, off the loop */
                if (http_compress(f->enc, f->content, (size_t)f->size, &f->zout) == 0)
                    f->zfinished = true;
                else
                    f->zerr = true;
                free(f->content);
                f->content = NULL;
            }
        }
        goto out;
    }
out:
    buf_release(&cand);
    buf_release(&found);
}

/* ------------------------------------------------------------ sending */

static void file_free(struct http_file *f)
{
    struct http_server *srv = f->srv;

    if (f->fd >= 0) {
        uv_fs_t r;

        uv_fs_close(NULL, &r, f->fd, NULL);
        uv_fs_req_cleanup(&r);
    }
    free(f->rel);
    free(f->ims);
    free(f->inm);
    free(f->cc);
    if (!f->path_borrowed)
        free(f->path);
    free(f->content);
    free(f->chunk);
    if (f->zinit)
        deflateEnd(&f->zs);
    buf_release(&f->zout);
    /* keep one for the next request (a static file costs no malloc) */
    if (f->recyclable && srv && srv->spare_file == NULL && !srv->freeing) {
        srv->spare_file = f;
        return;
    }
    free(f);
}

void http_static_release(struct http_server *srv)
{
    free(srv->spare_file);
    srv->spare_file = NULL;
}

/* The request lets go of its file (before answering: finishing the
 * response may recycle the request, which must not see the file). */
static void file_take(struct http_file *f)
{
    struct http_req *req = f->req;

    if (req && req->file == f)
        req->file = NULL;
}

/* The request is done with its file (sent, failed or abandoned). */
static void file_done(struct http_file *f)
{
    file_take(f);
    file_free(f);
}

static void log_file(struct http_cfg *cfg, ah_connection_t *c, const char *file, long long size, long long duration,
                     bool success)
{
    json_t *data;
    json_t *pf;

    if (!log_enabled(cfg->file_log_level))
        return;
    pf = c ? json_object_get(c->params, "file") : NULL;
    data = json_object();
    json_object_set_new(data, "to", json_string(c ? c->remote_ip : ""));
    json_object_set_new(data, "file", json_string(file));
    json_object_set(data, "requestedFile", pf ? pf : json_null());
    json_object_set_new(data, "size", size >= 0 ? json_integer(size) : json_null());
    json_object_set_new(data, "duration", duration >= 0 ? json_integer(duration) : json_null());
    json_object_set_new(data, "success", json_boolean(success));
    log_msg(cfg->file_log_level, data, "[ file @ %s ]", c ? c->type : "web");
    json_decref(data);
}

static void log_request(struct http_req *req, const char *file, long long size, long long duration, bool success)
{
    log_file(&req->srv->cfg, req->conn, file, size, duration, success);
}

static void send_not_found(struct http_req *req, struct http_file *f)
{
    ah_app_t *app = req->srv->app;
    ah_connection_t *c = req->conn;
    char *conn_err, *body;

    if (f->result == FILE_READ_ERROR)
        conn_err = config_error_text(app, "fileReadError", "error", f->err, NULL);
    else
        conn_err = config_error_text(app, "fileNotProvided", NULL);
    if (c) {
        json_decref(c->error);
        c->error = json_string(conn_err);
    }
    free(conn_err);
    log_request(req, "{not found}", -1, -1, false);
    body = config_error_text(app, "fileNotFound", NULL);
    http_resp_queue(req, "Content-Type", "text/html");
    req->status = 404;
    /* String(error): sent for HEAD too, so its length is announced */
    http_send_string(req, 404, body, strlen(body));
    free(body);
}

static void stream_next(struct http_file *f);

static void finish_stream(struct http_file *f)
{
    struct http_req *req = f->req;

    log_request(req, f->path, (long long)f->size, (long long)(core_now_ms() - f->started), true);
    file_done(f);
    http_client_flush(req->client);
    http_resp_end(req);
}

static void on_chunk(uv_fs_t *r)
{
    struct http_file *f = r->data;
    struct http_req *req = f->req;
    ssize_t n = r->result;

    uv_fs_req_cleanup(r);
    f->busy = false;
    if (f->aborted || req->client == NULL || req->client->closing) {
        f->req = NULL;
        if (req->file == f)
            req->file = NULL;
        file_free(f);
        http_req_unref(req);
        return;
    }
    if (n <= 0) {
        /* the file shrank or failed mid-way: the response cannot be
         * completed, so the connection is closed */
        log_warn("[server: web] reading '%s' failed: %s", f->path, n < 0 ? uv_strerror((int)n) : "unexpected end");
        {
            struct http_client *cl = req->client;

            file_done(f);
            http_req_unref(req);
            http_client_abort(cl);
        }
        return;
    }
    http_client_append(req->client, f->chunk, (size_t)n);
    f->offset += (uint64_t)n;
    http_req_unref(req);
    if (f->offset >= f->size) {
        finish_stream(f);
        return;
    }
    http_client_flush(req->client);
    if (req->client && http_client_outbound(req->client) < STREAM_HIGH)
        stream_next(f);
}

static void stream_next(struct http_file *f)
{
    uint64_t left = f->size - f->offset;
    uv_buf_t b;

    if (f->busy)
        return;
    if (f->chunk == NULL)
        f->chunk = xmalloc(CHUNK);
    b = uv_buf_init(f->chunk, (unsigned)(left < CHUNK ? left : CHUNK));
    f->fs.data = f;
    if (uv_fs_read(f->srv->app->loop, &f->fs, f->fd, &b, 1, (int64_t)f->offset, on_chunk) < 0) {
        struct http_req *req = f->req;
        struct http_client *cl = req->client;

        file_done(f);
        http_client_abort(cl);
        return;
    }
    f->busy = true;
    http_req_ref(f->req);
}

/* A piece of a body of unknown length: a chunk for HTTP/1.1 clients, the
 * bytes themselves for HTTP/1.0 ones (the connection ends the body). */
static void append_piece(struct http_req *req, const char *p, size_t n)
{
    char hdr[24];
    int hl;

    if (n == 0 || req->method == HTTP_HEAD)
        return;
    if (req->http_minor == 0) {
        http_client_append(req->client, p, n);
        return;
    }
    hl = snprintf(hdr, sizeof(hdr), "%zx\r\n", n);
    http_client_append(req->client, hdr, (size_t)hl);
    http_client_append(req->client, p, n);
    http_client_append(req->client, "\r\n", 2);
}

static void append_last(struct http_req *req)
{
    if (req->http_minor >= 1 && req->method != HTTP_HEAD)
        http_client_append(req->client, "0\r\n\r\n", 5);
}

/* Compressed streaming: each step reads a chunk and deflates it on the
 * threadpool. */
static void zjob_run(uv_work_t *w)
{
    struct http_file *f = w->data;
    uint64_t left = f->size - f->offset;
    size_t want = left < CHUNK ? (size_t)left : CHUNK;
    ssize_t n;
    int rc;

    f->zout.len = 0;
    if (!f->zinit) {
        if (http_deflate_init(&f->zs, f->enc) < 0) {
            f->zerr = true;
            return;
        }
        f->zinit = true;
    }
    do {
        n = pread(f->fd, f->chunk, want, (off_t)f->offset);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) {
        f->zerr = true;
        return;
    }
    f->offset += (uint64_t)n;
    rc = http_deflate_step(&f->zs, f->chunk, (size_t)n, f->offset >= f->size, &f->zout);
    if (rc < 0)
        f->zerr = true;
    else if (rc == 1)
        f->zfinished = true;
}

static void zjob_next(struct http_file *f);

static void zjob_done(uv_work_t *w, int status)
{
    struct http_file *f = w->data;
    struct http_req *req = f->req;

    f->busy = false;
    if (status < 0 || f->aborted || req->client == NULL || req->client->closing) {
        f->req = NULL;
        if (req->file == f)
            req->file = NULL;
        file_free(f);
        http_req_unref(req);
        return;
    }
    if (f->zerr) {
        struct http_client *cl = req->client;

        log_warn("[server: web] compressing '%s' failed", f->path);
        file_done(f);
        http_req_unref(req);
        http_client_abort(cl);
        return;
    }
    append_piece(req, f->zout.data, f->zout.len);
    if (f->zfinished) {
        append_last(req);
        http_req_unref(req);
        finish_stream(f);
        return;
    }
    http_req_unref(req);
    http_client_flush(req->client);
    if (req->client && http_client_outbound(req->client) < STREAM_HIGH)
        zjob_next(f);
}

static void zjob_next(struct http_file *f)
{
    struct http_req *req = f->req;

    if (f->busy)
        return;
    if (f->chunk == NULL)
        f->chunk = xmalloc(CHUNK);
    f->work.data = f;
    if (uv_queue_work(f->srv->app->loop, &f->work, zjob_run, zjob_done) < 0) {
        struct http_client *cl = req->client;

        file_done(f);
        http_client_abort(cl);
        return;
    }
    f->busy = true;
    http_req_ref(req);
}

void http_static_resume(struct http_req *req)
{
    struct http_file *f = req->file;

    if (f == NULL || f->busy || !f->started)
        return;
    if (f->enc && !f->zfinished && f->fd >= 0)
        zjob_next(f);
    else if (!f->enc && f->fd >= 0 && f->offset < f->size)
        stream_next(f);
}

/* Queue a header the server made (valid, and living as long as the
 * request: static text, the server's configuration or the arena). */
static void queue_own(struct http_req *req, const char *name, size_t nlen, const char *value, size_t vlen)
{
    hdrq_push(&req->rh, name, nlen, value, vlen);
    req->custom_headers = true;
}

static void send_found(struct http_req *req, struct http_file *f)
{
    struct http_server *srv = req->srv;
    struct http_cfg *cfg = &srv->cfg;
    struct buf *h = &srv->hdr_scratch;
    const char *mime = f->mime ? f->mime : http_mime_lookup(f->path);
    /* any queued Cache-Control counts, the configured ones included */
    bool have_cc = http_resp_last(req, "cache-control") != NULL;
    int status;

    if (mime == NULL)
        mime = "application/octet-stream";
    queue_own(req, "Content-Type", 12, mime, strlen(mime));
    if (!have_cc)
        queue_own(req, "Cache-Control", 13, srv->cache_control, srv->cache_control_len);
    if (!cfg->enable_etag) {
        char date[40];
        size_t dl;

        core_http_date(f->mtime_ms, date, sizeof(date));
        dl = strlen(date);
        queue_own(req, "Last-Modified", 13, harena_dup(&req->arena, date, dl), dl);
    }
    buf_reset(h);
    http_build_headers(req, h, (f->add_etag ? HDR_SKIP_ETAG : 0) | (f->enc && !f->not_modified ? HDR_SKIP_CE : 0));
    if (f->add_etag) {
        size_t el = strlen(f->etag);

        buf_grow(h, el + 8);
        memcpy(h->data + h->len, "etag: ", 6);
        memcpy(h->data + h->len + 6, f->etag, el);
        memcpy(h->data + h->len + 6 + el, "\r\n", 3);
        h->len += el + 8;
    }
    status = f->not_modified ? 304 : req->status;
    if (f->enc && !f->not_modified) {
        /* compressed: no Content-Length, chunked (web.md §9.2) */
        buf_addf(h, "content-encoding: %s\r\n", http_encoding_name(f->enc));
        f->started = core_now_ms();
        http_write_response(req, status, h->data, h->len, NULL, 0, HTTP_CL_CHUNKED, true);
        if (f->head) {
            finish_stream(f);
        } else if (f->zerr) {
            struct http_client *cl = req->client;

            log_warn("[server: web] compressing '%s' failed", f->path);
            file_done(f);
            http_client_abort(cl);
        } else if (f->zfinished) {
            append_piece(req, f->zout.data, f->zout.len);
            append_last(req);
            finish_stream(f);
        } else {
            http_client_flush(req->client);
            zjob_next(f);
        }
        return;
    }
    if (f->not_modified) {
        /* headers only; the stream is closed without being read */
        file_take(f);
        http_write_response(req, 304, h->data, h->len, NULL, 0, -1, false);
        file_free(f);
        return;
    }
    f->started = core_now_ms();
    if (f->head || f->size == 0) {
        http_write_response(req, status, h->data, h->len, NULL, 0, (long long)f->size, true);
        finish_stream(f);
        return;
    }
    if (f->content || f->content_ref) {
        http_write_response(req, status, h->data, h->len, f->content ? f->content : f->content_ref, (size_t)f->size,
                            (long long)f->size, true);
        finish_stream(f);
        return;
    }
    http_write_response(req, status, h->data, h->len, NULL, 0, (long long)f->size, true);
    http_client_flush(req->client);
    stream_next(f);
}

static void job_done(uv_work_t *w, int status)
{
    struct http_file *f = w->data;
    struct http_req *req = f->req;

    f->busy = false;
    if (status < 0 || f->aborted || req->client == NULL || req->client->closing) {
        f->req = NULL;
        if (req->file == f)
            req->file = NULL;
        file_free(f);
        http_req_unref(req);
        return;
    }
    if (f->result == FILE_FOUND) {
        f->mime = http_mime_lookup(f->path);
        if (f->content && !f->enc) {
            struct fcache_entry e = {f->path, f->dev, f->ino, f->size, f->mtime_ms, f->content, f->mime, ""};

            memcpy(e.etag, f->etag, sizeof(e.etag));
            fcache_put(f->srv, f->rel, f->rel_len, &e);
        }
        send_found(req, f);
    } else {
        file_take(f);
        send_not_found(req, f);
        file_free(f);
    }
    http_req_unref(req);
}

static char *dup_header(struct http_req *req, const char *name)
{
    const char *v = http_req_header(req, name, NULL);

    return v ? xstrdup(v) : NULL;
}

void http_static_send(struct http_req *req)
{
    struct http_server *srv = req->srv;
    ah_connection_t *c = req->conn;
    json_t *pf = c ? json_object_get(c->params, "file") : NULL;
    struct http_file *f;

    if (req->file || req->response_done)
        return;
    if (srv->spare_file) {
        f = srv->spare_file;
        srv->spare_file = NULL;
        memset(f, 0, sizeof(*f));
    } else {
        f = xcalloc(1, sizeof(*f));
    }
    f->recyclable = true;
    f->srv = srv;
    f->req = req;
    f->fd = -1;
    if (json_is_string(pf)) {
        f->rel_len = json_string_length(pf);
        f->rel = xmalloc(f->rel_len + 1);
        memcpy(f->rel, json_string_value(pf), f->rel_len + 1);
    } else {
        f->rel = xstrdup("");
    }
    f->head = req->method == HTTP_HEAD;
    f->enc = http_choose_encoding(req);
    f->ims = dup_header(req, "if-modified-since");
    f->inm = dup_header(req, "if-none-match");
    f->cc = dup_header(req, "cache-control");
    req->file = f;
    if (!f->enc && f->rel_len > 0) {
        /* a small file served before and unchanged: no threadpool trip */
        const struct fcache_entry *e = fcache_get(srv, f->rel, f->rel_len);

        if (e) {
            /* the entry's path, type and content are borrowed: this
             * response is complete before the next fcache call */
            f->result = FILE_FOUND;
            f->path = e->path;
            f->path_borrowed = true;
            f->mime = e->mime;
            f->size = e->size;
            f->mtime_ms = e->mtime_ms;
            memcpy(f->etag, e->etag, sizeof(f->etag));
            f->not_modified = http_not_modified(f->ims, f->inm, f->cc, srv->cfg.enable_etag, f->size, f->mtime_ms,
                                                f->etag, &f->add_etag);
            if (!f->not_modified && !f->head)
                f->content_ref = e->content;
            send_found(req, f);
            return;
        }
    }
    f->work.data = f;
    if (uv_queue_work(srv->app->loop, &f->work, job_run, job_done) < 0) {
        f->result = FILE_READ_ERROR;
        snprintf(f->err, sizeof(f->err), "Error: cannot queue the file read");
        file_take(f);
        send_not_found(req, f);
        file_free(f);
        return;
    }
    f->busy = true;
    http_req_ref(req);
}

void http_static_abort(struct http_req *req)
{
    struct http_file *f = req->file;

    if (f == NULL)
        return;
    if (f->busy) {
        /* the operation in flight holds the request; it frees f */
        f->aborted = true;
        return;
    }
    req->file = NULL;
    file_free(f);
}

/* ------------------------------------------------------------ other servers */

/* api.staticFile.get for connections that are not web requests (websocket
 * `file` events, connection.sendFile): the same resolution job, then the
 * whole file is read on the threadpool too (bounded by max_bytes). */
struct file_get {
    struct http_file f;            /* first: the job's data pointer */
    ah_connection_t *c;            /* holds a reference */
    size_t max_bytes;
    uint64_t started;
    uint64_t mtime_ms;             /* rounded like Node's */
    http_file_cb cb;
    void *arg;
};

static void get_run(uv_work_t *w)
{
    struct file_get *g = w->data;
    struct http_file *f = &g->f;

    job_run(w);
    if (f->result == FILE_FOUND) {
        struct stat st;

        /* Node's stats.mtime: the time in ms rounded, not truncated */
        g->mtime_ms = f->mtime_ms;
        if ((f->fd >= 0 && fstat(f->fd, &st) == 0) || (f->path && stat(f->path, &st) == 0))
            g->mtime_ms = (uint64_t)st.st_mtim.tv_sec * 1000 + ((uint64_t)st.st_mtim.tv_nsec + 500000) / 1000000;
    }
    if (f->result != FILE_FOUND || f->content != NULL)
        return;
    if (f->size > g->max_bytes) {
        snprintf(f->err, sizeof(f->err), "Error: file too large to send (%llu bytes, at most %zu)",
                 (unsigned long long)f->size, g->max_bytes);
        f->result = FILE_READ_ERROR;
    } else {
        size_t got;

        f->content = xmalloc(f->size + 1);
        got = read_all(f->fd, f->content, f->size);
        if (got < f->size) {
            snprintf(f->err, sizeof(f->err), "Error: %s, read '%s'", got ? "file changed" : strerror(errno),
                     f->path);
            f->result = FILE_READ_ERROR;
            free(f->content);
            f->content = NULL;
        }
    }
    close(f->fd);
    f->fd = -1;
}

static void get_done(uv_work_t *w, int status)
{
    struct file_get *g = w->data;
    struct http_file *f = &g->f;
    ah_connection_t *c = g->c;
    ah_app_t *app = c->app;
    struct http_cfg *cfg = &f->srv->cfg;
    struct http_file_result r;
    char *conn_err = NULL, *not_found = NULL;

    memset(&r, 0, sizeof(r));
    if (status < 0 && f->result == FILE_FOUND) {
        snprintf(f->err, sizeof(f->err), "Error: %s", uv_strerror(status));
        f->result = FILE_READ_ERROR;
    }
    if (f->result == FILE_FOUND && f->content) {
        r.found = true;
        r.mime = mime_lookup(f->path);
        r.length = f->size;
        r.mtime_ms = g->mtime_ms;
        r.content = f->content;
        r.content_len = (size_t)f->size;
        log_file(cfg, c, f->path, (long long)f->size, (long long)(core_now_ms() - g->started), true);
    } else {
        if (f->result == FILE_READ_ERROR)
            conn_err = config_error_text(app, "fileReadError", "error", f->err, NULL);
        else
            conn_err = config_error_text(app, "fileNotProvided", NULL);
        json_decref(c->error);
        c->error = json_string(conn_err);
        log_file(cfg, c, "{not found}", -1, -1, false);
        not_found = config_error_text(app, "fileNotFound", NULL);
        r.error = not_found;
        r.mime = "text/html";
        r.length = strlen(not_found);
    }
    g->cb(c, &r, g->arg);
    free(conn_err);
    free(not_found);
    ah_connection_unref(c);
    f->req = NULL;
    file_free(f);
}

int http_static_get(ah_connection_t *c, size_t max_bytes, http_file_cb cb, void *arg)
{
    struct http_server *srv = c && c->app ? c->app->http : NULL;
    json_t *pf = c ? json_object_get(c->params, "file") : NULL;
    struct file_get *g;
    struct http_file *f;
    int rc;

    if (srv == NULL || cb == NULL)
        return AH_EUNAVAIL;
    /* the struct is freed by file_free(), which frees its first member */
    g = xcalloc(1, sizeof(*g));
    f = &g->f;
    f->srv = srv;
    f->fd = -1;
    if (json_is_string(pf)) {
        f->rel_len = json_string_length(pf);
        f->rel = xmalloc(f->rel_len + 1);
        memcpy(f->rel, json_string_value(pf), f->rel_len + 1);
    } else {
        f->rel = xstrdup("");
    }
    g->c = c;
    g->max_bytes = max_bytes;
    g->started = core_now_ms();
    g->cb = cb;
    g->arg = arg;
    f->work.data = g;
    if ((rc = uv_queue_work(c->app->loop, &f->work, get_run, get_done)) < 0) {
        file_free(f);
        return rc;
    }
    ah_connection_ref(c);
    return 0;
}
