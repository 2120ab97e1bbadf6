/*
 * The agent and what users already have (issue 9), in C on the in-memory
 * transport: a manifest for the running image is up to date whatever the
 * version codes say; a compressed manifest or image is refused by name
 * (Content-Encoding) after asking for identity; a manifest altered to CRLF
 * or given a byte order mark on its way to the server says so. The same
 * behaviour against nginx and fota serve: tests/compat/.
 */
#include <stdint.h>
#include <string.h>

#include "fota/fota.h"
#include "harness.h"
#include "test_agent.h"

static struct agent_world w;
static uint8_t running[32];

static void fresh(void)
{
    CHECK_EQ_INT(aw_fresh(&w), 0);
}

/* A release of the image this device runs, with a higher version code than
 * the device knows for itself (a code derived differently, or unknown). */
static void test_running_image_is_up_to_date(void)
{
    fresh();
    aw_release(&w, "2.0.0", 0, 2);
    CHECK_EQ_INT(fota_sha256_digest(w.crypto, w.image, w.image_len, running), 0);
    w.cfg.image_sha256 = running;
    aw_conn(&w, "200 OK", "", w.manifest, w.manifest_len);
    CHECK_EQ_INT(aw_check(&w), FOTA_NO_UPDATE);
    CHECK_EQ_INT(w.net.requests, 1); /* the manifest only: no image request */
    CHECK_EQ_INT(w.slot_erases[1] + w.slot_writes[1], 0);
    CHECK(strstr(w.last_log, "manifest names the running image (2.0.0") != NULL);
    /* the sequence still counts against replays */
    CHECK_EQ_INT(fota_persist_state(&w.agent)->last_sequence, 2);

    /* another image with the same code: not the running one, so the codes decide */
    fresh();
    aw_release(&w, "2.0.0", 0, 2);
    memset(running, 0x5A, sizeof running);
    w.cfg.image_sha256 = running;
    struct mem_conn *c = aw_conn(&w, "200 OK", "", w.manifest, w.manifest_len);
    aw_conn_add(&w, c, "200 OK", "", w.image, w.image_len);
    CHECK_EQ_INT(aw_check(&w), FOTA_UPDATE_READY);
}

static void test_compressed_manifest_refused_by_name(void)
{
    fresh();
    aw_release(&w, "2.0.0", 0, 2);
    aw_conn(&w, "200 OK", "Content-Encoding: gzip\r\n", w.manifest, w.manifest_len);
    int r = aw_check(&w);
    CHECK_EQ_INT(r, FOTA_ERR_HTTP_ENCODING);
    CHECK(strstr(fota_last_message(&w.agent), "Content-Encoding: gzip") != NULL);
    CHECK(strstr(fota_last_message(&w.agent), "/demo/manifest.txt") != NULL);
    CHECK(strstr(w.net.request_log[0].text, "\r\nAccept-Encoding: identity\r\n") != NULL);
    CHECK_EQ_INT(w.slot_erases[1] + w.slot_writes[1], 0);
}

static void test_compressed_image_refused_by_name(void)
{
    fresh();
    aw_release(&w, "2.0.0", 0, 2);
    struct mem_conn *c = aw_conn(&w, "200 OK", "", w.manifest, w.manifest_len);
    aw_conn_add(&w, c, "200 OK", "Content-Encoding: br\r\n", w.image, w.image_len);
    CHECK_EQ_INT(aw_check(&w), FOTA_ERR_HTTP_ENCODING);
    CHECK(strstr(fota_last_message(&w.agent), "the image (Content-Encoding: br)") != NULL);
    CHECK(strstr(fota_last_message(&w.agent), "demo-2.0.0.bin") != NULL);
    CHECK_EQ_INT(w.slot_writes[1], 0);
    /* identity is not a compression */
    fresh();
    aw_release(&w, "2.0.0", 0, 2);
    c = aw_conn(&w, "200 OK", "", w.manifest, w.manifest_len);
    aw_conn_add(&w, c, "200 OK", "Content-Encoding: identity\r\n", w.image, w.image_len);
    CHECK_EQ_INT(aw_check(&w), FOTA_UPDATE_READY);
}

static char altered[2048];

static void test_manifest_altered_in_transfer(void)
{
    size_t n = 0;
    fresh();
    aw_release(&w, "2.0.0", 0, 2);
    for (size_t i = 0; i < w.manifest_len && n + 2 < sizeof altered; i++) {
        if (w.manifest[i] == '\n')
            altered[n++] = '\r';
        altered[n++] = w.manifest[i];
    }
    aw_conn(&w, "200 OK", "", altered, n);
    CHECK_EQ_INT(aw_check(&w), FOTA_ERR_MANIFEST_PARSE);
    CHECK(strstr(fota_last_message(&w.agent), "CRLF line ends") != NULL);
    CHECK(strstr(fota_last_message(&w.agent), "binary mode") != NULL);

    fresh();
    aw_release(&w, "2.0.0", 0, 2);
    memcpy(altered, "\xEF\xBB\xBF", 3);
    memcpy(altered + 3, w.manifest, w.manifest_len);
    aw_conn(&w, "200 OK", "", altered, w.manifest_len + 3);
    CHECK_EQ_INT(aw_check(&w), FOTA_ERR_MANIFEST_PARSE);
    CHECK(strstr(fota_last_message(&w.agent), "byte order mark") != NULL);
}

static const struct test_case tests[] = {
    TEST(test_running_image_is_up_to_date),
    TEST(test_compressed_manifest_refused_by_name),
    TEST(test_compressed_image_refused_by_name),
    TEST(test_manifest_altered_in_transfer),
};

int main(void)
{
    return test_main("agent_compat", tests, TEST_COUNT(tests));
}
