/*
 * The fleet server's storage: one small interface, one file per backend.
 *
 * store_sql.c implements it once on SQL, above a driver for SQLite
 * (store_sqlite.c: WAL) and one for PostgreSQL (store_pg.c); both keep the
 * same versioned schema with migrations. The
 * decisions (fleet.c) only ever see these records, so every decision can be
 * recomputed from what is stored.
 *
 * Every call returns 0, FLEET_NOT_FOUND, or FLEET_ERR with the cause in
 * fleet_store_error(). The caller serialises access (one check-in or admin
 * change at a time) and wraps each in begin/commit, so a crash loses nothing
 * that was answered.
 */
#ifndef FOTA_FLEET_STORE_H
#define FOTA_FLEET_STORE_H

#include <stddef.h>
#include <stdint.h>

#define FLEET_NOT_FOUND 1
#define FLEET_ERR (-1)

#define FLEET_ID_MAX 64      /* device ids: 1..64 of [A-Za-z0-9._:-] */
#define FLEET_PRODUCT_MAX 48
#define FLEET_NAME_MAX 32    /* channel, group and version names */
#define FLEET_MANIFEST_MAX 2048
#define FLEET_WAVES_MAX 8
#define FLEET_TEXT_MAX 256   /* decision notes, pause reasons */
#define FLEET_BUCKETS 1000000u /* bucket of a device: 0..999999 (parts per million) */

struct fleet_device {
    char id[FLEET_ID_MAX + 1];
    char product[FLEET_PRODUCT_MAX + 1];
    char channel[FLEET_NAME_MAX + 1];     /* "stable" unless set */
    char protocol[24];                    /* "fota", "esp8266-http-update", ... */
    char version[FLEET_NAME_MAX + 1];     /* version string when the device sends one */
    uint32_t version_code;
    uint32_t sequence;                    /* highest sequence the device reports */
    char image[65];                       /* running image SHA-256, hex, "" unknown */
    char last_event[16];                  /* "", "confirmed", "rolled-back", "failed", "activated" */
    int32_t last_error;
    uint32_t last_version;
    char address[64];
    int64_t first_seen, last_seen;        /* Unix ms */
    int64_t pinned_release;               /* 0: not pinned */
    uint32_t bucket;                      /* from the id, 0..FLEET_BUCKETS-1 */
    uint32_t offered_sequence;            /* highest sequence ever offered to it */
    char decision[FLEET_TEXT_MAX];        /* what the server answered last, and why */
    int64_t checkins;                     /* check-ins recorded, all time */
};

struct fleet_release {
    int64_t id;
    char product[FLEET_PRODUCT_MAX + 1];
    char version[FLEET_NAME_MAX + 1];
    uint32_t version_code, sequence, security_counter, size;
    char sha256[65];
    char manifest[FLEET_MANIFEST_MAX];    /* the signed text, as released */
    int64_t created;
};

enum fleet_rollout_state { ROLLOUT_RUNNING = 0, ROLLOUT_PAUSED, ROLLOUT_ABORTED, ROLLOUT_COMPLETED };

struct fleet_wave {
    uint32_t percent_x100; /* cumulative share of the targeted devices (10000 = 100%), or 0 */
    uint32_t count;        /* cumulative count of devices, when percent_x100 is 0 */
    uint32_t threshold;    /* bucket bound: members have (bucket+offset)%FLEET_BUCKETS < it */
    int64_t opened;        /* Unix ms when the wave opened, 0 not yet */
};

struct fleet_rollout {
    int64_t id;
    int64_t release_id;
    char product[FLEET_PRODUCT_MAX + 1];
    char channel[FLEET_NAME_MAX + 1];
    char groups[FLEET_TEXT_MAX];          /* comma-separated; "" = every device of the channel */
    int state;                            /* enum fleet_rollout_state */
    uint32_t wave;                        /* index of the current wave */
    uint32_t n_waves;
    struct fleet_wave waves[FLEET_WAVES_MAX];
    uint32_t offset;                      /* per-rollout rotation of the buckets */
    uint32_t success_pct;                 /* a wave is done when this share succeeded */
    uint32_t failure_pct;                 /* pause when failures exceed this share ... */
    uint32_t min_sample;                  /* ... of at least this many outcomes */
    uint32_t per_minute;                  /* devices that may start per minute, 0 = any */
    uint32_t ack_failed, ack_reported;    /* counts acknowledged by the last resume */
    char reason[FLEET_TEXT_MAX];          /* why it paused / aborted / completed */
    int64_t created, updated;
};

