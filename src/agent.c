/*
 * The fota agent's policy: what an update does, step by step, in the order
 * it happens:
 *   1. init (here): load the persistent state, read the boot state, settle a
 *      pending confirm or a rollback that happened while we were down
 *      (activate.c: fota_settle_trial);
 *   2. check (here): GET the manifest (If-None-Match);
 *   3. verify the manifest (here, check_manifest): signature, then every
 *      policy (product, chip, replay, anti-rollback, version, size);
 *   4. accept (download.c): resume the image if the slot holds part of it;
 *   5. download (download.c): check the ESP header on the first bytes before
 *      anything is erased, hash as the bytes arrive, hand them to the slot
 *      writer, save progress every persist_every bytes;
 *   6. verify (download.c): size and SHA-256 against the signed manifest,
 *      then read the slot back and hash it again;
 *   7. activate (activate.c): record the pending version, select the slot;
 *   8. confirm, raising the anti-rollback floor, or roll back (activate.c).
 * The modules under the policy report and never call back: session.c (one
 * HTTP exchange), slot_writer.c (the flash of the slot), state.c (the
 * persistent state). The step machine at the end of this file dispatches:
 * every fota_step() does one bounded piece: one connect, one send, one read,
 * a few sector erases, or one chunk of read-back.
 *
 * Why ~550 lines: steps 1 to 3 and the step machine that runs them stay in
 * one file so that the policy reads top to bottom in the order an update
 * happens; check_manifest() is every manifest rule in one function on
 * purpose (one place to audit). Steps 4 to 8 are in download.c and
 * activate.c.
 */
#include "fota/fota.h"

#include <string.h>

#include "internal/agent.h"
#include "internal/defaults.h"
#include "internal/msg.h"
#include "internal/session.h"
#include "internal/slot_writer.h"
#include "internal/state.h"

static uint32_t now(const struct fota *f)
{
    return f->cfg->now_ms(f->cfg->ctx);
}

const char *fota_event_name(int event)
{
    static const char *names[] = {"checking",  "no-update", "update-available", "downloading",
                                  "retrying",  "verified",  "activated",        "confirmed",
                                  "rolled-back", "failed", "data-writing", "data-ready"};
    return event >= 0 && event <= FOTA_EV_DATA_READY ? names[event] : "unknown";
}

void fota_emit(struct fota *f, int event)
{
    const struct fota_persist *p = &f->state.persist;
    uint32_t about = event == FOTA_EV_ROLLED_BACK ? p->rejected_version
                     : event == FOTA_EV_CONFIRMED ? f->cfg->version_code
                                                  : f->update.manifest.version_code;
    fota_checkin_outcome_note(&f->checkin.last, event, f->report.err, about);
    if (f->cfg->event)
        f->cfg->event(f->cfg->ctx, event, f);
}

int fota_save_state(struct fota *f)
{
    return fota_state_save(&f->state, f->cfg, &f->report);
}

/* ---- 1. Init ------------------------------------------------------------- */

static int check_config(const struct fota_config *c, const struct fota_buffers *b)
{
    if (!c || !b || !c->product || !c->manifest_url || !c->flash || !c->boot || !c->crypto ||
        !c->now_ms || c->n_transports == 0 || c->n_transports > FOTA_MAX_TRANSPORTS ||
        !c->pubkeys || c->n_pubkeys == 0 || c->n_pubkeys > FOTA_MAX_KEYS)
        return FOTA_ERR_INVALID_ARG;
    for (size_t i = 0; i < c->n_transports; i++)
        if (!c->transports[i])
            return FOTA_ERR_INVALID_ARG;
    if (!b->rx || b->rx_size < 512 || !b->line || b->line_size < 256 || !b->url ||
        b->url_size < 128 || !b->manifest || b->manifest_size < 512)
        return FOTA_ERR_BUFFER_TOO_SMALL;
    if (c->flash->write_size == 0 || c->flash->write_size > FOTA_WRITE_SIZE_MAX ||
        c->flash->sector_size == 0 || c->flash->sector_size % c->flash->write_size ||
        c->flash->block_size % c->flash->sector_size)
        return FOTA_ERR_INVALID_ARG;
    return 0;
}

