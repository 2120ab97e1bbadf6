/*
 * fota mkimage: a synthetic, structurally valid ESP32-family application
 * image for the simulator, demos, tests and benchmarks.
 *
 * Layout (all offsets in the file):
 *     0  24-byte image header (magic 0xE9, 2 segments, chip id, hash appended)
 *    24  segment 0 header: flash-mapped data address, length 256
 *    32  esp_app_desc_t (magic 0xABCD5432, secure_version, version, project,
 *        time, date, idf_ver "fota-sim", app_elf_sha256 = SHA-256 of segment 1)
 *   288  segment 1 header: flash-mapped code address, length L
 *   296  segment 1 data: the --marker text, then pseudo-random bytes
 *        (splitmix64 from --seed, default a hash of the version)
 *        zero padding, XOR checksum byte (seed 0xEF) at a 16-byte block end
 *        SHA-256 of everything before it (32 bytes)
 * L is chosen so the file is exactly --size bytes (sizes are rounded up to a
 * multiple of 16, the image format's granularity). The same arguments always
 * give the same bytes.
 *
 * --chip esp8266 builds an Arduino ESP8266 .bin as the core's elf2bin.py
 * does: an eboot-like loader image padded with 0xAA to 0x1000, then the
 * sketch image (segments .irom0.text at 0x40201010, .text in IRAM, .data in
 * DRAM; XOR checksum), and unless --no-crc (the layout before core 2.7.0)
 * the flash length and CRC-32 at file offsets 0x1010 and 0x1014, the first
 * 8 bytes of .irom0.text, which were zero when the checksum was computed.
 * .irom0.text then holds "fota-app-version:V", NUL, "fota-app-project:P",
 * NUL (what the simulator reads in place of an app descriptor), the marker
 * and pseudo-random bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fota/crypto.h"
#include "fota/error.h"
#include "fota/esp_image.h"
#include "fota/manifest.h"
#include "util.h"
#include "fota_crypto_backends.h"

#define DESC_FIELD_MAX 31       /* esp_app_desc_t strings are 32 bytes with a NUL */
#define SEG1_DATA_OFFSET 296    /* 24 + 8 + 256 + 8 */
#define TAIL_MIN (3 + 1 + 32)   /* padding to the checksum byte, checksum, hash */
#define MKIMAGE_MAX_SIZE (16u * 1024u * 1024u)

/* Plausible addresses per chip (entry in IRAM; data and code in the
 * flash-mapped windows, offset like esptool does: address = file offset
 * modulo the 64 KB MMU page). */
static const struct {
    int chip;
    uint16_t chip_id;
    uint32_t entry, drom, irom;
} chips[] = {
    {FOTA_CHIP_ESP32, 0x0000, 0x40080400, 0x3F400000, 0x400D0000},
    {FOTA_CHIP_ESP32S2, 0x0002, 0x40024000, 0x3F000000, 0x40080000},
    {FOTA_CHIP_ESP32S3, 0x0009, 0x40375000, 0x3C000000, 0x42000000},
    {FOTA_CHIP_ESP32C2, 0x000C, 0x40380400, 0x3C000000, 0x42000000},
    {FOTA_CHIP_ESP32C3, 0x0005, 0x40380400, 0x3C000000, 0x42000000},
    {FOTA_CHIP_ESP32C5, 0x0017, 0x40800400, 0x42800000, 0x42000000},
    {FOTA_CHIP_ESP32C6, 0x000D, 0x40800400, 0x42800000, 0x42000000},
    {FOTA_CHIP_ESP32C61, 0x0014, 0x40800400, 0x42800000, 0x42000000},
    {FOTA_CHIP_ESP32H2, 0x0010, 0x40800400, 0x42800000, 0x42000000},
    {FOTA_CHIP_ESP32P4, 0x0012, 0x4FF00400, 0x40000000, 0x40010000},
    {FOTA_CHIP_ESP32H4, 0x001C, 0x40800400, 0x42800000, 0x42000000},
    {FOTA_CHIP_ESP32H21, 0x0019, 0x40800400, 0x42800000, 0x42000000},
    {FOTA_CHIP_ESP32E22, 0x001F, 0x30FE0400, 0x3C000000, 0x3C800000},
    {FOTA_CHIP_ESP32S31, 0x0020, 0x2F000400, 0x40000000, 0x40800000},
};

