/*
 * test_tasks_api.c - every task API function (tasks.md §3, §4, §6), the
 * same checks on the memory store and on a private redis-server, looking
 * at node-resque's keys and values directly.  No workers, no scheduler:
 * what is enqueued stays where the API put it.
 */
#include "tasks_testlib.h"

static struct tr r;

static json_t *jl(const char *text)
{
    return text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
}

/* enqueue(name, inputs JSON text, queue) -> the result (borrowed) */
static json_t *enq(ah_app_t *app, const char *name, const char *inputs, const char *queue)
{
    json_t *in = jl(inputs), *v;

    v = CALL(app, &r, ah_task_app_enqueue(app, name, in, queue, tr_cb, &r));
    json_decref(in);
    return v;
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;

    return x < y ? -1 : x > y;
}

/* An array of integers, sorted (set members come in any order). */
static json_t *sorted(json_t *a)
{
    static json_t *keep;
    long long v[64];
    size_t n = 0, i;
    json_t *e;

    json_array_foreach(a, i, e)
        if (n < 64)
            v[n++] = json_integer_value(e);
    qsort(v, n, sizeof(*v), cmp_ll);
    json_decref(keep);
    keep = json_array();
    for (i = 0; i < n; i++)
        json_array_append_new(keep, json_integer(v[i]));
    return keep;
}

static const char *err_of(void)
{
    return r.status < 0 && r.error ? r.error : "(no error)";
}

