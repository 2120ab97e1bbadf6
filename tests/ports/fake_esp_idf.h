/*
 * A fake of ESP-IDF's partition and OTA API for host tests, so the ESP32
 * port (ports/esp32) runs in ctest. Its behaviour follows ESP-IDF v5.5.1
 * (components/app_update/esp_ota_ops.c, bootloader_support's
 * bootloader_common_loader.c and bootloader_utility.c): otadata is two
 * sectors holding an esp_ota_select_entry_t each (ota_seq, state, CRC of
 * ota_seq); the active entry is the valid one with the higher sequence;
 * esp_ota_set_boot_partition validates the image, refuses a secure_version
 * below the eFuse counter and then erases the whole partition, and writes the
 * other entry; esp_ota_get_state_partition finds the entry of a slot;
 * esp_ota_mark_app_valid_cancel_rollback marks the active entry and fails
 * ("Running firmware is factory") without one; the bootloader at power-on
 * turns NEW into PENDING_VERIFY and an unconfirmed PENDING_VERIFY into
 * ABORTED (when built with rollback), and boots the factory app when no
 * entry is valid.
 *
 * Layout: otadata 0x9000 (2 sectors), "fota_state" 0xb000 (2 sectors),
 * optional "factory", then "ota_0" and "ota_1", FAKE_SLOT_SIZE each.
 */
#ifndef FAKE_ESP_IDF_H
#define FAKE_ESP_IDF_H

#include <stddef.h>
#include <stdint.h>

#include "esp_ota_ops.h"
#include "esp_partition.h"

#define FAKE_SLOT_SIZE 0x20000u

struct fake_esp_idf_config {
    int factory;             /* the table has a factory app partition */
    /* CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE of the running app: a selected
     * image starts as NEW, else UNDEFINED (esp_ota_ops.c
     * set_new_state_otadata). */
    int app_rollback;
    /* The bootloader was built with rollback (an old one was not: it leaves
     * NEW as it is and never aborts an unconfirmed image). */
    int bootloader_rollback;
    /* CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK with this eFuse secure version. */
    int anti_rollback;
    uint32_t efuse_secure_version;
    /* What esp_image_verify says about an image with a valid magic byte:
     * ESP_OK, or a failure standing for a missing Secure Boot signature or
     * an unsupported chip revision. */
    esp_err_t verify_result;
};

/* Blank flash (0xFF), the partition table for `c`, nothing running yet. */
void fake_esp_idf_reset(const struct fake_esp_idf_config *c);
/* Change a knob without touching the flash. */
struct fake_esp_idf_config *fake_esp_idf_config(void);
/* A partition by label ("otadata", "fota_state", "factory", "ota_0", "ota_1"). */
const esp_partition_t *fake_esp_idf_partition(const char *label);
/* Factory programming: bytes straight into a partition. */
void fake_esp_idf_program(const char *label, const void *data, size_t len);
/* Power on: the second-stage bootloader picks the app. Returns its label,
 * or NULL when nothing bootable is left (bricked). */
const char *fake_esp_idf_power_on(void);
/* Times esp_restart() was called since the reset. */
int fake_esp_idf_restarts(void);
/* Erases that touched the partition since the reset. */
int fake_esp_idf_erases(const char *label);
/* Everything logged through ESP_LOGx since the reset. */
const char *fake_esp_idf_log(void);
/* The otadata entry i (0 or 1) as ESP-IDF would read it. */
void fake_esp_idf_otadata(int i, uint32_t *seq, uint32_t *state, int *crc_ok);

#endif
