/* Signed test manifests: see test_release.h. */
#include "test_release.h"

#include <bearssl.h>
#include <stdio.h>
#include <string.h>

#include "fota/manifest.h"

/* Test keys only: made for these tests, never used anywhere else. */
static const uint8_t trusted_priv[32] = {
    0x1f, 0x6a, 0x0c, 0x93, 0x55, 0x2e, 0x8b, 0x47, 0xd2, 0x19, 0x70, 0x3e, 0xa4, 0xc1, 0x08, 0x5b,
    0x96, 0x2d, 0xe3, 0x41, 0x7f, 0xb8, 0x0a, 0x64, 0x3c, 0x99, 0x21, 0xd5, 0x6e, 0x12, 0x87, 0x4a};
static const uint8_t other_priv[32] = {
    0x2b, 0x73, 0x18, 0xc4, 0x0e, 0x9d, 0x51, 0xa6, 0x37, 0xf0, 0x6c, 0x85, 0x1a, 0xd9, 0x42, 0x7b,
    0xe8, 0x03, 0x5f, 0xb6, 0x29, 0x94, 0xcd, 0x10, 0x76, 0x4e, 0xa1, 0x38, 0xdb, 0x62, 0x05, 0x9f};

int test_release_pubkey(int other, uint8_t out[FOTA_P256_PUBKEY_SIZE])
{
    /* computed once per key: a scalar multiplication is slow on the
     * emulated targets */
    static uint8_t cache[2][FOTA_P256_PUBKEY_SIZE];
    static int have[2];
    int k = other != 0;
    if (!have[k]) {
        uint8_t x[32], kbuf[BR_EC_KBUF_PUB_MAX_SIZE];
        br_ec_private_key sk = {BR_EC_secp256r1, x, 32};
        br_ec_public_key pk;
        memcpy(x, k ? other_priv : trusted_priv, 32);
        if (br_ec_compute_pub(&br_ec_p256_m31, &pk, kbuf, &sk) != FOTA_P256_PUBKEY_SIZE)
            return -1;
        memcpy(cache[k], pk.q, FOTA_P256_PUBKEY_SIZE);
        have[k] = 1;
    }
    memcpy(out, cache[k], FOTA_P256_PUBKEY_SIZE);
    return 0;
}

static void hex(const uint8_t *b, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
}

size_t test_release_manifest(char *out, size_t cap, const struct test_release *r,
                             const struct fota_crypto *crypto)
{
    uint8_t pub[FOTA_P256_PUBKEY_SIZE], id[FOTA_KEY_ID_SIZE], sha[32], hash[32], sig[64];
    char sha_hex[65], id_hex[2 * FOTA_KEY_ID_SIZE + 1], sig_hex[129];
    uint32_t code = r->version_code;
    if (!code && fota_version_code(r->version, strlen(r->version), &code) < 0)
        return 0;
    if (test_release_pubkey(r->other_key, pub) < 0 || fota_key_id(crypto, pub, id) < 0 ||
        fota_sha256_digest(crypto, r->image, r->image_len, sha) < 0)
        return 0;
    hex(sha, 32, sha_hex);
    hex(id, sizeof id, id_hex);
    int n = snprintf(out, cap,
                     "fota-manifest: 1\nproduct: %s\nchip: %s\nversion: %s\nversion-code: %lu\n"
                     "security-counter: %lu\nsequence: %lu\nsize: %lu\nsha256: %s\nurl: %s\n"
                     "%s%s%skey-id: %s\n",
                     r->product, r->chip, r->version, (unsigned long)code,
                     (unsigned long)r->security_counter, (unsigned long)r->sequence,
                     (unsigned long)(r->size ? r->size : r->image_len), sha_hex, r->url,
                     r->expires ? "expires: " : "", r->expires ? r->expires : "",
                     r->expires ? "\n" : "", id_hex);
    if (n < 0 || (size_t)n + 11 + 128 + 2 > cap)
        return 0;
    if (fota_sha256_digest(crypto, out, (size_t)n, hash) < 0)
        return 0;
    uint8_t x[32];
    br_ec_private_key sk = {BR_EC_secp256r1, x, 32};
    memcpy(x, r->other_key ? other_priv : trusted_priv, 32);
    if (br_ecdsa_i31_sign_raw(&br_ec_p256_m31, &br_sha256_vtable, hash, &sk, sig) != 64)
        return 0;
    hex(sig, 64, sig_hex);
    int m = snprintf(out + n, cap - (size_t)n, "signature: %s\n", sig_hex);
    return m < 0 ? 0 : (size_t)n + (size_t)m;
}