static void suite_enqueue(ah_app_t *app)
{
    json_t *v, *in;

    CHECK(is_true(enq(app, "testEcho", "{\"x\":1,\"s\":\"é/\\u0001\"}", NULL)));
    CHECK_EQ_STR(rtext(TS(app, "LRANGE", "resque:queue:default", "0", "-1")),
                 "[{\"class\":\"testEcho\",\"queue\":\"default\",\"args\":[{\"x\":1,\"s\":\"é/\\u0001\"}]}]");
    CHECK_EQ_STR(rtext(TS(app, "SMEMBERS", "resque:queues")), "[default]");

    /* no inputs: [null]; an explicit queue */
    CHECK(is_true(enq(app, "testEcho", NULL, "q2")));
    CHECK_EQ_STR(rtext(TS(app, "LRANGE", "resque:queue:q2", "0", "-1")),
                 "[{\"class\":\"testEcho\",\"queue\":\"q2\",\"args\":[null]}]");
    /* the task's own queue */
    CHECK(is_true(enq(app, "testFail", "{}", NULL)));
    CHECK_EQ_STR(rtext(TS(app, "LLEN", "resque:queue:failing")), "1");

    /* unknown task */
    enq(app, "nope", "{}", NULL);
    CHECK_EQ_INT(r.status, AH_ENOTFOUND);
    CHECK_EQ_STR(err_of(), "task nope not found");
    enq(app, "nope", "{}", "default");
    CHECK_EQ_STR(err_of(), "task nope not found");

    /* input validation (tasks.md §3) */
    enq(app, "testInputs", "{}", NULL);
    CHECK_EQ_STR(err_of(), "a is a required input for task testInputs");
    enq(app, "testInputs", "{\"a\":\"\"}", NULL);
    CHECK_EQ_STR(err_of(), "a is a required input for task testInputs");
    enq(app, "testInputs", "{\"a\":null}", NULL);
    CHECK_EQ_STR(err_of(), "a is a required input for task testInputs");
    enq(app, "testInputs", "{\"a\":1,\"c\":1}", NULL);
    CHECK_EQ_STR(err_of(), "1 is not a valid value for c in task testInputs");
    enq(app, "testInputs", "{\"a\":1,\"c\":\"bad\"}", NULL);
    CHECK_EQ_STR(err_of(), "c cannot be bad");
    CHECK_EQ_STR(rtext(TS(app, "LLEN", "resque:queue:inputs")), "0");
    /* defaults fill in, extra inputs stay, a given value is kept */
    CHECK(is_true(enq(app, "testInputs", "{\"a\":0,\"extra\":true}", NULL)));
    CHECK(is_true(enq(app, "testInputs", "{\"a\":\"x\",\"b\":5,\"c\":2}", NULL)));
    CHECK_EQ_STR(rtext(TS(app, "LRANGE", "resque:queue:inputs", "0", "-1")),
                 "[{\"class\":\"testInputs\",\"queue\":\"inputs\",\"args\":[{\"a\":0,\"extra\":true,\"b\":2}]},"
                 "{\"class\":\"testInputs\",\"queue\":\"inputs\",\"args\":[{\"a\":\"x\",\"b\":5,\"c\":2}]}]");

    /* bad arguments: the callback never runs */
    CHECK_EQ_INT(ah_task_app_enqueue(app, NULL, NULL, NULL, tr_cb, &r), AH_EINVAL);
    CHECK_EQ_INT(ah_task_app_enqueue(app, "testEcho", NULL, NULL, NULL, NULL), AH_EINVAL);
    CHECK_EQ_INT(ah_task_app_del(app, NULL, "x", NULL, 0, tr_cb, &r), AH_EINVAL);

    /* queued, del */
    v = CALL(app, &r, ah_task_app_queued(app, "default", 0, -1, tr_cb, &r));
    CHECK_EQ_STR(jtext(v), "[{\"class\":\"testEcho\",\"queue\":\"default\",\"args\":[{\"x\":1,\"s\":\"é/\\u0001\"}]}]");
    in = jl("{\"x\":1,\"s\":\"é/\\u0001\"}");
    v = CALL(app, &r, ah_task_app_del(app, "default", "testEcho", in, 0, tr_cb, &r));
    CHECK_EQ_STR(jtext(v), "1");
    v = CALL(app, &r, ah_task_app_del(app, "default", "testEcho", in, 0, tr_cb, &r));
    CHECK_EQ_STR(jtext(v), "0");
    json_decref(in);
    v = CALL(app, &r, ah_task_app_del(app, "q2", "testEcho", NULL, 1, tr_cb, &r));
    CHECK_EQ_STR(jtext(v), "1");

    /* the action form */
    v = testkit_run_action(app, "taskEnqueueTest", "{\"task\":\"testEcho\",\"inputs\":\"{\\\"via\\\":\\\"ctx\\\"}\"}");
    CHECK_EQ_STR(jtext(json_object_get(v, "enqueued")), "true");
    json_decref(v);
    CHECK_EQ_STR(rtext(TS(app, "LPOP", "resque:queue:default")),
                 "{\"class\":\"testEcho\",\"queue\":\"default\",\"args\":[{\"via\":\"ctx\"}]}");
    v = testkit_run_action(app, "taskEnqueueTest", "{\"task\":\"nope\"}");
    CHECK_EQ_STR(json_string_value(json_object_get(v, "error")), "task nope not found");
    json_decref(v);
}

