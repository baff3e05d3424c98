/*
 * inputs.c - params handling inside the processor (actions.md §3, §6):
 * scrubbing, then per input in declaration order default -> formatters ->
 * validators -> required check, recursing into `schema` inputs; plus the
 * stock formatters and validators of ah.h.
 *
 * Deviations, all where v29 throws a TypeError or cannot express the C case:
 *  - nested schemas are checked at any depth and missing names carry the
 *    whole path ("a.b.c"); v29 handles one level ("a.b") and breaks deeper;
 *  - a truthy schema param that is not an object (string, number, array)
 *    is not scrubbed and gets no defaults: its nested inputs are absent;
 *  - a formatter that returns NULL without ah_fail() makes the value absent
 *    and ends that input's formatter list (v29 would call the next
 *    formatter with undefined);
 *  - an absent value is always "missing": JSON cannot hold the `undefined`
 *    of missingParamChecks.
 */
#include "dispatch/dispatch_internal.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/core.h"
#include "core/json_out.h"

/* ---------------------------------------------------------------- NaN marks */

/* parseInt/parseFloat can produce NaN, which JSON (and jansson) cannot hold:
 * the stock formatters store null and mark the param, so that the required
 * check still treats it as present, as v29 does (NaN is not in
 * missingParamChecks). */
struct nan_mark {
    const json_t *obj;
    const char *name;
    struct nan_mark *next;
};

static void mark_nan(ah_ctx_t *ctx, const char *name)
{
    struct dctx *x = dctx_of(ctx);
    struct nan_mark *m = ah_alloc(ctx, sizeof(*m));

    m->obj = NULL;
    m->name = ah_strdup(ctx, name);
    m->next = x->nan_marks;
    x->nan_marks = m;
}

static bool is_nan_marked(struct dctx *x, const char *name)
{
    struct nan_mark *m;

    for (m = x->nan_marks; m; m = m->next)
        if (strcmp(m->name, name) == 0)
            return true;
    return false;
}

bool dispatch_param_is_nan(ah_ctx_t *ctx, const char *name)
{
    return json_is_null(json_object_get(ctx->params, name)) && is_nan_marked(dctx_of(ctx), name);
}

/* ---------------------------------------------------------------- scrub */

static void scrub(json_t *obj, const ah_input_t *inputs)
{
    const char *k;
    json_t *v;
    void *tmp;

    json_object_foreach_safe(obj, tmp, k, v) {
        const ah_input_t *in;
        bool keep = dispatch_is_safe_param(k);

        for (in = inputs; !keep && in && in->name; in++)
            keep = strcmp(in->name, k) == 0;
        if (!keep)
            json_object_del(obj, k);
    }
}

/* ---------------------------------------------------------------- checks */

static bool strict_equal(const json_t *a, const json_t *b)
{
    if (json_is_null(a) || json_is_true(a) || json_is_false(a))
        return json_typeof(a) == json_typeof(b);
    if (json_is_string(a))
        return json_is_string(b) && json_equal(a, b);
    if (json_is_number(a))
        return json_is_number(b) && json_number_value(a) == json_number_value(b);
    return false; /* objects and arrays: identity, never equal */
}

static bool is_missing(struct dctx *x, const char *name, json_t *v)
{
    json_t *checks = config_get(x->pub.app, "general.missingParamChecks");
    size_t i;

    if (v == NULL)
        return true;
    if (json_is_null(v) && is_nan_marked(x, name))
        return false;
    if (!json_is_array(checks))
        return json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0);
    for (i = 0; i < json_array_size(checks); i++)
        if (strict_equal(json_array_get(checks, i), v))
            return true;
    return false;
}

static void push_str(json_t **arr, const char *s)
{
    json_t *v = json_string(s);

    if (*arr == NULL)
        *arr = json_array();
    json_array_append_new(*arr, v ? v : json_string("(invalid UTF-8)"));
}

/* ---------------------------------------------------------------- one input */

static int apply_format(struct dctx *x, json_t *obj, const ah_input_t *in, ah_format_fn fn, json_t **v)
{
    ah_ctx_t *ctx = &x->pub;
    json_t *nv = fn(ctx, in->name, *v);

    if (nv == NULL) {
        if (x->fail_code)
            return -1;
        json_object_del(obj, in->name);
        *v = NULL;
        return 0;
    }
    json_object_set_new(obj, in->name, nv);
    *v = json_object_get(obj, in->name);
    return 0;
}

