/*
 * routes.c - the route table (web.md §5): seven ordered method lists,
 * routes from config.routes and automaticRoutes, and matchURL.
 *
 * Matching follows Actionhero's matchURL to the letter, quirks included:
 * a literal prefix before ':' only has to be *contained* in the path part
 * (its first occurrence is removed), `name(regex)` constraints are
 * unanchored JavaScript regexes (compiled with PCRE2 at registration, with
 * JS-like options: $ only at the very end, \u escapes; backtracking is
 * bounded by a match limit), literal segments compare case-insensitively
 * (ASCII), and with matchTrailingPathParts the last route segment takes the
 * path parts whose index is greater *as a string* than its own (JS `j > i`
 * on for-in keys), joined with '/'.
 */
#include "http/routes.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "app/app.h"
#include "config/config.h"
#include "core/core.h"
#include "dispatch/dispatch.h"
#include "http/http_internal.h"
#include "http/query.h"
#include "log/log.h"

static const char *const method_names[] = ROUTE_METHODS;
#define N_METHODS (sizeof(method_names) / sizeof(method_names[0]))

struct route_seg {
    bool is_var;
    char *text;              /* literal text, or the variable name */
    char *prefix;            /* literal before ':' (NULL when empty) */
    pcre2_code *re;          /* constraint, or NULL */
};

struct route_priv {
    struct route_seg *segs;
    size_t n;
    json_t *api_version;     /* the route's apiVersion value, or NULL */
};

struct route_list {
    struct route **v;
    size_t n, cap;
};

struct routes {
    struct route_list lists[N_METHODS];
    pcre2_match_context *mctx;
    pcre2_match_data *md;
    struct buf pp;           /* the path part being matched (reused) */
};

static int method_index(const char *m)
{
    size_t i;

    for (i = 0; i < N_METHODS; i++)
        if (strcmp(m, method_names[i]) == 0)
            return (int)i;
    return -1;
}

static struct routes *get_routes(ah_app_t *app)
{
    if (app->routes == NULL) {
        app->routes = xcalloc(1, sizeof(*app->routes));
        app->routes->mctx = pcre2_match_context_create(NULL);
        pcre2_set_match_limit(app->routes->mctx, 200000);
        pcre2_set_depth_limit(app->routes->mctx, 10000);
        app->routes->md = pcre2_match_data_create(16, NULL);
    }
    return app->routes;
}

static void seg_release(struct route_seg *s)
{
    free(s->text);
    free(s->prefix);
    if (s->re)
        pcre2_code_free(s->re);
}

static void route_free(struct route *r)
{
    struct route_priv *p = r->priv;
    size_t i;

    if (p) {
        for (i = 0; i < p->n; i++)
            seg_release(&p->segs[i]);
        free(p->segs);
        json_decref(p->api_version);
        free(p);
    }
    free((void *)(uintptr_t)r->path);
    free((void *)(uintptr_t)r->action);
    free((void *)(uintptr_t)r->api_version);
    free((void *)(uintptr_t)r->dir);
    json_decref(r->json);
    free(r);
}

void routes_free(ah_app_t *app)
{
    struct routes *rs = app->routes;
    size_t i, j;

    if (rs == NULL)
        return;
    for (i = 0; i < N_METHODS; i++) {
        for (j = 0; j < rs->lists[i].n; j++)
            route_free(rs->lists[i].v[j]);
        free(rs->lists[i].v);
    }
    pcre2_match_context_free(rs->mctx);
    pcre2_match_data_free(rs->md);
    buf_release(&rs->pp);
    free(rs);
    app->routes = NULL;
}

