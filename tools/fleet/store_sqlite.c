/*
 * The fleet store's SQLite driver (store_sql.h; the operations are in
 * store_sql.c).
 *
 * - WAL journal; readers never block the writer. Commits are made durable
 *   by sl_sync, an fdatasync of the WAL file that fleet.c runs after each
 *   group commit outside its lock (synchronous=NORMAL: COMMIT itself only
 *   writes the WAL), so the next group works while this one syncs; nothing
 *   is answered before its sync, so a crash of the process or of the
 *   machine loses no answered check-in.
 * - The schema is versioned with PRAGMA user_version; `migrations` lists the
 *   steps from each version to the next, applied in one transaction each at
 *   open. A database written by a newer fota (a higher version) is refused
 *   rather than misread. store_pg.c keeps the same versions.
 * - One prepared statement per query, made on first use.
 * - One connection per process: fleet.c commits check-ins in groups
 *   (base.group_commit), so many check-ins share one fsync.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store_sql.h"

struct sqlite_store {
    struct sql_store sql;
    sqlite3 *db;
    sqlite3_stmt *st[Q_COUNT];
    int wal_fd;  /* the WAL file, for sl_sync */
};

/* Version N+1 is what migrations[N] makes of version N. */
static const char *const migrations[] = {
    /* 0 -> 1: the model */
    "CREATE TABLE devices(id TEXT PRIMARY KEY, product TEXT NOT NULL, channel TEXT NOT NULL,"
    " protocol TEXT NOT NULL, version TEXT NOT NULL, version_code INTEGER NOT NULL,"
    " sequence INTEGER NOT NULL, image TEXT NOT NULL, last_event TEXT NOT NULL,"
    " last_error INTEGER NOT NULL, last_version INTEGER NOT NULL, address TEXT NOT NULL,"
    " first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL, pinned_release INTEGER NOT NULL,"
    " bucket INTEGER NOT NULL, offered_sequence INTEGER NOT NULL, decision TEXT NOT NULL);"
    "CREATE TABLE group_members(grp TEXT NOT NULL, device TEXT NOT NULL,"
    " PRIMARY KEY(grp, device));"
    "CREATE TABLE releases(id INTEGER PRIMARY KEY, product TEXT NOT NULL, version TEXT NOT NULL,"
    " version_code INTEGER NOT NULL, sequence INTEGER NOT NULL,"
    " security_counter INTEGER NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL,"
    " manifest TEXT NOT NULL, created INTEGER NOT NULL, UNIQUE(product, sequence));"
    "CREATE TABLE rollouts(id INTEGER PRIMARY KEY, release_id INTEGER NOT NULL"
    " REFERENCES releases(id), product TEXT NOT NULL, channel TEXT NOT NULL,"
    " groups TEXT NOT NULL, state INTEGER NOT NULL, wave INTEGER NOT NULL,"
    " waves TEXT NOT NULL, bucket_offset INTEGER NOT NULL, success_pct INTEGER NOT NULL,"
    " failure_pct INTEGER NOT NULL, min_sample INTEGER NOT NULL, per_minute INTEGER NOT NULL,"
    " ack_failed INTEGER NOT NULL, ack_reported INTEGER NOT NULL, reason TEXT NOT NULL,"
    " created INTEGER NOT NULL, updated INTEGER NOT NULL);"
    "CREATE TABLE rollout_log(rollout INTEGER NOT NULL, at INTEGER NOT NULL, text TEXT NOT NULL);"
    "CREATE TABLE members(rollout INTEGER NOT NULL, device TEXT NOT NULL, state INTEGER NOT NULL,"
    " wave INTEGER NOT NULL, offered INTEGER NOT NULL, decided INTEGER NOT NULL,"
    " prior_outcome TEXT NOT NULL, outcome TEXT NOT NULL, PRIMARY KEY(rollout, device));"
    "CREATE TABLE tokens(id INTEGER PRIMARY KEY, name TEXT NOT NULL, hash BLOB NOT NULL);",
    /* 1 -> 2: indexes for the per-check-in queries */
    "CREATE INDEX members_by_device ON members(device, state);"
    "CREATE INDEX members_by_offer ON members(rollout, offered);"
    "CREATE INDEX devices_by_product ON devices(product, channel);"
    "CREATE INDEX rollout_log_by_rollout ON rollout_log(rollout, at);",
    /* 2 -> 3: every check-in counted (the benchmark checks none is lost) */
    "ALTER TABLE devices ADD COLUMN checkins INTEGER NOT NULL DEFAULT 0;",
    /* 3 -> 4: every change of a device's running version, for the dashboard's
     * versions-over-time plot; the devices known so far start it */
    "CREATE TABLE version_log(product TEXT NOT NULL, at INTEGER NOT NULL,"
    " device TEXT NOT NULL, prev_code INTEGER NOT NULL, code INTEGER NOT NULL,"
    " version TEXT NOT NULL);"
    "CREATE INDEX version_log_by_product ON version_log(product, at);"
    "INSERT INTO version_log SELECT product, last_seen, id, -1, version_code, version"
    " FROM devices;",
    /* 4 -> 5: at most one running or paused rollout per product and channel,
     * also when two admin requests create one at the same time */
    "CREATE UNIQUE INDEX rollouts_active ON rollouts(product, channel) WHERE state IN (0, 1);",
};
#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

