/*
 * The image download on the in-memory transport: a hash mismatch starts
 * over from the manifest; an image for another chip, or no ESP image at
 * all, is refused before anything is erased (the RAM flash counts the
 * slot's erases and writes); more or fewer bytes than signed are refused.
 * Runs on the emulated targets too.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fota/fota.h"
#include "fota_crypto_backends.h"
#include "harness.h"
#include "test_agent.h"

static struct agent_world w;
static uint8_t other[AW_IMAGE_MAX + 64];

static void fresh(void)
{
    CHECK_EQ_INT(aw_fresh(&w), 0);
    aw_release(&w, "2.0.0", 0, 2);
}

static int is_manifest_request(uint32_t i)
{
    return i < w.net.requests &&
           strncmp(w.net.request_log[i].text, "GET /demo/manifest.txt ", 23) == 0;
}

/* One flipped byte in transit: SHA-256 mismatch, the retry starts over
 * from the manifest, and never resumes from the bad bytes. */
static void test_hash_mismatch_starts_over(void)
{
    fresh();
    memcpy(other, w.image, w.image_len);
    other[w.image_len / 2] ^= 0x20;
    aw_conn_manifest(&w);
    aw_conn(&w, "200 OK", "Connection: close\r\n", other, w.image_len);
    aw_conn_manifest(&w);
    aw_conn_image(&w);
    CHECK_EQ_INT(aw_check(&w), FOTA_UPDATE_READY);
    CHECK_EQ_INT(aw_retry_error(&w, 0), FOTA_ERR_IMAGE_HASH);
    CHECK_EQ_INT(w.net.requests, 4);
    CHECK(is_manifest_request(0) && !is_manifest_request(1) && is_manifest_request(2));
    CHECK(strstr(w.net.request_log[3].text, "Range:") == NULL);
    CHECK(aw_slot_holds(&w, 1, w.image, w.image_len));
}

/* The hash mismatch on every attempt: the error is transient but the
 * attempts end it, and no download is left to resume. */
static void test_hash_mismatch_every_time(void)
{
    fresh();
    w.cfg.max_attempts = 2;
    memcpy(other, w.image, w.image_len);
    other[100] ^= 1;
    for (int i = 0; i < 2; i++) {
        aw_conn_manifest(&w);
        aw_conn(&w, "200 OK", "Connection: close\r\n", other, w.image_len);
    }
    CHECK_EQ_INT(aw_check(&w), FOTA_ERR_IMAGE_HASH);
    CHECK(strstr(fota_last_message(&w.agent), "SHA-256 mismatch") != NULL);
    CHECK_EQ_INT(fota_persist_state(&w.agent)->dl_size, 0);
    CHECK_EQ_INT(fota_persist_state(&w.agent)->pending_version, 0);
    CHECK_EQ_INT(w.boot.data.active, 0);
}

/* The signed manifest says ESP32 but the image header says ESP32-C3: the
 * header is checked on the first bytes, before the pre-update hook and any
 * erase. */
static void test_wrong_chip_image_refused_before_erase(void)
{
    fresh();
    size_t n = aw_build_image(other, sizeof other, "2.0.0", 5, 2);
    memcpy(w.image, other, n);
    w.image_len = n;
    struct test_release r;
    aw_release_fields(&r, "2.0.0", 2);
    aw_release_with(&w, &r);
    aw_conn_manifest(&w);
    aw_conn_image(&w);
    CHECK_EQ_INT(aw_check(&w), FOTA_ERR_IMAGE_CHIP);
    CHECK(strstr(fota_last_message(&w.agent), "ESP32-C3") != NULL);
    CHECK_EQ_INT(w.slot_erases[1], 0);
    CHECK_EQ_INT(w.slot_writes[1], 0);
    CHECK_EQ_INT(w.pre_update_calls, 0);
    CHECK_EQ_INT(w.net.connects, 2); /* final: not retried */
}

/* The header arriving one byte per read still gets checked before any
 * erase. */
static void test_wrong_chip_image_byte_by_byte(void)
{
    fresh();
    size_t n = aw_build_image(w.image, sizeof w.image, "2.0.0", 2, 2);
    w.image_len = n;
    struct test_release r;
    aw_release_fields(&r, "2.0.0", 2);
    aw_release_with(&w, &r);
    aw_conn_manifest(&w);
    struct mem_conn *c = aw_conn_image(&w);
    if (c)
        c->piece = 1;
    CHECK_EQ_INT(aw_check(&w), FOTA_ERR_IMAGE_CHIP);
    CHECK_EQ_INT(w.slot_erases[1] + w.slot_writes[1], 0);
}

