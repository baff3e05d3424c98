/*
 * json_parse.c - JSON text as JavaScript's JSON.parse reads it.
 *
 * The meaning is jansson's json_loadb with JSON_DECODE_ANY | JSON_ALLOW_NUL
 * (core_json_parse_jansson below), plus one change: jansson refuses
 * integers past 64 bits, which JavaScript reads as doubles.  For those we
 * parse again with every integer as a real and turn the integral, exactly
 * representable ones back into integers, so that "1" stays an integer and
 * 1e20 written by JSON.stringify as 100000000000000000000 becomes a double.
 * Lone UTF-16 surrogates ("\ud800") and numbers past the double range
 * (1e400, which JS reads as Infinity) stay errors: jansson cannot represent
 * them.
 *
 * Speed: every WebSocket message, JSON body, cache value, task payload and
 * cluster message comes through here, and jansson's lexer reads its input a
 * character at a time through a stream abstraction (~180 instructions a
 * byte).  So valid input is read by yajl (Debian's libyajl 2.1) and the
 * jansson values are built from its callbacks.  The fast path only has to
 * be right when it succeeds: whenever it fails, or meets anything where
 * yajl's reading could differ from jansson's, the text goes through the
 * jansson path, which then gives the same value or the same json_error_t
 * (callers print its text and position).  Where the two differ:
 *
 *   - yajl takes \v and \f as whitespace; jansson does not.
 *   - yajl decodes a lone or mismatched \u surrogate escape to "?" or to
 *     unencodable bytes; jansson refuses it.  Proper pairs agree.
 *   - yajl's UTF-8 check lets overlong forms and encoded surrogates
 *     through; here it is off, and jansson's own check runs on every
 *     string and key as the value is made (json_stringn, json_object_setn).
 *   - jansson refuses NUL in object keys and nesting past
 *     JSON_PARSER_MAX_DEPTH; numbers past the double range; integers past
 *     64 bits (handled as above, in a second yajl pass).
 *
 * tests/unit/test_core_json_parse.c compares both paths on a large corpus.
 */
#include "core/core.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <yajl/yajl_parse.h>

static json_t *ints_back(json_t *v)
{
    const char *k;
    json_t *e;
    size_t i;

    if (json_is_real(v)) {
        double d = json_real_value(v);

        if (d == (double)(long long)d && d >= -9007199254740992.0 && d <= 9007199254740992.0)
            return json_integer((json_int_t)d);
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, e)
            json_array_set_new(v, i, ints_back(e));
    } else if (json_is_object(v)) {
        json_object_foreach(v, k, e)
            json_object_set_new(v, k, ints_back(e));
    }
    return json_incref(v);
}

json_t *core_json_parse_jansson(const char *s, size_t n, json_error_t *err)
{
    json_error_t local;
    json_t *v, *w;

    if (err == NULL)
        err = &local;
    v = json_loadb(s, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, err);
    if (v == NULL && json_error_code(err) == json_error_numeric_overflow) {
        v = json_loadb(s, n, JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, err);
        if (v) {
            w = ints_back(v);
            json_decref(v);
            v = w;
        }
    }
    return v;
}

/* ---- the yajl path ---- */

/* Containers deeper than this go to jansson (which allows 2048 levels of
 * values): rare enough not to matter for speed, and it bounds our stack. */
#define FAST_DEPTH 256

struct fast {
    json_t *stack[FAST_DEPTH]; /* open containers, borrowed (root owns them) */
    int depth;
    json_t *root;
    yajl_handle h;
    size_t end;     /* where the top value ends (yajl_complete_parse: n) */
    bool finishing; /* inside yajl_complete_parse */
    bool as_real;  /* second pass: numbers as reals, then ints_back's rule */
    bool overflow; /* first pass met an integer past 64 bits */
    size_t keylen;
    bool key_ascii;
    char *key; /* keybuf or heap */
    size_t keycap;
    char keybuf[128];
};

