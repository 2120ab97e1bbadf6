/*
 * fota serve DIR: a small, strict firmware file server on libmicrohttpd.
 *
 * What it guarantees (docs/serve.md has the user-facing description):
 * - GET and HEAD of regular files under DIR only; every other method is 405.
 * - Exact Content-Length, never chunked: the stock ESP8266 updater speaks
 *   HTTP/1.0 and cannot read chunked bodies.
 * - A strong ETag per file from its content (SHA-256 prefix), cached by
 *   device+inode+size+mtime+ctime so a release that rewrites manifest.txt
 *   (rename, or in place) gets a new ETag on the next request.
 * - If-None-Match (304), single byte ranges (206/416), If-Range by ETag.
 * - Paths are decoded once, per segment; dot segments, NUL, backslash and
 *   encoded slashes are refused (400). Files are opened one component at a
 *   time below a directory fd with O_NOFOLLOW, so nothing outside DIR is ever
 *   reached and symlinks are not followed at all (404).
 * - One access-log line per request, written when the request ends; with
 *   --quiet nothing of it is formatted.
 * - Open files, their ETags and built responses are kept per path and
 *   revalidated when inotify reports a change (serve_cache.h): a repeated
 *   request costs no file-system call.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "cli.h"
#include "fleet/fleet_serve.h"
#include "fota/crypto.h"
#include "serve_legacy.h"
#include "serve_cache.h"
#include "serve_guard.h"
#include "util.h"
#include "fota_crypto_backends.h"

#define SERVE_THREADS 4 /* default of --threads */
#define SERVE_IDLE_TIMEOUT_S 30
#define SERVE_HEADER_TIMEOUT_S 10 /* complete request headers, however they trickle */
#define SERVE_PER_ADDRESS 128     /* connections from one client address */
#define GUARD_MARGIN 16           /* accepts in flight past the guard's count */
#define ETAG_HEX_DIGITS 32 /* 128-bit prefix of the SHA-256 */
#define ETAG_SIZE (ETAG_HEX_DIGITS + 3) /* quoted, NUL */
#define ETAG_CACHE_SLOTS 256
#define FILE_CACHE_SLOTS 128 /* open files kept (serve_cache.h) */
/* Whole-file 200s are answered from memory: header and body leave in one
 * send. From a file descriptor, libmicrohttpd (0.9.75) sends the header
 * alone and pushes it (TCP_CORK off) before the first sendfile piece, so
 * the client is woken once for the header and again for the body; on the
 * benchmark's machine that extra wake-up costs the client about as much
 * CPU as the whole body copy (docs/bench.md). Files up to SMALL_FILE_MAX
 * (manifests) are always held; larger ones up to MEMORY_FILE_MAX while the
 * --cache-memory budget lasts, else they are sent with sendfile. */
#define SMALL_FILE_MAX 65536
#define MEMORY_FILE_MAX (16u * 1024 * 1024) /* the largest ESP32 flash */
#define SERVE_MEMORY_MIB 256 /* default of --cache-memory */
#define PATH_SEGMENTS_MAX 64
#define SEGMENT_MAX 255 /* NAME_MAX on every system we run on */
#define TARGET_MAX 4096

/* ---- Strong ETags from file content, cached ----------------------------- */

struct etag_entry {
    int used;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
    char etag[ETAG_SIZE];
};

struct etag_cache {
    pthread_mutex_t lock;
    struct etag_entry slot[ETAG_CACHE_SLOTS];
    unsigned next_victim;
};

static int same_time(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

static int same_file_version(const struct etag_entry *e, const struct stat *st)
{
    return e->used && e->dev == st->st_dev && e->ino == st->st_ino && e->size == st->st_size &&
           same_time(&e->mtime, &st->st_mtim) && same_time(&e->ctime, &st->st_ctim);
}

/* Hash the whole file through pread (the fd's offset is left alone for MHD).
 * Returns 0 or an errno value. */
static int hash_file(int fd, char out[ETAG_SIZE])
{
    enum { CHUNK = 65536 };
    uint8_t *buf = malloc(CHUNK);
    if (!buf)
        return ENOMEM;
    const struct fota_crypto *c = &FOTA_CRYPTO_HOST;
    struct fota_sha256 sha;
    int started = c->sha256_start(c->ctx, &sha) == 0;
    int err = started ? 0 : EIO;
    for (off_t off = 0; !err;) {
        ssize_t n = pread(fd, buf, CHUNK, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            err = errno;
        else if (n == 0)
            break;
        else if (c->sha256_update(c->ctx, &sha, buf, (size_t)n))
            err = EIO;
        else
            off += n;
    }
    uint8_t digest[32];
    if (started && c->sha256_finish(c->ctx, &sha, digest) != 0) /* also releases the context */
        err = err ? err : EIO;
    free(buf);
    if (!err) {
        char hex[65];
        util_hex(digest, sizeof digest, hex);
        snprintf(out, ETAG_SIZE, "\"%.*s\"", ETAG_HEX_DIGITS, hex);
    }
    return err;
}

/* The ETag of the open file `fd` whose fstat is `st`. Hashing happens outside
 * the lock so one large file does not hold up other requests. */
static int etag_for(struct etag_cache *c, int fd, const struct stat *st, char out[ETAG_SIZE])
{
    pthread_mutex_lock(&c->lock);
    for (unsigned i = 0; i < ETAG_CACHE_SLOTS; i++) {
        if (same_file_version(&c->slot[i], st)) {
            memcpy(out, c->slot[i].etag, ETAG_SIZE);
            pthread_mutex_unlock(&c->lock);
            return 0;
        }
    }
    pthread_mutex_unlock(&c->lock);

    int err = hash_file(fd, out);
    if (err)
        return err;
    /* Only cache when the file did not change while it was hashed. */
    struct stat after;
    if (fstat(fd, &after) != 0 || after.st_size != st->st_size ||
        !same_time(&after.st_mtim, &st->st_mtim) || !same_time(&after.st_ctim, &st->st_ctim))
        return 0;

    pthread_mutex_lock(&c->lock);
    struct etag_entry *e = NULL;
    for (unsigned i = 0; i < ETAG_CACHE_SLOTS && !e; i++)
        if (c->slot[i].used && c->slot[i].dev == st->st_dev && c->slot[i].ino == st->st_ino)
            e = &c->slot[i]; /* an older version of the same file */
    for (unsigned i = 0; i < ETAG_CACHE_SLOTS && !e; i++)
        if (!c->slot[i].used)
            e = &c->slot[i];
    if (!e) {
        e = &c->slot[c->next_victim];
        c->next_victim = (c->next_victim + 1) % ETAG_CACHE_SLOTS;
    }
    e->used = 1;
    e->dev = st->st_dev;
    e->ino = st->st_ino;
    e->size = st->st_size;
    e->mtime = st->st_mtim;
    e->ctime = st->st_ctim;
    memcpy(e->etag, out, ETAG_SIZE);
    pthread_mutex_unlock(&c->lock);
    return 0;
}

/* ---- Server and per-request state ---------------------------------------- */

_Static_assert(ETAG_SIZE == SERVE_ETAG_SIZE, "serve_cache.h's ETag size");

struct server {
    int root_fd;
    FILE *log; /* NULL with --quiet */
    pthread_mutex_t log_lock;
    struct etag_cache etags;
    struct serve_cache *files; /* open files by path, with their responses */
    struct fleet_server *fleet; /* fleet mode (tools/fleet/), else NULL */
};

enum request_phase { PHASE_NEW = 0, PHASE_HEADERS_SEEN, PHASE_ANSWERED };

struct request {
    char started[40]; /* UTC time the request line arrived */
    char peer[INET6_ADDRSTRLEN + 12]; /* "[addr]:port" */
    char method[16];
    char *target; /* raw request-target as received */
    char range[96];
    char user_agent[160];
    char note[160]; /* why a request was refused, for the log */
    unsigned status;
    uint64_t body_bytes;
    int phase; /* enum request_phase */
    void *fleet_pending; /* a check-in waiting for its commit (fleet_serve.h) */
};

static void format_utc_now(char *out, size_t size)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, size, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, size - n, ".%03ldZ", ts.tv_nsec / 1000000L);
}

