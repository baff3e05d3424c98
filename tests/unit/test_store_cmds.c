/*
 * test_store_cmds.c - the store's command interface, the same checks run
 * on both backends (memory, then a private redis-server), so that the
 * memory backend answers exactly as Redis does; then batches, scripts,
 * pub/sub, and the memory backend's bounds.
 */
#include "store_testlib.h"

#include "app/app.h"

static uv_loop_t loop_;
static uv_loop_t *loop = &loop_;
static struct tres t;

#define C(...) TCMD(loop, s, &t, __VA_ARGS__)

static const struct store_reply *elem(const struct store_reply *r, size_t i)
{
    return r && r->type == STORE_REPLY_ARRAY && i < r->elements ? r->element[i] : NULL;
}

static void suite_strings(struct store *s)
{
    const struct store_reply *r;

    CHECK_STATUS(C("FLUSHDB"), "OK");
    CHECK_NIL(C("GET", "t:s"));
    CHECK_STATUS(C("SET", "t:s", "v1"), "OK");
    CHECK_STR(C("GET", "t:s"), "v1");
    CHECK_NIL(C("SET", "t:s", "v2", "NX"));
    CHECK_STR(C("GET", "t:s"), "v1");
    CHECK_STATUS(C("SET", "t:s", "v2", "XX"), "OK");
    CHECK_NIL(C("SET", "t:nope", "v", "XX"));
    CHECK_INT(C("EXISTS", "t:nope"), 0);
    CHECK_STR(C("SET", "t:s", "v3", "GET"), "v2");
    CHECK_INT(C("SETNX", "t:s", "x"), 0);
    CHECK_INT(C("SETNX", "t:s2", "x"), 1);
    CHECK_INT(C("EXISTS", "t:s", "t:s2", "t:nope"), 2);
    CHECK_STATUS(C("TYPE", "t:s"), "string");
    CHECK_STATUS(C("TYPE", "t:nope"), "none");
    CHECK_INT(C("DEL", "t:s", "t:s2", "t:nope"), 2);

    /* counters */
    CHECK_INT(C("INCR", "t:n"), 1);
    CHECK_INT(C("INCRBY", "t:n", "41"), 42);
    CHECK_INT(C("DECR", "t:n"), 41);
    CHECK_INT(C("DECRBY", "t:n", "-9"), 50);
    CHECK_STR(C("GET", "t:n"), "50");
    CHECK_STATUS(C("SET", "t:n", "abc"), "OK");
    CHECK_ERR(C("INCR", "t:n"), "ERR value is not an integer or out of range");
    CHECK_STATUS(C("SET", "t:n", "9223372036854775807"), "OK");
    CHECK_ERR(C("INCR", "t:n"), "ERR increment or decrement would overflow");
    CHECK_ERR(C("INCRBY", "t:n", "1.5"), "ERR value is not an integer or out of range");
    CHECK_ERR(C("INCRBY", "t:n", "01"), "ERR value is not an integer or out of range");

    /* multi-key */
    CHECK_STATUS(C("MSET", "t:a", "1", "t:b", "2"), "OK");
    r = C("MGET", "t:a", "t:nope", "t:b");
    CHECK_ARR(r, 3);
    CHECK_STR(elem(r, 0), "1");
    CHECK_NIL(elem(r, 1));
    CHECK_STR(elem(r, 2), "2");
    CHECK_INT(C("APPEND", "t:a", "23"), 3);
    CHECK_INT(C("STRLEN", "t:a"), 3);
    CHECK_STR(C("GETSET", "t:a", "z"), "123");

    /* binary-safe values */
    {
        const char *argv[] = {"SET", "t:bin", "a\0b"};
        size_t lens[] = {3, 5, 3};

        tres_reset(&t);
        tres_wait(loop, &t, store_commandv(s, STORE_CLIENT, 3, argv, lens, tres_cb, &t), "SET bin");
        CHECK_STATUS(t.r, "OK");
        r = C("GET", "t:bin");
        CHECK(r && r->len == 3 && memcmp(r->str, "a\0b", 3) == 0);
    }

    /* errors */
    CHECK_ERR(C("SET", "t:x"), "ERR wrong number of arguments for 'set' command");
    CHECK_ERR(C("SET", "t:x", "v", "BOGUS"), "ERR syntax error");
    CHECK_ERR(C("SET", "t:x", "v", "EX", "0"), "ERR invalid expire time in 'set' command");
    CHECK_ERR(C("SET", "t:x", "v", "PX", "-5"), "ERR invalid expire time in 'set' command");
    CHECK_ERR(C("SET", "t:x", "v", "EX", "x"), "ERR value is not an integer or out of range");
    CHECK_ERR(C("NOSUCHCOMMAND", "a"), "ERR unknown command");
    CHECK(t.status == AH_EFAIL);
    CHECK_EQ_STR(store_strerror(t.status, t.r), t.r ? t.r->str : "");
}

