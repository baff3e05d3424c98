/*
 * init.c - the task system's life: configuration (tasks.md §7.1), the
 * `resque` and `tasks` initializers at Actionhero's priorities
 * (process.md §1: resque load 600 / start 950 / stop 100, tasks load 699 /
 * start 975), and the deferred-callback queue the API uses.
 *
 * struct tasks is reference counted: the initializers hold one reference,
 * and so does every operation, job, worker and the scheduler, so that work
 * still in flight when the server stops finishes (with the store's
 * "store is closing" error at worst) before anything is freed.
 */
#include "tasks/tasks_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "config/config.h"
#include "log/log.h"

struct deferred {
    void (*fn)(void *arg);
    void *arg;
    struct deferred *next;
};

struct tasks *tasks_of(ah_app_t *app)
{
    return app ? ah_app_get(app, TASKS_SLOT) : NULL;
}

struct store *tasks_store(struct tasks *t)
{
    return store_get(t->app);
}

void tasks_ref(struct tasks *t)
{
    t->refs++;
}

static void on_idle_closed(uv_handle_t *h)
{
    struct tasks *t = h->data;

    free(t);
}

static void config_release(struct tasks_config *c)
{
    size_t i;

    for (i = 0; i < c->n_queues; i++)
        free(c->queues[i]);
    free(c->queues);
    free(c->ns);
    c->queues = NULL;
    c->ns = NULL;
    c->n_queues = 0;
}

void tasks_unref(struct tasks *t)
{
    if (--t->refs > 0)
        return;
    if (t->defer_head)
        AH_BUG("tasks freed with deferred callbacks");
    registry_free(t);
    config_release(&t->cfg);
    uv_close((uv_handle_t *)&t->idle, on_idle_closed);
}

static void on_idle(uv_idle_t *h)
{
    struct tasks *t = h->data;
    struct deferred *d;

    tasks_ref(t);
    while ((d = t->defer_head) != NULL) {
        t->defer_head = d->next;
        if (t->defer_head == NULL)
            t->defer_tail = NULL;
        d->fn(d->arg);
        free(d);
    }
    uv_idle_stop(&t->idle);
    tasks_unref(t);
}

void tasks_defer(struct tasks *t, void (*fn)(void *arg), void *arg)
{
    struct deferred *d = xcalloc(1, sizeof(*d));

    d->fn = fn;
    d->arg = arg;
    if (t->defer_tail)
        t->defer_tail->next = d;
    else
        t->defer_head = d;
    t->defer_tail = d;
    uv_idle_start(&t->idle, on_idle);
}

/* ---------------------------------------------------------------- configuration */

static int cfg_int(ah_app_t *app, const char *path, long long dflt, long long min, long long max, long long *out)
{
    json_t *v = config_get(app, path);
    long long n = dflt;

    if (v != NULL && !json_is_null(v)) {
        if (json_is_integer(v))
            n = json_integer_value(v);
        else if (json_is_real(v) && json_real_value(v) == (double)(long long)json_real_value(v))
            n = (long long)json_real_value(v);
        else
            return ah_app_fail(app, "config '%s': expected an integer between %lld and %lld", path, min, max);
    }
    if (n < min || n > max)
        return ah_app_fail(app, "config '%s': %lld is out of range (%lld to %lld)", path, n, min, max);
    *out = n;
    return 0;
}

static int cfg_level(ah_app_t *app, const char *path, const char *dflt, int *out)
{
    json_t *v = config_get(app, path);
    const char *name = dflt;

    if (v != NULL && !json_is_null(v)) {
        if (!json_is_string(v))
            return ah_app_fail(app, "config '%s': expected a log level name", path);
        name = json_string_value(v);
    }
    if ((*out = log_level_parse(name)) < 0)
        return ah_app_fail(app, "config '%s': unknown log level '%s'", path, name);
    return 0;
}

