/*
 * SIM800 GSM/GPRS modem as a fota transport (name "gsm"), over a UART.
 *
 * Portable C like the core (ports/modem: only devices with a modem link it):
 * fixed buffers (the caller's), bounded loops, a timeout on every command, no
 * heap, no OS calls. The transport carries plain TCP
 * through the modem's own IP stack (AT+CIPSTART, AT+CIPSEND, manual receive
 * with AT+CIPRXGET); for https:// layer fota_tls over it:
 *
 *   static struct fota_sim800 modem;  static char line[128];  static uint8_t rx[1460];
 *   fota_sim800_init(&modem, &modem_cfg, &uart, line, sizeof line, rx, sizeof rx);
 *   fota_tls_init(&tls, &tls_cfg, &modem.transport);   // "gsm" with TLS
 *
 * connect() brings the link up the first time (and after the PDP context
 * dropped): AT, ATE0, AT+CPIN?, AT+CSQ, AT+CREG? (until 1 or 5), AT+CGATT,
 * AT+CIPSHUT, AT+CIPMUX=0, AT+CIPRXGET=1, AT+CSTT, AT+CIICR, AT+CIFSR; then
 * AT+CDNSGIP for a host name and AT+CIPSTART="TCP". close() sends
 * AT+CIPCLOSE and keeps the GPRS context for the next connection.
 *
 * Errors: FOTA_ERR_LINK for bring-up failures and a dropped context (the
 * detail names the step and quotes the modem: "SIM not ready: +CME ERROR:
 * 10", "no network registration: +CREG: 0,3 (denied)", "GPRS attach failed",
 * "APN rejected: AT+CIICR answered ERROR", "GPRS context dropped (+PDP:
 * DEACT)", "modem restarted (RDY)"); FOTA_ERR_DNS when AT+CDNSGIP fails;
 * FOTA_ERR_CONNECT when AT+CIPSTART answers CONNECT FAIL; FOTA_ERR_TIMEOUT
 * when the modem does not answer a command in time (detail names it).
 *
 * RAM: sizeof(struct fota_sim800) (about 400 bytes on a 32-bit target) plus
 * the caller's line buffer (>= 64; it must hold the longest command, e.g.
 * AT+CSTT="apn","user","pass" or AT+CIPSTART="TCP","host",port) and RX buffer
 * (>= 16; up to 1460 = one AT+CIPRXGET=2 read; larger is not used).
 */
#ifndef FOTA_SIM800_H
#define FOTA_SIM800_H

#include <stddef.h>
#include <stdint.h>

#include "fota/port.h"
#include "fota_uart.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FOTA_SIM800_LINE_MIN 64
#define FOTA_SIM800_RX_MIN 16
#define FOTA_SIM800_RX_MAX 1460    /* largest AT+CIPRXGET=2 / AT+CIPSEND */
#define FOTA_SIM800_DETAIL_MAX 128
#define FOTA_SIM800_REPLY_MAX 48

struct fota_sim800_config {
    const char *apn;  /* required, e.g. "internet" */
    const char *user; /* NULL: "" */
    const char *pass; /* NULL: "" */
    const char *name; /* transport name; NULL: "gsm" */
    /* The platform clock for the command deadlines: the same now_ms and ctx
     * as in struct fota_config (monotonic milliseconds, wrapping at 2^32). */
    void *ctx;
    uint32_t (*now_ms)(void *ctx);
    /* Timeouts; 0 selects the default in brackets (the SIM800 manual's
     * maximum response times where it gives one). */
    uint32_t cmd_timeout_ms;    /* [2000]  ordinary commands */
    uint32_t reg_timeout_ms;    /* [60000] waiting for network registration */
    uint32_t reg_poll_ms;       /* [1000]  between AT+CREG? polls */
    uint32_t attach_timeout_ms; /* [10000] AT+CGATT=1 */
    uint32_t pdp_timeout_ms;    /* [85000] AT+CIICR */
    uint32_t shut_timeout_ms;   /* [65000] AT+CIPSHUT */
    uint32_t dns_timeout_ms;    /* [20000] AT+CDNSGIP */
    uint32_t send_timeout_ms;   /* [10000] floor for SEND OK after the data */
    uint8_t at_tries;           /* [10] "AT" probes while the modem boots */
};

/* Private; here so the caller owns the memory. */
struct fota_sim800 {
    struct fota_transport transport; /* what the agent uses */
    const struct fota_uart *uart;
    struct fota_sim800_config cfg;
    char *line;
    size_t line_size;
    size_t line_len;
    uint8_t *rx;
    size_t rx_size;
    size_t rx_len, rx_pos;
    uint8_t in[64];          /* UART read-ahead */
    size_t in_len, in_pos;
    uint8_t bearer_up;       /* GPRS context active (AT+CIICR done) */
    uint8_t connected;       /* TCP connection open */
    uint8_t data_pending;    /* modem holds unread data (+CIPRXGET: 1 / remainder) */
    uint8_t peer_closed;     /* CLOSED seen */
    const char *link_lost;   /* why the bearer went away (URC text), or NULL */
    int rssi;                /* last AT+CSQ value (0..31, 99 unknown), -1 none */
    char reply[FOTA_SIM800_REPLY_MAX]; /* last final or information line */
    char detail[FOTA_SIM800_DETAIL_MAX];
};

/* Fill m->transport. line/rx are the caller's buffers (see above); cfg is
 * copied, its strings are not (they must outlive m); cfg->now_ms is
 * required. Does not touch the UART. Returns 0 or FOTA_ERR_INVALID_ARG /
 * FOTA_ERR_BUFFER_TOO_SMALL. */
int fota_sim800_init(struct fota_sim800 *m, const struct fota_sim800_config *cfg,
                     const struct fota_uart *uart, char *line, size_t line_size, uint8_t *rx,
                     size_t rx_size);

/* Bring the GPRS link up now (connect() does it when needed). 0 or an error
 * as for connect(); the detail names the step. */
int fota_sim800_bring_up(struct fota_sim800 *m);

/* Close any connection and deactivate the GPRS context (AT+CIPSHUT). */
void fota_sim800_shutdown(struct fota_sim800 *m);

/* Signal quality of the last bring-up (AT+CSQ: 0..31, 99 unknown), -1 none. */
int fota_sim800_rssi(const struct fota_sim800 *m);

#ifdef __cplusplus
}
#endif
#endif
