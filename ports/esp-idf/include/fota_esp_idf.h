/*
 * fota on ESP-IDF (ESP32, ESP32-S2/S3, ESP32-C3/C6; ESP-IDF 5.0 or newer).
 *
 *   static struct fota_esp_idf fota;          // ~7 KB with the default buffers
 *   struct fota_esp_idf_options o = {
 *       .product = "demo-board", .version = "1.2.0", .version_code = 1002000,
 *       .pubkeys = keys, .n_pubkeys = 1,
 *   };
 *   fota_esp_idf_init(&fota, &o);   // after the network is up
 *   ...not FOTA_IMG_VALID and the health check passed: fota_confirm(&fota.agent);
 *   fota_esp_idf_start_task(&fota); // checks every CONFIG_FOTA_CHECK_INTERVAL_S
 *
 * Slots are the app partitions ota_0 and ota_1 (slot 0 and 1); the boot
 * selection and the confirm/rollback states are ESP-IDF's own (otadata), so
 * CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE must be on for a bad image to be
 * rolled back. The agent's journaled state lives in the data partition
 * CONFIG_FOTA_STATE_PARTITION_LABEL (two or more sectors), e.g.
 *   fota_state, data, 0x40, , 0x2000,
 * Flash and boot control are ports/esp32 (shared with the Arduino adapter):
 * writes only inside these three partitions and never in the running one.
 * Running from a factory partition, the port reports slot 1 (state
 * undefined) so that the update goes to ota_0.
 */
#ifndef FOTA_ESP_IDF_H
#define FOTA_ESP_IDF_H

#include <stddef.h>
#include <stdint.h>

#include "fota/fota.h"
#include "fota_esp32.h"
#include "sdkconfig.h"

#ifdef __cplusplus
extern "C" {
#endif

struct fota_esp_idf_options {
    const char *product;       /* must equal the manifest's product */
    const char *version;       /* running firmware, for logs */
    uint32_t version_code;     /* running firmware, compared with the manifest */
    const char *manifest_url;  /* NULL: CONFIG_FOTA_MANIFEST_URL */
    const uint8_t (*pubkeys)[FOTA_P256_PUBKEY_SIZE]; /* trusted manifest keys */
    size_t n_pubkeys;
    const char *ca_pem;        /* https: CA certificate (PEM); NULL: the IDF
                                * certificate bundle (CONFIG_FOTA_TLS_CRT_BUNDLE) */
    /* Runs once before the first flash erase of an update. Optional, and
     * rarely needed on ESP-IDF, which itself disables the cache and the
     * interrupts not marked IRAM-safe during each flash operation; whatever
     * it stops must be restarted if the update fails (event FOTA_EV_FAILED).
     * Non-zero aborts the update. */
    int (*pre_update)(void *ctx);
    void (*progress)(void *ctx, uint32_t done, uint32_t total); /* optional */
    /* Milestones (enum fota_event), e.g. to report status to a server. Optional. */
    void (*event)(void *ctx, int event, const struct fota *f);
    void *ctx;                 /* passed to pre_update, progress and event */
    uint8_t check_only;        /* report FOTA_UPDATE_AVAILABLE, do not download */
    /* Check-in (docs/fleet.md): the id a fleet server knows this device by;
     * NULL: the station MAC. Optional. */
    const char *device_id;
};

/* The transport's state: a plain lwIP socket or an esp-tls session. */
struct fota_esp_idf_net {
    int fd;
    void *tls;                 /* esp_tls_t * while a TLS session is open */
    const char *ca_pem;
    char detail[96];           /* resolver / socket / TLS detail of the last failure */
};

/* Everything the agent and the port need; the caller owns it (static). */
struct fota_esp_idf {
    struct fota agent;         /* use with the fota_* API (fota_confirm, ...) */
    struct fota_config cfg;
    struct fota_buffers buffers;
    struct fota_esp32 esp32;   /* flash and boot control (ports/esp32) */
    struct fota_transport transport;
    struct fota_esp_idf_net net;
    int (*user_pre_update)(void *ctx);
    void (*user_progress)(void *ctx, uint32_t done, uint32_t total);
    void (*user_event)(void *ctx, int event, const struct fota *f);
    void *user_ctx;
    char mac[13];
    uint8_t image_sha256[32];  /* running image, for the check-in */
    uint8_t rx[CONFIG_FOTA_RX_BUFFER_SIZE];
    char line[CONFIG_FOTA_LINE_BUFFER_SIZE];
    char url[CONFIG_FOTA_URL_BUFFER_SIZE];
    char manifest[CONFIG_FOTA_MANIFEST_BUFFER_SIZE];
#if CONFIG_FOTA_DELTA
    struct fota_delta delta;   /* patches and compressed images (docs/delta.md) */
    uint8_t delta_out[1024];
#endif
};

/* Find the partitions, fill in the port and start the agent (fota_init).
 * Returns 0 or a FOTA_ERR_* code; fota_last_message(&p->agent) or the log
 * says why. Call once the network interface is up or about to be. */
int fota_esp_idf_init(struct fota_esp_idf *p, const struct fota_esp_idf_options *o);

/* One check (and update unless check_only), with retries and backoff:
 * fota_run(). FOTA_UPDATE_READY means: reboot (esp_restart) to run it. */
int fota_esp_idf_check(struct fota_esp_idf *p);

/* A FreeRTOS task that calls fota_esp_idf_check() every
 * CONFIG_FOTA_CHECK_INTERVAL_S seconds (first after 10 s) and restarts the
 * chip when an update is ready. Returns 0 or FOTA_ERR_INVALID_ARG. */
int fota_esp_idf_start_task(struct fota_esp_idf *p);

/* The transport alone, for other uses: lwIP sockets, esp-tls for TLS.
 * connect() errors: FOTA_ERR_DNS, FOTA_ERR_CONNECT_REFUSED,
 * FOTA_ERR_CONNECT_TIMEOUT, FOTA_ERR_CONNECT, FOTA_ERR_TLS_*. */
void fota_esp_idf_net_init(struct fota_esp_idf_net *n, struct fota_transport *t,
                           const char *ca_pem);

#ifdef __cplusplus
}
#endif
#endif