/* Attach v (a new reference, may be NULL) where the parse stands. */
static int put(struct fast *f, json_t *v)
{
    json_t *parent;

    if (v == NULL)
        return 0;
    if (f->depth == 0) {
        f->root = v;
        f->end = f->finishing ? SIZE_MAX : yajl_get_bytes_consumed(f->h);
        return 1;
    }
    parent = f->stack[f->depth - 1];
    if (json_is_object(parent)) {
        if (f->key_ascii)
            return json_object_setn_new_nocheck(parent, f->key, f->keylen, v) == 0;
        /* checks the key's UTF-8 as jansson's lexer does */
        return json_object_setn_new(parent, f->key, f->keylen, v) == 0;
    }
    return json_array_append_new(parent, v) == 0;
}

static int open_container(struct fast *f, json_t *c)
{
    if (c == NULL || f->depth >= FAST_DEPTH) {
        json_decref(c);
        return 0;
    }
    if (!put(f, json_incref(c))) {
        json_decref(c);
        return 0;
    }
    json_decref(c); /* the parent (or root) holds it now */
    f->stack[f->depth++] = c;
    return 1;
}

static int on_null(void *ctx)
{
    return put(ctx, json_null());
}

static int on_boolean(void *ctx, int b)
{
    return put(ctx, json_boolean(b));
}

/* strtod as jansson's lexer calls it: an overflow to +-HUGE_VAL refuses. */
static int to_double(const char *t, size_t len, double *out)
{
    char buf[64], *p = buf, *end;
    int ok;

    if (len >= sizeof buf && (p = malloc(len + 1)) == NULL)
        return 0;
    memcpy(p, t, len);
    p[len] = '\0';
    errno = 0;
    *out = strtod(p, &end);
    ok = end == p + len && !((*out == HUGE_VAL || *out == -HUGE_VAL) && errno == ERANGE);
    if (p != buf)
        free(p);
    return ok;
}

static int on_number(void *ctx, const char *t, size_t len)
{
    struct fast *f = ctx;
    double d;
    size_t i;

    if (f->as_real) {
        if (!to_double(t, len, &d))
            return 0;
        /* ints_back's rule; the range test first keeps the cast defined */
        if (d >= -9007199254740992.0 && d <= 9007199254740992.0 && d == (double)(long long)d)
            return put(f, json_integer((json_int_t)d));
        return put(f, json_real(d));
    }
    for (i = 0; i < len; i++)
        if (t[i] == '.' || t[i] == 'e' || t[i] == 'E')
            break;
    if (i < len) {
        if (!to_double(t, len, &d))
            return 0;
        return put(f, json_real(d));
    }
    /* an integer: yajl's lexer has checked -?(0|[1-9][0-9]*) */
    i = t[0] == '-';
    if (len - i <= 18) {
        long long x = 0;
        size_t j;

        for (j = i; j < len; j++)
            x = x * 10 + (t[j] - '0');
        return put(f, json_integer(i ? -x : x));
    } else {
        char buf[32], *end;
        long long x;

        if (len >= sizeof buf) {
            f->overflow = true;
            return 0;
        }
        memcpy(buf, t, len);
        buf[len] = '\0';
        errno = 0;
        x = strtoll(buf, &end, 10);
        if (errno == ERANGE) {
            f->overflow = true;
            return 0;
        }
        return put(f, json_integer(x));
    }
}

static bool ascii(const unsigned char *s, size_t n)
{
    uint64_t acc = 0, w;
    size_t i = 0;

    for (; i + 8 <= n; i += 8) {
        memcpy(&w, s + i, 8);
        acc |= w;
    }
    for (; i < n; i++)
        acc |= s[i];
    return (acc & 0x8080808080808080ull) == 0;
}

static int on_string(void *ctx, const unsigned char *s, size_t len)
{
    /* json_stringn refuses what is not UTF-8 by jansson's rules */
    if (ascii(s, len))
        return put(ctx, json_stringn_nocheck((const char *)s, len));
    return put(ctx, json_stringn((const char *)s, len));
}

static int on_start_map(void *ctx)
{
    return open_container(ctx, json_object());
}

static int on_map_key(void *ctx, const unsigned char *k, size_t len)
{
    struct fast *f = ctx;

    if (memchr(k, '\0', len) != NULL) /* jansson refuses NUL in keys */
        return 0;
    if (len > f->keycap) {
        char *p = f->key == f->keybuf ? malloc(len) : realloc(f->key, len);

        if (p == NULL)
            return 0;
        f->key = p;
        f->keycap = len;
    }
    memcpy(f->key, k, len); /* yajl may reuse its buffer for the value */
    f->keylen = len;
    f->key_ascii = ascii(k, len);
    return 1;
}

