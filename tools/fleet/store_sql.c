/*
 * The fleet store's operations on SQL, for every driver (store_sql.h).
 *
 * Records travel through column tables: one row per stored field, giving
 * its column name, its type and where it is in the struct. The queries'
 * column lists and upserts are generated from the same tables, so a field
 * is named once. Rows are collected before any caller callback runs (a
 * callback may run other queries on the same connection).
 */
#define _POSIX_C_SOURCE 200809L
#include "store_sql.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Column tables -------------------------------------------------------------- */

enum col_type { COL_TEXT, COL_U32, COL_I32, COL_I64, COL_INT, COL_WAVES };

struct col {
    const char *name;
    unsigned char type;
    unsigned short off, size;
};

struct table {
    const char *name;
    const char *key;        /* the conflict target of the upsert */
    const struct col *cols;
    size_t n;
};

#define C(T, type, f, name) {name, type, (unsigned short)offsetof(T, f), (unsigned short)sizeof(((T *)0)->f)}

static const struct col device_cols[] = {
    C(struct fleet_device, COL_TEXT, id, "id"),
    C(struct fleet_device, COL_TEXT, product, "product"),
    C(struct fleet_device, COL_TEXT, channel, "channel"),
    C(struct fleet_device, COL_TEXT, protocol, "protocol"),
    C(struct fleet_device, COL_TEXT, version, "version"),
    C(struct fleet_device, COL_U32, version_code, "version_code"),
    C(struct fleet_device, COL_U32, sequence, "sequence"),
    C(struct fleet_device, COL_TEXT, image, "image"),
    C(struct fleet_device, COL_TEXT, last_event, "last_event"),
    C(struct fleet_device, COL_I32, last_error, "last_error"),
    C(struct fleet_device, COL_U32, last_version, "last_version"),
    C(struct fleet_device, COL_TEXT, address, "address"),
    C(struct fleet_device, COL_I64, first_seen, "first_seen"),
    C(struct fleet_device, COL_I64, last_seen, "last_seen"),
    C(struct fleet_device, COL_I64, pinned_release, "pinned_release"),
    C(struct fleet_device, COL_U32, bucket, "bucket"),
    C(struct fleet_device, COL_U32, offered_sequence, "offered_sequence"),
    C(struct fleet_device, COL_TEXT, decision, "decision"),
    C(struct fleet_device, COL_I64, checkins, "checkins"),
};

static const struct col release_cols[] = {
    C(struct fleet_release, COL_I64, id, "id"),
    C(struct fleet_release, COL_TEXT, product, "product"),
    C(struct fleet_release, COL_TEXT, version, "version"),
    C(struct fleet_release, COL_U32, version_code, "version_code"),
    C(struct fleet_release, COL_U32, sequence, "sequence"),
    C(struct fleet_release, COL_U32, security_counter, "security_counter"),
    C(struct fleet_release, COL_U32, size, "size"),
    C(struct fleet_release, COL_TEXT, sha256, "sha256"),
    C(struct fleet_release, COL_TEXT, manifest, "manifest"),
    C(struct fleet_release, COL_I64, created, "created"),
};

static const struct col rollout_cols[] = {
    C(struct fleet_rollout, COL_I64, id, "id"),
    C(struct fleet_rollout, COL_I64, release_id, "release_id"),
    C(struct fleet_rollout, COL_TEXT, product, "product"),
    C(struct fleet_rollout, COL_TEXT, channel, "channel"),
    C(struct fleet_rollout, COL_TEXT, groups, "groups"),
    C(struct fleet_rollout, COL_INT, state, "state"),
    C(struct fleet_rollout, COL_U32, wave, "wave"),
    C(struct fleet_rollout, COL_WAVES, waves, "waves"),
    C(struct fleet_rollout, COL_U32, offset, "bucket_offset"),
    C(struct fleet_rollout, COL_U32, success_pct, "success_pct"),
    C(struct fleet_rollout, COL_U32, failure_pct, "failure_pct"),
    C(struct fleet_rollout, COL_U32, min_sample, "min_sample"),
    C(struct fleet_rollout, COL_U32, per_minute, "per_minute"),
    C(struct fleet_rollout, COL_U32, ack_failed, "ack_failed"),
    C(struct fleet_rollout, COL_U32, ack_reported, "ack_reported"),
    C(struct fleet_rollout, COL_TEXT, reason, "reason"),
    C(struct fleet_rollout, COL_I64, created, "created"),
    C(struct fleet_rollout, COL_I64, updated, "updated"),
};

