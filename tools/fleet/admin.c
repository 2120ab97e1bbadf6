/* The fleet admin API (admin.h, docs/fleet.md). */
#define _POSIX_C_SOURCE 200809L
#include "admin.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>

#include <jansson.h>
#include <mbedtls/constant_time.h>
#include <microhttpd.h>

#include "dashboard.h"
#include "fleet.h"
#include "fota/error.h"
#include "fota/manifest.h"
#include "fota_crypto_backends.h"
#include "summary.h"
#include "util.h"

#define BODY_MAX 65536

struct fleet_admin {
    struct fleet *fleet;
    struct MHD_Daemon *d;
    unsigned port;
    struct fleet_dashboard *dash; /* the pages at /dashboard/ and their sessions */
};

struct admin_request {
    char *body;
    size_t len;
    int too_big;
};

/* ---- JSON views of the records ------------------------------------------------- */

json_t *fleet_time_json(int64_t ms)
{
    if (!ms)
        return json_null();
    char out[32];
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_string(out);
}

static json_t *device_json(struct fleet *f, const struct fleet_device *d)
{
    char groups[FLEET_TEXT_MAX] = "";
    f->store->ops->device_groups(f->store, d->id, groups, sizeof groups);
    json_t *last = json_null();
    if (d->last_event[0])
        last = json_pack("{s:s, s:i, s:s, s:I}", "event", d->last_event, "error",
                         (json_int_t)d->last_error, "error_name",
                         d->last_error ? fota_strerror(d->last_error) : "",
                         "version_code", (json_int_t)d->last_version);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:o, s:s, s:o, s:o, s:o, s:s, "
                     "s:I, s:s}",
                     "id", d->id, "product", d->product, "channel", d->channel, "protocol",
                     d->protocol, "version", d->version, "version_code",
                     (json_int_t)d->version_code, "sequence", (json_int_t)d->sequence, "image",
                     d->image, "last", last, "address", d->address, "first_seen",
                     fleet_time_json(d->first_seen), "last_seen", fleet_time_json(d->last_seen),
                     "pinned_release", d->pinned_release ? json_integer(d->pinned_release)
                                                         : json_null(),
                     "groups", groups, "bucket", (json_int_t)d->bucket, "decision",
                     d->decision);
}

static json_t *release_json(const struct fleet_release *r, int with_manifest)
{
    json_t *j = json_pack("{s:I, s:s, s:s, s:I, s:I, s:I, s:I, s:s, s:o}", "id",
                          (json_int_t)r->id, "product", r->product, "version", r->version,
                          "version_code", (json_int_t)r->version_code, "sequence",
                          (json_int_t)r->sequence, "security_counter",
                          (json_int_t)r->security_counter, "size", (json_int_t)r->size,
                          "sha256", r->sha256, "created", fleet_time_json(r->created));
    if (j && with_manifest)
        json_object_set_new(j, "manifest", json_string(r->manifest));
    return j;
}

static void wave_label(const struct fleet_wave *w, char *out, size_t size)
{
    if (w->percent_x100 % 100)
        snprintf(out, size, "%u.%02u%%", (unsigned)(w->percent_x100 / 100),
                 (unsigned)(w->percent_x100 % 100));
    else if (w->percent_x100)
        snprintf(out, size, "%u%%", (unsigned)(w->percent_x100 / 100));
    else
        snprintf(out, size, "%u", (unsigned)w->count);
}

static int history_cb(void *ctx, int64_t at, const char *text)
{
    json_array_append_new(ctx, json_pack("{s:o, s:s}", "at", fleet_time_json(at), "text", text));
    return 0;
}

static json_t *rollout_json(struct fleet *f, const struct fleet_rollout *r, int detail)
{
    struct fleet_store *s = f->store;
    struct fleet_release rel;
    int have_rel = s->ops->release_get(s, r->release_id, &rel) == 0;
    struct fleet_counts c = {0, 0, 0};
    s->ops->member_counts(s, r->id, &c);
    json_t *waves = json_array();
    for (uint32_t i = 0; i < r->n_waves; i++) {
        char label[24];
        wave_label(&r->waves[i], label, sizeof label);
        uint32_t targeted = 0;
        if (r->waves[i].opened)
            s->ops->targeted_count(s, r, r->waves[i].threshold, &targeted);
        json_array_append_new(
            waves, json_pack("{s:s, s:o, s:o, s:o}", "size", label, "opened",
                             fleet_time_json(r->waves[i].opened), "targeted",
                             r->waves[i].opened ? json_integer(targeted) : json_null(),
                             "current", json_boolean(i == r->wave)));
    }
    json_t *j = json_pack(
        "{s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:I, s:o, s:{s:I, s:I, s:I}, s:I, s:I, s:I, s:I, "
        "s:s, s:o, s:o}",
        "id", (json_int_t)r->id, "release", (json_int_t)r->release_id, "version",
        have_rel ? rel.version : "?", "product", r->product, "channel", r->channel, "groups",
        r->groups, "state", fleet_rollout_state_name(r->state), "wave",
        (json_int_t)r->wave + 1, "waves", waves, "devices", "offered", (json_int_t)c.offered,
        "succeeded", (json_int_t)c.succeeded, "failed", (json_int_t)c.failed, "success_pct",
        (json_int_t)r->success_pct, "failure_pct", (json_int_t)r->failure_pct, "min_sample",
        (json_int_t)r->min_sample, "per_minute", (json_int_t)r->per_minute, "reason",
        r->reason, "created", fleet_time_json(r->created), "updated", fleet_time_json(r->updated));
    if (j && detail) {
        json_t *hist = json_array();
        s->ops->rollout_history(s, r->id, history_cb, hist);
        json_object_set_new(j, "history", hist);
    }
    return j;
}

