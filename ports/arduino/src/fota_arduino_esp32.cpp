/*
 * ESP32 port for the Arduino core: the OTA partitions (app0/app1) and
 * ESP-IDF's rollback states, as in the ESP-IDF port. The agent's state needs
 * a data partition "fota_state" of two sectors in the sketch's
 * partitions.csv; without it begin() fails and names the line to add.
 */
#if defined(ARDUINO_ARCH_ESP32)

#include <Arduino.h>
#include <esp_mac.h>
#include <esp_ota_ops.h>
#include <esp_partition.h>
#include <spi_flash_mmap.h>

#include "Fota.h"

extern "C" const struct fota_crypto fota_crypto_mbedtls;

/* The Arduino core calls this weak hook before setup(); returning true keeps
 * a new image in ESP_OTA_IMG_PENDING_VERIFY until Fota::confirm(), so that
 * the bootloader rolls back an image that resets before confirming. It lives
 * in the object that holds the port, which the Fota class always links. */
extern "C" bool verifyRollbackLater()
{
    return true;
}
extern "C" const int fota_arduino_rollback_anchor = 1;

namespace {

struct Esp32Port {
    struct fota_flash flash;
    struct fota_boot boot;
    const esp_partition_t *slot[2];
    const esp_partition_t *state;
};

Esp32Port port;

const esp_partition_t *partition_at(uint32_t addr, uint32_t len, uint32_t *off)
{
    const esp_partition_t *parts[3] = {port.slot[0], port.slot[1], port.state};
    for (const esp_partition_t *p : parts)
        if (p && addr >= p->address && addr - p->address <= p->size &&
            len <= p->size - (addr - p->address)) {
            *off = addr - p->address;
            return p;
        }
    return NULL;
}

int flash_read(void *, uint32_t addr, void *buf, uint32_t len)
{
    uint32_t off;
    const esp_partition_t *p = partition_at(addr, len, &off);
    if (!p)
        return FOTA_ERR_INVALID_ARG;
    return esp_partition_read(p, off, buf, len) == ESP_OK ? 0 : FOTA_ERR_FLASH_READ;
}

int flash_write(void *, uint32_t addr, const void *buf, uint32_t len)
{
    uint32_t off;
    const esp_partition_t *p = partition_at(addr, len, &off);
    if (!p)
        return FOTA_ERR_INVALID_ARG;
    return esp_partition_write(p, off, buf, len) == ESP_OK ? 0 : FOTA_ERR_FLASH_WRITE;
}

int flash_erase(void *, uint32_t addr, uint32_t len)
{
    uint32_t off;
    const esp_partition_t *p = partition_at(addr, len, &off);
    if (!p)
        return FOTA_ERR_INVALID_ARG;
    return esp_partition_erase_range(p, off, len) == ESP_OK ? 0 : FOTA_ERR_FLASH_ERASE;
}

int slot_of(const esp_partition_t *part)
{
    for (int i = 0; i < 2; i++)
        if (part && port.slot[i] && part->address == port.slot[i]->address)
            return i;
    return -1;
}

/* ESP-IDF's image state of a partition as enum fota_img_state. */
int partition_state(const esp_partition_t *part)
{
    esp_ota_img_states_t st;
    if (esp_ota_get_state_partition(part, &st) != ESP_OK)
        return FOTA_IMG_UNDEFINED;
    switch (st) {
    case ESP_OTA_IMG_NEW: return FOTA_IMG_NEW;
    case ESP_OTA_IMG_PENDING_VERIFY: return FOTA_IMG_PENDING_VERIFY;
    case ESP_OTA_IMG_VALID: return FOTA_IMG_VALID;
    case ESP_OTA_IMG_INVALID:
    case ESP_OTA_IMG_ABORTED: return FOTA_IMG_ABORTED;
    default: return FOTA_IMG_UNDEFINED;
    }
}

int boot_running(void *, int *slot, int *state)
{
    const esp_partition_t *running = esp_ota_get_running_partition();
    int s = slot_of(running);
    if (s < 0) {
        *slot = slot_of(esp_ota_get_next_update_partition(NULL)) == 0 ? 1 : 0;
        *state = FOTA_IMG_UNDEFINED;
        return 0;
    }
    *slot = s;
    *state = partition_state(running);
    return 0;
}

int boot_slot_state(void *, int slot, int *state)
{
    if (slot < 0 || slot > 1 || !port.slot[slot])
        return FOTA_ERR_INVALID_ARG;
    *state = partition_state(port.slot[slot]);
    return 0;
}

int boot_slot_info(void *, int slot, struct fota_slot *out)
{
    if (slot < 0 || slot > 1 || !port.slot[slot])
        return FOTA_ERR_INVALID_ARG;
    out->addr = port.slot[slot]->address;
    out->size = port.slot[slot]->size;
    return 0;
}

int boot_set_next(void *, int slot)
{
    if (slot < 0 || slot > 1 || !port.slot[slot])
        return FOTA_ERR_INVALID_ARG;
    return esp_ota_set_boot_partition(port.slot[slot]) == ESP_OK ? 0 : FOTA_ERR_BOOT;
}

int boot_confirm(void *)
{
    return esp_ota_mark_app_valid_cancel_rollback() == ESP_OK ? 0 : FOTA_ERR_BOOT;
}

int boot_rollback(void *)
{
#if ESP_IDF_VERSION >= ESP_IDF_VERSION_VAL(5, 5, 0)
    return esp_ota_mark_app_invalid_rollback() == ESP_OK ? 0 : FOTA_ERR_BOOT;
#else
    /* restarts at once on success */
    return esp_ota_mark_app_invalid_rollback_and_reboot() == ESP_OK ? 0 : FOTA_ERR_BOOT;
#endif
}

int chip()
{
#if CONFIG_IDF_TARGET_ESP32
    return FOTA_CHIP_ESP32;
#elif CONFIG_IDF_TARGET_ESP32S2
    return FOTA_CHIP_ESP32S2;
#elif CONFIG_IDF_TARGET_ESP32S3
    return FOTA_CHIP_ESP32S3;
#elif CONFIG_IDF_TARGET_ESP32C3
    return FOTA_CHIP_ESP32C3;
#elif CONFIG_IDF_TARGET_ESP32C6
    return FOTA_CHIP_ESP32C6;
#elif CONFIG_IDF_TARGET_ESP32H2
    return FOTA_CHIP_ESP32H2;
#elif CONFIG_IDF_TARGET_ESP32C2
    return FOTA_CHIP_ESP32C2;
#elif CONFIG_IDF_TARGET_ESP32C5
    return FOTA_CHIP_ESP32C5;
#elif CONFIG_IDF_TARGET_ESP32C61
    return FOTA_CHIP_ESP32C61;
#elif CONFIG_IDF_TARGET_ESP32P4
    return FOTA_CHIP_ESP32P4;
#elif CONFIG_IDF_TARGET_ESP32H4
    return FOTA_CHIP_ESP32H4;
#elif CONFIG_IDF_TARGET_ESP32H21
    return FOTA_CHIP_ESP32H21;
#else
    return FOTA_CHIP_ANY;
#endif
}

} // namespace

