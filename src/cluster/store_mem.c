/*
 * store_mem.c - the in-process backend: one keyspace with Redis's semantics
 * for the commands listed in store.h, bounded by store.maxKeys and
 * store.maxBytes.
 *
 * Commands run synchronously when issued (so they apply in issue order,
 * like a pipelined Redis connection) and their replies go through the
 * deferred queue, so callbacks still run on a later loop turn.
 *
 * Keys and collections live in an insertion-ordered hash table (mdict):
 * KEYS/SCAN, SMEMBERS and HGETALL list in insertion order, which is also
 * what Redis does for small hashes.  Hashing is SipHash (libsodium) with a
 * per-store random key, so peer-chosen keys cannot degrade it.
 *
 * Expiry: lazy (a key past its deadline is deleted when touched) plus a
 * sweep timer that walks part of the keyspace every store.sweepInterval ms;
 * when a write would exceed a bound, a full sweep runs first.  Memory is
 * accounted approximately (payload bytes plus a fixed overhead per key and
 * element); a write that would pass store.maxBytes, or create a key past
 * store.maxKeys, is refused with an "OOM ..." error (status AH_ELIMIT).
 */
#include "cluster/store_mem_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

#define SWEEP_BATCH 2000

/* ------------------------------------------------------------- mdict */

static uint64_t mhash(const unsigned char *seed, const char *k, size_t n)
{
    unsigned char out[crypto_shorthash_BYTES];
    uint64_t h;

    crypto_shorthash(out, (const unsigned char *)k, n, seed);
    memcpy(&h, out, sizeof(h));
    return h;
}

struct mdict *mdict_new(const unsigned char *seed)
{
    struct mdict *d = xcalloc(1, sizeof(*d));

    d->nb = 8;
    d->b = xcalloc(d->nb, sizeof(*d->b));
    d->seed = seed;
    return d;
}

struct mentry *mdict_find(const struct mdict *d, const char *k, size_t n)
{
    uint64_t h = mhash(d->seed, k, n);
    struct mentry *e;

    for (e = d->b[h & (d->nb - 1)]; e; e = e->hnext)
        if (e->h == h && e->klen == n && memcmp(e->key, k, n) == 0)
            return e;
    return NULL;
}

static void mdict_grow(struct mdict *d)
{
    size_t nb = d->nb * 2, i;
    struct mentry **b = xcalloc(nb, sizeof(*b));

    for (i = 0; i < d->nb; i++) {
        struct mentry *e = d->b[i], *next;

        for (; e; e = next) {
            next = e->hnext;
            e->hnext = b[e->h & (nb - 1)];
            b[e->h & (nb - 1)] = e;
        }
    }
    free(d->b);
    d->b = b;
    d->nb = nb;
}

/* Insert a new key (the caller checked it is absent). */
struct mentry *mdict_add(struct mdict *d, const char *k, size_t n, void *val)
{
    struct mentry *e = xmalloc(sizeof(*e) + n + 1);
    size_t i;

    if (d->n + 1 > d->nb)
        mdict_grow(d);
    e->h = mhash(d->seed, k, n);
    e->val = val;
    e->klen = n;
    memcpy(e->key, k, n);
    e->key[n] = '\0';
    i = e->h & (d->nb - 1);
    e->hnext = d->b[i];
    d->b[i] = e;
    e->next = NULL;
    e->prev = d->last;
    if (d->last)
        d->last->next = e;
    else
        d->first = e;
    d->last = e;
    d->n++;
    return e;
}

/* Unlink and free the entry (not its value). */
void mdict_del(struct mdict *d, struct mentry *e)
{
    struct mentry **pp = &d->b[e->h & (d->nb - 1)];

    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    if (e->prev)
        e->prev->next = e->next;
    else
        d->first = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        d->last = e->prev;
    d->n--;
    free(e);
}

void mdict_free(struct mdict *d, void (*free_val)(void *))
{
    struct mentry *e, *next;

    if (d == NULL)
        return;
    for (e = d->first; e; e = next) {
        next = e->next;
        if (free_val)
            free_val(e->val);
        free(e);
    }
    free(d->b);
    free(d);
}

/* ------------------------------------------------------------- values */

struct sbuf *mem_sbuf_new(const char *p, size_t n)
{
    struct sbuf *b = xmalloc(sizeof(*b) + n + 1);

    b->n = n;
    if (n)
        memcpy(b->p, p, n);
    b->p[n] = '\0';
    return b;
}

struct sbuf *mlist_at(const struct mlist *l, size_t i)
{
    return l->v[(l->head + i) % l->cap];
}

