/* A struct fota_uart on a POSIX serial device or pseudo-terminal (raw mode,
 * 115200 8N1), for driving sim800sim or a real modem on /dev/ttyUSB0. */
#ifndef FOTA_PTY_UART_H
#define FOTA_PTY_UART_H

#include "fota_uart.h"

struct fota_pty_uart {
    struct fota_uart uart; /* give &uart to the driver */
    int fd;
};

/* Open path in raw mode. Returns 0, or -1 with errno set. */
int fota_pty_uart_open(struct fota_pty_uart *u, const char *path);
void fota_pty_uart_close(struct fota_pty_uart *u);

#endif
