/*
 * Every retry path of the agent, with its backoff measured on the fake
 * clock: each transient failure (connect, send, receive, HTTP, slow
 * retrieval, image) is retried after base/2..base ms; the delays double up
 * to the cap with "equal jitter" (half fixed, half random); Retry-After on
 * 429, 408 and 5xx is honoured up to the cap; final errors are not
 * retried; a failed connect moves to the next transport at once; during a
 * backoff fota_step() returns at once. Runs on the emulated targets too.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fota/fota.h"
#include "fota_crypto_backends.h"
#include "harness.h"
#include "test_agent.h"

static struct agent_world w;

static void fresh(void)
{
    CHECK_EQ_INT(aw_fresh(&w), 0);
    w.cfg.backoff_base_ms = 1000;
}

/* Milliseconds between the n-th retry decision and the connect it led to
 * (the first one after it: every backoff here is at least 500 ms). */
static uint32_t gap(size_t n)
{
    if (aw_retry_error(&w, n) == 1)
        return UINT32_MAX;
    uint32_t at = aw_retry_at(&w, n);
    for (uint32_t i = 0; i < w.net.connects && i < MEM_MAX_LOG; i++)
        if ((int32_t)(w.net.connect_log[i].at_ms - at) > 0)
            return w.net.connect_log[i].at_ms - at;
    return UINT32_MAX;
}

enum { RAW, STATUS };

/* A failing first connection for the manifest. */
struct manifest_failure {
    const char *name;
    int err;               /* the error the agent must retry */
    int connect_result, send_result;
    int kind;              /* RAW: `text` is the whole response; STATUS: a status line */
    const char *text;
    int end;               /* enum mem_end once the text is out */
    uint32_t piece, delay_ms;
};

static char long_header[700];

static const struct manifest_failure manifest_failures[] = {
    {"DNS failure", FOTA_ERR_DNS, FOTA_ERR_DNS, 0, RAW, "", 0, 0, 0},
    {"connect refused", FOTA_ERR_CONNECT_REFUSED, FOTA_ERR_CONNECT_REFUSED, 0, RAW, "", 0, 0, 0},
    {"connect timeout", FOTA_ERR_CONNECT_TIMEOUT, FOTA_ERR_CONNECT_TIMEOUT, 0, RAW, "", 0, 0, 0},
    {"link down", FOTA_ERR_LINK, FOTA_ERR_LINK, 0, RAW, "", 0, 0, 0},
    {"TLS handshake", FOTA_ERR_TLS_HANDSHAKE, FOTA_ERR_TLS_HANDSHAKE, 0, RAW, "", 0, 0, 0},
    {"send failure", FOTA_ERR_SEND, 0, FOTA_ERR_SEND, RAW, "", 0, 0, 0},
    {"no answer (read timeout)", FOTA_ERR_TIMEOUT, 0, 0, RAW, "", MEM_END_STALL, 0, 0},
    {"connection reset", FOTA_ERR_RECV, 0, 0, RAW, "", MEM_END_RESET, 0, 0},
    {"closed before answering", FOTA_ERR_CLOSED, 0, 0, RAW, "", MEM_END_CLOSE, 0, 0},
    {"closed inside the body", FOTA_ERR_CLOSED, 0, 0, RAW,
     "HTTP/1.1 200 OK\r\nContent-Length: 400\r\n\r\nfota-manifest: 1\n", MEM_END_CLOSE, 0, 0},
    {"500", FOTA_ERR_HTTP_SERVER, 0, 0, STATUS, "500 Internal Server Error", 0, 0, 0},
    {"503", FOTA_ERR_HTTP_SERVER, 0, 0, STATUS, "503 Service Unavailable", 0, 0, 0},
    {"429", FOTA_ERR_HTTP_BUSY, 0, 0, STATUS, "429 Too Many Requests", 0, 0, 0},
    {"408", FOTA_ERR_HTTP_BUSY, 0, 0, STATUS, "408 Request Timeout", 0, 0, 0},
    {"unexpected status", FOTA_ERR_HTTP_STATUS, 0, 0, STATUS, "250 Odd", 0, 0, 0},
    {"garbage (not HTTP)", FOTA_ERR_HTTP_PARSE, 0, 0, RAW, "SSH-2.0-OpenSSH_9.2\r\n\r\n", 0, 0,
     0},
    {"status line longer than the line buffer", FOTA_ERR_HTTP_HEADER_TOO_LONG, 0, 0, RAW,
     long_header, 0, 0, 0},
    {"too slow (1 byte/s)", FOTA_ERR_TOO_SLOW, 0, 0, RAW,
     "HTTP/1.1 200 OK\r\nContent-Length: 400\r\n\r\nfota-manifest: 1\n", MEM_END_STALL, 1, 1000},
};

