/*
 * store_redis.c - the Redis backend: hiredis 0.14 async contexts driven by
 * its libuv adapter, never a blocking call on the loop.
 *
 * Three connections, as Actionhero has (cluster.md §1): `client` and `tasks`
 * for commands, `subscriber` for SUBSCRIBE only.  Each one runs the same
 * state machine:
 *
 *   resolve (uv_getaddrinfo, skipped for an address) -> connect (hiredis,
 *   non-blocking) -> handshake (AUTH when a password is set, SELECT db;
 *   the subscriber then re-SUBSCRIBEs every registered channel) -> ready
 *   -> (error, EOF, timeout) -> wait -> resolve ...
 *
 * Back-off is Actionhero's retryStrategy: after a lost connection or a
 * failed attempt, the first retry waits redis.retryFirstDelay (5000 ms) and
 * prints "Unable to connect to Redis - please check your Redis config!" to
 * stderr; the n-th waits min(n * retryStep, retryMaxDelay).  A successful
 * handshake resets the count.
 *
 * While a connection is not ready its commands fail at once with
 * AH_EUNAVAIL (no offline queue: nothing hangs); commands in flight when it
 * drops fail the same way.  A reply slower than redis.commandTimeout, or an
 * attempt slower than redis.connectTimeout, drops the connection (a hung
 * Redis must not hang the server).  In-flight commands per connection are
 * bounded by redis.maxPending.
 *
 * hiredis facts this relies on (async.c of 0.14.1): pending callbacks get a
 * NULL reply when the context is freed or lost; a context whose connect
 * failed is freed by hiredis after the connect callback; redisAsyncFree()
 * from inside a hiredis callback is deferred until that callback returns;
 * the disconnect callback runs only for contexts that had connected.
 */
#include "cluster/store_internal.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/adapters/libuv.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "core/core.h"
#include "log/log.h"

/* The reply layout is hiredis's, so replies pass through uncopied. */
_Static_assert(sizeof(struct store_reply) == sizeof(redisReply), "store_reply layout");
_Static_assert(offsetof(struct store_reply, integer) == offsetof(redisReply, integer), "integer");
_Static_assert(offsetof(struct store_reply, len) == offsetof(redisReply, len), "len");
_Static_assert(offsetof(struct store_reply, str) == offsetof(redisReply, str), "str");
_Static_assert(offsetof(struct store_reply, elements) == offsetof(redisReply, elements), "elements");
_Static_assert(offsetof(struct store_reply, element) == offsetof(redisReply, element), "element");
_Static_assert(STORE_REPLY_STR == REDIS_REPLY_STRING && STORE_REPLY_ARRAY == REDIS_REPLY_ARRAY &&
               STORE_REPLY_INT == REDIS_REPLY_INTEGER && STORE_REPLY_NIL == REDIS_REPLY_NIL &&
               STORE_REPLY_STATUS == REDIS_REPLY_STATUS && STORE_REPLY_ERROR == REDIS_REPLY_ERROR,
               "reply types");

enum cstate {
    C_IDLE,       /* not started, or waiting for a retry */
    C_RESOLVING,
    C_CONNECTING,
    C_HANDSHAKE,
    C_READY,
    C_DOWN,       /* the context is going away; a retry follows */
    C_CLOSED,
};

enum { R_CLIENT, R_TASKS, R_SUB, R_COUNT };
static const char *const role_names[R_COUNT] = {"client", "tasks", "subscriber"};

struct redis;
struct rbatch;

/* One command in flight. */
enum rkind { Q_USER, Q_INTERNAL, Q_HANDSHAKE_LAST, Q_BATCH };
struct rreq {
    struct rreq *prev, *next;
    struct rconn *c;
    enum rkind kind;
    uint64_t sent;          /* monotonic ms */
    store_cb cb;
    void *arg;
    struct rbatch *batch;   /* Q_BATCH */
    size_t index;           /* reply slot in the batch; SIZE_MAX: ignore (MULTI, QUEUED) */
};

/* A pipeline or MULTI/EXEC: replies collected, one callback. */
struct rbatch {
    int refs;
    bool atomic;
    bool failed;            /* a part got no reply */
    bool delivered;
    size_t n;
    struct store_reply *replies;   /* ARRAY being filled (pipeline) */
    struct store_reply *exec;      /* the EXEC reply (multi) */
    store_cb cb;
    void *arg;
};

