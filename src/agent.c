/*
 * The fota agent: check, download, verify, activate, confirm.
 *
 * Reads top to bottom as the update does:
 *   1. init: load persistent state, read the boot state, settle a pending
 *      confirm or a rollback that happened while we were down;
 *   2. check: GET the manifest (If-None-Match), verify its signature and
 *      every policy (product, chip, replay, anti-rollback, version, size);
 *   3. download: GET the image (Range to resume), check the ESP header on the
 *      first bytes before touching flash, erase ahead of the writes, hash as
 *      it goes, save progress every persist_every bytes;
 *   4. verify: size and SHA-256 against the signed manifest, then read the
 *      slot back and hash it again;
 *   5. activate: record the pending version, select the slot for one boot.
 * Every call of fota_step() does one bounded piece: one connect, one send,
 * one read, a few sector erases, or one chunk of read-back.
 */
#include "fota/fota.h"

#include <string.h>

#include "fota/esp_image.h"
#include "msg.h"


#define SLOW_WINDOW_MS 10000u

enum phase {
    PH_IDLE = 0,
    PH_WAIT,     /* backoff before the next attempt */
    PH_CONNECT,  /* open (or reuse) a connection to the current URL */
    PH_SEND,     /* send the request */
    PH_RECV,     /* read and parse the response */
    PH_REHASH,   /* resume after reboot: hash what the slot already holds */
    PH_READBACK, /* read the finished slot back and hash it */
    PH_ACTIVATE, /* record and select the new slot */
    PH_DONE,
};

static uint32_t now(const struct fota *f)
{
    return f->cfg->now_ms(f->cfg->ctx);
}

static void log_msg(struct fota *f, int level, const char *fmt, ...)
{
    char line[FOTA_MSG_MAX];
    va_list ap;
    if (!f->cfg->log)
        return;
    va_start(ap, fmt);
    fota_vmsgf(line, sizeof line, fmt, ap);
    va_end(ap);
    f->cfg->log(f->cfg->ctx, level, line);
}

/* Record a failure: its code and the message naming step and cause. */
static int fail(struct fota *f, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fota_vmsgf(f->msg, sizeof f->msg, fmt, ap);
    va_end(ap);
    f->last_err = err;
    return err;
}

const char *fota_event_name(int event)
{
    static const char *names[] = {"checking",  "no-update", "update-available", "downloading",
                                  "retrying",  "verified",  "activated",        "confirmed",
                                  "rolled-back", "failed"};
    return event >= 0 && event <= FOTA_EV_FAILED ? names[event] : "unknown";
}

static void emit(struct fota *f, int event)
{
    if (f->cfg->event)
        f->cfg->event(f->cfg->ctx, event, f);
}

static const char *what(const struct fota *f)
{
    return f->fetching_image ? "image" : "manifest";
}

static uint32_t cfg_or(uint32_t v, uint32_t dflt)
{
    return v ? v : dflt;
}

static int finish_image(struct fota *f);

/* ---- Persistent state ---------------------------------------------------- */

static int persist_save(struct fota *f)
{
    if (f->cfg->state_size == 0)
        return 0;
    int r = fota_record_save(&f->store, &f->persist);
    if (r < 0)
        return fail(f, r, "saving agent state at flash 0x%x failed (%s)",
                    (unsigned)(f->cfg->state_addr + f->store.next), fota_strerror(r));
    return 0;
}

static void clear_pending(struct fota_persist *p)
{
    p->pending_version = 0;
    p->pending_security = 0;
    p->pending_slot = -1;
    p->pending_prev_state = -1;
}

/* The activated image confirmed itself: the floor rises to its counter. */
static void settle_confirmed(struct fota_persist *p)
{
    if (p->pending_security > p->security_floor)
        p->security_floor = p->pending_security;
    clear_pending(p);
}

static void clear_download(struct fota_persist *p)
{
    memset(p->dl_sha256, 0, sizeof p->dl_sha256);
    p->dl_size = 0;
    p->dl_offset = 0;
    p->dl_slot = -1;
}

/* ---- Init, confirm, rollback -------------------------------------------- */

static int check_config(const struct fota_config *c, const struct fota_buffers *b)
{
    if (!c || !b || !c->product || !c->manifest_url || !c->flash || !c->boot || !c->crypto ||
        !c->now_ms || c->n_transports == 0 || c->n_transports > FOTA_MAX_TRANSPORTS ||
        !c->pubkeys || c->n_pubkeys == 0 || c->n_pubkeys > FOTA_MAX_KEYS)
        return FOTA_ERR_INVALID_ARG;
    for (size_t i = 0; i < c->n_transports; i++)
        if (!c->transports[i])
            return FOTA_ERR_INVALID_ARG;
    if (!b->rx || b->rx_size < 512 || !b->line || b->line_size < 256 || !b->url ||
        b->url_size < 128 || !b->manifest || b->manifest_size < 512)
        return FOTA_ERR_BUFFER_TOO_SMALL;
    if (c->flash->write_size == 0 || c->flash->write_size > FOTA_WRITE_SIZE_MAX ||
        c->flash->sector_size == 0 || c->flash->sector_size % c->flash->write_size)
        return FOTA_ERR_INVALID_ARG;
    return 0;
}

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
    const struct fota_persist *p = &f->persist;
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

