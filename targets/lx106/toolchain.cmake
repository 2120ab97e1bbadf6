# ESP8266 (Xtensa lx106, call0 ABI) with Debian's gcc-xtensa-lx106 and
# picolibc-xtensa-lx106-elf. picolibc's specs file is not on gcc's search path.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR xtensa)
set(CMAKE_C_COMPILER xtensa-lx106-elf-gcc)
set(CMAKE_ASM_COMPILER xtensa-lx106-elf-gcc)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(FOTA_TARGET lx106)
set(FOTA_TARGET_SIZE_TOOL xtensa-lx106-elf-size)
set(FOTA_TARGET_NM_TOOL xtensa-lx106-elf-nm)
set(CMAKE_C_FLAGS_INIT "--specs=/usr/lib/xtensa-lx106-elf/picolibc.specs -mlongcalls")
set(CMAKE_ASM_FLAGS_INIT "--specs=/usr/lib/xtensa-lx106-elf/picolibc.specs -mlongcalls")
