/*
 * swagger.c - the `swagger` action (builtin.md §1.6): the API as a
 * Swagger 2.0 document built from the route table and the actions.
 *
 * Path keys follow v29 to the letter: the first "/v:apiVersion" is removed
 * and every "/:name" becomes "/{name}" (a regex constraint after the name
 * stays as it is).  Parameters are the action's inputs sorted by name, "path"
 * when the route path contains ":<input>", else "query".
 */
#include <stdlib.h>
#include <string.h>

#include <ah/ah.h>

#include "http/routes.h"

#include "app/app.h"
#include "core/core.h"
#include "core/json_out.h"
#include "dispatch/dispatch.h"

/* One route as swagger sees it (method list name, path, action). */
struct swagger_route {
    const char *method;
    const char *path;
    const char *action;
};

json_t *swagger_paths(ah_ctx_t *ctx, const struct swagger_route *routes, size_t n);

static bool word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static char *format_path(const char *path)
{
    struct buf b = BUF_INIT;
    const char *p = path, *v = strstr(path, "/v:apiVersion");

    while (*p) {
        if (p == v) {
            p += strlen("/v:apiVersion");
            continue;
        }
        if (p[0] == '/' && p[1] == ':') {
            const char *s = p + 2, *e = s;

            while (word_char(*e))
                e++;
            buf_adds(&b, "/{");
            buf_add(&b, s, (size_t)(e - s));
            buf_addc(&b, '}');
            p = e;
            continue;
        }
        buf_addc(&b, *p++);
    }
    return buf_detach(&b, NULL);
}

static int cmp_input(const void *x, const void *y)
{
    return strcmp((*(const ah_input_t *const *)x)->name, (*(const ah_input_t *const *)y)->name);
}

/* `default` of one parameter, or NULL to omit it. */
static json_t *param_default(ah_ctx_t *ctx, const ah_input_t *in)
{
    json_t *d, *out;

    if (in->default_fn)
        return in->default_fn(ctx, in->name); /* its value as is */
    if (in->default_json == NULL)
        return NULL;
    d = json_loads(in->default_json, JSON_DECODE_ANY, NULL);
    if (d == NULL || json_is_null(d)) {
        json_decref(d);
        return NULL;
    }
    if (json_is_object(d) || json_is_array(d)) {
        char *s = json_out_str(d, 0, 0, NULL); /* JSON.stringify */

        out = json_string(s ? s : "");
        free(s);
    } else {
        char *s = dispatch_js_string(d);

        out = json_string(s);
        free(s);
    }
    json_decref(d);
    return out;
}

static json_t *parameters(ah_ctx_t *ctx, const ah_action_t *a, const char *path)
{
    json_t *list = json_array();
    const ah_input_t **v;
    size_t n = 0, i;

    while (a->inputs && a->inputs[n].name)
        n++;
    v = xcalloc(n + 1, sizeof(*v));
    for (i = 0; i < n; i++)
        v[i] = &a->inputs[i];
    qsort(v, n, sizeof(*v), cmp_input);
    for (i = 0; i < n; i++) {
        char *needle = xasprintf(":%s", v[i]->name);
        bool in_path = strstr(path, needle) != NULL;
        json_t *p = json_object(), *d;

        json_object_set_new(p, "in", json_string(in_path ? "path" : "query"));
        json_object_set_new(p, "name", json_string(v[i]->name));
        json_object_set_new(p, "type", json_string("string"));
        json_object_set_new(p, "required", json_boolean(v[i]->required || in_path));
        if ((d = param_default(ctx, v[i])) != NULL)
            json_object_set_new(p, "default", d);
        json_array_append_new(list, p);
        free(needle);
    }
    free(v);
    return list;
}

static json_t *responses(void)
{
    return json_pack("{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}", "200", "description", "successful operation",
                     "400", "description", "Invalid input", "404", "description", "Not Found", "422",
                     "description", "Missing or invalid params", "500", "description", "Server error");
}

