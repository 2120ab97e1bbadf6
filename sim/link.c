/* The link model: see link.h. */
#define _POSIX_C_SOURCE 200809L
#include "link.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define UNKNOWN UINT64_MAX

static uint64_t tx_us(const struct sim_link *l, uint64_t bytes)
{
    return (bytes * 1000000u + l->model.rate - 1) / l->model.rate;
}

/* A window update: bytes below `limit` may leave the server from `at`. */
static void permit(struct sim_link *l, uint64_t limit, uint64_t at)
{
    if (l->permits == SIM_LINK_PERMITS)
        l->permits--; /* the newest replaces the last: later, so never optimistic */
    l->permit_limit[l->permits] = limit;
    l->permit_at[l->permits] = at;
    l->permits++;
}

/* When the next segment arrives, and its length; UNKNOWN when the window
 * holds it back until the application takes bytes, or the response is in. */
static uint64_t next_arrival(const struct sim_link *l, uint64_t *seg)
{
    uint32_t i = 0;
    if (l->total != UNKNOWN && l->arrived >= l->total)
        return UNKNOWN;
    while (i < l->permits && l->permit_limit[i] <= l->arrived)
        i++;
    if (i == l->permits)
        return UNKNOWN;
    uint64_t start = l->permit_at[i] > l->link_free_us ? l->permit_at[i] : l->link_free_us;
    while (i + 1 < l->permits && l->permit_at[i + 1] <= start)
        i++; /* the widest window the server knows of when it sends */
    uint64_t n = l->model.mss;
    if (n > l->permit_limit[i] - l->arrived)
        n = l->permit_limit[i] - l->arrived;
    if (l->total != UNKNOWN && n > l->total - l->arrived)
        n = l->total - l->arrived;
    *seg = n;
    return start + tx_us(l, n) + l->model.latency_us;
}

/* Everything that has arrived by `t`. */
static void advance(struct sim_link *l, uint64_t t)
{
    uint64_t seg = 0, at;
    while ((at = next_arrival(l, &seg)) != UNKNOWN && at <= t) { /* bounded: arrived grows */
        l->arrived += seg;
        l->link_free_us = at - l->model.latency_us;
    }
    uint32_t drop = 0; /* updates below what has arrived say nothing more */
    while (drop + 1 < l->permits && l->permit_limit[drop] <= l->arrived)
        drop++;
    if (drop) {
        memmove(l->permit_limit, l->permit_limit + drop, (l->permits - drop) * sizeof(uint64_t));
        memmove(l->permit_at, l->permit_at + drop, (l->permits - drop) * sizeof(uint64_t));
        l->permits -= drop;
    }
}

/* The response's HTTP framing, byte by byte until its body starts: its
 * length is the header's plus Content-Length (none for 1xx, 204, 304). */
static void frame(struct sim_link *l, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n && !l->in_body; i++) {
        l->hdr_len++;
        if (p[i] != '\n') {
            if (p[i] != '\r' && l->line_len < sizeof l->line - 1)
                l->line[l->line_len++] = (char)p[i];
            continue;
        }
        l->line[l->line_len] = '\0';
        if (l->line_len == 0 && l->status / 100 == 1) {
            l->status = 0; /* an interim response: the real one follows */
        } else if (l->line_len == 0) {
            l->in_body = 1;
            if (l->status == 204 || l->status == 304)
                l->total = l->hdr_len;
            else if (l->has_length && !l->chunked)
                l->total = l->hdr_len + l->content_length;
        } else if (l->status == 0) {
            unsigned st = 0;
            if (sscanf(l->line, "HTTP/%*u.%*u %u", &st) == 1)
                l->status = st;
        } else if (strncasecmp(l->line, "content-length:", 15) == 0) {
            l->content_length = strtoull(l->line + 15, NULL, 10);
            l->has_length = 1;
        } else if (strncasecmp(l->line, "transfer-encoding:", 18) == 0) {
            l->chunked = 1; /* any coding: the length is not known ahead */
        }
        l->line_len = 0;
    }
}

static int link_connect(void *ctx, const char *host, uint16_t port, int tls, uint32_t timeout_ms)
{
    struct sim_link *l = ctx;
    l->active = 0;
    l->clock->us += (uint64_t)l->model.latency_us * (tls ? 6 : 2);
    return l->inner->connect(l->inner->ctx, host, port, tls, timeout_ms);
}

