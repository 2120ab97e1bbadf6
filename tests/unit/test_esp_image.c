/*
 * ESP image headers, app descriptor, checksum and appended hash
 * (src/esp_image.c): the real images of ../shared/testdata/esp-images checked
 * against the facts in its README, and synthetic images built here for the
 * edge cases. No heap; the real images are read with stdio into a static
 * buffer, and their tests are skipped when the folder is absent.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fota/crypto.h"
#include "fota/error.h"
#include "fota/esp_image.h"
#include "fota/manifest.h"
#include "harness.h"
#include "fota_crypto_backends.h"

#ifndef FOTA_TEST_CRYPTO
#define FOTA_TEST_CRYPTO fota_crypto_mbedtls
#endif
static const struct fota_crypto *const crypto = &FOTA_TEST_CRYPTO;

#ifndef FOTA_TESTDATA_DIR
#define FOTA_TESTDATA_DIR "../shared/testdata/esp-images"
#endif

static uint8_t file_buf[512 * 1024];

/* Read a test image; 0 bytes (and a note, once) when the data is absent. */
static size_t load(const char *name)
{
    static int warned;
    char path[512];
    size_t n;
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", FOTA_TESTDATA_DIR, name);
    f = fopen(path, "rb");
    if (!f) {
        if (!warned)
            printf("skipped: shared test data not present (%s)\n", FOTA_TESTDATA_DIR);
        warned = 1;
        return 0;
    }
    n = fread(file_buf, 1, sizeof file_buf, f);
    fclose(f);
    return n;
}

/* ---- Real images ------------------------------------------------------ */

static void test_blink_esp32s2(void)
{
    struct fota_esp_header h;
    struct fota_esp_verify v;
    size_t len = load("esp_idf_blink_esp32s2.bin");
    if (!len)
        return;
    CHECK_EQ_INT(len, 182368);
    CHECK_EQ_INT(fota_esp_header_parse(file_buf, len, &h), 0);
    CHECK_EQ_INT(h.format, FOTA_IMAGE_ESP32);
    CHECK_EQ_INT(h.chip, FOTA_CHIP_ESP32S2);
    CHECK_EQ_INT(h.chip_id, 2);
    CHECK_EQ_INT(h.segments, 6);
    CHECK_EQ_INT(h.spi_mode, 2);
    CHECK_EQ_INT(h.flash_size_freq, 0x1F);
    CHECK_EQ_INT(h.entry, 0x40022F84);
    CHECK_EQ_INT(h.hash_appended, 1);
    CHECK_EQ_INT(h.has_app_desc, 1);
    CHECK_EQ_INT(h.secure_version, 0);
    CHECK_EQ_STR(h.version, "qa-test-v5.0-20220830-4-g4532e6");
    CHECK_EQ_STR(h.project, "blink");
    CHECK(strncmp(h.idf_ver, "v5.0-beta1-427-g4532e6e0b2", 26) == 0);

    CHECK_EQ_INT(fota_esp_image_verify(file_buf, len, crypto, &v), 0);
    CHECK_EQ_INT(v.image_len, 182368);
    CHECK_EQ_INT(v.checksum_ok, 1);
    CHECK_EQ_INT(v.hash_ok, 1);
    CHECK_EQ_INT(v.segment_addr[0], 0x3F000020);
    CHECK_EQ_INT(v.segment_len[0], 35864);
    CHECK_EQ_INT(v.segment_addr[5], 0x50000000);
    CHECK_EQ_INT(v.segment_len[5], 16);

    /* The device check: right chip only; the descriptor once 288 bytes are in */
    CHECK_EQ_INT(fota_esp_check_header(file_buf, len, FOTA_CHIP_ESP32S2, &h), 0);
    CHECK_EQ_INT(fota_esp_check_header(file_buf, len, FOTA_CHIP_ESP32, &h), FOTA_ERR_IMAGE_CHIP);
    CHECK_EQ_INT(h.chip, FOTA_CHIP_ESP32S2); /* a refusal names the image's chip */
    CHECK_EQ_INT(fota_esp_check_header(file_buf, len, FOTA_CHIP_ESP32S3, NULL),
                 FOTA_ERR_IMAGE_CHIP);
    CHECK_EQ_INT(fota_esp_check_header(file_buf, 24, FOTA_CHIP_ESP32S2, &h), 0);
    CHECK_EQ_INT(h.has_app_desc, 0);
    CHECK_EQ_INT(fota_esp_check_header(file_buf, 287, FOTA_CHIP_ESP32S2, &h), 0);
    CHECK_EQ_INT(h.has_app_desc, 0);
    CHECK_EQ_INT(fota_esp_check_header(file_buf, 288, FOTA_CHIP_ESP32S2, &h), 0);
    CHECK_EQ_INT(h.has_app_desc, 1);
    CHECK_EQ_STR(h.project, "blink");
    CHECK_EQ_INT(fota_esp_check_header(file_buf, 23, FOTA_CHIP_ESP32S2, &h), FOTA_ERR_IMAGE_HEADER);

    /* One changed byte in a segment: checksum and hash both notice */
    file_buf[1000] ^= 0x55;
    CHECK_EQ_INT(fota_esp_image_verify(file_buf, len, crypto, &v), 0);
    CHECK_EQ_INT(v.checksum_ok, 0);
    CHECK_EQ_INT(v.hash_ok, 0);
    /* Truncated by one byte: the appended hash is incomplete */
    CHECK_EQ_INT(fota_esp_image_verify(file_buf, len - 1, crypto, &v), FOTA_ERR_IMAGE_SIZE);
}

