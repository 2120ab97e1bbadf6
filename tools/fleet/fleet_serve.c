/* Fleet mode of fota serve: options, lifetime, and the device check-in. */
#define _POSIX_C_SOURCE 200809L
#include "fleet_serve.h"

#include <errno.h>
#include <pthread.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "admin.h"
#include "cli.h"
#include "fleet.h"
#include "fota/manifest.h"
#include "keys.h"
#include "util.h"

struct fleet_server {
    struct fleet *fleet;            /* pool[0]: also the admin API's */
    struct fleet *pool[FLEET_PG_CONNECTIONS];
    unsigned char busy[FLEET_PG_CONNECTIONS];
    size_t n_pool;
    pthread_mutex_t lock;
    pthread_cond_t freed;
    struct fleet_admin *admin;
    const char *artifacts;
    unsigned pending;               /* check-ins waiting for their group's commit */
    int stopping;
};

/* A check-in whose connection is suspended until its group is durable
 * (group commit: the worker thread serves other connections meanwhile). */
struct pending_checkin {
    struct fleet_pending p;
    struct fleet_server *srv;
    struct MHD_Connection *conn;
    struct fleet_report r;
    struct fleet_answer a;
    int head;
};

/* A connection of the pool for one check-in. SQLite has one, shared (its
 * check-ins are grouped into commits); PostgreSQL one per check-in in
 * flight, the database keeping them consistent. */
static struct fleet *pool_take(struct fleet_server *s, size_t *slot)
{
    *slot = 0;
    if (s->n_pool == 1)
        return s->pool[0];
    pthread_mutex_lock(&s->lock);
    for (;;) {
        for (size_t i = 0; i < s->n_pool; i++)
            if (!s->busy[i]) {
                s->busy[i] = 1;
                *slot = i;
                pthread_mutex_unlock(&s->lock);
                return s->pool[i];
            }
        pthread_cond_wait(&s->freed, &s->lock);
    }
}

static void pool_give(struct fleet_server *s, size_t slot)
{
    if (s->n_pool == 1)
        return;
    pthread_mutex_lock(&s->lock);
    s->busy[slot] = 0;
    pthread_cond_signal(&s->freed);
    pthread_mutex_unlock(&s->lock);
}

int fleet_serve_option(int argc, char **argv, int *i, struct fleet_serve_options *o)
{
    int bad = 0;
    const char *v;
    if ((v = option_value(argc, argv, i, "--fleet", &bad))) {
        o->db = v;
    } else if (!bad && (v = option_value(argc, argv, i, "--admin-bind", &bad))) {
        o->admin_bind = v;
    } else if (!bad && (v = option_value(argc, argv, i, "--admin-port", &bad))) {
        uint32_t p;
        if (util_parse_u32(v, &p) < 0 || p > 65535) {
            fprintf(stderr, "fota serve: --admin-port %s: expected 0..65535\n", v);
            return -1;
        }
        o->admin_port = p;
    } else if (!bad && (v = option_value(argc, argv, i, "--fleet-key", &bad))) {
        if (o->n_keys == sizeof o->keys / sizeof o->keys[0]) {
            fprintf(stderr, "fota serve: at most 4 --fleet-key\n");
            return -1;
        }
        o->keys[o->n_keys++] = v;
    } else if (!bad && (v = option_value(argc, argv, i, "--artifacts", &bad))) {
        if (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0) {
            fprintf(stderr, "fota serve: --artifacts %s: expected an http:// or https:// URL\n", v);
            return -1;
        }
        o->artifacts = v;
    } else {
        return bad ? -1 : 0;
    }
    return 1;
}

