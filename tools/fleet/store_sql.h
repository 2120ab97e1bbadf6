/*
 * The fleet store on an SQL database, written once (store_sql.c) above a
 * small driver per database (store_sqlite.c, store_pg.c).
 *
 * store_sql.c fills struct fleet_store_ops: it names every query, binds
 * records to parameters and reads rows into records through one column table
 * per record type, so no backend repeats that code. A driver only prepares
 * and runs one query with its parameters, hands over its rows, and runs
 * transactions and schema migrations. The SQL text is shared: parameters
 * are written $1..$N (PostgreSQL's form; the SQLite driver rewrites them to
 * ?1..?N) and only portable SQL is used (INSERT ... ON CONFLICT, RETURNING,
 * CAST, strpos: the SQLite driver defines strpos; a trailing FOR UPDATE,
 * which SQLite does not need as its transactions take the write lock, is
 * dropped by the SQLite driver).
 */
#ifndef FOTA_FLEET_STORE_SQL_H
#define FOTA_FLEET_STORE_SQL_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

enum sql_query {
    Q_DEVICE_GET, Q_DEVICE_PUT, Q_DEVICE_ADD, Q_DEVICE_LIST, Q_DEVICE_GROUPS,
    Q_GROUP_ADD, Q_GROUP_DEL, Q_GROUP_LIST, Q_IN_GROUPS,
    Q_RELEASE_ADD, Q_RELEASE_GET, Q_RELEASE_BY_CODE, Q_RELEASE_LIST,
    Q_ROLLOUT_INSERT, Q_ROLLOUT_UPDATE, Q_ROLLOUT_GET, Q_ROLLOUT_LIST,
    Q_LOG_ADD, Q_LOG_LIST,
    Q_MEMBER_GET, Q_MEMBER_PUT, Q_DEVICE_MEMBERS, Q_MEMBER_LIST, Q_MEMBER_COUNTS,
    Q_OFFERED_SINCE, Q_TARGETED_COUNT, Q_BUCKET_AT_RANK,
    Q_TOKEN_ADD, Q_TOKEN_LIST,
    Q_VERSION_ADD, Q_VERSION_LIST,
    Q_DEVICE_LOCK, Q_ROLLOUT_LOCK,
    Q_COUNT
};

#define SQL_PARAMS_MAX 20
#define SQL_TEXT_MAX 1024 /* one generated query */

enum sql_param_type { SQLP_TEXT, SQLP_INT, SQLP_BLOB, SQLP_NULL };

struct sql_param {
    int type;           /* enum sql_param_type */
    const char *text;   /* SQLP_TEXT: NUL-terminated */
    int64_t num;        /* SQLP_INT */
    const void *blob;   /* SQLP_BLOB */
    size_t len;
};

struct sql_store;

/* One result row as the driver holds it; `row` is the driver's own. */
struct sql_driver {
    /* Run query `q` with `n` parameters; `row` is called for each result
     * row (stop with non-zero). 0 or FLEET_ERR (cause in the error; a
     * serialization conflict also sets base.conflict, a unique-key
     * violation base.duplicate). */
    int (*query)(struct sql_store *s, enum sql_query q, const struct sql_param *p, size_t n,
                 int (*row)(void *ctx, struct sql_store *s, void *row), void *ctx);
    const char *(*text)(void *row, int col);      /* never NULL */
    int64_t (*integer)(void *row, int col);
    size_t (*blob)(void *row, int col, uint8_t *out, size_t size); /* bytes copied */
    int (*exec)(struct sql_store *s, const char *sql, const char *what); /* no rows */
    int (*begin)(struct sql_store *s, int read_only);
    int (*commit)(struct sql_store *s);
    int (*rollback)(struct sql_store *s);
    void (*close)(struct sql_store *s);
    int (*sync)(struct sql_store *s, char *why, size_t why_size); /* NULL: commit syncs */
};

struct sql_store {
    struct fleet_store base;
    const struct sql_driver *drv;
    char *sql[Q_COUNT];   /* the text of each query (sql_store_init) */
};

/* Fill base.ops and the query texts; 0 or FLEET_ERR (out of memory). */
int sql_store_init(struct sql_store *s, const struct sql_driver *drv);
/* Free the query texts (drivers call it from close). */
void sql_store_fini(struct sql_store *s);

/* The error text of a failed step: "WHAT failed: DETAIL" into base.error. */
int sql_store_fail(struct sql_store *s, const char *what, const char *detail);

#endif
