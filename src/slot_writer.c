/*
 * The slot writer: see slot_writer.h. Where a unit is erased (erase_next),
 * where bytes are programmed (program) and where the read-back is hashed.
 */
#include "internal/slot_writer.h"

#include <string.h>

#include "internal/msg.h"

void fota_slot_writer_init(struct fota_slot_writer *w, const struct fota_flash *flash,
                           int index, const struct fota_slot *slot)
{
    memset(w, 0, sizeof *w);
    w->flash = flash;
    w->index = index;
    w->slot = *slot;
    w->end = slot->size;
}

/* One message for the three flash operations (one format in flash). */
static int flash_failed(const struct fota_slot_writer *w, struct fota_report *rep, int err,
                        const char *op, uint32_t at, int r)
{
    return fota_fail(rep, err, "flash %s failed at offset 0x%x (slot %d): %P", op, (unsigned)at,
                     w->index, r);
}

/* A block where it is aligned and ends within the image's sectors, else a
 * sector (ESP-IDF's erase_range chooses the same way). */
int fota_slot_writer_erase_next(struct fota_slot_writer *w, struct fota_report *rep)
{
    const struct fota_flash *fl = w->flash;
    uint32_t ss = fl->sector_size, bs = fl->block_size;
    uint32_t end = w->end < w->slot.size ? w->end : w->slot.size;
    uint32_t limit = end - end % ss + (end % ss ? ss : 0); /* end rounded up to a sector */
    uint32_t unit = ss;
    if (bs > ss && (w->slot.addr + w->erased_to) % bs == 0 && w->erased_to < limit &&
        limit - w->erased_to >= bs)
        unit = bs;
    int r = fl->erase(fl->ctx, w->slot.addr + w->erased_to, unit);
    if (r < 0)
        return flash_failed(w, rep, FOTA_ERR_FLASH_ERASE, "erase", w->erased_to, r);
    w->erased_to += unit;
    return 0;
}

static int program(struct fota_slot_writer *w, const uint8_t *data, uint32_t len,
                   struct fota_report *rep)
{
    const struct fota_flash *fl = w->flash;
    int r;
    while (w->erased_to < w->written + len) /* bounded by the slot size */
        if ((r = fota_slot_writer_erase_next(w, rep)) < 0)
            return r;
    r = fl->write(fl->ctx, w->slot.addr + w->written, data, len);
    if (r < 0)
        /* FOTA_ERR_IMAGE_HEADER: the port refuses the image's first bytes
         * (ESP8266: built for a larger flash than the chip has) */
        return flash_failed(w, rep, r == FOTA_ERR_IMAGE_HEADER ? r : FOTA_ERR_FLASH_WRITE,
                            "write", w->written, r);
    w->written += len;
    return 0;
}

int fota_slot_writer_write(struct fota_slot_writer *w, uint8_t *data, uint32_t len,
                           struct fota_report *rep)
{
    uint32_t ws = w->flash->write_size;
    /* the kept partial unit goes in front: one program for both */
    data -= w->tail_len;
    memcpy(data, w->tail, w->tail_len);
    len += w->tail_len;
    uint32_t whole = len / ws * ws;
    int r;
    if (whole && (r = program(w, data, whole, rep)) < 0)
        return r;
    w->tail_len = len - whole;
    memcpy(w->tail, data + whole, w->tail_len);
    return 0;
}

int fota_slot_writer_flush(struct fota_slot_writer *w, struct fota_report *rep)
{
    if (!w->tail_len)
        return 0;
    uint32_t ws = w->flash->write_size;
    memset(w->tail + w->tail_len, 0xFF, ws - w->tail_len);
    int r = program(w, w->tail, ws, rep);
    if (r == 0)
        w->tail_len = 0;
    return r;
}


int fota_slot_writer_hash(struct fota_slot_writer *w, const struct fota_crypto *crypto,
                          struct fota_sha256 *sha, uint32_t *pos, uint32_t end, uint8_t *buf,
                          size_t size, struct fota_report *rep)
{
    const struct fota_flash *fl = w->flash;
    uint32_t n = end - *pos < size ? end - *pos : (uint32_t)size;
    if (n == 0)
        return 0;
    int r = fl->read(fl->ctx, w->slot.addr + *pos, buf, n);
    if (r < 0)
        return flash_failed(w, rep, FOTA_ERR_FLASH_READ, "read", *pos, r);
    if (crypto->sha256_update(crypto->ctx, sha, buf, n) != 0)
        return fota_fail(rep, FOTA_ERR_CRYPTO,
                         "SHA-256 of slot %d failed in the crypto backend at offset 0x%x",
                         w->index, (unsigned)*pos);
    *pos += n;
    return (int)n;
}

int fota_slot_writer_verify(struct fota_slot_writer *w, const struct fota_crypto *crypto,
                            struct fota_sha256 *sha, const uint8_t expect[32],
                            struct fota_report *rep)
{
    uint8_t got[32];
    if (crypto->sha256_finish(crypto->ctx, sha, got) != 0)
        return fota_fail(rep, FOTA_ERR_CRYPTO, "SHA-256 of slot %d failed in the crypto backend",
                         w->index);
    if (memcmp(got, expect, 32) != 0)
        return fota_fail(rep, FOTA_ERR_FLASH_VERIFY,
                         "slot %d does not read back what was written (SHA-256 differs): flash "
                         "fault",
                         w->index);
    return 0;
}