static void format_peer(const struct sockaddr *sa, char *out, size_t size)
{
    char host[INET6_ADDRSTRLEN], port[8];
    socklen_t len = sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                               : sizeof(struct sockaddr_in);
    if (getnameinfo(sa, len, host, sizeof host, port, sizeof port,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        snprintf(out, size, "?");
    else if (sa->sa_family == AF_INET6)
        snprintf(out, size, "[%s]:%s", host, port);
    else
        snprintf(out, size, "%s:%s", host, port);
}

/* Copy text for the log: printable ASCII stays, '"', '\\' and everything
 * else (CR, LF, ESC, bytes above 0x7E, so any UTF-8) become \xHH, and so
 * does a space in an unquoted field: a hostile request can forge neither a
 * line nor a field. */
static void log_escape(const char *in, char *out, size_t size, int quoted)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && o + 5 < size; p++) {
        if (*p > 0x20 && *p < 0x7f && *p != '"' && *p != '\\')
            out[o++] = (char)*p;
        else if (*p == ' ' && quoted)
            out[o++] = ' ';
        else
            o += (size_t)snprintf(out + o, size - o, "\\x%02X", *p);
    }
    out[o] = 0;
}

static void log_safe(const char *in, char *out, size_t size)
{
    log_escape(in, out, size, 1);
}

static void log_field(const char *in, char *out, size_t size)
{
    log_escape(in, out, size, 0);
}

/* Runs once per request, before the headers are parsed: the raw target is
 * kept for our own decoding and for the log. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    const struct server *srv = cls;
    struct request *rq = calloc(1, sizeof *rq);
    if (!rq)
        return NULL;
    rq->target = strdup(uri);
    if (!rq->target) {
        free(rq);
        return NULL;
    }
    snprintf(rq->method, sizeof rq->method, "-");
    if (!srv->log && !srv->fleet)
        return rq; /* nobody reads the time, peer, range or user agent */
    format_utc_now(rq->started, sizeof rq->started);
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr)
        format_peer(ci->client_addr, rq->peer, sizeof rq->peer);
    else
        snprintf(rq->peer, sizeof rq->peer, "?");
    snprintf(rq->range, sizeof rq->range, "-");
    snprintf(rq->user_agent, sizeof rq->user_agent, "-");
    return rq;
}

static const char *end_name(enum MHD_RequestTerminationCode code)
{
    switch (code) {
    case MHD_REQUEST_TERMINATED_COMPLETED_OK: return "ok";
    case MHD_REQUEST_TERMINATED_WITH_ERROR: return "error";
    case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED: return "timeout";
    case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN: return "shutdown";
    case MHD_REQUEST_TERMINATED_READ_ERROR: return "read-error";
    case MHD_REQUEST_TERMINATED_CLIENT_ABORT: return "client-abort";
    }
    return "?";
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode code)
{
    struct server *srv = cls;
    struct request *rq = *con_cls;
    if (!rq) {
        guard_request_end(conn);
        return;
    }
    *con_cls = NULL;
    /* Always: it restarts the header deadline for the connection's next
     * request, log or not. */
    int overdue = guard_request_end(conn);
    fleet_serve_forget(srv->fleet, rq->fleet_pending);
    if (srv->log) {
        char target[TARGET_MAX], ua[sizeof rq->user_agent * 4], range[sizeof rq->range * 4];
        char method[sizeof rq->method * 4], note[sizeof rq->note * 4], status[12];
        if (overdue && !rq->note[0])
            snprintf(rq->note, sizeof rq->note, "request headers overdue: closed");
        log_field(rq->method, method, sizeof method);
        log_safe(rq->note, note, sizeof note);
        log_field(rq->target, target, sizeof target);
        log_safe(rq->user_agent, ua, sizeof ua);
        log_safe(rq->range, range, sizeof range);
        /* Status "-": libmicrohttpd answered (or dropped) the request itself,
         * e.g. a malformed request, before our handler ran. */
        if (rq->status)
            snprintf(status, sizeof status, "%u", rq->status);
        else
            snprintf(status, sizeof status, "-");
        pthread_mutex_lock(&srv->log_lock);
        fprintf(srv->log, "%s %s %s %s %s %" PRIu64 " range=\"%s\" ua=\"%s\" end=%s%s%s%s\n",
                rq->started, rq->peer, method, target, status, rq->body_bytes, range, ua,
                end_name(code), note[0] ? " note=\"" : "", note, note[0] ? "\"" : "");
        fflush(srv->log);
        pthread_mutex_unlock(&srv->log_lock);
    }
    free(rq->target);
    free(rq);
}

/* ---- Responses -------------------------------------------------------------- */

static int is_head(const struct request *rq)
{
    return strcmp(rq->method, MHD_HTTP_METHOD_HEAD) == 0;
}

