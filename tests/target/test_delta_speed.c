/*
 * The delta decoder's work per output byte on the emulated CPU: decodes a
 * patch in 1460-byte network reads into 4 KiB sector buffers and counts the
 * instructions retired inside fota_delta_run (rv32imc: minstret, which QEMU
 * counts exactly under `-icount shift=0`, as bench/delta.sh runs it; lx106:
 * CCOUNT cycles). Checks the rebuilt image either way.
 *
 * Input: when delta-bench-base.bin and delta-bench-patch.bin exist in the
 * emulator's working directory (bench/delta.sh puts a real pair there), those,
 * checked against the SHA-256 in the patch header; otherwise (ctest) a
 * generated firmware-like pair encoded on the target by src/delta_encode.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fota/crypto.h"
#include "fota/delta.h"
#include "fota/delta_encode.h"
#include "fota/error.h"
#include "fota_crypto_backends.h"
#include "harness.h"

#ifndef FOTA_TEST_CRYPTO
#define FOTA_TEST_CRYPTO fota_crypto_mbedtls
#endif

#define MAX_IMAGE (1024 * 1024)
#define SYNTH_SIZE (96 * 1024)

static uint8_t base[MAX_IMAGE], target[MAX_IMAGE], output[MAX_IMAGE];
static uint8_t patch[MAX_IMAGE / 2];
static size_t base_len, target_len, patch_len, readable;
static struct fota_delta dec;
static struct fota_delta_enc enc;

static uint64_t retired(void)
{
#if defined(__riscv)
    uint32_t hi, lo, hi2;
    /* -march=rv32imc leaves Zicsr out of the compiler's view: enable it here */
    do {
        __asm__ volatile(".option push\n.option arch, +zicsr\ncsrr %0, minstreth\n"
                         "csrr %1, minstret\ncsrr %2, minstreth\n.option pop"
                         : "=r"(hi), "=r"(lo), "=r"(hi2));
    } while (hi != hi2);
    return (uint64_t)hi << 32 | lo;
#elif defined(__XTENSA__)
    uint32_t c;
    __asm__ volatile("rsr.ccount %0" : "=a"(c));
    return c; /* 32 bits: the decode below stays far below 2^32 */
#else
    return 0;
#endif
}

