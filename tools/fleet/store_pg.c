/*
 * The fleet store's PostgreSQL driver (store_sql.h; the operations are in
 * store_sql.c), for several server instances sharing one database.
 *
 * - Transactions are READ COMMITTED, and the decisions that read and then
 *   write shared state (a wave's membership, the automatic pause, the
 *   per-minute start limit, a device's own row) first lock the row they
 *   decide about (SELECT ... FOR UPDATE: device_lock, rollout_lock), so
 *   they run one after the other across instances and each sees what the
 *   one before committed (fleet.c, "Consistency"). SERIALIZABLE gave the
 *   same guarantee through predicate locks, but under load most check-ins
 *   of unrelated devices failed on index-page conflicts and were retried
 *   until some gave up (docs/fleet.md). A deadlock (SQLSTATE 40P01) or a
 *   serialization failure (40001) sets base.conflict, and fleet.c runs the
 *   whole transaction again.
 * - The schema has the same versions as the SQLite one (store_sqlite.c),
 *   recorded in fota_schema; the migrations run under a transaction-level
 *   advisory lock, so instances starting together migrate once.
 * - One connection per store; every statement prepared when it opens.
 * - Fewer round trips: inside a transaction the connection is in libpq's
 *   pipeline mode. BEGIN and the statements that return no rows (the
 *   writes) are sent without waiting; their results are read with the next
 *   statement that returns rows, or with COMMIT, which thus travels with
 *   the last writes. A failed write is reported there (the transaction is
 *   lost either way, and is rolled back). A check-in that changes nothing
 *   shared takes four round trips: BEGIN and its device's row, its
 *   memberships, the product's rollouts, its record and COMMIT.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "store_sql.h"

struct pg_store {
    struct sql_store sql;
    PGconn *conn;
    int pipeline;     /* in a transaction: statements are pipelined */
    unsigned unread;  /* statements sent whose results are not read yet */
    int committing;   /* COMMIT is being sent or read (fail() must not replay) */
    int lost;         /* the server closed or is closing the connection */
};