/* Identifies the configured manifest URL (with its MAC) in the saved state. */
static uint32_t config_url_crc(const struct fota_config *c)
{
    uint32_t crc = fota_crc32(0, c->manifest_url, strlen(c->manifest_url));
    if (c->mac && strstr(c->manifest_url, "{mac}"))
        crc = fota_crc32(crc, c->mac, strlen(c->mac));
    return crc;
}

int fota_init(struct fota *f, const struct fota_config *cfg, const struct fota_buffers *buf)
{
    if (!f)
        return FOTA_ERR_INVALID_ARG;
    memset(f, 0, sizeof *f);
    f->cfg = cfg;
    int r = check_config(cfg, buf);
    if (r < 0) {
        f->cfg = NULL;
        return r;
    }
    f->buf = *buf;
    fota_checkin_outcome_init(&f->checkin.last);
    f->update.rng = cfg->random ? cfg->random(cfg->ctx) : now(f) | 1u;
    fota_session_init(&f->session, cfg);

    r = cfg->boot->running(cfg->boot->ctx, &f->running_slot, &f->running_state);
    if (r < 0)
        return fota_fail(&f->report, FOTA_ERR_BOOT, "reading the boot state failed (%E)", r);
    if ((r = fota_state_load(&f->state, cfg, &f->report)) < 0)
        return r;
    /* The manifest last found "nothing newer" at this URL: the first check
     * after the reboot asks with its ETag and may get a 304. */
    if (f->state.persist.manifest_etag[0] &&
        f->state.persist.manifest_url_crc == config_url_crc(cfg))
        fota_session_set_etag(&f->session, f->state.persist.manifest_etag);

    return fota_settle_trial(f);
}

/* ---- 2. Check ------------------------------------------------------------ */

/* The manifest URL of the configuration, "{mac}" replaced, into buf.url. */
static int set_url_from_config(struct fota *f)
{
    const char *src = f->cfg->manifest_url, *mark = strstr(src, "{mac}");
    const char *mac = mark ? f->cfg->mac : NULL;
    size_t head = mac ? (size_t)(mark - src) : strlen(src);
    size_t mac_len = mac ? strlen(mac) : 0;
    const char *rest = mac ? mark + 5 : src + head;
    size_t rest_len = strlen(rest);
    if (head + mac_len + rest_len >= f->buf.url_size)
        return fota_fail(&f->report, FOTA_ERR_BUFFER_TOO_SMALL,
                         "manifest URL does not fit the %u-byte URL buffer",
                         (unsigned)f->buf.url_size);
    fota_session_close(&f->session); /* the URL changes: no connection kept for it */
    memcpy(f->buf.url, src, head);
    if (mac_len)
        memcpy(f->buf.url + head, mac, mac_len);
    memcpy(f->buf.url + head + mac_len, rest, rest_len + 1);
    return 0;
}

/* An attempt fetches the manifest, or continues the image where it stopped. */
static int begin_attempt(struct fota *f)
{
    struct fota_update *u = &f->update;
    fota_session_begin(&f->session);
    if (u->fetching_image) {
        fota_download_request(f); /* keep what was downloaded; continue with Range */
    } else {
        int r = set_url_from_config(f);
        if (r < 0)
            return r;
        fota_session_get(&f->session, "manifest", 0, 1);
        struct fota_checkin *ci = &f->checkin; /* .last follows the events */
        ci->device_id = f->cfg->device_id ? f->cfg->device_id : f->cfg->mac;
        ci->product = f->cfg->product;
        ci->version_code = f->cfg->version_code;
        ci->sequence = f->state.persist.last_sequence;
        ci->image_sha256 = f->cfg->image_sha256;
        fota_session_checkin(&f->session, ci);
    }
    u->phase = FOTA_PH_EXCHANGE;
    return FOTA_RUNNING;
}

static int on_manifest_headers(struct fota *f)
{
    unsigned st = fota_session_response(&f->session)->status;
    if (st == 304)
        return FOTA_NO_UPDATE;
    if (st != 200)
        return fota_session_refuse(&f->session, &f->buf, &f->report);
    f->update.manifest_len = 0;
    return FOTA_RUNNING;
}

static int on_manifest_body(struct fota *f, const uint8_t *data, size_t len)
{
    struct fota_update *u = &f->update;
    if (len > f->buf.manifest_size - u->manifest_len)
        return fota_fail(&f->report, FOTA_ERR_MANIFEST_TOO_LARGE,
                         "manifest from %s is larger than the %u-byte buffer", f->buf.url,
                         (unsigned)f->buf.manifest_size);
    memcpy(f->buf.manifest + u->manifest_len, data, len);
    u->manifest_len += (uint32_t)len;
    return FOTA_RUNNING;
}

