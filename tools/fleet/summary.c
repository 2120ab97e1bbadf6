/* The fleet at a glance, for the dashboard (summary.h). */
#define _POSIX_C_SOURCE 200809L
#include "summary.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet.h"
#include "fota/error.h"

/* Distinct (product, version) pairs shown one by one; more are summed as "other". */
#define VERSIONS_MAX 24
#define FAILING_MAX 100
#define ROLLOUTS_SHOWN 20
#define POINTS_MAX 200

struct version_key {
    char product[FLEET_PRODUCT_MAX + 1];
    uint32_t code;
    char version[FLEET_NAME_MAX + 1];
};

struct version_set {
    struct version_key key[VERSIONS_MAX];
    size_t n;
    int other; /* some did not fit */
};

/* The index of (product, code), added when new; VERSIONS_MAX when full ("other"). */
static size_t version_index(struct version_set *v, const char *product, uint32_t code,
                            const char *version)
{
    for (size_t i = 0; i < v->n; i++)
        if (v->key[i].code == code && !strcmp(v->key[i].product, product)) {
            if (!v->key[i].version[0] && version[0])
                snprintf(v->key[i].version, sizeof v->key[i].version, "%s", version);
            return i;
        }
    if (v->n == VERSIONS_MAX) {
        v->other = 1;
        return VERSIONS_MAX;
    }
    struct version_key *k = &v->key[v->n];
    snprintf(k->product, sizeof k->product, "%s", product);
    snprintf(k->version, sizeof k->version, "%s", version);
    k->code = code;
    return v->n++;
}

/* "2.0.0": the released version with that code, else the code read as
 * MAJOR*1000000 + MINOR*1000 + PATCH (docs/manifest.md); what a device sent
 * only when its version has no code (the stock updater's free-form strings). */
static void version_label(struct fleet *f, const struct version_key *k, char *out, size_t size)
{
    struct fleet_release rel;
    if (f->store->ops->release_by_code(f->store, k->product, k->code, &rel) == 0)
        snprintf(out, size, "%s", rel.version);
    else if (!k->code && k->version[0])
        snprintf(out, size, "%s", k->version);
    else
        snprintf(out, size, "%u.%u.%u", (unsigned)(k->code / 1000000),
                 (unsigned)(k->code / 1000 % 1000), (unsigned)(k->code % 1000));
}

static json_t *version_json(struct fleet *f, const struct version_key *k)
{
    char label[FLEET_NAME_MAX + 16];
    version_label(f, k, label, sizeof label);
    return json_pack("{s:s, s:s, s:I}", "product", k->product, "version", label, "version_code",
                     (json_int_t)k->code);
}

/* ---- Summary ----------------------------------------------------------------------- */

/* What a device's last report says, as the dashboard groups it. */
static const char *const outcome_names[] = {"no update reported", "confirmed", "activated",
                                            "failed", "rolled-back"};
#define OUTCOMES (sizeof outcome_names / sizeof outcome_names[0])

static size_t outcome_of(const struct fleet_device *d)
{
    for (size_t i = 1; i < OUTCOMES; i++)
        if (!strcmp(d->last_event, outcome_names[i]))
            return i;
    return 0;
}

/* Last check-in within 5 minutes, an hour, a day, or longer ago. */
static const int64_t seen_limit_ms[] = {5 * 60000, 3600000, 86400000};
static const char *const seen_names[] = {"5 minutes", "1 hour", "1 day", "longer"};
#define SEEN_BANDS 4

struct summary_ctx {
    struct fleet *f;
    int64_t now;
    uint32_t devices;
    struct version_set versions;
    uint32_t per_version[VERSIONS_MAX + 1];
    uint32_t per_outcome[OUTCOMES];
    uint32_t per_seen[SEEN_BANDS];
    int64_t newest, oldest;
    uint32_t failing;
    json_t *failing_list;
};

static int summary_device_cb(void *ctx, const struct fleet_device *d)
{
    struct summary_ctx *c = ctx;
    c->devices++;
    c->per_version[version_index(&c->versions, d->product, d->version_code, d->version)]++;
    size_t o = outcome_of(d);
    c->per_outcome[o]++;
    size_t band = 0;
    while (band < SEEN_BANDS - 1 && c->now - d->last_seen > seen_limit_ms[band])
        band++;
    c->per_seen[band]++;
    if (d->last_seen > c->newest)
        c->newest = d->last_seen;
    if (!c->oldest || d->last_seen < c->oldest)
        c->oldest = d->last_seen;
    if (o >= 3) { /* failed or rolled back */
        if (c->failing++ < FAILING_MAX)
            json_array_append_new(
                c->failing_list,
                json_pack("{s:s, s:s, s:s, s:I, s:s, s:i, s:s, s:I, s:o, s:s, s:s}", "id", d->id,
                          "product", d->product, "version", d->version, "version_code",
                          (json_int_t)d->version_code, "event", d->last_event, "error",
                          (int)d->last_error, "error_name",
                          d->last_error ? fota_strerror(d->last_error) : "", "attempted",
                          (json_int_t)d->last_version, "last_seen",
                          fleet_time_json(d->last_seen), "decision", d->decision, "address",
                          d->address));
    }
    return 0;
}