/* ---- Responses ------------------------------------------------------------------ */

static enum MHD_Result queue_json(struct MHD_Connection *conn, unsigned status, json_t *j)
{
    char *text = j ? json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    json_decref(j);
    if (!text)
        return MHD_NO;
    size_t n = strlen(text);
    text[n] = 0;
    char *body = malloc(n + 2);
    if (!body) {
        free(text);
        return MHD_NO;
    }
    memcpy(body, text, n);
    body[n] = '\n';
    free(text);
    struct MHD_Response *resp = MHD_create_response_from_buffer(n + 1, body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    fleet_dashboard_secure_headers(resp);
    if (status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"fota fleet\"");
    enum MHD_Result r = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return r;
}

/* {"error": MESSAGE} */
static json_t *error_object(const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    return json_pack("{s:s}", "error", msg);
}

static enum MHD_Result queue_error(struct MHD_Connection *conn, unsigned status, const char *fmt,
                                   ...)
{
    va_list ap;
    va_start(ap, fmt);
    json_t *j = error_object(fmt, ap);
    va_end(ap);
    return queue_json(conn, status, j);
}

/* The answer of a route, built inside its transaction and queued only once
 * that committed: a transaction run again after a conflict builds it again,
 * and one that fails is answered 500, never with what it would have done. */
struct reply {
    struct MHD_Connection *conn; /* the request (its query arguments) */
    unsigned status;
    json_t *json;
};

static enum MHD_Result send_json(struct reply *out, unsigned status, json_t *j)
{
    json_decref(out->json);
    out->status = status;
    out->json = j;
    return j ? MHD_YES : MHD_NO;
}

static enum MHD_Result error_json(struct reply *out, unsigned status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    json_t *j = error_object(fmt, ap);
    va_end(ap);
    return send_json(out, status, j);
}



/* ---- Authentication --------------------------------------------------------------- */

struct auth_ctx {
    uint8_t want[32];
    int match;
};

static int auth_cb(void *ctx, const uint8_t hash[32])
{
    struct auth_ctx *a = ctx;
    a->match |= mbedtls_ct_memcmp(a->want, hash, 32) == 0;
    return 0;
}

static void sha256_of(const char *text, uint8_t out[32])
{
    if (fota_sha256_digest(&FOTA_CRYPTO_HOST, text, strlen(text), out) != 0)
        memset(out, 0xFF, 32); /* matches no stored token hash */
}

int fleet_admin_token_ok(struct fleet *f, const char *token)
{
    if (strlen(token) > 256)
        return 0;
    struct auth_ctx a;
    memset(&a, 0, sizeof a);
    sha256_of(token, a.want); /* the hash is compared, with every stored one */
    pthread_mutex_lock(&f->lock);
    int r = f->store->ops->token_hashes(f->store, auth_cb, &a);
    pthread_mutex_unlock(&f->lock);
    return r < 0 ? -1 : a.match;
}

/* 0: allowed; otherwise the status answered. Without a bearer token, the
 * dashboard's session cookie (with its CSRF checks on POST) may do. */
static unsigned authenticate(struct fleet_admin *adm, struct MHD_Connection *conn,
                             const char *method, const char **why)
{
    const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!h)
        return fleet_dashboard_authenticate(adm->dash, conn, method, why);
    if (strncmp(h, "Bearer ", 7) != 0 || strlen(h + 7) > 256) {
        *why = "Authorization is not \"Bearer TOKEN\"";
        return MHD_HTTP_UNAUTHORIZED;
    }
    int ok = fleet_admin_token_ok(adm->fleet, h + 7);
    if (ok < 0) {
        *why = "cannot read the tokens";
        return MHD_HTTP_INTERNAL_SERVER_ERROR;
    }
    if (!ok) {
        *why = "token not accepted";
        return MHD_HTTP_UNAUTHORIZED;
    }
    return 0;
}

