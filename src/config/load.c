/*
 * load.c - build the configuration tree from its sources (config.h has the
 * order): compiled-in defaults, the built-in environment overlay, config
 * directories, environment variables, overrides and command-line flags.
 *
 * Every value set is recorded with its source (struct config_origins), so
 * that validation can name the file, variable or flag behind a bad value.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uv.h>

#include "app/app.h"
#include "config/config.h"
#include "config/config_internal.h"
#include "core/core.h"

/* Built-in environment overlays: Actionhero's `test` and `production`
 * sections (config.md §4, §6; web.md §1; tasks.md §7.1). */
static const char overlay_test[] =
    "{\"general\": {\"serverToken\": \"serverToken-0\","
    "               \"startingChatRooms\": {\"defaultRoom\": {}, \"otherRoom\": {}},"
    "               \"rpcTimeout\": 3000},"
    " \"web\": {\"secure\": false, \"port\": 18080,"
    "           \"metadataOptions\": {\"serverInformation\": true, \"requesterInformation\": true}},"
    " \"logger\": {\"level\": \"crit\", \"fileLevel\": \"debug\"},"
    " \"tasks\": {\"timeout\": 100, \"checkTimeout\": 50}}";
static const char overlay_production[] =
    "{\"general\": {\"fileRequestLogLevel\": \"debug\"},"
    " \"web\": {\"padding\": null,"
    "           \"metadataOptions\": {\"serverInformation\": false, \"requesterInformation\": false}}}";

struct flag_op {
    const char *flag;       /* "--port" */
    const char *path;       /* config path; NULL for --set (in value) */
    const char *value;
};

struct loader {
    ah_app_t *app;
    json_t *root;
    struct config_origins o;
    json_t *warnings;
    char *cwd;
    char *err;
    size_t errlen;

    /* flags */
    json_t *flag_dirs;      /* array of strings */
    const char *node_env;
    const char *title;
    const char *flag_overrides;
    struct flag_op *ops;
    size_t n_ops;
    char *bad_ref;          /* the first unresolved ${reference} */
};

