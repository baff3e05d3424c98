/*
 * tasks_internal.h - shared between the files of src/tasks/.
 *
 *   registry.c   task descriptors and task middleware: validation, lookup,
 *                the plugin list of each job definition
 *   op.c         the small machinery of asynchronous command sequences,
 *                keys, dates and JSON helpers
 *   queue.c      node-resque's Queue: every Redis read and write of the API
 *   plugins.c    the plugin runner and node-resque's plugins
 *   api.c        the public task API (input validation, recurrent tasks)
 *   worker.c     worker slots and their pool (node-resque Worker/MultiWorker)
 *   scheduler.c  leader election, delayed jobs, stuck workers
 *   init.c       configuration and the `resque` / `tasks` initializers
 *   run_action.c the built-in `runAction` task
 */
#ifndef AH_SRC_TASKS_TASKS_INTERNAL_H
#define AH_SRC_TASKS_TASKS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include <ah/ah.h>

#include "cluster/store.h"
#include "core/core.h"
#include "tasks/tasks.h"

#define TASKS_SLOT "tasks"

/* The generated tables (build/gen/registry.c). */
extern const ah_task_t *const ah_gen_tasks[];
extern const char *const ah_gen_task_files[];
extern const ah_task_middleware_t *const ah_gen_task_middleware[];

/* ---------------------------------------------------------------- config */

struct tasks_config {
    bool scheduler;
    char **queues;            /* NULL-terminated; {"*"} by default */
    size_t n_queues;
    uint64_t timeout;         /* ms */
    int min_processors;
    int max_processors;
    uint64_t check_timeout;   /* ms */
    uint64_t max_event_loop_delay;
    uint64_t stuck_worker_timeout;
    bool retry_stuck_jobs;
    char *ns;                 /* "resque" */
    /* log levels */
    int wl_failure, wl_success, wl_start, wl_end, wl_cleaning, wl_poll, wl_job, wl_pause,
        wl_reenqueue, wl_internal, wl_multi;
    int sl_start, sl_end, sl_poll, sl_enqueue, sl_working, sl_reenqueue, sl_transferred;
};

/* ---------------------------------------------------------------- registry */

enum builtin_plugin {
    PLUGIN_NONE = 0,
    PLUGIN_JOB_LOCK,
    PLUGIN_QUEUE_LOCK,
    PLUGIN_DELAY_QUEUE_LOCK,
    PLUGIN_RETRY,
    PLUGIN_NOOP,
};

#define TASK_MAX_PLUGINS 16

struct task_entry {
    const ah_task_t *task;
    const char *file;
    json_t *plugin_options;   /* object (owned) */
    enum builtin_plugin plugins[TASK_MAX_PLUGINS];
    size_t n_plugins;
};

/* One entry of a job definition's plugin list. */
struct plugin_ref {
    enum builtin_plugin builtin;          /* or PLUGIN_NONE and: */
    const ah_task_middleware_t *mw;
};

/* ---------------------------------------------------------------- the system */

struct worker;
struct pool;
struct scheduler;
struct deferred;

struct tasks {
    ah_app_t *app;
    struct tasks_config cfg;
    char hostname[256];

    struct task_entry *tasks;
    size_t n_tasks;
    const ah_task_middleware_t **mw;      /* every known middleware */
    size_t n_mw;
    const ah_task_middleware_t **global;  /* global ones, sorted by priority */
    size_t n_global;

    struct pool *pool;
    struct scheduler *sched;

    uv_idle_t idle;                        /* runs deferred callbacks */
    bool idle_open;
    struct deferred *defer_head, *defer_tail;

    int refs;                              /* the initializer + every op/job/worker */
    bool running;                          /* the API may be used */
    bool stopping;
    int jobs_in_flight;
};

struct tasks *tasks_of(ah_app_t *app);
void tasks_ref(struct tasks *t);
void tasks_unref(struct tasks *t);
/* The store, or NULL when it is gone. */
struct store *tasks_store(struct tasks *t);
/* Run fn(arg) on a later loop turn (or now, if the loop is closing down). */
void tasks_defer(struct tasks *t, void (*fn)(void *arg), void *arg);

/* registry.c */
int registry_load(struct tasks *t);
/* Load these descriptors (NULL-terminated; files[i] names list[i]) and
 * task middleware: what registry_load does with the generated tables. */
int registry_load_list(struct tasks *t, const ah_task_t *const *list, const char *const *files,
                       const ah_task_middleware_t *const *mws);
void registry_free(struct tasks *t);
const struct task_entry *registry_find(struct tasks *t, const char *name);
/* The plugin list of the job definition of `e` (tasks.md §1): the task's
 * plugins, the periodic locks, then global and task middleware.  *out is a
 * new array (free it); returns the count (0 and NULL for an unknown class). */