/* Version N+1 is what migrations[N] makes of version N (as in SQLite). */
static const char *const migrations[] = {
    /* 0 -> 1: the model */
    "CREATE TABLE devices(id TEXT PRIMARY KEY, product TEXT NOT NULL, channel TEXT NOT NULL,"
    " protocol TEXT NOT NULL, version TEXT NOT NULL, version_code BIGINT NOT NULL,"
    " sequence BIGINT NOT NULL, image TEXT NOT NULL, last_event TEXT NOT NULL,"
    " last_error BIGINT NOT NULL, last_version BIGINT NOT NULL, address TEXT NOT NULL,"
    " first_seen BIGINT NOT NULL, last_seen BIGINT NOT NULL, pinned_release BIGINT NOT NULL,"
    " bucket BIGINT NOT NULL, offered_sequence BIGINT NOT NULL, decision TEXT NOT NULL);"
    "CREATE TABLE group_members(grp TEXT NOT NULL, device TEXT NOT NULL,"
    " PRIMARY KEY(grp, device));"
    "CREATE TABLE releases(id BIGSERIAL PRIMARY KEY, product TEXT NOT NULL,"
    " version TEXT NOT NULL, version_code BIGINT NOT NULL, sequence BIGINT NOT NULL,"
    " security_counter BIGINT NOT NULL, size BIGINT NOT NULL, sha256 TEXT NOT NULL,"
    " manifest TEXT NOT NULL, created BIGINT NOT NULL, UNIQUE(product, sequence));"
    "CREATE TABLE rollouts(id BIGSERIAL PRIMARY KEY, release_id BIGINT NOT NULL"
    " REFERENCES releases(id), product TEXT NOT NULL, channel TEXT NOT NULL,"
    " groups TEXT NOT NULL, state BIGINT NOT NULL, wave BIGINT NOT NULL,"
    " waves TEXT NOT NULL, bucket_offset BIGINT NOT NULL, success_pct BIGINT NOT NULL,"
    " failure_pct BIGINT NOT NULL, min_sample BIGINT NOT NULL, per_minute BIGINT NOT NULL,"
    " ack_failed BIGINT NOT NULL, ack_reported BIGINT NOT NULL, reason TEXT NOT NULL,"
    " created BIGINT NOT NULL, updated BIGINT NOT NULL);"
    /* rowid: the insertion order, as SQLite's implicit rowid */
    "CREATE TABLE rollout_log(rowid BIGSERIAL, rollout BIGINT NOT NULL, at BIGINT NOT NULL,"
    " text TEXT NOT NULL);"
    "CREATE TABLE members(rollout BIGINT NOT NULL, device TEXT NOT NULL, state BIGINT NOT NULL,"
    " wave BIGINT NOT NULL, offered BIGINT NOT NULL, decided BIGINT NOT NULL,"
    " prior_outcome TEXT NOT NULL, outcome TEXT NOT NULL, PRIMARY KEY(rollout, device));"
    "CREATE TABLE tokens(id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL, hash BYTEA NOT NULL);",
    /* 1 -> 2: indexes for the per-check-in queries */
    "CREATE INDEX members_by_device ON members(device, state);"
    "CREATE INDEX members_by_offer ON members(rollout, offered);"
    "CREATE INDEX devices_by_product ON devices(product, channel);"
    "CREATE INDEX rollout_log_by_rollout ON rollout_log(rollout, at);",
    /* 2 -> 3: every check-in counted (the benchmark checks none is lost) */
    "ALTER TABLE devices ADD COLUMN checkins BIGINT NOT NULL DEFAULT 0;",
    /* 3 -> 4: every change of a device's running version (the dashboard's plot) */
    "CREATE TABLE version_log(rowid BIGSERIAL, product TEXT NOT NULL, at BIGINT NOT NULL,"
    " device TEXT NOT NULL, prev_code BIGINT NOT NULL, code BIGINT NOT NULL,"
    " version TEXT NOT NULL);"
    "CREATE INDEX version_log_by_product ON version_log(product, at);"
    "INSERT INTO version_log(product, at, device, prev_code, code, version)"
    " SELECT product, last_seen, id, -1, version_code, version FROM devices ORDER BY last_seen;",
    /* 4 -> 5: at most one running or paused rollout per product and channel,
     * also when two admin requests on two instances create one at the same time */
    "CREATE UNIQUE INDEX rollouts_active ON rollouts(product, channel) WHERE state IN (0, 1);",
};
#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

static struct pg_store *P(struct sql_store *s)
{
    return (struct pg_store *)s;
}

/* The failure of `res` (NULL: of the connection), classified. */
static int fail(struct pg_store *s, const PGresult *res, const char *what)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (state && (!strcmp(state, "40001") || !strcmp(state, "40P01")))
        s->sql.base.conflict = 1;
    if (state && !strcmp(state, "23505"))
        s->sql.base.duplicate = 1;
    /* The connection lost (or being closed by the server: SQLSTATE class 08,
     * 57P01-03 shutdown) before COMMIT went out: nothing was committed, so
     * the transaction runs again like a conflict, on a connection that
     * pg_begin resets. After COMMIT the outcome is unknown: not replayed. */
    if (PQstatus(s->conn) != CONNECTION_OK ||
        (state && (!strncmp(state, "08", 2) || !strncmp(state, "57P", 3)))) {
        s->lost = 1;
        if (!s->committing)
            s->sql.base.conflict = 1;
    }
    const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(s->conn);
    char detail[200];
    snprintf(detail, sizeof detail, "%s", msg && *msg ? msg : "?");
    detail[strcspn(detail, "\n")] = 0;
    return sql_store_fail(&s->sql, what, detail);
}

static int exec(struct pg_store *s, const char *sql, const char *what)
{
    PGresult *res = PQexec(s->conn, sql);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;
    int rc = ok ? 0 : fail(s, res, what);
    PQclear(res);
    return rc;
}

static int session_setup(struct pg_store *s);

/* A connection that PostgreSQL dropped (a restart, a fail-over, an idle
 * timeout, a network cut) is reset before the next transaction: the one it
 * broke has failed with its error (its outcome unknown if the break came at
 * COMMIT, so it is not replayed here), and the server keeps answering once
 * the database is back instead of failing every request until a restart. */
