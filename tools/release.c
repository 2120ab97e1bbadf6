/*
 * fota release: sign a firmware image and lay out a release directory
 *
 *   DIR/<product>/manifest.txt
 *   DIR/<product>/firmware/<product>-<version>.bin
 *
 * The image is written (atomically) before the manifest, and the manifest by
 * temp file + rename, so a server never serves a manifest whose image is
 * missing or half written. Before anything is written the new manifest is
 * parsed and verified with the device-side code (src/manifest.c).
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

#define MANIFEST_MAX 2048

static void release_usage(FILE *out)
{
    fprintf(out,
            "usage: fota release --key PREFIX.key --product ID --out DIR [options] FIRMWARE.bin\n"
            "  --version V            version string (default: from the app descriptor)\n"
            "  --version-code N       number devices compare (default: derived from V)\n"
            "  --chip C               esp8266, esp32, esp32s2, ... (default: from the header)\n"
            "  --security-counter N   anti-rollback counter (default: the app's secure_version,\n"
            "                         else the current release's counter, else 0)\n"
            "  --sequence N           manifest sequence (default: current + 1, or 1)\n"
            "  --expires-in-days D | --expires YYYY-MM-DDTHH:MM:SSZ\n"
            "  --url URL              image URL (default: firmware/<product>-<version>.bin)\n"
            "  --allow-downgrade      release a version code not above the current one\n");
}

/* Product ids and versions become file names: keep them to a safe set. */
static int name_ok(const char *what, const char *s, size_t max, const char *extra)
{
    size_t n = strlen(s);
    if (n == 0 || n > max || s[0] == '.' || s[0] == '-') {
        fprintf(stderr,
                "fota release: %s '%s' must be 1..%zu characters and not start with '.' or '-'\n",
                what, s, max);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || (c && strchr(extra, c)))) {
            fprintf(stderr, "fota release: %s '%s' may only contain letters, digits and ._-%s\n",
                    what, s, extra);
            return 0;
        }
    }
    return 1;
}

static int value_ok(const char *what, const char *s, size_t max, int allow_space)
{
    size_t n = strlen(s);
    if (n == 0 || n > max) {
        fprintf(stderr, "fota release: %s must be 1..%zu characters\n", what, max);
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] > 0x7e || (!allow_space && s[i] == ' ')) {
            fprintf(stderr, "fota release: %s '%s' must be printable ASCII%s\n", what, s,
                    allow_space ? "" : " without spaces");
            return 0;
        }
    return allow_space ? s[0] != ' ' && s[n - 1] != ' ' : 1;
}

struct release_opts {
    const char *key, *product, *version, *chip, *expires, *url, *out, *firmware;
    uint32_t version_code, security_counter, sequence, expires_days;
    int have_version_code, have_security_counter, have_sequence, have_expires_days;
    int allow_downgrade;
};

