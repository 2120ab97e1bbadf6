/*
 * What people do today (check BASE/<MAC>.version every N minutes, detach
 * interrupts, flash BASE/<MAC>.bin), but with a signed manifest, resume,
 * a health check that confirms the new image, and rollback on ESP32.
 *
 *   fota keygen -o fota-signing          # in this folder: replaces the demo key header
 *   fota release --key fota-signing.key --product demo-board --version 2019081901 \
 *       --version-code 2019081901 --device <MAC> --out www FotaBasic.ino.bin
 *                                        # writes www/demo-board/<MAC>/manifest.txt:
 *                                        # serve www/ at BASE (fota serve www)
 *
 * ESP32: the partition scheme needs app0/app1 and a "fota_state" data
 * partition (partitions.csv next to this sketch).
 */
#include <Fota.h>
#if defined(ARDUINO_ARCH_ESP8266)
#include <ESP8266WiFi.h>
#else
#include <WiFi.h>
#endif

#include "fota-signing.pub.h" /* static const uint8_t fota_pubkey[65]; ships as a demo key */

FOTA_ENABLE_ROLLBACK(); /* ESP32: new images stay pending until fota.confirm() */

#define WIFI_SSID "your-ssid"
#define WIFI_PASSWORD "your-password"
#define BASE "http://192.168.1.10:8080"
#define PRODUCT "demo-board"
#define FIRMWARE_VERSION "2019081901" /* shown in logs */
/* What devices compare: a number that only grows from build to build (a CI
 * build number, or the build's date as before), released with the same
 * --version-code. Never derived from the version text. */
#define FIRMWARE_VERSION_CODE 2019081901u
#define CHECK_EVERY_MS (15UL * 60UL * 1000UL)
#define BUTTON_PIN 0

static WiFiClient net; /* or WiFiClientSecure, EthernetClient, TinyGsmClient */
static Fota fota(net);
static volatile uint32_t presses;
static uint32_t last_check;

static void IRAM_ATTR on_button()
{
    presses++;
}

/* Before the first flash erase: no interrupt handler may run from flash. */
static int before_update(void *ctx)
{
    (void)ctx;
    detachInterrupt(digitalPinToInterrupt(BUTTON_PIN));
    Serial.println("update: interrupts detached");
    return 0;
}

static bool healthy()
{
    /* The application's own checks: network up, sensors answer, ... */
    return WiFi.status() == WL_CONNECTED;
}

void setup()
{
    Serial.begin(115200);
#ifdef FOTA_DEMO_PUBKEY
    Serial.println("fota: WARNING: built with the DEMO public key (fota-signing.pub.h): no update "
                   "can be signed for it; run `fota keygen -o fota-signing` in the sketch folder");
#endif
    pinMode(BUTTON_PIN, INPUT_PULLUP);
    attachInterrupt(digitalPinToInterrupt(BUTTON_PIN), on_button, FALLING);
    WiFi.mode(WIFI_STA);
    WiFi.begin(WIFI_SSID, WIFI_PASSWORD);
    for (int i = 0; i < 60 && WiFi.status() != WL_CONNECTED; i++)
        delay(500);

    FotaOptions options = {};
    options.product = PRODUCT;
    options.version = FIRMWARE_VERSION;
    options.versionCode = FIRMWARE_VERSION_CODE;
    options.manifestUrl = BASE "/" PRODUCT "/{mac}/manifest.txt"; /* fota release --device */
    options.pubkeys = &fota_pubkey;
    options.nPubkeys = 1;
    options.preUpdate = before_update;
    int r = fota.begin(options);
    if (r != 0)
        Serial.printf("fota: %s: %s\n", fota_strerror(r), fota.lastMessage());

    /* Not confirmed yet: PENDING_VERIFY with rollback, NEW under a bootloader
     * without rollback, UNDEFINED with rollback off (or on ESP8266). Each
     * needs the confirm, which also raises the anti-rollback floor. */
    if (fota.state() != FOTA_IMG_VALID) {
        Serial.println("running an unconfirmed version: health check");
        if (healthy()) {
            r = fota.confirm();
            Serial.printf("confirm: %s\n", r == 0 ? "ok" : fota.lastMessage());
        } else if (fota.rollback() == 0) {
            Serial.println("unhealthy: rolling back");
            Fota::restart();
        } else {
            Serial.println("unhealthy, and no rollback on this chip");
        }
    }
    last_check = millis() - CHECK_EVERY_MS + 10000; /* first check after 10 s */
}

void loop()
{
    if (millis() - last_check >= CHECK_EVERY_MS) {
        last_check = millis();
        int r = fota.check();
        if (r == FOTA_UPDATE_READY) {
            Serial.printf("version %s installed: restarting\n", fota.manifestVersion());
            delay(200);
            Fota::restart();
        } else if (r == FOTA_NO_UPDATE) {
            Serial.println("no update");
        } else if (r < 0) {
            /* names the step and the cause: DNS, refused, HTTP 500 at URL, ... */
            Serial.printf("update check failed: %s: %s\n", fota_strerror(r), fota.lastMessage());
            attachInterrupt(digitalPinToInterrupt(BUTTON_PIN), on_button, FALLING);
        }
    }
    delay(100);
}