/* Someone waiting for a SUBSCRIBE / UNSUBSCRIBE confirmation. */
struct rwaiter {
    struct rwaiter *next;
    char *channel;
    bool unsub;
    store_cb done;
    void *arg;
};

struct gai {
    uv_getaddrinfo_t req;
    struct rconn *c;
    unsigned gen;
};

struct rconn {
    struct redis *r;
    int role;
    const char *name;
    enum cstate state;
    redisAsyncContext *ac;
    unsigned gen;             /* attempt number; stale resolutions are ignored */
    bool tried;               /* the first attempt has finished */
    bool announced;           /* "Unable to connect" printed for this outage */
    unsigned attempt;         /* failures since the last ready */
    uint64_t attempt_start;   /* monotonic ms */
    uint64_t close_deadline;
    struct rreq *head, *tail; /* in flight, oldest first */
    size_t inflight;
    uv_timer_t retry;
    bool retry_closed;
};

struct redis {
    struct store *s;
    struct rconn conns[R_COUNT];
    uv_timer_t tick;
    bool tick_closed;
    unsigned pending_gai;
    struct rwaiter *waiters;
    bool closing;
    bool closed_reported;
};

static void conn_start(struct rconn *c);
static void conn_drop(struct rconn *c, const char *why);
static void maybe_closed(struct redis *r);
static void subscribe_all(struct rconn *c);

static struct redis *red(const struct store *s)
{
    return s->impl;
}

static void conn_log(int level, struct rconn *c, const char *what, const char *detail)
{
    json_t *data = json_object();

    if (detail)
        json_object_set_new(data, "error", json_string(detail));
    json_object_set_new(data, "host", json_string(c->r->s->cfg.host));
    json_object_set_new(data, "port", json_integer(c->r->s->cfg.port));
    log_msg(level, data, "Redis connection `%s` %s", c->name, what);
    json_decref(data);
}

/* ------------------------------------------------------------- requests */

static struct rreq *req_new(struct rconn *c, enum rkind kind, store_cb cb, void *arg)
{
    struct rreq *q = xcalloc(1, sizeof(*q));

    q->c = c;
    q->kind = kind;
    q->cb = cb;
    q->arg = arg;
    q->sent = core_mono_ms();
    q->index = SIZE_MAX;
    return q;
}

static void req_link(struct rconn *c, struct rreq *q)
{
    q->prev = c->tail;
    q->next = NULL;
    if (c->tail)
        c->tail->next = q;
    else
        c->head = q;
    c->tail = q;
    c->inflight++;
}

static void req_unlink(struct rreq *q)
{
    struct rconn *c = q->c;

    if (q->prev)
        q->prev->next = q->next;
    else
        c->head = q->next;
    if (q->next)
        q->next->prev = q->prev;
    else
        c->tail = q->prev;
    c->inflight--;
}

static void batch_finish(struct store *s, struct rbatch *b)
{
    struct store_reply *r;

    if (b->delivered)
        return;
    b->delivered = true;
    if (b->failed) {
        store_defer(s, b->cb, b->arg, AH_EUNAVAIL, NULL);
        return;
    }
    if (b->atomic) {
        r = b->exec;
        b->exec = NULL;
        store_complete(s, b->cb, b->arg, r ? r : store_reply_nil());
    } else {
        r = b->replies;
        b->replies = NULL;
        store_defer(s, b->cb, b->arg, 0, r);
    }
}

/* The last reference (the issuer's, or the last part's) delivers. */
static void batch_unref(struct store *s, struct rbatch *b)
{
    if (--b->refs > 0)
        return;
    batch_finish(s, b);
    store_reply_free(b->replies);
    store_reply_free(b->exec);
    free(b);
}