int fleet_token_create(struct fleet *f, const char *name, char out[70], char *err,
                       size_t err_size)
{
    uint8_t raw[32], hash[32];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
        snprintf(err, err_size, "getrandom: %s", strerror(errno));
        return -1;
    }
    memcpy(out, "fota_", 5);
    util_hex(raw, sizeof raw, out + 5);
    sha256_of(out, hash);
    pthread_mutex_lock(&f->lock);
    int r = f->store->ops->token_add(f->store, name, hash);
    pthread_mutex_unlock(&f->lock);
    char why[256];
    if (r == 0 && f->store->ops->sync(f->store, why, sizeof why) < 0) {
        snprintf(err, err_size, "%s", why);
        return -1;
    }
    if (r < 0) {
        snprintf(err, err_size, "%s", fleet_store_error(f->store));
        return -1;
    }
    return 0;
}

/* ---- Routes --------------------------------------------------------------------------- */

struct list_ctx {
    struct fleet *f;
    json_t *arr;
};

static int device_cb(void *ctx, const struct fleet_device *d)
{
    struct list_ctx *c = ctx;
    json_array_append_new(c->arr, device_json(c->f, d));
    return 0;
}

static int group_cb(void *ctx, const char *g, uint32_t n)
{
    json_array_append_new(ctx, json_pack("{s:s, s:I}", "name", g, "devices", (json_int_t)n));
    return 0;
}

static int release_cb(void *ctx, const struct fleet_release *r)
{
    json_array_append_new(ctx, release_json(r, 0));
    return 0;
}

static int rollout_cb(void *ctx, const struct fleet_rollout *r)
{
    struct list_ctx *c = ctx;
    json_array_append_new(c->arr, rollout_json(c->f, r, 0));
    return 0;
}

static int64_t parse_id(const char *s)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    return errno || *end || v <= 0 || s[0] < '0' || s[0] > '9' ? 0 : (int64_t)v;
}

/* "10%", "0.5%", "25" (a count) */
static int parse_wave(const char *t, struct fleet_wave *w)
{
    memset(w, 0, sizeof *w);
    size_t n = strlen(t);
    if (n == 0 || n > 10)
        return -1;
    if (t[n - 1] == '%') {
        unsigned whole = 0, frac = 0, digits = 0;
        const char *p = t;
        for (; *p >= '0' && *p <= '9'; p++)
            whole = whole * 10 + (unsigned)(*p - '0');
        if (p == t)
            return -1;
        if (*p == '.')
            for (p++; *p >= '0' && *p <= '9' && digits < 2; p++, digits++)
                frac = frac * 10 + (unsigned)(*p - '0');
        if (*p != '%' || p[1] || whole > 100)
            return -1;
        if (digits == 1)
            frac *= 10;
        w->percent_x100 = whole * 100 + frac;
        return w->percent_x100 > 0 && w->percent_x100 <= 10000 ? 0 : -1;
    }
    uint32_t c;
    if (util_parse_u32(t, &c) < 0 || c == 0)
        return -1;
    w->count = c;
    return 0;
}

static uint32_t get_u32(json_t *o, const char *key, uint32_t dflt, int *bad)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return dflt;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 0xFFFFFFFFLL) {
        *bad = 1;
        return dflt;
    }
    return (uint32_t)json_integer_value(v);
}

struct busy_ctx {
    const char *channel;
    int64_t busy;
};

static int busy_cb(void *ctx, const struct fleet_rollout *r)
{
    struct busy_ctx *b = ctx;
    if (!strcmp(r->channel, b->channel) &&
        (r->state == ROLLOUT_RUNNING || r->state == ROLLOUT_PAUSED)) {
        b->busy = r->id;
        return 1;
    }
    return 0;
}

