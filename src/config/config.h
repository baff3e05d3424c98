/*
 * config.h - the configuration tree (config.md).
 *
 * Build order (later wins):
 *  1. compiled-in defaults: every namespace (general, errors, logger, routes,
 *     web, websocket, redis, tasks, plugins) with Actionhero 29's values plus
 *     our limits; the option table (config_options()) is their one source;
 *  2. the built-in overlay of the environment ("test", "production");
 *  3. each config directory (--config=a,b / repeated --config, then
 *     ACTIONHERO_CONFIG=a,b; else <project root>/config, which may be
 *     missing): every config/<namespace>.json (sorted by name; the file
 *     holds that namespace's object, e.g. config/web.json = {"port": 8080}),
 *     then config/environments/<env>.json = {"<namespace>": {...}, ...};
 *  4. environment variables: PORT, ALLOWED_HOSTS, AUTOMATIC_ROUTES,
 *     LOG_LEVEL, REDIS_HOST/PORT/DB/PASSWORD/SSL/URL,
 *     ACTIONHERO_SHUTDOWN_TIMEOUT, maxMemoryAlloted, maxResqueQueueLength;
 *  5. ACTIONHERO_CONFIG_OVERRIDES (JSON), then --ACTIONHERO_CONFIG_OVERRIDES=;
 *  6. the other command-line flags, in order: --port=, --bindIP=,
 *     --set=path.to.key=<JSON or plain string>, --pid-dir=, --log-json.
 *
 * Merge rules are Actionhero's hashMerge: objects merge recursively, arrays
 * and scalars replace, null deletes, an empty object never replaces an
 * existing value.  Routes files and the "routes" of environment files are
 * not merged but concatenated per method across directories (exact
 * duplicates removed).  A string value "${a.b.c}" is a reference: after all
 * sources it is replaced by the value at a.b.c (the defaults use this for
 * web.httpHeaders.X-Powered-By and websocket.client.cookieKey).
 *
 * Environment: --NODE_ENV=, else ACTIONHERO_ENV, else NODE_ENV, else
 * "development".  Server id (config.md §3): --title=, ACTIONHERO_TITLE,
 * general.id, the last non-127.0.0.1 IPv4 address of the host, "actionhero"
 * (deviation: general.id is honoured at first boot).
 *
 * Then every option of the table is validated and normalised (numeric
 * strings become numbers, relative general.paths become absolute); a bad file
 * or value stops boot with one line naming the source (file, environment
 * variable or flag), the key and the problem.  config.process holds env, id,
 * projectRoot and actionheroVersion.
 *
 * Reading: everything here runs on the loop thread.  Lookups return borrowed
 * values valid until the key is changed; a missing key and JSON null are the
 * same ("null deletes"): web.padding, web.bindIP, web.urlPathForFiles,
 * websocket.clientJsName, general.id, redis.password and logger.file may be
 * missing, which means null.
 */
#ifndef AH_SRC_CONFIG_CONFIG_H
#define AH_SRC_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include <ah/ah.h>

/* Our version (the project's package.json version in Actionhero terms). */
#define AH_VERSION "0.1.0"
/* The Actionhero version we are compatible with (config.process). */
#define AH_ACTIONHERO_VERSION "29.3.5"

struct config_args {
    int argc;               /* the arguments after the command word */
    char **argv;
};

/* Build app->config, app->env, app->id, app->project_root, app->config_dirs
 * and app->config_warnings (non-fatal findings such as unknown options, to
 * be logged once the logger is up).  Reads the process environment.  On
 * error returns AH_EINVAL and writes one line (no newline) into err. */
int config_load(ah_app_t *app, const struct config_args *args, char *err, size_t errlen);

/* Lookups by dotted path ("web.formOptions.maxFileSize"); borrowed. */
json_t *config_get(ah_app_t *app, const char *path);
/* Forget remembered lookups: call after changing a configuration tree
 * other than through config_set/config_tree_set/config_merge. */
void config_changed(void);
long long config_int(ah_app_t *app, const char *path, long long dflt);
double config_real(ah_app_t *app, const char *path, double dflt);
const char *config_str(ah_app_t *app, const char *path, const char *dflt);
bool config_bool(ah_app_t *app, const char *path, bool dflt); /* JS truthiness */

/* Set a value at run time (creates intermediate objects; takes the
 * reference; NULL or json null deletes).  Not validated.  Returns 0 or
 * AH_EINVAL (empty path, or a path through a non-object). */
int config_set(ah_app_t *app, const char *path, json_t *value_take);

/* Error text config.errors.<key> (config.md §5) with its {name} placeholders
 * replaced: the variadic arguments are pairs of const char * ("name",
 * value), ended by NULL.  Unknown placeholders stay as written.  A missing or
 * non-string entry falls back to the built-in text.  Returns a new string
 * (free it), never NULL.  Example:
 *     config_error_text(app, "missingParams", "param", "key", NULL)
 *     -> "key is a required parameter for this action" */
char *config_error_text(ah_app_t *app, const char *key, ...);
/* The same substitution on any template (exposed for tests). */
char *config_format_text(const char *tmpl, va_list ap);

/* Deep-merge `src` into `dst` with Actionhero's rules (exposed for tests).
 * `src` is only read; values are copied. */
void config_merge(json_t *dst, json_t *src);

/* ----------------------------------------------------------- option table */

enum config_type {
    CONFIG_INT,      /* integer in [min, max]; integer strings accepted */
    CONFIG_NUM,      /* number in [min, max] */
    CONFIG_BOOL,     /* true or false */
    CONFIG_STR,      /* string */
    CONFIG_ENUM,     /* one of `choices` ("api|file") */
    CONFIG_LEVEL,    /* a log level name */
    CONFIG_PORT,     /* integer 1..65535 or a Unix socket path (contains '/') */
    CONFIG_STRS,     /* array of strings, at least `min` of them */
    CONFIG_ARRAY,    /* any array */
    CONFIG_VERBS,    /* array of route methods (automaticRoutes) */
    CONFIG_OBJECT,   /* object whose keys are options of this table */
    CONFIG_MAP,      /* free-form object (keys not checked) */
    CONFIG_HEADERS,  /* object of header name -> string/number/bool/null */
    CONFIG_ROUTES,   /* {method: [{path, action | dir, ...}]} */
};

enum {
    CONFIG_NULLABLE = 1 << 0,  /* may be missing / null */
};

struct config_option {
    const char *name;          /* dotted path: "web.maxHeaderBytes" */
    enum config_type type;
    const char *dflt;          /* JSON text of the default; NULL: none */
    double min, max;           /* numbers: range; CONFIG_STRS: min count */
    unsigned flags;
    const char *choices;       /* CONFIG_ENUM: "a|b" */
};

/* The option table, in namespace order; *n gets its length. */
const struct config_option *config_options(size_t *n);
const struct config_option *config_option_find(const char *name);

/* The compiled-in defaults as a new tree (tests, `config` docs).  Computed
 * values (paths under the working directory, the upload directory) are
 * filled in; references are not resolved. */
json_t *config_defaults(void);

#endif /* AH_SRC_CONFIG_CONFIG_H */
