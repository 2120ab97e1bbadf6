/*
 * The image, from accepting a manifest to a verified slot: resume or start
 * the download, hold the first bytes until the ESP header passes (nothing is
 * erased before), hash what arrives and hand it to the slot writer, save
 * progress, then check size and SHA-256 and read the slot back. Part of the
 * policy (agent.h); the HTTP is the session's, the flash the slot writer's.
 */
#include <string.h>

#include "internal/agent.h"
#include "internal/defaults.h"
#include "internal/msg.h"
#include "internal/session.h"
#include "internal/slot_writer.h"
#include "internal/state.h"

static int finish_image(struct fota *f);

/* SHA-256 of the image through the backend; a backend failure is reported
 * (FOTA_ERR_CRYPTO), never taken for a hash. */
static int hash_failed(struct fota *f, const char *step)
{
    return fota_fail(&f->report, FOTA_ERR_CRYPTO,
                     "SHA-256 %s of the image failed in the crypto backend", step);
}

static int hash_start(struct fota *f)
{
    const struct fota_crypto *c = f->cfg->crypto;
    return c->sha256_start(c->ctx, &f->update.sha) != 0 ? hash_failed(f, "start") : 0;
}

static int hash_update(struct fota *f, const uint8_t *data, size_t len)
{
    const struct fota_crypto *c = f->cfg->crypto;
    return c->sha256_update(c->ctx, &f->update.sha, data, len) != 0 ? hash_failed(f, "update")
                                                                     : 0;
}

/* ---- 4. Accept: start or resume the image ----------------------------------- */

void fota_download_request(struct fota *f)
{
    struct fota_update *u = &f->update;
    fota_session_retarget(&f->session, &f->buf, u->manifest.url);
    memcpy(f->buf.url, u->manifest.url, strlen(u->manifest.url) + 1);
    fota_session_get(&f->session, u->artifact ? "patch" : "image",
                     u->artifact ? u->patch_offset : u->offset, 0);
}

/* Prepare the image download: resolve its URL, and resume when the slot
 * already holds part of this very image. */
int fota_download_start(struct fota *f)
{
    struct fota_update *u = &f->update;
    struct fota_manifest *m = &u->manifest;
    struct fota_persist *p = &f->state.persist;
    const struct fota_manifest_artifact *a;
    int r;

    int n = fota_artifact_choose(f);
    if (n != 0)
        return n < 0 ? n : FOTA_RUNNING; /* hashing the running image first */
    a = fota_artifact_current(f);
    n = fota_url_resolve(f->buf.url, m->url, f->buf.line, f->buf.line_size);
    if (n < 0 || (size_t)n >= sizeof m->url)
        return fota_fail(&f->report, FOTA_ERR_URL,
                         "image URL '%s' (relative to %s) is malformed or too long", m->url,
                         f->buf.url);
    memcpy(m->url, f->buf.line, (size_t)n + 1); /* absolute from now on */

    u->fetching_image = 1;
    u->offset = 0;
    fota_slot_writer_restart(&f->writer, 0);
    f->writer.end = m->size;
    u->header_checked = u->data_active ? 1 : 0; /* a data image has no ESP header */
    u->hook_ran = 0;
    u->patch_offset = 0;
    if ((r = hash_start(f)) < 0)
        return r;

    if (p->dl_size == m->size && p->dl_slot == f->writer.index &&
        memcmp(p->dl_sha256, m->sha256, 32) == 0 && p->dl_offset > 0 &&
        p->dl_offset <= m->size && p->dl_kind == (a ? a->kind : 0) &&
        (!a || memcmp(p->dl_artifact_sha256, a->sha256, sizeof p->dl_artifact_sha256) == 0)) {
        fota_log(f->cfg, FOTA_LOG_INFO, "resuming %s at offset %u of %u", m->version,
                 (unsigned)p->dl_offset, (unsigned)m->size);
        fota_emit(f, FOTA_EV_DOWNLOADING);
        u->phase = FOTA_PH_REHASH;
        return FOTA_RUNNING;
    }
    fota_state_clear_download(p);
    memcpy(p->dl_sha256, m->sha256, 32);
    p->dl_size = m->size;
    p->dl_slot = f->writer.index;
    if (a) {
        p->dl_kind = a->kind;
        memcpy(p->dl_artifact_sha256, a->sha256, sizeof p->dl_artifact_sha256);
        if ((n = fota_artifact_decoder_start(f, 0)) < 0)
            return n;
    }
    u->persisted_at = 0;
    fota_log(f->cfg, FOTA_LOG_INFO, "downloading %s: %u bytes into slot %d", m->version,
             (unsigned)m->size, f->writer.index);
    fota_emit(f, FOTA_EV_DOWNLOADING);
    fota_download_request(f);
    u->phase = FOTA_PH_EXCHANGE;
    return FOTA_RUNNING;
}