int fota_arduino_platform_init(struct fota_arduino_platform *out, char *detail, size_t size)
{
    port.slot[0] = esp_partition_find_first(ESP_PARTITION_TYPE_APP,
                                            ESP_PARTITION_SUBTYPE_APP_OTA_0, NULL);
    port.slot[1] = esp_partition_find_first(ESP_PARTITION_TYPE_APP,
                                            ESP_PARTITION_SUBTYPE_APP_OTA_1, NULL);
    port.state = esp_partition_find_first(ESP_PARTITION_TYPE_DATA, ESP_PARTITION_SUBTYPE_ANY,
                                          "fota_state");
    if (!port.slot[0] || !port.slot[1]) {
        snprintf(detail, size, "fota: the partition scheme needs app0/app1 OTA partitions");
        return FOTA_ERR_NOT_SUPPORTED;
    }
    if (!port.state || port.state->size < 2 * SPI_FLASH_SEC_SIZE) {
        snprintf(detail, size, "fota: add 'fota_state, data, 0x40, , 0x2000,' to partitions.csv");
        return FOTA_ERR_NOT_SUPPORTED;
    }
    port.flash = {NULL, flash_read, flash_write, flash_erase, SPI_FLASH_SEC_SIZE, 16};
    port.boot = {NULL,          boot_running,  boot_slot_info, boot_set_next,
                 boot_confirm,  boot_rollback, boot_slot_state};
    out->flash = &port.flash;
    out->boot = &port.boot;
    out->crypto = &fota_crypto_mbedtls;
    out->chip = chip();
    out->state_addr = port.state->address;
    out->state_size = port.state->size / SPI_FLASH_SEC_SIZE * SPI_FLASH_SEC_SIZE;
    return 0;
}

void fota_arduino_station_mac(uint8_t mac[6])
{
    esp_read_mac(mac, ESP_MAC_WIFI_STA);
}

#endif
