/*
 * libFuzzer target: the journaled record store (src/record.c) recovering
 * from arbitrary flash contents, with flash operations that fail and power
 * that is cut.
 *
 * Input:
 *   byte 0: sectors = 2 + b % 7 (2..8)
 *   byte 1: bits 0-1 sector size 256 << n; bits 2-3 write size 1, 4, 16, 32
 *   byte 2: record length 1 + b (a store that cannot hold it is skipped)
 *   byte 3: number of plants (b % 16), 6 bytes each, written before power-on:
 *     kind 0: a valid copy (u16 slot on the record's grid, u16 seq (0xFFFF:
 *             the largest), fill byte)
 *     kind 1: a byte poked at a region offset (u16 offset, value, unused)
 *     kind 2: a sector filled with one byte (u8 sector, value)
 *     kind 3: a valid copy of another length (u16 slot, u8 length, fill)
 *   then operations, 2 bytes each (op, arg):
 *     op % 5 == 0: power-on (a fresh store loads)
 *     op % 5 == 1: save
 *     op % 5 == 2: save with flash operation 1 + arg % 4 failing (an error;
 *                  with arg bit 4, a write programs a prefix first, an erase
 *                  erases part of the sector)
 *     op % 5 == 3: save with the power cut at operation 1 + arg % 4, before
 *                  (arg bits 4-5 = 0), in the middle (1) or after it (2, 3);
 *                  then power-on
 *     op % 5 == 4: fota_record_find for another length (must not disturb)
 *
 * What must hold: no memory error or UB; no write ever programs a bit that
 * is 0 back to 1 (the store writes only where it erased or saw blank); after
 * a power-on the record loaded is one the device could have: the one loaded
 * or saved last, or one whose save failed or was cut since (none, before
 * the first save, when the region had no valid copy); a save that succeeds is
 * what the next power-on loads, unless a later save failed or was cut.
 */
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fota/error.h"
#include "fota/fota.h"
#include "fota/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c)                                                                         \
    do {                                                                                   \
        if (!(c))                                                                          \
            abort();                                                                       \
    } while (0)

#define REGION_MAX (8u * 2048u)
#define CANDIDATES_MAX 8

static uint8_t mem[REGION_MAX];
static uint32_t region_size;
static jmp_buf power_on;

/* Fault plan for the flash operations (writes and erases) of one save. */
static struct {
    uint32_t ops;     /* operations since armed */
    uint32_t fail_at; /* 1-based; 0 none */
    int partial;      /* the failing operation changes part of what it covers */
    uint32_t cut_at;
    int cut_mode;     /* 0 before, 1 torn, 2 after */
    uint32_t rng;
} plan;

static uint32_t next_rand(void)
{
    uint32_t x = plan.rng ? plan.rng : 0x9E3779B9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    plan.rng = x;
    return x;
}

static int fl_read(void *ctx, uint32_t addr, void *buf, uint32_t len)
{
    (void)ctx;
    REQUIRE(addr <= region_size && len <= region_size - addr);
    memcpy(buf, mem + addr, len);
    return 0;
}

static void program(uint32_t addr, const uint8_t *src, uint32_t len)
{
    for (uint32_t i = 0; i < len; i++) {
        REQUIRE((src[i] & ~mem[addr + i]) == 0); /* a 0 bit cannot become 1 */
        mem[addr + i] &= src[i];
    }
}

static int fl_write(void *ctx, uint32_t addr, const void *buf, uint32_t len)
{
    const struct fota_flash *f = ctx;
    REQUIRE(addr <= region_size && len <= region_size - addr);
    REQUIRE(addr % f->write_size == 0 && len % f->write_size == 0);
    uint32_t op = ++plan.ops;
    uint32_t prefix = (next_rand() % (len / f->write_size)) * f->write_size;
    if (op == plan.cut_at) {
        if (plan.cut_mode == 1)
            program(addr, buf, prefix);
        else if (plan.cut_mode == 2)
            program(addr, buf, len);
        longjmp(power_on, 1);
    }
    if (op == plan.fail_at) {
        if (plan.partial)
            program(addr, buf, prefix);
        return FOTA_ERR_FLASH_WRITE;
    }
    program(addr, buf, len);
    return 0;
}

