/*
 * ESP32 port for the Arduino core: the flash and boot control of
 * ports/esp32 (the OTA partitions app0/app1 and ESP-IDF's rollback states,
 * shared with the ESP-IDF component), the rollback hook of the core and the
 * station MAC. The agent's state needs a data partition "fota_state" of two
 * sectors in the sketch's partitions.csv; without it begin() fails and names
 * the line to add.
 */
#if defined(ARDUINO_ARCH_ESP32)

#include <Arduino.h>
#include <esp_mac.h>

#include "Fota.h"
#include "fota_esp32.h"

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
struct fota_esp32 port;
} // namespace

int fota_arduino_platform_init(struct fota_arduino_platform *out, char *detail, size_t size)
{
    int r = fota_esp32_init(&port, "fota_state");
    if (r < 0) {
        snprintf(detail, size, "fota: %s", port.detail);
        return r;
    }
    out->flash = &port.flash;
    out->boot = &port.boot;
    out->crypto = &fota_crypto_mbedtls;
    out->chip = fota_esp32_chip();
    out->state_addr = port.state_addr;
    out->state_size = port.state_size;
    return 0;
}

int fota_arduino_data_partition(const char *label, char *detail, size_t size)
{
    int r = fota_esp32_data(&port, label);
    if (r < 0)
        snprintf(detail, size, "fota: %s", port.detail);
    return r;
}

void fota_arduino_station_mac(uint8_t mac[6])
{
    esp_read_mac(mac, ESP_MAC_WIFI_STA);
}

int fota_arduino_running_image(uint32_t *addr, uint32_t *len)
{
    return fota_esp32_running_image(&port, addr, len);
}

#endif
