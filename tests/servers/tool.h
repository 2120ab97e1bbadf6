/* What the fault tools (faultproxy, badserver) share: the loopback listener,
 * accepting, threads, number parsing and logging. */
#ifndef FOTA_TOOLS_TOOL_H
#define FOTA_TOOLS_TOOL_H

#include <stdint.h>

/* The listening socket: 127.0.0.1 only, port 0 = any free one; prints
 * "<prog>: listening on 127.0.0.1:PORT" (the line lib.sh waits for).
 * Returns the socket, or -1 after printing why to stderr. */
int listen_loopback(const char *prog, uint64_t port);

struct sockaddr_storage;

/* The next connection (TCP_NODELAY set), retrying interrupted accepts; -1
 * after printing why. `peer` may be NULL. */
int accept_client(int ls, const char *prog, struct sockaddr_storage *peer, unsigned *peer_len);

/* Run fn(arg) on a detached thread. Returns 0, or -1 (the caller frees arg). */
int spawn_detached(void *(*fn)(void *), void *arg);

/* Decimal digits only, no sign, no overflow. Returns 0 or -1. */
int parse_u64(const char *s, uint64_t *out);

/* "<prog>: message" to stderr in one write, so threads' lines do not mix. */
void tool_log(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
