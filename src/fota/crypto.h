/*
 * SHA-256 helpers over a crypto backend (struct fota_crypto, fota/port.h).
 * The backends declare themselves next to their code: ports/crypto/mbedtls.h,
 * ports/crypto/bearssl.h.
 */
#ifndef FOTA_CRYPTO_H
#define FOTA_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "fota/port.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One-shot SHA-256 through a backend. Returns 0 or FOTA_ERR_CRYPTO. */
int fota_sha256_digest(const struct fota_crypto *c, const void *data, size_t len, uint8_t out[32]);

#ifdef __cplusplus
}
#endif
#endif
