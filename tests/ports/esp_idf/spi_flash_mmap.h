/* Fake ESP-IDF for host tests: spi_flash_mmap.h, which ESP-IDF has since
 * v5.0 only (arduino-esp32 2.x, on ESP-IDF 4.4, has esp_spi_flash.h). */
#ifndef FAKE_SPI_FLASH_MMAP_H
#define FAKE_SPI_FLASH_MMAP_H
#include "esp_idf_version.h"
#if ESP_IDF_VERSION < ESP_IDF_VERSION_VAL(5, 0, 0)
#error "spi_flash_mmap.h: No such file in ESP-IDF before v5.0"
#endif
#define SPI_FLASH_SEC_SIZE 4096
#endif
