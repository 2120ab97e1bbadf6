/*
 * Redirects on the in-memory transport: relative and absolute Location,
 * another host and port (the image URL then resolves against where the
 * manifest really came from), every redirect status, the image redirected,
 * a loop and too many redirects (final), a 3xx without Location
 * (transient). Runs on the emulated targets too.
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
}

static int request_is(uint32_t i, const char *line, const char *host)
{
    if (i >= w.net.requests)
        return 0;
    const char *t = w.net.request_log[i].text;
    char want[128];
    snprintf(want, sizeof want, "\r\nHost: %s\r\n", host);
    return strncmp(t, line, strlen(line)) == 0 && strstr(t, want) != NULL;
}

static void redirect(const char *status, const char *location)
{
    char h[256];
    snprintf(h, sizeof h, "Location: %s\r\nContent-Length: 0\r\n", location);
    aw_conn(&w, status, h, NULL, 0);
}

static void test_relative_location(void)
{
    fresh();
    aw_release(&w, "1.0.0", 0, 2);
    redirect("302 Found", "/v2/manifest.txt");
    aw_conn_manifest(&w);
    CHECK_EQ_INT(aw_check(&w), FOTA_NO_UPDATE);
    CHECK_EQ_INT(w.net.requests, 2);
    CHECK(request_is(1, "GET /v2/manifest.txt HTTP/1.1\r\n", "fw.example"));
    CHECK_EQ_STR(w.net.connect_log[1].host, "fw.example");
}

/* Another host and port; the image's relative URL resolves against the
 * manifest's final URL, so it comes from the mirror too. */
static void test_absolute_location_other_host(void)
{
    fresh();
    aw_release(&w, "2.0.0", 0, 2);
    redirect("301 Moved Permanently", "http://mirror.example:8080/m/manifest.txt");
    aw_conn_manifest(&w);
    aw_conn_image(&w);
    CHECK_EQ_INT(aw_check(&w), FOTA_UPDATE_READY);
    CHECK_EQ_INT(w.net.connects, 3);
    CHECK_EQ_STR(w.net.connect_log[1].host, "mirror.example");
    CHECK_EQ_INT(w.net.connect_log[1].port, 8080);
    CHECK(request_is(1, "GET /m/manifest.txt HTTP/1.1\r\n", "mirror.example:8080"));
    CHECK(request_is(2, "GET /m/firmware/demo-2.0.0.bin HTTP/1.1\r\n", "mirror.example:8080"));
    CHECK(aw_slot_holds(&w, 1, w.image, w.image_len));
}

/* 301, 302, 303, 307 and 308 are all followed. */
static void test_every_redirect_status(void)
{
    static const char *const statuses[] = {"301 Moved Permanently", "302 Found", "303 See Other",
                                           "307 Temporary Redirect", "308 Permanent Redirect"};
    for (size_t i = 0; i < 5; i++) {
        fresh();
        aw_release(&w, "1.0.0", 0, 2);
        redirect(statuses[i], "http://b.example/x/manifest.txt");
        aw_conn_manifest(&w);
        CHECK_EQ_INT(aw_check(&w), FOTA_NO_UPDATE);
        CHECK(request_is(1, "GET /x/manifest.txt HTTP/1.1\r\n", "b.example"));
    }
}

/* The image request is redirected to a CDN. */
static void test_image_redirected(void)
{
    fresh();
    aw_release(&w, "2.0.0", 0, 2);
    aw_conn_manifest(&w);
    redirect("307 Temporary Redirect", "http://cdn.example/blobs/abc.bin?sig=1");
    aw_conn_image(&w);
    CHECK_EQ_INT(aw_check(&w), FOTA_UPDATE_READY);
    CHECK(request_is(2, "GET /blobs/abc.bin?sig=1 HTTP/1.1\r\n", "cdn.example"));
    CHECK(aw_slot_holds(&w, 1, w.image, w.image_len));
}

/* Two URLs redirecting to each other: refused after max_redirects, as a
 * final error (no retry: the loop would only repeat). */
static void test_redirect_loop_is_final(void)
{
    fresh();
    for (int i = 0; i < 8; i++)
        redirect("302 Found", i % 2 ? "/a/manifest.txt" : "/b/manifest.txt");
    CHECK_EQ_INT(aw_check(&w), FOTA_ERR_HTTP_REDIRECTS);
    CHECK_EQ_INT(w.net.requests, 6); /* the first, then 5 (the default) followed */
    CHECK_EQ_INT(aw_count_events(&w, FOTA_EV_RETRYING), 0);
    CHECK_EQ_INT(w.net.refused, 0);
}

/* Exactly max_redirects are followed; one more is refused. */
static void test_too_many_redirects(void)
{
    char loc[64];
    fresh();
    w.cfg.max_redirects = 3;
    aw_release(&w, "1.0.0", 0, 2);
    for (int i = 0; i < 3; i++) {
        snprintf(loc, sizeof loc, "http://h%d.example/manifest.txt", i);
        redirect("302 Found", loc);
    }
    aw_conn_manifest(&w);
    CHECK_EQ_INT(aw_check(&w), FOTA_NO_UPDATE);
    CHECK(request_is(3, "GET /manifest.txt HTTP/1.1\r\n", "h2.example"));

    fresh();
    w.cfg.max_redirects = 3;
    for (int i = 0; i < 4; i++) {
        snprintf(loc, sizeof loc, "http://h%d.example/manifest.txt", i);
        redirect("302 Found", loc);
    }
    CHECK_EQ_INT(aw_check(&w), FOTA_ERR_HTTP_REDIRECTS);
    CHECK_EQ_INT(w.net.requests, 4);
    CHECK(strstr(fota_last_message(&w.agent), "more than 3 redirects") != NULL);
}

/* A redirect without Location is a broken server: transient, retried. */
static void test_redirect_without_location_retried(void)
{
    fresh();
    aw_conn(&w, "302 Found", "Content-Length: 0\r\n", NULL, 0);
    aw_conn(&w, "304 Not Modified", "", NULL, 0);
    CHECK_EQ_INT(aw_check(&w), FOTA_NO_UPDATE);
    CHECK_EQ_INT(aw_count_events(&w, FOTA_EV_RETRYING), 1);
    CHECK_EQ_INT(aw_retry_error(&w, 0), FOTA_ERR_HTTP_NO_LOCATION);
}

static const struct test_case tests[] = {
    TEST(test_relative_location),
    TEST(test_absolute_location_other_host),
    TEST(test_every_redirect_status),
    TEST(test_image_redirected),
    TEST(test_redirect_loop_is_final),
    TEST(test_too_many_redirects),
    TEST(test_redirect_without_location_retried),
};

int main(void)
{
    return test_main("agent_redirect", tests, TEST_COUNT(tests));
}
