/*
 * fota fleet sim: many simulated devices in one process, each the real agent
 * (its memory is caller-owned: one struct sim_device per device) with its
 * own flash in RAM, checking in with its own id. Failure injection:
 *
 *   --rollback PCT     of the devices that boot a new image, exactly PCT%
 *                      crash before confirming it (the bootloader rolls back)
 *   --fail-verify PCT  PCT% of the devices have a flash whose update slot
 *                      silently drops writes: the read-back check fails
 *
 * The first round powers every device on (it settles: check, update, reboot,
 * confirm, check again); each later round is one periodic check of the
 * running application, rebooting only into a new image; all in --jobs
 * threads. Each round prints what happened, which is what the server
 * decided: offered (updated / rolled back / failed) or nothing (up to date).
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "fleet.h"
#include "fleet_cli.h"
#include "keys.h"
#include "util.h"

#define MAX_VERSIONS 16

struct sim_fleet;

struct fleet_dev {
    struct sim_fleet *fleet;
    struct sim_options opt;
    struct sim_flash flash;
    struct sim_device dev;
    char id[40];
    int home;          /* slot of the confirmed image, -1 before the first boot */
    int outcome;       /* of the last round */
    int running;       /* powered on: the next round is a periodic check */
};

struct sim_fleet {
    struct fleet_dev *devs;
    uint32_t n;
    uint32_t next;                /* next device to run in this round */
    uint32_t new_boots;           /* boots into new images so far (rollback tickets) */
    uint32_t rollback_pct;
    uint32_t max_boots;
    pthread_mutex_t lock;
};

/* Exactly pct% of the tickets 0, 1, 2, ... are chosen, spread evenly. */
static int chosen(uint32_t ticket, uint32_t pct)
{
    return (uint64_t)(ticket + 1) * pct / 100 > (uint64_t)ticket * pct / 100;
}

static void on_boot(void *ctx, const struct sim_device *d)
{
    struct fleet_dev *fd = ctx;
    if (d->slot < 0)
        return;
    if (fd->home < 0 || d->slot == fd->home) {
        fd->home = d->slot;
        return;
    }
    /* Booting an image it never ran: does it crash? */
    pthread_mutex_lock(&fd->fleet->lock);
    int crash = chosen(fd->fleet->new_boots++, fd->fleet->rollback_pct);
    pthread_mutex_unlock(&fd->fleet->lock);
    fd->opt.crash_new_images = crash;
    if (!crash)
        fd->home = d->slot;
}

static void *worker(void *arg)
{
    struct sim_fleet *f = arg;
    for (;;) {
        pthread_mutex_lock(&f->lock);
        uint32_t i = f->next++;
        pthread_mutex_unlock(&f->lock);
        if (i >= f->n)
            return NULL;
        struct fleet_dev *fd = &f->devs[i];
        /* The first round powers the device on; later rounds are the running
         * application's periodic checks (the agent keeps the outcome of the
         * last one for the check-in), with a reboot only into a new image. */
        if (!fd->running) {
            fd->outcome = sim_device_run(&fd->dev, f->max_boots);
        } else if ((fd->outcome = sim_device_check(&fd->dev)) == SIM_UPDATED) {
            char before[sizeof fd->dev.version];
            memcpy(before, fd->dev.version, sizeof before);
            fd->outcome = sim_device_run(&fd->dev, f->max_boots); /* into the new image */
            if (fd->outcome == SIM_UP_TO_DATE && strcmp(before, fd->dev.version) != 0)
                fd->outcome = SIM_UPDATED;
        }
        fd->running = fd->outcome != SIM_BRICKED && fd->dev.slot >= 0;
    }
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: fota fleet sim --url MANIFEST_URL --key KEY.pub --product ID --factory IMAGE\n"
            "                      [--devices N] [--rounds N] [--jobs N] [--id-prefix P]\n"
            "                      [--rollback PCT] [--fail-verify PCT] [--chip C] [--slot-size B]\n"
            "                      [--state DIR]\n"
            "Runs N simulated devices (default 100) with ids P0000, P0001, ... (default\n"
            "prefix \"dev-\"), each the real agent with its own flash in RAM, programmed\n"
            "with IMAGE. Round 1 powers each device on; later rounds are periodic checks\n"
            "(a reboot only into a new image). Every round prints:\n"
            "  round R: N devices: U updated, B rolled back, F failed, D up to date; running V=n ...\n"
            "--rollback PCT: exactly PCT%% of the boots into a new image crash before\n"
            "confirming; --fail-verify PCT: PCT%% of the devices (every 100/PCT-th) have an\n"
            "update slot that drops writes, so their read-back verification fails.\n"
            "--state DIR: each device's flash is the file DIR/ID.flash and survives the run\n"
            "(programmed with IMAGE when new); without it flash is RAM and every run starts\n"
            "from the factory image.\n");
}

