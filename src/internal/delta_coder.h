/*
 * The delta format's entropy coder and models, written once for both sides.
 *
 * An adaptive binary range coder (the LZMA kind: 11-bit probabilities, 32-bit
 * range, one byte shifted per normalisation) and the symbols of the format
 * built from it: op kinds, numbers, diff bytes, literal bytes. Every symbol
 * function takes the value to encode and returns the value coded: compiled
 * with FOTA_DELTA_ENCODER defined (tools/, on the host) it writes the value;
 * without (src/delta.c, on the device) it ignores the argument and returns
 * the decoded value. So encoder and decoder cannot disagree about the models.
 *
 * Format: docs/delta.md. Internal to the core and the fota tool.
 */
#ifndef FOTA_SRC_DELTA_CODER_H
#define FOTA_SRC_DELTA_CODER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fota/delta.h"

#define DC_PROB_BITS 12
#define DC_PROB_ONE (1u << DC_PROB_BITS)
#define DC_PROB_MASK (DC_PROB_ONE - 1u)
#define DC_TOP (1u << 24)

/* Op kinds, coded at the start of every op. */
#define DC_OP_DIFF FOTA_DELTA_OP_DIFF
#define DC_OP_LIT FOTA_DELTA_OP_LIT
#define DC_OP_MATCH FOTA_DELTA_OP_MATCH

/* Numbers: a slot (bit length, 0..32) from a 6-bit tree, then the bits below
 * the leading one: the top DC_NUM_MODELLED of them modelled per slot, the rest
 * at probability 1/2. */
#define DC_NUM_SLOTS 33
#define DC_NUM_MODELLED 2
struct dc_num {
    uint16_t slot[64];
    uint16_t high[DC_NUM_SLOTS][1u << DC_NUM_MODELLED];
};

enum { DC_NUM_SEEK, DC_NUM_DIFF_LEN, DC_NUM_LIT_LEN, DC_NUM_DIST, DC_NUM_MATCH_LEN, DC_NUM_COUNT };

/* Diff bytes: "equal to the base byte" in the context of how many equal
 * bytes came just before; otherwise the difference (new - old mod 256) as a
 * byte tree, in the context of whether the previous difference was zero. */
#define DC_ZRUN_CTX 16
#define DC_DIFF_CTX 2
/* Literal bytes: a byte tree in the context of the previous byte's top bits. */
#define DC_LIT_CTX_BITS 3

struct dc_models {
    uint16_t kind[3][3]; /* [previous kind][decision] */
    uint16_t seek_sign[2];
    struct dc_num num[DC_NUM_COUNT];
    uint16_t zero[DC_ZRUN_CTX];
    uint16_t diff[DC_DIFF_CTX][256];
    uint16_t lit[1u << DC_LIT_CTX_BITS][256];
};

static inline void dc_models_reset(struct dc_models *m)
{
    uint16_t *p = (uint16_t *)(void *)m;
    for (size_t i = 0; i < sizeof *m / sizeof *p; i++)
        p[i] = DC_PROB_ONE / 2;
}

/* A probability (of a 0) in the low 12 bits and in the top 4 how often it
 * was used: new models adapt fast, settled ones slowly. */
#ifndef DC_RATES
#define DC_RATES 2, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4
#endif
static inline void dc_update(uint16_t *p, unsigned bit)
{
    static const uint8_t shift[16] = {DC_RATES};
    unsigned n = *p >> DC_PROB_BITS, q = *p & DC_PROB_MASK;
    if (bit)
        q -= q >> shift[n];
    else
        q += (DC_PROB_ONE - q) >> shift[n];
    if (q < 31)
        q = 31;
    if (q > DC_PROB_ONE - 31)
        q = DC_PROB_ONE - 31;
    *p = (uint16_t)((n < 15 ? n + 1 : 15) << DC_PROB_BITS | q);
}

/* Range coder state. The decoder reads its input from a ring the caller of
 * dc_bit keeps filled (src/delta.c guarantees enough bytes per symbol); the
 * encoder appends to a growing buffer through a callback. */
struct dc_rc {
    uint32_t range;
    uint32_t code;      /* decoder */
    const uint8_t *in;  /* decoder: ring of DC_IN_RING bytes */
    uint32_t in_pos;    /* decoder: bytes taken from the ring (mod DC_IN_RING) */
    uint32_t in_taken;  /* decoder: bytes consumed in this block */
#ifdef FOTA_DELTA_ENCODER
    uint64_t low;
    uint8_t cache;
    uint64_t cache_size;
    void (*put)(void *ctx, uint8_t byte);
    void *put_ctx;
#endif
};

#define DC_IN_RING 128u /* power of two */

#ifdef FOTA_DELTA_ENCODER
static inline void dc_shift_low(struct dc_rc *rc)
{
    if ((uint32_t)rc->low < 0xFF000000u || (rc->low >> 32) != 0) {
        uint8_t carry = (uint8_t)(rc->low >> 32);
        uint8_t temp = rc->cache;
        do {
            rc->put(rc->put_ctx, (uint8_t)(temp + carry));
            temp = 0xFF;
        } while (--rc->cache_size != 0);
        rc->cache = (uint8_t)(rc->low >> 24);
    }
    rc->cache_size++;
    rc->low = (rc->low & 0x00FFFFFFu) << 8;
}

static inline void dc_enc_start(struct dc_rc *rc, void (*put)(void *, uint8_t), void *ctx)
{
    memset(rc, 0, sizeof *rc);
    rc->range = 0xFFFFFFFFu;
    rc->cache_size = 1;
    rc->put = put;
    rc->put_ctx = ctx;
}

