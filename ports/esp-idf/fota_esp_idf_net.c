/*
 * fota transport on ESP-IDF: lwIP sockets for http://, esp-tls (mbedTLS) for
 * https://. Each failure of connect() names its step: the name lookup
 * (FOTA_ERR_DNS), the TCP connect (refused / timed out / other), or the TLS
 * handshake (untrusted, expired, wrong name, other).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "fota_esp_idf.h"
#include "lwip/netdb.h"
#include "lwip/sockets.h"
#include "sdkconfig.h"

#if CONFIG_FOTA_TLS
#include "esp_tls.h"
#include "mbedtls/x509.h"
#if CONFIG_FOTA_TLS_CRT_BUNDLE
#include "esp_crt_bundle.h"
#endif
#endif

static void set_timeout(int fd, int option, uint32_t ms)
{
    struct timeval tv = {.tv_sec = (time_t)(ms / 1000), .tv_usec = (suseconds_t)(ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, option, &tv, sizeof tv);
}

static int connect_errno(int e)
{
    if (e == ECONNREFUSED)
        return FOTA_ERR_CONNECT_REFUSED;
    if (e == ETIMEDOUT)
        return FOTA_ERR_CONNECT_TIMEOUT;
    if (e == ENETUNREACH || e == EHOSTUNREACH || e == ENETDOWN)
        return FOTA_ERR_LINK;
    return FOTA_ERR_CONNECT;
}

/* Non-blocking connect bounded by timeout_ms, then back to blocking with
 * per-call SO_RCVTIMEO / SO_SNDTIMEO. */
static int tcp_connect(struct fota_esp_idf_net *n, const char *host, uint16_t port,
                       uint32_t timeout_ms)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    char service[8];
    snprintf(service, sizeof service, "%u", (unsigned)port);
    int g = getaddrinfo(host, service, &hints, &res);
    if (g != 0 || !res) {
        snprintf(n->detail, sizeof n->detail, "getaddrinfo(%s) failed (%d)", host, g);
        return FOTA_ERR_DNS;
    }
    int result = FOTA_ERR_CONNECT;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) {
            snprintf(n->detail, sizeof n->detail, "socket: errno %d", errno);
            continue;
        }
        int flags = fcntl(fd, F_GETFL, 0);
        fcntl(fd, F_SETFL, flags | O_NONBLOCK);
        int err = 0;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            err = errno;
            if (err == EINPROGRESS) {
                fd_set wr;
                FD_ZERO(&wr);
                FD_SET(fd, &wr);
                struct timeval tv = {.tv_sec = (time_t)(timeout_ms / 1000),
                                     .tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000};
                int s = select(fd + 1, NULL, &wr, NULL, &tv);
                if (s == 0) {
                    err = ETIMEDOUT;
                } else if (s < 0) {
                    err = errno;
                } else {
                    socklen_t len = sizeof err;
                    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
                        err = errno;
                }
            }
        }
        if (err == 0) {
            fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            n->fd = fd;
            result = 0;
            break;
        }
        close(fd);
        result = connect_errno(err);
        snprintf(n->detail, sizeof n->detail, "connect to %s:%u: %s (errno %d)", host,
                 (unsigned)port, err == ETIMEDOUT ? "timed out" : strerror(err), err);
    }
    freeaddrinfo(res);
    return result;
}

#if CONFIG_FOTA_TLS
static int tls_connect(struct fota_esp_idf_net *n, const char *host, uint16_t port,
                       uint32_t timeout_ms)
{
    esp_tls_cfg_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.timeout_ms = (int)timeout_ms;
    if (n->ca_pem) {
        cfg.cacert_buf = (const unsigned char *)n->ca_pem;
        cfg.cacert_bytes = (unsigned int)strlen(n->ca_pem) + 1;
    } else {
#if CONFIG_FOTA_TLS_CRT_BUNDLE
        cfg.crt_bundle_attach = esp_crt_bundle_attach;
#else
        snprintf(n->detail, sizeof n->detail, "https needs a CA: options.ca_pem or "
                                              "CONFIG_FOTA_TLS_CRT_BUNDLE");
        return FOTA_ERR_TLS_CERT_UNTRUSTED;
#endif
    }
    esp_tls_t *tls = esp_tls_init();
    if (!tls) {
        snprintf(n->detail, sizeof n->detail, "esp_tls_init: out of memory");
        return FOTA_ERR_TLS;
    }
    if (esp_tls_conn_new_sync(host, (int)strlen(host), port, &cfg, tls) == 1) {
        n->tls = tls;
        return 0;
    }
    int code = 0, cert_flags = 0, sys_errno = 0;
    esp_tls_error_handle_t h = NULL;
    if (esp_tls_get_error_handle(tls, &h) == ESP_OK && h) {
        esp_tls_get_and_clear_error_type(h, ESP_TLS_ERR_TYPE_SYSTEM, &sys_errno);
        esp_tls_get_and_clear_error_type(h, ESP_TLS_ERR_TYPE_MBEDTLS_CERT_FLAGS, &cert_flags);
        esp_tls_get_and_clear_error_type(h, ESP_TLS_ERR_TYPE_ESP, &code);
    }
    esp_tls_conn_destroy(tls);
    snprintf(n->detail, sizeof n->detail, "esp-tls to %s:%u: %s, errno %d, cert flags 0x%x",
             host, (unsigned)port, esp_err_to_name(code), sys_errno, (unsigned)cert_flags);
    switch (code) {
    case ESP_ERR_ESP_TLS_CANNOT_RESOLVE_HOSTNAME: return FOTA_ERR_DNS;
    case ESP_ERR_ESP_TLS_CONNECTION_TIMEOUT: return FOTA_ERR_CONNECT_TIMEOUT;
    case ESP_ERR_ESP_TLS_FAILED_CONNECT_TO_HOST: return connect_errno(sys_errno);
    default: break;
    }
    if (cert_flags & MBEDTLS_X509_BADCERT_EXPIRED)
        return FOTA_ERR_TLS_CERT_EXPIRED;
    if (cert_flags & MBEDTLS_X509_BADCERT_CN_MISMATCH)
        return FOTA_ERR_TLS_NAME_MISMATCH;
    if (cert_flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED)
        return FOTA_ERR_TLS_CERT_UNTRUSTED;
    return FOTA_ERR_TLS_HANDSHAKE;
}
#endif

