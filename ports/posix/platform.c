/* Clock, delay and randomness for the POSIX port. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <time.h>

#include "fota_posix.h"

uint32_t fota_posix_now_ms(void *ctx)
{
    (void)ctx;
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint32_t)((uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u);
}

int fota_posix_utc_now(void *ctx, int64_t *unix_s)
{
    (void)ctx;
    *unix_s = (int64_t)time(NULL);
    return 0;
}

void fota_posix_delay_ms(void *ctx, uint32_t ms)
{
    (void)ctx;
    struct timespec t = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0) {
    }
}

uint32_t fota_posix_random(void *ctx)
{
    (void)ctx;
    static uint32_t state;
    if (state == 0) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        state = (uint32_t)t.tv_nsec ^ 0xA5A5A5A5u;
    }
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
}
