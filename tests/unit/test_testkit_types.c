/* testkit_connection_new_as: run an action as another connection type. */
#include "testkit/testkit.h"
#include "check.h"

int main(void)
{
    ah_app_t *app = testkit_app_new();
    ah_connection_t *web = testkit_connection_new_as(app, "web");
    ah_connection_t *ws = testkit_connection_new_as(app, "websocket");
    json_t *r;

    CHECK_EQ_STR(web->type, "web");
    CHECK_EQ_STR(ws->type, "websocket");
    r = testkit_run_action_on(ws, "blockedTest");
    CHECK_EQ_STR(json_string_value(json_object_get(r, "error")),
                 "Error: this action does not support the websocket connection type");
    json_decref(r);
    r = testkit_run_action_on(web, "blockedTest");
    CHECK(json_object_get(r, "error") == NULL);
    json_decref(r);
    CHECK_EQ_INT(testkit_app_free(app), 0);
    return check_done();
}
