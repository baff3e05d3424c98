/*
 * validate.c - check and normalise the merged tree with the option table.
 *
 * Every option is checked in table order and the first problem stops boot
 * with one line "<source>: <key>: <problem>", where <source> is the file,
 * environment variable or flag that last set the key (or deleted it).
 * Normalisation: integer and number options accept numeric strings (PORT,
 * --set, ACTIONHERO_SHUTDOWN_TIMEOUT arrive as text) and integral reals, and
 * are stored back as JSON numbers, so readers can rely on config_int().
 * Keys that no option describes are not errors (projects add their own);
 * inside the namespaces we know they are reported as warnings.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/config_internal.h"
#include "core/core.h"

static const char *const levels[] = {"emerg", "alert", "crit", "error", "warning", "notice", "info", "debug"};
/* routerMethods of Actionhero (also the route lists of http/routes.h) */
static const char *const route_methods[] = {"all", "head", "get", "patch", "post", "put", "delete"};

struct vctx {
    json_t *root;
    const struct config_origins *o;
    json_t *warnings;
    char *err;
    size_t errlen;
};

void config_describe(const json_t *v, char *out, size_t outlen)
{
    char *s;

    if (v == NULL) {
        snprintf(out, outlen, "nothing");
        return;
    }
    s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (s == NULL) {
        snprintf(out, outlen, "?");
        return;
    }
    if (strlen(s) > 80)
        snprintf(out, outlen, "%.77s...", s);
    else
        snprintf(out, outlen, "%s", s);
    free(s);
}

static const char *source_of(struct vctx *c, const char *path)
{
    const char *s = config_origin_get(c->o, path);

    return s ? s : "built-in defaults";
}

static int fail(struct vctx *c, const char *path, const char *fmt, ...) AH_PRINTF(3, 4);
static int fail(struct vctx *c, const char *path, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(c->err, c->errlen, "%s: %s: %s", source_of(c, path), path, msg);
    return -1;
}

static void fmt_num(double d, char *out, size_t n)
{
    if (d == floor(d) && fabs(d) < 1e18)
        snprintf(out, n, "%lld", (long long)d);
    else
        snprintf(out, n, "%g", d);
}

/* "123", "-5", " 42 " -> integer; anything else: false. */
static bool parse_int_text(const char *s, long long *out)
{
    char *end;
    long long v;

    while (*s == ' ' || *s == '\t')
        s++;
    if (*s == '\0')
        return false;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || end == s)
        return false;
    while (*end == ' ' || *end == '\t')
        end++;
    if (*end != '\0')
        return false;
    *out = v;
    return true;
}

static bool parse_num_text(const char *s, double *out)
{
    char *end;
    double v;

    while (*s == ' ' || *s == '\t')
        s++;
    if (*s == '\0')
        return false;
    errno = 0;
    v = strtod(s, &end);
    if (errno != 0 || end == s || !isfinite(v))
        return false;
    while (*end == ' ' || *end == '\t')
        end++;
    if (*end != '\0')
        return false;
    *out = v;
    return true;
}

/* Replace the value at `path` (normalisation). */
static void put(struct vctx *c, const char *path, json_t *v)
{
    config_tree_set(c->root, path, v);
}

static int check_int(struct vctx *c, const struct config_option *opt, json_t *v)
{
    long long n;
    char lo[32], hi[32], got[96];

    if (json_is_integer(v))
        n = json_integer_value(v);
    else if (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)) && fabs(json_real_value(v)) < 9e15)
        n = (long long)json_real_value(v);
    else if (!json_is_string(v) || !parse_int_text(json_string_value(v), &n))
        goto bad;
    if ((double)n < opt->min || (double)n > opt->max)
        goto bad;
    if (!json_is_integer(v))
        put(c, opt->name, json_integer(n));     /* v is gone from here on */
    return 0;
