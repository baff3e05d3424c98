/*
 * status.c - the `status` action (builtin.md §1.1): server id, versions,
 * uptime, memory and the health checks with the thresholds of the
 * maxMemoryAlloted / maxResqueQueueLength environment variables.
 *
 * consumedMemoryMB is the resident set size (/proc/self/statm) in MB with two
 * decimals: the C counterpart of Node's heapUsed.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <ah/ah.h>

#include "app/app.h"
#include "tasks/tasks.h"

#define ACTIONHERO_VERSION "29.3.5"

static double rss_mb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long size = 0, resident = 0;
    long page = sysconf(_SC_PAGESIZE);
    double mb;

    if (f == NULL)
        return 0;
    if (fscanf(f, "%llu %llu", &size, &resident) != 2)
        resident = 0;
    fclose(f);
    mb = (double)resident * (double)(page > 0 ? page : 4096) / 1024.0 / 1024.0;
    return round(mb * 100) / 100;
}

/* parseInt(process.env[name]); when unset, config general.<name>, else
 * `dflt`.  False for NaN (v29 then never reports the problem). */
static bool env_limit(ah_app_t *app, const char *name, long long dflt, long long *out)
{
    const char *v = getenv(name);
    char *end, path[64];
    json_t *c;

    if (v == NULL || v[0] == '\0') {
        snprintf(path, sizeof(path), "general.%s", name);
        c = ah_config(app, path);
        *out = json_is_number(c) ? (long long)json_number_value(c) : dflt;
        return true;
    }
    while (*v == ' ' || *v == '\t')
        v++;
    *out = strtoll(v, &end, 10);
    return end != v;
}

static void fill(ah_ctx_t *ctx, long long queue_len)
{
    ah_app_t *app = ah_app(ctx);
    json_t *res = ah_response(ctx);
    json_t *problems = json_array();
    const char *node_status = "Node Healthy";
    double mem = rss_mb();
    long long max_mem, max_queue;
    char msg[128];
    json_t *v;

    if (env_limit(app, "maxMemoryAlloted", 500, &max_mem) && mem > (double)max_mem) {
        node_status = "Node Unhealthy";
        snprintf(msg, sizeof(msg), "Using more than %lld MB of RAM/HEAP", max_mem);
        json_array_append_new(problems, json_string(msg));
    }
    if (env_limit(app, "maxResqueQueueLength", 1000, &max_queue) && queue_len > max_queue) {
        node_status = "Node Unhealthy";
        snprintf(msg, sizeof(msg), "Resque Queues over %lld jobs", max_queue);
        json_array_append_new(problems, json_string(msg));
    }
    json_object_set_new(res, "id", json_string(app->id ? app->id : "actionhero"));
    json_object_set_new(res, "actionheroVersion", json_string(ACTIONHERO_VERSION));
    v = ah_config(app, "general.serverName");
    json_object_set_new(res, "name", json_is_string(v) ? json_incref(v) : json_string("actionhero"));
    v = ah_config(app, "general.description");
    json_object_set_new(res, "description",
                        json_is_string(v) ? json_incref(v) : json_string("an Actionhero compatible API server in C"));
    v = ah_config(app, "general.apiVersion");
    json_object_set_new(res, "version", json_is_string(v) ? json_incref(v) : json_string("0.1.0"));
    json_object_set_new(res, "uptime", json_integer((json_int_t)(ah_now_ms() - app->boot_time)));
    json_object_set_new(res, "consumedMemoryMB", json_real(mem));
    json_object_set_new(res, "resqueTotalQueueLength", json_integer(queue_len));
    json_object_set_new(res, "nodeStatus", json_string(node_status));
    json_object_set_new(res, "problems", problems);
}

/* resqueTotalQueueLength: the sum of task.details() queue lengths (0 when
 * the task store cannot be read, so that status still answers). */
static void on_total(ah_app_t *app, int status, long long total, const char *error, void *arg)
{
    (void)app;
    (void)error;
    fill(arg, status < 0 ? 0 : total);
    ah_done(arg);
}

static int run(ah_ctx_t *ctx)
{
    if (tasks_total_queue_length(ah_app(ctx), on_total, ctx) < 0) {
        fill(ctx, 0);
        return AH_DONE;
    }
    return AH_PENDING;
}

AH_ACTION(status) = {
    .name = "status",
    .description = "I will return some basic information about the API",
    .output_example = "{\"id\": \"192.168.2.11\", \"actionheroVersion\": \"9.4.1\", \"uptime\": 10469}",
    .run = run,
};
