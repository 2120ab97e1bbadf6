/*
 * fota inspect: what an image or a manifest holds.
 * Exit 0: valid; 1: an image whose checksum or hash is wrong, or a manifest
 * whose signature does not verify with --key (or whose image next to it
 * differs); 2: unreadable or malformed input.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "fota/crypto.h"
#include "fota/error.h"
#include "fota/esp_image.h"
#include "fota/manifest.h"
#include "keys.h"
#include "util.h"
#include "fota_crypto_backends.h"

static void inspect_usage(FILE *out)
{
    fprintf(out, "usage: fota inspect FILE [--key PREFIX.pub|PREFIX.key]\n"
                 "  FILE is a firmware image (ESP32 family, ESP8266, or raw) or a manifest.\n"
                 "  With --key, a manifest's signature is checked (exit 1 if it fails).\n");
}

/* Descriptor strings come from the file: show them safely. */
static void print_quoted(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
            printf("\\x%02x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static const char *spi_mode_name(uint8_t m)
{
    static const char *const names[] = {"QIO", "QOUT", "DIO", "DOUT"};
    return m < 4 ? names[m] : "unknown";
}

/* checksum_ok: the part's verdict when the caller knows better (an Arduino
 * sketch whose checksum was computed over the CRC words as zeros), or -1. */
static void print_part(const struct util_image_part *p, const char *title, int checksum_ok)
{
    const struct fota_esp_header *h = &p->hdr;
    const struct fota_esp_verify *v = &p->ver;

    printf("%s at offset 0x%zx:\n", title, p->offset);
    if (h->format == FOTA_IMAGE_ESP32)
        printf("  chip:            %s (chip id 0x%04x)\n",
               h->chip == FOTA_CHIP_ANY ? "unknown" : fota_chip_display_name(h->chip), h->chip_id);
    else
        printf("  chip:            ESP8266 (8-byte header, no chip id)\n");
    printf("  entry:           0x%08x\n", h->entry);
    printf("  flash:           SPI mode %u (%s), size/frequency byte 0x%02x\n", h->spi_mode,
           spi_mode_name(h->spi_mode), h->flash_size_freq);
    if (h->format == FOTA_IMAGE_ESP32)
        printf("  chip revision:   min %u.%02u, max %u.%02u\n", h->min_chip_rev / 100,
               h->min_chip_rev % 100, h->max_chip_rev / 100, h->max_chip_rev % 100);
    printf("  segments:        %u\n", h->segments);
    for (unsigned i = 0; i < h->segments; i++) {
        if (p->verify_err != 0 && v->segment_addr[i] == 0 && v->segment_len[i] == 0)
            break; /* the walk stopped before this one */
        printf("    %2u: addr 0x%08x  len %u\n", i, v->segment_addr[i], v->segment_len[i]);
    }
    if (h->has_app_desc) {
        printf("  app descriptor:  project ");
        print_quoted(h->project);
        printf(", version ");
        print_quoted(h->version);
        printf(", secure_version %u, idf_ver ", h->secure_version);
        print_quoted(h->idf_ver);
        printf(", built ");
        print_quoted(h->date);
        printf(" ");
        print_quoted(h->time);
        printf("\n");
    }
    if (p->verify_err != 0) {
        printf("  structure:       BROKEN: %s\n",
               p->verify_err == FOTA_ERR_IMAGE_SIZE ? "truncated (segments run past the end)"
                                                    : "malformed segment table");
        return;
    }
    printf("  image length:    %u bytes\n", v->image_len);
    if (checksum_ok < 0)
        checksum_ok = v->checksum_ok;
    printf("  checksum:        %s\n", checksum_ok ? "valid" : "INVALID");
    if (h->format == FOTA_IMAGE_ESP32)
        printf("  appended sha256: %s\n",
               !h->hash_appended ? "none" : v->hash_ok ? "valid" : "INVALID");
}

static int inspect_image(const char *path, const uint8_t *data, size_t len)
{
    struct util_image img;
    const char *why;
    char hex[65];
    int verdict;

    util_image_examine(data, len, &img);
    util_hex(img.file_sha256, 32, hex);
    printf("file:     %s\n", path);
    printf("format:   %s\n", util_image_kind_name(img.kind));
    printf("size:     %zu bytes\n", len);
    printf("sha256:   %s\n", hex);
    if (img.kind == UTIL_IMAGE_RAW) {
        if (len >= 2 && data[0] == 0xAA && data[1] == 0x50)
            printf("note:     this looks like an ESP-IDF partition table, not firmware\n");
        else if (len >= 1 && data[0] == FOTA_ESP_IMAGE_MAGIC) {
            struct fota_esp_header_fault fault;
            fota_esp_header_explain(data, len, &fault);
            printf("note:     starts with 0xE9, an ESP image's magic, but the header is invalid: "
                   "%s is 0x%x, must be %s\n",
                   fault.field, (unsigned)fault.value, fault.rule);
        }
        return 0;
    }
    if (img.kind == UTIL_IMAGE_ESP8266_ARDUINO) {
        const struct fota_esp8266_bin *b = &img.bin;
        print_part(&img.part[0], "eboot loader image", -1);
        print_part(&img.part[1], "sketch image", img.part[1].verify_err ? -1 : b->checksum_ok);
        if (img.part[1].verify_err == 0) {
            if (!b->has_crc)
                printf("flash crc:       none (the layout before Arduino core 2.7.0)\n");
            else
                printf("flash crc:       elf2bin layout (core 2.7.0 on): length %u at 0x%x %s, "
                       "CRC 0x%08x at 0x%x %s\n",
                       (unsigned)b->stored_len, FOTA_ESP8266_CRC_LEN_OFFSET,
                       b->length_ok ? "valid" : "INVALID", (unsigned)b->stored_crc,
                       FOTA_ESP8266_CRC_VAL_OFFSET, b->crc_ok ? "valid" : "INVALID");
        }
    } else {
        print_part(&img.part[0], "image", -1);
    }
    verdict = util_image_verdict(&img, &why);
    if (verdict == 0) {
        size_t end = img.part[img.n_parts - 1].offset + img.part[img.n_parts - 1].ver.image_len;
        if (end < len)
            printf("trailing: %zu bytes after the image (ignored by the bootloader)\n", len - end);
        printf("result:   valid\n");
    } else {
        printf("result:   INVALID: %s\n", why);
        fprintf(stderr, "fota inspect: %s: %s\n", path, why);
    }
    return verdict;
}

/* When a url of the manifest is a relative path and that file sits next to
 * the manifest (as `fota release` lays it out), check its size and SHA-256.
 * Returns 0 when it matches or is absent, 1 on a mismatch. */
static int check_local_file(const char *manifest_path, const char *label, const char *url,
                            uint32_t size, const uint8_t sha256[32])
{
    char dir[4096], path[8192];
    const char *slash = strrchr(manifest_path, '/');
    uint8_t hash[32], *data;
    size_t len;
    int bad;

    if (strstr(url, "://") || url[0] == '/' || strstr(url, ".."))
        return 0;
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - manifest_path) : 1,
             slash ? manifest_path : ".");
    snprintf(path, sizeof path, "%s/%s", dir, url);
    if (!util_exists(path)) {
        printf("%-17s %s not present here (not checked)\n", label, path);
        return 0;
    }
    data = util_read_file(path, &len);
    if (!data)
        return 1;
    fota_sha256_digest(&FOTA_CRYPTO_HOST, data, len, hash);
    free(data);
    bad = len != size || memcmp(hash, sha256, 32) != 0;
    if (bad) {
        printf("%-17s %s DIFFERS from the manifest (%zu bytes%s)\n", label, path, len,
               len == size ? ", sha256 differs" : "");
        fprintf(stderr, "fota inspect: %s: size or SHA-256 differs from the manifest\n", path);
    } else {
        printf("%-17s %s matches (size and sha256)\n", label, path);
    }
    return bad;
}

