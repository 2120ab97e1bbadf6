/*
 * The power-cut harness: the real agent on the simulated device (sim/device.c)
 * updates itself from a release made by the real `fota release`, served by
 * the in-memory origin on the in-memory transport (tests/support/: no
 * server, no sockets, so every run is the same operation for operation),
 * and the power is cut
 * before, in the middle of, or after every flash operation of the whole
 * update, including the bootloader's own boot-data writes and the agent's
 * state journal; then in random sequences of several cuts during recovery;
 * then with bad flash regions. After every power-on it checks that
 *   (a) the bootloader found an image to boot,
 *   (b) the slot that runs holds, byte for byte, the old or the new image,
 *   (c) the boot data and the agent state are readable (once written), never
 *       go back to an older record, and are consistent with the flash,
 * and at the end of every run that the device settled where it must: the new
 * image running and confirmed with its anti-rollback floor, or (a release
 * that crashes before confirming) the old image running and the new version
 * rejected. See docs/powercut.md; tests/powercut/run.sh makes the releases.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "device.h"
#include "fota/esp_image.h"
#include "fota/persist.h"
#include "fota/url.h"
#include "keys.h"
#include "mem_origin.h"
#include "mem_transport.h"
#include "util.h"
#include "fota_crypto_backends.h"

#define MAX_BOOTS 8u          /* per power cycle: plenty for update + reboot + rollback */
#define MAX_FAIL_DETAILS 25   /* failures printed in full; the rest are counted */
#define MAX_ROWS 128          /* rows of the operation map */

enum { CUT = -100 }; /* power_cycle(): the power was cut */

static const int modes[3] = {FOTA_CUT_BEFORE, FOTA_CUT_TORN, FOTA_CUT_AFTER};
static const char *mode_name(int m)
{
    return m == FOTA_CUT_BEFORE ? "before" : m == FOTA_CUT_TORN ? "torn" : "after";
}

/* ---- The network ------------------------------------------------------------
 * The in-memory origin (tests/support/mem_origin.c) serves the signed
 * manifest and the image on the in-memory transport, which hands the agent
 * each response's header block in one piece and its body in pieces of
 * SEG_BYTES (an Ethernet TCP segment, as lwIP gives them to an ESP32
 * application). Nothing depends on timing, so "cut at operation i" names one
 * operation in every run. */
#define SEG_BYTES 1460u
#define ORIGIN "http://updates.example"

/* ---- The world ------------------------------------------------------------ */

struct image {
    uint8_t *data;
    uint32_t len;
    uint8_t sha256[32];
    uint32_t version_code;
    char version[33];
};

static struct {
    /* options */
    const char *scenario;      /* "update" or "rollback" */
    int crash;                 /* the new image crashes before confirming */
    uint32_t new_security;     /* security counter of the new release */
    uint32_t new_sequence;     /* manifest sequence of the new release */
    uint32_t old_sequence;     /* the one a worn device saw before (new - 1) */
    uint32_t persist_every;
    uint32_t slot_size;
    int verbose;
    int strict_rollback;       /* a crashing release may boot only once */
    int slot1_aborted;         /* history: slot 1 holds an earlier rolled-back release */
    /* the device */
    struct image old_img, new_img;
    /* Optional (--data): a data partition, its factory image and the
     * release's new image for it (docs/data-partitions.md) */
    const char *data_label;
    uint8_t *data_old, *data_new;
    size_t data_old_len, data_new_len;
    uint8_t data_new_sha256[32];
    char data_path[FOTA_MANIFEST_URL_MAX + 1];
    uint64_t data_mounts;      /* mounts checked */
    struct sim_layout layout;
    uint8_t *mem;              /* flash contents */
    uint8_t *initial;          /* flash as it left the factory */
    struct sim_flash flash;
    struct sim_options opt;
    struct sim_device dev;
    struct test_clock clock;   /* the transport's (stalls only: none happen here) */
    struct mem_transport net;
    struct mem_origin origin;
    uint8_t *manifest;         /* the signed manifest, as `fota release` wrote it */
    size_t manifest_len;
    char manifest_path[160];   /* the device's manifest URL */
    char manifest_route[160], image_path[FOTA_MANIFEST_URL_MAX + 1]; /* what the origin serves */
    uint8_t pubkey[1][FOTA_P256_PUBKEY_SIZE];
    jmp_buf power_on;
} w;

/* ---- Flash operation log ---------------------------------------------------- */

enum { REG_OTADATA, REG_STATE, REG_SLOT0, REG_SLOT1, REG_DATA, REG_OTHER, REG_COUNT };
static const char *region_names[REG_COUNT] = {"boot data (otadata)", "agent state", "slot 0",
                                              "slot 1", "data partition", "other"};

/* One row of the operation map: a single journal record or erase, or a run
 * of download operations (slot erases and writes, progress records). */
struct op_row {
    uint32_t first, last;
    uint32_t power_on;
    int by_bootloader;
    int download;           /* a run of download operations */
    uint32_t erases, writes, progress;
    uint32_t progress_first, progress_last;
    char what[192];
};

static struct {
    int (*write)(void *ctx, uint32_t addr, const void *buf, uint32_t len);
    int (*erase)(void *ctx, uint32_t addr, uint32_t len);
    int logging;                      /* fill the map below */
    uint32_t app_boot;                /* power-on whose application runs now */
    uint32_t counts[2][REG_COUNT];    /* [0 write, 1 erase][region] */
    struct op_row rows[MAX_ROWS];
    uint32_t n_rows;
    int have_persist, have_boot;      /* the last record seen in each journal */
    struct fota_persist persist;
    struct sim_bootdata boot;
    uint64_t trace_hash;              /* FNV-1a of every (kind, addr, len) */
} oplog;

static int region_of(uint32_t addr)
{
    const struct sim_layout *l = &w.layout;
    if (addr >= l->otadata_addr && addr < l->otadata_addr + l->otadata_size)
        return REG_OTADATA;
    if (addr >= l->state_addr && addr < l->state_addr + l->state_size)
        return REG_STATE;
    for (int s = 0; s < 2; s++)
        if (addr >= l->slot_addr[s] && addr < l->slot_addr[s] + l->slot_size)
            return REG_SLOT0 + s;
    if (l->data_size && addr >= l->data_addr && addr < l->data_addr + l->data_size)
        return REG_DATA;
    return REG_OTHER;
}

static const char *img_state_name(uint32_t s)
{
    static const char *names[] = {"new", "pending-verify", "valid", "aborted", "undefined"};
    return s < 5 ? names[s] : "?";
}

#define APPEND(buf, ...)                                                                      \
    do {                                                                                      \
        size_t l_ = strlen(buf);                                                              \
        snprintf((buf) + l_, sizeof(buf) - l_, __VA_ARGS__);                                  \
    } while (0)

/* The payload of a journal record being written (record.c's layout:
 * magic | seq | len | data | crc), or NULL. */
static const uint8_t *record_payload(const uint8_t *buf, uint32_t len, uint32_t data_len)
{
    static const uint8_t magic[4] = {0x43, 0x45, 0x52, 0x46}; /* "FREC", little-endian */
    if (len < 16 + data_len || memcmp(buf, magic, 4) != 0)
        return NULL;
    return buf + 12;
}

/* What a record written to the agent state says, against the one before.
 * Returns 1 for a download progress record. */
static int describe_persist(const struct fota_persist *p, char *out, size_t size)
{
    const struct fota_persist *q = &oplog.persist;
    int had = oplog.have_persist;
    out[0] = '\0';
    char what[160] = "";
    if (p->last_sequence != (had ? q->last_sequence : 0))
        APPEND(what, "; manifest sequence %u seen", (unsigned)p->last_sequence);
    if (p->pending_version && (!had || !q->pending_version))
        APPEND(what, "; activation: version code %u pending in slot %d, download complete",
               (unsigned)p->pending_version, (int)p->pending_slot);
    else if (p->dl_size && p->dl_offset != (had ? q->dl_offset : 0))
        APPEND(what, "; progress: %u of %u bytes", (unsigned)p->dl_offset,
               (unsigned)p->dl_size);
    if (!p->dl_size && had && q->dl_size)
        APPEND(what, "; finished download cleared");
    if (p->security_floor != (had ? q->security_floor : 0))
        APPEND(what, "; anti-rollback floor %u", (unsigned)p->security_floor);
    if (p->rejected_version != (had ? q->rejected_version : 0))
        APPEND(what, "; version code %u rejected", (unsigned)p->rejected_version);
    if (!p->pending_version && had && q->pending_version)
        APPEND(what, "; pending cleared");
    if (p->data_busy && !(had && q->data_busy))
        APPEND(what, "; data partition busy: copy from slot %u", (unsigned)p->data_slot);
    else if (p->data_busy && p->data_copied != q->data_copied)
        APPEND(what, "; data copy: %u of %u bytes", (unsigned)p->data_copied,
               (unsigned)p->data_size);
    if (!p->data_busy && had && q->data_busy)
        APPEND(what, "; data partition complete (busy mark cleared)");
    snprintf(out, size, "agent state record: %s", what[0] ? what + 2 : "unchanged");
    return strstr(what, "; progress") == what && !strchr(what + 2, ';');
}

