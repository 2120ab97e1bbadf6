/* The simulated device: see device.h. */
#define _GNU_SOURCE /* memmem */
#include "device.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fota/esp_image.h"
#include "fota_crypto_backends.h"

#define SIM_SECTOR 4096u
/* The agent's buffers by default: the ports' defaults (Kconfig, Fota.h) with
 * a larger receive buffer. */
#define SIM_DEFAULT_RX 4096u
#define SIM_DEFAULT_LINE 2816u
#define SIM_DEFAULT_URL 2080u
#define SIM_DEFAULT_MANIFEST 2080u
#define SIM_WRITE_UNIT 4u /* ESP32 SPI flash programs in 4-byte units through esp_partition */

static void say(const struct sim_device *d, const char *fmt, ...)
{
    if (d->opt->quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fflush(stdout);
}

const char *sim_outcome_name(int outcome)
{
    static const char *names[] = {"up-to-date", "updated", "update-available",
                                  "failed",     "bricked", "rolled-back"};
    return outcome >= 0 && outcome <= SIM_ROLLED_BACK ? names[outcome] : "?";
}

void sim_layout(struct sim_layout *l, uint32_t slot_size)
{
    sim_layout_default(l, slot_size, SIM_SECTOR);
}

int sim_factory_program(struct sim_flash *flash, const struct sim_layout *l,
                        const uint8_t *image, uint32_t len)
{
    if (len > l->slot_size || flash->size < l->flash_size)
        return -1;
    memset(flash->mem, 0xFF, flash->size);
    sim_flash_load(flash, l->slot_addr[0], image, len);
    return 0;
}

/* ---- Platform callbacks ---- */

static void on_log(void *ctx, int level, const char *msg)
{
    const struct sim_device *d = ctx;
    static const char *tag[] = {"error", "warn", "info", "debug"};
    if (level == FOTA_LOG_DEBUG && !d->opt->verbose)
        return;
    /* Warnings and errors of a check (retries, transport fallback, the final
     * failure) are about the agent's last error: name its code, so a log
     * says which error each retry was for. */
    int err = fota_last_error(&d->agent);
    if (level <= FOTA_LOG_WARN && err < 0)
        say(d, "  fota %s: %s [%s]\n", tag[level & 3], msg, fota_strerror(err));
    else
        say(d, "  fota %s: %s\n", tag[level & 3], msg);
}

static void on_progress(void *ctx, uint32_t done, uint32_t total)
{
    const struct sim_device *d = ctx;
    static uint32_t last_quarter;
    if (!d->opt->progress || total == 0)
        return;
    uint32_t q = (uint32_t)((uint64_t)done * 4 / total);
    if (done < total / 4)
        last_quarter = 0;
    if (q > last_quarter) {
        last_quarter = q;
        say(d, "  progress: %u of %u bytes (%u%%)\n", (unsigned)done, (unsigned)total,
            (unsigned)(q * 25));
    }
}

/* The application's data partition: mounted only when the agent says it
 * holds a whole image (docs/data-partitions.md). */
static void mount_data(struct sim_device *d)
{
    uint8_t sha[32];
    char hex[17];
    if (d->layout.data_size == 0 || d->data_mounted ||
        !fota_data_ready(&d->agent, d->layout.data_label))
        return;
    d->data_mounted = 1;
    fota_sha256_digest(&FOTA_CRYPTO_HOST, d->flash->mem + d->layout.data_addr,
                       d->layout.data_size, sha);
    for (int i = 0; i < 8; i++)
        snprintf(hex + 2 * i, 3, "%02x", sha[i]);
    say(d, "  app: mounted data partition '%s' (%u bytes at 0x%x, sha256 of the partition %s...)\n",
        d->layout.data_label, (unsigned)d->layout.data_size, (unsigned)d->layout.data_addr, hex);
    if (d->opt->mounted)
        d->opt->mounted(d->opt->booted_ctx, d);
}

static void on_event(void *ctx, int event, const struct fota *f)
{
    struct sim_device *d = ctx;
    const char *label = fota_data_label(f);
    if (d->opt->verbose)
        say(d, "  event: %s\n", fota_event_name(event));
    if (event == FOTA_EV_DATA_WRITING && d->data_mounted) {
        d->data_mounted = 0;
        say(d, "  app: unmounted data partition '%s' for the update\n", label ? label : "?");
    } else if (event == FOTA_EV_DATA_READY) {
        mount_data(d);
    }
}

static int on_pre_update(void *ctx)
{
    const struct sim_device *d = ctx;
    say(d, "  app: pre-update hook: interrupts detached, peripherals stopped\n");
    return 0;
}

/* A backoff: simulated time passes too. */
static void device_delay(void *ctx, uint32_t ms)
{
    struct sim_device *d = ctx;
    d->clock.us += (uint64_t)ms * 1000u;
    fota_posix_delay_ms(NULL, ms);
}

static int device_utc(void *ctx, int64_t *t)
{
    const struct sim_device *d = ctx;
    if (d->opt->no_clock)
        return -1; /* the agent then cannot judge expiry */
    if (d->opt->utc_now)
        *t = d->opt->utc_now;
    else
        fota_posix_utc_now(NULL, t);
    return 0;
}

void sim_device_init(struct sim_device *d, const struct sim_options *opt,
                     struct sim_flash *flash, const struct sim_layout *l)
{
    memset(d, 0, sizeof *d);
    d->opt = opt;
    d->flash = flash;
    d->layout = *l;
    d->slot = -1;
    if (opt->flash_timing) {
        flash->timing = opt->flash_timing;
        flash->clock = &d->clock;
    }
}

/* "KEY<text>" NUL-terminated within img[0..len): the text, or NULL. */
static const char *find_tag(const uint8_t *img, size_t len, const char *key, size_t *text_len)
{
    const uint8_t *p = memmem(img, len, key, strlen(key));
    if (!p)
        return NULL;
    p += strlen(key);
    const uint8_t *end = memchr(p, 0, len - (size_t)(p - img));
    *text_len = end ? (size_t)(end - p) : 0;
    return end ? (const char *)p : NULL;
}

/* What the bootloader started: read the running image's app descriptor, or
 * for an Arduino ESP8266 sketch (no descriptor) the version the sketch was
 * built with, which `fota mkimage --chip esp8266` stores as
 * "fota-app-version:V" (a real sketch compiles its version in; without the
 * tag the version is unknown, code 0, and the running image's SHA-256 still
 * tells the agent what it runs). */
static int read_running(struct sim_device *d)
{
    const uint8_t *img = d->flash->mem + d->layout.slot_addr[d->slot];
    struct fota_esp_header h;
    struct fota_esp8266_bin bin;
    if (fota_esp8266_bin_check(img, d->layout.slot_size, &bin) == 0) {
        const char *v, *p;
        size_t vlen = 0, plen = 0;
        v = find_tag(img, bin.file_len, "fota-app-version:", &vlen);
        p = find_tag(img, bin.file_len, "fota-app-project:", &plen);
        snprintf(d->version, sizeof d->version, "%.*s", v ? (int)vlen : 7, v ? v : "unknown");
        snprintf(d->project, sizeof d->project, "%.*s", p ? (int)plen : 14,
                 p ? p : "arduino-sketch");
        if (!v || fota_version_code(d->version, strlen(d->version), &d->version_code) < 0)
            d->version_code = 0;
        d->has_image_sha256 =
            fota_sha256_digest(&FOTA_CRYPTO_HOST, img, bin.file_len, d->image_sha256) == 0;
        return 0;
    }
    struct fota_esp_verify v;
    if (fota_esp_header_parse(img, d->layout.slot_size, &h) < 0 || !h.has_app_desc ||
        fota_esp_image_verify(img, d->layout.slot_size, NULL, &v) < 0)
        return -1;
    snprintf(d->version, sizeof d->version, "%s", h.version);
    snprintf(d->project, sizeof d->project, "%s", h.project);
    /* the code `fota release` gives it: the version when it is a number,
     * else the build time of the descriptor (examples/esp-idf does the same) */
    if (fota_app_version_code(d->version, h.date, h.time, &d->version_code) < 0)
        d->version_code = 0;
    /* The image's SHA-256 as released (what a manifest signs), for the
     * check-in and the agent: the bytes the image format covers. */
    d->has_image_sha256 = 0;
    if (fota_esp_image_verify(img, d->layout.slot_size, &FOTA_CRYPTO_HOST, &v) == 0 &&
        fota_sha256_digest(&FOTA_CRYPTO_HOST, img, v.image_len, d->image_sha256) == 0)
        d->has_image_sha256 = 1;
    return 0;
}

/* The size given, else the default, never more than the array holds. */
static size_t buf_size(uint32_t given, size_t dflt, size_t max)
{
    size_t n = given ? given : dflt;
    return n < max ? n : max;
}

static int image_crashes(const struct sim_device *d)
{
    const uint8_t *img = d->flash->mem + d->layout.slot_addr[d->slot];
    return memmem(img, d->layout.slot_size, SIM_CRASH_MARKER, strlen(SIM_CRASH_MARKER)) != NULL;
}

static void setup_agent_config(struct sim_device *d)
{
    struct fota_config *c = &d->cfg;
    const struct sim_options *o = d->opt;
    memset(c, 0, sizeof *c);
    c->product = o->product;
    c->chip = o->chip;
    c->version_code = d->version_code;
    c->version = d->version;
    c->manifest_url = o->manifest_url;
    c->mac = o->mac;
    c->device_id = o->device_id;
    c->image_sha256 = d->has_image_sha256 && !o->no_image_sha256 ? d->image_sha256 : NULL;
    c->user_agent = "fota-sim/" FOTA_VERSION_STRING;
    c->pubkeys = o->pubkeys;
    c->n_pubkeys = o->n_pubkeys;
    c->flash = &d->flash->iface;
    c->boot = &d->boot.iface;
    if (o->n_transports) {
        for (size_t i = 0; i < o->n_transports; i++)
            c->transports[i] = o->transports[i];
        c->n_transports = o->n_transports;
    } else {
        fota_posix_net_init(&d->net, "tcp");
        c->transports[0] = &d->net.iface;
        c->n_transports = 1;
    }
    for (size_t i = 0; o->link && i < c->n_transports; i++) {
        sim_link_init(&d->links[i], c->transports[i], o->link, &d->clock);
        c->transports[i] = &d->links[i].iface;
    }
    c->crypto = &FOTA_CRYPTO_HOST;
    c->state_addr = d->layout.state_addr;
    c->state_size = d->layout.state_size;
    c->security_floor_min = o->floor_min;
    c->allow_insecure_redirect = o->allow_insecure_redirect ? 1 : 0;
    c->ctx = d;
    c->now_ms = fota_posix_now_ms;
    c->utc_now = device_utc;
    c->delay_ms = o->flash_timing || o->link ? device_delay : fota_posix_delay_ms;
    c->random = fota_posix_random;
    c->log = on_log;
    c->progress = on_progress;
    c->event = on_event;
    c->pre_update = on_pre_update;
    c->connect_timeout_ms = o->connect_timeout_ms;
    c->read_timeout_ms = o->read_timeout_ms;
    c->total_timeout_ms = o->total_timeout_ms;
    c->min_bytes_per_s = o->min_bytes_per_s;
    c->max_attempts = o->max_attempts;
    c->backoff_base_ms = o->backoff_base_ms;
    c->backoff_max_ms = o->backoff_max_ms;
    c->persist_every = o->persist_every;
    c->check_only = (uint8_t)o->check_only;
}

static int failed(struct sim_device *d, int err, const char *msg)
{
    d->error = err;
    snprintf(d->message, sizeof d->message, "%s", msg);
    say(d, "  error: %s: %s\n", fota_strerror(err), msg);
    return SIM_FAILED;
}

int sim_device_boot_once(struct sim_device *d)
{
    static const char *state_names[] = {"new", "pending-verify", "valid", "aborted",
                                        "undefined"};
    d->boots++;
    d->error = 0;
    d->message[0] = '\0';
    if (sim_boot_init(&d->boot, d->flash, &d->layout, &FOTA_CRYPTO_HOST) < 0)
        return failed(d, FOTA_ERR_BOOT, "boot data region is misconfigured");
    if (sim_bootloader(&d->boot) != SIM_BOOTED) {
        d->slot = -1;
        if (d->opt->booted)
            d->opt->booted(d->opt->booted_ctx, d);
        say(d, "boot #%u: %s\n", (unsigned)d->boots, d->boot.message);
        d->error = FOTA_ERR_BOOT;
        snprintf(d->message, sizeof d->message, "%s", d->boot.message);
        return SIM_BRICKED;
    }
    d->slot = d->boot.running;
    if (d->opt->booted)
        d->opt->booted(d->opt->booted_ctx, d);
    if (read_running(d) < 0) {
        /* the bootloader only boots images that validate, so this is a bug */
        say(d, "boot #%u: slot %d has no app descriptor\n", (unsigned)d->boots, d->slot);
        return SIM_BRICKED;
    }
    if (!d->first_version[0])
        snprintf(d->first_version, sizeof d->first_version, "%s", d->version);
    say(d, "boot #%u: %s: %s %s (version code %u)\n", (unsigned)d->boots, d->boot.message,
        d->project, d->version, (unsigned)d->version_code);

    if (image_crashes(d) ||
        (d->opt->crash_new_images && strcmp(d->version, d->first_version) != 0)) {
        say(d, "  app: %s crashed before confirming itself (simulated bad release); reset\n",
            d->version);
        return SIM_ROLLED_BACK;
    }

    setup_agent_config(d);
    const struct sim_options *o = d->opt;
    struct fota_buffers bufs = {
        d->rx,       buf_size(o->rx_size, SIM_DEFAULT_RX, sizeof d->rx),
        d->line,     buf_size(o->line_size, SIM_DEFAULT_LINE, sizeof d->line),
        d->url,      buf_size(o->url_size, SIM_DEFAULT_URL, sizeof d->url),
        d->manifest, buf_size(o->manifest_size, SIM_DEFAULT_MANIFEST, sizeof d->manifest),
        o->no_delta ? NULL : &d->delta,
        o->no_delta ? NULL : d->delta_out,
        sizeof d->delta_out,
    };
    int r = fota_init(&d->agent, &d->cfg, &bufs);
    if (r < 0)
        return failed(d, r, fota_last_message(&d->agent)[0] ? fota_last_message(&d->agent)
                                                        : "agent configuration rejected");
    d->data_mounted = 0;
    if (d->layout.data_size && !fota_data_ready(&d->agent, d->layout.data_label)) {
        /* a power cut interrupted the copy of a new data image: finish it
         * from the staged image before mounting anything */
        say(d, "  app: data partition '%s' is being written: finishing the copy\n",
            d->layout.data_label);
        if ((r = fota_data_finish(&d->agent)) < 0)
            return failed(d, r, fota_last_message(&d->agent));
    }
    mount_data(d);
    int st = fota_running_state(&d->agent);
    if (st != FOTA_IMG_VALID) {
        if ((r = fota_confirm(&d->agent)) < 0)
            return failed(d, r, fota_last_message(&d->agent));
        say(d, "  app: healthy; %s confirmed (was %s), anti-rollback floor %u\n", d->version,
            st >= 0 && st < 5 ? state_names[st] : "?",
            (unsigned)fota_persist_state(&d->agent)->security_floor);
    }
    return sim_device_check(d);
}

int sim_device_check(struct sim_device *d)
{
    say(d, "  check: %s\n", d->opt->manifest_url);
    const struct sim_flash *fl = d->flash;
    uint64_t t0 = d->clock.us, f0 = fl->erase_us + fl->program_us + fl->read_us, w0 = 0;
    for (size_t i = 0; i < FOTA_MAX_TRANSPORTS; i++)
        w0 += d->links[i].wait_us;
    int r = fota_run(&d->agent);
    if (r == FOTA_UPDATE_READY) {
        d->update_us = d->clock.us - t0;
        d->update_flash_us = fl->erase_us + fl->program_us + fl->read_us - f0;
        d->update_wait_us = 0;
        for (size_t i = 0; i < FOTA_MAX_TRANSPORTS; i++)
            d->update_wait_us += d->links[i].wait_us;
        d->update_wait_us -= w0;
        d->update_bytes = fota_last_manifest(&d->agent)->size;
    }
    d->transport_used = fota_transport_used(&d->agent);
    const struct fota_manifest *m = fota_last_manifest(&d->agent);
    switch (r) {
    case FOTA_NO_UPDATE:
        say(d, "  check: up to date (%s)\n", d->version);
        return SIM_UP_TO_DATE;
    case FOTA_UPDATE_AVAILABLE:
        say(d, "  check: %s (code %u) is available, running %s\n", m->version,
            (unsigned)m->version_code, d->version);
        return SIM_AVAILABLE;
    case FOTA_UPDATE_READY:
        say(d, "  update: %s verified and activated in slot %d via %s; rebooting\n", m->version,
            1 - d->slot, d->transport_used ? d->transport_used : "?");
        return SIM_UPDATED;
    default:
        return failed(d, r, fota_last_message(&d->agent));
    }
}

int sim_device_run(struct sim_device *d, uint32_t max_boots)
{
    int rolled_back = 0, updated = 0;
    for (uint32_t i = 0; i < max_boots; i++) {
        int r = sim_device_boot_once(d);
        if (r == SIM_UPDATED) {
            updated = 1;
            continue; /* power-cycle into the new image */
        }
        if (r == SIM_ROLLED_BACK) {
            rolled_back = 1;
            continue;
        }
        if (r == SIM_BRICKED || r == SIM_AVAILABLE)
            return r;
        if (rolled_back)
            return SIM_ROLLED_BACK;
        if (r == SIM_FAILED)
            return r;
        return updated && strcmp(d->first_version, d->version) != 0 ? SIM_UPDATED
                                                                      : SIM_UP_TO_DATE;
    }
    return rolled_back ? SIM_ROLLED_BACK : SIM_FAILED;
}
