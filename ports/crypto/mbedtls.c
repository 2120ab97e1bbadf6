/*
 * Crypto backend on mbedTLS: 2.28 (Debian, the host tools and tests) and 3.x
 * (ESP-IDF 5), whose SHA-256 functions lost the _ret suffix.
 *
 * mbedTLS allocates big numbers on its own heap (the port's allocator); every
 * MPI and point is freed on all paths.
 */
#include "fota_crypto_backends.h"

#include <string.h>

#include "fota/error.h"
#include "mbedtls/version.h"
#include "mbedtls/bignum.h"
#include "mbedtls/ecdsa.h"
#include "mbedtls/ecp.h"
#include "mbedtls/sha256.h"

_Static_assert(sizeof(mbedtls_sha256_context) <= FOTA_SHA256_CTX_SIZE,
               "FOTA_SHA256_CTX_SIZE too small for mbedtls_sha256_context");
_Static_assert(_Alignof(mbedtls_sha256_context) <= _Alignof(struct fota_sha256),
               "struct fota_sha256 not aligned enough for mbedtls_sha256_context");

#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#define FOTA_SHA256_STARTS mbedtls_sha256_starts
#define FOTA_SHA256_UPDATE mbedtls_sha256_update
#define FOTA_SHA256_FINISH mbedtls_sha256_finish
#else
#define FOTA_SHA256_STARTS mbedtls_sha256_starts_ret
#define FOTA_SHA256_UPDATE mbedtls_sha256_update_ret
#define FOTA_SHA256_FINISH mbedtls_sha256_finish_ret
#endif

static mbedtls_sha256_context *sha_ctx(struct fota_sha256 *ctx)
{
    return (mbedtls_sha256_context *)(void *)ctx->u.bytes;
}

static int mbed_sha256_start(void *backend, struct fota_sha256 *ctx)
{
    (void)backend;
    mbedtls_sha256_init(sha_ctx(ctx));
    if (FOTA_SHA256_STARTS(sha_ctx(ctx), 0) != 0) {
        mbedtls_sha256_free(sha_ctx(ctx));
        return FOTA_ERR_CRYPTO;
    }
    return 0;
}

static int mbed_sha256_update(void *backend, struct fota_sha256 *ctx, const void *data,
                              size_t len)
{
    (void)backend;
    return FOTA_SHA256_UPDATE(sha_ctx(ctx), data, len) == 0 ? 0 : FOTA_ERR_CRYPTO;
}

static int mbed_sha256_finish(void *backend, struct fota_sha256 *ctx, uint8_t out[32])
{
    (void)backend;
    int r = FOTA_SHA256_FINISH(sha_ctx(ctx), out);
    mbedtls_sha256_free(sha_ctx(ctx));
    return r == 0 ? 0 : FOTA_ERR_CRYPTO;
}

/* An invalid public key (not an uncompressed point on P-256) can verify
 * nothing, so it yields FOTA_ERR_SIGNATURE like a wrong signature; only
 * resource failures inside mbedTLS are FOTA_ERR_CRYPTO. */
static int mbed_p256_verify(void *backend, const uint8_t pubkey[FOTA_P256_PUBKEY_SIZE],
                            const uint8_t hash[32], const uint8_t sig[FOTA_P256_SIG_SIZE])
{
    (void)backend;
    mbedtls_ecp_group grp;
    mbedtls_ecp_point q;
    mbedtls_mpi r, s;
    int ret, result;

    if (!pubkey || !hash || !sig)
        return FOTA_ERR_INVALID_ARG;
    mbedtls_ecp_group_init(&grp);
    mbedtls_ecp_point_init(&q);
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);

    ret = mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1);
    if (ret != 0) {
        result = FOTA_ERR_CRYPTO;
        goto out;
    }
    if (pubkey[0] != 0x04 ||
        mbedtls_ecp_point_read_binary(&grp, &q, pubkey, FOTA_P256_PUBKEY_SIZE) != 0 ||
        mbedtls_ecp_check_pubkey(&grp, &q) != 0) {
        result = FOTA_ERR_SIGNATURE;
        goto out;
    }
    if (mbedtls_mpi_read_binary(&r, sig, FOTA_P256_SIG_SIZE / 2) != 0 ||
        mbedtls_mpi_read_binary(&s, sig + FOTA_P256_SIG_SIZE / 2, FOTA_P256_SIG_SIZE / 2) != 0) {
        result = FOTA_ERR_CRYPTO;
        goto out;
    }
    ret = mbedtls_ecdsa_verify(&grp, hash, 32, &q, &r, &s);
    if (ret == 0)
        result = 0;
    else if (ret == MBEDTLS_ERR_MPI_ALLOC_FAILED || ret == MBEDTLS_ERR_ECP_ALLOC_FAILED)
        result = FOTA_ERR_CRYPTO;
    else
        result = FOTA_ERR_SIGNATURE; /* MBEDTLS_ERR_ECP_VERIFY_FAILED, r or s out of range */
out:
    mbedtls_mpi_free(&s);
    mbedtls_mpi_free(&r);
    mbedtls_ecp_point_free(&q);
    mbedtls_ecp_group_free(&grp);
    return result;
}

const struct fota_crypto fota_crypto_mbedtls = {
    .ctx = NULL,
    .sha256_start = mbed_sha256_start,
    .sha256_update = mbed_sha256_update,
    .sha256_finish = mbed_sha256_finish,
    .p256_verify = mbed_p256_verify,
};
