/*
 * A whole device for the agent's C tests, without sockets or files: a RAM
 * NOR flash and the simulated ESP-IDF bootloader (sim/flash.h, sim/boot.h,
 * both plain C), a factory image 1.0.0 in slot 0, the scripted in-memory transport
 * (mem_transport.h, optionally with the in-memory origin), a fake clock,
 * really signed manifests (test_release.h) and images (test_image.h). The
 * tests drive the agent through its public API only (fota.h).
 *
 *   static struct agent_world w;
 *   aw_setup(&w, &fota_crypto_bearssl); factory flash, config, transport
 *   aw_release(&w, "2.0.0", 1, 2);      image + signed manifest
 *   ... script w.net (mem_add) or serve w.origin ...
 *   aw_power_on(&w);                    bootloader + fota_init
 *   r = aw_check(&w);                   fota_run on the fake clock
 *
 * Plain C, no heap: also on the emulated targets.
 */
#ifndef FOTA_TEST_AGENT_H
#define FOTA_TEST_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "fota/fota.h"
#include "fota_crypto_backends.h"
#include "boot.h"
#include "flash.h"
#include "mem_origin.h"
#include "mem_transport.h"
#include "test_clock.h"
#include "test_release.h"

#define AW_SECTOR 4096u
#define AW_BLOCK 65536u /* the erase block ports/esp32 states */
#define AW_WRITE_UNIT 4u
#define AW_SLOT 0x10000u
#define AW_FLASH 0x30000u   /* otadata, agent state, two 64 KiB slots */
#define AW_IMAGE_MAX 12288u
#define AW_IMAGE_FILLER 9000u /* image size: about 9.3 KB, three sectors */
#define AW_MAX_EVENTS 64
#define AW_MANIFEST_URL "http://fw.example/demo/manifest.txt"
#define AW_IMAGE_PATH "/demo/firmware/demo-2.0.0.bin"
#define AW_RESPONSE_MAX (AW_IMAGE_MAX + 1024u)

struct aw_event {
    int event;       /* enum fota_event */
    int error;       /* fota_last_error() then */
    uint32_t at_ms;  /* on the fake clock */
};

struct agent_world {
    struct test_clock clock; /* first: cfg.ctx points at the world */
    const struct fota_crypto *crypto; /* verifies, hashes, boots */
    struct sim_layout layout;
    struct sim_flash flash;
    struct fota_flash counted; /* flash.iface, counting operations per region */
    struct sim_boot boot;
    struct mem_transport net;  /* transports[0], "wifi" */
    struct mem_transport net2; /* "gsm", when a test adds it */
    struct mem_origin origin;
    struct fota_config cfg;
    struct fota agent;
    uint8_t pubkey[1][FOTA_P256_PUBKEY_SIZE];
    uint8_t rx[1024];
    char line[512];
    char url[256];
    char manifest_buf[1024];

    /* The releases */
    uint8_t old_image[AW_IMAGE_MAX];
    size_t old_len;
    uint8_t image[AW_IMAGE_MAX];     /* the new one, from aw_release */
    size_t image_len;
    char manifest[1024];             /* its signed manifest */
    size_t manifest_len;
    char running_version[33];

    /* What happened */
    uint32_t slot_erases[2], slot_writes[2], state_writes; /* by the agent */
    struct aw_event events[AW_MAX_EVENTS];
    size_t n_events;
    uint32_t random_value;           /* what cfg.random returns */
    uint32_t pre_update_calls;
    int pre_update_result;
    char last_log[FOTA_MSG_MAX];

    /* Responses the script points at */
    uint8_t arena[56 * 1024];
    size_t arena_used;
};

/* Fresh device: flash blank but for 1.0.0 in slot 0, default configuration
 * (product "demo", ESP32, AW_MANIFEST_URL, the test key, one transport
 * "wifi" with an empty script), clock at 1000 ms. */
void aw_setup(struct agent_world *w, const struct fota_crypto *crypto);

/* Power on: the bootloader picks a slot, the configuration takes the
 * running image's version, fota_init. Returns fota_init's result, or
 * FOTA_ERR_BOOT when no slot boots. */
int aw_power_on(struct agent_world *w);

/* The crypto backend the tests run on: mbedTLS on the host, BearSSL on the
 * emulated targets (their build defines FOTA_TEST_CRYPTO). */
#ifndef FOTA_TEST_CRYPTO
#define FOTA_TEST_CRYPTO fota_crypto_mbedtls
#endif

/* aw_setup with that backend, then aw_power_on. Returns what it returns. */
static inline int aw_fresh(struct agent_world *w)
{
    aw_setup(w, &FOTA_TEST_CRYPTO);
    return aw_power_on(w);
}

/* fota_run: the check (and update) on the fake clock. */
int aw_check(struct agent_world *w);

/* A new image (chip id 0, ESP32) and its signed manifest (product "demo",
 * chip "esp32", image URL "firmware/demo-<version>.bin") into w->image and
 * w->manifest. */
void aw_release(struct agent_world *w, const char *version, uint32_t security,
                uint32_t sequence);

/* The fields aw_release uses, for a test to change some of them. */
void aw_release_fields(struct test_release *r, const char *version, uint32_t sequence);

/* Sign a manifest with every field given (r->image and r->image_len are
 * filled from w->image). */
void aw_release_with(struct agent_world *w, struct test_release *r);

/* Build an ESP image of `version` for raw chip id `chip_id` into buf. */
size_t aw_build_image(uint8_t *buf, size_t cap, const char *version, uint16_t chip_id,
                      uint32_t seed);

/* Serve w->manifest and w->image from the in-memory origin on every
 * connection beyond the script. */
void aw_serve(struct agent_world *w);

/* A complete HTTP/1.1 response into buf: status line, the extra header
 * lines (each ending in \r\n, may be ""), Content-Length unless the extra
 * headers frame the body themselves (NULL body: none), the body. Returns
 * its length (0 when it does not fit). */
size_t aw_response(char *buf, size_t cap, const char *status, const char *headers,
                   const void *body, size_t body_len);

/* Script the next connection of w->net to answer one response built by
 * aw_response (kept in the world's arena). NULL when out of room. */
struct mem_conn *aw_conn(struct agent_world *w, const char *status, const char *headers,
                         const void *body, size_t body_len);
/* ... the manifest, 200, Connection: close */
struct mem_conn *aw_conn_manifest(struct agent_world *w);
/* ... the image, 200, Connection: close */
struct mem_conn *aw_conn_image(struct agent_world *w);
/* Add one more response to a scripted connection (keep-alive). Returns its
 * length, 0 when out of room. */
size_t aw_conn_add(struct agent_world *w, struct mem_conn *c, const char *status,
                   const char *headers, const void *body, size_t body_len);

/* Bytes before the body in a scripted connection's first response. */
size_t aw_head_len(const struct mem_conn *c);

/* Events seen: how many of `event` since setup. */
size_t aw_count_events(const struct agent_world *w, int event);

/* The error of the n-th (0-based) retry, and when it was decided (the
 * RETRYING event); 1 and 0 when there was none. */
int aw_retry_error(const struct agent_world *w, size_t n);
uint32_t aw_retry_at(const struct agent_world *w, size_t n);

/* Does the flash slot hold exactly these bytes? */
int aw_slot_holds(const struct agent_world *w, int slot, const uint8_t *data, size_t len);

#endif
