/*
 * fcache.c - a bounded in-memory cache of small static files, keyed by the
 * requested params.file, so that a repeated request for a small file skips
 * the threadpool round trip (which costs more than the file itself).
 *
 * An entry is only ever filled from a full resolution (search locations,
 * containment and realpath checks) done by the static job.  A hit is
 * revalidated with one stat(2) of the file found, on the loop thread (a
 * cached inode on a local disk answers in about a microsecond): the same
 * device, inode, size and mtime mean the same file with the same content;
 * anything else drops the entry and the request takes the full path again.
 * Bounds: FCACHE_MAX_ENTRIES entries and FCACHE_MAX_BYTES of content, least
 * recently used entries go first.
 */
#include "http/http_internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FCACHE_BUCKETS 1024
#define FCACHE_MAX_ENTRIES 1024
#define FCACHE_MAX_BYTES (16 * 1024 * 1024)

struct fcache_slot {
    struct fcache_entry e;
    char *key;
    size_t klen;
    uint32_t hash;
    struct fcache_slot *hnext;          /* bucket chain */
    struct fcache_slot *lprev, *lnext;  /* LRU list, most recent first */
};

struct fcache {
    struct fcache_slot *buckets[FCACHE_BUCKETS];
    struct fcache_slot *lru_head, *lru_tail;
    size_t n, bytes;
};

static uint32_t fnv1a(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    size_t i;

    for (i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

static void lru_unlink(struct fcache *fc, struct fcache_slot *s)
{
    if (s->lprev)
        s->lprev->lnext = s->lnext;
    else
        fc->lru_head = s->lnext;
    if (s->lnext)
        s->lnext->lprev = s->lprev;
    else
        fc->lru_tail = s->lprev;
    s->lprev = s->lnext = NULL;
}

static void lru_push(struct fcache *fc, struct fcache_slot *s)
{
    s->lprev = NULL;
    s->lnext = fc->lru_head;
    if (fc->lru_head)
        fc->lru_head->lprev = s;
    fc->lru_head = s;
    if (fc->lru_tail == NULL)
        fc->lru_tail = s;
}

static void slot_remove(struct fcache *fc, struct fcache_slot *s)
{
    struct fcache_slot **pp = &fc->buckets[s->hash % FCACHE_BUCKETS];

    while (*pp && *pp != s)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = s->hnext;
    lru_unlink(fc, s);
    fc->n--;
    fc->bytes -= (size_t)s->e.size;
    free(s->key);
    free(s->e.path);
    free(s->e.content);
    free(s);
}

static struct fcache_slot *find(struct fcache *fc, const char *key, size_t n, uint32_t h)
{
    struct fcache_slot *s;

    for (s = fc->buckets[h % FCACHE_BUCKETS]; s; s = s->hnext)
        if (s->hash == h && s->klen == n && memcmp(s->key, key, n) == 0)
            return s;
    return NULL;
}

const struct fcache_entry *fcache_get(struct http_server *srv, const char *key, size_t n)
{
    struct fcache *fc = srv->fcache;
    struct fcache_slot *s;
    struct stat st;

    if (fc == NULL)
        return NULL;
    s = find(fc, key, n, fnv1a(key, n));
    if (s == NULL)
        return NULL;
    if (stat(s->e.path, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_dev != s->e.dev ||
        (uint64_t)st.st_ino != s->e.ino || (uint64_t)st.st_size != s->e.size ||
        (uint64_t)st.st_mtim.tv_sec * 1000 + (uint64_t)st.st_mtim.tv_nsec / 1000000 != s->e.mtime_ms) {
        slot_remove(fc, s);
        return NULL;
    }
    lru_unlink(fc, s);
    lru_push(fc, s);
    return &s->e;
}

void fcache_put(struct http_server *srv, const char *key, size_t n, const struct fcache_entry *e)
{
    struct fcache *fc = srv->fcache;
    struct fcache_slot *s;
    uint32_t h = fnv1a(key, n);

    if (e->size > FCACHE_MAX_BYTES / 16)
        return;
    if (fc == NULL)
        fc = srv->fcache = xcalloc(1, sizeof(*fc));
    if ((s = find(fc, key, n, h)) != NULL)
        slot_remove(fc, s);
    while (fc->lru_tail && (fc->n >= FCACHE_MAX_ENTRIES || fc->bytes + e->size > FCACHE_MAX_BYTES))
        slot_remove(fc, fc->lru_tail);
    s = xcalloc(1, sizeof(*s));
    s->e = *e;
    s->e.path = xstrdup(e->path);
    s->e.content = xmalloc((size_t)e->size + 1);
    memcpy(s->e.content, e->content, (size_t)e->size);
    s->key = xstrndup(key, n);
    s->klen = n;
    s->hash = h;
    s->hnext = fc->buckets[h % FCACHE_BUCKETS];
    fc->buckets[h % FCACHE_BUCKETS] = s;
    lru_push(fc, s);
    fc->n++;
    fc->bytes += (size_t)e->size;
}

void fcache_free(struct http_server *srv)
{
    struct fcache *fc = srv->fcache;

    if (fc == NULL)
        return;
    while (fc->lru_head)
        slot_remove(fc, fc->lru_head);
    free(fc);
    srv->fcache = NULL;
}
