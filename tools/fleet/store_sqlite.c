/*
 * The fleet store on SQLite (store.h).
 *
 * - WAL journal, synchronous=FULL: a committed check-in survives a crash of
 *   the process and of the machine; readers never block the writer.
 * - The schema is versioned with PRAGMA user_version; `migrations` lists the
 *   steps from each version to the next, applied in one transaction each at
 *   open. A database written by a newer fota (a higher version) is refused
 *   rather than misread.
 * - Prepared statements are cached per SQL text.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store.h"

#define STMT_CACHE 64

struct sqlite_store {
    struct fleet_store base;
    sqlite3 *db;
    struct {
        const char *sql;
        sqlite3_stmt *st;
    } cache[STMT_CACHE];
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
    /* 2 -> 3: every change of a device's running version, for the dashboard's
     * versions-over-time plot; the devices known so far start it */
    "CREATE TABLE version_log(product TEXT NOT NULL, at INTEGER NOT NULL,"
    " device TEXT NOT NULL, prev_code INTEGER NOT NULL, code INTEGER NOT NULL,"
    " version TEXT NOT NULL);"
    "CREATE INDEX version_log_by_product ON version_log(product, at);"
    "INSERT INTO version_log SELECT product, last_seen, id, -1, version_code, version"
    " FROM devices;",
};
#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

static int fail(struct sqlite_store *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(s->base.error, sizeof s->base.error, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof s->base.error && s->db)
        snprintf(s->base.error + n, sizeof s->base.error - (size_t)n, ": %s",
                 sqlite3_errmsg(s->db));
    return FLEET_ERR;
}

static struct sqlite_store *S(struct fleet_store *b)
{
    return (struct sqlite_store *)b;
}

/* A prepared, reset statement for `sql` (a string literal: cached by address). */
static sqlite3_stmt *stmt(struct sqlite_store *s, const char *sql)
{
    int free_slot = -1;
    for (int i = 0; i < STMT_CACHE; i++) {
        if (s->cache[i].sql == sql) {
            sqlite3_reset(s->cache[i].st);
            sqlite3_clear_bindings(s->cache[i].st);
            return s->cache[i].st;
        }
        if (!s->cache[i].sql && free_slot < 0)
            free_slot = i;
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        fail(s, "preparing a query failed");
        return NULL;
    }
    if (free_slot >= 0) {
        s->cache[free_slot].sql = sql;
        s->cache[free_slot].st = st;
    }
    return st;
}

static void text(sqlite3_stmt *st, int col, char *out, size_t size)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(out, size, "%s", t ? (const char *)t : "");
}

static int step_done(struct sqlite_store *s, sqlite3_stmt *st, const char *what)
{
    int r = sqlite3_step(st);
    sqlite3_reset(st);
    if (r != SQLITE_DONE && r != SQLITE_ROW)
        return fail(s, "%s failed", what);
    return 0;
}

static int exec(struct sqlite_store *s, const char *sql, const char *what)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(s->base.error, sizeof s->base.error, "%s failed: %s", what, msg ? msg : "?");
        sqlite3_free(msg);
        return FLEET_ERR;
    }
    return 0;
}

/* Every row of `st` read into a malloc'd array of `size`-byte records: the
 * callers run their callbacks afterwards, when the statement is reset (a
 * callback may run other queries). Returns the row count or FLEET_ERR. */
static long collect_rows(struct sqlite_store *s, sqlite3_stmt *st, size_t size,
                         void (*read)(sqlite3_stmt *, void *), const char *what, void **out)
{
    unsigned char *rows = NULL;
    size_t n = 0, cap = 0;
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            unsigned char *more = realloc(rows, cap * size);
            if (!more) {
                sqlite3_reset(st);
                free(rows);
                snprintf(s->base.error, sizeof s->base.error, "out of memory %s", what);
                return FLEET_ERR;
            }
            rows = more;
        }
        read(st, rows + n++ * size);
    }
    sqlite3_reset(st);
    if (r != SQLITE_DONE) {
        free(rows);
        return fail(s, "%s failed", what);
    }
    *out = rows;
    return (long)n;
}

/* ---- Transactions --------------------------------------------------------- */

static int sq_begin(struct fleet_store *b)
{
    return exec(S(b), "BEGIN IMMEDIATE", "starting a transaction");
}

static int sq_commit(struct fleet_store *b)
{
    return exec(S(b), "COMMIT", "committing");
}

static int sq_rollback(struct fleet_store *b)
{
    return sqlite3_get_autocommit(S(b)->db) ? 0 : exec(S(b), "ROLLBACK", "rolling back");
}

