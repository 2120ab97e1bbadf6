/* The simulated ESP8266: see esp8266.h. */
#include "esp8266.h"

#include <stdio.h>
#include <string.h>

#define EBOOT_LOAD 0x4010f000u

static uint32_t next_rand(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* One image as elf2bin.py's write_bin: header, segments, XOR checksum (seed
 * 0xEF) in the last byte of a 16-byte aligned end. Returns its length. */
static uint32_t write_image(uint8_t *out, uint8_t mode, uint8_t size_code, uint32_t entry,
                            const uint32_t *addr, const uint8_t *const *data,
                            const uint32_t *len, uint32_t nseg)
{
    uint32_t pos = 8;
    uint8_t sum = 0xEF;
    out[0] = 0xE9;
    out[1] = (uint8_t)nseg;
    out[2] = mode;
    out[3] = (uint8_t)(size_code << 4); /* 40 MHz */
    put_u32(out + 4, entry);
    for (uint32_t i = 0; i < nseg; i++) {
        put_u32(out + pos, addr[i]);
        put_u32(out + pos + 4, len[i]);
        memcpy(out + pos + 8, data[i], len[i]);
        for (uint32_t j = 0; j < len[i]; j++)
            sum ^= data[i][j];
        pos += 8 + len[i];
    }
    pos++;
    while (pos & 15)
        out[pos++ - 1] = 0;
    out[pos - 1] = sum;
    return pos;
}

uint32_t sim8266_build_bin(uint8_t *buf, uint32_t cap, uint32_t eboot_variant, uint8_t mode,
                           uint8_t size_code, uint32_t app_bytes, uint32_t seed,
                           uint32_t version_code)
{
    static uint8_t eboot_code[1384], app_iram[64], app_dram[512 * 1024];
    uint32_t app_len = (app_bytes + 3) & ~3u;
    if (app_len > sizeof app_dram || cap < SIM8266_APP_OFFSET + app_len + 256)
        return 0;
    uint32_t r = 0x9E3779B9u ^ eboot_variant;
    for (uint32_t i = 0; i < sizeof eboot_code; i++)
        eboot_code[i] = (uint8_t)next_rand(&r);
    const uint32_t eaddr[1] = {EBOOT_LOAD};
    const uint8_t *edata[1] = {eboot_code};
    const uint32_t elen[1] = {sizeof eboot_code};
    uint32_t n = write_image(buf, mode, size_code, EBOOT_LOAD + 0x29c, eaddr, edata, elen, 1);
    memset(buf + n, 0xAA, SIM8266_APP_OFFSET - n);

    memset(app_iram, 0, sizeof app_iram);
    snprintf((char *)app_iram, sizeof app_iram, "sim8266 app, version code %u",
             (unsigned)version_code);
    r = seed | 1u;
    for (uint32_t i = 0; i < app_len; i++)
        app_dram[i] = (uint8_t)next_rand(&r);
    const uint32_t aaddr[2] = {0x40100000u, 0x3FFE8000u};
    const uint8_t *adata[2] = {app_iram, app_dram};
    const uint32_t alen[2] = {sizeof app_iram, app_len};
    return SIM8266_APP_OFFSET + write_image(buf + SIM8266_APP_OFFSET, mode, size_code,
                                            0x40100004u, aaddr, adata, alen, 2);
}

int sim8266_init(struct sim8266 *s, uint8_t *mem, uint32_t size, uint32_t fs_start,
                 const struct sim8266_build *builds, uint32_t n_builds)
{
    memset(s, 0, sizeof *s);
    s->fs_start = fs_start;
    s->chip_mode = SIM8266_DOUT;
    s->boot_mode = 3;
    s->builds = builds;
    s->n_builds = n_builds;
    s->running = -1;
    /* ESP.flashWrite programs 4-byte words */
    return sim_flash_open_buf(&s->flash, mem, size, SIM8266_SECTOR, 4);
}

void sim8266_serial_flash(struct sim8266 *s, uint32_t build)
{
    const struct sim8266_build *b = &s->builds[build];
    memset(s->flash.mem, 0xFF, s->flash.size);
    sim_flash_load(&s->flash, 0, b->bin, b->len);
    s->flash.mem[2] = s->chip_mode; /* esptool --flash_mode */
    s->rtc.valid = 0;
    /* esptool starts the sketch from the ROM's download mode: the boot mode
     * latched at the last pin reset stays "UART download" until a pin reset
     * or power cycle (esp8266/Arduino issue #1017). */
    s->boot_mode = 1;
    s->running = (int)build;
}

void sim8266_power_removed(struct sim8266 *s)
{
    s->rtc.valid = 0;
    s->boot_mode = 3; /* GPIO0 high at power-up: flash boot */
}

void sim8266_eboot_command(struct sim8266 *s, uint32_t src, uint32_t size)
{
    s->rtc.valid = 1;
    s->rtc.src = src;
    s->rtc.dst = 0;
    s->rtc.size = size;
}

