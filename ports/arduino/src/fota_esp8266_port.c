/* The ESP8266 port's logic: see fota_esp8266_port.h. */
#include "fota_esp8266_port.h"

#include <stdio.h>
#include <string.h>

#include "fota/esp_image.h"

#define SECTOR FOTA_ESP8266_SECTOR
#define NO_SLOT 0xFFFFFFFFu

static uint32_t round_up(uint32_t v)
{
    return (v + SECTOR - 1) & ~(SECTOR - 1);
}

/* ---- Flash for the agent: the staging area and the two records only ------ */

static int in_writable(const struct fota_esp8266_port *p, uint32_t addr, uint32_t len)
{
    return addr >= p->staging_addr && len <= p->state_addr + 2 * SECTOR - addr;
}

static int flash_read(void *ctx, uint32_t addr, void *buf, uint32_t len)
{
    struct fota_esp8266_port *p = ctx;
    return p->hw.read(p->hw.ctx, addr, buf, len);
}

/* Once eboot's command is written, the staged image is eboot's until the
 * restart: a reset at any moment runs the copy, and eboot has no fallback,
 * so a second download into the staging area (a second check before the
 * restart) would have it copy a half-written image. */
static int staged_image_locked(const struct fota_esp8266_port *p, uint32_t addr)
{
    return p->armed && addr < p->record_addr;
}

static int flash_write(void *ctx, uint32_t addr, const void *buf, uint32_t len)
{
    struct fota_esp8266_port *p = ctx;
    if (!in_writable(p, addr, len))
        return FOTA_ERR_INVALID_ARG; /* never the running sketch */
    if (staged_image_locked(p, addr))
        return FOTA_ERR_BUSY;
    return p->hw.write(p->hw.ctx, addr, buf, len);
}

static int flash_erase(void *ctx, uint32_t addr, uint32_t len)
{
    struct fota_esp8266_port *p = ctx;
    if (!in_writable(p, addr, len))
        return FOTA_ERR_INVALID_ARG;
    if (staged_image_locked(p, addr))
        return FOTA_ERR_BUSY;
    for (uint32_t a = addr; a < addr + len; a += SECTOR) {
        int r = p->hw.erase_sector(p->hw.ctx, a);
        if (r < 0)
            return r;
    }
    return 0;
}

/* ---- Boot control ----------------------------------------------------------- */

static int save_record(struct fota_esp8266_port *p)
{
    return fota_record_save(&p->store, &p->rec) == 0 ? 0 : FOTA_ERR_BOOT;
}

static int boot_running(void *ctx, int *slot, int *state)
{
    struct fota_esp8266_port *p = ctx;
    *slot = (int)p->rec.active;
    *state = (int)p->rec.state;
    return 0;
}

static int boot_slot_info(void *ctx, int slot, struct fota_slot *out)
{
    struct fota_esp8266_port *p = ctx;
    if (slot < 0 || slot > 1)
        return FOTA_ERR_INVALID_ARG;
    if ((uint32_t)slot == p->rec.active) {
        out->addr = 0;
        out->size = p->staging_addr;
    } else if (p->armed) {
        return FOTA_ERR_BUSY; /* staged for eboot: restart first */
    } else {
        out->addr = p->staging_addr;
        out->size = p->staging_size;
    }
    return 0;
}

/* The staged Arduino image: eboot (at 0) and the app image at 0x1000; its
 * length is where the app's last segment ends, plus the checksum, padded to
 * 16 bytes. 0 when it does not parse. */
static uint32_t staged_image_size(struct fota_esp8266_port *p)
{
    uint8_t hdr[FOTA_ESP8266_HEADER_SIZE];
    uint32_t pos = p->staging_addr + FOTA_ESP8266_APP_OFFSET;
    uint32_t end = p->staging_addr + p->staging_size;
    if (p->hw.read(p->hw.ctx, pos, hdr, sizeof hdr) < 0 || hdr[0] != FOTA_ESP_IMAGE_MAGIC)
        return 0;
    uint32_t nseg = hdr[1];
    pos += FOTA_ESP8266_HEADER_SIZE;
    for (uint32_t i = 0; i < nseg && i < FOTA_ESP_MAX_SEGMENTS; i++) {
        uint8_t seg[8];
        if (p->hw.read(p->hw.ctx, pos, seg, sizeof seg) < 0)
            return 0;
        uint32_t len = (uint32_t)seg[4] | (uint32_t)seg[5] << 8 | (uint32_t)seg[6] << 16 |
                       (uint32_t)seg[7] << 24;
        if (len > end - pos - 8)
            return 0;
        pos += 8 + len;
    }
    return ((pos | 15u) + 1u) - p->staging_addr;
}

static int boot_set_next(void *ctx, int slot)
{
    struct fota_esp8266_port *p = ctx;
    if (slot < 0 || slot > 1 || (uint32_t)slot == p->rec.active)
        return FOTA_ERR_INVALID_ARG;
    uint32_t size = staged_image_size(p);
    if (size == 0 || size > p->staging_size)
        return FOTA_ERR_BOOT;
    struct fota_esp8266_record old = p->rec;
    p->rec.staged = (uint32_t)slot;
    p->rec.image_size = size;
    if (save_record(p) < 0) {
        p->rec = old;
        return FOTA_ERR_BOOT;
    }
    p->hw.eboot_copy(p->hw.ctx, p->staging_addr, size);
    p->armed = 1;
    return 0;
}