static void free_dirs(ah_app_t *app);
static int ferr(struct loader *L, const char *fmt, ...) AH_PRINTF(2, 3);
static int ferr(struct loader *L, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(L->err, L->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static const char *env(const char *name)
{
    const char *v = getenv(name);

    return v && *v ? v : NULL;
}

/* `path` for messages: relative to the working directory when under it. */
static const char *display(struct loader *L, const char *path)
{
    size_t n = strlen(L->cwd);

    if (strncmp(path, L->cwd, n) == 0 && path[n] == '/' && path[n + 1])
        return path + n + 1;
    return path;
}

static char *absolute(const char *base, const char *p)
{
    if (p[0] == '/')
        return xstrdup(p);
    if (p[0] == '.' && p[1] == '\0')
        return xstrdup(base);
    if (p[0] == '.' && p[1] == '/')
        p += 2;
    return xasprintf("%s/%s", base, p);
}

/* ------------------------------------------------------------ flags */

static int add_op(struct loader *L, const char *flag, const char *path, const char *value)
{
    L->ops = xrealloc(L->ops, (L->n_ops + 1) * sizeof(*L->ops));
    L->ops[L->n_ops].flag = flag;
    L->ops[L->n_ops].path = path;
    L->ops[L->n_ops].value = value;
    L->n_ops++;
    return 0;
}

static const char *const value_flags[] = {
    "config", "NODE_ENV", "title", "ACTIONHERO_CONFIG_OVERRIDES", "port", "bindIP", "set", "pid-dir",
};

static int parse_flags(struct loader *L, const struct config_args *args)
{
    int i;

    L->flag_dirs = json_array();
    for (i = 0; args && i < args->argc; i++) {
        const char *a = args->argv[i];
        const char *eq, *value = NULL;
        char name[64];
        size_t n, k;
        bool takes_value = false;

        if (strncmp(a, "--", 2) != 0 || a[2] == '\0')
            return ferr(L, "unexpected argument '%s'", a);
        eq = strchr(a, '=');
        n = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        if (n >= sizeof(name))
            return ferr(L, "unknown option '%.*s'", 64, a);
        memcpy(name, a + 2, n);
        name[n] = '\0';
        for (k = 0; k < ARRAY_SIZE(value_flags); k++)
            if (strcmp(name, value_flags[k]) == 0)
                takes_value = true;
        if (strcmp(name, "log-json") == 0) {
            if (eq && strcmp(eq + 1, "true") != 0 && strcmp(eq + 1, "false") != 0)
                return ferr(L, "option '--log-json' takes no value (or true/false), got '%s'", eq + 1);
            add_op(L, "--log-json", "logger.json", eq ? eq + 1 : "true");
            continue;
        }
        if (!takes_value)
            return ferr(L, "unknown option '--%s'", name);
        if (eq) {
            value = eq + 1;
        } else if (i + 1 < args->argc) {
            value = args->argv[++i];
        } else {
            return ferr(L, "option '--%s' requires a value", name);
        }

        if (strcmp(name, "config") == 0) {
            json_array_append_new(L->flag_dirs, json_string(value));
        } else if (strcmp(name, "NODE_ENV") == 0) {
            L->node_env = value;
        } else if (strcmp(name, "title") == 0) {
            L->title = value;
        } else if (strcmp(name, "ACTIONHERO_CONFIG_OVERRIDES") == 0) {
            L->flag_overrides = value;
        } else if (strcmp(name, "port") == 0) {
            add_op(L, "--port", "web.port", value);
        } else if (strcmp(name, "bindIP") == 0) {
            add_op(L, "--bindIP", "web.bindIP", value);
        } else if (strcmp(name, "set") == 0) {
            const char *e2 = strchr(value, '=');

            if (e2 == NULL || e2 == value)
                return ferr(L, "option '--set' expects path.to.key=value, got '%s'", value);
            add_op(L, "--set", NULL, value);
        } else if (strcmp(name, "pid-dir") == 0) {
            if (*value == '\0')
                return ferr(L, "option '--pid-dir' requires a directory");
            add_op(L, "--pid-dir", "general.paths.pid", value);
        }
    }
    return 0;
}

/* ------------------------------------------------------------ merging */

static void merge_ns(struct loader *L, const char *ns, json_t *obj, const char *source)
{
    json_t *wrap = json_object();

    json_object_set(wrap, ns, obj);
    config_merge_from(L->root, wrap, "", &L->o, source);
    json_decref(wrap);
}

static int merge_text(struct loader *L, const char *text, const char *source)
{
    json_error_t jerr;
    json_t *v = json_loads(text, 0, &jerr);

    if (v == NULL)
        AH_BUG("bad built-in overlay");
    config_merge_from(L->root, v, "", &L->o, source);
    json_decref(v);
    return 0;
}

static bool route_fields_equal(json_t *a, json_t *b)
{
    static const char *const keys[] = {"path", "action", "apiVersion", "matchTrailingPathParts", "dir"};
    size_t i;

    for (i = 0; i < ARRAY_SIZE(keys); i++) {
        json_t *x = json_object_get(a, keys[i]), *y = json_object_get(b, keys[i]);

        if (x == NULL && y == NULL)
            continue;
        if (x == NULL || y == NULL || !json_equal(x, y))
            return false;
    }
    return true;
}

/* Append the routes of one directory (concatenation per method). */
static int concat_routes(struct loader *L, json_t *dir_routes, const char *source)
{
    json_t *routes = json_object_get(L->root, "routes");
    const char *m;
    json_t *list;

    if (!json_is_object(routes)) {
        routes = json_object();
        json_object_set_new(L->root, "routes", routes);
    }
    json_object_foreach(dir_routes, m, list) {
        json_t *dst = json_object_get(routes, m);
        char *path = xasprintf("routes.%s", m);
        char got[96];

        if (!json_is_array(list)) {
            config_describe(list, got, sizeof(got));
            ferr(L, "%s: %s: expected an array of routes, got %s", source, path, got);
            free(path);
            return -1;
        }
        if (!json_is_array(dst)) {
            dst = json_array();
            json_object_set_new(routes, m, dst);
        }
        json_array_extend(dst, list);
        config_origin_set(&L->o, path, source);
        free(path);
    }
    return 0;
}

static void dedupe_routes(json_t *routes)
{
    const char *m;
    json_t *list;

    json_object_foreach(routes, m, list) {
        size_t i = 0, j;

        if (!json_is_array(list))
            continue;
        while (i < json_array_size(list)) {
            bool dup = false;

            for (j = 0; j < i && !dup; j++)
                dup = route_fields_equal(json_array_get(list, j), json_array_get(list, i));
            if (dup)
                json_array_remove(list, i);
            else
                i++;
        }
    }
}

/* ------------------------------------------------------------ files */

static json_t *read_json_file(struct loader *L, const char *path)
{
    json_error_t jerr;
    json_t *v = json_load_file(path, 0, &jerr);
    char got[96];

    if (v == NULL) {
        if (jerr.line > 0)
            ferr(L, "%s:%d:%d: invalid JSON: %s", display(L, path), jerr.line, jerr.column, jerr.text);
        else
            ferr(L, "%s: %s", display(L, path), jerr.text);
        return NULL;
    }
    if (!json_is_object(v)) {
        config_describe(v, got, sizeof(got));
        ferr(L, "%s: expected a JSON object, got %s", display(L, path), got);
        json_decref(v);
        return NULL;
    }
    return v;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* config/environments/<env>.json: {"<namespace>": {...}}; its routes
 * replace (hash-merge) the directory's routes per method, as the
 * environment section of Actionhero's routes file does. */
static int load_env_file(struct loader *L, const char *dir, json_t *dir_routes)
{
    char *path = xasprintf("%s/environments/%s.json", dir, L->app->env);
    const char *src = display(L, path);
    struct stat st;
    json_t *v = NULL;
    const char *ns;
    json_t *obj;
    int rc = 0;

    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        goto out;
    if ((v = read_json_file(L, path)) == NULL) {
        rc = -1;
        goto out;
    }
    json_object_foreach(v, ns, obj) {
        char got[96];

        if (json_is_null(obj)) {
            json_object_del(L->root, ns);
            config_origin_set(&L->o, ns, src);
            continue;
        }
        if (!json_is_object(obj)) {
            config_describe(obj, got, sizeof(got));
            rc = ferr(L, "%s: %s: expected an object, got %s", src, ns, got);
            goto out;
        }
        if (strcmp(ns, "routes") == 0)
            config_merge(dir_routes, obj);
        else
            merge_ns(L, ns, obj, src);
    }
out:
    json_decref(v);
    free(path);
    return rc;
}

static int load_dir(struct loader *L, const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, i;
    json_t *dir_routes = json_object();
    char *routes_src = NULL;
    int rc = 0;

    if (d == NULL)
        return ferr(L, "cannot read config directory '%s': %s", display(L, dir), strerror(errno));
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);

        if (e->d_name[0] == '.' || len <= 5 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        names = xrealloc(names, (n + 1) * sizeof(*names));
        names[n++] = xstrdup(e->d_name);
    }
    closedir(d);
    if (n > 1)
        qsort(names, n, sizeof(*names), by_name);

    for (i = 0; i < n && rc == 0; i++) {
        char *path = xasprintf("%s/%s", dir, names[i]);
        char *ns = xstrndup(names[i], strlen(names[i]) - 5);
        struct stat st;
        json_t *v;

        if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            if ((v = read_json_file(L, path)) == NULL) {
                rc = -1;
            } else if (strcmp(ns, "routes") == 0) {
                config_merge(dir_routes, v);
                free(routes_src);
                routes_src = xstrdup(display(L, path));
                json_decref(v);
            } else {
                merge_ns(L, ns, v, display(L, path));
                json_decref(v);
            }
        }
        free(ns);
        free(path);
    }
    if (rc == 0)
        rc = load_env_file(L, dir, dir_routes);
    if (rc == 0 && json_object_size(dir_routes) > 0) {
        char *src = routes_src ? xstrdup(routes_src) : xasprintf("%s/environments/%s.json", display(L, dir), L->app->env);

        rc = concat_routes(L, dir_routes, src);
        free(src);
    }
    for (i = 0; i < n; i++)
        free(names[i]);
    free(names);
    free(routes_src);
    json_decref(dir_routes);
    return rc;
}

/* Split "a,b" entries of `list` (from `source`) into absolute directories;
 * each must exist. */
static int add_dirs(struct loader *L, json_t *dirs, const char *list, const char *source)
{
    const char *p = list;

    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char *one = xstrndup(p, len);
        struct stat st;

        p += len;
        if (*p == ',')
            p++;
        if (*one == '\0') {
            free(one);
            continue;
        }
        {
            char *abs = absolute(L->app->project_root, one);

            free(one);
            if (stat(abs, &st) != 0 || !S_ISDIR(st.st_mode)) {
                ferr(L, "%s: config directory '%s' %s", source, display(L, abs),
                     stat(abs, &st) != 0 ? "does not exist" : "is not a directory");
                free(abs);
                return -1;
            }
            json_array_append_new(dirs, json_string(abs));
            free(abs);
        }
    }
    return 0;
}

