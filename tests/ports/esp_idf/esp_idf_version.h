/* Fake ESP-IDF for host tests: the version the test was built to pose as
 * (FAKE_IDF_MAJOR/MINOR/PATCH; default v5.5.1). */
#ifndef FAKE_ESP_IDF_VERSION_H
#define FAKE_ESP_IDF_VERSION_H
#ifndef FAKE_IDF_MAJOR
#define FAKE_IDF_MAJOR 5
#define FAKE_IDF_MINOR 5
#define FAKE_IDF_PATCH 1
#endif
#define ESP_IDF_VERSION_MAJOR FAKE_IDF_MAJOR
#define ESP_IDF_VERSION_MINOR FAKE_IDF_MINOR
#define ESP_IDF_VERSION_PATCH FAKE_IDF_PATCH
#define ESP_IDF_VERSION_VAL(major, minor, patch) (((major) << 16) | ((minor) << 8) | (patch))
#define ESP_IDF_VERSION                                                                    \
    ESP_IDF_VERSION_VAL(ESP_IDF_VERSION_MAJOR, ESP_IDF_VERSION_MINOR, ESP_IDF_VERSION_PATCH)
#endif