static int on_end(void *ctx)
{
    struct fast *f = ctx;

    if (--f->depth == 0)
        f->end = f->finishing ? SIZE_MAX : yajl_get_bytes_consumed(f->h);
    return 1;
}

static int on_start_array(void *ctx)
{
    return open_container(ctx, json_array());
}

static const yajl_callbacks callbacks = {
    .yajl_null = on_null,
    .yajl_boolean = on_boolean,
    .yajl_number = on_number,
    .yajl_string = on_string,
    .yajl_start_map = on_start_map,
    .yajl_map_key = on_map_key,
    .yajl_end_map = on_end,
    .yajl_start_array = on_start_array,
    .yajl_end_array = on_end,
};

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))
        return (c | 0x20) - 'a' + 10;
    return -1;
}

/* 0: not a surrogate escape; 1: \uD800-\uDBFF; 2: \uDC00-\uDFFF (p[0..5]
 * readable). */
static int surrogate(const char *p)
{
    int x;

    if (p[0] != '\\' || p[1] != 'u' || (p[2] != 'd' && p[2] != 'D') || (x = hexval(p[3])) < 8)
        return 0;
    return x < 12 ? 1 : 2;
}

/* Might yajl read s differently from jansson (see the top)? */
static bool differs(const char *s, size_t n)
{
    const char *p = s, *e = s + n;

    if (memchr(s, '\v', n) != NULL || memchr(s, '\f', n) != NULL)
        return true;
    while ((p = memchr(p, '\\', (size_t)(e - p))) != NULL) {
        if (e - p < 6 || p[1] != 'u') {
            p += 2; /* a truncated escape: yajl refuses the text anyway */
        } else if (surrogate(p) == 0) {
            p += 6;
        } else if (surrogate(p) == 1 && e - p >= 12 && surrogate(p + 6) == 2) {
            p += 12; /* a proper pair: both decode it alike */
        } else {
            return true;
        }
        if (p >= e)
            break;
    }
    return false;
}

/* yajl's allocations (handle, lexer, buffers, state stack: ~5 blocks, a
 * few hundred bytes for a message) come from the stack of fast_pass, and
 * only what does not fit from malloc.  Each block has a header: its size,
 * or 0 for a malloc'd block. */
#define ARENA_SIZE 4096
#define HDR 16

struct arena {
    char *next, *end;
    _Alignas(16) char mem[ARENA_SIZE];
};

static bool in_arena(const struct arena *a, const char *p)
{
    return p >= a->mem && p < a->mem + ARENA_SIZE;
}

static void *a_malloc(void *ctx, size_t sz)
{
    struct arena *a = ctx;
    size_t need;
    char *p;

    if (sz <= ARENA_SIZE) {
        need = HDR + ((sz + 15) & ~(size_t)15);
        if ((size_t)(a->end - a->next) >= need) {
            p = a->next;
            a->next += need;
            memcpy(p, &sz, sizeof sz);
            return p + HDR;
        }
    }
    if (sz > SIZE_MAX - HDR || (p = malloc(sz + HDR)) == NULL)
        return NULL;
    memset(p, 0, sizeof(size_t));
    return p + HDR;
}

static void a_free(void *ctx, void *ptr)
{
    struct arena *a = ctx;
    char *p = ptr;
    size_t sz;

    if (p == NULL)
        return;
    p -= HDR;
    if (!in_arena(a, p)) {
        free(p);
        return;
    }
    memcpy(&sz, p, sizeof sz);
    if (p + HDR + ((sz + 15) & ~(size_t)15) == a->next) /* the last block: give it back */
        a->next = p;
}

