/*
 * sim800sim: a SIM800 GSM/GPRS modem on a pseudo-terminal, for tests.
 *
 * Answers the AT dialogue of the SIM800 Series AT Command Manual (V1.09/1.10:
 * general commands, network registration, and the TCP/IP application toolkit
 * in single-connection mode with manual receive, AT+CIPRXGET) and carries the
 * TCP traffic of AT+CIPSTART to the real host:port, which must be on the
 * loopback network. Faults can be injected, for the first N sessions or
 * always. Prints "pty <path>" on stdout once ready; runs until killed.
 *
 *   sim800sim [--link PATH] [--fault NAME[=ARG]]... [--times N] [--rate BPS]
 *             [--apn NAME] [--verbose]
 *
 * Faults:
 *   sim-not-ready[=pin]   AT+CPIN? answers +CME ERROR: 10 (SIM not inserted),
 *                         or "+CPIN: SIM PIN" with =pin
 *   no-registration[=S]   AT+CREG? answers +CREG: 0,S (default 2, searching)
 *   attach-fail           AT+CGATT? answers 0 and AT+CGATT=1 answers ERROR
 *   apn-reject            AT+CIICR answers ERROR (as for an unknown APN)
 *   cme-error=CMD[:CODE]  the command CMD (e.g. AT+CSQ) answers +CME ERROR: CODE
 *   dns-fail              AT+CDNSGIP reports +CDNSGIP: 0,8
 *   connect-fail          AT+CIPSTART answers OK then CONNECT FAIL
 *   pdp-drop=K            after K bytes were delivered over a connection, the
 *                         connection is gone and +PDP: DEACT is reported
 * A session is one bring-up (counted at each ATE0) for the first five and
 * for cme-error, and one connection (counted at each AT+CIPSTART) for the
 * last three; --times N limits every fault to the first N sessions.
 * --rate limits the downlink to BPS bytes per second (GPRS: about 5000).
 * --apn makes AT+CIICR fail unless AT+CSTT named that APN.
 */
#define _DEFAULT_SOURCE
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define MODEM_BUF 16384   /* data the modem holds for the host */
#define MAX_RXGET 1460
#define MAX_SEND 1460
#define CMD_MAX 600

enum ip_state {
    IP_INITIAL, IP_START, IP_GPRSACT, IP_STATUS, TCP_CONNECTED, IP_CLOSE, PDP_DEACT
};
static const char *const state_names[] = {"IP INITIAL", "IP START", "IP GPRSACT", "IP STATUS",
                                          "CONNECT OK", "TCP CLOSED", "PDP DEACT"};

struct fault {
    int sim_not_ready; /* 1: CME 10, 2: SIM PIN */
    int no_registration; /* stat to report, 0 = off */
    int attach_fail;
    int apn_reject;
    char cme_cmd[64];
    int cme_code;
    int dns_fail;
    int connect_fail;
    long pdp_drop; /* bytes, -1 off */
};

static struct fault fault = {.pdp_drop = -1};
static long fault_times = -1; /* -1: always */
static long rate_bps;         /* 0: unlimited */
static const char *required_apn;
static int verbose;

static int master_fd = -1, slave_fd = -1;
static volatile sig_atomic_t stop;

/* modem state */
static int echo = 1;
static enum ip_state state = IP_INITIAL;
static int cgatt = 1;
static char apn[256];
static long bringups, connections; /* session counters */
static int tcp_fd = -1;
static int tcp_eof;
static int closed_reported;
static uint8_t mbuf[MODEM_BUF];
static size_t mlen;
static int urc_armed;
static long delivered; /* bytes given to the host on this connection */
static double tokens;
static double last_tick;

/* input */
static char cmd[CMD_MAX];
static size_t cmd_len;
static size_t send_need; /* > 0: collecting AT+CIPSEND data */
static uint8_t send_buf[MAX_SEND];
static size_t send_len;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void logf_(const char *fmt, ...)
{
    if (!verbose)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "sim800sim: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

static void out_raw(const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len > 0) {
        ssize_t n = write(master_fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                struct pollfd pf = {.fd = master_fd, .events = POLLOUT};
                poll(&pf, 1, 100);
                continue;
            }
            return;
        }
        p += n;
        len -= (size_t)n;
    }
}

/* One response line framed as the modem does with ATV1: <CR><LF>text<CR><LF>. */
static void out_line(const char *text)
{
    logf_("< %s", text);
    out_raw("\r\n", 2);
    out_raw(text, strlen(text));
    out_raw("\r\n", 2);
}

