/*
 * One HTTP exchange: see session.h. Connection reuse and transport fallback
 * (connect), the request (send), the response (advance/next), redirects
 * (follow_redirect) and the slow-retrieval guard (read_input).
 */
#include "internal/session.h"

#include <string.h>

#include "internal/defaults.h"
#include "internal/msg.h"

#define SLOW_WINDOW_MS 10000u

enum phase {
    PH_IDLE = FOTA_SESSION_PH_IDLE,
    PH_CONNECT = FOTA_SESSION_PH_CONNECT, /* open (or reuse) a connection to buf.url */
    PH_SEND,  /* send the request */
    PH_RECV,  /* read and parse the response */
    PH_ENDED, /* the connection closed, which completed the response */
};

static uint32_t now(const struct fota_session *s)
{
    return s->cfg->now_ms(s->cfg->ctx);
}

static uint32_t read_timeout(const struct fota_session *s)
{
    return fota_cfg_or(s->cfg->read_timeout_ms, FOTA_DEFAULT_READ_TIMEOUT_MS);
}

void fota_session_init(struct fota_session *s, const struct fota_config *cfg)
{
    memset(s, 0, sizeof *s);
    s->cfg = cfg;
}

static void drop_connection(struct fota_session *s)
{
    if (s->tr)
        s->tr->close(s->tr->ctx);
    s->tr = NULL;
    s->rx_len = s->rx_pos = 0;
}

void fota_session_close(struct fota_session *s)
{
    drop_connection(s);
    s->phase = PH_IDLE; /* no exchange goes on without its connection */
}

void fota_session_retarget(struct fota_session *s, const struct fota_buffers *buf,
                           const char *next)
{
    struct fota_url a, b;
    if (!s->tr)
        return;
    if (fota_url_parse(buf->url, &a) < 0 || fota_url_parse(next, &b) < 0 || a.tls != b.tls ||
        a.port != b.port || a.host_len != b.host_len || memcmp(a.host, b.host, a.host_len) != 0)
        fota_session_close(s);
}

void fota_session_begin(struct fota_session *s)
{
    s->started = now(s);
    s->tr_index = 0;
}

void fota_session_checkin(struct fota_session *s, const struct fota_checkin *c)
{
    s->checkin = c;
}

void fota_session_set_etag(struct fota_session *s, const char *etag)
{
    size_t n = 0;
    while (n < sizeof s->etag - 1 && etag[n] != '\0')
        n++;
    memcpy(s->etag, etag, n);
    s->etag[n] = '\0';
}

/* ---- Connect ------------------------------------------------------------- */

static const char *tr_detail(const struct fota_transport *t)
{
    const char *d = t->detail ? t->detail(t->ctx) : NULL;
    return d ? d : "no detail";
}

/* Message for a failed connect, by cause. */
static int connect_failed(struct fota_session *s, struct fota_report *rep,
                          const struct fota_transport *t, const char *host, int r)
{
    const char *d = tr_detail(t);
    unsigned port = s->port;
    switch (r) {
    case FOTA_ERR_DNS:
        return fota_fail(rep, r, "DNS lookup for host %s failed via %s (%s)", host, t->name, d);
    case FOTA_ERR_CONNECT_REFUSED:
        return fota_fail(rep, r, "TCP connect to %s:%u refused via %s", host, port, t->name);
    case FOTA_ERR_CONNECT_TIMEOUT:
        return fota_fail(rep, r, "TCP connect to %s:%u timed out via %s (%s)", host, port,
                         t->name, d);
    case FOTA_ERR_TLS_CERT_UNTRUSTED:
    case FOTA_ERR_TLS_CERT_EXPIRED:
    case FOTA_ERR_TLS_NAME_MISMATCH:
        return fota_fail(rep, r, "TLS with %s:%u: certificate %s (%s)", host, port,
                         r == FOTA_ERR_TLS_CERT_UNTRUSTED ? "not trusted"
                         : r == FOTA_ERR_TLS_CERT_EXPIRED ? "expired"
                                                          : "is not for this host name",
                         d);
    case FOTA_ERR_TLS_HANDSHAKE:
    case FOTA_ERR_TLS:
        return fota_fail(rep, r, "TLS handshake with %s:%u failed (%s)", host, port, d);
    case FOTA_ERR_LINK:
        return fota_fail(rep, r, "link %s is down (%s)", t->name, d);
    case FOTA_ERR_NOT_SUPPORTED:
        return fota_fail(rep, FOTA_ERR_NOT_SUPPORTED, "transport %s cannot open %s:%u (%s)",
                         t->name, host, port, d);
    default:
        return fota_fail(rep, r < 0 ? r : FOTA_ERR_CONNECT,
                         "TCP connect to %s:%u failed via %s (%s)", host, port, t->name, d);
    }
}

