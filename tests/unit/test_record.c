/* The journaled record store: round trips, wrap-around across sectors, and a
 * power cut at every flash operation in every mode never loses the record. */
#include <setjmp.h>
#include <string.h>

#include "fota/error.h"
#include "fota/fota.h"
#include "flash.h"
#include "harness.h"

#define SECTOR 4096u
#define REGION (2 * SECTOR)

static uint8_t mem[REGION];
static struct sim_flash flash;
static jmp_buf power_on;

struct payload {
    uint32_t counter;
    uint8_t fill[60];
};

static void cut(void *ctx)
{
    (void)ctx;
    longjmp(power_on, 1);
}

static void make(struct payload *p, uint32_t n)
{
    p->counter = n;
    memset(p->fill, (int)(n & 0xFF), sizeof p->fill);
}

static void test_blank_region_has_no_record(void)
{
    struct fota_record_store s;
    struct payload p;
    sim_flash_open_buf(&flash, mem, REGION, SECTOR, 4);
    CHECK_EQ_INT(fota_record_init(&s, &flash.iface, 0, REGION, sizeof p), 0);
    CHECK_EQ_INT(fota_record_load(&s, &p), FOTA_ERR_STATE_CORRUPT);
}

static void test_rejects_bad_geometry(void)
{
    struct fota_record_store s;
    sim_flash_open_buf(&flash, mem, REGION, SECTOR, 4);
    CHECK_EQ_INT(fota_record_init(&s, &flash.iface, 0, SECTOR, 16), FOTA_ERR_INVALID_ARG);
    CHECK_EQ_INT(fota_record_init(&s, &flash.iface, 100, REGION, 16), FOTA_ERR_INVALID_ARG);
    CHECK_EQ_INT(fota_record_init(&s, &flash.iface, 0, REGION, FOTA_RECORD_DATA_MAX + 1),
                 FOTA_ERR_INVALID_ARG);
}

static void test_round_trip_and_wrap(void)
{
    struct fota_record_store s;
    struct payload p, q;
    sim_flash_open_buf(&flash, mem, REGION, SECTOR, 4);
    fota_record_init(&s, &flash.iface, 0, REGION, sizeof p);
    /* 80-byte slots: 51 per sector; 500 saves wrap the region several times */
    for (uint32_t i = 1; i <= 500; i++) {
        make(&p, i);
        CHECK_EQ_INT(fota_record_save(&s, &p), 0);
        if (i % 97 == 0) { /* a "reboot": reload from flash only */
            struct fota_record_store t;
            fota_record_init(&t, &flash.iface, 0, REGION, sizeof p);
            CHECK_EQ_INT(fota_record_load(&t, &q), 0);
            CHECK_EQ_INT(q.counter, i);
            s = t;
        }
    }
    CHECK_EQ_INT(fota_record_load(&s, &q), 0);
    CHECK_EQ_INT(q.counter, 500);
    CHECK(flash.erases > 8 && flash.erases < 20); /* erased only when moving sectors */
}

/* One save; 1 when the power was cut during it. setjmp lives here, away
 * from the caller's loop variables. */
static int save_or_cut(struct fota_record_store *s, const struct payload *p)
{
    if (setjmp(power_on) == 0) {
        fota_record_save(s, p);
        return 0;
    }
    return 1;
}

/* Cut power at operation i of a save, in each mode: afterwards the store
 * holds either the old or the new record, and the next save works. */
static void test_power_cut_every_operation(void)
{
    static const int modes[] = {FOTA_CUT_BEFORE, FOTA_CUT_TORN, FOTA_CUT_AFTER};
    uint32_t cuts = 0;
    for (size_t m = 0; m < 3; m++) {
        for (uint32_t start = 40; start < 130; start += 7) { /* positions across a wrap */
            for (uint32_t i = 1; i <= 3; i++) {
                struct fota_record_store s;
                struct payload p, q;
                sim_flash_open_buf(&flash, mem, REGION, SECTOR, 4);
                fota_record_init(&s, &flash.iface, 0, REGION, sizeof p);
                for (uint32_t n = 1; n <= start; n++) {
                    make(&p, n);
                    fota_record_save(&s, &p);
                }
                flash.ops = 0;
                flash.cut_at = i;
                flash.cut_mode = modes[m];
                flash.seed = start * 31 + i;
                flash.on_cut = cut;
                make(&p, start + 1);
                int was_cut = save_or_cut(&s, &p);
                cuts += (uint32_t)was_cut;
                flash.cut_mode = FOTA_CUT_NONE;
                /* power on: load from flash */
                struct fota_record_store t;
                fota_record_init(&t, &flash.iface, 0, REGION, sizeof p);
                CHECK_EQ_INT(fota_record_load(&t, &q), 0);
                CHECK(q.counter == start || q.counter == start + 1);
                if (!was_cut)
                    CHECK_EQ_INT(q.counter, start + 1);
                if (modes[m] == FOTA_CUT_BEFORE && was_cut)
                    CHECK_EQ_INT(q.counter, start);
                uint8_t expect = (uint8_t)(q.counter & 0xFF);
                CHECK(q.fill[0] == expect && q.fill[59] == expect);
                /* and the store keeps working */
                make(&p, 1000);
                CHECK_EQ_INT(fota_record_save(&t, &p), 0);
                CHECK_EQ_INT(fota_record_load(&t, &q), 0);
                CHECK_EQ_INT(q.counter, 1000);
            }
        }
    }
    CHECK(cuts >= 3 * 13); /* operation 1 exists in every save */
}

