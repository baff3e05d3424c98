/*
 * test_config_load.c - building the configuration from its sources: files,
 * environment overlays, environment variables, overrides and flags, the
 * validation messages, references, the server id and the shipped config/.
 *
 * Each case runs in a fresh temporary project directory (the working
 * directory) with the relevant environment variables cleared.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uv.h>

#include "app/app.h"
#include "check.h"
#include "config/config.h"
#include "core/core.h"

static char repo[4096];
static char proj[4096];
static uv_loop_t loop;
static ah_app_t *app;
static char err[1024];

static const char *const env_vars[] = {
    "PORT", "ALLOWED_HOSTS", "AUTOMATIC_ROUTES", "LOG_LEVEL", "REDIS_HOST", "REDIS_PORT", "REDIS_DB",
    "REDIS_PASSWORD", "REDIS_SSL", "REDIS_URL", "ACTIONHERO_SHUTDOWN_TIMEOUT", "maxMemoryAlloted",
    "maxResqueQueueLength", "ACTIONHERO_CONFIG", "ACTIONHERO_CONFIG_OVERRIDES", "ACTIONHERO_TITLE",
    "ACTIONHERO_ENV", "NODE_ENV", "project_root", "projectRoot", "PROJECT_ROOT", "JEST_WORKER_ID",
};

static void cleanup_app(void)
{
    if (app) {
        app_free(app);
        app = NULL;
    }
}

/* A new empty project directory as the working directory. */
static void fresh(void)
{
    size_t i;
    int rc;

    cleanup_app();
    if (proj[0]) {
        char *cmd = xasprintf("rm -rf '%s'", proj);

        rc = chdir(repo);
        rc = system(cmd);
        (void)rc;
        free(cmd);
    }
    snprintf(proj, sizeof(proj), "/tmp/ah-config-test-XXXXXX");
    if (mkdtemp(proj) == NULL || chdir(proj) != 0) {
        perror("mkdtemp");
        exit(1);
    }
    for (i = 0; i < ARRAY_SIZE(env_vars); i++)
        unsetenv(env_vars[i]);
}

static void write_file(const char *rel, const char *text)
{
    char *dir = xstrdup(rel), *p;
    FILE *f;

    for (p = dir; (p = strchr(p, '/')) != NULL; p++) {
        *p = '\0';
        mkdir(dir, 0755);
        *p = '/';
    }
    free(dir);
    f = fopen(rel, "w");
    fputs(text, f);
    fclose(f);
}

/* Load with the given flags (NULL-terminated); returns config_load's rc. */
static int load(const char *first, ...)
{
    char *argv[32];
    int argc = 0;
    struct config_args args;
    va_list ap;
    const char *a;

    cleanup_app();
    app = app_new(&loop);
    va_start(ap, first);
    for (a = first; a && argc < 31; a = va_arg(ap, const char *))
        argv[argc++] = (char *)(uintptr_t)a;
    va_end(ap);
    argv[argc] = NULL;
    args.argc = argc;
    args.argv = argv;
    return config_load(app, &args, err, sizeof(err));
}

static const char *S(const char *path)
{
    const char *s = config_str(app, path, NULL);

    return s ? s : "(missing)";
}

static long long I(const char *path)
{
    return config_int(app, path, -424242);
}

static char *dump(const char *path)
{
    json_t *v = config_get(app, path);

    return v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : xstrdup("(missing)");
}

#define CHECK_JSON(path, want) do { char *d_ = dump(path); CHECK_EQ_STR(d_, want); free(d_); } while (0)
#define CHECK_ERR(want) do { CHECK(err[0] != '\0'); CHECK_EQ_STR(err, want); } while (0)

/* ------------------------------------------------------------ cases */

static void test_defaults_only(void)
{
    char want[4200];

    fresh();
    CHECK_EQ_INT(load(NULL), 0);
    CHECK_EQ_STR(app->env, "development");
    CHECK_EQ_INT(I("web.port"), 8080);
    CHECK_EQ_INT(I("web.padding"), 2);
    CHECK_EQ_STR(S("web.httpHeaders.X-Powered-By"), "actionhero");
    CHECK_EQ_STR(S("websocket.client.cookieKey"), "sessionID");
    CHECK_JSON("routes", "{}");
    CHECK_EQ_STR(S("process.env"), "development");
    CHECK_EQ_STR(S("process.actionheroVersion"), "29.3.5");
    CHECK_EQ_STR(S("process.id"), app->id);
    CHECK_EQ_STR(S("process.projectRoot"), proj);
    CHECK_EQ_STR(app->project_root, proj);
    CHECK(app->config_dirs != NULL && app->config_dirs[0] == NULL);
    /* relative general.paths are made absolute against the working directory */
    snprintf(want, sizeof(want), "[\"%s/pids\"]", proj);
    CHECK_JSON("general.paths.pid", want);
    snprintf(want, sizeof(want), "%s/src", proj);
    CHECK_EQ_STR(S("general.paths.src"), want);
    /* the only warning: no config directory, so built-in defaults */
    CHECK_EQ_INT(json_array_size(app->config_warnings), 1);
    CHECK(strstr(json_string_value(json_array_get(app->config_warnings, 0)),
                 "using the built-in defaults") != NULL);
    /* the id: the host's last non-loopback IPv4 or "actionhero" */
    CHECK(app->id && strcmp(app->id, "127.0.0.1") != 0 && app->id[0]);
}