struct fleet_server *fleet_serve_start(const struct fleet_serve_options *o)
{
    struct fleet_server *s = calloc(1, sizeof *s);
    char err[512];
    if (!s)
        return NULL;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->freed, NULL);
    s->artifacts = o->artifacts;
    size_t n = fleet_store_is_pg(o->db) ? FLEET_PG_CONNECTIONS : 1;
    for (; s->n_pool < n; s->n_pool++) {
        s->pool[s->n_pool] = fleet_open(o->db, err, sizeof err);
        if (!s->pool[s->n_pool]) {
            fprintf(stderr, "fota serve: %s\n", err);
            fleet_serve_stop(s);
            return NULL;
        }
    }
    s->fleet = s->pool[0];
    for (size_t i = 0; i < o->n_keys; i++) {
        struct tool_key k;
        if (keys_load_any(o->keys[i], &k) < 0) {
            fleet_serve_stop(s);
            return NULL;
        }
        for (size_t j = 0; j < s->n_pool; j++)
            memcpy(s->pool[j]->keys[s->pool[j]->n_keys++], k.pub, sizeof k.pub);
        keys_free(&k);
    }
    const char *bind = o->admin_bind ? o->admin_bind : "127.0.0.1";
    unsigned port = o->admin_port;
    s->admin = fleet_admin_start(s->fleet, bind, port, err, sizeof err);
    if (!s->admin) {
        fprintf(stderr, "fota serve: admin API: %s\n", err);
        fleet_serve_stop(s);
        return NULL;
    }
    int v6 = strchr(bind, ':') != NULL;
    printf("fota fleet: admin API on http://%s%s%s:%u/ database %s\n", v6 ? "[" : "", bind,
           v6 ? "]" : "", fleet_admin_port(s->admin), o->db);
    fflush(stdout);
    return s;
}

void fleet_serve_stop(struct fleet_server *s)
{
    if (!s)
        return;
    fleet_admin_stop(s->admin);
    for (size_t i = 0; i < s->n_pool; i++)
        fleet_close(s->pool[i]);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->freed);
    free(s);
}

struct fleet *fleet_serve_fleet(struct fleet_server *s)
{
    return s ? s->fleet : NULL;
}

/* ---- Check-in headers --------------------------------------------------------- */

#define HEADERS_MAX 32

struct header_scan {
    struct fleet_header h[HEADERS_MAX];
    size_t n;
    int overflow;
};

/* Collect the Fota-* fields (any case) for fleet_checkin_parse(). */
static enum MHD_Result scan_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    struct header_scan *s = cls;
    if (strncasecmp(key, "Fota-", 5) != 0)
        return MHD_YES;
    if (s->n == HEADERS_MAX) {
        s->overflow = 1;
        return MHD_NO;
    }
    s->h[s->n].name = key;
    s->h[s->n].value = value ? value : "";
    s->n++;
    return MHD_YES;
}

static int is_checkin_path(const char *target)
{
    size_t n = strcspn(target, "?#");
    static const char *const tails[] = {"/manifest.txt", "/manifest"};
    for (size_t i = 0; i < 2; i++) {
        size_t t = strlen(tails[i]);
        if (n >= t && strncmp(target + n - t, tails[i], t) == 0)
            return 1;
    }
    return 0;
}

