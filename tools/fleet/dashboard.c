/* The fleet dashboard: pages, login, sessions, CSRF checks (dashboard.h). */
#define _POSIX_C_SOURCE 200809L
#include "dashboard.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include <mbedtls/constant_time.h>

#include "admin.h"
#include "dashboard_assets.h"
#include "fleet.h"
#include "util.h"

#define SESSIONS_MAX 64
#define SESSION_MS (8 * 3600 * 1000LL) /* a login lasts 8 hours */
#define COOKIE "fota_session"

/* Scripts, styles, images and requests only from the dashboard itself; no
 * inline script or style, no frames, forms post only here. */
#define CSP                                                                                    \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "                \
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

struct session {
    uint8_t id[32];   /* the cookie's value, as random bytes */
    char csrf[65];    /* hex, sent by the pages in X-CSRF-Token */
    int64_t expires;  /* Unix ms; 0: a free slot */
};

struct fleet_dashboard {
    struct fleet *fleet;
    pthread_mutex_t lock;
    struct session sessions[SESSIONS_MAX];
};

struct fleet_dashboard *fleet_dashboard_new(struct fleet *f)
{
    struct fleet_dashboard *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->fleet = f;
    pthread_mutex_init(&d->lock, NULL);
    return d;
}

void fleet_dashboard_free(struct fleet_dashboard *d)
{
    if (!d)
        return;
    pthread_mutex_destroy(&d->lock);
    free(d);
}

/* ---- Responses ------------------------------------------------------------------- */

void fleet_dashboard_secure_headers(struct MHD_Response *resp)
{
    MHD_add_response_header(resp, "Content-Security-Policy", CSP);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    /* not "no-referrer": with it browsers send "Origin: null" on form posts */
    MHD_add_response_header(resp, "Referrer-Policy", "same-origin");
    MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
    MHD_add_response_header(resp, "Cross-Origin-Resource-Policy", "same-origin");
}

/* Answer with `body` (static or copied), its type, and optional Location /
 * Set-Cookie headers. */
static enum MHD_Result answer(struct MHD_Connection *conn, unsigned status, const char *type,
                              const void *body, size_t len, int copy, const char *location,
                              const char *cookie)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        len, (void *)body, copy ? MHD_RESPMEM_MUST_COPY : MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    fleet_dashboard_secure_headers(resp);
    if (type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (location)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, location);
    if (cookie)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, cookie);
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, POST");
    enum MHD_Result r = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return r;
}

static enum MHD_Result answer_text(struct MHD_Connection *conn, unsigned status, const char *msg)
{
    char body[300];
    int n = snprintf(body, sizeof body, "{\"error\": \"%s\"}\n", msg); /* msg: our own text */
    return answer(conn, status, "application/json", body, (size_t)n, 1, NULL, NULL);
}

static enum MHD_Result redirect(struct MHD_Connection *conn, const char *to, const char *cookie)
{
    return answer(conn, MHD_HTTP_SEE_OTHER, "text/plain", "", 0, 0, to, cookie);
}

/* ---- Sessions --------------------------------------------------------------------- */

