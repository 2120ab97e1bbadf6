/*
 * The ESP8266 Arduino port (src/arduino/fota_esp8266_port.c) with the
 * real agent on the simulated ESP8266 (sim/esp8266/: flash, RTC memory, ROM
 * loader and an eboot modelled on eboot.c), updating from an in-memory HTTP
 * server that serves a manifest signed here. Issue 16, ESP8266 findings.
 *
 *   test_esp8266_port [--quick]
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot.h"
#include "esp8266.h"
#include "fota/fota.h"
#include "fota_esp8266_port.h"
#include "harness.h"
#include "keys.h"

extern const struct fota_crypto fota_crypto_mbedtls;

#define FLASH_SIZE (1024u * 1024u)
#define FS_START 0x80000u /* 512 KiB for sketch and staging, as a 1M (512K FS) board */
#define MAX_BOOTS 12u

enum { OLD = 0, NEW = 1, N_BUILDS = 4 };
#define OLD_CODE 100u
#define NEW_CODE 200u
#define NEW_COUNTER 2u

static uint8_t flash_mem[FLASH_SIZE];
static uint8_t bins[N_BUILDS][300 * 1024];
static struct sim8266_build builds[N_BUILDS];
static struct tool_key key;
static int quick;

/* ---- An HTTP server in memory: the manifest and one image ------------------ */

struct server {
    struct fota_transport iface;
    char manifest[1024];
    size_t manifest_len;
    const uint8_t *image;
    uint32_t image_len;
    uint32_t image_requests;
    char req[2048];
    size_t req_len;
    char head[256];
    size_t head_len, head_pos;
    const uint8_t *body;
    size_t body_len, body_pos;
};

static struct server srv;

static int srv_connect(void *ctx, const char *host, uint16_t port, int tls, uint32_t timeout_ms)
{
    struct server *s = ctx;
    (void)host, (void)port, (void)tls, (void)timeout_ms;
    s->req_len = s->head_len = s->head_pos = s->body_len = s->body_pos = 0;
    return 0;
}

static void srv_respond(struct server *s)
{
    const char *range = strstr(s->req, "\r\nRange: bytes=");
    uint32_t from = range ? (uint32_t)strtoul(range + 15, NULL, 10) : 0;
    if (strncmp(s->req, "GET /manifest ", 14) == 0) {
        s->body = (const uint8_t *)s->manifest;
        s->body_len = s->manifest_len;
        s->head_len = (size_t)snprintf(s->head, sizeof s->head,
                                       "HTTP/1.1 200 OK\r\nContent-Length: %u\r\n"
                                       "Connection: close\r\n\r\n",
                                       (unsigned)s->body_len);
    } else if (strncmp(s->req, "GET /fw.bin ", 12) == 0 && from < s->image_len) {
        s->image_requests++;
        s->body = s->image + from;
        s->body_len = s->image_len - from;
        if (range)
            s->head_len = (size_t)snprintf(
                s->head, sizeof s->head,
                "HTTP/1.1 206 Partial Content\r\nContent-Length: %u\r\n"
                "Content-Range: bytes %u-%u/%u\r\nConnection: close\r\n\r\n",
                (unsigned)s->body_len, (unsigned)from, (unsigned)s->image_len - 1,
                (unsigned)s->image_len);
        else
            s->head_len = (size_t)snprintf(s->head, sizeof s->head,
                                           "HTTP/1.1 200 OK\r\nContent-Length: %u\r\n"
                                           "Connection: close\r\n\r\n",
                                           (unsigned)s->body_len);
    } else {
        s->body_len = 0;
        s->head_len = (size_t)snprintf(s->head, sizeof s->head,
                                       "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
                                       "Connection: close\r\n\r\n");
    }
}

static int srv_send(void *ctx, const uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    struct server *s = ctx;
    (void)timeout_ms;
    if (len > sizeof s->req - 1 - s->req_len)
        return FOTA_ERR_SEND;
    memcpy(s->req + s->req_len, buf, len);
    s->req_len += len;
    s->req[s->req_len] = '\0';
    if (strstr(s->req, "\r\n\r\n"))
        srv_respond(s);
    return (int)len;
}

static int srv_recv(void *ctx, uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    struct server *s = ctx;
    (void)timeout_ms;
    size_t n = 0;
    if (s->head_pos < s->head_len) {
        n = s->head_len - s->head_pos < len ? s->head_len - s->head_pos : len;
        memcpy(buf, s->head + s->head_pos, n);
        s->head_pos += n;
        return (int)n;
    }
    n = s->body_len - s->body_pos < len ? s->body_len - s->body_pos : len;
    if (n > 1460)
        n = 1460; /* one TCP segment per read: a deterministic count of flash writes */
    memcpy(buf, s->body + s->body_pos, n);
    s->body_pos += n;
    return (int)n; /* 0: closed after the body */
}

