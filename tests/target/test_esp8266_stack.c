/*
 * The manifest check on the stack an ESP8266 sketch's loop() has (issue 16,
 * finding 1), run by the real agent with BearSSL's i15/m15 code (what the
 * ESP8266 Arduino port selects) under QEMU.
 *
 * SDK facts (esp8266/Arduino 3.1.2): loop() runs on the cont stack of
 * CONT_STACKSIZE = 4096 bytes (cores/esp8266/cont.h), below loop_wrapper,
 * the sketch's loop(), Fota::check() and whatever interrupt frames land on
 * it; the core runs BearSSL on a second stack of 6200 bytes taken from the
 * heap (cores/esp8266/StackThunk.cpp, _stackSize; make_stack_thunk() switches
 * a1 to it and checks a canary at its bottom afterwards).
 *
 * Here fota_run() runs on a painted stack of the size loop() leaves, with a
 * painted guard region below it: any word of the guard that changed is an
 * overflow and fails the test. The verification either runs on that stack
 * (the port before issue 16: it overflows on lx106) or, as the ESP8266 port
 * now does through the core's stack thunk, on a second painted stack of the
 * thunk's size entered through fota_target_call_on_stack (the harness's
 * equivalent of make_stack_thunk).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../../targets/common/target_rt.h"
#include "fota/fota.h"
#include "harness.h"
#include "support/test_signed_manifest.h"

extern const struct fota_crypto fota_crypto_bearssl;

#define CONT_STACKSIZE 4096u /* cores/esp8266/cont.h */
/* What loop_wrapper, a sketch's loop(), Fota::check() and interrupt frames
 * take before fota_run() starts: an allowance, not a measurement. */
#define LOOP_RESERVE 1024u
#define LOOP_LEFT (CONT_STACKSIZE - LOOP_RESERVE)
/* fota_run() must leave this much of LOOP_LEFT for the port's callbacks
 * (flash, WiFiClient) when the verification runs on the second stack. */
#define LOOP_MARGIN 1024u
#define THUNK_STACK 6200u /* StackThunk.cpp: _stackSize * 4 */
#define THUNK_MARGIN 1024u
#define GUARD 8192u
#define PAINT 0xdeadbeefu

static uint32_t loop_area[(GUARD + LOOP_LEFT) / 4] __attribute__((aligned(16)));
static uint32_t thunk_area[(THUNK_STACK / 16 * 16) / 4] __attribute__((aligned(16)));

/* ---- The signed manifest (the one test_manifest.c checks) and a server ---- */

static const uint8_t test_pubkey[1][FOTA_P256_PUBKEY_SIZE] = {FOTA_TEST_PUBKEY};

static const char response[] =
    "HTTP/1.1 200 OK\r\nContent-Length: 450\r\nConnection: close\r\n\r\n" FOTA_TEST_SIGNED_MANIFEST;

static size_t served;

static int srv_connect(void *ctx, const char *host, uint16_t port, int tls, uint32_t timeout_ms)
{
    (void)ctx, (void)host, (void)port, (void)tls, (void)timeout_ms;
    served = 0;
    return 0;
}

static int srv_send(void *ctx, const uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    (void)ctx, (void)buf, (void)timeout_ms;
    return (int)len;
}

static int srv_recv(void *ctx, uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    (void)ctx, (void)timeout_ms;
    size_t left = sizeof response - 1 - served;
    size_t n = len < left ? len : left;
    memcpy(buf, response + served, n);
    served += n;
    return (int)n;
}

static void srv_close(void *ctx)
{
    (void)ctx;
}

static const struct fota_transport server = {"memory", NULL, srv_connect, srv_send,
                                             srv_recv, srv_close, NULL};

/* ---- Platform stubs: the check never touches flash (check_only) ---------- */

static int fl_read(void *ctx, uint32_t a, void *b, uint32_t n)
{
    (void)ctx, (void)a;
    memset(b, 0xFF, n);
    return 0;
}

static int fl_write(void *ctx, uint32_t a, const void *b, uint32_t n)
{
    (void)ctx, (void)a, (void)b, (void)n;
    return FOTA_ERR_FLASH_WRITE;
}

static int fl_erase(void *ctx, uint32_t a, uint32_t n)
{
    (void)ctx, (void)a, (void)n;
    return FOTA_ERR_FLASH_ERASE;
}

static const struct fota_flash flash = {NULL, fl_read, fl_write, fl_erase, 4096, 4, 4096};

static int bt_running(void *ctx, int *slot, int *state)
{
    (void)ctx;
    *slot = 0;
    *state = FOTA_IMG_VALID;
    return 0;
}

static int bt_slot_info(void *ctx, int slot, struct fota_slot *out)
{
    (void)ctx;
    out->addr = 0x100000u * (uint32_t)(slot + 1);
    out->size = 0x80000;
    return 0;
}

static int bt_none(void *ctx)
{
    (void)ctx;
    return FOTA_ERR_NOT_SUPPORTED;
}

static int bt_set_next(void *ctx, int slot)
{
    (void)ctx, (void)slot;
    return FOTA_ERR_NOT_SUPPORTED;
}

static const struct fota_boot boot = {NULL, bt_running, bt_slot_info, bt_set_next, bt_none,
                                      bt_none, NULL, NULL};

static uint32_t clock_ms;

static uint32_t now_ms(void *ctx)
{
    (void)ctx;
    return clock_ms += 10;
}

/* ---- The second stack, as make_stack_thunk() uses it --------------------- */

struct verify_call {
    void *ctx;
    const uint8_t *pubkey, *hash, *sig;
    int result;
};

