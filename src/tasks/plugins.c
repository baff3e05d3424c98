/*
 * plugins.c - jobs (ah_job_t), the plugin runner and node-resque's plugins
 * (tasks.md §1, §5).
 *
 * A job definition's plugins run in order for one hook type; a plugin that
 * says false stops the chain, one that fails stops it with its error.  Task
 * middleware are plugins whose hooks call the middleware's functions.  The
 * built-in plugins keep node-resque's keys and values (lock:*,
 * workerslock:*, resque-retry:*), so locks taken by Node processes hold for
 * us and the other way round.
 */
#include "tasks/tasks_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "core/json_out.h"
#include "log/log.h"

/* ---------------------------------------------------------------- jobs */

struct ah_job *job_new(struct tasks *t, const char *q, const char *cls, json_t *args, const char *worker)
{
    struct ah_job *job = xcalloc(1, sizeof(*job));

    job->t = t;
    job->cls = xstrdup(cls ? cls : "");
    job->queue = xstrdup(q ? q : "");
    job->entry = registry_find(t, job->cls);
    job->args = json_is_array(args) ? json_deep_copy(args) : tq_args_of(args);
    job->worker = worker ? xstrdup(worker) : NULL;
    tasks_ref(t);
    return job;
}

void job_free(struct ah_job *job)
{
    struct tasks *t;

    if (job == NULL)
        return;
    t = job->t;
    free(job->cls);
    free(job->queue);
    json_decref(job->args);
    free(job->worker);
    json_decref(job->result);
    free(job->error);
    free(job->exception);
    free(job->plugins);
    free(job);
    tasks_unref(t);
}

ah_app_t *ah_job_app(ah_job_t *job)
{
    return job->t->app;
}

const char *ah_job_class(ah_job_t *job)
{
    return job->cls;
}

const char *ah_job_queue(ah_job_t *job)
{
    return job->queue;
}

const char *ah_job_worker(ah_job_t *job)
{
    return job->worker;
}

json_t *ah_job_args(ah_job_t *job)
{
    return job->args;
}

json_t *ah_job_params(ah_job_t *job)
{
    return json_array_get(job->args, 0);
}

json_t *ah_job_result(ah_job_t *job)
{
    return job->result;
}

void ah_job_set_result(ah_job_t *job, json_t *result_take)
{
    json_decref(job->result);
    job->result = result_take;
}

const char *ah_job_error(ah_job_t *job)
{
    return job->error;
}

void ah_job_clear_error(ah_job_t *job)
{
    free(job->error);
    free(job->exception);
    job->error = NULL;
    job->exception = NULL;
}

int ah_job_fail(ah_job_t *job, int code, const char *fmt, ...)
{
    va_list ap;
    struct buf b = BUF_INIT;

    va_start(ap, fmt);
    buf_vaddf(&b, fmt, ap);
    va_end(ap);
    if (b.data == NULL)
        buf_adds(&b, "");
    ah_job_clear_error(job);
    job->error = buf_detach(&b, NULL);
    job->exception = xstrdup("Error");
    return code < 0 ? code : AH_EFAIL;
}

void ah_job_log(ah_job_t *job, int level, const char *fmt, ...)
{
    va_list ap;
    json_t *data = json_pack("{s:s,s:s}", "class", job->cls, "queue", job->queue);

    if (job->worker)
        json_object_set_new(data, "worker", json_string(job->worker));
    va_start(ap, fmt);
    log_vmsg(level, data, fmt, ap);
    va_end(ap);
    json_decref(data);
}

void ah_job_done(ah_job_t *job)
{
    if (!job->in_run && !job->run_pending) {
        log_error("ah_job_done() for the job %s: it is not running", job->cls);
        return;
    }
    if (job->in_run) {
        job->run_sync_done = true;
        return;
    }
    job->run_pending = false;
    job->run_cb(job);
}

