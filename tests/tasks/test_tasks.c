/*
 * test_tasks.c - tasks that exist only in the test build (actionhero-test
 * and the unit tests), used by tests/unit/test_tasks_*.c and the 5x
 * integration tests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include <ah/ah.h>

#include "app/app.h"
#include "cluster/store.h"
#include "core/json_out.h"
#include "test_tasks.h"

int test_task_runs;
json_t *test_task_last_params;
int test_mw_calls[4];

/* testEcho: the result is the params; counts its runs. */
static int echo_run(ah_job_t *job, json_t *params)
{
    test_task_runs++;
    json_decref(test_task_last_params);
    test_task_last_params = json_deep_copy(params);
    ah_job_set_result(job, json_pack("{s:O}", "echo", params));
    return AH_DONE;
}

AH_TASK(test_echo) = {
    .name = "testEcho",
    .description = "echoes its params",
    .run = echo_run,
};

/* testFail: fails with params.message, or "kaboom". */
static int fail_run(ah_job_t *job, json_t *params)
{
    const char *m = json_string_value(json_object_get(params, "message"));

    return ah_job_fail(job, AH_EFAIL, "%s", m ? m : "kaboom");
}

AH_TASK(test_fail) = {
    .name = "testFail",
    .description = "always fails",
    .queue = "failing",
    .run = fail_run,
};

/* testAsync: finishes after params.ms on a timer. */
struct async_run {
    uv_timer_t timer;
    ah_job_t *job;
};

static void on_async_closed(uv_handle_t *h)
{
    free(h->data);
}

static void on_async_timer(uv_timer_t *t)
{
    struct async_run *a = t->data;

    test_task_runs++;
    ah_job_set_result(a->job, json_string("late"));
    ah_job_done(a->job);
    t->data = a;
    uv_close((uv_handle_t *)t, on_async_closed);
}

static int async_run(ah_job_t *job, json_t *params)
{
    struct async_run *a = calloc(1, sizeof(*a));
    json_t *ms = json_object_get(params, "ms");

    a->job = job;
    uv_timer_init(ah_job_app(job)->loop, &a->timer);
    a->timer.data = a;
    uv_timer_start(&a->timer, on_async_timer, json_is_integer(ms) ? (uint64_t)json_integer_value(ms) : 10, 0);
    return AH_PENDING;
}

AH_TASK(test_async) = {
    .name = "testAsync",
    .description = "finishes later",
    .run = async_run,
};

/* testInputs: required a, default b = 2, c validated. */
static int validate_c(ah_app_t *app, const char *name, json_t *value, char *err, size_t errlen)
{
    (void)app;
    (void)name;
    if (json_is_string(value) && strcmp(json_string_value(value), "bad") == 0) {
        snprintf(err, errlen, "c cannot be bad");
        return -1;
    }
    return json_is_number(value) && json_number_value(value) == 1 ? 1 : 0;
}

static const ah_task_input_t echo_inputs[] = {
    {.name = "a", .required = true},
    {.name = "b", .default_json = "2"},
    {.name = "c", .validate = validate_c},
    {0},
};

AH_TASK(test_inputs) = {
    .name = "testInputs",
    .description = "has inputs",
    .queue = "inputs",
    .inputs = echo_inputs,
    .run = echo_run,
};

/* testPeriodic: every second. */
int test_periodic_runs;

static int periodic_run(ah_job_t *job, json_t *params)
{
    (void)params;
    test_periodic_runs++;
    ah_job_set_result(job, json_integer(test_periodic_runs));
    return AH_DONE;
}

AH_TASK(test_periodic) = {
    .name = "testPeriodic",
    .description = "periodic",
    .queue = "periodic",
    .frequency = 1000,
    .run = periodic_run,
};

/* testRetry: fails; the Retry plugin runs it twice. */
static const char *const retry_plugins[] = {"Retry", NULL};

AH_TASK(test_retry) = {
    .name = "testRetry",
    .description = "fails and is retried",
    .queue = "retry",
    .plugins = retry_plugins,
    .plugin_options = "{\"Retry\": {\"retryLimit\": 2, \"retryDelay\": 100}}",
    .run = fail_run,
};

/* testQueueLock: one copy in the queue at a time. */
static const char *const qlock_plugins[] = {"QueueLock", NULL};

AH_TASK(test_queue_lock) = {
    .name = "testQueueLock",
    .description = "queue-locked",
    .queue = "locked",
    .plugins = qlock_plugins,
    .run = echo_run,
};

/* testBlocking: sums 1..n off the loop. */
struct sum {
    long long n, total;
};

static void sum_work(void *arg)
{
    struct sum *s = arg;
    long long i;

    for (i = 1; i <= s->n; i++)
        s->total += i;
}

static void sum_after(ah_job_t *job, int status, void *arg)
{
    struct sum *s = arg;

    if (status < 0) {
        ah_job_fail(job, status, "cancelled");
    } else {
        ah_job_set_result(job, json_integer(s->total));
        json_decref(test_task_last_params);
        test_task_last_params = json_integer(s->total);
    }
    free(s);
    test_task_runs++;
    ah_job_done(job);
}

static int blocking_run(ah_job_t *job, json_t *params)
{
    struct sum *s = calloc(1, sizeof(*s));
    int rc;

    s->n = json_integer_value(json_object_get(params, "n"));
    if ((rc = ah_task_run_blocking(job, sum_work, sum_after, s)) < 0) {
        free(s);
        return ah_job_fail(job, rc, "cannot queue the work");
    }
    return AH_PENDING;
}

