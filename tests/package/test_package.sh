#!/usr/bin/env bash
# The library as each registry receives it (issue 14): pack the repository
# with the registry's own file rules (scripts/package/pack.py), unpack the
# archive into an empty folder, check its metadata and layout, and compile
# what that registry's build compiles from the unpacked copy alone:
#
#   test_package.sh arduino     Library Manager zip: src/ recursively, as the
#                               Arduino IDE builds it
#   test_package.sh platformio  pio pkg pack tarball: library.json's srcDir
#   test_package.sh esp-idf     compote tarball: what the component's CMake
#                               registers, resolved by running it
#
# C sources: ESP8266 with Debian's real lx106 compiler (objects), ESP32-C3 with
# riscv64-unknown-elf-gcc against the ESP-IDF declarations of tests/ports/
# esp_idf (the fake the ports tests run on) and Debian's BearSSL/mbedTLS
# headers. With real SDK trees (not in CI; docs/targets.md says how they were
# obtained) the C++ adapter, the ESP-IDF transport and both examples are
# compiled too, by scripts/package/compile-check.sh on the unpacked copy:
#   FOTA_ESP8266_ARDUINO_DIR  esp8266/Arduino 3.1.2 work tree
#   FOTA_ESP_IDF_DIR          ESP-IDF v5.5.1 tree (components/, examples/)
#   FOTA_LIBSTDCXX_DIR        bare-metal libstdc++ headers
# Without them those checks are listed as not run (never as passed).
. "$(dirname "$0")/../e2e/lib.sh"
SRC=${FOTA_SRC:?}
kind=${1:?usage: test_package.sh arduino|platformio|esp-idf}
require_tools python3 cmake xtensa-lx106-elf-gcc riscv64-unknown-elf-gcc
[ -f /usr/lib/xtensa-lx106-elf/picolibc.specs ] || skip "picolibc-xtensa-lx106-elf missing"
[ -f /usr/include/bearssl.h ] && [ -f /usr/include/mbedtls/ecdsa.h ] ||
    skip "libbearssl-dev / libmbedtls-dev missing"
dir=$(fota_tmpdir)

# ---- pack and unpack --------------------------------------------------------
out=$(python3 "$SRC/scripts/package/pack.py" "$kind" "$SRC" "$dir/out") ||
    { fail "pack.py $kind"; finish; }
