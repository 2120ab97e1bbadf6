#include "release_artifacts.h"

#include <stdio.h>
#include <stdlib.h>
#include <ctype.h>
#include <string.h>

#include "delta_apply.h"
#include "delta_enc.h"
#include "fota/crypto.h"
#include "fota_crypto_backends.h"
#include "util.h"

static int add(struct release_artifacts *r, int kind, const char *fw_dir, const char *name,
               const uint8_t *base, size_t base_len, const uint8_t *fw, size_t fw_len)
{
    struct release_artifact *a = &r->a[r->n];
    struct delta_enc_opts o;

    delta_enc_defaults(&o);
    memset(a, 0, sizeof *a);
    a->kind = kind;
    if (snprintf(a->url, sizeof a->url, "firmware/%s", name) >= (int)sizeof a->url ||
        snprintf(a->path, sizeof a->path, "%s/%s", fw_dir, name) >= (int)sizeof a->path) {
        fprintf(stderr, "fota release: artifact name too long: %s\n", name);
        return -1;
    }
    if (delta_encode(base, base_len, fw, fw_len, &o, &a->data, &a->len) != 0 ||
        delta_apply_check("release", base, base_len, a->data, a->len, fw, fw_len) != 0)
        return -1;
    fota_sha256_digest(&FOTA_CRYPTO_HOST, a->data, a->len, a->sha256);
    if (base) {
        a->base_size = (uint32_t)base_len;
        fota_sha256_digest(&FOTA_CRYPTO_HOST, base, base_len, a->base_sha256);
    }
    r->n++;
    return 0;
}

int release_artifacts_make(struct release_artifacts *r, const char *fw_dir, const char *product,
                           const char *version, const uint8_t *fw, size_t fw_len,
                           const char *const *bases, size_t n_bases)
{
    char name[256], hex[65];
    uint8_t fw_sha[32];

    memset(r, 0, sizeof *r);
    if (n_bases + 1 > FOTA_MANIFEST_MAX_ARTIFACTS) {
        fprintf(stderr, "fota release: at most %d --delta-from (devices parse %d artifacts)\n",
                FOTA_MANIFEST_MAX_ARTIFACTS - 1, FOTA_MANIFEST_MAX_ARTIFACTS);
        return -1;
    }
    fota_sha256_digest(&FOTA_CRYPTO_HOST, fw, fw_len, fw_sha);
    snprintf(name, sizeof name, "%s-%s.compressed", product, version);
    if (add(r, FOTA_ARTIFACT_COMPRESSED, fw_dir, name, NULL, 0, fw, fw_len) != 0)
        return -1;
    for (size_t i = 0; i < n_bases; i++) {
        size_t base_len;
        uint8_t *base = util_read_file(bases[i], &base_len), sha[32];
        int rc;
        if (!base)
            return -1;
        if (base_len == 0 || base_len > UINT32_MAX) {
            fprintf(stderr, "fota release: --delta-from %s: not a usable base (%zu bytes)\n",
                    bases[i], base_len);
            free(base);
            return -1;
        }
        fota_sha256_digest(&FOTA_CRYPTO_HOST, base, base_len, sha);
        if (memcmp(sha, fw_sha, 32) == 0) {
            fprintf(stderr, "fota release: --delta-from %s is the image being released\n",
                    bases[i]);
            free(base);
            return -1;
        }
        for (size_t k = 0; k < r->n; k++)
            if (r->a[k].kind == FOTA_ARTIFACT_DELTA && memcmp(r->a[k].base_sha256, sha, 32) == 0) {
                fprintf(stderr, "fota release: --delta-from %s repeats %s\n", bases[i],
                        r->a[k].base_path);
                free(base);
                return -1;
            }
        util_hex(sha, 8, hex);
        snprintf(name, sizeof name, "%s-%s.from-%s.patch", product, version, hex);
        rc = add(r, FOTA_ARTIFACT_DELTA, fw_dir, name, base, base_len, fw, fw_len);
        free(base);
        if (rc != 0)
            return -1;
        r->a[r->n - 1].base_path = bases[i];
    }
    return 0;
}

int release_artifacts_lines(const struct release_artifacts *r, char *text, size_t cap, size_t *n)
{
    char hex[65], base_hex[65];
    for (size_t i = 0; i < r->n; i++) {
        const struct release_artifact *a = &r->a[i];
        int w;
        util_hex(a->sha256, 32, hex);
        if (a->kind == FOTA_ARTIFACT_DELTA) {
            util_hex(a->base_sha256, 32, base_hex);
            w = snprintf(text + *n, cap - *n, "artifact: delta %zu %s %s %u %s\n", a->len, hex,
                         a->url, a->base_size, base_hex);
        } else {
            w = snprintf(text + *n, cap - *n, "artifact: compressed %zu %s %s\n", a->len, hex,
                         a->url);
        }
        if (w < 0 || (size_t)w >= cap - *n)
            return -1;
        *n += (size_t)w;
    }
    return 0;
}

