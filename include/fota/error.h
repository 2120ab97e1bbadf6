/*
 * fota error codes.
 *
 * Every function of libfota returns 0 (or a positive count) on success and one
 * of these negative codes on failure. Each code names one cause; the agent
 * also keeps a human-readable message naming the step and the details (host,
 * port, URL, HTTP status, offset): see fota_last_error().
 *
 * One table, FOTA_ERROR_TABLE, is the single list: X(name, code, class,
 * meaning), class TRANSIENT (may go away by itself: the agent retries with
 * backoff) or FINAL. The enum, fota_strerror(), fota_err_is_transient()
 * and `fota errors` (the table with the meanings, for scripts and docs) are
 * generated from it.
 */
#ifndef FOTA_ERROR_H
#define FOTA_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

#define FOTA_ERROR_TABLE(X) \
    X(FOTA_OK, 0, FINAL, "success") \
    /* Caller and configuration */ \
    X(FOTA_ERR_INVALID_ARG, -1, FINAL, "a NULL pointer, zero size, bad option") \
    X(FOTA_ERR_BUFFER_TOO_SMALL, -2, FINAL, "a caller-owned buffer cannot hold the data") \
    X(FOTA_ERR_BUSY, -3, FINAL, "an operation is already running") \
    X(FOTA_ERR_NOT_SUPPORTED, -4, FINAL, "the port does not offer this") \
    X(FOTA_ERR_HOOK_REFUSED, -5, FINAL, "the application's pre-update hook refused the update") \
    X(FOTA_ERR_INTERNAL, -6, FINAL, "the agent's own state is inconsistent (bug, memory fault)") \
    /* Network (transport) */ \
    X(FOTA_ERR_DNS, -10, TRANSIENT, "name lookup failed") \
    X(FOTA_ERR_CONNECT_REFUSED, -11, TRANSIENT, "TCP connect refused (RST)") \
    X(FOTA_ERR_CONNECT_TIMEOUT, -12, TRANSIENT, "TCP connect timed out") \
    X(FOTA_ERR_CONNECT, -13, TRANSIENT, "TCP connect failed for another reason") \
    X(FOTA_ERR_SEND, -14, TRANSIENT, "sending failed") \
    X(FOTA_ERR_RECV, -15, TRANSIENT, "receiving failed (reset)") \
    X(FOTA_ERR_TIMEOUT, -16, TRANSIENT, "no data within the read timeout") \
    X(FOTA_ERR_CLOSED, -17, TRANSIENT, "peer closed the connection early") \
    X(FOTA_ERR_TLS_HANDSHAKE, -18, TRANSIENT, "TLS handshake failed") \
    X(FOTA_ERR_TLS_CERT_UNTRUSTED, -19, FINAL, "server certificate not signed by a trusted CA") \
    X(FOTA_ERR_TLS_CERT_EXPIRED, -20, FINAL, "the server certificate expired or is not valid yet") \
    X(FOTA_ERR_TLS_NAME_MISMATCH, -21, FINAL, "the server certificate is for another host name") \
    X(FOTA_ERR_TLS, -22, TRANSIENT, "other TLS failure") \
    X(FOTA_ERR_LINK, -23, TRANSIENT, "link layer down (modem, WiFi)") \
    X(FOTA_ERR_DEADLINE, -24, TRANSIENT, "total deadline passed") \
    X(FOTA_ERR_TOO_SLOW, -25, TRANSIENT, "below the minimum throughput") \
    /* HTTP */ \
    X(FOTA_ERR_URL, -30, FINAL, "URL malformed or unsupported scheme") \
    X(FOTA_ERR_HTTP_PARSE, -31, TRANSIENT, "malformed status line, header or chunk") \
    X(FOTA_ERR_HTTP_HEADER_TOO_LONG, -32, TRANSIENT, "headers over a limit: line or Location buffer, 64 fields, 32 KiB") \
    X(FOTA_ERR_HTTP_STATUS, -33, TRANSIENT, "unexpected HTTP status") \
    X(FOTA_ERR_HTTP_REDIRECTS, -34, FINAL, "too many redirects, or a loop") \
    X(FOTA_ERR_HTTP_NO_LOCATION, -35, TRANSIENT, "3xx without Location") \
    X(FOTA_ERR_HTTP_LENGTH, -36, TRANSIENT, "body length differs from what was announced") \
    X(FOTA_ERR_HTTP_NOT_FOUND, -37, FINAL, "the server answered 404 Not Found") \
    X(FOTA_ERR_HTTP_FORBIDDEN, -38, FINAL, "the server answered 401 or 403 (access denied)") \
    X(FOTA_ERR_HTTP_SERVER, -39, TRANSIENT, "the server answered 5xx") \
    X(FOTA_ERR_HTTP_RANGE, -40, TRANSIENT, "Content-Range does not match the request") \
    X(FOTA_ERR_HTTP_CLIENT, -41, FINAL, "another 4xx: the request will not succeed as is") \
    X(FOTA_ERR_HTTP_BUSY, -42, TRANSIENT, "429 Too Many Requests or 408: try again later") \
    X(FOTA_ERR_HTTP_UNSATISFIABLE, -43, FINAL, "416 to a request without Range: the server is broken") \
    X(FOTA_ERR_INSECURE_REDIRECT, -44, FINAL, "a redirect from https:// to http:// (not allowed)") \
    X(FOTA_ERR_HTTP_ENCODING, -45, FINAL, "the server compressed the body (Content-Encoding) though identity was asked") \
    /* Manifest */ \
    X(FOTA_ERR_MANIFEST_PARSE, -50, FINAL, "the manifest is malformed (syntax, field or value)") \
    X(FOTA_ERR_MANIFEST_TOO_LARGE, -51, FINAL, "the manifest does not fit the manifest buffer") \
    X(FOTA_ERR_SIGNATURE, -52, FINAL, "signature does not verify") \
    X(FOTA_ERR_UNKNOWN_KEY, -53, FINAL, "key id not among the trusted keys") \
    X(FOTA_ERR_WRONG_PRODUCT, -54, FINAL, "the manifest is for another product") \
    X(FOTA_ERR_WRONG_CHIP, -55, FINAL, "the manifest is for another chip") \
    X(FOTA_ERR_NOT_NEWER, -56, FINAL, "version not newer than the running one") \
    X(FOTA_ERR_ROLLBACK, -57, FINAL, "security counter below the floor") \
    X(FOTA_ERR_REPLAY, -58, FINAL, "sequence number older than one already seen") \
    X(FOTA_ERR_EXPIRED, -59, FINAL, "manifest expired (device has trusted time)") \
    X(FOTA_ERR_TOO_BIG, -60, FINAL, "image does not fit the slot") \
    X(FOTA_ERR_REJECTED_VERSION, -61, FINAL, "this version was rolled back before") \
    X(FOTA_ERR_DATA_PARTITION, -62, FINAL, "the release carries a data image for a partition this device cannot take") \
    /* Image */ \
    X(FOTA_ERR_IMAGE_HEADER, -70, FINAL, "not a valid ESP image header") \
    X(FOTA_ERR_IMAGE_CHIP, -71, FINAL, "image is built for another chip") \
    X(FOTA_ERR_IMAGE_SIZE, -72, TRANSIENT, "received size differs from the signed size") \
    X(FOTA_ERR_IMAGE_HASH, -73, TRANSIENT, "SHA-256 differs from the signed one") \
    X(FOTA_ERR_DELTA_CORRUPT, -74, FINAL, "a patch or compressed image is malformed") \
    X(FOTA_ERR_DELTA_BASE, -75, FINAL, "a patch for another base image than the running one") \
    X(FOTA_ERR_DELTA_UNSUPPORTED, -76, FINAL, "a patch format version or parameter not supported") \
    X(FOTA_ERR_IMAGE_REJECTED, -77, FINAL, "the platform refuses to boot the verified image") \
    /* Flash, boot and state */ \
    X(FOTA_ERR_FLASH_READ, -80, FINAL, "a flash read failed") \
    X(FOTA_ERR_FLASH_WRITE, -81, FINAL, "a flash write failed") \
    X(FOTA_ERR_FLASH_ERASE, -82, FINAL, "a flash erase failed") \
    X(FOTA_ERR_FLASH_VERIFY, -83, FINAL, "read-back differs from what was written") \
    X(FOTA_ERR_BOOT, -84, FINAL, "boot control failed") \
    X(FOTA_ERR_PENDING_CONFIRM, -85, FINAL, "running image not confirmed yet") \
    X(FOTA_ERR_STATE_CORRUPT, -86, FINAL, "no valid persistent record") \
    X(FOTA_ERR_CRYPTO, -87, FINAL, "crypto backend failure") \
    X(FOTA_ERR_BOOT_MODE, -88, FINAL, "ESP8266 in UART download mode: reset it by pin or power")

enum fota_err {
#define FOTA_ERR_ENUM_(name, code, class, meaning) name = code,
    FOTA_ERROR_TABLE(FOTA_ERR_ENUM_)
#undef FOTA_ERR_ENUM_
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
