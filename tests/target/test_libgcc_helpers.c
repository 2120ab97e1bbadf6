/*
 * Integer division and 64-bit multiplication as the compiler emits them
 * (on lx106: calls into targets/lx106/libgcc_helpers.c). Expected values
 * were computed with Python's exact integers; the same test runs on the
 * host (native instructions) as target.host.test_libgcc_helpers, so the
 * table itself is checked too.
 */
#include <stdint.h>

#include "harness.h"

struct u32_case { uint32_t n, d, q, r; };
struct i32_case { int32_t n, d, q; };
struct u64_case { uint64_t n, d, q, r; };
struct i64_case { int64_t n, d, q; };
struct mul_case { uint64_t a, b, p; };

static const struct u32_case u32_cases[] = {
    {0xffffffffu, 0x00000001u, 0xffffffffu, 0x00000000u},
    {0xffffffffu, 0xffffffffu, 0x00000001u, 0x00000000u},
    {0x80000000u, 0x00000003u, 0x2aaaaaaau, 0x00000002u},
    {0x075bcd15u, 0x00000007u, 0x010d1d4cu, 0x00000001u},
    {0x00000001u, 0x00000002u, 0x00000000u, 0x00000001u},
    {0xdeadbeefu, 0x00010000u, 0x0000deadu, 0x0000beefu},
    {0xfffffffeu, 0xffffffffu, 0x00000000u, 0xfffffffeu},
    {0x52e6b438u, 0x00000651u, 0x000d1feeu, 0x000005eau},
    {0xa6a3a450u, 0x00000001u, 0xa6a3a450u, 0x00000000u},
    {0xd23f0824u, 0x00000005u, 0x2a0c9b3au, 0x00000002u},
    {0x9531985du, 0x0000000eu, 0x0aa81d2bu, 0x00000003u},
    {0x81e74ef5u, 0x00000099u, 0x00d95adeu, 0x00000047u},
    {0x1600a35au, 0x6b0d549bu, 0x00000000u, 0x1600a35au},
};

static const struct i32_case i32_cases[] = {
    {-7, 2, -3},
    {7, -2, -3},
    {INT32_MIN, 1, INT32_MIN},
    {INT32_MIN, 2, -1073741824},
    {2147483647, -3, -715827882},
    {-1000000, -999, 1001},
};

static const struct u64_case u64_cases[] = {
    {0xffffffffffffffffull, 0x0000000000000001ull, 0xffffffffffffffffull, 0x0000000000000000ull},
    {0xffffffffffffffffull, 0xffffffffffffffffull, 0x0000000000000001ull, 0x0000000000000000ull},
    {0x8000000000000000ull, 0x0000000000000003ull, 0x2aaaaaaaaaaaaaaaull, 0x0000000000000002ull},
    {0x123456789abcdef0ull, 0x0000000000010001ull, 0x0000123444445678ull, 0x0000000000008878ull},
    {0xffffffffffffffffull, 0x00000000ffffffffull, 0x0000000100000001ull, 0x0000000000000000ull},
    {0x8000000000000000ull, 0x8000000000000001ull, 0x0000000000000000ull, 0x8000000000000000ull},
    {0x0000010000000000ull, 0x8000000000000005ull, 0x0000000000000000ull, 0x0000010000000000ull},
    {0x3d9c172411e20b8full, 0x000000000000008dull, 0x006fdbda20cec42aull, 0x000000000000006dull},
    {0x0f21ddb66cad4a26ull, 0xf28c105d1fb17c23ull, 0x0000000000000000ull, 0x0f21ddb66cad4a26ull},
    {0xa170b33839263059ull, 0x0fd630f1f29d0da9ull, 0x000000000000000aull, 0x0312c9c4bf03a7bfull},
    {0x95e60af593bd04cfull, 0x0000f9eb0cb1e29cull, 0x000000000000998bull, 0x0000ddbf5eb7be1bull},
    {0x0becd7b03898d190ull, 0x2217beaddbc496cbull, 0x0000000000000000ull, 0x0becd7b03898d190ull},
    {0x6b4cb2424a23d596ull, 0x00000000453531f6ull, 0x000000018ce6daebull, 0x000000000abf7cc4ull},
};

