/*
 * test_dispatch_processor.c - the action processor (actions.md §2-§5, §7)
 * through the specHelper and through dispatch_action() directly: error
 * texts and placement, versions, middleware order and hooks, async
 * completion, simultaneousActions, shutting down, a client leaving while
 * its action is pending.
 */
#include <stdlib.h>
#include <string.h>

#include "../actions/hold.h"
#include "app/app.h"
#include "check.h"
#include "conn/conn.h"
#include "dispatch/dispatch.h"
#include "testkit/testkit.h"

static json_t *get(json_t *o, const char *path)
{
    char buf[256], *p, *save = NULL;

    snprintf(buf, sizeof(buf), "%s", path);
    for (p = strtok_r(buf, ".", &save); p && o; p = strtok_r(NULL, ".", &save))
        o = json_object_get(o, p);
    return o;
}

static const char *str(json_t *o, const char *path)
{
    return json_string_value(get(o, path));
}

static const char *err(json_t *r)
{
    return str(r, "error");
}

/* "a,b,c" of a JSON array of strings */
static const char *joined(json_t *arr)
{
    static char out[512];
    size_t i, n = 0;

    out[0] = '\0';
    for (i = 0; i < json_array_size(arr); i++)
        n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s", i ? "," : "",
                              json_string_value(json_array_get(arr, i)));
    return out;
}

/* ---------------------------------------------------------------- errors */

static void test_errors(ah_app_t *app)
{
    json_t *r;

    r = testkit_run_action(app, "throwTest", NULL);
    CHECK_EQ_STR(err(r), "Error: thrown in run");
    CHECK(json_is_true(get(r, "before"))); /* what run set stays */
    CHECK_EQ_INT(testkit_last(app)->action_status, AH_STATUS_GENERIC_ERROR);
    json_decref(r);

    r = testkit_run_action(app, "codeOnlyTest", NULL);
    CHECK_EQ_STR(err(r), "Error: not found");
    json_decref(r);

    /* an action-set error: kept, status Complete, no "Error: " prefix */
    r = testkit_run_action(app, "errorSetTest", NULL);
    CHECK_EQ_STR(err(r), "custom error 7");
    CHECK(json_is_true(get(r, "partial")));
    CHECK_EQ_INT(testkit_last(app)->action_status, AH_STATUS_COMPLETE);
    json_decref(r);

    r = testkit_run_action(app, "errorObjectTest", NULL);
    CHECK_EQ_INT(json_integer_value(get(r, "error.code")), 42);
    json_decref(r);

    /* string and array responses: as they are, no metadata */
    r = testkit_run_action(app, "stringResponseTest", NULL);
    CHECK_EQ_STR(json_string_value(r), "just a string");
    json_decref(r);
    r = testkit_run_action(app, "stringResponseTest", "{\"fail\": 1}");
    CHECK_EQ_STR(json_string_value(r), "Error: string failed");
    json_decref(r);
    r = testkit_run_action(app, "arrayResponseTest", NULL);
    CHECK(json_is_array(r) && json_array_size(r) == 3);
    json_decref(r);
    r = testkit_run_action(app, "arrayResponseTest", "{\"fail\": true}");
    CHECK_EQ_STR(json_string_value(r), "Error: array failed");
    json_decref(r);

    r = testkit_run_action(app, "blockedTest", NULL);
    CHECK_EQ_STR(err(r), "Error: this action does not support the testServer connection type");
    CHECK_EQ_INT(testkit_last(app)->action_status, AH_STATUS_UNSUPPORTED_SERVER_TYPE);
    json_decref(r);

    r = testkit_run_action(app, "nope", "{\"apiVersion\": 3}");
    CHECK_EQ_STR(err(r), "Error: unknown action or invalid apiVersion");
    CHECK_EQ_INT(testkit_last(app)->action_status, AH_STATUS_UNKNOWN_ACTION);
    /* unknown name: apiVersion is left as it came */
    CHECK_EQ_INT(json_integer_value(get(r, "requesterInformation.receivedParams.apiVersion")), 3);
    json_decref(r);

    /* no action at all */
    r = testkit_run_action(app, "", NULL);
    CHECK_EQ_STR(err(r), "Error: unknown action or invalid apiVersion");
    json_decref(r);

    /* the server is not running: ServerShuttingDown */
    app->running = false;
    r = testkit_run_action(app, "randomNumber", NULL);
    CHECK_EQ_STR(err(r), "Error: the server is shutting down");
    CHECK_EQ_INT(testkit_last(app)->action_status, AH_STATUS_SERVER_SHUTTING_DOWN);
    json_decref(r);
    app->running = true;

    /* metadata off: only the action's keys */
    testkit_set_return_metadata(app, false);
    r = testkit_run_action(app, "throwTest", NULL);
    CHECK_EQ_INT(json_object_size(r), 2);
    CHECK_EQ_STR(err(r), "Error: thrown in run");
    json_decref(r);
    testkit_set_return_metadata(app, true);
}

