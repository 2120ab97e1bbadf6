/*
 * NOR flash simulator: erased bytes read 0xFF, programming only clears bits,
 * write granularity, sector erase; a fault controller that cuts power
 * before, in the middle of, or after the Nth flash operation, and a
 * bad-region mode. On a caller's buffer (flash.c, plain C: it also runs on
 * the emulated targets) or on a mapped file (flash_file.c), so a simulated
 * device keeps its flash across runs.
 */
#ifndef SIM_FLASH_H
#define SIM_FLASH_H

#include <stdint.h>

#include "fota/port.h"
#include "timing.h"

#ifdef __cplusplus
extern "C" {
#endif

enum fota_cut_mode {
    FOTA_CUT_NONE = 0,
    FOTA_CUT_BEFORE = 1, /* power lost before operation N starts */
    FOTA_CUT_TORN = 2,   /* in the middle: a prefix of a write lands; an erase
                            leaves the sector partly erased, the rest random */
    FOTA_CUT_AFTER = 3,  /* operation N completed, power lost before it returned */
};

/* How a bad region fails (worn or defective cells). */
enum fota_bad_mode {
    FOTA_BAD_FAIL = 0,   /* writes and erases report an error */
    FOTA_BAD_WRITES,     /* writes report an error, erases work */
    FOTA_BAD_ERASES,     /* erases report an error, writes work */
    FOTA_BAD_SILENT,     /* writes report success but program nothing */
};

struct sim_flash {
    struct fota_flash iface; /* give &iface to the core */
    uint8_t *mem;            /* mapped flash contents */
    uint32_t size;
    int fd;
    /* Statistics since open (or sim_flash_reset_stats) */
    uint32_t ops;            /* writes + erases: the operations a cut counts */
    uint32_t reads, writes, erases;
    uint64_t bytes_read, bytes_written, bytes_erased;
    /* Power cut: before/in/after operation number cut_at (1-based, counted
     * in `ops`); on_cut must not return (longjmp to the power-on point). */
    uint32_t cut_at;
    int cut_mode;
    uint32_t seed;           /* drives torn lengths and garbage bits */
    void (*on_cut)(void *ctx);
    void *cut_ctx;
    /* Bad region: writes / erases touching [bad_addr, bad_addr+bad_len) fail,
     * or with bad_mode only one kind fails, or writes fail silently */
    uint32_t bad_addr, bad_len;
    int bad_mode;            /* enum fota_bad_mode */
    /* Timing model (timing.h): when both are set, every read, write and
     * erase advances *clock by its modelled duration, summed per kind. */
    const struct sim_flash_timing *timing;
    struct sim_clock *clock;
    uint64_t read_us, program_us, erase_us;
    /* Last error text ("program 1 over 0 at 0x..."), for diagnostics */
    char error[128];
};

/* Open (creating when missing, filled with 0xFF) a flash image file of
 * `size` bytes. Returns 0 or -1 with error text. */
int sim_flash_open(struct sim_flash *f, const char *path, uint32_t size,
                          uint32_t sector_size, uint32_t write_size);
/* Flash on a caller's buffer of `size` bytes (set to 0xFF): tests, and
 * the emulated targets. */
int sim_flash_open_buf(struct sim_flash *f, uint8_t *mem, uint32_t size,
                              uint32_t sector_size, uint32_t write_size);
/* Unmap a file-backed flash (no-op for a buffer). */
void sim_flash_close(struct sim_flash *f);
/* Internal, shared by both variants. */
int sim_flash_check_geometry(struct sim_flash *f, uint32_t size,
                                    uint32_t sector_size, uint32_t write_size);
void sim_flash_init_iface(struct sim_flash *f, uint32_t sector_size,
                                 uint32_t write_size);
/* Program raw bytes bypassing the NOR rules and fault injection (factory
 * programming of the initial image). */
void sim_flash_load(struct sim_flash *f, uint32_t addr, const void *data,
                           uint32_t len);

#ifdef __cplusplus
}
#endif
#endif
