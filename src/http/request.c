/*
 * request.c - one HTTP request from "headers complete" to dispatch
 * (web.md §3-§6.3): URL and mode, body intake, fingerprint and cookies,
 * allowed hosts, remote address, the web connection, params assembly,
 * routing, then the action processor, the static file server, OPTIONS or
 * TRACE.
 *
 * Bodies are parsed when the whole message has arrived, except multipart
 * bodies, which stream into the multipart parser (files go to disk as they
 * arrive).  An application/octet-stream body is written to uploadDir with
 * plain write(2) on the loop thread once it is complete (bounded by
 * maxBodyBytes; the page cache makes this a memory copy in practice).
 */
#include "http/http_internal.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "app/app.h"
#include "config/config.h"
#include "conn/conn.h"
#include "dispatch/dispatch.h"
#include "http/http.h"
#include "http/routes.h"
#include "log/log.h"

/* ------------------------------------------------------------ headers */

/* Node keeps only the first of these when repeated. */
static const char *const single_headers[] = {
    "age", "authorization", "content-length", "content-type", "etag", "expires", "from", "host",
    "if-modified-since", "if-unmodified-since", "last-modified", "location", "max-forwards",
    "proxy-authorization", "referer", "retry-after", "server", "user-agent", NULL,
};

static bool is_single(const char *lname)
{
    const char *const *p;

    for (p = single_headers; *p; p++)
        if (strcmp(*p, lname) == 0)
            return true;
    return false;
}

const char *http_req_header(struct http_req *req, const char *lname, size_t *len)
{
    size_t nl = strlen(lname), i, count = 0, first = 0;
    struct buf joined = BUF_INIT;
    const char *sep;
    char *r;

    for (i = 0; i < req->n_hdrs; i++) {
        const struct rhdr *h = &req->hdrs[i];

        if (h->nlen == nl && memcmp(req->hbuf.data + h->noff, lname, nl) == 0) {
            if (count++ == 0)
                first = i;
        }
    }
    if (count == 0)
        return NULL;
    if (count == 1 || is_single(lname)) {
        if (len)
            *len = req->hdrs[first].vlen;
        return req->hbuf.data + req->hdrs[first].voff;
    }
    sep = strcmp(lname, "cookie") == 0 ? "; " : ", ";
    for (i = first; i < req->n_hdrs; i++) {
        const struct rhdr *h = &req->hdrs[i];

        if (h->nlen == nl && memcmp(req->hbuf.data + h->noff, lname, nl) == 0) {
            if (joined.len > 0)
                buf_adds(&joined, sep);
            buf_add(&joined, req->hbuf.data + h->voff, h->vlen);
        }
    }
    r = harena_dup(&req->arena, joined.data ? joined.data : "", joined.len);
    if (len)
        *len = joined.len;
    buf_release(&joined);
    return r;
}

static const char *hdr(struct http_req *req, const char *lname)
{
    return http_req_header(req, lname, NULL);
}

/* ------------------------------------------------------------ URL */

