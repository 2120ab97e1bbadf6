/*
 * libfota — the device agent.
 *
 * A portable C11 core: no heap, no floating point, no OS calls. Everything
 * platform-specific goes through struct fota_config (flash, boot control,
 * transports, clock/log, crypto); all memory is owned by the caller: a
 * struct fota plus the buffers named in struct fota_buffers.
 *
 * Typical use (see examples/ and docs/agent.md):
 *
 *   static struct fota agent;
 *   fota_init(&agent, &config, &buffers);
 *   ...once the application is healthy:  fota_confirm(&agent);
 *   ...periodically:                     fota_start(&agent);
 *                                        while ((r = fota_step(&agent)) == FOTA_RUNNING) {}
 *                                        if (r == FOTA_UPDATE_READY) reboot();
 */
#ifndef FOTA_FOTA_H
#define FOTA_FOTA_H

#include <stddef.h>
#include <stdint.h>

#include "fota/checkin.h"
#include "fota/crypto.h"
#include "fota/delta.h"
#include "fota/error.h"
#include "fota/esp_image.h"
#include "fota/http.h"
#include "fota/manifest.h"
#include "fota/port.h"
#include "fota/record.h"
#include "fota/url.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FOTA_VERSION_STRING "0.1.0"
#ifdef FOTA_NO_MESSAGES /* no message text (src/internal/msg.h): build the application the same way */
#define FOTA_MSG_MAX 1
#else
#define FOTA_MSG_MAX 192 /* last error message, NUL included */
#endif
#define FOTA_MAX_TRANSPORTS 4
#define FOTA_MAX_KEYS 4
#define FOTA_NO_LIMIT 0xFFFFFFFFu /* for limits in struct fota_config */

/* The port's interfaces (flash, boot, transport, clock, crypto) are in
 * fota/port.h. */

enum fota_log_level { FOTA_LOG_ERROR = 0, FOTA_LOG_WARN, FOTA_LOG_INFO, FOTA_LOG_DEBUG };

/* Milestones, for status reports to a server or a display: what happened,
 * in a form a program can act on (the log has the same in words). */
enum fota_event {
    FOTA_EV_CHECKING = 0,     /* a check started */
    FOTA_EV_NO_UPDATE,        /* nothing newer (304 or the same version) */
    FOTA_EV_UPDATE_AVAILABLE, /* a newer manifest verified: fota_last_manifest() */
    FOTA_EV_DOWNLOADING,      /* the image download started or resumed */
    FOTA_EV_RETRYING,         /* a transient failure: fota_last_error(); backing off */
    FOTA_EV_VERIFIED,         /* size and SHA-256 match, read back from flash */
    FOTA_EV_ACTIVATED,        /* the slot boots next: reboot to run it */
    FOTA_EV_CONFIRMED,        /* the running image was confirmed */
    FOTA_EV_ROLLED_BACK,      /* found at init: the last image was rolled back */
    FOTA_EV_FAILED,           /* the check ended with fota_last_error() */
    /* Data partitions (docs/data-partitions.md): fota_data_label() names it */
    FOTA_EV_DATA_WRITING,     /* about to overwrite a data partition: unmount it now */
    FOTA_EV_DATA_READY,       /* the partition holds the new image, compared: mount it again */
};

/* "checking", "no-update", ... */
const char *fota_event_name(int event);

/* ---- Configuration ----------------------------------------------------- */

struct fota;

struct fota_config {
    /* Identity of this device and of the firmware running now. */
    const char *product;       /* must equal the manifest's product */
    int chip;                  /* enum fota_chip of this device */
    uint32_t version_code;     /* of the running firmware */
    const char *version;       /* human string of the running firmware, for logs */

    /* Where to look. May contain "{mac}" (replaced by `mac`, 12 upper-case hex). */
    const char *manifest_url;
    const char *mac;           /* optional */
    const char *user_agent;    /* default "fota/<version>" */
    /* Check-in (fota/checkin.h, docs/fleet.md): the id a fleet server knows
     * this device by (NULL: `mac`), and the running image's SHA-256 (32
     * bytes, the whole image file as released; NULL: unknown). Optional.
     * The agent also treats a manifest for this very image as "up to date"
     * whatever its version code says: a device never re-installs what it
     * runs (issue 9). */
    const char *device_id;
    const uint8_t *image_sha256;

    /* Trust: public keys (uncompressed P-256 points) allowed to sign manifests. */
    const uint8_t (*pubkeys)[FOTA_P256_PUBKEY_SIZE];
    size_t n_pubkeys;

