/*
 * main.c - the command line: run the server in the foreground, or one of
 * the tool commands (process.md §7).  No logic of its own beyond argv
 * handling, the boot sequence and the signal wiring.
 *
 *   actionhero [start] [flags]     run the server (flags: config.h)
 *   actionhero actions             list actions (Actionhero's actions-list)
 *   actionhero version | --version | -V
 *   actionhero help | --help | -h
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "app/app.h"
#include "config/config.h"
#include "core/core.h"
#include "core/jalloc.h"
#include "core/json_out.h"
#include "dispatch/dispatch.h"
#include "log/log.h"
#include "tasks/tasks.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: actionhero <command> [options]\n"
            "\n"
            "commands:\n"
            "  start           run the server in the foreground (the default)\n"
            "  actions         list actions with versions, descriptions and inputs\n"
            "                  (also: actions-list)\n"
            "  task enqueue    --name NAME [--args JSON]: enqueue a task (meaningful with Redis;\n"
            "                  also: task-enqueue)\n"
            "  version         print the version (also: --version, -V)\n"
            "  help            this text (also: --help, -h)\n"
            "\n"
            "options of start:\n"
            "  --port=N                      web.port (a number or a socket path)\n"
            "  --bindIP=ADDR                 web.bindIP\n"
            "  --config=DIR[,DIR]            config directories (repeatable; else ./config)\n"
            "  --NODE_ENV=ENV                environment (else ACTIONHERO_ENV, NODE_ENV, development)\n"
            "  --title=ID                    server id\n"
            "  --set=path.to.key=VALUE       set one option (VALUE: JSON, or else a string)\n"
            "  --ACTIONHERO_CONFIG_OVERRIDES=JSON   merged over the configuration\n"
            "  --pid-dir=DIR                 directory of the pid file (general.paths.pid)\n"
            "  --log-json                    log JSON lines (logger.json)\n");
}

/* ---------------------------------------------------------------- start */

/* After the stop, the loop should end as soon as the subsystems' handles
 * are closed; any still active LINGER_MS later are closed by force, so the
 * process exits (the watchdog would otherwise end it with status 1). */
#define LINGER_MS 2000
static uv_timer_t linger;

static void on_linger(uv_timer_t *t)
{
    ah_app_t *app = t->data;

    app_close_open_handles(app, "the loop did not end after the stop");
}

static void close_signals(ah_app_t *app)
{
    if (app->signals_installed) {
        uv_signal_stop(&app->sig_int);
        uv_signal_stop(&app->sig_term);
        uv_close((uv_handle_t *)&app->sig_int, NULL);
        uv_close((uv_handle_t *)&app->sig_term, NULL);
        app->signals_installed = false;
    }
}

/* app_stop()'s `done`: nothing of ours may keep the loop alive now. */
static void on_stopped(ah_app_t *app)
{
    log_detach_loop();
    close_signals(app);
    uv_timer_init(app->loop, &linger);
    linger.data = app;
    uv_timer_start(&linger, on_linger, LINGER_MS, 0);
    uv_unref((uv_handle_t *)&linger);
}

static void on_signal(uv_signal_t *h, int signum)
{
    ah_app_t *app = h->data;
    const char *name = signum == SIGINT ? "SIGINT" : "SIGTERM";

    if (app->shutting_down) {
        /* a second signal: exit at once */
        log_notice("[ SIGNAL ] - %s (second signal: exiting now)", name);
        log_shutdown();
        app_remove_pid(app);
        fflush(stdout);
        fflush(stderr);
        _exit(1);
    }
    log_notice("[ SIGNAL ] - %s", name);
    app_stop(app, on_stopped);
}

static int install_signals(ah_app_t *app)
{
    int rc;

    if ((rc = uv_signal_init(app->loop, &app->sig_int)) < 0)
        return rc;
    if ((rc = uv_signal_init(app->loop, &app->sig_term)) < 0) {
        uv_close((uv_handle_t *)&app->sig_int, NULL);
        return rc;
    }
    app->sig_int.data = app;
    app->sig_term.data = app;
    app->signals_installed = true;
    if ((rc = uv_signal_start(&app->sig_int, on_signal, SIGINT)) < 0 ||
        (rc = uv_signal_start(&app->sig_term, on_signal, SIGTERM)) < 0)
        return rc;
    return 0;
}

static int cmd_start(int argc, char **argv)
{
    uv_loop_t loop;
    ah_app_t *app;
    struct config_args args = {argc, argv};
    char err[1024];
    size_t i;
    json_t *w;
    int rc;

    if ((rc = uv_loop_init(&loop)) < 0) {
        fprintf(stderr, "error: cannot create the event loop: %s\n", uv_strerror(rc));
        return 1;
    }
    app = app_new(&loop);
    if (config_load(app, &args, err, sizeof(err)) < 0 || log_configure(app, err, sizeof(err)) < 0) {
        fprintf(stderr, "error: %s\n", err);
        app->exit_code = 1;
        goto out;
    }
    json_array_foreach(app->config_warnings, i, w)
        log_warn("%s", json_string_value(w));
    if ((rc = install_signals(app)) < 0) {
        fprintf(stderr, "error: cannot install signal handlers: %s\n", uv_strerror(rc));
        app->exit_code = 1;
        goto out;
    }
    if (app_initialize(app) < 0 || app_write_pid(app) < 0 || app_start(app) < 0) {
        /* one line on stderr; then undo what did start (servers, pid file) */
        fprintf(stderr, "error: %s\n", app->fail_msg);
        app->exit_code = 1;
        if (!app_needs_stop(app))
            goto out;
        app_stop(app, on_stopped);
    } else {
        log_attach_loop(&loop); /* one write per loop turn for log lines */
    }
    uv_run(&loop, UV_RUN_DEFAULT);
out:
    log_detach_loop();
    close_signals(app);
    if (linger.data != NULL && !uv_is_closing((uv_handle_t *)&linger))
        uv_close((uv_handle_t *)&linger, NULL);
    app_watchdog_disarm();
    if (app_loop_close(app) != 0)
        log_debug("the event loop did not close cleanly");
    log_shutdown();
    rc = app->exit_code;
    app_free(app);
    return rc;
}

