/*
 * test_tasks.h - what the test-build tasks (tests/tasks/test_tasks.c)
 * record, for the unit tests to look at.
 */
#ifndef AH_TESTS_TASKS_TEST_TASKS_H
#define AH_TESTS_TASKS_TEST_TASKS_H

#include <jansson.h>

extern int test_task_runs;            /* testEcho / testAsync / testBlocking runs */
extern json_t *test_task_last_params; /* params of the last testEcho run (owned) */
extern int test_mw_calls[4];
extern int test_periodic_runs;         /* testPeriodic runs */          /* testTaskMw: preEnqueue, postEnqueue, pre, post */

#endif
