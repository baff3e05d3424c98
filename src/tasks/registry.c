/*
 * registry.c - the task table and the task middleware (tasks.md §1, §5).
 *
 * Descriptors come from the generated table (tasks/, src/, and the test
 * build's tests/tasks/).  Load-time validation stops boot with the spec's
 * messages; a second task of the same name overrides the first with a
 * `crit` line, as Actionhero does.  The plugin list of a job definition is
 * computed when a hook runs, so middleware added at run time applies at
 * once (Actionhero reloads every task file for that).
 */
#include "tasks/tasks_internal.h"

#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "log/log.h"

static const struct {
    const char *name;
    enum builtin_plugin id;
} builtin_names[] = {
    {"JobLock", PLUGIN_JOB_LOCK},
    {"QueueLock", PLUGIN_QUEUE_LOCK},
    {"DelayQueueLock", PLUGIN_DELAY_QUEUE_LOCK},
    {"Retry", PLUGIN_RETRY},
    {"Noop", PLUGIN_NOOP},
};

static enum builtin_plugin plugin_id(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(builtin_names) / sizeof(builtin_names[0]); i++)
        if (strcmp(builtin_names[i].name, name) == 0)
            return builtin_names[i].id;
    return PLUGIN_NONE;
}

static const char *plugin_name(enum builtin_plugin id)
{
    size_t i;

    for (i = 0; i < sizeof(builtin_names) / sizeof(builtin_names[0]); i++)
        if (builtin_names[i].id == id)
            return builtin_names[i].name;
    return "NodeResquePlugin";
}

static bool has_plugin(const struct task_entry *e, enum builtin_plugin id)
{
    size_t i;

    for (i = 0; i < e->n_plugins; i++)
        if (e->plugins[i] == id)
            return true;
    return false;
}

/* Validate one descriptor; fill `e`.  Returns 0 or AH_EINVAL (ah_app_fail). */
static int load_one(struct tasks *t, const ah_task_t *d, const char *file, struct task_entry *e)
{
    ah_app_t *app = t->app;
    json_error_t jerr;
    size_t i;

    memset(e, 0, sizeof(*e));
    if (d->name == NULL || d->name[0] == '\0')
        return ah_app_fail(app, "name is required for this task");
    if (d->description && d->description[0] == '\0')
        return ah_app_fail(app, "description is required for the task `%s`", d->name);
    if (d->queue && d->queue[0] == '\0')
        return ah_app_fail(app, "queue is required for the task `%s`", d->name);
    if (d->frequency < 0)
        return ah_app_fail(app, "frequency is required for the task `%s` (ms, 0 or more)", d->name);
    if (d->run == NULL)
        return ah_app_fail(app, "task `%s` has no run method", d->name);
    {
        json_t *nm = json_string(d->name);

        if (nm == NULL)
            return ah_app_fail(app, "task name `%s` is not valid UTF-8 (%s)", d->name, file);
        json_decref(nm);
    }
    e->task = d;
    e->file = file;
    for (i = 0; d->plugins && d->plugins[i]; i++) {
        enum builtin_plugin id = plugin_id(d->plugins[i]);

        if (id == PLUGIN_NONE)
            return ah_app_fail(app, "unknown plugin `%s` for the task `%s` (JobLock, QueueLock, "
                               "DelayQueueLock, Retry or Noop)", d->plugins[i], d->name);
        if (e->n_plugins >= TASK_MAX_PLUGINS)
            return ah_app_fail(app, "too many plugins for the task `%s`", d->name);
        e->plugins[e->n_plugins++] = id;
    }
    if (d->plugin_options) {
        e->plugin_options = json_loads(d->plugin_options, 0, &jerr);
        if (!json_is_object(e->plugin_options)) {
            json_decref(e->plugin_options);
            e->plugin_options = NULL;
            return ah_app_fail(app, "pluginOptions of the task `%s` must be a JSON object", d->name);
        }
    } else {
        e->plugin_options = json_object();
    }
    /* jobWrapper: periodic tasks get the three lock plugins */
    if (d->frequency > 0) {
        if (!has_plugin(e, PLUGIN_JOB_LOCK)) {
            e->plugins[e->n_plugins++] = PLUGIN_JOB_LOCK;
            json_object_set_new(e->plugin_options, "JobLock", json_pack("{s:b}", "reEnqueue", 0));
        }
        if (!has_plugin(e, PLUGIN_QUEUE_LOCK) && e->n_plugins < TASK_MAX_PLUGINS)
            e->plugins[e->n_plugins++] = PLUGIN_QUEUE_LOCK;
        if (!has_plugin(e, PLUGIN_DELAY_QUEUE_LOCK) && e->n_plugins < TASK_MAX_PLUGINS)
            e->plugins[e->n_plugins++] = PLUGIN_DELAY_QUEUE_LOCK;
    }
    for (i = 0; d->inputs && d->inputs[i].name; i++) {
        json_t *v;

        if (d->inputs[i].default_json == NULL)
            continue;
        v = json_loads(d->inputs[i].default_json, JSON_DECODE_ANY, &jerr);
        if (v == NULL)
            return ah_app_fail(app, "default of input `%s` of the task `%s` is not JSON: %s",
                               d->inputs[i].name, d->name, jerr.text);
        json_decref(v);
    }
    return 0;
}

