/* The slot writer (src/slot_writer.c) on the NOR flash simulator with the
 * ESP32 port's geometry (4 KiB sectors, 64 KiB blocks, 4-byte units): which
 * unit each erase takes (blocks where aligned and inside the image, sectors
 * elsewhere: a resume mid-block, the image's last partial block), one program
 * per chunk whatever the chunk sizes, and the bytes on flash. */
#include <string.h>

#include "flash.h"
#include "harness.h"
#include "internal/slot_writer.h"

#define SECTOR 4096u
#define BLOCK 65536u
#define SLOT_ADDR 0x10000u
#define SLOT_SIZE 0x40000u

static uint8_t mem[SLOT_ADDR + SLOT_SIZE];
static struct sim_flash flash;
static struct fota_slot_writer w;
static struct fota_report rep;

static void fresh(uint32_t image_size)
{
    const struct fota_slot slot = {SLOT_ADDR, SLOT_SIZE};
    sim_flash_open_buf(&flash, mem, sizeof mem, SECTOR, 4);
    flash.iface.block_size = BLOCK;
    memset(mem, 0, sizeof mem); /* programmed everywhere: only an erase makes room */
    fota_slot_writer_init(&w, &flash.iface, 1, &slot);
    w.end = image_size;
}

/* Erase until `upto` is erased; the sizes of the erases, in order. */
static int erases(uint32_t upto, uint32_t *sizes, int max)
{
    int n = 0;
    while (w.erased_to < upto && n < max) {
        uint32_t before = w.erased_to;
        CHECK_EQ_INT(fota_slot_writer_erase_next(&w, &rep), 0);
        sizes[n++] = w.erased_to - before;
    }
    return n;
}

static void test_blocks_then_sectors_at_the_end(void)
{
    uint32_t sizes[32];
    fresh(200 * 1024 + 100); /* three blocks, then 12 KiB + 100 bytes */
    int n = erases(204 * 1024, sizes, 32);
    CHECK_EQ_INT(n, 6);
    CHECK_EQ_INT(sizes[0], BLOCK);
    CHECK_EQ_INT(sizes[2], BLOCK);
    CHECK_EQ_INT(sizes[3], SECTOR);
    CHECK_EQ_INT(sizes[5], SECTOR);
    CHECK_EQ_INT(flash.erases, 6);
    CHECK(mem[SLOT_ADDR + 204 * 1024 - 1] == 0xFF && mem[SLOT_ADDR + 204 * 1024] == 0);
}

static void test_resume_mid_block_takes_sectors_to_the_boundary(void)
{
    uint32_t sizes[32];
    fresh(SLOT_SIZE);
    fota_slot_writer_restart(&w, 68 * 1024); /* a resume: 68 KiB on flash already */
    int n = erases(192 * 1024, sizes, 32);
    CHECK_EQ_INT(n, 16); /* 68..128 KiB in 15 sectors, then one block */
    CHECK_EQ_INT(sizes[0], SECTOR);
    CHECK_EQ_INT(sizes[14], SECTOR);
    CHECK_EQ_INT(sizes[15], BLOCK);
    CHECK(mem[SLOT_ADDR + 68 * 1024 - 1] == 0); /* what the resume keeps is untouched */
}

static void test_sectors_only_port(void)
{
    uint32_t sizes[32];
    fresh(SLOT_SIZE);
    flash.iface.block_size = 0;
    CHECK_EQ_INT(erases(BLOCK, sizes, 32), 16);
    CHECK_EQ_INT(sizes[15], SECTOR);
}

static void test_one_program_per_chunk(void)
{
    static const uint32_t chunks[] = {4064, 1001, 3, 2, 4064, 7, 1, 4000, 1000, 4064};
    static uint8_t image[32 * 1024], rx[FOTA_SLOT_WRITER_LEAD + 4064];
    uint32_t size = 0, at = 0;
    for (size_t i = 0; i < TEST_COUNT(chunks); i++)
        size += chunks[i];
    for (uint32_t i = 0; i < size; i++)
        image[i] = (uint8_t)(i * 7 + 3);
    fresh(size);
    for (size_t i = 0; i < TEST_COUNT(chunks); i++) {
        uint32_t before = flash.writes;
        memcpy(rx + FOTA_SLOT_WRITER_LEAD, image + at, chunks[i]);
        memset(rx, 0xA5, FOTA_SLOT_WRITER_LEAD); /* the lead is scratch */
        CHECK_EQ_INT(fota_slot_writer_write(&w, rx + FOTA_SLOT_WRITER_LEAD, chunks[i], &rep), 0);
        at += chunks[i];
        CHECK(flash.writes - before <= 1);
        CHECK_EQ_INT(w.written + w.tail_len, at);
    }
    CHECK(w.tail_len > 0); /* 18206 bytes: a partial unit is left */
    CHECK_EQ_INT(fota_slot_writer_flush(&w, &rep), 0);
    CHECK_MEM(mem + SLOT_ADDR, image, size);
    CHECK(mem[SLOT_ADDR + size] == 0xFF); /* the padding */
    CHECK_EQ_INT(w.erased_to, 20 * 1024); /* under a block: sectors, to the image's end */
    CHECK_EQ_INT(flash.erases, 5);
}

static const struct test_case tests[] = {
    TEST(test_blocks_then_sectors_at_the_end),
    TEST(test_resume_mid_block_takes_sectors_to_the_boundary),
    TEST(test_sectors_only_port),
    TEST(test_one_program_per_chunk),
};

int main(void)
{
    return test_main("slot_writer", tests, TEST_COUNT(tests));
}
