/*
 * test_chat_api.c - the chatRoom API of chat.md §2-§5 through the C
 * functions of include/ah/chat.h, on the memory backend and then on a
 * private redis-server, with the raw keys and values checked through the
 * store (and through redis-cli on Redis).
 */
#include "chat_testlib.h"

static struct chat_res res;
static struct test_redis redis_srv;
static bool on_redis;

#define OK_RESULT(expect_text)                                        \
    do {                                                              \
        CHECK_EQ_STR(res.error ? res.error : "(no error)", "(no error)"); \
        CHECK_EQ_STR(chat_text(res.result), (expect_text));           \
    } while (0)
#define ERR_RESULT(expect_error)                                      \
    do {                                                              \
        CHECK_EQ_STR(res.error, (expect_error));                      \
        CHECK(res.result == NULL);                                    \
    } while (0)

/* ------------------------------------------------------------- raw store */

static struct tres tr;

static const struct store_reply *raw(ah_app_t *app, int argc, const char *const *argv)
{
    struct store *s = store_get(app);

    tres_reset(&tr);
    if (!tres_wait(app->loop, &tr, store_commandv(s, STORE_CLIENT, argc, argv, NULL, tres_cb, &tr), argv[0]))
        return NULL;
    return tr.r;
}
#define RAW(app, ...) \
    raw((app), (int)(sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *)), (const char *const[]){__VA_ARGS__})

/* redis-cli output, only on Redis (free it) */
static char *cli(const char *args)
{
    return on_redis ? test_redis_cli(&redis_srv, args) : NULL;
}

/* ------------------------------------------------------------- rooms */

static void test_rooms(ah_app_t *app)
{
    const struct store_reply *r;

    /* starting rooms, created at boot */
    CALL(app, &res, ah_chat_list(app, chat_res_cb, &res));
    CHECK_EQ_STR(chat_sorted(res.result), "[\"defaultRoom\",\"otherRoom\"]");
    r = RAW(app, "SMEMBERS", "actionhero:chatRoom:rooms");
    CHECK_ARR(r, 2);

    CALL(app, &res, ah_chat_exists(app, "defaultRoom", chat_res_cb, &res));
    OK_RESULT("true");
    CALL(app, &res, ah_chat_exists(app, "nope", chat_res_cb, &res));
    OK_RESULT("false");
    CALL(app, &res, ah_chat_exists(app, NULL, chat_res_cb, &res));
    OK_RESULT("false");

    CALL(app, &res, ah_chat_add(app, "newRoom", chat_res_cb, &res));
    OK_RESULT("1");
    CALL(app, &res, ah_chat_add(app, "newRoom", chat_res_cb, &res));
    ERR_RESULT("room exists");
    CHECK_EQ_INT(ah_chat_add(app, NULL, chat_res_cb, &res), AH_EINVAL);
    CHECK_EQ_INT(ah_chat_add(NULL, "x", chat_res_cb, &res), AH_EINVAL);
    CHECK_INT(RAW(app, "SISMEMBER", "actionhero:chatRoom:rooms", "newRoom"), 1);
    if (on_redis) {
        char *out = cli("SISMEMBER actionhero:chatRoom:rooms newRoom");

        CHECK_EQ_STR(out, "1");
        free(out);
    }

    CALL(app, &res, ah_chat_room_status(app, NULL, chat_res_cb, &res));
    ERR_RESULT("a room is required");
    CALL(app, &res, ah_chat_room_status(app, "", chat_res_cb, &res));
    ERR_RESULT("a room is required");
    CALL(app, &res, ah_chat_room_status(app, "nope", chat_res_cb, &res));
    ERR_RESULT("room does not exist");
    CALL(app, &res, ah_chat_room_status(app, "newRoom", chat_res_cb, &res));
    OK_RESULT("{\"room\":\"newRoom\",\"members\":{},\"membersCount\":0}");

    /* a room name with spaces and non-ASCII, as a key suffix */
    CALL(app, &res, ah_chat_add(app, "salle é 1", chat_res_cb, &res));
    OK_RESULT("1");
    CALL(app, &res, ah_chat_exists(app, "salle é 1", chat_res_cb, &res));
    OK_RESULT("true");
}

/* ------------------------------------------------------------- members */

