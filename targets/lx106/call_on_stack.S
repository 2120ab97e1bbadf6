/*
 * fota_target_call_on_stack(fn, arg, stack_top): call fn(arg) with the stack
 * pointer at stack_top (16-byte aligned), then return on the caller's stack.
 * The tests use it to run code on a stack of a chosen size, as the ESP8266
 * Arduino core runs loop() on its 4 KiB cont stack and BearSSL on the stack
 * thunk's (cores/esp8266/cont.h, StackThunk.h). Call0 ABI: a12 is callee-saved.
 */
    .section .text.fota_target_call_on_stack, "ax"
    .global fota_target_call_on_stack
    .type   fota_target_call_on_stack, @function
    .align  4
fota_target_call_on_stack:
    addi    a1, a1, -16
    s32i    a0, a1, 0
    s32i    a12, a1, 4
    mov     a12, a1
    mov     a5, a2
    mov     a2, a3
    mov     a1, a4
    callx0  a5
    mov     a1, a12
    l32i    a12, a1, 4
    l32i    a0, a1, 0
    addi    a1, a1, 16
    ret
    .size   fota_target_call_on_stack, . - fota_target_call_on_stack
