/*
 * perform.c - performing one job (tasks.md §1 "perform", §7.2 step 3) and
 * the specHelper task helpers (builtin.md §3).
 *
 * perform: beforePerform plugins (false: skipped, no stats), the task's
 * run (which may finish later), the periodic re-enqueue (also after a
 * failure when reEnqueuePeriodicTaskIfException), then afterPerform
 * plugins, which run after a failed run too and may clear its error.
 */
#include "tasks/tasks_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"

struct perform {
    void (*cb)(struct ah_job *job, int outcome, void *arg);
    void *arg;
};

static void perform_finish(struct ah_job *job, struct perform *p)
{
    void (*cb)(struct ah_job *, int, void *) = p->cb;
    void *arg = p->arg;
    int outcome = job->error ? -1 : 1;

    free(p);
    cb(job, outcome, arg);
}

static void after_perform_done(struct ah_job *job, int rc, void *arg)
{
    (void)rc; /* an error is in job->error already; false only stops the chain */
    perform_finish(job, arg);
}

static void after_perform(struct ah_job *job, struct perform *p)
{
    plugins_run(job, HOOK_AFTER_PERFORM, after_perform_done, p);
}

static void on_recurrent(int status, json_t *result, const char *error, void *arg)
{
    struct ah_job *job = arg;
    struct perform *p = job->perform_ctx;

    (void)result;
    if (status < 0 && job->error == NULL) {
        job->error = xstrdup(error ? error : ah_strerror(status));
        job->exception = xstrdup("Error");
    }
    after_perform(job, p);
}

static void run_finished(struct ah_job *job)
{
    struct perform *p = job->perform_ctx;
    const ah_task_t *d = job->entry->task;

    if (d->frequency > 0 && (job->error == NULL || d->re_enqueue_periodic_task_if_exception != AH_NO)) {
        tasks_enqueue_recurrent(job->t, d->name, on_recurrent, job);
        return;
    }
    after_perform(job, p);
}

static void before_perform_done(struct ah_job *job, int rc, void *arg)
{
    struct perform *p = arg;
    int r;

    if (rc == 0) { /* skipped: no afterPerform, no stats */
        void (*cb)(struct ah_job *, int, void *) = p->cb;
        void *cbarg = p->arg;

        free(p);
        cb(job, 0, cbarg);
        return;
    }
    if (rc < 0) {
        after_perform(job, p);
        return;
    }
    /* run: params = args[0] */
    job->perform_ctx = p;
    job->run_cb = run_finished;
    job->in_run = true;
    job->run_sync_done = false;
    r = job->entry->task->run(job, ah_job_params(job) ? ah_job_params(job) : json_null());
    job->in_run = false;
    if (r == AH_PENDING && !job->run_sync_done) {
        job->run_pending = true;
        return;
    }
    if (r < 0 && job->error == NULL) {
        job->error = xstrdup(ah_strerror(r));
        job->exception = xstrdup("Error");
    }
    run_finished(job);
}

void job_perform(struct ah_job *job, void (*cb)(struct ah_job *job, int outcome, void *arg), void *arg)
{
    struct perform *p = xcalloc(1, sizeof(*p));

    p->cb = cb;
    p->arg = arg;
    if (job->entry == NULL) {
        ah_job_fail(job, AH_ENOTFOUND, "No job defined for class \"%s\"", job->cls);
        perform_finish(job, p);
        return;
    }
    plugins_run(job, HOOK_BEFORE_PERFORM, before_perform_done, p);
}

/* ---------------------------------------------------------------- specHelper */

struct spec {
    struct op op;
    struct ah_job *job;
    char *name;
    json_t *queues;
    size_t i;
    json_t *found;
    json_t *args;
};

static void spec_release(struct op *op)
{
    struct spec *x = (struct spec *)op;

    job_free(x->job);
    free(x->name);
    json_decref(x->queues);
    json_decref(x->found);
    json_decref(x->args);
}

struct spec_call {
    ah_app_t *app;
    ah_task_app_cb cb;
    void *arg;
};