static void suite_expiry(struct store *s)
{
    const struct store_reply *r;

    CHECK_STATUS(C("SET", "t:e", "v"), "OK");
    CHECK_INT(C("PTTL", "t:e"), -1);
    CHECK_INT(C("TTL", "t:e"), -1);
    CHECK_INT(C("PTTL", "t:none"), -2);
    CHECK_INT(C("TTL", "t:none"), -2);
    CHECK_INT(C("PEXPIRE", "t:e", "10000"), 1);
    r = C("PTTL", "t:e");
    CHECK(r && r->type == STORE_REPLY_INT && r->integer > 9000 && r->integer <= 10000);
    CHECK_INT(C("TTL", "t:e"), 10);
    CHECK_INT(C("EXPIRE", "t:e", "5"), 1);
    r = C("PTTL", "t:e");
    CHECK(r && r->type == STORE_REPLY_INT && r->integer > 4000 && r->integer <= 5000);
    /* a plain SET clears the TTL; KEEPTTL keeps it */
    CHECK_STATUS(C("SET", "t:e", "w", "KEEPTTL"), "OK");
    r = C("PTTL", "t:e");
    CHECK(r && r->type == STORE_REPLY_INT && r->integer > 4000);
    CHECK_STATUS(C("SET", "t:e", "w"), "OK");
    CHECK_INT(C("PTTL", "t:e"), -1);
    CHECK_INT(C("PEXPIRE", "t:e", "1000"), 1);
    CHECK_INT(C("PERSIST", "t:e"), 1);
    CHECK_INT(C("PERSIST", "t:e"), 0);
    CHECK_INT(C("PTTL", "t:e"), -1);
    /* a negative or zero expiry deletes */
    CHECK_INT(C("PEXPIRE", "t:e", "-1"), 1);
    CHECK_INT(C("EXISTS", "t:e"), 0);
    CHECK_INT(C("PEXPIRE", "t:e", "100"), 0);
    CHECK_STATUS(C("SET", "t:e", "v"), "OK");
    CHECK_INT(C("EXPIRE", "t:e", "0"), 1);
    CHECK_NIL(C("GET", "t:e"));
    CHECK_ERR(C("PEXPIRE", "t:e", "abc"), "ERR value is not an integer or out of range");
    /* keys really expire */
    CHECK_STATUS(C("SET", "t:e", "v", "PX", "60"), "OK");
    CHECK_STATUS(C("SETEX", "t:e2", "100", "v"), "OK");
    CHECK_STATUS(C("PSETEX", "t:e3", "60", "v"), "OK");
    CHECK_STR(C("GET", "t:e"), "v");
    test_run_for(loop, 150);
    CHECK_NIL(C("GET", "t:e"));
    CHECK_NIL(C("GET", "t:e3"));
    CHECK_INT(C("EXISTS", "t:e", "t:e3"), 0);
    CHECK_STR(C("GET", "t:e2"), "v");
    CHECK_INT(C("DEL", "t:e2"), 1);
}

static void suite_lists(struct store *s)
{
    const struct store_reply *r;

    CHECK_INT(C("RPUSH", "t:l", "a", "b", "c"), 3);
    CHECK_INT(C("LPUSH", "t:l", "z"), 4);
    CHECK_INT(C("LLEN", "t:l"), 4);
    CHECK_INT(C("LLEN", "t:none"), 0);
    r = C("LRANGE", "t:l", "0", "-1");
    CHECK_ARR(r, 4);
    CHECK_STR(elem(r, 0), "z");
    CHECK_STR(elem(r, 3), "c");
    r = C("LRANGE", "t:l", "-2", "100");
    CHECK_ARR(r, 2);
    CHECK_STR(elem(r, 0), "b");
    CHECK_ARR(C("LRANGE", "t:l", "5", "10"), 0);
    CHECK_ARR(C("LRANGE", "t:none", "0", "-1"), 0);
    CHECK_STR(C("LINDEX", "t:l", "-1"), "c");
    CHECK_NIL(C("LINDEX", "t:l", "9"));
    CHECK_STR(C("LPOP", "t:l"), "z");
    CHECK_STR(C("RPOP", "t:l"), "c");
    CHECK_NIL(C("LPOP", "t:none"));
    CHECK_INT(C("RPUSH", "t:l", "a", "x", "a", "a"), 6);
    CHECK_INT(C("LREM", "t:l", "2", "a"), 2);
    r = C("LRANGE", "t:l", "0", "-1");
    CHECK_ARR(r, 4);
    CHECK_STR(elem(r, 0), "b");
    CHECK_STR(elem(r, 1), "x");
    CHECK_INT(C("LREM", "t:l", "-1", "a"), 1);
    CHECK_INT(C("LREM", "t:l", "0", "nothing"), 0);
    CHECK_STATUS(C("LTRIM", "t:l", "1", "-1"), "OK");
    r = C("LRANGE", "t:l", "0", "-1");
    CHECK_ARR(r, 2);
    CHECK_STR(elem(r, 0), "x");
    r = C("LPOP", "t:l", "5");
    CHECK_ARR(r, 2);
    CHECK_INT(C("EXISTS", "t:l"), 0); /* empty lists vanish */
    /* wrong type */
    CHECK_STATUS(C("SET", "t:str", "v"), "OK");
    CHECK_ERR(C("RPUSH", "t:str", "a"), "WRONGTYPE Operation against a key holding the wrong kind of value");
    CHECK_ERR(C("LPOP", "t:str"), "WRONGTYPE");
    CHECK_ERR(C("LLEN", "t:str"), "WRONGTYPE");
    CHECK_INT(C("RPUSH", "t:l", "a"), 1);
    CHECK_ERR(C("GET", "t:l"), "WRONGTYPE");
    CHECK_STATUS(C("TYPE", "t:l"), "list");
    /* SET replaces a value of any type */
    CHECK_STATUS(C("SET", "t:l", "now a string"), "OK");
    CHECK_STR(C("GET", "t:l"), "now a string");
}

