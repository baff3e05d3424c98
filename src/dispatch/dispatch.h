/*
 * dispatch.h - the action table and the action processor (actions.md).
 *
 * Every transport runs actions through dispatch_action(): params handling,
 * middleware, errors and logging are the same everywhere; the transport only
 * renders the finished struct ah_ctx in its callback.
 */
#ifndef AH_SRC_DISPATCH_DISPATCH_H
#define AH_SRC_DISPATCH_DISPATCH_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include <ah/ah.h>

/* actionStatus (actions.md §4). */
enum ah_action_status {
    AH_STATUS_NONE = -1,
    AH_STATUS_COMPLETE = 0,
    AH_STATUS_GENERIC_ERROR,
    AH_STATUS_SERVER_SHUTTING_DOWN,
    AH_STATUS_TOO_MANY_REQUESTS,
    AH_STATUS_UNKNOWN_ACTION,
    AH_STATUS_UNSUPPORTED_SERVER_TYPE,
    AH_STATUS_MISSING_PARAMS,
    AH_STATUS_VALIDATOR_ERRORS,
};

typedef void (*dispatch_done_cb)(ah_ctx_t *ctx, void *arg);

/* The action processor ("data").  Transports read these fields in their
 * completion callback; action code uses the accessors of ah.h. */
struct ah_ctx {
    ah_app_t *app;
    ah_connection_t *connection;     /* holds a reference */
    const char *action;              /* resolved name or NULL */
    const ah_action_t *action_template;
    bool to_process;
    bool to_render;
    char message_id[64];
    json_t *params;                  /* object, owned */
    json_t *missing_params;          /* array of names, or NULL when none */
    json_t *validator_errors;        /* array of strings, or NULL when none */
    uint64_t action_start_time;
    bool working;
    json_t *response;                /* object, string or array; owned */
    uint64_t duration;
    enum ah_action_status action_status;
    json_t *session;                 /* object, or NULL until ah_session() */
    json_t *error;                   /* the computed error's message (a string:
                                      * an Error of that message) or NULL */

    /* private to dispatch */
    void *priv;
};

/* Validate the generated tables and build versions and the post-variable
 * list.  Returns 0 or <0 with ah_app_fail() called. */
int dispatch_init(ah_app_t *app);
void dispatch_free(ah_app_t *app);

/* Find an action; version NULL = latest (the last of the string-sorted
 * version list, actions.md §1 quirk). */
const ah_action_t *dispatch_find(ah_app_t *app, const char *name, const char *version);
/* The version of `name` that comes last when its versions are the keys of
 * a JS object (array-index keys ascending, then the others in load order):
 * what swagger documents.  NULL if unknown. */
const ah_action_t *dispatch_find_last_key(ah_app_t *app, const char *name);
/* Every registered action, in load order, all versions. */
size_t dispatch_count(ah_app_t *app);
const ah_action_t *dispatch_at(ah_app_t *app, size_t i);
/* Is `name` in the post-variable list (safe params + every input name)? */
bool dispatch_is_post_variable(ah_app_t *app, const char *name);
/* JSON value of an action's version ("1" -> 1, "three" -> "three"): new ref. */
json_t *dispatch_version_json(const ah_action_t *a);

/* Load one more descriptor (actions.md §1 validation and versions), as
 * dispatch_init does for each generated one; `file` names it in messages.
 * Returns 0 or <0 with ah_app_fail() called.  Call
 * dispatch_build_post_variables() after loading. */
int dispatch_load_action(ah_app_t *app, const ah_action_t *a, const char *file);
void dispatch_build_post_variables(ah_app_t *app);
/* The post-variable list (borrowed, valid until the next rebuild). */
size_t dispatch_post_variables(ah_app_t *app, const char *const **out);
/* The "latest" version key of `name` (borrowed), or NULL if unknown. */
const char *dispatch_latest_version(ah_app_t *app, const char *name);

/* Run an action for connection `c` (actions.md §4).  `action`/`version`
 * NULL (or "") means take them from the params (params.action,
 * params.apiVersion, else the latest version).  `params_take` (stolen; NULL:
 * a copy of c->params) becomes the processor's params, with `action` and
 * `apiVersion` keys first.
 *
 * `cb(ctx, arg)` runs exactly once when the processor finished.  For a
 * synchronous action (and for every early error: unknown action, too many
 * pending, ...) it runs INSIDE this call, to keep the hot path cheap;
 * otherwise on a later loop turn, when the action calls ah_done().  In the
 * callback read ctx->response (object, string or array),
 * ctx->action_status, ctx->to_render (false: send nothing), ctx->params
 * (processed) and dispatch_serialize_error(ctx, "<server>") for
 * response.error; ctx and everything it owns are freed when cb returns.
 * The connection may have been destroyed meanwhile (the client left):
 * check c->destroyed and send nothing then.  The processor holds a
 * reference on `c` until after cb.
 *
 * Returns 0 (cb will run or has run) or AH_ESTATE when the dispatcher is
 * gone (after the stop phase): cb never runs and params_take is freed. */
int dispatch_action(ah_connection_t *c, const char *action, const char *version,
                    json_t *params_take, dispatch_done_cb cb, void *arg);

/* dispatch_action plus what only some transports have: the web server's
 * method and pathname for the action log line (copied). */
struct dispatch_extra {
    const char *method;     /* "GET" */
    const char *pathname;   /* "/api/randomNumber" */
};
int dispatch_action_ex(ah_connection_t *c, const char *action, const char *version,
                       json_t *params_take, const struct dispatch_extra *extra,
                       dispatch_done_cb cb, void *arg);

/* Render response.error for a transport (NEW reference, or NULL when the
 * response is not an object or has no error).  An error the processor put
 * there is an Error: "web"/"websocket" get its message and "specHelper"
 * "Error: <message>"; anything the action set itself (ah_set_error, an
 * object) is returned unchanged, as config.errors.serializers do. */
json_t *dispatch_serialize_error(ah_ctx_t *ctx, const char *server);

/* Is response.error an Error the processor placed (true), or a value the
 * action set itself (false)? */
bool dispatch_error_is_exception(ah_ctx_t *ctx);
/* Have the params been validated (read-only from now on by contract)? */
bool dispatch_params_locked(ah_ctx_t *ctx);

/* Number of actions in flight in the whole app (graceful drain). */
int dispatch_in_flight(ah_app_t *app);

/* The action log line's fields in order (actions.md §8): a NEW object, and
 * its level (the action's logLevel, or error).  For tests and tools. */
json_t *dispatch_log_fields(ah_ctx_t *ctx);
int dispatch_log_level(ah_ctx_t *ctx);
/* filterObjectForLogging on a deep copy of `obj` with the dotted paths of
 * config `filter_key` ("general.filteredParams"): NEW reference. */
json_t *dispatch_filter_for_log(ah_app_t *app, json_t *obj, const char *filter_key);

/* Did a stock formatter (ah_format_integer / ah_format_number) turn param
 * `name` into NaN?  JSON cannot hold NaN, so the param reads as null; v29
 * keeps NaN, which is a number and not "missing". */
bool dispatch_param_is_nan(ah_ctx_t *ctx, const char *name);

/* The `in-line-action` connection type of ah_run_inline(). */
const ah_server_type_t *dispatch_inline_server_type(void);

/* JS String(v) (NEW string, free it); NULL gives "undefined". */
char *dispatch_js_string(const json_t *v);
/* Number#toString of a double into out; returns the length. */
int dispatch_number_text(double v, char out[32]);

#endif /* AH_SRC_DISPATCH_DISPATCH_H */
