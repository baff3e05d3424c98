/*
 * json_out.c - JSON text byte-compatible with JSON.stringify(value, null, n).
 *
 * Everything is written straight into the caller's struct buf: the only
 * allocation besides the buffer's growth is a sort array for objects with
 * more than OUT_STACK_KEYS array-index keys (JS orders those first).
 *
 * Numbers follow ECMAScript Number::toString: the shortest digit string s
 * (k digits, exponent n: value = s * 10^(n-k)) that reads back as the same
 * double, the closest one when several have k digits (dtoa.c), laid out in
 * fixed or exponent notation by json_out_number.  Integral doubles below
 * 2^53 (counters, ids) and json integers skip dtoa: their digits are exact.
 */
#include "core/json_out.h"
#include "core/dtoa.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OUT_STACK_KEYS 32
#define OUT_MAX_INDENT 10

/* ------------------------------------------------------------- numbers */

int json_out_number(double d, char *out)
{
    char dig[24];
    int k, n, len = 0, i, e;

    if (d != d) {
        memcpy(out, "NaN", 4);
        return 3;
    }
    if (d == 0) {
        memcpy(out, "0", 2);
        return 1;
    }
    if (d < 0) {
        out[len++] = '-';
        d = -d;
    }
    if (isinf(d)) {
        memcpy(out + len, "Infinity", 9);
        return len + 8;
    }
    if (d < 9007199254740992.0) {
        uint64_t u = (uint64_t)d;

        if ((double)u == d) {   /* integral: exact, and shortest */
            len += dtoa_u64(u, out + len);
            out[len] = '\0';
            return len;
        }
    }
    k = dtoa_shortest(d, dig, &n);
    if (k <= n && n <= 21) {
        memcpy(out + len, dig, (size_t)k);
        len += k;
        for (i = k; i < n; i++)
            out[len++] = '0';
    } else if (0 < n && n <= 21) {
        memcpy(out + len, dig, (size_t)n);
        len += n;
        out[len++] = '.';
        memcpy(out + len, dig + n, (size_t)(k - n));
        len += k - n;
    } else if (-6 < n && n <= 0) {
        out[len++] = '0';
        out[len++] = '.';
        for (i = 0; i < -n; i++)
            out[len++] = '0';
        memcpy(out + len, dig, (size_t)k);
        len += k;
    } else {
        out[len++] = dig[0];
        if (k > 1) {
            out[len++] = '.';
            memcpy(out + len, dig + 1, (size_t)(k - 1));
            len += k - 1;
        }
        out[len++] = 'e';
        e = n - 1;
        out[len++] = e < 0 ? '-' : '+';
        if (e < 0)
            e = -e;
        if (e >= 100)
            out[len++] = (char)('0' + e / 100);
        if (e >= 10)
            out[len++] = (char)('0' + e / 10 % 10);
        out[len++] = (char)('0' + e % 10);
    }
    out[len] = '\0';
    return len;
}

/* ------------------------------------------------------------- writer */

/* Room for n more bytes; the caller advances b->len itself. */
static inline char *room(struct buf *b, size_t n)
{
    if (b->cap == 0 || b->cap - b->len <= n)
        buf_grow(b, n);
    return b->data + b->len;
}

static inline void put(struct buf *b, const char *s, size_t n)
{
    memcpy(room(b, n), s, n);
    b->len += n;
}

static inline void putc1(struct buf *b, char c)
{
    *room(b, 1) = c;
    b->len++;
}

/* Which bytes need escaping: 0 none, else the escape letter or 'u'. */
static const char esc_tab[256] = {
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'b', 't', 'n', 'u', 'f', 'r', 'u', 'u',
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
    0, 0, '"', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '\\', 0, 0, 0,
};

/* Does any of the 8 bytes of w need a look: a control character, '"',
 * '\\', or (ls_ps) 0xE2, the lead byte of U+2028/U+2029?  Word-at-a-time
 * test (Mycroft's zero-byte trick), so plain text costs ~1 instruction
 * per byte instead of a table lookup and two compares. */