static struct sqlite_store *L(struct sql_store *s)
{
    return (struct sqlite_store *)s;
}

static int fail(struct sqlite_store *s, const char *what)
{
    int code = sqlite3_extended_errcode(s->db);
    s->sql.base.duplicate = code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY;
    return sql_store_fail(&s->sql, what, sqlite3_errmsg(s->db));
}

static int exec(struct sqlite_store *s, const char *sql, const char *what)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        sql_store_fail(&s->sql, what, msg ? msg : "?");
        sqlite3_free(msg);
        return FLEET_ERR;
    }
    return 0;
}

/* The shared text says $N; SQLite numbers its parameters ?N. A trailing
 * FOR UPDATE (a row lock on PostgreSQL) is dropped: a SQLite transaction
 * (BEGIN IMMEDIATE) holds the database's write lock from its start. */
static sqlite3_stmt *prepared(struct sqlite_store *s, enum sql_query q)
{
    if (s->st[q])
        return s->st[q];
    char text[SQL_TEXT_MAX + 1];
    snprintf(text, sizeof text, "%s", s->sql.sql[q]);
    for (char *p = text; (p = strchr(p, '$')) != NULL; p++)
        *p = '?';
    static const char lock[] = " FOR UPDATE";
    size_t len = strlen(text);
    if (len >= sizeof lock - 1 && !strcmp(text + len - (sizeof lock - 1), lock))
        text[len - (sizeof lock - 1)] = 0;
    if (sqlite3_prepare_v2(s->db, text, -1, &s->st[q], NULL) != SQLITE_OK) {
        fail(s, "preparing a query");
        return NULL;
    }
    return s->st[q];
}

static int sl_query(struct sql_store *b, enum sql_query q, const struct sql_param *p, size_t n,
                    int (*row)(void *, struct sql_store *, void *), void *ctx)
{
    struct sqlite_store *s = L(b);
    sqlite3_stmt *st = prepared(s, q);
    if (!st)
        return FLEET_ERR;
    for (size_t i = 0; i < n; i++) {
        int k = (int)i + 1;
        switch (p[i].type) {
        case SQLP_TEXT: sqlite3_bind_text(st, k, p[i].text, -1, SQLITE_STATIC); break;
        case SQLP_INT: sqlite3_bind_int64(st, k, p[i].num); break;
        case SQLP_BLOB: sqlite3_bind_blob(st, k, p[i].blob, (int)p[i].len, SQLITE_STATIC); break;
        default: sqlite3_bind_null(st, k); break;
        }
    }
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW)
        if (row && row(ctx, b, st))
            break;
    int rc = r == SQLITE_ROW || r == SQLITE_DONE ? 0 : fail(s, "a query");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

static const char *sl_text(void *row, int col)
{
    const unsigned char *t = sqlite3_column_text(row, col);
    return t ? (const char *)t : "";
}

static int64_t sl_integer(void *row, int col)
{
    return sqlite3_column_int64(row, col);
}

static size_t sl_blob(void *row, int col, uint8_t *out, size_t size)
{
    const void *b = sqlite3_column_blob(row, col);
    size_t n = (size_t)sqlite3_column_bytes(row, col);
    if (!b || n > size)
        return 0;
    memcpy(out, b, n);
    return n;
}

static int sl_exec(struct sql_store *b, const char *sql, const char *what)
{
    return exec(L(b), sql, what);
}

static int sl_begin(struct sql_store *b, int read_only)
{
    (void)read_only; /* a read joins the group's transaction (fleet.c) */
    return exec(L(b), "BEGIN IMMEDIATE", "starting a transaction");
}

static int sl_commit(struct sql_store *b)
{
    return exec(L(b), "COMMIT", "committing");
}

