/*
 * ESP8266 port: the Updater's staging scheme. The new image is written into
 * the free flash after the running sketch, and at the next boot eboot copies
 * it over the sketch (ACTION_COPY_RAW, as Updater::end does). Logical slots
 * alternate between 0 and 1 so that the agent sees "the other slot" after an
 * update, although physically the sketch always runs from flash 0x0 and the
 * staging area is always the same. A small journaled boot record (two
 * sectors) remembers the logical slot and whether the image was confirmed.
 * eboot overwrites the old sketch, so nothing can be rolled back.
 *
 * Flash map:  0x0 sketch (eboot + app) | staging | boot record (2 sectors)
 *             | agent state (2 sectors) | _FS_start: file system ...
 */
#if defined(ARDUINO_ARCH_ESP8266)

#include <Arduino.h>
#include <ESP8266WiFi.h>
#include <eboot_command.h>
#include <flash_hal.h>

#include "Fota.h"
#include "fota/record.h"

extern "C" const struct fota_crypto fota_crypto_bearssl;

namespace {

const uint32_t kSector = FLASH_SECTOR_SIZE;

struct BootRecord {
    uint32_t active;     /* logical slot running (0/1) */
    uint32_t state;      /* enum fota_img_state of the running image */
    uint32_t staged;     /* logical slot staged for eboot, or 0xFFFFFFFF */
    uint32_t image_size; /* bytes eboot copies */
};

struct Esp8266Port {
    struct fota_flash flash;
    struct fota_boot boot;
    struct fota_record_store store;
    BootRecord rec;
    uint32_t staging_addr, staging_size, record_addr, state_addr;
};

Esp8266Port port;

int flash_read(void *ctx, uint32_t addr, void *buf, uint32_t len)
{
    (void)ctx;
    return ESP.flashRead(addr, static_cast<uint8_t *>(buf), len) ? 0 : FOTA_ERR_FLASH_READ;
}

int flash_write(void *ctx, uint32_t addr, const void *buf, uint32_t len)
{
    (void)ctx;
    /* Only the staging area and the two records: never the running sketch. */
    if (addr < port.staging_addr || addr + len > port.state_addr + 2 * kSector)
        return FOTA_ERR_INVALID_ARG;
    return ESP.flashWrite(addr, static_cast<const uint8_t *>(buf), len) ? 0
                                                                          : FOTA_ERR_FLASH_WRITE;
}

int flash_erase(void *ctx, uint32_t addr, uint32_t len)
{
    (void)ctx;
    if (addr < port.staging_addr || addr + len > port.state_addr + 2 * kSector)
        return FOTA_ERR_INVALID_ARG;
    for (uint32_t a = addr; a < addr + len; a += kSector)
        if (!ESP.flashEraseSector(a / kSector))
            return FOTA_ERR_FLASH_ERASE;
    return 0;
}

int save_record()
{
    return fota_record_save(&port.store, &port.rec) == 0 ? 0 : FOTA_ERR_BOOT;
}

int boot_running(void *ctx, int *slot, int *state)
{
    (void)ctx;
    *slot = (int)port.rec.active;
    *state = (int)port.rec.state;
    return 0;
}

int boot_slot_info(void *ctx, int slot, struct fota_slot *out)
{
    (void)ctx;
    if (slot < 0 || slot > 1)
        return FOTA_ERR_INVALID_ARG;
    if ((uint32_t)slot == port.rec.active) {
        out->addr = 0;
        out->size = port.staging_addr;
    } else {
        out->addr = port.staging_addr;
        out->size = port.staging_size;
    }
    return 0;
}

/* The staged Arduino image: eboot (at 0) and the app image at 0x1000; its
 * length is where the app's last segment ends, plus the checksum, padded to
 * 16 bytes. */
uint32_t staged_image_size()
{
    uint8_t hdr[8];
    uint32_t pos = port.staging_addr + 0x1000;
    if (!ESP.flashRead(pos, hdr, sizeof hdr) || hdr[0] != 0xE9)
        return 0;
    uint32_t nseg = hdr[1];
    pos += 8;
    for (uint32_t i = 0; i < nseg && i < 16; i++) {
        uint32_t seg[2];
        if (!ESP.flashRead(pos, seg, sizeof seg))
            return 0;
        pos += 8 + seg[1];
        if (pos > port.staging_addr + port.staging_size)
            return 0;
    }
    return ((pos | 15u) + 1u) - port.staging_addr;
}

int boot_set_next(void *ctx, int slot)
{
    (void)ctx;
    if (slot < 0 || slot > 1 || (uint32_t)slot == port.rec.active)
        return FOTA_ERR_INVALID_ARG;
    uint32_t size = staged_image_size();
    if (size == 0 || size > port.staging_size)
        return FOTA_ERR_BOOT;
    BootRecord old = port.rec;
    port.rec.staged = (uint32_t)slot;
    port.rec.image_size = size;
    if (save_record() < 0) {
        port.rec = old;
        return FOTA_ERR_BOOT;
    }
    eboot_command cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.action = ACTION_COPY_RAW;
    cmd.args[0] = port.staging_addr;
    cmd.args[1] = 0x00000;
    cmd.args[2] = size;
    eboot_command_write(&cmd);
    return 0;
}

int boot_confirm(void *ctx)
{
    (void)ctx;
    if (port.rec.state == FOTA_IMG_VALID)
        return 0;
    port.rec.state = FOTA_IMG_VALID;
    return save_record();
}

int boot_rollback(void *ctx)
{
    (void)ctx;
    return FOTA_ERR_NOT_SUPPORTED; /* eboot overwrote the previous sketch */
}

} // namespace

