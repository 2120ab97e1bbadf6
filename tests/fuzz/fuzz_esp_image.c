/*
 * libFuzzer target: ESP image headers and structure (src/esp_image.c), with
 * the mbedTLS crypto backend for the appended SHA-256.
 *
 * Checks: parse results are self-consistent (format, chip, segment count,
 * NUL-terminated descriptor strings); check_header agrees with parse for
 * every chip it recognised; verify never reports an image longer than the input, and its
 * segment table stays within the segment count.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fota/crypto.h"
#include "fota/error.h"
#include "fota/esp_image.h"
#include "fota/manifest.h"
#include "fota_crypto_backends.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c)                                                                         \
    do {                                                                                   \
        if (!(c))                                                                          \
            abort();                                                                       \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fota_esp_header h, c;
    struct fota_esp_verify v;
    int r, parsed, chip;

    r = fota_esp_header_parse(data, size, &h);
    REQUIRE(r == 0 || r == FOTA_ERR_IMAGE_HEADER);
    parsed = r == 0;
    if (parsed) {
        REQUIRE(size >= FOTA_ESP8266_HEADER_SIZE && data[0] == FOTA_ESP_IMAGE_MAGIC);
        REQUIRE(h.format == FOTA_IMAGE_ESP32 || h.format == FOTA_IMAGE_ESP8266);
        REQUIRE(h.segments >= 1 && h.segments <= FOTA_ESP_MAX_SEGMENTS);
        REQUIRE(h.chip >= FOTA_CHIP_ANY && h.chip < FOTA_CHIP_COUNT);
        if (h.format == FOTA_IMAGE_ESP32) {
            REQUIRE(size >= FOTA_ESP_HEADER_SIZE);
            REQUIRE(h.chip == fota_esp_chip_from_id(h.chip_id));
        } else {
            REQUIRE(h.chip == FOTA_CHIP_ESP8266 && !h.has_app_desc);
        }
        REQUIRE(memchr(h.version, 0, sizeof h.version) != NULL);
        REQUIRE(memchr(h.project, 0, sizeof h.project) != NULL);
        REQUIRE(memchr(h.idf_ver, 0, sizeof h.idf_ver) != NULL);
        if (h.has_app_desc)
            REQUIRE(size >= FOTA_ESP_APP_DESC_OFFSET + FOTA_ESP_APP_DESC_SIZE);
    }

    for (chip = FOTA_CHIP_ANY; chip < FOTA_CHIP_COUNT; chip++) {
        r = fota_esp_check_header(data, size, chip, &c);
        REQUIRE(r == 0 || r == FOTA_ERR_IMAGE_HEADER || r == FOTA_ERR_IMAGE_CHIP);
        /* the device's own chip accepts the image parse recognised as that chip */
        if (parsed && chip != FOTA_CHIP_ANY && h.chip == chip)
            REQUIRE(r == 0);
        if (r == 0 && chip != FOTA_CHIP_ANY)
            REQUIRE(c.chip == chip && c.segments >= 1);
        if (chip == FOTA_CHIP_ANY)
            REQUIRE(r == 0 && (parsed || c.format == FOTA_IMAGE_RAW));
    }

    r = fota_esp_image_verify(data, size, &fota_crypto_mbedtls, &v);
    if (r == 0) {
        REQUIRE(parsed);
        REQUIRE(v.image_len <= size && v.image_len >= 16);
        REQUIRE(v.checksum_ok <= 1 && v.hash_ok <= 1);
        for (unsigned s = h.segments; s < FOTA_ESP_MAX_SEGMENTS; s++)
            REQUIRE(v.segment_addr[s] == 0 && v.segment_len[s] == 0);
    } else {
        REQUIRE(r == FOTA_ERR_IMAGE_HEADER || r == FOTA_ERR_IMAGE_SIZE);
    }
    return 0;
}
