/*
 * The slot writer: fills the inactive slot with a download. It erases in the
 * largest unit the flash offers (block_size where aligned and wholly inside
 * the image, else sectors), ahead of the writes; programs whole write units,
 * one program per chunk (the bytes that do not fill a unit wait in RAM and go
 * in front of the next chunk); says how much of the slot is safe to record as
 * progress, and reads the slot back for verification. It knows flash, not
 * HTTP; its failures come back as negative codes with the message in the
 * caller's struct fota_report. The context is struct fota_slot_writer
 * (src/fota/fota.h).
 */
#ifndef FOTA_SRC_SLOT_WRITER_H
#define FOTA_SRC_SLOT_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "fota/fota.h"

/* Slot `index`, which lives at `slot` on `flash`; nothing written yet. */
void fota_slot_writer_init(struct fota_slot_writer *w, const struct fota_flash *flash,
                           int index, const struct fota_slot *slot);

/* Continue at slot offset `from`: the bytes before it are on flash (a
 * resumed download), nothing after it is erased. 0 starts over. */
static inline void fota_slot_writer_restart(struct fota_slot_writer *w, uint32_t from)
{
    w->written = w->erased_to = from;
    w->tail_len = 0;
}

/* Bytes a chunk given to fota_slot_writer_write must have free in front of
 * it: the session's receive buffer and the decoder's output keep them. */
#define FOTA_SLOT_WRITER_LEAD FOTA_WRITE_SIZE_MAX

/* Append image bytes: erase what is not erased yet, then one program of the
 * kept partial unit and the chunk's whole units. The FOTA_SLOT_WRITER_LEAD
 * bytes before `data` are scratch: the kept bytes are copied there. */
int fota_slot_writer_write(struct fota_slot_writer *w, uint8_t *data, uint32_t len,
                           struct fota_report *rep);

/* Erase the next unit of the slot (a block, or a sector where a block does
 * not fit): one bounded flash operation. */
int fota_slot_writer_erase_next(struct fota_slot_writer *w, struct fota_report *rep);

/* The image ended: program the last partial unit, padded with 0xFF. */
int fota_slot_writer_flush(struct fota_slot_writer *w, struct fota_report *rep);

/* Bytes on flash in whole sectors: what a progress record may claim (a
 * resume erases the partly written sector again). */
static inline uint32_t fota_slot_writer_durable(const struct fota_slot_writer *w)
{
    uint32_t ss = w->flash->sector_size;
    return w->written / ss * ss;
}

/* Read slot bytes from *pos (at most `size`, not past `end`) into buf and
 * hash them; *pos advances. Returns the count (0 once *pos == end) or
 * FOTA_ERR_FLASH_READ. One call per step: a rehash or a read-back. */
int fota_slot_writer_hash(struct fota_slot_writer *w, const struct fota_crypto *crypto,
                          struct fota_sha256 *sha, uint32_t *pos, uint32_t end, uint8_t *buf,
                          size_t size, struct fota_report *rep);

/* The read-back is complete: its SHA-256 must be `expect`. Returns 0 or
 * FOTA_ERR_FLASH_VERIFY (the flash did not keep what was written). */
int fota_slot_writer_verify(struct fota_slot_writer *w, const struct fota_crypto *crypto,
                            struct fota_sha256 *sha, const uint8_t expect[32],
                            struct fota_report *rep);

#endif