static int reconnect_if_lost(struct pg_store *s)
{
    if (PQstatus(s->conn) == CONNECTION_OK && !s->lost)
        return 0;
    s->lost = 0;
    PQreset(s->conn);
    if (PQstatus(s->conn) != CONNECTION_OK)
        return fail(s, NULL, "reconnecting to the fleet database");
    return session_setup(s);
}

struct pg_cursor {
    PGresult *res;
    int row;
};

/* The results of the statements sent since the last read, up to the sync
 * sent after them: the last statement's rows go to `row`. 0, or FLEET_ERR
 * with the first failure recorded. `commit`: the last one is COMMIT, which
 * answers ROLLBACK when the transaction had failed before. */
static int pipeline_read(struct pg_store *s, int (*row)(void *, struct sql_store *, void *),
                         void *ctx, int commit)
{
    int rc = 0;
    unsigned done = 0, ends = 0;
    for (;;) {
        PGresult *res = PQgetResult(s->conn);
        if (!res) { /* the end of one statement's results */
            done++;
            if (++ends > s->unread + 1 || PQstatus(s->conn) != CONNECTION_OK) {
                rc = rc < 0 ? rc : fail(s, NULL, "reading a result");
                break; /* the connection is gone: no sync will come */
            }
            continue;
        }
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(res);
            break;
        }
        int last = done + 1 == s->unread;
        if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
            if (last && commit && rc == 0 && !strcmp(PQcmdStatus(res), "ROLLBACK"))
                rc = sql_store_fail(&s->sql, "committing", "the transaction was rolled back");
            struct pg_cursor cursor = {res, 0};
            int rows = PQntuples(res);
            for (int i = 0; last && row && rc == 0 && i < rows; i++) {
                cursor.row = i;
                if (row(ctx, &s->sql, &cursor))
                    break;
            }
        } else if (rc == 0) {
            /* the first failure; the statements after it are PIPELINE_ABORTED */
            rc = fail(s, res, commit && last ? "committing" : "a query");
        }
        PQclear(res);
    }
    s->unread = 0;
    return rc;
}

/* Send statement `q` (prepared when the connection opened). */
static int pg_send(struct pg_store *s, enum sql_query q, const struct sql_param *p, size_t n)
{
    char name[16];
    snprintf(name, sizeof name, "q%d", (int)q);
    const char *values[SQL_PARAMS_MAX];
    int lengths[SQL_PARAMS_MAX], formats[SQL_PARAMS_MAX];
    char nums[SQL_PARAMS_MAX][24];
    if (n > SQL_PARAMS_MAX)
        return sql_store_fail(&s->sql, "a query", "too many parameters");
    for (size_t i = 0; i < n; i++) {
        lengths[i] = formats[i] = 0;
        switch (p[i].type) {
        case SQLP_TEXT: values[i] = p[i].text; break;
        case SQLP_INT:
            snprintf(nums[i], sizeof nums[i], "%" PRId64, p[i].num);
            values[i] = nums[i];
            break;
        case SQLP_BLOB:
            values[i] = p[i].blob;
            lengths[i] = (int)p[i].len;
            formats[i] = 1;
            break;
        default: values[i] = NULL; break;
        }
    }
    if (!PQsendQueryPrepared(s->conn, name, (int)n, values, lengths, formats, 0))
        return fail(s, NULL, "sending a query");
    s->unread++;
    return 0;
}

static int pg_query(struct sql_store *b, enum sql_query q, const struct sql_param *p, size_t n,
                    int (*row)(void *, struct sql_store *, void *), void *ctx)
{
    struct pg_store *s = P(b);
    if (!s->pipeline) { /* outside a transaction (fota fleet token add) */
        if (reconnect_if_lost(s) < 0)
            return FLEET_ERR;
        if (!PQenterPipelineMode(s->conn))
            return fail(s, NULL, "entering pipeline mode");
        int rc = pg_send(s, q, p, n);
        if (rc == 0 && !PQpipelineSync(s->conn))
            rc = fail(s, NULL, "sending a query");
        if (rc == 0)
            rc = pipeline_read(s, row, ctx, 0);
        s->unread = 0;
        PQexitPipelineMode(s->conn);
        return rc;
    }
    if (pg_send(s, q, p, n) < 0)
        return FLEET_ERR;
    if (!row) /* a write: its result is read with the next statement's */
        return 0;
    if (!PQpipelineSync(s->conn))
        return fail(s, NULL, "sending a query");
    return pipeline_read(s, row, ctx, 0);
}

