/*
 * store.c - the backend-independent half of store.h: configuration, the
 * deferred-completion queue, replies, batches, the subscription registry,
 * glob matching, and the `redis` initializer that gives the app its store.
 *
 * The deferred queue is how the memory backend (whose results are ready at
 * once) and every fail-fast path keep the libuv contract: completions are
 * queued and run from a uv_idle callback on the next loop turn.  A drain
 * runs only the items queued before it started, so a caller that issues a
 * new command from each callback cannot starve the loop.
 */
#include "cluster/store_internal.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "config/config.h"
#include "core/core.h"
#include "log/log.h"

#define STORE_SLOT "store"

/* ------------------------------------------------------------- replies */

static struct store_reply *reply_new(int type)
{
    struct store_reply *r = xcalloc(1, sizeof(*r));

    r->type = type;
    return r;
}

struct store_reply *store_reply_nil(void)
{
    return reply_new(STORE_REPLY_NIL);
}

struct store_reply *store_reply_int(long long v)
{
    struct store_reply *r = reply_new(STORE_REPLY_INT);

    r->integer = v;
    return r;
}

struct store_reply *store_reply_str(const char *p, size_t n)
{
    struct store_reply *r = reply_new(STORE_REPLY_STR);

    r->str = xmalloc(n + 1);
    if (n)
        memcpy(r->str, p, n);
    r->str[n] = '\0';
    r->len = n;
    return r;
}

struct store_reply *store_reply_status(const char *s)
{
    struct store_reply *r = store_reply_str(s, strlen(s));

    r->type = STORE_REPLY_STATUS;
    return r;
}

struct store_reply *store_reply_error(const char *fmt, ...)
{
    struct store_reply *r = reply_new(STORE_REPLY_ERROR);
    struct buf b = BUF_INIT;
    va_list ap;

    va_start(ap, fmt);
    buf_vaddf(&b, fmt, ap);
    va_end(ap);
    r->str = buf_detach(&b, &r->len);
    return r;
}

struct store_reply *store_reply_array(size_t n)
{
    struct store_reply *r = reply_new(STORE_REPLY_ARRAY);

    r->elements = n;
    r->element = n ? xcalloc(n, sizeof(*r->element)) : NULL;
    return r;
}

struct store_reply *store_reply_dup(const struct store_reply *r)
{
    struct store_reply *d;
    size_t i;

    if (r == NULL)
        return NULL;
    switch (r->type) {
    case STORE_REPLY_ARRAY:
        d = store_reply_array(r->elements);
        for (i = 0; i < r->elements; i++)
            d->element[i] = store_reply_dup(r->element[i]);
        return d;
    case STORE_REPLY_STR:
    case STORE_REPLY_STATUS:
    case STORE_REPLY_ERROR:
        d = store_reply_str(r->str ? r->str : "", r->str ? r->len : 0);
        d->type = r->type;
        return d;
    case STORE_REPLY_INT:
        return store_reply_int(r->integer);
    default:
        return store_reply_nil();
    }
}

void store_reply_free(struct store_reply *r)
{
    size_t i;

    if (r == NULL)
        return;
    for (i = 0; i < r->elements; i++)
        store_reply_free(r->element[i]);
    free(r->element);
    free(r->str);
    free(r);
}

int store_reply_status_of(const struct store_reply *r)
{
    if (r == NULL || r->type != STORE_REPLY_ERROR)
        return 0;
    if (r->str && strncmp(r->str, "OOM ", 4) == 0)
        return AH_ELIMIT;
    return AH_EFAIL;
}

const char *store_strerror(int status, const struct store_reply *r)
{
    if (r != NULL && r->type == STORE_REPLY_ERROR && r->str != NULL)
        return r->str;
    switch (status) {
    case 0: return "ok";
    case AH_EUNAVAIL: return "redis unavailable";
    case AH_ESTATE: return "store is closing";
    case AH_ELIMIT: return "too many store commands in flight (redis.maxPending)";
    default: return ah_strerror(status);
    }
}

/* ------------------------------------------------------------- deferred queue */

struct store_defer {
    struct store_defer *next;
    store_cb cb;
    void *arg;
    int status;
    struct store_reply *reply;
    char *channel;              /* a pub/sub delivery when set */
    char *msg;
    size_t len;
};

static void maybe_finish_close(struct store *s);

