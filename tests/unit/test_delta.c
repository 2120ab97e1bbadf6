/*
 * The delta decoder (src/delta.c) against patches made by the core's encoder
 * (src/delta_encode.c) from generated images: round trips with every op kind
 * across block boundaries, fed in chunks from 1 byte up; resume from every
 * block boundary; empty, identical and unrelated images; truncated,
 * corrupted and trailing input; a wrong or missing base refused before any
 * output; and the callbacks only ever asked for what the contract allows.
 * Pure C: runs on lx106 and rv32imc too (the real firmware pairs are in
 * tests/delta/, on the host).
 */
#include <string.h>

#include "fota/delta.h"
#include "fota/delta_encode.h"
#include "fota/error.h"
#include "fota/record.h"
#include "harness.h"

#define MAX_IMAGE (24 * 1024)
#define MAX_OPS 512
#define MAX_PATCH (FOTA_DELTA_HEADER_SIZE + 8 * (FOTA_DELTA_BLOCK_HEADER_SIZE + \
                                                 FOTA_DELTA_BLOCK_MAX(4096)))

static uint8_t base[MAX_IMAGE], target[MAX_IMAGE], output[MAX_IMAGE];
static uint8_t patch[MAX_PATCH], damaged[MAX_PATCH];
static struct fota_delta_op ops[MAX_OPS];
static size_t n_ops, base_len, target_len, patch_len;
static struct fota_delta dec;
static struct fota_delta_enc enc;
static const uint8_t base_sha[32] = {0xba, 0x5e};
static const uint8_t other_sha[32] = {0x07, 0x4e, 0x12};

static uint32_t rng = 1;
static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

/* ---- Images and their ops ------------------------------------------------ */

/* Firmware-like bytes: words from a small vocabulary with runs of padding. */
static void make_base(size_t len)
{
    static const uint32_t words[] = {0x40201000, 0x3ffe8000, 0x00000000, 0xffffffff,
                                     0x12c1f0c0, 0x0020c0c2, 0xa0004000};
    for (size_t i = 0; i < len; i += 4) {
        uint32_t w = (next_rand() & 3) ? words[next_rand() % 7] : next_rand();
        for (size_t k = 0; k < 4 && i + k < len; k++)
            base[i + k] = (uint8_t)(w >> (8 * k));
    }
    base_len = len;
}

static void add_op(unsigned kind, uint32_t len, uint32_t src)
{
    uint32_t out = (uint32_t)target_len;
    if (n_ops == MAX_OPS || len == 0)
        return;
    ops[n_ops++] = (struct fota_delta_op){(uint8_t)kind, out, len, src};
    for (uint32_t i = 0; i < len; i++) {
        if (kind == FOTA_DELTA_OP_DIFF)
            target[out + i] = (uint8_t)(base[src + i] + ((next_rand() % 50) ? 0 : next_rand()));
        else if (kind == FOTA_DELTA_OP_LIT)
            target[out + i] = (next_rand() & 1) ? (uint8_t)next_rand() : (uint8_t)'a' + (i % 7);
        else
            target[out + i] = target[out + i - src];
    }
    target_len += len;
}

/* A new version: stretches of the base (moved, with changed bytes), new
 * bytes, and repeats of its own earlier bytes, overlapping ones included. */
static void make_target(size_t len)
{
    target_len = 0;
    n_ops = 0;
    while (target_len < len) {
        uint32_t left = (uint32_t)(len - target_len), n = 1 + next_rand() % 1500, kind;
        if (n > left)
            n = left;
        kind = next_rand() % 4;
        if (kind >= 2 && base_len > 0) {
            uint32_t src = next_rand() % (uint32_t)base_len;
            if (n > base_len - src)
                n = (uint32_t)(base_len - src);
            add_op(FOTA_DELTA_OP_DIFF, n, src);
        } else if (kind == 1 && target_len > 0) {
            uint32_t dist = 1 + next_rand() % (uint32_t)target_len;
            add_op(FOTA_DELTA_OP_MATCH, n, dist);
        } else {
            add_op(FOTA_DELTA_OP_LIT, n > 300 ? 300 : n, 0);
        }
    }
}