static const struct col member_cols[] = {
    C(struct fleet_member, COL_I64, rollout_id, "rollout"),
    C(struct fleet_member, COL_TEXT, device_id, "device"),
    C(struct fleet_member, COL_INT, state, "state"),
    C(struct fleet_member, COL_U32, wave, "wave"),
    C(struct fleet_member, COL_I64, offered, "offered"),
    C(struct fleet_member, COL_I64, decided, "decided"),
    C(struct fleet_member, COL_TEXT, prior_outcome, "prior_outcome"),
    C(struct fleet_member, COL_TEXT, outcome, "outcome"),
};

#define N(a) (sizeof a / sizeof a[0])
enum { T_DEVICE, T_RELEASE, T_ROLLOUT, T_MEMBER, T_NONE };
static const struct table tables[] = {
    {"devices", "id", device_cols, N(device_cols)},
    {"releases", "id", release_cols, N(release_cols)},
    {"rollouts", "id", rollout_cols, N(rollout_cols)},
    {"members", "rollout, device", member_cols, N(member_cols)},
};

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

#define WAVES_TEXT_MAX (FLEET_WAVES_MAX * 48)

/* The parameters $first.. of a record's columns, from column `from` on. */
static size_t record_params(const struct table *t, size_t from, const void *rec,
                            struct sql_param *p, char *waves, size_t waves_size)
{
    const unsigned char *b = rec;
    size_t n = 0;
    for (size_t i = from; i < t->n; i++, n++) {
        const struct col *c = &t->cols[i];
        const void *f = b + c->off;
        memset(&p[n], 0, sizeof p[n]);
        p[n].type = SQLP_INT;
        switch (c->type) {
        case COL_TEXT: p[n].type = SQLP_TEXT; p[n].text = f; break;
        case COL_U32: p[n].num = *(const uint32_t *)f; break;
        case COL_I32: p[n].num = *(const int32_t *)f; break;
        case COL_I64: p[n].num = *(const int64_t *)f; break;
        case COL_INT: p[n].num = *(const int *)f; break;
        default: /* COL_WAVES */
            waves_text(rec, waves, waves_size);
            p[n].type = SQLP_TEXT;
            p[n].text = waves;
            break;
        }
    }
    return n;
}

static void read_record(struct sql_store *s, const struct table *t, void *row, void *rec)
{
    unsigned char *b = rec;
    for (size_t i = 0; i < t->n; i++) {
        const struct col *c = &t->cols[i];
        void *f = b + c->off;
        int64_t v = c->type == COL_TEXT || c->type == COL_WAVES ? 0 : s->drv->integer(row, (int)i);
        switch (c->type) {
        case COL_TEXT: snprintf(f, c->size, "%s", s->drv->text(row, (int)i)); break;
        case COL_U32: *(uint32_t *)f = (uint32_t)v; break;
        case COL_I32: *(int32_t *)f = (int32_t)v; break;
        case COL_I64: *(int64_t *)f = v; break;
        case COL_INT: *(int *)f = (int)v; break;
        default: waves_parse(s->drv->text(row, (int)i), rec); break;
        }
    }
}

static struct sql_param txt(const char *t)
{
    struct sql_param p = {SQLP_TEXT, t, 0, NULL, 0};
    return p;
}

static struct sql_param num(int64_t v)
{
    struct sql_param p = {SQLP_INT, NULL, v, NULL, 0};
    return p;
}

/* ---- The queries ------------------------------------------------------------------ */

