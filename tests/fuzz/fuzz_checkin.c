/*
 * libFuzzer target: the check-in header fields as the fleet server parses
 * them (tools/fleet/checkin_parse.c).
 *
 * Input: header lines "Name: value\n" (up to 32); a line without ": " is a
 * name with an empty value.
 *
 * Checks: a parse either fails with a reason, or gives a device id and
 * product in their character sets and lengths, an image of 64 lower-case hex
 * digits or none, a known last event or none; nothing is read or written out
 * of bounds (ASan).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fleet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c)                                                                         \
    do {                                                                                   \
        if (!(c))                                                                          \
            abort();                                                                       \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = 0;
    struct fleet_header h[32];
    size_t n = 0;
    for (char *line = text; line && *line && n < 32;) {
        char *end = strchr(line, '\n');
        if (end)
            *end = 0;
        char *colon = strstr(line, ": ");
        h[n].name = line;
        h[n].value = "";
        if (colon) {
            *colon = 0;
            h[n].value = colon + 2;
        }
        n++;
        line = end ? end + 1 : NULL;
    }
    struct fleet_report r;
    char why[200] = "";
    int rc = fleet_checkin_parse(h, n, &r, why, sizeof why);
    if (rc < 0) {
        REQUIRE(why[0] != 0);
    } else {
        REQUIRE(rc == 0);
        REQUIRE(fleet_valid_id(r.id));
        REQUIRE(fleet_valid_name(r.product, FLEET_PRODUCT_MAX));
        size_t il = strlen(r.image);
        REQUIRE(il == 0 || il == 64);
        for (size_t i = 0; i < il; i++)
            REQUIRE((r.image[i] >= '0' && r.image[i] <= '9') ||
                    (r.image[i] >= 'a' && r.image[i] <= 'f'));
        REQUIRE(!r.has_last || !strcmp(r.last_event, "confirmed") ||
                !strcmp(r.last_event, "rolled-back") || !strcmp(r.last_event, "failed") ||
                !strcmp(r.last_event, "activated"));
    }
    free(text);
    return 0;
}