/* The shipped config/ documents the defaults: loading it changes nothing
 * but the routes (and the null entries it uses as documentation). */
static void test_shipped_config(void)
{
    static const char *const envs[] = {"development", "test", "production"};
    size_t i;

    for (i = 0; i < ARRAY_SIZE(envs); i++) {
        char *flag = xasprintf("--NODE_ENV=%s", envs[i]);
        char *cfg = xasprintf("--config=%s/config", repo);
        json_t *with, *without;
        char *a, *b;

        fresh();
        mkdir("empty", 0755);
        CHECK_EQ_INT(load(flag, "--config=empty", NULL), 0);
        without = json_incref(app->config);
        CHECK_EQ_INT(load(flag, cfg, NULL), 0);
        if (err[0])
            printf("# %s\n", err);
        with = json_incref(app->config);
        CHECK_EQ_INT(json_array_size(app->config_warnings), 0);
        CHECK_EQ_INT(json_array_size(json_object_get(json_object_get(with, "routes"), "get")), 3);
        json_object_del(with, "routes");
        json_object_del(without, "routes");
        /* the shipped tasks.json writes resque_overrides' nulls, which delete */
        json_object_del(json_object_get(with, "tasks"), "resque_overrides");
        json_object_del(json_object_get(without, "tasks"), "resque_overrides");
        a = json_dumps(with, JSON_COMPACT | JSON_SORT_KEYS);
        b = json_dumps(without, JSON_COMPACT | JSON_SORT_KEYS);
        if (strcmp(a, b) != 0)
            printf("# env %s differs\n# with:    %s\n# without: %s\n", envs[i], a, b);
        CHECK(strcmp(a, b) == 0);
        free(a);
        free(b);
        json_decref(with);
        json_decref(without);
        free(flag);
        free(cfg);
    }
}

static void test_files(void)
{
    fresh();
    write_file("config/web.json", "{\"port\": 9000, \"httpHeaders\": {\"X-Extra\": \"1\"}, \"padding\": null}");
    write_file("config/general.json", "{\"serverName\": \"myapp\", \"paths\": {\"pid\": [\"/var/run/x\"]}}");
    write_file("config/myapp.json", "{\"answer\": 42}");
    write_file("config/notes.txt", "not json");
    write_file("config/.hidden.json", "{bad");
    CHECK_EQ_INT(load(NULL), 0);
    CHECK_EQ_INT(I("web.port"), 9000);
    CHECK(config_get(app, "web.padding") == NULL);      /* null deletes */
    CHECK_EQ_STR(S("web.httpHeaders.X-Extra"), "1");
    CHECK_EQ_STR(S("web.httpHeaders.Access-Control-Allow-Origin"), "*");
    /* references follow the final value */
    CHECK_EQ_STR(S("web.httpHeaders.X-Powered-By"), "myapp");
    CHECK_JSON("general.paths.pid", "[\"/var/run/x\"]");
    CHECK_EQ_INT(I("myapp.answer"), 42);                 /* the project's own namespace */
    CHECK(app->config_dirs[0] != NULL && app->config_dirs[1] == NULL);
    CHECK(strstr(app->config_dirs[0], "/config") != NULL);

    /* files load in sorted order; a later file wins for the same namespace?
     * no: one file per namespace, but environments/ files come last */
    fresh();
    write_file("config/web.json", "{\"port\": 9000}");
    write_file("config/environments/staging.json", "{\"web\": {\"port\": 9001}, \"general\": {\"id\": \"st\"}}");
    CHECK_EQ_INT(load("--NODE_ENV=staging", NULL), 0);
    CHECK_EQ_INT(I("web.port"), 9001);
    CHECK_EQ_STR(app->id, "st");                  /* general.id honoured at boot */
    CHECK_EQ_INT(load("--NODE_ENV=other", NULL), 0);
    CHECK_EQ_INT(I("web.port"), 9000);
}