static enum MHD_Result respond(struct MHD_Connection *conn, unsigned status, const char *body,
                               size_t len, const char *etag, const char *decision)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    if (etag && etag[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
    if (decision && decision[0])
        MHD_add_response_header(resp, "Fota-Decision", decision);
    enum MHD_Result r = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return r;
}

/* The stock Arduino updater (ESP8266httpUpdate / ESP32 HTTPUpdate) says who
 * it is in x-ESP8266-* / x-ESP32-* headers: record it, so those devices are
 * in the fleet view too; serve.c answers the request as it always does.
 * Its id is the station MAC, its product the first path segment. */
static void record_stock(struct fleet_server *s, struct MHD_Connection *conn, const char *target,
                         const char *peer, char *note, size_t note_size)
{
    static const char *const family[] = {"ESP8266", "ESP32"};
    for (int i = 0; i < 2; i++) {
        char name[40];
        snprintf(name, sizeof name, "x-%s-STA-MAC", family[i]);
        const char *mac = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
        if (!mac)
            continue;
        struct fleet_report r;
        memset(&r, 0, sizeof r);
        /* "18:FE:34:A1:B2:C3" -> "18FE34A1B2C3", as fota's {mac} */
        size_t n = 0;
        for (const char *p = mac; *p && n < 12; p++)
            if (*p != ':')
                r.id[n++] = (char)(*p >= 'a' && *p <= 'f' ? *p - 'a' + 'A' : *p);
        snprintf(name, sizeof name, "x-%s-version", family[i]);
        const char *ver = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
        const char *seg = target[0] == '/' ? target + 1 : target;
        size_t sl = strcspn(seg, "/?#");
        snprintf(r.product, sizeof r.product, "%.*s", (int)(sl < FLEET_PRODUCT_MAX ? sl : 0),
                 seg);
        if (!fleet_valid_id(r.id) || strlen(r.id) != 12 ||
            !fleet_valid_name(r.product, FLEET_PRODUCT_MAX) ||
            (ver && !fleet_valid_name(ver, FLEET_NAME_MAX))) {
            snprintf(note, note_size, "fleet: stock %s check-in not recorded (malformed MAC, "
                                      "path or version)", family[i]);
            return;
        }
        snprintf(r.protocol, sizeof r.protocol, "%s-http-update", i ? "esp32" : "esp8266");
        if (ver) {
            snprintf(r.version, sizeof r.version, "%s", ver);
            fota_version_code(ver, strlen(ver), &r.version_code);
        }
        snprintf(r.address, sizeof r.address, "%s", peer);
        char err[300];
        size_t slot;
        struct fleet *f = pool_take(s, &slot);
        if (fleet_record(f, &r, fleet_now_ms(), err, sizeof err) < 0)
            snprintf(note, note_size, "fleet: %.150s", err);
        pool_give(s, slot);
        return;
    }
}

/* --artifacts: the image is on another host (nginx, a CDN, S3): the same
 * path below that URL. The manifest, signed offline, names the image's
 * SHA-256, so whatever that host serves is checked by the device. */
static int redirect_artifact(struct fleet_server *s, struct MHD_Connection *conn,
                             const char *method, const char *target, unsigned *status,
                             uint64_t *body_bytes, char *note, size_t note_size,
                             enum MHD_Result *ret)
{
    size_t base = strlen(s->artifacts);
    while (base && s->artifacts[base - 1] == '/')
        base--;
    const char *path = target[0] == '/' ? target : "/";
    char *location = malloc(base + strlen(path) + 1);
    if (!location) {
        *ret = MHD_NO;
        return 1;
    }
    memcpy(location, s->artifacts, base);
    strcpy(location + base, path);
    static const char body[] = "302 Found: the image is on the artifact server\n";
    int head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(sizeof body - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
    *ret = MHD_NO;
    if (resp) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, location);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
        *ret = MHD_queue_response(conn, MHD_HTTP_FOUND, resp);
        MHD_destroy_response(resp);
    }
    *status = MHD_HTTP_FOUND;
    *body_bytes = head ? 0 : sizeof body - 1;
    snprintf(note, note_size, "fleet: redirected to %.200s", location);
    free(location);
    return 1;
}

/* The answer of a decided check-in (a->note says why; -1: 500). */
static enum MHD_Result answer(struct MHD_Connection *conn, int failed, const char *id,
                              const struct fleet_answer *a, int head, unsigned *status,
                              uint64_t *body_bytes, char *note, size_t note_size)
{
    if (failed) {
        static const char body[] = "500 Internal Server Error\n";
        snprintf(note, note_size, "fleet: %s", a->note);
        *status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        *body_bytes = head ? 0 : sizeof body - 1;
        return respond(conn, *status, body, sizeof body - 1, NULL, NULL);
    }
    snprintf(note, note_size, "fleet %s: %s", id, a->note);
    *status = a->status;
    *body_bytes = a->status == 200 && !head ? a->len : 0;
    return respond(conn, a->status, a->status == 200 ? a->manifest : "",
                   a->status == 200 ? a->len : 0, a->etag, a->note);
}

static void checkin_durable(struct fleet_pending *p)
{
    MHD_resume_connection(((struct pending_checkin *)p)->conn);
}

static void pending_end(struct fleet_server *s, struct pending_checkin *pc)
{
    pthread_mutex_lock(&s->lock);
    s->pending--;
    pthread_cond_broadcast(&s->freed);
    pthread_mutex_unlock(&s->lock);
    free(pc);
}

/* 1: a check-in may be suspended (counted), 0: the server is stopping. */
static int pending_begin(struct fleet_server *s)
{
    pthread_mutex_lock(&s->lock);
    int ok = !s->stopping;
    s->pending += (unsigned)ok;
    pthread_mutex_unlock(&s->lock);
    return ok;
}

/* Group commit: decide now, answer once the group is durable. Takes r;
 * counted by pending_begin. */
