/*
 * query.c - query strings and form bodies (web.md §6.2, §6.3).
 *
 * Three decoders, one percent-decoding core:
 *
 *  - query_parse_qs: a port of qs 6.14's parse() (the version Actionhero 29
 *    resolves): parseValues (split on '&', %5B/%5D first, ']=' before '=',
 *    duplicates combined), splitKeyIntoSegments (depth, prototype names
 *    dropped), parseObject and utils.merge/combine/compact, including the
 *    "overflow object" that replaces an array once it would pass arrayLimit.
 *    The port works on a small model of JS values (struct qv: string, true,
 *    sparse array, ordered object) and converts it to jansson at the end,
 *    because qs relies on JS semantics jansson does not have: array holes,
 *    Object.keys order (array-index keys first, ascending) and merges that
 *    mutate in place.
 *  - query_parse_simple: Node's querystring.parse (repeated keys -> arrays).
 *  - query_parse_form: URLSearchParams, then formidable's field collection.
 *
 * Bytes and text.  Node hands these parsers JS strings; we get bytes.  Raw
 * bytes are taken as UTF-8 and every key and value is made valid UTF-8 at the
 * end, each maximal ill-formed subsequence becoming U+FFFD (what Node's
 * Buffer#toString and TextDecoder do), so jansson never refuses a string and
 * nothing is dropped.  (Node reads raw non-ASCII URL bytes as latin1; browsers
 * percent-encode them, so only hand-made requests can tell the difference.)
 * A percent-decoded NUL (%00) is kept: strings and keys are created with
 * json_stringn / json_object_setn, json_out prints it as \u0000, and C code
 * reading values with json_string_value() sees the text end at the NUL.
 */
#include "http/query.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_out.h"

/* qs depth is a config value; a huge one would let a long key nest deeply
 * enough to exhaust the stack in the recursive merge, so it is capped. */
#define QS_MAX_DEPTH 64

/* ---------------------------------------------------------------- UTF-8 */

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Length of a lead byte's sequence and the range allowed for the byte after
 * it (Unicode Table 3-7); 0 for a byte that cannot start one. */
static int utf8_lead(unsigned char b, unsigned char *lo, unsigned char *hi)
{
    *lo = 0x80;
    *hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF)
        return 2;
    if (b >= 0xE0 && b <= 0xEF) {
        if (b == 0xE0)
            *lo = 0xA0;
        else if (b == 0xED)
            *hi = 0x9F;
        return 3;
    }
    if (b >= 0xF0 && b <= 0xF4) {
        if (b == 0xF0)
            *lo = 0x90;
        else if (b == 0xF4)
            *hi = 0x8F;
        return 4;
    }
    return 0;
}

/* Length of the valid sequence at s (1..4), or 0 if ill-formed; *bad gets
 * the length of its maximal subpart to replace. */
static size_t utf8_seq(const unsigned char *s, size_t n, size_t *bad)
{
    unsigned char lo, hi;
    int len, i;

    if (s[0] < 0x80)
        return 1;
    len = utf8_lead(s[0], &lo, &hi);
    *bad = 1;
    if (len == 0)
        return 0;
    for (i = 1; i < len; i++) {
        if ((size_t)i >= n || s[i] < lo || s[i] > hi) {
            *bad = (size_t)i;
            return 0;
        }
        lo = 0x80;
        hi = 0xBF;
    }
    return (size_t)len;
}

static bool utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, bad;

    while (i < n) {
        size_t k = utf8_seq(p + i, n - i, &bad);

        if (k == 0)
            return false;
        i += k;
    }
    return true;
}

void query_utf8_sanitize(struct buf *out, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, run = 0, bad;

    while (i < n) {
        size_t k = utf8_seq(p + i, n - i, &bad);

        if (k) {
            i += k;
            continue;
        }
        buf_add(out, s + run, i - run);
        buf_add(out, "\xEF\xBF\xBD", 3);
        i += bad;
        run = i;
    }
    buf_add(out, s + run, n - run);
}