static void srv_close(void *ctx)
{
    (void)ctx;
}

/* The manifest for `image`, signed with the test key. */
static void serve(const struct sim8266_build *image, uint32_t code, uint32_t counter,
                  uint32_t sequence)
{
    uint8_t sha[32], sig[FOTA_P256_SIG_SIZE];
    char hex[65], sighex[129];
    const struct fota_crypto *c = &fota_crypto_mbedtls;
    fota_sha256_digest(c, image->bin, image->len, sha);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", sha[i]);
    int n = snprintf(srv.manifest, sizeof srv.manifest,
                     "fota-manifest: 1\nproduct: sim8266\nchip: esp8266\nversion: %u\n"
                     "version-code: %u\nsecurity-counter: %u\nsequence: %u\nsize: %u\n"
                     "sha256: %s\nurl: /fw.bin\nkey-id: %s\n",
                     (unsigned)code, (unsigned)code, (unsigned)counter, (unsigned)sequence,
                     (unsigned)image->len, hex, key.id_hex);
    fota_sha256_digest(c, srv.manifest, (size_t)n, sha);
    if (keys_sign(&key, sha, sig) != 0) {
        fprintf(stderr, "signing failed\n");
        exit(2);
    }
    for (int i = 0; i < FOTA_P256_SIG_SIZE; i++)
        snprintf(sighex + 2 * i, 3, "%02x", sig[i]);
    n += snprintf(srv.manifest + n, sizeof srv.manifest - (size_t)n, "signature: %s\n", sighex);
    srv.manifest_len = (size_t)n;
    srv.image = image->bin;
    srv.image_len = image->len;
    srv.image_requests = 0;
}

/* ---- The device: the simulated chip, the port and the agent ---------------- */

struct device {
    struct sim8266 chip;
    struct fota_esp8266_port port;
    struct fota agent;
    struct fota_config cfg;
    uint8_t rx[1024];
    char line[512], url[1024], manifest[1024];
    uint32_t clock;
    char detail[160];
};

static struct device dev;

static int hw_read(void *ctx, uint32_t addr, void *buf, uint32_t len)
{
    const struct fota_flash *f = &((struct device *)ctx)->chip.flash.iface;
    return f->read(f->ctx, addr, buf, len);
}

static int hw_write(void *ctx, uint32_t addr, const void *buf, uint32_t len)
{
    const struct fota_flash *f = &((struct device *)ctx)->chip.flash.iface;
    return f->write(f->ctx, addr, buf, len);
}

static int hw_erase_sector(void *ctx, uint32_t addr)
{
    const struct fota_flash *f = &((struct device *)ctx)->chip.flash.iface;
    return f->erase(f->ctx, addr, SIM8266_SECTOR);
}

static void hw_eboot_copy(void *ctx, uint32_t src, uint32_t size)
{
    sim8266_eboot_command(&((struct device *)ctx)->chip, src, size);
}

static uint32_t now_ms(void *ctx)
{
    return ((struct device *)ctx)->clock += 5;
}

static void delay_ms(void *ctx, uint32_t ms)
{
    ((struct device *)ctx)->clock += ms;
}

/* What the Arduino glue takes from the core, here from the simulated chip. */
static void device_hw(struct device *d, struct fota_esp8266_hw *hw, uint32_t sketch_size)
{
    memset(hw, 0, sizeof *hw);
    hw->ctx = d;
    hw->read = hw_read;
    hw->write = hw_write;
    hw->erase_sector = hw_erase_sector;
    hw->eboot_copy = hw_eboot_copy;
    hw->sketch_size = sketch_size;
    hw->fs_start = d->chip.fs_start;
    hw->flash_mode = d->chip.flash.mem[2]; /* ESP.getFlashChipMode(): the header at 0x0 */
    hw->check_flash_size = 1;
    hw->flash_real_size = d->chip.flash.size;
    hw->boot_mode = d->chip.boot_mode;
}

enum app_result { APP_UP_TO_DATE = 0, APP_RESTART = 1 };

/* The sketch: setup() (Fota::begin, confirm when pending: it is healthy) and
 * one loop() check. Returns APP_RESTART when the check asks for
 * Fota::restart(), APP_UP_TO_DATE, or the error. */
