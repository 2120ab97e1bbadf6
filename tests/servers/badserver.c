/*
 * badserver: an HTTP server on 127.0.0.1 that misbehaves in one chosen way
 * for the first N requests, then serves the files of DIR correctly (HTTP/1.1
 * keep-alive, Content-Length, single Range, ETag, If-None-Match, If-Range),
 * so a device under test can finish once the fault clears. It covers what a
 * TCP proxy (faultproxy) cannot: wrong statuses, lengths, framing, headers.
 *
 *   badserver --port N --mode MODE [--times N] [--dir DIR] [--arg K]
 *
 * Modes (K = --arg):
 *   none                  always correct
 *   status-500, status-502, status-503, status-404
 *   status-416            416 with "Content-Range: bytes * /SIZE" to every
 *                         request, with Range or without
 *   range-416             416 to every request with Range; without, 200 with
 *                         the full Content-Length but only the first K bytes
 *                         (default 65536), then close (a server that cannot
 *                         resume)
 *                         that status with a short text body (keep-alive)
 *   503-retry-after       503 with "Retry-After: 1"
 *   short-length          Content-Length is the file size + K (default 100),
 *                         the real body is sent, then the connection closes
 *   long-body             Content-Length is the file size - K (default 100,
 *                         at least 0), the whole body is sent, then close
 *   endless               200 without a length, the file's bytes repeated
 *                         until the client closes or K bytes (default 64 MiB)
 *   redirect-loop         302 A -> B -> A: "/p" to "/p?r=1" and back
 *   redirect-self         302 to the very same target
 *   redirect-no-location  302 without Location
 *   garbage-status        a non-HTTP status line, then close
 *   interim-1xx           "100 Continue" and "103 Early Hints" before a
 *                         correct response (a correct server: must succeed)
 *   huge-headers          a correct response with one K-byte header line
 *                         (default 16384)
 *   silent                read the request, never answer; close when the
 *                         client does (or after 10 minutes)
 *   http10-close          "HTTP/1.0 200" without Content-Length, body, close
 *                         (correct by itself)
 *   chunked               correct chunked response: chunk extensions, mixed
 *                         hex case ("A", "FFFF"), chunk sizes 1..65535, a trailer
 * Modes that send a file body answer a missing file with a correct 404.
 * Requests are counted over all connections, in the order they arrive.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "tool.h"

#define HEAD_MAX 65536
#define TARGET_MAX 2048
#define SILENT_MAX_MS (10 * 60 * 1000)

enum mode {
    M_NONE,
    M_500,
    M_502,
    M_503,
    M_404,
    M_503_RETRY,
    M_SHORT_LENGTH,
    M_LONG_BODY,
    M_ENDLESS,
    M_REDIRECT_LOOP,
    M_REDIRECT_SELF,
    M_REDIRECT_NO_LOCATION,
    M_GARBAGE_STATUS,
    M_INTERIM_1XX,
    M_HUGE_HEADERS,
    M_SILENT,
    M_HTTP10_CLOSE,
    M_CHUNKED,
    M_416,
    M_RANGE_416,
};

static const struct {
    const char *name;
    uint64_t default_arg;
} modes[] = {
    [M_NONE] = {"none", 0},
    [M_500] = {"status-500", 0},
    [M_502] = {"status-502", 0},
    [M_503] = {"status-503", 0},
    [M_404] = {"status-404", 0},
    [M_503_RETRY] = {"503-retry-after", 0},
    [M_SHORT_LENGTH] = {"short-length", 100},
    [M_LONG_BODY] = {"long-body", 100},
    [M_ENDLESS] = {"endless", 64u << 20},
    [M_REDIRECT_LOOP] = {"redirect-loop", 0},
    [M_REDIRECT_SELF] = {"redirect-self", 0},
    [M_REDIRECT_NO_LOCATION] = {"redirect-no-location", 0},
    [M_GARBAGE_STATUS] = {"garbage-status", 0},
    [M_INTERIM_1XX] = {"interim-1xx", 0},
    [M_HUGE_HEADERS] = {"huge-headers", 16384},
    [M_SILENT] = {"silent", 0},
    [M_HTTP10_CLOSE] = {"http10-close", 0},
    [M_CHUNKED] = {"chunked", 0},
    [M_416] = {"status-416", 0},
    [M_RANGE_416] = {"range-416", 65536},
};
#define MODE_COUNT (sizeof modes / sizeof modes[0])

static enum mode mode;
static uint64_t mode_arg;
static uint64_t times = UINT64_MAX;
static const char *dir;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t request_seq, conn_seq;

#define logf_(...) tool_log("badserver", __VA_ARGS__)

/* ---- I/O -------------------------------------------------------------------- */

