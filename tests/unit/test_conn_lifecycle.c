/*
 * test_conn_lifecycle.c - connections (connection.md §1-§5): fields and
 * their initial values, the serialised key order, construction errors, the
 * registry, create/destroy middleware order and refusal, idempotent
 * destroy, the reference count, the welcome message.
 */
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "check.h"
#include "conn/conn.h"
#include "core/core.h"
#include "testkit/testkit.h"

static char trace[512];

static void add_trace(const char *s)
{
    size_t n = strlen(trace);

    snprintf(trace + n, sizeof(trace) - n, "%s%s", n ? "," : "", s);
}

static int m1_create(ah_connection_t *c)
{
    add_trace("m1.create");
    json_object_set_new(c->session, "m1", json_true());
    return 0;
}

static void m1_destroy(ah_connection_t *c)
{
    add_trace(c->destroyed ? "m1.destroy(destroyed)" : "m1.destroy");
    add_trace(conn_find(c->app, c->id) == c ? "registered" : "unregistered");
}

static int m2_create(ah_connection_t *c)
{
    (void)c;
    add_trace("m2.create");
    return 0;
}

static void m2_destroy(ah_connection_t *c)
{
    (void)c;
    add_trace("m2.destroy");
}

static int m0_create(ah_connection_t *c)
{
    (void)c;
    add_trace("m0.create");
    return 0;
}

static int refuse_create(ah_connection_t *c)
{
    add_trace(json_object_get(c->session, "m1") ? "refuse.create(after m1)" : "refuse.create");
    return json_is_true(json_object_get(c->params, "refuse")) ? AH_EINVAL : 0;
}

static int selfdestroy_create(ah_connection_t *c)
{
    if (json_is_true(json_object_get(c->params, "selfDestroy")))
        ah_connection_destroy(c);
    return 0;
}

static const ah_connection_middleware_t selfdestroy = {.name = "selfdestroy", .priority = 1,
                                                      .create = selfdestroy_create};
static const ah_connection_middleware_t m1 = {.name = "m1", .priority = 10, .create = m1_create, .destroy = m1_destroy};
static const ah_connection_middleware_t m2 = {.name = "m2", .create = m2_create, .destroy = m2_destroy};
static const ah_connection_middleware_t m0 = {.name = "m0", .priority = 10, .create = m0_create};
static const ah_connection_middleware_t refuse = {.name = "refuse", .priority = 300, .create = refuse_create};
static const ah_connection_middleware_t noname = {.priority = 1};

static int goodbyes;
static int releases;

static void goodbye(ah_connection_t *c)
{
    (void)c;
    goodbyes++;
    add_trace("goodbye");
}

static void release(ah_connection_t *c)
{
    (void)c;
    releases++;
}

static json_t *sent;

static void send_message(ah_connection_t *c, json_t *m)
{
    (void)c;
    json_array_append(sent, m);
}

static const char *const few_verbs[] = {"quit", "detailsView", NULL};

static const ah_server_type_t custom = {
    .name = "custom",
    .can_chat = false,
    .send_welcome_message = true,
    .verbs = few_verbs,
    .send_message = send_message,
    .goodbye = goodbye,
    .release = release,
};

static const ah_server_type_t untyped = {.name = NULL};