static void on_idle(uv_idle_t *h)
{
    struct store *s = h->data;
    struct store_defer *d = s->head, *next;

    /* Detach the current queue: items queued by these callbacks wait for the
     * next turn. */
    s->head = s->tail = NULL;
    for (; d; d = next) {
        next = d->next;
        s->ndefer--;
        if (d->channel) {
            store_deliver_now(s, d->channel, d->msg, d->len);
            free(d->channel);
            free(d->msg);
        } else if (d->cb) {
            d->cb(d->status, d->reply, d->arg);
        }
        store_reply_free(d->reply);
        free(d);
    }
    if (s->head == NULL) {
        uv_idle_stop(&s->idle);
        s->idle_active = false;
        if (s->closing)
            maybe_finish_close(s);
    }
}

static void push_defer(struct store *s, struct store_defer *d)
{
    s->ndefer++;
    if (s->tail)
        s->tail->next = d;
    else
        s->head = d;
    s->tail = d;
    if (!s->idle_active) {
        uv_idle_start(&s->idle, on_idle);
        s->idle_active = true;
    }
}

void store_defer(struct store *s, store_cb cb, void *arg, int status, struct store_reply *reply_take)
{
    struct store_defer *d = xcalloc(1, sizeof(*d));

    d->cb = cb;
    d->arg = arg;
    d->status = status;
    d->reply = reply_take;
    push_defer(s, d);
}

void store_complete(struct store *s, store_cb cb, void *arg, struct store_reply *reply_take)
{
    store_defer(s, cb, arg, store_reply_status_of(reply_take), reply_take);
}

struct store_sub *store_find_sub(struct store *s, const char *channel)
{
    size_t i;

    for (i = 0; i < s->nsubs; i++)
        if (strcmp(s->subs[i].channel, channel) == 0)
            return &s->subs[i];
    return NULL;
}

void store_deliver_now(struct store *s, const char *channel, const char *msg, size_t len)
{
    struct store_sub *sub = store_find_sub(s, channel);

    if (sub && sub->fn)
        sub->fn(channel, msg, len, sub->arg);
}

void store_deliver_later(struct store *s, const char *channel, const char *msg, size_t len)
{
    struct store_defer *d = xcalloc(1, sizeof(*d));

    d->channel = xstrdup(channel);
    d->msg = xmalloc(len + 1);
    memcpy(d->msg, msg, len);
    d->msg[len] = '\0';
    d->len = len;
    push_defer(s, d);
}

void store_notify_ready(struct store *s, bool ready)
{
    size_t i;

    /* a watcher may unwatch itself: walk a copy */
    struct store_watcher *w = s->nwatchers ? xcalloc(s->nwatchers, sizeof(*w)) : NULL;
    size_t n = s->nwatchers;

    if (s->closing)
        n = 0;
    if (w)
        memcpy(w, s->watchers, n * sizeof(*w));
    for (i = 0; i < n; i++)
        w[i].fn(s, ready, w[i].arg);
    free(w);
}

/* ------------------------------------------------------------- lifecycle */

struct store *store_new(uv_loop_t *loop, const struct store_config *cfg)
{
    struct store *s = xcalloc(1, sizeof(*s));

    s->loop = loop;
    s->cfg = *cfg;
    s->cfg.host = xstrdup(cfg->host ? cfg->host : "127.0.0.1");
    s->cfg.password = cfg->password ? xstrdup(cfg->password) : NULL;
    s->ops = cfg->kind == STORE_REDIS ? &store_redis_ops : &store_mem_ops;
    uv_idle_init(loop, &s->idle);
    s->idle.data = s;
    return s;
}

int store_open(struct store *s)
{
    int rc;

    if (s->opened || s->closing)
        return AH_ESTATE;
    if ((rc = s->ops->open(s)) < 0)
        return rc;
    s->opened = true;
    return 0;
}

int store_wait(struct store *s, uint64_t timeout_ms)
{
    uint64_t deadline = core_mono_ms() + timeout_ms;

    while (!s->ops->settled(s) && core_mono_ms() < deadline)
        uv_run(s->loop, UV_RUN_ONCE);
    return store_ready(s, STORE_CLIENT) ? 0 : AH_EUNAVAIL;
}

enum store_kind store_kind(const struct store *s)
{
    return s->cfg.kind;
}

