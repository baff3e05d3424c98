/*
 * test_conn_apply.c - api.connections.apply (include/ah/cluster.h) on the
 * memory backend, through the same RPC as across servers: the callback
 * contract, lookup, every method (sendMessage, set, verbs, destroy,
 * setHeader on a non-web connection), Actionhero's argument rules, the
 * refusals of "set", general.maxConnectionProperties, RPC Timeout for an
 * unknown id or a failing method, and the action form
 * (connectionApplyTest).  Two apps on a private redis-server then check
 * that apply reaches the other app's connection.
 */
#include "chat_testlib.h"

struct apply_res {
    bool done;
    int calls;
    int status;
    json_t *conn;
    char *error;
};

static void apply_cb(ah_app_t *app, int status, json_t *connection, const char *error, void *arg)
{
    struct apply_res *r = arg;

    (void)app;
    r->calls++;
    r->done = true;
    r->status = status;
    json_decref(r->conn);
    free(r->error);
    r->conn = connection ? json_incref(connection) : NULL;
    r->error = error ? xstrdup(error) : NULL;
}

static void apply_reset(struct apply_res *r)
{
    json_decref(r->conn);
    free(r->error);
    memset(r, 0, sizeof(*r));
}

static ah_app_t *apps[2];
static size_t napps = 1;
static struct apply_res res;

/* apply(id, method, args JSON text) and wait; checks the contract. */
static struct apply_res *apply_on(ah_app_t *app, const char *id, const char *method, const char *args_json, int line)
{
    json_t *args = args_json ? json_loads(args_json, JSON_DECODE_ANY, NULL) : NULL;
    int rc;

    apply_reset(&res);
    rc = ah_connections_app_apply(app, id, method, args, apply_cb, &res);
    json_decref(args);
    check_report(rc == 0, __FILE__, line, "apply returned 0", ah_strerror(rc), "0");
    if (rc < 0)
        return &res;
    check_report(!res.done, __FILE__, line, "callback did not run inline", NULL, NULL);
    chat_run_until(apps, napps, &res.done, 10000);
    chat_run_for(apps, napps, 1);
    check_report(res.calls == 1, __FILE__, line, "callback ran once", res.calls == 1 ? "1" : "0 or more", "1");
    return &res;
}
#define APPLY(id, m, a) apply_on(apps[0], (id), (m), (a), __LINE__)

static const char *field_text(json_t *conn, const char *key)
{
    return chat_text(json_object_get(conn, key));
}

static void configure_small(ah_app_t *app, void *arg)
{
    chat_configure(app, arg);
    testkit_config_set(app, "general.maxConnectionProperties", json_integer(2));
}

