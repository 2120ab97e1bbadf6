#define _GNU_SOURCE
#include "listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
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
