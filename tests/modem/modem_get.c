/*
 * modem_get: fetch one path through the SIM800 transport (over a tty, e.g.
 * sim800sim's pty), optionally with the TLS transport layered on top.
 *
 *   modem_get --tty PATH --apn APN [--ca FILE] [--cmd-timeout MS]
 *             [--reg-timeout MS] [--timeout MS] [--line N] [--rx N]
 *             [--bring-up-only] HOST PORT URLPATH OUT
 *
 * Prints "result=<code> <name>" and "detail=<text>" (test_http_get) and, on
 * success, "status=<n> body=<bytes>". Exit 0 only for a 200 with its body.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fota_posix.h"
#include "fota_sim800.h"
#include "fota_tls.h"
#include "http_get.h"
#include "pty_uart.h"

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(b);
        return NULL;
    }
    fclose(f);
    b[n] = '\0';
    *len = (size_t)n + 1;
    return b;
}

int main(int argc, char **argv)
{
    const char *tty = NULL, *ca_path = NULL;
    struct fota_sim800_config mc = {.apn = NULL, .now_ms = fota_posix_now_ms};
    uint32_t timeout = 10000;
    size_t line_size = 128, rx_size = 1460;
    int bring_up_only = 0, i = 1;
    for (; i < argc && !strncmp(argv[i], "--", 2); i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "--bring-up-only")) {
            bring_up_only = 1;
            continue;
        }
        if (!v)
            break;
        i++;
        if (!strcmp(o, "--tty")) tty = v;
        else if (!strcmp(o, "--apn")) mc.apn = v;
        else if (!strcmp(o, "--ca")) ca_path = v;
        else if (!strcmp(o, "--cmd-timeout")) mc.cmd_timeout_ms = (uint32_t)atol(v);
        else if (!strcmp(o, "--reg-timeout")) mc.reg_timeout_ms = (uint32_t)atol(v);
        else if (!strcmp(o, "--timeout")) timeout = (uint32_t)atol(v);
        else if (!strcmp(o, "--line")) line_size = (size_t)atol(v);
        else if (!strcmp(o, "--rx")) rx_size = (size_t)atol(v);
        else {
            fprintf(stderr, "modem_get: unknown option %s\n", o);
            return 2;
        }
    }
    if (!tty || !mc.apn || (argc - i != 4 && !(bring_up_only && argc == i))) {
        fprintf(stderr, "usage: modem_get --tty PATH --apn APN [--ca FILE] [--cmd-timeout MS]\n"
                        "  [--reg-timeout MS] [--timeout MS] [--line N] [--rx N]\n"
                        "  [--bring-up-only] HOST PORT PATH OUT\n");
        return 2;
    }
    mc.reg_poll_ms = 200;

    static struct fota_pty_uart port;
    if (fota_pty_uart_open(&port, tty) != 0) {
        perror(tty);
        return 2;
    }
    static struct fota_sim800 modem;
    char *line = malloc(line_size);
    uint8_t *rx = malloc(rx_size);
    int r = fota_sim800_init(&modem, &mc, &port.uart, line, line_size, rx, rx_size);
    if (r != 0) {
        test_report(r, &modem.transport);
        return 1;
    }
    if (bring_up_only) {
        r = fota_sim800_bring_up(&modem);
        test_report(r, &modem.transport);
        if (r == 0)
            printf("rssi=%d\n", fota_sim800_rssi(&modem));
        fota_sim800_shutdown(&modem);
        return r == 0 ? 0 : 1;
    }

    const struct fota_transport *t = &modem.transport;
    static struct fota_tls tls;
    char *ca = NULL;
    if (ca_path) {
        size_t ca_len = 0;
        ca = slurp(ca_path, &ca_len);
        struct fota_tls_config tc = {.ca = (const uint8_t *)ca, .ca_len = ca_len};
        if (!ca || (r = fota_tls_init(&tls, &tc, &modem.transport)) != 0) {
            fprintf(stderr, "modem_get: TLS setup with %s failed\n", ca_path);
            return 2;
        }
        t = &tls.transport;
    }
    int status = 0;
    r = test_http_get(t, argv[i], (uint16_t)atoi(argv[i + 1]), ca != NULL, argv[i + 2],
                      argv[i + 3], timeout, &status);
    printf("transport=%s\n", t->name);
    if (ca)
        fota_tls_free(&tls);
    fota_sim800_shutdown(&modem);
    fota_pty_uart_close(&port);
    free(ca);
    free(line);
    free(rx);
    return r == 0 && status == 200 ? 0 : 1;
}
