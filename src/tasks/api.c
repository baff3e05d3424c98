/*
 * api.c - the task API of include/ah/task.h (tasks.md §3, §4, §6), the
 * perform step shared by workers and specHelper.runFullTask, and the
 * specHelper helpers (builtin.md §3).
 *
 * Every public function has an action form (the callback gets the ctx)
 * and an app form (callback + arg); both go through one `struct call`.
 */
#include "tasks/tasks_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "log/log.h"

/* ---------------------------------------------------------------- calls */

struct call {
    ah_app_t *app;
    ah_ctx_t *ctx;
    ah_task_cb ccb;
    ah_task_app_cb acb;
    void *arg;
};

static void call_done(int status, json_t *result, const char *error, void *arg)
{
    struct call *c = arg;

    if (c->ccb)
        c->ccb(c->ctx, status, result, error);
    else
        c->acb(c->app, status, result, error, c->arg);
    free(c);
}

static struct call *call_ctx(ah_ctx_t *ctx, ah_task_cb cb)
{
    struct call *c = xcalloc(1, sizeof(*c));

    c->app = ah_app(ctx);
    c->ctx = ctx;
    c->ccb = cb;
    return c;
}

static struct call *call_app(ah_app_t *app, ah_task_app_cb cb, void *arg)
{
    struct call *c = xcalloc(1, sizeof(*c));

    c->app = app;
    c->acb = cb;
    c->arg = arg;
    return c;
}

/* The running task system, or NULL (and `c` freed). */
static struct tasks *begin(struct call *c)
{
    struct tasks *t = c->app ? tasks_of(c->app) : NULL;

    if (t == NULL || !t->running) {
        free(c);
        return NULL;
    }
    return t;
}

/* Report an error through the callback on a later loop turn. */
static void fail_later(struct tasks *t, tq_cb cb, void *arg, int status, const char *fmt, ...) AH_PRINTF(5, 6);
static void fail_later(struct tasks *t, tq_cb cb, void *arg, int status, const char *fmt, ...)
{
    struct op *op = op_new(t, sizeof(*op), cb, arg);
    va_list ap;
    struct buf b = BUF_INIT;

    va_start(ap, fmt);
    buf_vaddf(&b, fmt, ap);
    va_end(ap);
    op->error = buf_detach(&b, NULL);
    op->status = status;
    op_done(op, NULL);
    op->in_call = false;
}

static bool utf8_ok(const char *s)
{
    return s == NULL || core_utf8_valid(s, strlen(s));
}

/* ---------------------------------------------------------------- validateInput */

static bool missing(ah_app_t *app, json_t *v)
{
    json_t *checks = config_get(app, "general.missingParamChecks"), *c;
    size_t i;

    if (v == NULL)
        return true;
    if (!json_is_array(checks))
        return json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0);
    json_array_foreach(checks, i, c)
        if (json_equal(c, v))
            return true;
    return false;
}

