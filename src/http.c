/*
 * Incremental HTTP/1.1 response parser and GET request formatter.
 *
 * Lines (status, header, chunk size, trailer) are assembled in the caller's
 * line buffer; body bytes are never copied. Each call does a bounded amount
 * of work: at most one pass over its input.
 *
 * Why one file of ~950 lines: it is one state machine. Line assembly, the
 * field handlers, the framing decision at the end of the headers and the
 * chunk decoder all move the same private parser state (enum parser_state,
 * the field being collected); split, that state would need a header of its
 * own for every part to reach into. The request formatter at the end is the
 * only other concern, kept beside the parser it feeds (~60 lines).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fota/error.h"
#include "fota/http.h"
#include "fota/url.h"
#include "internal/text.h"
#include "internal/writer.h"

/* Bounds on the header block (status line, fields, and any 1xx responses
 * before it) and, separately, on the chunked trailer section. Field lines
 * the agent does not use are checked and skipped, never stored, so only
 * these bound them. */
#define HEADER_LINES_MAX 64
#define HEADER_BYTES_MAX (32u * 1024u)
#define EMPTY_LINES_MAX 8 /* stray empty lines skipped before a status line */
#define INTERIM_MAX 16    /* 1xx responses skipped before the final one */
#define NAME_KEPT 18      /* longer field names are none the agent uses */

enum parser_state {
    S_STATUS = 0,
    S_HEADER,
    S_BODY_LENGTH,
    S_BODY_CLOSE,
    S_CHUNK_SIZE,
    S_CHUNK_DATA,
    S_CHUNK_END,  /* the CRLF after chunk data */
    S_TRAILER,
    S_DONE_PENDING, /* message complete, DONE not yet returned */
    S_DONE,
    S_ERROR, /* the error code is kept in `remaining` */
};
#define S_CR 0x80u /* flag: the current line ended in CR, LF must follow */
#define STATE(p) ((p)->state & 0x7fu)

/* p->eol: the line ending the message uses, fixed by its first line. */
#define EOL_CRLF 1u
#define EOL_LF 2u

/* p->field_state: where in a field line (header or trailer) the parser is. */
enum field_state { FS_START = 0, FS_NAME, FS_VALUE };

/* p->field: what the value of the current field line is for. */
enum field_id {
    FIELD_SKIP = 0, /* checked, not stored */
    FIELD_CONTENT_LENGTH,
    FIELD_TRANSFER_ENCODING,
    FIELD_CONNECTION,
    FIELD_ETAG,
    FIELD_CONTENT_RANGE,
    FIELD_RETRY_AFTER,
    FIELD_CONTENT_ENCODING,
    FIELD_LOCATION,       /* stored in the Location buffer */
    FIELD_LOCATION_AGAIN, /* compared with the Location stored */
};

/* p->flags: what the header block said, decided on at its end. */
#define F_INTERIM 0x01u    /* the response being parsed is a 1xx */
#define F_CLOSE 0x02u      /* Connection: close */
#define F_KEEP_ALIVE 0x04u /* Connection: keep-alive */
#define F_CHUNKED 0x08u    /* Transfer-Encoding: chunked */

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* RFC 9110 tchar */
static int is_tchar(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c))
        return 1;
    return c != '\0' && memchr("!#$%&'*+-.^_`|~", c, 15) != NULL;
}

/* Decimal digits only, at least one, no overflow. */
static int parse_u64(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    size_t i;
    if (n == 0)
        return FOTA_ERR_HTTP_PARSE;
    for (i = 0; i < n; i++) {
        unsigned d;
        if (!is_digit(s[i]))
            return FOTA_ERR_HTTP_PARSE;
        d = (unsigned)(s[i] - '0');
        /* constant bounds: no 64-bit divide from libgcc */
        if (v > UINT64_MAX / 10u || (v == UINT64_MAX / 10u && d > UINT64_MAX % 10u))
            return FOTA_ERR_HTTP_PARSE;
        v = v * 10u + d;
    }
    *out = v;
    return 0;
}

void fota_http_parser_init(struct fota_http_parser *p, char *line, size_t line_size,
                           char *location, size_t location_size, int head_request)
{
    if (p == NULL)
        return;
    memset(p, 0, sizeof *p);
    p->line = line;
    p->line_size = line_size;
    p->location = location;
    p->location_size = location_size;
    p->no_body = head_request ? 1 : 0;
    if (location != NULL && location_size > 0)
        location[0] = '\0';
}

