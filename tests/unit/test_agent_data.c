/*
 * Data partitions (docs/data-partitions.md), the agent's side of a copy a
 * power cut interrupted: the busy mark in the agent state makes
 * fota_data_ready() 0 for that label only; fota_data_finish() copies on from
 * the saved sector, from the image staged in the inactive slot, compares and
 * clears the mark, with no network; fota_start() does the same first. The
 * whole update with a data image is tests/e2e/test_data_partition.sh, every
 * power cut in it tests/powercut (suite data).
 */
#include <string.h>

#include "fota/persist.h"
#include "harness.h"
#include "test_agent.h"

#define PART_ADDR 0x8000u /* between the agent state and slot 0 */
#define PART_SIZE 0x8000u
#define DATA_LEN 20000u

static struct agent_world w;
static uint8_t old_data[PART_SIZE], new_data[DATA_LEN];

/* A device whose copy of new_data into the partition stopped after
 * `copied` bytes: the image staged whole in slot 1, the mark saved. */
static void interrupted_copy(uint32_t copied)
{
    struct fota_record_store rs;
    struct fota_persist p;
    int source;
    aw_setup(&w, &fota_crypto_bearssl);
    for (uint32_t i = 0; i < PART_SIZE; i++)
        old_data[i] = (uint8_t)(i * 7u + 1u);
    for (uint32_t i = 0; i < DATA_LEN; i++)
        new_data[i] = (uint8_t)(i * 13u + 5u);
    sim_flash_load(&w.flash, PART_ADDR, old_data, PART_SIZE);
    sim_flash_load(&w.flash, PART_ADDR, new_data, copied);
    sim_flash_load(&w.flash, w.layout.slot_addr[1], new_data, DATA_LEN);
    fota_record_init(&rs, &w.flash.iface, w.layout.state_addr, w.layout.state_size,
                     FOTA_PERSIST_RECORD_LEN);
    CHECK_EQ_INT(fota_persist_load(&rs, &p, 0, &source), 0);
    p.data_busy = 1;
    p.data_slot = 1;
    p.data_label_crc = fota_crc32(0, "storage", 7);
    p.data_addr = PART_ADDR;
    p.data_size = DATA_LEN;
    p.data_copied = copied;
    CHECK_EQ_INT(fota_persist_save(&rs, &p), 0);
    CHECK_EQ_INT(aw_power_on(&w), 0);
}

static int partition_holds_new(void)
{
    static uint8_t buf[DATA_LEN];
    w.flash.iface.read(w.flash.iface.ctx, PART_ADDR, buf, DATA_LEN);
    return memcmp(buf, new_data, DATA_LEN) == 0;
}

static void test_finish_copies_on_and_clears_the_mark(void)
{
    interrupted_copy(8192);
    CHECK_EQ_INT(fota_data_ready(&w.agent, "storage"), 0);
    CHECK_EQ_INT(fota_data_ready(&w.agent, "spiffs"), 1); /* another partition */
    CHECK(!partition_holds_new());
    CHECK_EQ_INT(fota_data_finish(&w.agent), 0);
    CHECK(partition_holds_new());
    CHECK_EQ_INT(fota_data_ready(&w.agent, "storage"), 1);
    CHECK_EQ_INT(aw_count_events(&w, FOTA_EV_DATA_READY), 1);
    CHECK_EQ_INT(w.slot_erases[0] + w.slot_erases[1], 0); /* the staged image is read only */
    /* the mark is cleared on flash too */
    CHECK_EQ_INT(aw_power_on(&w), 0);
    CHECK_EQ_INT(fota_persist_state(&w.agent)->data_busy, 0);
    CHECK_EQ_INT(fota_data_ready(&w.agent, "storage"), 1);
    CHECK_EQ_INT(fota_data_finish(&w.agent), 0); /* nothing to do */
    CHECK_EQ_INT(aw_count_events(&w, FOTA_EV_DATA_READY), 1);
}

/* A mark from before the first sector: the whole image is copied. */
static void test_finish_from_the_start(void)
{
    interrupted_copy(0);
    CHECK_EQ_INT(fota_data_finish(&w.agent), 0);
    CHECK(partition_holds_new());
}

/* A check starts with the copy, before any request: the network is down
 * here, and the copy completes all the same. */
static void test_start_finishes_the_copy_first(void)
{
    interrupted_copy(4096);
    int r = aw_check(&w);
    CHECK(r < 0); /* no server: the check itself fails */
    CHECK(partition_holds_new());
    CHECK_EQ_INT(fota_data_ready(&w.agent, "storage"), 1);
    CHECK_EQ_INT(aw_count_events(&w, FOTA_EV_DATA_READY), 1);
}

/* A mark that names the running slot as the staging slot is not trusted:
 * the copy would read the running application. */
static void test_mark_naming_the_running_slot_is_refused(void)
{
    struct fota_record_store rs;
    struct fota_persist p;
    int source;
    interrupted_copy(0);
    fota_record_init(&rs, &w.flash.iface, w.layout.state_addr, w.layout.state_size,
                     FOTA_PERSIST_RECORD_LEN);
    CHECK_EQ_INT(fota_persist_load(&rs, &p, 0, &source), 0);
    p.data_slot = 0;
    CHECK_EQ_INT(fota_persist_save(&rs, &p), 0);
    CHECK_EQ_INT(aw_power_on(&w), 0);
    CHECK_EQ_INT(fota_data_finish(&w.agent), FOTA_ERR_STATE_CORRUPT);
    CHECK(strstr(fota_last_message(&w.agent), "not in a usable slot") != NULL);
    CHECK_EQ_INT(fota_data_ready(&w.agent, "storage"), 0); /* never mounted half written */
}

static const struct test_case tests[] = {
    TEST(test_finish_copies_on_and_clears_the_mark),
    TEST(test_finish_from_the_start),
    TEST(test_start_finishes_the_copy_first),
    TEST(test_mark_naming_the_running_slot_is_refused),
};

int main(void)
{
    return test_main("agent_data", tests, TEST_COUNT(tests));
}