static int encode(unsigned block_shift, int with_base)
{
    struct fota_delta_header h = {FOTA_DELTA_FORMAT, with_base ? FOTA_DELTA_PATCH
                                                               : FOTA_DELTA_COMPRESSED,
                                  (uint8_t)block_shift, with_base ? (uint32_t)base_len : 0,
                                  (uint32_t)target_len, {0}, {0x7a}};
    size_t blocks = (target_len + (1u << block_shift) - 1) >> block_shift;
    int r;
    if (with_base)
        memcpy(h.base_sha256, base_sha, 32);
    r = fota_delta_write_header(&h, patch);
    if (r == 0)
        r = fota_delta_enc_init(&enc, &h, with_base ? base : NULL, target);
    patch_len = FOTA_DELTA_HEADER_SIZE;
    for (uint32_t b = 0; r == 0 && b < blocks; b++) {
        size_t len = 0;
        r = fota_delta_enc_block(&enc, b, ops, n_ops, patch + patch_len, sizeof patch - patch_len,
                                 &len);
        patch_len += len;
    }
    return r;
}

/* ---- Decoding, with the callbacks' contract checked ----------------------- */

struct io {
    size_t readable_end; /* output the caller may be asked for */
    int bad_reads;
    size_t base_reads, output_reads;
};
static struct io io_state;

static int read_base(void *ctx, uint32_t off, uint8_t *buf, size_t len)
{
    struct io *io = ctx;
    io->base_reads++;
    if (off > base_len || len > base_len - off || len == 0) {
        io->bad_reads++;
        return FOTA_ERR_FLASH_READ;
    }
    memcpy(buf, base + off, len);
    return 0;
}

static int read_output(void *ctx, uint32_t off, uint8_t *buf, size_t len)
{
    struct io *io = ctx;
    io->output_reads++;
    if (off > io->readable_end || len > io->readable_end - off || len == 0) {
        io->bad_reads++;
        return FOTA_ERR_FLASH_READ;
    }
    memcpy(buf, output + off, len);
    return 0;
}

static const struct fota_delta_io io = {read_base, read_output, &io_state};

/* Feed patch[from..to) in `in_chunk` pieces with `out_chunk` output room,
 * writing output from `out_pos` on. Returns the last fota_delta_run result;
 * *out_end is where the output stopped. */
static int feed(const uint8_t *p, size_t from, size_t to, size_t in_chunk, size_t out_chunk,
                size_t out_pos, size_t *out_end)
{
    size_t pos = from;
    int r = 0;
    for (int guard = 0; guard < 4000000; guard++) {
        size_t n = to - pos < in_chunk ? to - pos : in_chunk, used = 0, made = 0;
        size_t room = sizeof output - out_pos < out_chunk ? sizeof output - out_pos : out_chunk;
        r = fota_delta_run(&dec, p + pos, n, &used, output + out_pos, room, &made);
        CHECK(used <= n);
        CHECK(made <= room);
        pos += used;
        out_pos += made;
        /* Everything but the last FOTA_DELTA_OUT_HISTORY bytes is now "flash". */
        if (out_pos > FOTA_DELTA_OUT_HISTORY &&
            out_pos - FOTA_DELTA_OUT_HISTORY > io_state.readable_end)
            io_state.readable_end = out_pos - FOTA_DELTA_OUT_HISTORY;
        if (r != 0 || (used == 0 && made == 0))
            break;
    }
    *out_end = out_pos;
    return r;
}

static int decode_all(const uint8_t *p, size_t len, size_t in_chunk, size_t out_chunk,
                      const uint8_t *sha, size_t *out_len)
{
    int r;
    memset(&io_state, 0, sizeof io_state);
    memset(output, 0xEE, sizeof output);
    r = fota_delta_init(&dec, &io, sha, sha ? (uint32_t)base_len : 0);
    if (r != 0)
        return r;
    return feed(p, 0, len, in_chunk, out_chunk, 0, out_len);
}