static const struct i64_case i64_cases[] = {
    {-7, 2, -3},
    {7, -2, -3},
    {INT64_MIN, 2, -4611686018427387904ll},
    {9223372036854775807ll, -3, -3074457345618258602ll},
    {-1234567890123ll, 1000, -1234567890ll},
};

static const struct mul_case mul_cases[] = {
    {0xffffffffffffffffull, 0xffffffffffffffffull, 0x0000000000000001ull},
    {0x123456789abcdef0ull, 0x0fedcba987654321ull, 0x2236d88fe5618cf0ull},
    {0x00000000ffffffffull, 0x00000000ffffffffull, 0xfffffffe00000001ull},
    {0x0000000100000000ull, 0x0000000100000000ull, 0x0000000000000000ull},
    {0x922766581e27a1c0ull, 0x8f6d05584ef8aa38ull, 0x63aa8afa1c14e200ull},
    {0xae97ba94d0eda82full, 0x1a61dbe22e44158bull, 0xcc4065c80e522c85ull},
    {0x923a736994e3bf91ull, 0x301850c5a38fd547ull, 0xc6bbc3f01e8cc637ull},
    {0x18f135d25f557203ull, 0xb64ce4228c38fb29ull, 0x0e56479aa020337bull},
};

/* volatile keeps the compiler from folding the operations at build time. */
static void test_udiv32(void)
{
    for (size_t i = 0; i < TEST_COUNT(u32_cases); i++) {
        volatile uint32_t n = u32_cases[i].n, d = u32_cases[i].d;
        CHECK_EQ_INT(n / d, u32_cases[i].q);
        CHECK_EQ_INT(n % d, u32_cases[i].r);
    }
}

static void test_sdiv32(void)
{
    for (size_t i = 0; i < TEST_COUNT(i32_cases); i++) {
        volatile int32_t n = i32_cases[i].n, d = i32_cases[i].d;
        CHECK_EQ_INT(n / d, i32_cases[i].q);
        CHECK_EQ_INT(n % d, i32_cases[i].n - i32_cases[i].q * i32_cases[i].d);
    }
}

static void test_udiv64(void)
{
    for (size_t i = 0; i < TEST_COUNT(u64_cases); i++) {
        volatile uint64_t n = u64_cases[i].n, d = u64_cases[i].d;
        CHECK(n / d == u64_cases[i].q);
        CHECK(n % d == u64_cases[i].r);
    }
}

static void test_sdiv64(void)
{
    for (size_t i = 0; i < TEST_COUNT(i64_cases); i++) {
        volatile int64_t n = i64_cases[i].n, d = i64_cases[i].d;
        CHECK(n / d == i64_cases[i].q);
    }
}

static void test_mul64(void)
{
    for (size_t i = 0; i < TEST_COUNT(mul_cases); i++) {
        volatile uint64_t a = mul_cases[i].a, b = mul_cases[i].b;
        CHECK(a * b == mul_cases[i].p);
    }
    volatile uint32_t x = 0xfffffffbu, y = 0xfffffff9u;
    CHECK((uint64_t)x * y == 0xfffffff400000023ull);
}

/* Invariants over a pseudo-random walk: q * d + r == n and r < d. */
static void test_division_invariants(void)
{
    uint32_t s = 0x12345678u;
    uint64_t t = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 2000; i++) {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        t ^= t << 7;
        t ^= t >> 9;
        volatile uint32_t n32 = s, d32 = (s >> (i & 31)) | 1u;
        uint32_t q32 = n32 / d32, r32 = n32 % d32;
        CHECK(q32 * d32 + r32 == n32 && r32 < d32);
        volatile uint64_t n64 = t, d64 = (t >> (i & 63)) | 1u;
        uint64_t q64 = n64 / d64, r64 = n64 % d64;
        CHECK(q64 * d64 + r64 == n64 && r64 < d64);
    }
}

static const struct test_case tests[] = {
    TEST(test_udiv32), TEST(test_sdiv32), TEST(test_udiv64),
    TEST(test_sdiv64), TEST(test_mul64),  TEST(test_division_invariants),
};

int main(void)
{
    return test_main("libgcc_helpers", tests, TEST_COUNT(tests));
}