static int is_connect_error(int r)
{
    return r == FOTA_ERR_DNS || r == FOTA_ERR_CONNECT_REFUSED || r == FOTA_ERR_CONNECT_TIMEOUT ||
           r == FOTA_ERR_CONNECT || r == FOTA_ERR_LINK || r == FOTA_ERR_NOT_SUPPORTED ||
           r == FOTA_ERR_TLS_HANDSHAKE || r == FOTA_ERR_TLS;
}

/* Open a connection to the URL in buf.url, reusing a kept-alive one to the
 * same origin. Connect failures move to the next transport in the list. */
static int do_connect(struct fota_session *s, const struct fota_buffers *buf,
                      struct fota_report *rep)
{
    const struct fota_config *c = s->cfg;
    struct fota_url u;
    char host[FOTA_URL_HOST_MAX + 1];
    if (fota_url_parse(buf->url, &u) < 0)
        return fota_fail(rep, FOTA_ERR_URL, "%s URL is malformed: %s", s->what, buf->url);
    if (fota_url_host(&u, host, sizeof host) < 0)
        return fota_fail(rep, FOTA_ERR_URL, "host name too long in %s", buf->url);
    /* An open connection is to buf->url's origin: whatever replaces the URL
     * closes it for another origin (fota_session_retarget, redirects). */
    if (s->tr && s->tls == u.tls && s->port == u.port) {
        s->reused = 1; /* keep-alive */
        s->phase = PH_SEND;
        return FOTA_SESSION_WAIT;
    }
    s->reused = 0;
    drop_connection(s);
    s->port = u.port;
    s->tls = u.tls;

    const struct fota_transport *t = c->transports[s->tr_index];
    fota_log(c, FOTA_LOG_DEBUG, "connecting to %s:%u via %s", host, (unsigned)s->port,
             t->name);
    int r = t->connect(t->ctx, host, s->port, s->tls,
                       fota_cfg_or(c->connect_timeout_ms, FOTA_DEFAULT_CONNECT_TIMEOUT_MS));
    if (r < 0) {
        connect_failed(s, rep, t, host, r);
        if (is_connect_error(r) && s->tr_index + 1 < c->n_transports) {
            fota_log(c, FOTA_LOG_WARN, "%s; trying %s", rep->msg,
                     c->transports[s->tr_index + 1]->name);
            s->tr_index++;
            return FOTA_SESSION_WAIT; /* fall back to the next link at once */
        }
        return r;
    }
    s->tr = t;
    s->phase = PH_SEND;
    return FOTA_SESSION_WAIT;
}

/* ---- Request ------------------------------------------------------------- */