static int round_trip(size_t in_chunk, size_t out_chunk, int with_base)
{
    size_t out_len = 0;
    int r = decode_all(patch, patch_len, in_chunk, out_chunk, with_base ? base_sha : NULL,
                       &out_len);
    CHECK_EQ_INT(r, 1);
    CHECK_EQ_INT(out_len, target_len);
    CHECK_EQ_INT(io_state.bad_reads, 0);
    CHECK(target_len == 0 || memcmp(output, target, target_len) == 0);
    return r == 1 && out_len == target_len && memcmp(output, target, target_len) == 0;
}

/* ---- Tests ------------------------------------------------------------------ */

static void test_round_trip_in_all_chunk_sizes(void)
{
    static const size_t chunks[][2] = {{1, 1}, {1, 4096}, {7, 3}, {100, 17}, {1460, 4096},
                                       {MAX_PATCH, 1}, {MAX_PATCH, MAX_IMAGE}};
    rng = 11;
    make_base(20000);
    make_target(22000);
    CHECK_EQ_INT(encode(12, 1), 0);
    CHECK(patch_len < target_len / 2);
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        CHECK(round_trip(chunks[i][0], chunks[i][1], 1));
        CHECK(io_state.base_reads > 0);
        if (chunks[i][1] == 1)
            CHECK(io_state.output_reads > 0); /* matches read earlier output back */
    }
}

static void test_many_random_pairs(void)
{
    for (uint32_t seed = 1; seed <= 12; seed++) {
        rng = seed * 7919u;
        make_base(1 + next_rand() % MAX_IMAGE);
        make_target(1 + next_rand() % MAX_IMAGE);
        CHECK_EQ_INT(encode(12 + seed % 3, 1), 0);
        CHECK(round_trip(1 + next_rand() % 600, 1 + next_rand() % 5000, 1));
    }
}

static void test_compressed_image_needs_no_base(void)
{
    rng = 5;
    base_len = 0;
    make_target(MAX_IMAGE);
    CHECK_EQ_INT(encode(12, 0), 0);
    CHECK(round_trip(512, 4096, 0));
    CHECK_EQ_INT(io_state.base_reads, 0);
    /* A device that has a base may still take a compressed image. */
    {
        size_t out_len;
        make_base(100);
        CHECK_EQ_INT(decode_all(patch, patch_len, 512, 4096, base_sha, &out_len), 1);
        CHECK_EQ_INT(out_len, target_len);
    }
}

static void test_empty_target(void)
{
    rng = 3;
    make_base(1000);
    target_len = 0;
    n_ops = 0;
    CHECK_EQ_INT(encode(12, 1), 0);
    CHECK_EQ_INT(patch_len, FOTA_DELTA_HEADER_SIZE);
    CHECK(round_trip(10, 10, 1));
}

static void test_identical_images_cost_almost_nothing(void)
{
    rng = 4;
    make_base(MAX_IMAGE);
    memcpy(target, base, base_len);
    target_len = base_len;
    ops[0] = (struct fota_delta_op){FOTA_DELTA_OP_DIFF, 0, (uint32_t)base_len, 0};
    n_ops = 1;
    CHECK_EQ_INT(encode(12, 1), 0);
    CHECK(patch_len < base_len / 50);
    CHECK(round_trip(64, 4096, 1));
}

static void test_unrelated_images(void)
{
    rng = 9;
    make_base(MAX_IMAGE);
    target_len = 0;
    n_ops = 0;
    while (target_len < MAX_IMAGE)
        add_op(FOTA_DELTA_OP_LIT, 256, 0);
    CHECK_EQ_INT(encode(12, 1), 0);
    CHECK(round_trip(333, 4096, 1));
}

