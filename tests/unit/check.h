/*
 * check.h - tiny assertion helpers for the C unit tests.
 *
 * Each CHECK counts a pass or prints both sides and counts a failure; the
 * test's main() ends with `return check_done();`, which prints
 * "# passed N failed M" for tests/run-all.sh.
 */
#ifndef AH_TESTS_CHECK_H
#define AH_TESTS_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(cond) check_report(!!(cond), __FILE__, __LINE__, #cond, NULL, NULL)
#define CHECK_EQ_INT(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
    char sa_[32], sb_[32]; snprintf(sa_, sizeof sa_, "%lld", a_); snprintf(sb_, sizeof sb_, "%lld", b_); \
    check_report(a_ == b_, __FILE__, __LINE__, #a " == " #b, sa_, sb_); } while (0)
#define CHECK_EQ_STR(a, b) do { const char *a_ = (a), *b_ = (b); \
    check_report(a_ && b_ && strcmp(a_, b_) == 0, __FILE__, __LINE__, #a " == " #b, \
                 a_ ? a_ : "(null)", b_ ? b_ : "(null)"); } while (0)

static inline void check_report(int ok, const char *file, int line, const char *what,
                                const char *got, const char *want)
{
    if (ok) {
        check_passed++;
        return;
    }
    check_failed++;
    printf("not ok - %s:%d: %s\n", file, line, what);
    if (got || want)
        printf("#   got:  %s\n#   want: %s\n", got ? got : "", want ? want : "");
}

static inline int check_done(void)
{
    printf("# passed %d failed %d\n", check_passed, check_failed);
    return check_failed ? 1 : 0;
}

#endif