static void on_work(uv_work_t *w)
{
    struct ah_job *job = w->data;

    job->work_fn(job->work_arg);
}

static void on_after_work(uv_work_t *w, int status)
{
    struct ah_job *job = w->data;
    void (*after)(ah_job_t *, int, void *) = job->after_fn;
    void *arg = job->work_arg;

    job->work_fn = NULL;
    job->after_fn = NULL;
    job->work_arg = NULL;
    after(job, status, arg);
}

int ah_task_run_blocking(ah_job_t *job, void (*work)(void *arg),
                         void (*after)(ah_job_t *job, int status, void *arg), void *arg)
{
    int rc;

    if (job == NULL || work == NULL || after == NULL)
        return AH_EINVAL;
    if (job->work_fn != NULL)
        return AH_ESTATE;
    job->work_fn = work;
    job->after_fn = after;
    job->work_arg = arg;
    job->work.data = job;
    rc = uv_queue_work(job->t->app->loop, &job->work, on_work, on_after_work);
    if (rc < 0) {
        job->work_fn = NULL;
        job->after_fn = NULL;
    }
    return rc;
}

/* ---------------------------------------------------------------- the runner */

static void plugin_next(struct ah_job *job);

static void runner_finish(struct ah_job *job, int rc)
{
    void (*cb)(struct ah_job *, int, void *) = job->hook_cb;

    job->hook_cb = NULL;
    cb(job, rc, job->hook_arg);
}

/* One plugin answered: rc AH_DONE / 1 go on, AH_TASK_STOP / 0 stop, <0 error. */
static void plugin_answered(struct ah_job *job, int rc)
{
    if (rc == AH_TASK_STOP) {
        runner_finish(job, 0);
        return;
    }
    if (rc < 0) {
        if (job->error == NULL) {
            job->error = xstrdup(ah_strerror(rc));
            job->exception = xstrdup("Error");
        }
        runner_finish(job, rc);
        return;
    }
    job->plugin_i++;
    plugin_next(job);
}

void ah_job_hook_done(ah_job_t *job, int rc)
{
    if (job->in_hook) {
        job->hook_sync_done = true;
        job->hook_sync_rc = rc;
        return;
    }
    if (!job->hook_pending) {
        log_error("ah_job_hook_done() for the job %s: no hook is pending", job->cls);
        return;
    }
    job->hook_pending = false;
    plugin_answered(job, rc);
}

static void builtin_run(struct ah_job *job, enum builtin_plugin id);

static void plugin_next(struct ah_job *job)
{
    while (job->plugin_i < job->n_plugins) {
        struct plugin_ref *p = &job->plugins[job->plugin_i];
        ah_task_hook_fn fn;
        int rc;

        if (p->builtin != PLUGIN_NONE) {
            builtin_run(job, p->builtin);
            return;
        }
        fn = job->hook == HOOK_BEFORE_ENQUEUE ? p->mw->pre_enqueue
           : job->hook == HOOK_AFTER_ENQUEUE ? p->mw->post_enqueue
           : job->hook == HOOK_BEFORE_PERFORM ? p->mw->pre_processor : p->mw->post_processor;
        if (fn == NULL) {
            job->plugin_i++;
            continue;
        }
        job->in_hook = true;
        job->hook_sync_done = false;
        rc = fn(job);
        job->in_hook = false;
        if (rc == AH_PENDING) {
            if (!job->hook_sync_done) {
                job->hook_pending = true;
                return;
            }
            rc = job->hook_sync_rc;
        }
        if (rc == AH_TASK_STOP || rc < 0) {
            plugin_answered(job, rc);
            return;
        }
        job->plugin_i++;
    }
    runner_finish(job, 1);
}

