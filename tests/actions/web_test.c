/*
 * web_test.c - test actions for the web server (web.md §6-§10): echo what
 * the request became (connection params, raw params, extension, route,
 * remote address, cookies), the header queue and connection.setHeader,
 * setStatusCode, toRender=false with sendMessage / sendFile / pipe, errors
 * with HTTP codes, and delayed completion (for pipelining tests).
 *
 * They read the connection's own params (not the scrubbed processor
 * params), so no inputs are declared.
 */
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include <ah/ah.h>

#include "app/app.h"
#include "http/http.h"

static const char *cparam(ah_ctx_t *ctx, const char *name)
{
    json_t *v = json_object_get(ah_connection(ctx)->params, name);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

static long long cparam_int(ah_ctx_t *ctx, const char *name)
{
    const char *s = cparam(ctx, name);

    return s ? atoll(s) : 0;
}

/* ------------------------------------------------------------ delays */

struct later {
    uv_timer_t t;
    ah_ctx_t *ctx;
    void (*fn)(ah_ctx_t *ctx);
};

static void on_closed(uv_handle_t *h)
{
    struct later *l = h->data;
    ah_ctx_t *ctx = l->ctx;
    void (*fn)(ah_ctx_t *) = l->fn;

    if (fn)
        fn(ctx);
    ah_done(ctx);
}

static void on_timer(uv_timer_t *t)
{
    uv_close((uv_handle_t *)t, on_closed);
}

/* Run fn (may be NULL) after `delay` ms, then finish. */
static int later(ah_ctx_t *ctx, long long delay, void (*fn)(ah_ctx_t *ctx))
{
    struct later *l = ah_alloc(ctx, sizeof(*l));

    l->ctx = ctx;
    l->fn = fn;
    uv_timer_init(ah_app(ctx)->loop, &l->t);
    l->t.data = l;
    uv_timer_start(&l->t, on_timer, delay > 0 ? (uint64_t)delay : 0, 0);
    return AH_PENDING;
}

/* ------------------------------------------------------------ webEcho */

static void fill_echo(ah_ctx_t *ctx)
{
    ah_connection_t *c = ah_connection(ctx);
    json_t *res = ah_response(ctx);
    json_t *raw = http_raw_params(c);
    const char *h = cparam(ctx, "header");
    size_t rawlen = 0;
    const char *rawbody = http_raw_body(c, &rawlen);

    json_object_set_new(res, "params", json_copy(c->params));
    json_object_set(res, "query", raw ? json_object_get(raw, "query") : NULL);
    if (raw && json_object_get(raw, "body"))
        json_object_set(res, "body", json_object_get(raw, "body"));
    if (raw && json_object_get(raw, "files"))
        json_object_set(res, "files", json_object_get(raw, "files"));
    json_object_set_new(res, "rawBody", json_stringn_nocheck(rawbody ? rawbody : "", rawlen));
    json_object_set_new(res, "extension", c->extension ? json_string(c->extension) : json_null());
    json_object_set(res, "matchedRoute", c->matched_route ? c->matched_route : json_null());
    json_object_set(res, "connectionError", c->error ? c->error : json_null());
    json_object_set_new(res, "remoteIP", json_string(c->remote_ip));
    json_object_set_new(res, "remotePort", c->remote_port_is_string ? json_string(c->remote_port)
                                                                     : json_integer(atoll(c->remote_port)));
    json_object_set_new(res, "fingerprint", json_string(c->fingerprint));
    json_object_set_new(res, "id", json_string(c->id));
    json_object_set_new(res, "messageId", json_string(c->message_id));
    json_object_set(res, "cookies", http_cookies(c));
    json_object_set_new(res, "method", json_string(http_method(c)));
    json_object_set_new(res, "url", json_string(http_url(c)));
    if (h) {
        const char *v = http_header(c, h);

        json_object_set_new(res, "header", v ? json_string(v) : json_null());
    }
}

static int run_echo(ah_ctx_t *ctx)
{
    long long delay = cparam_int(ctx, "delay");

    if (delay > 0)
        return later(ctx, delay, fill_echo);
    fill_echo(ctx);
    return AH_DONE;
}

/* ------------------------------------------------------------ headers, status */

static int run_headers(ah_ctx_t *ctx)
{
    ah_connection_t *c = ah_connection(ctx);

    http_queue_header(c, "X-Test", "first");
    http_queue_header(c, "x-test", "second");
    http_queue_header(c, "Set-Cookie", "a=1");
    http_queue_header(c, "Set-Cookie", "b=2");
    http_queue_header(c, "Bad Name", "x");
    http_queue_header(c, "X-Injected", "a\r\nSet-Cookie: evil=1");
    ah_connection_set_header(c, "X-Direct", "direct");
    ah_connection_set_header(c, "X-Test", "loses-to-the-queue");
    json_object_set_new(ah_response(ctx), "ok", json_true());
    return AH_DONE;
}

static int run_status(ah_ctx_t *ctx)
{
    long long code = cparam_int(ctx, "code");

    ah_connection_set_status_code(ah_connection(ctx), (int)code);
    if (cparam(ctx, "error"))
        ah_set_error(ctx, "%s", cparam(ctx, "error"));
    json_object_set_new(ah_response(ctx), "status", json_integer(code));
    return AH_DONE;
}

/* The response already has the metadata keys: they keep their places. */
static int run_meta_own(ah_ctx_t *ctx)
{
    json_t *r = ah_response(ctx);

    json_object_set_new(r, "serverInformation", json_string("mine"));
    json_object_set_new(r, "a", json_integer(1));
    json_object_set_new(r, "requesterInformation", json_pack("{s:i}", "x", 1));
    json_object_set_new(r, "7", json_true());
    return AH_DONE;
}

/* Responses that already carry context / messageId (websocket replies). */
static int run_reply_shape(ah_ctx_t *ctx)
{
    json_t *r = ah_response(ctx);
    const char *mode = cparam(ctx, "mode");

    if (mode && strcmp(mode, "custom") == 0) {
        json_object_set_new(r, "context", json_string("custom"));
    } else if (mode && strcmp(mode, "falsyContext") == 0) {
        json_object_set_new(r, "context", json_string(""));
    } else if (mode && strcmp(mode, "falsyId") == 0) {
        json_object_set_new(r, "messageId", json_integer(0));
    } else if (mode && strcmp(mode, "ownId") == 0) {
        json_object_set_new(r, "messageId", json_string("mine"));
    }
    json_object_set_new(r, "z", json_true());
    return AH_DONE;
}

static int run_error_code(ah_ctx_t *ctx)
{
    const char *code = cparam(ctx, "code");

    json_object_set_new(ah_response(ctx), "error",
                        json_pack("{s:s, s:s}", "code", code ? code : "", "message", "custom failure"));
    return AH_DONE;
}

/* ------------------------------------------------------------ toRender = false */

static void send_message_now(ah_ctx_t *ctx)
{
    const char *m = cparam(ctx, "message");
    json_t *msg = m ? json_string(m) : json_pack("{s:i}", "a", 1);

    ah_connection_send_message(ah_connection(ctx), msg);
    json_decref(msg);
}

static int run_message(ah_ctx_t *ctx)
{
    long long delay = cparam_int(ctx, "delay");

    ah_set_to_render(ctx, false);
    if (delay > 0)
        return later(ctx, delay, send_message_now);
    send_message_now(ctx);
    return AH_DONE;
}

static int run_file(ah_ctx_t *ctx)
{
    const char *p = cparam(ctx, "path");

    ah_set_to_render(ctx, false);
    ah_connection_send_file(ah_connection(ctx), p ? p : "index.html");
    return AH_DONE;
}

static int run_pipe(ah_ctx_t *ctx)
{
    static const char *const headers[] = {"Content-Type", "text/plain", "X-Pipe", "yes", NULL};
    static const char body[] = "piped body";

    ah_set_to_render(ctx, false);
    http_pipe(ah_connection(ctx), body, sizeof(body) - 1, headers);
    return AH_DONE;
}

static int run_no_render(ah_ctx_t *ctx)
{
    ah_set_to_render(ctx, false);
    return AH_DONE;
}

static int run_double_answer(ah_ctx_t *ctx)
{
    json_t *m = json_string("first answer");

    /* answers itself but leaves toRender true: the render is ignored */
    ah_connection_send_message(ah_connection(ctx), m);
    json_decref(m);
    json_object_set_new(ah_response(ctx), "second", json_true());
    return AH_DONE;
}

static int run_big(ah_ctx_t *ctx)
{
    long long n = cparam_int(ctx, "n");
    char *s;

    if (n <= 0 || n > 64 * 1024 * 1024)
        n = 1024;
    s = malloc((size_t)n + 1);
    memset(s, 'x', (size_t)n);
    s[n] = '\0';
    json_object_set_new(ah_response(ctx), "data", json_string(s));
    free(s);
    return AH_DONE;
}

AH_ACTION(web_echo) = {.name = "webEcho", .run = run_echo};
AH_ACTION(web_echo_plain) = {.name = "webEchoNoMime", .match_extension_mime_type = AH_NO, .run = run_echo};
AH_ACTION(web_headers) = {.name = "webHeaders", .run = run_headers};
AH_ACTION(web_status) = {.name = "webStatus", .run = run_status};
AH_ACTION(web_meta_own) = {.name = "webMetaOwn", .run = run_meta_own};
AH_ACTION(web_reply_shape) = {.name = "replyShape", .run = run_reply_shape};
AH_ACTION(web_error_code) = {.name = "webErrorCode", .run = run_error_code};
AH_ACTION(web_message) = {.name = "webMessage", .run = run_message};
AH_ACTION(web_file) = {.name = "webFile", .run = run_file};
AH_ACTION(web_pipe) = {.name = "webPipe", .run = run_pipe};
AH_ACTION(web_no_render) = {.name = "webNoRender", .run = run_no_render};
AH_ACTION(web_double_answer) = {.name = "webDoubleAnswer", .run = run_double_answer};
AH_ACTION(web_big) = {.name = "webBig", .run = run_big};