static void test_helloworld_esp32(void)
{
    struct fota_esp_header h;
    struct fota_esp_verify v;
    size_t len = load("helloworld-esp32.bin");
    if (!len)
        return;
    CHECK_EQ_INT(len, 128);
    CHECK_EQ_INT(fota_esp_header_parse(file_buf, len, &h), 0);
    CHECK_EQ_INT(h.format, FOTA_IMAGE_ESP32);
    CHECK_EQ_INT(h.chip, FOTA_CHIP_ESP32);
    CHECK_EQ_INT(h.chip_id, 0);
    CHECK_EQ_INT(h.segments, 2);
    CHECK_EQ_INT(h.entry, 0x4008C008);
    CHECK_EQ_INT(h.hash_appended, 1);
    CHECK_EQ_INT(h.has_app_desc, 0);
    CHECK_EQ_INT(fota_esp_image_verify(file_buf, len, crypto, &v), 0);
    CHECK_EQ_INT(v.image_len, 128);
    CHECK_EQ_INT(v.checksum_ok, 1);
    CHECK_EQ_INT(v.hash_ok, 1);
    CHECK_EQ_INT(v.segment_addr[0], 0x3FFC0000);
    CHECK_EQ_INT(v.segment_len[0], 16);
    CHECK_EQ_INT(v.segment_addr[1], 0x4008C000);
    CHECK_EQ_INT(v.segment_len[1], 24);
    CHECK_EQ_INT(fota_esp_check_header(file_buf, len, FOTA_CHIP_ESP32, &h), 0);
    CHECK_EQ_INT(fota_esp_check_header(file_buf, len, FOTA_CHIP_ESP32S2, &h), FOTA_ERR_IMAGE_CHIP);
    /* The hash covers the checksum byte too */
    file_buf[95] ^= 1;
    CHECK_EQ_INT(fota_esp_image_verify(file_buf, len, crypto, &v), 0);
    CHECK_EQ_INT(v.checksum_ok, 0);
    CHECK_EQ_INT(v.hash_ok, 0);
    file_buf[95] ^= 1;
    file_buf[127] ^= 1; /* now the stored hash itself */
    CHECK_EQ_INT(fota_esp_image_verify(file_buf, len, crypto, &v), 0);
    CHECK_EQ_INT(v.checksum_ok, 1);
    CHECK_EQ_INT(v.hash_ok, 0);
}

static void test_bootloader_esp32(void)
{
    struct fota_esp_header h;
    struct fota_esp_verify v;
    size_t len = load("bootloader_esp32.bin");
    if (!len)
        return;
    CHECK_EQ_INT(len, 7888);
    CHECK_EQ_INT(fota_esp_header_parse(file_buf, len, &h), 0);
    CHECK_EQ_INT(h.format, FOTA_IMAGE_ESP32);
    CHECK_EQ_INT(h.chip, FOTA_CHIP_ESP32);
    CHECK_EQ_INT(h.segments, 4);
    CHECK_EQ_INT(h.hash_appended, 0);
    CHECK_EQ_INT(h.has_app_desc, 0);
    CHECK_EQ_INT(fota_esp_image_verify(file_buf, len, crypto, &v), 0);
    CHECK_EQ_INT(v.image_len, 7888);
    CHECK_EQ_INT(v.checksum_ok, 1);
    CHECK_EQ_INT(v.hash_ok, 0); /* nothing appended */
    int zero_len = 0;
    for (int i = 0; i < 4; i++)
        zero_len += v.segment_len[i] == 0;
    CHECK_EQ_INT(zero_len, 1);
}