/* "%C" in a template is the column list of its table. */
static const struct {
    int table;
    const char *tmpl;
} queries[Q_COUNT] = {
    [Q_DEVICE_GET] = {T_DEVICE, "SELECT %C FROM devices WHERE id = $1"},
    [Q_DEVICE_PUT] = {T_DEVICE, NULL}, /* generated upsert */
    [Q_DEVICE_ADD] = {T_DEVICE, NULL}, /* generated: insert unless it exists */
    [Q_DEVICE_LIST] = {T_DEVICE, "SELECT %C FROM devices WHERE CAST($1 AS TEXT) = '' OR product = $1"
                                 " ORDER BY id"},
    [Q_DEVICE_GROUPS] = {T_NONE, "SELECT grp FROM group_members WHERE device = $1 ORDER BY grp"},
    [Q_GROUP_ADD] = {T_NONE, "INSERT INTO group_members(grp, device) VALUES ($1, $2)"
                             " ON CONFLICT DO NOTHING"},
    [Q_GROUP_DEL] = {T_NONE, "DELETE FROM group_members WHERE grp = $1 AND device = $2"},
    [Q_GROUP_LIST] = {T_NONE, "SELECT grp, count(*) FROM group_members GROUP BY grp ORDER BY grp"},
    /* groups as a comma-separated list: ",a,b," contains ",grp," */
    [Q_IN_GROUPS] = {T_NONE, "SELECT 1 FROM group_members WHERE device = $1 AND"
                             " strpos(',' || CAST($2 AS TEXT) || ',', ',' || grp || ',') > 0 LIMIT 1"},
    [Q_RELEASE_ADD] = {T_NONE, "INSERT INTO releases(product, version, version_code, sequence,"
                               " security_counter, size, sha256, manifest, created)"
                               " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id"},
    [Q_RELEASE_GET] = {T_RELEASE, "SELECT %C FROM releases WHERE id = $1"},
    [Q_RELEASE_BY_CODE] = {T_RELEASE, "SELECT %C FROM releases WHERE product = $1 AND"
                                      " version_code = $2 ORDER BY sequence DESC LIMIT 1"},
    [Q_RELEASE_LIST] = {T_RELEASE, "SELECT %C FROM releases ORDER BY id"},
    [Q_ROLLOUT_INSERT] = {T_ROLLOUT, NULL}, /* generated: every column but id */
    [Q_ROLLOUT_UPDATE] = {T_ROLLOUT, NULL}, /* generated upsert */
    [Q_ROLLOUT_GET] = {T_ROLLOUT, "SELECT %C FROM rollouts WHERE id = $1"},
    [Q_ROLLOUT_LIST] = {T_ROLLOUT, "SELECT %C FROM rollouts WHERE CAST($1 AS TEXT) = ''"
                                   " OR product = $1 ORDER BY id DESC"},
    [Q_LOG_ADD] = {T_NONE, "INSERT INTO rollout_log(rollout, at, text) VALUES ($1, $2, $3)"},
    /* rowid: SQLite's own; a column of that name in PostgreSQL */
    [Q_LOG_LIST] = {T_NONE, "SELECT at, text FROM rollout_log WHERE rollout = $1 ORDER BY at, rowid"},
    [Q_MEMBER_GET] = {T_MEMBER, "SELECT %C FROM members WHERE rollout = $1 AND device = $2"},
    [Q_MEMBER_PUT] = {T_MEMBER, NULL}, /* generated upsert */
    [Q_DEVICE_MEMBERS] = {T_MEMBER, "SELECT %C FROM members WHERE device = $1 ORDER BY rollout"},
    [Q_MEMBER_LIST] = {T_MEMBER, "SELECT %C FROM members WHERE rollout = $1 ORDER BY offered, device"},
    [Q_MEMBER_COUNTS] = {T_NONE, "SELECT state, count(*) FROM members WHERE rollout = $1"
                                 " GROUP BY state"},
    [Q_OFFERED_SINCE] = {T_NONE, "SELECT count(*) FROM members WHERE rollout = $1 AND offered >= $2"},
    /* The devices a rollout targets, with their rotated bucket as rb:
     * $1 product, $2 offset, $3 channel, $4 groups, $5 bound or rank. */
    [Q_TARGETED_COUNT] = {T_NONE, "SELECT count(*) FROM (SELECT (bucket + $2) % 1000000 AS rb"
                          " FROM devices d WHERE d.product = $1 AND d.channel = $3 AND"
                          " d.pinned_release = 0 AND (CAST($4 AS TEXT) = '' OR EXISTS (SELECT 1"
                          " FROM group_members g WHERE g.device = d.id AND strpos(',' ||"
                          " CAST($4 AS TEXT) || ',', ',' || g.grp || ',') > 0))) t WHERE rb < $5"},
    [Q_BUCKET_AT_RANK] = {T_NONE, "SELECT rb FROM (SELECT (bucket + $2) % 1000000 AS rb"
                          " FROM devices d WHERE d.product = $1 AND d.channel = $3 AND"
                          " d.pinned_release = 0 AND (CAST($4 AS TEXT) = '' OR EXISTS (SELECT 1"
                          " FROM group_members g WHERE g.device = d.id AND strpos(',' ||"
                          " CAST($4 AS TEXT) || ',', ',' || g.grp || ',') > 0))) t"
                          " ORDER BY rb LIMIT 1 OFFSET $5"},
    [Q_TOKEN_ADD] = {T_NONE, "INSERT INTO tokens(name, hash) VALUES ($1, $2)"},
    [Q_TOKEN_LIST] = {T_NONE, "SELECT hash FROM tokens"},
    [Q_VERSION_ADD] = {T_NONE, "INSERT INTO version_log(product, at, device, prev_code, code,"
                               " version) VALUES ($1, $2, $3, $4, $5, $6)"},
    /* rowid: SQLite's own; a column of that name in PostgreSQL */
    [Q_VERSION_LIST] = {T_NONE, "SELECT product, at, device, prev_code, code, version"
                                " FROM version_log WHERE CAST($1 AS TEXT) = '' OR product = $1"
                                " ORDER BY at, rowid"},
    /* the row, locked until the transaction ends (store.h: device_lock, rollout_lock) */
    [Q_DEVICE_LOCK] = {T_DEVICE, "SELECT %C FROM devices WHERE id = $1 FOR UPDATE"},
    [Q_ROLLOUT_LOCK] = {T_ROLLOUT, "SELECT %C FROM rollouts WHERE id = $1 FOR UPDATE"},
};