/* ---------------------------------------------------------- unescape */

int query_unescape(struct buf *out, const char *s, size_t n, bool plus_space, bool strict)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t start, i = 0, run = 0;

    if (out->data == NULL)
        buf_init(out);
    start = out->len;
    while (i < n) {
        int h, l;

        if (p[i] == '+' && plus_space) {
            buf_add(out, s + run, i - run);
            buf_addc(out, ' ');
            run = ++i;
            continue;
        }
        if (p[i] != '%') {
            i++;
            continue;
        }
        h = i + 1 < n ? hexval(p[i + 1]) : -1;
        l = i + 2 < n ? hexval(p[i + 2]) : -1;
        if (h < 0 || l < 0) {
            if (strict)
                goto fail;
            i++;            /* lenient: the '%' stays as is */
            continue;
        }
        buf_add(out, s + run, i - run);
        i += 3;
        if (strict && h >= 8) {
            /* decodeURIComponent: a multi-byte character must be escaped
             * whole, each byte as %XX, and be well-formed UTF-8. */
            unsigned char seq[4], lo, hi;
            int len, k, a, b;

            seq[0] = (unsigned char)(h << 4 | l);
            len = utf8_lead(seq[0], &lo, &hi);
            if (len == 0)
                goto fail;
            for (k = 1; k < len; k++) {
                if (i + 2 >= n)
                    goto fail;
                if (p[i] != '%' || (a = hexval(p[i + 1])) < 0 || (b = hexval(p[i + 2])) < 0)
                    goto fail;
                seq[k] = (unsigned char)(a << 4 | b);
                if (seq[k] < lo || seq[k] > hi)
                    goto fail;
                lo = 0x80;
                hi = 0xBF;
                i += 3;
            }
            buf_add(out, seq, (size_t)len);
        } else {
            buf_addc(out, (char)(h << 4 | l));
        }
        run = i;
    }
    buf_add(out, s + run, n - run);
    if (strict && !utf8_valid(out->data + start, out->len - start))
        goto fail;
    return 0;
fail:
    out->len = start;
    if (out->cap)
        out->data[start] = '\0';
    return -1;
}

/* URLSearchParams / Node querystring: lenient bytes, then valid UTF-8. */
static void decode_lenient(struct buf *out, const char *s, size_t n)
{
    struct buf tmp = BUF_INIT;

    buf_init(&tmp);
    (void)query_unescape(&tmp, s, n, true, false);
    query_utf8_sanitize(out, tmp.data, tmp.len);
    buf_release(&tmp);
}

/* qs's utils.decode: '+' -> ' ', then decodeURIComponent, or the text with
 * only the '+' replaced when that throws. */
static void decode_qs(struct buf *out, const char *s, size_t n)
{
    struct buf tmp = BUF_INIT;
    size_t i;

    buf_init(&tmp);
    if (query_unescape(&tmp, s, n, true, true) < 0) {
        buf_add(&tmp, s, n);
        for (i = 0; i < tmp.len; i++)
            if (tmp.data[i] == '+')
                tmp.data[i] = ' ';
    }
    query_utf8_sanitize(out, tmp.data, tmp.len);
    buf_release(&tmp);
}

/* ------------------------------------------------------- JS semantics */

/* Canonical array index with its length (keys may hold NUL). */
static bool is_index(const char *k, size_t n, uint32_t *out)
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
    if (out)
        *out = (uint32_t)v;
    return true;
}

/* Length of a JS WhiteSpace or LineTerminator at s, else 0. */
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

