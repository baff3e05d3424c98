/*
 * processor.c - the action processor (actions.md §4) and the action
 * author's API of ah.h.
 *
 * One struct dctx per invocation runs a small state machine: preProcessors,
 * params (scrub, defaults, formatters, validators, required), run,
 * postProcessors, completion.  Any hook may return AH_PENDING; ah_done()
 * resumes the machine where it stopped.  A synchronous invocation runs to
 * completion inside dispatch_action() and its context is recycled at once;
 * one that went asynchronous is freed on the next loop turn instead, so a
 * buggy second ah_done() in the same callback finds a finished context and
 * is only logged.
 */
#include "dispatch/dispatch_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "config/config.h"
#include "conn/conn.h"
#include "core/core.h"
#include "log/log.h"

#define MAX_FREE_CTXS 64

/* ---------------------------------------------------------------- arena */

struct arena_chunk {
    struct arena_chunk *next;
    size_t size, used;
    _Alignas(16) unsigned char data[];
};

void *ah_alloc(ah_ctx_t *ctx, size_t n)
{
    struct dctx *x = dctx_of(ctx);
    struct arena_chunk *ch = x->arena;
    size_t need = (n + 15) & ~(size_t)15;

    if (n == 0)
        need = 16;
    if (ch == NULL || ch->size - ch->used < need) {
        size_t size = need > 4096 - sizeof(*ch) ? need : 4096 - sizeof(*ch);

        ch = xmalloc(sizeof(*ch) + size);
        ch->size = size;
        ch->used = 0;
        ch->next = x->arena;
        x->arena = ch;
    }
    ch->used += need;
    return ch->data + ch->used - need;
}

char *ah_strdup(ah_ctx_t *ctx, const char *s)
{
    size_t n = strlen(s);
    char *p = ah_alloc(ctx, n + 1);

    memcpy(p, s, n + 1);
    return p;
}

char *ah_sprintf(ah_ctx_t *ctx, const char *fmt, ...)
{
    va_list ap, cp;
    char small[256];
    int n;
    char *p;

    va_start(ap, fmt);
    va_copy(cp, ap);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        va_end(cp);
        return ah_strdup(ctx, "");
    }
    p = ah_alloc(ctx, (size_t)n + 1);
    if ((size_t)n < sizeof(small))
        memcpy(p, small, (size_t)n + 1);
    else
        vsnprintf(p, (size_t)n + 1, fmt, cp);
    va_end(cp);
    return p;
}

void dispatch_arena_free(struct dctx *x)
{
    while (x->arena) {
        struct arena_chunk *next = x->arena->next;

        free(x->arena);
        x->arena = next;
    }
}

/* ---------------------------------------------------------------- accessors */

json_t *ah_params(ah_ctx_t *ctx)
{
    return ctx->params;
}

json_t *ah_param(ah_ctx_t *ctx, const char *name)
{
    return json_object_get(ctx->params, name);
}

const char *ah_param_str(ah_ctx_t *ctx, const char *name)
{
    return json_string_value(json_object_get(ctx->params, name));
}

static bool numeric_string(const char *s, double *out)
{
    char *end;

    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    if (*s == '\0')
        return false;
    *out = strtod(s, &end);
    while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
        end++;
    return *end == '\0' && *out == *out;
}

long long ah_param_int(ah_ctx_t *ctx, const char *name, long long dflt)
{
    json_t *v = json_object_get(ctx->params, name);
    double d;

    if (json_is_integer(v))
        return json_integer_value(v);
    if (json_is_real(v))
        d = json_real_value(v);
    else if (!json_is_string(v) || !numeric_string(json_string_value(v), &d))
        return dflt;
    if (d != d || d >= 9.2e18 || d <= -9.2e18)
        return dflt;
    return (long long)d;
}

double ah_param_real(ah_ctx_t *ctx, const char *name, double dflt)
{
    json_t *v = json_object_get(ctx->params, name);
    double d;

    if (json_is_number(v))
        return json_number_value(v);
    if (json_is_string(v) && numeric_string(json_string_value(v), &d))
        return d;
    return dflt;
}