static int send_all(int fd, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int sendf(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int sendf(int fd, const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof buf)
        return -1;
    return send_all(fd, buf, (size_t)n);
}

/* ---- Requests ------------------------------------------------------------------ */

struct request {
    char method[16];
    char target[TARGET_MAX];
    int minor; /* HTTP/1.minor */
    int keep_alive;
    char range[128];
    char if_none_match[256];
    char if_range[128];
    uint64_t content_length;
};

struct conn {
    int fd;
    uint64_t id;
    char buf[HEAD_MAX];
    size_t len; /* bytes in buf (may hold the start of the next request) */
};

static void header_value(char *out, size_t size, const char *v)
{
    while (*v == ' ' || *v == '\t')
        v++;
    size_t n = strlen(v);
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    if (n >= size)
        n = size - 1;
    memcpy(out, v, n);
    out[n] = 0;
}

/* Case-insensitive substring test (strcasestr is not POSIX). */
static int contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (!strncasecmp(hay, needle, n))
            return 1;
    return 0;
}

/* Read one request head. Returns 1 with *rq, 0 on a clean close, -1 on an
 * error (logged). */
static int read_request(struct conn *c, struct request *rq)
{
    char *end;
    for (;;) {
        c->buf[c->len] = 0; /* buf has one spare byte: HEAD_MAX - 1 used at most */
        end = strstr(c->buf, "\r\n\r\n");
        if (end)
            break;
        if (c->len >= HEAD_MAX - 1) {
            logf_("conn %" PRIu64 ": request head over %d bytes", c->id, HEAD_MAX);
            return -1;
        }
        ssize_t n = read(c->fd, c->buf + c->len, HEAD_MAX - 1 - c->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return c->len == 0 && n == 0 ? 0 : -1;
        c->len += (size_t)n;
    }
    size_t head_len = (size_t)(end - c->buf) + 4;
    memset(rq, 0, sizeof *rq);
    *end = 0;
    char *save = NULL;
    char *line = strtok_r(c->buf, "\r\n", &save);
    char version[16] = "";
    if (!line || sscanf(line, "%15s %2047s %15s", rq->method, rq->target, version) != 3 ||
        strncmp(version, "HTTP/1.", 7) != 0) {
        logf_("conn %" PRIu64 ": malformed request line", c->id);
        return -1;
    }
    rq->minor = version[7] == '0' ? 0 : 1;
    rq->keep_alive = rq->minor == 1;
    while ((line = strtok_r(NULL, "\r\n", &save))) {
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        *colon = 0;
        const char *v = colon + 1;
        char val[256];
        if (!strcasecmp(line, "Range"))
            header_value(rq->range, sizeof rq->range, v);
        else if (!strcasecmp(line, "If-None-Match"))
            header_value(rq->if_none_match, sizeof rq->if_none_match, v);
        else if (!strcasecmp(line, "If-Range"))
            header_value(rq->if_range, sizeof rq->if_range, v);
        else if (!strcasecmp(line, "Content-Length"))
            rq->content_length = strtoull(v, NULL, 10);
        else if (!strcasecmp(line, "Connection")) {
            header_value(val, sizeof val, v);
            if (contains_ci(val, "close"))
                rq->keep_alive = 0;
            else if (contains_ci(val, "keep-alive"))
                rq->keep_alive = 1;
        }
    }
    /* Keep what follows the head (a pipelined request), drop a body. */
    memmove(c->buf, c->buf + head_len, c->len - head_len);
    c->len -= head_len;
    uint64_t skip = rq->content_length;
    while (skip) {
        if (c->len) {
            size_t n = c->len < skip ? c->len : (size_t)skip;
            memmove(c->buf, c->buf + n, c->len - n);
            c->len -= n;
            skip -= n;
            continue;
        }
        ssize_t n = read(c->fd, c->buf, HEAD_MAX - 1);
        if (n <= 0)
            return -1;
        c->len = (size_t)n;
    }
    return 1;
}

/* ---- Files --------------------------------------------------------------------- */

struct file {
    uint8_t *data;
    size_t len;
    char etag[24];
    const char *type;
};

/* Load the file a target names below DIR. Returns 0, or 400/404. No
 * percent-decoding: test targets are plain; anything odd is refused. */
static int load_file(const char *target, struct file *f)
{
    char path[TARGET_MAX];
    size_t n = strcspn(target, "?#");
    if (!dir || target[0] != '/' || n >= sizeof path)
        return 404;
    memcpy(path, target, n);
    path[n] = 0;
    if (strstr(path, "/..") || strchr(path, '%') || strchr(path, '\\'))
        return 400;
    char full[4096 + TARGET_MAX];
    snprintf(full, sizeof full, "%s%s", dir, path);
    struct stat st;
    if (stat(full, &st) != 0 || !S_ISREG(st.st_mode))
        return 404;
    FILE *fp = fopen(full, "rb");
    if (!fp)
        return 404;
    f->len = (size_t)st.st_size;
    f->data = malloc(f->len ? f->len : 1);
    if (!f->data || fread(f->data, 1, f->len, fp) != f->len) {
        fclose(fp);
        free(f->data);
        return 404;
    }
    fclose(fp);
    uint64_t h = 1469598103934665603ull; /* FNV-1a 64: the ETag needs no crypto here */
    for (size_t i = 0; i < f->len; i++)
        h = (h ^ f->data[i]) * 1099511628211ull;
    snprintf(f->etag, sizeof f->etag, "\"%016" PRIx64 "\"", h);
    size_t pl = strlen(path);
    f->type = (pl > 4 && !strcmp(path + pl - 4, ".txt")) ||
                      (pl > 8 && !strcmp(path + pl - 8, ".version"))
                  ? "text/plain"
                  : "application/octet-stream";
    return 0;
}

/* ---- Responses ------------------------------------------------------------------ */

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 206: return "Partial Content";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 416: return "Range Not Satisfiable";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    }
    return "Unknown";
}

