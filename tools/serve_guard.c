/* fota serve: connection limits against hostile clients (see serve_guard.h).
 *
 * Every open connection has an entry (its socket context in libmicrohttpd):
 * its socket, its client address and when its current request began. A
 * thread looks at them once a second and shuts down the sockets of those
 * whose request headers are overdue; libmicrohttpd then closes them as
 * closed by the client. libmicrohttpd reports a connection closed before it
 * closes the socket, and the entry is removed under the same lock the thread
 * holds while it shuts sockets down, so a socket number is never used after
 * it was given back. Counts per address are kept in a small hash table. */
#define _POSIX_C_SOURCE 200809L

#include "serve_guard.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ADDR_BUCKETS 1024
#define REPORT_EVERY_MS 5000u
#define SWEEP_MS 250u

struct addr_count {
    struct addr_count *next;
    uint8_t key[16];
    uint8_t key_len;
    unsigned count;
};

struct conn_entry {
    struct conn_entry *prev, *next;
    struct serve_guard *guard;
    int fd;
    uint8_t key[16];
    uint8_t key_len;
    char addr_text[INET6_ADDRSTRLEN];
    uint64_t request_started_ms;
    int headers_done;
    int deadline_hit;
};

/* One kind of event reported at most every REPORT_EVERY_MS. */
struct report {
    const char *what;
    uint64_t last_ms;
    unsigned since;       /* events since the last line */
    char example[INET6_ADDRSTRLEN];
};

struct serve_guard {
    struct serve_guard_limits limits;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    int stopping;
    struct conn_entry *head;
    unsigned open;
    struct addr_count *buckets[ADDR_BUCKETS];
    struct report refused_total, refused_address, overdue;
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The address bytes of a client (IPv4: 4, IPv6: 16) and its text. */
static int addr_key(const struct sockaddr *sa, uint8_t key[16], uint8_t *len, char *text)
{
    const void *bytes;
    if (sa && sa->sa_family == AF_INET) {
        bytes = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
        *len = 4;
    } else if (sa && sa->sa_family == AF_INET6) {
        bytes = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        *len = 16;
    } else {
        return -1;
    }
    memcpy(key, bytes, *len);
    if (!inet_ntop(sa->sa_family, bytes, text, INET6_ADDRSTRLEN))
        snprintf(text, INET6_ADDRSTRLEN, "?");
    return 0;
}

static struct addr_count **bucket_of(struct serve_guard *g, const uint8_t *key, uint8_t len)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (uint8_t i = 0; i < len; i++)
        h = (h ^ key[i]) * 16777619u;
    return &g->buckets[h % ADDR_BUCKETS];
}

static struct addr_count *find_addr(struct serve_guard *g, const uint8_t *key, uint8_t len)
{
    for (struct addr_count *a = *bucket_of(g, key, len); a; a = a->next)
        if (a->key_len == len && memcmp(a->key, key, len) == 0)
            return a;
    return NULL;
}

/* Under the lock: one line for `r` when its interval has passed. */
static void report_event(struct report *r, const char *addr, const char *detail)
{
    uint64_t t = now_ms();
    r->since++;
    if (addr)
        snprintf(r->example, sizeof r->example, "%s", addr);
    if (r->last_ms != 0 && t - r->last_ms < REPORT_EVERY_MS)
        return;
    fprintf(stderr, "fota serve: %s (%s); %u in the last %u s, latest from %s\n", r->what, detail,
            r->since, (unsigned)((r->last_ms ? t - r->last_ms : 0) / 1000u), r->example);
    fflush(stderr);
    r->last_ms = t;
    r->since = 0;
}

