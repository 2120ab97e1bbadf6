/* Fake ESP-IDF for host tests: esp_spi_flash.h (ESP-IDF 4.4; deprecated but
 * present in 5.x). */
#ifndef FAKE_ESP_SPI_FLASH_H
#define FAKE_ESP_SPI_FLASH_H
#define SPI_FLASH_SEC_SIZE 4096
#endif