/* ---- Lines --------------------------------------------------------------- */

/* A line ended with `eol`. Every line of a message ends the same way: a
 * bare LF inside a CRLF message (or the reverse) is where parsers in front of
 * the device may split differently (response splitting, desync). RFC 9112
 * 2.2 lets a recipient accept bare LF; a message in bare LF throughout is.
 * The empty lines skipped before a status line do not count. Returns 1. */
static int line_end(struct fota_http_parser *p, uint8_t eol)
{
    if (STATE(p) == S_STATUS && p->line_len == 0)
        return 1;
    if (p->eol == 0)
        p->eol = eol;
    else if (p->eol != eol)
        return FOTA_ERR_HTTP_PARSE;
    return 1;
}

/* Appends in[*pos..len) to the current line up to its LF. Returns 1 when the
 * line is complete (NUL-terminated, without CR/LF, p->line_len long), 0 when
 * the input ran out first, or an error. `counted` lines belong to the header
 * block or trailer and count against HEADER_BYTES_MAX. */
static int collect_line(struct fota_http_parser *p, const uint8_t *in, size_t len, size_t *pos,
                        int counted)
{
    while (*pos < len) {
        uint8_t c = in[*pos];
        (*pos)++;
        if (counted && ++p->header_bytes > HEADER_BYTES_MAX)
            return FOTA_ERR_HTTP_HEADER_TOO_LONG;
        if (p->state & S_CR) {
            if (c != '\n')
                return FOTA_ERR_HTTP_PARSE; /* bare CR */
            p->state = (uint8_t)(p->state & ~S_CR);
            p->line[p->line_len] = '\0';
            return line_end(p, EOL_CRLF);
        }
        if (c == '\n') {
            p->line[p->line_len] = '\0';
            return line_end(p, EOL_LF);
        }
        if (c == '\r') {
            p->state = (uint8_t)(p->state | S_CR);
            continue;
        }
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return FOTA_ERR_HTTP_PARSE;
        if (p->line_len + 1 >= p->line_size)
            return FOTA_ERR_HTTP_HEADER_TOO_LONG;
        p->line[p->line_len++] = (char)c;
    }
    return 0;
}

/* "HTTP/1.x SSS[ reason]" */
static int parse_status_line(struct fota_http_parser *p)
{
    const char *l = p->line;
    size_t n = p->line_len;
    unsigned status;

    if (n < 12 || memcmp(l, "HTTP/1.", 7) != 0 || !is_digit(l[7]) || l[8] != ' ' ||
        !is_digit(l[9]) || !is_digit(l[10]) || !is_digit(l[11]) || (n > 12 && l[12] != ' '))
        return FOTA_ERR_HTTP_PARSE;
    status = (unsigned)(l[9] - '0') * 100u + (unsigned)(l[10] - '0') * 10u +
             (unsigned)(l[11] - '0');
    if (status < 100 || status > 599)
        return FOTA_ERR_HTTP_PARSE;
    if (status == 101)
        return FOTA_ERR_HTTP_STATUS; /* we never ask for an upgrade */
    if (status < 200) {
        p->flags = F_INTERIM; /* skipped, with its headers */
        return 0;
    }
    p->flags = 0;
    p->resp.status = (uint16_t)status;
    p->resp.http_minor = (uint8_t)(l[7] - '0');
    return 0;
}

/* Calls fn on each element of a comma-separated list (OWS trimmed, empty
 * elements skipped). Stops at the first error fn returns. */
static int for_each_token(struct fota_http_parser *p, const char *v, size_t n,
                          int (*fn)(struct fota_http_parser *p, const char *t, size_t len))
{
    size_t i = 0;
    while (i < n) {
        size_t start = i, end;
        int r;
        while (i < n && v[i] != ',')
            i++;
        end = i;
        while (start < end && is_ows(v[start]))
            start++;
        while (end > start && is_ows(v[end - 1]))
            end--;
        if (end > start) {
            r = fn(p, v + start, end - start);
            if (r != 0)
                return r;
        }
        i++; /* past ',' */
    }
    return 0;
}