static void test_routes(void)
{
    fresh();
    write_file("a/routes.json",
               "{\"get\": [{\"path\": \"/status\", \"action\": \"status\"}, {\"path\": \"/x\", \"action\": \"x\"}],"
               " \"post\": [{\"path\": \"/p\", \"action\": \"p\"}]}");
    write_file("b/routes.json",
               "{\"get\": [{\"path\": \"/status\", \"action\": \"status\"}, {\"path\": \"/y\", \"action\": \"y\"},"
               "           {\"path\": \"/x\", \"action\": \"x\", \"apiVersion\": \"2\"}]}");
    CHECK_EQ_INT(load("--config=a,b", NULL), 0);
    /* concatenated per method, exact duplicates removed (apiVersion differs: kept) */
    CHECK_JSON("routes.get", "[{\"path\":\"/status\",\"action\":\"status\"},{\"path\":\"/x\",\"action\":\"x\"},"
                             "{\"path\":\"/y\",\"action\":\"y\"},{\"path\":\"/x\",\"action\":\"x\",\"apiVersion\":\"2\"}]");
    CHECK_JSON("routes.post", "[{\"path\":\"/p\",\"action\":\"p\"}]");
    /* repeated --config is the same as a comma list; a directory twice loads once */
    CHECK_EQ_INT(load("--config=a", "--config", "b", "--config=a", NULL), 0);
    CHECK_EQ_INT(json_array_size(config_get(app, "routes.get")), 4);
    CHECK(app->config_dirs[0] && app->config_dirs[1] && !app->config_dirs[2]);

    /* the environment file's routes replace that directory's list per method */
    write_file("a/environments/production.json", "{\"routes\": {\"get\": [{\"path\": \"/prod\", \"action\": \"p\"}]}}");
    CHECK_EQ_INT(load("--config=a", "--NODE_ENV=production", NULL), 0);
    CHECK_JSON("routes.get", "[{\"path\":\"/prod\",\"action\":\"p\"}]");
    CHECK_JSON("routes.post", "[{\"path\":\"/p\",\"action\":\"p\"}]");

    /* overrides hash-merge: arrays replace */
    setenv("ACTIONHERO_CONFIG_OVERRIDES", "{\"routes\": {\"get\": [{\"path\": \"/o\", \"action\": \"o\"}]}}", 1);
    CHECK_EQ_INT(load("--config=a", NULL), 0);
    CHECK_JSON("routes.get", "[{\"path\":\"/o\",\"action\":\"o\"}]");
    unsetenv("ACTIONHERO_CONFIG_OVERRIDES");

    /* bad routes */
    write_file("c/routes.json", "{\"get\": {\"path\": \"/x\"}}");
    CHECK(load("--config=c", NULL) < 0);
    CHECK_ERR("c/routes.json: routes.get: expected an array of routes, got {\"path\":\"/x\"}");
    write_file("c/routes.json", "{\"fetch\": [{\"path\": \"/x\", \"action\": \"x\"}]}");
    CHECK(load("--config=c", NULL) < 0);
    CHECK_ERR("c/routes.json: routes.fetch: unknown route method (expected all, head, get, patch, post, put or delete)");
    write_file("c/routes.json", "{\"get\": [{\"path\": \"/x\"}]}");
    CHECK(load("--config=c", NULL) < 0);
    CHECK_ERR("c/routes.json: routes.get: route 0: needs an \"action\" or a \"dir\" string: {\"path\":\"/x\"}");
    write_file("c/routes.json", "{\"get\": [{\"path\": 5, \"action\": \"x\"}]}");
    CHECK(load("--config=c", NULL) < 0);
    CHECK_ERR("c/routes.json: routes.get: route 0: \"path\" must be a string: {\"path\":5,\"action\":\"x\"}");
    write_file("c/routes.json", "{\"all\": [{\"path\": \"/f\", \"dir\": \"/srv\", \"matchTrailingPathParts\": true}]}");
    CHECK_EQ_INT(load("--config=c", NULL), 0);
}

static void test_overlays(void)
{
    fresh();
    CHECK_EQ_INT(load("--NODE_ENV=test", NULL), 0);
    CHECK_EQ_STR(app->env, "test");
    CHECK_EQ_STR(S("general.serverToken"), "serverToken-0");
    CHECK_JSON("general.startingChatRooms", "{\"defaultRoom\":{},\"otherRoom\":{}}");
    CHECK_EQ_INT(I("general.rpcTimeout"), 3000);
    CHECK_EQ_STR(S("logger.level"), "crit");
    CHECK_EQ_STR(S("logger.fileLevel"), "debug");
    CHECK_EQ_INT(I("web.port"), 18080);
    CHECK_EQ_INT(I("tasks.timeout"), 100);
    CHECK_EQ_INT(I("tasks.checkTimeout"), 50);
    CHECK(json_is_true(config_get(app, "web.metadataOptions.serverInformation")));
    /* LOG_LEVEL beats the test default, PORT the test port */
    setenv("LOG_LEVEL", "info", 1);
    setenv("PORT", "12345", 1);
    CHECK_EQ_INT(load("--NODE_ENV=test", NULL), 0);
    CHECK_EQ_STR(S("logger.level"), "info");
    CHECK_EQ_INT(I("web.port"), 12345);
    unsetenv("LOG_LEVEL");
    unsetenv("PORT");

    CHECK_EQ_INT(load("--NODE_ENV=production", NULL), 0);
    CHECK(config_get(app, "web.padding") == NULL);
    CHECK(json_is_false(config_get(app, "web.metadataOptions.serverInformation")));
    CHECK(json_is_false(config_get(app, "web.metadataOptions.requesterInformation")));
    CHECK_EQ_STR(S("general.fileRequestLogLevel"), "debug");
    CHECK_EQ_STR(S("general.serverToken"), "change-me");

    /* environment: flag, then ACTIONHERO_ENV, then NODE_ENV */
    setenv("NODE_ENV", "production", 1);
    CHECK_EQ_INT(load(NULL), 0);
    CHECK_EQ_STR(app->env, "production");
    setenv("ACTIONHERO_ENV", "test", 1);
    CHECK_EQ_INT(load(NULL), 0);
    CHECK_EQ_STR(app->env, "test");
    CHECK_EQ_INT(load("--NODE_ENV=staging", NULL), 0);
    CHECK_EQ_STR(app->env, "staging");
    CHECK(load("--NODE_ENV=../etc", NULL) < 0);
    CHECK_ERR("invalid environment name '../etc'");
}