static void describe_boot(const struct sim_bootdata *b, char *out, size_t size)
{
    const struct sim_bootdata *a = &oplog.boot;
    char what[160] = "";
    if (!oplog.have_boot || a->active != b->active)
        APPEND(what, ", active slot %u", (unsigned)b->active);
    for (int s = 0; s < 2; s++)
        if (!oplog.have_boot || a->state[s] != b->state[s])
            APPEND(what, ", slot %d %s", s, img_state_name(b->state[s]));
    snprintf(out, size, "boot data record: %s", what[0] ? what + 2 : "unchanged");
}

static void log_op(int is_erase, uint32_t addr, const void *buf, uint32_t len)
{
    uint32_t v[3] = {(uint32_t)is_erase, addr, len};
    for (int i = 0; i < 3; i++) {
        oplog.trace_hash ^= v[i];
        oplog.trace_hash *= 0x100000001b3ull;
    }
    if (!oplog.logging)
        return;
    int reg = region_of(addr);
    oplog.counts[is_erase][reg]++;
    uint32_t op = w.flash.ops + 1; /* the simulator counts it next */
    int by_boot = oplog.app_boot != w.dev.boots;
    char what[192] = "";
    int download = reg == REG_SLOT0 || reg == REG_SLOT1 || reg == REG_DATA;
    const uint8_t *payload = NULL;
    if (is_erase && !download) {
        snprintf(what, sizeof what, "%s: erase sector %u", region_names[reg],
                 (unsigned)((addr - (reg == REG_STATE ? w.layout.state_addr
                                                      : w.layout.otadata_addr)) /
                            w.flash.iface.sector_size));
    } else if (reg == REG_STATE &&
               (payload = record_payload(buf, len, FOTA_PERSIST_RECORD_LEN))) {
        struct fota_persist p;
        fota_persist_defaults(&p, 0);
        fota_persist_decode(payload, FOTA_PERSIST_RECORD_LEN, &p);
        download = describe_persist(&p, what, sizeof what);
        oplog.persist = p;
        oplog.have_persist = 1;
        if (download) {
            struct op_row *r = oplog.n_rows ? &oplog.rows[oplog.n_rows - 1] : NULL;
            if (r && r->download && r->power_on == w.dev.boots) {
                r->last = op;
                r->writes++;
                if (!r->progress++)
                    r->progress_first = p.dl_offset;
                r->progress_last = p.dl_offset;
                return;
            }
            download = 0; /* a progress record on its own */
        }
    } else if (reg == REG_OTADATA &&
               (payload = record_payload(buf, len, sizeof(struct sim_bootdata)))) {
        struct sim_bootdata b;
        memcpy(&b, payload, sizeof b);
        describe_boot(&b, what, sizeof what);
        oplog.boot = b;
        oplog.have_boot = 1;
    } else if (!download) {
        snprintf(what, sizeof what, "%s: write of %u bytes", region_names[reg], (unsigned)len);
    }
    struct op_row *r = oplog.n_rows ? &oplog.rows[oplog.n_rows - 1] : NULL;
    if (download && r && r->download && r->power_on == w.dev.boots) {
        r->last = op;
    } else {
        if (oplog.n_rows == MAX_ROWS)
            return;
        r = &oplog.rows[oplog.n_rows++];
        memset(r, 0, sizeof *r);
        r->first = r->last = op;
        r->power_on = w.dev.boots;
        r->by_bootloader = by_boot;
        r->download = download;
        snprintf(r->what, sizeof r->what, "%s", what);
        if (download)
            snprintf(r->what, sizeof r->what, "%s", region_names[reg]);
    }
    if (download) {
        if (is_erase)
            r->erases++;
        else
            r->writes++;
    }
}

static int logged_write(void *ctx, uint32_t addr, const void *buf, uint32_t len)
{
    log_op(0, addr, buf, len);
    return oplog.write(ctx, addr, buf, len);
}

static int logged_erase(void *ctx, uint32_t addr, uint32_t len)
{
    log_op(1, addr, NULL, len);
    return oplog.erase(ctx, addr, len);
}

/* ---- Results ---------------------------------------------------------------------- */

static struct {
    uint64_t runs;            /* power cycles */
    uint64_t cuts;            /* power cuts that happened */
    uint64_t boots;           /* power-ons checked */
    uint64_t bricked;
    uint64_t unverified;      /* boots of anything but the old or the new image */
    uint64_t failures;        /* every failed check, bricks and unverified included */
    uint64_t not_reached;     /* cut points the run did not reach (nondeterminism) */
    uint64_t window_cuts;     /* cuts while the new image was on trial (PENDING_VERIFY) */
    uint64_t trial_rejected;  /* ... after which the new version was rejected */
    uint64_t crash_boots[4];  /* runs in which the crashing image booted 0, 1, 2, 3+ times */
} st;

/* Per sequence of power cycles, from the factory state to the settled device */
struct track {
    int boot_seen, state_seen;
    uint32_t boot_seq, state_seq;   /* newest record sequence seen in each journal */
    uint32_t last_sequence, floor;  /* agent state values seen: never go down */
    int window;                     /* a cut landed while the new image was on trial */
    uint32_t new_boots;             /* power-ons into the new image */
    uint32_t boots;
};
static struct track tr;
static char context[256]; /* what the current run is, for failure messages */