static void suite_delayed(ah_app_t *app)
{
    const char *job = "{\"class\":\"testEcho\",\"queue\":\"default\",\"args\":[{\"y\":2}]}";
    char key[256];
    json_t *in = jl("{\"y\":2}"), *v;
    long long later = (long long)core_now_ms() + 3600 * 1000;

    v = CALL(app, &r, ah_task_app_enqueue_at(app, 1700000000400LL, "testEcho", in, NULL, false, tr_cb, &r));
    CHECK(is_true(v));
    CHECK_EQ_STR(rtext(TS(app, "ZRANGE", "resque:delayed_queue_schedule", "0", "-1", "WITHSCORES")),
                 "[1700000000,1700000000]");
    CHECK_EQ_STR(rtext(TS(app, "LRANGE", "resque:delayed:1700000000", "0", "-1")), "[{\"class\":\"testEcho\",\"queue\":\"default\",\"args\":[{\"y\":2}]}]");
    snprintf(key, sizeof(key), "resque:timestamps:%s", job);
    CHECK_EQ_STR(rtext(TS(app, "SMEMBERS", key)), "[delayed:1700000000]");
    /* rounding: 1700000000.6 s is the next second */
    CALL(app, &r, ah_task_app_enqueue_at(app, 1700000000600LL, "testEcho", in, NULL, false, tr_cb, &r));
    CHECK_EQ_STR(rtext(TS(app, "LLEN", "resque:delayed:1700000001")), "1");
    /* duplicates */
    CALL(app, &r, ah_task_app_enqueue_at(app, 1700000000000LL, "testEcho", in, NULL, false, tr_cb, &r));
    CHECK_EQ_STR(err_of(), "Job already enqueued at this time with same arguments");
    v = CALL(app, &r, ah_task_app_enqueue_at(app, 1700000000000LL, "testEcho", in, NULL, true, tr_cb, &r));
    CHECK_EQ_INT(r.status, 0);
    CHECK(is_null(v));
    CHECK_EQ_STR(rtext(TS(app, "LLEN", "resque:delayed:1700000000")), "1");
    /* validation applies */
    CALL(app, &r, ah_task_app_enqueue_in(app, 10, "testInputs", NULL, NULL, false, tr_cb, &r));
    CHECK_EQ_STR(err_of(), "a is a required input for task testInputs");

    v = CALL(app, &r, ah_task_app_scheduled_at(app, "default", "testEcho", in, tr_cb, &r));
    CHECK_EQ_STR(jtext(sorted(v)), "[1700000000,1700000001]");
    v = CALL(app, &r, ah_task_app_timestamps(app, tr_cb, &r));
    CHECK_EQ_STR(jtext(v), "[1700000000000,1700000001000]");
    v = CALL(app, &r, ah_task_app_delayed_at(app, 1700000000000LL, tr_cb, &r));
    CHECK_EQ_STR(jtext(v), "{\"tasks\":[{\"class\":\"testEcho\",\"queue\":\"default\",\"args\":[{\"y\":2}]}],"
                           "\"rTimestamp\":1700000000}");
    v = CALL(app, &r, ah_task_app_enqueue_in(app, 3600 * 1000, "testEcho", NULL, "later", false, tr_cb, &r));
    CHECK(is_true(v));
    v = CALL(app, &r, ah_task_app_all_delayed(app, tr_cb, &r));
    CHECK_EQ_INT((long long)json_object_size(v), 3);
    CHECK_EQ_STR(jtext(json_object_get(v, "1700000001000")),
                 "[{\"class\":\"testEcho\",\"queue\":\"default\",\"args\":[{\"y\":2}]}]");
    {
        char k[32];

        snprintf(k, sizeof(k), "%lld", (later + 500) / 1000 * 1000);
        CHECK(json_object_get(v, k) != NULL ||
              json_object_get(v, (snprintf(k, sizeof(k), "%lld", (later + 500) / 1000 * 1000 + 1000), k)) != NULL);
    }
    v = CALL(app, &r, ah_task_app_del_delayed(app, "default", "testEcho", in, tr_cb, &r));
    CHECK_EQ_STR(jtext(sorted(v)), "[1700000000,1700000001]");
    CHECK_EQ_STR(rtext(TS(app, "SMEMBERS", key)), "[]");
    CHECK_EQ_STR(rtext(TS(app, "LLEN", "resque:delayed:1700000000")), "0");
    v = CALL(app, &r, ah_task_app_scheduled_at(app, "default", "testEcho", in, tr_cb, &r));
    CHECK_EQ_STR(jtext(v), "[]");
    v = CALL(app, &r, ah_task_app_del_delayed(app, "default", "testEcho", in, tr_cb, &r));
    CHECK_EQ_STR(jtext(v), "[]");
    json_decref(in);
}