/* ---- 3. Verify the manifest ------------------------------------------------ */

/* Nothing newer: If-None-Match from now on, with the manifest's ETag kept in
 * the agent state so that the first check after a reboot gets a 304 too. */
static int nothing_newer(struct fota *f, uint32_t prev_crc, const char *prev_etag)
{
    struct fota_persist *p = &f->state.persist;
    const char *etag = fota_session_response(&f->session)->etag;
    int r;
    fota_session_keep_etag(&f->session, 1);
    if (etag[0]) { /* saved only when it changed: a check costs no flash write */
        uint32_t crc = config_url_crc(f->cfg);
        int same = crc == prev_crc && strcmp(etag, prev_etag) == 0;
        memcpy(p->manifest_etag, etag, sizeof p->manifest_etag);
        p->manifest_url_crc = crc;
        if (!same && (r = fota_save_state(f)) < 0)
            return r;
    }
    return FOTA_NO_UPDATE;
}

/* Every check of a manifest, in order, each with its own error. Returns
 * FOTA_UPDATE_AVAILABLE, FOTA_NO_UPDATE (the version runs already) or the
 * error. Raises the highest sequence seen. */
static int check_manifest(struct fota *f)
{
    struct fota_manifest *m = &f->update.manifest;
    const struct fota_config *c = f->cfg;
    struct fota_persist *p = &f->state.persist;
    struct fota_report *rep = &f->report;
    char hex[2 * FOTA_KEY_ID_SIZE + 1];
    int line = 0, r;

    char prev_etag[sizeof p->manifest_etag];
    uint32_t prev_crc = p->manifest_url_crc;
    memcpy(prev_etag, p->manifest_etag, sizeof prev_etag);
    fota_session_keep_etag(&f->session, 0); /* If-None-Match only after "nothing newer" */
    p->manifest_etag[0] = '\0';              /* saved with the next change of state */
    r = fota_manifest_parse(f->buf.manifest, f->update.manifest_len, m, &line);
    if (r < 0 && fota_manifest_text_problem(f->buf.manifest, f->update.manifest_len))
        return fota_fail(rep, r, "manifest %s (%s)",
                         fota_manifest_text_problem(f->buf.manifest, f->update.manifest_len),
                         f->buf.url);
    if (r < 0)
        return fota_fail(rep, r, "manifest from %s is malformed at line %d", f->buf.url, line);
    r = fota_manifest_verify(m, f->buf.manifest, c->pubkeys, c->n_pubkeys, c->crypto);
    fota_hex(m->key_id, sizeof m->key_id, hex);
    if (r == FOTA_ERR_UNKNOWN_KEY)
        return fota_fail(rep, r, "manifest is signed by key %s, which this device does not trust",
                         hex);
    if (r < 0)
        return fota_fail(rep, r, "manifest signature invalid (key %s, %u signed bytes)", hex,
                         (unsigned)m->signed_len);
    int64_t t;
    if (m->expires != 0 && c->utc_now && c->utc_now(c->ctx, &t) == 0 && t > m->expires)
        return fota_fail(rep, FOTA_ERR_EXPIRED, "manifest for %s expired %u seconds ago",
                         m->version,
                         (unsigned)(t - m->expires > 0xFFFFFFFF ? 0xFFFFFFFF : t - m->expires));
    if (strcmp(m->product, c->product) != 0)
        return fota_fail(rep, FOTA_ERR_WRONG_PRODUCT,
                         "manifest is for product '%s', this device is '%s'", m->product,
                         c->product);
    if (m->chip != c->chip && c->chip != FOTA_CHIP_ANY)
        return fota_fail(rep, FOTA_ERR_WRONG_CHIP, "manifest is for %s but this device is %s",
                         fota_chip_display_name(m->chip), fota_chip_display_name(c->chip));
    if (m->sequence < p->last_sequence)
        return fota_fail(rep, FOTA_ERR_REPLAY,
                         "manifest sequence %u is older than %u already seen: replayed manifest",
                         (unsigned)m->sequence, (unsigned)p->last_sequence);
    if (m->security_counter < p->security_floor)
        return fota_fail(rep, FOTA_ERR_ROLLBACK,
                         "security counter %u is below this device's floor %u: rollback refused",
                         (unsigned)m->security_counter, (unsigned)p->security_floor);
    if (m->sequence > p->last_sequence) {
        p->last_sequence = m->sequence;
        if ((r = fota_save_state(f)) < 0)
            return r;
    }
    /* The image this device runs is up to date whatever the version codes
     * say: a device whose code is unknown or derived differently never
     * downloads and flashes itself again (issue 9). */
    if (c->image_sha256 && memcmp(m->sha256, c->image_sha256, sizeof m->sha256) == 0) {
        fota_hex(m->sha256, 8, hex);
        fota_log(c, FOTA_LOG_INFO, "manifest names the running image (%s, sha256 %s...): "
                 "up to date", m->version, hex);
        return nothing_newer(f, prev_crc, prev_etag);
    }
    if (m->version_code == c->version_code)
        return nothing_newer(f, prev_crc, prev_etag);
    if (m->version_code < c->version_code)
        return fota_fail(rep, FOTA_ERR_NOT_NEWER,
                         "server offers %s (code %u), older than the running %s (code %u): "
                         "refused",
                         m->version, (unsigned)m->version_code,
                         c->version ? c->version : "firmware", (unsigned)c->version_code);
    if (m->version_code == p->rejected_version)
        return fota_fail(rep, FOTA_ERR_REJECTED_VERSION,
                         "version %s (code %u) was rolled back on this device before; waiting "
                         "for a newer one",
                         m->version, (unsigned)m->version_code);
    const struct fota_slot *slot = &f->writer.slot;
    if (m->size == 0 || m->size > slot->size)
        return fota_fail(rep, FOTA_ERR_TOO_BIG, "image of %u bytes does not fit slot %d (%u bytes)",
                         (unsigned)m->size, f->writer.index, (unsigned)slot->size);
    if ((r = fota_data_check(f)) < 0)
        return r; /* a data image this device cannot take: refused before any erase */
    fota_log(c, FOTA_LOG_INFO, "update available: %s (code %u), running %s (code %u)",
             m->version, (unsigned)m->version_code, c->version ? c->version : "?",
             (unsigned)c->version_code);
    fota_emit(f, FOTA_EV_UPDATE_AVAILABLE);
    return FOTA_UPDATE_AVAILABLE;
}