static void failf(const char *fmt, ...)
{
    st.failures++;
    if (st.failures > MAX_FAIL_DETAILS) {
        if (st.failures == MAX_FAIL_DETAILS + 1)
            printf("FAIL (further failures are counted, not printed)\n");
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    printf("FAIL [%s, power-on %u]: ", context, (unsigned)tr.boots);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
}

/* ---- Invariants ---------------------------------------------------------------------- */

static const uint8_t *slot_mem(int slot)
{
    return w.mem + w.layout.slot_addr[slot];
}

static int slot_holds(int slot, const struct image *img, uint32_t len)
{
    return memcmp(slot_mem(slot), img->data, len) == 0;
}

static int load_bootdata(struct sim_bootdata *bd, uint32_t *seq)
{
    struct fota_record_store rs;
    fota_record_init(&rs, &w.flash.iface, w.layout.otadata_addr, w.layout.otadata_size,
                     sizeof *bd);
    int r = fota_record_load(&rs, bd);
    *seq = rs.seq;
    return r;
}

static int load_persist(struct fota_persist *p, uint32_t *seq)
{
    struct fota_record_store rs;
    uint8_t rec[FOTA_PERSIST_RECORD_LEN];
    fota_record_init(&rs, &w.flash.iface, w.layout.state_addr, w.layout.state_size,
                     sizeof rec);
    int r = fota_record_load(&rs, rec);
    *seq = rs.seq;
    if (r == 0)
        r = fota_persist_decode(rec, sizeof rec, p);
    return r;
}

/* The data partition holds a whole image: the factory's or the release's. */
static int data_whole(void)
{
    const uint8_t *part = w.mem + w.layout.data_addr;
    return memcmp(part, w.data_old, w.data_old_len) == 0 ||
           memcmp(part, w.data_new, w.data_new_len) == 0;
}

/* The application mounts the data partition only when fota_data_ready()
 * says so: it must hold a whole image then (sim/device.c mount_data). */
static void on_mounted(void *ctx, const struct sim_device *d)
{
    (void)ctx;
    (void)d;
    w.data_mounts++;
    if (!data_whole())
        failf("the application mounted data partition '%s' while it holds neither the old nor "
              "the new image: a half-written file system",
              w.data_label);
}

/* (c): both journals readable once written, never older than before, and
 * their contents consistent with each other and with the slots. */
static void check_state(const char *when)
{
    struct sim_bootdata bd;
    struct fota_persist p;
    uint32_t seq;
    const struct image *nw = &w.new_img;
    /* A flash that loses writes silently makes the agent's progress record
     * claim bytes that are not there; only the hashes of resume and
     * read-back can tell, and the bad-region suite checks that they do. */
    int silent_flash = w.flash.bad_len && w.flash.bad_mode == FOTA_BAD_SILENT;
    int have_bd = load_bootdata(&bd, &seq) == 0;
    if (have_bd) {
        if (tr.boot_seen && seq < tr.boot_seq)
            failf("%s: boot data went back from record %u to %u", when, (unsigned)tr.boot_seq,
                  (unsigned)seq);
        tr.boot_seen = 1;
        tr.boot_seq = seq;
        if (bd.active > 1 || bd.state[0] > FOTA_IMG_UNDEFINED || bd.state[1] > FOTA_IMG_UNDEFINED)
            failf("%s: boot data holds impossible values (active %u, states %u %u)", when,
                  (unsigned)bd.active, (unsigned)bd.state[0], (unsigned)bd.state[1]);
    } else if (tr.boot_seen) {
        failf("%s: the boot data written before can no longer be read", when);
    }

    int have_p = load_persist(&p, &seq) == 0;
    if (!have_p) {
        if (tr.state_seen)
            failf("%s: the agent state written before can no longer be read", when);
        else if (have_bd && (bd.state[bd.active] == FOTA_IMG_NEW ||
                             bd.state[bd.active] == FOTA_IMG_PENDING_VERIFY))
            failf("%s: slot %u is selected for a trial boot but the agent state is blank", when,
                  (unsigned)bd.active);
        return;
    }
    if (tr.state_seen && seq < tr.state_seq)
        failf("%s: agent state went back from record %u to %u", when, (unsigned)tr.state_seq,
              (unsigned)seq);
    tr.state_seen = 1;
    tr.state_seq = seq;
    if (p.last_sequence < tr.last_sequence || p.security_floor < tr.floor)
        failf("%s: sequence or floor went down (sequence %u -> %u, floor %u -> %u)", when,
              (unsigned)tr.last_sequence, (unsigned)p.last_sequence, (unsigned)tr.floor,
              (unsigned)p.security_floor);
    tr.last_sequence = p.last_sequence;
    tr.floor = p.security_floor;
    if (p.last_sequence != 0 && p.last_sequence != w.old_sequence &&
        p.last_sequence != w.new_sequence)
        failf("%s: last sequence %u is none of 0, %u and the release's %u", when,
              (unsigned)p.last_sequence, (unsigned)w.old_sequence, (unsigned)w.new_sequence);
    if (p.security_floor != 0 && p.security_floor != w.new_security)
        failf("%s: security floor %u is neither 0 nor %u", when, (unsigned)p.security_floor,
              (unsigned)w.new_security);
    if (w.crash && p.security_floor != 0)
        failf("%s: the floor rose to %u for an image that never confirmed", when,
              (unsigned)p.security_floor);
    uint32_t earlier = w.slot1_aborted ? 1500000u : 0u; /* rejected before this update */
    if (p.rejected_version != earlier && p.rejected_version != nw->version_code)
        failf("%s: rejected version %u is not the new one", when, (unsigned)p.rejected_version);
    if (!w.crash && p.rejected_version == nw->version_code && !tr.window)
        failf("%s: the good new version %u was rejected with no cut during its trial boot", when,
              (unsigned)p.rejected_version);

    /* the data partition: whole unless marked busy; busy only with the
     * whole new image staged in the slot the mark names */
    int data_dl = w.data_label && p.dl_size == w.data_new_len &&
                  memcmp(p.dl_sha256, w.data_new_sha256, 32) == 0;
    if (w.data_label) {
        if (!p.data_busy && !data_whole())
            failf("%s: data partition '%s' is not marked busy but holds neither the old nor the "
                  "new image",
                  when, w.data_label);
        if (p.data_busy &&
            (p.data_size != w.data_new_len || p.data_addr != w.layout.data_addr ||
             p.data_label_crc != fota_crc32(0, w.data_label, strlen(w.data_label)) ||
             p.data_slot > 1 ||
             memcmp(slot_mem(p.data_slot), w.data_new, w.data_new_len) != 0))
            failf("%s: the busy mark (size %u, slot %u) does not name the new data image staged "
                  "whole in its slot",
                  when, (unsigned)p.data_size, (unsigned)p.data_slot);
        else if (p.data_busy && !silent_flash &&
                 memcmp(w.mem + w.layout.data_addr, w.data_new,
                        p.data_copied < w.data_new_len ? p.data_copied : w.data_new_len) != 0)
            failf("%s: the data partition does not hold the %u bytes the busy mark says were "
                  "copied",
                  when, (unsigned)p.data_copied);
    } else if (p.data_busy) {
        failf("%s: a data partition is marked busy in a release without one", when);
    }

    /* the download in progress */
    if (p.dl_size == 0) {
        if (p.dl_offset != 0)
            failf("%s: no download but dl_offset %u", when, (unsigned)p.dl_offset);
    } else if (data_dl) {
        if (p.dl_offset > p.dl_size || (p.dl_slot != 0 && p.dl_slot != 1) ||
            (!silent_flash &&
             memcmp(slot_mem(p.dl_slot), w.data_new, p.dl_offset) != 0))
            failf("%s: slot %d does not hold the %u bytes of the data image the agent state says "
                  "were downloaded",
                  when, (int)p.dl_slot, (unsigned)p.dl_offset);
    } else if (p.dl_size != nw->len || memcmp(p.dl_sha256, nw->sha256, 32) != 0 ||
               (p.dl_slot != 0 && p.dl_slot != 1)) {
        failf("%s: download record does not describe the new image (size %u, slot %d)", when,
              (unsigned)p.dl_size, (int)p.dl_slot);
    } else if (p.dl_offset > p.dl_size ||
               (p.dl_offset % w.flash.iface.sector_size != 0 && p.dl_offset != p.dl_size)) {
        failf("%s: dl_offset %u of %u is not sector-aligned or complete", when,
              (unsigned)p.dl_offset, (unsigned)p.dl_size);
    } else if (!silent_flash && !slot_holds(p.dl_slot, nw, p.dl_offset)) {
        failf("%s: slot %d does not hold the %u bytes the agent state says were downloaded",
              when, (int)p.dl_slot, (unsigned)p.dl_offset);
    }

    /* the activated image */
    if (p.pending_version == 0) {
        if (p.pending_slot != -1)
            failf("%s: no pending version but pending slot %d", when, (int)p.pending_slot);
    } else if (p.pending_version != nw->version_code || p.pending_security != w.new_security ||
               (p.pending_slot != 0 && p.pending_slot != 1)) {
        failf("%s: pending version %u / security %u / slot %d do not describe the new image",
              when, (unsigned)p.pending_version, (unsigned)p.pending_security,
              (int)p.pending_slot);
    } else if (!slot_holds(p.pending_slot, nw, nw->len)) {
        failf("%s: pending slot %d does not hold the whole new image", when, (int)p.pending_slot);
    }

    /* the bootloader runs a slot on trial only after the agent recorded it */
    if (have_bd && (bd.state[bd.active] == FOTA_IMG_NEW ||
                    bd.state[bd.active] == FOTA_IMG_PENDING_VERIFY)) {
        if (p.pending_version != nw->version_code || p.pending_slot != (int32_t)bd.active)
            failf("%s: slot %u is on trial but the agent state has pending version %u slot %d",
                  when, (unsigned)bd.active, (unsigned)p.pending_version, (int)p.pending_slot);
        if (!slot_holds((int)bd.active, nw, nw->len))
            failf("%s: slot %u is on trial but does not hold the new image", when,
                  (unsigned)bd.active);
    }
}

/* Called by the simulated device at every power-on, before the application. */
static void on_booted(void *ctx, const struct sim_device *d)
{
    (void)ctx;
    st.boots++;
    tr.boots++;
    oplog.app_boot = d->boots;
    if (d->slot < 0) {
        st.bricked++;
        failf("BRICKED: %s", d->boot.message);
        return;
    }
    int is_old = slot_holds(d->slot, &w.old_img, w.old_img.len);
    int is_new = slot_holds(d->slot, &w.new_img, w.new_img.len);
    if (!is_old && !is_new) {
        st.unverified++;
        failf("the bootloader started slot %d, which holds neither the old nor the new image "
              "(%s)",
              d->slot, d->boot.message);
    }
    if (is_new)
        tr.new_boots++;
    check_state("at power-on");
}

/* on_cut of the flash simulator: the power is gone. Note whether the new
 * image was on trial (the boot data, as the cut left it, has the active slot
 * PENDING_VERIFY: the next power-on rolls it back by design), then jump back
 * to "power on". */
static void on_cut(void *ctx)
{
    (void)ctx;
    struct sim_bootdata bd;
    uint32_t seq;
    st.cuts++;
    if (w.verbose)
        printf("*** power cut %s operation %u\n", mode_name(w.flash.cut_mode),
               (unsigned)w.flash.ops);
    if (load_bootdata(&bd, &seq) == 0 && bd.active <= 1 &&
        bd.state[bd.active] == FOTA_IMG_PENDING_VERIFY) {
        tr.window = 1;
        st.window_cuts++;
    }
    longjmp(w.power_on, 1);
}

/* ---- Running the device -------------------------------------------------------------- */

static void restore(const uint8_t *flash_copy)
{
    memcpy(w.mem, flash_copy, w.layout.flash_size);
    w.flash.bad_len = 0;
    w.flash.bad_mode = FOTA_BAD_FAIL;
}

/* Power the device on and let it run until it settles (at most MAX_BOOTS
 * power-ons) or, with cut_at > 0, until the power is cut at that operation.
 * Returns the sim outcome or CUT. Everything in RAM is lost either way. */
static int power_cycle(uint32_t cut_at, int mode, uint32_t seed)
{
    st.runs++;
    w.flash.ops = 0;
    w.flash.cut_at = cut_at;
    w.flash.cut_mode = cut_at ? mode : FOTA_CUT_NONE;
    w.flash.seed = seed;
    w.flash.on_cut = on_cut;
    if (setjmp(w.power_on) != 0) {
        /* power lost: the sockets the device had open go away with it */
        w.net.iface.close(&w.net);
        w.flash.cut_mode = FOTA_CUT_NONE;
        return CUT;
    }
    sim_device_init(&w.dev, &w.opt, &w.flash, &w.layout);
    int r = sim_device_run(&w.dev, MAX_BOOTS);
    w.net.iface.close(&w.net);
    w.flash.cut_mode = FOTA_CUT_NONE;
    if (cut_at) {
        st.not_reached++;
        failf("the run ended after %u operations without reaching cut point %u",
              (unsigned)w.flash.ops, (unsigned)cut_at);
    }
    return r;
}

/* The device settled: is it where it must be? */
static void check_end(int outcome)
{
    struct sim_bootdata bd;
    struct fota_persist p;
    uint32_t seq;
    const struct image *nw = &w.new_img;
    check_state("at the end");
    if (outcome == SIM_BRICKED || w.dev.slot < 0)
        return; /* counted at power-on */
    if (w.dev.error != 0 && w.dev.error != FOTA_ERR_REJECTED_VERSION)
        failf("the device ended with %s: %s", fota_strerror(w.dev.error), w.dev.message);
    int slot = w.dev.slot;
    if (load_bootdata(&bd, &seq) < 0 || bd.active != (uint32_t)slot ||
        bd.state[slot] != FOTA_IMG_VALID) {
        failf("slot %d runs but the boot data does not have it active and valid", slot);
        return;
    }
    if (load_persist(&p, &seq) < 0) {
        failf("the agent state is unreadable at the end");
        return;
    }
    if (p.pending_version != 0 || p.dl_size != 0)
        failf("the agent state still has pending version %u / download of %u bytes",
              (unsigned)p.pending_version, (unsigned)p.dl_size);
    if (w.data_label && (p.data_busy || memcmp(w.mem + w.layout.data_addr, w.data_new,
                                               w.data_new_len) != 0))
        failf("at the end data partition '%s' %s", w.data_label,
              p.data_busy ? "is still marked busy" : "does not hold the new image");
    if (w.data_label && !w.dev.data_mounted)
        failf("at the end the application has not mounted data partition '%s'", w.data_label);
    if (p.last_sequence != w.new_sequence)
        failf("last sequence %u, expected %u", (unsigned)p.last_sequence,
              (unsigned)w.new_sequence);
    int runs_new = slot_holds(slot, nw, nw->len);
    if (w.crash) {
        st.crash_boots[tr.new_boots < 3 ? tr.new_boots : 3]++;
        if (runs_new || p.rejected_version != nw->version_code || p.security_floor != 0)
            failf("after the crashing release: %s runs, rejected version %u, floor %u "
                  "(expected the old image, %u, 0)",
                  runs_new ? "the new image" : "the old image", (unsigned)p.rejected_version,
                  (unsigned)p.security_floor, (unsigned)nw->version_code);
        if (tr.new_boots == 0 && !tr.window)
            failf("the crashing release was rejected without a trial boot or a cut during one");
        if (tr.new_boots > (w.strict_rollback ? 1u : 2u))
            failf("the crashing release booted %u times", (unsigned)tr.new_boots);
        return;
    }
    if (runs_new) {
        if (p.security_floor != w.new_security || p.rejected_version != (w.slot1_aborted ? 1500000u : 0u))
            failf("the new image runs but floor is %u (expected %u), rejected version %u",
                  (unsigned)p.security_floor, (unsigned)w.new_security,
                  (unsigned)p.rejected_version);
        return;
    }
    /* the old image runs: only acceptable when a cut hit the trial boot */
    if (!tr.window || p.rejected_version != nw->version_code || p.security_floor != 0)
        failf("the old image runs at the end (rejected version %u, floor %u, trial cut %d)",
              (unsigned)p.rejected_version, (unsigned)p.security_floor, tr.window);
    else
        st.trial_rejected++;
}

/* ---- Devices with a history ----------------------------------------------------------------
 * A device that has been through earlier updates has journals that are far
 * from blank: with them nearly full, this update's records move into the
 * next sector and wrap around to the first (erasing it) at a chosen record,
 * so cuts also land on journal erases and on the wrap. */

/* Records a journal region of `size` bytes holds before it wraps. */
static uint32_t journal_capacity(uint32_t size, uint32_t data_len)
{
    struct fota_record_store rs;
    fota_record_init(&rs, &w.flash.iface, 0, 2 * w.flash.iface.sector_size, data_len);
    return size / w.flash.iface.sector_size * (w.flash.iface.sector_size / rs.slot_len);
}

static void prefill(uint8_t *flash_copy, uint32_t addr, uint32_t size, const void *data,
                    uint32_t len, uint32_t records)
{
    struct sim_flash f;
    struct fota_record_store rs;
    memset(&f, 0, sizeof f); /* a flash view on the copy, without blanking it */
    f.mem = flash_copy;
    f.size = w.layout.flash_size;
    sim_flash_init_iface(&f, w.flash.iface.sector_size, w.flash.iface.write_size);
    fota_record_init(&rs, &f.iface, addr, size, len);
    for (uint32_t i = 0; i < records; i++)
        fota_record_save(&rs, data);
}

/* Agent state after an earlier check of the running release. */
static void prefill_state(uint8_t *flash_copy, uint32_t records)
{
    struct fota_persist p;
    uint8_t rec[FOTA_PERSIST_RECORD_LEN];
    fota_persist_defaults(&p, 0);
    p.last_sequence = w.old_sequence;
    if (w.slot1_aborted)
        p.rejected_version = 1500000; /* a 1.500.0 that was rolled back */
    fota_persist_encode(&p, rec);
    prefill(flash_copy, w.layout.state_addr, w.layout.state_size, rec, sizeof rec, records);
}

/* Boot data with the running slot 0 confirmed. */
static void prefill_boot(uint8_t *flash_copy, uint32_t records)
{
    struct sim_bootdata b = {
        0, {FOTA_IMG_VALID, w.slot1_aborted ? FOTA_IMG_ABORTED : FOTA_IMG_UNDEFINED}};
    prefill(flash_copy, w.layout.otadata_addr, w.layout.otadata_size, &b, sizeof b, records);
}

/* ---- Suites ----------------------------------------------------------------------------- */

static double seconds_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static FILE *report;

static void reset_track(void)
{
    memset(&tr, 0, sizeof tr);
}

/* The uncut scenario, twice: counts its operations and checks that the runs
 * are identical operation for operation. Returns N. */
static uint32_t reference_run(void)
{
    uint64_t hash[2];
    uint32_t ops[2];
    for (int k = 0; k < 2; k++) {
        snprintf(context, sizeof context, "%s: reference run %d", w.scenario, k + 1);
        restore(w.initial);
        reset_track();
        if (k == 0) {
            memset(&oplog.counts, 0, sizeof oplog.counts);
            oplog.n_rows = 0;
            uint32_t seq;
            oplog.have_persist = load_persist(&oplog.persist, &seq) == 0;
            oplog.have_boot = load_bootdata(&oplog.boot, &seq) == 0;
        }
        oplog.logging = k == 0;
        oplog.trace_hash = 0xcbf29ce484222325ull;
        oplog.app_boot = 0;
        int r = power_cycle(0, FOTA_CUT_NONE, 0);
        ops[k] = w.flash.ops;
        hash[k] = oplog.trace_hash;
        oplog.logging = 0;
        check_end(r);
        if (k == 0)
            printf("%s: the uncut scenario ends %s after %u power-ons, %u flash operations\n",
                   w.scenario, sim_outcome_name(r), (unsigned)tr.boots, (unsigned)ops[k]);
    }
    if (ops[0] != ops[1] || hash[0] != hash[1])
        failf("two uncut runs differ: %u and %u operations", (unsigned)ops[0], (unsigned)ops[1]);
    return ops[0];
}

static void report_reference(uint32_t n, int with_map)
{
    uint32_t total[2] = {0, 0};
    for (int k = 0; k < 2; k++)
        for (int r = 0; r < REG_COUNT; r++)
            total[k] += oplog.counts[k][r];
    printf("%s: %u operations: %u erases, %u writes", w.scenario, (unsigned)n,
           (unsigned)total[1], (unsigned)total[0]);
    for (int r = 0; r < REG_COUNT; r++)
        if (oplog.counts[0][r] + oplog.counts[1][r])
            printf("; %s %u+%u", region_names[r], (unsigned)oplog.counts[1][r],
                   (unsigned)oplog.counts[0][r]);
    printf(" (erases+writes)\n");
    if (!report)
        return;
    fprintf(report, "Flash operations of the uncut scenario: **%u** (%u erases, %u "
                    "writes).\n\n",
            (unsigned)n, (unsigned)total[1], (unsigned)total[0]);
    if (!with_map)
        return;
    fprintf(report, "| operations | power-on | by | what |\n");
    fprintf(report, "|---|---|---|---|\n");
    for (uint32_t i = 0; i < oplog.n_rows; i++) {
        const struct op_row *r = &oplog.rows[i];
        if (r->first == r->last)
            fprintf(report, "| %u ", (unsigned)r->first);
        else
            fprintf(report, "| %u-%u ", (unsigned)r->first, (unsigned)r->last);
        fprintf(report, "| %u | %s | ", (unsigned)r->power_on,
                r->by_bootloader ? "bootloader" : "agent");
        if (r->download) {
            fprintf(report, "download into %s: %u erases, %u writes", r->what,
                    (unsigned)r->erases, (unsigned)(r->writes - r->progress));
            if (r->progress)
                fprintf(report, ", %u progress records in the agent state (%u to %u bytes)",
                        (unsigned)r->progress, (unsigned)r->progress_first,
                        (unsigned)r->progress_last);
        } else {
            fprintf(report, "%s", r->what);
        }
        fprintf(report, " |\n");
    }
    fprintf(report, "\n");
}

static void summary_line(const char *suite, uint64_t cases, double secs)
{
    printf("%s %s: %llu cases, %llu power cycles, %llu cuts, %llu power-ons checked, "
           "%llu bricked, %llu unverified images run, %llu failures (%.1f s)\n",
           w.scenario, suite, (unsigned long long)cases, (unsigned long long)st.runs,
           (unsigned long long)st.cuts, (unsigned long long)st.boots,
           (unsigned long long)st.bricked, (unsigned long long)st.unverified,
           (unsigned long long)st.failures, secs);
    if (w.crash)
        printf("%s %s: the crashing release booted 0/1/2/3+ times in %llu/%llu/%llu/%llu runs\n",
               w.scenario, suite, (unsigned long long)st.crash_boots[0],
               (unsigned long long)st.crash_boots[1], (unsigned long long)st.crash_boots[2],
               (unsigned long long)st.crash_boots[3]);
    else
        printf("%s %s: %llu cuts during the new image's trial boot, %llu runs ended with it "
               "rejected\n",
               w.scenario, suite, (unsigned long long)st.window_cuts,
               (unsigned long long)st.trial_rejected);
    fflush(stdout);
}

/* How the runs ended, beyond the failures: the expected rollbacks. */
static void report_outcomes(void)
{
    if (w.crash)
        fprintf(report,
                "Runs in which the crashing %s ran never (a cut in its trial boot before the "
                "application started): %llu, once: %llu, twice: %llu (finding 2). ",
                w.new_img.version, (unsigned long long)st.crash_boots[0],
                (unsigned long long)st.crash_boots[1], (unsigned long long)st.crash_boots[2]);
    else
        fprintf(report,
                "%llu cuts hit the new image's trial boot (the bootloader's pending-verify "
                "on flash, the confirm not yet); %llu runs ended with the bootloader's "
                "rollback and %s rejected (finding 1); every other run ends with %s "
                "confirmed. ",
                (unsigned long long)st.window_cuts, (unsigned long long)st.trial_rejected,
                w.new_img.version, w.new_img.version);
}

/* Every cut point x every mode, one cut each, then recovery. */
static void suite_exhaustive(uint32_t n, uint32_t only_cut, int only_mode)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    memset(&st, 0, sizeof st);
    uint64_t cases = 0;
    for (uint32_t i = 1; i <= n; i++) {
        if (only_cut && i != only_cut)
            continue;
        for (int m = 0; m < 3; m++) {
            if (only_mode && modes[m] != only_mode)
                continue;
            snprintf(context, sizeof context, "%s: cut %s operation %u", w.scenario,
                     mode_name(modes[m]), (unsigned)i);
            restore(w.initial);
            reset_track();
            cases++;
            int r = power_cycle(i, modes[m], i * 3u + (uint32_t)m);
            if (r != CUT)
                continue; /* reported by power_cycle */
            r = power_cycle(0, FOTA_CUT_NONE, 0);
            check_end(r);
        }
    }
    double secs = seconds_since(&t0);
    char what[64];
    snprintf(what, sizeof what, "every cut point (%u points x 3 modes)", (unsigned)n);
    summary_line(what, cases, secs);
    if (report) {
        fprintf(report,
                "**Every cut point x every mode:** %u cut points x 3 modes (before, torn, "
                "after) = %llu runs, each cut once and then left to recover: %llu cuts, %llu "
                "power-ons checked; **%llu bricked, %llu unverified images run, %llu "
                "failures**. ",
                (unsigned)n, (unsigned long long)cases, (unsigned long long)st.cuts,
                (unsigned long long)st.boots, (unsigned long long)st.bricked,
                (unsigned long long)st.unverified, (unsigned long long)st.failures);
        report_outcomes();
        fprintf(report, "Time: %.1f s.\n\n", secs);
    }
}

