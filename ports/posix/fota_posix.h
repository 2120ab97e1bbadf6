/*
 * POSIX port of libfota: simulation and Linux.
 *
 * - A NOR flash simulator backed by a file (erased bytes read 0xFF, programming
 *   only clears bits, write granularity, sector erase) with a fault controller
 *   that cuts power before, in the middle of, or after the Nth flash operation,
 *   and a bad-region mode.
 * - A simulated ESP-IDF-style bootloader and boot control on an "otadata"
 *   region (a journaled record: see include/fota/record.h).
 * - A BSD sockets transport and the platform callbacks (clock, log, random).
 */
#ifndef FOTA_POSIX_H
#define FOTA_POSIX_H

#include <stdint.h>

#include "fota/fota.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Flash simulator ---------------------------------------------------- */

enum fota_cut_mode {
    FOTA_CUT_NONE = 0,
    FOTA_CUT_BEFORE = 1, /* power lost before operation N starts */
    FOTA_CUT_TORN = 2,   /* in the middle: a prefix of a write lands; an erase
                            leaves the sector partly erased, the rest random */
    FOTA_CUT_AFTER = 3,  /* operation N completed, power lost before it returned */
};

struct fota_posix_flash {
    struct fota_flash iface; /* give &iface to the core */
    uint8_t *mem;            /* mapped flash contents */
    uint32_t size;
    int fd;
    /* Statistics since open (or fota_posix_flash_reset_stats) */
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
    /* Bad region: writes / erases touching [bad_addr, bad_addr+bad_len) fail */
    uint32_t bad_addr, bad_len;
    /* Last error text ("program 1 over 0 at 0x..."), for diagnostics */
    char error[128];
};

/* Open (creating when missing, filled with 0xFF) a flash image file of
 * `size` bytes. Returns 0 or -1 with error text. */
int fota_posix_flash_open(struct fota_posix_flash *f, const char *path, uint32_t size,
                          uint32_t sector_size, uint32_t write_size);
/* Flash on a caller's buffer of `size` bytes (set to 0xFF): tests, and
 * the emulated targets. */
int fota_posix_flash_open_buf(struct fota_posix_flash *f, uint8_t *mem, uint32_t size,
                              uint32_t sector_size, uint32_t write_size);
/* Unmap a file-backed flash (no-op for a buffer). */
void fota_posix_flash_close(struct fota_posix_flash *f);
/* Internal, shared by both variants. */
int fota_posix_flash_check_geometry(struct fota_posix_flash *f, uint32_t size,
                                    uint32_t sector_size, uint32_t write_size);
void fota_posix_flash_init_iface(struct fota_posix_flash *f, uint32_t sector_size,
                                 uint32_t write_size);
/* Program raw bytes bypassing the NOR rules and fault injection (factory
 * programming of the initial image). */
void fota_posix_flash_load(struct fota_posix_flash *f, uint32_t addr, const void *data,
                           uint32_t len);

/* ---- Layout and boot control -------------------------------------------- */

/* ESP32-like layout: otadata (2 sectors), agent state (2 sectors), ota_0, ota_1. */
struct fota_posix_layout {
    uint32_t otadata_addr, otadata_size;
    uint32_t state_addr, state_size;
    uint32_t slot_addr[2];
    uint32_t slot_size;
    uint32_t flash_size;
};
void fota_posix_layout_default(struct fota_posix_layout *l, uint32_t slot_size,
                               uint32_t sector_size);

/* The boot data the simulated bootloader keeps in otadata. */
struct fota_posix_bootdata {
    uint32_t active;   /* slot the bootloader boots */
    uint32_t state[2]; /* enum fota_img_state of each slot */
};

struct fota_posix_boot {
    struct fota_boot iface;  /* give &iface to the core */
    struct fota_posix_layout layout;
    struct fota_record_store otadata;
    struct fota_posix_bootdata data;
    const struct fota_crypto *crypto;
    int running;             /* slot the bootloader chose; -1 before boot */
    char message[160];       /* what the bootloader did and why */
};

enum fota_posix_boot_result {
    FOTA_POSIX_BOOTED = 0,      /* `running` holds the slot */
    FOTA_POSIX_NO_IMAGE = -1,   /* no slot holds a bootable image: bricked */
};

/* Set up boot control over `flash` (does not boot). */
int fota_posix_boot_init(struct fota_posix_boot *b, struct fota_posix_flash *flash,
                         const struct fota_posix_layout *layout, const struct fota_crypto *crypto);

/* The simulated second-stage bootloader, as ESP-IDF's with rollback enabled:
 * a NEW slot becomes PENDING_VERIFY and boots; a slot still PENDING_VERIFY
 * at boot (never confirmed) becomes ABORTED and the other slot boots; an
 * image that fails validation (ESP header, segments, checksum, appended
 * SHA-256) is never booted. Returns FOTA_POSIX_BOOTED or FOTA_POSIX_NO_IMAGE. */
int fota_posix_bootloader(struct fota_posix_boot *b);

/* ---- Network ------------------------------------------------------------ */

struct fota_posix_net {
    struct fota_transport iface; /* give &iface to the core */
    int fd;
    char detail[128];
};
void fota_posix_net_init(struct fota_posix_net *n, const char *name);

/* ---- Platform callbacks (ctx unused) -------------------------------------- */
uint32_t fota_posix_now_ms(void *ctx);
int fota_posix_utc_now(void *ctx, int64_t *unix_s);
void fota_posix_delay_ms(void *ctx, uint32_t ms);
uint32_t fota_posix_random(void *ctx);

#ifdef __cplusplus
}
#endif
#endif
