/* The record store under power cuts and flash failures, on regions of 2, 3
 * and 17 sectors (the ESP-IDF and Arduino-ESP32 ports size the state region
 * from its partition, so any count occurs).
 *
 * A chain of saves runs twice around each region. Before each save the
 * flash and the store are snapshotted; from the snapshot the save is
 * repeated with the power cut before, in the middle of and after each of its
 * flash operations, and with each operation failing (an error, nothing
 * changed) followed by the next save cut at each of its operations. After
 * every cut the device "powers on": a fresh store loads, and must find the
 * record of the last completed save or of the one in progress, never an
 * older one; then it must save and load again. Prints how many cut points
 * each region size had. */
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include "fota/error.h"
#include "fota/fota.h"
#include "flash.h"
#include "harness.h"

#define SECTOR 4096u
#define SECTORS_MAX 17u
#define LEN_MAX 192u

static uint8_t mem[SECTORS_MAX * SECTOR], snapshot[SECTORS_MAX * SECTOR];
static struct sim_flash flash;
static jmp_buf power_on;

/* The store sees the simulator through this wrapper, which can make one
 * write or erase fail (counted like the simulator's cut points). */
static struct fota_flash faulty;
static uint32_t fault_ops, fail_at;

static int faulty_read(void *ctx, uint32_t addr, void *buf, uint32_t len)
{
    (void)ctx;
    return flash.iface.read(flash.iface.ctx, addr, buf, len);
}

static int faulty_write(void *ctx, uint32_t addr, const void *buf, uint32_t len)
{
    (void)ctx;
    if (++fault_ops == fail_at)
        return FOTA_ERR_FLASH_WRITE;
    return flash.iface.write(flash.iface.ctx, addr, buf, len);
}

static int faulty_erase(void *ctx, uint32_t addr, uint32_t len)
{
    (void)ctx;
    if (++fault_ops == fail_at)
        return FOTA_ERR_FLASH_ERASE;
    return flash.iface.erase(flash.iface.ctx, addr, len);
}

static void cut(void *ctx)
{
    (void)ctx;
    longjmp(power_on, 1);
}

struct region {
    uint32_t sectors, data_len;
};

static struct region g;
static uint32_t cut_points, fault_points;

/* The payload of save number n: n, then bytes derived from it. */
static void make(uint8_t *p, uint32_t n)
{
    memcpy(p, &n, sizeof n);
    for (uint32_t i = sizeof n; i < g.data_len; i++)
        p[i] = (uint8_t)(n * 7u + i);
}

static int payload_is(const uint8_t *p, uint32_t n)
{
    uint8_t want[LEN_MAX];
    make(want, n);
    return memcmp(p, want, g.data_len) == 0;
}

static uint32_t counter_of(const uint8_t *p) /* for the failure message */
{
    uint32_t n;
    memcpy(&n, p, sizeof n);
    return n;
}

/* One save; 1 when the power was cut during it. */
static int save_or_cut(struct fota_record_store *s, const uint8_t *p, int *result)
{
    if (setjmp(power_on) == 0) {
        *result = fota_record_save(s, p);
        return 0;
    }
    return 1;
}

static void arm_cut(uint32_t at, int mode, uint32_t seed)
{
    flash.ops = 0;
    flash.cut_at = at;
    flash.cut_mode = mode;
    flash.seed = seed;
    flash.on_cut = cut;
}

/* Power on after a cut: the record is one of `ok` (count n_ok; 0 stands for
 * "no record yet"), and the store saves and loads again. */
static void power_on_check(const uint32_t *ok, size_t n_ok, uint32_t context)
{
    struct fota_record_store t;
    uint8_t q[LEN_MAX], p[LEN_MAX];
    int found = 0;
    flash.cut_mode = FOTA_CUT_NONE;
    fail_at = 0;
    CHECK_EQ_INT(fota_record_init(&t, &faulty, 0, g.sectors * SECTOR, g.data_len), 0);
    int r = fota_record_load(&t, q);
    for (size_t i = 0; i < n_ok; i++)
        if (ok[i] == 0 ? r == FOTA_ERR_STATE_CORRUPT : r == 0 && payload_is(q, ok[i]))
            found = 1;
    if (r != 0)
        memset(q, 0, sizeof q);
    CHECK(found);
    if (!found)
        printf("  %u sectors, %u-byte record, at save %u: loaded %u, expected %u or %u\n",
               (unsigned)g.sectors, (unsigned)g.data_len, (unsigned)context,
               (unsigned)counter_of(q), (unsigned)ok[0], (unsigned)ok[n_ok - 1]);
    make(p, 900000u + context);
    CHECK_EQ_INT(fota_record_save(&t, p), 0);
    fota_record_init(&t, &faulty, 0, g.sectors * SECTOR, g.data_len);
    CHECK_EQ_INT(fota_record_load(&t, q), 0);
    CHECK(payload_is(q, 900000u + context));
}