static uint32_t next_rand(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

/* Random sequences of up to max_cuts cuts: each later cut falls within the
 * operations the recovery from the previous cut would do (counted by a dry
 * run of that recovery from a copy of the flash). */
static void suite_random(uint32_t n, uint32_t count, uint32_t first, uint32_t max_cuts,
                         uint32_t seed)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    memset(&st, 0, sizeof st);
    uint8_t *snap = malloc(w.layout.flash_size);
    if (!snap) {
        failf("out of memory");
        return;
    }
    uint64_t total_cuts = 0, cut_hist[8] = {0};
    printf("%s random: %u sequences of up to %u cuts, seed %u\n", w.scenario, (unsigned)count,
           (unsigned)max_cuts, (unsigned)seed);
    for (uint32_t s = first; s < first + count; s++) {
        uint32_t rng = seed ^ (s * 0x9E3779B9u);
        if (rng == 0)
            rng = 1;
        for (int k = 0; k < 4; k++)
            next_rand(&rng);
        uint32_t want = 1 + next_rand(&rng) % max_cuts;
        uint32_t remaining = n, done = 0;
        int len = snprintf(context, sizeof context, "%s: random sequence %u (seed %u):",
                           w.scenario, (unsigned)s, (unsigned)seed);
        restore(w.initial);
        reset_track();
        while (done < want && remaining > 0) {
            uint32_t at = 1 + next_rand(&rng) % remaining;
            int m = modes[next_rand(&rng) % 3];
            if (len < (int)sizeof context - 24)
                len += snprintf(context + len, sizeof context - (size_t)len, " %s@%u",
                                mode_name(m), (unsigned)at);
            int r = power_cycle(at, m, next_rand(&rng));
            if (r != CUT)
                break;
            done++;
            if (done == want)
                break;
            /* how many operations would the recovery do? */
            memcpy(snap, w.mem, w.layout.flash_size);
            struct track saved = tr;
            uint64_t saved_boots = st.boots;
            power_cycle(0, FOTA_CUT_NONE, 0);
            remaining = w.flash.ops;
            memcpy(w.mem, snap, w.layout.flash_size);
            tr = saved;
            st.boots = saved_boots;
        }
        total_cuts += done;
        cut_hist[done < 7 ? done : 7]++;
        int r = power_cycle(0, FOTA_CUT_NONE, 0);
        check_end(r);
    }
    free(snap);
    double secs = seconds_since(&t0);
    summary_line("random sequences", count, secs);
    printf("%s random: cuts per sequence:", w.scenario);
    for (uint32_t k = 0; k <= max_cuts && k < 8; k++)
        printf(" %u:%llu", (unsigned)k, (unsigned long long)cut_hist[k]);
    printf("\n");
    if (report) {
        fprintf(report,
                "**Random sequences:** %u sequences of 1 to %u cuts in a row (seed %u), each "
                "later cut at a random operation of the recovery from the one before, random "
                "mode; %llu cuts in all (sequences by number of cuts:",
                (unsigned)count, (unsigned)max_cuts, (unsigned)seed,
                (unsigned long long)total_cuts);
        for (uint32_t k = 1; k <= max_cuts && k < 8; k++)
            fprintf(report, " %u: %llu%s", (unsigned)k, (unsigned long long)cut_hist[k],
                    k < max_cuts ? "," : "");
        fprintf(report,
                "), %llu power-ons checked; **%llu bricked, %llu unverified images run, %llu "
                "failures**. ",
                (unsigned long long)st.boots, (unsigned long long)st.bricked,
                (unsigned long long)st.unverified, (unsigned long long)st.failures);
        report_outcomes();
        fprintf(report, "Time: %.1f s.\n\n", secs);
    }
}