static void suite_sets_hashes(struct store *s)
{
    const struct store_reply *r;

    CHECK_INT(C("SADD", "t:set", "a", "b", "a"), 2);
    CHECK_INT(C("SADD", "t:set", "b"), 0);
    CHECK_INT(C("SISMEMBER", "t:set", "a"), 1);
    CHECK_INT(C("SISMEMBER", "t:set", "q"), 0);
    CHECK_INT(C("SCARD", "t:set"), 2);
    CHECK_ARR(C("SMEMBERS", "t:set"), 2);
    CHECK_ARR(C("SMEMBERS", "t:none"), 0);
    CHECK_INT(C("SREM", "t:set", "a", "q"), 1);
    CHECK_INT(C("SREM", "t:set", "b"), 1);
    CHECK_INT(C("EXISTS", "t:set"), 0);
    CHECK_STATUS(C("TYPE", "t:none"), "none");

    CHECK_INT(C("HSET", "t:h", "f1", "v1", "f2", "v2"), 2);
    CHECK_INT(C("HSET", "t:h", "f1", "v1b"), 0);
    CHECK_STR(C("HGET", "t:h", "f1"), "v1b");
    CHECK_NIL(C("HGET", "t:h", "nope"));
    CHECK_INT(C("HLEN", "t:h"), 2);
    CHECK_INT(C("HEXISTS", "t:h", "f2"), 1);
    CHECK_INT(C("HSETNX", "t:h", "f2", "x"), 0);
    CHECK_INT(C("HSETNX", "t:h", "f3", "x"), 1);
    r = C("HGETALL", "t:h");
    CHECK_ARR(r, 6);
    /* small hashes keep insertion order in Redis too */
    CHECK_STR(elem(r, 0), "f1");
    CHECK_STR(elem(r, 1), "v1b");
    CHECK_STR(elem(r, 4), "f3");
    r = C("HMGET", "t:h", "f2", "zz");
    CHECK_ARR(r, 2);
    CHECK_STR(elem(r, 0), "v2");
    CHECK_NIL(elem(r, 1));
    CHECK_ARR(C("HKEYS", "t:h"), 3);
    CHECK_ARR(C("HVALS", "t:h"), 3);
    CHECK_INT(C("HINCRBY", "t:h", "n", "5"), 5);
    CHECK_INT(C("HINCRBY", "t:h", "n", "-7"), -2);
    CHECK_ERR(C("HINCRBY", "t:h", "f1", "1"), "ERR hash value is not an integer");
    CHECK_INT(C("HDEL", "t:h", "f1", "f2", "f3", "n", "zz"), 4);
    CHECK_INT(C("EXISTS", "t:h"), 0);
    CHECK_ARR(C("HGETALL", "t:h"), 0);
    CHECK_ERR(C("HSET", "t:h", "f1"), "ERR wrong number of arguments");
}

