/*
 * faultproxy: a TCP relay on 127.0.0.1 that injects one network fault into
 * the server-to-client ("downstream") direction of the first N connections,
 * then relays cleanly so a device under test can finish once the fault
 * clears.
 *
 *   faultproxy --listen-port N --target HOST:PORT --mode MODE [--arg K]
 *              [--times N] [--control FILE]
 *
 * Byte offsets (K for reset, truncate, flip) count the downstream bytes of
 * one connection from its first byte: status line and headers included, and
 * across every response when the client keeps the connection alive. Only the
 * downstream direction is ever altered; the client's bytes pass unchanged.
 *
 * Modes:
 *   none                 relay unchanged
 *   refuse               accept, then close at once with RST (no upstream)
 *   reset K              deliver K bytes, then RST (SO_LINGER 0) when more
 *                        would follow
 *   truncate K           deliver K bytes, then a graceful close (FIN) when
 *                        more would follow
 *   flip K               XOR 0xFF the byte at downstream offset K
 *   stall K              after the first response's header block ("\r\n\r\n"),
 *                        forward nothing downstream for K seconds, then go on
 *   trickle K            deliver at most K bytes per second, from the start
 *   close-after-headers  deliver up to the end of the first header block,
 *                        then close gracefully
 * reset/truncate/close-after-headers fire only when there is more to send:
 * a connection whose stream is no longer than K passes unharmed (but still
 * counts as one of the N).
 *
 * --control FILE is read at every new connection. When its content (one line
 * "MODE [K [N]]") differs from the last content read, it becomes the mode,
 * argument and --times, and the count of faulted connections restarts. A
 * test can thus change the fault between connections on the same port.
 *
 * Every connection is logged to stderr when it starts and when it ends, with
 * the bytes relayed each way and what the fault did.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
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
#include <sys/socket.h>
#ifdef __linux__
#include <linux/sockios.h>
#include <sys/ioctl.h>
#endif
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"

#define BUF_SIZE 65536
#define CONTROL_MAX 256

enum mode {
    MODE_NONE,
    MODE_REFUSE,
    MODE_RESET,
    MODE_STALL,
    MODE_TRICKLE,
    MODE_TRUNCATE,
    MODE_FLIP,
    MODE_CLOSE_AFTER_HEADERS,
};

static const struct {
    const char *name;
    int needs_arg;
} mode_info[] = {
    [MODE_NONE] = {"none", 0},
    [MODE_REFUSE] = {"refuse", 0},
    [MODE_RESET] = {"reset", 1},
    [MODE_STALL] = {"stall", 1},
    [MODE_TRICKLE] = {"trickle", 1},
    [MODE_TRUNCATE] = {"truncate", 1},
    [MODE_FLIP] = {"flip", 1},
    [MODE_CLOSE_AFTER_HEADERS] = {"close-after-headers", 0},
};
#define MODE_COUNT (sizeof mode_info / sizeof mode_info[0])

struct fault {
    enum mode mode;
    uint64_t arg;
    uint64_t times; /* UINT64_MAX: every connection */
};

/* Shared state, guarded by `lock`. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct fault current;
static uint64_t faulted; /* connections that got the fault since the last change */
static uint64_t conn_seq;
static const char *control_path;
static char control_seen[CONTROL_MAX];
static struct addrinfo *target_ai;
static const char *target_text;

#define logf_(...) tool_log("faultproxy", __VA_ARGS__)

static int parse_mode(const char *s, enum mode *out)
{
    for (size_t i = 0; i < MODE_COUNT; i++)
        if (!strcmp(s, mode_info[i].name)) {
            *out = (enum mode)i;
            return 0;
        }
    return -1;
}

