/*
 * test_tasks_worker.c - workers and the scheduler (tasks.md §6, §7), the
 * same checks on the memory store and on a private redis-server: jobs run
 * and are counted, failures become node-resque failure records, the Retry
 * plugin, delayed jobs are promoted by the leader only, stuck workers are
 * cleaned and their jobs retried, periodic tasks re-enqueue themselves,
 * task middleware, runAction, work off the loop, bad jobs.
 */
#include "tasks_testlib.h"

#include <unistd.h>

static struct tr r;
static char host[256];
static char wname[300];   /* "<host>:<pid>+1" */

/* Run the loop until the command's reply reads `want` (at most ms). */
static bool wait_eq(ah_app_t *app, const char *want, uint64_t ms, int argc, const char *const *argv)
{
    uint64_t deadline = core_mono_ms() + ms;
    const char *got = "";

    for (;;) {
        got = rtext(tstore(app, argv, argc));
        if (strcmp(got, want) == 0)
            return true;
        if (core_mono_ms() > deadline)
            break;
        test_run_for(app->loop, 20);
    }
    printf("# waited for %s: got %s, want %s\n", argv[0], got, want);
    if (argc > 1 && strstr(argv[1], "delayed_queue_schedule")) {
        /* what is left in the schedule, for the record */
        const char *z[] = {"ZRANGE", "resque:delayed_queue_schedule", "0", "-1", "WITHSCORES"};
        const char *k[] = {"KEYS", "resque:delayed:*"};
        const char *l[] = {"GET", "resque:resque_scheduler_leader_lock"};

        printf("# schedule %s, lists %s, leader %s, now %llu ms\n", rtext(tstore(app, z, 5)),
               rtext(tstore(app, k, 2)), rtext(tstore(app, l, 2)), (unsigned long long)core_now_ms());
    }
    return false;
}

#define WAIT_EQ(app, want, ms, ...)                                                                  \
    CHECK(wait_eq((app), (want), (ms), (int)(sizeof((const char *[]){__VA_ARGS__}) / sizeof(char *)), \
                  (const char *const[]){__VA_ARGS__}))

static json_t *jl(const char *text)
{
    return text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
}

static json_t *enq(ah_app_t *app, const char *name, const char *inputs)
{
    json_t *in = jl(inputs), *v;

    v = CALL(app, &r, ah_task_app_enqueue(app, name, in, NULL, tr_cb, &r));
    json_decref(in);
    return v;
}

/* The last failure record (parsed, owned). */
static json_t *last_failure(ah_app_t *app)
{
    json_t *v = CALL(app, &r, ah_task_app_failed(app, -1, -1, tr_cb, &r));

    return json_incref(json_array_get(v, 0));
}

static long long stat_of(ah_app_t *app, const char *key)
{
    return strtoll(rtext(TS(app, "GET", key)), NULL, 10);
}

/* Run the loop until *counter >= target (at most ms), then a little more
 * so that the job's bookkeeping lands. */
static bool wait_runs(ah_app_t *app, const int *counter, int target, uint64_t ms)
{
    uint64_t deadline = core_mono_ms() + ms;

    while (*counter < target && core_mono_ms() < deadline)
        test_run_for(app->loop, 5);
    test_run_for(app->loop, 30);
    return *counter >= target;
}

static void wait_registered(ah_app_t *app)
{
    uint64_t deadline = core_mono_ms() + 3000;
    json_t *v = NULL;

    while (core_mono_ms() < deadline) {
        v = CALL(app, &r, ah_task_app_workers(app, tr_cb, &r));
        if (json_object_get(v, wname))
            break;
        test_run_for(app->loop, 10);
    }
    CHECK(json_object_get(v, wname) != NULL);
}

