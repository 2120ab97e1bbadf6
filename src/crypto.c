/* One-shot helpers over a crypto backend (struct fota_crypto). */
#include "fota/crypto.h"

#include "fota/error.h"

int fota_sha256_digest(const struct fota_crypto *c, const void *data, size_t len, uint8_t out[32])
{
    struct fota_sha256 ctx;
    if (!c || !out || (!data && len))
        return FOTA_ERR_INVALID_ARG;
    if (c->sha256_start(c->ctx, &ctx) != 0 || c->sha256_update(c->ctx, &ctx, data, len) != 0 ||
        c->sha256_finish(c->ctx, &ctx, out) != 0)
        return FOTA_ERR_CRYPTO;
    return 0;
}
