/*
 * Crypto backends (ports/crypto/) against each other on the host: ECDSA P-256
 * signatures made by one library and checked by every backend, and the
 * rejections (wrong signature, hash, key). The known answers of one backend
 * (SHA-256, RFC 6979, invalid keys) are in test_crypto_vectors.c, which also
 * runs on the emulated targets.
 *
 * Signing uses the libraries directly (mbedTLS, and BearSSL when built):
 * the backends only verify. Randomness comes from a fixed test generator, so
 * the test is reproducible and needs no OS entropy.
 */
/* The test reads key fields directly; mbedTLS 3.x marks them private. */
#define MBEDTLS_ALLOW_PRIVATE_ACCESS

#include <stdint.h>
#include <string.h>

#include "fota/crypto.h"
#include "fota/error.h"
#include "harness.h"
#include "support/test_hex.h"
#include "mbedtls/bignum.h"
#include "mbedtls/ecdsa.h"
#include "mbedtls/ecp.h"
#ifdef FOTA_HAVE_BEARSSL
#include "bearssl.h"
#endif
#include "fota_crypto_backends.h"

static const struct {
    const char *name;
    const struct fota_crypto *c;
} backends[] = {FOTA_CRYPTO_BACKENDS_BY_NAME};
#define N_BACKENDS (sizeof backends / sizeof backends[0])

/* ---- SHA-256 --------------------------------------------------------- */

static void test_sha256_args(void)
{
    uint8_t out[32];
    CHECK_EQ_INT(fota_sha256_digest(NULL, "x", 1, out), FOTA_ERR_INVALID_ARG);
    CHECK_EQ_INT(fota_sha256_digest(&fota_crypto_mbedtls, NULL, 1, out), FOTA_ERR_INVALID_ARG);
    CHECK_EQ_INT(fota_sha256_digest(&fota_crypto_mbedtls, NULL, 0, out), 0);
    CHECK_EQ_INT(out[0], 0xe3);
}

/* ---- ECDSA P-256 ------------------------------------------------------ */

/* RFC 6979 appendix A.2.5: P-256, SHA-256, message "sample". Both libraries
 * sign deterministically, so both must produce exactly this signature. */
static const char rfc_x[] = "C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721";
static const char rfc_pub[] = "04"
                              "60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6"
                              "7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299";
static const char rfc_sig[] = "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716"
                              "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8";

/* Deterministic "randomness" for mbedTLS key generation and blinding. */
static uint64_t rng_state = 0x6a09e667f3bcc908ull;
static int test_rng(void *ctx, unsigned char *out, size_t len)
{
    (void)ctx;
    for (size_t i = 0; i < len; i++) {
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        out[i] = (uint8_t)(rng_state >> 24);
    }
    return 0;
}

struct keypair {
    uint8_t priv[32];
    uint8_t pub[FOTA_P256_PUBKEY_SIZE];
};

static int mbed_keygen(struct keypair *kp)
{
    mbedtls_ecp_keypair key;
    size_t olen = 0;
    int r;
    mbedtls_ecp_keypair_init(&key);
    r = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, &key, test_rng, NULL);
    if (r == 0)
        r = mbedtls_mpi_write_binary(&key.d, kp->priv, 32);
    if (r == 0)
        r = mbedtls_ecp_point_write_binary(&key.grp, &key.Q, MBEDTLS_ECP_PF_UNCOMPRESSED, &olen,
                                           kp->pub, sizeof kp->pub);
    mbedtls_ecp_keypair_free(&key);
    return r == 0 && olen == FOTA_P256_PUBKEY_SIZE ? 0 : -1;
}

static int mbed_sign(const uint8_t priv[32], const uint8_t hash[32], uint8_t sig[64])
{
    mbedtls_ecp_group grp;
    mbedtls_mpi d, r, s;
    int ret;
    mbedtls_ecp_group_init(&grp);
    mbedtls_mpi_init(&d);
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    ret = mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1);
    if (ret == 0)
        ret = mbedtls_mpi_read_binary(&d, priv, 32);
    if (ret == 0)
        ret = mbedtls_ecdsa_sign_det_ext(&grp, &r, &s, &d, hash, 32, MBEDTLS_MD_SHA256, test_rng,
                                         NULL);
    if (ret == 0)
        ret = mbedtls_mpi_write_binary(&r, sig, 32);
    if (ret == 0)
        ret = mbedtls_mpi_write_binary(&s, sig + 32, 32);
    mbedtls_mpi_free(&s);
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&d);
    mbedtls_ecp_group_free(&grp);
    return ret == 0 ? 0 : -1;
}