static void spec_done(int status, json_t *result, const char *error, void *arg)
{
    struct spec_call *c = arg;

    c->cb(c->app, status, result, error, c->arg);
    free(c);
}

static struct spec *spec_new(struct tasks *t, ah_app_t *app, ah_task_app_cb cb, void *arg)
{
    struct spec_call *c = xcalloc(1, sizeof(*c));
    struct spec *x;

    c->app = app;
    c->cb = cb;
    c->arg = arg;
    x = (struct spec *)op_new(t, sizeof(*x), spec_done, c);
    x->op.release = spec_release;
    return x;
}

static struct tasks *running(ah_app_t *app)
{
    struct tasks *t = app ? tasks_of(app) : NULL;

    return t && t->running ? t : NULL;
}

static void direct_done(struct ah_job *job)
{
    struct spec *x = job->perform_ctx;

    if (job->error)
        op_fail(&x->op, AH_EFAIL, "%s", job->error);
    else
        op_done(&x->op, job->result ? json_incref(job->result) : json_null());
}

int tasks_spec_run_task(ah_app_t *app, const char *name, json_t *params, ah_task_app_cb cb, void *arg)
{
    struct tasks *t = running(app);
    struct spec *x;
    json_t *args;
    int r;

    if (name == NULL || cb == NULL)
        return AH_EINVAL;
    if (t == NULL)
        return AH_ESTATE;
    x = spec_new(t, app, cb, arg);
    if (registry_find(t, name) == NULL) {
        op_fail(&x->op, AH_ENOTFOUND, "task %s not found", name);
        x->op.in_call = false;
        return 0;
    }
    args = tq_args_of(params);
    x->job = job_new(t, registry_find(t, name)->task->queue, name, args, NULL);
    json_decref(args);
    x->job->perform_ctx = x;
    x->job->run_cb = direct_done;
    x->job->in_run = true;
    r = x->job->entry->task->run(x->job, ah_job_params(x->job));
    x->job->in_run = false;
    if (r == AH_PENDING && !x->job->run_sync_done) {
        x->job->run_pending = true;
    } else {
        if (r < 0 && x->job->error == NULL)
            x->job->error = xstrdup(ah_strerror(r));
        direct_done(x->job);
    }
    x->op.in_call = false;
    return 0;
}

static void full_done(struct ah_job *job, int outcome, void *arg)
{
    struct spec *x = arg;

    if (outcome < 0)
        op_fail(&x->op, AH_EFAIL, "%s", job->error ? job->error : "job failed");
    else if (outcome == 0)
        op_done(&x->op, json_null());
    else
        op_done(&x->op, job->result ? json_incref(job->result) : json_null());
}

int tasks_spec_run_full_task(ah_app_t *app, const char *name, json_t *params, ah_task_app_cb cb, void *arg)
{
    struct tasks *t = running(app);
    struct spec *x;
    char *q;
    json_t *args;

    if (name == NULL || cb == NULL)
        return AH_EINVAL;
    if (t == NULL)
        return AH_ESTATE;
    x = spec_new(t, app, cb, arg);
    q = xasprintf("_direct-queue-%s:%d", t->hostname, (int)uv_os_getpid());
    args = json_is_array(params) ? json_incref(params) : tq_args_of(params);
    x->job = job_new(t, q, name, args, NULL);
    json_decref(args);
    free(q);
    job_perform(x->job, full_done, x);
    x->op.in_call = false;
    return 0;
}

static void find_next(struct spec *x);

static void find_delayed(int status, json_t *result, const char *error, void *arg)
{
    struct spec *x = arg;
    const char *k;
    json_t *jobs, *j, *found;
    size_t i;

    if (status < 0) {
        op_fail(&x->op, status, "%s", error ? error : ah_strerror(status));
        return;
    }
    json_object_foreach(result, k, jobs) {
        json_array_foreach(jobs, i, j) {
            const char *c = json_string_value(json_object_get(j, "class"));

            if (c && strcmp(c, x->name) == 0) {
                json_t *o = json_deep_copy(j);

                json_object_set_new(o, "timestamp", json_integer(strtoll(k, NULL, 10)));
                json_array_append_new(x->found, o);
            }
        }
    }
    found = x->found;
    x->found = NULL;
    op_done(&x->op, found);
}

