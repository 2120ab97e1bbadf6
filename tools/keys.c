#define _POSIX_C_SOURCE 200809L
#include "keys.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fota/error.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/ecdsa.h"
#include "mbedtls/ecp.h"
#include "mbedtls/entropy.h"
#include "mbedtls/error.h"
#include "mbedtls/platform_util.h"
#include "util.h"
#include "fota_crypto_backends.h"

static void report(const char *what, const char *path, int ret)
{
    char msg[160];
    mbedtls_strerror(ret, msg, sizeof msg);
    if (path)
        fprintf(stderr, "fota: %s %s: %s (mbedTLS -0x%04x)\n", what, path, msg, (unsigned)-ret);
    else
        fprintf(stderr, "fota: %s: %s (mbedTLS -0x%04x)\n", what, msg, (unsigned)-ret);
}

/* A DRBG seeded from the system's entropy: for key generation, and for the
 * blinding that mbedTLS applies while signing (the signature itself is
 * deterministic). */
struct rng {
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
};

static int rng_init(struct rng *r)
{
    static const char pers[] = "fota-tools";
    int ret;
    mbedtls_entropy_init(&r->entropy);
    mbedtls_ctr_drbg_init(&r->drbg);
    ret = mbedtls_ctr_drbg_seed(&r->drbg, mbedtls_entropy_func, &r->entropy,
                                (const unsigned char *)pers, sizeof pers - 1);
    if (ret != 0)
        report("cannot seed the random generator", NULL, ret);
    return ret == 0 ? 0 : -1;
}

static void rng_free(struct rng *r)
{
    mbedtls_ctr_drbg_free(&r->drbg);
    mbedtls_entropy_free(&r->entropy);
}

/* Fill pub/id from the EC key inside k->pk; checks the curve. */
static int finish_load(struct tool_key *k, const char *path)
{
    mbedtls_ecp_keypair *ec;
    size_t olen = 0;
    int ret;

    if (mbedtls_pk_get_type(&k->pk) != MBEDTLS_PK_ECKEY) {
        fprintf(stderr, "fota: %s: not an EC key (fota signs with ECDSA P-256)\n", path);
        return -1;
    }
    ec = mbedtls_pk_ec(k->pk);
    if (ec->grp.id != MBEDTLS_ECP_DP_SECP256R1) {
        fprintf(stderr, "fota: %s: EC key is not on the P-256 curve (secp256r1)\n", path);
        return -1;
    }
    ret = mbedtls_ecp_point_write_binary(&ec->grp, &ec->Q, MBEDTLS_ECP_PF_UNCOMPRESSED, &olen,
                                         k->pub, sizeof k->pub);
    if (ret != 0 || olen != sizeof k->pub) {
        report("cannot encode the public key of", path, ret);
        return -1;
    }
    if (fota_key_id(&FOTA_CRYPTO_HOST, k->pub, k->id) != 0) {
        fprintf(stderr, "fota: %s: cannot compute the key id\n", path);
        return -1;
    }
    util_hex(k->id, sizeof k->id, k->id_hex);
    return 0;
}

static void key_init(struct tool_key *k)
{
    memset(k, 0, sizeof *k);
    mbedtls_pk_init(&k->pk);
}

void keys_free(struct tool_key *k)
{
    mbedtls_pk_free(&k->pk);
    memset(k, 0, sizeof *k);
}

int keys_generate(struct tool_key *k)
{
    struct rng rng;
    int ret;

    key_init(k);
    if (rng_init(&rng) != 0)
        return -1;
    ret = mbedtls_pk_setup(&k->pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
    if (ret == 0)
        ret = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(k->pk),
                                  mbedtls_ctr_drbg_random, &rng.drbg);
    rng_free(&rng);
    if (ret != 0) {
        report("cannot generate a P-256 key", NULL, ret);
        keys_free(k);
        return -1;
    }
    k->has_private = 1;
    if (finish_load(k, "new key") != 0) {
        keys_free(k);
        return -1;
    }
    return 0;
}

/* Parse a PEM (or DER) key file: a private key when want_private, else a
 * public key or, failing that, a private key whose public half is used. */