/* Compile one route segment (matchURL's treatment of a match part). */
static int compile_seg(const char *path, const char *s, size_t n, struct route_seg *out)
{
    const char *last = NULL, *prev = NULL, *p;

    memset(out, 0, sizeof(*out));
    for (p = s; p < s + n; p++) {
        if (*p == ':') {
            prev = last;
            last = p;
        }
    }
    if (last == NULL) {
        out->text = xstrndup(s, n);
        return 0;
    }
    out->is_var = true;
    {
        /* replacement = the piece before the last ':' (split(":")[len-2]) */
        const char *rs = prev ? prev + 1 : s;
        size_t rn = (size_t)(last - rs);

        if (rn > 0)
            out->prefix = xstrndup(rs, rn);
    }
    {
        const char *spec = last + 1;
        size_t sn = (size_t)(s + n - spec);
        const char *paren = memchr(spec, '(', sn);

        if (paren == NULL) {
            out->text = xstrndup(spec, sn);
        } else {
            size_t rlen = sn >= (size_t)(paren - spec) + 2 ? sn - (size_t)(paren - spec) - 2 : 0;
            int errcode;
            PCRE2_SIZE erroff;

            out->text = xstrndup(spec, (size_t)(paren - spec));
            out->re = pcre2_compile((PCRE2_SPTR)(paren + 1), rlen,
                                    PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_DOLLAR_ENDONLY |
                                        PCRE2_ALT_BSUX | PCRE2_NEVER_BACKSLASH_C,
                                    &errcode, &erroff, NULL);
            if (out->re == NULL) {
                PCRE2_UCHAR msg[160];

                pcre2_get_error_message(errcode, msg, sizeof(msg));
                log_error("route '%s': invalid regular expression '%.*s': %s", path, (int)rlen, paren + 1,
                          (const char *)msg);
                seg_release(out);
                return AH_EINVAL;
            }
            (void)pcre2_jit_compile(out->re, PCRE2_JIT_COMPLETE);
        }
    }
    return 0;
}

static struct route *route_new(const char *method, const char *path, const char *action, json_t *api_version,
                               bool match_trailing, const char *dir)
{
    struct route *r = xcalloc(1, sizeof(*r));
    struct route_priv *p = xcalloc(1, sizeof(*p));
    const char *s = path, *end = path + strlen(path);
    size_t cap = 0;

    r->method = method;
    r->path = xstrdup(path);
    r->action = action ? xstrdup(action) : NULL;
    r->dir = dir ? xstrdup(dir) : NULL;
    r->match_trailing_path_parts = match_trailing;
    r->priv = p;
    if (api_version && !json_is_null(api_version)) {
        p->api_version = json_incref(api_version);
        r->api_version = dispatch_js_string(api_version);
    }
    /* path.split("/"), then drop one leading and one trailing empty part */
    {
        struct seg *pieces = NULL;
        size_t np = 0, first = 0, last, k;
        const char *q = s;

        for (;;) {
            const char *slash = memchr(q, '/', (size_t)(end - q));
            const char *e = slash ? slash : end;

            if (np == cap) {
                cap = cap ? cap * 2 : 4;
                pieces = xrealloc(pieces, cap * sizeof(*pieces));
            }
            pieces[np].p = q;
            pieces[np].n = (size_t)(e - q);
            np++;
            if (!slash)
                break;
            q = slash + 1;
        }
        if (pieces[0].n == 0)
            first = 1;
        last = np;
        if (last > first && pieces[last - 1].n == 0)
            last--;
        if (last > first)
            p->segs = xcalloc(last - first, sizeof(*p->segs));
        for (k = first; k < last; k++) {
            if (compile_seg(path, pieces[k].p, pieces[k].n, &p->segs[p->n]) < 0) {
                free(pieces);
                route_free(r);
                return NULL;
            }
            p->n++;
        }
        free(pieces);
    }
    r->json = json_object();
    json_object_set_new(r->json, "path", json_string(path));
    json_object_set_new(r->json, "matchTrailingPathParts", json_boolean(match_trailing));
    if (action)
        json_object_set_new(r->json, "action", json_string(action));
    if (dir)
        json_object_set_new(r->json, "dir", json_string(dir));
    if (p->api_version)
        json_object_set(r->json, "apiVersion", p->api_version);
    return r;
}

static void list_push(struct route_list *l, struct route *r)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    l->v[l->n++] = r;
}

static int register_json(ah_app_t *app, const char *method, const char *path, const char *action,
                         json_t *api_version, bool match_trailing, const char *dir)
{
    struct routes *rs = get_routes(app);
    int mi = method_index(method);
    size_t i;

    if (mi < 0) {
        log_error("cannot register route '%s': '%s' is not an HTTP verb", path ? path : "", method);
        return AH_EINVAL;
    }
    if (path == NULL) {
        log_error("cannot register a route without a path (method '%s')", method);
        return AH_EINVAL;
    }
    for (i = 0; i < N_METHODS; i++) {
        struct route *r;

        if (strcmp(method, "all") != 0 && (int)i != mi)
            continue;
        r = route_new(method_names[i], path, action, api_version, match_trailing, dir);
        if (r == NULL)
            return AH_EINVAL;
        list_push(&rs->lists[i], r);
    }
    return 0;
}