static void test_wrong_base_refused_before_output(void)
{
    size_t out_len = 99;
    rng = 21;
    make_base(5000);
    make_target(9000);
    CHECK_EQ_INT(encode(12, 1), 0);
    CHECK_EQ_INT(decode_all(patch, patch_len, 4096, 4096, other_sha, &out_len),
                 FOTA_ERR_DELTA_BASE);
    CHECK_EQ_INT(out_len, 0);
    /* Same hash, other size. */
    memset(&io_state, 0, sizeof io_state);
    CHECK_EQ_INT(fota_delta_init(&dec, &io, base_sha, (uint32_t)base_len + 1), 0);
    CHECK_EQ_INT(feed(patch, 0, patch_len, 4096, 4096, 0, &out_len), FOTA_ERR_DELTA_BASE);
    CHECK_EQ_INT(out_len, 0);
    /* No base at all. */
    CHECK_EQ_INT(decode_all(patch, patch_len, 4096, 4096, NULL, &out_len), FOTA_ERR_DELTA_BASE);
    CHECK_EQ_INT(out_len, 0);
    /* The error sticks. */
    {
        size_t used, made;
        CHECK_EQ_INT(fota_delta_run(&dec, patch, 1, &used, output, 1, &made), FOTA_ERR_DELTA_BASE);
    }
}

static void test_truncated_patch_never_completes(void)
{
    rng = 31;
    make_base(3000);
    make_target(9000);
    CHECK_EQ_INT(encode(12, 1), 0);
    for (size_t cut = 0; cut < patch_len; cut += 1 + cut / 16) {
        size_t out_len;
        int r = decode_all(patch, cut, 61, 4096, base_sha, &out_len);
        CHECK_EQ_INT(r, 0); /* waiting for more */
        CHECK(out_len < target_len);
        CHECK_EQ_INT(io_state.bad_reads, 0);
    }
}

static void test_trailing_bytes_are_corrupt(void)
{
    size_t out_len;
    rng = 32;
    make_base(3000);
    make_target(5000);
    CHECK_EQ_INT(encode(12, 1), 0);
    memcpy(damaged, patch, patch_len);
    damaged[patch_len] = 0;
    CHECK_EQ_INT(decode_all(damaged, patch_len + 1, 4096, 8192, base_sha, &out_len),
                 FOTA_ERR_DELTA_CORRUPT);
}

static void test_corrupted_patch(void)
{
    size_t detected = 0, tried = 0;
    rng = 41;
    make_base(8000);
    make_target(12000);
    CHECK_EQ_INT(encode(12, 1), 0);
    for (size_t at = 0; at < patch_len; at += 1 + at / 40) {
        size_t out_len;
        int r;
        memcpy(damaged, patch, patch_len);
        damaged[at] ^= (uint8_t)(1u << (at % 8));
        r = decode_all(damaged, patch_len, 509, 4096, base_sha, &out_len);
        tried++;
        CHECK_EQ_INT(io_state.bad_reads, 0); /* never reads outside the images */
        CHECK(r != 1 || out_len == target_len);
        if (at < FOTA_DELTA_HEADER_SIZE + FOTA_DELTA_BLOCK_HEADER_SIZE)
            CHECK(r < 0); /* the header's check value, the first block header */
        if (r < 0 || memcmp(output, target, target_len) != 0)
            detected++;
    }
    /* The SHA-256 of the result catches the rest; the decoder itself most. */
    CHECK(detected * 10 >= tried * 9);
}

