/*
 * app.c - the initializer phases (process.md §1-§3) and per-app slots.
 *
 * Initializers come from the generated registry (the core's own subsystems
 * and the user's initializers/ alike).  Each phase sorts by its priority;
 * ties keep registry order, which is file-name order.
 */
#include "app/app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/core.h"
#include "dispatch/dispatch.h"
#include "log/log.h"
#include "tasks/tasks.h"

ah_app_t *app_new(uv_loop_t *loop)
{
    ah_app_t *app = xcalloc(1, sizeof(*app));

    app->loop = loop;
    app->boot_time = core_now_ms();
    loop->data = app;
    return app;
}

void app_free(ah_app_t *app)
{
    size_t i;

    if (app == NULL)
        return;
    for (i = 0; i < app->n_slots; i++)
        free(app->slots[i].name);
    free(app->slots);
    free(app->inits);
    free(app->stop_accepting);
    json_decref(app->config);
    free(app->env);
    free(app->id);
    free(app->project_root);
    if (app->config_dirs) {
        for (i = 0; app->config_dirs[i]; i++)
            free(app->config_dirs[i]);
        free(app->config_dirs);
    }
    free(app->config_path_override);
    free(app->pid_file);
    free(app);
}

int ah_app_fail(ah_app_t *app, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(app->fail_msg, sizeof(app->fail_msg), fmt, ap);
    va_end(ap);
    return AH_EFAIL;
}

void *ah_app_get(ah_app_t *app, const char *name)
{
    size_t i;

    for (i = 0; i < app->n_slots; i++)
        if (strcmp(app->slots[i].name, name) == 0)
            return app->slots[i].data;
    return NULL;
}

void ah_app_set(ah_app_t *app, const char *name, void *data)
{
    size_t i;

    for (i = 0; i < app->n_slots; i++) {
        if (strcmp(app->slots[i].name, name) == 0) {
            app->slots[i].data = data;
            return;
        }
    }
    app->slots = xrealloc(app->slots, (app->n_slots + 1) * sizeof(*app->slots));
    app->slots[app->n_slots].name = xstrdup(name);
    app->slots[app->n_slots].data = data;
    app->n_slots++;
}

json_t *ah_config(ah_app_t *app, const char *dotted_path)
{
    return config_get(app, dotted_path);
}

/* ---------------------------------------------------------------- phases */

enum phase { PHASE_LOAD, PHASE_START, PHASE_STOP };

static int prio(const ah_initializer_t *in, enum phase ph)
{
    int p = ph == PHASE_LOAD ? in->load_priority
          : ph == PHASE_START ? in->start_priority : in->stop_priority;

    return p > 0 ? p : PRIO_DEFAULT;
}

