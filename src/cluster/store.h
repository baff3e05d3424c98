/*
 * store.h - the state backend under chat, cache, tasks and the cluster
 * (DESIGN.md "State and backends"; spec/cluster.md §1).
 *
 * The interface is Redis's command set, asynchronous, over two backends:
 *
 *   memory  (default)  an in-process keyspace with Redis's semantics for
 *                      the commands listed below, bounded by store.maxKeys
 *                      and store.maxBytes; pub/sub delivers in-process.
 *   redis              hiredis 0.14 async contexts on the libuv loop: a
 *                      `client` and a `tasks` command connection and a
 *                      dedicated `subscriber`; reconnects forever with
 *                      Actionhero's back-off.
 *
 * Callers build Redis commands with Actionhero's / node-resque's key layouts
 * and get the same replies from both backends, so the same feature code and
 * the same tests run on both.
 *
 * The libuv contract holds everywhere: a function taking a callback either
 * returns <0 (the callback never runs) or 0 (it runs exactly once, on the
 * loop thread, never before the function returns).  Everything here runs
 * on the loop thread.
 *
 * Errors (the `status` of a callback):
 *   0            success; `reply` is a non-error reply
 *   AH_EFAIL     the backend refused the command: `reply` is a
 *                STORE_REPLY_ERROR with Redis's text ("WRONGTYPE ...")
 *   AH_ELIMIT    a bound was hit (memory store full, too many commands in
 *                flight): `reply` is a STORE_REPLY_ERROR saying which
 *   AH_EUNAVAIL  Redis is not connected, or the connection was lost before
 *                the reply came: `reply` is NULL.  Fails fast: commands are
 *                never queued while Redis is down.
 *   AH_ESTATE    the store is closing: `reply` is NULL
 * store_strerror() gives one text for any of them.
 *
 * Memory backend commands (Redis semantics, case-insensitive names):
 *   keys     DEL UNLINK EXISTS TYPE EXPIRE PEXPIRE EXPIREAT PEXPIREAT TTL PTTL
 *            PERSIST KEYS SCAN DBSIZE FLUSHDB FLUSHALL PING ECHO SELECT
 *   strings  GET SET(NX XX EX PX KEEPTTL GET) SETNX SETEX PSETEX GETSET MGET
 *            MSET INCR INCRBY DECR DECRBY STRLEN APPEND
 *   lists    LPUSH RPUSH LPOP RPOP (with count) LLEN LRANGE LINDEX LREM LTRIM
 *   sets     SADD SREM SMEMBERS SISMEMBER SCARD
 *   hashes   HSET HSETNX HGET HMGET HDEL HGETALL HKEYS HVALS HLEN HEXISTS
 *            HINCRBY
 *   zsets    ZADD ZREM ZSCORE ZCARD ZRANGE ZRANGEBYSCORE(WITHSCORES LIMIT)
 *            ZREMRANGEBYSCORE ZCOUNT
 *   pub/sub  PUBLISH
 * Anything else answers "ERR unknown command '<name>'".  SCAN on the memory
 * backend returns every match at once (cursor "0"); callers must still loop
 * on the cursor, as Redis needs.  Atomicity: each command is atomic; for
 * read-modify-write use store_multi() or a script (store_eval()).  WATCH,
 * blocking commands and MULTI/EXEC as raw commands are not part of the
 * interface (a command connection is shared by every caller).
 */
#ifndef AH_SRC_CLUSTER_STORE_H
#define AH_SRC_CLUSTER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include <ah/ah.h>

struct store;

enum store_kind {
    STORE_MEMORY = 0,
    STORE_REDIS = 1,
};

/* Command connections (Redis backend; the memory backend has one keyspace).
 * `client`: cache, chat, PUBLISH.  `tasks`: node-resque.  The subscriber is
 * internal (store_subscribe). */
enum store_role {
    STORE_CLIENT = 0,
    STORE_TASKS = 1,
};

/* ------------------------------------------------------------- replies */

/* Values equal hiredis's REDIS_REPLY_* (the Redis backend hands hiredis's
 * replies through without copying; store_redis.c checks the layout). */
enum store_reply_type {
    STORE_REPLY_STR = 1,
    STORE_REPLY_ARRAY = 2,
    STORE_REPLY_INT = 3,
    STORE_REPLY_NIL = 4,
    STORE_REPLY_STATUS = 5,
    STORE_REPLY_ERROR = 6,
};

/* One reply.  STR, STATUS and ERROR: `str` is NUL-terminated (and may hold
 * NULs: use `len`).  ARRAY: `elements` replies in `element`.  A reply handed
 * to a callback is borrowed and valid only during that callback. */
