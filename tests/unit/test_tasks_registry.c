/*
 * test_tasks_registry.c - task descriptors (tasks.md §1): the boot
 * validation messages, defaults, duplicates, the plugin list of a job
 * definition (periodic locks, global then task middleware, priorities),
 * and task middleware registration.
 */
#include "tasks_testlib.h"

static int run_ok(ah_job_t *job, json_t *params)
{
    (void)job;
    (void)params;
    return AH_DONE;
}

static ah_app_t app_;

/* A bare struct tasks on a fake app (only config is read). */
static struct tasks *fresh(void)
{
    struct tasks *t = xcalloc(1, sizeof(*t));

    if (app_.config == NULL)
        app_.config = json_pack("{s:{s:i}}", "general", "defaultMiddlewarePriority", 100);
    app_.fail_msg[0] = '\0';
    t->app = &app_;
    return t;
}

static void release(struct tasks *t)
{
    registry_free(t);
    free(t);
}

/* Load one descriptor; returns the boot message ("" when it loads). */
static const char *load1(const ah_task_t *d)
{
    static char msg[1024];
    const ah_task_t *list[] = {d, NULL};
    const char *files[] = {"tasks/x.c", NULL};
    struct tasks *t = fresh();

    msg[0] = '\0';
    if (registry_load_list(t, list, files, NULL) < 0)
        snprintf(msg, sizeof(msg), "%s", app_.fail_msg);
    release(t);
    return msg;
}

static const char *const bogus_plugins[] = {"NoSuchPlugin", NULL};
static const char *const job_lock[] = {"JobLock", NULL};

static int hook(ah_job_t *job)
{
    (void)job;
    return AH_DONE;
}

static const ah_task_middleware_t mw_a = {.name = "a", .global = true, .priority = 300, .pre_processor = hook};
static const ah_task_middleware_t mw_b = {.name = "b", .global = true, .priority = 50, .pre_processor = hook};
static const ah_task_middleware_t mw_c = {.name = "c", .global = true, .pre_processor = hook}; /* 100 */
static const ah_task_middleware_t mw_d = {.name = "d", .global = true, .priority = 100, .pre_processor = hook};
static const ah_task_middleware_t mw_local = {.name = "local", .pre_processor = hook};
static const char *const local_names[] = {"local", "missing", NULL};

static const char *plugin_list(struct tasks *t, const char *name)
{
    static char buf[512];
    struct plugin_ref *v;
    size_t n = registry_plugins(t, registry_find(t, name), &v), i;

    buf[0] = '\0';
    for (i = 0; i < n; i++) {
        const char *p = v[i].builtin != PLUGIN_NONE ? registry_plugin_name(v[i].builtin) : v[i].mw->name;

        snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", i ? "," : "", p);
    }
    free(v);
    return buf;
}