static int check_local_image(const char *manifest_path, const struct fota_manifest *m,
                             const char *text)
{
    int bad = check_local_file(manifest_path, "image:", m->url, m->size, m->sha256);
    char url[FOTA_MANIFEST_URL_MAX + 1], hex[65];
    for (size_t i = 0; i < m->n_artifacts; i++) {
        const struct fota_manifest_artifact *a = &m->artifacts[i];
        snprintf(url, sizeof url, "%.*s", (int)a->url_len, text + a->url_offset);
        if (a->kind == FOTA_ARTIFACT_DELTA) {
            util_hex(a->base_sha256, 32, hex);
            printf("artifact:         patch from %u-byte base %s\n", a->base_size, hex);
        } else {
            printf("artifact:         compressed image\n");
        }
        bad |= check_local_file(manifest_path, "  file:", url, a->size, a->sha256);
    }
    return bad;
}

/* The value of an informational line the parser checks but does not keep. */
static const char *find_line(const char *text, size_t len, const char *prefix, size_t *vlen)
{
    size_t plen = strlen(prefix);
    for (size_t i = 0; i + plen <= len; i++) {
        if ((i == 0 || text[i - 1] == '\n') && memcmp(text + i, prefix, plen) == 0) {
            const char *v = text + i + plen, *end = memchr(v, '\n', len - i - plen);
            *vlen = end ? (size_t)(end - v) : len - i - plen;
            return v;
        }
    }
    return NULL;
}

