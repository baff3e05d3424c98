/*
 * store_internal.h - what store.c shares with its two backends: the backend
 * operations, the deferred-completion queue that keeps the libuv contract
 * ("never called inline"), and the subscription registry.
 */
#ifndef AH_SRC_CLUSTER_STORE_INTERNAL_H
#define AH_SRC_CLUSTER_STORE_INTERNAL_H

#include "cluster/store.h"

/* One command of a batch: its own copies of the arguments. */
struct store_bcmd {
    int argc;
    char **argv;
    size_t *lens;
};

/* A backend.  Every operation is called only while the store is open and
 * must complete through store_complete() / store_defer() (or, for the Redis
 * backend, from a hiredis callback, which never runs inline). */
struct store_ops {
    const char *name;
    int (*open)(struct store *s);
    bool (*ready)(const struct store *s, enum store_role role);
    /* true once every connection has been ready or failed once */
    bool (*settled)(const struct store *s);
    /* commands in flight on `role` (Redis), or NULL: count the queue */
    size_t (*pending)(const struct store *s, enum store_role role);
    void (*command)(struct store *s, enum store_role role, int argc, const char *const *argv,
                    const size_t *lens, store_cb cb, void *arg);
    void (*batch)(struct store *s, enum store_role role, const struct store_batch *b, bool atomic,
                  store_cb cb, void *arg);
    void (*eval)(struct store *s, enum store_role role, const struct store_script *script, int nkeys,
                 int argc, const char *const *argv, const size_t *lens, store_cb cb, void *arg);
    /* the registry already holds `channel`; make/drop the subscription */
    void (*subscribe)(struct store *s, const char *channel, store_cb done, void *done_arg);
    void (*unsubscribe)(struct store *s, const char *channel, store_cb done, void *done_arg);
    /* begin closing; call store_backend_closed() once when every handle is closed */
    void (*close)(struct store *s);
    void (*free)(struct store *s);
};

extern const struct store_ops store_mem_ops;
extern const struct store_ops store_redis_ops;

struct store_defer;

struct store_sub {
    char *channel;
    store_message_fn fn;
    void *arg;
};

struct store {
    uv_loop_t *loop;
    struct store_config cfg;
    const struct store_ops *ops;
    void *impl;                      /* the backend's state */

    bool opened;
    bool closing;
    bool backend_closed;
    void (*close_done)(void *arg);
    void *close_arg;

    /* completions waiting for the next loop turn */
    uv_idle_t idle;
    bool idle_active;
    struct store_defer *head, *tail;

    struct store_sub *subs;
    size_t nsubs;

    struct store_watcher {
        store_watch_fn fn;
        void *arg;
    } *watchers;
    size_t nwatchers;

    size_t ndefer;                   /* completions queued (memory backend's bound) */
};

/* Queue cb(status, reply, arg) for the next loop turn; takes `reply` (may
 * be NULL). */
void store_defer(struct store *s, store_cb cb, void *arg, int status, struct store_reply *reply_take);
/* Same, with the status derived from the reply (error reply -> AH_EFAIL, or
 * AH_ELIMIT for "OOM ..."). */
void store_complete(struct store *s, store_cb cb, void *arg, struct store_reply *reply_take);
/* Deliver a pub/sub message on the next loop turn (memory backend), or now
 * (from a hiredis callback). */
void store_deliver_later(struct store *s, const char *channel, const char *msg, size_t len);
void store_deliver_now(struct store *s, const char *channel, const char *msg, size_t len);
struct store_sub *store_find_sub(struct store *s, const char *channel);
/* The backend has closed every handle. */
void store_backend_closed(struct store *s);
/* The Redis client connection changed readiness. */
void store_notify_ready(struct store *s, bool ready);

/* Parse a Redis-style integer (no spaces, no '+', no leading zeros). */
bool store_parse_ll(const char *p, size_t n, long long *out);

#endif /* AH_SRC_CLUSTER_STORE_INTERNAL_H */
