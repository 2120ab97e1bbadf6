/*
 * libFuzzer target: URL parsing and resolution (src/url.c) and the GET
 * request built from a parsed URL (src/http.c).
 *
 * Input: byte 0 = size of the resolve output buffer (1..256, or 4096 when 0),
 * then "base\0ref" (no NUL: the whole rest is tried as both base and ref).
 *
 * Checks: a parsed URL points into its string, has a host and a path that
 * starts with '/', and a port; a resolved URL has the returned length, parses,
 * resolves to itself against "", fits exactly in length+1 bytes and not in
 * length; nothing is written past the given buffer size (ASan).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fota/error.h"
#include "fota/http.h"
#include "fota/url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_TEXT 8192
#define OUT_MAX 4096

#define REQUIRE(c)                                                                         \
    do {                                                                                   \
        if (!(c))                                                                          \
            abort();                                                                       \
    } while (0)

/* Output buffers are used from their end, so a write past the size given
 * lands in ASan's redzone. */
static char out_storage[OUT_MAX], again_storage[OUT_MAX], request[OUT_MAX + 1024];

static char *tail(char *storage, size_t size)
{
    return storage + OUT_MAX - size;
}

static void check_parsed(const char *s, const struct fota_url *u)
{
    size_t n = strlen(s);
    char host[FOTA_URL_HOST_MAX + 1];
    int r;

    REQUIRE(u->host >= s && u->host + u->host_len <= s + n);
    REQUIRE(u->host_len > 0 && u->host_len <= FOTA_URL_HOST_MAX);
    REQUIRE(u->path_len > 0 && u->path[0] == '/');
    REQUIRE(u->port != 0);
    REQUIRE(u->tls <= 1);
    REQUIRE(fota_url_host(u, host, sizeof host) == 0);
    REQUIRE(strlen(host) == u->host_len);
    REQUIRE(fota_url_host(u, host, u->host_len) == FOTA_ERR_BUFFER_TOO_SMALL);

    r = fota_http_format_get(request, sizeof request, u, "fuzz/1", (uint64_t)n, "\"etag\"");
    REQUIRE(r > 0 && (size_t)r == strlen(request));
    /* the request line is the only place the path goes: no CR/LF in it */
    REQUIRE(memcmp(request, "GET /", 5) == 0);
    REQUIRE(memcmp(request + 4 + u->path_len, " HTTP/1.1\r\n", 11) == 0);
    REQUIRE(memchr(request, '\r', 4 + u->path_len) == NULL);
    REQUIRE(memchr(request, '\n', 4 + u->path_len) == NULL);
}

static void check_resolve(const char *b, const char *r, size_t out_size)
{
    char *out = tail(out_storage, out_size), *again;
    struct fota_url u;
    int n, m;

    n = fota_url_resolve(b, r, out, out_size);
    if (n < 0) {
        REQUIRE(n == FOTA_ERR_URL || n == FOTA_ERR_BUFFER_TOO_SMALL);
        return;
    }
    REQUIRE((size_t)n < out_size && strlen(out) == (size_t)n);
    REQUIRE(fota_url_parse(out, &u) == 0);
    check_parsed(out, &u);

    /* resolving "" against the result gives the result */
    again = tail(again_storage, OUT_MAX);
    m = fota_url_resolve(out, "", again, OUT_MAX);
    REQUIRE(m == n && strcmp(again, out) == 0);

    /* exactly n + 1 bytes are needed */
    again = tail(again_storage, (size_t)n + 1);
    REQUIRE(fota_url_resolve(b, r, again, (size_t)n + 1) == n);
    REQUIRE(strcmp(again, out) == 0);
    again = tail(again_storage, (size_t)n);
    REQUIRE(fota_url_resolve(b, r, again, (size_t)n) == FOTA_ERR_BUFFER_TOO_SMALL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fota_url u;
    const uint8_t *nul;
    size_t out_size, base_len, ref_len;
    char *base, *ref;

    if (size < 1 || size - 1 > MAX_TEXT)
        return 0;
    out_size = data[0] ? data[0] : OUT_MAX;
    data++;
    size--;

    /* Exact-size copies: reading past a NUL hits ASan's redzone. */
    nul = memchr(data, 0, size);
    base_len = nul ? (size_t)(nul - data) : size;
    ref_len = nul ? size - base_len - 1 : base_len;
    base = malloc(base_len + 1);
    ref = malloc(ref_len + 1);
    REQUIRE(base != NULL && ref != NULL);
    memcpy(base, data, base_len);
    base[base_len] = '\0';
    memcpy(ref, nul ? nul + 1 : data, ref_len);
    ref[ref_len] = '\0';

    if (fota_url_parse(base, &u) == 0)
        check_parsed(base, &u);
    if (fota_url_parse(ref, &u) == 0)
        check_parsed(ref, &u);
    check_resolve(base, ref, out_size);
    check_resolve(base, ref, OUT_MAX);
    free(base);
    free(ref);
    return 0;
}
