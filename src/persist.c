/*
 * The agent's persistent state, field by field: see src/fota/persist.h
 * and docs/state.md (the format, byte by byte).
 */
#include "fota/persist.h"

#include <string.h>

#include "fota/error.h"
#include "fota/record.h"
#include "internal/le.h"

/* Format 3: offsets of the fields. A field is present when `used` reaches
 * its end; appended fields go after the last one. */
#define OFF_FORMAT 0u
#define OFF_USED 4u
#define OFF_RESERVED 6u
#define OFF_LAST_SEQUENCE 8u
#define OFF_SECURITY_FLOOR 12u
#define OFF_REJECTED_VERSION 16u
#define OFF_PENDING_VERSION 20u
#define OFF_PENDING_SECURITY 24u
#define OFF_PENDING_SLOT 28u
#define OFF_PENDING_PREV_STATE 32u
#define OFF_DL_SHA256 36u
#define OFF_DL_SIZE 68u
#define OFF_DL_OFFSET 72u
#define OFF_DL_SLOT 76u
#define CORE_END 80u /* every format-3 record has these */
#define OFF_MANIFEST_URL_CRC 80u
#define OFF_ETAG_LEN 84u
#define OFF_ETAG 85u
#define ETAG_END (OFF_ETAG + FOTA_HTTP_ETAG_MAX) /* 157 */
/* Appended for patches and compressed images (issue 11, docs/delta.md) */
#define OFF_DL_KIND ETAG_END                /* 157: u8 enum fota_artifact_kind, 0: full image */
#define OFF_DL_BLOCK_SHIFT (ETAG_END + 1u)  /* 158: u8 */
#define OFF_DL_ARTIFACT (ETAG_END + 2u)     /* 159: first 8 bytes of the artifact's SHA-256 */
#define OFF_DL_PATCH_OFFSET (ETAG_END + 10u) /* 167: u32 */
#define DELTA_END (ETAG_END + 14u)          /* 171 */
/* Appended for data partitions (issue 11, docs/data-partitions.md) */
#define OFF_DATA_FLAGS DELTA_END            /* 171: u8 bit 0 busy, bit 1 the staging slot */
#define OFF_DATA_LABEL_CRC (DELTA_END + 1u) /* 172: u32 CRC-32 of the label */
#define OFF_DATA_ADDR (DELTA_END + 5u)      /* 176: u32 */
#define OFF_DATA_SIZE (DELTA_END + 9u)      /* 180: u32 */
#define OFF_DATA_COPIED (DELTA_END + 13u)   /* 184: u32 */
#define DATA_END (DELTA_END + 17u)          /* 188: what this firmware writes */
#define USED_MAX (FOTA_PERSIST_RECORD_LEN - 4u)
_Static_assert(DATA_END <= USED_MAX, "the state fields outgrow the record");

/* Raw layouts 1 and 2: struct fota_persist as the compiler laid it out
 * (uint32_t / int32_t / uint8_t[32] only, so no padding), little-endian. */
#define LAYOUT1_LEN 72u
#define LAYOUT2_LEN 76u

static int32_t get_i32(const uint8_t *p)
{
    uint32_t v = le_get32(p);
    return v <= INT32_MAX ? (int32_t)v : -(int32_t)(~v) - 1;
}

static void put_i32(uint8_t *p, int32_t v)
{
    le_put32(p, (uint32_t)v);
}

void fota_persist_defaults(struct fota_persist *p, uint32_t floor_min)
{
    memset(p, 0, sizeof *p);
    p->version = FOTA_PERSIST_FORMAT;
    p->security_floor = floor_min;
    p->pending_slot = -1;
    p->pending_prev_state = -1;
    p->dl_slot = -1;
}

