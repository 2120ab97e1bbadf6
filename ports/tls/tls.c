/*
 * TLS transport on mbedTLS 2.28 / 3.x over any plain struct fota_transport.
 * See fota_tls.h for the contract and docs/transports.md for sizes.
 */
#include "fota_tls.h"

#include <string.h>

#include "mbedtls/error.h"

#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#include "psa/crypto.h"
#endif

/* Bound on the WANT_READ/WANT_WRITE/new-ticket retries of one read or write:
 * with blocking lower I/O mbedTLS returns those only after it consumed a
 * non-application record, so a handful is plenty. */
#define TLS_IO_RETRIES 16
#define CLOSE_NOTIFY_TIMEOUT_MS 1000

/* ---- small string helpers (no stdio) ------------------------------------- */

static void detail_set(struct fota_tls *t, const char *a, const char *b)
{
    size_t n = 0;
    const char *parts[2] = {a, b};
    for (size_t p = 0; p < 2; p++) {
        const char *s = parts[p];
        if (s == NULL)
            continue;
        for (size_t i = 0; s[i] != '\0' && n + 1 < sizeof(t->detail); i++)
            t->detail[n++] = s[i];
    }
    t->detail[n] = '\0';
}

#if !defined(MBEDTLS_ERROR_C)
/* "-0x2700" style text of an mbedTLS code, for builds without MBEDTLS_ERROR_C. */
static void hex_code(char *out, int code)
{
    static const char hex[] = "0123456789abcdef";
    unsigned v = (unsigned)(code < 0 ? -code : code);
    out[0] = '-';
    out[1] = '0';
    out[2] = 'x';
    for (int i = 0; i < 4; i++)
        out[3 + i] = hex[(v >> (12 - 4 * i)) & 0xf];
    out[7] = '\0';
}
#endif

static void detail_mbedtls(struct fota_tls *t, const char *step, int code)
{
    char text[FOTA_TLS_DETAIL_MAX];
#if defined(MBEDTLS_ERROR_C)
    mbedtls_strerror(code, text, sizeof(text));
#else
    hex_code(text, code);
#endif
    detail_set(t, step, text);
}

/* mbedtls_x509_crt_verify_info() writes one line per flag; make it one line
 * joined by "; ". */
static void detail_verify(struct fota_tls *t, uint32_t flags)
{
    char text[FOTA_TLS_DETAIL_MAX];
#if defined(MBEDTLS_X509_REMOVE_INFO) /* 3.x option that drops the texts */
    int n = -1;
    (void)flags;
#else
    int n = mbedtls_x509_crt_verify_info(text, sizeof(text), "", flags);
#endif
    if (n < 0) {
        detail_set(t, "certificate verification failed", NULL);
        return;
    }
    size_t len = strlen(text);
    while (len > 0 && text[len - 1] == '\n')
        text[--len] = '\0';
    for (size_t i = 0; i < len; i++)
        if (text[i] == '\n')
            text[i] = ';';
    detail_set(t, "certificate: ", text);
}

/* ---- mbedTLS I/O callbacks over the lower transport ---------------------- */

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    struct fota_tls *t = ctx;
    int r = t->lower->send(t->lower->ctx, buf, len, t->io_timeout_ms);
    if (r > 0)
        return r;
    t->lower_err = r < 0 ? r : FOTA_ERR_SEND;
    return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
}

static int bio_recv_timeout(void *ctx, unsigned char *buf, size_t len, uint32_t timeout)
{
    struct fota_tls *t = ctx;
    (void)timeout; /* the transport's own per-call timeout governs */
    int r = t->lower->recv(t->lower->ctx, buf, len, t->io_timeout_ms);
    if (r > 0)
        return r;
    if (r == 0)
        return MBEDTLS_ERR_SSL_CONN_EOF;
    if (r == FOTA_ERR_TIMEOUT)
        return MBEDTLS_ERR_SSL_TIMEOUT;
    t->lower_err = r;
    return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
}

/* Without a trusted clock the validity dates mean nothing: drop those flags
 * so that an unset RTC does not make every certificate "not yet valid". */
static int verify_cb(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
    struct fota_tls *t = ctx;
    (void)crt;
    (void)depth;
    if (!t->check_time)
        *flags &= ~(uint32_t)(MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE);
    return 0;
}

/* ---- error mapping ------------------------------------------------------- */