int registry_load(struct tasks *t)
{
    return registry_load_list(t, ah_gen_tasks, ah_gen_task_files, ah_gen_task_middleware);
}

int registry_load_list(struct tasks *t, const ah_task_t *const *list, const char *const *files,
                       const ah_task_middleware_t *const *mws)
{
    size_t n = 0, i, j;
    int rc;

    while (list[n])
        n++;
    t->tasks = xcalloc(n + 1, sizeof(*t->tasks));
    for (i = 0; i < n; i++) {
        struct task_entry e;

        if ((rc = load_one(t, list[i], files[i], &e)) < 0) {
            json_decref(e.plugin_options);
            return rc;
        }
        for (j = 0; j < t->n_tasks; j++)
            if (strcmp(t->tasks[j].task->name, e.task->name) == 0)
                break;
        if (j < t->n_tasks) {
            log_crit("an existing task with the same name `%s` will be overridden by the file %s", e.task->name,
                     e.file);
            json_decref(t->tasks[j].plugin_options);
            t->tasks[j] = e;
        } else {
            t->tasks[t->n_tasks++] = e;
        }
        log_debug("task loaded: %s, %s", e.task->name, e.file);
    }
    for (i = 0; mws && mws[i]; i++)
        if ((rc = registry_add_middleware(t, mws[i])) < 0)
            return ah_app_fail(t->app, "task middleware in the registry: middleware.name is required");
    return 0;
}

void registry_free(struct tasks *t)
{
    size_t i;

    for (i = 0; i < t->n_tasks; i++)
        json_decref(t->tasks[i].plugin_options);
    free(t->tasks);
    free(t->mw);
    free(t->global);
    t->tasks = NULL;
    t->mw = NULL;
    t->global = NULL;
    t->n_tasks = t->n_mw = t->n_global = 0;
}

const struct task_entry *registry_find(struct tasks *t, const char *name)
{
    size_t i;

    if (name == NULL)
        return NULL;
    for (i = 0; i < t->n_tasks; i++)
        if (strcmp(t->tasks[i].task->name, name) == 0)
            return &t->tasks[i];
    return NULL;
}

json_t *registry_plugin_options(const struct task_entry *e, const char *plugin)
{
    static json_t *empty;
    json_t *o = e ? json_object_get(e->plugin_options, plugin) : NULL;

    if (json_is_object(o))
        return o;
    if (empty == NULL)
        empty = json_object();
    return empty;
}

const char *registry_plugin_name(enum builtin_plugin id)
{
    return plugin_name(id);
}

static int mw_priority(struct tasks *t, const ah_task_middleware_t *mw)
{
    return mw->priority ? mw->priority : (int)config_int(t->app, "general.defaultMiddlewarePriority", 100);
}

static const ah_task_middleware_t *find_mw(struct tasks *t, const char *name)
{
    size_t i;

    for (i = t->n_mw; i-- > 0;) /* the last one added wins, like api.tasks.middleware[name] */
        if (strcmp(t->mw[i]->name, name) == 0)
            return t->mw[i];
    return NULL;
}

int registry_add_middleware(struct tasks *t, const ah_task_middleware_t *mw)
{
    size_t i;

    if (mw == NULL || mw->name == NULL || mw->name[0] == '\0')
        return AH_EINVAL;
    t->mw = xrealloc(t->mw, (t->n_mw + 1) * sizeof(*t->mw));
    t->mw[t->n_mw++] = mw;
    if (mw->global) {
        /* insert after every entry of lower or equal priority (a stable sort) */
        t->global = xrealloc(t->global, (t->n_global + 1) * sizeof(*t->global));
        for (i = t->n_global; i > 0 && mw_priority(t, t->global[i - 1]) > mw_priority(t, mw); i--)
            t->global[i] = t->global[i - 1];
        t->global[i] = mw;
        t->n_global++;
    }
    return 0;
}

size_t registry_plugins(struct tasks *t, const struct task_entry *e, struct plugin_ref **out)
{
    size_t n = 0, i, cap;
    struct plugin_ref *v;

    *out = NULL;
    if (e == NULL)
        return 0;
    cap = e->n_plugins + t->n_global;
    for (i = 0; e->task->middleware && e->task->middleware[i]; i++)
        cap++;
    if (cap == 0)
        return 0;
    v = xcalloc(cap, sizeof(*v));
    for (i = 0; i < e->n_plugins; i++)
        v[n++].builtin = e->plugins[i];
    for (i = 0; i < t->n_global; i++) {
        const ah_task_middleware_t *m = find_mw(t, t->global[i]->name);

        v[n++].mw = m ? m : t->global[i];
    }
    for (i = 0; e->task->middleware && e->task->middleware[i]; i++) {
        const ah_task_middleware_t *m = find_mw(t, e->task->middleware[i]);

        if (m)
            v[n++].mw = m;
    }
    *out = v;
    return n;
}

int ah_task_middleware_add(ah_app_t *app, const ah_task_middleware_t *mw)
{
    struct tasks *t = tasks_of(app);

    if (mw == NULL || mw->name == NULL || mw->name[0] == '\0') {
        log_error("middleware.name is required");
        return AH_EINVAL;
    }
    if (t == NULL)
        return AH_ESTATE;
    return registry_add_middleware(t, mw);
}

bool tasks_exists(ah_app_t *app, const char *name)
{
    struct tasks *t = tasks_of(app);

    return t && registry_find(t, name) != NULL;
}
