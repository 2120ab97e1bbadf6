/* ESP8266 Arduino core: BearSSL's headers live under tools/sdk/include/bearssl,
 * so ports/crypto/bearssl.c's #include "bearssl.h" lands here. */
#if defined(ARDUINO_ARCH_ESP8266)
#include <bearssl/bearssl.h>
#endif
