/*
 * Manifest format 2: `artifact:` lines (compressed image, patches by base
 * image) beside the full image, parsed by src/manifest.c; format-1 manifests
 * still parse as before and may not carry artifacts. Pure C (targets too).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fota/error.h"
#include "fota/manifest.h"
#include "harness.h"
#include "test_manifest_text.h"

#define HEAD(fmt) HEAD_CHIP(fmt, "esp8266")

static void test_format_2_lists_artifacts(void)
{
    static const char text[] = HEAD("2")
        "artifact: compressed 404761 " SHA_B " firmware/demo-1.1.0.compressed\n"
        "artifact: delta 70158 " SHA_C " firmware/demo-1.1.0.from-4dc1317a65b3d9b5.patch 604872 "
        SHA_B "\n" TAIL;
    const struct fota_manifest_artifact *a;
    int line = 0;
    CHECK_EQ_INT(parse(text, &line), 0);
    CHECK_EQ_INT(m.format, 2);
    CHECK_EQ_INT(m.n_artifacts, 2);
    a = &m.artifacts[0];
    CHECK_EQ_INT(a->kind, FOTA_ARTIFACT_COMPRESSED);
    CHECK_EQ_INT(a->size, 404761);
    CHECK_EQ_INT(a->sha256[0], 0x22);
    CHECK_EQ_INT(a->base_size, 0);
    CHECK_EQ_INT(a->url_len, strlen("firmware/demo-1.1.0.compressed"));
    CHECK(memcmp(text + a->url_offset, "firmware/demo-1.1.0.compressed", a->url_len) == 0);
    a = &m.artifacts[1];
    CHECK_EQ_INT(a->kind, FOTA_ARTIFACT_DELTA);
    CHECK_EQ_INT(a->size, 70158);
    CHECK_EQ_INT(a->sha256[31], 0x33);
    CHECK_EQ_INT(a->base_size, 604872);
    CHECK_EQ_INT(a->base_sha256[0], 0x22);
    CHECK(memcmp(text + a->url_offset, "firmware/demo-1.1.0.from-4dc1317a65b3d9b5.patch",
                 a->url_len) == 0);
    /* The signed part still ends before the signature line. */
    CHECK_EQ_INT(m.signed_len, strlen(text) - strlen("signature: " SIG "\n"));
}

static void test_old_manifests_parse_unchanged(void)
{
    int line = 0;
    CHECK_EQ_INT(parse(HEAD("1") TAIL, &line), 0);
    CHECK_EQ_INT(m.format, 1);
    CHECK_EQ_INT(m.n_artifacts, 0);
    CHECK_EQ_INT(parse(HEAD("2") TAIL, &line), 0); /* format 2 without artifacts */
    CHECK_EQ_INT(m.n_artifacts, 0);
}

static void test_artifacts_need_format_2(void)
{
    int line = 0;
    CHECK_EQ_INT(parse(HEAD("1") "artifact: compressed 10 " SHA_B " a.bin\n" TAIL, &line),
                 FOTA_ERR_MANIFEST_PARSE);
    CHECK_EQ_INT(line, 11);
    CHECK_EQ_INT(parse(HEAD("4") TAIL, &line), FOTA_ERR_MANIFEST_PARSE);
    CHECK_EQ_INT(line, 1);
}

static void test_malformed_artifact_lines(void)
{
    static const char *const bad[] = {
        "artifact: compressed\n",
        "artifact: compressed 10 " SHA_B "\n",                       /* no URL */
        "artifact: compressed 0 " SHA_B " a.bin\n",                  /* empty */
        "artifact: compressed 010 " SHA_B " a.bin\n",                /* leading zero */
        "artifact: compressed 10 " SHA_B " a.bin extra\n",           /* a word too many */
        "artifact: compressed 10  " SHA_B " a.bin\n",                /* two spaces */
        "artifact: compressed 10 " SHA_B "0 a.bin\n",                /* 65 hex digits */
        "artifact: full 10 " SHA_B " a.bin\n",                       /* unknown kind */
        "artifact: Compressed 10 " SHA_B " a.bin\n",                 /* one spelling */
        "artifact: delta 10 " SHA_B " a.patch\n",                    /* no base */
        "artifact: delta 10 " SHA_B " a.patch 0 " SHA_C "\n",        /* empty base */
        "artifact: delta 10 " SHA_B " a.patch 99 " SHA_C " x\n",     /* a word too many */
        "artifact: delta 10 " SHA_B " a.patch 99 3333\n",            /* short base hash */
        "artifact: delta 10 " SHA_B " a.patch 4294967296 " SHA_C "\n", /* overflow */
    };
    char text[1024];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int line = 0;
        snprintf(text, sizeof text, "%s%s%s", HEAD("2"), bad[i], TAIL);
        CHECK_EQ_INT(parse(text, &line), FOTA_ERR_MANIFEST_PARSE);
        CHECK_EQ_INT(line, 11);
    }
}

static void test_artifact_count_is_bounded(void)
{
    char text[2048];
    size_t n = (size_t)snprintf(text, sizeof text, "%s", HEAD("2"));
    int line = 0;
    for (int i = 0; i < FOTA_MANIFEST_MAX_ARTIFACTS; i++)
        n += (size_t)snprintf(text + n, sizeof text - n,
                              "artifact: delta %d " SHA_B " p%d 100 " SHA_C "\n", i + 1, i);
    snprintf(text + n, sizeof text - n, "%s", TAIL);
    CHECK_EQ_INT(parse(text, &line), 0);
    CHECK_EQ_INT(m.n_artifacts, FOTA_MANIFEST_MAX_ARTIFACTS);
    snprintf(text + n, sizeof text - n, "artifact: compressed 1 " SHA_B " c\n%s", TAIL);
    CHECK_EQ_INT(parse(text, &line), FOTA_ERR_MANIFEST_PARSE);
    CHECK_EQ_INT(line, 11 + FOTA_MANIFEST_MAX_ARTIFACTS);
}

static const struct test_case tests[] = {
    TEST(test_format_2_lists_artifacts),
    TEST(test_old_manifests_parse_unchanged),
    TEST(test_artifacts_need_format_2),
    TEST(test_malformed_artifact_lines),
    TEST(test_artifact_count_is_bounded),
};

int main(void)
{
    return test_main("manifest_artifacts", tests, TEST_COUNT(tests));
}