int fota_init(struct fota *f, const struct fota_config *cfg, const struct fota_buffers *buf)
{
    if (!f)
        return FOTA_ERR_INVALID_ARG;
    memset(f, 0, sizeof *f);
    f->cfg = cfg;
    int r = check_config(cfg, buf);
    if (r < 0) {
        f->cfg = NULL;
        return r;
    }
    f->buf = *buf;
    f->rng = cfg->random ? cfg->random(cfg->ctx) : now(f) | 1u;

    r = cfg->boot->running(cfg->boot->ctx, &f->running_slot, &f->running_state);
    if (r < 0)
        return fail(f, FOTA_ERR_BOOT, "reading the boot state failed (%s)", fota_strerror(r));

    clear_download(&f->persist);
    clear_pending(&f->persist);
    f->persist.version = FOTA_PERSIST_LAYOUT;
    if (cfg->state_size) {
        r = fota_record_init(&f->store, cfg->flash, cfg->state_addr, cfg->state_size,
                             sizeof f->persist);
        if (r < 0)
            return fail(f, r, "agent state region 0x%x+%u is not two whole sectors",
                        (unsigned)cfg->state_addr, (unsigned)cfg->state_size);
        struct fota_persist loaded;
        r = fota_record_load(&f->store, &loaded);
        if (r == FOTA_ERR_FLASH_READ)
            return fail(f, r, "reading agent state at flash 0x%x failed",
                        (unsigned)cfg->state_addr);
        if (r == 0 && loaded.version == FOTA_PERSIST_LAYOUT)
            f->persist = loaded;
        else
            log_msg(f, FOTA_LOG_INFO, "no saved agent state: starting fresh");
    }

    /* Settle what happened to the image activated last time. */
    struct fota_persist *p = &f->persist;
    int rolled_back = 0;
    if (p->pending_version != 0) {
        int dirty = 0;
        if (p->pending_slot == f->running_slot) {
            if (p->dl_size != 0) {
                clear_download(p); /* it booted: the download is done with */
                dirty = 1;
            }
            if (f->running_state == FOTA_IMG_VALID) {
                settle_confirmed(p); /* confirmed, but reset before the floor rose */
                dirty = 1;
            }
        } else if (pending_was_rolled_back(f)) {
            log_msg(f, FOTA_LOG_WARN, "version code %u was rolled back; it will not be retried",
                    (unsigned)p->pending_version);
            p->rejected_version = p->pending_version;
            clear_pending(p);
            clear_download(p);
            dirty = 1;
            rolled_back = 1;
        }
        if (dirty && (r = persist_save(f)) < 0)
            return r;
    }
    if (rolled_back)
        emit(f, FOTA_EV_ROLLED_BACK);
    return 0;
}

int fota_confirm(struct fota *f)
{
    if (!f || !f->cfg)
        return FOTA_ERR_INVALID_ARG;
    if (f->running_state == FOTA_IMG_VALID && f->persist.pending_version == 0)
        return 0;
    int r = f->cfg->boot->confirm(f->cfg->boot->ctx);
    if (r < 0)
        return fail(f, FOTA_ERR_BOOT, "confirming the image in slot %d failed (%s)",
                    f->running_slot, fota_strerror(r));
    f->running_state = FOTA_IMG_VALID;
    struct fota_persist *p = &f->persist;
    if (p->pending_version != 0 && p->pending_slot == f->running_slot) {
        settle_confirmed(p);
        clear_download(p);
        if ((r = persist_save(f)) < 0)
            return r;
    }
    emit(f, FOTA_EV_CONFIRMED);
    return 0;
}

int fota_rollback(struct fota *f)
{
    if (!f || !f->cfg)
        return FOTA_ERR_INVALID_ARG;
    int r = f->cfg->boot->rollback(f->cfg->boot->ctx);
    if (r < 0)
        return fail(f, FOTA_ERR_BOOT, "rolling back from slot %d failed (%s)", f->running_slot,
                    fota_strerror(r));
    f->running_state = FOTA_IMG_ABORTED;
    return 0;
}

/* ---- Connection ---------------------------------------------------------- */

static void close_conn(struct fota *f)
{
    if (f->tr)
        f->tr->close(f->tr->ctx);
    f->tr = NULL;
    f->rx_len = f->rx_pos = 0;
}

void fota_abort(struct fota *f)
{
    if (!f || !f->cfg)
        return;
    close_conn(f);
    f->phase = PH_IDLE;
}

static const char *tr_detail(const struct fota_transport *t)
{
    const char *d = t->detail ? t->detail(t->ctx) : NULL;
    return d ? d : "no detail";
}

/* Message for a failed connect, by cause. */
static int connect_failed(struct fota *f, const struct fota_transport *t, int r)
{
    const char *d = tr_detail(t);
    unsigned port = f->port;
    switch (r) {
    case FOTA_ERR_DNS:
        return fail(f, r, "DNS lookup for host %s failed via %s (%s)", f->host, t->name, d);
    case FOTA_ERR_CONNECT_REFUSED:
        return fail(f, r, "TCP connect to %s:%u refused via %s", f->host, port, t->name);
    case FOTA_ERR_CONNECT_TIMEOUT:
        return fail(f, r, "TCP connect to %s:%u timed out via %s (%s)", f->host, port, t->name,
                    d);
    case FOTA_ERR_TLS_CERT_UNTRUSTED:
        return fail(f, r, "TLS with %s:%u: certificate not trusted (%s)", f->host, port, d);
    case FOTA_ERR_TLS_CERT_EXPIRED:
        return fail(f, r, "TLS with %s:%u: certificate expired (%s)", f->host, port, d);
    case FOTA_ERR_TLS_NAME_MISMATCH:
        return fail(f, r, "TLS with %s:%u: certificate is not for this host name (%s)", f->host,
                    port, d);
    case FOTA_ERR_TLS_HANDSHAKE:
    case FOTA_ERR_TLS:
        return fail(f, r, "TLS handshake with %s:%u failed (%s)", f->host, port, d);
    case FOTA_ERR_LINK:
        return fail(f, r, "link %s is down (%s)", t->name, d);
    case FOTA_ERR_NOT_SUPPORTED:
        return fail(f, FOTA_ERR_NOT_SUPPORTED, "transport %s cannot open %s:%u (%s)", t->name,
                    f->host, port, d);
    default:
        return fail(f, r < 0 ? r : FOTA_ERR_CONNECT, "TCP connect to %s:%u failed via %s (%s)",
                    f->host, port, t->name, d);
    }
}

static int is_connect_error(int r)
{
    return r == FOTA_ERR_DNS || r == FOTA_ERR_CONNECT_REFUSED || r == FOTA_ERR_CONNECT_TIMEOUT ||
           r == FOTA_ERR_CONNECT || r == FOTA_ERR_LINK || r == FOTA_ERR_NOT_SUPPORTED ||
           r == FOTA_ERR_TLS_HANDSHAKE || r == FOTA_ERR_TLS;
}

/* Open a connection to the URL in buf.url, reusing a kept-alive one to the
 * same origin. Connect failures move to the next transport in the list. */