/* Returns <0 on a failed formatter/default, 1 when a validator said "stop". */
static int apply_validate(struct dctx *x, const ah_input_t *in, ah_validate_fn fn, json_t *v)
{
    ah_ctx_t *ctx = &x->pub;
    const char *r = fn(ctx, in->name, v);

    if (x->fail_code) {
        /* a validator that "throws": its error is recorded */
        push_str(&ctx->validator_errors, x->fail_msg ? x->fail_msg : ah_strerror(x->fail_code));
        free(x->fail_msg);
        x->fail_msg = NULL;
        x->fail_code = 0;
        return 0;
    }
    if (r == AH_VALID)
        return 0;
    if (r == AH_VALID_STOP)
        return 1;
    if (r == AH_INVALID) {
        char msg[300];

        snprintf(msg, sizeof(msg), "Input for parameter \"%s\" failed validation!", in->name);
        push_str(&ctx->validator_errors, msg);
        return 0;
    }
    push_str(&ctx->validator_errors, r);
    return 0;
}

static int validate_one(struct dctx *x, json_t *obj, const ah_input_t *in, const char *path)
{
    ah_ctx_t *ctx = &x->pub;
    json_t *v = obj ? json_object_get(obj, in->name) : NULL;
    size_t i;
    int rc;

    /* default: only when absent ("undefined"); null and "" stay */
    if (v == NULL && obj) {
        if (in->default_fn) {
            json_t *nv = in->default_fn(ctx, in->name);

            if (nv == NULL && x->fail_code)
                return -1;
            if (nv)
                json_object_set_new(obj, in->name, nv);
        } else {
            json_t *dv = dispatch_input_default(x->d, in);

            if (dv)
                json_object_set_new(obj, in->name,
                                    json_is_object(dv) || json_is_array(dv) ? json_deep_copy(dv) : json_incref(dv));
        }
        v = json_object_get(obj, in->name);
    }
    /* formatters, also on defaults */
    if (v && in->format && apply_format(x, obj, in, in->format, &v) < 0)
        return -1;
    for (i = 0; v && in->formats && in->formats[i]; i++)
        if (apply_format(x, obj, in, in->formats[i], &v) < 0)
            return -1;
    /* validators: all run, unless one says "stop" (which also skips the
     * required check: the v29 quirk of validators returning nothing) */
    if (v && in->validate && (rc = apply_validate(x, in, in->validate, v)) != 0)
        return rc;
    for (i = 0; v && in->validates && in->validates[i]; i++)
        if ((rc = apply_validate(x, in, in->validates[i], v)) != 0)
            return rc;
    if (in->required && is_missing(x, in->name, v)) {
        if (path) {
            char *full = xasprintf("%s.%s", path, in->name);

            push_str(&ctx->missing_params, full);
            free(full);
        } else {
            push_str(&ctx->missing_params, in->name);
        }
    }
    return 0;
}

