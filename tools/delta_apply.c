#include "delta_apply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fota/crypto.h"
#include "fota_crypto_backends.h"
#include "fota/delta.h"
#include "fota/error.h"

struct mem_io {
    const uint8_t *base;
    size_t base_len;
    const uint8_t *out;
    size_t out_len;
};

static int read_mem(const uint8_t *p, size_t n, uint32_t off, uint8_t *buf, size_t len)
{
    if (off > n || len > n - off)
        return FOTA_ERR_FLASH_READ;
    memcpy(buf, p + off, len);
    return 0;
}

static int read_base(void *ctx, uint32_t off, uint8_t *buf, size_t len)
{
    struct mem_io *m = ctx;
    return read_mem(m->base, m->base_len, off, buf, len);
}

static int read_output(void *ctx, uint32_t off, uint8_t *buf, size_t len)
{
    struct mem_io *m = ctx;
    return read_mem(m->out, m->out_len, off, buf, len);
}

int delta_apply(const char *cmd, const uint8_t *base, size_t base_len, const uint8_t *patch,
                size_t patch_len, uint8_t **out, size_t *out_len)
{
    static struct fota_delta d; /* 8 KiB: not on the stack */
    struct mem_io m = {base, base_len, NULL, 0};
    struct fota_delta_io io = {read_base, read_output, &m};
    struct fota_delta_header h;
    uint8_t sha[32], *img;
    size_t pos = 0, cap;
    int r;

    *out = NULL;
    r = fota_delta_parse_header(patch, patch_len, &h);
    if (r != 0) {
        fprintf(stderr, "fota %s: not a fota patch or compressed image (%s)\n", cmd,
                fota_strerror(r));
        return -1;
    }
    if (h.kind == FOTA_DELTA_PATCH && !base) {
        fprintf(stderr, "fota %s: this is a patch: give the base image it was made from\n", cmd);
        return -1;
    }
    if (base)
        fota_sha256_digest(&FOTA_CRYPTO_HOST, base, base_len, sha);
    r = fota_delta_init(&d, &io, base ? sha : NULL, (uint32_t)base_len);
    cap = h.target_size;
    img = malloc(cap ? cap : 1);
    if (r != 0 || !img) {
        free(img);
        fprintf(stderr, "fota %s: cannot start the decoder\n", cmd);
        return -1;
    }
    m.out = img;
    /* Feed it as a device would: a network read at a time, into a sector. */
    for (;;) {
        size_t chunk = patch_len - pos < 1460 ? patch_len - pos : 1460, used = 0, made = 0;
        size_t room = cap - m.out_len < 4096 ? cap - m.out_len : 4096;
        r = fota_delta_run(&d, patch + pos, chunk, &used, img + m.out_len, room, &made);
        pos += used;
        m.out_len += made;
        if (r != 0 || (used == 0 && made == 0))
            break;
    }
    if (r != 1) {
        fprintf(stderr, "fota %s: decoding failed at patch byte %zu, output byte %zu: %s\n", cmd,
                pos, m.out_len,
                r < 0 ? fota_strerror(r)
                      : (pos == patch_len ? "the patch ends early (truncated)" : "decoder stalled"));
        if (r == FOTA_ERR_DELTA_BASE)
            fprintf(stderr, "fota %s: the patch is for another base image\n", cmd);
        free(img);
        return -1;
    }
    fota_sha256_digest(&FOTA_CRYPTO_HOST, img, m.out_len, sha);
    if (m.out_len != h.target_size || memcmp(sha, h.target_sha256, 32) != 0) {
        fprintf(stderr, "fota %s: the result (%zu bytes) does not match the SHA-256 in the "
                        "patch header\n", cmd, m.out_len);
        free(img);
        return -1;
    }
    *out = img;
    *out_len = m.out_len;
    return 0;
}

int delta_apply_check(const char *cmd, const uint8_t *base, size_t base_len,
                      const uint8_t *patch, size_t patch_len, const uint8_t *target,
                      size_t target_len)
{
    uint8_t *img;
    size_t n;
    int same;
    if (delta_apply(cmd, base, base_len, patch, patch_len, &img, &n) != 0)
        return -1;
    same = n == target_len && memcmp(img, target, n) == 0;
    free(img);
    if (!same)
        fprintf(stderr, "fota %s: internal error: the decoder does not rebuild the target\n", cmd);
    return same ? 0 : -1;
}