/* Node's url.parse escapes these in the path (after '\' became '/'). */
static bool auto_escape(unsigned char c)
{
    return c == '{' || c == '}' || c == '|' || c == '^' || c == '`' || c == '\'' || c == '"' || c == '<' ||
           c == '>' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void parse_url(struct http_req *req)
{
    const char *u = req->url.data ? req->url.data : "";
    const char *end = u + req->url.len, *p = u, *q;

    buf_reset(&req->path);
    req->query = NULL;
    req->query_len = 0;
    /* absolute-form (proxies): skip scheme and authority */
    if ((req->url.len >= 7 && strncasecmp(u, "http://", 7) == 0) ||
        (req->url.len >= 8 && strncasecmp(u, "https://", 8) == 0)) {
        p = strstr(u, "//") + 2;
        while (p < end && *p != '/' && *p != '?' && *p != '#' && *p != '\\')
            p++;
        if (p == end || *p != '/')
            buf_addc(&req->path, '/');
    }
    for (q = p; q < end && *q != '?' && *q != '#';) {
        const char *run = q;
        unsigned char c;

        /* copy runs of ordinary characters at once */
        while (q < end && *q != '?' && *q != '#' && *q != '\\' && !auto_escape((unsigned char)*q))
            q++;
        if (q > run)
            buf_add(&req->path, run, (size_t)(q - run));
        if (q == end || *q == '?' || *q == '#')
            break;
        c = (unsigned char)*q++;
        if (c == '\\') {
            buf_addc(&req->path, '/');
        } else {
            char esc[3] = {'%', "0123456789ABCDEF"[c >> 4], "0123456789ABCDEF"[c & 15]};

            buf_add(&req->path, esc, 3);
        }
    }
    if (req->path.data == NULL)
        buf_adds(&req->path, "");
    if (q < end && *q == '?') {
        const char *h = memchr(q + 1, '#', (size_t)(end - q - 1));

        req->query = q + 1;
        req->query_len = (size_t)((h ? h : end) - (q + 1));
    }
}

/* pathname.split("/"), leading empty parts and one trailing removed. */
static void split_parts(struct http_req *req)
{
    const char *s = req->path.data, *end = s + req->path.len;
    size_t n = 0;

    for (;;) {
        const char *slash = memchr(s, '/', (size_t)(end - s));
        const char *e = slash ? slash : end;

        if (n == req->cap_parts) {
            req->cap_parts = req->cap_parts ? req->cap_parts * 2 : 16;
            req->parts = xrealloc(req->parts, req->cap_parts * sizeof(*req->parts));
        }
        req->parts[n].p = s;
        req->parts[n].n = (size_t)(e - s);
        n++;
        if (!slash)
            break;
        s = slash + 1;
    }
    {
        size_t first = 0;

        while (first < n && req->parts[first].n == 0)
            first++;
        if (first > 0) {
            memmove(req->parts, req->parts + first, (n - first) * sizeof(*req->parts));
            n -= first;
        }
    }
    if (n > 0 && req->parts[n - 1].n == 0)
        n--;
    req->n_parts = n;
}

/* utils.arrayStartingMatch(prefix, parts) */
static bool starts_with(char **prefix, size_t np, const struct seg *parts, size_t n)
{
    size_t i;

    if (np == 0 || n == 0)
        return false;
    for (i = 0; i < np; i++) {
        if (i >= n || strlen(prefix[i]) != parts[i].n || memcmp(prefix[i], parts[i].p, parts[i].n) != 0)
            return false;
    }
    return true;
}

static void select_mode(struct http_req *req)
{
    struct http_cfg *cfg = &req->srv->cfg;

    req->mode = cfg->root_api ? MODE_API : MODE_FILE;
    req->prefix_n = 0;
    if (req->n_parts > 0 && req->parts[0].n > 0 &&
        starts_with(cfg->actions_prefix, cfg->n_actions_prefix, req->parts, req->n_parts)) {
        req->mode = MODE_API;
        req->prefix_n = cfg->n_actions_prefix;
    } else if (req->n_parts > 0 && req->parts[0].n > 0 &&
               starts_with(cfg->files_prefix, cfg->n_files_prefix, req->parts, req->n_parts)) {
        req->mode = MODE_FILE;
        req->prefix_n = cfg->n_files_prefix;
    }
    if (req->method == HTTP_OPTIONS)
        req->mode = MODE_OPTIONS;
    else if (req->mode == MODE_API && req->method == HTTP_TRACE)
        req->mode = MODE_TRACE;
}

/* ------------------------------------------------------------ body intake */

enum body_type { BT_NONE, BT_JSON, BT_URLENCODED, BT_MULTIPART, BT_OCTET };

/* /^[^;]*<word>/i on the Content-Type */
static bool ct_has(const char *ct, const char *word)
{
    const char *semi = strchr(ct, ';');
    size_t n = semi ? (size_t)(semi - ct) : strlen(ct), wl = strlen(word), i;

    for (i = 0; i + wl <= n; i++)
        if (strncasecmp(ct + i, word, wl) == 0)
            return true;
    return false;
}

/* formidable runs every plugin; the asynchronous octet-stream one assigns
 * its parser last, then json, multipart, urlencoded in reverse order. */
static enum body_type body_type(const char *ct)
{
    if (ct_has(ct, "octet-stream"))
        return BT_OCTET;
    if (ct_has(ct, "json"))
        return BT_JSON;
    if (ct_has(ct, "multipart"))
        return BT_MULTIPART;
    if (ct_has(ct, "urlencoded"))
        return BT_URLENCODED;
    return BT_NONE;
}

int http_request_head(struct http_req *req)
{
    struct http_server *srv = req->srv;
    struct http_client *cl = req->client;
    const char *ct, *expect;

    parse_url(req);
    if (http_ws_owns(srv, req->path.data, req->path.len)) {
        req->mode = MODE_WS;
        req->body_kind = BODY_DISCARD;
        return 0;
    }
    split_parts(req);
    select_mode(req);
    req->body_kind = BODY_DISCARD;
    ct = hdr(req, "content-type");
    if ((req->mode == MODE_API || req->mode == MODE_TRACE) && req->method != HTTP_GET &&
        req->method != HTTP_HEAD && ct && *ct) {
        req->want_body = true;
        req->body_type = body_type(ct);
        req->body_kind = BODY_BUFFER;
        if (req->body_type == BT_MULTIPART) {
            req->mp = multipart_new(ct, &srv->cfg.form, req->mp_error, sizeof(req->mp_error));
            if (req->mp)
                req->body_kind = BODY_MULTIPART;
            else if (!srv->cfg.save_raw_body)
                req->body_kind = BODY_DISCARD;
        }
    }
    /* Expect: 100-continue (Node answers it for HTTP/1.1 requests) */
    expect = hdr(req, "expect");
    if (expect && req->http_minor == 1) {
        char low[64];
        size_t i, n = strlen(expect);

        for (i = 0; i < n && i < sizeof(low) - 1; i++)
            low[i] = (char)tolower((unsigned char)expect[i]);
        low[i] = '\0';
        if (strstr(low, "100-continue") == NULL) {
            cl->reject_text = "expectation failed";
            return 417;
        }
        http_client_append(cl, "HTTP/1.1 100 Continue\r\n\r\n", 25);
        http_client_flush(cl);
    }
    return 0;
}

void http_request_body(struct http_req *req, const char *p, size_t n)
{
    if (req->body_kind == BODY_DISCARD)
        return;
    if (req->mp && !req->mp_failed) {
        if (multipart_feed(req->mp, p, n) < 0)
            req->mp_failed = true;
    }
    if (req->body_kind == BODY_BUFFER || req->srv->cfg.save_raw_body)
        buf_add(&req->body, p, n);
}

/* ------------------------------------------------------------ body parsing */

/* Object.assign(Object.create(null), value) */
static json_t *to_fields(json_t *v)
{
    json_t *o;

    if (json_is_object(v))
        return json_copy(v);
    o = json_object();
    if (json_is_array(v)) {
        size_t i;
        json_t *e;

        json_array_foreach(v, i, e) {
            char k[24];

            snprintf(k, sizeof(k), "%zu", i);
            json_object_set(o, k, e);
        }
    } else if (json_is_string(v)) {
        const unsigned char *s = (const unsigned char *)json_string_value(v);
        size_t n = json_string_length(v), i = 0, idx = 0;

        while (i < n) {
            size_t l = 1;
            char k[24];

            if (s[i] >= 0xf0)
                l = 4;
            else if (s[i] >= 0xe0)
                l = 3;
            else if (s[i] >= 0xc0)
                l = 2;
            if (i + l > n)
                l = n - i;
            snprintf(k, sizeof(k), "%zu", idx++);
            json_object_set_new(o, k, json_stringn_nocheck((const char *)s + i, l));
            i += l;
        }
    }
    return o;
}

/* multiples: false keeps the last element of every top-level array; an
 * empty one becomes undefined (the key is dropped, and dropped from
 * params too). */
static void last_values(json_t *fields, json_t *params)
{
    const char *k;
    json_t *v;
    void *tmp;

    json_object_foreach_safe(fields, tmp, k, v) {
        if (!json_is_array(v))
            continue;
        if (json_array_size(v) == 0) {
            json_object_del(params, k);
            json_object_del(fields, k);
        } else {
            json_object_set(fields, k, json_array_get(v, json_array_size(v) - 1));
        }
    }
}

static void random_name(char out[26])
{
    static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    int i;

    out[0] = alnum[randombytes_uniform(26)];
    for (i = 1; i < 25; i++)
        out[i] = alnum[randombytes_uniform(36)];
    out[25] = '\0';
}

/* The octet-stream plugin: the whole body as one file. */
static json_t *save_octet_stream(struct http_req *req, char *err, size_t errlen)
{
    struct http_cfg *cfg = &req->srv->cfg;
    const char *orig = hdr(req, "x-file-name");
    const char *mime = hdr(req, "content-type");
    char name[26], iso[40];
    struct buf path = BUF_INIT, fname = BUF_INIT;
    json_t *f = NULL;
    size_t off = 0;
    int fd;

    if (req->body.len == 0) {
        snprintf(err, errlen, "Error: options.allowEmptyFiles is false, file size should be greater than 0");
        return NULL;
    }
    if (req->body.len > cfg->form.max_file_size) {
        snprintf(err, errlen, "Error: options.maxFileSize (%zu bytes) exceeded, received %zu bytes of file data",
                 cfg->form.max_file_size, req->body.len);
        return NULL;
    }
    random_name(name);
    buf_adds(&fname, name);
    if (cfg->form.keep_extensions && orig) {
        const char *dot = strrchr(orig, '.');
        bool ok = dot && dot[1] != '\0';
        const char *c;

        for (c = dot ? dot + 1 : ""; ok && *c; c++)
            ok = isalnum((unsigned char)*c);
        if (ok)
            buf_adds(&fname, dot);
    }
    buf_addf(&path, "%s/%s", cfg->form.upload_dir ? cfg->form.upload_dir : "/tmp", fname.data);
    fd = open(path.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) {
        snprintf(err, errlen, "Error: %s, open '%s'", strerror(errno), path.data);
        goto out;
    }
    while (off < req->body.len) {
        ssize_t w = write(fd, req->body.data + off, req->body.len - off);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            snprintf(err, errlen, "Error: %s, write '%s'", strerror(errno), path.data);
            close(fd);
            unlink(path.data);
            goto out;
        }
        off += (size_t)w;
    }
    close(fd);
    core_iso_date(core_now_ms(), iso, sizeof(iso));
    f = json_object();
    json_object_set_new(f, "size", json_integer((json_int_t)req->body.len));
    json_object_set_new(f, "filepath", json_string(path.data));
    json_object_set_new(f, "newFilename", json_string(fname.data));
    if (mime) {
        json_t *m = json_string(mime);

        if (m)
            json_object_set_new(f, "mimetype", m);
    }
    json_object_set_new(f, "mtime", json_string(iso));
    if (orig) {
        json_t *o = json_string(orig);

        if (o)
            json_object_set_new(f, "originalFilename", o);
    }
out:
    buf_release(&path);
    buf_release(&fname);
    return f;
}