static void erase_part(uint32_t addr, uint32_t len)
{
    uint32_t done = next_rand() % len;
    memset(mem + addr, 0xFF, done);
    for (uint32_t i = done; i < len; i++)
        mem[addr + i] = (uint8_t)next_rand();
}

static int fl_erase(void *ctx, uint32_t addr, uint32_t len)
{
    const struct fota_flash *f = ctx;
    REQUIRE(addr <= region_size && len <= region_size - addr);
    REQUIRE(addr % f->sector_size == 0 && len == f->sector_size);
    uint32_t op = ++plan.ops;
    if (op == plan.cut_at) {
        if (plan.cut_mode == 1)
            erase_part(addr, len);
        else if (plan.cut_mode == 2)
            memset(mem + addr, 0xFF, len);
        longjmp(power_on, 1);
    }
    if (op == plan.fail_at) {
        if (plan.partial)
            erase_part(addr, len);
        return FOTA_ERR_FLASH_ERASE;
    }
    memset(mem + addr, 0xFF, len);
    return 0;
}

/* What a power-on may load: up to CANDIDATES_MAX payloads, or "none". */
static struct {
    int known; /* 0: no claim (the set overflowed) */
    size_t n;
    int none_ok;
    uint8_t data[CANDIDATES_MAX][FOTA_RECORD_DATA_MAX];
} cand;

static uint32_t data_len;

static void cand_only(const uint8_t *d)
{
    cand.known = 1;
    cand.none_ok = 0;
    cand.n = 1;
    memcpy(cand.data[0], d, data_len);
}

static void cand_add(const uint8_t *d)
{
    if (cand.n == CANDIDATES_MAX) {
        cand.known = 0;
        return;
    }
    memcpy(cand.data[cand.n++], d, data_len);
}

/* Power-on: load, check against the candidates, and make the result the
 * only candidate. */
