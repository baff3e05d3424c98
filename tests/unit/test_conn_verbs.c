/*
 * test_conn_verbs.c - connection verbs (connection.md §6) on testServer
 * connections: param verbs with scrubbing, detailsView's key order,
 * roomView outside a room, documentation's TypeError, not-allowed verbs,
 * quit, and the callback never running inside the call.
 */
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "check.h"
#include "conn/conn.h"
#include "testkit/testkit.h"

static json_t *words(const char *json)
{
    return json ? json_loads(json, JSON_DECODE_ANY, NULL) : NULL;
}

static int verb(ah_connection_t *c, const char *v, const char *w, json_t **result, char **error)
{
    json_t *ws = words(w);
    int rc = testkit_verb(c, v, ws, result, error);

    json_decref(ws);
    return rc;
}

static void test_params(ah_app_t *app)
{
    ah_connection_t *c = testkit_connection_new(app);
    json_t *res = NULL;
    char *error = NULL;

    /* key value */
    CHECK_EQ_INT(verb(c, "paramAdd", "[\"sleepDuration\", \"5\"]", &res, &error), 0);
    CHECK(res == NULL && error == NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(c->params, "sleepDuration")), "5");
    /* key=value, extra "=" parts are lost */
    CHECK_EQ_INT(verb(c, "paramAdd", "[\"key=a=b\"]", NULL, NULL), 0);
    CHECK_EQ_STR(json_string_value(json_object_get(c->params, "key")), "a");
    /* a single word as a string */
    CHECK_EQ_INT(verb(c, "paramAdd", "\"value=xyz\"", NULL, NULL), 0);
    CHECK_EQ_STR(json_string_value(json_object_get(c->params, "value")), "xyz");
    /* not in the post-variable list: silently ignored */
    CHECK_EQ_INT(verb(c, "paramAdd", "[\"notAnInput\", 1]", NULL, NULL), 0);
    CHECK(json_object_get(c->params, "notAnInput") == NULL);
    testkit_config_set(app, "general.disableParamScrubbing", json_true());
    CHECK_EQ_INT(verb(c, "paramAdd", "[\"notAnInput\", 1]", NULL, NULL), 0);
    CHECK_EQ_INT(json_integer_value(json_object_get(c->params, "notAnInput")), 1);
    testkit_config_set(app, "general.disableParamScrubbing", json_false());

    CHECK_EQ_INT(verb(c, "paramView", "[\"key\"]", &res, NULL), 0);
    CHECK_EQ_STR(json_string_value(res), "a");
    json_decref(res);
    CHECK_EQ_INT(verb(c, "paramView", "[\"nothing\"]", &res, NULL), 0);
    CHECK(res == NULL);
    CHECK_EQ_INT(verb(c, "paramsView", NULL, &res, NULL), 0);
    CHECK_EQ_INT(json_object_size(res), 4);
    json_decref(res);
    CHECK_EQ_INT(verb(c, "paramDelete", "[\"key\"]", NULL, NULL), 0);
    CHECK(json_object_get(c->params, "key") == NULL);

    /* the params are the next action's */
    CHECK_EQ_INT(verb(c, "paramAdd", "[\"key\", \"abcdef\"]", NULL, NULL), 0);
    CHECK_EQ_INT(verb(c, "paramAdd", "[\"value\", \"ghijkl\"]", NULL, NULL), 0);
    res = testkit_run_action_on(c, "cacheTest");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(json_object_get(res, "cacheTestResults"),
                                                                   "loadResp"),
                                                   "value")),
                 "ghijkl");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(json_object_get(res, "requesterInformation"),
                                                                   "receivedParams"),
                                                   "key")),
                 "abcdef");
    json_decref(res);

    CHECK_EQ_INT(verb(c, "paramsDelete", NULL, NULL, NULL), 0);
    CHECK_EQ_INT(json_object_size(c->params), 0);
    ah_connection_destroy(c);
}

static void test_details(ah_app_t *app)
{
    ah_connection_t *c = testkit_connection_new(app);
    const char *keys[] = {"id", "fingerprint", "remoteIP", "remotePort", "params", "connectedAt", "rooms",
                          "totalActions", "pendingActions"};
    json_t *res = NULL, *v;
    const char *k;
    size_t i = 0;

    json_decref(testkit_run_action_on(c, "randomNumber"));
    CHECK_EQ_INT(verb(c, "detailsView", NULL, &res, NULL), 0);
    json_object_foreach(res, k, v) {
        if (i < 9)
            CHECK_EQ_STR(k, keys[i]);
        i++;
    }
    CHECK_EQ_INT(i, 9);
    CHECK_EQ_STR(json_string_value(json_object_get(res, "id")), c->id);
    CHECK_EQ_STR(json_string_value(json_object_get(res, "remoteIP")), "testServer");
    CHECK_EQ_INT(json_integer_value(json_object_get(res, "remotePort")), 0);
    CHECK_EQ_INT(json_integer_value(json_object_get(res, "totalActions")), 1);
    json_decref(res);
    ah_connection_destroy(c);
}

