/* Fleet mode of fota serve: options, lifetime, and the device check-in. */
#define _POSIX_C_SOURCE 200809L
#include "fleet_serve.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "admin.h"
#include "cli.h"
#include "fleet.h"
#include "fota/manifest.h"
#include "keys.h"
#include "util.h"

struct fleet_server {
    struct fleet *fleet;
    struct fleet_admin *admin;
};

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
    s->fleet = fleet_open(o->db, err, sizeof err);
    if (!s->fleet) {
        fprintf(stderr, "fota serve: %s\n", err);
        free(s);
        return NULL;
    }
    for (size_t i = 0; i < o->n_keys; i++) {
        struct tool_key k;
        if (keys_load_any(o->keys[i], &k) < 0) {
            fleet_serve_stop(s);
            return NULL;
        }
        memcpy(s->fleet->keys[s->fleet->n_keys++], k.pub, sizeof k.pub);
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
    fleet_close(s->fleet);
    free(s);
}

struct fleet *fleet_serve_fleet(struct fleet_server *s)
{
    return s ? s->fleet : NULL;
}

/* ---- Check-in headers --------------------------------------------------------- */

enum { H_ID, H_PRODUCT, H_VERSION, H_SEQUENCE, H_IMAGE, H_LAST, H_COUNT };
static const char *const header_names[H_COUNT] = {"Fota-Id",       "Fota-Product", "Fota-Version",
                                                  "Fota-Sequence", "Fota-Image",   "Fota-Last"};

struct header_scan {
    const char *value[H_COUNT];
    int seen[H_COUNT];
};

static enum MHD_Result scan_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    struct header_scan *h = cls;
    for (int i = 0; i < H_COUNT; i++)
        if (strcasecmp(key, header_names[i]) == 0) {
            h->seen[i]++;
            h->value[i] = value ? value : "";
        }
    return MHD_YES;
}

static int parse_u32(const char *s, uint32_t *out)
{
    return util_parse_u32(s, out) == 0 && s[0] && strlen(s) <= 10 ? 0 : -1;
}

/* Fill `r` from the headers; 0, or -1 with the reason in `why` (answer 400). */
static int parse_checkin(const struct header_scan *h, struct fleet_report *r, char *why,
                         size_t size)
{
    for (int i = 0; i < H_COUNT; i++)
        if (h->seen[i] > 1) {
            snprintf(why, size, "%s sent %d times", header_names[i], h->seen[i]);
            return -1;
        }
    for (int i = 0; i <= H_VERSION; i++)
        if (!h->seen[i]) {
            snprintf(why, size, "check-in without %s (the fleet server needs %s, %s and %s)",
                     header_names[i], header_names[H_ID], header_names[H_PRODUCT],
                     header_names[H_VERSION]);
            return -1;
        }
    if (!fleet_valid_id(h->value[H_ID])) {
        snprintf(why, size, "Fota-Id is not 1..%d of [A-Za-z0-9._:-]", FLEET_ID_MAX);
        return -1;
    }
    snprintf(r->id, sizeof r->id, "%s", h->value[H_ID]);
    /* as fota release allows in product ids */
    if (!fleet_valid_name(h->value[H_PRODUCT], FLEET_PRODUCT_MAX)) {
        snprintf(why, size, "Fota-Product is not 1..%d of [A-Za-z0-9._-]", FLEET_PRODUCT_MAX);
        return -1;
    }
    snprintf(r->product, sizeof r->product, "%s", h->value[H_PRODUCT]);
    if (parse_u32(h->value[H_VERSION], &r->version_code) < 0) {
        snprintf(why, size, "Fota-Version is not a decimal number 0..4294967295");
        return -1;
    }
    if (h->seen[H_SEQUENCE]) {
        if (parse_u32(h->value[H_SEQUENCE], &r->sequence) < 0) {
            snprintf(why, size, "Fota-Sequence is not a decimal number 0..4294967295");
            return -1;
        }
        r->has_sequence = 1;
    }
    if (h->seen[H_IMAGE]) {
        const char *x = h->value[H_IMAGE];
        int ok = strlen(x) == 64;
        for (size_t i = 0; ok && i < 64; i++)
            ok = (x[i] >= '0' && x[i] <= '9') || (x[i] >= 'a' && x[i] <= 'f') ||
                 (x[i] >= 'A' && x[i] <= 'F');
        if (!ok) {
            snprintf(why, size, "Fota-Image is not 64 hex digits");
            return -1;
        }
        for (size_t i = 0; i < 64; i++)
            r->image[i] = (char)(x[i] >= 'A' && x[i] <= 'F' ? x[i] - 'A' + 'a' : x[i]);
        r->image[64] = 0;
    }
    if (h->seen[H_LAST]) {
        static const char *const events[] = {"confirmed", "rolled-back", "failed", "activated"};
        char ev[16], err[16], ver[16], extra;
        int ok = strlen(h->value[H_LAST]) < 64 &&
             sscanf(h->value[H_LAST], "%15s %15s %15s %c", ev, err, ver, &extra) == 3;
        int known = 0;
        for (size_t i = 0; ok && i < sizeof events / sizeof events[0]; i++)
            known |= strcmp(ev, events[i]) == 0;
        char *end = NULL;
        long e = 0;
        if (ok) {
            errno = 0;
            e = strtol(err, &end, 10);
        }
        if (!ok || !known || errno || *end || e < -2147483647L - 1 || e > 2147483647L ||
            parse_u32(ver, &r->last_version) < 0) {
            snprintf(why, size, "Fota-Last is not \"EVENT ERROR VERSION-CODE\" with a known event");
            return -1;
        }
        snprintf(r->last_event, sizeof r->last_event, "%s", ev);
        r->last_error = (int32_t)e;
        r->has_last = 1;
    }
    snprintf(r->protocol, sizeof r->protocol, "fota");
    return 0;
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
        if (fleet_record(s->fleet, &r, fleet_now_ms(), err, sizeof err) < 0)
            snprintf(note, note_size, "fleet: %.150s", err);
        return;
    }
}

int fleet_serve_request(struct fleet_server *s, struct MHD_Connection *conn, const char *method,
                        const char *target, const char *peer, unsigned *status,
                        uint64_t *body_bytes, char *note, size_t note_size,
                        enum MHD_Result *ret)
{
    if (!is_checkin_path(target)) {
        record_stock(s, conn, target, peer, note, note_size);
        return 0;
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
    if (parse_checkin(&h, r, why, sizeof why) < 0) {
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
        if (fleet_checkin(s->fleet, r, fleet_now_ms(), a) < 0) {
            static const char body[] = "500 Internal Server Error\n";
            snprintf(note, note_size, "fleet: %s", a->note);
            *status = MHD_HTTP_INTERNAL_SERVER_ERROR;
            *body_bytes = head ? 0 : sizeof body - 1;
            *ret = respond(conn, *status, body, sizeof body - 1, NULL, NULL);
        } else {
            snprintf(note, note_size, "fleet %s: %s", r->id, a->note);
            *status = a->status;
            *body_bytes = a->status == 200 && !head ? a->len : 0;
            *ret = respond(conn, a->status, a->status == 200 ? a->manifest : "",
                           a->status == 200 ? a->len : 0, a->etag, a->note);
        }
    }
    free(r);
    free(a);
    return 1;
}
