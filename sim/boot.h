/*
 * Boot control and a simulated second-stage bootloader, modelled on
 * ESP-IDF's with rollback enabled, on an "otadata" region (a journaled
 * record: see include/fota/record.h) of the simulated flash.
 */
#ifndef SIM_BOOT_H
#define SIM_BOOT_H

#include <stdint.h>

#include "fota/fota.h"
#include "flash.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ESP32-like layout: otadata (2 sectors), agent state (2 sectors), ota_0, ota_1. */
struct sim_layout {
    uint32_t otadata_addr, otadata_size;
    uint32_t state_addr, state_size;
    uint32_t slot_addr[2];
    uint32_t slot_size;
    uint32_t flash_size;
    /* Optional: a data partition (LittleFS, SPIFFS, FAT) after the slots;
     * data_size 0: none (docs/data-partitions.md). */
    uint32_t data_addr, data_size;
    char data_label[17];
};
void sim_layout_default(struct sim_layout *l, uint32_t slot_size,
                               uint32_t sector_size);
/* Append a data partition of `size` bytes (rounded up to 64 KiB) labelled
 * `label` (1..16 characters) after the slots. Returns 0 or -1. */
int sim_layout_add_data(struct sim_layout *l, const char *label, uint32_t size);

/* The boot data the simulated bootloader keeps in otadata. */
struct sim_bootdata {
    uint32_t active;   /* slot the bootloader boots */
    uint32_t state[2]; /* enum fota_img_state of each slot */
};

struct sim_boot {
    struct fota_boot iface;  /* give &iface to the core */
    struct sim_layout layout;
    struct fota_record_store otadata;
    struct sim_bootdata data;
    const struct fota_crypto *crypto;
    int running;             /* slot the bootloader chose; -1 before boot */
    char message[160];       /* what the bootloader did and why */
};

enum sim_boot_result {
    SIM_BOOTED = 0,      /* `running` holds the slot */
    SIM_NO_IMAGE = -1,   /* no slot holds a bootable image: bricked */
};

/* Set up boot control over `flash` (does not boot). */
int sim_boot_init(struct sim_boot *b, struct sim_flash *flash,
                         const struct sim_layout *layout, const struct fota_crypto *crypto);

/* The simulated second-stage bootloader, as ESP-IDF's with rollback enabled:
 * a NEW slot becomes PENDING_VERIFY and boots; a slot still PENDING_VERIFY
 * at boot (never confirmed) becomes ABORTED and the other slot boots; an
 * image that fails validation (ESP header, segments, checksum, appended
 * SHA-256) is never booted. Returns SIM_BOOTED or SIM_NO_IMAGE. */
int sim_bootloader(struct sim_boot *b);

#ifdef __cplusplus
}
#endif
#endif
