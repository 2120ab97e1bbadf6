/* fota_strerror and fota_err_is_transient, generated from FOTA_ERROR_TABLE
 * (src/fota/error.h). The meanings stay out of the device's flash: the
 * host tool prints them (`fota errors`). */
#include "fota/error.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* All names in one block of characters, in the table's order, and beside
 * it one byte a code: its negation, with TRANSIENT_BIT for the transient
 * ones. Both functions walk the table (~70 entries): less flash than a
 * table of 2-byte offsets into the names and a switch over the codes. */
#define TRANSIENT_BIT 0x80u
#define CLASS_BIT_TRANSIENT TRANSIENT_BIT
#define CLASS_BIT_FINAL 0u
#define NAME_TEXT_(name, code, class, meaning) #name "\0"
static const char names[] = FOTA_ERROR_TABLE(NAME_TEXT_) "FOTA_ERR_UNKNOWN";
#undef NAME_TEXT_
#define CODE_(name, code, class, meaning) (uint8_t)(-(code) | CLASS_BIT_##class),
static const uint8_t codes[] = {FOTA_ERROR_TABLE(CODE_)};
#undef CODE_
#define CHECK_RANGE_(name, code, class, meaning) \
    _Static_assert((code) <= 0 && -(code) < (int)TRANSIENT_BIT,                      \
                   #name " does not fit the code table");
FOTA_ERROR_TABLE(CHECK_RANGE_)
#undef CHECK_RANGE_

/* The code's index in the table, or the number of codes when err is none. */
static size_t code_index(int err)
{
    size_t i;
    for (i = 0; i < sizeof codes; i++)
        if (-(int)(codes[i] & ~TRANSIENT_BIT) == err)
            break;
    return i;
}

const char *fota_strerror(int err)
{
    const char *p = names;
    for (size_t i = code_index(err); i > 0; i--)
        p += strlen(p) + 1;
    return p; /* past the last code's name: "FOTA_ERR_UNKNOWN" */
}

int fota_err_is_transient(int err)
{
    size_t i = code_index(err);
    return i < sizeof codes && (codes[i] & TRANSIENT_BIT) != 0;
}
