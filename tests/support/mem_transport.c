/* The scripted in-memory transport: see mem_transport.h. */
#include "mem_transport.h"

#include <stdio.h>
#include <string.h>

static void copy_str(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static int mem_connect(void *ctx, const char *host, uint16_t port, int tls, uint32_t timeout_ms)
{
    struct mem_transport *t = ctx;
    uint32_t n = t->connects++;
    if (n < MEM_MAX_LOG) {
        struct mem_connect_log *l = &t->connect_log[n];
        copy_str(l->host, sizeof l->host, host);
        l->port = port;
        l->tls = (uint8_t)(tls != 0);
        l->at_ms = t->clock->now;
    }
    memset(&t->cur, 0, sizeof t->cur);
    t->open = t->served = 0;
    t->released = t->resp_idx = t->part = t->part_pos = t->conn_bytes = 0;
    t->req_len = 0;
    t->req_tail = 0;
    t->detail[0] = '\0';
    if (n < t->n_script) {
        t->cur = t->script[n];
        if (t->cur.connect_result < 0) {
            if (t->cur.connect_result == FOTA_ERR_CONNECT_TIMEOUT)
                test_clock_advance(t->clock, timeout_ms);
            snprintf(t->detail, sizeof t->detail, "scripted connect %u fails",
                     (unsigned)n);
            return t->cur.connect_result;
        }
    } else if (t->serve) {
        t->served = 1;
        t->cur.piece = t->serve_piece;
    } else {
        t->refused++;
        snprintf(t->detail, sizeof t->detail, "connect %u is beyond the script", (unsigned)n);
        return FOTA_ERR_CONNECT_REFUSED;
    }
    copy_str(t->host, sizeof t->host, host);
    t->port = port;
    t->open = 1;
    return 0;
}

/* A complete request arrived: record it and release its response. */
static int request_done(struct mem_transport *t)
{
    uint32_t n = t->requests++;
    size_t len = t->req_len < sizeof t->req ? t->req_len : sizeof t->req - 1; /* as kept */
    t->req[len] = '\0';
    if (n < MEM_MAX_LOG) {
        struct mem_request_log *l = &t->request_log[n];
        memcpy(l->text, t->req, sizeof l->text);
        l->conn = t->connects - 1;
        l->at_ms = t->clock->now;
    }
    if (t->served) {
        struct mem_response r;
        memset(&r, 0, sizeof r);
        int e = t->serve(t->serve_ctx, t->host, t->port, t->req, len, &r);
        if (e < 0)
            return e;
        t->cur.resp[0] = r;
        t->cur.n_resp = 1;
        t->resp_idx = t->part = t->part_pos = 0;
        t->released = 1;
    } else {
        t->released++;
    }
    t->req_len = 0;
    return 0;
}

static int mem_send(void *ctx, const uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    struct mem_transport *t = ctx;
    (void)timeout_ms;
    if (!t->open)
        return FOTA_ERR_SEND;
    if (t->cur.send_result < 0) {
        snprintf(t->detail, sizeof t->detail, "scripted send failure");
        return t->cur.send_result;
    }
    for (size_t i = 0; i < len; i++) {
        if (t->req_len < sizeof t->req - 1)
            t->req[t->req_len] = (char)buf[i];
        t->req_len++;
        t->req_tail = t->req_tail << 8 | buf[i];
        if (t->req_tail == 0x0D0A0D0Au) { /* "\r\n\r\n": GET requests have no body */
            int e = request_done(t);
            if (e < 0)
                return e;
        }
    }
    return len > 0x7FFFFFFF ? 0x7FFFFFFF : (int)len;
}

static int conn_end(struct mem_transport *t, uint32_t timeout_ms)
{
    switch (t->cur.end) {
    case MEM_END_STALL:
        test_clock_advance(t->clock, timeout_ms);
        snprintf(t->detail, sizeof t->detail, "nothing for %u ms", (unsigned)timeout_ms);
        return FOTA_ERR_TIMEOUT;
    case MEM_END_RESET:
        snprintf(t->detail, sizeof t->detail, "connection reset");
        return FOTA_ERR_RECV;
    default:
        return 0;
    }
}

static int mem_recv(void *ctx, uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    struct mem_transport *t = ctx;
    if (!t->open)
        return FOTA_ERR_RECV;
    test_clock_advance(t->clock, t->cur.delay_ms);
    if (t->cur.cut_at && t->conn_bytes >= t->cur.cut_at)
        return conn_end(t, timeout_ms);
    /* bounded: each pass returns or moves to the next part of a response */
    for (size_t guard = 0; guard < 2 * MEM_MAX_RESPONSES + 2; guard++) {
        if (t->resp_idx >= t->cur.n_resp)
            return conn_end(t, timeout_ms);
        if (t->resp_idx >= t->released) {
            /* the agent reads before asking: a real server would say nothing */
            t->overreads++;
            test_clock_advance(t->clock, timeout_ms);
            return FOTA_ERR_TIMEOUT;
        }
        const struct mem_response *r = &t->cur.resp[t->resp_idx];
        const uint8_t *data = t->part == 0 ? r->head : r->body;
        size_t data_len = t->part == 0 ? r->head_len : r->body_len;
        if (t->part_pos >= data_len) {
            t->part_pos = 0;
            if (++t->part > 1) {
                t->part = 0;
                t->resp_idx++;
            }
            continue;
        }
        size_t n = data_len - t->part_pos;
        if (n > len)
            n = len;
        if (t->cur.piece && n > t->cur.piece)
            n = t->cur.piece;
        if (t->cur.cut_at && n > t->cur.cut_at - t->conn_bytes)
            n = t->cur.cut_at - t->conn_bytes;
        if (n > 0x7FFFFFFF)
            n = 0x7FFFFFFF;
        memcpy(buf, data + t->part_pos, n);
        t->part_pos += n;
        t->conn_bytes += n;
        return (int)n;
    }
    return conn_end(t, timeout_ms);
}

static void mem_close(void *ctx)
{
    struct mem_transport *t = ctx;
    if (t->open)
        t->closes++;
    t->open = 0;
}

static const char *mem_detail(void *ctx)
{
    struct mem_transport *t = ctx;
    return t->detail[0] ? t->detail : NULL;
}

void mem_transport_init(struct mem_transport *t, const char *name, struct test_clock *clock)
{
    memset(t, 0, sizeof *t);
    t->clock = clock;
    t->iface.name = name;
    t->iface.ctx = t;
    t->iface.connect = mem_connect;
    t->iface.send = mem_send;
    t->iface.recv = mem_recv;
    t->iface.close = mem_close;
    t->iface.detail = mem_detail;
}

struct mem_conn *mem_add(struct mem_transport *t)
{
    if (t->n_script >= MEM_MAX_CONNS)
        return NULL;
    struct mem_conn *c = &t->script[t->n_script++];
    memset(c, 0, sizeof *c);
    return c;
}

void mem_conn_respond(struct mem_conn *c, const void *bytes, size_t len)
{
    if (c->n_resp >= MEM_MAX_RESPONSES)
        return;
    c->resp[c->n_resp].head = bytes;
    c->resp[c->n_resp].head_len = len;
    c->resp[c->n_resp].body = NULL;
    c->resp[c->n_resp].body_len = 0;
    c->n_resp++;
}
