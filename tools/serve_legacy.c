/*
 * fota serve: the stock Arduino HTTP-update protocol, so the devices already
 * in the field (the sketch that fetches BASE/<MAC>.version and BASE/<MAC>.bin
 * through ESP8266httpUpdate / HTTPUpdate) can be served, and moved to fota.
 *
 * The stock client (esp8266/Arduino ESP8266httpUpdate.cpp, arduino-esp32
 * HTTPUpdate.cpp) sends HTTP/1.0 with User-Agent ESP8266-http-Update or
 * ESP32-http-Update and x-ESP8266-* / x-ESP32-* headers (STA-MAC, AP-MAC,
 * free-space, sketch-size, sketch-md5, ESP32 also sketch-sha256, chip-size,
 * sdk-version, mode, version). It flashes a 200 with Content-Length (checking
 * an optional x-MD5), treats 304 as "no update", and in mode "version"
 * wants a 200 with x-version. No signature protects any of it: this path is
 * for moving a fleet onto fota (docs/migrate.md), not for staying on it.
 */
#define _POSIX_C_SOURCE 200809L
#include "serve_legacy.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <mbedtls/md.h>

#include "fota/crypto.h"
#include "fota_crypto_backends.h"
#include "util.h"

#define LEGACY_VALUE_MAX 64 /* longest header value kept (version, SDK) */

/* ---- The check-in ---------------------------------------------------------- */

static int is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
              (s[i] >= 'A' && s[i] <= 'F')))
            return 0;
    return 1;
}

/* "AA:BB:CC:DD:EE:FF" (any case) -> "AABBCCDDEEFF". */
static int parse_mac(const char *v, char out[13])
{
    if (strlen(v) != 17)
        return -1;
    for (int i = 0; i < 6; i++) {
        if (!is_hex(v + 3 * i, 2) || (i < 5 && v[3 * i + 2] != ':'))
            return -1;
        for (int k = 0; k < 2; k++) {
            char c = v[3 * i + k];
            out[2 * i + k] = (char)(c >= 'a' && c <= 'f' ? c - 'a' + 'A' : c);
        }
    }
    out[12] = 0;
    return 0;
}

/* Printable ASCII without '"' or '\\', at most LEGACY_VALUE_MAX bytes. */
static int copy_value(const char *v, char *out, size_t size)
{
    size_t n = strlen(v);
    if (n > LEGACY_VALUE_MAX || n >= size)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (v[i] < 0x20 || v[i] > 0x7e || v[i] == '"' || v[i] == '\\')
            return -1;
    memcpy(out, v, n + 1);
    return 0;
}

static int copy_hash(const char *v, char *out, size_t digits)
{
    if (strlen(v) != digits || !is_hex(v, digits))
        return -1;
    for (size_t i = 0; i <= digits; i++)
        out[i] = (char)(v[i] >= 'A' && v[i] <= 'F' ? v[i] - 'A' + 'a' : v[i]);
    return 0;
}

static int parse_u64(const char *v, uint64_t *out)
{
    uint64_t n = 0;
    if (!*v || strlen(v) > 19)
        return -1;
    for (; *v; v++) {
        if (*v < '0' || *v > '9')
            return -1;
        n = n * 10 + (uint64_t)(*v - '0');
    }
    *out = n;
    return 0;
}

int stock_checkin_parse(stock_header_fn header, void *ctx, struct stock_checkin *out, char *note,
                        size_t note_size)
{
    static const char *const prefix[] = {"", "x-ESP8266-", "x-ESP32-"};
    char name[40];
    const char *v;
    memset(out, 0, sizeof *out);
    for (int fam = STOCK_ESP8266; fam <= STOCK_ESP32 && !out->family; fam++) {
        snprintf(name, sizeof name, "%sSTA-MAC", prefix[fam]);
        v = header(ctx, name);
        if (!v && fam == STOCK_ESP32) { /* ESP32 chips without Wi-Fi (H2, P4) */
            snprintf(name, sizeof name, "%sBASE-MAC", prefix[fam]);
            v = header(ctx, name);
        }
        if (!v)
            continue;
        out->family = fam;
        if (parse_mac(v, out->mac) != 0) {
            snprintf(note, note_size, "stock updater: %s is not a MAC address", name);
            return -1;
        }
    }
    if (!out->family)
        return 0;
    const char *p = prefix[out->family];
    static const char *const fields[] = {"mode", "version", "sketch-md5", "sketch-sha256",
                                         "sketch-size", "free-space", "chip-size", "sdk-version"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        snprintf(name, sizeof name, "%s%s", p, fields[i]);
        v = header(ctx, name);
        if (!v)
            continue;
        int bad;
        switch (i) {
        case 0:
            bad = strcmp(v, "sketch") && strcmp(v, "spiffs") && strcmp(v, "version");
            if (!bad)
                snprintf(out->mode, sizeof out->mode, "%s", v);
            break;
        case 1: bad = copy_value(v, out->version, sizeof out->version); break;
        case 2: bad = copy_hash(v, out->sketch_md5, 32); break;
        case 3: bad = copy_hash(v, out->sketch_sha256, 64); break;
        case 4: bad = parse_u64(v, &out->sketch_size); break;
        case 5: bad = parse_u64(v, &out->free_space); break;
        case 6: bad = parse_u64(v, &out->chip_size); break;
        default: bad = copy_value(v, out->sdk_version, sizeof out->sdk_version); break;
        }
        if (bad) {
            snprintf(note, note_size, "stock updater: malformed %s", name);
            return -1;
        }
    }
    if (!out->mode[0])
        snprintf(out->mode, sizeof out->mode, "sketch"); /* every stock client sends it */
    return 1;
}