static int do_connect(struct fota *f)
{
    struct fota_url u;
    char host[FOTA_URL_HOST_MAX + 1];
    if (fota_url_parse(f->buf.url, &u) < 0)
        return fail(f, FOTA_ERR_URL, "%s URL is malformed: %s", what(f), f->buf.url);
    if (fota_url_host(&u, host, sizeof host) < 0)
        return fail(f, FOTA_ERR_URL, "host name too long in %s", f->buf.url);
    if (f->tr && f->tls == u.tls && f->port == u.port && strcmp(f->host, host) == 0) {
        f->reused = 1; /* keep-alive */
        f->phase = PH_SEND;
        return FOTA_RUNNING;
    }
    f->reused = 0;
    close_conn(f);
    memcpy(f->host, host, sizeof host);
    f->port = u.port;
    f->tls = u.tls;

    const struct fota_transport *t = f->cfg->transports[f->tr_index];
    log_msg(f, FOTA_LOG_DEBUG, "connecting to %s:%u via %s", f->host, (unsigned)f->port,
            t->name);
    int r = t->connect(t->ctx, f->host, f->port, f->tls,
                       cfg_or(f->cfg->connect_timeout_ms, 10000));
    if (r < 0) {
        connect_failed(f, t, r);
        if (is_connect_error(r) && f->tr_index + 1 < f->cfg->n_transports) {
            log_msg(f, FOTA_LOG_WARN, "%s; trying %s", f->msg,
                    f->cfg->transports[f->tr_index + 1]->name);
            f->tr_index++;
            return FOTA_RUNNING; /* fall back to the next link at once */
        }
        return r;
    }
    f->tr = t;
    f->phase = PH_SEND;
    return FOTA_RUNNING;
}

static int do_send(struct fota *f)
{
    struct fota_url u;
    fota_url_parse(f->buf.url, &u); /* parsed fine in do_connect */
    uint64_t range = f->fetching_image ? f->offset : 0;
    const char *ua = f->cfg->user_agent ? f->cfg->user_agent : "fota/" FOTA_VERSION_STRING;
    int n = fota_http_format_get(f->buf.line, f->buf.line_size, &u, ua, range,
                                 f->fetching_image ? "" : f->etag);
    if (n < 0)
        return fail(f, FOTA_ERR_BUFFER_TOO_SMALL,
                    "request for %s does not fit the %u-byte line buffer", f->buf.url,
                    (unsigned)f->buf.line_size);
    uint32_t timeout = cfg_or(f->cfg->read_timeout_ms, 10000);
    size_t sent = 0;
    while (sent < (size_t)n) { /* bounded: each pass sends >= 1 byte or fails */
        int w = f->tr->send(f->tr->ctx, (const uint8_t *)f->buf.line + sent, (size_t)n - sent,
                            timeout);
        if (w <= 0) {
            int err = w == FOTA_ERR_TIMEOUT ? FOTA_ERR_TIMEOUT : FOTA_ERR_SEND;
            close_conn(f);
            return fail(f, err, "sending the %s request to %s:%u failed (%s)", what(f), f->host,
                        (unsigned)f->port, tr_detail(f->cfg->transports[f->tr_index]));
        }
        sent += (size_t)w;
    }
    /* The manifest buffer doubles as the Location buffer: a redirect body is
     * discarded, and a 200 body overwrites it after the headers. */
    fota_http_parser_init(&f->http, f->buf.line, f->buf.line_size, f->buf.manifest,
                          f->buf.manifest_size, 0);
    f->manifest_len = 0;
    f->rx_len = f->rx_pos = 0;
    f->resp_bytes = 0;
    f->window_start = now(f);
    f->window_bytes = 0;
    f->phase = PH_RECV;
    return FOTA_RUNNING;
}

/* ---- Flash writing --------------------------------------------------------- */

/* Erase every sector up to `end` (slot offset) not erased yet. */
static int erase_to(struct fota *f, uint32_t end)
{
    const struct fota_flash *fl = f->cfg->flash;
    if (!f->hook_ran) {
        f->hook_ran = 1;
        if (f->cfg->pre_update && f->cfg->pre_update(f->cfg->ctx) != 0)
            return fail(f, FOTA_ERR_BUSY, "the pre-update hook refused the update");
    }
    while (f->erased_to < end) { /* bounded by the slot size */
        int r = fl->erase(fl->ctx, f->target.addr + f->erased_to, fl->sector_size);
        if (r < 0)
            return fail(f, FOTA_ERR_FLASH_ERASE, "flash erase failed at offset 0x%x (slot %d)",
                        (unsigned)f->erased_to, f->target_slot);
        f->erased_to += fl->sector_size;
    }
    return 0;
}

static int program(struct fota *f, const uint8_t *data, uint32_t len)
{
    const struct fota_flash *fl = f->cfg->flash;
    uint32_t ss = fl->sector_size;
    int r = erase_to(f, (f->written + len + ss - 1) / ss * ss);
    if (r < 0)
        return r;
    r = fl->write(fl->ctx, f->target.addr + f->written, data, len);
    if (r < 0)
        return fail(f, FOTA_ERR_FLASH_WRITE, "flash write failed at offset 0x%x (slot %d)",
                    (unsigned)f->written, f->target_slot);
    f->written += len;
    return 0;
}

/* Write image bytes, keeping the part that does not fill a write unit. */
static int slot_write(struct fota *f, const uint8_t *data, uint32_t len)
{
    uint32_t ws = f->cfg->flash->write_size;
    int r;
    if (f->tail_len) {
        uint32_t take = ws - f->tail_len < len ? ws - f->tail_len : len;
        memcpy(f->tail + f->tail_len, data, take);
        f->tail_len += take;
        data += take;
        len -= take;
        if (f->tail_len < ws)
            return 0;
        if ((r = program(f, f->tail, ws)) < 0)
            return r;
        f->tail_len = 0;
    }
    uint32_t whole = len / ws * ws;
    if (whole && (r = program(f, data, whole)) < 0)
        return r;
    memcpy(f->tail, data + whole, len - whole);
    f->tail_len = len - whole;
    return 0;
}

/* The last partial unit, padded with the erased value. */
static int slot_flush(struct fota *f)
{
    if (!f->tail_len)
        return 0;
    uint32_t ws = f->cfg->flash->write_size;
    memset(f->tail + f->tail_len, 0xFF, ws - f->tail_len);
    int r = program(f, f->tail, ws);
    if (r == 0)
        f->tail_len = 0;
    return r;
}

static int save_progress(struct fota *f)
{
    uint32_t ss = f->cfg->flash->sector_size;
    uint32_t at = f->written / ss * ss; /* whole sectors only: resume re-erases the rest */
    if (at <= f->persist.dl_offset)
        return 0;
    f->persist.dl_offset = at;
    f->persisted_at = at;
    return persist_save(f);
}