/* "MODE [K [N]]" -> fault. Returns 0 or -1 with a reason in `why`. */
static int parse_control_line(char *line, struct fault *f, char *why, size_t why_size)
{
    char *save = NULL;
    char *m = strtok_r(line, " \t\r\n", &save);
    char *k = strtok_r(NULL, " \t\r\n", &save);
    char *n = strtok_r(NULL, " \t\r\n", &save);
    f->arg = 0;
    f->times = UINT64_MAX;
    if (!m || parse_mode(m, &f->mode)) {
        snprintf(why, why_size, "unknown mode '%s'", m ? m : "");
        return -1;
    }
    if (k && parse_u64(k, &f->arg)) {
        snprintf(why, why_size, "bad argument '%s'", k);
        return -1;
    }
    if (!k && mode_info[f->mode].needs_arg) {
        snprintf(why, why_size, "mode %s needs an argument", m);
        return -1;
    }
    if (n && parse_u64(n, &f->times)) {
        snprintf(why, why_size, "bad count '%s'", n);
        return -1;
    }
    return 0;
}

/* Called with `lock` held at each accept. */
static void reread_control(void)
{
    FILE *f = fopen(control_path, "r");
    if (!f)
        return; /* absent: keep what we have */
    char text[CONTROL_MAX] = "";
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = 0;
    if (n == 0 || !strcmp(text, control_seen))
        return;
    snprintf(control_seen, sizeof control_seen, "%s", text);
    struct fault nf;
    char why[96];
    if (parse_control_line(text, &nf, why, sizeof why)) {
        logf_("control %s: %s; keeping mode %s", control_path, why, mode_info[current.mode].name);
        return;
    }
    current = nf;
    faulted = 0;
    if (nf.times == UINT64_MAX)
        logf_("control %s: mode %s arg %" PRIu64 " on every connection", control_path,
              mode_info[nf.mode].name, nf.arg);
    else
        logf_("control %s: mode %s arg %" PRIu64 " on the next %" PRIu64 " connections",
              control_path, mode_info[nf.mode].name, nf.arg, nf.times);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Wait (up to 5 s) until the kernel has handed every byte written to fd to
 * the peer: a RST discards whatever is still queued, and "reset after K
 * bytes" must deliver all K. Linux only (SIOCOUTQ); elsewhere no wait. */
static void drain_send_queue(int fd)
{
#ifdef SIOCOUTQ
    for (int i = 0; i < 500; i++) {
        int queued = 0;
        if (ioctl(fd, SIOCOUTQ, &queued) != 0 || queued == 0)
            return;
        poll(NULL, 0, 10);
    }
#else
    (void)fd;
#endif
}

static void close_with_rst(int fd)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
}

static int connect_target(char *why, size_t why_size)
{
    int last_err = 0;
    for (struct addrinfo *ai = target_ai; ai; ai = ai->ai_next) {
        int s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (s < 0) {
            last_err = errno;
            continue;
        }
        if (connect(s, ai->ai_addr, ai->ai_addrlen) == 0) {
            int one = 1;
            setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            return s;
        }
        last_err = errno;
        close(s);
    }
    snprintf(why, why_size, "cannot connect to %s: %s", target_text, strerror(last_err));
    return -1;
}

struct conn {
    int cfd, ufd;
    uint64_t id;
    char peer[64];
    struct fault fault; /* MODE_NONE when this connection is not faulted */
};

/* Finds the end of the first header block ("\r\n\r\n") in the downstream
 * stream, across reads. */
struct header_end {
    int matched; /* bytes of "\r\n\r\n" matched so far */
    int found;
    uint64_t offset; /* downstream offset just after the block */
};

static void scan_header_end(struct header_end *h, const uint8_t *p, size_t n, uint64_t base)
{
    static const char crlfcrlf[] = "\r\n\r\n";
    for (size_t i = 0; i < n && !h->found; i++) {
        if (p[i] == (uint8_t)crlfcrlf[h->matched])
            h->matched++;
        else
            h->matched = p[i] == '\r' ? 1 : 0;
        if (h->matched == 4) {
            h->found = 1;
            h->offset = base + i + 1;
        }
    }
}

