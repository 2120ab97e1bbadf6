/*
 * The coding half of the delta encoder: ops to blocks, with the models of
 * src/internal/delta_coder.h compiled for encoding (the decoder, src/delta.c, compiles
 * the same symbol functions for decoding). Format: docs/delta.md.
 */
#define FOTA_DELTA_ENCODER 1
#include "fota/delta_encode.h"

#include <string.h>

#include "internal/delta_coder.h"
#include "fota/error.h"
#include "fota/record.h"

struct enc_state {
    struct fota_delta_header hdr;
    const uint8_t *base, *target;
    struct dc_rc rc;
    struct dc_models m;
    struct dc_diff_state ds;
    uint32_t base_pos;
    unsigned prev_op;
    uint8_t prev_byte;
    /* the block's output buffer */
    uint8_t *out;
    size_t cap, n;
};

_Static_assert(sizeof(struct enc_state) <= FOTA_DELTA_ENC_STATE_SIZE,
               "FOTA_DELTA_ENC_STATE_SIZE too small for the encoder state");

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

int fota_delta_write_header(const struct fota_delta_header *h, uint8_t out[FOTA_DELTA_HEADER_SIZE])
{
    if (!h || !out || h->format != FOTA_DELTA_FORMAT || h->kind > FOTA_DELTA_PATCH ||
        h->block_shift < FOTA_DELTA_MIN_BLOCK_SHIFT || h->block_shift > FOTA_DELTA_MAX_BLOCK_SHIFT ||
        (h->kind == FOTA_DELTA_COMPRESSED) != (h->base_size == 0))
        return FOTA_ERR_INVALID_ARG;
    memset(out, 0, FOTA_DELTA_HEADER_SIZE);
    memcpy(out, "fdlt", 4);
    out[4] = h->format;
    out[5] = h->kind;
    out[6] = h->block_shift;
    put_u32(out + 8, h->base_size);
    put_u32(out + 12, h->target_size);
    memcpy(out + 16, h->base_sha256, 32);
    memcpy(out + 48, h->target_sha256, 32);
    put_u32(out + 80, fota_crc32(0, out, 80));
    return 0;
}

static void put_byte(void *ctx, uint8_t byte)
{
    struct enc_state *s = ctx;
    if (s->n < s->cap)
        s->out[s->n] = byte;
    s->n++; /* counts on past the end, so the overflow is seen */
}

int fota_delta_enc_init(struct fota_delta_enc *e, const struct fota_delta_header *h,
                        const uint8_t *base, const uint8_t *target)
{
    struct enc_state *s;
    uint8_t scratch[FOTA_DELTA_HEADER_SIZE];
    if (!e || !h || (!target && h->target_size) || (h->kind == FOTA_DELTA_PATCH && !base) ||
        fota_delta_write_header(h, scratch) != 0)
        return FOTA_ERR_INVALID_ARG;
    s = (struct enc_state *)(void *)e->u.bytes;
    memset(s, 0, sizeof *s);
    s->hdr = *h;
    s->base = base;
    s->target = target;
    return 0;
}

/* One op; its bounds were checked by the caller. */
static void code_op(struct enc_state *s, const struct fota_delta_op *op)
{
    const uint8_t *t = s->target + op->out;
    dc_kind(&s->rc, &s->m, s->prev_op, op->kind);
    if (op->kind == DC_OP_DIFF) {
        int neg = op->src < s->base_pos;
        uint32_t mag = neg ? s->base_pos - op->src : op->src - s->base_pos;
        const uint8_t *b = s->base + op->src;
        dc_number(&s->rc, &s->m.num[DC_NUM_SEEK], 0, mag);
        if (mag)
            dc_bit(&s->rc, &s->m.seek_sign[0], (unsigned)neg);
        dc_number(&s->rc, &s->m.num[DC_NUM_DIFF_LEN], 0, op->len - 1);
        for (uint32_t i = 0; i < op->len; i++)
            dc_diff(&s->rc, &s->m, &s->ds, (uint8_t)(t[i] - b[i]));
        s->base_pos = op->src + op->len;
    } else if (op->kind == DC_OP_LIT) {
        dc_number(&s->rc, &s->m.num[DC_NUM_LIT_LEN], 0, op->len - 1);
        for (uint32_t i = 0; i < op->len; i++) {
            dc_lit(&s->rc, &s->m, s->prev_byte, t[i]);
            s->prev_byte = t[i];
        }
    } else {
        dc_number(&s->rc, &s->m.num[DC_NUM_DIST], 0, op->src - 1);
        dc_number(&s->rc, &s->m.num[DC_NUM_MATCH_LEN], 0, op->len - 1);
    }
    s->prev_byte = t[op->len - 1];
    s->prev_op = op->kind;
}

