/* A bounded text writer for the core: appends into a caller's buffer and
 * remembers overflow instead of truncating, so a result is either complete or
 * reported as too large. Shared by the URL resolver, the HTTP request
 * formatter and the check-in fields (src/writer.c: one copy in flash). */
#ifndef FOTA_SRC_WRITER_H
#define FOTA_SRC_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "fota/url.h"

struct fota_writer {
    char *out;
    size_t size;
    size_t len;
    int overflow;
};

void fota_put(struct fota_writer *w, const char *s, size_t n);
void fota_put_str(struct fota_writer *w, const char *s);
/* Decimal, 64 bits wide without 64-bit division (no libgcc __udivdi3). */
void fota_put_uint(struct fota_writer *w, uint64_t v);
/* "host[:port]" as in a URL's authority and an HTTP Host header: IPv6
 * literals in brackets, the port only when it is not the scheme's default. */
void fota_put_authority(struct fota_writer *w, const struct fota_url *u);

#endif