static void mlist_grow(struct mlist *l)
{
    size_t cap = l->cap ? l->cap * 2 : 8, i;
    struct sbuf **v = xcalloc(cap, sizeof(*v));

    for (i = 0; i < l->n; i++)
        v[i] = mlist_at(l, i);
    free(l->v);
    l->v = v;
    l->cap = cap;
    l->head = 0;
}

void mlist_push(struct mlist *l, struct sbuf *b, bool left)
{
    if (l->n == l->cap)
        mlist_grow(l);
    if (left) {
        l->head = (l->head + l->cap - 1) % l->cap;
        l->v[l->head] = b;
    } else {
        l->v[(l->head + l->n) % l->cap] = b;
    }
    l->n++;
}

struct sbuf *mlist_pop(struct mlist *l, bool left)
{
    struct sbuf *b;

    if (l->n == 0)
        return NULL;
    if (left) {
        b = l->v[l->head];
        l->head = (l->head + 1) % l->cap;
    } else {
        b = mlist_at(l, l->n - 1);
    }
    l->n--;
    return b;
}

static void obj_free(void *p)
{
    struct mobj *o = p;
    size_t i;

    if (o == NULL)
        return;
    switch (o->type) {
    case T_STR:
        free(o->u.str);
        break;
    case T_LIST:
        for (i = 0; i < o->u.list->n; i++)
            free(mlist_at(o->u.list, i));
        free(o->u.list->v);
        free(o->u.list);
        break;
    case T_SET:
        mdict_free(o->u.set, NULL);
        break;
    case T_HASH:
        mdict_free(o->u.hash, free);
        break;
    case T_ZSET:
        mdict_free(o->u.zset->d, NULL);
        for (i = 0; i < o->u.zset->n; i++)
            free(o->u.zset->v[i]);
        free(o->u.zset->v);
        free(o->u.zset);
        break;
    }
    free(o);
}

/* ------------------------------------------------------------- keyspace */

void mem_charge(struct mem *m, struct mobj *o, long long delta)
{
    o->bytes = (size_t)((long long)o->bytes + delta);
    m->used = (size_t)((long long)m->used + delta);
}

void mem_key_delete(struct mem *m, struct mentry *e)
{
    struct mobj *o = e->val;

    m->used -= o->bytes + e->klen + KEY_OVERHEAD;
    if (m->sweep_at == e)
        m->sweep_at = e->next;
    obj_free(o);
    mdict_del(m->keys, e);
}

bool mem_expired(const struct mobj *o, long long now)
{
    return o->expire != 0 && o->expire <= now;
}

/* The live entry for a key, deleting it first if it has expired. */
struct mentry *mem_lookup(struct store_exec *x, const char *k, size_t n)
{
    struct mentry *e = mdict_find(x->m->keys, k, n);

    if (e && mem_expired(e->val, x->now)) {
        mem_key_delete(x->m, e);
        return NULL;
    }
    return e;
}

/* Walk up to `limit` keys (0: all) from the sweep point, deleting expired
 * ones. */
static void sweep(struct mem *m, long long now, size_t limit)
{
    struct mentry *e = m->sweep_at ? m->sweep_at : m->keys->first, *next;
    size_t seen = 0;

    for (; e && (limit == 0 || seen < limit); e = next, seen++) {
        next = e->next;
        if (mem_expired(e->val, now))
            mem_key_delete(m, e);
    }
    m->sweep_at = e;
}

static void on_sweep(uv_timer_t *t)
{
    struct mem *m = t->data;

    sweep(m, core_now_ms(), SWEEP_BATCH);
}

/* May `extra` more bytes (and a new key if `new_key`) be stored?  Returns
 * NULL or an OOM error reply. */
struct store_reply *mem_room_for(struct store_exec *x, size_t extra, bool new_key)
{
    struct mem *m = x->m;
    const struct store_config *c = &m->s->cfg;
    size_t need = extra + (new_key ? KEY_OVERHEAD : 0);

    if ((new_key && m->keys->n >= c->max_keys) || m->used + need > c->max_bytes) {
        m->sweep_at = NULL;
        sweep(m, x->now, 0);
    }
    if (new_key && m->keys->n >= c->max_keys)
        return store_reply_error("OOM memory store full: store.maxKeys (%zu) reached", c->max_keys);
    if (m->used + need > c->max_bytes)
        return store_reply_error("OOM memory store full: store.maxBytes (%zu) reached", c->max_bytes);
    return NULL;
}

struct mentry *mem_key_create(struct store_exec *x, const char *k, size_t n, int type)
{
    struct mobj *o = xcalloc(1, sizeof(*o));