static enum MHD_Result queue(struct MHD_Connection *conn, struct request *rq, unsigned status,
                             struct MHD_Response *resp, uint64_t body_bytes)
{
    if (!resp) {
        snprintf(rq->note, sizeof rq->note, "out of memory creating the response");
        return MHD_NO;
    }
    rq->status = status;
    rq->body_bytes = is_head(rq) ? 0 : body_bytes;
    enum MHD_Result r = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return r;
}

/* Queue a response that stays referenced elsewhere (the file cache's). */
static enum MHD_Result queue_shared(struct MHD_Connection *conn, struct request *rq,
                                    unsigned status, struct MHD_Response *resp,
                                    uint64_t body_bytes)
{
    rq->status = status;
    rq->body_bytes = is_head(rq) ? 0 : body_bytes;
    return MHD_queue_response(conn, status, resp);
}

/* A short text/plain body ("404 Not Found\n") plus an optional header. */
static enum MHD_Result send_status(struct MHD_Connection *conn, struct request *rq,
                                   unsigned status, const char *header, const char *value)
{
    char body[96];
    int n = snprintf(body, sizeof body, "%u %s\n", status, MHD_get_reason_phrase_for(status));
    struct MHD_Response *resp =
        MHD_create_response_from_buffer((size_t)n, body, MHD_RESPMEM_MUST_COPY);
    if (resp) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
        if (header)
            MHD_add_response_header(resp, header, value);
    }
    return queue(conn, rq, status, resp, (uint64_t)n);
}

static const char *content_type_for(const char *name)
{
    static const char *const text_suffixes[] = {".txt", ".version", ".manifest"};
    size_t len = strlen(name);
    if (strcmp(name, "manifest") == 0)
        return "text/plain";
    for (size_t i = 0; i < sizeof text_suffixes / sizeof text_suffixes[0]; i++) {
        size_t sl = strlen(text_suffixes[i]);
        if (len > sl && strcasecmp(name + len - sl, text_suffixes[i]) == 0)
            return "text/plain";
    }
    return "application/octet-stream";
}

/* ---- Request-target to an open file ----------------------------------------- */

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

struct path_segments {
    size_t count;
    int trailing_slash; /* "/dir/": names a directory */
    char name[PATH_SEGMENTS_MAX][SEGMENT_MAX + 1];
};

/* Split the path of a request-target into decoded segments. Returns 0 or the
 * HTTP status to answer, with the reason in `note`. Empty segments ("//")
 * are skipped, as nginx does; they cannot climb out of DIR. */
static unsigned split_path(const char *target, struct path_segments *out, char *note,
                           size_t note_size)
{
    const char *p = target;
    /* absolute-form (RFC 9112 3.2.2): servers must accept it; the authority
     * is ignored, only the path counts. */
    if (strncasecmp(p, "http://", 7) == 0 || strncasecmp(p, "https://", 8) == 0) {
        p = strstr(p, "://") + 3;
        p += strcspn(p, "/?#");
        if (*p != '/')
            p = "/";
    }
    if (p[0] != '/') {
        snprintf(note, note_size, "request-target is not a path");
        return MHD_HTTP_BAD_REQUEST;
    }
    size_t path_len = strcspn(p, "?#");
    out->count = 0;
    out->trailing_slash = p[path_len - 1] == '/';
    const char *end = p + path_len;
    while (p < end) {
        while (p < end && *p == '/')
            p++;
        if (p == end)
            break;
        const char *seg_end = memchr(p, '/', (size_t)(end - p));
        if (!seg_end)
            seg_end = end;
        if (out->count == PATH_SEGMENTS_MAX) {
            snprintf(note, note_size, "more than %d path segments", PATH_SEGMENTS_MAX);
            return MHD_HTTP_NOT_FOUND;
        }
        char *name = out->name[out->count];
        size_t n = 0;
        for (const char *q = p; q < seg_end; q++) {
            unsigned char c = (unsigned char)*q;
            if (c == '%') {
                int hi = q + 2 < seg_end ? hex_value(q[1]) : -1;
                int lo = hi >= 0 ? hex_value(q[2]) : -1;
                if (lo < 0) {
                    snprintf(note, note_size, "malformed percent-escape");
                    return MHD_HTTP_BAD_REQUEST;
                }
                c = (unsigned char)(hi * 16 + lo);
                q += 2;
                if (c == 0 || c == '/') {
                    snprintf(note, note_size, "encoded %s in path", c ? "slash" : "NUL");
                    return MHD_HTTP_BAD_REQUEST;
                }
            }
            if (c == '\\') {
                snprintf(note, note_size, "backslash in path");
                return MHD_HTTP_BAD_REQUEST;
            }
            if (n == SEGMENT_MAX) {
                snprintf(note, note_size, "path segment longer than %d bytes", SEGMENT_MAX);
                return MHD_HTTP_NOT_FOUND;
            }
            name[n++] = (char)c;
        }
        name[n] = 0;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
            snprintf(note, note_size, "dot segment in path");
            return MHD_HTTP_BAD_REQUEST;
        }
        out->count++;
        p = seg_end;
    }
    return 0;
}

static unsigned open_error(int err, const char *name, char *note, size_t note_size)
{
    switch (err) {
    case ENOENT:
    case ENOTDIR:
    case ENAMETOOLONG:
        snprintf(note, note_size, "not found: %s", name);
        return MHD_HTTP_NOT_FOUND;
    case ELOOP:
    case EMLINK: /* FreeBSD's answer to O_NOFOLLOW on a symlink */
        snprintf(note, note_size, "symlink refused: %s", name);
        return MHD_HTTP_NOT_FOUND;
    case EACCES:
    case EPERM:
        snprintf(note, note_size, "permission denied: %s", name);
        return MHD_HTTP_FORBIDDEN;
    default:
        snprintf(note, note_size, "cannot open %s: %s", name, strerror(err));
        return MHD_HTTP_INTERNAL_SERVER_ERROR;
    }
}

/* Open the regular file that `segs` names below root_fd, one component at a
 * time, never following a symlink. Returns 0 with *fd_out and *st, or the
 * HTTP status with the reason in `note`. */
