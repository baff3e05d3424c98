/*
 * task.h - background tasks (spec/tasks.md): task modules, task middleware,
 * and the task API for actions, initializers and tasks.
 *
 * Jobs live in the store (memory, or Redis) in node-resque 9's layout, so a
 * Node Actionhero / node-resque process sharing the Redis database enqueues
 * jobs our workers run, and runs jobs we enqueue.
 *
 * A task is a const descriptor plus a run function, in tasks/<file>.c:
 *
 *     static int run(ah_job_t *job, json_t *params)
 *     {
 *         const char *to = json_string_value(json_object_get(params, "to"));
 *
 *         if (to == NULL)
 *             return ah_job_fail(job, AH_EINVAL, "no recipient");
 *         ah_job_set_result(job, json_pack("{s:s}", "sent", to));
 *         return AH_DONE;
 *     }
 *
 *     static const ah_task_input_t inputs[] = {
 *         { .name = "to", .required = true },
 *         { 0 }
 *     };
 *
 *     AH_TASK(send_mail) = {
 *         .name = "sendMail",
 *         .description = "I send one mail",
 *         .queue = "mail",
 *         .inputs = inputs,
 *         .run = run,
 *     };
 *
 * The build collects every AH_TASK and AH_TASK_MIDDLEWARE (tools/
 * gen-registry.sh) like actions.  run() returns AH_DONE, ah_job_fail()'s
 * negative code, or AH_PENDING and then calls ah_job_done() exactly once,
 * later, on the loop thread (after ah_job_set_result() or ah_job_fail()).
 *
 * Every task API function is asynchronous, in two forms (as the cache):
 *
 *     ah_task_enqueue(ctx, "sendMail", inputs, NULL, on_enqueued)          action
 *     ah_task_app_enqueue(app, "sendMail", inputs, NULL, on_enqueued, arg) anywhere
 *
 * Each returns 0 and then its callback runs exactly once on a later loop
 * turn, or a negative code (AH_EINVAL: a required argument is NULL;
 * AH_ESTATE: the task system is not running) and then it never runs.  The
 * callback gets `status` (0 or negative), `result` (the function's result
 * as JSON, borrowed: json_incref() it to keep it; NULL when status < 0) and
 * `error` (NULL, or the error text Actionhero would throw, e.g. "task nope
 * not found", "Job already enqueued at this time with same arguments",
 * "redis unavailable").
 *
 * JSON arguments are borrowed (copied or serialised before the call
 * returns).  `inputs` NULL stands for JavaScript's `undefined`: the job's
 * args are then [null].  A queue NULL means the task's own queue.
 * Everything runs on the loop thread.
 */
#ifndef AH_TASK_H
#define AH_TASK_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include <ah/ah.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ah_job ah_job_t;   /* one job being enqueued or performed */
typedef struct ah_task ah_task_t;

/* A middleware hook or plugin said "false": stop (not enqueued / skipped). */
enum { AH_TASK_STOP = 2 };

/* ---------------------------------------------------------------- inputs */

/* Validator (tasks.md §3): return 0 to accept, 1 to reject with
 * "<value> is not a valid value for <key> in task <taskName>", or <0 after
 * writing your own error text into err (NUL-terminated, errlen bytes). */
typedef int (*ah_task_validate_fn)(ah_app_t *app, const char *name, json_t *value, char *err,
                                   size_t errlen);
/* Computed default: a NEW reference, or NULL for no default. */
typedef json_t *(*ah_task_default_fn)(ah_app_t *app, const char *name);

typedef struct ah_task_input {
    const char *name;                 /* NULL ends a list */
    bool required;                    /* missing: "<key> is a required input for task <taskName>" */
    const char *default_json;         /* default as JSON text, when the input is absent */
    ah_task_default_fn default_fn;    /* or computed (wins over default_json) */
    ah_task_validate_fn validate;
    const char *description;          /* documentation only */
} ah_task_input_t;

/* ---------------------------------------------------------------- tasks */

/* run(job, params): params = args[0] of the job (borrowed; JSON null when
 * enqueued without inputs; read-only by contract). */
typedef int (*ah_task_run_fn)(ah_job_t *job, json_t *params);

