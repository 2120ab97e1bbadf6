/*
 * Incremental HTTP/1.1 response parser.
 *
 * Feed it whatever the transport delivered, in pieces of any size; it hands
 * back events: headers complete, a slice of (de-chunked) body, message done.
 * It never copies the body: body slices point into the caller's input. The
 * status line, chunk-size lines and the values of the header fields the agent
 * uses are assembled in a caller-owned line buffer, whose size bounds them;
 * Location goes straight to the Location buffer, bounded by its size; every
 * other field line is checked and skipped without being stored, whatever its
 * length (the header block as a whole is bounded: 64 fields, 32 KiB).
 *
 * Framing is strict where parsers in front of the device could disagree: all
 * lines of a message end alike (CRLF, or bare LF throughout), chunk-size
 * lines follow RFC 9112's grammar, a bare CR, obs-fold, whitespace before a
 * colon, conflicting lengths and unknown transfer codings are errors. Up to
 * 8 empty lines before a status line and up to 16 1xx responses are skipped.
 */
#ifndef FOTA_HTTP_H
#define FOTA_HTTP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FOTA_HTTP_ETAG_MAX 72 /* a quoted SHA-256 hex ETag fits */
#define FOTA_HTTP_CODING_MAX 15 /* Content-Encoding kept for the error message */

enum fota_http_event {
    FOTA_HTTP_NEED_MORE = 0, /* all input consumed, nothing to report */
    FOTA_HTTP_HEADERS = 1,   /* final (non-1xx) headers are complete */
    FOTA_HTTP_BODY = 2,      /* *body / *body_len hold a body slice */
    FOTA_HTTP_DONE = 3,      /* the message is complete */
};

enum fota_http_framing {
    FOTA_HTTP_FRAMING_NONE = 0,    /* no body (HEAD, 204, 304, or length 0) */
    FOTA_HTTP_FRAMING_LENGTH = 1,  /* Content-Length */
    FOTA_HTTP_FRAMING_CHUNKED = 2, /* Transfer-Encoding: chunked */
    FOTA_HTTP_FRAMING_CLOSE = 3,   /* body ends when the connection closes */
};

struct fota_http_response {
    uint16_t status;           /* e.g. 200 */
    uint8_t http_minor;        /* HTTP/1.x */
    uint8_t framing;           /* enum fota_http_framing */
    uint8_t keep_alive;        /* connection may be reused after DONE */
    uint8_t has_content_length;
    uint8_t has_content_range;
    uint8_t has_location;
    uint64_t content_length;
    uint64_t range_first;      /* Content-Range: bytes first-last/complete */
    uint64_t range_last;       /* first and last are UINT64_MAX when the range is "*" (416) */
    uint64_t range_complete;   /* UINT64_MAX when "*" */
    uint32_t retry_after_s;    /* Retry-After in seconds (delta form), 0 if absent */
    char etag[FOTA_HTTP_ETAG_MAX + 1];
    /* Content-Encoding when it names a coding other than identity (gzip,
     * br, ...), as sent (cut to fit); "" when absent or identity. The
     * agent cannot decode any, so it refuses such a body by name. */
    char content_encoding[FOTA_HTTP_CODING_MAX + 1];
};

struct fota_http_parser {
    struct fota_http_response resp;
    char *line;          /* caller-owned line buffer */
    size_t line_size;
    size_t line_len;
    char *location;      /* caller-owned, may be NULL (then Location is ignored) */
    size_t location_size;
    uint8_t state;       /* internal */
    uint8_t no_body;     /* request was HEAD (set by fota_http_parser_reset) */
    uint8_t in_trailers;
    uint64_t remaining;  /* bytes left in the body or current chunk */
    uint64_t body_seen;  /* body bytes delivered so far */
    uint32_t header_bytes; /* bytes in the header block, bounded */
    uint16_t header_lines; /* field lines in the header block, bounded */
    uint8_t flags;         /* internal: tokens seen in the header block */
    uint8_t eol;           /* internal: the message's line ending (CRLF or LF) */
    uint8_t field_state;   /* internal: where in a field line */
    uint8_t field;         /* internal: what the current field's value is for */
    uint8_t empty_lines;   /* internal: skipped before a status line, bounded */
    uint8_t interims;      /* internal: 1xx responses skipped, bounded */
    size_t ows_held;       /* internal: whitespace of a value not stored */
};

/* Prepare for a new response. `line` must hold the status line and the
 * longest value of a field the agent uses (plus its NUL); 256 bytes is a
 * practical minimum. `location` receives the Location header's value
 * (NUL-terminated), may be NULL (then Location is skipped).
 * `head_request` non-zero when the request was HEAD (no body follows). */
void fota_http_parser_init(struct fota_http_parser *p, char *line, size_t line_size,
                           char *location, size_t location_size, int head_request);

/* Parse input. Consumes a prefix of in[0..len), stores how much in *consumed,
 * and returns an event (enum fota_http_event) or a negative FOTA_ERR_*:
 * FOTA_ERR_HTTP_PARSE, FOTA_ERR_HTTP_HEADER_TOO_LONG, FOTA_ERR_HTTP_STATUS
 * (101 Switching Protocols). Call again with the remaining input until it
 * returns FOTA_HTTP_NEED_MORE or FOTA_HTTP_DONE, also when no input is left
 * after HEADERS: a response without a body reports DONE without input.
 * Bytes after DONE belong to the next response and are not consumed. */
int fota_http_parse(struct fota_http_parser *p, const uint8_t *in, size_t len, size_t *consumed,
                    const uint8_t **body, size_t *body_len);

/* The connection closed. Returns FOTA_HTTP_DONE when the body was delimited
 * by the close (or was complete), FOTA_ERR_CLOSED otherwise (truncated). */
int fota_http_eof(struct fota_http_parser *p);

/* Format "GET <path> HTTP/1.1" request with Host, User-Agent, Connection:
 * keep-alive and the optional Range (from range_start, when non-zero) and
 * If-None-Match (when etag non-empty) headers. Returns the length or
 * FOTA_ERR_BUFFER_TOO_SMALL. */
struct fota_url;
int fota_http_format_get(char *out, size_t out_size, const struct fota_url *url,
                         const char *user_agent, uint64_t range_start, const char *if_none_match);

#ifdef __cplusplus
}
#endif
#endif