static void out_linef(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    out_line(buf);
}

static int in_session(long counter)
{
    return fault_times < 0 || counter <= fault_times;
}

static void tcp_drop(void)
{
    if (tcp_fd >= 0)
        close(tcp_fd);
    tcp_fd = -1;
    tcp_eof = 0;
    mlen = 0;
    closed_reported = 0;
}

/* ---- commands ------------------------------------------------------------ */

static int starts(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

/* Parse "\"a\",\"b\",..." quoted arguments (at most n). */
static int quoted_args(const char *s, char out[][256], int n)
{
    int k = 0;
    while (*s && k < n) {
        if (*s == '"') {
            const char *e = strchr(s + 1, '"');
            if (!e)
                return -1;
            size_t len = (size_t)(e - s - 1);
            if (len > 255)
                len = 255;
            memcpy(out[k], s + 1, len);
            out[k][len] = '\0';
            k++;
            s = e + 1;
        } else {
            s++;
        }
    }
    return k;
}

/* Resolve a name to a loopback IPv4 address; -1 when not resolvable or not
 * loopback (this simulator never reaches beyond the machine). */
static int resolve_loopback(const char *host, struct sockaddr_in *sa)
{
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res;
    if (getaddrinfo(host, NULL, &hints, &res) != 0)
        return -1;
    int ok = -1;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        struct sockaddr_in *in = (struct sockaddr_in *)a->ai_addr;
        if ((ntohl(in->sin_addr.s_addr) >> 24) == 127) {
            *sa = *in;
            ok = 0;
            break;
        }
    }
    freeaddrinfo(res);
    return ok;
}

static void cmd_cipstart(const char *args)
{
    char a[3][256];
    const char *comma = strrchr(args, ',');
    if (quoted_args(args, a, 2) != 2 || !comma || strcmp(a[0], "TCP") != 0) {
        out_line("ERROR");
        return;
    }
    if (state == TCP_CONNECTED) {
        out_line("ERROR");
        out_line("ALREADY CONNECT");
        return;
    }
    if (state != IP_STATUS && state != IP_CLOSE) {
        out_line("ERROR");
        return;
    }
    connections++;
    delivered = 0;
    out_line("OK");
    int port = atoi(comma + 1);
    struct sockaddr_in sa;
    if ((fault.connect_fail && in_session(connections)) || port <= 0 || port > 65535 ||
        resolve_loopback(a[1], &sa) != 0) {
        out_line("CONNECT FAIL");
        state = IP_CLOSE;
        return;
    }
    sa.sin_port = htons((uint16_t)port);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        logf_("connect %s:%d: %s", a[1], port, strerror(errno));
        if (fd >= 0)
            close(fd);
        out_line("CONNECT FAIL");
        state = IP_CLOSE;
        return;
    }
    tcp_fd = fd;
    tcp_eof = 0;
    closed_reported = 0;
    mlen = 0;
    urc_armed = 1;
    tokens = 0;
    last_tick = now_s();
    state = TCP_CONNECTED;
    out_line("CONNECT OK");
}

static void cmd_ciprxget2(long want)
{
    if (want <= 0 || want > MAX_RXGET) {
        out_line("ERROR");
        return;
    }
    if (tcp_fd < 0 && mlen == 0) {
        out_line("+CME ERROR: 3");
        return;
    }
    size_t n = mlen < (size_t)want ? mlen : (size_t)want;
    int drop = 0;
    if (fault.pdp_drop >= 0 && in_session(connections) && delivered + (long)n >= fault.pdp_drop) {
        long allowed = fault.pdp_drop - delivered;
        n = allowed > 0 ? (size_t)allowed : 0;
        drop = 1;
    }
    char hdr[64];
    snprintf(hdr, sizeof(hdr), "+CIPRXGET: 2,%zu,%zu", n, mlen - n);
    logf_("< %s (+%zu bytes)", hdr, n);
    out_raw("\r\n", 2);
    out_raw(hdr, strlen(hdr));
    out_raw("\r\n", 2);
    out_raw(mbuf, n);
    memmove(mbuf, mbuf + n, mlen - n);
    mlen -= n;
    delivered += (long)n;
    out_line("OK");
    if (mlen == 0)
        urc_armed = 1;
    if (drop) {
        logf_("fault: PDP context dropped after %ld bytes", delivered);
        tcp_drop();
        state = PDP_DEACT;
        out_line("+PDP: DEACT");
    }
}

