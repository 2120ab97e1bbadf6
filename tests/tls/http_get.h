/* Test helper: one HTTP/1.0 GET over a struct fota_transport (the TLS and
 * modem test clients share it; the product's HTTP client is the agent's). */
#ifndef FOTA_TEST_HTTP_GET_H
#define FOTA_TEST_HTTP_GET_H
#include <stdio.h>
#include "fota/fota.h"

/* Connect, send the request, read until the server closes, write the body to
 * `out`. Prints "result=<code> <name>" and "detail=<text>" (and on success
 * "status=<n> body=<bytes>"). Returns the fota code of the first failure, 0
 * otherwise; *status gets the HTTP status (0 when none). */
int test_http_get(const struct fota_transport *t, const char *host, uint16_t port, int tls,
                  const char *path, const char *out, uint32_t timeout_ms, int *status);

/* The "result=" and "detail=" lines for a failure outside test_http_get. */
void test_report(int r, const struct fota_transport *t);
#endif
