/*
 * The policy's own parts, shared by its files: agent.c (the step machine,
 * the check and the manifest's verification), download.c (the image, from
 * accept to a verified slot) and activate.c (activation, confirm, rollback).
 * They work on the whole struct fota; the modules under them (session,
 * slot writer, state) do not see it.
 */
#ifndef FOTA_SRC_AGENT_H
#define FOTA_SRC_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "fota/fota.h"

enum fota_phase {
    FOTA_PH_IDLE = 0,
    FOTA_PH_WAIT,     /* backoff before the next attempt */
    FOTA_PH_EXCHANGE, /* an HTTP exchange (session.c): the manifest or the image */
    FOTA_PH_REHASH,   /* resume after reboot: hash what the slot already holds */
    FOTA_PH_BASEHASH, /* hash the running image: is it a patch's base? */
    FOTA_PH_READBACK, /* read the finished slot back and hash it */
    FOTA_PH_ACTIVATE, /* record and select the new slot */
    FOTA_PH_DATAHASH, /* hash a data partition: does it hold the signed image? */
    FOTA_PH_DATACOPY, /* copy a staged data image into its partition, compare */
    FOTA_PH_DONE,
};

/* agent.c */
void fota_emit(struct fota *f, int event);
int fota_save_state(struct fota *f);

/* download.c: accept (start or resume), then one handler per step or event. */
int fota_download_start(struct fota *f);
int fota_download_rehash(struct fota *f);
int fota_download_headers(struct fota *f);
int fota_download_body(struct fota *f, const uint8_t *data, size_t len);
/* Before a read: erase the slot's next unit when the erased space ahead of
 * the writes is less than one read. 0: nothing to erase; FOTA_RUNNING: one
 * unit erased, which was the step. */
int fota_download_erase_ahead(struct fota *f);
int fota_download_done(struct fota *f);
int fota_download_readback(struct fota *f);
/* GET the image (or the patch) from the manifest's URL, from where it stands. */
void fota_download_request(struct fota *f);

/* artifact.c: which artifact to fetch (0, or 1 when the running image must
 * be hashed first, FOTA_PH_BASEHASH); the decoder; falling back. */
int fota_artifact_choose(struct fota *f);
int fota_artifact_hash_base(struct fota *f);
const struct fota_manifest_artifact *fota_artifact_current(const struct fota *f);
int fota_artifact_decoder_start(struct fota *f, int resume);
/* After a failure of the artifact being fetched: 1 when it is marked failed
 * and the next attempt chooses again, 0 when err is not the artifact's. */
int fota_artifact_fallback(struct fota *f, int err);

/* data.c: data-partition images (docs/data-partitions.md). check: every
 * data image has its partition and fits (before anything is erased); next:
 * the next data image to look at, else the application's download; then
 * one step each of hashing the partition and of copying into it (0 once the
 * copy compares equal). */
int fota_data_check(struct fota *f);
int fota_data_next(struct fota *f);
int fota_data_hash_step(struct fota *f);
int fota_data_copy_begin(struct fota *f);
int fota_data_copy_step(struct fota *f);

/* activate.c */
int fota_activate(struct fota *f);
int fota_settle_trial(struct fota *f);

#endif