static void suite_queues(ah_app_t *app)
{
    json_t *v;

    enq(app, "testEcho", "{\"n\":1}", "q3");
    enq(app, "testAsync", "{}", "q3");
    enq(app, "testEcho", "{\"n\":2}", "q3");
    enq(app, "testEcho", "{\"n\":3}", "q3");
    v = CALL(app, &r, ah_task_app_del_by_function(app, "q3", "testEcho", 0, 1, tr_cb, &r));
    CHECK_EQ_STR(jtext(v), "1");
    v = CALL(app, &r, ah_task_app_del_by_function(app, "q3", "testEcho", 0, -1, tr_cb, &r));
    CHECK_EQ_STR(jtext(v), "2");
    v = CALL(app, &r, ah_task_app_queued(app, "q3", 0, -1, tr_cb, &r));
    CHECK_EQ_STR(jtext(v), "[{\"class\":\"testAsync\",\"queue\":\"q3\",\"args\":[{}]}]");
    v = CALL(app, &r, ah_task_app_del_queue(app, "q3", tr_cb, &r));
    CHECK(is_null(v));
    CHECK_EQ_STR(rtext(TS(app, "EXISTS", "resque:queue:q3")), "0");
    CHECK_EQ_STR(rtext(TS(app, "SISMEMBER", "resque:queues", "q3")), "0");

    /* locks */
    store_reply_free(TS(app, "SET", "resque:lock:a:q:[{}]", "123"));
    store_reply_free(TS(app, "SET", "resque:workerslock:b:q:[null]", "456"));
    store_reply_free(TS(app, "SET", "resque:other", "x"));
    v = CALL(app, &r, ah_task_app_locks(app, tr_cb, &r));
    CHECK_EQ_STR(jtext(v), "{\"lock:a:q:[{}]\":\"123\",\"workerslock:b:q:[null]\":\"456\"}");
    v = CALL(app, &r, ah_task_app_del_lock(app, "lock:a:q:[{}]", tr_cb, &r));
    CHECK_EQ_STR(jtext(v), "1");
    v = CALL(app, &r, ah_task_app_del_lock(app, "lock:a:q:[{}]", tr_cb, &r));
    CHECK_EQ_STR(jtext(v), "0");
    v = CALL(app, &r, ah_task_app_locks(app, tr_cb, &r));
    CHECK_EQ_STR(jtext(v), "{\"workerslock:b:q:[null]\":\"456\"}");

    /* stats */
    v = CALL(app, &r, ah_task_app_stats(app, tr_cb, &r));
    CHECK_EQ_STR(jtext(v), "{}");
    store_reply_free(TS(app, "SET", "resque:stat:processed", "4"));
    store_reply_free(TS(app, "SET", "resque:stat:failed:h:1+1", "2"));
    v = CALL(app, &r, ah_task_app_stats(app, tr_cb, &r));
    CHECK_EQ_STR(jtext(json_object_get(v, "processed")), "\"4\"");
    CHECK_EQ_STR(jtext(json_object_get(v, "failed:h:1+1")), "\"2\"");
    CHECK_EQ_INT((long long)json_object_size(v), 2);
}

static bool total_done;
static int total_status;
static long long total_value;

static void on_total(ah_app_t *app, int status, long long total, const char *error, void *arg)
{
    (void)app;
    (void)error;
    (void)arg;
    total_done = true;
    total_status = status;
    total_value = total;
}