static enum MHD_Result create_rollout(struct fleet *f, struct reply *out, json_t *in)
{
    struct fleet_store *s = f->store;
    struct fleet_rollout r;
    memset(&r, 0, sizeof r);
    json_t *rel = json_object_get(in, "release");
    if (!json_is_integer(rel))
        return error_json(out, 400, "\"release\" (a release id) is required");
    r.release_id = json_integer_value(rel);
    struct fleet_release release;
    if (s->ops->release_get(s, r.release_id, &release) != 0)
        return error_json(out, 404, "no release %" PRId64, r.release_id);
    snprintf(r.product, sizeof r.product, "%s", release.product);
    const char *channel = json_string_value(json_object_get(in, "channel"));
    snprintf(r.channel, sizeof r.channel, "%s", channel ? channel : "stable");
    if (!fleet_valid_name(r.channel, FLEET_NAME_MAX))
        return error_json(out, 400, "channel must be 1..%d of [A-Za-z0-9._-]", FLEET_NAME_MAX);
    const char *groups = json_string_value(json_object_get(in, "groups"));
    if (groups) {
        char copy[FLEET_TEXT_MAX];
        if (strlen(groups) >= sizeof copy)
            return error_json(out, 400, "groups: at most %d characters", FLEET_TEXT_MAX - 1);
        snprintf(copy, sizeof copy, "%s", groups);
        for (char *save = NULL, *g = strtok_r(copy, ",", &save); g; g = strtok_r(NULL, ",", &save))
            if (!fleet_valid_name(g, FLEET_NAME_MAX))
                return error_json(out, 400, "group '%s' is not 1..%d of [A-Za-z0-9._-]", g,
                                  FLEET_NAME_MAX);
        snprintf(r.groups, sizeof r.groups, "%s", groups);
    }
    json_t *waves = json_object_get(in, "waves");
    if (!waves)
        waves = json_pack("[s]", "100%");
    else
        json_incref(waves);
    size_t n = json_is_array(waves) ? json_array_size(waves) : 0;
    if (n == 0 || n > FLEET_WAVES_MAX) {
        json_decref(waves);
        return error_json(out, 400, "waves: a list of 1..%d sizes such as \"1%%\", \"10%%\", 25",
                          FLEET_WAVES_MAX);
    }
    for (size_t i = 0; i < n; i++) {
        json_t *w = json_array_get(waves, i);
        char t[16];
        if (json_is_integer(w))
            snprintf(t, sizeof t, "%" JSON_INTEGER_FORMAT, json_integer_value(w));
        else
            snprintf(t, sizeof t, "%s", json_is_string(w) ? json_string_value(w) : "");
        if (parse_wave(t, &r.waves[i]) < 0) {
            json_decref(waves);
            return error_json(out, 400, "wave %zu: '%s' is neither a share (\"10%%\") nor a count",
                              i + 1, t);
        }
        struct fleet_wave *prev = i ? &r.waves[i - 1] : NULL;
        if (prev && ((prev->percent_x100 && r.waves[i].percent_x100 &&
                      r.waves[i].percent_x100 <= prev->percent_x100) ||
                     (prev->count && r.waves[i].count && r.waves[i].count <= prev->count))) {
            json_decref(waves);
            return error_json(out, 400, "waves are cumulative: each must be larger than the one before");
        }
    }
    json_decref(waves);
    r.n_waves = (uint32_t)n;
    int bad = 0;
    r.success_pct = get_u32(in, "success", 90, &bad);
    r.failure_pct = get_u32(in, "failure", 10, &bad);
    r.min_sample = get_u32(in, "min_sample", 5, &bad);
    r.per_minute = get_u32(in, "per_minute", 0, &bad);
    if (bad || r.success_pct == 0 || r.success_pct > 100 || r.failure_pct > 100)
        return error_json(out, 400, "success 1..100, failure 0..100, min_sample and per_minute "
                                     "are whole numbers");
    struct busy_ctx b = {r.channel, 0};
    if (s->ops->rollout_list(s, r.product, busy_cb, &b) < 0)
        return error_json(out, 500, "%s", fleet_store_error(s));
    if (b.busy)
        return error_json(out, 409,
                          "rollout %" PRId64 " of %s on channel %s is still running or paused: "
                          "abort it (or let it complete) first",
                          b.busy, r.product, r.channel);
    int64_t now = fleet_now_ms();
    r.created = r.updated = now;
    r.state = ROLLOUT_RUNNING;
    if (s->ops->rollout_put(s, &r) < 0) /* another one created meanwhile: 409 */
        return error_json(out, s->duplicate ? 409 : 500, "%s", fleet_store_error(s));
    char salt[32];
    snprintf(salt, sizeof salt, "rollout-%" PRId64, r.id);
    r.offset = fleet_bucket(salt);
    if (fleet_open_wave(f, &r, 0, now) < 0 || s->ops->rollout_put(s, &r) < 0)
        return error_json(out, 500, "%s", fleet_store_error(s));
    char label[24], line[FLEET_TEXT_MAX * 2];
    wave_label(&r.waves[0], label, sizeof label);
    snprintf(line, sizeof line, "created: %s to channel %s%s%s, wave 1 (%s) opened",
             release.version, r.channel, r.groups[0] ? ", groups " : "", r.groups, label);
    s->ops->rollout_log(s, r.id, now, line);
    return send_json(out, 201, rollout_json(f, &r, 1));
}

