/*
 * A tiny header-only test harness, so the same test sources run on the host
 * and on emulated ESP CPUs (picolibc + semihosting): printf only, no heap.
 *
 *   static void test_x(void) { CHECK(1 + 1 == 2); CHECK_EQ_INT(a, b); }
 *   static const struct test_case tests[] = { TEST(test_x) };
 *   int main(void) { return test_main("http", tests, TEST_COUNT(tests)); }
 *
 * Prints one line per test and closes with "N passed, N failed".
 */
#ifndef FOTA_TEST_HARNESS_H
#define FOTA_TEST_HARNESS_H

#include <stdio.h>
#include <string.h>

struct test_case {
    const char *name;
    void (*fn)(void);
};

#define TEST(fn) { #fn, fn }
#define TEST_COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int test_failures_;
static int test_checks_;

#define CHECK(cond)                                                                        \
    do {                                                                                   \
        test_checks_++;                                                                    \
        if (!(cond)) {                                                                     \
            test_failures_++;                                                              \
            printf("  %s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);              \
        }                                                                                  \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                 \
    do {                                                                                   \
        long long a_ = (long long)(a), b_ = (long long)(b);                                \
        test_checks_++;                                                                    \
        if (a_ != b_) {                                                                    \
            test_failures_++;                                                              \
            printf("  %s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, #a, #b, \
                   a_, b_);                                                                \
        }                                                                                  \
    } while (0)

#define CHECK_EQ_STR(a, b)                                                                 \
    do {                                                                                   \
        const char *a_ = (a), *b_ = (b);                                                   \
        test_checks_++;                                                                    \
        if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0) {                             \
            test_failures_++;                                                              \
            printf("  %s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__, __LINE__, #a,  \
                   #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)");                            \
        }                                                                                  \
    } while (0)

#define CHECK_MEM(a, b, n) CHECK(memcmp((a), (b), (n)) == 0)

static inline int test_main(const char *suite, const struct test_case *tests, size_t n)
{
    int passed = 0, failed = 0;
    for (size_t i = 0; i < n; i++) {
        int before = test_failures_;
        tests[i].fn();
        if (test_failures_ == before) {
            passed++;
            printf("ok   %s.%s\n", suite, tests[i].name);
        } else {
            failed++;
            printf("FAIL %s.%s\n", suite, tests[i].name);
        }
    }
    printf("%s: %d passed, %d failed\n", suite, passed, failed);
    return failed == 0 ? 0 : 1;
}

#endif