static void test_esp8266_arduino(void)
{
    struct fota_esp_header h;
    struct fota_esp_verify v;
    size_t len = load("esp8266_deepsleep.bin");
    if (!len)
        return;
    CHECK_EQ_INT(len, 297632);
    /* eboot first */
    CHECK_EQ_INT(fota_esp_header_parse(file_buf, len, &h), 0);
    CHECK_EQ_INT(h.format, FOTA_IMAGE_ESP8266);
    CHECK_EQ_INT(h.chip, FOTA_CHIP_ESP8266);
    CHECK_EQ_INT(h.segments, 1);
    CHECK_EQ_INT(h.entry, 0x4010F29C);
    CHECK_EQ_INT(h.has_app_desc, 0);
    CHECK_EQ_INT(fota_esp_image_verify(file_buf, len, crypto, &v), 0);
    CHECK_EQ_INT(v.segment_len[0], 1384);
    CHECK_EQ_INT(v.checksum_ok, 1);
    CHECK(v.image_len <= FOTA_ESP8266_APP_OFFSET);
    for (size_t i = v.image_len; i < FOTA_ESP8266_APP_OFFSET; i++)
        if (file_buf[i] != 0xAA) {
            CHECK(file_buf[i] == 0xAA);
            break;
        }

    /* the sketch's image at 0x1000 */
    const uint8_t *app = file_buf + FOTA_ESP8266_APP_OFFSET;
    size_t app_len = len - FOTA_ESP8266_APP_OFFSET;
    CHECK_EQ_INT(fota_esp_header_parse(app, app_len, &h), 0);
    CHECK_EQ_INT(h.format, FOTA_IMAGE_ESP8266);
    CHECK_EQ_INT(h.segments, 4);
    CHECK_EQ_INT(h.flash_size_freq, 0x40);
    CHECK_EQ_INT(fota_esp_image_verify(app, app_len, crypto, &v), 0);
    CHECK_EQ_INT(v.checksum_ok, 1);
    CHECK_EQ_INT(v.image_len, app_len);
    CHECK_EQ_INT(v.segment_addr[0], 0x40201010);

    /* An ESP8266 device reads no chip id; an ESP32 device refuses the image */
    CHECK_EQ_INT(fota_esp_check_header(file_buf, len, FOTA_CHIP_ESP8266, &h), 0);
    CHECK_EQ_INT(h.format, FOTA_IMAGE_ESP8266);
    CHECK_EQ_INT(h.chip_id, 0);
    CHECK_EQ_INT(fota_esp_check_header(file_buf, 8, FOTA_CHIP_ESP8266, &h), 0);
    CHECK_EQ_INT(fota_esp_check_header(file_buf, 7, FOTA_CHIP_ESP8266, &h), FOTA_ERR_IMAGE_HEADER);
    CHECK_EQ_INT(fota_esp_check_header(file_buf, len, FOTA_CHIP_ESP32, &h), FOTA_ERR_IMAGE_CHIP);
    CHECK_EQ_INT(fota_esp_check_header(app, app_len, FOTA_CHIP_ESP32, &h), FOTA_ERR_IMAGE_CHIP);
}

static void test_partition_table_is_not_an_image(void)
{
    struct fota_esp_header h;
    struct fota_esp_verify v;
    size_t len = load("partitions_singleapp.bin");
    if (!len)
        return;
    CHECK_EQ_INT(len, 96);
    CHECK_EQ_INT(file_buf[0], 0xAA);
    CHECK_EQ_INT(fota_esp_header_parse(file_buf, len, &h), FOTA_ERR_IMAGE_HEADER);
    CHECK_EQ_INT(fota_esp_image_verify(file_buf, len, crypto, &v), FOTA_ERR_IMAGE_HEADER);
    CHECK_EQ_INT(fota_esp_check_header(file_buf, len, FOTA_CHIP_ESP32, &h), FOTA_ERR_IMAGE_HEADER);
    CHECK_EQ_INT(fota_esp_check_header(file_buf, len, FOTA_CHIP_ESP8266, &h),
                 FOTA_ERR_IMAGE_HEADER);
    /* only a FOTA_CHIP_ANY test device takes it, as raw data */
    CHECK_EQ_INT(fota_esp_check_header(file_buf, len, FOTA_CHIP_ANY, &h), 0);
    CHECK_EQ_INT(h.format, FOTA_IMAGE_RAW);
}

/* ---- Synthetic images --------------------------------------------------- */

static uint8_t img[4096];

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* An ESP32-family image: `segs` segments of `seg_len` bytes each, correct
 * checksum, SHA-256 appended when `hash`. Returns its length. */
static size_t build_esp32(uint16_t chip_id, unsigned segs, uint32_t seg_len, int hash)
{
    size_t pos = 24;
    uint8_t sum = 0xEF;
    memset(img, 0, sizeof img);
    img[0] = 0xE9;
    img[1] = (uint8_t)segs;
    img[2] = 2;
    img[3] = 0x20;
    put32(img + 4, 0x40080400);
    img[8] = 0xEE;
    img[12] = (uint8_t)chip_id;
    img[13] = (uint8_t)(chip_id >> 8);
    img[23] = (uint8_t)hash;
    for (unsigned s = 0; s < segs; s++) {
        put32(img + pos, 0x3FFB0000 + 0x1000 * s);
        put32(img + pos + 4, seg_len);
        pos += 8;
        for (uint32_t i = 0; i < seg_len; i++) {
            img[pos + i] = (uint8_t)(i * 7 + s);
            sum ^= img[pos + i];
        }
        pos += seg_len;
    }
    pos |= 15;
    img[pos++] = sum;
    if (hash) {
        fota_sha256_digest(crypto, img, pos, img + pos);
        pos += 32;
    }
    return pos;
}

static void test_synthetic_valid(void)
{
    struct fota_esp_verify v;
    size_t len = build_esp32(0x0009, 3, 20, 1);
    CHECK_EQ_INT(fota_esp_image_verify(img, len, crypto, &v), 0);
    CHECK_EQ_INT(v.image_len, len);
    CHECK_EQ_INT(v.checksum_ok, 1);
    CHECK_EQ_INT(v.hash_ok, 1);
    CHECK_EQ_INT(v.segment_addr[2], 0x3FFB2000);
    /* trailing bytes beyond the image are not part of it */
    CHECK_EQ_INT(fota_esp_image_verify(img, len + 100, crypto, &v), 0);
    CHECK_EQ_INT(v.image_len, len);
    /* without a crypto backend the hash is not checked */
    CHECK_EQ_INT(fota_esp_image_verify(img, len, NULL, &v), 0);
    CHECK_EQ_INT(v.checksum_ok, 1);
    CHECK_EQ_INT(v.hash_ok, 0);
    /* no hash appended: the image ends at the checksum */
    len = build_esp32(0x0000, 1, 5, 0);
    CHECK_EQ_INT(len, 48); /* 24 + 8 + 5 = 37 -> checksum at 47 */
    CHECK_EQ_INT(fota_esp_image_verify(img, len, crypto, &v), 0);
    CHECK_EQ_INT(v.checksum_ok, 1);
}