static void suite_workers(ah_app_t *app)
{
    const char *wo = "{\"run_at\":\"Thu Jan 01 2015 00:00:00 GMT+0000 (Coordinated Universal Time)\","
                     "\"queue\":\"q1\",\"worker\":\"h:1+1\",\"payload\":{\"class\":\"testEcho\",\"queue\":\"q1\","
                     "\"args\":[{\"w\":1}]}}";
    json_t *v, *rec;

    store_reply_free(TS(app, "SADD", "resque:workers", "h:1+1:q1,q2", "h:2+1:*", "solo"));
    v = CALL(app, &r, ah_task_app_workers(app, tr_cb, &r));
    CHECK_EQ_STR(jtext(json_object_get(v, "h:1+1")), "\"q1,q2\"");
    CHECK_EQ_STR(jtext(json_object_get(v, "h:2+1")), "\"*\"");
    CHECK(is_null(json_object_get(v, "solo")));
    store_reply_free(TS(app, "SREM", "resque:workers", "solo"));

    v = CALL(app, &r, ah_task_app_working_on(app, "h:1+1", "q1,q2", tr_cb, &r));
    CHECK(is_null(v));
    store_reply_free(TS(app, "SET", "resque:worker:h:1+1:q1,q2", wo));
    v = CALL(app, &r, ah_task_app_working_on(app, "h:1+1", "q1,q2", tr_cb, &r));
    CHECK_EQ_STR(json_string_value(v), wo);
    v = CALL(app, &r, ah_task_app_all_working_on(app, tr_cb, &r));
    CHECK_EQ_STR(jtext(json_object_get(v, "h:2+1")), "\"started\"");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(v, "h:1+1"), "queue")), "q1");

    /* details */
    enq(app, "testEcho", "{}", "dq");
    enq(app, "testEcho", "{\"i\":2}", "dq");
    v = CALL(app, &r, ah_task_app_details(app, tr_cb, &r));
    CHECK_EQ_STR(jtext(json_object_get(json_object_get(v, "queues"), "dq")), "{\"length\":2}");
    CHECK(json_is_object(json_object_get(json_object_get(v, "workers"), "h:1+1")));
    CHECK_EQ_STR(jtext(json_object_get(json_object_get(v, "stats"), "processed")), "\"4\"");
    CHECK(is_null(json_object_get(v, "leader")));
    store_reply_free(TS(app, "SET", "resque:resque_scheduler_leader_lock", "boss:1"));
    v = CALL(app, &r, ah_task_app_details(app, tr_cb, &r));
    CHECK_EQ_STR(jtext(json_object_get(v, "leader")), "\"boss:1\"");
    /* the status action's resqueTotalQueueLength */
    CHECK_EQ_INT(tasks_total_queue_length(app, NULL, NULL), AH_EINVAL);
    total_done = false;
    CHECK_EQ_INT(tasks_total_queue_length(app, on_total, NULL), 0);
    CHECK(!total_done);
    test_run_until(app->loop, &total_done, 5000);
    CHECK_EQ_INT(total_status, 0);
    CHECK_EQ_INT(total_value, 5); /* failing 1 + inputs 2 + dq 2 */
    v = testkit_run_action(app, "status", NULL);
    CHECK_EQ_INT(json_integer_value(json_object_get(v, "resqueTotalQueueLength")), 5);
    json_decref(v);

    /* cleanOldWorkers: h:1+1 ran its job since 2015 */
    store_reply_free(TS(app, "SET", "resque:worker:ping:h:1+1", "{\"time\":1420070400,\"name\":\"h:1+1\",\"queues\":\"q1,q2\"}"));
    store_reply_free(TS(app, "SET", "resque:worker:h:1+1:q1,q2:started", "1420070400"));
    v = CALL(app, &r, ah_task_app_clean_old_workers(app, 60000, tr_cb, &r));
    CHECK_EQ_INT((long long)json_object_size(v), 1);
    rec = json_object_get(v, "h:1+1");
    CHECK_EQ_STR(json_string_value(json_object_get(rec, "error")), "Worker Timeout (killed manually)");
    CHECK_EQ_STR(json_string_value(json_object_get(rec, "exception")), "Worker Timeout (killed manually)");
    CHECK_EQ_STR(json_string_value(json_object_get(rec, "queue")), "q1");
    CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(rec, "backtrace"), 1)), "queue#forceCleanWorker");
    CHECK_EQ_STR(jtext(json_object_get(rec, "payload")), "{\"class\":\"testEcho\",\"queue\":\"q1\",\"args\":[{\"w\":1}]}");
    CHECK_EQ_STR(rtext(TS(app, "SMEMBERS", "resque:workers")), "[h:2+1:*]");
    CHECK_EQ_STR(rtext(TS(app, "EXISTS", "resque:worker:h:1+1:q1,q2", "resque:worker:ping:h:1+1",
                          "resque:worker:h:1+1:q1,q2:started")), "0");
    CHECK_EQ_STR(rtext(TS(app, "GET", "resque:stat:failed")), "1");
    v = CALL(app, &r, ah_task_app_clean_old_workers(app, 60000, tr_cb, &r));
    CHECK_EQ_STR(jtext(v), "{}");
}