int main(void)
{
    struct chat_app_opts o = {0};
    struct test_redis redis_srv = {0};
    ah_connection_t *c, *d, *b;
    struct apply_res *r;
    json_t *resp, *msgs;
    char id[96], bid[96];
    size_t n;

    setenv("LOG_LEVEL", "emerg", 0);
    o.rpc_timeout = 200;
    apps[0] = testkit_app_new_with(configure_small, &o);
    c = testkit_connection_new(apps[0]);
    snprintf(id, sizeof(id), "%s", c->id);

    /* ---- arguments */
    CHECK_EQ_INT(ah_connections_app_apply(apps[0], NULL, NULL, NULL, apply_cb, &res), AH_EINVAL);
    CHECK_EQ_INT(ah_connections_app_apply(apps[0], "", NULL, NULL, apply_cb, &res), AH_EINVAL);
    CHECK_EQ_INT(ah_connections_app_apply(apps[0], id, NULL, NULL, NULL, NULL), AH_EINVAL);
    CHECK_EQ_INT(ah_connections_app_apply(NULL, id, NULL, NULL, apply_cb, &res), AH_EINVAL);
    CHECK_EQ_INT(ah_connections_app_apply(apps[0], id, "\xff", json_true(), apply_cb, &res), AH_EINVAL);

    /* ---- lookup */
    r = APPLY(id, NULL, NULL);
    CHECK_EQ_INT(r->status, 0);
    CHECK_EQ_STR(json_string_value(json_object_get(r->conn, "id")), id);
    CHECK_EQ_STR(field_text(r->conn, "type"), "\"testServer\"");
    CHECK_EQ_STR(field_text(r->conn, "destroyed"), "false");
    CHECK_EQ_STR(field_text(r->conn, "rooms"), "[]");
    CHECK(json_object_get(r->conn, "rawConnection") == NULL);
    CHECK(json_object_get(r->conn, "props") == NULL);

    /* a method without args only looks up (Actionhero: method && args) */
    r = APPLY(id, "destroy", NULL);
    CHECK_EQ_STR(field_text(r->conn, "destroyed"), "false");
    CHECK(!c->destroyed);
    r = APPLY(id, "destroy", "false");
    CHECK_EQ_STR(field_text(r->conn, "destroyed"), "false");

    /* ---- sendMessage: args as one value */
    n = chat_msg_count(c);
    r = APPLY(id, "sendMessage", "{\"hello\":\"world\"}");
    CHECK_EQ_INT(r->status, 0);
    CHECK_EQ_INT(chat_msg_count(c), n + 1);
    CHECK_EQ_STR(chat_text(chat_last_msg(c)), "{\"hello\":\"world\"}");
    r = APPLY(id, "sendMessage", "[1,2]");
    CHECK_EQ_STR(chat_text(chat_last_msg(c)), "[1,2]");
    r = APPLY(id, "sendMessage", "\"text\"");
    CHECK_EQ_STR(chat_text(chat_last_msg(c)), "\"text\"");
    r = APPLY(id, "sendMessage", "42");
    CHECK_EQ_INT(r->status, 0);

    /* ---- set */
    r = APPLY(id, "set", "[\"auth\", {\"user\":\"evan\"}]");
    CHECK_EQ_INT(r->status, 0);
    CHECK_EQ_STR(field_text(r->conn, "auth"), "{\"user\":\"evan\"}");
    CHECK_EQ_STR(chat_text(json_object_get(c->props, "auth")), "{\"user\":\"evan\"}");
    r = APPLY(id, NULL, NULL);
    CHECK_EQ_STR(field_text(r->conn, "auth"), "{\"user\":\"evan\"}");
    r = APPLY(id, "set", "[\"n\", null]");
    CHECK_EQ_STR(field_text(r->conn, "n"), "null");
    /* general.maxConnectionProperties = 2: a third name is refused,
     * replacing one is not */
    r = APPLY(id, "set", "[\"third\", 3]");
    CHECK_EQ_INT(r->status, AH_EFAIL);
    CHECK_EQ_STR(r->error, "RPC Timeout");
    r = APPLY(id, "set", "[\"n\", 2]");
    CHECK_EQ_STR(field_text(r->conn, "n"), "2");
    /* set(key) = undefined: gone */
    r = APPLY(id, "set", "[\"n\"]");
    CHECK(json_object_get(r->conn, "n") == NULL);
    r = APPLY(id, "set", "[\"third\", 3]");
    CHECK_EQ_STR(field_text(r->conn, "third"), "3");
    /* typed fields */
    r = APPLY(id, "set", "[\"params\", {\"a\":1}]");
    CHECK_EQ_STR(field_text(r->conn, "params"), "{\"a\":1}");
    CHECK_EQ_STR(chat_text(c->params), "{\"a\":1}");
    r = APPLY(id, "set", "[\"session\", {\"s\":true}]");
    CHECK_EQ_STR(field_text(r->conn, "session"), "{\"s\":true}");
    r = APPLY(id, "set", "[\"canChat\", false]");
    CHECK_EQ_STR(field_text(r->conn, "canChat"), "false");
    CHECK(!c->can_chat);
    r = APPLY(id, "set", "[\"canChat\", true]");
    CHECK(c->can_chat);
    r = APPLY(id, "set", "[\"messageId\", 17]");
    CHECK_EQ_STR(field_text(r->conn, "messageId"), "\"17\"");
    /* refused: no answer, RPC Timeout */
    r = APPLY(id, "set", "[\"params\", 1]");
    CHECK_EQ_STR(r->error, "RPC Timeout");
    r = APPLY(id, "set", "[\"canChat\", 1]");
    CHECK_EQ_STR(r->error, "RPC Timeout");
    r = APPLY(id, "set", "[\"messageId\", \"0123456789012345678901234567890123456789012345678901234567890123456789\"]");
    CHECK_EQ_STR(r->error, "RPC Timeout");
    r = APPLY(id, "set", "[\"id\", \"x\"]");
    CHECK_EQ_STR(r->error, "RPC Timeout");
    r = APPLY(id, "set", "[\"rooms\", []]");
    CHECK_EQ_STR(r->error, "RPC Timeout");
    r = APPLY(id, "set", "[\"destroy\", 1]");
    CHECK_EQ_STR(r->error, "RPC Timeout");
    CHECK_EQ_STR(c->id, id);
    /* Function.prototype.apply: a string is a TypeError, an object is no
     * arguments (set(undefined, undefined): nothing to see) */
    r = APPLY(id, "set", "\"auth\"");
    CHECK_EQ_STR(r->error, "RPC Timeout");
    r = APPLY(id, "set", "{\"0\":\"x\"}");
    CHECK_EQ_INT(r->status, 0);
    CHECK(json_object_get(r->conn, "undefined") == NULL);

    /* ---- unknown methods and bad names */
    r = APPLY(id, "fly", "[]");
    CHECK_EQ_STR(r->error, "RPC Timeout");
    r = APPLY(id, "setHeader", "[\"a\", \"b\"]"); /* not a web connection */
    CHECK_EQ_STR(r->error, "RPC Timeout");
    r = APPLY(id, "sendFile", "{}");
    CHECK_EQ_STR(r->error, "RPC Timeout");
    {
        /* a method that is not a string */
        json_t *args = json_pack("[s, i, []]", id, 5);

        apply_reset(&res);
        CHECK_EQ_INT(cluster_do(apps[0], "api.connections.applyResponder", args, id, true, NULL, NULL), 0);
        chat_run_for(apps, napps, 20);
    }

    /* ---- verbs */
    r = APPLY(id, "verbs", "[\"roomAdd\", \"defaultRoom\"]");
    CHECK_EQ_INT(r->status, 0);
    CHECK_EQ_STR(field_text(r->conn, "rooms"), "[\"defaultRoom\"]");
    r = APPLY(id, "verbs", "[\"roomAdd\", \"defaultRoom\"]"); /* already in it: the verb fails */
    CHECK_EQ_STR(r->error, "RPC Timeout");
    r = APPLY(id, "verbs", "[\"paramsDelete\"]");
    CHECK_EQ_STR(field_text(r->conn, "params"), "{}");
    r = APPLY(id, "verbs", "[42]");
    CHECK_EQ_STR(r->error, "RPC Timeout");

    /* ---- unknown ids */
    r = APPLY("no-such-connection", NULL, NULL);
    CHECK_EQ_INT(r->status, AH_EFAIL);
    CHECK_EQ_STR(r->error, "RPC Timeout");
    CHECK(r->conn == NULL);

    /* ---- the action form */
    resp = testkit_run_action_json(apps[0], "connectionApplyTest",
                                   json_pack("{s:s, s:s, s:s}", "connectionId", id, "method", "set", "args",
                                             "[\"auth\", \"yes\"]"));
    CHECK_EQ_STR(chat_text(json_object_get(json_object_get(resp, "connection"), "auth")), "\"yes\"");
    json_decref(resp);
    resp = testkit_run_action(apps[0], "connectionApplyTest", "{\"connectionId\": \"nobody\"}");
    CHECK_EQ_STR(chat_text(json_object_get(resp, "error")), "\"RPC Timeout\"");
    json_decref(resp);

    /* ---- destroy */
    d = testkit_connection_new(apps[0]);
    snprintf(bid, sizeof(bid), "%s", d->id);
    r = APPLY(bid, "set", "[\"x\", [1]]");
    r = APPLY(bid, "destroy", "[]");
    CHECK_EQ_INT(r->status, 0);
    CHECK_EQ_STR(field_text(r->conn, "destroyed"), "true");
    CHECK_EQ_STR(field_text(r->conn, "x"), "[1]");
    CHECK(conn_find(apps[0], bid) == NULL);
    r = APPLY(bid, NULL, NULL);
    CHECK_EQ_STR(r->error, "RPC Timeout");
    /* quit through verbs destroys too */
    d = testkit_connection_new(apps[0]);
    snprintf(bid, sizeof(bid), "%s", d->id);
    r = APPLY(bid, "verbs", "[\"quit\"]");
    CHECK_EQ_STR(field_text(r->conn, "destroyed"), "true");
    CHECK(conn_find(apps[0], bid) == NULL);

    msgs = testkit_messages(c);
    CHECK(json_array_size(msgs) >= 5);
    CHECK_EQ_INT(testkit_app_free(apps[0]), 0);

    /* ---- two apps on one redis-server: apply reaches the other's
     * connection, and only its holder answers */
    if (!test_redis_available() || !test_redis_start(&redis_srv, 0)) {
        printf("not ok - redis-server missing or did not start (make test installs it)\n");
        apply_reset(&res);
        return 1;
    }
    o.redis_port = redis_srv.port;
    o.rpc_timeout = 500;
    apps[0] = chat_app_new(&o);
    apps[1] = chat_app_new(&o);
    napps = 2;
    b = testkit_connection_new(apps[1]);
    snprintf(bid, sizeof(bid), "%s", b->id);
    for (n = 0; n < 200; n++) { /* both subscribed */
        char *subs = test_redis_cli(&redis_srv, "PUBSUB NUMSUB actionhero");
        bool both = subs && strstr(subs, "\n2") != NULL;

        free(subs);
        if (both)
            break;
        chat_run_for(apps, napps, 10);
    }
    r = APPLY(bid, "sendMessage", "{\"across\":true}");
    CHECK_EQ_INT(r->status, 0);
    CHECK_EQ_STR(json_string_value(json_object_get(r->conn, "id")), bid);
    CHECK_EQ_STR(chat_text(chat_last_msg(b)), "{\"across\":true}");
    r = APPLY(bid, "set", "[\"k\", \"v\"]");
    CHECK_EQ_STR(chat_text(json_object_get(b->props, "k")), "\"v\"");
    r = APPLY(bid, "verbs", "[\"roomAdd\", \"otherRoom\"]");
    CHECK_EQ_STR(field_text(r->conn, "rooms"), "[\"otherRoom\"]");
    r = APPLY(bid, "destroy", "[]");
    CHECK_EQ_STR(field_text(r->conn, "destroyed"), "true");
    r = APPLY(bid, NULL, NULL);
    CHECK_EQ_STR(r->error, "RPC Timeout");
    CHECK_EQ_INT(testkit_app_free(apps[1]), 0);
    CHECK_EQ_INT(testkit_app_free(apps[0]), 0);
    test_redis_cleanup(&redis_srv);
    apply_reset(&res);
    return check_done();
}
