/* fota serve: the open-file cache (serve_cache.h says what and why). */
#define _GNU_SOURCE /* inotify's IN_* flags are plain POSIX-2008 otherwise */

#include "serve_cache.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef __linux__
#include <sys/inotify.h>
#endif

#define WATCH_PATH_MAX 4352 /* root path + a request-target's path */

/* Lookups take the table's lock shared; entries are counted atomically, so
 * concurrent requests for one file do not wait on each other. */
struct serve_cache {
    pthread_rwlock_t lock;
    char *root;
    int inotify_fd; /* -1: no inotify, every entry is revalidated on use */
    atomic_uint gen;
    _Atomic uint64_t drained_ms; /* the millisecond of the last drain_events */
    uint64_t memory_budget;
    _Atomic uint64_t memory_held; /* content bytes counted by serve_cache_hold */
    unsigned slots, next_victim;
    struct serve_entry **slot;
};

static uint32_t key_hash(const char *key)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h;
}

struct serve_cache *serve_cache_new(const char *root, unsigned slots, uint64_t memory_budget)
{
    struct serve_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->root = strdup(root);
    c->slot = calloc(slots, sizeof *c->slot);
    if (!c->root || !c->slot) {
        free(c->root);
        free(c->slot);
        free(c);
        return NULL;
    }
    c->slots = slots;
    c->memory_budget = memory_budget;
    atomic_init(&c->memory_held, 0);
    pthread_rwlock_init(&c->lock, NULL);
    atomic_init(&c->gen, 1);
    atomic_init(&c->drained_ms, 0);
#ifdef __linux__
    c->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
#else
    c->inotify_fd = -1;
#endif
    return c;
}

int serve_cache_hold(struct serve_cache *c, uint64_t bytes)
{
    uint64_t held = atomic_load(&c->memory_held);
    do {
        if (bytes > c->memory_budget || held > c->memory_budget - bytes)
            return 0;
    } while (!atomic_compare_exchange_weak(&c->memory_held, &held, held + bytes));
    return 1;
}

void serve_cache_unhold(struct serve_cache *c, uint64_t bytes)
{
    atomic_fetch_sub(&c->memory_held, bytes);
}

static void entry_free(struct serve_entry *e)
{
    if (e->full)
        MHD_destroy_response(e->full);
    close(e->fd);
    if (e->not_modified)
        MHD_destroy_response(e->not_modified);
    free(e->key);
    free(e);
}

void serve_cache_free(struct serve_cache *c)
{
    if (!c)
        return;
    for (unsigned i = 0; i < c->slots; i++)
        if (c->slot[i])
            entry_free(c->slot[i]);
    if (c->inotify_fd >= 0)
        close(c->inotify_fd);
    pthread_rwlock_destroy(&c->lock);
    free(c->slot);
    free(c->root);
    free(c);
}

int serve_cache_watch(struct serve_cache *c, const char *key)
{
#ifdef __linux__
    if (c->inotify_fd < 0)
        return 0;
    const uint32_t mask = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_MODIFY |
                          IN_CLOSE_WRITE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF |
                          IN_ONLYDIR | IN_DONT_FOLLOW;
    char path[WATCH_PATH_MAX];
    int n = snprintf(path, sizeof path, "%s", c->root);
    if (n < 0 || (size_t)n >= sizeof path || inotify_add_watch(c->inotify_fd, path, mask) < 0)
        return 0;
    /* Each directory below the root on the way to the file. */
    for (const char *slash = strchr(key, '/'); slash; slash = strchr(slash + 1, '/')) {
        n = snprintf(path, sizeof path, "%s/%.*s", c->root, (int)(slash - key), key);
        if (n < 0 || (size_t)n >= sizeof path || inotify_add_watch(c->inotify_fd, path, mask) < 0)
            return 0;
    }
    return 1;
#else
    (void)c;
    (void)key;
    return 0;
#endif
}

/* Any event at all means "something under a watched directory changed":
 * everything cached is revalidated once (releases are rare). */
static void drain_events(struct serve_cache *c)
{
    if (c->inotify_fd < 0)
        return;
    char buf[4096] __attribute__((aligned(8)));
    int changed = 0;
    for (int i = 0; i < 64; i++) { /* bounded: a flood is one bump anyway */
        ssize_t n = read(c->inotify_fd, buf, sizeof buf);
        if (n <= 0)
            break;
        changed = 1;
    }
    if (changed)
        atomic_fetch_add(&c->gen, 1);
}

/* One read() of the inotify descriptor per request was a third of the
 * system calls of a 304 (recv, send, read). The events are drained by the
 * first lookup of each millisecond instead: a change is seen by every
 * request that starts 1 ms or more after it, and a request in that
 * millisecond is answered as if it had come just before the change. */
unsigned serve_cache_generation(struct serve_cache *c)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    uint64_t ms = (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u;
    uint64_t last = atomic_load(&c->drained_ms);
    if (ms != last && atomic_compare_exchange_strong(&c->drained_ms, &last, ms))
        drain_events(c);
    return atomic_load(&c->gen);
}

struct serve_entry *serve_cache_get(struct serve_cache *c, const char *key, int *fresh)
{
    unsigned gen = serve_cache_generation(c);
    uint32_t h = key_hash(key);
    struct serve_entry *found = NULL;
    pthread_rwlock_rdlock(&c->lock);
    for (unsigned i = 0; i < c->slots && !found; i++) {
        struct serve_entry *e = c->slot[i];
        if (e && e->hash == h && strcmp(e->key, key) == 0)
            found = e;
    }
    if (found) {
        atomic_fetch_add(&found->refs, 1);
        *fresh = found->watched && found->gen == gen;
    }
    pthread_rwlock_unlock(&c->lock);
    return found;
}

void serve_cache_renew(struct serve_cache *c, struct serve_entry *e, unsigned gen, int watched)
{
    pthread_rwlock_wrlock(&c->lock);
    e->gen = gen;
    e->watched = watched;
    pthread_rwlock_unlock(&c->lock);
}

/* Drop a reference: 1 when it was the last. */
static int unref(struct serve_entry *e)
{
    return atomic_fetch_sub(&e->refs, 1) == 1;
}

void serve_cache_put(struct serve_cache *c, struct serve_entry *e, unsigned gen, int watched)
{
    struct serve_entry *old_free = NULL;
    e->hash = key_hash(e->key);
    e->gen = gen;
    e->watched = watched;
    atomic_fetch_add(&e->refs, 1); /* the cache's own reference */
    pthread_rwlock_wrlock(&c->lock);
    unsigned at = c->slots, empty = c->slots;
    for (unsigned i = 0; i < c->slots && at == c->slots; i++) {
        struct serve_entry *o = c->slot[i];
        if (!o && empty == c->slots)
            empty = i;
        else if (o && o->hash == e->hash && strcmp(o->key, e->key) == 0)
            at = i;
    }
    if (at == c->slots && empty < c->slots)
        at = empty;
    if (at == c->slots) {
        at = c->next_victim;
        c->next_victim = (c->next_victim + 1) % c->slots;
    }
    if (c->slot[at] && unref(c->slot[at]))
        old_free = c->slot[at];
    c->slot[at] = e;
    pthread_rwlock_unlock(&c->lock);
    if (old_free)
        entry_free(old_free);
}

void serve_cache_release(struct serve_cache *c, struct serve_entry *e)
{
    if (!e)
        return;
    (void)c;
    if (unref(e))
        entry_free(e); /* no longer in the table: the table holds a reference */
}