static enum MHD_Result rollout_action(struct fleet *f, struct reply *out,
                                      struct fleet_rollout *r, const char *action, json_t *in)
{
    struct fleet_store *s = f->store;
    int64_t now = fleet_now_ms();
    const char *why = json_string_value(json_object_get(in, "reason"));
    char line[FLEET_TEXT_MAX];
    if (!strcmp(action, "pause")) {
        if (r->state != ROLLOUT_RUNNING)
            return error_json(out, 409, "rollout %" PRId64 " is %s, not running", r->id,
                              fleet_rollout_state_name(r->state));
        r->state = ROLLOUT_PAUSED;
        snprintf(r->reason, sizeof r->reason, "paused by hand%s%s", why ? ": " : "",
                 why ? why : "");
    } else if (!strcmp(action, "resume")) {
        if (r->state != ROLLOUT_PAUSED)
            return error_json(out, 409, "rollout %" PRId64 " is %s, not paused", r->id,
                              fleet_rollout_state_name(r->state));
        struct fleet_counts c;
        if (s->ops->member_counts(s, r->id, &c) < 0)
            return error_json(out, 500, "%s", fleet_store_error(s));
        /* The failures seen so far are acknowledged: the automatic pause
         * looks at what happens from now on. */
        r->ack_failed = c.failed;
        r->ack_reported = c.succeeded + c.failed;
        r->state = ROLLOUT_RUNNING;
        snprintf(r->reason, sizeof r->reason, "resumed by hand%s%s (%u failures acknowledged)",
                 why ? ": " : "", why ? why : "", (unsigned)c.failed);
    } else if (!strcmp(action, "abort")) {
        if (r->state == ROLLOUT_ABORTED || r->state == ROLLOUT_COMPLETED)
            return error_json(out, 409, "rollout %" PRId64 " is already %s", r->id,
                              fleet_rollout_state_name(r->state));
        r->state = ROLLOUT_ABORTED;
        snprintf(r->reason, sizeof r->reason,
                 "aborted by hand%s%s: no device is offered it any more; devices that installed "
                 "it keep it (see `fota fleet rollouts rollback`)",
                 why ? ": " : "", why ? why : "");
    } else {
        return error_json(out, 404, "no action '%s' (pause, resume, abort)", action);
    }
    r->updated = now;
    snprintf(line, sizeof line, "%s", r->reason);
    if (s->ops->rollout_put(s, r) < 0 || s->ops->rollout_log(s, r->id, now, line) < 0)
        return error_json(out, 500, "%s", fleet_store_error(s));
    if (r->state == ROLLOUT_RUNNING && fleet_evaluate(f, r, now) < 0)
        return error_json(out, 500, "%s", fleet_store_error(s));
    return send_json(out, 200, rollout_json(f, r, 1));
}

struct plan_ctx {
    const struct fleet_rollout *bad;
    const struct fleet_release *bad_rel;
    struct fleet *f;
    struct fleet_release good;
    int have_good, have_rollout_good;
    uint32_t max_sequence, max_code, max_security;
};

static int plan_release_cb(void *ctx, const struct fleet_release *r)
{
    struct plan_ctx *p = ctx;
    if (strcmp(r->product, p->bad->product) != 0)
        return 0;
    /* without a completed rollout before: the newest release below the bad one */
    if (!p->have_rollout_good && r->version_code < p->bad_rel->version_code &&
        (!p->have_good || r->version_code > p->good.version_code)) {
        p->good = *r;
        p->have_good = 1;
    }
    if (r->sequence > p->max_sequence)
        p->max_sequence = r->sequence;
    if (r->version_code > p->max_code)
        p->max_code = r->version_code;
    if (r->security_counter > p->max_security)
        p->max_security = r->security_counter;
    return 0;
}

static int plan_rollout_cb(void *ctx, const struct fleet_rollout *r)
{
    struct plan_ctx *p = ctx;
    if (p->have_rollout_good || r->id >= p->bad->id || r->state != ROLLOUT_COMPLETED ||
        strcmp(r->channel, p->bad->channel) != 0)
        return 0;
    p->have_rollout_good = p->have_good =
        p->f->store->ops->release_get(p->f->store, r->release_id, &p->good) == 0;
    return p->have_rollout_good;
}

/* "Roll back a rollout": devices refuse lower versions, sequences and
 * security counters, so the way back is forward: the last good firmware,
 * rebuilt with a higher version, released (signed offline) as new. */
static enum MHD_Result rollback_plan(struct fleet *f, struct reply *out,
                                     const struct fleet_rollout *r)
{
    struct fleet_store *s = f->store;
    struct fleet_release bad;
    if (s->ops->release_get(s, r->release_id, &bad) != 0)
        return error_json(out, 500, "release %" PRId64 " of rollout %" PRId64 " is missing",
                          r->release_id, r->id);
    struct plan_ctx p;
    memset(&p, 0, sizeof p);
    p.bad = r;
    p.bad_rel = &bad;
    p.f = f;
    if (s->ops->rollout_list(s, r->product, plan_rollout_cb, &p) < 0 ||
        s->ops->release_list(s, plan_release_cb, &p) < 0)
        return error_json(out, 500, "%s", fleet_store_error(s));
    if (!p.have_good)
        return error_json(out, 409,
                          "no completed rollout of %s on channel %s before rollout %" PRId64
                          " and no older release: no known good release to go back to",
                          r->product, r->channel, r->id);
    uint32_t code = p.max_code + 1, seq = p.max_sequence + 1;
    char cmd[1024];
    /* the version string whose code is `code` (docs/manifest.md) */
    snprintf(cmd, sizeof cmd,
             "fota release --key KEY.key --product %s --out DIR --version %u.%u.%u "
             "--version-code %u --sequence %u --security-counter %u FIRMWARE.bin",
             r->product, (unsigned)(code / 1000000), (unsigned)(code / 1000 % 1000),
             (unsigned)(code % 1000), (unsigned)code, (unsigned)seq, (unsigned)p.max_security);
    json_t *j = json_pack(
        "{s:I, s:o, s:o, s:{s:I, s:I, s:I}, s:[s, s, s, s], s:s}", "rollout", (json_int_t)r->id,
        "bad_release", release_json(&bad, 0), "good_release", release_json(&p.good, 0),
        "new_release_needs", "version_code_above", (json_int_t)p.max_code, "sequence_at_least",
        (json_int_t)seq, "security_counter_at_least", (json_int_t)p.max_security, "steps",
        "abort the bad rollout (fota fleet rollouts abort ID): nobody else starts it",
        "rebuild the good firmware's source with a version above the bad one, so devices "
        "report the new version code once they run it",
        "sign it offline as a new release with the values below (the server never signs)",
        "upload it (fota fleet releases add MANIFEST) and start a rollout of it",
        "release_command", cmd);
    return send_json(out, 200, j);
}