int release_data_make(struct release_artifacts *r, const char *fw_dir, const char *product,
                      const char *version, const char *const *specs, size_t n_specs)
{
    for (size_t i = 0; i < n_specs && i < FOTA_MANIFEST_MAX_DATA; i++) {
        struct release_artifact *a = &r->a[r->n];
        const char *eq = strchr(specs[i], '=');
        size_t label_len = eq ? (size_t)(eq - specs[i]) : 0;
        size_t ok = 0;
        memset(a, 0, sizeof *a);
        /* the label characters the device's parser takes */
        while (ok < label_len && (isalnum((unsigned char)specs[i][ok]) ||
                                  strchr("_-.", specs[i][ok])))
            ok++;
        if (!eq || label_len == 0 || label_len > FOTA_DATA_LABEL_MAX || ok != label_len) {
            fprintf(stderr, "fota release: --data wants LABEL=FILE with a partition label of "
                            "1..%d characters a-z A-Z 0-9 _ - ., not '%s'\n",
                            FOTA_DATA_LABEL_MAX, specs[i]);
            return -1;
        }
        memcpy(a->label, specs[i], label_len);
        for (size_t k = 0; k < r->n; k++)
            if (!strcmp(r->a[k].label, a->label)) {
                fprintf(stderr, "fota release: --data %s given twice\n", a->label);
                return -1;
            }
        a->data = util_read_file(eq + 1, &a->len);
        if (!a->data)
            return -1;
        r->n++;
        if (a->len == 0 || a->len > UINT32_MAX) {
            fprintf(stderr, "fota release: data image %s is empty or too large\n", eq + 1);
            return -1;
        }
        fota_sha256_digest(&FOTA_CRYPTO_HOST, a->data, a->len, a->sha256);
        char label[FOTA_DATA_LABEL_MAX + 1];
        memcpy(label, a->label, sizeof label);
        snprintf(a->url, sizeof a->url, "firmware/%s-%s.%s.bin", product, version, label);
        snprintf(a->path, sizeof a->path, "%s/%s-%s.%s.bin", fw_dir, product, version, label);
        a->base_path = eq + 1;
    }
    return 0;
}

int release_data_lines(const struct release_artifacts *r, const char *prefix, char *text,
                       size_t cap, size_t *n)
{
    char hex[65];
    for (size_t i = 0; i < r->n; i++) {
        const struct release_artifact *a = &r->a[i];
        util_hex(a->sha256, 32, hex);
        int w = snprintf(text + *n, cap - *n, "data: %s %zu %s %s%s\n", a->label, a->len, hex,
                         prefix, a->url);
        if (w < 0 || (size_t)w >= cap - *n)
            return -1;
        *n += (size_t)w;
    }
    return 0;
}

int release_artifacts_write(const struct release_artifacts *r)
{
    for (size_t i = 0; i < r->n; i++) {
        const struct release_artifact *a = &r->a[i];
        if (util_exists(a->path)) {
            size_t old_len;
            uint8_t *old = util_read_file(a->path, &old_len);
            int same = old && old_len == a->len && memcmp(old, a->data, a->len) == 0;
            free(old);
            if (same)
                continue;
            fprintf(stderr, "fota release: %s already exists with different contents; refusing "
                            "to overwrite a published artifact\n", a->path);
            return -1;
        }
        if (util_write_file(a->path, a->data, a->len) != 0)
            return -1;
    }
    return 0;
}

void release_artifacts_print(const struct release_artifacts *r, size_t fw_len)
{
    for (size_t i = 0; i < r->n; i++) {
        const struct release_artifact *a = &r->a[i];
        if (a->label[0]) {
            printf("  data %-12s %s (%zu bytes, from %s)\n", a->label, a->path, a->len,
                   a->base_path);
            continue;
        }
        printf("  %-17s %s (%zu bytes, %.1f%%)%s%s\n",
               a->kind == FOTA_ARTIFACT_DELTA ? "patch:" : "compressed:", a->path, a->len,
               fw_len ? 100.0 * (double)a->len / (double)fw_len : 0.0,
               a->kind == FOTA_ARTIFACT_DELTA ? " from " : "",
               a->kind == FOTA_ARTIFACT_DELTA ? a->base_path : "");
    }
}

void release_artifacts_free(struct release_artifacts *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->a[i].data);
    r->n = 0;
}