static int app_begin(struct device *d)
{
    struct fota_esp8266_hw hw;
    device_hw(d, &hw, sim8266_sketch_size(&d->chip));
    int r = fota_esp8266_port_init(&d->port, &hw, d->detail, sizeof d->detail);
    if (r < 0)
        return r;
    static const uint8_t(*pubkeys)[FOTA_P256_PUBKEY_SIZE];
    pubkeys = (const uint8_t(*)[FOTA_P256_PUBKEY_SIZE])key.pub;
    memset(&d->cfg, 0, sizeof d->cfg);
    d->cfg.product = "sim8266";
    d->cfg.chip = FOTA_CHIP_ESP8266;
    d->cfg.version_code = builds[d->chip.running].version_code;
    d->cfg.manifest_url = "http://updates.example/manifest";
    d->cfg.pubkeys = pubkeys;
    d->cfg.n_pubkeys = 1;
    d->cfg.flash = &d->port.flash;
    d->cfg.boot = &d->port.boot;
    d->cfg.transports[0] = &srv.iface;
    d->cfg.n_transports = 1;
    d->cfg.crypto = &fota_crypto_mbedtls;
    d->cfg.state_addr = d->port.state_addr;
    d->cfg.state_size = 2 * FOTA_ESP8266_SECTOR;
    d->cfg.ctx = d;
    d->cfg.now_ms = now_ms;
    d->cfg.delay_ms = delay_ms;
    d->cfg.max_attempts = 2;
    d->cfg.backoff_base_ms = 10;
    d->cfg.persist_every = 8192;
    struct fota_buffers buf = {d->rx,  sizeof d->rx,  d->line,     sizeof d->line,
                               d->url, sizeof d->url, d->manifest, sizeof d->manifest, NULL, NULL, 0};
    if ((r = fota_init(&d->agent, &d->cfg, &buf)) < 0)
        return r;
    if (fota_running_state(&d->agent) == FOTA_IMG_PENDING_VERIFY &&
        (r = fota_confirm(&d->agent)) < 0)
        return r;
    return 0;
}

static int app_check(struct device *d)
{
    int r = fota_run(&d->agent);
    if (r == FOTA_UPDATE_READY)
        return APP_RESTART;
    if (r == FOTA_NO_UPDATE)
        return APP_UP_TO_DATE;
    return r;
}

static int app_run(struct device *d)
{
    int r = app_begin(d);
    return r < 0 ? r : app_check(d);
}

/* ---- Power cuts -------------------------------------------------------------- */

static jmp_buf cut_jmp;

static void on_cut(void *ctx)
{
    (void)ctx;
    longjmp(cut_jmp, 1);
}

struct outcome {
    int bricked;
    int cut_hit, cut_in_copy; /* the cut happened; during eboot's copy */
    int final_build;
    uint32_t floor;
    int floor_early;           /* the floor rose while the old build ran */
    int fs_touched;            /* a byte of the file system changed */
    char why[160];
};

/* From a serial-flashed OLD device (powered up since), boot until NEW runs
 * and is up to date, with one power cut at operation `cut_at` (0: none):
 * a reset (RTC memory kept) or, with `removal`, the power removed. */
static void run_update(uint32_t cut_at, int mode, int removal, struct outcome *o)
{
    struct device *d = &dev;
    memset(o, 0, sizeof *o);
    o->final_build = -1;
    sim8266_serial_flash(&d->chip, OLD);
    sim8266_power_removed(&d->chip);
    memset(d->chip.flash.mem + FS_START, 0x5A, FLASH_SIZE - FS_START); /* the file system */
    d->chip.flash.on_cut = on_cut;
    d->chip.flash.cut_at = cut_at ? d->chip.flash.ops + cut_at : 0;
    d->chip.flash.cut_mode = mode;
    d->chip.flash.seed = cut_at * 7u + (uint32_t)mode;
    static volatile uint32_t boots;
    for (boots = 0; boots < MAX_BOOTS; boots++) {
        if (setjmp(cut_jmp)) {
            o->cut_hit = 1;
            o->cut_in_copy = d->chip.in_copy;
            d->chip.in_copy = 0;
            d->chip.flash.cut_at = 0;
            if (removal)
                sim8266_power_removed(&d->chip);
            continue;
        }
        int b = sim8266_boot(&d->chip);
        if (b < 0) {
            o->bricked = 1;
            snprintf(o->why, sizeof o->why, "%.150s", d->chip.why);
            return;
        }
        int r = app_run(d);
        const struct fota_persist *p = fota_persist_state(&d->agent);
        if (b == OLD && p && p->security_floor >= NEW_COUNTER)
            o->floor_early = 1;
        if (r == APP_RESTART)
            continue; /* ESP.restart(): RTC memory kept */
        for (uint32_t a = FS_START; a < FLASH_SIZE; a++)
            if (d->chip.flash.mem[a] != 0x5A) {
                o->fs_touched = 1;
                break;
            }
        if (r == APP_UP_TO_DATE && b == NEW) {
            o->final_build = b;
            o->floor = p->security_floor;
            return;
        }
        if (r < 0)
            snprintf(o->why, sizeof o->why, "%.150s", fota_last_message(&d->agent));
        sim8266_power_removed(&d->chip); /* the next try after a power cycle */
    }
    o->final_build = dev.chip.running;
}