static size_t put(char *out, size_t n, const char *fmt, const char *a)
{
    int w = snprintf(out + n, n < SQL_TEXT_MAX ? SQL_TEXT_MAX - n : 0, fmt, a);
    return n + (w > 0 ? (size_t)w : 0);
}

/* INSERT (columns from `from`) ...: upsert > 0 ON CONFLICT (key) DO UPDATE SET
 * c = excluded.c ...; upsert < 0 ON CONFLICT DO NOTHING; 0 RETURNING id */
static size_t gen_upsert(const struct table *t, size_t from, int upsert, char *out)
{
    size_t n = put(out, 0, "INSERT INTO %s(", t->name);
    for (size_t i = from; i < t->n; i++)
        n = put(out, n, i > from ? ", %s" : "%s", t->cols[i].name);
    n = put(out, n, "%s", ") VALUES (");
    for (size_t i = from; i < t->n; i++) {
        char v[8];
        snprintf(v, sizeof v, "$%u", (unsigned)(i - from + 1));
        n = put(out, n, i > from ? ", %s" : "%s", v);
    }
    n = put(out, n, "%s", ")");
    if (upsert < 0)
        return put(out, n, " ON CONFLICT (%s) DO NOTHING", t->key);
    if (!upsert)
        return put(out, n, "%s", " RETURNING id");
    n = put(out, n, " ON CONFLICT (%s) DO UPDATE SET ", t->key);
    for (size_t i = 1; i < t->n; i++) {
        n = put(out, n, i > 1 ? ", %s" : "%s", t->cols[i].name);
        n = put(out, n, " = excluded.%s", t->cols[i].name);
    }
    return n;
}

static size_t gen_query(int q, char *out)
{
    const struct table *t = queries[q].table == T_NONE ? NULL : &tables[queries[q].table];
    if (!queries[q].tmpl)
        return gen_upsert(t, q == Q_ROLLOUT_INSERT ? 1 : 0,
                          q == Q_DEVICE_ADD ? -1 : q != Q_ROLLOUT_INSERT, out);
    size_t n = 0;
    for (const char *p = queries[q].tmpl; *p; p++) {
        if (p[0] == '%' && p[1] == 'C' && t) {
            for (size_t i = 0; i < t->n; i++)
                n = put(out, n, i ? ", %s" : "%s", t->cols[i].name);
            p++;
        } else if (n + 1 < SQL_TEXT_MAX) {
            out[n++] = *p;
            out[n] = 0;
        }
    }
    return n;
}

int sql_store_fail(struct sql_store *s, const char *what, const char *detail)
{
    snprintf(s->base.error, sizeof s->base.error, "%s failed: %s", what, detail);
    return FLEET_ERR;
}

/* ---- Running queries ----------------------------------------------------------------- */

/* Rows of one record type collected into a malloc'd array. */
struct rows {
    const struct table *t;
    size_t size, n, cap, limit;
    unsigned char *data;
    int oom;
};

static int collect_row(void *ctx, struct sql_store *s, void *row)
{
    struct rows *r = ctx;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        unsigned char *more = realloc(r->data, cap * r->size);
        if (!more) {
            r->oom = 1;
            return 1;
        }
        r->data = more;
        r->cap = cap;
    }
    void *rec = r->data + r->n++ * r->size;
    memset(rec, 0, r->size);
    read_record(s, r->t, row, rec);
    return r->limit && r->n >= r->limit;
}

static int run_rows(struct sql_store *s, enum sql_query q, const struct sql_param *p, size_t n,
                    size_t size, size_t limit, struct rows *out, const char *what)
{
    memset(out, 0, sizeof *out);
    out->t = &tables[queries[q].table];
    out->size = size;
    out->limit = limit;
    s->base.duplicate = 0; /* conflict stays set until the next begin */
    if (s->drv->query(s, q, p, n, collect_row, out) < 0) {
        free(out->data);
        out->data = NULL;
        return FLEET_ERR;
    }
    if (out->oom) {
        free(out->data);
        out->data = NULL;
        return sql_store_fail(s, what, "out of memory");
    }
    return 0;
}

/* One record: 0, FLEET_NOT_FOUND or FLEET_ERR. */
static int one(struct sql_store *s, enum sql_query q, const struct sql_param *p, size_t n,
               void *out, size_t size, const char *what)
{
    struct rows r;
    if (run_rows(s, q, p, n, size, 1, &r, what) < 0)
        return FLEET_ERR;
    int found = r.n > 0;
    if (found)
        memcpy(out, r.data, size);
    free(r.data);
    return found ? 0 : FLEET_NOT_FOUND;
}