/* Parse the body per web.md §6.3; NEW fields and files; *err set on a
 * parse error (fields/files hold what was parsed). */
static void parse_body(struct http_req *req, json_t **fields, json_t **files, char *err, size_t errlen)
{
    struct http_cfg *cfg = &req->srv->cfg;

    *fields = NULL;
    *files = NULL;
    err[0] = '\0';
    if (req->has_content_length && req->parser_content_length == 0 && req->body_type != BT_MULTIPART) {
        /* formidable's dummy parser: nothing */
    } else {
        switch (req->body_type) {
        case BT_JSON: {
            json_error_t jerr;
            json_t *v;

            if (req->body.len > cfg->form.max_fields_size) {
                snprintf(err, errlen,
                         "Error: options.maxFieldsSize (%zu bytes) exceeded, received %zu bytes of field data",
                         cfg->form.max_fields_size, req->body.len);
                break;
            }
            v = core_json_parse(req->body.data ? req->body.data : "", req->body.len, &jerr);
            if (v == NULL) {
                snprintf(err, errlen, "SyntaxError: %s in JSON at position %d", jerr.text, jerr.position);
                break;
            }
            *fields = to_fields(v);
            json_decref(v);
            break;
        }
        case BT_URLENCODED:
            if (req->body.len > cfg->form.max_fields_size) {
                snprintf(err, errlen,
                         "Error: options.maxFieldsSize (%zu bytes) exceeded, received %zu bytes of field data",
                         cfg->form.max_fields_size, req->body.len);
                break;
            }
            *fields = query_parse_form(req->body.data ? req->body.data : "", req->body.len, cfg->form.multiples,
                                       cfg->form.max_fields);
            if (*fields == NULL)
                snprintf(err, errlen, "Error: options.maxFields (%zu) exceeded", cfg->form.max_fields);
            break;
        case BT_MULTIPART:
            if (req->mp == NULL) {
                snprintf(err, errlen, "Error: %s", req->mp_error[0] ? req->mp_error : "bad multipart request");
                break;
            }
            /* on an error, what was parsed is still used (web.md §6.3) */
            if (multipart_finish(req->mp, fields, files) < 0 || req->mp_failed)
                snprintf(err, errlen, "Error: %s",
                         multipart_error(req->mp) ? multipart_error(req->mp) : "bad multipart body");
            break;
        case BT_OCTET: {
            json_t *f = save_octet_stream(req, err, errlen);

            if (f) {
                *files = json_object();
                if (cfg->form.multiples) {
                    json_t *a = json_array();

                    json_array_append_new(a, f);
                    json_object_set_new(*files, "file", a);
                } else {
                    json_object_set_new(*files, "file", f);
                }
            }
            break;
        }
        case BT_NONE:
            snprintf(err, errlen, "Error: no parser found");
            break;
        }
    }
    if (*fields == NULL)
        *fields = json_object();
    if (*files == NULL)
        *files = json_object();
}

