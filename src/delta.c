/*
 * The streaming decoder of delta patches and compressed images (format:
 * docs/delta.md). No heap: everything lives in the caller's struct
 * fota_delta. The base image and earlier output are read back through the
 * caller's callbacks, in chunks of at most sizeof base_buf / out_buf bytes.
 *
 * Suspending: the range coder reads its input from a small ring. A symbol is
 * decoded only when the ring holds as many bytes as the symbol could need at
 * most (each binary decision shifts in at most one byte), or all that is left
 * of the block, so the coder never stops inside a symbol.
 */
#include "fota/delta.h"

#include <string.h>

#include "internal/delta_coder.h"
#include "fota/error.h"
#include "fota/record.h"
#include "internal/le.h"

/* Decisions of the largest unit: an op's kind (2), a seek (37 + sign) and a
 * length (37). */
#define UNIT_MAX_BYTES 80u
/* Decisions of one diff byte (1 + 8) or literal byte (8). */
#define BYTE_MAX_BYTES 9u
/* Range coder bytes read before the first decision of a block. */
#define RC_INIT_BYTES 5u

enum {
    ST_HEADER,      /* collecting the patch header */
    ST_BLOCK_HEAD,  /* collecting a block header */
    ST_BLOCK_INIT,  /* waiting for the coder's first bytes */
    ST_OP,          /* at the start of an op */
    ST_DIFF,        /* inside an op */
    ST_LIT,
    ST_MATCH,
    ST_DONE,
    ST_FAILED,
};

/* Bytes read through a callback, kept for the next ones. */
struct read_cache {
    uint32_t off, len;
    uint8_t buf[64];
};

struct delta_state {
    struct fota_delta_io io;
    struct fota_delta_header hdr;
    struct fota_delta_checkpoint cp;
    struct dc_rc rc;
    uint8_t expect_base_sha256[32];
    uint32_t expect_base_size;
    int err;             /* the error that stopped decoding, once ST_FAILED */
    uint8_t have_base;
    uint8_t state;
    uint8_t prev_op;
    uint8_t prev_byte;
    struct dc_diff_state ds;
    uint32_t head_fill;  /* header bytes collected */
    uint32_t in_fill;    /* ring bytes the coder has not taken */
    uint32_t patch_pos;  /* patch bytes consumed */
    uint32_t out_pos;    /* output bytes produced */
    uint32_t block, block_start, block_end, payload;
    uint32_t base_pos;   /* next base byte of a diff op */
    uint32_t op_left;    /* bytes still to produce in the current op */
    uint32_t dist;       /* of the current match */
    uint32_t hist_from;  /* history holds nothing before this offset */
    struct dc_models m;
    uint8_t head[FOTA_DELTA_HEADER_SIZE];
    uint8_t in_ring[DC_IN_RING];
    uint8_t history[FOTA_DELTA_OUT_HISTORY]; /* output before this call, by offset mod size */
    struct read_cache base_cache, out_cache;
};

_Static_assert(sizeof(struct delta_state) <= FOTA_DELTA_STATE_SIZE,
               "FOTA_DELTA_STATE_SIZE too small for the decoder state");
_Static_assert((FOTA_DELTA_OUT_HISTORY & (FOTA_DELTA_OUT_HISTORY - 1)) == 0,
               "history is indexed by offset mod its size");

static struct delta_state *state_of(struct fota_delta *d)
{
    return (struct delta_state *)(void *)d->u.bytes;
}

static const struct delta_state *cstate_of(const struct fota_delta *d)
{
    return (const struct delta_state *)(const void *)d->u.bytes;
}

static int fail(struct delta_state *s, int err)
{
    s->state = ST_FAILED;
    s->err = err;
    return err;
}