static const char *connection_header(const struct request *rq)
{
    if (!rq->keep_alive)
        return "Connection: close\r\n";
    return rq->minor == 0 ? "Connection: keep-alive\r\n" : "";
}

/* A status with a short text body and optional extra header lines. */
static int send_status(int fd, const struct request *rq, int status, const char *extra)
{
    char body[64];
    int n = snprintf(body, sizeof body, "%d %s\n", status, reason(status));
    if (sendf(fd,
              "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n%s%s\r\n",
              status, reason(status), n, extra ? extra : "", connection_header(rq)))
        return -1;
    return strcmp(rq->method, "HEAD") ? send_all(fd, body, (size_t)n) : 0;
}

/* Single range against `size`: 0 none/ignored, 1 ok, 2 unsatisfiable. */
static int parse_range(const char *v, uint64_t size, uint64_t *first, uint64_t *last)
{
    uint64_t a, b;
    char tail;
    if (strncmp(v, "bytes=", 6) != 0 || strchr(v, ','))
        return 0;
    v += 6;
    if (sscanf(v, "-%" SCNu64 "%c", &b, &tail) == 1) {
        if (b == 0 || size == 0)
            return 2;
        *first = b >= size ? 0 : size - b;
        *last = size - 1;
        return 1;
    }
    int got = sscanf(v, "%" SCNu64 "-%" SCNu64 "%c", &a, &b, &tail);
    if (got == 1 && v[strlen(v) - 1] == '-')
        b = UINT64_MAX;
    else if (got != 2 || a > b)
        return 0;
    if (a >= size)
        return 2;
    *first = a;
    *last = b >= size ? size - 1 : b;
    return 1;
}