/* ---- 5. Download ------------------------------------------------------------- */

/* The first bytes must be an image this device boots. */
static int check_image_header(struct fota *f, const uint8_t *head, uint32_t len)
{
    struct fota_esp_header eh;
    int r = fota_esp_check_header(head, len, f->cfg->chip, &eh);
    if (r == FOTA_ERR_IMAGE_CHIP)
        return fota_fail(&f->report, r,
                         "image is for %s but this device is %s: refused before flashing",
                         fota_chip_display_name(eh.chip), fota_chip_display_name(f->cfg->chip));
    if (r < 0)
        return fota_fail(&f->report, r,
                         "image from %s is not a valid ESP image (magic 0x%x, %u segments)",
                         f->buf.url, head[0], len > 1 ? head[1] : 0u);
    return 0;
}

/* Resume after a reboot: hash the bytes the slot already holds, one buffer
 * per step; the final SHA-256 check covers them like any other byte. */
int fota_download_rehash(struct fota *f)
{
    struct fota_update *u = &f->update;
    uint32_t at = u->offset;
    int n = fota_slot_writer_hash(&f->writer, f->cfg->crypto, &u->sha, &u->offset,
                                  f->state.persist.dl_offset, f->buf.rx, f->buf.rx_size,
                                  &f->report);
    if (n < 0)
        return n;
    if (n > 0) {
        struct fota_esp_header eh;
        if (at == 0 && !u->data_active &&
            fota_esp_check_header(f->buf.rx, (size_t)n, f->cfg->chip, &eh) < 0) {
            /* not what we wrote: start over */
            fota_log(f->cfg, FOTA_LOG_WARN,
                     "slot %d does not hold the start of the image being resumed: downloading "
                     "it again",
                     f->writer.index);
            fota_state_clear_download(&f->state.persist);
            return fota_download_start(f);
        }
        return FOTA_RUNNING;
    }
    fota_slot_writer_restart(&f->writer, u->offset);
    u->persisted_at = u->offset;
    u->header_checked = 1;
    if (u->offset == u->manifest.size)
        return finish_image(f); /* complete before the reset: verify and activate */
    if (u->artifact) {
        int r = fota_artifact_decoder_start(f, 1);
        if (r < 0)
            return r;
        u->patch_offset = f->state.persist.dl_patch_offset;
    }
    fota_download_request(f);
    u->phase = FOTA_PH_EXCHANGE;
    return FOTA_RUNNING;
}

/* The server's answer to the image request: 206 continues, 200 and 416
 * start over (the bytes written so far are not trusted to match). */