/* ------------------------------------------------------------ pipeline */

/* Keep at most 63 bytes of a fingerprint (valid UTF-8, so that it renders
 * in JSON), cut on a character. */
static void set_fingerprint(struct http_req *req, const char *fp, size_t fpl)
{
    if (fpl >= sizeof(req->fingerprint)) {
        fpl = sizeof(req->fingerprint) - 1;
        while (fpl > 0 && ((unsigned char)fp[fpl] & 0xC0) == 0x80)
            fpl--;
    }
    memcpy(req->fingerprint, fp, fpl);
    req->fingerprint[fpl] = '\0';
}

static void fingerprint(struct http_req *req)
{
    struct http_cfg *cfg = &req->srv->cfg;
    size_t n = 0;
    const char *cookie = http_req_header(req, "cookie", &n);
    const char *fp, *h;
    size_t fpl;

    req->new_fingerprint = false;
    req->set_cookie_len = 0;
    if (cookie && http_cookie_value(cookie, n, cfg->cookie_key, &fp, &fpl) && core_utf8_valid(fp, fpl)) {
        set_fingerprint(req, fp, fpl);
        return;
    }
    /* the exact cookieKey as a header name: names are lower-cased, so only
     * a lower-case key can match (connection.md §2.1 quirk) */
    if (strcmp(cfg->cookie_key, cfg->cookie_key_lower) == 0 && (h = hdr(req, cfg->cookie_key_lower)) != NULL &&
        core_utf8_valid(h, strlen(h))) {
        set_fingerprint(req, h, strlen(h));
        return;
    }
    if ((h = hdr(req, cfg->cookie_header)) != NULL && core_utf8_valid(h, strlen(h))) {
        set_fingerprint(req, h, strlen(h));
        return;
    }
    http_random_fingerprint(req->srv, req->fingerprint);
    req->new_fingerprint = true;
    if (cfg->to_set_cookie) {
        struct http_server *srv = req->srv;
        size_t kl = strlen(cfg->cookie_key);
        uint64_t now = core_now_ms();
        struct buf *sfx = &srv->cookie_suffix;

        /* "<key>=" + fp + the settings part, which only changes with the
         * second of its expiry date */
        if (now / 1000 != srv->cookie_sec || sfx->data == NULL) {
            struct buf b = BUF_INIT;

            srv->cookie_sec = now / 1000;
            http_fingerprint_cookie(cfg->cookie_key, "", cfg->cookie_settings, now, &b);
            buf_reset(sfx);
            buf_add(sfx, b.data + kl + 1, b.len - kl - 1);
            if (!hdr_valid_value(sfx->data, sfx->len))
                buf_reset(sfx);
            buf_release(&b);
        }
        if (kl + 1 + 40 + sfx->len < sizeof(req->set_cookie) && hdr_valid_name(cfg->cookie_key, kl)) {
            char *p = req->set_cookie;

            memcpy(p, cfg->cookie_key, kl);
            p[kl] = '=';
            memcpy(p + kl + 1, req->fingerprint, 40);
            memcpy(p + kl + 41, sfx->data ? sfx->data : "", sfx->len);
            req->set_cookie_len = kl + 41 + sfx->len;
            p[req->set_cookie_len] = '\0';
        }
    }
}