static void make_builds_as(uint32_t old_app, uint32_t new_app, uint8_t new_mode,
                           uint8_t new_size_code)
{
    builds[OLD].bin = bins[OLD];
    builds[OLD].len = sim8266_build_bin(bins[OLD], sizeof bins[OLD], 1, SIM8266_DOUT, 2, old_app,
                                        11, OLD_CODE);
    builds[OLD].version_code = OLD_CODE;
    builds[NEW].bin = bins[NEW];
    builds[NEW].len = sim8266_build_bin(bins[NEW], sizeof bins[NEW], 1, new_mode, new_size_code,
                                        new_app, 22, NEW_CODE);
    builds[NEW].version_code = NEW_CODE;
    sim8266_init(&dev.chip, flash_mem, FLASH_SIZE, FS_START, builds, 2);
    serve(&builds[NEW], NEW_CODE, NEW_COUNTER, 1);
}

/* Both built as the chip's own flash is wired (DOUT, 1 MB). */
static void make_builds(uint32_t old_app, uint32_t new_app)
{
    make_builds_as(old_app, new_app, SIM8266_DOUT, 2);
}

/* Finding 2 and the simulator: a cut at every flash operation of an update
 * (download, activation, eboot's copy, the first boot), before, torn and
 * after it, as a reset and as a power removal; images smaller than, equal to
 * and larger than the running one. */
static void powercut_suite(const char *name, uint32_t old_app, uint32_t new_app,
                           uint8_t new_mode)
{
    struct outcome o;
    make_builds_as(old_app, new_app, new_mode, 2);
    uint32_t ops0 = dev.chip.flash.ops;
    run_update(0, FOTA_CUT_NONE, 0, &o);
    uint32_t total = dev.chip.flash.ops - ops0 - 0;
    CHECK_EQ_INT(o.final_build, NEW);
    CHECK_EQ_INT(o.floor, NEW_COUNTER);
    if (o.final_build != NEW) {
        printf("  %s: the update without cuts failed: %s\n", name, o.why);
        return;
    }
    static const int modes[3] = {FOTA_CUT_BEFORE, FOTA_CUT_TORN, FOTA_CUT_AFTER};
    uint32_t runs = 0, bricked_reset = 0, bricked_removal = 0, bricked_removal_copy = 0;
    uint32_t not_updated = 0, floor_early = 0, fs_touched = 0, step = quick ? 7 : 1;
    char first[400] = "";
    for (uint32_t i = 1; i <= total; i += step) {
        for (int m = 0; m < 3; m++) {
            for (int removal = 0; removal < 2; removal++) {
                run_update(i, modes[m], removal, &o);
                runs++;
                floor_early += (uint32_t)o.floor_early;
                fs_touched += (uint32_t)o.fs_touched;
                if (o.bricked) {
                    if (!removal)
                        bricked_reset++;
                    else if (o.cut_in_copy)
                        bricked_removal_copy++;
                    else
                        bricked_removal++;
                    if (!first[0] && (!removal || !o.cut_in_copy))
                        snprintf(first, sizeof first, "op %u %s%s: %.160s", (unsigned)i,
                                 m == 0 ? "before" : m == 1 ? "torn" : "after",
                                 removal ? " (power removed)" : " (reset)", o.why);
                } else if (o.final_build != NEW || o.floor != NEW_COUNTER) {
                    not_updated++;
                    if (!first[0])
                        snprintf(first, sizeof first, "op %u mode %d%s: runs build %d, floor %u: %.160s",
                                 (unsigned)i, m, removal ? " (power removed)" : "",
                                 o.final_build, (unsigned)o.floor, o.why);
                }
            }
        }
    }
    printf("  %s (old %u bytes, new %u): %u flash operations, %u runs: bricked %u after a "
           "reset, %u after a power removal outside eboot's copy, %u after a power removal "
           "during eboot's copy (eboot loses its command with RTC memory: see docs/targets.md); "
           "%u not updated; %u raised the floor early\n",
           name, (unsigned)builds[OLD].len, (unsigned)builds[NEW].len, (unsigned)total,
           (unsigned)runs, (unsigned)bricked_reset, (unsigned)bricked_removal,
           (unsigned)bricked_removal_copy, (unsigned)not_updated, (unsigned)floor_early);
    if (first[0])
        printf("  first failure: %s\n", first);
    CHECK_EQ_INT(bricked_reset, 0);
    CHECK_EQ_INT(bricked_removal, 0);
    CHECK_EQ_INT(not_updated, 0);
    CHECK_EQ_INT(fs_touched, 0);
    CHECK_EQ_INT(floor_early, 0);
}

