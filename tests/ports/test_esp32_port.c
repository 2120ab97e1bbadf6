/*
 * The ESP32 flash and boot control (ports/esp32/fota_esp32.c) against a fake
 * of ESP-IDF's OTA API whose behaviour follows esp_ota_ops.c
 * (fake_esp_idf.h): images the chip refuses to boot, long waits, rollback
 * disabled or an old bootloader, a factory app, a stale otadata entry, and
 * writes to the running slot. Built once posing as ESP-IDF 5.5.1 and once as
 * 4.4 (arduino-esp32 2.x).
 */
#include <string.h>

#include "fake_esp_idf.h"
#include "fota/fota.h"
#include "fota_esp32.h"
#include "freertos/task.h"
#include "harness.h"
#include "test_image.h"

extern const struct fota_crypto fota_crypto_mbedtls;

TickType_t fake_tick_rate_hz = 100;
uint64_t fake_ticks_slept;

void vTaskDelay(const TickType_t ticks)
{
    fake_ticks_slept += ticks;
}

static struct fota_esp32 port;
static uint8_t image[4096];

/* A blank device: the table of `c`, the first app booted. */
static void device(int factory, int app_rollback, int bootloader_rollback)
{
    struct fake_esp_idf_config c = {.factory = factory,
                                    .app_rollback = app_rollback,
                                    .bootloader_rollback = bootloader_rollback};
    fake_esp_idf_reset(&c);
    size_t n = test_image_build(image, sizeof image, 5, "1.0.0", "port", 0, 200, 1,
                                &fota_crypto_mbedtls);
    fake_esp_idf_program(factory ? "factory" : "ota_0", image, n);
    CHECK(fake_esp_idf_power_on() != NULL);
    CHECK_EQ_INT(fota_esp32_init(&port, "fota_state"), 0);
}

/* What the agent does with a download: erase ahead, write 16-byte units. */
static int write_slot(int slot, const char *version, uint32_t secure_version)
{
    struct fota_slot s;
    int r = port.boot.slot_info(port.boot.ctx, slot, &s);
    if (r < 0)
        return r;
    size_t n = test_image_build(image, sizeof image, 5, version, "port", secure_version, 300, 2,
                                &fota_crypto_mbedtls);
    n = (n + 15) / 16 * 16;
    if ((r = port.flash.erase(port.flash.ctx, s.addr, 4096)) < 0)
        return r;
    for (size_t off = 0; off < n; off += 16)
        if ((r = port.flash.write(port.flash.ctx, s.addr + (uint32_t)off, image + off, 16)) < 0)
            return r;
    return 0;
}

static int running(int *state)
{
    int slot = -1;
    CHECK_EQ_INT(port.boot.running(port.boot.ctx, &slot, state), 0);
    return slot;
}

static int slot_state(int slot)
{
    int st = -1;
    CHECK_EQ_INT(port.boot.slot_state(port.boot.ctx, slot, &st), 0);
    return st;
}

/* One update: write slot 1 from slot 0, select it, power on, confirm. */
static void update_to(int slot, const char *version)
{
    int st;
    CHECK_EQ_INT(write_slot(slot, version, 0), 0);
    CHECK_EQ_INT(port.boot.set_next(port.boot.ctx, slot), 0);
    CHECK(fake_esp_idf_power_on() != NULL);
    CHECK_EQ_INT(running(&st), slot);
    CHECK_EQ_INT(port.boot.confirm(port.boot.ctx), 0);
}

/* ---- finding 6: images the chip refuses to boot ------------------------------ */