/* ---------------------------------------------------------------- versions */

static void test_versions(ah_app_t *app)
{
    json_t *r;

    /* 1, 2, 10 sort as strings: 1, 10, 2 -> latest is 2 */
    r = testkit_run_action(app, "versionTest", NULL);
    CHECK_EQ_STR(str(r, "version"), "2");
    CHECK(json_is_integer(get(r, "requesterInformation.receivedParams.apiVersion")));
    CHECK_EQ_INT(json_integer_value(get(r, "requesterInformation.receivedParams.apiVersion")), 2);
    json_decref(r);
    r = testkit_run_action(app, "versionTest", "{\"apiVersion\": 10}");
    CHECK_EQ_STR(str(r, "version"), "10");
    json_decref(r);
    /* keys are strings: "1" and 1 are the same version; the param stays */
    r = testkit_run_action(app, "versionTest", "{\"apiVersion\": \"1\"}");
    CHECK_EQ_STR(str(r, "version"), "1");
    CHECK_EQ_STR(str(r, "requesterInformation.receivedParams.apiVersion"), "1");
    json_decref(r);
    r = testkit_run_action(app, "versionTest", "{\"apiVersion\": 1.0}");
    CHECK_EQ_STR(str(r, "version"), "1");
    json_decref(r);
    r = testkit_run_action(app, "versionTest", "{\"apiVersion\": 3}");
    CHECK_EQ_STR(err(r), "Error: unknown action or invalid apiVersion");
    json_decref(r);
    /* falsy apiVersion: latest, and the param is replaced */
    r = testkit_run_action(app, "versionTest", "{\"apiVersion\": 0}");
    CHECK_EQ_STR(str(r, "version"), "2");
    CHECK_EQ_INT(json_integer_value(get(r, "requesterInformation.receivedParams.apiVersion")), 2);
    json_decref(r);
    /* 1, 2, "three": latest is "three", rendered as a string */
    r = testkit_run_action(app, "versionString", NULL);
    CHECK_EQ_STR(str(r, "version"), "three");
    CHECK_EQ_STR(str(r, "requesterInformation.receivedParams.apiVersion"), "three");
    json_decref(r);
    r = testkit_run_action(app, "versionString", "{\"apiVersion\": 1}");
    CHECK_EQ_STR(str(r, "version"), "1");
    json_decref(r);
    /* receivedParams: action and apiVersion come first */
    r = testkit_run_action(app, "inputsTest", "{\"required\": 1, \"stopper\": 2, \"action\": \"x\"}");
    {
        json_t *rp = get(r, "requesterInformation.receivedParams");
        void *it = json_object_iter(rp);

        CHECK_EQ_STR(json_object_iter_key(it), "action");
        it = json_object_iter_next(rp, it);
        CHECK_EQ_STR(json_object_iter_key(it), "apiVersion");
    }
    json_decref(r);
}

