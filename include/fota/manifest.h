/*
 * The signed release manifest (specified in docs/manifest.md).
 *
 * A small UTF-8 text document of "key: value" lines. The last line is
 * "signature: <128 hex digits>" (ECDSA P-256 r||s over the SHA-256 of every
 * byte before that line). Example:
 *
 *   fota-manifest: 1
 *   product: demo-board
 *   chip: esp32
 *   version: 1.2.0
 *   version-code: 1002000
 *   security-counter: 0
 *   sequence: 1732440000
 *   size: 262144
 *   sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
 *   url: demo-board-1.2.0.bin
 *   key-id: 3f0c2a9b1d7e6a55
 *   signature: 3045...
 *
 * Optional: "expires: 2027-01-31T00:00:00Z", "project: ...". Format 2 adds
 * "artifact: ..." lines (compressed image, patches by base image); format 3
 * adds "data: LABEL SIZE SHA256 URL" lines (data-partition images).
 */
#ifndef FOTA_MANIFEST_H
#define FOTA_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "fota/crypto.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FOTA_MANIFEST_FORMAT 1           /* what `fota release` writes without artifacts */
#define FOTA_MANIFEST_FORMAT_ARTIFACTS 2 /* format 1 plus `artifact:` lines */
#define FOTA_MANIFEST_FORMAT_DATA 3      /* format 2 plus `data:` lines (data partitions) */
#define FOTA_MANIFEST_MAX_ARTIFACTS 6
#define FOTA_MANIFEST_MAX_DATA 2         /* data-partition images in one release */
#define FOTA_DATA_LABEL_MAX 16           /* a partition label (ESP-IDF: 16 characters) */
#define FOTA_MANIFEST_PRODUCT_MAX 48
#define FOTA_MANIFEST_VERSION_MAX 32
#define FOTA_MANIFEST_URL_MAX 512
#define FOTA_KEY_ID_SIZE 8 /* first 8 bytes of SHA-256(public key) */

enum fota_chip {
    FOTA_CHIP_ANY = 0, /* raw images, or tests */
    FOTA_CHIP_ESP8266,
    FOTA_CHIP_ESP32,
    FOTA_CHIP_ESP32S2,
    FOTA_CHIP_ESP32S3,
    FOTA_CHIP_ESP32C2,
    FOTA_CHIP_ESP32C3,
    FOTA_CHIP_ESP32C5,
    FOTA_CHIP_ESP32C6,
    FOTA_CHIP_ESP32C61,
    FOTA_CHIP_ESP32H2,
    FOTA_CHIP_ESP32P4,
    /* esptool's chip table, added later: values stay stable (append only) */
    FOTA_CHIP_ESP32H4,
    FOTA_CHIP_ESP32H21,
    FOTA_CHIP_ESP32E22,
    FOTA_CHIP_ESP32S31,
    FOTA_CHIP_COUNT
};

/* "esp32", "esp32s2", ...; "any" for FOTA_CHIP_ANY; "unknown" out of range. */
const char *fota_chip_name(int chip);
/* Human name: "ESP32-S2". */
const char *fota_chip_display_name(int chip);
/* Parse "esp32s2" / "ESP32-S2" (case-insensitive, '-' optional). -1 if unknown. */
int fota_chip_from_name(const char *name, size_t len);

/* Another way to get the same image: a compressed image, or a patch from a
 * base image (docs/manifest.md, "Artifacts"; docs/delta.md). The URL is not
 * copied: it is text[url_offset .. url_offset + url_len) of the parsed text. */
enum fota_artifact_kind {
    FOTA_ARTIFACT_COMPRESSED = 1,
    FOTA_ARTIFACT_DELTA = 2,
};

struct fota_manifest_artifact {
    uint8_t kind;         /* enum fota_artifact_kind */
    uint32_t size;        /* bytes of the artifact file */
    uint8_t sha256[32];   /* of the artifact file */
    uint32_t base_size;   /* FOTA_ARTIFACT_DELTA: the base image it applies to */
    uint8_t base_sha256[32];
    uint16_t url_offset;  /* in the manifest text */
    uint16_t url_len;
};

/* A data-partition image (LittleFS, SPIFFS, FAT) that travels with the
 * application (docs/data-partitions.md): the partition by label, the image
 * file's size and SHA-256, and its URL in the text like an artifact's. */
struct fota_manifest_data {
    char label[FOTA_DATA_LABEL_MAX + 1];
    uint32_t size;
    uint8_t sha256[32];
    uint16_t url_offset;
    uint16_t url_len;
};

