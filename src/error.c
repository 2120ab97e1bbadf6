/* fota_strerror and fota_err_is_transient, generated from FOTA_ERROR_TABLE
 * (src/fota/error.h). The meanings stay out of the device's flash: the
 * host tool prints them (`fota errors`). */
#include "fota/error.h"

#include <stddef.h>
#include <stdint.h>

/* All names in one block of characters, and each code's offset into it
 * (2 bytes a code instead of a 4-byte pointer); a number that is not a code
 * has offset 0, the unknown name. */
static const struct error_names {
    char unknown[sizeof "FOTA_ERR_UNKNOWN"];
#define NAME_FIELD_(name, code, class, meaning) char name[sizeof #name];
    FOTA_ERROR_TABLE(NAME_FIELD_)
#undef NAME_FIELD_
} names = {
    "FOTA_ERR_UNKNOWN",
#define NAME_TEXT_(name, code, class, meaning) #name,
    FOTA_ERROR_TABLE(NAME_TEXT_)
#undef NAME_TEXT_
};

enum { LOWEST = -88 }; /* the lowest code: checked below */
#define NAME_OFFSET_(name, code, class, meaning) [-(code)] = offsetof(struct error_names, name),
static const uint16_t name_at[1 - LOWEST] = {FOTA_ERROR_TABLE(NAME_OFFSET_)};
#undef NAME_OFFSET_
#define CHECK_RANGE_(name, code, class, meaning) \
    _Static_assert((code) <= 0 && (code) >= LOWEST, #name " outside the name table");
FOTA_ERROR_TABLE(CHECK_RANGE_)
#undef CHECK_RANGE_

const char *fota_strerror(int err)
{
    if (err > 0 || err < LOWEST)
        return names.unknown;
    return (const char *)&names + name_at[-err];
}

/* A case label for the transient codes, nothing for the final ones. */
#define CASE_IF_TRANSIENT(name) case name:
#define CASE_IF_FINAL(name)
#define CLASS_(name, code, class, meaning) CASE_IF_##class(name)

int fota_err_is_transient(int err)
{
    switch (err) {
        FOTA_ERROR_TABLE(CLASS_)
        return 1;
    default:
        return 0;
    }
}