/* The correct answer, with optional extra header lines. */
static int serve_ok(int fd, const struct request *rq, const char *extra, const char **what)
{
    if (strcmp(rq->method, "GET") && strcmp(rq->method, "HEAD")) {
        *what = "405";
        return send_status(fd, rq, 405, "Allow: GET, HEAD\r\n");
    }
    struct file f;
    int st = load_file(rq->target, &f);
    if (st) {
        *what = st == 400 ? "400 (refused target)" : "404 (no such file)";
        return send_status(fd, rq, st, NULL);
    }
    int head = !strcmp(rq->method, "HEAD");
    int r;
    if (rq->if_none_match[0] &&
        (!strcmp(rq->if_none_match, "*") || strstr(rq->if_none_match, f.etag))) {
        *what = "304";
        r = sendf(fd, "HTTP/1.1 304 Not Modified\r\nETag: %s\r\n%s%s\r\n", f.etag,
                  extra ? extra : "", connection_header(rq));
        free(f.data);
        return r;
    }
    uint64_t first = 0, last = f.len ? f.len - 1 : 0;
    int rr = 0;
    if (rq->range[0] && !head && (!rq->if_range[0] || !strcmp(rq->if_range, f.etag)))
        rr = parse_range(rq->range, f.len, &first, &last);
    if (rr == 2) {
        char cr[64];
        snprintf(cr, sizeof cr, "Content-Range: bytes */%zu\r\n", f.len);
        free(f.data);
        *what = "416";
        return send_status(fd, rq, 416, cr);
    }
    uint64_t n = f.len ? last - first + 1 : 0;
    char cr[96] = "";
    if (rr == 1)
        snprintf(cr, sizeof cr, "Content-Range: bytes %" PRIu64 "-%" PRIu64 "/%zu\r\n", first,
                 last, f.len);
    r = sendf(fd,
              "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %" PRIu64
              "\r\nETag: %s\r\nAccept-Ranges: bytes\r\n%s%s",
              rr == 1 ? 206 : 200, rr == 1 ? "Partial Content" : "OK", f.type, n, f.etag, cr,
              connection_header(rq));
    /* The extra lines may be long (huge-headers): sent on their own. */
    if (!r && extra)
        r = send_all(fd, extra, strlen(extra));
    if (!r)
        r = send_all(fd, "\r\n", 2);
    if (!r && !head)
        r = send_all(fd, f.data + first, (size_t)n);
    *what = rr == 1 ? "206" : "200";
    free(f.data);
    return r;
}

