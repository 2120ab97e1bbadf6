/*
 * The real agent on the ESP32 port (ports/esp32) and the fake ESP-IDF, fed
 * by an in-memory HTTP server: what a device does when the chip refuses the
 * verified image (issue 16, finding 6), and that the floor rises when an
 * image that booted as UNDEFINED (rollback off) is confirmed (finding 8).
 */
#include <stdio.h>
#include <string.h>

#include "fake_esp_idf.h"
#include "fota/fota.h"
#include "fota_esp32.h"
#include "freertos/task.h"
#include "harness.h"
#include "keys.h"
#include "test_image.h"

extern const struct fota_crypto fota_crypto_mbedtls;

TickType_t fake_tick_rate_hz = 100;
uint64_t fake_ticks_slept;

void vTaskDelay(const TickType_t ticks)
{
    fake_ticks_slept += ticks;
}

/* ---- A server in memory: one response per request, then the connection
 * closes (Connection: close). ---------------------------------------------- */

static char manifest[1024];
static size_t manifest_len;
static uint8_t image[8192];
static size_t image_len;
static char response[sizeof image + 512];
static size_t response_len, response_pos;
static int manifest_requests, image_requests;
static uint32_t clock_ms;

static int srv_connect(void *ctx, const char *host, uint16_t port, int tls, uint32_t timeout_ms)
{
    (void)ctx, (void)host, (void)port, (void)tls, (void)timeout_ms;
    response_len = response_pos = 0;
    return 0;
}

static void respond(const char *type, const void *body, size_t len)
{
    int n = snprintf(response, sizeof response,
                     "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %u\r\n"
                     "Connection: close\r\n\r\n",
                     type, (unsigned)len);
    memcpy(response + n, body, len);
    response_len = (size_t)n + len;
    response_pos = 0;
}

static int srv_send(void *ctx, const uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    (void)ctx, (void)timeout_ms;
    char request_line[128];
    size_t n = len < sizeof request_line - 1 ? len : sizeof request_line - 1;
    memcpy(request_line, buf, n);
    request_line[n] = '\0';
    if (strncmp(request_line, "GET ", 4) == 0) {
        if (strstr(request_line, "/manifest ")) {
            manifest_requests++;
            respond("text/plain", manifest, manifest_len);
        } else {
            image_requests++;
            respond("application/octet-stream", image, image_len);
        }
    }
    return (int)len;
}

static int srv_recv(void *ctx, uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    (void)ctx, (void)timeout_ms;
    size_t left = response_len - response_pos;
    if (left == 0)
        return 0; /* closed */
    size_t n = left < len ? left : len;
    memcpy(buf, response + response_pos, n);
    response_pos += n;
    return (int)n;
}

static void srv_close(void *ctx)
{
    (void)ctx;
}

static const struct fota_transport server = {
    .name = "memory",
    .connect = srv_connect,
    .send = srv_send,
    .recv = srv_recv,
    .close = srv_close,
};

/* ---- A release: an image and its signed manifest ------------------------------ */

static struct tool_key key;
static uint8_t pubkeys[1][FOTA_P256_PUBKEY_SIZE];