json_t *swagger_paths(ah_ctx_t *ctx, const struct swagger_route *routes, size_t n)
{
    json_t *paths = json_object();
    size_t i;

    for (i = 0; i < n; i++) {
        const ah_action_t *a = dispatch_find_last_key(ah_app(ctx), routes[i].action);
        char *key, *tag;
        json_t *entry, *op;

        if (a == NULL)
            continue;
        key = format_path(routes[i].path);
        entry = json_object_get(paths, key);
        if (entry == NULL) {
            entry = json_object();
            json_object_set_new(paths, key, entry);
        }
        tag = xstrndup(a->name, strcspn(a->name, ":"));
        op = json_object();
        json_object_set_new(op, "tags", json_pack("[s]", tag));
        json_object_set_new(op, "summary", json_string(a->description ? a->description : a->name));
        json_object_set_new(op, "consumes", json_pack("[s]", "application/json"));
        json_object_set_new(op, "produces", json_pack("[s]", "application/json"));
        json_object_set_new(op, "parameters", parameters(ctx, a, routes[i].path));
        json_object_set_new(op, "responses", responses());
        json_object_set_new(op, "security", json_array());
        json_object_set_new(entry, routes[i].method, op);
        free(tag);
        free(key);
    }
    return paths;
}

/* Every route of the table, in Actionhero's method-list order. */
static json_t *route_paths(ah_ctx_t *ctx)
{
    static const char *const methods[] = ROUTE_METHODS;
    ah_app_t *app = ah_app(ctx);
    struct swagger_route *v = NULL;
    size_t n = 0, cap = 0, m, i;
    json_t *paths;

    for (m = 0; m < ARRAY_SIZE(methods); m++) {
        size_t count = routes_count(app, methods[m]);

        for (i = 0; i < count; i++) {
            const struct route *r = routes_at(app, methods[m], i);

            if (r == NULL || r->action == NULL)
                continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                v = xrealloc(v, cap * sizeof(*v));
            }
            memset(&v[n], 0, sizeof(v[n]));
            v[n].method = methods[m];
            v[n].path = r->path;
            v[n].action = r->action;
            n++;
        }
    }
    paths = swagger_paths(ctx, v, n);
    free(v);
    return paths;
}

static int run(ah_ctx_t *ctx)
{
    ah_app_t *app = ah_app(ctx);
    json_t *res = ah_response(ctx), *info, *license, *hosts, *v;
    const char *host0;

    info = json_object();
    v = ah_config(app, "general.description");
    if (json_is_string(v))
        json_object_set(info, "description", v);
    v = ah_config(app, "general.apiVersion");
    if (json_is_string(v))
        json_object_set(info, "version", v);
    v = ah_config(app, "general.serverName");
    if (json_is_string(v))
        json_object_set(info, "title", v);
    license = json_object();
    v = ah_config(app, "general.license");
    if (json_is_string(v))
        json_object_set(license, "name", v);
    json_object_set_new(info, "license", license);

    json_object_set_new(res, "swagger", json_string("2.0"));
    json_object_set_new(res, "info", info);
    hosts = ah_config(app, "web.allowedRequestHosts");
    host0 = json_string_value(json_array_get(hosts, 0));
    if (host0) {
        /* .replace("https://", "") twice: the first two occurrences */
        char *h = xstrdup(host0), *p;
        int k;

        for (k = 0; k < 2 && (p = strstr(h, "https://")) != NULL; k++)
            memmove(p, p + 8, strlen(p + 8) + 1);
        json_object_set_new(res, "host", json_string(h));
        free(h);
    } else {
        char *h = xasprintf("localhost:%lld", (long long)json_integer_value(ah_config(app, "web.port")));

        json_object_set_new(res, "host", json_string(h));
        free(h);
    }
    json_object_set_new(res, "basePath", json_string("/api/"));
    json_object_set_new(res, "schemes",
                        host0 && host0[0] ? json_pack("[s,s]", "https", "http") : json_pack("[s]", "http"));
    json_object_set_new(res, "paths", route_paths(ctx));
    json_object_set_new(res, "securityDefinitions", json_object());
    json_object_set_new(res, "externalDocs", json_pack("{s:s, s:s}", "description", "Learn more about Actionhero",
                                                        "url", "https://www.actionherojs.com"));
    return AH_DONE;
}

AH_ACTION(swagger) = {
    .name = "swagger",
    .description = "return API documentation in the OpenAPI specification",
    .output_example = "{}",
    .run = run,
};