/* Issue 15 finding 3: a save that fails at the wrap (sector 0 erased, its
 * write refused) left the writer at offset 0, and the next save computed the
 * sector of the newest copy from offset 0 - 1: on a 17-sector region it
 * erased the last sector, which holds the newest copy; a cut after that erase
 * brought back a state a whole sector old. */
static void check_failed_save_at_wrap(uint32_t sectors)
{
    static uint8_t big[17 * SECTOR];
    uint32_t region = sectors * SECTOR, per = SECTOR / 80u; /* 80-byte slots */
    struct fota_record_store s, t;
    struct payload p, q;

    sim_flash_open_buf(&flash, big, region, SECTOR, 4);
    CHECK_EQ_INT(fota_record_init(&s, &flash.iface, 0, region, sizeof p), 0);
    uint32_t n = 0;
    while (n < sectors * per) { /* every slot of every sector used once */
        make(&p, ++n);
        CHECK_EQ_INT(fota_record_save(&s, &p), 0);
    }
    /* the next save wraps: its erase of sector 0 works, its write fails */
    flash.bad_addr = 0;
    flash.bad_len = SECTOR;
    flash.bad_mode = FOTA_BAD_WRITES;
    make(&p, n + 1);
    CHECK_EQ_INT(fota_record_save(&s, &p), FOTA_ERR_FLASH_WRITE);
    flash.bad_len = 0;
    /* the save after it: power goes right after its first flash operation */
    flash.ops = 0;
    flash.cut_at = 1;
    flash.cut_mode = FOTA_CUT_AFTER;
    flash.on_cut = cut;
    make(&p, n + 2);
    CHECK_EQ_INT(save_or_cut(&s, &p), 1);
    flash.cut_mode = FOTA_CUT_NONE;
    fota_record_init(&t, &flash.iface, 0, region, sizeof p);
    CHECK_EQ_INT(fota_record_load(&t, &q), 0);
    CHECK_EQ_INT(q.counter, n); /* the newest copy that was saved */
    if (q.counter != n)
        printf("  %u sectors: loaded %u, newest saved %u\n", (unsigned)sectors,
               (unsigned)q.counter, (unsigned)n);
    /* and without a cut the store carries on */
    make(&p, n + 3);
    CHECK_EQ_INT(fota_record_save(&t, &p), 0);
    fota_record_init(&s, &flash.iface, 0, region, sizeof p);
    CHECK_EQ_INT(fota_record_load(&s, &q), 0);
    CHECK_EQ_INT(q.counter, n + 3);
}

static void test_failed_save_at_wrap(void)
{
    check_failed_save_at_wrap(2);
    check_failed_save_at_wrap(3);
    check_failed_save_at_wrap(17);
}

/* A save whose write lands but whose read-back fails leaves a valid copy;
 * the next save must outrank it, not repeat its sequence. */
static uint32_t fail_read_at; /* 1-based read to fail, counted from when it is set */
static int (*real_read)(void *ctx, uint32_t addr, void *buf, uint32_t len);
static int flaky_read(void *ctx, uint32_t addr, void *buf, uint32_t len)
{
    if (fail_read_at && --fail_read_at == 0)
        return FOTA_ERR_FLASH_READ;
    return real_read(ctx, addr, buf, len);
}

static void test_failed_verify_does_not_repeat_sequence(void)
{
    struct fota_record_store s, t;
    struct payload p, q;
    sim_flash_open_buf(&flash, mem, REGION, SECTOR, 4);
    real_read = flash.iface.read;
    flash.iface.read = flaky_read;
    fota_record_init(&s, &flash.iface, 0, REGION, sizeof p);
    for (uint32_t n = 1; n <= 5; n++) {
        make(&p, n);
        CHECK_EQ_INT(fota_record_save(&s, &p), 0);
    }
    fail_read_at = 2; /* the next save reads the slot (blank?), writes, reads it back */
    make(&p, 6);
    CHECK_EQ_INT(fota_record_save(&s, &p), FOTA_ERR_FLASH_READ);
    make(&p, 7);
    CHECK_EQ_INT(fota_record_save(&s, &p), 0);
    fota_record_init(&t, &flash.iface, 0, REGION, sizeof p);
    CHECK_EQ_INT(fota_record_load(&t, &q), 0);
    CHECK_EQ_INT(q.counter, 7);
    flash.iface.read = real_read;
}

static void test_crc32_vector(void)
{
    CHECK_EQ_INT(fota_crc32(0, "123456789", 9), 0xCBF43926u);
    CHECK_EQ_INT(fota_crc32(fota_crc32(0, "1234", 4), "56789", 5), 0xCBF43926u);
}

int main(void)
{
    static const struct test_case tests[] = {
        TEST(test_blank_region_has_no_record), TEST(test_rejects_bad_geometry),
        TEST(test_round_trip_and_wrap), TEST(test_power_cut_every_operation),
        TEST(test_crc32_vector), TEST(test_failed_save_at_wrap),
        TEST(test_failed_verify_does_not_repeat_sequence),
    };
    return test_main("record", tests, TEST_COUNT(tests));
}