void plugins_run(struct ah_job *job, enum hook hook, void (*cb)(struct ah_job *job, int rc, void *arg), void *arg)
{
    free(job->plugins);
    job->plugins = NULL;
    job->n_plugins = registry_plugins(job->t, job->entry, &job->plugins);
    job->plugin_i = 0;
    job->hook = hook;
    job->hook_cb = cb;
    job->hook_arg = arg;
    plugin_next(job);
}

/* ---------------------------------------------------------------- built-in plugins */

struct bp_op {
    struct op op;
    struct ah_job *job;
    char *key, *key2;
    char value[32];
    long long timeout;      /* lock timeout (s) or the retry max delay (ms) */
    long long remaining;
};

static void bp_release(struct op *op)
{
    struct bp_op *x = (struct bp_op *)op;

    free(x->key);
    free(x->key2);
}

/* The op's result (true/false or an error) answers the plugin. */
static void bp_answered(int status, json_t *result, const char *error, void *arg)
{
    struct ah_job *job = arg;

    if (status < 0) {
        if (job->error == NULL || job->hook != HOOK_AFTER_PERFORM) {
            ah_job_clear_error(job);
            job->error = xstrdup(error ? error : ah_strerror(status));
            job->exception = xstrdup("Error");
        }
        plugin_answered(job, status);
        return;
    }
    plugin_answered(job, json_is_false(result) ? AH_TASK_STOP : AH_DONE);
}

static struct bp_op *bp_new(struct ah_job *job)
{
    struct bp_op *x = (struct bp_op *)op_new(job->t, sizeof(*x), bp_answered, job);

    x->op.release = bp_release;
    x->job = job;
    return x;
}

static json_t *opts_of(struct ah_job *job, const char *plugin)
{
    return registry_plugin_options(job->entry, plugin);
}

static long long opt_ll(json_t *o, const char *name, long long dflt)
{
    json_t *v = json_object_get(o, name);

    /* `options.x || default`: 0, null and "" take the default */
    if (json_is_number(v) && json_number_value(v) != 0)
        return (long long)json_number_value(v);
    if (json_is_string(v) && json_string_length(v) > 0)
        return strtoll(json_string_value(v), NULL, 10);
    return dflt;
}

static long long now_s(void)
{
    return (long long)((core_now_ms() + 500) / 1000);
}

/* lock:<class>:<queue>:<JSON args> or workerslock:..., or options.key */
static char *lock_key(struct ah_job *job, const char *plugin, const char *prefix)
{
    const char *k = json_string_value(json_object_get(opts_of(job, plugin), "key"));
    char *args, *key;

    if (k && *k)
        return xstrdup(k);
    args = json_out_str(job->args, 0, 0, NULL);
    key = tq_key(job->t, prefix, job->cls, job->queue, args, NULL);
    free(args);
    return key;
}

static void bp_true(struct op *op, const struct store_reply *r)
{
    (void)r;
    op_done(op, json_true());
}

static void op_resume_false(int status, json_t *result, const char *error, void *arg)
{
    struct op *op = arg;

    (void)result;
    if (status < 0)
        op_fail(op, status, "%s", error ? error : ah_strerror(status));
    else
        op_done(op, json_false());
}

/* JobLock.beforePerform */
static void joblock_set(struct op *op, const struct store_reply *r)
{
    struct bp_op *x = (struct bp_op *)op;
    struct ah_job *job = x->job;
    json_t *re;
    long long delay;

    if (tq_reply_str(r) && strcasecmp(r->str, "OK") == 0) {
        op_done(op, json_true());
        return;
    }
    re = json_object_get(opts_of(job, "JobLock"), "reEnqueue");
    if (re != NULL && !json_is_null(re) && !core_truthy(re)) {
        op_done(op, json_false());
        return;
    }
    delay = opt_ll(opts_of(job, "JobLock"), "enqueueTimeout", 1001);
    tq_enqueue_at(op->t, (long long)core_now_ms() + delay, job->queue, job->cls, job->args, false,
                  op_resume_false, op);
}