static void test_errors(ah_app_t *app)
{
    ah_connection_t *c = testkit_connection_new(app);
    json_t *res = NULL;
    char *error = NULL;

    CHECK_EQ_INT(verb(c, "documentation", NULL, &res, &error), -1);
    CHECK_EQ_STR(error, "Error: verb not found or not allowed (documentation)"); /* not a testServer verb */
    free(error);
    CHECK_EQ_INT(verb(c, "dance", NULL, &res, &error), -1);
    CHECK_EQ_STR(error, "Error: verb not found or not allowed (dance)");
    free(error);
    CHECK_EQ_INT(verb(c, "roomView", "[\"defaultRoom\"]", &res, &error), -1);
    CHECK_EQ_STR(error, "Error: connection not in this room (defaultRoom)");
    free(error);
    /* the chat verbs themselves: tests/unit/test_chat_verbs.c */
    CHECK_EQ_INT(verb(c, "roomAdd", "[\"noSuchRoom\"]", &res, &error), -1);
    CHECK_EQ_STR(error, "Error: room does not exist");
    free(error);
    ah_connection_destroy(c);
}

static const char *const ws_like_verbs[] = {"quit", "exit", "documentation", "roomAdd", "roomLeave",
                                            "roomView", "detailsView", "say", NULL};

static const ah_server_type_t ws_like = {
    .name = "wsLike",
    .can_chat = true,
    .verbs = ws_like_verbs,
};

static int calls;
static json_t *got_result;
static char got_error[256];

static void on_verb(ah_connection_t *c, json_t *result, const char *error, void *arg)
{
    (void)c;
    (void)arg;
    calls++;
    got_result = result ? json_incref(result) : NULL;
    snprintf(got_error, sizeof(got_error), "%s", error ? error : "");
}

static void test_other_server(ah_app_t *app)
{
    struct conn_init init = {.remote_ip = "127.0.0.1", .remote_port = "5000"};
    ah_connection_t *c = conn_new(app, &ws_like, &init);
    bool never = false;

    calls = 0;
    CHECK_EQ_INT(ah_connection_verbs(c, "documentation", NULL, on_verb, NULL), 0);
    CHECK_EQ_INT(calls, 0); /* never inside the call */
    testkit_run_until(app, &never);
    CHECK_EQ_INT(calls, 1);
    CHECK_EQ_STR(got_error, "TypeError: Cannot read properties of undefined (reading 'documentation')");
    CHECK_EQ_INT(ah_connection_verbs(c, "paramAdd", NULL, on_verb, NULL), 0);
    testkit_run_until(app, &never);
    CHECK_EQ_STR(got_error, "Error: verb not found or not allowed (paramAdd)");
    CHECK_EQ_INT(ah_connection_verbs(c, "detailsView", NULL, on_verb, NULL), 0);
    testkit_run_until(app, &never);
    CHECK_EQ_STR(got_error, "");
    CHECK_EQ_STR(json_string_value(json_object_get(got_result, "remoteIP")), "127.0.0.1");
    CHECK_EQ_INT(json_integer_value(json_object_get(got_result, "remotePort")), 5000);
    json_decref(got_result);
    got_result = NULL;
    /* quit: destroyed, the callback still runs (with the connection alive
     * in memory until it returns) */
    ah_connection_ref(c);
    CHECK_EQ_INT(ah_connection_verbs(c, "quit", NULL, on_verb, NULL), 0);
    CHECK(c->destroyed);
    testkit_run_until(app, &never);
    CHECK_EQ_INT(calls, 4);
    CHECK_EQ_STR(got_error, "");
    CHECK(got_result == NULL);
    ah_connection_unref(c);
}

static void test_quit_spechelper(ah_app_t *app)
{
    ah_connection_t *c = testkit_connection_new(app);
    size_t before = conn_count(app);

    CHECK_EQ_INT(testkit_verb(c, "exit", NULL, NULL, NULL), 0);
    CHECK_EQ_INT(conn_count(app), before - 1);
}

int main(void)
{
    ah_app_t *app = testkit_app_new();

    test_params(app);
    test_details(app);
    test_errors(app);
    test_other_server(app);
    test_quit_spechelper(app);
    CHECK_EQ_INT(testkit_app_free(app), 0);
    return check_done();
}
