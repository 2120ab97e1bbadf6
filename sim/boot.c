/*
 * Boot control and the simulated bootloader, modelled on ESP-IDF's
 * (components/bootloader_support with CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE).
 * The boot data lives in a journaled record (otadata), so every change of
 * the boot slot or of a slot's state is one atomic append.
 */
#include <stdio.h>
#include <string.h>

#include "fota/esp_image.h"
#include "boot.h"

void sim_layout_default(struct sim_layout *l, uint32_t slot_size,
                               uint32_t sector_size)
{
    /* As an ESP-IDF two-OTA table: otadata, a data partition for the agent,
     * then the slots on 64 KiB boundaries. */
    uint32_t align = 0x10000;
    memset(l, 0, sizeof *l);
    l->otadata_addr = 0;
    l->otadata_size = 2 * sector_size;
    l->state_addr = l->otadata_size;
    l->state_size = 2 * sector_size;
    uint32_t slot = (slot_size + align - 1) / align * align;
    uint32_t first = (l->state_addr + l->state_size + align - 1) / align * align;
    l->slot_addr[0] = first;
    l->slot_addr[1] = first + slot;
    l->slot_size = slot;
    l->flash_size = first + 2 * slot;
}

int sim_layout_add_data(struct sim_layout *l, const char *label, uint32_t size)
{
    uint32_t align = 0x10000;
    size_t n = label ? strlen(label) : 0;
    if (n == 0 || n >= sizeof l->data_label || size == 0 || size > (64u << 20))
        return -1;
    memcpy(l->data_label, label, n + 1);
    l->data_addr = (l->flash_size + align - 1) / align * align;
    l->data_size = (size + align - 1) / align * align;
    l->flash_size = l->data_addr + l->data_size;
    return 0;
}

static const char *state_name(uint32_t s)
{
    static const char *names[] = {"new", "pending-verify", "valid", "aborted", "undefined"};
    return s < 5 ? names[s] : "?";
}

static int save(struct sim_boot *b)
{
    return fota_record_save(&b->otadata, &b->data);
}

static int boot_running(void *ctx, int *slot, int *state)
{
    struct sim_boot *b = ctx;
    if (b->running < 0)
        return FOTA_ERR_BOOT;
    *slot = b->running;
    *state = (int)b->data.state[b->running];
    return 0;
}

static int boot_slot_info(void *ctx, int slot, struct fota_slot *out)
{
    struct sim_boot *b = ctx;
    if (slot < 0 || slot > 1)
        return FOTA_ERR_INVALID_ARG;
    out->addr = b->layout.slot_addr[slot];
    out->size = b->layout.slot_size;
    return 0;
}

static int boot_set_next(void *ctx, int slot)
{
    struct sim_boot *b = ctx;
    if (slot < 0 || slot > 1 || slot == b->running)
        return FOTA_ERR_INVALID_ARG;
    struct sim_bootdata old = b->data;
    b->data.active = (uint32_t)slot;
    b->data.state[slot] = FOTA_IMG_NEW;
    int r = save(b);
    if (r < 0)
        b->data = old;
    return r < 0 ? r : 0; /* FOTA_ERR_FLASH_*: the caller names the step */
}

static int boot_confirm(void *ctx)
{
    struct sim_boot *b = ctx;
    if (b->running < 0)
        return FOTA_ERR_BOOT;
    if (b->data.state[b->running] == FOTA_IMG_VALID)
        return 0;
    uint32_t old = b->data.state[b->running];
    b->data.state[b->running] = FOTA_IMG_VALID;
    int r = save(b);
    if (r < 0)
        b->data.state[b->running] = old;
    return r < 0 ? r : 0;
}

static int boot_rollback(void *ctx)
{
    struct sim_boot *b = ctx;
    if (b->running < 0)
        return FOTA_ERR_BOOT;
    struct sim_bootdata old = b->data;
    b->data.state[b->running] = FOTA_IMG_ABORTED;
    b->data.active = (uint32_t)(1 - b->running);
    int r = save(b);
    if (r < 0)
        b->data = old;
    return r < 0 ? r : 0;
}

static int boot_slot_state(void *ctx, int slot, int *state)
{
    struct sim_boot *b = ctx;
    if (slot < 0 || slot > 1)
        return FOTA_ERR_INVALID_ARG;
    *state = (int)b->data.state[slot];
    return 0;
}