/* ---- Handling the manifest --------------------------------------------------- */

/* The manifest URL of the configuration, "{mac}" replaced, into buf.url. */
static int set_url_from_config(struct fota *f)
{
    const char *src = f->cfg->manifest_url, *mark = strstr(src, "{mac}");
    const char *mac = mark ? f->cfg->mac : NULL;
    size_t head = mac ? (size_t)(mark - src) : strlen(src);
    size_t mac_len = mac ? strlen(mac) : 0;
    const char *rest = mac ? mark + 5 : src + head;
    size_t rest_len = strlen(rest);
    if (head + mac_len + rest_len >= f->buf.url_size)
        return fail(f, FOTA_ERR_BUFFER_TOO_SMALL,
                    "manifest URL does not fit the %u-byte URL buffer", (unsigned)f->buf.url_size);
    memcpy(f->buf.url, src, head);
    if (mac_len)
        memcpy(f->buf.url + head, mac, mac_len);
    memcpy(f->buf.url + head + mac_len, rest, rest_len + 1);
    return 0;
}

static int check_manifest(struct fota *f)
{
    struct fota_manifest *m = &f->manifest;
    const struct fota_config *c = f->cfg;
    struct fota_persist *p = &f->persist;
    char hex[2 * FOTA_KEY_ID_SIZE + 1];
    int line = 0, r;

    r = fota_manifest_parse(f->buf.manifest, f->manifest_len, m, &line);
    if (r < 0 && fota_manifest_text_problem(f->buf.manifest, f->manifest_len))
        return fail(f, r, "manifest %s (%s)",
                    fota_manifest_text_problem(f->buf.manifest, f->manifest_len), f->buf.url);
    if (r < 0)
        return fail(f, r, "manifest from %s is malformed at line %d", f->buf.url, line);
    r = fota_manifest_verify(m, f->buf.manifest, c->pubkeys, c->n_pubkeys, c->crypto);
    fota_hex(m->key_id, sizeof m->key_id, hex);
    if (r == FOTA_ERR_UNKNOWN_KEY)
        return fail(f, r, "manifest is signed by key %s, which this device does not trust", hex);
    if (r < 0)
        return fail(f, r, "manifest signature invalid (key %s, %u signed bytes)", hex,
                    (unsigned)m->signed_len);
    int64_t t;
    if (m->expires != 0 && c->utc_now && c->utc_now(c->ctx, &t) == 0 && t > m->expires)
        return fail(f, FOTA_ERR_EXPIRED, "manifest for %s expired %u seconds ago", m->version,
                    (unsigned)(t - m->expires > 0xFFFFFFFF ? 0xFFFFFFFF : t - m->expires));
    if (strcmp(m->product, c->product) != 0)
        return fail(f, FOTA_ERR_WRONG_PRODUCT, "manifest is for product '%s', this device is '%s'",
                    m->product, c->product);
    if (m->chip != c->chip && c->chip != FOTA_CHIP_ANY)
        return fail(f, FOTA_ERR_WRONG_CHIP, "manifest is for %s but this device is %s",
                    fota_chip_display_name(m->chip), fota_chip_display_name(c->chip));
    if (m->sequence < p->last_sequence)
        return fail(f, FOTA_ERR_REPLAY,
                    "manifest sequence %u is older than %u already seen: replayed manifest",
                    (unsigned)m->sequence, (unsigned)p->last_sequence);
    if (m->security_counter < p->security_floor)
        return fail(f, FOTA_ERR_ROLLBACK,
                    "security counter %u is below this device's floor %u: rollback refused",
                    (unsigned)m->security_counter, (unsigned)p->security_floor);
    if (m->sequence > p->last_sequence) {
        p->last_sequence = m->sequence;
        if ((r = persist_save(f)) < 0)
            return r;
    }
    if (m->version_code == c->version_code)
        return FOTA_NO_UPDATE;
    if (m->version_code < c->version_code)
        return fail(f, FOTA_ERR_NOT_NEWER,
                    "server offers %s (code %u), older than the running %s (code %u): refused",
                    m->version, (unsigned)m->version_code, c->version ? c->version : "firmware",
                    (unsigned)c->version_code);
    if (m->version_code == p->rejected_version)
        return fail(f, FOTA_ERR_REJECTED_VERSION,
                    "version %s (code %u) was rolled back on this device before; waiting for a "
                    "newer one",
                    m->version, (unsigned)m->version_code);
    if (m->size == 0 || m->size > f->target.size)
        return fail(f, FOTA_ERR_TOO_BIG, "image of %u bytes does not fit slot %d (%u bytes)",
                    (unsigned)m->size, f->target_slot, (unsigned)f->target.size);
    return FOTA_UPDATE_AVAILABLE;
}

/* Prepare the image download: resolve its URL, and resume when the slot
 * already holds part of this very image. */
static int start_image(struct fota *f)
{
    struct fota_manifest *m = &f->manifest;
    struct fota_persist *p = &f->persist;

    int n = fota_url_resolve(f->buf.url, m->url, f->buf.line, f->buf.line_size);
    if (n < 0 || (size_t)n >= sizeof m->url)
        return fail(f, FOTA_ERR_URL, "image URL '%s' (relative to %s) is malformed or too long",
                    m->url, f->buf.url);
    memcpy(m->url, f->buf.line, (size_t)n + 1); /* absolute from now on */

    f->fetching_image = 1;
    f->offset = f->written = f->erased_to = f->tail_len = 0;
    f->header_checked = 0;
    f->hook_ran = 0;
    f->cfg->crypto->sha256_start(&f->sha);

    if (p->dl_size == m->size && p->dl_slot == f->target_slot &&
        memcmp(p->dl_sha256, m->sha256, 32) == 0 && p->dl_offset > 0 &&
        p->dl_offset <= m->size) {
        log_msg(f, FOTA_LOG_INFO, "resuming %s at offset %u of %u", m->version,
                (unsigned)p->dl_offset, (unsigned)m->size);
        emit(f, FOTA_EV_DOWNLOADING);
        f->phase = PH_REHASH;
        return FOTA_RUNNING;
    }
    clear_download(p);
    memcpy(p->dl_sha256, m->sha256, 32);
    p->dl_size = m->size;
    p->dl_slot = f->target_slot;
    f->persisted_at = 0;
    log_msg(f, FOTA_LOG_INFO, "downloading %s: %u bytes into slot %d", m->version,
            (unsigned)m->size, f->target_slot);
    emit(f, FOTA_EV_DOWNLOADING);
    memcpy(f->buf.url, m->url, (size_t)n + 1);
    f->redirects = 0;
    f->phase = PH_CONNECT;
    return FOTA_RUNNING;
}

