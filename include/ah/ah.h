/*
 * ah.h - the only header an action, middleware or initializer needs.
 *
 * An action is a const descriptor plus a run function:
 *
 *     static int run(ah_ctx_t *ctx)
 *     {
 *         json_object_set_new(ah_response(ctx), "randomNumber",
 *                             json_real(ah_random_unit()));
 *         return AH_DONE;
 *     }
 *
 *     AH_ACTION(random_number) = {
 *         .name = "randomNumber",
 *         .description = "I am an API method which will generate a random number",
 *         .run = run,
 *     };
 *
 * The build collects every AH_ACTION / AH_INITIALIZER / AH_ACTION_MIDDLEWARE /
 * AH_CONNECTION_MIDDLEWARE in actions/, initializers/ and middleware/ into a
 * generated table (tools/gen-registry.sh): adding a file adds the module.
 *
 * Threads: every function here runs on the loop thread and must be called
 * from it.  Ownership follows jansson: "borrowed" results must not be
 * decref'd, "_take"/"_new" arguments are stolen.
 */
#ifndef AH_AH_H
#define AH_AH_H

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define AH_MUST_CHECK __attribute__((warn_unused_result))
#define AH_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define AH_MUST_CHECK
#define AH_PRINTF(f, a)
#endif

typedef struct ah_ctx ah_ctx_t;               /* one action invocation ("data") */
typedef struct ah_connection ah_connection_t; /* include/ah/connection.h */
typedef struct ah_app ah_app_t;               /* the running server */
typedef struct ah_action ah_action_t;
typedef struct ah_input ah_input_t;

/* ---------------------------------------------------------------- results */

/* run() and middleware hooks return one of these, or a negative code from
 * ah_fail().  After AH_PENDING, call ah_done(ctx) exactly once, later, on the
 * loop thread. */
enum {
    AH_DONE = 0,
    AH_PENDING = 1,
};

/* Error codes: negative, errno-like.  libuv's UV_E* pass through unchanged. */
enum {
    AH_EFAIL = -1000,     /* generic failure, message in the ctx */
    AH_EINVAL = -1001,    /* invalid argument or value */
    AH_ENOTFOUND = -1002, /* no such action / key / file */
    AH_ELIMIT = -1003,    /* a configured limit was reached */
    AH_ESTATE = -1004,    /* not allowed in the current state (e.g. stopping) */
    AH_ENOMEM = -1005,
    AH_EUNAVAIL = -1006,  /* backend unavailable */
};

/* "unknown action" style text for an AH_E* / UV_E* code; never NULL. */
const char *ah_strerror(int code);

/* Tri-state for descriptor booleans whose Actionhero default is true, so that
 * a zero-initialised descriptor gets the default. */
enum { AH_DEFAULT = 0, AH_YES = 1, AH_NO = -1 };

/* ---------------------------------------------------------------- inputs */

/* Validator result (actions.md §3): return AH_VALID to pass, AH_VALID_STOP to
 * pass and skip the remaining validators and the required check, AH_INVALID
 * for `Input for parameter "<name>" failed validation!`, or any other string
 * (static, or from ah_strdup/ah_sprintf) as the error text. */
typedef const char *(*ah_validate_fn)(ah_ctx_t *ctx, const char *name, json_t *value);
extern const char ah_invalid_[];
extern const char ah_valid_stop_[];
#define AH_VALID ((const char *)0)
#define AH_INVALID (ah_invalid_)
#define AH_VALID_STOP (ah_valid_stop_)

/* Formatter: return a NEW reference to the formatted value (may be
 * json_incref(value)).  To fail ("throw"), call ah_fail(ctx, ...) and return
 * NULL: as in v29 (a throwing formatter is not caught per input), params
 * processing stops and the action ends with that text as a generic error.
 * NULL without ah_fail() makes the param absent ("undefined").
 * A validator may also call ah_fail(): its text is recorded as that
 * validator's error (a throwing validator). */