static void suite_zsets(struct store *s)
{
    const struct store_reply *r;

    CHECK_INT(C("ZADD", "t:z", "3", "c", "1", "a", "2", "b"), 3);
    CHECK_INT(C("ZADD", "t:z", "1", "a"), 0);
    CHECK_INT(C("ZADD", "t:z", "CH", "5", "a"), 1);
    CHECK_INT(C("ZADD", "t:z", "NX", "0", "a"), 0);
    CHECK_STR(C("ZSCORE", "t:z", "a"), "5");
    CHECK_NIL(C("ZSCORE", "t:z", "q"));
    CHECK_INT(C("ZCARD", "t:z"), 3);
    r = C("ZRANGE", "t:z", "0", "-1");
    CHECK_ARR(r, 3);
    CHECK_STR(elem(r, 0), "b");
    CHECK_STR(elem(r, 2), "a");
    r = C("ZRANGEBYSCORE", "t:z", "0", "3");
    CHECK_ARR(r, 2);
    CHECK_STR(elem(r, 0), "b");
    r = C("ZRANGEBYSCORE", "t:z", "(2", "+inf", "WITHSCORES");
    CHECK_ARR(r, 4);
    CHECK_STR(elem(r, 0), "c");
    CHECK_STR(elem(r, 1), "3");
    r = C("ZRANGEBYSCORE", "t:z", "-inf", "+inf", "LIMIT", "0", "1");
    CHECK_ARR(r, 1);
    CHECK_STR(elem(r, 0), "b");
    r = C("ZRANGEBYSCORE", "t:z", "-inf", "+inf", "LIMIT", "1", "5");
    CHECK_ARR(r, 2);
    CHECK_INT(C("ZCOUNT", "t:z", "2", "3"), 2);
    CHECK_INT(C("ZADD", "t:z", "1.5", "d"), 1);
    CHECK_STR(C("ZSCORE", "t:z", "d"), "1.5");
    CHECK_INT(C("ZREMRANGEBYSCORE", "t:z", "1", "2"), 2);
    CHECK_INT(C("ZREM", "t:z", "c", "nope"), 1);
    CHECK_INT(C("ZCARD", "t:z"), 1);
    CHECK_ERR(C("ZADD", "t:z", "x", "m"), "ERR value is not a valid float");
    CHECK_ERR(C("ZRANGEBYSCORE", "t:z", "a", "b"), "ERR min or max is not a float");
    CHECK_INT(C("ZREM", "t:z", "a"), 1);
    CHECK_INT(C("EXISTS", "t:z"), 0);
    /* same score: ordered by member */
    CHECK_INT(C("ZADD", "t:z", "1", "b", "1", "a", "1", "c"), 3);
    r = C("ZRANGE", "t:z", "0", "-1", "WITHSCORES");
    CHECK_ARR(r, 6);
    CHECK_STR(elem(r, 0), "a");
    CHECK_STR(elem(r, 4), "c");
    CHECK_INT(C("DEL", "t:z"), 1);
}

static bool has_key(const struct store_reply *arr, const char *k)
{
    size_t i;

    for (i = 0; arr && arr->type == STORE_REPLY_ARRAY && i < arr->elements; i++)
        if (arr->element[i]->type == STORE_REPLY_STR && strcmp(arr->element[i]->str, k) == 0)
            return true;
    return false;
}

static void suite_keys(struct store *s)
{
    const struct store_reply *r;
    char cursor[32] = "0";
    size_t total = 0;
    int rounds = 0;

    CHECK_STATUS(C("FLUSHDB"), "OK");
    CHECK_INT(C("DBSIZE"), 0);
    CHECK_STATUS(C("MSET", "p:a", "1", "p:b", "2", "p:ab", "3", "q:a", "4", "p:[x]", "5"), "OK");
    CHECK_INT(C("RPUSH", "p:list", "x"), 1);
    CHECK_INT(C("DBSIZE"), 6);
    r = C("KEYS", "p:*");
    CHECK_ARR(r, 5);
    r = C("KEYS", "p:?");
    CHECK_ARR(r, 2);
    CHECK(has_key(r, "p:a") && has_key(r, "p:b"));
    r = C("KEYS", "p:[a]*");
    CHECK_ARR(r, 2);
    r = C("KEYS", "p:[^a]");
    CHECK_ARR(r, 1);
    CHECK(has_key(r, "p:b"));
    r = C("KEYS", "p:\\[x\\]");
    CHECK_ARR(r, 1);
    CHECK(has_key(r, "p:[x]"));
    r = C("KEYS", "p:[a-b]");
    CHECK_ARR(r, 2);
    /* SCAN until the cursor comes back to 0 (Redis needs several rounds) */
    do {
        r = C("SCAN", cursor, "MATCH", "p:*", "COUNT", "2");
        if (r == NULL || r->elements != 2)
            break;
        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        total += r->element[1]->elements;
    } while (strcmp(cursor, "0") != 0 && ++rounds < 100);
    CHECK_EQ_INT(total, 5);
    r = C("SCAN", "0", "MATCH", "p:*", "COUNT", "1000", "TYPE", "list");
    CHECK(r && r->elements == 2 && r->element[1]->elements == 1);
    CHECK_ERR(C("SCAN", "x"), "ERR invalid cursor");
    CHECK_ERR(C("SCAN", "0", "COUNT", "0"), "ERR syntax error");
    CHECK_STR(C("ECHO", "hi"), "hi");
    CHECK_STATUS(C("PING"), "PONG");
    CHECK_STATUS(C("FLUSHDB"), "OK");
    CHECK_INT(C("DBSIZE"), 0);
}

static void on_batch(int status, const struct store_reply *r, void *arg)
{
    tres_cb(status, r, arg);
}