static unsigned open_below(int root_fd, const struct path_segments *segs, int *fd_out,
                           struct stat *st, char *note, size_t note_size)
{
    if (segs->count == 0 || segs->trailing_slash) {
        snprintf(note, note_size, "directory");
        return MHD_HTTP_NOT_FOUND;
    }
    int dir = root_fd;
    for (size_t i = 0; i + 1 < segs->count; i++) {
        int next = openat(dir, segs->name[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int err = errno;
        if (dir != root_fd)
            close(dir);
        if (next < 0)
            return open_error(err, segs->name[i], note, note_size);
        dir = next;
    }
    const char *last = segs->name[segs->count - 1];
    /* O_NONBLOCK so that a FIFO cannot block the thread; cleared below
     * because MHD wants a blocking fd. */
    int fd = openat(dir, last, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    int err = errno;
    if (dir != root_fd)
        close(dir);
    if (fd < 0)
        return open_error(err, last, note, note_size);
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        snprintf(note, note_size, "%s: %s", last,
                 S_ISDIR(st->st_mode) ? "directory" : "not a regular file");
        close(fd);
        return MHD_HTTP_NOT_FOUND;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
        snprintf(note, note_size, "fcntl %s: %s", last, strerror(errno));
        close(fd);
        return MHD_HTTP_INTERNAL_SERVER_ERROR;
    }
    *fd_out = fd;
    return 0;
}

/* ---- Conditional and range requests ------------------------------------------ */

static const char *skip_ows(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* If-None-Match: "*" or a list of entity-tags, compared weakly (W/ ignored).
 * A malformed list is ignored (no match). */
static int if_none_match_matches(const char *value, const char *etag)
{
    const char *p = skip_ows(value);
    if (*p == '*')
        return *skip_ows(p + 1) == 0;
    size_t etag_len = strlen(etag);
    while (*p) {
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        if (*p != '"')
            return 0;
        const char *close_quote = strchr(p + 1, '"');
        if (!close_quote)
            return 0;
        size_t len = (size_t)(close_quote + 1 - p);
        if (len == etag_len && memcmp(p, etag, len) == 0)
            return 1;
        p = skip_ows(close_quote + 1);
        if (*p == ',')
            p = skip_ows(p + 1);
        else if (*p)
            return 0;
    }
    return 0;
}

/* Saturating decimal parse; returns the end, or NULL when there is no digit. */
static const char *parse_u64(const char *p, uint64_t *out)
{
    if (*p < '0' || *p > '9')
        return NULL;
    uint64_t v = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned)(*p - '0');
        v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
    }
    *out = v;
    return p;
}

enum range_result { RANGE_NONE, RANGE_OK, RANGE_UNSATISFIABLE };

/* One range "bytes=a-b" / "bytes=a-" / "bytes=-n" against a file of `size`
 * bytes. Malformed headers and lists of ranges are RANGE_NONE: the whole
 * file is sent, as RFC 9110 14.2 allows. */
static enum range_result parse_range(const char *value, uint64_t size, uint64_t *first,
                                     uint64_t *last)
{
    const char *p = skip_ows(value);
    if (strncasecmp(p, "bytes", 5) != 0)
        return RANGE_NONE;
    p = skip_ows(p + 5);
    if (*p != '=')
        return RANGE_NONE;
    p = skip_ows(p + 1);
    uint64_t a = 0, b = UINT64_MAX;
    int suffix = *p == '-';
    if (suffix) {
        p = parse_u64(p + 1, &b);
    } else {
        p = parse_u64(p, &a);
        if (!p || *p != '-')
            return RANGE_NONE;
        p++;
        if (*p >= '0' && *p <= '9')
            p = parse_u64(p, &b);
    }
    if (!p || *skip_ows(p) != 0 || a > b)
        return RANGE_NONE; /* also catches "a-b,c-d" */
    if (suffix) {
        if (b == 0 || size == 0)
            return RANGE_UNSATISFIABLE;
        *first = b >= size ? 0 : size - b;
        *last = size - 1;
        return RANGE_OK;
    }
    if (a >= size)
        return RANGE_UNSATISFIABLE;
    *first = a;
    *last = b >= size ? size - 1 : b;
    return RANGE_OK;
}

/* ---- The stock Arduino updater (tools/serve_legacy.c) ------------------------ */

static const char *request_header(void *ctx, const char *name)
{
    return MHD_lookup_connection_value(ctx, MHD_HEADER_KIND, name);
}

struct sibling_ctx {
    int root_fd;
    const struct path_segments *segs;
};

/* Open `rel` ("a.bin", "groups/b.bin") beside the requested file, through
 * open_below: the same refusals (dot segments, symlinks) apply. */
static unsigned open_sibling(void *ctx, const char *rel, int *fd, struct stat *st)
{
    const struct sibling_ctx *s = ctx;
    char note[160];
    struct path_segments *p = malloc(sizeof *p);
    if (!p)
        return MHD_HTTP_INTERNAL_SERVER_ERROR;
    p->count = s->segs->count - 1;
    p->trailing_slash = 0;
    memcpy(p->name, s->segs->name, p->count * sizeof p->name[0]);
    for (const char *q = rel; *q;) {
        size_t n = strcspn(q, "/");
        if (n == 0 || n > SEGMENT_MAX || p->count == PATH_SEGMENTS_MAX ||
            (n == 1 && q[0] == '.') || (n == 2 && q[0] == '.' && q[1] == '.')) {
            free(p);
            return MHD_HTTP_NOT_FOUND;
        }
        memcpy(p->name[p->count], q, n);
        p->name[p->count++][n] = 0;
        q += n + (q[n] == '/');
    }
    unsigned status = open_below(s->root_fd, p, fd, st, note, sizeof note);
    free(p);
    return status;
}

/* 1 when the request was the stock updater's (or a group member's file),
 * answered in *ret. */
static int legacy_request(struct server *srv, struct MHD_Connection *conn, struct request *rq,
                          const struct path_segments *segs, enum MHD_Result *ret)
{
    struct stock_checkin stock;
    struct legacy_answer la;
    struct sibling_ctx sc = {srv->root_fd, segs};
    int kind;

    if (segs->count == 0 || segs->trailing_slash)
        return 0;
    kind = stock_checkin_parse(request_header, conn, &stock, rq->note, sizeof rq->note);
    if (kind < 0) {
        *ret = send_status(conn, rq, MHD_HTTP_BAD_REQUEST, NULL, NULL);
        return 1;
    }
    if (!legacy_answer(kind ? &stock : NULL, segs->name[segs->count - 1], open_sibling, &sc, &la))
        return 0;
    snprintf(rq->note, sizeof rq->note, "%.*s", (int)sizeof rq->note - 1, la.note);
    if (la.status != MHD_HTTP_OK && la.status != MHD_HTTP_NOT_MODIFIED) {
        *ret = send_status(conn, rq, la.status, NULL, NULL);
        return 1;
    }
    struct MHD_Response *resp =
        la.fd >= 0 ? MHD_create_response_from_fd64(la.length, la.fd) /* owns fd */
                   : MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (!resp && la.fd >= 0)
        close(la.fd);
    if (resp) {
        /* The stock client speaks HTTP/1.0: answer in kind, Content-Length
         * and no chunking (MHD never chunks a response of known size). */
        MHD_set_response_options(resp, MHD_RF_HTTP_1_0_SERVER, MHD_RO_END);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
        if (la.x_md5[0] && kind)
            MHD_add_response_header(resp, "x-MD5", la.x_md5);
        if (la.x_version[0] && kind)
            MHD_add_response_header(resp, "x-version", la.x_version);
    }
    *ret = queue(conn, rq, la.status, resp, la.fd >= 0 ? la.length : 0);
    return 1;
}

/* ---- The handler ------------------------------------------------------------- */

static void copy_header(struct MHD_Connection *conn, const char *name, char *out, size_t size)
{
    const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
    if (v)
        snprintf(out, size, "%s", v);
}

/* ---- The open-file cache (serve_cache.h) -------------------------------------- */

static int same_identity(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           same_time(&a->st_mtim, &b->st_mtim) && same_time(&a->st_ctim, &b->st_ctim);
}

/* The 304's body is never read: MHD only takes its size for the
 * Content-Length (see serve_entry). */
static ssize_t no_body(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)cls;
    (void)pos;
    (void)buf;
    (void)max;
    return MHD_CONTENT_READER_END_WITH_ERROR;
}