struct ah_task {
    const char *name;                 /* required: the job "class" in Redis */
    const char *description;          /* NULL: the name ("" is an error) */
    const char *queue;                /* NULL: "default" ("" is an error) */
    long long frequency;              /* ms; > 0 makes the task periodic */
    const ah_task_input_t *inputs;    /* {0}-terminated, or NULL */
    const char *const *middleware;    /* NULL-terminated task middleware names */
    const char *const *plugins;       /* NULL-terminated: "JobLock", "QueueLock",
                                         "DelayQueueLock", "Retry", "Noop" */
    const char *plugin_options;       /* JSON object text, e.g.
                                         "{\"Retry\": {\"retryLimit\": 3}}" */
    int re_enqueue_periodic_task_if_exception; /* AH_DEFAULT (= yes) / AH_NO */
    ah_task_run_fn run;
};

/* Defines the descriptor `ah_task__<id>`; tools/gen-registry.sh finds it. */
#define AH_TASK(id) const ah_task_t ah_task__##id

/* ---------------------------------------------------------- task middleware */

/* A hook returns AH_DONE (go on), AH_TASK_STOP ("false"), a negative code
 * from ah_job_fail() (throw), or AH_PENDING and later ah_job_hook_done(). */
typedef int (*ah_task_hook_fn)(ah_job_t *job);

typedef struct ah_task_middleware {
    const char *name;
    bool global;                      /* applies to every task */
    int priority;                     /* 0: general.defaultMiddlewarePriority */
    ah_task_hook_fn pre_processor;    /* worker, before run; args still mutable */
    ah_task_hook_fn post_processor;   /* after run, also after a failed run */
    ah_task_hook_fn pre_enqueue;      /* before the push (AH_TASK_STOP: not enqueued) */
    ah_task_hook_fn post_enqueue;     /* after the push; result ignored */
} ah_task_middleware_t;

#define AH_TASK_MIDDLEWARE(id) const ah_task_middleware_t ah_task_middleware__##id

/* task.addMiddleware: "middleware.name is required" -> AH_EINVAL.  `mw` must
 * outlive the app.  Job definitions pick it up at once. */
AH_MUST_CHECK int ah_task_middleware_add(ah_app_t *app, const ah_task_middleware_t *mw);

/* ---------------------------------------------------------------- the job */

ah_app_t *ah_job_app(ah_job_t *job);
const char *ah_job_class(ah_job_t *job);        /* the task name */
const char *ah_job_queue(ah_job_t *job);
const char *ah_job_worker(ah_job_t *job);       /* worker name; NULL at enqueue time */
json_t *ah_job_args(ah_job_t *job);             /* the args array (borrowed, mutable in
                                                   pre_processor / pre_enqueue) */
json_t *ah_job_params(ah_job_t *job);           /* args[0] (borrowed) or NULL */
json_t *ah_job_result(ah_job_t *job);          /* borrowed or NULL */
void ah_job_set_result(ah_job_t *job, json_t *result_take);
/* The error of the run so far ("kaboom"), or NULL; post_processor may clear it. */
const char *ah_job_error(ah_job_t *job);
void ah_job_clear_error(ah_job_t *job);
/* "Throw": record the error text (exception "Error") and return `code`
 * (AH_EFAIL if code >= 0). */
int ah_job_fail(ah_job_t *job, int code, const char *fmt, ...) AH_PRINTF(3, 4);
/* Finish a run that returned AH_PENDING.  Exactly once, on the loop thread. */
void ah_job_done(ah_job_t *job);
/* Finish a hook that returned AH_PENDING with AH_DONE, AH_TASK_STOP or <0. */
void ah_job_hook_done(ah_job_t *job, int rc);
void ah_job_log(ah_job_t *job, int level, const char *fmt, ...) AH_PRINTF(3, 4);

/* CPU-heavy work off the loop: work(arg) runs on the libuv thread pool (it
 * must not touch JSON, the job or the app), then after(job, status, arg)
 * on the loop (status 0, or UV_ECANCELED).  `after` usually sets the result
 * and calls ah_job_done().  Returns 0 or a negative code (then neither
 * runs). */
AH_MUST_CHECK int ah_task_run_blocking(ah_job_t *job, void (*work)(void *arg),
                                       void (*after)(ah_job_t *job, int status, void *arg), void *arg);

/* ---------------------------------------------------------------- the API */

typedef void (*ah_task_cb)(ah_ctx_t *ctx, int status, json_t *result, const char *error);
typedef void (*ah_task_app_cb)(ah_app_t *app, int status, json_t *result, const char *error, void *arg);