static void test_env_vars(void)
{
    fresh();
    setenv("PORT", "9123", 1);
    setenv("ALLOWED_HOSTS", "http://a.com, https://b.com", 1);
    setenv("AUTOMATIC_ROUTES", " GET ,Post", 1);
    setenv("LOG_LEVEL", "debug", 1);
    setenv("REDIS_HOST", "10.0.0.1", 1);
    setenv("REDIS_PORT", "6380", 1);
    setenv("REDIS_DB", "3", 1);
    setenv("REDIS_PASSWORD", "pw", 1);
    setenv("REDIS_SSL", "1", 1);
    setenv("ACTIONHERO_SHUTDOWN_TIMEOUT", "1500", 1);
    setenv("maxMemoryAlloted", "200.5", 1);
    setenv("maxResqueQueueLength", "7", 1);
    CHECK_EQ_INT(load(NULL), 0);
    CHECK_JSON("web.port", "9123");                      /* a number, not a string */
    CHECK_JSON("web.allowedRequestHosts", "[\"http://a.com\",\" https://b.com\"]"); /* not trimmed */
    CHECK_JSON("web.automaticRoutes", "[\"get\",\"post\"]");
    CHECK_EQ_STR(S("logger.level"), "debug");
    CHECK_EQ_STR(S("redis.host"), "10.0.0.1");
    CHECK_EQ_INT(I("redis.port"), 6380);
    CHECK_EQ_INT(I("redis.db"), 3);
    CHECK_EQ_STR(S("redis.password"), "pw");
    CHECK(json_is_true(config_get(app, "redis.ssl")));
    CHECK_EQ_INT(I("general.shutdownTimeout"), 1500);
    CHECK(config_real(app, "general.maxMemoryAlloted", 0) == 200.5);
    CHECK_EQ_INT(I("general.maxResqueQueueLength"), 7);

    /* a Unix socket path is a valid port */
    setenv("PORT", "/tmp/ah.sock", 1);
    CHECK_EQ_INT(load(NULL), 0);
    CHECK_EQ_STR(S("web.port"), "/tmp/ah.sock");
    /* an empty variable is unset */
    setenv("PORT", "", 1);
    CHECK_EQ_INT(load(NULL), 0);
    CHECK_EQ_INT(I("web.port"), 8080);

    /* REDIS_URL overrides each part it has */
    fresh();
    setenv("REDIS_HOST", "h1", 1);
    setenv("REDIS_URL", "rediss://:s3cret@redis.example:6390/4", 1);
    CHECK_EQ_INT(load(NULL), 0);
    CHECK_EQ_STR(S("redis.host"), "redis.example");
    CHECK_EQ_INT(I("redis.port"), 6390);
    CHECK_EQ_INT(I("redis.db"), 4);
    CHECK_EQ_STR(S("redis.password"), "s3cret");
    CHECK(json_is_true(config_get(app, "redis.ssl")));
    setenv("REDIS_URL", "redis://[::1]", 1);
    CHECK_EQ_INT(load(NULL), 0);
    CHECK_EQ_STR(S("redis.host"), "::1");
    CHECK(config_get(app, "redis.port") == NULL);  /* the store's default applies */
    CHECK(json_is_false(config_get(app, "redis.ssl")));
    setenv("REDIS_URL", "http://x", 1);
    CHECK(load(NULL) < 0);
    CHECK_ERR("environment variable REDIS_URL: unsupported scheme in 'http://x' (expected redis:// or rediss://)");
    setenv("REDIS_URL", "redis://h:notaport", 1);
    CHECK(load(NULL) < 0);
    CHECK_ERR("environment variable REDIS_URL: redis.port: expected an integer 1..65535, got \"notaport\"");
    unsetenv("REDIS_URL");

    /* bad values name the variable */
    fresh();
    setenv("ACTIONHERO_SHUTDOWN_TIMEOUT", "soon", 1);
    CHECK(load(NULL) < 0);
    CHECK_ERR("environment variable ACTIONHERO_SHUTDOWN_TIMEOUT: general.shutdownTimeout: expected an integer "
              "0..3600000, got \"soon\"");
    unsetenv("ACTIONHERO_SHUTDOWN_TIMEOUT");
    setenv("LOG_LEVEL", "loud", 1);
    CHECK(load(NULL) < 0);
    CHECK_ERR("environment variable LOG_LEVEL: logger.level: expected a log level (emerg, alert, crit, error, "
              "warning, notice, info, debug), got \"loud\"");
    unsetenv("LOG_LEVEL");
    setenv("AUTOMATIC_ROUTES", "get,fetch", 1);
    CHECK(load(NULL) < 0);
    CHECK_ERR("environment variable AUTOMATIC_ROUTES: web.automaticRoutes: fetch is not an HTTP verb");
    unsetenv("AUTOMATIC_ROUTES");
    setenv("PORT", "70000", 1);
    CHECK(load(NULL) < 0);
    CHECK_ERR("environment variable PORT: web.port: expected an integer 1..65535 or a socket path, got \"70000\"");
    unsetenv("PORT");

    /* project root */
    fresh();
    mkdir("sub", 0755);
    write_file("sub/config/web.json", "{\"port\": 7001}");
    setenv("PROJECT_ROOT", "sub", 1);
    CHECK_EQ_INT(load(NULL), 0);
    CHECK_EQ_INT(I("web.port"), 7001);
    CHECK(strstr(app->project_root, "/sub") != NULL);
    setenv("projectRoot", "nowhere", 1);   /* projectRoot wins over PROJECT_ROOT */
    CHECK_EQ_INT(load(NULL), 0);
    CHECK_EQ_INT(I("web.port"), 8080);
    CHECK(strstr(app->project_root, "/nowhere") != NULL);
    unsetenv("projectRoot");
    unsetenv("PROJECT_ROOT");
    setenv("ACTIONHERO_CONFIG", "sub/config", 1);
    CHECK_EQ_INT(load(NULL), 0);
    CHECK_EQ_INT(I("web.port"), 7001);
    setenv("ACTIONHERO_CONFIG", "sub/nope", 1);
    CHECK(load(NULL) < 0);
    CHECK_ERR("environment variable ACTIONHERO_CONFIG: config directory 'sub/nope' does not exist");
}

