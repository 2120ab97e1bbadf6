/*
 * Data-partition images (docs/data-partitions.md): the LittleFS, SPIFFS or
 * FAT image a release carries for a partition that has no second copy. Part
 * of the policy (agent.h). For each `data:` line of a verified manifest, in
 * order, before the application:
 *   1. hash the partition (one buffer per step): already the signed image?
 *      then nothing is written;
 *   2. download the image into the inactive application slot (staging)
 *      through the ordinary download path: resumable, SHA-256 checked
 *      against the manifest, read back;
 *   3. FOTA_EV_DATA_WRITING (the application unmounts), then mark the
 *      partition busy in the journaled agent state, before its first erase:
 *      fota_data_ready() is 0 from here;
 *   4. copy slot -> partition, one sector per step, progress saved every
 *      persist_every bytes; after a power cut fota_data_finish() (or the
 *      next fota_start) copies on from the staged image, with no network;
 *   5. compare the partition with the staged image, then clear the mark
 *      (FOTA_EV_DATA_READY) and fetch the manifest again: the next data
 *      image, or the application, which then overwrites the staging slot.
 */
#include <string.h>

#include "internal/agent.h"
#include "internal/defaults.h"
#include "internal/msg.h"
#include "internal/state.h"

static uint32_t label_crc(const char *label)
{
    return fota_crc32(0, label, strlen(label));
}

/* Where the partition of data image i lives: known, sector-aligned, large
 * enough, and the image fits the slot it is staged in. */
static int locate(struct fota *f, unsigned i, struct fota_slot *part)
{
    const struct fota_boot *b = f->cfg->boot;
    const struct fota_manifest_data *d = &f->update.manifest.data[i];
    uint32_t ss = f->cfg->flash->sector_size;
    int r;
    if (!b->data_partition)
        return fota_fail(&f->report, FOTA_ERR_DATA_PARTITION,
                         "release %s carries an image for data partition '%s' but this device "
                         "takes no data images: refused",
                         f->update.manifest.version, d->label);
    r = b->data_partition(b->ctx, d->label, part);
    if (r < 0)
        return fota_fail(&f->report, FOTA_ERR_DATA_PARTITION,
                         "release %s carries an image for data partition '%s', which this "
                         "device does not have (%E): refused",
                         f->update.manifest.version, d->label, r);
    if (part->addr % ss || part->size % ss || part->size == 0)
        return fota_fail(&f->report, FOTA_ERR_DATA_PARTITION,
                         "data partition '%s' at 0x%x (%u bytes) is not sector-aligned",
                         d->label, (unsigned)part->addr, (unsigned)part->size);
    if (d->size > part->size)
        return fota_fail(&f->report, FOTA_ERR_TOO_BIG,
                         "data image '%s' of %u bytes does not fit its %u-byte partition",
                         d->label, (unsigned)d->size, (unsigned)part->size);
    if (d->size > f->writer.slot.size)
        return fota_fail(&f->report, FOTA_ERR_TOO_BIG,
                         "data image '%s' of %u bytes does not fit slot %d (%u bytes), where it "
                         "is staged before it is copied",
                         d->label, (unsigned)d->size, f->writer.index,
                         (unsigned)f->writer.slot.size);
    return 0;
}

/* A crypto backend failure while hashing a data partition: `step` is
 * "start", "update" or "finish" (one format for the three). */
static int hash_failed(struct fota *f, const char *step, const char *label)
{
    return fota_fail(&f->report, FOTA_ERR_CRYPTO,
                     "SHA-256 %s failed (hashing data partition '%s')", step, label);
}

int fota_data_check(struct fota *f)
{
    struct fota_slot part;
    for (unsigned i = 0; i < f->update.manifest.n_data; i++) {
        int r = locate(f, i, &part);
        if (r < 0)
            return r;
    }
    return 0;
}

int fota_data_next(struct fota *f)
{
    struct fota_update *u = &f->update;
    const struct fota_manifest *m = &u->manifest;
    while (u->data_index < m->n_data && (u->data_installed & (1u << u->data_index)))
        u->data_index++; /* written in this check already: not again */
    if (u->data_index >= m->n_data) {
        u->data_active = 0;
        return fota_download_start(f); /* the application */
    }
    /* 1. does the partition hold the image already? */
    u->data_pos = 0;
    if (f->cfg->crypto->sha256_start(f->cfg->crypto->ctx, &u->sha) != 0)
        return hash_failed(f, "start", m->data[u->data_index].label);
    u->phase = FOTA_PH_DATAHASH;
    return FOTA_RUNNING;
}