/* ---- Bad flash regions ------------------------------------------------------------------- */

struct bad_case {
    const char *name;
    int region;       /* REG_SLOT1, REG_STATE or REG_OTADATA */
    uint32_t offset;  /* in the region; UINT32_MAX: its last sector */
    uint32_t len;     /* 0: the whole region */
    int mode;
    int worn_journal; /* the agent state journal has filled its first sector already */
};

static const struct bad_case bad_cases[] = {
    {"slot 1, first sector: erase and write fail", REG_SLOT1, 0, 4096, FOTA_BAD_FAIL, 0},
    {"slot 1, a middle sector: erase and write fail", REG_SLOT1, 0x20000, 4096, FOTA_BAD_FAIL,
     0},
    {"slot 1, last sector: erase and write fail", REG_SLOT1, UINT32_MAX, 4096, FOTA_BAD_FAIL, 0},
    {"slot 1, a middle sector: writes fail, erases work", REG_SLOT1, 0x20000, 4096,
     FOTA_BAD_WRITES, 0},
    {"slot 1, a middle sector: erases fail, writes work", REG_SLOT1, 0x20000, 4096,
     FOTA_BAD_ERASES, 0},
    {"slot 1, a middle sector: writes report success but program nothing", REG_SLOT1, 0x20000,
     4096, FOTA_BAD_SILENT, 0},
    {"agent state, whole region: erase and write fail", REG_STATE, 0, 0, FOTA_BAD_FAIL, 0},
    {"agent state, first sector: writes fail", REG_STATE, 0, 4096, FOTA_BAD_WRITES, 0},
    {"agent state, whole region: writes report success but program nothing", REG_STATE, 0, 0,
     FOTA_BAD_SILENT, 0},
    {"agent state, second sector fails when the journal moves into it mid-download",
     REG_STATE, 4096, 4096, FOTA_BAD_FAIL, 1},
    {"boot data (otadata), whole region: erase and write fail", REG_OTADATA, 0, 0,
     FOTA_BAD_FAIL, 0},
};