bool store_ready(const struct store *s, enum store_role role)
{
    return s->opened && !s->closing && s->ops->ready(s, role);
}

void store_watch(struct store *s, store_watch_fn fn, void *arg)
{
    if (s == NULL || fn == NULL)
        return;
    s->watchers = xrealloc(s->watchers, (s->nwatchers + 1) * sizeof(*s->watchers));
    s->watchers[s->nwatchers].fn = fn;
    s->watchers[s->nwatchers].arg = arg;
    s->nwatchers++;
}

void store_unwatch(struct store *s, store_watch_fn fn, void *arg)
{
    size_t i;

    for (i = 0; s && i < s->nwatchers; i++) {
        if (s->watchers[i].fn == fn && s->watchers[i].arg == arg) {
            memmove(&s->watchers[i], &s->watchers[i + 1], (s->nwatchers - i - 1) * sizeof(*s->watchers));
            s->nwatchers--;
            return;
        }
    }
}

static void on_idle_closed(uv_handle_t *h)
{
    struct store *s = h->data;
    void (*done)(void *) = s->close_done;
    void *arg = s->close_arg;
    size_t i;

    s->ops->free(s);
    for (i = 0; i < s->nsubs; i++)
        free(s->subs[i].channel);
    free(s->subs);
    free(s->watchers);
    store_config_release(&s->cfg);
    free(s);
    if (done)
        done(arg);
}

static void maybe_finish_close(struct store *s)
{
    if (!s->backend_closed || s->head != NULL || uv_is_closing((uv_handle_t *)&s->idle))
        return;
    uv_idle_stop(&s->idle);
    s->idle_active = false;
    uv_close((uv_handle_t *)&s->idle, on_idle_closed);
}

void store_backend_closed(struct store *s)
{
    s->backend_closed = true;
    maybe_finish_close(s);
}

void store_close(struct store *s, void (*done)(void *arg), void *arg)
{
    if (s == NULL || s->closing)
        return;
    s->closing = true;
    s->close_done = done;
    s->close_arg = arg;
    s->ops->close(s);
}

/* ------------------------------------------------------------- commands */

static int count_args(va_list ap)
{
    int n = 0;

    while (va_arg(ap, const char *) != NULL)
        n++;
    return n;
}

int store_command(struct store *s, store_cb cb, void *arg, const char *name, ...)
{
    const char **argv;
    va_list ap;
    int argc, i, rc;

    if (name == NULL)
        return AH_EINVAL;
    va_start(ap, name);
    argc = 1 + count_args(ap);
    va_end(ap);
    argv = xcalloc((size_t)argc, sizeof(*argv));
    argv[0] = name;
    va_start(ap, name);
    for (i = 1; i < argc; i++)
        argv[i] = va_arg(ap, const char *);
    va_end(ap);
    rc = store_commandv(s, STORE_CLIENT, argc, argv, NULL, cb, arg);
    free(argv);
    return rc;
}

/* May `n` more commands go to `role`?  AH_ELIMIT past redis.maxPending. */
static int room(const struct store *s, enum store_role role, size_t n)
{
    size_t used = s->ops->pending ? s->ops->pending(s, role) : s->ndefer;

    return used + n > s->cfg.max_pending ? AH_ELIMIT : 0;
}

/* argv with lengths: `lens` NULL means strlen of each. */
static const size_t *fill_lens(int argc, const char *const *argv, const size_t *lens, size_t *tmp)
{
    int i;

    if (lens)
        return lens;
    for (i = 0; i < argc; i++)
        tmp[i] = strlen(argv[i]);
    return tmp;
}

int store_commandv(struct store *s, enum store_role role, int argc, const char *const *argv,
                   const size_t *lens, store_cb cb, void *arg)
{
    size_t *tmp;
    int i;

    if (s == NULL)
        return AH_EUNAVAIL;
    if (argc < 1 || argv == NULL)
        return AH_EINVAL;
    for (i = 0; i < argc; i++)
        if (argv[i] == NULL)
            return AH_EINVAL;
    if (role != STORE_CLIENT && role != STORE_TASKS)
        return AH_EINVAL;
    if (s->closing || !s->opened)
        return AH_ESTATE;
    if (room(s, role, 1) < 0)
        return AH_ELIMIT;
    tmp = lens ? NULL : xcalloc((size_t)argc, sizeof(*tmp));
    s->ops->command(s, role, argc, argv, fill_lens(argc, argv, lens, tmp), cb, arg);
    free(tmp);
    return 0;
}