/* Declare both forms of one API function. */
#define AH_TASK_API(name, ...)                                                          \
    AH_MUST_CHECK int ah_task_##name(ah_ctx_t *ctx, __VA_ARGS__, ah_task_cb cb);        \
    AH_MUST_CHECK int ah_task_app_##name(ah_app_t *app, __VA_ARGS__, ah_task_app_cb cb, void *arg)
#define AH_TASK_API0(name)                                                              \
    AH_MUST_CHECK int ah_task_##name(ah_ctx_t *ctx, ah_task_cb cb);                     \
    AH_MUST_CHECK int ah_task_app_##name(ah_app_t *app, ah_task_app_cb cb, void *arg)

/* enqueue -> true, or false when a plugin / pre_enqueue middleware vetoed. */
AH_TASK_API(enqueue, const char *task, json_t *inputs, const char *queue);
/* enqueueAt(ms since the epoch) / enqueueIn(ms from now) -> true; a copy
 * already at that second: "Job already enqueued at this time with same
 * arguments", or null when `suppress_duplicate`. */
AH_TASK_API(enqueue_at, long long timestamp_ms, const char *task, json_t *inputs, const char *queue,
            bool suppress_duplicate);
AH_TASK_API(enqueue_in, long long delay_ms, const char *task, json_t *inputs, const char *queue,
            bool suppress_duplicate);
/* del -> number removed (count 0: all copies) */
AH_TASK_API(del, const char *queue, const char *task, json_t *inputs, long long count);
/* delByFunction -> number removed */
AH_TASK_API(del_by_function, const char *queue, const char *task, long long start, long long stop);
/* delDelayed -> [unix seconds removed from] */
AH_TASK_API(del_delayed, const char *queue, const char *task, json_t *inputs);
/* scheduledAt -> [unix seconds] */
AH_TASK_API(scheduled_at, const char *queue, const char *task, json_t *inputs);
/* timestamps -> [ms], sorted as JavaScript's default sort does */
AH_TASK_API0(timestamps);
/* delayedAt -> {"tasks": [jobs], "rTimestamp": seconds} */
AH_TASK_API(delayed_at, long long timestamp_ms);
/* allDelayed -> {"<ms>": [jobs]} */
AH_TASK_API0(all_delayed);
/* queued -> [jobs] between start and stop (inclusive, negative from the end) */
AH_TASK_API(queued, const char *queue, long long start, long long stop);
/* delQueue -> null */
AH_TASK_API(del_queue, const char *queue);
/* locks -> {"lock:...": value, "workerslock:...": value} */
AH_TASK_API0(locks);
/* delLock("lock:...") -> number deleted */
AH_TASK_API(del_lock, const char *key);
/* stats -> {"processed": "4", "failed:<worker>": "1", ...} (string values) */
AH_TASK_API0(stats);
/* workers -> {"<worker name>": "<queues string>"} */
AH_TASK_API0(workers);
/* workingOn -> the worker's JSON text (a string) or null */
AH_TASK_API(working_on, const char *worker, const char *queues);
/* allWorkingOn -> {"<worker>": "started" | {run_at, queue, worker, payload}} */
AH_TASK_API0(all_working_on);
/* details -> {queues: {"<q>": {length}}, workers, stats, leader} */
AH_TASK_API0(details);
/* failedCount -> integer;  failed(start, stop) -> [failure records] */
AH_TASK_API0(failed_count);
AH_TASK_API(failed, long long start, long long stop);
/* removeFailed(record) -> count; retryAndRemoveFailed(record) -> enqueue's
 * result, or "This job is not in failed queue" */
AH_TASK_API(remove_failed, json_t *record);
AH_TASK_API(retry_and_remove_failed, json_t *record);
/* cleanOldWorkers(age ms) -> {"<worker>": failure record} */
AH_TASK_API(clean_old_workers, long long age_ms);
/* enqueueRecurrentTask(name) -> null;  enqueueAllRecurrentTasks -> [names] */
AH_TASK_API(enqueue_recurrent_task, const char *task);
AH_TASK_API0(enqueue_all_recurrent_tasks);
/* stopRecurrentTask -> number removed (null for a task that is not periodic) */
AH_TASK_API(stop_recurrent_task, const char *task);

#undef AH_TASK_API
#undef AH_TASK_API0

#ifdef __cplusplus
}
#endif

#endif /* AH_TASK_H */