static void suite_batches(struct store *s)
{
    struct store_batch b = STORE_BATCH_INIT;
    const struct store_reply *r;

    store_batch_add(&b, "SET", "t:m", "1", NULL);
    store_batch_add(&b, "INCR", "t:m", NULL);
    store_batch_add(&b, "RPUSH", "t:m", "x", NULL); /* WRONGTYPE inside the transaction */
    store_batch_add(&b, "GET", "t:m", NULL);
    tres_reset(&t);
    tres_wait(loop, &t, store_multi(s, STORE_CLIENT, &b, on_batch, &t), "multi");
    CHECK_EQ_INT(t.status, 0);
    r = t.r;
    CHECK_ARR(r, 4);
    CHECK_STATUS(elem(r, 0), "OK");
    CHECK_INT(elem(r, 1), 2);
    CHECK_ERR(elem(r, 2), "WRONGTYPE");
    CHECK_STR(elem(r, 3), "2");
    tres_reset(&t);
    tres_wait(loop, &t, store_pipeline(s, STORE_TASKS, &b, on_batch, &t), "pipeline");
    CHECK_EQ_INT(t.status, 0);
    CHECK_ARR(t.r, 4);
    CHECK_INT(elem(t.r, 1), 2);
    store_batch_release(&b);
    /* an unknown command aborts the whole transaction, as EXEC does */
    store_batch_add(&b, "SET", "t:m2", "1", NULL);
    store_batch_add(&b, "NOSUCH", NULL);
    tres_reset(&t);
    tres_wait(loop, &t, store_multi(s, STORE_CLIENT, &b, on_batch, &t), "multi abort");
    CHECK_EQ_INT(t.status, AH_EFAIL);
    CHECK_ERR(t.r, "EXECABORT");
    CHECK_INT(C("EXISTS", "t:m2"), 0);
    store_batch_release(&b);
    /* empty batch */
    tres_reset(&t);
    tres_wait(loop, &t, store_multi(s, STORE_CLIENT, &b, on_batch, &t), "empty multi");
    CHECK_ARR(t.r, 0);
    CHECK_INT(C("DEL", "t:m"), 1);
}

/* node-resque's "pop and mark working" shape, written twice. */
static const char pop_lua[] =
    "local job = redis.call('lpop', KEYS[1])\n"
    "if job then redis.call('set', KEYS[2], ARGV[1] .. job) end\n"
    "return job\n";

static struct store_reply *pop_mem(struct store_exec *x, int nkeys, int argc, const char *const *argv,
                                   const size_t *lens)
{
    struct store_reply *job, *r;
    char *v;

    (void)nkeys;
    (void)argc;
    (void)lens;
    job = store_exec(x, "LPOP", argv[0], NULL);
    if (job->type == STORE_REPLY_STR) {
        v = xasprintf("%s%s", argv[2], job->str);
        r = store_exec(x, "SET", argv[1], v, NULL);
        store_reply_free(r);
        free(v);
    }
    return job;
}

static const struct store_script pop_script = {"pop", pop_lua, pop_mem};

static void suite_scripts(struct store *s)
{
    const char *argv[] = {"t:q", "t:working", "w:"};

    CHECK_INT(C("RPUSH", "t:q", "job1"), 1);
    tres_reset(&t);
    tres_wait(loop, &t, store_eval(s, STORE_TASKS, &pop_script, 2, 3, argv, NULL, tres_cb, &t), "eval");
    CHECK_STR(t.r, "job1");
    CHECK_STR(C("GET", "t:working"), "w:job1");
    tres_reset(&t);
    tres_wait(loop, &t, store_eval(s, STORE_TASKS, &pop_script, 2, 3, argv, NULL, tres_cb, &t), "eval empty");
    CHECK_NIL(t.r);
    CHECK_EQ_INT(store_eval(s, STORE_TASKS, &pop_script, 3, 2, argv, NULL, tres_cb, &t), AH_EINVAL);
    CHECK_INT(C("DEL", "t:working"), 1);
}

struct msgs {
    int n;
    char last[64];
    char channel[32];
};

static void on_msg(const char *channel, const char *msg, size_t len, void *arg)
{
    struct msgs *m = arg;

    m->n++;
    snprintf(m->last, sizeof(m->last), "%.*s", (int)len, msg);
    snprintf(m->channel, sizeof(m->channel), "%s", channel);
}

static void suite_pubsub(struct store *s)
{
    struct msgs m = {0, "", ""};
    bool got;

    tres_reset(&t);
    tres_wait(loop, &t, store_subscribe(s, "t:chan", on_msg, &m, tres_cb, &t), "subscribe");
    CHECK_EQ_INT(t.status, 0);
    tres_reset(&t);
    tres_wait(loop, &t, store_publish(s, "t:chan", "hello", 5, tres_cb, &t), "publish");
    CHECK_INT(t.r, 1);
    CHECK_EQ_INT(m.n == 0 || m.n == 1, 1);
    test_run_for(loop, 0);
    got = m.n == 1;
    if (!got) {
        int i;

        for (i = 0; i < 200 && m.n == 0; i++)
            test_run_for(loop, 10);
    }
    CHECK_EQ_INT(m.n, 1);
    CHECK_EQ_STR(m.last, "hello");
    CHECK_EQ_STR(m.channel, "t:chan");
    /* nobody listens on another channel */
    CHECK_INT(C("PUBLISH", "t:other", "x"), 0);
    tres_reset(&t);
    tres_wait(loop, &t, store_unsubscribe(s, "t:chan", tres_cb, &t), "unsubscribe");
    CHECK_EQ_INT(t.status, 0);
    CHECK_EQ_INT(store_unsubscribe(s, "t:chan", NULL, NULL), AH_ENOTFOUND);
    CHECK_INT(C("PUBLISH", "t:chan", "again"), 0);
    test_run_for(loop, 30);
    CHECK_EQ_INT(m.n, 1);
    CHECK_EQ_INT(store_subscribe(s, "", on_msg, &m, NULL, NULL), AH_EINVAL);
}