int fota_delta_parse_header(const uint8_t *buf, size_t len, struct fota_delta_header *out)
{
    if (!buf || !out || len < FOTA_DELTA_HEADER_SIZE)
        return FOTA_ERR_INVALID_ARG;
    memset(out, 0, sizeof *out);
    if (memcmp(buf, "fdlt", 4) != 0 || fota_crc32(0, buf, 80) != le_get32(buf + 80))
        return FOTA_ERR_DELTA_CORRUPT;
    out->format = buf[4];
    out->kind = buf[5];
    out->block_shift = buf[6];
    out->base_size = le_get32(buf + 8);
    out->target_size = le_get32(buf + 12);
    memcpy(out->base_sha256, buf + 16, 32);
    memcpy(out->target_sha256, buf + 48, 32);
    if (out->format != FOTA_DELTA_FORMAT || out->kind > FOTA_DELTA_PATCH || buf[7] != 0 ||
        out->block_shift < FOTA_DELTA_MIN_BLOCK_SHIFT ||
        out->block_shift > FOTA_DELTA_MAX_BLOCK_SHIFT)
        return FOTA_ERR_DELTA_UNSUPPORTED;
    if ((out->kind == FOTA_DELTA_COMPRESSED) != (out->base_size == 0))
        return FOTA_ERR_DELTA_CORRUPT;
    return 0;
}

int fota_delta_init(struct fota_delta *d, const struct fota_delta_io *io,
                    const uint8_t base_sha256[32], uint32_t base_size)
{
    struct delta_state *s;
    if (!d || !io || !io->read_output || (base_sha256 && !io->read_base) ||
        (!base_sha256 && base_size))
        return FOTA_ERR_INVALID_ARG;
    s = state_of(d);
    memset(s, 0, sizeof *s);
    s->io = *io;
    s->have_base = base_sha256 != NULL;
    if (base_sha256)
        memcpy(s->expect_base_sha256, base_sha256, 32);
    s->expect_base_size = base_size;
    s->state = ST_HEADER;
    return 0;
}

/* The header names the base this decoder was given (or none is needed). */
static int check_base(struct delta_state *s)
{
    if (s->hdr.kind == FOTA_DELTA_COMPRESSED)
        return 0;
    if (!s->have_base || s->hdr.base_size != s->expect_base_size ||
        memcmp(s->hdr.base_sha256, s->expect_base_sha256, 32) != 0)
        return FOTA_ERR_DELTA_BASE;
    return 0;
}

static void enter_block_head(struct delta_state *s)
{
    s->cp.patch_offset = s->patch_pos;
    s->cp.output_offset = s->out_pos;
    s->head_fill = 0;
    s->state = s->out_pos == s->hdr.target_size ? ST_DONE : ST_BLOCK_HEAD;
}

int fota_delta_resume(struct fota_delta *d, const struct fota_delta_header *hdr,
                      const struct fota_delta_checkpoint *cp)
{
    struct delta_state *s;
    int r;
    if (!d || !hdr || !cp)
        return FOTA_ERR_INVALID_ARG;
    s = state_of(d);
    if (s->state != ST_HEADER || s->head_fill != 0)
        return FOTA_ERR_INVALID_ARG; /* only right after fota_delta_init */
    s->hdr = *hdr;
    r = check_base(s);
    if (r != 0)
        return r;
    if (hdr->format != FOTA_DELTA_FORMAT || hdr->block_shift < FOTA_DELTA_MIN_BLOCK_SHIFT ||
        hdr->block_shift > FOTA_DELTA_MAX_BLOCK_SHIFT)
        return FOTA_ERR_DELTA_UNSUPPORTED;
    if (cp->output_offset > hdr->target_size ||
        ((cp->output_offset & ((1u << hdr->block_shift) - 1u)) != 0 &&
         cp->output_offset != hdr->target_size) ||
        cp->patch_offset < FOTA_DELTA_HEADER_SIZE)
        return FOTA_ERR_INVALID_ARG;
    s->patch_pos = cp->patch_offset;
    s->out_pos = cp->output_offset;
    s->block = cp->output_offset >> hdr->block_shift;
    s->hist_from = cp->output_offset; /* nothing before it is in the history */
    enter_block_head(s);
    return 0;
}

