#define _POSIX_C_SOURCE 200809L
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fota/crypto.h"
#include "fota/error.h"
#include "fota_crypto_backends.h"

uint8_t *util_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "fota: cannot read %s: %s\n", path, strerror(errno));
        return NULL;
    }
    size_t cap = 65536, n = 0;
    uint8_t *buf = malloc(cap + 1);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap)
            break;
        cap *= 2;
        uint8_t *nb = realloc(buf, cap + 1);
        if (!nb)
            free(buf);
        buf = nb;
    }
    int err = ferror(f);
    fclose(f);
    if (!buf || err) {
        fprintf(stderr, "fota: cannot read %s: %s\n", path, buf ? "read error" : "out of memory");
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

/* nginx (and Apache by default) derive ETag and Last-Modified from the
 * modification time in whole seconds and the size. A replacement written in
 * the same second as the file it replaces, with the same size (two manifests
 * differ only in version and hash), would keep the old ETag, and every device
 * holding it would be told 304 Not Modified and miss the release. So the new
 * file's time is made at least one second later than the old file's. */
static int newer_mtime_than(const char *tmp, const char *old_path)
{
    struct stat old_st, new_st;
    if (stat(old_path, &old_st) != 0)
        return 0; /* nothing replaced */
    if (stat(tmp, &new_st) != 0)
        return -1;
    if (new_st.st_mtim.tv_sec > old_st.st_mtim.tv_sec)
        return 0;
    struct timespec times[2];
    times[0].tv_sec = 0;
    times[0].tv_nsec = UTIME_OMIT;
    times[1].tv_sec = old_st.st_mtim.tv_sec + 1;
    times[1].tv_nsec = 0;
    return utimensat(AT_FDCWD, tmp, times, 0);
}

int util_write_file_mode(const char *path, const void *data, size_t len, unsigned mode)
{
    char tmp[4096];
    const uint8_t *p = data;
    size_t left = len;
    int fd;

    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp) {
        fprintf(stderr, "fota: path too long: %s\n", path);
        return -1;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, (mode_t)mode);
    if (fd < 0) {
        fprintf(stderr, "fota: cannot create %s: %s\n", tmp, strerror(errno));
        return -1;
    }
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        p += w;
        left -= (size_t)w;
    }
    /* fsync before rename: after a crash the name points at complete data. */
    if (left != 0 || fchmod(fd, (mode_t)mode) != 0 || fsync(fd) != 0) {
        fprintf(stderr, "fota: cannot write %s: %s\n", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        return -1;
    }
    if (close(fd) != 0) {
        fprintf(stderr, "fota: cannot write %s: %s\n", tmp, strerror(errno));
        unlink(tmp);
        return -1;
    }
    if (newer_mtime_than(tmp, path) != 0) {
        fprintf(stderr, "fota: cannot set the modification time of %s: %s\n", tmp, strerror(errno));
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, path) != 0) {
        fprintf(stderr, "fota: cannot rename %s to %s: %s\n", tmp, path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    /* Make the rename itself durable, so that files written one after the
     * other (an image, then the manifest naming it) survive a crash in order. */
    const char *slash = strrchr(path, '/');
    if (slash && (size_t)(slash - path) < sizeof tmp) {
        memcpy(tmp, path, (size_t)(slash - path));
        tmp[slash - path] = 0;
    } else {
        strcpy(tmp, ".");
    }
    fd = open(tmp[0] ? tmp : "/", O_RDONLY);
    if (fd < 0 || fsync(fd) != 0) {
        fprintf(stderr, "fota: cannot sync directory %s: %s\n", tmp[0] ? tmp : "/", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

int util_write_file(const char *path, const void *data, size_t len)
{
    return util_write_file_mode(path, data, len, 0644);
}

int util_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

void util_hex(const uint8_t *data, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[data[i] >> 4];
        out[2 * i + 1] = digits[data[i] & 15];
    }
    out[2 * len] = 0;
}

int util_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

int util_mkdirs(const char *path)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) {
        fprintf(stderr, "fota: bad directory path '%s'\n", path);
        return -1;
    }
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != 0)
            continue;
        char saved = buf[i];
        buf[i] = 0;
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
            fprintf(stderr, "fota: cannot create directory %s: %s\n", buf, strerror(errno));
            return -1;
        }
        buf[i] = saved;
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "fota: %s is not a directory\n", path);
        return -1;
    }
    return 0;
}