int fota_data_hash_step(struct fota *f)
{
    struct fota_update *u = &f->update;
    struct fota_manifest *m = &u->manifest;
    const struct fota_manifest_data *d = &m->data[u->data_index];
    const struct fota_crypto *c = f->cfg->crypto;
    struct fota_slot part;
    uint8_t got[32];
    int r = locate(f, u->data_index, &part);
    if (r < 0)
        return r;
    uint32_t n = d->size - u->data_pos;
    if (n > f->buf.rx_size)
        n = (uint32_t)f->buf.rx_size;
    if (n > 0) {
        if (f->cfg->flash->read(f->cfg->flash->ctx, part.addr + u->data_pos, f->buf.rx, n) < 0)
            return fota_fail(&f->report, FOTA_ERR_FLASH_READ,
                             "reading data partition '%s' at flash 0x%x failed", d->label,
                             (unsigned)(part.addr + u->data_pos));
        if (c->sha256_update(c->ctx, &u->sha, f->buf.rx, n) != 0)
            return hash_failed(f, "update", d->label);
        u->data_pos += n;
        return FOTA_RUNNING;
    }
    if (c->sha256_finish(c->ctx, &u->sha, got) != 0)
        return hash_failed(f, "finish", d->label);
    if (memcmp(got, d->sha256, 32) == 0) {
        fota_log(f->cfg, FOTA_LOG_INFO, "data partition '%s' holds the signed image already",
                 d->label);
        u->data_index++;
        return fota_data_next(f);
    }
    /* 2. stage it: the manifest copy describes the data image until the
     * manifest is fetched again (the text in buf.manifest is untouched) */
    if (d->url_len >= sizeof m->url || (size_t)d->url_offset + d->url_len > u->manifest_len)
        return fota_fail(&f->report, FOTA_ERR_MANIFEST_PARSE, "data image '%s': URL out of range",
                         d->label);
    fota_log(f->cfg, FOTA_LOG_INFO,
             "data partition '%s' differs from the signed image: staging %u bytes in slot %d",
             d->label, (unsigned)d->size, f->writer.index);
    memcpy(m->url, f->buf.manifest + d->url_offset, d->url_len);
    m->url[d->url_len] = '\0';
    m->size = d->size;
    memcpy(m->sha256, d->sha256, 32);
    m->n_artifacts = 0; /* a data image comes whole */
    u->data_active = (uint8_t)(u->data_index + 1);
    return fota_download_start(f);
}

/* ---- 3..5: the copy, also after a power cut ---------------------------------- */

int fota_data_copy_begin(struct fota *f)
{
    struct fota_update *u = &f->update;
    struct fota_persist *p = &f->state.persist;
    const struct fota_manifest_data *d = &u->manifest.data[u->data_active - 1];
    struct fota_slot part;
    int r = locate(f, u->data_active - 1u, &part);
    if (r < 0)
        return r;
    fota_emit(f, FOTA_EV_DATA_WRITING); /* the application unmounts it now */
    fota_state_clear_download(p);       /* the staged image is complete and verified */
    p->data_busy = 1;
    p->data_slot = (uint8_t)f->writer.index;
    p->data_label_crc = label_crc(d->label);
    p->data_addr = part.addr;
    p->data_size = d->size;
    p->data_copied = 0;
    if ((r = fota_save_state(f)) < 0)
        return r;
    fota_log(f->cfg, FOTA_LOG_INFO, "writing data partition '%s' (%u bytes at 0x%x) from slot %d",
             d->label, (unsigned)d->size, (unsigned)part.addr, f->writer.index);
    u->data_pos = 0;
    u->phase = FOTA_PH_DATACOPY;
    return FOTA_RUNNING;
}

/* One sector of the copy, or one buffer of the comparison. Returns
 * FOTA_RUNNING, 0 once the partition compares equal and the mark is
 * cleared, or an error. */
