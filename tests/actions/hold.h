/*
 * hold.h - the `holdTest` action keeps its invocations pending until a
 * test releases them (tests/actions/async_test.c).
 */
#ifndef AH_TESTS_ACTIONS_HOLD_H
#define AH_TESTS_ACTIONS_HOLD_H

#include <stdbool.h>
#include <stddef.h>

size_t test_hold_count(void);
bool test_hold_alive(size_t i);
/* ah_done() every held invocation (newest first). */
void test_hold_release_all(void);

#endif
