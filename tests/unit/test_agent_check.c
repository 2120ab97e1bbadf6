/*
 * The agent's check, in C on the in-memory transport (tests/support/): 304,
 * ETag / If-None-Match, a newer, equal and older version, check-only, and
 * the manifest's signature and policy checks, each on a really signed
 * manifest. The requests the agent sent are asserted byte for byte where
 * they matter. Runs on the emulated targets too.
 */
#include <stdint.h>
#include <string.h>

#include "fota/fota.h"
#include "fota_crypto_backends.h"
#include "harness.h"
#include "test_agent.h"

static struct agent_world w;

static void fresh(void)
{
    CHECK_EQ_INT(aw_fresh(&w), 0);
    CHECK_EQ_INT(fota_running_state(&w.agent), FOTA_IMG_UNDEFINED);
}

static const char *request(uint32_t i)
{
    return i < w.net.requests ? w.net.request_log[i].text : "";
}

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void test_304_not_modified(void)
{
    fresh();
    aw_conn(&w, "304 Not Modified", "ETag: \"m1\"\r\n", NULL, 0);
    CHECK_EQ_INT(aw_check(&w), FOTA_NO_UPDATE);
    CHECK_EQ_INT(w.net.connects, 1);
    CHECK_EQ_INT(w.net.requests, 1);
    CHECK_EQ_STR(w.net.connect_log[0].host, "fw.example");
    CHECK_EQ_INT(w.net.connect_log[0].port, 80);
    CHECK_EQ_INT(w.net.connect_log[0].tls, 0);
    /* the manifest request carries the check-in (docs/fleet.md) */
    CHECK_EQ_STR(request(0), "GET /demo/manifest.txt HTTP/1.1\r\n"
                             "Host: fw.example\r\n"
                             "User-Agent: fota-test\r\n"
                             "Accept: */*\r\n"
                             "Accept-Encoding: identity\r\n"
                             "Connection: keep-alive\r\n"
                             "Fota-Product: demo\r\n"
                             "Fota-Version: 1000000\r\n"
                             "Fota-Sequence: 0\r\n"
                             "\r\n");
    CHECK_EQ_INT(aw_count_events(&w, FOTA_EV_CHECKING), 1);
    CHECK_EQ_INT(aw_count_events(&w, FOTA_EV_NO_UPDATE), 1);
    CHECK_EQ_INT(w.slot_erases[1] + w.slot_writes[1], 0);
    CHECK_EQ_INT(w.net.closes, 1); /* a check ends with the connection closed */
    CHECK_EQ_INT(fota_step(&w.agent), FOTA_NO_UPDATE); /* the result stays */
}

/* The ETag of a manifest that offered nothing new is sent back the next
 * time; the server's 304 then ends the check without a manifest. */
static void test_etag_then_if_none_match(void)
{
    fresh();
    aw_release(&w, "1.0.0", 0, 3);
    aw_conn(&w, "200 OK", "ETag: \"m3\"\r\n", w.manifest, w.manifest_len);
    aw_conn(&w, "304 Not Modified", "ETag: \"m3\"\r\n", NULL, 0);
    CHECK_EQ_INT(aw_check(&w), FOTA_NO_UPDATE);
    CHECK(strstr(request(0), "If-None-Match") == NULL);
    CHECK_EQ_INT(aw_check(&w), FOTA_NO_UPDATE);
    CHECK(strstr(request(1), "\r\nIf-None-Match: \"m3\"\r\n") != NULL);
    CHECK_EQ_INT(w.net.connects, 2);
    CHECK_EQ_INT(aw_count_events(&w, FOTA_EV_NO_UPDATE), 2);
    /* the sequence of the manifest seen was saved */
    CHECK_EQ_INT(fota_persist_state(&w.agent)->last_sequence, 3);
}

/* A newer version: manifest and image over one kept-alive connection,
 * downloaded into slot 1, verified, activated. */
