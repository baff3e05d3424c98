/*
 * testkit.h - the specHelper in C (builtin.md §3): an in-process test
 * server for action authors' unit tests.  No sockets: a `testServer`
 * connection type (canChat, the 12 connection verbs, a welcome message
 * into its message list), and functions that run an action and hand back
 * the response exactly as Actionhero's specHelper renders it:
 *
 *   - string or array responses untouched (an error replaces them with
 *     "Error: <message>");
 *   - otherwise `error` through the specHelper serializer ("Error: <message>"
 *     for errors of the processor, values the action set unchanged), then,
 *     unless metadata is off, `messageId`, `serverInformation: {serverName,
 *     apiVersion}` and `requesterInformation: {id, remoteIP: "testServer",
 *     receivedParams}` where receivedParams are the processed params (after
 *     scrubbing, defaults and formatters, with `action` and `apiVersion`).
 *
 * Every function drives the app's loop until its answer is there, so
 * asynchronous actions (timers, in-line actions) work the same as
 * synchronous ones.  Everything runs on the calling thread.
 *
 * Example, tests/unit/test_actions_random_number.c:
 *
 *     #include "testkit/testkit.h"
 *     #include "check.h"
 *
 *     int main(void)
 *     {
 *         ah_app_t *app = testkit_app_new();
 *         json_t *r = testkit_run_action(app, "randomNumber", NULL);
 *
 *         CHECK(json_is_real(json_object_get(r, "randomNumber")));
 *         CHECK_EQ_STR(json_string_value(json_object_get(
 *             json_object_get(r, "requesterInformation"), "remoteIP")), "testServer");
 *         json_decref(r);
 *
 *         r = testkit_run_action(app, "sleepTest", "{\"sleepDuration\": 10}");
 *         CHECK_EQ_INT(json_integer_value(json_object_get(r, "sleepDuration")), 10);
 *         json_decref(r);
 *
 *         CHECK_EQ_INT(testkit_app_free(app), 0);   (every handle closed)
 *         return check_done();
 *     }
 */
#ifndef AH_SRC_TESTKIT_TESTKIT_H
#define AH_SRC_TESTKIT_TESTKIT_H

#include <stdbool.h>

#include <jansson.h>
#include <uv.h>

#include <ah/ah.h>

/* Build and start a test app on its own loop: compiled-in config defaults
 * (plus config/ files when the config loader reads them), NODE_ENV=test,
 * web and websocket servers disabled, every initializer run.  The log level
 * is LOG_LEVEL from the environment, else crit.  Never returns NULL: a boot
 * failure prints app->fail_msg and exits 1. */
ah_app_t *testkit_app_new(void);
/* Same, with a hook run between loading the config and the initializers
 * (change app->config there, e.g. with testkit_config_set). */
ah_app_t *testkit_app_new_with(void (*configure)(ah_app_t *app, void *arg), void *arg);

/* Stop the app (drain, stop phase), close every handle and free it all.
 * Returns uv_loop_close()'s result: 0 when nothing leaked a handle. */
int testkit_app_free(ah_app_t *app);

/* Set a config value by dotted path ("general.simultaneousActions"),
 * creating objects on the way.  Takes the reference of `value`. */
void testkit_config_set(ah_app_t *app, const char *path, json_t *value_take);

/* api.specHelper.returnMetadata (default true). */
void testkit_set_return_metadata(ah_app_t *app, bool on);

/* specHelper.buildConnection(): a new testServer connection (id =
 * fingerprint = UUID, remoteIP "testServer", remotePort 0) with the
 * welcome message in its list.  Borrowed: it lives until destroyed
 * (ah_connection_destroy or the `quit` verb) or until testkit_app_free. */
ah_connection_t *testkit_connection_new(ah_app_t *app);
/* The same connection reporting another connection.type (e.g. "web" or
 * "websocket"), to test blockedConnectionTypes and type-dependent code;
 * rendering stays the testServer's.  `type` is at most 31 bytes. */
ah_connection_t *testkit_connection_new_as(ah_app_t *app, const char *type);

/* specHelper.runAction(name, params): a new connection whose params are
 * the JSON object text `params_json` (NULL: {}).  Returns the rendered
 * response (NEW reference), or NULL when the action set toRender to false
 * or never finished.  The connection is left alive, as in v29. */
json_t *testkit_run_action(ah_app_t *app, const char *name, const char *params_json);
/* Same with a params object (stolen; NULL: {}). */
json_t *testkit_run_action_json(ah_app_t *app, const char *name, json_t *params_take);
/* specHelper.runAction(name, connection): run on `c` with its current
 * params (params.action is set to `name`). */
json_t *testkit_run_action_on(ah_connection_t *c, const char *name);

/* What the last testkit_run_action* saw, for assertions beyond the
 * rendered response. */
struct testkit_last {
    int action_status;        /* enum ah_action_status */
    bool rendered;            /* toRender was true */
    bool completed;           /* the processor finished */
    bool connection_destroyed;/* the connection was destroyed by then */
};
const struct testkit_last *testkit_last(ah_app_t *app);

/* connection.messages: every message sent to a test connection, in order
 * (borrowed array). */
json_t *testkit_messages(ah_connection_t *c);

/* connection.verbs(verb, words): `words` is borrowed (array, a single
 * value, or NULL).  Returns 0 and *result (NEW reference or NULL) on
 * success, or -1 and *error (the error's string form, "Error: ...", to
 * free) when the verb failed.  Either out pointer may be NULL. */
int testkit_verb(ah_connection_t *c, const char *verb, json_t *words, json_t **result, char **error);

/* Drive the loop until `done` is true or nothing is left to run. */
void testkit_run_until(ah_app_t *app, const bool *done);

/* The testServer connection type (for tests that build connections
 * themselves). */
const ah_server_type_t *testkit_server_type(void);

/* Not provided: specHelper.getStaticFile (static files need the web
 * server; test them through the integration tests). */

#endif /* AH_SRC_TESTKIT_TESTKIT_H */
