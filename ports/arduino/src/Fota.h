/*
 * fota for Arduino (ESP8266 and ESP32 cores): the C agent plus a thin
 * adapter so that any Arduino Client carries the traffic (WiFiClient,
 * WiFiClientSecure, EthernetClient, TinyGsmClient, ...).
 *
 *   #include <Fota.h>
 *   #include "fota-signing.pub.h"       // fota keygen -o fota-signing
 *   FOTA_ENABLE_ROLLBACK();              // ESP32: keep new images pending until confirm()
 *   WiFiClient net;
 *   Fota fota(net);
 *   setup(): fota.begin({"demo-board", "1.2.0", 1002000, "http://host/fw/{mac}/manifest",
 *                        &fota_pubkey, 1});
 *            ...health check... fota.confirm();
 *   loop():  if (fota.check() == FOTA_UPDATE_READY) Fota::restart();
 *
 * ESP8266: the image is staged at the end of the free flash, as the core's
 * Updater does, and eboot copies it over the sketch at the next boot.
 * eboot overwrites the old sketch, so there is no rollback on ESP8266:
 * rollback() returns FOTA_ERR_NOT_SUPPORTED, and an image that is not
 * confirmed does not stop later updates. The agent's state takes the last
 * two sectors before the file system, the boot record two more. The
 * signature check runs on the core's second stack (StackThunk, 6200 bytes
 * of heap, shared with BearSSL's TLS clients).
 * ESP32: the OTA partitions and ESP-IDF's rollback states.
 */
#ifndef FOTA_ARDUINO_H
#define FOTA_ARDUINO_H

#include <Arduino.h>
#include <Client.h>

#include "fota/fota.h"

#ifndef FOTA_RX_BUFFER_SIZE
#if defined(ARDUINO_ARCH_ESP8266)
#define FOTA_RX_BUFFER_SIZE 1024 /* an ESP8266 has about 40 KB of heap */
#else
#define FOTA_RX_BUFFER_SIZE 2048
#endif
#endif
/* A release behind a GitHub or S3 link redirects to a signed URL of up to
 * 2,048 bytes: the URL buffer holds it, the manifest buffer doubles as the
 * Location buffer, and the line buffer holds the request for it (docs/agent.md). */
#ifndef FOTA_LINE_BUFFER_SIZE
#define FOTA_LINE_BUFFER_SIZE 2816
#endif
#ifndef FOTA_URL_BUFFER_SIZE
#define FOTA_URL_BUFFER_SIZE 2080
#endif
#ifndef FOTA_MANIFEST_BUFFER_SIZE
#define FOTA_MANIFEST_BUFFER_SIZE 2080
#endif
/* Patches and compressed images (docs/delta.md): the decoder's 8,000 bytes
 * (struct fota_delta) and its output buffer, with the running sketch as the
 * patch's base. On by default on ESP32 (hundreds of KB of heap). Off on
 * ESP8266: a sketch has about 40 KB of free heap, BearSSL takes about 22-24 KB
 * per TLS request and the agent's buffers about 8 KB, so 8.5 KB more leaves
 * no margin; a sketch on plain HTTP (or one that measured its heap) turns it
 * on with #define FOTA_DELTA 1 before #include <Fota.h>. */
#ifndef FOTA_DELTA
#if defined(ARDUINO_ARCH_ESP8266)
#define FOTA_DELTA 0
#else
#define FOTA_DELTA 1
#endif
#endif
#ifndef FOTA_DELTA_OUT_SIZE
#define FOTA_DELTA_OUT_SIZE 512 /* decoder output on its way to flash (>= 256) */
#endif

/* ESP32: the Arduino core marks every new image valid before setup() unless
 * the sketch overrides the weak `bool verifyRollbackLater()`. The library's
 * ESP32 port defines it (returning true: the image stays pending-verify until
 * confirm()), in the object that also holds the port, so it is linked with
 * the Fota class even from a static library (PlatformIO). FOTA_ENABLE_ROLLBACK()
 * in the sketch makes that link explicit. Do not define verifyRollbackLater()
 * in the sketch as well. On ESP8266 the macro does nothing. */
#if defined(ARDUINO_ARCH_ESP32)
extern "C" const int fota_arduino_rollback_anchor;
#define FOTA_ENABLE_ROLLBACK()                                                             \
    static const int *const fota_arduino_rollback_ref __attribute__((used)) =             \
        &fota_arduino_rollback_anchor
#else
#define FOTA_ENABLE_ROLLBACK() static_assert(true, "no rollback on ESP8266")
#endif