json_t *ah_response(ah_ctx_t *ctx)
{
    return json_is_object(ctx->response) ? ctx->response : NULL;
}

void ah_set_response(ah_ctx_t *ctx, json_t *response_take)
{
    if (!json_is_object(response_take) && !json_is_string(response_take) && !json_is_array(response_take)) {
        log_warn("ah_set_response: action `%s` gave a response that is not an object, string or array",
                 ctx->action ? ctx->action : "");
        json_decref(response_take);
        return;
    }
    json_decref(ctx->response);
    ctx->response = response_take;
    dctx_of(ctx)->error_is_exception = false;
}

void ah_set_error(ah_ctx_t *ctx, const char *fmt, ...)
{
    struct buf b = BUF_INIT;
    json_t *s;
    va_list ap;

    if (!json_is_object(ctx->response)) {
        log_warn("ah_set_error: the response of `%s` is not an object", ctx->action ? ctx->action : "");
        return;
    }
    va_start(ap, fmt);
    buf_vaddf(&b, fmt, ap);
    va_end(ap);
    s = json_stringn(b.data, b.len);
    if (s == NULL)
        s = json_string("error text is not valid UTF-8");
    json_object_set_new(ctx->response, "error", s);
    dctx_of(ctx)->error_is_exception = false;
    buf_release(&b);
}

json_t *ah_session(ah_ctx_t *ctx)
{
    if (ctx->session == NULL)
        ctx->session = json_object();
    return ctx->session;
}

ah_connection_t *ah_connection(ah_ctx_t *ctx)
{
    return ctx->connection;
}

ah_app_t *ah_app(ah_ctx_t *ctx)
{
    return ctx->app;
}

const char *ah_action_name(ah_ctx_t *ctx)
{
    return ctx->action;
}

const ah_action_t *ah_action_template(ah_ctx_t *ctx)
{
    return ctx->action_template;
}

void ah_set_to_process(ah_ctx_t *ctx, bool on)
{
    ctx->to_process = on;
}

void ah_set_to_render(ah_ctx_t *ctx, bool on)
{
    ctx->to_render = on;
}

bool ah_to_render(ah_ctx_t *ctx)
{
    return ctx->to_render;
}

bool ah_ctx_alive(ah_ctx_t *ctx)
{
    return !dctx_of(ctx)->finished && ctx->connection && !ctx->connection->destroyed;
}

int ah_fail(ah_ctx_t *ctx, int code, const char *fmt, ...)
{
    struct dctx *x = dctx_of(ctx);
    struct buf b = BUF_INIT;
    va_list ap;

    if (code >= 0)
        code = AH_EFAIL;
    va_start(ap, fmt);
    buf_vaddf(&b, fmt, ap);
    va_end(ap);
    if (x->finished) {
        log_error("ah_fail called after action `%s` finished: %s", ctx->action ? ctx->action : "", b.data);
        buf_release(&b);
        return code;
    }
    free(x->fail_msg);
    x->fail_msg = buf_detach(&b, NULL);
    x->fail_code = code;
    return code;
}

void ah_log(ah_ctx_t *ctx, int level, const char *fmt, ...)
{
    json_t *data = NULL;
    va_list ap;

    if (!log_enabled(level))
        return;
    if (ctx) {
        data = json_object();
        if (ctx->action)
            json_object_set_new(data, "action", json_string(ctx->action));
        if (ctx->connection)
            json_object_set_new(data, "connection", json_string(ctx->connection->id));
    }
    va_start(ap, fmt);
    log_vmsg(level, data, fmt, ap);
    va_end(ap);
    json_decref(data);
}

/* ---------------------------------------------------------------- errors */

/* config.errors text for `key`; `fallback` until the config helper fills
 * the placeholders (config_error_text returns the key itself when it does
 * not know the entry). */
static char *error_text(ah_app_t *app, const char *key, const char *var, const char *val, const char *fallback)
{
    char *t = var ? config_error_text(app, key, var, val, NULL) : config_error_text(app, key, NULL);

    if (t == NULL || strcmp(t, key) == 0) {
        free(t);
        return xstrdup(fallback);
    }
    return t;
}