note "$out"
archive=$(ls "$dir"/out/*)
version=$(sed -n 's/^version=//p' "$SRC/library.properties")
mkdir "$dir/unpacked"
case $kind in
arduino) # the IDE unpacks the zip into libraries/
    python3 -m zipfile -e "$archive" "$dir/unpacked"
    lib=$dir/unpacked/fota-$version ;;
*)
    tar xzf "$archive" -C "$dir/unpacked"
    lib=$dir/unpacked ;;
esac
[ -d "$lib" ] && pass "$kind: $(basename "$archive") unpacked into an empty folder" ||
    { fail "$kind: no $lib in the archive"; finish; }

# ---- metadata every registry reads -----------------------------------------
url=$(sed -n 's/^url=//p' "$SRC/library.properties")
expect_ne "$url" "https://github.com/" "library.properties url= names the repository"
grep -q '^                                 Apache License$' "$lib/LICENSE" &&
    grep -q 'Version 2.0, January 2004' "$lib/LICENSE" && grep -q 'END OF TERMS AND CONDITIONS' "$lib/LICENSE" &&
    pass "$kind: LICENSE is the full Apache-2.0 text" || fail "$kind: LICENSE missing or not Apache-2.0"

# ---- stand-ins for what the SDKs provide -----------------------------------
stand=$dir/stand
mkdir -p "$stand/bearssl"
# The ESP8266 core ships BearSSL as <bearssl/bearssl.h>; Debian's headers are
# BearSSL's own.
ln -s /usr/include/bearssl*.h "$stand/bearssl/"
ln -s /usr/include/mbedtls "$stand/mbedtls"
[ -d /usr/include/psa ] && ln -s /usr/include/psa "$stand/psa"
CWARN="-Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes"
lx106="xtensa-lx106-elf-gcc --specs=/usr/lib/xtensa-lx106-elf/picolibc.specs -Os -mlongcalls
       -mtext-section-literals -ffunction-sections -fdata-sections -std=gnu17 $CWARN
       -D__ets__ -DICACHE_FLASH -DESP8266 -DARDUINO=10819 -DARDUINO_ARCH_ESP8266 -isystem $stand"
rv32="riscv64-unknown-elf-gcc --specs=picolibc.specs -march=rv32imc_zicsr_zifencei -mabi=ilp32
      -std=gnu17 $CWARN -DESP_PLATFORM -DCONFIG_IDF_TARGET_ESP32C3=1
      -isystem $SRC/tests/ports/esp_idf -isystem $stand"

compile() { # compile LABEL COMMAND...: one check per file
    local label=$1
    shift
    if "$@" >"$dir/cc.log" 2>&1; then
        pass "$label"
    else
        sed 's/^/    /' "$dir/cc.log"
        fail "$label"
    fi
}

# Which files the Arduino IDE / PlatformIO compile: every .c/.cpp/.S below
# the source folder, recursively.
lib_sources() { (cd "$lib/$1" && find . -type f \( -name '*.c' -o -name '*.cpp' -o -name '*.S' \) | sed 's|^\./||' | sort); }

arduino_build() { # arduino_build SRCDIR: compile SRCDIR recursively, include path SRCDIR only
    local srcdir=$1 f c_files cpp_files
    c_files=$(lib_sources "$srcdir" | grep '\.c$')
    cpp_files=$(lib_sources "$srcdir" | grep -v '\.c$' || true)
    # One compiler run per target (a failure names its file); objects for
    # the lx106, syntax for the C3 (no Xtensa LX6/LX7 compiler in Debian).
    mkdir -p "$dir/obj"
    compile "$kind: ESP8266 (lx106 objects): $(echo $c_files | wc -w) C files of $srcdir/ ($(echo $c_files))" \
        sh -c "cd '$dir/obj' && $(echo $lx106) -I'$lib/$srcdir' -c $(printf "'$lib/$srcdir/%s' " $c_files)"
    compile "$kind: ESP32-C3 (rv32imc syntax): the same $(echo $c_files | wc -w) C files" \
        $rv32 -DARDUINO=10819 -DARDUINO_ARCH_ESP32 -DESP32 -I"$lib/$srcdir" -fsyntax-only \
        $(printf "$lib/$srcdir/%s " $c_files)
    # the port objects the ESP8266 build must contain
    [ -s "$dir/obj/fota_arduino_crypto.o" ] && [ -s "$dir/obj/fota_esp8266_port.o" ] &&
        xtensa-lx106-elf-nm "$dir/obj/fota_arduino_crypto.o" | grep -qE ' [RDT] fota_crypto_bearssl$' &&
        pass "$kind: ESP8266 objects hold the BearSSL backend built from ports/crypto" ||
        fail "$kind: the ESP8266 build lacks the BearSSL backend"
    # Every file under src/ compiles on both cores: nothing POSIX-only or
    # host-only may sit there (the IDE would compile it).
    ! grep -lE '#include <(unistd|pthread|sys/socket|netdb|arpa/inet|sys/stat|fcntl)\.h>' \
        $(find "$lib/$srcdir" -type f) >/dev/null &&
        pass "$kind: nothing under $srcdir/ includes POSIX-only headers" ||
        fail "$kind: a POSIX-only include under $srcdir/"
    note "C++ files (need the Arduino core's headers): $(echo $cpp_files)"
    if [ -n "${FOTA_ESP8266_ARDUINO_DIR:-}" ] && [ -n "${FOTA_LIBSTDCXX_DIR:-}" ]; then
        compile "$kind: compile-check.sh esp8266 on the unpacked library (C++, FotaBasic.ino)" \
            sh "$SRC/scripts/package/compile-check.sh" esp8266 "$FOTA_ESP8266_ARDUINO_DIR" "$FOTA_LIBSTDCXX_DIR" "$lib"
    else
        note "not run here: the C++ adapter and FotaBasic.ino against esp8266/Arduino (FOTA_ESP8266_ARDUINO_DIR, FOTA_LIBSTDCXX_DIR unset)"
    fi
    if [ -n "${FOTA_ESP_IDF_DIR:-}" ] && [ -n "${FOTA_LIBSTDCXX_DIR:-}" ]; then
        compile "$kind: compile-check.sh esp32 on the unpacked library (C++ against ESP-IDF 5.5.1)" \
            sh "$SRC/scripts/package/compile-check.sh" esp32 "$FOTA_ESP_IDF_DIR" "$FOTA_LIBSTDCXX_DIR" "$lib"
    else
        note "not run here: the C++ adapter against the real ESP-IDF headers (FOTA_ESP_IDF_DIR, FOTA_LIBSTDCXX_DIR unset)"
    fi
}

example_present() { # example_present DIR: an example with the demo key header
    [ -f "$lib/$1/$(basename "$1").ino" ] && [ -f "$lib/$1/fota-signing.pub.h" ] &&
        grep -q '^#warning' "$lib/$1/fota-signing.pub.h" && grep -q 'FOTA_DEMO_PUBKEY' "$lib/$1/$(basename "$1").ino" &&
        pass "$kind: $1 ships with the demo key header (#warning) and says so at boot" ||
        fail "$kind: $1 or its demo key header missing"
}

case $kind in
arduino)
    # Library format 1.5: library.properties at the root, src/, examples/.
    props=$lib/library.properties
    for key in name version author maintainer sentence paragraph category url architectures includes; do
        grep -q "^$key=." "$props" || fail "library.properties has no $key="
    done
    grep -q '^# SPDX-License-Identifier: Apache-2.0$' "$props" && pass "library.properties: all fields, SPDX Apache-2.0" ||
        fail "library.properties: no SPDX line"
    header=$(sed -n 's/^includes=//p' "$props")
    [ -f "$lib/src/$header" ] && pass "includes=$header is at the top of src/ (where the IDE finds a library by header)" ||
        fail "src/$header missing"
    example_present examples/arduino/FotaBasic
    arduino_build src
    # Replacing the demo key as the header and the boot line say: keygen in
    # the sketch folder writes over the demo header alone, and names the line.
    if [ -n "${FOTA_BIN:-}" ]; then
        sketch=$lib/examples/arduino/FotaBasic
        kg=$(cd "$sketch" && "$FOTA_BIN" keygen -o fota-signing 2>&1) || true
        expect_contains "$kg" 'keep the line #include "fota-signing.pub.h"' "keygen in the sketch folder replaces the demo key and names the include line"
        ! grep -q FOTA_DEMO_PUBKEY "$sketch/fota-signing.pub.h" && grep -q 'fota_pubkey\[65\]' "$sketch/fota-signing.pub.h" &&
            pass "the sketch's key header is now the new key" || fail "the demo key header was not replaced"
        kg=$(cd "$sketch" && "$FOTA_BIN" keygen -o fota-signing 2>&1) && fail "keygen overwrote a real key without --force" ||
            expect_contains "$kg" "refusing to overwrite" "a real key is never overwritten without --force"
        kg=$(cd "$dir" && "$FOTA_BIN" keygen -o board7 2>&1) || true
        expect_contains "$kg" 'change the line #include "fota-signing.pub.h" (the examples'"'"' demo key) to #include "board7.pub.h"' \
            "keygen with another name prints the exact include line to change"
    else
        fail "FOTA_BIN not set: fota keygen not checked"
    fi
    ;;
platformio)
    manifest=$lib/library.json
    python3 - "$manifest" "$url" <<'PY' && pass "library.json: license Apache-2.0, repository, authors, srcDir src" || fail "library.json metadata"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["license"] == "Apache-2.0", m.get("license")
assert m["repository"]["url"].startswith(sys.argv[2]), m["repository"]
assert m["authors"] and m["homepage"] == sys.argv[2]
assert m["build"]["srcDir"] == "src"
PY
    # PlatformIO builds srcDir recursively: the same files as the Arduino IDE
    # compiles from the repository.
    (cd "$SRC/src" && find . -type f \( -name '*.c' -o -name '*.cpp' -o -name '*.S' \) | sed 's|^\./||' | sort) >"$dir/arduino.list"
    lib_sources src >"$dir/pio.list"
    expect_file_eq "$dir/pio.list" "$dir/arduino.list" "PlatformIO compiles the files the Arduino IDE compiles"
    example_present examples/arduino/FotaBasic
    arduino_build src
    ;;
esp-idf)
    grep -q '^license: "Apache-2.0"$' "$lib/idf_component.yml" && grep -q "^url: \"$url\"$" "$lib/idf_component.yml" &&
        pass "idf_component.yml: license Apache-2.0, url" || fail "idf_component.yml metadata"
    [ -f "$lib/Kconfig" ] && [ -f "$lib/CMakeLists.txt" ] && pass "Kconfig and CMakeLists.txt at the component root" ||
        fail "Kconfig or CMakeLists.txt missing at the component root"
    # What ESP-IDF builds: run the component's CMakeLists.txt as ESP-IDF
    # does, once in its early script-mode pass and once as the build, with
    # idf_component_register recording what it is given.
    cat >"$dir/probe.cmake" <<'EOF'
macro(idf_component_register)
  cmake_parse_arguments(_ "" "" "SRCS;INCLUDE_DIRS;PRIV_INCLUDE_DIRS;REQUIRES;PRIV_REQUIRES" ${ARGN})
  foreach(kind SRCS INCLUDE_DIRS PRIV_INCLUDE_DIRS)
    foreach(p ${__${kind}})
      get_filename_component(abs "${p}" ABSOLUTE BASE_DIR "${COMPONENT_DIR}")
      file(APPEND "${PROBE_OUT}" "${kind} ${abs}\n")
    endforeach()
  endforeach()
  return()
endmacro()
set(COMPONENT_DIR "${LIB}")
include("${LIB}/CMakeLists.txt")
EOF
    for mode in -DCMAKE_BUILD_EARLY_EXPANSION=1 -DESP_PLATFORM=1; do
        rm -f "$dir/probe.out"
        if cmake -DLIB="$lib" -DPROBE_OUT="$dir/probe.out" $mode -P "$dir/probe.cmake" >"$dir/cmake.log" 2>&1 &&
            [ -s "$dir/probe.out" ]; then
            pass "esp-idf: CMakeLists.txt registers the component ($mode)"
        else
            cat "$dir/cmake.log"
            fail "esp-idf: CMakeLists.txt does not register the component ($mode)"
        fi
    done
    missing=0
    while read -r what path; do
        path=$(realpath -m "$path")
        case $path in "$lib"/*) ;; *) fail "esp-idf: $what $path is outside the component"; missing=1 ;; esac
        [ -e "$path" ] || { fail "esp-idf: $what $path is not in the packed component"; missing=1; }
    done <"$dir/probe.out"
    if [ $missing -eq 0 ]; then
        pass "esp-idf: every source and include folder it registers is inside the packed component"
    fi
    idf_inc=$(sed -n 's/^\(PRIV_\)\{0,1\}INCLUDE_DIRS /-I/p' "$dir/probe.out" | tr '\n' ' ')
    srcs=$(sed -n 's/^SRCS //p' "$dir/probe.out" | grep -v "^$lib/ports/esp-idf/" || true)
    # ports/esp-idf/*.c (lwIP, esp-tls, esp_timer) need the real ESP-IDF (below)
    compile "esp-idf: ESP32-C3 (rv32imc syntax): $(echo $srcs | wc -w) registered C files but ports/esp-idf/*.c" \
        $rv32 $idf_inc -fsyntax-only $srcs
    # The example ships inside the component and finds it two folders up.
    [ -f "$lib/examples/esp-idf/main/app_main.c" ] && [ -f "$lib/examples/esp-idf/main/fota-signing.pub.h" ] &&
        grep -q '^#warning' "$lib/examples/esp-idf/main/fota-signing.pub.h" &&
        grep -q 'FOTA_DEMO_PUBKEY' "$lib/examples/esp-idf/main/app_main.c" &&
        grep -q 'CMAKE_CURRENT_LIST_DIR}/\.\./\.\.$' "$lib/examples/esp-idf/CMakeLists.txt" &&
        [ -f "$lib/examples/esp-idf/../../idf_component.yml" ] &&
        pass "esp-idf: examples/esp-idf ships with the demo key header and uses the component it ships in" ||
        fail "esp-idf: examples/esp-idf incomplete"
    if [ -n "${FOTA_ESP_IDF_DIR:-}" ] && [ -n "${FOTA_LIBSTDCXX_DIR:-}" ]; then
        compile "esp-idf: compile-check.sh esp-idf on the unpacked component (transport, example)" \
            sh "$SRC/scripts/package/compile-check.sh" esp-idf "$FOTA_ESP_IDF_DIR" "$FOTA_LIBSTDCXX_DIR" "$lib"
    else
        note "not run here: ports/esp-idf/*.c and examples/esp-idf against the real ESP-IDF headers (FOTA_ESP_IDF_DIR, FOTA_LIBSTDCXX_DIR unset)"
    fi
    ;;
*)
    fail "unknown kind $kind"
    ;;
esac
finish