static void test_powercut_smaller_image(void)
{
    powercut_suite("smaller", 60000, 30000, SIM8266_DOUT);
}

static void test_powercut_equal_image(void)
{
    powercut_suite("equal", 45000, 45000, SIM8266_DOUT);
}

static void test_powercut_larger_image(void)
{
    powercut_suite("larger", 30000, 90000, SIM8266_DOUT);
}

/* Finding 4 under cuts: the image is built for QIO, so the port rewrites its
 * first sector before writing eboot's command. */
static void test_powercut_other_spi_mode(void)
{
    powercut_suite("larger, built for QIO", 30000, 90000, SIM8266_QIO);
}

/* Finding 2: where the port stages, for a small and a large running sketch:
 * the staging area never overlaps the copy of an image that fits it, nor the
 * running sketch, and ends before the records and the file system. */
static void test_staging_layout(void)
{
    make_builds(30000, 30000);
    static const uint32_t sketches[] = {34192, 200000, 300000};
    for (size_t i = 0; i < sizeof sketches / sizeof sketches[0]; i++) {
        struct fota_esp8266_hw hw;
        device_hw(&dev, &hw, sketches[i]);
        char detail[160];
        CHECK_EQ_INT(fota_esp8266_port_init(&dev.port, &hw, detail, sizeof detail), 0);
        struct fota_slot slot;
        CHECK_EQ_INT(dev.port.boot.slot_info(dev.port.boot.ctx, 1, &slot), 0);
        printf("  sketch %u bytes: staging 0x%x..0x%x, records 0x%x, file system 0x%x\n",
               (unsigned)sketches[i], (unsigned)slot.addr, (unsigned)(slot.addr + slot.size),
               (unsigned)dev.port.record_addr, (unsigned)FS_START);
        CHECK(slot.addr >= sketches[i]);                  /* not the running sketch */
        CHECK(slot.size <= slot.addr);                    /* copy source and target apart */
        CHECK(slot.addr + slot.size <= dev.port.record_addr);
        CHECK(dev.port.state_addr + 2 * SIM8266_SECTOR == FS_START);
        CHECK(dev.port.flash.write(dev.port.flash.ctx, FS_START, "abcd", 4) < 0);
        CHECK(dev.port.flash.erase(dev.port.flash.ctx, FS_START, SIM8266_SECTOR) < 0);
        CHECK(dev.port.flash.erase(dev.port.flash.ctx, slot.addr - SIM8266_SECTOR,
                                   SIM8266_SECTOR) < 0);
    }
    /* A sketch that leaves no room for staging is refused with a reason. */
    struct fota_esp8266_hw hw;
    device_hw(&dev, &hw, FS_START - 4 * SIM8266_SECTOR);
    char detail[160] = "";
    CHECK_EQ_INT(fota_esp8266_port_init(&dev.port, &hw, detail, sizeof detail), FOTA_ERR_TOO_BIG);
    CHECK(strstr(detail, "no room") != NULL);
}

/* Finding 5: the update is staged (FOTA_UPDATE_READY) but the power goes
 * before the restart: RTC memory and eboot's command are lost, the old
 * sketch boots. That must not count as the new image booting (pending,
 * then confirmed, raising the floor); the update is downloaded again. */
static void test_lost_eboot_command(void)
{
    make_builds(40000, 50000);
    sim8266_serial_flash(&dev.chip, OLD);
    sim8266_power_removed(&dev.chip);
    CHECK_EQ_INT(sim8266_boot(&dev.chip), OLD);
    CHECK_EQ_INT(app_run(&dev), APP_RESTART); /* staged, eboot command written */
    CHECK(dev.chip.rtc.valid);
    sim8266_power_removed(&dev.chip);         /* instead of the restart */
    CHECK_EQ_INT(sim8266_boot(&dev.chip), OLD);
    CHECK_EQ_INT(app_begin(&dev), 0);
    CHECK(dev.port.staged_lost);
    CHECK_EQ_INT(fota_running_state(&dev.agent), FOTA_IMG_UNDEFINED); /* as serial-flashed */
    CHECK_EQ_INT(fota_persist_state(&dev.agent)->security_floor, 0);
    CHECK_EQ_INT(fota_persist_state(&dev.agent)->rejected_version, 0);
    uint32_t requests = srv.image_requests;
    CHECK_EQ_INT(app_check(&dev), APP_RESTART); /* downloaded and staged again */
    CHECK_EQ_INT(srv.image_requests, requests + 1);
    CHECK_EQ_INT(fota_persist_state(&dev.agent)->security_floor, 0);
    CHECK_EQ_INT(sim8266_boot(&dev.chip), NEW); /* ESP.restart() this time */
    CHECK_EQ_INT(app_begin(&dev), 0);           /* healthy: confirmed */
    CHECK(!dev.port.staged_lost);
    CHECK_EQ_INT(fota_running_state(&dev.agent), FOTA_IMG_VALID);
    CHECK_EQ_INT(fota_persist_state(&dev.agent)->security_floor, NEW_COUNTER);
}