static void restore(struct fota_record_store *s, const struct fota_record_store *saved)
{
    memcpy(mem, snapshot, g.sectors * SECTOR);
    *s = *saved;
    fault_ops = 0;
    fail_at = 0;
    flash.cut_mode = FOTA_CUT_NONE;
}

/* Operations save number n makes from the snapshot. */
static uint32_t ops_of_save(struct fota_record_store *s, const struct fota_record_store *saved,
                            uint32_t n)
{
    uint8_t p[LEN_MAX];
    restore(s, saved);
    make(p, n);
    CHECK_EQ_INT(fota_record_save(s, p), 0);
    return fault_ops;
}

static void run_region(uint32_t sectors, uint32_t data_len)
{
    static const int modes[] = {FOTA_CUT_BEFORE, FOTA_CUT_TORN, FOTA_CUT_AFTER};
    struct fota_record_store s, saved, after_fault;
    uint8_t p[LEN_MAX];
    uint32_t slot = (data_len + 16u + 3u) / 4u * 4u;
    uint32_t per = SECTOR / slot, saves = 2u * sectors * per + 3u; /* twice around, and on */
    uint32_t cuts_before = cut_points, faults_before = fault_points;

    g.sectors = sectors;
    g.data_len = data_len;
    sim_flash_open_buf(&flash, mem, sectors * SECTOR, SECTOR, 4);
    faulty = flash.iface;
    faulty.ctx = NULL;
    faulty.read = faulty_read;
    faulty.write = faulty_write;
    faulty.erase = faulty_erase;
    CHECK_EQ_INT(fota_record_init(&s, &faulty, 0, sectors * SECTOR, data_len), 0);

    for (uint32_t n = 1; n <= saves; n++) {
        int result = 0;
        memcpy(snapshot, mem, sectors * SECTOR);
        saved = s;
        uint32_t ops = ops_of_save(&s, &saved, n);
        /* All saves on small regions; on large ones the saves around each
         * move to another sector and every fourth in between (the others
         * repeat them: the same operations at another offset). */
        uint32_t in_sector = (n - 1) % per;
        int tested = sectors <= 3 || n <= 2 || in_sector <= 1 || in_sector + 2 >= per ||
                     n % 4 == 0;

        for (uint32_t k = 1; tested && k <= ops; k++) {
            /* a cut at operation k of save n */
            for (size_t m = 0; m < 3; m++) {
                restore(&s, &saved);
                arm_cut(k, modes[m], n * 131u + k * 7u + (uint32_t)m);
                make(p, n);
                int was_cut = save_or_cut(&s, p, &result);
                CHECK(was_cut);
                uint32_t ok[2] = {n - 1, n};
                power_on_check(ok, 2, n);
                cut_points++;
            }
            /* operation k fails; the device carries on with save n+1, which
             * is cut at each of its operations */
            restore(&s, &saved);
            fail_at = k;
            make(p, n);
            CHECK(fota_record_save(&s, p) < 0);
            fail_at = 0;
            after_fault = s;
            static uint8_t faulted[SECTORS_MAX * SECTOR];
            memcpy(faulted, mem, sectors * SECTOR);
            uint32_t next_ops = 0;
            {
                fault_ops = 0;
                make(p, n + 1);
                CHECK_EQ_INT(fota_record_save(&s, p), 0);
                next_ops = fault_ops;
            }
            for (uint32_t j = 1; j <= next_ops; j++) {
                for (size_t m = 0; m < 3; m++) {
                    memcpy(mem, faulted, sectors * SECTOR);
                    s = after_fault;
                    fault_ops = 0;
                    arm_cut(j, modes[m], n * 17u + j * 3u + (uint32_t)m);
                    make(p, n + 1);
                    CHECK(save_or_cut(&s, p, &result));
                    uint32_t ok[2] = {n - 1, n + 1};
                    power_on_check(ok, 2, n);
                    fault_points++;
                }
            }
        }
        /* the chain goes on from the completed save n */
        restore(&s, &saved);
        make(p, n);
        CHECK_EQ_INT(fota_record_save(&s, p), 0);
    }
    printf("  %2u sectors, %3u-byte record (%u saves): %u cut points, %u fault+cut points\n",
           (unsigned)sectors, (unsigned)data_len, (unsigned)saves,
           (unsigned)(cut_points - cuts_before), (unsigned)(fault_points - faults_before));
}

static void test_regions(void)
{
    static const uint32_t sector_counts[] = {2, 3, 17};
    /* the agent state: format 3 (192 bytes) and the raw layout 2 (76) */
    static const uint32_t lengths[] = {192, 76};
    for (size_t i = 0; i < TEST_COUNT(sector_counts); i++)
        for (size_t j = 0; j < TEST_COUNT(lengths); j++)
            run_region(sector_counts[i], lengths[j]);
    printf("  total: %u cut points, %u fault+cut points\n", (unsigned)cut_points,
           (unsigned)fault_points);
    CHECK(cut_points > 0 && fault_points > 0);
}

int main(void)
{
    static const struct test_case tests[] = {TEST(test_regions)};
    return test_main("record_powercut", tests, TEST_COUNT(tests));
}