bad:
    fmt_num(opt->min, lo, sizeof(lo));
    fmt_num(opt->max, hi, sizeof(hi));
    config_describe(v, got, sizeof(got));
    return fail(c, opt->name, "expected an integer %s..%s, got %s", lo, hi, got);
}

static int check_num(struct vctx *c, const struct config_option *opt, json_t *v)
{
    double d;
    char lo[32], hi[32], got[96];

    if (json_is_number(v))
        d = json_number_value(v);
    else if (!json_is_string(v) || !parse_num_text(json_string_value(v), &d))
        goto bad;
    if (d < opt->min || d > opt->max)
        goto bad;
    if (json_is_string(v)) {
        long long n;

        if (parse_int_text(json_string_value(v), &n))
            put(c, opt->name, json_integer(n));
        else
            put(c, opt->name, json_real(d));
    }
    return 0;
bad:
    fmt_num(opt->min, lo, sizeof(lo));
    fmt_num(opt->max, hi, sizeof(hi));
    config_describe(v, got, sizeof(got));
    return fail(c, opt->name, "expected a number %s..%s, got %s", lo, hi, got);
}

static int check_port(struct vctx *c, const struct config_option *opt, json_t *v)
{
    long long n;
    char got[96];

    if (json_is_string(v) && parse_int_text(json_string_value(v), &n)) {
        if (n >= 1 && n <= 65535) {
            put(c, opt->name, json_integer(n));
            return 0;
        }
    } else if (json_is_string(v) && strchr(json_string_value(v), '/') != NULL) {
        return 0;
    } else if (json_is_integer(v)) {
        n = json_integer_value(v);
        if (n >= 1 && n <= 65535)
            return 0;
    }
    config_describe(v, got, sizeof(got));
    return fail(c, opt->name, "expected an integer 1..65535 or a socket path, got %s", got);
}

static bool is_level(const char *s)
{
    size_t i;

    for (i = 0; i < ARRAY_SIZE(levels); i++)
        if (strcmp(s, levels[i]) == 0)
            return true;
    return false;
}

static bool is_route_method(const char *s)
{
    size_t i;

    for (i = 0; i < ARRAY_SIZE(route_methods); i++)
        if (strcmp(s, route_methods[i]) == 0)
            return true;
    return false;
}