static void boot(struct fota_record_store *s, const struct fota_flash *f, int first)
{
    uint8_t got[FOTA_RECORD_DATA_MAX];
    REQUIRE(fota_record_init(s, f, 0, region_size, data_len) == 0);
    int r = fota_record_load(s, got);
    REQUIRE(r == 0 || r == FOTA_ERR_STATE_CORRUPT);
    if (!first && cand.known) {
        int ok = r == FOTA_ERR_STATE_CORRUPT && cand.none_ok;
        for (size_t i = 0; i < cand.n && !ok && r == 0; i++)
            ok = memcmp(cand.data[i], got, data_len) == 0;
        REQUIRE(ok);
    }
    if (r == 0) {
        cand_only(got);
    } else {
        cand.known = 1;
        cand.none_ok = 1;
        cand.n = 0;
    }
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* A valid copy as src/record.c writes it (the format is in its header). */
static void plant_copy(const struct fota_flash *f, uint32_t len, uint32_t slot_index,
                       uint32_t seq, uint8_t fill)
{
    uint32_t slot = (len + 16 + f->write_size - 1) / f->write_size * f->write_size;
    uint32_t per = f->sector_size / slot;
    if (per == 0)
        return;
    uint32_t sectors = region_size / f->sector_size;
    uint32_t sector = (slot_index / per) % sectors, i = slot_index % per;
    uint8_t *p = mem + sector * f->sector_size + i * slot;
    memset(p, 0xFF, slot);
    put_u32(p, 0x46524543u);
    put_u32(p + 4, seq);
    put_u32(p + 8, len);
    memset(p + 12, fill, len);
    put_u32(p + 12 + len, fota_crc32(0, p, 12 + len));
}

static int save_with_plan(struct fota_record_store *s, const uint8_t *d, int *result)
{
    if (setjmp(power_on) == 0) {
        *result = fota_record_save(s, d);
        return 0;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
    static const uint32_t write_sizes[4] = {1, 4, 16, 32};
    struct fota_flash flash;
    struct fota_record_store store;
    uint8_t payload[FOTA_RECORD_DATA_MAX];
    uint32_t counter = 0;
    size_t pos;

    if (size < 4)
        return 0;
    uint32_t sectors = 2u + in[0] % 7u;
    flash.sector_size = 256u << (in[1] & 3u);
    flash.write_size = write_sizes[(in[1] >> 2) & 3u];
    flash.ctx = &flash;
    flash.read = fl_read;
    flash.write = fl_write;
    flash.erase = fl_erase;
    data_len = 1u + in[2];
    region_size = sectors * flash.sector_size;
    if (fota_record_init(&store, &flash, 0, region_size, data_len) != 0)
        return 0;
    memset(&plan, 0, sizeof plan);
    memset(mem, 0xFF, region_size);

    size_t plants = in[3] % 16u;
    pos = 4;
    for (size_t i = 0; i < plants && pos + 6 <= size; i++, pos += 6) {
        const uint8_t *p = in + pos;
        uint32_t a = (uint32_t)p[1] | (uint32_t)p[2] << 8;
        switch (p[0] % 4) {
        case 0: {
            uint32_t seq = (uint32_t)p[3] | (uint32_t)p[4] << 8;
            plant_copy(&flash, data_len, a, seq == 0xFFFFu ? UINT32_MAX : seq, p[5]);
            break;
        }
        case 1:
            mem[a % region_size] = p[3];
            break;
        case 2:
            memset(mem + (p[1] % sectors) * flash.sector_size, p[2], flash.sector_size);
            break;
        default:
            plant_copy(&flash, 1u + p[3], a, (uint32_t)p[4] << 8, p[5]);
            break;
        }
    }

    boot(&store, &flash, 1);
    for (; pos + 2 <= size; pos += 2) {
        uint8_t op = in[pos], arg = in[pos + 1];
        int result = 0;
        memset(&plan, 0, sizeof plan);
        plan.rng = (uint32_t)pos * 2654435761u + arg;
        counter++;
        memset(payload, (int)(counter * 37u), data_len);
        memcpy(payload, &counter, data_len < sizeof counter ? data_len : sizeof counter);

        switch (op % 5) {
        case 0:
            boot(&store, &flash, 0);
            break;
        case 1:
        case 2:
            if (op % 5 == 2) {
                plan.fail_at = 1u + arg % 4u;
                plan.partial = (arg >> 4) & 1;
            }
            REQUIRE(save_with_plan(&store, payload, &result) == 0);
            if (result == 0) {
                cand_only(payload);
            } else {
                REQUIRE(result == FOTA_ERR_FLASH_WRITE || result == FOTA_ERR_FLASH_ERASE ||
                        result == FOTA_ERR_FLASH_VERIFY || result == FOTA_ERR_STATE_CORRUPT);
                REQUIRE(op % 5 == 2 || result == FOTA_ERR_STATE_CORRUPT);
                if (cand.known)
                    cand_add(payload);
            }
            break;
        case 3:
            plan.cut_at = 1u + arg % 4u;
            plan.cut_mode = (arg >> 4) & 3;
            if (plan.cut_mode == 3)
                plan.cut_mode = 2;
            if (save_with_plan(&store, payload, &result)) {
                if (cand.known)
                    cand_add(payload);
                memset(&plan, 0, sizeof plan);
                boot(&store, &flash, 0);
            } else if (result == 0) {
                cand_only(payload); /* the save needed fewer operations */
            } else {
                REQUIRE(result == FOTA_ERR_STATE_CORRUPT);
            }
            break;
        default: {
            uint8_t other[FOTA_RECORD_DATA_MAX];
            uint32_t seq = 0, off = 0, len = 1u + arg;
            struct fota_record_store before = store;
            int r = fota_record_find(&store, len, other, &seq, &off);
            REQUIRE(r == 0 || r == FOTA_ERR_STATE_CORRUPT || r == FOTA_ERR_INVALID_ARG);
            if (r == 0)
                REQUIRE(off < region_size && off % flash.write_size == 0);
            REQUIRE(memcmp(&before, &store, sizeof store) == 0);
            break;
        }
        }
    }
    /* and a last power-on */
    memset(&plan, 0, sizeof plan);
    boot(&store, &flash, 0);
    return 0;
}