#ifdef FOTA_HAVE_BEARSSL
static int bear_sign(const uint8_t priv[32], const uint8_t hash[32], uint8_t sig[64])
{
    unsigned char x[32];
    br_ec_private_key sk;
    memcpy(x, priv, 32);
    sk.curve = BR_EC_secp256r1;
    sk.x = x;
    sk.xlen = 32;
    return br_ecdsa_i31_sign_raw(&br_ec_p256_m31, &br_sha256_vtable, hash, &sk, sig) == 64 ? 0
                                                                                         : -1;
}
#endif

/* 0 from every backend, or the same error from every backend. */
static void check_all(const uint8_t *pub, const uint8_t *hash, const uint8_t *sig, int want,
                      const char *what)
{
    for (size_t b = 0; b < N_BACKENDS; b++) {
        int r = backends[b].c->p256_verify(backends[b].c->ctx, pub, hash, sig);
        CHECK_EQ_INT(r, want);
        if (r != want)
            printf("  %s: %s: got %d, want %d\n", backends[b].name, what, r, want);
    }
}

static void test_rfc6979_vector(void)
{
    uint8_t priv[32], pub[65], want[64], hash[32], sig[64];
    CHECK_EQ_INT(unhex(rfc_x, priv, 32), 0);
    CHECK_EQ_INT(unhex(rfc_pub, pub, 65), 0);
    CHECK_EQ_INT(unhex(rfc_sig, want, 64), 0);
    CHECK_EQ_INT(fota_sha256_digest(&fota_crypto_mbedtls, "sample", 6, hash), 0);

    check_all(pub, hash, want, 0, "RFC 6979 signature");
    CHECK_EQ_INT(mbed_sign(priv, hash, sig), 0);
    CHECK_MEM(sig, want, 64);
#ifdef FOTA_HAVE_BEARSSL
    memset(sig, 0, sizeof sig);
    CHECK_EQ_INT(bear_sign(priv, hash, sig), 0);
    CHECK_MEM(sig, want, 64);
#endif
}

static void test_signatures_across_backends(void)
{
    for (int i = 0; i < 6; i++) {
        struct keypair kp, other;
        uint8_t msg[40], hash[32], hash2[32], sig[64], bad[64];

        CHECK_EQ_INT(mbed_keygen(&kp), 0);
        CHECK_EQ_INT(mbed_keygen(&other), 0);
        test_rng(NULL, msg, sizeof msg);
        CHECK_EQ_INT(fota_sha256_digest(&fota_crypto_mbedtls, msg, sizeof msg, hash), 0);

        /* made with mbedTLS, checked by all */
        CHECK_EQ_INT(mbed_sign(kp.priv, hash, sig), 0);
        check_all(kp.pub, hash, sig, 0, "mbedTLS signature");
        check_all(other.pub, hash, sig, FOTA_ERR_SIGNATURE, "other key");
        memcpy(hash2, hash, 32);
        hash2[i % 32] ^= 0x01;
        check_all(kp.pub, hash2, sig, FOTA_ERR_SIGNATURE, "other hash");
        memcpy(bad, sig, 64);
        bad[i * 5 % 64] ^= 0x80;
        check_all(kp.pub, hash, bad, FOTA_ERR_SIGNATURE, "flipped signature bit");
        memcpy(bad, sig + 32, 32); /* r and s swapped */
        memcpy(bad + 32, sig, 32);
        check_all(kp.pub, hash, bad, FOTA_ERR_SIGNATURE, "r and s swapped");
        memset(bad, 0, 64);
        check_all(kp.pub, hash, bad, FOTA_ERR_SIGNATURE, "zero signature");

#ifdef FOTA_HAVE_BEARSSL
        /* and the other way round: made with BearSSL */
        CHECK_EQ_INT(bear_sign(kp.priv, hash, sig), 0);
        check_all(kp.pub, hash, sig, 0, "BearSSL signature");
#endif
    }
}

static const struct test_case tests[] = {
    TEST(test_sha256_args),
    TEST(test_rfc6979_vector),
    TEST(test_signatures_across_backends),
};

int main(void)
{
    printf("backends:");
    for (size_t b = 0; b < N_BACKENDS; b++)
        printf(" %s", backends[b].name);
    printf("\n");
    return test_main("crypto", tests, TEST_COUNT(tests));
}
