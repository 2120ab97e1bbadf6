/* The fleet server's decisions: see fleet.h and docs/fleet.md. */
#define _POSIX_C_SOURCE 200809L
#include "fleet.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fota/crypto.h"
#include "fota_crypto_backends.h"
#include "util.h"

int64_t fleet_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *fleet_rollout_state_name(int state)
{
    static const char *names[] = {"running", "paused", "aborted", "completed"};
    return state >= 0 && state <= ROLLOUT_COMPLETED ? names[state] : "?";
}

const char *fleet_member_state_name(int state)
{
    static const char *names[] = {"offered", "succeeded", "failed"};
    return state >= 0 && state <= MEMBER_FAILED ? names[state] : "?";
}

static uint32_t hash32(const char *prefix, const char *text)
{
    char both[128];
    uint8_t d[32];
    int n = snprintf(both, sizeof both, "%s%s", prefix, text);
    if (n < 0 || (size_t)n >= sizeof both ||
        fota_sha256_digest(&FOTA_CRYPTO_HOST, both, (size_t)n, d) != 0)
        memset(d, 0, sizeof d); /* ids and prefixes are short: not reached */
    return (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
}

uint32_t fleet_bucket(const char *id)
{
    return hash32("fota-fleet-bucket:", id) % FLEET_BUCKETS;
}

struct fleet *fleet_open(const char *db, char *err, size_t err_size)
{
    struct fleet *f = calloc(1, sizeof *f);
    if (!f) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    f->store = fleet_store_open(db, err, err_size);
    if (!f->store) {
        free(f);
        return NULL;
    }
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->joined, NULL);
    pthread_cond_init(&f->committed, NULL);
    return f;
}

void fleet_close(struct fleet *f)
{
    if (!f)
        return;
    pthread_mutex_lock(&f->lock);
    f->stopping = 1;
    pthread_cond_broadcast(&f->joined);
    pthread_mutex_unlock(&f->lock);
    if (f->committer_running)
        pthread_join(f->committer, NULL); /* it commits what is open first */
    f->store->ops->close(f->store);
    pthread_mutex_destroy(&f->lock);
    pthread_cond_destroy(&f->joined);
    pthread_cond_destroy(&f->committed);
    free(f);
}

/* ---- Rollout rules ------------------------------------------------------------ */

static void log_event(struct fleet *f, const struct fleet_rollout *r, int64_t now,
                      const char *fmt, ...)
{
    char t[FLEET_TEXT_MAX * 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t, sizeof t, fmt, ap);
    va_end(ap);
    f->store->ops->rollout_log(f->store, r->id, now, t);
}

static void wave_name(const struct fleet_wave *w, char *out, size_t size)
{
    if (w->percent_x100)
        snprintf(out, size, "%u%s%u%%", (unsigned)(w->percent_x100 / 100),
                 w->percent_x100 % 100 ? "." : "", (unsigned)(w->percent_x100 % 100));
    else
        snprintf(out, size, "%u devices", (unsigned)w->count);
    if (w->percent_x100 && w->percent_x100 % 100 == 0) /* "10%" not "10.0%" */
        snprintf(out, size, "%u%%", (unsigned)(w->percent_x100 / 100));
}

int fleet_open_wave(struct fleet *f, struct fleet_rollout *r, uint32_t index, int64_t now)
{
    struct fleet_wave *w = &r->waves[index];
    if (w->percent_x100)
        w->threshold = w->percent_x100 * (FLEET_BUCKETS / 10000u);
    else if (f->store->ops->bucket_at_rank(f->store, r, w->count, &w->threshold) < 0)
        return -1;
    if (w->threshold > FLEET_BUCKETS)
        w->threshold = FLEET_BUCKETS;
    w->opened = now;
    r->wave = index;
    return 0;
}

/* The rollout rules applied to `r`: 1 when they change it (then, with
 * `write`, it is stored with its log lines), 0 when not, -1 a store failure.
 * Without `write` nothing is stored: whether a change is due. */