static int do_send(struct fota_session *s, const struct fota_buffers *buf,
                   struct fota_report *rep)
{
    const struct fota_config *c = s->cfg;
    struct fota_url u;
    fota_url_parse(buf->url, &u); /* parsed fine in do_connect */
    const char *ua = c->user_agent ? c->user_agent : "fota/" FOTA_VERSION_STRING;
    int n = fota_http_format_get(buf->line, buf->line_size, &u, ua, s->range_from,
                                 s->use_etag ? s->etag : "");
    if (n < 0)
        return fota_fail(rep, FOTA_ERR_BUFFER_TOO_SMALL,
                         "request for %s does not fit the %u-byte line buffer", buf->url,
                         (unsigned)buf->line_size);
    if (s->checkin) {
        n = fota_checkin_append(buf->line, buf->line_size, (size_t)n, s->checkin);
        if (n == FOTA_ERR_BUFFER_TOO_SMALL)
            return fota_fail(rep, n, "%s request with check-in headers does not fit the "
                                     "%u-byte line buffer", s->what, (unsigned)buf->line_size);
        if (n < 0)
            return fota_fail(rep, FOTA_ERR_INVALID_ARG,
                             "check-in: the device id (1..64 of [A-Za-z0-9._:-]) or the product "
                             "(printable ASCII) is empty, too long or has other characters");
    }
    size_t sent = 0;
    while (sent < (size_t)n) { /* bounded: each pass sends >= 1 byte or fails */
        int w = s->tr->send(s->tr->ctx, (const uint8_t *)buf->line + sent, (size_t)n - sent,
                            read_timeout(s));
        if (w <= 0) {
            int err = w == FOTA_ERR_TIMEOUT ? FOTA_ERR_TIMEOUT : FOTA_ERR_SEND;
            fota_session_close(s);
            return fota_fail(rep, err, "sending the %s request to %H:%u failed (%s)", s->what,
                             buf->url, (unsigned)s->port,
                             tr_detail(c->transports[s->tr_index]));
        }
        sent += (size_t)w;
    }
    /* The manifest buffer doubles as the Location buffer: a redirect body is
     * discarded, and a 200 body overwrites it after the headers. */
    fota_http_parser_init(&s->http, buf->line, buf->line_size, buf->manifest,
                          buf->manifest_size, 0);
    s->at = s->range_from;
    s->rx_len = s->rx_pos = 0;
    s->resp_bytes = 0;
    s->window_start = now(s);
    s->window_bytes = 0;
    s->phase = PH_RECV;
    return FOTA_SESSION_WAIT;
}

/* ---- Response ------------------------------------------------------------ */

/* The slow-retrieval guard, then one read when the parser has taken
 * everything read before. */