/* parseInt(s, 10): NaN when there are no digits. */
static double js_parse_int(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    char tmp[64];
    size_t i = 0, k, start;
    bool neg = false;
    double v;

    while (i < n && (k = js_space(p + i, n - i)) > 0)
        i += k;
    if (i < n && (p[i] == '+' || p[i] == '-'))
        neg = p[i++] == '-';
    start = i;
    while (i < n && p[i] >= '0' && p[i] <= '9')
        i++;
    if (i == start)
        return NAN;
    if (i - start < sizeof(tmp)) {
        memcpy(tmp, s + start, i - start);
        tmp[i - start] = '\0';
        v = strtod(tmp, NULL);
    } else {
        char *big = xstrndup(s + start, i - start);

        v = strtod(big, NULL);
        free(big);
    }
    return neg ? -v : v;
}

/* String(d) == s[0..n)? */
static bool num_is(double d, const char *s, size_t n)
{
    char tmp[40];
    int len = json_out_number(d, tmp);

    return (size_t)len == n && memcmp(tmp, s, n) == 0;
}

static bool is_proto_name(const char *s, size_t n)
{
    static const char *const names[] = {
        "constructor", "__defineGetter__", "__defineSetter__", "hasOwnProperty",
        "__lookupGetter__", "__lookupSetter__", "isPrototypeOf", "propertyIsEnumerable",
        "toString", "valueOf", "__proto__", "toLocaleString",
    };
    size_t i;

    for (i = 0; i < ARRAY_SIZE(names); i++)
        if (strlen(names[i]) == n && memcmp(names[i], s, n) == 0)
            return true;
    return false;
}

/* --------------------------------------------------- JS value model */

enum qt { Q_STR, Q_TRUE, Q_ARR, Q_OBJ };

struct qv;

struct qaent {              /* array element (holes are absent) */
    uint32_t idx;
    struct qv *v;
};

struct qoent {              /* object property, in insertion order */
    char *k;
    size_t kn;
    struct qv *v;
};

struct qv {
    enum qt t;
    char *s;                /* Q_STR */
    size_t n;
    struct qaent *a;        /* Q_ARR, sorted by idx */
    size_t an, acap;
    uint32_t len;           /* JS length */
    struct qoent *o;        /* Q_OBJ */
    size_t on, ocap;
    bool overflow;          /* qs's markOverflow side channel */
    double max_index;
};

struct qs_ctx {
    long array_limit;
    int depth;
};

static struct qv *qv_new(enum qt t)
{
    struct qv *v = xcalloc(1, sizeof(*v));

    v->t = t;
    return v;
}

static struct qv *qv_str(const char *s, size_t n)
{
    struct qv *v = qv_new(Q_STR);

    v->s = xstrndup(s, n);
    v->n = n;
    return v;
}

static void qv_free(struct qv *v)
{
    size_t i;

    if (v == NULL)
        return;
    free(v->s);
    for (i = 0; i < v->an; i++)
        qv_free(v->a[i].v);
    free(v->a);
    for (i = 0; i < v->on; i++) {
        free(v->o[i].k);
        qv_free(v->o[i].v);
    }
    free(v->o);
    free(v);
}

static bool is_container(const struct qv *v)
{
    return v && (v->t == Q_ARR || v->t == Q_OBJ);
}

/* --- arrays */

static size_t arr_find(const struct qv *a, uint32_t idx, bool *found)
{
    size_t lo = 0, hi = a->an;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (a->a[mid].idx < idx)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < a->an && a->a[lo].idx == idx;
    return lo;
}

/* a[idx] = v (takes v; frees a value it replaces). */
static void arr_set(struct qv *a, uint32_t idx, struct qv *v)
{
    bool found;
    size_t i = arr_find(a, idx, &found);

    if (found) {
        if (a->a[i].v != v)
            qv_free(a->a[i].v);
        a->a[i].v = v;
        return;
    }
    if (a->an == a->acap) {
        a->acap = a->acap ? a->acap * 2 : 4;
        a->a = xrealloc(a->a, a->acap * sizeof(*a->a));
    }
    memmove(a->a + i + 1, a->a + i, (a->an - i) * sizeof(*a->a));
    a->a[i].idx = idx;
    a->a[i].v = v;
    a->an++;
    if (idx >= a->len)
        a->len = idx + 1;
}

