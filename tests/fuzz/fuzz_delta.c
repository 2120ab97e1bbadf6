/*
 * libFuzzer target: the delta decoder (src/delta.c).
 *
 * Input: byte 0 = mode (bit 0: raw, the input is the whole patch including
 * its header; bits 1-3: block shift - 12; bits 4-7: input chunk seed),
 * byte 1 = output chunk seed, bytes 2-3 = target size in 16-byte units
 * (up to 1 MiB), bytes 4-5 = base size (0: a compressed image), then the
 * rest. Unless raw, the target builds a valid header for those values and the
 * rest is the block stream, so the fuzzer spends its time in the blocks and
 * the coder rather than on the header's check value. The base is a fixed
 * pseudo-random pattern.
 *
 * Checks: the callbacks are only asked for bytes inside the base and inside
 * the output the contract allows (all but the last FOTA_DELTA_OUT_HISTORY
 * bytes of earlier calls); a call never consumes or produces more than it
 * was given room for; the decoder finishes (1) only with exactly the target
 * size, and bytes fed after that are corrupt; errors are the decoder's own codes and stick; every call makes
 * progress or stops.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fota/delta.h"
#include "fota/delta_encode.h"
#include "fota/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c)                                                                         \
    do {                                                                                   \
        if (!(c))                                                                          \
            abort();                                                                       \
    } while (0)

#define MAX_TARGET (1u << 20)
#define MAX_BASE 65535u

static uint8_t base[MAX_BASE];
static uint8_t output[MAX_TARGET];
static uint8_t patch[1u << 17];
static size_t base_len, readable_end;
static const uint8_t base_sha[32] = {1, 2, 3};

static int read_base(void *ctx, uint32_t off, uint8_t *buf, size_t len)
{
    (void)ctx;
    REQUIRE(len > 0 && off <= base_len && len <= base_len - off);
    memcpy(buf, base + off, len);
    return 0;
}

static int read_output(void *ctx, uint32_t off, uint8_t *buf, size_t len)
{
    (void)ctx;
    REQUIRE(len > 0 && off <= readable_end && len <= readable_end - off);
    memcpy(buf, output + off, len);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fota_delta d;
    struct fota_delta_io io = {read_base, read_output, NULL};
    struct fota_delta_header h = {0};
    const uint8_t *p;
    size_t n, pos = 0, out_pos = 0, in_chunk, out_chunk;
    uint32_t target;
    int r = 0, raw;

    if (size < 6)
        return 0;
    if (base[1] == 0)
        for (size_t i = 0; i < MAX_BASE; i++)
            base[i] = (uint8_t)((i * 2654435761u) >> 13);
    raw = data[0] & 1;
    in_chunk = 1 + ((size_t)(data[0] >> 4) * 97) % 1500;
    out_chunk = 1 + ((size_t)data[1] * 131) % 5000;
    target = ((uint32_t)data[2] | (uint32_t)data[3] << 8) * 16u;
    base_len = (size_t)data[4] | (size_t)data[5] << 8;
    if (raw) {
        p = data + 6;
        n = size - 6;
    } else {
        h.format = FOTA_DELTA_FORMAT;
        h.kind = base_len ? FOTA_DELTA_PATCH : FOTA_DELTA_COMPRESSED;
        h.block_shift = (uint8_t)(12 + ((data[0] >> 1) & 7));
        h.base_size = (uint32_t)base_len;
        h.target_size = target;
        if (base_len)
            memcpy(h.base_sha256, base_sha, 32);
        REQUIRE(fota_delta_write_header(&h, patch) == 0);
        n = size - 6;
        if (n > sizeof patch - FOTA_DELTA_HEADER_SIZE)
            n = sizeof patch - FOTA_DELTA_HEADER_SIZE;
        memcpy(patch + FOTA_DELTA_HEADER_SIZE, data + 6, n);
        p = patch;
        n += FOTA_DELTA_HEADER_SIZE;
    }

    readable_end = 0;
    REQUIRE(fota_delta_init(&d, &io, base_len ? base_sha : NULL, (uint32_t)base_len) == 0);
    for (;;) {
        size_t chunk = n - pos < in_chunk ? n - pos : in_chunk, used = 99, made = 99;
        size_t room = MAX_TARGET - out_pos < out_chunk ? MAX_TARGET - out_pos : out_chunk;
        r = fota_delta_run(&d, p + pos, chunk, &used, output + out_pos, room, &made);
        REQUIRE(used <= chunk && made <= room);
        pos += used;
        out_pos += made;
        if (out_pos > FOTA_DELTA_OUT_HISTORY)
            readable_end = out_pos - FOTA_DELTA_OUT_HISTORY;
        if (r != 0 || (used == 0 && made == 0))
            break;
    }
    if (r == 1) {
        const struct fota_delta_header *got = fota_delta_header(&d);
        REQUIRE(got && out_pos == got->target_size);
        if (pos < n) { /* the end came with the last chunk; anything more is corrupt */
            size_t used, made;
            REQUIRE(fota_delta_run(&d, p + pos, n - pos, &used, output, 1, &made) ==
                    FOTA_ERR_DELTA_CORRUPT);
        }
    } else if (r < 0) {
        size_t used, made;
        REQUIRE(r == FOTA_ERR_DELTA_CORRUPT || r == FOTA_ERR_DELTA_BASE ||
                r == FOTA_ERR_DELTA_UNSUPPORTED);
        REQUIRE(fota_delta_run(&d, p, n, &used, output, 1, &made) == r && used == 0 && made == 0);
    } else {
        REQUIRE(pos == n || out_pos == MAX_TARGET); /* stopped for want of input */
    }
    return 0;
}
