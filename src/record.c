/*
 * Journaled record store: see src/fota/record.h for the guarantees.
 *
 * On flash, each copy is:  magic u32 | seq u32 | len u32 | data[len] | crc u32
 * padded with 0xFF to slot_len (a multiple of the write size). Copies never
 * straddle sectors. The writer appends after the newest copy; when its sector
 * is full (or the rest of it is not blank, after a torn write), it erases the
 * next sector of the region and starts there. The erased sector never holds
 * the newest copy, so the newest survives any cut. Which sector holds the
 * newest copy is kept (`newest`), never derived from where the writer
 * stands: after a failed save at the wrap the writer stands at offset 0
 * while the newest copy is in the last sector.
 */
#include "fota/record.h"

#include <string.h>

#include "fota/error.h"
#include "fota/fota.h"
#include "internal/le.h"

#define RECORD_MAGIC 0x46524543u /* "FREC" */
#define RECORD_OVERHEAD 16u
#define NO_COPY UINT32_MAX /* `newest` when the region holds no copy we know of */

uint32_t fota_crc32(uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;
    crc = ~crc;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

/* Bytes one copy of data_len bytes takes on flash. */
static uint32_t slot_len_for(const struct fota_flash *flash, uint32_t data_len)
{
    uint32_t ws = flash->write_size;
    return (data_len + RECORD_OVERHEAD + ws - 1) / ws * ws;
}

int fota_record_init(struct fota_record_store *s, const struct fota_flash *flash, uint32_t addr,
                     uint32_t size, uint32_t data_len)
{
    if (!s || !flash || flash->sector_size == 0 || flash->write_size == 0 ||
        flash->write_size > FOTA_WRITE_SIZE_MAX || data_len == 0 ||
        data_len > FOTA_RECORD_DATA_MAX)
        return FOTA_ERR_INVALID_ARG;
    uint32_t slot = slot_len_for(flash, data_len);
    if (addr % flash->sector_size || size % flash->sector_size ||
        size / flash->sector_size < 2 || slot > flash->sector_size)
        return FOTA_ERR_INVALID_ARG;
    memset(s, 0, sizeof *s);
    s->flash = flash;
    s->addr = addr;
    s->size = size;
    s->data_len = data_len;
    s->slot_len = slot;
    s->newest = NO_COPY;
    s->failed_at = NO_COPY;
    return FOTA_OK;
}

/* Flash is read in pieces of this size: the store keeps no whole copy on
 * the stack except the one it writes (docs/size-report.md). */
#define CHUNK 64u

/* Read the copy of data_len bytes in a slot at region offset `off`, piece by
 * piece, checking its CRC. Returns 1 with its sequence when it is valid, 0
 * when not (blank, torn, another length), or FOTA_ERR_FLASH_READ. */
static int read_copy(const struct fota_record_store *s, uint32_t off, uint32_t data_len,
                     uint32_t *seq, int *port_err)
{
    uint8_t buf[CHUNK];
    uint32_t n = 12 + data_len, crc = 0, at = 0;
    for (;;) { /* bounded: every pass reads at least one more byte of n + 4 */
        uint32_t left = n + 4 - at;
        uint32_t len = left <= CHUNK ? left : (n - at < CHUNK ? n - at : CHUNK);
        int r = s->flash->read(s->flash->ctx, s->addr + off + at, buf, len);
        if (r < 0) {
            *port_err = r;
            return FOTA_ERR_FLASH_READ;
        }
        if (at == 0) { /* the first piece holds the header: len >= 12 */
            if (le_get32(buf) != RECORD_MAGIC || le_get32(buf + 8) != data_len)
                return 0;
            *seq = le_get32(buf + 4);
        }
        if (len == left) /* the last piece ends with the CRC */
            return fota_crc32(crc, buf, len - 4) == le_get32(buf + len - 4);
        crc = fota_crc32(crc, buf, len);
        at += len;
    }
}

/* The valid copy of data_len bytes with the highest sequence, on the slot
 * grid of that length. Returns 1 (found: data, *seq, *off), 0 (none) or
 * FOTA_ERR_FLASH_READ. */
static int find_newest(const struct fota_record_store *s, uint32_t data_len, void *data,
                       uint32_t *seq, uint32_t *off, int *port_err)
{
    uint32_t ss = s->flash->sector_size, sectors = s->size / ss;
    uint32_t slot = slot_len_for(s->flash, data_len), per = ss / slot;
    int found = 0;

    for (uint32_t k = 0; k < sectors; k++) {
        for (uint32_t i = 0; i < per; i++) {
            uint32_t at = k * ss + i * slot, copy_seq = 0;
            int r = read_copy(s, at, data_len, &copy_seq, port_err);
            if (r < 0)
                return r;
            if (r == 1 && (!found || copy_seq > *seq)) {
                found = 1;
                *seq = copy_seq;
                *off = at;
            }
        }
    }
    if (found) {
        int r = s->flash->read(s->flash->ctx, s->addr + *off + 12, data, data_len);
        if (r < 0) {
            *port_err = r;
            return FOTA_ERR_FLASH_READ;
        }
    }
    return found;
}

int fota_record_load(struct fota_record_store *s, void *data)
{
    uint32_t seq = 0, off = 0;
    s->port_err = 0;
    int r = find_newest(s, s->data_len, data, &seq, &off, &s->port_err);
    if (r < 0)
        return r;
    s->have_next = 0;
    if (r == 0) {
        s->seq = 0;
        s->newest = NO_COPY;
        s->next = 0;
        return FOTA_ERR_STATE_CORRUPT;
    }
    s->seq = seq;
    s->newest = off;
    s->next = off + s->slot_len;
    return FOTA_OK;
}

int fota_record_find(const struct fota_record_store *s, uint32_t data_len, void *data,
                     uint32_t *seq, uint32_t *off)
{
    if (!s || !data || !seq || !off || data_len == 0 || data_len > FOTA_RECORD_DATA_MAX ||
        slot_len_for(s->flash, data_len) > s->flash->sector_size)
        return FOTA_ERR_INVALID_ARG;
    int port_err = 0;
    int r = find_newest(s, data_len, data, seq, off, &port_err);
    if (r < 0)
        return r;
    return r == 1 ? FOTA_OK : FOTA_ERR_STATE_CORRUPT;
}

int fota_record_keep(struct fota_record_store *s, uint32_t off)
{
    if (!s || off >= s->size || s->newest != NO_COPY)
        return FOTA_ERR_INVALID_ARG;
    /* Treated like the newest copy's place, with the writer past its sector:
     * the next save moves to the following sector. */
    s->newest = off;
    s->next = (off / s->flash->sector_size + 1) * s->flash->sector_size;
    s->have_next = 0;
    return FOTA_OK;
}

/* A flash call failed with the port's code `port_err`: keep it for the
 * caller's message, return the store's code. */
static int port_failed(struct fota_record_store *s, int port_err, int err)
{
    s->port_err = port_err;
    return err;
}

/* 1 when the slot at region offset `off` is blank, 0 when not, or
 * FOTA_ERR_FLASH_READ. */
static int slot_blank(struct fota_record_store *s, uint32_t off)
{
    uint8_t buf[CHUNK];
    for (uint32_t at = 0; at < s->slot_len; at += CHUNK) {
        uint32_t len = s->slot_len - at < CHUNK ? s->slot_len - at : CHUNK;
        int r = s->flash->read(s->flash->ctx, s->addr + off + at, buf, len);
        if (r < 0)
            return port_failed(s, r, FOTA_ERR_FLASH_READ);
        for (uint32_t i = 0; i < len; i++)
            if (buf[i] != 0xFF)
                return 0;
    }
    return 1;
}

/* Find where the next copy goes: the first blank slot after the newest copy
 * in its sector, else the start of the following sector (erased here). With
 * no copy known, sector 0 (a blank or unreadable region starts over). */
static int find_next(struct fota_record_store *s)
{
    uint32_t ss = s->flash->sector_size, sectors = s->size / ss, per = ss / s->slot_len;
    uint32_t target = 0;

    if (s->newest != NO_COPY) {
        uint32_t sector = s->newest / ss; /* never erased: it holds the newest copy */
        /* The writer may stand past this sector (full, or a failed save moved
         * it into the next one, or to offset 0 at the wrap): then move on. */
        if (s->next > s->newest && s->next / ss == sector) {
            for (uint32_t i = (s->next - sector * ss + s->slot_len - 1) / s->slot_len; i < per;
                 i++) {
                uint32_t off = sector * ss + i * s->slot_len;
                int r = slot_blank(s, off);
                if (r < 0)
                    return r;
                if (r) {
                    s->next = off;
                    s->have_next = 1;
                    return FOTA_OK;
                }
            }
        }
        target = (sector + 1) % sectors;
    }
    s->next = target * ss;
    int r = s->flash->erase(s->flash->ctx, s->addr + s->next, ss);
    if (r < 0) {
        s->failed_at = s->next;
        return port_failed(s, r, FOTA_ERR_FLASH_ERASE);
    }
    s->have_next = 1;
    return FOTA_OK;
}

int fota_record_save(struct fota_record_store *s, const void *data)
{
    /* The copy is programmed in one write, so it is built whole; the
     * read-back compares piece by piece. */
    uint8_t buf[FOTA_RECORD_DATA_MAX + RECORD_OVERHEAD + FOTA_WRITE_SIZE_MAX];
    uint8_t check[CHUNK];
    int r;

    if (s->seq == UINT32_MAX)
        return FOTA_ERR_STATE_CORRUPT; /* 2^32 saves: no higher sequence to write */
    s->failed_at = NO_COPY;
    s->port_err = 0;
    if (!s->have_next && (r = find_next(s)) < 0) {
        if (s->failed_at == NO_COPY)
            s->failed_at = s->next;
        return r;
    }
    uint32_t seq = s->seq + 1, n = 12 + s->data_len, at = s->next;
    memset(buf, 0xFF, s->slot_len);
    le_put32(buf, RECORD_MAGIC);
    le_put32(buf + 4, seq);
    le_put32(buf + 8, s->data_len);
    memcpy(buf + 12, data, s->data_len);
    le_put32(buf + n, fota_crc32(0, buf, n));

    /* Whatever happens, this slot and this sequence are used now: the next
     * save takes the slot after it (or moves on to the next sector) and a
     * higher sequence, so a copy that landed although the save failed can
     * never outrank a later one. */
    s->have_next = 0;
    s->next = at + s->slot_len;
    s->seq = seq;
    s->failed_at = at;
    if ((r = s->flash->write(s->flash->ctx, s->addr + at, buf, s->slot_len)) < 0)
        return port_failed(s, r, FOTA_ERR_FLASH_WRITE);
    for (uint32_t i = 0; i < s->slot_len; i += CHUNK) {
        uint32_t len = s->slot_len - i < CHUNK ? s->slot_len - i : CHUNK;
        if ((r = s->flash->read(s->flash->ctx, s->addr + at + i, check, len)) < 0)
            return port_failed(s, r, FOTA_ERR_FLASH_READ);
        if (memcmp(check, buf + i, len) != 0)
            return FOTA_ERR_FLASH_VERIFY;
    }
    s->failed_at = NO_COPY;
    s->newest = at;
    return FOTA_OK;
}

uint32_t fota_record_position(const struct fota_record_store *s)
{
    return s->addr + (s->failed_at != NO_COPY ? s->failed_at : s->next);
}