    o->type = type;
    switch (type) {
    case T_LIST:
        o->u.list = xcalloc(1, sizeof(*o->u.list));
        break;
    case T_SET:
        o->u.set = mdict_new(x->m->seed);
        break;
    case T_HASH:
        o->u.hash = mdict_new(x->m->seed);
        break;
    case T_ZSET:
        o->u.zset = xcalloc(1, sizeof(*o->u.zset));
        o->u.zset->d = mdict_new(x->m->seed);
        break;
    }
    x->m->used += n + KEY_OVERHEAD;
    return mdict_add(x->m->keys, k, n, o);
}

/* Find a key of `type` for writing, creating it (after the bound check for
 * `extra` bytes) when absent.  On failure returns NULL with *err set. */
struct mentry *mem_key_for_write(struct store_exec *x, const char *k, size_t n, int type, size_t extra,
                                    struct store_reply **err)
{
    struct mentry *e = mem_lookup(x, k, n);

    if (e && ((struct mobj *)e->val)->type != type) {
        *err = store_reply_error("%s", MEM_WRONGTYPE);
        return NULL;
    }
    if ((*err = mem_room_for(x, extra + (e ? 0 : n), e == NULL)) != NULL)
        return NULL;
    return e ? e : mem_key_create(x, k, n, type);
}

/* Find a key for reading: NULL with *err NULL if absent; NULL with *err set
 * if of another type. */
struct mentry *mem_key_for_read(struct store_exec *x, const char *k, size_t n, int type,
                                   struct store_reply **err)
{
    struct mentry *e = mem_lookup(x, k, n);

    *err = NULL;
    if (e && ((struct mobj *)e->val)->type != type) {
        *err = store_reply_error("%s", MEM_WRONGTYPE);
        return NULL;
    }
    return e;
}

/* Delete a collection that became empty (Redis never keeps empty ones). */
void mem_drop_if_empty(struct mem *m, struct mentry *e)
{
    struct mobj *o = e->val;
    size_t n = o->type == T_LIST ? o->u.list->n
             : o->type == T_SET ? o->u.set->n
             : o->type == T_HASH ? o->u.hash->n
             : o->type == T_ZSET ? o->u.zset->n : 1;

    if (n == 0)
        mem_key_delete(m, e);
}

/* ------------------------------------------------------------- commands */

/* The command for argv, or NULL with *err set (unknown name, bad arity). */
static const struct mcmd *find_cmd(int argc, const char *const *argv, const size_t *lens,
                                   struct store_reply **err)
{
    const struct mcmd *c = NULL;
    char name[32];

    *err = NULL;
    if (argc < 1) {
        *err = store_reply_error("ERR empty command");
        return NULL;
    }
    if (lens[0] < sizeof(name) && memchr(argv[0], '\0', lens[0]) == NULL) {
        memcpy(name, argv[0], lens[0]);
        name[lens[0]] = '\0';
        c = bsearch(name, store_mem_commands, store_mem_ncommands, sizeof(store_mem_commands[0]), mem_cmd_cmp);
    }
    if (c == NULL) {
        char shown[64];
        size_t n = lens[0] < 40 ? lens[0] : 40, j;

        for (j = 0; j < n; j++)
            shown[j] = isprint((unsigned char)argv[0][j]) ? argv[0][j] : '?';
        shown[n] = '\0';
        *err = store_reply_error("ERR unknown command '%s'", shown);
        return NULL;
    }
    if ((c->arity > 0 && argc != c->arity) || (c->arity < 0 && argc < -c->arity)) {
        *err = store_reply_error("ERR wrong number of arguments for '%s' command", c->name);
        return NULL;
    }
    return c;
}

struct store_reply *store_execv(struct store_exec *x, int argc, const char *const *argv, const size_t *lens)
{
    const struct mcmd *c;
    struct store_reply *r;
    size_t *tmp = NULL, i;

    if (lens == NULL && argc > 0) {
        tmp = xcalloc((size_t)argc, sizeof(*tmp));
        for (i = 0; i < (size_t)argc; i++)
            tmp[i] = strlen(argv[i]);
        lens = tmp;
    }
    if ((c = find_cmd(argc, argv, lens, &r)) != NULL)
        r = c->fn(x, argc, argv, lens);
    free(tmp);
    return r;
}

struct store_reply *store_exec(struct store_exec *x, const char *name, ...)
{
    const char *argv[64];
    struct store_reply *r;
    va_list ap;
    int argc = 1;

