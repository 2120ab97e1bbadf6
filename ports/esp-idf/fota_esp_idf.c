/*
 * ESP-IDF port of fota: flash and boot control from ports/esp32 (partitions,
 * ESP-IDF's own otadata and image states), clock from esp_timer, log through
 * ESP_LOG, crypto from mbedTLS, the check task.
 */
#include "fota_esp_idf.h"

#include <stdio.h>
#include <string.h>

#include "esp_app_desc.h"
#include "esp_log.h"
#include "esp_mac.h"
#include "esp_random.h"
#include "esp_system.h"
#include "esp_timer.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "fota_crypto_backends.h"

static const char *TAG = "fota";

/* ---- Platform ------------------------------------------------------------- */

static uint32_t now_ms(void *ctx)
{
    (void)ctx;
    return (uint32_t)(esp_timer_get_time() / 1000);
}

static void delay_ms(void *ctx, uint32_t ms)
{
    (void)ctx;
    fota_esp32_delay_ms(ms);
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

/* ---- Setup ---------------------------------------------------------------- */

/* SHA-256 of the running image as released (what a manifest signs), for the
 * check-in; read through the port's flash into the receive buffer. */
static int running_image_sha256(struct fota_esp_idf *p)
{
    uint32_t addr, len;
    if (fota_esp32_running_image(&p->esp32, &addr, &len) < 0)
        return -1;
    const struct fota_crypto *c = &fota_crypto_mbedtls;
    struct fota_sha256 sha;
    if (c->sha256_start(c->ctx, &sha) != 0)
        return -1;
    int r = 0;
    for (uint32_t off = 0; off < len && r == 0;) {
        uint32_t n = len - off < sizeof p->rx ? len - off : (uint32_t)sizeof p->rx;
        r = p->esp32.flash.read(p->esp32.flash.ctx, addr + off, p->rx, n);
        if (r == 0)
            c->sha256_update(c->ctx, &sha, p->rx, n);
        off += n;
    }
    return c->sha256_finish(c->ctx, &sha, p->image_sha256) == 0 ? r : -1;
}

int fota_esp_idf_init(struct fota_esp_idf *p, const struct fota_esp_idf_options *o)
{
    if (!p || !o || !o->product || !o->pubkeys || o->n_pubkeys == 0)
        return FOTA_ERR_INVALID_ARG;
    memset(p, 0, sizeof *p);

    int r = fota_esp32_init(&p->esp32, CONFIG_FOTA_STATE_PARTITION_LABEL);
    if (r < 0) {
        ESP_LOGE(TAG, "%s", p->esp32.detail);
        return r;
    }
#ifndef CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE
    ESP_LOGW(TAG, "CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE is off: an update that fails its "
                  "health check cannot be rolled back by the bootloader");
#endif

    uint8_t mac[6];
    if (esp_read_mac(mac, ESP_MAC_WIFI_STA) == ESP_OK)
        snprintf(p->mac, sizeof p->mac, "%02X%02X%02X%02X%02X%02X", mac[0], mac[1], mac[2],
                 mac[3], mac[4], mac[5]);

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
    const uint8_t *image_sha256 = running_image_sha256(p) == 0 ? p->image_sha256 : NULL;
    if (!image_sha256)
        ESP_LOGW(TAG, "cannot read the running image to hash it: a manifest for the running "
                      "image is judged by its version code alone");

    p->user_pre_update = o->pre_update;
    p->user_progress = o->progress;
    p->user_event = o->event;
    p->user_ctx = o->ctx;
    p->cfg = (struct fota_config){
        .product = o->product,
        .chip = fota_esp32_chip(),
        .version_code = version_code,
        .version = version,
        .manifest_url = o->manifest_url ? o->manifest_url : CONFIG_FOTA_MANIFEST_URL,
        .mac = p->mac[0] ? p->mac : NULL,
        .device_id = o->device_id,
        .image_sha256 = image_sha256,
        .pubkeys = o->pubkeys,
        .n_pubkeys = o->n_pubkeys,
        .flash = &p->esp32.flash,
        .boot = &p->esp32.boot,
        .transports = {&p->transport},
        .n_transports = 1,
        .crypto = &fota_crypto_mbedtls,
        .state_addr = p->esp32.state_addr,
        .state_size = p->esp32.state_size,
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
#if CONFIG_FOTA_DELTA
        .delta = &p->delta,
        .delta_out = p->delta_out,
        .delta_out_size = sizeof p->delta_out,
#endif
    };
    r = fota_init(&p->agent, &p->cfg, &p->buffers);
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
        /* Kconfig caps the interval at 30 days: the milliseconds fit 32 bits */
        fota_esp32_delay_ms((uint32_t)CONFIG_FOTA_CHECK_INTERVAL_S * 1000u);
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