/* QueueLock.beforeEnqueue */
static void queuelock_setnx(struct op *op, const struct store_reply *r);
static void queuelock_get(struct op *op, const struct store_reply *r)
{
    struct bp_op *x = (struct bp_op *)op;
    long long held = tq_reply_str(r) ? strtoll(r->str, NULL, 10) : 0;
    char secs[24];
    struct store_batch b = STORE_BATCH_INIT;

    if (now_s() <= held) {
        op_done(op, json_false());
        return;
    }
    snprintf(secs, sizeof(secs), "%lld", x->timeout);
    store_batch_add(&b, "SET", x->key, x->value, NULL);
    store_batch_add(&b, "EXPIRE", x->key, secs, NULL);
    op_multi(op, bp_true, &b);
    store_batch_release(&b);
}

static void queuelock_setnx(struct op *op, const struct store_reply *r)
{
    struct bp_op *x = (struct bp_op *)op;
    char secs[24];

    if (r->type == STORE_REPLY_INT && r->integer == 1) {
        snprintf(secs, sizeof(secs), "%lld", x->timeout);
        op_cmdl(op, bp_true, "EXPIRE", x->key, secs, NULL);
        return;
    }
    op_cmdl(op, queuelock_get, "GET", x->key, NULL);
}

static void delaylock_got(int status, json_t *result, const char *error, void *arg)
{
    struct op *op = arg;

    if (status < 0)
        op_fail(op, status, "%s", error ? error : ah_strerror(status));
    else
        op_done(op, json_array_size(result) > 0 ? json_false() : json_true());
}

/* ---------------------------------------------------------------- Retry */

static long long retry_max_delay(json_t *o)
{
    long long m = opt_ll(o, "retryDelay", 5000);
    json_t *bs = json_object_get(o, "backoffStrategy"), *v;
    size_t i;

    if (m == 0)
        m = 1;
    json_array_foreach(bs, i, v)
        if (json_is_number(v) && (long long)json_number_value(v) > m)
            m = (long long)json_number_value(v);
    return m;
}

/* argsKey(): objects as JSON, the rest as String(), joined with "-";
 * then String#replace(/\s/, "") removes the first whitespace only. */
static char *retry_key_of(struct ah_job *job, const char *prefix, bool joined)
{
    struct buf b = BUF_INIT;
    size_t i, len;
    json_t *v;
    char *key, *out, *p;

    json_array_foreach(job->args, i, v) {
        char *s = json_is_object(v) || json_is_array(v) || json_is_null(v) ? json_out_str(v, 0, 0, NULL)
                                                                           : tq_js_string(v);

        if (i)
            buf_addc(&b, '-');
        buf_adds(&b, s);
        free(s);
    }
    if (b.data == NULL)
        buf_adds(&b, "");
    if (joined) {
        char *part = xasprintf("%s:%s:%s", prefix, job->cls, b.data);

        key = tq_key(job->t, part, NULL);
        free(part);
    } else {
        key = tq_key(job->t, prefix, job->cls, b.data, NULL);
    }
    buf_release(&b);
    len = strlen(key);
    out = xmalloc(len + 1);
    memcpy(out, key, len + 1);
    for (p = out; *p; p++) {
        if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\v' || *p == '\f') {
            memmove(p, p + 1, strlen(p + 1) + 1);
            break;
        }
    }
    free(key);
    return out;
}

static void retry_counted(struct op *op, const struct store_reply *r);

