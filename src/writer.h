/* A bounded text writer for the core: appends into a caller's buffer and
 * remembers overflow instead of truncating, so a result is either complete or
 * reported as too large. Shared by the URL resolver and the HTTP request
 * formatter. */
#ifndef FOTA_SRC_WRITER_H
#define FOTA_SRC_WRITER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fota/url.h"

struct fota_writer {
    char *out;
    size_t size;
    size_t len;
    int overflow;
};

static inline void fota_put(struct fota_writer *w, const char *s, size_t n)
{
    if (w->overflow || n >= w->size - w->len) { /* keep room for the NUL */
        w->overflow = 1;
        return;
    }
    memcpy(w->out + w->len, s, n);
    w->len += n;
}

static inline void fota_put_str(struct fota_writer *w, const char *s)
{
    fota_put(w, s, strlen(s));
}

static inline void fota_put_uint(struct fota_writer *w, uint64_t v)
{
    char digits[20];
    size_t n = 0;
    do {
        digits[sizeof digits - 1 - n] = (char)('0' + (unsigned)(v % 10u));
        v /= 10u;
        n++;
    } while (v != 0 && n < sizeof digits);
    fota_put(w, digits + sizeof digits - n, n);
}

/* "host[:port]" as in a URL's authority and an HTTP Host header: IPv6
 * literals in brackets, the port only when it is not the scheme's default. */
static inline void fota_put_authority(struct fota_writer *w, const struct fota_url *u)
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

#endif