static void test_fields(ah_app_t *app)
{
    struct conn_init init = {.remote_ip = "10.1.2.3", .remote_port = "4567"};
    ah_connection_t *c = conn_new(app, &custom, &init);
    const char *keys[] = {"type", "id", "fingerprint", "remotePort", "remoteIP", "messageId", "connectedAt",
                          "error", "rooms", "params", "session", "pendingActions", "totalActions", "canChat",
                          "destroyed"};
    json_t *j, *v;
    const char *k;
    size_t i = 0;

    CHECK(c != NULL);
    CHECK_EQ_INT(strlen(c->id), 36);
    CHECK_EQ_STR(c->fingerprint, c->id);
    CHECK_EQ_STR(c->message_id, "0");
    CHECK_EQ_STR(c->type, "custom");
    CHECK_EQ_INT(c->pending_actions, 0);
    CHECK_EQ_INT(c->total_actions, 0);
    CHECK(!c->destroyed);
    CHECK(c->connected_at > 0);
    CHECK(conn_find(app, c->id) == c);
    j = ah_connection_to_json(c);
    json_object_foreach(j, k, v) {
        if (i < 15)
            CHECK_EQ_STR(k, keys[i]);
        i++;
    }
    CHECK_EQ_INT(i, 15);
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "remotePort")), 4567);
    CHECK(json_is_null(json_object_get(j, "error")));
    CHECK(json_is_array(json_object_get(j, "rooms")));
    CHECK(json_is_false(json_object_get(j, "canChat")));
    json_decref(j);
    c->remote_port_is_string = true;
    j = ah_connection_to_json(c);
    CHECK_EQ_STR(json_string_value(json_object_get(j, "remotePort")), "4567");
    json_decref(j);
    ah_connection_destroy(c);

    /* given id / fingerprint / messageId */
    init.id = "my-id";
    init.fingerprint = "my-fp";
    init.message_id = "m-1";
    c = conn_new(app, &custom, &init);
    CHECK_EQ_STR(c->id, "my-id");
    CHECK_EQ_STR(c->fingerprint, "my-fp");
    CHECK_EQ_STR(c->message_id, "m-1");
    CHECK(conn_find(app, "my-id") == c);
    ah_connection_destroy(c);
    CHECK(conn_find(app, "my-id") == NULL);

    /* construction errors */
    CHECK(conn_new(app, &untyped, &init) == NULL);
    CHECK(conn_new(app, NULL, &init) == NULL);
    init.remote_port = NULL;
    CHECK(conn_new(app, &custom, &init) == NULL); /* remotePort is required */
    init.remote_port = "0";                         /* "0" is fine */
    init.remote_ip = "";
    CHECK(conn_new(app, &custom, &init) == NULL); /* remoteIP is required */
    testkit_config_set(app, "general.enforceConnectionProperties", json_false());
    init.remote_port = NULL;
    c = conn_new(app, &custom, &init);
    CHECK(c != NULL);
    CHECK_EQ_STR(c->remote_ip, "0");
    CHECK_EQ_STR(c->remote_port, "0");
    ah_connection_destroy(c);
    testkit_config_set(app, "general.enforceConnectionProperties", json_true());
}

