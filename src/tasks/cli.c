/*
 * cli.c - the `task enqueue` command (process.md §6 `task-enqueue`):
 *
 *   actionhero task enqueue --name NAME [--args JSON]
 *   actionhero task-enqueue -n NAME [-a JSON]
 *
 * Initialises the app (no start: no servers, no workers), enqueues through
 * the configured store and logs `enqueued: true|false`.  With the memory
 * store the queue lives in this short process only, so the command is
 * meaningful with Redis (redis.enabled): then a server sharing the Redis
 * database runs the job.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "app/app.h"
#include "config/config.h"
#include "log/log.h"
#include "tasks/tasks_internal.h"

static void help(FILE *f)
{
    fprintf(f,
            "usage: actionhero task enqueue --name NAME [--args JSON]\n"
            "\n"
            "Enqueue a defined task into your actionhero cluster.\n"
            "  -n, --name <name>   the name of the task to enqueue\n"
            "  -a, --args [args]   arguments to the task (a JSON object)\n"
            "\n"
            "The job goes to the configured store.  With the default memory store\n"
            "it lives and dies with this command: enable Redis (redis.enabled) so\n"
            "that the servers sharing the Redis database run it.\n");
}

struct cli {
    int exit_code;
    bool done;
};

static void on_stopped(ah_app_t *app)
{
    (void)app;
}

static void on_enqueued(ah_app_t *app, int status, json_t *result, const char *error, void *arg)
{
    struct cli *c = arg;

    if (status < 0) {
        fprintf(stderr, "Error: %s\n", error ? error : ah_strerror(status));
        c->exit_code = 1;
    } else {
        log_info("enqueued: %s", json_is_true(result) ? "true" : "false");
    }
    c->done = true;
    app_stop(app, on_stopped);
}

/* --name=x, --name x, -n x */
static int option(int argc, char **argv, int *i, const char *lng, const char *shrt, const char **out)
{
    size_t n = strlen(lng);

    if (strncmp(argv[*i], lng, n) == 0 && argv[*i][n] == '=') {
        *out = argv[*i] + n + 1;
        return 1;
    }
    if (strcmp(argv[*i], lng) == 0 || strcmp(argv[*i], shrt) == 0) {
        if (*i + 1 >= argc) {
            fprintf(stderr, "error: option '%s' argument missing\n", argv[*i]);
            return -1;
        }
        *out = argv[++*i];
        return 1;
    }
    return 0;
}

int tasks_cli(int argc, char **argv)
{
    const char *name = NULL, *args_text = NULL;
    char **rest = calloc((size_t)argc + 1, sizeof(*rest));
    int nrest = 0, i, rc;
    struct config_args cargs;
    json_t *args = NULL;
    json_error_t jerr;
    struct cli c = {0, false};
    uv_loop_t *loop;
    ah_app_t *app;
    char err[1024];

    /* argv[0] is "task" (then "enqueue") or "task-enqueue" */
    i = 1;
    if (strcmp(argv[0], "task") == 0) {
        if (argc < 2 || strcmp(argv[1], "enqueue") != 0) {
            help(argc >= 2 && (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0) ? stdout : stderr);
            free(rest);
            return argc >= 2 && (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0) ? 0 : 1;
        }
        i = 2;
    }
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            help(stdout);
            free(rest);
            return 0;
        }
        if ((rc = option(argc, argv, &i, "--name", "-n", &name)) != 0 ||
            (rc = option(argc, argv, &i, "--args", "-a", &args_text)) != 0) {
            if (rc < 0) {
                free(rest);
                return 1;
            }
            continue;
        }
        rest[nrest++] = argv[i]; /* config flags: --NODE_ENV=, --config=, ... */
    }
    if (name == NULL) {
        fprintf(stderr, "error: required option '-n, --name <name>' not specified\n");
        free(rest);
        return 1;
    }
    if (args_text && *args_text) {
        args = json_loads(args_text, JSON_DECODE_ANY, &jerr);
        if (args == NULL) {
            fprintf(stderr, "SyntaxError: %s in JSON at position %d\n", jerr.text, jerr.position);
            free(rest);
            return 1;
        }
    } else {
        args = json_object();
    }

    loop = uv_default_loop();
    app = app_new(loop);
    cargs.argc = nrest;
    cargs.argv = rest;
    if (config_load(app, &cargs, err, sizeof(err)) < 0 || log_configure(app, err, sizeof(err)) < 0) {
        fprintf(stderr, "actionhero: %s\n", err);
        c.exit_code = 1;
        goto out;
    }
    if (app_initialize(app) < 0) {
        fprintf(stderr, "actionhero: %s\n", app->fail_msg);
        c.exit_code = 1;
        goto out;
    }
    if (!tasks_exists(app, name)) {
        fprintf(stderr, "Error: Task \"%s\" not found\n", name);
        c.exit_code = 1;
        app_stop(app, on_stopped);
    } else if ((rc = ah_task_app_enqueue(app, name, args, NULL, on_enqueued, &c)) < 0) {
        fprintf(stderr, "Error: %s\n", ah_strerror(rc));
        c.exit_code = 1;
        app_stop(app, on_stopped);
    }
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
out:
    json_decref(args);
    app_free(app);
    free(rest);
    return c.exit_code;
}