/* ---- Devices ----------------------------------------------------------------- */

#define DEVICE_COLS                                                                          \
    "id, product, channel, protocol, version, version_code, sequence, image, last_event,"    \
    " last_error, last_version, address, first_seen, last_seen, pinned_release, bucket,"     \
    " offered_sequence, decision"

static void read_device(sqlite3_stmt *st, struct fleet_device *d)
{
    memset(d, 0, sizeof *d);
    text(st, 0, d->id, sizeof d->id);
    text(st, 1, d->product, sizeof d->product);
    text(st, 2, d->channel, sizeof d->channel);
    text(st, 3, d->protocol, sizeof d->protocol);
    text(st, 4, d->version, sizeof d->version);
    d->version_code = (uint32_t)sqlite3_column_int64(st, 5);
    d->sequence = (uint32_t)sqlite3_column_int64(st, 6);
    text(st, 7, d->image, sizeof d->image);
    text(st, 8, d->last_event, sizeof d->last_event);
    d->last_error = (int32_t)sqlite3_column_int64(st, 9);
    d->last_version = (uint32_t)sqlite3_column_int64(st, 10);
    text(st, 11, d->address, sizeof d->address);
    d->first_seen = sqlite3_column_int64(st, 12);
    d->last_seen = sqlite3_column_int64(st, 13);
    d->pinned_release = sqlite3_column_int64(st, 14);
    d->bucket = (uint32_t)sqlite3_column_int64(st, 15);
    d->offered_sequence = (uint32_t)sqlite3_column_int64(st, 16);
    text(st, 17, d->decision, sizeof d->decision);
}

static int sq_device_get(struct fleet_store *b, const char *id, struct fleet_device *out)
{
    struct sqlite_store *s = S(b);
    sqlite3_stmt *st = stmt(s, "SELECT " DEVICE_COLS " FROM devices WHERE id = ?1");
    if (!st)
        return FLEET_ERR;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW)
        read_device(st, out);
    sqlite3_reset(st);
    if (r == SQLITE_ROW)
        return 0;
    return r == SQLITE_DONE ? FLEET_NOT_FOUND : fail(s, "reading device %s failed", id);
}

static int sq_device_put(struct fleet_store *b, const struct fleet_device *d)
{
    struct sqlite_store *s = S(b);
    sqlite3_stmt *st = stmt(s, "INSERT OR REPLACE INTO devices(" DEVICE_COLS ") VALUES"
                               " (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18)");
    if (!st)
        return FLEET_ERR;
    sqlite3_bind_text(st, 1, d->id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, d->product, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, d->channel, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, d->protocol, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, d->version, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 6, d->version_code);
    sqlite3_bind_int64(st, 7, d->sequence);
    sqlite3_bind_text(st, 8, d->image, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 9, d->last_event, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 10, d->last_error);
    sqlite3_bind_int64(st, 11, d->last_version);
    sqlite3_bind_text(st, 12, d->address, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 13, d->first_seen);
    sqlite3_bind_int64(st, 14, d->last_seen);
    sqlite3_bind_int64(st, 15, d->pinned_release);
    sqlite3_bind_int64(st, 16, d->bucket);
    sqlite3_bind_int64(st, 17, d->offered_sequence);
    sqlite3_bind_text(st, 18, d->decision, -1, SQLITE_TRANSIENT);
    return step_done(s, st, "storing a device");
}

static int sq_device_list(struct fleet_store *b, const char *product,
                          int (*cb)(void *, const struct fleet_device *), void *ctx)
{
    struct sqlite_store *s = S(b);
    sqlite3_stmt *st = stmt(s, "SELECT " DEVICE_COLS " FROM devices"
                               " WHERE ?1 = '' OR product = ?1 ORDER BY id");
    if (!st)
        return FLEET_ERR;
    sqlite3_bind_text(st, 1, product, -1, SQLITE_TRANSIENT);
    int r;
    struct fleet_device d;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        read_device(st, &d);
        if (cb(ctx, &d))
            break;
    }
    sqlite3_reset(st);
    return r == SQLITE_ROW || r == SQLITE_DONE ? 0 : fail(s, "listing devices failed");
}