static void suite_run(ah_app_t *app)
{
    char key[512];
    json_t *v;
    long long before;
    int runs;

    /* registration: the worker is in the set with its queues ("*" resolved) */
    wait_registered(app);
    snprintf(key, sizeof(key), "resque:worker:ping:%s", wname);
    v = jl(rtext(TS(app, "GET", key)));
    CHECK_EQ_STR(json_string_value(json_object_get(v, "name")), wname);
    CHECK(json_integer_value(json_object_get(v, "time")) >= (json_int_t)(core_now_ms() / 1000) - 5);
    json_decref(v);

    /* a job runs once and is counted */
    runs = test_task_runs;
    before = stat_of(app, "resque:stat:processed");
    CHECK(is_true(enq(app, "testEcho", "{\"n\":1,\"deep\":{\"a\":[1,2]}}")));
    CHECK(wait_runs(app, &test_task_runs, runs + 1, 5000));
    CHECK(stat_of(app, "resque:stat:processed") >= before + 1);
    CHECK_EQ_INT(test_task_runs - runs, 1);
    CHECK_EQ_STR(jtext(test_task_last_params), "{\"n\":1,\"deep\":{\"a\":[1,2]}}");
    CHECK_EQ_STR(rtext(TS(app, "LLEN", "resque:queue:default")), "0");
    snprintf(key, sizeof(key), "resque:stat:processed:%s", wname);
    CHECK(atoi(rtext(TS(app, "GET", key))) >= 1);

    /* a job that finishes later */
    CHECK(is_true(enq(app, "testAsync", "{\"ms\":30}")));
    CHECK(wait_runs(app, &test_task_runs, runs + 2, 5000));
    CHECK_EQ_INT(test_task_runs - runs, 2);

    /* work off the loop */
    CHECK(is_true(enq(app, "testBlocking", "{\"n\":1000}")));
    CHECK(wait_runs(app, &test_task_runs, runs + 3, 5000));
    CHECK_EQ_STR(jtext(test_task_last_params), "500500");

    /* the working-on record exists while the job runs, and goes after */
    runs = test_task_runs;
    CHECK(is_true(enq(app, "testAsync", "{\"ms\":400}")));
    {
        uint64_t deadline = core_mono_ms() + 3000;
        json_t *w = NULL;

        while (core_mono_ms() < deadline) {
            w = CALL(app, &r, ah_task_app_all_working_on(app, tr_cb, &r));
            w = json_object_get(w, wname);
            if (json_is_object(w) && strcmp(jtext(json_object_get(w, "payload")),
                                            "{\"class\":\"testAsync\",\"queue\":\"default\",\"args\":[{\"ms\":400}]}") == 0)
                break;
            test_run_for(app->loop, 10);
        }
        CHECK(json_is_object(w));
        CHECK_EQ_STR(json_string_value(json_object_get(w, "queue")), "default");
        CHECK_EQ_STR(json_string_value(json_object_get(w, "worker")), wname);
        CHECK_EQ_STR(jtext(json_object_get(w, "payload")),
                     "{\"class\":\"testAsync\",\"queue\":\"default\",\"args\":[{\"ms\":400}]}");
        {
            uint64_t at;

            CHECK(tq_date_parse(json_string_value(json_object_get(w, "run_at")), &at));
            CHECK(at + 60000 > core_now_ms() && at < core_now_ms() + 60000);
        }
    }
    {
        uint64_t deadline = core_mono_ms() + 3000;

        while (test_task_runs == runs && core_mono_ms() < deadline)
            test_run_for(app->loop, 10);
        test_run_for(app->loop, 50);
    }
    CHECK_EQ_INT(test_task_runs - runs, 1);
}