struct store_reply {
    int type;
    long long integer;
    size_t len;
    char *str;
    size_t elements;
    struct store_reply **element;
};

typedef void (*store_cb)(int status, const struct store_reply *reply, void *arg);

/* Text for a failed status: the error reply's text, "redis unavailable",
 * "store is closing", or ah_strerror(status).  Never NULL; valid as long as
 * `reply` is. */
const char *store_strerror(int status, const struct store_reply *reply);

/* The status a reply stands for: 0, or for an error reply AH_ELIMIT ("OOM
 * ...") or AH_EFAIL.  For the elements of a batch's reply. */
int store_reply_status_of(const struct store_reply *r);

/* Owned replies (memory backend, scripts, copies). */
struct store_reply *store_reply_nil(void);
struct store_reply *store_reply_int(long long v);
struct store_reply *store_reply_str(const char *p, size_t n);
struct store_reply *store_reply_status(const char *s);
struct store_reply *store_reply_error(const char *fmt, ...) AH_PRINTF(1, 2);
struct store_reply *store_reply_array(size_t n); /* elements NULL: fill them */
struct store_reply *store_reply_dup(const struct store_reply *r);
void store_reply_free(struct store_reply *r);

/* ------------------------------------------------------------- config */

struct store_config {
    enum store_kind kind;

    /* redis (cluster.md §1) */
    char *host;               /* name or address; resolved off the loop */
    int port;
    int db;
    char *password;           /* NULL: no AUTH */
    uint64_t connect_timeout; /* ms for one connection attempt */
    uint64_t command_timeout; /* ms a reply may take before the connection is dropped */
    uint64_t stop_timeout;    /* ms to let replies arrive when closing */
    uint64_t retry_first;     /* back-off: first retry after this (5000) ... */
    uint64_t retry_step;      /* ... then min(attempt * step, max) (50, 1000) */
    uint64_t retry_max;
    size_t max_pending;       /* commands in flight per connection */

    /* memory */
    size_t max_keys;
    size_t max_bytes;
    uint64_t sweep_interval;  /* ms between expiry sweeps */
};

/* Read the configuration: redis.enabled (false: memory) and the redis.*
 * keys, falling back to REDIS_HOST / REDIS_PORT / REDIS_DB /
 * REDIS_PASSWORD / REDIS_URL / REDIS_SSL when a key is missing; store.*
 * for the memory backend.  Returns 0, or AH_EINVAL with one line in err. */
int store_config_load(ah_app_t *app, struct store_config *cfg, char *err, size_t errlen);
void store_config_defaults(struct store_config *cfg);
void store_config_release(struct store_config *cfg);

/* Parse redis[s]://[[user]:password@]host[:port][/db] into cfg (only the
 * parts present).  Returns 0, or AH_EINVAL with one line in err. */
int store_config_url(struct store_config *cfg, const char *url, char *err, size_t errlen);

/* ------------------------------------------------------------- lifecycle */

/* Create a store on `loop` (cfg is copied).  Nothing connects yet. */
struct store *store_new(uv_loop_t *loop, const struct store_config *cfg);

/* Start: the memory backend is ready at once; the Redis backend starts
 * connecting every connection (and keeps retrying; see cluster.md §1). */
int store_open(struct store *s);

/* Boot helper: run the loop (uv_run ONCE at a time; only before the loop
 * runs, never from a callback) until every Redis connection has either
 * become ready or failed its first attempt, or `timeout_ms` passed.
 * Returns 0 when ready, AH_EUNAVAIL otherwise (the store keeps retrying). */
int store_wait(struct store *s, uint64_t timeout_ms);

enum store_kind store_kind(const struct store *s);
/* Can commands on `role` be sent now? (memory: always, until closed) */
bool store_ready(const struct store *s, enum store_role role);

/* `fn` is called on every change of the client connection's readiness
 * (Redis backend: lost, then back), e.g. for the cluster layer to announce
 * itself again.  Several watchers may be added; remove with the same
 * (fn, arg).  Not called during store_close(). */
typedef void (*store_watch_fn)(struct store *s, bool ready, void *arg);
void store_watch(struct store *s, store_watch_fn fn, void *arg);
void store_unwatch(struct store *s, store_watch_fn fn, void *arg);

/* Begin closing: new commands get AH_ESTATE; Redis connections get up to
 * stop_timeout ms for outstanding replies, then close; pending callbacks
 * run (with their result or an error) on later loop turns.  `done` (may be
 * NULL) runs once when every handle is closed; then the store frees
 * itself.  Do not use `s` after this call. */
