/*
 * fota_target_call_on_stack(fn, arg, stack_top): call fn(arg) with sp at
 * stack_top (16-byte aligned), then return on the caller's stack (see
 * targets/lx106/call_on_stack.S). s0 is callee-saved.
 */
    .section .text.fota_target_call_on_stack, "ax"
    .global fota_target_call_on_stack
    .type   fota_target_call_on_stack, @function
    .align  2
fota_target_call_on_stack:
    addi    sp, sp, -16
    sw      ra, 12(sp)
    sw      s0, 8(sp)
    mv      s0, sp
    mv      t0, a0
    mv      a0, a1
    mv      sp, a2
    jalr    t0
    mv      sp, s0
    lw      s0, 8(sp)
    lw      ra, 12(sp)
    addi    sp, sp, 16
    ret
    .size   fota_target_call_on_stack, . - fota_target_call_on_stack
