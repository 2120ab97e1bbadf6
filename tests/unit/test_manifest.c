/*
 * Manifest parser and signature check (src/manifest.c), chip names, version
 * codes and UTC times. No heap, no POSIX, no files: runs on emulated CPUs.
 *
 * The key pair and the signed manifest below were made once with
 * `fota keygen -o test` and `fota release --key test.key --product demo-board
 * --sequence 7 --security-counter 2 --expires 2030-06-30T12:00:00Z fw.bin`
 * (a `fota mkimage` image); OpenSSL verifies the same signature
 * (`openssl dgst -sha256 -verify test.pub`), so these bytes are an
 * independent reference, not just what our code produces.
 */
#include <stdint.h>
#include <string.h>

#include "fota/crypto.h"
#include "fota/error.h"
#include "fota/manifest.h"
#include "harness.h"
#include "support/test_signed_manifest.h"
#include "fota_crypto_backends.h"

#ifndef FOTA_TEST_CRYPTO
#define FOTA_TEST_CRYPTO fota_crypto_mbedtls
#endif
static const struct fota_crypto *const crypto = &FOTA_TEST_CRYPTO;

static const uint8_t test_pubkey[FOTA_P256_PUBKEY_SIZE] = FOTA_TEST_PUBKEY;

/* Another valid key (`fota keygen -o other`). */
static const uint8_t other_pubkey[FOTA_P256_PUBKEY_SIZE] = {
    0x04, 0xb3, 0x85, 0x04, 0xd0, 0xbe, 0xeb, 0x26, 0x0a, 0xef, 0xa5, 0x30, 0x11,
    0xb6, 0x4f, 0x97, 0xf4, 0x3e, 0xd1, 0x62, 0x4a, 0x7d, 0xfe, 0xa6, 0x30, 0x36,
    0xbc, 0xc2, 0x3e, 0x6b, 0xdb, 0xe3, 0xd2, 0x3a, 0xc3, 0xf2, 0xf6, 0xe0, 0xa8,
    0x7a, 0x1d, 0x69, 0xdf, 0x25, 0x90, 0x9f, 0x40, 0x79, 0x78, 0xce, 0xe5, 0x7e,
    0xe8, 0x50, 0xe4, 0x92, 0x48, 0x64, 0x69, 0x1d, 0xa3, 0xfb, 0x93, 0x47, 0x3d};

#define SIGNATURE_HEX FOTA_TEST_SIGNATURE_HEX

static const char signed_manifest[] = FOTA_TEST_SIGNED_MANIFEST;

#define SIGNED_LEN (sizeof signed_manifest - 1 - (11 + 128 + 1))

/* A manifest with the fields in the order fota release writes them; lines
 * can be replaced or dropped to build the invalid cases. */
static const char *const base_lines[] = {
    "fota-manifest: 1",
    "product: demo-board",
    "chip: esp32",
    "version: 1.2.0",
    "version-code: 1002000",
    "security-counter: 2",
    "sequence: 7",
    "size: 4096",
    "sha256: b4d5e075f63a1c7a8d6d1e0d43790fe872f98fc7d56fb7cea969a9078db72633",
    "url: firmware/demo-board-1.2.0.bin",
    "key-id: 03fca3c847ec7807",
    "signature: " SIGNATURE_HEX,
};
#define N_BASE (sizeof base_lines / sizeof base_lines[0])

static char buf[4096];

/* Build the base manifest with line `idx` replaced by `repl` (NULL: dropped;
 * idx out of range: unchanged). Returns the length. */
static size_t build(size_t idx, const char *repl)
{
    size_t n = 0;
    for (size_t i = 0; i < N_BASE; i++) {
        const char *l = i == idx ? repl : base_lines[i];
        if (!l)
            continue;
        size_t len = strlen(l);
        memcpy(buf + n, l, len);
        n += len;
        buf[n++] = '\n';
    }
    return n;
}

static int parse(const char *text, size_t len, int *line)
{
    struct fota_manifest m;
    return fota_manifest_parse(text, len, &m, line);
}