int routes_register(ah_app_t *app, const char *method, const char *path, const char *action,
                    const char *api_version, bool match_trailing, const char *dir)
{
    json_t *v = api_version ? json_string(api_version) : NULL;
    int rc = register_json(app, method, path, action, v, match_trailing, dir);

    json_decref(v);
    return rc;
}

size_t routes_count(ah_app_t *app, const char *method)
{
    int mi = method_index(method);

    if (app->routes == NULL || mi < 0)
        return 0;
    return app->routes->lists[mi].n;
}

const struct route *routes_at(ah_app_t *app, const char *method, size_t i)
{
    int mi = method_index(method);

    if (app->routes == NULL || mi < 0 || i >= app->routes->lists[mi].n)
        return NULL;
    return app->routes->lists[mi].v[i];
}

/* ------------------------------------------------------------ matching */

static bool ci_equal(const char *a, size_t an, const char *b)
{
    size_t i;

    if (strlen(b) != an)
        return false;
    for (i = 0; i < an; i++)
        if (tolower((unsigned char)a[i]) != tolower((unsigned char)b[i]))
            return false;
    return true;
}

/* JS `j > i` on for-in keys: decimal strings compared as strings. */
static bool key_greater(size_t j, size_t i)
{
    char a[24], b[24];

    snprintf(a, sizeof(a), "%zu", j);
    snprintf(b, sizeof(b), "%zu", i);
    return strcmp(a, b) > 0;
}

static void add_var(json_t *vars, const char *name, const char *v, size_t vn)
{
    struct buf dn = BUF_INIT, dv = BUF_INIT;

    /* decodeURIComponent(x.replace(/\+/g, " ")); a bad escape skips it */
    if (query_unescape(&dn, name, strlen(name), true, true) == 0 &&
        query_unescape(&dv, v, vn, true, true) == 0 && memchr(dn.data ? dn.data : "", '\0', dn.len) == NULL) {
        json_t *s = json_stringn(dv.data ? dv.data : "", dv.len);

        if (s)
            json_object_set_new(vars, dn.data ? dn.data : "", s);
    }
    buf_release(&dn);
    buf_release(&dv);
}

static bool match_route(struct routes *rs, const struct route *r, const struct seg *parts, size_t n,
                        json_t **vars)
{
    const struct route_priv *p = r->priv;
    struct buf pp = rs->pp;
    size_t i;
    bool ok = true;

    if (p->n != n && !r->match_trailing_path_parts)
        return false;
    /* literal segments first: most routes fail here, without copying */
    for (i = 0; i < p->n && i < n; i++) {
        if (!p->segs[i].is_var && !(r->match_trailing_path_parts && i == p->n - 1 && i >= n) &&
            !ci_equal(parts[i].p, parts[i].n, p->segs[i].text))
            return false;
    }
    for (i = 0; i < p->n && ok; i++) {
        const struct route_seg *s = &p->segs[i];
        bool defined = i < n;

        buf_reset(&pp);
        if (defined)
            buf_add(&pp, parts[i].p, parts[i].n);
        if (r->match_trailing_path_parts && i == p->n - 1) {
            size_t j;

            for (j = 0; j < n; j++) {
                if (key_greater(j, i)) {
                    if (!defined) {
                        buf_adds(&pp, "undefined");
                        defined = true;
                    }
                    buf_addc(&pp, '/');
                    buf_add(&pp, parts[j].p, parts[j].n);
                }
            }
        }
        if (!defined || pp.len == 0) {
            ok = false;
            break;
        }
        if (s->is_var) {
            const char *val = pp.data;
            size_t vn = pp.len;

            if (s->prefix) {
                char *hit = memmem(pp.data, pp.len, s->prefix, strlen(s->prefix));
                size_t pl = strlen(s->prefix);

                if (hit == NULL) {
                    ok = false;
                    break;
                }
                memmove(hit, hit + pl, pp.len - (size_t)(hit - pp.data) - pl);
                pp.len -= pl;
                pp.data[pp.len] = '\0';
                vn = pp.len;
            }
            if (s->re) {
                int rc = pcre2_match(s->re, (PCRE2_SPTR)val, vn, 0, 0, rs->md, rs->mctx);

                if (rc < 0) {
                    ok = false;
                    break;
                }
            }
            if (*vars == NULL)
                *vars = json_object();
            add_var(*vars, s->text, val, vn);
        } else {
            /* the literal is compared with pathParts[i] itself */
            if (i >= n || !ci_equal(parts[i].p, parts[i].n, s->text)) {
                ok = false;
                break;
            }
        }
    }
    rs->pp = pp; /* keep the memory for the next match */
    return ok;
}

