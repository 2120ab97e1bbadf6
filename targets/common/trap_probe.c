/*
 * Deliberately crashes: the ctest test target.<cpu>.trap_handler checks that
 * a fault ends the emulator at once with a trap exit code (128 + cause)
 * instead of hanging until the timeout.
 */
#include <stdint.h>
#include <stdio.h>

int main(void)
{
    printf("trap_probe: loading from an unmapped address\n");
    /* Through a volatile so that the compiler cannot see the bad pointer. */
    volatile uintptr_t address = 0x10;
    volatile uint32_t *unmapped = (volatile uint32_t *)address;
    printf("trap_probe: survived, read 0x%lx\n", (unsigned long)*unmapped);
    return 0;
}
