/*
 * The delta encoder: bsdiff-style sequential matching against the base
 * (suffix array from libdivsufsort), matches into the target's own earlier
 * bytes for what the base does not have, and the ops coded block by block with
 * the range coder and models of src/internal/delta_coder.h (the ones the device
 * decodes with). Format: docs/delta.md.
 */
#include "delta_enc.h"

#include <divsufsort.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fota/crypto.h"
#include "fota_crypto_backends.h"
#include "fota/delta_encode.h"
#include "fota/error.h"

void delta_enc_defaults(struct delta_enc_opts *o)
{
    o->block_shift = 16;
    o->min_match = 4;
    o->bsdiff_slack = 5;
}

/* ---- Ops ------------------------------------------------------------------ */

struct ops {
    struct fota_delta_op *v;
    size_t n, cap;
};

static int ops_add(struct ops *o, unsigned kind, uint32_t out, uint32_t len, uint32_t src)
{
    if (len == 0)
        return 0;
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 1024;
        struct fota_delta_op *v = realloc(o->v, cap * sizeof *v);
        if (!v)
            return -1;
        o->v = v;
        o->cap = cap;
    }
    o->v[o->n++] = (struct fota_delta_op){(uint8_t)kind, out, len, src};
    return 0;
}

/* ---- Matching against the base (bsdiff's sequential scan) -------------------- */

static size_t match_len(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    size_t n = an < bn ? an : bn, i = 0;
    while (i < n && a[i] == b[i])
        i++;
    return i;
}

/* Longest prefix of t[0..tn) found in the base; its offset in *pos. */
static size_t sa_longest(const saidx_t *sa, const uint8_t *base, size_t bn, const uint8_t *t,
                         size_t tn, size_t *pos)
{
    size_t lo = 0, hi = bn - 1, x, y;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        size_t off = (size_t)sa[mid], n = bn - off < tn ? bn - off : tn;
        int c = memcmp(base + off, t, n);
        if (c < 0 || (c == 0 && n < tn && bn - off == n))
            lo = mid;
        else
            hi = mid;
    }
    x = match_len(base + sa[lo], bn - (size_t)sa[lo], t, tn);
    y = match_len(base + sa[hi], bn - (size_t)sa[hi], t, tn);
    if (x >= y) {
        *pos = (size_t)sa[lo];
        return x;
    }
    *pos = (size_t)sa[hi];
    return y;
}

/* Extra (unmatched) target bytes: matches into the target's own earlier
 * bytes (hash chains over 4-byte prefixes), literals between them. */
struct lz {
    int32_t *head, *prev;
    const uint8_t *t;
    size_t tn, inserted;
    unsigned min_match;
};

#define LZ_HASH_BITS 16
#define LZ_CHAIN 128

static uint32_t lz_hash(const uint8_t *p)
{
    uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    return (v * 2654435761u) >> (32 - LZ_HASH_BITS);
}

static void lz_insert_upto(struct lz *z, size_t end)
{
    for (; z->inserted < end && z->inserted + 4 <= z->tn; z->inserted++) {
        uint32_t h = lz_hash(z->t + z->inserted);
        z->prev[z->inserted] = z->head[h];
        z->head[h] = (int32_t)z->inserted;
    }
    if (z->inserted < end)
        z->inserted = end;
}

static size_t lz_find(struct lz *z, size_t p, size_t limit, size_t *dist)
{
    size_t best = 0;
    int32_t c;
    int n = 0;
    if (p + 4 > z->tn)
        return 0;
    lz_insert_upto(z, p);
    for (c = z->head[lz_hash(z->t + p)]; c >= 0 && n < LZ_CHAIN; c = z->prev[c], n++) {
        size_t l = match_len(z->t + c, z->tn - (size_t)c, z->t + p, limit - p);
        if (l > best) {
            best = l;
            *dist = p - (size_t)c;
        }
    }
    return best;
}

static int add_extra(struct ops *ops, struct lz *z, size_t from, size_t to)
{
    size_t lit = from;
    for (size_t p = from; p < to;) {
        size_t dist = 0, l = lz_find(z, p, to, &dist);
        if (l >= z->min_match) {
            if (ops_add(ops, FOTA_DELTA_OP_LIT, (uint32_t)lit, (uint32_t)(p - lit), 0) ||
                ops_add(ops, FOTA_DELTA_OP_MATCH, (uint32_t)p, (uint32_t)l, (uint32_t)dist))
                return -1;
            p += l;
            lit = p;
        } else {
            p++;
        }
    }
    return ops_add(ops, FOTA_DELTA_OP_LIT, (uint32_t)lit, (uint32_t)(to - lit), 0);
}