static inline bool word_special(uint64_t w, bool ls_ps)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t q = w ^ (ones * '"'), bs = w ^ (ones * '\\');
    uint64_t hit = ((w - ones * 0x20) & ~w) | ((q - ones) & ~q) | ((bs - ones) & ~bs);

    if (ls_ps) {
        uint64_t e = w ^ (ones * 0xE2);

        hit |= (e - ones) & ~e;
    }
    return (hit & highs) != 0;
}

static void put_string(struct buf *b, const char *s, size_t n, int opts)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s, *end = p + n, *run;
    bool ls_ps = (opts & JSON_OUT_ESCAPE_LS_PS) != 0;

    putc1(b, '"');
    while (p < end) {
        run = p;
        while (end - p >= 8) {
            uint64_t w;

            memcpy(&w, p, 8);
            if (word_special(w, ls_ps))
                break;
            p += 8;
        }
        while (p < end && !esc_tab[*p] && !(*p == 0xE2 && ls_ps))
            p++;
        if (p > run)
            put(b, (const char *)run, (size_t)(p - run));
        if (p == end)
            break;
        if (*p == 0xE2) {
            if (end - p >= 3 && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9)) {
                put(b, p[2] == 0xA8 ? "\\u2028" : "\\u2029", 6);
                p += 3;
            } else {
                putc1(b, (char)*p++);
            }
            continue;
        }
        if (esc_tab[*p] == 'u') {
            char *o = room(b, 6);

            o[0] = '\\';
            o[1] = 'u';
            o[2] = '0';
            o[3] = '0';
            o[4] = hex[*p >> 4];
            o[5] = hex[*p & 15];
            b->len += 6;
        } else {
            char *o = room(b, 2);

            o[0] = '\\';
            o[1] = esc_tab[*p];
            b->len += 2;
        }
        p++;
    }
    putc1(b, '"');
}

static void newline(struct buf *b, int indent, int depth)
{
    size_t n = (size_t)indent * (size_t)depth;
    char *o = room(b, n + 1);

    o[0] = '\n';
    memset(o + 1, ' ', n);
    b->len += n + 1;
}