static void test_overrides(void)
{
    fresh();
    write_file("config/web.json", "{\"port\": 9000}");
    setenv("PORT", "9001", 1);
    setenv("ACTIONHERO_CONFIG_OVERRIDES", "{\"web\": {\"port\": 9002, \"bindIP\": \"127.0.0.1\"}}", 1);
    CHECK_EQ_INT(load(NULL), 0);
    CHECK_EQ_INT(I("web.port"), 9002);
    CHECK_EQ_STR(S("web.bindIP"), "127.0.0.1");
    CHECK_EQ_INT(load("--ACTIONHERO_CONFIG_OVERRIDES={\"web\": {\"port\": 9003}}", NULL), 0);
    CHECK_EQ_INT(I("web.port"), 9003);
    CHECK_EQ_STR(S("web.bindIP"), "127.0.0.1");
    /* flags apply last */
    CHECK_EQ_INT(load("--ACTIONHERO_CONFIG_OVERRIDES={\"web\": {\"port\": 9003}}", "--port=9004", NULL), 0);
    CHECK_EQ_INT(I("web.port"), 9004);
    setenv("ACTIONHERO_CONFIG_OVERRIDES", "{bad", 1);
    CHECK(load(NULL) < 0);
    CHECK(strncmp(err, "could not parse ACTIONHERO_CONFIG_OVERRIDES: ", 45) == 0);
    setenv("ACTIONHERO_CONFIG_OVERRIDES", "[1]", 1);
    CHECK(load(NULL) < 0);
    CHECK_ERR("could not parse ACTIONHERO_CONFIG_OVERRIDES: expected a JSON object");
    unsetenv("ACTIONHERO_CONFIG_OVERRIDES");
    CHECK(load("--ACTIONHERO_CONFIG_OVERRIDES=nope", NULL) < 0);
    CHECK(strncmp(err, "could not parse ACTIONHERO_CONFIG_OVERRIDES: ", 45) == 0);
    /* a bad value from the overrides names them */
    setenv("ACTIONHERO_CONFIG_OVERRIDES", "{\"web\": {\"padding\": \"wide\"}}", 1);
    CHECK(load(NULL) < 0);
    CHECK_ERR("environment variable ACTIONHERO_CONFIG_OVERRIDES: web.padding: expected an integer 0..10, got \"wide\"");
    unsetenv("ACTIONHERO_CONFIG_OVERRIDES");
    unsetenv("PORT");
}