/* Arduino ESP8266 layout (tools/elf2bin.py of the esp8266/Arduino core) */
#define E8_EBOOT_DATA 1376            /* one segment; the image ends at 1408 */
#define E8_EBOOT_ENTRY 0x4010F000u
#define E8_IROM_ADDR 0x40201010u      /* file offset 0x1010 in the flash map */
#define E8_IRAM_LEN 1024u
#define E8_DRAM_LEN 256u
#define E8_FIXED (8 + 8 + 8 + E8_IRAM_LEN + 8 + E8_DRAM_LEN + 4) /* all but .irom0 data */

static void mkimage_usage(FILE *out)
{
    fprintf(out,
            "usage: fota mkimage --chip C --version V --project P --size N [--secure-version S]\n"
            "                    [--marker TEXT] [--seed N] [--build-time UTC] [--no-crc] -o OUT\n"
            "  Builds a synthetic ESP32-family application image of N bytes (rounded up to a\n"
            "  multiple of 16) with an app descriptor, pseudo-random code, XOR checksum and\n"
            "  appended SHA-256. TEXT is stored verbatim at offset %d. The seed defaults to\n"
            "  a hash of the version, so two versions differ and one version is reproducible.\n"
            "  --build-time 2024-06-15T09:30:00Z sets the descriptor's build date and time\n"
            "  (default Jan  1 2025 00:00:00).\n"
            "  --chip esp8266 builds an Arduino ESP8266 .bin laid out as the core's elf2bin.py\n"
            "  writes it: eboot, the sketch image at 0x1000, and the flash length and CRC at\n"
            "  0x1010/0x1014 (core 2.7.0 on); --no-crc leaves them out (older cores).\n",
            SEG1_DATA_OFFSET);
}

static void put_le16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
    put_le16(p, v);
    put_le16(p + 2, v >> 16);
}

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t fnv1a64(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
    return h;
}

static int desc_text_ok(const char *what, const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > DESC_FIELD_MAX) {
        fprintf(stderr, "fota mkimage: %s must be 1..%d characters (got %zu)\n", what,
                DESC_FIELD_MAX, n);
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x21 || s[i] > 0x7e) {
            fprintf(stderr, "fota mkimage: %s '%s' must be printable ASCII without spaces\n",
                    what, s);
            return 0;
        }
    return 1;
}

static void fill_random(uint8_t *p, size_t n, uint64_t *state)
{
    for (size_t i = 0; i < n; i += 8) {
        uint64_t r = splitmix64(state);
        for (size_t b = 0; b < 8 && i + b < n; b++)
            p[i + b] = (uint8_t)(r >> (8 * b));
    }
}

/* One ESP8266 segment: header and pseudo-random data; returns the new position. */
static size_t e8_segment(uint8_t *img, size_t pos, uint32_t addr, uint32_t len, uint64_t *state,
                         uint8_t *sum)
{
    put_le32(img + pos, addr);
    put_le32(img + pos + 4, len);
    fill_random(img + pos + 8, len, state);
    for (uint32_t i = 0; i < len; i++)
        *sum ^= img[pos + 8 + i];
    return pos + 8 + len;
}

