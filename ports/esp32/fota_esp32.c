/*
 * ESP32 flash and boot control on ESP-IDF's partition and OTA APIs, shared by
 * the ESP-IDF component and the Arduino-ESP32 adapter (see fota_esp32.h).
 * Compiled only on ESP-IDF (ESP_PLATFORM): the Arduino IDE compiles every
 * file of a library, also for the ESP8266.
 */
#if defined(ESP_PLATFORM)

#include "fota_esp32.h"

#include <stdio.h>
#include <string.h>

#include "esp_err.h"
#include "esp_idf_version.h"
#include "esp_log.h"
#include "esp_ota_ops.h"
#include "esp_image_format.h"
#include "esp_partition.h"
#include "fota/crypto.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "sdkconfig.h"
#if ESP_IDF_VERSION >= ESP_IDF_VERSION_VAL(5, 0, 0)
#include "spi_flash_mmap.h" /* SPI_FLASH_SEC_SIZE */
#else
/* ESP-IDF 4.4 (arduino-esp32 2.x): spi_flash_mmap.h does not exist yet */
#include "esp_spi_flash.h"
#endif

static const char *TAG = "fota";

/* ---- Flash: absolute addresses, only inside the slots and the state ---- */

static int same_partition(const esp_partition_t *a, const esp_partition_t *b)
{
    return a && b && a->address == b->address;
}

/* The partition that holds [addr, addr+len), or NULL. `writing`: never the
 * partition the app runs from, whatever the caller believes. */
static const esp_partition_t *partition_at(struct fota_esp32 *p, uint32_t addr, uint32_t len,
                                           int writing, uint32_t *offset)
{
    const esp_partition_t *parts[5] = {p->slot[0], p->slot[1], p->state, p->data[0],
                                       p->data[1]};
    for (int i = 0; i < 5; i++) {
        const esp_partition_t *part = parts[i];
        if (part && addr >= part->address && addr - part->address <= part->size &&
            len <= part->size - (addr - part->address)) {
            if (writing && same_partition(part, esp_ota_get_running_partition())) {
                ESP_LOGE(TAG, "refusing to change flash 0x%08x+%u: %s is the partition this "
                              "app runs from",
                         (unsigned)addr, (unsigned)len, part->label);
                return NULL;
            }
            *offset = addr - part->address;
            return part;
        }
    }
    ESP_LOGE(TAG, "flash 0x%08x+%u is outside the OTA slots, the state and the data partitions",
             (unsigned)addr, (unsigned)len);
    return NULL;
}

/* A download is about to overwrite `part` from its start. If the inactive
 * otadata entry still describes the image that was there, a rollback of the
 * running app (or its failure to confirm) would make the bootloader select
 * this half-written slot, and esp_ota_get_state_partition would report the
 * old image's state for it. esp_ota_begin invalidates that entry since
 * ESP-IDF 5.5 (commit c9ea30e6, IDF issue 14808; there only with rollback
 * enabled); this port writes through esp_partition_*, so it does the same,
 * in every configuration: the entry describes bytes that are going away. */
static int invalidate_stale_entry(const esp_partition_t *part)
{
    esp_ota_img_states_t st;
    if (esp_ota_get_state_partition(part, &st) != ESP_OK ||
        same_partition(part, esp_ota_get_boot_partition()))
        return 0; /* no entry for this slot, or the active one (the slot boots next) */
#if ESP_IDF_VERSION >= ESP_IDF_VERSION_VAL(5, 5, 0)
    esp_err_t e = esp_ota_invalidate_inactive_ota_data_slot();
    const char *what = "esp_ota_invalidate_inactive_ota_data_slot";
#else
    /* Before 5.5 the only call that drops the inactive entry also erases the
     * slot it names: this one, which the download erases anyway. */
    esp_err_t e = esp_ota_erase_last_boot_app_partition();
    const char *what = "esp_ota_erase_last_boot_app_partition";
#endif
    if (e != ESP_OK) {
        ESP_LOGE(TAG, "%s (stale otadata entry of %s): %s", what, part->label,
                 esp_err_to_name(e));
        return FOTA_ERR_FLASH_ERASE;
    }
    ESP_LOGI(TAG, "invalidated the otadata entry of the image that was in %s", part->label);
    return 0;
}

static int flash_read(void *ctx, uint32_t addr, void *buf, uint32_t len)
{
    uint32_t off;
    const esp_partition_t *part = partition_at(ctx, addr, len, 0, &off);
    if (!part)
        return FOTA_ERR_INVALID_ARG;
    esp_err_t e = esp_partition_read(part, off, buf, len);
    if (e != ESP_OK) {
        ESP_LOGE(TAG, "esp_partition_read(%s, 0x%x, %u): %s", part->label, (unsigned)off,
                 (unsigned)len, esp_err_to_name(e));
        return FOTA_ERR_FLASH_READ;
    }
    return 0;
}

