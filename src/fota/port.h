/*
 * The port's interfaces: what a platform gives the fota core. Each is a
 * struct of callbacks with a context pointer `ctx` passed as their first
 * argument, so one platform can have several instances (two flash chips,
 * WiFi and a modem) and a callback finds its own state without globals.
 *
 *   struct fota_flash      raw NOR flash by absolute address
 *   struct fota_boot       two application slots and the trial boot
 *   struct fota_transport  a network link (plain TCP, TLS layered on it)
 *   fota_now_ms_fn         the clock: monotonic milliseconds
 *   struct fota_crypto     SHA-256 and ECDSA P-256 verification
 *
 * Leaf modules (the record store, drivers) include this header alone; the
 * agent's configuration (fota/fota.h) points at these. Every callback
 * returns 0 (or a count) or a negative FOTA_ERR_* code (fota/error.h).
 */
#ifndef FOTA_PORT_H
#define FOTA_PORT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Raw flash, by absolute address. write: addr and len are multiples of
 * write_size; erase: addr and len are multiples of sector_size. Return 0 or a
 * negative code (FOTA_ERR_FLASH_*). An erase of block_size bytes at a
 * block_size-aligned address must be one block erase of the chip (ESP-IDF's
 * esp_partition_erase_range does that), which costs about what three or four
 * sector erases do: the slot writer erases in blocks wherever it can. */
struct fota_flash {
    void *ctx;
    int (*read)(void *ctx, uint32_t addr, void *buf, uint32_t len);
    int (*write)(void *ctx, uint32_t addr, const void *buf, uint32_t len);
    int (*erase)(void *ctx, uint32_t addr, uint32_t len);
    uint32_t sector_size; /* erase unit, e.g. 4096 */
    uint32_t write_size;  /* program unit, 1..FOTA_WRITE_SIZE_MAX, power of two */
    uint32_t block_size;  /* largest erase unit, a multiple of sector_size (ESP32:
                             65536); 0 or sector_size: sectors only */
};
#define FOTA_WRITE_SIZE_MAX 32

/* State of an application slot, as in ESP-IDF's esp_ota_img_states_t. */
enum fota_img_state {
    FOTA_IMG_NEW = 0,            /* written and selected, never booted */
    FOTA_IMG_PENDING_VERIFY = 1, /* booted once, waiting for fota_confirm() */
    FOTA_IMG_VALID = 2,          /* confirmed */
    FOTA_IMG_ABORTED = 3,        /* rolled back: never boot again */
    FOTA_IMG_UNDEFINED = 4,      /* factory image / no state recorded */
};

struct fota_slot {
    uint32_t addr;
    uint32_t size;
};

/* Boot control: two application slots, 0 and 1. */
struct fota_boot {
    void *ctx;
    /* Which slot runs now, and its state (enum fota_img_state). */
    int (*running)(void *ctx, int *slot, int *state);
    /* Where slot `slot` lives in flash. */
    int (*slot_info)(void *ctx, int slot, struct fota_slot *out);
    /* Boot `slot` on the next reset, once, as pending-verify: if it resets
     * again before confirm() the bootloader returns to the current slot. */
    int (*set_next)(void *ctx, int slot);
    /* The running slot is healthy: mark it valid (cancels rollback). */
    int (*confirm)(void *ctx);
    /* Mark the running slot aborted and select the other one; the caller
     * reboots. NULL when the platform cannot roll back (ESP8266: eboot
     * overwrites the old sketch): fota_rollback() then returns
     * FOTA_ERR_NOT_SUPPORTED, and an unconfirmed image does not stop
     * fota_start() (nothing would ever end its "pending"). */
    int (*rollback)(void *ctx);
    /* Optional (NULL if the platform cannot tell): the state of any slot.
     * Lets the agent tell an image the bootloader rolled back from an
     * activation that a power cut interrupted. */
    int (*slot_state)(void *ctx, int slot, int *state);
    /* Optional (NULL: this device takes no data images): where the data
     * partition `label` (LittleFS, SPIFFS, FAT) lives, sector-aligned. A
     * release with a data image for a label this does not know is refused
     * before anything is erased (docs/data-partitions.md). */
    int (*data_partition)(void *ctx, const char *label, struct fota_slot *out);
};

/* A network link. connect() opens host:port (TLS when `tls`); recv() returns
 * the number of bytes (> 0), 0 when the peer closed the connection, or a
 * negative code (FOTA_ERR_TIMEOUT when nothing arrived in time); send()
 * returns the bytes written (> 0) or a negative code. Errors from connect()
 * must say which step failed: FOTA_ERR_DNS, FOTA_ERR_CONNECT_REFUSED,
 * FOTA_ERR_CONNECT_TIMEOUT, FOTA_ERR_TLS_*, FOTA_ERR_LINK. */
struct fota_transport {
    const char *name; /* "wifi", "ethernet", "gsm", ... */
    void *ctx;
    int (*connect)(void *ctx, const char *host, uint16_t port, int tls, uint32_t timeout_ms);
    int (*send)(void *ctx, const uint8_t *buf, size_t len, uint32_t timeout_ms);
    int (*recv)(void *ctx, uint8_t *buf, size_t len, uint32_t timeout_ms);
    void (*close)(void *ctx);
    /* Optional: a short text with the transport's own detail about the last
     * failure (resolver message, TLS alert, modem reply). May return NULL. */
    const char *(*detail)(void *ctx);
};

/* The clock: monotonic milliseconds, wrapping at 2^32, called with the ctx
 * of the configuration that carries it (struct fota_config's now_ms, the
 * modem driver's config), like every other callback here. */
typedef uint32_t (*fota_now_ms_fn)(void *ctx);

/* ---- Crypto ---------------------------------------------------------------- */

#define FOTA_SHA256_CTX_SIZE 256 /* >= mbedtls_sha256_context and br_sha256_context */
#define FOTA_P256_PUBKEY_SIZE 65 /* uncompressed point: 0x04 || X || Y */
#define FOTA_P256_SIG_SIZE 64    /* r || s, big-endian */

/* A SHA-256 computation's state: storage inside the caller's struct
 * (aligned for any backend), so no backend allocates. */
struct fota_sha256 {
    union {
        uint64_t align_u64;
        void *align_ptr;
        uint8_t bytes[FOTA_SHA256_CTX_SIZE];
    } u;
};

/* SHA-256 and ECDSA P-256 verification. Backends: ports/crypto/ (mbedTLS,
 * BearSSL), ports/arduino (the core's own BearSSL on ESP8266). */
struct fota_crypto {
    void *ctx;
    int (*sha256_start)(void *ctx, struct fota_sha256 *sha);
    int (*sha256_update)(void *ctx, struct fota_sha256 *sha, const void *data, size_t len);
    int (*sha256_finish)(void *ctx, struct fota_sha256 *sha, uint8_t out[32]);
    /* 0 when the signature over `hash` verifies with `pubkey`,
     * FOTA_ERR_SIGNATURE when it does not, FOTA_ERR_CRYPTO on backend failure. */
    int (*p256_verify)(void *ctx, const uint8_t pubkey[FOTA_P256_PUBKEY_SIZE],
                       const uint8_t hash[32], const uint8_t sig[FOTA_P256_SIG_SIZE]);
};

#ifdef __cplusplus
}
#endif
#endif