static int sq_device_groups(struct fleet_store *b, const char *id, char *out, size_t size)
{
    struct sqlite_store *s = S(b);
    sqlite3_stmt *st = stmt(s, "SELECT grp FROM group_members WHERE device = ?1 ORDER BY grp");
    if (!st)
        return FLEET_ERR;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    size_t n = 0;
    out[0] = 0;
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW)
        n += (size_t)snprintf(out + n, n < size ? size - n : 0, "%s%s", n ? "," : "",
                              (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    return r == SQLITE_DONE ? 0 : fail(s, "reading the groups of %s failed", id);
}

/* ---- Groups ------------------------------------------------------------------- */

static int sq_group_set(struct fleet_store *b, const char *group, const char *device, int member)
{
    struct sqlite_store *s = S(b);
    sqlite3_stmt *st =
        member ? stmt(s, "INSERT OR IGNORE INTO group_members(grp, device) VALUES (?1, ?2)")
               : stmt(s, "DELETE FROM group_members WHERE grp = ?1 AND device = ?2");
    if (!st)
        return FLEET_ERR;
    sqlite3_bind_text(st, 1, group, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, device, -1, SQLITE_TRANSIENT);
    return step_done(s, st, "changing a group");
}

static int sq_group_list(struct fleet_store *b, int (*cb)(void *, const char *, uint32_t),
                         void *ctx)
{
    struct sqlite_store *s = S(b);
    sqlite3_stmt *st =
        stmt(s, "SELECT grp, count(*) FROM group_members GROUP BY grp ORDER BY grp");
    if (!st)
        return FLEET_ERR;
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW)
        if (cb(ctx, (const char *)sqlite3_column_text(st, 0),
               (uint32_t)sqlite3_column_int64(st, 1)))
            break;
    sqlite3_reset(st);
    return r == SQLITE_ROW || r == SQLITE_DONE ? 0 : fail(s, "listing groups failed");
}

/* Groups are matched as a comma-separated list: ",a,b," contains ",grp,". */
static int sq_in_groups(struct fleet_store *b, const char *device, const char *groups)
{
    struct sqlite_store *s = S(b);
    sqlite3_stmt *st = stmt(s, "SELECT 1 FROM group_members WHERE device = ?1"
                               " AND instr(',' || ?2 || ',', ',' || grp || ',') > 0 LIMIT 1");
    if (!st)
        return FLEET_ERR;
    sqlite3_bind_text(st, 1, device, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, groups, -1, SQLITE_TRANSIENT);
    int r = sqlite3_step(st);
    sqlite3_reset(st);
    if (r == SQLITE_ROW)
        return 1;
    return r == SQLITE_DONE ? 0 : fail(s, "reading groups failed");
}

/* ---- Releases ------------------------------------------------------------------ */

#define RELEASE_COLS                                                                          \
    "id, product, version, version_code, sequence, security_counter, size, sha256, manifest," \
    " created"

static void read_release(sqlite3_stmt *st, struct fleet_release *r)
{
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(st, 0);
    text(st, 1, r->product, sizeof r->product);
    text(st, 2, r->version, sizeof r->version);
    r->version_code = (uint32_t)sqlite3_column_int64(st, 3);
    r->sequence = (uint32_t)sqlite3_column_int64(st, 4);
    r->security_counter = (uint32_t)sqlite3_column_int64(st, 5);
    r->size = (uint32_t)sqlite3_column_int64(st, 6);
    text(st, 7, r->sha256, sizeof r->sha256);
    text(st, 8, r->manifest, sizeof r->manifest);
    r->created = sqlite3_column_int64(st, 9);
}

static int sq_release_add(struct fleet_store *b, struct fleet_release *r)
{
    struct sqlite_store *s = S(b);
    sqlite3_stmt *st = stmt(s, "INSERT INTO releases(product, version, version_code, sequence,"
                               " security_counter, size, sha256, manifest, created)"
                               " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)");
    if (!st)
        return FLEET_ERR;
    sqlite3_bind_text(st, 1, r->product, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, r->version, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, r->version_code);
    sqlite3_bind_int64(st, 4, r->sequence);
    sqlite3_bind_int64(st, 5, r->security_counter);
    sqlite3_bind_int64(st, 6, r->size);
    sqlite3_bind_text(st, 7, r->sha256, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 8, r->manifest, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 9, r->created);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_CONSTRAINT) {
        snprintf(s->base.error, sizeof s->base.error,
                 "product %s already has a release with sequence %u", r->product,
                 (unsigned)r->sequence);
        return FLEET_ERR;
    }
    if (rc != SQLITE_DONE)
        return fail(s, "storing release %s failed", r->version);
    r->id = sqlite3_last_insert_rowid(s->db);
    return 0;
}