/* OLD runs and has staged NEW (FOTA_UPDATE_READY, restart pending); a third
 * build, version 300, exists for the server to offer next. */
static void old_staged_new_and_a_third_build(void)
{
    make_builds(40000, 50000);
    builds[2].bin = bins[2];
    builds[2].len = sim8266_build_bin(bins[2], sizeof bins[2], 1, SIM8266_DOUT, 2, 60000, 33, 300);
    builds[2].version_code = 300;
    dev.chip.n_builds = 3;
    sim8266_serial_flash(&dev.chip, OLD);
    sim8266_power_removed(&dev.chip);
    CHECK_EQ_INT(sim8266_boot(&dev.chip), OLD);
    CHECK_EQ_INT(app_run(&dev), APP_RESTART);
}

/* Finding 3: after FOTA_UPDATE_READY the application checks once more
 * before it restarts, and the server has a newer release by then. The staged
 * image belongs to eboot from the moment its command is written: a reset
 * during a second download would have eboot copy a half-written image. */
static void test_second_check_before_restart(void)
{
    old_staged_new_and_a_third_build();
    uint32_t staging = dev.port.staging_addr, size = builds[NEW].len;
    CHECK(memcmp(dev.chip.flash.mem + staging, builds[NEW].bin, size) == 0);
    serve(&builds[2], 300, 3, 2); /* a newer release appears */
    /* the second check, with a reset at the fourth flash operation it makes */
    dev.chip.flash.on_cut = on_cut;
    dev.chip.flash.cut_at = dev.chip.flash.ops + 4;
    dev.chip.flash.cut_mode = FOTA_CUT_BEFORE;
    uint32_t ops = dev.chip.flash.ops;
    static volatile int r, cut;
    cut = 0;
    if (setjmp(cut_jmp) == 0)
        r = app_check(&dev);
    else
        cut = 1;
    dev.chip.flash.cut_at = 0;
    printf("  second check: %s, %u flash operations: %s\n", cut ? "reset during it" : "returned",
           (unsigned)(dev.chip.flash.ops - ops), cut ? "" : fota_last_message(&dev.agent));
    CHECK(!cut);
    CHECK_EQ_INT(r, FOTA_ERR_BUSY);
    CHECK(strstr(fota_last_message(&dev.agent), "reboot to run it") != NULL); /* the agent's rule */
    CHECK(memcmp(dev.chip.flash.mem + staging, builds[NEW].bin, size) == 0);
    CHECK(dev.chip.rtc.valid);
    CHECK_EQ_INT(sim8266_boot(&dev.chip), NEW); /* the restart, or any reset */
    CHECK_EQ_INT(app_begin(&dev), 0);
    CHECK_EQ_INT(app_check(&dev), APP_RESTART); /* and now the newer one */
    CHECK_EQ_INT(sim8266_boot(&dev.chip), 2);
}

/* Finding 4: an image built for QIO on a chip whose flash is wired for DOUT
 * (an ESP8285): the staged header gets the chip's mode, as Updater writes
 * it, so the ROM boots it and eboot leaves sector 0 alone (same eboot). */
static void test_header_spi_mode(void)
{
    make_builds_as(40000, 50000, SIM8266_QIO, 2);
    sim8266_serial_flash(&dev.chip, OLD);
    sim8266_power_removed(&dev.chip);
    CHECK_EQ_INT(sim8266_boot(&dev.chip), OLD);
    CHECK_EQ_INT(app_run(&dev), APP_RESTART);
    int b = sim8266_boot(&dev.chip);
    if (b < 0)
        printf("  after the update: %s\n", dev.chip.why);
    CHECK_EQ_INT(b, NEW);
    CHECK_EQ_INT(dev.chip.sector0_rewrites, 0);
    CHECK_EQ_INT(dev.chip.flash.mem[2], SIM8266_DOUT);
    CHECK_EQ_INT(app_begin(&dev), 0);
    CHECK_EQ_INT(fota_persist_state(&dev.agent)->security_floor, NEW_COUNTER);
}