static int on_connection_token(struct fota_http_parser *p, const char *t, size_t n)
{
    if (equals_lit_ci(t, n, "close"))
        p->flags |= F_CLOSE;
    else if (equals_lit_ci(t, n, "keep-alive"))
        p->flags |= F_KEEP_ALIVE;
    return 0;
}

/* Only "chunked", once: any other coding (gzip, ...) would put encoded bytes
 * into flash, and a non-final or repeated chunked is invalid. */
static int on_transfer_coding(struct fota_http_parser *p, const char *t, size_t n)
{
    if (!equals_lit_ci(t, n, "chunked") || (p->flags & F_CHUNKED))
        return FOTA_ERR_HTTP_PARSE;
    p->flags |= F_CHUNKED;
    return 0;
}

static int on_transfer_encoding(struct fota_http_parser *p, const char *v, size_t n)
{
    if (n == 0)
        return FOTA_ERR_HTTP_PARSE;
    return for_each_token(p, v, n, on_transfer_coding);
}

static int on_content_length(struct fota_http_parser *p, const char *v, size_t n)
{
    uint64_t len;
    if (parse_u64(v, n, &len) != 0)
        return FOTA_ERR_HTTP_PARSE;
    if (p->resp.has_content_length && p->resp.content_length != len)
        return FOTA_ERR_HTTP_PARSE;
    p->resp.has_content_length = 1;
    p->resp.content_length = len;
    return 0;
}

/* Content-Encoding = #content-coding. Anything but identity is kept (as
 * sent, printable, cut to FOTA_HTTP_CODING_MAX) for the caller to refuse. */
static int on_content_encoding(struct fota_http_parser *p, const char *v, size_t n)
{
    size_t i = 0, k = 0, start;
    int other = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        start = i;
        while (i < n && v[i] != ',' && v[i] != ' ' && v[i] != '\t')
            i++;
        if (i > start && !equals_lit_ci(v + start, i - start, "identity"))
            other = 1;
    }
    if (!other)
        return 0;
    for (i = 0; i < n && k < FOTA_HTTP_CODING_MAX; i++)
        if (v[i] > 0x20 && v[i] < 0x7f)
            p->resp.content_encoding[k++] = v[i];
    p->resp.content_encoding[k] = '\0';
    return 0;
}

/* entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE. Kept when valid and it fits;
 * otherwise the response simply has no usable ETag. */
static int on_etag(struct fota_http_parser *p, const char *v, size_t n)
{
    size_t i, start = 0;
    p->resp.etag[0] = '\0';
    if (n >= 2 && v[0] == 'W' && v[1] == '/')
        start = 2;
    if (n > FOTA_HTTP_ETAG_MAX || n < start + 2 || v[start] != '"' || v[n - 1] != '"')
        return 0;
    for (i = start + 1; i < n - 1; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c <= 0x20 || c == '"' || c == 0x7f)
            return 0;
    }
    memcpy(p->resp.etag, v, n);
    p->resp.etag[n] = '\0';
    return 0;
}

/* Length of the run of digits at s[0..n). */
static size_t digits_len(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && is_digit(s[i]))
        i++;
    return i;
}

/* "bytes first-last/complete", "bytes first-last/ *" or "bytes * /complete"
 * (without the spaces around the '/'). */
static int on_content_range(struct fota_http_parser *p, const char *v, size_t n)
{
    uint64_t first, last, complete;
    size_t i, d;

    if (p->resp.has_content_range)
        return FOTA_ERR_HTTP_PARSE;
    if (n < 6 || !equals_lit_ci(v, 5, "bytes") || v[5] != ' ')
        return FOTA_ERR_HTTP_PARSE;
    i = 6;
    if (i < n && v[i] == '*') {
        first = last = UINT64_MAX;
        i++;
    } else {
        d = digits_len(v + i, n - i);
        if (parse_u64(v + i, d, &first) != 0)
            return FOTA_ERR_HTTP_PARSE;
        i += d;
        if (i >= n || v[i] != '-')
            return FOTA_ERR_HTTP_PARSE;
        i++;
        d = digits_len(v + i, n - i);
        if (parse_u64(v + i, d, &last) != 0 || last < first || last == UINT64_MAX)
            return FOTA_ERR_HTTP_PARSE;
        i += d;
    }
    if (i >= n || v[i] != '/')
        return FOTA_ERR_HTTP_PARSE;
    i++;
    if (i + 1 == n && v[i] == '*') {
        if (first == UINT64_MAX)
            return FOTA_ERR_HTTP_PARSE; /* "* / *" */
        complete = UINT64_MAX;
    } else {
        if (parse_u64(v + i, n - i, &complete) != 0)
            return FOTA_ERR_HTTP_PARSE;
        if (first != UINT64_MAX && last >= complete)
            return FOTA_ERR_HTTP_PARSE;
    }
    p->resp.has_content_range = 1;
    p->resp.range_first = first;
    p->resp.range_last = last;
    p->resp.range_complete = complete;
    return 0;
}