int fota_download_headers(struct fota *f)
{
    struct fota_update *u = &f->update;
    const struct fota_http_response *h = fota_session_response(&f->session);
    const struct fota_manifest_artifact *a = fota_artifact_current(f);
    unsigned st = h->status;
    uint32_t size = a ? a->size : u->manifest.size;
    uint32_t from = a ? u->patch_offset : u->offset;
    int r;

    if (st == 206 && from > 0) {
        if (!h->has_content_range || h->range_first != from ||
            (h->range_complete != UINT64_MAX && h->range_complete != size) ||
            h->range_last >= size)
            return fota_fail(&f->report, FOTA_ERR_HTTP_RANGE,
                             "asked for bytes %u- of %s but the server sent a different range",
                             (unsigned)from, f->buf.url);
        fota_log(f->cfg, FOTA_LOG_INFO, "server continues at offset %u", (unsigned)from);
        return FOTA_RUNNING;
    }
    if (st == 200 && h->framing == FOTA_HTTP_FRAMING_LENGTH && h->content_length != size)
        return fota_fail(&f->report, FOTA_ERR_HTTP_LENGTH,
                         "server sends %u bytes for %s but the manifest signs %u",
                         (unsigned)(h->content_length > 0xFFFFFFFFu ? 0xFFFFFFFFu
                                                                    : h->content_length),
                         f->buf.url, (unsigned)size);
    if (st == 416 && from == 0)
        return fota_fail(&f->report, FOTA_ERR_HTTP_UNSATISFIABLE,
                         "server answered 416 to a request for the whole of %s, which had no "
                         "Range: the server is misconfigured", f->buf.url);
    if (st == 416 || (st == 200 && from > 0)) {
        /* No resume from this server: start over. That costs an attempt,
         * so a server that refuses every resume cannot keep the device
         * asking (issue 15: a 416 loop made 25,709 requests in 20 s). */
        uint32_t resumed_at = from;
        fota_log(f->cfg, FOTA_LOG_INFO, "server answered %u to a Range request: starting over",
                 st);
        u->offset = 0;
        fota_slot_writer_restart(&f->writer, 0);
        u->header_checked = u->data_active ? 1 : 0;
        if ((r = hash_start(f)) < 0)
            return r;
        u->persisted_at = 0;
        u->patch_offset = 0;
        if (a && (r = fota_artifact_decoder_start(f, 0)) < 0)
            return r;
        if (f->state.persist.dl_offset != 0) {
            /* the saved progress must not outlive the sectors it names */
            f->state.persist.dl_offset = 0;
            f->state.persist.dl_patch_offset = 0;
            if ((r = fota_save_state(f)) < 0)
                return r;
        }
        if (st == 416) /* a new request from 0, after the backoff */
            return fota_fail(&f->report, FOTA_ERR_HTTP_RANGE,
                             "server answered 416 to bytes %u- of %s: the download starts over",
                             (unsigned)resumed_at, f->buf.url);
        /* a 200: the whole image follows in this very answer, no new
         * request; the interruption that led to the resume was counted */
        return FOTA_RUNNING;
    }
    if (st == 200)
        return FOTA_RUNNING;
    return fota_session_refuse(&f->session, &f->buf, &f->report);
}

/* Record how far the slot is written, every persist_every bytes. */
static int save_progress(struct fota *f)
{
    struct fota_update *u = &f->update;
    struct fota_persist *p = &f->state.persist;
    if (f->writer.written - u->persisted_at <
        fota_cfg_or(f->cfg->persist_every, FOTA_DEFAULT_PERSIST_EVERY))
        return 0;
    uint32_t at = fota_slot_writer_durable(&f->writer);
    if (u->artifact) {
        /* a decoder resumes only at a block start, once the output before
         * it is on flash */
        struct fota_delta_checkpoint cp;
        const struct fota_delta_header *h = fota_delta_header(f->buf.delta);
        fota_delta_get_checkpoint(f->buf.delta, &cp);
        if (!h || cp.output_offset > at)
            return 0;
        at = cp.output_offset;
        if (at <= p->dl_offset)
            return 0;
        p->dl_patch_offset = cp.patch_offset;
        p->dl_block_shift = h->block_shift;
    }
    if (at <= p->dl_offset)
        return 0;
    p->dl_offset = at;
    u->persisted_at = at;
    return fota_save_state(f);
}

/* Bytes go to flash only once the header passed; the pre-update hook runs
 * before the first of them. `data` has FOTA_SLOT_WRITER_LEAD bytes of
 * scratch in front. */
static int write_slot(struct fota *f, uint8_t *data, uint32_t len)
{
    struct fota_update *u = &f->update;
    if (!u->hook_ran) {
        u->hook_ran = 1;
        if (f->cfg->pre_update && f->cfg->pre_update(f->cfg->ctx) != 0)
            return fota_fail(&f->report, FOTA_ERR_HOOK_REFUSED,
                             "the pre-update hook refused the update before the first erase");
    }
    return fota_slot_writer_write(&f->writer, data, len, &f->report);
}

