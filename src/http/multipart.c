/*
 * multipart.c - streaming multipart/form-data (web.md §6.3), with the
 * semantics of formidable 3.5 as Actionhero 29 uses it.
 *
 * Framing follows formidable's MultipartParser state machine, so the same
 * bodies are accepted and refused: the body must begin with "--boundary"
 * (or have CRLF before it); part headers are "Name: value" lines whose names
 * hold only letters and '-'; a part ends at CRLF "--boundary" followed by
 * CRLF (next part) or "--" (the end); anything after the end is ignored.
 * At end of input, a body that stops right after a boundary line, or after
 * "CRLF--boundary" in part data, is accepted as complete, like formidable.
 *
 * A part is a file when it has a non-empty Content-Type (formidable's
 * `part.mimetype`), whether or not it has a filename; otherwise it is a
 * field.  Names and filenames are taken from Content-Disposition with
 * formidable's two regular expressions (filename*= is not read, as in
 * formidable), re-implemented by hand below.
 *
 * Files are written with plain write(2) on the calling (loop) thread, from a
 * 64 KiB buffer per file, and closed at the end of their part.  On a local
 * disk these writes land in the page cache and do not block for long; an
 * upload directory on a slow network filesystem would stall the loop.
 * Every file this parser created is removed if the parse fails, and by
 * multipart_free() if multipart_finish() never succeeded.
 *
 * Deviations from formidable (each a bug or an unbounded buffer there):
 * part headers are limited to MP_MAX_HEADER bytes; max_fields counts files
 * as well as fields; base64 parts are decoded as a stream (formidable
 * mangles line-wrapped base64 and re-encodes base64 fields); a field sent
 * with Content-Transfer-Encoding 7bit/8bit is read as UTF-8 (formidable
 * throws); a field named "__proto__" is dropped (in formidable it sets the
 * prototype of the fields object and disappears; a file of that name is
 * removed); without multiples, files replaced by a later one of the same
 * name are removed (formidable leaves them on disk, unreported).
 */
#include "http/multipart.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <uv.h>

#include "core/core.h"
#include "core/json_out.h"
#include "http/query.h"

#define MP_MAX_BOUNDARY 256       /* RFC 2046 allows 70 */
#define MP_MAX_HEADER   16384     /* header bytes of one part */
#define MP_WRITE_BUF    65536
#define MP_NAME_LEN     25

enum state {
    S_START,
    S_START_BOUNDARY,
    S_HEADER_FIELD_START,
    S_HEADER_FIELD,
    S_HEADER_VALUE_START,
    S_HEADER_VALUE,
    S_HEADER_VALUE_ALMOST_DONE,
    S_HEADERS_ALMOST_DONE,
    S_PART_DATA_START,
    S_PART_DATA,
    S_END,
};

/* formidable's names, for "stream ended unexpectedly: state = ..." */
static const char *const state_names[] = {
    "START", "START_BOUNDARY", "HEADER_FIELD_START", "HEADER_FIELD",
    "HEADER_VALUE_START", "HEADER_VALUE", "HEADER_VALUE_ALMOST_DONE",
    "HEADERS_ALMOST_DONE", "PART_DATA_START", "PART_DATA", "END",
};

enum { F_PART = 1, F_LAST = 2 };

enum te { TE_UTF8, TE_BINARY, TE_BASE64, TE_UNKNOWN };

struct part {
    bool active;            /* headers done, data is being routed */
    char *name;             /* NULL: no name= (formidable's null -> "null") */
    char *filename;         /* NULL: no filename= */
    char *mimetype;         /* NULL or "" -> a field */
    enum te te;
    bool is_file;
    struct buf value;       /* field bytes */
    /* file */
    int fd;
    char *filepath, *newname;
    size_t size;
    uint64_t mtime_ms;
    char wbuf[MP_WRITE_BUF];
    size_t wlen;
    /* base64 */
    uint32_t b64acc;
    int b64bits;
    bool b64done;
};

struct multipart {
    struct multipart_opts opts;
    char *upload_dir;
    char *boundary;         /* "\r\n--" + boundary */
    size_t blen;
    enum state state;
    long index;
    int flags;
    char *lookbehind;
    struct buf hfield, hvalue;
    size_t header_bytes;
    struct part part;
    json_t *fields, *files;         /* name -> array, in order */
    size_t fields_size, total_file_size, count;
    char **created;                 /* files we made, removed on failure */
    size_t ncreated, capcreated;
    int rc;                         /* 0 or the error code */
    char err[512];
    bool finished;
};

/* ------------------------------------------------------------ helpers */

static int fail(struct multipart *mp, int rc, const char *fmt, ...) AH_PRINTF(3, 4);