static int evaluate(struct fleet *f, struct fleet_rollout *r, int64_t now, int write)
{
    struct fleet_store *s = f->store;
    if (r->state != ROLLOUT_RUNNING)
        return 0;
    struct fleet_counts c;
    if (s->ops->member_counts(s, r->id, &c) < 0)
        return -1;
    int changed = 0;
    /* Automatic pause: failures since the last resume, over a minimum sample. */
    uint32_t reported = c.succeeded + c.failed;
    uint32_t failed = c.failed > r->ack_failed ? c.failed - r->ack_failed : 0;
    uint32_t sample = reported > r->ack_reported ? reported - r->ack_reported : 0;
    if (sample >= r->min_sample && sample > 0 &&
        (uint64_t)failed * 100 > (uint64_t)r->failure_pct * sample) {
        r->state = ROLLOUT_PAUSED;
        snprintf(r->reason, sizeof r->reason,
                 "paused by itself in wave %u: %u of %u devices (%u%%) failed or rolled back, "
                 "above the %u%% threshold (minimum sample %u)",
                 (unsigned)r->wave + 1, (unsigned)failed, (unsigned)sample,
                 (unsigned)(failed * 100 / sample), (unsigned)r->failure_pct,
                 (unsigned)r->min_sample);
        r->updated = now;
        if (!write)
            return 1;
        log_event(f, r, now, "%s", r->reason);
        return s->ops->rollout_put(s, r) < 0 ? -1 : 1;
    }
    /* Next wave once the current one succeeded; bounded by the wave count. */
    while (r->state == ROLLOUT_RUNNING) {
        uint32_t targeted;
        if (s->ops->targeted_count(s, r, r->waves[r->wave].threshold, &targeted) < 0)
            return -1;
        if (targeted == 0 ||
            (uint64_t)c.succeeded * 100 < (uint64_t)r->success_pct * targeted)
            break;
        char name[32];
        wave_name(&r->waves[r->wave], name, sizeof name);
        if (r->wave + 1 < r->n_waves) {
            if (fleet_open_wave(f, r, r->wave + 1, now) < 0)
                return -1;
            char next[32];
            wave_name(&r->waves[r->wave], next, sizeof next);
            if (write)
                log_event(f, r, now, "wave %u (%s) done: %u of %u targeted devices succeeded; wave %u (%s) opened",
                      (unsigned)r->wave, name, (unsigned)c.succeeded, (unsigned)targeted,
                      (unsigned)r->wave + 1, next);
        } else {
            r->state = ROLLOUT_COMPLETED;
            snprintf(r->reason, sizeof r->reason,
                     "every wave done (%u of %u targeted devices had succeeded); the release "
                     "is now offered to every device of the channel",
                     (unsigned)c.succeeded, (unsigned)targeted);
            if (write)
                log_event(f, r, now, "wave %u (%s) done: completed; %s", (unsigned)r->wave + 1, name,
                      r->reason);
        }
        changed = 1;
    }
    if (!changed)
        return 0;
    r->updated = now;
    if (!write)
        return 1;
    return s->ops->rollout_put(s, r) < 0 ? -1 : 1;
}

int fleet_evaluate(struct fleet *f, struct fleet_rollout *r, int64_t now)
{
    return evaluate(f, r, now, 1) < 0 ? -1 : 0;
}


/* ---- Check-ins ------------------------------------------------------------------ *
 *
 * Consistency. Several server instances may decide at the same time on one
 * PostgreSQL database (READ COMMITTED). What keeps their decisions those
 * of one check-in after the other is row locks, taken before anything
 * shared is decided and held until commit:
 *  - a check-in, and an admin change of a device, locks the device's row
 *    first (device_lock): one device's check-ins take turns;
 *  - whatever writes a rollout's shared state locks the rollout's row and
 *    decides on the row as locked (rollout_lock): an admission (the wave
 *    bound, the per-minute start limit), an outcome and the automatic
 *    pause or next wave it may bring (settle, fleet_evaluate), pause,
 *    resume and abort. The members and counts it then reads include what
 *    every earlier holder of the lock committed;
 *  - a check-in that admits no one and settles nothing writes only its
 *    device's row: it is decided on the rollouts as they were committed
 *    when it read them, as if it came just before a change in flight;
 *  - at most one rollout per product and channel runs or is paused: a
 *    unique index (schema 5).
 * A deadlock between two instances' locks fails one transaction with
 * SQLSTATE 40P01; it is rolled back and run again (fleet_transact).
 * SQLite has one connection and group commit: one transaction at a time.
 */

static void outcome_text(const struct fleet_device *d, char *out, size_t size)
{
    if (d->last_event[0])
        snprintf(out, size, "%s %d %u", d->last_event, (int)d->last_error,
                 (unsigned)d->last_version);
    else
        out[0] = 0;
}

struct decision {
    struct fleet_release rel;
    int have;
    struct fleet_rollout rollout; /* id 0: pinned */
    int admit;                    /* a new member of `rollout` */
    int noted;                    /* `why` names the newest rollout that said no */
    char why[FLEET_TEXT_MAX];
};

