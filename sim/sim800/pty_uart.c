/* struct fota_uart over a POSIX tty (see pty_uart.h). */
#define _DEFAULT_SOURCE
#include "pty_uart.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "fota/error.h"

static int uart_read(void *ctx, uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    struct fota_pty_uart *u = ctx;
    struct pollfd p = {.fd = u->fd, .events = POLLIN};
    int r;
    do {
        r = poll(&p, 1, timeout_ms > 0x7fffffffu ? 0x7fffffff : (int)timeout_ms);
    } while (r < 0 && errno == EINTR);
    if (r < 0)
        return FOTA_ERR_LINK;
    if (r == 0)
        return 0;
    ssize_t n = read(u->fd, buf, len);
    if (n < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : FOTA_ERR_LINK;
    if (n == 0)
        return FOTA_ERR_LINK; /* the other end went away */
    return (int)n;
}

static int uart_write(void *ctx, const uint8_t *buf, size_t len)
{
    struct fota_pty_uart *u = ctx;
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(u->fd, buf + done, len - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                struct pollfd p = {.fd = u->fd, .events = POLLOUT};
                if (poll(&p, 1, 1000) <= 0)
                    return FOTA_ERR_LINK;
                continue;
            }
            return FOTA_ERR_LINK;
        }
        done += (size_t)n;
    }
    return (int)len;
}

int fota_pty_uart_open(struct fota_pty_uart *u, const char *path)
{
    memset(u, 0, sizeof(*u));
    u->fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK);
    if (u->fd < 0)
        return -1;
    struct termios tio;
    if (tcgetattr(u->fd, &tio) != 0) {
        int e = errno;
        close(u->fd);
        errno = e;
        return -1;
    }
    cfmakeraw(&tio);
    cfsetispeed(&tio, B115200);
    cfsetospeed(&tio, B115200);
    tio.c_cc[VMIN] = 0;
    tio.c_cc[VTIME] = 0;
    tcsetattr(u->fd, TCSANOW, &tio);
    u->uart.ctx = u;
    u->uart.read = uart_read;
    u->uart.write = uart_write;
    return 0;
}

void fota_pty_uart_close(struct fota_pty_uart *u)
{
    if (u->fd >= 0)
        close(u->fd);
    u->fd = -1;
}