static int on_manifest_done(struct fota *f)
{
    int r = check_manifest(f);
    if (r != FOTA_UPDATE_AVAILABLE || f->cfg->check_only)
        return r;
    f->update.data_index = 0;
    f->update.data_active = 0;
    return fota_data_next(f); /* data images first, then the application */
}

/* ---- The step machine -------------------------------------------------------------- */

/* One read from the session and everything it brings, event by event, to
 * the manifest's or the image's handlers. */
static int do_exchange(struct fota *f)
{
    struct fota_update *u = &f->update;
    int ev = fota_session_advance(&f->session, &f->buf, &f->report);
    if (ev != FOTA_SESSION_INPUT)
        return ev < 0 ? ev : FOTA_RUNNING;
    /* Each event consumes bytes, until the session needs more input (DONE may
     * follow the last body byte with no input left). */
    for (size_t guard = 0; guard <= f->buf.rx_size + 4; guard++) {
        const uint8_t *body = NULL;
        size_t len = 0;
        int r;
        ev = fota_session_next(&f->session, &f->buf, &f->report, &body, &len);
        if (ev == FOTA_SESSION_HEADERS)
            r = u->fetching_image ? fota_download_headers(f) : on_manifest_headers(f);
        else if (ev == FOTA_SESSION_BODY)
            r = u->fetching_image ? fota_download_body(f, body, len)
                                  : on_manifest_body(f, body, len);
        else if (ev == FOTA_SESSION_DONE)
            return u->fetching_image ? fota_download_done(f) : on_manifest_done(f);
        else
            return ev < 0 ? ev : FOTA_RUNNING;
        if (r != FOTA_RUNNING || u->phase != FOTA_PH_EXCHANGE)
            return r; /* a result, or the image is complete: verify it */
    }
    return FOTA_RUNNING;
}