/* An Arduino ESP8266 .bin of exactly `size` bytes (see the top of the file). */
static void build_esp8266(uint8_t *img, uint32_t size, const char *version, const char *project,
                          const char *marker, uint64_t state, int with_crc)
{
    uint8_t sum = 0xEF;
    size_t pos, irom_len = size - FOTA_ESP8266_APP_OFFSET - E8_FIXED, n;
    uint8_t *irom;

    /* eboot: one IRAM segment, checksum, 0xAA up to the sketch */
    img[0] = FOTA_ESP_IMAGE_MAGIC;
    img[1] = 1;
    put_le32(img + 4, E8_EBOOT_ENTRY);
    pos = e8_segment(img, 8, 0x4010F000u, E8_EBOOT_DATA, &state, &sum);
    pos |= 15;
    img[pos++] = sum;
    memset(img + pos, 0xAA, FOTA_ESP8266_APP_OFFSET - pos);

    /* the sketch: .irom0.text, .text, .data */
    sum = 0xEF;
    pos = FOTA_ESP8266_APP_OFFSET;
    img[pos] = FOTA_ESP_IMAGE_MAGIC;
    img[pos + 1] = 3;
    img[pos + 2] = 2;    /* DIO */
    img[pos + 3] = 0x40; /* 4 MB, 40 MHz */
    put_le32(img + pos + 4, 0x40100004u);
    put_le32(img + pos + 8, E8_IROM_ADDR);
    put_le32(img + pos + 12, (uint32_t)irom_len);
    irom = img + pos + 16;
    /* __crc_len and __crc_val stay zero for the checksum, as in the ELF */
    n = 8;
    n += (size_t)sprintf((char *)irom + n, "fota-app-version:%s", version) + 1;
    n += (size_t)sprintf((char *)irom + n, "fota-app-project:%s", project) + 1;
    memcpy(irom + n, marker, strlen(marker));
    n += strlen(marker);
    fill_random(irom + n, irom_len - n, &state);
    if (!with_crc) /* before core 2.7.0 the first bytes are ordinary code */
        fill_random(irom, 8, &state);
    for (size_t i = 0; i < irom_len; i++)
        sum ^= irom[i];
    pos = FOTA_ESP8266_APP_OFFSET + 16 + irom_len;
    pos = e8_segment(img, pos, 0x40100000u, E8_IRAM_LEN, &state, &sum);
    pos = e8_segment(img, pos, 0x3FFE8000u, E8_DRAM_LEN, &state, &sum);
    pos |= 15;
    img[pos] = sum;

    if (with_crc) { /* elf2bin add_crc: words zeroed, CRC of the file, both stored */
        uint32_t crc = fota_esp8266_crc(0xFFFFFFFFu, img, size);
        put_le32(img + FOTA_ESP8266_CRC_LEN_OFFSET, size);
        put_le32(img + FOTA_ESP8266_CRC_VAL_OFFSET, crc);
    }
}

/* An ESP32-family application of exactly `size` bytes (see the top). */
static void build_esp32(uint8_t *img, uint32_t size, int ci, const char *version,
                        const char *project, const char *marker, uint32_t secure_version,
                        uint64_t state, const char *date, const char *time)
{
    size_t marker_len = strlen(marker), data_len, pos, ck;
    uint8_t sum = 0xEF;

    /* The checksum byte sits at the end of the 16-byte block holding the
     * last data byte: data ending 4 bytes before the block end leaves 3
     * padding bytes and keeps the segment length a multiple of 4. */
    data_len = size - 32 - SEG1_DATA_OFFSET - 4;

    /* Header */
    img[0] = FOTA_ESP_IMAGE_MAGIC;
    img[1] = 2;    /* segments */
    img[2] = 2;    /* SPI mode DIO */
    img[3] = 0x20; /* 4 MB flash, 40 MHz */
    put_le32(img + 4, chips[ci].entry);
    img[8] = 0xEE; /* no WP pin, as the IDF writes it */
    put_le16(img + 12, chips[ci].chip_id);
    img[23] = 1; /* SHA-256 appended */

    /* Segment 0: the app descriptor */
    put_le32(img + 24, chips[ci].drom + FOTA_ESP_APP_DESC_OFFSET);
    put_le32(img + 28, FOTA_ESP_APP_DESC_SIZE);
    uint8_t *desc = img + FOTA_ESP_APP_DESC_OFFSET;
    put_le32(desc, FOTA_ESP_APP_DESC_MAGIC);
    put_le32(desc + 4, secure_version);
    memcpy(desc + 16, version, strlen(version));
    memcpy(desc + 48, project, strlen(project));
    memcpy(desc + 80, time, strlen(time)); /* fixed unless --build-time: reproducible */
    memcpy(desc + 96, date, strlen(date));
    memcpy(desc + 112, "fota-sim", 8);

    /* Segment 1: marker, then pseudo-random bytes */
    put_le32(img + 288, chips[ci].irom + SEG1_DATA_OFFSET);
    put_le32(img + 292, (uint32_t)data_len);
    uint8_t *data = img + SEG1_DATA_OFFSET;
    memcpy(data, marker, marker_len);
    fill_random(data + marker_len, data_len - marker_len, &state);
    fota_sha256_digest(&FOTA_CRYPTO_HOST, data, data_len, desc + 144); /* app_elf_sha256 */

    /* Checksum over all segment data, then the appended hash */
    for (size_t i = 0; i < FOTA_ESP_APP_DESC_SIZE; i++)
        sum ^= desc[i];
    for (size_t i = 0; i < data_len; i++)
        sum ^= data[i];
    pos = SEG1_DATA_OFFSET + data_len;
    ck = pos | 15;
    img[ck] = sum;
    fota_sha256_digest(&FOTA_CRYPTO_HOST, img, ck + 1, img + ck + 1);
}