static void test_members(ah_app_t *app)
{
    ah_connection_t *c1 = testkit_connection_new(app), *c2 = testkit_connection_new(app);
    json_t *m, *details;
    const struct store_reply *r;
    char key[] = "actionhero:chatRoom:members:newRoom";
    uint64_t before = core_now_ms();
    char *out, cmd[256];

    CALL(app, &res, ah_chat_add_member(app, c1->id, "newRoom", chat_res_cb, &res));
    OK_RESULT("true");
    CHECK_EQ_STR(chat_text(c1->rooms), "[\"newRoom\"]");

    /* the member entry: Actionhero's JSON, this key order */
    r = RAW(app, "HGET", key, c1->id);
    CHECK(r && r->type == STORE_REPLY_STR);
    details = r && r->str ? json_loads(r->str, 0, NULL) : NULL;
    CHECK(json_is_object(details));
    CHECK_EQ_STR(json_string_value(json_object_get(details, "id")), c1->id);
    CHECK(json_integer_value(json_object_get(details, "joinedAt")) >= (json_int_t)before);
    CHECK_EQ_STR(json_string_value(json_object_get(details, "host")), app->id);
    {
        const char *k[3];
        size_t i = 0;
        const char *kk;
        json_t *vv;

        json_object_foreach(details, kk, vv) {
            if (i < 3)
                k[i] = kk;
            i++;
        }
        CHECK_EQ_INT(i, 3);
        if (i == 3) {
            CHECK_EQ_STR(k[0], "id");
            CHECK_EQ_STR(k[1], "joinedAt");
            CHECK_EQ_STR(k[2], "host");
        }
    }
    if (on_redis) {
        snprintf(cmd, sizeof(cmd), "HGET %s %s", key, c1->id);
        out = cli(cmd);
        CHECK(out && strncmp(out, "{\"id\":\"", 7) == 0 && strstr(out, "\",\"joinedAt\":") &&
              strstr(out, ",\"host\":\""));
        free(out);
    }

    /* roomStatus: sanitized to {id, joinedAt} */
    CALL(app, &res, ah_chat_room_status(app, "newRoom", chat_res_cb, &res));
    m = json_object_get(json_object_get(res.result, "members"), c1->id);
    CHECK_EQ_STR(json_string_value(json_object_get(m, "id")), c1->id);
    CHECK(json_equal(json_object_get(m, "joinedAt"), json_object_get(details, "joinedAt")));
    CHECK_EQ_INT(json_object_size(m), 2);
    CHECK_EQ_INT(json_integer_value(json_object_get(res.result, "membersCount")), 1);
    CHECK(res.result && strncmp(chat_text(res.result), "{\"room\":\"newRoom\",\"members\":{", 29) == 0);
    json_decref(details);

    /* errors */
    CALL(app, &res, ah_chat_add_member(app, c1->id, "newRoom", chat_res_cb, &res));
    ERR_RESULT("connection already in this room (newRoom)");
    CALL(app, &res, ah_chat_add_member(app, c1->id, "nope", chat_res_cb, &res));
    ERR_RESULT("room does not exist");
    CALL(app, &res, ah_chat_add_member(app, c1->id, NULL, chat_res_cb, &res));
    ERR_RESULT("room does not exist");
    CHECK_EQ_STR(chat_text(c1->rooms), "[\"newRoom\"]");
    CALL(app, &res, ah_chat_remove_member(app, c1->id, "otherRoom", true, chat_res_cb, &res));
    ERR_RESULT("connection not in this room (otherRoom)");
    CALL(app, &res, ah_chat_remove_member(app, c1->id, NULL, true, chat_res_cb, &res));
    ERR_RESULT("connection not in this room (undefined)");
    CHECK_EQ_INT(ah_chat_add_member(app, NULL, "newRoom", chat_res_cb, &res), AH_EINVAL);

    /* join order is kept */
    CALL(app, &res, ah_chat_add_member(app, c1->id, "otherRoom", chat_res_cb, &res));
    CALL(app, &res, ah_chat_add_member(app, c1->id, "defaultRoom", chat_res_cb, &res));
    CHECK_EQ_STR(chat_text(c1->rooms), "[\"newRoom\",\"otherRoom\",\"defaultRoom\"]");
    CALL(app, &res, ah_chat_remove_member(app, c1->id, "otherRoom", true, chat_res_cb, &res));
    OK_RESULT("true");
    CHECK_EQ_STR(chat_text(c1->rooms), "[\"newRoom\",\"defaultRoom\"]");
    CHECK_INT(RAW(app, "HEXISTS", "actionhero:chatRoom:members:otherRoom", c1->id), 0);
    /* the last member leaving removes the hash */
    CHECK_INT(RAW(app, "EXISTS", "actionhero:chatRoom:members:otherRoom"), 0);

    /* two members */
    CALL(app, &res, ah_chat_add_member(app, c2->id, "newRoom", chat_res_cb, &res));
    CALL(app, &res, ah_chat_room_status(app, "newRoom", chat_res_cb, &res));
    CHECK_EQ_INT(json_integer_value(json_object_get(res.result, "membersCount")), 2);
    CHECK(json_object_get(json_object_get(res.result, "members"), c2->id) != NULL);
    CHECK_INT(RAW(app, "HLEN", key), 2);

    /* a connection that is not chat-capable can be made a member */
    {
        static const ah_server_type_t quiet = {.name = "quiet", .can_chat = false};
        struct conn_init init = {.remote_ip = "1.2.3.4", .remote_port = "1"};
        ah_connection_t *q = conn_new(app, &quiet, &init);
        char qid[96];

        snprintf(qid, sizeof(qid), "%s", q->id);
        CALL(app, &res, ah_chat_add_member(app, q->id, "defaultRoom", chat_res_cb, &res));
        OK_RESULT("true");
        CHECK_INT(RAW(app, "HEXISTS", "actionhero:chatRoom:members:defaultRoom", qid), 1);
        /* ... and its destroy removes it (Actionhero leaves it behind) */
        ah_connection_destroy(q);
        chat_run_for(&app, 1, 5);
        CHECK_INT(RAW(app, "HEXISTS", "actionhero:chatRoom:members:defaultRoom", qid), 0);
    }

    /* destroy leaves every room */
    snprintf(cmd, sizeof(cmd), "%s", c2->id);
    ah_connection_destroy(c2);
    chat_run_for(&app, 1, 5);
    CHECK_INT(RAW(app, "HEXISTS", key, cmd), 0);
    CALL(app, &res, ah_chat_room_status(app, "newRoom", chat_res_cb, &res));
    CHECK_EQ_INT(json_integer_value(json_object_get(res.result, "membersCount")), 1);

    /* leave c1 in newRoom and defaultRoom for the next tests */
    CHECK_EQ_STR(chat_text(c1->rooms), "[\"newRoom\",\"defaultRoom\"]");
}