const struct route *routes_match_parts(ah_app_t *app, const char *method, const struct seg *parts, size_t n,
                                       json_t **vars)
{
    struct routes *rs = app->routes;
    int mi = method_index(method);
    size_t i;

    *vars = NULL;
    if (rs == NULL || mi < 0)
        return NULL;
    for (i = 0; i < rs->lists[mi].n; i++) {
        const struct route *r = rs->lists[mi].v[i];
        json_t *v = NULL;

        if (match_route(rs, r, parts, n, &v)) {
            *vars = v ? v : json_object();
            return r;
        }
        json_decref(v);
    }
    return NULL;
}

const struct route *routes_match(ah_app_t *app, const char *method, json_t *segments, json_t **vars)
{
    size_t n = json_array_size(segments), i;
    struct seg *parts = xcalloc(n + 1, sizeof(*parts));
    const struct route *r;

    for (i = 0; i < n; i++) {
        json_t *s = json_array_get(segments, i);

        parts[i].p = json_is_string(s) ? json_string_value(s) : "";
        parts[i].n = json_is_string(s) ? json_string_length(s) : 0;
    }
    r = routes_match_parts(app, method, parts, n, vars);
    free(parts);
    return r;
}

json_t *routes_api_version(const struct route *r)
{
    const struct route_priv *p = r->priv;

    return p->api_version;
}

/* ------------------------------------------------------------ loading */

static int load_config_routes(ah_app_t *app)
{
    json_t *cfg = config_get(app, "routes");
    const char *method;
    json_t *list;

    if (!json_is_object(cfg))
        return 0;
    json_object_foreach(cfg, method, list) {
        size_t i;
        json_t *e;

        if (!json_is_array(list))
            continue;
        json_array_foreach(list, i, e) {
            json_t *path = json_object_get(e, "path");
            json_t *action = json_object_get(e, "action");
            json_t *dir = json_object_get(e, "dir");
            json_t *ver = json_object_get(e, "apiVersion");
            int rc;

            if (!json_is_string(path))
                return ah_app_fail(app, "routes.%s[%zu]: path must be a string", method, i);
            rc = register_json(app, method, json_string_value(path),
                               json_is_string(action) ? json_string_value(action) : NULL,
                               json_is_null(ver) ? NULL : ver,
                               core_truthy(json_object_get(e, "matchTrailingPathParts")),
                               json_is_string(dir) ? json_string_value(dir) : NULL);
            if (rc < 0)
                return ah_app_fail(app, "routes.%s[%zu]: cannot register route '%s'", method, i,
                                   json_string_value(path));
        }
    }
    return 0;
}

static int load_automatic_routes(ah_app_t *app)
{
    json_t *verbs = config_get(app, "web.automaticRoutes");
    size_t i, n = dispatch_count(app);
    json_t *v;

    if (!json_is_array(verbs))
        return 0;
    json_array_foreach(verbs, i, v) {
        const char *verb = json_is_string(v) ? json_string_value(v) : "";
        char upper[16];
        size_t j, k;

        if (method_index(verb) < 0)
            return ah_app_fail(app, "%s is not an HTTP verb", verb);
        for (k = 0; verb[k] && k < sizeof(upper) - 1; k++)
            upper[k] = (char)toupper((unsigned char)verb[k]);
        upper[k] = '\0';
        log_info("creating routes automatically for all actions responding to %s HTTP verb", upper);
        for (j = 0; j < n; j++) {
            const ah_action_t *a = dispatch_at(app, j);
            char *path;
            size_t m;
            bool dup = false;

            /* one route per action name (versions share it), load order */
            for (m = 0; m < j && !dup; m++)
                dup = strcmp(dispatch_at(app, m)->name, a->name) == 0;
            if (dup)
                continue;
            path = xasprintf("/%s", a->name);
            if (register_json(app, verb, path, a->name, NULL, false, NULL) < 0) {
                free(path);
                return ah_app_fail(app, "cannot register the automatic route for '%s'", a->name);
            }
            free(path);
        }
    }
    return 0;
}

static int routes_initialize(ah_app_t *app)
{
    int rc;

    get_routes(app);
    if ((rc = load_config_routes(app)) < 0)
        return rc;
    return load_automatic_routes(app);
}

static int routes_stop(ah_app_t *app)
{
    routes_free(app);
    return 0;
}

AH_INITIALIZER(routes) = {
    .name = "routes",
    .load_priority = PRIO_ROUTES,
    .stop = routes_stop,
    .initialize = routes_initialize,
};