void store_batch_init(struct store_batch *b)
{
    b->cmds = NULL;
    b->n = b->cap = 0;
}

void store_batch_addv(struct store_batch *b, int argc, const char *const *argv, const size_t *lens)
{
    struct store_bcmd *c;
    int i;

    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 8;
        b->cmds = xrealloc(b->cmds, b->cap * sizeof(*b->cmds));
    }
    c = &b->cmds[b->n++];
    c->argc = argc;
    c->argv = xcalloc((size_t)argc + 1, sizeof(*c->argv));
    c->lens = xcalloc((size_t)argc + 1, sizeof(*c->lens));
    for (i = 0; i < argc; i++) {
        size_t n = lens ? lens[i] : strlen(argv[i]);

        c->argv[i] = xmalloc(n + 1);
        memcpy(c->argv[i], argv[i], n);
        c->argv[i][n] = '\0';
        c->lens[i] = n;
    }
}

void store_batch_add(struct store_batch *b, const char *name, ...)
{
    const char **argv;
    va_list ap;
    int argc, i;

    va_start(ap, name);
    argc = 1 + count_args(ap);
    va_end(ap);
    argv = xcalloc((size_t)argc, sizeof(*argv));
    argv[0] = name;
    va_start(ap, name);
    for (i = 1; i < argc; i++)
        argv[i] = va_arg(ap, const char *);
    va_end(ap);
    store_batch_addv(b, argc, argv, NULL);
    free(argv);
}

void store_batch_release(struct store_batch *b)
{
    size_t i;
    int j;

    for (i = 0; i < b->n; i++) {
        for (j = 0; j < b->cmds[i].argc; j++)
            free(b->cmds[i].argv[j]);
        free(b->cmds[i].argv);
        free(b->cmds[i].lens);
    }
    free(b->cmds);
    store_batch_init(b);
}

static int run_batch(struct store *s, enum store_role role, const struct store_batch *b, bool atomic,
                     store_cb cb, void *arg)
{
    if (s == NULL)
        return AH_EUNAVAIL;
    if (b == NULL || (role != STORE_CLIENT && role != STORE_TASKS))
        return AH_EINVAL;
    if (s->closing || !s->opened)
        return AH_ESTATE;
    if (room(s, role, b->n + 2) < 0)
        return AH_ELIMIT;
    if (b->n == 0) {
        store_defer(s, cb, arg, 0, store_reply_array(0));
        return 0;
    }
    s->ops->batch(s, role, b, atomic, cb, arg);
    return 0;
}

int store_multi(struct store *s, enum store_role role, const struct store_batch *b, store_cb cb, void *arg)
{
    return run_batch(s, role, b, true, cb, arg);
}

int store_pipeline(struct store *s, enum store_role role, const struct store_batch *b, store_cb cb,
                   void *arg)
{
    return run_batch(s, role, b, false, cb, arg);
}

int store_eval(struct store *s, enum store_role role, const struct store_script *script, int nkeys,
               int argc, const char *const *argv, const size_t *lens, store_cb cb, void *arg)
{
    size_t *tmp;
    int i;

    if (s == NULL)
        return AH_EUNAVAIL;
    if (script == NULL || script->lua == NULL || script->mem == NULL || nkeys < 0 || argc < nkeys ||
        (argc > 0 && argv == NULL) || (role != STORE_CLIENT && role != STORE_TASKS))
        return AH_EINVAL;
    for (i = 0; i < argc; i++)
        if (argv[i] == NULL)
            return AH_EINVAL;
    if (s->closing || !s->opened)
        return AH_ESTATE;
    if (room(s, role, 1) < 0)
        return AH_ELIMIT;
    tmp = (lens || argc == 0) ? NULL : xcalloc((size_t)argc, sizeof(*tmp));
    s->ops->eval(s, role, script, nkeys, argc, argv, argc ? fill_lens(argc, argv, lens, tmp) : NULL, cb,
                 arg);
    free(tmp);
    return 0;
}

/* ------------------------------------------------------------- pub/sub */