static void test_200_newer_version_installs(void)
{
    fresh();
    aw_release(&w, "2.0.0", 1, 2);
    struct mem_conn *c = aw_conn(&w, "200 OK", "", w.manifest, w.manifest_len);
    aw_conn_add(&w, c, "200 OK", "", w.image, w.image_len);
    CHECK_EQ_INT(aw_check(&w), FOTA_UPDATE_READY);
    CHECK_EQ_INT(w.net.connects, 1);
    CHECK_EQ_INT(w.net.requests, 2);
    CHECK_EQ_INT(w.net.overreads, 0);
    CHECK_EQ_STR(request(1), "GET /demo/firmware/demo-2.0.0.bin HTTP/1.1\r\n"
                             "Host: fw.example\r\n"
                             "User-Agent: fota-test\r\n"
                             "Accept: */*\r\n"
                             "Accept-Encoding: identity\r\n"
                             "Connection: keep-alive\r\n"
                             "\r\n");
    CHECK(aw_slot_holds(&w, 1, w.image, w.image_len));
    CHECK(aw_slot_holds(&w, 0, w.old_image, w.old_len));
    CHECK_EQ_INT(w.slot_erases[0] + w.slot_writes[0], 0);
    CHECK_EQ_INT(w.slot_erases[1], (w.image_len + AW_SECTOR - 1) / AW_SECTOR);
    CHECK_EQ_INT(w.pre_update_calls, 1);
    static const int order[] = {FOTA_EV_CHECKING, FOTA_EV_UPDATE_AVAILABLE,
                                FOTA_EV_DOWNLOADING, FOTA_EV_VERIFIED, FOTA_EV_ACTIVATED};
    CHECK_EQ_INT(w.n_events, 5);
    for (size_t i = 0; i < 5 && i < w.n_events; i++)
        CHECK_EQ_INT(w.events[i].event, order[i]);
    const struct fota_manifest *m = fota_last_manifest(&w.agent);
    CHECK_EQ_STR(m->version, "2.0.0");
    CHECK_EQ_INT(m->version_code, 2000000);
    const struct fota_persist *p = fota_persist_state(&w.agent);
    CHECK_EQ_INT(p->pending_version, 2000000);
    CHECK_EQ_INT(p->pending_security, 1);
    CHECK_EQ_INT(p->pending_slot, 1);
    CHECK_EQ_INT(p->dl_size, 0);
    CHECK_EQ_INT(p->security_floor, 0); /* rises only at confirm */
    CHECK_EQ_STR(fota_transport_used(&w.agent), "wifi");
    CHECK_EQ_INT(w.boot.data.active, 1);
    CHECK_EQ_INT(w.boot.data.state[1], FOTA_IMG_NEW);
}

static void test_check_only_reports_available(void)
{
    fresh();
    w.cfg.check_only = 1;
    aw_release(&w, "2.0.0", 0, 2);
    aw_conn_manifest(&w);
    CHECK_EQ_INT(aw_check(&w), FOTA_UPDATE_AVAILABLE);
    CHECK_EQ_INT(w.net.requests, 1);
    CHECK_EQ_INT(aw_count_events(&w, FOTA_EV_UPDATE_AVAILABLE), 1);
    CHECK_EQ_INT(aw_count_events(&w, FOTA_EV_DOWNLOADING), 0);
    CHECK_EQ_INT(w.slot_erases[1] + w.slot_writes[1], 0);
    CHECK_EQ_STR(fota_last_manifest(&w.agent)->version, "2.0.0");
}

static void test_200_equal_version_is_no_update(void)
{
    fresh();
    aw_release(&w, "1.0.0", 0, 2);
    aw_conn_manifest(&w);
    CHECK_EQ_INT(aw_check(&w), FOTA_NO_UPDATE);
    CHECK_EQ_INT(w.net.requests, 1);
    CHECK_EQ_INT(aw_count_events(&w, FOTA_EV_NO_UPDATE), 1);
    CHECK_EQ_INT(w.slot_erases[1] + w.slot_writes[1], 0);
}

/* Older is refused as final: one request, no retry, no flash touched. */
static void test_200_older_version_refused(void)
{
    fresh();
    aw_release(&w, "0.9.0", 0, 2);
    aw_conn_manifest(&w);
    CHECK_EQ_INT(aw_check(&w), FOTA_ERR_NOT_NEWER);
    CHECK_EQ_INT(fota_last_error(&w.agent), FOTA_ERR_NOT_NEWER);
    CHECK(strstr(fota_last_message(&w.agent), "0.9.0") != NULL);
    CHECK_EQ_INT(w.net.connects, 1);
    CHECK_EQ_INT(aw_count_events(&w, FOTA_EV_RETRYING), 0);
    CHECK_EQ_INT(aw_count_events(&w, FOTA_EV_FAILED), 1);
    CHECK_EQ_INT(w.slot_erases[1] + w.slot_writes[1], 0);
}

/* One changed byte in the signed text: the signature fails, final. */
static void test_tampered_manifest_refused(void)
{
    fresh();
    aw_release(&w, "2.0.0", 0, 2);
    char *u = strstr(w.manifest, "url: firmware/");
    CHECK(u != NULL);
    if (u)
        u[5] = 'F';
    aw_conn_manifest(&w);
    CHECK_EQ_INT(aw_check(&w), FOTA_ERR_SIGNATURE);
    CHECK_EQ_INT(w.net.connects, 1);
    CHECK_EQ_INT(w.slot_erases[1] + w.slot_writes[1], 0);
}