/* delta-seconds (saturating); an HTTP-date or anything else counts as 0. */
static int on_retry_after(struct fota_http_parser *p, const char *v, size_t n)
{
    uint32_t s = 0;
    size_t i;
    p->resp.retry_after_s = 0;
    if (n == 0 || digits_len(v, n) != n)
        return 0;
    for (i = 0; i < n; i++) {
        uint32_t d = (uint32_t)(v[i] - '0');
        if (s > (UINT32_MAX - d) / 10u) {
            s = UINT32_MAX;
            break;
        }
        s = s * 10u + d;
    }
    p->resp.retry_after_s = s;
    return 0;
}

/* The field name in p->line[0..line_len) is complete: what is its value
 * for? In a 1xx response and in trailers, nothing. */
static uint8_t field_for_name(const struct fota_http_parser *p, size_t name_len)
{
    /* the names of enum field_id from FIELD_CONTENT_LENGTH on, in its order */
    static const char names[] = "content-length\0transfer-encoding\0connection\0etag\0"
                                "content-range\0retry-after\0content-encoding\0location";
    const char *name = names;
    uint8_t id;
    if ((p->flags & F_INTERIM) || p->in_trailers || name_len >= NAME_KEPT)
        return FIELD_SKIP;
    for (id = FIELD_CONTENT_LENGTH; !equals_lit_ci(p->line, name_len, name); id++) {
        if (id == FIELD_LOCATION)
            return FIELD_SKIP;
        name += strlen(name) + 1;
    }
    if (id != FIELD_LOCATION)
        return id;
    if (p->location == NULL || p->location_size == 0)
        return FIELD_SKIP;
    return p->resp.has_location ? FIELD_LOCATION_AGAIN : FIELD_LOCATION;
}

/* A value too long for its buffer: the ETag and Retry-After are then simply
 * unusable, anything else is an error. */
static int value_too_long(struct fota_http_parser *p)
{
    if (p->field == FIELD_ETAG) {
        p->resp.etag[0] = '\0';
        p->field = FIELD_SKIP;
        return 0;
    }
    if (p->field == FIELD_CONTENT_ENCODING) {
        /* longer than any coding the agent could know: not identity */
        memcpy(p->resp.content_encoding, "(long)", 7);
        p->field = FIELD_SKIP;
        return 0;
    }
    if (p->field == FIELD_RETRY_AFTER) {
        p->resp.retry_after_s = 0;
        p->field = FIELD_SKIP;
        return 0;
    }
    return FOTA_ERR_HTTP_HEADER_TOO_LONG;
}

/* One byte of a field value (HTAB, SP, VCHAR or obs-text: checked by the
 * caller). Leading whitespace is dropped; whitespace that does not fit the
 * buffer is held, which is fine as long as nothing but whitespace follows
 * (it is trimmed at the end of the line). */
static int value_byte(struct fota_http_parser *p, char c)
{
    char *buf = p->field == FIELD_LOCATION || p->field == FIELD_LOCATION_AGAIN ? p->location
                                                                                : p->line;
    size_t cap = buf == p->location ? p->location_size : p->line_size;

    if (p->field == FIELD_SKIP || (p->line_len == 0 && p->ows_held == 0 && is_ows(c)))
        return 0;
    if (p->field == FIELD_LOCATION_AGAIN) {
        /* A second Location must say the same, or the redirect is ambiguous. */
        if (p->ows_held == 0 && buf[p->line_len] == c) {
            p->line_len++;
            return 0;
        }
        if (is_ows(c)) {
            p->ows_held++;
            return 0;
        }
        return FOTA_ERR_HTTP_PARSE;
    }
    if (is_ows(c) && (p->ows_held > 0 || p->line_len + 1 >= cap)) {
        p->ows_held++;
        return 0;
    }
    if (p->ows_held > 0 || p->line_len + 1 >= cap)
        return value_too_long(p);
    buf[p->line_len++] = c;
    return 0;
}