static void script_failure(const struct manifest_failure *f)
{
    struct mem_conn *c = mem_add(&w.net);
    if (!c)
        return;
    c->connect_result = f->connect_result;
    c->send_result = f->send_result;
    if (f->kind == STATUS)
        aw_conn_add(&w, c, f->text, "Content-Length: 0\r\n", NULL, 0);
    else if (f->text[0])
        mem_conn_respond(c, f->text, strlen(f->text));
    c->end = f->end;
    c->piece = f->piece;
    c->delay_ms = f->delay_ms;
}

static void test_every_manifest_failure_is_retried_after_backoff(void)
{
    /* a status line longer than the line buffer (long values of unknown
     * fields are skipped, not kept) */
    int n = snprintf(long_header, sizeof long_header, "HTTP/1.1 200 ");
    memset(long_header + n, 'a', sizeof long_header - (size_t)n - 5);
    memcpy(long_header + sizeof long_header - 5, "\r\n\r\n", 5);
    for (size_t i = 0; i < sizeof manifest_failures / sizeof manifest_failures[0]; i++) {
        const struct manifest_failure *f = &manifest_failures[i];
        fresh();
        script_failure(f);
        aw_conn(&w, "304 Not Modified", "", NULL, 0);
        int r = aw_check(&w);
        uint32_t g = gap(0);
        int ok = r == FOTA_NO_UPDATE && aw_retry_error(&w, 0) == f->err &&
                 aw_count_events(&w, FOTA_EV_RETRYING) == 1 && g >= 500 && g <= 1000 &&
                 w.net.connects == 2;
        if (!ok)
            printf("  %s: result %s, retried for %s (want %s) after %u ms\n", f->name,
                   fota_strerror(r), fota_strerror(aw_retry_error(&w, 0)),
                   fota_strerror(f->err), (unsigned)g);
        CHECK(ok);
    }
}

/* The total deadline of an attempt: a server feeding a byte a second
 * within the read timeout, with the rate check off. */
static void test_deadline_is_retried(void)
{
    fresh();
    w.cfg.total_timeout_ms = 5000;
    w.cfg.min_bytes_per_s = FOTA_NO_LIMIT;
    static const char slow[] = "HTTP/1.1 200 OK\r\nContent-Length: 400\r\n\r\nfota-manifest: 1\n";
    struct mem_conn *c = mem_add(&w.net);
    if (c) {
        mem_conn_respond(c, slow, sizeof slow - 1);
        c->piece = 1;
        c->delay_ms = 1000;
    }
    aw_conn(&w, "304 Not Modified", "", NULL, 0);
    CHECK_EQ_INT(aw_check(&w), FOTA_NO_UPDATE);
    CHECK_EQ_INT(aw_retry_error(&w, 0), FOTA_ERR_DEADLINE);
    CHECK(aw_retry_at(&w, 0) - w.net.connect_log[0].at_ms > 5000);
    CHECK(aw_retry_at(&w, 0) - w.net.connect_log[0].at_ms <= 7000);
}

/* Failures during the image: retried after the same backoff; a download
 * continues (Range) and a hash mismatch starts over from the manifest. */
