/*
 * test_store_redis_down.c - the Redis backend when Redis goes away: commands
 * fail fast with AH_EUNAVAIL ("redis unavailable"), nothing hangs, and
 * everything (commands, the subscription) works again when Redis is back on
 * the same port.  Also: Redis down at start, and a hung Redis (SIGSTOP),
 * which the command timeout turns into the same fast failure.
 */
#include "store_testlib.h"

static uv_loop_t loop_;
static uv_loop_t *loop = &loop_;
static struct tres t;

#define C(...) TCMD(loop, s, &t, __VA_ARGS__)

struct watch {
    int ups, downs;
    bool last;
};

static void on_watch(struct store *s, bool ready, void *arg)
{
    struct watch *w = arg;

    (void)s;
    if (ready)
        w->ups++;
    else
        w->downs++;
    w->last = ready;
}

struct msgs {
    int n;
    char last[64];
};

static void on_msg(const char *channel, const char *msg, size_t len, void *arg)
{
    struct msgs *m = arg;

    (void)channel;
    m->n++;
    snprintf(m->last, sizeof(m->last), "%.*s", (int)len, msg);
}

/* Wait until the store says ready (Redis back and handshaken). */
static bool wait_ready(struct store *s, uint64_t ms)
{
    uint64_t deadline = core_mono_ms() + ms;

    while (!store_ready(s, STORE_CLIENT) && core_mono_ms() < deadline)
        test_run_for(loop, 10);
    return store_ready(s, STORE_CLIENT);
}

/* Publish from outside (redis-cli) until our subscriber hears it: the
 * subscriber reconnects on its own schedule. */
static bool hear(struct test_redis *r, struct msgs *m, const char *text)
{
    char args[128];
    int i;

    snprintf(args, sizeof(args), "publish t:chan %s", text);
    for (i = 0; i < 100; i++) {
        free(test_redis_cli(r, args));
        test_run_for(loop, 30);
        if (m->n > 0 && strcmp(m->last, text) == 0)
            return true;
    }
    return false;
}

static void redis_goes_away(struct test_redis *r)
{
    struct watch w = {0, 0, false};
    struct msgs m = {0, ""};
    struct store *s = test_store(loop, STORE_REDIS, r->port);
    int i, ok_fast = 0, before = check_failed;

    store_watch(s, on_watch, &w);
    tres_reset(&t);
    tres_wait(loop, &t, store_subscribe(s, "t:chan", on_msg, &m, tres_cb, &t), "subscribe");
    CHECK_EQ_INT(t.status, 0);
    CHECK_STATUS(C("SET", "t:k", "before"), "OK");
    CHECK(hear(r, &m, "one"));

    /* Redis stops: every command fails with AH_EUNAVAIL, none hangs */
    test_redis_stop(r);
    for (i = 0; i < 5; i++) {
        const struct store_reply *rep = C("GET", "t:k");

        CHECK(rep == NULL);
        CHECK_EQ_INT(t.status, AH_EUNAVAIL);
        if (t.status == AH_EUNAVAIL)
            ok_fast++;
    }
    CHECK_EQ_STR(store_strerror(t.status, t.r), "redis unavailable");
    CHECK(!store_ready(s, STORE_CLIENT));
    CHECK(!store_ready(s, STORE_TASKS));
    test_run_until(loop, &(bool){false}, 0);
    CHECK_EQ_INT(w.downs >= 1, 1);
    CHECK(!w.last);
    /* batches, scripts and publishes fail the same way */
    {
        struct store_batch b = STORE_BATCH_INIT;

        store_batch_add(&b, "SET", "t:x", "1", NULL);
        tres_reset(&t);
        tres_wait(loop, &t, store_multi(s, STORE_CLIENT, &b, tres_cb, &t), "multi while down");
        CHECK_EQ_INT(t.status, AH_EUNAVAIL);
        tres_reset(&t);
        tres_wait(loop, &t, store_pipeline(s, STORE_TASKS, &b, tres_cb, &t), "pipeline while down");
        CHECK_EQ_INT(t.status, AH_EUNAVAIL);
        store_batch_release(&b);
        tres_reset(&t);
        tres_wait(loop, &t, store_publish(s, "t:chan", "x", 1, tres_cb, &t), "publish while down");
        CHECK_EQ_INT(t.status, AH_EUNAVAIL);
    }
    /* the loop keeps running (other work is not blocked) while it retries */
    test_run_for(loop, 200);
    CHECK_EQ_INT(C("GET", "t:k") == NULL, 1);
    CHECK_EQ_INT(t.status, AH_EUNAVAIL);

    /* Redis is back on the same port (empty: no persistence) */
    CHECK(test_redis_start(r, r->port));
    CHECK(wait_ready(s, 5000));
    CHECK(w.last);
    CHECK_EQ_INT(w.ups >= 1, 1);
    CHECK_NIL(C("GET", "t:k"));
    CHECK_STATUS(C("SET", "t:k", "after"), "OK");
    CHECK_STR(C("GET", "t:k"), "after");
    /* the subscription was made again */
    CHECK(hear(r, &m, "two"));
    printf("%s - commands fail fast while Redis is down and work again when it is back\n",
           ok_fast == 5 && check_failed == before ? "ok" : "not ok");
    test_store_close(loop, s);
}