static void find_queued(int status, json_t *result, const char *error, void *arg)
{
    struct spec *x = arg;
    json_t *j;
    size_t i;

    if (status < 0) {
        op_fail(&x->op, status, "%s", error ? error : ah_strerror(status));
        return;
    }
    json_array_foreach(result, i, j) {
        const char *c = json_string_value(json_object_get(j, "class"));

        if (c && strcmp(c, x->name) == 0) {
            json_t *o = json_deep_copy(j);

            json_object_set_new(o, "timestamp", json_null());
            json_array_append_new(x->found, o);
        }
    }
    x->i++;
    find_next(x);
}

static void find_next(struct spec *x)
{
    if (x->i < json_array_size(x->queues)) {
        tq_queued(x->op.t, json_string_value(json_array_get(x->queues, x->i)), 0, -1, find_queued, x);
        return;
    }
    tq_all_delayed(x->op.t, find_delayed, x);
}

static void find_listed(struct op *op, const struct store_reply *r)
{
    struct spec *x = (struct spec *)op;
    size_t i;

    for (i = 0; r->type == STORE_REPLY_ARRAY && i < r->elements; i++)
        if (tq_reply_str(r->element[i]))
            json_array_append_new(x->queues, json_stringn_nocheck(r->element[i]->str, r->element[i]->len));
    find_next(x);
}

int tasks_spec_find_enqueued(ah_app_t *app, const char *name, ah_task_app_cb cb, void *arg)
{
    struct tasks *t = running(app);
    struct spec *x;
    char *key;

    if (name == NULL || cb == NULL)
        return AH_EINVAL;
    if (t == NULL)
        return AH_ESTATE;
    x = spec_new(t, app, cb, arg);
    x->name = xstrdup(name);
    x->queues = json_array();
    x->found = json_array();
    key = tq_key(t, "queues", NULL);
    op_cmdl(&x->op, find_listed, "SMEMBERS", key, NULL);
    free(key);
    x->op.in_call = false;
    return 0;
}

static void del_next(struct spec *x);

static void del_step(int status, json_t *result, const char *error, void *arg)
{
    struct spec *x = arg;

    (void)result;
    if (status < 0) {
        op_fail(&x->op, status, "%s", error ? error : ah_strerror(status));
        return;
    }
    x->i++;
    del_next(x);
}

static void del_next(struct spec *x)
{
    size_t n = json_array_size(x->queues);

    if (x->i < 2 * n) {
        const char *q = json_string_value(json_array_get(x->queues, x->i / 2));

        if (x->i % 2 == 0)
            tq_del(x->op.t, q, x->name, x->args, 0, del_step, x);
        else
            tq_del_delayed(x->op.t, q, x->name, x->args, del_step, x);
        return;
    }
    op_done(&x->op, json_null());
}

static void del_listed(struct op *op, const struct store_reply *r)
{
    struct spec *x = (struct spec *)op;
    size_t i;

    for (i = 0; r->type == STORE_REPLY_ARRAY && i < r->elements; i++)
        if (tq_reply_str(r->element[i]))
            json_array_append_new(x->queues, json_stringn_nocheck(r->element[i]->str, r->element[i]->len));
    del_next(x);
}

int tasks_spec_delete_enqueued(ah_app_t *app, const char *name, json_t *params, ah_task_app_cb cb, void *arg)
{
    struct tasks *t = running(app);
    struct spec *x;
    char *key;

    if (name == NULL || cb == NULL)
        return AH_EINVAL;
    if (t == NULL)
        return AH_ESTATE;
    x = spec_new(t, app, cb, arg);
    x->name = xstrdup(name);
    x->queues = json_array();
    x->args = tq_args_of(params);
    key = tq_key(t, "queues", NULL);
    op_cmdl(&x->op, del_listed, "SMEMBERS", key, NULL);
    free(key);
    x->op.in_call = false;
    return 0;
}
