/* check.h — the unit tests' tiny harness: CHECK(cond) records a failure with its line and goes
 * on; TEST(name) runs a function; check_summary() prints "N passed, N failed" and returns the
 * process exit code. Header-only, so each test binary links just the modules under test. */
#pragma once
#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;
static const char *check_current = "";

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (cond) {                                                                  \
            check_passed++;                                                          \
        } else {                                                                     \
            check_failed++;                                                          \
            fprintf(stderr, "FAIL %s:%d in %s: %s\n", __FILE__, __LINE__,            \
                    check_current, #cond);                                           \
        }                                                                            \
    } while (0)

#define CHECK_STR(a, b)                                                              \
    do {                                                                             \
        const char *check_a_ = (a), *check_b_ = (b);                                 \
        if (check_a_ && check_b_ && strcmp(check_a_, check_b_) == 0) {              \
            check_passed++;                                                          \
        } else {                                                                     \
            check_failed++;                                                          \
            fprintf(stderr, "FAIL %s:%d in %s: %s == %s (\"%s\" vs \"%s\")\n",       \
                    __FILE__, __LINE__, check_current, #a, #b,                       \
                    check_a_ ? check_a_ : "(null)", check_b_ ? check_b_ : "(null)"); \
        }                                                                            \
    } while (0)

#define TEST(fn)                 \
    do {                         \
        check_current = #fn;     \
        fn();                    \
    } while (0)

static inline int check_summary(void)
{
    printf("%d passed, %d failed\n", check_passed, check_failed);
    return check_failed ? 1 : 0;
}
