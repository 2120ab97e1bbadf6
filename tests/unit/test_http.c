/* Incremental HTTP response parser and GET formatter (src/http.c). */
#include <stdint.h>
#include <string.h>

#include "fota/error.h"
#include "fota/http.h"
#include "fota/url.h"
#include "harness.h"

/* ---- Helpers ------------------------------------------------------------- */

#define MAX_EVENTS 16

/* What a parse run produced: the events in order (consecutive BODY events
 * folded into one, since how the body is sliced depends on the reads), the
 * body bytes, the final error if any, and how many input bytes were used. */
struct run {
    int events[MAX_EVENTS];
    size_t n_events;
    uint8_t body[2048];
    size_t body_len;
    int err;
    size_t used;
    int done;
    struct fota_http_response resp;
    char location[2100];
};

static struct fota_http_parser parser;

/* Appends s at dst[*n] and keeps dst NUL-terminated (the tests size dst). */
static void cat(char *dst, size_t *n, const char *s)
{
    size_t len = strlen(s);
    memcpy(dst + *n, s, len + 1);
    *n += len;
}

static void cat_repeat(char *dst, size_t *n, char c, size_t count)
{
    memset(dst + *n, c, count);
    *n += count;
    dst[*n] = '\0';
}

static void cat_uint(char *dst, size_t *n, unsigned v)
{
    char digits[12];
    size_t i = sizeof digits;
    digits[--i] = '\0';
    do {
        digits[--i] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0);
    cat(dst, n, digits + i);
}
static char line_buf[256];

static void record(struct run *r, int ev)
{
    if (ev == FOTA_HTTP_BODY && r->n_events > 0 && r->events[r->n_events - 1] == FOTA_HTTP_BODY)
        return;
    if (r->n_events < MAX_EVENTS)
        r->events[r->n_events++] = ev;
}

static void run_start(struct run *r, int head)
{
    memset(r, 0, sizeof *r);
    fota_http_parser_init(&parser, line_buf, sizeof line_buf, r->location, sizeof r->location,
                          head);
}

/* Feeds one read. Stops at DONE or an error; the bytes not consumed then are
 * left (r->used counts the consumed ones). */
static void run_feed(struct run *r, const uint8_t *data, size_t len)
{
    size_t off = 0, guard;
    if (r->done || r->err)
        return;
    for (guard = 0; guard < len + 8; guard++) {
        const uint8_t *body = NULL;
        size_t body_len = 0, consumed = 0;
        int ev = fota_http_parse(&parser, data + off, len - off, &consumed, &body, &body_len);
        if (consumed > len - off) {
            r->err = 999; /* consumed more than given: a parser bug */
            return;
        }
        off += consumed;
        r->used += consumed;
        if (ev < 0) {
            r->err = ev;
            return;
        }
        if (ev == FOTA_HTTP_NEED_MORE) {
            if (off != len)
                r->err = 998; /* NEED_MORE must consume everything */
            return;
        }
        record(r, ev);
        if (ev == FOTA_HTTP_HEADERS)
            r->resp = parser.resp;
        if (ev == FOTA_HTTP_BODY) {
            if (body != data + off - body_len || body_len == 0 ||
                r->body_len + body_len > sizeof r->body) {
                r->err = 997; /* body slice must be the consumed input */
                return;
            }
            memcpy(r->body + r->body_len, body, body_len);
            r->body_len += body_len;
        }
        if (ev == FOTA_HTTP_DONE) {
            r->done = 1;
            return;
        }
    }
    r->err = 996; /* no progress */
}

static void run_eof(struct run *r)
{
    int ev;
    if (r->done || r->err)
        return;
    ev = fota_http_eof(&parser);
    if (ev < 0) {
        r->err = ev;
        return;
    }
    record(r, ev);
    if (ev == FOTA_HTTP_DONE)
        r->done = 1;
}

static void run_all(struct run *r, const char *text, int head)
{
    run_start(r, head);
    run_feed(r, (const uint8_t *)text, strlen(text));
}

static int runs_equal(const struct run *a, const struct run *b)
{
    return a->n_events == b->n_events &&
           memcmp(a->events, b->events, a->n_events * sizeof a->events[0]) == 0 &&
           a->body_len == b->body_len && memcmp(a->body, b->body, a->body_len) == 0 &&
           a->err == b->err && a->used == b->used && a->done == b->done &&
           memcmp(&a->resp, &b->resp, sizeof a->resp) == 0 &&
           strcmp(a->location, b->location) == 0;
}

#define EV3(r, a, b, c)                                                                    \
    ((r)->n_events == 3 && (r)->events[0] == (a) && (r)->events[1] == (b) &&               \
     (r)->events[2] == (c))
#define EV2(r, a, b) ((r)->n_events == 2 && (r)->events[0] == (a) && (r)->events[1] == (b))

/* Parses `text` whole, split in two at every index, and byte by byte; every
 * way must give the same result as the whole. */
static void check_all_splits(const char *text, const struct run *expect)
{
    static struct run r;
    size_t len = strlen(text), i;
    const uint8_t *d = (const uint8_t *)text;

    run_all(&r, text, 0);
    CHECK(runs_equal(&r, expect));
    for (i = 0; i <= len; i++) {
        run_start(&r, 0);
        run_feed(&r, d, i);
        run_feed(&r, d + i, len - i);
        CHECK(runs_equal(&r, expect));
        if (!runs_equal(&r, expect)) {
            printf("  split at %u differs\n", (unsigned)i);
            break;
        }
    }
    run_start(&r, 0);
    for (i = 0; i < len; i++)
        run_feed(&r, d + i, 1);
    CHECK(runs_equal(&r, expect));
}

/* ---- Splits -------------------------------------------------------------- */

static const char length_response[] =
    "HTTP/1.1 200 OK\r\n"
    "Server: test\r\n"
    "Content-Length: 26\r\n"
    "ETag: \"abc\"\r\n"
    "\r\n"
    "abcdefghijklmnopqrstuvwxyz"
    "HTTP/1.1 200 OK\r\n"; /* the next response: must stay unconsumed */

static void test_splits_content_length(void)
{
    static struct run expect;
    size_t head_len = strlen(length_response) - strlen("HTTP/1.1 200 OK\r\n");
    memset(&expect, 0, sizeof expect);
    expect.events[0] = FOTA_HTTP_HEADERS;
    expect.events[1] = FOTA_HTTP_BODY;
    expect.events[2] = FOTA_HTTP_DONE;
    expect.n_events = 3;
    memcpy(expect.body, "abcdefghijklmnopqrstuvwxyz", 26);
    expect.body_len = 26;
    expect.used = head_len;
    expect.done = 1;
    expect.resp.status = 200;
    expect.resp.http_minor = 1;
    expect.resp.framing = FOTA_HTTP_FRAMING_LENGTH;
    expect.resp.keep_alive = 1;
    expect.resp.has_content_length = 1;
    expect.resp.content_length = 26;
    memcpy(expect.resp.etag, "\"abc\"", 6);
    check_all_splits(length_response, &expect);
}

static const char chunked_response[] =
    "HTTP/1.1 200 OK\r\n"
    "Transfer-Encoding: chunked\r\n"
    "Location: /next\r\n"
    "\r\n"
    "5;name=value;flag\r\n"
    "hello\r\n"
    "1A \t; ext=\"quoted\"\r\n"
    "abcdefghijklmnopqrstuvwxyz\r\n"
    "0\r\n"
    "X-Checksum: 1234\r\n"
    "X-Other: y\r\n"
    "\r\n"
    "GARBAGE";

static void test_splits_chunked(void)
{
    static struct run expect;
    memset(&expect, 0, sizeof expect);
    expect.events[0] = FOTA_HTTP_HEADERS;
    expect.events[1] = FOTA_HTTP_BODY;
    expect.events[2] = FOTA_HTTP_DONE;
    expect.n_events = 3;
    memcpy(expect.body, "helloabcdefghijklmnopqrstuvwxyz", 31);
    expect.body_len = 31;
    expect.used = strlen(chunked_response) - strlen("GARBAGE");
    expect.done = 1;
    expect.resp.status = 200;
    expect.resp.http_minor = 1;
    expect.resp.framing = FOTA_HTTP_FRAMING_CHUNKED;
    expect.resp.keep_alive = 1;
    expect.resp.has_location = 1;
    memcpy(expect.location, "/next", 6);
    check_all_splits(chunked_response, &expect);
}