/* Resume after a reboot: hash the bytes the slot already holds, one buffer
 * per step; the final SHA-256 check covers them like any other byte. */
static int do_rehash(struct fota *f)
{
    const struct fota_flash *fl = f->cfg->flash;
    uint32_t end = f->persist.dl_offset;
    uint32_t n = end - f->offset < f->buf.rx_size ? end - f->offset : (uint32_t)f->buf.rx_size;
    if (n) {
        if (fl->read(fl->ctx, f->target.addr + f->offset, f->buf.rx, n) < 0)
            return fail(f, FOTA_ERR_FLASH_READ, "flash read failed at offset 0x%x (slot %d)",
                        (unsigned)f->offset, f->target_slot);
        if (f->offset == 0) {
            struct fota_esp_header eh;
            int r = fota_esp_check_header(f->buf.rx, n, f->cfg->chip, &eh);
            if (r < 0) { /* not what we wrote: start over */
                clear_download(&f->persist);
                return start_image(f);
            }
        }
        f->cfg->crypto->sha256_update(&f->sha, f->buf.rx, n);
        f->offset += n;
        return FOTA_RUNNING;
    }
    f->written = f->erased_to = f->persisted_at = f->offset;
    f->header_checked = 1;
    if (f->offset == f->manifest.size)
        return finish_image(f); /* complete before the reset: verify and activate */
    memcpy(f->buf.url, f->manifest.url, strlen(f->manifest.url) + 1);
    f->redirects = 0;
    f->phase = PH_CONNECT;
    return FOTA_RUNNING;
}

/* ---- Handling responses -------------------------------------------------------- */

static int on_headers(struct fota *f)
{
    const struct fota_http_response *h = &f->http.resp;
    unsigned st = h->status;

    if (st == 301 || st == 302 || st == 303 || st == 307 || st == 308) {
        if (!h->has_location)
            return fail(f, FOTA_ERR_HTTP_NO_LOCATION, "server answered %u without Location for %s",
                        st, f->buf.url);
        if (++f->redirects > cfg_or(f->cfg->max_redirects, 5))
            return fail(f, FOTA_ERR_HTTP_REDIRECTS, "more than %u redirects fetching %s (last %s)",
                        (unsigned)cfg_or(f->cfg->max_redirects, 5), what(f), f->buf.url);
        int n = fota_url_resolve(f->buf.url, f->buf.manifest, f->buf.line, f->buf.line_size);
        if (n < 0 || (size_t)n >= f->buf.url_size)
            return fail(f, FOTA_ERR_URL, "redirect from %s to a malformed or too long URL",
                        f->buf.url);
        log_msg(f, FOTA_LOG_INFO, "%u redirect to %s", st, f->buf.line);
        memcpy(f->buf.url, f->buf.line, (size_t)n + 1);
        close_conn(f);
        f->phase = PH_CONNECT;
        return FOTA_RUNNING;
    }
    if (!f->fetching_image) {
        if (st == 304) {
            f->phase = PH_DONE;
            return FOTA_NO_UPDATE;
        }
        if (st == 200)
            return FOTA_RUNNING;
    } else {
        uint32_t size = f->manifest.size;
        if (st == 206 && f->offset > 0) {
            if (!h->has_content_range || h->range_first != f->offset ||
                (h->range_complete != UINT64_MAX && h->range_complete != size) ||
                h->range_last >= size)
                return fail(f, FOTA_ERR_HTTP_RANGE,
                            "asked for bytes %u- of %s but the server sent a different range",
                            (unsigned)f->offset, f->buf.url);
            log_msg(f, FOTA_LOG_INFO, "server continues at offset %u", (unsigned)f->offset);
            return FOTA_RUNNING;
        }
        if (st == 200 && h->framing == FOTA_HTTP_FRAMING_LENGTH && h->content_length != size)
            return fail(f, FOTA_ERR_HTTP_LENGTH,
                        "server sends %u bytes for %s but the manifest signs %u",
                        (unsigned)(h->content_length > 0xFFFFFFFFu ? 0xFFFFFFFFu
                                                                   : h->content_length),
                        f->buf.url, (unsigned)size);
        if (st == 416 || (st == 200 && f->offset > 0)) {
            /* no resume from this server: start over */
            log_msg(f, FOTA_LOG_INFO, "server answered %u to a Range request: starting over", st);
            f->offset = f->written = f->erased_to = f->tail_len = 0;
            f->header_checked = 0;
            f->cfg->crypto->sha256_start(&f->sha);
            f->persisted_at = 0;
            if (f->persist.dl_offset != 0) {
                /* the saved progress must not outlive the sectors it names */
                f->persist.dl_offset = 0;
                int r = persist_save(f);
                if (r < 0)
                    return r;
            }
            if (st == 416) {
                close_conn(f);
                f->phase = PH_CONNECT;
            }
            return FOTA_RUNNING;
        }
        if (st == 200)
            return FOTA_RUNNING;
    }
    if (st == 404)
        return fail(f, FOTA_ERR_HTTP_NOT_FOUND, "server answered 404 Not Found for %s", f->buf.url);
    if (st == 401 || st == 403)
        return fail(f, FOTA_ERR_HTTP_FORBIDDEN, "server answered %u (access denied) for %s", st,
                    f->buf.url);
    if (st == 429 || st == 408)
        return fail(f, FOTA_ERR_HTTP_BUSY, "server answered %u (busy: try later) for %s", st,
                    f->buf.url);
    if (st >= 400 && st < 500)
        return fail(f, FOTA_ERR_HTTP_CLIENT, "server answered %u for %s: refused as final", st,
                    f->buf.url);
    if (st >= 500)
        return fail(f, FOTA_ERR_HTTP_SERVER, "server answered %u for %s", st, f->buf.url);
    return fail(f, FOTA_ERR_HTTP_STATUS, "server answered unexpected status %u for %s", st,
                f->buf.url);
}

