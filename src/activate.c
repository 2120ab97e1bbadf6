/*
 * Activation and the trial boot: select the verified slot for one boot
 * (fota_activate), then settle at init what became of it while the device
 * was down (confirmed, rolled back by the bootloader, or an activation a
 * power cut interrupted), and fota_confirm / fota_rollback, where the
 * anti-rollback floor rises. Part of the policy (agent.h).
 */
#include <string.h>

#include "internal/agent.h"
#include "internal/msg.h"
#include "internal/state.h"

/* We run the old slot although an image was activated in the other: did the
 * bootloader roll it back, or did a power cut stop the activation before the
 * slot was selected? Without slot states: an activation is unfinished exactly
 * while the download is marked complete (do_activate clears it right after
 * selecting the slot), which takes a rollback for an unfinished activation
 * when the cut fell between those two writes (the image then boots once
 * more). With slot states: aborted now and not before the switch is a
 * rollback; not aborted is an unfinished activation. */
static int pending_was_rolled_back(struct fota *f)
{
    const struct fota_boot *b = f->cfg->boot;
    const struct fota_persist *p = &f->state.persist;
    int st;
    if (b->slot_state && p->pending_prev_state >= 0 &&
        b->slot_state(b->ctx, p->pending_slot, &st) == 0) {
        if (st != FOTA_IMG_ABORTED)
            return 0;
        if (p->pending_prev_state != FOTA_IMG_ABORTED)
            return 1;
        /* aborted before and after: the same question as without states */
    }
    return !(p->dl_size != 0 && p->dl_offset == p->dl_size);
}

/* At init: what happened to the image activated last time. */
int fota_settle_trial(struct fota *f)
{
    struct fota_persist *p = &f->state.persist;
    int rolled_back = 0, r;
    if (p->pending_version != 0) {
        int dirty = 0;
        if (p->pending_slot == f->running_slot) {
            if (p->dl_size != 0) {
                fota_state_clear_download(p); /* it booted: the download is done with */
                dirty = 1;
            }
            if (f->running_state == FOTA_IMG_VALID) {
                /* confirmed, but reset before the floor rose */
                fota_state_settle_confirmed(p);
                dirty = 1;
            }
        } else if (pending_was_rolled_back(f)) {
            fota_log(f->cfg, FOTA_LOG_WARN,
                     "version code %u was rolled back; it will not be retried",
                     (unsigned)p->pending_version);
            p->rejected_version = p->pending_version;
            fota_state_clear_pending(p);
            fota_state_clear_download(p);
            dirty = 1;
            rolled_back = 1;
        }
        if (dirty && (r = fota_save_state(f)) < 0)
            return r;
    }
    if (rolled_back)
        fota_emit(f, FOTA_EV_ROLLED_BACK);
    return 0;
}

/* ---- 7. Activate ---------------------------------------------------------------- */

int fota_activate(struct fota *f)
{
    struct fota_persist *p = &f->state.persist;
    const struct fota_manifest *m = &f->update.manifest;
    const struct fota_boot *b = f->cfg->boot;
    int slot = f->writer.index, st, r;
    /* 1. Remember what we activate, with the download marked complete, so a
     *    cut before step 2 redoes the activation instead of a rollback. */
    p->dl_offset = p->dl_size;
    p->pending_version = m->version_code;
    p->pending_security = m->security_counter;
    p->pending_slot = slot;
    p->pending_prev_state = -1;
    if (b->slot_state && b->slot_state(b->ctx, slot, &st) == 0)
        p->pending_prev_state = st;
    if ((r = fota_save_state(f)) < 0)
        return r;
    /* 2. One atomic boot-data write selects the slot for one trial boot. */
    r = b->set_next(b->ctx, slot);
    if (r == FOTA_ERR_IMAGE_REJECTED) {
        /* The platform will never boot this image (and may have erased the
         * slot): keeping it "complete and pending" would redo this at every
         * check. Reject the version like a rolled-back one. */
        p->rejected_version = p->pending_version;
        fota_state_clear_pending(p);
        fota_state_clear_download(p);
        if ((r = fota_save_state(f)) < 0)
            return r;
        return fota_fail(&f->report, FOTA_ERR_IMAGE_REJECTED,
                         "the platform refused to boot %s from slot %d (signature, chip "
                         "revision or secure version): version code %u rejected",
                         m->version, slot, (unsigned)m->version_code);
    }
    if (r < 0)
        return fota_fail(&f->report, FOTA_ERR_BOOT,
                         "selecting slot %d for the next boot failed (%E)", slot, r);
    f->update.activated = 1; /* fota_start() refuses until the reboot */
    /* 3. The download is finished with. */
    fota_state_clear_download(p);
    if ((r = fota_save_state(f)) < 0)
        return r;
    fota_log(f->cfg, FOTA_LOG_INFO, "slot %d activated: reboot to run %s", slot, m->version);
    fota_emit(f, FOTA_EV_ACTIVATED);
    return FOTA_UPDATE_READY;
}

/* ---- 8. Confirm or roll back ---------------------------------------------------- */

int fota_confirm(struct fota *f)
{
    if (!f || !f->cfg)
        return FOTA_ERR_INVALID_ARG;
    struct fota_persist *p = &f->state.persist;
    if (f->running_state == FOTA_IMG_VALID && p->pending_version == 0)
        return 0;
    int r = f->cfg->boot->confirm(f->cfg->boot->ctx);
    if (r < 0)
        return fota_fail(&f->report, FOTA_ERR_BOOT, "confirming the image in slot %d failed (%E)",
                         f->running_slot, r);
    f->running_state = FOTA_IMG_VALID;
    if (p->pending_version != 0 && p->pending_slot == f->running_slot) {
        fota_state_settle_confirmed(p);
        fota_state_clear_download(p);
        if ((r = fota_save_state(f)) < 0)
            return r;
    }
    fota_emit(f, FOTA_EV_CONFIRMED);
    return 0;
}

int fota_rollback(struct fota *f)
{
    if (!f || !f->cfg)
        return FOTA_ERR_INVALID_ARG;
    if (!f->cfg->boot->rollback)
        return fota_fail(&f->report, FOTA_ERR_NOT_SUPPORTED,
                         "this platform cannot roll back: the image in slot %d stays",
                         f->running_slot);
    int r = f->cfg->boot->rollback(f->cfg->boot->ctx);
    if (r < 0)
        return fota_fail(&f->report, r == FOTA_ERR_NOT_SUPPORTED ? r : FOTA_ERR_BOOT,
                         "rolling back from slot %d failed (%E)", f->running_slot, r);
    f->running_state = FOTA_IMG_ABORTED;
    return 0;
}