typedef json_t *(*ah_format_fn)(ah_ctx_t *ctx, const char *name, json_t *value);

/* Default computed at run time: return a NEW reference (NULL: no default;
 * NULL after ah_fail(): a generic error, like a throwing formatter). */
typedef json_t *(*ah_default_fn)(ah_ctx_t *ctx, const char *name);

struct ah_input {
    const char *name;               /* NULL ends a list */
    bool required;
    const char *default_json;       /* default as JSON text: "20", "\"x\"", "null" */
    ah_default_fn default_fn;       /* or computed (wins over default_json) */
    ah_format_fn format;            /* applied first ... */
    const ah_format_fn *formats;    /* ... then this NULL-terminated list */
    ah_validate_fn validate;        /* applied first ... */
    const ah_validate_fn *validates;/* ... then this NULL-terminated list */
    const ah_input_t *schema;       /* nested inputs for object params */
    const char *description;        /* documentation only */
};

/* Stock formatters and validators. */
json_t *ah_format_string(ah_ctx_t *ctx, const char *name, json_t *value);  /* String(v) */
json_t *ah_format_integer(ah_ctx_t *ctx, const char *name, json_t *value); /* parseInt: NaN -> null */
json_t *ah_format_number(ah_ctx_t *ctx, const char *name, json_t *value);  /* parseFloat */
json_t *ah_format_lower(ah_ctx_t *ctx, const char *name, json_t *value);
json_t *ah_format_boolean(ah_ctx_t *ctx, const char *name, json_t *value); /* "true"/"1" ... */
const char *ah_valid_string(ah_ctx_t *ctx, const char *name, json_t *value);
const char *ah_valid_nonempty_string(ah_ctx_t *ctx, const char *name, json_t *value);
const char *ah_valid_integer(ah_ctx_t *ctx, const char *name, json_t *value);
const char *ah_valid_number(ah_ctx_t *ctx, const char *name, json_t *value);

/* ---------------------------------------------------------------- actions */

typedef int (*ah_run_fn)(ah_ctx_t *ctx);

struct ah_action {
    const char *name;
    const char *description;             /* default: the name */
    const char *version;                 /* "1" (default), "2", "three"; numeric text renders as a number */
    const ah_input_t *inputs;            /* {0}-terminated, or NULL */
    const char *output_example;          /* JSON text, documentation only */
    const char *const *middleware;       /* NULL-terminated names */
    const char *const *blocked_connection_types; /* NULL-terminated */
    const char *log_level;               /* "info" (default) ... "debug" */
    int to_document;                     /* AH_DEFAULT (= yes) / AH_NO */
    int match_extension_mime_type;       /* AH_DEFAULT (= yes) / AH_NO */
    ah_run_fn run;
};

/* Defines the descriptor `ah_action__<id>`; tools/gen-registry.sh finds it. */
#define AH_ACTION(id) const ah_action_t ah_action__##id

/* ------------------------------------------------------- action middleware */

typedef struct ah_action_middleware {
    const char *name;
    bool global;                  /* applies to every action */
    int priority;                 /* 0: config.general.defaultMiddlewarePriority */
    ah_run_fn pre;                /* preProcessor: AH_DONE, AH_PENDING, ah_fail() */
    ah_run_fn post;               /* postProcessor: same contract */
} ah_action_middleware_t;

#define AH_ACTION_MIDDLEWARE(id) const ah_action_middleware_t ah_action_middleware__##id

/* Register at run time (from an initializer).  Returns 0 or AH_EINVAL
 * ("middleware.name is required").  `mw` must outlive the app. */
AH_MUST_CHECK int ah_action_middleware_add(ah_app_t *app, const ah_action_middleware_t *mw);

/* ---------------------------------------------------------- the processor */

/* Params of this invocation (borrowed object).  Mutable in preProcessors,
 * read-only (by contract) from validation on. */