static void handle_command(char *c)
{
    logf_("> %s", c);
    if (echo) {
        out_raw(c, strlen(c));
        out_raw("\r", 1);
    }
    if (fault.cme_cmd[0] && strcmp(c, fault.cme_cmd) == 0 && in_session(bringups)) {
        out_linef("+CME ERROR: %d", fault.cme_code);
        return;
    }
    if (!strcmp(c, "AT")) {
        out_line("OK");
    } else if (!strcmp(c, "ATE0") || !strcmp(c, "ATE1")) {
        echo = c[3] == '1';
        if (!echo)
            bringups++;
        out_line("OK");
    } else if (!strcmp(c, "AT+CPIN?")) {
        if (fault.sim_not_ready == 1 && in_session(bringups))
            out_line("+CME ERROR: 10");
        else if (fault.sim_not_ready == 2 && in_session(bringups)) {
            out_line("+CPIN: SIM PIN");
            out_line("OK");
        } else {
            out_line("+CPIN: READY");
            out_line("OK");
        }
    } else if (!strcmp(c, "AT+CSQ")) {
        out_line("+CSQ: 18,0");
        out_line("OK");
    } else if (!strcmp(c, "AT+CREG?")) {
        int stat = fault.no_registration && in_session(bringups) ? fault.no_registration : 1;
        out_linef("+CREG: 0,%d", stat);
        out_line("OK");
    } else if (!strcmp(c, "AT+CGATT?")) {
        if (fault.attach_fail && in_session(bringups))
            cgatt = 0;
        out_linef("+CGATT: %d", cgatt);
        out_line("OK");
    } else if (starts(c, "AT+CGATT=")) {
        if (fault.attach_fail && in_session(bringups)) {
            out_line("ERROR");
        } else {
            cgatt = atoi(c + 9) ? 1 : 0;
            out_line("OK");
        }
    } else if (!strcmp(c, "AT+CIPSHUT")) {
        tcp_drop();
        state = IP_INITIAL;
        out_line("SHUT OK");
    } else if (starts(c, "AT+CIPMUX=")) {
        out_line(state == IP_INITIAL && c[10] == '0' ? "OK" : "ERROR");
    } else if (!strcmp(c, "AT+CIPRXGET=1")) {
        out_line("OK");
    } else if (starts(c, "AT+CIPRXGET=2,")) {
        cmd_ciprxget2(atol(c + 14));
    } else if (!strcmp(c, "AT+CIPRXGET=4")) {
        out_linef("+CIPRXGET: 4,%zu", mlen);
        out_line("OK");
    } else if (starts(c, "AT+CSTT=")) {
        char a[3][256];
        if (state != IP_INITIAL || quoted_args(c + 8, a, 3) < 1) {
            out_line("ERROR");
            return;
        }
        snprintf(apn, sizeof(apn), "%s", a[0]);
        state = IP_START;
        out_line("OK");
    } else if (!strcmp(c, "AT+CIICR")) {
        if (state != IP_START || !cgatt || (fault.apn_reject && in_session(bringups)) ||
            (required_apn && strcmp(apn, required_apn) != 0)) {
            out_line("ERROR");
            return;
        }
        state = IP_GPRSACT;
        out_line("OK");
    } else if (!strcmp(c, "AT+CIFSR")) {
        if (state < IP_GPRSACT || state == PDP_DEACT) {
            out_line("ERROR");
            return;
        }
        if (state == IP_GPRSACT)
            state = IP_STATUS;
        out_line("10.64.0.2"); /* only text: no traffic ever goes there */
    } else if (starts(c, "AT+CDNSGIP=")) {
        char a[1][256];
        if (state < IP_STATUS || state == PDP_DEACT || quoted_args(c + 11, a, 1) != 1) {
            out_line("ERROR");
            return;
        }
        out_line("OK");
        struct sockaddr_in sa;
        if ((fault.dns_fail && in_session(connections + 1)) || resolve_loopback(a[0], &sa) != 0) {
            out_line("+CDNSGIP: 0,8");
            return;
        }
        char ip[INET_ADDRSTRLEN];
        unsigned long v = ntohl(sa.sin_addr.s_addr);
        snprintf(ip, sizeof(ip), "%lu.%lu.%lu.%lu", v >> 24, (v >> 16) & 255, (v >> 8) & 255,
                 v & 255);
        out_linef("+CDNSGIP: 1,\"%s\",\"%s\"", a[0], ip);
    } else if (starts(c, "AT+CIPSTART=")) {
        cmd_cipstart(c + 12);
    } else if (starts(c, "AT+CIPSEND=")) {
        long n = atol(c + 11);
        if (state != TCP_CONNECTED || tcp_fd < 0 || n <= 0 || n > MAX_SEND) {
            out_line("ERROR");
            return;
        }
        logf_("< > (waiting for %ld bytes)", n);
        out_raw("\r\n> ", 4);
        send_need = (size_t)n;
        send_len = 0;
    } else if (!strcmp(c, "AT+CIPCLOSE")) {
        if (state != TCP_CONNECTED) {
            out_line("ERROR");
            return;
        }
        tcp_drop();
        state = IP_CLOSE;
        out_line("CLOSE OK");
    } else if (!strcmp(c, "AT+CIPSTATUS")) {
        out_line("OK");
        out_linef("STATE: %s", state_names[state]);
    } else {
        out_line("ERROR");
    }
}

