/*
 * The crypto backends of this folder, as struct fota_crypto (fota/port.h).
 * Each is compiled only where its library exists: fota_crypto_mbedtls
 * (mbedtls.c: the host tools and tests, ESP-IDF, Arduino-ESP32) and
 * fota_crypto_bearssl (bearssl.c: the ESP8266, the emulated targets). Their
 * ctx is NULL: neither keeps state outside the caller's struct fota_sha256.
 */
#ifndef FOTA_CRYPTO_BACKENDS_H
#define FOTA_CRYPTO_BACKENDS_H

#include "fota/port.h"

#ifdef __cplusplus
extern "C" {
#endif

extern const struct fota_crypto fota_crypto_mbedtls;
extern const struct fota_crypto fota_crypto_bearssl;

#ifdef __cplusplus
}
#endif
#endif