static int flash_write(void *ctx, uint32_t addr, const void *buf, uint32_t len)
{
    uint32_t off;
    const esp_partition_t *part = partition_at(ctx, addr, len, 1, &off);
    if (!part)
        return FOTA_ERR_INVALID_ARG;
    esp_err_t e = esp_partition_write(part, off, buf, len);
    if (e != ESP_OK) {
        ESP_LOGE(TAG, "esp_partition_write(%s, 0x%x, %u): %s", part->label, (unsigned)off,
                 (unsigned)len, esp_err_to_name(e));
        return FOTA_ERR_FLASH_WRITE;
    }
    return 0;
}

static int flash_erase(void *ctx, uint32_t addr, uint32_t len)
{
    uint32_t off;
    struct fota_esp32 *p = ctx;
    const esp_partition_t *part = partition_at(p, addr, len, 1, &off);
    if (!part)
        return FOTA_ERR_INVALID_ARG;
    if (off == 0 && part != p->state) {
        int r = invalidate_stale_entry(part);
        if (r < 0)
            return r;
    }
    esp_err_t e = esp_partition_erase_range(part, off, len);
    if (e != ESP_OK) {
        ESP_LOGE(TAG, "esp_partition_erase_range(%s, 0x%x, %u): %s", part->label,
                 (unsigned)off, (unsigned)len, esp_err_to_name(e));
        return FOTA_ERR_FLASH_ERASE;
    }
    return 0;
}

/* ---- Boot control: ESP-IDF's otadata and image states ------------------- */

static int slot_of(const struct fota_esp32 *p, const esp_partition_t *part)
{
    for (int i = 0; i < 2; i++)
        if (part && p->slot[i] && part->address == p->slot[i]->address)
            return i;
    return -1;
}

/* ESP-IDF's image state of a partition as enum fota_img_state. */
static int partition_state(const esp_partition_t *part)
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

static int boot_running(void *ctx, int *slot, int *state)
{
    struct fota_esp32 *p = ctx;
    const esp_partition_t *running = esp_ota_get_running_partition();
    if (!running)
        return FOTA_ERR_BOOT;
    int s = slot_of(p, running);
    if (s < 0) {
        /* factory (or another app partition): the next update goes to the
         * partition ESP-IDF picks, so report the other one as running */
        int next = slot_of(p, esp_ota_get_next_update_partition(NULL));
        *slot = next == 0 ? 1 : 0;
        *state = FOTA_IMG_UNDEFINED;
        return 0;
    }
    *slot = s;
    *state = partition_state(running);
    return 0;
}

static int boot_slot_info(void *ctx, int slot, struct fota_slot *out)
{
    struct fota_esp32 *p = ctx;
    if (slot < 0 || slot > 1 || !p->slot[slot])
        return FOTA_ERR_INVALID_ARG;
    out->addr = p->slot[slot]->address;
    out->size = p->slot[slot]->size;
    return 0;
}

static int boot_data_partition(void *ctx, const char *label, struct fota_slot *out)
{
    struct fota_esp32 *p = ctx;
    for (int i = 0; i < 2; i++)
        if (p->data[i] && strcmp(p->data[i]->label, label) == 0) {
            out->addr = p->data[i]->address;
            out->size = p->data[i]->size / SPI_FLASH_SEC_SIZE * SPI_FLASH_SEC_SIZE;
            return 0;
        }
    return FOTA_ERR_NOT_SUPPORTED; /* not one the application named */
}

int fota_esp32_data(struct fota_esp32 *p, const char *label)
{
    if (!p || !label)
        return FOTA_ERR_INVALID_ARG;
    const esp_partition_t *part =
        esp_partition_find_first(ESP_PARTITION_TYPE_DATA, ESP_PARTITION_SUBTYPE_ANY, label);
    if (!part || part->subtype == ESP_PARTITION_SUBTYPE_DATA_OTA ||
        same_partition(part, p->state) || part->address % SPI_FLASH_SEC_SIZE ||
        part->size < SPI_FLASH_SEC_SIZE) {
        snprintf(p->detail, sizeof p->detail,
                 "no data partition '%s' that a release may rewrite (not otadata, not the "
                 "agent's state, sector-aligned)",
                 label);
        return FOTA_ERR_NOT_SUPPORTED;
    }
    for (int i = 0; i < 2; i++)
        if (!p->data[i] || same_partition(p->data[i], part)) {
            p->data[i] = part;
            return 0;
        }
    snprintf(p->detail, sizeof p->detail, "at most two data partitions: '%s' is one too many",
             label);
    return FOTA_ERR_NOT_SUPPORTED;
}