static void *a_realloc(void *ctx, void *ptr, size_t sz)
{
    struct arena *a = ctx;
    char *p = ptr, *q;
    size_t old;

    if (p == NULL)
        return a_malloc(ctx, sz);
    p -= HDR;
    if (!in_arena(a, p)) {
        if (sz > SIZE_MAX - HDR || (q = realloc(p, sz + HDR)) == NULL)
            return NULL;
        return q + HDR;
    }
    memcpy(&old, p, sizeof old);
    if (p + HDR + ((old + 15) & ~(size_t)15) == a->next && sz <= ARENA_SIZE &&
        (size_t)(a->end - p) >= HDR + ((sz + 15) & ~(size_t)15)) { /* the last block grows in place */
        a->next = p + HDR + ((sz + 15) & ~(size_t)15);
        memcpy(p, &sz, sizeof sz);
        return p + HDR;
    }
    if ((q = a_malloc(ctx, sz)) == NULL)
        return NULL;
    memcpy(q, p + HDR, old < sz ? old : sz);
    a_free(ctx, ptr);
    return q;
}

/* Is s[from, n) jansson's whitespace?  yajl takes an unterminated string
 * after the value ("0\"") for a token cut by the end of the input, and says
 * nothing. */
static bool only_space(const char *s, size_t from, size_t n)
{
    if (from > n)
        return true; /* the value ran to the end */
    for (; from < n; from++)
        if (s[from] != ' ' && s[from] != '\n' && s[from] != '\r' && s[from] != '\t')
            return false;
    return true;
}

/* One yajl pass; a new reference, or NULL (f->overflow tells why). */
static json_t *fast_pass(const char *s, size_t n, bool as_real, bool *overflow)
{
    struct fast f;
    struct arena a;
    yajl_alloc_funcs af = {a_malloc, a_realloc, a_free, &a};
    yajl_handle h;
    json_t *v = NULL;
    yajl_status st;

    f.depth = 0;
    f.root = NULL;
    f.end = 0;
    f.finishing = false;
    f.as_real = as_real;
    f.overflow = false;
    f.keylen = 0;
    f.key = f.keybuf;
    f.keycap = sizeof f.keybuf;
    a.next = a.mem;
    a.end = a.mem + ARENA_SIZE;
#ifdef __SANITIZE_ADDRESS__
    f.h = h = yajl_alloc(&callbacks, NULL, &f); /* let ASan see yajl's blocks */
    (void)af;
#else
    f.h = h = yajl_alloc(&callbacks, &af, &f);
#endif
    if (h == NULL)
        return NULL;
    yajl_config(h, yajl_dont_validate_strings, 1); /* jansson checks, strictly */
    st = yajl_parse(h, (const unsigned char *)s, n);
    /* yajl_complete_parse only matters when the value may not have ended
     * (a number at the end of the text); only_space() does the rest of its
     * check on what follows the value */
    if (st == yajl_status_ok && !(f.root != NULL && f.depth == 0)) {
        f.finishing = true;
        st = yajl_complete_parse(h);
    }
    if (st == yajl_status_ok && f.root != NULL && f.depth == 0 && only_space(s, f.end, n)) {
        v = f.root;
        f.root = NULL;
    }
    yajl_free(h);
    json_decref(f.root);
    if (f.key != f.keybuf)
        free(f.key);
    *overflow = f.overflow;
    return v;
}

static json_t *parse_yajl(const char *s, size_t n, bool *overflow)
{
    json_t *v;
    bool again;

    *overflow = false;
    if (s == NULL || n == 0 || differs(s, n))
        return NULL;
    v = fast_pass(s, n, false, overflow);
    if (v == NULL && *overflow)
        v = fast_pass(s, n, true, &again);
    return v;
}

json_t *core_json_parse_yajl(const char *s, size_t n)
{
    bool overflow;

    return parse_yajl(s, n, &overflow);
}

json_t *core_json_parse(const char *s, size_t n, json_error_t *err)
{
    bool overflow;
    json_t *v = parse_yajl(s, n, &overflow);

    if (v == NULL)
        return core_json_parse_jansson(s, n, err);
    if (err) { /* what json_loadb leaves on success */
        err->text[0] = '\0';
        err->line = -1;
        err->column = -1;
        err->position = (int)n;
        memcpy(err->source, "<buffer>", sizeof "<buffer>");
        if (overflow) /* the first jansson pass's code stays behind */
            err->text[JSON_ERROR_TEXT_LENGTH - 1] = (char)json_error_numeric_overflow;
    }
    return v;
}
