/* Small helpers shared by the fota subcommands. */
#ifndef FOTA_TOOLS_UTIL_H
#define FOTA_TOOLS_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "fota/esp_image.h"

/* Read a whole file into a malloc'd buffer (NUL-terminated for text use).
 * Returns NULL and prints "fota: cannot read PATH: reason" on failure. */
uint8_t *util_read_file(const char *path, size_t *len);
/* Write a file atomically (temp + fsync + rename). Returns 0 or -1 with a message. */
int util_write_file(const char *path, const void *data, size_t len);
/* The same with the file's permission bits (e.g. 0600 for a private key). */
int util_write_file_mode(const char *path, const void *data, size_t len, unsigned mode);
/* Lower-case hex of data into out (2*len+1 bytes). */
void util_hex(const uint8_t *data, size_t len, char *out);
/* The value of one hex digit (either case), or -1. */
int util_hex_value(char c);

/* 1 when something exists at path (file, directory, dangling link). */
int util_exists(const char *path);
/* mkdir -p; returns 0 or -1 with a message naming the directory. */
int util_mkdirs(const char *path);
/* Strict decimal u32 ("0".."4294967295", digits only). Returns 0 or -1. */
int util_parse_u32(const char *s, uint32_t *out);

/* What a firmware file holds: one ESP image, or for an Arduino ESP8266 .bin
 * the eboot loader image and the sketch's image at FOTA_ESP8266_APP_OFFSET. */
enum util_image_kind {
    UTIL_IMAGE_RAW = 0,         /* not an ESP image */
    UTIL_IMAGE_ESP32_APP,       /* ESP32 family, with an app descriptor */
    UTIL_IMAGE_ESP32_OTHER,     /* ESP32 family without one: bootloader or RAM-loaded */
    UTIL_IMAGE_ESP8266,         /* one ESP8266 image */
    UTIL_IMAGE_ESP8266_ARDUINO, /* eboot image + sketch image at 0x1000 */
};

struct util_image_part {
    size_t offset;                /* of the image in the file */
    struct fota_esp_header hdr;
    struct fota_esp_verify ver;
    int verify_err;               /* 0, or the FOTA_ERR_* of fota_esp_image_verify */
};

struct util_image {
    int kind;                     /* enum util_image_kind */
    size_t n_parts;               /* 0 (raw), 1 or 2 */
    struct util_image_part part[2];
    uint8_t file_sha256[32];      /* of the whole file: what a manifest signs */
    struct fota_esp8266_bin bin;  /* UTIL_IMAGE_ESP8266_ARDUINO: checksum, flash CRC */
};

/* Examine a firmware file in memory. Never fails: malformed images come back
 * with verify_err set in their part. */
void util_image_examine(const uint8_t *data, size_t len, struct util_image *out);
/* "ESP32-family application", "ESP8266 (Arduino: eboot + sketch)", ... */
const char *util_image_kind_name(int kind);
/* The structural verdict over all parts: 0 valid, 1 checksum, hash or flash
 * CRC wrong, 2 truncated or malformed; *why names every check that failed. */
int util_image_verdict(const struct util_image *img, const char **why);

#endif