static int boot_data_partition(void *ctx, const char *label, struct fota_slot *out)
{
    struct sim_boot *b = ctx;
    if (b->layout.data_size == 0 || strcmp(label, b->layout.data_label) != 0)
        return FOTA_ERR_NOT_SUPPORTED;
    out->addr = b->layout.data_addr;
    out->size = b->layout.data_size;
    return 0;
}

int sim_boot_init(struct sim_boot *b, struct sim_flash *flash,
                         const struct sim_layout *layout, const struct fota_crypto *crypto)
{
    memset(b, 0, sizeof *b);
    b->layout = *layout;
    b->crypto = crypto;
    b->running = -1;
    b->iface.ctx = b;
    b->iface.running = boot_running;
    b->iface.slot_info = boot_slot_info;
    b->iface.set_next = boot_set_next;
    b->iface.confirm = boot_confirm;
    b->iface.rollback = boot_rollback;
    b->iface.slot_state = boot_slot_state;
    b->iface.data_partition = boot_data_partition;
    return fota_record_init(&b->otadata, &flash->iface, layout->otadata_addr,
                            layout->otadata_size, sizeof b->data);
}

/* A slot is bootable when it holds a complete, valid ESP image: an ESP32
 * application with its appended hash, or an Arduino ESP8266 .bin whose
 * checksums (and flash CRC, from core 2.7.0 on) hold. */
static int slot_bootable(struct sim_boot *b, uint32_t slot)
{
    const struct sim_flash *f = b->otadata.flash->ctx;
    struct fota_esp_verify v;
    struct fota_esp8266_bin bin;
    const uint8_t *img = f->mem + b->layout.slot_addr[slot];
    if (fota_esp8266_bin_check(img, b->layout.slot_size, &bin) == 0)
        return bin.eboot.checksum_ok && bin.checksum_ok &&
               (!bin.has_crc || (bin.crc_ok && bin.length_ok));
    if (fota_esp_image_verify(img, b->layout.slot_size, b->crypto, &v) < 0)
        return 0;
    return v.checksum_ok && v.hash_ok;
}

int sim_bootloader(struct sim_boot *b)
{
    int dirty = 0;
    b->running = -1;
    if (fota_record_load(&b->otadata, &b->data) < 0 || b->data.active > 1 ||
        b->data.state[0] > FOTA_IMG_UNDEFINED || b->data.state[1] > FOTA_IMG_UNDEFINED) {
        /* blank otadata, as on a freshly flashed device: factory slot 0 */
        b->data.active = 0;
        b->data.state[0] = FOTA_IMG_UNDEFINED;
        b->data.state[1] = FOTA_IMG_UNDEFINED;
    }
    uint32_t s = b->data.active;
    char why[96] = "";

    if (b->data.state[s] == FOTA_IMG_PENDING_VERIFY) {
        /* booted before and never confirmed: roll back */
        snprintf(why, sizeof why, "slot %u was never confirmed: rolled back; ", (unsigned)s);
        b->data.state[s] = FOTA_IMG_ABORTED;
        s = 1 - s;
        b->data.active = s;
        dirty = 1;
    } else if (b->data.state[s] == FOTA_IMG_ABORTED) {
        s = 1 - s;
        b->data.active = s;
        dirty = 1;
    }
    if (!slot_bootable(b, s) || b->data.state[s] == FOTA_IMG_ABORTED) {
        uint32_t other = 1 - s;
        size_t n = strlen(why);
        snprintf(why + n, sizeof why - n, "slot %u holds no valid image; ", (unsigned)s);
        if (b->data.state[s] != FOTA_IMG_ABORTED && b->data.state[s] != FOTA_IMG_UNDEFINED)
            b->data.state[s] = FOTA_IMG_ABORTED;
        if (b->data.state[other] == FOTA_IMG_ABORTED || !slot_bootable(b, other)) {
            snprintf(b->message, sizeof b->message, "%sno bootable image in either slot", why);
            return SIM_NO_IMAGE;
        }
        s = other;
        b->data.active = s;
        dirty = 1;
    }
    if (b->data.state[s] == FOTA_IMG_NEW) {
        b->data.state[s] = FOTA_IMG_PENDING_VERIFY; /* first boot of a new image */
        dirty = 1;
    }
    /* A failed save leaves the old record, which the next boot redoes. */
    if (dirty)
        save(b);
    b->running = (int)s;
    snprintf(b->message, sizeof b->message, "%sbooting slot %u (%s)", why, (unsigned)s,
             state_name(b->data.state[s]));
    return SIM_BOOTED;
}