static void redis_down_at_start(struct test_redis *r)
{
    struct store_config cfg;
    struct store *s;
    int before = check_failed;

    test_redis_stop(r);
    store_config_defaults(&cfg);
    cfg.kind = STORE_REDIS;
    cfg.port = r->port;
    cfg.retry_first = 50;
    cfg.retry_step = 10;
    cfg.retry_max = 100;
    s = store_new(loop, &cfg);
    CHECK_EQ_INT(store_open(s), 0);
    CHECK_EQ_INT(store_wait(s, 3000), AH_EUNAVAIL); /* refused: settles at once */
    CHECK(C("PING") == NULL);
    CHECK_EQ_INT(t.status, AH_EUNAVAIL);
    CHECK(test_redis_start(r, r->port));
    CHECK(wait_ready(s, 5000));
    CHECK_STATUS(C("PING"), "PONG");
    test_store_close(loop, s);
    store_config_release(&cfg);
    printf("%s - redis down at start: the store catches up\n", check_failed == before ? "ok" : "not ok");
}

/* A Redis that accepts but never answers: the command timeout drops the
 * connection, the command fails with AH_EUNAVAIL instead of hanging. */
static void redis_hangs(struct test_redis *r)
{
    struct store_config cfg;
    struct store *s;
    int before = check_failed;

    store_config_defaults(&cfg);
    cfg.kind = STORE_REDIS;
    cfg.port = r->port;
    cfg.retry_first = 50;
    cfg.retry_step = 10;
    cfg.retry_max = 100;
    cfg.command_timeout = 300;
    cfg.connect_timeout = 300;
    s = store_new(loop, &cfg);
    CHECK_EQ_INT(store_open(s), 0);
    CHECK_EQ_INT(store_wait(s, 3000), 0);
    CHECK_STATUS(C("SET", "t:h", "1"), "OK");
    kill(r->pid, SIGSTOP);
    CHECK(C("GET", "t:h") == NULL);
    CHECK_EQ_INT(t.status, AH_EUNAVAIL);
    kill(r->pid, SIGCONT);
    CHECK(wait_ready(s, 5000));
    CHECK_STR(C("GET", "t:h"), "1");
    test_store_close(loop, s);
    store_config_release(&cfg);
    printf("%s - a hung redis turns into AH_EUNAVAIL after redis.commandTimeout\n",
           check_failed == before ? "ok" : "not ok");
}

/* Unreachable host name: resolution failure is reported and retried, not
 * fatal. */
static void bad_host(void)
{
    struct store_config cfg;
    struct store *s;

    store_config_defaults(&cfg);
    cfg.kind = STORE_REDIS;
    free(cfg.host);
    cfg.host = xstrdup("nonexistent.invalid");
    cfg.retry_first = 50;
    cfg.connect_timeout = 2000;
    s = store_new(loop, &cfg);
    CHECK_EQ_INT(store_open(s), 0);
    CHECK_EQ_INT(store_wait(s, 5000), AH_EUNAVAIL);
    CHECK(C("PING") == NULL);
    CHECK_EQ_INT(t.status, AH_EUNAVAIL);
    test_store_close(loop, s);
    store_config_release(&cfg);
}

int main(void)
{
    struct test_redis r = {0};

    core_init();
    uv_loop_init(loop);
    if (!test_redis_available()) {
        printf("not ok - redis-server is not installed: the Redis-down tests did not run "
               "(make test installs it)\n");
        return 1;
    }
    if (!test_redis_start(&r, 0)) {
        printf("not ok - could not start redis-server\n");
        return 1;
    }
    redis_goes_away(&r);
    redis_down_at_start(&r);
    redis_hangs(&r);
    bad_host();
    test_redis_cleanup(&r);
    tres_reset(&t);
    test_loop_done(loop);
    return check_done();
}