static void handle_send_data(void)
{
    ssize_t n = tcp_fd >= 0 ? send(tcp_fd, send_buf, send_len, MSG_NOSIGNAL) : -1;
    logf_("sent %zu bytes to the server", send_len);
    out_line(n == (ssize_t)send_len ? "SEND OK" : "SEND FAIL");
    send_need = send_len = 0;
}

static void on_uart_bytes(const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (send_need > 0) {
            send_buf[send_len++] = b[i];
            if (send_len == send_need)
                handle_send_data();
            continue;
        }
        if (b[i] == '\r') {
            cmd[cmd_len] = '\0';
            if (cmd_len > 0)
                handle_command(cmd);
            cmd_len = 0;
        } else if (b[i] == '\n') {
            /* ignored */
        } else if (cmd_len + 1 < sizeof(cmd)) {
            cmd[cmd_len++] = (char)b[i];
        }
    }
}

/* Move data from the server into the modem buffer, at the link rate. */
static void pump_tcp(void)
{
    if (tcp_fd < 0 || tcp_eof || state != TCP_CONNECTED)
        return;
    size_t room = sizeof(mbuf) - mlen;
    if (rate_bps > 0) {
        double t = now_s();
        tokens += (t - last_tick) * (double)rate_bps;
        last_tick = t;
        if (tokens > (double)rate_bps / 10 + 1460)
            tokens = (double)rate_bps / 10 + 1460;
        if ((double)room > tokens)
            room = (size_t)tokens;
    }
    if (room == 0)
        return;
    ssize_t n = recv(tcp_fd, mbuf + mlen, room, MSG_DONTWAIT);
    if (n > 0) {
        int was_empty = mlen == 0;
        mlen += (size_t)n;
        if (rate_bps > 0)
            tokens -= (double)n;
        if (was_empty && urc_armed) {
            urc_armed = 0;
            out_line("+CIPRXGET: 1");
        }
    } else if (n == 0) {
        tcp_eof = 1;
    } else if (errno != EAGAIN && errno != EINTR) {
        tcp_eof = 1;
    }
    if (tcp_eof && !closed_reported) {
        closed_reported = 1;
        close(tcp_fd);
        tcp_fd = -1;
        state = IP_CLOSE;
        out_line("CLOSED");
    }
}

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static int parse_fault(const char *spec)
{
    const char *eq = strchr(spec, '=');
    const char *arg = eq ? eq + 1 : NULL;
    size_t nlen = eq ? (size_t)(eq - spec) : strlen(spec);
#define IS(name) (nlen == strlen(name) && !strncmp(spec, name, nlen))
    if (IS("sim-not-ready"))
        fault.sim_not_ready = arg && !strcmp(arg, "pin") ? 2 : 1;
    else if (IS("no-registration"))
        fault.no_registration = arg ? atoi(arg) : 2;
    else if (IS("attach-fail"))
        fault.attach_fail = 1;
    else if (IS("apn-reject"))
        fault.apn_reject = 1;
    else if (IS("cme-error") && arg) {
        const char *colon = strrchr(arg, ':');
        size_t len = colon ? (size_t)(colon - arg) : strlen(arg);
        if (len >= sizeof(fault.cme_cmd))
            return -1;
        memcpy(fault.cme_cmd, arg, len);
        fault.cme_cmd[len] = '\0';
        fault.cme_code = colon ? atoi(colon + 1) : 100;
    } else if (IS("dns-fail"))
        fault.dns_fail = 1;
    else if (IS("connect-fail"))
        fault.connect_fail = 1;
    else if (IS("pdp-drop") && arg)
        fault.pdp_drop = atol(arg);
    else
        return -1;
#undef IS
    return 0;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: sim800sim [--link PATH] [--fault NAME[=ARG]]... [--times N] [--rate BPS]\n"
            "                 [--apn NAME] [--verbose]\n"
            "faults: sim-not-ready[=pin] no-registration[=STAT] attach-fail apn-reject\n"
            "        cme-error=CMD[:CODE] dns-fail connect-fail pdp-drop=BYTES\n");
}

