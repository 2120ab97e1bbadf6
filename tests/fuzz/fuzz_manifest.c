/*
 * libFuzzer target: the release manifest parser (src/manifest.c) and its
 * helpers for versions, dates and chip names.
 *
 * Checks: a parsed manifest has NUL-terminated strings within their fields,
 * a signed length inside the text that ends at a line start, a known chip, a
 * non-zero size; artifacts and data images only in their formats, bounded,
 * with URLs inside the signed text; the error line of a failure is within the text (+1 for
 * "missing field at the end").
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fota/error.h"
#include "fota/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c)                                                                         \
    do {                                                                                   \
        if (!(c))                                                                          \
            abort();                                                                       \
    } while (0)

static int count_lines(const char *t, size_t n)
{
    int lines = 1;
    for (size_t i = 0; i < n; i++)
        if (t[i] == '\n')
            lines++;
    return lines;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct fota_manifest m;
    int line = -1, r;
    uint32_t code;
    int64_t t;

    r = fota_manifest_parse(text, size, &m, &line);
    if (r == 0) {
        REQUIRE(line == 0);
        REQUIRE(m.format >= FOTA_MANIFEST_FORMAT && m.format <= FOTA_MANIFEST_FORMAT_DATA);
        /* artifacts: format 2 and up, bounded, each URL inside the signed text */
        REQUIRE(m.n_artifacts <= FOTA_MANIFEST_MAX_ARTIFACTS);
        REQUIRE(m.format >= FOTA_MANIFEST_FORMAT_ARTIFACTS || m.n_artifacts == 0);
        /* data images: format 3 only, bounded, one per label, a label of
         * label characters, each URL inside the signed text */
        REQUIRE(m.n_data <= FOTA_MANIFEST_MAX_DATA);
        REQUIRE(m.format == FOTA_MANIFEST_FORMAT_DATA || m.n_data == 0);
        for (unsigned i = 0; i < m.n_data; i++) {
            const struct fota_manifest_data *d = &m.data[i];
            REQUIRE(memchr(d->label, 0, sizeof d->label) != NULL);
            size_t n = strlen(d->label);
            REQUIRE(n > 0 && n <= FOTA_DATA_LABEL_MAX);
            REQUIRE(strspn(d->label, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                     "0123456789_-.") == n);
            for (unsigned k = 0; k < i; k++)
                REQUIRE(strcmp(m.data[k].label, d->label) != 0);
            REQUIRE(d->size > 0 && d->url_len > 0);
            REQUIRE((size_t)d->url_offset + d->url_len < m.signed_len);
            REQUIRE(memchr(text + d->url_offset, ' ', d->url_len) == NULL);
        }
        for (unsigned i = 0; i < m.n_artifacts; i++) {
            const struct fota_manifest_artifact *a = &m.artifacts[i];
            REQUIRE(a->kind == FOTA_ARTIFACT_COMPRESSED || a->kind == FOTA_ARTIFACT_DELTA);
            REQUIRE(a->size > 0 && a->url_len > 0);
            REQUIRE((size_t)a->url_offset + a->url_len < m.signed_len);
            REQUIRE(memchr(text + a->url_offset, ' ', a->url_len) == NULL);
            REQUIRE((a->kind == FOTA_ARTIFACT_DELTA) == (a->base_size > 0));
        }
        REQUIRE(memchr(m.product, 0, sizeof m.product) != NULL && m.product[0] != '\0');
        REQUIRE(memchr(m.version, 0, sizeof m.version) != NULL && m.version[0] != '\0');
        REQUIRE(memchr(m.url, 0, sizeof m.url) != NULL && m.url[0] != '\0');
        REQUIRE(m.chip > FOTA_CHIP_ANY && m.chip < FOTA_CHIP_COUNT);
        REQUIRE(m.size > 0);
        REQUIRE(m.signed_len > 0 && m.signed_len < size && text[m.signed_len - 1] == '\n');
        REQUIRE(memcmp(text + m.signed_len, "signature: ", 11) == 0);
        REQUIRE(m.expires >= 0);
        REQUIRE(fota_chip_from_name(fota_chip_name(m.chip), strlen(fota_chip_name(m.chip))) ==
                m.chip);
    } else {
        REQUIRE(r == FOTA_ERR_MANIFEST_PARSE);
        REQUIRE(line >= 1 && line <= count_lines(text, size) + 1);
    }

    /* The helpers on the raw input */
    if (fota_version_code(text, size, &code) == 0 && size > 0 && text[0] >= '0' &&
        text[0] <= '9' && memchr(text, '.', size) == NULL && memchr(text, '-', size) == NULL &&
        memchr(text, '+', size) == NULL)
        REQUIRE(code > 0 || text[0] == '0');
    if (fota_parse_utc(text, size, &t) == 0)
        REQUIRE(t >= 0 && t < (int64_t)253402300800); /* before year 10000 */
    r = fota_chip_from_name(text, size);
    REQUIRE(r >= -1 && r < FOTA_CHIP_COUNT);
    return 0;
}