static int inspect_manifest(const char *path, const char *text, size_t len, const char *key_path)
{
    struct fota_manifest m;
    struct tool_key key;
    int line = 0, r, rc = 0;
    char hex[129];
    const char *project;
    size_t project_len;

    r = fota_manifest_parse(text, len, &m, &line);
    if (r != 0 && fota_manifest_text_problem(text, len)) {
        fprintf(stderr, "fota inspect: %s: the manifest %s\n", path,
                fota_manifest_text_problem(text, len));
        return 2;
    }
    if (r != 0) {
        fprintf(stderr, "fota inspect: %s: malformed manifest at line %d (see docs/manifest.md)\n",
                path, line);
        return 2;
    }
    printf("file:             %s\n", path);
    printf("format:           fota manifest %u\n", m.format);
    printf("product:          %s\n", m.product);
    printf("chip:             %s (%s)\n", fota_chip_name(m.chip), fota_chip_display_name(m.chip));
    printf("version:          %s\n", m.version);
    printf("version-code:     %u\n", m.version_code);
    printf("security-counter: %u\n", m.security_counter);
    printf("sequence:         %u\n", m.sequence);
    printf("size:             %u\n", m.size);
    util_hex(m.sha256, 32, hex);
    printf("sha256:           %s\n", hex);
    printf("url:              %s\n", m.url);
    project = find_line(text, m.signed_len, "project: ", &project_len);
    if (project)
        printf("project:          %.*s\n", (int)project_len, project);
    if (m.expires) {
        time_t t = (time_t)m.expires;
        struct tm tm;
        char when[32];
        gmtime_r(&t, &tm);
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        printf("expires:          %s%s\n", when, m.expires < (int64_t)time(NULL) ? " (EXPIRED)" : "");
    } else {
        printf("expires:          never\n");
    }
    util_hex(m.key_id, sizeof m.key_id, hex);
    printf("key-id:           %s\n", hex);
    printf("signed bytes:     %zu\n", m.signed_len);

    if (!key_path) {
        printf("signature:        not checked (give --key PREFIX.pub)\n");
    } else {
        if (keys_load_any(key_path, &key) != 0)
            return 2;
        r = fota_manifest_verify(&m, text, (const uint8_t(*)[FOTA_P256_PUBKEY_SIZE])key.pub, 1,
                                 &FOTA_CRYPTO_HOST);
        if (r == 0) {
            printf("signature:        valid (key %s)\n", key.id_hex);
        } else if (r == FOTA_ERR_UNKNOWN_KEY) {
            printf("signature:        NOT VERIFIED: signed by key id %s, but %s is key %s\n", hex,
                   key_path, key.id_hex);
            fprintf(stderr, "fota inspect: %s: signed by key id %s, not by %s (key id %s)\n", path,
                    hex, key_path, key.id_hex);
            rc = 1;
        } else {
            printf("signature:        INVALID (key %s)\n", key.id_hex);
            fprintf(stderr,
                    "fota inspect: %s: signature does not verify with %s (the signed text was "
                    "changed, or the signature is corrupt)\n",
                    path, key_path);
            rc = 1;
        }
        keys_free(&key);
    }
    if (check_local_image(path, &m, text) != 0)
        rc = 1;
    return rc;
}

int cmd_inspect(int argc, char **argv)
{
    const char *file = NULL, *key_path = NULL;
    uint8_t *data;
    size_t len;
    int rc;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--key")) {
            if (++i >= argc) {
                fprintf(stderr, "fota inspect: --key needs a key file\n");
                return 2;
            }
            key_path = argv[i];
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            inspect_usage(stdout);
            return 0;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "fota inspect: unknown option '%s'\n", argv[i]);
            inspect_usage(stderr);
            return 2;
        } else if (file) {
            fprintf(stderr, "fota inspect: one FILE at a time ('%s' and '%s')\n", file, argv[i]);
            return 2;
        } else {
            file = argv[i];
        }
    }
    if (!file) {
        inspect_usage(stderr);
        return 2;
    }
    data = util_read_file(file, &len);
    if (!data)
        return 2;
    if ((len >= 14 && memcmp(data, "fota-manifest:", 14) == 0) ||
        (len >= 17 && memcmp(data, "\xEF\xBB\xBF" "fota-manifest:", 17) == 0)) /* BOM */
        rc = inspect_manifest(file, (const char *)data, len, key_path);
    else if (key_path) {
        fprintf(stderr, "fota inspect: %s is not a manifest; --key applies to manifests only\n",
                file);
        rc = 2;
    } else
        rc = inspect_image(file, data, len);
    free(data);
    return rc;
}
