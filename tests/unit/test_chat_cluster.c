/*
 * test_chat_cluster.c - chat across servers: three apps in this process,
 * each on its own loop, sharing one private redis-server (the Redis
 * backend of store.h).  A and B share a serverToken (one cluster); C has
 * another (a different cluster on the same Redis: same rooms, none of the
 * messages).
 *
 *   - a message said on A reaches B's members (and A's own), not C's;
 *   - roomStatus on any server lists the members of every server;
 *   - addMember / removeMember of a connection held by another server go
 *     through RPC (doCluster) and answer true, or the remote error ...
 *     which Actionhero never sends, so the caller gets RPC Timeout;
 *   - destroy on A removes B's members (RPC, the room deleted once B
 *     answered: a Node receiver must still find the room), and a member
 *     whose server is gone delays the destroy by one rpcTimeout at most;
 *   - B's connection closing removes its member entries.
 */
#include "chat_testlib.h"

static struct chat_res res;
static struct test_redis redis_srv;
static ah_app_t *apps[3];

#define A apps[0]
#define B apps[1]
#define C apps[2]

static void configure_other_token(ah_app_t *app, void *arg)
{
    chat_configure(app, arg);
    testkit_config_set(app, "general.serverToken", json_string("another-cluster"));
}

static long long members(ah_app_t *app, const char *room)
{
    CALLN(apps, 3, &res, ah_chat_room_status(app, room, chat_res_cb, &res));
    return json_integer_value(json_object_get(res.result, "membersCount"));
}