static void arr_push(struct qv *a, struct qv *v)
{
    arr_set(a, a->len, v);
}

/* dst = dst.concat(x) for one argument (takes x). */
static void arr_concat(struct qv *dst, struct qv *x)
{
    size_t i;
    uint32_t base = dst->len;

    if (x->t != Q_ARR) {
        arr_push(dst, x);
        return;
    }
    for (i = 0; i < x->an; i++)
        arr_set(dst, base + x->a[i].idx, x->a[i].v);
    dst->len = base + x->len;
    x->an = 0;
    qv_free(x);
}

/* --- objects */

static struct qoent *obj_find(const struct qv *o, const char *k, size_t kn)
{
    size_t i;

    for (i = 0; i < o->on; i++)
        if (o->o[i].kn == kn && memcmp(o->o[i].k, k, kn) == 0)
            return &o->o[i];
    return NULL;
}

/* o[k] = v (takes v). */
static void obj_set(struct qv *o, const char *k, size_t kn, struct qv *v)
{
    struct qoent *e = obj_find(o, k, kn);

    if (e) {
        if (e->v != v)
            qv_free(e->v);
        e->v = v;
        return;
    }
    if (o->on == o->ocap) {
        o->ocap = o->ocap ? o->ocap * 2 : 4;
        o->o = xrealloc(o->o, o->ocap * sizeof(*o->o));
    }
    o->o[o->on].k = xstrndup(k, kn);
    o->o[o->on].kn = kn;
    o->o[o->on].v = v;
    o->on++;
}

static void obj_set_num(struct qv *o, double key, struct qv *v)
{
    char tmp[40];
    int len = json_out_number(key, tmp);

    obj_set(o, tmp, (size_t)len, v);
}

struct okey {
    uint32_t idx;
    size_t pos;
};