void fota_persist_encode(const struct fota_persist *p, uint8_t *out)
{
    size_t etag_len = 0;
    while (etag_len < FOTA_HTTP_ETAG_MAX && p->manifest_etag[etag_len] != '\0')
        etag_len++;

    memset(out, 0, FOTA_PERSIST_RECORD_LEN);
    le_put32(out + OFF_FORMAT, FOTA_PERSIST_FORMAT);
    le_put16(out + OFF_USED, (uint16_t)DATA_END);
    le_put16(out + OFF_RESERVED, 0);
    le_put32(out + OFF_LAST_SEQUENCE, p->last_sequence);
    le_put32(out + OFF_SECURITY_FLOOR, p->security_floor);
    le_put32(out + OFF_REJECTED_VERSION, p->rejected_version);
    le_put32(out + OFF_PENDING_VERSION, p->pending_version);
    le_put32(out + OFF_PENDING_SECURITY, p->pending_security);
    put_i32(out + OFF_PENDING_SLOT, p->pending_slot);
    put_i32(out + OFF_PENDING_PREV_STATE, p->pending_prev_state);
    memcpy(out + OFF_DL_SHA256, p->dl_sha256, sizeof p->dl_sha256);
    le_put32(out + OFF_DL_SIZE, p->dl_size);
    le_put32(out + OFF_DL_OFFSET, p->dl_offset);
    put_i32(out + OFF_DL_SLOT, p->dl_slot);
    le_put32(out + OFF_MANIFEST_URL_CRC, p->manifest_url_crc);
    out[OFF_ETAG_LEN] = (uint8_t)etag_len;
    memcpy(out + OFF_ETAG, p->manifest_etag, etag_len);
    out[OFF_DL_KIND] = p->dl_kind;
    out[OFF_DL_BLOCK_SHIFT] = p->dl_block_shift;
    memcpy(out + OFF_DL_ARTIFACT, p->dl_artifact_sha256, sizeof p->dl_artifact_sha256);
    le_put32(out + OFF_DL_PATCH_OFFSET, p->dl_patch_offset);
    out[OFF_DATA_FLAGS] = (uint8_t)((p->data_busy ? 1u : 0u) | (p->data_slot ? 2u : 0u));
    le_put32(out + OFF_DATA_LABEL_CRC, p->data_label_crc);
    le_put32(out + OFF_DATA_ADDR, p->data_addr);
    le_put32(out + OFF_DATA_SIZE, p->data_size);
    le_put32(out + OFF_DATA_COPIED, p->data_copied);
    le_put32(out + DATA_END, fota_crc32(0, out, DATA_END));
}

/* Slots are 0, 1 or -1 (none); slot states -1 (unknown) .. 4. */
static int slot_ok(int32_t slot)
{
    return slot >= -1 && slot <= 1;
}

