#include "fota/error.h"

const char *fota_strerror(int err)
{
    switch (err) {
    case FOTA_OK:
        return "FOTA_OK";
    case FOTA_ERR_INVALID_ARG:
        return "FOTA_ERR_INVALID_ARG";
    case FOTA_ERR_BUFFER_TOO_SMALL:
        return "FOTA_ERR_BUFFER_TOO_SMALL";
    case FOTA_ERR_BUSY:
        return "FOTA_ERR_BUSY";
    case FOTA_ERR_NOT_SUPPORTED:
        return "FOTA_ERR_NOT_SUPPORTED";
    case FOTA_ERR_DNS:
        return "FOTA_ERR_DNS";
    case FOTA_ERR_CONNECT_REFUSED:
        return "FOTA_ERR_CONNECT_REFUSED";
    case FOTA_ERR_CONNECT_TIMEOUT:
        return "FOTA_ERR_CONNECT_TIMEOUT";
    case FOTA_ERR_CONNECT:
        return "FOTA_ERR_CONNECT";
    case FOTA_ERR_SEND:
        return "FOTA_ERR_SEND";
    case FOTA_ERR_RECV:
        return "FOTA_ERR_RECV";
    case FOTA_ERR_TIMEOUT:
        return "FOTA_ERR_TIMEOUT";
    case FOTA_ERR_CLOSED:
        return "FOTA_ERR_CLOSED";
    case FOTA_ERR_TLS_HANDSHAKE:
        return "FOTA_ERR_TLS_HANDSHAKE";
    case FOTA_ERR_TLS_CERT_UNTRUSTED:
        return "FOTA_ERR_TLS_CERT_UNTRUSTED";
    case FOTA_ERR_TLS_CERT_EXPIRED:
        return "FOTA_ERR_TLS_CERT_EXPIRED";
    case FOTA_ERR_TLS_NAME_MISMATCH:
        return "FOTA_ERR_TLS_NAME_MISMATCH";
    case FOTA_ERR_TLS:
        return "FOTA_ERR_TLS";
    case FOTA_ERR_LINK:
        return "FOTA_ERR_LINK";
    case FOTA_ERR_DEADLINE:
        return "FOTA_ERR_DEADLINE";
    case FOTA_ERR_TOO_SLOW:
        return "FOTA_ERR_TOO_SLOW";
    case FOTA_ERR_URL:
        return "FOTA_ERR_URL";
    case FOTA_ERR_HTTP_PARSE:
        return "FOTA_ERR_HTTP_PARSE";
    case FOTA_ERR_HTTP_HEADER_TOO_LONG:
        return "FOTA_ERR_HTTP_HEADER_TOO_LONG";
    case FOTA_ERR_HTTP_STATUS:
        return "FOTA_ERR_HTTP_STATUS";
    case FOTA_ERR_HTTP_REDIRECTS:
        return "FOTA_ERR_HTTP_REDIRECTS";
    case FOTA_ERR_HTTP_NO_LOCATION:
        return "FOTA_ERR_HTTP_NO_LOCATION";
    case FOTA_ERR_HTTP_LENGTH:
        return "FOTA_ERR_HTTP_LENGTH";
    case FOTA_ERR_HTTP_NOT_FOUND:
        return "FOTA_ERR_HTTP_NOT_FOUND";
    case FOTA_ERR_HTTP_FORBIDDEN:
        return "FOTA_ERR_HTTP_FORBIDDEN";
    case FOTA_ERR_HTTP_SERVER:
        return "FOTA_ERR_HTTP_SERVER";
    case FOTA_ERR_HTTP_RANGE:
        return "FOTA_ERR_HTTP_RANGE";
    case FOTA_ERR_HTTP_CLIENT:
        return "FOTA_ERR_HTTP_CLIENT";
    case FOTA_ERR_HTTP_BUSY:
        return "FOTA_ERR_HTTP_BUSY";
    case FOTA_ERR_HTTP_ENCODING:
        return "FOTA_ERR_HTTP_ENCODING";
    case FOTA_ERR_MANIFEST_PARSE:
        return "FOTA_ERR_MANIFEST_PARSE";
    case FOTA_ERR_MANIFEST_TOO_LARGE:
        return "FOTA_ERR_MANIFEST_TOO_LARGE";
    case FOTA_ERR_SIGNATURE:
        return "FOTA_ERR_SIGNATURE";
    case FOTA_ERR_UNKNOWN_KEY:
        return "FOTA_ERR_UNKNOWN_KEY";
    case FOTA_ERR_WRONG_PRODUCT:
        return "FOTA_ERR_WRONG_PRODUCT";
    case FOTA_ERR_WRONG_CHIP:
        return "FOTA_ERR_WRONG_CHIP";
    case FOTA_ERR_NOT_NEWER:
        return "FOTA_ERR_NOT_NEWER";
    case FOTA_ERR_ROLLBACK:
        return "FOTA_ERR_ROLLBACK";
    case FOTA_ERR_REPLAY:
        return "FOTA_ERR_REPLAY";
    case FOTA_ERR_EXPIRED:
        return "FOTA_ERR_EXPIRED";
    case FOTA_ERR_TOO_BIG:
        return "FOTA_ERR_TOO_BIG";
    case FOTA_ERR_REJECTED_VERSION:
        return "FOTA_ERR_REJECTED_VERSION";
    case FOTA_ERR_IMAGE_HEADER:
        return "FOTA_ERR_IMAGE_HEADER";
    case FOTA_ERR_IMAGE_CHIP:
        return "FOTA_ERR_IMAGE_CHIP";
    case FOTA_ERR_IMAGE_SIZE:
        return "FOTA_ERR_IMAGE_SIZE";
    case FOTA_ERR_IMAGE_HASH:
        return "FOTA_ERR_IMAGE_HASH";
    case FOTA_ERR_FLASH_READ:
        return "FOTA_ERR_FLASH_READ";
    case FOTA_ERR_FLASH_WRITE:
        return "FOTA_ERR_FLASH_WRITE";
    case FOTA_ERR_FLASH_ERASE:
        return "FOTA_ERR_FLASH_ERASE";
    case FOTA_ERR_FLASH_VERIFY:
        return "FOTA_ERR_FLASH_VERIFY";
    case FOTA_ERR_BOOT:
        return "FOTA_ERR_BOOT";
    case FOTA_ERR_PENDING_CONFIRM:
        return "FOTA_ERR_PENDING_CONFIRM";
    case FOTA_ERR_STATE_CORRUPT:
        return "FOTA_ERR_STATE_CORRUPT";
    case FOTA_ERR_CRYPTO:
        return "FOTA_ERR_CRYPTO";
    default:
        return "FOTA_ERR_UNKNOWN";
    }
}