static void on_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    struct rreq *q = priv;
    struct rconn *c = q->c;
    struct store *s = c->r->s;
    struct store_reply *r = reply;

    req_unlink(q);
    if (r == NULL && c->ac == ac && c->state != C_CLOSED)
        c->state = C_DOWN; /* lost: later commands fail fast until the retry */
    switch (q->kind) {
    case Q_USER:
        if (r == NULL)
            store_defer(s, q->cb, q->arg, AH_EUNAVAIL, NULL);
        else if (q->cb)
            q->cb(store_reply_status_of(r), r, q->arg);
        break;
    case Q_BATCH: {
        struct rbatch *b = q->batch;

        if (r == NULL)
            b->failed = true;
        else if (q->index == SIZE_MAX - 1)
            b->exec = store_reply_dup(r);
        else if (q->index != SIZE_MAX && b->replies)
            b->replies->element[q->index] = store_reply_dup(r);
        batch_unref(s, b);
        break;
    }
    case Q_INTERNAL:
    case Q_HANDSHAKE_LAST:
        if (r != NULL && r->type == STORE_REPLY_ERROR && c->ac == ac && c->state == C_HANDSHAKE) {
            conn_log(AH_LOG_ALERT, c, "error", r->str);
            conn_drop(c, NULL);
        } else if (r != NULL && q->kind == Q_HANDSHAKE_LAST && c->ac == ac && c->state == C_HANDSHAKE) {
            c->state = C_READY;
            c->attempt = 0;
            c->announced = false;
            c->tried = true;
            conn_log(AH_LOG_DEBUG, c, "ready", NULL);
            if (c->role == R_SUB)
                subscribe_all(c);
            if (c->role == R_CLIENT)
                store_notify_ready(s, true);
        }
        break;
    }
    free(q);
}

/* Send one command on `c`; false if hiredis refused it (then q is freed). */
static bool send_argv(struct rconn *c, struct rreq *q, int argc, const char *const *argv, const size_t *lens)
{
    const char **v = xcalloc((size_t)argc, sizeof(*v));
    int i, rc;

    for (i = 0; i < argc; i++)
        v[i] = argv[i];
    rc = redisAsyncCommandArgv(c->ac, on_reply, q, argc, v, lens);
    free(v);
    if (rc != REDIS_OK) {
        free(q);
        return false;
    }
    req_link(c, q);
    return true;
}

static struct rconn *conn_for(struct store *s, enum store_role role)
{
    return &red(s)->conns[role == STORE_TASKS ? R_TASKS : R_CLIENT];
}

/* 0 when `c` can take commands now, else AH_EUNAVAIL (the in-flight bound
 * is checked by store.c before we are called). */
static int can_send(const struct rconn *c)
{
    return c->state == C_READY && c->ac != NULL ? 0 : AH_EUNAVAIL;
}

static void fail_send(struct store *s, int status, store_cb cb, void *arg)
{
    store_defer(s, cb, arg, status, NULL);
}

static void r_command(struct store *s, enum store_role role, int argc, const char *const *argv,
                      const size_t *lens, store_cb cb, void *arg)
{
    struct rconn *c = conn_for(s, role);
    int st = can_send(c);

    if (st < 0) {
        fail_send(s, st, cb, arg);
        return;
    }
    if (!send_argv(c, req_new(c, Q_USER, cb, arg), argc, argv, lens))
        store_defer(s, cb, arg, AH_EUNAVAIL, NULL);
}

static bool send_part(struct rconn *c, struct rbatch *b, size_t index, int argc, const char *const *argv,
                      const size_t *lens)
{
    struct rreq *q = req_new(c, Q_BATCH, NULL, NULL);

    q->batch = b;
    q->index = index;
    if (!send_argv(c, q, argc, argv, lens))
        return false;
    b->refs++;
    return true;
}

static void r_batch(struct store *s, enum store_role role, const struct store_batch *bt, bool atomic,
                    store_cb cb, void *arg)
{
    static const char *const multi[] = {"MULTI"}, *const exec[] = {"EXEC"};
    struct rconn *c = conn_for(s, role);
    struct rbatch *b;
    bool ok = true;
    size_t i;
    int st = can_send(c);

    if (st < 0) {
        fail_send(s, st, cb, arg);
        return;
    }
    b = xcalloc(1, sizeof(*b));
    b->refs = 1; /* the issuer's, dropped below */
    b->atomic = atomic;
    b->n = bt->n;
    b->cb = cb;
    b->arg = arg;
    if (!atomic)
        b->replies = store_reply_array(bt->n);
    if (atomic)
        ok = send_part(c, b, SIZE_MAX, 1, multi, NULL);
    for (i = 0; ok && i < bt->n; i++)
        ok = send_part(c, b, atomic ? SIZE_MAX : i, bt->cmds[i].argc, (const char *const *)bt->cmds[i].argv,
                       bt->cmds[i].lens);
    if (ok && atomic)
        ok = send_part(c, b, SIZE_MAX - 1, 1, exec, NULL);
    if (!ok) {
        /* hiredis refused a part: fail now; replies to parts already sent
         * are dropped when they come */
        b->failed = true;
        batch_finish(s, b);
    }
    batch_unref(s, b);
}