static int map_verify_flags(uint32_t flags)
{
    /* An untrusted chain makes its dates and names meaningless, so it comes
     * first; then expiry (a real but stale certificate); then the name. */
    if (flags & (MBEDTLS_X509_BADCERT_NOT_TRUSTED | MBEDTLS_X509_BADCERT_REVOKED |
                 MBEDTLS_X509_BADCERT_MISSING | MBEDTLS_X509_BADCERT_SKIP_VERIFY |
                 MBEDTLS_X509_BADCERT_OTHER | MBEDTLS_X509_BADCERT_KEY_USAGE |
                 MBEDTLS_X509_BADCERT_EXT_KEY_USAGE | MBEDTLS_X509_BADCERT_NS_CERT_TYPE |
                 MBEDTLS_X509_BADCERT_BAD_MD | MBEDTLS_X509_BADCERT_BAD_PK |
                 MBEDTLS_X509_BADCERT_BAD_KEY))
        return FOTA_ERR_TLS_CERT_UNTRUSTED;
    if (flags & (MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE))
        return FOTA_ERR_TLS_CERT_EXPIRED;
    if (flags & MBEDTLS_X509_BADCERT_CN_MISMATCH)
        return FOTA_ERR_TLS_NAME_MISMATCH;
    return FOTA_ERR_TLS_CERT_UNTRUSTED;
}

/* Map an mbedTLS return of a read/write/handshake. A failure of the lower
 * link wins: the TLS layer only saw its consequence. */
static int map_io_error(struct fota_tls *t, int ret, const char *step, int fallback)
{
    if (t->lower_err != 0) {
        const char *d = t->lower->detail ? t->lower->detail(t->lower->ctx) : NULL;
        detail_set(t, step, d ? d : "lower transport failed");
        return t->lower_err;
    }
    if (ret == MBEDTLS_ERR_SSL_TIMEOUT) {
        detail_set(t, step, "timed out waiting for data");
        return FOTA_ERR_TIMEOUT;
    }
    detail_mbedtls(t, step, ret);
    return fallback;
}

/* ---- connection ---------------------------------------------------------- */

static void ssl_release(struct fota_tls *t)
{
    if (t->ssl_ready) {
        mbedtls_ssl_free(&t->ssl);
        t->ssl_ready = 0;
    }
    t->tls_active = 0;
}

static void tls_close(void *ctx)
{
    struct fota_tls *t = ctx;
    if (t->tls_active && t->lower_open) {
        /* Best effort; a dead link must not hold us long. */
        t->io_timeout_ms = CLOSE_NOTIFY_TIMEOUT_MS;
        t->lower_err = 0;
        (void)mbedtls_ssl_close_notify(&t->ssl);
    }
    ssl_release(t);
    if (t->lower_open) {
        t->lower->close(t->lower->ctx);
        t->lower_open = 0;
    }
}

static int tls_connect(void *ctx, const char *host, uint16_t port, int tls, uint32_t timeout_ms)
{
    struct fota_tls *t = ctx;
    int r;

    if (host == NULL || host[0] == '\0')
        return FOTA_ERR_INVALID_ARG;
    tls_close(t);
    t->detail[0] = '\0';
    t->verify_flags = 0;
    t->lower_err = 0;

    r = t->lower->connect(t->lower->ctx, host, port, 0, timeout_ms);
    if (r < 0) {
        const char *d = t->lower->detail ? t->lower->detail(t->lower->ctx) : NULL;
        detail_set(t, d, NULL);
        return r;
    }
    t->lower_open = 1;
    if (!tls)
        return 0;

    mbedtls_ssl_init(&t->ssl);
    t->ssl_ready = 1;
    r = mbedtls_ssl_setup(&t->ssl, &t->conf);
    if (r != 0) {
        detail_mbedtls(t, "TLS setup: ", r);
        tls_close(t);
        return FOTA_ERR_TLS;
    }
    r = mbedtls_ssl_set_hostname(&t->ssl, host);
    if (r != 0) {
        detail_mbedtls(t, "TLS server name: ", r);
        tls_close(t);
        return FOTA_ERR_TLS;
    }
    mbedtls_ssl_set_bio(&t->ssl, t, bio_send, NULL, bio_recv_timeout);

    /* Each read of the handshake waits at most timeout_ms. The lower I/O
     * blocks, so mbedTLS returns WANT_* only if it asks to be called again
     * without I/O; the loop is bounded all the same. */
    t->io_timeout_ms = timeout_ms;
    for (int i = 0; i < TLS_IO_RETRIES; i++) {
        r = mbedtls_ssl_handshake(&t->ssl);
        if (r != MBEDTLS_ERR_SSL_WANT_READ && r != MBEDTLS_ERR_SSL_WANT_WRITE)
            break;
    }
    if (r == 0) {
        t->tls_active = 1;
        return 0;
    }

    int err;
    t->verify_flags = mbedtls_ssl_get_verify_result(&t->ssl);
    if (r == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED && t->verify_flags != 0 &&
        t->verify_flags != (uint32_t)-1) {
        err = map_verify_flags(t->verify_flags);
        detail_verify(t, t->verify_flags);
    } else {
        if (t->verify_flags == (uint32_t)-1)
            t->verify_flags = 0;
        err = map_io_error(t, r, "TLS handshake: ", FOTA_ERR_TLS_HANDSHAKE);
    }
    /* No close_notify after a failed handshake: just drop the link. */
    ssl_release(t);
    t->lower->close(t->lower->ctx);
    t->lower_open = 0;
    return err;
}

