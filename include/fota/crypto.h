/*
 * Crypto backend interface: SHA-256 and ECDSA P-256 verification.
 *
 * Backends live in ports/crypto/ (mbedTLS, BearSSL). The SHA-256 context is
 * storage inside the caller's struct (FOTA_SHA256_CTX_SIZE bytes, aligned for
 * any backend), so no backend allocates.
 */
#ifndef FOTA_CRYPTO_H
#define FOTA_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FOTA_SHA256_CTX_SIZE 256 /* >= mbedtls_sha256_context and br_sha256_context */
#define FOTA_P256_PUBKEY_SIZE 65 /* uncompressed point: 0x04 || X || Y */
#define FOTA_P256_SIG_SIZE 64    /* r || s, big-endian */

struct fota_sha256 {
    union {
        uint64_t align_u64;
        void *align_ptr;
        uint8_t bytes[FOTA_SHA256_CTX_SIZE];
    } u;
};

struct fota_crypto {
    int (*sha256_start)(struct fota_sha256 *ctx);
    int (*sha256_update)(struct fota_sha256 *ctx, const void *data, size_t len);
    int (*sha256_finish)(struct fota_sha256 *ctx, uint8_t out[32]);
    /* 0 when the signature over `hash` verifies with `pubkey`,
     * FOTA_ERR_SIGNATURE when it does not, FOTA_ERR_CRYPTO on backend failure. */
    int (*p256_verify)(const uint8_t pubkey[FOTA_P256_PUBKEY_SIZE], const uint8_t hash[32],
                       const uint8_t sig[FOTA_P256_SIG_SIZE]);
};

/* Backends (each compiled only where its library exists). */
extern const struct fota_crypto fota_crypto_mbedtls;
extern const struct fota_crypto fota_crypto_bearssl;

/* One-shot SHA-256 through a backend. Returns 0 or FOTA_ERR_CRYPTO. */
int fota_sha256_digest(const struct fota_crypto *c, const void *data, size_t len, uint8_t out[32]);

#ifdef __cplusplus
}
#endif
#endif
