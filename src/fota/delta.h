/*
 * Delta and compressed images: the streaming decoder (format: docs/delta.md).
 *
 * A patch rebuilds a target image from a base image (on a device: the
 * running slot) and the patch bytes; a compressed image is the same format
 * without a base. The decoder allocates nothing: its state, its probability
 * tables and its small buffers are all in struct fota_delta, which the caller
 * owns (FOTA_DELTA_STATE_SIZE bytes). It reads the base and its own earlier output
 * back through callbacks (on a device: the two flash slots), so long-distance
 * references need no RAM window.
 *
 * A patch is a header and a sequence of blocks. Each block rebuilds one
 * 2^block_shift-byte stretch of the target (whole flash sectors) and starts
 * with fresh coder state, so decoding can resume at any block boundary after
 * a power cut or a dropped link: persist fota_delta_checkpoint() once the
 * output up to its offset is durably written, and later call
 * fota_delta_resume() with it and feed the patch from its patch offset.
 */
#ifndef FOTA_DELTA_H
#define FOTA_DELTA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FOTA_DELTA_FORMAT 1
#define FOTA_DELTA_HEADER_SIZE 84
#define FOTA_DELTA_BLOCK_HEADER_SIZE 8
#define FOTA_DELTA_MIN_BLOCK_SHIFT 12 /* 4 KiB: one flash sector */
#define FOTA_DELTA_MAX_BLOCK_SHIFT 24

/* Output bytes the caller may not yet be able to read back through
 * read_output (e.g. a write-unit tail its slot writer still holds in RAM);
 * the decoder keeps that many of its latest output bytes itself. */
#define FOTA_DELTA_OUT_HISTORY 256

enum fota_delta_kind {
    FOTA_DELTA_COMPRESSED = 0, /* no base: a compressed full image */
    FOTA_DELTA_PATCH = 1,      /* rebuilds the target from a base image */
};

/* What the ops of a block do (their coded kinds). */
enum fota_delta_op_kind {
    FOTA_DELTA_OP_DIFF = 0,  /* target[out..] = base[src..] + coded differences */
    FOTA_DELTA_OP_LIT = 1,   /* target[out..] coded byte by byte */
    FOTA_DELTA_OP_MATCH = 2, /* target[out..] = target[out - src ..] (src: distance) */
};

/* The patch header, as parsed. */
struct fota_delta_header {
    uint8_t format;     /* FOTA_DELTA_FORMAT */
    uint8_t kind;       /* enum fota_delta_kind */
    uint8_t block_shift;
    uint32_t base_size; /* 0 for FOTA_DELTA_COMPRESSED */
    uint32_t target_size;
    uint8_t base_sha256[32]; /* zero for FOTA_DELTA_COMPRESSED */
    uint8_t target_sha256[32];
};

/* Reads `len` bytes at `offset` into `buf`. Returns 0 or a negative
 * FOTA_ERR_* (typically FOTA_ERR_FLASH_READ), which the decoder returns. */
typedef int (*fota_delta_read_fn)(void *ctx, uint32_t offset, uint8_t *buf, size_t len);

struct fota_delta_io {
    fota_delta_read_fn read_base;   /* the base image; unused for compressed images */
    fota_delta_read_fn read_output; /* output already produced (see FOTA_DELTA_OUT_HISTORY) */
    void *ctx;
};

/* Where decoding can resume: the start of a block. */
struct fota_delta_checkpoint {
    uint32_t patch_offset;  /* of the block header in the patch */
    uint32_t output_offset; /* of the block's first output byte */
};

/* Decoder state, probability tables and buffers: opaque storage the caller
 * owns (src/delta.c lays it out; docs/delta.md breaks the bytes down). */
#define FOTA_DELTA_STATE_SIZE 8000
struct fota_delta {
    union {
        uint64_t align_u64;
        void *align_ptr;
        uint8_t bytes[FOTA_DELTA_STATE_SIZE];
    } u;
};

/* Parse a header (FOTA_DELTA_HEADER_SIZE bytes). Returns 0,
 * FOTA_ERR_DELTA_CORRUPT (bad magic or check value) or FOTA_ERR_DELTA_UNSUPPORTED
 * (a format version or parameter this decoder does not know). */
int fota_delta_parse_header(const uint8_t *buf, size_t len, struct fota_delta_header *out);

/* Start decoding a patch from its first byte. `base_sha256` and `base_size`
 * describe the base the caller has (NULL and 0 when there is none): a patch
 * for another base is refused (FOTA_ERR_DELTA_BASE) as soon as its header
 * has arrived, before any output. */
int fota_delta_init(struct fota_delta *d, const struct fota_delta_io *io,
                    const uint8_t base_sha256[32], uint32_t base_size);

/* Continue a patch at a checkpoint: `hdr` is its header (the caller kept it
 * or fetched its first FOTA_DELTA_HEADER_SIZE bytes again); the next bytes
 * fed must be the patch from cp->patch_offset. Call after fota_delta_init(). */
int fota_delta_resume(struct fota_delta *d, const struct fota_delta_header *hdr,
                      const struct fota_delta_checkpoint *cp);

/* Feed patch bytes and take output. Consumes at most in_len bytes (*in_used)
 * and produces at most out_cap bytes (*out_len); all output returned by
 * earlier calls must be readable through read_output by the next call,
 * except its last FOTA_DELTA_OUT_HISTORY bytes. Returns 0 (more to do: call
 * again with more input or output space), 1 when the whole target has been
 * produced and the patch has ended, or a negative FOTA_ERR_DELTA_* /
 * read error. Bytes after the end of the patch are FOTA_ERR_DELTA_CORRUPT. */
int fota_delta_run(struct fota_delta *d, const uint8_t *in, size_t in_len, size_t *in_used,
                   uint8_t *out, size_t out_cap, size_t *out_len);

/* The header, once fota_delta_run has read it (NULL before). */
const struct fota_delta_header *fota_delta_header(const struct fota_delta *d);

/* The latest block boundary reached: resume there once every output byte
 * before cp->output_offset is durably written. */
void fota_delta_get_checkpoint(const struct fota_delta *d, struct fota_delta_checkpoint *cp);

#ifdef __cplusplus
}
#endif
#endif