static int one_release(struct sqlite_store *s, sqlite3_stmt *st, struct fleet_release *out)
{
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW)
        read_release(st, out);
    sqlite3_reset(st);
    if (r == SQLITE_ROW)
        return 0;
    return r == SQLITE_DONE ? FLEET_NOT_FOUND : fail(s, "reading a release failed");
}

static int sq_release_get(struct fleet_store *b, int64_t id, struct fleet_release *out)
{
    struct sqlite_store *s = S(b);
    sqlite3_stmt *st = stmt(s, "SELECT " RELEASE_COLS " FROM releases WHERE id = ?1");
    if (!st)
        return FLEET_ERR;
    sqlite3_bind_int64(st, 1, id);
    return one_release(s, st, out);
}

static int sq_release_by_code(struct fleet_store *b, const char *product, uint32_t code,
                              struct fleet_release *out)
{
    struct sqlite_store *s = S(b);
    sqlite3_stmt *st = stmt(s, "SELECT " RELEASE_COLS " FROM releases"
                               " WHERE product = ?1 AND version_code = ?2"
                               " ORDER BY sequence DESC LIMIT 1");
    if (!st)
        return FLEET_ERR;
    sqlite3_bind_text(st, 1, product, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, code);
    return one_release(s, st, out);
}

static int sq_release_list(struct fleet_store *b,
                           int (*cb)(void *, const struct fleet_release *), void *ctx)
{
    struct sqlite_store *s = S(b);
    sqlite3_stmt *st = stmt(s, "SELECT " RELEASE_COLS " FROM releases ORDER BY id");
    if (!st)
        return FLEET_ERR;
    int r;
    struct fleet_release rel;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        read_release(st, &rel);
        if (cb(ctx, &rel))
            break;
    }
    sqlite3_reset(st);
    return r == SQLITE_ROW || r == SQLITE_DONE ? 0 : fail(s, "listing releases failed");
}

/* ---- Rollouts -------------------------------------------------------------------- */

#define ROLLOUT_COLS                                                                         \
    "id, release_id, product, channel, groups, state, wave, waves, bucket_offset,"          \
    " success_pct, failure_pct, min_sample, per_minute, ack_failed, ack_reported, reason,"  \
    " created, updated"

/* Waves as text: "percent_x100:count:threshold:opened;..." */
static void waves_text(const struct fleet_rollout *r, char *out, size_t size)
{
    size_t n = 0;
    out[0] = 0;
    for (uint32_t i = 0; i < r->n_waves && n < size; i++)
        n += (size_t)snprintf(out + n, size - n, "%s%u:%u:%u:%" PRId64, i ? ";" : "",
                              (unsigned)r->waves[i].percent_x100, (unsigned)r->waves[i].count,
                              (unsigned)r->waves[i].threshold, r->waves[i].opened);
}

static void waves_parse(const char *t, struct fleet_rollout *r)
{
    r->n_waves = 0;
    while (t && *t && r->n_waves < FLEET_WAVES_MAX) {
        struct fleet_wave *w = &r->waves[r->n_waves];
        unsigned p, c, th;
        int64_t opened;
        if (sscanf(t, "%u:%u:%u:%" SCNd64, &p, &c, &th, &opened) != 4)
            break;
        w->percent_x100 = p;
        w->count = c;
        w->threshold = th;
        w->opened = opened;
        r->n_waves++;
        t = strchr(t, ';');
        if (t)
            t++;
    }
}

static void read_rollout(sqlite3_stmt *st, struct fleet_rollout *r)
{
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(st, 0);
    r->release_id = sqlite3_column_int64(st, 1);
    text(st, 2, r->product, sizeof r->product);
    text(st, 3, r->channel, sizeof r->channel);
    text(st, 4, r->groups, sizeof r->groups);
    r->state = sqlite3_column_int(st, 5);
    r->wave = (uint32_t)sqlite3_column_int64(st, 6);
    waves_parse((const char *)sqlite3_column_text(st, 7), r);
    r->offset = (uint32_t)sqlite3_column_int64(st, 8);
    r->success_pct = (uint32_t)sqlite3_column_int64(st, 9);
    r->failure_pct = (uint32_t)sqlite3_column_int64(st, 10);
    r->min_sample = (uint32_t)sqlite3_column_int64(st, 11);
    r->per_minute = (uint32_t)sqlite3_column_int64(st, 12);
    r->ack_failed = (uint32_t)sqlite3_column_int64(st, 13);
    r->ack_reported = (uint32_t)sqlite3_column_int64(st, 14);
    text(st, 15, r->reason, sizeof r->reason);
    r->created = sqlite3_column_int64(st, 16);
    r->updated = sqlite3_column_int64(st, 17);
}