/* Returns 1 when the connection may carry another request. */
static int misbehave(struct conn *c, const struct request *rq, char *what, size_t what_size)
{
    int fd = c->fd, head = !strcmp(rq->method, "HEAD");
    const char *w = "";
    struct file f = {0};
    int r = 0;
    uint64_t k = mode_arg;

    switch (mode) {
    case M_NONE:
        r = serve_ok(fd, rq, NULL, &w);
        snprintf(what, what_size, "%s", w);
        return !r && rq->keep_alive;
    case M_500:
    case M_502:
    case M_503:
    case M_404: {
        static const int status[] = {[M_500] = 500, [M_502] = 502, [M_503] = 503, [M_404] = 404};
        snprintf(what, what_size, "%d", status[mode]);
        return !send_status(fd, rq, status[mode], NULL) && rq->keep_alive;
    }
    case M_503_RETRY:
        snprintf(what, what_size, "503 with Retry-After: 1");
        return !send_status(fd, rq, 503, "Retry-After: 1\r\n") && rq->keep_alive;
    case M_REDIRECT_LOOP:
    case M_REDIRECT_SELF: {
        char loc[TARGET_MAX + 16];
        size_t n = strlen(rq->target);
        if (mode == M_REDIRECT_SELF)
            snprintf(loc, sizeof loc, "%s", rq->target);
        else if (n > 4 && !strcmp(rq->target + n - 4, "?r=1"))
            snprintf(loc, sizeof loc, "%.*s", (int)(n - 4), rq->target);
        else
            snprintf(loc, sizeof loc, "%s?r=1", rq->target);
        snprintf(what, what_size, "302 to %.200s", loc);
        r = sendf(fd, "HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\n%s\r\n", loc,
                  connection_header(rq));
        return !r && rq->keep_alive;
    }
    case M_REDIRECT_NO_LOCATION:
        snprintf(what, what_size, "302 without Location");
        r = sendf(fd, "HTTP/1.1 302 Found\r\nContent-Length: 0\r\n%s\r\n", connection_header(rq));
        return !r && rq->keep_alive;
    case M_GARBAGE_STATUS:
        snprintf(what, what_size, "garbage status line, closed");
        sendf(fd, "GARBAGE 200 this-is-not-http\r\nContent-Length: 5\r\n\r\nhello");
        return 0;
    case M_INTERIM_1XX:
        r = sendf(fd, "HTTP/1.1 100 Continue\r\n\r\n"
                      "HTTP/1.1 103 Early Hints\r\nLink: </manifest.txt>; rel=preload\r\n\r\n");
        if (!r)
            r = serve_ok(fd, rq, NULL, &w);
        snprintf(what, what_size, "100 and 103, then %s", w);
        return !r && rq->keep_alive;
    case M_HUGE_HEADERS: {
        size_t n = (size_t)k;
        char *line = malloc(n + 16);
        if (!line)
            return 0;
        memcpy(line, "X-Huge: ", 8);
        memset(line + 8, 'a', n > 8 ? n - 8 : 0);
        strcpy(line + (n > 8 ? n : 8), "\r\n");
        r = serve_ok(fd, rq, line, &w);
        free(line);
        snprintf(what, what_size, "%s with a %zu-byte header line", w, n);
        return !r && rq->keep_alive;
    }
    case M_SILENT: {
        snprintf(what, what_size, "no answer");
        logf_("conn %" PRIu64 ": %s %s: staying silent", c->id, rq->method, rq->target);
        struct pollfd p = {fd, POLLIN, 0};
        char sink[4096];
        for (int waited = 0; waited < SILENT_MAX_MS; waited += 1000) {
            if (poll(&p, 1, 1000) > 0 && read(fd, sink, sizeof sink) <= 0) {
                snprintf(what, what_size, "no answer; client closed");
                break;
            }
        }
        return 0;
    }
    default:
        break;
    }

    /* The modes below send a file's body in some wrong (or unusual) way. */
    if (strcmp(rq->method, "GET") && !head) {
        r = serve_ok(fd, rq, NULL, &w);
        snprintf(what, what_size, "%s (method)", w);
        return !r && rq->keep_alive;
    }
    int st = load_file(rq->target, &f);
    if (st) {
        snprintf(what, what_size, "%d (no such file)", st);
        return !send_status(fd, rq, st, NULL) && rq->keep_alive;
    }
    switch (mode) {
    case M_416: {
        char cr[64];
        snprintf(cr, sizeof cr, "Content-Range: bytes */%zu\r\n", f.len);
        snprintf(what, what_size, "416%s", rq->range[0] ? "" : " to a request without Range");
        free(f.data);
        return !send_status(fd, rq, 416, cr) && rq->keep_alive;
    }
    case M_RANGE_416:
        if (rq->range[0]) {
            char cr[64];
            snprintf(cr, sizeof cr, "Content-Range: bytes */%zu\r\n", f.len);
            snprintf(what, what_size, "416 to Range %.60s", rq->range);
            free(f.data);
            return !send_status(fd, rq, 416, cr) && rq->keep_alive;
        }
        snprintf(what, what_size, "200, closed after %" PRIu64 " of %zu bytes",
                 k < f.len ? k : (uint64_t)f.len, f.len);
        r = sendf(fd, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                      "Accept-Ranges: bytes\r\nConnection: close\r\n\r\n",
                  f.type, f.len);
        if (!r && !head)
            send_all(fd, f.data, k < f.len ? (size_t)k : f.len);
        break;
    case M_SHORT_LENGTH:
        snprintf(what, what_size, "Content-Length %zu + %" PRIu64 ", %zu bytes sent, closed",
                 f.len, k, head ? 0 : f.len);
        r = sendf(fd, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %" PRIu64
                      "\r\nConnection: close\r\n\r\n",
                  f.type, (uint64_t)f.len + k);
        if (!r && !head)
            send_all(fd, f.data, f.len);
        break;
    case M_LONG_BODY: {
        uint64_t claimed = f.len > k ? f.len - k : 0;
        snprintf(what, what_size, "Content-Length %" PRIu64 ", %zu bytes sent, closed", claimed,
                 head ? 0 : f.len);
        r = sendf(fd, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %" PRIu64
                      "\r\nConnection: close\r\n\r\n",
                  f.type, claimed);
        if (!r && !head)
            send_all(fd, f.data, f.len);
        break;
    }
    case M_ENDLESS: {
        uint64_t sent = 0;
        r = sendf(fd, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nConnection: close\r\n\r\n",
                  f.type);
        while (!r && !head && sent < k && f.len) {
            size_t n = f.len;
            if (n > k - sent)
                n = (size_t)(k - sent);
            r = send_all(fd, f.data, n);
            if (!r)
                sent += n;
        }
        snprintf(what, what_size, "200 without length, %" PRIu64 " bytes sent (%s)", sent,
                 r ? "client closed" : "limit reached");
        break;
    }
    case M_HTTP10_CLOSE:
        snprintf(what, what_size, "HTTP/1.0 200 without length, %zu bytes, closed",
                 head ? 0 : f.len);
        r = sendf(fd, "HTTP/1.0 200 OK\r\nContent-Type: %s\r\nETag: %s\r\n\r\n", f.type, f.etag);
        if (!r && !head)
            send_all(fd, f.data, f.len);
        break;
    case M_CHUNKED: {
        static const size_t sizes[] = {1, 10, 100, 4096, 65535, 3};
        r = sendf(fd,
                  "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nTransfer-Encoding: chunked\r\n"
                  "Trailer: X-Body-Length\r\nETag: %s\r\n%s\r\n",
                  f.type, f.etag, connection_header(rq));
        size_t off = 0, chunks = 0;
        while (!r && !head && off < f.len) {
            size_t n = sizes[chunks % (sizeof sizes / sizeof sizes[0])];
            if (n > f.len - off)
                n = f.len - off;
            /* Extensions (plain and quoted) and upper/lower-case hex sizes. */
            if (chunks % 3 == 0)
                r = sendf(fd, "%zx;ext=%zu\r\n", n, chunks);
            else if (chunks % 3 == 1)
                r = sendf(fd, "%zX;name=\"q;uoted\"\r\n", n);
            else
                r = sendf(fd, "%zx\r\n", n);
            if (!r)
                r = send_all(fd, f.data + off, n);
            if (!r)
                r = send_all(fd, "\r\n", 2);
            off += n;
            chunks++;
        }
        if (!r && !head)
            r = sendf(fd, "0;last\r\nX-Body-Length: %zu\r\n\r\n", f.len);
        snprintf(what, what_size, "chunked, %zu bytes in %zu chunks with trailer", f.len, chunks);
        free(f.data);
        return !r && rq->keep_alive;
    }
    default:
        break;
    }
    free(f.data);
    return 0;
}

