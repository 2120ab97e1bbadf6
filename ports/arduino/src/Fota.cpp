/*
 * The Arduino adapter: an Arduino Client as a fota transport, millis() as
 * the clock, Serial-free logging through the optional ESP log, and the
 * platform port of the core this is built for.
 */
#include "Fota.h"

#include <string.h>

#if defined(ARDUINO_ARCH_ESP32)
#include <esp_random.h> /* esp_random(): Arduino.h does not declare it */
#endif

/* ---- Client as a fota_transport ----------------------------------------- */

static int link_connect(void *ctx, const char *host, uint16_t port, int tls, uint32_t timeout_ms)
{
    FotaClientLink *l = static_cast<FotaClientLink *>(ctx);
    l->detail[0] = '\0';
    if (l->active)
        l->active->stop();
    l->active = tls ? l->secure : l->plain;
    l->active->setTimeout(timeout_ms);
    uint32_t t0 = millis();
    int r = l->active->connect(host, port);
    if (r == 1)
        return 0;
    /* Arduino's Client::connect says 1 or "failed" (0 or a negative number)
     * without a reason: DNS, refusal and TLS failures look alike. A silent
     * host fails only after the client's timeout, so that much is known. */
    snprintf(l->detail, sizeof l->detail, "%s connect to %s:%u returned %d",
             tls ? "TLS" : "TCP", host, (unsigned)port, r);
    l->active->stop();
    if (millis() - t0 + 100 >= timeout_ms)
        return FOTA_ERR_CONNECT_TIMEOUT;
    return tls ? FOTA_ERR_TLS : FOTA_ERR_CONNECT;
}

static int link_send(void *ctx, const uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    FotaClientLink *l = static_cast<FotaClientLink *>(ctx);
    (void)timeout_ms;
    if (!l->active)
        return FOTA_ERR_SEND;
    size_t n = l->active->write(buf, len);
    if (n > 0)
        return (int)n;
    snprintf(l->detail, sizeof l->detail, "write failed%s",
             l->active->connected() ? "" : ": connection closed");
    return l->active->connected() ? FOTA_ERR_SEND : FOTA_ERR_CLOSED;
}

static int link_recv(void *ctx, uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    FotaClientLink *l = static_cast<FotaClientLink *>(ctx);
    if (!l->active)
        return FOTA_ERR_RECV;
    uint32_t t0 = millis();
    for (;;) { /* bounded by timeout_ms */
        int avail = l->active->available();
        if (avail > 0) {
            int n = l->active->read(buf, len < (size_t)avail ? len : (size_t)avail);
            if (n > 0)
                return n;
        }
        if (!l->active->connected() && l->active->available() <= 0)
            return 0; /* peer closed */
        if (millis() - t0 >= timeout_ms)
            return FOTA_ERR_TIMEOUT;
        delay(1); /* let the network stack run */
    }
}

static void link_close(void *ctx)
{
    FotaClientLink *l = static_cast<FotaClientLink *>(ctx);
    if (l->active)
        l->active->stop();
}

static const char *link_detail(void *ctx)
{
    FotaClientLink *l = static_cast<FotaClientLink *>(ctx);
    return l->detail[0] ? l->detail : NULL;
}

static void make_transport(struct fota_transport *t, FotaClientLink *l, Client *plain,
                           Client *secure)
{
    l->plain = plain;
    l->secure = secure;
    l->active = NULL;
    l->detail[0] = '\0';
    t->name = "client";
    t->ctx = l;
    t->connect = link_connect;
    t->send = link_send;
    t->recv = link_recv;
    t->close = link_close;
    t->detail = link_detail;
}

/* ---- Platform callbacks ----------------------------------------------------- */

static uint32_t now_ms(void *ctx)
{
    (void)ctx;
    return millis();
}

static void delay_ms(void *ctx, uint32_t ms)
{
    (void)ctx;
    delay(ms);
}

static uint32_t random_u32(void *ctx)
{
    (void)ctx;
#if defined(ARDUINO_ARCH_ESP8266)
    return RANDOM_REG32;
#else
    return esp_random();
#endif
}

static void log_msg(void *ctx, int level, const char *msg)
{
    (void)ctx;
#if defined(ARDUINO_ARCH_ESP32)
    if (level == FOTA_LOG_ERROR)
        log_e("%s", msg);
    else if (level == FOTA_LOG_WARN)
        log_w("%s", msg);
    else
        log_i("%s", msg);
#else
    (void)level;
    (void)msg;
#ifdef DEBUG_ESP_PORT
    DEBUG_ESP_PORT.printf("[fota] %s\n", msg);
#endif
#endif
}

static int pre_update(void *ctx)
{
    return static_cast<Fota *>(ctx)->preUpdate();
}

static void on_event(void *ctx, int event, const struct fota *)
{
    static_cast<Fota *>(ctx)->forwardEvent(event);
}

/* ---- Fota ----------------------------------------------------------------------- */

Fota::Fota(Client &client) : Fota(client, client) {}