/* The field line is complete: trim the value and act on it. */
static int on_field_value(struct fota_http_parser *p)
{
    const char *v = p->line;
    size_t n = p->line_len;

    switch (p->field) {
    case FIELD_LOCATION:
        while (n > 0 && is_ows(p->location[n - 1]))
            n--;
        p->location[n] = '\0';
        p->resp.has_location = 1;
        return 0;
    case FIELD_LOCATION_AGAIN:
        return p->location[n] == '\0' ? 0 : FOTA_ERR_HTTP_PARSE;
    case FIELD_SKIP:
        return 0;
    default:
        break;
    }
    while (n > 0 && is_ows(v[n - 1]))
        n--;
    p->line[n] = '\0';
    switch (p->field) {
    case FIELD_CONTENT_LENGTH:
        return on_content_length(p, v, n);
    case FIELD_TRANSFER_ENCODING:
        return on_transfer_encoding(p, v, n);
    case FIELD_CONNECTION:
        return for_each_token(p, v, n, on_connection_token);
    case FIELD_ETAG:
        return on_etag(p, v, n);
    case FIELD_CONTENT_RANGE:
        return on_content_range(p, v, n);
    case FIELD_CONTENT_ENCODING:
        return on_content_encoding(p, v, n);
    default:
        return on_retry_after(p, v, n);
    }
}

/* Reads a field line (header or trailer) from in[*pos..len), byte by byte:
 * "name: value". The name is kept in p->line only while it could be one the
 * agent uses; the value goes to p->line, to the Location buffer, or nowhere.
 * Returns 0 when the input ran out, 1 when a field line was handled, 2 for
 * the empty line that ends the section, or an error. */
static int collect_field(struct fota_http_parser *p, const uint8_t *in, size_t len, size_t *pos)
{
    while (*pos < len) {
        char c = (char)in[*pos];
        uint8_t eol = 0;
        (*pos)++;
        if (++p->header_bytes > HEADER_BYTES_MAX)
            return FOTA_ERR_HTTP_HEADER_TOO_LONG;
        if (p->state & S_CR) {
            if (c != '\n')
                return FOTA_ERR_HTTP_PARSE; /* bare CR */
            p->state = (uint8_t)(p->state & ~S_CR);
            eol = EOL_CRLF;
        } else if (c == '\n') {
            eol = EOL_LF;
        } else if (c == '\r') {
            p->state = (uint8_t)(p->state | S_CR);
            continue;
        }
        if (eol) {
            int r = line_end(p, eol);
            uint8_t fs = p->field_state;
            if (r < 0)
                return r;
            p->field_state = FS_START;
            if (fs == FS_START)
                return 2;
            if (fs == FS_NAME)
                return FOTA_ERR_HTTP_PARSE; /* no colon */
            r = on_field_value(p);
            p->line_len = 0;
            p->ows_held = 0;
            return r < 0 ? r : 1;
        }
        if (((unsigned char)c < 0x20 && c != '\t') || c == 0x7f)
            return FOTA_ERR_HTTP_PARSE;
        switch (p->field_state) {
        case FS_START:
            if (is_ows(c))
                return FOTA_ERR_HTTP_PARSE; /* obs-fold continuation line */
            if (++p->header_lines > HEADER_LINES_MAX)
                return FOTA_ERR_HTTP_HEADER_TOO_LONG;
            p->field_state = FS_NAME;
            p->line_len = 0;
            p->ows_held = 0;
            /* fall through */
        case FS_NAME:
            if (c == ':') {
                if (p->line_len == 0)
                    return FOTA_ERR_HTTP_PARSE; /* no name */
                p->field = field_for_name(p, p->line_len);
                p->field_state = FS_VALUE;
                p->line_len = 0;
                break;
            }
            if (!is_tchar(c))
                return FOTA_ERR_HTTP_PARSE; /* also: whitespace before the colon */
            if (p->line_len < NAME_KEPT) {
                /* a name the agent may use must fit the line buffer */
                if (p->line_len + 1 >= p->line_size)
                    return FOTA_ERR_HTTP_HEADER_TOO_LONG;
                p->line[p->line_len] = c;
                p->line_len++;
            }
            break;
        default: {
            int r = value_byte(p, c);
            if (r < 0)
                return r;
            break;
        }
        }
    }
    return 0;
}