static void retry_requeued(int status, json_t *result, const char *error, void *arg)
{
    struct bp_op *x = arg;
    struct ah_job *job = x->job;
    struct store_batch b = STORE_BATCH_INIT;
    char *p = tq_key(job->t, "stat", "processed", NULL), *f = tq_key(job->t, "stat", "failed", NULL);
    char *wp = tq_key(job->t, "stat", "processed", job->worker ? job->worker : "", NULL);
    char *wf = tq_key(job->t, "stat", "failed", job->worker ? job->worker : "", NULL);

    (void)result;
    if (status < 0) {
        op_fail(&x->op, status, "%s", error ? error : ah_strerror(status));
        goto out;
    }
    log_msg(job->t->cfg.wl_reenqueue, NULL, "[ worker ] reEnqueue task class=%s queue=%s remainingAttempts=%lld",
            job->cls, job->queue, x->remaining);
    /* the job counts as failed, not processed (the worker adds one processed) */
    store_batch_add(&b, "DECR", p, NULL);
    store_batch_add(&b, "DECR", wp, NULL);
    store_batch_add(&b, "INCR", f, NULL);
    store_batch_add(&b, "INCR", wf, NULL);
    ah_job_clear_error(job);
    op_multi(&x->op, bp_true, &b);
out:
    store_batch_release(&b);
    free(p);
    free(f);
    free(wp);
    free(wf);
}

static void retry_saved(struct op *op, const struct store_reply *r)
{
    struct bp_op *x = (struct bp_op *)op;
    struct ah_job *job = x->job;
    json_t *o = opts_of(job, "Retry"), *bs = json_object_get(o, "backoffStrategy");
    long long limit = opt_ll(o, "retryLimit", 1), delay = opt_ll(o, "retryDelay", 5000);

    (void)r;
    if (x->remaining <= 0) {
        struct store_batch b = STORE_BATCH_INIT;

        /* cleanup, then "throw this.worker.error": the job fails */
        store_batch_add(&b, "DEL", x->key, NULL);
        store_batch_add(&b, "DEL", x->key2, NULL);
        op_multi(op, retry_counted, &b);
        store_batch_release(&b);
        return;
    }
    if (json_is_array(bs) && json_array_size(bs) > 0) {
        long long i = limit - x->remaining - 1;

        if (i > (long long)json_array_size(bs) - 1)
            i = (long long)json_array_size(bs) - 1;
        if (i < 0)
            i = 0;
        delay = (long long)json_number_value(json_array_get(bs, (size_t)i));
    }
    tq_enqueue_at(op->t, (long long)core_now_ms() + delay, job->queue, job->cls, job->args, false,
                  retry_requeued, x);
}

/* After the final cleanup: fail with the job's error. */
static void retry_counted(struct op *op, const struct store_reply *r)
{
    struct bp_op *x = (struct bp_op *)op;

    (void)r;
    op_fail(op, AH_EFAIL, "%s", x->job->error ? x->job->error : "job failed");
}

