/* The artifacts `fota release` publishes beside the full image: a
 * compressed image and patches from earlier images (docs/delta.md), listed
 * in the manifest as `artifact:` lines (docs/manifest.md). */
#ifndef FOTA_TOOLS_RELEASE_ARTIFACTS_H
#define FOTA_TOOLS_RELEASE_ARTIFACTS_H

#include <stddef.h>
#include <stdint.h>

#include "fota/manifest.h"

struct release_artifact {
    int kind;              /* enum fota_artifact_kind */
    char url[256];         /* relative to the manifest: firmware/<name> */
    char path[8192];       /* where it is written */
    uint8_t *data;
    size_t len;
    uint8_t sha256[32];
    uint32_t base_size;    /* deltas */
    uint8_t base_sha256[32];
    const char *base_path; /* deltas: the --delta-from file */
    char label[FOTA_DATA_LABEL_MAX + 1]; /* a data-partition image (kind 0): its label */
};

struct release_artifacts {
    struct release_artifact a[FOTA_MANIFEST_MAX_ARTIFACTS];
    size_t n;
};

/* Encode the compressed image and one patch per base, each checked with the
 * device's decoder. Returns 0 or -1 with a message. */
int release_artifacts_make(struct release_artifacts *r, const char *fw_dir, const char *product,
                           const char *version, const uint8_t *fw, size_t fw_len,
                           const char *const *bases, size_t n_bases);

/* The manifest lines for them, appended at text[*n..cap). Returns 0 or -1
 * when they do not fit. */
int release_artifacts_lines(const struct release_artifacts *r, char *text, size_t cap, size_t *n);

/* Write the files (refusing to replace different bytes). Returns 0 or -1. */
int release_artifacts_write(const struct release_artifacts *r);

/* Data-partition images (--data LABEL=FILE, docs/data-partitions.md): read
 * each file into r->a[] as firmware/<product>-<version>.<label>.bin. Returns
 * 0 or -1 with a message. */
int release_data_make(struct release_artifacts *r, const char *fw_dir, const char *product,
                      const char *version, const char *const *specs, size_t n_specs);

/* Their `data:` lines, URLs prefixed with `prefix` ("" or "../"). */
int release_data_lines(const struct release_artifacts *r, const char *prefix, char *text,
                       size_t cap, size_t *n);

void release_artifacts_print(const struct release_artifacts *r, size_t fw_len);
void release_artifacts_free(struct release_artifacts *r);

#endif