    argv[0] = name;
    va_start(ap, name);
    while (argc < (int)ARRAY_SIZE(argv) && (argv[argc] = va_arg(ap, const char *)) != NULL)
        argc++;
    va_end(ap);
    if (argc == (int)ARRAY_SIZE(argv))
        return store_reply_error("ERR too many arguments for store_exec");
    r = store_execv(x, argc, argv, NULL);
    return r;
}

/* ------------------------------------------------------------- the backend */

static struct mem *mem_of(const struct store *s)
{
    return s->impl;
}

static int mem_open(struct store *s)
{
    struct mem *m = xcalloc(1, sizeof(*m));

    m->s = s;
    randombytes_buf(m->seed, sizeof(m->seed));
    m->keys = mdict_new(m->seed);
    uv_timer_init(s->loop, &m->sweep);
    m->sweep.data = m;
    uv_timer_start(&m->sweep, on_sweep, s->cfg.sweep_interval, s->cfg.sweep_interval);
    uv_unref((uv_handle_t *)&m->sweep);
    s->impl = m;
    return 0;
}

static bool mem_ready(const struct store *s, enum store_role role)
{
    (void)role;
    return s->impl != NULL;
}

static bool mem_settled(const struct store *s)
{
    (void)s;
    return true;
}

static void mem_command(struct store *s, enum store_role role, int argc, const char *const *argv,
                        const size_t *lens, store_cb cb, void *arg)
{
    struct store_exec x = {mem_of(s), (long long)core_now_ms()};

    (void)role;
    store_complete(s, cb, arg, store_execv(&x, argc, argv, lens));
}

static void mem_batch(struct store *s, enum store_role role, const struct store_batch *b, bool atomic,
                      store_cb cb, void *arg)
{
    struct store_exec x = {mem_of(s), (long long)core_now_ms()};
    struct store_reply *r = store_reply_array(b->n);
    size_t i;

    (void)role;
    /* Every batch runs in one go here.  Like EXEC, a transaction with a
     * command Redis would refuse while queueing runs nothing. */
    for (i = 0; atomic && i < b->n; i++) {
        struct store_reply *err;

        if (find_cmd(b->cmds[i].argc, (const char *const *)b->cmds[i].argv, b->cmds[i].lens, &err) == NULL) {
            store_reply_free(err);
            store_reply_free(r);
            store_complete(s, cb, arg,
                           store_reply_error("EXECABORT Transaction discarded because of previous errors."));
            return;
        }
    }
    for (i = 0; i < b->n; i++)
        r->element[i] = store_execv(&x, b->cmds[i].argc, (const char *const *)b->cmds[i].argv,
                                    b->cmds[i].lens);
    store_defer(s, cb, arg, 0, r);
}

static void mem_eval(struct store *s, enum store_role role, const struct store_script *script, int nkeys,
                     int argc, const char *const *argv, const size_t *lens, store_cb cb, void *arg)
{
    struct store_exec x = {mem_of(s), (long long)core_now_ms()};
    struct store_reply *r;

    (void)role;
    r = script->mem(&x, nkeys, argc, argv, lens);
    if (r == NULL)
        r = store_reply_nil();
    store_complete(s, cb, arg, r);
}

static void mem_subscribe(struct store *s, const char *channel, store_cb done, void *done_arg)
{
    (void)channel;
    if (done)
        store_defer(s, done, done_arg, 0, store_reply_int(1));
}

static void mem_unsubscribe(struct store *s, const char *channel, store_cb done, void *done_arg)
{
    (void)channel;
    if (done)
        store_defer(s, done, done_arg, 0, store_reply_int(0));
}

static void on_sweep_closed(uv_handle_t *h)
{
    struct mem *m = h->data;

    store_backend_closed(m->s);
}

static void mem_close(struct store *s)
{
    struct mem *m = mem_of(s);

    if (m == NULL) {
        store_backend_closed(s);
        return;
    }
    uv_timer_stop(&m->sweep);
    uv_close((uv_handle_t *)&m->sweep, on_sweep_closed);
}

static void mem_free(struct store *s)
{
    struct mem *m = mem_of(s);

    if (m == NULL)
        return;
    mdict_free(m->keys, obj_free);
    free(m);
    s->impl = NULL;
}

const struct store_ops store_mem_ops = {
    .name = "memory",
    .open = mem_open,
    .ready = mem_ready,
    .settled = mem_settled,
    .pending = NULL,
    .command = mem_command,
    .batch = mem_batch,
    .eval = mem_eval,
    .subscribe = mem_subscribe,
    .unsubscribe = mem_unsubscribe,
    .close = mem_close,
    .free = mem_free,
};
