/*
 * The agent's persistent state (struct fota_persist) in its journaled
 * record store: load at init, save after every change, and the changes the
 * policy makes to it. The context is struct fota_state (src/fota/fota.h).
 */
#ifndef FOTA_SRC_STATE_H
#define FOTA_SRC_STATE_H

#include <string.h>

#include "fota/fota.h"

/* Fresh state, then what the store holds (when cfg->state_size is set).
 * Returns 0 or a negative code with the message in *rep. */
int fota_state_load(struct fota_state *st, const struct fota_config *cfg,
                    struct fota_report *rep);

/* Append the current state to the store (nothing when state_size is 0).
 * rep may be NULL when the caller is reporting another failure already. */
int fota_state_save(struct fota_state *st, const struct fota_config *cfg,
                    struct fota_report *rep);

/* No image activated and waiting for its confirm. */
static inline void fota_state_clear_pending(struct fota_persist *p)
{
    p->pending_version = 0;
    p->pending_security = 0;
    p->pending_slot = -1;
    p->pending_prev_state = -1;
}

/* The activated image confirmed itself: the floor rises to its counter. */
static inline void fota_state_settle_confirmed(struct fota_persist *p)
{
    if (p->pending_security > p->security_floor)
        p->security_floor = p->pending_security;
    fota_state_clear_pending(p);
}

/* No download in progress. */
void fota_state_clear_download(struct fota_persist *p);

#endif