static void test_flags(void)
{
    char want[4200];

    fresh();
    CHECK_EQ_INT(load("--port=9100", "--bindIP=127.0.0.1", "--set=general.serverName=shop",
                      "--set", "web.padding=4", "--set=web.metadataOptions={\"serverInformation\":false}",
                      "--set=general.startingChatRooms.lobby={}",
                      "--pid-dir=run/pids", "--log-json", "--title=node-1", NULL),
                  0);
    CHECK_EQ_INT(I("web.port"), 9100);
    CHECK_EQ_STR(S("web.bindIP"), "127.0.0.1");
    CHECK_EQ_STR(S("general.serverName"), "shop");      /* a plain string */
    CHECK_EQ_STR(S("web.httpHeaders.X-Powered-By"), "shop");
    CHECK_EQ_INT(I("web.padding"), 4);                  /* JSON */
    CHECK(json_is_false(config_get(app, "web.metadataOptions.serverInformation")));
    CHECK(json_is_true(config_get(app, "web.metadataOptions.requesterInformation")));
    CHECK_JSON("general.startingChatRooms", "{\"lobby\":{}}");
    snprintf(want, sizeof(want), "[\"%s/run/pids\"]", proj);
    CHECK_JSON("general.paths.pid", want);
    CHECK(json_is_true(config_get(app, "logger.json")));
    CHECK_EQ_STR(app->id, "node-1");
    CHECK_EQ_STR(S("process.id"), "node-1");

    fresh();
    CHECK(load("--set=web.urlPathForActions=null", NULL) < 0);
    CHECK_ERR("option --set: web.urlPathForActions: is required (null deletes it)");
    CHECK(load("--set=web.port=\"8080\"", NULL) == 0);  /* a JSON string of digits */
    CHECK_EQ_INT(I("web.port"), 8080);
    CHECK(load("--set=general.serverName=true", NULL) < 0);
    CHECK_ERR("option --set: general.serverName: expected a string, got true");
    CHECK(load("--set=general.serverName=\"true\"", NULL) == 0);
    CHECK_EQ_STR(S("general.serverName"), "true");
    CHECK(load("--set", NULL) < 0);
    CHECK_ERR("option '--set' requires a value");
    CHECK(load("--set=novalue", NULL) < 0);
    CHECK_ERR("option '--set' expects path.to.key=value, got 'novalue'");
    CHECK(load("--set==1", NULL) < 0);
    CHECK_ERR("option '--set' expects path.to.key=value, got '=1'");
    CHECK(load("--set=a..b=1", NULL) < 0);
    CHECK_ERR("option --set: invalid key 'a..b'");
    CHECK(load("--port", NULL) < 0);
    CHECK_ERR("option '--port' requires a value");
    CHECK(load("--port", "8081", NULL) == 0);
    CHECK_EQ_INT(I("web.port"), 8081);
    CHECK(load("--port=abc", NULL) < 0);
    CHECK_ERR("option --port: web.port: expected an integer 1..65535 or a socket path, got \"abc\"");
    CHECK(load("--port=0", NULL) < 0);
    CHECK(load("--verbose", NULL) < 0);
    CHECK_ERR("unknown option '--verbose'");
    CHECK(load("--daemon=yes", NULL) < 0);
    CHECK_ERR("unknown option '--daemon'");
    CHECK(load("extra", NULL) < 0);
    CHECK_ERR("unexpected argument 'extra'");
    CHECK(load("-p", NULL) < 0);
    CHECK_ERR("unexpected argument '-p'");
    CHECK(load("--", NULL) < 0);
    CHECK(load("--log-json=false", NULL) == 0);
    CHECK(json_is_false(config_get(app, "logger.json")));
    CHECK(load("--log-json=maybe", NULL) < 0);
    CHECK_ERR("option '--log-json' takes no value (or true/false), got 'maybe'");
    CHECK(load("--config=missing", NULL) < 0);
    CHECK_ERR("option --config: config directory 'missing' does not exist");
    write_file("afile", "x");
    CHECK(load("--config=afile", NULL) < 0);
    CHECK_ERR("option --config: config directory 'afile' is not a directory");
    CHECK(load("--pid-dir=", NULL) < 0);
}