static void r_eval(struct store *s, enum store_role role, const struct store_script *script, int nkeys,
                   int argc, const char *const *argv, const size_t *lens, store_cb cb, void *arg)
{
    const char **v = xcalloc((size_t)argc + 3, sizeof(*v));
    size_t *l = xcalloc((size_t)argc + 3, sizeof(*l));
    char nk[16];
    int i;

    snprintf(nk, sizeof(nk), "%d", nkeys);
    v[0] = "EVAL";
    l[0] = 4;
    v[1] = script->lua;
    l[1] = strlen(script->lua);
    v[2] = nk;
    l[2] = strlen(nk);
    for (i = 0; i < argc; i++) {
        v[i + 3] = argv[i];
        l[i + 3] = lens[i];
    }
    r_command(s, role, argc + 3, v, l, cb, arg);
    free(v);
    free(l);
}

/* ------------------------------------------------------------- pub/sub */

static void waiter_add(struct redis *r, const char *channel, bool unsub, store_cb done, void *arg)
{
    struct rwaiter *w = xcalloc(1, sizeof(*w)), **pp = &r->waiters;

    w->channel = xstrdup(channel);
    w->unsub = unsub;
    w->done = done;
    w->arg = arg;
    while (*pp)
        pp = &(*pp)->next;
    *pp = w;
}

/* Complete the waiters for (channel, unsub), or all of them when channel is
 * NULL, with `status`. */
static void waiters_resolve(struct redis *r, const char *channel, size_t len, bool unsub, int status)
{
    struct rwaiter **pp = &r->waiters, *w;

    while ((w = *pp) != NULL) {
        if (channel == NULL ||
            (w->unsub == unsub && strlen(w->channel) == len && memcmp(w->channel, channel, len) == 0)) {
            *pp = w->next;
            store_defer(r->s, w->done, w->arg, status, status == 0 ? store_reply_int(1) : NULL);
            free(w->channel);
            free(w);
        } else {
            pp = &w->next;
        }
    }
}

static void on_sub_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    struct rconn *c = priv;
    struct store_reply *m = reply;
    const struct store_reply *kind;

    if (m == NULL || c->ac != ac || m->type != STORE_REPLY_ARRAY || m->elements < 3)
        return;
    kind = m->element[0];
    if (kind->type != STORE_REPLY_STR || m->element[1]->type != STORE_REPLY_STR)
        return;
    if (strcasecmp(kind->str, "message") == 0 && m->element[2]->type == STORE_REPLY_STR) {
        char *ch = xstrndup(m->element[1]->str, m->element[1]->len);

        store_deliver_now(c->r->s, ch, m->element[2]->str, m->element[2]->len);
        free(ch);
    } else if (strcasecmp(kind->str, "subscribe") == 0) {
        waiters_resolve(c->r, m->element[1]->str, m->element[1]->len, false, 0);
    } else if (strcasecmp(kind->str, "unsubscribe") == 0) {
        waiters_resolve(c->r, m->element[1]->str, m->element[1]->len, true, 0);
    }
}

static bool send_sub(struct rconn *c, const char *verb, const char *channel)
{
    const char *argv[2] = {verb, channel};

    /* The callback is kept by hiredis per channel: it is not one of ours in
     * the in-flight list.  hiredis refuses UNSUBSCRIBE on a context that
     * never subscribed. */
    return redisAsyncCommandArgv(c->ac, on_sub_reply, c, 2, argv, NULL) == REDIS_OK;
}

static void subscribe_all(struct rconn *c)
{
    struct store *s = c->r->s;
    size_t i;

    for (i = 0; i < s->nsubs; i++)
        send_sub(c, "SUBSCRIBE", s->subs[i].channel);
}