/* A small file's content, read whole into `buf` (size bytes). 0 or errno. */
static int read_whole(int fd, char *buf, size_t size)
{
    for (size_t at = 0; at < size;) {
        ssize_t n = pread(fd, buf + at, size - at, (off_t)at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno;
        if (n == 0)
            return EIO; /* shrank under us: the next change event revalidates */
        at += (size_t)n;
    }
    return 0;
}

/* File content held for a shared 200. It is freed, and its bytes given
 * back to the cache's budget, when libmicrohttpd releases the response:
 * after the entry is gone and the last connection sending it is done. */
struct held_content {
    struct serve_cache *cache;
    uint64_t counted; /* bytes counted against the budget (0: a small file) */
    char data[];
};

static void held_content_free(void *cls)
{
    struct held_content *h = cls;
    if (h->counted)
        serve_cache_unhold(h->cache, h->counted);
    free(h);
}

/* The shared 200 from memory (MHD sends header and body in one go, and
 * takes no lock to send from a buffer), or NULL: with *err set when the
 * file could not be read or memory ran out, with *err 0 when the file is
 * to be sent from disk (too large, or over the budget). Such a file gets a
 * response per request (serve_entry): MHD holds a file response's lock
 * while it calls sendfile, so one shared response would let only one
 * connection send that file at a time. */
static struct MHD_Response *memory_response(struct serve_cache *cache, int fd, uint64_t size,
                                            int *err)
{
    *err = 0;
    if (size == 0)
        return MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    uint64_t counted = size <= SMALL_FILE_MAX ? 0 : size;
    if (counted && (size > MEMORY_FILE_MAX || !serve_cache_hold(cache, counted)))
        return NULL;
    struct held_content *h = malloc(sizeof *h + (size_t)size);
    if (!h || (*err = read_whole(fd, h->data, (size_t)size)) != 0) {
        *err = h ? *err : ENOMEM;
        free(h);
        if (counted)
            serve_cache_unhold(cache, counted);
        return NULL;
    }
    h->cache = cache;
    h->counted = counted;
    struct MHD_Response *r = MHD_create_response_from_buffer_with_free_callback_cls(
        (size_t)size, h->data, held_content_free, h);
    if (!r) {
        *err = ENOMEM;
        held_content_free(h);
    }
    return r;
}

/* The headers of a 200 or 206 of the entry's file. */
static void add_body_headers(struct MHD_Response *resp, const struct serve_entry *e)
{
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, e->etag);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type_for(e->name));
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
}

/* The new cache entry for the open file `fd` (taken over, closed on
 * failure): its ETag and both responses. NULL with the reason in `note`.
 * The 304 is a response of the file's size whose body is never read. */