size_t registry_plugins(struct tasks *t, const struct task_entry *e, struct plugin_ref **out);
/* Options of one plugin of `e` (borrowed object; an empty one if none). */
json_t *registry_plugin_options(const struct task_entry *e, const char *plugin);
int registry_add_middleware(struct tasks *t, const ah_task_middleware_t *mw);
const char *registry_plugin_name(enum builtin_plugin id);

/* ---------------------------------------------------------------- op.c */

/* Result of every internal operation (result borrowed during the call). */
typedef void (*tq_cb)(int status, json_t *result, const char *error, void *arg);

struct op;
typedef void (*op_step)(struct op *op, const struct store_reply *r);

/* An asynchronous sequence of store commands.  Embed it first in the
 * operation's own struct; op_new() allocates `size` bytes. */
struct op {
    struct tasks *t;
    op_step next;
    tq_cb cb;
    void *arg;
    void (*release)(struct op *op);   /* free the operation's own fields */
    bool in_call;                     /* still inside the starting call */
    bool finished;
    int status;
    json_t *result;
    char *error;
};

struct op *op_new(struct tasks *t, size_t size, tq_cb cb, void *arg);
/* Send one command; `next` runs with its (non-error) reply.  A failure
 * finishes the op with that error. */
void op_cmd(struct op *op, op_step next, int argc, const char *const *argv, const size_t *lens);
void op_cmdl(struct op *op, op_step next, const char *name, ...); /* NULL-terminated */
void op_multi(struct op *op, op_step next, const struct store_batch *b);
void op_eval(struct op *op, op_step next, const struct store_script *sc, int nkeys, int argc,
             const char *const *argv, const size_t *lens);
/* Finish: cb(status, result, error) once (deferred when still in_call);
 * takes `result_take`; frees the op afterwards. */
void op_done(struct op *op, json_t *result_take);
void op_fail(struct op *op, int status, const char *fmt, ...) AH_PRINTF(3, 4);
/* Start a child operation: its callback is `resume`, the parent waits. */
#define OP_ARG(op) ((void *)(op))

/* Keys: "<ns>:<part>:<part>..." with empty (whitespace-only) parts dropped,
 * as node-resque's connection.key(). Returns a new string. */
char *tq_key(struct tasks *t, ...); /* NULL-terminated parts */
/* The encoded job: JSON.stringify({class, queue, args}).  `args` borrowed
 * (NULL: []).  New string. */
char *tq_encode(const char *queue, const char *cls, json_t *args);
/* Args array for Actionhero's `[inputs]` (NULL inputs: [null]). NEW ref. */
json_t *tq_args_of(json_t *inputs);
/* JSON.parse of Redis text, keeping integers when they fit (NEW ref or NULL). */
json_t *tq_parse(const char *s, size_t len);
/* JS Date#toString in UTC: "Thu Dec 03 2026 12:35:28 GMT+0000 (Coordinated Universal Time)". */
void tq_date_string(uint64_t ms, char *out, size_t outlen);
/* Date.parse of that form (any GMT offset) or ISO 8601; false if not. */
bool tq_date_parse(const char *s, uint64_t *ms);
/* parseInt of the text after the last ':' (0 if none). */
long long tq_tail_int(const char *s);
const char *tq_reply_str(const struct store_reply *r); /* NULL unless STR/STATUS */
/* String(v) for a plain JSON value, as JS would (NEW string). */
char *tq_js_string(json_t *v);

/* ---------------------------------------------------------------- queue.c */

/* Every key matching `pattern` (a full key pattern): an array of strings. */
void tq_scan(struct tasks *t, const char *pattern, tq_cb cb, void *arg);
void tq_enqueue(struct tasks *t, const char *q, const char *cls, json_t *args, tq_cb cb, void *arg);
void tq_enqueue_at(struct tasks *t, long long ts_ms, const char *q, const char *cls, json_t *args,
                   bool suppress, tq_cb cb, void *arg);
void tq_del(struct tasks *t, const char *q, const char *cls, json_t *args, long long count, tq_cb cb,
            void *arg);
void tq_del_by_function(struct tasks *t, const char *q, const char *cls, long long start, long long stop,
                        tq_cb cb, void *arg);
