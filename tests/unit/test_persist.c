/* The agent's persistent state codec (src/persist.c): format 3 field by
 * field, migration from the raw layouts 1 and 2 (issue 15 finding 6), a
 * later firmware's added field, corrupted records, and the floor that never
 * goes below the build-time minimum. */
#include <setjmp.h>
#include <string.h>

#include "fota/error.h"
#include "fota/fota.h"
#include "fota/persist.h"
#include "flash.h"
#include "harness.h"

#define SECTOR 4096u
#define REGION (3 * SECTOR)

static uint8_t mem[REGION];
static struct sim_flash flash;
static jmp_buf power_on;

static void cut(void *ctx)
{
    (void)ctx;
    longjmp(power_on, 1);
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* A state with every field set to something recognisable. */
static void sample(struct fota_persist *p)
{
    fota_persist_defaults(p, 0);
    p->last_sequence = 748;
    p->security_floor = 3;
    p->rejected_version = 2001000;
    p->pending_version = 3000000;
    p->pending_security = 4;
    p->pending_slot = 1;
    p->pending_prev_state = FOTA_IMG_ABORTED;
    for (size_t i = 0; i < sizeof p->dl_sha256; i++)
        p->dl_sha256[i] = (uint8_t)(0xA0 + i);
    p->dl_size = 262144;
    p->dl_offset = 65536;
    p->dl_slot = 1;
    p->manifest_url_crc = 0x12345678u;
    strcpy(p->manifest_etag, "\"9f86d081884c7d659a2feaa0c55ad015\"");
}

static int same_state(const struct fota_persist *a, const struct fota_persist *b)
{
    return a->last_sequence == b->last_sequence && a->security_floor == b->security_floor &&
           a->rejected_version == b->rejected_version &&
           a->pending_version == b->pending_version &&
           a->pending_security == b->pending_security && a->pending_slot == b->pending_slot &&
           a->pending_prev_state == b->pending_prev_state &&
           memcmp(a->dl_sha256, b->dl_sha256, sizeof a->dl_sha256) == 0 &&
           a->dl_size == b->dl_size && a->dl_offset == b->dl_offset && a->dl_slot == b->dl_slot &&
           a->manifest_url_crc == b->manifest_url_crc &&
           strcmp(a->manifest_etag, b->manifest_etag) == 0;
}

/* The raw layouts the old agents stored: the words of struct fota_persist
 * as a little-endian target wrote them. Layout 2 (commit 9475ffb: 19 words,
 * 76 bytes); layout 1 (commit 725bb9e: no pending_prev_state, 72 bytes).
 * Returns the length. */
static uint32_t raw_layout(uint32_t layout, const struct fota_persist *p, uint8_t out[76])
{
    uint8_t *w = out;
    put_u32(w, layout);
    put_u32(w + 4, p->last_sequence);
    put_u32(w + 8, p->security_floor);
    put_u32(w + 12, p->pending_version);
    put_u32(w + 16, p->pending_security);
    put_u32(w + 20, (uint32_t)p->pending_slot);
    w += 24;
    if (layout >= 2) {
        put_u32(w, (uint32_t)p->pending_prev_state);
        w += 4;
    }
    put_u32(w, p->rejected_version);
    memcpy(w + 4, p->dl_sha256, 32);
    put_u32(w + 36, p->dl_size);
    put_u32(w + 40, p->dl_offset);
    put_u32(w + 44, (uint32_t)p->dl_slot);
    return (uint32_t)(w + 48 - out);
}

/* Save `count` copies of a raw layout the way the old agent did: the bytes
 * of the struct as a record of their own length. */
static void old_agent_saves(uint32_t len, const uint8_t *raw, uint32_t count)
{
    struct fota_record_store s;
    CHECK_EQ_INT(fota_record_init(&s, &flash.iface, 0, REGION, len), 0);
    fota_record_load(&s, (uint8_t[256]){0});
    for (uint32_t i = 0; i < count; i++)
        CHECK_EQ_INT(fota_record_save(&s, raw), 0);
}

static int load(struct fota_persist *p, uint32_t floor_min, int *source)
{
    static struct fota_record_store s;
    CHECK_EQ_INT(fota_record_init(&s, &flash.iface, 0, REGION, FOTA_PERSIST_RECORD_LEN), 0);
    return fota_persist_load(&s, p, floor_min, source);
}

static void test_round_trip(void)
{
    struct fota_persist a, b;
    uint8_t rec[FOTA_PERSIST_RECORD_LEN];
    sample(&a);
    fota_persist_encode(&a, rec);
    CHECK_EQ_INT(rec[0], 3); /* the format, little-endian */
    CHECK_EQ_INT(rec[8], 748 & 0xFF);
    CHECK_EQ_INT(rec[9], 748 >> 8);
    CHECK_EQ_INT(fota_persist_decode(rec, sizeof rec, &b), 0);
    CHECK(same_state(&a, &b));
    /* the defaults too, with negative slots */
    fota_persist_defaults(&a, 7);
    fota_persist_encode(&a, rec);
    CHECK_EQ_INT(fota_persist_decode(rec, sizeof rec, &b), 0);
    CHECK(same_state(&a, &b));
    CHECK_EQ_INT(b.pending_slot, -1);
    CHECK_EQ_INT(b.security_floor, 7);
}

/* One save; 1 when the power was cut during it (setjmp away from the
 * caller's loop variables). */
static int save_or_cut(struct fota_record_store *s, const struct fota_persist *p)
{
    if (setjmp(power_on) == 0) {
        CHECK_EQ_INT(fota_persist_save(s, p), 0);
        return 0;
    }
    return 1;
}

/* Today's main stores layout 2; the first boot of this firmware migrates it
 * and keeps every field, and a power cut at any flash operation of the
 * first save changes nothing. */
static void test_migrate_layout2(void)
{
    static const int modes[] = {FOTA_CUT_BEFORE, FOTA_CUT_TORN, FOTA_CUT_AFTER};
    struct fota_persist a, b;
    uint8_t raw[76];
    int source = -1;
    uint32_t cuts = 0;

    sample(&a);
    a.manifest_url_crc = 0;
    a.manifest_etag[0] = '\0'; /* layout 2 had neither */
    raw_layout(2, &a, raw);
    for (size_t m = 0; m < 3; m++) {
        for (uint32_t k = 1; k <= 2; k++) {
            static struct fota_record_store s;
            sim_flash_open_buf(&flash, mem, REGION, SECTOR, 4);
            old_agent_saves(76, raw, 3); /* all in sector 0, where a fresh store starts */
            CHECK_EQ_INT(fota_record_init(&s, &flash.iface, 0, REGION, FOTA_PERSIST_RECORD_LEN),
                         0);
            CHECK_EQ_INT(fota_persist_load(&s, &b, 0, &source), 0);
            CHECK_EQ_INT(source, FOTA_PERSIST_MIGRATED_2);
            CHECK(same_state(&a, &b));
            /* the first save, cut at its operation k */
            flash.ops = 0;
            flash.cut_at = k;
            flash.cut_mode = modes[m];
            flash.on_cut = cut;
            int was_cut = save_or_cut(&s, &b);
            flash.cut_mode = FOTA_CUT_NONE;
            CHECK_EQ_INT(load(&b, 0, &source), 0);
            if (was_cut)
                CHECK(source == FOTA_PERSIST_MIGRATED_2 || source == FOTA_PERSIST_LOADED);
            else
                CHECK_EQ_INT(source, FOTA_PERSIST_LOADED);
            cuts += (uint32_t)was_cut;
            CHECK(same_state(&a, &b));
        }
    }
    CHECK(cuts >= 3);
}

static void test_migrate_layout1(void)
{
    struct fota_persist a, b;
    uint8_t raw[76];
    int source = -1;
    sample(&a);
    a.pending_prev_state = -1; /* layout 1 did not know it */
    a.manifest_url_crc = 0;
    a.manifest_etag[0] = '\0';
    raw_layout(1, &a, raw);
    sim_flash_open_buf(&flash, mem, REGION, SECTOR, 4);
    old_agent_saves(72, raw, 3);
    CHECK_EQ_INT(load(&b, 0, &source), 0);
    CHECK_EQ_INT(source, FOTA_PERSIST_MIGRATED_1);
    CHECK(same_state(&a, &b));
}

/* A device that ran layout 1, then layout 2 firmware (which "started fresh"
 * at sequence 0 and floor 0): the layout-1 copies still in flash raise what
 * the layout-2 state lost. And a format-3 record is raised by older copies
 * too (a downgrade to a raw-layout firmware and back). */
static void test_never_lower_across_layouts(void)
{
    struct fota_persist one, two, b;
    uint8_t raw1[76], raw2[76], rec[FOTA_PERSIST_RECORD_LEN];
    int source = -1;

    sample(&one);
    one.last_sequence = 900;
    one.security_floor = 5;
    one.rejected_version = 4000000;
    fota_persist_defaults(&two, 0);
    two.last_sequence = 2;
    raw_layout(1, &one, raw1);
    raw_layout(2, &two, raw2);
    sim_flash_open_buf(&flash, mem, REGION, SECTOR, 4);
    {
        /* layout 1 copies in sector 0 and 1, then layout 2's fresh start,
         * which erased sector 0 (where the store starts over) */
        struct fota_record_store s;
        fota_record_init(&s, &flash.iface, SECTOR, 2 * SECTOR, 72);
        for (int i = 0; i < 60; i++)
            fota_record_save(&s, raw1);
        fota_record_init(&s, &flash.iface, 0, REGION, 76);
        CHECK_EQ_INT(fota_record_load(&s, raw2), FOTA_ERR_STATE_CORRUPT);
        raw_layout(2, &two, raw2);
        CHECK_EQ_INT(fota_record_save(&s, raw2), 0);
    }
    CHECK_EQ_INT(load(&b, 0, &source), 0);
    CHECK_EQ_INT(source, FOTA_PERSIST_MIGRATED_2);
    CHECK_EQ_INT(b.last_sequence, 900);
    CHECK_EQ_INT(b.security_floor, 5);
    CHECK_EQ_INT(b.rejected_version, 4000000);
    CHECK_EQ_INT(b.pending_version, 0); /* the rest from the newest layout */

    /* a format-3 record below an older copy's values */
    fota_persist_defaults(&b, 0);
    b.last_sequence = 10;
    b.security_floor = 1;
    fota_persist_encode(&b, rec);
    {
        struct fota_record_store s;
        fota_record_init(&s, &flash.iface, 0, REGION, FOTA_PERSIST_RECORD_LEN);
        fota_record_load(&s, rec);
        fota_persist_encode(&b, rec);
        CHECK_EQ_INT(fota_record_save(&s, rec), 0);
    }
    CHECK_EQ_INT(load(&b, 0, &source), 0);
    CHECK_EQ_INT(source, FOTA_PERSIST_LOADED);
    CHECK_EQ_INT(b.last_sequence, 900);
    CHECK_EQ_INT(b.security_floor, 5);
}

/* A firmware that adds a field appends it and keeps the format: this
 * firmware reads what it knows and ignores the rest; a record of a firmware
 * before the ETag field reads with no ETag. */
static void test_added_field(void)
{
    struct fota_persist a, b;
    uint8_t rec[FOTA_PERSIST_RECORD_LEN];
    uint32_t used;

    sample(&a);
    a.data_busy = 1;
    a.data_slot = 1;
    a.data_label_crc = 0x12345678u;
    a.data_addr = 0x310000u;
    a.data_size = 65536;
    a.data_copied = 8192;
    fota_persist_encode(&a, rec);
    used = (uint32_t)(rec[4] | rec[5] << 8);
    CHECK_EQ_INT(used, 188); /* up to the data-partition fields: the record is full */
    CHECK_EQ_INT(fota_persist_decode(rec, sizeof rec, &b), 0);
    CHECK(same_state(&a, &b));
    CHECK_EQ_INT(b.data_busy, 1);
    CHECK_EQ_INT(b.data_slot, 1);
    CHECK_EQ_INT(b.data_label_crc, 0x12345678u);
    CHECK_EQ_INT(b.data_addr, 0x310000u);
    CHECK_EQ_INT(b.data_size, 65536);
    CHECK_EQ_INT(b.data_copied, 8192);
    /* a busy mark with no size, or an unknown flag bit, is corrupt */
    rec[171] = 5;
    put_u32(rec + 188, fota_crc32(0, rec, 188));
    CHECK_EQ_INT(fota_persist_decode(rec, sizeof rec, &b), FOTA_ERR_STATE_CORRUPT);
    fota_persist_encode(&a, rec);
    memset(rec + 180, 0, 4);
    put_u32(rec + 188, fota_crc32(0, rec, 188));
    CHECK_EQ_INT(fota_persist_decode(rec, sizeof rec, &b), FOTA_ERR_STATE_CORRUPT);

    /* firmware before data partitions (used 171): no partition is busy */
    fota_persist_encode(&a, rec);
    rec[4] = 171;
    memset(rec + 171, 0, sizeof rec - 171);
    put_u32(rec + 171, fota_crc32(0, rec, 171));
    CHECK_EQ_INT(fota_persist_decode(rec, sizeof rec, &b), 0);
    CHECK(same_state(&a, &b));
    CHECK_EQ_INT(b.data_busy, 0);
    CHECK_EQ_INT(b.data_size, 0);

    /* earlier firmware: the fields before the ETag only */
    fota_persist_encode(&a, rec);
    rec[4] = 80;
    memset(rec + 80, 0, sizeof rec - 80);
    put_u32(rec + 80, fota_crc32(0, rec, 80));
    CHECK_EQ_INT(fota_persist_decode(rec, sizeof rec, &b), 0);
    CHECK_EQ_STR(b.manifest_etag, "");
    CHECK_EQ_INT(b.manifest_url_crc, 0);
    CHECK_EQ_INT(b.last_sequence, 748);
    CHECK_EQ_INT(b.dl_slot, 1);
}

/* Re-seal a record after editing it (as a buggy or hostile writer would). */
static void reseal(uint8_t *rec)
{
    uint32_t used = (uint32_t)(rec[4] | rec[5] << 8);
    put_u32(rec + used, fota_crc32(0, rec, used));
}

static void test_corrupted_records(void)
{
    struct fota_persist a, b;
    uint8_t rec[FOTA_PERSIST_RECORD_LEN], bad[FOTA_PERSIST_RECORD_LEN];
    size_t i;
    int bit;

    sample(&a);
    fota_persist_encode(&a, rec);
    /* every bit of the covered bytes and the CRC: refused */
    for (i = 0; i < 161; i++) {
        for (bit = 0; bit < 8; bit++) {
            memcpy(bad, rec, sizeof bad);
            bad[i] ^= (uint8_t)(1u << bit);
            if (fota_persist_decode(bad, sizeof bad, &b) != FOTA_ERR_STATE_CORRUPT) {
                CHECK(0);
                printf("  byte %u bit %d accepted\n", (unsigned)i, bit);
            }
        }
    }
    /* values that cannot be, with a valid CRC */
    memcpy(bad, rec, sizeof bad);
    put_u32(bad, 4); /* an unknown format */
    reseal(bad);
    CHECK_EQ_INT(fota_persist_decode(bad, sizeof bad, &b), FOTA_ERR_STATE_CORRUPT);
    memcpy(bad, rec, sizeof bad);
    bad[4] = 79; /* fewer bytes than the fields every record has */
    bad[5] = 0;
    reseal(bad);
    CHECK_EQ_INT(fota_persist_decode(bad, sizeof bad, &b), FOTA_ERR_STATE_CORRUPT);
    memcpy(bad, rec, sizeof bad);
    bad[4] = 189; /* the CRC would not fit */
    CHECK_EQ_INT(fota_persist_decode(bad, sizeof bad, &b), FOTA_ERR_STATE_CORRUPT);
    memcpy(bad, rec, sizeof bad);
    bad[84] = 73; /* ETag longer than it can be */
    reseal(bad);
    CHECK_EQ_INT(fota_persist_decode(bad, sizeof bad, &b), FOTA_ERR_STATE_CORRUPT);
    memcpy(bad, rec, sizeof bad);
    bad[86] = '\n'; /* a control character in the ETag */
    reseal(bad);
    CHECK_EQ_INT(fota_persist_decode(bad, sizeof bad, &b), FOTA_ERR_STATE_CORRUPT);
    memcpy(bad, rec, sizeof bad);
    put_u32(bad + 28, 2); /* slot 2 */
    reseal(bad);
    CHECK_EQ_INT(fota_persist_decode(bad, sizeof bad, &b), FOTA_ERR_STATE_CORRUPT);
    memcpy(bad, rec, sizeof bad);
    put_u32(bad + 72, 300000); /* offset past the size */
    reseal(bad);
    CHECK_EQ_INT(fota_persist_decode(bad, sizeof bad, &b), FOTA_ERR_STATE_CORRUPT);
    CHECK_EQ_INT(fota_persist_decode(rec, sizeof rec - 1, &b), FOTA_ERR_STATE_CORRUPT);
    /* b was never touched by a refused record */
    CHECK_EQ_INT(fota_persist_decode(rec, sizeof rec, &b), 0);
    CHECK(same_state(&a, &b));

    /* raw layouts: the layout word must match the length */
    {
        uint8_t raw[76];
        raw_layout(2, &a, raw);
        CHECK_EQ_INT(fota_persist_decode_layout(2, raw, 76, &b), 0);
        CHECK_EQ_INT(fota_persist_decode_layout(1, raw, 76, &b), FOTA_ERR_STATE_CORRUPT);
        CHECK_EQ_INT(fota_persist_decode_layout(2, raw, 72, &b), FOTA_ERR_STATE_CORRUPT);
        put_u32(raw, 1);
        CHECK_EQ_INT(fota_persist_decode_layout(2, raw, 76, &b), FOTA_ERR_STATE_CORRUPT);
    }
}

/* Truly unreadable: the device stays bound by the build-time floor, not 0;
 * a blank region is a new device (also at the build-time floor). */
static void test_unreadable_state(void)
{
    struct fota_persist b;
    uint8_t rec[FOTA_PERSIST_RECORD_LEN];
    int source = -1;

    sim_flash_open_buf(&flash, mem, REGION, SECTOR, 4);
    CHECK_EQ_INT(load(&b, 4, &source), 0);
    CHECK_EQ_INT(source, FOTA_PERSIST_FRESH);
    CHECK_EQ_INT(b.security_floor, 4);
    CHECK_EQ_INT(b.pending_slot, -1);

    for (size_t i = 0; i < REGION; i++)
        mem[i] = (uint8_t)(i * 131u + 7u); /* garbage, no valid copy */
    CHECK_EQ_INT(load(&b, 4, &source), 0);
    CHECK_EQ_INT(source, FOTA_PERSIST_UNREADABLE);
    CHECK_EQ_INT(b.security_floor, 4);
    CHECK_EQ_INT(b.last_sequence, 0);

    /* a record of this length whose content is unreadable (a format this
     * firmware does not know), with a layout-2 copy beside it: only what
     * never goes down is taken from the copy */
    {
        struct fota_persist old;
        uint8_t raw[76];
        struct fota_record_store s;
        sim_flash_open_buf(&flash, mem, REGION, SECTOR, 4);
        sample(&old);
        raw_layout(2, &old, raw);
        old_agent_saves(76, raw, 2);
        fota_record_init(&s, &flash.iface, 0, REGION, FOTA_PERSIST_RECORD_LEN);
        fota_persist_load(&s, &b, 0, &source);
        fota_persist_encode(&b, rec);
        put_u32(rec, 9);
        reseal(rec);
        CHECK_EQ_INT(fota_record_save(&s, rec), 0);
    }
    CHECK_EQ_INT(load(&b, 1, &source), 0);
    CHECK_EQ_INT(source, FOTA_PERSIST_UNREADABLE);
    CHECK_EQ_INT(b.last_sequence, 748);
    CHECK_EQ_INT(b.security_floor, 3);
    CHECK_EQ_INT(b.pending_version, 0);
    CHECK_EQ_INT(b.dl_size, 0);
}

/* The build-time floor raises a lower saved one; a higher saved one stays. */
static void test_floor_minimum(void)
{
    struct fota_persist a, b;
    uint8_t rec[FOTA_PERSIST_RECORD_LEN];
    struct fota_record_store s;
    int source;
    sample(&a); /* floor 3 */
    sim_flash_open_buf(&flash, mem, REGION, SECTOR, 4);
    fota_record_init(&s, &flash.iface, 0, REGION, FOTA_PERSIST_RECORD_LEN);
    fota_record_load(&s, rec);
    CHECK_EQ_INT(fota_persist_save(&s, &a), 0);
    CHECK_EQ_INT(load(&b, 2, &source), 0);
    CHECK_EQ_INT(b.security_floor, 3);
    CHECK_EQ_INT(load(&b, 6, &source), 0);
    CHECK_EQ_INT(b.security_floor, 6);
    CHECK_EQ_INT(source, FOTA_PERSIST_LOADED);
}

int main(void)
{
    static const struct test_case tests[] = {
        TEST(test_round_trip),       TEST(test_migrate_layout2),
        TEST(test_migrate_layout1),  TEST(test_never_lower_across_layouts),
        TEST(test_added_field),      TEST(test_corrupted_records),
        TEST(test_unreadable_state), TEST(test_floor_minimum),
    };
    return test_main("persist", tests, TEST_COUNT(tests));
}
