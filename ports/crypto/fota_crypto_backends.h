/*
 * The crypto backends of this folder, as struct fota_crypto (fota/port.h).
 * Each is compiled only where its library exists: fota_crypto_mbedtls
 * (mbedtls.c: the host tools and tests, ESP-IDF, Arduino-ESP32) and
 * fota_crypto_bearssl (bearssl.c: the ESP8266, the emulated targets). Their
 * ctx is NULL: neither keeps state outside the caller's struct fota_sha256.
 * fota_crypto_openssl (openssl.c) is the Linux hosts' fast one.
 */
#ifndef FOTA_CRYPTO_BACKENDS_H
#define FOTA_CRYPTO_BACKENDS_H

#include "fota/port.h"

#ifdef __cplusplus
extern "C" {
#endif

extern const struct fota_crypto fota_crypto_mbedtls;
extern const struct fota_crypto fota_crypto_bearssl;
extern const struct fota_crypto fota_crypto_openssl;

/* The backends built here, by name, as initialisers of a
 * { const char *name; const struct fota_crypto *c; } table: for the tests
 * and benchmarks that run one backend or all of them. A macro rather than a
 * table here, so a file that includes this header without using it has no
 * unused static object. */
#ifdef FOTA_HAVE_BEARSSL
#define FOTA_CRYPTO_BEARSSL_ENTRY {"bearssl", &fota_crypto_bearssl},
#else
#define FOTA_CRYPTO_BEARSSL_ENTRY
#endif
#ifdef FOTA_HAVE_OPENSSL
#define FOTA_CRYPTO_OPENSSL_ENTRY {"openssl", &fota_crypto_openssl},
#else
#define FOTA_CRYPTO_OPENSSL_ENTRY
#endif
#define FOTA_CRYPTO_BACKENDS_BY_NAME \
    {"mbedtls", &fota_crypto_mbedtls}, FOTA_CRYPTO_BEARSSL_ENTRY FOTA_CRYPTO_OPENSSL_ENTRY

/* The backend of the host tools and the simulated device, chosen at build
 * time (ports/crypto/CMakeLists.txt: FOTA_HOST_CRYPTO, OpenSSL when found). */
#ifndef FOTA_CRYPTO_HOST
#define FOTA_CRYPTO_HOST fota_crypto_mbedtls
#endif

#ifdef __cplusplus
}
#endif
#endif