/* web.md §3 step 5: answer 302 when the origin is not allowed. */
static bool redirect_if_not_allowed(struct http_req *req)
{
    struct http_cfg *cfg = &req->srv->cfg;
    const char *proto = hdr(req, "x-forwarded-proto");
    const char *host = hdr(req, "host");
    struct buf origin = BUF_INIT, lines = BUF_INIT, body = BUF_INIT;
    size_t i;
    bool allowed = false;

    if (cfg->n_allowed_hosts == 0)
        return false;
    if (proto)
        buf_addf(&origin, "%s://%s", proto, host ? host : "undefined");
    else
        buf_addf(&origin, "%s://%s", cfg->secure ? "https" : "http", host ? host : "undefined");
    for (i = 0; i < cfg->n_allowed_hosts && !allowed; i++)
        allowed = strcmp(cfg->allowed_hosts[i], origin.data) == 0;
    buf_release(&origin);
    if (allowed)
        return false;
    buf_addf(&lines, "Location: %s%s\r\n", cfg->allowed_hosts[0], req->url.data ? req->url.data : "");
    buf_addf(&body, "You are being redirected to %s%s\r\n", cfg->allowed_hosts[0],
             req->url.data ? req->url.data : "");
    if (!hdr_valid_value(lines.data, lines.len - 2)) {
        buf_reset(&lines);
        buf_addf(&lines, "Location: %s\r\n", cfg->allowed_hosts[0]);
    }
    http_write_response(req, 302, lines.data, lines.len, body.data, body.len, -1, false);
    buf_release(&lines);
    buf_release(&body);
    return true;
}