static void suite_failed(ah_app_t *app)
{
    json_t *v, *rec;

    v = CALL(app, &r, ah_task_app_failed_count(app, tr_cb, &r));
    CHECK_EQ_STR(jtext(v), "1"); /* from cleanOldWorkers */
    v = CALL(app, &r, ah_task_app_failed(app, 0, -1, tr_cb, &r));
    CHECK_EQ_INT((long long)json_array_size(v), 1);
    rec = json_incref(json_array_get(v, 0));
    v = CALL(app, &r, ah_task_app_retry_and_remove_failed(app, rec, tr_cb, &r));
    CHECK(is_true(v));
    CHECK_EQ_STR(rtext(TS(app, "LRANGE", "resque:queue:q1", "0", "-1")),
                 "[{\"class\":\"testEcho\",\"queue\":\"q1\",\"args\":[{\"w\":1}]}]");
    v = CALL(app, &r, ah_task_app_failed_count(app, tr_cb, &r));
    CHECK_EQ_STR(jtext(v), "0");
    CALL(app, &r, ah_task_app_retry_and_remove_failed(app, rec, tr_cb, &r));
    CHECK_EQ_STR(err_of(), "This job is not in failed queue");
    /* removeFailed matches the exact JSON */
    {
        char *enc = json_out_str(rec, 0, 0, NULL);

        store_reply_free(TS(app, "RPUSH", "resque:failed", enc));
        free(enc);
    }
    v = CALL(app, &r, ah_task_app_remove_failed(app, rec, tr_cb, &r));
    CHECK_EQ_STR(jtext(v), "1");
    v = CALL(app, &r, ah_task_app_remove_failed(app, rec, tr_cb, &r));
    CHECK_EQ_STR(jtext(v), "0");
    json_decref(rec);
}

static void suite_recurrent(ah_app_t *app)
{
    json_t *v, *empty = json_object();

    v = CALL(app, &r, ah_task_app_enqueue_recurrent_task(app, "testPeriodic", tr_cb, &r));
    CHECK_EQ_INT(r.status, 0);
    CHECK(is_null(v));
    v = CALL(app, &r, ah_task_app_scheduled_at(app, "periodic", "testPeriodic", empty, tr_cb, &r));
    CHECK_EQ_INT((long long)json_array_size(v), 1);
    if (json_array_size(v) == 1) {
        long long at = json_integer_value(json_array_get(v, 0)), want = ((long long)core_now_ms() + 1000) / 1000;

        CHECK(at >= want - 1 && at <= want + 1);
    }
    /* DelayQueueLock: already scheduled, so enqueueAll enqueues nothing */
    v = CALL(app, &r, ah_task_app_enqueue_all_recurrent_tasks(app, tr_cb, &r));
    CHECK_EQ_STR(jtext(v), "[]");
    /* stopRecurrentTask removes copies enqueued with [null] only (v29 quirk) */
    v = CALL(app, &r, ah_task_app_stop_recurrent_task(app, "testPeriodic", tr_cb, &r));
    CHECK_EQ_STR(jtext(v), "0");
    v = CALL(app, &r, ah_task_app_del_delayed(app, "periodic", "testPeriodic", empty, tr_cb, &r));
    CHECK_EQ_INT((long long)json_array_size(v), 1);
    /* QueueLock ran before DelayQueueLock vetoed: its lock stays (as in v29) */
    v = CALL(app, &r, ah_task_app_enqueue_all_recurrent_tasks(app, tr_cb, &r));
    CHECK_EQ_STR(jtext(v), "[]");
    v = CALL(app, &r, ah_task_app_del_lock(app, "lock:testPeriodic:periodic:[{}]", tr_cb, &r));
    CHECK_EQ_STR(jtext(v), "1");
    v = CALL(app, &r, ah_task_app_enqueue_all_recurrent_tasks(app, tr_cb, &r));
    CHECK_EQ_STR(jtext(v), "[\"testPeriodic\"]");
    CHECK_EQ_STR(rtext(TS(app, "LRANGE", "resque:queue:periodic", "0", "-1")),
                 "[{\"class\":\"testPeriodic\",\"queue\":\"periodic\",\"args\":[{}]}]");
    /* QueueLock: the lock key holds its expiry second */
    v = CALL(app, &r, ah_task_app_locks(app, tr_cb, &r));
    CHECK(json_is_string(json_object_get(v, "lock:testPeriodic:periodic:[{}]")));
    v = CALL(app, &r, ah_task_app_enqueue_all_recurrent_tasks(app, tr_cb, &r));
    CHECK_EQ_STR(jtext(v), "[]");
    CHECK_EQ_STR(rtext(TS(app, "LLEN", "resque:queue:periodic")), "1");
    /* stopRecurrentTask removes a copy enqueued without inputs */
    CHECK(is_true(enq(app, "testPeriodic", NULL, NULL)));
    CHECK_EQ_STR(rtext(TS(app, "LLEN", "resque:queue:periodic")), "2");
    v = CALL(app, &r, ah_task_app_stop_recurrent_task(app, "testPeriodic", tr_cb, &r));
    CHECK_EQ_STR(jtext(v), "1");
    CHECK_EQ_STR(rtext(TS(app, "LLEN", "resque:queue:periodic")), "1");
    v = CALL(app, &r, ah_task_app_stop_recurrent_task(app, "testEcho", tr_cb, &r));
    CHECK(is_null(v));
    CALL(app, &r, ah_task_app_stop_recurrent_task(app, "nope", tr_cb, &r));
    CHECK_EQ_STR(err_of(), "task nope not found");
    json_decref(empty);
}

