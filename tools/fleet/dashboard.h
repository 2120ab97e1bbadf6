/*
 * The fleet dashboard in the browser, served by the admin listener
 * (docs/fleet.md, "The dashboard"): static pages built into the binary, a
 * login that exchanges an admin token for a session cookie (HttpOnly,
 * SameSite=Strict), and the checks that let that cookie authenticate the
 * admin API: on every POST a CSRF token bound to the session and an Origin
 * of the dashboard itself. Sessions live in memory: a restart logs out.
 */
#ifndef FOTA_FLEET_DASHBOARD_H
#define FOTA_FLEET_DASHBOARD_H

#include <stddef.h>

#include <microhttpd.h>

struct fleet;
struct fleet_dashboard;

struct fleet_dashboard *fleet_dashboard_new(struct fleet *f);
void fleet_dashboard_free(struct fleet_dashboard *d);

/* The dashboard's own paths (/, /dashboard, /dashboard/...): answers the
 * request into *ret and returns 1; 0 for any other path. `body` is the
 * request body (NULL when it was too large). */
int fleet_dashboard_request(struct fleet_dashboard *d, struct MHD_Connection *conn,
                            const char *url, const char *method, const char *body, size_t len,
                            enum MHD_Result *ret);

/* An API request that carries no Authorization header: 0 when its session
 * cookie is valid (and, for anything but GET, its X-CSRF-Token and Origin
 * match), else the status to answer (401, 403) with the reason in *why. */
unsigned fleet_dashboard_authenticate(struct fleet_dashboard *d, struct MHD_Connection *conn,
                                      const char *method, const char **why);

/* The headers every admin response carries (content type sniffing, framing,
 * referrer, and the dashboard's Content-Security-Policy). */
void fleet_dashboard_secure_headers(struct MHD_Response *resp);

#endif
