/*
 * Crypto backend on OpenSSL 3 (Linux hosts: the host tools and the
 * simulated device). It exists for speed: OpenSSL's SHA-256 picks the CPU's
 * SHA extensions or AVX2 at run time, where mbedTLS 2.28 runs portable C
 * (docs/bench.md has the instructions per byte of both).
 *
 * SHA-256 uses the SHA256_CTX functions, deprecated in OpenSSL 3 but kept:
 * the context lives in the caller's struct fota_sha256, as the port contract
 * asks, where the EVP interface would allocate one. The signature check uses
 * EVP (it allocates, like mbedTLS's big numbers, and frees on every path).
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1 /* SHA256_Init & co., see above */

#include "fota_crypto_backends.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/sha.h>

#include "fota/error.h"

_Static_assert(sizeof(SHA256_CTX) <= FOTA_SHA256_CTX_SIZE,
               "FOTA_SHA256_CTX_SIZE too small for SHA256_CTX");
_Static_assert(_Alignof(SHA256_CTX) <= _Alignof(struct fota_sha256),
               "struct fota_sha256 not aligned enough for SHA256_CTX");

static SHA256_CTX *sha_ctx(struct fota_sha256 *ctx)
{
    return (SHA256_CTX *)(void *)ctx->u.bytes;
}

static int ossl_sha256_start(void *backend, struct fota_sha256 *ctx)
{
    (void)backend;
    return SHA256_Init(sha_ctx(ctx)) == 1 ? 0 : FOTA_ERR_CRYPTO;
}

static int ossl_sha256_update(void *backend, struct fota_sha256 *ctx, const void *data,
                              size_t len)
{
    (void)backend;
    return SHA256_Update(sha_ctx(ctx), data, len) == 1 ? 0 : FOTA_ERR_CRYPTO;
}

static int ossl_sha256_finish(void *backend, struct fota_sha256 *ctx, uint8_t out[32])
{
    (void)backend;
    int r = SHA256_Final(out, sha_ctx(ctx));
    OPENSSL_cleanse(sha_ctx(ctx), sizeof(SHA256_CTX));
    return r == 1 ? 0 : FOTA_ERR_CRYPTO;
}

/* r || s as the DER ECDSA-Sig-Value EVP wants. Returns its length (0 on
 * failure); *der is OPENSSL_malloc'd. */
static int sig_to_der(const uint8_t sig[FOTA_P256_SIG_SIZE], unsigned char **der)
{
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, FOTA_P256_SIG_SIZE / 2, NULL);
    BIGNUM *s = BN_bin2bn(sig + FOTA_P256_SIG_SIZE / 2, FOTA_P256_SIG_SIZE / 2, NULL);
    int len = 0;
    if (es && r && s && ECDSA_SIG_set0(es, r, s) == 1) {
        r = s = NULL; /* owned by es now */
        len = i2d_ECDSA_SIG(es, der);
    }
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    return len > 0 ? len : 0;
}

/* An invalid public key (not an uncompressed point on P-256) can verify
 * nothing: FOTA_ERR_SIGNATURE, like a wrong signature or r, s out of range.
 * FOTA_ERR_CRYPTO is left for OpenSSL failing to set up the check. */
static int ossl_p256_verify(void *backend, const uint8_t pubkey[FOTA_P256_PUBKEY_SIZE],
                            const uint8_t hash[32], const uint8_t sig[FOTA_P256_SIG_SIZE])
{
    (void)backend;
    if (!pubkey || !hash || !sig)
        return FOTA_ERR_INVALID_ARG;
    if (pubkey[0] != 0x04)
        return FOTA_ERR_SIGNATURE;
    int result = FOTA_ERR_CRYPTO;
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *vctx = NULL;
    unsigned char *der = NULL;
    char group[] = "prime256v1";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)(uintptr_t)pubkey,
                                          FOTA_P256_PUBKEY_SIZE),
        OSSL_PARAM_construct_end(),
    };
    EVP_PKEY_CTX *kctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (!kctx || EVP_PKEY_fromdata_init(kctx) != 1)
        goto out;
    /* Decoding the point checks that it lies on the curve. */
    if (EVP_PKEY_fromdata(kctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        result = FOTA_ERR_SIGNATURE;
        goto out;
    }
    int der_len = sig_to_der(sig, &der);
    vctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    if (!der_len || !vctx || EVP_PKEY_verify_init(vctx) != 1)
        goto out;
    result = EVP_PKEY_verify(vctx, der, (size_t)der_len, hash, 32) == 1 ? 0 : FOTA_ERR_SIGNATURE;
out:
    ERR_clear_error(); /* nothing of this check stays queued for the next caller */
    OPENSSL_free(der);
    EVP_PKEY_CTX_free(vctx);
    EVP_PKEY_free(key);
    EVP_PKEY_CTX_free(kctx);
    return result;
}

const struct fota_crypto fota_crypto_openssl = {
    .ctx = NULL,
    .sha256_start = ossl_sha256_start,
    .sha256_update = ossl_sha256_update,
    .sha256_finish = ossl_sha256_finish,
    .p256_verify = ossl_p256_verify,
};
