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
#include "release_legacy.h"
#include "release_artifacts.h"
#include "util.h"
#include "fota_crypto_backends.h"

#define MANIFEST_MAX 4096

static void release_usage(FILE *out)
{
    fprintf(out,
            "usage: fota release --key PREFIX.key --product ID --out DIR [options] FIRMWARE.bin\n"
            "  --version V            version string (default: from the app descriptor)\n"
            "  --version-code N       number devices compare (default: V when it is a build\n"
            "                         number or [v]MAJOR.MINOR.PATCH, else the build time in\n"
            "                         the app descriptor; never guessed from other versions)\n"
            "  --chip C               esp8266, esp32, esp32s2, ... (default: from the header)\n"
            "  --security-counter N   anti-rollback counter (default: the app's secure_version,\n"
            "                         else the current release's counter, else 0)\n"
            "  --sequence N           manifest sequence (default: current + 1, or 1)\n"
            "  --expires-in-days D | --expires YYYY-MM-DDTHH:MM:SSZ\n"
            "  --url URL              image URL (default: firmware/<product>-<version>.bin)\n"
            "  --allow-downgrade      release a version code not above the current one\n"
            "  --device MAC           a manifest for this device only, in <product>/<MAC>/\n"
            "                         (the {mac} URLs of the examples); repeatable\n"
            "  --devices FILE         the same for every MAC listed in FILE (one a line)\n"
            "  --legacy               also write the stock Arduino updater's layout:\n"
            "                         <product>/legacy/<MAC>.version and <MAC>.bin (or\n"
            "                         default.* without devices); see docs/migrate.md\n"
            "  --group NAME           with --legacy: the devices form group NAME, which\n"
            "                         fota serve answers from legacy/groups/NAME.*\n"
            "  --strict               refuse a key file that group or others can access\n"
            "                         (without it: a warning)\n"
            "  --delta-from OLD.bin   also publish a patch from OLD.bin (repeatable) and a\n"
            "                         compressed image (manifest format 2, docs/delta.md)\n"
            "  --compress             also publish a compressed image\n"
            "  --data LABEL=FILE      also publish FILE, an image of the data partition LABEL\n"
            "                         (LittleFS, SPIFFS, FAT; repeatable, up to 2): devices\n"
            "                         install it before the application (manifest format 3,\n"
            "                         docs/data-partitions.md)\n");
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

#define RELEASE_DEVICES_MAX 4096

struct release_opts {
    const char *key, *product, *version, *chip, *expires, *url, *out, *firmware;
    uint32_t version_code, security_counter, sequence, expires_days;
    int have_version_code, have_security_counter, have_sequence, have_expires_days;
    int allow_downgrade;
    /* Per-device manifests (DIR/<product>/<MAC>/manifest.txt, the examples'
     * {mac} URLs) and the stock updater's layout (release_legacy.c). */
    char *devices[RELEASE_DEVICES_MAX]; /* normalised MACs, 12 upper-case hex */
    size_t n_devices;
    char device_buf[RELEASE_DEVICES_MAX][13];
    int legacy;
    const char *group;
    int strict;
    const char *delta_from[FOTA_MANIFEST_MAX_ARTIFACTS];
    size_t n_delta_from;
    int compress;
    const char *data[FOTA_MANIFEST_MAX_DATA];
    size_t n_data;
};

/* One device from --device or a --devices file; 0, or -1 with a message. */
static int add_device(struct release_opts *o, const char *text, size_t len, const char *where)
{
    char mac[13];
    if (release_mac_normalise(text, len, mac) != 0) {
        fprintf(stderr, "fota release: %s: '%.*s' is not a MAC address (12 hex digits, "
                        "optionally separated by ':' or '-')\n", where, (int)len, text);
        return -1;
    }
    for (size_t i = 0; i < o->n_devices; i++)
        if (!strcmp(o->devices[i], mac))
            return 0; /* listed twice: once is enough */
    if (o->n_devices == RELEASE_DEVICES_MAX) {
        fprintf(stderr, "fota release: more than %d devices\n", RELEASE_DEVICES_MAX);
        return -1;
    }
    memcpy(o->device_buf[o->n_devices], mac, sizeof mac);
    o->devices[o->n_devices] = o->device_buf[o->n_devices];
    o->n_devices++;
    return 0;
}

/* A file of MACs, one a line; blank lines and '#' comments are skipped. */
static int add_device_file(struct release_opts *o, const char *path)
{
    size_t len;
    char *text = (char *)util_read_file(path, &len);
    int rc = 0;
    if (!text)
        return -1;
    for (char *line = text; rc == 0 && line < text + len;) {
        char *end = memchr(line, '\n', (size_t)(text + len - line));
        size_t n = end ? (size_t)(end - line) : (size_t)(text + len - line);
        while (n && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
            n--;
        while (n && (*line == ' ' || *line == '\t'))
            line++, n--;
        if (n && line[0] != '#')
            rc = add_device(o, line, n, path);
        line = end ? end + 1 : text + len;
    }
    free(text);
    return rc;
}

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
        if (!strcmp(a, "--legacy")) {
            o->legacy = 1;
            continue;
        }
        if (!strcmp(a, "--strict")) {
            o->strict = 1;
            continue;
        }
        if (!strcmp(a, "--device") || !strcmp(a, "--devices") || !strcmp(a, "--group")) {
            if (++i >= argc) {
                fprintf(stderr, "fota release: %s needs a value\n", a);
                return 2;
            }
            if (!strcmp(a, "--group")) {
                o->group = argv[i];
                if (!name_ok("--group", o->group, 64, ""))
                    return 2;
            } else if (!strcmp(a, "--device") ? add_device(o, argv[i], strlen(argv[i]), a)
                                              : add_device_file(o, argv[i])) {
                return 2;
            }
            continue;
        }
        if (!strcmp(a, "--data")) {
            if (++i >= argc) {
                fprintf(stderr, "fota release: --data needs LABEL=FILE\n");
                return 2;
            }
            if (o->n_data == FOTA_MANIFEST_MAX_DATA) {
                fprintf(stderr, "fota release: at most %d --data\n", FOTA_MANIFEST_MAX_DATA);
                return 2;
            }
            o->data[o->n_data++] = argv[i];
            continue;
        }
        if (!strcmp(a, "--compress")) {
            o->compress = 1;
            continue;
        }
        if (!strcmp(a, "--delta-from")) {
            if (++i >= argc) {
                fprintf(stderr, "fota release: --delta-from needs a value\n");
                return 2;
            }
            if (o->n_delta_from == FOTA_MANIFEST_MAX_ARTIFACTS - 1) {
                fprintf(stderr, "fota release: at most %d --delta-from\n",
                        FOTA_MANIFEST_MAX_ARTIFACTS - 1);
                return 2;
            }
            o->delta_from[o->n_delta_from++] = argv[i];
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
    if (o->group && !o->legacy) {
        fprintf(stderr, "fota release: --group applies to --legacy (the stock updater's layout)\n");
        return 2;
    }
    if (o->group && o->n_devices == 0) {
        fprintf(stderr, "fota release: --group needs its members: --device MAC or --devices FILE\n");
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

/* One manifest to publish: where, and its signed text. */
struct release_manifest {
    char dir[4096], path[4200];
    char url[FOTA_MANIFEST_URL_MAX + 1];
    char text[MANIFEST_MAX];
    size_t len;
    uint32_t sequence, security_counter;
};

/* What every manifest of this release shares. */
struct release_ctx {
    const struct release_opts *o;
    struct tool_key *key;
    const struct fota_esp_header *h;
    const char *version, *project;
    uint32_t version_code;
    int chip;
    size_t fw_len;
    uint8_t fw_sha256[32];
    char product_dir[4096], fw_path[8192], expires[32];
    char code_note[96];
    struct release_manifest *m;
    size_t n;
    /* Patches and compressed image: listed in the product's manifest only
     * (their URLs are relative to it; device manifests name the full image) */
    const struct release_artifacts *arts;
    const struct release_artifacts *data; /* data-partition images (every manifest) */
};

/* Build, sign and check the manifest in `dir`: the product's own
 * (device NULL) or one device's (DIR/<product>/<MAC>/, whose image URL
 * climbs one level). Its history (sequence, anti-rollback) is that of the
 * manifest already there, or for a new device manifest the product's. */
static int prepare_manifest(struct release_ctx *c, struct release_manifest *out,
                            const char *device)
{
    const struct release_opts *o = c->o;
    struct fota_manifest cur, check;
    uint8_t hash[32], sig[FOTA_P256_SIG_SIZE];
    char hex[129], product_manifest[4200];
    const struct release_artifacts *arts = !device && c->arts && c->arts->n ? c->arts : NULL;
    int have_data = c->data && c->data->n;
    int have_cur, line, r;
    size_t n;

    if (snprintf(out->dir, sizeof out->dir, "%s%s%s", c->product_dir, device ? "/" : "",
                 device ? device : "") >= (int)sizeof out->dir) {
        fprintf(stderr, "fota release: output path too long: %s\n", o->out);
        return -1;
    }
    snprintf(out->path, sizeof out->path, "%s/manifest.txt", out->dir);
    snprintf(product_manifest, sizeof product_manifest, "%s/manifest.txt", c->product_dir);
    have_cur = load_current(out->path, &cur);
    if (have_cur == 0 && device)
        have_cur = load_current(product_manifest, &cur);
    if (have_cur < 0)
        return -1;

    if (have_cur && strcmp(cur.product, o->product) != 0) {
        fprintf(stderr, "fota release: %s belongs to product '%s', not '%s'\n", out->path,
                cur.product, o->product);
        return -1;
    }
    if (have_cur && cur.chip != c->chip) {
        fprintf(stderr,
                "fota release: product %s is released for %s (%s), this image is for %s; devices "
                "would refuse it (use another product id for another chip)\n",
                o->product, fota_chip_name(cur.chip), out->path, fota_chip_name(c->chip));
        return -1;
    }
    if (have_cur && c->version_code <= cur.version_code && !o->allow_downgrade) {
        fprintf(stderr,
                "fota release: version code %u (%s) is not greater than the current release's "
                "%u (%s) in %s; refusing a downgrade (use --allow-downgrade)\n",
                c->version_code, c->version, cur.version_code, cur.version, out->path);
        return -1;
    }

    if (o->have_sequence) {
        out->sequence = o->sequence;
        if (have_cur && out->sequence <= cur.sequence) {
            fprintf(stderr,
                    "fota release: --sequence %u is not greater than the current manifest's %u; "
                    "devices that saw it would reject this one as a replay\n",
                    out->sequence, cur.sequence);
            return -1;
        }
    } else if (have_cur) {
        if (cur.sequence == UINT32_MAX) {
            fprintf(stderr, "fota release: the current sequence is at its maximum\n");
            return -1;
        }
        out->sequence = cur.sequence + 1;
    } else {
        out->sequence = 1;
    }

    out->security_counter = 0;
    if (o->have_security_counter)
        out->security_counter = o->security_counter;
    else if (c->h && c->h->has_app_desc)
        out->security_counter = c->h->secure_version;
    else if (have_cur)
        out->security_counter = cur.security_counter;
    if (have_cur && out->security_counter < cur.security_counter) {
        if (!o->allow_downgrade) {
            fprintf(stderr,
                    "fota release: security counter %u is below the current release's %u; "
                    "devices that installed it refuse lower counters (use --allow-downgrade "
                    "to publish it anyway)\n",
                    out->security_counter, cur.security_counter);
            return -1;
        }
        fprintf(stderr, "fota release: warning: security counter %u is below the current %u: "
                        "devices that confirmed the current release will refuse this one\n",
                out->security_counter, cur.security_counter);
    }

    if (o->url)
        snprintf(out->url, sizeof out->url, "%s", o->url);
    else
        snprintf(out->url, sizeof out->url, "%sfirmware/%s-%s.bin", device ? "../" : "",
                 o->product, c->version);

    /* The manifest text, signed over every byte before the signature line */
    util_hex(c->fw_sha256, 32, hex);
    n = (size_t)snprintf(out->text, sizeof out->text,
                         "fota-manifest: %d\nproduct: %s\nchip: %s\nversion: %s\n"
                         "version-code: %u\nsecurity-counter: %u\nsequence: %u\nsize: %zu\n"
                         "sha256: %s\nurl: %s\n",
                         have_data ? FOTA_MANIFEST_FORMAT_DATA
                         : arts    ? FOTA_MANIFEST_FORMAT_ARTIFACTS
                                   : FOTA_MANIFEST_FORMAT,
                         o->product,
                         fota_chip_name(c->chip), c->version, c->version_code,
                         out->security_counter, out->sequence, c->fw_len, hex, out->url);
    if (arts && n < sizeof out->text &&
        release_artifacts_lines(arts, out->text, sizeof out->text, &n) != 0)
        n = sizeof out->text;
    if (have_data && n < sizeof out->text &&
        release_data_lines(c->data, device ? "../" : "", out->text, sizeof out->text, &n) != 0)
        n = sizeof out->text;
    if (c->project[0] && n < sizeof out->text)
        n += (size_t)snprintf(out->text + n, sizeof out->text - n, "project: %s\n", c->project);
    if (c->expires[0] && n < sizeof out->text)
        n += (size_t)snprintf(out->text + n, sizeof out->text - n, "expires: %s\n", c->expires);
    if (n < sizeof out->text)
        n += (size_t)snprintf(out->text + n, sizeof out->text - n, "key-id: %s\n",
                              c->key->id_hex);
    if (n + 11 + 128 + 2 > sizeof out->text) {
        fprintf(stderr, "fota release: manifest longer than %d bytes\n", MANIFEST_MAX);
        return -1;
    }
    fota_sha256_digest(&FOTA_CRYPTO_HOST, out->text, n, hash);
    if (keys_sign(c->key, hash, sig) != 0)
        return -1;
    util_hex(sig, sizeof sig, hex);
    n += (size_t)snprintf(out->text + n, sizeof out->text - n, "signature: %s\n", hex);

    /* Read it back the way a device will, before publishing anything */
    r = fota_manifest_parse(out->text, n, &check, &line);
    if (r == 0)
        r = fota_manifest_verify(&check, out->text,
                                 (const uint8_t(*)[FOTA_P256_PUBKEY_SIZE])c->key->pub, 1,
                                 &FOTA_CRYPTO_HOST);
    if (r != 0) {
        fprintf(stderr, "fota release: internal error: the new manifest does not check (error %d "
                        "at line %d)\n", r, line);
        return -1;
    }
    out->len = n;
    return 0;
}

int cmd_release(int argc, char **argv)
{
    struct release_opts o;
    struct release_ctx c;
    struct tool_key key;
    struct util_image img;
    struct release_artifacts arts = {0}, data = {0};
    const struct fota_esp_header *h = NULL;
    char version[FOTA_MANIFEST_VERSION_MAX + 1] = "", project[33] = "";
    char fw_dir[4096], hex[129];
    uint8_t *fw = NULL;
    uint32_t version_code;
    size_t fw_len = 0;
    int chip, r, rc = 1;
    const char *why;

    memset(&c, 0, sizeof c);
    r = parse_args(argc, argv, &o);
    if (r != 0)
        return r == 1 ? 0 : r;
    if (!name_ok("product", o.product, FOTA_MANIFEST_PRODUCT_MAX, ""))
        return 2;
    c.m = calloc(o.n_devices ? o.n_devices : 1, sizeof *c.m);
    if (!c.m) {
        fprintf(stderr, "fota release: out of memory\n");
        return 1;
    }
    if (keys_check_private_mode("fota release", o.key, o.strict) != 0 ||
        keys_load_private(o.key, &key) != 0) {
        free(c.m);
        return 1;
    }
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
            for (int k = FOTA_CHIP_ANY + 1; k < FOTA_CHIP_COUNT; k++)
                fprintf(stderr, "%s%s", k > FOTA_CHIP_ANY + 1 ? ", " : "", fota_chip_name(k));
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
    /* The number devices compare: given, or read from a numeric version, or
     * the build time the app descriptor records. Never guessed from a
     * version like git describe's "v5.0-4-g4532e6" (issue 9). */
    if (o.have_version_code) {
        version_code = o.version_code;
    } else if (fota_version_code(version, strlen(version), &version_code) == 0) {
        snprintf(c.code_note, sizeof c.code_note, " (from version %s)", version);
    } else if (h && h->has_app_desc && !o.version &&
               fota_app_version_code(version, h->date, h->time, &version_code) == 0) {
        snprintf(c.code_note, sizeof c.code_note,
                 " (the build time %s %s of the app descriptor, as seconds)", h->date, h->time);
        fprintf(stderr, "fota release: note: version '%s' is not a number or MAJOR.MINOR.PATCH; "
                        "the version code is the image's build time, %s %s (%u)\n",
                version, h->date, h->time, version_code);
    } else {
        fprintf(stderr,
                "fota release: version '%s' is not a build number (2024061501) or "
                "[v]MAJOR.MINOR.PATCH, and %s no build time to count from: give --version-code N "
                "(the number the device compiles in, e.g. a CI build number or the build's unix "
                "time)\n",
                version, h && h->has_app_desc ? "the app descriptor has" : "the image has");
        goto out;
    }

    /* Where it goes */
    if (snprintf(c.product_dir, sizeof c.product_dir, "%s/%s", o.out, o.product) >=
            (int)sizeof c.product_dir ||
        snprintf(fw_dir, sizeof fw_dir, "%s/firmware", c.product_dir) >= (int)sizeof fw_dir) {
        fprintf(stderr, "fota release: output path too long: %s\n", o.out);
        goto out;
    }
    snprintf(c.fw_path, sizeof c.fw_path, "%s/%s-%s.bin", fw_dir, o.product, version);
    c.o = &o;
    c.key = &key;
    c.chip = chip;
    c.h = h;
    c.version = version;
    c.project = project;
    c.version_code = version_code;
    c.fw_len = fw_len;
    fota_sha256_digest(&FOTA_CRYPTO_HOST, fw, fw_len, c.fw_sha256);

    if (o.have_expires_days) {
        time_t t = time(NULL) + (time_t)o.expires_days * 86400;
        struct tm tm;
        if (!gmtime_r(&t, &tm) ||
            strftime(c.expires, sizeof c.expires, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
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
        snprintf(c.expires, sizeof c.expires, "%s", o.expires);
    }
    if (o.url && !value_ok("--url", o.url, FOTA_MANIFEST_URL_MAX, 0))
        goto out;

    /* Patches and the compressed image, each checked with the device's decoder */
    if ((o.n_delta_from || o.compress) &&
        release_artifacts_make(&arts, fw_dir, o.product, version, fw, fw_len,
                               (const char *const *)o.delta_from, o.n_delta_from) != 0)
        goto out;
    c.arts = &arts;
    if (o.n_data && release_data_make(&data, fw_dir, o.product, version,
                                      (const char *const *)o.data, o.n_data) != 0)
        goto out;
    c.data = &data;

    /* Every manifest is built and checked before anything is written. */
    if (o.n_devices == 0) {
        if (prepare_manifest(&c, &c.m[0], NULL) != 0)
            goto out;
        c.n = 1;
    }
    for (size_t d = 0; d < o.n_devices; d++) {
        if (prepare_manifest(&c, &c.m[d], o.devices[d]) != 0)
            goto out;
        c.n = d + 1;
    }

    /* The image first, then the patches and the compressed image, then the
     * manifests naming them */
    if (util_mkdirs(fw_dir) != 0 || write_image(c.fw_path, fw, fw_len) != 0 ||
        release_artifacts_write(&arts) != 0 || release_artifacts_write(&data) != 0)
        goto out;
    for (size_t k = 0; k < c.n; k++)
        if (util_mkdirs(c.m[k].dir) != 0 ||
            util_write_file(c.m[k].path, c.m[k].text, c.m[k].len) != 0)
            goto out;
    if (o.legacy && release_legacy_write(c.product_dir, c.fw_path, version_code,
                                         (const char *const *)o.devices, o.n_devices,
                                         o.group) != 0)
        goto out;

    util_hex(c.fw_sha256, 32, hex);
    printf("released %s %s for %s\n", o.product, version, fota_chip_display_name(chip));
    printf("  version code:     %u%s\n", version_code, c.code_note);
    printf("  security counter: %u\n", c.m[0].security_counter);
    printf("  sequence:         %u\n", c.m[0].sequence);
    printf("  size:             %zu bytes\n", fw_len);
    printf("  sha256:           %s\n", hex);
    if (project[0])
        printf("  project:          %s\n", project);
    printf("  expires:          %s\n", c.expires[0] ? c.expires : "never");
    printf("  key id:           %s\n", key.id_hex);
    printf("  image:            %s\n", c.fw_path);
    release_artifacts_print(&arts, fw_len);
    release_artifacts_print(&data, fw_len);
    for (size_t k = 0; k < c.n; k++)
        printf("  manifest:         %s%s\n", c.m[k].path,
               c.n > 1 ? "" : "");
    printf("  url:              %s\n", c.m[0].url);
    rc = 0;
out:
    release_artifacts_free(&arts);
    release_artifacts_free(&data);
    free(fw);
    free(c.m);
    keys_free(&key);
    return rc;
}