/* ---------------------------------------------------------------- actions */

/* JSON of an input definition, as JSON.stringify shows Actionhero's (the
 * functions: formatters, validators, computed defaults, are left out). */
static json_t *input_json(const ah_input_t *in)
{
    json_t *o = json_object();

    if (in->required)
        json_object_set_new(o, "required", json_true());
    if (in->default_json && !in->default_fn) {
        json_t *d = json_loads(in->default_json, JSON_DECODE_ANY, NULL);

        if (d)
            json_object_set_new(o, "default", d);
    }
    if (in->description)
        json_object_set_new(o, "description", json_string(in->description));
    if (in->schema) {
        json_t *s = json_object();
        const ah_input_t *x;

        for (x = in->schema; x->name; x++)
            json_object_set_new(s, x->name, input_json(x));
        json_object_set_new(o, "schema", s);
    }
    return o;
}

static const char *version_of(const ah_action_t *a)
{
    return a->version && *a->version ? a->version : "1";
}

/* Versions of one action in JS object key order: canonical integers
 * ascending first, then the others in load order. */
static size_t versions_sorted(const ah_action_t **out, const char *name)
{
    size_t n = 0, i, j;

    for (i = 0; ah_gen_actions[i]; i++) {
        const ah_action_t *a = ah_gen_actions[i];
        uint32_t ai, bi;

        if (strcmp(a->name ? a->name : "", name) != 0)
            continue;
        /* a later duplicate of a version replaces the earlier one in place */
        for (j = 0; j < n; j++)
            if (strcmp(version_of(out[j]), version_of(a)) == 0)
                break;
        if (j < n) {
            out[j] = a;
            continue;
        }
        j = n++;
        out[j] = a;
        if (!core_is_array_index(version_of(a), &ai))
            continue;
        while (j > 0) {
            bool prev_int = core_is_array_index(version_of(out[j - 1]), &bi);

            if (prev_int && bi < ai)
                break;
            out[j] = out[j - 1];
            out[j - 1] = a;
            j--;
        }
    }
    return n;
}

static int cmd_actions(void)
{
    size_t total = 0, i, j, k;

    while (ah_gen_actions[total])
        total++;
    for (i = 0; i < total; i++) {
        const ah_action_t *a = ah_gen_actions[i];
        const char *name = a->name ? a->name : "";
        const ah_action_t **vers;
        size_t nv;
        bool seen = false;

        for (j = 0; j < i && !seen; j++)
            seen = strcmp(ah_gen_actions[j]->name ? ah_gen_actions[j]->name : "", name) == 0;
        if (seen)
            continue;
        vers = xcalloc(total, sizeof(*vers));
        nv = versions_sorted(vers, name);
        /* console.log(`\r\n--- ${actionName} ---`) */
        printf("\r\n--- %s ---\n", name);
        for (j = 0; j < nv; j++) {
            const ah_action_t *v = vers[j];

            printf("  version: %s\n", version_of(v));
            printf("    %s\n", v->description ? v->description : name);
            printf("    inputs:\n");
            for (k = 0; v->inputs && v->inputs[k].name; k++) {
                json_t *o = input_json(&v->inputs[k]);
                char *s = json_out_str(o, 0, 0, NULL);

                printf("      %s: %s\n", v->inputs[k].name, s);
                free(s);
                json_decref(o);
            }
        }
        free(vers);
    }
    fflush(stdout);
    return 0;
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "start";

    jalloc_install();   /* before the first jansson value */
    signal(SIGPIPE, SIG_IGN);
    if (core_init() < 0) {
        fprintf(stderr, "error: cannot initialise libsodium\n");
        return 1;
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        printf("%s\n", AH_VERSION);
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (cmd[0] == '-' && cmd[1] == '-')
        return cmd_start(argc - 1, argv + 1); /* flags only: start */
    if (strcmp(cmd, "start") == 0) {
        int i;

        for (i = 2; i < argc; i++) {
            if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
                usage(stdout);
                return 0;
            }
        }
        return cmd_start(argc - 2, argv + 2);
    }
    if (strcmp(cmd, "actions") == 0 || strcmp(cmd, "actions-list") == 0)
        return cmd_actions();
    /* tasks (src/tasks/cli.c) */
    if (strcmp(cmd, "task") == 0 || strcmp(cmd, "task-enqueue") == 0)
        return tasks_cli(argc - 1, argv + 1);
    fprintf(stderr, "error: unknown command '%s'\n", cmd);
    return 1;
}
