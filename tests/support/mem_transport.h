/*
 * A scripted in-memory transport (struct fota_transport) for testing the
 * agent without sockets. Each connect() takes the next entry of a script:
 * whether the connect succeeds, and the responses the "server" sends on that
 * connection, each released when the agent has sent one complete request
 * (so keep-alive works as on a socket). Cuts, stalls, resets, small pieces
 * and slow links are properties of the entry; waiting is done on a fake
 * clock (test_clock.h), so a 10-second read timeout takes no real time.
 * Connections beyond the script go to an optional server callback
 * (mem_origin.h serves files with Range) or are refused.
 *
 * Everything the agent did is recorded: connects (host, port, time) and
 * requests (text, connection, time), for the tests to assert on.
 * Plain C, no heap: also on the emulated targets.
 */
#ifndef FOTA_MEM_TRANSPORT_H
#define FOTA_MEM_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "fota/fota.h"
#include "test_clock.h"

#define MEM_MAX_CONNS 48     /* scripted connections */
#define MEM_MAX_RESPONSES 4  /* per connection (keep-alive) */
#define MEM_MAX_LOG 48       /* connects and requests recorded in full */
#define MEM_REQUEST_MAX 640  /* bytes of a request recorded */
#define MEM_HOST_MAX 64

/* What recv() does once a connection's bytes are out, or at its cut. */
enum mem_end {
    MEM_END_CLOSE = 0, /* returns 0: the server closed the connection */
    MEM_END_STALL,     /* nothing arrives: the whole read timeout passes on the
                          fake clock, then FOTA_ERR_TIMEOUT */
    MEM_END_RESET,     /* FOTA_ERR_RECV: the connection was reset */
};

/* One response: a head (status line and headers, or simply all the raw
 * bytes) and an optional body. A recv() never returns bytes of both. */
struct mem_response {
    const uint8_t *head;
    size_t head_len;
    const uint8_t *body;
    size_t body_len;
};

struct mem_conn {
    int connect_result;   /* 0, or the FOTA_ERR_* connect() returns */
    int send_result;      /* 0, or the FOTA_ERR_* send() returns */
    struct mem_response resp[MEM_MAX_RESPONSES]; /* one per request, in order */
    size_t n_resp;
    size_t cut_at;        /* > 0: after this many bytes on the connection, `end` */
    int end;              /* enum mem_end */
    uint32_t piece;       /* at most this many bytes per recv() (0: what fits) */
    uint32_t delay_ms;    /* every recv() takes this long on the fake clock */
};

struct mem_connect_log {
    char host[MEM_HOST_MAX];
    uint16_t port;
    uint8_t tls;
    uint32_t at_ms;
};

struct mem_request_log {
    char text[MEM_REQUEST_MAX]; /* NUL-terminated, truncated if longer */
    uint32_t conn;              /* 0-based connect() number */
    uint32_t at_ms;
};

/* Server for connections beyond the script: answer one complete request.
 * The bytes *out points at must stay valid until the next request. Returns
 * 0, or a negative code to reset the connection instead. */
typedef int (*mem_serve_fn)(void *ctx, const char *host, uint16_t port, const char *request,
                            size_t len, struct mem_response *out);

struct mem_transport {
    struct fota_transport iface; /* give &iface to the agent */
    struct test_clock *clock;
    struct mem_conn script[MEM_MAX_CONNS];
    size_t n_script;
    mem_serve_fn serve;          /* optional */
    void *serve_ctx;
    uint32_t serve_piece;        /* recv() piece size for served connections */

    /* What happened */
    uint32_t connects;           /* connect() calls */
    uint32_t requests;           /* complete requests received */
    uint32_t closes;             /* close() calls on an open connection */
    uint32_t refused;            /* connects beyond the script with no server */
    uint32_t overreads;          /* recv() before the request its response answers */
    struct mem_connect_log connect_log[MEM_MAX_LOG];
    struct mem_request_log request_log[MEM_MAX_LOG];

    /* The open connection */
    int open;
    int served;
    struct mem_conn cur;
    size_t released;             /* responses the agent has asked for */
    size_t resp_idx, part, part_pos, conn_bytes;
    char req[MEM_REQUEST_MAX];
    size_t req_len;
    uint32_t req_tail;           /* last four bytes sent, to find the blank line */
    char host[MEM_HOST_MAX];
    uint16_t port;
    char detail[96];
};

/* An empty script on `clock`; fill t->script / n_script (or mem_add) and
 * optionally t->serve afterwards. */
void mem_transport_init(struct mem_transport *t, const char *name, struct test_clock *clock);

/* Append a connection to the script; returns it (zeroed: connects, no
 * responses, closes) or NULL when the script is full. */
struct mem_conn *mem_add(struct mem_transport *t);

/* Append one raw response (head only) to a scripted connection. */
void mem_conn_respond(struct mem_conn *c, const void *bytes, size_t len);

#endif
