/*
 * Which form of the new image to fetch, and the decoder that rebuilds it
 * (docs/delta.md). Part of the policy (agent.h): the smallest artifact the
 * device can use comes first: a patch whose base is the running image (its
 * SHA-256 over the patch's base size, hashed from the running slot one
 * buffer per step), else the compressed image, else the full image. An
 * artifact that fails for a reason of its own is skipped on the next attempt,
 * which fetches the manifest again.
 */
#include <string.h>

#include "internal/agent.h"
#include "internal/msg.h"
#include "internal/state.h"

static const struct fota_manifest_artifact *current(const struct fota *f)
{
    return f->update.artifact ? &f->update.manifest.artifacts[f->update.artifact - 1] : NULL;
}

const struct fota_manifest_artifact *fota_artifact_current(const struct fota *f)
{
    return current(f);
}

/* Take artifact i: its URL replaces the image's in the manifest copy (a
 * fallback fetches the manifest again). */
static int take(struct fota *f, unsigned i)
{
    struct fota_update *u = &f->update;
    const struct fota_manifest_artifact *a = &u->manifest.artifacts[i];
    if (a->url_len >= sizeof u->manifest.url ||
        (size_t)a->url_offset + a->url_len > u->manifest_len)
        return fota_fail(&f->report, FOTA_ERR_MANIFEST_PARSE, "artifact %u URL out of range", i);
    memcpy(u->manifest.url, f->buf.manifest + a->url_offset, a->url_len);
    u->manifest.url[a->url_len] = '\0';
    u->artifact = (uint8_t)(i + 1);
    fota_log(f->cfg, FOTA_LOG_INFO, "fetching the %s (%u bytes) instead of the %u-byte image",
             a->kind == FOTA_ARTIFACT_DELTA ? "patch from the running image" : "compressed image",
             (unsigned)a->size, (unsigned)u->manifest.size);
    return 0;
}

int fota_artifact_choose(struct fota *f)
{
    struct fota_update *u = &f->update;
    const struct fota_manifest *m = &u->manifest;
    struct fota_slot running;
    int best = -1;

    u->artifact = 0;
    if (!f->buf.delta || !f->buf.delta_out || f->buf.delta_out_size < 256)
        return 0; /* the port gave no decoder memory: full images only */
    if (f->cfg->boot->slot_info(f->cfg->boot->ctx, f->running_slot, &running) < 0)
        running.size = 0;
    for (unsigned i = 0; i < m->n_artifacts; i++) {
        const struct fota_manifest_artifact *a = &m->artifacts[i];
        if (a->kind != FOTA_ARTIFACT_DELTA || (u->artifact_failed & (1u << i)) ||
            a->base_size > running.size)
            continue;
        if (!u->base_known || u->base_size != a->base_size) {
            /* hash the running image first (fota_artifact_hash_base) */
            u->base_known = 0;
            u->base_size = a->base_size;
            u->base_addr = running.addr;
            u->base_pos = 0;
            if (f->cfg->crypto->sha256_start(f->cfg->crypto->ctx, &u->sha) != 0)
                return fota_fail(&f->report, FOTA_ERR_CRYPTO,
                                 "SHA-256 start failed (hashing the running image)");
            u->phase = FOTA_PH_BASEHASH;
            return 1;
        }
        if (memcmp(u->base_sha256, a->base_sha256, 32) == 0 &&
            (best < 0 || a->size < m->artifacts[best].size))
            best = (int)i;
    }
    if (best < 0)
        for (unsigned i = 0; i < m->n_artifacts; i++)
            if (m->artifacts[i].kind == FOTA_ARTIFACT_COMPRESSED &&
                !(u->artifact_failed & (1u << i)) && m->artifacts[i].size < m->size &&
                (best < 0 || m->artifacts[i].size < m->artifacts[best].size))
                best = (int)i;
    if (best >= 0 && m->artifacts[best].size >= m->size)
        best = -1; /* the full image is no larger */
    return best < 0 ? 0 : take(f, (unsigned)best);
}