static void test_synthetic_segment_counts(void)
{
    struct fota_esp_header h;
    struct fota_esp_verify v;
    size_t len = build_esp32(0x0000, 16, 4, 1);
    CHECK_EQ_INT(fota_esp_image_verify(img, len, crypto, &v), 0);
    CHECK_EQ_INT(v.checksum_ok, 1);
    CHECK_EQ_INT(v.hash_ok, 1);
    CHECK_EQ_INT(v.segment_addr[15], 0x3FFBF000);

    len = build_esp32(0x0000, 1, 4, 0);
    img[1] = 0;
    CHECK_EQ_INT(fota_esp_header_parse(img, len, &h), FOTA_ERR_IMAGE_HEADER);
    CHECK_EQ_INT(fota_esp_check_header(img, len, FOTA_CHIP_ESP32, &h), FOTA_ERR_IMAGE_HEADER);
    CHECK_EQ_INT(fota_esp_check_header(img, len, FOTA_CHIP_ESP8266, &h), FOTA_ERR_IMAGE_HEADER);
    CHECK_EQ_INT(fota_esp_image_verify(img, len, crypto, &v), FOTA_ERR_IMAGE_HEADER);
    img[1] = 17;
    CHECK_EQ_INT(fota_esp_header_parse(img, len, &h), FOTA_ERR_IMAGE_HEADER);
    CHECK_EQ_INT(fota_esp_check_header(img, len, FOTA_CHIP_ESP32, &h), FOTA_ERR_IMAGE_HEADER);
    CHECK_EQ_INT(fota_esp_image_verify(img, len, crypto, &v), FOTA_ERR_IMAGE_HEADER);
}

static void test_synthetic_bad_magic_and_short_headers(void)
{
    struct fota_esp_header h;
    size_t len = build_esp32(0x0000, 1, 4, 0);
    img[0] = 0xEA;
    CHECK_EQ_INT(fota_esp_header_parse(img, len, &h), FOTA_ERR_IMAGE_HEADER);
    CHECK_EQ_INT(fota_esp_check_header(img, len, FOTA_CHIP_ESP32, &h), FOTA_ERR_IMAGE_HEADER);
    CHECK_EQ_INT(fota_esp_check_header(img, len, FOTA_CHIP_ESP8266, &h), FOTA_ERR_IMAGE_HEADER);
    CHECK_EQ_INT(fota_esp_check_header(img, len, FOTA_CHIP_ANY, &h), 0);
    CHECK_EQ_INT(h.format, FOTA_IMAGE_RAW);
    img[0] = 0xE9;
    for (size_t n = 0; n < 24; n++) {
        CHECK_EQ_INT(fota_esp_header_parse(img, n, &h), FOTA_ERR_IMAGE_HEADER);
        CHECK_EQ_INT(fota_esp_check_header(img, n, FOTA_CHIP_ESP32, &h), FOTA_ERR_IMAGE_HEADER);
    }
    CHECK_EQ_INT(fota_esp_header_parse(img, 24, &h), 0);
    CHECK_EQ_INT(fota_esp_header_parse(NULL, 24, &h), FOTA_ERR_INVALID_ARG);
    CHECK_EQ_INT(fota_esp_check_header(img, 24, FOTA_CHIP_COUNT, &h), FOTA_ERR_INVALID_ARG);
}

static void test_synthetic_truncated(void)
{
    struct fota_esp_verify v;
    size_t len = build_esp32(0x0005, 2, 40, 1);
    /* cut inside a segment header, a segment, before the checksum, inside the hash */
    static const size_t cuts[] = {28, 40, 24 + 8 + 40 + 4, 24 + 2 * 48, 24 + 2 * 48 + 10};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++)
        CHECK_EQ_INT(fota_esp_image_verify(img, cuts[i], crypto, &v), FOTA_ERR_IMAGE_SIZE);
    CHECK_EQ_INT(fota_esp_image_verify(img, len - 1, crypto, &v), FOTA_ERR_IMAGE_SIZE);
    CHECK_EQ_INT(fota_esp_image_verify(img, len, crypto, &v), 0);
    /* a segment claiming more than any flash holds */
    put32(img + 24 + 4, 0x01000001);
    CHECK_EQ_INT(fota_esp_image_verify(img, len, crypto, &v), FOTA_ERR_IMAGE_HEADER);
    put32(img + 24 + 4, 0xFFFFFFF0); /* would wrap a 32-bit position */
    CHECK_EQ_INT(fota_esp_image_verify(img, len, crypto, &v), FOTA_ERR_IMAGE_HEADER);
}

