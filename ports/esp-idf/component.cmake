# ESP-IDF component "fota", registered from the repository root (CMakeLists.txt
# includes this file when ESP-IDF builds it: ESP_PLATFORM is set). The root is
# the component so that a packed component (idf_component.yml `files` rules,
# docs/install.md) and a git checkout hold the same self-contained tree:
# the portable core (src/*.c, public headers in src/fota/), the mbedTLS
# crypto backend, the ESP32 flash and boot control shared with the Arduino
# adapter (ports/esp32), the SIM800 modem driver and the ESP-IDF port
# (lwIP sockets / esp-tls transport, esp_timer, ESP_LOG; ports/esp-idf).
# Kconfig ("fota" menu) sits at the root, where ESP-IDF looks for it.
# Needs ESP-IDF 5.0 or newer (esp_partition component).
set(fota_root "${CMAKE_CURRENT_LIST_DIR}/../..")
file(GLOB fota_core_sources "${fota_root}/src/*.c")

idf_component_register(
    SRCS ${fota_core_sources}
         "${fota_root}/ports/crypto/mbedtls.c"
         "${fota_root}/ports/esp32/fota_esp32.c"
         "${fota_root}/ports/modem/sim800.c"
         "${fota_root}/ports/esp-idf/fota_esp_idf.c"
         "${fota_root}/ports/esp-idf/fota_esp_idf_net.c"
    INCLUDE_DIRS "${fota_root}/src" "${fota_root}/ports/esp-idf/include" "${fota_root}/ports/esp32"
                 "${fota_root}/ports/modem"
    PRIV_INCLUDE_DIRS "${fota_root}/ports/crypto"
    REQUIRES app_update esp_partition
    PRIV_REQUIRES bootloader_support spi_flash esp_timer esp_hw_support esp_system esp-tls mbedtls lwip log freertos)

# The core is C11 without extensions; keep its sources at the project's
# warning level but never let IDF's defaults turn a core warning into a
# different dialect.
set_source_files_properties(${fota_core_sources} PROPERTIES COMPILE_OPTIONS "-std=gnu11")
