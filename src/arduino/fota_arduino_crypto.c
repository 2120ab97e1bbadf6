/* The crypto backend of each Arduino core: BearSSL on ESP8266 (shipped by
 * the core; the i15/m15 code suits the lx106's slow 32x32 multiply), mbedTLS
 * on ESP32 (part of ESP-IDF). The Arduino IDE and PlatformIO compile only
 * src/, so this file builds the one copy in ports/crypto/ from here. */
#if defined(ARDUINO_ARCH_ESP8266)
#define FOTA_BEARSSL_EC br_ec_p256_m15
#define FOTA_BEARSSL_VRFY br_ecdsa_i15_vrfy_raw
#include "../../ports/crypto/bearssl.c"
#elif defined(ARDUINO_ARCH_ESP32)
#include "../../ports/crypto/mbedtls.c"
#endif