static enum MHD_Result add_release(struct fleet *f, struct reply *out,
                                   const struct admin_request *rq)
{
    struct fota_manifest m;
    int line = 0;
    if (!rq->body || rq->len == 0 || rq->len >= FLEET_MANIFEST_MAX)
        return error_json(out, 400, "send the manifest text (%d bytes at most) as the body",
                          FLEET_MANIFEST_MAX - 1);
    if (fota_manifest_parse(rq->body, rq->len, &m, &line) < 0)
        return error_json(out, 400, "not a fota manifest: line %d is malformed", line);
    if (f->n_keys) {
        int r = fota_manifest_verify(&m, rq->body, (const uint8_t(*)[65])f->keys, f->n_keys,
                                     &FOTA_CRYPTO_HOST);
        if (r < 0)
            return error_json(out, 400, "manifest signature does not verify with the "
                                         "server's --fleet-key: %s", fota_strerror(r));
    }
    struct fleet_release rel;
    memset(&rel, 0, sizeof rel);
    snprintf(rel.product, sizeof rel.product, "%s", m.product);
    snprintf(rel.version, sizeof rel.version, "%s", m.version);
    rel.version_code = m.version_code;
    rel.sequence = m.sequence;
    rel.security_counter = m.security_counter;
    rel.size = m.size;
    util_hex(m.sha256, 32, rel.sha256);
    memcpy(rel.manifest, rq->body, rq->len);
    rel.manifest[rq->len] = 0;
    rel.created = fleet_now_ms();
    if (f->store->ops->release_add(f->store, &rel) < 0)
        return error_json(out, 409, "%s", fleet_store_error(f->store));
    return send_json(out, 201, release_json(&rel, 0));
}

static enum MHD_Result device_change(struct fleet *f, struct reply *out,
                                     struct fleet_device *d, json_t *in)
{
    json_t *ch = json_object_get(in, "channel");
    if (ch) {
        if (!json_is_string(ch) || !fleet_valid_name(json_string_value(ch), FLEET_NAME_MAX))
            return error_json(out, 400, "channel must be 1..%d of [A-Za-z0-9._-]",
                              FLEET_NAME_MAX);
        snprintf(d->channel, sizeof d->channel, "%s", json_string_value(ch));
    }
    json_t *pin = json_object_get(in, "pin");
    if (pin) {
        if (json_is_null(pin)) {
            d->pinned_release = 0;
        } else {
            struct fleet_release rel;
            if (!json_is_integer(pin) ||
                f->store->ops->release_get(f->store, json_integer_value(pin), &rel) != 0)
                return error_json(out, 404, "pin: no such release");
            if (strcmp(rel.product, d->product) != 0)
                return error_json(out, 400, "release %" PRId64 " is for %s, device %s is %s",
                                  rel.id, rel.product, d->id, d->product);
            d->pinned_release = rel.id;
        }
    }
    if (f->store->ops->device_put(f->store, d) < 0)
        return error_json(out, 500, "%s", fleet_store_error(f->store));
    return send_json(out, 200, device_json(f, d));
}

static enum MHD_Result group_change(struct fleet *f, struct reply *out,
                                    const char *group, json_t *in)
{
    if (!fleet_valid_name(group, FLEET_NAME_MAX))
        return error_json(out, 400, "group names are 1..%d of [A-Za-z0-9._-]", FLEET_NAME_MAX);
    static const char *const keys[] = {"add", "remove"};
    for (int k = 0; k < 2; k++) {
        json_t *list = json_object_get(in, keys[k]);
        size_t i;
        json_t *v;
        if (list && !json_is_array(list))
            return error_json(out, 400, "\"%s\" is a list of device ids", keys[k]);
        json_array_foreach(list, i, v) {
            const char *id = json_string_value(v);
            if (!id || !fleet_valid_id(id))
                return error_json(out, 400, "\"%s\": not a device id", keys[k]);
            if (f->store->ops->group_set(f->store, group, id, k == 0) < 0)
                return error_json(out, 500, "%s", fleet_store_error(f->store));
        }
    }
    json_t *arr = json_array();
    f->store->ops->group_list(f->store, group_cb, arr);
    return send_json(out, 200, json_pack("{s:o}", "groups", arr));
}

