/*
 * log_action.c - the one log line per finished action (actions.md §8) and
 * the filtering of params/responses for logs (filterObjectForLogging):
 * top-level arrays longer than logger.maxLogArrayLength become
 * "<n> items", top-level strings are cut to logger.maxLogStringLength
 * UTF-16 units, and every dotted path of general.filteredParams
 * (filteredResponse) that exists becomes "[FILTERED]".
 */
#include "dispatch/dispatch_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/core.h"
#include "core/json_out.h"
#include "log/log.h"

/* Byte length of the prefix of UTF-8 `s` that holds at most `units` UTF-16
 * code units (a pair is never split). */
static size_t utf16_prefix(const char *s, size_t len, size_t units)
{
    size_t i = 0, u = 0;

    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        size_t step = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
        size_t w = step == 4 ? 2 : 1;

        if (u + w > units || i + step > len)
            break;
        u += w;
        i += step;
    }
    return i;
}

/* Walk a dotted path; NULL when some part does not exist. */
static json_t *path_get(json_t *root, const char *path, json_t **parent, char *last, size_t lastlen)
{
    json_t *cur = root, *par = NULL;
    const char *p = path;

    last[0] = '\0';
    while (*p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);

        par = cur;
        if (n >= lastlen)
            return NULL;
        memcpy(last, p, n);
        last[n] = '\0';
        if (json_is_object(cur)) {
            cur = json_object_getn(cur, p, n);
        } else if (json_is_array(cur)) {
            uint32_t idx;

            cur = core_is_array_index(last, &idx) ? json_array_get(cur, idx) : NULL;
        } else {
            return NULL;
        }
        if (cur == NULL)
            return NULL;
        p += n;
        if (*p == '.')
            p++;
    }
    *parent = par;
    return cur == root ? NULL : cur;
}

json_t *dispatch_filter_for_log(ah_app_t *app, json_t *obj, const char *filter_key)
{
    long long max_arr = config_int(app, "logger.maxLogArrayLength", 10);
    long long max_str = config_int(app, "logger.maxLogStringLength", 100);
    json_t *copy, *filters, *v;
    const char *k;
    size_t i;

    if (!json_is_object(obj))
        return json_deep_copy(obj);
    /* The common case (short values, nothing to filter) needs no copy: the
     * log line only reads it.  The caller gets a reference either way. */
    filters = filter_key ? config_get(app, filter_key) : NULL;
    if (json_array_size(filters) == 0) {
        bool clean = true;

        json_object_foreach(obj, k, v) {
            if ((json_is_array(v) && (long long)json_array_size(v) > max_arr) ||
                (json_is_string(v) && max_str >= 0 && (long long)json_string_length(v) > max_str)) {
                clean = false;
                break;
            }
        }
        if (clean)
            return json_incref(obj);
    }
    copy = json_deep_copy(obj);
    json_object_foreach(copy, k, v) {
        if (json_is_array(v) && (long long)json_array_size(v) > max_arr) {
            char t[48];

            snprintf(t, sizeof(t), "%zu items", json_array_size(v));
            json_object_set_new(copy, k, json_string(t));
            v = json_object_get(copy, k);
        }
        if (json_is_string(v) && max_str >= 0) {
            size_t len = json_string_length(v);
            size_t cut = utf16_prefix(json_string_value(v), len, (size_t)max_str);

            if (cut < len)
                json_object_set_new(copy, k, json_stringn(json_string_value(v), cut));
        }
    }
    for (i = 0; json_is_array(filters) && i < json_array_size(filters); i++) {
        const char *path = json_string_value(json_array_get(filters, i));
        json_t *parent = NULL, *hit;
        char last[256];

        if (path == NULL || path[0] == '\0')
            continue;
        hit = path_get(copy, path, &parent, last, sizeof(last));
        if (hit == NULL || parent == NULL)
            continue;
        if (json_is_object(parent)) {
            json_object_set_new(parent, last, json_string("[FILTERED]"));
        } else if (json_is_array(parent)) {
            uint32_t idx;

            if (core_is_array_index(last, &idx))
                json_array_set_new(parent, idx, json_string("[FILTERED]"));
        }
    }
    return copy;
}

/* The fields of one action log line, in Actionhero's order; the filtered
 * copies and the error text live here until the line is written. */
struct log_line {
    struct log_field f[8];
    size_t n;
    json_t *params, *response;
    struct buf error;
};

static void add_str(struct log_line *l, const char *key, const char *s)
{
    l->f[l->n++] = (struct log_field){.key = key, .kind = LOG_F_STR, .s = s, .len = s ? strlen(s) : 0};
}

