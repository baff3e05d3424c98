/*
 * config.c - build and query the configuration tree (config.md).
 *
 * Minimal first version: compiled-in defaults only, plus PORT.
 * TODO(#2): config files, environment overlays, env vars, flags, validation.
 */
#include "config/config.h"

#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "core/core.h"

static const char defaults_json[] =
    "{\"general\": {\"serverName\": \"actionhero\", \"apiVersion\": \"0.1.0\","
    " \"simultaneousActions\": 5, \"defaultMiddlewarePriority\": 100},"
    " \"web\": {\"enabled\": true, \"port\": 8080, \"bindIP\": \"::\", \"padding\": 2}}";

void config_merge(json_t *dst, json_t *src)
{
    const char *k;
    json_t *v;

    json_object_foreach(src, k, v) {
        json_t *d = json_object_get(dst, k);

        if (json_is_null(v))
            json_object_del(dst, k);
        else if (json_is_object(v) && json_is_object(d))
            config_merge(d, v);
        else
            json_object_set(dst, k, v);
    }
}

int config_load(ah_app_t *app, const struct config_args *args, char *err, size_t errlen)
{
    json_error_t jerr;
    const char *port = getenv("PORT");

    (void)args;
    app->config = json_loads(defaults_json, 0, &jerr);
    if (app->config == NULL) {
        snprintf(err, errlen, "built-in defaults: %s", jerr.text);
        return AH_EINVAL;
    }
    if (port && *port)
        json_object_set_new(json_object_get(app->config, "web"), "port", json_integer(atoi(port)));
    app->env = xstrdup(getenv("NODE_ENV") ? getenv("NODE_ENV") : "development");
    app->id = xstrdup("actionhero");
    return 0;
}

json_t *config_get(ah_app_t *app, const char *path)
{
    json_t *cur = app->config;
    const char *p = path;

    while (cur && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);

        cur = json_object_getn(cur, p, n);
        p += n;
        if (*p == '.')
            p++;
    }
    return cur;
}

long long config_int(ah_app_t *app, const char *path, long long dflt)
{
    json_t *v = config_get(app, path);

    if (json_is_integer(v))
        return json_integer_value(v);
    if (json_is_real(v))
        return (long long)json_real_value(v);
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

char *config_error_text(ah_app_t *app, const char *key, ...)
{
    (void)app;
    return xstrdup(key);
}
