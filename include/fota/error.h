/*
 * fota error codes.
 *
 * Every function of libfota returns 0 (or a positive count) on success and one
 * of these negative codes on failure. Each code names one cause; the agent
 * also keeps a human-readable message naming the step and the details (host,
 * port, URL, HTTP status, offset): see fota_last_error().
 */
#ifndef FOTA_ERROR_H
#define FOTA_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

enum fota_err {
    FOTA_OK = 0,

    /* Caller and configuration */
    FOTA_ERR_INVALID_ARG = -1,      /* a NULL pointer, zero size, bad option */
    FOTA_ERR_BUFFER_TOO_SMALL = -2, /* a caller-owned buffer cannot hold the data */
    FOTA_ERR_BUSY = -3,             /* an operation is already running */
    FOTA_ERR_NOT_SUPPORTED = -4,    /* the port does not offer this */

    /* Network (transport) */
    FOTA_ERR_DNS = -10,             /* name lookup failed */
    FOTA_ERR_CONNECT_REFUSED = -11, /* TCP connect refused (RST) */
    FOTA_ERR_CONNECT_TIMEOUT = -12, /* TCP connect timed out */
    FOTA_ERR_CONNECT = -13,         /* TCP connect failed for another reason */
    FOTA_ERR_SEND = -14,            /* sending failed */
    FOTA_ERR_RECV = -15,            /* receiving failed (reset) */
    FOTA_ERR_TIMEOUT = -16,         /* no data within the read timeout */
    FOTA_ERR_CLOSED = -17,          /* peer closed the connection early */
    FOTA_ERR_TLS_HANDSHAKE = -18,   /* TLS handshake failed */
    FOTA_ERR_TLS_CERT_UNTRUSTED = -19,
    FOTA_ERR_TLS_CERT_EXPIRED = -20,
    FOTA_ERR_TLS_NAME_MISMATCH = -21,
    FOTA_ERR_TLS = -22,             /* other TLS failure */
    FOTA_ERR_LINK = -23,            /* link layer down (modem, WiFi) */
    FOTA_ERR_DEADLINE = -24,        /* total deadline passed */
    FOTA_ERR_TOO_SLOW = -25,        /* below the minimum throughput */

    /* HTTP */
    FOTA_ERR_URL = -30,             /* URL malformed or unsupported scheme */
    FOTA_ERR_HTTP_PARSE = -31,      /* malformed status line, header or chunk */
    FOTA_ERR_HTTP_HEADER_TOO_LONG = -32,
    FOTA_ERR_HTTP_STATUS = -33,     /* unexpected HTTP status */
    FOTA_ERR_HTTP_REDIRECTS = -34,  /* too many redirects / loop */
    FOTA_ERR_HTTP_NO_LOCATION = -35,/* 3xx without Location */
    FOTA_ERR_HTTP_LENGTH = -36,     /* body length differs from what was announced */
    FOTA_ERR_HTTP_NOT_FOUND = -37,  /* 404 */
    FOTA_ERR_HTTP_FORBIDDEN = -38,  /* 401 / 403 */
    FOTA_ERR_HTTP_SERVER = -39,     /* 5xx */
    FOTA_ERR_HTTP_RANGE = -40,      /* Content-Range does not match the request */
    FOTA_ERR_HTTP_CLIENT = -41,     /* another 4xx: the request will not succeed as is */
    FOTA_ERR_HTTP_BUSY = -42,       /* 429 Too Many Requests / 408: try again later */
    FOTA_ERR_HTTP_ENCODING = -43,   /* body compressed (Content-Encoding) despite identity */

    /* Manifest */
    FOTA_ERR_MANIFEST_PARSE = -50,
    FOTA_ERR_MANIFEST_TOO_LARGE = -51,
    FOTA_ERR_SIGNATURE = -52,       /* signature does not verify */
    FOTA_ERR_UNKNOWN_KEY = -53,     /* key id not among the trusted keys */
    FOTA_ERR_WRONG_PRODUCT = -54,
    FOTA_ERR_WRONG_CHIP = -55,
    FOTA_ERR_NOT_NEWER = -56,       /* version not newer than the running one */
    FOTA_ERR_ROLLBACK = -57,        /* security counter below the floor */
    FOTA_ERR_REPLAY = -58,          /* sequence number older than one already seen */
    FOTA_ERR_EXPIRED = -59,         /* manifest expired (device has trusted time) */
    FOTA_ERR_TOO_BIG = -60,         /* image does not fit the slot */
    FOTA_ERR_REJECTED_VERSION = -61,/* this version was rolled back before */

    /* Image */
    FOTA_ERR_IMAGE_HEADER = -70,    /* not a valid ESP image header */
    FOTA_ERR_IMAGE_CHIP = -71,      /* image is built for another chip */
    FOTA_ERR_IMAGE_SIZE = -72,      /* received size differs from the signed size */
    FOTA_ERR_IMAGE_HASH = -73,      /* SHA-256 differs from the signed one */

    /* Flash, boot and state */
    FOTA_ERR_FLASH_READ = -80,
    FOTA_ERR_FLASH_WRITE = -81,
    FOTA_ERR_FLASH_ERASE = -82,
    FOTA_ERR_FLASH_VERIFY = -83,    /* read-back differs from what was written */
    FOTA_ERR_BOOT = -84,            /* boot control failed */
    FOTA_ERR_PENDING_CONFIRM = -85, /* running image not confirmed yet */
    FOTA_ERR_STATE_CORRUPT = -86,   /* no valid persistent record */
    FOTA_ERR_CRYPTO = -87,          /* crypto backend failure */
};

/* Short constant name of a code, e.g. "FOTA_ERR_DNS". Never NULL. */
const char *fota_strerror(int err);

/* True for failures that may go away by themselves (network, 5xx, timeouts):
 * the agent retries these with backoff; everything else is final. */
int fota_err_is_transient(int err);

#ifdef __cplusplus
}
#endif
#endif
