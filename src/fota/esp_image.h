/*
 * ESP firmware image headers (ESP8266 and the ESP32 family).
 *
 * Layout facts: ../shared/testdata/esp-images/README.md. The agent checks the
 * header on the first bytes of a download before anything is erased, so a
 * wrong-chip or non-ESP image never touches flash.
 */
#ifndef FOTA_ESP_IMAGE_H
#define FOTA_ESP_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "fota/crypto.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FOTA_ESP_IMAGE_MAGIC 0xE9
#define FOTA_ESP_HEADER_SIZE 24       /* ESP32 family: 8 + 16 extended */
#define FOTA_ESP8266_HEADER_SIZE 8
#define FOTA_ESP_APP_DESC_OFFSET 32   /* 24-byte header + 8-byte first segment header */
#define FOTA_ESP_APP_DESC_MAGIC 0xABCD5432u
#define FOTA_ESP_APP_DESC_SIZE 256
#define FOTA_ESP_MAX_SEGMENTS 16
#define FOTA_ESP8266_APP_OFFSET 0x1000 /* Arduino: eboot image, then the app */
/* Arduino ESP8266 core 2.7.0 on (tools/elf2bin.py, add_crc): the file's length
 * and a CRC-32 of the file sit in the first 8 data bytes of the sketch image's
 * first segment, written after the XOR checksum was computed over zeros. */
#define FOTA_ESP8266_CRC_LEN_OFFSET 0x1010
#define FOTA_ESP8266_CRC_VAL_OFFSET 0x1014

enum fota_image_format {
    FOTA_IMAGE_RAW = 0,     /* not an ESP image */
    FOTA_IMAGE_ESP32 = 1,   /* ESP32-family application or bootloader */
    FOTA_IMAGE_ESP8266 = 2, /* ESP8266 (8-byte header) */
};

struct fota_esp_header {
    int format;             /* enum fota_image_format */
    int chip;               /* enum fota_chip; FOTA_CHIP_ESP8266 for ESP8266 */
    uint16_t chip_id;       /* raw field at offset 12 (ESP32 family) */
    uint8_t segments;
    uint8_t spi_mode;
    uint8_t flash_size_freq;
    uint32_t entry;
    uint16_t min_chip_rev;  /* major*100+minor */
    uint16_t max_chip_rev;
    uint8_t hash_appended;
    /* Application descriptor (ESP32 family apps only) */
    uint8_t has_app_desc;
    uint32_t secure_version;
    char version[33];
    char project[33];
    char time[17];          /* build time "hh:mm:ss" (__TIME__), "" in reproducible builds */
    char date[17];          /* build date "Mmm dd yyyy" (__DATE__) */
    char idf_ver[33];
};

/* Parse the header (and app descriptor when len covers it) from the first
 * bytes of an image. Needs at least FOTA_ESP_HEADER_SIZE bytes for the ESP32
 * family, 8 for ESP8266. Returns 0 or FOTA_ERR_IMAGE_HEADER. */
int fota_esp_header_parse(const uint8_t *data, size_t len, struct fota_esp_header *out);

/* ESP32 chip_id field -> enum fota_chip; FOTA_CHIP_ANY if unknown. */
int fota_esp_chip_from_id(uint16_t chip_id);

/* Check that the first bytes of a download are an image the device can boot:
 * magic, segment count and, for the ESP32 family, the chip id. `expected_chip`
 * is the device's chip (FOTA_CHIP_ANY accepts raw images, for tests).
 * Returns 0, FOTA_ERR_IMAGE_HEADER or FOTA_ERR_IMAGE_CHIP; `out` (may be
 * NULL) is filled on success and on FOTA_ERR_IMAGE_CHIP (it names the chip
 * the image is for). */
int fota_esp_check_header(const uint8_t *data, size_t len, int expected_chip,
                          struct fota_esp_header *out);

/* Full structural check of a complete image in memory (tools and tests):
 * walks the segments, checks the XOR checksum and, when appended, the
 * SHA-256. Results in the flags; returns 0 if the walk succeeded. */
struct fota_esp_verify {
    uint32_t image_len;     /* bytes covered by segments + checksum (+ hash) */
    uint8_t checksum_ok;
    /* ESP8266 only: the checksum holds when the first 8 bytes of the first
     * segment (where elf2bin stores the flash length and CRC) read as zero. */
    uint8_t checksum_ok_crc_zeroed;
    uint8_t hash_ok;        /* only meaningful when hash_appended */
    uint32_t segment_addr[FOTA_ESP_MAX_SEGMENTS];
    uint32_t segment_len[FOTA_ESP_MAX_SEGMENTS];
};
int fota_esp_image_verify(const uint8_t *data, size_t len, const struct fota_crypto *crypto,
                          struct fota_esp_verify *out);

/* Why the first bytes are not an ESP image header: the field that fails and
 * its value, so a tool never calls a 0xE9 file "raw" without saying why. */
struct fota_esp_header_fault {
    const char *field;  /* e.g. "chip id (bytes 12-13)"; NULL when the header is valid */
    const char *rule;   /* what the field must be */
    uint32_t value;     /* the value found */
};
/* Returns 0 (valid header, field NULL) or FOTA_ERR_IMAGE_HEADER with *out set. */
int fota_esp_header_explain(const uint8_t *data, size_t len, struct fota_esp_header_fault *out);

/* CRC-32 as the ESP8266 Arduino core's eboot and elf2bin compute it:
 * polynomial 0x04C11DB7, MSB first, no reflection, no final XOR; start
 * with 0xFFFFFFFF. */
uint32_t fota_esp8266_crc(uint32_t crc, const uint8_t *data, size_t len);

/* An Arduino ESP8266 .bin: the eboot image, 0xAA padding to 0x1000, the
 * sketch image, and from core 2.7.0 on the flash length and CRC. */
struct fota_esp8266_bin {
    struct fota_esp_verify eboot, sketch;
    uint8_t has_crc;        /* the elf2bin CRC layout (length and CRC stored) */
    uint8_t checksum_ok;    /* the sketch's XOR checksum, over zeros if has_crc */
    uint8_t crc_ok;         /* has_crc: the stored CRC matches */
    uint8_t length_ok;      /* has_crc: the stored length is where the image ends */
    uint32_t stored_len, stored_crc, computed_crc;
    uint32_t file_len;      /* 0x1000 + the sketch image's length */
};
/* Check an Arduino ESP8266 .bin held in memory (a file, or a flash slot
 * whose image is followed by other bytes). The layout is the CRC one when
 * the stored length is where the image ends or the stored CRC matches; an
 * image from before core 2.7.0 has code there, which does neither. Returns 0 with the findings in *out, FOTA_ERR_IMAGE_HEADER when
 * the file is not eboot + sketch, FOTA_ERR_IMAGE_SIZE when truncated. */
int fota_esp8266_bin_check(const uint8_t *data, size_t len, struct fota_esp8266_bin *out);

#ifdef __cplusplus
}
#endif
#endif
