/* The link model (sim/link.c): arrival times worked out by hand for a small
 * response, the receive window holding the server back, flash work
 * overlapping the transfer, and hand-overs that do not depend on how the
 * real transport splits the bytes. */
#include <string.h>

#include "harness.h"
#include "link.h"

#include "fota/error.h"

/* A response served from memory, at most `piece` bytes per read. */
struct fake {
    const char *resp;
    size_t len, pos, piece;
    size_t sent;
};

static int fake_connect(void *ctx, const char *host, uint16_t port, int tls, uint32_t t)
{
    (void)ctx, (void)host, (void)port, (void)tls, (void)t;
    return 0;
}

static int fake_send(void *ctx, const uint8_t *buf, size_t len, uint32_t t)
{
    struct fake *f = ctx;
    (void)buf, (void)t;
    f->sent += len;
    return (int)len;
}

static int fake_recv(void *ctx, uint8_t *buf, size_t len, uint32_t t)
{
    struct fake *f = ctx;
    (void)t;
    size_t n = f->len - f->pos;
    if (n > len)
        n = len;
    if (n > f->piece)
        n = f->piece;
    memcpy(buf, f->resp + f->pos, n);
    f->pos += n;
    return (int)n;
}

static void fake_close(void *ctx)
{
    (void)ctx;
}

/* 41 header bytes + 2959 body bytes = 3000 */
#define HEAD "HTTP/1.1 200 OK\r\nContent-Length: 2959\r\n\r\n"
static char response[3000];

static void setup(struct fake *f, struct fota_transport *inner, size_t piece)
{
    memset(response, 'x', sizeof response);
    memcpy(response, HEAD, strlen(HEAD));
    *f = (struct fake){response, sizeof response, 0, piece, 0};
    *inner = (struct fota_transport){"tcp",     f,          fake_connect, fake_send,
                                     fake_recv, fake_close, NULL};
}

/* 1000 B/s, 100 ms one way, segments of 1000 bytes */
static uint64_t run(uint32_t window, size_t piece, uint64_t busy_us, uint64_t *waited)
{
    struct fake f;
    struct fota_transport inner;
    struct sim_clock clock = {0};
    struct sim_link l;
    struct sim_link_model m = {1000, 100000, window, 1000};
    uint8_t buf[4096], got[3000];
    size_t at = 0;
    uint64_t last = 0;
    setup(&f, &inner, piece);
    sim_link_init(&l, &inner, &m, &clock);
    CHECK_EQ_INT(l.iface.connect(l.iface.ctx, "h", 80, 0, 1000), 0);
    CHECK_EQ_INT(clock.us, 200000); /* one round trip */
    uint8_t req[100] = {0};
    CHECK_EQ_INT(l.iface.send(l.iface.ctx, req, sizeof req, 1000), 100);
    for (int i = 0; i < 10 && at < sizeof got; i++) {
        int n = l.iface.recv(l.iface.ctx, buf, sizeof buf, 1000);
        CHECK(n > 0 && (uint32_t)n <= window); /* what arrived, never past the window */
        if (n <= 0)
            break;
        last = clock.us;
        memcpy(got + at, buf, (size_t)n);
        at += (size_t)n;
        clock.us += busy_us; /* the device programs what it got */
    }
    CHECK_EQ_INT(at, sizeof got);
    CHECK_MEM(got, response, sizeof got);
    CHECK_EQ_INT(l.iface.recv(l.iface.ctx, buf, sizeof buf, 1000), 0); /* past the response */
    *waited = l.wait_us;
    return last; /* when the last byte was handed over */
}

static void test_arrivals_by_hand(void)
{
    uint64_t waited;
    /* the request reaches the server at 0.2 + 0.1 + 0.1 = 0.4 s; segments take 1 s
     * each on the link and 0.1 s to arrive: 1.5, 2.5, 3.5 s */
    CHECK_EQ_INT(run(2000, 4096, 0, &waited), 3500000);
    CHECK_EQ_INT(waited, 3300000);
}

static void test_window_holds_the_server(void)
{
    uint64_t waited;
    /* a window of one segment: each waits for the update the taking of the
     * one before sends (0.1 s to the server), then 1 s + 0.1 s:
     * 1.5, 1.5 + 0.1 + 1.1 = 2.7, 3.9 s */
    CHECK_EQ_INT(run(1000, 4096, 0, &waited), 3900000);
    CHECK_EQ_INT(waited, 3700000);
}

static void test_flash_work_overlaps(void)
{
    uint64_t waited;
    /* 2 s of flash work after the first hand-over (1.5 s): the second and
     * third segments arrive meanwhile (2.5 and 3.5 s) and are handed over
     * together at 3.5 s, so only the first is waited for */
    CHECK_EQ_INT(run(2000, 4096, 2000000, &waited), 3500000);
    CHECK_EQ_INT(waited, 1300000);
}

static void test_real_splitting_does_not_matter(void)
{
    uint64_t w1, w2;
    uint64_t t1 = run(2000, 7, 0, &w1), t2 = run(2000, 1000, 0, &w2);
    CHECK_EQ_INT(t1, t2);
    CHECK_EQ_INT(w1, w2);
}

static void test_parse(void)
{
    struct sim_link_model m;
    CHECK_EQ_INT(sim_link_parse("1000000", &m), 0);
    CHECK(m.rate == 1000000 && m.latency_us == 2000 && m.window == 5760 && m.mss == 1440);
    CHECK_EQ_INT(sim_link_parse("10700,300,16384,536", &m), 0);
    CHECK(m.rate == 10700 && m.latency_us == 300000 && m.window == 16384 && m.mss == 536);
    CHECK_EQ_INT(sim_link_parse("", &m), -1);
    CHECK_EQ_INT(sim_link_parse("0", &m), -1);
    CHECK_EQ_INT(sim_link_parse("1000,2,1000,1440", &m), -1); /* segment over the window */
    CHECK_EQ_INT(sim_link_parse("1000,2,x", &m), -1);
    /* failures leave m as it was: one round trip of 0.6 s, then 1 s of bytes */
    CHECK_EQ_INT(sim_link_bound_us(&m, 10700), 1600000);
}

static const struct test_case tests[] = {
    TEST(test_arrivals_by_hand),
    TEST(test_window_holds_the_server),
    TEST(test_flash_work_overlaps),
    TEST(test_real_splitting_does_not_matter),
    TEST(test_parse),
};

int main(void)
{
    return test_main("sim_link", tests, TEST_COUNT(tests));
}
