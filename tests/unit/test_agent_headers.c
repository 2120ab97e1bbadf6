/*
 * A connection closed at every byte of a response's header block (stalled
 * or reset at every 16th), on the in-memory transport: for the manifest and
 * for the image.
 * Every cut must end the attempt with a transient error, never take a
 * truncated header block for a response, never touch the slot for a cut
 * manifest, and the retry must then succeed. Runs on the emulated targets
 * too.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fota/fota.h"
#include "fota_crypto_backends.h"
#include "harness.h"
#include "test_agent.h"

/* A realistic header block, as nginx sends it. */
#define HEADERS                                                                  \
    "Server: nginx/1.22.1\r\nDate: Mon, 30 Nov 2026 09:00:00 GMT\r\n"             \
    "Content-Type: application/octet-stream\r\nLast-Modified: Mon, 30 Nov 2026 " \
    "08:00:00 GMT\r\nConnection: close\r\nETag: \"6568-2a00\"\r\n"

static struct agent_world w;

static int transient_failure(int err)
{
    return err == FOTA_ERR_CLOSED || err == FOTA_ERR_TIMEOUT || err == FOTA_ERR_RECV ||
           err == FOTA_ERR_HTTP_PARSE;
}

static size_t failed_cases;

/* One release, signed once: each case starts from a fresh device. */
static struct {
    uint8_t image[AW_IMAGE_MAX];
    size_t image_len;
    char manifest[1024];
    size_t manifest_len;
} release;

static void fresh(void)
{
    aw_setup(&w, &FOTA_TEST_CRYPTO);
    aw_power_on(&w);
    w.cfg.max_attempts = 2;
    if (!release.image_len) {
        aw_release(&w, "2.0.0", 0, 2);
        memcpy(release.image, w.image, sizeof release.image);
        memcpy(release.manifest, w.manifest, sizeof release.manifest);
        release.image_len = w.image_len;
        release.manifest_len = w.manifest_len;
    }
    memcpy(w.image, release.image, sizeof w.image);
    memcpy(w.manifest, release.manifest, sizeof w.manifest);
    w.image_len = release.image_len;
    w.manifest_len = release.manifest_len;
}

static void note(int ok, const char *what, int end, size_t at)
{
    static const char *ends[] = {"close", "stall", "reset"};
    if (!ok && failed_cases++ < 5)
        printf("  %s: %s after %u header bytes\n", what, ends[end], (unsigned)at);
}

/* The manifest's header block closed after byte k (0 .. all of it), and
 * stalled or reset after every 16th byte; the retry gets 304. */
static void test_manifest_headers_cut_at_every_byte(void)
{
    size_t n = 0;
    failed_cases = 0;
    for (int end = MEM_END_CLOSE; end <= MEM_END_RESET; end++) {
        for (size_t k = 0;; k += end == MEM_END_CLOSE ? 1 : 16) {
            fresh();
            struct mem_conn *c = aw_conn(&w, "200 OK", HEADERS, w.manifest, w.manifest_len);
            size_t hl = aw_head_len(c);
            c->cut_at = k ? k : (size_t)-1; /* 0 would mean "no cut" */
            if (k == 0)
                c->n_resp = 0; /* nothing at all */
            c->end = end;
            aw_conn(&w, "304 Not Modified", "", NULL, 0);
            int r = aw_check(&w);
            int ok = r == FOTA_NO_UPDATE && transient_failure(aw_retry_error(&w, 0)) &&
                     w.net.requests == 2 && w.slot_erases[1] + w.slot_writes[1] == 0 &&
                     aw_count_events(&w, FOTA_EV_UPDATE_AVAILABLE) == 0;
            CHECK(ok);
            note(ok, "manifest", end, k);
            n++;
            if (k == hl)
                break;
            if (k + 16 > hl && end != MEM_END_CLOSE)
                k = hl - 16; /* the last stall or reset: after the blank line */
        }
    }
    CHECK(n > 150 + 2 * 10);
    printf("  %u manifest header cuts\n", (unsigned)n);
}

/* The image's header block cut at byte k; the retry gets the whole image.
 * A short header block, and only closes (stalls and resets take the same
 * path as for the manifest): every case verifies a signature, which is
 * slow on the emulated targets. */
static void test_image_headers_cut_at_every_byte(void)
{
    size_t n = 0;
    failed_cases = 0;
    {
        int end = MEM_END_CLOSE;
        for (size_t k = 1;; k++) {
            fresh();
            aw_conn_manifest(&w);
            struct mem_conn *c =
                aw_conn(&w, "200 OK", "Connection: close\r\n", w.image, w.image_len);
            size_t hl = aw_head_len(c);
            c->cut_at = k;
            c->end = end;
            aw_conn_image(&w);
            int r = aw_check(&w);
            int ok = r == FOTA_UPDATE_READY && transient_failure(aw_retry_error(&w, 0)) &&
                     w.net.requests == 3 && aw_slot_holds(&w, 1, w.image, w.image_len);
            CHECK(ok);
            note(ok, "image", end, k);
            n++;
            if (k == hl)
                break;
        }
    }
    CHECK(n > 50);
    printf("  %u image header cuts\n", (unsigned)n);
}

static const struct test_case tests[] = {
    TEST(test_manifest_headers_cut_at_every_byte),
    TEST(test_image_headers_cut_at_every_byte),
};

int main(void)
{
    return test_main("agent_headers", tests, TEST_COUNT(tests));
}
