/*
 * The fleet server's decisions: record a check-in, answer it with the signed
 * manifest meant for that device or "nothing" (304), and move rollouts along
 * (waves, automatic pause). docs/fleet.md describes the model.
 *
 * Everything a decision reads is in the store, and every decision runs in
 * one transaction (with row locks, retried on a deadlock, when several
 * server instances share a PostgreSQL database), so a restart (or a crash)
 * continues exactly where it stopped. The server never signs: it only chooses among
 * manifests that were signed offline by `fota release`.
 */
#ifndef FOTA_FLEET_H
#define FOTA_FLEET_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct fleet {
    struct fleet_store *store;
    pthread_mutex_t lock;
    /* Group commit (a store with group_commit: SQLite): concurrent
     * transactions share one database transaction, each inside a savepoint;
     * a committer thread commits the group after a short window, syncs it
     * without the lock (the next group already works meanwhile), and only
     * then are its transactions answered. */
    pthread_cond_t joined, committed;
    pthread_t committer;
    int committer_running, stopping, group_open;
    unsigned group_size;
    struct fleet_pending *group_members; /* of the open group */
    /* Trusted release keys: uploaded manifests must verify with one (the
     * server holds public keys only). n_keys 0: not checked. */
    uint8_t keys[4][65];
    size_t n_keys;
};

/* One check-in as the device sent it (Fota-* headers, docs/fleet.md), or as
 * another protocol reported it (the stock Arduino updater's x-ESP8266-*
 * headers: protocol "esp8266-http-update"). Strings are validated. */
struct fleet_report {
    char id[FLEET_ID_MAX + 1];
    char product[FLEET_PRODUCT_MAX + 1];
    char protocol[24];
    char version[FLEET_NAME_MAX + 1]; /* a version string, when the protocol has one */
    uint32_t version_code;
    int has_sequence;
    uint32_t sequence;
    char image[65];                   /* lower-case hex, "" unknown */
    int has_last;
    char last_event[16];
    int32_t last_error;
    uint32_t last_version;
    char address[64];
    char if_none_match[80];
};

struct fleet_answer {
    unsigned status;                   /* 200 (manifest) or 304 */
    char manifest[FLEET_MANIFEST_MAX];
    size_t len;
    char etag[40];
    char note[FLEET_TEXT_MAX];         /* the decision, for the log */
};

/* Open the store (creating it), NULL with the cause in err. */
struct fleet *fleet_open(const char *db, char *err, size_t err_size);
void fleet_close(struct fleet *f);

/* Run fn(f, ctx) in one transaction of the store: 0, or -1 with the cause
 * in err. A conflict (several instances on PostgreSQL: a deadlock, or a
 * serialization failure) rolls it back and runs it again, a bounded number
 * of times after a random wait that grows; fn returning -1 rolls it back.
 * With group commit it returns once the group's commit is durable. fn must
 * not keep state between runs, nor answer anyone before it returns: the
 * caller answers once the transaction committed. */
int fleet_transact(struct fleet *f, int (*fn)(struct fleet *f, void *ctx), void *ctx, char *err,
                   size_t err_size);
/* fleet_transact for fn that only reads: one snapshot of the store
 * (PostgreSQL: REPEATABLE READ, READ ONLY, which no conflict fails). */
int fleet_read(struct fleet *f, int (*fn)(struct fleet *f, void *ctx), void *ctx, char *err,
               size_t err_size);

/* A transaction waiting for its group's commit (group commit only). */
struct fleet_pending {
    struct fleet_pending *next;
    int rc;                                  /* 0, or -1 with the cause in err */
    char err[300];
    void (*done)(struct fleet_pending *p);   /* from the committer thread, no lock held */
    void *owner;                             /* the caller's */
    int finished;                            /* for the blocking callers */
};

/* The check-in of fleet_checkin() without waiting for the commit, on a
 * store with group commit: 1 when p->done(p) will be called once the
 * answer in `out` is durable (p->rc then says whether it stands); 0 when
 * it was decided at once (a store without group commit: fleet_checkin());
 * -1 on failure (cause in out->note). */
int fleet_checkin_submit(struct fleet *f, const struct fleet_report *in, int64_t now_ms,
                         struct fleet_answer *out, struct fleet_pending *p);

/* Record a check-in and decide the answer. 0, or -1 with the cause in
 * out->note (a store failure: answer 500). */
int fleet_checkin(struct fleet *f, const struct fleet_report *in, int64_t now_ms,
                  struct fleet_answer *out);

/* Record a device seen through another protocol (no decision): the stock
 * Arduino updater's check-ins appear in the same fleet view. 0 or -1. */
int fleet_record(struct fleet *f, const struct fleet_report *in, int64_t now_ms, char *err,
                 size_t err_size);

/* A device's bucket, 0..FLEET_BUCKETS-1: deterministic from its id. */
uint32_t fleet_bucket(const char *id);

/* Apply the rollout rules (automatic pause, next wave, completion) to
 * rollout `r` as stored now; writes it back when it changed. */
int fleet_evaluate(struct fleet *f, struct fleet_rollout *r, int64_t now_ms);

/* Open wave `index` of `r` (its bucket bound) at `now_ms`. */
int fleet_open_wave(struct fleet *f, struct fleet_rollout *r, uint32_t index, int64_t now_ms);

const char *fleet_rollout_state_name(int state);
const char *fleet_member_state_name(int state);

/* Text validation shared by the check-in parser and the admin API
 * (checkin_parse.c). */
int fleet_valid_id(const char *s);       /* 1..64 of [A-Za-z0-9._:-] */
int fleet_valid_name(const char *s, size_t max); /* 1..max of [A-Za-z0-9._-] */

/* The check-in header fields of one request (docs/fleet.md), parsed and
 * checked into `out`: 0, or -1 with the reason in `why` (answer 400).
 * Only names starting with "Fota-" matter; a field given twice, a missing
 * Fota-Id / Fota-Product / Fota-Version, or any malformed value is refused. */
struct fleet_header {
    const char *name;
    const char *value;
};
int fleet_checkin_parse(const struct fleet_header *h, size_t n, struct fleet_report *out,
                        char *why, size_t why_size);

int64_t fleet_now_ms(void);

#endif
