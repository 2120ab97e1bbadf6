/* The ESP32 flash and boot control for the Arduino-ESP32 core: the one
 * module ports/esp32/fota_esp32.c, which the ESP-IDF component builds too
 * (Arduino-ESP32 runs on ESP-IDF). The Arduino IDE and PlatformIO compile only
 * src/, so it is built from here. */
#if defined(ARDUINO_ARCH_ESP32)
#include "../../ports/esp32/fota_esp32.c"
#endif
