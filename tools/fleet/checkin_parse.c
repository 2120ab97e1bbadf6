/* The check-in header fields, as the fleet server reads them (fleet.h,
 * docs/fleet.md). Pure: no I/O, no allocation; fuzzed by
 * tests/fuzz/fuzz_checkin.c. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "fleet.h"

static int id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
}

static int valid(const char *s, size_t max, int colon)
{
    size_t n = strnlen(s, max + 1);
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!id_char(s[i]) && !(colon && s[i] == ':'))
            return 0;
    return 1;
}

int fleet_valid_id(const char *s)
{
    return valid(s, FLEET_ID_MAX, 1);
}

int fleet_valid_name(const char *s, size_t max)
{
    return valid(s, max, 0);
}

/* Decimal 0..4294967295: digits only, no sign, no leading zeros but "0". */
static int parse_u32(const char *s, uint32_t *out)
{
    uint64_t v = 0;
    size_t n = strlen(s);
    if (n == 0 || n > 10 || (n > 1 && s[0] == '0'))
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > 0xFFFFFFFFu)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

/* "-2147483648".."2147483647" */
static int parse_i32(const char *s, int32_t *out)
{
    int neg = s[0] == '-';
    uint32_t m;
    if (parse_u32(s + neg, &m) < 0 || m > (neg ? 2147483648u : 2147483647u) || (neg && m == 0))
        return -1;
    *out = neg ? (int32_t)(-(int64_t)m) : (int32_t)m;
    return 0;
}

enum { H_ID, H_PRODUCT, H_VERSION, H_SEQUENCE, H_IMAGE, H_LAST, H_COUNT };
static const char *const names[H_COUNT] = {"Fota-Id",       "Fota-Product", "Fota-Version",
                                           "Fota-Sequence", "Fota-Image",   "Fota-Last"};

static int why_is(char *why, size_t size, const char *text)
{
    snprintf(why, size, "%s", text);
    return -1;
}

/* "EVENT ERROR VERSION-CODE", single spaces. */
static int parse_last(const char *v, struct fleet_report *r)
{
    static const char *const events[] = {"confirmed", "rolled-back", "failed", "activated"};
    char part[3][16];
    size_t k = 0;
    for (const char *p = v; k < 3; k++) {
        size_t n = strcspn(p, " ");
        if (n == 0 || n >= sizeof part[0])
            return -1;
        memcpy(part[k], p, n);
        part[k][n] = 0;
        p += n;
        if (k < 2 && *p++ != ' ')
            return -1;
        if (k == 2 && *p)
            return -1;
    }
    int known = 0;
    for (size_t i = 0; i < sizeof events / sizeof events[0]; i++)
        known |= strcmp(part[0], events[i]) == 0;
    if (!known || parse_i32(part[1], &r->last_error) < 0 ||
        parse_u32(part[2], &r->last_version) < 0)
        return -1;
    snprintf(r->last_event, sizeof r->last_event, "%s", part[0]);
    r->has_last = 1;
    return 0;
}

int fleet_checkin_parse(const struct fleet_header *h, size_t n, struct fleet_report *r,
                        char *why, size_t size)
{
    const char *value[H_COUNT] = {0};
    memset(r, 0, sizeof *r);
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < H_COUNT; k++)
            if (strcasecmp(h[i].name, names[k]) == 0) {
                if (value[k]) {
                    snprintf(why, size, "%s sent more than once", names[k]);
                    return -1;
                }
                value[k] = h[i].value ? h[i].value : "";
            }
    for (int k = 0; k <= H_VERSION; k++)
        if (!value[k]) {
            snprintf(why, size, "check-in without %s (the fleet server needs Fota-Id, "
                                "Fota-Product and Fota-Version)", names[k]);
            return -1;
        }
    if (!fleet_valid_id(value[H_ID]))
        return why_is(why, size, "Fota-Id is not 1..64 of [A-Za-z0-9._:-]");
    snprintf(r->id, sizeof r->id, "%s", value[H_ID]);
    /* as fota release allows in product ids */
    if (!fleet_valid_name(value[H_PRODUCT], FLEET_PRODUCT_MAX))
        return why_is(why, size, "Fota-Product is not 1..48 of [A-Za-z0-9._-]");
    snprintf(r->product, sizeof r->product, "%s", value[H_PRODUCT]);
    if (parse_u32(value[H_VERSION], &r->version_code) < 0)
        return why_is(why, size, "Fota-Version is not a decimal number 0..4294967295");
    if (value[H_SEQUENCE]) {
        if (parse_u32(value[H_SEQUENCE], &r->sequence) < 0)
            return why_is(why, size, "Fota-Sequence is not a decimal number 0..4294967295");
        r->has_sequence = 1;
    }
    if (value[H_IMAGE]) {
        const char *x = value[H_IMAGE];
        int ok = strnlen(x, 65) == 64;
        for (size_t i = 0; ok && i < 64; i++)
            ok = (x[i] >= '0' && x[i] <= '9') || (x[i] >= 'a' && x[i] <= 'f') ||
                 (x[i] >= 'A' && x[i] <= 'F');
        if (!ok)
            return why_is(why, size, "Fota-Image is not 64 hex digits");
        for (size_t i = 0; i < 64; i++)
            r->image[i] = (char)(x[i] >= 'A' && x[i] <= 'F' ? x[i] - 'A' + 'a' : x[i]);
        r->image[64] = 0;
    }
    if (value[H_LAST] && parse_last(value[H_LAST], r) < 0)
        return why_is(why, size, "Fota-Last is not \"EVENT ERROR VERSION-CODE\" with a known "
                                 "event (confirmed, rolled-back, failed, activated)");
    snprintf(r->protocol, sizeof r->protocol, "fota");
    return 0;
}