static void test_parse_signed(void)
{
    struct fota_manifest m;
    int line = -1;
    static const uint8_t sha[32] = {0xb4, 0xd5, 0xe0, 0x75, 0xf6, 0x3a, 0x1c, 0x7a,
                                    0x8d, 0x6d, 0x1e, 0x0d, 0x43, 0x79, 0x0f, 0xe8,
                                    0x72, 0xf9, 0x8f, 0xc7, 0xd5, 0x6f, 0xb7, 0xce,
                                    0xa9, 0x69, 0xa9, 0x07, 0x8d, 0xb7, 0x26, 0x33};
    static const uint8_t id[8] = {0x03, 0xfc, 0xa3, 0xc8, 0x47, 0xec, 0x78, 0x07};

    CHECK_EQ_INT(fota_manifest_parse(signed_manifest, sizeof signed_manifest - 1, &m, &line), 0);
    CHECK_EQ_INT(line, 0);
    CHECK_EQ_INT(m.format, 1);
    CHECK_EQ_STR(m.product, "demo-board");
    CHECK_EQ_INT(m.chip, FOTA_CHIP_ESP32);
    CHECK_EQ_STR(m.version, "1.2.0");
    CHECK_EQ_INT(m.version_code, 1002000);
    CHECK_EQ_INT(m.security_counter, 2);
    CHECK_EQ_INT(m.sequence, 7);
    CHECK_EQ_INT(m.size, 4096);
    CHECK_MEM(m.sha256, sha, 32);
    CHECK_EQ_STR(m.url, "firmware/demo-board-1.2.0.bin");
    CHECK_MEM(m.key_id, id, 8);
    CHECK_EQ_INT(m.expires, 1909051200); /* date -u -d 2030-06-30T12:00:00Z +%s */
    CHECK_EQ_INT(m.signature[0], 0x3c);
    CHECK_EQ_INT(m.signature[63], 0xef);
    CHECK_EQ_INT(m.signed_len, SIGNED_LEN);
    CHECK(memcmp(signed_manifest + m.signed_len, "signature: ", 11) == 0);
}

static void test_parse_minimal_and_no_final_newline(void)
{
    struct fota_manifest m;
    size_t n = build(N_BASE, NULL);
    CHECK_EQ_INT(fota_manifest_parse(buf, n, &m, NULL), 0);
    CHECK_EQ_INT(m.expires, 0);
    /* The final newline is optional; nothing else may follow the signature. */
    CHECK_EQ_INT(fota_manifest_parse(buf, n - 1, &m, NULL), 0);
    CHECK_EQ_INT(m.signed_len, n - (11 + 128 + 1));
}

static void test_every_required_field_missing(void)
{
    for (size_t i = 0; i < N_BASE; i++) {
        int line = 0;
        size_t n = build(i, NULL);
        int r = parse(buf, n, &line);
        CHECK_EQ_INT(r, FOTA_ERR_MANIFEST_PARSE);
        if (r != FOTA_ERR_MANIFEST_PARSE)
            printf("  accepted a manifest without \"%s\"\n", base_lines[i]);
        CHECK(line > 0);
    }
}

static void test_duplicate_and_unknown_keys(void)
{
    int line = 0;
    /* product twice: line 3 repeats line 2 */
    size_t n = build(2, "product: demo-board");
    CHECK_EQ_INT(parse(buf, n, &line), FOTA_ERR_MANIFEST_PARSE);
    CHECK_EQ_INT(line, 3);
    n = build(7, "sizes: 4096");
    CHECK_EQ_INT(parse(buf, n, &line), FOTA_ERR_MANIFEST_PARSE);
    CHECK_EQ_INT(line, 8);
    n = build(7, "Size: 4096"); /* keys are lower-case */
    CHECK_EQ_INT(parse(buf, n, &line), FOTA_ERR_MANIFEST_PARSE);
    n = build(0, "fota-manifest: 4"); /* 1, 2 (artifacts) and 3 (data) are known */
    CHECK_EQ_INT(parse(buf, n, &line), FOTA_ERR_MANIFEST_PARSE);
    CHECK_EQ_INT(line, 1);
    /* the format line must come first */
    n = build(0, "product: demo-board");
    CHECK_EQ_INT(parse(buf, n, &line), FOTA_ERR_MANIFEST_PARSE);
    CHECK_EQ_INT(line, 1);
}

