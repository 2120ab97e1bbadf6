#define _GNU_SOURCE
#include "tool.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int listen_loopback(const char *prog, uint64_t port)
{
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    if (ls < 0 || port > 65535 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
        bind(ls, (struct sockaddr *)&sa, sizeof sa) || listen(ls, 64) ||
        getsockname(ls, (struct sockaddr *)&sa, &sl)) {
        fprintf(stderr, "%s: cannot listen on 127.0.0.1:%" PRIu64 ": %s\n", prog, port,
                strerror(errno));
        if (ls >= 0)
            close(ls);
        return -1;
    }
    printf("%s: listening on 127.0.0.1:%u\n", prog, ntohs(sa.sin_port));
    fflush(stdout);
    return ls;
}

int accept_client(int ls, const char *prog, struct sockaddr_storage *peer, unsigned *peer_len)
{
    for (;;) {
        socklen_t pl = sizeof(struct sockaddr_storage);
        int fd = accept(ls, (struct sockaddr *)peer, peer ? &pl : NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            fprintf(stderr, "%s: accept: %s\n", prog, strerror(errno));
            return -1;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (peer_len)
            *peer_len = (unsigned)pl;
        return fd;
    }
}

int spawn_detached(void *(*fn)(void *), void *arg)
{
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int r = pthread_create(&t, &attr, fn, arg);
    pthread_attr_destroy(&attr);
    return r == 0 ? 0 : -1;
}

int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

void tool_log(const char *prog, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s: %s\n", prog, line);
}