static struct serve_entry *entry_new(struct server *srv, const char *key, const char *name,
                                     int fd, const struct stat *st, char *note, size_t note_size)
{
    struct serve_entry *e = calloc(1, sizeof *e);
    int err = e && (e->key = strdup(key)) ? 0 : ENOMEM;
    if (!err)
        err = etag_for(&srv->etags, fd, st, e->etag);
    if (err) {
        close(fd);
        snprintf(note, note_size, "cannot read %s: %s", name, strerror(err));
        if (e)
            free(e->key);
        free(e);
        return NULL;
    }
    uint64_t size = (uint64_t)st->st_size;
    const char *slash = strrchr(e->key, '/');
    e->name = slash ? slash + 1 : e->key;
    e->st = *st;
    atomic_init(&e->refs, 1); /* the caller's */
    e->fd = fd; /* closed with the entry */
    e->full = memory_response(srv->files, fd, size, &err);
    e->not_modified =
        size ? MHD_create_response_from_callback(size, 4096, no_body, NULL, NULL)
             : MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (err || !e->not_modified) {
        close(fd);
        if (e->full)
            MHD_destroy_response(e->full);
        if (e->not_modified)
            MHD_destroy_response(e->not_modified);
        if (err && err != ENOMEM)
            snprintf(note, note_size, "cannot read %s: %s", name, strerror(err));
        else
            snprintf(note, note_size, "out of memory creating the response");
        free(e->key);
        free(e);
        return NULL;
    }
    if (e->full)
        add_body_headers(e->full, e);
    MHD_add_response_header(e->not_modified, MHD_HTTP_HEADER_ETAG, e->etag);
    MHD_add_response_header(e->not_modified, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    return e;
}

/* The cache entry for the file `segs` names, referenced, fresh: from the
 * cache when nothing changed since it was validated, else opened (or
 * re-checked) now. NULL with the HTTP status in *status and the reason in
 * rq->note. */
static struct serve_entry *entry_for(struct server *srv, struct request *rq,
                                     const struct path_segments *segs, unsigned *status)
{
    char key[TARGET_MAX];
    size_t at = 0;
    for (size_t i = 0; i < segs->count; i++) {
        int n = snprintf(key + at, sizeof key - at, "%s%s", i ? "/" : "", segs->name[i]);
        if (n < 0 || (size_t)n >= sizeof key - at) {
            snprintf(rq->note, sizeof rq->note, "path longer than %d bytes", TARGET_MAX);
            *status = MHD_HTTP_URI_TOO_LONG;
            return NULL;
        }
        at += (size_t)n;
    }
    int fresh = 0;
    struct serve_entry *e = segs->count && !segs->trailing_slash
                                ? serve_cache_get(srv->files, key, &fresh)
                                : NULL;
    if (e && fresh)
        return e;
    /* Watch first, then take the generation, then open: a change after
     * the open bumps the generation and is seen by the next request. */
    int watched = segs->count && !segs->trailing_slash ? serve_cache_watch(srv->files, key) : 0;
    unsigned gen = serve_cache_generation(srv->files);
    int fd = -1;
    struct stat st;
    *status = open_below(srv->root_fd, segs, &fd, &st, rq->note, sizeof rq->note);
    if (*status) {
        serve_cache_release(srv->files, e);
        return NULL;
    }
    if (e && same_identity(&e->st, &st)) {
        close(fd);
        serve_cache_renew(srv->files, e, gen, watched);
        return e;
    }
    serve_cache_release(srv->files, e);
    e = entry_new(srv, key, segs->name[segs->count - 1], fd, &st, rq->note, sizeof rq->note);
    if (!e) {
        *status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        return NULL;
    }
    serve_cache_put(srv->files, e, gen, watched);
    return e;
}

/* Answer from the cache entry: 304, 206/416 for a range, or the 200. */
static enum MHD_Result serve_entry(struct MHD_Connection *conn, struct request *rq,
                                   const struct serve_entry *e)
{
    uint64_t size = (uint64_t)e->st.st_size;
    /* A 304 carries the Content-Length a 200 would announce: libmicrohttpd
     * (0.9.75, and 1.0 without MHD_RF_HEAD_ONLY_RESPONSE) always sends one
     * on a 304, and RFC 9110 8.6 allows exactly this value (RFC 9112 6.3: a
     * 304 ends with its header section whatever it says). */
    const char *inm =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
    if (inm && if_none_match_matches(inm, e->etag))
        return queue_shared(conn, rq, MHD_HTTP_NOT_MODIFIED, e->not_modified, 0);

    /* Range is defined for GET only (RFC 9110 14.2); HEAD gets the 200 view. */
    enum range_result rr = RANGE_NONE;
    uint64_t first = 0, last = size ? size - 1 : 0;
    const char *range = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_RANGE);
    if (range && !is_head(rq)) {
        const char *if_range =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_RANGE);
        /* If-Range needs a strong match; dates never match (no Last-Modified
         * is sent), so the client gets the whole current file. */
        if (if_range && strcmp(skip_ows(if_range), e->etag) != 0)
            snprintf(rq->note, sizeof rq->note, "If-Range does not match: full body");
        else
            rr = parse_range(range, size, &first, &last);
    }
    char content_range[80];
    if (rr == RANGE_UNSATISFIABLE) {
        snprintf(content_range, sizeof content_range, "bytes */%" PRIu64, size);
        return send_status(conn, rq, MHD_HTTP_RANGE_NOT_SATISFIABLE,
                           MHD_HTTP_HEADER_CONTENT_RANGE, content_range);
    }
    if (rr == RANGE_NONE && e->full)
        return queue_shared(conn, rq, MHD_HTTP_OK, e->full, size);

    /* A part, or a large file: its own response, on a descriptor of its own
     * (MHD closes it). */
    uint64_t length = rr == RANGE_OK ? last - first + 1 : size;
    int fd = fcntl(e->fd, F_DUPFD_CLOEXEC, 0);
    struct MHD_Response *resp =
        fd >= 0 ? MHD_create_response_from_fd_at_offset64(length, fd, first) : NULL;
    if (!resp) {
        if (fd >= 0)
            close(fd);
        return queue(conn, rq, 0, NULL, 0);
    }
    add_body_headers(resp, e);
    if (rr != RANGE_OK)
        return queue(conn, rq, MHD_HTTP_OK, resp, length);
    snprintf(content_range, sizeof content_range, "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, first,
             last, size);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, content_range);
    return queue(conn, rq, MHD_HTTP_PARTIAL_CONTENT, resp, length);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)url; /* already unescaped by MHD: we decode the raw target ourselves */
    (void)version;
    (void)upload_data;
    struct server *srv = cls;
    struct request *rq = *con_cls;
    if (!rq)
        return MHD_NO; /* out of memory in on_uri */
    if (rq->phase == PHASE_ANSWERED && rq->fleet_pending) /* resumed: its commit is durable */
        return fleet_serve_finish(srv->fleet, conn, &rq->fleet_pending, &rq->status,
                                  &rq->body_bytes, rq->note, sizeof rq->note);
    if (rq->phase == PHASE_ANSWERED) {
        *upload_data_size = 0; /* a body we do not want: discard it */
        return MHD_YES;
    }
    if (rq->phase == PHASE_NEW) {
        guard_headers_done(conn);
        snprintf(rq->method, sizeof rq->method, "%s", method);
        if (srv->log) {
            copy_header(conn, MHD_HTTP_HEADER_RANGE, rq->range, sizeof rq->range);
            copy_header(conn, MHD_HTTP_HEADER_USER_AGENT, rq->user_agent,
                        sizeof rq->user_agent);
        }
        if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
            strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
            /* Answered before any body is read: MHD then closes the
             * connection instead of reading an upload nobody wants. */
            rq->phase = PHASE_ANSWERED;
            snprintf(rq->note, sizeof rq->note, "method not allowed");
            return send_status(conn, rq, MHD_HTTP_METHOD_NOT_ALLOWED, MHD_HTTP_HEADER_ALLOW,
                               "GET, HEAD");
        }
        /* GET/HEAD: answer on the next call, once the request is complete;
         * a response queued on this first call would cost the keep-alive. */
        rq->phase = PHASE_HEADERS_SEEN;
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0; /* GET with a body: ignored */
        return MHD_YES;
    }
    rq->phase = PHASE_ANSWERED;

    enum MHD_Result fleet_r;
    if (srv->fleet && fleet_serve_request(srv->fleet, conn, rq->method, rq->target, rq->peer,
                                          &rq->status, &rq->body_bytes, rq->note,
                                          sizeof rq->note, &fleet_r, &rq->fleet_pending))
        return fleet_r;
    if (strlen(rq->target) >= TARGET_MAX) {
        snprintf(rq->note, sizeof rq->note, "request-target longer than %d bytes", TARGET_MAX);
        return send_status(conn, rq, MHD_HTTP_URI_TOO_LONG, NULL, NULL);
    }
    struct path_segments *segs = malloc(sizeof *segs);
    if (!segs)
        return queue(conn, rq, 0, NULL, 0);
    unsigned status = split_path(rq->target, segs, rq->note, sizeof rq->note);
    enum MHD_Result r;
    if (!status && legacy_request(srv, conn, rq, segs, &r)) {
        free(segs);
        return r;
    }
    struct serve_entry *e = status ? NULL : entry_for(srv, rq, segs, &status);
    free(segs);
    if (!e)
        return send_status(conn, rq, status, NULL, NULL);
    r = serve_entry(conn, rq, e);
    serve_cache_release(srv->files, e);
    return r;
}

