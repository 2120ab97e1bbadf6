/*
 * The agent's persistent state on flash: a format of its own, independent of
 * how the compiler lays out struct fota_persist (docs/state.md specifies it).
 *
 * The state is one record in the journaled record store (record.h) of
 * FOTA_PERSIST_RECORD_LEN bytes: a format number, the length of the fields
 * written, the fields (explicit little-endian) and a CRC-32. Later firmware
 * appends fields inside the same record length and keeps the format number;
 * a reader ignores fields it does not know and gives fields an older writer
 * did not write their defaults.
 *
 * Loading also migrates the earlier raw-struct layouts (1 and 2), and never
 * lowers the anti-rollback floor, the highest sequence or the rejected
 * version: every valid copy of every layout still in the region raises them.
 * The floor is never below the firmware's build-time minimum.
 */
#ifndef FOTA_PERSIST_H
#define FOTA_PERSIST_H

#include <stddef.h>
#include <stdint.h>

#include "fota/fota.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FOTA_PERSIST_FORMAT 3u       /* after raw layouts 1 and 2 */
#define FOTA_PERSIST_RECORD_LEN 192u /* bytes of the record, every format-3 writer */

/* Where a loaded state came from. */
enum fota_persist_source {
    FOTA_PERSIST_LOADED = 0,       /* a format-3 record */
    FOTA_PERSIST_MIGRATED_2 = 2,   /* layout 2 (raw struct, 76 bytes) */
    FOTA_PERSIST_MIGRATED_1 = 1,   /* layout 1 (raw struct, 72 bytes) */
    FOTA_PERSIST_FRESH = 3,        /* the region is blank: a new device */
    FOTA_PERSIST_UNREADABLE = 4,   /* the region holds data but no readable state */
};

/* A fresh state: nothing seen, nothing pending, the floor at floor_min. */
void fota_persist_defaults(struct fota_persist *p, uint32_t floor_min);

/* Encode p into out[0..FOTA_PERSIST_RECORD_LEN). */
void fota_persist_encode(const struct fota_persist *p, uint8_t *out);

/* Decode a format-3 record of `len` bytes. Returns 0 or
 * FOTA_ERR_STATE_CORRUPT (another format, a bad length or CRC, a value out
 * of range); p is then untouched. */
int fota_persist_decode(const uint8_t *in, size_t len, struct fota_persist *p);

/* Decode a copy of raw layout 1 (72 bytes) or 2 (76 bytes), as the
 * little-endian targets wrote it. Returns 0 or FOTA_ERR_STATE_CORRUPT. */
int fota_persist_decode_layout(uint32_t layout, const uint8_t *in, size_t len,
                               struct fota_persist *p);

/* Raise the fields that never go down (sequence, floor, rejected version)
 * in `into` to those of `from`. */
void fota_persist_raise(struct fota_persist *into, const struct fota_persist *from);

/* Load the state from a store set up with fota_record_init(..,
 * FOTA_PERSIST_RECORD_LEN): the newest format-3 record, else the newest copy
 * of the earlier layouts (the store then keeps that copy's sector until the
 * first save), raised by every other layout's newest copy and by floor_min.
 * A blank region gives FOTA_PERSIST_FRESH, a region with no readable state
 * FOTA_PERSIST_UNREADABLE, both with defaults and the floor at floor_min.
 * Returns 0 with *source set, or FOTA_ERR_FLASH_READ. */
int fota_persist_load(struct fota_record_store *s, struct fota_persist *p, uint32_t floor_min,
                      int *source);

/* Encode and append p to the store. Returns 0 or FOTA_ERR_FLASH_*. */
int fota_persist_save(struct fota_record_store *s, const struct fota_persist *p);

#ifdef __cplusplus
}
#endif
#endif