static void hex(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static void release(const char *version, uint32_t code, uint32_t security, uint32_t seq)
{
    image_len = test_image_build(image, sizeof image, 5, version, "agent", security, 2000, seq,
                                 &fota_crypto_mbedtls);
    uint8_t h[32], sig[FOTA_P256_SIG_SIZE];
    char h_hex[65], sig_hex[2 * FOTA_P256_SIG_SIZE + 1];
    fota_sha256_digest(&fota_crypto_mbedtls, image, image_len, h);
    hex(h, 32, h_hex);
    int n = snprintf(manifest, sizeof manifest,
                     "fota-manifest: 1\nproduct: board\nchip: esp32c3\nversion: %s\n"
                     "version-code: %u\nsecurity-counter: %u\nsequence: %u\nsize: %u\n"
                     "sha256: %s\nurl: fw.bin\nkey-id: %s\n",
                     version, (unsigned)code, (unsigned)security, (unsigned)seq,
                     (unsigned)image_len, h_hex, key.id_hex);
    fota_sha256_digest(&fota_crypto_mbedtls, manifest, (size_t)n, h);
    CHECK_EQ_INT(keys_sign(&key, h, sig), 0);
    hex(sig, sizeof sig, sig_hex);
    manifest_len = (size_t)n + (size_t)snprintf(manifest + n, sizeof manifest - (size_t)n,
                                                "signature: %s\n", sig_hex);
}

/* ---- The device ----------------------------------------------------------------- */

static struct fota_esp32 port;
static struct fota agent;
static struct fota_config cfg;
static uint8_t rx[2048];
static char line[512], url[256], mbuf[1024];

static uint32_t now_ms(void *ctx)
{
    (void)ctx;
    return clock_ms;
}

static void delay_ms(void *ctx, uint32_t ms)
{
    (void)ctx;
    clock_ms += ms;
}

/* Power on and start the agent, as the running version says. */
static void boot(uint32_t running_code)
{
    CHECK(fake_esp_idf_power_on() != NULL);
    CHECK_EQ_INT(fota_esp32_init(&port, "fota_state"), 0);
    cfg = (struct fota_config){
        .product = "board",
        .chip = fota_esp32_chip(),
        .version_code = running_code,
        .version = "running",
        .manifest_url = "http://updates.test/board/manifest",
        .pubkeys = (const uint8_t(*)[FOTA_P256_PUBKEY_SIZE])pubkeys,
        .n_pubkeys = 1,
        .flash = &port.flash,
        .boot = &port.boot,
        .transports = {&server},
        .n_transports = 1,
        .crypto = &fota_crypto_mbedtls,
        .state_addr = port.state_addr,
        .state_size = port.state_size,
        .now_ms = now_ms,
        .delay_ms = delay_ms,
        .max_attempts = 2,
    };
    struct fota_buffers b = {.rx = rx, .rx_size = sizeof rx, .line = line, .line_size = sizeof line,
                             .url = url, .url_size = sizeof url, .manifest = mbuf,
                             .manifest_size = sizeof mbuf};
    CHECK_EQ_INT(fota_init(&agent, &cfg, &b), 0);
}

static void fresh_device(int app_rollback, int anti_rollback, uint32_t efuse)
{
    struct fake_esp_idf_config c = {.app_rollback = app_rollback,
                                    .bootloader_rollback = 1,
                                    .anti_rollback = anti_rollback,
                                    .efuse_secure_version = efuse};
    fake_esp_idf_reset(&c);
    size_t n = test_image_build(image, sizeof image, 5, "1.0.0", "agent", efuse, 100, 1,
                                &fota_crypto_mbedtls);
    fake_esp_idf_program("ota_0", image, n);
    manifest_requests = image_requests = 0;
}

static void test_refused_image_is_rejected_not_retried(void)
{
    fresh_device(1, 1, 2);
    boot(1000000);
    release("2.0.0", 2000000, 1, 1); /* secure_version 1 < eFuse 2 */
    int r = fota_run(&agent);
    CHECK_EQ_INT(r, FOTA_ERR_IMAGE_REJECTED);
    CHECK(strstr(fota_last_message(&agent), "refused to boot 2.0.0") != NULL);
    CHECK_EQ_INT(image_requests, 1);
    const struct fota_persist *p = fota_persist_state(&agent);
    CHECK_EQ_INT(p->rejected_version, 2000000);
    CHECK_EQ_INT(p->pending_version, 0);
    CHECK_EQ_INT(p->dl_size, 0); /* not kept as complete and pending */
    /* the next check, and the next after a reset, do not download it again */
    CHECK_EQ_INT(fota_run(&agent), FOTA_ERR_REJECTED_VERSION);
    boot(1000000);
    CHECK_EQ_INT(fota_run(&agent), FOTA_ERR_REJECTED_VERSION);
    CHECK_EQ_INT(image_requests, 1);
    CHECK_EQ_STR(fake_esp_idf_power_on(), "ota_0");
    /* a fixed release goes through */
    release("2.0.1", 2000100, 2, 2);
    CHECK_EQ_INT(fota_run(&agent), FOTA_UPDATE_READY);
    CHECK_EQ_STR(fake_esp_idf_power_on(), "ota_1");
}

static void test_undefined_image_confirm_raises_floor(void)
{
    fresh_device(0, 0, 0); /* CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE off */
    boot(1000000);
    release("2.0.0", 2000000, 3, 1);
    CHECK_EQ_INT(fota_run(&agent), FOTA_UPDATE_READY);
    boot(2000000);
    CHECK_EQ_INT(fota_running_state(&agent), FOTA_IMG_UNDEFINED);
    CHECK_EQ_INT(fota_confirm(&agent), 0);
    CHECK_EQ_INT(fota_persist_state(&agent)->security_floor, 3);
    CHECK_EQ_INT(fota_persist_state(&agent)->pending_version, 0);
    boot(2000000);
    CHECK_EQ_INT(fota_running_state(&agent), FOTA_IMG_VALID);
}

static const struct test_case tests[] = {
    TEST(test_refused_image_is_rejected_not_retried),
    TEST(test_undefined_image_confirm_raises_floor),
};

int main(void)
{
    if (keys_generate(&key) != 0) {
        printf("keys_generate failed\n");
        return 1;
    }
    memcpy(pubkeys[0], key.pub, sizeof pubkeys[0]);
    int r = test_main("esp32_agent", tests, TEST_COUNT(tests));
    keys_free(&key);
    return r;
}
