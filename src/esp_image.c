/*
 * ESP8266 and ESP32-family image headers, app descriptor, checksum and
 * appended hash. Layout facts: ../shared/testdata/esp-images/README.md.
 *
 * Telling the two formats apart without knowing the chip (fota_esp_header_parse):
 * an ESP8266 image has only the 8-byte header, so bytes 8..15 are the first
 * segment header (load address, length) and 16.. are segment data. The
 * ESP32-family extended header is recognised when all of these hold:
 *   - byte 8 (wp_pin) is 0xEE (the IDF default: no WP pin) or a GPIO number < 64;
 *   - bytes 9..11 (pin drive strengths) have both nibbles <= 3;
 *   - bytes 12..13 (chip_id) are a known chip id;
 *   - bytes 19..22 (reserved) are zero and byte 23 (hash_appended) is 0 or 1.
 * Otherwise it is an ESP8266 image when bytes 8..11 are a load address the
 * ESP8266 can load (DRAM 0x3FFE8000..0x3FFFFFFF, IRAM 0x40100000..0x4010FFFF,
 * or flash-mapped IROM 0x40200000..0x402FFFFF, where Arduino sketches put their
 * first segment) and the first segment's length is below 16 MB. The two tests cannot both
 * pass: an ESP8266 load address has 0x3F or 0x40 as its top byte (byte 11),
 * which is not a valid drive-strength byte. Anything else is not an ESP image.
 * Deciding needs 24 bytes for the ESP32 family and 16 for ESP8266.
 *
 * An Arduino ESP8266 .bin starts with the eboot loader image; the sketch's
 * own image follows at FOTA_ESP8266_APP_OFFSET. These functions look at the
 * image that starts at data[0]; callers look at the offset themselves.
 */
#include "fota/esp_image.h"

#include <string.h>

#include "fota/error.h"
#include "fota/manifest.h"
#include "internal/le.h"

#define ESP_CHECKSUM_SEED 0xEF
#define ESP_SEGMENT_HEADER_SIZE 8
#define ESP_MAX_SEGMENT_LEN (16u * 1024u * 1024u) /* largest flash */
#define ESP8266_CRC_WORDS 8 /* length and CRC, two little-endian words */
#define ESP8266_CRC_POLY 0x04C11DB7u

/* IMAGE_CHIP_ID of every production chip in esptool's target classes (esptool/targets/)
 * (checked against espressif/esptool, 2026). The preview chips esptool also
 * lists (ESP32-S3 beta 2: 4, C6 beta: 7, H2 beta 1/2: 10/14, C5 beta 3: 17)
 * never shipped and are left out. Two bytes an entry: the ids so far are
 * below 256 (a larger one is a compile error: gcc's -Woverflow and clang's
 * -Wconstant-conversion, with -Werror). */
static const struct {
    uint8_t id;
    uint8_t chip;
} chip_ids[] = {
    {0x0000, FOTA_CHIP_ESP32},   {0x0002, FOTA_CHIP_ESP32S2},  {0x0005, FOTA_CHIP_ESP32C3},
    {0x0009, FOTA_CHIP_ESP32S3}, {0x000C, FOTA_CHIP_ESP32C2},  {0x000D, FOTA_CHIP_ESP32C6},
    {0x0010, FOTA_CHIP_ESP32H2}, {0x0012, FOTA_CHIP_ESP32P4},  {0x0014, FOTA_CHIP_ESP32C61},
    {0x0017, FOTA_CHIP_ESP32C5}, {0x0019, FOTA_CHIP_ESP32H21}, {0x001C, FOTA_CHIP_ESP32H4},
    {0x001F, FOTA_CHIP_ESP32E22}, {0x0020, FOTA_CHIP_ESP32S31},
};

_Static_assert(FOTA_CHIP_COUNT <= 256, "chip_ids holds a chip in one byte");

int fota_esp_chip_from_id(uint16_t chip_id)
{
    for (size_t i = 0; i < sizeof chip_ids / sizeof chip_ids[0]; i++)
        if (chip_ids[i].id == chip_id)
            return chip_ids[i].chip;
    return FOTA_CHIP_ANY;
}