static void read_rollout_row(sqlite3_stmt *st, void *out)
{
    read_rollout(st, out);
}

static int sq_rollout_put(struct fleet_store *b, struct fleet_rollout *r)
{
    struct sqlite_store *s = S(b);
    sqlite3_stmt *st = stmt(s, "INSERT OR REPLACE INTO rollouts(" ROLLOUT_COLS ") VALUES"
                               " (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18)");
    if (!st)
        return FLEET_ERR;
    char waves[FLEET_WAVES_MAX * 48];
    waves_text(r, waves, sizeof waves);
    if (r->id)
        sqlite3_bind_int64(st, 1, r->id);
    else
        sqlite3_bind_null(st, 1);
    sqlite3_bind_int64(st, 2, r->release_id);
    sqlite3_bind_text(st, 3, r->product, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, r->channel, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, r->groups, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 6, r->state);
    sqlite3_bind_int64(st, 7, r->wave);
    sqlite3_bind_text(st, 8, waves, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 9, r->offset);
    sqlite3_bind_int64(st, 10, r->success_pct);
    sqlite3_bind_int64(st, 11, r->failure_pct);
    sqlite3_bind_int64(st, 12, r->min_sample);
    sqlite3_bind_int64(st, 13, r->per_minute);
    sqlite3_bind_int64(st, 14, r->ack_failed);
    sqlite3_bind_int64(st, 15, r->ack_reported);
    sqlite3_bind_text(st, 16, r->reason, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 17, r->created);
    sqlite3_bind_int64(st, 18, r->updated);
    if (step_done(s, st, "storing a rollout") < 0)
        return FLEET_ERR;
    if (!r->id)
        r->id = sqlite3_last_insert_rowid(s->db);
    return 0;
}

static int sq_rollout_get(struct fleet_store *b, int64_t id, struct fleet_rollout *out)
{
    struct sqlite_store *s = S(b);
    sqlite3_stmt *st = stmt(s, "SELECT " ROLLOUT_COLS " FROM rollouts WHERE id = ?1");
    if (!st)
        return FLEET_ERR;
    sqlite3_bind_int64(st, 1, id);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW)
        read_rollout(st, out);
    sqlite3_reset(st);
    if (r == SQLITE_ROW)
        return 0;
    return r == SQLITE_DONE ? FLEET_NOT_FOUND : fail(s, "reading rollout %" PRId64 " failed", id);
}

static int sq_rollout_list(struct fleet_store *b, const char *product,
                           int (*cb)(void *, const struct fleet_rollout *), void *ctx)
{
    struct sqlite_store *s = S(b);
    sqlite3_stmt *st = stmt(s, "SELECT " ROLLOUT_COLS " FROM rollouts"
                               " WHERE ?1 = '' OR product = ?1 ORDER BY id DESC");
    if (!st)
        return FLEET_ERR;
    sqlite3_bind_text(st, 1, product, -1, SQLITE_TRANSIENT);
    struct fleet_rollout *rows = NULL;
    long n = collect_rows(s, st, sizeof *rows, read_rollout_row, "listing rollouts",
                          (void **)&rows);
    int rc = n < 0 ? FLEET_ERR : 0;
    for (long i = 0; i < n && !rc; i++)
        rc = cb(ctx, &rows[i]);
    free(rows);
    return rc < 0 ? rc : 0;
}

static int sq_rollout_log(struct fleet_store *b, int64_t rollout, int64_t at, const char *t)
{
    struct sqlite_store *s = S(b);
    sqlite3_stmt *st = stmt(s, "INSERT INTO rollout_log(rollout, at, text) VALUES (?1, ?2, ?3)");
    if (!st)
        return FLEET_ERR;
    sqlite3_bind_int64(st, 1, rollout);
    sqlite3_bind_int64(st, 2, at);
    sqlite3_bind_text(st, 3, t, -1, SQLITE_TRANSIENT);
    return step_done(s, st, "logging a rollout event");
}

static int sq_rollout_history(struct fleet_store *b, int64_t rollout,
                              int (*cb)(void *, int64_t, const char *), void *ctx)
{
    struct sqlite_store *s = S(b);
    sqlite3_stmt *st = stmt(s, "SELECT at, text FROM rollout_log WHERE rollout = ?1"
                               " ORDER BY at, rowid");
    if (!st)
        return FLEET_ERR;
    sqlite3_bind_int64(st, 1, rollout);
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW)
        if (cb(ctx, sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1)))
            break;
    sqlite3_reset(st);
    return r == SQLITE_ROW || r == SQLITE_DONE ? 0 : fail(s, "reading rollout history failed");
}