/* Keep the reason of the newest rollout: it is the one that matters. */
static void note(struct decision *d, const char *fmt, ...)
{
    if (d->noted)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->why, sizeof d->why, fmt, ap);
    va_end(ap);
    d->noted = 1;
}

/* A device's memberships, read once per check-in (device_members); settle
 * updates them as it decides, and choose_in reads them. A device in more
 * rollouts than fit is read member by member beyond them. */
#define MEMBERSHIPS_MAX 16

struct memberships {
    struct fleet_member m[MEMBERSHIPS_MAX];
    size_t n;
    int overflow;
};

static int collect_member(void *ctx, const struct fleet_member *m)
{
    struct memberships *ms = ctx;
    if (ms->n < MEMBERSHIPS_MAX)
        ms->m[ms->n++] = *m;
    else
        ms->overflow = 1;
    return 0;
}

/* The device's membership of rollout `id`: 0, FLEET_NOT_FOUND, FLEET_ERR. */
static int membership(struct fleet *f, const struct memberships *ms, int64_t id,
                      const char *device, struct fleet_member *out)
{
    for (size_t i = 0; i < ms->n; i++)
        if (ms->m[i].rollout_id == id) {
            *out = ms->m[i];
            return 0;
        }
    return ms->overflow ? f->store->ops->member_get(f->store, id, device, out) : FLEET_NOT_FOUND;
}

struct choose_ctx {
    struct fleet *f;
    struct fleet_device *dev;
    const struct memberships *ms;
    int64_t now;
    struct decision *out;
    int err;
};

static int targets(struct fleet *f, const struct fleet_rollout *r, const struct fleet_device *d)
{
    if (strcmp(r->channel, d->channel) != 0 || d->pinned_release)
        return 0;
    if (!r->groups[0])
        return 1;
    return f->store->ops->in_groups(f->store, d->id, r->groups) == 1;
}

/* What rollout `r` has for the device: 1 it decides (out says what), 0 try
 * the next older one, -1 a store failure. */
static int choose_in(struct choose_ctx *c, const struct fleet_rollout *r)
{
    struct fleet_store *s = c->f->store;
    struct decision *out = c->out;
    if (!targets(c->f, r, c->dev))
        return 0;
    struct fleet_member m;
    int found = membership(c->f, c->ms, r->id, c->dev->id, &m);
    if (found < 0) {
        c->err = -1;
        return -1;
    }
    if (found == 0) {
        if (m.state == MEMBER_SUCCEEDED) {
            if (s->ops->release_get(s, r->release_id, &out->rel) != 0) {
                c->err = -1;
                return -1;
            }
            if (c->dev->version_code >= out->rel.version_code || r->state == ROLLOUT_ABORTED) {
                note(out, "up to date with rollout %" PRId64, r->id);
                return 1;
            }
            /* it ran the release and now runs an older one (flashed by
             * hand): it is offered the release again */
            out->have = out->admit = 1;
            out->rollout = *r;
            return 1;
        }
        if (m.state == MEMBER_FAILED) {
            note(out, "failed in rollout %" PRId64 " (%s): not offered again", r->id, m.outcome);
            return 1;
        }
        if (r->state == ROLLOUT_ABORTED)
            return 0;
        out->have = 1; /* offered before: let it finish, also while paused */
    } else {
        uint32_t rb = (c->dev->bucket + r->offset) % FLEET_BUCKETS;
        switch (r->state) {
        case ROLLOUT_ABORTED:
            return 0;
        case ROLLOUT_PAUSED:
            note(out, "rollout %" PRId64 " is paused", r->id);
            return 0;
        case ROLLOUT_COMPLETED:
            out->have = out->admit = 1;
            break;
        default:
            if (rb >= r->waves[r->wave].threshold) {
                note(out, "not in wave %u of rollout %" PRId64 " (bucket %u, wave bound %u)",
                     (unsigned)r->wave + 1, r->id, (unsigned)rb,
                     (unsigned)r->waves[r->wave].threshold);
                return 0;
            }
            if (r->per_minute) {
                uint32_t recent;
                if (s->ops->offered_since(s, r->id, c->now - 60000, &recent) < 0) {
                    c->err = -1;
                    return -1;
                }
                if (recent >= r->per_minute) {
                    note(out, "rollout %" PRId64 ": %u devices started in the last minute (limit %u)",
                         r->id, (unsigned)recent, (unsigned)r->per_minute);
                    return 1;
                }
            }
            out->have = out->admit = 1;
            break;
        }
    }
    if (s->ops->release_get(s, r->release_id, &out->rel) != 0) {
        c->err = -1;
        return -1;
    }
    out->rollout = *r;
    return 1;
}