    /* Platform */
    const struct fota_flash *flash;
    const struct fota_boot *boot;
    const struct fota_transport *transports[FOTA_MAX_TRANSPORTS]; /* tried in order */
    size_t n_transports;
    const struct fota_crypto *crypto;

    /* Agent state (highest sequence seen, anti-rollback floor, download
     * progress) lives in a journaled flash region of two or more sectors.
     * state_size 0 disables persistence (not recommended). */
    uint32_t state_addr;
    uint32_t state_size;

    /* Platform callbacks; ctx is passed to each. now_ms is required. */
    void *ctx;
    fota_now_ms_fn now_ms;                           /* monotonic milliseconds */
    int (*utc_now)(void *ctx, int64_t *unix_s);      /* optional: 0 if the time is trusted */
    void (*delay_ms)(void *ctx, uint32_t ms);        /* needed by fota_run() */
    uint32_t (*random)(void *ctx);                   /* optional, for backoff jitter */
    void (*log)(void *ctx, int level, const char *msg);           /* optional */
    void (*progress)(void *ctx, uint32_t done, uint32_t total);   /* optional */
    /* Optional: milestones (enum fota_event); `f` may be queried inside. */
    void (*event)(void *ctx, int event, const struct fota *f);
    /* Runs once before the first flash erase of an update: detach interrupts,
     * stop peripherals. A non-zero return aborts the update
     * (FOTA_ERR_HOOK_REFUSED, final for the check). Optional. */
    int (*pre_update)(void *ctx);

    /* Limits; 0 selects the default in brackets. */
    uint32_t connect_timeout_ms; /* [10000] */
    uint32_t read_timeout_ms;    /* [10000] every single read */
    /* Slow retrieval (TUF): a server feeding a byte just inside every read
     * timeout must not hold the device for hours. FOTA_NO_LIMIT turns off. */
    uint32_t total_timeout_ms;   /* [3600000] whole check+download, per attempt */
    uint32_t min_bytes_per_s;    /* [16] over 10 s windows */
    uint32_t max_attempts;       /* [5] per fota_start() */
    uint32_t backoff_base_ms;    /* [1000] doubled each retry, plus jitter */
    uint32_t backoff_max_ms;     /* [60000] */
    uint32_t max_redirects;      /* [5] */
    uint32_t persist_every;      /* [65536] bytes between saved download progress */
    uint8_t check_only;          /* report FOTA_UPDATE_AVAILABLE, do not download */
    /* A redirect from https:// to http:// is refused (FOTA_ERR_INSECURE_REDIRECT)
     * unless this is set: the user asked for TLS. */
    uint8_t allow_insecure_redirect;
    /* The anti-rollback floor compiled into this firmware (typically its own
     * security counter): the device is never bound by less, also when its
     * saved state is lost or unreadable. */
    uint32_t security_floor_min;
};

/* Caller-owned buffers. Sizes are the caller's choice within the minimums. */
struct fota_buffers {
    uint8_t *rx;       /* network receive buffer (>= 512; 4096 is fast) */
    size_t rx_size;
    char *line;        /* HTTP header line / request (>= 256) */
    size_t line_size;
    char *url;         /* current URL, redirect target (>= 128) */
    size_t url_size;
    char *manifest;    /* manifest text (>= 512) */
    size_t manifest_size;
    /* Optional: patches and compressed images (docs/delta.md). Without them
     * (NULL) the agent always downloads the full image. */
    struct fota_delta *delta; /* the decoder's state */
    uint8_t *delta_out;       /* its output, on the way to flash (>= 256) */
    size_t delta_out_size;
};

/* ---- Persistent agent state --------------------------------------------- */

/* In memory only: on flash the state has a format of its own (persist.h,
 * docs/state.md), so this struct may change freely. */
