/*
 * ESP-IDF port of fota: flash through esp_partition, boot selection and
 * rollback through esp_ota_ops (ESP-IDF's own otadata and image states),
 * clock from esp_timer, log through ESP_LOG, crypto from mbedTLS.
 */
#include "fota_esp_idf.h"

#include <stdio.h>
#include <string.h>

#include "esp_app_desc.h"
#include "esp_idf_version.h"
#include "esp_image_format.h"
#include "esp_log.h"
#include "esp_mac.h"
#include "esp_ota_ops.h"
#include "esp_partition.h"
#include "esp_random.h"
#include "esp_system.h"
#include "esp_timer.h"
#include "spi_flash_mmap.h" /* SPI_FLASH_SEC_SIZE */
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"

static const char *TAG = "fota";

/* ---- Flash: absolute addresses, only inside the slots and the state ---- */

static const esp_partition_t *partition_at(struct fota_esp_idf *p, uint32_t addr, uint32_t len,
                                           uint32_t *offset)
{
    const esp_partition_t *parts[3] = {p->slot[0], p->slot[1], p->state};
    for (int i = 0; i < 3; i++) {
        const esp_partition_t *part = parts[i];
        if (part && addr >= part->address && addr - part->address <= part->size &&
            len <= part->size - (addr - part->address)) {
            *offset = addr - part->address;
            return part;
        }
    }
    ESP_LOGE(TAG, "flash 0x%08x+%u is outside the OTA slots and the state partition",
             (unsigned)addr, (unsigned)len);
    return NULL;
}

static int flash_read(void *ctx, uint32_t addr, void *buf, uint32_t len)
{
    uint32_t off;
    const esp_partition_t *part = partition_at(ctx, addr, len, &off);
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
    const esp_partition_t *part = partition_at(ctx, addr, len, &off);
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
    const esp_partition_t *part = partition_at(ctx, addr, len, &off);
    if (!part)
        return FOTA_ERR_INVALID_ARG;
    esp_err_t e = esp_partition_erase_range(part, off, len);
    if (e != ESP_OK) {
        ESP_LOGE(TAG, "esp_partition_erase_range(%s, 0x%x, %u): %s", part->label,
                 (unsigned)off, (unsigned)len, esp_err_to_name(e));
        return FOTA_ERR_FLASH_ERASE;
    }
    return 0;
}

/* ---- Boot control: ESP-IDF's otadata and image states ------------------- */

static int slot_of(struct fota_esp_idf *p, const esp_partition_t *part)
{
    for (int i = 0; i < 2; i++)
        if (part && p->slot[i] && part->address == p->slot[i]->address)
            return i;
    return -1;
}

