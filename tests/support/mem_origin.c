/* The in-memory HTTP origin: see mem_origin.h. */
#include "mem_origin.h"

#include <stdio.h>
#include <string.h>

/* The value of header `name` (with its colon, lower case) in a request, or
 * NULL; *len receives its length up to the line end. */
static const char *header_value(const char *req, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    for (const char *p = strstr(req, "\r\n"); p && p[2] != '\r'; p = strstr(p + 2, "\r\n")) {
        const char *h = p + 2;
        size_t i = 0;
        while (i < nl && h[i] && (h[i] | 0x20) == name[i])
            i++;
        if (i < nl)
            continue;
        h += nl;
        while (*h == ' ')
            h++;
        const char *e = strstr(h, "\r\n");
        *len = e ? (size_t)(e - h) : strlen(h);
        return h;
    }
    return NULL;
}

/* "bytes=N-" (the only form the agent sends): 1 and N, or 0. No sscanf:
 * picolibc's pulls in floating point, which the lx106 build lacks. */
static int range_start(const char *v, size_t len, unsigned long *first)
{
    size_t i = 6;
    if (len < 8 || memcmp(v, "bytes=", 6) != 0)
        return 0;
    *first = 0;
    for (; i < len && v[i] >= '0' && v[i] <= '9' && *first < 100000000ul; i++)
        *first = *first * 10 + (unsigned long)(v[i] - '0');
    return i > 6 && i + 1 == len && v[i] == '-';
}

static int origin_serve(void *ctx, const char *host, uint16_t port, const char *req,
                        size_t req_len, struct mem_response *out)
{
    struct mem_origin *o = ctx;
    (void)host;
    (void)port;
    (void)req_len;
    const struct mem_file *f = NULL;
    const char *path = strncmp(req, "GET ", 4) == 0 ? req + 4 : NULL;
    const char *path_end = path ? strchr(path, ' ') : NULL;
    for (size_t i = 0; path_end && i < o->n_files; i++)
        if (strlen(o->files[i].path) == (size_t)(path_end - path) &&
            memcmp(o->files[i].path, path, (size_t)(path_end - path)) == 0)
            f = &o->files[i];
    out->body = NULL;
    out->body_len = 0;
    int n;
    if (!path_end) {
        o->served[MEM_ORIGIN_400]++;
        n = snprintf(o->head, sizeof o->head,
                     "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    } else if (!f) {
        o->served[MEM_ORIGIN_404]++;
        n = snprintf(o->head, sizeof o->head,
                     "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    } else {
        size_t vlen = 0;
        const char *inm = header_value(req, "if-none-match:", &vlen);
        const char *range = o->ignore_range ? NULL : header_value(req, "range:", &vlen);
        char etag[96] = "";
        if (f->etag)
            snprintf(etag, sizeof etag, "ETag: %s\r\n", f->etag);
        unsigned long first = 0;
        if (inm && f->etag && strlen(f->etag) == vlen && memcmp(inm, f->etag, vlen) == 0) {
            o->served[MEM_ORIGIN_304]++;
            n = snprintf(o->head, sizeof o->head, "HTTP/1.1 304 Not Modified\r\n%s\r\n", etag);
        } else if (range && range_start(range, vlen, &first) && first > 0) {
            if (first >= f->len) {
                o->served[MEM_ORIGIN_416]++;
                n = snprintf(o->head, sizeof o->head,
                             "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes "
                             "*/%lu\r\nContent-Length: 0\r\n\r\n",
                             (unsigned long)f->len);
            } else {
                o->served[MEM_ORIGIN_206]++;
                n = snprintf(o->head, sizeof o->head,
                             "HTTP/1.1 206 Partial Content\r\nContent-Length: %lu\r\n"
                             "Content-Range: bytes %lu-%lu/%lu\r\n%s\r\n",
                             (unsigned long)(f->len - first), first, (unsigned long)f->len - 1,
                             (unsigned long)f->len, etag);
                out->body = f->data + first;
                out->body_len = f->len - first;
            }
        } else {
            o->served[MEM_ORIGIN_200]++;
            n = snprintf(o->head, sizeof o->head,
                         "HTTP/1.1 200 OK\r\nContent-Length: %lu\r\n%s\r\n",
                         (unsigned long)f->len, etag);
            out->body = f->data;
            out->body_len = f->len;
        }
    }
    if (n < 0 || (size_t)n >= sizeof o->head)
        return FOTA_ERR_RECV;
    out->head = (const uint8_t *)o->head;
    out->head_len = (size_t)n;
    return 0;
}

void mem_origin_attach(struct mem_origin *o, struct mem_transport *t)
{
    t->serve = origin_serve;
    t->serve_ctx = o;
}

int mem_origin_put(struct mem_origin *o, const char *path, const void *data, size_t len,
                   const char *etag)
{
    size_t i = 0;
    while (i < o->n_files && strcmp(o->files[i].path, path) != 0)
        i++;
    if (i == MEM_ORIGIN_FILES)
        return -1;
    if (i == o->n_files)
        o->n_files++;
    o->files[i].path = path;
    o->files[i].data = data;
    o->files[i].len = len;
    o->files[i].etag = etag;
    return 0;
}