/* Every record, then the callback for each (non-zero stops). */
static int each(struct sql_store *s, enum sql_query q, const struct sql_param *p, size_t n,
                size_t size, int (*cb)(void *ctx, const void *rec), void *ctx, const char *what)
{
    struct rows r;
    if (run_rows(s, q, p, n, size, 0, &r, what) < 0)
        return FLEET_ERR;
    int rc = 0;
    for (size_t i = 0; i < r.n && !rc; i++)
        rc = cb(ctx, r.data + i * size);
    free(r.data);
    return rc < 0 ? rc : 0;
}

static int exec(struct sql_store *s, enum sql_query q, const struct sql_param *p, size_t n)
{
    s->base.duplicate = 0; /* conflict stays set until the next begin */
    return s->drv->query(s, q, p, n, NULL, NULL);
}

/* The integers of the first row's columns 0 and 1 (a count, an id). */
struct ints {
    int64_t v[2];
    int rows;
};

static int int_row(void *ctx, struct sql_store *s, void *row)
{
    struct ints *r = ctx;
    r->v[0] = s->drv->integer(row, 0);
    r->rows++;
    return 1;
}

static int ints(struct sql_store *s, enum sql_query q, const struct sql_param *p, size_t n,
                struct ints *out)
{
    memset(out, 0, sizeof *out);
    s->base.duplicate = 0; /* conflict stays set until the next begin */
    return s->drv->query(s, q, p, n, int_row, out);
}

static struct sql_store *S(struct fleet_store *b)
{
    return (struct sql_store *)b;
}

/* ---- Operations -------------------------------------------------------------------- */

static int op_begin(struct fleet_store *b, int read_only)
{
    b->conflict = b->duplicate = 0;
    return S(b)->drv->begin(S(b), read_only);
}

static int op_commit(struct fleet_store *b)
{
    b->duplicate = 0;
    return S(b)->drv->commit(S(b));
}

static int op_rollback(struct fleet_store *b)
{
    return S(b)->drv->rollback(S(b));
}

static void op_close(struct fleet_store *b)
{
    S(b)->drv->close(S(b));
}

static int op_device_get(struct fleet_store *b, const char *id, struct fleet_device *out)
{
    struct sql_param p[1] = {txt(id)};
    return one(S(b), Q_DEVICE_GET, p, 1, out, sizeof *out, "reading a device");
}

static int op_device_lock(struct fleet_store *b, const char *id, struct fleet_device *out)
{
    struct sql_param p[1] = {txt(id)};
    return one(S(b), Q_DEVICE_LOCK, p, 1, out, sizeof *out, "locking a device");
}

static int op_device_put(struct fleet_store *b, const struct fleet_device *d)
{
    struct sql_param p[SQL_PARAMS_MAX];
    size_t n = record_params(&tables[T_DEVICE], 0, d, p, NULL, 0);
    return exec(S(b), Q_DEVICE_PUT, p, n);
}

static int op_device_add(struct fleet_store *b, const struct fleet_device *d)
{
    struct sql_param p[SQL_PARAMS_MAX];
    size_t n = record_params(&tables[T_DEVICE], 0, d, p, NULL, 0);
    return exec(S(b), Q_DEVICE_ADD, p, n);
}

static int op_device_list(struct fleet_store *b, const char *product,
                          int (*cb)(void *, const struct fleet_device *), void *ctx)
{
    struct sql_param p[1] = {txt(product)};
    return each(S(b), Q_DEVICE_LIST, p, 1, sizeof(struct fleet_device),
                (int (*)(void *, const void *))cb, ctx, "listing devices");
}

/* Text rows (group names, log lines) with an integer beside them. */
struct texts {
    int (*cb)(void *ctx, int64_t v, const char *t);
    void *ctx;
    int text_col, int_col;
    int stopped;
};

static int text_row(void *ctx, struct sql_store *s, void *row)
{
    struct texts *t = ctx;
    int64_t v = t->int_col >= 0 ? s->drv->integer(row, t->int_col) : 0;
    t->stopped = t->cb(t->ctx, v, s->drv->text(row, t->text_col));
    return t->stopped;
}

struct join {
    char *out;
    size_t size, n;
};

static int join_cb(void *ctx, int64_t v, const char *t)
{
    (void)v;
    struct join *j = ctx;
    j->n += (size_t)snprintf(j->out + j->n, j->n < j->size ? j->size - j->n : 0, "%s%s",
                             j->n ? "," : "", t);
    return 0;
}

