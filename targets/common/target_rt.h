/*
 * The bare-metal runtime of the test harness on emulated ESP CPUs: console
 * output and exit through semihosting, and trap reporting. Only the test
 * harness links this; the fota core never does.
 *
 * Exit codes: 0 all tests passed, 1 some failed (tests/harness.h),
 * 128 + cause for a CPU trap (lx106 EXCCAUSE / RISC-V mcause, 128..191),
 * 250 abort()/assert, 255 a trap inside the trap handler.
 * The runner adds 124 when `timeout` had to stop the emulator.
 */
#ifndef FOTA_TARGET_RT_H
#define FOTA_TARGET_RT_H

#include <stddef.h>
#include <stdint.h>

#define FOTA_TARGET_EXIT_TRAP_BASE 128
#define FOTA_TARGET_EXIT_ABORT 250
#define FOTA_TARGET_EXIT_DOUBLE_TRAP 255

/* Per target (lx106/semihost.c, rv32imc/semihost.c). */
void fota_target_write(const char *s, size_t len);
_Noreturn void fota_target_exit(int code);

/* Common: print "TRAP ..." with the CPU's cause and addresses, then exit
 * with FOTA_TARGET_EXIT_TRAP_BASE + cause. */
_Noreturn void fota_target_report_trap(const char *what, uint32_t cause, uint32_t pc,
                                       uint32_t addr);

/* Per target (<cpu>/call_on_stack.S): call fn(arg) with the stack pointer at
 * stack_top (16-byte aligned) and come back on the caller's stack. */
void fota_target_call_on_stack(void (*fn)(void *), void *arg, void *stack_top);

#endif
