/*
 * A simulated ESP8266 for the Arduino port (src/arduino/
 * fota_esp8266_port.c): SPI flash with the running sketch at 0x0, the file
 * system boundary, RTC memory holding eboot's command, the ROM loader and
 * eboot itself. The flash is the NOR simulator of the POSIX port, so the
 * power-cut controller counts eboot's erases and writes like any other.
 *
 * eboot is modelled on esp8266/Arduino's bootloaders/eboot/eboot.c (3.1.2):
 * main() reads the command from RTC memory; ACTION_COPY_RAW copies whole
 * sectors front to back from args[0] to args[1] (copy_raw: erase, then write
 * each 4 KiB sector; at address 0 only when the sector differs), clears the
 * command only after the copy (PR #6823), then loads the app at 0x1000.
 * RTC memory survives a reset (reset pin, watchdog, ESP.restart) but not the
 * removal of power; the eboot command is lost with it.
 *
 * The ROM loader reads the header at 0x0: magic 0xE9 and the SPI mode byte,
 * which must not ask for more data lines than the chip's flash is wired for
 * (an ESP8285's internal flash is DOUT only).
 */
#ifndef FOTA_SIM_ESP8266_H
#define FOTA_SIM_ESP8266_H

#include <stdint.h>

#include "flash.h"

#define SIM8266_SECTOR 4096u
#define SIM8266_APP_OFFSET 0x1000u

/* SPI modes as the image header stores them (elf2bin.py fmodeb). */
enum { SIM8266_QIO = 0, SIM8266_QOUT = 1, SIM8266_DIO = 2, SIM8266_DOUT = 3 };

/* One Arduino build (.bin: eboot image padded to 0x1000, then the app). */
struct sim8266_build {
    const uint8_t *bin;
    uint32_t len;
    uint32_t version_code;
};

struct sim8266 {
    struct sim_flash flash;
    uint32_t fs_start;        /* FS_PHYS_ADDR of the running sketch's layout */
    uint8_t chip_mode;        /* fastest SPI mode the flash is wired for */
    uint8_t boot_mode;        /* strapping at reset: 3 flash boot, 1 UART download */
    /* eboot's command in RTC memory (struct eboot_command) */
    struct {
        int valid;
        uint32_t src, dst, size;
    } rtc;
    const struct sim8266_build *builds; /* what the sketch at 0x0 can be */
    uint32_t n_builds;
    /* Statistics and state of the last boot */
    int running;              /* index in builds, -1 when nothing boots */
    int in_copy;              /* eboot is copying (for a power-cut handler) */
    uint32_t copies;          /* eboot copies completed */
    uint32_t sector0_rewrites;
    char why[160];            /* why nothing boots */
};

/* Build an Arduino-style .bin into buf (cap bytes): an eboot image of
 * `eboot_variant` padded to 0x1000 with 0xAA, then an app image of about
 * `app_bytes` with pseudo-random segment data from `seed` and the version
 * code inside. `mode` and `size_code` go into both headers (byte 2, and the
 * high nibble of byte 3: 0 512K, 1 256K, 2 1M, 3 2M, 4 4M, 8 8M, 9 16M).
 * Returns the length, or 0 when cap is too small. */
uint32_t sim8266_build_bin(uint8_t *buf, uint32_t cap, uint32_t eboot_variant, uint8_t mode,
                           uint8_t size_code, uint32_t app_bytes, uint32_t seed,
                           uint32_t version_code);

/* A chip with `size` bytes of flash in `mem`, the file system at fs_start. */
int sim8266_init(struct sim8266 *s, uint8_t *mem, uint32_t size, uint32_t fs_start,
                 const struct sim8266_build *builds, uint32_t n_builds);

/* Serial flashing (esptool write_flash with --flash_mode of the chip): the
 * whole flash erased, the build at 0x0 with the chip's SPI mode in its
 * header. */
void sim8266_serial_flash(struct sim8266 *s, uint32_t build);

/* Power on or reset: the ROM loader, eboot (running a command found in RTC
 * memory), and the app. Returns the build that runs, or -1 (bricked: why
 * says what the ROM or eboot found). A power cut during eboot's copy leaves
 * through the flash's on_cut. */
int sim8266_boot(struct sim8266 *s);

/* Power removed: RTC memory (and with it eboot's command) is lost. */
void sim8266_power_removed(struct sim8266 *s);

/* The sketch size ESP.getSketchSize() reports for what runs now: the app's
 * segments walked from 0x1000, plus checksum and padding. */
uint32_t sim8266_sketch_size(struct sim8266 *s);

/* eboot_command_write(ACTION_COPY_RAW, src -> 0x0, size). */
void sim8266_eboot_command(struct sim8266 *s, uint32_t src, uint32_t size);

#endif
