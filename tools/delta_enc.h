/* The delta encoder (host side): patches and compressed images in the format
 * src/delta.c decodes (docs/delta.md). */
#ifndef FOTA_TOOLS_DELTA_ENC_H
#define FOTA_TOOLS_DELTA_ENC_H

#include <stddef.h>
#include <stdint.h>

struct delta_enc_opts {
    unsigned block_shift; /* output bytes per block = 2^block_shift */
    unsigned min_match;   /* shortest match into the output worth coding */
    unsigned bsdiff_slack; /* bsdiff's "a new match must be this much better" */
};

void delta_enc_defaults(struct delta_enc_opts *o);

/* Encode `target` against `base` (base NULL / base_len 0: a compressed image).
 * Returns 0 and a malloc'd patch, or -1 with a message on stderr. */
int delta_encode(const uint8_t *base, size_t base_len, const uint8_t *target, size_t target_len,
                 const struct delta_enc_opts *o, uint8_t **patch, size_t *patch_len);

#endif