static const char continue_response[] =
    "HTTP/1.1 100 Continue\r\n"
    "\r\n"
    "HTTP/1.1 103 Early Hints\r\n"
    "Link: </style.css>; rel=preload\r\n"
    "Content-Length: 999\r\n" /* a 1xx's fields do not count */
    "Location: /not-this\r\n"
    "\r\n"
    "HTTP/1.1 206 Partial Content\r\n"
    "Content-Range: bytes 10-13/100\r\n"
    "Content-Length: 4\r\n"
    "Connection: close\r\n"
    "\r\n"
    "WXYZ";

static void test_splits_continue(void)
{
    static struct run expect;
    memset(&expect, 0, sizeof expect);
    expect.events[0] = FOTA_HTTP_HEADERS;
    expect.events[1] = FOTA_HTTP_BODY;
    expect.events[2] = FOTA_HTTP_DONE;
    expect.n_events = 3;
    memcpy(expect.body, "WXYZ", 4);
    expect.body_len = 4;
    expect.used = strlen(continue_response);
    expect.done = 1;
    expect.resp.status = 206;
    expect.resp.http_minor = 1;
    expect.resp.framing = FOTA_HTTP_FRAMING_LENGTH;
    expect.resp.keep_alive = 0;
    expect.resp.has_content_length = 1;
    expect.resp.content_length = 4;
    expect.resp.has_content_range = 1;
    expect.resp.range_first = 10;
    expect.resp.range_last = 13;
    expect.resp.range_complete = 100;
    check_all_splits(continue_response, &expect);
}

#define CHUNKED_HEAD_FOR_SPLITS "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"

/* Parses `text` whole and expects error `want`; then at every split point
 * and byte by byte, the same error. */
static void check_error_all_splits(const char *text, int want)
{
    static struct run r;
    size_t len = strlen(text), i;
    const uint8_t *d = (const uint8_t *)text;
    int bad = 0;

    run_all(&r, text, 0);
    bad |= r.err != want;
    for (i = 0; i <= len && !bad; i++) {
        run_start(&r, 0);
        run_feed(&r, d, i);
        run_feed(&r, d + i, len - i);
        bad |= r.err != want;
    }
    run_start(&r, 0);
    for (i = 0; i < len; i++)
        run_feed(&r, d + i, 1);
    bad |= r.err != want;
    CHECK(!bad);
    if (bad)
        printf("  expected error %d (split at %u): %s\n", want, (unsigned)i, text);
}

/* Parses `text` whole, checks it completed with `status` and `body`, then
 * that every split gives the same result. */
static void check_ok_all_splits(const char *text, unsigned status, const char *body)
{
    static struct run whole;
    run_all(&whole, text, 0);
    run_eof(&whole);
    CHECK_EQ_INT(whole.err, 0);
    CHECK(whole.done);
    CHECK_EQ_INT(whole.resp.status, status);
    CHECK_EQ_INT(whole.body_len, strlen(body));
    CHECK_MEM(whole.body, body, strlen(body));
    if (whole.err || !whole.done)
        printf("  input: %s\n", text);
    /* the eof was only needed by a close-delimited body */
    run_all(&whole, text, 0);
    if (!whole.done)
        return;
    check_all_splits(text, &whole);
}

/* ---- Line endings (issue 15) --------------------------------------------- */

static void test_line_endings(void)
{
    /* the review's smuggling shape: a bare LF inside a CRLF header block
     * ended "Dummy: x" and let Content-Length frame a second response */
    check_error_all_splits("HTTP/1.1 200 OK\r\nDummy: x\nContent-Length: 23\r\n\r\n"
                           "HTTP/1.1 200 OK\r\n\r\nsmuggled",
                           FOTA_ERR_HTTP_PARSE);
    /* bare LF after a CRLF status line, at the end of the header block, in
     * a chunk-size line, after chunk data, in trailers */
    check_error_all_splits("HTTP/1.1 200 OK\r\nContent-Length: 2\n\r\nok", FOTA_ERR_HTTP_PARSE);
    check_error_all_splits("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\nok", FOTA_ERR_HTTP_PARSE);
    check_error_all_splits(CHUNKED_HEAD_FOR_SPLITS "2\nok\r\n0\r\n\r\n", FOTA_ERR_HTTP_PARSE);
    check_error_all_splits(CHUNKED_HEAD_FOR_SPLITS "2\r\nok\n0\r\n\r\n", FOTA_ERR_HTTP_PARSE);
    check_error_all_splits(CHUNKED_HEAD_FOR_SPLITS "2\r\nok\r\n0\r\nT: v\n\r\n",
                           FOTA_ERR_HTTP_PARSE);
    check_error_all_splits(CHUNKED_HEAD_FOR_SPLITS "2\r\nok\r\n0\r\n\n", FOTA_ERR_HTTP_PARSE);
    /* and the other way round: a bare-LF message that switches to CRLF */
    check_error_all_splits("HTTP/1.1 200 OK\nContent-Length: 2\r\n\r\nok", FOTA_ERR_HTTP_PARSE);
    /* a 1xx and the final response are one message stream */
    check_error_all_splits("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\nContent-Length: 2\n\nok",
                           FOTA_ERR_HTTP_PARSE);
    /* a bare CR is never a line ending */
    check_error_all_splits("HTTP/1.1 200 OK\r\nDummy: x\rContent-Length: 2\r\n\r\nok",
                           FOTA_ERR_HTTP_PARSE);

    /* bare LF throughout is accepted (RFC 9112 2.2), CRLF throughout too */
    check_ok_all_splits("HTTP/1.1 200 OK\nContent-Length: 2\nX: y\n\nok", 200, "ok");
    check_ok_all_splits("HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n2;a=b\nok\n0\nT: v\n\n",
                        200, "ok");
    check_ok_all_splits("HTTP/1.1 100 Continue\n\nHTTP/1.1 204 No Content\n\n", 204, "");
}

/* Empty lines before a status line, and 1xx responses, are skipped, within
 * bounds. */