static void test_validation(void)
{
    fresh();
    write_file("config/web.json", "{\n  \"port\": 8080,\n  \"padding\": 2,\n}\n");
    CHECK(load(NULL) < 0);
    CHECK(strncmp(err, "config/web.json:4:1: invalid JSON: ", 35) == 0);
    write_file("config/web.json", "[1, 2]");
    CHECK(load(NULL) < 0);
    CHECK_ERR("config/web.json: expected a JSON object, got [1,2]");
    write_file("config/web.json", "");
    CHECK(load(NULL) < 0);
    CHECK(strncmp(err, "config/web.json", 15) == 0);

    write_file("config/web.json", "{\"port\": \"abc\"}");
    CHECK(load(NULL) < 0);
    CHECK_ERR("config/web.json: web.port: expected an integer 1..65535 or a socket path, got \"abc\"");
    write_file("config/web.json", "{\"port\": 8080.5}");
    CHECK(load(NULL) < 0);
    CHECK_ERR("config/web.json: web.port: expected an integer 1..65535 or a socket path, got 8080.5");
    write_file("config/web.json", "{\"rootEndpointType\": \"both\"}");
    CHECK(load(NULL) < 0);
    CHECK_ERR("config/web.json: web.rootEndpointType: rootEndpointType can only be 'api' or 'file'");
    write_file("config/web.json", "{\"urlPathForFiles\": null}");
    CHECK(load(NULL) < 0);
    CHECK_ERR("config/web.json: web.urlPathForFiles: rootEndpointType cannot be \"file\" without a urlPathForFiles");
    write_file("config/web.json", "{\"urlPathForFiles\": \"\"}");
    CHECK(load(NULL) < 0);
    CHECK_ERR("config/web.json: web.urlPathForFiles: rootEndpointType cannot be \"file\" without a urlPathForFiles");
    write_file("config/web.json", "{\"urlPathForFiles\": null, \"rootEndpointType\": \"api\"}");
    CHECK_EQ_INT(load(NULL), 0);
    write_file("config/web.json", "{\"automaticRoutes\": [\"get\", \"GET\"]}");
    CHECK(load(NULL) < 0);
    CHECK_ERR("config/web.json: web.automaticRoutes: GET is not an HTTP verb");
    write_file("config/web.json", "{\"maxHeaderBytes\": 10}");
    CHECK(load(NULL) < 0);
    CHECK_ERR("config/web.json: web.maxHeaderBytes: expected an integer 1024..1048576, got 10");
    write_file("config/web.json", "{\"maxBodyBytes\": \"1048576\"}");   /* numeric text is fine */
    CHECK_EQ_INT(load(NULL), 0);
    CHECK_JSON("web.maxBodyBytes", "1048576");
    write_file("config/web.json", "{\"maxBodyBytes\": 1e3}");          /* an integral real */
    CHECK_EQ_INT(load(NULL), 0);
    CHECK_JSON("web.maxBodyBytes", "1000");
    write_file("config/web.json", "{\"enableEtag\": \"yes\"}");
    CHECK(load(NULL) < 0);
    CHECK_ERR("config/web.json: web.enableEtag: expected true or false, got \"yes\"");
    write_file("config/web.json", "{\"fingerprintOptions\": {\"cookieKey\": 5}}");
    CHECK(load(NULL) < 0);
    CHECK_ERR("config/web.json: web.fingerprintOptions.cookieKey: expected a string, got 5");
    write_file("config/web.json", "{\"fingerprintOptions\": 5}");
    CHECK(load(NULL) < 0);
    CHECK_ERR("config/web.json: web.fingerprintOptions: expected an object, got 5");
    write_file("config/web.json", "{\"httpHeaders\": {\"X-Bad\": \"a\\r\\nSet-Cookie: x\"}}");
    CHECK(load(NULL) < 0);
    CHECK_ERR("config/web.json: web.httpHeaders.X-Bad: control character in the header value");
    write_file("config/web.json", "{\"httpHeaders\": {\"Bad Name\": \"a\"}}");
    CHECK(load(NULL) < 0);
    CHECK_ERR("config/web.json: web.httpHeaders.Bad Name: invalid character in the header name");
    write_file("config/web.json", "{\"httpHeaders\": {\"X-Off\": null, \"X-Zero\": 0, \"X-F\": false}}");
    CHECK_EQ_INT(load(NULL), 0);
    write_file("config/web.json", "{\"allowedRequestHosts\": \"http://a\"}");
    CHECK(load(NULL) < 0);
    CHECK_ERR("config/web.json: web.allowedRequestHosts: expected an array of strings, got \"http://a\"");
    unlink("config/web.json");

    write_file("config/general.json", "{\"paths\": {\"pid\": []}}");
    CHECK(load(NULL) < 0);
    CHECK_ERR("config/general.json: general.paths.pid: expected at least 1 entry");
    write_file("config/general.json", "{\"fileRequestLogLevel\": \"verbose\"}");
    CHECK(load(NULL) < 0);
    CHECK_ERR("config/general.json: general.fileRequestLogLevel: expected a log level (emerg, alert, crit, error, "
              "warning, notice, info, debug), got \"verbose\"");
    write_file("config/general.json", "{\"simultaneousActions\": 0}");
    CHECK(load(NULL) < 0);
    CHECK_ERR("config/general.json: general.simultaneousActions: expected an integer 1..1000000, got 0");
    write_file("config/general.json", "{\"serverName\": \"${general.nope}\"}");
    CHECK(load(NULL) < 0);
    CHECK_ERR("config/general.json: general.serverName: unknown reference ${general.nope}");
    unlink("config/general.json");

    /* environment files name themselves */
    write_file("config/environments/production.json", "{\"web\": {\"padding\": -1}}");
    CHECK(load("--NODE_ENV=production", NULL) < 0);
    CHECK_ERR("config/environments/production.json: web.padding: expected an integer 0..10, got -1");
    write_file("config/environments/production.json", "{\"web\": 5}");
    CHECK(load("--NODE_ENV=production", NULL) < 0);
    CHECK_ERR("config/environments/production.json: web: expected an object, got 5");
    write_file("config/environments/production.json", "{\"web\": {\"port\": 1,}}");
    CHECK(load("--NODE_ENV=production", NULL) < 0);
    CHECK(strncmp(err, "config/environments/production.json:1:", 38) == 0);
    unlink("config/environments/production.json");

    /* unknown options: a warning, not an error; other namespaces are free */
    write_file("config/web.json", "{\"prot\": 1, \"fingerprintOptions\": {\"cokieKey\": \"x\"}}");
    write_file("config/custom.json", "{\"anything\": 1}");
    CHECK_EQ_INT(load(NULL), 0);
    CHECK_EQ_INT(json_array_size(app->config_warnings), 2);
    CHECK_EQ_STR(json_string_value(json_array_get(app->config_warnings, 0)),
                 "config/web.json: web.fingerprintOptions.cokieKey: unknown option (ignored)");
    CHECK_EQ_STR(json_string_value(json_array_get(app->config_warnings, 1)),
                 "config/web.json: web.prot: unknown option (ignored)");
    unlink("config/web.json");

    /* Primus option names are left to the websocket server, unchecked here */
    write_file("config/websocket.json", "{\"server\": {\"maxLength\": 2048, \"pingInterval\": false}}");
    CHECK_EQ_INT(load(NULL), 0);
    CHECK_EQ_INT(I("websocket.server.maxLength"), 2048);
    CHECK_EQ_INT(I("websocket.maxPayload"), 10485760);
    CHECK_EQ_INT(json_array_size(app->config_warnings), 0);
    write_file("config/websocket.json", "{\"maxPayload\": 1}");
    CHECK(load(NULL) < 0);
    CHECK_ERR("config/websocket.json: websocket.maxPayload: expected an integer 125..2147483647, got 1");
    unlink("config/websocket.json");

    /* cookieKey reference */
    write_file("config/web.json", "{\"fingerprintOptions\": {\"cookieKey\": \"sid\"}}");
    CHECK_EQ_INT(load(NULL), 0);
    CHECK_EQ_STR(S("websocket.client.cookieKey"), "sid");
    CHECK_EQ_STR(S("websocket.client.apiPath"), "/api");
}