json_t *dispatch_serialize_error(ah_ctx_t *ctx, const char *server)
{
    json_t *err;

    if (!json_is_object(ctx->response))
        return NULL;
    err = json_object_get(ctx->response, "error");
    if (err == NULL)
        return NULL;
    if (dctx_of(ctx)->error_is_exception && json_is_string(err)) {
        /* An Error: web and websocket send its message, specHelper
         * "Error: <message>" (config.errors.serializers.servers). */
        if (server && strcmp(server, "specHelper") == 0) {
            const char *m = json_string_value(err);

            if (m[0] != '\0') {
                char *s = xasprintf("Error: %s", m);
                json_t *out = json_string(s);

                free(s);
                return out;
            }
        }
        return json_incref(err);
    }
    /* anything else the action set: unchanged */
    return json_incref(err);
}

bool dispatch_error_is_exception(ah_ctx_t *ctx)
{
    return dctx_of(ctx)->error_is_exception;
}

/* ---------------------------------------------------------------- lifecycle */

static struct dctx *ctx_alloc(struct dispatch *d)
{
    struct dctx *x = d->free_ctxs;

    if (x) {
        d->free_ctxs = x->next;
        d->n_free_ctxs--;
        memset(x, 0, sizeof(*x));
    } else {
        x = xcalloc(1, sizeof(*x));
    }
    x->d = d;
    x->pub.priv = x;
    return x;
}

static void ctx_release(struct dctx *x)
{
    struct dispatch *d = x->d;
    ah_connection_t *c = x->pub.connection;

    json_decref(x->pub.params);
    json_decref(x->pub.response);
    json_decref(x->pub.session);
    json_decref(x->pub.missing_params);
    json_decref(x->pub.validator_errors);
    json_decref(x->pub.error);
    free(x->fail_msg);
    if (x->log_pathname != x->log_pathname_buf)
        free(x->log_pathname);
    if (x->chain != x->chain_inline)
        free(x->chain);
    dispatch_arena_free(x);
    x->pub.params = x->pub.response = x->pub.session = NULL;
    x->pub.connection = NULL;
    if (c)
        ah_connection_unref(c);
    if (x->went_async) {
        dispatch_zombie(d, x);
    } else if (d->n_free_ctxs < MAX_FREE_CTXS && !d->stopping) {
        x->next = d->free_ctxs;
        d->free_ctxs = x;
        d->n_free_ctxs++;
    } else {
        free(x);
    }
    dispatch_maybe_free(d);
}

static void complete(struct dctx *x, enum ah_action_status status)
{
    ah_ctx_t *ctx = &x->pub;
    ah_app_t *app = ctx->app;
    ah_connection_t *c = ctx->connection;
    char *msg = NULL;

    x->stage = ST_DONE;
    ctx->action_status = status;
    switch (status) {
    case AH_STATUS_COMPLETE:
    case AH_STATUS_NONE:
        break;
    case AH_STATUS_GENERIC_ERROR: {
        const char *m = x->fail_msg && x->fail_msg[0] ? x->fail_msg
                        : ah_strerror(x->fail_code ? x->fail_code : AH_EFAIL);

        /* genericError: "{error}" by default, i.e. the thrown message */
        msg = error_text(app, "genericError", "error", m, m);
        break;
    }
    case AH_STATUS_SERVER_SHUTTING_DOWN:
        msg = error_text(app, "serverShuttingDown", NULL, NULL, "the server is shutting down");
        break;
    case AH_STATUS_TOO_MANY_REQUESTS:
        msg = error_text(app, "tooManyPendingActions", NULL, NULL, "you have too many pending requests");
        break;
    case AH_STATUS_UNKNOWN_ACTION:
        msg = error_text(app, "unknownAction", NULL, NULL, "unknown action or invalid apiVersion");
        break;
    case AH_STATUS_UNSUPPORTED_SERVER_TYPE: {
        char *fb = xasprintf("this action does not support the %s connection type", c->type);

        msg = error_text(app, "unsupportedServerType", "type", c->type, fb);
        free(fb);
        break;
    }
    case AH_STATUS_MISSING_PARAMS: {
        const char *first = json_string_value(json_array_get(ctx->missing_params, 0));
        char *fb = xasprintf("%s is a required parameter for this action", first ? first : "");

        msg = error_text(app, "missingParams", "param", first ? first : "", fb);
        free(fb);
        break;
    }
    case AH_STATUS_VALIDATOR_ERRORS: {
        const char *first = json_string_value(json_array_get(ctx->validator_errors, 0));

        msg = error_text(app, "invalidParams", "error", first ? first : "validation error",
                         first ? first : "validation error");
        break;
    }
    }

    if (msg) {
        json_t *resp = ctx->response;

        ctx->error = json_string(msg);
        if (ctx->error == NULL)
            ctx->error = json_string("error text is not valid UTF-8");
        if (json_is_string(resp) || json_is_array(resp)) {
            char *s = xasprintf("Error: %s", json_string_value(ctx->error));

            json_decref(ctx->response);
            ctx->response = json_string(s);
            free(s);
        } else if (json_is_object(resp) && !core_truthy(json_object_get(resp, "error"))) {
            json_object_set(resp, "error", ctx->error);
            x->error_is_exception = true;
        }
        free(msg);
    }

    c->pending_actions--;
    if (c->pending_actions < 0)
        c->pending_actions = 0;
    ctx->duration = core_now_ms() - ctx->action_start_time;
    ctx->working = false;
    dispatch_log_action(x);
    x->finished = true;
    x->d->in_flight--;
    if (x->cb)
        x->cb(ctx, x->cb_arg);
    ctx_release(x);
}

