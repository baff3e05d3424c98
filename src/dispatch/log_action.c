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

/* JSON.stringify for log fields. */
static json_t *json_text(json_t *v)
{
    char *s = json_out_str(v, 0, 0, NULL);
    json_t *out = json_string(s ? s : "");

    free(s);
    return out ? out : json_string("");
}

json_t *dispatch_log_fields(ah_ctx_t *ctx)
{
    struct dctx *x = dctx_of(ctx);
    ah_app_t *app = ctx->app;
    ah_connection_t *c = ctx->connection;
    json_t *data = json_object(), *f;

    json_object_set_new(data, "to", json_string(c->remote_ip));
    json_object_set_new(data, "action", ctx->action ? json_string(ctx->action) : json_null());
    f = dispatch_filter_for_log(app, ctx->params, "general.filteredParams");
    json_object_set_new(data, "params", json_text(f));
    json_decref(f);
    json_object_set_new(data, "duration", json_integer((json_int_t)ctx->duration));
    if (strcmp(c->type, "web") == 0) {
        if (x->log_method[0])
            json_object_set_new(data, "method", json_string(x->log_method));
        if (x->log_pathname)
            json_object_set_new(data, "pathname", json_string(x->log_pathname));
    }
    json_object_set_new(data, "error", json_string(""));
    if (config_bool(app, "general.enableResponseLogging", false)) {
        json_t *resp = ctx->response;

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
        json_object_set_new(data, "response", json_text(f));
        json_decref(f);
    }
    if (ctx->error) {
        char *s = xasprintf("Error: %s", json_string_value(ctx->error) ? json_string_value(ctx->error) : "");

        json_object_set_new(data, "error", json_string(s));
        free(s);
    }
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
    json_t *data;

    if (!log_enabled(level))
        return;
    data = dispatch_log_fields(ctx);
    log_msg(level, data, "[ action @ %s ]", ctx->connection->type);
    json_decref(data);
}