/* ------------------------------------------------------------- remote ids */

static struct {
    bool done;
    int calls;
    int status;
    json_t *response;
    char *error;
} rpc;

static void rpc_reset(void)
{
    json_decref(rpc.response);
    free(rpc.error);
    memset(&rpc, 0, sizeof(rpc));
}

static void rpc_cb(ah_app_t *app, int status, json_t *response, const char *error, void *arg)
{
    (void)app;
    (void)arg;
    rpc.calls++;
    rpc.done = true;
    rpc.status = status;
    rpc.response = response ? json_incref(response) : NULL;
    rpc.error = error ? xstrdup(error) : NULL;
}

static void test_remote(ah_app_t *app)
{
    ah_connection_t *c = testkit_connection_new(app);
    json_t *args;

    /* nobody holds this id: the RPC times out (rpcTimeout 300 ms here) */
    CALL(app, &res, ah_chat_add_member(app, "not-a-connection", "defaultRoom", chat_res_cb, &res));
    ERR_RESULT("RPC Timeout");
    CALL(app, &res, ah_chat_remove_member(app, "not-a-connection", "defaultRoom", true, chat_res_cb, &res));
    ERR_RESULT("RPC Timeout");
    /* without waiting: the number of servers that got the request (us) */
    CALL(app, &res, ah_chat_remove_member(app, "not-a-connection", "defaultRoom", false, chat_res_cb, &res));
    OK_RESULT("1");

    /* The RPC path end to end: the `do` handler finds the connection
     * here, runs api.chatRoom.addMember and answers true. */
    rpc_reset();
    args = json_pack("[s, s]", c->id, "otherRoom");
    CHECK_EQ_INT(cluster_do(app, "api.chatRoom.addMember", args, c->id, true, rpc_cb, &rpc), 0);
    CHECK(chat_run_until(&app, 1, &rpc.done, 5000));
    CHECK_EQ_INT(rpc.status, 0);
    CHECK_EQ_STR(chat_text(rpc.response), "true");
    CHECK_EQ_STR(chat_text(c->rooms), "[\"otherRoom\"]");
    /* a failing method sends no answer: the caller times out */
    rpc_reset();
    args = json_pack("[s, s]", c->id, "otherRoom");
    CHECK_EQ_INT(cluster_do(app, "api.chatRoom.addMember", args, c->id, true, rpc_cb, &rpc), 0);
    CHECK(chat_run_until(&app, 1, &rpc.done, 5000));
    CHECK_EQ_STR(rpc.error, "RPC Timeout");
    /* api.log answers without a response */
    rpc_reset();
    CHECK_EQ_INT(cluster_do(app, "api.log", json_pack("[s, s]", "hello from a test", "debug"), NULL, true, rpc_cb,
                            &rpc),
                 0);
    CHECK(chat_run_until(&app, 1, &rpc.done, 5000));
    CHECK_EQ_INT(rpc.status, 0);
    CHECK(rpc.error == NULL);
    CHECK(rpc.response == NULL);
    /* unknown methods and paths outside api: no answer */
    rpc_reset();
    CHECK_EQ_INT(cluster_do(app, "api.chatRoom.nope", NULL, NULL, true, rpc_cb, &rpc), 0);
    CHECK(chat_run_until(&app, 1, &rpc.done, 5000));
    CHECK_EQ_STR(rpc.error, "RPC Timeout");
    rpc_reset();
    CHECK_EQ_INT(cluster_do(app, "process.exit", NULL, NULL, true, rpc_cb, &rpc), 0);
    CHECK(chat_run_until(&app, 1, &rpc.done, 5000));
    CHECK_EQ_STR(rpc.error, "RPC Timeout");
    CHECK_EQ_INT(cluster_do(app, NULL, NULL, NULL, true, rpc_cb, &rpc), AH_EINVAL);
    rpc_reset();
    CALL(app, &res, ah_chat_remove_member(app, c->id, "otherRoom", true, chat_res_cb, &res));
    OK_RESULT("true");
    ah_connection_destroy(c);
}