static int chip_to_id(int chip, uint16_t *id)
{
    for (size_t i = 0; i < sizeof chip_ids / sizeof chip_ids[0]; i++)
        if (chip_ids[i].chip == chip) {
            *id = chip_ids[i].id;
            return 0;
        }
    return -1;
}

/* Bytes 0..7, common to both formats. */
static int parse_common(const uint8_t *d, size_t len, struct fota_esp_header *h)
{
    if (len < FOTA_ESP8266_HEADER_SIZE || d[0] != FOTA_ESP_IMAGE_MAGIC || d[1] == 0 ||
        d[1] > FOTA_ESP_MAX_SEGMENTS)
        return FOTA_ERR_IMAGE_HEADER;
    memset(h, 0, sizeof *h);
    h->segments = d[1];
    h->spi_mode = d[2];
    h->flash_size_freq = d[3];
    h->entry = le_get32(d + 4);
    return 0;
}

static int drive_byte_ok(uint8_t b)
{
    return (b & 0x0F) <= 3 && (b >> 4) <= 3;
}

static int looks_esp32(const uint8_t *d, size_t len)
{
    if (len < FOTA_ESP_HEADER_SIZE)
        return 0;
    if (!(d[8] == 0xEE || d[8] < 64) || !drive_byte_ok(d[9]) || !drive_byte_ok(d[10]) ||
        !drive_byte_ok(d[11]))
        return 0;
    if (fota_esp_chip_from_id(le_get16(d + 12)) == FOTA_CHIP_ANY)
        return 0;
    return d[19] == 0 && d[20] == 0 && d[21] == 0 && d[22] == 0 && d[23] <= 1;
}

static int looks_esp8266(const uint8_t *d, size_t len)
{
    uint32_t addr, seg_len;
    if (len < FOTA_ESP8266_HEADER_SIZE + ESP_SEGMENT_HEADER_SIZE)
        return 0;
    addr = le_get32(d + 8);
    seg_len = le_get32(d + 12);
    return ((addr >= 0x3FFE8000u && addr <= 0x3FFFFFFFu) ||
            (addr >= 0x40100000u && addr <= 0x4010FFFFu) ||
            (addr >= 0x40200000u && addr <= 0x402FFFFFu)) &&
           seg_len < ESP_MAX_SEGMENT_LEN;
}

/* Copy a fixed-size, NUL-padded descriptor string and terminate it. */
static void copy_desc_string(char *out, const uint8_t *src, size_t n)
{
    size_t i;
    for (i = 0; i < n && src[i]; i++)
        out[i] = (char)src[i];
    out[i] = 0;
}

/* esp_app_desc_t: magic, secure_version, 2 reserved words, version[32],
 * project_name[32], time[16], date[16], idf_ver[32], app_elf_sha256[32], ... */
static void parse_app_desc(const uint8_t *d, size_t len, struct fota_esp_header *h)
{
    const uint8_t *a = d + FOTA_ESP_APP_DESC_OFFSET;
    if (len < FOTA_ESP_APP_DESC_OFFSET + FOTA_ESP_APP_DESC_SIZE ||
        le_get32(a) != FOTA_ESP_APP_DESC_MAGIC)
        return;
    h->has_app_desc = 1;
    h->secure_version = le_get32(a + 4);
    copy_desc_string(h->version, a + 16, 32);
    copy_desc_string(h->project, a + 48, 32);
    copy_desc_string(h->time, a + 80, 16);
    copy_desc_string(h->date, a + 96, 16);
    copy_desc_string(h->idf_ver, a + 112, 32);
}

static void parse_esp32(const uint8_t *d, size_t len, struct fota_esp_header *h)
{
    h->format = FOTA_IMAGE_ESP32;
    h->chip_id = le_get16(d + 12);
    h->chip = fota_esp_chip_from_id(h->chip_id);
    h->min_chip_rev = le_get16(d + 15);
    h->max_chip_rev = le_get16(d + 17);
    h->hash_appended = d[23];
    parse_app_desc(d, len, h);
}

