/*
 * store_mem_internal.h - what the memory backend's files share: the
 * insertion-ordered hash table (mdict), the value types, the keyspace with
 * its expiry and bounds (store_mem.c), and the command table
 * (store_mem_cmds.c).
 */
#ifndef AH_SRC_CLUSTER_STORE_MEM_INTERNAL_H
#define AH_SRC_CLUSTER_STORE_MEM_INTERNAL_H

#include <sodium.h>

#include "cluster/store_internal.h"

#define KEY_OVERHEAD 64   /* accounted bytes per key ... */
#define ELEM_OVERHEAD 32  /* ... and per element or value */

#define MEM_WRONGTYPE "WRONGTYPE Operation against a key holding the wrong kind of value"

struct mentry {
    struct mentry *hnext;        /* bucket chain */
    struct mentry *prev, *next;  /* insertion order */
    uint64_t h;
    void *val;
    size_t klen;
    char key[];                  /* NUL-terminated */
};

struct mdict {
    struct mentry **b;
    size_t nb, n;
    struct mentry *first, *last;
    const unsigned char *seed;
};

struct mdict *mdict_new(const unsigned char *seed);
struct mentry *mdict_find(const struct mdict *d, const char *k, size_t n);
/* Insert a new key (the caller checked it is absent). */
struct mentry *mdict_add(struct mdict *d, const char *k, size_t n, void *val);
/* Unlink and free the entry (not its value). */
void mdict_del(struct mdict *d, struct mentry *e);
void mdict_free(struct mdict *d, void (*free_val)(void *));

struct sbuf {
    size_t n;
    char p[];   /* NUL-terminated */
};

struct mlist {
    struct sbuf **v;   /* circular */
    size_t head, n, cap;
};

struct zent {
    double score;
    size_t n;
    char m[];
};

struct mzset {
    struct mdict *d;   /* member -> struct zent * (same object as in v) */
    struct zent **v;   /* sorted by (score, member) */
    size_t n, cap;
};

enum { T_STR, T_LIST, T_SET, T_HASH, T_ZSET };

struct mobj {
    int type;
    long long expire;   /* wall ms, 0 = none */
    size_t bytes;       /* accounted payload of the value */
    union {
        struct sbuf *str;
        struct mlist *list;
        struct mdict *set;   /* values unused */
        struct mdict *hash;  /* values are struct sbuf * */
        struct mzset *zset;
    } u;
};

struct mem {
    struct store *s;
    struct mdict *keys;
    unsigned char seed[crypto_shorthash_KEYBYTES];
    size_t used;             /* accounted bytes */
    uv_timer_t sweep;
    struct mentry *sweep_at; /* resume point of the incremental sweep; NULL = start */
};

struct store_exec {
    struct mem *m;
    long long now;
};

struct sbuf *mem_sbuf_new(const char *p, size_t n);
struct sbuf *mlist_at(const struct mlist *l, size_t i);
void mlist_push(struct mlist *l, struct sbuf *b, bool left);
struct sbuf *mlist_pop(struct mlist *l, bool left);

/* The keyspace (store_mem.c). */
void mem_charge(struct mem *m, struct mobj *o, long long delta);
void mem_key_delete(struct mem *m, struct mentry *e);
bool mem_expired(const struct mobj *o, long long now);
/* The live entry for a key, deleting it first if it has expired. */
struct mentry *mem_lookup(struct store_exec *x, const char *k, size_t n);
/* May `extra` more bytes (and a new key if `new_key`) be stored?  NULL or
 * an OOM error reply. */
struct store_reply *mem_room_for(struct store_exec *x, size_t extra, bool new_key);
struct mentry *mem_key_create(struct store_exec *x, const char *k, size_t n, int type);
/* A key of `type` for writing, created (after the bound check for `extra`
 * bytes) when absent; NULL with *err set on failure. */
struct mentry *mem_key_for_write(struct store_exec *x, const char *k, size_t n, int type, size_t extra,
                                 struct store_reply **err);
/* A key for reading: NULL with *err NULL if absent, NULL with *err set if
 * of another type. */
struct mentry *mem_key_for_read(struct store_exec *x, const char *k, size_t n, int type,
                                struct store_reply **err);
/* Delete a collection that became empty (Redis never keeps empty ones). */
void mem_drop_if_empty(struct mem *m, struct mentry *e);

/* The commands (store_mem_cmds.c), sorted by name for bsearch. */
typedef struct store_reply *(*cmd_fn)(struct store_exec *x, int argc, const char *const *argv,
                                      const size_t *lens);
struct mcmd {
    const char *name;
    cmd_fn fn;
    int arity;   /* argc including the name; negative: at least -arity */
};
extern const struct mcmd store_mem_commands[];
extern const size_t store_mem_ncommands;
int mem_cmd_cmp(const void *name, const void *cmd);

#endif /* AH_SRC_CLUSTER_STORE_MEM_INTERNAL_H */
