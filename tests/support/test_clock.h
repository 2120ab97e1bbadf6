/* A fake monotonic clock for the agent's now_ms/delay_ms: time moves only
 * when a test, a delay or the in-memory transport moves it, so timeouts,
 * backoff and slow-retrieval windows are exact and take no real time.
 * Plain C: also on the emulated targets. */
#ifndef FOTA_TEST_CLOCK_H
#define FOTA_TEST_CLOCK_H

#include <stdint.h>

struct test_clock {
    uint32_t now;       /* milliseconds */
    uint32_t sleeps;    /* delay_ms calls */
    uint64_t slept_ms;  /* their total */
};

/* As struct fota_config's now_ms and delay_ms; ctx points at a struct
 * test_clock (or at a struct whose first member is one). */
uint32_t test_clock_now_ms(void *ctx);
void test_clock_delay_ms(void *ctx, uint32_t ms);

void test_clock_advance(struct test_clock *c, uint32_t ms);

#endif
