/*
 * The signed release manifest: strict parser and signature check.
 * Format: docs/manifest.md. The exact bytes are signed, so the parser accepts
 * one spelling only (no CR, no extra spaces, no leading zeros, lower-case hex)
 * and rejects anything it does not understand.
 *
 * Why one file of ~570 lines: everything here is the syntax of one signed
 * document and its values (chip names, version codes, UTC times, artifact
 * lines) and the check of its signature; the tools and the agent use these
 * parsers only through the manifest's rules.
 */
#include "fota/manifest.h"

#include <string.h>

#include "fota/error.h"
#include "internal/text.h"

/* ---- Chips ---------------------------------------------------------------- */

/* Fixed-width rows rather than pointers to strings: less flash. A longer
 * name is a compile error; one exactly as long as a row would lose its NUL,
 * which test_manifest's round trip over every chip catches. */
static const char chip_names[FOTA_CHIP_COUNT][sizeof "esp32c61"] = {
    [FOTA_CHIP_ANY] = "any",          [FOTA_CHIP_ESP8266] = "esp8266",
    [FOTA_CHIP_ESP32] = "esp32",      [FOTA_CHIP_ESP32S2] = "esp32s2",
    [FOTA_CHIP_ESP32S3] = "esp32s3",  [FOTA_CHIP_ESP32C2] = "esp32c2",
    [FOTA_CHIP_ESP32C3] = "esp32c3",  [FOTA_CHIP_ESP32C5] = "esp32c5",
    [FOTA_CHIP_ESP32C6] = "esp32c6",  [FOTA_CHIP_ESP32C61] = "esp32c61",
    [FOTA_CHIP_ESP32H2] = "esp32h2",  [FOTA_CHIP_ESP32P4] = "esp32p4",
    [FOTA_CHIP_ESP32H4] = "esp32h4",  [FOTA_CHIP_ESP32H21] = "esp32h21",
    [FOTA_CHIP_ESP32E22] = "esp32e22", [FOTA_CHIP_ESP32S31] = "esp32s31",
};

static const char chip_display_names[FOTA_CHIP_COUNT][sizeof "ESP32-C61"] = {
    [FOTA_CHIP_ANY] = "any",           [FOTA_CHIP_ESP8266] = "ESP8266",
    [FOTA_CHIP_ESP32] = "ESP32",       [FOTA_CHIP_ESP32S2] = "ESP32-S2",
    [FOTA_CHIP_ESP32S3] = "ESP32-S3",  [FOTA_CHIP_ESP32C2] = "ESP32-C2",
    [FOTA_CHIP_ESP32C3] = "ESP32-C3",  [FOTA_CHIP_ESP32C5] = "ESP32-C5",
    [FOTA_CHIP_ESP32C6] = "ESP32-C6",  [FOTA_CHIP_ESP32C61] = "ESP32-C61",
    [FOTA_CHIP_ESP32H2] = "ESP32-H2",  [FOTA_CHIP_ESP32P4] = "ESP32-P4",
    [FOTA_CHIP_ESP32H4] = "ESP32-H4",  [FOTA_CHIP_ESP32H21] = "ESP32-H21",
    [FOTA_CHIP_ESP32E22] = "ESP32-E22", [FOTA_CHIP_ESP32S31] = "ESP32-S31",
};

const char *fota_chip_name(int chip)
{
    return chip >= 0 && chip < FOTA_CHIP_COUNT ? chip_names[chip] : "unknown";
}

const char *fota_chip_display_name(int chip)
{
    return chip >= 0 && chip < FOTA_CHIP_COUNT ? chip_display_names[chip] : "unknown";
}

static int str_eq(const char *a, const char *b)
{
    size_t n = strlen(a);
    return n == strlen(b) && memcmp(a, b, n) == 0;
}

int fota_chip_from_name(const char *name, size_t len)
{
    char norm[16];
    size_t n = 0;
    if (!name)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (name[i] == '-')
            continue;
        if (n + 1 >= sizeof norm)
            return -1;
        norm[n++] = ascii_lower(name[i]);
    }
    norm[n] = 0;
    for (int c = 0; c < FOTA_CHIP_COUNT; c++)
        if (str_eq(norm, chip_names[c]))
            return c;
    return -1;
}

