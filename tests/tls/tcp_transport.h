/* Plain TCP transport used by the TLS and modem tests. */
#ifndef FOTA_TEST_TCP_TRANSPORT_H
#define FOTA_TEST_TCP_TRANSPORT_H
#include "fota/fota.h"

struct test_tcp {
    struct fota_transport transport;
    int fd;
    char detail[160];
};

void test_tcp_init(struct test_tcp *c, const char *name);

#endif
