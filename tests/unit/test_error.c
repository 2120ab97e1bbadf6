/* The error table (FOTA_ERROR_TABLE): every code's name and class come out of
 * fota_strerror() and fota_err_is_transient() as the table says, and numbers
 * that are no code are named FOTA_ERR_UNKNOWN. */
#include <string.h>

#include "fota/error.h"
#include "harness.h"

static void test_every_code_has_its_name_and_class(void)
{
    int rows = 0, transient = 0;
#define TRANSIENT 1
#define FINAL 0
#define ROW_(name, code, class, meaning)                                                   \
    CHECK(strcmp(fota_strerror(code), #name) == 0);                                        \
    CHECK_EQ_INT(fota_err_is_transient(code), class);                                      \
    CHECK(meaning[0] != '\0');                                                             \
    rows++;                                                                                \
    transient += class;
    FOTA_ERROR_TABLE(ROW_)
#undef ROW_
    CHECK(rows >= 60);
    CHECK(transient > 20);
}

static int in_table(int n)
{
#define IS_(name, code, class, meaning) \
    if (n == (code))                    \
        return 1;
    FOTA_ERROR_TABLE(IS_)
#undef IS_
    return 0;
}

static void test_other_numbers_are_unknown(void)
{
    static const int far[] = {-1000, 1 << 30, -(1 << 30)};
    int unknown = 0;
    for (int n = -120; n <= 5; n++) {
        if (in_table(n))
            continue;
        unknown++;
        CHECK(strcmp(fota_strerror(n), "FOTA_ERR_UNKNOWN") == 0);
        CHECK_EQ_INT(fota_err_is_transient(n), 0);
    }
    CHECK(unknown > 0);
    for (size_t i = 0; i < sizeof far / sizeof far[0]; i++)
        CHECK(strcmp(fota_strerror(far[i]), "FOTA_ERR_UNKNOWN") == 0);
}

static const struct test_case tests[] = {
    TEST(test_every_code_has_its_name_and_class),
    TEST(test_other_numbers_are_unknown),
};

int main(void)
{
    return test_main("error", tests, TEST_COUNT(tests));
}