static void test_header_fields(void)
{
    struct fota_delta_header h;
    rng = 51;
    make_base(3000);
    make_target(5000);
    CHECK_EQ_INT(encode(13, 1), 0);
    CHECK_EQ_INT(fota_delta_parse_header(patch, patch_len, &h), 0);
    CHECK_EQ_INT(h.kind, FOTA_DELTA_PATCH);
    CHECK_EQ_INT(h.block_shift, 13);
    CHECK_EQ_INT(h.base_size, base_len);
    CHECK_EQ_INT(h.target_size, target_len);
    CHECK_MEM(h.base_sha256, base_sha, 32);
    /* A later format version with a valid check value: unsupported, not corrupt. */
    {
        uint8_t raw[FOTA_DELTA_HEADER_SIZE];
        CHECK_EQ_INT(fota_delta_write_header(&h, raw), 0);
        CHECK_MEM(raw, patch, FOTA_DELTA_HEADER_SIZE);
        raw[4] = FOTA_DELTA_FORMAT + 1;
        {
            uint32_t crc = fota_crc32(0, raw, 80); /* as the writer computes it */
            for (int i = 0; i < 4; i++)
                raw[80 + i] = (uint8_t)(crc >> (8 * i));
        }
        CHECK_EQ_INT(fota_delta_parse_header(raw, sizeof raw, &h), FOTA_ERR_DELTA_UNSUPPORTED);
    }
    CHECK_EQ_INT(fota_delta_parse_header(patch, FOTA_DELTA_HEADER_SIZE - 1, &h),
                 FOTA_ERR_INVALID_ARG);
    memcpy(damaged, patch, FOTA_DELTA_HEADER_SIZE);
    damaged[0] = 'x';
    CHECK_EQ_INT(fota_delta_parse_header(damaged, FOTA_DELTA_HEADER_SIZE, &h),
                 FOTA_ERR_DELTA_CORRUPT);
}

static void test_resume_from_every_block(void)
{
    struct fota_delta_checkpoint cps[16];
    struct fota_delta_header h;
    size_t n_cp = 0, out_len;
    rng = 61;
    make_base(MAX_IMAGE);
    make_target(MAX_IMAGE);
    CHECK_EQ_INT(encode(12, 1), 0);
    CHECK_EQ_INT(fota_delta_parse_header(patch, patch_len, &h), 0);

    /* Record the checkpoints as decoding passes them, one byte at a time. */
    memset(&io_state, 0, sizeof io_state);
    CHECK_EQ_INT(fota_delta_init(&dec, &io, base_sha, (uint32_t)base_len), 0);
    {
        size_t pos = 0, out_pos = 0;
        int r = 0;
        while (r == 0 && pos < patch_len) {
            size_t used, made;
            struct fota_delta_checkpoint cp;
            r = fota_delta_run(&dec, patch + pos, 1, &used, output + out_pos, 4096, &made);
            pos += used;
            out_pos += made;
            io_state.readable_end = out_pos > 256 ? out_pos - 256 : 0;
            fota_delta_get_checkpoint(&dec, &cp);
            /* {0, 0} until the header is in: start from the beginning */
            if (cp.patch_offset != 0 && (n_cp == 0 || cps[n_cp - 1].patch_offset != cp.patch_offset))
                cps[n_cp++] = cp;
        }
        CHECK_EQ_INT(r, 1);
    }
    CHECK_EQ_INT(n_cp, ((target_len + 4095) >> 12) + 1); /* each block start, and the end */
    CHECK_EQ_INT(cps[0].patch_offset, FOTA_DELTA_HEADER_SIZE);
    CHECK_EQ_INT(cps[n_cp - 1].patch_offset, patch_len);
    CHECK_EQ_INT(cps[n_cp - 1].output_offset, target_len);

    /* Resume at each: output before the checkpoint is "in flash", the rest
     * is garbage until the decoder writes it. */
    for (size_t i = 0; i < n_cp; i++) {
        memcpy(output, target, cps[i].output_offset);
        memset(output + cps[i].output_offset, 0xEE, sizeof output - cps[i].output_offset);
        memset(&io_state, 0, sizeof io_state);
        io_state.readable_end = cps[i].output_offset;
        CHECK_EQ_INT(fota_delta_init(&dec, &io, base_sha, (uint32_t)base_len), 0);
        CHECK_EQ_INT(fota_delta_resume(&dec, &h, &cps[i]), 0);
        CHECK_EQ_INT(feed(patch, cps[i].patch_offset, patch_len, 97, 1000, cps[i].output_offset,
                          &out_len), 1);
        CHECK_EQ_INT(out_len, target_len);
        CHECK_MEM(output, target, target_len);
        CHECK_EQ_INT(io_state.bad_reads, 0);
    }

    /* A checkpoint that is not a block start is refused; so is a wrong base. */
    {
        struct fota_delta_checkpoint bad = {cps[1].patch_offset, cps[1].output_offset + 1};
        CHECK_EQ_INT(fota_delta_init(&dec, &io, base_sha, (uint32_t)base_len), 0);
        CHECK_EQ_INT(fota_delta_resume(&dec, &h, &bad), FOTA_ERR_INVALID_ARG);
        CHECK_EQ_INT(fota_delta_init(&dec, &io, other_sha, (uint32_t)base_len), 0);
        CHECK_EQ_INT(fota_delta_resume(&dec, &h, &cps[1]), FOTA_ERR_DELTA_BASE);
    }
    /* Resuming with the patch fed from the wrong block: its index is checked. */
    {
        size_t used, made;
        CHECK_EQ_INT(fota_delta_init(&dec, &io, base_sha, (uint32_t)base_len), 0);
        CHECK_EQ_INT(fota_delta_resume(&dec, &h, &cps[2]), 0);
        CHECK_EQ_INT(fota_delta_run(&dec, patch + cps[1].patch_offset,
                                    patch_len - cps[1].patch_offset, &used, output, 4096, &made),
                     FOTA_ERR_DELTA_CORRUPT);
        CHECK_EQ_INT(made, 0);
    }
}

