/*
 * An in-memory HTTP origin for the in-memory transport (mem_transport.h's
 * server callback): a table of files served by path, with Range (206,
 * 416), ETag / If-None-Match (304) and keep-alive, as `fota serve` answers.
 * The host name is not checked. Plain C, no heap.
 */
#ifndef FOTA_MEM_ORIGIN_H
#define FOTA_MEM_ORIGIN_H

#include <stddef.h>
#include <stdint.h>

#include "mem_transport.h"

#define MEM_ORIGIN_FILES 8

struct mem_file {
    const char *path;  /* "/demo/manifest.txt" */
    const uint8_t *data;
    size_t len;
    const char *etag;  /* optional, with its quotes: "\"v2\"" */
};

struct mem_origin {
    struct mem_file files[MEM_ORIGIN_FILES];
    size_t n_files;
    int ignore_range;  /* answer 200 with the whole file to a Range request */
    uint32_t served[6];/* responses by kind: 200, 206, 304, 404, 416, 400 */
    char head[384];    /* the response head being sent */
};

enum { MEM_ORIGIN_200, MEM_ORIGIN_206, MEM_ORIGIN_304, MEM_ORIGIN_404, MEM_ORIGIN_416,
       MEM_ORIGIN_400 };

/* Serve `o` on every connection of `t` beyond its script. */
void mem_origin_attach(struct mem_origin *o, struct mem_transport *t);

/* Add or replace a file. Returns 0, or -1 when the table is full. */
int mem_origin_put(struct mem_origin *o, const char *path, const void *data, size_t len,
                   const char *etag);

#endif