/* ---- The release meant for a device --------------------------------------- */

/* MD5 and SHA-256 of the whole file, and the SHA-256 of all but its last 32
 * bytes, which ESP-IDF appends to an image and arduino-esp32 reports as the
 * running sketch's SHA-256 (esp_partition_get_sha256). 0 or an errno. */
struct file_digests {
    char md5[33], sha256[65], sha256_appended[65];
};

static int digest_file(int fd, uint64_t size, struct file_digests *out)
{
    const struct fota_crypto *c = &FOTA_CRYPTO_HOST;
    uint8_t buf[16384], digest[32], tail[32];
    struct fota_sha256 all, head;
    mbedtls_md_context_t md5;
    uint64_t head_len = size >= 32 ? size - 32 : 0;
    int err = 0;

    mbedtls_md_init(&md5);
    if (mbedtls_md_setup(&md5, mbedtls_md_info_from_type(MBEDTLS_MD_MD5), 0) != 0 ||
        mbedtls_md_starts(&md5) != 0 || c->sha256_start(c->ctx, &all) != 0) {
        mbedtls_md_free(&md5);
        return EIO;
    }
    if (c->sha256_start(c->ctx, &head) != 0) {
        c->sha256_finish(c->ctx, &all, digest);
        mbedtls_md_free(&md5);
        return EIO;
    }
    for (uint64_t off = 0; off < size && !err;) {
        ssize_t n = pread(fd, buf, sizeof buf, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            err = n < 0 ? errno : EIO; /* shorter than fstat said */
            break;
        }
        uint64_t in_head = off < head_len ? head_len - off : 0;
        if (in_head > (uint64_t)n)
            in_head = (uint64_t)n;
        if (mbedtls_md_update(&md5, buf, (size_t)n) != 0 ||
            c->sha256_update(c->ctx, &all, buf, (size_t)n) != 0 ||
            (in_head && c->sha256_update(c->ctx, &head, buf, (size_t)in_head) != 0))
            err = EIO;
        off += (uint64_t)n;
    }
    if (mbedtls_md_finish(&md5, digest) != 0)
        err = err ? err : EIO;
    mbedtls_md_free(&md5);
    util_hex(digest, 16, out->md5);
    if (c->sha256_finish(c->ctx, &all, digest) != 0)
        err = err ? err : EIO;
    util_hex(digest, 32, out->sha256);
    if (c->sha256_finish(c->ctx, &head, digest) != 0)
        err = err ? err : EIO;
    out->sha256_appended[0] = 0;
    if (!err && size >= 64 && pread(fd, tail, sizeof tail, (off_t)head_len) == (ssize_t)sizeof tail &&
        memcmp(digest, tail, sizeof tail) == 0)
        util_hex(digest, 32, out->sha256_appended);
    return err;
}

/* The first line of a small text file, trimmed; "" when absent. */
static unsigned read_line(legacy_open_fn open_rel, void *ctx, const char *rel, char *out,
                          size_t size)
{
    int fd;
    struct stat st;
    out[0] = 0;
    unsigned status = open_rel(ctx, rel, &fd, &st);
    if (status)
        return status;
    ssize_t n = pread(fd, out, size - 1, 0);
    close(fd);
    if (n < 0)
        return 500;
    out[n] = 0;
    out[strcspn(out, "\r\n")] = 0;
    return 0;
}

/* "<base>.<ext>" of a file name; base is everything before the last '.'. */
static int with_ext(const char *name, const char *ext, char *out, size_t size)
{
    const char *dot = strrchr(name, '.');
    size_t base = dot ? (size_t)(dot - name) : strlen(name);
    return snprintf(out, size, "%.*s.%s", (int)base, name, ext) >= (int)size ? -1 : 0;
}

/* The file answering `want` (name or relative path) for device `mac`:
 * <MAC>.<ext> beside it, else the group's, else `want` itself. */
