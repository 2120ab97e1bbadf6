/*
 * Crypto backend on BearSSL (0.6; the ESP8266 Arduino core ships BearSSL).
 * BearSSL never allocates. The EC implementation is a compile-time choice:
 * the m31/i31 code wants a fast 32x32->64 multiply; CPUs without one (the
 * ESP8266's lx106) should define FOTA_BEARSSL_EC=br_ec_p256_m15 and
 * FOTA_BEARSSL_VRFY=br_ecdsa_i15_vrfy_raw.
 */
#include "fota_crypto_backends.h"

#include <string.h>

#if defined(ARDUINO_ARCH_ESP8266)
#include <bearssl/bearssl.h> /* the ESP8266 Arduino core ships BearSSL there */
#else
#include "bearssl.h"
#endif
#include "fota/error.h"

#ifndef FOTA_BEARSSL_EC
#define FOTA_BEARSSL_EC br_ec_p256_m31
#endif
#ifndef FOTA_BEARSSL_VRFY
#define FOTA_BEARSSL_VRFY br_ecdsa_i31_vrfy_raw
#endif

_Static_assert(sizeof(br_sha256_context) <= FOTA_SHA256_CTX_SIZE,
               "FOTA_SHA256_CTX_SIZE too small for br_sha256_context");
_Static_assert(_Alignof(br_sha256_context) <= _Alignof(struct fota_sha256),
               "struct fota_sha256 not aligned enough for br_sha256_context");

static br_sha256_context *sha_ctx(struct fota_sha256 *ctx)
{
    return (br_sha256_context *)(void *)ctx->u.bytes;
}

static int bear_sha256_start(void *backend, struct fota_sha256 *ctx)
{
    (void)backend;
    br_sha256_init(sha_ctx(ctx));
    return 0;
}

static int bear_sha256_update(void *backend, struct fota_sha256 *ctx, const void *data,
                              size_t len)
{
    (void)backend;
    br_sha256_update(sha_ctx(ctx), data, len);
    return 0;
}

static int bear_sha256_finish(void *backend, struct fota_sha256 *ctx, uint8_t out[32])
{
    (void)backend;
    br_sha256_out(sha_ctx(ctx), out);
    return 0;
}

/* BearSSL reports every failure, an invalid public key included, as 0:
 * all of them are FOTA_ERR_SIGNATURE, as in the mbedTLS backend. */
static int bear_p256_verify(void *backend, const uint8_t pubkey[FOTA_P256_PUBKEY_SIZE],
                            const uint8_t hash[32], const uint8_t sig[FOTA_P256_SIG_SIZE])
{
    (void)backend;
    /* br_ec_public_key takes a non-const pointer; BearSSL only reads it. */
    unsigned char q[FOTA_P256_PUBKEY_SIZE];
    br_ec_public_key pk;

    if (!pubkey || !hash || !sig)
        return FOTA_ERR_INVALID_ARG;
    if (pubkey[0] != 0x04)
        return FOTA_ERR_SIGNATURE;
    memcpy(q, pubkey, sizeof q);
    pk.curve = BR_EC_secp256r1;
    pk.q = q;
    pk.qlen = sizeof q;
    return FOTA_BEARSSL_VRFY(&FOTA_BEARSSL_EC, hash, 32, &pk, sig, FOTA_P256_SIG_SIZE) == 1
               ? 0
               : FOTA_ERR_SIGNATURE;
}

const struct fota_crypto fota_crypto_bearssl = {
    .ctx = NULL,
    .sha256_start = bear_sha256_start,
    .sha256_update = bear_sha256_update,
    .sha256_finish = bear_sha256_finish,
    .p256_verify = bear_p256_verify,
};
