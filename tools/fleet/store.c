/* Which backend a store location names (store.h). */
#include <stdio.h>
#include <string.h>

#include "store.h"

int fleet_store_is_pg(const char *where)
{
    return strncmp(where, "postgresql://", 13) == 0 || strncmp(where, "postgres://", 11) == 0;
}

struct fleet_store *fleet_store_open(const char *where, char *err, size_t err_size)
{
    if (fleet_store_is_pg(where))
        return fleet_store_pg_open(where, err, err_size);
    return fleet_store_sqlite_open(where, err, err_size);
}
