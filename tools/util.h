/* Small helpers shared by the fota subcommands. */
#ifndef FOTA_TOOLS_UTIL_H
#define FOTA_TOOLS_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Read a whole file into a malloc'd buffer (NUL-terminated for text use).
 * Returns NULL and prints "fota: cannot read PATH: reason" on failure. */
uint8_t *util_read_file(const char *path, size_t *len);
/* Write a file atomically (temp + rename). Returns 0 or -1 with a message. */
int util_write_file(const char *path, const void *data, size_t len);
/* Lower-case hex of data into out (2*len+1 bytes). */
void util_hex(const uint8_t *data, size_t len, char *out);

#endif
