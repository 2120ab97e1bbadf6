/* The crypto backend of each Arduino core: BearSSL on ESP8266 (shipped by
 * the core; the i15/m15 code suits the lx106's slow 32x32 multiply), mbedTLS
 * on ESP32 (part of ESP-IDF). Built from the repository's ports/crypto/ or,
 * in the packaged library, from the copies next to this file. */
#if defined(ARDUINO_ARCH_ESP8266)
#define FOTA_BEARSSL_EC br_ec_p256_m15
#define FOTA_BEARSSL_VRFY br_ecdsa_i15_vrfy_raw
#if __has_include("../../crypto/bearssl.c")
#include "../../crypto/bearssl.c"
#else
#include "fota_crypto_bearssl.inc"
#endif
#elif defined(ARDUINO_ARCH_ESP32)
#if __has_include("../../crypto/mbedtls.c")
#include "../../crypto/mbedtls.c"
#else
#include "fota_crypto_mbedtls.inc"
#endif
#endif