const struct fota_delta_header *fota_delta_header(const struct fota_delta *d)
{
    const struct delta_state *s = cstate_of(d);
    return s->state == ST_HEADER ? NULL : &s->hdr;
}

void fota_delta_get_checkpoint(const struct fota_delta *d, struct fota_delta_checkpoint *cp)
{
    *cp = cstate_of(d)->cp;
}

/* ---- Input ----------------------------------------------------------------- */

/* Move caller bytes into the coder's ring, never past the block's end. */
static size_t fill_ring(struct delta_state *s, const uint8_t *in, size_t in_len)
{
    uint32_t room = DC_IN_RING - s->in_fill;
    uint32_t left = s->payload - s->rc.in_taken - s->in_fill;
    size_t n = in_len < room ? in_len : room;
    if (n > left)
        n = left;
    for (size_t i = 0; i < n; i++)
        s->in_ring[(s->rc.in_pos + s->in_fill + i) & (DC_IN_RING - 1)] = in[i];
    s->in_fill += (uint32_t)n;
    s->patch_pos += (uint32_t)n;
    return n;
}

/* Enough input for a symbol that may take up to `need` bytes? */
static int have_input(const struct delta_state *s, uint32_t need)
{
    return s->in_fill >= need || s->rc.in_taken + s->in_fill == s->payload;
}

/* Account for the bytes the coder took; past the block's end is corrupt. */
static int took(struct delta_state *s, uint32_t taken_before)
{
    uint32_t n = s->rc.in_taken - taken_before;
    if (n > s->in_fill)
        return FOTA_ERR_DELTA_CORRUPT;
    s->in_fill -= n;
    return 0;
}

/* ---- Sources ----------------------------------------------------------------- */

/* The byte at `pos` through the cache, refilled with up to its size of
 * bytes before `limit`. */
static int cached_byte(struct read_cache *c, fota_delta_read_fn read, void *ctx, uint32_t pos,
                       uint32_t limit, uint8_t *out)
{
    if (pos < c->off || pos - c->off >= c->len) {
        uint32_t n = limit - pos;
        int r;
        if (n > sizeof c->buf)
            n = sizeof c->buf;
        r = read(ctx, pos, c->buf, n);
        if (r != 0)
            return r < 0 ? r : FOTA_ERR_FLASH_READ;
        c->off = pos;
        c->len = n;
    }
    *out = c->buf[pos - c->off];
    return 0;
}

/* An earlier output byte: from this call's output, from the history of the
 * bytes before this call, or read back through the callback. */
static int out_byte(struct delta_state *s, uint32_t src, const uint8_t *out, uint32_t call_base,
                    uint8_t *b)
{
    uint32_t hist_lo;
    if (src >= call_base) {
        *b = out[src - call_base];
        return 0;
    }
    hist_lo = call_base > FOTA_DELTA_OUT_HISTORY ? call_base - FOTA_DELTA_OUT_HISTORY : 0;
    if (hist_lo < s->hist_from)
        hist_lo = s->hist_from;
    if (src >= hist_lo) {
        *b = s->history[src & (FOTA_DELTA_OUT_HISTORY - 1)];
        return 0;
    }
    return cached_byte(&s->out_cache, s->io.read_output, s->io.ctx, src, hist_lo, b);
}

/* ---- Ops ------------------------------------------------------------------------ */

static void start_block(struct delta_state *s)
{
    uint32_t size = 1u << s->hdr.block_shift;
    s->block_start = s->out_pos;
    s->block_end = s->hdr.target_size - s->out_pos > size ? s->out_pos + size : s->hdr.target_size;
    dc_models_reset(&s->m);
    s->rc.in = s->in_ring;
    s->rc.in_pos = 0;
    s->rc.in_taken = 0;
    s->in_fill = 0;
    s->base_pos = s->out_pos;
    memset(&s->ds, 0, sizeof s->ds);
    s->prev_op = DC_OP_DIFF;
    s->prev_byte = 0;
    s->state = ST_BLOCK_INIT;
}

