/* The defaults of struct fota_config's limits (0 there selects these), in
 * one place for the modules that apply them. */
#ifndef FOTA_SRC_DEFAULTS_H
#define FOTA_SRC_DEFAULTS_H

#include <stdint.h>

#define FOTA_DEFAULT_CONNECT_TIMEOUT_MS 10000u
#define FOTA_DEFAULT_READ_TIMEOUT_MS 10000u
#define FOTA_DEFAULT_TOTAL_TIMEOUT_MS 3600000u
#define FOTA_DEFAULT_MIN_BYTES_PER_S 16u
#define FOTA_DEFAULT_MAX_ATTEMPTS 5u
#define FOTA_DEFAULT_BACKOFF_BASE_MS 1000u
#define FOTA_DEFAULT_BACKOFF_MAX_MS 60000u
#define FOTA_DEFAULT_MAX_REDIRECTS 5u
#define FOTA_DEFAULT_PERSIST_EVERY 65536u

/* A configured limit, or its default when the configuration says 0. */
static inline uint32_t fota_cfg_or(uint32_t v, uint32_t dflt)
{
    return v ? v : dflt;
}

#endif
