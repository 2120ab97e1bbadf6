/*
 * URL parsing and resolution (RFC 3986 subset: http and https only).
 *
 * No allocation: the parsed URL points into the string it was parsed from.
 */
#ifndef FOTA_URL_H
#define FOTA_URL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FOTA_URL_HOST_MAX 253 /* longest DNS name */

struct fota_url {
    uint8_t tls;         /* 1 for https */
    const char *host;    /* not NUL-terminated; IPv6 literals without [] */
    size_t host_len;
    uint16_t port;       /* explicit port or 80 / 443 */
    const char *path;    /* path and query, starts with '/'; "/" when absent */
    size_t path_len;     /* fragment (#...) excluded */
};

/* Parse an absolute http:// or https:// URL. Rejects userinfo, empty host,
 * bad ports, control characters and spaces. Returns 0 or FOTA_ERR_URL. */
int fota_url_parse(const char *s, struct fota_url *out);

/* Resolve `ref` (absolute URL, "//host/..", "/abs/path" or "relative/path")
 * against the absolute URL `base`, writing a NUL-terminated absolute URL to
 * out[0..out_size). Dot segments in relative references are removed.
 * Returns the length written, FOTA_ERR_URL or FOTA_ERR_BUFFER_TOO_SMALL
 * (FOTA_ERR_INVALID_ARG when out overlaps base or ref). */
int fota_url_resolve(const char *base, const char *ref, char *out, size_t out_size);

/* Copy the host as a NUL-terminated string. Returns 0 or FOTA_ERR_BUFFER_TOO_SMALL. */
int fota_url_host(const struct fota_url *u, char *out, size_t out_size);

#ifdef __cplusplus
}
#endif
#endif