enum fleet_member_state { MEMBER_OFFERED = 0, MEMBER_SUCCEEDED, MEMBER_FAILED };

/* A device's part in a rollout: created when it is first offered. */
struct fleet_member {
    int64_t rollout_id;
    char device_id[FLEET_ID_MAX + 1];
    int state;                            /* enum fleet_member_state */
    uint32_t wave;
    int64_t offered, decided;             /* Unix ms */
    char prior_outcome[48];               /* the device's Last at the offer */
    char outcome[48];                     /* what decided it */
};

/* A device's running version changed (or a new device appeared: prev_code
 * -1), as recorded at a check-in: the history behind "versions over time". */
struct fleet_version_change {
    char product[FLEET_PRODUCT_MAX + 1];
    int64_t at;                           /* Unix ms */
    char device[FLEET_ID_MAX + 1];
    int64_t prev_code;                    /* -1: first seen */
    uint32_t code;
    char version[FLEET_NAME_MAX + 1];     /* the version string the device sent, or "" */
};

struct fleet_counts {
    uint32_t offered, succeeded, failed;
};

struct fleet_store;

struct fleet_store_ops {
    void (*close)(struct fleet_store *s);
    /* read_only: a transaction that only reads, from one snapshot */
    int (*begin)(struct fleet_store *s, int read_only);
    int (*commit)(struct fleet_store *s);
    int (*rollback)(struct fleet_store *s);

    int (*device_get)(struct fleet_store *s, const char *id, struct fleet_device *out);
    int (*device_put)(struct fleet_store *s, const struct fleet_device *d);
    /* Devices of `product` ("" any), in id order; cb returns non-zero to stop. */
    int (*device_list)(struct fleet_store *s, const char *product,
                       int (*cb)(void *ctx, const struct fleet_device *d), void *ctx);
    int (*device_groups)(struct fleet_store *s, const char *id, char *out, size_t size);

    int (*group_set)(struct fleet_store *s, const char *group, const char *device, int member);
    int (*group_list)(struct fleet_store *s,
                      int (*cb)(void *ctx, const char *group, uint32_t devices), void *ctx);
    /* 1 when `device` is in one of the comma-separated `groups`, else 0 */
    int (*in_groups)(struct fleet_store *s, const char *device, const char *groups);

    int (*release_add)(struct fleet_store *s, struct fleet_release *r); /* sets r->id */
    int (*release_get)(struct fleet_store *s, int64_t id, struct fleet_release *out);
    int (*release_by_code)(struct fleet_store *s, const char *product, uint32_t version_code,
                           struct fleet_release *out);
    int (*release_list)(struct fleet_store *s,
                        int (*cb)(void *ctx, const struct fleet_release *r), void *ctx);

    int (*rollout_put)(struct fleet_store *s, struct fleet_rollout *r); /* id 0: insert */
    int (*rollout_get)(struct fleet_store *s, int64_t id, struct fleet_rollout *out);
    /* Rollouts of `product` ("" any), newest first. */
    int (*rollout_list)(struct fleet_store *s, const char *product,
                        int (*cb)(void *ctx, const struct fleet_rollout *r), void *ctx);
    int (*rollout_log)(struct fleet_store *s, int64_t rollout, int64_t at, const char *text);
    int (*rollout_history)(struct fleet_store *s, int64_t rollout,
                           int (*cb)(void *ctx, int64_t at, const char *text), void *ctx);

