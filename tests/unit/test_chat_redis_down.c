/*
 * test_chat_redis_down.c - chat while Redis is away: the server boots
 * without it, chat calls fail fast with the store's error (nothing hangs),
 * and when Redis comes up the starting rooms are created and the
 * subscription works (messages are delivered again); Redis going away
 * and coming back while running does the same.
 */
#include "chat_testlib.h"

static struct chat_res res;
static struct test_redis redis_srv;

static bool store_up(ah_app_t *app, uint64_t ms)
{
    uint64_t deadline = core_mono_ms() + ms;

    while (!store_ready(store_get(app), STORE_CLIENT) && core_mono_ms() < deadline)
        chat_run_for(&app, 1, 10);
    return store_ready(store_get(app), STORE_CLIENT);
}

/* redis-cli until `args` prints `want` (the server catches up on its own
 * schedule), or a timeout. */
static bool cli_until(ah_app_t *app, const char *args, const char *want)
{
    uint64_t deadline = core_mono_ms() + 5000;
    bool ok = false;

    while (!ok && core_mono_ms() < deadline) {
        char *out = test_redis_cli(&redis_srv, args);

        ok = out && strcmp(out, want) == 0;
        free(out);
        if (!ok)
            chat_run_for(&app, 1, 20);
    }
    return ok;
}

/* say until a message is delivered: the subscriber reconnects on its own
 * schedule, a little after the command connection. */
static bool say_heard(ah_app_t *app, ah_connection_t *c, const char *text)
{
    uint64_t deadline = core_mono_ms() + 5000;

    while (core_mono_ms() < deadline) {
        size_t n = chat_msg_count(c);
        json_t *msg = json_string(text);

        CALL(app, &res, ah_chat_broadcast(app, NULL, "defaultRoom", msg, chat_res_cb, &res));
        json_decref(msg);
        chat_run_for(&app, 1, 50);
        if (chat_msg_count(c) > n)
            return true;
    }
    return false;
}

static void configure(ah_app_t *app, void *arg)
{
    chat_configure(app, arg);
    /* boot waits connectTimeout + 1 s for a Redis that is not there */
    testkit_config_set(app, "redis.connectTimeout", json_integer(200));
}

int main(void)
{
    struct chat_app_opts o = {0};
    ah_connection_t *c;
    ah_app_t *app;
    json_t *r = NULL;
    char *e = NULL;

    setenv("LOG_LEVEL", "emerg", 0);
    if (!test_redis_available()) {
        printf("not ok - redis-server missing (make test installs it)\n");
        return 1;
    }
    o.redis_port = test_free_port();
    app = testkit_app_new_with(configure, &o); /* nothing listens there yet */
    c = testkit_connection_new(app);

    /* fast failures, with the store's text */
    CHECK_EQ_INT(chat_verb_j(c, "roomAdd", "[\"defaultRoom\"]", &r, &e), -1);
    CHECK_EQ_STR(e, "Error: redis unavailable");
    free(e);
    e = NULL;
    CALL(app, &res, ah_chat_list(app, chat_res_cb, &res));
    CHECK_EQ_STR(res.error, "redis unavailable");
    {
        json_t *msg = json_string("into nowhere");

        CALL(app, &res, ah_chat_broadcast(app, NULL, "defaultRoom", msg, chat_res_cb, &res));
        CHECK_EQ_STR(res.error, "redis unavailable");
        json_decref(msg);
    }

    /* Redis arrives: the starting rooms are made, chat works */
    CHECK(test_redis_start(&redis_srv, o.redis_port));
    CHECK(store_up(app, 10000));
    CHECK(cli_until(app, "SCARD actionhero:chatRoom:rooms", "2"));
    CHECK_EQ_INT(chat_verb_j(c, "roomAdd", "[\"defaultRoom\"]", &r, &e), 0);
    CHECK(json_is_true(r));
    json_decref(r);
    r = NULL;
    CHECK(say_heard(app, c, "hello redis"));

    /* Redis goes away while running */
    test_redis_stop(&redis_srv);
    {
        json_t *msg = json_string("lost");
        uint64_t deadline = core_mono_ms() + 5000;

        /* the first command after the loss may still be in flight when the
         * connection drops: either way it fails, quickly */
        do {
            CALL(app, &res, ah_chat_broadcast(app, NULL, "defaultRoom", msg, chat_res_cb, &res));
        } while (res.error == NULL && core_mono_ms() < deadline);
        CHECK_EQ_STR(res.error, "redis unavailable");
        json_decref(msg);
    }
    CHECK_EQ_INT(chat_verb_j(c, "roomView", "[\"defaultRoom\"]", &r, &e), -1);
    CHECK_EQ_STR(e, "Error: redis unavailable");
    free(e);
    e = NULL;

    /* ... and comes back empty (no persistence here): the starting rooms
     * are made again and delivery resumes for the local member */
    CHECK(test_redis_start(&redis_srv, o.redis_port));
    CHECK(store_up(app, 10000));
    CHECK(cli_until(app, "SISMEMBER actionhero:chatRoom:rooms otherRoom", "1"));
    CHECK(say_heard(app, c, "hello again"));

    ah_connection_destroy(c);
    chat_res_reset(&res);
    CHECK_EQ_INT(testkit_app_free(app), 0);
    test_redis_cleanup(&redis_srv);
    return check_done();
}
