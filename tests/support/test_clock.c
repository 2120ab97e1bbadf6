#include "test_clock.h"

uint32_t test_clock_now_ms(void *ctx)
{
    const struct test_clock *c = ctx;
    return c->now;
}

void test_clock_delay_ms(void *ctx, uint32_t ms)
{
    struct test_clock *c = ctx;
    c->sleeps++;
    c->slept_ms += ms;
    c->now += ms;
}

void test_clock_advance(struct test_clock *c, uint32_t ms)
{
    c->now += ms;
}