static void collect(ah_ctx_t *ctx, struct log_line *l)
{
    struct dctx *x = dctx_of(ctx);
    ah_app_t *app = ctx->app;
    ah_connection_t *c = ctx->connection;

    l->n = 0;
    l->params = l->response = NULL;
    buf_init(&l->error);
    add_str(l, "to", c->remote_ip);
    if (ctx->action)
        add_str(l, "action", ctx->action);
    else
        l->f[l->n++] = (struct log_field){.key = "action", .kind = LOG_F_VALUE, .v = json_null()};
    l->params = dispatch_filter_for_log(app, ctx->params, "general.filteredParams");
    l->f[l->n++] = (struct log_field){.key = "params", .kind = LOG_F_JSON_TEXT, .v = l->params};
    l->f[l->n++] = (struct log_field){.key = "duration", .kind = LOG_F_INT, .i = (long long)ctx->duration};
    if (strcmp(c->type, "web") == 0) {
        if (x->log_method[0])
            add_str(l, "method", x->log_method);
        if (x->log_pathname)
            add_str(l, "pathname", x->log_pathname);
    }
    if (ctx->error) {
        const char *m = json_string_value(ctx->error);

        buf_add(&l->error, "Error: ", 7);
        buf_adds(&l->error, m ? m : "");
        l->f[l->n++] = (struct log_field){.key = "error", .kind = LOG_F_STR, .s = l->error.data,
                                          .len = l->error.len};
    } else {
        add_str(l, "error", "");
    }
    if (config_bool(app, "general.enableResponseLogging", false)) {
        json_t *resp = ctx->response, *f;

        if (json_is_object(resp) && x->error_is_exception) {
            /* an Error in the response is logged as its message, uncut */
            json_t *err = json_incref(json_object_get(resp, "error"));

            f = dispatch_filter_for_log(app, resp, "general.filteredResponse");
            if (err && json_is_string(json_object_get(f, "error")))
                json_object_set(f, "error", err);
            json_decref(err);
        } else {
            f = dispatch_filter_for_log(app, resp, "general.filteredResponse");
        }
        l->response = f;
        /* JSON.stringify(undefined) is undefined: String() of it, as before */
        l->f[l->n++] = (struct log_field){.key = "response", .kind = LOG_F_JSON_TEXT, .v = f};
    }
}

static void release(struct log_line *l)
{
    json_decref(l->params);
    json_decref(l->response);
    buf_release(&l->error);
}

json_t *dispatch_log_fields(ah_ctx_t *ctx)
{
    struct log_line l;
    json_t *data = json_object();
    size_t i;

    collect(ctx, &l);
    for (i = 0; i < l.n; i++) {
        const struct log_field *f = &l.f[i];
        json_t *v = NULL;

        switch (f->kind) {
        case LOG_F_STR:
            v = json_stringn(f->s ? f->s : "", f->len);
            break;
        case LOG_F_INT:
            v = json_integer((json_int_t)f->i);
            break;
        case LOG_F_JSON_TEXT: {
            char *t = json_out_str(f->v, 0, 0, NULL);

            v = json_string(t ? t : "");
            free(t);
            break;
        }
        case LOG_F_VALUE:
            v = json_incref((json_t *)(uintptr_t)f->v);
            break;
        }
        if (v)
            json_object_set_new(data, f->key, v);
    }
    release(&l);
    return data;
}

int dispatch_log_level(ah_ctx_t *ctx)
{
    const ah_action_t *a = ctx->action_template;
    int level = AH_LOG_INFO;

    if (ctx->error)
        return AH_LOG_ERROR;
    if (a && a->log_level) {
        level = log_level_parse(a->log_level);
        if (level < 0)
            level = AH_LOG_INFO;
    }
    return level;
}

void dispatch_log_action(struct dctx *x)
{
    ah_ctx_t *ctx = &x->pub;
    int level = dispatch_log_level(ctx);
    const char *type = ctx->connection->type;
    struct log_line l;
    char msg[96];
    size_t tl = strlen(type);

    if (!log_enabled(level))
        return;
    if (tl > sizeof(msg) - 16)
        tl = sizeof(msg) - 16;
    memcpy(msg, "[ action @ ", 11);
    memcpy(msg + 11, type, tl);
    memcpy(msg + 11 + tl, " ]", 3);
    collect(ctx, &l);
    log_fields(level, msg, l.f, l.n);
    release(&l);
}
