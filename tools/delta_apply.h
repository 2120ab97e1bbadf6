/* Applying patches and compressed images on the host with the device's
 * decoder (src/delta.c), from memory. */
#ifndef FOTA_TOOLS_DELTA_APPLY_H
#define FOTA_TOOLS_DELTA_APPLY_H

#include <stddef.h>
#include <stdint.h>

/* Decode `patch` against `base` (NULL for a compressed image) into a malloc'd
 * image whose size and SHA-256 match the patch header. Returns 0, or -1 with
 * "fota CMD: ..." on stderr. */
int delta_apply(const char *cmd, const uint8_t *base, size_t base_len, const uint8_t *patch,
                size_t patch_len, uint8_t **out, size_t *out_len);

/* Decode and compare with the expected target. Returns 0 or -1 (message). */
int delta_apply_check(const char *cmd, const uint8_t *base, size_t base_len,
                      const uint8_t *patch, size_t patch_len, const uint8_t *target,
                      size_t target_len);

#endif