static int cmp_okey(const void *a, const void *b)
{
    const struct okey *x = a, *y = b;

    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Object.keys order: positions into o->o, array indices first. (free it) */
static size_t *obj_order(const struct qv *o)
{
    size_t *order = xmalloc((o->on + 1) * sizeof(*order));
    struct okey *idx = xmalloc((o->on + 1) * sizeof(*idx));
    size_t i, ni = 0, k = 0;
    uint32_t n;

    for (i = 0; i < o->on; i++)
        if (is_index(o->o[i].k, o->o[i].kn, &n)) {
            idx[ni].idx = n;
            idx[ni].pos = i;
            ni++;
        }
    qsort(idx, ni, sizeof(*idx), cmp_okey);
    for (i = 0; i < ni; i++)
        order[k++] = idx[i].pos;
    for (i = 0; i < o->on; i++)
        if (!is_index(o->o[i].k, o->o[i].kn, NULL))
            order[k++] = i;
    free(idx);
    return order;
}

/* utils.arrayToObject (takes a). */
static struct qv *array_to_object(struct qv *a)
{
    struct qv *o = qv_new(Q_OBJ);
    size_t i;

    for (i = 0; i < a->an; i++)
        obj_set_num(o, a->a[i].idx, a->a[i].v);
    a->an = 0;
    qv_free(a);
    return o;
}

static struct qv *mark_overflow(struct qv *o, double max)
{
    o->overflow = true;
    o->max_index = max;
    return o;
}

/* utils.combine(a, b) (takes both). */
static struct qv *combine(const struct qs_ctx *c, struct qv *a, struct qv *b)
{
    struct qv *r;

    if (a->t == Q_OBJ && a->overflow) {
        a->max_index += 1;
        obj_set_num(a, a->max_index, b);
        return a;
    }
    r = qv_new(Q_ARR);
    arr_concat(r, a);
    arr_concat(r, b);
    if ((long)r->len > c->array_limit) {
        double max = (double)r->len - 1;    /* array_to_object frees r */

        return mark_overflow(array_to_object(r), max);
    }
    return r;
}

/* utils.merge(target, source) (takes both; returns the new target). */
static struct qv *merge(const struct qs_ctx *c, struct qv *target, struct qv *source)
{
    struct qv *acc;
    size_t i, *order;

    if (source == NULL || (source->t == Q_STR && source->n == 0)) {
        qv_free(source);
        return target;
    }
    if (!is_container(source)) {
        if (target->t == Q_ARR) {
            uint32_t next = target->len;

            if ((long)next > c->array_limit) {
                arr_push(target, source);
                return mark_overflow(array_to_object(target), next);
            }
            arr_push(target, source);
        } else if (target->t == Q_OBJ) {
            if (target->overflow) {
                target->max_index += 1;
                obj_set_num(target, target->max_index, source);
                return target;
            }
            if (source->t == Q_TRUE)
                obj_set(target, "true", 4, qv_new(Q_TRUE));
            else if (!is_proto_name(source->s, source->n))
                obj_set(target, source->s, source->n, qv_new(Q_TRUE));
            qv_free(source);
        } else {
            struct qv *r = qv_new(Q_ARR);

            arr_push(r, target);
            arr_push(r, source);
            return r;
        }
        return target;
    }
    if (!is_container(target)) {
        struct qv *r;

        if (source->t == Q_OBJ && source->overflow) {
            r = qv_new(Q_OBJ);
            obj_set(r, "0", 1, target);
            order = obj_order(source);
            for (i = 0; i < source->on; i++) {
                struct qoent *e = &source->o[order[i]];

                obj_set_num(r, js_parse_int(e->k, e->kn) + 1, e->v);
                e->v = NULL;
            }
            free(order);
            mark_overflow(r, source->max_index + 1);
            qv_free(source);
            return r;
        }
        r = qv_new(Q_ARR);
        arr_push(r, target);
        arr_concat(r, source);
        if ((long)r->len > c->array_limit) {
            double max = (double)r->len - 1;

            return mark_overflow(array_to_object(r), max);
        }
        return r;
    }
    if (target->t == Q_ARR && source->t == Q_ARR) {
        for (i = 0; i < source->an; i++) {
            uint32_t idx = source->a[i].idx;
            struct qv *item = source->a[i].v;
            bool found;
            size_t at = arr_find(target, idx, &found);

            source->a[i].v = NULL;
            if (found) {
                struct qv *ti = target->a[at].v;

                /* merge() consumes ti: store its result in place. */
                if (is_container(ti) && is_container(item))
                    target->a[at].v = merge(c, ti, item);
                else
                    arr_push(target, item);
            } else {
                arr_set(target, idx, item);
            }
        }
        qv_free(source);
        return target;
    }
    acc = target->t == Q_ARR ? array_to_object(target) : target;
    if (source->t == Q_ARR) {
        /* Object.keys of an array: its indices, ascending. */
        for (i = 0; i < source->an; i++) {
            char key[16];
            int kn = snprintf(key, sizeof(key), "%u", (unsigned)source->a[i].idx);
            struct qoent *e = obj_find(acc, key, (size_t)kn);
            struct qv *value = source->a[i].v;

            source->a[i].v = NULL;
            if (e)
                e->v = merge(c, e->v, value);
            else
                obj_set(acc, key, (size_t)kn, value);
            if (acc->overflow && source->a[i].idx > acc->max_index)
                acc->max_index = source->a[i].idx;
        }
        qv_free(source);
        return acc;
    }
    order = obj_order(source);
    for (i = 0; i < source->on; i++) {
        struct qoent *se = &source->o[order[i]];
        struct qoent *e = obj_find(acc, se->k, se->kn);
        struct qv *value = se->v;
        double num;

        se->v = NULL;
        if (e)
            e->v = merge(c, e->v, value);
        else
            obj_set(acc, se->k, se->kn, value);
        if (source->overflow && !acc->overflow)
            mark_overflow(acc, source->max_index);
        if (acc->overflow) {
            num = js_parse_int(se->k, se->kn);
            if (num_is(num, se->k, se->kn) && num >= 0 && num > acc->max_index)
                acc->max_index = num;
        }
    }
    free(order);
    qv_free(source);
    return acc;
}

/* --- keys */

struct seg {
    const char *p;
    size_t n;
    bool wrap;              /* the depth remainder: '[' + rest + ']' */
};

/* First match of /\[[^[\]]*]/ in k[from..n): start and end (past ']'). */
static bool find_group(const char *k, size_t n, size_t from, size_t *start, size_t *end)
{
    size_t i, j;

    for (i = from; i < n; i++) {
        if (k[i] != '[')
            continue;
        for (j = i + 1; j < n && k[j] != '[' && k[j] != ']'; j++)
            ;
        if (j < n && k[j] == ']') {
            *start = i;
            *end = j + 1;
            return true;
        }
        if (j >= n)
            return false;
        i = j - 1;          /* resume at the inner '[' */
    }
    return false;
}

/* splitKeyIntoSegments: false to drop the key (a prototype name). */
static bool split_key(const struct qs_ctx *c, const char *k, size_t n, struct seg *segs,
                      size_t *nseg)
{
    size_t gs, ge, pos = 0;
    bool have;
    int i = 0;

    *nseg = 0;
    if (c->depth <= 0) {
        if (is_proto_name(k, n))
            return false;
        segs[(*nseg)++] = (struct seg){k, n, false};
        return true;
    }
    have = find_group(k, n, 0, &gs, &ge);
    if (!have)
        gs = n;
    if (gs > 0) {
        if (is_proto_name(k, gs))
            return false;
        segs[(*nseg)++] = (struct seg){k, gs, false};
    }
    while ((have = find_group(k, n, pos, &gs, &ge)) && i < c->depth) {
        i++;
        if (is_proto_name(k + gs + 1, ge - gs - 2))
            return false;
        segs[(*nseg)++] = (struct seg){k + gs, ge - gs, false};
        pos = ge;
    }
    if (have)
        segs[(*nseg)++] = (struct seg){k + gs, n - gs, true};
    return true;
}

/* parseObject (takes val). */
static struct qv *parse_object(const struct qs_ctx *c, const struct seg *chain, size_t nseg,
                               struct qv *val)
{
    struct qv *leaf = val, *obj;
    size_t i = nseg;

    while (i-- > 0) {
        const struct seg *s = &chain[i];
        struct buf root = BUF_INIT;
        const char *clean;
        size_t cn;
        double index;
        bool valid;

        buf_init(&root);
        if (s->wrap)
            buf_addc(&root, '[');
        buf_add(&root, s->p, s->n);
        if (s->wrap)
            buf_addc(&root, ']');
        if (root.len == 2 && root.data[0] == '[' && root.data[1] == ']') {
            if (leaf->t == Q_OBJ && leaf->overflow)
                obj = leaf;
            else
                obj = combine(c, qv_new(Q_ARR), leaf);
            buf_release(&root);
            leaf = obj;
            continue;
        }
        obj = qv_new(Q_OBJ);
        clean = root.data;
        cn = root.len;
        if (cn >= 2 && clean[0] == '[' && clean[cn - 1] == ']') {
            clean++;
            cn -= 2;
        }
        index = js_parse_int(clean, cn);
        valid = !isnan(index) && cn != root.len && num_is(index, clean, cn) && index >= 0;
        if (valid && index < (double)c->array_limit) {
            qv_free(obj);
            obj = qv_new(Q_ARR);
            arr_set(obj, (uint32_t)index, leaf);
        } else if (valid) {
            obj_set(obj, clean, cn, leaf);
            mark_overflow(obj, index);
        } else if (!(cn == 9 && memcmp(clean, "__proto__", 9) == 0)) {
            obj_set(obj, clean, cn, leaf);
        } else {
            qv_free(leaf);
        }
        buf_release(&root);
        leaf = obj;
    }
    return leaf;
}

/* --- to jansson (utils.compact: holes disappear) */

static json_t *to_json(const struct qv *v)
{
    json_t *j;
    size_t i, *order;

    switch (v->t) {
    case Q_STR:
        return json_stringn(v->s, v->n);
    case Q_TRUE:
        return json_true();
    case Q_ARR:
        j = json_array();
        for (i = 0; i < v->an; i++)
            json_array_append_new(j, to_json(v->a[i].v));
        return j;
    case Q_OBJ:
    default:
        j = json_object();
        order = obj_order(v);
        for (i = 0; i < v->on; i++) {
            const struct qoent *e = &v->o[order[i]];

            json_object_setn_new(j, e->k, e->kn, to_json(e->v));
        }
        free(order);
        return j;
    }
}

/* ------------------------------------------------------------------ qs */

json_t *query_parse_qs(const char *s, size_t n, const struct qs_opts *opts)
{
    struct qs_opts o = opts ? *opts : (struct qs_opts)QS_OPTS_DEFAULT;
    struct qs_ctx c;
    struct buf clean = BUF_INIT, key = BUF_INIT, val = BUF_INIT;
    struct qv *tmp, *obj;
    struct seg *segs;
    size_t i, parts = 0, start, *order;
    json_t *res;

    c.array_limit = o.array_limit;
    c.depth = o.depth > QS_MAX_DEPTH ? QS_MAX_DEPTH : o.depth;
    if (n == 0)
        return json_object();

    /* cleanStr.replace(/%5B/gi, '[').replace(/%5D/gi, ']') */
    buf_init(&clean);
    buf_grow(&clean, n);
    for (i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && s[i + 1] == '5' && (s[i + 2] | 0x20) == 'b') {
            buf_addc(&clean, '[');
            i += 2;
        } else if (s[i] == '%' && i + 2 < n && s[i + 1] == '5' && (s[i + 2] | 0x20) == 'd') {
            buf_addc(&clean, ']');
            i += 2;
        } else {
            buf_addc(&clean, s[i]);
        }
    }

    /* parseValues: split('&', parameterLimit), decode, combine duplicates. */
    buf_init(&key);
    buf_init(&val);
    tmp = qv_new(Q_OBJ);
    start = 0;
    while (start <= clean.len && (o.parameter_limit < 0 || parts < (size_t)o.parameter_limit)) {
        const char *part = clean.data + start, *amp, *eq;
        size_t pn, pos;
        struct qoent *e;

        amp = memchr(part, '&', clean.len - start);
        pn = amp ? (size_t)(amp - part) : clean.len - start;
        parts++;
        eq = NULL;
        for (i = 0; i + 1 < pn; i++)
            if (part[i] == ']' && part[i + 1] == '=') {
                eq = part + i + 1;
                break;
            }
        if (eq == NULL)
            eq = memchr(part, '=', pn);
        buf_reset(&key);
        buf_reset(&val);
        if (eq == NULL) {
            decode_qs(&key, part, pn);
        } else {
            pos = (size_t)(eq - part);
            decode_qs(&key, part, pos);
            decode_qs(&val, part + pos + 1, pn - pos - 1);
        }
        e = obj_find(tmp, key.data, key.len);
        if (e)
            e->v = combine(&c, e->v, qv_str(val.data, val.len));
        else
            obj_set(tmp, key.data, key.len, qv_str(val.data, val.len));
        if (amp == NULL)
            break;
        start += pn + 1;
    }
    buf_release(&clean);
    buf_release(&key);
    buf_release(&val);

    /* parseKeys + merge, over Object.keys(tempObj). */
    obj = qv_new(Q_OBJ);
    segs = xmalloc(((size_t)c.depth + 3) * sizeof(*segs));
    order = obj_order(tmp);
    for (i = 0; i < tmp->on; i++) {
        struct qoent *e = &tmp->o[order[i]];
        struct qv *v = e->v;
        size_t nseg;

        e->v = NULL;
        if (e->kn == 0 || !split_key(&c, e->k, e->kn, segs, &nseg)) {
            qv_free(v);
            continue;
        }
        obj = merge(&c, obj, parse_object(&c, segs, nseg, v));
    }
    free(order);
    free(segs);
    qv_free(tmp);
    res = to_json(obj);
    qv_free(obj);
    return res;
}