int fota_esp_header_parse(const uint8_t *data, size_t len, struct fota_esp_header *out)
{
    struct fota_esp_header h;
    if (!data || !out)
        return FOTA_ERR_INVALID_ARG;
    if (parse_common(data, len, &h) != 0)
        return FOTA_ERR_IMAGE_HEADER;
    if (looks_esp32(data, len)) {
        parse_esp32(data, len, &h);
    } else if (looks_esp8266(data, len)) {
        h.format = FOTA_IMAGE_ESP8266;
        h.chip = FOTA_CHIP_ESP8266;
    } else {
        return FOTA_ERR_IMAGE_HEADER;
    }
    *out = h;
    return 0;
}

int fota_esp_check_header(const uint8_t *data, size_t len, int expected_chip,
                          struct fota_esp_header *out)
{
    struct fota_esp_header h;
    uint16_t want_id;

    if (!data)
        return FOTA_ERR_INVALID_ARG;
    if (expected_chip == FOTA_CHIP_ANY) {
        /* Tests and raw targets: any ESP image, or anything else as raw. */
        if (fota_esp_header_parse(data, len, &h) != 0) {
            memset(&h, 0, sizeof h);
            h.format = FOTA_IMAGE_RAW;
            h.chip = FOTA_CHIP_ANY;
        }
    } else if (expected_chip == FOTA_CHIP_ESP8266) {
        /* Only the 8-byte header exists: bytes 12..13 are segment data, not a
         * chip id, so there is nothing more to check here. */
        if (parse_common(data, len, &h) != 0)
            return FOTA_ERR_IMAGE_HEADER;
        h.format = FOTA_IMAGE_ESP8266;
        h.chip = FOTA_CHIP_ESP8266;
    } else {
        if (chip_to_id(expected_chip, &want_id) != 0)
            return FOTA_ERR_INVALID_ARG;
        if (len < FOTA_ESP_HEADER_SIZE || parse_common(data, len, &h) != 0)
            return FOTA_ERR_IMAGE_HEADER;
        parse_esp32(data, len, &h);
        if (h.chip_id != want_id) {
            if (out)
                *out = h; /* the caller names the image's chip in its message */
            return FOTA_ERR_IMAGE_CHIP;
        }
    }
    if (out)
        *out = h;
    return 0;
}

int fota_esp_image_verify(const uint8_t *data, size_t len, const struct fota_crypto *crypto,
                          struct fota_esp_verify *out)
{
    struct fota_esp_header h;
    size_t pos;
    uint8_t sum = ESP_CHECKSUM_SEED, crc_words = 0;
    int r;

    if (!data || !out)
        return FOTA_ERR_INVALID_ARG;
    memset(out, 0, sizeof *out);
    r = fota_esp_header_parse(data, len, &h);
    if (r != 0)
        return r;
    pos = h.format == FOTA_IMAGE_ESP32 ? FOTA_ESP_HEADER_SIZE : FOTA_ESP8266_HEADER_SIZE;

    for (unsigned s = 0; s < h.segments; s++) {
        uint32_t seg_len;
        if (len - pos < ESP_SEGMENT_HEADER_SIZE)
            return FOTA_ERR_IMAGE_SIZE;
        out->segment_addr[s] = le_get32(data + pos);
        seg_len = le_get32(data + pos + 4);
        out->segment_len[s] = seg_len;
        pos += ESP_SEGMENT_HEADER_SIZE;
        if (seg_len > ESP_MAX_SEGMENT_LEN)
            return FOTA_ERR_IMAGE_HEADER;
        if (seg_len > len - pos)
            return FOTA_ERR_IMAGE_SIZE; /* segment runs past the end of the data */
        for (uint32_t i = 0; i < seg_len; i++)
            sum ^= data[pos + i];
        if (s == 0 && h.format == FOTA_IMAGE_ESP8266 && seg_len >= ESP8266_CRC_WORDS)
            for (uint32_t i = 0; i < ESP8266_CRC_WORDS; i++)
                crc_words ^= data[pos + i]; /* where elf2bin stores length and CRC */
        pos += seg_len;
    }

