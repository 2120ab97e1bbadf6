#!/bin/sh
# Compile the Arduino library (src/ recursively, as the Arduino IDE and
# PlatformIO do: the core, src/arduino and the ports it includes) and
# examples/arduino/FotaBasic, or the ESP-IDF component, against real SDK
# headers. LIB_DIR (default: this repository) may be an unpacked registry
# archive (tests/package/test_package.sh passes one).
# Never downloads anything and is not run by CI (CI has no SDK); how the
# inputs were obtained and what was checked: docs/targets.md, "Compile
# checks against the real SDK headers".
#
#   compile-check.sh esp8266 ESP8266_ARDUINO_DIR LIBSTDCXX_DIR [LIB_DIR]
#   compile-check.sh esp32   ESP_IDF_DIR         LIBSTDCXX_DIR [LIB_DIR]
#   compile-check.sh esp-idf ESP_IDF_DIR         LIBSTDCXX_DIR [LIB_DIR]
#
# ESP8266_ARDUINO_DIR  a checkout of esp8266/Arduino (cores/, variants/,
#                      tools/sdk/, libraries/ESP8266WiFi; the prebuilt .a
#                      files are not needed).
# ESP_IDF_DIR          an ESP-IDF tree with components/ (v5.x), and the
#                      mbedTLS headers in components/mbedtls/mbedtls/include
#                      (esp-idf: also esp-lwip's src/ in components/lwip/lwip).
#
# esp-idf checks the ESP-IDF component (ports/esp-idf, ports/esp32, the
# core and ports/crypto/mbedtls.c) the same way as esp32 checks the Arduino
# library, without the Arduino stand-ins.
# LIBSTDCXX_DIR        libstdc++ headers for a bare-metal newlib target, e.g.
#                      Debian's libstdc++-arm-none-eabi-dev unpacked with
#                      `dpkg -x`: .../usr/include/newlib/c++/12.2.1 (Debian's
#                      lx106 and riscv64-elf compilers ship without them).
#
# ESP8266: xtensa-lx106-elf-g++/gcc (gcc-xtensa-lx106) compile to objects
# with the flags of the core's platform.txt and boards.txt (generic board),
# picolibc-xtensa-lx106-elf as the C library in place of the core's
# newlib-xtensa. ESP32: no Xtensa LX6/LX7 compiler exists in Debian, so
# riscv64-unknown-elf-g++/gcc check the syntax as an ESP32-C3 (rv32imc,
# ilp32, -fsyntax-only) against the real ESP-IDF headers, with a stand-in for
# the arduino-esp32 core's own headers.
#
# Our files get -Wall -Wextra -Werror; the core's headers are -isystem so
# that their warnings do not count. Exits non-zero on the first failure.
set -eu