static void r_subscribe(struct store *s, const char *channel, store_cb done, void *done_arg)
{
    struct rconn *c = &red(s)->conns[R_SUB];

    if (c->state == C_READY || c->state == C_RESOLVING || c->state == C_CONNECTING ||
        c->state == C_HANDSHAKE) {
        /* an attempt in progress subscribes every registered channel when
         * it becomes ready (or fails the waiter when it fails) */
        if (done)
            waiter_add(red(s), channel, false, done, done_arg);
        if (c->state == C_READY)
            send_sub(c, "SUBSCRIBE", channel);
        return;
    }
    if (done)
        store_defer(s, done, done_arg, AH_EUNAVAIL, NULL);
}

static void r_unsubscribe(struct store *s, const char *channel, store_cb done, void *done_arg)
{
    struct rconn *c = &red(s)->conns[R_SUB];

    if (c->state != C_READY) {
        /* nothing to undo: the channel is gone from the registry, so the
         * next connection will not subscribe it */
        if (done)
            store_defer(s, done, done_arg, 0, store_reply_int(0));
        return;
    }
    if (!send_sub(c, "UNSUBSCRIBE", channel)) {
        if (done)
            store_defer(s, done, done_arg, 0, store_reply_int(0));
        return;
    }
    if (done)
        waiter_add(red(s), channel, true, done, done_arg);
}

/* ------------------------------------------------------------- connections */

static uint64_t backoff(struct rconn *c)
{
    const struct store_config *cfg = &c->r->s->cfg;
    uint64_t d;

    if (c->attempt <= 1)
        return cfg->retry_first;
    d = (uint64_t)c->attempt * cfg->retry_step;
    return d < cfg->retry_max ? d : cfg->retry_max;
}

static void on_retry(uv_timer_t *t)
{
    struct rconn *c = t->data;

    if (c->r->closing || c->state != C_IDLE)
        return;
    conn_start(c);
}

static void schedule_retry(struct rconn *c)
{
    uint64_t delay;

    c->tried = true;
    if (c->role == R_SUB)
        waiters_resolve(c->r, NULL, 0, false, AH_EUNAVAIL);
    if (c->r->closing) {
        c->state = C_CLOSED;
        maybe_closed(c->r);
        return;
    }
    c->attempt++;
    delay = backoff(c);
    if (c->attempt == 1 && !c->announced) {
        /* Actionhero's retryStrategy prints this with console.error */
        fprintf(stderr, "Unable to connect to Redis - please check your Redis config!\n");
        fflush(stderr);
        c->announced = true;
    }
    conn_log(AH_LOG_INFO, c, "reconnecting", NULL);
    c->state = C_IDLE;
    uv_timer_start(&c->retry, on_retry, delay, 0);
}

/* Forget the current context (freeing it if we still own it) and retry.
 * `why` is logged at alert when given. */
static void conn_drop(struct rconn *c, const char *why)
{
    redisAsyncContext *ac = c->ac;
    bool was_ready = c->state == C_READY || c->state == C_DOWN;

    if (why)
        conn_log(AH_LOG_ALERT, c, "error", why);
    c->ac = NULL;
    c->state = C_DOWN;
    if (ac)
        redisAsyncFree(ac); /* pending callbacks get NULL: AH_EUNAVAIL */
    if (c->role == R_SUB)
        waiters_resolve(c->r, NULL, 0, false, AH_EUNAVAIL);
    if (was_ready) {
        conn_log(AH_LOG_DEBUG, c, "closed", NULL);
        if (c->role == R_CLIENT)
            store_notify_ready(c->r->s, false);
    }
    schedule_retry(c);
}

