#define _POSIX_C_SOURCE 200809L
/*
 * fota delta / fota patch / fota compress: make patches and compressed images
 * (tools/delta_enc.c) and apply them with the decoder the device runs
 * (src/delta.c). Format: docs/delta.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "delta_enc.h"
#include "delta_apply.h"
#include "fota/crypto.h"
#include "fota/delta.h"
#include "fota/error.h"
#include "util.h"

/* Options shared by `delta` and `compress`. Returns the index of the next
 * positional argument handled, or -1 on a usage error. */
static int enc_option(const char *cmd, int argc, char **argv, int *i, struct delta_enc_opts *o,
                      const char **out)
{
    const char *a = argv[*i];
    uint32_t v;
    if (!strcmp(a, "-o") || !strcmp(a, "--out")) {
        if (++*i >= argc)
            goto missing;
        *out = argv[*i];
        return 1;
    }
    if (!strcmp(a, "--block-size")) {
        unsigned shift = 0;
        if (++*i >= argc)
            goto missing;
        if (util_parse_u32(argv[*i], &v) != 0 || v == 0 || (v & (v - 1)) != 0)
            goto bad;
        while ((1u << shift) < v)
            shift++;
        if (shift < FOTA_DELTA_MIN_BLOCK_SHIFT || shift > FOTA_DELTA_MAX_BLOCK_SHIFT)
            goto bad;
        o->block_shift = shift;
        return 1;
    }
    return 0;
missing:
    fprintf(stderr, "fota %s: %s needs a value\n", cmd, a);
    return -1;
bad:
    fprintf(stderr, "fota %s: --block-size '%s' must be a power of two from %u to %u\n", cmd,
            argv[*i], 1u << FOTA_DELTA_MIN_BLOCK_SHIFT, 1u << FOTA_DELTA_MAX_BLOCK_SHIFT);
    return -1;
}

static int encode_to_file(const char *cmd, const uint8_t *base, size_t base_len,
                          const uint8_t *target, size_t target_len,
                          const struct delta_enc_opts *o, const char *out)
{
    uint8_t *patch = NULL;
    size_t patch_len = 0;
    struct timespec t0, t1;
    int rc = 1;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (delta_encode(base, base_len, target, target_len, o, &patch, &patch_len) != 0)
        return 1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    /* Check with the device's decoder before writing anything. */
    if (delta_apply_check(cmd, base, base_len, patch, patch_len, target, target_len) != 0)
        goto out;
    if (util_write_file(out, patch, patch_len) != 0)
        goto out;
    printf("%s: %zu bytes -> %zu bytes (%.2f%% of %zu), %u-byte blocks, decoder RAM %u bytes, "
           "%.2f s\n",
           out, target_len, patch_len, target_len ? 100.0 * (double)patch_len / (double)target_len
                                                 : 0.0,
           target_len, 1u << o->block_shift, (unsigned)sizeof(struct fota_delta),
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    rc = 0;
out:
    free(patch);
    return rc;
}

int cmd_delta(int argc, char **argv)
{
    struct delta_enc_opts o;
    const char *out = NULL, *files[2] = {NULL, NULL};
    uint8_t *base = NULL, *target = NULL;
    size_t base_len = 0, target_len = 0, n = 0;
    int rc = 1;

    delta_enc_defaults(&o);
    for (int i = 1; i < argc; i++) {
        int r;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: fota delta OLD.bin NEW.bin -o PATCH [--block-size BYTES]\n"
                   "  a patch that rebuilds NEW.bin from OLD.bin on the device (docs/delta.md);\n"
                   "  --block-size: output bytes per independently decodable block (resume\n"
                   "  points), a power of two, default %u\n",
                   1u << o.block_shift);
            return 0;
        }
        r = enc_option("delta", argc, argv, &i, &o, &out);
        if (r < 0)
            return 2;
        if (r > 0)
            continue;
        if (argv[i][0] == '-' || n == 2) {
            fprintf(stderr, "fota delta: unexpected argument '%s' (fota delta --help)\n", argv[i]);
            return 2;
        }
        files[n++] = argv[i];
    }
    if (n != 2 || !out) {
        fprintf(stderr, "usage: fota delta OLD.bin NEW.bin -o PATCH [--block-size BYTES]\n");
        return 2;
    }
    base = util_read_file(files[0], &base_len);
    target = base ? util_read_file(files[1], &target_len) : NULL;
    if (!base || !target)
        goto out;
    if (base_len == 0) {
        fprintf(stderr, "fota delta: %s is empty: a patch needs a base (use fota compress)\n",
                files[0]);
        goto out;
    }
    rc = encode_to_file("delta", base, base_len, target, target_len, &o, out);
out:
    free(base);
    free(target);
    return rc;
}

int cmd_compress(int argc, char **argv)
{
    struct delta_enc_opts o;
    const char *out = NULL, *file = NULL;
    uint8_t *target;
    size_t target_len = 0;
    int rc;

    delta_enc_defaults(&o);
    for (int i = 1; i < argc; i++) {
        int r;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: fota compress NEW.bin -o OUT [--block-size BYTES]\n"
                   "  a compressed image the device decodes with the delta decoder, no base\n"
                   "  needed (docs/delta.md)\n");
            return 0;
        }
        r = enc_option("compress", argc, argv, &i, &o, &out);
        if (r < 0)
            return 2;
        if (r > 0)
            continue;
        if (argv[i][0] == '-' || file) {
            fprintf(stderr, "fota compress: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
        file = argv[i];
    }
    if (!file || !out) {
        fprintf(stderr, "usage: fota compress NEW.bin -o OUT [--block-size BYTES]\n");
        return 2;
    }
    target = util_read_file(file, &target_len);
    if (!target)
        return 1;
    rc = encode_to_file("compress", NULL, 0, target, target_len, &o, out);
    free(target);
    return rc;
}

int cmd_patch(int argc, char **argv)
{
    const char *out = NULL, *files[2] = {NULL, NULL};
    uint8_t *base = NULL, *patch = NULL, *target = NULL;
    size_t base_len = 0, patch_len = 0, target_len = 0, n = 0;
    int rc = 1;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: fota patch OLD.bin PATCH -o NEW.bin   (a patch)\n"
                   "       fota patch COMPRESSED -o NEW.bin      (a compressed image)\n"
                   "  rebuilds the image with the decoder devices run and checks its size and\n"
                   "  SHA-256 against the patch header\n");
            return 0;
        }
        if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "--out")) {
            if (++i >= argc) {
                fprintf(stderr, "fota patch: -o needs a value\n");
                return 2;
            }
            out = argv[i];
            continue;
        }
        if (argv[i][0] == '-' || n == 2) {
            fprintf(stderr, "fota patch: unexpected argument '%s' (fota patch --help)\n", argv[i]);
            return 2;
        }
        files[n++] = argv[i];
    }
    if (n == 0 || !out) {
        fprintf(stderr, "usage: fota patch [OLD.bin] PATCH -o NEW.bin\n");
        return 2;
    }
    if (n == 2) {
        base = util_read_file(files[0], &base_len);
        if (!base)
            goto out;
    }
    patch = util_read_file(files[n - 1], &patch_len);
    if (!patch)
        goto out;
    if (delta_apply("patch", base, base_len, patch, patch_len, &target, &target_len) != 0)
        goto out;
    if (util_write_file(out, target, target_len) != 0)
        goto out;
    printf("%s: %zu bytes from a %zu-byte %s\n", out, target_len, patch_len,
           n == 2 ? "patch" : "compressed image");
    rc = 0;
out:
    free(base);
    free(patch);
    free(target);
    return rc;
}
