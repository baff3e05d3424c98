/*
 * headers.c - response header queue and its finalisation (web.md §9.1),
 * the per-request string arena, reason phrases.
 */
#include "http/http_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ arena */

char *harena_dup(struct harena *a, const char *s, size_t n)
{
    struct harena_block *b = a->head;
    char *p;

    if (b == NULL || b->cap - b->used < n + 1) {
        size_t cap = n + 1 > 2048 ? n + 1 : 2048;

        b = xmalloc(sizeof(*b) + cap);
        b->used = 0;
        b->cap = cap;
        b->next = a->head;
        a->head = b;
    }
    p = b->data + b->used;
    memcpy(p, s, n);
    p[n] = '\0';
    b->used += n + 1;
    return p;
}

void harena_reset(struct harena *a)
{
    struct harena_block *b = a->head, *keep = NULL;

    /* keep one block of the default size; free the others */
    while (b) {
        struct harena_block *next = b->next;

        if (keep == NULL && b->cap == 2048) {
            keep = b;
            keep->next = NULL;
            keep->used = 0;
        } else {
            free(b);
        }
        b = next;
    }
    a->head = keep;
}

void harena_release(struct harena *a)
{
    struct harena_block *b = a->head;

    while (b) {
        struct harena_block *next = b->next;

        free(b);
        b = next;
    }
    a->head = NULL;
}

/* ------------------------------------------------------------ queue */

void hdrq_init(struct hdr_queue *q)
{
    q->v = q->inline_v;
    q->n = 0;
    q->cap = HDRQ_INLINE;
}

void hdrq_release(struct hdr_queue *q)
{
    if (q->v != q->inline_v)
        free(q->v);
    hdrq_init(q);
}

void hdrq_push(struct hdr_queue *q, const char *name, size_t nlen, const char *value, size_t vlen)
{
    if (q->n == q->cap) {
        size_t cap = q->cap * 2;

        if (q->v == q->inline_v) {
            q->v = xmalloc(cap * sizeof(*q->v));
            memcpy(q->v, q->inline_v, q->n * sizeof(*q->v));
        } else {
            q->v = xrealloc(q->v, cap * sizeof(*q->v));
        }
        q->cap = cap;
    }
    q->v[q->n].name = name;
    q->v[q->n].nlen = (uint32_t)nlen;
    q->v[q->n].value = value;
    q->v[q->n].vlen = (uint32_t)vlen;
    q->n++;
}

static inline char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

static bool name_eq(const char *a, size_t an, const char *b, size_t bn)
{
    size_t i;

    if (an != bn)
        return false;
    for (i = 0; i < an; i++)
        if (lower(a[i]) != lower(b[i]))
            return false;
    return true;
}

const struct hdr *hdrq_last(const struct hdr_queue *q, const char *name)
{
    size_t i = q->n, nl = strlen(name);

    while (i-- > 0)
        if (name_eq(q->v[i].name, q->v[i].nlen, name, nl))
            return &q->v[i];
    return NULL;
}

/* ------------------------------------------------------------ finalise */

static bool in_skip(const struct hdr *h, const char *const *skip)
{
    for (; skip && *skip; skip++)
        if (name_eq(h->name, h->nlen, *skip, strlen(*skip)))
            return true;
    return false;
}