int main(void)
{
    /* validation messages */
    CHECK_EQ_STR(load1(&(ah_task_t){.run = run_ok}), "name is required for this task");
    CHECK_EQ_STR(load1(&(ah_task_t){.name = "", .run = run_ok}), "name is required for this task");
    CHECK_EQ_STR(load1(&(ah_task_t){.name = "t", .description = "", .run = run_ok}),
                 "description is required for the task `t`");
    CHECK_EQ_STR(load1(&(ah_task_t){.name = "t", .queue = "", .run = run_ok}), "queue is required for the task `t`");
    CHECK_EQ_STR(load1(&(ah_task_t){.name = "t", .frequency = -1, .run = run_ok}),
                 "frequency is required for the task `t` (ms, 0 or more)");
    CHECK_EQ_STR(load1(&(ah_task_t){.name = "t"}), "task `t` has no run method");
    CHECK_EQ_STR(load1(&(ah_task_t){.name = "t", .plugins = bogus_plugins, .run = run_ok}),
                 "unknown plugin `NoSuchPlugin` for the task `t` (JobLock, QueueLock, DelayQueueLock, Retry or Noop)");
    CHECK_EQ_STR(load1(&(ah_task_t){.name = "t", .plugin_options = "[1]", .run = run_ok}),
                 "pluginOptions of the task `t` must be a JSON object");
    CHECK_EQ_STR(load1(&(ah_task_t){.name = "t", .inputs = (const ah_task_input_t[]){{.name = "x", .default_json = "{"}, {0}},
                                    .run = run_ok}),
                 "default of input `x` of the task `t` is not JSON: string or '}' expected near end of file");
    CHECK_EQ_STR(load1(&(ah_task_t){.name = "t", .run = run_ok}), "");

    /* duplicates: the later file wins (logged at crit) */
    {
        const ah_task_t one = {.name = "dup", .queue = "q1", .run = run_ok};
        const ah_task_t two = {.name = "dup", .queue = "q2", .run = run_ok};
        const ah_task_t *list[] = {&one, &two, NULL};
        const char *files[] = {"tasks/a.c", "tasks/b.c", NULL};
        struct tasks *t = fresh();

        CHECK_EQ_INT(registry_load_list(t, list, files, NULL), 0);
        CHECK_EQ_INT((long long)t->n_tasks, 1);
        CHECK_EQ_STR(registry_find(t, "dup")->task->queue, "q2");
        CHECK_EQ_STR(registry_find(t, "dup")->file, "tasks/b.c");
        release(t);
    }

    /* plugin lists: periodic locks; global middleware by priority (ties in
     * registration order), then the task's own (unknown names skipped) */
    {
        const ah_task_t periodic = {.name = "p", .frequency = 1000, .run = run_ok};
        const ah_task_t locked = {.name = "l", .frequency = 1000, .plugins = job_lock,
                                  .plugin_options = "{\"JobLock\": {\"reEnqueue\": true}}", .run = run_ok};
        const ah_task_t plain = {.name = "n", .middleware = local_names, .run = run_ok};
        const ah_task_t *list[] = {&periodic, &locked, &plain, NULL};
        const char *files[] = {"tasks/p.c", "tasks/l.c", "tasks/n.c", NULL};
        const ah_task_middleware_t *mws[] = {&mw_a, &mw_b, &mw_c, &mw_local, NULL};
        struct tasks *t = fresh();

        CHECK_EQ_INT(registry_load_list(t, list, files, mws), 0);
        CHECK_EQ_STR(plugin_list(t, "p"), "JobLock,QueueLock,DelayQueueLock,b,c,a");
        CHECK_EQ_STR(jtext(registry_plugin_options(registry_find(t, "p"), "JobLock")), "{\"reEnqueue\":false}");
        /* a task's own JobLock keeps its options */
        CHECK_EQ_STR(plugin_list(t, "l"), "JobLock,QueueLock,DelayQueueLock,b,c,a");
        CHECK_EQ_STR(jtext(registry_plugin_options(registry_find(t, "l"), "JobLock")), "{\"reEnqueue\":true}");
        CHECK_EQ_STR(plugin_list(t, "n"), "b,c,a,local");
        /* added later: picked up at once, after c (same priority) */
        CHECK_EQ_INT(registry_add_middleware(t, &mw_d), 0);
        CHECK_EQ_STR(plugin_list(t, "n"), "b,c,d,a,local");
        CHECK_EQ_INT(registry_add_middleware(t, &(ah_task_middleware_t){.name = NULL}), AH_EINVAL);
        CHECK(registry_find(t, "nope") == NULL);
        CHECK_EQ_STR(plugin_list(t, "nope"), "");
        release(t);
    }

    /* the public registration on a running app */
    {
        ah_app_t *app = testkit_app_new();

        CHECK_EQ_INT(ah_task_middleware_add(app, &(ah_task_middleware_t){.name = ""}), AH_EINVAL);
        CHECK_EQ_INT(ah_task_middleware_add(app, &mw_d), 0);
        CHECK(tasks_exists(app, "runAction"));
        CHECK(tasks_exists(app, "testEcho"));
        CHECK(!tasks_exists(app, "nope"));
        CHECK_EQ_STR(registry_find(tasks_of(app), "runAction")->task->description,
                     "I will run an action and return the connection object");
        CHECK_EQ_INT(testkit_app_free(app), 0);
    }
    json_decref(app_.config);
    return check_done();
}