/* ------------------------------------------------------------- broadcast */

static void test_broadcast(ah_app_t *app)
{
    ah_connection_t *a = testkit_connection_new(app), *b = testkit_connection_new(app);
    ah_connection_t *outsider = testkit_connection_new(app);
    size_t na, nb, no;
    json_t *msg, *m;
    uint64_t before;

    CALL(app, &res, ah_chat_add_member(app, a->id, "defaultRoom", chat_res_cb, &res));
    CALL(app, &res, ah_chat_add_member(app, b->id, "defaultRoom", chat_res_cb, &res));
    na = chat_msg_count(a);
    nb = chat_msg_count(b);
    no = chat_msg_count(outsider);

    /* from the server (no connection): any room, from "0" */
    before = core_now_ms();
    msg = json_string("hello from the server");
    CALL(app, &res, ah_chat_broadcast(app, NULL, "defaultRoom", msg, chat_res_cb, &res));
    json_decref(msg);
    OK_RESULT("(null)");
    CHECK(chat_wait_msgs(&app, 1, a, na + 1));
    CHECK(chat_wait_msgs(&app, 1, b, nb + 1));
    m = chat_last_msg(a);
    CHECK_EQ_STR(json_string_value(json_object_get(m, "message")), "hello from the server");
    CHECK_EQ_STR(json_string_value(json_object_get(m, "room")), "defaultRoom");
    CHECK_EQ_STR(json_string_value(json_object_get(m, "from")), "0");
    CHECK_EQ_STR(json_string_value(json_object_get(m, "context")), "user");
    CHECK(json_integer_value(json_object_get(m, "sentAt")) >= (json_int_t)before);
    {
        char *t = json_out_str(m, 0, 0, NULL);

        CHECK(t && strncmp(t, "{\"message\":\"hello from the server\",\"room\":\"defaultRoom\",\"from\":\"0\","
                              "\"context\":\"user\",\"sentAt\":",
                           89) == 0);
        free(t);
    }
    CHECK(json_equal(chat_last_msg(b), m));
    chat_run_for(&app, 1, 5);
    CHECK_EQ_INT(chat_msg_count(outsider), no);
    CHECK_EQ_INT(chat_msg_count(a), na + 1); /* exactly once */

    /* from a member: from = its id; objects arrive as objects */
    msg = json_pack("{s:i, s:[s]}", "n", 7, "list", "x");
    CALL(app, &res, ah_chat_broadcast(app, a, "defaultRoom", msg, chat_res_cb, &res));
    json_decref(msg);
    OK_RESULT("(null)");
    CHECK(chat_wait_msgs(&app, 1, b, nb + 2));
    m = chat_last_msg(b);
    CHECK_EQ_STR(chat_text(json_object_get(m, "message")), "{\"n\":7,\"list\":[\"x\"]}");
    CHECK_EQ_STR(json_string_value(json_object_get(m, "from")), a->id);
    CHECK(chat_wait_msgs(&app, 1, a, na + 2)); /* the speaker too */

    /* errors */
    msg = json_string("hi");
    CALL(app, &res, ah_chat_broadcast(app, outsider, "defaultRoom", msg, chat_res_cb, &res));
    ERR_RESULT("connection not in this room (defaultRoom)");
    CALL(app, &res, ah_chat_broadcast(app, a, "", msg, chat_res_cb, &res));
    ERR_RESULT("both room and message are required");
    CALL(app, &res, ah_chat_broadcast(app, a, NULL, msg, chat_res_cb, &res));
    ERR_RESULT("both room and message are required");
    json_decref(msg);
    {
        json_t *falsy[] = {json_string(""), json_integer(0), json_null(), json_false(), NULL};
        size_t i;

        for (i = 0; i < 5; i++) {
            CALL(app, &res, ah_chat_broadcast(app, a, "defaultRoom", falsy[i], chat_res_cb, &res));
            ERR_RESULT("both room and message are required");
            json_decref(falsy[i]);
        }
    }
    /* the room's existence is not checked for the server */
    msg = json_string("into the void");
    CALL(app, &res, ah_chat_broadcast(app, NULL, "noSuchRoom", msg, chat_res_cb, &res));
    OK_RESULT("(null)");
    json_decref(msg);
    chat_run_for(&app, 1, 5);
    CHECK_EQ_INT(chat_msg_count(outsider), no);

    ah_connection_destroy(a);
    ah_connection_destroy(b);
    ah_connection_destroy(outsider);
}