static void form_error(struct http_req *req, const char *text)
{
    ah_connection_t *c = req->conn;

    log_error("[server: web] error processing form: %s", text);
    json_decref(c->error);
    c->error = json_string("There was an error processing this form.");
}

/* api and trace mode: web.md §6.1 */
static void api_params(struct http_req *req)
{
    struct http_cfg *cfg = &req->srv->cfg;
    ah_connection_t *c = req->conn;
    json_t *q;

    if (req->query && req->query_len > 0) {
        q = query_parse_qs(req->query, req->query_len, &cfg->qs);
        http_fill_params(c->params, q);
        json_decref(q);
    }
    if (req->want_body) {
        json_t *fields, *files;
        char err[512];

        {
            parse_body(req, &fields, &files, err, sizeof(err));
            if (err[0])
                form_error(req, err);
            if (req->body_type == BT_JSON && !cfg->form.multiples)
                last_values(fields, c->params);
            http_fill_params(c->params, files);
            http_fill_params(c->params, fields);
            req->body_fields = fields; /* kept for rawConnection.params */
            req->body_files = files;
        }
    }
    json_object_set_new(c->params, "action", json_null());
}

/* api.routes.processRoute */
static void process_route(struct http_req *req)
{
    ah_connection_t *c = req->conn;
    char method[24];
    const struct route *r;
    json_t *vars = NULL;
    json_t *action = json_object_get(c->params, "action");
    size_t i;

    /* runs when params.action is undefined or not a known action */
    if (json_is_string(action) && dispatch_find(c->app, json_string_value(action), NULL) != NULL)
        return;
    for (i = 0; req->method_str[i] && i < sizeof(method) - 1; i++)
        method[i] = (char)tolower((unsigned char)req->method_str[i]);
    method[i] = '\0';
    r = routes_match_parts(c->app, method, req->parts + req->prefix_n, req->n_parts - req->prefix_n, &vars);
    if (r == NULL)
        return;
    {
        json_t *ver = routes_api_version(r);
        const char *k;
        json_t *v;

        if (core_truthy(ver) && !core_truthy(json_object_get(c->params, "apiVersion")))
            json_object_set(c->params, "apiVersion", ver);
        json_object_foreach(vars, k, v) json_object_set(c->params, k, v);
    }
    json_decref(vars);
    json_decref(c->matched_route);
    c->matched_route = json_incref(r->json);
    if (r->dir) {
        /* path.normalize(dir + "/" + pathname.substring(route.path.length)) */
        struct buf joined = BUF_INIT, norm = BUF_INIT;
        size_t pl = strlen(r->path);

        buf_adds(&joined, r->dir);
        buf_addc(&joined, '/');
        if (pl < req->path.len)
            buf_add(&joined, req->path.data + pl, req->path.len - pl);
        http_path_normalize(joined.data, joined.len, &norm);
        json_object_set_new(c->params, "file", json_stringn_nocheck(norm.data, norm.len));
        buf_release(&joined);
        buf_release(&norm);
    } else if (r->action) {
        json_object_set_new(c->params, "action", json_string(r->action));
    }
}