    /* Zero padding up to the last byte of a 16-byte block holds the checksum. */
    pos |= 15;
    if (pos >= len)
        return FOTA_ERR_IMAGE_SIZE;
    out->checksum_ok = data[pos] == sum;
    out->checksum_ok_crc_zeroed = h.format == FOTA_IMAGE_ESP8266 && data[pos] == (sum ^ crc_words);
    pos++;
    if (h.format == FOTA_IMAGE_ESP32 && h.hash_appended) {
        uint8_t digest[32];
        if (len - pos < sizeof digest)
            return FOTA_ERR_IMAGE_SIZE;
        if (crypto) {
            r = fota_sha256_digest(crypto, data, pos, digest);
            if (r != 0)
                return r;
            out->hash_ok = memcmp(digest, data + pos, sizeof digest) == 0;
        }
        pos += sizeof digest;
    }
    out->image_len = (uint32_t)pos;
    return 0;
}

/* ---- Why a header is not valid ------------------------------------------ */

static int set_fault(struct fota_esp_header_fault *out, const char *field, const char *rule,
                     uint32_t value)
{
    out->field = field;
    out->rule = rule;
    out->value = value;
    return FOTA_ERR_IMAGE_HEADER;
}

int fota_esp_header_explain(const uint8_t *d, size_t len, struct fota_esp_header_fault *out)
{
    struct fota_esp_header h;
    if (!d || !out)
        return FOTA_ERR_INVALID_ARG;
    memset(out, 0, sizeof *out);
    if (fota_esp_header_parse(d, len, &h) == 0)
        return 0;
    if (len < 1 || d[0] != FOTA_ESP_IMAGE_MAGIC)
        return set_fault(out, "magic (byte 0)", "0xE9", len ? d[0] : 0);
    if (len < FOTA_ESP8266_HEADER_SIZE)
        return set_fault(out, "file length", "at least 8 bytes of header", (uint32_t)len);
    if (d[1] == 0 || d[1] > FOTA_ESP_MAX_SEGMENTS)
        return set_fault(out, "segment count (byte 1)", "1..16", d[1]);
    /* An ESP8266 first-segment address has 0x3F or 0x40 as its top byte; any
     * other byte 11 is judged as the ESP32-family extended header. */
    if (len >= 12 && (d[11] == 0x3F || d[11] == 0x40)) {
        if (len < FOTA_ESP8266_HEADER_SIZE + ESP_SEGMENT_HEADER_SIZE)
            return set_fault(out, "file length", "at least 16 bytes (ESP8266 header and "
                                                  "first segment header)", (uint32_t)len);
        if (le_get32(d + 12) >= ESP_MAX_SEGMENT_LEN)
            return set_fault(out, "ESP8266 first segment length (bytes 12-15)",
                             "below 16 MB", le_get32(d + 12));
        return set_fault(out, "ESP8266 first segment load address (bytes 8-11)",
                         "in DRAM 0x3FFE8000.., IRAM 0x40100000.. or IROM 0x40200000..",
                         le_get32(d + 8));
    }
    if (len < FOTA_ESP_HEADER_SIZE)
        return set_fault(out, "file length", "at least 24 bytes (ESP32-family header)",
                         (uint32_t)len);
    if (!(d[8] == 0xEE || d[8] < 64))
        return set_fault(out, "wp_pin (byte 8)", "0xEE or a GPIO number below 64", d[8]);
    for (unsigned i = 9; i <= 11; i++)
        if (!drive_byte_ok(d[i]))
            return set_fault(out,
                             i == 9    ? "pin drive strengths (byte 9)"
                             : i == 10 ? "pin drive strengths (byte 10)"
                                       : "pin drive strengths (byte 11)",
                             "two nibbles of 0..3 each", d[i]);
    if (fota_esp_chip_from_id(le_get16(d + 12)) == FOTA_CHIP_ANY)
        return set_fault(out, "chip id (bytes 12-13)", "an id in esptool's chip table",
                         le_get16(d + 12));
    if (d[19] || d[20] || d[21] || d[22])
        return set_fault(out, "reserved bytes 19-22", "zero", le_get32(d + 19));
    return set_fault(out, "hash_appended (byte 23)", "0 or 1", d[23]);
}