int fota_start(struct fota *f)
{
    if (!f || !f->cfg)
        return FOTA_ERR_INVALID_ARG;
    struct fota_update *u = &f->update;
    if (u->phase != FOTA_PH_IDLE && u->phase != FOTA_PH_DONE)
        return FOTA_ERR_BUSY;
    /* An activated image is the bootloader's until the reboot: a new check
     * would erase the slot it is about to boot (eboot on ESP8266 has no
     * fallback at all). */
    if (u->activated)
        return fota_fail(&f->report, FOTA_ERR_BUSY,
                         "slot %d holds the activated update: reboot to run it before the next "
                         "check",
                         f->writer.index);
    /* Without rollback (fota_boot.rollback NULL) confirming protects nothing
     * and nothing would ever end "pending": updates go on regardless. */
    if (f->running_state == FOTA_IMG_PENDING_VERIFY && f->cfg->boot->rollback)
        return fota_fail(&f->report, FOTA_ERR_PENDING_CONFIRM,
                         "the running image in slot %d is not confirmed yet: call fota_confirm() "
                         "first",
                         f->running_slot);
    if (f->running_state == FOTA_IMG_PENDING_VERIFY)
        fota_log(f->cfg, FOTA_LOG_WARN,
                 "the running image in slot %d is not confirmed; this platform cannot roll "
                 "back, so the check goes on",
                 f->running_slot);
    int target = 1 - f->running_slot;
    struct fota_slot slot;
    int r = f->cfg->boot->slot_info(f->cfg->boot->ctx, target, &slot);
    if (r < 0)
        return fota_fail(&f->report, r == FOTA_ERR_BOOT_MODE ? r : FOTA_ERR_BOOT,
                         "slot %d is not usable (%E)", target, r);
    if (slot.addr % f->cfg->flash->sector_size)
        return fota_fail(&f->report, FOTA_ERR_BOOT, "slot %d at 0x%x is not sector-aligned",
                         target, (unsigned)slot.addr);
    fota_slot_writer_init(&f->writer, f->cfg->flash, target, &slot);
    u->attempts = 0;
    u->fetching_image = 0;
    u->artifact = 0;
    u->artifact_failed = 0;
    u->data_active = 0;
    u->data_installed = 0;
    f->report.err = 0;
    f->report.msg[0] = '\0';
    u->result = FOTA_RUNNING;
    fota_log(f->cfg, FOTA_LOG_DEBUG, "check started");
    fota_emit(f, FOTA_EV_CHECKING);
    if (f->state.persist.data_busy) {
        /* a data copy a power cut interrupted comes first: the staged image
         * waits in the slot the check would overwrite */
        u->data_pos = 0;
        u->phase = FOTA_PH_DATACOPY;
        return 0;
    }
    int b = begin_attempt(f);
    return b == FOTA_RUNNING ? 0 : b;
}

/* After a failure: retry with exponential backoff and jitter, or give up. */
static int after_error(struct fota *f, int err)
{
    struct fota_update *u = &f->update;
    const struct fota_config *c = f->cfg;
    fota_session_close(&f->session);
    if (fota_artifact_fallback(f, err)) {
        u->wait_until = now(f); /* at once: the next attempt takes another artifact */
        u->phase = FOTA_PH_WAIT;
        fota_emit(f, FOTA_EV_RETRYING);
        return FOTA_RUNNING;
    }
    u->attempts++;
    uint32_t max = fota_cfg_or(c->max_attempts, FOTA_DEFAULT_MAX_ATTEMPTS);
    if (!fota_err_is_transient(err) || u->attempts >= max) {
        fota_log(c, FOTA_LOG_ERROR, "%s", f->report.msg);
        u->phase = FOTA_PH_DONE;
        u->result = err;
        fota_emit(f, FOTA_EV_FAILED);
        return err;
    }
    uint32_t base = fota_cfg_or(c->backoff_base_ms, FOTA_DEFAULT_BACKOFF_BASE_MS);
    uint32_t cap = fota_cfg_or(c->backoff_max_ms, FOTA_DEFAULT_BACKOFF_MAX_MS);
    uint32_t delay = base;
    for (uint32_t i = 1; i < u->attempts && delay < cap; i++)
        delay *= 2;
    if (delay > cap)
        delay = cap;
    /* "equal jitter": half fixed, half random, so a fleet does not retry in step */
    u->rng ^= u->rng << 13;
    u->rng ^= u->rng >> 17;
    u->rng ^= u->rng << 5;
    delay = delay / 2 + u->rng % (delay / 2 + 1);
    uint32_t ra = fota_session_response(&f->session)->retry_after_s;
    if ((err == FOTA_ERR_HTTP_SERVER || err == FOTA_ERR_HTTP_BUSY) && ra) {
        uint32_t ra_ms = ra > cap / 1000 ? cap : ra * 1000;
        if (ra_ms > delay)
            delay = ra_ms;
    }
    fota_log(c, FOTA_LOG_WARN, "%s; retry %u of %u in %u ms", f->report.msg,
             (unsigned)u->attempts, (unsigned)(max - 1), (unsigned)delay);
    u->wait_until = now(f) + delay;
    u->phase = FOTA_PH_WAIT;
    fota_emit(f, FOTA_EV_RETRYING);
    return FOTA_RUNNING;
}