static int load_dirs(struct loader *L)
{
    json_t *dirs = json_array();
    size_t i;
    json_t *d;
    int rc = 0;

    json_array_foreach(L->flag_dirs, i, d) {
        if ((rc = add_dirs(L, dirs, json_string_value(d), "option --config")) < 0)
            goto out;
    }
    if (env("ACTIONHERO_CONFIG") && (rc = add_dirs(L, dirs, env("ACTIONHERO_CONFIG"),
                                                   "environment variable ACTIONHERO_CONFIG")) < 0)
        goto out;
    if (json_array_size(dirs) == 0) {
        char *def = xasprintf("%s/config", L->app->project_root);
        struct stat st;

        if (stat(def, &st) == 0 && S_ISDIR(st.st_mode))
            json_array_append_new(dirs, json_string(def));
        else /* started from another directory, most likely */
            json_array_append_new(L->warnings,
                                  json_sprintf("no config directory '%s': using the built-in defaults "
                                               "(run from the project directory, or give --config=DIR)", def));
        free(def);
    }
    /* a directory given twice is loaded once */
    free_dirs(L->app);
    L->app->config_dirs = xcalloc(json_array_size(dirs) + 1, sizeof(char *));
    json_array_foreach(dirs, i, d) {
        size_t j, k = 0;
        bool seen = false;

        for (j = 0; j < i; j++)
            seen = seen || json_equal(json_array_get(dirs, j), d);
        if (seen)
            continue;
        while (L->app->config_dirs[k])
            k++;
        L->app->config_dirs[k] = xstrdup(json_string_value(d));
        if ((rc = load_dir(L, json_string_value(d))) < 0)
            goto out;
    }
out:
    json_decref(dirs);
    return rc;
}