static void on_action_done(ah_ctx_t *ctx, void *arg)
{
    struct http_req *req = arg;

    req->action_done = true;
    if (req->response_done)
        return; /* the action answered itself (sendMessage, sendFile, pipe) */
    if (!ctx->to_render)
        return; /* its own response will finish the request (or the socket closes) */
    if (req->file)
        return;
    http_render_action(req, ctx);
}

static void file_mode(struct http_req *req)
{
    ah_connection_t *c = req->conn;
    struct http_cfg *cfg = &req->srv->cfg;
    json_t *f;
    struct buf file = BUF_INIT, dec = BUF_INIT;

    process_route(req);
    f = json_object_get(c->params, "file");
    if (core_truthy(f) && json_is_string(f)) {
        buf_add(&file, json_string_value(f), json_string_length(f));
    } else {
        size_t i;

        for (i = req->prefix_n; i < req->n_parts; i++) {
            if (i > req->prefix_n)
                buf_addc(&file, '/');
            buf_add(&file, req->parts[i].p, req->parts[i].n);
        }
    }
    if (file.len == 0 || file.data[file.len - 1] == '/')
        buf_adds(&file, cfg->directory_file_type);
    if (query_unescape(&dec, file.data, file.len, false, true) == 0) {
        json_t *s = json_stringn(dec.data ? dec.data : "", dec.len);

        /* a NUL or invalid UTF-8 cannot name a file: keep the text as is */
        if (s == NULL || memchr(dec.data ? dec.data : "", '\0', dec.len) != NULL) {
            json_decref(s);
            s = json_stringn_nocheck("\0", 1);
        }
        json_object_set_new(c->params, "file", s);
    } else {
        json_decref(c->error);
        c->error = json_string("There was an error decoding URI: URIError: URI malformed");
        json_object_set_new(c->params, "file", json_stringn_nocheck(file.data, file.len));
    }
    buf_release(&file);
    buf_release(&dec);
    http_static_send(req);
}