static int parse_hex32(const char *s, uint8_t out[32])
{
    if (!s || strlen(s) != 64)
        return -1;
    for (size_t i = 0; i < 32; i++) {
        int hi = util_hex_value(s[2 * i]), lo = util_hex_value(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

/* The live session of the request's cookie, copied to *out: 0, or -1. Every
 * slot is compared, in constant time. */
static int session_of(struct fleet_dashboard *d, struct MHD_Connection *conn, struct session *out)
{
    uint8_t id[32];
    if (parse_hex32(MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, COOKIE), id) < 0)
        return -1;
    int64_t now = fleet_now_ms();
    int found = -1;
    pthread_mutex_lock(&d->lock);
    for (int i = 0; i < SESSIONS_MAX; i++) {
        struct session *s = &d->sessions[i];
        int same = mbedtls_ct_memcmp(s->id, id, 32) == 0;
        if (same && s->expires > now)
            found = i;
    }
    if (found >= 0)
        *out = d->sessions[found];
    pthread_mutex_unlock(&d->lock);
    return found >= 0 ? 0 : -1;
}

/* A new session in a free (or the oldest) slot: its cookie value in hex. */
static int session_new(struct fleet_dashboard *d, char cookie_hex[65])
{
    uint8_t raw[64];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
        return -1;
    pthread_mutex_lock(&d->lock);
    int64_t now = fleet_now_ms();
    int slot = 0;
    for (int i = 0; i < SESSIONS_MAX; i++) {
        if (d->sessions[i].expires <= now) {
            slot = i;
            break;
        }
        if (d->sessions[i].expires < d->sessions[slot].expires)
            slot = i;
    }
    struct session *s = &d->sessions[slot];
    memcpy(s->id, raw, 32);
    util_hex(raw + 32, 32, s->csrf);
    s->expires = now + SESSION_MS;
    util_hex(raw, 32, cookie_hex);
    pthread_mutex_unlock(&d->lock);
    return 0;
}

static void session_end(struct fleet_dashboard *d, const struct session *which)
{
    pthread_mutex_lock(&d->lock);
    for (int i = 0; i < SESSIONS_MAX; i++)
        if (mbedtls_ct_memcmp(d->sessions[i].id, which->id, 32) == 0)
            memset(&d->sessions[i], 0, sizeof d->sessions[i]);
    pthread_mutex_unlock(&d->lock);
}

/* ---- CSRF ---------------------------------------------------------------------------- */

/* A request that changes something must come from the dashboard's own pages:
 * the browser's Origin is this server (scheme and Host), and, when the browser
 * says so, the request is same-origin. NULL when it is, else why not. */
static const char *origin_problem(struct MHD_Connection *conn)
{
    const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
    const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    const char *site = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-Fetch-Site");
    if (!origin || !host)
        return "no Origin: changes are accepted from the dashboard's own pages only";
    const char *rest = !strncmp(origin, "http://", 7)    ? origin + 7
                       : !strncmp(origin, "https://", 8) ? origin + 8
                                                         : NULL;
    if (!rest || strcasecmp(rest, host) != 0)
        return "Origin is not this server: cross-site request refused";
    if (site && strcmp(site, "same-origin") != 0)
        return "Sec-Fetch-Site is not same-origin: cross-site request refused";
    return NULL;
}

static int csrf_ok(const struct session *s, struct MHD_Connection *conn)
{
    const char *t = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-CSRF-Token");
    return t && strlen(t) == 64 && mbedtls_ct_memcmp(t, s->csrf, 64) == 0;
}

unsigned fleet_dashboard_authenticate(struct fleet_dashboard *d, struct MHD_Connection *conn,
                                      const char *method, const char **why)
{
    struct session s;
    if (session_of(d, conn, &s) < 0) {
        *why = "no token: send Authorization: Bearer TOKEN (fota fleet token add), or log in "
               "at /dashboard/";
        return MHD_HTTP_UNAUTHORIZED;
    }
    if (!strcmp(method, "GET") || !strcmp(method, "HEAD"))
        return 0;
    const char *bad = origin_problem(conn);
    if (bad) {
        *why = bad;
        return MHD_HTTP_FORBIDDEN;
    }
    if (!csrf_ok(&s, conn)) {
        *why = "missing or wrong X-CSRF-Token for this session";
        return MHD_HTTP_FORBIDDEN;
    }
    return 0;
}

/* ---- Login ------------------------------------------------------------------------- */

/* The value of `name` in an application/x-www-form-urlencoded body, decoded
 * into out: 0, or -1 when absent, malformed or too long. */
static int form_value(const char *body, size_t len, const char *name, char *out, size_t size)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < len;) {
        size_t end = i;
        while (end < len && body[end] != '&')
            end++;
        if (end - i > nl && !strncmp(body + i, name, nl) && body[i + nl] == '=') {
            size_t o = 0;
            for (size_t p = i + nl + 1; p < end; p++) {
                char c = body[p];
                if (c == '+') {
                    c = ' ';
                } else if (c == '%') {
                    int hi = p + 2 < end ? util_hex_value(body[p + 1]) : -1;
                    int lo = p + 2 < end ? util_hex_value(body[p + 2]) : -1;
                    if (hi < 0 || lo < 0)
                        return -1;
                    c = (char)(hi << 4 | lo);
                    p += 2;
                }
                if (o + 1 >= size)
                    return -1;
                out[o++] = c;
            }
            out[o] = 0;
            return 0;
        }
        i = end + 1;
    }
    return -1;
}

