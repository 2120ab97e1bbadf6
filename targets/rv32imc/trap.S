/*
 * Machine-mode trap entry for the rv32imc harness: switch to a stack of its
 * own and report through fota_target_rv_trap(mcause, mepc, mtval), which
 * exits. Installed by semihost.c before main (mtvec direct mode needs 4-byte
 * alignment).
 */
    .section .text.fota_target_rv_trap_entry, "ax"
    .global fota_target_rv_trap_entry
    .align 4
fota_target_rv_trap_entry:
    .option push
    .option arch, +zicsr
    la      sp, fota_target_trap_stack_top
    csrr    a0, mcause
    csrr    a1, mepc
    csrr    a2, mtval
    .option pop
    call    fota_target_rv_trap
1:  j       1b

    .section .bss.fota_target_trap_stack, "aw", @nobits
    .align 4
    .space 4096
fota_target_trap_stack_top:
