/*
 * Check-in headers: who the device is, on its manifest request.
 *
 * The agent adds these header fields to every manifest GET (never to image
 * downloads), so a fleet server learns the device's identity, firmware and
 * last outcome without an extra round trip; a plain static server ignores
 * them. docs/fleet.md specifies them:
 *
 *   Fota-Id: 240AC4123456              device id (config.device_id, else the MAC)
 *   Fota-Product: demo-board           config.product
 *   Fota-Version: 1002000              running version code
 *   Fota-Sequence: 7                   highest manifest sequence accepted
 *   Fota-Image: <64 hex>               running image SHA-256 (when configured)
 *   Fota-Last: rolled-back 0 2000000   last outcome: event, error code, version code
 *
 * With the longest values (id 64, product 48, any error code, 10-digit codes)
 * they take at most 317 bytes (FOTA_CHECKIN_MAX); typical ones about 195.
 */
#ifndef FOTA_CHECKIN_H
#define FOTA_CHECKIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FOTA_CHECKIN_ID_MAX 64      /* device id: 1..64 of [A-Za-z0-9._:-] */
#define FOTA_CHECKIN_PRODUCT_MAX 48 /* as the manifest's product */
#define FOTA_CHECKIN_MAX 317        /* bytes the headers can add, CRLFs included */

/* The outcome of the device's last update attempt, as the agent saw it:
 * event is FOTA_EV_CONFIRMED, FOTA_EV_ROLLED_BACK, FOTA_EV_FAILED or
 * FOTA_EV_ACTIVATED; FOTA_CHECKIN_NONE before any. Kept in RAM only. */
#define FOTA_CHECKIN_NONE 0xFFu
struct fota_checkin_outcome {
    uint8_t event;            /* enum fota_event or FOTA_CHECKIN_NONE */
    int32_t error;            /* FOTA_ERR_* of a failure, else 0 */
    uint32_t version_code;    /* the version the attempt was about; 0 unknown */
    uint32_t attempt_version; /* internal: version offered in the current check */
};

struct fota_checkin {
    const char *device_id;       /* NULL or "": no Fota-Id */
    const char *product;
    uint32_t version_code;
    uint32_t sequence;
    const uint8_t *image_sha256; /* 32 bytes, NULL: no Fota-Image */
    struct fota_checkin_outcome last;
};

/* Start with no outcome. */
void fota_checkin_outcome_init(struct fota_checkin_outcome *o);

/* Follow the agent's milestones: remember the version a check offered and
 * the end of an attempt. `version` is the version code the event is about
 * (the manifest's for update-available, the rolled-back or confirmed one). */
void fota_checkin_outcome_note(struct fota_checkin_outcome *o, int event, int error,
                               uint32_t version);

/* Insert the check-in header fields into the request req[0..len), which
 * ends with the empty line "\r\n\r\n", before that empty line. Returns the
 * new length, FOTA_ERR_BUFFER_TOO_SMALL when it does not fit `size` (NUL
 * included), or FOTA_ERR_INVALID_ARG for a device id or product outside
 * their character sets and lengths (nothing can be injected). */
int fota_checkin_append(char *req, size_t size, size_t len, const struct fota_checkin *c);

#ifdef __cplusplus
}
#endif
#endif