static int on_manifest_body(struct fota *f, const uint8_t *data, size_t len)
{
    if (len > f->buf.manifest_size - f->manifest_len)
        return fail(f, FOTA_ERR_MANIFEST_TOO_LARGE,
                    "manifest from %s is larger than the %u-byte buffer", f->buf.url,
                    (unsigned)f->buf.manifest_size);
    memcpy(f->buf.manifest + f->manifest_len, data, len);
    f->manifest_len += (uint32_t)len;
    return FOTA_RUNNING;
}

static int on_image_body(struct fota *f, const uint8_t *data, size_t len)
{
    uint32_t size = f->manifest.size;
    int r;
    if (len > size - f->offset)
        return fail(f, FOTA_ERR_IMAGE_SIZE,
                    "server sent more than the %u signed bytes of %s: refused", (unsigned)size,
                    f->buf.url);
    if (!f->header_checked) {
        /* The header must pass before anything is erased: buffer its first
         * bytes in the write tail's place until there are enough. */
        uint32_t need = FOTA_ESP_HEADER_SIZE < size ? FOTA_ESP_HEADER_SIZE : size;
        uint8_t head[FOTA_ESP_HEADER_SIZE];
        if (f->offset + len < need) {
            /* rare: fewer than 24 bytes arrived; keep them in the tail */
            memcpy(f->tail + f->offset, data, len);
            f->offset += (uint32_t)len;
            f->tail_len = f->offset;
            f->cfg->crypto->sha256_update(&f->sha, data, len);
            return FOTA_RUNNING;
        }
        memcpy(head, f->tail, f->offset);
        memcpy(head + f->offset, data, need - f->offset);
        struct fota_esp_header eh;
        r = fota_esp_check_header(head, need, f->cfg->chip, &eh);
        if (r == FOTA_ERR_IMAGE_CHIP)
            return fail(f, r, "image is for %s but this device is %s: refused before flashing",
                        fota_chip_display_name(fota_esp_chip_from_id(
                            (uint16_t)(head[12] | (uint16_t)head[13] << 8))),
                        fota_chip_display_name(f->cfg->chip));
        if (r < 0)
            return fail(f, r, "image from %s is not a valid ESP image (magic 0x%x, %u segments)",
                        f->buf.url, head[0], need > 1 ? head[1] : 0u);
        f->header_checked = 1;
        /* flash the buffered first bytes now that the header passed */
        uint32_t held = f->offset;
        f->tail_len = 0;
        f->offset = 0;
        if (held && (r = slot_write(f, head, held)) < 0)
            return r;
        f->offset = held;
    }
    f->cfg->crypto->sha256_update(&f->sha, data, len);
    if ((r = slot_write(f, data, (uint32_t)len)) < 0)
        return r;
    f->offset += (uint32_t)len;
    if (f->cfg->progress)
        f->cfg->progress(f->cfg->ctx, f->offset, size);
    if (f->written - f->persisted_at >= cfg_or(f->cfg->persist_every, 65536) &&
        (r = save_progress(f)) < 0)
        return r;
    return FOTA_RUNNING;
}

/* The whole image arrived: check size and hash, then read it back. */
static int finish_image(struct fota *f)
{
    uint8_t got[32];
    char want_hex[17], got_hex[17];
    int r;
    close_conn(f); /* nothing more to fetch */
    if ((r = slot_flush(f)) < 0)
        return r;
    f->cfg->crypto->sha256_finish(&f->sha, got);
    if (memcmp(got, f->manifest.sha256, 32) != 0) {
        fota_hex(f->manifest.sha256, 8, want_hex);
        fota_hex(got, 8, got_hex);
        clear_download(&f->persist); /* never resume from bytes that failed */
        persist_save(f);
        f->fetching_image = 0; /* the retry starts over from the manifest */
        return fail(f, FOTA_ERR_IMAGE_HASH,
                    "SHA-256 mismatch after %u bytes (signed %s..., received %s...)",
                    (unsigned)f->manifest.size, want_hex, got_hex);
    }
    f->cfg->crypto->sha256_start(&f->sha);
    f->offset = 0;
    f->phase = PH_READBACK;
    return FOTA_RUNNING;
}