/* ----------------------------------------------- simple and form */

/* Set or append key -> value (a NEW string) with Node's repeated-key rule. */
static void add_repeated(json_t *obj, const struct buf *k, json_t *v, bool always_array)
{
    json_t *old = json_object_getn(obj, k->data, k->len);

    if (old == NULL) {
        if (always_array) {
            json_t *a = json_array();

            json_array_append_new(a, v);
            v = a;
        }
        json_object_setn_new(obj, k->data, k->len, v);
    } else if (json_is_array(old)) {
        json_array_append_new(old, v);
    } else {
        json_t *a = json_array();

        json_array_append(a, old);
        json_array_append_new(a, v);
        json_object_setn_new(obj, k->data, k->len, a);
    }
}

json_t *query_parse_simple(const char *s, size_t n)
{
    json_t *obj = json_object(), *res;
    struct buf k = BUF_INIT, v = BUF_INIT;
    size_t start = 0, pairs = 1000;

    buf_init(&k);
    buf_init(&v);
    while (start < n) {
        const char *part = s + start, *amp, *eq;
        size_t pn;

        amp = memchr(part, '&', n - start);
        pn = amp ? (size_t)(amp - part) : n - start;
        if (pn > 0) {
            eq = memchr(part, '=', pn);
            buf_reset(&k);
            buf_reset(&v);
            if (eq) {
                decode_lenient(&k, part, (size_t)(eq - part));
                decode_lenient(&v, eq + 1, pn - (size_t)(eq - part) - 1);
            } else {
                decode_lenient(&k, part, pn);
            }
            add_repeated(obj, &k, json_stringn(v.data, v.len), false);
        }
        if (--pairs == 0 || amp == NULL)
            break;
        start += pn + 1;
    }
    buf_release(&k);
    buf_release(&v);
    res = json_out_js_order(obj);
    json_decref(obj);
    return res;
}