static void *relay(void *arg)
{
    struct conn *c = arg;
    const struct fault *f = &c->fault;
    uint8_t *up = malloc(BUF_SIZE), *down = malloc(BUF_SIZE);
    size_t up_len = 0, up_off = 0, dn_len = 0, dn_off = 0;
    uint64_t up_total = 0, dn_total = 0; /* dn_total: delivered to the client */
    uint64_t dn_read = 0;                /* read from upstream */
    struct header_end hdr = {0, 0, 0};
    uint64_t start = now_ms(), stall_until = 0;
    int stalled = 0, upstream_eof = 0;
    char end[160] = "";
    int rst = 0;

    if (!up || !down) {
        snprintf(end, sizeof end, "out of memory");
        goto done;
    }
    c->ufd = connect_target(end, sizeof end);
    if (c->ufd < 0)
        goto done;

    for (;;) {
        /* How much of the pending downstream data may go to the client now. */
        size_t pending = dn_len - dn_off;
        size_t allowed = pending;
        int timeout = -1;
        uint64_t limit = UINT64_MAX; /* downstream offset not to pass */
        if (f->mode == MODE_RESET || f->mode == MODE_TRUNCATE)
            limit = f->arg;
        else if (f->mode == MODE_CLOSE_AFTER_HEADERS && hdr.found)
            limit = hdr.offset;
        else if (f->mode == MODE_STALL && hdr.found && !stalled)
            limit = hdr.offset;
        if (dn_total == limit && (pending > 0 || (f->mode == MODE_CLOSE_AFTER_HEADERS))) {
            if (f->mode == MODE_RESET) {
                rst = 1;
                snprintf(end, sizeof end, "reset the client after %" PRIu64 " bytes", dn_total);
                goto done;
            }
            if (f->mode == MODE_TRUNCATE || f->mode == MODE_CLOSE_AFTER_HEADERS) {
                snprintf(end, sizeof end, "closed the client after %" PRIu64 " bytes%s",
                         dn_total, f->mode == MODE_TRUNCATE ? " (truncate)" : " (end of headers)");
                goto done;
            }
            if (f->mode == MODE_STALL) {
                stalled = 1;
                stall_until = now_ms() + f->arg * 1000u;
                logf_("conn %" PRIu64 ": stalling %" PRIu64 " s after the headers (offset %" PRIu64
                      ")",
                      c->id, f->arg, dn_total);
                limit = UINT64_MAX;
            }
        }
        if (limit != UINT64_MAX && allowed > limit - dn_total)
            allowed = (size_t)(limit - dn_total);
        if (stalled && stall_until) {
            uint64_t t = now_ms();
            if (t < stall_until) {
                allowed = 0;
                timeout = stall_until - t > 60000 ? 60000 : (int)(stall_until - t);
            } else {
                stall_until = 0;
            }
        }
        if (f->mode == MODE_TRICKLE && allowed > 0) {
            uint64_t elapsed = now_ms() - start;
            uint64_t budget = f->arg * elapsed / 1000u + 1; /* the first byte at once */
            uint64_t may = budget > dn_total ? budget - dn_total : 0;
            if (may == 0) {
                uint64_t due = (dn_total * 1000u + f->arg - 1) / (f->arg ? f->arg : 1);
                allowed = 0;
                timeout = due > elapsed ? (int)(due - elapsed > 60000 ? 60000 : due - elapsed) : 1;
            } else if (allowed > may) {
                allowed = (size_t)may;
            }
        }
        if (upstream_eof && pending == 0) {
            snprintf(end, sizeof end, "server closed");
            goto done;
        }

        struct pollfd pfd[2] = {{c->cfd, 0, 0}, {c->ufd, 0, 0}};
        if (up_len == up_off)
            pfd[0].events |= POLLIN;
        if (allowed > 0)
            pfd[0].events |= POLLOUT;
        if (dn_len == dn_off && !upstream_eof)
            pfd[1].events |= POLLIN;
        if (up_len > up_off)
            pfd[1].events |= POLLOUT;
        /* A socket we want nothing from is left out, or its POLLHUP (say,
         * the server closed during a stall) would make poll() spin. */
        for (int i = 0; i < 2; i++)
            if (!pfd[i].events)
                pfd[i].fd = -1;
        int r = poll(pfd, 2, timeout);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(end, sizeof end, "poll: %s", strerror(errno));
            goto done;
        }

        if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            if (up_len == up_off) {
                ssize_t n = read(c->cfd, up, BUF_SIZE);
                if (n <= 0) {
                    snprintf(end, sizeof end, "client closed%s%s", n < 0 ? ": " : "",
                             n < 0 ? strerror(errno) : "");
                    goto done;
                }
                up_len = (size_t)n;
                up_off = 0;
            }
        }
        if ((pfd[0].revents & POLLOUT) && allowed > 0) {
            ssize_t n = write(c->cfd, down + dn_off, allowed);
            if (n < 0) {
                snprintf(end, sizeof end, "writing to the client: %s", strerror(errno));
                goto done;
            }
            dn_off += (size_t)n;
            dn_total += (uint64_t)n;
            if (dn_off == dn_len)
                dn_off = dn_len = 0;
        }
        if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            if (dn_len == dn_off && !upstream_eof) {
                ssize_t n = read(c->ufd, down, BUF_SIZE);
                if (n < 0) {
                    snprintf(end, sizeof end, "reading from the server: %s", strerror(errno));
                    goto done;
                }
                if (n == 0) {
                    upstream_eof = 1;
                } else {
                    dn_len = (size_t)n;
                    dn_off = 0;
                    if (f->mode == MODE_FLIP && f->arg >= dn_read && f->arg < dn_read + (uint64_t)n) {
                        uint8_t *b = &down[f->arg - dn_read];
                        logf_("conn %" PRIu64 ": flipped the byte at offset %" PRIu64
                              " (0x%02x -> 0x%02x)",
                              c->id, f->arg, *b, *b ^ 0xFFu);
                        *b ^= 0xFF;
                    }
                    scan_header_end(&hdr, down, (size_t)n, dn_read);
                    dn_read += (uint64_t)n;
                }
            }
        }
        if ((pfd[1].revents & POLLOUT) && up_len > up_off) {
            ssize_t n = write(c->ufd, up + up_off, up_len - up_off);
            if (n < 0) {
                snprintf(end, sizeof end, "writing to the server: %s", strerror(errno));
                goto done;
            }
            up_off += (size_t)n;
            up_total += (uint64_t)n;
            if (up_off == up_len)
                up_off = up_len = 0;
        }
    }