static inline void dc_enc_finish(struct dc_rc *rc)
{
    for (int i = 0; i < 5; i++)
        dc_shift_low(rc);
}
#else
static inline uint8_t dc_next_byte(struct dc_rc *rc)
{
    uint8_t b = rc->in[rc->in_pos & (DC_IN_RING - 1)];
    rc->in_pos++;
    rc->in_taken++;
    return b;
}
#endif

/* One binary decision with an adaptive probability (of a 0). */
static inline unsigned dc_bit(struct dc_rc *rc, uint16_t *p, unsigned bit)
{
    uint32_t bound = (rc->range >> DC_PROB_BITS) * (*p & DC_PROB_MASK);
#ifdef FOTA_DELTA_ENCODER
    if (!bit) {
        rc->range = bound;
    } else {
        rc->low += bound;
        rc->range -= bound;
    }
    dc_update(p, bit);
    if (rc->range < DC_TOP) {
        rc->range <<= 8;
        dc_shift_low(rc);
    }
#else
    if (rc->code < bound) {
        rc->range = bound;
        bit = 0;
    } else {
        rc->code -= bound;
        rc->range -= bound;
        bit = 1;
    }
    dc_update(p, bit);
    if (rc->range < DC_TOP) {
        rc->range <<= 8;
        rc->code = (rc->code << 8) | dc_next_byte(rc);
    }
#endif
    return bit;
}

/* Bits at probability 1/2, most significant first. */
static inline uint32_t dc_direct(struct dc_rc *rc, unsigned nbits, uint32_t value)
{
    uint32_t v = 0;
    for (unsigned i = nbits; i-- > 0;) {
        unsigned bit;
        rc->range >>= 1;
#ifdef FOTA_DELTA_ENCODER
        bit = (value >> i) & 1u;
        if (bit)
            rc->low += rc->range;
        if (rc->range < DC_TOP) {
            rc->range <<= 8;
            dc_shift_low(rc);
        }
#else
        (void)value;
        bit = rc->code >= rc->range;
        if (bit)
            rc->code -= rc->range;
        if (rc->range < DC_TOP) {
            rc->range <<= 8;
            rc->code = (rc->code << 8) | dc_next_byte(rc);
        }
#endif
        v = (v << 1) | bit;
    }
    return v;
}

/* nbits through a binary tree of 2^nbits probabilities (index 1..). */
static inline unsigned dc_tree(struct dc_rc *rc, uint16_t *probs, unsigned nbits, unsigned value)
{
    unsigned m = 1;
    for (unsigned i = nbits; i-- > 0;)
        m = (m << 1) | dc_bit(rc, &probs[m], (value >> i) & 1u);
    return m - (1u << nbits);
}

/* A number 0..2^32-1 (UINT32_MAX only from a corrupt slot). At most 6 + 31
 * decisions. */
static inline uint32_t dc_number(struct dc_rc *rc, struct dc_num *n, unsigned ctx, uint32_t value)
{
    unsigned slot = 0, below, modelled, rest;
    uint32_t hi, lo;
#ifdef FOTA_DELTA_ENCODER
    for (uint32_t t = value; t; t >>= 1)
        slot++;
#endif
    slot = dc_tree(rc, n->slot, 6, slot);
    (void)ctx;
    if (slot > 32)
        return UINT32_MAX;
    if (slot <= 1)
        return slot;
    below = slot - 1; /* bits under the leading one: 1..31 */
    modelled = below < DC_NUM_MODELLED ? below : DC_NUM_MODELLED;
    rest = below - modelled;
    hi = dc_tree(rc, n->high[slot], modelled, (unsigned)(value >> rest) & ((1u << modelled) - 1u));
    lo = rest ? dc_direct(rc, rest, value & ((1u << rest) - 1u)) : 0;
    return ((uint32_t)1u << below) | (hi << rest) | lo;
}

/* The kind of the next op, in the context of the previous one. */
static inline unsigned dc_kind(struct dc_rc *rc, struct dc_models *m, unsigned prev, unsigned kind)
{
    if (!dc_bit(rc, &m->kind[prev][0], kind != DC_OP_DIFF))
        return DC_OP_DIFF;
    return dc_bit(rc, &m->kind[prev][1], kind == DC_OP_MATCH) ? DC_OP_MATCH : DC_OP_LIT;
}

/* What the diff model remembers between bytes (reset with the models). */
struct dc_diff_state {
    uint32_t zrun; /* equal bytes just before */
    uint8_t prev_nonzero;
};

/* One diff byte (new - base, mod 256): "zero" in the context of the run of
 * zeros before it, else the byte in the context of whether the one before
 * was zero too. */
static inline uint8_t dc_diff(struct dc_rc *rc, struct dc_models *m, struct dc_diff_state *ds,
                              uint8_t d)
{
    uint32_t z = ds->zrun < DC_ZRUN_CTX ? ds->zrun : DC_ZRUN_CTX - 1;
    if (!dc_bit(rc, &m->zero[z], d != 0)) {
        ds->zrun++;
        ds->prev_nonzero = 0;
        return 0;
    }
    d = (uint8_t)dc_tree(rc, m->diff[ds->prev_nonzero], 8, d);
    ds->zrun = 0;
    ds->prev_nonzero = 1;
    return d;
}

/* One literal byte after `prev`. */
static inline uint8_t dc_lit(struct dc_rc *rc, struct dc_models *m, uint8_t prev, uint8_t b)
{
    return (uint8_t)dc_tree(rc, m->lit[prev >> (8 - DC_LIT_CTX_BITS)], 8, b);
}

#endif