/* eboot.c copy_raw() without gzip and verify. Reads through the flash
 * directly (SPIRead), writes through the simulator so a cut can hit them. */
static int copy_raw(struct sim8266 *s, uint32_t src, uint32_t dst, uint32_t size)
{
    static uint8_t buffer[SIM8266_SECTOR];
    const struct fota_flash *fl = &s->flash.iface;
    if ((src & 0xfff) || (dst & 0xfff))
        return 1;
    int32_t left = (int32_t)((size + SIM8266_SECTOR - 1) & ~(SIM8266_SECTOR - 1));
    for (; left > 0; src += SIM8266_SECTOR, dst += SIM8266_SECTOR, left -= SIM8266_SECTOR) {
        if (src + SIM8266_SECTOR > s->flash.size || dst + SIM8266_SECTOR > s->flash.size)
            return 3;
        memcpy(buffer, s->flash.mem + src, SIM8266_SECTOR);
        if (dst == 0 && memcmp(s->flash.mem, buffer, SIM8266_SECTOR) == 0)
            continue; /* ets_putc('B'): the bootloader sector is unchanged */
        if (dst == 0)
            s->sector0_rewrites++;
        if (fl->erase(fl->ctx, dst, SIM8266_SECTOR) < 0)
            return 2;
        if (fl->write(fl->ctx, dst, buffer, SIM8266_SECTOR) < 0)
            return 4;
    }
    return 0;
}

/* The build whose eboot sector (SPI mode byte aside) is at 0x0, or -1. */
static int eboot_at_zero(const struct sim8266 *s)
{
    const uint8_t *m = s->flash.mem;
    for (uint32_t i = 0; i < s->n_builds; i++) {
        const uint8_t *b = s->builds[i].bin;
        if (memcmp(m, b, 2) == 0 && memcmp(m + 3, b + 3, SIM8266_APP_OFFSET - 3) == 0)
            return (int)i;
    }
    return -1;
}

/* The build whose app image is at 0x1000, byte for byte, or -1. */
static int app_at_0x1000(const struct sim8266 *s)
{
    for (uint32_t i = 0; i < s->n_builds; i++) {
        const struct sim8266_build *b = &s->builds[i];
        if (memcmp(s->flash.mem + SIM8266_APP_OFFSET, b->bin + SIM8266_APP_OFFSET,
                   b->len - SIM8266_APP_OFFSET) == 0)
            return (int)i;
    }
    return -1;
}

int sim8266_boot(struct sim8266 *s)
{
    static const char *const modes[4] = {"QIO", "QOUT", "DIO", "DOUT"};
    const uint8_t *m = s->flash.mem;
    s->running = -1;
    s->why[0] = '\0';
    if (s->boot_mode == 1) {
        snprintf(s->why, sizeof s->why,
                 "reset into UART download mode (latched since the serial flash): waits for "
                 "esptool until a pin reset or power cycle");
        return -1;
    }
    if (m[0] != 0xE9) {
        snprintf(s->why, sizeof s->why, "ROM: no image header at 0x0 (0x%02x)", m[0]);
        return -1;
    }
    if (m[2] > 3 || m[2] < s->chip_mode) {
        snprintf(s->why, sizeof s->why, "ROM: header asks for SPI mode %s, the flash is wired "
                 "for %s: no boot", m[2] <= 3 ? modes[m[2]] : "?", modes[s->chip_mode]);
        return -1;
    }
    if (eboot_at_zero(s) < 0) {
        snprintf(s->why, sizeof s->why, "ROM: sector 0 holds no complete eboot");
        return -1;
    }
    /* eboot main() */
    if (s->rtc.valid) {
        s->in_copy = 1;
        int res = copy_raw(s, s->rtc.src, s->rtc.dst, s->rtc.size);
        s->in_copy = 0;
        if (res == 0)
            s->copies++;
        s->rtc.valid = 0; /* eboot_command_clear(), after the copy */
        if (eboot_at_zero(s) < 0) {
            snprintf(s->why, sizeof s->why, "eboot: copy failed (%d), sector 0 broken", res);
            return -1;
        }
    }
    s->running = app_at_0x1000(s);
    if (s->running < 0)
        snprintf(s->why, sizeof s->why,
                 "eboot: the app at 0x1000 is no complete build (an interrupted copy)");
    return s->running;
}

uint32_t sim8266_sketch_size(struct sim8266 *s)
{
    const uint8_t *m = s->flash.mem;
    uint32_t pos = SIM8266_APP_OFFSET + 8;
    for (uint32_t i = 0; i < m[SIM8266_APP_OFFSET + 1] && pos + 8 < s->flash.size; i++)
        pos += 8 + get_u32(m + pos + 4);
    return (pos + 16) & ~15u; /* EspClass::getSketchSize */
}
