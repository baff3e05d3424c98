/*
 * app.c - the initializer phases (process.md §1-§3) and per-app slots.
 *
 * Initializers come from the generated registry (the core's own subsystems
 * and the user's initializers/ alike).  Each phase sorts by its priority;
 * ties keep registry order, which is file-name order.
 */
#include "app/app.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

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
    free(app->init_state);
    free(app->stop_accepting);
    json_decref(app->config);
    config_changed();
    json_decref(app->config_warnings);
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

    for (i = 0; i < app->n_slots; i++)  /* names are mostly the same literal */
        if (app->slots[i].name == name || strcmp(app->slots[i].name, name) == 0)
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
    app->init_state = xcalloc(app->n_inits + 1, 1);
    return 0;
}

static unsigned char *state_of(ah_app_t *app, const ah_initializer_t *in)
{
    size_t i;

    for (i = 0; i < app->n_inits; i++)
        if (app->inits[i] == in)
            return &app->init_state[i];
    AH_BUG("initializer not in the table");
}

/* Run one phase in its priority order.  Load and start stop at the first
 * error; stop runs every initializer that was initialised and logs errors. */
static int run_phase(ah_app_t *app, enum phase ph)
{
    const ah_initializer_t **v = sorted(app, ph);
    int rc = 0;
    size_t i;

    for (i = 0; v[i]; i++) {
        unsigned char *st = state_of(app, v[i]);
        int (*fn)(ah_app_t *) = ph == PHASE_LOAD ? v[i]->initialize
                              : ph == PHASE_START ? v[i]->start : v[i]->stop;

        if (ph == PHASE_STOP && *st == 0)
            continue;
        if (fn != NULL) {
            log_debug("%s initializer: %s",
                      ph == PHASE_LOAD ? "loading" : ph == PHASE_START ? "starting" : "stopping", v[i]->name);
            rc = fn(app);
        }
        if (rc < 0) {
            if (app->fail_msg[0] == '\0')
                ah_app_fail(app, "initializer `%s` failed: %s", v[i]->name, ah_strerror(rc));
            if (ph != PHASE_STOP)
                break;
            log_error("%s", app->fail_msg);
            app->fail_msg[0] = '\0';
            rc = 0;
            continue;
        }
        if (ph == PHASE_LOAD)
            *st = 1;
        else if (ph == PHASE_START)
            *st = 2;
        else
            *st = 0;
    }
    free(v);
    return rc;
}

int app_initialize(ah_app_t *app)
{
    int rc;

    if (app->initialized)
        return 0;
    if (app->inits == NULL && (rc = load_initializers(app)) < 0)
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

    if (!app->initialized && (rc = app_initialize(app)) < 0)
        return rc;
    app->running = true;
    log_notice("environment: %s", app->env ? app->env : "development");
    log_info("*** Starting %s ***", name);
    if ((rc = run_phase(app, PHASE_START)) < 0)
        return rc;
    log_notice("server ID: %s", app->id ? app->id : "actionhero");
    log_notice("*** %s Started ***", name);
    return 0;
}

/* ---------------------------------------------------------------- pid file */

static int mkdir_p(const char *dir)
{
    char *d = xstrdup(dir), *p;
    int rc = 0;

    for (p = d + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(d, 0755) != 0 && errno != EEXIST)
                rc = -errno;
            *p = '/';
        }
    }
    if (mkdir(d, 0755) != 0 && errno != EEXIST)
        rc = -errno;
    else if (rc == -ENOENT || rc == -EACCES)
        rc = 0;  /* a parent we could not create exists after all */
    free(d);
    return rc;
}