json_t *query_parse_form(const char *s, size_t n, bool multiples, size_t max_fields)
{
    json_t *obj = json_object(), *res;
    struct buf k = BUF_INIT, v = BUF_INIT;
    size_t start = 0, fields = 0;
    void *it;

    buf_init(&k);
    buf_init(&v);
    while (start < n) {
        const char *part = s + start, *amp, *eq;
        size_t pn;

        amp = memchr(part, '&', n - start);
        pn = amp ? (size_t)(amp - part) : n - start;
        if (pn > 0) {
            if (++fields > max_fields) {
                json_decref(obj);
                obj = NULL;
                break;
            }
            eq = memchr(part, '=', pn);
            buf_reset(&k);
            buf_reset(&v);
            if (eq) {
                decode_lenient(&k, part, (size_t)(eq - part));
                decode_lenient(&v, eq + 1, pn - (size_t)(eq - part) - 1);
            } else {
                decode_lenient(&k, part, pn);
            }
            /* formidable's `fields[name] = [value]` on a plain object makes
             * "__proto__" set the prototype: the field disappears. */
            if (!(k.len == 9 && memcmp(k.data, "__proto__", 9) == 0))
                add_repeated(obj, &k, json_stringn(v.data, v.len), true);
        }
        if (amp == NULL)
            break;
        start += pn + 1;
    }
    buf_release(&k);
    buf_release(&v);
    if (obj == NULL)
        return NULL;
    if (!multiples) {
        /* Actionhero's lastValues(): keep the last of each array. */
        for (it = json_object_iter(obj); it; it = json_object_iter_next(obj, it)) {
            json_t *a = json_object_iter_value(it);

            json_object_iter_set(obj, it, json_array_get(a, json_array_size(a) - 1));
        }
    }
    res = json_out_js_order(obj);
    json_decref(obj);
    return res;
}