int fota_step(struct fota *f)
{
    if (!f || !f->cfg)
        return FOTA_ERR_INVALID_ARG;
    struct fota_update *u = &f->update;
    int r;
    switch (u->phase) {
    case FOTA_PH_IDLE:
        return FOTA_IDLE;
    case FOTA_PH_DONE:
        return u->result;
    case FOTA_PH_WAIT:
        if ((int32_t)(now(f) - u->wait_until) < 0)
            return FOTA_RUNNING;
        r = begin_attempt(f);
        break;
    case FOTA_PH_EXCHANGE:
        /* an erase ahead of the image is a step of its own */
        r = fota_download_erase_ahead(f);
        if (r == 0)
            r = do_exchange(f);
        break;
    case FOTA_PH_REHASH:
        r = fota_download_rehash(f);
        break;
    case FOTA_PH_BASEHASH:
        r = fota_artifact_hash_base(f);
        break;
    case FOTA_PH_READBACK:
        r = fota_download_readback(f);
        break;
    case FOTA_PH_ACTIVATE:
        r = fota_activate(f);
        break;
    case FOTA_PH_DATAHASH:
        r = fota_data_hash_step(f);
        break;
    case FOTA_PH_DATACOPY:
        /* once the partition compares equal, the manifest again: the next
         * data image or the application */
        r = fota_data_copy_step(f);
        if (r == 0) {
            u->fetching_image = 0;
            u->data_active = 0;
            r = begin_attempt(f);
        }
        break;
    default:
        r = fota_fail(&f->report, FOTA_ERR_INTERNAL, "the agent is in no known phase (%u)",
                      (unsigned)u->phase);
        break;
    }
    if (r < 0)
        return after_error(f, r);
    if (r != FOTA_RUNNING) {
        fota_session_close(&f->session); /* a check ends with no connection left open */
        u->phase = FOTA_PH_DONE;
        u->result = r;
        if (r == FOTA_NO_UPDATE)
            fota_emit(f, FOTA_EV_NO_UPDATE);
    }
    return r;
}

int fota_run(struct fota *f)
{
    int r = fota_start(f);
    if (r < 0)
        return r;
    for (;;) { /* ends: attempts, redirects, sizes and deadlines are bounded */
        r = fota_step(f);
        if (r != FOTA_RUNNING)
            return r;
        if (f->update.phase == FOTA_PH_WAIT && f->cfg->delay_ms) {
            int32_t left = (int32_t)(f->update.wait_until - now(f));
            if (left > 0)
                f->cfg->delay_ms(f->cfg->ctx, (uint32_t)left);
        }
    }
}

void fota_abort(struct fota *f)
{
    if (!f || !f->cfg)
        return;
    fota_session_close(&f->session);
    f->update.phase = FOTA_PH_IDLE;
}

/* ---- Accessors ---------------------------------------------------------------------------- */

int fota_running_state(const struct fota *f)
{
    return f ? f->running_state : FOTA_IMG_UNDEFINED;
}

int fota_last_error(const struct fota *f)
{
    return f ? f->report.err : FOTA_ERR_INVALID_ARG;
}

const char *fota_last_message(const struct fota *f)
{
#ifdef FOTA_NO_MESSAGES
    return f && f->report.err ? fota_strerror(f->report.err) : "";
#else
    return f ? f->report.msg : "";
#endif
}

const struct fota_manifest *fota_last_manifest(const struct fota *f)
{
    return f ? &f->update.manifest : NULL;
}

const char *fota_transport_used(const struct fota *f)
{
    if (!f || !f->cfg)
        return NULL;
    return fota_session_transport(&f->session);
}

const struct fota_persist *fota_persist_state(const struct fota *f)
{
    return f ? &f->state.persist : NULL;
}