/* ---- Small parsers -------------------------------------------------------- */

/* Decimal u32: digits only, no sign, no leading zero (one spelling per value). */
static int parse_u32(const char *s, size_t len, uint32_t *out)
{
    uint32_t v = 0;
    if (len == 0 || len > 10 || (len > 1 && s[0] == '0'))
        return -1;
    for (size_t i = 0; i < len; i++) {
        uint32_t d;
        if (s[i] < '0' || s[i] > '9')
            return -1;
        d = (uint32_t)(s[i] - '0');
        if (v > (UINT32_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* Lower-case hex of exactly 2*n digits into out[0..n). */
static int parse_hex(const char *s, size_t len, uint8_t *out, size_t n)
{
    if (len != 2 * n)
        return -1;
    for (size_t i = 0; i < len; i++) {
        int d;
        if (s[i] >= '0' && s[i] <= '9')
            d = s[i] - '0';
        else if (s[i] >= 'a' && s[i] <= 'f')
            d = s[i] - 'a' + 10;
        else
            return -1;
        if (i % 2 == 0)
            out[i / 2] = (uint8_t)(d << 4);
        else
            out[i / 2] = (uint8_t)(out[i / 2] | d);
    }
    return 0;
}

/* Copy a printable-ASCII value of 1..max bytes and NUL-terminate it. */
static int copy_text(const char *s, size_t len, char *out, size_t max)
{
    if (len == 0 || len > max)
        return -1;
    memcpy(out, s, len);
    out[len] = 0;
    return 0;
}

static int is_leap(int32_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int fota_parse_utc(const char *s, size_t len, int64_t *out)
{
    static const uint8_t mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    /* 'd' a digit; the digit runs are year, month, day, hour, minute, second */
    static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
    int32_t v[6] = {0}, dim, yy, era, yoe, doy, doe, days;
    size_t k = 0;

    if (!s || !out || len != sizeof shape - 1)
        return FOTA_ERR_MANIFEST_PARSE;
    for (size_t i = 0; i < len; i++) {
        if (shape[i] != 'd') {
            if (s[i] != shape[i])
                return FOTA_ERR_MANIFEST_PARSE;
            k++;
        } else if (s[i] < '0' || s[i] > '9') {
            return FOTA_ERR_MANIFEST_PARSE;
        } else {
            v[k] = v[k] * 10 + (s[i] - '0');
        }
    }
    int32_t y = v[0], mo = v[1], d = v[2], h = v[3], mi = v[4], sec = v[5];
    if (y < 1970 || mo < 1 || mo > 12 || h > 23 || mi > 59 || sec > 59)
        return FOTA_ERR_MANIFEST_PARSE;
    dim = mdays[mo - 1] + (mo == 2 && is_leap(y) ? 1 : 0);
    if (d < 1 || d > dim)
        return FOTA_ERR_MANIFEST_PARSE;

    /* Days since 1970-01-01 of a proleptic Gregorian date (eras of 400 years,
     * years starting in March so the leap day is last). */
    yy = mo <= 2 ? y - 1 : y;
    era = yy / 400;
    yoe = yy - era * 400;
    doy = (153 * (mo > 2 ? mo - 3 : mo + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    days = era * 146097 + doe - 719468; /* 0 .. 2932896 for years 1970 .. 9999 */
    /* days * 86400 as (days * 675) << 7: the product fits 32 bits, so no
     * 64-bit multiply from libgcc (the lx106 has none in hardware) */
    *out = (int64_t)((uint64_t)((uint32_t)days * 675u) << 7) + h * 3600 + mi * 60 + sec;
    return 0;
}

int fota_version_code(const char *version, size_t len, uint32_t *code)
{
    uint32_t part[3] = {0, 0, 0};
    size_t i = 0, nparts = 0;
    int all_digits = len > 0;

    if (!version || !code)
        return FOTA_ERR_INVALID_ARG;
    for (size_t k = 0; k < len; k++)
        if (version[k] < '0' || version[k] > '9')
            all_digits = 0;
    if (all_digits) { /* a build number such as 2019081901 */
        uint32_t v = 0;
        for (size_t k = 0; k < len; k++) {
            uint32_t d = (uint32_t)(version[k] - '0');
            if (v > (UINT32_MAX - d) / 10)
                return FOTA_ERR_INVALID_ARG;
            v = v * 10 + d;
        }
        *code = v;
        return 0;
    }

    /* [v]MAJOR[.MINOR[.PATCH]], each part 0..999, so the code (at most
     * 999999999) fits a u32. A suffix is refused, not dropped: "1.2.3-rc1"
     * and "1.2.3", or two `git describe` builds "v5.0-4-g4532e6" and
     * "v5.0-7-gd01f2a", would get one code, and a device could not tell
     * which is newer, or would re-install one over the other. */
    if (i < len && (version[i] == 'v' || version[i] == 'V'))
        i++;
    while (nparts < 3) {
        size_t start = i;
        uint32_t v = 0;
        while (i < len && version[i] >= '0' && version[i] <= '9' && i - start < 3)
            v = v * 10 + (uint32_t)(version[i++] - '0');
        if (i == start || (i < len && version[i] >= '0' && version[i] <= '9'))
            return FOTA_ERR_INVALID_ARG; /* empty part or more than 3 digits */
        part[nparts++] = v;
        if (i < len && version[i] == '.' && nparts < 3) {
            i++;
            continue;
        }
        break;
    }
    if (i < len)
        return FOTA_ERR_INVALID_ARG;
    *code = part[0] * 1000000u + part[1] * 1000u + part[2];
    return 0;
}

int fota_app_version_code(const char *version, const char *date, const char *time,
                          uint32_t *code)
{
    if (!version || !code)
        return FOTA_ERR_INVALID_ARG;
    if (fota_version_code(version, strlen(version), code) == 0)
        return 0;
    if (date && time)
        return fota_version_code_from_build(date, time, code);
    return FOTA_ERR_INVALID_ARG;
}

int fota_version_code_from_build(const char *date, const char *time, uint32_t *code)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    char utc[21];
    int64_t t;
    size_t m;

    if (!date || !time || !code)
        return FOTA_ERR_INVALID_ARG;
    /* __DATE__ "Mmm dd yyyy" (day space-padded), __TIME__ "hh:mm:ss" */
    if (strlen(date) != 11 || date[3] != ' ' || date[6] != ' ' || strlen(time) != 8)
        return FOTA_ERR_INVALID_ARG;
    for (m = 0; m < 12; m++)
        if (memcmp(date, months + 3 * m, 3) == 0)
            break;
    if (m == 12)
        return FOTA_ERR_INVALID_ARG;
    memcpy(utc, date + 7, 4);
    utc[4] = '-';
    utc[5] = (char)('0' + (m + 1) / 10);
    utc[6] = (char)('0' + (m + 1) % 10);
    utc[7] = '-';
    utc[8] = date[4] == ' ' ? '0' : date[4];
    utc[9] = date[5];
    utc[10] = 'T';
    memcpy(utc + 11, time, 8);
    utc[19] = 'Z';
    utc[20] = 0;
    if (fota_parse_utc(utc, 20, &t) != 0 || t <= 0 || t > (int64_t)UINT32_MAX)
        return FOTA_ERR_INVALID_ARG;
    *code = (uint32_t)t;
    return 0;
}

/* ---- Manifest ------------------------------------------------------------- */

enum field {
    F_FORMAT,
    F_PRODUCT,
    F_CHIP,
    F_VERSION,
    F_VERSION_CODE,
    F_SECURITY_COUNTER,
    F_SEQUENCE,
    F_SIZE,
    F_SHA256,
    F_URL,
    F_KEY_ID,
    F_SIGNATURE,
    F_EXPIRES,
    F_PROJECT,
    F_ARTIFACT,
    F_DATA,
    F_COUNT
};

#define REQUIRED_FIELDS ((1u << (F_SIGNATURE + 1)) - 1u)
#define PROJECT_MAX 32 /* esp_app_desc_t project_name without its NUL */

static const char *const field_names[F_COUNT] = {
    [F_FORMAT] = "fota-manifest",
    [F_PRODUCT] = "product",
    [F_CHIP] = "chip",
    [F_VERSION] = "version",
    [F_VERSION_CODE] = "version-code",
    [F_SECURITY_COUNTER] = "security-counter",
    [F_SEQUENCE] = "sequence",
    [F_SIZE] = "size",
    [F_SHA256] = "sha256",
    [F_URL] = "url",
    [F_KEY_ID] = "key-id",
    [F_SIGNATURE] = "signature",
    [F_EXPIRES] = "expires",
    [F_PROJECT] = "project",
    [F_ARTIFACT] = "artifact",
    [F_DATA] = "data",
};

static int field_from_key(const char *k, size_t len)
{
    for (int f = 0; f < F_COUNT; f++)
        if (strlen(field_names[f]) == len && memcmp(field_names[f], k, len) == 0)
            return f;
    return -1;
}

/* One space-separated word of an artifact line: [*pos, end of word). */
static size_t next_word(const char *v, size_t len, size_t *pos)
{
    size_t start = *pos, n = 0;
    while (start + n < len && v[start + n] != ' ')
        n++;
    *pos = start + n + (start + n < len ? 1 : 0);
    return n;
}

/* "SIZE SHA256 URL" of a file an artifact or data line names, from *pos on:
 * a size > 0, 64 hex digits, and where the URL is in the manifest text. */
static int parse_file_words(const char *v, size_t len, size_t text_off, size_t *pos,
                            uint32_t *size, uint8_t sha256[32], uint16_t *url_offset,
                            uint16_t *url_len)
{
    const char *w = v + *pos;
    size_t n = next_word(v, len, pos), url_at;
    if (parse_u32(w, n, size) || *size == 0)
        return -1;
    w = v + *pos;
    n = next_word(v, len, pos);
    if (parse_hex(w, n, sha256, 32))
        return -1;
    url_at = *pos;
    n = next_word(v, len, pos);
    if (n == 0 || n > FOTA_MANIFEST_URL_MAX || text_off + url_at > UINT16_MAX)
        return -1;
    *url_offset = (uint16_t)(text_off + url_at);
    *url_len = (uint16_t)n;
    return 0;
}

/* "compressed SIZE SHA256 URL" or "delta SIZE SHA256 URL BASE-SIZE BASE-SHA256"
 * (docs/manifest.md, "Artifacts"). `text_off` is where the value starts in
 * the manifest text, for the URL's offset. */
static int parse_artifact(const char *v, size_t len, size_t text_off, struct fota_manifest *m)
{
    struct fota_manifest_artifact *a;
    size_t pos = 0, n;
    const char *w;

    if (m->n_artifacts == FOTA_MANIFEST_MAX_ARTIFACTS)
        return -1;
    a = &m->artifacts[m->n_artifacts];
    memset(a, 0, sizeof *a);
    w = v + pos;
    n = next_word(v, len, &pos);
    if (n == 10 && memcmp(w, "compressed", 10) == 0)
        a->kind = FOTA_ARTIFACT_COMPRESSED;
    else if (n == 5 && memcmp(w, "delta", 5) == 0)
        a->kind = FOTA_ARTIFACT_DELTA;
    else
        return -1;
    if (parse_file_words(v, len, text_off, &pos, &a->size, a->sha256, &a->url_offset,
                         &a->url_len))
        return -1;
    if (a->kind == FOTA_ARTIFACT_DELTA) {
        w = v + pos;
        n = next_word(v, len, &pos);
        if (parse_u32(w, n, &a->base_size) || a->base_size == 0)
            return -1;
        w = v + pos;
        n = next_word(v, len, &pos);
        if (parse_hex(w, n, a->base_sha256, sizeof a->base_sha256))
            return -1;
    }
    if (pos != len || v[len - 1] == ' ')
        return -1; /* nothing after the last word, single spaces between */
    m->n_artifacts++;
    return 0;
}

/* A partition label: 1..16 of a-z A-Z 0-9 _ - . (what ESP-IDF's partition
 * tables and the Arduino cores use). */
static int parse_label(const char *s, size_t len, char *out)
{
    if (len == 0 || len > FOTA_DATA_LABEL_MAX)
        return -1;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return -1;
    }
    memcpy(out, s, len);
    out[len] = 0;
    return 0;
}

/* "LABEL SIZE SHA256 URL" (docs/manifest.md, "Data images"); one line per
 * partition. */
static int parse_data(const char *v, size_t len, size_t text_off, struct fota_manifest *m)
{
    struct fota_manifest_data *d;
    size_t pos = 0, n;
    const char *w;

    if (m->n_data == FOTA_MANIFEST_MAX_DATA)
        return -1;
    d = &m->data[m->n_data];
    memset(d, 0, sizeof *d);
    w = v + pos;
    n = next_word(v, len, &pos);
    if (parse_label(w, n, d->label))
        return -1;
    for (unsigned i = 0; i < m->n_data; i++)
        if (str_eq(m->data[i].label, d->label))
            return -1; /* one image per partition */
    if (parse_file_words(v, len, text_off, &pos, &d->size, d->sha256, &d->url_offset,
                         &d->url_len))
        return -1;
    if (pos != len || v[len - 1] == ' ')
        return -1;
    m->n_data++;
    return 0;
}

static int parse_value(int field, const char *v, size_t len, struct fota_manifest *m)
{
    char chip[16];
    int c;

    switch (field) {
    case F_FORMAT:
        return parse_u32(v, len, &m->format) || m->format < FOTA_MANIFEST_FORMAT ||
                       m->format > FOTA_MANIFEST_FORMAT_DATA
                   ? -1
                   : 0;
    case F_PRODUCT:
        return copy_text(v, len, m->product, FOTA_MANIFEST_PRODUCT_MAX);
    case F_CHIP:
        /* Only the canonical name, and a real chip: "any" is for tests. */
        if (copy_text(v, len, chip, sizeof chip - 1))
            return -1;
        c = fota_chip_from_name(v, len);
        if (c <= FOTA_CHIP_ANY || !str_eq(chip, chip_names[c]))
            return -1;
        m->chip = c;
        return 0;
    case F_VERSION:
        return copy_text(v, len, m->version, FOTA_MANIFEST_VERSION_MAX);
    case F_VERSION_CODE:
        return parse_u32(v, len, &m->version_code);
    case F_SECURITY_COUNTER:
        return parse_u32(v, len, &m->security_counter);
    case F_SEQUENCE:
        return parse_u32(v, len, &m->sequence);
    case F_SIZE:
        return parse_u32(v, len, &m->size) || m->size == 0 ? -1 : 0;
    case F_SHA256:
        return parse_hex(v, len, m->sha256, sizeof m->sha256);
    case F_URL:
        for (size_t i = 0; i < len; i++)
            if (v[i] == ' ')
                return -1;
        return copy_text(v, len, m->url, FOTA_MANIFEST_URL_MAX);
    case F_KEY_ID:
        return parse_hex(v, len, m->key_id, sizeof m->key_id);
    case F_SIGNATURE:
        return parse_hex(v, len, m->signature, sizeof m->signature);
    case F_EXPIRES:
        /* 0 means "never", so a manifest cannot expire at the epoch itself. */
        return fota_parse_utc(v, len, &m->expires) || m->expires <= 0 ? -1 : 0;
    case F_PROJECT:
        return len == 0 || len > PROJECT_MAX ? -1 : 0; /* informational only */
    default:
        return -1;
    }
}

int fota_manifest_parse(const char *text, size_t len, struct fota_manifest *out, int *err_line)
{
    uint32_t seen = 0;
    size_t pos = 0;
    int line = 0;

    if (err_line)
        *err_line = 0;
    if (!text || !out)
        return FOTA_ERR_INVALID_ARG;
    memset(out, 0, sizeof *out);

    while (pos < len) {
        size_t start = pos, end, colon = 0, vstart;
        int field, have_colon = 0;

        line++;
        /* One line: printable ASCII up to '\n' (or the end of the text). */
        for (end = start; end < len && text[end] != '\n'; end++) {
            unsigned char ch = (unsigned char)text[end];
            if (ch < 0x20 || ch > 0x7e)
                goto fail; /* CR, tab, NUL, UTF-8, ... */
            if (ch == ':' && !have_colon) {
                have_colon = 1;
                colon = end;
            }
        }
        pos = end < len ? end + 1 : end;

        /* key: lower-case letters, digits and '-'; then ": " and a value
         * that neither starts nor ends with a space. */
        if (!have_colon || colon == start || colon + 2 > end || text[colon + 1] != ' ')
            goto fail;
        for (size_t i = start; i < colon; i++) {
            char ch = text[i];
            if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-'))
                goto fail;
        }
        vstart = colon + 2;
        if (vstart == end || text[vstart] == ' ' || text[end - 1] == ' ')
            goto fail;

        field = field_from_key(text + start, colon - start);
        if (field < 0 || (seen & (1u << field) && field != F_ARTIFACT && field != F_DATA))
            goto fail; /* unknown or duplicate key */
        if ((line == 1) != (field == F_FORMAT))
            goto fail; /* the format line comes first, so a reader knows the rules */
        if (field == F_ARTIFACT) {
            /* format 2 and up: a format-1 reader would refuse the line */
            if (out->format < FOTA_MANIFEST_FORMAT_ARTIFACTS ||
                parse_artifact(text + vstart, end - vstart, vstart, out) != 0)
                goto fail;
        } else if (field == F_DATA) {
            /* format 3 only: a device that cannot install data images
             * refuses the whole release at line 1, never half of it */
            if (out->format != FOTA_MANIFEST_FORMAT_DATA ||
                parse_data(text + vstart, end - vstart, vstart, out) != 0)
                goto fail;
        } else if (parse_value(field, text + vstart, end - vstart, out) != 0) {
            goto fail;
        }
        seen |= 1u << field;

        if (field == F_SIGNATURE) {
            if (pos != len)
                goto fail; /* nothing may follow the signature line */
            out->signed_len = start;
        }
    }
    if ((seen & REQUIRED_FIELDS) != REQUIRED_FIELDS) {
        line++; /* the problem is at the end of the text */
        goto fail;
    }
    return 0;

fail:
    if (err_line)
        *err_line = line > 0 ? line : 1;
    return FOTA_ERR_MANIFEST_PARSE;
}

const char *fota_manifest_text_problem(const char *text, size_t len)
{
    if (!text)
        return NULL;
    if (len >= 3 && (uint8_t)text[0] == 0xEF && (uint8_t)text[1] == 0xBB && (uint8_t)text[2] == 0xBF)
        return "starts with a byte order mark (an editor added it): upload the file fota "
               "release wrote, unchanged, in binary mode";
    if (len >= 2 && (((uint8_t)text[0] == 0xFF && (uint8_t)text[1] == 0xFE) ||
                     ((uint8_t)text[0] == 0xFE && (uint8_t)text[1] == 0xFF)))
        return "is UTF-16 (an editor re-encoded it): upload the file fota release wrote, "
               "unchanged, in binary mode";
    for (size_t i = 0; i + 1 < len; i++)
        if (text[i] == '\r' && text[i + 1] == '\n')
            return "has CRLF line ends (an FTP upload in ASCII mode?): upload the file fota "
                   "release wrote in binary mode";
    return NULL;
}

int fota_key_id(const struct fota_crypto *c, const uint8_t pubkey[FOTA_P256_PUBKEY_SIZE],
                uint8_t out[FOTA_KEY_ID_SIZE])
{
    uint8_t hash[32];
    int r;
    if (!c || !pubkey || !out)
        return FOTA_ERR_INVALID_ARG;
    r = fota_sha256_digest(c, pubkey, FOTA_P256_PUBKEY_SIZE, hash);
    if (r != 0)
        return r;
    memcpy(out, hash, FOTA_KEY_ID_SIZE);
    return 0;
}

int fota_manifest_verify(const struct fota_manifest *m, const char *text,
                         const uint8_t (*pubkeys)[FOTA_P256_PUBKEY_SIZE], size_t n_keys,
                         const struct fota_crypto *crypto)
{
    uint8_t id[FOTA_KEY_ID_SIZE], hash[32];
    int r;

    if (!m || !text || !crypto || (n_keys && !pubkeys) || m->signed_len == 0)
        return FOTA_ERR_INVALID_ARG;
    for (size_t k = 0; k < n_keys; k++) {
        r = fota_key_id(crypto, pubkeys[k], id);
        if (r != 0)
            return r;
        if (memcmp(id, m->key_id, sizeof id) != 0)
            continue;
        r = fota_sha256_digest(crypto, text, m->signed_len, hash);
        if (r != 0)
            return r;
        return crypto->p256_verify(crypto->ctx, pubkeys[k], hash, m->signature);
    }
    return FOTA_ERR_UNKNOWN_KEY;
}