static void test_chip_ids(void)
{
    static const struct {
        uint16_t id;
        int chip;
    } ids[] = {
        {0x0000, FOTA_CHIP_ESP32},   {0x0002, FOTA_CHIP_ESP32S2}, {0x0005, FOTA_CHIP_ESP32C3},
        {0x0009, FOTA_CHIP_ESP32S3}, {0x000C, FOTA_CHIP_ESP32C2}, {0x000D, FOTA_CHIP_ESP32C6},
        {0x0010, FOTA_CHIP_ESP32H2}, {0x0012, FOTA_CHIP_ESP32P4}, {0x0014, FOTA_CHIP_ESP32C61},
        {0x0017, FOTA_CHIP_ESP32C5}, {0x0019, FOTA_CHIP_ESP32H21}, {0x001C, FOTA_CHIP_ESP32H4},
        {0x001F, FOTA_CHIP_ESP32E22}, {0x0020, FOTA_CHIP_ESP32S31},
    };
    struct fota_esp_header h;
    CHECK_EQ_INT(fota_esp_chip_from_id(0x0001), FOTA_CHIP_ANY);
    CHECK_EQ_INT(fota_esp_chip_from_id(0xFFFF), FOTA_CHIP_ANY);
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        size_t len = build_esp32(ids[i].id, 1, 8, 1);
        CHECK_EQ_INT(fota_esp_chip_from_id(ids[i].id), ids[i].chip);
        CHECK_EQ_INT(fota_esp_header_parse(img, len, &h), 0);
        CHECK_EQ_INT(h.chip, ids[i].chip);
        /* accepted by its own chip only */
        for (int c = FOTA_CHIP_ESP32; c < FOTA_CHIP_COUNT; c++) {
            int r = fota_esp_check_header(img, len, c, &h);
            CHECK_EQ_INT(r, c == ids[i].chip ? 0 : FOTA_ERR_IMAGE_CHIP);
        }
        CHECK_EQ_INT(fota_esp_check_header(img, len, FOTA_CHIP_ANY, &h), 0);
        CHECK_EQ_INT(h.format, FOTA_IMAGE_ESP32);
    }
    /* an unknown chip id: refused by every ESP32-family device, not an image to tools */
    size_t len = build_esp32(0x0001, 1, 8, 1);
    CHECK_EQ_INT(fota_esp_check_header(img, len, FOTA_CHIP_ESP32, &h), FOTA_ERR_IMAGE_CHIP);
    CHECK_EQ_INT(fota_esp_header_parse(img, len, &h), FOTA_ERR_IMAGE_HEADER);
}

/* An ESP8266 image built so that, read as an ESP32 header, bytes 12..13
 * ("chip id") are 0 or 2 and the reserved bytes are zero: the format rule
 * must still say ESP8266, and an ESP8266 device must not read a chip id. */
static void test_esp8266_not_mistaken_for_esp32(void)
{
    struct fota_esp_header h;
    struct fota_esp_verify v;
    static const uint32_t lens[] = {0x10000, 0x20002};
    for (size_t i = 0; i < 2; i++) {
        uint32_t seg_len = lens[i];
        static uint8_t big[0x20040];
        size_t pos;
        uint8_t sum = 0xEF;
        memset(big, 0, sizeof big);
        big[0] = 0xE9;
        big[1] = 1;
        big[2] = 0;
        big[3] = 0x40;
        put32(big + 4, 0x40100004);
        put32(big + 8, 0x40100000); /* IRAM load address: byte 11 = 0x40 */
        put32(big + 12, seg_len);
        for (pos = 16; pos < 16 + seg_len; pos++) /* zeros, then some data */
            if (pos >= 64) {
                big[pos] = (uint8_t)pos;
                sum ^= big[pos];
            }
        pos |= 15;
        big[pos] = sum;
        CHECK_EQ_INT(fota_esp_header_parse(big, pos + 1, &h), 0);
        CHECK_EQ_INT(h.format, FOTA_IMAGE_ESP8266);
        CHECK_EQ_INT(h.chip, FOTA_CHIP_ESP8266);
        CHECK_EQ_INT(fota_esp_image_verify(big, pos + 1, crypto, &v), 0);
        CHECK_EQ_INT(v.image_len, pos + 1);
        CHECK_EQ_INT(v.checksum_ok, 1);
        CHECK_EQ_INT(fota_esp_check_header(big, pos + 1, FOTA_CHIP_ESP8266, &h), 0);
        CHECK_EQ_INT(h.chip_id, 0);
    }
}

static void test_app_descriptor(void)
{
    struct fota_esp_header h;
    size_t len = build_esp32(0x0000, 1, 256, 1);
    uint8_t *d = img + FOTA_ESP_APP_DESC_OFFSET;
    memset(d, 0, 256);
    put32(d, FOTA_ESP_APP_DESC_MAGIC);
    put32(d + 4, 7);
    memcpy(d + 16, "0123456789abcdef0123456789ABCDEF", 32); /* 32 chars, no NUL */
    memcpy(d + 48, "proj", 4);
    memcpy(d + 112, "v5.1", 4);
    CHECK_EQ_INT(fota_esp_header_parse(img, len, &h), 0);
    CHECK_EQ_INT(h.has_app_desc, 1);
    CHECK_EQ_INT(h.secure_version, 7);
    CHECK_EQ_STR(h.version, "0123456789abcdef0123456789ABCDEF");
    CHECK_EQ_STR(h.project, "proj");
    CHECK_EQ_STR(h.idf_ver, "v5.1");
    d[0] ^= 1; /* wrong magic: no descriptor */
    CHECK_EQ_INT(fota_esp_header_parse(img, len, &h), 0);
    CHECK_EQ_INT(h.has_app_desc, 0);
    CHECK_EQ_STR(h.version, "");
}