static int parse_args(int argc, char **argv, struct release_opts *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **str = NULL;
        uint32_t *num = NULL;
        int *have = NULL;

        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            release_usage(stdout);
            return 1;
        }
        if (!strcmp(a, "--allow-downgrade")) {
            o->allow_downgrade = 1;
            continue;
        }
        if (!strcmp(a, "--key"))
            str = &o->key;
        else if (!strcmp(a, "--product"))
            str = &o->product;
        else if (!strcmp(a, "--version"))
            str = &o->version;
        else if (!strcmp(a, "--chip"))
            str = &o->chip;
        else if (!strcmp(a, "--expires"))
            str = &o->expires;
        else if (!strcmp(a, "--url"))
            str = &o->url;
        else if (!strcmp(a, "--out") || !strcmp(a, "-o"))
            str = &o->out;
        else if (!strcmp(a, "--version-code"))
            num = &o->version_code, have = &o->have_version_code;
        else if (!strcmp(a, "--security-counter"))
            num = &o->security_counter, have = &o->have_security_counter;
        else if (!strcmp(a, "--sequence"))
            num = &o->sequence, have = &o->have_sequence;
        else if (!strcmp(a, "--expires-in-days"))
            num = &o->expires_days, have = &o->have_expires_days;
        else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "fota release: unknown option '%s'\n", a);
            release_usage(stderr);
            return 2;
        } else {
            if (o->firmware) {
                fprintf(stderr, "fota release: one FIRMWARE file at a time ('%s' and '%s')\n",
                        o->firmware, a);
                return 2;
            }
            o->firmware = a;
            continue;
        }
        if (++i >= argc) {
            fprintf(stderr, "fota release: %s needs a value\n", a);
            return 2;
        }
        if (str) {
            *str = argv[i];
        } else {
            if (util_parse_u32(argv[i], num) != 0) {
                fprintf(stderr, "fota release: %s '%s' is not a number 0..4294967295\n", a,
                        argv[i]);
                return 2;
            }
            *have = 1;
        }
    }
    if (!o->key || !o->product || !o->out || !o->firmware) {
        fprintf(stderr, "fota release: --key, --product, --out and FIRMWARE are required\n");
        release_usage(stderr);
        return 2;
    }
    if (o->expires && o->have_expires_days) {
        fprintf(stderr, "fota release: give --expires or --expires-in-days, not both\n");
        return 2;
    }
    return 0;
}

/* The current manifest of the product, if there is one. 0: none, 1: loaded,
 * -1: present but unreadable or malformed (never overwritten blindly). */
static int load_current(const char *path, struct fota_manifest *cur)
{
    size_t len;
    uint8_t *text;
    int line = 0, r;

    if (!util_exists(path))
        return 0;
    text = util_read_file(path, &len);
    if (!text)
        return -1;
    r = fota_manifest_parse((const char *)text, len, cur, &line);
    if (r != 0 && fota_manifest_text_problem((const char *)text, len)) {
        fprintf(stderr, "fota release: the current manifest %s %s\n", path,
                fota_manifest_text_problem((const char *)text, len));
        free(text);
        return -1;
    }
    free(text);
    if (r != 0) {
        fprintf(stderr,
                "fota release: the current manifest %s is malformed (line %d); move it away to "
                "start the product's history afresh\n",
                path, line);
        return -1;
    }
    return 1;
}

/* Write the image unless an identical file is already there; refuse to
 * replace different bytes under the same name (devices may be downloading it). */
static int write_image(const char *path, const uint8_t *data, size_t len)
{
    if (util_exists(path)) {
        size_t old_len;
        uint8_t *old = util_read_file(path, &old_len);
        int same = old && old_len == len && memcmp(old, data, len) == 0;
        free(old);
        if (same)
            return 0;
        fprintf(stderr,
                "fota release: %s already exists with different contents; refusing to overwrite "
                "a published image (give the new build its own version)\n",
                path);
        return -1;
    }
    return util_write_file(path, data, len);
}

