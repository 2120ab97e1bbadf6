/*
 * Fleet mode of `fota serve` (docs/fleet.md): the hooks serve.c calls.
 *
 *   fota serve --fleet DB [--admin-port N] [--admin-bind ADDR] [--fleet-key K.pub]
 *              [--artifacts URL] DIR
 *
 * DB is a SQLite file or a postgresql:// URL (then several instances share
 * it, each with FLEET_PG_CONNECTIONS connections).
 *
 * Manifest requests (a path ending in /manifest.txt or /manifest) are
 * check-ins: answered from the fleet database with the signed manifest meant
 * for the device, or 304. Everything else (the images) is served from DIR as
 * always, or with --artifacts redirected to the same path below URL. The admin API listens separately (loopback by default).
 */
#ifndef FOTA_FLEET_SERVE_H
#define FOTA_FLEET_SERVE_H

#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

struct fleet;
struct fleet_server;

/* Worker threads of fota serve in fleet mode: on PostgreSQL a check-in
 * waits for the database, so more are in flight than files served from
 * disk would need. (On SQLite a check-in waiting for its group's commit
 * is suspended and its thread serves others.) */
#define FLEET_SERVE_THREADS 32
/* Connections to a PostgreSQL fleet database per server instance. */
#define FLEET_PG_CONNECTIONS 16

struct fleet_serve_options {
    const char *db;          /* NULL: not in fleet mode */
    const char *admin_bind;  /* default 127.0.0.1 */
    unsigned admin_port;     /* default 8081; 0 any free port */
    const char *keys[4];     /* trusted release keys for uploaded manifests */
    size_t n_keys;
    const char *artifacts;   /* images redirected to this base URL; NULL: served from DIR */
};

/* Option parsing: 1 when argv[*i] was a fleet option (consumed; *i advanced
 * past its value), 0 when it is not one, -1 for a bad value (printed). */
int fleet_serve_option(int argc, char **argv, int *i, struct fleet_serve_options *o);

/* Open the database and start the admin listener; prints
 * "fota fleet: admin API on http://ADDR:PORT/ database DB". NULL with the
 * cause printed on failure. */
struct fleet_server *fleet_serve_start(const struct fleet_serve_options *o);
void fleet_serve_stop(struct fleet_server *s);

/* A device request: 1 when it was a check-in and has been answered (*ret is
 * what the MHD handler returns; status, body bytes and a note for the
 * access log are set), 0 when serve.c should serve it as a file. */
int fleet_serve_request(struct fleet_server *s, struct MHD_Connection *conn, const char *method,
                        const char *target, const char *peer, unsigned *status,
                        uint64_t *body_bytes, char *note, size_t note_size,
                        enum MHD_Result *ret, void **pending);

/* Group commit (SQLite): fleet_serve_request may suspend the connection
 * and set *pending; once libmicrohttpd calls the handler again (resumed,
 * the check-in durable) fleet_serve_finish queues the answer. A request
 * that ends otherwise is released with fleet_serve_forget. The daemon
 * needs MHD_ALLOW_SUSPEND_RESUME; fleet_serve_quiesce waits (5 s at most)
 * until no check-in is pending, before MHD_stop_daemon. */
enum MHD_Result fleet_serve_finish(struct fleet_server *s, struct MHD_Connection *conn,
                                   void **pending, unsigned *status, uint64_t *body_bytes,
                                   char *note, size_t note_size);
void fleet_serve_forget(struct fleet_server *s, void *pending);
void fleet_serve_quiesce(struct fleet_server *s);

/* The fleet behind the server, for other protocols' check-ins
 * (fleet_record() in fleet.h). */
struct fleet *fleet_serve_fleet(struct fleet_server *s);

#define FLEET_SERVE_USAGE                                                                    \
    "  --fleet DB         fleet mode: manifests per device from the database DB\n"         \
    "                     (--admin-port N [8081], --admin-bind ADDR [127.0.0.1],\n"        \
    "                     --fleet-key K.pub; see docs/fleet.md); DB is a SQLite file\n"      \
    "                     or a postgresql:// URL (several instances may share it)\n"       \
    "  --artifacts URL    fleet mode: answer image requests with a redirect to URL\n"       \
    "                     (another host, a CDN); this server answers check-ins only\n"

#endif
