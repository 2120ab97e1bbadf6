/*
 * One HTTP exchange over the configured transports: connect (reusing a
 * kept-alive connection to the same origin, falling back to the next
 * transport when a connect fails), send the GET, read and parse the response,
 * follow redirects, and guard the attempt's deadline and minimum throughput.
 *
 * The session reports; the policy (agent.c) decides. A step of the policy is
 * one fota_session_advance() (at most one connect, one send or one read)
 * followed by fota_session_next() until it returns FOTA_SESSION_WAIT; each
 * call hands back one event. Failures come back as negative codes with the
 * message in the caller's struct fota_report; the connection is then closed.
 * The context is struct fota_session (src/fota/fota.h).
 */
#ifndef FOTA_SRC_SESSION_H
#define FOTA_SRC_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include <string.h>

#include "fota/fota.h"

enum fota_session_event {
    FOTA_SESSION_WAIT = 0, /* nothing to report: the next step continues */
    FOTA_SESSION_INPUT,    /* advance(): bytes arrived, take them with next() */
    FOTA_SESSION_HEADERS,  /* a final (non-redirect) response: fota_session_response() */
    FOTA_SESSION_BODY,     /* a slice of the body */
    FOTA_SESSION_DONE,     /* the response is complete */
};

void fota_session_init(struct fota_session *s, const struct fota_config *cfg);

/* A new attempt: the first transport again, the deadline counted from now. */
void fota_session_begin(struct fota_session *s);

enum { FOTA_SESSION_PH_IDLE = 0, FOTA_SESSION_PH_CONNECT = 1 }; /* see session.c */

/* GET buf->url, asking for the bytes from range_from on (0: all of it) and,
 * when use_etag, If-None-Match with the ETag kept by fota_session_keep_etag().
 * `what` names the resource in messages ("manifest", "image"). */
static inline void fota_session_get(struct fota_session *s, const char *what,
                                    uint32_t range_from, int use_etag)
{
    s->what = what;
    s->range_from = range_from;
    s->use_etag = (uint8_t)(use_etag != 0);
    s->checkin = NULL;
    s->redirects = 0;
    s->phase = FOTA_SESSION_PH_CONNECT;
}

/* Add the check-in header fields (fota/checkin.h) to the request started by
 * the last fota_session_get(), which clears them; `c` must stay valid. */
void fota_session_checkin(struct fota_session *s, const struct fota_checkin *c);

/* Do this step's I/O: connect, send, or read when the parser needs input.
 * Returns FOTA_SESSION_WAIT, FOTA_SESSION_INPUT or a negative code. */
int fota_session_advance(struct fota_session *s, const struct fota_buffers *buf,
                         struct fota_report *rep);

/* A read fills buf->rx after its first FOTA_SESSION_RX_LEAD bytes, so every
 * body slice has that many bytes of the buffer in front of it, free for the
 * receiver (the slot writer puts a kept partial write unit there). */
#define FOTA_SESSION_RX_LEAD FOTA_WRITE_SIZE_MAX

/* Parse what arrived: the next event (redirects are followed here), with
 * *body / *len for FOTA_SESSION_BODY, or a negative code. */
int fota_session_next(struct fota_session *s, const struct fota_buffers *buf,
                      struct fota_report *rep, const uint8_t **body, size_t *len);

/* The final response's status and headers. */
static inline const struct fota_http_response *
fota_session_response(const struct fota_session *s)
{
    return &s->http.resp;
}

/* The error for a status the caller does not accept (404, 403, 429, 5xx ...). */
int fota_session_refuse(const struct fota_session *s, const struct fota_buffers *buf,
                        struct fota_report *rep);

/* Remember the last response's ETag for the next If-None-Match, or forget it. */
static inline void fota_session_keep_etag(struct fota_session *s, int keep)
{
    if (keep)
        memcpy(s->etag, s->http.resp.etag, sizeof s->etag);
    else
        s->etag[0] = '\0';
}

/* Use `etag` (one saved across a reboot) for the next If-None-Match. */
void fota_session_set_etag(struct fota_session *s, const char *etag);

/* Name of the transport in use (or last tried), NULL if none. */
static inline const char *fota_session_transport(const struct fota_session *s)
{
    if (!s->cfg || s->tr_index >= s->cfg->n_transports)
        return NULL;
    return s->cfg->transports[s->tr_index]->name;
}

/* Close the connection, if one is open. */
void fota_session_close(struct fota_session *s);

/* Before buf->url is replaced by `next`: a kept-alive connection stays open
 * only when `next` has the same origin (scheme, host, port). Every writer of
 * buf->url calls this or closes the session, so the open connection is
 * always to buf->url's origin and the session keeps no copy of the host. */
void fota_session_retarget(struct fota_session *s, const struct fota_buffers *buf,
                           const char *next);

#endif
