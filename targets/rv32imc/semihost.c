/*
 * Console and exit for the rv32imc harness on QEMU's virt machine. picolibc's
 * semihosting layer (--oslib=semihost --crt0=semihost) provides stdout and
 * _exit; this adds a trap handler that exits with 128 + mcause (picolibc's
 * own dumps the registers but exits 1, the same code as a failed test).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../common/target_rt.h"

void fota_target_write(const char *s, size_t len)
{
    fwrite(s, 1, len, stdout);
    fflush(stdout);
}

_Noreturn void fota_target_exit(int code)
{
    fflush(stdout);
    _exit(code);
}

void fota_target_rv_trap(uint32_t mcause, uint32_t mepc, uint32_t mtval);
void fota_target_rv_trap(uint32_t mcause, uint32_t mepc, uint32_t mtval)
{
    fota_target_report_trap("rv32 mcause", mcause, mepc, mtval);
}

/* abort() and failed asserts end up here through picolibc's raise(). */
void abort(void)
{
    static const char msg[] = "\nABORT: abort() or a failed assert\n";
    fota_target_write(msg, sizeof msg - 1);
    fota_target_exit(FOTA_TARGET_EXIT_ABORT);
}

void fota_target_rv_trap_entry(void);

__attribute__((constructor(101))) static void install_trap_handler(void)
{
    /* -march=rv32imc without _zicsr: the link must pick the rv32im multilib. */
    __asm__ volatile(".option push\n.option arch, +zicsr\ncsrw mtvec, %0\n.option pop"
                     :
                     : "r"((uintptr_t)fota_target_rv_trap_entry));
}