/* Routes under /api/v1/. Runs under the fleet lock, in one transaction; the
 * answer goes to `out` and is sent once that committed (route_fn). */
static enum MHD_Result route(struct fleet *f, struct reply *out, const char *method,
                             const char *path, const struct admin_request *rq)
{
    struct fleet_store *s = f->store;
    int get = !strcmp(method, "GET"), post = !strcmp(method, "POST");
    char part[4][80];
    int n = 0;
    memset(part, 0, sizeof part);
    for (const char *p = path; *p && n < 4;) {
        while (*p == '/')
            p++;
        size_t len = strcspn(p, "/");
        if (!len)
            break;
        if (len >= sizeof part[0])
            return error_json(out, 404, "no such resource");
        memcpy(part[n++], p, len);
        p += len;
    }
    json_t *in = NULL;
    if (post && strcmp(part[0], "releases") != 0 && rq->len) {
        json_error_t je;
        in = json_loadb(rq->body, rq->len, 0, &je);
        if (!json_is_object(in)) {
            json_decref(in);
            return error_json(out, 400, "body is not a JSON object: %s", je.text);
        }
    }
    if (!in)
        in = json_object();
    enum MHD_Result r;
    const char *product = MHD_lookup_connection_value(out->conn, MHD_GET_ARGUMENT_KIND, "product");
    if (!get && !post) {
        r = error_json(out, 405, "%s is not used here: GET reads, POST changes", method);
    } else if (!strcmp(part[0], "devices") && n == 1 && get) {
        struct list_ctx c = {f, json_array()};
        s->ops->device_list(s, product ? product : "", device_cb, &c);
        r = send_json(out, 200, json_pack("{s:o}", "devices", c.arr));
    } else if (!strcmp(part[0], "devices") && n == 2) {
        struct fleet_device d; /* a change locks the row, as a check-in does */
        if ((post ? s->ops->device_lock : s->ops->device_get)(s, part[1], &d) != 0)
            r = error_json(out, 404, "no device '%s'", part[1]);
        else if (get)
            r = send_json(out, 200, device_json(f, &d));
        else
            r = device_change(f, out, &d, in);
    } else if (!strcmp(part[0], "groups") && n == 1 && get) {
        json_t *arr = json_array();
        s->ops->group_list(s, group_cb, arr);
        r = send_json(out, 200, json_pack("{s:o}", "groups", arr));
    } else if (!strcmp(part[0], "groups") && n == 2 && post) {
        r = group_change(f, out, part[1], in);
    } else if (!strcmp(part[0], "releases") && n == 1) {
        if (get) {
            json_t *arr = json_array();
            s->ops->release_list(s, release_cb, arr);
            r = send_json(out, 200, json_pack("{s:o}", "releases", arr));
        } else {
            r = add_release(f, out, rq);
        }
    } else if (!strcmp(part[0], "releases") && n == 2 && get) {
        struct fleet_release rel;
        if (s->ops->release_get(s, parse_id(part[1]), &rel) != 0)
            r = error_json(out, 404, "no release '%s'", part[1]);
        else
            r = send_json(out, 200, release_json(&rel, 1));
    } else if (!strcmp(part[0], "rollouts") && n == 1) {
        if (get) {
            struct list_ctx c = {f, json_array()};
            s->ops->rollout_list(s, product ? product : "", rollout_cb, &c);
            r = send_json(out, 200, json_pack("{s:o}", "rollouts", c.arr));
        } else {
            r = create_rollout(f, out, in);
        }
    } else if ((!strcmp(part[0], "summary") || !strcmp(part[0], "history")) && n == 1 && get) {
        char err[300];
        const char *pts = MHD_lookup_connection_value(out->conn, MHD_GET_ARGUMENT_KIND, "points");
        uint32_t points = 60;
        if (pts && util_parse_u32(pts, &points) < 0)
            points = 60;
        json_t *j = part[0][0] == 's'
                        ? fleet_summary_json(f, product ? product : "", fleet_now_ms(), err,
                                             sizeof err)
                        : fleet_history_json(f, product ? product : "", points, fleet_now_ms(),
                                             err, sizeof err);
        r = j ? send_json(out, 200, j) : error_json(out, 500, "%s", err);
    } else if (!strcmp(part[0], "rollouts") && (n == 2 || n == 3)) {
        struct fleet_rollout ro; /* a change locks the row (fleet.c, "Consistency") */
        if ((post ? s->ops->rollout_lock : s->ops->rollout_get)(s, parse_id(part[1]), &ro) != 0)
            r = error_json(out, 404, "no rollout '%s'", part[1]);
        else if (n == 2 && get)
            r = send_json(out, 200, rollout_json(f, &ro, 1));
        else if (n == 3 && get && !strcmp(part[2], "rollback-plan"))
            r = rollback_plan(f, out, &ro);
        else if (n == 3 && post)
            r = rollout_action(f, out, &ro, part[2], in);
        else
            r = error_json(out, 404, "no such resource");
    } else {
        r = error_json(out, 404, "no such resource: the API is under /api/v1/ (devices, "
                                  "groups, releases, rollouts)");
    }
    json_decref(in);
    return r;
}