Fota::Fota(Client &plain, Client &secure)
    : _userPreUpdate(NULL), _userEvent(NULL), _userCtx(NULL)
{
    memset(&_agent, 0, sizeof _agent);
    memset(&_cfg, 0, sizeof _cfg);
    make_transport(&_transport, &_link, &plain, &secure);
    _mac[0] = '\0';
}

int Fota::preUpdate()
{
    return _userPreUpdate ? _userPreUpdate(_userCtx) : 0;
}

void Fota::forwardEvent(int event)
{
    if (_userEvent)
        _userEvent(_userCtx, event, &_agent);
}

/* SHA-256 of the running image as released, read through the port's flash. */
static int running_image_sha256(const struct fota_arduino_platform &plat, uint8_t *buf,
                                size_t size, uint8_t out[32])
{
    uint32_t addr, len;
    if (fota_arduino_running_image(&addr, &len) < 0 || len == 0)
        return -1;
    struct fota_sha256 sha;
    if (plat.crypto->sha256_start(plat.crypto->ctx, &sha) != 0)
        return -1;
    for (uint32_t off = 0; off < len;) {
        uint32_t n = len - off < size ? len - off : (uint32_t)size;
        if (plat.flash->read(plat.flash->ctx, addr + off, buf, n) < 0) {
            plat.crypto->sha256_finish(plat.crypto->ctx, &sha, out); /* releases the context */
            return -1;
        }
        plat.crypto->sha256_update(plat.crypto->ctx, &sha, buf, n);
        off += n;
    }
    return plat.crypto->sha256_finish(plat.crypto->ctx, &sha, out) == 0 ? 0 : -1;
}

int Fota::begin(const FotaOptions &o)
{
    struct fota_arduino_platform plat;
    char detail[160] = "";
    int r = fota_arduino_platform_init(&plat, detail, sizeof detail);
    if (r < 0) {
        log_msg(NULL, FOTA_LOG_ERROR, detail);
        return r;
    }
    if (detail[0]) /* the port noticed something at boot */
        log_msg(NULL, FOTA_LOG_WARN, detail);
    if (o.dataPartition &&
        (r = fota_arduino_data_partition(o.dataPartition, detail, sizeof detail)) < 0) {
        log_msg(NULL, FOTA_LOG_ERROR, detail);
        return r;
    }
    uint8_t mac[6];
    fota_arduino_station_mac(mac);
    snprintf(_mac, sizeof _mac, "%02X%02X%02X%02X%02X%02X", mac[0], mac[1], mac[2], mac[3],
             mac[4], mac[5]);
    _userPreUpdate = o.preUpdate;
    _userEvent = o.onEvent;
    _userCtx = o.ctx;

    memset(&_cfg, 0, sizeof _cfg);
    _cfg.product = o.product;
    _cfg.chip = plat.chip;
    _cfg.version_code = o.versionCode;
    _cfg.version = o.version;
    _cfg.manifest_url = o.manifestUrl;
    _cfg.mac = _mac;
    _cfg.device_id = o.deviceId;
    if (running_image_sha256(plat, _rx, sizeof _rx, _imageSha256) == 0)
        _cfg.image_sha256 = _imageSha256;
    _cfg.pubkeys = o.pubkeys;
    _cfg.n_pubkeys = o.nPubkeys;
    _cfg.flash = plat.flash;
    _cfg.boot = plat.boot;
    _cfg.transports[0] = &_transport;
    _cfg.n_transports = 1;
    _cfg.crypto = plat.crypto;
    _cfg.state_addr = plat.state_addr;
    _cfg.state_size = plat.state_size;
    _cfg.ctx = this;
    _cfg.now_ms = now_ms;
    _cfg.delay_ms = delay_ms;
    _cfg.random = random_u32;
    _cfg.log = log_msg;
    _cfg.pre_update = pre_update;
    _cfg.event = on_event;

    _buffers.rx = _rx;
    _buffers.rx_size = sizeof _rx;
    _buffers.line = _line;
    _buffers.line_size = sizeof _line;
    _buffers.url = _url;
    _buffers.url_size = sizeof _url;
    _buffers.manifest = _manifest;
    _buffers.manifest_size = sizeof _manifest;
#if FOTA_DELTA
    _buffers.delta = &_delta; /* patches from the running sketch (docs/delta.md) */
    _buffers.delta_out = _deltaOut;
    _buffers.delta_out_size = sizeof _deltaOut;
#else
    _buffers.delta = nullptr; /* full images only (FOTA_DELTA 0: Fota.h says why) */
    _buffers.delta_out = nullptr;
    _buffers.delta_out_size = 0;
#endif
    return fota_init(&_agent, &_cfg, &_buffers);
}

int Fota::check()
{
    if (!_agent.cfg)
        return FOTA_ERR_INVALID_ARG;
    return fota_run(&_agent);
}

int Fota::confirm()
{
    return fota_confirm(&_agent);
}

int Fota::rollback()
{
    return fota_rollback(&_agent);
}

int Fota::state() const
{
    return fota_running_state(&_agent);
}

const char *Fota::lastMessage() const
{
    return fota_last_message(&_agent);
}

const char *Fota::manifestVersion() const
{
    return fota_last_manifest(&_agent)->version;
}

void Fota::restart()
{
    ESP.restart();
}