/* ---- Members --------------------------------------------------------------------- */

#define MEMBER_COLS "rollout, device, state, wave, offered, decided, prior_outcome, outcome"

static void read_member(sqlite3_stmt *st, struct fleet_member *m)
{
    memset(m, 0, sizeof *m);
    m->rollout_id = sqlite3_column_int64(st, 0);
    text(st, 1, m->device_id, sizeof m->device_id);
    m->state = sqlite3_column_int(st, 2);
    m->wave = (uint32_t)sqlite3_column_int64(st, 3);
    m->offered = sqlite3_column_int64(st, 4);
    m->decided = sqlite3_column_int64(st, 5);
    text(st, 6, m->prior_outcome, sizeof m->prior_outcome);
    text(st, 7, m->outcome, sizeof m->outcome);
}

static void read_member_row(sqlite3_stmt *st, void *out)
{
    read_member(st, out);
}

static int sq_member_get(struct fleet_store *b, int64_t rollout, const char *device,
                         struct fleet_member *out)
{
    struct sqlite_store *s = S(b);
    sqlite3_stmt *st =
        stmt(s, "SELECT " MEMBER_COLS " FROM members WHERE rollout = ?1 AND device = ?2");
    if (!st)
        return FLEET_ERR;
    sqlite3_bind_int64(st, 1, rollout);
    sqlite3_bind_text(st, 2, device, -1, SQLITE_TRANSIENT);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW)
        read_member(st, out);
    sqlite3_reset(st);
    if (r == SQLITE_ROW)
        return 0;
    return r == SQLITE_DONE ? FLEET_NOT_FOUND : fail(s, "reading a rollout member failed");
}

static int sq_member_put(struct fleet_store *b, const struct fleet_member *m)
{
    struct sqlite_store *s = S(b);
    sqlite3_stmt *st = stmt(s, "INSERT OR REPLACE INTO members(" MEMBER_COLS ")"
                               " VALUES (?1,?2,?3,?4,?5,?6,?7,?8)");
    if (!st)
        return FLEET_ERR;
    sqlite3_bind_int64(st, 1, m->rollout_id);
    sqlite3_bind_text(st, 2, m->device_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 3, m->state);
    sqlite3_bind_int64(st, 4, m->wave);
    sqlite3_bind_int64(st, 5, m->offered);
    sqlite3_bind_int64(st, 6, m->decided);
    sqlite3_bind_text(st, 7, m->prior_outcome, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 8, m->outcome, -1, SQLITE_TRANSIENT);
    return step_done(s, st, "storing a rollout member");
}

static int member_rows(struct sqlite_store *s, sqlite3_stmt *st,
                       int (*cb)(void *, const struct fleet_member *), void *ctx)
{
    struct fleet_member *rows = NULL;
    long n = collect_rows(s, st, sizeof *rows, read_member_row, "reading rollout members",
                          (void **)&rows);
    int rc = n < 0 ? FLEET_ERR : 0;
    for (long i = 0; i < n && !rc; i++)
        rc = cb(ctx, &rows[i]);
    free(rows);
    return rc < 0 ? rc : 0;
}

static int sq_member_pending(struct fleet_store *b, const char *device,
                             int (*cb)(void *, const struct fleet_member *), void *ctx)
{
    struct sqlite_store *s = S(b);
    sqlite3_stmt *st = stmt(s, "SELECT " MEMBER_COLS " FROM members"
                               " WHERE device = ?1 AND state = 0 ORDER BY rollout");
    if (!st)
        return FLEET_ERR;
    sqlite3_bind_text(st, 1, device, -1, SQLITE_TRANSIENT);
    return member_rows(s, st, cb, ctx);
}

static int sq_member_list(struct fleet_store *b, int64_t rollout,
                          int (*cb)(void *, const struct fleet_member *), void *ctx)
{
    struct sqlite_store *s = S(b);
    sqlite3_stmt *st = stmt(s, "SELECT " MEMBER_COLS " FROM members WHERE rollout = ?1"
                               " ORDER BY offered, device");
    if (!st)
        return FLEET_ERR;
    sqlite3_bind_int64(st, 1, rollout);
    return member_rows(s, st, cb, ctx);
}