int main(void)
{
    struct chat_app_opts o = {0};
    ah_connection_t *a, *b, *c;
    json_t *msg, *m;
    size_t na, nb, nc;
    char bid[96];

    setenv("LOG_LEVEL", "emerg", 0);
    if (!test_redis_available()) {
        printf("not ok - redis-server missing (make test installs it)\n");
        return 1;
    }
    if (!test_redis_start(&redis_srv, 0)) {
        printf("not ok - redis-server did not start\n");
        return 1;
    }
    o.redis_port = redis_srv.port;
    o.rpc_timeout = 500;
    A = chat_app_new(&o);
    B = chat_app_new(&o);
    C = testkit_app_new_with(configure_other_token, &o);

    a = testkit_connection_new(A);
    b = testkit_connection_new(B);
    c = testkit_connection_new(C);
    snprintf(bid, sizeof(bid), "%s", b->id);

    /* rooms are shared by everyone on the Redis */
    CALLN(apps, 3, &res, ah_chat_add(A, "crossRoom", chat_res_cb, &res));
    CHECK(res.error == NULL);
    CALLN(apps, 3, &res, ah_chat_exists(C, "crossRoom", chat_res_cb, &res));
    CHECK(json_is_true(res.result));

    /* join, each on its own server */
    CALLN(apps, 3, &res, ah_chat_add_member(A, a->id, "crossRoom", chat_res_cb, &res));
    CHECK_EQ_STR(chat_text(res.result), "true");
    CALLN(apps, 3, &res, ah_chat_add_member(B, b->id, "crossRoom", chat_res_cb, &res));
    CHECK_EQ_STR(chat_text(res.result), "true");
    CALLN(apps, 3, &res, ah_chat_add_member(C, c->id, "crossRoom", chat_res_cb, &res));
    CHECK_EQ_STR(chat_text(res.result), "true");
    CHECK_EQ_INT(members(A, "crossRoom"), 3);
    CHECK_EQ_INT(members(B, "crossRoom"), 3);
    CALLN(apps, 3, &res, ah_chat_room_status(A, "crossRoom", chat_res_cb, &res));
    CHECK(json_object_get(json_object_get(res.result, "members"), b->id) != NULL);

    /* a says; a and b hear it, c (other cluster) does not */
    na = chat_msg_count(a);
    nb = chat_msg_count(b);
    nc = chat_msg_count(c);
    msg = json_string("across servers");
    CALLN(apps, 3, &res, ah_chat_broadcast(A, a, "crossRoom", msg, chat_res_cb, &res));
    json_decref(msg);
    CHECK(res.error == NULL);
    CHECK(chat_wait_msgs(apps, 3, b, nb + 1));
    CHECK(chat_wait_msgs(apps, 3, a, na + 1));
    m = chat_last_msg(b);
    CHECK_EQ_STR(json_string_value(json_object_get(m, "message")), "across servers");
    CHECK_EQ_STR(json_string_value(json_object_get(m, "from")), a->id);
    CHECK_EQ_STR(json_string_value(json_object_get(m, "room")), "crossRoom");
    chat_run_for(apps, 3, 100);
    CHECK_EQ_INT(chat_msg_count(c), nc);
    CHECK_EQ_INT(chat_msg_count(b), nb + 1);

    /* remote membership through RPC: A acts on B's connection */
    CALLN(apps, 3, &res, ah_chat_add_member(A, b->id, "defaultRoom", chat_res_cb, &res));
    CHECK_EQ_STR(res.error ? res.error : "(no error)", "(no error)");
    CHECK_EQ_STR(chat_text(res.result), "true");
    CHECK_EQ_STR(chat_text(b->rooms), "[\"crossRoom\",\"defaultRoom\"]");
    /* a remote failure is never answered (as in Actionhero) */
    CALLN(apps, 3, &res, ah_chat_add_member(A, b->id, "defaultRoom", chat_res_cb, &res));
    CHECK_EQ_STR(res.error, "RPC Timeout");
    CALLN(apps, 3, &res, ah_chat_remove_member(A, b->id, "defaultRoom", true, chat_res_cb, &res));
    CHECK_EQ_STR(chat_text(res.result), "true");
    CHECK_EQ_STR(chat_text(b->rooms), "[\"crossRoom\"]");
    /* C is another cluster: its RPC does not reach B */
    CALLN(apps, 3, &res, ah_chat_add_member(C, b->id, "defaultRoom", chat_res_cb, &res));
    CHECK_EQ_STR(res.error, "RPC Timeout");
    CHECK_EQ_STR(chat_text(b->rooms), "[\"crossRoom\"]");

    /* destroy on A: B's member is removed by RPC */
    CALLN(apps, 3, &res, ah_chat_add(A, "doomedRoom", chat_res_cb, &res));
    CALLN(apps, 3, &res, ah_chat_add_member(B, b->id, "doomedRoom", chat_res_cb, &res));
    CALLN(apps, 3, &res, ah_chat_add_member(A, a->id, "doomedRoom", chat_res_cb, &res));
    CALLN(apps, 3, &res, ah_chat_destroy(A, "doomedRoom", chat_res_cb, &res));
    CHECK(res.error == NULL);
    chat_run_for(apps, 3, 100);
    CHECK_EQ_STR(chat_text(a->rooms), "[\"crossRoom\"]");
    CHECK_EQ_STR(chat_text(b->rooms), "[\"crossRoom\"]");
    {
        char *out = test_redis_cli(&redis_srv, "EXISTS actionhero:chatRoom:members:doomedRoom");

        CHECK_EQ_STR(out, "0");
        free(out);
        out = test_redis_cli(&redis_srv, "SISMEMBER actionhero:chatRoom:rooms doomedRoom");
        CHECK_EQ_STR(out, "0");
        free(out);
    }

    /* B's connection closes: its entry goes; A sees it */
    ah_connection_destroy(b);
    chat_run_for(apps, 3, 50);
    CHECK_EQ_INT(members(A, "crossRoom"), 2);
    CALLN(apps, 3, &res, ah_chat_room_status(A, "crossRoom", chat_res_cb, &res));
    CHECK(json_object_get(json_object_get(res.result, "members"), bid) == NULL);
    /* and RPCs for it now time out */
    CALLN(apps, 3, &res, ah_chat_remove_member(A, bid, "crossRoom", true, chat_res_cb, &res));
    CHECK_EQ_STR(res.error, "RPC Timeout");

    /* destroy with a stale member (its server is gone): done after one
     * rpcTimeout, the room deleted */
    CALLN(apps, 3, &res, ah_chat_add(A, "staleRoom", chat_res_cb, &res));
    {
        char *out = test_redis_cli(&redis_srv,
                                   "HSET actionhero:chatRoom:members:staleRoom gone-1 '{}' gone-2 '{}'");
        free(out);
        CALLN(apps, 3, &res, ah_chat_destroy(A, "staleRoom", chat_res_cb, &res));
        CHECK(res.error == NULL);
        out = test_redis_cli(&redis_srv, "EXISTS actionhero:chatRoom:members:staleRoom");
        CHECK_EQ_STR(out, "0");
        free(out);
        out = test_redis_cli(&redis_srv, "SISMEMBER actionhero:chatRoom:rooms staleRoom");
        CHECK_EQ_STR(out, "0");
        free(out);
    }

    ah_connection_destroy(a);
    ah_connection_destroy(c);
    chat_res_reset(&res);
    CHECK_EQ_INT(testkit_app_free(C), 0);
    CHECK_EQ_INT(testkit_app_free(B), 0);
    CHECK_EQ_INT(testkit_app_free(A), 0);
    test_redis_cleanup(&redis_srv);
    return check_done();
}