/* The device must fail the update with a flash error that names the
 * failure, keep running the old image, and never brick: without cuts, on
 * two more power cycles, and with the power cut at every operation of the
 * failing run in every mode. */
static void suite_bad_regions(int with_cuts)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    memset(&st, 0, sizeof st);
    uint8_t *start = malloc(w.layout.flash_size);
    uint64_t cases = 0;
    size_t n_cases = sizeof bad_cases / sizeof bad_cases[0];
    if (report)
        fprintf(report, "| bad region | operations (uncut) | runs | the device reports |\n"
                        "|---|---|---|---|\n");
    for (size_t c = 0; c < n_cases; c++) {
        const struct bad_case *b = &bad_cases[c];
        uint32_t base, size;
        if (b->region == REG_SLOT1) {
            base = w.layout.slot_addr[1];
            size = w.layout.slot_size;
        } else if (b->region == REG_STATE) {
            base = w.layout.state_addr;
            size = w.layout.state_size;
        } else {
            base = w.layout.otadata_addr;
            size = w.layout.otadata_size;
        }
        uint32_t off = b->offset == UINT32_MAX ? size - 4096 : b->offset;
        memcpy(start, w.initial, w.layout.flash_size);
        if (b->worn_journal) /* the first sector nearly full: the update moves on */
            prefill_state(start, journal_capacity(w.layout.state_size / 2,
                                                  FOTA_PERSIST_RECORD_LEN) - 6);
        char message[FOTA_MSG_MAX + 64] = "";
        uint32_t n = 0, runs = 0;
        uint32_t first_fail = (uint32_t)st.failures;
        for (uint32_t i = 0; i <= n; i++) {
            for (int m = 0; m < 3; m++) {
                if (i == 0 && m > 0)
                    break;
                if (i > 0 && !with_cuts)
                    break;
                snprintf(context, sizeof context, "bad region \"%s\"%s%s%s", b->name,
                         i ? ": cut " : "", i ? mode_name(modes[m]) : "", i ? " operation" : "");
                if (i) {
                    size_t l = strlen(context);
                    snprintf(context + l, sizeof context - l, " %u", (unsigned)i);
                }
                restore(start);
                reset_track();
                w.flash.bad_addr = base + off;
                w.flash.bad_len = b->len ? b->len : size;
                w.flash.bad_mode = b->mode;
                cases++;
                runs++;
                int r;
                if (i) {
                    r = power_cycle(i, modes[m], i * 7u + (uint32_t)m);
                    if (r != CUT)
                        continue;
                }
                /* power on (three times when uncut): each time the update fails
                 * the same way and the old image keeps running */
                for (int k = 0; k < (i ? 1 : 3); k++) {
                    r = power_cycle(0, FOTA_CUT_NONE, 0);
                    if (i == 0 && k == 0) {
                        n = w.flash.ops;
                        snprintf(message, sizeof message, "%s: %s", fota_strerror(w.dev.error),
                                 w.dev.message);
                    }
                    if (r == SIM_BRICKED)
                        break;
                    int err = w.dev.error;
                    int expected = b->region == REG_OTADATA
                                       ? err == FOTA_ERR_BOOT
                                       : (err == FOTA_ERR_FLASH_WRITE ||
                                          err == FOTA_ERR_FLASH_ERASE ||
                                          err == FOTA_ERR_FLASH_VERIFY);
                    /* the message names the address; a read-back hash can only name
                     * the slot, a failed boot-data save the flash cause */
                    const char *named = b->region == REG_OTADATA ? "FOTA_ERR_FLASH_"
                                        : b->region == REG_SLOT1 && b->mode == FOTA_BAD_SILENT
                                            ? "slot 1"
                                            : "0x";
                    if (r != SIM_FAILED || !expected || !strstr(w.dev.message, named))
                        failf("expected a flash error naming '%s', the device reports %s (%s: "
                              "%s)",
                              named, sim_outcome_name(r), fota_strerror(err), w.dev.message);
                    if (w.dev.slot < 0 ||
                        !slot_holds(w.dev.slot, &w.old_img, w.old_img.len))
                        failf("the old image does not run after the failed update");
                    check_state("after the failed update");
                }
            }
        }
        printf("bad region: %s: %u operations, %u runs; \"%s\"\n", b->name, (unsigned)n,
               (unsigned)runs, message);
        if (report)
            fprintf(report, "| %s | %u | %u%s | %s |\n", b->name, (unsigned)n, (unsigned)runs,
                    st.failures != first_fail ? " (FAILED)" : "", message);
    }
    free(start);
    double secs = seconds_since(&t0);
    summary_line("bad regions", cases, secs);
    if (report)
        fprintf(report,
                "\n**Bad regions:** %zu regions, %llu runs%s; after each the update must fail "
                "with a flash error naming the failure and the old image keep running: %llu "
                "cuts, %llu power-ons checked; "
                "**%llu bricked, %llu unverified images run, %llu failures**. Time: %.1f s.\n\n",
                n_cases, (unsigned long long)cases,
                with_cuts ? " (per region: the uncut run and two more power-ons, then a cut at "
                            "each of its operations in each mode and one recovery)"
                          : " (three power-ons per region)",
                (unsigned long long)st.cuts, (unsigned long long)st.boots,
                (unsigned long long)st.bricked, (unsigned long long)st.unverified,
                (unsigned long long)st.failures, secs);
}

/* ---- Setup ------------------------------------------------------------------------------- */

static int load_image(const char *path, struct image *img)
{
    size_t len;
    img->data = util_read_file(path, &len);
    if (!img->data)
        return -1;
    struct fota_esp_header h;
    if (fota_esp_header_parse(img->data, len, &h) < 0 || !h.has_app_desc) {
        fprintf(stderr, "powercut: %s is not an ESP32 application image\n", path);
        return -1;
    }
    img->len = (uint32_t)len;
    snprintf(img->version, sizeof img->version, "%s", h.version);
    if (fota_version_code(img->version, strlen(img->version), &img->version_code) < 0) {
        fprintf(stderr, "powercut: %s: version '%s' has no version code\n", path, img->version);
        return -1;
    }
    fota_sha256_digest(&fota_crypto_mbedtls, img->data, len, img->sha256);
    return 0;
}