int tasks_validate_inputs(struct tasks *t, const char *name, json_t **inputs, char *err, size_t errlen)
{
    const struct task_entry *e = registry_find(t, name);
    const ah_task_input_t *in;

    if (e == NULL) {
        snprintf(err, errlen, "task %s not found", name ? name : "undefined");
        return AH_ENOTFOUND;
    }
    if (e->task->inputs == NULL || e->task->inputs[0].name == NULL)
        return 0;
    if (*inputs == NULL)
        *inputs = json_object(); /* v29 reads properties of undefined (TypeError) */
    if (!json_is_object(*inputs)) {
        snprintf(err, errlen, "inputs of task %s must be an object", name);
        return AH_EINVAL;
    }
    for (in = e->task->inputs; in->name; in++) {
        json_t *v = json_object_get(*inputs, in->name);

        if (v == NULL && (in->default_fn || in->default_json)) {
            json_t *d = in->default_fn ? in->default_fn(t->app, in->name)
                                       : json_loads(in->default_json, JSON_DECODE_ANY, NULL);

            if (d) {
                json_object_set_new(*inputs, in->name, d);
                v = d;
            }
        }
        if (v != NULL && in->validate) {
            char msg[512];
            int rc;

            msg[0] = '\0';
            rc = in->validate(t->app, in->name, v, msg, sizeof(msg));
            if (rc > 0) {
                char *s = tq_js_string(v);

                snprintf(err, errlen, "%s is not a valid value for %s in task %s", s, in->name, name);
                free(s);
                return AH_EINVAL;
            }
            if (rc < 0) {
                snprintf(err, errlen, "%s", msg[0] ? msg : "Error");
                return AH_EINVAL;
            }
        }
        if (in->required && missing(t->app, v)) {
            snprintf(err, errlen, "%s is a required input for task %s", in->name, name);
            return AH_EINVAL;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- enqueue family */

/* Validate, then hand the job to `start`. */
static int enqueue_common(struct call *c, int kind, long long when, const char *name, json_t *inputs,
                          const char *queue, bool suppress)
{
    struct tasks *t;
    const struct task_entry *e;
    json_t *copy, *args;
    char err[1024];
    int rc;

    if (name == NULL) {
        free(c);
        return AH_EINVAL;
    }
    if ((t = begin(c)) == NULL)
        return AH_ESTATE;
    if (!utf8_ok(name) || !utf8_ok(queue)) {
        fail_later(t, call_done, c, AH_EINVAL, "task and queue names must be valid UTF-8");
        return 0;
    }
    copy = inputs ? json_deep_copy(inputs) : NULL;
    if ((rc = tasks_validate_inputs(t, name, &copy, err, sizeof(err))) < 0) {
        json_decref(copy);
        fail_later(t, call_done, c, rc, "%s", err);
        return 0;
    }
    e = registry_find(t, name);
    if (queue == NULL)
        queue = e->task->queue ? e->task->queue : "default";
    args = tq_args_of(copy);
    if (kind == 0)
        tq_enqueue(t, queue, name, args, call_done, c);
    else
        tq_enqueue_at(t, kind == 1 ? when : (long long)core_now_ms() + when, queue, name, args, suppress,
                      call_done, c);
    json_decref(args);
    json_decref(copy);
    return 0;
}

#define P(...) __VA_ARGS__

/* Both public forms of one function, over do_<name>(struct call *, args). */
#define API_PAIR(name, params, args)                                            \
    int ah_task_##name(ah_ctx_t *ctx, params, ah_task_cb cb)                    \
    {                                                                           \
        if (ctx == NULL || cb == NULL)                                          \
            return AH_EINVAL;                                                   \
        return do_##name(call_ctx(ctx, cb), args);                              \
    }                                                                           \
    int ah_task_app_##name(ah_app_t *app, params, ah_task_app_cb cb, void *arg) \
    {                                                                           \
        if (app == NULL || cb == NULL)                                          \
            return AH_EINVAL;                                                   \
        return do_##name(call_app(app, cb, arg), args);                         \
    }
#define API_PAIR0(name)                                                         \
    int ah_task_##name(ah_ctx_t *ctx, ah_task_cb cb)                            \
    {                                                                           \
        if (ctx == NULL || cb == NULL)                                          \
            return AH_EINVAL;                                                   \
        return do_##name(call_ctx(ctx, cb));                                    \
    }                                                                           \
    int ah_task_app_##name(ah_app_t *app, ah_task_app_cb cb, void *arg)         \
    {                                                                           \
        if (app == NULL || cb == NULL)                                          \
            return AH_EINVAL;                                                   \
        return do_##name(call_app(app, cb, arg));                               \
    }

static int do_enqueue(struct call *c, const char *task, json_t *inputs, const char *queue)
{
    return enqueue_common(c, 0, 0, task, inputs, queue, false);
}
API_PAIR(enqueue, P(const char *task, json_t *inputs, const char *queue), P(task, inputs, queue))

static int do_enqueue_at(struct call *c, long long ts, const char *task, json_t *inputs, const char *queue,
                         bool suppress)
{
    return enqueue_common(c, 1, ts, task, inputs, queue, suppress);
}
API_PAIR(enqueue_at, P(long long timestamp_ms, const char *task, json_t *inputs, const char *queue,
                       bool suppress_duplicate),
         P(timestamp_ms, task, inputs, queue, suppress_duplicate))

static int do_enqueue_in(struct call *c, long long delay, const char *task, json_t *inputs, const char *queue,
                         bool suppress)
{
    return enqueue_common(c, 2, delay, task, inputs, queue, suppress);
}
API_PAIR(enqueue_in, P(long long delay_ms, const char *task, json_t *inputs, const char *queue,
                       bool suppress_duplicate),
         P(delay_ms, task, inputs, queue, suppress_duplicate))

/* Functions on a queue and a class: check the names, then run `fn`. */
#define NEED(cond)            \
    do {                      \
        if (!(cond)) {        \
            free(c);          \
            return AH_EINVAL; \
        }                     \
    } while (0)
#define BEGIN()                          \
    struct tasks *t;                     \
    if ((t = begin(c)) == NULL)          \
        return AH_ESTATE

static int names_bad(struct tasks *t, struct call *c, const char *a, const char *b)
{
    if (utf8_ok(a) && utf8_ok(b))
        return 0;
    fail_later(t, call_done, c, AH_EINVAL, "queue and task names must be valid UTF-8");
    return 1;
}

static int do_del(struct call *c, const char *queue, const char *task, json_t *inputs, long long count)
{
    json_t *args;

    NEED(queue && task);
    BEGIN();
    if (names_bad(t, c, queue, task))
        return 0;
    args = tq_args_of(inputs);
    tq_del(t, queue, task, args, count, call_done, c);
    json_decref(args);
    return 0;
}
API_PAIR(del, P(const char *queue, const char *task, json_t *inputs, long long count),
         P(queue, task, inputs, count))

static int do_del_by_function(struct call *c, const char *queue, const char *task, long long start,
                              long long stop)
{
    NEED(queue && task);
    BEGIN();
    if (names_bad(t, c, queue, task))
        return 0;
    tq_del_by_function(t, queue, task, start, stop, call_done, c);
    return 0;
}
API_PAIR(del_by_function, P(const char *queue, const char *task, long long start, long long stop),
         P(queue, task, start, stop))

static int do_del_delayed(struct call *c, const char *queue, const char *task, json_t *inputs)
{
    json_t *args;

    NEED(queue && task);
    BEGIN();
    if (names_bad(t, c, queue, task))
        return 0;
    args = tq_args_of(inputs);
    tq_del_delayed(t, queue, task, args, call_done, c);
    json_decref(args);
    return 0;
}
API_PAIR(del_delayed, P(const char *queue, const char *task, json_t *inputs), P(queue, task, inputs))

static int do_scheduled_at(struct call *c, const char *queue, const char *task, json_t *inputs)
{
    json_t *args;

    NEED(queue && task);
    BEGIN();
    if (names_bad(t, c, queue, task))
        return 0;
    args = tq_args_of(inputs);
    tq_scheduled_at(t, queue, task, args, call_done, c);
    json_decref(args);
    return 0;
}
API_PAIR(scheduled_at, P(const char *queue, const char *task, json_t *inputs), P(queue, task, inputs))

#define SIMPLE0(name)                       \
    static int do_##name(struct call *c)    \
    {                                       \
        BEGIN();                            \
        tq_##name(t, call_done, c);         \
        return 0;                           \
    }                                       \
    API_PAIR0(name)

SIMPLE0(timestamps)
SIMPLE0(all_delayed)
SIMPLE0(locks)
SIMPLE0(stats)
SIMPLE0(workers)
SIMPLE0(all_working_on)
SIMPLE0(details)
SIMPLE0(failed_count)

static int do_delayed_at(struct call *c, long long ts)
{
    BEGIN();
    tq_delayed_at(t, ts, call_done, c);
    return 0;
}
API_PAIR(delayed_at, P(long long timestamp_ms), P(timestamp_ms))

static int do_queued(struct call *c, const char *queue, long long start, long long stop)
{
    NEED(queue);
    BEGIN();
    if (names_bad(t, c, queue, NULL))
        return 0;
    tq_queued(t, queue, start, stop, call_done, c);
    return 0;
}
API_PAIR(queued, P(const char *queue, long long start, long long stop), P(queue, start, stop))

static int do_del_queue(struct call *c, const char *queue)
{
    NEED(queue);
    BEGIN();
    if (names_bad(t, c, queue, NULL))
        return 0;
    tq_del_queue(t, queue, call_done, c);
    return 0;
}
API_PAIR(del_queue, P(const char *queue), P(queue))

static int do_del_lock(struct call *c, const char *key)
{
    NEED(key);
    BEGIN();
    tq_del_lock(t, key, call_done, c);
    return 0;
}
API_PAIR(del_lock, P(const char *key), P(key))

static int do_working_on(struct call *c, const char *worker, const char *queues)
{
    NEED(worker && queues);
    BEGIN();
    tq_working_on(t, worker, queues, call_done, c);
    return 0;
}
API_PAIR(working_on, P(const char *worker, const char *queues), P(worker, queues))

static int do_failed(struct call *c, long long start, long long stop)
{
    BEGIN();
    tq_failed(t, start, stop, call_done, c);
    return 0;
}
API_PAIR(failed, P(long long start, long long stop), P(start, stop))

static int do_remove_failed(struct call *c, json_t *record)
{
    NEED(record);
    BEGIN();
    tq_remove_failed(t, record, call_done, c);
    return 0;
}
API_PAIR(remove_failed, P(json_t *record), P(record))

static int do_retry_and_remove_failed(struct call *c, json_t *record)
{
    NEED(record);
    BEGIN();
    if (!json_is_object(record) || !json_is_object(json_object_get(record, "payload"))) {
        fail_later(t, call_done, c, AH_EINVAL, "This job is not in failed queue");
        return 0;
    }
    tq_retry_and_remove_failed(t, record, call_done, c);
    return 0;
}
API_PAIR(retry_and_remove_failed, P(json_t *record), P(record))

static int do_clean_old_workers(struct call *c, long long age)
{
    BEGIN();
    tq_clean_old_workers(t, age, call_done, c);
    return 0;
}
API_PAIR(clean_old_workers, P(long long age_ms), P(age_ms))

/* ---------------------------------------------------------------- recurrent tasks */

struct rec_op {
    struct op op;
    const struct task_entry *e;
    json_t *nullargs;
    long long removed;
    /* enqueueAll */
    size_t i;
    json_t *names;
};

static void rec_release(struct op *op)
{
    struct rec_op *x = (struct rec_op *)op;

    json_decref(x->nullargs);
    json_decref(x->names);
}

static void rec_enqueued(int status, json_t *result, const char *error, void *arg)
{
    struct rec_op *x = arg;

    (void)result;
    if (status < 0) {
        op_fail(&x->op, status, "%s", error ? error : ah_strerror(status));
        return;
    }
    log_msg(x->op.t->cfg.sl_reenqueue, NULL, "re-enqueued recurrent job %s", x->e->task->name);
    op_done(&x->op, json_null());
}

static void rec_deldelayed(int status, json_t *result, const char *error, void *arg)
{
    struct rec_op *x = arg;
    const ah_task_t *d = x->e->task;
    json_t *inputs = json_object(), *args;
    char err[1024];
    int rc;

    (void)result;
    if (status < 0) {
        json_decref(inputs);
        op_fail(&x->op, status, "%s", error ? error : ah_strerror(status));
        return;
    }
    if ((rc = tasks_validate_inputs(x->op.t, d->name, &inputs, err, sizeof(err))) < 0) {
        json_decref(inputs);
        op_fail(&x->op, rc, "%s", err);
        return;
    }
    args = tq_args_of(inputs);
    tq_enqueue_at(x->op.t, (long long)core_now_ms() + d->frequency, d->queue ? d->queue : "default", d->name,
                  args, true, rec_enqueued, x);
    json_decref(args);
    json_decref(inputs);
}

static void rec_deleted(int status, json_t *result, const char *error, void *arg)
{
    struct rec_op *x = arg;
    const ah_task_t *d = x->e->task;

    (void)result;
    if (status < 0) {
        op_fail(&x->op, status, "%s", error ? error : ah_strerror(status));
        return;
    }
    tq_del_delayed(x->op.t, d->queue ? d->queue : "default", d->name, x->nullargs, rec_deldelayed, x);
}

void tasks_enqueue_recurrent(struct tasks *t, const char *name, tq_cb cb, void *arg)
{
    struct rec_op *x = (struct rec_op *)op_new(t, sizeof(*x), cb, arg);

    x->op.release = rec_release;
    x->e = registry_find(t, name);
    if (x->e == NULL) {
        op_fail(&x->op, AH_ENOTFOUND, "task %s not found", name ? name : "undefined");
    } else if (x->e->task->frequency <= 0) {
        op_done(&x->op, json_null());
    } else {
        x->nullargs = tq_args_of(NULL);
        tq_del(t, x->e->task->queue ? x->e->task->queue : "default", name, x->nullargs, 0, rec_deleted, x);
    }
    x->op.in_call = false;
}

static void all_next(struct rec_op *x);

static void all_enqueued(int status, json_t *result, const char *error, void *arg)
{
    struct rec_op *x = arg;
    const char *name = x->op.t->tasks[x->i].task->name;

    if (status < 0) {
        if (error && strstr(error, "already enqueued at this time")) {
            log_warn("not enqueuing periodic task %s - error.toString()", name);
        } else {
            op_fail(&x->op, status, "%s", error ? error : ah_strerror(status));
            return;
        }
    } else if (json_is_true(result)) {
        log_msg(x->op.t->cfg.sl_enqueue, NULL, "enqueuing periodic task: %s", name);
        json_array_append_new(x->names, json_string(name));
    }
    x->i++;
    all_next(x);
}

static void all_next(struct rec_op *x)
{
    struct tasks *t = x->op.t;
    json_t *names;

    for (; x->i < t->n_tasks; x->i++) {
        const ah_task_t *d = t->tasks[x->i].task;
        json_t *inputs, *args;
        char err[1024];
        int rc;

        if (d->frequency <= 0)
            continue;
        inputs = json_object();
        if ((rc = tasks_validate_inputs(t, d->name, &inputs, err, sizeof(err))) < 0) {
            json_decref(inputs);
            op_fail(&x->op, rc, "%s", err);
            return;
        }
        args = tq_args_of(inputs);
        tq_enqueue(t, d->queue ? d->queue : "default", d->name, args, all_enqueued, x);
        json_decref(args);
        json_decref(inputs);
        return;
    }
    names = x->names;
    x->names = NULL;
    op_done(&x->op, names);
}

void tasks_enqueue_all_recurrent(struct tasks *t, tq_cb cb, void *arg)
{
    struct rec_op *x = (struct rec_op *)op_new(t, sizeof(*x), cb, arg);

    x->op.release = rec_release;
    x->names = json_array();
    all_next(x);
    x->op.in_call = false;
}

static int do_enqueue_recurrent_task(struct call *c, const char *task)
{
    NEED(task);
    BEGIN();
    tasks_enqueue_recurrent(t, task, call_done, c);
    return 0;
}
API_PAIR(enqueue_recurrent_task, P(const char *task), P(task))

static int do_enqueue_all_recurrent_tasks(struct call *c)
{
    BEGIN();
    tasks_enqueue_all_recurrent(t, call_done, c);
    return 0;
}
API_PAIR0(enqueue_all_recurrent_tasks)

static void stop_deldelayed(int status, json_t *result, const char *error, void *arg)
{
    struct rec_op *x = arg;

    if (status < 0) {
        op_fail(&x->op, status, "%s", error ? error : ah_strerror(status));
        return;
    }
    op_done(&x->op, json_integer(x->removed + (long long)json_array_size(result)));
}

static void stop_deleted(int status, json_t *result, const char *error, void *arg)
{
    struct rec_op *x = arg;
    const ah_task_t *d = x->e->task;

    if (status < 0) {
        op_fail(&x->op, status, "%s", error ? error : ah_strerror(status));
        return;
    }
    x->removed = json_integer_value(result);
    tq_del_delayed(x->op.t, d->queue ? d->queue : "default", d->name, x->nullargs, stop_deldelayed, x);
}

static int do_stop_recurrent_task(struct call *c, const char *task)
{
    struct rec_op *x;

    NEED(task);
    BEGIN();
    x = (struct rec_op *)op_new(t, sizeof(*x), call_done, c);
    x->op.release = rec_release;
    x->e = registry_find(t, task);
    if (x->e == NULL) {
        op_fail(&x->op, AH_ENOTFOUND, "task %s not found", task);
    } else if (x->e->task->frequency <= 0) {
        op_done(&x->op, json_null());
    } else {
        x->nullargs = tq_args_of(NULL);
        tq_del(t, x->e->task->queue ? x->e->task->queue : "default", task, x->nullargs, 1, stop_deleted, x);
    }
    x->op.in_call = false;
    return 0;
}
API_PAIR(stop_recurrent_task, P(const char *task), P(task))

/* ---------------------------------------------------------------- status */

struct total {
    ah_app_t *app;
    tasks_total_cb cb;
    void *arg;
};

static void on_total(int status, json_t *result, const char *error, void *arg)
{
    struct total *x = arg;
    long long n = 0;
    const char *k;
    json_t *v;

    if (status == 0)
        json_object_foreach(json_object_get(result, "queues"), k, v)
            n += json_integer_value(json_object_get(v, "length"));
    x->cb(x->app, status, n, error, x->arg);
    free(x);
}

int tasks_total_queue_length(ah_app_t *app, tasks_total_cb cb, void *arg)
{
    struct tasks *t = app ? tasks_of(app) : NULL;
    struct total *x;

    if (cb == NULL)
        return AH_EINVAL;
    if (t == NULL || !t->running)
        return AH_ESTATE;
    x = xcalloc(1, sizeof(*x));
    x->app = app;
    x->cb = cb;
    x->arg = arg;
    tq_details(t, on_total, x);
    return 0;
}

int tasks_in_flight(ah_app_t *app)
{
    struct tasks *t = app ? tasks_of(app) : NULL;

    return t ? pool_busy(t) : 0;
}
