/* The flash simulator backed by a mapped file, so a simulated device keeps
 * its flash across runs (and across simulated power cuts that end a process). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flash.h"

int sim_flash_open(struct sim_flash *f, const char *path, uint32_t size,
                          uint32_t sector_size, uint32_t write_size)
{
    memset(f, 0, sizeof *f);
    f->fd = -1;
    if (sim_flash_check_geometry(f, size, sector_size, write_size) < 0)
        return -1;
    int fd = open(path, O_RDWR | O_CREAT, 0644);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        snprintf(f->error, sizeof f->error, "cannot open flash file %s: %s", path,
                 strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int fresh = st.st_size == 0;
    if (!fresh && (uint64_t)st.st_size != size) {
        snprintf(f->error, sizeof f->error, "flash file %s has %lld bytes, expected %u", path,
                 (long long)st.st_size, (unsigned)size);
        close(fd);
        return -1;
    }
    if (fresh && ftruncate(fd, size) < 0) {
        snprintf(f->error, sizeof f->error, "cannot size flash file %s: %s", path,
                 strerror(errno));
        close(fd);
        return -1;
    }
    void *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (mem == MAP_FAILED) {
        snprintf(f->error, sizeof f->error, "cannot map flash file %s: %s", path,
                 strerror(errno));
        close(fd);
        return -1;
    }
    f->mem = mem;
    f->fd = fd;
    f->size = size;
    if (fresh)
        memset(f->mem, 0xFF, size);
    sim_flash_init_iface(f, sector_size, write_size);
    return 0;
}

void sim_flash_close(struct sim_flash *f)
{
    if (f->mem && f->fd >= 0) {
        munmap(f->mem, f->size);
        close(f->fd);
    }
    f->mem = NULL;
    f->fd = -1;
}