int fota_delta_enc_block(struct fota_delta_enc *e, uint32_t index, const struct fota_delta_op *ops,
                         size_t n_ops, uint8_t *out, size_t cap, size_t *len)
{
    struct enc_state *s;
    uint32_t size, start, end, pos;
    size_t first;

    if (!e || (!ops && n_ops) || !out || !len)
        return FOTA_ERR_INVALID_ARG;
    s = (struct enc_state *)(void *)e->u.bytes;
    size = 1u << s->hdr.block_shift;
    if (index > (s->hdr.target_size - 1u) >> s->hdr.block_shift || s->hdr.target_size == 0)
        return FOTA_ERR_INVALID_ARG;
    start = index << s->hdr.block_shift;
    end = s->hdr.target_size - start > size ? start + size : s->hdr.target_size;
    if (cap < FOTA_DELTA_BLOCK_HEADER_SIZE + FOTA_DELTA_BLOCK_MAX((size_t)(end - start)))
        return FOTA_ERR_BUFFER_TOO_SMALL;
    /* The ops tile the whole target in order and stay inside the images;
     * this block codes the parts of those that overlap it. */
    pos = 0;
    first = n_ops;
    for (size_t i = 0; i < n_ops && pos < end; i++) {
        const struct fota_delta_op *op = &ops[i];
        if (op->out != pos || op->len == 0 || op->len > s->hdr.target_size - pos ||
            op->kind > DC_OP_MATCH)
            return FOTA_ERR_INVALID_ARG;
        if (op->kind == DC_OP_DIFF &&
            (s->hdr.kind != FOTA_DELTA_PATCH || op->src > s->hdr.base_size ||
             op->len > s->hdr.base_size - op->src))
            return FOTA_ERR_INVALID_ARG;
        if (op->kind == DC_OP_MATCH && (op->src == 0 || op->src > op->out))
            return FOTA_ERR_INVALID_ARG;
        pos += op->len;
        if (pos > start && first == n_ops)
            first = i;
    }
    if (pos < end)
        return FOTA_ERR_INVALID_ARG;

    dc_models_reset(&s->m);
    memset(&s->ds, 0, sizeof s->ds);
    s->base_pos = start;
    s->prev_op = DC_OP_DIFF;
    s->prev_byte = 0;
    s->out = out + FOTA_DELTA_BLOCK_HEADER_SIZE;
    s->cap = cap - FOTA_DELTA_BLOCK_HEADER_SIZE;
    s->n = 0;
    dc_enc_start(&s->rc, put_byte, s);
    for (size_t i = first; i < n_ops && ops[i].out < end; i++) {
        struct fota_delta_op part = ops[i];
        uint32_t from = part.out > start ? part.out : start;
        uint32_t to = part.out + part.len < end ? part.out + part.len : end;
        if (part.kind == DC_OP_DIFF)
            part.src += from - part.out;
        part.out = from;
        part.len = to - from;
        code_op(s, &part);
    }
    dc_enc_finish(&s->rc);
    if (s->n > FOTA_DELTA_BLOCK_MAX((size_t)(end - start)) || s->n > s->cap)
        return FOTA_ERR_BUFFER_TOO_SMALL; /* cannot happen with these models */
    put_u32(out, index);
    put_u32(out + 4, (uint32_t)s->n);
    *len = FOTA_DELTA_BLOCK_HEADER_SIZE + s->n;
    return 0;
}