static void suite_args(struct store *s)
{
    const char *bad[] = {"GET", NULL};

    CHECK_EQ_INT(store_commandv(s, STORE_CLIENT, 0, bad, NULL, tres_cb, &t), AH_EINVAL);
    CHECK_EQ_INT(store_commandv(s, STORE_CLIENT, 2, bad, NULL, tres_cb, &t), AH_EINVAL);
    CHECK_EQ_INT(store_commandv(s, (enum store_role)7, 1, bad, NULL, tres_cb, &t), AH_EINVAL);
    CHECK_EQ_INT(store_command(s, tres_cb, &t, NULL), AH_EINVAL);
    CHECK(store_ready(s, STORE_CLIENT));
    CHECK(store_ready(s, STORE_TASKS));
}

static void suite(struct store *s, const char *label)
{
    int before = check_failed;

    suite_args(s);
    suite_strings(s);
    suite_expiry(s);
    suite_lists(s);
    suite_sets_hashes(s);
    suite_zsets(s);
    suite_keys(s);
    suite_batches(s);
    suite_scripts(s);
    suite_pubsub(s);
    printf("%s - store commands on the %s backend\n", check_failed == before ? "ok" : "not ok", label);
}

/* Memory only: the configured bounds, with a clear error. */
static void memory_bounds(void)
{
    struct store_config cfg;
    struct store *s;
    char big[3000];

    store_config_defaults(&cfg);
    cfg.max_keys = 3;
    cfg.max_bytes = 8192;
    s = store_new(loop, &cfg);
    CHECK_EQ_INT(store_open(s), 0);
    CHECK_STATUS(C("SET", "a", "1"), "OK");
    CHECK_STATUS(C("SET", "b", "1"), "OK");
    CHECK_INT(C("RPUSH", "c", "1"), 1);
    CHECK_ERR(C("SET", "d", "1"), "OOM memory store full: store.maxKeys (3) reached");
    CHECK_EQ_INT(t.status, AH_ELIMIT);
    CHECK_EQ_STR(store_strerror(t.status, t.r), "OOM memory store full: store.maxKeys (3) reached");
    CHECK_STATUS(C("SET", "a", "2"), "OK"); /* overwriting is fine */
    CHECK_INT(C("DEL", "b"), 1);
    CHECK_STATUS(C("SET", "d", "1"), "OK");
    /* expired keys do not count */
    CHECK_INT(C("PEXPIRE", "d", "20"), 1);
    test_run_for(loop, 40);
    CHECK_STATUS(C("SET", "e", "1"), "OK");
    /* bytes */
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    CHECK_STATUS(C("SET", "a", big), "OK");
    CHECK_STATUS(C("SET", "e", big), "OK");
    CHECK_ERR(C("RPUSH", "c", big), "OOM memory store full: store.maxBytes (8192) reached");
    CHECK_EQ_INT(t.status, AH_ELIMIT);
    CHECK_INT(C("LLEN", "c"), 1);
    CHECK_INT(C("DEL", "a"), 1);
    CHECK_INT(C("RPUSH", "c", big), 2);
    test_store_close(loop, s);
    store_config_release(&cfg);
}

/* redis.maxPending bounds what is in flight (memory: waiting for delivery):
 * past it a command is refused at once and its callback never runs. */