static int op_device_groups(struct fleet_store *b, const char *id, char *out, size_t size)
{
    struct join j = {out, size, 0};
    struct texts t = {join_cb, &j, 0, -1, 0};
    struct sql_param p[1] = {txt(id)};
    out[0] = 0;
    return S(b)->drv->query(S(b), Q_DEVICE_GROUPS, p, 1, text_row, &t);
}

static int op_group_set(struct fleet_store *b, const char *group, const char *device, int member)
{
    struct sql_param p[2] = {txt(group), txt(device)};
    return exec(S(b), member ? Q_GROUP_ADD : Q_GROUP_DEL, p, 2);
}

struct group_cb {
    int (*cb)(void *, const char *, uint32_t);
    void *ctx;
};

static int group_adapt(void *ctx, int64_t v, const char *t)
{
    struct group_cb *g = ctx;
    return g->cb(g->ctx, t, (uint32_t)v);
}

/* Callbacks here read no other query (the groups list is read in one go). */
static int op_group_list(struct fleet_store *b, int (*cb)(void *, const char *, uint32_t),
                         void *ctx)
{
    struct group_cb g = {cb, ctx};
    struct texts t = {group_adapt, &g, 0, 1, 0};
    return S(b)->drv->query(S(b), Q_GROUP_LIST, NULL, 0, text_row, &t);
}

static int op_in_groups(struct fleet_store *b, const char *device, const char *groups)
{
    struct sql_param p[2] = {txt(device), txt(groups)};
    struct ints r;
    if (ints(S(b), Q_IN_GROUPS, p, 2, &r) < 0)
        return FLEET_ERR;
    return r.rows > 0;
}

static int op_release_add(struct fleet_store *b, struct fleet_release *r)
{
    struct sql_param p[SQL_PARAMS_MAX];
    /* every column but id, up to created (in the order of release_cols) */
    size_t n = record_params(&tables[T_RELEASE], 1, r, p, NULL, 0);
    struct ints id;
    if (ints(S(b), Q_RELEASE_ADD, p, n, &id) < 0) {
        if (b->duplicate)
            snprintf(b->error, sizeof b->error,
                     "product %s already has a release with sequence %u", r->product,
                     (unsigned)r->sequence);
        return FLEET_ERR;
    }
    r->id = id.v[0];
    return 0;
}

static int op_release_get(struct fleet_store *b, int64_t id, struct fleet_release *out)
{
    struct sql_param p[1] = {num(id)};
    return one(S(b), Q_RELEASE_GET, p, 1, out, sizeof *out, "reading a release");
}

static int op_release_by_code(struct fleet_store *b, const char *product, uint32_t code,
                              struct fleet_release *out)
{
    struct sql_param p[2] = {txt(product), num(code)};
    return one(S(b), Q_RELEASE_BY_CODE, p, 2, out, sizeof *out, "reading a release");
}

static int op_release_list(struct fleet_store *b, int (*cb)(void *, const struct fleet_release *),
                           void *ctx)
{
    return each(S(b), Q_RELEASE_LIST, NULL, 0, sizeof(struct fleet_release),
                (int (*)(void *, const void *))cb, ctx, "listing releases");
}

static int op_rollout_put(struct fleet_store *b, struct fleet_rollout *r)
{
    struct sql_param p[SQL_PARAMS_MAX];
    char waves[WAVES_TEXT_MAX];
    if (r->id) {
        size_t n = record_params(&tables[T_ROLLOUT], 0, r, p, waves, sizeof waves);
        return exec(S(b), Q_ROLLOUT_UPDATE, p, n);
    }
    size_t n = record_params(&tables[T_ROLLOUT], 1, r, p, waves, sizeof waves);
    struct ints id;
    if (ints(S(b), Q_ROLLOUT_INSERT, p, n, &id) < 0) {
        if (b->duplicate) /* the unique index rollouts_active (schema 5) */
            snprintf(b->error, sizeof b->error,
                     "another rollout of %s on channel %s is running or paused", r->product,
                     r->channel);
        return FLEET_ERR;
    }
    r->id = id.v[0];
    return 0;
}

static int op_rollout_get(struct fleet_store *b, int64_t id, struct fleet_rollout *out)
{
    struct sql_param p[1] = {num(id)};
    return one(S(b), Q_ROLLOUT_GET, p, 1, out, sizeof *out, "reading a rollout");
}

static int op_rollout_lock(struct fleet_store *b, int64_t id, struct fleet_rollout *out)
{
    struct sql_param p[1] = {num(id)};
    return one(S(b), Q_ROLLOUT_LOCK, p, 1, out, sizeof *out, "locking a rollout");
}

