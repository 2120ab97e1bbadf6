/*
 * Reset and exception vectors plus entry for the harness on QEMU's
 * `-M sim -cpu lx106`. QEMU resets the CPU after loading the ELF, so execution
 * starts at the lx106 reset vector (0x50000000), not at the ELF entry. Every
 * exception vector (VECBASE 0x40000000) ends the run through the trap
 * handler so that a crash exits with a distinctive code instead of hanging.
 * Call0 ABI: arguments in a2..a7, return address in a0, stack in a1.
 */

    .section .ResetVector.text, "ax"
    .global _ResetVector
_ResetVector:
    j       1f
    .align  4
.Lstart_addr:
    .word   _start
1:  l32r    a0, .Lstart_addr
    jx      a0

/* One stub per 16-byte vector slot; a2 = slot number for the handler. The
 * lx106 vectors: 0x10 debug, 0x20 NMI, 0x30 kernel, 0x50 user, 0x70 double. */
    .section .vectors.text, "ax"
    .global _vectors
_vectors:
    .irp    slot, 0, 1, 2, 3, 4, 5, 6, 7
    .org    \slot * 16
    movi    a2, \slot
    j       .Ltrap_common
    .endr

    .org    0x80
    .align  4
.Ltrap_stack:
    .word   __trap_stack
.Ltrap_fn:
    .word   fota_target_trap
.Ltrap_common:
    rsr     a3, exccause
    rsr     a4, epc1
    rsr     a5, excvaddr
    l32r    a1, .Ltrap_stack
    l32r    a0, .Ltrap_fn
    callx0  a0
1:  j       1b

    .section .text._start, "ax"
    .global _start
    .align  4
.Lstack_top:
    .word   __stack
.Lc_start:
    .word   fota_target_start
_start:
    l32r    a1, .Lstack_top
    movi    a0, 0
    /* PS after reset has EXCM set, which turns every exception into a double
     * exception (no EPC1). Clear it; INTLEVEL 15 keeps interrupts off. */
    movi    a2, 0x0f
    wsr     a2, ps
    rsync
    l32r    a2, .Lc_start
    callx0  a2
2:  j       2b