/* ------------------------------------------------------------- destroy */

static void test_destroy(ah_app_t *app)
{
    ah_connection_t *a = testkit_connection_new(app), *b = testkit_connection_new(app);
    size_t na;

    CALL(app, &res, ah_chat_add(app, "doomed", chat_res_cb, &res));
    CALL(app, &res, ah_chat_add_member(app, a->id, "doomed", chat_res_cb, &res));
    CALL(app, &res, ah_chat_add_member(app, b->id, "doomed", chat_res_cb, &res));
    CALL(app, &res, ah_chat_add_member(app, a->id, "defaultRoom", chat_res_cb, &res));
    na = chat_msg_count(a);

    CALL(app, &res, ah_chat_destroy(app, "nope", chat_res_cb, &res));
    ERR_RESULT("room does not exist");
    CALL(app, &res, ah_chat_destroy(app, NULL, chat_res_cb, &res));
    ERR_RESULT("room does not exist");

    CALL(app, &res, ah_chat_destroy(app, "doomed", chat_res_cb, &res));
    OK_RESULT("(null)");
    CHECK_EQ_STR(chat_text(a->rooms), "[\"defaultRoom\"]");
    CHECK_EQ_STR(chat_text(b->rooms), "[]");
    CALL(app, &res, ah_chat_exists(app, "doomed", chat_res_cb, &res));
    OK_RESULT("false");
    CHECK_INT(RAW(app, "EXISTS", "actionhero:chatRoom:members:doomed"), 0);
    CHECK_INT(RAW(app, "SISMEMBER", "actionhero:chatRoom:rooms", "doomed"), 0);
    /* the members heard it (in-process delivery comes before the members
     * are removed on this backend; across servers it may not) */
    chat_run_for(&app, 1, 5);
    if (!on_redis) {
        CHECK_EQ_INT(chat_msg_count(a), na + 1);
        CHECK_EQ_STR(json_string_value(json_object_get(chat_last_msg(a), "message")), "this room has been deleted");
        CHECK_EQ_STR(json_string_value(json_object_get(chat_last_msg(b), "message")), "this room has been deleted");
    }
    CALL(app, &res, ah_chat_room_status(app, "doomed", chat_res_cb, &res));
    ERR_RESULT("room does not exist");
    ah_connection_destroy(a);
    ah_connection_destroy(b);
}

