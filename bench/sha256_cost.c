/*
 * bench/sha256_cost BACKEND MIB: hash MIB MiB of zeros through one crypto
 * backend (mbedtls, bearssl, openssl), 4 KiB per update as the agent does.
 * bench/sha256_cost.sh runs it under callgrind at two sizes: the difference
 * over the extra bytes is the backend's instructions per byte.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fota/port.h"
#include "fota_crypto_backends.h"

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        const struct fota_crypto *c;
    } backends[] = {FOTA_CRYPTO_BACKENDS_BY_NAME};
    const struct fota_crypto *c = NULL;
    for (size_t i = 0; argc == 3 && i < sizeof backends / sizeof backends[0]; i++)
        if (!strcmp(argv[1], backends[i].name))
            c = backends[i].c;
    if (!c) {
        fprintf(stderr, "usage: sha256_cost mbedtls|bearssl|openssl MIB (of those built)\n");
        return 2;
    }
    long mib = strtol(argv[2], NULL, 10);
    static unsigned char block[4096];
    struct fota_sha256 sha;
    unsigned char out[32];
    if (c->sha256_start(c->ctx, &sha) != 0)
        return 1;
    for (long i = 0; i < mib * 256; i++)
        if (c->sha256_update(c->ctx, &sha, block, sizeof block) != 0)
            return 1;
    if (c->sha256_finish(c->ctx, &sha, out) != 0)
        return 1;
    printf("%02x%02x%02x%02x\n", out[0], out[1], out[2], out[3]);
    return 0;
}
