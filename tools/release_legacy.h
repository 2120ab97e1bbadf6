/* fota release --legacy: the layout the stock Arduino updater sketch reads
 * (docs/migrate.md), written beside a signed release. */
#ifndef FOTA_TOOLS_RELEASE_LEGACY_H
#define FOTA_TOOLS_RELEASE_LEGACY_H

#include <stddef.h>
#include <stdint.h>

/* "24:0a:c4:12:34:56", "24-0A-C4-12-34-56" or "240AC4123456" -> "240AC4123456"
 * (the {mac} form: 12 upper-case hex digits). Returns 0 or -1. */
int release_mac_normalise(const char *text, size_t len, char out[13]);

/* Under PRODUCT_DIR/legacy/: without GROUP, for each MAC <MAC>.bin (the
 * image at FW_PATH, hard-linked, else copied) and then <MAC>.version (the
 * version code and a newline: the one integer the seed sketch compares);
 * with GROUP, groups/<GROUP>.bin, .version and .macs (the members) and a
 * <MAC>.group naming it for each member, which fota serve follows; with
 * neither, default.bin and default.version. Files are replaced atomically,
 * the image before the version that announces it. 0, or -1 with a message. */
int release_legacy_write(const char *product_dir, const char *fw_path, uint32_t version_code,
                         const char *const *macs, size_t n_macs, const char *group);

#endif
