/*
 * main.c - the command line: start the server, or one of the tool commands.
 * No logic of its own beyond argv handling and the signal wiring.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "app/app.h"
#include "config/config.h"
#include "core/core.h"
#include "dispatch/dispatch.h"
#include "log/log.h"
#include "tasks/tasks.h"

#define AH_VERSION "0.1.0"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: actionhero <command> [options]\n"
            "\n"
            "commands:\n"
            "  start           run the server in the foreground\n"
            "  actions         list actions with versions, descriptions and inputs\n"
            "  task enqueue    --name NAME [--args JSON]: enqueue a task (meaningful with Redis)\n"
            "  version         print the version\n"
            "  help            this text\n");
}

static void on_stopped(ah_app_t *app)
{
    uv_signal_stop(&app->sig_int);
    uv_signal_stop(&app->sig_term);
    uv_close((uv_handle_t *)&app->sig_int, NULL);
    uv_close((uv_handle_t *)&app->sig_term, NULL);
}

static void on_signal(uv_signal_t *h, int signum)
{
    ah_app_t *app = h->data;

    if (app->shutting_down) {
        log_notice("[ SIGNAL ] - %s again: exiting now", signum == SIGINT ? "SIGINT" : "SIGTERM");
        exit(1);
    }
    log_notice("[ SIGNAL ] - %s", signum == SIGINT ? "SIGINT" : "SIGTERM");
    app_stop(app, on_stopped);
}

static int cmd_start(int argc, char **argv)
{
    uv_loop_t *loop = uv_default_loop();
    ah_app_t *app = app_new(loop);
    struct config_args args = {argc, argv};
    char err[1024];
    int rc;

    if (config_load(app, &args, err, sizeof(err)) < 0) {
        fprintf(stderr, "actionhero: %s\n", err);
        app_free(app);
        return 1;
    }
    if (app_initialize(app) < 0 || app_start(app) < 0) {
        fprintf(stderr, "actionhero: %s\n", app->fail_msg);
        app_free(app);
        return 1;
    }
    uv_signal_init(loop, &app->sig_int);
    uv_signal_init(loop, &app->sig_term);
    app->sig_int.data = app;
    app->sig_term.data = app;
    uv_signal_start(&app->sig_int, on_signal, SIGINT);
    uv_signal_start(&app->sig_term, on_signal, SIGTERM);

    uv_run(loop, UV_RUN_DEFAULT);
    rc = app->exit_code;
    uv_loop_close(loop);
    app_free(app);
    return rc;
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "start";

    signal(SIGPIPE, SIG_IGN);
    if (core_init() < 0) {
        fprintf(stderr, "actionhero: cannot initialise libsodium\n");
        return 1;
    }
    if (cmd[0] == '-' && strcmp(cmd, "--version") != 0 && strcmp(cmd, "-V") != 0 &&
        strcmp(cmd, "--help") != 0 && strcmp(cmd, "-h") != 0)
        return cmd_start(argc - 1, argv + 1); /* flags only: start */
    if (strcmp(cmd, "start") == 0)
        return cmd_start(argc - 2, argv + 2);
    /* tasks (src/tasks/cli.c) */
    if (strcmp(cmd, "task") == 0 || strcmp(cmd, "task-enqueue") == 0)
        return tasks_cli(argc - 1, argv + 1);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        printf("%s\n", AH_VERSION);
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "error: unknown command '%s'\n", cmd);
    usage(stderr);
    return 1;
}