size_t hdr_finalize(const struct hdr *v, size_t n, bool head, const char *const *skip, struct buf *out)
{
    /* indices of the kept entries, for the duplicate check */
    size_t kept_small[64];
    size_t *kept = n <= 64 ? kept_small : xmalloc(n * sizeof(*kept));
    size_t nk = 0, lines = 0, i = n;

    while (i-- > 0) {
        const struct hdr *h = &v[i];
        bool cookie = name_eq(h->name, h->nlen, "set-cookie", 10);
        size_t j, k;

        if (!cookie) {
            bool dup = false;

            for (j = 0; j < nk && !dup; j++)
                dup = name_eq(v[kept[j]].name, v[kept[j]].nlen, h->name, h->nlen);
            if (dup)
                continue;
        }
        /* Actionhero compares the name exactly here */
        if (head && h->nlen == 17 && memcmp(h->name, "Transfer-Encoding", 17) == 0)
            continue;
        kept[nk++] = i;
        if (in_skip(h, skip))
            continue;
        buf_grow(out, h->nlen + h->vlen + 4);
        for (k = 0; k < h->nlen; k++)
            out->data[out->len + k] = lower(h->name[k]);
        out->len += h->nlen;
        buf_add(out, ": ", 2);
        buf_add(out, h->value, h->vlen);
        buf_add(out, "\r\n", 2);
        lines++;
    }
    if (kept != kept_small)
        free(kept);
    return lines;
}

void hdr_block_build(struct hdr_block *b, const struct hdr *v, size_t n, const char *const *skip)
{
    size_t pos = 0, cap = 0;

    buf_reset(&b->text);
    hdr_finalize(v, n, false, skip, &b->text);
    free(b->lines);
    b->lines = NULL;
    b->n = 0;
    /* every line is "name: value\r\n": names are tokens (no ':') and
     * values have no CR or LF */
    while (pos < b->text.len) {
        const char *line = b->text.data + pos;
        const char *colon = memchr(line, ':', b->text.len - pos);
        const char *end = memchr(line, '\n', b->text.len - pos);
        struct hdr_line *l;

        if (colon == NULL || end == NULL)
            break;
        if (b->n == cap) {
            cap = cap ? cap * 2 : 8;
            b->lines = xrealloc(b->lines, cap * sizeof(*b->lines));
        }
        l = &b->lines[b->n++];
        l->off = (uint32_t)pos;
        l->len = (uint32_t)(end + 1 - line);
        l->nlen = (uint32_t)(colon - line);
        l->flags = 0;
        if (l->nlen == 10 && memcmp(line, "set-cookie", 10) == 0)
            l->flags |= HL_COOKIE;
        if (l->nlen == 4 && memcmp(line, "etag", 4) == 0)
            l->flags |= HL_ETAG;
        if (l->nlen == 16 && memcmp(line, "content-encoding", 16) == 0)
            l->flags |= HL_CE;
        pos += l->len;
    }
}

void hdr_block_release(struct hdr_block *b)
{
    buf_release(&b->text);
    free(b->lines);
    b->lines = NULL;
    b->n = 0;
}

/* RFC 7230 token characters */
bool hdr_valid_name(const char *s, size_t n)
{
    size_t i;

    if (n == 0)
        return false;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (isalnum(c))
            continue;
        if (strchr("!#$%&'*+-.^_`|~", c) == NULL || c == '\0')
            return false;
    }
    return true;
}

bool hdr_valid_value(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '\r' || c == '\n' || c == '\0' || (c < 32 && c != '\t') || c == 127)
            return false;
    }
    return true;
}

/* ------------------------------------------------------------ reasons */

const char *http_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 102: return "Processing";
    case 103: return "Early Hints";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 203: return "Non-Authoritative Information";
    case 204: return "No Content";
    case 205: return "Reset Content";
    case 206: return "Partial Content";
    case 207: return "Multi-Status";
    case 208: return "Already Reported";
    case 226: return "IM Used";
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 305: return "Use Proxy";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 407: return "Proxy Authentication Required";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 418: return "I'm a Teapot";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Entity";
    case 423: return "Locked";
    case 424: return "Failed Dependency";
    case 425: return "Too Early";
    case 426: return "Upgrade Required";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 451: return "Unavailable For Legal Reasons";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    case 506: return "Variant Also Negotiates";
    case 507: return "Insufficient Storage";
    case 508: return "Loop Detected";
    case 509: return "Bandwidth Limit Exceeded";
    case 510: return "Not Extended";
    case 511: return "Network Authentication Required";
    default: return "unknown";
    }
}