enum MHD_Result guard_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    struct serve_guard *g = cls;
    uint8_t key[16], len;
    char text[INET6_ADDRSTRLEN], detail[96];
    enum MHD_Result ok = MHD_YES;
    (void)addrlen;
    if (addr_key(addr, key, &len, text) != 0)
        return MHD_YES;
    pthread_mutex_lock(&g->lock);
    if (g->open >= g->limits.max_connections) {
        snprintf(detail, sizeof detail, "%u open, --max-connections %u", g->open,
                 g->limits.max_connections);
        report_event(&g->refused_total, text, detail);
        ok = MHD_NO;
    } else {
        struct addr_count *a = find_addr(g, key, len);
        if (a && a->count >= g->limits.max_per_address) {
            snprintf(detail, sizeof detail, "--max-per-address %u", g->limits.max_per_address);
            report_event(&g->refused_address, text, detail);
            ok = MHD_NO;
        }
    }
    pthread_mutex_unlock(&g->lock);
    return ok;
}

static void entry_open(struct serve_guard *g, struct MHD_Connection *conn, void **socket_context)
{
    const union MHD_ConnectionInfo *fd = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    struct conn_entry *e = calloc(1, sizeof *e);
    if (!e)
        return; /* unguarded, but counted nowhere either */
    e->guard = g;
    e->fd = fd ? fd->connect_fd : -1;
    if (addr_key(ci ? ci->client_addr : NULL, e->key, &e->key_len, e->addr_text) != 0)
        e->key_len = 0;
    e->request_started_ms = now_ms();
    pthread_mutex_lock(&g->lock);
    e->next = g->head;
    if (g->head)
        g->head->prev = e;
    g->head = e;
    g->open++;
    if (e->key_len) {
        struct addr_count *a = find_addr(g, e->key, e->key_len);
        if (!a && (a = calloc(1, sizeof *a)) != NULL) {
            struct addr_count **b = bucket_of(g, e->key, e->key_len);
            memcpy(a->key, e->key, e->key_len);
            a->key_len = e->key_len;
            a->next = *b;
            *b = a;
        }
        if (a)
            a->count++;
        else
            e->key_len = 0;
    }
    pthread_mutex_unlock(&g->lock);
    *socket_context = e;
}

static void entry_close(struct serve_guard *g, struct conn_entry *e)
{
    pthread_mutex_lock(&g->lock);
    if (e->prev)
        e->prev->next = e->next;
    else
        g->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    g->open--;
    if (e->key_len) {
        struct addr_count **b = bucket_of(g, e->key, e->key_len);
        for (struct addr_count **pa = b; *pa; pa = &(*pa)->next) {
            struct addr_count *a = *pa;
            if (a->key_len == e->key_len && memcmp(a->key, e->key, e->key_len) == 0) {
                if (--a->count == 0) {
                    *pa = a->next;
                    free(a);
                }
                break;
            }
        }
    }
    pthread_mutex_unlock(&g->lock);
    free(e);
}

void guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                  enum MHD_ConnectionNotificationCode code)
{
    struct serve_guard *g = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED)
        entry_open(g, conn, socket_context);
    else if (code == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
        entry_close(g, *socket_context);
        *socket_context = NULL;
    }
}

static struct conn_entry *entry_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

void guard_headers_done(struct MHD_Connection *conn)
{
    struct conn_entry *e = entry_of(conn);
    if (!e)
        return;
    pthread_mutex_lock(&e->guard->lock);
    e->headers_done = 1;
    pthread_mutex_unlock(&e->guard->lock);
}

int guard_request_end(struct MHD_Connection *conn)
{
    struct conn_entry *e = entry_of(conn);
    int hit;
    if (!e)
        return 0;
    pthread_mutex_lock(&e->guard->lock);
    hit = e->deadline_hit;
    e->headers_done = 0;
    e->request_started_ms = now_ms();
    pthread_mutex_unlock(&e->guard->lock);
    return hit;
}