static int sq_member_counts(struct fleet_store *b, int64_t rollout, struct fleet_counts *out)
{
    struct sqlite_store *s = S(b);
    sqlite3_stmt *st = stmt(s, "SELECT state, count(*) FROM members WHERE rollout = ?1"
                               " GROUP BY state");
    if (!st)
        return FLEET_ERR;
    sqlite3_bind_int64(st, 1, rollout);
    memset(out, 0, sizeof *out);
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        uint32_t n = (uint32_t)sqlite3_column_int64(st, 1);
        switch (sqlite3_column_int(st, 0)) {
        case MEMBER_OFFERED: out->offered = n; break;
        case MEMBER_SUCCEEDED: out->succeeded = n; break;
        case MEMBER_FAILED: out->failed = n; break;
        default: break;
        }
    }
    sqlite3_reset(st);
    return r == SQLITE_DONE ? 0 : fail(s, "counting rollout members failed");
}

static int sq_offered_since(struct fleet_store *b, int64_t rollout, int64_t since, uint32_t *out)
{
    struct sqlite_store *s = S(b);
    sqlite3_stmt *st =
        stmt(s, "SELECT count(*) FROM members WHERE rollout = ?1 AND offered >= ?2");
    if (!st)
        return FLEET_ERR;
    sqlite3_bind_int64(st, 1, rollout);
    sqlite3_bind_int64(st, 2, since);
    int r = sqlite3_step(st);
    *out = r == SQLITE_ROW ? (uint32_t)sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return r == SQLITE_ROW ? 0 : fail(s, "counting recent offers failed");
}

/* The devices a rollout targets, with their rotated bucket as `rb`. */
#define TARGETED                                                                             \
    " FROM (SELECT (bucket + ?2) % 1000000 AS rb FROM devices d"                             \
    " WHERE d.product = ?1 AND d.channel = ?3 AND d.pinned_release = 0"                      \
    " AND (?4 = '' OR EXISTS (SELECT 1 FROM group_members g WHERE g.device = d.id"           \
    " AND instr(',' || ?4 || ',', ',' || g.grp || ',') > 0)))"

static void bind_target(sqlite3_stmt *st, const struct fleet_rollout *r)
{
    sqlite3_bind_text(st, 1, r->product, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, r->offset);
    sqlite3_bind_text(st, 3, r->channel, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, r->groups, -1, SQLITE_TRANSIENT);
}

static int sq_targeted_count(struct fleet_store *b, const struct fleet_rollout *r,
                             uint32_t threshold, uint32_t *out)
{
    struct sqlite_store *s = S(b);
    sqlite3_stmt *st = stmt(s, "SELECT count(*)" TARGETED " WHERE rb < ?5");
    if (!st)
        return FLEET_ERR;
    bind_target(st, r);
    sqlite3_bind_int64(st, 5, threshold);
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? (uint32_t)sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : fail(s, "counting targeted devices failed");
}

static int sq_bucket_at_rank(struct fleet_store *b, const struct fleet_rollout *r, uint32_t rank,
                             uint32_t *threshold)
{
    struct sqlite_store *s = S(b);
    sqlite3_stmt *st = stmt(s, "SELECT rb" TARGETED " ORDER BY rb LIMIT 1 OFFSET ?5");
    if (!st)
        return FLEET_ERR;
    bind_target(st, r);
    sqlite3_bind_int64(st, 5, rank ? rank - 1 : 0);
    int rc = sqlite3_step(st);
    /* fewer devices than `rank`: every one of them */
    *threshold = rc == SQLITE_ROW ? (uint32_t)sqlite3_column_int64(st, 0) + 1 : FLEET_BUCKETS;
    sqlite3_reset(st);
    if (rc == SQLITE_ROW && rank == 0)
        *threshold = 0;
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : fail(s, "ranking devices failed");
}

/* ---- Version history ------------------------------------------------------------- */

static int sq_version_log(struct fleet_store *b, const struct fleet_version_change *c)
{
    struct sqlite_store *s = S(b);
    sqlite3_stmt *st = stmt(s, "INSERT INTO version_log(product, at, device, prev_code, code,"
                               " version) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    if (!st)
        return FLEET_ERR;
    sqlite3_bind_text(st, 1, c->product, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, c->at);
    sqlite3_bind_text(st, 3, c->device, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, c->prev_code);
    sqlite3_bind_int64(st, 5, c->code);
    sqlite3_bind_text(st, 6, c->version, -1, SQLITE_TRANSIENT);
    return step_done(s, st, "recording a version change");
}

static int sq_version_history(struct fleet_store *b, const char *product,
                              int (*cb)(void *, const struct fleet_version_change *), void *ctx)
{
    struct sqlite_store *s = S(b);
    sqlite3_stmt *st = stmt(s, "SELECT product, at, device, prev_code, code, version"
                               " FROM version_log WHERE ?1 = '' OR product = ?1"
                               " ORDER BY at, rowid");
    if (!st)
        return FLEET_ERR;
    sqlite3_bind_text(st, 1, product, -1, SQLITE_TRANSIENT);
    int r;
    struct fleet_version_change c;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        memset(&c, 0, sizeof c);
        text(st, 0, c.product, sizeof c.product);
        c.at = sqlite3_column_int64(st, 1);
        text(st, 2, c.device, sizeof c.device);
        c.prev_code = sqlite3_column_int64(st, 3);
        c.code = (uint32_t)sqlite3_column_int64(st, 4);
        text(st, 5, c.version, sizeof c.version);
        if (cb(ctx, &c))
            break;
    }
    sqlite3_reset(st);
    return r == SQLITE_ROW || r == SQLITE_DONE ? 0 : fail(s, "reading the version history failed");
}