static int submit(struct fleet_server *s, struct MHD_Connection *conn, struct fleet_report *r,
                  int head, enum MHD_Result *ret, void **pending)
{
    struct pending_checkin *pc = calloc(1, sizeof *pc);
    if (!pc) {
        free(r);
        pending_end(s, NULL);
        *ret = MHD_NO;
        return 1;
    }
    pc->srv = s;
    pc->conn = conn;
    pc->r = *r;
    pc->head = head;
    pc->p.done = checkin_durable;
    free(r);
    /* suspended first: the committer may resume it before submit returns */
    MHD_suspend_connection(conn);
    int q = fleet_checkin_submit(s->fleet, &pc->r, fleet_now_ms(), &pc->a, &pc->p);
    if (q <= 0) { /* decided (or failed) at once: answered on resumption */
        pc->p.rc = q < 0 ? -1 : 0;
        if (q < 0)
            snprintf(pc->p.err, sizeof pc->p.err, "%s", pc->a.note);
        MHD_resume_connection(conn);
    }
    *pending = pc;
    *ret = MHD_YES;
    return 1;
}

enum MHD_Result fleet_serve_finish(struct fleet_server *s, struct MHD_Connection *conn,
                                   void **pending, unsigned *status, uint64_t *body_bytes,
                                   char *note, size_t note_size)
{
    struct pending_checkin *pc = *pending;
    *pending = NULL;
    if (pc->p.rc < 0)
        snprintf(pc->a.note, sizeof pc->a.note, "fleet store: %.200s", pc->p.err);
    enum MHD_Result r = answer(conn, pc->p.rc < 0, pc->r.id, &pc->a, pc->head, status,
                               body_bytes, note, note_size);
    pending_end(s, pc);
    return r;
}

void fleet_serve_forget(struct fleet_server *s, void *pending)
{
    if (pending)
        pending_end(s, pending);
}

void fleet_serve_quiesce(struct fleet_server *s)
{
    if (!s)
        return;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    pthread_mutex_lock(&s->lock);
    s->stopping = 1; /* from now on check-ins are answered without suspending */
    while (s->pending && pthread_cond_timedwait(&s->freed, &s->lock, &until) == 0) {
    }
    pthread_mutex_unlock(&s->lock);
}

int fleet_serve_request(struct fleet_server *s, struct MHD_Connection *conn, const char *method,
                        const char *target, const char *peer, unsigned *status,
                        uint64_t *body_bytes, char *note, size_t note_size,
                        enum MHD_Result *ret, void **pending)
{
    if (!is_checkin_path(target)) {
        record_stock(s, conn, target, peer, note, note_size);
        return s->artifacts ? redirect_artifact(s, conn, method, target, status, body_bytes,
                                                note, note_size, ret)
                            : 0;
    }
    int head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    struct header_scan h;
    memset(&h, 0, sizeof h);
    MHD_get_connection_values(conn, MHD_HEADER_KIND, scan_header, &h);
    struct fleet_report *r = calloc(1, sizeof *r);
    struct fleet_answer *a = calloc(1, sizeof *a);
    if (!r || !a) {
        free(r);
        free(a);
        *ret = MHD_NO;
        return 1;
    }
    char why[200];
    int bad = h.overflow ? (snprintf(why, sizeof why, "more than %d Fota-* header fields",
                                     HEADERS_MAX), -1)
                         : fleet_checkin_parse(h.h, h.n, r, why, sizeof why);
    if (bad < 0) {
        char body[256];
        int n = snprintf(body, sizeof body, "400 Bad Request: %s\n", why);
        snprintf(note, note_size, "fleet: %s", why);
        *status = MHD_HTTP_BAD_REQUEST;
        *body_bytes = head ? 0 : (uint64_t)n;
        *ret = respond(conn, *status, body, (size_t)n, NULL, NULL);
    } else {
        snprintf(r->address, sizeof r->address, "%s", peer);
        const char *inm =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
        if (inm)
            snprintf(r->if_none_match, sizeof r->if_none_match, "%s", inm);
        if (s->n_pool == 1 && s->fleet->store->group_commit && pending && pending_begin(s)) {
            free(a);
            return submit(s, conn, r, head, ret, pending);
        }
        size_t slot;
        struct fleet *f = pool_take(s, &slot);
        int failed = fleet_checkin(f, r, fleet_now_ms(), a) < 0;
        pool_give(s, slot);
        *ret = answer(conn, failed, r->id, a, head, status, body_bytes, note, note_size);
    }
    free(r);
    free(a);
    return 1;
}