int app_write_pid(ah_app_t *app)
{
    json_t *dirs = config_get(app, "general.paths.pid");
    const char *dir = json_string_value(json_array_get(dirs, 0));
    const char *id = app->id ? app->id : "actionhero";
    char pid[32];
    struct buf name = BUF_INIT;
    const char *p, *end;
    int fd, n, err;

    if (dir == NULL)
        dir = "pids";
    /* String(id).trim(), then ':' -> '-' and ' ' -> '_' */
    for (p = id; *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'; p++)
        ;
    for (end = p + strlen(p); end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'); end--)
        ;
    buf_adds(&name, "actionhero-");
    for (; p < end; p++)
        buf_addc(&name, *p == ':' ? '-' : *p == ' ' ? '_' : *p == '/' ? '_' : *p);
    free(app->pid_file);
    app->pid_file = xasprintf("%s/%s", dir, name.data);
    buf_release(&name);

    if ((err = mkdir_p(dir)) < 0)
        return ah_app_fail(app, "cannot create pid directory '%s': %s", dir, strerror(-err));
    log_notice("pid: %d", (int)getpid());
    n = snprintf(pid, sizeof(pid), "%d", (int)getpid());
    fd = open(app->pid_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, pid, (size_t)n) != n) {
        err = errno;
        if (fd >= 0)
            close(fd);
        ah_app_fail(app, "cannot write pid file '%s': %s", app->pid_file, strerror(err));
        free(app->pid_file);
        app->pid_file = NULL;
        return AH_EFAIL;
    }
    close(fd);
    return 0;
}

void app_remove_pid(ah_app_t *app)
{
    if (app->pid_file == NULL)
        return;
    if (unlink(app->pid_file) != 0)
        log_error("Unable to remove pidfile %s: %s", app->pid_file, strerror(errno));
    free(app->pid_file);
    app->pid_file = NULL;
}

/* ---------------------------------------------------------------- watchdog */

/* Filled before the timer is armed; the handler only uses
 * async-signal-safe calls (write, unlink, _exit). */
static char wd_msg[160];
static size_t wd_len;
static char wd_pid[4096];

static void on_alarm(int sig)
{
    ssize_t w;

    (void)sig;
    w = write(STDERR_FILENO, wd_msg, wd_len);
    (void)w;
    if (wd_pid[0])
        unlink(wd_pid);
    _exit(1);
}

void app_watchdog_arm(ah_app_t *app, uint64_t ms)
{
    struct sigaction sa;
    struct itimerval it;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    wd_len = (size_t)snprintf(wd_msg, sizeof(wd_msg), "Process did not terminate within %llums. Stopping now!\n",
                              (unsigned long long)ms);
    if (wd_len >= sizeof(wd_msg))
        wd_len = sizeof(wd_msg) - 1;
    wd_pid[0] = '\0';
    if (app && app->pid_file && strlen(app->pid_file) < sizeof(wd_pid))
        memcpy(wd_pid, app->pid_file, strlen(app->pid_file) + 1);
    sigaction(SIGALRM, &sa, NULL);
    memset(&it, 0, sizeof(it));
    it.it_value.tv_sec = (time_t)(ms / 1000);
    it.it_value.tv_usec = (suseconds_t)((ms % 1000) * 1000);
    if (ms == 0)
        it.it_value.tv_usec = 1;
    setitimer(ITIMER_REAL, &it, NULL);
}

void app_watchdog_disarm(void)
{
    struct itimerval it;

    memset(&it, 0, sizeof(it));
    setitimer(ITIMER_REAL, &it, NULL);
    wd_pid[0] = '\0';
}

/* ---------------------------------------------------------------- stop */

#define DRAIN_POLL_MS 10

static void on_handle_closed(uv_handle_t *h)
{
    ah_app_t *app = h->data;

    app->stop_timer_open = false;
}

static void close_stop_timer(ah_app_t *app)
{
    if (app->stop_timer_open && !uv_is_closing((uv_handle_t *)&app->stop_timer)) {
        uv_timer_stop(&app->stop_timer);
        uv_close((uv_handle_t *)&app->stop_timer, on_handle_closed);
    }
}

static void on_walk_close(uv_handle_t *h, void *arg)
{
    ah_app_t *app = arg;

    if (uv_is_closing(h))
        return;
    if (h == (uv_handle_t *)&app->stop_timer) {
        close_stop_timer(app);
        return;
    }
    log_debug("closing a %s handle left open", uv_handle_type_name(uv_handle_get_type(h)));
    uv_close(h, NULL);
}

static void finish_stop(ah_app_t *app)
{
    const char *name = config_str(app, "general.serverName", "actionhero");
    void (*done)(ah_app_t *) = app->stop_done;

    uv_timer_stop(&app->stop_timer);
    run_phase(app, PHASE_STOP);
    app_remove_pid(app);
    log_notice("*** %s Stopped ***", name);
    app->running = false;
    app->initialized = false;
    app->shutting_down = false;
    app->stop_done = NULL;
    close_stop_timer(app);
    app_trim_close(app);
    if (done)
        done(app);
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

static void on_not_running(uv_timer_t *t)
{
    ah_app_t *app = t->data;
    void (*done)(ah_app_t *) = app->stop_done;

    app->stop_done = NULL;
    close_stop_timer(app);
    if (done)
        done(app);
}

void app_on_stop_accepting(ah_app_t *app, app_hook_fn fn)
{
    app->stop_accepting = xrealloc(app->stop_accepting, (app->n_stop_accepting + 1) * sizeof(fn));
    app->stop_accepting[app->n_stop_accepting++] = fn;
}

bool app_needs_stop(ah_app_t *app)
{
    size_t i;

    for (i = 0; i < app->n_inits; i++)
        if (app->init_state[i])
            return true;
    return app->running || app->pid_file != NULL;
}

void app_stop(ah_app_t *app, void (*done)(ah_app_t *app))
{
    long long timeout = config_int(app, "general.shutdownTimeout", 30000);
    size_t i;

    if (app->shutting_down) {
        log_debug("already shutting down");
        return;
    }
    if (!app->stop_timer_open) {
        uv_timer_init(app->loop, &app->stop_timer);
        app->stop_timer.data = app;
        app->stop_timer_open = true;
    }
    uv_ref((uv_handle_t *)&app->stop_timer);
    app->stop_done = done;
    if (!app_needs_stop(app)) {
        log_crit("Cannot shut down %s, not running", config_str(app, "general.serverName", "actionhero"));
        uv_timer_start(&app->stop_timer, on_not_running, 0, 0);
        return;
    }
    if (timeout < 0)
        timeout = 0;
    app->shutting_down = true;
    log_notice("stopping process...");
    app_watchdog_arm(app, (uint64_t)timeout + APP_STOP_MARGIN_MS);
    /* Servers stop accepting first, then in-flight actions drain (up to the
     * deadline), then every initializer's stop runs. */
    for (i = 0; i < app->n_stop_accepting; i++)
        app->stop_accepting[i](app);
    app->stop_deadline = core_mono_ms() + (uint64_t)timeout;
    uv_timer_start(&app->stop_timer, on_drain_tick, 0, DRAIN_POLL_MS);
}

static void on_walk_list(uv_handle_t *h, void *arg)
{
    struct buf *b = arg;

    if (uv_is_closing(h) || !uv_is_active(h) || !uv_has_ref(h))
        return;
    buf_adds(b, b->len ? ", " : "");
    buf_adds(b, uv_handle_type_name(uv_handle_get_type(h)));
}

void app_close_open_handles(ah_app_t *app, const char *why)
{
    struct buf b = BUF_INIT;

    uv_walk(app->loop, on_walk_list, &b);
    if (b.len > 0 && why)
        log_warn("%s: closing handles still open: %s", why, b.data);
    buf_release(&b);
    uv_walk(app->loop, on_walk_close, app);
}

int app_loop_close(ah_app_t *app)
{
    int rc = uv_loop_close(app->loop);
    int tries;

    for (tries = 0; rc == UV_EBUSY && tries < 3; tries++) {
        app_close_open_handles(app, NULL);
        uv_run(app->loop, UV_RUN_DEFAULT);
        rc = uv_loop_close(app->loop);
    }
    return rc;
}
