/*
 * A power-safe journaled record store on raw NOR flash.
 *
 * One fixed-size record (the agent's state, or a port's boot data) is kept in
 * a region of two or more sectors. Saving appends a new copy with a higher
 * sequence number and a CRC-32; loading takes the valid copy with the highest
 * sequence. A sector is erased only when the writer moves into it, and only
 * after the newest copy lives in another sector, so a power cut at any point
 * - before, during or after any erase or write - leaves either the old or the
 * new record readable. Torn copies fail their CRC and are skipped.
 */
#ifndef FOTA_RECORD_H
#define FOTA_RECORD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct fota_flash;

#define FOTA_RECORD_DATA_MAX 256

struct fota_record_store {
    const struct fota_flash *flash;
    uint32_t addr;       /* region start, sector-aligned */
    uint32_t size;       /* region size, >= 2 sectors */
    uint32_t data_len;   /* record payload size */
    uint32_t slot_len;   /* bytes per copy on flash, write-size aligned */
    uint32_t seq;        /* highest sequence written or loaded (0: none) */
    uint32_t newest;     /* offset of the newest valid copy (UINT32_MAX: none);
                            its sector is never erased */
    uint32_t next;       /* offset in the region for the next copy */
    uint32_t failed_at;  /* offset where the last save failed (UINT32_MAX: it did not) */
    uint8_t have_next;   /* `next` is known to be erased */
    int port_err;        /* the flash port's code at the last failure */
};

/* Set up a store. Returns 0 or FOTA_ERR_INVALID_ARG (region not aligned,
 * smaller than two sectors, or record larger than FOTA_RECORD_DATA_MAX). */
int fota_record_init(struct fota_record_store *s, const struct fota_flash *flash, uint32_t addr,
                     uint32_t size, uint32_t data_len);

/* Load the newest valid copy into data[0..data_len). Returns 0,
 * FOTA_ERR_STATE_CORRUPT when no valid copy exists (a blank region), or
 * FOTA_ERR_FLASH_READ (the port's own code in s->port_err). */
int fota_record_load(struct fota_record_store *s, void *data);

/* Append a new copy. Returns 0 or FOTA_ERR_FLASH_* (the port's own code
 * of the failed call is in s->port_err; the store then holds the new copy or
 * the one before it, and the next save works), or FOTA_ERR_STATE_CORRUPT
 * when the sequence is exhausted (2^32 saves). */
int fota_record_save(struct fota_record_store *s, const void *data);

/* Migration from another record length (an earlier layout of the payload):
 * the newest valid copy of data_len bytes, on that length's slot grid, into
 * data[0..data_len), with its sequence and region offset. Does not change the
 * store. Returns 0, FOTA_ERR_STATE_CORRUPT (none), FOTA_ERR_FLASH_READ or
 * FOTA_ERR_INVALID_ARG. */
int fota_record_find(const struct fota_record_store *s, uint32_t data_len, void *data,
                     uint32_t *seq, uint32_t *off);

/* After a load that found no copy of the store's own length: keep the copy
 * at region offset `off` (found with fota_record_find) until a copy of the
 * new length exists. The next save goes to the sector after it and never
 * erases the sector that holds it. Returns 0 or FOTA_ERR_INVALID_ARG. */
int fota_record_keep(struct fota_record_store *s, uint32_t off);

/* Flash address where the next copy goes; after a failed save, where the
 * save failed (for the caller's message). */
uint32_t fota_record_position(const struct fota_record_store *s);

/* CRC-32 (IEEE 802.3, reflected, as zlib), chainable from crc = 0. */
uint32_t fota_crc32(uint32_t crc, const void *data, size_t len);

#ifdef __cplusplus
}
#endif
#endif
