/* NOR flash simulator with power-cut and bad-region injection, on a memory
 * buffer: plain C, so it also runs on the emulated targets. The file-backed
 * variant is in flash_file.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flash.h"

#include "fota/error.h"

static uint32_t next_rand(struct sim_flash *f)
{
    /* xorshift32: deterministic per seed, so every cut is reproducible */
    uint32_t x = f->seed ? f->seed : 0x9E3779B9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    f->seed = x;
    return x;
}

static int in_bad_region(const struct sim_flash *f, uint32_t addr, uint32_t len)
{
    return f->bad_len && addr < f->bad_addr + f->bad_len && f->bad_addr < addr + len;
}

/* Does this write (is_erase 0) or erase (1) fail with an error? */
static int bad_fails(const struct sim_flash *f, int is_erase, uint32_t addr, uint32_t len)
{
    if (!in_bad_region(f, addr, len))
        return 0;
    return f->bad_mode == FOTA_BAD_FAIL || (f->bad_mode == FOTA_BAD_WRITES && !is_erase) ||
           (f->bad_mode == FOTA_BAD_ERASES && is_erase);
}

static int check_range(struct sim_flash *f, const char *op, uint32_t addr, uint32_t len)
{
    if (addr > f->size || len > f->size - addr) {
        snprintf(f->error, sizeof f->error, "%s out of range: 0x%x+%u (flash is %u bytes)", op,
                 (unsigned)addr, (unsigned)len, (unsigned)f->size);
        return -1;
    }
    return 0;
}

static void cut_now(struct sim_flash *f)
{
    if (f->on_cut)
        f->on_cut(f->cut_ctx);
    /* on_cut must not return; without one, a cut ends the program as power would */
    printf("flash: power cut at operation %u\n", (unsigned)f->ops);
    exit(99);
}

/* Called at the start of every write/erase: counts it and reports whether
 * this operation is the one to cut (and how). */
static int cut_mode_for_op(struct sim_flash *f)
{
    f->ops++;
    if (f->cut_mode != FOTA_CUT_NONE && f->ops == f->cut_at)
        return f->cut_mode;
    return FOTA_CUT_NONE;
}

/* The modelled duration of an operation, on the simulated clock. */
static void spend(struct sim_flash *f, uint64_t *kind, uint64_t us)
{
    if (!f->timing || !f->clock)
        return;
    *kind += us;
    f->clock->us += us;
}

static int flash_read(void *ctx, uint32_t addr, void *buf, uint32_t len)
{
    struct sim_flash *f = ctx;
    if (check_range(f, "read", addr, len) < 0)
        return FOTA_ERR_FLASH_READ;
    memcpy(buf, f->mem + addr, len);
    f->reads++;
    f->bytes_read += len;
    if (f->timing)
        spend(f, &f->read_us, sim_read_us(f->timing, len));
    return 0;
}

static int flash_write(void *ctx, uint32_t addr, const void *buf, uint32_t len)
{
    struct sim_flash *f = ctx;
    const uint8_t *src = buf;
    uint32_t ws = f->iface.write_size;

    if (check_range(f, "write", addr, len) < 0)
        return FOTA_ERR_FLASH_WRITE;
    if (addr % ws || len % ws) {
        snprintf(f->error, sizeof f->error, "write at 0x%x+%u not aligned to %u bytes",
                 (unsigned)addr, (unsigned)len, (unsigned)ws);
        return FOTA_ERR_FLASH_WRITE;
    }
    int cut = cut_mode_for_op(f);
    if (cut == FOTA_CUT_BEFORE)
        cut_now(f);
    if (bad_fails(f, 0, addr, len)) {
        snprintf(f->error, sizeof f->error, "write at 0x%x+%u hit a bad region", (unsigned)addr,
                 (unsigned)len);
        if (cut != FOTA_CUT_NONE)
            cut_now(f); /* torn or after a failed write: it changed nothing */
        return FOTA_ERR_FLASH_WRITE;
    }
    for (uint32_t i = 0; i < len; i++) {
        if (src[i] & ~f->mem[addr + i]) {
            snprintf(f->error, sizeof f->error,
                     "program 1 over 0 at 0x%x (have 0x%02x, writing 0x%02x): sector not erased",
                     (unsigned)(addr + i), f->mem[addr + i], src[i]);
            return FOTA_ERR_FLASH_WRITE;
        }
    }
    uint32_t n = len;
    if (cut == FOTA_CUT_TORN)
        n = (next_rand(f) % (len / ws)) * ws; /* a prefix of whole units: 0..len-ws */
    for (uint32_t i = 0; i < n; i++)
        if (f->bad_mode != FOTA_BAD_SILENT || !in_bad_region(f, addr + i, 1))
            f->mem[addr + i] &= src[i];
    if (cut == FOTA_CUT_TORN && n < len) {
        /* the unit being programmed when power went: some of its bits cleared */
        uint32_t garbage = next_rand(f);
        for (uint32_t i = n; i < n + ws; i++)
            f->mem[addr + i] &= (uint8_t)(src[i] | (uint8_t)(garbage >> ((i % 4) * 8)));
    }
    f->writes++;
    f->bytes_written += n;
    if (f->timing)
        spend(f, &f->program_us, sim_program_us(f->timing, len));
    if (cut == FOTA_CUT_TORN || cut == FOTA_CUT_AFTER)
        cut_now(f);
    return 0;
}