static int validate_list(struct dctx *x, json_t *obj, const ah_input_t *inputs, const char *path, bool do_scrub)
{
    const ah_input_t *in;
    int rc;

    for (in = inputs; in && in->name; in++) {
        json_t *child;

        rc = validate_one(x, obj, in, path);
        if (rc < 0)
            return rc;
        child = obj ? json_object_get(obj, in->name) : NULL;
        if (in->schema && core_truthy(child)) {
            char *sub = path ? xasprintf("%s.%s", path, in->name) : xstrdup(in->name);

            if (json_is_object(child)) {
                if (do_scrub)
                    scrub(child, in->schema);
                rc = validate_list(x, child, in->schema, sub, do_scrub);
            } else {
                rc = validate_list(x, NULL, in->schema, sub, do_scrub);
            }
            free(sub);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

int inputs_reduce_validate(struct dctx *x)
{
    const ah_action_t *a = x->pub.action_template;
    bool do_scrub = !config_bool(x->pub.app, "general.disableParamScrubbing", false);

    if (do_scrub)
        scrub(x->pub.params, a->inputs);
    return validate_list(x, x->pub.params, a->inputs, NULL, do_scrub);
}

/* ---------------------------------------------------------------- String(v) */

static void js_string(struct buf *b, const json_t *v)
{
    json_out_js_string(b, v);
}

char *dispatch_js_string(const json_t *v)
{
    struct buf b = BUF_INIT;

    if (v == NULL)
        return xstrdup("undefined");
    js_string(&b, v);
    return buf_detach(&b, NULL);
}

/* ---------------------------------------------------------------- formatters */

json_t *ah_format_string(ah_ctx_t *ctx, const char *name, json_t *value)
{
    struct buf b = BUF_INIT;
    json_t *out;

    (void)ctx;
    (void)name;
    if (json_is_string(value))
        return json_incref(value);
    js_string(&b, value);
    out = json_stringn(b.data, b.len);
    buf_release(&b);
    return out ? out : json_string("");
}

static bool js_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* parseInt(String(v)) (radix 10, or 16 after "0x").  Returns false for NaN. */
static bool parse_int(const char *s, double *out)
{
    bool neg = false;
    int radix = 10;
    double acc = 0;
    bool any = false;

    while (js_space((unsigned char)*s))
        s++;
    if (*s == '+' || *s == '-')
        neg = *s++ == '-';
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        radix = 16;
        s += 2;
    }
    for (;; s++) {
        int dgt;

        if (*s >= '0' && *s <= '9')
            dgt = *s - '0';
        else if (radix == 16 && *s >= 'a' && *s <= 'f')
            dgt = *s - 'a' + 10;
        else if (radix == 16 && *s >= 'A' && *s <= 'F')
            dgt = *s - 'A' + 10;
        else
            break;
        acc = acc * radix + dgt;
        any = true;
    }
    if (!any)
        return false;
    *out = neg ? -acc : acc;
    return true;
}

static json_t *number_json(double d)
{
    if (d == floor(d) && fabs(d) <= 9007199254740992.0)
        return json_integer((json_int_t)d);
    return json_real(d);
}

json_t *ah_format_integer(ah_ctx_t *ctx, const char *name, json_t *value)
{
    char *s;
    double d;
    bool ok;

    if (json_is_integer(value))
        return json_incref(value);
    s = dispatch_js_string(value);
    ok = parse_int(s, &d);
    if (ok && fabs(d) >= 9007199254740992.0) {
        /* beyond 2^53 the digit loop is inexact: read decimal digits as a
         * correctly rounded double, as V8 does */
        char *p = s, digits[400];
        size_t n = 0;

        while (js_space((unsigned char)*p))
            p++;
        if (*p == '-' || *p == '+')
            digits[n++] = *p++;
        if (!(p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))) {
            while (*p >= '0' && *p <= '9' && n < sizeof(digits) - 1)
                digits[n++] = *p++;
            digits[n] = '\0';
            d = strtod(digits, NULL);
        }
    }
    free(s);
    if (!ok || isinf(d)) {
        mark_nan(ctx, name);
        return json_null();
    }
    return number_json(d);
}

/* parseFloat(String(v)): the longest prefix that is a decimal literal. */
json_t *ah_format_number(ah_ctx_t *ctx, const char *name, json_t *value)
{
    char *s, *p, *q;
    double d = 0;
    bool ok = false;

    if (json_is_number(value))
        return json_incref(value);
    s = dispatch_js_string(value);
    p = s;
    while (js_space((unsigned char)*p))
        p++;
    q = p;
    if (*q == '+' || *q == '-')
        q++;
    if (strncmp(q, "Infinity", 8) == 0) {
        ok = false; /* +-Infinity: not representable in JSON either */
    } else {
        char *end = q, *start = q;
        bool digits = false;

        while (*end >= '0' && *end <= '9')
            end++, digits = true;
        if (*end == '.') {
            end++;
            while (*end >= '0' && *end <= '9')
                end++, digits = true;
        }
        if (digits && (*end == 'e' || *end == 'E')) {
            char *e = end + 1;

            if (*e == '+' || *e == '-')
                e++;
            if (*e >= '0' && *e <= '9') {
                while (*e >= '0' && *e <= '9')
                    e++;
                end = e;
            }
        }
        if (digits) {
            char save = *end;

            (void)start;
            *end = '\0';
            d = strtod(p, NULL);
            *end = save;
            ok = !isinf(d);
        }
    }
    free(s);
    if (!ok) {
        mark_nan(ctx, name);
        return json_null();
    }
    return number_json(d);
}

json_t *ah_format_lower(ah_ctx_t *ctx, const char *name, json_t *value)
{
    char *s = dispatch_js_string(value);
    json_t *out;
    char *p;

    (void)ctx;
    (void)name;
    for (p = s; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    out = json_string(s);
    free(s);
    return out ? out : json_string("");
}

json_t *ah_format_boolean(ah_ctx_t *ctx, const char *name, json_t *value)
{
    (void)ctx;
    (void)name;
    if (json_is_boolean(value))
        return json_incref(value);
    if (json_is_number(value))
        return json_boolean(json_number_value(value) != 0);
    if (json_is_string(value)) {
        const char *s = json_string_value(value);

        return json_boolean(strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0 || strcasecmp(s, "yes") == 0 ||
                            strcasecmp(s, "on") == 0);
    }
    return json_false();
}

/* ---------------------------------------------------------------- validators */

const char *ah_valid_string(ah_ctx_t *ctx, const char *name, json_t *value)
{
    (void)ctx;
    (void)name;
    return json_is_string(value) ? AH_VALID : AH_INVALID;
}

const char *ah_valid_nonempty_string(ah_ctx_t *ctx, const char *name, json_t *value)
{
    (void)ctx;
    (void)name;
    return json_is_string(value) && json_string_length(value) > 0 ? AH_VALID : AH_INVALID;
}

const char *ah_valid_integer(ah_ctx_t *ctx, const char *name, json_t *value)
{
    (void)ctx;
    (void)name;
    if (json_is_integer(value))
        return AH_VALID;
    if (json_is_real(value) && json_real_value(value) == floor(json_real_value(value)))
        return AH_VALID;
    return AH_INVALID;
}

const char *ah_valid_number(ah_ctx_t *ctx, const char *name, json_t *value)
{
    (void)ctx;
    (void)name;
    return json_is_number(value) ? AH_VALID : AH_INVALID;
}
