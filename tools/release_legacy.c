/*
 * fota release --legacy: the files the stock updater sketch fetches.
 *
 *   <product>/legacy/<MAC>.version      "2024061502\n"  (--device: one device's release)
 *   <product>/legacy/<MAC>.bin          the image (a hard link to firmware/...)
 *   <product>/legacy/<MAC>.group        "beta\n"  (--group: the device's group)
 *   <product>/legacy/groups/<G>.version, <G>.bin, <G>.macs (members, one a line)
 *   <product>/legacy/default.version, default.bin   (no devices, no group)
 *
 * A static server (nginx) answers <MAC>.version and <MAC>.bin as files;
 * groups need fota serve, which answers a member's <MAC>.* from its group
 * (tools/serve_legacy.c).
 *
 * Unlike firmware/, these names point at whatever is current: each release
 * replaces them (temp name + rename), the image first, so a device that
 * reads a new version number always finds the image it announces.
 */
#define _POSIX_C_SOURCE 200809L
#include "release_legacy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

int release_mac_normalise(const char *text, size_t len, char out[13])
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = text[i];
        if ((ch == ':' || ch == '-') && i > 0 && i % 3 == 2 && len == 17)
            continue;
        if (n == 12)
            return -1;
        if (ch >= 'a' && ch <= 'f')
            ch = (char)(ch - 'a' + 'A');
        if (!((ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'F')))
            return -1;
        out[n++] = ch;
    }
    out[n] = 0;
    return n == 12 ? 0 : -1;
}

/* DST becomes the image: a hard link to SRC (one copy on disk), replacing
 * what was there atomically; a copy where links are impossible. */
static int place_image(const char *src, const char *dst)
{
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", dst, (long)getpid()) >= (int)sizeof tmp) {
        fprintf(stderr, "fota release: path too long: %s\n", dst);
        return -1;
    }
    unlink(tmp);
    if (link(src, tmp) == 0) {
        if (rename(tmp, dst) == 0)
            return 0;
        fprintf(stderr, "fota release: cannot rename %s to %s: %s\n", tmp, dst, strerror(errno));
        unlink(tmp);
        return -1;
    }
    size_t len;
    uint8_t *data = util_read_file(src, &len);
    if (!data)
        return -1;
    int r = util_write_file(dst, data, len);
    free(data);
    return r;
}

/* NAME.bin, then NAME.version, in DIR. */
static int write_pair(const char *dir, const char *name, const char *fw_path,
                      uint32_t version_code)
{
    char path[4200], text[16];
    int n = snprintf(text, sizeof text, "%u\n", (unsigned)version_code);
    if (snprintf(path, sizeof path, "%s/%s.bin", dir, name) >= (int)sizeof path ||
        place_image(fw_path, path) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/%s.version", dir, name);
    if (util_write_file(path, text, (size_t)n) != 0)
        return -1;
    printf("  legacy:           %s/%s.bin and .version (%u)\n", dir, name,
           (unsigned)version_code);
    return 0;
}

/* A member of GROUP: <MAC>.group names it, and a release of the device's
 * own (<MAC>.bin/.version) no longer overrides the group's. */
static int join_group(const char *dir, const char *mac, const char *group)
{
    char path[4400], text[80];
    int n = snprintf(text, sizeof text, "%s\n", group);
    for (int k = 0; k < 2; k++) {
        snprintf(path, sizeof path, "%s/%s.%s", dir, mac, k ? "version" : "bin");
        if (unlink(path) != 0 && errno != ENOENT) {
            fprintf(stderr, "fota release: cannot remove %s: %s\n", path, strerror(errno));
            return -1;
        }
    }
    snprintf(path, sizeof path, "%s/%s.group", dir, mac);
    return util_write_file(path, text, (size_t)n);
}

int release_legacy_write(const char *product_dir, const char *fw_path, uint32_t version_code,
                         const char *const *macs, size_t n_macs, const char *group)
{
    char dir[4200], groups[4300], path[4400];
    if (snprintf(dir, sizeof dir, "%s/legacy", product_dir) >= (int)sizeof dir ||
        util_mkdirs(dir) != 0)
        return -1;
    for (size_t i = 0; i < n_macs && !group; i++) {
        snprintf(path, sizeof path, "%s/%s.group", dir, macs[i]);
        if (unlink(path) != 0 && errno != ENOENT) { /* its own release from now on */
            fprintf(stderr, "fota release: cannot remove %s: %s\n", path, strerror(errno));
            return -1;
        }
        if (write_pair(dir, macs[i], fw_path, version_code) != 0)
            return -1;
    }
    if (group) {
        snprintf(groups, sizeof groups, "%s/groups", dir);
        if (util_mkdirs(groups) != 0 || write_pair(groups, group, fw_path, version_code) != 0)
            return -1;
        char *list = malloc(n_macs * 13 + 1);
        if (!list)
            return -1;
        for (size_t i = 0; i < n_macs; i++) {
            memcpy(list + 13 * i, macs[i], 12);
            list[13 * i + 12] = '\n';
        }
        snprintf(path, sizeof path, "%s/%s.macs", groups, group);
        int r = util_write_file(path, list, n_macs * 13);
        free(list);
        if (r != 0)
            return -1;
        for (size_t i = 0; i < n_macs; i++)
            if (join_group(dir, macs[i], group) != 0)
                return -1;
        printf("  legacy group:     %s (%zu devices)\n", path, n_macs);
    }
    if (n_macs == 0 && !group)
        return write_pair(dir, "default", fw_path, version_code);
    return 0;
}
