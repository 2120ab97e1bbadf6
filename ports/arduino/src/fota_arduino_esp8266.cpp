/*
 * ESP8266 Arduino core glue: the core's flash, eboot command and layout for
 * the port logic in fota_esp8266_port.c.
 */
#if defined(ARDUINO_ARCH_ESP8266)

#include <Arduino.h>
#include <ESP8266WiFi.h>
#include <eboot_command.h>
#include <flash_hal.h>

#include "Fota.h"
#include "fota_esp8266_port.h"

extern "C" const struct fota_crypto fota_crypto_bearssl;

namespace {

struct fota_esp8266_port port;

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
    int r = fota_esp8266_port_init(&port, &hw, detail, size);
    if (r < 0)
        return r;
    out->flash = &port.flash;
    out->boot = &port.boot;
    out->crypto = &fota_crypto_bearssl;
    out->chip = FOTA_CHIP_ESP8266;
    out->state_addr = port.state_addr;
    out->state_size = 2 * FOTA_ESP8266_SECTOR;
    return 0;
}

void fota_arduino_station_mac(uint8_t mac[6])
{
    WiFi.macAddress(mac);
}

#endif