/* The empty line after the fields: decide keep-alive and the body framing
 * (RFC 9112 6.3). Returns FOTA_HTTP_HEADERS, or 0 after a 1xx response. */
static int on_headers_end(struct fota_http_parser *p)
{
    struct fota_http_response *r = &p->resp;

    if (p->flags & F_INTERIM) {
        p->flags = 0;
        p->state = S_STATUS;
        return 0;
    }
    if (r->http_minor >= 1)
        r->keep_alive = (p->flags & F_CLOSE) ? 0 : 1;
    else
        r->keep_alive = ((p->flags & F_KEEP_ALIVE) && !(p->flags & F_CLOSE)) ? 1 : 0;

    if (p->flags & F_CHUNKED) {
        if (r->http_minor == 0)
            return FOTA_ERR_HTTP_PARSE; /* no chunked coding in HTTP/1.0 */
        if (r->has_content_length) {
            /* Both: the length is ignored, and the connection is not reused
             * (a classic request-smuggling shape). */
            r->has_content_length = 0;
            r->content_length = 0;
            r->keep_alive = 0;
        }
    }

    if (p->no_body || r->status == 204 || r->status == 304) {
        r->framing = FOTA_HTTP_FRAMING_NONE;
        p->state = S_DONE_PENDING;
    } else if (p->flags & F_CHUNKED) {
        r->framing = FOTA_HTTP_FRAMING_CHUNKED;
        p->state = S_CHUNK_SIZE;
    } else if (r->has_content_length) {
        if (r->content_length == 0) {
            r->framing = FOTA_HTTP_FRAMING_NONE;
            p->state = S_DONE_PENDING;
        } else {
            r->framing = FOTA_HTTP_FRAMING_LENGTH;
            p->remaining = r->content_length;
            p->state = S_BODY_LENGTH;
        }
    } else {
        r->framing = FOTA_HTTP_FRAMING_CLOSE;
        r->keep_alive = 0;
        p->state = S_BODY_CLOSE;
    }
    return FOTA_HTTP_HEADERS;
}

/* quoted-string (RFC 9110 5.6.4) starting at l[*i] == '"': advances past
 * the closing quote. Returns 0, or an error when it is not closed or holds
 * a control character. */
static int skip_quoted(const char *l, size_t n, size_t *i)
{
    size_t k = *i + 1;
    while (k < n) {
        unsigned char c = (unsigned char)l[k];
        if (c == '"') {
            *i = k + 1;
            return 0;
        }
        if (c == '\\') {
            if (k + 1 >= n)
                return FOTA_ERR_HTTP_PARSE;
            c = (unsigned char)l[k + 1];
            k++;
        }
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return FOTA_ERR_HTTP_PARSE;
        k++;
    }
    return FOTA_ERR_HTTP_PARSE; /* unbalanced quote */
}

static size_t skip_bws(const char *l, size_t n, size_t i)
{
    while (i < n && is_ows(l[i]))
        i++;
    return i;
}

static size_t skip_token(const char *l, size_t n, size_t i)
{
    while (i < n && is_tchar(l[i]))
        i++;
    return i;
}

/* chunk-size [ chunk-ext ] (RFC 9112 7.1.1), checked and otherwise ignored:
 *   chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] )
 *   ext-name = token; ext-val = token / quoted-string
 * Whitespace after the size is allowed only before a ';'. */
