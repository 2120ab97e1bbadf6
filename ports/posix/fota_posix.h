/*
 * POSIX port of libfota (Linux and other POSIX systems): a BSD sockets
 * transport and the platform callbacks (clock, log, random). The simulated
 * flash and bootloader of `fota sim` and the tests are in sim/.
 */
#ifndef FOTA_POSIX_H
#define FOTA_POSIX_H

#include <stdint.h>

#include "fota/fota.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Network ------------------------------------------------------------ */

struct fota_posix_net {
    struct fota_transport iface; /* give &iface to the core */
    int fd;
    char detail[128];
};
void fota_posix_net_init(struct fota_posix_net *n, const char *name);

/* ---- Platform callbacks (ctx unused) -------------------------------------- */
uint32_t fota_posix_now_ms(void *ctx);
int fota_posix_utc_now(void *ctx, int64_t *unix_s);
void fota_posix_delay_ms(void *ctx, uint32_t ms);
uint32_t fota_posix_random(void *ctx);

#ifdef __cplusplus
}
#endif
#endif