/* Rollouts newest first: the first that has something for the device wins.
 * Decided on the rollout as read; an admission (a new member, which the
 * wave bound, the start limit and the rules count) is decided again on the
 * rollout's row, locked: admissions, outcomes and admin changes of one
 * rollout take their turns, each seeing what the one before committed. */
static int choose_rollout(void *ctx, const struct fleet_rollout *r)
{
    struct choose_ctx *c = ctx;
    struct decision before = *c->out;
    int rc = choose_in(c, r);
    if (rc <= 0 || !c->out->admit)
        return rc;
    struct fleet_rollout locked;
    if (c->f->store->ops->rollout_lock(c->f->store, r->id, &locked) != 0) {
        c->err = -1;
        return -1;
    }
    *c->out = before;
    return choose_in(c, &locked);
}

static int decide(struct fleet *f, struct fleet_device *dev, const struct memberships *ms,
                  int64_t now, struct decision *out)
{
    struct fleet_store *s = f->store;
    memset(out, 0, sizeof *out);
    snprintf(out->why, sizeof out->why, "no rollout for this device");
    if (dev->pinned_release) {
        int r = s->ops->release_get(s, dev->pinned_release, &out->rel);
        if (r < 0)
            return -1;
        if (r == 0 && strcmp(out->rel.product, dev->product) == 0)
            out->have = 1;
        else
            note(out, "pinned to release %" PRId64 ", which is not a release of %s",
                 dev->pinned_release, dev->product);
        return 0;
    }
    struct choose_ctx c = {f, dev, ms, now, out, 0};
    if (s->ops->rollout_list(s, dev->product, choose_rollout, &c) < 0 || c.err)
        return -1;
    return 0;
}

/* The anti-replay and anti-rollback rules of the device, applied before an
 * offer: an offer the device must refuse is never made. */
static int offer_allowed(struct fleet *f, const struct fleet_device *d,
                         const struct fleet_release *rel, char *why, size_t size, int *up_to_date)
{
    *up_to_date = 0;
    uint32_t seen = d->sequence > d->offered_sequence ? d->sequence : d->offered_sequence;
    if (rel->version_code <= d->version_code) {
        *up_to_date = 1;
        snprintf(why, size, "up to date: runs %u, release %s is %u", (unsigned)d->version_code,
                 rel->version, (unsigned)rel->version_code);
        return 0;
    }
    if (rel->sequence < seen) {
        snprintf(why, size,
                 "release %s has sequence %u, below %u the device has seen: never offered "
                 "(the device would refuse it as a replay)",
                 rel->version, (unsigned)rel->sequence, (unsigned)seen);
        return 0;
    }
    struct fleet_release running;
    int r = f->store->ops->release_by_code(f->store, d->product, d->version_code, &running);
    if (r < 0)
        return -1;
    if (r == 0 && rel->security_counter < running.security_counter) {
        snprintf(why, size,
                 "release %s has security counter %u, below the running release's %u: never "
                 "offered (anti-rollback)",
                 rel->version, (unsigned)rel->security_counter,
                 (unsigned)running.security_counter);
        return 0;
    }
    return 1;
}

static void apply_report(struct fleet_device *d, const struct fleet_report *in, int64_t now)
{
    snprintf(d->product, sizeof d->product, "%s", in->product);
    snprintf(d->protocol, sizeof d->protocol, "%s", in->protocol);
    snprintf(d->version, sizeof d->version, "%s", in->version);
    d->version_code = in->version_code;
    if (in->has_sequence)
        d->sequence = in->sequence;
    snprintf(d->image, sizeof d->image, "%s", in->image);
    if (in->has_last) {
        snprintf(d->last_event, sizeof d->last_event, "%s", in->last_event);
        d->last_error = in->last_error;
        d->last_version = in->last_version;
    }
    snprintf(d->address, sizeof d->address, "%s", in->address);
    d->last_seen = now;
    d->checkins++;
}

/* A device as it is first seen, before its first check-in is applied. */
static void new_device(const struct fleet_report *in, int64_t now, struct fleet_device *d)
{
    memset(d, 0, sizeof *d);
    snprintf(d->id, sizeof d->id, "%s", in->id);
    snprintf(d->product, sizeof d->product, "%s", in->product);
    snprintf(d->channel, sizeof d->channel, "stable");
    d->first_seen = now;
    d->bucket = fleet_bucket(in->id);
}

