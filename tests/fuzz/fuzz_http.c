/*
 * libFuzzer target: the incremental HTTP response parser (src/http.c).
 *
 * Input: 4 control bytes, then the response bytes.
 *   byte 0: bit 0 = HEAD request; bits 1-2 select the line buffer size
 *           (16, 64, 256, 1024); bits 3-7 the largest read size (1..32, or
 *           whole input when 0)
 *   byte 1: Location buffer size (0 = no buffer; 255 at most)
 *   bytes 2-3: seed of the read sizes
 *
 * The response is parsed twice: whole, and in reads of pseudo-random sizes.
 * Both runs must agree on every observable result (events with BODY runs
 * folded, body bytes, error, bytes consumed, the response fields), and each
 * call must keep the API's promises (consumed <= len, NEED_MORE consumes
 * everything, body slices lie in the consumed input, DONE consumes nothing
 * more, strings stay NUL-terminated).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fota/error.h"
#include "fota/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT (64 * 1024)
#define MAX_EVENTS 64

struct outcome {
    int events[MAX_EVENTS];
    size_t n_events;
    uint8_t body[MAX_INPUT];
    size_t body_len;
    int result; /* 0: input ran out; DONE; or the error */
    size_t used;
    struct fota_http_response resp;
    int has_location;
    char location[256];
};

static struct outcome whole, split;
/* Buffers are used from their end, so that writing one byte past the size
 * the parser was given lands in ASan's redzone. */
#define LINE_MAX 1024
#define LOC_MAX 255
static char line_whole[LINE_MAX], line_split[LINE_MAX];
static char loc_whole[LOC_MAX], loc_split[LOC_MAX];

#define REQUIRE(c)                                                                         \
    do {                                                                                   \
        if (!(c))                                                                          \
            abort();                                                                       \
    } while (0)

static void add_event(struct outcome *o, int ev)
{
    if (ev == FOTA_HTTP_BODY && o->n_events > 0 && o->events[o->n_events - 1] == FOTA_HTTP_BODY)
        return;
    if (o->n_events < MAX_EVENTS)
        o->events[o->n_events++] = ev;
}

/* Feeds one read; returns 1 when parsing is over (DONE or an error). */
static int feed(struct fota_http_parser *p, struct outcome *o, const uint8_t *in, size_t len)
{
    size_t off = 0, calls;
    for (calls = 0; calls <= len + 4; calls++) {
        const uint8_t *body = NULL;
        size_t consumed = (size_t)-1, body_len = (size_t)-1;
        int ev = fota_http_parse(p, in + off, len - off, &consumed, &body, &body_len);
        REQUIRE(consumed <= len - off);
        if (ev < 0) {
            REQUIRE(ev != FOTA_ERR_INVALID_ARG);
            o->result = ev;
            o->used += consumed;
            /* the error sticks */
            REQUIRE(fota_http_parse(p, in, len, &consumed, &body, &body_len) == ev);
            REQUIRE(consumed == 0);
            return 1;
        }
        REQUIRE(ev <= FOTA_HTTP_DONE);
        if (ev == FOTA_HTTP_BODY) {
            REQUIRE(body_len > 0 && body_len <= consumed);
            REQUIRE(body == in + off + consumed - body_len);
            REQUIRE(o->body_len + body_len <= sizeof o->body);
            memcpy(o->body + o->body_len, body, body_len);
            o->body_len += body_len;
        } else {
            REQUIRE(body == NULL && body_len == 0);
        }
        off += consumed;
        o->used += consumed;
        if (ev == FOTA_HTTP_NEED_MORE) {
            REQUIRE(off == len);
            return 0;
        }
        add_event(o, ev);
        if (ev == FOTA_HTTP_HEADERS) {
            const struct fota_http_response *r = &p->resp;
            REQUIRE(r->status >= 200 && r->status <= 599);
            REQUIRE(r->framing <= FOTA_HTTP_FRAMING_CLOSE);
            REQUIRE(memchr(r->etag, 0, sizeof r->etag) != NULL);
            REQUIRE(r->keep_alive <= 1);
            if (r->framing == FOTA_HTTP_FRAMING_CLOSE)
                REQUIRE(!r->keep_alive);
        }
        if (ev == FOTA_HTTP_DONE) {
            /* nothing more is consumed after DONE */
            REQUIRE(fota_http_parse(p, in + off, len - off, &consumed, &body, &body_len) ==
                    FOTA_HTTP_DONE);
            REQUIRE(consumed == 0);
            REQUIRE(fota_http_eof(p) == FOTA_HTTP_DONE);
            o->result = FOTA_HTTP_DONE;
            return 1;
        }
    }
    abort(); /* a call neither consumed input nor reported an event */
}

