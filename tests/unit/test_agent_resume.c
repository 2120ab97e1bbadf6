/*
 * Resuming a download on the in-memory transport: a cut mid-image continues
 * with Range (206) in the same check and, after a power cycle, from the
 * progress saved on flash; a server that answers 200 instead of 206 makes
 * the agent start over; a 206 for another range is refused (transient).
 * The 416 cases are in test_agent_416.c. Runs on the emulated targets too.
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
    aw_release(&w, "2.0.0", 1, 2);
}

/* The image connection, cut after `body` bytes of the body. */
static void image_cut_at(size_t body)
{
    struct mem_conn *c = aw_conn_image(&w);
    if (c)
        c->cut_at = aw_head_len(c) + body;
}

static void partial(size_t from, const char *extra)
{
    char h[160];
    snprintf(h, sizeof h, "Content-Range: bytes %lu-%lu/%lu\r\n%s", (unsigned long)from,
             (unsigned long)w.image_len - 1, (unsigned long)w.image_len, extra);
    aw_conn(&w, "206 Partial Content", h, w.image + from, w.image_len - from);
}

static int has_range(uint32_t i, unsigned long from)
{
    char want[48];
    snprintf(want, sizeof want, "\r\nRange: bytes=%lu-\r\n", from);
    return i < w.net.requests && strstr(w.net.request_log[i].text, want) != NULL;
}

/* Cut mid-image: the retry asks for the rest and the server continues. */
static void test_206_continues_in_the_same_check(void)
{
    fresh();
    aw_conn_manifest(&w);
    image_cut_at(5001);
    partial(5001, "");
    CHECK_EQ_INT(aw_check(&w), FOTA_UPDATE_READY);
    CHECK_EQ_INT(w.net.requests, 3);
    CHECK(!has_range(1, 0) && strstr(w.net.request_log[1].text, "Range:") == NULL);
    CHECK(has_range(2, 5001));
    CHECK_EQ_INT(aw_count_events(&w, FOTA_EV_RETRYING), 1);
    CHECK_EQ_INT(aw_retry_error(&w, 0), FOTA_ERR_CLOSED);
    CHECK(aw_slot_holds(&w, 1, w.image, w.image_len));
    /* nothing erased twice */
    CHECK_EQ_INT(w.slot_erases[1], (w.image_len + AW_SECTOR - 1) / AW_SECTOR);
}

/* The image cut after 9000 bytes, no retry, then a power cycle: the saved
 * progress names the two whole sectors written. */
static void cut_then_power_cycle(void)
{
    fresh();
    w.cfg.persist_every = AW_SECTOR;
    w.cfg.max_attempts = 1;
    aw_conn_manifest(&w);
    image_cut_at(9000);
    CHECK_EQ_INT(aw_check(&w), FOTA_ERR_CLOSED);
    const struct fota_persist *p = fota_persist_state(&w.agent);
    CHECK_EQ_INT(p->dl_offset, 2 * AW_SECTOR);
    CHECK_EQ_INT(p->dl_size, w.image_len);
    CHECK_EQ_INT(aw_power_on(&w), 0); /* RAM lost; slot 0 still runs */
    CHECK_EQ_STR(w.running_version, "1.0.0");
    w.cfg.max_attempts = 0; /* the default again */
    aw_conn_manifest(&w);
}

/* After the reboot the agent rehashes the whole sectors its saved progress
 * names and asks for the rest. */
static void test_206_resumes_after_power_cycle(void)
{
    cut_then_power_cycle();
    partial(2 * AW_SECTOR, "");
    CHECK_EQ_INT(aw_check(&w), FOTA_UPDATE_READY);
    CHECK(has_range(3, 2 * AW_SECTOR));
    CHECK(aw_slot_holds(&w, 1, w.image, w.image_len));
}

/* A server without Range support answers 200: the agent starts over and
 * the slot ends up right. */
static void test_200_instead_of_206_starts_over(void)
{
    fresh();
    aw_conn_manifest(&w);
    image_cut_at(6000);
    aw_conn_image(&w);
    CHECK_EQ_INT(aw_check(&w), FOTA_UPDATE_READY);
    CHECK(has_range(2, 6000));
    CHECK(aw_slot_holds(&w, 1, w.image, w.image_len));
    /* the first sector was erased once more for the new start */
    CHECK_EQ_INT(w.slot_erases[1], (w.image_len + AW_SECTOR - 1) / AW_SECTOR + 2);
}

/* The same after a power cycle: the saved progress is dropped before the
 * sectors it names are erased again. */
static void test_200_instead_of_206_after_power_cycle(void)
{
    cut_then_power_cycle();
    aw_conn_image(&w);
    CHECK_EQ_INT(aw_check(&w), FOTA_UPDATE_READY);
    CHECK(has_range(3, 2 * AW_SECTOR));
    CHECK(aw_slot_holds(&w, 1, w.image, w.image_len));
}

/* 206 for another range than asked: refused, retried. */
static void test_206_wrong_range_refused(void)
{
    fresh();
    aw_conn_manifest(&w);
    image_cut_at(5000);
    partial(4096, "");
    partial(5000, "");
    CHECK_EQ_INT(aw_check(&w), FOTA_UPDATE_READY);
    CHECK_EQ_INT(aw_count_events(&w, FOTA_EV_RETRYING), 2);
    CHECK_EQ_INT(aw_retry_error(&w, 1), FOTA_ERR_HTTP_RANGE);
    CHECK(has_range(3, 5000));
    CHECK(aw_slot_holds(&w, 1, w.image, w.image_len));
}

static const struct test_case tests[] = {
    TEST(test_206_continues_in_the_same_check),
    TEST(test_206_resumes_after_power_cycle),
    TEST(test_200_instead_of_206_starts_over),
    TEST(test_200_instead_of_206_after_power_cycle),
    TEST(test_206_wrong_range_refused),
};

int main(void)
{
    return test_main("agent_resume", tests, TEST_COUNT(tests));
}