struct wave_progress {
    uint32_t offered[FLEET_WAVES_MAX], succeeded[FLEET_WAVES_MAX], failed[FLEET_WAVES_MAX];
};

static int member_cb(void *ctx, const struct fleet_member *m)
{
    struct wave_progress *p = ctx;
    if (m->wave >= FLEET_WAVES_MAX)
        return 0;
    if (m->state == MEMBER_SUCCEEDED)
        p->succeeded[m->wave]++;
    else if (m->state == MEMBER_FAILED)
        p->failed[m->wave]++;
    else
        p->offered[m->wave]++;
    return 0;
}

struct rollouts_ctx {
    struct fleet *f;
    json_t *list;
    unsigned n;
    int failed;
};

/* Members per wave they were admitted in (the API's rollout view has the
 * totals and each wave's targeted count; the bars need the split). */
static int progress_rollout_cb(void *ctx, const struct fleet_rollout *r)
{
    struct rollouts_ctx *c = ctx;
    if (c->n++ >= ROLLOUTS_SHOWN)
        return 1;
    struct wave_progress p;
    memset(&p, 0, sizeof p);
    if (c->f->store->ops->member_list(c->f->store, r->id, member_cb, &p) < 0) {
        c->failed = 1;
        return 1;
    }
    json_t *waves = json_array();
    for (uint32_t i = 0; i < r->n_waves && i < FLEET_WAVES_MAX; i++)
        json_array_append_new(waves, json_pack("{s:I, s:I, s:I}", "in_progress",
                                               (json_int_t)p.offered[i], "succeeded",
                                               (json_int_t)p.succeeded[i], "failed",
                                               (json_int_t)p.failed[i]));
    json_array_append_new(c->list, json_pack("{s:I, s:o}", "id", (json_int_t)r->id, "waves",
                                             waves));
    return 0;
}

json_t *fleet_summary_json(struct fleet *f, const char *product, int64_t now_ms, char *err,
                           size_t err_size)
{
    struct fleet_store *s = f->store;
    struct summary_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    c->f = f;
    c->now = now_ms;
    c->failing_list = json_array();
    struct rollouts_ctx rc = {f, json_array(), 0, 0};
    if (s->ops->device_list(s, product, summary_device_cb, c) < 0 ||
        s->ops->rollout_list(s, product, progress_rollout_cb, &rc) < 0 || rc.failed) {
        snprintf(err, err_size, "%s", fleet_store_error(s));
        json_decref(c->failing_list);
        json_decref(rc.list);
        free(c);
        return NULL;
    }
    /* each failing device's running version, labelled as in by_version (the
     * labels read the store, so not inside device_list's callback) */
    size_t idx;
    json_t *item;
    json_array_foreach(c->failing_list, idx, item) {
        struct version_key k;
        memset(&k, 0, sizeof k);
        snprintf(k.product, sizeof k.product, "%s",
                 json_string_value(json_object_get(item, "product")));
        snprintf(k.version, sizeof k.version, "%s",
                 json_string_value(json_object_get(item, "version")));
        k.code = (uint32_t)json_integer_value(json_object_get(item, "version_code"));
        char label[FLEET_NAME_MAX + 16];
        version_label(f, &k, label, sizeof label);
        json_object_set_new(item, "running", json_string(label));
        k.code = (uint32_t)json_integer_value(json_object_get(item, "attempted"));
        k.version[0] = 0;
        version_label(f, &k, label, sizeof label);
        json_object_set_new(item, "attempted_version", json_string(k.code ? label : ""));
    }
    json_t *by_version = json_array();
    for (size_t i = 0; i < c->versions.n; i++) {
        json_t *v = version_json(f, &c->versions.key[i]);
        json_object_set_new(v, "devices", json_integer(c->per_version[i]));
        json_array_append_new(by_version, v);
    }
    if (c->versions.other)
        json_array_append_new(by_version,
                              json_pack("{s:s, s:s, s:n, s:I}", "product", "", "version",
                                        "other", "version_code", "devices",
                                        (json_int_t)c->per_version[VERSIONS_MAX]));
    json_t *by_state = json_array();
    for (size_t i = 0; i < OUTCOMES; i++)
        json_array_append_new(by_state, json_pack("{s:s, s:I}", "state", outcome_names[i],
                                                  "devices", (json_int_t)c->per_outcome[i]));
    json_t *seen = json_array();
    for (size_t i = 0; i < SEEN_BANDS; i++)
        json_array_append_new(seen, json_pack("{s:s, s:I}", "within", seen_names[i], "devices",
                                              (json_int_t)c->per_seen[i]));
    json_t *j = json_pack("{s:o, s:I, s:o, s:o, s:o, s:o, s:o, s:I, s:o, s:o}", "now",
                          fleet_time_json(now_ms), "devices", (json_int_t)c->devices,
                          "by_version", by_version, "by_state", by_state, "last_seen", seen,
                          "newest_check_in", fleet_time_json(c->newest), "oldest_check_in",
                          fleet_time_json(c->oldest), "failing_total", (json_int_t)c->failing,
                          "failing", c->failing_list, "rollout_waves", rc.list);
    free(c);
    if (!j)
        snprintf(err, err_size, "out of memory");
    return j;
}

