/*
 * TLS transport on mbedTLS (2.28 and 3.x), layered over any plain transport.
 *
 * fota_tls_init() fills t->transport, a struct fota_transport whose
 * connect(host, port, tls, timeout) opens the lower transport and, when tls is
 * non-zero, runs the TLS handshake over it: SNI = host, the server certificate
 * must chain to the configured CA(s) and name `host` (DNS name or IP address),
 * and its validity dates are checked when cfg->check_time is set. With tls == 0
 * every call passes straight through to the lower transport, so one transport
 * list serves http:// and https:// URLs alike. The lower transport may be the
 * POSIX sockets transport, an lwIP one or the SIM800 modem (TCP over GPRS).
 *
 * Memory: the mbedTLS contexts live in the caller's struct fota_tls, but
 * mbedTLS allocates internally through its own calloc/free (MBEDTLS_PLATFORM_
 * MEMORY lets a port route that to a pool): the parsed CA chain at init, and
 * per connection the record buffers (MBEDTLS_SSL_IN_CONTENT_LEN and
 * MBEDTLS_SSL_OUT_CONTENT_LEN plus about 90 bytes each, 16 KB each by default),
 * the handshake state and the peer certificate. The connection memory is
 * taken in connect() and given back in close(). cfg->max_frag_len asks the
 * server for smaller records (RFC 6066), which is what lets a build with a
 * small MBEDTLS_SSL_IN_CONTENT_LEN work. Measured sizes: docs/transports.md.
 *
 * Errors of connect(): the lower transport's own code when the link failed
 * (FOTA_ERR_DNS, FOTA_ERR_CONNECT_*, FOTA_ERR_LINK, FOTA_ERR_TIMEOUT ...);
 * FOTA_ERR_TLS_CERT_UNTRUSTED, FOTA_ERR_TLS_CERT_EXPIRED (also "not yet
 * valid"), FOTA_ERR_TLS_NAME_MISMATCH from the certificate verification;
 * FOTA_ERR_TLS_HANDSHAKE for any other handshake failure (alert, no common
 * cipher, protocol error); FOTA_ERR_TLS for failures after the handshake.
 * detail() names the cause in words (mbedTLS's error text or the
 * verification flags).
 */
#ifndef FOTA_TLS_H
#define FOTA_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "mbedtls/version.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/entropy.h"
#include "mbedtls/ssl.h"
#include "mbedtls/x509_crt.h"

#include "fota/fota.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FOTA_TLS_DETAIL_MAX 160

/* Values of fota_tls_config.max_frag_len (RFC 6066 max_fragment_length). */
enum fota_tls_mfl {
    FOTA_TLS_MFL_NONE = 0, /* server may send 16 KB records */
    FOTA_TLS_MFL_512 = 1,
    FOTA_TLS_MFL_1024 = 2,
    FOTA_TLS_MFL_2048 = 3,
    FOTA_TLS_MFL_4096 = 4,
};

struct fota_tls_config {
    /* Trusted CA certificates: a PEM bundle (one or more certificates) or one
     * DER certificate, in memory. A PEM buffer must end with its NUL, which
     * ca_len includes (ca_len 0: strlen(ca) + 1). Pinning a single CA is just
     * a one-certificate bundle. Copied (parsed) at init. Required. */
    const uint8_t *ca;
    size_t ca_len;
    /* Check the certificates' validity dates against the clock mbedTLS uses
     * (mbedtls_time). Only set it when the device has a trusted time; without
     * one every certificate would look not-yet-valid. */
    uint8_t check_time;
    /* enum fota_tls_mfl; needs MBEDTLS_SSL_MAX_FRAGMENT_LENGTH. */
    uint8_t max_frag_len;
    /* Name of the resulting transport; NULL: the lower transport's name. */
    const char *name;
    /* Personalisation string for the DRBG seed (e.g. the MAC); may be NULL. */
    const char *personalization;
};

/* Everything private; here so the caller owns the memory. */
struct fota_tls {
    struct fota_transport transport; /* what the agent uses */
    const struct fota_transport *lower;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_x509_crt ca;
    mbedtls_ssl_config conf;
    mbedtls_ssl_context ssl;
    uint8_t ssl_ready;   /* ssl is set up (connection memory taken) */
    uint8_t tls_active;  /* the open connection uses TLS */
    uint8_t lower_open;
    uint8_t check_time;
    uint32_t io_timeout_ms; /* timeout of the read or write in progress */
    int lower_err;          /* error of the lower transport inside mbedTLS */
    uint32_t verify_flags;  /* of the last handshake */
    char detail[FOTA_TLS_DETAIL_MAX];
};

/* Parse the CA(s), seed the DRBG, prepare the mbedTLS configuration and fill
 * t->transport. `lower` must outlive t. Returns 0, FOTA_ERR_INVALID_ARG,
 * FOTA_ERR_TLS (CA not parseable, detail says why; also with
 * max_frag_len on a build without MBEDTLS_SSL_MAX_FRAGMENT_LENGTH) or
 * FOTA_ERR_CRYPTO (DRBG seeding failed). */
int fota_tls_init(struct fota_tls *t, const struct fota_tls_config *cfg,
                  const struct fota_transport *lower);

/* Close any connection and release everything mbedTLS allocated. */
void fota_tls_free(struct fota_tls *t);

/* Verification flags of the last handshake (MBEDTLS_X509_BADCERT_*), 0 when
 * the certificate verified. */
uint32_t fota_tls_verify_flags(const struct fota_tls *t);

#ifdef __cplusplus
}
#endif
#endif