int store_subscribe(struct store *s, const char *channel, store_message_fn fn, void *arg, store_cb done,
                    void *done_arg)
{
    struct store_sub *sub;

    if (s == NULL)
        return AH_EUNAVAIL;
    if (channel == NULL || channel[0] == '\0' || fn == NULL)
        return AH_EINVAL;
    if (s->closing || !s->opened)
        return AH_ESTATE;
    if ((sub = store_find_sub(s, channel)) != NULL) {
        sub->fn = fn;
        sub->arg = arg;
        if (done)
            store_defer(s, done, done_arg, store_ready(s, STORE_CLIENT) ? 0 : AH_EUNAVAIL, NULL);
        return 0;
    }
    s->subs = xrealloc(s->subs, (s->nsubs + 1) * sizeof(*s->subs));
    sub = &s->subs[s->nsubs++];
    sub->channel = xstrdup(channel);
    sub->fn = fn;
    sub->arg = arg;
    s->ops->subscribe(s, channel, done, done_arg);
    return 0;
}

int store_unsubscribe(struct store *s, const char *channel, store_cb done, void *done_arg)
{
    struct store_sub *sub;
    size_t i;

    if (s == NULL)
        return AH_EUNAVAIL;
    if (channel == NULL)
        return AH_EINVAL;
    if (s->closing || !s->opened)
        return AH_ESTATE;
    if ((sub = store_find_sub(s, channel)) == NULL)
        return AH_ENOTFOUND;
    i = (size_t)(sub - s->subs);
    free(sub->channel);
    memmove(&s->subs[i], &s->subs[i + 1], (s->nsubs - i - 1) * sizeof(*s->subs));
    s->nsubs--;
    s->ops->unsubscribe(s, channel, done, done_arg);
    return 0;
}

int store_publish(struct store *s, const char *channel, const char *msg, size_t len, store_cb cb,
                  void *arg)
{
    const char *argv[3] = {"PUBLISH", channel, msg};
    size_t lens[3];

    if (channel == NULL || msg == NULL)
        return AH_EINVAL;
    lens[0] = 7;
    lens[1] = strlen(channel);
    lens[2] = len;
    return store_commandv(s, STORE_CLIENT, 3, argv, lens, cb, arg);
}

/* ------------------------------------------------------------- helpers */