usage() {
    sed -n '9,11p' "$0" >&2
    exit 2
}
[ $# -eq 3 ] || [ $# -eq 4 ] || usage
target=$1
sdk=$(cd "$2" && pwd)
cxx=$(cd "$3" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "${4:-$here/../..}" && pwd)
[ -f "$cxx/algorithm" ] || { echo "compile-check: $cxx/algorithm missing (LIBSTDCXX_DIR)" >&2; exit 2; }
[ -f "$cxx/arm-none-eabi/bits/c++config.h" ] || {
    echo "compile-check: $cxx/arm-none-eabi/bits/c++config.h missing (LIBSTDCXX_DIR)" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir -p "$tmp/stand/sys" "$tmp/sketch" "$tmp/pkg"

passed=0
run() { # run LABEL COMMAND...: print the label, stop on failure
    label=$1
    shift
    if "$@" >"$tmp/log" 2>&1; then
        echo "ok:   $label"
        passed=$((passed + 1))
    else
        cat "$tmp/log" >&2
        echo "FAIL: $label" >&2
        exit 1
    fi
}

# The example sketch as the Arduino builder sees it: Arduino.h first, then
# the .ino; its folder (with the shipped demo key header) on the include path.
# (An ESP-IDF component holds no sketch: esp-idf mode does not need one.)
if [ -f "$root/examples/arduino/FotaBasic/FotaBasic.ino" ]; then
    {
        echo '#include <Arduino.h>'
        echo "#line 1 \"$root/examples/arduino/FotaBasic/FotaBasic.ino\""
        cat "$root/examples/arduino/FotaBasic/FotaBasic.ino"
    } >"$tmp/sketch/FotaBasic.ino.cpp"
fi
sketch_inc="-I$root/examples/arduino/FotaBasic"
# The demo key header warns (#warning) by design.
EXAMPLE_WARN="-Wno-error=cpp"

# What the Arduino IDE and PlatformIO compile: src/ recursively, with src/ as
# the include path.
lib_inc="-I$root/src"
lib_c=$(find "$root/src" -name '*.c' | sort)
lib_cpp=$(find "$root/src" -name '*.cpp' | sort)

CWARN="-Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes"
CXXWARN="-Wall -Wextra -Werror"

check_all() { # check_all NAME CC CXX CFLAGS CXXFLAGS
    name=$1 cc=$2 cxxc=$3 cflags=$4 cxxflags=$5
    for f in $lib_c; do
        run "$name C   ${f#"$root"/}" $cc $cflags -std=gnu17 $CWARN $lib_inc -c "$f" -o "$tmp/o.o"
    done
    for f in $lib_cpp; do
        run "$name C++ ${f#"$root"/}" $cxxc $cxxflags $CXXWARN $lib_inc -c "$f" -o "$tmp/o.o"
    done
}

case $target in
esp8266)
    [ -f "$sdk/cores/esp8266/Arduino.h" ] || { echo "compile-check: $sdk is not an esp8266/Arduino checkout" >&2; exit 2; }
    command -v xtensa-lx106-elf-g++ >/dev/null || { echo "compile-check: apt-get install gcc-xtensa-lx106 picolibc-xtensa-lx106-elf" >&2; exit 2; }
    # Stand-ins for headers of the core's toolchain (newlib-xtensa), which
    # Debian's lx106 toolchain does not have:
    # - sys/pgmspace.h: the core's own host-test version (tests/host/sys).
    cp "$sdk/tests/host/sys/pgmspace.h" "$tmp/stand/sys/pgmspace.h"
    # - sys/config.h: newlib-xtensa's pulls in the ISA description
    #   (XCHAL_* addresses, used by mmu_iram.h); picolibc's does not.
    printf '#include_next <sys/config.h>\n#include <machine/core-isa.h>\n' >"$tmp/stand/sys/config.h"
    # platform.txt recipe.{c,cpp}.o.pattern, generic board, 4MB (FS:2MB OTA),
    # lwIP v2 lower memory, no debug, exceptions off (boards.txt defaults).
    defs="-D__ets__ -DICACHE_FLASH -U__STRICT_ANSI__ -D_GNU_SOURCE -DESP8266 -DNONOSDK22x_190703=1
          -DF_CPU=80000000L -DLWIP_OPEN_SRC -DTCP_MSS=536 -DLWIP_FEATURES=1 -DLWIP_IPV6=0
          -DARDUINO=10819 -DARDUINO_ESP8266_GENERIC -DARDUINO_ARCH_ESP8266
          -DARDUINO_BOARD=\"ESP8266_GENERIC\" -DARDUINO_BOARD_ID=\"generic\" -DFLASHMODE_DOUT
          -DMMU_IRAM_SIZE=0x8000 -DMMU_ICACHE_SIZE=0x8000 -DFP_IN_IROM"
    incs="-isystem $sdk/cores/esp8266 -isystem $sdk/variants/generic -isystem $sdk/tools/sdk/include
          -isystem $sdk/tools/sdk/lwip2/include -isystem $sdk/libraries/ESP8266WiFi/src
          -isystem $tmp/stand -isystem $cxx -isystem $cxx/arm-none-eabi"
    mach="-Os -g -mlongcalls -mtext-section-literals -falign-functions=4 -ffunction-sections -fdata-sections
          -fno-exceptions -Werror=return-type"
    cflags="$defs $incs $mach"
    cxxflags="$defs $incs $mach -std=gnu++17 -fno-rtti"
    cc=xtensa-lx106-elf-gcc
    cxxc=xtensa-lx106-elf-g++
    check_all "esp8266" $cc $cxxc "$cflags" "$cxxflags"
    # FLASH_MAP_SUPPORT (the boards' "autoflash" layouts) and a debug build
    # (DEBUG_ESP_PORT compiles the adapter's log branch).
    for variant in "-DFLASH_MAP_SUPPORT=1" "-DDEBUG_ESP_PORT=Serial -DDEBUG_ESP_CORE"; do
        for f in $lib_cpp; do
            run "esp8266 $variant C++ ${f#"$root"/}" $cxxc $cxxflags $variant $CXXWARN $lib_inc -c "$f" -o "$tmp/o.o"
        done
    done
    # Issue 16, finding 1: the signature check must not run on loop()'s 4 KB
    # cont stack. The port object defines the core's stack thunk for it and
    # takes a reference on the thunk's stack (tests/target/
    # test_esp8266_stack.c measures both stacks under QEMU).
    port_uses_thunk() {
        $cxxc $cxxflags $CXXWARN $lib_inc -c "$root/src/arduino/fota_arduino_esp8266.cpp" \
            -o "$tmp/port.o" &&
            xtensa-lx106-elf-nm "$tmp/port.o" >"$tmp/port.nm" &&
            grep -q ' T thunk_fota_esp8266_p256_verify$' "$tmp/port.nm" &&
            grep -q ' U stack_thunk_add_ref$' "$tmp/port.nm" &&
            grep -q ' U stack_thunk_ptr$' "$tmp/port.nm"
    }
    run "esp8266 port verifies on the stack thunk (nm)" port_uses_thunk
    run "esp8266 C++ examples/arduino/FotaBasic/FotaBasic.ino" \
        $cxxc $cxxflags $CXXWARN $EXAMPLE_WARN $lib_inc $sketch_inc -c "$tmp/sketch/FotaBasic.ino.cpp" -o "$tmp/o.o"
    ;;
esp32|esp-idf)
    idf=$sdk/components
    [ -f "$idf/app_update/include/esp_ota_ops.h" ] || { echo "compile-check: $sdk has no ESP-IDF components/" >&2; exit 2; }
    [ -f "$idf/mbedtls/mbedtls/include/mbedtls/ecdsa.h" ] || {
        echo "compile-check: put mbedTLS's include/ into $idf/mbedtls/mbedtls (an IDF submodule)" >&2; exit 2; }
    command -v riscv64-unknown-elf-g++ >/dev/null || { echo "compile-check: apt-get install gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf" >&2; exit 2; }
    s=$tmp/stand
    # Stand-in sdkconfig.h (a full build generates it): an ESP32-C3 with
    # rollback, and the mbedTLS options ports/crypto/mbedtls.c needs.
    cat >"$s/sdkconfig.h" <<'EOF'