static int on_chunk_size_line(struct fota_http_parser *p)
{
    const char *l = p->line;
    size_t n = p->line_len, i = 0;
    uint64_t size = 0;

    while (i < n) {
        char c = l[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            break;
        if (size > (UINT64_MAX >> 4))
            return FOTA_ERR_HTTP_PARSE;
        size = (size << 4) | d;
        i++;
    }
    if (i == 0)
        return FOTA_ERR_HTTP_PARSE;
    while (i < n) {
        size_t name;
        i = skip_bws(l, n, i);
        if (i >= n || l[i] != ';')
            return FOTA_ERR_HTTP_PARSE; /* "a \r\n", "5 5" */
        i = skip_bws(l, n, i + 1);
        name = i;
        i = skip_token(l, n, i);
        if (i == name)
            return FOTA_ERR_HTTP_PARSE; /* "2;" */
        if (skip_bws(l, n, i) < n && l[skip_bws(l, n, i)] == '=') {
            i = skip_bws(l, n, skip_bws(l, n, i) + 1);
            if (i < n && l[i] == '"') {
                if (skip_quoted(l, n, &i) != 0)
                    return FOTA_ERR_HTTP_PARSE;
            } else {
                size_t v = i;
                i = skip_token(l, n, i);
                if (i == v)
                    return FOTA_ERR_HTTP_PARSE; /* "2;a=" */
            }
        }
    }

    if (size == 0) {
        p->state = S_TRAILER;
        p->in_trailers = 1;
        p->header_lines = 0;
        p->header_bytes = 0;
    } else {
        p->remaining = size;
        p->state = S_CHUNK_DATA;
    }
    return 0;
}

/* A complete line in p->line (status, chunk size, end of chunk data): act
 * on it according to the state. Returns 0 or an error. */
static int on_line(struct fota_http_parser *p)
{
    switch (STATE(p)) {
    case S_STATUS: {
        int r;
        if (p->line_len == 0) {
            /* a stray CRLF after the previous body, or after a 1xx */
            if (++p->empty_lines > EMPTY_LINES_MAX)
                return FOTA_ERR_HTTP_PARSE;
            return 0;
        }
        r = parse_status_line(p);
        if (r == 0) {
            p->state = S_HEADER;
            p->field_state = FS_START;
            if ((p->flags & F_INTERIM) && ++p->interims > INTERIM_MAX)
                return FOTA_ERR_HTTP_PARSE;
        }
        return r;
    }
    case S_CHUNK_SIZE:
        return on_chunk_size_line(p);
    case S_CHUNK_END:
        if (p->line_len != 0)
            return FOTA_ERR_HTTP_PARSE; /* chunk data longer than announced */
        p->state = S_CHUNK_SIZE;
        return 0;
    default:
        return FOTA_ERR_HTTP_PARSE;
    }
}

/* The empty line that ends the header block or the trailers. Returns 0 or
 * FOTA_HTTP_HEADERS or an error. */
static int on_section_end(struct fota_http_parser *p)
{
    if (STATE(p) == S_HEADER)
        return on_headers_end(p);
    p->in_trailers = 0;
    p->state = S_DONE_PENDING;
    return 0;
}

static int fail(struct fota_http_parser *p, int err)
{
    p->state = S_ERROR;
    p->remaining = (uint64_t)(-(int64_t)err);
    return err;
}

int fota_http_parse(struct fota_http_parser *p, const uint8_t *in, size_t len, size_t *consumed,
                    const uint8_t **body, size_t *body_len)
{
    size_t pos = 0, steps;

    if (consumed != NULL)
        *consumed = 0;
    if (body != NULL)
        *body = NULL;
    if (body_len != NULL)
        *body_len = 0;
    if (p == NULL || consumed == NULL || body == NULL || body_len == NULL ||
        (in == NULL && len > 0) || p->line == NULL || p->line_size == 0)
        return FOTA_ERR_INVALID_ARG;

    /* Every pass that does not return consumes at least one byte. */
    for (steps = 0; steps <= len; steps++) {
        int r;
        switch (STATE(p)) {
        case S_HEADER:
        case S_TRAILER:
            r = collect_field(p, in, len, &pos);
            if (r < 0)
                return fail(p, r);
            if (r == 0) {
                *consumed = pos;
                return FOTA_HTTP_NEED_MORE;
            }
            if (r == 2) {
                r = on_section_end(p);
                if (r < 0)
                    return fail(p, r);
                if (r == FOTA_HTTP_HEADERS) {
                    *consumed = pos;
                    return FOTA_HTTP_HEADERS;
                }
            }
            break;
        case S_STATUS:
        case S_CHUNK_SIZE:
        case S_CHUNK_END: {
            int counted = STATE(p) == S_STATUS;
            r = collect_line(p, in, len, &pos, counted);
            if (r < 0)
                return fail(p, r);
            if (r == 0) {
                *consumed = pos;
                return FOTA_HTTP_NEED_MORE;
            }
            r = on_line(p);
            p->line_len = 0;
            if (r < 0)
                return fail(p, r);
            if (r == FOTA_HTTP_HEADERS) {
                *consumed = pos;
                return FOTA_HTTP_HEADERS;
            }
            break;
        }
        case S_BODY_LENGTH:
        case S_CHUNK_DATA:
        case S_BODY_CLOSE: {
            size_t n = len - pos;
            if (n == 0) {
                *consumed = pos;
                return FOTA_HTTP_NEED_MORE;
            }
            if (STATE(p) != S_BODY_CLOSE) {
                if ((uint64_t)n > p->remaining)
                    n = (size_t)p->remaining;
                p->remaining -= n;
                if (p->remaining == 0)
                    p->state = STATE(p) == S_CHUNK_DATA ? S_CHUNK_END : S_DONE_PENDING;
            }
            p->body_seen += n;
            *body = in + pos;
            *body_len = n;
            *consumed = pos + n;
            return FOTA_HTTP_BODY;
        }
        case S_DONE_PENDING:
            p->state = S_DONE;
            *consumed = pos;
            return FOTA_HTTP_DONE;
        case S_DONE:
            *consumed = pos;
            return FOTA_HTTP_DONE;
        default:
            return (int)-(int64_t)p->remaining;
        }
    }
    return fail(p, FOTA_ERR_HTTP_PARSE); /* not reached */
}

int fota_http_eof(struct fota_http_parser *p)
{
    if (p == NULL)
        return FOTA_ERR_INVALID_ARG;
    switch (STATE(p)) {
    case S_BODY_CLOSE:
    case S_DONE_PENDING:
    case S_DONE:
        p->state = S_DONE;
        return FOTA_HTTP_DONE;
    case S_ERROR:
        return (int)-(int64_t)p->remaining;
    default:
        return FOTA_ERR_CLOSED;
    }
}

/* ---- Request ------------------------------------------------------------- */

/* Text that goes into the request: no control characters (no CR/LF
 * injection), and no spaces where `no_space`. */
static int clean_text(const char *s, size_t n, int no_space)
{
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || (no_space && c == ' '))
            return 0;
    }
    return 1;
}

