/* Trap report shared by the targets: no printf, the C library's state may
 * be what broke. */
#include "target_rt.h"

static volatile int in_trap;

static size_t put_str(char *out, size_t pos, size_t cap, const char *s)
{
    while (*s != '\0' && pos < cap)
        out[pos++] = *s++;
    return pos;
}

static size_t put_hex(char *out, size_t pos, size_t cap, uint32_t v)
{
    static const char digits[] = "0123456789abcdef";
    pos = put_str(out, pos, cap, "0x");
    for (int shift = 28; shift >= 0 && pos < cap; shift -= 4)
        out[pos++] = digits[(v >> shift) & 0xf];
    return pos;
}

_Noreturn void fota_target_report_trap(const char *what, uint32_t cause, uint32_t pc,
                                       uint32_t addr)
{
    if (in_trap)
        fota_target_exit(FOTA_TARGET_EXIT_DOUBLE_TRAP);
    in_trap = 1;
    char line[160];
    size_t n = 0;
    n = put_str(line, n, sizeof line, "\nTRAP: ");
    n = put_str(line, n, sizeof line, what);
    n = put_str(line, n, sizeof line, " cause ");
    n = put_hex(line, n, sizeof line, cause);
    n = put_str(line, n, sizeof line, " pc ");
    n = put_hex(line, n, sizeof line, pc);
    n = put_str(line, n, sizeof line, " addr ");
    n = put_hex(line, n, sizeof line, addr);
    n = put_str(line, n, sizeof line, "\n");
    fota_target_write(line, n);
    fota_target_exit(FOTA_TARGET_EXIT_TRAP_BASE + (int)(cause & 63));
}
