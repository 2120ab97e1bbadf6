/*
 * tls_get: fetch one URL path over the fota TLS transport layered on a plain
 * TCP transport, as a device would, and report what happened.
 *
 *   tls_get [--ca FILE] [--mfl 0..4] [--check-time] [--plain] [--timeout-ms N]
 *           HOST PORT PATH OUT
 *
 * Prints "result=<code> <name>" (the fota error code of connect/send/recv),
 * "detail=<text>", and after a successful GET "status=<n> body=<bytes>" plus
 * "max_record=<n>", the largest TLS record payload the server sent (read off
 * the wire below the TLS layer). Built with -DFOTA_COUNT_HEAP and linked
 * statically with -Wl,--wrap=calloc,--wrap=free it also prints the heap that
 * mbedTLS took: "heap_peak=<bytes> heap_end=<bytes> allocs=<n> largest=<bytes>".
 * Exit status 0 only when the GET returned 200 and the body was written.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fota/error.h"
#include "fota_tls.h"
#include "fota_posix.h"
#include "http_get.h"

#ifdef FOTA_COUNT_HEAP
/* Every calloc/free of the statically linked mbedTLS goes through these. */
void *__real_calloc(size_t n, size_t size);
void __real_free(void *p);
void *__wrap_calloc(size_t n, size_t size);
void __wrap_free(void *p);
static size_t heap_now, heap_peak, heap_allocs, heap_largest;
#define HEAP_HDR 16
void *__wrap_calloc(size_t n, size_t size)
{
    if (size != 0 && n > ((size_t)-1 - HEAP_HDR) / size)
        return NULL;
    size_t bytes = n * size;
    unsigned char *p = __real_calloc(1, bytes + HEAP_HDR);
    if (p == NULL)
        return NULL;
    memcpy(p, &bytes, sizeof(bytes));
    heap_now += bytes;
    heap_allocs++;
    if (heap_now > heap_peak)
        heap_peak = heap_now;
    if (bytes > heap_largest)
        heap_largest = bytes;
    return p + HEAP_HDR;
}
void __wrap_free(void *q)
{
    if (q == NULL)
        return;
    unsigned char *p = (unsigned char *)q - HEAP_HDR;
    size_t bytes;
    memcpy(&bytes, p, sizeof(bytes));
    heap_now -= bytes;
    __real_free(p);
}
/* This file's own malloc'ed memory must bypass the wrapped free. */
#define free_own __real_free
#else
#define free_own free
#endif

/* A tap between TLS and TCP that follows the TLS record headers the server
 * sends and keeps the largest record length. */
struct record_tap {
    struct fota_transport transport;
    const struct fota_transport *lower;
    uint8_t hdr[5];
    size_t hdr_len;
    size_t body_left;
    size_t max_record;
};

static int tap_connect(void *ctx, const char *host, uint16_t port, int tls, uint32_t t)
{
    struct record_tap *tap = ctx;
    tap->hdr_len = 0;
    tap->body_left = 0;
    return tap->lower->connect(tap->lower->ctx, host, port, tls, t);
}
static int tap_send(void *ctx, const uint8_t *buf, size_t len, uint32_t t)
{
    struct record_tap *tap = ctx;
    return tap->lower->send(tap->lower->ctx, buf, len, t);
}
static int tap_recv(void *ctx, uint8_t *buf, size_t len, uint32_t t)
{
    struct record_tap *tap = ctx;
    int r = tap->lower->recv(tap->lower->ctx, buf, len, t);
    for (int i = 0; i < r; i++) {
        if (tap->body_left > 0) {
            tap->body_left--;
            continue;
        }
        tap->hdr[tap->hdr_len++] = buf[i];
        if (tap->hdr_len == 5) {
            tap->body_left = ((size_t)tap->hdr[3] << 8) | tap->hdr[4];
            if (tap->body_left > tap->max_record)
                tap->max_record = tap->body_left;
            tap->hdr_len = 0;
        }
    }
    return r;
}
static void tap_close(void *ctx)
{
    struct record_tap *tap = ctx;
    tap->lower->close(tap->lower->ctx);
}
static const char *tap_detail(void *ctx)
{
    struct record_tap *tap = ctx;
    return tap->lower->detail ? tap->lower->detail(tap->lower->ctx) : NULL;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free_own(buf);
        return NULL;
    }
    fclose(f);
    buf[n] = '\0';
    *len = (size_t)n + 1; /* PEM: the NUL counts; DER: harmless trailing byte is not passed */
    if (n > 0 && buf[0] == 0x30)
        *len = (size_t)n;
    return buf;
}

int main(int argc, char **argv)
{
    const char *ca_path = NULL;
    int mfl = 0, check_time = 0, plain = 0, i = 1;
    uint32_t timeout_ms = 10000;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (!strcmp(argv[i], "--ca") && i + 1 < argc)
            ca_path = argv[++i];
        else if (!strcmp(argv[i], "--mfl") && i + 1 < argc)
            mfl = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--timeout-ms") && i + 1 < argc)
            timeout_ms = (uint32_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--check-time"))
            check_time = 1;
        else if (!strcmp(argv[i], "--plain"))
            plain = 1;
        else {
            fprintf(stderr, "tls_get: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (argc - i != 4 || (ca_path == NULL && !plain)) {
        fprintf(stderr, "usage: tls_get [--ca FILE] [--mfl 0..4] [--check-time] [--plain] "
                        "HOST PORT PATH OUT\n");
        return 2;
    }
    const char *host = argv[i], *path = argv[i + 2], *out = argv[i + 3];
    uint16_t port = (uint16_t)atoi(argv[i + 1]);

    static struct fota_posix_net tcp;
    static struct record_tap tap;
    static struct fota_tls tls;
    fota_posix_net_init(&tcp, "wifi");
    tap.lower = &tcp.iface;
    tap.transport = (struct fota_transport){"wifi", &tap, tap_connect, tap_send, tap_recv,
                                            tap_close, tap_detail};

    static const uint8_t no_ca[] = "";
    size_t ca_len = 1;
    char *ca = ca_path ? read_file(ca_path, &ca_len) : NULL;
    if (ca_path && ca == NULL) {
        fprintf(stderr, "tls_get: cannot read CA file %s\n", ca_path);
        return 2;
    }
    struct fota_tls_config cfg = {
        .ca = ca ? (const uint8_t *)ca : no_ca,
        .ca_len = ca_len,
        .check_time = (uint8_t)check_time,
        .max_frag_len = (uint8_t)mfl,
    };
    int r = ca ? fota_tls_init(&tls, &cfg, &tap.transport) : 0;
    if (r != 0) {
        test_report(r, &tls.transport);
        free_own(ca);
        return 1;
    }
    const struct fota_transport *t = ca ? &tls.transport : &tap.transport;

    int status = 0;
    r = test_http_get(t, host, port, !plain, path, out, timeout_ms, &status);
    if (r != 0) {
        fota_tls_free(&tls);
        free_own(ca);
        return 1;
    }
    printf("max_record=%zu\n", tap.max_record);
#ifdef FOTA_COUNT_HEAP
    fota_tls_free(&tls);
    printf("heap_peak=%zu heap_end=%zu allocs=%zu largest=%zu\n", heap_peak, heap_now,
           heap_allocs, heap_largest);
#else
    fota_tls_free(&tls);
#endif
    free_own(ca);
    return status == 200 ? 0 : 1;
}