int fota_arduino_platform_init(struct fota_arduino_platform *out, char *detail, size_t size)
{
    /* FS_PHYS_ADDR, not &_FS_start: with FLASH_MAP_SUPPORT (the boards' "autoflash"
     * layouts) the file system start comes from a table, not a linker symbol. */
    uint32_t fs_start = FS_PHYS_ADDR;
    uint32_t sketch = (ESP.getSketchSize() + kSector - 1) & ~(kSector - 1);
    if (fs_start < sketch + 6 * kSector) {
        snprintf(detail, size, "no room after the sketch (%u bytes) for staging an update",
                 (unsigned)sketch);
        return FOTA_ERR_TOO_BIG;
    }
    port.state_addr = fs_start - 2 * kSector;
    port.record_addr = port.state_addr - 2 * kSector;
    port.staging_addr = sketch;
    port.staging_size = port.record_addr - sketch;
    port.flash = {NULL, flash_read, flash_write, flash_erase, kSector, 4};
    /* no slot_state: eboot keeps no per-slot state to ask */
    port.boot = {NULL,         boot_running,  boot_slot_info, boot_set_next,
                 boot_confirm, boot_rollback, NULL};
    if (fota_record_init(&port.store, &port.flash, port.record_addr, 2 * kSector,
                         sizeof port.rec) != 0)
        return FOTA_ERR_INVALID_ARG;
    if (fota_record_load(&port.store, &port.rec) != 0) {
        port.rec = {0, FOTA_IMG_UNDEFINED, 0xFFFFFFFFu, 0};
    } else if (port.rec.staged <= 1) {
        /* eboot ran the copy before this boot: the staged image runs now,
         * pending verification. */
        port.rec.active = port.rec.staged;
        port.rec.state = FOTA_IMG_PENDING_VERIFY;
        port.rec.staged = 0xFFFFFFFFu;
        if (save_record() < 0)
            return FOTA_ERR_BOOT;
    }
    out->flash = &port.flash;
    out->boot = &port.boot;
    out->crypto = &fota_crypto_bearssl;
    out->chip = FOTA_CHIP_ESP8266;
    out->state_addr = port.state_addr;
    out->state_size = 2 * kSector;
    return 0;
}

void fota_arduino_station_mac(uint8_t mac[6])
{
    WiFi.macAddress(mac);
}

/* The sketch (eboot + app) runs from flash 0x0, as the .bin was released. */
int fota_arduino_running_image(uint32_t *addr, uint32_t *len)
{
    *addr = 0;
    *len = ESP.getSketchSize();
    return 0;
}

#endif