#define CONFIG_IDF_TARGET "esp32c3"
#define CONFIG_IDF_TARGET_ESP32C3 1
#define CONFIG_IDF_TARGET_ARCH_RISCV 1
#define CONFIG_IDF_FIRMWARE_CHIP_ID 0x0005
#define CONFIG_SOC_CPU_CORES_NUM 1
#define CONFIG_FREERTOS_HZ 1000
#define CONFIG_FREERTOS_UNICORE 1
#define CONFIG_FREERTOS_NUMBER_OF_CORES 1
#define CONFIG_FREERTOS_MAX_TASK_NAME_LEN 16
#define CONFIG_FREERTOS_ISR_STACKSIZE 1536
#define CONFIG_FREERTOS_TIMER_TASK_STACK_DEPTH 2048
#define CONFIG_FREERTOS_TIMER_TASK_PRIORITY 1
#define CONFIG_FREERTOS_TIMER_QUEUE_LENGTH 10
#define CONFIG_FREERTOS_QUEUE_REGISTRY_SIZE 0
#define CONFIG_FREERTOS_TASK_NOTIFICATION_ARRAY_ENTRIES 1
#define CONFIG_FREERTOS_THREAD_LOCAL_STORAGE_POINTERS 1
#define CONFIG_FREERTOS_IDLE_TASK_STACKSIZE 1536
#define CONFIG_FREERTOS_CHECK_STACKOVERFLOW_CANARY 1
#define CONFIG_FREERTOS_TICK_SUPPORT_SYSTIMER 1
#define CONFIG_FREERTOS_SUPPORT_STATIC_ALLOCATION 1
#define CONFIG_FREERTOS_TIMER_SERVICE_TASK_NAME "Tmr Svc"
#define CONFIG_FREERTOS_TIMER_SERVICE_TASK_CORE_AFFINITY 0x7FFFFFFF
#define CONFIG_FREERTOS_TASK_FUNCTION_WRAPPER 1
#define CONFIG_LOG_DEFAULT_LEVEL 3
#define CONFIG_LOG_MAXIMUM_LEVEL 3
#define CONFIG_LOG_TIMESTAMP_SOURCE_RTOS 1
#define CONFIG_LOG_VERSION_1 1
#define CONFIG_LOG_VERSION 1
#define CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE 1
#define CONFIG_PARTITION_TABLE_OFFSET 0x8000
#define CONFIG_ARDUINO_RUNNING_CORE 0
#define CONFIG_ARDUINO_EVENT_RUNNING_CORE 0
#define CONFIG_MBEDTLS_CERTIFICATE_BUNDLE 1
#define CONFIG_MBEDTLS_AES_C 1
#define CONFIG_MBEDTLS_ECP_C 1
#define CONFIG_MBEDTLS_ECDSA_C 1
#define CONFIG_MBEDTLS_ECDH_C 1
#define CONFIG_MBEDTLS_ECP_DP_SECP256R1_ENABLED 1
#define CONFIG_MBEDTLS_PEM_PARSE_C 1
#define CONFIG_MBEDTLS_X509_CRT_PARSE_C 1
#define CONFIG_MBEDTLS_TLS_CLIENT 1
#define CONFIG_MBEDTLS_TLS_ENABLED 1
#define CONFIG_MBEDTLS_SSL_PROTO_TLS1_2 1
#define CONFIG_MBEDTLS_KEY_EXCHANGE_RSA 1
#define CONFIG_MBEDTLS_KEY_EXCHANGE_ECDHE_RSA 1
#define CONFIG_MBEDTLS_GCM_C 1
#define CONFIG_MBEDTLS_HARDWARE_SHA 1
#define CONFIG_MBEDTLS_HARDWARE_AES 1
#define CONFIG_MBEDTLS_INTERNAL_MEM_ALLOC 1
#define CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN 16384
#define CONFIG_MBEDTLS_SSL_IN_CONTENT_LEN 16384
#define CONFIG_MBEDTLS_SSL_OUT_CONTENT_LEN 4096
#define CONFIG_MBEDTLS_ECP_NIST_OPTIM 1
#define CONFIG_MBEDTLS_RSA_C 1
#define CONFIG_MBEDTLS_PKCS1_V15 1
#define CONFIG_MBEDTLS_SHA512_C 1
#define CONFIG_MBEDTLS_SHA256_C 1
#define CONFIG_MBEDTLS_ROM_MD5 1
#define CONFIG_ESP_TLS_USING_MBEDTLS 1
#define CONFIG_FOTA_MANIFEST_URL "https://updates.example.com/demo-board/{mac}/manifest"
#define CONFIG_FOTA_CHECK_INTERVAL_S 3600
#define CONFIG_FOTA_TLS 1
#define CONFIG_FOTA_TLS_CRT_BUNDLE 1
#define CONFIG_FOTA_RX_BUFFER_SIZE 2048
#define CONFIG_FOTA_LINE_BUFFER_SIZE 512
#define CONFIG_FOTA_URL_BUFFER_SIZE 1024
#define CONFIG_FOTA_MANIFEST_BUFFER_SIZE 1024
#define CONFIG_FOTA_CONNECT_TIMEOUT_MS 10000
#define CONFIG_FOTA_READ_TIMEOUT_MS 10000
#define CONFIG_FOTA_STATE_PARTITION_LABEL "fota_state"
#define CONFIG_FOTA_TASK_STACK_SIZE 8192
EOF
    # Stand-in for the arduino-esp32 core's headers: only the names the
    # adapter uses, declared as in the core (esp32-hal.h millis/delay,
    # esp32-hal-log.h log_x, Esp.h restart, Stream.h setTimeout, and the
    # Client interface verbatim from cores/esp32/Client.h). The ESP-IDF
    # headers it includes are the real ones, as in the core's esp32-hal.h.
    cat >"$s/Arduino.h" <<'EOF'