static void test_untrusted_key_refused(void)
{
    fresh();
    w.image_len = aw_build_image(w.image, sizeof w.image, "2.0.0", 0, 2);
    struct test_release r;
    aw_release_fields(&r, "2.0.0", 2);
    r.other_key = 1;
    aw_release_with(&w, &r);
    aw_conn_manifest(&w);
    CHECK_EQ_INT(aw_check(&w), FOTA_ERR_UNKNOWN_KEY);
    CHECK_EQ_INT(w.net.connects, 1);
}

/* A manifest for another chip is refused before any erase. */
static void test_manifest_for_other_chip_refused(void)
{
    fresh();
    w.image_len = aw_build_image(w.image, sizeof w.image, "2.0.0", 5, 2);
    struct test_release r;
    aw_release_fields(&r, "2.0.0", 2);
    r.chip = "esp32c3";
    aw_release_with(&w, &r);
    aw_conn_manifest(&w);
    CHECK_EQ_INT(aw_check(&w), FOTA_ERR_WRONG_CHIP);
    CHECK_EQ_INT(w.net.requests, 1);
    CHECK_EQ_INT(w.slot_erases[1] + w.slot_writes[1], 0);
    CHECK_EQ_INT(w.pre_update_calls, 0);
}

static void test_other_product_refused(void)
{
    fresh();
    w.cfg.product = "other-board";
    CHECK_EQ_INT(aw_power_on(&w), 0);
    aw_release(&w, "2.0.0", 0, 2);
    aw_conn_manifest(&w);
    CHECK_EQ_INT(aw_check(&w), FOTA_ERR_WRONG_PRODUCT);
}

/* A sequence below one already seen is a replay. */
static void test_replayed_manifest_refused(void)
{
    fresh();
    aw_release(&w, "1.0.0", 0, 9);
    aw_conn_manifest(&w);
    CHECK_EQ_INT(aw_check(&w), FOTA_NO_UPDATE);
    aw_release(&w, "2.0.0", 0, 8);
    aw_conn_manifest(&w);
    CHECK_EQ_INT(aw_check(&w), FOTA_ERR_REPLAY);
    /* and the sequence seen survives a power cycle */
    CHECK_EQ_INT(aw_power_on(&w), 0);
    aw_conn_manifest(&w);
    CHECK_EQ_INT(aw_check(&w), FOTA_ERR_REPLAY);
    CHECK_EQ_INT(w.slot_erases[1] + w.slot_writes[1], 0);
}

/* An image larger than the slot is refused from the manifest alone. */
static void test_image_larger_than_slot_refused(void)
{
    fresh();
    w.image_len = aw_build_image(w.image, sizeof w.image, "2.0.0", 0, 2);
    struct test_release r;
    aw_release_fields(&r, "2.0.0", 2);
    r.size = AW_SLOT + 1;
    aw_release_with(&w, &r);
    aw_conn_manifest(&w);
    CHECK_EQ_INT(aw_check(&w), FOTA_ERR_TOO_BIG);
    CHECK_EQ_INT(w.net.requests, 1);
}

/* "{mac}" in the manifest URL becomes the device's MAC. */
static void test_mac_in_manifest_url(void)
{
    fresh();
    w.cfg.manifest_url = "http://fw.example/devices/{mac}/manifest.txt";
    w.cfg.mac = "A0B1C2D3E4F5";
    aw_conn(&w, "304 Not Modified", "", NULL, 0);
    CHECK_EQ_INT(aw_check(&w), FOTA_NO_UPDATE);
    CHECK(starts_with(request(0), "GET /devices/A0B1C2D3E4F5/manifest.txt HTTP/1.1\r\n"));
}

static const struct test_case tests[] = {
    TEST(test_304_not_modified),
    TEST(test_etag_then_if_none_match),
    TEST(test_200_newer_version_installs),
    TEST(test_check_only_reports_available),
    TEST(test_200_equal_version_is_no_update),
    TEST(test_200_older_version_refused),
    TEST(test_tampered_manifest_refused),
    TEST(test_untrusted_key_refused),
    TEST(test_manifest_for_other_chip_refused),
    TEST(test_other_product_refused),
    TEST(test_replayed_manifest_refused),
    TEST(test_image_larger_than_slot_refused),
    TEST(test_mac_in_manifest_url),
};

int main(void)
{
    return test_main("agent_check", tests, TEST_COUNT(tests));
}