/* ---- Arduino ESP8266 .bin: the layouts before and after core 2.7.0 -------- */

static uint8_t e8[8192];

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

/* XOR checksum byte of the sketch image at 0x1000 (of `len` bytes from
 * there), recomputed in place. */
static void e8_fix_checksum(uint8_t *f, size_t len)
{
    struct fota_esp_verify v;
    uint8_t sum = 0xEF;
    size_t pos = FOTA_ESP8266_APP_OFFSET + 8;
    CHECK_EQ_INT(fota_esp_image_verify(f + FOTA_ESP8266_APP_OFFSET, len, NULL, &v), 0);
    for (unsigned s = 0; s < f[FOTA_ESP8266_APP_OFFSET + 1]; s++) {
        for (uint32_t i = 0; i < v.segment_len[s]; i++)
            sum ^= f[pos + 8 + i];
        pos += 8 + v.segment_len[s];
    }
    f[pos | 15] = sum;
}

/* What elf2bin's add_crc does: words zeroed, CRC of the whole file, stored. */
static void e8_add_crc(uint8_t *f, size_t len)
{
    memset(f + FOTA_ESP8266_CRC_LEN_OFFSET, 0, 8);
    uint32_t crc = fota_esp8266_crc(0xFFFFFFFFu, f, len);
    put32(f + FOTA_ESP8266_CRC_LEN_OFFSET, (uint32_t)len);
    put32(f + FOTA_ESP8266_CRC_VAL_OFFSET, crc);
}

/* eboot (one 16-byte segment) padded with 0xAA, then a sketch with .irom0
 * (64 bytes at 0x40201010) and .text (32 bytes). The first 8 bytes of .irom0
 * are zero when `crc` (as in the ELF of core 2.7.0 on), code otherwise. */
static size_t e8_build(int crc)
{
    size_t pos;
    memset(e8, 0, sizeof e8);
    e8[0] = 0xE9;
    e8[1] = 1;
    put32(e8 + 4, 0x4010F000);
    put32(e8 + 8, 0x4010F000);
    put32(e8 + 12, 16);
    for (int i = 0; i < 16; i++)
        e8[16 + i] = (uint8_t)(i * 3 + 1);
    uint8_t sum = 0xEF;
    for (int i = 0; i < 16; i++)
        sum ^= e8[16 + i];
    e8[47] = sum;
    memset(e8 + 48, 0xAA, FOTA_ESP8266_APP_OFFSET - 48);
    pos = FOTA_ESP8266_APP_OFFSET;
    e8[pos] = 0xE9;
    e8[pos + 1] = 2;
    e8[pos + 3] = 0x40;
    put32(e8 + pos + 4, 0x40100004);
    put32(e8 + pos + 8, 0x40201010);
    put32(e8 + pos + 12, 64);
    for (int i = 0; i < 64; i++)
        e8[pos + 16 + i] = (uint8_t)(i * 7 + 5);
    if (crc)
        memset(e8 + pos + 16, 0, 8);
    put32(e8 + pos + 80, 0x40100000);
    put32(e8 + pos + 84, 32);
    for (int i = 0; i < 32; i++)
        e8[pos + 88 + i] = (uint8_t)(i * 11 + 2);
    e8_fix_checksum(e8, 4096);
    pos = (pos + 120) | 15;
    if (crc)
        e8_add_crc(e8, pos + 1);
    return pos + 1;
}

static void test_esp8266_crc_algorithm(void)
{
    /* CRC-32/MPEG-2 check value: the same polynomial, init, MSB first, no
     * final XOR as eboot and elf2bin */
    CHECK_EQ_INT(fota_esp8266_crc(0xFFFFFFFFu, (const uint8_t *)"123456789", 9), 0x0376E6E7u);
    CHECK_EQ_INT(fota_esp8266_crc(0xFFFFFFFFu, NULL, 0), 0xFFFFFFFFu);
}