json_t *ah_params(ah_ctx_t *ctx);
json_t *ah_param(ah_ctx_t *ctx, const char *name);          /* borrowed or NULL */
const char *ah_param_str(ah_ctx_t *ctx, const char *name);  /* NULL unless a string */
/* Integer value of a param (number or numeric string), else `dflt`. */
long long ah_param_int(ah_ctx_t *ctx, const char *name, long long dflt);
double ah_param_real(ah_ctx_t *ctx, const char *name, double dflt);

/* The response object (borrowed).  NULL if the response was replaced by a
 * string or array with ah_set_response(). */
json_t *ah_response(ah_ctx_t *ctx);
/* Replace the whole response (takes the reference): object, string or array. */
void ah_set_response(ah_ctx_t *ctx, json_t *response_take);
/* Set response.error (the action-level error: status stays Complete). */
void ah_set_error(ah_ctx_t *ctx, const char *fmt, ...) AH_PRINTF(2, 3);

json_t *ah_session(ah_ctx_t *ctx);           /* middleware scratch (borrowed) */
ah_connection_t *ah_connection(ah_ctx_t *ctx);
ah_app_t *ah_app(ah_ctx_t *ctx);
const char *ah_action_name(ah_ctx_t *ctx);   /* NULL until resolved */
const ah_action_t *ah_action_template(ah_ctx_t *ctx);
void ah_set_to_process(ah_ctx_t *ctx, bool on);
void ah_set_to_render(ah_ctx_t *ctx, bool on);
bool ah_to_render(ah_ctx_t *ctx);

/* "Throw": record `fmt` as the error of this invocation and return `code`
 * (negative; AH_EFAIL if code >= 0) for run()/hooks to return. */
int ah_fail(ah_ctx_t *ctx, int code, const char *fmt, ...) AH_PRINTF(3, 4);

/* Finish an invocation that returned AH_PENDING.  Exactly once, on the loop
 * thread, even if the client has gone (ah_ctx_alive() says so). */
void ah_done(ah_ctx_t *ctx);
bool ah_ctx_alive(ah_ctx_t *ctx);

/* Per-invocation arena: freed when the invocation ends. */
void *ah_alloc(ah_ctx_t *ctx, size_t n);
char *ah_strdup(ah_ctx_t *ctx, const char *s);
char *ah_sprintf(ah_ctx_t *ctx, const char *fmt, ...) AH_PRINTF(2, 3);

/* Run another action in-line (actions.md §9).  `params_take` is stolen.  The
 * callback runs once, never before this returns; `response` is borrowed and
 * `error` is NULL or the error text.  Returns 0 or a negative code (then the
 * callback never runs). */
typedef void (*ah_inline_cb)(ah_ctx_t *caller, json_t *response, const char *error, void *arg);
AH_MUST_CHECK int ah_run_inline(ah_ctx_t *caller, const char *name, const char *version,
                                json_t *params_take, ah_inline_cb cb, void *arg);

/* ---------------------------------------------------------------- helpers */

uint64_t ah_now_ms(void);              /* wall clock, ms since the epoch */
double ah_random_unit(void);           /* CSPRNG float in [0, 1) */
void ah_uuid4(char out[37]);           /* random UUID v4, NUL-terminated */

/* Logging with Actionhero's levels. */
enum ah_log_level {
    AH_LOG_EMERG = 0,
    AH_LOG_ALERT,
    AH_LOG_CRIT,
    AH_LOG_ERROR,
    AH_LOG_WARNING,
    AH_LOG_NOTICE,
    AH_LOG_INFO,
    AH_LOG_DEBUG,
};
void ah_log(ah_ctx_t *ctx, int level, const char *fmt, ...) AH_PRINTF(3, 4);

/* Configuration (borrowed, read-only): ah_config(app, "web.port"). */
json_t *ah_config(ah_app_t *app, const char *dotted_path);

#ifdef __cplusplus
}
#endif

#include <ah/cache.h>
#include <ah/chat.h>
#include <ah/cluster.h>
#include <ah/connection.h>
#include <ah/initializer.h>
#include <ah/task.h>

#endif /* AH_AH_H */
