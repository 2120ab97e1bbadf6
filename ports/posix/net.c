/* BSD sockets transport: getaddrinfo, non-blocking connect with a timeout,
 * poll-bounded reads and writes. Each failure names its step. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fota_posix.h"

static uint32_t elapsed_ms(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint32_t)((t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000);
}

static int connect_one(struct fota_posix_net *n, const struct addrinfo *ai, uint32_t timeout_ms,
                       const struct timespec *t0)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
        snprintf(n->detail, sizeof n->detail, "socket: %s", strerror(errno));
        return FOTA_ERR_CONNECT;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    int r = connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (r < 0 && errno == EINPROGRESS) {
        uint32_t spent = elapsed_ms(t0);
        struct pollfd p = {fd, POLLOUT, 0};
        r = spent >= timeout_ms ? 0 : poll(&p, 1, (int)(timeout_ms - spent));
        if (r == 0) {
            close(fd);
            snprintf(n->detail, sizeof n->detail, "no answer within %u ms", (unsigned)timeout_ms);
            return FOTA_ERR_CONNECT_TIMEOUT;
        }
        int soerr = 0;
        socklen_t len = sizeof soerr;
        if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
            soerr = errno;
        errno = soerr;
        r = soerr ? -1 : 0;
    }
    if (r < 0) {
        int e = errno;
        close(fd);
        snprintf(n->detail, sizeof n->detail, "%s", strerror(e));
        if (e == ECONNREFUSED)
            return FOTA_ERR_CONNECT_REFUSED;
        if (e == ETIMEDOUT)
            return FOTA_ERR_CONNECT_TIMEOUT;
        return FOTA_ERR_CONNECT;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    n->fd = fd;
    return 0;
}

static int net_connect(void *ctx, const char *host, uint16_t port, int tls, uint32_t timeout_ms)
{
    struct fota_posix_net *n = ctx;
    struct addrinfo hints, *res = NULL;
    char service[8];
    struct timespec t0;

    n->detail[0] = 0;
    if (tls) {
        snprintf(n->detail, sizeof n->detail, "plain socket transport has no TLS");
        return FOTA_ERR_NOT_SUPPORTED;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(service, sizeof service, "%u", (unsigned)port);
    int g = getaddrinfo(host, service, &hints, &res);
    if (g != 0) {
        snprintf(n->detail, sizeof n->detail, "%s", gai_strerror(g));
        return FOTA_ERR_DNS;
    }
    int r = FOTA_ERR_CONNECT;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        r = connect_one(n, ai, timeout_ms, &t0);
        if (r == 0 || r == FOTA_ERR_CONNECT_TIMEOUT)
            break;
    }
    freeaddrinfo(res);
    return r;
}

static int wait_fd(struct fota_posix_net *n, short events, uint32_t timeout_ms)
{
    struct pollfd p = {n->fd, events, 0};
    int r;
    do {
        r = poll(&p, 1, (int)timeout_ms);
    } while (r < 0 && errno == EINTR);
    if (r == 0) {
        snprintf(n->detail, sizeof n->detail, "nothing for %u ms", (unsigned)timeout_ms);
        return FOTA_ERR_TIMEOUT;
    }
    return r < 0 ? -1 : 0;
}

static int net_send(void *ctx, const uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    struct fota_posix_net *n = ctx;
    if (n->fd < 0)
        return FOTA_ERR_SEND;
    int w = wait_fd(n, POLLOUT, timeout_ms);
    if (w == FOTA_ERR_TIMEOUT)
        return w;
    ssize_t r = send(n->fd, buf, len, MSG_NOSIGNAL);
    if (r <= 0) {
        snprintf(n->detail, sizeof n->detail, "%s", r < 0 ? strerror(errno) : "nothing sent");
        return FOTA_ERR_SEND;
    }
    return (int)r;
}

static int net_recv(void *ctx, uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    struct fota_posix_net *n = ctx;
    if (n->fd < 0)
        return FOTA_ERR_RECV;
    int w = wait_fd(n, POLLIN, timeout_ms);
    if (w == FOTA_ERR_TIMEOUT)
        return w;
    ssize_t r;
    do {
        r = recv(n->fd, buf, len > 0x7FFFFFFF ? 0x7FFFFFFF : len, 0);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
        snprintf(n->detail, sizeof n->detail, "%s", strerror(errno));
        return errno == EAGAIN ? FOTA_ERR_TIMEOUT : FOTA_ERR_RECV;
    }
    return (int)r;
}

static void net_close(void *ctx)
{
    struct fota_posix_net *n = ctx;
    if (n->fd >= 0)
        close(n->fd);
    n->fd = -1;
}

static const char *net_detail(void *ctx)
{
    struct fota_posix_net *n = ctx;
    return n->detail[0] ? n->detail : NULL;
}

void fota_posix_net_init(struct fota_posix_net *n, const char *name)
{
    memset(n, 0, sizeof *n);
    n->fd = -1;
    n->iface.name = name ? name : "tcp";
    n->iface.ctx = n;
    n->iface.connect = net_connect;
    n->iface.send = net_send;
    n->iface.recv = net_recv;
    n->iface.close = net_close;
    n->iface.detail = net_detail;
}
