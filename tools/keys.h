/* Signing keys for the fota tools: ECDSA P-256 in PEM files (mbedTLS). */
#ifndef FOTA_TOOLS_KEYS_H
#define FOTA_TOOLS_KEYS_H

#include <stdint.h>

#include "fota/crypto.h"
#include "fota/manifest.h"
#include "mbedtls/pk.h"

struct tool_key {
    mbedtls_pk_context pk;
    int has_private;
    uint8_t pub[FOTA_P256_PUBKEY_SIZE]; /* uncompressed point, as devices trust it */
    uint8_t id[FOTA_KEY_ID_SIZE];
    char id_hex[2 * FOTA_KEY_ID_SIZE + 1];
};

/* Create a fresh P-256 key pair. Returns 0 or -1 with a message. */
int keys_generate(struct tool_key *k);
/* Load a PEM private key ("EC PRIVATE KEY" or PKCS#8) from a file. The key
 * must be on P-256. Returns 0 or -1 with a message naming the file. */
int keys_load_private(const char *path, struct tool_key *k);
/* Load a public key: a PEM public key file, or a private key file (whose
 * public half is used). Returns 0 or -1 with a message naming the file. */
int keys_load_any(const char *path, struct tool_key *k);
/* PEM text of the private key (SEC1) or the public key into buf. 0 or -1. */
int keys_private_pem(struct tool_key *k, char *buf, size_t size);
int keys_public_pem(struct tool_key *k, char *buf, size_t size);
/* Deterministic ECDSA (RFC 6979) over a SHA-256 hash: r||s, 32 bytes each.
 * Returns 0 or -1 with a message. */
int keys_sign(struct tool_key *k, const uint8_t hash[32], uint8_t sig[FOTA_P256_SIG_SIZE]);
void keys_free(struct tool_key *k);

/* A private key file others can read is a key others may have copied. As
 * ssh does: when group or others have any permission on `path`, print a
 * warning naming the mode and the fix; with `strict`, an error instead.
 * Returns 0 (fine, or only warned) or -1 (strict and too open, or the file
 * cannot be examined). `tool` prefixes the message ("fota release"). */
int keys_check_private_mode(const char *tool, const char *path, int strict);

#endif
