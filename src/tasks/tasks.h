/*
 * tasks.h - the task system as the rest of the server sees it (the public
 * API for actions and tasks is include/ah/task.h).
 */
#ifndef AH_SRC_TASKS_TASKS_H
#define AH_SRC_TASKS_TASKS_H

#include <stdbool.h>

#include <jansson.h>

#include <ah/ah.h>

/* Is a task of that name registered (the `tasks` initializer has loaded)? */
bool tasks_exists(ah_app_t *app, const char *name);

/* Workers taking or performing a job (the graceful drain of app_stop waits
 * for them, as for actions, up to general.shutdownTimeout). */
int tasks_in_flight(ah_app_t *app);

/* The sum of the queue lengths of task.details() (the status action's
 * resqueTotalQueueLength).  cb(app, 0, total, NULL, arg) on a later loop
 * turn, or a status < 0 with the error text.  Returns 0 or <0 (never runs). */
typedef void (*tasks_total_cb)(ah_app_t *app, int status, long long total, const char *error, void *arg);
AH_MUST_CHECK int tasks_total_queue_length(ah_app_t *app, tasks_total_cb cb, void *arg);

/* specHelper (builtin.md §3), for tests and tools:
 *   run_task       the task's run(params) directly: no middleware, no store
 *   run_full_task  perform the job inline as a worker does (plugins and
 *                  middleware; no queues or stats); result null when a
 *                  pre_processor said false
 *   find_enqueued  every queued and delayed job of `name`:
 *                  [{class, queue, args, timestamp}] (timestamp null or ms)
 *   delete_enqueued del + delDelayed with `params` on every queue
 * Same callback contract as the public API. */
AH_MUST_CHECK int tasks_spec_run_task(ah_app_t *app, const char *name, json_t *params,
                                      ah_task_app_cb cb, void *arg);
AH_MUST_CHECK int tasks_spec_run_full_task(ah_app_t *app, const char *name, json_t *params,
                                           ah_task_app_cb cb, void *arg);
AH_MUST_CHECK int tasks_spec_find_enqueued(ah_app_t *app, const char *name, ah_task_app_cb cb, void *arg);
AH_MUST_CHECK int tasks_spec_delete_enqueued(ah_app_t *app, const char *name, json_t *params,
                                             ah_task_app_cb cb, void *arg);

/* The `task enqueue` / `task-enqueue` command (src/tasks/cli.c): argv[0]
 * is "task" or "task-enqueue".  Returns the process exit code. */
int tasks_cli(int argc, char **argv);

#endif /* AH_SRC_TASKS_TASKS_H */