static void net_close(void *ctx)
{
    struct fota_esp_idf_net *n = ctx;
#if CONFIG_FOTA_TLS
    if (n->tls) {
        esp_tls_conn_destroy(n->tls); /* closes the socket too */
        n->tls = NULL;
        n->fd = -1;
    }
#endif
    if (n->fd >= 0) {
        close(n->fd);
        n->fd = -1;
    }
}

static int net_connect(void *ctx, const char *host, uint16_t port, int tls, uint32_t timeout_ms)
{
    struct fota_esp_idf_net *n = ctx;
    net_close(n);
    n->detail[0] = '\0';
    if (tls) {
#if CONFIG_FOTA_TLS
        return tls_connect(n, host, port, timeout_ms);
#else
        snprintf(n->detail, sizeof n->detail, "https is off (CONFIG_FOTA_TLS)");
        return FOTA_ERR_NOT_SUPPORTED;
#endif
    }
    return tcp_connect(n, host, port, timeout_ms);
}

static int sock_fd(struct fota_esp_idf_net *n)
{
#if CONFIG_FOTA_TLS
    if (n->tls) {
        int fd = -1;
        esp_tls_get_conn_sockfd(n->tls, &fd);
        return fd;
    }
#endif
    return n->fd;
}

static int net_send(void *ctx, const uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    struct fota_esp_idf_net *n = ctx;
    int fd = sock_fd(n);
    if (fd < 0)
        return FOTA_ERR_SEND;
    set_timeout(fd, SO_SNDTIMEO, timeout_ms);
#if CONFIG_FOTA_TLS
    if (n->tls) {
        ssize_t w = esp_tls_conn_write(n->tls, buf, len);
        if (w > 0)
            return (int)w;
        if (w == ESP_TLS_ERR_SSL_WANT_WRITE || w == ESP_TLS_ERR_SSL_WANT_READ)
            return FOTA_ERR_TIMEOUT;
        snprintf(n->detail, sizeof n->detail, "esp_tls_conn_write: -0x%x", (unsigned)-w);
        return FOTA_ERR_SEND;
    }
#endif
    ssize_t w = send(fd, buf, len, 0);
    if (w > 0)
        return (int)w;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return FOTA_ERR_TIMEOUT;
    snprintf(n->detail, sizeof n->detail, "send: errno %d", errno);
    return FOTA_ERR_SEND;
}

static int net_recv(void *ctx, uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    struct fota_esp_idf_net *n = ctx;
    int fd = sock_fd(n);
    if (fd < 0)
        return FOTA_ERR_RECV;
    set_timeout(fd, SO_RCVTIMEO, timeout_ms);
#if CONFIG_FOTA_TLS
    if (n->tls) {
        ssize_t r = esp_tls_conn_read(n->tls, buf, len);
        if (r >= 0)
            return (int)r; /* 0: close_notify or TCP close */
        if (r == ESP_TLS_ERR_SSL_WANT_READ || r == ESP_TLS_ERR_SSL_WANT_WRITE ||
            r == ESP_TLS_ERR_SSL_TIMEOUT)
            return FOTA_ERR_TIMEOUT;
        snprintf(n->detail, sizeof n->detail, "esp_tls_conn_read: -0x%x", (unsigned)-r);
        return FOTA_ERR_RECV;
    }
#endif
    ssize_t r = recv(fd, buf, len, 0);
    if (r >= 0)
        return (int)r;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        return FOTA_ERR_TIMEOUT;
    snprintf(n->detail, sizeof n->detail, "recv: errno %d", errno);
    return FOTA_ERR_RECV;
}

static const char *net_detail(void *ctx)
{
    struct fota_esp_idf_net *n = ctx;
    return n->detail[0] ? n->detail : NULL;
}

void fota_esp_idf_net_init(struct fota_esp_idf_net *n, struct fota_transport *t,
                           const char *ca_pem)
{
    memset(n, 0, sizeof *n);
    n->fd = -1;
    n->ca_pem = ca_pem;
    *t = (struct fota_transport){
        .name = "lwip",
        .ctx = n,
        .connect = net_connect,
        .send = net_send,
        .recv = net_recv,
        .close = net_close,
        .detail = net_detail,
    };
}
