/*
 * SIM800 GSM/GPRS modem transport (AT command set as in the SIM800 Series AT
 * Command Manual V1.09/1.10: TCP/IP application toolkit, single connection,
 * manual receive). Portable C: caller's buffers, bounded loops, no heap.
 */
#include "fota_sim800.h"

#include <string.h>

#include "fota/error.h"

#define SEND_CHUNK 1460         /* AT+CIPSEND maximum in single-connection mode */
#define LINE_BYTES_MAX 4096     /* bytes read while looking for one line */
#define EXCHANGE_LINES_MAX 256  /* lines read while waiting for one final result */
#define RECV_ROUNDS_MAX 256     /* fetch/wait rounds of one recv() */
#define CMD_TAIL 8              /* room kept for "\r" and NUL when composing */

/* at_cmd() results besides the index of the matched final */
#define AT_PROMPT 100

static const char *const FIN_OK[] = {"OK", NULL};

/* ---- strings (core rules: no stdio, no strcmp) --------------------------- */

static int str_eq(const char *a, const char *b)
{
    size_t n = strlen(b);
    return strlen(a) == n && memcmp(a, b, n) == 0;
}

static int starts_with(const char *s, const char *prefix)
{
    size_t n = strlen(prefix);
    return strlen(s) >= n && memcmp(s, prefix, n) == 0;
}

/* Append s to dst (capacity cap, currently `at` long); returns the new
 * length; always NUL-terminates; truncates. */
static size_t str_add(char *dst, size_t cap, size_t at, const char *s)
{
    if (cap == 0)
        return 0;
    for (size_t i = 0; s != NULL && s[i] != '\0' && at + 1 < cap; i++)
        dst[at++] = s[i];
    dst[at] = '\0';
    return at;
}

static size_t str_add_uint(char *dst, size_t cap, size_t at, uint32_t v)
{
    char tmp[11];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0 && n < sizeof(tmp));
    char out[12];
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
    return str_add(dst, cap, at, out);
}

/* Parse decimal digits at s[*pos]; 1 when at least one digit was read. */
static int parse_uint(const char *s, size_t *pos, uint32_t *out)
{
    uint32_t v = 0;
    size_t i = *pos, start = *pos;
    for (; s[i] >= '0' && s[i] <= '9' && i - start < 9; i++)
        v = v * 10 + (uint32_t)(s[i] - '0');
    if (i == start)
        return 0;
    *pos = i;
    *out = v;
    return 1;
}

static void set_detail(struct fota_sim800 *m, const char *a, const char *b, const char *c,
                       const char *d)
{
    size_t n = str_add(m->detail, sizeof(m->detail), 0, a);
    n = str_add(m->detail, sizeof(m->detail), n, b);
    n = str_add(m->detail, sizeof(m->detail), n, c);
    (void)str_add(m->detail, sizeof(m->detail), n, d);
}