static void pending_bound(enum store_kind kind, int port)
{
    struct store_config cfg;
    struct store *s;
    struct tres r[4];
    struct store_batch b = STORE_BATCH_INIT;
    int i;

    memset(r, 0, sizeof(r));
    store_config_defaults(&cfg);
    cfg.kind = kind;
    cfg.port = port;
    cfg.max_pending = 3;
    s = store_new(loop, &cfg);
    CHECK_EQ_INT(store_open(s), 0);
    CHECK_EQ_INT(store_wait(s, 3000), 0);
    for (i = 0; i < 3; i++)
        CHECK_EQ_INT(store_command(s, tres_cb, &r[i], "PING", NULL), 0);
    CHECK_EQ_INT(store_command(s, tres_cb, &r[3], "PING", NULL), AH_ELIMIT);
    CHECK_EQ_STR(store_strerror(AH_ELIMIT, NULL), "too many store commands in flight (redis.maxPending)");
    store_batch_add(&b, "PING", NULL);
    CHECK_EQ_INT(store_pipeline(s, STORE_CLIENT, &b, tres_cb, &r[3]), AH_ELIMIT);
    test_run_until(loop, &r[2].done, 5000);
    test_run_for(loop, 10);
    CHECK_EQ_INT(r[3].calls, 0);
    CHECK_EQ_INT(r[0].calls + r[1].calls + r[2].calls, 3);
    CHECK_EQ_INT(store_command(s, tres_cb, &r[3], "PING", NULL), 0);
    test_run_until(loop, &r[3].done, 5000);
    CHECK_STATUS(r[3].r, "PONG");
    store_batch_release(&b);
    for (i = 0; i < 4; i++)
        tres_reset(&r[i]);
    test_store_close(loop, s);
    store_config_release(&cfg);
}

/* Callbacks of commands still in flight run after store_close. */
static void close_with_pending(enum store_kind kind, int port)
{
    struct store *s = test_store(loop, kind, port);
    struct tres a = {0}, b = {0};
    bool closed = false;

    CHECK_EQ_INT(store_command(s, tres_cb, &a, "SET", "t:close", "1", NULL), 0);
    CHECK_EQ_INT(store_command(s, tres_cb, &b, "GET", "t:close", NULL), 0);
    store_close(s, test_set_flag, &closed);
    CHECK(!a.done && !b.done);
    test_run_until(loop, &closed, 5000);
    CHECK(closed);
    CHECK_EQ_INT(a.calls, 1);
    CHECK_EQ_INT(b.calls, 1);
    CHECK(b.status == 0 || b.status == AH_EUNAVAIL);
    tres_reset(&a);
    tres_reset(&b);
}

static void config_checks(void)
{
    struct store_config cfg;
    char err[256] = "";

    store_config_defaults(&cfg);
    CHECK_EQ_INT(store_config_url(&cfg, "redis://:s3cret@example.org:6380/4", err, sizeof(err)), 0);
    CHECK_EQ_STR(cfg.host, "example.org");
    CHECK_EQ_STR(cfg.password, "s3cret");
    CHECK_EQ_INT(cfg.port, 6380);
    CHECK_EQ_INT(cfg.db, 4);
    CHECK_EQ_INT(store_config_url(&cfg, "redis://[::1]", err, sizeof(err)), 0);
    CHECK_EQ_STR(cfg.host, "::1");
    CHECK_EQ_INT(cfg.port, 6380); /* only the parts present override */
    CHECK_EQ_INT(store_config_url(&cfg, "redis://h:0", err, sizeof(err)), AH_EINVAL);
    CHECK(strstr(err, "bad port") != NULL);
    CHECK_EQ_INT(store_config_url(&cfg, "redis://h/x", err, sizeof(err)), AH_EINVAL);
    CHECK_EQ_INT(store_config_url(&cfg, "rediss://h", err, sizeof(err)), AH_EINVAL);
    CHECK(strstr(err, "not supported") != NULL);
    CHECK_EQ_INT(store_config_url(&cfg, "http://h", err, sizeof(err)), AH_EINVAL);
    store_config_release(&cfg);

    CHECK(store_glob_match("a*", 2, "abc", 3, false));
    CHECK(!store_glob_match("a?", 2, "abc", 3, false));
    CHECK(store_glob_match("*c", 2, "abc", 3, false));
    CHECK(store_glob_match("[a-c]b*", 7, "bbx", 3, false));
    CHECK(!store_glob_match("[^a-c]b*", 8, "bbx", 3, false));
    CHECK(store_glob_match("\\*", 2, "*", 1, false));
    CHECK(!store_glob_match("\\*", 2, "x", 1, false));
    CHECK(store_glob_match("A*", 2, "abc", 3, true));
}

/* store_config_load: config keys first, then REDIS_* variables. */
static struct store_config load_cfg(const char *json, int *rc, char *err, size_t errlen)
{
    ah_app_t *app = app_new(loop);
    struct store_config cfg;

    app->config = json_loads(json, 0, NULL);
    *rc = store_config_load(app, &cfg, err, errlen);
    app_free(app);
    return cfg;
}

