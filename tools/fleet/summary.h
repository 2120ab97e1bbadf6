/*
 * The fleet at a glance, for the dashboard (docs/fleet.md, "The dashboard"):
 * JSON views computed from the store, served by the admin API as
 * GET /api/v1/summary and GET /api/v1/history. Called under the fleet lock,
 * inside the admin request's transaction.
 */
#ifndef FOTA_FLEET_SUMMARY_H
#define FOTA_FLEET_SUMMARY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct fleet;

/* Devices per version, per last outcome and by last check-in; the failing
 * devices with their errors; each rollout's progress per wave. `product`
 * "" is every product. NULL with the cause in err. */
json_t *fleet_summary_json(struct fleet *f, const char *product, int64_t now_ms, char *err,
                           size_t err_size);

/* Devices per version over time, sampled at `points` instants from the first
 * recorded check-in to now. NULL with the cause in err. */
json_t *fleet_history_json(struct fleet *f, const char *product, unsigned points,
                           int64_t now_ms, char *err, size_t err_size);

/* An ISO 8601 UTC time, or null for 0 (admin.c). */
json_t *fleet_time_json(int64_t ms);

#endif
