/*
 * The ESP8266 port's logic in plain C: the flash layout, the staging area,
 * the boot record and the eboot hand-over. The Arduino glue
 * (fota_arduino_esp8266.cpp) fills struct fota_esp8266_hw from the core
 * (ESP.flash*, eboot_command_write, getSketchSize, FS_PHYS_ADDR); the
 * simulator (sim/esp8266/) fills it from a simulated flash and eboot, so the
 * same code runs in ctest.
 *
 * Updater-style staging: the new image (eboot + app, as the Arduino build
 * writes the .bin) goes into a staging area in the free flash, and at the
 * next boot eboot copies it over the sketch at 0x0 (ACTION_COPY_RAW, as
 * Updater::end does). Logical slots alternate between 0 and 1 so the agent
 * sees "the other slot" after an update, although the sketch always runs
 * from 0x0. A journaled boot record (two sectors) remembers the logical slot
 * and its state. eboot overwrites the old sketch: nothing can be rolled back.
 *
 * Flash map:  0x0 sketch | free ... | staging | boot record (2 sectors)
 *             | agent state (2 sectors) | FS_PHYS_ADDR: file system ...
 * The staging area starts at max(end of the sketch, half of the space before
 * the records), so eboot's copy of any image that fits never overlaps its
 * own source, and a copy that a reset restarts reads intact sectors. Its
 * last sector is kept free for rewriting the staged header's first sector.
 */
#ifndef FOTA_ESP8266_PORT_H
#define FOTA_ESP8266_PORT_H

#include <stddef.h>
#include <stdint.h>

#include "fota/fota.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FOTA_ESP8266_SECTOR 4096u

/* What the core (or the simulator) provides. */
struct fota_esp8266_hw {
    void *ctx;
    /* Raw SPI flash by absolute address (ESP.flashRead / flashWrite: 4-byte
     * units; flashEraseSector). 0 or FOTA_ERR_FLASH_*. */
    int (*read)(void *ctx, uint32_t addr, void *buf, uint32_t len);
    int (*write)(void *ctx, uint32_t addr, const void *buf, uint32_t len);
    int (*erase_sector)(void *ctx, uint32_t addr);
    /* eboot_command_write() of ACTION_COPY_RAW from `src` to 0x0, `size`
     * bytes: the command lives in RTC memory until eboot runs it. */
    void (*eboot_copy)(void *ctx, uint32_t src, uint32_t size);
    uint32_t sketch_size;     /* ESP.getSketchSize() */
    uint32_t fs_start;        /* FS_PHYS_ADDR: end of the space for sketch and staging */
    /* Image header adjustment, as Updater does (Updater.cpp _writeBuffer and
     * _verifyEnd): the SPI mode byte of the running header at 0x0
     * (ESP.getFlashChipMode(): 0 QIO, 1 QOUT, 2 DIO, 3 DOUT) goes into the
     * staged header, and an image whose header names a larger flash than
     * flash_real_size (ESP.getFlashChipRealSize()) is refused, unless
     * check_flash_size is 0 (FLASH_MAP_SUPPORT: the header says nothing). */
    uint8_t flash_mode;
    uint8_t check_flash_size;
    uint32_t flash_real_size;
    /* (GPI >> 16) & 0xf: the boot mode latched at the last pin reset. 1 is
     * UART download: esptool started the sketch after a serial flash, and
     * a restart would enter download mode again and wait there (Updater::
     * begin refuses with UPDATE_ERROR_BOOTSTRAP; esp8266/Arduino #1017). */
    uint8_t boot_mode;
};

/* The boot record (on flash, journaled by fota_record_*). */
struct fota_esp8266_record {
    uint32_t active;     /* logical slot running (0/1) */
    uint32_t state;      /* enum fota_img_state of the running image */
    uint32_t staged;     /* logical slot staged for eboot, or 0xFFFFFFFF */
    uint32_t image_size; /* bytes eboot copies */
};

struct fota_esp8266_port {
    struct fota_flash flash; /* give to the agent */
    struct fota_boot boot;   /* give to the agent */
    struct fota_record_store store;
    struct fota_esp8266_record rec;
    struct fota_esp8266_hw hw;
    uint32_t staging_addr, staging_size, record_addr, state_addr;
    /* Set by init: an image was staged, but eboot never copied it (power was
     * removed before the restart and RTC memory lost eboot's command). The
     * old sketch runs as before; the agent downloads the update again. */
    uint8_t staged_lost;
    /* eboot's command is written: the staging area is read-only until the
     * restart (set_next refuses nothing else; slot_info, erase and write of
     * the staging area answer FOTA_ERR_BUSY). */
    uint8_t armed;
};

/* Lay out the flash, load the boot record and settle what eboot did since
 * the last boot. Returns 0, or FOTA_ERR_TOO_BIG (no room for staging) /
 * FOTA_ERR_BOOT / FOTA_ERR_INVALID_ARG with a sentence in `detail`. */
int fota_esp8266_port_init(struct fota_esp8266_port *p, const struct fota_esp8266_hw *hw,
                           char *detail, size_t detail_size);

#ifdef __cplusplus
}
#endif
#endif