struct FotaOptions {
    const char *product;       /* must equal the manifest's product */
    const char *version;       /* running firmware, for logs */
    uint32_t versionCode;      /* running firmware, compared with the manifest */
    const char *manifestUrl;   /* "{mac}" becomes the station MAC, 12 hex digits */
    const uint8_t (*pubkeys)[FOTA_P256_PUBKEY_SIZE];
    size_t nPubkeys;
    int (*preUpdate)(void *ctx); /* detach interrupts, stop peripherals; != 0 aborts */
    /* Milestones (enum fota_event: checking, activated, confirmed, failed ...),
     * e.g. to report status to a server. Optional. */
    void (*onEvent)(void *ctx, int event, const struct fota *f);
    void *ctx;                   /* passed to preUpdate and onEvent */
    /* Check-in (docs/fleet.md): the id a fleet server knows this device by;
     * NULL: the station MAC. Optional. */
    const char *deviceId;
    /* Data partition (docs/data-partitions.md): the label of the file-system
     * partition a release may rewrite ("spiffs", "ffat", "littlefs" in the
     * ESP32 cores' tables). ESP32 only; NULL: none (a release with a data
     * image is then refused). Optional. */
    const char *dataPartition;
};

/* State of one Client used as a fota transport (C callbacks into C++). */
struct FotaClientLink {
    Client *plain;   /* http:// */
    Client *secure;  /* https:// (the same object when only one was given) */
    Client *active;
    char detail[64];
};

class Fota {
  public:
    /* http:// and https:// through one client (for https it must be a TLS
     * client such as WiFiClientSecure / BearSSL::WiFiClientSecure). */
    explicit Fota(Client &client);
    /* http:// through `plain`, https:// through `secure`. */
    Fota(Client &plain, Client &secure);

    /* Sets up the port and loads the agent's state. 0 or FOTA_ERR_*. */
    int begin(const FotaOptions &options);
    /* One check and, when newer, the update (retries with backoff). Returns
     * FOTA_NO_UPDATE, FOTA_UPDATE_READY (call restart()) or FOTA_ERR_*. */
    int check();
    /* The running image is healthy: stop the rollback. */
    int confirm();
    /* The running image is not healthy: back to the previous one (ESP32);
     * restart() afterwards. */
    int rollback();
    /* FOTA_IMG_PENDING_VERIFY on the first boot of a new image. */
    int state() const;
    /* The data partition may be mounted (no image is being written to it);
     * while false, dataFinish() completes an interrupted copy from flash. */
    bool dataReady(const char *label) const { return fota_data_ready(&_agent, label) == 1; }
    int dataFinish() { return fota_data_finish(&_agent); }
    const char *lastMessage() const;
    const char *manifestVersion() const;
    struct fota &agent() { return _agent; }
    static void restart();

    /* Called by the C port; public for it only. */
    int preUpdate();
    void forwardEvent(int event);

  private:
    struct fota _agent;
    struct fota_config _cfg;
    struct fota_buffers _buffers;
    struct fota_transport _transport;
    FotaClientLink _link;
    int (*_userPreUpdate)(void *ctx);
    void (*_userEvent)(void *ctx, int event, const struct fota *f);
    void *_userCtx;
    char _mac[13];
    uint8_t _imageSha256[32]; /* running image, for the check-in */
    uint8_t _rx[FOTA_RX_BUFFER_SIZE];
    char _line[FOTA_LINE_BUFFER_SIZE];
    char _url[FOTA_URL_BUFFER_SIZE];
    char _manifest[FOTA_MANIFEST_BUFFER_SIZE];
#if FOTA_DELTA
    struct fota_delta _delta;
    uint8_t _deltaOut[FOTA_DELTA_OUT_SIZE];
#endif
};

/* Platform ports (fota_arduino_esp8266.cpp / fota_arduino_esp32.cpp). */
struct fota_arduino_platform {
    const struct fota_flash *flash;
    const struct fota_boot *boot;
    const struct fota_crypto *crypto;
    int chip;
    uint32_t state_addr;
    uint32_t state_size;
};
int fota_arduino_platform_init(struct fota_arduino_platform *out, char *detail, size_t size);
/* Let releases rewrite the data partition `label`. 0 or FOTA_ERR_*. */
int fota_arduino_data_partition(const char *label, char *detail, size_t size);
void fota_arduino_station_mac(uint8_t mac[6]);
/* Where the running image is in flash and how long it is (as released), for
 * its SHA-256 in the check-in. 0 or a negative FOTA_ERR_*. */
int fota_arduino_running_image(uint32_t *addr, uint32_t *len);

#endif