/* Canonical array index ("0", "17"; not "01", "-1", >= 2^32 - 1). */
static bool key_index(const char *k, size_t n, uint32_t *out)
{
    uint64_t v = 0;
    size_t i;

    if (n == 0 || n > 10 || (k[0] == '0' && n > 1))
        return false;
    for (i = 0; i < n; i++) {
        if (k[i] < '0' || k[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(k[i] - '0');
    }
    if (v >= 4294967295ULL)
        return false;
    *out = (uint32_t)v;
    return true;
}

struct ikey {
    uint32_t idx;
    void *iter;
};

static int cmp_ikey(const void *a, const void *b)
{
    const struct ikey *x = a, *y = b;

    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static void put_value(struct buf *b, const json_t *v, int indent, int opts, int depth);

static void put_member(struct buf *b, void *iter, int indent, int opts, int depth, bool *first)
{
    if (!*first)
        putc1(b, ',');
    *first = false;
    if (indent)
        newline(b, indent, depth + 1);
    put_string(b, json_object_iter_key(iter), json_object_iter_key_len(iter), opts);
    if (indent)
        put(b, ": ", 2);
    else
        putc1(b, ':');
    put_value(b, json_object_iter_value(iter), indent, opts, depth + 1);
}

static void put_object_ext(struct buf *b, const json_t *o, int indent, int opts, int depth,
                           void (*more)(struct json_out_w *w, void *arg), void *arg)
{
    /* jansson's iterator API takes a non-const object but does not modify it. */
    json_t *obj = (json_t *)(uintptr_t)o;
    struct ikey stack[OUT_STACK_KEYS], *keys = stack;
    size_t nidx = 0, i;
    uint32_t idx;
    void *it;
    bool first = true;

    if (json_object_size(obj) == 0 && more == NULL) {
        put(b, "{}", 2);
        return;
    }
    putc1(b, '{');
    for (it = json_object_iter(obj); it; it = json_object_iter_next(obj, it))
        if (key_index(json_object_iter_key(it), json_object_iter_key_len(it), &idx))
            nidx++;
    if (nidx) {
        if (nidx > OUT_STACK_KEYS)
            keys = xmalloc(nidx * sizeof(*keys));
        i = 0;
        for (it = json_object_iter(obj); it; it = json_object_iter_next(obj, it))
            if (key_index(json_object_iter_key(it), json_object_iter_key_len(it), &idx)) {
                keys[i].idx = idx;
                keys[i].iter = it;
                i++;
            }
        qsort(keys, nidx, sizeof(*keys), cmp_ikey);
        for (i = 0; i < nidx; i++)
            put_member(b, keys[i].iter, indent, opts, depth, &first);
        if (keys != stack)
            free(keys);
    }
    for (it = json_object_iter(obj); it; it = json_object_iter_next(obj, it)) {
        if (nidx && key_index(json_object_iter_key(it), json_object_iter_key_len(it), &idx))
            continue;
        put_member(b, it, indent, opts, depth, &first);
    }
    if (more) {
        struct json_out_w w = {b, indent, opts, depth, first};

        more(&w, arg);
        first = w.first;
        if (first) {            /* nothing at all: "{}" */
            putc1(b, '}');
            return;
        }
    }
    if (indent)
        newline(b, indent, depth);
    putc1(b, '}');
}

static void put_object(struct buf *b, const json_t *o, int indent, int opts, int depth)
{
    put_object_ext(b, o, indent, opts, depth, NULL, NULL);
}

static void put_array(struct buf *b, const json_t *a, int indent, int opts, int depth)
{
    size_t i, n = json_array_size(a);

    if (n == 0) {
        put(b, "[]", 2);
        return;
    }
    putc1(b, '[');
    for (i = 0; i < n; i++) {
        if (i)
            putc1(b, ',');
        if (indent)
            newline(b, indent, depth + 1);
        put_value(b, json_array_get(a, i), indent, opts, depth + 1);
    }
    if (indent)
        newline(b, indent, depth);
    putc1(b, ']');
}

static void put_value(struct buf *b, const json_t *v, int indent, int opts, int depth)
{
    char num[40];
    int len;

    switch (json_typeof(v)) {
    case JSON_OBJECT:
        put_object(b, v, indent, opts, depth);
        break;
    case JSON_ARRAY:
        put_array(b, v, indent, opts, depth);
        break;
    case JSON_STRING:
        put_string(b, json_string_value(v), json_string_length(v), opts);
        break;
    case JSON_INTEGER:
        len = core_fmt_i64(num, (long long)json_integer_value(v));
        put(b, num, (size_t)len);
        break;
    case JSON_REAL: {
        double d = json_real_value(v);

        if (d != d || isinf(d))
            put(b, "null", 4);
        else
            put(b, num, (size_t)json_out_number(d, num));
        break;
    }
    case JSON_TRUE:
        put(b, "true", 4);
        break;
    case JSON_FALSE:
        put(b, "false", 5);
        break;
    case JSON_NULL:
    default:
        put(b, "null", 4);
        break;
    }
}

json_t *json_out_js_order(json_t *obj)
{
    json_t *res = json_object();
    size_t n = json_object_size(obj), ni = 0, i;
    struct ikey *keys;
    void *it;
    uint32_t idx;

    keys = xmalloc((n + 1) * sizeof(*keys));
    for (it = json_object_iter(obj); it; it = json_object_iter_next(obj, it))
        if (key_index(json_object_iter_key(it), json_object_iter_key_len(it), &idx)) {
            keys[ni].idx = idx;
            keys[ni].iter = it;
            ni++;
        }
    qsort(keys, ni, sizeof(*keys), cmp_ikey);
    for (i = 0; i < ni; i++)
        json_object_setn(res, json_object_iter_key(keys[i].iter),
                         json_object_iter_key_len(keys[i].iter),
                         json_object_iter_value(keys[i].iter));
    for (it = json_object_iter(obj); it; it = json_object_iter_next(obj, it))
        if (!key_index(json_object_iter_key(it), json_object_iter_key_len(it), &idx))
            json_object_setn(res, json_object_iter_key(it), json_object_iter_key_len(it),
                             json_object_iter_value(it));
    free(keys);
    return res;
}

void json_out_string(struct buf *b, const char *s, size_t n, int opts)
{
    put_string(b, s, n, opts);
    room(b, 0)[0] = '\0';
}

void json_out(struct buf *b, const json_t *v, int indent, int opts)
{
    if (indent < 0)
        indent = 0;
    if (indent > OUT_MAX_INDENT)
        indent = OUT_MAX_INDENT;
    if (v == NULL)
        put(b, "null", 4);
    else
        put_value(b, v, indent, opts, 0);
    room(b, 0)[0] = '\0';
}

char *json_out_str(const json_t *v, int indent, int opts, size_t *len)
{
    struct buf b = BUF_INIT;

    buf_init(&b);
    json_out(&b, v, indent, opts);
    return buf_detach(&b, len);
}

/* JavaScript's String(v) of a JSON value. */
void json_out_js_string(struct buf *b, const json_t *v)
{
    char num[32];
    size_t i;

    switch (json_typeof(v)) {
    case JSON_STRING:
        buf_add(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        buf_add(b, num, (size_t)core_fmt_i64(num, (long long)json_integer_value(v)));
        break;
    case JSON_REAL:
        json_out_number(json_real_value(v), num);
        buf_adds(b, num);
        break;
    case JSON_TRUE:
        buf_adds(b, "true");
        break;
    case JSON_FALSE:
        buf_adds(b, "false");
        break;
    case JSON_NULL:
        buf_adds(b, "null");
        break;
    case JSON_OBJECT:
        buf_adds(b, "[object Object]");
        break;
    case JSON_ARRAY:
        /* Array#join(","): null and undefined elements are empty */
        for (i = 0; i < json_array_size(v); i++) {
            const json_t *x = json_array_get(v, i);

            if (i > 0)
                buf_addc(b, ',');
            if (!json_is_null(x))
                json_out_js_string(b, x);
        }
        break;
    }
}

/* ------------------------------------------------------------ writer */

void json_out_object(struct buf *b, const json_t *obj, int indent, int opts,
                     void (*more)(struct json_out_w *w, void *arg), void *arg)
{
    if (indent < 0)
        indent = 0;
    if (indent > OUT_MAX_INDENT)
        indent = OUT_MAX_INDENT;
    put_object_ext(b, obj, indent, opts, 0, more, arg);
    room(b, 0)[0] = '\0';
}

void json_out_w_key(struct json_out_w *w, const char *key)
{
    if (!w->first)
        putc1(w->b, ',');
    w->first = false;
    if (w->indent)
        newline(w->b, w->indent, w->depth + 1);
    put_string(w->b, key, strlen(key), w->opts);
    if (w->indent)
        put(w->b, ": ", 2);
    else
        putc1(w->b, ':');
}

void json_out_w_string(struct json_out_w *w, const char *s)
{
    put_string(w->b, s, strlen(s), w->opts);
    room(w->b, 0)[0] = '\0';
}

void json_out_w_int(struct json_out_w *w, long long v)
{
    char num[24];

    put(w->b, num, (size_t)core_fmt_i64(num, v));
    room(w->b, 0)[0] = '\0';
}

void json_out_w_value(struct json_out_w *w, const json_t *v)
{
    if (v == NULL)
        put(w->b, "null", 4);
    else
        put_value(w->b, v, w->indent, w->opts, w->depth + 1);
    room(w->b, 0)[0] = '\0';
}

void json_out_w_begin(struct json_out_w *w, struct json_out_w *inner)
{
    putc1(w->b, '{');
    *inner = (struct json_out_w){w->b, w->indent, w->opts, w->depth + 1, true};
}

void json_out_w_end(struct json_out_w *inner)
{
    if (!inner->first && inner->indent)
        newline(inner->b, inner->indent, inner->depth);
    putc1(inner->b, '}');
    room(inner->b, 0)[0] = '\0';
}