void http_request_run(struct http_req *req)
{
    struct http_server *srv = req->srv;
    struct http_client *cl = req->client;
    struct conn_init init;
    struct remote_addr ra;
    ah_connection_t *c;
    char id[128];
    int rc;

    req->start_ms = core_now_ms();
    req->status = 200;
    if (req->mode == MODE_WS) {
        http_ws_answer(req);
        return;
    }
    fingerprint(req);
    http_resp_init(req);
    if (redirect_if_not_allowed(req))
        return;
    if (http_remote_addr(hdr(req, "x-forwarded-for"), hdr(req, "x-forwarded-port"), hdr(req, "x-real-ip"), &ra) <
        0) {
        static const char body[] = "{\"error\":\"failed to parse address\"}";

        req->status = 400;
        http_resp_message(req, body, sizeof(body) - 1);
        return;
    }
    if (!ra.have_ip)
        core_strlcpy(ra.ip, cl && cl->peer_ip[0] ? cl->peer_ip : "0.0.0.0", sizeof(ra.ip));
    if (!ra.have_port) {
        if (cl && cl->has_peer_port) {
            core_strlcpy(ra.port, cl->peer_port, sizeof(ra.port));
            ra.port_is_string = false;
        } else {
            core_strlcpy(ra.port, "0", sizeof(ra.port));
            ra.port_is_string = true;
        }
    }
    http_random_uuid(req->srv, req->message_id);
    {
        size_t fl = core_strlcpy(id, req->fingerprint, sizeof(id));

        if (fl < sizeof(id) - 1) {
            id[fl] = '-';
            core_strlcpy(id + fl + 1, req->message_id, sizeof(id) - fl - 1);
        }
    }
    memset(&init, 0, sizeof(init));
    init.id = id;
    init.fingerprint = req->fingerprint;
    init.message_id = req->message_id;
    init.remote_ip = ra.ip;
    init.remote_port = ra.port;
    init.remote_port_is_string = ra.port_is_string;
    init.raw = req;
    c = conn_new(srv->app, &http_server_type, &init);
    req->conn = c;
    http_req_ref(req); /* released by the server type's release hook */
    if (conn_start(c) < 0 || c->destroyed) {
        static const char body[] = "{\"error\":\"the connection was refused\"}";

        req->status = 500;
        http_resp_message(req, body, sizeof(body) - 1);
        return;
    }
    /* connection.extension: after the last '.' of the whole pathname */
    {
        const char *dot = memrchr(req->path.data, '.', req->path.len);

        if (dot) {
            free(c->extension);
            c->extension = xstrndup(dot + 1, req->path.len - (size_t)(dot + 1 - req->path.data));
        }
    }
    switch (req->mode) {
    case MODE_OPTIONS:
        http_respond_options(req);
        return;
    case MODE_FILE:
        file_mode(req);
        return;
    case MODE_API:
    case MODE_TRACE:
        api_params(req);
        process_route(req);
        if (req->mode == MODE_TRACE) {
            http_respond_trace(req);
            return;
        }
        break;
    default:
        return;
    }
    req->dispatched = true;
    {
        struct dispatch_extra extra = {req->method_str, req->path.data};

        rc = dispatch_action_ex(c, NULL, NULL, NULL, &extra, on_action_done, req);
    }
    if (rc < 0) {
        struct buf b = BUF_INIT;

        buf_addf(&b, "{\"error\":\"%s\"}", ah_strerror(rc));
        req->status = 500;
        http_resp_message(req, b.data, b.len);
        buf_release(&b);
    }
}

/* ------------------------------------------------------------ reset */

void http_req_clear(struct http_req *req)
{
    if (req->file)
        http_static_abort(req);
    if (req->mp) {
        multipart_free(req->mp);
        req->mp = NULL;
    }
    req->mp_failed = false;
    req->mp_error[0] = '\0';
    json_decref(req->cookies);
    req->cookies = NULL;
    json_decref(req->raw_params);
    req->raw_params = NULL;
    json_decref(req->body_fields);
    req->body_fields = NULL;
    json_decref(req->body_files);
    req->body_files = NULL;
    buf_reset(&req->url);
    buf_reset(&req->hbuf);
    buf_reset(&req->path);
    if (req->body.cap > 64 * 1024)
        buf_release(&req->body);
    else
        buf_reset(&req->body);
    if (req->url.cap > 16 * 1024)
        buf_release(&req->url);
    if (req->hbuf.cap > 32 * 1024)
        buf_release(&req->hbuf);
    req->n_hdrs = 0;
    req->n_parts = 0;
    req->prefix_n = 0;
    req->query = NULL;
    req->query_len = 0;
    req->mode = MODE_NONE;
    req->body_kind = BODY_DISCARD;
    req->body_type = 0;
    req->want_body = false;
    req->keep_alive = false;
    req->upgrade = false;
    req->has_content_length = false;
    req->parser_content_length = 0;
    req->conn = NULL;
    req->status = 200;
    req->rh.n = 0;
    req->res_headers.n = 0;
    req->custom_headers = false;
    harena_reset(&req->arena);
    req->response_started = false;
    req->response_done = false;
    req->finished_reported = false;
    req->dispatched = false;
    req->action_done = false;
    req->new_fingerprint = false;
    req->set_cookie_len = 0;
}
