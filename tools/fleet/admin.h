/*
 * The fleet admin API: JSON over HTTP on its own listener (loopback by
 * default), every request authenticated with a bearer token whose SHA-256
 * is stored (docs/fleet.md lists the routes).
 */
#ifndef FOTA_FLEET_ADMIN_H
#define FOTA_FLEET_ADMIN_H

#include <stddef.h>
#include <stdint.h>

struct fleet;
struct fleet_admin;

struct fleet_admin *fleet_admin_start(struct fleet *f, const char *bind, unsigned port, char *err,
                                      size_t err_size);
unsigned fleet_admin_port(const struct fleet_admin *a);
void fleet_admin_stop(struct fleet_admin *a);

/* A new random token: stores its hash under `name` and writes the token
 * ("fota_" + 64 hex) to out (70 bytes). 0 or -1 with err. */
int fleet_token_create(struct fleet *f, const char *name, char out[70], char *err,
                       size_t err_size);

/* 1 when `token` is one of the stored admin tokens (hashed, compared in
 * constant time with every stored hash), 0 when not, -1 on a store error. */
int fleet_admin_token_ok(struct fleet *f, const char *token);

#endif