/* The release on the in-memory origin: the manifest at the device's URL,
 * the image where the manifest's (relative) URL points. */
static int serve_release(const char *url, const char *manifest_file, const char *product,
                         int no_range)
{
    struct fota_manifest m;
    struct fota_url mu, iu;
    char resolved[FOTA_MANIFEST_URL_MAX + 1];
    w.manifest = util_read_file(manifest_file, &w.manifest_len);
    if (!w.manifest)
        return -1;
    if (fota_manifest_parse((const char *)w.manifest, w.manifest_len, &m, NULL) < 0) {
        fprintf(stderr, "powercut: %s is not a manifest\n", manifest_file);
        return -1;
    }
    if (url)
        snprintf(w.manifest_path, sizeof w.manifest_path, "%s", url);
    else
        snprintf(w.manifest_path, sizeof w.manifest_path, ORIGIN "/%s/manifest.txt", product);
    if (fota_url_parse(w.manifest_path, &mu) < 0 ||
        fota_url_resolve(w.manifest_path, m.url, resolved, sizeof resolved) < 0 ||
        fota_url_parse(resolved, &iu) < 0 || mu.path_len >= sizeof w.manifest_route ||
        iu.path_len >= sizeof w.image_path) {
        fprintf(stderr, "powercut: cannot serve the image URL '%s' of %s under %s\n", m.url,
                manifest_file, w.manifest_path);
        return -1;
    }
    /* the origin serves by path (and any host) */
    memcpy(w.manifest_route, mu.path, mu.path_len);
    w.manifest_route[mu.path_len] = '\0';
    memcpy(w.image_path, iu.path, iu.path_len);
    w.image_path[iu.path_len] = '\0';
    mem_transport_init(&w.net, "tcp", &w.clock);
    w.net.serve_piece = SEG_BYTES;
    w.origin.ignore_range = no_range;
    mem_origin_put(&w.origin, w.manifest_route, w.manifest, w.manifest_len, NULL);
    mem_origin_put(&w.origin, w.image_path, w.new_img.data, w.new_img.len, NULL);
    if (w.data_label) {
        struct fota_url du;
        if (m.n_data != 1 || strcmp(m.data[0].label, w.data_label) != 0 ||
            m.data[0].url_len >= sizeof resolved) {
            fprintf(stderr, "powercut: %s has no data image for '%s'\n", manifest_file,
                    w.data_label);
            return -1;
        }
        char rel[FOTA_MANIFEST_URL_MAX + 1];
        memcpy(rel, w.manifest + m.data[0].url_offset, m.data[0].url_len);
        rel[m.data[0].url_len] = '\0';
        if (fota_url_resolve(w.manifest_path, rel, resolved, sizeof resolved) < 0 ||
            fota_url_parse(resolved, &du) < 0 || du.path_len >= sizeof w.data_path)
            return -1;
        memcpy(w.data_path, du.path, du.path_len);
        w.data_path[du.path_len] = '\0';
        mem_origin_put(&w.origin, w.data_path, w.data_new, w.data_new_len, NULL);
    }
    mem_origin_attach(&w.origin, &w.net);
    return 0;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: powercut --manifest FILE --key KEY.pub --old FW1 --new FW2 [options]\n"
            "  --manifest FILE       the signed manifest of FW2 (`fota release` output)\n"
            "  --product ID          [demo]\n"
            "  --url URL             the device's manifest URL [" ORIGIN "/<product>/manifest.txt]\n"
            "  --no-range            the server ignores Range (answers 200)\n"
            "  --crash               the new release crashes before confirming (rollback)\n"
            "  --security N          security counter of the new release [0]\n"
            "  --sequence N          manifest sequence of the new release [2]\n"
            "  --persist-every B     agent progress records every B bytes [16384]\n"
            "  --slot-size B         [262144]\n"
            "  --exhaustive          every cut point x every mode\n"
            "  --cut I --mode M      only cut point I, mode before|torn|after\n"
            "  --random N            N random sequences of cuts\n"
            "  --first S             start at sequence S (to rerun one: --random 1 --first S)\n"
            "  --max-cuts K          cuts per random sequence, 1..K [5]\n"
            "  --seed S              random seed [time]\n"
            "  --bad-regions         bad flash regions (--bad-cuts: and cut every operation)\n"
            "  --worn-state N        the agent state journal starts N records short of\n"
            "                        wrapping around (default: blank)\n"
            "  --worn-boot N         the same for the boot data journal\n"
            "  --slot1-aborted       slot 1 holds a release rolled back earlier (aborted,\n"
            "                        its version rejected): the update reuses that slot\n"
            "  --strict-rollback     fail when a crashing release boots more than once\n"
            "  --report FILE         append a markdown section with the results\n"
            "  --no-map              leave the operation map out of the report\n"
            "  --data L=OLD,NEW      a data partition L holding OLD at the factory; the\n"
            "                        release's data image for it is NEW\n"
            "  --verbose             print what the device does\n"
            "Exit status 0 when every check passed, 1 on any failure, 2 on usage.\n");
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"url", required_argument, 0, 'u'},        {"key", required_argument, 0, 'k'},
        {"manifest", required_argument, 0, 'F'},   {"no-range", no_argument, 0, 'N'},
        {"old", required_argument, 0, 'o'},        {"new", required_argument, 0, 'n'},
        {"product", required_argument, 0, 'p'},    {"crash", no_argument, 0, 'C'},
        {"security", required_argument, 0, 'S'},   {"sequence", required_argument, 0, 'Q'},
        {"persist-every", required_argument, 0, 'P'}, {"slot-size", required_argument, 0, 'z'},
        {"exhaustive", no_argument, 0, 'e'},       {"cut", required_argument, 0, 'c'},
        {"mode", required_argument, 0, 'm'},       {"random", required_argument, 0, 'r'},
        {"first", required_argument, 0, 'f'},      {"max-cuts", required_argument, 0, 'x'},
        {"seed", required_argument, 0, 's'},       {"bad-regions", no_argument, 0, 'b'},
        {"bad-cuts", no_argument, 0, 'B'},         {"report", required_argument, 0, 'R'},
        {"no-map", no_argument, 0, 'M'},           {"strict-rollback", no_argument, 0, 'T'},  {"worn-state", required_argument, 0, 'W'}, {"worn-boot", required_argument, 0, 'w'},
        {"slot1-aborted", no_argument, 0, 'A'},   {"data", required_argument, 0, 'd'},
        {"verbose", no_argument, 0, 'v'},          {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    const char *url = NULL, *key = NULL, *old_path = NULL, *new_path = NULL, *product = "demo";
    const char *report_path = NULL, *manifest_file = NULL, *data_spec = NULL;
    int no_range = 0;
    uint32_t only_cut = 0, random_count = 0, first = 0, max_cuts = 5;
    uint32_t seed = (uint32_t)time(NULL);
    uint32_t worn_state = UINT32_MAX, worn_boot = UINT32_MAX;
    int only_mode = 0, exhaustive = 0, bad = 0, bad_cuts = 0, with_map = 1, c;

    w.scenario = "update";
    w.new_sequence = 2;
    w.persist_every = 16384;
    w.slot_size = 262144;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        uint32_t v = 0;
        if (optarg && strchr("SQPzcrfxsWw", c) && util_parse_u32(optarg, &v) < 0) {
            const struct option *o = longopts;
            while (o->name && o->val != c)
                o++;
            fprintf(stderr, "powercut: --%s wants a number, not '%s'\n", o->name, optarg);
            return 2;
        }
        switch (c) {
        case 'u': url = optarg; break;
        case 'F': manifest_file = optarg; break;
        case 'N': no_range = 1; break;
        case 'k': key = optarg; break;
        case 'o': old_path = optarg; break;
        case 'n': new_path = optarg; break;
        case 'p': product = optarg; break;
        case 'C': w.crash = 1; w.scenario = "rollback"; break;
        case 'S': w.new_security = v; break;
        case 'Q': w.new_sequence = v; break;
        case 'P': w.persist_every = v; break;
        case 'z': w.slot_size = v; break;
        case 'e': exhaustive = 1; break;
        case 'c': only_cut = v; exhaustive = 1; break;
        case 'm':
            only_mode = strcmp(optarg, "before") == 0 ? FOTA_CUT_BEFORE
                        : strcmp(optarg, "torn") == 0 ? FOTA_CUT_TORN
                        : strcmp(optarg, "after") == 0 ? FOTA_CUT_AFTER
                                                        : -1;
            if (only_mode < 0) {
                fprintf(stderr, "powercut: --mode is before, torn or after\n");
                return 2;
            }
            break;
        case 'r': random_count = v; break;
        case 'f': first = v; break;
        case 'x': max_cuts = v; break;
        case 's': seed = v; break;
        case 'b': bad = 1; break;
        case 'B': bad = bad_cuts = 1; break;
        case 'R': report_path = optarg; break;
        case 'M': with_map = 0; break;
        case 'T': w.strict_rollback = 1; break;
        case 'W': worn_state = v; break;
        case 'w': worn_boot = v; break;
        case 'A': w.slot1_aborted = 1; break;
        case 'd': data_spec = optarg; break;
        case 'v': w.verbose = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!manifest_file || !key || !old_path || !new_path || optind != argc || max_cuts == 0 ||
        max_cuts > 7) {
        usage(stderr);
        return 2;
    }
    struct tool_key k;
    if (keys_load_any(key, &k) < 0)
        return 2;
    memcpy(w.pubkey[0], k.pub, sizeof k.pub);
    keys_free(&k);
    if (load_image(old_path, &w.old_img) < 0 || load_image(new_path, &w.new_img) < 0)
        return 2;
    if (report_path && !(report = fopen(report_path, "a"))) {
        perror(report_path);
        return 2;
    }

    sim_layout(&w.layout, w.slot_size);
    if (data_spec) {
        static char label[32];
        const char *eq = strchr(data_spec, '='), *comma = eq ? strchr(eq, ',') : NULL;
        char old_path_d[4096];
        if (!eq || !comma || (size_t)(eq - data_spec) >= sizeof label ||
            (size_t)(comma - eq - 1) >= sizeof old_path_d) {
            fprintf(stderr, "powercut: --data wants LABEL=OLD,NEW\n");
            return 2;
        }
        memcpy(label, data_spec, (size_t)(eq - data_spec));
        label[eq - data_spec] = '\0';
        memcpy(old_path_d, eq + 1, (size_t)(comma - eq - 1));
        old_path_d[comma - eq - 1] = '\0';
        w.data_label = label;
        w.data_old = util_read_file(old_path_d, &w.data_old_len);
        w.data_new = util_read_file(comma + 1, &w.data_new_len);
        if (!w.data_old || !w.data_new ||
            sim_layout_add_data(&w.layout, label,
                                (uint32_t)(w.data_old_len > w.data_new_len ? w.data_old_len
                                                                           : w.data_new_len)) < 0)
            return 2;
        fota_sha256_digest(&fota_crypto_mbedtls, w.data_new, w.data_new_len, w.data_new_sha256);
    }
    w.mem = malloc(w.layout.flash_size);
    w.initial = malloc(w.layout.flash_size);
    if (!w.mem || !w.initial ||
        sim_flash_open_buf(&w.flash, w.mem, w.layout.flash_size, 4096, 4) < 0 ||
        sim_factory_program(&w.flash, &w.layout, w.old_img.data, w.old_img.len) < 0) {
        fprintf(stderr, "powercut: cannot set up a %u-byte flash for %u-byte slots\n",
                (unsigned)w.layout.flash_size, (unsigned)w.slot_size);
        return 2;
    }
    w.flash.iface.block_size = 65536; /* ESP32 (ports/esp32): 64 KiB block erases */
    if (w.data_label)
        sim_flash_load(&w.flash, w.layout.data_addr, w.data_old, (uint32_t)w.data_old_len);
    w.old_sequence = w.new_sequence - 1;
    char worn[160] = "";
    if (w.slot1_aborted) { /* the history lives in the journals */
        if (worn_state == UINT32_MAX)
            worn_state = journal_capacity(w.layout.state_size, FOTA_PERSIST_RECORD_LEN) - 1;
        if (worn_boot == UINT32_MAX)
            worn_boot =
                journal_capacity(w.layout.otadata_size, sizeof(struct sim_bootdata)) - 1;
        APPEND(worn, "; slot 1 holds a release rolled back earlier");
    }
    if (worn_state != UINT32_MAX) {
        uint32_t cap = journal_capacity(w.layout.state_size, FOTA_PERSIST_RECORD_LEN);
        if (worn_state >= cap) {
            fprintf(stderr, "powercut: --worn-state must be below %u\n", (unsigned)cap);
            return 2;
        }
        prefill_state(w.mem, cap - worn_state);
        APPEND(worn, "; agent state journal holds %u of %u records (wraps at this update's "
                     "record %u)",
               (unsigned)(cap - worn_state), (unsigned)cap, (unsigned)worn_state + 1);
    }
    if (worn_boot != UINT32_MAX) {
        uint32_t cap = journal_capacity(w.layout.otadata_size,
                                        sizeof(struct sim_bootdata));
        if (worn_boot >= cap) {
            fprintf(stderr, "powercut: --worn-boot must be below %u\n", (unsigned)cap);
            return 2;
        }
        prefill_boot(w.mem, cap - worn_boot);
        APPEND(worn, "; boot data journal holds %u of %u records (wraps at this update's "
                     "record %u)",
               (unsigned)(cap - worn_boot), (unsigned)cap, (unsigned)worn_boot + 1);
    }
    memcpy(w.initial, w.mem, w.layout.flash_size);
    oplog.write = w.flash.iface.write;
    oplog.erase = w.flash.iface.erase;
    w.flash.iface.write = logged_write;
    w.flash.iface.erase = logged_erase;

    if (serve_release(url, manifest_file, product, no_range) < 0)
        return 2;
    w.opt.manifest_url = w.manifest_path;
    w.opt.product = product;
    w.opt.chip = fota_chip_from_name("esp32", 5);
    w.opt.pubkeys = (const uint8_t(*)[FOTA_P256_PUBKEY_SIZE])w.pubkey;
    w.opt.n_pubkeys = 1;
    w.opt.transports[0] = &w.net.iface;
    w.opt.n_transports = 1;
    w.opt.connect_timeout_ms = w.opt.read_timeout_ms = 5000;
    w.opt.max_attempts = 3;
    w.opt.backoff_base_ms = 10;
    w.opt.backoff_max_ms = 100;
    w.opt.persist_every = w.persist_every;
    w.opt.quiet = !w.verbose;
    w.opt.verbose = w.verbose;
    w.opt.booted = on_booted;
    w.opt.mounted = on_mounted;

    printf("powercut: scenario %s: %s %s (%u bytes) -> %s %s (%u bytes, security counter %u)%s; "
           "%u-byte slots, 4096-byte sectors, progress every %u bytes, %u-byte network "
           "pieces from an in-memory server%s\n",
           w.scenario, w.old_img.version, old_path, (unsigned)w.old_img.len, w.new_img.version,
           new_path, (unsigned)w.new_img.len, (unsigned)w.new_security,
           w.crash ? ", which crashes before confirming" : "", (unsigned)w.slot_size,
           (unsigned)w.persist_every, SEG_BYTES, no_range ? " that ignores Range" : "");
    if (w.data_label)
        printf("powercut: data partition '%s' of %u bytes at 0x%x: %u-byte image at the factory, "
               "%u-byte image in the release\n",
               w.data_label, (unsigned)w.layout.data_size, (unsigned)w.layout.data_addr,
               (unsigned)w.data_old_len, (unsigned)w.data_new_len);
    if (worn[0])
        printf("powercut: a device with a history%s\n", worn);
    if (worn[0] && report)
        fprintf(report, "A device with a history%s.\n\n", worn);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint64_t failures = 0, bricked = 0, unverified = 0, cuts = 0;
    memset(&st, 0, sizeof st);
    uint32_t n = reference_run();
    report_reference(n, with_map);
    if (st.failures) {
        printf("powercut %s: the uncut scenario fails; nothing more is tried\n", w.scenario);
        return 1;
    }
    for (int suite = 0; suite < 3; suite++) {
        if (suite == 0 && exhaustive)
            suite_exhaustive(n, only_cut, only_mode);
        else if (suite == 1 && random_count)
            suite_random(n, random_count, first, max_cuts, seed);
        else if (suite == 2 && bad)
            suite_bad_regions(bad_cuts);
        else
            continue;
        failures += st.failures;
        bricked += st.bricked;
        unverified += st.unverified;
        cuts += st.cuts;
    }
    if (w.data_label)
        printf("powercut %s: the application mounted data partition '%s' %llu times, always "
               "holding a whole image unless a failure says otherwise\n",
               w.scenario, w.data_label, (unsigned long long)w.data_mounts);
    printf("powercut %s: %u cut points x 3 modes%s, %u random sequences, %s; %llu cuts, "
           "%llu bricked, %llu unverified images run, %llu failures in %.1f s\n",
           w.scenario, exhaustive ? (unsigned)n : 0u,
           only_cut || only_mode ? " (only some tried)" : "", (unsigned)random_count,
           bad ? "bad regions" : "no bad regions", (unsigned long long)cuts,
           (unsigned long long)bricked, (unsigned long long)unverified,
           (unsigned long long)failures, seconds_since(&t0));
    if (report)
        fclose(report);
    return failures ? 1 : 0;
}
