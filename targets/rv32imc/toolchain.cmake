# ESP32-C3/C6 (RISC-V rv32imc) with Debian's gcc-riscv64-unknown-elf and
# picolibc-riscv64-unknown-elf. Plain -march=rv32imc: the ESP-IDF spelling
# rv32imc_zicsr_zifencei makes the link pick the rv64 default multilib.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR riscv32)
set(CMAKE_C_COMPILER riscv64-unknown-elf-gcc)
set(CMAKE_ASM_COMPILER riscv64-unknown-elf-gcc)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(FOTA_TARGET rv32imc)
set(FOTA_TARGET_SIZE_TOOL riscv64-unknown-elf-size)
set(FOTA_TARGET_NM_TOOL riscv64-unknown-elf-nm)
set(CMAKE_C_FLAGS_INIT "--specs=picolibc.specs -march=rv32imc -mabi=ilp32")
set(CMAKE_ASM_FLAGS_INIT "--specs=picolibc.specs -march=rv32imc -mabi=ilp32")
