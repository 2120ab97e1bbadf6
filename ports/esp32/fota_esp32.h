/*
 * ESP32 flash and boot control for fota, on ESP-IDF's partition and OTA APIs
 * (esp_partition_*, esp_ota_*). One module for both the ESP-IDF component
 * (ports/esp-idf/fota) and the Arduino-ESP32 adapter (ports/arduino), since
 * Arduino-ESP32 runs on ESP-IDF.
 *
 * Slots are the app partitions ota_0 and ota_1 (slot 0 and 1); the boot
 * selection and the image states are ESP-IDF's own (otadata). The agent's
 * journaled state lives in a data partition of two or more sectors, e.g.
 *   fota_state, data, 0x40, , 0x2000,
 * Flash writes go through esp_partition_write / esp_partition_erase_range and
 * only inside these three partitions.
 */
#ifndef FOTA_ESP32_H
#define FOTA_ESP32_H

#include <stddef.h>
#include <stdint.h>

#include "esp_partition.h"
#include "fota/fota.h"

#ifdef __cplusplus
extern "C" {
#endif

struct fota_esp32 {
    struct fota_flash flash;        /* give &flash and &boot to struct fota_config */
    struct fota_boot boot;
    const esp_partition_t *slot[2]; /* ota_0, ota_1 */
    const esp_partition_t *state;   /* the agent's state partition */
    const esp_partition_t *data[2]; /* data partitions a release may rewrite (fota_esp32_data) */
    uint32_t state_addr;            /* for fota_config.state_addr / state_size */
    uint32_t state_size;
    char detail[192];               /* why init failed, in words */
};

/* Find ota_0, ota_1 and the data partition labelled `state_label`, and fill
 * in p->flash and p->boot. Returns 0, or FOTA_ERR_NOT_SUPPORTED with
 * p->detail naming the partitions.csv line to add. */
int fota_esp32_init(struct fota_esp32 *p, const char *state_label);

/* Let releases rewrite the data partition `label` (LittleFS, SPIFFS, FAT:
 * docs/data-partitions.md): after fota_esp32_init, once per partition, at
 * every boot (an interrupted copy resumes into it). At most two; never the
 * state partition or otadata. Returns 0, or FOTA_ERR_NOT_SUPPORTED with
 * p->detail. Without it a release with a data image is refused. */
int fota_esp32_data(struct fota_esp32 *p, const char *label);

/* enum fota_chip of the chip this is built for (CONFIG_IDF_TARGET_*). */
int fota_esp32_chip(void);

/* Sleep the calling task for `ms` milliseconds (at least one tick), also
 * for waits longer than pdMS_TO_TICKS can convert. */
void fota_esp32_delay_ms(uint32_t ms);

/* Where the running image is (an address p->flash can read) and how many
 * bytes its image format covers (segments, checksum, appended SHA-256): the
 * released .bin, for the check-in's image SHA-256. 0 or FOTA_ERR_*. */
int fota_esp32_running_image(const struct fota_esp32 *p, uint32_t *addr, uint32_t *len);

#ifdef __cplusplus
}
#endif
#endif
