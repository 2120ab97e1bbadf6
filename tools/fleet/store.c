/* Which backend a store location names (store.h). */
#include <stdio.h>
#include <string.h>

#include "store.h"

struct fleet_store *fleet_store_open(const char *where, char *err, size_t err_size)
{
    if (strncmp(where, "postgresql://", 13) == 0 || strncmp(where, "postgres://", 11) == 0) {
        snprintf(err, err_size, "%s: the PostgreSQL backend is not built into this fota", where);
        return NULL;
    }
    return fleet_store_sqlite_open(where, err, err_size);
}