int cmd_mkimage(int argc, char **argv)
{
    const char *chip_arg = NULL, *version = NULL, *project = NULL, *size_arg = NULL;
    const char *out_path = NULL, *marker = "", *build_time = NULL;
    char date[12] = "Jan  1 2025", time_of_day[9] = "00:00:00";
    uint32_t size = 0, secure_version = 0, seed32 = 0;
    int have_seed = 0, ci = -1, chip, no_crc = 0;
    size_t marker_len, min_size;
    uint8_t *img;
    char hex[65];
    int rc;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            mkimage_usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--no-crc")) {
            no_crc = 1;
            continue;
        }
        if (!strcmp(a, "--chip"))
            slot = &chip_arg;
        else if (!strcmp(a, "--version"))
            slot = &version;
        else if (!strcmp(a, "--project"))
            slot = &project;
        else if (!strcmp(a, "--size"))
            slot = &size_arg;
        else if (!strcmp(a, "--marker"))
            slot = &marker;
        else if (!strcmp(a, "--build-time"))
            slot = &build_time;
        else if (!strcmp(a, "-o") || !strcmp(a, "--out"))
            slot = &out_path;
        else if (strcmp(a, "--secure-version") && strcmp(a, "--seed")) {
            fprintf(stderr, "fota mkimage: unknown argument '%s'\n", a);
            mkimage_usage(stderr);
            return 2;
        }
        if (++i >= argc) {
            fprintf(stderr, "fota mkimage: %s needs a value\n", a);
            return 2;
        }
        if (slot) {
            *slot = argv[i];
        } else if (!strcmp(a, "--seed")) {
            if (util_parse_u32(argv[i], &seed32) != 0) {
                fprintf(stderr, "fota mkimage: --seed '%s' is not a number 0..4294967295\n",
                        argv[i]);
                return 2;
            }
            have_seed = 1;
        } else if (util_parse_u32(argv[i], &secure_version) != 0) {
            fprintf(stderr, "fota mkimage: --secure-version '%s' is not a number 0..4294967295\n",
                    argv[i]);
            return 2;
        }
    }
    if (!chip_arg || !version || !project || !size_arg || !out_path) {
        fprintf(stderr, "fota mkimage: --chip, --version, --project, --size and -o are required\n");
        mkimage_usage(stderr);
        return 2;
    }
    chip = fota_chip_from_name(chip_arg, strlen(chip_arg));
    for (size_t i = 0; i < sizeof chips / sizeof chips[0]; i++)
        if (chips[i].chip == chip)
            ci = (int)i;
    if (ci < 0 && chip != FOTA_CHIP_ESP8266) {
        fprintf(stderr, "fota mkimage: --chip '%s' is not a chip fota builds images for (esp8266",
                chip_arg);
        for (size_t i = 0; i < sizeof chips / sizeof chips[0]; i++)
            fprintf(stderr, ", %s", fota_chip_name(chips[i].chip));
        fprintf(stderr, ")\n");
        return 2;
    }
    if (no_crc && chip != FOTA_CHIP_ESP8266) {
        fprintf(stderr, "fota mkimage: --no-crc applies to --chip esp8266 only\n");
        return 2;
    }
    if (chip == FOTA_CHIP_ESP8266 && secure_version) {
        fprintf(stderr, "fota mkimage: ESP8266 images have no secure_version\n");
        return 2;
    }
    if (!desc_text_ok("--version", version) || !desc_text_ok("--project", project))
        return 2;
    if (build_time) { /* the app descriptor's date and time, as __DATE__ and __TIME__ */
        static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
        int64_t t;
        if (fota_parse_utc(build_time, strlen(build_time), &t) != 0 || build_time[0] == '0') {
            fprintf(stderr, "fota mkimage: --build-time '%s' is not a UTC time like "
                            "2024-06-15T09:30:00Z\n", build_time);
            return 2;
        }
        int month = (build_time[5] - '0') * 10 + (build_time[6] - '0');
        snprintf(date, sizeof date, "%.3s %c%c %.4s", months + 3 * (month - 1),
                 build_time[8] == '0' ? ' ' : build_time[8], build_time[9], build_time);
        snprintf(time_of_day, sizeof time_of_day, "%.8s", build_time + 11);
    }
    marker_len = strlen(marker);
    if (chip == FOTA_CHIP_ESP8266)
        min_size = FOTA_ESP8266_APP_OFFSET + E8_FIXED + 8 + 18 + strlen(version) + 18 +
                   strlen(project) + marker_len;
    else
        min_size = SEG1_DATA_OFFSET + ((marker_len + 3) & ~(size_t)3) + 4 + TAIL_MIN;
    min_size = (min_size + 15) & ~(size_t)15;
    if (util_parse_u32(size_arg, &size) != 0 || size < min_size || size > MKIMAGE_MAX_SIZE) {
        fprintf(stderr, "fota mkimage: --size '%s' must be %zu..%u bytes%s\n", size_arg, min_size,
                MKIMAGE_MAX_SIZE, marker_len ? " (for this marker)" : "");
        return 2;
    }
    if (size % 16) {
        uint32_t rounded = (size + 15) & ~15u;
        fprintf(stderr, "fota mkimage: note: size %u rounded up to %u (images end on 16 bytes)\n",
                size, rounded);
        size = rounded;
    }

    img = calloc(1, size);
    if (!img) {
        fprintf(stderr, "fota mkimage: out of memory for %u bytes\n", size);
        return 1;
    }
    if (chip == FOTA_CHIP_ESP8266)
        build_esp8266(img, size, version, project, marker, have_seed ? seed32 : fnv1a64(version),
                      !no_crc);
    else
        build_esp32(img, size, ci, version, project, marker, secure_version,
                    have_seed ? seed32 : fnv1a64(version), date, time_of_day);

    rc = util_write_file(out_path, img, size) == 0 ? 0 : 1;
    if (rc == 0) {
        uint8_t file_hash[32];
        fota_sha256_digest(&FOTA_CRYPTO_HOST, img, size, file_hash);
        util_hex(file_hash, 32, hex);
        if (chip == FOTA_CHIP_ESP8266)
            printf("wrote %s: ESP8266 Arduino sketch '%s' version %s (%s), %u bytes, sha256 %s\n",
                   out_path, project, version,
                   no_crc ? "no flash CRC, as before core 2.7.0" : "with elf2bin flash CRC",
                   size, hex);
        else
            printf("wrote %s: %s application '%s' version %s, secure_version %u, %u bytes, "
                   "sha256 %s\n",
                   out_path, fota_chip_display_name(chip), project, version, secure_version, size,
                   hex);
    }
    free(img);
    return rc;
}
