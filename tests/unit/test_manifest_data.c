/*
 * Manifest format 3: `data:` lines (data-partition images by label) beside
 * the application, parsed by src/manifest.c (docs/manifest.md, "Data
 * images"). Formats 1 and 2 may not carry them; format 3 also takes
 * artifacts. Pure C (targets too).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fota/error.h"
#include "fota/manifest.h"
#include "harness.h"
#include "test_manifest_text.h"

#define HEAD(fmt) HEAD_CHIP(fmt, "esp32")

static void test_format_3_lists_data_images(void)
{
    static const char text[] = HEAD("3")
        "data: storage 1048576 " SHA_B " firmware/demo-1.1.0.storage.bin\n"
        "artifact: compressed 404761 " SHA_C " firmware/demo-1.1.0.compressed\n"
        "data: nvs_keys.2 4096 " SHA_C " http://cdn.example/keys.bin\n" TAIL;
    int line = 0;
    CHECK_EQ_INT(parse(text, &line), 0);
    CHECK_EQ_INT(m.format, 3);
    CHECK_EQ_INT(m.n_data, 2);
    CHECK_EQ_INT(m.n_artifacts, 1);
    CHECK_EQ_STR(m.data[0].label, "storage");
    CHECK_EQ_INT(m.data[0].size, 1048576);
    CHECK_EQ_INT(m.data[0].sha256[0], 0x22);
    CHECK(memcmp(text + m.data[0].url_offset, "firmware/demo-1.1.0.storage.bin",
                 m.data[0].url_len) == 0);
    CHECK_EQ_INT(m.data[0].url_len, strlen("firmware/demo-1.1.0.storage.bin"));
    CHECK_EQ_STR(m.data[1].label, "nvs_keys.2");
    CHECK_EQ_INT(m.data[1].size, 4096);
    CHECK(memcmp(text + m.data[1].url_offset, "http://cdn.example/keys.bin",
                 m.data[1].url_len) == 0);
    CHECK_EQ_INT(m.signed_len, strlen(text) - strlen("signature: " SIG "\n"));
    /* format 3 without data lines is fine, as format 2 without artifacts */
    CHECK_EQ_INT(parse(HEAD("3") TAIL, &line), 0);
    CHECK_EQ_INT(m.n_data, 0);
}

/* An older reader never sees half a release: a data line needs format 3. */
static void test_data_needs_format_3(void)
{
    int line = 0;
    CHECK_EQ_INT(parse(HEAD("1") "data: storage 10 " SHA_B " s.bin\n" TAIL, &line),
                 FOTA_ERR_MANIFEST_PARSE);
    CHECK_EQ_INT(line, 11);
    CHECK_EQ_INT(parse(HEAD("2") "data: storage 10 " SHA_B " s.bin\n" TAIL, &line),
                 FOTA_ERR_MANIFEST_PARSE);
    CHECK_EQ_INT(line, 11);
    CHECK_EQ_INT(parse(HEAD("1") TAIL, &line), 0);
    CHECK_EQ_INT(m.n_data, 0);
}

static void test_malformed_data_lines(void)
{
    static const char *const bad[] = {
        "data: storage\n",
        "data: storage 10 " SHA_B "\n",                    /* no URL */
        "data: storage 0 " SHA_B " s.bin\n",               /* empty */
        "data: storage 010 " SHA_B " s.bin\n",             /* leading zero */
        "data: storage 10 " SHA_B " s.bin extra\n",        /* a word too many */
        "data: storage 10  " SHA_B " s.bin\n",             /* two spaces */
        "data: storage 10 " SHA_B "0 s.bin\n",             /* 65 hex digits */
        "data: storage 10 2222 s.bin\n",                   /* short hash */
        "data: storage 4294967296 " SHA_B " s.bin\n",      /* overflow */
        "data: abcdefghijklmnopq 10 " SHA_B " s.bin\n",    /* 17-character label */
        "data: sto/rage 10 " SHA_B " s.bin\n",             /* not a label character */
        "data: sto:rage 10 " SHA_B " s.bin\n",
    };
    char text[1024];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int line = 0;
        snprintf(text, sizeof text, "%s%s%s", HEAD("3"), bad[i], TAIL);
        CHECK_EQ_INT(parse(text, &line), FOTA_ERR_MANIFEST_PARSE);
        CHECK_EQ_INT(line, 11);
    }
    /* the longest label is fine */
    snprintf(text, sizeof text, "%sdata: abcdefghijklmnop 10 %s s.bin\n%s", HEAD("3"), SHA_B,
             TAIL);
    CHECK_EQ_INT(parse(text, NULL), 0);
}

static void test_data_count_and_labels(void)
{
    char text[2048];
    int line = 0;
    /* one image per partition */
    snprintf(text, sizeof text, "%sdata: fs 10 %s a\ndata: fs 20 %s b\n%s", HEAD("3"), SHA_B,
             SHA_C, TAIL);
    CHECK_EQ_INT(parse(text, &line), FOTA_ERR_MANIFEST_PARSE);
    CHECK_EQ_INT(line, 12);
    /* at most FOTA_MANIFEST_MAX_DATA */
    size_t n = (size_t)snprintf(text, sizeof text, "%s", HEAD("3"));
    for (int i = 0; i < FOTA_MANIFEST_MAX_DATA; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "data: fs%d %d %s d%d\n", i, i + 1,
                              SHA_B, i);
    snprintf(text + n, sizeof text - n, "%s", TAIL);
    CHECK_EQ_INT(parse(text, &line), 0);
    CHECK_EQ_INT(m.n_data, FOTA_MANIFEST_MAX_DATA);
    snprintf(text + n, sizeof text - n, "data: more 1 %s x\n%s", SHA_B, TAIL);
    CHECK_EQ_INT(parse(text, &line), FOTA_ERR_MANIFEST_PARSE);
    CHECK_EQ_INT(line, 11 + FOTA_MANIFEST_MAX_DATA);
}

static const struct test_case tests[] = {
    TEST(test_format_3_lists_data_images),
    TEST(test_data_needs_format_3),
    TEST(test_malformed_data_lines),
    TEST(test_data_count_and_labels),
};

int main(void)
{
    return test_main("manifest_data", tests, TEST_COUNT(tests));
}