/* ------------------------------------------------------------- pub/sub */

/* Messages from other servers (or other clusters) on the channel. */
static void publish_raw(ah_app_t *app, const char *text)
{
    CHECK_INT(RAW(app, "PUBLISH", "actionhero", text), 1);
}

static void test_pubsub(ah_app_t *app)
{
    ah_connection_t *a = testkit_connection_new(app);
    char text[512];
    size_t na;

    CALL(app, &res, ah_chat_add_member(app, a->id, "defaultRoom", chat_res_cb, &res));
    na = chat_msg_count(a);

    /* a Node server's message, as observed */
    publish_raw(app, "{\"messageType\":\"chat\",\"serverToken\":\"serverToken-0\",\"serverId\":\"192.0.2.2\","
                     "\"message\":\"yo\",\"sentAt\":1796300526753,\"connection\":{\"id\":\"d2a84a42\","
                     "\"room\":\"defaultRoom\"}}");
    CHECK(chat_wait_msgs(&app, 1, a, na + 1));
    CHECK_EQ_STR(chat_text(chat_last_msg(a)),
                 "{\"message\":\"yo\",\"room\":\"defaultRoom\",\"from\":\"d2a84a42\",\"context\":\"user\","
                 "\"sentAt\":1796300526753}");

    /* another cluster's token, not JSON, an unknown type, no connection */
    publish_raw(app, "{\"messageType\":\"chat\",\"serverToken\":\"other\",\"serverId\":\"x\",\"message\":\"no\","
                     "\"sentAt\":1,\"connection\":{\"id\":\"x\",\"room\":\"defaultRoom\"}}");
    publish_raw(app, "{\"messageType\":\"chat\",\"serverId\":\"x\",\"message\":\"no\",\"sentAt\":1,"
                     "\"connection\":{\"id\":\"x\",\"room\":\"defaultRoom\"}}");
    publish_raw(app, "not json at all");
    publish_raw(app, "[1,2,3]");
    publish_raw(app, "{\"messageType\":\"telepathy\",\"serverToken\":\"serverToken-0\"}");
    publish_raw(app, "{\"messageType\":\"chat\",\"serverToken\":\"serverToken-0\",\"message\":\"no\"}");
    publish_raw(app, "{\"messageType\":\"do\",\"serverToken\":\"serverToken-0\",\"messageId\":\"m\"}");
    publish_raw(app, "{\"messageType\":\"do\",\"serverToken\":\"serverToken-0\",\"method\":\"process.exit\"}");
    publish_raw(app, "{\"messageType\":\"do\",\"serverToken\":\"serverToken-0\",\"method\":\"api.nope.nope\"}");
    /* a number as room and sentAt kept as sent */
    snprintf(text, sizeof(text),
             "{\"messageType\":\"chat\",\"serverToken\":\"serverToken-0\",\"serverId\":\"x\",\"message\":\"last\","
             "\"sentAt\":2.5,\"connection\":{\"id\":\"z\",\"room\":\"defaultRoom\"}}");
    publish_raw(app, text);
    CHECK(chat_wait_msgs(&app, 1, a, na + 2));
    chat_run_for(&app, 1, 10);
    CHECK_EQ_INT(chat_msg_count(a), na + 2);
    CHECK_EQ_STR(chat_text(chat_last_msg(a)),
                 "{\"message\":\"last\",\"room\":\"defaultRoom\",\"from\":\"z\",\"context\":\"user\",\"sentAt\":2.5}");

    /* an RPC from another server moves our connection out of a room */
    snprintf(text, sizeof(text),
             "{\"messageType\":\"do\",\"serverId\":\"192.0.2.2\",\"serverToken\":\"serverToken-0\","
             "\"messageId\":\"rpc-1\",\"method\":\"api.chatRoom.removeMember\",\"connectionId\":\"%s\","
             "\"args\":[\"%s\",\"defaultRoom\"]}",
             a->id, a->id);
    publish_raw(app, text);
    chat_run_for(&app, 1, 20);
    CHECK_EQ_STR(chat_text(a->rooms), "[]");
    ah_connection_destroy(a);
}