done:
    if (rst) {
        drain_send_queue(c->cfd);
        close_with_rst(c->cfd);
    }
    else
        close(c->cfd);
    if (c->ufd >= 0)
        close(c->ufd);
    logf_("conn %" PRIu64 " end: mode %s: %" PRIu64 " bytes up, %" PRIu64 " bytes down; %s",
          c->id, mode_info[f->mode].name, up_total, dn_total, end);
    free(up);
    free(down);
    free(c);
    return NULL;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: faultproxy --listen-port N --target HOST:PORT --mode MODE [--arg K]\n"
            "                  [--times N] [--control FILE]\n"
            "modes: none, refuse, reset K, truncate K, flip K (byte offsets downstream,\n"
            "       headers included), stall K (seconds, after the response headers),\n"
            "       trickle K (bytes/s), close-after-headers\n"
            "--times N: fault the first N connections, relay cleanly after (default: all)\n"
            "--control FILE: read \"MODE [K [N]]\" from FILE at each new connection\n");
}

int main(int argc, char **argv)
{
    uint64_t listen_port = UINT64_MAX;
    const char *target = NULL, *mode_name = NULL;
    int have_arg = 0;
    current.times = UINT64_MAX;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
            usage(stdout);
            return 0;
        }
        if (!v) {
            fprintf(stderr, "faultproxy: %s: missing value\n", o);
            usage(stderr);
            return 2;
        }
        i++;
        if (!strcmp(o, "--listen-port")) {
            if (parse_u64(v, &listen_port) || listen_port > 65535) {
                fprintf(stderr, "faultproxy: --listen-port %s: expected 0..65535\n", v);
                return 2;
            }
        } else if (!strcmp(o, "--target")) {
            target = v;
        } else if (!strcmp(o, "--mode")) {
            mode_name = v;
        } else if (!strcmp(o, "--arg")) {
            if (parse_u64(v, &current.arg)) {
                fprintf(stderr, "faultproxy: --arg %s: expected a number\n", v);
                return 2;
            }
            have_arg = 1;
        } else if (!strcmp(o, "--times")) {
            if (parse_u64(v, &current.times)) {
                fprintf(stderr, "faultproxy: --times %s: expected a number\n", v);
                return 2;
            }
        } else if (!strcmp(o, "--control")) {
            control_path = v;
        } else {
            fprintf(stderr, "faultproxy: unknown option %s\n", o);
            usage(stderr);
            return 2;
        }
    }
    if (listen_port == UINT64_MAX || !target || !mode_name) {
        fprintf(stderr, "faultproxy: --listen-port, --target and --mode are required\n");
        usage(stderr);
        return 2;
    }
    if (parse_mode(mode_name, &current.mode)) {
        fprintf(stderr, "faultproxy: unknown mode '%s'\n", mode_name);
        usage(stderr);
        return 2;
    }
    if (mode_info[current.mode].needs_arg && !have_arg) {
        fprintf(stderr, "faultproxy: mode %s needs --arg K\n", mode_name);
        return 2;
    }
    if (current.mode == MODE_TRICKLE && current.arg == 0) {
        fprintf(stderr, "faultproxy: trickle needs --arg of at least 1 (bytes/s)\n");
        return 2;
    }

    /* HOST:PORT; the last colon splits, "[::1]:80" works too. */
    char host[256];
    const char *colon = strrchr(target, ':');
    if (!colon || colon == target || (size_t)(colon - target) >= sizeof host) {
        fprintf(stderr, "faultproxy: --target %s: expected HOST:PORT\n", target);
        return 2;
    }
    memcpy(host, target, (size_t)(colon - target));
    host[colon - target] = 0;
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = 0;
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
    int gai = getaddrinfo(host, colon + 1, &hints, &target_ai);
    if (gai) {
        fprintf(stderr, "faultproxy: --target %s: %s\n", target, gai_strerror(gai));
        return 2;
    }
    target_text = target;

    signal(SIGPIPE, SIG_IGN);
    int ls = listen_loopback("faultproxy", listen_port);
    if (ls < 0)
        return 1;
    logf_("relaying to %s, mode %s arg %" PRIu64 ", %s", target, mode_info[current.mode].name,
          current.arg, current.times == UINT64_MAX ? "every connection" : "limited connections");

    for (;;) {
        struct sockaddr_storage peer;
        unsigned pl = 0;
        int cfd = accept_client(ls, "faultproxy", &peer, &pl);
        if (cfd < 0)
            return 1;
        struct conn *c = calloc(1, sizeof *c);
        if (!c) {
            close(cfd);
            continue;
        }
        c->cfd = cfd;
        c->ufd = -1;
        char h[INET6_ADDRSTRLEN] = "?", p[8] = "?";
        getnameinfo((struct sockaddr *)&peer, (socklen_t)pl, h, sizeof h, p, sizeof p,
                    NI_NUMERICHOST | NI_NUMERICSERV);
        snprintf(c->peer, sizeof c->peer, "%s:%s", h, p);

        pthread_mutex_lock(&lock);
        if (control_path)
            reread_control();
        c->id = ++conn_seq;
        if (faulted < current.times) {
            c->fault = current;
            faulted++;
        } else {
            c->fault.mode = MODE_NONE;
        }
        pthread_mutex_unlock(&lock);

        logf_("conn %" PRIu64 " from %s: mode %s arg %" PRIu64, c->id, c->peer,
              mode_info[c->fault.mode].name, c->fault.arg);
        if (c->fault.mode == MODE_REFUSE) {
            close_with_rst(cfd);
            logf_("conn %" PRIu64 " end: mode refuse: reset at accept", c->id);
            free(c);
            continue;
        }
        if (spawn_detached(relay, c) != 0) {
            logf_("conn %" PRIu64 ": cannot start a thread", c->id);
            close(cfd);
            free(c);
        }
    }
}