int fota_persist_decode(const uint8_t *in, size_t len, struct fota_persist *p)
{
    struct fota_persist d;
    uint32_t used;

    if (!in || !p || len != FOTA_PERSIST_RECORD_LEN || le_get32(in + OFF_FORMAT) != FOTA_PERSIST_FORMAT)
        return FOTA_ERR_STATE_CORRUPT;
    used = le_get16(in + OFF_USED);
    if (used < CORE_END || used > USED_MAX || fota_crc32(0, in, used) != le_get32(in + used))
        return FOTA_ERR_STATE_CORRUPT;

    fota_persist_defaults(&d, 0);
    d.last_sequence = le_get32(in + OFF_LAST_SEQUENCE);
    d.security_floor = le_get32(in + OFF_SECURITY_FLOOR);
    d.rejected_version = le_get32(in + OFF_REJECTED_VERSION);
    d.pending_version = le_get32(in + OFF_PENDING_VERSION);
    d.pending_security = le_get32(in + OFF_PENDING_SECURITY);
    d.pending_slot = get_i32(in + OFF_PENDING_SLOT);
    d.pending_prev_state = get_i32(in + OFF_PENDING_PREV_STATE);
    memcpy(d.dl_sha256, in + OFF_DL_SHA256, sizeof d.dl_sha256);
    d.dl_size = le_get32(in + OFF_DL_SIZE);
    d.dl_offset = le_get32(in + OFF_DL_OFFSET);
    d.dl_slot = get_i32(in + OFF_DL_SLOT);
    if (!slot_ok(d.pending_slot) || !slot_ok(d.dl_slot) || d.pending_prev_state < -1 ||
        d.pending_prev_state > FOTA_IMG_UNDEFINED || d.dl_offset > d.dl_size)
        return FOTA_ERR_STATE_CORRUPT;

    if (used >= ETAG_END) { /* written by firmware that knows the ETag */
        uint8_t n = in[OFF_ETAG_LEN];
        if (n > FOTA_HTTP_ETAG_MAX)
            return FOTA_ERR_STATE_CORRUPT;
        for (uint8_t i = 0; i < n; i++)
            if (in[OFF_ETAG + i] <= 0x20 || in[OFF_ETAG + i] >= 0x7f)
                return FOTA_ERR_STATE_CORRUPT;
        d.manifest_url_crc = le_get32(in + OFF_MANIFEST_URL_CRC);
        memcpy(d.manifest_etag, in + OFF_ETAG, n);
        d.manifest_etag[n] = '\0';
    }
    if (used >= DELTA_END) { /* written by firmware that takes patches */
        d.dl_kind = in[OFF_DL_KIND];
        d.dl_block_shift = in[OFF_DL_BLOCK_SHIFT];
        memcpy(d.dl_artifact_sha256, in + OFF_DL_ARTIFACT, sizeof d.dl_artifact_sha256);
        d.dl_patch_offset = le_get32(in + OFF_DL_PATCH_OFFSET);
        if (d.dl_kind > 2 || (d.dl_block_shift != 0 && (d.dl_block_shift < 12 ||
                                                         d.dl_block_shift > 24)))
            return FOTA_ERR_STATE_CORRUPT;
    }
    if (used >= DATA_END) { /* written by firmware that takes data images */
        uint8_t flags = in[OFF_DATA_FLAGS];
        d.data_busy = flags & 1u;
        d.data_slot = (uint8_t)((flags >> 1) & 1u);
        d.data_label_crc = le_get32(in + OFF_DATA_LABEL_CRC);
        d.data_addr = le_get32(in + OFF_DATA_ADDR);
        d.data_size = le_get32(in + OFF_DATA_SIZE);
        d.data_copied = le_get32(in + OFF_DATA_COPIED);
        if (flags > 3u || (d.data_busy && d.data_size == 0))
            return FOTA_ERR_STATE_CORRUPT;
    }
    /* Fields a later firmware appended (used > DATA_END) are left alone. */
    *p = d;
    return FOTA_OK;
}

int fota_persist_decode_layout(uint32_t layout, const uint8_t *in, size_t len,
                               struct fota_persist *p)
{
    struct fota_persist d;
    size_t at;

    if (!in || !p || (layout != 1 && layout != 2) ||
        len != (layout == 1 ? LAYOUT1_LEN : LAYOUT2_LEN) || le_get32(in) != layout)
        return FOTA_ERR_STATE_CORRUPT;
    fota_persist_defaults(&d, 0);
    d.last_sequence = le_get32(in + 4);
    d.security_floor = le_get32(in + 8);
    d.pending_version = le_get32(in + 12);
    d.pending_security = le_get32(in + 16);
    d.pending_slot = get_i32(in + 20);
    at = 24;
    if (layout == 2) {
        d.pending_prev_state = get_i32(in + at);
        at += 4;
    }
    d.rejected_version = le_get32(in + at);
    memcpy(d.dl_sha256, in + at + 4, sizeof d.dl_sha256);
    d.dl_size = le_get32(in + at + 36);
    d.dl_offset = le_get32(in + at + 40);
    d.dl_slot = get_i32(in + at + 44);
    if (!slot_ok(d.pending_slot) || !slot_ok(d.dl_slot))
        return FOTA_ERR_STATE_CORRUPT;
    *p = d;
    return FOTA_OK;
}