static int read_input(struct fota_session *s, const struct fota_buffers *buf,
                      struct fota_report *rep)
{
    const struct fota_config *c = s->cfg;
    uint32_t t = now(s);
    uint32_t deadline = fota_cfg_or(c->total_timeout_ms, FOTA_DEFAULT_TOTAL_TIMEOUT_MS);
    uint32_t min_rate = fota_cfg_or(c->min_bytes_per_s, FOTA_DEFAULT_MIN_BYTES_PER_S);
    if (deadline != FOTA_NO_LIMIT && t - s->started > deadline) {
        fota_session_close(s);
        return fota_fail(rep, FOTA_ERR_DEADLINE,
                         "%s download from %H:%u passed its %u ms deadline", s->what, buf->url,
                         (unsigned)s->port, (unsigned)deadline);
    }
    if (min_rate != FOTA_NO_LIMIT && t - s->window_start >= SLOW_WINDOW_MS) {
        uint32_t rate = s->window_bytes / ((t - s->window_start) / 1000u);
        if (rate < min_rate) {
            fota_session_close(s);
            return fota_fail(rep, FOTA_ERR_TOO_SLOW,
                             "%s download from %H:%u too slow: %u bytes/s, minimum %u", s->what,
                             buf->url, (unsigned)s->port, (unsigned)rate, (unsigned)min_rate);
        }
        s->window_start = t;
        s->window_bytes = 0;
    }
    if (s->rx_pos < s->rx_len)
        return FOTA_SESSION_INPUT;
    int n = s->tr->recv(s->tr->ctx, buf->rx + FOTA_SESSION_RX_LEAD,
                        buf->rx_size - FOTA_SESSION_RX_LEAD, read_timeout(s));
    if (n <= 0 && s->reused && s->resp_bytes == 0) {
        /* the server dropped the idle kept-alive connection: reconnect */
        fota_session_close(s);
        s->phase = PH_CONNECT;
        return FOTA_SESSION_WAIT;
    }
    if (n == 0) {
        int e = fota_http_eof(&s->http);
        fota_session_close(s);
        if (e == FOTA_HTTP_DONE) {
            s->phase = PH_ENDED;
            return FOTA_SESSION_INPUT;
        }
        return fota_fail(rep, FOTA_ERR_CLOSED,
                         "%H:%u closed the connection during the %s (at offset %u)", buf->url,
                         (unsigned)s->port, s->what, (unsigned)s->at);
    }
    if (n < 0) {
        const char *d = tr_detail(s->tr);
        fota_session_close(s);
        if (n == FOTA_ERR_TIMEOUT)
            return fota_fail(rep, n, "no data from %H:%u for %u ms during the %s (at offset %u)",
                             buf->url, (unsigned)s->port, (unsigned)read_timeout(s), s->what,
                             (unsigned)s->at);
        return fota_fail(rep, n, "receiving the %s from %H:%u failed at offset %u (%s)",
                         s->what, buf->url, (unsigned)s->port, (unsigned)s->at, d);
    }
    s->rx_len = FOTA_SESSION_RX_LEAD + (size_t)n;
    s->rx_pos = FOTA_SESSION_RX_LEAD;
    s->resp_bytes += (uint32_t)n;
    s->window_bytes += (uint32_t)n; /* every byte counts: headers, manifest, image */
    return FOTA_SESSION_INPUT;
}

int fota_session_advance(struct fota_session *s, const struct fota_buffers *buf,
                         struct fota_report *rep)
{
    switch (s->phase) {
    case PH_CONNECT:
        return do_connect(s, buf, rep);
    case PH_SEND:
        return do_send(s, buf, rep);
    case PH_RECV:
        return read_input(s, buf, rep);
    case PH_ENDED:
        return FOTA_SESSION_INPUT;
    default:
        return FOTA_SESSION_WAIT;
    }
}