static void test_refused_signature_is_image_rejected(void)
{
    int st;
    device(0, 1, 1);
    CHECK_EQ_INT(write_slot(1, "2.0.0", 0), 0);
    /* esp_image_verify fails: no (trusted) Secure Boot signature, or a chip
     * revision outside the image's range */
    fake_esp_idf_config()->verify_result = ESP_FAIL;
    CHECK_EQ_INT(port.boot.set_next(port.boot.ctx, 1), FOTA_ERR_IMAGE_REJECTED);
    fake_esp_idf_config()->verify_result = ESP_OK;
    CHECK(strstr(fake_esp_idf_log(), "ESP_ERR_OTA_VALIDATE_FAILED") != NULL);
    CHECK_EQ_STR(fake_esp_idf_power_on(), "ota_0"); /* nothing was selected */
    CHECK_EQ_INT(running(&st), 0);
}

static void test_secure_version_below_efuse_is_image_rejected(void)
{
    device(0, 1, 1);
    fake_esp_idf_config()->anti_rollback = 1;
    fake_esp_idf_config()->efuse_secure_version = 5;
    CHECK_EQ_INT(write_slot(1, "2.0.0", 3), 0);
    CHECK_EQ_INT(port.boot.set_next(port.boot.ctx, 1), FOTA_ERR_IMAGE_REJECTED);
    /* ESP-IDF erased the whole slot */
    uint8_t b[16];
    struct fota_slot s;
    port.boot.slot_info(port.boot.ctx, 1, &s);
    CHECK_EQ_INT(port.flash.read(port.flash.ctx, s.addr, b, sizeof b), 0);
    CHECK_EQ_INT(b[0], 0xFF);
    CHECK_EQ_STR(fake_esp_idf_power_on(), "ota_0");
    /* at or above the counter it is accepted */
    CHECK_EQ_INT(write_slot(1, "2.0.1", 5), 0);
    CHECK_EQ_INT(port.boot.set_next(port.boot.ctx, 1), 0);
}

static void test_set_next_bad_slot(void)
{
    device(0, 1, 1);
    CHECK_EQ_INT(port.boot.set_next(port.boot.ctx, 2), FOTA_ERR_INVALID_ARG);
    CHECK_EQ_INT(port.boot.set_next(port.boot.ctx, -1), FOTA_ERR_INVALID_ARG);
}

/* ---- finding 7: long waits ----------------------------------------------------- */

static void test_one_day_wait_is_one_day(void)
{
    /* what the port did: 86,400,000 ms * 100 Hz wraps in 32 bits */
    fake_tick_rate_hz = 100;
    CHECK((uint64_t)pdMS_TO_TICKS(86400u * 1000u) < 86400u * 100u / 100u);
    uint32_t hz[] = {100, 1000};
    for (size_t i = 0; i < sizeof hz / sizeof hz[0]; i++) {
        fake_tick_rate_hz = hz[i];
        fake_ticks_slept = 0;
        fota_esp32_delay_ms(86400u * 1000u);
        CHECK_EQ_INT(fake_ticks_slept, 86400ull * hz[i]);
        fake_ticks_slept = 0;
        fota_esp32_delay_ms(30u * 86400u * 1000u); /* Kconfig's longest interval */
        CHECK_EQ_INT(fake_ticks_slept, 30ull * 86400ull * hz[i]);
    }
    fake_ticks_slept = 0;
    fota_esp32_delay_ms(1); /* below one tick: still yields */
    CHECK_EQ_INT(fake_ticks_slept, 1);
    fake_tick_rate_hz = 100;
}

/* ---- finding 8: rollback off, old bootloader, factory app ----------------------- */

/* An update in a rollback configuration: the state the new image boots in,
 * and that confirming it makes it VALID. */
static void boots_as_then_confirms(int app_rollback, int bootloader_rollback, int expected)
{
    int st;
    device(0, app_rollback, bootloader_rollback);
    CHECK_EQ_INT(write_slot(1, "2.0.0", 0), 0);
    CHECK_EQ_INT(port.boot.set_next(port.boot.ctx, 1), 0);
    CHECK_EQ_STR(fake_esp_idf_power_on(), "ota_1");
    CHECK_EQ_INT(running(&st), 1);
    CHECK_EQ_INT(st, expected);
    CHECK_EQ_INT(port.boot.confirm(port.boot.ctx), 0);
    CHECK_EQ_INT(slot_state(1), FOTA_IMG_VALID);
}