/* ------------------------------------------------------------- limits */

static void test_limits(void)
{
    struct chat_app_opts o = {
        .max_members = 2, .max_message = 200, .max_rooms = 2, .redis_port = on_redis ? redis_srv.port : 0};
    ah_app_t *app = chat_app_new(&o);
    ah_connection_t *c[3];
    json_t *msg;
    char big[300];
    int i;

    for (i = 0; i < 3; i++)
        c[i] = testkit_connection_new(app);
    CALL(app, &res, ah_chat_add(app, "small", chat_res_cb, &res));
    if (res.error) /* left from the first app on Redis */
        CALL(app, &res, ah_chat_destroy(app, "small", chat_res_cb, &res));
    CALL(app, &res, ah_chat_add_member(app, c[0]->id, "small", chat_res_cb, &res));
    OK_RESULT("true");
    CALL(app, &res, ah_chat_add_member(app, c[1]->id, "small", chat_res_cb, &res));
    OK_RESULT("true");
    CALL(app, &res, ah_chat_add_member(app, c[2]->id, "small", chat_res_cb, &res));
    ERR_RESULT("room is full (small)");
    CHECK_EQ_STR(chat_text(c[2]->rooms), "[]");
    CALL(app, &res, ah_chat_remove_member(app, c[0]->id, "small", true, chat_res_cb, &res));
    CALL(app, &res, ah_chat_add_member(app, c[2]->id, "small", chat_res_cb, &res));
    OK_RESULT("true");

    /* rooms per connection */
    CALL(app, &res, ah_chat_add_member(app, c[2]->id, "defaultRoom", chat_res_cb, &res));
    OK_RESULT("true");
    CALL(app, &res, ah_chat_add_member(app, c[2]->id, "otherRoom", chat_res_cb, &res));
    ERR_RESULT("connection is in too many rooms (max 2)");
    CHECK_EQ_STR(chat_text(c[2]->rooms), "[\"small\",\"defaultRoom\"]");
    CALL(app, &res, ah_chat_remove_member(app, c[2]->id, "defaultRoom", true, chat_res_cb, &res));
    CALL(app, &res, ah_chat_add_member(app, c[2]->id, "otherRoom", chat_res_cb, &res));
    OK_RESULT("true");

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    msg = json_string(big);
    CALL(app, &res, ah_chat_broadcast(app, c[1], "small", msg, chat_res_cb, &res));
    ERR_RESULT("message is too large (more than 200 bytes)");
    json_decref(msg);
    /* the bound is on the published text: an object counts too */
    msg = json_pack("{s:s}", "text", big + 150);
    CALL(app, &res, ah_chat_broadcast(app, c[1], "small", msg, chat_res_cb, &res));
    ERR_RESULT("message is too large (more than 200 bytes)");
    json_decref(msg);
    msg = json_string("short");
    CALL(app, &res, ah_chat_broadcast(app, c[1], "small", msg, chat_res_cb, &res));
    OK_RESULT("(null)");
    json_decref(msg);
    CALL(app, &res, ah_chat_destroy(app, "small", chat_res_cb, &res));
    CHECK_EQ_INT(testkit_app_free(app), 0);
}

/* ------------------------------------------------------------- hooks */

static json_t *my_details(ah_app_t *app, ah_connection_t *c)
{
    json_t *d = ah_chat_default_generate_member_details(app, c);

    json_object_set_new(d, "nick", json_string("nick-of-test"));
    return d;
}

static json_t *my_sanitize(ah_app_t *app, json_t *member)
{
    json_t *o = ah_chat_default_sanitize_member_details(app, member);

    json_object_set(o, "nick", json_object_get(member, "nick"));
    return o;
}

static json_t *my_payload(ah_app_t *app, json_t *msg)
{
    json_t *p = ah_chat_default_generate_message_payload(app, msg);

    json_object_set_new(p, "server", json_string("custom"));
    return p;
}