bool store_parse_ll(const char *p, size_t n, long long *out)
{
    unsigned long long v = 0, lim;
    bool neg = false;
    size_t i = 0;

    if (n == 0 || n > 20)
        return false;
    if (p[0] == '-') {
        neg = true;
        i = 1;
        if (n == 1)
            return false;
    }
    if (p[i] == '0' && (n - i > 1 || neg))
        return false;
    lim = neg ? (unsigned long long)LLONG_MAX + 1 : (unsigned long long)LLONG_MAX;
    for (; i < n; i++) {
        unsigned d;

        if (p[i] < '0' || p[i] > '9')
            return false;
        d = (unsigned)(p[i] - '0');
        if (v > (lim - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (neg)
        *out = v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)v;
    else
        *out = (long long)v;
    return true;
}

/* Redis's glob: '*' any run, '?' one byte, '[...]' a class with '^'
 * negation and 'a-z' ranges, '\' escapes the next byte. */
bool store_glob_match(const char *pat, size_t plen, const char *s, size_t slen, bool nocase)
{
    while (plen > 0) {
        switch (pat[0]) {
        case '*':
            while (plen > 1 && pat[1] == '*') {
                pat++;
                plen--;
            }
            if (plen == 1)
                return true;
            for (;;) {
                if (store_glob_match(pat + 1, plen - 1, s, slen, nocase))
                    return true;
                if (slen == 0)
                    return false;
                s++;
                slen--;
            }
        case '?':
            if (slen == 0)
                return false;
            s++;
            slen--;
            break;
        case '[': {
            bool neg, match = false;

            if (slen == 0)
                return false;
            pat++;
            plen--;
            neg = plen > 0 && pat[0] == '^';
            if (neg) {
                pat++;
                plen--;
            }
            for (;;) {
                if (plen == 0)
                    break; /* unterminated class: Redis treats the rest as the class */
                if (pat[0] == '\\' && plen >= 2) {
                    pat++;
                    plen--;
                    if (pat[0] == s[0])
                        match = true;
                } else if (pat[0] == ']') {
                    break;
                } else if (plen >= 3 && pat[1] == '-') {
                    unsigned char a = (unsigned char)pat[0], b = (unsigned char)pat[2];
                    unsigned char c = (unsigned char)s[0];

                    if (a > b) {
                        unsigned char t = a;

                        a = b;
                        b = t;
                    }
                    if (nocase) {
                        a = (unsigned char)tolower(a);
                        b = (unsigned char)tolower(b);
                        c = (unsigned char)tolower(c);
                    }
                    pat += 2;
                    plen -= 2;
                    if (c >= a && c <= b)
                        match = true;
                } else if (nocase ? tolower((unsigned char)pat[0]) == tolower((unsigned char)s[0])
                                  : pat[0] == s[0]) {
                    match = true;
                }
                pat++;
                plen--;
            }
            if (neg)
                match = !match;
            if (!match)
                return false;
            s++;
            slen--;
            if (plen == 0)
                return slen == 0;
            break;
        }
        case '\\':
            if (plen >= 2) {
                pat++;
                plen--;
            }
            /* fall through */
        default:
            if (slen == 0)
                return false;
            if (nocase ? tolower((unsigned char)pat[0]) != tolower((unsigned char)s[0]) : pat[0] != s[0])
                return false;
            s++;
            slen--;
            break;
        }
        pat++;
        plen--;
    }
    return slen == 0;
}

/* ------------------------------------------------------------- configuration */

void store_config_defaults(struct store_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->kind = STORE_MEMORY;
    cfg->host = NULL;
    cfg->port = 6379;
    cfg->db = 0;
    cfg->connect_timeout = 10000;
    cfg->command_timeout = 10000;
    cfg->stop_timeout = 100;
    cfg->retry_first = 5000;
    cfg->retry_step = 50;
    cfg->retry_max = 1000;
    cfg->max_pending = 100000;
    cfg->max_keys = 100000;
    cfg->max_bytes = 64u << 20;
    cfg->sweep_interval = 1000;
}

void store_config_release(struct store_config *cfg)
{
    free(cfg->host);
    free(cfg->password);
    cfg->host = NULL;
    cfg->password = NULL;
}

static void set_str(char **dst, const char *s, size_t n)
{
    free(*dst);
    *dst = xstrndup(s, n);
}

/* A number given as a JSON number or a numeric string ("6379" from env). */
static bool json_num(json_t *v, long long *out)
{
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return true;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);

        if (d != d || d < (double)LLONG_MIN || d > (double)LLONG_MAX)
            return false;
        *out = (long long)d;
        return true;
    }
    if (json_is_string(v))
        return store_parse_ll(json_string_value(v), json_string_length(v), out);
    return false;
}

int store_config_url(struct store_config *cfg, const char *url, char *err, size_t errlen)
{
    const char *p = url, *end, *at, *host, *hend, *colon;
    long long n;

    if (strncmp(p, "redis://", 8) == 0) {
        p += 8;
    } else if (strncmp(p, "rediss://", 9) == 0) {
        snprintf(err, errlen, "redis TLS ('rediss://' in the Redis URL) is not supported");
        return AH_EINVAL;
    } else {
        snprintf(err, errlen, "invalid Redis URL '%s': expected redis://[:password@]host[:port][/db]", url);
        return AH_EINVAL;
    }
    end = p + strcspn(p, "/?#");
    at = memrchr(p, '@', (size_t)(end - p));
    if (at) {
        const char *pw = memchr(p, ':', (size_t)(at - p));

        if (pw && at > pw + 1)
            set_str(&cfg->password, pw + 1, (size_t)(at - pw - 1));
        host = at + 1;
    } else {
        host = p;
    }
    if (*host == '[') {
        hend = memchr(host, ']', (size_t)(end - host));
        if (hend == NULL) {
            snprintf(err, errlen, "invalid Redis URL '%s': unterminated '[' in the host", url);
            return AH_EINVAL;
        }
        if (hend > host + 1)
            set_str(&cfg->host, host + 1, (size_t)(hend - host - 1));
        colon = hend + 1 < end && hend[1] == ':' ? hend + 1 : NULL;
    } else {
        colon = memchr(host, ':', (size_t)(end - host));
        hend = colon ? colon : end;
        if (hend > host)
            set_str(&cfg->host, host, (size_t)(hend - host));
    }
    if (colon && end > colon + 1) {
        if (!store_parse_ll(colon + 1, (size_t)(end - colon - 1), &n) || n < 1 || n > 65535) {
            snprintf(err, errlen, "invalid Redis URL '%s': bad port", url);
            return AH_EINVAL;
        }
        cfg->port = (int)n;
    }
    if (*end == '/' && end[1] != '\0' && end[1] != '?' && end[1] != '#') {
        size_t dl = strcspn(end + 1, "?#");

        if (!store_parse_ll(end + 1, dl, &n) || n < 0 || n > INT_MAX) {
            snprintf(err, errlen, "invalid Redis URL '%s': bad database number", url);
            return AH_EINVAL;
        }
        cfg->db = (int)n;
    }
    return 0;
}