static unsigned pick(const char *mac, const char *want, const char *ext, legacy_open_fn open_rel,
                     void *ctx, int *fd, struct stat *st, char *served, size_t served_size)
{
    char rel[300], group[80];
    unsigned status;
    if (mac) {
        snprintf(rel, sizeof rel, "%s.%s", mac, ext);
        if ((status = open_rel(ctx, rel, fd, st)) == 0) {
            snprintf(served, served_size, "%s", rel);
            return 0;
        }
        snprintf(rel, sizeof rel, "%s.group", mac);
        if (read_line(open_rel, ctx, rel, group, sizeof group) == 0 && group[0] &&
            !strchr(group, '/') && strcmp(group, "..") && strcmp(group, ".")) {
            snprintf(rel, sizeof rel, "groups/%s.%s", group, ext);
            if ((status = open_rel(ctx, rel, fd, st)) == 0) {
                snprintf(served, served_size, "%s", rel);
                return 0;
            }
        }
    }
    snprintf(served, served_size, "%s", want);
    if ((status = open_rel(ctx, want, fd, st)) == 0 || !mac)
        return status;
    snprintf(rel, sizeof rel, "default.%s", ext); /* fota release --legacy without devices */
    if (open_rel(ctx, rel, fd, st) != 0)
        return status;
    snprintf(served, served_size, "%s", rel);
    return 0;
}

/* "240AC4123456.bin" -> "240AC4123456" when the base is a {mac}. */
static int mac_of_name(const char *name, char out[13])
{
    const char *dot = strrchr(name, '.');
    if (!dot || dot - name != 12 || !is_hex(name, 12))
        return -1;
    for (int i = 0; i < 12; i++)
        out[i] = (char)(name[i] >= 'a' && name[i] <= 'f' ? name[i] - 'a' + 'A' : name[i]);
    out[12] = 0;
    return 0;
}

int legacy_answer(const struct stock_checkin *stock, const char *name, legacy_open_fn open_rel,
                  void *ctx, struct legacy_answer *out)
{
    char mac[13], rel[300];
    const char *ext = strrchr(name, '.');
    int fd = -1;
    struct stat st;
    unsigned status;

    memset(out, 0, sizeof *out);
    out->fd = -1;
    if (!stock) {
        /* The seed sketch's plain GET of <MAC>.version / <MAC>.bin: a
         * missing one is answered from the device's group, or the default. */
        if (!ext || mac_of_name(name, mac) != 0)
            return 0;
        status = open_rel(ctx, name, &fd, &st);
        if (status == 0) {
            close(fd);
            return 0;
        }
        status = pick(mac, name, ext + 1, open_rel, ctx, &fd, &st, out->served,
                      sizeof out->served);
        if (status)
            return 0; /* no group, no default: serve.c's 404 */
        out->status = 200;
        out->fd = fd;
        out->length = (uint64_t)st.st_size;
        snprintf(out->note, sizeof out->note, "legacy: %s answered from %s", name, out->served);
        return 1;
    }

    if (!strcmp(stock->mode, "spiffs"))
        return 0; /* a filesystem image: the requested file, as any server would */
    /* A stock updater: the image meant for this MAC, and its version */
    status = pick(stock->mac, name, "bin", open_rel, ctx, &fd, &st, out->served,
                  sizeof out->served);
    if (status) {
        out->status = status;
        snprintf(out->note, sizeof out->note, "legacy %s %s: no release for this device",
                 stock->family == STOCK_ESP32 ? "ESP32" : "ESP8266", stock->mac);
        return 1;
    }
    if (with_ext(out->served, "version", rel, sizeof rel) == 0)
        read_line(open_rel, ctx, rel, out->x_version, sizeof out->x_version);
    struct file_digests d;
    int err = digest_file(fd, (uint64_t)st.st_size, &d);
    if (err) {
        close(fd);
        out->status = 500;
        snprintf(out->note, sizeof out->note, "legacy: cannot read %s: %s", out->served,
                 strerror(err));
        return 1;
    }
    snprintf(out->x_md5, sizeof out->x_md5, "%s", d.md5);

    if (!strcmp(stock->mode, "version")) {
        close(fd);
        if (!out->x_version[0]) {
            out->status = 404;
            snprintf(out->note, sizeof out->note, "legacy %s: no .version beside %s",
                     stock->mac, out->served);
            return 1;
        }
        out->status = 200;
        snprintf(out->note, sizeof out->note, "legacy %s: version %s (%s)", stock->mac,
                 out->x_version, out->served);
        return 1;
    }
    const char *same = NULL;
    if (stock->sketch_md5[0] && !strcmp(stock->sketch_md5, d.md5))
        same = "sketch MD5";
    else if (stock->sketch_sha256[0] && (!strcmp(stock->sketch_sha256, d.sha256) ||
                                         !strcmp(stock->sketch_sha256, d.sha256_appended)))
        same = "sketch SHA-256";
    else if (stock->version[0] && out->x_version[0] && !strcmp(stock->version, out->x_version))
        same = "version";
    if (same) {
        close(fd);
        out->status = 304;
        snprintf(out->note, sizeof out->note, "legacy %s: runs %s already (same %s)", stock->mac,
                 out->served, same);
        return 1;
    }
    out->status = 200;
    out->fd = fd;
    out->length = (uint64_t)st.st_size;
    snprintf(out->note, sizeof out->note, "legacy %s: %s %s -> %s", stock->mac,
             stock->version[0] ? "version" : "sketch",
             stock->version[0] ? stock->version : stock->sketch_md5, out->served);
    return 1;
}