/* ---- Arduino ESP8266 .bin: eboot, sketch, flash CRC ------------------------ */

uint32_t fota_esp8266_crc(uint32_t crc, const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        crc ^= (uint32_t)data[i] << 24;
        for (unsigned b = 0; b < 8; b++)
            crc = crc & 0x80000000u ? (crc << 1) ^ ESP8266_CRC_POLY : crc << 1;
    }
    return crc;
}

int fota_esp8266_bin_check(const uint8_t *data, size_t len, struct fota_esp8266_bin *out)
{
    static const uint8_t zeros[ESP8266_CRC_WORDS] = {0};
    struct fota_esp_header h;
    const uint8_t *app = data + FOTA_ESP8266_APP_OFFSET;
    int r;

    if (!data || !out)
        return FOTA_ERR_INVALID_ARG;
    memset(out, 0, sizeof *out);
    if (len <= FOTA_ESP8266_APP_OFFSET || fota_esp_header_parse(data, len, &h) != 0 ||
        h.format != FOTA_IMAGE_ESP8266)
        return FOTA_ERR_IMAGE_HEADER;
    r = fota_esp_image_verify(data, FOTA_ESP8266_APP_OFFSET, NULL, &out->eboot);
    if (r != 0)
        return r == FOTA_ERR_IMAGE_SIZE ? FOTA_ERR_IMAGE_HEADER : r; /* eboot must fit */
    if (fota_esp_header_parse(app, len - FOTA_ESP8266_APP_OFFSET, &h) != 0 ||
        h.format != FOTA_IMAGE_ESP8266)
        return FOTA_ERR_IMAGE_HEADER;
    r = fota_esp_image_verify(app, len - FOTA_ESP8266_APP_OFFSET, NULL, &out->sketch);
    if (r != 0)
        return r;
    out->file_len = FOTA_ESP8266_APP_OFFSET + out->sketch.image_len;
    out->checksum_ok = out->sketch.checksum_ok;
    if (out->sketch.segment_len[0] < ESP8266_CRC_WORDS)
        return 0; /* no room for the words: the layout before core 2.7.0 */
    out->stored_len = le_get32(data + FOTA_ESP8266_CRC_LEN_OFFSET);
    out->stored_crc = le_get32(data + FOTA_ESP8266_CRC_VAL_OFFSET);
    /* The CRC covers the whole file as elf2bin wrote it, the words as zeros. */
    out->computed_crc = fota_esp8266_crc(0xFFFFFFFFu, data, FOTA_ESP8266_CRC_LEN_OFFSET);
    out->computed_crc = fota_esp8266_crc(out->computed_crc, zeros, sizeof zeros);
    out->computed_crc =
        fota_esp8266_crc(out->computed_crc, data + FOTA_ESP8266_CRC_LEN_OFFSET + sizeof zeros,
                         out->file_len - FOTA_ESP8266_CRC_LEN_OFFSET - sizeof zeros);
    /* The CRC layout when either word says so: the length is where the image
     * ends, or the CRC matches (2^-32 by chance). Code bytes of an older
     * sketch do neither; a file with both words damaged is judged by its
     * checksum alone, and fails. */
    out->has_crc = out->stored_len == out->file_len || out->stored_crc == out->computed_crc;
    if (!out->has_crc)
        return 0;
    out->checksum_ok = out->sketch.checksum_ok_crc_zeroed;
    out->length_ok = out->stored_len == out->file_len;
    out->crc_ok = out->computed_crc == out->stored_crc;
    return 0;
}