/* Decode an op's kind and numbers and check them against the sizes. */
static int decode_op(struct delta_state *s)
{
    struct dc_rc *rc = &s->rc;
    unsigned kind = dc_kind(rc, &s->m, s->prev_op, 0);
    uint32_t room = s->block_end - s->out_pos, len;

    if (kind == DC_OP_DIFF) {
        uint32_t mag = dc_number(rc, &s->m.num[DC_NUM_SEEK], 0, 0);
        int neg = mag ? (int)dc_bit(rc, &s->m.seek_sign[0], 0) : 0;
        if (s->hdr.kind != FOTA_DELTA_PATCH)
            return FOTA_ERR_DELTA_CORRUPT; /* no base to diff against */
        if (neg ? mag > s->base_pos : mag > s->hdr.base_size - s->base_pos)
            return FOTA_ERR_DELTA_CORRUPT;
        s->base_pos = neg ? s->base_pos - mag : s->base_pos + mag;
        len = dc_number(rc, &s->m.num[DC_NUM_DIFF_LEN], 0, 0);
        if (len >= room || len >= s->hdr.base_size - s->base_pos)
            return FOTA_ERR_DELTA_CORRUPT;
        s->state = ST_DIFF;
    } else if (kind == DC_OP_LIT) {
        len = dc_number(rc, &s->m.num[DC_NUM_LIT_LEN], 0, 0);
        if (len >= room)
            return FOTA_ERR_DELTA_CORRUPT;
        s->state = ST_LIT;
    } else {
        uint32_t dist = dc_number(rc, &s->m.num[DC_NUM_DIST], 0, 0);
        if (dist >= s->out_pos)
            return FOTA_ERR_DELTA_CORRUPT;
        s->dist = dist + 1;
        len = dc_number(rc, &s->m.num[DC_NUM_MATCH_LEN], 0, 0);
        if (len >= room)
            return FOTA_ERR_DELTA_CORRUPT;
        s->state = ST_MATCH;
    }
    s->op_left = len + 1;
    s->prev_op = (uint8_t)kind;
    return 0;
}

/* The end of a block: the coder must have taken exactly its bytes. */
static int end_block(struct delta_state *s)
{
    if (s->in_fill != 0)
        return FOTA_ERR_DELTA_CORRUPT;
    s->block++;
    enter_block_head(s);
    return 0;
}

static int parse_block_head(struct delta_state *s)
{
    uint32_t index = le_get32(s->head), payload = le_get32(s->head + 4);
    uint32_t size = 1u << s->hdr.block_shift;
    /* Incompressible bytes cost a little more than 8 bits each. */
    if (index != s->block || payload < RC_INIT_BYTES || payload > size + size / 8 + 64)
        return FOTA_ERR_DELTA_CORRUPT;
    s->payload = payload;
    start_block(s);
    return 0;
}

/* Copy header bytes; 1 when `want` bytes are complete. */
static int collect(struct delta_state *s, uint32_t want, const uint8_t *in, size_t in_len,
                   size_t *used)
{
    size_t n = want - s->head_fill;
    if (n > in_len - *used)
        n = in_len - *used;
    memcpy(s->head + s->head_fill, in + *used, n);
    s->head_fill += (uint32_t)n;
    s->patch_pos += (uint32_t)n;
    *used += n;
    return s->head_fill == want;
}