static int load_device(struct fleet *f, const struct fleet_report *in, int64_t now,
                       struct fleet_device *d)
{
    struct fleet_store *s = f->store;
    int r = s->ops->device_lock(s, in->id, d);
    if (r == FLEET_NOT_FOUND && !s->group_commit) {
        /* several connections: the row is added (unless another instance
         * just did) and then locked, so that two first check-ins of one
         * device take turns like any others */
        new_device(in, now, d);
        r = s->ops->device_add(s, d);
        if (r == 0)
            r = s->ops->device_lock(s, in->id, d);
    }
    if (r < 0)
        return -1;
    if (r == FLEET_NOT_FOUND)
        new_device(in, now, d);
    /* a row device_add() added has not checked in yet: first seen */
    int64_t prev_code = d->checkins == 0 ? -1 : (int64_t)d->version_code;
    apply_report(d, in, now);
    /* the history behind the dashboard's versions over time: only changes */
    if (s->ops->version_log && prev_code != (int64_t)d->version_code) {
        struct fleet_version_change c;
        memset(&c, 0, sizeof c);
        snprintf(c.product, sizeof c.product, "%s", d->product);
        snprintf(c.device, sizeof c.device, "%s", d->id);
        snprintf(c.version, sizeof c.version, "%s", d->version);
        c.at = now;
        c.prev_code = prev_code;
        c.code = d->version_code;
        if (s->ops->version_log(s, &c) < 0)
            return -1;
    }
    return 0;
}

/* A device's pending offers get their outcome: it now runs the release
 * (success), or reports a failure or rollback of it; a failure before any
 * version was named counts when the outcome changed since the offer. Every
 * rollout whose member changed, or whose rules would change it now, is
 * then re-evaluated on its row locked (see choose_rollout). */
static int settle(struct fleet *f, const struct fleet_device *d, struct memberships *ms,
                  int64_t now)
{
    struct fleet_store *s = f->store;
    for (size_t i = 0; i < ms->n; i++) {
        struct fleet_member *pm = &ms->m[i];
        if (pm->state != MEMBER_OFFERED)
            continue;
        struct fleet_member before = *pm, m = *pm;
        struct fleet_rollout r;
        struct fleet_release rel;
        if (s->ops->rollout_get(s, m.rollout_id, &r) != 0 ||
            s->ops->release_get(s, r.release_id, &rel) != 0)
            continue;
        char now_outcome[48];
        outcome_text(d, now_outcome, sizeof now_outcome);
        int bad = !strcmp(d->last_event, "failed") || !strcmp(d->last_event, "rolled-back");
        if (d->version_code >= rel.version_code) {
            m.state = MEMBER_SUCCEEDED;
            snprintf(m.outcome, sizeof m.outcome, "running %u", (unsigned)d->version_code);
        } else if (bad && (d->last_version == rel.version_code ||
                           (d->last_version == 0 && strcmp(now_outcome, m.prior_outcome) != 0))) {
            m.state = MEMBER_FAILED;
            snprintf(m.outcome, sizeof m.outcome, "%s", now_outcome);
        }
        if (m.state == before.state) {
            /* nothing new from this device: the rules are applied only
             * when they would change the rollout as read (so that check-ins
             * of devices still downloading do not queue for its lock) */
            struct fleet_rollout probe = r;
            int due = r.state == ROLLOUT_RUNNING ? evaluate(f, &probe, now, 0) : 0;
            if (due < 0)
                return -1;
            if (!due)
                continue;
        }
        if (s->ops->rollout_lock(s, m.rollout_id, &r) != 0)
            return -1;
        if (m.state != before.state) {
            m.decided = now;
            if (s->ops->member_put(s, &m) < 0)
                return -1;
            *pm = m;
            if (m.state == MEMBER_FAILED) {
                char err[48] = "";
                if (d->last_error)
                    snprintf(err, sizeof err, " (error %d)", (int)d->last_error);
                log_event(f, &r, now, "device %s %s %s%s", d->id,
                          !strcmp(d->last_event, "rolled-back") ? "rolled back" : "failed",
                          rel.version, err);
            }
        }
        if (fleet_evaluate(f, &r, now) < 0)
            return -1;
    }
    return 0;
}

static void etag_of(const char *text, size_t len, char out[40])
{
    uint8_t d[32];
    char hex[65];
    fota_sha256_digest(&FOTA_CRYPTO_HOST, text, len, d);
    util_hex(d, 32, hex);
    snprintf(out, 40, "\"%.32s\"", hex);
}

