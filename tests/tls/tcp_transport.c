/* A plain BSD sockets transport for the TLS tests (IPv4/IPv6, blocking with
 * poll() timeouts). Test scaffolding: the product's one is ports/posix/net.c. */
#define _POSIX_C_SOURCE 200809L
#include "tcp_transport.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int wait_fd(int fd, short events, uint32_t timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = events};
    int r;
    do {
        r = poll(&p, 1, (int)timeout_ms);
    } while (r < 0 && errno == EINTR);
    return r;
}

static int tcp_connect(void *ctx, const char *host, uint16_t port, int tls, uint32_t timeout_ms)
{
    struct test_tcp *c = ctx;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    char portstr[8];
    if (tls)
        return FOTA_ERR_NOT_SUPPORTED;
    snprintf(portstr, sizeof(portstr), "%u", (unsigned)port);
    int r = getaddrinfo(host, portstr, &hints, &res);
    if (r != 0) {
        snprintf(c->detail, sizeof(c->detail), "resolving %s: %s", host, gai_strerror(r));
        return FOTA_ERR_DNS;
    }
    int err = FOTA_ERR_CONNECT;
    for (struct addrinfo *a = res; a != NULL; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd < 0)
            continue;
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        r = connect(fd, a->ai_addr, a->ai_addrlen);
        if (r < 0 && errno == EINPROGRESS) {
            if (wait_fd(fd, POLLOUT, timeout_ms) <= 0) {
                close(fd);
                err = FOTA_ERR_CONNECT_TIMEOUT;
                snprintf(c->detail, sizeof(c->detail), "connecting to %s:%u: timed out", host, port);
                continue;
            }
            int so = 0;
            socklen_t sl = sizeof(so);
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &sl);
            errno = so;
            r = so ? -1 : 0;
        }
        if (r < 0) {
            err = errno == ECONNREFUSED ? FOTA_ERR_CONNECT_REFUSED : FOTA_ERR_CONNECT;
            snprintf(c->detail, sizeof(c->detail), "connecting to %s:%u: %s", host, port,
                     strerror(errno));
            close(fd);
            continue;
        }
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
        c->fd = fd;
        freeaddrinfo(res);
        return 0;
    }
    freeaddrinfo(res);
    return err;
}

static int tcp_send(void *ctx, const uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    struct test_tcp *c = ctx;
    if (wait_fd(c->fd, POLLOUT, timeout_ms) <= 0)
        return FOTA_ERR_TIMEOUT;
    ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
    if (n <= 0) {
        snprintf(c->detail, sizeof(c->detail), "send: %s", strerror(errno));
        return FOTA_ERR_SEND;
    }
    return (int)n;
}

static int tcp_recv(void *ctx, uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    struct test_tcp *c = ctx;
    if (wait_fd(c->fd, POLLIN, timeout_ms) <= 0)
        return FOTA_ERR_TIMEOUT;
    ssize_t n = recv(c->fd, buf, len, 0);
    if (n < 0) {
        snprintf(c->detail, sizeof(c->detail), "recv: %s", strerror(errno));
        return FOTA_ERR_RECV;
    }
    return (int)n;
}

static void tcp_close(void *ctx)
{
    struct test_tcp *c = ctx;
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

static const char *tcp_detail(void *ctx)
{
    struct test_tcp *c = ctx;
    return c->detail[0] ? c->detail : NULL;
}

void test_tcp_init(struct test_tcp *c, const char *name)
{
    memset(c, 0, sizeof(*c));
    c->fd = -1;
    c->transport.name = name;
    c->transport.ctx = c;
    c->transport.connect = tcp_connect;
    c->transport.send = tcp_send;
    c->transport.recv = tcp_recv;
    c->transport.close = tcp_close;
    c->transport.detail = tcp_detail;
}