static void on_connect(const redisAsyncContext *cac, int status)
{
    struct rconn *c = cac->data;
    redisAsyncContext *ac;
    char db[16];
    const char *sel[2] = {"SELECT", db};
    const struct store_config *cfg;

    if (c == NULL || c->ac != cac)
        return;
    ac = c->ac;
    cfg = &c->r->s->cfg;
    if (status != REDIS_OK) {
        /* hiredis frees the context after this callback */
        conn_log(AH_LOG_ALERT, c, "error", cac->errstr ? cac->errstr : "connect failed");
        c->ac = NULL;
        c->state = C_DOWN;
        schedule_retry(c);
        return;
    }
    conn_log(AH_LOG_DEBUG, c, "connected", NULL);
    c->state = C_HANDSHAKE;
    if (cfg->password) {
        const char *auth[2] = {"AUTH", cfg->password};

        if (!send_argv(c, req_new(c, Q_INTERNAL, NULL, NULL), 2, auth, NULL))
            goto fail;
    }
    snprintf(db, sizeof(db), "%d", cfg->db);
    if (!send_argv(c, req_new(c, Q_HANDSHAKE_LAST, NULL, NULL), 2, sel, NULL))
        goto fail;
    return;
fail:
    conn_drop(c, "cannot send the handshake");
    (void)ac;
}

static void on_disconnect(const redisAsyncContext *cac, int status)
{
    struct rconn *c = cac->data;

    if (c == NULL || c->ac != cac)
        return; /* a context we freed ourselves */
    c->ac = NULL;
    if (c->r->closing) {
        c->state = C_CLOSED;
        maybe_closed(c->r);
        return;
    }
    if (status != REDIS_OK)
        conn_log(AH_LOG_ALERT, c, "error", cac->errstr ? cac->errstr : "connection lost");
    if (c->role == R_SUB)
        waiters_resolve(c->r, NULL, 0, false, AH_EUNAVAIL);
    conn_log(AH_LOG_DEBUG, c, "closed", NULL);
    if (c->state == C_READY || c->state == C_DOWN) {
        if (c->role == R_CLIENT)
            store_notify_ready(c->r->s, false);
    }
    c->state = C_DOWN;
    schedule_retry(c);
}

/* hiredis 0.14's libuv adapter drops poll errors (`if (status != 0)
 * return;`), but libuv reports a refused connect or a reset socket exactly
 * that way (an error status, the handle already stopped), so the context
 * would hang until a timeout.  We keep the adapter's attach and cleanup (its
 * redisLibuvEvents and the uv_close) and install event hooks whose callback
 * lets hiredis read or write anyway on an error, so that it sees the socket
 * error itself (what later hiredis versions do). */
static void on_poll(uv_poll_t *h, int status, int events)
{
    redisLibuvEvents *p = h->data;
    int ev = status < 0 ? p->events : events;

    if (p->context != NULL && (ev & UV_READABLE))
        redisAsyncHandleRead(p->context);
    if (p->context != NULL && (ev & UV_WRITABLE))
        redisAsyncHandleWrite(p->context);
}

static void poll_update(redisLibuvEvents *p)
{
    if (p->events)
        uv_poll_start(&p->handle, p->events, on_poll);
    else
        uv_poll_stop(&p->handle);
}

static void ev_add_read(void *d)
{
    ((redisLibuvEvents *)d)->events |= UV_READABLE;
    poll_update(d);
}

static void ev_del_read(void *d)
{
    ((redisLibuvEvents *)d)->events &= ~UV_READABLE;
    poll_update(d);
}

static void ev_add_write(void *d)
{
    ((redisLibuvEvents *)d)->events |= UV_WRITABLE;
    poll_update(d);
}

static void ev_del_write(void *d)
{
    ((redisLibuvEvents *)d)->events &= ~UV_WRITABLE;
    poll_update(d);
}