/* ---------------------------------------------------------------- middleware */

static int g_pre(ah_ctx_t *ctx, const char *name)
{
    json_t *res = ah_response(ctx), *t;

    t = json_object_get(res, "trace");
    if (t == NULL) {
        t = json_array();
        json_object_set_new(res, "trace", t);
    }
    json_array_append_new(t, json_string(name));
    return AH_DONE;
}

static int g1_pre(ah_ctx_t *ctx) { return g_pre(ctx, "g1.pre"); }
static int g1_post(ah_ctx_t *ctx) { return g_pre(ctx, "g1.post"); }
static int g2_pre(ah_ctx_t *ctx) { return g_pre(ctx, "g2.pre"); }
static int g3_pre(ah_ctx_t *ctx) { return g_pre(ctx, "g3.pre"); }
static int g3_post(ah_ctx_t *ctx) { return g_pre(ctx, "g3.post"); }

static const ah_action_middleware_t g1 = {.name = "g1", .global = true, .priority = 10, .pre = g1_pre, .post = g1_post};
static const ah_action_middleware_t g2 = {.name = "g2", .global = true, .pre = g2_pre}; /* default 100 */
static const ah_action_middleware_t g3 = {.name = "g3", .global = true, .priority = 10, .pre = g3_pre, .post = g3_post};
static const ah_action_middleware_t g2b = {.name = "g2", .global = true, .priority = 5, .pre = g2_pre};
static const ah_action_middleware_t noname = {.name = NULL, .global = true};

static void test_named_middleware(ah_app_t *app)
{
    json_t *r;

    r = testkit_run_action(app, "middlewareTest", "{\"notAnInput\": 1}");
    CHECK_EQ_STR(joined(get(r, "trace")), "a.pre,async.pre,async.resumed,run,a.post,async.post,async.resumed");
    CHECK(json_is_true(get(r, "sawRaw")));            /* pre saw raw params */
    CHECK(json_is_false(get(r, "notAnInputAtRun")));  /* scrubbed before run */
    CHECK_EQ_STR(str(r, "fromPre"), "set by a.pre");  /* pre may set params */
    CHECK(json_is_true(get(r, "sessionSeen")));
    CHECK(get(r, "requesterInformation.receivedParams.notAnInput") == NULL);
    CHECK_EQ_STR(str(r, "requesterInformation.receivedParams.fromPre"), "set by a.pre");
    json_decref(r);

    r = testkit_run_action(app, "middlewareBlockTest", NULL);
    CHECK_EQ_STR(err(r), "Error: BLOCKED");
    CHECK_EQ_STR(joined(get(r, "trace")), "block.pre");
    json_decref(r);

    r = testkit_run_action(app, "middlewareNoProcessTest", NULL);
    CHECK(err(r) == NULL);
    CHECK_EQ_STR(joined(get(r, "trace")), "noprocess.pre,a.pre"); /* no run, no post */
    json_decref(r);

    r = testkit_run_action(app, "middlewareNoRenderTest", NULL);
    CHECK(r == NULL);
    CHECK(testkit_last(app)->completed);
    CHECK(!testkit_last(app)->rendered);

    r = testkit_run_action(app, "middlewareUnknownTest", NULL);
    CHECK_EQ_STR(err(r), "Error: Cannot read properties of undefined (reading 'preProcessor')");
    json_decref(r);

    r = testkit_run_action(app, "middlewareFailPostTest", NULL);
    CHECK_EQ_STR(err(r), "Error: post failed");
    CHECK_EQ_STR(joined(get(r, "trace")), "a.pre,run,failpost.post"); /* a.post never ran */
    json_decref(r);
}