/* Words for the +CME ERROR codes a bring-up meets (manual, 19.1). */
static const char *cme_meaning(const char *reply)
{
    static const struct {
        const char *code;
        const char *text;
    } table[] = {
        {"+CME ERROR: 3", " (operation not allowed)"}, {"+CME ERROR: 4", " (not supported)"},
        {"+CME ERROR: 10", " (SIM not inserted)"},     {"+CME ERROR: 11", " (SIM PIN required)"},
        {"+CME ERROR: 12", " (SIM PUK required)"},     {"+CME ERROR: 13", " (SIM failure)"},
        {"+CME ERROR: 14", " (SIM busy)"},             {"+CME ERROR: 15", " (SIM wrong)"},
        {"+CME ERROR: 30", " (no network service)"},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (str_eq(reply, table[i].code))
            return table[i].text;
    return "";
}

/* ---- clock --------------------------------------------------------------- */

static uint32_t now_ms(const struct fota_sim800 *m)
{
    return m->cfg.now_ms(m->cfg.ctx);
}

static int expired(const struct fota_sim800 *m, uint32_t deadline)
{
    return (int32_t)(now_ms(m) - deadline) >= 0;
}

static uint32_t remaining(const struct fota_sim800 *m, uint32_t deadline)
{
    int32_t d = (int32_t)(deadline - now_ms(m));
    return d > 0 ? (uint32_t)d : 0;
}

/* ---- UART ---------------------------------------------------------------- */

static int uart_write_all(struct fota_sim800 *m, const uint8_t *buf, size_t len)
{
    size_t done = 0;
    for (size_t i = 0; i <= len && done < len; i++) { /* each write makes progress */
        int r = m->uart->write(m->uart->ctx, buf + done, len - done);
        if (r <= 0) {
            set_detail(m, "modem UART write failed", NULL, NULL, NULL);
            return r < 0 ? r : FOTA_ERR_LINK;
        }
        done += (size_t)r;
    }
    return 0;
}

/* Make at least one byte available in m->in. 1, 0 (deadline passed) or an
 * error of the port. */
static int fill(struct fota_sim800 *m, uint32_t deadline)
{
    if (m->in_pos < m->in_len)
        return 1;
    m->in_pos = m->in_len = 0;
    int r = m->uart->read(m->uart->ctx, m->in, sizeof(m->in), remaining(m, deadline));
    if (r < 0) {
        set_detail(m, "modem UART read failed", NULL, NULL, NULL);
        return r;
    }
    if (r > (int)sizeof(m->in))
        return FOTA_ERR_LINK;
    m->in_len = (size_t)r;
    return r > 0 ? 1 : 0;
}

/* Read one non-empty line into m->line (CR dropped, leading blanks skipped,
 * too long lines truncated and flagged). With `prompt`, a '>' at the start of
 * a line is the AT+CIPSEND prompt: returns 0. Else the line length (> 0),
 * FOTA_ERR_TIMEOUT, or a port error. */
static int read_line(struct fota_sim800 *m, uint32_t deadline, int prompt, int *truncated)
{
    size_t budget = LINE_BYTES_MAX + m->line_size;
    m->line_len = 0;
    m->line[0] = '\0';
    *truncated = 0;
    while (budget > 0) {
        int r = fill(m, deadline);
        if (r < 0)
            return r;
        if (r == 0) {
            if (expired(m, deadline))
                return FOTA_ERR_TIMEOUT;
            continue;
        }
        uint8_t b = m->in[m->in_pos++];
        budget--;
        if (b == '\n') {
            if (m->line_len > 0) {
                m->line[m->line_len] = '\0';
                return (int)m->line_len;
            }
        } else if (b == '\r') {
            /* dropped */
        } else if (m->line_len == 0 && b == ' ') {
            /* blank before a line (the one after the "> " prompt) */
        } else if (prompt && m->line_len == 0 && b == '>') {
            return 0;
        } else if (m->line_len + 1 < m->line_size) {
            m->line[m->line_len++] = (char)b;
        } else {
            *truncated = 1;
        }
    }
    set_detail(m, "modem sent a line longer than ", NULL, NULL, NULL);
    (void)str_add_uint(m->detail, sizeof(m->detail), strlen(m->detail), LINE_BYTES_MAX);
    return FOTA_ERR_LINK;
}

/* Copy exactly len raw bytes (AT+CIPRXGET data) into dst. */
static int read_raw(struct fota_sim800 *m, uint8_t *dst, size_t len, uint32_t deadline)
{
    size_t got = 0;
    while (got < len) {
        int r = fill(m, deadline);
        if (r < 0)
            return r;
        if (r == 0) {
            if (expired(m, deadline)) {
                set_detail(m, "modem stopped in the middle of AT+CIPRXGET data", NULL, NULL,
                           NULL);
                return FOTA_ERR_TIMEOUT;
            }
            continue;
        }
        size_t n = m->in_len - m->in_pos;
        if (n > len - got)
            n = len - got;
        memcpy(dst + got, m->in + m->in_pos, n);
        m->in_pos += n;
        got += n;
    }
    return 0;
}

/* ---- unsolicited result codes -------------------------------------------- */

static void lose_link(struct fota_sim800 *m, const char *why)
{
    m->bearer_up = 0;
    m->connected = 0;
    m->data_pending = 0;
    m->link_lost = why;
}

/* Handle m->line if it is an unsolicited result code; 1 when it was one. */
static int handle_urc(struct fota_sim800 *m)
{
    static const char *const ignored[] = {
        "Call Ready", "SMS Ready", "+CFUN: 1", "+CPIN: READY", "UNDER-VOLTAGE WARNNING",
        "OVER-VOLTAGE WARNNING", "UNDER-VOLTAGE WARNING", "OVER-VOLTAGE WARNING",
    };
    const char *l = m->line;
    if (str_eq(l, "+CIPRXGET: 1")) {
        m->data_pending = 1;
        return 1;
    }
    if (str_eq(l, "CLOSED")) {
        m->peer_closed = 1;
        return 1;
    }
    if (str_eq(l, "+PDP: DEACT")) {
        lose_link(m, "GPRS context dropped (+PDP: DEACT)");
        return 1;
    }
    if (str_eq(l, "RDY")) {
        lose_link(m, "modem restarted (RDY)");
        return 1;
    }
    if (str_eq(l, "NORMAL POWER DOWN")) {
        lose_link(m, "modem powered down (NORMAL POWER DOWN)");
        return 1;
    }
    if (str_eq(l, "UNDER-VOLTAGE POWER DOWN")) {
        lose_link(m, "modem powered down: supply voltage too low (UNDER-VOLTAGE POWER DOWN)");
        return 1;
    }
    for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
        if (str_eq(l, ignored[i]))
            return 1;
    return 0;
}

/* ---- one AT exchange ----------------------------------------------------- */

/* Send cmd (unless NULL) followed by CR, then read lines until one of
 * `finals` (exact match; a final ending in ':' or ',' matches as a prefix;
 * "*" matches any line that is not otherwise known), ERROR / +CME ERROR /
 * +CMS ERROR, or the deadline. A line starting with info_prefix is kept in
 * m->reply; without info_prefix the final is kept there. Returns the index of the final, AT_PROMPT,
 * FOTA_ERR_LINK for an error result (m->reply holds it), FOTA_ERR_TIMEOUT,
 * FOTA_ERR_BUFFER_TOO_SMALL (a kept line did not fit m->line) or a port
 * error. */
static int at_cmd(struct fota_sim800 *m, const char *cmd, uint32_t timeout_ms,
                  const char *const *finals, const char *info_prefix, int prompt)
{
    uint32_t deadline = now_ms(m) + timeout_ms;
    int truncated = 0;

    m->reply[0] = '\0';
    if (cmd != NULL) {
        int r = uart_write_all(m, (const uint8_t *)cmd, strlen(cmd));
        if (r == 0)
            r = uart_write_all(m, (const uint8_t *)"\r", 1);
        if (r < 0)
            return r;
    }
    for (int lines = 0; lines < EXCHANGE_LINES_MAX; lines++) {
        int r = read_line(m, deadline, prompt, &truncated);
        if (r < 0)
            return r;
        if (r == 0)
            return AT_PROMPT;
        const char *l = m->line;
        if (info_prefix != NULL && starts_with(l, info_prefix)) {
            if (truncated)
                return FOTA_ERR_BUFFER_TOO_SMALL;
            (void)str_add(m->reply, sizeof(m->reply), 0, l);
            continue;
        }
        for (size_t i = 0; finals[i] != NULL; i++) {
            size_t n = strlen(finals[i]);
            int prefix = n > 0 && (finals[i][n - 1] == ':' || finals[i][n - 1] == ',');
            if (prefix ? starts_with(l, finals[i]) : str_eq(l, finals[i])) {
                if (truncated)
                    return FOTA_ERR_BUFFER_TOO_SMALL;
                if (info_prefix == NULL) /* else reply keeps the information line */
                    (void)str_add(m->reply, sizeof(m->reply), 0, l);
                return (int)i;
            }
        }
        if (str_eq(l, "ERROR") || starts_with(l, "+CME ERROR:") || starts_with(l, "+CMS ERROR:")) {
            (void)str_add(m->reply, sizeof(m->reply), 0, l);
            return FOTA_ERR_LINK;
        }
        if (handle_urc(m))
            continue;
        if (starts_with(l, "AT") || starts_with(l, "at"))
            continue; /* echo (before ATE0 took effect) */
        for (size_t i = 0; finals[i] != NULL; i++)
            if (str_eq(finals[i], "*")) {
                (void)str_add(m->reply, sizeof(m->reply), 0, l);
                return (int)i;
            }
        /* other information text (e.g. "STATE: IP INITIAL"): skip */
    }
    set_detail(m, "modem: too many lines without a result", NULL, NULL, NULL);
    return FOTA_ERR_LINK;
}

/* Explain a failed bring-up command. Timeouts and error results both mean
 * the link cannot be used: FOTA_ERR_LINK, with the step and the reply. */
static int step_failed(struct fota_sim800 *m, int r, const char *step, const char *cmd)
{
    if (r == FOTA_ERR_TIMEOUT) {
        set_detail(m, step, ": no answer to ", cmd, NULL);
        return FOTA_ERR_LINK;
    }
    if (r == FOTA_ERR_LINK && m->reply[0] != '\0') {
        set_detail(m, step, ": ", cmd, " answered ");
        size_t n = str_add(m->detail, sizeof(m->detail), strlen(m->detail), m->reply);
        (void)str_add(m->detail, sizeof(m->detail), n, cme_meaning(m->reply));
        return FOTA_ERR_LINK;
    }
    if (r == FOTA_ERR_BUFFER_TOO_SMALL) {
        set_detail(m, step, ": modem reply longer than the line buffer", NULL, NULL);
        return r;
    }
    if (m->detail[0] == '\0')
        set_detail(m, step, ": ", cmd, " failed");
    return r;
}

static int simple_cmd(struct fota_sim800 *m, const char *cmd, uint32_t timeout_ms,
                      const char *step)
{
    int r = at_cmd(m, cmd, timeout_ms, FIN_OK, NULL, 0);
    return r >= 0 ? 0 : step_failed(m, r, step, cmd);
}

/* Wait up to ms, handling whatever URCs arrive. */
static int idle(struct fota_sim800 *m, uint32_t ms)
{
    uint32_t deadline = now_ms(m) + ms;
    int truncated;
    for (int lines = 0; lines < EXCHANGE_LINES_MAX; lines++) {
        int r = read_line(m, deadline, 0, &truncated);
        if (r == FOTA_ERR_TIMEOUT)
            return 0;
        if (r < 0)
            return r;
        (void)handle_urc(m);
    }
    return 0;
}

/* ---- bring-up ------------------------------------------------------------ */

static const char *creg_text(uint32_t stat)
{
    switch (stat) {
    case 0: return " (not registered, not searching)";
    case 2: return " (searching)";
    case 3: return " (registration denied)";
    default: return " (unknown)";
    }
}

static int wait_registration(struct fota_sim800 *m)
{
    static const char step[] = "no network registration";
    uint32_t deadline = now_ms(m) + m->cfg.reg_timeout_ms;
    uint32_t polls = m->cfg.reg_timeout_ms / m->cfg.reg_poll_ms + 2;
    for (uint32_t i = 0; i < polls; i++) {
        int r = at_cmd(m, "AT+CREG?", m->cfg.cmd_timeout_ms, FIN_OK, "+CREG:", 0);
        if (r < 0)
            return step_failed(m, r, step, "AT+CREG?");
        /* "+CREG: <n>,<stat>[,...]" */
        size_t pos = 0;
        uint32_t stat = 99;
        while (m->reply[pos] != '\0' && m->reply[pos] != ',')
            pos++;
        if (m->reply[pos] == ',')
            pos++;
        if (m->reply[0] == '\0' || !parse_uint(m->reply, &pos, &stat)) {
            set_detail(m, step, ": AT+CREG? gave no +CREG line", NULL, NULL);
            return FOTA_ERR_LINK;
        }
        if (stat == 1 || stat == 5)
            return 0;
        if (stat == 3 || expired(m, deadline)) {
            set_detail(m, step, ": ", m->reply, creg_text(stat));
            return FOTA_ERR_LINK;
        }
        r = idle(m, m->cfg.reg_poll_ms);
        if (r < 0)
            return r;
    }
    set_detail(m, step, ": ", m->reply, creg_text(99));
    return FOTA_ERR_LINK;
}

/* Compose `prefix"a","b","c"` style commands into m->line. */
static int compose(struct fota_sim800 *m, const char *const *parts, size_t n_parts)
{
    size_t need = CMD_TAIL;
    for (size_t i = 0; i < n_parts; i++)
        need += parts[i] ? strlen(parts[i]) : 0;
    if (need > m->line_size) {
        set_detail(m, "modem command longer than the line buffer: ", parts[0], NULL, NULL);
        return FOTA_ERR_BUFFER_TOO_SMALL;
    }
    size_t at = 0;
    for (size_t i = 0; i < n_parts; i++)
        at = str_add(m->line, m->line_size, at, parts[i]);
    return 0;
}

int fota_sim800_bring_up(struct fota_sim800 *m)
{
    int r = FOTA_ERR_TIMEOUT;

    if (m == NULL || m->uart == NULL)
        return FOTA_ERR_INVALID_ARG;
    m->detail[0] = '\0';
    m->bearer_up = 0;
    m->connected = 0;
    m->link_lost = NULL;

    /* The modem may still be booting: probe with AT a few times. */
    for (uint32_t i = 0; i < m->cfg.at_tries; i++) {
        r = at_cmd(m, "AT", m->cfg.cmd_timeout_ms, FIN_OK, NULL, 0);
        if (r >= 0)
            break;
    }
    if (r < 0)
        return step_failed(m, r, "modem not responding", "AT");
    if ((r = simple_cmd(m, "ATE0", m->cfg.cmd_timeout_ms, "modem setup")) < 0)
        return r;

    r = at_cmd(m, "AT+CPIN?", m->cfg.cmd_timeout_ms, FIN_OK, "+CPIN:", 0);
    if (r < 0)
        return step_failed(m, r, "SIM not ready", "AT+CPIN?");
    if (!str_eq(m->reply, "+CPIN: READY")) {
        set_detail(m, "SIM not ready: ", m->reply[0] ? m->reply : "no +CPIN line", NULL, NULL);
        return FOTA_ERR_LINK;
    }

    m->rssi = -1;
    if (at_cmd(m, "AT+CSQ", m->cfg.cmd_timeout_ms, FIN_OK, "+CSQ:", 0) >= 0) {
        size_t pos = 6; /* "+CSQ: " */
        uint32_t v;
        if (strlen(m->reply) > pos && parse_uint(m->reply, &pos, &v))
            m->rssi = (int)v;
    }

    if ((r = wait_registration(m)) < 0)
        return r;

    r = at_cmd(m, "AT+CGATT?", m->cfg.cmd_timeout_ms, FIN_OK, "+CGATT:", 0);
    if (r < 0)
        return step_failed(m, r, "GPRS attach failed", "AT+CGATT?");
    if (!str_eq(m->reply, "+CGATT: 1")) {
        if ((r = simple_cmd(m, "AT+CGATT=1", m->cfg.attach_timeout_ms, "GPRS attach failed")) < 0)
            return r;
    }

    static const char *const fin_shut[] = {"SHUT OK", NULL};
    r = at_cmd(m, "AT+CIPSHUT", m->cfg.shut_timeout_ms, fin_shut, NULL, 0);
    if (r < 0)
        return step_failed(m, r, "GPRS reset failed", "AT+CIPSHUT");
    if ((r = simple_cmd(m, "AT+CIPMUX=0", m->cfg.cmd_timeout_ms, "modem setup")) < 0)
        return r;
    if ((r = simple_cmd(m, "AT+CIPRXGET=1", m->cfg.cmd_timeout_ms, "modem setup")) < 0)
        return r;

    const char *cstt[] = {"AT+CSTT=\"", m->cfg.apn, "\",\"", m->cfg.user, "\",\"", m->cfg.pass,
                          "\""};
    if ((r = compose(m, cstt, sizeof(cstt) / sizeof(cstt[0]))) < 0)
        return r;
    r = at_cmd(m, m->line, m->cfg.cmd_timeout_ms, FIN_OK, NULL, 0);
    if (r < 0)
        return step_failed(m, r, "APN rejected", "AT+CSTT");
    r = at_cmd(m, "AT+CIICR", m->cfg.pdp_timeout_ms, FIN_OK, NULL, 0);
    if (r < 0) {
        r = step_failed(m, r, "APN rejected", "AT+CIICR");
        size_t n = str_add(m->detail, sizeof(m->detail), strlen(m->detail), " (APN \"");
        n = str_add(m->detail, sizeof(m->detail), n, m->cfg.apn);
        (void)str_add(m->detail, sizeof(m->detail), n, "\")");
        return r;
    }
    static const char *const fin_any[] = {"*", NULL};
    r = at_cmd(m, "AT+CIFSR", m->cfg.cmd_timeout_ms, fin_any, NULL, 0);
    if (r < 0)
        return step_failed(m, r, "no IP address", "AT+CIFSR");

    m->bearer_up = 1;
    m->link_lost = NULL;
    return 0;
}

/* ---- the transport ------------------------------------------------------- */

static int is_ipv4_literal(const char *h)
{
    size_t dots = 0, digits = 0;
    for (size_t i = 0; h[i] != '\0'; i++) {
        if (h[i] == '.') {
            if (digits == 0)
                return 0;
            dots++;
            digits = 0;
        } else if (h[i] >= '0' && h[i] <= '9') {
            if (++digits > 3)
                return 0;
        } else {
            return 0;
        }
    }
    return dots == 3 && digits > 0;
}

static int link_error(struct fota_sim800 *m)
{
    set_detail(m, m->link_lost ? m->link_lost : "GPRS link down", NULL, NULL, NULL);
    return FOTA_ERR_LINK;
}

static void tcp_close(void *ctx)
{
    struct fota_sim800 *m = ctx;
    static const char *const fin_close[] = {"CLOSE OK", NULL};
    if (m->connected && m->bearer_up)
        (void)at_cmd(m, "AT+CIPCLOSE", m->cfg.cmd_timeout_ms, fin_close, NULL, 0);
    m->connected = 0;
    m->peer_closed = 0;
    m->data_pending = 0;
    m->rx_len = m->rx_pos = 0;
}

/* AT+CDNSGIP="host" -> dotted IPv4 into ip[16]. */
static int resolve(struct fota_sim800 *m, const char *host, char ip[16])
{
    static const char *const fin_dns[] = {"+CDNSGIP:", NULL};
    const char *parts[] = {"AT+CDNSGIP=\"", host, "\""};
    int r = compose(m, parts, 3);
    if (r < 0)
        return r;
    r = at_cmd(m, m->line, m->cfg.cmd_timeout_ms, FIN_OK, NULL, 0);
    if (r >= 0)
        r = at_cmd(m, NULL, m->cfg.dns_timeout_ms, fin_dns, NULL, 0);
    if (r == FOTA_ERR_BUFFER_TOO_SMALL) {
        set_detail(m, "DNS lookup of ", host, ": answer longer than the line buffer", NULL);
        return r;
    }
    if (r < 0) {
        if (m->link_lost)
            return link_error(m);
        set_detail(m, "DNS lookup of ", host, " failed: ",
                   r == FOTA_ERR_TIMEOUT ? "no answer to AT+CDNSGIP" : m->reply);
        return FOTA_ERR_DNS;
    }
    /* "+CDNSGIP: 1,"host","a.b.c.d"[,"..."]" or "+CDNSGIP: 0,<error>" */
    if (!starts_with(m->reply, "+CDNSGIP: 1,")) {
        set_detail(m, "DNS lookup of ", host, " failed: ", m->reply);
        return FOTA_ERR_DNS;
    }
    const char *p = m->reply + 12;
    size_t quotes = 0, i = 0;
    for (; p[i] != '\0' && quotes < 3; i++)
        if (p[i] == '"')
            quotes++;
    size_t n = 0;
    for (; p[i] != '\0' && p[i] != '"' && n < 15; i++)
        ip[n++] = p[i];
    ip[n] = '\0';
    if (quotes < 3 || !is_ipv4_literal(ip)) {
        set_detail(m, "DNS lookup of ", host, ": unexpected answer ", m->reply);
        return FOTA_ERR_DNS;
    }
    return 0;
}

static int tcp_connect(void *ctx, const char *host, uint16_t port, int tls, uint32_t timeout_ms)
{
    struct fota_sim800 *m = ctx;
    char ip[16];
    char port_text[6];
    int r;

    if (host == NULL || host[0] == '\0')
        return FOTA_ERR_INVALID_ARG;
    if (tls) {
        set_detail(m, "the SIM800 transport carries plain TCP: layer fota_tls over it", NULL,
                   NULL, NULL);
        return FOTA_ERR_NOT_SUPPORTED;
    }
    tcp_close(m);
    m->detail[0] = '\0';
    if (!m->bearer_up && (r = fota_sim800_bring_up(m)) < 0)
        return r;

    const char *target = host;
    if (!is_ipv4_literal(host)) {
        if ((r = resolve(m, host, ip)) < 0)
            return r;
        target = ip;
    }
    (void)str_add_uint(port_text, sizeof(port_text), 0, port);
    const char *parts[] = {"AT+CIPSTART=\"TCP\",\"", target, "\",", port_text};
    if ((r = compose(m, parts, 4)) < 0)
        return r;

    static const char *const fin_start[] = {"CONNECT OK", "ALREADY CONNECT", "CONNECT FAIL",
                                            "OK", NULL};
    uint32_t deadline = now_ms(m) + timeout_ms;
    r = at_cmd(m, m->line, timeout_ms, fin_start, NULL, 0);
    if (r == 3) /* "OK": the outcome follows */
        r = at_cmd(m, NULL, remaining(m, deadline), fin_start, NULL, 0);
    if (r == 0) {
        m->connected = 1;
        m->peer_closed = 0;
        m->data_pending = 0;
        m->rx_len = m->rx_pos = 0;
        return 0;
    }
    if (m->link_lost)
        return link_error(m);
    /* Anything but CONNECT OK leaves the modem's IP state uncertain: the next
     * connect starts again from AT+CIPSHUT. */
    m->bearer_up = 0;
    set_detail(m, "TCP connect to ", host, ":", port_text);
    size_t n = str_add(m->detail, sizeof(m->detail), strlen(m->detail), " failed: ");
    if (r == FOTA_ERR_TIMEOUT) {
        (void)str_add(m->detail, sizeof(m->detail), n, "no answer to AT+CIPSTART");
        return FOTA_ERR_CONNECT_TIMEOUT;
    }
    (void)str_add(m->detail, sizeof(m->detail), n, m->reply[0] ? m->reply : "modem error");
    return r == FOTA_ERR_BUFFER_TOO_SMALL ? r : FOTA_ERR_CONNECT;
}

static int tcp_send(void *ctx, const uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    struct fota_sim800 *m = ctx;
    static const char *const fin_send[] = {"SEND OK", "SEND FAIL", NULL};
    size_t sent = 0;

    if (buf == NULL || len == 0)
        return FOTA_ERR_INVALID_ARG;
    for (size_t chunks = 0; sent < len && chunks <= len / SEND_CHUNK; chunks++) {
        if (!m->connected)
            return m->link_lost ? link_error(m) : FOTA_ERR_SEND;
        size_t n = len - sent > SEND_CHUNK ? SEND_CHUNK : len - sent;
        char count[6];
        (void)str_add_uint(count, sizeof(count), 0, (uint32_t)n);
        const char *parts[] = {"AT+CIPSEND=", count};
        int r = compose(m, parts, 2);
        if (r < 0)
            return r;
        r = at_cmd(m, m->line, m->cfg.cmd_timeout_ms, fin_send, NULL, 1);
        if (r != AT_PROMPT) {
            if (m->link_lost)
                return link_error(m);
            set_detail(m, "sending: AT+CIPSEND answered ",
                       r == FOTA_ERR_TIMEOUT ? "nothing" : m->reply, NULL, NULL);
            return FOTA_ERR_SEND;
        }
        if ((r = uart_write_all(m, buf + sent, n)) < 0)
            return r;
        uint32_t t = timeout_ms > m->cfg.send_timeout_ms ? timeout_ms : m->cfg.send_timeout_ms;
        r = at_cmd(m, NULL, t, fin_send, NULL, 0);
        if (r != 0) {
            if (m->link_lost)
                return link_error(m);
            set_detail(m, "sending: modem answered ",
                       r == FOTA_ERR_TIMEOUT ? "nothing after the data" : m->reply, NULL, NULL);
            return r == FOTA_ERR_TIMEOUT ? FOTA_ERR_TIMEOUT : FOTA_ERR_SEND;
        }
        sent += n;
    }
    return (int)sent;
}

/* AT+CIPRXGET=2,<n>: move what the modem holds (up to rx_size) into m->rx.
 * Returns the byte count (0: nothing there) or an error. */
static int fetch(struct fota_sim800 *m)
{
    static const char *const fin_rx[] = {"+CIPRXGET: 2,", NULL};
    size_t want = m->rx_size < FOTA_SIM800_RX_MAX ? m->rx_size : FOTA_SIM800_RX_MAX;
    char count[6];
    (void)str_add_uint(count, sizeof(count), 0, (uint32_t)want);
    const char *parts[] = {"AT+CIPRXGET=2,", count};
    int r = compose(m, parts, 2);
    if (r < 0)
        return r;
    m->data_pending = 0;
    r = at_cmd(m, m->line, m->cfg.cmd_timeout_ms, fin_rx, NULL, 0);
    if (r != 0) {
        set_detail(m, "receiving: AT+CIPRXGET=2 answered ",
                   r == FOTA_ERR_TIMEOUT ? "nothing" : m->reply, NULL, NULL);
        return r == FOTA_ERR_TIMEOUT ? FOTA_ERR_TIMEOUT : FOTA_ERR_RECV;
    }
    /* "+CIPRXGET: 2,<got>,<left>" then <got> raw bytes, then OK */
    size_t pos = 13;
    uint32_t got = 0, left = 0;
    if (!parse_uint(m->reply, &pos, &got) || m->reply[pos] != ',' ||
        (pos++, !parse_uint(m->reply, &pos, &left)) || got > want) {
        set_detail(m, "receiving: malformed ", m->reply, NULL, NULL);
        return FOTA_ERR_RECV;
    }
    uint32_t deadline = now_ms(m) + m->cfg.cmd_timeout_ms;
    if ((r = read_raw(m, m->rx, got, deadline)) < 0)
        return r;
    r = at_cmd(m, NULL, m->cfg.cmd_timeout_ms, FIN_OK, NULL, 0);
    if (r != 0) {
        set_detail(m, "receiving: no OK after AT+CIPRXGET data", NULL, NULL, NULL);
        return FOTA_ERR_RECV;
    }
    m->rx_pos = 0;
    m->rx_len = got;
    if (left > 0)
        m->data_pending = 1;
    return (int)got;
}

static int tcp_recv(void *ctx, uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    struct fota_sim800 *m = ctx;
    uint32_t deadline = now_ms(m) + timeout_ms;
    int polled = 0;

    if (buf == NULL || len == 0)
        return FOTA_ERR_INVALID_ARG;
    for (int round = 0; round < RECV_ROUNDS_MAX; round++) {
        if (m->rx_pos < m->rx_len) {
            size_t n = m->rx_len - m->rx_pos;
            if (n > len)
                n = len;
            memcpy(buf, m->rx + m->rx_pos, n);
            m->rx_pos += n;
            return (int)n;
        }
        if (m->link_lost)
            return link_error(m);
        if (!m->connected) {
            set_detail(m, "receiving: no connection", NULL, NULL, NULL);
            return FOTA_ERR_RECV;
        }
        if (m->data_pending || m->peer_closed || !polled) {
            polled = 1;
            int r = fetch(m);
            if (m->link_lost)
                return link_error(m);
            if (r > 0)
                continue; /* copied out at the top */
            if (r == 0 || m->peer_closed) {
                if (m->peer_closed) {
                    /* Everything the server sent has been read (the modem
                     * may answer the last fetch with an error). */
                    m->connected = 0;
                    m->detail[0] = '\0';
                    return 0;
                }
            } else {
                return r;
            }
        }
        /* Nothing buffered: wait for +CIPRXGET: 1, CLOSED or +PDP: DEACT. */
        int truncated;
        int r = read_line(m, deadline, 0, &truncated);
        if (r == FOTA_ERR_TIMEOUT) {
            set_detail(m, "receiving: no data within the read timeout", NULL, NULL, NULL);
            return FOTA_ERR_TIMEOUT;
        }
        if (r < 0)
            return r;
        (void)handle_urc(m);
    }
    set_detail(m, "receiving: no data within the read timeout", NULL, NULL, NULL);
    return FOTA_ERR_TIMEOUT;
}

static const char *tcp_detail(void *ctx)
{
    struct fota_sim800 *m = ctx;
    return m->detail[0] ? m->detail : NULL;
}

/* ---- setup --------------------------------------------------------------- */

int fota_sim800_init(struct fota_sim800 *m, const struct fota_sim800_config *cfg,
                     const struct fota_uart *uart, char *line, size_t line_size, uint8_t *rx,
                     size_t rx_size)
{
    if (m == NULL || cfg == NULL || uart == NULL || uart->read == NULL || uart->write == NULL ||
        cfg->now_ms == NULL || line == NULL || rx == NULL || cfg->apn == NULL)
        return FOTA_ERR_INVALID_ARG;
    if (line_size < FOTA_SIM800_LINE_MIN || rx_size < FOTA_SIM800_RX_MIN)
        return FOTA_ERR_BUFFER_TOO_SMALL;
    memset(m, 0, sizeof(*m));
    m->uart = uart;
    m->cfg = *cfg;
    if (m->cfg.user == NULL)
        m->cfg.user = "";
    if (m->cfg.pass == NULL)
        m->cfg.pass = "";
    if (m->cfg.cmd_timeout_ms == 0)
        m->cfg.cmd_timeout_ms = 2000;
    if (m->cfg.reg_timeout_ms == 0)
        m->cfg.reg_timeout_ms = 60000;
    if (m->cfg.reg_poll_ms == 0)
        m->cfg.reg_poll_ms = 1000;
    if (m->cfg.attach_timeout_ms == 0)
        m->cfg.attach_timeout_ms = 10000;
    if (m->cfg.pdp_timeout_ms == 0)
        m->cfg.pdp_timeout_ms = 85000;
    if (m->cfg.shut_timeout_ms == 0)
        m->cfg.shut_timeout_ms = 65000;
    if (m->cfg.dns_timeout_ms == 0)
        m->cfg.dns_timeout_ms = 20000;
    if (m->cfg.send_timeout_ms == 0)
        m->cfg.send_timeout_ms = 10000;
    if (m->cfg.at_tries == 0)
        m->cfg.at_tries = 10;
    m->line = line;
    m->line_size = line_size;
    m->line[0] = '\0';
    m->rx = rx;
    m->rx_size = rx_size;
    m->rssi = -1;
    m->transport.name = cfg->name ? cfg->name : "gsm";
    m->transport.ctx = m;
    m->transport.connect = tcp_connect;
    m->transport.send = tcp_send;
    m->transport.recv = tcp_recv;
    m->transport.close = tcp_close;
    m->transport.detail = tcp_detail;
    return 0;
}

void fota_sim800_shutdown(struct fota_sim800 *m)
{
    static const char *const fin_shut[] = {"SHUT OK", NULL};
    if (m == NULL || m->uart == NULL)
        return;
    tcp_close(m);
    /* Deactivating a context can take the modem long; without one, a modem
     * that does not answer must not hold the caller for a minute. */
    (void)at_cmd(m, "AT+CIPSHUT", m->bearer_up ? m->cfg.shut_timeout_ms : m->cfg.cmd_timeout_ms,
                 fin_shut, NULL, 0);
    m->bearer_up = 0;
}

int fota_sim800_rssi(const struct fota_sim800 *m)
{
    return m->rssi;
}