static void conn_connect(struct rconn *c, const char *ip)
{
    const struct store_config *cfg = &c->r->s->cfg;
    redisAsyncContext *ac = redisAsyncConnect(ip, cfg->port);

    if (ac == NULL) {
        conn_log(AH_LOG_ALERT, c, "error", "cannot allocate a connection");
        c->state = C_DOWN;
        schedule_retry(c);
        return;
    }
    if (ac->err) {
        conn_log(AH_LOG_ALERT, c, "error", ac->errstr);
        redisAsyncFree(ac);
        c->state = C_DOWN;
        schedule_retry(c);
        return;
    }
    if (redisLibuvAttach(ac, c->r->s->loop) != REDIS_OK) {
        conn_log(AH_LOG_ALERT, c, "error", "cannot attach the connection to the loop");
        redisAsyncFree(ac);
        c->state = C_DOWN;
        schedule_retry(c);
        return;
    }
    ac->ev.addRead = ev_add_read;
    ac->ev.delRead = ev_del_read;
    ac->ev.addWrite = ev_add_write;
    ac->ev.delWrite = ev_del_write;
    ac->data = c;
    /* (setting the connect callback starts waiting for writability) */
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    c->ac = ac;
    c->state = C_CONNECTING;
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct gai *g = req->data;
    struct rconn *c = g->c;
    char ip[INET6_ADDRSTRLEN] = "";
    struct addrinfo *ai;

    c->r->pending_gai--;
    if (c->r->closing || g->gen != c->gen || c->state != C_RESOLVING) {
        uv_freeaddrinfo(res);
        free(g);
        maybe_closed(c->r);
        return;
    }
    for (ai = status == 0 ? res : NULL; ai && ip[0] == '\0'; ai = ai->ai_next) {
        if (ai->ai_family == AF_INET)
            inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)ai->ai_addr)->sin_addr, ip, sizeof(ip));
        else if (ai->ai_family == AF_INET6)
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)ai->ai_addr)->sin6_addr, ip, sizeof(ip));
    }
    uv_freeaddrinfo(res);
    free(g);
    if (ip[0] == '\0') {
        char why[300];

        snprintf(why, sizeof(why), "cannot resolve '%s': %s", c->r->s->cfg.host,
                 status < 0 ? uv_strerror(status) : "no address");
        conn_log(AH_LOG_ALERT, c, "error", why);
        c->state = C_DOWN;
        schedule_retry(c);
        return;
    }
    conn_connect(c, ip);
}