void fota_persist_raise(struct fota_persist *into, const struct fota_persist *from)
{
    if (from->last_sequence > into->last_sequence)
        into->last_sequence = from->last_sequence;
    if (from->security_floor > into->security_floor)
        into->security_floor = from->security_floor;
    if (from->rejected_version > into->rejected_version)
        into->rejected_version = from->rejected_version;
}

/* Is the whole region erased? Returns 1, 0 or FOTA_ERR_FLASH_READ. */
static int region_blank(const struct fota_record_store *s)
{
    uint8_t buf[64];
    for (uint32_t off = 0; off < s->size; off += sizeof buf) {
        uint32_t n = s->size - off < sizeof buf ? s->size - off : (uint32_t)sizeof buf;
        if (s->flash->read(s->flash->ctx, s->addr + off, buf, n) < 0)
            return FOTA_ERR_FLASH_READ;
        for (uint32_t i = 0; i < n; i++)
            if (buf[i] != 0xFF)
                return 0;
    }
    return 1;
}

int fota_persist_load(struct fota_record_store *s, struct fota_persist *p, uint32_t floor_min,
                      int *source)
{
    static const uint32_t layouts[2] = {2, 1}; /* the newest layout first */
    uint8_t buf[FOTA_PERSIST_RECORD_LEN];
    struct fota_persist legacy;
    int found = 0, have_base = 0, have_legacy = 0, r;
    uint32_t keep_off = 0;

    if (!s || !p || !source || s->data_len != FOTA_PERSIST_RECORD_LEN)
        return FOTA_ERR_INVALID_ARG;
    fota_persist_defaults(p, 0);
    *source = FOTA_PERSIST_UNREADABLE;

    r = fota_record_load(s, buf);
    if (r == FOTA_ERR_FLASH_READ)
        return r;
    found = r == FOTA_OK;
    if (found && fota_persist_decode(buf, sizeof buf, p) == FOTA_OK) {
        have_base = 1;
        *source = FOTA_PERSIST_LOADED;
    }

    /* Copies of the raw layouts still in the region: the base when there is
     * no format-3 record at all, and in any case never lower. Of a record
     * that is there but unreadable nothing is used but what only rises. */
    for (size_t i = 0; i < 2; i++) {
        uint32_t seq, off, len = layouts[i] == 1 ? LAYOUT1_LEN : LAYOUT2_LEN;
        r = fota_record_find(s, len, buf, &seq, &off);
        if (r == FOTA_ERR_FLASH_READ)
            return r;
        if (r != FOTA_OK || fota_persist_decode_layout(layouts[i], buf, len, &legacy) != 0)
            continue;
        if (!found && !have_base) {
            *p = legacy;
            have_base = 1;
            keep_off = off;
            *source = layouts[i] == 2 ? FOTA_PERSIST_MIGRATED_2 : FOTA_PERSIST_MIGRATED_1;
        } else {
            fota_persist_raise(p, &legacy);
        }
        have_legacy = 1;
    }
    /* The copy migrated from stays until a format-3 copy exists. */
    if (!found && have_legacy && (r = fota_record_keep(s, keep_off)) != FOTA_OK)
        return r;

    if (!found && !have_legacy) {
        r = region_blank(s);
        if (r < 0)
            return r;
        *source = r ? FOTA_PERSIST_FRESH : FOTA_PERSIST_UNREADABLE;
    }
    if (p->security_floor < floor_min)
        p->security_floor = floor_min;
    p->version = FOTA_PERSIST_FORMAT;
    return FOTA_OK;
}

int fota_persist_save(struct fota_record_store *s, const struct fota_persist *p)
{
    uint8_t buf[FOTA_PERSIST_RECORD_LEN];
    if (!s || !p || s->data_len != FOTA_PERSIST_RECORD_LEN)
        return FOTA_ERR_INVALID_ARG;
    fota_persist_encode(p, buf);
    return fota_record_save(s, buf);
}
