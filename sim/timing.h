/*
 * The simulator's timing model, flash side: how long each flash operation
 * takes on the modelled chip, counted on a simulated clock that only the
 * model advances (never the host's clock), so a run's simulated time is the
 * same on any machine. The link side is sim/link.h; the assumptions and the
 * figures' sources are in docs/sim.md. Plain C (flash.c includes it, and it
 * runs on the emulated targets).
 */
#ifndef SIM_TIMING_H
#define SIM_TIMING_H

#include <stdint.h>
#include <string.h>

/* Simulated time in microseconds since the simulated power-on of the run. */
struct sim_clock {
    uint64_t us;
};

/* Per-operation costs of the SPI NOR flash, as the port's API sees them. */
struct sim_flash_timing {
    const char *name;
    uint32_t sector_erase_us;     /* one 4 KiB sector erase */
    uint32_t block_erase_us;      /* one block erase (block_size bytes, aligned) */
    uint32_t block_size;          /* the chip's block erase unit */
    uint32_t program_op_us;       /* fixed cost of one program call */
    uint32_t program_ns_per_byte;
    uint32_t read_ns_per_byte;
};

/* The figures of a chip by name ("esp32", "esp8266"): 0, or -1 when unknown.
 *   esp32: ESP-IDF's flash performance floors (components/spi_flash test,
 *     about 70% of measured averages): 4-byte writes 20 KB/s (so about
 *     195 us per call), 2 KiB writes 754 KB/s (so about 1.23 us per byte on
 *     top), reads 6.6 MB/s; erases the typical W25Q/GD25Q datasheet figures,
 *     45 ms per 4 KiB sector and 150 ms per 64 KiB block.
 *   esp8266: the same flash families' datasheet figures (typ. page program
 *     0.8 ms per 256 bytes, first byte 30 us; sector 45 ms, block 150 ms);
 *     reads at 4 MB/s (40 MHz DIO, an assumption). */
static inline int sim_flash_timing_preset(const char *chip, struct sim_flash_timing *t)
{
    if (strcmp(chip, "esp32") == 0) {
        *t = (struct sim_flash_timing){"esp32", 45000, 150000, 65536, 195, 1231, 152};
        return 0;
    }
    if (strcmp(chip, "esp8266") == 0) {
        *t = (struct sim_flash_timing){"esp8266", 45000, 150000, 65536, 30, 3125, 250};
        return 0;
    }
    return -1;
}

/* An erase of [addr, addr+len), as ESP-IDF's erase_range does it: a block
 * erase for each aligned whole block, a sector erase for the rest. */
static inline uint64_t sim_erase_us(const struct sim_flash_timing *t, uint32_t addr,
                                    uint32_t len, uint32_t sector_size)
{
    uint64_t us = 0;
    uint32_t bs = t->block_size;
    while (len >= sector_size) { /* bounded by len */
        if (bs > sector_size && addr % bs == 0 && len >= bs) {
            us += t->block_erase_us;
            addr += bs;
            len -= bs;
        } else {
            us += (uint64_t)t->sector_erase_us * sector_size / 4096u;
            addr += sector_size;
            len -= sector_size;
        }
    }
    return us;
}

static inline uint64_t sim_program_us(const struct sim_flash_timing *t, uint32_t len)
{
    return t->program_op_us + ((uint64_t)len * t->program_ns_per_byte + 999u) / 1000u;
}

static inline uint64_t sim_read_us(const struct sim_flash_timing *t, uint32_t len)
{
    return ((uint64_t)len * t->read_ns_per_byte + 999u) / 1000u;
}

#endif