static void test_not_an_esp_image_refused_before_erase(void)
{
    fresh();
    w.image[0] = 0x7F; /* not the 0xE9 magic */
    struct test_release r;
    aw_release_fields(&r, "2.0.0", 2);
    aw_release_with(&w, &r);
    aw_conn_manifest(&w);
    aw_conn_image(&w);
    CHECK_EQ_INT(aw_check(&w), FOTA_ERR_IMAGE_HEADER);
    CHECK_EQ_INT(w.slot_erases[1] + w.slot_writes[1], 0);
    CHECK_EQ_INT(w.pre_update_calls, 0);
}

/* A server announcing another length than signed: refused at the headers. */
static void test_content_length_differs_from_signed(void)
{
    fresh();
    w.cfg.max_attempts = 1;
    aw_conn_manifest(&w);
    memcpy(other, w.image, w.image_len);
    aw_conn(&w, "200 OK", "Connection: close\r\n", other, w.image_len + 16);
    CHECK_EQ_INT(aw_check(&w), FOTA_ERR_HTTP_LENGTH);
    CHECK_EQ_INT(w.slot_erases[1] + w.slot_writes[1], 0);
}

/* A body delimited by the close that goes on past the signed size: cut
 * off at the first extra byte. */
static void test_more_bytes_than_signed(void)
{
    fresh();
    w.cfg.max_attempts = 1;
    aw_conn_manifest(&w);
    memcpy(other, w.image, w.image_len);
    memset(other + w.image_len, 0x5A, 64);
    char head[] = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n";
    static uint8_t resp[sizeof head + AW_IMAGE_MAX + 64];
    memcpy(resp, head, sizeof head - 1);
    memcpy(resp + sizeof head - 1, other, w.image_len + 64);
    struct mem_conn *c = mem_add(&w.net);
    if (c)
        mem_conn_respond(c, resp, sizeof head - 1 + w.image_len + 64);
    CHECK_EQ_INT(aw_check(&w), FOTA_ERR_IMAGE_SIZE);
    CHECK_EQ_INT(w.boot.data.active, 0);
}

/* A close-delimited body that ends early. */
static void test_fewer_bytes_than_signed(void)
{
    fresh();
    w.cfg.max_attempts = 1;
    aw_conn_manifest(&w);
    char head[] = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n";
    static uint8_t resp[sizeof head + AW_IMAGE_MAX];
    memcpy(resp, head, sizeof head - 1);
    memcpy(resp + sizeof head - 1, w.image, w.image_len - 1);
    struct mem_conn *c = mem_add(&w.net);
    if (c)
        mem_conn_respond(c, resp, sizeof head - 1 + w.image_len - 1);
    CHECK_EQ_INT(aw_check(&w), FOTA_ERR_IMAGE_SIZE);
    CHECK_EQ_INT(w.boot.data.active, 0);
}

/* The same image over a chunked body, in pieces of 7 bytes. */
static void test_chunked_image_in_small_pieces(void)
{
    static uint8_t resp[AW_IMAGE_MAX + 2048];
    fresh();
    aw_conn_manifest(&w);
    int n = snprintf((char *)resp, sizeof resp,
                     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
    size_t o = (size_t)n;
    for (size_t at = 0; at < w.image_len; at += 1000) {
        size_t len = w.image_len - at < 1000 ? w.image_len - at : 1000;
        o += (size_t)snprintf((char *)resp + o, sizeof resp - o, "%lx\r\n", (unsigned long)len);
        memcpy(resp + o, w.image + at, len);
        o += len;
        memcpy(resp + o, "\r\n", 2);
        o += 2;
    }
    memcpy(resp + o, "0\r\n\r\n", 5);
    o += 5;
    struct mem_conn *c = mem_add(&w.net);
    if (c) {
        mem_conn_respond(c, resp, o);
        c->piece = 7;
    }
    CHECK_EQ_INT(aw_check(&w), FOTA_UPDATE_READY);
    CHECK(aw_slot_holds(&w, 1, w.image, w.image_len));
}

static const struct test_case tests[] = {
    TEST(test_hash_mismatch_starts_over),
    TEST(test_hash_mismatch_every_time),
    TEST(test_wrong_chip_image_refused_before_erase),
    TEST(test_wrong_chip_image_byte_by_byte),
    TEST(test_not_an_esp_image_refused_before_erase),
    TEST(test_content_length_differs_from_signed),
    TEST(test_more_bytes_than_signed),
    TEST(test_fewer_bytes_than_signed),
    TEST(test_chunked_image_in_small_pieces),
};

int main(void)
{
    return test_main("agent_image", tests, TEST_COUNT(tests));
}