static int sl_rollback(struct sql_store *b)
{
    return sqlite3_get_autocommit(L(b)->db) ? 0 : exec(L(b), "ROLLBACK", "rolling back");
}

static int sl_sync(struct sql_store *b, char *why, size_t why_size)
{
    if (fdatasync(L(b)->wal_fd) == 0)
        return 0;
    snprintf(why, why_size, "syncing the fleet database's WAL failed: %s", strerror(errno));
    return FLEET_ERR;
}

static void sl_close(struct sql_store *b)
{
    struct sqlite_store *s = L(b);
    if (s->wal_fd >= 0)
        close(s->wal_fd);
    for (int i = 0; i < Q_COUNT; i++)
        sqlite3_finalize(s->st[i]);
    sqlite3_close(s->db);
    sql_store_fini(b);
    free(s);
}

static const struct sql_driver sqlite_driver = {
    sl_query, sl_text, sl_integer, sl_blob, sl_exec, sl_begin, sl_commit, sl_rollback, sl_close,
    sl_sync,
};

/* strpos(haystack, needle): PostgreSQL's name for SQLite's instr(), so
 * that the queries are written once. */
static void strpos_fn(sqlite3_context *c, int argc, sqlite3_value **v)
{
    (void)argc;
    const char *h = (const char *)sqlite3_value_text(v[0]);
    const char *n = (const char *)sqlite3_value_text(v[1]);
    const char *at = h && n ? strstr(h, n) : NULL;
    sqlite3_result_int64(c, at ? (sqlite3_int64)(at - h) + 1 : 0);
}

static int migrate(struct sqlite_store *s, const char *path)
{
    sqlite3_stmt *st = NULL;
    int version = -1;
    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (version < 0)
        return fail(s, "reading the schema version");
    if (version > SCHEMA_VERSION) {
        snprintf(s->sql.base.error, sizeof s->sql.base.error,
                 "%s has schema version %d, newer than this fota knows (%d): refusing to use it",
                 path, version, SCHEMA_VERSION);
        return FLEET_ERR;
    }
    for (; version < SCHEMA_VERSION; version++) {
        char bump[48];
        snprintf(bump, sizeof bump, "PRAGMA user_version = %d", version + 1);
        if (exec(s, "BEGIN IMMEDIATE", "starting a migration") < 0)
            return FLEET_ERR;
        if (exec(s, migrations[version], "migrating the schema") < 0 ||
            exec(s, bump, "recording the schema version") < 0) {
            char why[sizeof s->sql.base.error];
            snprintf(why, sizeof why, "%s", s->sql.base.error);
            exec(s, "ROLLBACK", "rolling back a migration");
            snprintf(s->sql.base.error, sizeof s->sql.base.error, "%.60s: schema %d -> %d: %.150s",
                     path, version, version + 1, why);
            return FLEET_ERR;
        }
        if (exec(s, "COMMIT", "committing a migration") < 0)
            return FLEET_ERR;
    }
    return 0;
}

struct fleet_store *fleet_store_sqlite_open(const char *path, char *err, size_t err_size)
{
    struct sqlite_store *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    if (sql_store_init(&s->sql, &sqlite_driver) < 0) {
        snprintf(err, err_size, "%s", s->sql.base.error);
        sl_close(&s->sql);
        return NULL;
    }
    s->sql.base.group_commit = 1;
    s->wal_fd = -1;
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                          SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
        snprintf(err, err_size, "cannot open the fleet database %s: %s", path,
                 s->db ? sqlite3_errmsg(s->db) : "out of memory");
        sl_close(&s->sql);
        return NULL;
    }
    sqlite3_busy_timeout(s->db, 5000);
    sqlite3_create_function(s->db, "strpos", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
                            strpos_fn, NULL, NULL);
    sqlite3_stmt *st = NULL;
    int wal = 0;
    if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        wal = strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
    sqlite3_finalize(st);
    if (!wal || exec(s, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON",
                     "setting up the database") < 0 ||
        migrate(s, path) < 0) {
        snprintf(err, err_size, "%s%s", wal ? "" : "cannot switch the database to WAL: ",
                 wal ? s->sql.base.error : path);
        sl_close(&s->sql);
        return NULL;
    }
    /* SQLite keeps the WAL file (same inode) while a connection is open. */
    char wal_path[4096];
    snprintf(wal_path, sizeof wal_path, "%s-wal", path);
    s->wal_fd = open(wal_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (s->wal_fd < 0) {
        snprintf(err, err_size, "cannot open %s: %s", wal_path, strerror(errno));
        sl_close(&s->sql);
        return NULL;
    }
    return &s->sql.base;
}