static int load_config(ah_app_t *app, struct tasks_config *c)
{
    bool test = app->env && strcmp(app->env, "test") == 0;
    json_t *q = config_get(app, "tasks.queues"), *v;
    const char *ns;
    long long n;
    size_t i;

    memset(c, 0, sizeof(*c));
    c->scheduler = config_bool(app, "tasks.scheduler", false);
    if (q == NULL || json_is_null(q) || (json_is_array(q) && json_array_size(q) == 0)) {
        c->queues = xcalloc(2, sizeof(*c->queues));
        c->queues[c->n_queues++] = xstrdup("*");
    } else if (json_is_string(q) && json_string_length(q) > 0) {
        c->queues = xcalloc(2, sizeof(*c->queues));
        c->queues[c->n_queues++] = xstrdup(json_string_value(q));
    } else if (json_is_array(q)) {
        c->queues = xcalloc(json_array_size(q) + 1, sizeof(*c->queues));
        json_array_foreach(q, i, v) {
            if (!json_is_string(v) || json_string_length(v) == 0 || strchr(json_string_value(v), ','))
                return ah_app_fail(app, "config 'tasks.queues': expected an array of queue names (non-empty "
                                   "strings without ',')");
            c->queues[c->n_queues++] = xstrdup(json_string_value(v));
        }
    } else {
        return ah_app_fail(app, "config 'tasks.queues': expected an array of queue names");
    }
#define INT(path, field, dflt, min, max)                    \
    do {                                                    \
        if (cfg_int(app, path, dflt, min, max, &n) < 0)     \
            return AH_EINVAL;                               \
        c->field = (__typeof__(c->field))n;                 \
    } while (0)
    INT("tasks.timeout", timeout, test ? 100 : 5000, 1, 3600000);
    INT("tasks.minTaskProcessors", min_processors, 0, 0, 10000);
    INT("tasks.maxTaskProcessors", max_processors, 0, 0, 10000);
    INT("tasks.checkTimeout", check_timeout, test ? 50 : 500, 1, 3600000);
    INT("tasks.maxEventLoopDelay", max_event_loop_delay, 5, 0, 3600000);
    INT("tasks.stuckWorkerTimeout", stuck_worker_timeout, 3600000, 1000, 365LL * 86400000);
#undef INT
    c->retry_stuck_jobs = config_bool(app, "tasks.retryStuckJobs", false);
    v = config_get(app, "tasks.connectionOptions.tasks.namespace");
    if (v != NULL && !json_is_null(v) && !json_is_string(v))
        return ah_app_fail(app, "config 'tasks.connectionOptions.tasks.namespace': expected a string");
    ns = json_is_string(v) ? json_string_value(v) : "resque";
    c->ns = xstrdup(ns);
#define LVL(path, field, dflt)                          \
    do {                                                \
        if (cfg_level(app, path, dflt, &c->field) < 0)  \
            return AH_EINVAL;                           \
    } while (0)
    LVL("tasks.workerLogging.failure", wl_failure, "error");
    LVL("tasks.workerLogging.success", wl_success, "info");
    LVL("tasks.workerLogging.start", wl_start, "info");
    LVL("tasks.workerLogging.end", wl_end, "info");
    LVL("tasks.workerLogging.cleaning_worker", wl_cleaning, "info");
    LVL("tasks.workerLogging.poll", wl_poll, "debug");
    LVL("tasks.workerLogging.job", wl_job, "debug");
    LVL("tasks.workerLogging.pause", wl_pause, "debug");
    LVL("tasks.workerLogging.reEnqueue", wl_reenqueue, "debug");
    LVL("tasks.workerLogging.internalError", wl_internal, "error");
    LVL("tasks.workerLogging.multiWorkerAction", wl_multi, "debug");
    LVL("tasks.schedulerLogging.start", sl_start, "info");
    LVL("tasks.schedulerLogging.end", sl_end, "info");
    LVL("tasks.schedulerLogging.poll", sl_poll, "debug");
    LVL("tasks.schedulerLogging.enqueue", sl_enqueue, "debug");
    LVL("tasks.schedulerLogging.working_timestamp", sl_working, "debug");
    LVL("tasks.schedulerLogging.reEnqueue", sl_reenqueue, "debug");
    LVL("tasks.schedulerLogging.transferred_job", sl_transferred, "debug");
#undef LVL
    return 0;
}

/* ---------------------------------------------------------------- initializers */

static void on_stop_accepting(ah_app_t *app)
{
    struct tasks *t = tasks_of(app);

    /* no new jobs from now on; jobs in progress finish during the drain */
    if (t)
        pool_quiesce(t);
}

static int resque_initialize(ah_app_t *app)
{
    struct tasks *t = xcalloc(1, sizeof(*t));
    size_t len = sizeof(t->hostname);

    t->app = app;
    t->refs = 1;
    if (uv_os_gethostname(t->hostname, &len) < 0)
        snprintf(t->hostname, sizeof(t->hostname), "localhost");
    uv_idle_init(app->loop, &t->idle);
    t->idle.data = t;
    t->idle_open = true;
    ah_app_set(app, TASKS_SLOT, t);
    if (load_config(app, &t->cfg) < 0)
        return AH_EINVAL; /* the stop phase releases t */
    app_on_stop_accepting(app, on_stop_accepting);
    return 0;
}

static int resque_start(ah_app_t *app)
{
    struct tasks *t = tasks_of(app);
    int rc;

    if (t == NULL)
        return 0;
    if (t->cfg.min_processors == 0 && t->cfg.max_processors > 0)
        t->cfg.min_processors = 1;
    if (t->cfg.max_processors < t->cfg.min_processors)
        t->cfg.max_processors = t->cfg.min_processors;
    if ((rc = scheduler_start(t)) < 0)
        return rc;
    return pool_start(t);
}

static int resque_stop(ah_app_t *app)
{
    struct tasks *t = tasks_of(app);

    if (t == NULL)
        return 0;
    scheduler_stop(t);
    pool_stop(t);
    t->running = false;
    ah_app_set(app, TASKS_SLOT, NULL);
    tasks_unref(t);
    return 0;
}

AH_INITIALIZER(core_resque) = {
    .name = "resque",
    .load_priority = 600,
    .start_priority = 950,
    .stop_priority = 100,
    .initialize = resque_initialize,
    .start = resque_start,
    .stop = resque_stop,
};

static int tasks_initialize(ah_app_t *app)
{
    struct tasks *t = tasks_of(app);
    int rc;

    if (t == NULL)
        return ah_app_fail(app, "the tasks initializer needs the resque initializer");
    if ((rc = registry_load(t)) < 0)
        return rc;
    /* the queue is usable from now on, by later initializers and commands */
    t->running = true;
    return 0;
}

static void on_recurrent_enqueued(int status, json_t *result, const char *error, void *arg)
{
    (void)result;
    (void)arg;
    if (status < 0)
        log_error("cannot enqueue the periodic tasks: %s", error ? error : ah_strerror(status));
}

static int tasks_start(ah_app_t *app)
{
    struct tasks *t = tasks_of(app);

    if (t && t->cfg.scheduler)
        tasks_enqueue_all_recurrent(t, on_recurrent_enqueued, NULL);
    return 0;
}

AH_INITIALIZER(core_tasks) = {
    .name = "tasks",
    .load_priority = 699,
    .start_priority = 975,
    .stop_priority = 0,
    .initialize = tasks_initialize,
    .start = tasks_start,
};