static int do_recv(struct fota *f)
{
    uint32_t t = now(f);
    uint32_t deadline = cfg_or(f->cfg->total_timeout_ms, 3600000u);
    uint32_t min_rate = cfg_or(f->cfg->min_bytes_per_s, 16);
    if (deadline != FOTA_NO_LIMIT && t - f->op_started > deadline) {
        close_conn(f);
        return fail(f, FOTA_ERR_DEADLINE, "%s download from %s:%u passed its %u ms deadline",
                    what(f), f->host, (unsigned)f->port, (unsigned)deadline);
    }
    if (min_rate != FOTA_NO_LIMIT && t - f->window_start >= SLOW_WINDOW_MS) {
        uint32_t rate = f->window_bytes / ((t - f->window_start) / 1000u);
        if (rate < min_rate) {
            close_conn(f);
            return fail(f, FOTA_ERR_TOO_SLOW,
                        "%s download from %s:%u too slow: %u bytes/s, minimum %u", what(f),
                        f->host, (unsigned)f->port, (unsigned)rate, (unsigned)min_rate);
        }
        f->window_start = t;
        f->window_bytes = 0;
    }
    if (f->rx_pos >= f->rx_len) {
        int n = f->tr->recv(f->tr->ctx, f->buf.rx, f->buf.rx_size,
                            cfg_or(f->cfg->read_timeout_ms, 10000));
        if (n <= 0 && f->reused && f->resp_bytes == 0) {
            /* the server dropped the idle kept-alive connection: reconnect */
            close_conn(f);
            f->phase = PH_CONNECT;
            return FOTA_RUNNING;
        }
        if (n == 0) {
            int e = fota_http_eof(&f->http);
            close_conn(f);
            if (e == FOTA_HTTP_DONE)
                goto message_done;
            return fail(f, FOTA_ERR_CLOSED,
                        "%s:%u closed the connection during the %s (at offset %u)", f->host,
                        (unsigned)f->port, what(f),
                        (unsigned)(f->fetching_image ? f->offset : f->manifest_len));
        }
        if (n < 0) {
            const char *d = tr_detail(f->tr);
            close_conn(f);
            if (n == FOTA_ERR_TIMEOUT)
                return fail(f, n, "no data from %s:%u for %u ms during the %s (at offset %u)",
                            f->host, (unsigned)f->port,
                            (unsigned)cfg_or(f->cfg->read_timeout_ms, 10000), what(f),
                            (unsigned)(f->fetching_image ? f->offset : f->manifest_len));
            return fail(f, n, "receiving the %s from %s:%u failed at offset %u (%s)", what(f),
                        f->host, (unsigned)f->port,
                        (unsigned)(f->fetching_image ? f->offset : f->manifest_len), d);
        }
        f->rx_len = (size_t)n;
        f->rx_pos = 0;
        f->resp_bytes += (uint32_t)n;
        f->window_bytes += (uint32_t)n; /* every byte counts: headers, manifest, image */
    }
    /* Parse what is buffered: each call consumes bytes or reports an event */
    /* until it needs more input: DONE may follow the last body byte with no
     * input left */
    for (size_t guard = 0; guard <= f->buf.rx_size + 4; guard++) {
        size_t used = 0, blen = 0;
        const uint8_t *body = NULL;
        int ev = fota_http_parse(&f->http, f->buf.rx + f->rx_pos, f->rx_len - f->rx_pos, &used,
                                 &body, &blen);
        f->rx_pos += used;
        if (ev < 0) {
            close_conn(f);
            if (ev == FOTA_ERR_HTTP_HEADER_TOO_LONG)
                return fail(f, ev, "a header from %s:%u is longer than the %u-byte line buffer",
                            f->host, (unsigned)f->port, (unsigned)f->buf.line_size);
            return fail(f, ev, "malformed HTTP response from %s:%u for the %s", f->host,
                        (unsigned)f->port, what(f));
        }
        if (ev == FOTA_HTTP_NEED_MORE)
            break;
        int r = FOTA_RUNNING;
        if (ev == FOTA_HTTP_HEADERS)
            r = on_headers(f);
        else if (ev == FOTA_HTTP_BODY)
            r = f->fetching_image ? on_image_body(f, body, blen) : on_manifest_body(f, body, blen);
        else if (ev == FOTA_HTTP_DONE)
            goto message_done;
        if (r != FOTA_RUNNING || f->phase != PH_RECV) {
            if (r < 0)
                close_conn(f);
            return r;
        }
        if (f->fetching_image && f->offset == f->manifest.size && f->header_checked)
            return finish_image(f);
    }
    return FOTA_RUNNING;

message_done:
    if (!f->http.resp.keep_alive)
        close_conn(f);
    if (f->fetching_image) {
        if (f->offset != f->manifest.size || !f->header_checked) {
            close_conn(f);
            return fail(f, FOTA_ERR_IMAGE_SIZE, "image from %s ended after %u of %u signed bytes",
                        f->buf.url, (unsigned)f->offset, (unsigned)f->manifest.size);
        }
        return finish_image(f);
    }
    /* Manifest complete */
    int r = check_manifest(f);
    if (r == FOTA_NO_UPDATE) {
        memcpy(f->etag, f->http.resp.etag, sizeof f->etag); /* ask If-None-Match next time */
        f->phase = PH_DONE;
        return r;
    }
    f->etag[0] = '\0';
    if (r < 0)
        return r;
    log_msg(f, FOTA_LOG_INFO, "update available: %s (code %u), running %s (code %u)",
            f->manifest.version, (unsigned)f->manifest.version_code,
            f->cfg->version ? f->cfg->version : "?", (unsigned)f->cfg->version_code);
    emit(f, FOTA_EV_UPDATE_AVAILABLE);
    if (f->cfg->check_only) {
        f->phase = PH_DONE;
        return FOTA_UPDATE_AVAILABLE;
    }
    return start_image(f);
}

/* ---- Verify and activate ------------------------------------------------------------- */

static int do_readback(struct fota *f)
{
    const struct fota_flash *fl = f->cfg->flash;
    uint32_t size = f->manifest.size;
    uint32_t n = size - f->offset < f->buf.rx_size ? size - f->offset : (uint32_t)f->buf.rx_size;
    if (n) {
        if (fl->read(fl->ctx, f->target.addr + f->offset, f->buf.rx, n) < 0)
            return fail(f, FOTA_ERR_FLASH_READ, "flash read failed at offset 0x%x (slot %d)",
                        (unsigned)f->offset, f->target_slot);
        f->cfg->crypto->sha256_update(&f->sha, f->buf.rx, n);
        f->offset += n;
        return FOTA_RUNNING;
    }
    uint8_t got[32];
    f->cfg->crypto->sha256_finish(&f->sha, got);
    if (memcmp(got, f->manifest.sha256, 32) != 0) {
        clear_download(&f->persist);
        persist_save(f);
        return fail(f, FOTA_ERR_FLASH_VERIFY,
                    "slot %d does not read back what was written (SHA-256 differs): flash fault",
                    f->target_slot);
    }
    log_msg(f, FOTA_LOG_INFO, "verified %u bytes, SHA-256 matches the signed manifest",
            (unsigned)size);
    emit(f, FOTA_EV_VERIFIED);
    f->phase = PH_ACTIVATE;
    return FOTA_RUNNING;
}

static int do_activate(struct fota *f)
{
    struct fota_persist *p = &f->persist;
    int r;
    /* 1. Remember what we activate, with the download marked complete, so a
     *    cut before step 2 redoes the activation instead of a rollback. */
    p->dl_offset = p->dl_size;
    p->pending_version = f->manifest.version_code;
    p->pending_security = f->manifest.security_counter;
    p->pending_slot = f->target_slot;
    p->pending_prev_state = -1;
    const struct fota_boot *b = f->cfg->boot;
    int st;
    if (b->slot_state && b->slot_state(b->ctx, f->target_slot, &st) == 0)
        p->pending_prev_state = st;
    if ((r = persist_save(f)) < 0)
        return r;
    /* 2. One atomic boot-data write selects the slot for one trial boot. */
    r = f->cfg->boot->set_next(f->cfg->boot->ctx, f->target_slot);
    if (r < 0)
        return fail(f, FOTA_ERR_BOOT, "selecting slot %d for the next boot failed (%s)",
                    f->target_slot, fota_strerror(r));
    /* 3. The download is finished with. */
    clear_download(p);
    if ((r = persist_save(f)) < 0)
        return r;
    log_msg(f, FOTA_LOG_INFO, "slot %d activated: reboot to run %s", f->target_slot,
            f->manifest.version);
    emit(f, FOTA_EV_ACTIVATED);
    f->phase = PH_DONE;
    return FOTA_UPDATE_READY;
}