static int load_file(const char *path, struct tool_key *k, int want_private)
{
    size_t len = 0;
    uint8_t *buf = util_read_file(path, &len); /* prints why on failure */
    int ret = -1;

    key_init(k);
    if (!buf)
        return -1;
    /* mbedTLS wants the PEM's terminating NUL counted; util_read_file adds it. */
    if (!want_private)
        ret = mbedtls_pk_parse_public_key(&k->pk, buf, len + 1);
    if (ret != 0) {
        mbedtls_pk_free(&k->pk);
        mbedtls_pk_init(&k->pk);
        ret = mbedtls_pk_parse_key(&k->pk, buf, len + 1, NULL, 0);
        k->has_private = ret == 0;
    }
    mbedtls_platform_zeroize(buf, len);
    free(buf);
    if (ret != 0) {
        report(want_private ? "cannot load the private key" : "cannot load a public or private key",
               path, ret);
        keys_free(k);
        return -1;
    }
    if (finish_load(k, path) != 0) {
        keys_free(k);
        return -1;
    }
    return 0;
}

int keys_load_private(const char *path, struct tool_key *k)
{
    return load_file(path, k, 1);
}

int keys_load_any(const char *path, struct tool_key *k)
{
    return load_file(path, k, 0);
}

int keys_private_pem(struct tool_key *k, char *buf, size_t size)
{
    int ret = mbedtls_pk_write_key_pem(&k->pk, (unsigned char *)buf, size);
    if (ret != 0)
        report("cannot encode the private key as PEM", NULL, ret);
    return ret == 0 ? 0 : -1;
}

int keys_public_pem(struct tool_key *k, char *buf, size_t size)
{
    int ret = mbedtls_pk_write_pubkey_pem(&k->pk, (unsigned char *)buf, size);
    if (ret != 0)
        report("cannot encode the public key as PEM", NULL, ret);
    return ret == 0 ? 0 : -1;
}

int keys_sign(struct tool_key *k, const uint8_t hash[32], uint8_t sig[FOTA_P256_SIG_SIZE])
{
    mbedtls_ecp_keypair *ec = mbedtls_pk_ec(k->pk);
    mbedtls_mpi r, s;
    struct rng rng;
    int ret;

    if (!k->has_private) {
        fprintf(stderr, "fota: cannot sign: the key %s has no private part\n", k->id_hex);
        return -1;
    }
    if (rng_init(&rng) != 0)
        return -1;
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    ret = mbedtls_ecdsa_sign_det_ext(&ec->grp, &r, &s, &ec->d, hash, 32, MBEDTLS_MD_SHA256,
                                     mbedtls_ctr_drbg_random, &rng.drbg);
    if (ret == 0)
        ret = mbedtls_mpi_write_binary(&r, sig, FOTA_P256_SIG_SIZE / 2);
    if (ret == 0)
        ret = mbedtls_mpi_write_binary(&s, sig + FOTA_P256_SIG_SIZE / 2, FOTA_P256_SIG_SIZE / 2);
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&s);
    rng_free(&rng);
    if (ret != 0) {
        report("signing failed", NULL, ret);
        return -1;
    }
    /* Check with the device-side code before anything is published. */
    if (FOTA_CRYPTO_HOST.p256_verify(FOTA_CRYPTO_HOST.ctx, k->pub, hash, sig) != 0) {
        fprintf(stderr, "fota: the new signature does not verify with key %s\n", k->id_hex);
        return -1;
    }
    return 0;
}

int keys_check_private_mode(const char *tool, const char *path, int strict)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "%s: cannot examine %s: %s\n", tool, path, strerror(errno));
        return -1;
    }
    unsigned mode = (unsigned)st.st_mode & 07777u;
    if ((mode & 077u) == 0)
        return 0;
    fprintf(stderr,
            "%s: %s: private key %s has mode %04o: group or others can %s it; "
            "run: chmod 600 %s%s\n",
            tool, strict ? "error" : "warning", path, mode,
            (mode & 044u) ? "read" : "access", path,
            strict ? " (refused with --strict)" : "");
    return strict ? -1 : 0;
}