static enum MHD_Result login(struct fleet_dashboard *d, struct MHD_Connection *conn,
                             const char *body, size_t len)
{
    const char *bad = origin_problem(conn);
    if (bad)
        return answer_text(conn, MHD_HTTP_FORBIDDEN, bad);
    char token[260];
    if (!body || form_value(body, len, "token", token, sizeof token) < 0)
        return redirect(conn, "/dashboard/login?failed", NULL);
    /* surrounding blanks from a paste are not part of a token */
    char *t = token;
    while (*t == ' ' || *t == '\t')
        t++;
    for (size_t n = strlen(t); n && (t[n - 1] == ' ' || t[n - 1] == '\t' || t[n - 1] == '\r' ||
                                     t[n - 1] == '\n');)
        t[--n] = 0;
    int ok = fleet_admin_token_ok(d->fleet, t);
    if (ok < 0)
        return answer_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot read the tokens");
    if (!ok)
        return redirect(conn, "/dashboard/login?failed", NULL);
    char id[65], cookie[160];
    if (session_new(d, id) < 0)
        return answer_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "getrandom failed");
    snprintf(cookie, sizeof cookie, COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%lld",
             id, SESSION_MS / 1000);
    return redirect(conn, "/dashboard/", cookie);
}

/* ---- Routes -------------------------------------------------------------------------- */

static const struct fleet_asset *asset(const char *name)
{
    for (size_t i = 0; i < fleet_dashboard_asset_count; i++)
        if (!strcmp(fleet_dashboard_assets[i].name, name))
            return &fleet_dashboard_assets[i];
    return NULL;
}

static const char *type_of(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (dot && !strcmp(dot, ".html"))
        return "text/html; charset=utf-8";
    if (dot && !strcmp(dot, ".css"))
        return "text/css; charset=utf-8";
    if (dot && !strcmp(dot, ".js"))
        return "text/javascript; charset=utf-8";
    if (dot && !strcmp(dot, ".svg"))
        return "image/svg+xml";
    return "application/octet-stream";
}

static enum MHD_Result send_asset(struct MHD_Connection *conn, const char *name)
{
    const struct fleet_asset *a = asset(name);
    if (!a)
        return answer_text(conn, MHD_HTTP_NOT_FOUND, "no such page");
    return answer(conn, MHD_HTTP_OK, type_of(name), a->data, a->size, 0, NULL, NULL);
}

int fleet_dashboard_request(struct fleet_dashboard *d, struct MHD_Connection *conn,
                            const char *url, const char *method, const char *body, size_t len,
                            enum MHD_Result *ret)
{
    int get = !strcmp(method, "GET") || !strcmp(method, "HEAD"), post = !strcmp(method, "POST");
    const char *page;
    if (!strcmp(url, "/") || !strcmp(url, "/dashboard")) {
        *ret = get ? redirect(conn, "/dashboard/", NULL)
                   : answer_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only");
        return 1;
    }
    if (strncmp(url, "/dashboard/", 11) != 0)
        return 0;
    page = url + 11;
    struct session s;
    int logged_in = session_of(d, conn, &s) == 0;
    if (!get && !post) {
        *ret = answer_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "GET reads, POST changes");
    } else if (!strcmp(page, "login")) {
        *ret = post ? login(d, conn, body, len) : send_asset(conn, "login.html");
    } else if (!strcmp(page, "logout") && post) {
        const char *why = NULL;
        unsigned st = fleet_dashboard_authenticate(d, conn, method, &why);
        if (st) {
            *ret = answer_text(conn, st, why);
        } else {
            session_end(d, &s);
            *ret = answer(conn, MHD_HTTP_NO_CONTENT, NULL, "", 0, 0, NULL,
                          COOKIE "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
        }
    } else if (post) {
        *ret = answer_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "nothing to POST here");
    } else if (!strcmp(page, "session")) {
        if (!logged_in) {
            *ret = answer_text(conn, MHD_HTTP_UNAUTHORIZED, "not logged in");
        } else {
            /* the CSRF token: readable by the dashboard's own scripts only (same origin) */
            char j[120];
            int n = snprintf(j, sizeof j, "{\"csrf\": \"%s\"}\n", s.csrf);
            *ret = answer(conn, MHD_HTTP_OK, "application/json", j, (size_t)n, 1, NULL, NULL);
        }
    } else if (!strcmp(page, "") || !strcmp(page, "index.html")) {
        *ret = logged_in ? send_asset(conn, "index.html")
                         : redirect(conn, "/dashboard/login", NULL);
    } else if (strchr(page, '/') || !strcmp(page, "login.html")) {
        *ret = answer_text(conn, MHD_HTTP_NOT_FOUND, "no such page");
    } else {
        *ret = send_asset(conn, page); /* scripts and styles: no secrets in them */
    }
    return 1;
}