static int tls_send(void *ctx, const uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    struct fota_tls *t = ctx;
    if (!t->lower_open)
        return FOTA_ERR_SEND;
    if (!t->tls_active)
        return t->lower->send(t->lower->ctx, buf, len, timeout_ms);
    t->io_timeout_ms = timeout_ms;
    t->lower_err = 0;
    int r = MBEDTLS_ERR_SSL_WANT_WRITE;
    for (int i = 0; i < TLS_IO_RETRIES; i++) {
        r = mbedtls_ssl_write(&t->ssl, buf, len);
        if (r != MBEDTLS_ERR_SSL_WANT_READ && r != MBEDTLS_ERR_SSL_WANT_WRITE)
            break;
    }
    if (r > 0)
        return r;
    return map_io_error(t, r, "TLS write: ", FOTA_ERR_TLS);
}

static int tls_recv(void *ctx, uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    struct fota_tls *t = ctx;
    if (!t->lower_open)
        return FOTA_ERR_RECV;
    if (!t->tls_active)
        return t->lower->recv(t->lower->ctx, buf, len, timeout_ms);
    t->io_timeout_ms = timeout_ms;
    t->lower_err = 0;
    int r = MBEDTLS_ERR_SSL_WANT_READ;
    for (int i = 0; i < TLS_IO_RETRIES; i++) {
        r = mbedtls_ssl_read(&t->ssl, buf, len);
        if (r != MBEDTLS_ERR_SSL_WANT_READ && r != MBEDTLS_ERR_SSL_WANT_WRITE
#if defined(MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
            && r != MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET
#endif
        )
            break;
    }
    if (r > 0)
        return r;
    /* End of stream, with or without close_notify: the HTTP layer checks the
     * body length, so a truncation still shows as FOTA_ERR_HTTP_LENGTH. */
    if (r == 0 || r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || r == MBEDTLS_ERR_SSL_CONN_EOF)
        return 0;
    return map_io_error(t, r, "TLS read: ", FOTA_ERR_TLS);
}

static const char *tls_detail(void *ctx)
{
    struct fota_tls *t = ctx;
    return t->detail[0] ? t->detail : NULL;
}

/* ---- setup --------------------------------------------------------------- */

#if defined(MBEDTLS_SSL_MAX_FRAGMENT_LENGTH)
static unsigned char mfl_code(uint8_t mfl)
{
    switch (mfl) {
    case FOTA_TLS_MFL_512: return MBEDTLS_SSL_MAX_FRAG_LEN_512;
    case FOTA_TLS_MFL_1024: return MBEDTLS_SSL_MAX_FRAG_LEN_1024;
    case FOTA_TLS_MFL_2048: return MBEDTLS_SSL_MAX_FRAG_LEN_2048;
    case FOTA_TLS_MFL_4096: return MBEDTLS_SSL_MAX_FRAG_LEN_4096;
    default: return MBEDTLS_SSL_MAX_FRAG_LEN_NONE;
    }
}
#endif