static int flash_erase(void *ctx, uint32_t addr, uint32_t len)
{
    struct sim_flash *f = ctx;
    uint32_t ss = f->iface.sector_size;

    if (check_range(f, "erase", addr, len) < 0)
        return FOTA_ERR_FLASH_ERASE;
    if (addr % ss || len % ss || len == 0) {
        snprintf(f->error, sizeof f->error, "erase at 0x%x+%u not aligned to %u-byte sectors",
                 (unsigned)addr, (unsigned)len, (unsigned)ss);
        return FOTA_ERR_FLASH_ERASE;
    }
    int cut = cut_mode_for_op(f);
    if (cut == FOTA_CUT_BEFORE)
        cut_now(f);
    if (bad_fails(f, 1, addr, len)) {
        snprintf(f->error, sizeof f->error, "erase at 0x%x+%u hit a bad region", (unsigned)addr,
                 (unsigned)len);
        if (cut != FOTA_CUT_NONE)
            cut_now(f); /* torn or after a failed erase: it changed nothing */
        return FOTA_ERR_FLASH_ERASE;
    }
    if (cut == FOTA_CUT_TORN) {
        /* interrupted: a prefix erased, the rest holding arbitrary bits */
        uint32_t done = next_rand(f) % len;
        memset(f->mem + addr, 0xFF, done);
        for (uint32_t i = done; i < len; i++)
            f->mem[addr + i] = (uint8_t)next_rand(f);
        f->erases++;
        f->bytes_erased += done;
        cut_now(f);
    }
    memset(f->mem + addr, 0xFF, len);
    f->erases++;
    f->bytes_erased += len;
    if (f->timing)
        spend(f, &f->erase_us, sim_erase_us(f->timing, addr, len, ss));
    if (cut == FOTA_CUT_AFTER)
        cut_now(f);
    return 0;
}

void sim_flash_init_iface(struct sim_flash *f, uint32_t sector_size, uint32_t write_size)
{
    f->iface.ctx = f;
    f->iface.read = flash_read;
    f->iface.write = flash_write;
    f->iface.erase = flash_erase;
    f->iface.sector_size = sector_size;
    f->iface.write_size = write_size;
}

int sim_flash_check_geometry(struct sim_flash *f, uint32_t size, uint32_t sector_size,
                          uint32_t write_size)
{
    if (sector_size == 0 || size % sector_size || write_size == 0 ||
        write_size > FOTA_WRITE_SIZE_MAX || (write_size & (write_size - 1)) ||
        sector_size % write_size) {
        snprintf(f->error, sizeof f->error,
                 "bad flash geometry: size %u, sector %u, write unit %u", (unsigned)size,
                 (unsigned)sector_size, (unsigned)write_size);
        return -1;
    }
    return 0;
}

int sim_flash_open_buf(struct sim_flash *f, uint8_t *mem, uint32_t size,
                              uint32_t sector_size, uint32_t write_size)
{
    memset(f, 0, sizeof *f);
    f->fd = -1;
    if (sim_flash_check_geometry(f, size, sector_size, write_size) < 0)
        return -1;
    f->mem = mem;
    memset(f->mem, 0xFF, size);
    f->size = size;
    sim_flash_init_iface(f, sector_size, write_size);
    return 0;
}

void sim_flash_load(struct sim_flash *f, uint32_t addr, const void *data,
                           uint32_t len)
{
    if (addr <= f->size && len <= f->size - addr)
        memcpy(f->mem + addr, data, len);
}