static void test_esp8266_crc_layout(void)
{
    struct fota_esp8266_bin b;
    size_t len = e8_build(1);
    CHECK_EQ_INT(len, 0x1080);
    CHECK_EQ_INT(fota_esp8266_bin_check(e8, len, &b), 0);
    CHECK_EQ_INT(b.has_crc, 1);
    CHECK_EQ_INT(b.checksum_ok, 1);
    CHECK_EQ_INT(b.length_ok, 1);
    CHECK_EQ_INT(b.crc_ok, 1);
    CHECK_EQ_INT(b.stored_len, len);
    CHECK_EQ_INT(b.file_len, len);
    CHECK_EQ_INT(b.sketch.checksum_ok, 0); /* read as stored, the checksum fails: the old bug */
    /* in a flash slot, followed by erased bytes: the same findings */
    memset(e8 + len, 0xFF, 256);
    CHECK_EQ_INT(fota_esp8266_bin_check(e8, len + 256, &b), 0);
    CHECK_EQ_INT(b.has_crc && b.checksum_ok && b.length_ok && b.crc_ok, 1);

    /* the checksum byte changed, CRC recomputed: only the checksum fails */
    e8[len - 1] ^= 0x10;
    e8_add_crc(e8, len);
    CHECK_EQ_INT(fota_esp8266_bin_check(e8, len, &b), 0);
    CHECK_EQ_INT(b.has_crc, 1);
    CHECK_EQ_INT(b.checksum_ok, 0);
    CHECK_EQ_INT(b.crc_ok, 1);
    CHECK_EQ_INT(b.length_ok, 1);
    /* ... and without recomputing it: both fail */
    len = e8_build(1);
    e8[len - 1] ^= 0x10;
    CHECK_EQ_INT(fota_esp8266_bin_check(e8, len, &b), 0);
    CHECK_EQ_INT(b.has_crc && !b.checksum_ok && !b.crc_ok && b.length_ok, 1);

    /* the stored CRC changed: only the CRC fails */
    len = e8_build(1);
    e8[FOTA_ESP8266_CRC_VAL_OFFSET + 2] ^= 0x01;
    CHECK_EQ_INT(fota_esp8266_bin_check(e8, len, &b), 0);
    CHECK_EQ_INT(b.has_crc, 1);
    CHECK_EQ_INT(b.checksum_ok, 1);
    CHECK_EQ_INT(b.crc_ok, 0);
    CHECK_EQ_INT(b.length_ok, 1);
    CHECK(b.computed_crc != b.stored_crc);

    /* the stored length changed: only the length fails (the CRC covers it as zero) */
    len = e8_build(1);
    put32(e8 + FOTA_ESP8266_CRC_LEN_OFFSET, (uint32_t)len + 16);
    CHECK_EQ_INT(fota_esp8266_bin_check(e8, len, &b), 0);
    CHECK_EQ_INT(b.has_crc, 1);
    CHECK_EQ_INT(b.checksum_ok, 1);
    CHECK_EQ_INT(b.crc_ok, 1);
    CHECK_EQ_INT(b.length_ok, 0);
    CHECK_EQ_INT(b.stored_len, len + 16);

    /* a data byte changed: checksum and CRC both fail */
    len = e8_build(1);
    e8[FOTA_ESP8266_APP_OFFSET + 40] ^= 0x80;
    CHECK_EQ_INT(fota_esp8266_bin_check(e8, len, &b), 0);
    CHECK_EQ_INT(b.has_crc && !b.checksum_ok && !b.crc_ok && b.length_ok, 1);

    /* truncated: the sketch image runs past the end */
    len = e8_build(1);
    CHECK_EQ_INT(fota_esp8266_bin_check(e8, len - 1, &b), FOTA_ERR_IMAGE_SIZE);
}

static void test_esp8266_no_crc_layout(void)
{
    struct fota_esp8266_bin b;
    size_t len = e8_build(0);
    CHECK_EQ_INT(fota_esp8266_bin_check(e8, len, &b), 0);
    CHECK_EQ_INT(b.has_crc, 0);
    CHECK_EQ_INT(b.checksum_ok, 1);
    CHECK_EQ_INT(b.file_len, len);

    /* checksum byte changed */
    e8[len - 1] ^= 0x10;
    CHECK_EQ_INT(fota_esp8266_bin_check(e8, len, &b), 0);
    CHECK_EQ_INT(b.has_crc, 0);
    CHECK_EQ_INT(b.checksum_ok, 0);
    /* the code bytes where a newer core keeps the CRC changed: a checksum
     * failure, not a CRC layout with a wrong CRC */
    len = e8_build(0);
    e8[FOTA_ESP8266_CRC_VAL_OFFSET] ^= 0x01;
    CHECK_EQ_INT(fota_esp8266_bin_check(e8, len, &b), 0);
    CHECK_EQ_INT(b.has_crc, 0);
    CHECK_EQ_INT(b.checksum_ok, 0);
    /* ... and where it keeps the length */
    len = e8_build(0);
    e8[FOTA_ESP8266_CRC_LEN_OFFSET] ^= 0x01;
    CHECK_EQ_INT(fota_esp8266_bin_check(e8, len, &b), 0);
    CHECK_EQ_INT(b.has_crc, 0);
    CHECK_EQ_INT(b.checksum_ok, 0);

    /* not an Arduino .bin: an ESP32 image, a lone ESP8266 image */
    CHECK_EQ_INT(fota_esp8266_bin_check(img, build_esp32(0, 1, 8, 1), &b), FOTA_ERR_IMAGE_HEADER);
    len = e8_build(0);
    CHECK_EQ_INT(fota_esp8266_bin_check(e8, 48, &b), FOTA_ERR_IMAGE_HEADER);
}

/* The real Arduino sketch of ../shared (core before 2.7.0), and the same
 * sketch as core 2.7.0 on would write it: zeros where the words go, checksum
 * over them, then add_crc. */