static int fail(struct multipart *mp, int rc, const char *fmt, ...)
{
    va_list ap;

    if (mp->rc)
        return mp->rc;
    va_start(ap, fmt);
    vsnprintf(mp->err, sizeof(mp->err), fmt, ap);
    va_end(ap);
    mp->rc = rc;
    return rc;
}

static int fail_unexpected(struct multipart *mp)
{
    return fail(mp, AH_EINVAL, "MultipartParser.end(): stream ended unexpectedly: state = %s",
                state_names[mp->state]);
}

/* Node's fs error text: "ENOENT: no such file or directory, open '<path>'". */
static int fail_errno(struct multipart *mp, int err, const char *syscall, const char *path)
{
    int code = uv_translate_sys_error(err);

    if (path)
        return fail(mp, code, "%s: %s, %s '%s'", uv_err_name(code), uv_strerror(code), syscall,
                    path);
    return fail(mp, code, "%s: %s, %s", uv_err_name(code), uv_strerror(code), syscall);
}

static bool is_word(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* JS \s (WhiteSpace and LineTerminator) at s, as a byte length, else 0. */
static size_t js_space(const unsigned char *s, size_t n)
{
    if (n >= 1 && (s[0] == ' ' || (s[0] >= 0x09 && s[0] <= 0x0D)))
        return 1;
    if (n >= 2 && s[0] == 0xC2 && s[1] == 0xA0)
        return 2;
    if (n >= 3 && s[0] == 0xE1 && s[1] == 0x9A && s[2] == 0x80)
        return 3;
    if (n >= 3 && s[0] == 0xE2 && s[1] == 0x80 &&
        ((s[2] >= 0x80 && s[2] <= 0x8A) || s[2] == 0xA8 || s[2] == 0xA9 || s[2] == 0xAF))
        return 3;
    if (n >= 3 && s[0] == 0xE2 && s[1] == 0x81 && s[2] == 0x9F)
        return 3;
    if (n >= 3 && s[0] == 0xE3 && s[1] == 0x80 && s[2] == 0x80)
        return 3;
    if (n >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF)
        return 3;
    return 0;
}

/* JS LineTerminator ('.' does not match these). */
static size_t js_line_end(const unsigned char *s, size_t n)
{
    if (n >= 1 && (s[0] == '\n' || s[0] == '\r'))
        return 1;
    if (n >= 3 && s[0] == 0xE2 && s[1] == 0x80 && (s[2] == 0xA8 || s[2] == 0xA9))
        return 3;
    return 0;
}

/* Does s start with lit (lower-case), ASCII letters compared without case? */
static bool ci_prefix(const char *s, size_t n, const char *lit)
{
    size_t i, l = strlen(lit);

    if (n < l)
        return false;
    for (i = 0; i < l; i++) {
        char c = s[i];

        if (c >= 'A' && c <= 'Z')
            c = (char)(c | 0x20);
        if (c != lit[i])
            return false;
    }
    return true;
}

/* A token character of formidable's filename regex:
 * [^()<>{}[\]@,;:"?=\s/\t]  (returns its byte length, 0 if excluded). */
static size_t token_char(const unsigned char *s, size_t n, const char *excluded)
{
    if (s[0] != '\0' && strchr(excluded, s[0]))
        return 0;
    if (js_space(s, n))
        return 0;
    if (s[0] < 0x80)
        return 1;
    return s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : 2;    /* valid UTF-8 here */
}

static size_t fn_token(const unsigned char *s, size_t n)
{
    return token_char(s, n, "()<>{}[]@,;:\"?=/");
}

/* ... and of the name regex: [^\(\)<>@,;:\\"\/\[\]\?=\{\}\s\t/] */
static size_t name_token(const unsigned char *s, size_t n)
{
    return token_char(s, n, "()<>@,;:\\\"/[]?={}");
}

/* /\bname=("([^"]*)"|(token+))/i on a header value (valid UTF-8).
 * Returns a new string or NULL when there is no match. */
static char *match_name(const char *v, size_t n)
{
    const unsigned char *u = (const unsigned char *)v;
    size_t p, q, k, t;

    for (p = 0; p + 5 <= n; p++) {
        if (p > 0 && is_word(u[p - 1]))
            continue;
        if (!ci_prefix(v + p, n - p, "name="))
            continue;
        q = p + 5;
        if (q < n && v[q] == '"') {
            const char *end = memchr(v + q + 1, '"', n - q - 1);

            if (end)
                return xstrndup(v + q + 1, (size_t)(end - (v + q + 1)));
        }
        for (k = q; k < n && (t = name_token(u + k, n - k)) > 0; k += t)
            ;
        if (k > q)
            return xstrndup(v + q, k - q);
    }
    return NULL;
}

/* After a filename value: end of string, or ';' then a \s character. */
static bool fn_tail(const unsigned char *u, size_t n, size_t at)
{
    return at == n || (u[at] == ';' && at + 1 < n && js_space(u + at + 1, n - at - 1));
}

/* formidable's _getFileName:
 * /\bfilename=("(.*?)"|([^()<>{}[\]@,;:"?=\s/\t]+))($|;\s)/i, then the
 * text after the last '\', %22 -> '"', &#DDDD; -> that character. */
static char *match_filename(const char *v, size_t n)
{
    const unsigned char *u = (const unsigned char *)v;
    size_t p, q, k, t, ms = 0, ml = 0;
    bool found = false;
    struct buf out = BUF_INIT, tmp = BUF_INIT;
    const char *m, *bs;

    for (p = 0; p + 9 <= n && !found; p++) {
        if (p > 0 && is_word(u[p - 1]))
            continue;
        if (!ci_prefix(v + p, n - p, "filename="))
            continue;
        q = p + 9;
        if (q < n && v[q] == '"') {
            /* lazy (.*?): the first '"' followed by the tail, without
             * crossing a line terminator */
            for (k = q + 1; k < n; k++) {
                if (js_line_end(u + k, n - k))
                    break;
                if (v[k] == '"' && fn_tail(u, n, k + 1)) {
                    ms = q + 1;
                    ml = k - (q + 1);
                    found = true;
                    break;
                }
            }
            if (found)
                break;
        }
        for (k = q; k < n && (t = fn_token(u + k, n - k)) > 0; k += t)
            ;
        if (k > q && fn_tail(u, n, k)) {
            ms = q;
            ml = k - q;
            found = true;
            break;
        }
    }
    if (!found)
        return NULL;
    m = v + ms;
    for (bs = m + ml; bs > m && bs[-1] != '\\'; bs--)
        ;
    ml -= (size_t)(bs - m);
    m = bs;
    buf_init(&tmp);
    for (k = 0; k < ml; k++) {
        if (m[k] == '%' && k + 2 < ml && m[k + 1] == '2' && m[k + 2] == '2') {
            buf_addc(&tmp, '"');
            k += 2;
        } else {
            buf_addc(&tmp, m[k]);
        }
    }
    buf_init(&out);
    for (k = 0; k < tmp.len; k++) {
        const char *s = tmp.data + k;

        if (s[0] == '&' && k + 6 < tmp.len && s[1] == '#' && s[2] >= '0' && s[2] <= '9' &&
            s[3] >= '0' && s[3] <= '9' && s[4] >= '0' && s[4] <= '9' && s[5] >= '0' &&
            s[5] <= '9' && s[6] == ';') {
            unsigned cp = (unsigned)((s[2] - '0') * 1000 + (s[3] - '0') * 100 +
                                     (s[4] - '0') * 10 + (s[5] - '0'));

            if (cp < 0x80) {
                buf_addc(&out, (char)cp);
            } else if (cp < 0x800) {
                buf_addc(&out, (char)(0xC0 | cp >> 6));
                buf_addc(&out, (char)(0x80 | (cp & 0x3F)));
            } else {
                buf_addc(&out, (char)(0xE0 | cp >> 12));
                buf_addc(&out, (char)(0x80 | ((cp >> 6) & 0x3F)));
                buf_addc(&out, (char)(0x80 | (cp & 0x3F)));
            }
            k += 6;
        } else {
            buf_addc(&out, s[0]);
        }
    }
    buf_release(&tmp);
    return buf_detach(&out, NULL);
}

/* Node's path.extname on a basename (no '/'). */
static size_t extname(const char *b, size_t n, size_t *start)
{
    long i, start_dot = -1, end = -1;
    int pre_dot = 0;

    for (i = (long)n - 1; i >= 0; i--) {
        if (end == -1)
            end = i + 1;
        if (b[i] == '.') {
            if (start_dot == -1)
                start_dot = i;
            else if (pre_dot != 1)
                pre_dot = 1;
        } else if (start_dot != -1) {
            pre_dot = -1;
        }
    }
    if (start_dot == -1 || end == -1 || pre_dot == 0 ||
        (pre_dot == 1 && start_dot == end - 1 && start_dot == 1))
        return 0;
    *start = (size_t)start_dot;
    return (size_t)(end - start_dot);
}

/* formidable's _getExtension (keepExtensions): "a.b.c" -> ".b.c", cut at
 * the first character outside [.0-9A-Za-z], "." alone -> "". */
static void get_extension(const char *name, struct buf *out)
{
    const char *b;
    size_t n, first, last, i, es = 0, el;

    if (name == NULL || *name == '\0')
        return;
    n = strlen(name);
    while (n > 1 && name[n - 1] == '/')     /* path.basename drops trailing '/' */
        n--;
    for (b = name + n; b > name && b[-1] != '/'; b--)
        ;
    n -= (size_t)(b - name);
    first = last = n;
    for (i = 0; i < n; i++)
        if (b[i] == '.') {
            if (first == n)
                first = i;
            last = i;
        }
    el = extname(b, n, &es);
    if (first != last) {
        es = first;
        el = n - first;
    }
    for (i = 0; i < el; i++) {
        char c = b[es + i];

        if (!(c == '.' || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
              (c >= 'a' && c <= 'z')))
            break;
    }
    if (i == 1 && b[es] == '.')
        return;
    buf_add(out, b + es, i);
}

/* path.resolve(dir): absolute, no "." / ".." / "//", no trailing '/'. */
static char *resolve_dir(const char *dir)
{
    struct buf in = BUF_INIT, out = BUF_INIT;
    char cwd[PATH_MAX];
    const char *p, *e;

    buf_init(&in);
    buf_init(&out);
    if (dir == NULL || *dir == '\0')
        dir = "/tmp";
    if (dir[0] != '/' && getcwd(cwd, sizeof(cwd)))
        buf_addf(&in, "%s/", cwd);
    buf_adds(&in, dir);
    for (p = in.data; *p; p = e) {
        while (*p == '/')
            p++;
        for (e = p; *e && *e != '/'; e++)
            ;
        if (e == p || (e - p == 1 && p[0] == '.'))
            continue;
        if (e - p == 2 && p[0] == '.' && p[1] == '.') {
            while (out.len > 0 && out.data[out.len - 1] != '/')
                out.len--;
            if (out.len > 0)
                out.len--;
            out.data[out.len] = '\0';
            continue;
        }
        buf_addc(&out, '/');
        buf_add(&out, p, (size_t)(e - p));
    }
    if (out.len == 0)
        buf_addc(&out, '/');
    buf_release(&in);
    return buf_detach(&out, NULL);
}

/* ------------------------------------------------------------- parts */

static void part_reset(struct part *pt)
{
    free(pt->name);
    free(pt->filename);
    free(pt->mimetype);
    free(pt->filepath);
    free(pt->newname);
    buf_release(&pt->value);
    if (pt->fd >= 0)
        close(pt->fd);
    memset(pt, 0, offsetof(struct part, wbuf));
    pt->fd = -1;
    pt->wlen = 0;
    pt->b64acc = 0;
    pt->b64bits = 0;
    pt->b64done = false;
    buf_init(&pt->value);
}

static void add_value(json_t *obj, const char *name, json_t *v)
{
    json_t *a;

    if (strcmp(name, "__proto__") == 0) {
        json_decref(v);
        return;
    }
    a = json_object_get(obj, name);
    if (a == NULL) {
        a = json_array();
        json_object_set_new(obj, name, a);
    }
    json_array_append_new(a, v);
}

static int count_one(struct multipart *mp)
{
    if (++mp->count > mp->opts.max_fields)
        return fail(mp, AH_ELIMIT, "options.maxFields (%zu) exceeded", mp->opts.max_fields);
    return 0;
}

static int flush_file(struct multipart *mp)
{
    struct part *pt = &mp->part;
    size_t off = 0;

    while (off < pt->wlen) {
        ssize_t w = write(pt->fd, pt->wbuf + off, pt->wlen - off);

        if (w < 0) {
            if (errno == EINTR)
                continue;
            return fail_errno(mp, errno, "write", NULL);
        }
        off += (size_t)w;
    }
    if (pt->wlen)
        pt->mtime_ms = core_now_ms();
    pt->wlen = 0;
    return 0;
}

static void random_name(char out[MP_NAME_LEN + 1])
{
    static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    int i;

    /* Like cuid2: a letter first, then letters and digits. */
    out[0] = alnum[randombytes_uniform(26)];
    for (i = 1; i < MP_NAME_LEN; i++)
        out[i] = alnum[randombytes_uniform(36)];
    out[MP_NAME_LEN] = '\0';
}

static int open_file(struct multipart *mp)
{
    struct part *pt = &mp->part;
    struct buf name = BUF_INIT;
    char rnd[MP_NAME_LEN + 1];
    int tries;

    for (tries = 0; tries < 5; tries++) {
        buf_init(&name);
        random_name(rnd);
        buf_adds(&name, rnd);
        if (mp->opts.keep_extensions)
            get_extension(pt->filename, &name);
        pt->newname = buf_detach(&name, NULL);
        pt->filepath = xasprintf("%s%s%s", mp->upload_dir,
                                 strcmp(mp->upload_dir, "/") == 0 ? "" : "/", pt->newname);
        pt->fd = open(pt->filepath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666);
        if (pt->fd >= 0)
            break;
        if (errno != EEXIST)
            return fail_errno(mp, errno, "open", pt->filepath);
        free(pt->newname);
        free(pt->filepath);
        pt->newname = pt->filepath = NULL;
    }
    if (pt->fd < 0)
        return fail_errno(mp, EEXIST, "open", "(random name)");
    if (mp->ncreated == mp->capcreated) {
        mp->capcreated = mp->capcreated ? mp->capcreated * 2 : 4;
        mp->created = xrealloc(mp->created, mp->capcreated * sizeof(*mp->created));
    }
    mp->created[mp->ncreated++] = xstrdup(pt->filepath);
    return 0;
}

/* Content-Disposition and friends, at the end of each header line. */
static int header_end(struct multipart *mp)
{
    struct part *pt = &mp->part;
    struct buf v = BUF_INIT;
    size_t i;

    buf_init(&v);
    for (i = 0; i < mp->hfield.len; i++)
        mp->hfield.data[i] = (char)(mp->hfield.data[i] | 0x20);
    query_utf8_sanitize(&v, mp->hvalue.data, mp->hvalue.len);
    if (strcmp(mp->hfield.data, "content-disposition") == 0) {
        char *name = match_name(v.data, v.len);

        if (name) {
            free(pt->name);
            pt->name = name;
        }
        free(pt->filename);
        pt->filename = match_filename(v.data, v.len);
    } else if (strcmp(mp->hfield.data, "content-type") == 0) {
        free(pt->mimetype);
        pt->mimetype = xstrndup(v.data, v.len);
    } else if (strcmp(mp->hfield.data, "content-transfer-encoding") == 0) {
        for (i = 0; i < v.len; i++)
            if (v.data[i] >= 'A' && v.data[i] <= 'Z')
                v.data[i] = (char)(v.data[i] | 0x20);
        if (strcmp(v.data, "binary") == 0)
            pt->te = TE_BINARY;
        else if (strcmp(v.data, "7bit") == 0 || strcmp(v.data, "8bit") == 0 ||
                 strcmp(v.data, "utf-8") == 0)
            pt->te = TE_UTF8;
        else if (strcmp(v.data, "base64") == 0)
            pt->te = TE_BASE64;
        else
            pt->te = TE_UNKNOWN;
    }
    buf_release(&v);
    buf_reset(&mp->hfield);
    buf_reset(&mp->hvalue);
    return 0;
}

static int headers_end(struct multipart *mp)
{
    struct part *pt = &mp->part;

    if (pt->te == TE_UNKNOWN)
        return fail(mp, AH_EINVAL, "unknown transfer-encoding");
    pt->active = true;
    pt->is_file = pt->mimetype && pt->mimetype[0];
    if (!pt->is_file)
        return 0;
    if (count_one(mp) < 0)
        return mp->rc;
    return open_file(mp);
}

/* Decoded part bytes. */
static int part_bytes(struct multipart *mp, const char *p, size_t n)
{
    struct part *pt = &mp->part;

    if (n == 0)
        return 0;
    if (!pt->is_file) {
        mp->fields_size += n;
        if (mp->fields_size > mp->opts.max_fields_size)
            return fail(mp, AH_ELIMIT,
                        "options.maxFieldsSize (%zu bytes) exceeded, received %zu bytes of field data",
                        mp->opts.max_fields_size, mp->fields_size);
        buf_add(&pt->value, p, n);
        return 0;
    }
    mp->total_file_size += n;
    if (mp->total_file_size > mp->opts.max_file_size)
        return fail(mp, AH_ELIMIT,
                    "options.maxTotalFileSize (%zu bytes) exceeded, received %zu bytes of file data",
                    mp->opts.max_file_size, mp->total_file_size);
    pt->size += n;
    while (n > 0) {
        size_t k = MP_WRITE_BUF - pt->wlen;

        if (k > n)
            k = n;
        memcpy(pt->wbuf + pt->wlen, p, k);
        pt->wlen += k;
        p += k;
        n -= k;
        if (pt->wlen == MP_WRITE_BUF && flush_file(mp) < 0)
            return mp->rc;
    }
    return 0;
}

static int b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

/* Raw part data (transfer-encoded). */
static int part_data(struct multipart *mp, const char *p, size_t n)
{
    struct part *pt = &mp->part;
    char out[192];
    size_t i, k = 0;

    if (!pt->active || n == 0)
        return 0;
    if (pt->te != TE_BASE64)
        return part_bytes(mp, p, n);
    /* Like Node's Buffer.from(s, 'base64'): both alphabets, other
     * characters (line breaks) skipped, '=' ends the data. */
    for (i = 0; i < n && !pt->b64done; i++) {
        int v = b64val((unsigned char)p[i]);

        if (p[i] == '=') {
            pt->b64done = true;
            break;
        }
        if (v < 0)
            continue;
        pt->b64acc = pt->b64acc << 6 | (uint32_t)v;
        pt->b64bits += 6;
        if (pt->b64bits >= 8) {
            pt->b64bits -= 8;
            out[k++] = (char)(pt->b64acc >> pt->b64bits);
            pt->b64acc &= (1u << pt->b64bits) - 1;
        }
        if (k == sizeof(out)) {
            if (part_bytes(mp, out, k) < 0)
                return mp->rc;
            k = 0;
        }
    }
    return part_bytes(mp, out, k);
}

/* End of a part: a field value, or a finished file. */
static int part_end(struct multipart *mp)
{
    struct part *pt = &mp->part;
    const char *name;
    char iso[32];
    json_t *desc;

    if (!pt->active)
        goto out;
    name = pt->name ? pt->name : "null";
    if (!pt->is_file) {
        struct buf v = BUF_INIT;
        size_t i;

        if (count_one(mp) < 0)
            return mp->rc;
        buf_init(&v);
        if (pt->te == TE_BINARY) {          /* latin1 */
            for (i = 0; i < pt->value.len; i++) {
                unsigned char c = (unsigned char)pt->value.data[i];

                if (c < 0x80) {
                    buf_addc(&v, (char)c);
                } else {
                    buf_addc(&v, (char)(0xC0 | c >> 6));
                    buf_addc(&v, (char)(0x80 | (c & 0x3F)));
                }
            }
        } else {
            query_utf8_sanitize(&v, pt->value.data, pt->value.len);
        }
        add_value(mp->fields, name, json_stringn(v.data, v.len));
        buf_release(&v);
        goto out;
    }
    if (flush_file(mp) < 0)
        return mp->rc;
    if (pt->size == 0)
        return fail(mp, AH_EINVAL,
                    "options.allowEmptyFiles is false, file size should be greater than 0");
    if (pt->size > mp->opts.max_file_size)
        return fail(mp, AH_ELIMIT, "options.maxFileSize (%zu bytes), received %zu bytes of file data",
                    mp->opts.max_file_size, pt->size);
    if (close(pt->fd) < 0) {
        pt->fd = -1;
        return fail_errno(mp, errno, "close", NULL);
    }
    pt->fd = -1;
    core_iso_date(pt->mtime_ms, iso, sizeof(iso));
    desc = json_object();
    json_object_set_new(desc, "size", json_integer((json_int_t)pt->size));
    json_object_set_new(desc, "filepath", json_string(pt->filepath));
    json_object_set_new(desc, "newFilename", json_string(pt->newname));
    json_object_set_new(desc, "mimetype", json_string(pt->mimetype));
    json_object_set_new(desc, "mtime", json_string(iso));
    json_object_set_new(desc, "originalFilename",
                        pt->filename ? json_string(pt->filename) : json_null());
    if (strcmp(name, "__proto__") == 0)     /* dropped, like its field twin */
        unlink(pt->filepath);
    add_value(mp->files, name, desc);
out:
    part_reset(pt);
    return 0;
}

/* ------------------------------------------------------------ public */

/* formidable: /boundary=(?:"([^"]+)"|([^;]+))/i, first match. */
static char *find_boundary(const char *ct)
{
    size_t n = strlen(ct), p, q, k;

    for (p = 0; p + 9 <= n; p++) {
        if (!ci_prefix(ct + p, n - p, "boundary="))
            continue;
        q = p + 9;
        if (q < n && ct[q] == '"') {
            const char *end = memchr(ct + q + 1, '"', n - q - 1);

            if (end && end > ct + q + 1)
                return xstrndup(ct + q + 1, (size_t)(end - (ct + q + 1)));
        }
        for (k = q; k < n && ct[k] != ';'; k++)
            ;
        if (k > q)
            return xstrndup(ct + q, k - q);
    }
    return NULL;
}

struct multipart *multipart_new(const char *content_type, const struct multipart_opts *opts,
                                char *err, size_t errlen)
{
    struct multipart *mp;
    char *b = content_type ? find_boundary(content_type) : NULL;

    if (b == NULL || strlen(b) > MP_MAX_BOUNDARY || strpbrk(b, "\r\n")) {
        free(b);
        if (err && errlen)
            snprintf(err, errlen, "bad content-type header, no multipart boundary");
        return NULL;
    }
    mp = xcalloc(1, sizeof(*mp));
    mp->opts = *opts;
    mp->opts.upload_dir = NULL;
    mp->upload_dir = resolve_dir(opts->upload_dir);
    mp->boundary = xasprintf("\r\n--%s", b);
    mp->blen = strlen(mp->boundary);
    free(b);
    mp->lookbehind = xmalloc(mp->blen + 8);
    mp->state = S_START;
    buf_init(&mp->hfield);
    buf_init(&mp->hvalue);
    mp->part.fd = -1;
    buf_init(&mp->part.value);
    mp->fields = json_object();
    mp->files = json_object();
    return mp;
}

/* Part data up to a possible boundary; the boundary matcher.  Returns the
 * number of bytes of p consumed (the caller loops). */
static size_t feed_data(struct multipart *mp, const char *p, size_t n)
{
    const char *b = mp->boundary;
    size_t blen = mp->blen, i = 0;

    while (i < n) {
        unsigned char c = (unsigned char)p[i];
        long index = mp->index;

        if (index == 0) {
            const char *cr = memchr(p + i, '\r', n - i);
            size_t run = cr ? (size_t)(cr - (p + i)) : n - i;

            if (run && part_data(mp, p + i, run) < 0)
                return n;
            i += run;
            if (cr == NULL)
                break;
            mp->lookbehind[0] = '\r';
            mp->index = 1;
            i++;
            continue;
        }
        if ((size_t)index < blen) {
            if ((unsigned char)b[index] == c) {
                mp->lookbehind[index] = (char)c;
                mp->index++;
                i++;
                continue;
            }
        } else if ((size_t)index == blen) {
            if (c == '\r' || c == '-') {
                mp->flags = c == '\r' ? F_PART : F_LAST;
                mp->lookbehind[index] = (char)c;
                mp->index++;
                i++;
                continue;
            }
        } else {
            if (mp->flags == F_PART && c == '\n') {
                mp->index = 0;
                mp->flags = 0;
                i++;
                if (part_end(mp) < 0)
                    return n;
                mp->state = S_HEADER_FIELD_START;
                return i;
            }
            if (mp->flags == F_LAST && c == '-') {
                mp->index = 0;
                mp->flags = 0;
                i++;
                if (part_end(mp) < 0)
                    return n;
                mp->state = S_END;
                return i;
            }
        }
        /* A false lead: what looked like a boundary is data; look at c
         * again, it may start a real one. */
        mp->index = 0;
        mp->flags = 0;
        if (part_data(mp, mp->lookbehind, (size_t)index) < 0)
            return n;
    }
    return i;
}

int multipart_feed(struct multipart *mp, const char *p, size_t n)
{
    size_t i = 0;
    size_t blen = mp->blen;

    if (mp->rc || mp->finished)
        return mp->rc ? mp->rc : fail(mp, AH_ESTATE, "multipart: input after the end");
    while (i < n && mp->rc == 0) {
        unsigned char c = (unsigned char)p[i];

        switch (mp->state) {
        case S_START:
            mp->index = 0;
            mp->state = S_START_BOUNDARY;
            /* fall through */
        case S_START_BOUNDARY:
            if (mp->index == (long)blen - 2) {
                if (c == '-')
                    mp->flags |= F_LAST;
                else if (c != '\r')
                    return fail_unexpected(mp);
                mp->index++;
            } else if (mp->index - 1 == (long)blen - 2) {
                if ((mp->flags & F_LAST) && c == '-') {
                    mp->state = S_END;
                    mp->flags = 0;
                } else if (!(mp->flags & F_LAST) && c == '\n') {
                    mp->index = 0;
                    mp->state = S_HEADER_FIELD_START;
                } else {
                    return fail_unexpected(mp);
                }
            } else {
                /* formidable's preamble skipping, quirks included: after
                 * a mismatch only CRLF "--boundary" can start the match. */
                if (c != (unsigned char)mp->boundary[mp->index + 2])
                    mp->index = -2;
                if (c == (unsigned char)mp->boundary[mp->index + 2])
                    mp->index++;
            }
            i++;
            break;
        case S_HEADER_FIELD_START:
            mp->state = S_HEADER_FIELD;
            mp->index = 0;
            buf_reset(&mp->hfield);
            mp->header_bytes = 0;
            /* fall through */
        case S_HEADER_FIELD:
            i++;
            if (c == '\r') {
                buf_reset(&mp->hfield);
                mp->state = S_HEADERS_ALMOST_DONE;
                break;
            }
            mp->index++;
            if (++mp->header_bytes > MP_MAX_HEADER)
                return fail(mp, AH_ELIMIT, "multipart part headers larger than %d bytes",
                            MP_MAX_HEADER);
            if (c == ':') {
                if (mp->index == 1)
                    return fail_unexpected(mp);
                mp->state = S_HEADER_VALUE_START;
                break;
            }
            if (c != '-' && ((c | 0x20) < 'a' || (c | 0x20) > 'z'))
                return fail_unexpected(mp);
            buf_addc(&mp->hfield, (char)c);
            break;
        case S_HEADER_VALUE_START:
            if (c == ' ') {
                i++;
                break;
            }
            buf_reset(&mp->hvalue);
            mp->state = S_HEADER_VALUE;
            /* fall through */
        case S_HEADER_VALUE: {
            const char *cr = memchr(p + i, '\r', n - i);
            size_t run = cr ? (size_t)(cr - (p + i)) : n - i;

            mp->header_bytes += run;
            if (mp->header_bytes > MP_MAX_HEADER)
                return fail(mp, AH_ELIMIT, "multipart part headers larger than %d bytes",
                            MP_MAX_HEADER);
            buf_add(&mp->hvalue, p + i, run);
            i += run;
            if (cr) {
                i++;
                if (header_end(mp) < 0)
                    return mp->rc;
                mp->state = S_HEADER_VALUE_ALMOST_DONE;
            }
            break;
        }
        case S_HEADER_VALUE_ALMOST_DONE:
            if (c != '\n')
                return fail_unexpected(mp);
            i++;
            mp->state = S_HEADER_FIELD_START;
            break;
        case S_HEADERS_ALMOST_DONE:
            if (c != '\n')
                return fail_unexpected(mp);
            i++;
            if (headers_end(mp) < 0)
                return mp->rc;
            mp->state = S_PART_DATA_START;
            break;
        case S_PART_DATA_START:
            mp->state = S_PART_DATA;
            mp->index = 0;
            mp->flags = 0;
            /* fall through */
        case S_PART_DATA:
            i += feed_data(mp, p + i, n - i);
            break;
        case S_END:
            i = n;              /* the epilogue is ignored */
            break;
        }
    }
    return mp->rc;
}

/* A NEW object: name -> array (multiples) or the last value (Actionhero's
 * lastValues()), in JS key order. */
static json_t *collapse(json_t *obj, bool multiples)
{
    json_t *tmp = json_object(), *res;
    const char *k;
    json_t *a;

    json_object_foreach(obj, k, a)
        json_object_set(tmp, k, multiples ? a : json_array_get(a, json_array_size(a) - 1));
    res = json_out_js_order(tmp);
    json_decref(tmp);
    return res;
}

static void remove_created(struct multipart *mp)
{
    size_t i;

    for (i = 0; i < mp->ncreated; i++) {
        unlink(mp->created[i]);
        free(mp->created[i]);
    }
    mp->ncreated = 0;
}

/* Without multiples only the last file of a name is reported; the earlier
 * ones would stay on disk with nothing pointing at them (as in formidable),
 * so they are removed. */
static void remove_replaced(json_t *files)
{
    const char *k;
    json_t *a;

    json_object_foreach(files, k, a) {
        size_t i, n = json_array_size(a);

        for (i = 0; i + 1 < n; i++)
            unlink(json_string_value(json_object_get(json_array_get(a, i), "filepath")));
    }
}

int multipart_finish(struct multipart *mp, json_t **fields, json_t **files)
{
    size_t i;

    if (mp->rc == 0 && !mp->finished) {
        if ((mp->state == S_HEADER_FIELD_START && mp->index == 0) ||
            (mp->state == S_PART_DATA && (size_t)mp->index == mp->blen))
            part_end(mp);
        else if (mp->state != S_END)
            fail_unexpected(mp);
    }
    mp->finished = true;
    if (mp->rc) {
        /* What was parsed stays usable (Actionhero runs the action with
         * it); the files are gone, so none are reported. */
        part_reset(&mp->part);
        remove_created(mp);
        json_object_clear(mp->files);
    } else {
        for (i = 0; i < mp->ncreated; i++)
            free(mp->created[i]);
        mp->ncreated = 0;
        if (!mp->opts.multiples)
            remove_replaced(mp->files);
    }
    if (fields)
        *fields = collapse(mp->fields, mp->opts.multiples);
    if (files)
        *files = collapse(mp->files, mp->opts.multiples);
    return mp->rc;
}

const char *multipart_error(const struct multipart *mp)
{
    return mp && mp->rc ? mp->err : NULL;
}

void multipart_free(struct multipart *mp)
{
    if (mp == NULL)
        return;
    part_reset(&mp->part);
    remove_created(mp);
    free(mp->created);
    buf_release(&mp->hfield);
    buf_release(&mp->hvalue);
    json_decref(mp->fields);
    json_decref(mp->files);
    free(mp->lookbehind);
    free(mp->boundary);
    free(mp->upload_dir);
    free(mp);
}