static void test_skipped_before_status(void)
{
    static char text[2048];
    size_t n, i;

    check_ok_all_splits("\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 200, "ok");
    check_ok_all_splits("\r\n\n\r\nHTTP/1.1 200 OK\nContent-Length: 2\n\nok", 200, "ok");
    /* a stray CRLF after a 100 Continue */
    check_ok_all_splits("HTTP/1.1 100 Continue\r\n\r\n\r\n"
                        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
                        200, "ok");
    /* 8 empty lines are skipped, 9 are not */
    n = 0;
    for (i = 0; i < 8; i++)
        cat(text, &n, "\r\n");
    cat(text, &n, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    check_ok_all_splits(text, 200, "ok");
    n = 0;
    for (i = 0; i < 9; i++)
        cat(text, &n, "\r\n");
    cat(text, &n, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    check_error_all_splits(text, FOTA_ERR_HTTP_PARSE);
    /* whitespace is not an empty line */
    check_error_all_splits(" \r\nHTTP/1.1 200 OK\r\n\r\n", FOTA_ERR_HTTP_PARSE);

    /* 16 1xx responses are skipped, 17 are not */
    n = 0;
    for (i = 0; i < 16; i++)
        cat(text, &n, "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n");
    cat(text, &n, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    check_ok_all_splits(text, 200, "ok");
    n = 0;
    for (i = 0; i < 17; i++)
        cat(text, &n, "HTTP/1.1 100 Continue\r\n\r\n");
    cat(text, &n, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    check_error_all_splits(text, FOTA_ERR_HTTP_PARSE);
}

/* ---- Headers the agent does not use (issue 9) ----------------------------- */

/* 4 KB of headers a CDN sends, none of which the agent uses, on a 256-byte
 * line buffer (the ports' default is 512): skipped, not stored. */
static void test_unneeded_headers_skipped(void)
{
    static char text[16384];
    size_t n = 0, i;

    cat(text, &n, "HTTP/1.1 200 OK\r\nContent-Security-Policy: default-src 'self'");
    for (i = 0; i < 60; i++)
        cat(text, &n, "; script-src https://cdn.example.com/assets/");
    cat(text, &n, "\r\nSet-Cookie: session=");
    cat_repeat(text, &n, 'c', 1500);
    cat(text, &n, "; Path=/; Secure; HttpOnly\r\nX-Amz-Id-2: ");
    cat_repeat(text, &n, 'z', 300);
    cat(text, &n, "\r\nA-Header-Name-Much-Longer-Than-Any-The-Agent-Uses: \t x \t\r\n"
                  "Content-Length: 2\r\nETag: \"abc\"\r\n\r\nok");
    CHECK(n > 4096);
    check_ok_all_splits(text, 200, "ok");
}

/* A 2,000-character signed URL in Location, with a 256-byte line buffer and
 * a 2,048-byte URL buffer: Location needs only the URL buffer. */
static void test_long_location(void)
{
    static char text[4096], url[2100];
    static struct run r;
    size_t n = 0, u = 0;

    cat(url, &u, "https://objects.example-cdn.com/release/fw.bin?X-Amz-Signature=");
    cat_repeat(url, &u, 'a', 2000 - u);
    CHECK_EQ_INT(u, 2000);
    cat(text, &n, "HTTP/1.1 302 Found\r\nLocation:  ");
    cat(text, &n, url);
    cat(text, &n, " \r\nLocation: ");
    cat(text, &n, url); /* repeated: must agree, compared without storing */
    cat(text, &n, "\r\nContent-Length: 0\r\n\r\n");

    run_start(&r, 0);
    fota_http_parser_init(&parser, line_buf, sizeof line_buf, r.location, 2048, 0);
    run_feed(&r, (const uint8_t *)text, n);
    CHECK(r.done);
    CHECK_EQ_INT(r.err, 0);
    CHECK_EQ_INT(r.resp.has_location, 1);
    CHECK_EQ_STR(r.location, url);
    /* every split point */
    for (size_t i = 0; i <= n; i++) {
        static struct run s2;
        run_start(&s2, 0);
        fota_http_parser_init(&parser, line_buf, sizeof line_buf, s2.location, 2048, 0);
        run_feed(&s2, (const uint8_t *)text, i);
        run_feed(&s2, (const uint8_t *)text + i, n - i);
        if (!s2.done || strcmp(s2.location, url) != 0) {
            CHECK(s2.done);
            CHECK_EQ_STR(s2.location, url);
            printf("  split at %u\n", (unsigned)i);
            break;
        }
    }
    /* a buffer one byte too small: a specific error, not a truncated URL */
    run_start(&r, 0);
    fota_http_parser_init(&parser, line_buf, sizeof line_buf, r.location, 2000, 0);
    run_feed(&r, (const uint8_t *)text, n);
    CHECK_EQ_INT(r.err, FOTA_ERR_HTTP_HEADER_TOO_LONG);
    /* a second Location that differs in its last character */
    n -= strlen("\r\nContent-Length: 0\r\n\r\n") + 1;
    text[n++] = 'b';
    cat(text, &n, "\r\nContent-Length: 0\r\n\r\n");
    run_start(&r, 0);
    fota_http_parser_init(&parser, line_buf, sizeof line_buf, r.location, 2048, 0);
    run_feed(&r, (const uint8_t *)text, n);
    CHECK_EQ_INT(r.err, FOTA_ERR_HTTP_PARSE);
}

/* ---- Chunked ------------------------------------------------------------- */

static void test_chunked_details(void)
{
    static struct run r;
    /* upper/lower hex, leading zeros, no trailers */
    run_all(&r,
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n"
            "0000a\r\n0123456789\r\nB\r\nabcdefghijk\r\n0\r\n\r\n",
            0);
    CHECK(r.done);
    CHECK_EQ_INT(r.err, 0);
    CHECK_EQ_INT(r.body_len, 21);
    CHECK_MEM(r.body, "0123456789abcdefghijk", 21);
    CHECK_EQ_INT(r.resp.framing, FOTA_HTTP_FRAMING_CHUNKED);

    /* the largest chunk size that fits 64 bits is accepted (then truncated) */
    run_all(&r, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nab", 0);
    CHECK_EQ_INT(r.err, 0);
    CHECK_EQ_INT(r.body_len, 2);
    CHECK_EQ_INT(parser.remaining, UINT64_MAX - 2);
    run_eof(&r);
    CHECK_EQ_INT(r.err, FOTA_ERR_CLOSED);
}

/* chunk-size [ BWS ";" BWS name [ BWS "=" BWS value ] ]... (issue 15): each
 * line inside a chunked body, at every split point. */
static void test_chunk_line_grammar(void)
{
    static const char *const bad[] = {
        "a \r\n",            /* whitespace after the size without a ';' */
        "2 \t\r\n",
        "2;\r\n",            /* ';' without an extension */
        "2 ;\r\n",
        "2;=b\r\n",
        "2;a=\r\n",          /* '=' without a value */
        "2;a b\r\n",
        "2;a=b c\r\n",
        "2;a=b \r\n",        /* whitespace only before a ';' */
        "2;a=\"x\r\n",       /* unbalanced quotes */
        "2;a=\"x\\\"\r\n",   /* the closing quote escaped */
        "2;a=\"x\"y\r\n",    /* more after a quoted value */
        "2;a=\"x\x01\"\r\n", /* a control character in a quoted value */
        "2;a\"b\"\r\n",
        "2;;a\r\n",
    };
    static const char *const good[] = {
        "2;a\r\n",
        "2 ; a = b\r\n",
        "2\t;a;b=c;d=\"\"\r\n",
        "2;a=\"x;y \\\" z\"\r\n",
        "2;name=value;flag ;x=\"q\"\r\n",
        "02;a=\"\xe9t\xe9\"\r\n", /* obs-text */
    };
    static char text[256];
    size_t i, n;
    for (i = 0; i < TEST_COUNT(bad); i++) {
        n = 0;
        cat(text, &n, CHUNKED_HEAD_FOR_SPLITS);
        cat(text, &n, bad[i]);
        cat(text, &n, "ok\r\n0\r\n\r\n");
        check_error_all_splits(text, FOTA_ERR_HTTP_PARSE);
    }
    for (i = 0; i < TEST_COUNT(good); i++) {
        n = 0;
        cat(text, &n, CHUNKED_HEAD_FOR_SPLITS);
        cat(text, &n, good[i]);
        cat(text, &n, "ok\r\n0\r\n\r\n");
        check_ok_all_splits(text, 200, "ok");
    }
}

static void check_parse_error(const char *text, int want)
{
    static struct run r;
    run_all(&r, text, 0);
    CHECK_EQ_INT(r.err, want);
    if (r.err != want)
        printf("  input: %s\n", text);
}

#define CHUNKED_HEAD "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"

static void test_chunked_errors(void)
{
    check_parse_error(CHUNKED_HEAD "-5\r\nhello\r\n0\r\n\r\n", FOTA_ERR_HTTP_PARSE);
    check_parse_error(CHUNKED_HEAD "+5\r\nhello\r\n0\r\n\r\n", FOTA_ERR_HTTP_PARSE);
    check_parse_error(CHUNKED_HEAD "0x5\r\nhello\r\n0\r\n\r\n", FOTA_ERR_HTTP_PARSE);
    check_parse_error(CHUNKED_HEAD "5 5\r\nhello\r\n0\r\n\r\n", FOTA_ERR_HTTP_PARSE);
    check_parse_error(CHUNKED_HEAD "zz\r\n", FOTA_ERR_HTTP_PARSE);
    check_parse_error(CHUNKED_HEAD "\r\n", FOTA_ERR_HTTP_PARSE);
    check_parse_error(CHUNKED_HEAD ";ext\r\n", FOTA_ERR_HTTP_PARSE);
    check_parse_error(CHUNKED_HEAD "10000000000000000\r\n", FOTA_ERR_HTTP_PARSE); /* 2^64 */
    /* missing CRLF after chunk data: data longer than announced */
    check_parse_error(CHUNKED_HEAD "5\r\nhelloX\r\n0\r\n\r\n", FOTA_ERR_HTTP_PARSE);
    check_parse_error(CHUNKED_HEAD "5\r\nhello0\r\n\r\n", FOTA_ERR_HTTP_PARSE);
    check_parse_error(CHUNKED_HEAD "5\r\nhello\r0\r\n\r\n", FOTA_ERR_HTTP_PARSE);
    /* malformed trailer field */
    check_parse_error(CHUNKED_HEAD "0\r\nno colon\r\n\r\n", FOTA_ERR_HTTP_PARSE);
    check_parse_error(CHUNKED_HEAD "0\r\nA: b\r\n folded\r\n\r\n", FOTA_ERR_HTTP_PARSE);
}

/* ---- Status line and syntax ---------------------------------------------- */

static void test_status_line(void)
{
    static struct run r;
    run_all(&r, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", 0);
    CHECK(r.done);
    CHECK_EQ_INT(r.resp.status, 404);
    CHECK(EV2(&r, FOTA_HTTP_HEADERS, FOTA_HTTP_DONE));
    CHECK_EQ_INT(r.resp.framing, FOTA_HTTP_FRAMING_NONE);

    run_all(&r, "HTTP/1.0 503 \r\nContent-Length: 0\r\n\r\n", 0); /* empty reason */
    CHECK(r.done);
    CHECK_EQ_INT(r.resp.status, 503);
    CHECK_EQ_INT(r.resp.http_minor, 0);

    run_all(&r, "HTTP/1.1 599\r\nContent-Length: 0\r\n\r\n", 0); /* no reason at all */
    CHECK(r.done);
    CHECK_EQ_INT(r.resp.status, 599);

    run_all(&r, "HTTP/1.1 200 OK \xe9t\xe9\r\nContent-Length: 0\r\n\r\n", 0); /* obs-text */
    CHECK(r.done);

    check_parse_error("HTTP/2 200 OK\r\n\r\n", FOTA_ERR_HTTP_PARSE);
    check_parse_error("HTTP/2.0 200 OK\r\n\r\n", FOTA_ERR_HTTP_PARSE);
    check_parse_error("http/1.1 200 OK\r\n\r\n", FOTA_ERR_HTTP_PARSE);
    check_parse_error("HTTP/1.1 20 OK\r\n\r\n", FOTA_ERR_HTTP_PARSE);
    check_parse_error("HTTP/1.1 2000 OK\r\n\r\n", FOTA_ERR_HTTP_PARSE);
    check_parse_error("HTTP/1.1 200OK\r\n\r\n", FOTA_ERR_HTTP_PARSE);
    check_parse_error("HTTP/1.1  200 OK\r\n\r\n", FOTA_ERR_HTTP_PARSE);
    check_parse_error("HTTP/1.1 099 X\r\n\r\n", FOTA_ERR_HTTP_PARSE);
    check_parse_error("HTTP/1.1 600 X\r\n\r\n", FOTA_ERR_HTTP_PARSE);
    check_parse_error("HTTP/1.x 200 OK\r\n\r\n", FOTA_ERR_HTTP_PARSE);
    check_parse_error("ICY 200 OK\r\n\r\n", FOTA_ERR_HTTP_PARSE);
    check_parse_error("HTTP/1.1 200 O\rK\r\n\r\n", FOTA_ERR_HTTP_PARSE);
    check_parse_error("HTTP/1.1 200 O\x01K\r\n\r\n", FOTA_ERR_HTTP_PARSE);
    check_parse_error("HTTP/1.1 101 Switching Protocols\r\n\r\n", FOTA_ERR_HTTP_STATUS);
}

static void test_interim_responses(void)
{
    static struct run r;
    static const char text[] = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n"
                               "HTTP/1.1 103 Early Hints\r\nLink: <a>\r\n\r\n"
                               "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokNEXT";
    run_all(&r, text, 0);
    CHECK(r.done);
    CHECK_EQ_INT(r.resp.status, 200);
    CHECK(EV3(&r, FOTA_HTTP_HEADERS, FOTA_HTTP_BODY, FOTA_HTTP_DONE));
    CHECK_EQ_INT(r.body_len, 2);
    CHECK_EQ_INT(r.used, strlen(text) - 4); /* all but "NEXT" */

    /* a 1xx's headers are still checked for syntax */
    check_parse_error("HTTP/1.1 100 Continue\r\nbad line\r\n\r\n", FOTA_ERR_HTTP_PARSE);
    /* only interim responses: no headers event yet */
    run_all(&r, "HTTP/1.1 100 Continue\r\n\r\n", 0);
    CHECK_EQ_INT(r.n_events, 0);
    CHECK_EQ_INT(r.err, 0);
    run_eof(&r);
    CHECK_EQ_INT(r.err, FOTA_ERR_CLOSED);
}

static void test_header_syntax(void)
{
    static struct run r;
    /* case-insensitive names, OWS around values, tabs */
    run_all(&r,
            "HTTP/1.1 200 OK\r\ncOnTeNt-LeNgTh:\t 3 \t\r\nX-Empty:\r\nX:y\r\n\r\nabc", 0);
    CHECK(r.done);
    CHECK_EQ_INT(r.resp.content_length, 3);
    CHECK_MEM(r.body, "abc", 3);

    check_parse_error("HTTP/1.1 200 OK\r\nX-A: 1\r\n continued\r\n\r\n", FOTA_ERR_HTTP_PARSE);
    check_parse_error("HTTP/1.1 200 OK\r\nX-A: 1\r\n\tcontinued\r\n\r\n", FOTA_ERR_HTTP_PARSE);
    check_parse_error("HTTP/1.1 200 OK\r\n folded-first\r\n\r\n", FOTA_ERR_HTTP_PARSE);
    check_parse_error("HTTP/1.1 200 OK\r\nContent-Length : 3\r\n\r\nabc", FOTA_ERR_HTTP_PARSE);
    check_parse_error("HTTP/1.1 200 OK\r\n: novalue\r\n\r\n", FOTA_ERR_HTTP_PARSE);
    check_parse_error("HTTP/1.1 200 OK\r\nNo-Colon\r\n\r\n", FOTA_ERR_HTTP_PARSE);
    check_parse_error("HTTP/1.1 200 OK\r\nBad(Name): x\r\n\r\n", FOTA_ERR_HTTP_PARSE);
    check_parse_error("HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", FOTA_ERR_HTTP_PARSE);
    check_parse_error("HTTP/1.1 200 OK\r\nX: a\x7f\r\n\r\n", FOTA_ERR_HTTP_PARSE);
    {
        static const uint8_t nul[] = "HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n";
        run_start(&r, 0);
        run_feed(&r, nul, sizeof nul - 1);
        CHECK_EQ_INT(r.err, FOTA_ERR_HTTP_PARSE);
    }
}

/* After an error the parser keeps returning it. */
static void test_error_is_sticky(void)
{
    const uint8_t *body;
    size_t consumed, body_len;
    static const char bad[] = "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n";
    fota_http_parser_init(&parser, line_buf, sizeof line_buf, NULL, 0, 0);
    CHECK_EQ_INT(fota_http_parse(&parser, (const uint8_t *)bad, strlen(bad), &consumed, &body,
                                 &body_len),
                 FOTA_ERR_HTTP_PARSE);
    CHECK_EQ_INT(fota_http_parse(&parser, (const uint8_t *)"\r\n", 2, &consumed, &body, &body_len),
                 FOTA_ERR_HTTP_PARSE);
    CHECK_EQ_INT(consumed, 0);
    CHECK_EQ_INT(fota_http_eof(&parser), FOTA_ERR_HTTP_PARSE);
    CHECK_EQ_INT(fota_http_parse(NULL, NULL, 0, &consumed, &body, &body_len),
                 FOTA_ERR_INVALID_ARG);
    fota_http_parser_init(&parser, NULL, 0, NULL, 0, 0);
    CHECK_EQ_INT(fota_http_parse(&parser, (const uint8_t *)"H", 1, &consumed, &body, &body_len),
                 FOTA_ERR_INVALID_ARG);
}

/* ---- Lengths ------------------------------------------------------------- */

static void test_content_length(void)
{
    static struct run r;
    run_all(&r, "HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\nab", 0);
    CHECK_EQ_INT(r.err, 0);
    CHECK(r.resp.content_length == UINT64_MAX);
    CHECK_EQ_INT(r.resp.framing, FOTA_HTTP_FRAMING_LENGTH);

    run_all(&r, "HTTP/1.1 200 OK\r\nContent-Length: 0003\r\nContent-Length: 3\r\n\r\nabc", 0);
    CHECK(r.done);
    CHECK_EQ_INT(r.resp.content_length, 3);

    run_all(&r, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nNEXT", 0);
    CHECK(r.done);
    CHECK(EV2(&r, FOTA_HTTP_HEADERS, FOTA_HTTP_DONE));
    CHECK_EQ_INT(r.resp.framing, FOTA_HTTP_FRAMING_NONE);
    CHECK_EQ_INT(r.resp.has_content_length, 1);
    CHECK_EQ_INT(r.used, strlen("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));

    check_parse_error("HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551616\r\n\r\n",
                      FOTA_ERR_HTTP_PARSE);
    check_parse_error("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
                      FOTA_ERR_HTTP_PARSE);
    check_parse_error("HTTP/1.1 200 OK\r\nContent-Length: 12a\r\n\r\n", FOTA_ERR_HTTP_PARSE);
    check_parse_error("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", FOTA_ERR_HTTP_PARSE);
    check_parse_error("HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\n", FOTA_ERR_HTTP_PARSE);
    check_parse_error("HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n", FOTA_ERR_HTTP_PARSE);
    check_parse_error("HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n", FOTA_ERR_HTTP_PARSE);
    check_parse_error("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n", FOTA_ERR_HTTP_PARSE);
    check_parse_error("HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", FOTA_ERR_HTTP_PARSE);
    check_parse_error("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
                      FOTA_ERR_HTTP_PARSE);
}

static void test_transfer_encoding(void)
{
    static struct run r;
    /* chunked wins over Content-Length, which is dropped, and the connection
     * is not reused */
    run_all(&r,
            "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n"
            "2\r\nhi\r\n0\r\n\r\n",
            0);
    CHECK(r.done);
    CHECK_EQ_INT(r.resp.framing, FOTA_HTTP_FRAMING_CHUNKED);
    CHECK_EQ_INT(r.resp.has_content_length, 0);
    CHECK_EQ_INT(r.resp.content_length, 0);
    CHECK_EQ_INT(r.resp.keep_alive, 0);
    CHECK_EQ_INT(r.body_len, 2);

    check_parse_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", FOTA_ERR_HTTP_PARSE);
    check_parse_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
                      FOTA_ERR_HTTP_PARSE);
    check_parse_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
                      FOTA_ERR_HTTP_PARSE);
    check_parse_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n",
                      FOTA_ERR_HTTP_PARSE);
    check_parse_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\n",
                      FOTA_ERR_HTTP_PARSE);
    check_parse_error("HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n\r\n", FOTA_ERR_HTTP_PARSE);
    check_parse_error("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                      FOTA_ERR_HTTP_PARSE);
}

/* ---- Limits -------------------------------------------------------------- */

static void test_header_line_limit(void)
{
    /* prefix + `count` times `fill` + suffix, parsed with a 32-byte line
     * buffer */
    static const struct {
        const char *prefix;
        char fill;
        size_t count;
        const char *suffix;
        int want;
        const char *why;
    } cases[] = {
        {"HTTP/1.1 200 OK\r\nContent-Length: ", '0', 30, "7 \t \r\n\r\n", FOTA_HTTP_HEADERS,
         "a used field's value fits in 31 characters; trailing whitespace need not fit"},
        {"HTTP/1.1 200 OK\r\nContent-Length: ", '0', 31, "7\r\n\r\n", FOTA_ERR_HTTP_HEADER_TOO_LONG,
         "32 characters do not"},
        {"HTTP/1.1 200 OK\r\nContent-Length: ", '0', 30, "7 7\r\n\r\n", FOTA_ERR_HTTP_HEADER_TOO_LONG,
         "whitespace that did not fit may not be followed by more value"},
        {"HTTP/1.1 200 OK\r\nX-Pad: ", 'p', 200, "\r\n\r\n", FOTA_HTTP_HEADERS,
         "a field the agent does not use is skipped whatever its length"},
        {"HTTP/1.1 200 ", 'r', 19, "\r\n\r\n", FOTA_ERR_HTTP_HEADER_TOO_LONG,
         "the status line is bounded the same way: 13 + 19 = 32"},
    };
    static char small_line[32];
    static char text[256];
    const uint8_t *body;
    size_t consumed, body_len, n;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        n = 0;
        cat(text, &n, cases[i].prefix);
        cat_repeat(text, &n, cases[i].fill, cases[i].count);
        cat(text, &n, cases[i].suffix);
        fota_http_parser_init(&parser, small_line, sizeof small_line, NULL, 0, 0);
        int r = fota_http_parse(&parser, (const uint8_t *)text, n, &consumed, &body, &body_len);
        if (r != cases[i].want)
            fprintf(stderr, "case %zu: %s\n", i, cases[i].why);
        CHECK_EQ_INT(r, cases[i].want);
        if (r == FOTA_HTTP_HEADERS && cases[i].fill == '0')
            CHECK_EQ_INT(parser.resp.content_length, 7);
    }
}

static void test_header_count_limit(void)
{
    static char text[2048];
    static struct run r;
    size_t n, i;
    unsigned count;

    /* 64 fields in all are accepted, 65 are not */
    for (count = 64; count <= 65; count++) {
        n = 0;
        cat(text, &n, "HTTP/1.1 200 OK\r\n");
        for (i = 0; i < count - 1; i++) {
            cat(text, &n, "X-");
            cat_uint(text, &n, (unsigned)i);
            cat(text, &n, ": v\r\n");
        }
        cat(text, &n, "Content-Length: 1\r\n\r\nz");
        run_start(&r, 0);
        run_feed(&r, (const uint8_t *)text, n);
        if (count == 64) {
            CHECK(r.done);
            CHECK_EQ_INT(r.err, 0);
            CHECK_EQ_INT(parser.header_lines, 64);
        } else {
            CHECK_EQ_INT(r.err, FOTA_ERR_HTTP_HEADER_TOO_LONG);
        }
    }
}

/* Trailers are bounded like a header block, with a budget of their own. */
static void test_trailer_limits(void)
{
    static char text[4096];
    static struct run r;
    size_t n = 0, i;
    cat(text, &n, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n");
    for (i = 0; i < 63; i++)
        cat(text, &n, "X: v\r\n");
    cat(text, &n, "\r\n1\r\nz\r\n0\r\n");
    for (i = 0; i < 64; i++)
        cat(text, &n, "T: v\r\n");
    cat(text, &n, "\r\n");
    run_all(&r, text, 0);
    CHECK(r.done);
    CHECK_EQ_INT(r.err, 0);
    CHECK_EQ_INT(r.body_len, 1);

    n -= 2;
    cat(text, &n, "T: v\r\n\r\n"); /* a 65th trailer field */
    run_all(&r, text, 0);
    CHECK_EQ_INT(r.err, FOTA_ERR_HTTP_HEADER_TOO_LONG);
}

/* Feeds `line` `count` times; returns the first non-NEED_MORE result. */
static int feed_repeated(const char *line, size_t count)
{
    const uint8_t *body;
    size_t consumed, body_len, i;
    for (i = 0; i < count; i++) {
        int r = fota_http_parse(&parser, (const uint8_t *)line, strlen(line), &consumed, &body,
                                &body_len);
        if (r != FOTA_HTTP_NEED_MORE)
            return r;
    }
    return FOTA_HTTP_NEED_MORE;
}

static void test_header_bytes_limit(void)
{
    static char big_line[1024];
    static char field[1001];
    size_t n = 0;

    /* A 1000-byte field line (with its CRLF) */
    cat(field, &n, "X-Big: ");
    cat_repeat(field, &n, 'b', 991);
    cat(field, &n, "\r\n");

    /* 40 of them: within the line count, beyond 32 KiB */
    fota_http_parser_init(&parser, big_line, sizeof big_line, NULL, 0, 0);
    CHECK_EQ_INT(feed_repeated("HTTP/1.1 200 OK\r\n", 1), FOTA_HTTP_NEED_MORE);
    CHECK_EQ_INT(feed_repeated(field, 40), FOTA_ERR_HTTP_HEADER_TOO_LONG);
    /* it stopped at the first byte past 32 KiB */
    CHECK_EQ_INT(parser.header_bytes, 32 * 1024 + 1);

    /* 32 of them fit */
    fota_http_parser_init(&parser, big_line, sizeof big_line, NULL, 0, 0);
    CHECK_EQ_INT(feed_repeated("HTTP/1.1 200 OK\r\n", 1), FOTA_HTTP_NEED_MORE);
    CHECK_EQ_INT(feed_repeated(field, 32), FOTA_HTTP_NEED_MORE);
    CHECK_EQ_INT(feed_repeated("\r\n", 1), FOTA_HTTP_HEADERS);
    CHECK_EQ_INT(parser.header_bytes, 17 + 32 * 1000 + 2);
}

/* ---- Extracted fields ---------------------------------------------------- */

static void test_location(void)
{
    static struct run r;
    static char small_loc[8];
    const uint8_t *body;
    size_t consumed, body_len;
    static const char redirect[] =
        "HTTP/1.1 302 Found\r\nLocation:  https://cdn.example.com/fw.bin?a=b  \r\n"
        "Content-Length: 0\r\n\r\n";
    static const char short_redirect[] = "HTTP/1.1 301 Moved\r\nLocation: /1234567\r\n\r\n";
    static const char shorter_redirect[] = "HTTP/1.1 301 Moved\r\nLocation: /123456\r\n\r\n";

    run_all(&r, redirect, 0);
    CHECK(r.done);
    CHECK_EQ_INT(r.resp.status, 302);
    CHECK_EQ_INT(r.resp.has_location, 1);
    CHECK_EQ_STR(r.location, "https://cdn.example.com/fw.bin?a=b");

    /* 7 characters + NUL fit in 8 bytes, 8 do not */
    fota_http_parser_init(&parser, line_buf, sizeof line_buf, small_loc, sizeof small_loc, 0);
    CHECK_EQ_INT(fota_http_parse(&parser, (const uint8_t *)shorter_redirect,
                                 strlen(shorter_redirect), &consumed, &body, &body_len),
                 FOTA_HTTP_HEADERS);
    CHECK_EQ_STR(small_loc, "/123456");
    fota_http_parser_init(&parser, line_buf, sizeof line_buf, small_loc, sizeof small_loc, 0);
    CHECK_EQ_STR(small_loc, "");
    CHECK_EQ_INT(fota_http_parse(&parser, (const uint8_t *)short_redirect, strlen(short_redirect),
                                 &consumed, &body, &body_len),
                 FOTA_ERR_HTTP_HEADER_TOO_LONG);

    /* no location buffer: Location ignored */
    fota_http_parser_init(&parser, line_buf, sizeof line_buf, NULL, 0, 0);
    CHECK_EQ_INT(fota_http_parse(&parser, (const uint8_t *)short_redirect, strlen(short_redirect),
                                 &consumed, &body, &body_len),
                 FOTA_HTTP_HEADERS);
    CHECK_EQ_INT(parser.resp.has_location, 0);

    /* a repeated Location must agree */
    run_all(&r, "HTTP/1.1 302 F\r\nLocation: /a\r\nLocation: /a\r\nContent-Length: 0\r\n\r\n", 0);
    CHECK(r.done);
    CHECK_EQ_STR(r.location, "/a");
    check_parse_error("HTTP/1.1 302 F\r\nLocation: /a\r\nLocation: /b\r\n\r\n",
                      FOTA_ERR_HTTP_PARSE);
}

static void test_etag(void)
{
    static struct run r;
    static char text[512];
    static const char sha_etag[] =
        "\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\"";

    size_t n = 0;
    cat(text, &n, "HTTP/1.1 200 OK\r\nETag: W/");
    cat(text, &n, sha_etag);
    cat(text, &n, "\r\nContent-Length: 0\r\n\r\n");
    run_all(&r, text, 0);
    CHECK(r.done);
    CHECK_EQ_INT(strlen(r.resp.etag), 68);
    CHECK(r.resp.etag[0] == 'W' && strcmp(r.resp.etag + 2, sha_etag) == 0);

    run_all(&r, "HTTP/1.1 200 OK\r\netag: \"\"\r\nContent-Length: 0\r\n\r\n", 0);
    CHECK_EQ_STR(r.resp.etag, "\"\"");

    /* 72 characters fit, 73 are ignored */
    n = 0;
    cat(text, &n, "HTTP/1.1 200 OK\r\nETag: \"");
    cat_repeat(text, &n, 'e', 70);
    cat(text, &n, "\"\r\nContent-Length: 0\r\n\r\n");
    run_all(&r, text, 0);
    CHECK_EQ_INT(strlen(r.resp.etag), 72);
    n = 0;
    cat(text, &n, "HTTP/1.1 200 OK\r\nETag: \"");
    cat_repeat(text, &n, 'e', 71);
    cat(text, &n, "\"\r\nContent-Length: 0\r\n\r\n");
    run_all(&r, text, 0);
    CHECK(r.done);
    CHECK_EQ_STR(r.resp.etag, "");

    /* malformed: ignored, not an error */
    run_all(&r, "HTTP/1.1 200 OK\r\nETag: abc\r\nContent-Length: 0\r\n\r\n", 0);
    CHECK(r.done);
    CHECK_EQ_STR(r.resp.etag, "");
    run_all(&r, "HTTP/1.1 200 OK\r\nETag: \"a b\"\r\nContent-Length: 0\r\n\r\n", 0);
    CHECK_EQ_STR(r.resp.etag, "");
    run_all(&r, "HTTP/1.1 200 OK\r\nETag: \"a\"b\"\r\nContent-Length: 0\r\n\r\n", 0);
    CHECK_EQ_STR(r.resp.etag, "");
    run_all(&r, "HTTP/1.1 200 OK\r\nETag: w/\"a\"\r\nContent-Length: 0\r\n\r\n", 0);
    CHECK_EQ_STR(r.resp.etag, "");
    run_all(&r, "HTTP/1.1 200 OK\r\nETag: \"\r\nContent-Length: 0\r\n\r\n", 0);
    CHECK_EQ_STR(r.resp.etag, "");
}

struct range_case {
    const char *value;
    int err;
    uint64_t first, last, complete;
};

static void test_content_range(void)
{
    static const struct range_case cases[] = {
        {"bytes 0-99/100", 0, 0, 99, 100},
        {"bytes 100-199/1000", 0, 100, 199, 1000},
        {"Bytes 5-5/6", 0, 5, 5, 6},
        {"bytes 0-18446744073709551614/18446744073709551615", 0, 0, UINT64_MAX - 1,
         UINT64_MAX},
        {"bytes 10-19/*", 0, 10, 19, UINT64_MAX},
        {"bytes */1234", 0, UINT64_MAX, UINT64_MAX, 1234},
        {"bytes 5-4/10", FOTA_ERR_HTTP_PARSE, 0, 0, 0},
        {"bytes 0-10/10", FOTA_ERR_HTTP_PARSE, 0, 0, 0},
        {"bytes 0-9", FOTA_ERR_HTTP_PARSE, 0, 0, 0},
        {"bytes 0-9/", FOTA_ERR_HTTP_PARSE, 0, 0, 0},
        {"bytes -9/10", FOTA_ERR_HTTP_PARSE, 0, 0, 0},
        {"bytes 0-/10", FOTA_ERR_HTTP_PARSE, 0, 0, 0},
        {"bytes */*", FOTA_ERR_HTTP_PARSE, 0, 0, 0},
        {"bytes 0-9/10x", FOTA_ERR_HTTP_PARSE, 0, 0, 0},
        {"bytes=0-9/10", FOTA_ERR_HTTP_PARSE, 0, 0, 0},
        {"items 0-9/10", FOTA_ERR_HTTP_PARSE, 0, 0, 0},
        {"bytes 0-18446744073709551616/*", FOTA_ERR_HTTP_PARSE, 0, 0, 0},
        {"bytes 0-18446744073709551615/*", FOTA_ERR_HTTP_PARSE, 0, 0, 0},
        {"bytes", FOTA_ERR_HTTP_PARSE, 0, 0, 0},
    };
    static char text[256];
    static struct run r;
    size_t i;
    for (i = 0; i < TEST_COUNT(cases); i++) {
        size_t n = 0;
        cat(text, &n, "HTTP/1.1 206 Partial\r\nContent-Range: ");
        cat(text, &n, cases[i].value);
        cat(text, &n, "\r\nContent-Length: 0\r\n\r\n");
        run_all(&r, text, 0);
        CHECK_EQ_INT(r.err, cases[i].err);
        if (cases[i].err == 0) {
            CHECK_EQ_INT(r.resp.has_content_range, 1);
            CHECK(r.resp.range_first == cases[i].first);
            CHECK(r.resp.range_last == cases[i].last);
            CHECK(r.resp.range_complete == cases[i].complete);
        }
        if (r.err != cases[i].err)
            printf("  Content-Range: %s\n", cases[i].value);
    }
    run_all(&r, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0);
    CHECK_EQ_INT(r.resp.has_content_range, 0);
    check_parse_error("HTTP/1.1 206 P\r\nContent-Range: bytes 0-1/2\r\n"
                      "Content-Range: bytes 0-1/2\r\n\r\n",
                      FOTA_ERR_HTTP_PARSE);
}

static void test_retry_after(void)
{
    static struct run r;
    run_all(&r, "HTTP/1.1 503 Busy\r\nRetry-After: 120\r\nContent-Length: 0\r\n\r\n", 0);
    CHECK(r.done);
    CHECK_EQ_INT(r.resp.retry_after_s, 120);
    run_all(&r,
            "HTTP/1.1 503 Busy\r\nRetry-After: Fri, 31 Dec 1999 23:59:59 GMT\r\n"
            "Content-Length: 0\r\n\r\n",
            0);
    CHECK(r.done);
    CHECK_EQ_INT(r.resp.retry_after_s, 0);
    run_all(&r, "HTTP/1.1 429 Slow\r\nRetry-After: 99999999999\r\nContent-Length: 0\r\n\r\n", 0);
    CHECK(r.resp.retry_after_s == UINT32_MAX);
    run_all(&r, "HTTP/1.1 429 Slow\r\nRetry-After: 4294967295\r\nContent-Length: 0\r\n\r\n", 0);
    CHECK(r.resp.retry_after_s == UINT32_MAX);
    run_all(&r, "HTTP/1.1 429 Slow\r\nRetry-After: 4294967294\r\nContent-Length: 0\r\n\r\n", 0);
    CHECK(r.resp.retry_after_s == UINT32_MAX - 1);
    run_all(&r, "HTTP/1.1 429 Slow\r\nRetry-After: -5\r\nContent-Length: 0\r\n\r\n", 0);
    CHECK(r.done);
    CHECK_EQ_INT(r.resp.retry_after_s, 0);
}

/* ---- Connection reuse ---------------------------------------------------- */

struct keep_alive_case {
    const char *text;
    int keep_alive;
    int framing;
};

static void test_keep_alive(void)
{
    static const struct keep_alive_case cases[] = {
        {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx", 1, FOTA_HTTP_FRAMING_LENGTH},
        {"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx", 0,
         FOTA_HTTP_FRAMING_LENGTH},
        {"HTTP/1.1 200 OK\r\nConnection: Keep-Alive, CLOSE\r\nContent-Length: 1\r\n\r\nx", 0,
         FOTA_HTTP_FRAMING_LENGTH},
        {"HTTP/1.1 200 OK\r\nConnection: close\r\nConnection: keep-alive\r\n"
         "Content-Length: 1\r\n\r\nx",
         0, FOTA_HTTP_FRAMING_LENGTH},
        {"HTTP/1.1 200 OK\r\nConnection: upgrade, ,te\r\nContent-Length: 1\r\n\r\nx", 1,
         FOTA_HTTP_FRAMING_LENGTH},
        {"HTTP/1.1 200 OK\r\nConnection: closed\r\nContent-Length: 1\r\n\r\nx", 1,
         FOTA_HTTP_FRAMING_LENGTH},
        {"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", 0, FOTA_HTTP_FRAMING_LENGTH},
        {"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx", 1,
         FOTA_HTTP_FRAMING_LENGTH},
        {"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n\r\nx", 0, FOTA_HTTP_FRAMING_CLOSE},
        {"HTTP/1.1 200 OK\r\n\r\nx", 0, FOTA_HTTP_FRAMING_CLOSE},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n", 1,
         FOTA_HTTP_FRAMING_CHUNKED},
        {"HTTP/1.1 304 Not Modified\r\n\r\n", 1, FOTA_HTTP_FRAMING_NONE},
    };
    static struct run r;
    size_t i;
    for (i = 0; i < TEST_COUNT(cases); i++) {
        run_all(&r, cases[i].text, 0);
        CHECK_EQ_INT(r.err, 0);
        CHECK_EQ_INT(r.resp.keep_alive, cases[i].keep_alive);
        CHECK_EQ_INT(r.resp.framing, cases[i].framing);
        if (r.resp.keep_alive != cases[i].keep_alive || r.resp.framing != cases[i].framing)
            printf("  case %u\n", (unsigned)i);
    }
}

/* Two responses in one read: the first stops exactly at its end, and the
 * rest parses as the next response. */
static void test_pipelined(void)
{
    static struct run r;
    static const char two[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none"
                              "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "3\r\ntwo\r\n0\r\n\r\n"
                              "HTTP/1.1 204 No Content\r\n\r\n"
                              "HTTP/1.1 404 Not Found\r\nContent-Length: 5\r\n\r\nthree";
    const uint8_t *d = (const uint8_t *)two;
    size_t len = strlen(two), off = 0;

    run_start(&r, 0);
    run_feed(&r, d, len);
    CHECK(r.done);
    CHECK_EQ_INT(r.used, 41);
    CHECK_MEM(r.body, "one", 3);
    off += r.used;

    run_start(&r, 0);
    run_feed(&r, d + off, len - off);
    CHECK(r.done);
    CHECK_EQ_INT(r.body_len, 3);
    CHECK_MEM(r.body, "two", 3);
    CHECK_EQ_INT(r.used, 60);
    off += r.used;

    run_start(&r, 0);
    run_feed(&r, d + off, len - off);
    CHECK(r.done);
    CHECK_EQ_INT(r.resp.status, 204);
    CHECK_EQ_INT(r.body_len, 0);
    CHECK_EQ_INT(r.used, 27);
    off += r.used;

    run_start(&r, 0);
    run_feed(&r, d + off, len - off);
    CHECK(r.done);
    CHECK_EQ_INT(r.resp.status, 404);
    CHECK_MEM(r.body, "three", 5);
    off += r.used;
    CHECK_EQ_INT(off, len);

    /* after DONE, more input is still not consumed */
    {
        const uint8_t *body;
        size_t consumed = 99, body_len;
        CHECK_EQ_INT(fota_http_parse(&parser, d, len, &consumed, &body, &body_len),
                     FOTA_HTTP_DONE);
        CHECK_EQ_INT(consumed, 0);
    }
}

/* ---- Framing without a body, close-delimited, truncated ------------------- */

static void test_no_body(void)
{
    static struct run r;
    static const char head_resp[] =
        "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nETag: \"x\"\r\n\r\n";
    static const char not_modified[] = "HTTP/1.1 304 Not Modified\r\nContent-Length: 1234\r\n\r\n";
    static const char no_content[] = "HTTP/1.1 204 No Content\r\n\r\n";

    /* HEAD: the Content-Length is reported, no body is expected */
    run_start(&r, 1);
    run_feed(&r, (const uint8_t *)head_resp, strlen(head_resp));
    run_feed(&r, (const uint8_t *)"NEXT", 4);
    CHECK(r.done);
    CHECK(EV2(&r, FOTA_HTTP_HEADERS, FOTA_HTTP_DONE));
    CHECK_EQ_INT(r.resp.framing, FOTA_HTTP_FRAMING_NONE);
    CHECK_EQ_INT(r.resp.content_length, 1234);
    CHECK_EQ_INT(r.resp.keep_alive, 1);
    CHECK_EQ_INT(r.used, strlen(head_resp));
    CHECK_EQ_INT(r.body_len, 0);

    /* the same response to a GET has a body */
    run_all(&r, head_resp, 0);
    CHECK(!r.done);
    CHECK_EQ_INT(r.resp.framing, FOTA_HTTP_FRAMING_LENGTH);

    run_all(&r, not_modified, 0);
    CHECK(r.done);
    CHECK(EV2(&r, FOTA_HTTP_HEADERS, FOTA_HTTP_DONE));
    CHECK_EQ_INT(r.resp.status, 304);
    CHECK_EQ_INT(r.resp.framing, FOTA_HTTP_FRAMING_NONE);
    CHECK_EQ_INT(r.resp.keep_alive, 1);

    run_all(&r, no_content, 0);
    CHECK(r.done);
    CHECK_EQ_INT(r.resp.status, 204);
    CHECK_EQ_INT(r.resp.framing, FOTA_HTTP_FRAMING_NONE);
    CHECK_EQ_INT(r.resp.keep_alive, 1);

    /* DONE comes even when the call after HEADERS has no input */
    {
        const uint8_t *body;
        size_t consumed, body_len;
        fota_http_parser_init(&parser, line_buf, sizeof line_buf, NULL, 0, 0);
        CHECK_EQ_INT(fota_http_parse(&parser, (const uint8_t *)no_content, strlen(no_content),
                                     &consumed, &body, &body_len),
                     FOTA_HTTP_HEADERS);
        CHECK_EQ_INT(consumed, strlen(no_content));
        CHECK_EQ_INT(fota_http_parse(&parser, NULL, 0, &consumed, &body, &body_len),
                     FOTA_HTTP_DONE);
        CHECK_EQ_INT(fota_http_eof(&parser), FOTA_HTTP_DONE);
    }
}

static void test_close_delimited(void)
{
    static struct run r;
    static const char resp[] = "HTTP/1.1 200 OK\r\nServer: x\r\n\r\nfirst part,";
    run_all(&r, resp, 0);
    CHECK_EQ_INT(r.err, 0);
    CHECK(!r.done);
    CHECK_EQ_INT(r.resp.framing, FOTA_HTTP_FRAMING_CLOSE);
    CHECK_EQ_INT(r.resp.keep_alive, 0);
    run_feed(&r, (const uint8_t *)"second part\r\n\r\nHTTP/1.1 200", 27);
    CHECK_EQ_INT(r.err, 0);
    CHECK_EQ_INT(r.used, strlen(resp) + 27);
    run_eof(&r);
    CHECK(r.done);
    CHECK(EV3(&r, FOTA_HTTP_HEADERS, FOTA_HTTP_BODY, FOTA_HTTP_DONE));
    CHECK_EQ_INT(r.body_len, 38);
    CHECK_MEM(r.body, "first part,second part\r\n\r\nHTTP/1.1 200", 38);
    CHECK_EQ_INT(parser.body_seen, 38);
}

static void test_truncated(void)
{
    static struct run r;
    /* Content-Length body cut short */
    run_all(&r, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345", 0);
    CHECK_EQ_INT(r.err, 0);
    CHECK_EQ_INT(parser.remaining, 5);
    run_eof(&r);
    CHECK_EQ_INT(r.err, FOTA_ERR_CLOSED);
    CHECK(!r.done);

    /* complete Content-Length body: eof is fine */
    run_all(&r, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n12345", 0);
    CHECK(r.done);
    CHECK_EQ_INT(fota_http_eof(&parser), FOTA_HTTP_DONE);

    /* chunked: cut in the data, in a size line, before the last chunk, in trailers */
    run_all(&r, CHUNKED_HEAD "5\r\nhel", 0);
    run_eof(&r);
    CHECK_EQ_INT(r.err, FOTA_ERR_CLOSED);
    run_all(&r, CHUNKED_HEAD "5\r\nhello\r\n", 0);
    run_eof(&r);
    CHECK_EQ_INT(r.err, FOTA_ERR_CLOSED);
    run_all(&r, CHUNKED_HEAD "5\r\nhello\r\n0\r\nX: y\r\n", 0);
    run_eof(&r);
    CHECK_EQ_INT(r.err, FOTA_ERR_CLOSED);
    run_all(&r, CHUNKED_HEAD "5\r\nhello\r\n0\r\n\r\n", 0);
    CHECK(r.done);

    /* in the headers, and before anything */
    run_all(&r, "HTTP/1.1 200 OK\r\nContent-Len", 0);
    run_eof(&r);
    CHECK_EQ_INT(r.err, FOTA_ERR_CLOSED);
    run_start(&r, 0);
    run_eof(&r);
    CHECK_EQ_INT(r.err, FOTA_ERR_CLOSED);
}

/* ---- Request formatting -------------------------------------------------- */

/* Content-Encoding is kept when it names a coding the agent cannot undo,
 * at every split point. */
static void test_content_encoding(void)
{
    static struct run r, expect;
    static const char gzip[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                               "Content-Encoding:  gzip \r\n\r\nab";
    run_all(&expect, gzip, 0);
    CHECK_EQ_INT(expect.err, 0);
    CHECK_EQ_STR(expect.resp.content_encoding, "gzip");
    check_all_splits(gzip, &expect);

    run_all(&r, "HTTP/1.1 200 OK\r\nContent-Encoding: identity\r\nContent-Length: 0\r\n\r\n", 0);
    CHECK_EQ_STR(r.resp.content_encoding, "");
    run_all(&r, "HTTP/1.1 200 OK\r\nContent-Encoding: IDENTITY, br\r\nContent-Length: 0\r\n\r\n", 0);
    CHECK_EQ_STR(r.resp.content_encoding, "IDENTITY,br");
    run_all(&r, "HTTP/1.1 200 OK\r\ncontent-encoding: x-some-very-long-coding\r\n"
                "Content-Length: 0\r\n\r\n", 0);
    CHECK_EQ_INT((int)strlen(r.resp.content_encoding), FOTA_HTTP_CODING_MAX);
    run_all(&r, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0);
    CHECK_EQ_STR(r.resp.content_encoding, "");
}

static void test_format_get(void)
{
    static char out[512];
    struct fota_url u;
    static const char plain[] = "GET /fw/app.bin?x=1 HTTP/1.1\r\n"
                                "Host: fw.example.com\r\n"
                                "User-Agent: fota/0.1.0\r\n"
                                "Accept: */*\r\n"
                                "Accept-Encoding: identity\r\n"
                                "Connection: keep-alive\r\n"
                                "\r\n";
    static const char full[] = "GET / HTTP/1.1\r\n"
                               "Host: [::1]:8080\r\n"
                               "User-Agent: ua\r\n"
                               "Accept: */*\r\n"
                               "Accept-Encoding: identity\r\n"
                               "Connection: keep-alive\r\n"
                               "Range: bytes=18446744073709551615-\r\n"
                               "If-None-Match: W/\"e\"\r\n"
                               "\r\n";
    size_t size;
    int r;

    CHECK_EQ_INT(fota_url_parse("https://fw.example.com:443/fw/app.bin?x=1#frag", &u), 0);
    r = fota_http_format_get(out, sizeof out, &u, "fota/0.1.0", 0, "");
    CHECK_EQ_INT(r, (int)strlen(plain));
    CHECK_EQ_STR(out, plain);
    r = fota_http_format_get(out, sizeof out, &u, "fota/0.1.0", 0, NULL);
    CHECK_EQ_STR(out, plain);

    CHECK_EQ_INT(fota_url_parse("http://[::1]:8080", &u), 0);
    r = fota_http_format_get(out, sizeof out, &u, "ua", UINT64_MAX, "W/\"e\"");
    CHECK_EQ_INT(r, (int)strlen(full));
    CHECK_EQ_STR(out, full);

    CHECK_EQ_INT(fota_url_parse("http://h:443/", &u), 0); /* not the default for http */
    r = fota_http_format_get(out, sizeof out, &u, "ua", 1, NULL);
    CHECK_EQ_STR(out, "GET / HTTP/1.1\r\nHost: h:443\r\nUser-Agent: ua\r\nAccept: */*\r\n"
                      "Accept-Encoding: identity\r\nConnection: keep-alive\r\n"
                      "Range: bytes=1-\r\n\r\n");

    /* exact size: length + NUL fits, one less does not, nothing written past it */
    CHECK_EQ_INT(fota_url_parse("https://fw.example.com/fw/app.bin?x=1", &u), 0);
    for (size = 1; size <= sizeof plain; size++) {
        memset(out, 'z', sizeof out);
        r = fota_http_format_get(out, size, &u, "fota/0.1.0", 0, NULL);
        CHECK_EQ_INT(r, size == sizeof plain ? (int)strlen(plain) : FOTA_ERR_BUFFER_TOO_SMALL);
        CHECK_EQ_INT(out[size], 'z');
    }

    /* header injection is refused */
    CHECK_EQ_INT(fota_http_format_get(out, sizeof out, &u, "a\r\nX: y", 0, NULL),
                 FOTA_ERR_INVALID_ARG);
    CHECK_EQ_INT(fota_http_format_get(out, sizeof out, &u, "ua", 0, "\"e\"\r\nX: y"),
                 FOTA_ERR_INVALID_ARG);
    u.path = "/a b";
    u.path_len = 4;
    CHECK_EQ_INT(fota_http_format_get(out, sizeof out, &u, "ua", 0, NULL), FOTA_ERR_INVALID_ARG);
    u.path = "a";
    u.path_len = 1;
    CHECK_EQ_INT(fota_http_format_get(out, sizeof out, &u, "ua", 0, NULL), FOTA_ERR_INVALID_ARG);
    CHECK_EQ_INT(fota_http_format_get(out, sizeof out, NULL, "ua", 0, NULL), FOTA_ERR_INVALID_ARG);
}

static const struct test_case tests[] = {
    TEST(test_content_encoding),
    TEST(test_splits_content_length),
    TEST(test_splits_chunked),
    TEST(test_splits_continue),
    TEST(test_line_endings),
    TEST(test_skipped_before_status),
    TEST(test_unneeded_headers_skipped),
    TEST(test_long_location),
    TEST(test_chunk_line_grammar),
    TEST(test_chunked_details),
    TEST(test_chunked_errors),
    TEST(test_status_line),
    TEST(test_interim_responses),
    TEST(test_header_syntax),
    TEST(test_error_is_sticky),
    TEST(test_content_length),
    TEST(test_transfer_encoding),
    TEST(test_header_line_limit),
    TEST(test_header_count_limit),
    TEST(test_header_bytes_limit),
    TEST(test_trailer_limits),
    TEST(test_location),
    TEST(test_etag),
    TEST(test_content_range),
    TEST(test_retry_after),
    TEST(test_keep_alive),
    TEST(test_pipelined),
    TEST(test_no_body),
    TEST(test_close_delimited),
    TEST(test_truncated),
    TEST(test_format_get),
};

int main(void)
{
    return test_main("http", tests, TEST_COUNT(tests));
}