static void config_load_checks(void)
{
    static const char *const vars[] = {"REDIS_HOST", "REDIS_PORT", "REDIS_DB", "REDIS_PASSWORD", "REDIS_URL",
                                       "REDIS_SSL", "JEST_WORKER_ID"};
    struct store_config cfg;
    char err[256] = "";
    size_t i;
    int rc;

    for (i = 0; i < ARRAY_SIZE(vars); i++)
        unsetenv(vars[i]);
    cfg = load_cfg("{}", &rc, err, sizeof(err));
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(cfg.kind, STORE_MEMORY); /* redis.enabled defaults to false */
    CHECK_EQ_STR(cfg.host, "127.0.0.1");
    CHECK_EQ_INT(cfg.port, 6379);
    CHECK_EQ_INT(cfg.db, 0);
    CHECK(cfg.password == NULL);
    CHECK_EQ_INT(cfg.retry_first, 5000);
    CHECK_EQ_INT(cfg.retry_step, 50);
    CHECK_EQ_INT(cfg.retry_max, 1000);
    CHECK_EQ_INT(cfg.stop_timeout, 100);
    store_config_release(&cfg);

    setenv("REDIS_HOST", "envhost", 1);
    setenv("REDIS_PORT", "7000", 1);
    setenv("JEST_WORKER_ID", "4", 1);
    setenv("REDIS_PASSWORD", "pw", 1);
    cfg = load_cfg("{\"redis\": {\"enabled\": true}}", &rc, err, sizeof(err));
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(cfg.kind, STORE_REDIS);
    CHECK_EQ_STR(cfg.host, "envhost");
    CHECK_EQ_INT(cfg.port, 7000);
    CHECK_EQ_INT(cfg.db, 4); /* REDIS_DB, else JEST_WORKER_ID */
    CHECK_EQ_STR(cfg.password, "pw");
    store_config_release(&cfg);

    setenv("REDIS_DB", "2", 1);
    setenv("REDIS_URL", "redis://:urlpw@urlhost:7001/5", 1);
    cfg = load_cfg("{\"redis\": {\"enabled\": true, \"host\": \"cfghost\"}}", &rc, err, sizeof(err));
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_STR(cfg.host, "urlhost"); /* the URL overrides each part it has */
    CHECK_EQ_INT(cfg.port, 7001);
    CHECK_EQ_INT(cfg.db, 5);
    CHECK_EQ_STR(cfg.password, "urlpw");
    store_config_release(&cfg);
    unsetenv("REDIS_URL");

    /* config keys win over the variables; Actionhero's client args count */
    cfg = load_cfg("{\"redis\": {\"host\": \"cfghost\", \"port\": \"6390\","
                   " \"client\": {\"args\": [{\"db\": 9, \"password\": \"argpw\"}]}}}",
                   &rc, err, sizeof(err));
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_STR(cfg.host, "cfghost");
    CHECK_EQ_INT(cfg.port, 6390);
    CHECK_EQ_INT(cfg.db, 9);
    CHECK_EQ_STR(cfg.password, "argpw");
    store_config_release(&cfg);

    /* errors name the key */
    cfg = load_cfg("{\"redis\": {\"port\": 70000}}", &rc, err, sizeof(err));
    CHECK_EQ_INT(rc, AH_EINVAL);
    CHECK(strstr(err, "redis.port") != NULL);
    cfg = load_cfg("{\"redis\": {\"connectTimeout\": \"soon\"}}", &rc, err, sizeof(err));
    CHECK_EQ_INT(rc, AH_EINVAL);
    CHECK(strstr(err, "redis.connectTimeout") != NULL);
    cfg = load_cfg("{\"store\": {\"maxKeys\": 0}}", &rc, err, sizeof(err));
    CHECK_EQ_INT(rc, AH_EINVAL);
    CHECK(strstr(err, "store.maxKeys") != NULL);
    setenv("REDIS_PORT", "nope", 1);
    cfg = load_cfg("{}", &rc, err, sizeof(err));
    CHECK_EQ_INT(rc, AH_EINVAL);
    CHECK(strstr(err, "REDIS_PORT") != NULL);
    unsetenv("REDIS_PORT");
    setenv("REDIS_SSL", "1", 1);
    cfg = load_cfg("{\"redis\": {\"enabled\": true}}", &rc, err, sizeof(err));
    CHECK_EQ_INT(rc, AH_EINVAL);
    CHECK(strstr(err, "TLS") != NULL);
    for (i = 0; i < ARRAY_SIZE(vars); i++)
        unsetenv(vars[i]);
}

int main(void)
{
    struct test_redis r = {0};
    struct store *s;

    core_init();
    uv_loop_init(loop);
    config_checks();
    config_load_checks();

    s = test_store(loop, STORE_MEMORY, 0);
    suite(s, "memory");
    test_store_close(loop, s);
    memory_bounds();
    pending_bound(STORE_MEMORY, 0);
    close_with_pending(STORE_MEMORY, 0);

    if (!test_redis_available()) {
        printf("not ok - redis-server is not installed: the Redis backend was not tested "
               "(make test installs it)\n");
        check_failed++;
    } else if (!test_redis_start(&r, 0)) {
        printf("not ok - could not start redis-server\n");
        check_failed++;
    } else {
        s = test_store(loop, STORE_REDIS, r.port);
        suite(s, "redis");
        test_store_close(loop, s);
        close_with_pending(STORE_REDIS, r.port);
        pending_bound(STORE_REDIS, r.port);
    }
    test_redis_cleanup(&r);
    tres_reset(&t);
    test_loop_done(loop);
    return check_done();
}