/* ---- Versions over time -------------------------------------------------------------- */

struct history_ctx {
    int64_t from, step, now;
    unsigned points, next;      /* samples taken so far */
    struct version_set versions;
    /* devices per version now, and at each sample; other versions last */
    int64_t count[VERSIONS_MAX + 1];
    uint32_t (*sample)[VERSIONS_MAX + 1];
};

static void take_samples(struct history_ctx *h, int64_t until)
{
    while (h->next < h->points && h->from + (int64_t)h->next * h->step <= until) {
        for (size_t i = 0; i <= VERSIONS_MAX; i++)
            h->sample[h->next][i] = h->count[i] > 0 ? (uint32_t)h->count[i] : 0;
        h->next++;
    }
}

static int history_cb(void *ctx, const struct fleet_version_change *c)
{
    struct history_ctx *h = ctx;
    if (!h->step) { /* the first change fixes the time axis */
        h->from = c->at < h->now ? c->at : h->now;
        h->step = (h->now - h->from) / (h->points > 1 ? h->points - 1 : 1);
        if (h->step < 1)
            h->step = 1;
    }
    take_samples(h, c->at - 1); /* the samples before this change */
    if (c->prev_code >= 0) {
        /* its version before: the label of that code is already known */
        size_t p = version_index(&h->versions, c->product, (uint32_t)c->prev_code, "");
        h->count[p]--;
    }
    h->count[version_index(&h->versions, c->product, c->code, c->version)]++;
    return 0;
}

json_t *fleet_history_json(struct fleet *f, const char *product, unsigned points,
                           int64_t now_ms, char *err, size_t err_size)
{
    struct fleet_store *s = f->store;
    if (!s->ops->version_history) {
        snprintf(err, err_size, "this store keeps no version history");
        return NULL;
    }
    if (points < 2)
        points = 2;
    if (points > POINTS_MAX)
        points = POINTS_MAX;
    struct history_ctx *h = calloc(1, sizeof *h);
    uint32_t(*sample)[VERSIONS_MAX + 1] = calloc(points, sizeof *sample);
    if (!h || !sample) {
        free(h);
        free(sample);
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    h->sample = sample;
    h->points = points;
    h->now = now_ms;
    if (s->ops->version_history(s, product, history_cb, h) < 0) {
        snprintf(err, err_size, "%s", fleet_store_error(s));
        free(sample);
        free(h);
        return NULL;
    }
    json_t *times = json_array(), *series = json_array();
    if (h->step) {
        take_samples(h, now_ms);
        for (unsigned t = 0; t < h->next; t++)
            json_array_append_new(times, json_integer(h->from + (int64_t)t * h->step));
        size_t n = h->versions.n + (h->versions.other ? 1 : 0);
        for (size_t i = 0; i < n; i++) {
            size_t col = i < h->versions.n ? i : VERSIONS_MAX;
            json_t *v = col < VERSIONS_MAX
                            ? version_json(f, &h->versions.key[col])
                            : json_pack("{s:s, s:s, s:n}", "product", "", "version", "other",
                                        "version_code");
            json_t *counts = json_array();
            for (unsigned t = 0; t < h->next; t++)
                json_array_append_new(counts, json_integer(h->sample[t][col]));
            json_object_set_new(v, "devices", counts);
            json_array_append_new(series, v);
        }
    }
    free(sample);
    free(h);
    json_t *j = json_pack("{s:o, s:o}", "times_ms", times, "series", series);
    if (!j)
        snprintf(err, err_size, "out of memory");
    return j;
}