/* Integer option: config key if present, else `dflt`; checked against
 * [min, max]. */
static int opt_int(ah_app_t *app, const char *path, long long dflt, long long min, long long max,
                   long long *out, char *err, size_t errlen)
{
    json_t *v = config_get(app, path);
    long long n = dflt;

    if (v != NULL && !json_is_null(v) && !json_num(v, &n)) {
        snprintf(err, errlen, "config '%s': expected an integer between %lld and %lld", path, min, max);
        return AH_EINVAL;
    }
    if (n < min || n > max) {
        snprintf(err, errlen, "config '%s': %lld is out of range (%lld to %lld)", path, n, min, max);
        return AH_EINVAL;
    }
    *out = n;
    return 0;
}

/* A connection setting: redis.<key>, else redis.client.args[0].<key>,
 * else the environment variable. */
static json_t *redis_setting(ah_app_t *app, const char *key)
{
    char path[64];
    json_t *v, *args;

    snprintf(path, sizeof(path), "redis.%s", key);
    if ((v = config_get(app, path)) != NULL && !json_is_null(v))
        return v;
    args = config_get(app, "redis.client.args");
    if (json_is_array(args) && json_is_object(json_array_get(args, 0))) {
        v = json_object_get(json_array_get(args, 0), key);
        if (v != NULL && !json_is_null(v))
            return v;
    }
    return NULL;
}

static const char *env(const char *name)
{
    const char *v = getenv(name);

    return v && *v ? v : NULL;
}

