/*
 * config.c - the configuration tree: dotted-path access, Actionhero's merge
 * rules, where values came from, and the error texts of config.errors.
 * Loading (files, environment, flags) is in load.c, the checks in
 * validate.c, the option table in options.c.
 */
#include "config/config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "config/config_internal.h"
#include "core/core.h"

/* ------------------------------------------------------------ the tree */

json_t *config_tree_get(json_t *root, const char *path)
{
    json_t *cur = root;
    const char *p = path;

    if (path == NULL || *path == '\0')
        return NULL;
    while (cur && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);

        if (!json_is_object(cur))
            return NULL;
        cur = json_object_getn(cur, p, n);
        p += n;
        if (*p == '.')
            p++;
    }
    return cur;
}

int config_tree_set(json_t *root, const char *path, json_t *value_take)
{
    json_t *cur = root;
    const char *p = path;

    config_changed();
    if (!json_is_object(root) || path == NULL || *path == '\0')
        goto fail;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        json_t *next;

        if (n == 0)
            goto fail;
        if (dot == NULL) {
            if (value_take == NULL || json_is_null(value_take)) {
                json_object_deln(cur, p, n);
                json_decref(value_take);
                return 0;
            }
            json_object_setn_new(cur, p, n, value_take);
            return 0;
        }
        next = json_object_getn(cur, p, n);
        if (next == NULL) {
            if (value_take == NULL || json_is_null(value_take)) {
                json_decref(value_take);
                return 0;         /* deleting below a missing key: done */
            }
            next = json_object();
            json_object_setn_new(cur, p, n, next);
        } else if (!json_is_object(next)) {
            goto fail;
        }
        cur = next;
        p = dot + 1;
    }
fail:
    json_decref(value_take);
    return -1;
}

/* ------------------------------------------------------------ origins */

void config_origin_set(struct config_origins *o, const char *path, const char *source)
{
    size_t n = strlen(path);
    const char *k;
    void *tmp;
    json_t *v;

    if (o == NULL)
        return;
    if (o->map == NULL)
        o->map = json_object();
    /* A value set at `path` replaces whatever was recorded below it. */
    json_object_foreach_safe(o->map, tmp, k, v) {
        if (strncmp(k, path, n) == 0 && k[n] == '.')
            json_object_del(o->map, k);
    }
    json_object_set_new(o->map, path, json_string(source));
}

const char *config_origin_get(const struct config_origins *o, const char *path)
{
    char *p;
    const char *found = NULL;

    if (o == NULL || o->map == NULL)
        return NULL;
    p = xstrdup(path);
    for (;;) {
        json_t *v = json_object_get(o->map, p);
        char *dot;

        if (v) {
            found = json_string_value(v);
            break;
        }
        dot = strrchr(p, '.');
        if (dot == NULL)
            break;
        *dot = '\0';
    }
    free(p);
    return found;
}

/* ------------------------------------------------------------ merging */

/* Copy of `v` without null members in objects (null deletes, so a null
 * inside a value that replaces a non-object means "absent"). */
static json_t *clean_copy(json_t *v)
{
    if (json_is_object(v)) {
        json_t *o = json_object();
        const char *k;
        json_t *x;

        json_object_foreach(v, k, x) {
            if (!json_is_null(x))
                json_object_set_new(o, k, clean_copy(x));
        }
        return o;
    }
    return json_deep_copy(v);
}

static char *join_path(const char *prefix, const char *key)
{
    return *prefix ? xasprintf("%s.%s", prefix, key) : xstrdup(key);
}

void config_merge_from(json_t *dst, json_t *src, const char *prefix, struct config_origins *o,
                       const char *source)
{
    const char *k;
    json_t *v;

    config_changed();
    if (!json_is_object(dst) || !json_is_object(src))
        return;
    json_object_foreach(src, k, v) {
        json_t *d = json_object_get(dst, k);
        char *path = o ? join_path(prefix, k) : NULL;

        if (json_is_object(v)) {
            if (json_object_size(v) == 0) {
                /* hashMerge: an empty object only creates, never replaces */
                if (d == NULL) {
                    json_object_set_new(dst, k, json_object());
                    if (o)
                        config_origin_set(o, path, source);
                }
            } else if (json_is_object(d)) {
                config_merge_from(d, v, path ? path : "", o, source);
            } else {
                json_object_set_new(dst, k, clean_copy(v));
                if (o)
                    config_origin_set(o, path, source);
            }
        } else if (json_is_null(v)) {
            json_object_del(dst, k);
            if (o)
                config_origin_set(o, path, source);
        } else {
            json_object_set_new(dst, k, json_deep_copy(v));
            if (o)
                config_origin_set(o, path, source);
        }
        free(path);
    }
}

void config_merge(json_t *dst, json_t *src)
{
    config_merge_from(dst, src, "", NULL, NULL);
}