static void test_middleware(ah_app_t *app)
{
    struct conn_init init = {.remote_ip = "1.2.3.4", .remote_port = "1"};
    ah_connection_t *c;
    size_t before = conn_count(app);

    CHECK_EQ_INT(ah_connection_middleware_add(app, &noname), AH_EINVAL);
    CHECK_EQ_INT(ah_connection_middleware_add(app, &refuse), 0);
    CHECK_EQ_INT(ah_connection_middleware_add(app, &m2), 0); /* priority 0 -> 100 */
    CHECK_EQ_INT(ah_connection_middleware_add(app, &m1), 0);

    trace[0] = '\0';
    goodbyes = releases = 0;
    sent = json_array();
    c = conn_new(app, &custom, &init);
    CHECK_EQ_INT(conn_count(app), before + 1); /* in the registry before create */
    CHECK_EQ_INT(conn_start(c), 0);
    CHECK_EQ_STR(trace, "m1.create,m2.create,refuse.create(after m1)");
    /* the welcome message after the middleware */
    CHECK_EQ_INT(json_array_size(sent), 1);
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(sent, 0), "welcome")),
                 "Welcome to the actionhero api");
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(sent, 0), "context")), "api");

    trace[0] = '\0';
    ah_connection_ref(c);
    ah_connection_destroy(c);
    CHECK_EQ_STR(trace, "m1.destroy(destroyed),registered,m2.destroy,goodbye");
    CHECK_EQ_INT(conn_count(app), before); /* removed last */
    CHECK(c->destroyed);
    /* idempotent */
    ah_connection_destroy(c);
    CHECK_EQ_INT(goodbyes, 1);
    /* sends after destroy are no-ops */
    ah_connection_send_message(c, json_array_get(sent, 0));
    CHECK_EQ_INT(json_array_size(sent), 1);
    CHECK_EQ_INT(releases, 0);
    ah_connection_unref(c); /* the last reference: freed now */
    CHECK_EQ_INT(releases, 1);

    /* a refusing create hook aborts the connection */
    trace[0] = '\0';
    c = conn_new(app, &custom, &init);
    json_object_set_new(c->params, "refuse", json_true());
    CHECK(conn_start(c) < 0);
    CHECK_EQ_INT(json_array_size(sent), 1); /* no welcome */
    ah_connection_destroy(c);
    CHECK_EQ_INT(releases, 2);

    /* a create hook that destroys the connection itself */
    {
        bool never = false;

        trace[0] = '\0';
        c = conn_new(app, &custom, &init);
        json_object_set_new(c->params, "selfDestroy", json_true());
        CHECK_EQ_INT(ah_connection_middleware_add(app, &selfdestroy), 0);
        CHECK(conn_start(c) < 0);
        CHECK(c->destroyed);                 /* still readable this turn */
        ah_connection_destroy(c);            /* and a no-op */
        CHECK_EQ_INT(releases, 2);
        testkit_run_until(app, &never);      /* freed on the next turn */
        CHECK_EQ_INT(releases, 3);
    }

    /* re-adding replaces (no double run); equal priorities keep order */
    CHECK_EQ_INT(ah_connection_middleware_add(app, &m0), 0);
    CHECK_EQ_INT(ah_connection_middleware_add(app, &m2), 0);
    trace[0] = '\0';
    c = conn_new(app, &custom, &init);
    CHECK_EQ_INT(conn_start(c), 0);
    CHECK_EQ_STR(trace, "m1.create,m0.create,m2.create,refuse.create(after m1)");
    CHECK_EQ_INT(json_array_size(sent), 2); /* welcomed */
    ah_connection_destroy(c);
    json_decref(sent);
}

static void test_spechelper_conn(ah_app_t *app)
{
    ah_connection_t *c = testkit_connection_new(app);
    json_t *msgs = testkit_messages(c), *j;

    CHECK_EQ_STR(c->type, "testServer");
    CHECK_EQ_STR(c->remote_ip, "testServer");
    CHECK_EQ_STR(c->fingerprint, c->id);
    CHECK(c->can_chat);
    CHECK_EQ_INT(json_array_size(msgs), 1);
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(msgs, 0), "welcome")),
                 "Welcome to the actionhero api");
    j = ah_connection_to_json(c);
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "remotePort")), 0);
    CHECK(json_is_true(json_object_get(j, "canChat")));
    json_decref(j);
    /* counters after actions */
    json_decref(testkit_run_action_on(c, "randomNumber"));
    json_decref(testkit_run_action_on(c, "nope"));
    CHECK_EQ_INT(c->total_actions, 2);
    CHECK_EQ_INT(c->pending_actions, 0);
    CHECK_EQ_INT(json_array_size(msgs), 3);
    ah_connection_destroy(c);
}

/* Freed connections are reused: a reused one is as conn_new makes a new
 * one, and none is reused while a reference or a container is held. */