static void *serve_conn(void *arg)
{
    struct conn *c = arg;
    for (;;) {
        struct request rq;
        int got = read_request(c, &rq);
        if (got <= 0)
            break;
        pthread_mutex_lock(&lock);
        uint64_t n = ++request_seq;
        pthread_mutex_unlock(&lock);
        int bad = n <= times;
        char what[256] = "";
        int again;
        if (bad) {
            again = misbehave(c, &rq, what, sizeof what);
        } else {
            const char *w = "";
            again = !serve_ok(c->fd, &rq, NULL, &w) && rq.keep_alive;
            snprintf(what, sizeof what, "%s", w);
        }
        logf_("request %" PRIu64 " (conn %" PRIu64 "): %s %s HTTP/1.%d -> %s: %s", n, c->id,
              rq.method, rq.target, rq.minor, bad ? modes[mode].name : "correct", what);
        if (!again)
            break;
    }
    close(c->fd);
    free(c);
    return NULL;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: badserver --port N --mode MODE [--times N] [--dir DIR] [--arg K]\nmodes:");
    for (size_t i = 0; i < MODE_COUNT; i++)
        fprintf(out, " %s", modes[i].name);
    fprintf(out, "\n");
}

int main(int argc, char **argv)
{
    uint64_t port = UINT64_MAX;
    const char *mode_name = NULL;
    int have_arg = 0;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
            usage(stdout);
            return 0;
        }
        if (!v) {
            fprintf(stderr, "badserver: %s: missing value\n", o);
            return 2;
        }
        i++;
        if (!strcmp(o, "--port")) {
            if (parse_u64(v, &port) || port > 65535) {
                fprintf(stderr, "badserver: --port %s: expected 0..65535\n", v);
                return 2;
            }
        } else if (!strcmp(o, "--mode")) {
            mode_name = v;
        } else if (!strcmp(o, "--times")) {
            if (parse_u64(v, &times)) {
                fprintf(stderr, "badserver: --times %s: expected a number\n", v);
                return 2;
            }
        } else if (!strcmp(o, "--dir")) {
            dir = v;
        } else if (!strcmp(o, "--arg")) {
            if (parse_u64(v, &mode_arg)) {
                fprintf(stderr, "badserver: --arg %s: expected a number\n", v);
                return 2;
            }
            have_arg = 1;
        } else {
            fprintf(stderr, "badserver: unknown option %s\n", o);
            usage(stderr);
            return 2;
        }
    }
    if (port == UINT64_MAX || !mode_name) {
        fprintf(stderr, "badserver: --port and --mode are required\n");
        usage(stderr);
        return 2;
    }
    size_t m;
    for (m = 0; m < MODE_COUNT && strcmp(modes[m].name, mode_name); m++) {
    }
    if (m == MODE_COUNT && !strcmp(mode_name, "status-503-retry-after"))
        m = M_503_RETRY;
    if (m == MODE_COUNT) {
        fprintf(stderr, "badserver: unknown mode '%s'\n", mode_name);
        usage(stderr);
        return 2;
    }
    mode = (enum mode)m;
    if (!have_arg)
        mode_arg = modes[mode].default_arg;
    if (dir) {
        struct stat st;
        if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            fprintf(stderr, "badserver: --dir %s: not a directory\n", dir);
            return 2;
        }
    }

    signal(SIGPIPE, SIG_IGN);
    int ls = listen_loopback("badserver", port);
    if (ls < 0)
        return 1;
    if (times == UINT64_MAX)
        logf_("mode %s arg %" PRIu64 " on every request, files from %s", modes[mode].name,
              mode_arg, dir ? dir : "(none)");
    else
        logf_("mode %s arg %" PRIu64 " on the first %" PRIu64 " requests, files from %s",
              modes[mode].name, mode_arg, times, dir ? dir : "(none)");

    for (;;) {
        int fd = accept_client(ls, "badserver", NULL, NULL);
        if (fd < 0)
            return 1;
        struct conn *c = calloc(1, sizeof *c);
        if (!c) {
            close(fd);
            continue;
        }
        c->fd = fd;
        pthread_mutex_lock(&lock);
        c->id = ++conn_seq;
        pthread_mutex_unlock(&lock);
        if (spawn_detached(serve_conn, c) != 0) {
            close(fd);
            free(c);
        }
    }
}