/* A stable sort of the initializers by one phase's priority. */
static const ah_initializer_t **sorted(ah_app_t *app, enum phase ph)
{
    const ah_initializer_t **v = xcalloc(app->n_inits + 1, sizeof(*v));
    size_t i, j;

    for (i = 0; i < app->n_inits; i++) {
        const ah_initializer_t *x = app->inits[i];

        for (j = i; j > 0 && prio(v[j - 1], ph) > prio(x, ph); j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
    return v;
}

static int load_initializers(ah_app_t *app)
{
    size_t n = 0, i, j;

    while (ah_gen_initializers[n])
        n++;
    app->inits = xcalloc(n + 1, sizeof(*app->inits));
    for (i = 0; i < n; i++) {
        const ah_initializer_t *in = ah_gen_initializers[i];

        if (in->name == NULL || in->name[0] == '\0')
            return ah_app_fail(app, "name is required for this initializer");
        if (in->load_priority < 0)
            return ah_app_fail(app, "loadPriority is a required property for the initializer `%s`", in->name);
        if (in->start_priority < 0)
            return ah_app_fail(app, "startPriority is a required property for the initializer `%s`", in->name);
        if (in->stop_priority < 0)
            return ah_app_fail(app, "stopPriority is a required property for the initializer `%s`", in->name);
        for (j = 0; j < app->n_inits; j++) {
            if (strcmp(app->inits[j]->name, in->name) == 0)
                return ah_app_fail(app, "two initializers are named `%s`", in->name);
        }
        app->inits[app->n_inits++] = in;
    }
    return 0;
}

static int run_phase(ah_app_t *app, enum phase ph)
{
    const ah_initializer_t **v = sorted(app, ph);
    int rc = 0;
    size_t i;

    for (i = 0; v[i]; i++) {
        int (*fn)(ah_app_t *) = ph == PHASE_LOAD ? v[i]->initialize
                              : ph == PHASE_START ? v[i]->start : v[i]->stop;

        if (fn == NULL)
            continue;
        log_debug("%s initializer: %s", ph == PHASE_LOAD ? "loading" : ph == PHASE_START ? "starting" : "stopping",
                  v[i]->name);
        rc = fn(app);
        if (rc < 0) {
            if (app->fail_msg[0] == '\0')
                ah_app_fail(app, "initializer `%s` failed: %s", v[i]->name, ah_strerror(rc));
            if (ph != PHASE_STOP)
                break;
            log_error("%s", app->fail_msg);
            app->fail_msg[0] = '\0';
            rc = 0;
        }
    }
    free(v);
    return rc;
}

int app_initialize(ah_app_t *app)
{
    int rc;

    if (app->initialized)
        return 0;
    if ((rc = load_initializers(app)) < 0)
        return rc;
    if ((rc = run_phase(app, PHASE_LOAD)) < 0)
        return rc;
    app->initialized = true;
    return 0;
}

int app_start(ah_app_t *app)
{
    const char *name = config_str(app, "general.serverName", "actionhero");
    int rc;

    log_notice("environment: %s", app->env ? app->env : "development");
    log_info("*** Starting %s ***", name);
    app->running = true;
    if ((rc = run_phase(app, PHASE_START)) < 0)
        return rc;
    log_notice("server ID: %s", app->id ? app->id : "actionhero");
    log_notice("*** %s Started ***", name);
    return 0;
}

/* ---------------------------------------------------------------- stop */

static void (*stop_done_cb)(ah_app_t *app);

static void finish_stop(ah_app_t *app)
{
    const char *name = config_str(app, "general.serverName", "actionhero");

    uv_timer_stop(&app->stop_timer);
    uv_close((uv_handle_t *)&app->stop_timer, NULL);
    run_phase(app, PHASE_STOP);
    app->running = false;
    app->initialized = false;
    log_notice("*** %s Stopped ***", name);
    if (stop_done_cb)
        stop_done_cb(app);
}

static void on_drain_tick(uv_timer_t *t)
{
    ah_app_t *app = t->data;
    int n = dispatch_in_flight(app) + tasks_in_flight(app);

    if (n == 0 || core_mono_ms() >= app->stop_deadline) {
        if (n > 0)
            log_warn("stop deadline reached with %d action(s) still running", n);
        finish_stop(app);
    }
}

void app_on_stop_accepting(ah_app_t *app, app_hook_fn fn)
{
    app->stop_accepting = xrealloc(app->stop_accepting, (app->n_stop_accepting + 1) * sizeof(fn));
    app->stop_accepting[app->n_stop_accepting++] = fn;
}

void app_stop(ah_app_t *app, void (*done)(ah_app_t *app))
{
    long long timeout = config_int(app, "general.shutdownTimeout", 30000);
    size_t i;

    if (app->shutting_down) {
        log_debug("already shutting down");
        return;
    }
    app->shutting_down = true;
    stop_done_cb = done;
    log_notice("stopping process...");
    /* Servers stop accepting first, then in-flight actions drain (up to the
     * deadline), then every initializer's stop runs. */
    for (i = 0; i < app->n_stop_accepting; i++)
        app->stop_accepting[i](app);
    app->stop_deadline = core_mono_ms() + (uint64_t)(timeout > 0 ? timeout : 0);
    uv_timer_init(app->loop, &app->stop_timer);
    app->stop_timer.data = app;
    uv_timer_start(&app->stop_timer, on_drain_tick, 0, 10);
}
