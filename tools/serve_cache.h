/* fota serve: the open-file cache (issue 10).
 *
 * Per request path it keeps the open file, its identity (device, inode,
 * size, mtime, ctime), its ETag and the two responses built from them (the
 * 200 and the 304), so that a repeated request (above all a device's
 * If-None-Match check) is answered without a system call on the file
 * system.
 *
 * Invalidation: every directory on a cached path is watched with inotify.
 * Any change in one of them (a file created, renamed in or out, written,
 * deleted; `fota release` replaces files by rename) bumps a generation
 * counter, and an entry of an older generation is revalidated (the path is
 * opened again, one component at a time, and compared by identity) before
 * it is used. The events are drained by the first lookup of each
 * millisecond (a read() per request cost a third of a 304's system calls),
 * so a change is seen by every request that starts 1 ms or more after it
 * completed; a request within that millisecond is answered as if it had
 * arrived just before the change. Where inotify is not
 * available (or a watch cannot be added), the entries concerned are
 * revalidated on every request, as if there were no cache.
 */
#ifndef FOTA_TOOLS_SERVE_CACHE_H
#define FOTA_TOOLS_SERVE_CACHE_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include <microhttpd.h>

#define SERVE_ETAG_SIZE 35 /* quoted 32 hex digits, NUL */

struct serve_entry {
    /* Filled by the caller before serve_cache_put, read-only afterwards. */
    char *key;  /* decoded path below DIR, "bench/manifest.txt" (malloc'd) */
    const char *name; /* its last segment, inside key */
    int fd;           /* the open file, closed with the entry */
    struct stat st;
    char etag[SERVE_ETAG_SIZE];
    struct MHD_Response *full;         /* 200 from memory (also HEAD), else NULL */
    struct MHD_Response *not_modified; /* 304 */
    /* The cache's bookkeeping. */
    uint32_t hash;
    atomic_uint refs;
    unsigned gen;   /* the generation it was last validated in */
    int watched;    /* every directory on its path is watched */
};

struct serve_cache;

/* A cache of at most `slots` entries for the tree below `root` (the path
 * the server was given), holding at most `memory_budget` bytes of file
 * content in memory (serve_cache_hold). NULL when out of memory. */
struct serve_cache *serve_cache_new(const char *root, unsigned slots, uint64_t memory_budget);
void serve_cache_free(struct serve_cache *c);

/* Count `bytes` of file content against the memory budget: 1 when they fit
 * (give them back with serve_cache_unhold once the content is freed), 0
 * when they do not (the file is then sent from disk). */
int serve_cache_hold(struct serve_cache *c, uint64_t bytes);
void serve_cache_unhold(struct serve_cache *c, uint64_t bytes);

/* Watch every directory on the path of `key` (root included), before the
 * file is opened. Returns 1 when all are watched, 0 when the entry must be
 * revalidated on every use. */
int serve_cache_watch(struct serve_cache *c, const char *key);

/* The current generation: read it after serve_cache_watch and before
 * opening the file, and hand it to serve_cache_put or serve_cache_renew. */
unsigned serve_cache_generation(struct serve_cache *c);

/* The entry for `key`, referenced (serve_cache_release it), or NULL. *fresh
 * says whether it may be used as is; a stale one must be revalidated, then
 * renewed (same file) or replaced (serve_cache_put). */
struct serve_entry *serve_cache_get(struct serve_cache *c, const char *key, int *fresh);

/* The stale entry `e` still names the same file: valid again as of `gen`. */
void serve_cache_renew(struct serve_cache *c, struct serve_entry *e, unsigned gen, int watched);

/* Publish `e` (allocated with calloc, filled in) as the entry for its key,
 * replacing any other. The caller keeps its reference. */
void serve_cache_put(struct serve_cache *c, struct serve_entry *e, unsigned gen, int watched);

/* Drop a reference; the entry is freed (its responses released) with the
 * last. NULL is ignored. */
void serve_cache_release(struct serve_cache *c, struct serve_entry *e);

#endif