static int op_rollout_list(struct fleet_store *b, const char *product,
                           int (*cb)(void *, const struct fleet_rollout *), void *ctx)
{
    struct sql_param p[1] = {txt(product)};
    return each(S(b), Q_ROLLOUT_LIST, p, 1, sizeof(struct fleet_rollout),
                (int (*)(void *, const void *))cb, ctx, "listing rollouts");
}

static int op_rollout_log(struct fleet_store *b, int64_t rollout, int64_t at, const char *text)
{
    struct sql_param p[3] = {num(rollout), num(at), txt(text)};
    return exec(S(b), Q_LOG_ADD, p, 3);
}

struct history_cb {
    int (*cb)(void *, int64_t, const char *);
    void *ctx;
};

static int history_adapt(void *ctx, int64_t v, const char *t)
{
    struct history_cb *h = ctx;
    return h->cb(h->ctx, v, t);
}

static int op_rollout_history(struct fleet_store *b, int64_t rollout,
                              int (*cb)(void *, int64_t, const char *), void *ctx)
{
    struct history_cb h = {cb, ctx};
    struct texts t = {history_adapt, &h, 1, 0, 0};
    struct sql_param p[1] = {num(rollout)};
    return S(b)->drv->query(S(b), Q_LOG_LIST, p, 1, text_row, &t);
}

static int op_member_get(struct fleet_store *b, int64_t rollout, const char *device,
                         struct fleet_member *out)
{
    struct sql_param p[2] = {num(rollout), txt(device)};
    return one(S(b), Q_MEMBER_GET, p, 2, out, sizeof *out, "reading a rollout member");
}

static int op_member_put(struct fleet_store *b, const struct fleet_member *m)
{
    struct sql_param p[SQL_PARAMS_MAX];
    size_t n = record_params(&tables[T_MEMBER], 0, m, p, NULL, 0);
    return exec(S(b), Q_MEMBER_PUT, p, n);
}

static int op_device_members(struct fleet_store *b, const char *device,
                             int (*cb)(void *, const struct fleet_member *), void *ctx)
{
    struct sql_param p[1] = {txt(device)};
    return each(S(b), Q_DEVICE_MEMBERS, p, 1, sizeof(struct fleet_member),
                (int (*)(void *, const void *))cb, ctx, "reading rollout members");
}

static int op_member_list(struct fleet_store *b, int64_t rollout,
                          int (*cb)(void *, const struct fleet_member *), void *ctx)
{
    struct sql_param p[1] = {num(rollout)};
    return each(S(b), Q_MEMBER_LIST, p, 1, sizeof(struct fleet_member),
                (int (*)(void *, const void *))cb, ctx, "reading rollout members");
}

static int count_row(void *ctx, struct sql_store *s, void *row)
{
    struct fleet_counts *c = ctx;
    uint32_t n = (uint32_t)s->drv->integer(row, 1);
    switch (s->drv->integer(row, 0)) {
    case MEMBER_OFFERED: c->offered = n; break;
    case MEMBER_SUCCEEDED: c->succeeded = n; break;
    case MEMBER_FAILED: c->failed = n; break;
    default: break;
    }
    return 0;
}

static int op_member_counts(struct fleet_store *b, int64_t rollout, struct fleet_counts *out)
{
    struct sql_param p[1] = {num(rollout)};
    memset(out, 0, sizeof *out);
    return S(b)->drv->query(S(b), Q_MEMBER_COUNTS, p, 1, count_row, out);
}

static int op_offered_since(struct fleet_store *b, int64_t rollout, int64_t since, uint32_t *out)
{
    struct sql_param p[2] = {num(rollout), num(since)};
    struct ints r;
    int rc = ints(S(b), Q_OFFERED_SINCE, p, 2, &r);
    *out = (uint32_t)r.v[0];
    return rc;
}

static size_t target_params(const struct fleet_rollout *r, int64_t last, struct sql_param *p)
{
    p[0] = txt(r->product);
    p[1] = num(r->offset);
    p[2] = txt(r->channel);
    p[3] = txt(r->groups);
    p[4] = num(last);
    return 5;
}

static int op_targeted_count(struct fleet_store *b, const struct fleet_rollout *r,
                             uint32_t threshold, uint32_t *out)
{
    struct sql_param p[5];
    struct ints c;
    int rc = ints(S(b), Q_TARGETED_COUNT, p, target_params(r, threshold, p), &c);
    *out = (uint32_t)c.v[0];
    return rc;
}

static int op_bucket_at_rank(struct fleet_store *b, const struct fleet_rollout *r,
                             uint32_t rank, uint32_t *threshold)
{
    struct sql_param p[5];
    struct ints c;
    if (ints(S(b), Q_BUCKET_AT_RANK, p, target_params(r, rank ? rank - 1 : 0, p), &c) < 0)
        return FLEET_ERR;
    /* fewer devices than `rank`: every one of them */
    *threshold = c.rows ? (uint32_t)c.v[0] + 1 : FLEET_BUCKETS;
    if (c.rows && rank == 0)
        *threshold = 0;
    return 0;
}