static void suite_failures(ah_app_t *app)
{
    char key[512];
    json_t *rec;
    uint64_t at;

    CHECK(is_true(enq(app, "testFail", "{\"message\":\"boom\"}")));
    WAIT_EQ(app, "1", 5000, "LLEN", "resque:failed");
    rec = last_failure(app);
    CHECK_EQ_STR(json_string_value(json_object_get(rec, "worker")), wname);
    CHECK_EQ_STR(json_string_value(json_object_get(rec, "queue")), "failing");
    CHECK_EQ_STR(jtext(json_object_get(rec, "payload")),
                 "{\"class\":\"testFail\",\"queue\":\"failing\",\"args\":[{\"message\":\"boom\"}]}");
    CHECK_EQ_STR(json_string_value(json_object_get(rec, "exception")), "Error");
    CHECK_EQ_STR(json_string_value(json_object_get(rec, "error")), "boom");
    CHECK(json_is_array(json_object_get(rec, "backtrace")));
    CHECK(tq_date_parse(json_string_value(json_object_get(rec, "failed_at")), &at));
    CHECK(strstr(json_string_value(json_object_get(rec, "failed_at")), "GMT+0000 (Coordinated Universal Time)"));
    CHECK_EQ_STR(rtext(TS(app, "GET", "resque:stat:failed")), "1");
    snprintf(key, sizeof(key), "resque:stat:failed:%s", wname);
    CHECK_EQ_STR(rtext(TS(app, "GET", key)), "1");

    /* retry it: it runs (and fails) again */
    CHECK(is_true(CALL(app, &r, ah_task_app_retry_and_remove_failed(app, rec, tr_cb, &r))));
    json_decref(rec);
    WAIT_EQ(app, "2", 5000, "GET", "resque:stat:failed");
    CHECK_EQ_STR(rtext(TS(app, "LLEN", "resque:failed")), "1");

    /* a class nobody defined, and text that is not a job */
    store_reply_free(TS(app, "RPUSH", "resque:queue:default", "{\"class\":\"noSuchJob\",\"queue\":\"default\",\"args\":[]}"));
    WAIT_EQ(app, "2", 5000, "LLEN", "resque:failed");
    rec = last_failure(app);
    CHECK_EQ_STR(json_string_value(json_object_get(rec, "error")), "No job defined for class \"noSuchJob\"");
    json_decref(rec);
    store_reply_free(TS(app, "RPUSH", "resque:queue:default", "not json {"));
    WAIT_EQ(app, "3", 5000, "LLEN", "resque:failed");
    rec = last_failure(app);
    CHECK_EQ_STR(jtext(json_object_get(rec, "payload")), "\"not json {\"");
    CHECK(strstr(json_string_value(json_object_get(rec, "error")), "cannot parse") != NULL);
    json_decref(rec);

    /* runAction: the action's response is the result; a failing action fails the job */
    {
        long long before = stat_of(app, "resque:stat:processed"), failed = stat_of(app, "resque:stat:failed");

        CHECK(is_true(enq(app, "runAction", "{\"action\":\"randomNumber\",\"params\":{}}")));
        WAIT_EQ(app, "0", 5000, "LLEN", "resque:queue:default");
        test_run_for(app->loop, 100);
        CHECK(stat_of(app, "resque:stat:processed") >= before + 1);
        CHECK_EQ_INT(stat_of(app, "resque:stat:failed"), failed);
        CHECK(is_true(enq(app, "runAction", "{\"action\":\"noSuchAction\"}")));
        WAIT_EQ(app, "4", 5000, "LLEN", "resque:failed");
        rec = last_failure(app);
        CHECK_EQ_STR(json_string_value(json_object_get(rec, "error")), "Error: unknown action or invalid apiVersion");
        json_decref(rec);
    }
}

static void suite_retry(ah_app_t *app)
{
    /* Retry (retryLimit 2): the first failure is re-enqueued and counted as
     * failed, not processed; the second lands in resque:failed */
    long long failed = stat_of(app, "resque:stat:failed");

    store_reply_free(TS(app, "DEL", "resque:failed"));
    CHECK(is_true(enq(app, "testRetry", "{\"r\":1}")));
    WAIT_EQ(app, "1", 8000, "LLEN", "resque:failed");
    {
        json_t *rec = last_failure(app);

        CHECK_EQ_STR(json_string_value(json_object_get(rec, "error")), "kaboom");
        CHECK_EQ_STR(json_string_value(json_object_get(rec, "queue")), "retry");
        json_decref(rec);
    }
    /* the retried failure counted as failed (not processed), then the last one */
    CHECK_EQ_INT(stat_of(app, "resque:stat:failed"), failed + 2);
    CHECK_EQ_STR(rtext(TS(app, "EXISTS", "resque:resque-retry:testRetry:{\"r\":1}",
                          "resque:failure-resque-retry:testRetry:{\"r\":1}")), "0");
}