int fota_delta_run(struct fota_delta *d, const uint8_t *in, size_t in_len, size_t *in_used,
                   uint8_t *out, size_t out_cap, size_t *out_len)
{
    struct delta_state *s;
    size_t used = 0, produced = 0;
    uint32_t call_base;
    int r = 0;

    if (!d || (!in && in_len) || !in_used || (!out && out_cap) || !out_len)
        return FOTA_ERR_INVALID_ARG;
    *in_used = 0;
    *out_len = 0;
    s = state_of(d);
    if (s->state == ST_FAILED)
        return s->err;
    call_base = s->out_pos;
    s->rc.in = s->in_ring;

    for (;;) {
        uint32_t before;
        uint8_t b, old;

        switch (s->state) {
        case ST_HEADER:
            if (!collect(s, FOTA_DELTA_HEADER_SIZE, in, in_len, &used))
                goto done;
            r = fota_delta_parse_header(s->head, FOTA_DELTA_HEADER_SIZE, &s->hdr);
            if (r == 0)
                r = check_base(s);
            if (r != 0)
                goto failed;
            enter_block_head(s);
            break;
        case ST_BLOCK_HEAD:
            if (!collect(s, FOTA_DELTA_BLOCK_HEADER_SIZE, in, in_len, &used))
                goto done;
            r = parse_block_head(s);
            if (r != 0)
                goto failed;
            break;
        case ST_BLOCK_INIT:
            used += fill_ring(s, in + used, in_len - used);
            if (s->in_fill < RC_INIT_BYTES)
                goto done;
            /* The encoder's first byte is always 0 (its carry cache). */
            if (dc_next_byte(&s->rc) != 0)
                goto corrupt;
            s->rc.range = 0xFFFFFFFFu;
            s->rc.code = 0;
            for (unsigned i = 1; i < RC_INIT_BYTES; i++)
                s->rc.code = (s->rc.code << 8) | dc_next_byte(&s->rc);
            s->in_fill -= RC_INIT_BYTES;
            s->state = ST_OP;
            break;
        case ST_OP:
            used += fill_ring(s, in + used, in_len - used);
            if (s->out_pos == s->block_end) {
                /* The coder is done with the block: any byte it did not take
                 * is corrupt; without one, wait for the rest to show that. */
                if (s->in_fill == 0 && s->rc.in_taken < s->payload)
                    goto done;
                r = end_block(s);
                if (r != 0)
                    goto failed;
                break;
            }
            if (!have_input(s, UNIT_MAX_BYTES))
                goto done;
            before = s->rc.in_taken;
            r = decode_op(s);
            if (r == 0)
                r = took(s, before);
            if (r != 0)
                goto failed;
            break;
        case ST_DIFF:
        case ST_LIT:
        case ST_MATCH:
            if (s->op_left == 0) {
                s->state = ST_OP;
                break;
            }
            if (produced == out_cap)
                goto done;
            if (s->state == ST_MATCH) {
                r = out_byte(s, s->out_pos - s->dist, out, call_base, &b);
                if (r != 0)
                    goto failed;
            } else {
                used += fill_ring(s, in + used, in_len - used);
                if (!have_input(s, BYTE_MAX_BYTES))
                    goto done;
                before = s->rc.in_taken;
                if (s->state == ST_DIFF) {
                    uint8_t diff;
                    r = cached_byte(&s->base_cache, s->io.read_base, s->io.ctx, s->base_pos,
                                    s->hdr.base_size, &old);
                    if (r != 0)
                        goto failed;
                    diff = dc_diff(&s->rc, &s->m, &s->ds, 0);
                    b = (uint8_t)(old + diff);
                    s->base_pos++;
                } else {
                    b = dc_lit(&s->rc, &s->m, s->prev_byte, 0);
                }
                r = took(s, before);
                if (r != 0)
                    goto failed;
            }
            out[produced++] = b;
            s->prev_byte = b;
            s->out_pos++;
            s->op_left--;
            break;
        case ST_DONE:
            if (used < in_len)
                goto corrupt; /* bytes after the last block */
            r = 1;
            goto done;
        default:
            r = s->err;
            goto done;
        }
    }
corrupt:
    r = FOTA_ERR_DELTA_CORRUPT;
failed:
    fail(s, r);
done:
    *in_used = used;
    *out_len = produced;
    /* The history keeps the latest output bytes for the next call. */
    for (size_t i = produced > FOTA_DELTA_OUT_HISTORY ? produced - FOTA_DELTA_OUT_HISTORY : 0;
         i < produced; i++)
        s->history[(call_base + i) & (FOTA_DELTA_OUT_HISTORY - 1)] = out[i];
    return r;
}