static void test_global_middleware(void)
{
    ah_app_t *app = testkit_app_new();
    json_t *r;

    CHECK_EQ_INT(ah_action_middleware_add(app, &noname), AH_EINVAL);
    CHECK_EQ_INT(ah_action_middleware_add(app, &g2), 0);
    CHECK_EQ_INT(ah_action_middleware_add(app, &g1), 0);
    CHECK_EQ_INT(ah_action_middleware_add(app, &g3), 0);
    /* priority order, ties in insertion order; globals before the action's */
    r = testkit_run_action(app, "middlewareTest", NULL);
    CHECK_EQ_STR(joined(get(r, "trace")),
                 "g1.pre,g3.pre,g2.pre,a.pre,async.pre,async.resumed,run,g1.post,g3.post,a.post,async.post,"
                 "async.resumed");
    json_decref(r);
    /* globals also run for an unknown-free plain action */
    r = testkit_run_action(app, "plainTest", NULL);
    CHECK_EQ_STR(joined(get(r, "trace")), "g1.pre,g3.pre,g2.pre,run,g1.post,g3.post");
    json_decref(r);
    /* re-adding a name replaces it (here: new priority 5 puts g2 first) */
    CHECK_EQ_INT(ah_action_middleware_add(app, &g2b), 0);
    r = testkit_run_action(app, "plainTest", NULL);
    CHECK_EQ_STR(joined(get(r, "trace")), "g2.pre,g1.pre,g3.pre,run,g1.post,g3.post");
    json_decref(r);
    /* not run for actions that never start */
    r = testkit_run_action(app, "nope", NULL);
    CHECK(get(r, "trace") == NULL);
    json_decref(r);
    CHECK_EQ_INT(testkit_app_free(app), 0);
}

/* ---------------------------------------------------------------- async */

static void test_async(ah_app_t *app)
{
    json_t *r;

    r = testkit_run_action(app, "asyncTest", "{\"delay\": \"5\"}");
    CHECK(json_is_true(get(r, "async")));
    CHECK(json_is_true(get(r, "alive")));
    CHECK_EQ_INT(testkit_last(app)->action_status, AH_STATUS_COMPLETE);
    json_decref(r);

    r = testkit_run_action(app, "earlyDoneTest", NULL);
    CHECK(json_is_true(get(r, "early")));
    CHECK(err(r) == NULL);
    json_decref(r);

    /* the second ah_done is logged and ignored: one response */
    {
        ah_connection_t *c = testkit_connection_new(app);

        r = testkit_run_action_on(c, "doubleDoneTest");
        CHECK(json_is_true(get(r, "async")));
        json_decref(r);
        r = testkit_run_action_on(c, "randomNumber");
        json_decref(r);
        /* welcome + 2 responses */
        CHECK_EQ_INT(json_array_size(testkit_messages(c)), 3);
        CHECK_EQ_INT(c->pending_actions, 0);
        CHECK_EQ_INT(c->total_actions, 2);
    }

    r = testkit_run_action(app, "asyncFailTest", NULL);
    CHECK_EQ_STR(err(r), "Error: failed later");
    CHECK(json_is_true(get(r, "async")));
    json_decref(r);

    r = testkit_run_action(app, "recursiveAction", NULL);
    CHECK(json_is_true(get(r, "local")));
    CHECK(json_is_real(get(r, "randomNumber")));
    CHECK(strncmp(str(r, "stringRandomNumber"), "Your random number is ", 22) == 0);
    json_decref(r);
}

