/*
 * Journaled record store: see include/fota/record.h for the guarantees.
 *
 * On flash, each copy is:  magic u32 | seq u32 | len u32 | data[len] | crc u32
 * padded with 0xFF to slot_len (a multiple of the write size). Copies never
 * straddle sectors. The writer appends after the newest copy; when its sector
 * is full (or the rest of it is not blank, after a torn write), it erases the
 * next sector of the region and starts there. The erased sector never holds
 * the newest copy, so the newest survives any cut.
 */
#include "fota/record.h"

#include <string.h>

#include "fota/error.h"
#include "fota/port.h"

#define RECORD_MAGIC 0x46524543u /* "FREC" */
#define RECORD_OVERHEAD 16u

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

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

int fota_record_init(struct fota_record_store *s, const struct fota_flash *flash, uint32_t addr,
                     uint32_t size, uint32_t data_len)
{
    if (!s || !flash || flash->sector_size == 0 || flash->write_size == 0 ||
        flash->write_size > FOTA_WRITE_SIZE_MAX || data_len == 0 ||
        data_len > FOTA_RECORD_DATA_MAX)
        return FOTA_ERR_INVALID_ARG;
    uint32_t ws = flash->write_size;
    uint32_t slot = (data_len + RECORD_OVERHEAD + ws - 1) / ws * ws;
    if (addr % flash->sector_size || size % flash->sector_size ||
        size / flash->sector_size < 2 || slot > flash->sector_size)
        return FOTA_ERR_INVALID_ARG;
    memset(s, 0, sizeof *s);
    s->flash = flash;
    s->addr = addr;
    s->size = size;
    s->data_len = data_len;
    s->slot_len = slot;
    return FOTA_OK;
}

static uint32_t slots_per_sector(const struct fota_record_store *s)
{
    return s->flash->sector_size / s->slot_len;
}

/* Offset (in the region) of slot i of sector k. */
static uint32_t slot_offset(const struct fota_record_store *s, uint32_t sector, uint32_t i)
{
    return sector * s->flash->sector_size + i * s->slot_len;
}

/* Read the copy at region offset `off`; returns 1 and its seq when valid. */
static int read_copy(struct fota_record_store *s, uint32_t off, uint8_t *buf, uint32_t *seq,
                     int *err)
{
    int r = s->flash->read(s->flash->ctx, s->addr + off, buf, s->slot_len);
    if (r < 0) {
        s->port_err = r;
        *err = FOTA_ERR_FLASH_READ;
        return 0;
    }
    if (get_u32(buf) != RECORD_MAGIC || get_u32(buf + 8) != s->data_len)
        return 0;
    uint32_t n = 12 + s->data_len;
    if (fota_crc32(0, buf, n) != get_u32(buf + n))
        return 0;
    *seq = get_u32(buf + 4);
    return 1;
}

/* A flash call failed: keep the port's own code for the caller's message. */
static int port_failed(struct fota_record_store *s, int port_err, int err)
{
    s->port_err = port_err;
    return err;
}

static int is_blank(const uint8_t *buf, uint32_t len)
{
    for (uint32_t i = 0; i < len; i++)
        if (buf[i] != 0xFF)
            return 0;
    return 1;
}

int fota_record_load(struct fota_record_store *s, void *data)
{
    uint8_t buf[FOTA_RECORD_DATA_MAX + RECORD_OVERHEAD + FOTA_WRITE_SIZE_MAX];
    uint32_t sectors = s->size / s->flash->sector_size, per = slots_per_sector(s);
    uint32_t best_seq = 0, best_off = 0;
    int found = 0, err = 0;
    s->port_err = 0;

    for (uint32_t k = 0; k < sectors; k++) {
        for (uint32_t i = 0; i < per; i++) {
            uint32_t seq, off = slot_offset(s, k, i);
            if (read_copy(s, off, buf, &seq, &err) && (!found || seq > best_seq)) {
                found = 1;
                best_seq = seq;
                best_off = off;
                memcpy(data, buf + 12, s->data_len);
            }
            if (err)
                return err;
        }
    }
    s->have_next = 0;
    if (!found) {
        s->seq = 0;
        s->next = 0;
        return FOTA_ERR_STATE_CORRUPT;
    }
    s->seq = best_seq;
    s->next = best_off + s->slot_len;
    return FOTA_OK;
}

/* Find where the next copy goes: the first blank slot after the newest in its
 * sector, else the start of the next sector (erased here). */
static int find_next(struct fota_record_store *s)
{
    uint8_t buf[FOTA_RECORD_DATA_MAX + RECORD_OVERHEAD + FOTA_WRITE_SIZE_MAX];
    uint32_t ss = s->flash->sector_size, sectors = s->size / ss, per = slots_per_sector(s);

    if (s->seq != 0) {
        uint32_t sector = (s->next - 1) / ss; /* sector of the newest copy */
        for (uint32_t i = (s->next - sector * ss) / s->slot_len; i < per; i++) {
            uint32_t off = slot_offset(s, sector, i);
            int r = s->flash->read(s->flash->ctx, s->addr + off, buf, s->slot_len);
            if (r < 0)
                return port_failed(s, r, FOTA_ERR_FLASH_READ);
            if (is_blank(buf, s->slot_len)) {
                s->next = off;
                s->have_next = 1;
                return FOTA_OK;
            }
        }
        s->next = ((sector + 1) % sectors) * ss;
    } else {
        s->next = 0; /* blank or unreadable region: start over at sector 0 */
    }
    int r = s->flash->erase(s->flash->ctx, s->addr + s->next, ss);
    if (r < 0)
        return port_failed(s, r, FOTA_ERR_FLASH_ERASE);
    s->have_next = 1;
    return FOTA_OK;
}

int fota_record_save(struct fota_record_store *s, const void *data)
{
    uint8_t buf[FOTA_RECORD_DATA_MAX + RECORD_OVERHEAD + FOTA_WRITE_SIZE_MAX];
    uint8_t check[sizeof buf];
    int r;
    s->port_err = 0;

    if (!s->have_next && (r = find_next(s)) < 0)
        return r;
    uint32_t seq = s->seq + 1, n = 12 + s->data_len;
    memset(buf, 0xFF, s->slot_len);
    put_u32(buf, RECORD_MAGIC);
    put_u32(buf + 4, seq);
    put_u32(buf + 8, s->data_len);
    memcpy(buf + 12, data, s->data_len);
    put_u32(buf + n, fota_crc32(0, buf, n));

    s->have_next = 0; /* whatever happens, this slot is used now */
    if ((r = s->flash->write(s->flash->ctx, s->addr + s->next, buf, s->slot_len)) < 0)
        return port_failed(s, r, FOTA_ERR_FLASH_WRITE);
    if ((r = s->flash->read(s->flash->ctx, s->addr + s->next, check, s->slot_len)) < 0)
        return port_failed(s, r, FOTA_ERR_FLASH_READ);
    if (memcmp(check, buf, s->slot_len) != 0)
        return FOTA_ERR_FLASH_VERIFY;
    s->seq = seq;
    s->next += s->slot_len;
    return FOTA_OK;
}

uint32_t fota_record_position(const struct fota_record_store *s)
{
    return s->addr + s->next;
}