int store_config_load(ah_app_t *app, struct store_config *cfg, char *err, size_t errlen)
{
    json_t *v;
    const char *e, *url;
    long long n;
    int rc;

    store_config_defaults(cfg);
    cfg->kind = config_bool(app, "redis.enabled", false) ? STORE_REDIS : STORE_MEMORY;

    /* host */
    if ((v = redis_setting(app, "host")) != NULL) {
        if (!json_is_string(v) || json_string_length(v) == 0) {
            snprintf(err, errlen, "config 'redis.host': expected a non-empty string");
            goto fail;
        }
        cfg->host = xstrdup(json_string_value(v));
    } else if ((e = env("REDIS_HOST")) != NULL) {
        cfg->host = xstrdup(e);
    } else {
        cfg->host = xstrdup("127.0.0.1");
    }
    /* port */
    if ((v = redis_setting(app, "port")) != NULL) {
        if (!json_num(v, &n) || n < 1 || n > 65535) {
            snprintf(err, errlen, "config 'redis.port': expected a port number (1 to 65535)");
            goto fail;
        }
        cfg->port = (int)n;
    } else if ((e = env("REDIS_PORT")) != NULL) {
        if (!store_parse_ll(e, strlen(e), &n) || n < 1 || n > 65535) {
            snprintf(err, errlen, "REDIS_PORT '%s': expected a port number (1 to 65535)", e);
            goto fail;
        }
        cfg->port = (int)n;
    }
    /* db: REDIS_DB, else JEST_WORKER_ID, else 0 (cluster.md §1) */
    if ((v = redis_setting(app, "db")) != NULL) {
        if (!json_num(v, &n) || n < 0 || n > INT_MAX) {
            snprintf(err, errlen, "config 'redis.db': expected a database number >= 0");
            goto fail;
        }
        cfg->db = (int)n;
    } else if ((e = env("REDIS_DB")) != NULL || (e = env("JEST_WORKER_ID")) != NULL) {
        if (!store_parse_ll(e, strlen(e), &n) || n < 0 || n > INT_MAX) {
            snprintf(err, errlen, "REDIS_DB '%s': expected a database number >= 0", e);
            goto fail;
        }
        cfg->db = (int)n;
    }
    /* password */
    if ((v = redis_setting(app, "password")) != NULL) {
        if (!json_is_string(v)) {
            snprintf(err, errlen, "config 'redis.password': expected a string");
            goto fail;
        }
        if (json_string_length(v) > 0)
            cfg->password = xstrdup(json_string_value(v));
    } else if ((e = env("REDIS_PASSWORD")) != NULL) {
        cfg->password = xstrdup(e);
    }
    /* URL overrides each part it contains */
    v = redis_setting(app, "url");
    if (v != NULL && !json_is_string(v)) {
        snprintf(err, errlen, "config 'redis.url': expected a string");
        goto fail;
    }
    url = v ? json_string_value(v) : env("REDIS_URL");
    if (url && *url && store_config_url(cfg, url, err, errlen) < 0)
        goto fail;
    if (cfg->kind == STORE_REDIS && (config_bool(app, "redis.ssl", false) || env("REDIS_SSL"))) {
        snprintf(err, errlen, "redis TLS (REDIS_SSL / redis.ssl) is not supported: use a TLS proxy");
        goto fail;
    }

#define OPT(path, field, dflt, min, max)                                        \
    do {                                                                        \
        if ((rc = opt_int(app, path, dflt, min, max, &n, err, errlen)) < 0)     \
            goto fail;                                                          \
        cfg->field = (__typeof__(cfg->field))n;                                 \
    } while (0)
    OPT("redis.connectTimeout", connect_timeout, 10000, 100, 600000);
    OPT("redis.commandTimeout", command_timeout, 10000, 100, 3600000);
    OPT("redis.stopTimeout", stop_timeout, 100, 0, 60000);
    OPT("redis.retryFirstDelay", retry_first, 5000, 0, 600000);
    OPT("redis.retryStep", retry_step, 50, 0, 600000);
    OPT("redis.retryMaxDelay", retry_max, 1000, 0, 600000);
    OPT("redis.maxPending", max_pending, 100000, 1, 100000000);
    OPT("store.maxKeys", max_keys, 100000, 1, 1000000000);
    OPT("store.maxBytes", max_bytes, 64LL << 20, 4096, 1LL << 40);
    OPT("store.sweepInterval", sweep_interval, 1000, 10, 3600000);
#undef OPT
    return 0;
fail:
    store_config_release(cfg);
    return AH_EINVAL;
}

/* ------------------------------------------------------------- the initializer */

struct store *store_get(ah_app_t *app)
{
    return app ? ah_app_get(app, STORE_SLOT) : NULL;
}

static int store_initialize(ah_app_t *app)
{
    struct store_config cfg;
    struct store *s;
    char err[512];
    int rc;

    if (store_config_load(app, &cfg, err, sizeof(err)) < 0)
        return ah_app_fail(app, "%s", err);
    s = store_new(app->loop, &cfg);
    store_config_release(&cfg);
    if ((rc = store_open(s)) < 0) {
        store_close(s, NULL, NULL);
        return ah_app_fail(app, "cannot open the store: %s", ah_strerror(rc));
    }
    if (store_kind(s) == STORE_REDIS) {
        log_info("store: redis at %s:%d db %d", s->cfg.host, s->cfg.port, s->cfg.db);
        /* Like Actionhero's `GET _test` at boot, but bounded: the server
         * starts without Redis and catches up when it is back. */
        if (store_wait(s, s->cfg.connect_timeout + 1000) < 0)
            log_warn("redis unavailable at boot (%s:%d): serving without it, retrying in the background",
                     s->cfg.host, s->cfg.port);
    } else {
        log_info("store: in-process memory (maxKeys %zu, maxBytes %zu)", s->cfg.max_keys,
                 s->cfg.max_bytes);
    }
    ah_app_set(app, STORE_SLOT, s);
    return 0;
}

static int store_stop(ah_app_t *app)
{
    struct store *s = store_get(app);

    ah_app_set(app, STORE_SLOT, NULL);
    store_close(s, NULL, NULL);
    return 0;
}

/* Actionhero's `redis` initializer priorities (cluster.md §5). */
AH_INITIALIZER(redis) = {
    .name = "redis",
    .load_priority = 200,
    .start_priority = 101,
    .stop_priority = 99999,
    .initialize = store_initialize,
    .stop = store_stop,
};