int fota_http_format_get(char *out, size_t out_size, const struct fota_url *url,
                         const char *user_agent, uint64_t range_start, const char *if_none_match)
{
    struct fota_writer w = {out, out_size, 0, 0};

    if (out == NULL || out_size == 0 || url == NULL || url->host == NULL || url->host_len == 0 ||
        url->path == NULL || url->path_len == 0 || url->path[0] != '/' ||
        !clean_text(url->host, url->host_len, 1) || !clean_text(url->path, url->path_len, 1) ||
        (user_agent != NULL && !clean_text(user_agent, strlen(user_agent), 0)) ||
        (if_none_match != NULL && !clean_text(if_none_match, strlen(if_none_match), 0)))
        return FOTA_ERR_INVALID_ARG;

    fota_put_str(&w, "GET ");
    fota_put(&w, url->path, url->path_len);
    fota_put_str(&w, " HTTP/1.1\r\nHost: ");
    fota_put_authority(&w, url);
    fota_put_str(&w, "\r\n");
    if (user_agent != NULL && user_agent[0] != '\0') {
        fota_put_str(&w, "User-Agent: ");
        fota_put_str(&w, user_agent);
        fota_put_str(&w, "\r\n");
    }
    /* identity: without Accept-Encoding RFC 9110 lets a server pick any
     * coding, and the agent decodes none */
    fota_put_str(&w, "Accept: */*\r\nAccept-Encoding: identity\r\nConnection: keep-alive\r\n");
    if (range_start > 0) {
        fota_put_str(&w, "Range: bytes=");
        fota_put_uint(&w, range_start);
        fota_put_str(&w, "-\r\n");
    }
    if (if_none_match != NULL && if_none_match[0] != '\0') {
        fota_put_str(&w, "If-None-Match: ");
        fota_put_str(&w, if_none_match);
        fota_put_str(&w, "\r\n");
    }
    fota_put_str(&w, "\r\n");
    if (w.overflow)
        return FOTA_ERR_BUFFER_TOO_SMALL;
    out[w.len] = '\0';
    return (int)w.len;
}