static void suite_plugins(ah_app_t *app)
{
    int before = test_mw_calls[0];

    /* middleware preEnqueue: false vetoes, a failure rejects */
    CHECK(is_false(enq(app, "testMw", "{\"veto\":true}", NULL)));
    enq(app, "testMw", "{\"explode\":true}", NULL);
    CHECK_EQ_STR(err_of(), "preEnqueue exploded");
    CHECK_EQ_STR(rtext(TS(app, "LLEN", "resque:queue:mw")), "0");
    CHECK(is_true(enq(app, "testMw", "{}", NULL)));
    CHECK_EQ_STR(rtext(TS(app, "LLEN", "resque:queue:mw")), "1");
    CHECK_EQ_INT(test_mw_calls[0] - before, 3);
    /* QueueLock */
    CHECK(is_true(enq(app, "testQueueLock", "{\"k\":1}", NULL)));
    CHECK(is_false(enq(app, "testQueueLock", "{\"k\":1}", NULL)));
    CHECK(is_true(enq(app, "testQueueLock", "{\"k\":2}", NULL)));
    CHECK_EQ_STR(rtext(TS(app, "LLEN", "resque:queue:locked")), "2");
    CHECK_EQ_STR(rtext(TS(app, "TTL", "resque:lock:testQueueLock:locked:[{\"k\":1}]")), "3600");
}