int util_parse_u32(const char *s, uint32_t *out)
{
    uint32_t v = 0;
    if (!s || !*s || strlen(s) > 10)
        return -1;
    for (; *s; s++) {
        uint32_t d;
        if (*s < '0' || *s > '9')
            return -1;
        d = (uint32_t)(*s - '0');
        if (v > (UINT32_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

static void examine_part(const uint8_t *data, size_t len, size_t offset,
                         struct util_image_part *p)
{
    memset(p, 0, sizeof *p);
    p->offset = offset;
    fota_esp_header_parse(data + offset, len - offset, &p->hdr);
    p->verify_err = fota_esp_image_verify(data + offset, len - offset, &FOTA_CRYPTO_HOST, &p->ver);
}

void util_image_examine(const uint8_t *data, size_t len, struct util_image *out)
{
    struct fota_esp_header h, app;

    memset(out, 0, sizeof *out);
    fota_sha256_digest(&FOTA_CRYPTO_HOST, data, len, out->file_sha256);
    if (fota_esp_header_parse(data, len, &h) != 0) {
        out->kind = UTIL_IMAGE_RAW;
        return;
    }
    examine_part(data, len, 0, &out->part[0]);
    out->n_parts = 1;
    if (h.format == FOTA_IMAGE_ESP32) {
        out->kind = h.has_app_desc ? UTIL_IMAGE_ESP32_APP : UTIL_IMAGE_ESP32_OTHER;
        return;
    }
    out->kind = UTIL_IMAGE_ESP8266;
    /* Arduino: a small eboot image, then the sketch's own image at 0x1000. */
    if (out->part[0].verify_err == 0 && out->part[0].ver.image_len <= FOTA_ESP8266_APP_OFFSET &&
        len > FOTA_ESP8266_APP_OFFSET &&
        fota_esp_header_parse(data + FOTA_ESP8266_APP_OFFSET, len - FOTA_ESP8266_APP_OFFSET,
                              &app) == 0 &&
        app.format == FOTA_IMAGE_ESP8266) {
        examine_part(data, len, FOTA_ESP8266_APP_OFFSET, &out->part[1]);
        out->n_parts = 2;
        out->kind = UTIL_IMAGE_ESP8266_ARDUINO;
        if (out->part[1].verify_err == 0)
            fota_esp8266_bin_check(data, len, &out->bin);
    }
}

const char *util_image_kind_name(int kind)
{
    switch (kind) {
    case UTIL_IMAGE_ESP32_APP:
        return "ESP32-family application";
    case UTIL_IMAGE_ESP32_OTHER:
        return "ESP32-family image without app descriptor (bootloader or RAM-loaded)";
    case UTIL_IMAGE_ESP8266:
        return "ESP8266 image";
    case UTIL_IMAGE_ESP8266_ARDUINO:
        return "ESP8266 Arduino binary (eboot loader + sketch image at 0x1000)";
    default:
        return "raw (not an ESP image)";
    }
}

/* An Arduino .bin: the sketch's checksum (over zeros where elf2bin put the
 * words), the stored length and the flash CRC, each named when it fails. */
static int arduino_verdict(const struct util_image *img, const char **why)
{
    static char text[320];
    const struct fota_esp8266_bin *b = &img->bin;
    size_t n = 0;
    text[0] = 0;
    if (!b->checksum_ok)
        n += (size_t)snprintf(text + n, sizeof text - n,
                              "XOR checksum of the sketch image does not match its segment "
                              "data%s",
                              b->has_crc ? " (read with the CRC words as zero, as elf2bin "
                                           "computed it)" : "");
    if (b->has_crc && !b->length_ok && n < sizeof text)
        n += (size_t)snprintf(text + n, sizeof text - n,
                              "%sstored flash length %u (offset 0x%x) is not where the image "
                              "ends (%u bytes)",
                              n ? "; " : "", (unsigned)b->stored_len, FOTA_ESP8266_CRC_LEN_OFFSET,
                              (unsigned)b->file_len);
    if (b->has_crc && !b->crc_ok && n < sizeof text)
        snprintf(text + n, sizeof text - n,
                 "%sflash CRC (offset 0x%x) is 0x%08x, the file's is 0x%08x", n ? "; " : "",
                 FOTA_ESP8266_CRC_VAL_OFFSET, (unsigned)b->stored_crc, (unsigned)b->computed_crc);
    *why = text;
    return text[0] ? 1 : 0;
}

int util_image_verdict(const struct util_image *img, const char **why)
{
    *why = "";
    for (size_t i = 0; i < img->n_parts; i++) {
        const struct util_image_part *p = &img->part[i];
        if (p->verify_err == FOTA_ERR_IMAGE_SIZE) {
            *why = "truncated: a segment, the checksum or the appended hash runs past the end "
                   "of the file";
            return 2;
        }
        if (p->verify_err != 0) {
            *why = "malformed segment table";
            return 2;
        }
        if (img->kind == UTIL_IMAGE_ESP8266_ARDUINO && i == 1)
            return arduino_verdict(img, why);
        if (!p->ver.checksum_ok) {
            *why = i == 0 && img->n_parts == 2
                       ? "XOR checksum of the eboot loader image does not match its data"
                       : "XOR checksum does not match the segment data";
            return 1;
        }
        if (p->hdr.format == FOTA_IMAGE_ESP32 && p->hdr.hash_appended && !p->ver.hash_ok) {
            *why = "appended SHA-256 does not match the image";
            return 1;
        }
    }
    return 0;
}