struct fota_persist {
    uint32_t version;            /* FOTA_PERSIST_FORMAT of what was loaded */
    uint32_t last_sequence;      /* highest manifest sequence accepted */
    uint32_t security_floor;     /* anti-rollback: lowest security counter accepted */
    /* The image activated and not yet confirmed (pending_version 0: none).
     * On confirm the floor rises to pending_security; if the device comes
     * back up in the other slot instead, the version was rolled back. */
    uint32_t pending_version;
    uint32_t pending_security;
    int32_t pending_slot;
    int32_t pending_prev_state;  /* that slot's state before the switch; -1 unknown */
    uint32_t rejected_version;   /* version code that was rolled back; not retried */
    /* Download in progress (dl_size 0: none). */
    uint8_t dl_sha256[32];       /* identifies the image being downloaded */
    uint32_t dl_size;
    uint32_t dl_offset;          /* bytes in the slot, sector-aligned */
    int32_t dl_slot;
    /* When the download is a patch or a compressed image (dl_kind: enum
     * fota_artifact_kind, 0 for the full image): where its decoder can
     * resume. dl_offset is then the checkpoint's output offset. */
    uint8_t dl_kind;
    uint8_t dl_block_shift;
    uint8_t dl_artifact_sha256[8]; /* the first bytes of the artifact's SHA-256 */
    uint32_t dl_patch_offset;
    /* The manifest last acted on: its ETag (empty: none) and the CRC-32 of
     * the URL it came from, for If-None-Match after a reboot. */
    uint32_t manifest_url_crc;
    char manifest_etag[FOTA_HTTP_ETAG_MAX + 1];
    /* A data partition being overwritten (data_busy 1) from the image staged
     * in slot data_slot: the CRC-32 of its label, where it is, the image
     * size and the bytes copied. Set before its first erase, cleared once it
     * compares equal: fota_data_ready() is 0 in between. */
    uint8_t data_busy;
    uint8_t data_slot;
    uint32_t data_label_crc;
    uint32_t data_addr;
    uint32_t data_size;
    uint32_t data_copied;
};

/* ---- The agent --------------------------------------------------------- */

enum fota_result {
    FOTA_IDLE = 0,             /* nothing started */
    FOTA_RUNNING = 1,          /* call fota_step() again */
    FOTA_NO_UPDATE = 2,        /* server has nothing newer (304, or same version) */
    FOTA_UPDATE_AVAILABLE = 3, /* check_only: manifest verified, newer version */
    FOTA_UPDATE_READY = 4,     /* verified and activated: reboot to run it */
};

/* Everything below is private to the core; it is here so that the caller
 * owns the memory. One part per module (docs/agent.md); size: see there. */

/* A failure as the module that met it reports it: the code and a message
 * naming the step and the cause. */
struct fota_report {
    int err;
    char msg[FOTA_MSG_MAX];
};

/* One HTTP exchange over the configured transports (src/session.c). */
struct fota_session {
    const struct fota_config *cfg;
    const struct fota_transport *tr; /* open transport, NULL when closed */
    size_t tr_index;                 /* transport in use / to try */
    uint16_t port;           /* of the open connection; its host is buf.url's */
    uint8_t tls;
    uint8_t reused;          /* this request runs on a kept-alive connection */
    uint8_t phase;           /* connect, send, receive */
    uint8_t redirects;       /* followed for the current request */
    uint8_t use_etag;        /* send If-None-Match: etag */
    const char *what;        /* "manifest" or "image", for messages */
    uint32_t range_from;     /* Range: bytes=range_from- (0: whole resource) */
    uint32_t at;             /* resource offset of the next body byte */
    size_t rx_len, rx_pos;   /* unparsed bytes in buf.rx */
    uint32_t resp_bytes;     /* bytes received for the current response */
    uint32_t started;        /* attempt start, for total_timeout_ms */
    uint32_t window_start;   /* slow-retrieval window */
    uint32_t window_bytes;
    char etag[FOTA_HTTP_ETAG_MAX + 1]; /* manifest ETag for If-None-Match */
    const struct fota_checkin *checkin; /* header fields for this request, or NULL */
    struct fota_http_parser http;
};

/* The inactive slot as a download fills it (src/slot_writer.c). */
struct fota_slot_writer {
    const struct fota_flash *flash;
    struct fota_slot slot;   /* where it lives */
    int index;               /* 0 or 1 */
    uint32_t written;        /* bytes programmed */
    uint32_t erased_to;      /* bytes erased */
    uint32_t end;            /* the image's size: no erase past its last sector */
    uint32_t tail_len;
    uint8_t tail[FOTA_WRITE_SIZE_MAX]; /* bytes waiting for a full write unit */
};

/* The journaled agent state (src/state.c). */
struct fota_state {
    struct fota_record_store store;
    struct fota_persist persist;
};