static void test_encoder_refuses_bad_ops(void)
{
    size_t len;
    struct fota_delta_op bad[2];
    rng = 71;
    make_base(1000);
    make_target(3000);
    CHECK_EQ_INT(encode(12, 1), 0);
    bad[0] = (struct fota_delta_op){FOTA_DELTA_OP_DIFF, 0, 3000, 0}; /* beyond the base */
    CHECK_EQ_INT(fota_delta_enc_block(&enc, 0, bad, 1, patch, sizeof patch, &len),
                 FOTA_ERR_INVALID_ARG);
    bad[0] = (struct fota_delta_op){FOTA_DELTA_OP_MATCH, 0, 3000, 1}; /* nothing before it */
    CHECK_EQ_INT(fota_delta_enc_block(&enc, 0, bad, 1, patch, sizeof patch, &len),
                 FOTA_ERR_INVALID_ARG);
    bad[0] = (struct fota_delta_op){FOTA_DELTA_OP_LIT, 0, 100, 0}; /* a gap after it */
    bad[1] = (struct fota_delta_op){FOTA_DELTA_OP_LIT, 200, 2800, 0};
    CHECK_EQ_INT(fota_delta_enc_block(&enc, 0, bad, 2, patch, sizeof patch, &len),
                 FOTA_ERR_INVALID_ARG);
    CHECK_EQ_INT(fota_delta_enc_block(&enc, 1, ops, n_ops, patch, sizeof patch, &len),
                 FOTA_ERR_INVALID_ARG); /* one block only */
    CHECK_EQ_INT(fota_delta_enc_block(&enc, 0, ops, n_ops, patch, 100, &len),
                 FOTA_ERR_BUFFER_TOO_SMALL);
}

static void test_state_fits_its_storage(void)
{
    /* What docs/delta.md and the benchmark report as the decoder's RAM. */
    CHECK(sizeof(struct fota_delta) <= 8192);
    printf("  decoder state: %u bytes\n", (unsigned)sizeof(struct fota_delta));
}

static const struct test_case tests[] = {
    TEST(test_round_trip_in_all_chunk_sizes),
    TEST(test_many_random_pairs),
    TEST(test_compressed_image_needs_no_base),
    TEST(test_empty_target),
    TEST(test_identical_images_cost_almost_nothing),
    TEST(test_unrelated_images),
    TEST(test_wrong_base_refused_before_output),
    TEST(test_truncated_patch_never_completes),
    TEST(test_trailing_bytes_are_corrupt),
    TEST(test_corrupted_patch),
    TEST(test_header_fields),
    TEST(test_resume_from_every_block),
    TEST(test_encoder_refuses_bad_ops),
    TEST(test_state_fits_its_storage),
};

int main(void)
{
    return test_main("delta", tests, TEST_COUNT(tests));
}