static void verify_here(void *arg)
{
    struct verify_call *c = arg;
    c->result = fota_crypto_bearssl.p256_verify(c->ctx, c->pubkey, c->hash, c->sig);
}

static int verify_on_second_stack(void *ctx, const uint8_t pubkey[FOTA_P256_PUBKEY_SIZE],
                                  const uint8_t hash[32], const uint8_t sig[FOTA_P256_SIG_SIZE])
{
    struct verify_call c = {ctx, pubkey, hash, sig, FOTA_ERR_CRYPTO};
    fota_target_call_on_stack(verify_here, &c, (uint8_t *)thunk_area + sizeof thunk_area);
    return c.result;
}

/* ---- Running fota_run() on the loop-sized stack ---------------------------- */

static struct fota agent;
static struct fota_config cfg;
static uint8_t rx[1024];
static char line[512], url[1024], manifest[1024]; /* the ESP8266 adapter's sizes (Fota.h) */
static int run_result;

static void run_check(void *arg)
{
    (void)arg;
    run_result = fota_run(&agent);
}

static void paint(uint32_t *area, size_t words)
{
    for (size_t i = 0; i < words; i++)
        area[i] = PAINT;
}

/* Bytes of the area used, counted from its top down to the lowest word that
 * is no longer paint. */
static uint32_t used_bytes(const uint32_t *area, size_t words)
{
    size_t i = 0;
    while (i < words && area[i] == PAINT)
        i++;
    return (uint32_t)((words - i) * 4);
}

/* Runs one check with `crypto`; returns the bytes of the loop stack used
 * (more than LOOP_LEFT: the guard below it was written). */
static uint32_t check_on_loop_stack(const struct fota_crypto *crypto, uint32_t *thunk_used)
{
    static struct fota_crypto used_table;
    used_table = *crypto;
    memset(&cfg, 0, sizeof cfg);
    cfg.product = "demo-board";
    cfg.chip = FOTA_CHIP_ESP32;
    cfg.version_code = 1001000;
    cfg.version = "1.1.0";
    cfg.manifest_url = "http://updates.example/fw/manifest";
    cfg.pubkeys = test_pubkey;
    cfg.n_pubkeys = 1;
    cfg.flash = &flash;
    cfg.boot = &boot;
    cfg.transports[0] = &server;
    cfg.n_transports = 1;
    cfg.crypto = &used_table;
    cfg.now_ms = now_ms;
    cfg.check_only = 1;
    cfg.max_attempts = 1;
    struct fota_buffers buf = {rx, sizeof rx, line, sizeof line, url, sizeof url, manifest,
                               sizeof manifest, NULL, NULL, 0};
    CHECK_EQ_INT(fota_init(&agent, &cfg, &buf), 0);
    paint(loop_area, sizeof loop_area / 4);
    paint(thunk_area, sizeof thunk_area / 4);
    run_result = FOTA_IDLE;
    fota_target_call_on_stack(run_check, NULL, (uint8_t *)loop_area + sizeof loop_area);
    CHECK_EQ_INT(run_result, FOTA_UPDATE_AVAILABLE);
    if (run_result != FOTA_UPDATE_AVAILABLE)
        printf("  check failed: %s\n", fota_last_message(&agent));
    *thunk_used = used_bytes(thunk_area, sizeof thunk_area / 4);
    return used_bytes(loop_area, sizeof loop_area / 4);
}

/* Before issue 16: the verification on the loop stack. On lx106 it needs more
 * than loop() has: the guard catches it. */
static void test_verify_on_loop_stack(void)
{
    uint32_t thunk_used;
    uint32_t used = check_on_loop_stack(&fota_crypto_bearssl, &thunk_used);
    printf("  %s: fota_run with the verification on the loop stack: %u bytes "
           "(loop() leaves %u)\n",
           FOTA_TARGET_NAME, (unsigned)used, (unsigned)LOOP_LEFT);
    CHECK(used < GUARD + LOOP_LEFT); /* measured, not past the whole guard */
    CHECK_EQ_INT(thunk_used, 0);
    if (strcmp(FOTA_TARGET_NAME, "lx106") == 0)
        CHECK(used > LOOP_LEFT); /* the finding: on the device this corrupts memory */
}

/* The ESP8266 port now: the verification on the second stack. */
static void test_verify_on_second_stack_fits(void)
{
    struct fota_crypto thunked = fota_crypto_bearssl;
    thunked.p256_verify = verify_on_second_stack;
    uint32_t thunk_used;
    uint32_t used = check_on_loop_stack(&thunked, &thunk_used);
    printf("  %s: fota_run with the verification on the second stack: loop stack %u bytes "
           "of %u, second stack %u of %u\n",
           FOTA_TARGET_NAME, (unsigned)used, (unsigned)LOOP_LEFT, (unsigned)thunk_used,
           (unsigned)sizeof thunk_area);
    CHECK(used <= LOOP_LEFT);               /* the guard is untouched */
    CHECK(used + LOOP_MARGIN <= LOOP_LEFT); /* with room for the port's callbacks */
    CHECK(thunk_used > 0);                  /* the verification did run there */
    CHECK(thunk_used + THUNK_MARGIN <= sizeof thunk_area);
    CHECK(thunk_area[0] == PAINT);          /* the thunk's canary word */
}

static const struct test_case tests[] = {
    TEST(test_verify_on_loop_stack),
    TEST(test_verify_on_second_stack_fits),
};

int main(void)
{
    return test_main("esp8266_stack", tests, TEST_COUNT(tests));
}