static int boot_slot_state(void *ctx, int slot, int *state)
{
    struct fota_esp32 *p = ctx;
    if (slot < 0 || slot > 1 || !p->slot[slot])
        return FOTA_ERR_INVALID_ARG;
    *state = partition_state(p->slot[slot]);
    return 0;
}

static int boot_set_next(void *ctx, int slot)
{
    struct fota_esp32 *p = ctx;
    if (slot < 0 || slot > 1 || !p->slot[slot])
        return FOTA_ERR_INVALID_ARG;
    /* Validates the image in the slot and writes otadata (power-safe: two
     * sectors with sequence numbers); with rollback enabled the image boots
     * as pending-verify. */
    esp_err_t e = esp_ota_set_boot_partition(p->slot[slot]);
    if (e == ESP_ERR_OTA_VALIDATE_FAILED || e == ESP_ERR_OTA_SMALL_SEC_VER) {
        /* The image is the signed one (the agent checked its SHA-256 and read
         * it back), but this chip will not boot it: esp_image_verify refused
         * it (Secure Boot signature missing or not trusted, chip revision
         * outside the image's range), or its secure_version is below the
         * eFuse counter, in which case ESP-IDF has erased the slot. Trying
         * again cannot help: the agent rejects the version. */
        ESP_LOGE(TAG, "esp_ota_set_boot_partition(%s): %s: this chip refuses the image",
                 p->slot[slot]->label, esp_err_to_name(e));
        return FOTA_ERR_IMAGE_REJECTED;
    }
    if (e != ESP_OK) {
        ESP_LOGE(TAG, "esp_ota_set_boot_partition(%s): %s", p->slot[slot]->label,
                 esp_err_to_name(e));
        return FOTA_ERR_BOOT;
    }
    return 0;
}

static int boot_confirm(void *ctx)
{
    struct fota_esp32 *p = ctx;
    if (slot_of(p, esp_ota_get_running_partition()) < 0) {
        /* A factory app has no otadata entry to mark (ESP-IDF answers
         * "Running firmware is factory"): it is valid by definition. */
        return 0;
    }
    esp_err_t e = esp_ota_mark_app_valid_cancel_rollback();
    if (e != ESP_OK) {
        ESP_LOGE(TAG, "esp_ota_mark_app_valid_cancel_rollback: %s", esp_err_to_name(e));
        return FOTA_ERR_BOOT;
    }
    return 0;
}

static int boot_rollback(void *ctx)
{
    (void)ctx;
#if ESP_IDF_VERSION >= ESP_IDF_VERSION_VAL(5, 5, 0)
    esp_err_t e = esp_ota_mark_app_invalid_rollback(); /* the caller reboots */
#else
    /* Older ESP-IDF has only the variant that restarts at once on success;
     * the agent keeps nothing in RAM that a restart would lose. */
    esp_err_t e = esp_ota_mark_app_invalid_rollback_and_reboot();
#endif
    if (e != ESP_OK) {
        ESP_LOGE(TAG, "marking the running app invalid failed: %s", esp_err_to_name(e));
        return FOTA_ERR_BOOT;
    }
    return 0;
}

/* ---- Waiting ------------------------------------------------------------- */

void fota_esp32_delay_ms(uint32_t ms)
{
    /* pdMS_TO_TICKS multiplies in 32-bit TickType_t: ms * configTICK_RATE_HZ
     * wraps above 2^32 (11.9 h at 100 Hz; a 1-day check interval became about
     * 8 minutes). Pieces of an hour stay below that up to 1000 Hz. */
    const uint32_t piece = 3600u * 1000u;
    while (ms > 0) {
        uint32_t step = ms > piece ? piece : ms;
        TickType_t ticks = pdMS_TO_TICKS(step);
        vTaskDelay(ticks > 0 ? ticks : 1);
        ms -= step;
    }
}

/* ---- Setup ---------------------------------------------------------------- */