static int op_token_add(struct fleet_store *b, const char *name, const uint8_t hash[32])
{
    struct sql_param p[2] = {txt(name), {SQLP_BLOB, NULL, 0, hash, 32}};
    return exec(S(b), Q_TOKEN_ADD, p, 2);
}

struct token_cb {
    int (*cb)(void *, const uint8_t[32]);
    void *ctx;
};

static int token_row(void *ctx, struct sql_store *s, void *row)
{
    struct token_cb *t = ctx;
    uint8_t h[32];
    if (s->drv->blob(row, 0, h, sizeof h) == sizeof h)
        t->cb(t->ctx, h); /* all of them, no early stop */
    return 0;
}

static int op_token_hashes(struct fleet_store *b, int (*cb)(void *, const uint8_t[32]), void *ctx)
{
    struct token_cb t = {cb, ctx};
    return S(b)->drv->query(S(b), Q_TOKEN_LIST, NULL, 0, token_row, &t);
}

static int op_savepoint(struct fleet_store *b, int action)
{
    static const char *const sql[] = {"SAVEPOINT one", "RELEASE SAVEPOINT one",
                                      "ROLLBACK TO SAVEPOINT one; RELEASE SAVEPOINT one"};
    return S(b)->drv->exec(S(b), sql[action], "a savepoint");
}

static int op_sync(struct fleet_store *b, char *why, size_t why_size)
{
    return S(b)->drv->sync ? S(b)->drv->sync(S(b), why, why_size) : 0;
}

static int op_version_log(struct fleet_store *b, const struct fleet_version_change *c)
{
    struct sql_param p[6] = {txt(c->product), num(c->at),        txt(c->device),
                             num(c->prev_code), num(c->code), txt(c->version)};
    return exec(S(b), Q_VERSION_ADD, p, 6);
}

struct version_cb {
    int (*cb)(void *, const struct fleet_version_change *);
    void *ctx;
};

/* The callback only reads the change (summary.c), so it may run per row. */
static int version_row(void *ctx, struct sql_store *s, void *row)
{
    struct version_cb *v = ctx;
    struct fleet_version_change c;
    memset(&c, 0, sizeof c);
    snprintf(c.product, sizeof c.product, "%s", s->drv->text(row, 0));
    c.at = s->drv->integer(row, 1);
    snprintf(c.device, sizeof c.device, "%s", s->drv->text(row, 2));
    c.prev_code = s->drv->integer(row, 3);
    c.code = (uint32_t)s->drv->integer(row, 4);
    snprintf(c.version, sizeof c.version, "%s", s->drv->text(row, 5));
    return v->cb(v->ctx, &c);
}

static int op_version_history(struct fleet_store *b, const char *product,
                              int (*cb)(void *, const struct fleet_version_change *), void *ctx)
{
    struct version_cb v = {cb, ctx};
    struct sql_param p[1] = {txt(product)};
    return S(b)->drv->query(S(b), Q_VERSION_LIST, p, 1, version_row, &v);
}

static const struct fleet_store_ops sql_ops = {
    op_close,          op_begin,         op_commit,          op_rollback,
    op_device_get,     op_device_put,    op_device_list,     op_device_groups,
    op_group_set,      op_group_list,    op_in_groups,       op_release_add,
    op_release_get,    op_release_by_code, op_release_list,  op_rollout_put,
    op_rollout_get,    op_rollout_list,  op_rollout_log,     op_rollout_history,
    op_member_get,     op_member_put,    op_device_members,  op_member_counts,
    op_member_list,    op_offered_since, op_targeted_count,  op_bucket_at_rank,
    op_token_add,      op_token_hashes,   op_savepoint,      op_sync,
    op_device_add,
    op_version_log,    op_version_history,
    op_device_lock,    op_rollout_lock,
};

int sql_store_init(struct sql_store *s, const struct sql_driver *drv)
{
    s->base.ops = &sql_ops;
    s->drv = drv;
    char text[SQL_TEXT_MAX + 1];
    for (int q = 0; q < Q_COUNT; q++) {
        text[0] = 0;
        if (gen_query(q, text) >= SQL_TEXT_MAX || !(s->sql[q] = strdup(text))) {
            snprintf(s->base.error, sizeof s->base.error, "query %d: %s", q,
                     s->sql[q] ? "too long" : "out of memory");
            return FLEET_ERR;
        }
    }
    return 0;
}

void sql_store_fini(struct sql_store *s)
{
    for (int q = 0; q < Q_COUNT; q++) {
        free(s->sql[q]);
        s->sql[q] = NULL;
    }
}
