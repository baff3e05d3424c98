/*
 * app.h - the running server: loop, configuration, registries and the
 * initializer phases (process.md §1-§3).
 *
 * struct ah_app is passed to every subsystem instead of globals, so that a
 * later step can run one app per loop.  Subsystems keep their own state in
 * the typed slots below (created by their initializer).
 */
#ifndef AH_SRC_APP_APP_H
#define AH_SRC_APP_APP_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include <ah/ah.h>

struct dispatch;       /* src/dispatch */
struct conn_registry;  /* src/conn */
struct http_server;    /* src/http */
struct routes;         /* src/http */

/* Priorities of the core initializers (process.md §1). */
enum {
    PRIO_LOG = 1,
    PRIO_CONNECTIONS = 400,
    PRIO_ACTIONS = 410,
    PRIO_ROUTES = 500,
    PRIO_STATIC = 510,
    PRIO_CHAT = 520,
    PRIO_SERVERS_LOAD = 599,
    PRIO_SERVERS_START = 900,
    PRIO_SPECHELPER = 901,
    PRIO_SERVERS_STOP = 100,
    PRIO_DEFAULT = 1000,
};

typedef void (*app_hook_fn)(ah_app_t *app);

struct app_slot {
    char *name;
    void *data;
};

struct ah_app {
    uv_loop_t *loop;

    /* configuration: the merged tree (config.md) and where it came from */
    json_t *config;
    char *env;                 /* "development", "test", "production", ... */
    char *id;                  /* server id (config.md §3) */
    char *project_root;
    char **config_dirs;        /* NULL-terminated */
    json_t *config_warnings;   /* strings to log once the logger is up */
    char *config_path_override;

    uint64_t boot_time;        /* ms, process start (status.uptime) */
    bool initialized;
    bool running;              /* api.running */
    bool shutting_down;        /* a stop is in progress */
    int exit_code;

    /* subsystems */
    struct dispatch *dispatch;
    struct conn_registry *conns;
    struct http_server *http;
    struct routes *routes;

    /* initializers, sorted per phase at load */
    const ah_initializer_t **inits;
    size_t n_inits;
    unsigned char *init_state;  /* per inits[i]: 1 initialized, 2 started */

    struct app_slot *slots;
    size_t n_slots;

    char fail_msg[1024];       /* why boot failed (ah_app_fail) */
    char *pid_file;            /* written at start, removed at stop */
    uv_signal_t sig_int, sig_term;
    bool signals_installed;
    uv_timer_t stop_timer;     /* drain poll, then the linger check */
    bool stop_timer_open;
    uint64_t stop_deadline;    /* monotonic ms */
    void (*stop_done)(ah_app_t *app);
    app_hook_fn *stop_accepting;
    size_t n_stop_accepting;

    /* memtrim.c: heap given back after mass closes */
    uv_timer_t trim_timer;
    bool trim_timer_open;
    bool trim_armed;
    size_t trim_freed;         /* bytes reported since the last trim */
    uint64_t trim_first;       /* loop ms of the first report since then */
    unsigned trim_count;       /* trims done (tests) */
};

/* Create an app for `loop`.  Nothing is loaded yet. */
ah_app_t *app_new(uv_loop_t *loop);
void app_free(ah_app_t *app);

/* Run every initializer's `initialize` (load priority order), then every
 * `start`.  Returns 0, or <0 with app->fail_msg set. */
int app_initialize(ah_app_t *app);
int app_start(ah_app_t *app);

/* Begin a graceful stop (signals call this; also after a failed start):
 * log "stopping process...", arm the hard-stop watchdog, call the
 * stop-accepting hooks, let in-flight actions finish up to
 * general.shutdownTimeout ms (polling dispatch_in_flight()), run the `stop`
 * of every initializer that was initialised (stop priority order), remove
 * the pid file, log "*** <serverName> Stopped ***", then call `done` (may be
 * NULL) once, from a loop callback, never inside this call.  The app's own
 * handles are closed by then, so the loop ends when the subsystems' are.
 * Calling it again while a stop runs does nothing.  If nothing was
 * initialised it logs "Cannot shut down <serverName>, not running" (crit)
 * and still calls `done`. */
void app_stop(ah_app_t *app, void (*done)(ah_app_t *app));
/* Is there anything for app_stop() to undo (an initialised initializer, a
 * pid file, a running server)? */
bool app_needs_stop(ah_app_t *app);

/* Hard-stop watchdog (process.md §5): after `ms` milliseconds print
 * "Process did not terminate within <ms>ms. Stopping now!" to stderr,
 * remove the pid file and _exit(1), even if the loop is blocked (SIGALRM).
 * app_stop() arms it with general.shutdownTimeout + APP_STOP_MARGIN_MS. */
#define APP_STOP_MARGIN_MS 5000
void app_watchdog_arm(ah_app_t *app, uint64_t ms);
void app_watchdog_disarm(void);

/* Close every handle still open on the app's loop and run it until they
 * are gone, then uv_loop_close(); returns its result (0 when clean).
 * Handles found open are logged at debug. */
int app_loop_close(ah_app_t *app);
/* Close (uv_close, no callback) every handle of the loop that is not
 * closing yet; with `why`, first log a warning naming the active ones.  For
 * a loop that should have ended (a subsystem left a handle open). */
void app_close_open_handles(ah_app_t *app, const char *why);

/* Pid file (process.md §4): general.paths.pid[0]/actionhero-<id> with ':'
 * -> '-' and ' ' -> '_' ('/' -> '_' too), containing the pid without a
 * newline; the directory is created.  `actionhero start` writes it (and
 * logs "pid: <pid>") just before app_start(); app_stop() removes it.  Apps
 * built by the testkit have none. */
int app_write_pid(ah_app_t *app);
void app_remove_pid(ah_app_t *app);

/* Memory (memtrim.c).  A subsystem that freed the memory of a connection
 * reports roughly how much; once APP_TRIM_MIN_BYTES were freed since the
 * last trim, malloc_trim(0) runs from a timer APP_TRIM_QUIET_MS after the
 * last report (at most APP_TRIM_MAX_WAIT_MS after the first), never inside
 * the caller.  Cheap: a counter, and a timer restart once past the bound.
 * Nothing happens while the app is not running or is stopping. */
#define APP_TRIM_MIN_BYTES (1024 * 1024)
#define APP_TRIM_QUIET_MS 300
#define APP_TRIM_MAX_WAIT_MS 2000
void app_note_freed(ah_app_t *app, size_t bytes);
/* Close the trim timer (the stop does it). */
void app_trim_close(ah_app_t *app);

/* Servers register how to stop accepting new clients (first step of a stop). */
void app_on_stop_accepting(ah_app_t *app, app_hook_fn fn);

/* The registry tables generated from actions/, initializers/, middleware/
 * (build/gen/registry.c; NULL-terminated, sorted by file name). */
extern const ah_action_t *const ah_gen_actions[];
extern const char *const ah_gen_action_files[];
extern const ah_initializer_t *const ah_gen_initializers[];
extern const ah_action_middleware_t *const ah_gen_action_middleware[];
extern const ah_connection_middleware_t *const ah_gen_connection_middleware[];

/* The core's own subsystems define their initializers with AH_INITIALIZER
 * in src/ too; the generator collects them with the user's. */

#endif /* AH_SRC_APP_APP_H */