static void test_every_image_failure_is_retried_after_backoff(void)
{
    static uint8_t bad[AW_IMAGE_MAX];
    static const int errs[] = {FOTA_ERR_CLOSED, FOTA_ERR_TIMEOUT, FOTA_ERR_HTTP_LENGTH,
                               FOTA_ERR_IMAGE_HASH, FOTA_ERR_HTTP_SERVER};
    for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++) {
        fresh();
        aw_release(&w, "2.0.0", 0, 2);
        aw_conn_manifest(&w);
        struct mem_conn *c = NULL;
        switch (errs[i]) {
        case FOTA_ERR_CLOSED:
        case FOTA_ERR_TIMEOUT:
            c = aw_conn_image(&w);
            if (c) {
                c->cut_at = aw_head_len(c) + 3000;
                c->end = errs[i] == FOTA_ERR_CLOSED ? MEM_END_CLOSE : MEM_END_STALL;
            }
            break;
        case FOTA_ERR_HTTP_LENGTH:
            aw_conn(&w, "200 OK", "Connection: close\r\n", w.image, w.image_len - 1);
            break;
        case FOTA_ERR_IMAGE_HASH:
            memcpy(bad, w.image, w.image_len);
            bad[3000] ^= 1;
            aw_conn(&w, "200 OK", "Connection: close\r\n", bad, w.image_len);
            aw_conn_manifest(&w);
            break;
        default:
            aw_conn(&w, "502 Bad Gateway", "Content-Length: 0\r\n", NULL, 0);
        }
        aw_conn_image(&w);
        int r = aw_check(&w);
        uint32_t g = gap(0);
        int ok = r == FOTA_UPDATE_READY && aw_retry_error(&w, 0) == errs[i] && g >= 500 &&
                 g <= 1000 && aw_slot_holds(&w, 1, w.image, w.image_len);
        if (!ok)
            printf("  image %s: result %s, retried for %s after %u ms\n", fota_strerror(errs[i]),
                   fota_strerror(r), fota_strerror(aw_retry_error(&w, 0)), (unsigned)g);
        CHECK(ok);
    }
}

/* Final answers end the check at once: one connect, no backoff. */
static void test_final_errors_are_not_retried(void)
{
    static const struct {
        const char *status;
        int err;
    } finals[] = {
        {"404 Not Found", FOTA_ERR_HTTP_NOT_FOUND},
        {"403 Forbidden", FOTA_ERR_HTTP_FORBIDDEN},
        {"401 Unauthorized", FOTA_ERR_HTTP_FORBIDDEN},
        {"400 Bad Request", FOTA_ERR_HTTP_CLIENT},
        {"410 Gone", FOTA_ERR_HTTP_CLIENT},
    };
    for (size_t i = 0; i < sizeof finals / sizeof finals[0]; i++) {
        fresh();
        aw_conn(&w, finals[i].status, "Content-Length: 0\r\n", NULL, 0);
        aw_conn(&w, "304 Not Modified", "", NULL, 0);
        CHECK_EQ_INT(aw_check(&w), finals[i].err);
        CHECK_EQ_INT(w.net.connects, 1);
        CHECK_EQ_INT(aw_count_events(&w, FOTA_EV_RETRYING), 0);
        CHECK_EQ_INT(aw_count_events(&w, FOTA_EV_FAILED), 1);
        CHECK_EQ_INT(w.clock.sleeps, 0);
    }
}

/* Delays double from the base up to the cap, each between half and all of
 * its value; the attempts end the check with the last error. */