    int (*member_get)(struct fleet_store *s, int64_t rollout, const char *device,
                      struct fleet_member *out);
    int (*member_put)(struct fleet_store *s, const struct fleet_member *m);
    /* Every membership of a device, in any rollout, in rollout order (one
     * query per check-in: its pending offers and its part in each rollout). */
    int (*device_members)(struct fleet_store *s, const char *device,
                          int (*cb)(void *ctx, const struct fleet_member *m), void *ctx);
    int (*member_counts)(struct fleet_store *s, int64_t rollout, struct fleet_counts *out);
    int (*member_list)(struct fleet_store *s, int64_t rollout,
                       int (*cb)(void *ctx, const struct fleet_member *m), void *ctx);
    /* Members offered at or after `since` (Unix ms). */
    int (*offered_since)(struct fleet_store *s, int64_t rollout, int64_t since, uint32_t *out);
    /* Known devices the rollout targets (product, channel, groups, not
     * pinned) whose rotated bucket is below `threshold`; with `rank` > 0
     * instead the bucket bound that admits the `rank` lowest of them. */
    int (*targeted_count)(struct fleet_store *s, const struct fleet_rollout *r,
                          uint32_t threshold, uint32_t *out);
    int (*bucket_at_rank)(struct fleet_store *s, const struct fleet_rollout *r, uint32_t rank,
                          uint32_t *threshold);

    int (*token_add)(struct fleet_store *s, const char *name, const uint8_t hash[32]);
    /* Every stored token hash, for a comparison that looks at all of them. */
    int (*token_hashes)(struct fleet_store *s,
                        int (*cb)(void *ctx, const uint8_t hash[32]), void *ctx);

    /* Inside a transaction: FLEET_SAVEPOINT_BEGIN one, then KEEP (release)
     * or UNDO (roll back to it and release) its changes. */
    int (*savepoint)(struct fleet_store *s, int action);
    /* Make what was committed durable (a store whose commit does not sync
     * by itself: SQLite with group_commit). Runs without the caller's lock,
     * beside other calls on the store: 0, or FLEET_ERR with the cause in
     * `why` (not in the shared error). */
    int (*sync)(struct fleet_store *s, char *why, size_t why_size);
    /* Store `d` unless a device of its id exists (then nothing changes). */
    int (*device_add)(struct fleet_store *s, const struct fleet_device *d);

    /* Version history (optional: NULL in a backend without it; the
     * dashboard then has no versions-over-time plot). */
    int (*version_log)(struct fleet_store *s, const struct fleet_version_change *c);
    /* Changes of `product` ("" any), oldest first; cb returns non-zero to stop. */
    int (*version_history)(struct fleet_store *s, const char *product,
                           int (*cb)(void *ctx, const struct fleet_version_change *c),
                           void *ctx);

    /* device_get and rollout_get that also lock the row until the
     * transaction ends (PostgreSQL: SELECT ... FOR UPDATE; SQLite's
     * transactions hold the database's write lock anyway). Every change of
     * a device row, and every decision that writes a rollout's shared state
     * (its members, its state and waves), reads that row through these
     * first: see fleet.c, "Consistency". */
    int (*device_lock)(struct fleet_store *s, const char *id, struct fleet_device *out);
    int (*rollout_lock)(struct fleet_store *s, int64_t id, struct fleet_rollout *out);
};

enum { FLEET_SAVEPOINT_BEGIN, FLEET_SAVEPOINT_KEEP, FLEET_SAVEPOINT_UNDO };

struct fleet_store {
    const struct fleet_store_ops *ops;
    char error[256];
    int conflict;   /* the last failure was a serialization conflict: retry the transaction */
    int duplicate;  /* the last failure was a unique-key violation */
    int group_commit; /* one connection for the process: fleet.c batches commits
                       * and calls sync after each commit */
};

/* Open (creating and migrating) the store named by `where`: a
 * postgresql:// (or postgres://) URL, else a SQLite file path. NULL with the
 * cause in `err` on failure. */
struct fleet_store *fleet_store_open(const char *where, char *err, size_t err_size);
/* 1 when `where` names a PostgreSQL database */
int fleet_store_is_pg(const char *where);

struct fleet_store *fleet_store_sqlite_open(const char *path, char *err, size_t err_size);
struct fleet_store *fleet_store_pg_open(const char *url, char *err, size_t err_size);

static inline const char *fleet_store_error(const struct fleet_store *s)
{
    return s->error;
}

#endif