/* ------------------------------------------------------------ lookups */

/* Lookups by dotted path run on every request (log limits, param
 * scrubbing, ...), so the last answers are remembered per thread, keyed by
 * the path's address and checked against its text, the root and a
 * generation that every change to a configuration tree made through this
 * module (set, merge, load, testkit) bumps. */
static unsigned long config_gen = 1;

struct config_memo {
    const char *path;
    const json_t *root;
    unsigned long gen;
    json_t *value;
    char text[56];
};
static __thread struct config_memo memo[128];

void config_changed(void)
{
    __atomic_add_fetch(&config_gen, 1, __ATOMIC_RELAXED);
}

json_t *config_get(ah_app_t *app, const char *path)
{
    struct config_memo *set;
    unsigned long gen = __atomic_load_n(&config_gen, __ATOMIC_RELAXED);
    size_t n, i;
    json_t *v;

    if (path == NULL)
        return NULL;
    /* two ways per set: the dozen paths read per request never evict
     * each other */
    set = &memo[((uint64_t)(uintptr_t)path * 0x9E3779B97F4A7C15ULL >> 58) * 2];
    for (i = 0; i < 2; i++) {
        struct config_memo *m = &set[i];

        if (m->path == path && m->root == app->config && m->gen == gen && strcmp(m->text, path) == 0)
            return m->value;
    }
    v = config_tree_get(app->config, path);
    n = strlen(path);
    if (n < sizeof(set->text)) {
        set[1] = set[0];
        set[0].path = path;
        set[0].root = app->config;
        set[0].gen = gen;
        set[0].value = v;
        memcpy(set[0].text, path, n + 1);
    }
    return v;
}

long long config_int(ah_app_t *app, const char *path, long long dflt)
{
    json_t *v = config_get(app, path);

    if (json_is_integer(v))
        return json_integer_value(v);
    if (json_is_real(v)) {
        double d = json_real_value(v);

        if (d >= -9.2e18 && d <= 9.2e18)
            return (long long)d;
    }
    return dflt;
}

double config_real(ah_app_t *app, const char *path, double dflt)
{
    json_t *v = config_get(app, path);

    return json_is_number(v) ? json_number_value(v) : dflt;
}

const char *config_str(ah_app_t *app, const char *path, const char *dflt)
{
    json_t *v = config_get(app, path);

    return json_is_string(v) ? json_string_value(v) : dflt;
}

bool config_bool(ah_app_t *app, const char *path, bool dflt)
{
    json_t *v = config_get(app, path);

    return v ? core_truthy(v) : dflt;
}

int config_set(ah_app_t *app, const char *path, json_t *value_take)
{
    if (app->config == NULL)
        app->config = json_object();
    return config_tree_set(app->config, path, value_take) < 0 ? AH_EINVAL : 0;
}

/* ------------------------------------------------------------ error texts */

char *config_format_text(const char *tmpl, va_list ap)
{
    struct buf b = BUF_INIT;
    const char *names[16], *values[16];
    size_t n = 0, i;
    const char *p = tmpl;

    for (;;) {
        const char *name = va_arg(ap, const char *);

        if (name == NULL)
            break;
        if (n < ARRAY_SIZE(names)) {
            names[n] = name;
            values[n] = va_arg(ap, const char *);
            n++;
        } else {
            (void)va_arg(ap, const char *);
        }
    }
    buf_adds(&b, "");
    while (*p) {
        const char *close;

        if (*p == '{' && (close = strchr(p + 1, '}')) != NULL) {
            size_t len = (size_t)(close - p - 1);

            for (i = 0; i < n; i++) {
                if (strlen(names[i]) == len && strncmp(names[i], p + 1, len) == 0)
                    break;
            }
            if (i < n) {
                buf_adds(&b, values[i] ? values[i] : "undefined");
                p = close + 1;
                continue;
            }
        }
        buf_addc(&b, *p++);
    }
    return buf_detach(&b, NULL);
}

char *config_error_text(ah_app_t *app, const char *key, ...)
{
    const char *tmpl = NULL;
    char *path = xasprintf("errors.%s", key);
    const struct config_option *opt = config_option_find(path);
    json_t *dflt = NULL;
    va_list ap;
    char *out;

    if (app && app->config)
        tmpl = config_str(app, path, NULL);
    if (tmpl == NULL && opt && opt->dflt && opt->type == CONFIG_STR) {
        dflt = json_loads(opt->dflt, JSON_DECODE_ANY, NULL);
        tmpl = json_string_value(dflt);
    }
    if (tmpl == NULL)
        tmpl = key;
    va_start(ap, key);
    out = config_format_text(tmpl, ap);
    va_end(ap);
    json_decref(dflt);
    free(path);
    return out;
}