#pragma once
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sdkconfig.h"
#include "esp_system.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
extern "C" {
unsigned long millis(void);
void delay(uint32_t);
int log_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
}
#define log_e(format, ...) log_printf("[E] " format "\n", ##__VA_ARGS__)
#define log_w(format, ...) log_printf("[W] " format "\n", ##__VA_ARGS__)
#define log_i(format, ...) log_printf("[I] " format "\n", ##__VA_ARGS__)
#include "Client.h"
class EspClass {
  public:
    void restart();
};
extern EspClass ESP;
EOF
    cat >"$s/Client.h" <<'EOF'
#pragma once
#include <stdint.h>
#include <stddef.h>
class IPAddress { public: uint8_t *raw_address(); };
class Print {
  public:
    virtual ~Print() {}
    virtual size_t write(uint8_t) = 0;
    virtual size_t write(const uint8_t *buffer, size_t size);
    virtual void flush() {}
};
class Stream : public Print {
  protected:
    unsigned long _timeout;
  public:
    virtual int available() = 0;
    virtual int read() = 0;
    virtual int peek() = 0;
    void setTimeout(unsigned long timeout);
};
class Client : public Stream {
public:
  virtual int connect(IPAddress ip, uint16_t port) = 0;
  virtual int connect(const char *host, uint16_t port) = 0;
  virtual size_t write(uint8_t) = 0;
  virtual size_t write(const uint8_t *buf, size_t size) = 0;
  virtual int available() = 0;
  virtual int read() = 0;
  virtual int read(uint8_t *buf, size_t size) = 0;
  virtual int peek() = 0;
  virtual void flush() = 0;
  virtual void stop() = 0;
  virtual uint8_t connected() = 0;
  virtual operator bool() = 0;
protected:
  uint8_t *rawIPAddress(IPAddress &addr) {
    return addr.raw_address();
  }
};
EOF
    chip=esp32c3
    incs="-isystem $s"
    # The component include folders the adapter's headers reach, chip-specific
    # ones for the ESP32-C3 and the RISC-V FreeRTOS port.
    for d in newlib/platform_include esp_common/include esp_system/include esp_system/port/include \
        esp_rom/include esp_rom/$chip/include esp_rom/$chip/include/$chip esp_rom/$chip \
        soc/include soc/$chip/include soc/$chip/register hal/include hal/$chip/include hal/platform_port/include \
        esp_hw_support/include esp_hw_support/include/soc esp_hw_support/port/$chip/include \
        esp_hw_support/port/include esp_hw_support/dma/include esp_hw_support/ldo/include \
        freertos/config/include freertos/config/include/freertos freertos/config/riscv/include \
        freertos/FreeRTOS-Kernel/include freertos/FreeRTOS-Kernel/portable/riscv/include \
        freertos/FreeRTOS-Kernel/portable/riscv/include/freertos freertos/esp_additions/include \
        riscv/include heap/include log/include esp_timer/include esp_partition/include app_update/include \
        bootloader_support/include bootloader_support/bootloader_flash/include esp_app_format/include \
        esp_bootloader_format/include spi_flash/include esp_mm/include esp_security/include efuse/include \
        efuse/$chip/include esp_hw_support/mspi_timing_tuning/include mbedtls/port/include mbedtls/mbedtls/include \
        freertos/include freertos/include/esp_additions freertos/include/esp_additions/freertos \
        freertos/port/riscv/include freertos/port/riscv/include/freertos; do
        [ -d "$idf/$d" ] && incs="$incs -isystem $idf/$d"
    done
    # ESP-IDF 4.4 (arduino-esp32 2.x): newlib's platform_include/sys/reent.h
    # includes the next sys/reent.h, which picolibc does not have; a stand-in
    # after every other folder declares the struct the headers name.
    if [ -f "$idf/newlib/platform_include/sys/reent.h" ] && [ ! -d "$idf/esp_partition" ]; then
        mkdir -p "$s/after/sys"
        printf '#pragma once\nstruct _reent { int _errno; };\n' >"$s/after/sys/reent.h"
        printf '#include <sys/reent.h>\n' >"$s/after/reent.h"
        incs="$incs -isystem $s/after"
        # ESP-IDF 4.4's log macros print esp_log_timestamp() (uint32_t) with
        # %u: right for its own GCC 8, where uint32_t is unsigned int, wrong
        # for Debian's riscv64-elf GCC, where it is unsigned long. The v5.5.1
        # check keeps -Wformat on our own format strings.
        CWARN="$CWARN -Wno-format"
        CXXWARN="$CXXWARN -Wno-format"
    fi
    # RVHAL_EXCM_LEVEL_CLIC: an SoC-caps value a full IDF build generates.
    defs="-DESP_PLATFORM -D_GNU_SOURCE -DRVHAL_EXCM_LEVEL_CLIC=3 -DARDUINO=10819 -DARDUINO_ARCH_ESP32 -DESP32
          -DARDUINO_ESP32C3_DEV -DMBEDTLS_CONFIG_FILE=\"mbedtls/esp_config.h\""
    mach="--specs=picolibc.specs -march=rv32imc_zicsr_zifencei -mabi=ilp32 -fsyntax-only"
    cflags="$mach $defs -include $s/sdkconfig.h $incs"
    cxxflags="$mach $defs $incs -isystem $cxx -isystem $cxx/arm-none-eabi -std=gnu++17 -fno-exceptions -fno-rtti"
    if [ "$target" = esp32 ]; then
        check_all "esp32c3" riscv64-unknown-elf-gcc riscv64-unknown-elf-g++ "$cflags" "$cxxflags"
    else
        # The component's own folders and the ones its transport reaches
        # (lwIP sockets, esp-tls, the certificate bundle), lwIP's first.
        lwip="-isystem $idf/lwip/include -isystem $idf/lwip/lwip/src/include
              -isystem $idf/lwip/port/include -isystem $idf/lwip/port/freertos/include
              -isystem $idf/lwip/port/esp32xx/include -isystem $idf/lwip/port/esp32xx/include/arch
              -isystem $idf/esp-tls -isystem $idf/esp-tls/esp-tls-crypto
              -isystem $idf/mbedtls/esp_crt_bundle/include -isystem $idf/esp_netif/include
              -isystem $idf/vfs/include -isystem $idf/esp_event/include"
        # lwIP's options: the defaults of its Kconfig, as menuconfig would
        # write them (the first default of each bool/int/string option), and
        # the default TCP_OVERSIZE choice.
        python3 - "$idf/lwip/Kconfig" >"$s/sdkconfig_lwip.h" <<'PY'
