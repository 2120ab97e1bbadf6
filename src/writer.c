/* The bounded text writer (writer.h), out of line: its three users (url.c,
 * http.c, checkin.c) share one copy in flash. */
#include "internal/writer.h"

#include <string.h>

void fota_put(struct fota_writer *w, const char *s, size_t n)
{
    if (w->overflow || n >= w->size - w->len) { /* keep room for the NUL */
        w->overflow = 1;
        return;
    }
    memcpy(w->out + w->len, s, n);
    w->len += n;
}

void fota_put_str(struct fota_writer *w, const char *s)
{
    fota_put(w, s, strlen(s));
}

void fota_put_uint(struct fota_writer *w, uint64_t v)
{
    /* Long division by 10 over 16-bit limbs: each partial dividend is below
     * 10 * 2^16, so 32-bit division does it (the targets have no 64-bit
     * divide, and libgcc's costs ~1 KB of flash). */
    uint16_t limb[4] = {(uint16_t)(v >> 48), (uint16_t)(v >> 32), (uint16_t)(v >> 16),
                        (uint16_t)v};
    char digits[20];
    size_t n = 0;
    int nonzero;
    do {
        uint32_t rem = 0;
        nonzero = 0;
        for (int i = 0; i < 4; i++) {
            uint32_t cur = rem << 16 | limb[i];
            limb[i] = (uint16_t)(cur / 10u);
            rem = cur % 10u;
            nonzero |= limb[i];
        }
        digits[sizeof digits - 1 - n] = (char)('0' + rem);
        n++;
    } while (nonzero && n < sizeof digits);
    fota_put(w, digits + sizeof digits - n, n);
}

void fota_put_authority(struct fota_writer *w, const struct fota_url *u)
{
    int ipv6 = memchr(u->host, ':', u->host_len) != NULL;
    if (ipv6)
        fota_put(w, "[", 1);
    fota_put(w, u->host, u->host_len);
    if (ipv6)
        fota_put(w, "]", 1);
    if (u->port != (u->tls ? 443 : 80)) {
        fota_put(w, ":", 1);
        fota_put_uint(w, u->port);
    }
}
