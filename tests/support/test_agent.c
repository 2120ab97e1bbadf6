/* The device for the agent's C tests: see test_agent.h. */
#include "test_agent.h"

#include <stdio.h>
#include <string.h>

#include "fota/esp_image.h"
#include "test_image.h"

static struct agent_world *counting; /* the world whose flash is counted */

static int region_slot(const struct agent_world *w, uint32_t addr)
{
    for (int s = 0; s < 2; s++)
        if (addr >= w->layout.slot_addr[s] && addr < w->layout.slot_addr[s] + w->layout.slot_size)
            return s;
    return -1;
}

static int counted_write(void *ctx, uint32_t addr, const void *buf, uint32_t len)
{
    struct agent_world *w = counting;
    int s = region_slot(w, addr);
    if (s >= 0)
        w->slot_writes[s]++;
    else if (addr >= w->layout.state_addr && addr < w->layout.state_addr + w->layout.state_size)
        w->state_writes++;
    return w->flash.iface.write(ctx, addr, buf, len);
}

static int counted_erase(void *ctx, uint32_t addr, uint32_t len)
{
    struct agent_world *w = counting;
    int s = region_slot(w, addr);
    if (s >= 0)
        w->slot_erases[s]++;
    return w->flash.iface.erase(ctx, addr, len);
}

static uint32_t world_random(void *ctx)
{
    const struct agent_world *w = ctx;
    return w->random_value;
}

static void world_log(void *ctx, int level, const char *msg)
{
    struct agent_world *w = ctx;
    (void)level;
    snprintf(w->last_log, sizeof w->last_log, "%s", msg);
}

static void world_event(void *ctx, int event, const struct fota *f)
{
    struct agent_world *w = ctx;
    if (w->n_events < AW_MAX_EVENTS) {
        struct aw_event *e = &w->events[w->n_events++];
        e->event = event;
        e->error = fota_last_error(f);
        e->at_ms = w->clock.now;
    }
}

static int world_pre_update(void *ctx)
{
    struct agent_world *w = ctx;
    w->pre_update_calls++;
    return w->pre_update_result;
}

static const struct fota_crypto *image_crypto;

size_t aw_build_image(uint8_t *buf, size_t cap, const char *version, uint16_t chip_id,
                      uint32_t seed)
{
    return test_image_build(buf, cap, chip_id, version, "demo", 0, AW_IMAGE_FILLER, seed,
                            image_crypto);
}

void aw_setup(struct agent_world *w, const struct fota_crypto *crypto)
{
    static uint8_t mem[AW_FLASH];
    memset(w, 0, sizeof *w);
    counting = w;
    image_crypto = w->crypto = crypto;
    w->clock.now = 1000;
    w->random_value = 0x12345678u;
    sim_layout_default(&w->layout, AW_SLOT, AW_SECTOR);
    sim_flash_open_buf(&w->flash, mem, w->layout.flash_size, AW_SECTOR, AW_WRITE_UNIT);
    w->flash.iface.block_size = AW_BLOCK; /* as ports/esp32 */
    w->counted = w->flash.iface;
    w->counted.write = counted_write;
    w->counted.erase = counted_erase;
    static uint8_t factory[AW_IMAGE_MAX]; /* built once: the tests set up many devices */
    static size_t factory_len;
    if (!factory_len)
        factory_len = aw_build_image(factory, sizeof factory, "1.0.0", 0, 1);
    memcpy(w->old_image, factory, sizeof factory);
    w->old_len = factory_len;
    sim_flash_load(&w->flash, w->layout.slot_addr[0], w->old_image, (uint32_t)w->old_len);
    mem_transport_init(&w->net, "wifi", &w->clock);
    mem_transport_init(&w->net2, "gsm", &w->clock);
    test_release_pubkey(0, w->pubkey[0]);

    struct fota_config *c = &w->cfg;
    c->product = "demo";
    c->chip = FOTA_CHIP_ESP32;
    c->manifest_url = AW_MANIFEST_URL;
    c->user_agent = "fota-test";
    c->pubkeys = (const uint8_t(*)[FOTA_P256_PUBKEY_SIZE])w->pubkey;
    c->n_pubkeys = 1;
    c->flash = &w->counted;
    c->boot = &w->boot.iface;
    c->transports[0] = &w->net.iface;
    c->n_transports = 1;
    c->crypto = w->crypto;
    c->state_addr = w->layout.state_addr;
    c->state_size = w->layout.state_size;
    c->ctx = w;
    c->now_ms = test_clock_now_ms;
    c->delay_ms = test_clock_delay_ms;
    c->random = world_random;
    c->log = world_log;
    c->event = world_event;
    c->pre_update = world_pre_update;
}