static void suite_scheduler(ah_app_t *app)
{
    char leader[300];
    json_t *in;
    int runs;

    /* the leader lock is ours, with node-resque's name and TTL */
    snprintf(leader, sizeof(leader), "%s:%d", host, (int)getpid());
    WAIT_EQ(app, leader, 3000, "GET", "resque:resque_scheduler_leader_lock");
    {
        const char *ttl = rtext(TS(app, "TTL", "resque:resque_scheduler_leader_lock"));

        CHECK(atoi(ttl) > 170 && atoi(ttl) <= 180);
    }

    /* a due delayed job is moved and run; its keys are cleaned */
    runs = test_task_runs;
    in = jl("{\"d\":1}");
    CHECK(is_true(CALL(app, &r, ah_task_app_enqueue_in(app, 0, "testEcho", in, NULL, false, tr_cb, &r))));
    json_decref(in);
    {
        uint64_t deadline = core_mono_ms() + 5000;

        while (test_task_runs == runs && core_mono_ms() < deadline)
            test_run_for(app->loop, 10);
    }
    CHECK_EQ_INT(test_task_runs - runs, 1);
    CHECK_EQ_STR(jtext(test_task_last_params), "{\"d\":1}");
    WAIT_EQ(app, "0", 3000, "ZCARD", "resque:delayed_queue_schedule");
    CHECK_EQ_STR(rtext(TS(app, "EXISTS", "resque:timestamps:{\"class\":\"testEcho\",\"queue\":\"default\",\"args\":[{\"d\":1}]}")),
                 "0");

    /* another leader: nothing is moved until its lock goes */
    store_reply_free(TS(app, "SET", "resque:resque_scheduler_leader_lock", "other:1", "EX", "180"));
    test_run_for(app->loop, 150); /* our scheduler notices it is not the leader */
    runs = test_task_runs;
    in = jl("{\"d\":2}");
    CHECK(is_true(CALL(app, &r, ah_task_app_enqueue_in(app, -2000, "testEcho", in, NULL, false, tr_cb, &r))));
    json_decref(in);
    test_run_for(app->loop, 300);
    CHECK_EQ_INT(test_task_runs - runs, 0);
    in = jl("{\"d\":2}");
    CHECK_EQ_INT((long long)json_array_size(CALL(app, &r, ah_task_app_scheduled_at(app, "default", "testEcho", in,
                                                                                   tr_cb, &r))), 1);
    store_reply_free(TS(app, "DEL", "resque:resque_scheduler_leader_lock"));
    WAIT_EQ(app, leader, 3000, "GET", "resque:resque_scheduler_leader_lock");
    {
        uint64_t deadline = core_mono_ms() + 3000;

        while (test_task_runs == runs && core_mono_ms() < deadline)
            test_run_for(app->loop, 10);
    }
    CHECK_EQ_STR(jtext(test_task_last_params), "{\"d\":2}");
    CHECK_EQ_INT((long long)json_array_size(CALL(app, &r, ah_task_app_scheduled_at(app, "default", "testEcho", in,
                                                                                   tr_cb, &r))), 0);
    json_decref(in);

    /* middleware on the delayed path: preEnqueue runs when the job moves */
    {
        int pre = test_mw_calls[0];

        in = jl("{\"veto\":true}");
        CHECK(is_true(CALL(app, &r, ah_task_app_enqueue_in(app, -2000, "testMw", in, NULL, false, tr_cb, &r))));
        json_decref(in);
        {
            uint64_t deadline = core_mono_ms() + 3000;

            while (test_mw_calls[0] == pre && core_mono_ms() < deadline)
                test_run_for(app->loop, 10);
        }
        CHECK_EQ_INT(test_mw_calls[0] - pre, 1);
        CHECK_EQ_STR(rtext(TS(app, "LLEN", "resque:queue:mw")), "0");
    }
}

