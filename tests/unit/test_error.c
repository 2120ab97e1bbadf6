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

static void test_other_numbers_are_unknown(void)
{
    static const int not_codes[] = {1, 5, -7, -9, -26, -29, -43, -49, -62, -69, -74, -79, -88,
                                    -1000, 1 << 30, -(1 << 30)};
    for (size_t i = 0; i < sizeof not_codes / sizeof not_codes[0]; i++) {
        CHECK(strcmp(fota_strerror(not_codes[i]), "FOTA_ERR_UNKNOWN") == 0);
        CHECK_EQ_INT(fota_err_is_transient(not_codes[i]), 0);
    }
}

static const struct test_case tests[] = {
    TEST(test_every_code_has_its_name_and_class),
    TEST(test_other_numbers_are_unknown),
};

int main(void)
{
    return test_main("error", tests, TEST_COUNT(tests));
}
