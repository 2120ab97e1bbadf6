/* ASCII helpers for the core's parsers (locale-free, no <ctype.h>). */
#ifndef FOTA_SRC_TEXT_H
#define FOTA_SRC_TEXT_H

#include <stddef.h>

static inline char ascii_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static inline int is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static inline int is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Case-insensitive: does s[0..n) equal the lower-case literal `lit`?
 * (src/text.c) */
int equals_lit_ci(const char *s, size_t n, const char *lit);

#endif