static void test_bad_values(void)
{
    static const struct {
        size_t idx;
        const char *line;
    } bad[] = {
        {8, "sha256: B4d5e075f63a1c7a8d6d1e0d43790fe872f98fc7d56fb7cea969a9078db72633"},
        {8, "sha256: b4d5e075f63a1c7a8d6d1e0d43790fe872f98fc7d56fb7cea969a9078db7263"},
        {8, "sha256: b4d5e075f63a1c7a8d6d1e0d43790fe872f98fc7d56fb7cea969a9078db726330"},
        {8, "sha256: g4d5e075f63a1c7a8d6d1e0d43790fe872f98fc7d56fb7cea969a9078db72633"},
        {10, "key-id: 03fca3c847ec780"},
        {10, "key-id: 03fca3c847ec78070"},
        {10, "key-id: 03FCA3C847EC7807"},
        {11, "signature: 3c27"},
        {7, "size: 4294967296"},   /* u32 overflow */
        {7, "size: 99999999999"},
        {7, "size: 0"},
        {7, "size: +4096"},
        {7, "size: -1"},
        {7, "size: 04096"},        /* one spelling per value */
        {7, "size: 4096 "},
        {7, "size:  4096"},
        {7, "size:4096"},
        {7, "size: 0x1000"},
        {4, "version-code: 1002000x"},
        {5, "security-counter: "},
        {6, "sequence: 4294967296"},
        {2, "chip: esp33"},
        {2, "chip: ESP32"},        /* manifests use the canonical name */
        {2, "chip: any"},
        {0, "fota-manifest: 01"},
        {3, "version: 123456789012345678901234567890123"}, /* 33 > FOTA_MANIFEST_VERSION_MAX */
        {9, "url: firmware/a b.bin"},
        {9, "url: "},
        {1, "product: 0123456789012345678901234567890123456789012345678"}, /* 49 */
        {1, "product: demo\tboard"},
        {1, "product: d\xc3\xa9mo"},
        {3, "expires: 2030-02-30T00:00:00Z"},
        {3, "expires: 2030-06-30 12:00:00Z"},
        {3, "expires: 2030-06-30T12:00:00+00:00"},
        {3, "expires: 1970-01-01T00:00:00Z"},
        {3, "project: 012345678901234567890123456789012"}, /* 33 > esp_app_desc_t's 32 */
        {3, ""},
        {3, ": 1.2.0"},
        {3, "version"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int line = 0;
        size_t n = build(bad[i].idx, bad[i].line);
        int r = parse(buf, n, &line);
        CHECK_EQ_INT(r, FOTA_ERR_MANIFEST_PARSE);
        if (r != FOTA_ERR_MANIFEST_PARSE)
            printf("  accepted \"%s\"\n", bad[i].line);
        else
            CHECK_EQ_INT(line, (int)bad[i].idx + 1);
    }
    /* Limits that are allowed */
    size_t n = build(1, "product: 012345678901234567890123456789012345678901234567"); /* 48 */
    CHECK_EQ_INT(parse(buf, n, NULL), 0);
    n = build(6, "sequence: 4294967295");
    CHECK_EQ_INT(parse(buf, n, NULL), 0);
    n = build(5, "security-counter: 0");
    CHECK_EQ_INT(parse(buf, n, NULL), 0);
}

static void test_crlf_and_signature_position(void)
{
    int line = 0;
    size_t n = build(N_BASE, NULL);
    char *nl = memchr(buf, '\n', n);
    /* CRLF: the exact bytes are signed, so a converted file must not pass */
    memmove(nl + 1, nl, n - (size_t)(nl - buf));
    *nl = '\r';
    CHECK_EQ_INT(parse(buf, n + 1, &line), FOTA_ERR_MANIFEST_PARSE);
    CHECK_EQ_INT(line, 1);
    /* a CR at the end of a free-text value */
    n = build(1, "product: demo-board\r");
    CHECK_EQ_INT(parse(buf, n, &line), FOTA_ERR_MANIFEST_PARSE);
    CHECK_EQ_INT(line, 2);

    /* signature not last */
    n = build(N_BASE, NULL);
    memcpy(buf + n, "expires: 2030-06-30T12:00:00Z\n", 30);
    CHECK_EQ_INT(parse(buf, n + 30, &line), FOTA_ERR_MANIFEST_PARSE);
    /* an empty line after the signature */
    n = build(N_BASE, NULL);
    buf[n] = '\n';
    CHECK_EQ_INT(parse(buf, n + 1, &line), FOTA_ERR_MANIFEST_PARSE);
    /* a NUL byte inside */
    n = build(N_BASE, NULL);
    buf[20] = 0;
    CHECK_EQ_INT(parse(buf, n, &line), FOTA_ERR_MANIFEST_PARSE);
    CHECK_EQ_INT(line, 2);
    /* empty text */
    CHECK_EQ_INT(parse(buf, 0, &line), FOTA_ERR_MANIFEST_PARSE);
    CHECK_EQ_INT(line, 1);
}

static void test_verify(void)
{
    struct fota_manifest m;
    uint8_t keys[2][FOTA_P256_PUBKEY_SIZE];
    const uint8_t(*trusted)[FOTA_P256_PUBKEY_SIZE] = (const uint8_t(*)[FOTA_P256_PUBKEY_SIZE])keys;
    size_t len = sizeof signed_manifest - 1;
    uint8_t id[FOTA_KEY_ID_SIZE];

    memcpy(keys[0], other_pubkey, FOTA_P256_PUBKEY_SIZE);
    memcpy(keys[1], test_pubkey, FOTA_P256_PUBKEY_SIZE);
    CHECK_EQ_INT(fota_key_id(crypto, test_pubkey, id), 0);
    CHECK_EQ_INT(id[0], 0x03);
    CHECK_EQ_INT(id[7], 0x07);

    CHECK_EQ_INT(fota_manifest_parse(signed_manifest, len, &m, NULL), 0);
    CHECK_EQ_INT(fota_manifest_verify(&m, signed_manifest, &test_pubkey, 1, crypto), 0);
    /* found among several trusted keys */
    CHECK_EQ_INT(fota_manifest_verify(&m, signed_manifest, trusted, 2, crypto), 0);
    /* signed by a key the device does not trust */
    CHECK_EQ_INT(fota_manifest_verify(&m, signed_manifest, &other_pubkey, 1, crypto),
                 FOTA_ERR_UNKNOWN_KEY);
    CHECK_EQ_INT(fota_manifest_verify(&m, signed_manifest, trusted, 0, crypto), FOTA_ERR_UNKNOWN_KEY);

    /* every signed byte matters: change one in each line that still parses */
    static const char *const edits[][2] = {
        {"product: demo-board", "product: demo-boarc"},
        {"version-code: 1002000", "version-code: 1002001"},
        {"security-counter: 2", "security-counter: 1"},
        {"sequence: 7", "sequence: 8"},
        {"size: 4096", "size: 4097"},
        {"sha256: b4", "sha256: b5"},
        {"url: firmware/", "url: firmwarf/"},
        {"expires: 2030", "expires: 2031"},
        {"chip: esp32\n", "chip: esp33\n"}, /* does not parse: checked below */
    };
    for (size_t e = 0; e < sizeof edits / sizeof edits[0]; e++) {
        char *at;
        memcpy(buf, signed_manifest, len);
        at = strstr(buf, edits[e][0]);
        CHECK(at != NULL);
        if (!at)
            continue;
        memcpy(at, edits[e][1], strlen(edits[e][1]));
        if (fota_manifest_parse(buf, len, &m, NULL) != 0) {
            CHECK(e == sizeof edits / sizeof edits[0] - 1);
            continue;
        }
        CHECK_EQ_INT(fota_manifest_verify(&m, buf, &test_pubkey, 1, crypto), FOTA_ERR_SIGNATURE);
    }
    /* a changed signature */
    memcpy(buf, signed_manifest, len);
    buf[len - 2] = buf[len - 2] == '0' ? '1' : '0';
    CHECK_EQ_INT(fota_manifest_parse(buf, len, &m, NULL), 0);
    CHECK_EQ_INT(fota_manifest_verify(&m, buf, &test_pubkey, 1, crypto), FOTA_ERR_SIGNATURE);
    /* a key id pointing at another trusted key: that key's check fails */
    memcpy(buf, signed_manifest, len);
    CHECK_EQ_INT(fota_key_id(crypto, other_pubkey, id), 0);
    {
        static const char hexd[] = "0123456789abcdef";
        char *at = strstr(buf, "key-id: ") + 8;
        for (size_t i = 0; i < FOTA_KEY_ID_SIZE; i++) {
            at[2 * i] = hexd[id[i] >> 4];
            at[2 * i + 1] = hexd[id[i] & 15];
        }
    }
    CHECK_EQ_INT(fota_manifest_parse(buf, len, &m, NULL), 0);
    CHECK_EQ_INT(fota_manifest_verify(&m, buf, trusted, 2, crypto), FOTA_ERR_SIGNATURE);
}

static void test_version_codes(void)
{
    static const struct {
        const char *v;
        uint32_t code;
    } good[] = {
        {"2019081901", 2019081901u}, {"4294967295", 4294967295u}, {"0", 0},
        {"1.2.3", 1002003},          {"V2.0.0", 2000000},         {"1.2", 1002000},
        {"v5", 5000000},             {"999.999.999", 999999999},  {"0.0.1", 1},
    };
    /* the last row: what git describe and CI builds call versions; a code
     * from them would be a guess (issue 9) */
    static const char *const bad[] = {
        "",        "4294967296", "1.2.3.4", "1000.0.0", "1.1000.0", "x1.2.3", "1.2.3rc1",
        "1..2",    "1.",         "v",       ".1",       "1.2.3 ",   "v-1",    "qa-test-v5.0",
        "v1.2.3-rc1", "1.2.3+build.7", "10.20.30-4-gabcdef", "v5.0-4-g4532e6", "4532e6",
        "qa-test-v5.0-20220830-4-g4532e6",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        uint32_t code = 12345;
        int r = fota_version_code(good[i].v, strlen(good[i].v), &code);
        CHECK_EQ_INT(r, 0);
        CHECK_EQ_INT(code, good[i].code);
        if (r != 0 || code != good[i].code)
            printf("  version \"%s\"\n", good[i].v);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint32_t code;
        int r = fota_version_code(bad[i], strlen(bad[i]), &code);
        CHECK_EQ_INT(r, FOTA_ERR_INVALID_ARG);
        if (r != FOTA_ERR_INVALID_ARG)
            printf("  accepted version \"%s\"\n", bad[i]);
    }
    /* len bounds the string: "1.2.3" of "1.2.34" */
    uint32_t code;
    CHECK_EQ_INT(fota_version_code("1.2.34", 5, &code), 0);
    CHECK_EQ_INT(code, 1002003);
}

static void test_version_code_from_build(void)
{
    uint32_t code = 0;
    CHECK_EQ_INT(fota_version_code_from_build("Jan  1 2025", "00:00:00", &code), 0);
    CHECK_EQ_INT(code, 1735689600u);
    CHECK_EQ_INT(fota_version_code_from_build("Aug 30 2022", "14:05:09", &code), 0);
    CHECK_EQ_INT(code, 1661868309u);
    CHECK_EQ_INT(fota_version_code_from_build("Dec 31 2105", "23:59:59", &code), 0);
    CHECK_EQ_INT(code, 4291747199u);
    /* later builds get larger codes */
    uint32_t a, b;
    CHECK_EQ_INT(fota_version_code_from_build("Jun 15 2024", "09:30:00", &a), 0);
    CHECK_EQ_INT(fota_version_code_from_build("Jun 15 2024", "09:30:01", &b), 0);
    CHECK(b == a + 1);
    static const char *const bad_dates[] = {"", "Jan 1 2025", "Foo  1 2025", "Jan 32 2025",
                                            "Feb 29 2023", "Jan  1 1969", "Jan  1 2107"};
    for (size_t i = 0; i < sizeof bad_dates / sizeof bad_dates[0]; i++)
        CHECK_EQ_INT(fota_version_code_from_build(bad_dates[i], "00:00:00", &code),
                     FOTA_ERR_INVALID_ARG);
    CHECK_EQ_INT(fota_version_code_from_build("Jan  1 2025", "", &code), FOTA_ERR_INVALID_ARG);
    CHECK_EQ_INT(fota_version_code_from_build("Jan  1 2025", "24:00:00", &code),
                 FOTA_ERR_INVALID_ARG);
    CHECK_EQ_INT(fota_version_code_from_build(NULL, "00:00:00", &code), FOTA_ERR_INVALID_ARG);

    /* one rule for release, device and simulator: the number, else the build time */
    CHECK_EQ_INT(fota_app_version_code("1.2.3", "Jan  1 2025", "00:00:00", &code), 0);
    CHECK_EQ_INT(code, 1002003);
    CHECK_EQ_INT(fota_app_version_code("v5.0-4-g4532e6", "Jan  1 2025", "00:00:00", &code), 0);
    CHECK_EQ_INT(code, 1735689600u);
    CHECK_EQ_INT(fota_app_version_code("v5.0-4-g4532e6", NULL, NULL, &code), FOTA_ERR_INVALID_ARG);
    CHECK_EQ_INT(fota_app_version_code("v5.0-4-g4532e6", "", "", &code), FOTA_ERR_INVALID_ARG);
}

static void test_utc(void)
{
    static const struct {
        const char *s;
        int64_t t;
    } good[] = {
        /* expected values from `date -u -d ... +%s` */
        {"1970-01-01T00:00:00Z", 0},
        {"1970-01-01T00:00:01Z", 1},
        {"2000-02-29T12:00:00Z", 951825600},
        {"2000-03-01T00:00:00Z", 951868800},
        {"2024-12-31T23:59:59Z", 1735689599},
        {"2027-01-31T00:00:00Z", 1801353600},
        {"2038-01-19T03:14:08Z", 2147483648LL}, /* past 32-bit time_t */
        {"2100-03-01T00:00:00Z", 4107542400LL},
        {"9999-12-31T23:59:59Z", 253402300799LL},
    };
    static const char *const bad[] = {
        "1969-12-31T23:59:59Z", "2001-02-29T00:00:00Z", "2100-02-29T00:00:00Z",
        "2024-13-01T00:00:00Z", "2024-00-01T00:00:00Z", "2024-04-31T00:00:00Z",
        "2024-01-00T00:00:00Z", "2024-01-01T24:00:00Z", "2024-01-01T00:60:00Z",
        "2024-01-01T00:00:60Z", "2024-01-01T00:00:00",  "2024-01-01t00:00:00Z",
        "2024-1-01T00:00:00Z",  "2024-01-01T00:00:00.5Z", "+024-01-01T00:00:00Z",
        "2024-01-01T00:00:0xZ",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int64_t t = -1;
        CHECK_EQ_INT(fota_parse_utc(good[i].s, strlen(good[i].s), &t), 0);
        CHECK_EQ_INT(t, good[i].t);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t t;
        int r = fota_parse_utc(bad[i], strlen(bad[i]), &t);
        CHECK_EQ_INT(r, FOTA_ERR_MANIFEST_PARSE);
        if (r == 0)
            printf("  accepted time \"%s\"\n", bad[i]);
    }
}

static void test_chip_names(void)
{
    CHECK_EQ_STR(fota_chip_name(FOTA_CHIP_ESP32S2), "esp32s2");
    CHECK_EQ_STR(fota_chip_display_name(FOTA_CHIP_ESP32S2), "ESP32-S2");
    CHECK_EQ_STR(fota_chip_display_name(FOTA_CHIP_ESP32C61), "ESP32-C61");
    CHECK_EQ_STR(fota_chip_name(FOTA_CHIP_ESP8266), "esp8266");
    CHECK_EQ_STR(fota_chip_name(FOTA_CHIP_ANY), "any");
    CHECK_EQ_STR(fota_chip_name(FOTA_CHIP_COUNT), "unknown");
    CHECK_EQ_STR(fota_chip_name(-1), "unknown");
    CHECK_EQ_INT(fota_chip_from_name("ESP32-S2", 8), FOTA_CHIP_ESP32S2);
    CHECK_EQ_INT(fota_chip_from_name("esp32s2", 7), FOTA_CHIP_ESP32S2);
    CHECK_EQ_INT(fota_chip_from_name("Esp32-C3", 8), FOTA_CHIP_ESP32C3);
    CHECK_EQ_INT(fota_chip_from_name("esp32s2xyz", 7), FOTA_CHIP_ESP32S2);
    CHECK_EQ_INT(fota_chip_from_name("esp32", 5), FOTA_CHIP_ESP32);
    CHECK_EQ_INT(fota_chip_from_name("ESP8266", 7), FOTA_CHIP_ESP8266);
    CHECK_EQ_INT(fota_chip_from_name("esp32s", 6), -1);
    CHECK_EQ_INT(fota_chip_from_name("esp32-s2-extra-long-name", 24), -1);
    CHECK_EQ_INT(fota_chip_from_name("", 0), -1);
    for (int c = 0; c < FOTA_CHIP_COUNT; c++) {
        const char *n = fota_chip_name(c), *d = fota_chip_display_name(c);
        CHECK_EQ_INT(fota_chip_from_name(n, strlen(n)), c);
        CHECK_EQ_INT(fota_chip_from_name(d, strlen(d)), c);
    }
}

/* Text altered on its way to the server: the reason says what to do. */
static void test_text_problems(void)
{
    static const char lf[] = "fota-manifest: 1\nproduct: x\n";
    static const char crlf[] = "fota-manifest: 1\r\nproduct: x\r\n";
    static const char bom[] = "\xEF\xBB\xBF" "fota-manifest: 1\n";
    static const char utf16[] = "\xFF\xFE" "f";
    static const char lone_cr[] = "fota-manifest: 1\rproduct: x\n";
    CHECK(fota_manifest_text_problem(lf, sizeof lf - 1) == NULL);
    CHECK(fota_manifest_text_problem(lone_cr, sizeof lone_cr - 1) == NULL);
    CHECK(fota_manifest_text_problem(NULL, 0) == NULL);
    CHECK(strstr(fota_manifest_text_problem(crlf, sizeof crlf - 1), "CRLF line ends") != NULL);
    CHECK(strstr(fota_manifest_text_problem(crlf, sizeof crlf - 1), "binary mode") != NULL);
    CHECK(strstr(fota_manifest_text_problem(bom, sizeof bom - 1), "byte order mark") != NULL);
    CHECK(strstr(fota_manifest_text_problem(utf16, sizeof utf16 - 1), "UTF-16") != NULL);
    /* a CRLF text still fails to parse: the device never repairs signed bytes */
    struct fota_manifest m;
    int line = 0;
    CHECK_EQ_INT(fota_manifest_parse(crlf, sizeof crlf - 1, &m, &line), FOTA_ERR_MANIFEST_PARSE);
}

static const struct test_case tests[] = {
    TEST(test_parse_signed),
    TEST(test_parse_minimal_and_no_final_newline),
    TEST(test_every_required_field_missing),
    TEST(test_duplicate_and_unknown_keys),
    TEST(test_bad_values),
    TEST(test_crlf_and_signature_position),
    TEST(test_verify),
    TEST(test_version_codes),
    TEST(test_version_code_from_build),
    TEST(test_utc),
    TEST(test_chip_names),
    TEST(test_text_problems),
};

#define STR_(x) #x
#define STR(x) STR_(x)

int main(void)
{
    printf("crypto backend: %s\n", STR(FOTA_TEST_CRYPTO));
    return test_main("manifest", tests, TEST_COUNT(tests));
}