static void retry_incr(struct op *op, const struct store_reply *r)
{
    struct bp_op *x = (struct bp_op *)op;
    struct ah_job *job = x->job;
    json_t *o = opts_of(job, "Retry");
    long long limit = opt_ll(o, "retryLimit", 1);
    char secs[24], date[96], *enc, *err;
    struct store_batch b = STORE_BATCH_INIT;
    json_t *data;
    time_t now = (time_t)(core_now_ms() / 1000);
    struct tm tm;

    x->remaining = limit - (r->type == STORE_REPLY_INT ? r->integer : 0) - 1;
    snprintf(secs, sizeof(secs), "%lld", x->timeout);
    gmtime_r(&now, &tm);
    snprintf(date, sizeof(date), "%04d/%02d/%02d %02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec);
    err = xasprintf("%s: %s", job->exception ? job->exception : "Error", job->error ? job->error : "");
    data = json_pack("{s:s,s:O,s:s,s:s,s:[s],s:s,s:s}", "failed_at", date, "payload", job->args, "exception", err,
                     "error", err, "backtrace", err, "worker", job->cls, "queue", job->queue);
    enc = json_out_str(data, 0, 0, NULL);
    /* EXPIRE with the max delay in ms as seconds: node-resque does so */
    store_batch_add(&b, "EXPIRE", x->key, secs, NULL);
    store_batch_add(&b, "SETEX", x->key2, secs, enc, NULL);
    op_multi(op, retry_saved, &b);
    store_batch_release(&b);
    json_decref(data);
    free(enc);
    free(err);
}

static void retry_setnx(struct op *op, const struct store_reply *r)
{
    struct bp_op *x = (struct bp_op *)op;

    (void)r;
    op_cmdl(op, retry_incr, "INCR", x->key, NULL);
}

static void builtin_run(struct ah_job *job, enum builtin_plugin id)
{
    struct bp_op *x;
    json_t *o;

    switch (id) {
    case PLUGIN_JOB_LOCK:
        if (job->hook == HOOK_BEFORE_PERFORM) {
            x = bp_new(job);
            o = opts_of(job, "JobLock");
            x->timeout = opt_ll(o, "lockTimeout", 3600);
            x->key = lock_key(job, "JobLock", "workerslock");
            snprintf(x->value, sizeof(x->value), "%lld", now_s() + x->timeout + 1);
            {
                char secs[24];

                snprintf(secs, sizeof(secs), "%lld", x->timeout);
                op_cmdl(&x->op, joblock_set, "SET", x->key, x->value, "EX", secs, "NX", NULL);
            }
            x->op.in_call = false;
            return;
        }
        if (job->hook == HOOK_AFTER_PERFORM) {
            x = bp_new(job);
            x->key = lock_key(job, "JobLock", "workerslock");
            op_cmdl(&x->op, bp_true, "DEL", x->key, NULL);
            x->op.in_call = false;
            return;
        }
        break;
    case PLUGIN_QUEUE_LOCK:
        if (job->hook == HOOK_BEFORE_ENQUEUE) {
            x = bp_new(job);
            x->timeout = opt_ll(opts_of(job, "QueueLock"), "lockTimeout", 3600);
            x->key = lock_key(job, "QueueLock", "lock");
            snprintf(x->value, sizeof(x->value), "%lld", now_s() + x->timeout + 1);
            op_cmdl(&x->op, queuelock_setnx, "SETNX", x->key, x->value, NULL);
            x->op.in_call = false;
            return;
        }
        if (job->hook == HOOK_BEFORE_PERFORM) {
            x = bp_new(job);
            x->key = lock_key(job, "QueueLock", "lock");
            op_cmdl(&x->op, bp_true, "DEL", x->key, NULL);
            x->op.in_call = false;
            return;
        }
        break;
    case PLUGIN_DELAY_QUEUE_LOCK:
        if (job->hook == HOOK_BEFORE_ENQUEUE) {
            x = bp_new(job);
            tq_scheduled_at(job->t, job->queue, job->cls, job->args, delaylock_got, x);
            x->op.in_call = false;
            return;
        }
        break;
    case PLUGIN_RETRY:
        if (job->hook == HOOK_AFTER_PERFORM) {
            x = bp_new(job);
            o = opts_of(job, "Retry");
            x->timeout = retry_max_delay(o);
            x->key = retry_key_of(job, "resque-retry", false);
            x->key2 = retry_key_of(job, "failure-resque-retry", true);
            if (job->error == NULL) {
                struct store_batch b = STORE_BATCH_INIT;

                store_batch_add(&b, "DEL", x->key, NULL);
                store_batch_add(&b, "DEL", x->key2, NULL);
                op_multi(&x->op, bp_true, &b);
                store_batch_release(&b);
            } else {
                op_cmdl(&x->op, retry_setnx, "SETNX", x->key, "-1", NULL);
            }
            x->op.in_call = false;
            return;
        }
        break;
    case PLUGIN_NOOP:
        if (job->hook == HOOK_AFTER_PERFORM && job->error) {
            log_error("%s", job->error);
            ah_job_clear_error(job);
        }
        break;
    case PLUGIN_NONE:
        break;
    }
    /* a hook this plugin does not have: true */
    job->plugin_i++;
    plugin_next(job);
}
