/*
 * fota example: check for a signed update every CONFIG_FOTA_CHECK_INTERVAL_S
 * seconds while an interrupt counts button presses and a timer blinks an LED
 * (pins per target: main/Kconfig.projbuild), and confirm an unconfirmed image
 * only after a health check (with rollback, the bootloader rolls it back on
 * the next reset otherwise). Partition table: partitions.csv.
 */
#include <stdio.h>
#include <string.h>

#include "driver/gpio.h"
#include "esp_app_desc.h"
#include "esp_event.h"
#include "esp_log.h"
#include "esp_netif.h"
#include "esp_system.h"
#include "esp_timer.h"
#include "fota-signing.pub.h" /* ships as a demo key: fota keygen -o main/fota-signing */
#include "fota_esp_idf.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "nvs_flash.h"
#include "protocol_examples_common.h"

#define BUTTON_GPIO CONFIG_EXAMPLE_BUTTON_GPIO /* -1: none */
#define LED_GPIO CONFIG_EXAMPLE_LED_GPIO       /* -1: none */
#define HEALTH_DEADLINE_S 60

static const char *TAG = "app";
static struct fota_esp_idf fota;
static esp_timer_handle_t blink_timer;
static volatile uint32_t button_presses;

static void IRAM_ATTR button_isr(void *arg)
{
    (void)arg;
    button_presses++;
}

static void blink(void *arg)
{
    static int on;
    (void)arg;
    gpio_set_level(LED_GPIO, on ^= 1);
}

/* Nothing here is stopped for an update: ESP-IDF itself disables the cache
 * and every interrupt not marked IRAM-safe during each flash operation, and
 * the handler above is IRAM_ATTR (gpio_install_isr_service(ESP_INTR_FLAG_IRAM)),
 * so no pre-update hook is needed, and none can leave the device without its
 * interrupts when an update fails. */
static void start_peripherals(void)
{
    if (LED_GPIO >= 0) {
        gpio_reset_pin(LED_GPIO);
        gpio_set_direction(LED_GPIO, GPIO_MODE_OUTPUT);
        const esp_timer_create_args_t args = {.callback = blink, .name = "blink"};
        esp_timer_create(&args, &blink_timer);
        esp_timer_start_periodic(blink_timer, 500 * 1000);
    }
    if (BUTTON_GPIO >= 0) {
        gpio_config_t button = {
            .pin_bit_mask = 1ULL << BUTTON_GPIO,
            .mode = GPIO_MODE_INPUT,
            .pull_up_en = GPIO_PULLUP_ENABLE,
            .intr_type = GPIO_INTR_NEGEDGE,
        };
        gpio_config(&button);
        gpio_install_isr_service(ESP_INTR_FLAG_IRAM);
        gpio_isr_handler_add(BUTTON_GPIO, button_isr, NULL);
    }
}

static void progress(void *ctx, uint32_t done, uint32_t total)
{
    (void)ctx;
    ESP_LOGI(TAG, "update: %u of %u bytes", (unsigned)done, (unsigned)total);
}

/* What "healthy" means is the application's call: here the network came up
 * and the main loop runs. A real product also checks its sensors, its cloud
 * connection, ... */
static bool healthy(void)
{
    esp_netif_t *netif = esp_netif_get_default_netif();
    esp_netif_ip_info_t ip;
    return netif && esp_netif_get_ip_info(netif, &ip) == ESP_OK && ip.ip.addr != 0;
}

void app_main(void)
{
#ifdef FOTA_DEMO_PUBKEY
    ESP_LOGW(TAG, "built with the DEMO public key (main/fota-signing.pub.h): no update can be "
                  "signed for it; run `fota keygen -o main/fota-signing` in the example folder");
#endif
    esp_err_t e = nvs_flash_init();
    if (e == ESP_ERR_NVS_NO_FREE_PAGES || e == ESP_ERR_NVS_NEW_VERSION_FOUND) {
        ESP_ERROR_CHECK(nvs_flash_erase());
        e = nvs_flash_init();
    }
    ESP_ERROR_CHECK(e);
    ESP_ERROR_CHECK(esp_netif_init());
    ESP_ERROR_CHECK(esp_event_loop_create_default());
    start_peripherals();

    const esp_app_desc_t *app = esp_app_get_description();
    /* The version and its code come from the app descriptor, by the rule
     * fota release applies to the same image (a numeric version, else the
     * build time); the port also hashes the running image, so a manifest
     * for it is never installed again whatever git describe printed. */
    struct fota_esp_idf_options options = {
        .product = "demo-board",
        .pubkeys = &fota_pubkey,
        .n_pubkeys = 1,
        .progress = progress,
    };
    if (fota_esp_idf_init(&fota, &options) != 0)
        ESP_LOGE(TAG, "fota disabled: %s", fota_last_message(&fota.agent));

    /* Network up (WiFi or Ethernet as set in menuconfig "Example Connection"). */
    e = example_connect();

    /* Not confirmed yet: PENDING_VERIFY with rollback; NEW when the
     * bootloader was built without rollback; UNDEFINED with rollback off or
     * from a factory app. Each needs the confirm, which also raises the
     * anti-rollback floor (and is a no-op once the image is VALID). */
    int state = fota.agent.cfg ? fota_running_state(&fota.agent) : FOTA_IMG_VALID;
    if (state != FOTA_IMG_VALID) {
        ESP_LOGI(TAG, "version %s is not confirmed yet: health check", app->version);
        bool ok = false;
        for (int i = 0; i < HEALTH_DEADLINE_S && !ok; i++) {
            ok = e == ESP_OK && healthy();
            if (!ok)
                vTaskDelay(pdMS_TO_TICKS(1000));
        }
        if (!ok && state == FOTA_IMG_PENDING_VERIFY) {
            ESP_LOGE(TAG, "health check failed: rolling back");
            if (fota_rollback(&fota.agent) == 0)
                esp_restart();
            ESP_LOGE(TAG, "rollback failed: %s", fota_last_message(&fota.agent));
        }
        if (!ok) {
            /* no rollback in this configuration: keep running unconfirmed,
             * so the floor does not rise to this version's counter */
            ESP_LOGE(TAG, "health check failed; this configuration cannot roll back");
        } else if (fota_confirm(&fota.agent) != 0)
            ESP_LOGE(TAG, "confirm failed: %s", fota_last_message(&fota.agent));
        else
            ESP_LOGI(TAG, "version %s confirmed", app->version);
    }

    if (fota.agent.cfg)
        fota_esp_idf_start_task(&fota);

    for (;;) {
        ESP_LOGI(TAG, "running %s, button pressed %u times", app->version,
                 (unsigned)button_presses);
        vTaskDelay(pdMS_TO_TICKS(10000));
    }
}