int cmd_release(int argc, char **argv)
{
    struct release_opts o;
    struct tool_key key;
    struct util_image img;
    struct fota_manifest cur, check;
    const struct fota_esp_header *h = NULL;
    char version[FOTA_MANIFEST_VERSION_MAX + 1] = "", project[33] = "";
    char product_dir[4096], fw_dir[4096], fw_path[8192], manifest_path[4096];
    char url[FOTA_MANIFEST_URL_MAX + 1], expires[32] = "", hex[129], text[MANIFEST_MAX];
    uint8_t *fw = NULL, hash[32], sig[FOTA_P256_SIG_SIZE];
    uint32_t version_code, security_counter = 0, sequence;
    size_t fw_len = 0, n;
    int chip, have_cur, line, r, rc = 1;
    const char *why;

    r = parse_args(argc, argv, &o);
    if (r != 0)
        return r == 1 ? 0 : r;
    if (!name_ok("product", o.product, FOTA_MANIFEST_PRODUCT_MAX, ""))
        return 2;
    if (keys_load_private(o.key, &key) != 0)
        return 1;
    fw = util_read_file(o.firmware, &fw_len);
    if (!fw)
        goto out;
    if (fw_len == 0 || fw_len > UINT32_MAX) {
        fprintf(stderr, "fota release: %s: size %zu is not a releasable image size\n", o.firmware,
                fw_len);
        goto out;
    }

    /* What the image says about itself */
    util_image_examine(fw, fw_len, &img);
    if (img.kind == UTIL_IMAGE_RAW && fw[0] == FOTA_ESP_IMAGE_MAGIC) {
        struct fota_esp_header_fault fault;
        fota_esp_header_explain(fw, fw_len, &fault);
        fprintf(stderr,
                "fota release: %s starts with 0xE9, an ESP image's magic, but its header is "
                "invalid: %s is 0x%x, must be %s; devices would refuse it\n",
                o.firmware, fault.field, (unsigned)fault.value, fault.rule);
        goto out;
    }
    if (img.kind != UTIL_IMAGE_RAW) {
        if (util_image_verdict(&img, &why) != 0) {
            fprintf(stderr, "fota release: %s is a broken %s: %s\n", o.firmware,
                    util_image_kind_name(img.kind), why);
            goto out;
        }
        h = &img.part[img.n_parts - 1].hdr; /* the sketch, for an Arduino ESP8266 .bin */
    }
    chip = h ? h->chip : FOTA_CHIP_ANY;
    if (h && h->format == FOTA_IMAGE_ESP32 && chip == FOTA_CHIP_ANY) {
        fprintf(stderr, "fota release: %s: unknown chip id 0x%04x in the image header\n",
                o.firmware, h->chip_id);
        goto out;
    }
    if (o.chip) {
        int want = fota_chip_from_name(o.chip, strlen(o.chip));
        if (want <= FOTA_CHIP_ANY) {
            fprintf(stderr, "fota release: --chip '%s' is not a known chip (", o.chip);
            for (int c = FOTA_CHIP_ANY + 1; c < FOTA_CHIP_COUNT; c++)
                fprintf(stderr, "%s%s", c > FOTA_CHIP_ANY + 1 ? ", " : "", fota_chip_name(c));
            fprintf(stderr, ")\n");
            goto out;
        }
        if (chip != FOTA_CHIP_ANY && want != chip) {
            fprintf(stderr,
                    "fota release: --chip %s contradicts %s, whose header says %s; devices would "
                    "refuse it\n",
                    fota_chip_name(want), o.firmware, fota_chip_display_name(chip));
            goto out;
        }
        chip = want;
    }
    if (chip == FOTA_CHIP_ANY) {
        fprintf(stderr, "fota release: %s is not an ESP image, so its chip is unknown: give "
                        "--chip\n", o.firmware);
        goto out;
    }
    if (img.kind == UTIL_IMAGE_RAW)
        fprintf(stderr, "fota release: warning: %s is not an ESP image; devices that check the "
                        "image header (all but FOTA_CHIP_ANY test devices) will refuse it\n",
                o.firmware);
    else if (img.kind == UTIL_IMAGE_ESP32_OTHER)
        fprintf(stderr, "fota release: warning: %s has no app descriptor: it looks like a "
                        "bootloader or a RAM-loaded image, not an application\n",
                o.firmware);
    if (h && h->has_app_desc) {
        snprintf(version, sizeof version, "%s", h->version);
        snprintf(project, sizeof project, "%s", h->project);
    }
    if (o.version)
        snprintf(version, sizeof version, "%s", o.version);
    if (!version[0]) {
        fprintf(stderr, "fota release: %s has no app descriptor with a version (%s): give "
                        "--version\n", o.firmware, util_image_kind_name(img.kind));
        goto out;
    }
    if (o.version && strlen(o.version) > FOTA_MANIFEST_VERSION_MAX) {
        fprintf(stderr, "fota release: --version '%s' is longer than %d characters\n", o.version,
                FOTA_MANIFEST_VERSION_MAX);
        goto out;
    }
    if (!name_ok("version", version, FOTA_MANIFEST_VERSION_MAX, "+")) {
        if (!o.version)
            fprintf(stderr, "fota release: (the version comes from the app descriptor of %s; "
                            "give --version)\n", o.firmware);
        goto out;
    }
    if (project[0] && !value_ok("the app descriptor's project name", project, 32, 1))
        project[0] = 0; /* informational only: leave out a name that cannot be signed */
    if (o.have_version_code) {
        version_code = o.version_code;
    } else if (fota_version_code(version, strlen(version), &version_code) != 0) {
        fprintf(stderr,
                "fota release: cannot derive a version code from version '%s' (expected a build "
                "number like 2024061501 or [v]MAJOR.MINOR.PATCH with parts below 1000): give "
                "--version-code N\n",
                version);
        goto out;
    }

    /* Where it goes, and what is there now */
    if (snprintf(product_dir, sizeof product_dir, "%s/%s", o.out, o.product) >=
            (int)sizeof product_dir ||
        snprintf(fw_dir, sizeof fw_dir, "%s/firmware", product_dir) >= (int)sizeof fw_dir ||
        snprintf(manifest_path, sizeof manifest_path, "%s/manifest.txt", product_dir) >=
            (int)sizeof manifest_path) {
        fprintf(stderr, "fota release: output path too long: %s\n", o.out);
        goto out;
    }
    snprintf(fw_path, sizeof fw_path, "%s/%s-%s.bin", fw_dir, o.product, version);
    have_cur = load_current(manifest_path, &cur);
    if (have_cur < 0)
        goto out;

    if (have_cur && strcmp(cur.product, o.product) != 0) {
        fprintf(stderr, "fota release: %s belongs to product '%s', not '%s'\n", manifest_path,
                cur.product, o.product);
        goto out;
    }
    if (have_cur && cur.chip != chip) {
        fprintf(stderr,
                "fota release: product %s is released for %s (%s), this image is for %s; devices "
                "would refuse it (use another product id for another chip)\n",
                o.product, fota_chip_name(cur.chip), manifest_path, fota_chip_name(chip));
        goto out;
    }
    if (have_cur && version_code <= cur.version_code && !o.allow_downgrade) {
        fprintf(stderr,
                "fota release: version code %u (%s) is not greater than the current release's "
                "%u (%s) in %s; refusing a downgrade (use --allow-downgrade)\n",
                version_code, version, cur.version_code, cur.version, manifest_path);
        goto out;
    }

    if (o.have_sequence) {
        sequence = o.sequence;
        if (have_cur && sequence <= cur.sequence) {
            fprintf(stderr,
                    "fota release: --sequence %u is not greater than the current manifest's %u; "
                    "devices that saw it would reject this one as a replay\n",
                    sequence, cur.sequence);
            goto out;
        }
    } else if (have_cur) {
        if (cur.sequence == UINT32_MAX) {
            fprintf(stderr, "fota release: the current sequence is at its maximum\n");
            goto out;
        }
        sequence = cur.sequence + 1;
    } else {
        sequence = 1;
    }

    if (o.have_security_counter)
        security_counter = o.security_counter;
    else if (h && h->has_app_desc)
        security_counter = h->secure_version;
    else if (have_cur)
        security_counter = cur.security_counter;
    if (have_cur && security_counter < cur.security_counter) {
        if (!o.allow_downgrade) {
            fprintf(stderr,
                    "fota release: security counter %u is below the current release's %u; "
                    "devices that installed it refuse lower counters (use --allow-downgrade "
                    "to publish it anyway)\n",
                    security_counter, cur.security_counter);
            goto out;
        }
        fprintf(stderr, "fota release: warning: security counter %u is below the current %u: "
                        "devices that confirmed the current release will refuse this one\n",
                security_counter, cur.security_counter);
    }

    if (o.have_expires_days) {
        time_t t = time(NULL) + (time_t)o.expires_days * 86400;
        struct tm tm;
        if (!gmtime_r(&t, &tm) || strftime(expires, sizeof expires, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
            fprintf(stderr, "fota release: --expires-in-days %u is out of range\n", o.expires_days);
            goto out;
        }
    } else if (o.expires) {
        int64_t when;
        if (fota_parse_utc(o.expires, strlen(o.expires), &when) != 0 || when <= 0) {
            fprintf(stderr, "fota release: --expires '%s' is not a UTC time like "
                            "2027-01-31T00:00:00Z\n", o.expires);
            goto out;
        }
        if (when <= (int64_t)time(NULL))
            fprintf(stderr, "fota release: warning: --expires %s is in the past; devices with "
                            "a clock will refuse this release\n", o.expires);
        snprintf(expires, sizeof expires, "%s", o.expires);
    }

    if (o.url) {
        if (!value_ok("--url", o.url, FOTA_MANIFEST_URL_MAX, 0))
            goto out;
        snprintf(url, sizeof url, "%s", o.url);
    } else {
        snprintf(url, sizeof url, "firmware/%s-%s.bin", o.product, version);
    }

    /* The manifest text, signed over every byte before the signature line */
    fota_sha256_digest(&fota_crypto_mbedtls, fw, fw_len, hash);
    util_hex(hash, 32, hex);
    n = (size_t)snprintf(text, sizeof text,
                         "fota-manifest: %d\nproduct: %s\nchip: %s\nversion: %s\n"
                         "version-code: %u\nsecurity-counter: %u\nsequence: %u\nsize: %zu\n"
                         "sha256: %s\nurl: %s\n",
                         FOTA_MANIFEST_FORMAT, o.product, fota_chip_name(chip), version,
                         version_code, security_counter, sequence, fw_len, hex, url);
    if (project[0] && n < sizeof text)
        n += (size_t)snprintf(text + n, sizeof text - n, "project: %s\n", project);
    if (expires[0] && n < sizeof text)
        n += (size_t)snprintf(text + n, sizeof text - n, "expires: %s\n", expires);
    if (n < sizeof text)
        n += (size_t)snprintf(text + n, sizeof text - n, "key-id: %s\n", key.id_hex);
    if (n + 11 + 128 + 2 > sizeof text) {
        fprintf(stderr, "fota release: manifest longer than %d bytes\n", MANIFEST_MAX);
        goto out;
    }
    fota_sha256_digest(&fota_crypto_mbedtls, text, n, hash);
    if (keys_sign(&key, hash, sig) != 0)
        goto out;
    util_hex(sig, sizeof sig, hex);
    n += (size_t)snprintf(text + n, sizeof text - n, "signature: %s\n", hex);

    /* Read it back the way a device will, before publishing anything */
    r = fota_manifest_parse(text, n, &check, &line);
    if (r == 0)
        r = fota_manifest_verify(&check, text, (const uint8_t(*)[FOTA_P256_PUBKEY_SIZE])key.pub, 1,
                                 &fota_crypto_mbedtls);
    if (r != 0) {
        fprintf(stderr, "fota release: internal error: the new manifest does not check (error %d "
                        "at line %d)\n", r, line);
        goto out;
    }

    if (util_mkdirs(fw_dir) != 0 || write_image(fw_path, fw, fw_len) != 0 ||
        util_write_file(manifest_path, text, n) != 0)
        goto out;

    util_hex(check.sha256, 32, hex);
    printf("released %s %s for %s\n", o.product, version, fota_chip_display_name(chip));
    printf("  version code:     %u\n", version_code);
    printf("  security counter: %u\n", security_counter);
    printf("  sequence:         %u\n", sequence);
    printf("  size:             %zu bytes\n", fw_len);
    printf("  sha256:           %s\n", hex);
    if (project[0])
        printf("  project:          %s\n", project);
    printf("  expires:          %s\n", expires[0] ? expires : "never");
    printf("  key id:           %s\n", key.id_hex);
    printf("  image:            %s\n", fw_path);
    printf("  manifest:         %s\n", manifest_path);
    printf("  url:              %s\n", url);
    rc = 0;
out:
    free(fw);
    keys_free(&key);
    return rc;
}