int main(int argc, char **argv)
{
    const char *link_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--link") && i + 1 < argc)
            link_path = argv[++i];
        else if (!strcmp(argv[i], "--fault") && i + 1 < argc) {
            if (parse_fault(argv[++i]) != 0) {
                fprintf(stderr, "sim800sim: unknown fault '%s'\n", argv[i]);
                usage();
                return 2;
            }
        } else if (!strcmp(argv[i], "--times") && i + 1 < argc)
            fault_times = atol(argv[++i]);
        else if (!strcmp(argv[i], "--rate") && i + 1 < argc)
            rate_bps = atol(argv[++i]);
        else if (!strcmp(argv[i], "--apn") && i + 1 < argc)
            required_apn = argv[++i];
        else if (!strcmp(argv[i], "--verbose") || !strcmp(argv[i], "-v"))
            verbose = 1;
        else {
            usage();
            return 2;
        }
    }

    master_fd = posix_openpt(O_RDWR | O_NOCTTY);
    if (master_fd < 0 || grantpt(master_fd) != 0 || unlockpt(master_fd) != 0) {
        perror("sim800sim: posix_openpt");
        return 1;
    }
    const char *slave = ptsname(master_fd);
    /* Keep the slave open ourselves (so the master never sees a hangup while
     * the device reconnects) and raw: the line discipline must not echo,
     * translate CR or buffer lines. */
    slave_fd = open(slave, O_RDWR | O_NOCTTY);
    struct termios tio;
    if (slave_fd < 0 || tcgetattr(slave_fd, &tio) != 0) {
        perror("sim800sim: opening the pty");
        return 1;
    }
    cfmakeraw(&tio);
    cfsetispeed(&tio, B115200);
    cfsetospeed(&tio, B115200);
    tcsetattr(slave_fd, TCSANOW, &tio);
    fcntl(master_fd, F_SETFL, fcntl(master_fd, F_GETFL) | O_NONBLOCK);
    if (link_path) {
        unlink(link_path);
        if (symlink(slave, link_path) != 0) {
            perror("sim800sim: symlink");
            return 1;
        }
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGPIPE, SIG_IGN);

    printf("pty %s\n", slave);
    fflush(stdout);
    /* Power-on messages, as after a reset with auto-bauding off. */
    out_line("RDY");
    out_line("+CFUN: 1");
    out_line("+CPIN: READY");
    out_line("Call Ready");
    out_line("SMS Ready");

    while (!stop) {
        struct pollfd p[2] = {{.fd = master_fd, .events = POLLIN}, {.fd = -1}};
        int nfds = 1;
        int want_tcp = tcp_fd >= 0 && state == TCP_CONNECTED && mlen < sizeof(mbuf);
        if (want_tcp && rate_bps == 0) {
            p[1].fd = tcp_fd;
            p[1].events = POLLIN;
            nfds = 2;
        }
        /* With a rate limit, tick every 10 ms instead of waiting on the socket. */
        int r = poll(p, (nfds_t)nfds, want_tcp && rate_bps > 0 ? 10 : 200);
        if (r < 0 && errno != EINTR)
            break;
        if (p[0].revents & POLLIN) {
            uint8_t buf[2048];
            ssize_t n = read(master_fd, buf, sizeof(buf));
            if (n > 0)
                on_uart_bytes(buf, (size_t)n);
        }
        if (want_tcp && (rate_bps > 0 || (p[1].revents & (POLLIN | POLLHUP | POLLERR))))
            pump_tcp();
    }
    tcp_drop();
    if (link_path)
        unlink(link_path);
    return 0;
}