int fota_esp32_chip(void)
{
#if defined(CONFIG_IDF_TARGET_ESP32)
    return FOTA_CHIP_ESP32;
#elif defined(CONFIG_IDF_TARGET_ESP32S2)
    return FOTA_CHIP_ESP32S2;
#elif defined(CONFIG_IDF_TARGET_ESP32S3)
    return FOTA_CHIP_ESP32S3;
#elif defined(CONFIG_IDF_TARGET_ESP32C2)
    return FOTA_CHIP_ESP32C2;
#elif defined(CONFIG_IDF_TARGET_ESP32C3)
    return FOTA_CHIP_ESP32C3;
#elif defined(CONFIG_IDF_TARGET_ESP32C5)
    return FOTA_CHIP_ESP32C5;
#elif defined(CONFIG_IDF_TARGET_ESP32C6)
    return FOTA_CHIP_ESP32C6;
#elif defined(CONFIG_IDF_TARGET_ESP32C61)
    return FOTA_CHIP_ESP32C61;
#elif defined(CONFIG_IDF_TARGET_ESP32H2)
    return FOTA_CHIP_ESP32H2;
#elif defined(CONFIG_IDF_TARGET_ESP32P4)
    return FOTA_CHIP_ESP32P4;
#elif defined(CONFIG_IDF_TARGET_ESP32H4)
    return FOTA_CHIP_ESP32H4;
#elif defined(CONFIG_IDF_TARGET_ESP32H21)
    return FOTA_CHIP_ESP32H21;
#elif defined(CONFIG_IDF_TARGET_ESP32E22)
    return FOTA_CHIP_ESP32E22;
#elif defined(CONFIG_IDF_TARGET_ESP32S31)
    return FOTA_CHIP_ESP32S31;
#else
#error "fota: unknown ESP-IDF target (add it to fota_esp32_chip and enum fota_chip)"
#endif
}

int fota_esp32_init(struct fota_esp32 *p, const char *state_label)
{
    if (!p || !state_label)
        return FOTA_ERR_INVALID_ARG;
    memset(p, 0, sizeof *p);
    p->slot[0] = esp_partition_find_first(ESP_PARTITION_TYPE_APP,
                                          ESP_PARTITION_SUBTYPE_APP_OTA_0, NULL);
    p->slot[1] = esp_partition_find_first(ESP_PARTITION_TYPE_APP,
                                          ESP_PARTITION_SUBTYPE_APP_OTA_1, NULL);
    p->state = esp_partition_find_first(ESP_PARTITION_TYPE_DATA, ESP_PARTITION_SUBTYPE_ANY,
                                        state_label);
    if (!p->slot[0] || !p->slot[1]) {
        snprintf(p->detail, sizeof p->detail,
                 "the partition table needs app partitions ota_0 and ota_1");
        return FOTA_ERR_NOT_SUPPORTED;
    }
    if (!p->state || p->state->size < 2 * SPI_FLASH_SEC_SIZE) {
        snprintf(p->detail, sizeof p->detail,
                 "no data partition '%s' of two or more sectors for the agent's state "
                 "(partitions.csv: %s, data, 0x40, , 0x2000,)",
                 state_label, state_label);
        return FOTA_ERR_NOT_SUPPORTED;
    }
    p->state_addr = p->state->address;
    p->state_size = p->state->size / SPI_FLASH_SEC_SIZE * SPI_FLASH_SEC_SIZE;
    p->flash = (struct fota_flash){
        .ctx = p,
        .read = flash_read,
        .write = flash_write,
        .erase = flash_erase,
        .sector_size = SPI_FLASH_SEC_SIZE,
        /* esp_partition_write takes any length; encrypted partitions want
         * 16-byte units, which also suits plain ones. */
        .write_size = 16,
        /* esp_partition_erase_range erases a 64 KiB-aligned 64 KiB range with
         * one block erase (about 150 ms against 45 ms per 4 KiB sector); app
         * partitions are 64 KiB-aligned, so slot offsets align the same way */
        .block_size = 0x10000,
    };
    p->boot = (struct fota_boot){
        .ctx = p,
        .running = boot_running,
        .slot_info = boot_slot_info,
        .set_next = boot_set_next,
        .confirm = boot_confirm,
        .rollback = boot_rollback,
        .slot_state = boot_slot_state,
        .data_partition = boot_data_partition,
    };
    return 0;
}

int fota_esp32_running_image(const struct fota_esp32 *p, uint32_t *addr, uint32_t *len)
{
    const esp_partition_t *run = esp_ota_get_running_partition();
    if (!run || slot_of(p, run) < 0)
        return FOTA_ERR_NOT_SUPPORTED; /* p->flash reads ota_0 and ota_1 only */
    const esp_partition_pos_t pos = {.offset = run->address, .size = run->size};
    esp_image_metadata_t meta;
    if (esp_image_get_metadata(&pos, &meta) != ESP_OK || meta.image_len > run->size)
        return FOTA_ERR_IMAGE_HEADER;
    *addr = run->address;
    *len = meta.image_len;
    return 0;
}

#endif /* ESP_PLATFORM */