static void test_rollback_disabled_boots_undefined_and_confirms(void)
{
    boots_as_then_confirms(0, 1, FOTA_IMG_UNDEFINED);
}

static void test_old_bootloader_leaves_new_and_confirms(void)
{
    boots_as_then_confirms(1, 0, FOTA_IMG_NEW);
}

static void test_confirm_on_factory_app(void)
{
    int st;
    device(1, 1, 1);
    CHECK_EQ_INT(running(&st), 1); /* reported as slot 1 so the update goes to ota_0 */
    CHECK_EQ_INT(st, FOTA_IMG_UNDEFINED);
    CHECK_EQ_INT(port.boot.confirm(port.boot.ctx), 0);
    /* and the update from the factory app goes through */
    update_to(0, "2.0.0");
    CHECK_EQ_INT(slot_state(0), FOTA_IMG_VALID);
}

static void test_unconfirmed_update_rolls_back(void)
{
    int st;
    device(0, 1, 1);
    CHECK_EQ_INT(write_slot(1, "2.0.0", 0), 0);
    CHECK_EQ_INT(port.boot.set_next(port.boot.ctx, 1), 0);
    CHECK_EQ_STR(fake_esp_idf_power_on(), "ota_1");
    CHECK_EQ_INT(running(&st), 1);
    CHECK_EQ_INT(st, FOTA_IMG_PENDING_VERIFY);
    CHECK_EQ_STR(fake_esp_idf_power_on(), "ota_0"); /* reset before confirming */
    CHECK_EQ_INT(slot_state(1), FOTA_IMG_ABORTED);
}

/* Writing a slot drops the otadata entry of the image that was in it: else a
 * rollback of the running app would select the half-written slot. */
static void test_stale_otadata_entry_invalidated(void)
{
    device(0, 1, 1);
    update_to(1, "2.0.0");
    update_to(0, "3.0.0"); /* slot 1's entry (VALID, 2.0.0) is now the inactive one */
    CHECK_EQ_INT(slot_state(1), FOTA_IMG_VALID);
    CHECK_EQ_INT(write_slot(1, "4.0.0", 0), 0);
    CHECK_EQ_INT(slot_state(1), FOTA_IMG_UNDEFINED);
    /* rolling back the running app now has nowhere to go, instead of
     * selecting the slot being written */
#if ESP_IDF_VERSION >= ESP_IDF_VERSION_VAL(5, 5, 0)
    CHECK_EQ_INT(esp_ota_mark_app_invalid_rollback(), ESP_ERR_OTA_ROLLBACK_FAILED);
#else
    CHECK_EQ_INT(esp_ota_mark_app_invalid_rollback_and_reboot(), ESP_ERR_OTA_ROLLBACK_FAILED);
#endif
    /* a resumed download (not from offset 0) leaves otadata alone; the
     * running slot's entry stays */
    CHECK_EQ_INT(slot_state(0), FOTA_IMG_VALID);
    CHECK_EQ_INT(port.boot.set_next(port.boot.ctx, 1), 0);
    CHECK_EQ_STR(fake_esp_idf_power_on(), "ota_1");
}

static void test_refuses_writes_to_running_slot(void)
{
    device(0, 1, 1);
    struct fota_slot s;
    port.boot.slot_info(port.boot.ctx, 0, &s);
    uint8_t b[16] = {0};
    CHECK_EQ_INT(port.flash.erase(port.flash.ctx, s.addr, 4096), FOTA_ERR_INVALID_ARG);
    CHECK_EQ_INT(port.flash.write(port.flash.ctx, s.addr + 4096, b, sizeof b),
                 FOTA_ERR_INVALID_ARG);
    CHECK_EQ_INT(fake_esp_idf_erases("ota_0"), 0);
    CHECK_EQ_INT(port.flash.read(port.flash.ctx, s.addr, b, sizeof b), 0);
    CHECK_EQ_INT(b[0], 0xE9);
    CHECK(strstr(fake_esp_idf_log(), "runs from") != NULL);
    /* the other slot and the state partition stay writable */
    CHECK_EQ_INT(write_slot(1, "2.0.0", 0), 0);
    CHECK_EQ_INT(port.flash.erase(port.flash.ctx, port.state_addr, 4096), 0);
}