static size_t load(const char *name, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(name, "rb");
    size_t n;
    if (!f)
        return 0;
    n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static int read_base(void *ctx, uint32_t off, uint8_t *buf, size_t len)
{
    (void)ctx;
    if (off > base_len || len > base_len - off)
        return FOTA_ERR_FLASH_READ;
    memcpy(buf, base + off, len);
    return 0;
}

static int read_output(void *ctx, uint32_t off, uint8_t *buf, size_t len)
{
    (void)ctx;
    if (off > readable || len > readable - off)
        return FOTA_ERR_FLASH_READ;
    memcpy(buf, output + off, len);
    return 0;
}

/* A base of code-like words and a target that moves, edits and extends it. */
static int synthesize(void)
{
    static struct fota_delta_op ops[8];
    struct fota_delta_header h = {FOTA_DELTA_FORMAT, FOTA_DELTA_PATCH, 12, SYNTH_SIZE,
                                  SYNTH_SIZE, {0x5b}, {0}};
    uint32_t x = 12345;
    size_t n_ops = 0, pos = 0;
    for (size_t i = 0; i < SYNTH_SIZE; i++) {
        x = x * 1103515245u + 12345u;
        base[i] = (i & 3) == 3 ? 0x40 : (uint8_t)(x >> 24 & 0x3f);
    }
    base_len = SYNTH_SIZE;
    /* 40 KiB shifted by 16 bytes with every 64th byte changed, 8 KiB new,
     * 8 KiB repeating earlier output, the rest from the base as is. */
    ops[n_ops++] = (struct fota_delta_op){FOTA_DELTA_OP_DIFF, 0, 40960, 16};
    ops[n_ops++] = (struct fota_delta_op){FOTA_DELTA_OP_LIT, 40960, 8192, 0};
    ops[n_ops++] = (struct fota_delta_op){FOTA_DELTA_OP_MATCH, 49152, 8192, 30000};
    ops[n_ops++] = (struct fota_delta_op){FOTA_DELTA_OP_DIFF, 57344, SYNTH_SIZE - 57344, 57344};
    for (size_t k = 0; k < n_ops; k++)
        for (uint32_t i = 0; i < ops[k].len; i++, pos++) {
            if (ops[k].kind == FOTA_DELTA_OP_DIFF)
                target[pos] = (uint8_t)(base[ops[k].src + i] + ((pos % 64) == 0));
            else if (ops[k].kind == FOTA_DELTA_OP_LIT)
                target[pos] = (uint8_t)(pos * 7 + (pos >> 5));
            else
                target[pos] = target[pos - ops[k].src];
        }
    target_len = SYNTH_SIZE;
    if (fota_delta_write_header(&h, patch) != 0 || fota_delta_enc_init(&enc, &h, base, target))
        return -1;
    patch_len = FOTA_DELTA_HEADER_SIZE;
    for (uint32_t b = 0; b < SYNTH_SIZE / 4096; b++) {
        size_t len;
        if (fota_delta_enc_block(&enc, b, ops, n_ops, patch + patch_len,
                                 sizeof patch - patch_len, &len) != 0)
            return -1;
        patch_len += len;
    }
    return 0;
}

static void test_decode_speed(void)
{
    static const uint8_t synth_base_sha[32] = {0x5b};
    struct fota_delta_io io = {read_base, read_output, NULL};
    struct fota_delta_header h;
    uint8_t sha[32];
    const uint8_t *expect_base_sha = synth_base_sha;
    uint64_t instructions = 0;
    size_t pos = 0, out = 0, per_byte_x10;
    int real, r = 0;

    base_len = load("delta-bench-base.bin", base, sizeof base);
    patch_len = base_len ? load("delta-bench-patch.bin", patch, sizeof patch) : 0;
    real = base_len > 0 && patch_len > 0;
    if (real) {
        fota_sha256_digest(&FOTA_TEST_CRYPTO, base, base_len, sha);
        expect_base_sha = sha;
    } else {
        CHECK_EQ_INT(synthesize(), 0);
    }
    CHECK_EQ_INT(fota_delta_parse_header(patch, patch_len, &h), 0);
    CHECK_EQ_INT(fota_delta_init(&dec, &io, expect_base_sha, (uint32_t)base_len), 0);
    while (r == 0) {
        size_t n = patch_len - pos < 1460 ? patch_len - pos : 1460, used = 0, made = 0;
        size_t room = sizeof output - out < 4096 ? sizeof output - out : 4096;
        uint64_t t0 = retired();
        r = fota_delta_run(&dec, patch + pos, n, &used, output + out, room, &made);
        instructions += retired() - t0;
        pos += used;
        out += made;
        readable = out > FOTA_DELTA_OUT_HISTORY ? out - FOTA_DELTA_OUT_HISTORY : 0;
        if (used == 0 && made == 0)
            break;
    }
    CHECK_EQ_INT(r, 1);
    CHECK_EQ_INT(out, h.target_size);
    if (real) {
        fota_sha256_digest(&FOTA_TEST_CRYPTO, output, out, sha);
        CHECK_MEM(sha, h.target_sha256, 32);
    } else {
        CHECK_MEM(output, target, target_len);
    }
    per_byte_x10 = out ? (size_t)(instructions * 10 / out) : 0;
    printf("  delta decode (%s pair): patch %u bytes -> %u bytes, %llu %s, %u.%u per output "
           "byte\n",
           real ? "real" : "generated", (unsigned)patch_len, (unsigned)out,
           (unsigned long long)instructions,
#if defined(__riscv)
           "instructions (minstret)",
#else
           "cycles (ccount)",
#endif
           (unsigned)(per_byte_x10 / 10), (unsigned)(per_byte_x10 % 10));
}

static const struct test_case tests[] = {
    TEST(test_decode_speed),
};

int main(void)
{
    return test_main("delta_speed", tests, TEST_COUNT(tests));
}