static void test_inline(ah_app_t *app)
{
    json_t *r;
    size_t before = conn_count(app);

    r = testkit_run_action(app, "inlineTest", "{\"target\": \"connInfoTest\", \"targetParams\": {\"x\": 1, "
                                              "\"y\": 2}}");
    CHECK(json_is_true(get(r, "cbAfterReturn"))); /* never inside the call */
    CHECK(json_is_null(get(r, "inlineError")));
    CHECK_EQ_STR(str(r, "inlineResponse.type"), "in-line-action");
    CHECK_EQ_STR(str(r, "inlineResponse.remoteIP"), "0");
    CHECK_EQ_STR(str(r, "inlineResponse.remotePort"), "0");
    CHECK(json_is_true(get(r, "inlineResponse.remotePortIsString")));
    CHECK(json_is_false(get(r, "inlineResponse.canChat")));
    CHECK_EQ_INT(json_integer_value(get(r, "inlineResponse.params.x")), 1);
    CHECK(get(r, "inlineResponse.params.y") == NULL); /* scrubbed */
    json_decref(r);
    /* the in-line connections are destroyed; only the test's own remain */
    CHECK_EQ_INT(conn_count(app), before + 1);

    /* an error: thrown as Error(String(response.error)) */
    r = testkit_run_action(app, "inlineTest", "{\"target\": \"nope\"}");
    CHECK_EQ_STR(str(r, "inlineError"), "Error: unknown action or invalid apiVersion");
    json_decref(r);
    r = testkit_run_action(app, "inlineTest", "{\"target\": \"errorSetTest\"}");
    CHECK_EQ_STR(str(r, "inlineError"), "custom error 7");
    json_decref(r);
    r = testkit_run_action(app, "inlineTest", "{\"target\": \"errorObjectTest\"}");
    CHECK_EQ_STR(str(r, "inlineError"), "[object Object]");
    json_decref(r);
    /* string responses come back as they are, also when replaced by an error */
    r = testkit_run_action(app, "inlineTest", "{\"target\": \"stringResponseTest\", \"targetParams\": "
                                              "{\"fail\": 1}}");
    CHECK(json_is_null(get(r, "inlineError")));
    CHECK_EQ_STR(str(r, "inlineResponse"), "Error: string failed");
    json_decref(r);
    /* async targets and versions */
    r = testkit_run_action(app, "inlineTest", "{\"target\": \"versionTest\", \"targetVersion\": \"10\"}");
    CHECK_EQ_STR(str(r, "inlineResponse.version"), "10");
    json_decref(r);
    r = testkit_run_action(app, "inlineTest", "{\"target\": \"asyncTest\"}");
    CHECK(json_is_true(get(r, "inlineResponse.async")));
    json_decref(r);
    r = testkit_run_action(app, "inlineTest", "{\"target\": \"inlineTest\", \"targetParams\": {\"target\": "
                                              "\"randomNumber\"}}");
    CHECK(json_is_real(get(r, "inlineResponse.inlineResponse.randomNumber")));
    json_decref(r);
}

/* ---------------------------------------------------------------- direct */

struct seen {
    int calls;
    int status;
    bool destroyed;
    char error[128];
    json_t *log;
    int log_level;
};

static void on_done(ah_ctx_t *ctx, void *arg)
{
    struct seen *s = arg;
    json_t *e = dispatch_serialize_error(ctx, "web");

    s->calls++;
    s->status = ctx->action_status;
    s->destroyed = ctx->connection->destroyed;
    snprintf(s->error, sizeof(s->error), "%s", json_string_value(e) ? json_string_value(e) : "");
    json_decref(e);
    json_decref(s->log);
    s->log = dispatch_log_fields(ctx);
    s->log_level = dispatch_log_level(ctx);
}

