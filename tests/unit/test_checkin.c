/* Check-in header fields (src/checkin.c): exact bytes, the size budget
 * against the ports' default line buffers, refusal of injection. */
#include <string.h>

#include "fota/checkin.h"
#include "fota/fota.h"
#include "fota/http.h"
#include "fota/url.h"
#include "harness.h"

static const uint8_t sha[32] = {0xb4, 0xd5, 0xe0, 0x75, 0xf6, 0x3a, 0x1c, 0x7a, 0x8d, 0x6d, 0x1e,
                                0x0d, 0x43, 0x79, 0x0f, 0xe8, 0x72, 0xf9, 0x8f, 0xc7, 0xd5, 0x6d,
                                0x7f, 0xce, 0xa9, 0x69, 0xa9, 0x07, 0x8d, 0xb7, 0x26, 0x33};

/* A manifest GET as the agent formats it, into buf; returns its length. */
static int base_request(char *buf, size_t size, const char *url_text, const char *etag)
{
    struct fota_url u;
    if (fota_url_parse(url_text, &u) < 0)
        return -1;
    return fota_http_format_get(buf, size, &u, "fota/" FOTA_VERSION_STRING, 0, etag);
}

static void test_exact_bytes(void)
{
    char buf[1024];
    int n = base_request(buf, sizeof buf, "http://10.0.0.1:8080/demo/manifest.txt", "");
    CHECK(n > 0);
    struct fota_checkin c = {"240AC4123456", "demo", 1002000, 7, sha, {0}};
    fota_checkin_outcome_init(&c.last);
    fota_checkin_outcome_note(&c.last, FOTA_EV_CHECKING, 0, 0);
    fota_checkin_outcome_note(&c.last, FOTA_EV_UPDATE_AVAILABLE, 0, 2000000);
    fota_checkin_outcome_note(&c.last, FOTA_EV_FAILED, FOTA_ERR_IMAGE_HASH, 0);
    int m = fota_checkin_append(buf, sizeof buf, (size_t)n, &c);
    CHECK_EQ_INT(m, (int)strlen(buf));
    char want[512];
    snprintf(want, sizeof want,
             "GET /demo/manifest.txt HTTP/1.1\r\nHost: 10.0.0.1:8080\r\n"
             "User-Agent: fota/" FOTA_VERSION_STRING "\r\n"
             "Accept: */*\r\nAccept-Encoding: identity\r\nConnection: keep-alive\r\n"
             "Fota-Id: 240AC4123456\r\nFota-Product: demo\r\nFota-Version: 1002000\r\n"
             "Fota-Sequence: 7\r\n"
             "Fota-Image: b4d5e075f63a1c7a8d6d1e0d43790fe872f98fc7d56d7fcea969a9078db72633\r\n"
             "Fota-Last: failed %d 2000000\r\n\r\n",
             FOTA_ERR_IMAGE_HASH);
    CHECK_EQ_STR(buf, want);
}

static void test_optional_fields_omitted(void)
{
    char buf[512];
    int n = base_request(buf, sizeof buf, "http://h/p/manifest.txt", "");
    struct fota_checkin c = {NULL, "p", 5, 0, NULL, {0}};
    fota_checkin_outcome_init(&c.last);
    int m = fota_checkin_append(buf, sizeof buf, (size_t)n, &c);
    CHECK(m > n);
    CHECK(strstr(buf, "Fota-Id") == NULL);
    CHECK(strstr(buf, "Fota-Image") == NULL);
    CHECK(strstr(buf, "Fota-Last") == NULL);
    CHECK(strstr(buf, "Fota-Product: p\r\nFota-Version: 5\r\nFota-Sequence: 0\r\n\r\n") != NULL);
}

/* The outcome follows the events: a rollback names the rolled-back code, a
 * confirm the running one; progress events change nothing. */
static void test_outcome_events(void)
{
    struct fota_checkin_outcome o;
    fota_checkin_outcome_init(&o);
    CHECK_EQ_INT(o.event, FOTA_CHECKIN_NONE);
    fota_checkin_outcome_note(&o, FOTA_EV_ROLLED_BACK, 0, 2000000);
    CHECK_EQ_INT(o.event, FOTA_EV_ROLLED_BACK);
    CHECK_EQ_INT(o.version_code, 2000000);
    fota_checkin_outcome_note(&o, FOTA_EV_CHECKING, 0, 0);
    fota_checkin_outcome_note(&o, FOTA_EV_NO_UPDATE, 0, 0);
    CHECK_EQ_INT(o.event, FOTA_EV_ROLLED_BACK);
    fota_checkin_outcome_note(&o, FOTA_EV_CHECKING, 0, 0);
    fota_checkin_outcome_note(&o, FOTA_EV_FAILED, FOTA_ERR_DNS, 0);
    CHECK_EQ_INT(o.event, FOTA_EV_FAILED);
    CHECK_EQ_INT(o.error, FOTA_ERR_DNS);
    CHECK_EQ_INT(o.version_code, 0); /* no manifest was offered in that check */
    fota_checkin_outcome_note(&o, FOTA_EV_CONFIRMED, 0, 3000000);
    CHECK_EQ_INT(o.event, FOTA_EV_CONFIRMED);
    CHECK_EQ_INT(o.error, 0);
}