/* ---- Command line and lifetime ------------------------------------------------- */

static void serve_usage(FILE *out)
{
    fprintf(out,
            "usage: fota serve [options] DIR\n"
            "Serve the regular files under DIR over HTTP (GET and HEAD).\n"
            "  --port N           TCP port (default 8080; 0 = any free port)\n"
            "  --bind ADDR        numeric IPv4 or IPv6 address (default 127.0.0.1)\n"
            "  --access-log FILE  append one line per request to FILE (\"-\" = stdout;\n"
            "                     default stderr)\n"
            "  --quiet            no access log\n"
            "  --header-timeout S close a connection whose request headers are not complete\n"
            "                     S seconds after it opened or its last request ended\n"
            "                     (default 10)\n"
            "  --max-per-address N  connections from one client address (default 128)\n"
            "  --max-connections N  connections in all (default and maximum: what the\n"
            "                     descriptor limit allows)\n"
            "  --threads N        worker threads (default 4; with --fleet, the fleet's)\n"
            "  --cache-memory MIB file content held in memory for whole-file answers\n"
            "                     (files up to 16 MiB; default 256; 0: only manifests and\n"
            "                     other files up to 64 KiB, the rest is sent from disk)\n"
            FLEET_SERVE_USAGE
            "Prints \"fota serve: listening on http://ADDR:PORT/ serving DIR\" once ready;\n"
            "stops on SIGINT or SIGTERM.\n");
}

/* Bind and listen ourselves so that errors name the address and the cause. */
static int open_listener(const char *addr, unsigned port, int *is_v6, unsigned *bound_port)
{
    struct sockaddr_storage ss;
    socklen_t len;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, addr, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        len = sizeof *v4;
        *is_v6 = 0;
    } else if (inet_pton(AF_INET6, addr, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        len = sizeof *v6;
        *is_v6 = 1;
    } else {
        fprintf(stderr, "fota serve: --bind %s: not a numeric IPv4 or IPv6 address\n", addr);
        return -1;
    }
    int s = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) {
        fprintf(stderr, "fota serve: socket: %s\n", strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (*is_v6)
        setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(s, (struct sockaddr *)&ss, len) != 0 || listen(s, 1024) != 0) {
        fprintf(stderr, "fota serve: cannot listen on %s port %u: %s\n", addr, port,
                strerror(errno));
        close(s);
        return -1;
    }
    /* Non-blocking: with a thread pool several threads poll this socket. */
    int flags = fcntl(s, F_GETFL);
    if (flags < 0 || fcntl(s, F_SETFL, flags | O_NONBLOCK) < 0 ||
        getsockname(s, (struct sockaddr *)&ss, &len) != 0) {
        fprintf(stderr, "fota serve: listening socket: %s\n", strerror(errno));
        close(s);
        return -1;
    }
    *bound_port = ntohs(*is_v6 ? v6->sin6_port : v4->sin_port);
    return s;
}

/* How many connections to take at once. libmicrohttpd's default is
 * FD_SETSIZE - 4 (1020), a select() limit that epoll and poll do not have;
 * there the bound is the descriptor limit, raised to its hard maximum, at
 * two descriptors per connection (socket and file) after the file cache's.
 * 0 keeps the default. */
static unsigned connection_limit(void)
{
    if (MHD_is_feature_supported(MHD_FEATURE_EPOLL) != MHD_YES &&
        MHD_is_feature_supported(MHD_FEATURE_POLL) != MHD_YES)
        return 0;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 0;
    if (rl.rlim_cur < rl.rlim_max) {
        rlim_t want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > 1048576 ? 1048576 : rl.rlim_max;
        if (want > rl.rlim_cur) {
            struct rlimit raised = {want, rl.rlim_max};
            if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
                rl.rlim_cur = want;
        }
    }
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1048576)
        rl.rlim_cur = 1048576;
    rlim_t reserved = 64 + FILE_CACHE_SLOTS;
    unsigned limit = rl.rlim_cur > 2 * reserved ? (unsigned)((rl.rlim_cur - reserved) / 2) : 0;
    return limit > 1020 ? limit : 0;
}

/* "--name value" or "--name=value"; advances *i past what it used. Sets
 * *missing when the value is absent. (Also parses the fleet options.) */
const char *option_value(int argc, char **argv, int *i, const char *name, int *missing)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] != 0)
        return NULL;
    if (*i + 1 >= argc) {
        fprintf(stderr, "fota serve: %s needs a value\n", name);
        *missing = 1;
        return NULL;
    }
    return argv[++*i];
}

/* A limit option's value: 1..1000000. */
static int parse_limit(const char *name, const char *v, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long n = strtoul(v, &end, 10);
    if (errno || *v < '0' || *v > '9' || *end || n == 0 || n > 1000000) {
        fprintf(stderr, "fota serve: %s %s: expected 1..1000000\n", name, v);
        return -1;
    }
    *out = (unsigned)n;
    return 0;
}

