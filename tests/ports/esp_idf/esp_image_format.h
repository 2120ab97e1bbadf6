/* Fake ESP-IDF for host tests: esp_image_get_metadata (bootloader_support),
 * measuring an image as esp_image_format.c does: header, segments, the
 * checksum byte padded to 16, and the appended SHA-256 when the header says
 * so. */
#ifndef FAKE_ESP_IMAGE_FORMAT_H
#define FAKE_ESP_IMAGE_FORMAT_H
#include <stdint.h>

#include "esp_err.h"

typedef struct {
    uint32_t offset;
    uint32_t size;
} esp_partition_pos_t;

typedef struct {
    uint32_t start_addr;
    uint32_t image_len;
} esp_image_metadata_t;

esp_err_t esp_image_get_metadata(const esp_partition_pos_t *part, esp_image_metadata_t *metadata);
#endif