static void test_esp8266_real_image_both_layouts(void)
{
    struct fota_esp8266_bin b;
    size_t len = load("esp8266_deepsleep.bin");
    if (!len)
        return;
    CHECK_EQ_INT(fota_esp8266_bin_check(file_buf, len, &b), 0);
    CHECK_EQ_INT(b.has_crc, 0);
    CHECK_EQ_INT(b.checksum_ok, 1);
    CHECK_EQ_INT(b.file_len, len);

    memset(file_buf + FOTA_ESP8266_CRC_LEN_OFFSET, 0, 8);
    e8_fix_checksum(file_buf, len - FOTA_ESP8266_APP_OFFSET);
    e8_add_crc(file_buf, len);
    CHECK_EQ_INT(get32(file_buf + FOTA_ESP8266_CRC_LEN_OFFSET), len);
    CHECK_EQ_INT(fota_esp8266_bin_check(file_buf, len, &b), 0);
    CHECK_EQ_INT(b.has_crc && b.checksum_ok && b.length_ok && b.crc_ok, 1);
    file_buf[FOTA_ESP8266_CRC_VAL_OFFSET + 3] ^= 0x40;
    CHECK_EQ_INT(fota_esp8266_bin_check(file_buf, len, &b), 0);
    CHECK_EQ_INT(b.has_crc && b.checksum_ok && b.length_ok && !b.crc_ok, 1);
}

/* A 0xE9 file that is not an image: the failing field is named. */
static void test_header_explain(void)
{
    struct fota_esp_header_fault f;
    size_t len = build_esp32(0x001C, 1, 8, 1); /* ESP32-H4 */
    CHECK_EQ_INT(fota_esp_header_explain(img, len, &f), 0);
    CHECK(f.field == NULL);
    img[12] = 0x21; /* an id esptool does not list */
    CHECK_EQ_INT(fota_esp_header_explain(img, len, &f), FOTA_ERR_IMAGE_HEADER);
    CHECK_EQ_STR(f.field, "chip id (bytes 12-13)");
    CHECK_EQ_INT(f.value, 0x21);
    img[12] = 0x1C;
    img[20] = 1;
    CHECK_EQ_INT(fota_esp_header_explain(img, len, &f), FOTA_ERR_IMAGE_HEADER);
    CHECK_EQ_STR(f.field, "reserved bytes 19-22");
    img[20] = 0;
    img[23] = 2;
    CHECK_EQ_INT(fota_esp_header_explain(img, len, &f), FOTA_ERR_IMAGE_HEADER);
    CHECK_EQ_STR(f.field, "hash_appended (byte 23)");
    img[23] = 1;
    img[8] = 0x80;
    CHECK_EQ_INT(fota_esp_header_explain(img, len, &f), FOTA_ERR_IMAGE_HEADER);
    CHECK_EQ_STR(f.field, "wp_pin (byte 8)");
    img[8] = 0xEE;
    img[10] = 0x44;
    CHECK_EQ_INT(fota_esp_header_explain(img, len, &f), FOTA_ERR_IMAGE_HEADER);
    CHECK_EQ_STR(f.field, "pin drive strengths (byte 10)");
    img[10] = 0;
    img[1] = 0;
    CHECK_EQ_INT(fota_esp_header_explain(img, len, &f), FOTA_ERR_IMAGE_HEADER);
    CHECK_EQ_STR(f.field, "segment count (byte 1)");
    img[1] = 1;
    CHECK_EQ_INT(fota_esp_header_explain(img, 20, &f), FOTA_ERR_IMAGE_HEADER);
    CHECK_EQ_STR(f.field, "file length");
    /* an ESP8266-looking address out of every region */
    img[8] = 0x00, img[9] = 0x00, img[10] = 0x00, img[11] = 0x40; /* 0x40000000 */
    CHECK_EQ_INT(fota_esp_header_explain(img, len, &f), FOTA_ERR_IMAGE_HEADER);
    CHECK_EQ_STR(f.field, "ESP8266 first segment load address (bytes 8-11)");
    CHECK_EQ_INT(f.value, 0x40000000);
    img[0] = 0xE8;
    CHECK_EQ_INT(fota_esp_header_explain(img, len, &f), FOTA_ERR_IMAGE_HEADER);
    CHECK_EQ_STR(f.field, "magic (byte 0)");
}

static const struct test_case tests[] = {
    TEST(test_blink_esp32s2),
    TEST(test_helloworld_esp32),
    TEST(test_bootloader_esp32),
    TEST(test_esp8266_arduino),
    TEST(test_partition_table_is_not_an_image),
    TEST(test_synthetic_valid),
    TEST(test_synthetic_segment_counts),
    TEST(test_synthetic_bad_magic_and_short_headers),
    TEST(test_synthetic_truncated),
    TEST(test_chip_ids),
    TEST(test_esp8266_not_mistaken_for_esp32),
    TEST(test_app_descriptor),
    TEST(test_header_explain),
    TEST(test_esp8266_crc_algorithm),
    TEST(test_esp8266_crc_layout),
    TEST(test_esp8266_no_crc_layout),
    TEST(test_esp8266_real_image_both_layouts),
};

int main(void)
{
    return test_main("esp_image", tests, TEST_COUNT(tests));
}
