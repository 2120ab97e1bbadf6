/* Build a small, structurally valid ESP32-family application image in a
 * caller's buffer (plain C: also used on the emulated targets). */
#ifndef FOTA_TEST_IMAGE_H
#define FOTA_TEST_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "fota/crypto.h"

/* Returns the image length, or 0 if `cap` is too small. `chip_id` is the raw
 * header field (ESP32 0, S2 2, C3 5...). `extra` bytes of filler data go in a
 * second segment (pseudo-random from `seed`). */
size_t test_image_build(uint8_t *buf, size_t cap, uint16_t chip_id, const char *version,
                        const char *project, uint32_t secure_version, size_t extra, uint32_t seed,
                        const struct fota_crypto *crypto);

#endif
