/*
 * The real firmware pairs (shared/testdata/delta-pairs): patches and
 * compressed images made by the tool's encoder (tools/delta_enc.c) and
 * rebuilt by the device's decoder (src/delta.c) in network-sized chunks;
 * with 4 KiB blocks, a resume at every block boundary (a power cut or a
 * dropped link there) rebuilds the same image; the other pair's base is
 * refused before any output. Usage: delta_pairs DELTA-PAIRS-DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "delta_apply.h"
#include "delta_enc.h"
#include "fota/crypto.h"
#include "fota_crypto_backends.h"
#include "fota/delta.h"
#include "fota/error.h"
#include "harness.h"
#include "util.h"

struct pair {
    const char *dir, *old_name, *new_name;
    size_t goal; /* issue 11's patch size goal, 0 for none */
};

static const struct pair pairs[] = {
    {"micropython-esp8266", "esp8266-20180511-v1.9.4.bin", "esp8266-20190125-v1.10.bin", 77500},
    {"pybv11", "v1.10-firmware1.bin", "1f5d945af-firmware1.bin", 0},
};

static const char *data_dir;
static uint8_t *img[2][2]; /* [pair][old, new] */
static size_t img_len[2][2];

struct mem {
    const uint8_t *base;
    size_t base_len;
    const uint8_t *out;
    size_t readable;
};

static int read_base(void *ctx, uint32_t off, uint8_t *buf, size_t len)
{
    struct mem *m = ctx;
    if (off > m->base_len || len > m->base_len - off)
        return FOTA_ERR_FLASH_READ;
    memcpy(buf, m->base + off, len);
    return 0;
}

static int read_output(void *ctx, uint32_t off, uint8_t *buf, size_t len)
{
    struct mem *m = ctx;
    if (off > m->readable || len > m->readable - off)
        return FOTA_ERR_FLASH_READ; /* not yet "in flash": a contract violation */
    memcpy(buf, m->out + off, len);
    return 0;
}

static int load(void)
{
    char path[4096];
    for (size_t p = 0; p < 2; p++)
        for (int k = 0; k < 2; k++) {
            snprintf(path, sizeof path, "%s/%s/%s", data_dir, pairs[p].dir,
                     k ? pairs[p].new_name : pairs[p].old_name);
            img[p][k] = util_read_file(path, &img_len[p][k]);
            if (!img[p][k])
                return -1;
        }
    return 0;
}

static uint8_t *encode(size_t p, int with_base, unsigned block_shift, size_t *len)
{
    struct delta_enc_opts o;
    uint8_t *patch = NULL;
    delta_enc_defaults(&o);
    o.block_shift = block_shift;
    if (delta_encode(with_base ? img[p][0] : NULL, with_base ? img_len[p][0] : 0, img[p][1],
                     img_len[p][1], &o, &patch, len) != 0)
        return NULL;
    return patch;
}

static void test_patches_rebuild_the_new_images(void)
{
    for (size_t p = 0; p < 2; p++) {
        size_t len = 0;
        uint8_t *patch = encode(p, 1, 16, &len);
        CHECK(patch != NULL);
        if (!patch)
            continue;
        printf("  %s: %zu -> %zu bytes, patch %zu (%.1f%%)\n", pairs[p].dir, img_len[p][0],
               img_len[p][1], len, 100.0 * (double)len / (double)img_len[p][1]);
        CHECK_EQ_INT(delta_apply_check("test", img[p][0], img_len[p][0], patch, len, img[p][1],
                                       img_len[p][1]),
                     0);
        if (pairs[p].goal)
            CHECK(len <= pairs[p].goal);
        CHECK(len < img_len[p][1] / 6);
        free(patch);
    }
}

static void test_compressed_images(void)
{
    for (size_t p = 0; p < 2; p++) {
        size_t len = 0;
        uint8_t *packed = encode(p, 0, 16, &len);
        CHECK(packed != NULL);
        if (!packed)
            continue;
        printf("  %s new image compressed: %zu bytes (%.1f%%)\n", pairs[p].dir, len,
               100.0 * (double)len / (double)img_len[p][1]);
        CHECK_EQ_INT(delta_apply_check("test", NULL, 0, packed, len, img[p][1], img_len[p][1]), 0);
        CHECK(len < img_len[p][1]);
        free(packed);
    }
}

static void test_other_base_refused_before_output(void)
{
    static struct fota_delta d;
    static uint8_t out[4096];
    size_t len = 0, used, made = 1;
    uint8_t *patch = encode(0, 1, 16, &len), sha[32];
    struct mem m = {img[1][0], img_len[1][0], out, 0};
    struct fota_delta_io io = {read_base, read_output, &m};
    CHECK(patch != NULL);
    if (!patch)
        return;
    fota_sha256_digest(&fota_crypto_mbedtls, img[1][0], img_len[1][0], sha);
    CHECK_EQ_INT(fota_delta_init(&d, &io, sha, (uint32_t)img_len[1][0]), 0);
    CHECK_EQ_INT(fota_delta_run(&d, patch, len, &used, out, sizeof out, &made),
                 FOTA_ERR_DELTA_BASE);
    CHECK_EQ_INT(made, 0);
    CHECK_EQ_INT(used, FOTA_DELTA_HEADER_SIZE);
    free(patch);
}