int fota_data_copy_step(struct fota *f)
{
    struct fota_persist *p = &f->state.persist;
    const struct fota_flash *fl = f->cfg->flash;
    uint32_t ss = fl->sector_size, ws = fl->write_size;
    struct fota_slot src;
    int r;
    if (!p->data_busy)
        return 0;
    if (p->data_slot == (uint8_t)f->running_slot ||
        f->cfg->boot->slot_info(f->cfg->boot->ctx, p->data_slot, &src) < 0 ||
        p->data_size > src.size)
        return fota_fail(&f->report, FOTA_ERR_STATE_CORRUPT,
                         "the data image staged for the partition at 0x%x is not in a usable "
                         "slot (%u)",
                         (unsigned)p->data_addr, (unsigned)p->data_slot);
    if (p->data_copied < p->data_size) {
        /* 4. erase one sector of the partition and fill it from the slot */
        uint32_t at = p->data_copied, end = at + ss, chunk = (uint32_t)f->buf.rx_size / ws * ws;
        if ((r = fl->erase(fl->ctx, p->data_addr + at, ss)) < 0)
            return fota_fail(&f->report, FOTA_ERR_FLASH_ERASE,
                             "erasing the data partition at flash 0x%x failed (%E)",
                             (unsigned)(p->data_addr + at), r);
        if (end > src.size)
            end = src.size;
        for (uint32_t o = at; o < end; o += chunk) { /* ss / chunk reads and writes */
            uint32_t n = end - o < chunk ? end - o : chunk;
            if (fl->read(fl->ctx, src.addr + o, f->buf.rx, n) < 0)
                return fota_fail(&f->report, FOTA_ERR_FLASH_READ,
                                 "reading the staged data image at flash 0x%x failed",
                                 (unsigned)(src.addr + o));
            if ((r = fl->write(fl->ctx, p->data_addr + o, f->buf.rx, n)) < 0)
                return fota_fail(&f->report, FOTA_ERR_FLASH_WRITE,
                                 "writing the data partition at flash 0x%x failed (%E)",
                                 (unsigned)(p->data_addr + o), r);
        }
        uint32_t saved = p->data_copied;
        p->data_copied = at + ss;
        if (p->data_copied >= p->data_size ||
            p->data_copied / fota_cfg_or(f->cfg->persist_every, FOTA_DEFAULT_PERSIST_EVERY) !=
                saved / fota_cfg_or(f->cfg->persist_every, FOTA_DEFAULT_PERSIST_EVERY)) {
            if ((r = fota_save_state(f)) < 0)
                return r;
        }
        f->update.data_pos = 0;
        return FOTA_RUNNING;
    }
    /* 5. compare the partition with the staged image, half a buffer each */
    uint32_t half = (uint32_t)f->buf.rx_size / 2, pos = f->update.data_pos;
    uint32_t n = p->data_size - pos < half ? p->data_size - pos : half;
    if (n > 0) {
        if (fl->read(fl->ctx, src.addr + pos, f->buf.rx, n) < 0 ||
            fl->read(fl->ctx, p->data_addr + pos, f->buf.rx + half, n) < 0)
            return fota_fail(&f->report, FOTA_ERR_FLASH_READ,
                             "reading back the data partition at flash 0x%x failed",
                             (unsigned)(p->data_addr + pos));
        if (memcmp(f->buf.rx, f->buf.rx + half, n) != 0) {
            p->data_copied = 0; /* copy it all again next time; the mark stays */
            fota_save_state(f);
            return fota_fail(&f->report, FOTA_ERR_FLASH_VERIFY,
                             "the data partition at 0x%x differs from the staged image near "
                             "offset %u after the copy",
                             (unsigned)p->data_addr, (unsigned)pos);
        }
        f->update.data_pos = pos + n;
        return FOTA_RUNNING;
    }
    p->data_busy = 0;
    p->data_copied = 0;
    if ((r = fota_save_state(f)) < 0)
        return r;
    fota_log(f->cfg, FOTA_LOG_INFO, "data partition at 0x%x holds the new image (%u bytes)",
             (unsigned)p->data_addr, (unsigned)p->data_size);
    if (f->update.data_active)
        f->update.data_installed |= (uint8_t)(1u << (f->update.data_active - 1));
    fota_emit(f, FOTA_EV_DATA_READY);
    return 0;
}

/* ---- The application's side ---------------------------------------------------- */

int fota_data_ready(const struct fota *f, const char *label)
{
    if (!f || !label)
        return 0;
    return !f->state.persist.data_busy || f->state.persist.data_label_crc != label_crc(label);
}

int fota_data_finish(struct fota *f)
{
    if (!f || !f->cfg)
        return FOTA_ERR_INVALID_ARG;
    struct fota_update *u = &f->update;
    if (u->phase != FOTA_PH_IDLE && u->phase != FOTA_PH_DONE)
        return FOTA_ERR_BUSY;
    const struct fota_persist *p = &f->state.persist;
    uint32_t ss = f->cfg->flash->sector_size, half = (uint32_t)f->buf.rx_size / 2;
    /* every sector once, every comparison buffer once, and the last step */
    uint32_t steps = p->data_size / ss + p->data_size / half + 4;
    u->data_active = 0;
    u->data_pos = 0;
    for (uint32_t i = 0; i < steps; i++) {
        int r = fota_data_copy_step(f);
        if (r != FOTA_RUNNING)
            return r;
    }
    return fota_fail(&f->report, FOTA_ERR_INTERNAL, "the data copy did not end in %u steps",
                     (unsigned)steps);
}

const char *fota_data_label(const struct fota *f)
{
    if (!f || !f->update.data_active)
        return NULL;
    return f->update.manifest.data[f->update.data_active - 1].label;
}