/* ---- The step machine ------------------------------------------------------------------ */

static int begin_attempt(struct fota *f)
{
    f->op_started = now(f);
    f->tr_index = 0;
    f->redirects = 0;
    if (f->fetching_image) {
        /* keep what was downloaded; continue with Range */
        memcpy(f->buf.url, f->manifest.url, strlen(f->manifest.url) + 1);
    } else {
        int r = set_url_from_config(f);
        if (r < 0)
            return r;
    }
    f->phase = PH_CONNECT;
    return FOTA_RUNNING;
}

int fota_start(struct fota *f)
{
    if (!f || !f->cfg)
        return FOTA_ERR_INVALID_ARG;
    if (f->phase != PH_IDLE && f->phase != PH_DONE)
        return FOTA_ERR_BUSY;
    if (f->running_state == FOTA_IMG_PENDING_VERIFY)
        return fail(f, FOTA_ERR_PENDING_CONFIRM,
                    "the running image in slot %d is not confirmed yet: call fota_confirm() "
                    "first",
                    f->running_slot);
    f->target_slot = 1 - f->running_slot;
    int r = f->cfg->boot->slot_info(f->cfg->boot->ctx, f->target_slot, &f->target);
    if (r < 0 || f->target.addr % f->cfg->flash->sector_size)
        return fail(f, FOTA_ERR_BOOT, "slot %d is not usable (%s)", f->target_slot,
                    fota_strerror(r < 0 ? r : FOTA_ERR_INVALID_ARG));
    f->attempts = 0;
    f->fetching_image = 0;
    f->last_err = 0;
    f->msg[0] = '\0';
    f->result = FOTA_RUNNING;
    log_msg(f, FOTA_LOG_DEBUG, "check started");
    emit(f, FOTA_EV_CHECKING);
    int b = begin_attempt(f);
    return b == FOTA_RUNNING ? 0 : b;
}

/* After a failure: retry with exponential backoff and jitter, or give up. */
static int after_error(struct fota *f, int err)
{
    close_conn(f);
    f->attempts++;
    uint32_t max = cfg_or(f->cfg->max_attempts, 5);
    if (!fota_err_is_transient(err) || f->attempts >= max) {
        log_msg(f, FOTA_LOG_ERROR, "%s", f->msg);
        f->phase = PH_DONE;
        f->result = err;
        emit(f, FOTA_EV_FAILED);
        return err;
    }
    uint32_t base = cfg_or(f->cfg->backoff_base_ms, 1000), cap = cfg_or(f->cfg->backoff_max_ms, 60000);
    uint32_t delay = base;
    for (uint32_t i = 1; i < f->attempts && delay < cap; i++)
        delay *= 2;
    if (delay > cap)
        delay = cap;
    /* "equal jitter": half fixed, half random, so a fleet does not retry in step */
    f->rng ^= f->rng << 13;
    f->rng ^= f->rng >> 17;
    f->rng ^= f->rng << 5;
    delay = delay / 2 + f->rng % (delay / 2 + 1);
    uint32_t ra = f->http.resp.retry_after_s;
    if ((err == FOTA_ERR_HTTP_SERVER || err == FOTA_ERR_HTTP_BUSY) && ra) {
        uint32_t ra_ms = ra > cap / 1000 ? cap : ra * 1000;
        if (ra_ms > delay)
            delay = ra_ms;
    }
    log_msg(f, FOTA_LOG_WARN, "%s; retry %u of %u in %u ms", f->msg, (unsigned)f->attempts,
            (unsigned)(max - 1), (unsigned)delay);
    f->wait_until = now(f) + delay;
    f->phase = PH_WAIT;
    emit(f, FOTA_EV_RETRYING);
    return FOTA_RUNNING;
}

int fota_step(struct fota *f)
{
    if (!f || !f->cfg)
        return FOTA_ERR_INVALID_ARG;
    int r;
    switch (f->phase) {
    case PH_IDLE:
        return FOTA_IDLE;
    case PH_DONE:
        return f->result;
    case PH_WAIT:
        if ((int32_t)(now(f) - f->wait_until) < 0)
            return FOTA_RUNNING;
        r = begin_attempt(f);
        break;
    case PH_CONNECT:
        r = do_connect(f);
        break;
    case PH_SEND:
        r = do_send(f);
        break;
    case PH_RECV:
        r = do_recv(f);
        break;
    case PH_REHASH:
        r = do_rehash(f);
        break;
    case PH_READBACK:
        r = do_readback(f);
        break;
    case PH_ACTIVATE:
        r = do_activate(f);
        break;
    default:
        r = FOTA_ERR_INVALID_ARG;
        break;
    }
    if (r < 0)
        return after_error(f, r);
    if (r != FOTA_RUNNING) {
        close_conn(f); /* a check ends with no connection left open */
        f->phase = PH_DONE;
        f->result = r;
        if (r == FOTA_NO_UPDATE)
            emit(f, FOTA_EV_NO_UPDATE);
    }
    return r;
}

int fota_run(struct fota *f)
{
    int r = fota_start(f);
    if (r < 0)
        return r;
    for (;;) { /* ends: attempts, redirects, sizes and deadlines are bounded */
        r = fota_step(f);
        if (r != FOTA_RUNNING)
            return r;
        if (f->phase == PH_WAIT && f->cfg->delay_ms) {
            int32_t left = (int32_t)(f->wait_until - now(f));
            if (left > 0)
                f->cfg->delay_ms(f->cfg->ctx, (uint32_t)left);
        }
    }
}

/* ---- Accessors ---------------------------------------------------------------------------- */

int fota_running_state(const struct fota *f)
{
    return f ? f->running_state : FOTA_IMG_UNDEFINED;
}

int fota_last_error(const struct fota *f)
{
    return f ? f->last_err : FOTA_ERR_INVALID_ARG;
}

const char *fota_last_message(const struct fota *f)
{
    return f ? f->msg : "";
}

const struct fota_manifest *fota_last_manifest(const struct fota *f)
{
    return f ? &f->manifest : NULL;
}

const char *fota_transport_used(const struct fota *f)
{
    if (!f || !f->cfg || f->tr_index >= f->cfg->n_transports)
        return NULL;
    return f->cfg->transports[f->tr_index]->name;
}

const struct fota_persist *fota_persist_state(const struct fota *f)
{
    return f ? &f->persist : NULL;
}