/* Decode patch[from..) into out from out_pos, as a device would: 1460-byte
 * network reads into 4 KiB sector writes. */
static int run(struct fota_delta *d, struct mem *m, uint8_t *out, const uint8_t *patch,
               size_t len, size_t from, size_t out_pos, size_t *end,
               struct fota_delta_checkpoint *cps, size_t *n_cp)
{
    size_t pos = from, chunk = cps ? 1 : 1460; /* byte by byte to see every checkpoint */
    int r = 0;
    while (r == 0) {
        size_t n = len - pos < chunk ? len - pos : chunk, used = 0, made = 0;
        struct fota_delta_checkpoint cp;
        r = fota_delta_run(d, patch + pos, n, &used, out + out_pos, 4096, &made);
        pos += used;
        out_pos += made;
        m->readable = out_pos > FOTA_DELTA_OUT_HISTORY ? out_pos - FOTA_DELTA_OUT_HISTORY : 0;
        if (cps) {
            fota_delta_get_checkpoint(d, &cp);
            if (cp.patch_offset && (*n_cp == 0 || cps[*n_cp - 1].patch_offset != cp.patch_offset))
                cps[(*n_cp)++] = cp;
        }
        if (used == 0 && made == 0)
            break;
    }
    *end = out_pos;
    return r;
}

static void test_resume_at_every_block(void)
{
    static struct fota_delta d;
    static struct fota_delta_checkpoint cps[512];
    for (size_t p = 0; p < 2; p++) {
        size_t len = 0, n_cp = 0, end = 0, failures = 0;
        uint8_t *patch = encode(p, 1, 12, &len), sha[32];
        uint8_t *out = malloc(img_len[p][1]);
        struct mem m = {img[p][0], img_len[p][0], out, 0};
        struct fota_delta_io io = {read_base, read_output, &m};
        const struct fota_delta_header *h;
        struct fota_delta_header hdr;
        CHECK(patch != NULL && out != NULL);
        if (!patch || !out) {
            free(patch);
            free(out);
            continue;
        }
        fota_sha256_digest(&fota_crypto_mbedtls, img[p][0], img_len[p][0], sha);
        CHECK_EQ_INT(fota_delta_init(&d, &io, sha, (uint32_t)img_len[p][0]), 0);
        CHECK_EQ_INT(run(&d, &m, out, patch, len, 0, 0, &end, cps, &n_cp), 1);
        CHECK_EQ_INT(end, img_len[p][1]);
        h = fota_delta_header(&d);
        CHECK(h != NULL);
        if (!h)
            continue;
        hdr = *h;
        CHECK_EQ_INT(n_cp, (img_len[p][1] + 4095) / 4096 + 1);
        for (size_t i = 0; i < n_cp; i++) {
            /* before the checkpoint: in flash; after it: whatever was there */
            memset(out + cps[i].output_offset, 0xA5, img_len[p][1] - cps[i].output_offset);
            m.readable = cps[i].output_offset;
            if (fota_delta_init(&d, &io, sha, (uint32_t)img_len[p][0]) != 0 ||
                fota_delta_resume(&d, &hdr, &cps[i]) != 0 ||
                run(&d, &m, out, patch, len, cps[i].patch_offset, cps[i].output_offset, &end,
                    NULL, NULL) != 1 ||
                end != img_len[p][1] || memcmp(out, img[p][1], end) != 0) {
                printf("  resume at patch %u, output %u failed\n", cps[i].patch_offset,
                       cps[i].output_offset);
                failures++;
            }
        }
        printf("  %s: resumed at %zu block boundaries, %zu failed\n", pairs[p].dir, n_cp,
               failures);
        CHECK_EQ_INT(failures, 0);
        free(patch);
        free(out);
    }
}

static const struct test_case tests[] = {
    TEST(test_patches_rebuild_the_new_images),
    TEST(test_compressed_images),
    TEST(test_other_base_refused_before_output),
    TEST(test_resume_at_every_block),
};

int main(int argc, char **argv)
{
    int rc;
    if (argc != 2) {
        fprintf(stderr, "usage: delta_pairs DELTA-PAIRS-DIR\n");
        return 2;
    }
    data_dir = argv[1];
    if (load() != 0) {
        fprintf(stderr, "delta_pairs: the shared test data is missing (%s; set FOTA_SHARED)\n",
                data_dir);
        return 1;
    }
    rc = test_main("delta_pairs", tests, TEST_COUNT(tests));
    for (size_t p = 0; p < 2; p++)
        for (int k = 0; k < 2; k++)
            free(img[p][k]);
    return rc;
}