static int boot_confirm(void *ctx)
{
    struct fota_esp8266_port *p = ctx;
    if (p->rec.state == FOTA_IMG_VALID)
        return 0;
    p->rec.state = FOTA_IMG_VALID;
    return save_record(p);
}

static int boot_rollback(void *ctx)
{
    (void)ctx;
    return FOTA_ERR_NOT_SUPPORTED; /* eboot overwrote the previous sketch */
}

/* The logical slot that does not run is the staging area: eboot keeps no
 * state for it, and nothing is ever rolled back (not FOTA_IMG_ABORTED), so
 * the agent takes an activation that did not happen for an unfinished one
 * and tries again, never for a rejected version. */
static int boot_slot_state(void *ctx, int slot, int *state)
{
    struct fota_esp8266_port *p = ctx;
    if (slot < 0 || slot > 1)
        return FOTA_ERR_INVALID_ARG;
    *state = (uint32_t)slot == p->rec.active ? (int)p->rec.state : FOTA_IMG_UNDEFINED;
    return 0;
}

/* 1 when the sketch at 0x0 is, byte for byte, the image staged last (eboot
 * copied it), 0 when not, FOTA_ERR_FLASH_READ. */
static int running_is_staged(struct fota_esp8266_port *p)
{
    uint8_t a[128], b[128];
    uint32_t size = p->rec.image_size;
    if (size == 0 || size > p->staging_size)
        return 0;
    for (uint32_t off = 0; off < size; off += sizeof a) { /* bounded by the staging size */
        uint32_t n = size - off < sizeof a ? size - off : (uint32_t)sizeof a;
        if (p->hw.read(p->hw.ctx, off, a, n) < 0 ||
            p->hw.read(p->hw.ctx, p->staging_addr + off, b, n) < 0)
            return FOTA_ERR_FLASH_READ;
        if (memcmp(a, b, n) != 0)
            return 0;
    }
    return 1;
}

/* ---- Init ------------------------------------------------------------------------- */

int fota_esp8266_port_init(struct fota_esp8266_port *p, const struct fota_esp8266_hw *hw,
                           char *detail, size_t detail_size)
{
    memset(p, 0, sizeof *p);
    p->hw = *hw;
    uint32_t fs_start = hw->fs_start & ~(SECTOR - 1);
    uint32_t sketch = round_up(hw->sketch_size);
    if (fs_start < sketch + 6 * SECTOR) {
        snprintf(detail, detail_size, "no room after the sketch (%u bytes) for staging an update",
                 (unsigned)sketch);
        return FOTA_ERR_TOO_BIG;
    }
    p->state_addr = fs_start - 2 * SECTOR;
    p->record_addr = p->state_addr - 2 * SECTOR;
    /* The staging area is the end of the free space (as Updater::begin
     * stages), and starts no lower than half of the space: an image that
     * fits it is never larger than its start, so eboot's copy to 0x0 never
     * writes a sector it has still to read. eboot clears its command only
     * after the copy, so a reset during the copy starts it again from the
     * first sector: with overlapping ranges that re-reads sectors the first
     * pass overwrote (an image larger than the running sketch, staged right
     * after it, as this port did before). Not below the running sketch. */
    uint32_t half = round_up(p->record_addr / 2);
    p->staging_addr = sketch > half ? sketch : half;
    p->staging_size = p->record_addr - p->staging_addr;
    if (p->staging_size < 2 * SECTOR) {
        snprintf(detail, detail_size,
                 "no room for staging an update: the sketch (%u bytes) takes the space before the "
                 "file system at 0x%x",
                 (unsigned)sketch, (unsigned)fs_start);
        return FOTA_ERR_TOO_BIG;
    }
    p->flash = (struct fota_flash){p, flash_read, flash_write, flash_erase, SECTOR, 4};
    p->boot = (struct fota_boot){p,           boot_running,  boot_slot_info, boot_set_next,
                                 boot_confirm, boot_rollback, boot_slot_state};
    if (fota_record_init(&p->store, &p->flash, p->record_addr, 2 * SECTOR, sizeof p->rec) != 0) {
        snprintf(detail, detail_size, "boot record at 0x%x is not usable", (unsigned)p->record_addr);
        return FOTA_ERR_INVALID_ARG;
    }
    if (fota_record_load(&p->store, &p->rec) != 0) {
        p->rec = (struct fota_esp8266_record){0, FOTA_IMG_UNDEFINED, NO_SLOT, 0};
    } else if (p->rec.staged <= 1) {
        /* An image was staged. Whether eboot copied it shows in the flash:
         * its command lives in RTC memory, which a power removal before the
         * restart erases (then the old sketch boots as if nothing happened). */
        int copied = running_is_staged(p);
        if (copied < 0) {
            snprintf(detail, detail_size, "reading the sketch and the staged image failed");
            return FOTA_ERR_BOOT;
        }
        if (copied) { /* the staged image runs now, pending verification */
            p->rec.active = p->rec.staged;
            p->rec.state = FOTA_IMG_PENDING_VERIFY;
        } else {
            p->staged_lost = 1;
        }
        p->rec.staged = NO_SLOT;
        if (save_record(p) < 0) {
            snprintf(detail, detail_size, "saving the boot record at 0x%x failed",
                     (unsigned)p->record_addr);
            return FOTA_ERR_BOOT;
        }
    }
    return 0;
}
