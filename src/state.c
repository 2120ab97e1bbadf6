/* The agent's persistent state in its journaled record store: see state.h. */
#include "internal/state.h"

#include <string.h>

#include "fota/persist.h"
#include "internal/msg.h"

int fota_state_load(struct fota_state *st, const struct fota_config *cfg,
                    struct fota_report *rep)
{
    int source = FOTA_PERSIST_FRESH;
    fota_persist_defaults(&st->persist, cfg->security_floor_min);
    if (cfg->state_size == 0)
        return 0;
    int r = fota_record_init(&st->store, cfg->flash, cfg->state_addr, cfg->state_size,
                             FOTA_PERSIST_RECORD_LEN);
    if (r < 0)
        return fota_fail(rep, r, "agent state region 0x%x+%u is not two whole sectors",
                         (unsigned)cfg->state_addr, (unsigned)cfg->state_size);
    r = fota_persist_load(&st->store, &st->persist, cfg->security_floor_min, &source);
    if (r < 0)
        return fota_fail(rep, r, "reading agent state at flash 0x%x failed: %P",
                         (unsigned)cfg->state_addr, st->store.port_err);
    switch (source) {
    case FOTA_PERSIST_MIGRATED_1:
    case FOTA_PERSIST_MIGRATED_2:
        fota_log(cfg, FOTA_LOG_INFO,
                 "agent state migrated from layout %d: sequence %u, security floor %u kept",
                 source, (unsigned)st->persist.last_sequence,
                 (unsigned)st->persist.security_floor);
        break;
    case FOTA_PERSIST_FRESH:
        fota_log(cfg, FOTA_LOG_INFO, "no saved agent state: a new device (security floor %u)",
                 (unsigned)st->persist.security_floor);
        break;
    case FOTA_PERSIST_UNREADABLE:
        fota_log(cfg, FOTA_LOG_ERROR,
                 "agent state at flash 0x%x is unreadable: replay protection restarts, the "
                 "security floor is the build-time minimum %u",
                 (unsigned)cfg->state_addr, (unsigned)st->persist.security_floor);
        break;
    default:
        break;
    }
    return 0;
}

int fota_state_save(struct fota_state *st, const struct fota_config *cfg,
                    struct fota_report *rep)
{
    if (cfg->state_size == 0)
        return 0;
    int r = fota_persist_save(&st->store, &st->persist);
    if (r >= 0 || !rep)
        return r;
    int port = st->store.port_err;
    unsigned at = (unsigned)fota_record_position(&st->store);
    if (port == 0) /* no flash call failed: the read-back differed */
        return fota_fail(rep, r, "saving agent state at flash 0x%x failed (%E)", at, r);
    return fota_fail(rep, r, "saving agent state at flash 0x%x failed (%E): %P", at, r,
                     port);
}

void fota_state_clear_download(struct fota_persist *p)
{
    memset(p->dl_sha256, 0, sizeof p->dl_sha256);
    p->dl_size = 0;
    p->dl_offset = 0;
    p->dl_slot = -1;
    p->dl_kind = 0;
    p->dl_block_shift = 0;
    memset(p->dl_artifact_sha256, 0, sizeof p->dl_artifact_sha256);
    p->dl_patch_offset = 0;
}
