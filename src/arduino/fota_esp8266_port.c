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

/* Bytes of flash an image header's size nibble names (EspClass::
 * magicFlashChipSize); 0 for codes it does not know, which pass as there. */
static uint32_t header_flash_size(uint8_t byte3)
{
    static const uint32_t sizes[16] = {0x80000, 0x40000, 0x100000, 0x200000, 0x400000, 0, 0, 0,
                                       0x800000, 0x1000000};
    return sizes[byte3 >> 4];
}

/* The staged image's first header (eboot's, which the ROM reads at 0x0). */
static int check_header(const struct fota_esp8266_port *p, const uint8_t hdr[4])
{
    if (hdr[0] != FOTA_ESP_IMAGE_MAGIC)
        return FOTA_ERR_IMAGE_HEADER;
    if (p->hw.check_flash_size && header_flash_size(hdr[3]) > p->hw.flash_real_size)
        return FOTA_ERR_IMAGE_HEADER; /* built for a larger flash than this chip has */
    return 0;
}

static int flash_write(void *ctx, uint32_t addr, const void *buf, uint32_t len)
{
    struct fota_esp8266_port *p = ctx;
    if (!in_writable(p, addr, len))
        return FOTA_ERR_INVALID_ARG; /* never the running sketch */
    if (staged_image_locked(p, addr))
        return FOTA_ERR_BUSY;
    if (addr == p->staging_addr && len >= 4) {
        int r = check_header(p, buf); /* refused before the rest is downloaded */
        if (r < 0)
            return r;
    }
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
    } else if (p->hw.boot_mode == 1) {
        return FOTA_ERR_BOOT_MODE; /* the restart would hang in download mode */
    } else {
        out->addr = p->staging_addr;
        out->size = p->staging_size - SECTOR; /* the spare sector of set_next */
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

/* Copy `len` bytes from `from` to the erased `to`, with the SPI mode byte
 * (offset 2) replaced when `mode` is not negative. */
static int copy_sector(struct fota_esp8266_port *p, uint32_t from, uint32_t to, int mode)
{
    uint8_t buf[128];
    int r;
    if ((r = p->hw.erase_sector(p->hw.ctx, to)) < 0)
        return r;
    for (uint32_t off = 0; off < SECTOR; off += sizeof buf) { /* one sector */
        if ((r = p->hw.read(p->hw.ctx, from + off, buf, sizeof buf)) < 0)
            return r;
        if (off == 0 && mode >= 0)
            buf[2] = (uint8_t)mode;
        if ((r = p->hw.write(p->hw.ctx, to + off, buf, sizeof buf)) < 0)
            return r;
    }
    return 0;
}

/* The staged header gets the running chip's SPI mode, as Updater writes it:
 * an image built for QIO or DIO does not boot on a chip wired for DOUT
 * (ESP8285), and with the same eboot the staged sector 0 then equals the
 * running one, which eboot's copy skips instead of erasing and rewriting
 * the sector the ROM boots from. The agent has verified the image as
 * downloaded; only now, after that, is the byte changed: its first sector
 * goes to the spare sector after the image and comes back with the byte
 * replaced. A cut in between leaves a staged image that fails the agent's
 * re-hash, which downloads it again; eboot's command is not written yet. */
static int adjust_header(struct fota_esp8266_port *p, uint32_t size)
{
    uint8_t hdr[4];
    int r = p->hw.read(p->hw.ctx, p->staging_addr, hdr, sizeof hdr);
    if (r < 0)
        return r;
    if ((r = check_header(p, hdr)) < 0)
        return r;
    if (hdr[2] == p->hw.flash_mode)
        return 0;
    uint32_t spare = p->staging_addr + round_up(size);
    if (spare + SECTOR > p->record_addr)
        return FOTA_ERR_TOO_BIG;
    if ((r = copy_sector(p, p->staging_addr, spare, -1)) < 0 ||
        (r = copy_sector(p, spare, p->staging_addr, p->hw.flash_mode)) < 0)
        return r;
    if ((r = p->hw.read(p->hw.ctx, p->staging_addr, hdr, sizeof hdr)) < 0)
        return r;
    return hdr[2] == p->hw.flash_mode ? 0 : FOTA_ERR_FLASH_VERIFY;
}

static int boot_set_next(void *ctx, int slot)
{
    struct fota_esp8266_port *p = ctx;
    if (slot < 0 || slot > 1 || (uint32_t)slot == p->rec.active)
        return FOTA_ERR_INVALID_ARG;
    uint32_t size = staged_image_size(p);
    if (size == 0 || size > p->staging_size - SECTOR)
        return FOTA_ERR_BOOT;
    int r = adjust_header(p, size);
    if (r < 0)
        return r;
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
    /* block_size SECTOR: the SDK's spi_flash_erase_sector (ESP.flashEraseSector)
     * is the only erase the core offers */
    p->flash = (struct fota_flash){p, flash_read, flash_write, flash_erase, SECTOR, 4, SECTOR};
    /* no rollback: eboot overwrites the previous sketch */
    p->boot = (struct fota_boot){p,           boot_running, boot_slot_info, boot_set_next,
                                 boot_confirm, NULL,         boot_slot_state, NULL};
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