static void test_hooks(ah_app_t *app)
{
    static const ah_chat_hooks_t hooks = {my_details, my_sanitize, my_payload};
    static const ah_chat_hooks_t none = {0};
    ah_connection_t *a = testkit_connection_new(app);
    json_t *msg, *m;
    size_t na;

    CHECK_EQ_INT(ah_chat_set_hooks(app, &none), 0);
    CHECK_EQ_INT(ah_chat_set_hooks(app, NULL), AH_EINVAL);
    CHECK_EQ_INT(ah_chat_set_hooks(app, &hooks), 0);
    CALL(app, &res, ah_chat_add_member(app, a->id, "otherRoom", chat_res_cb, &res));
    CALL(app, &res, ah_chat_room_status(app, "otherRoom", chat_res_cb, &res));
    m = json_object_get(json_object_get(res.result, "members"), a->id);
    CHECK_EQ_STR(json_string_value(json_object_get(m, "nick")), "nick-of-test");
    na = chat_msg_count(a);
    msg = json_string("custom payload");
    CALL(app, &res, ah_chat_broadcast(app, a, "otherRoom", msg, chat_res_cb, &res));
    json_decref(msg);
    CHECK(chat_wait_msgs(&app, 1, a, na + 1));
    CHECK_EQ_STR(json_string_value(json_object_get(chat_last_msg(a), "server")), "custom");
    {
        static const ah_chat_hooks_t dflt = {ah_chat_default_generate_member_details,
                                             ah_chat_default_sanitize_member_details,
                                             ah_chat_default_generate_message_payload};

        CHECK_EQ_INT(ah_chat_set_hooks(app, &dflt), 0);
    }
    ah_connection_destroy(a);
}

/* ------------------------------------------------------------- createChatRoom */

static void test_action(ah_app_t *app)
{
    json_t *r = testkit_run_action(app, "createChatRoom", "{\"name\": \"fromAction\"}");

    CHECK_EQ_STR(json_string_value(json_object_get(r, "name")), "fromAction");
    CHECK(json_is_true(json_object_get(r, "didCreate")));
    CHECK(json_object_get(r, "error") == NULL);
    json_decref(r);
    r = testkit_run_action(app, "createChatRoom", "{\"name\": \"fromAction\"}");
    CHECK(json_is_false(json_object_get(r, "didCreate")));
    json_decref(r);
    r = testkit_run_action(app, "createChatRoom", "{\"name\": 42}");
    CHECK_EQ_STR(chat_text(json_object_get(r, "name")), "42");
    CHECK(json_is_true(json_object_get(r, "didCreate")));
    json_decref(r);
    CALL(app, &res, ah_chat_exists(app, "42", chat_res_cb, &res));
    OK_RESULT("true");
    r = testkit_run_action(app, "createChatRoom", "{}");
    CHECK_EQ_STR(json_string_value(json_object_get(r, "error")), "Error: name is a required parameter for this action");
    json_decref(r);
}

/* ------------------------------------------------------------- runs */

static void suite(ah_app_t *app)
{
    test_rooms(app);
    test_members(app);
    test_remote(app);
    test_broadcast(app);
    test_destroy(app);
    test_pubsub(app);
    test_hooks(app);
    test_action(app);
}

int main(void)
{
    ah_app_t *app;

    setenv("LOG_LEVEL", "alert", 0); /* the RPC tests log expected crit lines */
    printf("# memory backend\n");
    app = chat_app_new(NULL);
    suite(app);
    CHECK_EQ_INT(testkit_app_free(app), 0);
    test_limits();

    if (!test_redis_available()) {
        printf("# redis-server is not installed: the Redis half is skipped\n");
        printf("not ok - redis-server missing (make test installs it)\n");
        check_failed++;
    } else if (!test_redis_start(&redis_srv, 0)) {
        printf("not ok - redis-server did not start\n");
        check_failed++;
    } else {
        struct chat_app_opts o = {.redis_port = redis_srv.port};

        printf("# redis backend on port %d\n", redis_srv.port);
        on_redis = true;
        app = chat_app_new(&o);
        suite(app);
        CHECK_EQ_INT(testkit_app_free(app), 0);
        test_limits();
    }
    test_redis_cleanup(&redis_srv);
    chat_res_reset(&res);
    tres_reset(&tr);
    return check_done();
}