static int link_send(void *ctx, const uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    struct sim_link *l = ctx;
    int n = l->inner->send(l->inner->ctx, buf, len, timeout_ms);
    if (n <= 0)
        return n;
    uint64_t reaches = l->clock->us + tx_us(l, (uint64_t)n) + l->model.latency_us;
    if (l->active && l->taken == 0 && l->permits == 1) {
        l->permit_at[0] = reaches; /* more of the same request */
        return n;
    }
    l->active = 1;
    l->arrived = l->taken = 0;
    l->total = UNKNOWN;
    l->link_free_us = 0;
    l->permits = 0;
    permit(l, l->model.window, reaches);
    l->hdr_len = l->status = l->line_len = 0;
    l->content_length = 0;
    l->has_length = l->chunked = l->in_body = 0;
    return n;
}

static int link_recv(void *ctx, uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    struct sim_link *l = ctx;
    const struct fota_transport *in = l->inner;
    if (!l->active || (l->total != UNKNOWN && l->taken >= l->total))
        return in->recv(in->ctx, buf, len, timeout_ms); /* outside a response: no model */
    advance(l, l->clock->us);
    if (l->arrived == l->taken) {
        uint64_t seg, at = next_arrival(l, &seg);
        if (at == UNKNOWN) /* cannot happen: taking bytes always opens the window */
            return in->recv(in->ctx, buf, len, timeout_ms);
        l->wait_us += at - l->clock->us;
        l->clock->us = at;
        advance(l, at);
    }
    uint64_t n = l->arrived - l->taken;
    if (n > len)
        n = len;
    size_t got = 0;
    while (got < n) { /* bounded: each read brings at least one byte */
        uint64_t want = n - got;
        if (l->total != UNKNOWN) {
            if (l->taken + got >= l->total)
                break;
            if (want > l->total - l->taken - got)
                want = l->total - l->taken - got;
        }
        int r = in->recv(in->ctx, buf + got, (size_t)want, timeout_ms);
        if (r <= 0) {
            if (got == 0)
                return r;
            break;
        }
        frame(l, buf + got, (size_t)r);
        got += (size_t)r;
        if (l->in_body && l->total == UNKNOWN)
            break; /* chunked or close-delimited: no more bytes are promised */
    }
    l->taken += got;
    l->bytes += got;
    if (l->total != UNKNOWN && l->arrived > l->total)
        l->arrived = l->total;
    permit(l, l->taken + l->model.window, l->clock->us + l->model.latency_us);
    return (int)got;
}

static void link_close(void *ctx)
{
    struct sim_link *l = ctx;
    l->active = 0;
    l->inner->close(l->inner->ctx);
}

static const char *link_detail(void *ctx)
{
    struct sim_link *l = ctx;
    return l->inner->detail ? l->inner->detail(l->inner->ctx) : NULL;
}

void sim_link_init(struct sim_link *l, const struct fota_transport *inner,
                   const struct sim_link_model *model, struct sim_clock *clock)
{
    memset(l, 0, sizeof *l);
    l->inner = inner;
    l->model = *model;
    l->clock = clock;
    l->iface = (struct fota_transport){inner->name, l,          link_connect, link_send,
                                       link_recv,   link_close, link_detail};
}

int sim_link_parse(const char *text, struct sim_link_model *m)
{
    unsigned long v[4] = {0, 2, 5760, 1440};
    char *end;
    const char *p = text;
    for (int i = 0; i < 4; i++) {
        v[i] = strtoul(p, &end, 10);
        if (end == p || v[i] == 0 || v[i] > (i == 1 ? 4000000ul : 0xFFFFFFFFul))
            return -1; /* the latency is in ms, kept in us */
        if (*end == '\0')
            break;
        if (*end != ',' || i == 3)
            return -1;
        p = end + 1;
    }
    if (v[3] > v[2])
        return -1; /* a segment larger than the window would never be sent */
    m->rate = (uint32_t)v[0];
    m->latency_us = (uint32_t)v[1] * 1000u;
    m->window = (uint32_t)v[2];
    m->mss = (uint32_t)v[3];
    return 0;
}

uint64_t sim_link_bound_us(const struct sim_link_model *m, uint64_t bytes)
{
    return 2u * (uint64_t)m->latency_us + (bytes * 1000000u + m->rate - 1) / m->rate;
}