static const char *pg_text(void *row, int col)
{
    struct pg_cursor *c = row;
    return PQgetisnull(c->res, c->row, col) ? "" : PQgetvalue(c->res, c->row, col);
}

static int64_t pg_integer(void *row, int col)
{
    return strtoll(pg_text(row, col), NULL, 10);
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* bytea in text form: "\x" and two hex digits a byte */
static size_t pg_blob(void *row, int col, uint8_t *out, size_t size)
{
    const char *t = pg_text(row, col);
    if (t[0] != '\\' || t[1] != 'x')
        return 0;
    size_t n = 0;
    for (t += 2; t[0] && t[1] && n < size; t += 2) {
        int hi = hexval(t[0]), lo = hexval(t[1]);
        if (hi < 0 || lo < 0)
            return 0;
        out[n++] = (uint8_t)(hi << 4 | lo);
    }
    return *t ? 0 : n;
}

static int pg_exec(struct sql_store *b, const char *sql, const char *what)
{
    if (P(b)->pipeline) /* only savepoints come here, which PostgreSQL stores do not use */
        return sql_store_fail(b, what, "not available inside a pipelined transaction");
    return exec(P(b), sql, what);
}

static int pg_begin(struct sql_store *b, int read_only)
{
    struct pg_store *s = P(b);
    if (reconnect_if_lost(s) < 0)
        return FLEET_ERR;
    /* READ COMMITTED (see the top), or one snapshot for a read (the admin
     * API's views: consistent, never failing on a conflict); sent with the
     * first query */
    const char *begin = read_only ? "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY" : "BEGIN";
    if (!PQenterPipelineMode(s->conn) ||
        !PQsendQueryParams(s->conn, begin, 0, NULL, NULL, NULL, NULL, 0))
        return fail(s, NULL, "starting a transaction");
    s->pipeline = 1;
    s->unread = 1;
    return 0;
}

/* Read what is still outstanding and leave pipeline mode. */
static int pipeline_end(struct pg_store *s, const char *last_sql)
{
    int rc = 0;
    if (last_sql && !PQsendQueryParams(s->conn, last_sql, 0, NULL, NULL, NULL, NULL, 0))
        rc = fail(s, NULL, "committing");
    else if (last_sql)
        s->unread++;
    if (s->unread) {
        if (!PQpipelineSync(s->conn))
            rc = rc < 0 ? rc : fail(s, NULL, "committing");
        else if (pipeline_read(s, NULL, NULL, last_sql != NULL) < 0)
            rc = FLEET_ERR;
    }
    s->unread = 0;
    s->pipeline = 0;
    PQexitPipelineMode(s->conn);
    return rc;
}

static int pg_commit(struct sql_store *b)
{
    struct pg_store *s = P(b);
    s->committing = 1;
    int rc = pipeline_end(s, "COMMIT");
    s->committing = 0;
    return rc;
}

static int pg_rollback(struct sql_store *b)
{
    struct pg_store *s = P(b);
    if (s->pipeline) {
        char why[sizeof s->sql.base.error]; /* the failure that brought us here */
        memcpy(why, s->sql.base.error, sizeof why);
        pipeline_end(s, NULL);
        memcpy(s->sql.base.error, why, sizeof why);
    }
    if (PQtransactionStatus(s->conn) == PQTRANS_IDLE)
        return 0;
    return exec(s, "ROLLBACK", "rolling back");
}

static void pg_close(struct sql_store *b)
{
    struct pg_store *s = P(b);
    if (s->conn)
        PQfinish(s->conn);
    sql_store_fini(b);
    free(s);
}

static const struct sql_driver pg_driver = {
    pg_query, pg_text, pg_integer, pg_blob, pg_exec, pg_begin, pg_commit, pg_rollback, pg_close,
    NULL, /* a commit is durable when it returns */
};

static int migrate(struct pg_store *s)
{
    if (exec(s, "BEGIN", "starting a migration") < 0)
        return FLEET_ERR;
    /* one instance migrates; the others wait here and then see its version */
    if (exec(s, "SELECT pg_advisory_xact_lock(7012345)", "locking the schema") < 0 ||
        exec(s, "CREATE TABLE IF NOT EXISTS fota_schema(version INTEGER NOT NULL)",
             "creating the version table") < 0) {
        exec(s, "ROLLBACK", "rolling back");
        return FLEET_ERR;
    }
    PGresult *res = PQexec(s->conn, "SELECT max(version) FROM fota_schema");
    int version = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1
                      ? atoi(PQgetvalue(res, 0, 0))
                      : -1;
    if (version < 0)
        fail(s, res, "reading the schema version");
    PQclear(res);
    if (version > SCHEMA_VERSION)
        snprintf(s->sql.base.error, sizeof s->sql.base.error,
                 "the database has schema version %d, newer than this fota knows (%d): "
                 "refusing to use it", version, SCHEMA_VERSION);
    int rc = version < 0 || version > SCHEMA_VERSION ? FLEET_ERR : 0;
    for (; rc == 0 && version < SCHEMA_VERSION; version++) {
        char bump[80];
        snprintf(bump, sizeof bump, "DELETE FROM fota_schema; INSERT INTO fota_schema VALUES (%d)",
                 version + 1);
        if (exec(s, migrations[version], "migrating the schema") < 0 ||
            exec(s, bump, "recording the schema version") < 0) {
            char why[sizeof s->sql.base.error];
            snprintf(why, sizeof why, "%s", s->sql.base.error);
            snprintf(s->sql.base.error, sizeof s->sql.base.error, "schema %d -> %d: %.180s",
                     version, version + 1, why);
            rc = FLEET_ERR;
        }
    }
    if (rc < 0) {
        exec(s, "ROLLBACK", "rolling back a migration");
        return FLEET_ERR;
    }
    return exec(s, "COMMIT", "committing the migrations");
}

/* Every query prepared once, so that a pipeline only ever executes. */
static int prepare_all(struct pg_store *s)
{
    for (int q = 0; q < Q_COUNT; q++) {
        char name[16];
        snprintf(name, sizeof name, "q%d", q);
        PGresult *res = PQprepare(s->conn, name, s->sql.sql[q], 0, NULL);
        int rc = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : fail(s, res, "preparing a query");
        PQclear(res);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* What a connection needs before its first transaction, on opening and
 * after a reset: quiet notices and the prepared queries belong to the
 * session; the schema is checked again (a no-op when current) because a
 * reset may reach another server after a fail-over. */
static int session_setup(struct pg_store *s)
{
    if (exec(s, "SET client_min_messages = warning", "setting up the session") < 0 ||
        migrate(s) < 0)
        return FLEET_ERR;
    return prepare_all(s);
}

struct fleet_store *fleet_store_pg_open(const char *url, char *err, size_t err_size)
{
    struct pg_store *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    if (sql_store_init(&s->sql, &pg_driver) < 0) {
        snprintf(err, err_size, "%s", s->sql.base.error);
        pg_close(&s->sql);
        return NULL;
    }
    s->conn = PQconnectdb(url);
    if (PQstatus(s->conn) != CONNECTION_OK) {
        char why[200];
        snprintf(why, sizeof why, "%s", s->conn ? PQerrorMessage(s->conn) : "out of memory");
        why[strcspn(why, "\n")] = 0;
        snprintf(err, err_size, "cannot connect to the fleet database: %s", why);
        pg_close(&s->sql);
        return NULL;
    }
    if (session_setup(s) < 0) {
        snprintf(err, err_size, "fleet database: %s", s->sql.base.error);
        pg_close(&s->sql);
        return NULL;
    }
    return &s->sql.base;
}
