/*
 * A serial port, as the modem drivers need it. The port implements these
 * three calls over its UART (ESP-IDF uart_read_bytes/uart_write_bytes,
 * Arduino HardwareSerial, a POSIX tty in raw mode, ...).
 */
#ifndef FOTA_UART_H
#define FOTA_UART_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct fota_uart {
    void *ctx;
    /* Read up to len bytes; wait at most timeout_ms for the first one and
     * return as soon as some arrived. Returns the count (> 0), 0 when nothing
     * arrived in time, or a negative FOTA_ERR_* code (port failure). */
    int (*read)(void *ctx, uint8_t *buf, size_t len, uint32_t timeout_ms);
    /* Write all len bytes (blocking until queued). Returns len or a negative
     * FOTA_ERR_* code. */
    int (*write)(void *ctx, const uint8_t *buf, size_t len);
};

#ifdef __cplusplus
}
#endif
#endif
