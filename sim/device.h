/*
 * A simulated ESP32-class device: flash (file or memory), the simulated
 * ESP-IDF bootloader, an "application" that is whatever image the bootloader
 * chose, and the real fota agent. The application's behaviour comes from the
 * image itself: its app descriptor gives the running version, and an image
 * containing the marker SIM_CRASH_MARKER crashes before it confirms (a bad
 * release), so the bootloader's rollback is exercised for real.
 */
#ifndef FOTA_SIM_DEVICE_H
#define FOTA_SIM_DEVICE_H

#include <stdint.h>

#include "fota/fota.h"
#include "boot.h"
#include "fota_posix.h"
#include "link.h"
#include "timing.h"

#define SIM_CRASH_MARKER "FOTA-SIM-CRASH"

struct sim_device;

struct sim_options {
    const char *manifest_url;
    const char *mac;     /* replaces "{mac}" in the URL; NULL: none */
    const char *device_id; /* check-in id (config.device_id); NULL: the MAC */
    int crash_new_images;  /* any image but the first one booted crashes (fleet tests) */
    const char *product;
    int chip;
    const uint8_t (*pubkeys)[FOTA_P256_PUBKEY_SIZE];
    size_t n_pubkeys;
    const struct fota_transport *transports[FOTA_MAX_TRANSPORTS]; /* NULL: plain TCP */
    size_t n_transports;
    uint32_t connect_timeout_ms, read_timeout_ms, total_timeout_ms, min_bytes_per_s;
    uint32_t max_attempts, backoff_base_ms, backoff_max_ms;
    uint32_t persist_every;
    int check_only;
    int quiet;           /* print nothing (power-cut and fault harnesses) */
    int verbose;         /* agent debug log */
    int progress;        /* print download progress */
    int64_t utc_now;     /* 0: the host clock; otherwise the device's trusted time */
    int no_clock;        /* no trusted time at all (no RTC, no authenticated time source) */
    int no_image_sha256; /* a port that cannot tell the running image's SHA-256 */
    /* Buffer sizes given to the agent, 0 for the defaults (rx 4096, line
     * 2816, url 2080, manifest 2080): a test runs a port's own defaults. */
    uint32_t rx_size, line_size, url_size, manifest_size;
    uint32_t floor_min;  /* the firmware's build-time anti-rollback floor */
    int allow_insecure_redirect; /* follow https:// -> http:// redirects */
    int no_delta;        /* no decoder memory: full images only, even when patches are offered */
    /* Timing model (docs/sim.md): flash operation times (NULL: none), and the
     * link that carries every transport (NULL: not modelled). Either makes
     * the device count simulated time (struct sim_device's clock). */
    const struct sim_flash_timing *flash_timing;
    const struct sim_link_model *link;
    /* Optional: called at every power-on once the bootloader has chosen a
     * slot (d->slot) or found none to boot (d->slot == -1), before the
     * application runs: the power-cut harness checks its invariants here. */
    void (*booted)(void *ctx, const struct sim_device *d);
    void *booted_ctx;
    /* Optional: called when the application mounts the data partition (the
     * layout's), which it does only when fota_data_ready() says so. */
    void (*mounted)(void *ctx, const struct sim_device *d);
};

enum sim_outcome {
    SIM_UP_TO_DATE = 0,  /* booted, confirmed, server has nothing newer */
    SIM_UPDATED = 1,     /* an update was installed and confirmed during this run */
    SIM_AVAILABLE = 2,   /* check_only: a newer version is offered */
    SIM_FAILED = 3,      /* the update failed (see error/message) */
    SIM_BRICKED = 4,     /* no bootable image */
    SIM_ROLLED_BACK = 5, /* a new image crashed and the old one runs again */
};

struct sim_device {
    const struct sim_options *opt;
    struct sim_flash *flash;
    struct sim_layout layout;
    struct sim_boot boot;
    struct fota_posix_net net;
    struct fota_config cfg;
    struct fota agent;
    /* Buffers of the largest sizes a port allows; the agent gets the sizes
     * in struct sim_options (0: the defaults below, as the ports'). */
    uint8_t rx[16384];
    char line[4096];
    char url[4096];
    char manifest[8192];
    struct fota_delta delta; /* patches and compressed images (docs/delta.md) */
    uint8_t delta_out[4096];
    /* What runs now */
    int slot;
    char version[33];
    char project[33];
    uint32_t version_code;
    uint8_t image_sha256[32]; /* of the running image, for the check-in */
    int has_image_sha256;
    uint32_t boots;
    /* The last update attempt */
    int error;
    char message[FOTA_MSG_MAX];
    char first_version[33];
    const char *transport_used;
    int data_mounted;         /* the application has the data partition mounted */
    /* Simulated time (timing model): the run so far, and the last check that
     * installed an update (check, download, verify, activate) */
    struct sim_clock clock;
    struct sim_link links[FOTA_MAX_TRANSPORTS];
    uint64_t update_us, update_flash_us, update_wait_us;
    uint32_t update_bytes;
};

/* Flash geometry and layout for a slot size. */
void sim_layout(struct sim_layout *l, uint32_t slot_size);

/* Write a factory image into slot 0 and blank the rest, as a production line
 * would. Returns 0 or -1. */
int sim_factory_program(struct sim_flash *flash, const struct sim_layout *l,
                        const uint8_t *image, uint32_t len);

/* Bind a device to its flash (which survives power cuts; everything else in
 * struct sim_device is RAM and is lost). */
void sim_device_init(struct sim_device *d, const struct sim_options *opt,
                     struct sim_flash *flash, const struct sim_layout *l);

/* Power on: the bootloader chooses a slot, the application starts, checks its
 * health, confirms itself, and checks for an update. Returns the outcome of
 * this one boot: SIM_UP_TO_DATE, SIM_AVAILABLE, SIM_FAILED, SIM_BRICKED, or
 * SIM_UPDATED meaning "an update was activated: power-cycle me", or
 * SIM_ROLLED_BACK meaning "the app crashed: power-cycle me". */
int sim_device_boot_once(struct sim_device *d);

/* One more check by the running application, without a reboot (periodic
 * checks: the second one asks If-None-Match). Same outcomes as boot_once. */
int sim_device_check(struct sim_device *d);

/* Boot repeatedly until the device settles (up to date, failed, bricked),
 * at most max_boots times. Returns the final outcome, with SIM_UPDATED when
 * an update was installed and confirmed on the way, SIM_ROLLED_BACK when a
 * new image was rolled back. */
int sim_device_run(struct sim_device *d, uint32_t max_boots);

const char *sim_outcome_name(int outcome);

#endif