static void suite_stuck(ah_app_t *app)
{
    /* a worker of a dead process: old ping, a job in progress */
    const char *wo = "{\"run_at\":\"Thu Jan 01 2015 00:00:00 GMT+0000 (Coordinated Universal Time)\","
                     "\"queue\":\"default\",\"worker\":\"ghost:1+1\",\"payload\":{\"class\":\"testEcho\","
                     "\"queue\":\"default\",\"args\":[{\"ghost\":true}]}}";
    int runs = test_task_runs;
    uint64_t deadline;
    json_t *v;

    store_reply_free(TS(app, "DEL", "resque:failed"));
    store_reply_free(TS(app, "SADD", "resque:workers", "ghost:1+1:default"));
    store_reply_free(TS(app, "SET", "resque:worker:ghost:1+1:default", wo));
    store_reply_free(TS(app, "SET", "resque:worker:ping:ghost:1+1",
                        "{\"time\":1420070400,\"name\":\"ghost:1+1\",\"queues\":\"default\"}"));
    /* cleaned by the scheduler, and (retryStuckJobs) run again by us */
    deadline = core_mono_ms() + 5000;
    while (core_mono_ms() < deadline) {
        if (test_task_runs > runs && json_is_object(test_task_last_params) &&
            json_is_true(json_object_get(test_task_last_params, "ghost")))
            break;
        test_run_for(app->loop, 10);
    }
    CHECK_EQ_STR(jtext(test_task_last_params), "{\"ghost\":true}");
    v = CALL(app, &r, ah_task_app_workers(app, tr_cb, &r));
    CHECK(json_object_get(v, "ghost:1+1") == NULL);
    CHECK_EQ_STR(rtext(TS(app, "EXISTS", "resque:worker:ghost:1+1:default", "resque:worker:ping:ghost:1+1")), "0");
    CHECK_EQ_STR(rtext(TS(app, "LLEN", "resque:failed")), "0"); /* retried, so removed */
}

static void suite_periodic(ah_app_t *app)
{
    json_t *v, *empty = json_object();
    uint64_t deadline = core_mono_ms() + 6000;
    int first = test_periodic_runs;

    /* enqueued at boot (scheduler on), run, re-scheduled 1 s later, moved
     * by the scheduler (QueueLock, DelayQueueLock) and run again (JobLock) */
    while (test_periodic_runs < first + 2 && core_mono_ms() < deadline)
        test_run_for(app->loop, 20);
    CHECK(test_periodic_runs >= first + 2);
    CHECK(test_periodic_runs >= 2);
    test_run_for(app->loop, 50);
    v = CALL(app, &r, ah_task_app_scheduled_at(app, "periodic", "testPeriodic", empty, tr_cb, &r));
    CHECK(json_array_size(v) <= 1);
    json_decref(empty);
}

static void suite_middleware(ah_app_t *app)
{
    int calls[4], runs = test_task_runs;
    long long failed = stat_of(app, "resque:stat:failed");

    memcpy(calls, test_mw_calls, sizeof(calls));
    CHECK(is_true(enq(app, "testMw", "{\"m\":1}")));
    CHECK(wait_runs(app, &test_task_runs, runs + 1, 5000));
    CHECK_EQ_STR(jtext(test_task_last_params), "{\"m\":1,\"added\":true}");
    CHECK_EQ_INT(test_mw_calls[0] - calls[0], 1);
    CHECK_EQ_INT(test_mw_calls[1] - calls[1], 1);
    CHECK_EQ_INT(test_mw_calls[2] - calls[2], 1);
    CHECK_EQ_INT(test_mw_calls[3] - calls[3], 1);
    /* preProcessor false: skipped; no run, no postProcessor, no failure */
    CHECK(is_true(enq(app, "testMw", "{\"skip\":true}")));
    CHECK(wait_runs(app, &test_mw_calls[2], calls[2] + 2, 3000));
    test_run_for(app->loop, 50);
    CHECK_EQ_INT(test_task_runs - runs, 1);
    CHECK_EQ_INT(test_mw_calls[3] - calls[3], 1);
    CHECK_EQ_INT(stat_of(app, "resque:stat:failed"), failed);
    CHECK_EQ_STR(rtext(TS(app, "LLEN", "resque:queue:mw")), "0");
}

