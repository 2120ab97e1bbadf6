/*
 * ESP8266 Arduino core glue: the core's flash, eboot command and layout for
 * the port logic in fota_esp8266_port.c, and BearSSL's signature check on the
 * core's second stack.
 */
#if defined(ARDUINO_ARCH_ESP8266)

#include <Arduino.h>
#include <ESP8266WiFi.h>
#include <StackThunk.h>
#include <eboot_command.h>
#include <flash_hal.h>

#include "Fota.h"
#include "fota_esp8266_port.h"

extern "C" const struct fota_crypto fota_crypto_bearssl;

/*
 * The signature check needs about 3.7 KB of stack with BearSSL's i15/m15
 * code (docs/targets.md, measured under QEMU by tests/target/
 * test_esp8266_stack.c), but loop() runs on the 4 KB cont stack
 * (cores/esp8266/cont.h, CONT_STACKSIZE) below loop_wrapper, the sketch's
 * loop() and Fota::check(). The core runs its own BearSSL on a second stack
 * for this reason (StackThunk.cpp, 6200 bytes from the heap, shared by every
 * user and reference counted); the verification runs there too, entered by
 * the core's make_stack_thunk (which checks the stack's canary afterwards).
 */
extern "C" int fota_esp8266_p256_verify(void *ctx, const uint8_t *pubkey, const uint8_t *hash,
                                         const uint8_t *sig);
extern "C" int thunk_fota_esp8266_p256_verify(void *ctx, const uint8_t *pubkey,
                                               const uint8_t *hash, const uint8_t *sig);

int fota_esp8266_p256_verify(void *ctx, const uint8_t *pubkey, const uint8_t *hash,
                             const uint8_t *sig)
{
    return fota_crypto_bearssl.p256_verify(ctx, pubkey, hash, sig);
}
make_stack_thunk(fota_esp8266_p256_verify);

namespace {

struct fota_esp8266_port port;
struct fota_crypto crypto;
bool stack_ref;

int hw_read(void *, uint32_t addr, void *buf, uint32_t len)
{
    return ESP.flashRead(addr, static_cast<uint8_t *>(buf), len) ? 0 : FOTA_ERR_FLASH_READ;
}

int hw_write(void *, uint32_t addr, const void *buf, uint32_t len)
{
    return ESP.flashWrite(addr, static_cast<const uint8_t *>(buf), len) ? 0
                                                                         : FOTA_ERR_FLASH_WRITE;
}

int hw_erase_sector(void *, uint32_t addr)
{
    return ESP.flashEraseSector(addr / FLASH_SECTOR_SIZE) ? 0 : FOTA_ERR_FLASH_ERASE;
}

void hw_eboot_copy(void *, uint32_t src, uint32_t size)
{
    eboot_command cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.action = ACTION_COPY_RAW; /* as Updater::end */
    cmd.args[0] = src;
    cmd.args[1] = 0x00000;
    cmd.args[2] = size;
    eboot_command_write(&cmd);
}

} // namespace

int fota_arduino_platform_init(struct fota_arduino_platform *out, char *detail, size_t size)
{
    struct fota_esp8266_hw hw;
    memset(&hw, 0, sizeof hw);
    hw.read = hw_read;
    hw.write = hw_write;
    hw.erase_sector = hw_erase_sector;
    hw.eboot_copy = hw_eboot_copy;
    hw.sketch_size = ESP.getSketchSize();
    /* FS_PHYS_ADDR, not &_FS_start: with FLASH_MAP_SUPPORT (the boards' "autoflash"
     * layouts) the file system start comes from a table, not a linker symbol. */
    hw.fs_start = FS_PHYS_ADDR;
    hw.flash_mode = (uint8_t)ESP.getFlashChipMode(); /* byte 2 of the header at 0x0 */
    hw.flash_real_size = ESP.getFlashChipRealSize();
#if FLASH_MAP_SUPPORT
    hw.check_flash_size = 0; /* as Updater::_verifyEnd: the header's size means nothing */
#else
    hw.check_flash_size = 1;
#endif
    hw.boot_mode = (GPI >> 16) & 0xf; /* as Updater::begin */
    int r = fota_esp8266_port_init(&port, &hw, detail, size);
    if (r < 0)
        return r;
    /* Fota::begin logs these as warnings */
    if (port.staged_lost)
        snprintf(detail, size, "the staged update was not applied: the power went before the "
                 "restart (eboot's command lives in RTC memory); downloading it again");
    else if (hw.boot_mode == 1)
        snprintf(detail, size, "started in UART download mode after a serial flash: no update "
                 "until the chip is reset by its pin or power cycled (a restart would hang)");
    if (!stack_ref) { /* allocates the second stack unless a TLS client already did */
        stack_thunk_add_ref();
        stack_ref = true;
    }
    crypto = fota_crypto_bearssl;
    crypto.p256_verify = thunk_fota_esp8266_p256_verify;
    out->flash = &port.flash;
    out->boot = &port.boot;
    out->crypto = &crypto;
    out->chip = FOTA_CHIP_ESP8266;
    out->state_addr = port.state_addr;
    out->state_size = 2 * FOTA_ESP8266_SECTOR;
    return 0;
}

/* Not on ESP8266 (docs/data-partitions.md): the agent stages a data image in
 * the space between the sketch and the file system, which is smaller than
 * the file-system region in the usual layouts (4M2M, 4M3M); releases with a
 * data image are refused before anything is erased. */
int fota_arduino_data_partition(const char *label, char *detail, size_t size)
{
    snprintf(detail, size, "fota: data partition '%s': not supported on ESP8266 (no room to stage "
                           "a file-system image)",
             label);
    return FOTA_ERR_NOT_SUPPORTED;
}

void fota_arduino_station_mac(uint8_t mac[6])
{
    WiFi.macAddress(mac);
}

/* The sketch (eboot + app) runs from flash 0x0, as the .bin was released. */
int fota_arduino_running_image(uint32_t *addr, uint32_t *len)
{
    *addr = 0;
    *len = ESP.getSketchSize();
    return 0;
}

#endif