static bool is_token_char(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

static int check_headers(struct vctx *c, const struct config_option *opt, json_t *v)
{
    const char *k;
    json_t *x;
    char got[96];

    if (!json_is_object(v)) {
        config_describe(v, got, sizeof(got));
        return fail(c, opt->name, "expected an object of header names and values, got %s", got);
    }
    json_object_foreach(v, k, x) {
        char *path = xasprintf("%s.%s", opt->name, k);
        const unsigned char *p = (const unsigned char *)k;
        int rc = 0;

        if (*p == '\0')
            rc = fail(c, path, "empty header name");
        for (; rc == 0 && *p; p++) {
            if (!is_token_char(*p))
                rc = fail(c, path, "invalid character in the header name");
        }
        if (rc == 0 && json_is_string(x)) {
            for (p = (const unsigned char *)json_string_value(x); rc == 0 && *p; p++) {
                if (*p == '\r' || *p == '\n' || (*p < 0x20 && *p != '\t') || *p == 0x7f)
                    rc = fail(c, path, "control character in the header value");
            }
        } else if (rc == 0 && !json_is_number(x) && !json_is_boolean(x) && !json_is_null(x)) {
            config_describe(x, got, sizeof(got));
            rc = fail(c, path, "expected a string, got %s", got);
        }
        free(path);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Routes (web.md §5.1): {method: [{path, action | dir, apiVersion?,
 * matchTrailingPathParts?}]}. */
static int check_routes(struct vctx *c, const char *name, json_t *v)
{
    const char *m;
    json_t *list;
    char got[96];

    if (!json_is_object(v)) {
        config_describe(v, got, sizeof(got));
        return fail(c, name, "expected an object of route lists, got %s", got);
    }
    json_object_foreach(v, m, list) {
        char path[256];
        size_t i;
        json_t *r;

        snprintf(path, sizeof(path), "%s.%s", name, m);
        if (!is_route_method(m))
            return fail(c, path, "unknown route method (expected all, head, get, patch, post, put or delete)");
        if (!json_is_array(list)) {
            config_describe(list, got, sizeof(got));
            return fail(c, path, "expected an array of routes, got %s", got);
        }
        json_array_foreach(list, i, r) {
            json_t *p = json_object_get(r, "path"), *a = json_object_get(r, "action");
            json_t *d = json_object_get(r, "dir"), *av = json_object_get(r, "apiVersion");
            json_t *mt = json_object_get(r, "matchTrailingPathParts");

            config_describe(r, got, sizeof(got));
            if (!json_is_object(r))
                return fail(c, path, "route %zu: expected an object, got %s", i, got);
            if (!json_is_string(p))
                return fail(c, path, "route %zu: \"path\" must be a string: %s", i, got);
            if (!json_is_string(a) && !json_is_string(d))
                return fail(c, path, "route %zu: needs an \"action\" or a \"dir\" string: %s", i, got);
            if ((a && !json_is_string(a) && !json_is_null(a)) || (d && !json_is_string(d) && !json_is_null(d)))
                return fail(c, path, "route %zu: \"action\" and \"dir\" must be strings: %s", i, got);
            if (av && !json_is_string(av) && !json_is_number(av) && !json_is_null(av))
                return fail(c, path, "route %zu: \"apiVersion\" must be a string or a number: %s", i, got);
            if (mt && !json_is_boolean(mt) && !json_is_null(mt))
                return fail(c, path, "route %zu: \"matchTrailingPathParts\" must be true or false: %s", i, got);
        }
    }
    return 0;
}

static int check_one(struct vctx *c, const struct config_option *opt)
{
    json_t *v = config_tree_get(c->root, opt->name);
    bool nullable = (opt->flags & CONFIG_NULLABLE) || opt->dflt == NULL;
    char got[96];
    size_t i;
    json_t *x;

    if (v == NULL || json_is_null(v)) {
        if (nullable)
            return 0;
        return fail(c, opt->name, "is required (null deletes it)");
    }
    switch (opt->type) {
    case CONFIG_INT:
        return check_int(c, opt, v);
    case CONFIG_NUM:
        return check_num(c, opt, v);
    case CONFIG_PORT:
        return check_port(c, opt, v);
    case CONFIG_BOOL:
        if (json_is_boolean(v))
            return 0;
        config_describe(v, got, sizeof(got));
        return fail(c, opt->name, "expected true or false, got %s", got);
    case CONFIG_STR:
        if (json_is_string(v))
            return 0;
        config_describe(v, got, sizeof(got));
        return fail(c, opt->name, "expected a string, got %s", got);
    case CONFIG_ENUM:
        if (json_is_string(v)) {
            const char *s = json_string_value(v), *p = opt->choices;
            size_t n = strlen(s);

            while (p && *p) {
                const char *bar = strchr(p, '|');
                size_t len = bar ? (size_t)(bar - p) : strlen(p);

                if (len == n && strncmp(p, s, n) == 0)
                    return 0;
                p = bar ? bar + 1 : NULL;
            }
        }
        if (strcmp(opt->name, "web.rootEndpointType") == 0)
            return fail(c, opt->name, "rootEndpointType can only be 'api' or 'file'");
        config_describe(v, got, sizeof(got));
        return fail(c, opt->name, "expected one of %s, got %s", opt->choices, got);
    case CONFIG_LEVEL:
        if (json_is_string(v) && is_level(json_string_value(v)))
            return 0;
        config_describe(v, got, sizeof(got));
        return fail(c, opt->name,
                    "expected a log level (emerg, alert, crit, error, warning, notice, info, debug), got %s",
                    got);
    case CONFIG_STRS:
        if (!json_is_array(v))
            goto bad_strs;
        json_array_foreach(v, i, x) {
            if (!json_is_string(x))
                goto bad_strs;
        }
        if ((double)json_array_size(v) < opt->min)
            return fail(c, opt->name, "expected at least %g entr%s", opt->min, opt->min == 1 ? "y" : "ies");
        return 0;
bad_strs:
        config_describe(v, got, sizeof(got));
        return fail(c, opt->name, "expected an array of strings, got %s", got);
    case CONFIG_ARRAY:
        if (json_is_array(v))
            return 0;
        config_describe(v, got, sizeof(got));
        return fail(c, opt->name, "expected an array, got %s", got);
    case CONFIG_VERBS:
        if (!json_is_array(v)) {
            config_describe(v, got, sizeof(got));
            return fail(c, opt->name, "expected an array of HTTP verbs, got %s", got);
        }
        json_array_foreach(v, i, x) {
            if (!json_is_string(x) || !is_route_method(json_string_value(x))) {
                config_describe(x, got, sizeof(got));
                return fail(c, opt->name, "%s is not an HTTP verb",
                            json_is_string(x) ? json_string_value(x) : got);
            }
        }
        return 0;
    case CONFIG_OBJECT:
    case CONFIG_MAP:
        if (json_is_object(v))
            return 0;
        config_describe(v, got, sizeof(got));
        return fail(c, opt->name, "expected an object, got %s", got);
    case CONFIG_HEADERS:
        return check_headers(c, opt, v);
    case CONFIG_ROUTES:
        return check_routes(c, opt->name, v);
    }
    return 0;
}

/* Keys inside our namespaces that no option describes. */
static void find_unknown(struct vctx *c, json_t *obj, const char *prefix)
{
    const char *k;
    json_t *v;

    json_object_foreach(obj, k, v) {
        char *path = xasprintf("%s.%s", prefix, k);
        const struct config_option *opt = config_option_find(path);

        if (opt == NULL)
            json_array_append_new(c->warnings,
                                  json_sprintf("%s: %s: unknown option (ignored)", source_of(c, path), path));
        else if (opt->type == CONFIG_OBJECT && json_is_object(v))
            find_unknown(c, v, path);
        free(path);
    }
}

int config_validate(json_t *root, const struct config_origins *o, json_t *warnings, char *err,
                    size_t errlen)
{
    struct vctx c = {root, o, warnings, err, errlen};
    const struct config_option *opts;
    size_t n, i;
    json_t *ns, *ret;
    const char *k;

    opts = config_options(&n);
    for (i = 0; i < n; i++) {
        /* children of a missing or mistyped object are reported there */
        const char *dot = strrchr(opts[i].name, '.');

        if (dot) {
            char *parent = xstrndup(opts[i].name, (size_t)(dot - opts[i].name));
            bool skip = !json_is_object(config_tree_get(root, parent));

            free(parent);
            if (skip && (opts[i].flags & CONFIG_NULLABLE || opts[i].dflt == NULL))
                continue;
        }
        if (check_one(&c, &opts[i]) < 0)
            return -1;
    }

    /* web.md §1 boot check */
    ret = config_tree_get(root, "web.rootEndpointType");
    if (json_is_string(ret) && strcmp(json_string_value(ret), "file") == 0 &&
        !core_truthy(config_tree_get(root, "web.urlPathForFiles"))) {
        const char *src = config_origin_get(o, "web.urlPathForFiles");

        return fail(&c, src ? "web.urlPathForFiles" : "web.rootEndpointType",
                    "rootEndpointType cannot be \"file\" without a urlPathForFiles");
    }

    if (warnings) {
        json_object_foreach(root, k, ns) {
            const struct config_option *opt = config_option_find(k);

            if (opt && opt->type == CONFIG_OBJECT && json_is_object(ns))
                find_unknown(&c, ns, k);
        }
    }
    return 0;
}