/* Finding 4: an image whose header names a 4 MB flash, on a 1 MB chip, is
 * refused at its first write, and nothing is staged. */
static void test_header_flash_size(void)
{
    make_builds_as(40000, 50000, SIM8266_DOUT, 4);
    sim8266_serial_flash(&dev.chip, OLD);
    sim8266_power_removed(&dev.chip);
    CHECK_EQ_INT(sim8266_boot(&dev.chip), OLD);
    int r = app_run(&dev);
    printf("  4 MB image on a 1 MB chip: %s\n", fota_last_message(&dev.agent));
    CHECK_EQ_INT(r, FOTA_ERR_IMAGE_HEADER);
    CHECK(!dev.chip.rtc.valid);
    CHECK_EQ_INT(sim8266_boot(&dev.chip), OLD);
}

/* Finding 5: the first run after a serial flash. esptool started the sketch
 * from the ROM's download mode, which stays latched: a restart would enter
 * it again and wait for esptool. The port refuses the update until the chip
 * was reset by its pin or power, and says why. */
static void test_uart_download_boot_mode(void)
{
    make_builds(40000, 50000);
    sim8266_serial_flash(&dev.chip, OLD); /* runs OLD, boot mode latched as UART download */
    int r = app_run(&dev);
    printf("  after a serial flash: %s\n", fota_last_message(&dev.agent));
    CHECK_EQ_INT(r, FOTA_ERR_BOOT_MODE);
    CHECK(strstr(fota_last_message(&dev.agent), "FOTA_ERR_BOOT_MODE") != NULL);
    CHECK(!dev.chip.rtc.valid);
    CHECK_EQ_INT(srv.image_requests, 0);
    sim8266_power_removed(&dev.chip); /* a power cycle: flash boot */
    CHECK_EQ_INT(sim8266_boot(&dev.chip), OLD);
    CHECK_EQ_INT(app_run(&dev), APP_RESTART);
    CHECK_EQ_INT(sim8266_boot(&dev.chip), NEW);
}

/* The agent's rule on any port (here the ESP-IDF-like simulated bootloader,
 * whose boot control guards nothing): after FOTA_UPDATE_READY, fota_start()
 * refuses until the reboot and the activated slot is never erased. */
static void test_agent_keeps_activated_slot(void)
{
    static uint8_t mem[4 * 65536 + 0x20000];
    struct sim_flash fl;
    struct sim_layout l;
    struct sim_boot boot;
    sim_layout_default(&l, 65536, SIM8266_SECTOR);
    CHECK_EQ_INT(sim_flash_open_buf(&fl, mem, sizeof mem, SIM8266_SECTOR, 4), 0);
    CHECK_EQ_INT(sim_boot_init(&boot, &fl, &l, &fota_crypto_mbedtls), 0);
    CHECK_EQ_INT(sim_bootloader(&boot), -1); /* blank: nothing to boot, but slot 0 runs */
    boot.running = 0;
    make_builds(20000, 30000);
    struct device *d = &dev;
    memset(&d->cfg, 0, sizeof d->cfg);
    d->cfg.product = "sim8266";
    d->cfg.chip = FOTA_CHIP_ESP8266;
    d->cfg.version_code = OLD_CODE;
    d->cfg.manifest_url = "http://updates.example/manifest";
    d->cfg.pubkeys = (const uint8_t(*)[FOTA_P256_PUBKEY_SIZE])key.pub;
    d->cfg.n_pubkeys = 1;
    d->cfg.flash = &fl.iface;
    d->cfg.boot = &boot.iface;
    d->cfg.transports[0] = &srv.iface;
    d->cfg.n_transports = 1;
    d->cfg.crypto = &fota_crypto_mbedtls;
    d->cfg.state_addr = l.state_addr;
    d->cfg.state_size = l.state_size;
    d->cfg.ctx = d;
    d->cfg.now_ms = now_ms;
    d->cfg.delay_ms = delay_ms;
    struct fota_buffers buf = {d->rx,  sizeof d->rx,  d->line,     sizeof d->line,
                               d->url, sizeof d->url, d->manifest, sizeof d->manifest, NULL, NULL, 0};
    CHECK_EQ_INT(fota_init(&d->agent, &d->cfg, &buf), 0);
    CHECK_EQ_INT(fota_run(&d->agent), FOTA_UPDATE_READY);
    serve(&builds[NEW], NEW_CODE + 1, NEW_COUNTER, 2); /* something newer appears */
    uint32_t ops = fl.ops;
    CHECK_EQ_INT(fota_run(&d->agent), FOTA_ERR_BUSY);
    fota_abort(&d->agent); /* no way around it but the reboot */
    CHECK_EQ_INT(fota_run(&d->agent), FOTA_ERR_BUSY);
    CHECK_EQ_INT(fl.ops, ops);
    CHECK(memcmp(mem + l.slot_addr[1], builds[NEW].bin, builds[NEW].len) == 0);
}