int aw_power_on(struct agent_world *w)
{
    struct fota_esp_header h;
    sim_boot_init(&w->boot, &w->flash, &w->layout, w->crypto);
    if (sim_bootloader(&w->boot) != SIM_BOOTED)
        return FOTA_ERR_BOOT;
    const uint8_t *img = w->flash.mem + w->layout.slot_addr[w->boot.running];
    if (fota_esp_header_parse(img, w->layout.slot_size, &h) < 0 || !h.has_app_desc)
        return FOTA_ERR_BOOT;
    snprintf(w->running_version, sizeof w->running_version, "%s", h.version);
    w->cfg.version = w->running_version;
    if (fota_version_code(w->running_version, strlen(w->running_version), &w->cfg.version_code) <
        0)
        return FOTA_ERR_BOOT;
    struct fota_buffers b = {w->rx, sizeof w->rx, w->line, sizeof w->line,
                             w->url, sizeof w->url, w->manifest_buf, sizeof w->manifest_buf,
                             NULL, NULL, 0}; /* no decoder: full images */
    return fota_init(&w->agent, &w->cfg, &b);
}

int aw_check(struct agent_world *w)
{
    return fota_run(&w->agent);
}

void aw_release_with(struct agent_world *w, struct test_release *r)
{
    r->image = w->image;
    r->image_len = w->image_len;
    w->manifest_len = test_release_manifest(w->manifest, sizeof w->manifest, r,
                                            w->crypto);
}

void aw_release_fields(struct test_release *r, const char *version, uint32_t sequence)
{
    static char url[64];
    snprintf(url, sizeof url, "firmware/demo-%s.bin", version);
    memset(r, 0, sizeof *r);
    r->product = "demo";
    r->chip = "esp32";
    r->version = version;
    r->sequence = sequence;
    r->url = url;
}

void aw_release(struct agent_world *w, const char *version, uint32_t security,
                uint32_t sequence)
{
    struct test_release r;
    w->image_len = aw_build_image(w->image, sizeof w->image, version, 0, 2);
    aw_release_fields(&r, version, sequence);
    r.security_counter = security;
    aw_release_with(w, &r);
}

void aw_serve(struct agent_world *w)
{
    memset(&w->origin, 0, sizeof w->origin);
    mem_origin_put(&w->origin, "/demo/manifest.txt", w->manifest, w->manifest_len, NULL);
    mem_origin_put(&w->origin, AW_IMAGE_PATH, w->image, w->image_len, NULL);
    mem_origin_attach(&w->origin, &w->net);
}

size_t aw_response(char *buf, size_t cap, const char *status, const char *headers,
                   const void *body, size_t body_len)
{
    int framed = strstr(headers, "Content-Length") || strstr(headers, "Transfer-Encoding");
    int n = framed || !body
                ? snprintf(buf, cap, "HTTP/1.1 %s\r\n%s\r\n", status, headers)
                : snprintf(buf, cap, "HTTP/1.1 %s\r\n%sContent-Length: %lu\r\n\r\n", status,
                           headers, (unsigned long)body_len);
    if (n < 0 || (size_t)n + body_len > cap)
        return 0;
    if (body_len)
        memcpy(buf + n, body, body_len);
    return (size_t)n + body_len;
}

size_t aw_conn_add(struct agent_world *w, struct mem_conn *c, const char *status,
                   const char *headers, const void *body, size_t body_len)
{
    if (!c)
        return 0;
    char *at = (char *)w->arena + w->arena_used;
    size_t n = aw_response(at, sizeof w->arena - w->arena_used, status, headers, body, body_len);
    if (n == 0)
        return 0;
    w->arena_used += n;
    mem_conn_respond(c, at, n);
    return n;
}

struct mem_conn *aw_conn(struct agent_world *w, const char *status, const char *headers,
                         const void *body, size_t body_len)
{
    struct mem_conn *c = mem_add(&w->net);
    if (c && aw_conn_add(w, c, status, headers, body, body_len) == 0)
        return NULL;
    return c;
}

struct mem_conn *aw_conn_manifest(struct agent_world *w)
{
    return aw_conn(w, "200 OK", "Connection: close\r\n", w->manifest, w->manifest_len);
}

struct mem_conn *aw_conn_image(struct agent_world *w)
{
    return aw_conn(w, "200 OK", "Connection: close\r\n", w->image, w->image_len);
}

size_t aw_head_len(const struct mem_conn *c)
{
    const uint8_t *r = c->resp[0].head;
    for (size_t i = 0; i + 3 < c->resp[0].head_len; i++)
        if (memcmp(r + i, "\r\n\r\n", 4) == 0)
            return i + 4;
    return 0;
}

size_t aw_count_events(const struct agent_world *w, int event)
{
    size_t n = 0;
    for (size_t i = 0; i < w->n_events; i++)
        n += w->events[i].event == event;
    return n;
}

static const struct aw_event *nth_retry(const struct agent_world *w, size_t n)
{
    for (size_t i = 0; i < w->n_events; i++)
        if (w->events[i].event == FOTA_EV_RETRYING && n-- == 0)
            return &w->events[i];
    return NULL;
}

int aw_retry_error(const struct agent_world *w, size_t n)
{
    const struct aw_event *e = nth_retry(w, n);
    return e ? e->error : 1;
}

uint32_t aw_retry_at(const struct agent_world *w, size_t n)
{
    const struct aw_event *e = nth_retry(w, n);
    return e ? e->at_ms : 0;
}

int aw_slot_holds(const struct agent_world *w, int slot, const uint8_t *data, size_t len)
{
    return memcmp(w->flash.mem + w->layout.slot_addr[slot], data, len) == 0;
}