AH_TASK(test_blocking) = {
    .name = "testBlocking",
    .description = "CPU work off the loop",
    .run = blocking_run,
};

/* testMw: task middleware testTaskMw: preEnqueue vetoes {veto: true},
 * preProcessor adds args[0].added, postProcessor wraps the result. */
static int mw_pre_enqueue(ah_job_t *job)
{
    test_mw_calls[0]++;
    if (json_is_true(json_object_get(ah_job_params(job), "veto")))
        return AH_TASK_STOP;
    if (json_is_true(json_object_get(ah_job_params(job), "explode")))
        return ah_job_fail(job, AH_EFAIL, "preEnqueue exploded");
    return AH_DONE;
}

static int mw_post_enqueue(ah_job_t *job)
{
    (void)job;
    test_mw_calls[1]++;
    return AH_DONE;
}

static int mw_pre(ah_job_t *job)
{
    test_mw_calls[2]++;
    if (json_is_true(json_object_get(ah_job_params(job), "skip")))
        return AH_TASK_STOP;
    json_object_set_new(ah_job_params(job), "added", json_true());
    return AH_DONE;
}

static int mw_post(ah_job_t *job)
{
    test_mw_calls[3]++;
    if (ah_job_result(job))
        ah_job_set_result(job, json_pack("{s:O}", "wrapped", ah_job_result(job)));
    return AH_DONE;
}

AH_TASK_MIDDLEWARE(test_task_mw) = {
    .name = "testTaskMw",
    .pre_enqueue = mw_pre_enqueue,
    .post_enqueue = mw_post_enqueue,
    .pre_processor = mw_pre,
    .post_processor = mw_post,
};

static const char *const mw_names[] = {"testTaskMw", NULL};

AH_TASK(test_mw) = {
    .name = "testMw",
    .description = "has task middleware",
    .queue = "mw",
    .middleware = mw_names,
    .run = echo_run,
};

/* testSetKey (interop): SET <params.key> to the JSON of the params. */
static void on_set(int status, const struct store_reply *r, void *arg)
{
    ah_job_t *job = arg;

    if (status < 0)
        ah_job_fail(job, status, "%s", store_strerror(status, r));
    else
        ah_job_set_result(job, json_string("stored"));
    ah_job_done(job);
}

static int setkey_run(ah_job_t *job, json_t *params)
{
    const char *key = json_string_value(json_object_get(params, "key"));
    char *text;
    int rc;

    if (key == NULL)
        return ah_job_fail(job, AH_EINVAL, "no key");
    text = json_out_str(params, 0, 0, NULL);
    rc = store_command(store_get(ah_job_app(job)), on_set, job, "SET", key, text, NULL);
    free(text);
    if (rc < 0)
        return ah_job_fail(job, rc, "store unavailable");
    return AH_PENDING;
}

AH_TASK(test_set_key) = {
    .name = "testSetKey",
    .description = "stores its params under params.key",
    .run = setkey_run,
};

/* taskEnqueueTest (action): the action form of the API; enqueues
 * params.task with params.inputs (JSON text) into params.queue (or the
 * task's), in params.in ms when given, and answers {enqueued}. */
static void on_enqueued(ah_ctx_t *ctx, int status, json_t *result, const char *error)
{
    if (status < 0)
        ah_set_error(ctx, "%s", error);
    else
        json_object_set(ah_response(ctx), "enqueued", result);
    ah_done(ctx);
}

static int enqueue_action_run(ah_ctx_t *ctx)
{
    const char *inputs = ah_param_str(ctx, "inputs");
    json_t *in = inputs ? json_loads(inputs, JSON_DECODE_ANY, NULL) : NULL;
    int rc;

    if (ah_param(ctx, "in"))
        rc = ah_task_enqueue_in(ctx, ah_param_int(ctx, "in", 0), ah_param_str(ctx, "task"), in,
                                ah_param_str(ctx, "queue"), false, on_enqueued);
    else
        rc = ah_task_enqueue(ctx, ah_param_str(ctx, "task"), in, ah_param_str(ctx, "queue"), on_enqueued);

    json_decref(in);
    if (rc < 0)
        return ah_fail(ctx, rc, "cannot enqueue: %s", ah_strerror(rc));
    return AH_PENDING;
}

static const ah_input_t enqueue_action_inputs[] = {
    {.name = "task", .required = true},
    {.name = "inputs"},
    {.name = "queue"},
    {.name = "in"},
    {0},
};

AH_ACTION(task_enqueue_test) = {
    .name = "taskEnqueueTest",
    .description = "enqueues a task (test build)",
    .inputs = enqueue_action_inputs,
    .run = enqueue_action_run,
};

/* testIncr (cluster tests): INCR params.key, so that a job run twice shows. */
static void on_incr(int status, const struct store_reply *r, void *arg)
{
    ah_job_t *job = arg;

    if (status < 0)
        ah_job_fail(job, status, "%s", store_strerror(status, r));
    else
        ah_job_set_result(job, json_integer(r->integer));
    ah_job_done(job);
}

static int incr_run(ah_job_t *job, json_t *params)
{
    const char *key = json_string_value(json_object_get(params, "key"));
    int rc;

    if (key == NULL)
        return ah_job_fail(job, AH_EINVAL, "no key");
    rc = store_command(store_get(ah_job_app(job)), on_incr, job, "INCR", key, NULL);
    if (rc < 0)
        return ah_job_fail(job, rc, "store unavailable");
    return AH_PENDING;
}

AH_TASK(test_incr) = {
    .name = "testIncr",
    .description = "increments params.key",
    .run = incr_run,
};
