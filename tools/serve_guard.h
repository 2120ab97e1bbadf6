/* fota serve: connection limits against hostile clients (issue 15 finding 2).
 *
 * - A deadline for complete request headers, counted from when the
 *   connection opened (or its previous request ended), however the bytes
 *   trickle in: a connection that misses it is shut down.
 * - At most max_per_address connections from one client address.
 * - At most max_connections in all, below the descriptor limit.
 * Refusals and deadline closes are reported on stderr, at most one line per
 * kind every few seconds, with how many happened since the last line. */
#ifndef FOTA_TOOLS_SERVE_GUARD_H
#define FOTA_TOOLS_SERVE_GUARD_H

#include <stdarg.h>
#include <sys/socket.h>

#include <microhttpd.h>

struct serve_guard_limits {
    unsigned max_connections;  /* all clients */
    unsigned max_per_address;  /* one client address */
    unsigned header_timeout_s; /* complete request headers within this */
};

struct serve_guard;

/* Allocate the guard and start its deadline thread. NULL on failure (with a
 * message on stderr). */
struct serve_guard *guard_start(const struct serve_guard_limits *limits);
/* Stop the thread and free the guard (after MHD_stop_daemon). */
void guard_stop(struct serve_guard *g);

/* MHD_OPTION_EXTERNAL_LOGGER: libmicrohttpd's messages on stderr, each kind
 * at most once every 5 s (with how many were dropped). */
void guard_mhd_log(void *cls, const char *fmt, va_list ap);

/* MHD_OPTION_ACCEPT_POLICY callback (cls: the guard). */
enum MHD_Result guard_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen);
/* MHD_OPTION_NOTIFY_CONNECTION callback (cls: the guard). */
void guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                  enum MHD_ConnectionNotificationCode code);
/* The request's headers are complete: its deadline no longer applies. */
void guard_headers_done(struct MHD_Connection *conn);
/* The request ended; the next one on the connection gets a new deadline.
 * Returns 1 when the deadline had closed the connection. */
int guard_request_end(struct MHD_Connection *conn);

#endif
