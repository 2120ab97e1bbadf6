/*
 * Signed release manifests for tests, made as `fota release` makes them:
 * the fields in its order, then "key-id" and an ECDSA P-256 signature
 * (BearSSL, RFC 6979) over the SHA-256 of every byte before the signature
 * line, with a fixed test key. The agent verifies them with whichever
 * backend a test picks, so on the host a BearSSL signature is checked by
 * mbedTLS. Plain C and BearSSL: also on the emulated targets.
 */
#ifndef FOTA_TEST_RELEASE_H
#define FOTA_TEST_RELEASE_H

#include <stddef.h>
#include <stdint.h>

#include "fota/crypto.h"

struct test_release {
    const char *product;       /* "demo" */
    const char *chip;          /* "esp32" */
    const char *version;       /* "2.0.0" */
    uint32_t version_code;     /* 0: derived from version */
    uint32_t security_counter;
    uint32_t sequence;
    const uint8_t *image;      /* size and sha256 are the image's ... */
    size_t image_len;
    uint32_t size;             /* ... unless size is set (a lying manifest) */
    const char *url;           /* image URL, relative or absolute */
    const char *expires;       /* optional "2030-01-01T00:00:00Z" */
    int other_key;             /* sign with a second key the device does not trust */
};

/* The public key (uncompressed P-256 point) of the test key, or with
 * `other` of the key the device does not trust. Returns 0 or -1. */
int test_release_pubkey(int other, uint8_t out[FOTA_P256_PUBKEY_SIZE]);

/* Write the signed manifest into out (NUL-terminated). Returns its length,
 * or 0 when it does not fit or signing failed. */
size_t test_release_manifest(char *out, size_t cap, const struct test_release *r,
                             const struct fota_crypto *crypto);

#endif