/* Run one hook with the pending/ah_done bookkeeping. */
static int call_hook(struct dctx *x, ah_run_fn fn)
{
    int rc;

    x->in_hook = true;
    rc = fn(&x->pub);
    x->in_hook = false;
    if (rc == AH_PENDING) {
        x->went_async = true;
        if (x->done_early) {
            x->done_early = false;
            rc = x->fail_code ? x->fail_code : AH_DONE;
        } else {
            x->waiting = true;
        }
        return rc;
    }
    if (x->done_early) {
        log_error("action `%s`: ah_done called but the hook did not return AH_PENDING",
                  x->pub.action ? x->pub.action : "");
        x->done_early = false;
    }
    if (rc >= 0 && x->fail_code)
        rc = x->fail_code;
    if (rc < 0 && x->fail_msg == NULL) {
        x->fail_msg = xstrdup(ah_strerror(rc));
        x->fail_code = rc;
    }
    if (rc > AH_PENDING)
        rc = AH_DONE;
    return rc;
}

static void advance(struct dctx *x)
{
    ah_ctx_t *ctx = &x->pub;
    int rc;

    for (;;) {
        switch (x->stage) {
        case ST_PRE:
        case ST_POST: {
            bool pre = x->stage == ST_PRE;

            while (x->mw_index < x->n_chain) {
                const ah_action_middleware_t *mw = x->chain[x->mw_index++];
                ah_run_fn fn;

                if (mw == NULL) {
                    /* v29 dereferences the missing entry */
                    ah_fail(ctx, AH_EINVAL, "Cannot read properties of undefined (reading '%s')",
                            pre ? "preProcessor" : "postProcessor");
                    complete(x, AH_STATUS_GENERIC_ERROR);
                    return;
                }
                fn = pre ? mw->pre : mw->post;
                if (fn == NULL)
                    continue;
                rc = call_hook(x, fn);
                if (rc == AH_PENDING)
                    return;
                if (rc < 0) {
                    complete(x, AH_STATUS_GENERIC_ERROR);
                    return;
                }
            }
            if (!pre) {
                complete(x, AH_STATUS_COMPLETE);
                return;
            }
            x->stage = ST_PARAMS;
            break;
        }
        case ST_PARAMS:
            if (inputs_reduce_validate(x) < 0) {
                complete(x, AH_STATUS_GENERIC_ERROR);
                return;
            }
            x->params_locked = true;
            if (json_array_size(ctx->missing_params) > 0) {
                complete(x, AH_STATUS_MISSING_PARAMS);
                return;
            }
            if (json_array_size(ctx->validator_errors) > 0) {
                complete(x, AH_STATUS_VALIDATOR_ERRORS);
                return;
            }
            if (!ctx->to_process) {
                complete(x, AH_STATUS_COMPLETE);
                return;
            }
            x->stage = ST_RUN;
            break;
        case ST_RUN:
            x->stage = ST_POST;
            x->mw_index = 0;
            rc = call_hook(x, ctx->action_template->run);
            if (rc == AH_PENDING)
                return;
            if (rc < 0) {
                complete(x, AH_STATUS_GENERIC_ERROR);
                return;
            }
            break;
        case ST_DONE:
            return;
        }
    }
}

