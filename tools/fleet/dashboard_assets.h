/* The dashboard's pages (tools/fleet/dashboard/), built into the binary:
 * dashboard_assets.c is generated from them at build time (embed.cmake). */
#ifndef FOTA_FLEET_DASHBOARD_ASSETS_H
#define FOTA_FLEET_DASHBOARD_ASSETS_H

#include <stddef.h>

struct fleet_asset {
    const char *name; /* file name under tools/fleet/dashboard/ */
    const unsigned char *data;
    size_t size;
};

extern const struct fleet_asset fleet_dashboard_assets[];
extern const size_t fleet_dashboard_asset_count;

#endif
