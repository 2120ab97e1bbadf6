/* Hex text to bytes for test vectors (plain C: also on the emulated targets). */
#ifndef FOTA_TEST_HEX_H
#define FOTA_TEST_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Exactly 2*n hex digits (either case) then the end of the string.
 * Returns 0, or -1 on any other character or length. */
static inline int unhex(const char *s, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        for (int k = 0; k < 2; k++) {
            char c = s[2 * i + k];
            v <<= 4;
            if (c >= '0' && c <= '9')
                v |= (unsigned)(c - '0');
            else if (c >= 'a' && c <= 'f')
                v |= (unsigned)(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                v |= (unsigned)(c - 'A' + 10);
            else
                return -1;
        }
        out[i] = (uint8_t)v;
    }
    return s[2 * n] == 0 ? 0 : -1;
}

#endif
