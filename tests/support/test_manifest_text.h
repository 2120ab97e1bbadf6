/*
 * Manifest text for the parser tests of the later formats (artifacts, data
 * images): fixed hashes, an unsigned all-zero signature (the parser does not
 * verify it) and the head and tail every format shares. The parsed result
 * lands in the file's own `struct fota_manifest m`.
 */
#ifndef FOTA_TEST_MANIFEST_TEXT_H
#define FOTA_TEST_MANIFEST_TEXT_H

#include <string.h>

#include "fota/manifest.h"

#define SHA_A "1111111111111111111111111111111111111111111111111111111111111111"
#define SHA_B "2222222222222222222222222222222222222222222222222222222222222222"
#define SHA_C "3333333333333333333333333333333333333333333333333333333333333333"
#define SIG "00000000000000000000000000000000000000000000000000000000000000000000000000" \
            "000000000000000000000000000000000000000000000000000000"

#define HEAD_CHIP(fmt, chip)                                                               \
    "fota-manifest: " fmt "\nproduct: demo\nchip: " chip "\nversion: 1.1.0\n"             \
    "version-code: 1001000\nsecurity-counter: 0\nsequence: 3\nsize: 615388\n"              \
    "sha256: " SHA_A "\nurl: firmware/demo-1.1.0.bin\n"
#define TAIL "key-id: 0011223344556677\nsignature: " SIG "\n"

static struct fota_manifest m;

static int parse(const char *text, int *line)
{
    return fota_manifest_parse(text, strlen(text), &m, line);
}

#endif
