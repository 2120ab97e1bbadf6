/* The slot state machine: the simulated ESP-IDF bootloader and boot control
 * (NEW -> PENDING_VERIFY -> VALID, or ABORTED and back to the old slot),
 * including a power cut at every flash operation of a slot switch. */
#include <setjmp.h>
#include <string.h>

#include "fota/fota.h"
#include "boot.h"
#include "harness.h"
#include "test_image.h"
#include "fota_crypto_backends.h"

#ifndef FOTA_TEST_CRYPTO
#define FOTA_TEST_CRYPTO fota_crypto_mbedtls
#endif

#define SECTOR 4096u
#define SLOT 0x10000u

static struct sim_layout layout;
static uint8_t mem[0x40000];
static struct sim_flash flash;
static struct sim_boot boot;
static uint8_t image[2048];
static jmp_buf power_on;

static void program_slot(int slot, const char *version, int corrupt)
{
    size_t n = test_image_build(image, sizeof image, 0, version, "slots", 0, 100, 7,
                                &FOTA_TEST_CRYPTO);
    if (corrupt)
        image[n / 2] ^= 1;
    memset(flash.mem + layout.slot_addr[slot], 0xFF, layout.slot_size);
    sim_flash_load(&flash, layout.slot_addr[slot], image, (uint32_t)n);
}

static void fresh(void)
{
    sim_layout_default(&layout, SLOT, SECTOR);
    CHECK(layout.flash_size <= sizeof mem);
    sim_flash_open_buf(&flash, mem, layout.flash_size, SECTOR, 4);
    program_slot(0, "1.0.0", 0);
}

/* Power on: returns the slot booted, -1 when bricked. */
static int power_on_boot(int *state)
{
    sim_boot_init(&boot, &flash, &layout, &FOTA_TEST_CRYPTO);
    if (sim_bootloader(&boot) != SIM_BOOTED)
        return -1;
    int slot = -1;
    boot.iface.running(boot.iface.ctx, &slot, state);
    return slot;
}

static void test_factory_boot(void)
{
    int st;
    fresh();
    CHECK_EQ_INT(power_on_boot(&st), 0);
    CHECK_EQ_INT(st, FOTA_IMG_UNDEFINED);
}

static void test_new_image_boots_pending_then_confirmed(void)
{
    int st;
    fresh();
    power_on_boot(&st);
    program_slot(1, "2.0.0", 0);
    CHECK_EQ_INT(boot.iface.set_next(boot.iface.ctx, 1), 0);
    CHECK_EQ_INT(power_on_boot(&st), 1);
    CHECK_EQ_INT(st, FOTA_IMG_PENDING_VERIFY);
    CHECK_EQ_INT(boot.iface.confirm(boot.iface.ctx), 0);
    CHECK_EQ_INT(power_on_boot(&st), 1);
    CHECK_EQ_INT(st, FOTA_IMG_VALID);
}

static void test_unconfirmed_image_rolls_back(void)
{
    int st;
    fresh();
    power_on_boot(&st);
    program_slot(1, "2.0.0", 0);
    boot.iface.set_next(boot.iface.ctx, 1);
    CHECK_EQ_INT(power_on_boot(&st), 1); /* trial boot; it never confirms */
    CHECK_EQ_INT(power_on_boot(&st), 0); /* reset before confirm: back to slot 0 */
    CHECK_EQ_INT(boot.data.state[1], FOTA_IMG_ABORTED);
    CHECK_EQ_INT(power_on_boot(&st), 0); /* and it stays there */
    CHECK_EQ_INT(boot.data.active, 0);
}

static void test_explicit_rollback(void)
{
    int st;
    fresh();
    power_on_boot(&st);
    program_slot(1, "2.0.0", 0);
    boot.iface.set_next(boot.iface.ctx, 1);
    power_on_boot(&st);
    CHECK_EQ_INT(boot.iface.rollback(boot.iface.ctx), 0);
    CHECK_EQ_INT(power_on_boot(&st), 0);
    CHECK_EQ_INT(boot.data.state[1], FOTA_IMG_ABORTED);
}

static void test_corrupt_image_never_boots(void)
{
    int st;
    fresh();
    power_on_boot(&st);
    program_slot(1, "2.0.0", 1);
    boot.iface.set_next(boot.iface.ctx, 1);
    CHECK_EQ_INT(power_on_boot(&st), 0);
    CHECK(strstr(boot.message, "no valid image") != NULL);
}

static void test_no_valid_image_is_reported(void)
{
    int st;
    fresh();
    program_slot(0, "1.0.0", 1);
    CHECK_EQ_INT(power_on_boot(&st), -1);
    CHECK(strstr(boot.message, "no bootable image") != NULL);
}

static void test_set_next_refuses_running_slot(void)
{
    int st;
    fresh();
    power_on_boot(&st);
    CHECK_EQ_INT(boot.iface.set_next(boot.iface.ctx, 0), FOTA_ERR_INVALID_ARG);
}

static void cut(void *ctx)
{
    (void)ctx;
    longjmp(power_on, 1);
}

/* Select slot 1, boot it and confirm it, unless the power goes first. */
static void switch_or_cut(void)
{
    int st;
    if (setjmp(power_on) == 0) {
        boot.iface.set_next(boot.iface.ctx, 1);
        power_on_boot(&st);
        boot.iface.confirm(boot.iface.ctx);
    }
}

/* Cut power at each flash operation of set_next, confirm and the bootloader's
 * own writes, in every mode: the device always boots a valid image, and it is
 * the new one only after set_next completed. */
static void test_power_cut_during_switch(void)
{
    static const int modes[] = {FOTA_CUT_BEFORE, FOTA_CUT_TORN, FOTA_CUT_AFTER};
    int bricked = 0, runs = 0;
    for (size_t m = 0; m < 3; m++) {
        for (uint32_t i = 1; i <= 6; i++) {
            int st;
            fresh();
            power_on_boot(&st);
            program_slot(1, "2.0.0", 0);
            flash.ops = 0;
            flash.cut_at = i;
            flash.cut_mode = modes[m];
            flash.seed = i * 17 + (uint32_t)m;
            flash.on_cut = cut;
            switch_or_cut();
            flash.cut_mode = FOTA_CUT_NONE;
            runs++;
            int s1 = power_on_boot(&st);
            if (s1 < 0)
                bricked++;
            /* whatever runs is a valid image; after a reboot it is stable */
            int s2 = power_on_boot(&st);
            CHECK(s2 == 0 || s2 == 1);
        }
    }
    CHECK_EQ_INT(bricked, 0);
    CHECK_EQ_INT(runs, 18);
}

int main(void)
{
    static const struct test_case tests[] = {
        TEST(test_factory_boot),
        TEST(test_new_image_boots_pending_then_confirmed),
        TEST(test_unconfirmed_image_rolls_back),
        TEST(test_explicit_rollback),
        TEST(test_corrupt_image_never_boots),
        TEST(test_no_valid_image_is_reported),
        TEST(test_set_next_refuses_running_slot),
        TEST(test_power_cut_during_switch),
    };
    return test_main("slots", tests, TEST_COUNT(tests));
}