static void test_server_id(void)
{
    fresh();
    write_file("config/general.json", "{\"id\": \"from-config\"}");
    CHECK_EQ_INT(load(NULL), 0);
    CHECK_EQ_STR(app->id, "from-config");
    setenv("ACTIONHERO_TITLE", "from-env", 1);
    CHECK_EQ_INT(load(NULL), 0);
    CHECK_EQ_STR(app->id, "from-env");
    CHECK_EQ_INT(load("--title=from-flag", NULL), 0);
    CHECK_EQ_STR(app->id, "from-flag");
    unsetenv("ACTIONHERO_TITLE");
    /* JEST_WORKER_ID: id, and in the test environment token and port */
    setenv("JEST_WORKER_ID", "3", 1);
    CHECK_EQ_INT(load("--NODE_ENV=test", NULL), 0);
    CHECK_EQ_STR(app->id, "test-server-3");
    CHECK_EQ_STR(S("general.serverToken"), "serverToken-3");
    CHECK_EQ_INT(I("web.port"), 18083);
    CHECK_EQ_INT(load(NULL), 0);
    CHECK_EQ_STR(app->id, "test-server-3");
    CHECK_EQ_STR(S("general.serverToken"), "change-me");
    unsetenv("JEST_WORKER_ID");
    write_file("config/general.json", "{\"id\": 5}");
    CHECK(load(NULL) < 0);
    CHECK_ERR("config/general.json: general.id: expected a string, got 5");
}

int main(void)
{
    if (getcwd(repo, sizeof(repo)) == NULL)
        return 1;
    uv_loop_init(&loop);
    test_defaults_only();
    test_shipped_config();
    test_files();
    test_routes();
    test_overlays();
    test_env_vars();
    test_overrides();
    test_flags();
    test_validation();
    test_server_id();
    fresh();
    cleanup_app();
    {
        char *cmd = xasprintf("rm -rf '%s'", proj);
        int rc = chdir(repo);

        rc = system(cmd);
        (void)rc;
        free(cmd);
    }
    CHECK_EQ_INT(uv_loop_close(&loop), 0);
    return check_done();
}