/* Data partitions (docs/data-partitions.md): only those the application
 * names, never otadata or the agent's state; writable by address once named. */
static void test_data_partitions(void)
{
    struct fota_slot s;
    uint8_t b[16];
    device(0, 1, 1);
    CHECK_EQ_INT(port.boot.data_partition(port.boot.ctx, "storage", &s), FOTA_ERR_NOT_SUPPORTED);
    const esp_partition_t *st = fake_esp_idf_partition("storage");
    CHECK_EQ_INT(port.flash.erase(port.flash.ctx, st->address, 4096), FOTA_ERR_INVALID_ARG);
    CHECK_EQ_INT(fota_esp32_data(&port, "storage"), 0);
    CHECK_EQ_INT(fota_esp32_data(&port, "storage"), 0); /* again: the same one */
    CHECK_EQ_INT(port.boot.data_partition(port.boot.ctx, "storage", &s), 0);
    CHECK_EQ_INT(s.addr, st->address);
    CHECK_EQ_INT(s.size, st->size);
    CHECK_EQ_INT(port.boot.data_partition(port.boot.ctx, "spiffs", &s), FOTA_ERR_NOT_SUPPORTED);
    memset(b, 0x5A, sizeof b);
    CHECK_EQ_INT(port.flash.erase(port.flash.ctx, st->address, 4096), 0);
    CHECK_EQ_INT(port.flash.write(port.flash.ctx, st->address + 16, b, sizeof b), 0);
    memset(b, 0, sizeof b);
    CHECK_EQ_INT(port.flash.read(port.flash.ctx, st->address + 16, b, sizeof b), 0);
    CHECK_EQ_INT(b[15], 0x5A);
    CHECK_EQ_INT(fota_esp32_data(&port, "otadata"), FOTA_ERR_NOT_SUPPORTED);
    CHECK_EQ_INT(fota_esp32_data(&port, "fota_state"), FOTA_ERR_NOT_SUPPORTED);
    CHECK_EQ_INT(fota_esp32_data(&port, "nothing"), FOTA_ERR_NOT_SUPPORTED);
    CHECK(strstr(port.detail, "'nothing'") != NULL);
}

static void test_missing_partitions_named(void)
{
    struct fake_esp_idf_config c = {.app_rollback = 1, .bootloader_rollback = 1};
    fake_esp_idf_reset(&c);
    CHECK_EQ_INT(fota_esp32_init(&port, "no_such_label"), FOTA_ERR_NOT_SUPPORTED);
    CHECK(strstr(port.detail, "no_such_label, data, 0x40, , 0x2000,") != NULL);
}

static void test_chip(void)
{
    CHECK_EQ_INT(fota_esp32_chip(), FOTA_TEST_EXPECTED_CHIP);
}

static const struct test_case tests[] = {
    TEST(test_refused_signature_is_image_rejected),
    TEST(test_secure_version_below_efuse_is_image_rejected),
    TEST(test_set_next_bad_slot),
    TEST(test_one_day_wait_is_one_day),
    TEST(test_rollback_disabled_boots_undefined_and_confirms),
    TEST(test_old_bootloader_leaves_new_and_confirms),
    TEST(test_confirm_on_factory_app),
    TEST(test_unconfirmed_update_rolls_back),
    TEST(test_stale_otadata_entry_invalidated),
    TEST(test_refuses_writes_to_running_slot),
    TEST(test_data_partitions),
    TEST(test_missing_partitions_named),
    TEST(test_chip),
};

int main(void)
{
    return test_main("esp32_port", tests, TEST_COUNT(tests));
}
