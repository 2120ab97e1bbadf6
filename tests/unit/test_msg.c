/* The core's message formatter (src/msg.c): the conversions the messages
 * use, %E and %P printing what a fota_strerror() call at the site printed,
 * and truncation to the caller's buffer. */
#include <string.h>

#include "fota/error.h"
#include "harness.h"
#include "internal/msg.h"

static void test_conversions(void)
{
    char out[160];
    size_t n = fota_msgf(out, sizeof out, "%s %u %d %x %% %H|%H", "text", 4000000000u, -42,
                         0x1f0u, "https://[::1]:8443/fw/m", "not a url");
    CHECK_EQ_STR(out, "text 4000000000 -42 1f0 % ::1|?");
    CHECK_EQ_INT((int)n, (int)strlen(out));
}

static void test_error_names(void)
{
    char out[160];
    fota_msgf(out, sizeof out, "failed (%E)", FOTA_ERR_FLASH_WRITE);
    CHECK_EQ_STR(out, "failed (FOTA_ERR_FLASH_WRITE)");
    fota_msgf(out, sizeof out, "flash write failed at offset 0x%x (slot %d): %P", 0x1000u, 1,
              FOTA_ERR_FLASH_WRITE);
    CHECK_EQ_STR(out, "flash write failed at offset 0x1000 (slot 1): port returned -81 "
                      "(FOTA_ERR_FLASH_WRITE)");
    fota_msgf(out, sizeof out, "%P; %E", 7, -1000);
    CHECK_EQ_STR(out, "port returned 7 (FOTA_ERR_UNKNOWN); FOTA_ERR_UNKNOWN");
}

static void test_truncation(void)
{
    char out[12];
    size_t n = fota_msgf(out, sizeof out, "%P", FOTA_ERR_FLASH_READ);
    CHECK_EQ_STR(out, "port return");
    CHECK_EQ_INT((int)n, 11);
    CHECK_EQ_INT((int)fota_msgf(out, 0, "x"), 0);
}

static const struct test_case tests[] = {
    TEST(test_conversions),
    TEST(test_error_names),
    TEST(test_truncation),
};

int main(void)
{
    return test_main("msg", tests, TEST_COUNT(tests));
}
