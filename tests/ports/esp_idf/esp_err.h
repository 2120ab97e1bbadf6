/* Fake ESP-IDF for host tests: esp_err.h (codes as in ESP-IDF v5.5.1). */
#ifndef FAKE_ESP_ERR_H
#define FAKE_ESP_ERR_H
typedef int esp_err_t;
#define ESP_OK 0
#define ESP_FAIL -1
#define ESP_ERR_NO_MEM 0x101
#define ESP_ERR_INVALID_ARG 0x102
#define ESP_ERR_INVALID_STATE 0x103
#define ESP_ERR_INVALID_SIZE 0x104
#define ESP_ERR_NOT_FOUND 0x105
#define ESP_ERR_NOT_SUPPORTED 0x106
#define ESP_ERR_FLASH_BASE 0x6000
#define ESP_ERR_IMAGE_INVALID 0x2002
const char *esp_err_to_name(esp_err_t code);
#endif