void ah_done(ah_ctx_t *ctx)
{
    struct dctx *x = dctx_of(ctx);

    if (x->finished) {
        log_error("ah_done called twice for action `%s` (ignored)", ctx->action ? ctx->action : "");
        return;
    }
    if (x->in_hook) {
        if (x->done_early)
            log_error("ah_done called twice for action `%s` (ignored)", ctx->action ? ctx->action : "");
        x->done_early = true;
        return;
    }
    if (!x->waiting) {
        log_error("ah_done called for action `%s`, which is not pending (ignored)", ctx->action ? ctx->action : "");
        return;
    }
    x->waiting = false;
    if (x->fail_code) {
        complete(x, AH_STATUS_GENERIC_ERROR);
        return;
    }
    advance(x);
}

/* ---------------------------------------------------------------- start */

/* JS String(v) of a param used as a lookup key: 1, or 0 when it is falsy,
 * or -1 when it cannot name anything we have (too long for `out`, or a
 * string with a NUL inside); `out` then holds a truncated form for logs. */
static int key_text(json_t *v, char *out, size_t n)
{
    size_t len;

    if (!core_truthy(v))
        return 0;
    if (json_is_string(v)) {
        len = core_strlcpy(out, json_string_value(v), n);
        if (len != json_string_length(v))
            return -1;
    } else if (json_is_integer(v)) {
        char t[24];

        len = (size_t)core_fmt_i64(t, (long long)json_integer_value(v));
        core_strlcpy(out, t, n);
    } else if (json_is_real(v)) {
        char t[32];

        len = (size_t)dispatch_number_text(json_real_value(v), t);
        core_strlcpy(out, t, n);
    } else if (json_is_true(v)) {
        len = core_strlcpy(out, "true", n);
    } else {
        len = core_strlcpy(out, "[object Object]", n);
    }
    return len >= n ? -1 : 1;
}

static bool blocked(const ah_action_t *a, const char *type)
{
    const char *const *p;

    for (p = a->blocked_connection_types; p && *p; p++)
        if (strcmp(*p, type) == 0)
            return true;
    return false;
}

static void build_chain(struct dctx *x)
{
    struct dispatch *d = x->d;
    const ah_action_t *a = x->pub.action_template;
    size_t n = d->n_globals, i, k = 0;
    const char *const *p;

    for (p = a->middleware; p && *p; p++)
        n++;
    x->chain = n <= ARRAY_SIZE(x->chain_inline) ? x->chain_inline : xcalloc(n, sizeof(*x->chain));
    for (i = 0; i < d->n_globals; i++)
        x->chain[k++] = d->globals[i].mw;
    for (p = a->middleware; p && *p; p++)
        x->chain[k++] = dispatch_mw_find(d, *p);
    x->n_chain = k;
}