static void test_simultaneous(ah_app_t *app)
{
    ah_connection_t *c = testkit_connection_new(app);
    struct seen s[7];
    int i;

    memset(s, 0, sizeof(s));
    ah_connection_ref(c);
    for (i = 0; i < 6; i++) {
        json_object_set_new(c->params, "action", json_string("holdTest"));
        CHECK_EQ_INT(dispatch_action(c, NULL, NULL, NULL, on_done, &s[i]), 0);
    }
    CHECK_EQ_INT(test_hold_count(), 5);
    CHECK_EQ_INT(dispatch_in_flight(app), 5);
    CHECK_EQ_INT(c->pending_actions, 5);
    CHECK_EQ_INT(c->total_actions, 6);
    /* the 6th concurrent action failed at once */
    CHECK_EQ_INT(s[5].calls, 1);
    CHECK_EQ_INT(s[5].status, AH_STATUS_TOO_MANY_REQUESTS);
    CHECK_EQ_STR(s[5].error, "you have too many pending requests");
    CHECK_EQ_INT(s[0].calls, 0);
    /* a limit of 0 means every action is "too many" */
    testkit_config_set(app, "general.simultaneousActions", json_integer(7));
    CHECK_EQ_INT(dispatch_action(c, "holdTest", NULL, NULL, on_done, &s[6]), 0);
    CHECK_EQ_INT(test_hold_count(), 6);
    testkit_config_set(app, "general.simultaneousActions", json_integer(5));
    test_hold_release_all();
    for (i = 0; i < 5; i++) {
        CHECK_EQ_INT(s[i].calls, 1);
        CHECK_EQ_INT(s[i].status, AH_STATUS_COMPLETE);
    }
    CHECK_EQ_INT(s[6].calls, 1);
    CHECK_EQ_INT(c->pending_actions, 0);
    CHECK_EQ_INT(dispatch_in_flight(app), 0);
    for (i = 0; i < 7; i++)
        json_decref(s[i].log);
    ah_connection_destroy(c);
    ah_connection_unref(c);
}

static void test_disconnect_while_pending(ah_app_t *app)
{
    ah_connection_t *c = testkit_connection_new(app);
    struct seen s;
    size_t before = conn_count(app);

    memset(&s, 0, sizeof(s));
    CHECK_EQ_INT(dispatch_action(c, "holdTest", NULL, NULL, on_done, &s), 0);
    CHECK_EQ_INT(test_hold_count(), 1);
    CHECK(test_hold_alive(0));
    /* the client leaves: destroyed, out of the registry, still readable */
    ah_connection_destroy(c);
    CHECK_EQ_INT(conn_count(app), before - 1);
    CHECK(!test_hold_alive(0));
    ah_connection_destroy(c); /* idempotent */
    test_hold_release_all();
    CHECK_EQ_INT(s.calls, 1);
    CHECK(s.destroyed);
    CHECK_EQ_INT(s.status, AH_STATUS_COMPLETE);
    CHECK_EQ_INT(dispatch_in_flight(app), 0);
    json_decref(s.log);
    /* the connection is gone now (ASan would see a leak otherwise) */
}

static void test_sync_cb_inside(ah_app_t *app)
{
    ah_connection_t *c = testkit_connection_new(app);
    struct seen s;

    memset(&s, 0, sizeof(s));
    /* a synchronous action completes inside dispatch_action */
    CHECK_EQ_INT(dispatch_action(c, "randomNumber", NULL, json_pack("{s:s}", "x", "y"), on_done, &s), 0);
    CHECK_EQ_INT(s.calls, 1);
    CHECK_EQ_INT(s.status, AH_STATUS_COMPLETE);
    /* web serializer: the message without "Error: " */
    CHECK_EQ_INT(dispatch_action(c, "throwTest", NULL, NULL, on_done, &s), 0);
    CHECK_EQ_STR(s.error, "thrown in run");
    json_decref(s.log);
    /* the dispatcher refuses when it is not there */
    ah_connection_destroy(c);
}