static int is_redirect(unsigned status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* A 3xx: resolve Location against the current URL and ask there. */
static int follow_redirect(struct fota_session *s, const struct fota_buffers *buf,
                           struct fota_report *rep)
{
    const struct fota_http_response *h = &s->http.resp;
    uint32_t max = fota_cfg_or(s->cfg->max_redirects, FOTA_DEFAULT_MAX_REDIRECTS);
    if (!h->has_location)
        return fota_fail(rep, FOTA_ERR_HTTP_NO_LOCATION,
                         "server answered %u without Location for %s", h->status, buf->url);
    if (++s->redirects > max)
        return fota_fail(rep, FOTA_ERR_HTTP_REDIRECTS,
                         "more than %u redirects fetching %s (last %s)", (unsigned)max, s->what,
                         buf->url);
    int n = fota_url_resolve(buf->url, buf->manifest, buf->line, buf->line_size);
    if (n < 0 || (size_t)n >= buf->url_size)
        return fota_fail(rep, FOTA_ERR_URL, "redirect from %s to a malformed or too long URL",
                         buf->url);
    /* The user asked for TLS: a redirect must not drop it silently. */
    struct fota_url from, to;
    if (fota_url_parse(buf->url, &from) == 0 && fota_url_parse(buf->line, &to) == 0 &&
        from.tls && !to.tls && !s->cfg->allow_insecure_redirect)
        return fota_fail(rep, FOTA_ERR_INSECURE_REDIRECT,
                         "%u redirect from %s to %s, which is not HTTPS: refused (set "
                         "allow_insecure_redirect to allow it)",
                         h->status, buf->url, buf->line);
    fota_log(s->cfg, FOTA_LOG_INFO, "%u redirect to %s", h->status, buf->line);
    memcpy(buf->url, buf->line, (size_t)n + 1);
    fota_session_close(s);
    s->phase = PH_CONNECT;
    return FOTA_SESSION_WAIT;
}

static int response_done(struct fota_session *s)
{
    s->phase = PH_IDLE;
    if (!s->http.resp.keep_alive)
        fota_session_close(s);
    return FOTA_SESSION_DONE;
}

int fota_session_next(struct fota_session *s, const struct fota_buffers *buf,
                      struct fota_report *rep, const uint8_t **body, size_t *len)
{
    if (s->phase == PH_ENDED)
        return response_done(s);
    if (s->phase != PH_RECV)
        return FOTA_SESSION_WAIT;
    size_t used = 0, blen = 0;
    const uint8_t *b = NULL;
    int ev = fota_http_parse(&s->http, buf->rx + s->rx_pos, s->rx_len - s->rx_pos, &used, &b,
                             &blen);
    s->rx_pos += used;
    if (ev < 0) {
        fota_session_close(s);
        if (ev == FOTA_ERR_HTTP_HEADER_TOO_LONG)
            return fota_fail(rep, ev,
                             "headers from %H:%u over a limit (a value over the %u-byte "
                             "line buffer, Location over %u, or 64 fields / 32 KiB)",
                             buf->url, (unsigned)s->port, (unsigned)buf->line_size,
                             (unsigned)buf->manifest_size);
        return fota_fail(rep, ev, "malformed HTTP response from %H:%u for the %s", buf->url,
                         (unsigned)s->port, s->what);
    }
    int r;
    switch (ev) {
    case FOTA_HTTP_HEADERS:
        if (is_redirect(s->http.resp.status)) {
            if ((r = follow_redirect(s, buf, rep)) < 0)
                fota_session_close(s);
            return r;
        }
        if (s->http.resp.status / 100 == 2 && s->http.resp.content_encoding[0]) {
            /* asked for identity; the body's bytes are not the signed ones */
            fota_session_close(s);
            return fota_fail(rep, FOTA_ERR_HTTP_ENCODING,
                             "server compressed the %s (Content-Encoding: %s) at %s although "
                             "the request asked for identity: serve it uncompressed",
                             s->what, s->http.resp.content_encoding, buf->url);
        }
        s->at = s->http.resp.status == 206 ? s->range_from : 0;
        return FOTA_SESSION_HEADERS;
    case FOTA_HTTP_BODY:
        *body = b;
        *len = blen;
        s->at += (uint32_t)blen;
        return FOTA_SESSION_BODY;
    case FOTA_HTTP_DONE:
        return response_done(s);
    default:
        return FOTA_SESSION_WAIT; /* FOTA_HTTP_NEED_MORE */
    }
}

int fota_session_refuse(const struct fota_session *s, const struct fota_buffers *buf,
                        struct fota_report *rep)
{
    unsigned st = s->http.resp.status;
    int err = FOTA_ERR_HTTP_STATUS;
    const char *fmt = "server answered unexpected status %u for %s";
    /* every format takes (status, URL): one call */
    if (st == 404) {
        err = FOTA_ERR_HTTP_NOT_FOUND;
        fmt = "server answered %u Not Found for %s";
    } else if (st == 401 || st == 403) {
        err = FOTA_ERR_HTTP_FORBIDDEN;
        fmt = "server answered %u (access denied) for %s";
    } else if (st == 429 || st == 408) {
        err = FOTA_ERR_HTTP_BUSY;
        fmt = "server answered %u (busy: try later) for %s";
    } else if (st >= 400 && st < 500) {
        err = FOTA_ERR_HTTP_CLIENT;
        fmt = "server answered %u for %s: refused as final";
    } else if (st >= 500) {
        err = FOTA_ERR_HTTP_SERVER;
        fmt = "server answered %u for %s";
    }
    return fota_fail(rep, err, fmt, st, buf->url);
}