static int img_state(esp_ota_img_states_t s)
{
    switch (s) {
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
    struct fota_esp_idf *p = ctx;
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
    esp_ota_img_states_t st;
    *slot = s;
    *state = esp_ota_get_state_partition(running, &st) == ESP_OK ? img_state(st)
                                                                  : FOTA_IMG_UNDEFINED;
    return 0;
}

static int boot_slot_info(void *ctx, int slot, struct fota_slot *out)
{
    struct fota_esp_idf *p = ctx;
    if (slot < 0 || slot > 1 || !p->slot[slot])
        return FOTA_ERR_INVALID_ARG;
    out->addr = p->slot[slot]->address;
    out->size = p->slot[slot]->size;
    return 0;
}

static int boot_slot_state(void *ctx, int slot, int *state)
{
    struct fota_esp_idf *p = ctx;
    esp_ota_img_states_t st;
    if (slot < 0 || slot > 1 || !p->slot[slot])
        return FOTA_ERR_INVALID_ARG;
    *state = esp_ota_get_state_partition(p->slot[slot], &st) == ESP_OK ? img_state(st)
                                                                        : FOTA_IMG_UNDEFINED;
    return 0;
}

static int boot_set_next(void *ctx, int slot)
{
    struct fota_esp_idf *p = ctx;
    if (slot < 0 || slot > 1 || !p->slot[slot])
        return FOTA_ERR_INVALID_ARG;
    /* Validates the image in the slot and writes otadata (power-safe: two
     * sectors with sequence numbers); with rollback enabled the image boots
     * as pending-verify. */
    esp_err_t e = esp_ota_set_boot_partition(p->slot[slot]);
    if (e != ESP_OK) {
        ESP_LOGE(TAG, "esp_ota_set_boot_partition(%s): %s", p->slot[slot]->label,
                 esp_err_to_name(e));
        return FOTA_ERR_BOOT;
    }
    return 0;
}

static int boot_confirm(void *ctx)
{
    (void)ctx;
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

/* ---- Platform ------------------------------------------------------------- */

static uint32_t now_ms(void *ctx)
{
    (void)ctx;
    return (uint32_t)(esp_timer_get_time() / 1000);
}

static void delay_ms(void *ctx, uint32_t ms)
{
    (void)ctx;
    TickType_t ticks = pdMS_TO_TICKS(ms);
    vTaskDelay(ticks > 0 ? ticks : 1);
}

static uint32_t random_u32(void *ctx)
{
    (void)ctx;
    return esp_random();
}

static void log_msg(void *ctx, int level, const char *msg)
{
    (void)ctx;
    switch (level) {
    case FOTA_LOG_ERROR: ESP_LOGE(TAG, "%s", msg); break;
    case FOTA_LOG_WARN: ESP_LOGW(TAG, "%s", msg); break;
    case FOTA_LOG_INFO: ESP_LOGI(TAG, "%s", msg); break;
    default: ESP_LOGD(TAG, "%s", msg); break;
    }
}

static int pre_update(void *ctx)
{
    struct fota_esp_idf *p = ctx;
    return p->user_pre_update ? p->user_pre_update(p->user_ctx) : 0;
}

static void progress(void *ctx, uint32_t done, uint32_t total)
{
    struct fota_esp_idf *p = ctx;
    if (p->user_progress)
        p->user_progress(p->user_ctx, done, total);
}

static void forward_event(void *ctx, int ev, const struct fota *f)
{
    struct fota_esp_idf *p = ctx;
    ESP_LOGD(TAG, "event: %s", fota_event_name(ev));
    if (p->user_event)
        p->user_event(p->user_ctx, ev, f);
}

static int this_chip(void)
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
#error "fota: unknown ESP-IDF target"
#endif
}

/* ---- Identity of the running image ---------------------------------------- */

/* SHA-256 of the running image as released: its bytes up to the length the
 * bootloader's image walk gives (segments, checksum, appended hash), what a
 * manifest's sha256 names. The receive buffer is free at init. */
static int running_image_sha256(struct fota_esp_idf *p, uint8_t out[32])
{
    const esp_partition_t *run = esp_ota_get_running_partition();
    const struct fota_crypto *c = &fota_crypto_mbedtls;
    esp_image_metadata_t meta;
    struct fota_sha256 sha;
    int r = 0;

    if (!run)
        return -1;
    const esp_partition_pos_t pos = {.offset = run->address, .size = run->size};
    if (esp_image_get_metadata(&pos, &meta) != ESP_OK || meta.image_len > run->size ||
        c->sha256_start(&sha) != 0)
        return -1;
    for (uint32_t off = 0; off < meta.image_len && r == 0;) {
        uint32_t n = meta.image_len - off < sizeof p->rx ? meta.image_len - off : sizeof p->rx;
        if (esp_partition_read(run, off, p->rx, n) != ESP_OK ||
            c->sha256_update(&sha, p->rx, n) != 0)
            r = -1;
        off += n;
    }
    if (c->sha256_finish(&sha, out) != 0)
        r = -1;
    return r;
}

/* ---- Setup ---------------------------------------------------------------- */

int fota_esp_idf_init(struct fota_esp_idf *p, const struct fota_esp_idf_options *o)
{
    if (!p || !o || !o->product || !o->pubkeys || o->n_pubkeys == 0)
        return FOTA_ERR_INVALID_ARG;
    memset(p, 0, sizeof *p);

    p->slot[0] = esp_partition_find_first(ESP_PARTITION_TYPE_APP,
                                          ESP_PARTITION_SUBTYPE_APP_OTA_0, NULL);
    p->slot[1] = esp_partition_find_first(ESP_PARTITION_TYPE_APP,
                                          ESP_PARTITION_SUBTYPE_APP_OTA_1, NULL);
    p->state = esp_partition_find_first(ESP_PARTITION_TYPE_DATA, ESP_PARTITION_SUBTYPE_ANY,
                                        CONFIG_FOTA_STATE_PARTITION_LABEL);
    if (!p->slot[0] || !p->slot[1]) {
        ESP_LOGE(TAG, "the partition table needs app partitions ota_0 and ota_1");
        return FOTA_ERR_NOT_SUPPORTED;
    }
    if (!p->state || p->state->size < 2 * SPI_FLASH_SEC_SIZE) {
        ESP_LOGE(TAG, "no data partition '%s' of two or more sectors for the agent's state "
                      "(partitions.csv: fota_state, data, 0x40, , 0x2000,)",
                 CONFIG_FOTA_STATE_PARTITION_LABEL);
        return FOTA_ERR_NOT_SUPPORTED;
    }
#ifndef CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE
    ESP_LOGW(TAG, "CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE is off: an update that fails its "
                  "health check cannot be rolled back by the bootloader");
#endif

    uint8_t mac[6];
    if (esp_read_mac(mac, ESP_MAC_WIFI_STA) == ESP_OK)
        snprintf(p->mac, sizeof p->mac, "%02X%02X%02X%02X%02X%02X", mac[0], mac[1], mac[2],
                 mac[3], mac[4], mac[5]);

    p->flash = (struct fota_flash){
        .ctx = p,
        .read = flash_read,
        .write = flash_write,
        .erase = flash_erase,
        .sector_size = SPI_FLASH_SEC_SIZE,
        /* esp_partition_write takes any length; encrypted partitions want
         * 16-byte units, which also suits plain ones. */
        .write_size = 16,
    };
    p->boot = (struct fota_boot){
        .ctx = p,
        .running = boot_running,
        .slot_info = boot_slot_info,
        .set_next = boot_set_next,
        .confirm = boot_confirm,
        .rollback = boot_rollback,
        .slot_state = boot_slot_state,
    };
    fota_esp_idf_net_init(&p->net, &p->transport, o->ca_pem);

    /* Who runs: the version and its code by the rule fota release uses
     * (a numeric version, else the build time of the app descriptor), and
     * the image's SHA-256, so a manifest for it is never installed again. */
    const esp_app_desc_t *app = esp_app_get_description();
    const char *version = o->version ? o->version : app->version;
    uint32_t version_code = o->version_code;
    if (version_code == 0 &&
        fota_app_version_code(app->version, app->date, app->time, &version_code) != 0)
        ESP_LOGW(TAG, "version '%s' is not a number and the app descriptor has no build time "
                      "(reproducible build): give options.version_code, and release with "
                      "fota release --version-code", app->version);
    const uint8_t *running_sha256 = NULL;
    if (running_image_sha256(p, p->running_sha256) == 0)
        running_sha256 = p->running_sha256;
    else
        ESP_LOGW(TAG, "cannot read the running image to hash it: a manifest for the running "
                      "image is judged by its version code alone");

    p->user_pre_update = o->pre_update;
    p->user_progress = o->progress;
    p->user_event = o->event;
    p->user_ctx = o->ctx;
    p->cfg = (struct fota_config){
        .product = o->product,
        .chip = this_chip(),
        .version_code = version_code,
        .version = version,
        .running_sha256 = running_sha256,
        .manifest_url = o->manifest_url ? o->manifest_url : CONFIG_FOTA_MANIFEST_URL,
        .mac = p->mac[0] ? p->mac : NULL,
        .pubkeys = o->pubkeys,
        .n_pubkeys = o->n_pubkeys,
        .flash = &p->flash,
        .boot = &p->boot,
        .transports = {&p->transport},
        .n_transports = 1,
        .crypto = &fota_crypto_mbedtls,
        .state_addr = p->state->address,
        .state_size = p->state->size / SPI_FLASH_SEC_SIZE * SPI_FLASH_SEC_SIZE,
        .ctx = p,
        .now_ms = now_ms,
        .delay_ms = delay_ms,
        .random = random_u32,
        .log = log_msg,
        .progress = progress,
        .event = forward_event,
        .pre_update = pre_update,
        .connect_timeout_ms = CONFIG_FOTA_CONNECT_TIMEOUT_MS,
        .read_timeout_ms = CONFIG_FOTA_READ_TIMEOUT_MS,
        .check_only = o->check_only,
    };
    p->buffers = (struct fota_buffers){
        .rx = p->rx,
        .rx_size = sizeof p->rx,
        .line = p->line,
        .line_size = sizeof p->line,
        .url = p->url,
        .url_size = sizeof p->url,
        .manifest = p->manifest,
        .manifest_size = sizeof p->manifest,
    };
    int r = fota_init(&p->agent, &p->cfg, &p->buffers);
    if (r < 0)
        ESP_LOGE(TAG, "fota_init: %s: %s", fota_strerror(r), fota_last_message(&p->agent));
    return r;
}

int fota_esp_idf_check(struct fota_esp_idf *p)
{
    int r = fota_run(&p->agent);
    if (r == FOTA_UPDATE_READY)
        ESP_LOGI(TAG, "version %s is ready: restart to run it", fota_last_manifest(&p->agent)->version);
    else if (r == FOTA_NO_UPDATE)
        ESP_LOGI(TAG, "no update");
    else if (r == FOTA_ERR_PENDING_CONFIRM)
        ESP_LOGW(TAG, "the running image is not confirmed yet: call fota_confirm() after the "
                      "health check");
    else if (r < 0)
        ESP_LOGE(TAG, "update check failed: %s: %s", fota_strerror(r),
                 fota_last_message(&p->agent));
    return r;
}

static void check_task(void *arg)
{
    struct fota_esp_idf *p = arg;
    vTaskDelay(pdMS_TO_TICKS(10 * 1000));
    for (;;) {
        if (fota_esp_idf_check(p) == FOTA_UPDATE_READY) {
            ESP_LOGI(TAG, "restarting into the new image");
            vTaskDelay(pdMS_TO_TICKS(500)); /* let the log drain */
            esp_restart();
        }
        vTaskDelay(pdMS_TO_TICKS((uint32_t)CONFIG_FOTA_CHECK_INTERVAL_S * 1000u));
    }
}

int fota_esp_idf_start_task(struct fota_esp_idf *p)
{
    if (!p || !p->agent.cfg)
        return FOTA_ERR_INVALID_ARG;
    if (xTaskCreate(check_task, "fota", CONFIG_FOTA_TASK_STACK_SIZE, p, tskIDLE_PRIORITY + 1,
                    NULL) != pdPASS)
        return FOTA_ERR_INVALID_ARG;
    return 0;
}