static int checkin_locked(struct fleet *f, const struct fleet_report *in, int64_t now,
                          struct fleet_answer *out)
{
    struct fleet_store *s = f->store;
    struct fleet_device d;
    struct memberships ms;
    memset(&ms, 0, sizeof ms);
    if (load_device(f, in, now, &d) < 0 ||
        s->ops->device_members(s, d.id, collect_member, &ms) < 0 || settle(f, &d, &ms, now) < 0)
        return -1;
    struct decision dec;
    if (decide(f, &d, &ms, now, &dec) < 0)
        return -1;
    out->status = 304;
    snprintf(out->note, sizeof out->note, "%s", dec.why);
    int up_to_date = 0;
    if (dec.have) {
        int ok = offer_allowed(f, &d, &dec.rel, out->note, sizeof out->note, &up_to_date);
        if (ok < 0)
            return -1;
        if (ok) {
            out->status = 200;
            out->len = strlen(dec.rel.manifest);
            memcpy(out->manifest, dec.rel.manifest, out->len + 1);
            etag_of(out->manifest, out->len, out->etag);
            if (dec.rollout.id)
                snprintf(out->note, sizeof out->note, "offered %s (rollout %" PRId64 ", wave %u)",
                         dec.rel.version, dec.rollout.id, (unsigned)dec.rollout.wave + 1);
            else
                snprintf(out->note, sizeof out->note, "offered %s (pinned)", dec.rel.version);
            if (dec.rel.sequence > d.offered_sequence)
                d.offered_sequence = dec.rel.sequence;
            if (in->if_none_match[0] && strstr(in->if_none_match, out->etag))
                out->status = 304; /* the device has this very manifest */
        }
        if ((ok || up_to_date) && dec.admit) {
            struct fleet_member m;
            memset(&m, 0, sizeof m);
            m.rollout_id = dec.rollout.id;
            snprintf(m.device_id, sizeof m.device_id, "%s", d.id);
            m.wave = dec.rollout.wave;
            m.offered = up_to_date ? 0 : now; /* only offers count against the start limit */
            outcome_text(&d, m.prior_outcome, sizeof m.prior_outcome);
            if (up_to_date) { /* already runs it (or newer): counts as done */
                m.state = MEMBER_SUCCEEDED;
                m.decided = now;
                snprintf(m.outcome, sizeof m.outcome, "running %u", (unsigned)d.version_code);
            }
            if (s->ops->member_put(s, &m) < 0)
                return -1;
            if (up_to_date && fleet_evaluate(f, &dec.rollout, now) < 0)
                return -1;
        }
    }
    snprintf(d.decision, sizeof d.decision, "%u: %.240s", out->status, out->note);
    return s->ops->device_put(s, &d);
}

/* ---- Transactions ----------------------------------------------------------------- */

/* Attempts of a transaction that keeps meeting a conflict (a deadlock
 * between two instances' row locks, SQLSTATE 40P01, or 40001): the waits
 * between them add up to about 1 s at most. */
#define CONFLICT_RETRIES 20
#define CONFLICT_BACKOFF_DOUBLINGS 6
#define GROUP_WINDOW_US 2000   /* longest wait for others to join a group */
#define GROUP_GAP_US 300       /* a group closes when nobody joined for this long */
#define GROUP_MAX 512

static void deadline_in(struct timespec *t, long us)
{
    clock_gettime(CLOCK_REALTIME, t);
    t->tv_nsec += us * 1000;
    t->tv_sec += t->tv_nsec / 1000000000;
    t->tv_nsec %= 1000000000;
}

