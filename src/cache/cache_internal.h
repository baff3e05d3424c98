/*
 * cache_internal.h - what the cache's files share: the cache state, the
 * request that walks through a call's steps, and the step helpers
 * (cache.c), the scans and dump files (cache_files.c) and the public
 * wrappers (cache_api.c).
 */
#ifndef AH_SRC_CACHE_CACHE_INTERNAL_H
#define AH_SRC_CACHE_CACHE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include <ah/cache.h>

#include "cache/cache.h"
#include "cluster/store.h"
#include "core/core.h"

#define CACHE_SLOT "cache"
#define LOCK_RETRY_MS 100   /* Actionhero's lockRetry */
#define CHUNK 1000          /* keys per DEL, commands per pipeline */


struct creq;

struct cache {
    int refs;
    bool running;
    ah_app_t *app;
    struct cache_config cfg;
    char *prefix, *lock_prefix;
    char *lock_name;          /* override, or NULL: the server id */
    struct creq *waiting;     /* requests between two lock checks */
};

typedef void (*step_fn)(struct creq *q, int status, const struct store_reply *r);

struct creq {
    struct cache *c;
    ah_app_t *app;

    /* who gets the result */
    ah_ctx_t *ctx;
    ah_cache_cb ctx_cb;
    ah_cache_app_cb app_cb;
    void *arg;

    step_fn next;              /* the step a store reply goes to */
    char *key, *full, *lock_key;
    char *payload;
    size_t plen;
    long long expire_ms;

    /* lock check */
    long long retry_ms;
    bool ignore_lock;
    uint64_t lock_start;
    void (*after_lock)(struct creq *q, bool ok);
    uv_timer_t *timer;
    struct creq *wprev, *wnext; /* in c->waiting while the timer runs */
    bool in_wait;

    /* scan */
    char *pattern;
    long long count;
    char cursor[32];
    json_t *keys;
    void (*after_scan)(struct creq *q);
    size_t idx;

    /* load */
    json_t *obj;

    /* dump files */
    char *file;
    uv_fs_t fs;
    uv_file fd;
    struct buf data;
    size_t off;
    json_t *dump;
};

extern const char cache_e_notfound[];  /* "Object not found" */
extern const char cache_e_locked[];    /* "Object locked" */
extern const char cache_e_noredis[];   /* "redis not connected, cache cannot be used" */

/* Requests (cache.c).  A new request on the app's running cache, or NULL. */
struct creq *cache_req_new(ah_app_t *app, const char *key);
/* The first step's result: on failure the request is freed and rc returned
 * (the callback never runs); else 0. */
int cache_start_req(struct creq *q, int rc);
/* Deliver the result (taken) and free the request. */
void cache_finish(struct creq *q, int status, json_t *result, const char *error);
/* A failed store step: Redis down becomes cache_e_noredis. */
void cache_fail_store(struct creq *q, int status, const struct store_reply *r);
/* A store command whose reply goes to `next`; NULL-terminated strings. */
int cache_sendv(struct creq *q, step_fn next, int argc, const char *const *argv, const size_t *lens);
int cache_send_cmd(struct creq *q, step_fn next, const char *name, ...);
/* store_cb that hands the reply to q->next. */
void cache_on_store(int status, const struct store_reply *r, void *arg);
/* In a later step: a send that failed at once still ends the request. */
void cache_later(struct creq *q, int rc);

/* JSON as JavaScript sees it. */
json_t *cache_parse_json(const char *s, size_t n, json_error_t *err);
json_t *cache_js_string(const char *s, size_t n);
char *cache_dump_json(json_t *v, size_t *len);

/* The operations: each runs its first step and returns cache_start_req(). */
int cache_op_save(struct creq *q, json_t *value, long long expire_ms);
int cache_op_load(struct creq *q, const ah_cache_load_opts_t *opts);
int cache_op_destroy(struct creq *q);
int cache_op_push(struct creq *q, json_t *item);
int cache_op_pop(struct creq *q);
int cache_op_llen(struct creq *q);
int cache_op_lock(struct creq *q, long long expire_ms);
int cache_op_unlock(struct creq *q);
int cache_op_check_lock(struct creq *q, long long retry_ms, bool ignore);

/* cache_files.c: SCAN <prefix><scope>* (or `pattern`), then the kind's step. */
enum cache_scan { CACHE_SCAN_KEYS, CACHE_SCAN_SIZE, CACHE_SCAN_CLEAR };
int cache_op_scan(struct creq *q, const char *prefix, const char *scope, const char *pattern, long long count,
                  enum cache_scan kind);
int cache_op_dump_write(struct creq *q, const char *file);
int cache_op_dump_read(struct creq *q, const char *file);

#endif /* AH_SRC_CACHE_CACHE_INTERNAL_H */