static void test_odd_names(ah_app_t *app)
{
    ah_connection_t *c = testkit_connection_new(app);
    struct seen s;
    char longname[400], longver[300];

    memset(&s, 0, sizeof(s));
    /* the action from params; a NUL inside cannot name an action */
    CHECK_EQ_INT(dispatch_action(c, NULL, NULL, json_pack("{s:s}", "action", "randomNumber"), on_done, &s), 0);
    CHECK_EQ_INT(s.status, AH_STATUS_COMPLETE);
    CHECK_EQ_INT(dispatch_action(c, NULL, NULL, json_pack("{s:s#}", "action", "randomNumber\0x", (size_t)14),
                                 on_done, &s), 0);
    CHECK_EQ_INT(s.status, AH_STATUS_UNKNOWN_ACTION);
    /* an empty name argument falls back to params.action (actionName || ...) */
    CHECK_EQ_INT(dispatch_action(c, "", NULL, json_pack("{s:s}", "action", "randomNumber"), on_done, &s), 0);
    CHECK_EQ_INT(s.status, AH_STATUS_COMPLETE);
    /* too long to be a name or a version of ours */
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    memcpy(longname, "randomNumber", 12);
    CHECK_EQ_INT(dispatch_action(c, NULL, NULL, json_pack("{s:s}", "action", longname), on_done, &s), 0);
    CHECK_EQ_INT(s.status, AH_STATUS_UNKNOWN_ACTION);
    memset(longver, '1', sizeof(longver) - 1);
    longver[sizeof(longver) - 1] = '\0';
    memcpy(longver, "1", 1);
    CHECK_EQ_INT(dispatch_action(c, "randomNumber", NULL, json_pack("{s:s}", "apiVersion", longver), on_done, &s),
                 0);
    CHECK_EQ_INT(s.status, AH_STATUS_UNKNOWN_ACTION);
    /* a number as the action name: String(5) */
    CHECK_EQ_INT(dispatch_action(c, NULL, NULL, json_pack("{s:i}", "action", 5), on_done, &s), 0);
    CHECK_EQ_INT(s.status, AH_STATUS_UNKNOWN_ACTION);
    CHECK_EQ_STR(json_string_value(json_object_get(s.log, "action")), "5");
    /* an explicit version argument wins over params.apiVersion */
    CHECK_EQ_INT(dispatch_action(c, "versionTest", "10", json_pack("{s:i}", "apiVersion", 1), on_done, &s), 0);
    CHECK_EQ_INT(s.status, AH_STATUS_COMPLETE);
    json_decref(s.log);
    ah_connection_destroy(c);
}

/* ---------------------------------------------------------------- log line */