static int before(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* One transaction on its own: begin, fn, commit. */
static int run_once(struct fleet *f, int (*fn)(struct fleet *, void *), void *ctx, int read_only)
{
    struct fleet_store *s = f->store;
    int r = s->ops->begin(s, read_only);
    if (r == 0)
        r = fn(f, ctx);
    if (r == 0)
        r = s->ops->commit(s);
    if (r < 0) {
        int conflict = s->conflict;
        char why[sizeof s->error];
        memcpy(why, s->error, sizeof why);
        s->ops->rollback(s);
        memcpy(s->error, why, sizeof why);
        s->conflict = conflict;
    }
    return r < 0 ? -1 : 0;
}

/* Run fn in a savepoint of the open group's transaction (opening one) and
 * add p to the group's members. Called with f->lock held. 0, or -1 when
 * the group could not be opened (then p is not added). */
static int group_join(struct fleet *f, int (*fn)(struct fleet *, void *), void *ctx,
                      struct fleet_pending *p)
{
    struct fleet_store *s = f->store;
    if (!f->group_open) {
        if (s->ops->begin(s, 0) < 0) {
            snprintf(p->err, sizeof p->err, "%s", fleet_store_error(s));
            return -1;
        }
        f->group_open = 1;
        f->group_size = 0;
        f->group_members = NULL;
    }
    int r = s->ops->savepoint(s, FLEET_SAVEPOINT_BEGIN);
    if (r == 0)
        r = fn(f, ctx);
    if (r < 0) {
        snprintf(p->err, sizeof p->err, "%s", fleet_store_error(s));
        s->ops->savepoint(s, FLEET_SAVEPOINT_UNDO);
    } else if ((r = s->ops->savepoint(s, FLEET_SAVEPOINT_KEEP)) < 0) {
        snprintf(p->err, sizeof p->err, "%s", fleet_store_error(s));
    }
    p->rc = r < 0 ? -1 : 0;
    p->next = f->group_members;
    f->group_members = p;
    f->group_size++;
    pthread_cond_signal(&f->joined);
    return 0;
}

/* The committer: waits for a group, lets it grow while others keep
 * joining (GROUP_GAP_US without a newcomer, GROUP_WINDOW_US at most),
 * commits it, syncs it without the lock, then answers its members. */
static void *committer(void *arg)
{
    struct fleet *f = arg;
    struct fleet_store *s = f->store;
    pthread_mutex_lock(&f->lock);
    for (;;) {
        while (!f->stopping && !f->group_members)
            pthread_cond_wait(&f->joined, &f->lock);
        if (!f->group_members)
            break;
        struct timespec end, gap, now;
        deadline_in(&end, GROUP_WINDOW_US);
        while (f->group_size < GROUP_MAX && !f->stopping) {
            unsigned seen = f->group_size;
            deadline_in(&gap, GROUP_GAP_US);
            if (before(&end, &gap))
                gap = end;
            while (f->group_size == seen &&
                   pthread_cond_timedwait(&f->joined, &f->lock, &gap) == 0) {
            }
            clock_gettime(CLOCK_REALTIME, &now);
            if (f->group_size == seen || !before(&now, &end))
                break;
        }
        char why[sizeof s->error] = "";
        int rc = s->ops->commit(s);
        if (rc < 0) {
            snprintf(why, sizeof why, "%s", fleet_store_error(s));
            s->ops->rollback(s);
        }
        struct fleet_pending *members = f->group_members;
        f->group_open = 0;
        f->group_members = NULL;
        pthread_mutex_unlock(&f->lock);
        if (rc == 0)
            rc = s->ops->sync(s, why, sizeof why);
        while (members) {
            struct fleet_pending *m = members;
            members = m->next; /* m may be gone once done */
            if (m->rc == 0 && rc < 0) {
                snprintf(m->err, sizeof m->err, "%s", why);
                m->rc = -1;
            }
            m->done(m);
        }
        pthread_mutex_lock(&f->lock);
    }
    pthread_mutex_unlock(&f->lock);
    return NULL;
}

/* Start the committer on first use. Called with f->lock held. */
static int committer_start(struct fleet *f, char *err, size_t err_size)
{
    if (f->committer_running)
        return 0;
    if (pthread_create(&f->committer, NULL, committer, f) != 0) {
        snprintf(err, err_size, "cannot start the commit thread");
        return -1;
    }
    f->committer_running = 1;
    return 0;
}

static void blocking_done(struct fleet_pending *p)
{
    struct fleet *f = p->owner;
    pthread_mutex_lock(&f->lock);
    p->finished = 1;
    pthread_cond_broadcast(&f->committed);
    pthread_mutex_unlock(&f->lock);
}

/* One transaction in the current group, waiting until it is durable.
 * Called with f->lock held. */
static int run_grouped(struct fleet *f, int (*fn)(struct fleet *, void *), void *ctx, char *err,
                       size_t err_size)
{
    struct fleet_pending p;
    memset(&p, 0, sizeof p);
    p.done = blocking_done;
    p.owner = f;
    if (committer_start(f, err, err_size) < 0)
        return -1;
    if (group_join(f, fn, ctx, &p) < 0) {
        snprintf(err, err_size, "%s", p.err);
        return -1;
    }
    while (!p.finished)
        pthread_cond_wait(&f->committed, &f->lock);
    if (p.rc < 0)
        snprintf(err, err_size, "%s", p.err);
    return p.rc;
}

/* A conflict's other side finishes first: wait a random time below a
 * bound that doubles with each attempt (1 ms, 2 ms, ... at most 64 ms), so
 * transactions that collided do not collide again in step. */
static void backoff(unsigned attempt, unsigned *seed)
{
    long bound_us = 1000L << (attempt < CONFLICT_BACKOFF_DOUBLINGS ? attempt
                                                                   : CONFLICT_BACKOFF_DOUBLINGS);
    struct timespec t = {0, (long)(rand_r(seed) % bound_us + 1) * 1000L};
    nanosleep(&t, NULL);
}

static int transact(struct fleet *f, int (*fn)(struct fleet *, void *), void *ctx, int read_only,
                    char *err, size_t err_size)
{
    struct fleet_store *s = f->store;
    int r = -1;
    pthread_mutex_lock(&f->lock);
    if (s->group_commit) {
        r = run_grouped(f, fn, ctx, err, err_size);
        pthread_mutex_unlock(&f->lock);
        return r;
    }
    unsigned seed = (unsigned)fleet_now_ms() ^ (unsigned)(uintptr_t)ctx;
    for (unsigned attempt = 0; attempt < CONFLICT_RETRIES; attempt++) {
        r = run_once(f, fn, ctx, read_only);
        if (r == 0 || !s->conflict)
            break;
        pthread_mutex_unlock(&f->lock);
        backoff(attempt, &seed);
        pthread_mutex_lock(&f->lock);
    }
    if (r < 0)
        snprintf(err, err_size, "%s%s", fleet_store_error(s),
                 s->conflict ? " (conflicts kept recurring)" : "");
    pthread_mutex_unlock(&f->lock);
    return r;
}

int fleet_transact(struct fleet *f, int (*fn)(struct fleet *, void *), void *ctx, char *err,
                   size_t err_size)
{
    return transact(f, fn, ctx, 0, err, err_size);
}

int fleet_read(struct fleet *f, int (*fn)(struct fleet *, void *), void *ctx, char *err,
               size_t err_size)
{
    return transact(f, fn, ctx, 1, err, err_size);
}

struct checkin_call {
    const struct fleet_report *in;
    int64_t now;
    struct fleet_answer *out;
};

static int checkin_fn(struct fleet *f, void *ctx)
{
    struct checkin_call *c = ctx;
    memset(c->out, 0, sizeof *c->out);
    return checkin_locked(f, c->in, c->now, c->out);
}

int fleet_checkin(struct fleet *f, const struct fleet_report *in, int64_t now,
                  struct fleet_answer *out)
{
    struct checkin_call c = {in, now, out};
    char err[300];
    if (fleet_transact(f, checkin_fn, &c, err, sizeof err) < 0) {
        snprintf(out->note, sizeof out->note, "fleet store: %.200s", err);
        return -1;
    }
    return 0;
}

int fleet_checkin_submit(struct fleet *f, const struct fleet_report *in, int64_t now,
                         struct fleet_answer *out, struct fleet_pending *p)
{
    if (!f->store->group_commit)
        return fleet_checkin(f, in, now, out);
    struct checkin_call c = {in, now, out};
    pthread_mutex_lock(&f->lock);
    int r = f->stopping ? (snprintf(p->err, sizeof p->err, "the server is stopping"), -1)
                        : committer_start(f, p->err, sizeof p->err);
    if (r == 0)
        r = group_join(f, checkin_fn, &c, p);
    pthread_mutex_unlock(&f->lock);
    if (r < 0) {
        snprintf(out->note, sizeof out->note, "fleet store: %.200s", p->err);
        return -1;
    }
    return 1;
}

static int record_fn(struct fleet *f, void *ctx)
{
    const struct checkin_call *c = ctx;
    struct fleet_device d;
    if (load_device(f, c->in, c->now, &d) < 0)
        return -1;
    snprintf(d.decision, sizeof d.decision, "recorded (%s): the server answers it itself",
             c->in->protocol);
    return f->store->ops->device_put(f->store, &d);
}

int fleet_record(struct fleet *f, const struct fleet_report *in, int64_t now, char *err,
                 size_t err_size)
{
    struct checkin_call c = {in, now, NULL};
    char why[300];
    if (fleet_transact(f, record_fn, &c, why, sizeof why) < 0) {
        snprintf(err, err_size, "fleet store: %s", why);
        return -1;
    }
    return 0;
}