void store_close(struct store *s, void (*done)(void *arg), void *arg);

/* ------------------------------------------------------------- commands */

/* One command from NUL-terminated strings, ending with NULL:
 *     store_command(s, on_reply, req, "GET", key, NULL);
 * on the client connection.  `cb` may be NULL (fire and forget).  Returns 0,
 * or (and then cb never runs) AH_EINVAL (no command name), AH_ESTATE
 * (closing) or AH_ELIMIT (more than redis.maxPending commands in flight on
 * that connection, or waiting for delivery on the memory backend).
 * Unavailability and command errors come to the callback. */
int store_command(struct store *s, store_cb cb, void *arg, const char *name, ...);

/* Binary-safe form; `lens` may be NULL (then strlen).  Arguments are copied
 * before this returns. */
int store_commandv(struct store *s, enum store_role role, int argc, const char *const *argv,
                   const size_t *lens, store_cb cb, void *arg);

/* A list of commands for store_multi / store_pipeline.  Arguments are
 * copied into the batch. */
struct store_batch {
    struct store_bcmd *cmds;
    size_t n, cap;
};
#define STORE_BATCH_INIT {NULL, 0, 0}
void store_batch_init(struct store_batch *b);
void store_batch_add(struct store_batch *b, const char *name, ...); /* NULL-terminated */
void store_batch_addv(struct store_batch *b, int argc, const char *const *argv, const size_t *lens);
void store_batch_release(struct store_batch *b);

/* Run the batch atomically (MULTI ... EXEC).  The reply is an array with one
 * reply per command; a command that failed is an error element there (the
 * status is still 0).  An empty batch answers an empty array. */
int store_multi(struct store *s, enum store_role role, const struct store_batch *b,
                store_cb cb, void *arg);

/* Run the batch pipelined, not atomically; same reply shape. */
int store_pipeline(struct store *s, enum store_role role, const struct store_batch *b,
                   store_cb cb, void *arg);

/* ------------------------------------------------------------- scripts */

/* A script is written twice: in Lua for Redis (EVAL), and in C for the
 * memory backend, where it runs synchronously (so atomically) with
 * store_exec() for each command and returns an owned reply shaped like the
 * Lua script's (Lua nil/false -> NIL, numbers -> INT, tables -> ARRAY). */
struct store_exec;
struct store_script {
    const char *name;
    const char *lua;
    struct store_reply *(*mem)(struct store_exec *x, int nkeys, int argc,
                               const char *const *argv, const size_t *lens);
};

/* Inside a memory script: run one command now; returns an owned reply
 * (an error reply on failure). */
struct store_reply *store_exec(struct store_exec *x, const char *name, ...);
struct store_reply *store_execv(struct store_exec *x, int argc, const char *const *argv,
                                const size_t *lens);

/* EVAL: argv holds the `nkeys` keys, then the arguments. */
int store_eval(struct store *s, enum store_role role, const struct store_script *script,
               int nkeys, int argc, const char *const *argv, const size_t *lens,
               store_cb cb, void *arg);

/* ------------------------------------------------------------- pub/sub */

/* Message handler: `msg` is borrowed for the call. */
typedef void (*store_message_fn)(const char *channel, const char *msg, size_t len, void *arg);

/* Register `fn` for `channel` (one handler per channel; registering again
 * replaces it).  The subscription survives reconnects.  `done` (may be
 * NULL) runs once: 0 when the subscription is active, AH_EUNAVAIL if Redis
 * is down now (it will be made when Redis is back). */
int store_subscribe(struct store *s, const char *channel, store_message_fn fn, void *arg,
                    store_cb done, void *done_arg);
/* Drop the subscription; `done` (may be NULL) as above.  AH_ENOTFOUND if not
 * subscribed. */
int store_unsubscribe(struct store *s, const char *channel, store_cb done, void *done_arg);

/* PUBLISH on the client connection; the reply is the number of receivers.
 * Publishers receive their own messages when subscribed. */
int store_publish(struct store *s, const char *channel, const char *msg, size_t len,
                  store_cb cb, void *arg);

/* ------------------------------------------------------------- the app's store */

/* The store of a running app (the `redis` initializer, load priority 200),
 * or NULL before it loads / after it stopped. */
struct store *store_get(ah_app_t *app);

/* Redis glob matching (KEYS, SCAN MATCH): *, ?, [abc], [^a], [a-z], \x. */
bool store_glob_match(const char *pat, size_t plen, const char *s, size_t slen, bool nocase);

#endif /* AH_SRC_CLUSTER_STORE_H */