static void *deadline_thread(void *arg)
{
    struct serve_guard *g = arg;
    pthread_mutex_lock(&g->lock);
    while (!g->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += (long)SWEEP_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&g->wake, &g->lock, &until);
        uint64_t t = now_ms(), limit = (uint64_t)g->limits.header_timeout_s * 1000u;
        for (struct conn_entry *e = g->head; e && !g->stopping; e = e->next) {
            if (e->headers_done || e->deadline_hit || e->fd < 0 ||
                t - e->request_started_ms < limit)
                continue;
            /* The socket is still open: its entry goes only when
             * libmicrohttpd reports it closed, under this lock. */
            shutdown(e->fd, SHUT_RDWR);
            e->deadline_hit = 1;
            char detail[80];
            snprintf(detail, sizeof detail, "--header-timeout %u s", g->limits.header_timeout_s);
            report_event(&g->overdue, e->addr_text, detail);
        }
    }
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

/* libmicrohttpd's messages, each kind (its format string) at most once
 * every REPORT_EVERY_MS: a flood of closed connections must not flood the
 * log with one line each. */
#define MHD_KINDS 32
static struct {
    pthread_mutex_t lock;
    const char *fmt[MHD_KINDS];
    uint64_t last_ms[MHD_KINDS];
    unsigned dropped[MHD_KINDS];
    unsigned next;
} mhd_log = {PTHREAD_MUTEX_INITIALIZER, {0}, {0}, {0}, 0};

void guard_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    uint64_t t = now_ms();
    size_t k;
    unsigned dropped;
    (void)cls;
    pthread_mutex_lock(&mhd_log.lock);
    for (k = 0; k < MHD_KINDS && mhd_log.fmt[k] != fmt; k++) {
    }
    if (k == MHD_KINDS) {
        k = mhd_log.next;
        mhd_log.next = (mhd_log.next + 1) % MHD_KINDS;
        mhd_log.fmt[k] = fmt;
        mhd_log.last_ms[k] = 0;
        mhd_log.dropped[k] = 0;
    }
    if (mhd_log.last_ms[k] != 0 && t - mhd_log.last_ms[k] < REPORT_EVERY_MS) {
        mhd_log.dropped[k]++;
        pthread_mutex_unlock(&mhd_log.lock);
        return;
    }
    mhd_log.last_ms[k] = t;
    dropped = mhd_log.dropped[k];
    mhd_log.dropped[k] = 0;
    pthread_mutex_unlock(&mhd_log.lock);
    vsnprintf(msg, sizeof msg, fmt, ap);
    msg[strcspn(msg, "\n")] = 0;
    if (dropped)
        fprintf(stderr, "fota serve: libmicrohttpd: %s (and %u more like it)\n", msg, dropped);
    else
        fprintf(stderr, "fota serve: libmicrohttpd: %s\n", msg);
}

struct serve_guard *guard_start(const struct serve_guard_limits *limits)
{
    struct serve_guard *g = calloc(1, sizeof *g);
    if (!g) {
        fprintf(stderr, "fota serve: out of memory\n");
        return NULL;
    }
    g->limits = *limits;
    g->refused_total.what = "connection limit reached: refusing new connections";
    g->refused_address.what = "one address holds too many connections: refusing more from it";
    g->overdue.what = "closed connections whose request headers did not arrive in time";
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->wake, NULL);
    int err = pthread_create(&g->thread, NULL, deadline_thread, g);
    if (err) {
        fprintf(stderr, "fota serve: cannot start the header deadline thread: %s\n",
                strerror(err));
        free(g);
        return NULL;
    }
    return g;
}

void guard_stop(struct serve_guard *g)
{
    if (!g)
        return;
    pthread_mutex_lock(&g->lock);
    g->stopping = 1;
    pthread_cond_signal(&g->wake);
    pthread_mutex_unlock(&g->lock);
    pthread_join(g->thread, NULL);
    for (size_t i = 0; i < ADDR_BUCKETS; i++) {
        while (g->buckets[i]) {
            struct addr_count *a = g->buckets[i];
            g->buckets[i] = a->next;
            free(a);
        }
    }
    pthread_cond_destroy(&g->wake);
    pthread_mutex_destroy(&g->lock);
    free(g);
}