static void conn_start(struct rconn *c)
{
    const char *host = c->r->s->cfg.host;
    unsigned char tmp[sizeof(struct in6_addr)];
    struct addrinfo hints;
    struct gai *g;
    int rc;

    c->gen++;
    c->attempt_start = core_mono_ms();
    c->state = C_RESOLVING;
    if (inet_pton(AF_INET, host, tmp) == 1 || inet_pton(AF_INET6, host, tmp) == 1) {
        conn_connect(c, host);
        return;
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    g = xcalloc(1, sizeof(*g));
    g->c = c;
    g->gen = c->gen;
    g->req.data = g;
    rc = uv_getaddrinfo(c->r->s->loop, &g->req, on_resolved, host, NULL, &hints);
    if (rc < 0) {
        free(g);
        conn_log(AH_LOG_ALERT, c, "error", uv_strerror(rc));
        c->state = C_DOWN;
        schedule_retry(c);
        return;
    }
    c->r->pending_gai++;
}

/* Connect and command timeouts, checked a few times per timeout period. */
static void on_tick(uv_timer_t *t)
{
    struct redis *r = t->data;
    const struct store_config *cfg = &r->s->cfg;
    uint64_t now = core_mono_ms();
    int i;

    for (i = 0; i < R_COUNT; i++) {
        struct rconn *c = &r->conns[i];
        char why[128];

        if (r->closing) {
            if (c->ac && c->close_deadline && now >= c->close_deadline) {
                redisAsyncContext *ac = c->ac;

                c->ac = NULL;
                c->state = C_CLOSED;
                redisAsyncFree(ac);
            }
            continue;
        }
        if ((c->state == C_RESOLVING || c->state == C_CONNECTING || c->state == C_HANDSHAKE) &&
            now - c->attempt_start >= cfg->connect_timeout) {
            snprintf(why, sizeof(why), "connect timeout after %llu ms",
                     (unsigned long long)cfg->connect_timeout);
            conn_drop(c, why);
        } else if (c->state == C_READY && c->head && now - c->head->sent >= cfg->command_timeout) {
            snprintf(why, sizeof(why), "no reply in %llu ms (redis.commandTimeout): reconnecting",
                     (unsigned long long)cfg->command_timeout);
            conn_drop(c, why);
        }
    }
    if (r->closing)
        maybe_closed(r);
}

/* ------------------------------------------------------------- the backend */

static int r_open(struct store *s)
{
    struct redis *r = xcalloc(1, sizeof(*r));
    uint64_t period;
    int i;

    r->s = s;
    s->impl = r;
    period = (s->cfg.connect_timeout < s->cfg.command_timeout ? s->cfg.connect_timeout
                                                                : s->cfg.command_timeout) / 4;
    if (period < 10)
        period = 10;
    if (period > 1000)
        period = 1000;
    uv_timer_init(s->loop, &r->tick);
    r->tick.data = r;
    uv_timer_start(&r->tick, on_tick, period, period);
    uv_unref((uv_handle_t *)&r->tick);
    for (i = 0; i < R_COUNT; i++) {
        struct rconn *c = &r->conns[i];

        c->r = r;
        c->role = i;
        c->name = role_names[i];
        c->state = C_IDLE;
        uv_timer_init(s->loop, &c->retry);
        c->retry.data = c;
    }
    for (i = 0; i < R_COUNT; i++)
        conn_start(&r->conns[i]);
    return 0;
}

static size_t r_pending(const struct store *s, enum store_role role)
{
    const struct redis *r = red(s);

    return r->conns[role == STORE_TASKS ? R_TASKS : R_CLIENT].inflight;
}

static bool r_ready(const struct store *s, enum store_role role)
{
    const struct redis *r = red(s);

    return r && r->conns[role == STORE_TASKS ? R_TASKS : R_CLIENT].state == C_READY;
}

static bool r_settled(const struct store *s)
{
    const struct redis *r = red(s);
    int i;

    for (i = 0; i < R_COUNT; i++)
        if (!r->conns[i].tried)
            return false;
    return true;
}

static void on_retry_closed(uv_handle_t *h)
{
    struct rconn *c = h->data;

    c->retry_closed = true;
    maybe_closed(c->r);
}

static void on_tick_closed(uv_handle_t *h)
{
    struct redis *r = h->data;

    r->tick_closed = true;
    maybe_closed(r);
}

/* Everything closed: contexts gone, no resolution pending, timers closed. */
static void maybe_closed(struct redis *r)
{
    int i;

    if (!r->closing || r->closed_reported || r->pending_gai > 0)
        return;
    for (i = 0; i < R_COUNT; i++)
        if (r->conns[i].ac != NULL)
            return;
    if (!uv_is_closing((uv_handle_t *)&r->tick)) {
        uv_timer_stop(&r->tick);
        uv_close((uv_handle_t *)&r->tick, on_tick_closed);
        return;
    }
    if (!r->tick_closed)
        return;
    for (i = 0; i < R_COUNT; i++)
        if (!r->conns[i].retry_closed)
            return;
    r->closed_reported = true;
    store_backend_closed(r->s);
}

static void r_close(struct store *s)
{
    struct redis *r = red(s);
    uint64_t now = core_mono_ms();
    int i;

    if (r == NULL) {
        store_backend_closed(s);
        return;
    }
    r->closing = true;
    waiters_resolve(r, NULL, 0, false, AH_ESTATE);
    for (i = 0; i < R_COUNT; i++) {
        struct rconn *c = &r->conns[i];
        redisAsyncContext *ac = c->ac;

        uv_timer_stop(&c->retry);
        uv_close((uv_handle_t *)&c->retry, on_retry_closed);
        if (ac != NULL)
            conn_log(AH_LOG_DEBUG, c, "ended", NULL);
        if (ac == NULL) {
            c->state = C_CLOSED;
            continue;
        }
        if (c->state == C_READY && c->inflight > 0 && s->cfg.stop_timeout > 0) {
            /* let the replies in flight arrive, up to stop_timeout */
            c->close_deadline = now + s->cfg.stop_timeout;
            c->state = C_CLOSED;
            redisAsyncDisconnect(ac);
        } else {
            c->ac = NULL;
            c->state = C_CLOSED;
            redisAsyncFree(ac);
        }
    }
    /* the tick enforces close deadlines; make it frequent enough */
    uv_timer_start(&r->tick, on_tick, 10, 10);
    maybe_closed(r);
}

static void r_free(struct store *s)
{
    struct redis *r = red(s);

    if (r == NULL)
        return;
    waiters_resolve(r, NULL, 0, false, AH_ESTATE);
    free(r);
    s->impl = NULL;
}

const struct store_ops store_redis_ops = {
    .name = "redis",
    .open = r_open,
    .ready = r_ready,
    .settled = r_settled,
    .pending = r_pending,
    .command = r_command,
    .batch = r_batch,
    .eval = r_eval,
    .subscribe = r_subscribe,
    .unsubscribe = r_unsubscribe,
    .close = r_close,
    .free = r_free,
};
