/*
 * Activation, confirm and rollback through the public API, with the
 * simulated ESP-IDF bootloader on the RAM flash and the update served by
 * the in-memory origin: the new slot boots once on trial, fota_confirm()
 * makes it valid and raises the anti-rollback floor; fota_rollback() or a
 * reset before the confirm brings the old image back and the version is
 * never installed again. Runs on the emulated targets too.
 */
#include <stdint.h>
#include <string.h>

#include "fota/fota.h"
#include "fota_crypto_backends.h"
#include "harness.h"
#include "test_agent.h"

static struct agent_world w;

/* 1.0.0 running; 2.0.0 (security counter 1) installed and activated. */
static void updated(void)
{
    CHECK_EQ_INT(aw_fresh(&w), 0);
    aw_release(&w, "2.0.0", 1, 2);
    aw_serve(&w);
    CHECK_EQ_INT(aw_check(&w), FOTA_UPDATE_READY);
    CHECK_EQ_INT(w.origin.served[MEM_ORIGIN_200], 2);
}

static void test_activation_selects_the_slot_for_one_trial_boot(void)
{
    updated();
    CHECK_EQ_INT(w.boot.data.active, 1);
    CHECK_EQ_INT(w.boot.data.state[1], FOTA_IMG_NEW);
    CHECK_EQ_INT(aw_power_on(&w), 0);
    CHECK_EQ_INT(w.boot.running, 1);
    CHECK_EQ_STR(w.running_version, "2.0.0");
    CHECK_EQ_INT(fota_running_state(&w.agent), FOTA_IMG_PENDING_VERIFY);
    /* no new check before the application has confirmed itself */
    CHECK_EQ_INT(fota_start(&w.agent), FOTA_ERR_PENDING_CONFIRM);
    CHECK_EQ_INT(fota_last_error(&w.agent), FOTA_ERR_PENDING_CONFIRM);
    CHECK_EQ_INT(fota_persist_state(&w.agent)->pending_version, 2000000);
}

static void test_confirm_raises_the_floor(void)
{
    updated();
    CHECK_EQ_INT(aw_power_on(&w), 0);
    size_t before = aw_count_events(&w, FOTA_EV_CONFIRMED);
    CHECK_EQ_INT(fota_confirm(&w.agent), 0);
    CHECK_EQ_INT(aw_count_events(&w, FOTA_EV_CONFIRMED), before + 1);
    CHECK_EQ_INT(fota_running_state(&w.agent), FOTA_IMG_VALID);
    const struct fota_persist *p = fota_persist_state(&w.agent);
    CHECK_EQ_INT(p->security_floor, 1);
    CHECK_EQ_INT(p->pending_version, 0);
    CHECK_EQ_INT(w.boot.data.state[1], FOTA_IMG_VALID);
    CHECK_EQ_INT(fota_confirm(&w.agent), 0); /* harmless again */

    /* it stays: the next power-on boots 2.0.0, valid, floor kept */
    CHECK_EQ_INT(aw_power_on(&w), 0);
    CHECK_EQ_INT(w.boot.running, 1);
    CHECK_EQ_INT(fota_running_state(&w.agent), FOTA_IMG_VALID);
    CHECK_EQ_INT(fota_persist_state(&w.agent)->security_floor, 1);
    /* the same manifest now offers nothing new */
    CHECK_EQ_INT(aw_check(&w), FOTA_NO_UPDATE);
    /* and a newer version with a counter below the floor is refused */
    aw_release(&w, "3.0.0", 0, 3);
    aw_serve(&w);
    CHECK_EQ_INT(aw_check(&w), FOTA_ERR_ROLLBACK);
}

/* The application finds itself unhealthy and rolls back. */
static void test_rollback_by_the_application(void)
{
    updated();
    CHECK_EQ_INT(aw_power_on(&w), 0);
    CHECK_EQ_INT(fota_rollback(&w.agent), 0);
    CHECK_EQ_INT(fota_running_state(&w.agent), FOTA_IMG_ABORTED);
    CHECK_EQ_INT(w.boot.data.state[1], FOTA_IMG_ABORTED);
    size_t before = aw_count_events(&w, FOTA_EV_ROLLED_BACK);
    CHECK_EQ_INT(aw_power_on(&w), 0);
    CHECK_EQ_INT(w.boot.running, 0);
    CHECK_EQ_STR(w.running_version, "1.0.0");
    CHECK_EQ_INT(aw_count_events(&w, FOTA_EV_ROLLED_BACK), before + 1);
    const struct fota_persist *p = fota_persist_state(&w.agent);
    CHECK_EQ_INT(p->rejected_version, 2000000);
    CHECK_EQ_INT(p->security_floor, 0);
    CHECK_EQ_INT(p->pending_version, 0);
    /* the rolled-back version is not installed again */
    CHECK_EQ_INT(aw_check(&w), FOTA_ERR_REJECTED_VERSION);
    CHECK_EQ_INT(w.boot.data.active, 0);
}

/* The new image resets before it confirms: the bootloader rolls back. */
static void test_rollback_by_the_bootloader(void)
{
    updated();
    CHECK_EQ_INT(aw_power_on(&w), 0); /* trial boot, no confirm */
    CHECK_EQ_INT(w.boot.running, 1);
    size_t before = aw_count_events(&w, FOTA_EV_ROLLED_BACK);
    CHECK_EQ_INT(aw_power_on(&w), 0);
    CHECK_EQ_INT(w.boot.running, 0);
    CHECK_EQ_INT(w.boot.data.state[1], FOTA_IMG_ABORTED);
    CHECK_EQ_INT(aw_count_events(&w, FOTA_EV_ROLLED_BACK), before + 1);
    CHECK_EQ_INT(fota_persist_state(&w.agent)->rejected_version, 2000000);
    CHECK_EQ_INT(aw_check(&w), FOTA_ERR_REJECTED_VERSION);
    /* a newer release is taken again, into the same slot */
    aw_release(&w, "2.1.0", 1, 3);
    aw_serve(&w);
    mem_origin_put(&w.origin, "/demo/firmware/demo-2.1.0.bin", w.image, w.image_len, NULL);
    CHECK_EQ_INT(aw_check(&w), FOTA_UPDATE_READY);
    CHECK_EQ_INT(aw_power_on(&w), 0);
    CHECK_EQ_STR(w.running_version, "2.1.0");
    CHECK_EQ_INT(fota_confirm(&w.agent), 0);
    CHECK_EQ_INT(fota_persist_state(&w.agent)->security_floor, 1);
}

static const struct test_case tests[] = {
    TEST(test_activation_selects_the_slot_for_one_trial_boot),
    TEST(test_confirm_raises_the_floor),
    TEST(test_rollback_by_the_application),
    TEST(test_rollback_by_the_bootloader),
};

int main(void)
{
    return test_main("agent_activate", tests, TEST_COUNT(tests));
}