struct route_call {
    struct reply out;
    const char *method, *path;
    struct admin_request *rq;
};

/* One run of a route in its transaction: an error answer (a refusal, a
 * store failure) rolls the transaction back, and a conflict runs it again. */
static int route_fn(struct fleet *f, void *ctx)
{
    struct route_call *c = ctx;
    send_json(&c->out, 0, NULL);
    if (route(f, &c->out, c->method, c->path, c->rq) != MHD_YES || !c->out.json)
        return -1;
    return c->out.status >= 400 ? -1 : 0; /* a refusal changes nothing either */
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    struct fleet_admin *a = cls;
    struct admin_request *rq = *con_cls;
    if (!rq) {
        rq = calloc(1, sizeof *rq);
        if (!rq)
            return MHD_NO;
        *con_cls = rq;
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (rq->len + *upload_data_size > BODY_MAX) {
            rq->too_big = 1;
        } else {
            char *more = realloc(rq->body, rq->len + *upload_data_size + 1);
            if (!more)
                return MHD_NO;
            rq->body = more;
            memcpy(rq->body + rq->len, upload_data, *upload_data_size);
            rq->len += *upload_data_size;
            rq->body[rq->len] = 0;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    enum MHD_Result page;
    if (fleet_dashboard_request(a->dash, conn, url, method, rq->too_big ? NULL : rq->body,
                                rq->len, &page))
        return page;
    const char *why = NULL;
    unsigned st = authenticate(a, conn, method, &why);
    if (st)
        return queue_error(conn, st, "%s", why);
    if (rq->too_big)
        return queue_error(conn, 413, "request body larger than %d bytes", BODY_MAX);
    if (strncmp(url, "/api/v1/", 8) != 0)
        return queue_error(conn, 404, "no such resource: the API is under /api/v1/");
    /* One transaction, run again on a conflict; answered once committed. */
    struct route_call c = {{conn, 0, NULL}, method, url + 8, rq};
    char err[300];
    enum MHD_Result r;
    int get = !strcmp(method, "GET"); /* GET only reads (a snapshot), POST changes */
    if ((get ? fleet_read : fleet_transact)(a->fleet, route_fn, &c, err, sizeof err) == 0)
        r = queue_json(conn, c.out.status, c.out.json);
    else if (c.out.json && c.out.status >= 400)
        r = queue_json(conn, c.out.status, c.out.json); /* the route's own account */
    else {
        json_decref(c.out.json);
        r = queue_error(conn, 500, "%s", err);
    }
    return r;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode code)
{
    (void)cls;
    (void)conn;
    (void)code;
    struct admin_request *rq = *con_cls;
    if (rq) {
        free(rq->body);
        free(rq);
    }
    *con_cls = NULL;
}

struct fleet_admin *fleet_admin_start(struct fleet *f, const char *bind, unsigned port, char *err,
                                      size_t err_size)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    unsigned flags = MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (inet_pton(AF_INET, bind, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
    } else if (inet_pton(AF_INET6, bind, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        flags |= MHD_USE_IPv6;
    } else {
        snprintf(err, err_size, "--admin-bind %s: not a numeric IPv4 or IPv6 address", bind);
        return NULL;
    }
    struct fleet_admin *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    a->fleet = f;
    a->dash = fleet_dashboard_new(f);
    if (!a->dash) {
        snprintf(err, err_size, "out of memory");
        free(a);
        return NULL;
    }
    errno = 0;
    a->d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, a,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, a, MHD_OPTION_END);
    if (!a->d) {
        snprintf(err, err_size, "cannot listen on %s port %u%s%s", bind, port,
                 errno ? ": " : "", errno ? strerror(errno) : "");
        fleet_dashboard_free(a->dash);
        free(a);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(a->d, MHD_DAEMON_INFO_BIND_PORT);
    a->port = info ? info->port : port;
    return a;
}

unsigned fleet_admin_port(const struct fleet_admin *a)
{
    return a->port;
}

void fleet_admin_stop(struct fleet_admin *a)
{
    if (!a)
        return;
    MHD_stop_daemon(a->d);
    fleet_dashboard_free(a->dash);
    free(a);
}