/* Image bytes, downloaded or decoded: header check, hash, flash, progress.
 * `data` is in the agent's receive buffer or the decoder's output, both with
 * FOTA_SLOT_WRITER_LEAD bytes free in front (session.c, decode_patch). */
static int accept_image(struct fota *f, uint8_t *data, size_t len)
{
    struct fota_update *u = &f->update;
    uint32_t size = u->manifest.size;
    uint32_t held = 0;
    int r;
    if (len > size - u->offset)
        return fota_fail(&f->report, FOTA_ERR_IMAGE_SIZE,
                         "server sent more than the %u signed bytes of %s: refused",
                         (unsigned)size, f->buf.url);
    if (!u->header_checked) {
        /* The header must pass before anything is erased: hold the first
         * bytes until there are enough. */
        uint32_t need = FOTA_ESP_HEADER_SIZE < size ? FOTA_ESP_HEADER_SIZE : size;
        uint32_t take = need - u->offset < len ? need - u->offset : (uint32_t)len;
        memcpy(u->head + u->offset, data, take);
        if (u->offset + take < need) { /* rare: fewer than 24 bytes arrived */
            u->offset += take;
            return hash_update(f, data, len) < 0 ? FOTA_ERR_CRYPTO : FOTA_RUNNING;
        }
        if ((r = check_image_header(f, u->head, need)) < 0)
            return r;
        u->header_checked = 1;
        held = u->offset; /* flashed in front of these bytes, in the same program */
    }
    if ((r = hash_update(f, data, len)) < 0)
        return r;
    memcpy(data - held, u->head, held);
    if ((r = write_slot(f, data - held, held + (uint32_t)len)) < 0)
        return r;
    u->offset += (uint32_t)len;
    if (f->cfg->progress)
        f->cfg->progress(f->cfg->ctx, u->offset, size);
    return save_progress(f);
}

/* Patch bytes: through the decoder, its output to the slot. One call of
 * the decoder per output buffer; it is done when it says so. */
static int decode_patch(struct fota *f, const uint8_t *data, size_t len)
{
    struct fota_update *u = &f->update;
    const struct fota_manifest_artifact *a = fota_artifact_current(f);
    const struct fota_delta_header *h;
    int r = 0;
    if (len > a->size - u->patch_offset)
        return fota_fail(&f->report, FOTA_ERR_IMAGE_SIZE,
                         "server sent more than the %u signed bytes of %s: refused",
                         (unsigned)a->size, f->buf.url);
    while (r == 0 && !u->decoded) {
        size_t used = 0, made = 0;
        r = fota_delta_run(f->buf.delta, data, len, &used,
                           f->buf.delta_out + FOTA_SLOT_WRITER_LEAD,
                           f->buf.delta_out_size - FOTA_SLOT_WRITER_LEAD, &made);
        data += used;
        len -= used;
        u->patch_offset += (uint32_t)used;
        h = fota_delta_header(f->buf.delta);
        if (h && (h->target_size != u->manifest.size ||
                  memcmp(h->target_sha256, u->manifest.sha256, 32) != 0))
            return fota_fail(&f->report, FOTA_ERR_DELTA_CORRUPT,
                             "%s rebuilds another image than the manifest signs", f->buf.url);
        if (r < 0)
            return fota_fail(&f->report, r,
                             "%s is damaged at byte %u (image byte %u): %E", f->buf.url,
                             (unsigned)u->patch_offset, (unsigned)(u->offset + made), r);
        if (made > 0) {
            int w = accept_image(f, f->buf.delta_out + FOTA_SLOT_WRITER_LEAD, made);
            if (w < 0)
                return w;
        }
        if (r == 1)
            u->decoded = 1;
        else if (used == 0 && made == 0)
            break; /* wants more of the patch */
    }
    if (u->decoded && u->patch_offset == a->size)
        return finish_image(f);
    return FOTA_RUNNING;
}

int fota_download_erase_ahead(struct fota *f)
{
    struct fota_update *u = &f->update;
    struct fota_slot_writer *w = &f->writer;
    if (!u->fetching_image || !u->header_checked || !u->hook_ran)
        return 0; /* nothing is erased before the header passed */
    uint32_t want = w->written + w->tail_len + (uint32_t)f->buf.rx_size;
    if (want > u->manifest.size)
        want = u->manifest.size;
    if (w->erased_to >= want)
        return 0;
    int r = fota_slot_writer_erase_next(w, &f->report);
    return r < 0 ? r : FOTA_RUNNING;
}

