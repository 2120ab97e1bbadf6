/*
 * One crypto backend against known answers: SHA-256 (FIPS 180-2 examples and
 * a million 'a' in uneven pieces), the RFC 6979 P-256 signature, and the
 * rejections (other hash, flipped or out-of-range signatures, invalid public
 * keys). Plain C: it also runs on the emulated targets, with the BearSSL the
 * target build makes from Debian's source package. The backend is picked at
 * build time (FOTA_TEST_CRYPTO); test_crypto.c signs with the libraries and
 * checks every backend against the others on the host.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fota/crypto.h"
#include "fota/error.h"
#include "harness.h"
#include "support/test_hex.h"
#include "fota_crypto_backends.h"

#ifndef FOTA_TEST_CRYPTO
#define FOTA_TEST_CRYPTO fota_crypto_mbedtls
#endif

/* ---- SHA-256 --------------------------------------------------------- */

static void test_sha256_vectors(void)
{
    static const struct {
        const char *msg, *hex;
    } v[] = {
        /* FIPS 180-2 examples */
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint8_t want[32], got[32];
        CHECK_EQ_INT(unhex(v[i].hex, want, 32), 0);
        memset(got, 0, sizeof got);
        CHECK_EQ_INT(fota_sha256_digest(&FOTA_TEST_CRYPTO, v[i].msg, strlen(v[i].msg), got), 0);
        CHECK_MEM(got, want, 32);
    }
}

static void test_sha256_million_a_in_pieces(void)
{
    static uint8_t block[1000];
    uint8_t want[32], got[32];
    const struct fota_crypto *c = &FOTA_TEST_CRYPTO;
    struct fota_sha256 ctx;
    size_t done = 0, step = 1;
    CHECK_EQ_INT(unhex("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0", want,
                       32), 0);
    memset(block, 'a', sizeof block);
    CHECK_EQ_INT(c->sha256_start(c->ctx, &ctx), 0);
    /* uneven pieces cross the 64-byte block boundary in every way */
    while (done < 1000000) {
        size_t n = step;
        if (n > sizeof block)
            n = sizeof block;
        if (n > 1000000 - done)
            n = 1000000 - done;
        CHECK_EQ_INT(c->sha256_update(c->ctx, &ctx, block, n), 0);
        done += n;
        step = step * 7 % 997 + 1;
    }
    CHECK_EQ_INT(c->sha256_finish(c->ctx, &ctx, got), 0);
    CHECK_MEM(got, want, 32);
}

/* ---- ECDSA P-256 ------------------------------------------------------ */

/* RFC 6979 appendix A.2.5: P-256, SHA-256, message "sample". */
static const char rfc_pub[] = "04"
                              "60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6"
                              "7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299";
static const char rfc_sig[] = "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716"
                              "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8";

static void check_verify(const uint8_t pub[65], const uint8_t hash[32], const uint8_t sig[64],
                         int want, const char *what)
{
    int r = FOTA_TEST_CRYPTO.p256_verify(FOTA_TEST_CRYPTO.ctx, pub, hash, sig);
    CHECK_EQ_INT(r, want);
    if (r != want)
        printf("  %s: got %d, want %d\n", what, r, want);
}

static void test_rfc6979_signature_verifies(void)
{
    uint8_t pub[65], sig[64], hash[32], bad[64];
    CHECK_EQ_INT(unhex(rfc_pub, pub, 65), 0);
    CHECK_EQ_INT(unhex(rfc_sig, sig, 64), 0);
    CHECK_EQ_INT(fota_sha256_digest(&FOTA_TEST_CRYPTO, "sample", 6, hash), 0);
    check_verify(pub, hash, sig, 0, "RFC 6979 signature");
    hash[7] ^= 0x01;
    check_verify(pub, hash, sig, FOTA_ERR_SIGNATURE, "other hash");
    hash[7] ^= 0x01;
    memcpy(bad, sig, 64);
    bad[40] ^= 0x80;
    check_verify(pub, hash, bad, FOTA_ERR_SIGNATURE, "flipped signature bit");
    memcpy(bad, sig + 32, 32);
    memcpy(bad + 32, sig, 32);
    check_verify(pub, hash, bad, FOTA_ERR_SIGNATURE, "r and s swapped");
}

static void test_out_of_range_signature(void)
{
    /* r = n (the group order) and s = n: outside [1, n-1] */
    static const char n_hex[] = "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551";
    uint8_t pub[65], hash[32], sig[64], n[32];
    CHECK_EQ_INT(unhex(rfc_pub, pub, 65), 0);
    CHECK_EQ_INT(unhex(rfc_sig, sig, 64), 0);
    CHECK_EQ_INT(unhex(n_hex, n, 32), 0);
    CHECK_EQ_INT(fota_sha256_digest(&FOTA_TEST_CRYPTO, "sample", 6, hash), 0);
    memcpy(sig, n, 32);
    check_verify(pub, hash, sig, FOTA_ERR_SIGNATURE, "r = n");
    CHECK_EQ_INT(unhex(rfc_sig, sig, 64), 0);
    memcpy(sig + 32, n, 32);
    check_verify(pub, hash, sig, FOTA_ERR_SIGNATURE, "s = n");
    memset(sig, 0xff, 64);
    check_verify(pub, hash, sig, FOTA_ERR_SIGNATURE, "r, s > n");
}

static void test_invalid_public_keys(void)
{
    uint8_t good[65], pub[65], hash[32], sig[64];
    CHECK_EQ_INT(unhex(rfc_pub, good, 65), 0);
    CHECK_EQ_INT(unhex(rfc_sig, sig, 64), 0);
    CHECK_EQ_INT(fota_sha256_digest(&FOTA_TEST_CRYPTO, "sample", 6, hash), 0);

    memcpy(pub, good, 65);
    pub[64] ^= 0x01; /* Y changed: not on the curve */
    check_verify(pub, hash, sig, FOTA_ERR_SIGNATURE, "point off the curve");
    memcpy(pub, good, 65);
    pub[1] ^= 0x01; /* X changed */
    check_verify(pub, hash, sig, FOTA_ERR_SIGNATURE, "point off the curve (X)");
    memcpy(pub, good, 65);
    pub[0] = 0x02; /* compressed-point prefix on 65 bytes */
    check_verify(pub, hash, sig, FOTA_ERR_SIGNATURE, "wrong point prefix");
    memset(pub, 0, 65);
    pub[0] = 0x04; /* (0, 0) */
    check_verify(pub, hash, sig, FOTA_ERR_SIGNATURE, "point (0,0)");
    memset(pub, 0xff, 65);
    pub[0] = 0x04; /* coordinates above p */
    check_verify(pub, hash, sig, FOTA_ERR_SIGNATURE, "coordinates >= p");
    memset(pub, 0, 65); /* all zero, even the prefix */
    check_verify(pub, hash, sig, FOTA_ERR_SIGNATURE, "all-zero key");
}

int main(void)
{
    static const struct test_case tests[] = {
        TEST(test_sha256_vectors),
        TEST(test_sha256_million_a_in_pieces),
        TEST(test_rfc6979_signature_verifies),
        TEST(test_out_of_range_signature),
        TEST(test_invalid_public_keys),
    };
    return test_main("crypto_vectors", tests, TEST_COUNT(tests));
}
