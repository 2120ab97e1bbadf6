#define _POSIX_C_SOURCE 200809L
#include "http_get.h"

#include <stdlib.h>
#include <string.h>

#ifdef FOTA_COUNT_HEAP
/* tls_get_counted wraps free() for mbedTLS's sake; our own blocks come from
 * the real malloc and go back to the real free. */
void __real_free(void *p);
#define free __real_free
#endif

void test_report(int r, const struct fota_transport *t)
{
    const char *d = t->detail ? t->detail(t->ctx) : NULL;
    printf("result=%d %s\n", r, fota_strerror(r));
    printf("detail=%s\n", d ? d : "");
    fflush(stdout);
}

int test_http_get(const struct fota_transport *t, const char *host, uint16_t port, int tls,
                  const char *path, const char *out, uint32_t timeout_ms, int *status)
{
    *status = 0;
    int r = t->connect(t->ctx, host, port, tls, timeout_ms);
    if (r != 0) {
        test_report(r, t);
        return r;
    }
    char req[512];
    int n = snprintf(req, sizeof(req),
                     "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: fota-test\r\n"
                     "Connection: close\r\n\r\n", path, host);
    r = t->send(t->ctx, (const uint8_t *)req, (size_t)n, timeout_ms);
    if (r != n) {
        r = r < 0 ? r : FOTA_ERR_SEND;
        test_report(r, t);
        t->close(t->ctx);
        return r;
    }
    size_t cap = 1 << 16, len = 0;
    uint8_t *resp = malloc(cap);
    uint8_t chunk[1024];
    for (;;) {
        r = t->recv(t->ctx, chunk, sizeof(chunk), timeout_ms);
        if (r <= 0)
            break;
        if (len + (size_t)r > cap) {
            cap *= 2;
            uint8_t *bigger = realloc(resp, cap);
            if (bigger == NULL) {
                free(resp);
                return FOTA_ERR_BUFFER_TOO_SMALL;
            }
            resp = bigger;
        }
        memcpy(resp + len, chunk, (size_t)r);
        len += (size_t)r;
    }
    test_report(r, t);
    t->close(t->ctx);
    if (r < 0) {
        free(resp);
        return r;
    }
    size_t body = 0;
    for (size_t k = 0; k + 3 < len; k++)
        if (!memcmp(resp + k, "\r\n\r\n", 4)) {
            body = k + 4;
            break;
        }
    if (len > 12 && !memcmp(resp, "HTTP/1.", 7))
        *status = atoi((const char *)resp + 9);
    FILE *f = fopen(out, "wb");
    if (f == NULL || body == 0 || fwrite(resp + body, 1, len - body, f) != len - body) {
        fprintf(stderr, "http_get: no body or cannot write %s\n", out);
        if (f)
            fclose(f);
        free(resp);
        return FOTA_ERR_HTTP_PARSE;
    }
    fclose(f);
    printf("status=%d body=%zu\n", *status, len - body);
    free(resp);
    return 0;
}
