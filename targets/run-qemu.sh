#!/bin/sh
# Run one harness ELF on an emulated ESP CPU and pass its exit code on:
#   targets/run-qemu.sh <lx106|rv32imc> <test.elf> [timeout-seconds]
# Output and exit status travel through semihosting. `timeout` bounds every
# run (exit 124 when it fires); see targets/common/target_rt.h for the codes.
set -u
cpu=${1:?usage: run-qemu.sh <lx106|rv32imc> <elf> [timeout]}
elf=${2:?usage: run-qemu.sh <lx106|rv32imc> <elf> [timeout]}
limit=${3:-120}
[ -f "$elf" ] || { echo "run-qemu.sh: $elf not found (did target.$cpu.build run?)" >&2; exit 2; }
case $cpu in
lx106)
    set -- qemu-system-xtensa -M sim -cpu lx106 ;;
rv32imc)
    # Without the a/f/d extensions the emulator rejects what an ESP32-C3 lacks.
    set -- qemu-system-riscv32 -M virt -cpu rv32,a=off,f=off,d=off -bios none ;;
*)
    echo "run-qemu.sh: unknown cpu $cpu" >&2; exit 2 ;;
esac
# QEMU prints the semihosted console on stderr for riscv: merge it into stdout.
timeout --kill-after=5 "$limit" "$@" -nographic -monitor none -semihosting -kernel "$elf" 2>&1
rc=$?
case $rc in
0) ;;
1) echo "run-qemu.sh: $cpu: test failures (exit 1)" ;;
124|137) echo "run-qemu.sh: $cpu: no exit within ${limit}s (hang): stopped by timeout" ;;
250) echo "run-qemu.sh: $cpu: abort() or failed assert (exit 250)" ;;
255) echo "run-qemu.sh: $cpu: trap inside the trap handler (exit 255)" ;;
*) if [ "$rc" -ge 128 ] && [ "$rc" -lt 192 ]; then
       echo "run-qemu.sh: $cpu: CPU trap, cause $((rc - 128)) (exit $rc)"
   else
       echo "run-qemu.sh: $cpu: exit $rc"
   fi ;;
esac
exit $rc