/* ---- Tokens ------------------------------------------------------------------------ */

static int sq_token_add(struct fleet_store *b, const char *name, const uint8_t hash[32])
{
    struct sqlite_store *s = S(b);
    sqlite3_stmt *st = stmt(s, "INSERT INTO tokens(name, hash) VALUES (?1, ?2)");
    if (!st)
        return FLEET_ERR;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_blob(st, 2, hash, 32, SQLITE_TRANSIENT);
    return step_done(s, st, "storing a token");
}

static int sq_token_hashes(struct fleet_store *b, int (*cb)(void *, const uint8_t[32]), void *ctx)
{
    struct sqlite_store *s = S(b);
    sqlite3_stmt *st = stmt(s, "SELECT hash FROM tokens");
    if (!st)
        return FLEET_ERR;
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW)
        if (sqlite3_column_bytes(st, 0) == 32)
            cb(ctx, sqlite3_column_blob(st, 0)); /* all of them, no early stop */
    sqlite3_reset(st);
    return r == SQLITE_DONE ? 0 : fail(s, "reading tokens failed");
}

/* ---- Open, migrate, close ------------------------------------------------------------ */

static void sq_close(struct fleet_store *b)
{
    struct sqlite_store *s = S(b);
    for (int i = 0; i < STMT_CACHE; i++)
        if (s->cache[i].st)
            sqlite3_finalize(s->cache[i].st);
    sqlite3_close(s->db);
    free(s);
}

static const struct fleet_store_ops sqlite_ops = {
    sq_close,          sq_begin,        sq_commit,          sq_rollback,
    sq_device_get,     sq_device_put,   sq_device_list,     sq_device_groups,
    sq_group_set,      sq_group_list,   sq_in_groups,       sq_release_add,
    sq_release_get,    sq_release_by_code, sq_release_list, sq_rollout_put,
    sq_rollout_get,    sq_rollout_list, sq_rollout_log,     sq_rollout_history,
    sq_member_get,     sq_member_put,   sq_member_pending,  sq_member_counts,
    sq_member_list,    sq_offered_since, sq_targeted_count, sq_bucket_at_rank,
    sq_token_add,      sq_token_hashes, sq_version_log,     sq_version_history,
};

static int migrate(struct sqlite_store *s, const char *path)
{
    sqlite3_stmt *st = NULL;
    int version = -1;
    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (version < 0)
        return fail(s, "reading the schema version of %s failed", path);
    if (version > SCHEMA_VERSION) {
        snprintf(s->base.error, sizeof s->base.error,
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
            char why[sizeof s->base.error];
            snprintf(why, sizeof why, "%s", s->base.error);
            exec(s, "ROLLBACK", "rolling back a migration");
            snprintf(s->base.error, sizeof s->base.error, "%.60s: schema %d -> %d: %.150s", path,
                     version, version + 1, why);
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
    s->base.ops = &sqlite_ops;
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                          SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
        snprintf(err, err_size, "cannot open the fleet database %s: %s", path,
                 s->db ? sqlite3_errmsg(s->db) : "out of memory");
        sqlite3_close(s->db);
        free(s);
        return NULL;
    }
    sqlite3_busy_timeout(s->db, 5000);
    sqlite3_stmt *st = NULL;
    int wal = 0;
    if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        wal = strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
    sqlite3_finalize(st);
    if (!wal || exec(s, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON",
                     "setting up the database") < 0 ||
        migrate(s, path) < 0) {
        snprintf(err, err_size, "%s%s", wal ? "" : "cannot switch the database to WAL: ",
                 wal ? s->base.error : path);
        sq_close(&s->base);
        return NULL;
    }
    return &s->base;
}