static void test_recycle(ah_app_t *app)
{
    struct conn_init init = {.remote_ip = "10.0.0.1", .remote_port = "80"};
    ah_connection_t *c, *d, *e;
    char old_id[96];
    json_t *held;

    c = conn_new(app, &custom, &init);
    CHECK(c != NULL);
    snprintf(old_id, sizeof(old_id), "%s", c->id);
    json_object_set_new(c->params, "p", json_string("v"));
    json_object_set_new(c->session, "s", json_true());
    json_array_append_new(c->rooms, json_string("not-a-chat-room"));
    c->error = json_string("bad");
    c->response = json_object();
    c->matched_route = json_object();
    c->props = json_pack("{s:i}", "x", 1);
    c->extension = xstrdup("html");
    c->total_actions = 3;
    snprintf(c->message_id, sizeof(c->message_id), "%s", "m-9");
    c->remote_port_is_string = true;
    ah_connection_destroy(c);

    init.remote_ip = "10.0.0.2";
    init.remote_port = "81";
    d = conn_new(app, &custom, &init);
    CHECK(d == c); /* the same struct, reused */
    CHECK(strcmp(d->id, old_id) != 0);
    CHECK_EQ_INT(strlen(d->id), 36);
    CHECK_EQ_STR(d->fingerprint, d->id);
    CHECK_EQ_STR(d->message_id, "0");
    CHECK_EQ_STR(d->remote_ip, "10.0.0.2");
    CHECK_EQ_STR(d->remote_port, "81");
    CHECK(!d->remote_port_is_string);
    CHECK(json_is_object(d->params) && json_object_size(d->params) == 0);
    CHECK(json_is_object(d->session) && json_object_size(d->session) == 0);
    CHECK(json_is_array(d->rooms) && json_array_size(d->rooms) == 0);
    CHECK(d->error == NULL && d->response == NULL && d->matched_route == NULL && d->props == NULL);
    CHECK(d->extension == NULL);
    CHECK_EQ_INT(d->total_actions, 0);
    CHECK_EQ_INT(d->pending_actions, 0);
    CHECK(!d->destroyed);
    CHECK(conn_find(app, d->id) == d);
    CHECK(conn_find(app, old_id) == NULL);

    /* held by an action past destroy: not reused until released */
    ah_connection_ref(d);
    ah_connection_destroy(d);
    CHECK(d->destroyed);
    e = conn_new(app, &custom, &init);
    CHECK(e != d);
    json_object_set_new(d->session, "late", json_true()); /* still ours */
    CHECK_EQ_INT(json_object_size(e->session), 0);
    ah_connection_destroy(e);
    ah_connection_unref(d);

    /* a container someone else keeps is not emptied under them */
    c = conn_new(app, &custom, &init);
    json_object_set_new(c->params, "kept", json_true());
    held = c->params;
    json_incref(held);
    ah_connection_destroy(c);
    CHECK(json_is_true(json_object_get(held, "kept")));
    d = conn_new(app, &custom, &init);
    CHECK(d->params != held);
    CHECK_EQ_INT(json_object_size(d->params), 0);
    CHECK(json_is_true(json_object_get(held, "kept")));
    json_decref(held);
    ah_connection_destroy(d);
}

/* The table hex behind fingerprints, message ids and connection ids. */
static void test_ids(void)
{
    static const unsigned char bytes[] = {0x00, 0x01, 0x7f, 0x80, 0xa5, 0xfe, 0xff};
    char out[2 * sizeof(bytes) + 1], u[37], v[37], h[41];
    size_t i;

    memset(out, 'x', sizeof(out));
    core_hex(out, bytes, sizeof(bytes));
    CHECK_EQ_STR(out, "00017f80a5feff");
    core_hex(out, bytes, 0);
    CHECK_EQ_STR(out, "");
    core_sha1_hex("abc", 3, h);
    CHECK_EQ_STR(h, "a9993e364706816aba3e25717850c26c9cd0d89d");
    core_uuid4(u);
    core_uuid4(v);
    CHECK(strcmp(u, v) != 0);
    CHECK_EQ_INT(strlen(u), 36);
    for (i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            CHECK(u[i] == '-');
        else
            CHECK(strchr("0123456789abcdef", u[i]) != NULL && u[i] != '\0');
    }
    CHECK(u[14] == '4');
    CHECK(strchr("89ab", u[19]) != NULL);
    core_random_hex(h, 20);
    CHECK_EQ_INT(strlen(h), 40);
    CHECK(strspn(h, "0123456789abcdef") == 40);
}

int main(void)
{
    ah_app_t *app = testkit_app_new();

    test_fields(app);
    test_spechelper_conn(app);
    test_middleware(app);
    test_recycle(app);
    test_ids();
    CHECK_EQ_INT(testkit_app_free(app), 0);
    return check_done();
}
