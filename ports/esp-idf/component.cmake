# ESP-IDF component "fota": the portable core (src/*.c of this repository),
# the mbedTLS crypto backend, the ESP32 flash and boot control shared with the
# Arduino adapter (ports/esp32: partitions, OTA boot control with rollback)
# and the ESP-IDF port (lwIP sockets / esp-tls transport, esp_timer, ESP_LOG).
# Use it in place: set(EXTRA_COMPONENT_DIRS <fota>/ports/esp-idf/fota) in the
# project's CMakeLists.txt, or a local `path:` dependency in idf_component.yml.
# Needs ESP-IDF 5.0 or newer (esp_partition component).
get_filename_component(fota_root "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
file(GLOB fota_core_sources "${fota_root}/src/*.c")

idf_component_register(
    SRCS ${fota_core_sources}
         "${fota_root}/ports/crypto/mbedtls.c"
         "${fota_root}/ports/esp32/fota_esp32.c"
         "${fota_root}/ports/modem/sim800.c"
         "fota_esp_idf.c"
         "fota_esp_idf_net.c"
    INCLUDE_DIRS "include" "${fota_root}/include" "${fota_root}/ports/esp32" "${fota_root}/ports/modem"
    PRIV_INCLUDE_DIRS "${fota_root}/src" "${fota_root}/ports/crypto"
    REQUIRES app_update esp_partition
    PRIV_REQUIRES bootloader_support spi_flash esp_timer esp_hw_support esp_system esp-tls mbedtls lwip log freertos)

# The core is C11 without extensions; keep its sources at the project's
# warning level but never let IDF's defaults turn a core warning into a
# different dialect.
set_source_files_properties(${fota_core_sources} PROPERTIES COMPILE_OPTIONS "-std=gnu11")