static void finish(struct fota_http_parser *p, struct outcome *o, int over, char *location,
                   size_t location_size)
{
    if (!over) {
        int r = fota_http_eof(p);
        REQUIRE(r == FOTA_HTTP_DONE || r == FOTA_ERR_CLOSED);
        add_event(o, r);
        o->result = r;
    }
    o->resp = p->resp;
    if (location != NULL && location_size > 0) {
        REQUIRE(memchr(location, 0, location_size) != NULL);
        REQUIRE(p->resp.has_location == 0 || strlen(location) < location_size);
        strncpy(o->location, location, sizeof o->location - 1);
    }
    REQUIRE(p->resp.framing != FOTA_HTTP_FRAMING_LENGTH || p->body_seen <= p->resp.content_length);
}

/* Field by field: struct padding is not part of the result. */
static int resp_equal(const struct fota_http_response *a, const struct fota_http_response *b)
{
    return a->status == b->status && a->http_minor == b->http_minor &&
           a->framing == b->framing && a->keep_alive == b->keep_alive &&
           a->has_content_length == b->has_content_length &&
           a->has_content_range == b->has_content_range && a->has_location == b->has_location &&
           a->content_length == b->content_length && a->range_first == b->range_first &&
           a->range_last == b->range_last && a->range_complete == b->range_complete &&
           a->retry_after_s == b->retry_after_s && strcmp(a->etag, b->etag) == 0;
}

static void reset(struct outcome *o)
{
    o->n_events = 0;
    o->body_len = 0;
    o->result = 0;
    o->used = 0;
    memset(&o->resp, 0, sizeof o->resp);
    memset(o->location, 0, sizeof o->location);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t line_sizes[4] = {16, 64, 256, LINE_MAX};
    char *line, *loc;
    struct fota_http_parser p;
    size_t line_size, loc_size, max_read, len, off;
    const uint8_t *in;
    uint32_t rng;
    int head, over;

    if (size < 4 || size - 4 > MAX_INPUT)
        return 0;
    head = data[0] & 1;
    line_size = line_sizes[(data[0] >> 1) & 3];
    max_read = data[0] >> 3; /* 0: the whole input at once */
    loc_size = data[1] > LOC_MAX ? LOC_MAX : data[1];
    rng = (uint32_t)data[2] << 8 | data[3] | 0x10000u;
    in = data + 4;
    len = size - 4;

    /* Whole */
    reset(&whole);
    line = line_whole + LINE_MAX - line_size;
    loc = loc_size ? loc_whole + LOC_MAX - loc_size : NULL;
    fota_http_parser_init(&p, line, line_size, loc, loc_size, head);
    over = feed(&p, &whole, in, len);
    finish(&p, &whole, over, loc, loc_size);

    /* Split into reads of 1..max_read bytes */
    reset(&split);
    line = line_split + LINE_MAX - line_size;
    loc = loc_size ? loc_split + LOC_MAX - loc_size : NULL;
    fota_http_parser_init(&p, line, line_size, loc, loc_size, head);
    over = 0;
    for (off = 0; off < len && !over;) {
        size_t n = len - off;
        if (max_read > 0) {
            rng ^= rng << 13;
            rng ^= rng >> 17;
            rng ^= rng << 5;
            n = 1 + rng % max_read;
            if (n > len - off)
                n = len - off;
        }
        over = feed(&p, &split, in + off, n);
        off += n;
    }
    finish(&p, &split, over, loc, loc_size);

    REQUIRE(whole.n_events == split.n_events);
    REQUIRE(memcmp(whole.events, split.events, whole.n_events * sizeof whole.events[0]) == 0);
    REQUIRE(whole.body_len == split.body_len);
    REQUIRE(memcmp(whole.body, split.body, whole.body_len) == 0);
    REQUIRE(whole.result == split.result);
    if (whole.result >= 0)
        REQUIRE(whole.used == split.used); /* on an error, earlier reads were consumed */
    REQUIRE(resp_equal(&whole.resp, &split.resp));
    REQUIRE(strcmp(whole.location, split.location) == 0);
    return 0;
}