int fota_err_is_transient(int err)
{
    switch (err) {
    /* The network, the server or the link may recover by themselves. */
    case FOTA_ERR_DNS:
    case FOTA_ERR_CONNECT_REFUSED:
    case FOTA_ERR_CONNECT_TIMEOUT:
    case FOTA_ERR_CONNECT:
    case FOTA_ERR_SEND:
    case FOTA_ERR_RECV:
    case FOTA_ERR_TIMEOUT:
    case FOTA_ERR_CLOSED:
    case FOTA_ERR_TLS_HANDSHAKE:
    case FOTA_ERR_TLS:
    case FOTA_ERR_LINK:
    case FOTA_ERR_DEADLINE:
    case FOTA_ERR_TOO_SLOW:
    /* A captive portal, a proxy or a half-deployed server answers garbage. */
    case FOTA_ERR_HTTP_PARSE:
    case FOTA_ERR_HTTP_HEADER_TOO_LONG:
    case FOTA_ERR_HTTP_STATUS:
    case FOTA_ERR_HTTP_NO_LOCATION:
    case FOTA_ERR_HTTP_LENGTH:
    case FOTA_ERR_HTTP_SERVER:
    case FOTA_ERR_HTTP_BUSY:
    case FOTA_ERR_HTTP_RANGE:
    /* Bytes damaged in transit: download again. */
    case FOTA_ERR_IMAGE_SIZE:
    case FOTA_ERR_IMAGE_HASH:
        return 1;
    default:
        return 0;
    }
}