int fota_download_body(struct fota *f, const uint8_t *data, size_t len)
{
    struct fota_update *u = &f->update;
    int r;
    if (u->artifact)
        return decode_patch(f, data, len);
    /* a slice of the agent's own receive buffer, with the writer's lead */
    _Static_assert(FOTA_SESSION_RX_LEAD >= FOTA_SLOT_WRITER_LEAD, "rx lead");
    if ((r = accept_image(f, (uint8_t *)(uintptr_t)data, len)) < 0)
        return r;
    return u->offset == u->manifest.size ? finish_image(f) : FOTA_RUNNING;
}

int fota_download_done(struct fota *f)
{
    struct fota_update *u = &f->update;
    if (u->artifact && !u->decoded) {
        fota_session_close(&f->session);
        return fota_fail(&f->report, FOTA_ERR_DELTA_CORRUPT,
                         "%s ended after %u bytes, at image byte %u of %u", f->buf.url,
                         (unsigned)u->patch_offset, (unsigned)u->offset,
                         (unsigned)u->manifest.size);
    }
    if (u->offset != u->manifest.size || !u->header_checked) {
        fota_session_close(&f->session);
        return fota_fail(&f->report, FOTA_ERR_IMAGE_SIZE,
                         "image from %s ended after %u of %u signed bytes", f->buf.url,
                         (unsigned)u->offset, (unsigned)u->manifest.size);
    }
    return finish_image(f);
}

/* ---- 6. Verify ----------------------------------------------------------------- */

/* The whole image arrived: check size and hash, then read it back. */
static int finish_image(struct fota *f)
{
    struct fota_update *u = &f->update;
    uint8_t got[32];
    char want_hex[17], got_hex[17];
    int r;
    fota_session_close(&f->session); /* nothing more to fetch */
    if ((r = fota_slot_writer_flush(&f->writer, &f->report)) < 0)
        return r;
    if (f->cfg->crypto->sha256_finish(f->cfg->crypto->ctx, &u->sha, got) != 0)
        return hash_failed(f, "finish");
    if (memcmp(got, u->manifest.sha256, 32) != 0) {
        fota_hex(u->manifest.sha256, 8, want_hex);
        fota_hex(got, 8, got_hex);
        fota_state_clear_download(&f->state.persist); /* never resume from bytes that failed */
        fota_state_save(&f->state, f->cfg, NULL);
        u->fetching_image = 0; /* the retry starts over from the manifest */
        return fota_fail(&f->report, FOTA_ERR_IMAGE_HASH,
                         "SHA-256 mismatch after %u bytes (signed %s..., received %s...)",
                         (unsigned)u->manifest.size, want_hex, got_hex);
    }
    if ((r = hash_start(f)) < 0)
        return r;
    u->offset = 0;
    u->phase = FOTA_PH_READBACK;
    return FOTA_RUNNING;
}

int fota_download_readback(struct fota *f)
{
    struct fota_update *u = &f->update;
    int r = fota_slot_writer_hash(&f->writer, f->cfg->crypto, &u->sha, &u->offset,
                                  u->manifest.size, f->buf.rx, f->buf.rx_size, &f->report);
    if (r != 0)
        return r < 0 ? r : FOTA_RUNNING;
    r = fota_slot_writer_verify(&f->writer, f->cfg->crypto, &u->sha, u->manifest.sha256,
                                &f->report);
    if (r < 0) {
        fota_state_clear_download(&f->state.persist);
        fota_state_save(&f->state, f->cfg, NULL);
        return r;
    }
    fota_log(f->cfg, FOTA_LOG_INFO, "verified %u bytes, SHA-256 matches the signed manifest",
             (unsigned)u->manifest.size);
    if (u->data_active)
        return fota_data_copy_begin(f); /* a staged data image: into its partition */
    fota_emit(f, FOTA_EV_VERIFIED);
    u->phase = FOTA_PH_ACTIVATE;
    return FOTA_RUNNING;
}