/* The update the policy runs (src/agent.c). */
struct fota_update {
    uint8_t phase;           /* the step machine */
    uint8_t fetching_image;  /* 0: manifest, 1: image */
    uint8_t header_checked;  /* the image header passed: bytes go to flash */
    uint8_t hook_ran;        /* pre_update ran for this download */
    uint8_t activated;       /* a slot was activated: no check until the reboot (fota_init) */
    uint32_t attempts;
    uint32_t wait_until;     /* backoff deadline (now_ms) */
    uint32_t manifest_len;
    uint32_t offset;         /* image bytes received and hashed */
    uint32_t persisted_at;   /* dl_offset last saved */
    uint32_t rng;
    int result;              /* enum fota_result or error once finished */
    uint8_t head[FOTA_ESP_HEADER_SIZE]; /* first image bytes, held until the header passes */
    /* The artifact being fetched (src/artifact.c): 0 the full image, else
     * 1 + its index in manifest.artifacts. */
    uint8_t artifact;
    uint8_t artifact_failed;  /* bit per artifact index: failed, skip it */
    uint8_t decoded;          /* the decoder produced the whole image */
    uint8_t base_known;       /* base_sha256 holds the hash of base_size running bytes */
    uint32_t patch_offset;    /* artifact bytes received */
    uint32_t base_size, base_pos, base_addr; /* the running image, as a patch's base */
    uint8_t base_sha256[32];
    /* Data images (src/data.c): the next manifest.data[] to look at, the
     * one staged now (1 + index; 0: the application), those installed in
     * this check (bit per index), the copy's verify offset. */
    uint8_t data_index;
    uint8_t data_active;
    uint8_t data_installed;
    uint32_t data_pos;
    struct fota_manifest manifest;
    struct fota_sha256 sha;
};

struct fota {
    const struct fota_config *cfg;
    struct fota_buffers buf;
    int running_slot;
    int running_state;
    struct fota_slot_writer writer;
    struct fota_update update;
    struct fota_state state;
    struct fota_report report; /* last failure */
    struct fota_session session;
    struct fota_checkin checkin; /* who this is, for manifest requests (src/checkin.c) */
};

/* Check the configuration and buffers, load the persistent state and read
 * the boot state. Does not touch the network. */
int fota_init(struct fota *f, const struct fota_config *cfg, const struct fota_buffers *buf);

/* Begin a check (and, unless check_only, the update). Returns 0, or
 * FOTA_ERR_PENDING_CONFIRM while the running image is not confirmed (only
 * where it can be rolled back), or FOTA_ERR_BUSY after FOTA_UPDATE_READY:
 * the activated image is never touched before the reboot. */
int fota_start(struct fota *f);

/* Advance by one bounded piece of work (at most one connect or one read
 * timeout). Returns FOTA_RUNNING while work remains, then the result
 * (FOTA_NO_UPDATE, FOTA_UPDATE_AVAILABLE, FOTA_UPDATE_READY) or a negative
 * error code once the attempts are used up or the failure is final. */
int fota_step(struct fota *f);

/* fota_start() and fota_step() until finished; sleeps through backoff with
 * cfg->delay_ms. */
int fota_run(struct fota *f);

/* Stop whatever runs; closes the connection. Download progress already
 * saved stays valid for a later resume. */
void fota_abort(struct fota *f);

/* The running image is healthy: confirm it (cancels rollback) and raise the
 * anti-rollback floor to its security counter. Harmless when already valid. */
int fota_confirm(struct fota *f);

/* The running image is not healthy: mark it aborted and select the previous
 * one. The caller reboots. FOTA_ERR_NOT_SUPPORTED where the platform cannot
 * roll back (ESP8266). */
int fota_rollback(struct fota *f);

/* Running slot's state (enum fota_img_state). */
int fota_running_state(const struct fota *f);

/* Last error code and its message naming step and cause ("" when none). */
int fota_last_error(const struct fota *f);
const char *fota_last_message(const struct fota *f);

/* The verified manifest of the last check (valid after FOTA_UPDATE_*). */
const struct fota_manifest *fota_last_manifest(const struct fota *f);

/* Name of the transport that carried the last exchange, or NULL. */
const char *fota_transport_used(const struct fota *f);

/* Data partitions (docs/data-partitions.md). 1 when the partition `label`
 * may be mounted: no data image is being written to it; 0 while one is
 * (a copy a power cut interrupted: fota_data_finish() completes it). */
int fota_data_ready(const struct fota *f, const char *label);

/* Complete an interrupted data-partition copy now, from the image staged in
 * flash (no network): at boot, before mounting. 0 when nothing is left to
 * do, else the error; FOTA_ERR_BUSY while a check runs. */
int fota_data_finish(struct fota *f);

/* The label of the data image the running check stages or writes (for the
 * FOTA_EV_DATA_* events), or NULL. */
const char *fota_data_label(const struct fota *f);

/* Persistent state as loaded / last saved. */
const struct fota_persist *fota_persist_state(const struct fota *f);

#ifdef __cplusplus
}
#endif
#endif