int cmd_serve(int argc, char **argv)
{
    const char *dir = NULL, *bind_addr = "127.0.0.1", *log_path = NULL;
    unsigned port = 8080, threads = 0; /* 0: SERVE_THREADS, or FLEET_SERVE_THREADS */
    unsigned long memory_mib = SERVE_MEMORY_MIB;
    struct serve_guard_limits limits = {0, SERVE_PER_ADDRESS, SERVE_HEADER_TIMEOUT_S};
    int quiet = 0, missing = 0, fleet_opt;
    struct fleet_serve_options fleet_opts = {0};
    for (int i = 1; i < argc && !missing; i++) {
        const char *v;
        if ((fleet_opt = fleet_serve_option(argc, argv, &i, &fleet_opts)) != 0) {
            if (fleet_opt < 0)
                return 2;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            serve_usage(stdout);
            return 0;
        } else if ((v = option_value(argc, argv, &i, "--port", &missing))) {
            char *end;
            errno = 0;
            unsigned long p = strtoul(v, &end, 10);
            if (errno || *v < '0' || *v > '9' || *end || p > 65535) {
                fprintf(stderr, "fota serve: --port %s: expected 0..65535\n", v);
                return 2;
            }
            port = (unsigned)p;
        } else if ((v = option_value(argc, argv, &i, "--header-timeout", &missing))) {
            if (parse_limit("--header-timeout", v, &limits.header_timeout_s) != 0)
                return 2;
        } else if ((v = option_value(argc, argv, &i, "--max-per-address", &missing))) {
            if (parse_limit("--max-per-address", v, &limits.max_per_address) != 0)
                return 2;
        } else if ((v = option_value(argc, argv, &i, "--max-connections", &missing))) {
            if (parse_limit("--max-connections", v, &limits.max_connections) != 0)
                return 2;
        } else if ((v = option_value(argc, argv, &i, "--threads", &missing))) {
            if (parse_limit("--threads", v, &threads) != 0 || threads > 256) {
                if (threads > 256)
                    fprintf(stderr, "fota serve: --threads %s: expected 1..256\n", v);
                return 2;
            }
        } else if ((v = option_value(argc, argv, &i, "--cache-memory", &missing))) {
            char *end;
            errno = 0;
            memory_mib = strtoul(v, &end, 10);
            if (errno || *v < '0' || *v > '9' || *end || memory_mib > 1048576) {
                fprintf(stderr, "fota serve: --cache-memory %s: expected 0..1048576 (MiB)\n", v);
                return 2;
            }
        } else if ((v = option_value(argc, argv, &i, "--bind", &missing))) {
            bind_addr = v;
        } else if ((v = option_value(argc, argv, &i, "--access-log", &missing))) {
            log_path = v;
        } else if (missing) {
            break;
        } else if (!strcmp(argv[i], "--quiet")) {
            quiet = 1;
        } else if (argv[i][0] == '-' && argv[i][1] != 0) {
            fprintf(stderr, "fota serve: unknown option %s\n", argv[i]);
            serve_usage(stderr);
            return 2;
        } else if (!dir) {
            dir = argv[i];
        } else {
            fprintf(stderr, "fota serve: one DIR only (got %s and %s)\n", dir, argv[i]);
            return 2;
        }
    }
    if (missing)
        return 2;
    if (!dir) {
        serve_usage(stderr);
        return 2;
    }
    if (quiet && log_path) {
        fprintf(stderr, "fota serve: --quiet and --access-log exclude each other\n");
        return 2;
    }

    static struct server srv; /* large (the ETag cache); lives until exit */
    srv.root_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (srv.root_fd < 0) {
        fprintf(stderr, "fota serve: cannot open directory %s: %s\n", dir, strerror(errno));
        return 1;
    }
    srv.log = quiet ? NULL : stderr;
    if (log_path && !strcmp(log_path, "-")) {
        srv.log = stdout;
    } else if (log_path) {
        srv.log = fopen(log_path, "a");
        if (!srv.log) {
            fprintf(stderr, "fota serve: cannot open access log %s: %s\n", log_path,
                    strerror(errno));
            close(srv.root_fd);
            return 1;
        }
    }
    pthread_mutex_init(&srv.log_lock, NULL);
    pthread_mutex_init(&srv.etags.lock, NULL);
    srv.files = serve_cache_new(dir, FILE_CACHE_SLOTS, (uint64_t)memory_mib << 20);
    if (!srv.files) {
        fprintf(stderr, "fota serve: out of memory for the file cache\n");
        close(srv.root_fd);
        return 1;
    }

    int is_v6 = 0;
    unsigned bound_port = 0;
    int listener = open_listener(bind_addr, port, &is_v6, &bound_port);
    if (listener < 0) {
        close(srv.root_fd);
        return 1;
    }

    /* Block the stop signals before MHD starts its threads (they inherit the
     * mask), then wait for them here. A peer closing early must not kill us. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (fleet_opts.db && !(srv.fleet = fleet_serve_start(&fleet_opts))) {
        close(listener);
        close(srv.root_fd);
        return 1;
    }
    unsigned flags = MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    /* Our cap stays below libmicrohttpd's (which stays below the descriptor
     * limit), so that it is ours that refuses, and says so. */
    unsigned max_connections = connection_limit();
    unsigned budget = (max_connections ? max_connections : 1020) - GUARD_MARGIN;
    if (!limits.max_connections || limits.max_connections > budget)
        limits.max_connections = budget;
    struct serve_guard *guard = guard_start(&limits);
    if (!guard) {
        fleet_serve_stop(srv.fleet);
        close(listener);
        close(srv.root_fd);
        return 1;
    }
    if (is_v6)
        flags |= MHD_USE_IPv6;
    if (srv.fleet)
        flags |= MHD_ALLOW_SUSPEND_RESUME; /* check-ins wait for their group commit */
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, 0, guard_accept, guard, on_request, &srv,
        MHD_OPTION_EXTERNAL_LOGGER, guard_mhd_log, NULL, /* first, or MHD complains */
        MHD_OPTION_LISTEN_SOCKET, listener,
        MHD_OPTION_THREAD_POOL_SIZE,
        threads ? threads : (unsigned)(srv.fleet ? FLEET_SERVE_THREADS : SERVE_THREADS),
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)SERVE_IDLE_TIMEOUT_S,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, &srv,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, &srv,
        MHD_OPTION_NOTIFY_CONNECTION, guard_notify, guard,
        max_connections ? MHD_OPTION_CONNECTION_LIMIT : MHD_OPTION_END, max_connections,
        MHD_OPTION_END);
    if (!d) {
        guard_stop(guard);
        fleet_serve_stop(srv.fleet);
        fprintf(stderr, "fota serve: cannot start the HTTP server (libmicrohttpd) on %s port %u\n",
                bind_addr, bound_port);
        close(listener);
        close(srv.root_fd);
        return 1;
    }
    printf("fota serve: listening on http://%s%s%s:%u/ serving %s\n", is_v6 ? "[" : "", bind_addr,
           is_v6 ? "]" : "", bound_port, dir);
    fflush(stdout);

    int sig = 0;
    while (sigwait(&stop, &sig) != 0) {
    }
    fleet_serve_quiesce(srv.fleet); /* no connection may stay suspended */
    MHD_stop_daemon(d); /* joins the workers (logging what was in flight), closes listener */
    guard_stop(guard);
    fleet_serve_stop(srv.fleet);
    serve_cache_free(srv.files);
    close(srv.root_fd);
    if (!quiet)
        fprintf(stderr, "fota serve: stopped by %s\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    if (srv.log && srv.log != stdout && srv.log != stderr)
        fclose(srv.log);
    return 0;
}