int fota_artifact_hash_base(struct fota *f)
{
    struct fota_update *u = &f->update;
    uint32_t n = u->base_size - u->base_pos;
    if (n > f->buf.rx_size)
        n = (uint32_t)f->buf.rx_size;
    if (n > 0) {
        if (f->cfg->flash->read(f->cfg->flash->ctx, u->base_addr + u->base_pos, f->buf.rx, n) < 0)
            return fota_fail(&f->report, FOTA_ERR_FLASH_READ,
                             "reading the running image at flash 0x%x failed",
                             (unsigned)(u->base_addr + u->base_pos));
        if (f->cfg->crypto->sha256_update(f->cfg->crypto->ctx, &u->sha, f->buf.rx, n) != 0)
            return fota_fail(&f->report, FOTA_ERR_CRYPTO,
                             "SHA-256 update failed (hashing the running image)");
        u->base_pos += n;
        return FOTA_RUNNING;
    }
    if (f->cfg->crypto->sha256_finish(f->cfg->crypto->ctx, &u->sha, u->base_sha256) != 0)
        return fota_fail(&f->report, FOTA_ERR_CRYPTO,
                         "SHA-256 finish failed (hashing the running image)");
    u->base_known = 1;
    return fota_download_start(f); /* choose again, now knowing the base */
}

/* ---- The decoder's reads: the running slot and the slot being written ---- */

static int read_base(void *ctx, uint32_t off, uint8_t *buf, size_t len)
{
    struct fota *f = ctx;
    if (off > f->update.base_size || len > f->update.base_size - off ||
        f->cfg->flash->read(f->cfg->flash->ctx, f->update.base_addr + off, buf, (uint32_t)len) < 0)
        return FOTA_ERR_FLASH_READ;
    return 0;
}

static int read_output(void *ctx, uint32_t off, uint8_t *buf, size_t len)
{
    struct fota *f = ctx;
    if (f->cfg->flash->read(f->cfg->flash->ctx, f->writer.slot.addr + off, buf, (uint32_t)len) < 0)
        return FOTA_ERR_FLASH_READ;
    return 0;
}

int fota_artifact_decoder_start(struct fota *f, int resume)
{
    const struct fota_manifest_artifact *a = current(f);
    const struct fota_persist *p = &f->state.persist;
    struct fota_delta_io io = {read_base, read_output, f};
    int delta = a->kind == FOTA_ARTIFACT_DELTA;
    int r = fota_delta_init(f->buf.delta, &io, delta ? a->base_sha256 : NULL,
                            delta ? a->base_size : 0);
    f->update.decoded = 0;
    if (r == 0 && resume) {
        /* the header is the manifest's facts and the block size saved with
         * the checkpoint */
        struct fota_delta_header h = {FOTA_DELTA_FORMAT, delta ? FOTA_DELTA_PATCH
                                                               : FOTA_DELTA_COMPRESSED,
                                      p->dl_block_shift, delta ? a->base_size : 0,
                                      f->update.manifest.size, {0}, {0}};
        struct fota_delta_checkpoint cp = {p->dl_patch_offset, p->dl_offset};
        if (delta)
            memcpy(h.base_sha256, a->base_sha256, 32);
        memcpy(h.target_sha256, f->update.manifest.sha256, 32);
        r = fota_delta_resume(f->buf.delta, &h, &cp);
    }
    if (r < 0)
        return fota_fail(&f->report, r, "cannot %s the decoder at patch byte %u (%E)",
                         resume ? "resume" : "start", (unsigned)p->dl_patch_offset, r);
    return 0;
}

int fota_artifact_fallback(struct fota *f, int err)
{
    struct fota_update *u = &f->update;
    const struct fota_manifest_artifact *a = current(f);
    if (!a || !u->fetching_image)
        return 0;
    switch (err) {
    case FOTA_ERR_DELTA_CORRUPT:
    case FOTA_ERR_DELTA_BASE:
    case FOTA_ERR_DELTA_UNSUPPORTED:
    case FOTA_ERR_IMAGE_HASH:
    case FOTA_ERR_IMAGE_HEADER:
    case FOTA_ERR_IMAGE_CHIP:
    case FOTA_ERR_IMAGE_SIZE:
    case FOTA_ERR_HTTP_NOT_FOUND:
    case FOTA_ERR_HTTP_FORBIDDEN:
    case FOTA_ERR_HTTP_CLIENT:
    case FOTA_ERR_HTTP_LENGTH:
        break;
    default:
        return 0; /* the network or the device, not the artifact: retry as usual */
    }
    fota_log(f->cfg, FOTA_LOG_WARN, "%s; falling back from the %s", f->report.msg,
             a->kind == FOTA_ARTIFACT_DELTA ? "patch" : "compressed image");
    u->artifact_failed |= (uint8_t)(1u << (u->artifact - 1));
    u->artifact = 0;
    u->fetching_image = 0; /* the next attempt reads the manifest and chooses again */
    fota_state_clear_download(&f->state.persist);
    fota_state_save(&f->state, f->cfg, NULL);
    return 1;
}