/* ------------------------------------------------------------ environment */

static void set_from(struct loader *L, const char *path, json_t *v, const char *source)
{
    config_tree_set(L->root, path, v);
    config_origin_set(&L->o, path, source);
}

static json_t *split_list(const char *s, bool trim_lower)
{
    json_t *a = json_array();
    const char *p = s;

    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char *one = xstrndup(p, len);

        if (trim_lower) {
            char *b = one, *e = one + len, *q;

            while (*b == ' ' || *b == '\t' || *b == '\n' || *b == '\r')
                b++;
            while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
                e--;
            *e = '\0';
            for (q = b; *q; q++)
                if (*q >= 'A' && *q <= 'Z')
                    *q = (char)(*q - 'A' + 'a');
            json_array_append_new(a, json_string(b));
        } else {
            json_array_append_new(a, json_string(one));
        }
        free(one);
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    return a;
}

/* REDIS_URL: redis[s]://[[user]:password@]host[:port][/db] overrides each
 * part it contains (cluster.md §1). */
static int redis_url(struct loader *L, const char *url)
{
    const char *src = "environment variable REDIS_URL";
    const char *p = strstr(url, "://"), *auth_end, *host, *host_end, *slash;

    if (p == NULL || p == url)
        return ferr(L, "%s: invalid URL '%s'", src, url);
    if ((size_t)(p - url) == 6 && strncmp(url, "rediss", 6) == 0)
        set_from(L, "redis.ssl", json_true(), src);
    else if ((size_t)(p - url) == 5 && strncmp(url, "redis", 5) == 0)
        set_from(L, "redis.ssl", json_false(), src);
    else
        return ferr(L, "%s: unsupported scheme in '%s' (expected redis:// or rediss://)", src, url);
    p += 3;
    slash = strchr(p, '/');
    auth_end = NULL;
    {
        const char *q;

        for (q = p; *q && (slash == NULL || q < slash); q++)
            if (*q == '@')
                auth_end = q;
    }
    if (auth_end) {
        const char *colon = memchr(p, ':', (size_t)(auth_end - p));

        if (colon && auth_end > colon + 1)
            set_from(L, "redis.password", json_stringn(colon + 1, (size_t)(auth_end - colon - 1)), src);
        p = auth_end + 1;
    }
    host = p;
    host_end = slash ? slash : p + strlen(p);
    if (*host == '[') {
        const char *rb = memchr(host, ']', (size_t)(host_end - host));

        if (rb == NULL)
            return ferr(L, "%s: invalid URL '%s'", src, url);
        if (rb > host + 1)
            set_from(L, "redis.host", json_stringn(host + 1, (size_t)(rb - host - 1)), src);
        p = rb + 1;
    } else {
        const char *colon = memchr(host, ':', (size_t)(host_end - host));
        const char *he = colon ? colon : host_end;

        if (he > host)
            set_from(L, "redis.host", json_stringn(host, (size_t)(he - host)), src);
        p = he;
    }
    if (*p == ':' && p + 1 < host_end)
        set_from(L, "redis.port", json_stringn(p + 1, (size_t)(host_end - p - 1)), src);
    if (slash && slash[1])
        set_from(L, "redis.db", json_string(slash + 1), src);
    return 0;
}