int fota_tls_init(struct fota_tls *t, const struct fota_tls_config *cfg,
                  const struct fota_transport *lower)
{
    int r;

    if (t == NULL || cfg == NULL || lower == NULL || cfg->ca == NULL || lower->connect == NULL ||
        lower->send == NULL || lower->recv == NULL || lower->close == NULL ||
        cfg->max_frag_len > FOTA_TLS_MFL_4096)
        return FOTA_ERR_INVALID_ARG;

    memset(t, 0, sizeof(*t));
    t->lower = lower;
    t->check_time = cfg->check_time ? 1 : 0;
    /* name, ctx and detail first, so that a failed init can be explained;
     * the I/O functions only once everything is ready. */
    t->transport.name = cfg->name ? cfg->name : lower->name;
    t->transport.ctx = t;
    t->transport.detail = tls_detail;
    mbedtls_entropy_init(&t->entropy);
    mbedtls_ctr_drbg_init(&t->drbg);
    mbedtls_x509_crt_init(&t->ca);
    mbedtls_ssl_config_init(&t->conf);

#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    /* 3.x routes TLS 1.3 and, with MBEDTLS_USE_PSA_CRYPTO, much else through
     * PSA; initialising it twice is harmless. */
    if (psa_crypto_init() != PSA_SUCCESS) {
        detail_set(t, "PSA crypto init failed", NULL);
        fota_tls_free(t);
        return FOTA_ERR_CRYPTO;
    }
#endif

    size_t ca_len = cfg->ca_len ? cfg->ca_len : strlen((const char *)cfg->ca) + 1;
    r = mbedtls_x509_crt_parse(&t->ca, cfg->ca, ca_len);
    if (r != 0) {
        /* r > 0: some certificates of a bundle did not parse; a partly
         * understood trust store is refused rather than silently narrowed. */
        if (r > 0)
            detail_set(t, "CA bundle: some certificates could not be parsed", NULL);
        else
            detail_mbedtls(t, "CA certificate: ", r);
        fota_tls_free(t);
        return FOTA_ERR_TLS;
    }

    const char *pers = cfg->personalization ? cfg->personalization : "fota";
    r = mbedtls_ctr_drbg_seed(&t->drbg, mbedtls_entropy_func, &t->entropy,
                              (const unsigned char *)pers, strlen(pers));
    if (r != 0) {
        detail_mbedtls(t, "random generator: ", r);
        fota_tls_free(t);
        return FOTA_ERR_CRYPTO;
    }

    r = mbedtls_ssl_config_defaults(&t->conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                    MBEDTLS_SSL_PRESET_DEFAULT);
    if (r != 0) {
        detail_mbedtls(t, "TLS config: ", r);
        fota_tls_free(t);
        return FOTA_ERR_TLS;
    }
    mbedtls_ssl_conf_authmode(&t->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&t->conf, &t->ca, NULL);
    mbedtls_ssl_conf_rng(&t->conf, mbedtls_ctr_drbg_random, &t->drbg);
    mbedtls_ssl_conf_verify(&t->conf, verify_cb, t);
    if (cfg->max_frag_len != FOTA_TLS_MFL_NONE) {
#if defined(MBEDTLS_SSL_MAX_FRAGMENT_LENGTH)
        r = mbedtls_ssl_conf_max_frag_len(&t->conf, mfl_code(cfg->max_frag_len));
        if (r != 0) {
            detail_mbedtls(t, "TLS max fragment length: ", r);
            fota_tls_free(t);
            return FOTA_ERR_TLS;
        }
#else
        detail_set(t, "max_frag_len needs MBEDTLS_SSL_MAX_FRAGMENT_LENGTH", NULL);
        fota_tls_free(t);
        return FOTA_ERR_TLS;
#endif
    }

    t->transport.connect = tls_connect;
    t->transport.send = tls_send;
    t->transport.recv = tls_recv;
    t->transport.close = tls_close;
    return 0;
}

void fota_tls_free(struct fota_tls *t)
{
    if (t == NULL)
        return;
    if (t->lower != NULL)
        tls_close(t);
    mbedtls_ssl_config_free(&t->conf);
    mbedtls_x509_crt_free(&t->ca);
    mbedtls_ctr_drbg_free(&t->drbg);
    mbedtls_entropy_free(&t->entropy);
}

uint32_t fota_tls_verify_flags(const struct fota_tls *t)
{
    return t->verify_flags;
}