import re, sys
name = kind = None
for line in open(sys.argv[1]):
    m = re.match(r"\s*(?:menu)?config\s+(\w+)", line)
    if m:
        name, kind = m.group(1), None
        continue
    m = re.match(r"\s*(bool|int|hex|string)\b", line)
    if m and name and kind is None:
        kind = m.group(1)
        continue
    m = re.match(r"\s*default\s+(\S.*?)(\s+if\s+.*)?$", line)
    if m and name and kind:
        v = m.group(1)
        if kind == "bool" and v == "y":
            print("#define CONFIG_%s 1" % name)
        elif kind in ("int", "hex") and re.match(r"^-?(0x)?[0-9a-fA-F]+$", v):
            print("#define CONFIG_%s %s" % (name, v))
        elif kind == "string":
            print("#define CONFIG_%s %s" % (name, v))
        name = None
print("#define CONFIG_LWIP_TCP_OVERSIZE_MSS 1")
PY
        idf_cflags="$mach -DESP_PLATFORM -D_GNU_SOURCE -DRVHAL_EXCM_LEVEL_CLIC=3
              -DMBEDTLS_CONFIG_FILE=\"mbedtls/esp_config.h\" -include $s/sdkconfig.h
              -include $s/sdkconfig_lwip.h $lwip $incs"
        for f in "$root"/src/*.c "$root"/ports/crypto/mbedtls.c "$root"/ports/esp32/*.c \
            "$root"/ports/modem/*.c "$root"/ports/esp-idf/*.c; do
            run "esp-idf C ${f#"$root"/}" riscv64-unknown-elf-gcc $idf_cflags -std=gnu17 $CWARN \
                -I"$root/src" -I"$root/ports/esp32" -I"$root/ports/modem" \
                -I"$root/ports/crypto" \
                -I"$root/ports/esp-idf/include" -c "$f"
        done
        # The example, when the tree has IDF's examples/common_components
        # (protocol_examples_common), with its Kconfig defaults for the C3.
        pec=$sdk/examples/common_components/protocol_examples_common/include
        if [ -d "$pec" ]; then
            printf '#define CONFIG_EXAMPLE_BUTTON_GPIO 9\n#define CONFIG_EXAMPLE_LED_GPIO -1\n' >"$s/example_config.h"
            # IDF builds examples with -Wall -Wextra -Werror, not our prototype rules
            run "esp-idf C examples/esp-idf/main/app_main.c" riscv64-unknown-elf-gcc $idf_cflags -std=gnu17 \
                $CXXWARN $EXAMPLE_WARN -include "$s/example_config.h" -isystem "$pec" -isystem "$idf/esp_driver_gpio/include" \
                -isystem "$idf/nvs_flash/include" -isystem "$idf/esp_app_format/include" \
                -I"$root/src" -I"$root/ports/esp32" -I"$root/ports/esp-idf/include" \
                -I"$root/examples/esp-idf/main" -c "$root/examples/esp-idf/main/app_main.c"
        else
            echo "skip: examples/esp-idf/main/app_main.c ($pec missing)"
        fi
    fi
    ;;
*)
    usage
    ;;
esac
echo "$passed passed, 0 failed"