/* JEST_WORKER_ID (test isolation, config.md §8): the test settings use it
 * for the server token and the port (18080 + id), applied with the other
 * environment variables (so PORT still wins). */
static int jest_id(void)
{
    const char *j = env("JEST_WORKER_ID");
    long long n = 0;

    if (j == NULL)
        return -1;
    for (; *j >= '0' && *j <= '9' && n < 1000000; j++)
        n = n * 10 + (*j - '0');
    return *j == '\0' ? (int)n : -1;
}

static void jest_worker(struct loader *L)
{
    int n = jest_id();

    if (n < 0)
        return;
    set_from(L, "general.serverToken", json_sprintf("serverToken-%d", n), "environment variable JEST_WORKER_ID");
    set_from(L, "web.port", json_integer(18080 + n), "environment variable JEST_WORKER_ID");
}

static int apply_env(struct loader *L)
{
    const char *v;

    if (strcmp(L->app->env, "test") == 0)
        jest_worker(L);

    if ((v = env("PORT")))
        set_from(L, "web.port", json_string(v), "environment variable PORT");
    if ((v = env("ALLOWED_HOSTS")))
        set_from(L, "web.allowedRequestHosts", split_list(v, false), "environment variable ALLOWED_HOSTS");
    if ((v = env("AUTOMATIC_ROUTES")))
        set_from(L, "web.automaticRoutes", split_list(v, true), "environment variable AUTOMATIC_ROUTES");
    if ((v = env("LOG_LEVEL")))
        set_from(L, "logger.level", json_string(v), "environment variable LOG_LEVEL");
    if ((v = env("REDIS_HOST")))
        set_from(L, "redis.host", json_string(v), "environment variable REDIS_HOST");
    if ((v = env("REDIS_PORT")))
        set_from(L, "redis.port", json_string(v), "environment variable REDIS_PORT");
    if ((v = env("REDIS_DB")))
        set_from(L, "redis.db", json_string(v), "environment variable REDIS_DB");
    if ((v = env("REDIS_PASSWORD")))
        set_from(L, "redis.password", json_string(v), "environment variable REDIS_PASSWORD");
    if ((v = env("REDIS_SSL")))
        set_from(L, "redis.ssl", json_true(), "environment variable REDIS_SSL");
    if ((v = env("REDIS_URL")) && redis_url(L, v) < 0)
        return -1;
    if ((v = env("ACTIONHERO_SHUTDOWN_TIMEOUT")))
        set_from(L, "general.shutdownTimeout", json_string(v), "environment variable ACTIONHERO_SHUTDOWN_TIMEOUT");
    if ((v = env("maxMemoryAlloted")))
        set_from(L, "general.maxMemoryAlloted", json_string(v), "environment variable maxMemoryAlloted");
    if ((v = env("maxResqueQueueLength")))
        set_from(L, "general.maxResqueQueueLength", json_string(v), "environment variable maxResqueQueueLength");
    return 0;
}