static void test_log_line(ah_app_t *app)
{
    ah_connection_t *c = testkit_connection_new(app);
    struct seen s;
    const char *keys[] = {"to", "action", "params", "duration", "error"};
    const char *k;
    json_t *v;
    size_t i = 0;
    char longstr[300];

    memset(&s, 0, sizeof(s));
    CHECK_EQ_INT(dispatch_action(c, "randomNumber", NULL, json_pack("{s:s}", "password", "hunter2"), on_done, &s),
                 0);
    json_object_foreach(s.log, k, v) {
        if (i < 5)
            CHECK_EQ_STR(k, keys[i]);
        i++;
    }
    CHECK_EQ_INT(i, 5);
    CHECK_EQ_STR(str(s.log, "to"), "testServer");
    CHECK_EQ_STR(str(s.log, "action"), "randomNumber");
    CHECK_EQ_STR(str(s.log, "params"), "{\"action\":null,\"apiVersion\":1}");
    CHECK_EQ_STR(str(s.log, "error"), "");
    CHECK_EQ_INT(s.log_level, AH_LOG_INFO);

    CHECK_EQ_INT(dispatch_action(c, "debugLogTest", NULL, NULL, on_done, &s), 0);
    CHECK_EQ_INT(s.log_level, AH_LOG_DEBUG);
    CHECK_EQ_INT(dispatch_action(c, "throwTest", NULL, NULL, on_done, &s), 0);
    CHECK_EQ_INT(s.log_level, AH_LOG_ERROR);
    CHECK_EQ_STR(str(s.log, "error"), "Error: thrown in run");
    CHECK_EQ_INT(dispatch_action(c, "nope", NULL, NULL, on_done, &s), 0);
    CHECK_EQ_STR(str(s.log, "error"), "Error: unknown action or invalid apiVersion");
    CHECK_EQ_STR(str(s.log, "action"), "nope");
    /* an action-set error is an ordinary success line */
    CHECK_EQ_INT(dispatch_action(c, "errorSetTest", NULL, NULL, on_done, &s), 0);
    CHECK_EQ_STR(str(s.log, "error"), "");
    CHECK_EQ_INT(s.log_level, AH_LOG_INFO);

    /* filtering: [FILTERED] paths, long strings, long arrays */
    testkit_config_set(app, "general.disableParamScrubbing", json_true());
    testkit_config_set(app, "general.filteredParams", json_pack("[s,s,s]", "password", "nested.secret", "absent.x"));
    memset(longstr, 'x', 150);
    longstr[150] = '\0';
    CHECK_EQ_INT(dispatch_action(c, "randomNumber", NULL,
                                 json_pack("{s:s, s:{s:s, s:i}, s:s, s:[i,i,i,i,i,i,i,i,i,i,i], s:[i,i]}", "password",
                                           "hunter2", "nested", "secret", "s", "keep", 1, "long", longstr, "arr", 1,
                                           2, 3, 4, 5, 6, 7, 8, 9, 10, 11, "short", 1, 2),
                                 on_done, &s),
                 0);
    {
        json_t *p = json_loads(str(s.log, "params"), 0, NULL);

        CHECK_EQ_STR(str(p, "password"), "[FILTERED]");
        CHECK_EQ_STR(str(p, "nested.secret"), "[FILTERED]");
        CHECK_EQ_INT(json_integer_value(get(p, "nested.keep")), 1);
        CHECK_EQ_INT(strlen(str(p, "long")), 100);
        CHECK_EQ_STR(str(p, "arr"), "11 items");
        CHECK_EQ_INT(json_array_size(get(p, "short")), 2);
        CHECK(get(p, "absent") == NULL);
        json_decref(p);
    }
    /* the response too, with enableResponseLogging */
    testkit_config_set(app, "general.enableResponseLogging", json_true());
    testkit_config_set(app, "general.filteredResponse", json_pack("[s]", "randomNumber"));
    testkit_config_set(app, "logger.maxLogStringLength", json_integer(10));
    CHECK_EQ_INT(dispatch_action(c, "randomNumber", NULL, NULL, on_done, &s), 0);
    {
        json_t *resp = json_loads(str(s.log, "response"), 0, NULL);

        CHECK_EQ_STR(str(resp, "randomNumber"), "[FILTERED]");
        CHECK_EQ_STR(str(resp, "stringRandomNumber"), "Your rando");
        json_decref(resp);
    }
    CHECK_EQ_INT(dispatch_action(c, "throwTest", NULL, NULL, on_done, &s), 0);
    {
        json_t *resp = json_loads(str(s.log, "response"), 0, NULL);

        /* an Error is logged as its whole message */
        CHECK_EQ_STR(str(resp, "error"), "thrown in run");
        json_decref(resp);
    }
    testkit_config_set(app, "general.enableResponseLogging", json_false());
    testkit_config_set(app, "general.disableParamScrubbing", json_false());
    testkit_config_set(app, "general.filteredParams", json_array());
    testkit_config_set(app, "logger.maxLogStringLength", json_integer(100));
    json_decref(s.log);
    ah_connection_destroy(c);
}

int main(void)
{
    ah_app_t *app = testkit_app_new();

    test_errors(app);
    test_versions(app);
    test_named_middleware(app);
    test_async(app);
    test_inline(app);
    test_simultaneous(app);
    test_disconnect_while_pending(app);
    test_sync_cb_inside(app);
    test_odd_names(app);
    test_log_line(app);
    CHECK_EQ_INT(testkit_app_free(app), 0);
    test_global_middleware();
    return check_done();
}
