/*
 * Console, exit and startup for the lx106 harness on QEMU's xtensa sim
 * machine. picolibc for xtensa has no semihosting layer, so stdout, _exit,
 * getpid and kill (used by assert/abort) are provided here on top of the
 * `simcall` instruction: a2 = call number, a3..a5 = arguments, result in a2.
 */
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "../common/target_rt.h"

/* QEMU's xtensa semihosting call numbers (target/xtensa/xtensa-semi.c). */
enum { SIMCALL_EXIT = 1, SIMCALL_READ = 3, SIMCALL_WRITE = 4, SIMCALL_OPEN = 5,
       SIMCALL_CLOSE = 6, SIMCALL_LSEEK = 19 };

static int simcall(int nr, int a, int b, int c)
{
    register int a2 __asm__("a2") = nr;
    register int a3 __asm__("a3") = a;
    register int a4 __asm__("a4") = b;
    register int a5 __asm__("a5") = c;
    __asm__ volatile("simcall" : "+r"(a2), "+r"(a3) : "r"(a4), "r"(a5) : "memory");
    return a2;
}

void fota_target_write(const char *s, size_t len)
{
    while (len > 0) {
        int n = simcall(SIMCALL_WRITE, 1, (int)(uintptr_t)s, (int)len);
        if (n <= 0)
            return;
        s += n;
        len -= (size_t)n;
    }
}

/* stdout is line-buffered here: one simcall per line keeps runs fast. */
static char out_buf[256];
static size_t out_len;

static int console_flush(FILE *f)
{
    (void)f;
    fota_target_write(out_buf, out_len);
    out_len = 0;
    return 0;
}

static int console_putc(char c, FILE *f)
{
    out_buf[out_len++] = c;
    if (c == '\n' || out_len == sizeof out_buf)
        console_flush(f);
    return (unsigned char)c;
}

static FILE console = FDEV_SETUP_STREAM(console_putc, NULL, console_flush, _FDEV_SETUP_WRITE);
FILE *const stdin = &console;
FILE *const stdout = &console;
FILE *const stderr = &console;

_Noreturn void fota_target_exit(int code)
{
    console_flush(&console);
    for (;;)
        simcall(SIMCALL_EXIT, code, 0, 0);
}

void _exit(int code);
void _exit(int code)
{
    fota_target_exit(code);
}

/* File calls for picolibc's fopen(): the host's files through the emulator
 * (tests that read shared test data; they skip when it is not configured). */
int open(const char *path, int flags, ...);
int open(const char *path, int flags, ...)
{
    return simcall(SIMCALL_OPEN, (int)(uintptr_t)path, flags, 0644);
}

int close(int fd);
int close(int fd)
{
    return simcall(SIMCALL_CLOSE, fd, 0, 0);
}

long read(int fd, void *buf, unsigned long len);
long read(int fd, void *buf, unsigned long len)
{
    return simcall(SIMCALL_READ, fd, (int)(uintptr_t)buf, (int)len);
}

long write(int fd, const void *buf, unsigned long len);
long write(int fd, const void *buf, unsigned long len)
{
    if (fd == 1 || fd == 2) {
        fota_target_write(buf, len);
        return (long)len;
    }
    return simcall(SIMCALL_WRITE, fd, (int)(uintptr_t)buf, (int)len);
}

long lseek(int fd, long offset, int whence);
long lseek(int fd, long offset, int whence)
{
    return simcall(SIMCALL_LSEEK, fd, (int)offset, whence);
}

int getpid(void);
int getpid(void)
{
    return 1;
}

int kill(int pid, int sig);
int kill(int pid, int sig)
{
    (void)pid;
    (void)sig;
    static const char msg[] = "\nABORT: abort() or a failed assert\n";
    console_flush(&console);
    fota_target_write(msg, sizeof msg - 1);
    fota_target_exit(FOTA_TARGET_EXIT_ABORT);
}

/* Called from the vector stubs in start.S on a fresh stack. */
void fota_target_trap(uint32_t slot, uint32_t exccause, uint32_t epc1, uint32_t excvaddr);
void fota_target_trap(uint32_t slot, uint32_t exccause, uint32_t epc1, uint32_t excvaddr)
{
    static const char *const names[8] = {
        "lx106 vector 0x00", "lx106 debug exception",  "lx106 NMI",
        "lx106 kernel exception", "lx106 vector 0x40", "lx106 user exception",
        "lx106 vector 0x60", "lx106 double exception",
    };
    fota_target_report_trap(names[slot & 7], exccause, epc1, excvaddr);
}

extern char __bss_start[], __bss_end[];
extern void (*__init_array_start[])(void);
extern void (*__init_array_end[])(void);
int main(void);

/* Entered from _start with the stack set. Everything is loaded into RAM by
 * QEMU, so only .bss needs clearing. */
void fota_target_start(void);
void fota_target_start(void)
{
    memset(__bss_start, 0, (size_t)(__bss_end - __bss_start));
    for (void (**fn)(void) = __init_array_start; fn < __init_array_end; fn++)
        (*fn)();
    fota_target_exit(main());
}
