/* fota_strerror and fota_err_is_transient, generated from FOTA_ERROR_TABLE
 * (include/fota/error.h). The meanings stay out of the device's flash: the
 * host tool prints them (`fota errors`). */
#include "fota/error.h"

const char *fota_strerror(int err)
{
    switch (err) {
#define NAME_(name, code, class, meaning) \
    case name:                            \
        return #name;
        FOTA_ERROR_TABLE(NAME_)
#undef NAME_
    default:
        return "FOTA_ERR_UNKNOWN";
    }
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
