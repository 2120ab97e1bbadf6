/*
 * Delta and compressed images: the coding half of the encoder (format:
 * docs/delta.md). The caller decides what to code: which target bytes come
 * from the base with differences (DIFF), which are literals (LIT) and which
 * repeat earlier target bytes (MATCH); this turns those ops into the header
 * and the blocks the decoder (fota/delta.h) reads. The matching itself (a
 * suffix array over the base) is host work: tools/delta_enc.c. No heap: the
 * models live in the caller's struct, blocks go to the caller's buffer.
 */
#ifndef FOTA_DELTA_ENCODE_H
#define FOTA_DELTA_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "fota/delta.h"

#ifdef __cplusplus
extern "C" {
#endif

struct fota_delta_op {
    uint8_t kind;
    uint32_t out; /* offset of its first target byte */
    uint32_t len; /* > 0 */
    uint32_t src; /* DIFF: base offset; MATCH: distance back (1..out) */
};

#define FOTA_DELTA_ENC_STATE_SIZE 7424
struct fota_delta_enc {
    union {
        uint64_t align_u64;
        void *align_ptr;
        uint8_t bytes[FOTA_DELTA_ENC_STATE_SIZE];
    } u;
};

/* Header bytes for `h` (format, kind, block size, sizes, hashes) and their
 * check value. Returns 0 or FOTA_ERR_INVALID_ARG for values out of range. */
int fota_delta_write_header(const struct fota_delta_header *h,
                            uint8_t out[FOTA_DELTA_HEADER_SIZE]);

/* Most coded bytes a block of `block_size` output bytes may take. */
#define FOTA_DELTA_BLOCK_MAX(block_size) ((block_size) + (block_size) / 8 + 64)

/* Start coding a target (base NULL for a compressed image). The images stay
 * the caller's and must not change until the last block is coded. */
int fota_delta_enc_init(struct fota_delta_enc *e, const struct fota_delta_header *h,
                        const uint8_t *base, const uint8_t *target);

/* Code block `index`: `ops` tile the whole target in order (each starts where
 * the one before ended); the block codes the parts of them inside it. Writes
 * the block header and the coded bytes to out[0..*len). Returns 0,
 * FOTA_ERR_INVALID_ARG for ops that do not fit the block or the images, or
 * FOTA_ERR_BUFFER_TOO_SMALL (cap below FOTA_DELTA_BLOCK_MAX of the block). */
int fota_delta_enc_block(struct fota_delta_enc *e, uint32_t index, const struct fota_delta_op *ops,
                         size_t n_ops, uint8_t *out, size_t cap, size_t *len);

#ifdef __cplusplus
}
#endif
#endif