/* specHelper (builtin.md §3) */
static void suite_spec(ah_app_t *app)
{
    json_t *in = jl("{\"s\":1}"), *v;
    int runs = test_task_runs;

    v = CALL(app, &r, tasks_spec_run_task(app, "testEcho", in, tr_cb, &r));
    CHECK_EQ_STR(jtext(v), "{\"echo\":{\"s\":1}}");
    CHECK_EQ_INT(test_task_runs - runs, 1);
    CALL(app, &r, tasks_spec_run_task(app, "nope", in, tr_cb, &r));
    CHECK_EQ_STR(err_of(), "task nope not found");
    CALL(app, &r, tasks_spec_run_task(app, "testFail", in, tr_cb, &r));
    CHECK_EQ_STR(err_of(), "kaboom");
    v = CALL(app, &r, tasks_spec_run_task(app, "testAsync", in, tr_cb, &r));
    CHECK_EQ_STR(jtext(v), "\"late\"");
    /* runFullTask: plugins and middleware run, args are wrapped in an array */
    v = CALL(app, &r, tasks_spec_run_full_task(app, "testMw", in, tr_cb, &r));
    CHECK_EQ_STR(jtext(v), "{\"wrapped\":{\"echo\":{\"s\":1,\"added\":true}}}");
    json_decref(in);
    in = jl("{\"skip\":true}");
    v = CALL(app, &r, tasks_spec_run_full_task(app, "testMw", in, tr_cb, &r));
    CHECK_EQ_INT(r.status, 0);
    CHECK(is_null(v));
    json_decref(in);
    CALL(app, &r, tasks_spec_run_full_task(app, "testFail", NULL, tr_cb, &r));
    CHECK_EQ_STR(err_of(), "kaboom");
    CALL(app, &r, tasks_spec_run_full_task(app, "nope", NULL, tr_cb, &r));
    CHECK_EQ_STR(err_of(), "No job defined for class \"nope\"");
    /* findEnqueuedTasks / deleteEnqueuedTasks */
    enq(app, "testEcho", "{\"f\":1}", "specq");
    in = jl("{\"f\":1}");
    /* (deleteEnqueuedTasks looks in the queues of resque:queues only, as v29) */
    CALL(app, &r, ah_task_app_enqueue_at(app, 1700000000000LL, "testEcho", in, "specq", false, tr_cb, &r));
    v = CALL(app, &r, tasks_spec_find_enqueued(app, "testEcho", tr_cb, &r));
    CHECK_EQ_INT((long long)json_array_size(v), 2);
    CHECK_EQ_STR(jtext(json_array_get(v, 0)),
                 "{\"class\":\"testEcho\",\"queue\":\"specq\",\"args\":[{\"f\":1}],\"timestamp\":null}");
    CHECK_EQ_STR(jtext(json_array_get(v, 1)),
                 "{\"class\":\"testEcho\",\"queue\":\"specq\",\"args\":[{\"f\":1}],\"timestamp\":1700000000000}");
    CALL(app, &r, tasks_spec_delete_enqueued(app, "testEcho", in, tr_cb, &r));
    CHECK_EQ_INT(r.status, 0);
    v = CALL(app, &r, tasks_spec_find_enqueued(app, "testEcho", tr_cb, &r));
    CHECK_EQ_STR(jtext(v), "[]");
    json_decref(in);
}

static void suite(ah_app_t *app, const char *label)
{
    printf("# backend: %s\n", label);
    tflush(app);
    suite_enqueue(app);
    suite_delayed(app);
    suite_queues(app);
    suite_workers(app);
    suite_failed(app);
    suite_recurrent(app);
    suite_plugins(app);
    tflush(app);
    suite_spec(app);
    tr_reset(&r);
}

static void set_namespace(ah_app_t *app, void *arg)
{
    tcfg_apply(app, arg);
    testkit_config_set(app, "tasks.connectionOptions.tasks.namespace", json_string("myapp"));
}

int main(void)
{
    struct tcfg cfg = {0};
    struct test_redis redis = {0};
    ah_app_t *app;

    app = tapp_new(&cfg);
    suite(app, "memory");
    CHECK_EQ_INT(testkit_app_free(app), 0);

    /* connectionOptions.tasks.namespace replaces "resque" in every key */
    app = testkit_app_new_with(set_namespace, &cfg);
    CHECK(is_true(enq(app, "testEcho", "{}", NULL)));
    CHECK_EQ_STR(rtext(TS(app, "LLEN", "myapp:queue:default")), "1");
    CHECK_EQ_STR(rtext(TS(app, "SMEMBERS", "myapp:queues")), "[default]");
    CHECK_EQ_STR(rtext(TS(app, "EXISTS", "resque:queues")), "0");
    store_reply_free(TS(app, "SET", "myapp:lock:x", "1"));
    CHECK_EQ_STR(jtext(CALL(app, &r, ah_task_app_locks(app, tr_cb, &r))), "{\"lock:x\":\"1\"}");
    tr_reset(&r);
    CHECK_EQ_INT(testkit_app_free(app), 0);

    if (!test_redis_available() || !test_redis_start(&redis, 0)) {
        printf("not ok - redis-server could not be started\n");
        check_failed++;
        return check_done();
    }
    cfg.redis_port = redis.port;
    app = tapp_new(&cfg);
    suite(app, "redis");
    CHECK_EQ_INT(testkit_app_free(app), 0);
    test_redis_cleanup(&redis);
    json_decref(test_task_last_params);
    return check_done();
}