struct fota_manifest {
    uint32_t format;
    char product[FOTA_MANIFEST_PRODUCT_MAX + 1];
    int chip; /* enum fota_chip */
    char version[FOTA_MANIFEST_VERSION_MAX + 1];
    uint32_t version_code;
    uint32_t security_counter;
    uint32_t sequence;
    uint32_t size;
    uint8_t sha256[32];
    char url[FOTA_MANIFEST_URL_MAX + 1];
    uint8_t key_id[FOTA_KEY_ID_SIZE];
    int64_t expires; /* unix seconds; 0 = never */
    uint8_t signature[FOTA_P256_SIG_SIZE];
    size_t signed_len; /* bytes covered by the signature */
    uint8_t n_artifacts; /* format 2 only */
    struct fota_manifest_artifact artifacts[FOTA_MANIFEST_MAX_ARTIFACTS];
    uint8_t n_data; /* format 3 only */
    struct fota_manifest_data data[FOTA_MANIFEST_MAX_DATA];
};

/* Parse the text (not NUL-terminated; `len` bytes). Checks syntax, required
 * fields, value ranges; unknown keys are rejected (a signer's typo must not
 * be silently ignored). Returns 0 or FOTA_ERR_MANIFEST_PARSE. When `err_line`
 * is not NULL it receives the 1-based line of the first problem. */
int fota_manifest_parse(const char *text, size_t len, struct fota_manifest *out, int *err_line);

/* Why a manifest text cannot parse when it was altered on its way to the
 * server: CRLF line ends (an FTP upload in ASCII mode, a Windows editor) or
 * a byte order mark. Returns a short reason with what to do, or NULL when the
 * text shows neither. The signed bytes cannot be repaired on the device. */
const char *fota_manifest_text_problem(const char *text, size_t len);

/* Verify the signature of a parsed manifest against a list of trusted public
 * keys (matched by key id). Returns 0, FOTA_ERR_UNKNOWN_KEY, FOTA_ERR_SIGNATURE
 * or FOTA_ERR_CRYPTO. */
int fota_manifest_verify(const struct fota_manifest *m, const char *text,
                         const uint8_t (*pubkeys)[FOTA_P256_PUBKEY_SIZE], size_t n_keys,
                         const struct fota_crypto *crypto);

/* Key id of a public key: first 8 bytes of its SHA-256. */
int fota_key_id(const struct fota_crypto *c, const uint8_t pubkey[FOTA_P256_PUBKEY_SIZE],
                uint8_t out[FOTA_KEY_ID_SIZE]);

/* Version code from a version string: "2019081901" -> 2019081901 (all digits);
 * "1.2.3" / "v1.2" -> 1*1000000 + 2*1000 + 3 (each part < 1000). Anything
 * else ("v1.2.3-rc1", git describe's "v5.0-4-g4532e6", a bare hash) is not
 * guessed at: FOTA_ERR_INVALID_ARG. Returns 0 and the code, or that. */
int fota_version_code(const char *version, size_t len, uint32_t *code);

/* Version code from the build time an ESP-IDF app descriptor records
 * (esp_app_desc_t date "Mmm dd yyyy" and time "hh:mm:ss", i.e. __DATE__ and
 * __TIME__): its seconds since 1970, read as UTC. Monotonic for builds made
 * one after the other on one machine, whatever the version string says;
 * `fota release` and a device derive the same number from the same image.
 * Returns 0, or FOTA_ERR_INVALID_ARG (malformed, or a reproducible build's
 * empty fields). */
int fota_version_code_from_build(const char *date, const char *time, uint32_t *code);

/* The version code of an application, by the one rule `fota release`, the
 * simulator and the ESP-IDF port share: the version itself when it is a
 * build number or [v]MAJOR.MINOR.PATCH (fota_version_code), else the build
 * time of its app descriptor (fota_version_code_from_build). date and time
 * may be NULL (no descriptor). Returns 0, or FOTA_ERR_INVALID_ARG when
 * neither gives a number: then `fota release --version-code` is the way. */
int fota_app_version_code(const char *version, const char *date, const char *time,
                          uint32_t *code);

/* "2027-01-31T00:00:00Z" -> unix seconds. Returns 0 or FOTA_ERR_MANIFEST_PARSE. */
int fota_parse_utc(const char *s, size_t len, int64_t *out);

#ifdef __cplusplus
}
#endif
#endif
