/* Fake ESP-IDF for host tests: the target chip (default ESP32-C3). */
#ifndef FAKE_SDKCONFIG_H
#define FAKE_SDKCONFIG_H
#if !defined(CONFIG_IDF_TARGET_ESP32) && !defined(CONFIG_IDF_TARGET_ESP32C2) &&                 \
    !defined(CONFIG_IDF_TARGET_ESP32C5) && !defined(CONFIG_IDF_TARGET_ESP32C61) &&             \
    !defined(CONFIG_IDF_TARGET_ESP32P4) && !defined(CONFIG_IDF_TARGET_ESP32S3)
#define CONFIG_IDF_TARGET_ESP32C3 1
#endif
#endif