static int parse_bsdiff(const uint8_t *old, size_t on, const uint8_t *nw, size_t nn,
                        const struct delta_enc_opts *o, struct lz *z, struct ops *ops)
{
    saidx_t *sa = malloc((on ? on : 1) * sizeof *sa);
    int64_t scan = 0, len = 0, lastscan = 0, lastpos = 0, lastoffset = 0, oldscore, scsc;
    size_t pos = 0;
    int rc = -1;

    if (!sa || divsufsort(old, sa, (saidx_t)on) != 0)
        goto out;
    while (scan < (int64_t)nn) {
        oldscore = 0;
        for (scsc = scan += len; scan < (int64_t)nn; scan++) {
            len = (int64_t)sa_longest(sa, old, on, nw + scan, nn - (size_t)scan, &pos);
            for (; scsc < scan + len; scsc++)
                if (scsc + lastoffset >= 0 && scsc + lastoffset < (int64_t)on &&
                    old[scsc + lastoffset] == nw[scsc])
                    oldscore++;
            if ((len == oldscore && len != 0) || len > oldscore + (int64_t)o->bsdiff_slack)
                break;
            if (scan + lastoffset >= 0 && scan + lastoffset < (int64_t)on &&
                old[scan + lastoffset] == nw[scan])
                oldscore--;
        }
        if (len != oldscore || scan == (int64_t)nn) {
            int64_t s = 0, sf = 0, lenf = 0, lenb = 0, i;
            for (i = 0; lastscan + i < scan && lastpos + i < (int64_t)on;) {
                if (old[lastpos + i] == nw[lastscan + i])
                    s++;
                i++;
                if (s * 2 - i > sf * 2 - lenf) {
                    sf = s;
                    lenf = i;
                }
            }
            if (scan < (int64_t)nn) {
                int64_t sb = 0;
                s = 0;
                for (i = 1; scan >= lastscan + i && (int64_t)pos >= i; i++) {
                    if (old[(int64_t)pos - i] == nw[scan - i])
                        s++;
                    if (s * 2 - i > sb * 2 - lenb) {
                        sb = s;
                        lenb = i;
                    }
                }
            }
            if (lastscan + lenf > scan - lenb) {
                int64_t overlap = (lastscan + lenf) - (scan - lenb), ss = 0, lens = 0;
                s = 0;
                for (i = 0; i < overlap; i++) {
                    if (nw[lastscan + lenf - overlap + i] == old[lastpos + lenf - overlap + i])
                        s++;
                    if (nw[scan - lenb + i] == old[(int64_t)pos - lenb + i])
                        s--;
                    if (s > ss) {
                        ss = s;
                        lens = i + 1;
                    }
                }
                lenf += lens - overlap;
                lenb -= lens;
            }
            if (ops_add(ops, FOTA_DELTA_OP_DIFF, (uint32_t)lastscan, (uint32_t)lenf, (uint32_t)lastpos) ||
                add_extra(ops, z, (size_t)(lastscan + lenf), (size_t)(scan - lenb)))
                goto out;
            lastscan = scan - lenb;
            lastpos = (int64_t)pos - lenb;
            lastoffset = (int64_t)pos - scan;
        }
    }
    rc = 0;
out:
    free(sa);
    return rc;
}

/* ---- Coding ------------------------------------------------------------------ */

int delta_encode(const uint8_t *base, size_t base_len, const uint8_t *target, size_t target_len,
                 const struct delta_enc_opts *o, uint8_t **patch, size_t *patch_len)
{
    struct ops ops = {0};
    struct lz z = {0};
    struct fota_delta_header h = {0};
    struct fota_delta_enc *e = malloc(sizeof *e);
    uint8_t *out = NULL;
    size_t bs = (size_t)1 << o->block_shift, n = 0, cap;
    int rc = -1, r;

    if (base_len == 0)
        base = NULL;
    if (!e || target_len > UINT32_MAX || base_len > UINT32_MAX ||
        o->block_shift < FOTA_DELTA_MIN_BLOCK_SHIFT || o->block_shift > FOTA_DELTA_MAX_BLOCK_SHIFT ||
        o->min_match < 2) {
        fprintf(stderr, "fota delta: sizes or options out of range\n");
        goto out;
    }
    z.t = target;
    z.tn = target_len;
    z.min_match = o->min_match;
    z.head = malloc(((size_t)1 << LZ_HASH_BITS) * sizeof *z.head);
    z.prev = malloc((target_len ? target_len : 1) * sizeof *z.prev);
    if (!z.head || !z.prev)
        goto oom;
    memset(z.head, 0xff, ((size_t)1 << LZ_HASH_BITS) * sizeof *z.head);
    if (base ? parse_bsdiff(base, base_len, target, target_len, o, &z, &ops)
             : add_extra(&ops, &z, 0, target_len))
        goto oom;

    h.format = FOTA_DELTA_FORMAT;
    h.kind = base ? FOTA_DELTA_PATCH : FOTA_DELTA_COMPRESSED;
    h.block_shift = (uint8_t)o->block_shift;
    h.base_size = (uint32_t)base_len;
    h.target_size = (uint32_t)target_len;
    if (base)
        fota_sha256_digest(&FOTA_CRYPTO_HOST, base, base_len, h.base_sha256);
    fota_sha256_digest(&FOTA_CRYPTO_HOST, target, target_len, h.target_sha256);

    /* Worst case: every block at its bound. */
    cap = FOTA_DELTA_HEADER_SIZE +
          (target_len / bs + 1) * (FOTA_DELTA_BLOCK_HEADER_SIZE + FOTA_DELTA_BLOCK_MAX(bs));
    out = malloc(cap);
    if (!out)
        goto oom;
    if (fota_delta_write_header(&h, out) != 0 || fota_delta_enc_init(e, &h, base, target) != 0) {
        fprintf(stderr, "fota delta: internal error: header rejected\n");
        goto out;
    }
    n = FOTA_DELTA_HEADER_SIZE;
    for (uint32_t b = 0; (size_t)b * bs < target_len; b++) {
        size_t len = 0;
        r = fota_delta_enc_block(e, b, ops.v, ops.n, out + n, cap - n, &len);
        if (r != 0) {
            fprintf(stderr, "fota delta: internal error coding block %u: %s\n", b,
                    fota_strerror(r));
            goto out;
        }
        n += len;
    }
    *patch = out;
    *patch_len = n;
    out = NULL;
    rc = 0;
    goto out;
oom:
    fprintf(stderr, "fota delta: out of memory\n");
out:
    free(ops.v);
    free(z.head);
    free(z.prev);
    free(out);
    free(e);
    return rc;
}