static void start(struct dctx *x, const char *action, const char *version)
{
    ah_ctx_t *ctx = &x->pub;
    ah_connection_t *c = ctx->connection;
    ah_app_t *app = ctx->app;
    json_t *pv;
    char namebuf[128], verbuf[64];
    const char *name = action;
    const char *latest;
    long long simultaneous;
    bool usable = true;

    ctx->action_start_time = core_now_ms();
    ctx->working = true;
    c->total_actions++;
    c->pending_actions++;
    /* actionName || params.action */
    if (name != NULL && name[0] == '\0')
        name = NULL;
    if (name == NULL) {
        int k = key_text(json_object_get(ctx->params, "action"), namebuf, sizeof(namebuf));

        if (k != 0)
            name = namebuf;
        usable = k > 0;
    }
    if (name) {
        core_strlcpy(x->action_buf, name, sizeof(x->action_buf));
        ctx->action = x->action_buf;
    }
    if (name && usable && (latest = dispatch_latest_version(app, name)) != NULL) {
        const char *ver = version;
        json_t *api_version = json_object_get(ctx->params, "apiVersion");

        if (ver == NULL) {
            int k = key_text(api_version, verbuf, sizeof(verbuf));

            if (k != 0)
                ver = verbuf;
            if (k < 0)
                verbuf[0] = '\0'; /* matches no version */
        }
        if (ver == NULL)
            ver = latest;
        ctx->action_template = ver[0] ? dispatch_find(app, name, ver) : NULL;
        if (ctx->action_template)
            ctx->action = ctx->action_template->name;
        if (!core_truthy(api_version)) {
            pv = ctx->action_template ? dispatch_version_json(ctx->action_template) : json_string(ver);
            json_object_set_new(ctx->params, "apiVersion", pv ? pv : json_null());
        }
    }
    if (!app->running) {
        complete(x, AH_STATUS_SERVER_SHUTTING_DOWN);
        return;
    }
    simultaneous = config_int(app, "general.simultaneousActions", 5);
    if (c->pending_actions > simultaneous) {
        complete(x, AH_STATUS_TOO_MANY_REQUESTS);
        return;
    }
    if (name == NULL || ctx->action_template == NULL) {
        complete(x, AH_STATUS_UNKNOWN_ACTION);
        return;
    }
    if (blocked(ctx->action_template, c->type)) {
        complete(x, AH_STATUS_UNSUPPORTED_SERVER_TYPE);
        return;
    }
    build_chain(x);
    x->stage = ST_PRE;
    advance(x);
}

int dispatch_action_ex(ah_connection_t *c, const char *action, const char *version, json_t *params_take,
                       const struct dispatch_extra *extra, dispatch_done_cb cb, void *arg)
{
    struct dispatch *d = c ? dispatch_get(c->app) : NULL;
    json_t *src = params_take ? params_take : (c ? c->params : NULL);
    struct dctx *x;
    ah_ctx_t *ctx;

    if (d == NULL || d->stopping) {
        json_decref(params_take);
        return AH_ESTATE;
    }
    x = ctx_alloc(d);
    ctx = &x->pub;
    ctx->app = c->app;
    ctx->connection = c;
    ah_connection_ref(c);
    ctx->to_process = true;
    ctx->to_render = true;
    core_strlcpy(ctx->message_id, c->message_id[0] ? c->message_id : "0", sizeof(ctx->message_id));
    /* {action: null, apiVersion: null, ...connection.params} */
    ctx->params = json_object();
    json_object_set_new(ctx->params, "action", json_null());
    json_object_set_new(ctx->params, "apiVersion", json_null());
    if (json_is_object(src))
        json_object_update(ctx->params, src);
    json_decref(params_take);
    ctx->response = json_object();
    ctx->action_status = AH_STATUS_NONE;
    x->cb = cb;
    x->cb_arg = arg;
    if (extra) {
        if (extra->method)
            core_strlcpy(x->log_method, extra->method, sizeof(x->log_method));
        if (extra->pathname) {
            size_t n = strlen(extra->pathname);

            if (n < sizeof(x->log_pathname_buf)) {
                memcpy(x->log_pathname_buf, extra->pathname, n + 1);
                x->log_pathname = x->log_pathname_buf;
            } else {
                x->log_pathname = xstrdup(extra->pathname);
            }
        }
    }
    d->in_flight++;
    start(x, action, version);
    return 0;
}

int dispatch_action(ah_connection_t *c, const char *action, const char *version, json_t *params_take,
                    dispatch_done_cb cb, void *arg)
{
    return dispatch_action_ex(c, action, version, params_take, NULL, cb, arg);
}

int dispatch_in_flight(ah_app_t *app)
{
    struct dispatch *d = dispatch_get(app);

    return d ? d->in_flight : 0;
}

bool dispatch_params_locked(ah_ctx_t *ctx)
{
    return dctx_of(ctx)->params_locked;
}