/* Redis goes away: API calls fail fast with a clear error, status still
 * answers, workers and the scheduler keep retrying; when Redis is back
 * jobs run again (the new server is empty: the worker re-registers). */
static void suite_redis_down(ah_app_t *app, struct test_redis *redis)
{
    json_t *v;
    uint64_t deadline;

    test_redis_stop(redis);
    test_run_for(app->loop, 150);
    enq(app, "testEcho", "{}");
    CHECK(r.status < 0);
    CHECK_EQ_STR(r.error ? r.error : "(none)", "redis unavailable");
    v = testkit_run_action(app, "status", NULL);
    CHECK_EQ_INT(json_integer_value(json_object_get(v, "resqueTotalQueueLength")), 0);
    json_decref(v);
    test_run_for(app->loop, 200); /* workers and scheduler poll against a dead Redis */
    CHECK(test_redis_start(redis, redis->port));
    deadline = core_mono_ms() + 5000;
    do {
        test_run_for(app->loop, 50);
        enq(app, "testEcho", "{\"back\":true}");
    } while (r.status < 0 && core_mono_ms() < deadline);
    CHECK_EQ_INT(r.status, 0);
    deadline = core_mono_ms() + 5000;
    while (core_mono_ms() < deadline && strcmp(jtext(test_task_last_params), "{\"back\":true}") != 0)
        test_run_for(app->loop, 10);
    CHECK_EQ_STR(jtext(test_task_last_params), "{\"back\":true}");
    /* the worker registers again with its ping, the scheduler leads again */
    deadline = core_mono_ms() + 3000;
    while (core_mono_ms() < deadline && strcmp(rtext(TS(app, "EXISTS", "resque:resque_scheduler_leader_lock")), "1") != 0)
        test_run_for(app->loop, 20);
    CHECK_EQ_STR(rtext(TS(app, "EXISTS", "resque:resque_scheduler_leader_lock")), "1");
}

static void suite(ah_app_t *app, const char *label)
{
    printf("# backend: %s\n", label);
    suite_run(app);
    suite_failures(app);
    suite_retry(app);
    suite_scheduler(app);
    suite_stuck(app);
    suite_periodic(app);
    suite_middleware(app);
    tr_reset(&r);
}

int main(void)
{
    struct tcfg cfg = {0};
    struct test_redis redis = {0};
    size_t len = sizeof(host);
    ah_app_t *app;

    uv_os_gethostname(host, &len);
    snprintf(wname, sizeof(wname), "%s:%d+1", host, (int)getpid());
    cfg.min_workers = 1;
    cfg.max_workers = 1;
    cfg.scheduler = true;
    cfg.timeout = 30;
    cfg.stuck_timeout = 1000;
    cfg.retry_stuck = true;

    app = tapp_new(&cfg);
    suite(app, "memory");
    CHECK_EQ_INT(testkit_app_free(app), 0);

    if (!test_redis_available() || !test_redis_start(&redis, 0)) {
        printf("not ok - redis-server could not be started\n");
        check_failed++;
        return check_done();
    }
    cfg.redis_port = redis.port;
    app = tapp_new(&cfg);
    suite(app, "redis");
    suite_redis_down(app, &redis);
    CHECK_EQ_INT(testkit_app_free(app), 0);
    /* the worker untracked itself and the leader lock was released */
    {
        char *out = test_redis_cli(&redis, "smembers resque:workers");

        CHECK_EQ_STR(out, "");
        free(out);
        out = test_redis_cli(&redis, "exists resque:resque_scheduler_leader_lock");
        CHECK_EQ_STR(out, "0");
        free(out);
    }
    test_redis_cleanup(&redis);
    json_decref(test_task_last_params);
    return check_done();
}