static int apply_overrides(struct loader *L, const char *text, const char *source)
{
    json_error_t jerr;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &jerr);

    if (v == NULL)
        return ferr(L, "could not parse ACTIONHERO_CONFIG_OVERRIDES: %s (line %d, column %d)", jerr.text,
                    jerr.line, jerr.column);
    if (!json_is_object(v)) {
        json_decref(v);
        return ferr(L, "could not parse ACTIONHERO_CONFIG_OVERRIDES: expected a JSON object");
    }
    config_merge_from(L->root, v, "", &L->o, source);
    json_decref(v);
    return 0;
}

/* {"a": {"b": value}} for "a.b" (takes value; NULL on an empty segment). */
static json_t *wrap_path(const char *path, json_t *value_take)
{
    const char *dot = strrchr(path, '.');
    json_t *o;

    if (*path == '\0' || (dot && dot[1] == '\0') || path[strlen(path) - 1] == '.') {
        json_decref(value_take);
        return NULL;
    }
    o = json_object();
    json_object_set_new(o, dot ? dot + 1 : path, value_take);
    if (dot == NULL)
        return o;
    {
        char *parent = xstrndup(path, (size_t)(dot - path));
        json_t *w = wrap_path(parent, o);

        free(parent);
        return w;
    }
}

static int apply_ops(struct loader *L)
{
    size_t i;

    for (i = 0; i < L->n_ops; i++) {
        struct flag_op *op = &L->ops[i];
        char *src = xasprintf("option %s", op->flag);
        json_t *wrap;
        const char *path = op->path;
        char *key = NULL;
        json_t *v;

        if (strcmp(op->flag, "--set") == 0) {
            const char *eq = strchr(op->value, '=');

            key = xstrndup(op->value, (size_t)(eq - op->value));
            path = key;
            v = json_loads(eq + 1, JSON_DECODE_ANY, NULL);
            if (v == NULL)
                v = json_string(eq + 1);
        } else if (strcmp(op->flag, "--log-json") == 0) {
            v = json_boolean(strcmp(op->value, "true") == 0);
        } else if (strcmp(op->flag, "--pid-dir") == 0) {
            v = json_pack("[s]", op->value);
        } else {
            v = json_string(op->value);
        }
        if ((wrap = wrap_path(path, v)) == NULL) {
            ferr(L, "%s: invalid key '%s'", src, path);
            free(key);
            free(src);
            return -1;
        }
        config_merge_from(L->root, wrap, "", &L->o, src);
        json_decref(wrap);
        free(key);
        free(src);
    }
    return 0;
}

/* ------------------------------------------------------------ references */

static bool is_ref(json_t *v, const char **path, size_t *len)
{
    const char *s;
    size_t n;

    if (!json_is_string(v))
        return false;
    s = json_string_value(v);
    n = json_string_length(v);
    if (n < 4 || s[0] != '$' || s[1] != '{' || s[n - 1] != '}')
        return false;
    *path = s + 2;
    *len = n - 3;
    return true;
}