/* The worst case is FOTA_CHECKIN_MAX, and a typical manifest request with
 * its If-None-Match still fits the 512-byte default line buffer of the
 * ESP-IDF (CONFIG_FOTA_LINE_BUFFER_SIZE) and Arduino (FOTA_LINE_BUFFER_SIZE)
 * ports with room to spare. */
static void test_budget(void)
{
    char buf[1024];
    int n = base_request(buf, sizeof buf, "http://h/p", "");
    char id[FOTA_CHECKIN_ID_MAX + 1], product[FOTA_CHECKIN_PRODUCT_MAX + 1];
    memset(id, 'i', FOTA_CHECKIN_ID_MAX);
    id[FOTA_CHECKIN_ID_MAX] = 0;
    memset(product, 'p', FOTA_CHECKIN_PRODUCT_MAX);
    product[FOTA_CHECKIN_PRODUCT_MAX] = 0;
    struct fota_checkin c = {id, product, 4294967295u, 4294967295u, sha, {0}};
    c.last.event = FOTA_EV_ROLLED_BACK;
    c.last.error = -2147483647 - 1;
    c.last.version_code = 4294967295u;
    int m = fota_checkin_append(buf, sizeof buf, (size_t)n, &c);
    CHECK_EQ_INT(m - n, FOTA_CHECKIN_MAX);

    char line[512];
    n = base_request(line, sizeof line, "https://updates.example.com/demo-board/240AC4123456/manifest",
                     "\"b4d5e075f63a1c7a8d6d1e0d43790fe8\"");
    struct fota_checkin t = {"240AC4123456", "demo-board", 1002000, 12, sha, {0}};
    t.last.event = FOTA_EV_ROLLED_BACK;
    t.last.error = 0;
    t.last.version_code = 1003000;
    m = fota_checkin_append(line, sizeof line, (size_t)n, &t);
    CHECK(m > 0);
    printf("  typical manifest request with check-in: %d of 512 bytes\n", m);
    CHECK(m < 448); /* with Accept-Encoding: identity (27 bytes, issue 9) */
}

static void test_refusals(void)
{
    char buf[512], before[512];
    int n = base_request(buf, sizeof buf, "http://h/p/manifest.txt", "");
    memcpy(before, buf, sizeof buf);
    static const char *bad_ids[] = {"a\r\nX-Evil: 1", "a b", "", "\x80", "a;b"};
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
        struct fota_checkin c = {bad_ids[i], "p", 1, 0, NULL, {0}};
        fota_checkin_outcome_init(&c.last);
        int r = fota_checkin_append(buf, sizeof buf, (size_t)n, &c);
        /* "" means "no id": that one is fine */
        CHECK(i == 2 ? r > 0 : r == FOTA_ERR_INVALID_ARG);
        memcpy(buf, before, sizeof buf);
    }
    struct fota_checkin c = {"id", "p\r\nX: y", 1, 0, NULL, {0}};
    fota_checkin_outcome_init(&c.last);
    CHECK_EQ_INT(fota_checkin_append(buf, sizeof buf, (size_t)n, &c), FOTA_ERR_INVALID_ARG);
    /* Too small: an error, and the request is left as it was. */
    c.product = "p";
    CHECK_EQ_INT(fota_checkin_append(buf, (size_t)n + 10, (size_t)n, &c),
                 FOTA_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ_STR(buf, before);
    /* Not a complete request */
    CHECK_EQ_INT(fota_checkin_append(buf, sizeof buf, 3, &c), FOTA_ERR_INVALID_ARG);
}

static const struct test_case tests[] = {TEST(test_exact_bytes), TEST(test_optional_fields_omitted),
                                         TEST(test_outcome_events), TEST(test_budget),
                                         TEST(test_refusals)};

int main(void)
{
    return test_main("checkin", tests, TEST_COUNT(tests));
}