int fleet_sim_main(int argc, char **argv)
{
    const char *url = NULL, *key = NULL, *product = NULL, *factory = NULL, *prefix = "dev-";
    const char *chip = "esp32", *state = NULL;
    uint32_t n = 100, rounds = 1, jobs = 4, rollback = 0, fail_verify = 0, slot_size = 65536;
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint32_t *num = NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        if (!v) {
            fprintf(stderr, "fota fleet sim: %s needs a value\n", a);
            return 2;
        }
        if (!strcmp(a, "--url")) url = v;
        else if (!strcmp(a, "--key")) key = v;
        else if (!strcmp(a, "--product")) product = v;
        else if (!strcmp(a, "--factory")) factory = v;
        else if (!strcmp(a, "--id-prefix")) prefix = v;
        else if (!strcmp(a, "--chip")) chip = v;
        else if (!strcmp(a, "--state")) state = v;
        else if (!strcmp(a, "--devices")) num = &n;
        else if (!strcmp(a, "--rounds")) num = &rounds;
        else if (!strcmp(a, "--jobs")) num = &jobs;
        else if (!strcmp(a, "--rollback")) num = &rollback;
        else if (!strcmp(a, "--fail-verify")) num = &fail_verify;
        else if (!strcmp(a, "--slot-size")) num = &slot_size;
        else {
            fprintf(stderr, "fota fleet sim: unknown option %s\n", a);
            usage(stderr);
            return 2;
        }
        if (num && util_parse_u32(v, num) < 0) {
            fprintf(stderr, "fota fleet sim: %s '%s' is not a whole number\n", a, v);
            return 2;
        }
    }
    if (!url || !key || !product || !factory || n == 0 || n > 100000 || jobs == 0 || jobs > 64 ||
        rollback > 100 || fail_verify > 100 || strlen(prefix) > 30 || !fleet_valid_id(prefix)) {
        fprintf(stderr, "fota fleet sim: --url, --key, --product and --factory are required; "
                        "--devices 1..100000, --jobs 1..64, shares 0..100\n");
        return 2;
    }
    int chip_id = fota_chip_from_name(chip, strlen(chip));
    if (chip_id < 0) {
        fprintf(stderr, "fota fleet sim: unknown chip '%s'\n", chip);
        return 2;
    }
    static uint8_t pub[1][FOTA_P256_PUBKEY_SIZE];
    struct tool_key k;
    if (keys_load_any(key, &k) < 0)
        return 2;
    memcpy(pub[0], k.pub, sizeof k.pub);
    keys_free(&k);
    size_t img_len;
    uint8_t *img = util_read_file(factory, &img_len);
    if (!img)
        return 2;
    struct sim_layout layout;
    sim_layout(&layout, slot_size);
    if (img_len > layout.slot_size) {
        fprintf(stderr, "fota fleet sim: %s does not fit a %u-byte slot\n", factory,
                (unsigned)layout.slot_size);
        free(img);
        return 2;
    }

    struct sim_fleet f;
    memset(&f, 0, sizeof f);
    pthread_mutex_init(&f.lock, NULL);
    f.n = n;
    f.rollback_pct = rollback;
    f.max_boots = 6;
    f.devs = calloc(n, sizeof *f.devs);
    uint8_t *flash_mem = f.devs && !state ? malloc((size_t)n * layout.flash_size) : NULL;
    if (!f.devs || (!state && !flash_mem)) {
        fprintf(stderr, "fota fleet sim: out of memory for %u devices\n", (unsigned)n);
        free(f.devs);
        free(img);
        return 1;
    }
    if (state) {
        /* one mapped file (and descriptor) per device */
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
            rl.rlim_cur = rl.rlim_max;
            setrlimit(RLIMIT_NOFILE, &rl);
        }
        if (util_mkdirs(state) < 0) {
            free(f.devs);
            free(img);
            return 2;
        }
    }
    uint32_t bad_devices = 0;
    for (uint32_t i = 0; i < n; i++) {
        struct fleet_dev *d = &f.devs[i];
        d->fleet = &f;
        d->home = -1;
        snprintf(d->id, sizeof d->id, "%s%04u", prefix, (unsigned)i);
        d->opt.manifest_url = url;
        d->opt.device_id = d->id;
        d->opt.product = product;
        d->opt.chip = chip_id;
        d->opt.pubkeys = (const uint8_t(*)[FOTA_P256_PUBKEY_SIZE])pub;
        d->opt.n_pubkeys = 1;
        d->opt.max_attempts = 3;
        d->opt.backoff_base_ms = 100;
        d->opt.connect_timeout_ms = d->opt.read_timeout_ms = 10000;
        d->opt.quiet = 1;
        d->opt.booted = on_boot;
        d->opt.booted_ctx = d;
        char path[4096];
        int fresh = 1, r;
        if (state) {
            snprintf(path, sizeof path, "%s/%s.flash", state, d->id);
            fresh = access(path, F_OK) != 0;
            r = sim_flash_open(&d->flash, path, layout.flash_size, 4096, 4);
        } else {
            r = sim_flash_open_buf(&d->flash, flash_mem + (size_t)i * layout.flash_size,
                                          layout.flash_size, 4096, 4);
        }
        if (r < 0 || (fresh && sim_factory_program(&d->flash, &layout, img, (uint32_t)img_len) < 0)) {
            fprintf(stderr, "fota fleet sim: device %s: flash setup failed: %s\n", d->id,
                    d->flash.error);
            free(flash_mem);
            free(f.devs);
            free(img);
            return 1;
        }
        if (chosen(i, fail_verify)) {
            d->flash.bad_addr = layout.slot_addr[1];
            d->flash.bad_len = layout.slot_size;
            d->flash.bad_mode = FOTA_BAD_SILENT;
            bad_devices++;
        }
        sim_device_init(&d->dev, &d->opt, &d->flash, &layout);
    }
    free(img);
    printf("fleet sim: %u devices %s0000..%s%04u, %u with a failing update slot, %u%% of new "
           "images crash\n",
           (unsigned)n, prefix, prefix, (unsigned)(n - 1), (unsigned)bad_devices,
           (unsigned)rollback);
    fflush(stdout);

    int status = 0;
    for (uint32_t round = 1; round <= rounds; round++) {
        f.next = 0;
        pthread_t th[64];
        uint32_t started = 0;
        for (; started < jobs && started < n; started++)
            if (pthread_create(&th[started], NULL, worker, &f) != 0)
                break;
        if (started == 0)
            worker(&f);
        for (uint32_t t = 0; t < started; t++)
            pthread_join(th[t], NULL);
        uint32_t count[SIM_ROLLED_BACK + 1] = {0};
        char versions[MAX_VERSIONS][33];
        uint32_t vcount[MAX_VERSIONS] = {0}, nv = 0;
        const struct sim_device *last_failed = NULL;
        for (uint32_t i = 0; i < n; i++) {
            struct fleet_dev *d = &f.devs[i];
            if (d->outcome >= 0 && d->outcome <= SIM_ROLLED_BACK)
                count[d->outcome]++;
            if (d->outcome == SIM_FAILED || d->outcome == SIM_BRICKED)
                last_failed = &d->dev;
            uint32_t v = 0;
            while (v < nv && strcmp(versions[v], d->dev.version) != 0)
                v++;
            if (v == nv && nv < MAX_VERSIONS)
                snprintf(versions[nv++], sizeof versions[0], "%s", d->dev.version);
            if (v < nv)
                vcount[v]++;
        }
        printf("round %u: %u devices: %u updated, %u rolled back, %u failed, %u up to date",
               (unsigned)round, (unsigned)n, (unsigned)count[SIM_UPDATED],
               (unsigned)count[SIM_ROLLED_BACK], (unsigned)(count[SIM_FAILED] + count[SIM_BRICKED]),
               (unsigned)count[SIM_UP_TO_DATE]);
        printf("; running");
        for (uint32_t v = 0; v < nv; v++)
            printf(" %s=%u", versions[v], (unsigned)vcount[v]);
        printf("\n");
        if (last_failed)
            printf("  a failure: %s: %s\n", fota_strerror(last_failed->error),
                   last_failed->message);
        fflush(stdout);
        if (count[SIM_BRICKED])
            status = 1;
    }
    for (uint32_t i = 0; state && i < n; i++)
        sim_flash_close(&f.devs[i].flash);
    free(flash_mem);
    free(f.devs);
    return status;
}