static int resolve_refs(struct loader *L, json_t *node, const char *prefix, int depth)
{
    const char *k;
    json_t *v;
    void *tmp;

    if (depth > 32)
        return 0;
    json_object_foreach_safe(node, tmp, k, v) {
        char *path = *prefix ? xasprintf("%s.%s", prefix, k) : xstrdup(k);
        const char *ref;
        size_t len;
        int rc = 0;

        if (is_ref(v, &ref, &len)) {
            char *target = xstrndup(ref, len);
            json_t *t = config_tree_get(L->root, target);
            int hops = 0;
            const char *r2;
            size_t l2;

            while (t && is_ref(t, &r2, &l2) && hops++ < 8) {
                char *t2 = xstrndup(r2, l2);

                t = config_tree_get(L->root, t2);
                free(t2);
            }
            if (t == NULL || is_ref(t, &r2, &l2)) {
                /* reported after validation, which may find the cause */
                const char *src = config_origin_get(&L->o, path);

                if (L->bad_ref == NULL)
                    L->bad_ref = xasprintf("%s: %s: unknown reference ${%s}", src ? src : "built-in defaults", path,
                                           target);
            } else {
                json_object_set_new(node, k, json_deep_copy(t));
            }
            free(target);
        } else if (json_is_object(v)) {
            rc = resolve_refs(L, v, path, depth + 1);
        }
        free(path);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ------------------------------------------------------------ server id */

/* The last IPv4 address that is not 127.0.0.1, interfaces grouped by name
 * in order of first appearance (Node's os.networkInterfaces()). */
static char *external_ip(void)
{
    uv_interface_address_t *ifs;
    int n, i, j;
    char *ip = NULL;

    if (uv_interface_addresses(&ifs, &n) != 0)
        return NULL;
    for (i = 0; i < n; i++) {
        bool first = true;

        for (j = 0; j < i; j++)
            if (strcmp(ifs[j].name, ifs[i].name) == 0)
                first = false;
        if (!first)
            continue;
        for (j = i; j < n; j++) {
            char buf[64];

            if (strcmp(ifs[j].name, ifs[i].name) != 0 || ifs[j].address.address4.sin_family != AF_INET)
                continue;
            uv_ip4_name(&ifs[j].address.address4, buf, sizeof(buf));
            if (strcmp(buf, "127.0.0.1") == 0)
                continue;
            free(ip);
            ip = xstrdup(buf);
        }
    }
    uv_free_interface_addresses(ifs, n);
    return ip;
}

static char *server_id(struct loader *L)
{
    const char *v;
    char *ip;

    if (L->title && *L->title)
        return xstrdup(L->title);
    if ((v = env("ACTIONHERO_TITLE")))
        return xstrdup(v);
    if (jest_id() >= 0)
        return xasprintf("test-server-%d", jest_id());
    if ((v = config_str(L->app, "general.id", NULL)) && *v)
        return xstrdup(v);
    if ((ip = external_ip()) != NULL)
        return ip;
    return xstrdup("actionhero");
}

/* ------------------------------------------------------------ paths */

static void absolute_paths(struct loader *L)
{
    json_t *paths = config_tree_get(L->root, "general.paths");
    const char *k;
    json_t *v;

    json_object_foreach(paths, k, v) {
        size_t i;
        json_t *s;

        if (json_is_string(v)) {
            if (json_string_value(v)[0] != '/') {
                char *abs = absolute(L->cwd, json_string_value(v));

                json_object_set_new(paths, k, json_string(abs));
                free(abs);
            }
            continue;
        }
        json_array_foreach(v, i, s) {
            if (json_is_string(s) && json_string_value(s)[0] != '/') {
                char *abs = absolute(L->cwd, json_string_value(s));

                json_array_set_new(v, i, json_string(abs));
                free(abs);
            }
        }
    }
}

/* ------------------------------------------------------------ load */


static void free_dirs(ah_app_t *app)
{
    size_t i;

    if (app->config_dirs == NULL)
        return;
    for (i = 0; app->config_dirs[i]; i++)
        free(app->config_dirs[i]);
    free(app->config_dirs);
    app->config_dirs = NULL;
}

static bool valid_env_name(const char *e)
{
    const char *p;

    if (*e == '\0' || *e == '.')
        return false;
    for (p = e; *p; p++)
        if (*p == '/' || *p == '\\' || (unsigned char)*p < 0x20)
            return false;
    return true;
}

int config_load(ah_app_t *app, const struct config_args *args, char *err, size_t errlen)
{
    struct loader L = {0};
    char cwd[4096];
    const char *root_env, *e;
    json_t *v;
    int rc = -1;

    L.app = app;
    L.err = err;
    L.errlen = errlen;
    err[0] = '\0';
    if (getcwd(cwd, sizeof(cwd)) == NULL) {
        snprintf(err, errlen, "cannot read the working directory: %s", strerror(errno));
        return AH_EINVAL;
    }
    L.cwd = cwd;
    L.warnings = json_array();

    if (parse_flags(&L, args) < 0)
        goto out;

    root_env = env("project_root");
    if (root_env == NULL)
        root_env = env("projectRoot");
    if (root_env == NULL)
        root_env = env("PROJECT_ROOT");
    free(app->project_root);
    app->project_root = root_env ? absolute(cwd, root_env) : xstrdup(cwd);

    e = L.node_env ? L.node_env : env("ACTIONHERO_ENV") ? env("ACTIONHERO_ENV")
      : env("NODE_ENV") ? env("NODE_ENV") : "development";
    if (!valid_env_name(e)) {
        ferr(&L, "invalid environment name '%s'", e);
        goto out;
    }
    free(app->env);
    app->env = xstrdup(e);

    json_decref(app->config);
    config_changed();
    app->config = L.root = config_defaults();
    if (strcmp(app->env, "test") == 0)
        merge_text(&L, overlay_test, "built-in test settings");
    else if (strcmp(app->env, "production") == 0)
        merge_text(&L, overlay_production, "built-in production settings");

    if (load_dirs(&L) < 0 || apply_env(&L) < 0)
        goto out;
    if (env("ACTIONHERO_CONFIG_OVERRIDES") &&
        apply_overrides(&L, env("ACTIONHERO_CONFIG_OVERRIDES"), "environment variable ACTIONHERO_CONFIG_OVERRIDES") < 0)
        goto out;
    if (L.flag_overrides && apply_overrides(&L, L.flag_overrides, "option --ACTIONHERO_CONFIG_OVERRIDES") < 0)
        goto out;
    if (apply_ops(&L) < 0)
        goto out;

    if (resolve_refs(&L, L.root, "", 0) < 0)
        goto out;
    if (config_tree_get(L.root, "web.formOptions.uploadDir") == NULL && json_is_object(config_tree_get(L.root, "web.formOptions"))) {
        json_t *d = config_defaults();

        config_tree_set(L.root, "web.formOptions.uploadDir", json_incref(config_tree_get(d, "web.formOptions.uploadDir")));
        json_decref(d);
    }
    if (json_is_object(config_tree_get(L.root, "routes")))
        dedupe_routes(config_tree_get(L.root, "routes"));

    if (config_validate(L.root, &L.o, L.warnings, err, errlen) < 0)
        goto out;
    if (L.bad_ref) {
        ferr(&L, "%s", L.bad_ref);
        goto out;
    }
    absolute_paths(&L);

    free(app->id);
    app->id = server_id(&L);
    v = json_pack("{s:s, s:s, s:s, s:s}", "env", app->env, "id", app->id, "projectRoot", app->project_root,
                  "actionheroVersion", AH_ACTIONHERO_VERSION);
    json_object_set_new(L.root, "process", v);
    rc = 0;
out:
    config_changed(); /* whatever loading changed directly in the tree */
    json_decref(app->config_warnings);
    app->config_warnings = L.warnings;
    json_decref(L.flag_dirs);
    json_decref(L.o.map);
    free(L.ops);
    free(L.bad_ref);
    return rc < 0 ? AH_EINVAL : 0;
}