static void test_backoff_doubles_to_the_cap_with_jitter(void)
{
    static const uint32_t want[] = {1000, 2000, 4000, 5000, 5000};
    static const uint32_t seeds[] = {1, 0xDEADBEEFu, 12345, 0x80000001u};
    uint32_t seen[4][5];
    for (size_t s = 0; s < 4; s++) {
        fresh();
        w.random_value = seeds[s];
        CHECK_EQ_INT(aw_power_on(&w), 0); /* the agent seeds its jitter at init */
        w.cfg.max_attempts = 6;
        w.cfg.backoff_max_ms = 5000;
        for (int i = 0; i < 6; i++)
            mem_add(&w.net)->connect_result = FOTA_ERR_CONNECT_REFUSED;
        CHECK_EQ_INT(aw_check(&w), FOTA_ERR_CONNECT_REFUSED);
        CHECK_EQ_INT(w.net.connects, 6);
        CHECK_EQ_INT(aw_count_events(&w, FOTA_EV_RETRYING), 5);
        CHECK_EQ_INT(aw_count_events(&w, FOTA_EV_FAILED), 1);
        uint64_t total = 0;
        for (size_t i = 0; i < 5; i++) {
            seen[s][i] = gap(i);
            total += seen[s][i];
            if (seen[s][i] < want[i] / 2 || seen[s][i] > want[i])
                printf("  seed %u: retry %u after %u ms, want %u..%u\n", (unsigned)seeds[s],
                       (unsigned)i + 1, (unsigned)seen[s][i], (unsigned)want[i] / 2,
                       (unsigned)want[i]);
            CHECK(seen[s][i] >= want[i] / 2 && seen[s][i] <= want[i]);
        }
        CHECK_EQ_INT(w.clock.slept_ms, total); /* fota_run slept exactly the backoff */
    }
    /* the random half differs between devices seeded differently */
    int differ = 0;
    for (size_t s = 1; s < 4; s++)
        differ |= memcmp(seen[0], seen[s], sizeof seen[0]) != 0;
    CHECK(differ);
}

static void busy(const char *status, const char *retry_after)
{
    char h[64];
    snprintf(h, sizeof h, "Retry-After: %s\r\nContent-Length: 0\r\n", retry_after);
    aw_conn(&w, status, h, NULL, 0);
}

/* Retry-After is honoured when longer than the backoff, up to the cap. */
static void test_retry_after(void)
{
    static const struct {
        const char *status, *after;
        uint32_t cap, lo, hi;
    } cases[] = {
        {"429 Too Many Requests", "7", 60000, 7000, 7000},
        {"408 Request Timeout", "4", 60000, 4000, 4000},
        {"503 Service Unavailable", "3", 60000, 3000, 3000},
        {"500 Internal Server Error", "2", 60000, 2000, 2000},
        {"429 Too Many Requests", "120", 60000, 60000, 60000}, /* capped */
        {"429 Too Many Requests", "9", 5000, 5000, 5000},      /* capped */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fresh();
        w.cfg.backoff_max_ms = cases[i].cap;
        busy(cases[i].status, cases[i].after);
        aw_conn(&w, "304 Not Modified", "", NULL, 0);
        CHECK_EQ_INT(aw_check(&w), FOTA_NO_UPDATE);
        uint32_t g = gap(0);
        if (g < cases[i].lo || g > cases[i].hi)
            printf("  %s Retry-After %s: retried after %u ms\n", cases[i].status,
                   cases[i].after, (unsigned)g);
        CHECK(g >= cases[i].lo && g <= cases[i].hi);
    }
    /* shorter than the backoff: the backoff wins */
    fresh();
    w.cfg.backoff_base_ms = 8000;
    busy("429 Too Many Requests", "1");
    aw_conn(&w, "304 Not Modified", "", NULL, 0);
    CHECK_EQ_INT(aw_check(&w), FOTA_NO_UPDATE);
    CHECK(gap(0) >= 4000 && gap(0) <= 8000);
}

/* fota_step() never sleeps: during the backoff it returns at once, and the
 * next attempt starts when the fake clock reaches the deadline. */