/* Finding 5: an image that is never confirmed. ESP8266 cannot roll back, so
 * "pending" would never end and, before, every later check failed with
 * FOTA_ERR_PENDING_CONFIRM: the fixed release could never be installed. */
static void test_unconfirmed_image_does_not_block(void)
{
    old_staged_new_and_a_third_build();
    serve(&builds[2], 300, 3, 2); /* the fix for a release that never confirms */
    for (int boot = 0; boot < 2; boot++) { /* NEW boots twice, never confirmed */
        if (boot > 0)
            sim8266_power_removed(&dev.chip); /* ESP.restart() first, then a power cycle */
        CHECK_EQ_INT(sim8266_boot(&dev.chip), NEW);
        struct fota_esp8266_hw hw;
        device_hw(&dev, &hw, sim8266_sketch_size(&dev.chip));
        CHECK_EQ_INT(fota_esp8266_port_init(&dev.port, &hw, dev.detail, sizeof dev.detail), 0);
        struct fota_buffers buf = {dev.rx,  sizeof dev.rx,  dev.line,     sizeof dev.line,
                                   dev.url, sizeof dev.url, dev.manifest, sizeof dev.manifest, NULL, NULL, 0};
        dev.cfg.version_code = NEW_CODE;
        dev.cfg.flash = &dev.port.flash;
        dev.cfg.boot = &dev.port.boot;
        dev.cfg.state_addr = dev.port.state_addr;
        CHECK_EQ_INT(fota_init(&dev.agent, &dev.cfg, &buf), 0);
        CHECK_EQ_INT(fota_running_state(&dev.agent), FOTA_IMG_PENDING_VERIFY);
    }
    int r = app_check(&dev); /* no fota_confirm() */
    printf("  check from an unconfirmed image: %s\n", r == APP_RESTART ? "updated" :
           fota_last_message(&dev.agent));
    CHECK_EQ_INT(r, APP_RESTART);
    CHECK_EQ_INT(fota_persist_state(&dev.agent)->security_floor, 0); /* NEW never confirmed */
    CHECK_EQ_INT(sim8266_boot(&dev.chip), 2);
    CHECK_EQ_INT(app_begin(&dev), 0);
    CHECK_EQ_INT(fota_persist_state(&dev.agent)->security_floor, 3);
}

/* Minor finding: rollback() on ESP8266 is FOTA_ERR_NOT_SUPPORTED, as
 * Fota.h and docs/targets.md say (it was FOTA_ERR_BOOT). */
static void test_rollback_not_supported(void)
{
    make_builds(40000, 50000);
    sim8266_serial_flash(&dev.chip, OLD);
    sim8266_power_removed(&dev.chip);
    CHECK_EQ_INT(sim8266_boot(&dev.chip), OLD);
    CHECK_EQ_INT(app_begin(&dev), 0);
    CHECK_EQ_INT(fota_rollback(&dev.agent), FOTA_ERR_NOT_SUPPORTED);
    CHECK_EQ_INT(fota_last_error(&dev.agent), FOTA_ERR_NOT_SUPPORTED);
}

static const struct test_case tests[] = {
    TEST(test_agent_keeps_activated_slot),
    TEST(test_unconfirmed_image_does_not_block),
    TEST(test_rollback_not_supported),
    TEST(test_uart_download_boot_mode),
    TEST(test_header_spi_mode),
    TEST(test_header_flash_size),
    TEST(test_second_check_before_restart),
    TEST(test_lost_eboot_command),
    TEST(test_staging_layout),
    TEST(test_powercut_smaller_image),
    TEST(test_powercut_equal_image),
    TEST(test_powercut_larger_image),
    TEST(test_powercut_other_spi_mode),
};

int main(int argc, char **argv)
{
    quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    srv.iface = (struct fota_transport){"memory", &srv, srv_connect, srv_send, srv_recv,
                                        srv_close, NULL};
    if (keys_generate(&key) != 0) {
        fprintf(stderr, "key generation failed\n");
        return 2;
    }
    int r = test_main("esp8266_port", tests, TEST_COUNT(tests));
    keys_free(&key);
    return r;
}
