/*
 * The transports of a simulated device, from command-line options: WiFi (the
 * POSIX sockets transport, or a dead link), the SIM800 modem on a tty (e.g.
 * sim800sim's pty), each with TLS layered on top when a CA is given. `fota
 * sim` and the tests fill struct sim_options.transports from it.
 */
#ifndef FOTA_SIM_TRANSPORTS_H
#define FOTA_SIM_TRANSPORTS_H

#include <stddef.h>

#include "fota/fota.h"
#include "fota_sim800.h"
#include "fota_tls.h"
#include "fota_posix.h"
#include "pty_uart.h"

struct sim_transport_options {
    const char *ca_file;   /* PEM bundle or DER CA: enables https:// (TLS over each link) */
    int tls_check_time;    /* check certificate dates (the host clock is trusted) */
    const char *modem_tty; /* SIM800 on this tty: adds "gsm" after "wifi" */
    const char *apn;       /* [internet] */
    int wifi_down;         /* "wifi" fails every connect with FOTA_ERR_LINK */
    int no_wifi;           /* only "gsm" */
};

struct sim_transports {
    struct fota_posix_net wifi;
    struct fota_transport wifi_down;
    struct fota_pty_uart uart;
    struct fota_sim800 modem;
    char modem_line[256];
    uint8_t modem_rx[FOTA_SIM800_RX_MAX];
    struct fota_tls tls[2];
    int n_tls;
    char *ca; /* the CA file's contents (mbedTLS keeps its own parsed copy) */
    size_t ca_len;
    const struct fota_transport *list[FOTA_MAX_TRANSPORTS];
    size_t n;
};

/* Build the list. Returns 0, or -1 with a message in err (naming the file or
 * tty). With no option set, n is 0 (the device's default transport). */
int sim_transports_setup(struct sim_transports *st, const struct sim_transport_options *o,
                         char *err, size_t err_size);
void sim_transports_free(struct sim_transports *st);

#endif