void tq_del_delayed(struct tasks *t, const char *q, const char *cls, json_t *args, tq_cb cb, void *arg);
void tq_scheduled_at(struct tasks *t, const char *q, const char *cls, json_t *args, tq_cb cb, void *arg);
void tq_timestamps(struct tasks *t, tq_cb cb, void *arg);
void tq_delayed_at(struct tasks *t, long long ts_ms, tq_cb cb, void *arg);
void tq_all_delayed(struct tasks *t, tq_cb cb, void *arg);
void tq_queued(struct tasks *t, const char *q, long long start, long long stop, tq_cb cb, void *arg);
void tq_del_queue(struct tasks *t, const char *q, tq_cb cb, void *arg);
void tq_locks(struct tasks *t, tq_cb cb, void *arg);
void tq_del_lock(struct tasks *t, const char *key, tq_cb cb, void *arg);
void tq_stats(struct tasks *t, tq_cb cb, void *arg);
void tq_workers(struct tasks *t, tq_cb cb, void *arg);
void tq_working_on(struct tasks *t, const char *name, const char *queues, tq_cb cb, void *arg);
void tq_all_working_on(struct tasks *t, tq_cb cb, void *arg);
void tq_failed_count(struct tasks *t, tq_cb cb, void *arg);
void tq_failed(struct tasks *t, long long start, long long stop, tq_cb cb, void *arg);
void tq_remove_failed(struct tasks *t, json_t *record, tq_cb cb, void *arg);
void tq_retry_and_remove_failed(struct tasks *t, json_t *record, tq_cb cb, void *arg);
void tq_force_clean_worker(struct tasks *t, const char *name, tq_cb cb, void *arg);
void tq_clean_old_workers(struct tasks *t, long long age_ms, tq_cb cb, void *arg);
void tq_retry_stuck_jobs(struct tasks *t, tq_cb cb, void *arg);
void tq_details(struct tasks *t, tq_cb cb, void *arg);
/* The failure record of a job (tasks.md §2.2): NEW object.  `payload`
 * borrowed (the parsed job, or the raw text as a string). */
json_t *tq_failure_record(const char *worker, const char *queue, json_t *payload, const char *exception,
                          const char *error, json_t *backtrace);

/* ---------------------------------------------------------------- jobs and plugins */

enum hook {
    HOOK_BEFORE_ENQUEUE,
    HOOK_AFTER_ENQUEUE,
    HOOK_BEFORE_PERFORM,
    HOOK_AFTER_PERFORM,
};

/* A job (ah_job_t): the plugin instance of node-resque (`this` of a hook)
 * and, for a worker, the job being performed. */
struct ah_job {
    struct tasks *t;
    const struct task_entry *entry;   /* NULL: a class we do not know */
    char *cls;
    char *queue;
    json_t *args;                     /* array (owned) */
    char *worker;                     /* worker name, or NULL (queue side) */
    json_t *result;
    char *error;
    char *exception;

    /* plugin runner */
    struct plugin_ref *plugins;       /* owned */
    size_t n_plugins, plugin_i;
    enum hook hook;
    void (*hook_cb)(struct ah_job *job, int rc, void *arg);
    void *hook_arg;
    bool hook_pending;                /* a middleware hook returned AH_PENDING */
    bool in_hook;                     /* inside the middleware call */
    int hook_sync_rc;                 /* ah_job_hook_done() inside the call */
    bool hook_sync_done;

    /* run */
    void *perform_ctx;
    void (*run_cb)(struct ah_job *job);
    bool run_pending;
    bool in_run;
    bool run_sync_done;
    uv_work_t work;
    void (*work_fn)(void *arg);
    void (*after_fn)(ah_job_t *job, int status, void *arg);
    void *work_arg;
};

struct ah_job *job_new(struct tasks *t, const char *q, const char *cls, json_t *args, const char *worker);
void job_free(struct ah_job *job);
/* Run one hook type over the job definition's plugins; cb(job, rc):
 * 1 = go on, 0 = a plugin said false, <0 = error (job->error set). */
void plugins_run(struct ah_job *job, enum hook hook, void (*cb)(struct ah_job *job, int rc, void *arg),
                 void *arg);

/* Perform the job as a worker does (perform.c); cb(job, outcome):
 * 1 success, 0 skipped by a plugin (no stats), -1 failed (job->error). */
void job_perform(struct ah_job *job, void (*cb)(struct ah_job *job, int outcome, void *arg), void *arg);

/* ---------------------------------------------------------------- api.c */

/* validateInput (tasks.md §3) on `inputs` (mutated; may be NULL for
 * undefined: then a new {} is created when the task declares inputs).
 * Returns 0, or <0 with the error text in err. */
int tasks_validate_inputs(struct tasks *t, const char *name, json_t **inputs, char *err, size_t errlen);
/* enqueueRecurrentTask(name) */
void tasks_enqueue_recurrent(struct tasks *t, const char *name, tq_cb cb, void *arg);
void tasks_enqueue_all_recurrent(struct tasks *t, tq_cb cb, void *arg);

/* ---------------------------------------------------------------- worker.c, scheduler.c */

int pool_start(struct tasks *t);
void pool_quiesce(struct tasks *t);   /* stop taking jobs */
int pool_busy(struct tasks *t);       /* workers taking or performing a job */
void pool_stop(struct tasks *t);      /* untrack idle workers, close handles */
int scheduler_start(struct tasks *t);
void scheduler_stop(struct tasks *t);

#endif /* AH_SRC_TASKS_TASKS_INTERNAL_H */
