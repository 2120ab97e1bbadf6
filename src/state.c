/* The agent's persistent state in its journaled record store: see state.h. */
#include "state.h"

#include <string.h>

#include "msg.h"

void fota_state_clear_pending(struct fota_persist *p)
{
    p->pending_version = 0;
    p->pending_security = 0;
    p->pending_slot = -1;
    p->pending_prev_state = -1;
}

void fota_state_settle_confirmed(struct fota_persist *p)
{
    if (p->pending_security > p->security_floor)
        p->security_floor = p->pending_security;
    fota_state_clear_pending(p);
}

void fota_state_clear_download(struct fota_persist *p)
{
    memset(p->dl_sha256, 0, sizeof p->dl_sha256);
    p->dl_size = 0;
    p->dl_offset = 0;
    p->dl_slot = -1;
}

int fota_state_load(struct fota_state *st, const struct fota_config *cfg,
                    struct fota_report *rep)
{
    fota_state_clear_download(&st->persist);
    fota_state_clear_pending(&st->persist);
    st->persist.version = FOTA_PERSIST_LAYOUT;
    if (cfg->state_size == 0)
        return 0;
    int r = fota_record_init(&st->store, cfg->flash, cfg->state_addr, cfg->state_size,
                             sizeof st->persist);
    if (r < 0)
        return fota_fail(rep, r, "agent state region 0x%x+%u is not two whole sectors",
                         (unsigned)cfg->state_addr, (unsigned)cfg->state_size);
    struct fota_persist loaded;
    r = fota_record_load(&st->store, &loaded);
    if (r == FOTA_ERR_FLASH_READ)
        return fota_fail(rep, r, "reading agent state at flash 0x%x failed: port returned %d (%s)",
                         (unsigned)cfg->state_addr, st->store.port_err,
                         fota_strerror(st->store.port_err));
    if (r == 0 && loaded.version == FOTA_PERSIST_LAYOUT)
        st->persist = loaded;
    else
        fota_log(cfg, FOTA_LOG_INFO, "no saved agent state: starting fresh");
    return 0;
}

int fota_state_save(struct fota_state *st, const struct fota_config *cfg,
                    struct fota_report *rep)
{
    if (cfg->state_size == 0)
        return 0;
    int r = fota_record_save(&st->store, &st->persist);
    if (r >= 0 || !rep)
        return r;
    int port = st->store.port_err;
    unsigned at = (unsigned)fota_record_position(&st->store);
    if (port == 0) /* no flash call failed: the read-back differed */
        return fota_fail(rep, r, "saving agent state at flash 0x%x failed (%s)", at,
                         fota_strerror(r));
    return fota_fail(rep, r, "saving agent state at flash 0x%x failed (%s): port returned %d (%s)",
                     at, fota_strerror(r), port, fota_strerror(port));
}