static void test_step_returns_at_once_during_backoff(void)
{
    fresh();
    mem_add(&w.net)->connect_result = FOTA_ERR_CONNECT_REFUSED;
    aw_conn(&w, "304 Not Modified", "", NULL, 0);
    CHECK_EQ_INT(fota_start(&w.agent), 0);
    int r = FOTA_RUNNING;
    uint32_t steps = 0;
    while (r == FOTA_RUNNING && steps++ < 5000) {
        uint32_t connects = w.net.connects;
        r = fota_step(&w.agent);
        if (w.net.connects == connects && r == FOTA_RUNNING && aw_retry_error(&w, 0) != 1)
            test_clock_advance(&w.clock, 1); /* waiting: time passes outside */
    }
    CHECK_EQ_INT(r, FOTA_NO_UPDATE);
    CHECK_EQ_INT(w.clock.sleeps, 0);
    CHECK(gap(0) >= 500 && gap(0) <= 1000);
    CHECK(steps > gap(0)); /* one step per millisecond of the wait */
}

/* A failed connect moves to the next transport at once; when every
 * transport failed, the retry starts again from the first. */
static void test_transport_fallback(void)
{
    fresh();
    w.cfg.transports[1] = &w.net2.iface;
    w.cfg.n_transports = 2;
    CHECK_EQ_INT(aw_power_on(&w), 0);
    mem_add(&w.net)->connect_result = FOTA_ERR_LINK;
    struct mem_conn *c = mem_add(&w.net2);
    if (c)
        aw_conn_add(&w, c, "304 Not Modified", "", NULL, 0);
    CHECK_EQ_INT(aw_check(&w), FOTA_NO_UPDATE);
    CHECK_EQ_STR(fota_transport_used(&w.agent), "gsm");
    CHECK_EQ_INT(aw_count_events(&w, FOTA_EV_RETRYING), 0);
    CHECK_EQ_INT(w.net2.connect_log[0].at_ms, w.net.connect_log[0].at_ms);

    fresh();
    w.cfg.transports[1] = &w.net2.iface;
    w.cfg.n_transports = 2;
    CHECK_EQ_INT(aw_power_on(&w), 0);
    mem_add(&w.net)->connect_result = FOTA_ERR_DNS;
    mem_add(&w.net2)->connect_result = FOTA_ERR_CONNECT_TIMEOUT;
    aw_conn(&w, "304 Not Modified", "", NULL, 0);
    CHECK_EQ_INT(aw_check(&w), FOTA_NO_UPDATE);
    CHECK_EQ_INT(aw_retry_error(&w, 0), FOTA_ERR_CONNECT_TIMEOUT);
    CHECK_EQ_INT(w.net.connects, 2);
    CHECK_EQ_INT(w.net2.connects, 1);
    CHECK_EQ_STR(fota_transport_used(&w.agent), "wifi");
}

/* max_attempts bounds the attempts of one fota_start(). */
static void test_attempts_are_bounded(void)
{
    fresh();
    w.cfg.max_attempts = 3;
    for (int i = 0; i < 5; i++)
        aw_conn(&w, "500 Internal Server Error", "Content-Length: 0\r\n", NULL, 0);
    CHECK_EQ_INT(aw_check(&w), FOTA_ERR_HTTP_SERVER);
    CHECK_EQ_INT(w.net.connects, 3);
    CHECK_EQ_INT(aw_count_events(&w, FOTA_EV_RETRYING), 2);
    CHECK(strstr(fota_last_message(&w.agent), "500") != NULL);
}

static const struct test_case tests[] = {
    TEST(test_every_manifest_failure_is_retried_after_backoff),
    TEST(test_deadline_is_retried),
    TEST(test_every_image_failure_is_retried_after_backoff),
    TEST(test_final_errors_are_not_retried),
    TEST(test_backoff_doubles_to_the_cap_with_jitter),
    TEST(test_retry_after),
    TEST(test_step_returns_at_once_during_backoff),
    TEST(test_transport_fallback),
    TEST(test_attempts_are_bounded),
};

int main(void)
{
    return test_main("agent_retry", tests, TEST_COUNT(tests));
}
