#include "test_image.h"

#include <string.h>

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

size_t test_image_build(uint8_t *buf, size_t cap, uint16_t chip_id, const char *version,
                        const char *project, uint32_t secure_version, size_t extra, uint32_t seed,
                        const struct fota_crypto *crypto)
{
    size_t extra_len = (extra + 3) & ~(size_t)3;
    size_t need = 24 + 8 + 256 + 8 + extra_len + 16 + 32;
    if (cap < need)
        return 0;
    memset(buf, 0, need);
    buf[0] = 0xE9;
    buf[1] = extra_len ? 2 : 1;
    buf[2] = 2;    /* DIO */
    buf[3] = 0x20; /* 4 MB, 40 MHz */
    put32(buf + 4, 0x40080400u);
    buf[8] = 0xEE;
    buf[12] = (uint8_t)chip_id;
    buf[13] = (uint8_t)(chip_id >> 8);
    buf[17] = 0xFF;
    buf[18] = 0xFF;
    buf[23] = 1; /* SHA-256 appended */
    size_t o = 24;
    put32(buf + o, 0x3F400020u);
    put32(buf + o + 4, 256);
    o += 8;
    uint8_t *desc = buf + o;
    put32(desc, 0xABCD5432u);
    put32(desc + 4, secure_version);
    strncpy((char *)desc + 16, version, 31);
    strncpy((char *)desc + 48, project, 31);
    strncpy((char *)desc + 80, "00:00:00", 15);
    strncpy((char *)desc + 96, "Nov 24 2026", 15);
    strncpy((char *)desc + 112, "fota-test", 31);
    o += 256;
    if (extra_len) {
        put32(buf + o, 0x3FFB0000u);
        put32(buf + o + 4, (uint32_t)extra_len);
        o += 8;
        uint32_t x = seed | 1u;
        for (size_t i = 0; i < extra_len; i++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            buf[o + i] = (uint8_t)x;
        }
        o += extra_len;
    }
    /* XOR checksum over segment data, in the last byte of a 16-byte boundary */
    uint8_t sum = 0xEF;
    size_t p = 24;
    for (unsigned s = 0; s < buf[1]; s++) {
        uint32_t len = (uint32_t)buf[p + 4] | (uint32_t)buf[p + 5] << 8 |
                       (uint32_t)buf[p + 6] << 16 | (uint32_t)buf[p + 7] << 24;
        for (uint32_t i = 0; i < len; i++)
            sum ^= buf[p + 8 + i];
        p += 8 + len;
    }
    while ((o + 1) % 16)
        buf[o++] = 0;
    buf[o++] = sum;
    fota_sha256_digest(crypto, buf, o, buf + o);
    return o + 32;
}
