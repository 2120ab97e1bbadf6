/* Transports of the simulated device (see sim_transports.h). */
#define _POSIX_C_SOURCE 200809L
#include "sim_transports.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int down_connect(void *ctx, const char *host, uint16_t port, int tls, uint32_t timeout_ms)
{
    (void)ctx; (void)host; (void)port; (void)tls; (void)timeout_ms;
    return FOTA_ERR_LINK;
}
static int down_send(void *ctx, const uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    (void)ctx; (void)buf; (void)len; (void)timeout_ms;
    return FOTA_ERR_LINK;
}
static int down_recv(void *ctx, uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    (void)ctx; (void)buf; (void)len; (void)timeout_ms;
    return FOTA_ERR_LINK;
}
static void down_close(void *ctx) { (void)ctx; }
static const char *down_detail(void *ctx)
{
    (void)ctx;
    return "WiFi not connected (simulated: --wifi-down)";
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *b = realloc(buf, cap);
            if (!b) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = b;
        }
        size_t r = fread(buf + n, 1, 4096, f);
        n += r;
        if (r < 4096)
            break;
    }
    fclose(f);
    buf[n] = '\0';
    /* PEM: the NUL is part of the buffer mbedTLS parses; DER: it is not. */
    *len = n > 0 && (unsigned char)buf[0] == 0x30 ? n : n + 1;
    return buf;
}

static const struct fota_transport *with_tls(struct sim_transports *st,
                                             const struct sim_transport_options *o,
                                             const struct fota_transport *lower, char *err,
                                             size_t err_size)
{
    if (!st->ca)
        return lower;
    struct fota_tls *t = &st->tls[st->n_tls];
    struct fota_tls_config cfg = {.ca = (const uint8_t *)st->ca, .ca_len = st->ca_len,
                                  .check_time = (uint8_t)(o->tls_check_time != 0)};
    int r = fota_tls_init(t, &cfg, lower);
    if (r != 0) {
        snprintf(err, err_size, "CA file %s: %s", o->ca_file,
                 t->detail[0] ? t->detail : fota_strerror(r));
        return NULL;
    }
    st->n_tls++;
    return &t->transport;
}

int sim_transports_setup(struct sim_transports *st, const struct sim_transport_options *o,
                         char *err, size_t err_size)
{
    memset(st, 0, sizeof(*st));
    st->uart.fd = -1;
    if (!o->ca_file && !o->modem_tty && !o->wifi_down)
        return 0;
    if (o->ca_file) {
        st->ca = read_all(o->ca_file, &st->ca_len);
        if (!st->ca) {
            snprintf(err, err_size, "cannot read CA file %s: %s", o->ca_file, strerror(errno));
            return -1;
        }
    }
    const struct fota_transport *t;
    if (!o->no_wifi) {
        if (o->wifi_down) {
            st->wifi_down = (struct fota_transport){"wifi", st, down_connect, down_send,
                                                    down_recv, down_close, down_detail};
            t = &st->wifi_down;
        } else {
            fota_posix_net_init(&st->wifi, "wifi");
            t = &st->wifi.iface;
        }
        if (!(t = with_tls(st, o, t, err, err_size)))
            return -1;
        st->list[st->n++] = t;
    }
    if (o->modem_tty) {
        if (fota_pty_uart_open(&st->uart, o->modem_tty) != 0) {
            snprintf(err, err_size, "cannot open modem tty %s: %s", o->modem_tty,
                     strerror(errno));
            return -1;
        }
        struct fota_sim800_config mc = {.apn = o->apn ? o->apn : "internet", .name = "gsm",
                                        .now_ms = fota_posix_now_ms};
        int r = fota_sim800_init(&st->modem, &mc, &st->uart.uart, st->modem_line,
                                 sizeof st->modem_line, st->modem_rx, sizeof st->modem_rx);
        if (r != 0) {
            snprintf(err, err_size, "modem setup: %s", fota_strerror(r));
            return -1;
        }
        if (!(t = with_tls(st, o, &st->modem.transport, err, err_size)))
            return -1;
        st->list[st->n++] = t;
    }
    if (st->n == 0) {
        snprintf(err, err_size, "no transport left (--no-wifi needs --modem)");
        return -1;
    }
    return 0;
}

void sim_transports_free(struct sim_transports *st)
{
    for (int i = 0; i < st->n_tls; i++)
        fota_tls_free(&st->tls[i]);
    if (st->uart.fd >= 0) {
        fota_sim800_shutdown(&st->modem);
        fota_pty_uart_close(&st->uart);
    }
    free(st->ca);
    st->ca = NULL;
}
