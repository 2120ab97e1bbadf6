/*
 * The simulator's timing model, link side: a struct fota_transport that
 * wraps a real one (the bytes still come from a real server) and decides,
 * on the simulated clock of sim/timing.h, when each byte arrives:
 *
 *   - connect costs one round trip (two with TLS: the handshake's two more);
 *   - a request reaches the server one latency after it is sent, plus its
 *     bytes at the link's rate;
 *   - the server sends the response in segments of `mss` bytes at `rate`
 *     bytes/s, each arriving one latency after it leaves; it may have at
 *     most `window` bytes sent and not yet taken by the application (the
 *     TCP receive window, lwIP's TCP_WND), learning of what the application
 *     took one latency after it took it;
 *   - recv() hands over what has arrived (up to the asked length); when
 *     nothing has, the clock moves to the next arrival.
 *
 * While the device erases or programs (the flash model advances the clock),
 * segments keep arriving into the window: receiving overlaps flash work as
 * it does on a device. What recv() hands over depends only on the model and
 * the responses' lengths (read from their HTTP framing), never on how the
 * host's TCP happened to split the bytes, so a run's simulated time is
 * deterministic. Assumptions: docs/sim.md.
 */
#ifndef SIM_LINK_H
#define SIM_LINK_H

#include <stdint.h>

#include "fota/port.h"
#include "timing.h"

struct sim_link_model {
    uint32_t rate;       /* bytes/s, both directions */
    uint32_t latency_us; /* one way */
    uint32_t window;     /* receive window, bytes (lwIP TCP_WND) */
    uint32_t mss;        /* segment size, bytes (lwIP TCP_MSS) */
};

#define SIM_LINK_PERMITS 64

struct sim_link {
    struct fota_transport iface; /* give this to the agent */
    const struct fota_transport *inner;
    struct sim_link_model model;
    struct sim_clock *clock;
    /* The response in flight, in bytes since its first one */
    uint64_t sent_at;      /* when the server may start sending */
    uint64_t link_free_us; /* when the server's link is free for the next segment */
    uint64_t arrived, taken;
    uint64_t total;        /* the response's length; UINT64_MAX while unknown */
    int active;
    /* Window updates: bytes below limit[i] may leave the server from at[i] */
    uint64_t permit_limit[SIM_LINK_PERMITS], permit_at[SIM_LINK_PERMITS];
    uint32_t permits;
    /* HTTP framing of the response, to learn its length */
    uint32_t hdr_len;      /* header bytes so far */
    uint32_t status;
    uint64_t content_length;
    int has_length, chunked, in_body;
    char line[128];
    uint32_t line_len;
    /* Statistics */
    uint64_t bytes, wait_us; /* bytes handed over; time recv() waited for them */
};

/* Wrap `inner` (its name is kept); the clock is shared with the flash. */
void sim_link_init(struct sim_link *l, const struct fota_transport *inner,
                   const struct sim_link_model *model, struct sim_clock *clock);

/* Parse "RATE[,LATENCY_MS[,WINDOW[,MSS]]]" into *m (defaults: latency 2 ms,
 * window 5760, mss 1440, ESP-IDF's lwIP defaults). Returns 0 or -1. */
int sim_link_parse(const char *text, struct sim_link_model *m);

/* The time the link alone needs for `bytes` of one response: one round
 * trip for the request, then the bytes at the rate. */
uint64_t sim_link_bound_us(const struct sim_link_model *m, uint64_t bytes);

#endif
