/*
 * store_mem_cmds.c - the memory backend's commands, with Redis 7's
 * semantics, replies and error texts (the list is in store.h).  Each takes
 * the argv of one command (arity already checked) and returns an owned
 * reply; they run synchronously on the keyspace of store_mem.c.
 */
#include "cluster/store_mem_internal.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/core.h"

/* ------------------------------------------------------------- arguments */

#define ARGS struct store_exec *x, int argc, const char *const *argv, const size_t *lens

static struct store_reply *err_int(void)
{
    return store_reply_error("ERR value is not an integer or out of range");
}

static struct store_reply *err_syntax(void)
{
    return store_reply_error("ERR syntax error");
}

static bool arg_ll(const char *const *argv, const size_t *lens, int i, long long *out)
{
    return store_parse_ll(argv[i], lens[i], out);
}

static bool arg_is(const char *const *argv, const size_t *lens, int i, const char *word)
{
    return lens[i] == strlen(word) && strncasecmp(argv[i], word, lens[i]) == 0;
}

/* A zset score or range bound: "1.5", "-inf", "+inf", "(3" when `range`. */
static bool arg_double(const char *p, size_t n, double *out, bool range, bool *excl)
{
    char tmp[64], *end;
    double d;

    if (excl)
        *excl = false;
    if (range && n > 0 && p[0] == '(') {
        *excl = true;
        p++;
        n--;
    }
    if (n == 0 || n >= sizeof(tmp) || isspace((unsigned char)p[0]))
        return false;
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    if (strcasecmp(tmp, "inf") == 0 || strcasecmp(tmp, "+inf") == 0) {
        *out = INFINITY;
        return true;
    }
    if (strcasecmp(tmp, "-inf") == 0) {
        *out = -INFINITY;
        return true;
    }
    errno = 0;
    d = strtod(tmp, &end);
    if (*end != '\0' || errno == ERANGE || isnan(d))
        return false;
    *out = d;
    return true;
}

/* Redis's reply form of a double: the shortest text that reads back. */
static size_t fmt_double(double d, char *out, size_t outlen)
{
    int prec;

    if (isinf(d))
        return (size_t)snprintf(out, outlen, "%s", d > 0 ? "inf" : "-inf");
    for (prec = 15; prec <= 17; prec++) {
        snprintf(out, outlen, "%.*g", prec, d);
        if (strtod(out, NULL) == d)
            break;
    }
    return strlen(out);
}

/* ------------------------------------------------------------- keys */

static struct store_reply *cmd_del(ARGS)
{
    long long n = 0;
    int i;

    for (i = 1; i < argc; i++) {
        struct mentry *e = mem_lookup(x, argv[i], lens[i]);

        if (e) {
            mem_key_delete(x->m, e);
            n++;
        }
    }
    return store_reply_int(n);
}

static struct store_reply *cmd_exists(ARGS)
{
    long long n = 0;
    int i;

    for (i = 1; i < argc; i++)
        if (mem_lookup(x, argv[i], lens[i]))
            n++;
    return store_reply_int(n);
}

static struct store_reply *cmd_type(ARGS)
{
    static const char *const names[] = {"string", "list", "set", "hash", "zset"};
    struct mentry *e = mem_lookup(x, argv[1], lens[1]);

    (void)argc;
    return store_reply_status(e ? names[((struct mobj *)e->val)->type] : "none");
}

/* EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT: `unit` ms per unit, `absolute`. */
static struct store_reply *do_expire(struct store_exec *x, const char *const *argv, const size_t *lens,
                                     int argc, long long unit, bool absolute, const char *name)
{
    struct mentry *e;
    long long v, when;

    if (argc > 3)
        return store_reply_error("ERR Unsupported option %s", argv[3]);
    if (!arg_ll(argv, lens, 2, &v))
        return err_int();
    if ((v > 0 && v > LLONG_MAX / unit) || (v < 0 && v < LLONG_MIN / unit))
        return store_reply_error("ERR invalid expire time in '%s' command", name);
    v *= unit;
    if (!absolute && ((v > 0 && x->now > LLONG_MAX - v)))
        return store_reply_error("ERR invalid expire time in '%s' command", name);
    when = absolute ? v : x->now + v;
    if ((e = mem_lookup(x, argv[1], lens[1])) == NULL)
        return store_reply_int(0);
    if (when <= x->now) {
        mem_key_delete(x->m, e);
        return store_reply_int(1);
    }
    ((struct mobj *)e->val)->expire = when;
    return store_reply_int(1);
}

static struct store_reply *cmd_expire(ARGS)
{
    return do_expire(x, argv, lens, argc, 1000, false, "expire");
}

static struct store_reply *cmd_pexpire(ARGS)
{
    return do_expire(x, argv, lens, argc, 1, false, "pexpire");
}

static struct store_reply *cmd_expireat(ARGS)
{
    return do_expire(x, argv, lens, argc, 1000, true, "expireat");
}

static struct store_reply *cmd_pexpireat(ARGS)
{
    return do_expire(x, argv, lens, argc, 1, true, "pexpireat");
}

static struct store_reply *do_ttl(struct store_exec *x, const char *const *argv, const size_t *lens, bool ms)
{
    struct mentry *e = mem_lookup(x, argv[1], lens[1]);
    struct mobj *o;
    long long left;

    if (e == NULL)
        return store_reply_int(-2);
    o = e->val;
    if (o->expire == 0)
        return store_reply_int(-1);
    left = o->expire - x->now;
    return store_reply_int(ms ? left : (left + 500) / 1000);
}

static struct store_reply *cmd_ttl(ARGS)
{
    (void)argc;
    return do_ttl(x, argv, lens, false);
}

static struct store_reply *cmd_pttl(ARGS)
{
    (void)argc;
    return do_ttl(x, argv, lens, true);
}

static struct store_reply *cmd_persist(ARGS)
{
    struct mentry *e = mem_lookup(x, argv[1], lens[1]);
    struct mobj *o;

    (void)argc;
    if (e == NULL || (o = e->val)->expire == 0)
        return store_reply_int(0);
    o->expire = 0;
    return store_reply_int(1);
}

static const char *type_name(int t)
{
    static const char *const names[] = {"string", "list", "set", "hash", "zset"};

    return names[t];
}

/* Collect live keys matching `pat` (NULL: all) of type `type` (NULL: any). */
static struct store_reply *collect_keys(struct store_exec *x, const char *pat, size_t plen, const char *type)
{
    struct mentry *e, *next;
    struct store_reply *r;
    size_t n = 0, i = 0;

    for (e = x->m->keys->first; e; e = next) {
        next = e->next;
        if (mem_expired(e->val, x->now))
            mem_key_delete(x->m, e);
    }
    for (e = x->m->keys->first; e; e = e->next)
        n++;
    r = store_reply_array(n);
    for (e = x->m->keys->first; e; e = e->next) {
        if (pat && !(plen == 1 && pat[0] == '*') && !store_glob_match(pat, plen, e->key, e->klen, false))
            continue;
        if (type && strcasecmp(type, type_name(((struct mobj *)e->val)->type)) != 0)
            continue;
        r->element[i++] = store_reply_str(e->key, e->klen);
    }
    r->elements = i;
    return r;
}

static struct store_reply *cmd_keys(ARGS)
{
    (void)argc;
    return collect_keys(x, argv[1], lens[1], NULL);
}

static struct store_reply *cmd_scan(ARGS)
{
    const char *pat = NULL, *type = NULL;
    struct store_reply *r;
    size_t plen = 0;
    long long v;
    int i;

    if (!arg_ll(argv, lens, 1, &v) || v < 0)
        return store_reply_error("ERR invalid cursor");
    for (i = 2; i < argc; i += 2) {
        if (i + 1 >= argc)
            return err_syntax();
        if (arg_is(argv, lens, i, "MATCH")) {
            pat = argv[i + 1];
            plen = lens[i + 1];
        } else if (arg_is(argv, lens, i, "COUNT")) {
            if (!arg_ll(argv, lens, i + 1, &v))
                return err_int();
            if (v < 1)
                return err_syntax();
        } else if (arg_is(argv, lens, i, "TYPE")) {
            type = argv[i + 1];
        } else {
            return err_syntax();
        }
    }
    /* Everything at once: the cursor returns to 0 (the COUNT hint allows it). */
    r = store_reply_array(2);
    r->element[0] = store_reply_str("0", 1);
    r->element[1] = collect_keys(x, pat, plen, type);
    return r;
}

static struct store_reply *cmd_dbsize(ARGS)
{
    struct mentry *e, *next;

    (void)argc;
    (void)argv;
    (void)lens;
    for (e = x->m->keys->first; e; e = next) {
        next = e->next;
        if (mem_expired(e->val, x->now))
            mem_key_delete(x->m, e);
    }
    return store_reply_int((long long)x->m->keys->n);
}

static struct store_reply *cmd_flushdb(ARGS)
{
    struct mentry *e;

    (void)argv;
    (void)lens;
    if (argc > 2 || (argc == 2 && !arg_is(argv, lens, 1, "ASYNC") && !arg_is(argv, lens, 1, "SYNC")))
        return err_syntax();
    while ((e = x->m->keys->first) != NULL)
        mem_key_delete(x->m, e);
    x->m->sweep_at = NULL;
    return store_reply_status("OK");
}

static struct store_reply *cmd_ping(ARGS)
{
    (void)x;
    if (argc > 2)
        return store_reply_error("ERR wrong number of arguments for 'ping' command");
    return argc == 2 ? store_reply_str(argv[1], lens[1]) : store_reply_status("PONG");
}

static struct store_reply *cmd_echo(ARGS)
{
    (void)x;
    (void)argc;
    return store_reply_str(argv[1], lens[1]);
}

static struct store_reply *cmd_select(ARGS)
{
    long long v;

    (void)x;
    (void)argc;
    if (!arg_ll(argv, lens, 1, &v))
        return err_int();
    if (v < 0 || v > INT_MAX)
        return store_reply_error("ERR DB index is out of range");
    return store_reply_status("OK");
}

static struct store_reply *cmd_publish(ARGS)
{
    struct store *s = x->m->s;
    char *ch = xstrndup(argv[1], lens[1]);
    struct store_sub *sub = store_find_sub(s, ch);
    long long n = 0;

    (void)argc;
    if (sub) {
        store_deliver_later(s, ch, argv[2], lens[2]);
        n = 1;
    }
    free(ch);
    return store_reply_int(n);
}

/* ------------------------------------------------------------- strings */

static struct store_reply *get_str(struct store_exec *x, const char *k, size_t n)
{
    struct store_reply *err;
    struct mentry *e = mem_key_for_read(x, k, n, T_STR, &err);

    if (err)
        return err;
    if (e == NULL)
        return store_reply_nil();
    return store_reply_str(((struct mobj *)e->val)->u.str->p, ((struct mobj *)e->val)->u.str->n);
}

static struct store_reply *cmd_get(ARGS)
{
    (void)argc;
    return get_str(x, argv[1], lens[1]);
}

/* Store `v` under `k` as a string, replacing any value of any type.  With
 * keep_ttl the old deadline stays; otherwise it is `expire` (0: none). */
static struct store_reply *put_str(struct store_exec *x, const char *k, size_t kn, const char *v, size_t vn,
                                   bool keep_ttl, long long expire)
{
    struct mentry *e = mem_lookup(x, k, kn);
    struct store_reply *err;
    struct mobj *o;
    long long old_expire = 0;
    size_t old = 0;

    if (e) {
        old = ((struct mobj *)e->val)->bytes;
        old_expire = ((struct mobj *)e->val)->expire;
    }
    if (vn + ELEM_OVERHEAD > old && (err = mem_room_for(x, vn + ELEM_OVERHEAD - old + (e ? 0 : kn), e == NULL)))
        return err;
    if (e && ((struct mobj *)e->val)->type != T_STR) {
        mem_key_delete(x->m, e);
        e = NULL;
    }
    if (e == NULL)
        e = mem_key_create(x, k, kn, T_STR);
    o = e->val;
    free(o->u.str);
    o->u.str = mem_sbuf_new(v, vn);
    mem_charge(x->m, o, (long long)(vn + ELEM_OVERHEAD) - (long long)o->bytes);
    o->expire = keep_ttl ? old_expire : expire;
    return NULL;
}

static struct store_reply *cmd_set(ARGS)
{
    bool nx = false, xx = false, keep = false, get = false;
    long long expire = 0, v;
    struct store_reply *old = NULL, *err;
    struct mentry *e;
    int i;

    for (i = 3; i < argc; i++) {
        if (arg_is(argv, lens, i, "NX") && !xx) {
            nx = true;
        } else if (arg_is(argv, lens, i, "XX") && !nx) {
            xx = true;
        } else if (arg_is(argv, lens, i, "KEEPTTL") && expire == 0) {
            keep = true;
        } else if (arg_is(argv, lens, i, "GET")) {
            get = true;
        } else if ((arg_is(argv, lens, i, "EX") || arg_is(argv, lens, i, "PX") ||
                    arg_is(argv, lens, i, "EXAT") || arg_is(argv, lens, i, "PXAT")) &&
                   !keep && expire == 0 && i + 1 < argc) {
            bool secs = toupper((unsigned char)argv[i][0]) == 'E';
            bool at = lens[i] == 4;

            if (!arg_ll(argv, lens, i + 1, &v))
                return err_int();
            if (v <= 0 || (secs && v > LLONG_MAX / 1000))
                return store_reply_error("ERR invalid expire time in 'set' command");
            v = secs ? v * 1000 : v;
            if (!at && v > LLONG_MAX - x->now)
                return store_reply_error("ERR invalid expire time in 'set' command");
            expire = at ? v : x->now + v;
            i++;
        } else {
            return err_syntax();
        }
    }
    e = mem_lookup(x, argv[1], lens[1]);
    if (get) {
        if (e && ((struct mobj *)e->val)->type != T_STR)
            return store_reply_error("%s", MEM_WRONGTYPE);
        old = e ? store_reply_str(((struct mobj *)e->val)->u.str->p, ((struct mobj *)e->val)->u.str->n)
                : store_reply_nil();
    }
    if ((nx && e) || (xx && !e))
        return old ? old : store_reply_nil();
    if (expire != 0 && expire <= x->now) {
        /* an absolute time in the past: the key is gone at once */
        if (e)
            mem_key_delete(x->m, e);
        return old ? old : store_reply_status("OK");
    }
    if ((err = put_str(x, argv[1], lens[1], argv[2], lens[2], keep, expire)) != NULL) {
        store_reply_free(old);
        return err;
    }
    return old ? old : store_reply_status("OK");
}

static struct store_reply *cmd_setnx(ARGS)
{
    struct store_reply *err;

    (void)argc;
    if (mem_lookup(x, argv[1], lens[1]))
        return store_reply_int(0);
    if ((err = put_str(x, argv[1], lens[1], argv[2], lens[2], false, 0)) != NULL)
        return err;
    return store_reply_int(1);
}

static struct store_reply *do_setex(struct store_exec *x, const char *const *argv, const size_t *lens,
                                    long long unit, const char *name)
{
    struct store_reply *err;
    long long v;

    if (!arg_ll(argv, lens, 2, &v))
        return err_int();
    if (v <= 0 || v > LLONG_MAX / unit || v * unit > LLONG_MAX - x->now)
        return store_reply_error("ERR invalid expire time in '%s' command", name);
    if ((err = put_str(x, argv[1], lens[1], argv[3], lens[3], false, x->now + v * unit)) != NULL)
        return err;
    return store_reply_status("OK");
}

static struct store_reply *cmd_setex(ARGS)
{
    (void)argc;
    return do_setex(x, argv, lens, 1000, "setex");
}

static struct store_reply *cmd_psetex(ARGS)
{
    (void)argc;
    return do_setex(x, argv, lens, 1, "psetex");
}

static struct store_reply *cmd_getset(ARGS)
{
    struct store_reply *old = get_str(x, argv[1], lens[1]), *err;

    (void)argc;
    if (old->type == STORE_REPLY_ERROR)
        return old;
    if ((err = put_str(x, argv[1], lens[1], argv[2], lens[2], false, 0)) != NULL) {
        store_reply_free(old);
        return err;
    }
    return old;
}

static struct store_reply *cmd_mget(ARGS)
{
    struct store_reply *r = store_reply_array((size_t)argc - 1);
    int i;

    for (i = 1; i < argc; i++) {
        struct mentry *e = mem_lookup(x, argv[i], lens[i]);
        struct mobj *o = e ? e->val : NULL;

        r->element[i - 1] = o && o->type == T_STR ? store_reply_str(o->u.str->p, o->u.str->n)
                                                  : store_reply_nil();
    }
    return r;
}

static struct store_reply *cmd_mset(ARGS)
{
    struct store_reply *err;
    size_t total = 0;
    int i;

    if (argc % 2 != 1)
        return store_reply_error("ERR wrong number of arguments for 'mset' command");
    for (i = 1; i < argc; i += 2)
        total += lens[i] + lens[i + 1] + ELEM_OVERHEAD;
    if ((err = mem_room_for(x, total, false)) != NULL)
        return err;
    for (i = 1; i < argc; i += 2)
        if ((err = put_str(x, argv[i], lens[i], argv[i + 1], lens[i + 1], false, 0)) != NULL)
            return err;
    return store_reply_status("OK");
}

static struct store_reply *do_incr(struct store_exec *x, const char *k, size_t kn, long long by)
{
    struct store_reply *err;
    struct mentry *e = mem_key_for_read(x, k, kn, T_STR, &err);
    long long v = 0;
    char buf[32];
    int n;

    if (err)
        return err;
    if (e && !store_parse_ll(((struct mobj *)e->val)->u.str->p, ((struct mobj *)e->val)->u.str->n, &v))
        return err_int();
    if ((by > 0 && v > LLONG_MAX - by) || (by < 0 && v < LLONG_MIN - by))
        return store_reply_error("ERR increment or decrement would overflow");
    v += by;
    n = snprintf(buf, sizeof(buf), "%lld", v);
    if ((err = put_str(x, k, kn, buf, (size_t)n, true, 0)) != NULL)
        return err;
    return store_reply_int(v);
}

static struct store_reply *cmd_incr(ARGS)
{
    (void)argc;
    return do_incr(x, argv[1], lens[1], 1);
}

static struct store_reply *cmd_decr(ARGS)
{
    (void)argc;
    return do_incr(x, argv[1], lens[1], -1);
}

static struct store_reply *cmd_incrby(ARGS)
{
    long long by;

    (void)argc;
    if (!arg_ll(argv, lens, 2, &by))
        return err_int();
    return do_incr(x, argv[1], lens[1], by);
}

static struct store_reply *cmd_decrby(ARGS)
{
    long long by;

    (void)argc;
    if (!arg_ll(argv, lens, 2, &by) || by == LLONG_MIN)
        return err_int();
    return do_incr(x, argv[1], lens[1], -by);
}

static struct store_reply *cmd_strlen(ARGS)
{
    struct store_reply *err;
    struct mentry *e = mem_key_for_read(x, argv[1], lens[1], T_STR, &err);

    (void)argc;
    if (err)
        return err;
    return store_reply_int(e ? (long long)((struct mobj *)e->val)->u.str->n : 0);
}

static struct store_reply *cmd_append(ARGS)
{
    struct store_reply *err;
    struct mentry *e = mem_key_for_read(x, argv[1], lens[1], T_STR, &err);
    struct sbuf *old;
    char *joined;
    size_t n;

    (void)argc;
    if (err)
        return err;
    if (e == NULL) {
        if ((err = put_str(x, argv[1], lens[1], argv[2], lens[2], false, 0)) != NULL)
            return err;
        return store_reply_int((long long)lens[2]);
    }
    old = ((struct mobj *)e->val)->u.str;
    n = old->n + lens[2];
    joined = xmalloc(n + 1);
    memcpy(joined, old->p, old->n);
    memcpy(joined + old->n, argv[2], lens[2]);
    err = put_str(x, argv[1], lens[1], joined, n, true, 0);
    free(joined);
    return err ? err : store_reply_int((long long)n);
}

/* ------------------------------------------------------------- lists */

static struct store_reply *do_push(struct store_exec *x, int argc, const char *const *argv,
                                   const size_t *lens, bool left)
{
    struct store_reply *err;
    struct mentry *e;
    struct mobj *o;
    size_t extra = 0;
    int i;

    for (i = 2; i < argc; i++)
        extra += lens[i] + ELEM_OVERHEAD;
    if ((e = mem_key_for_write(x, argv[1], lens[1], T_LIST, extra, &err)) == NULL)
        return err;
    o = e->val;
    for (i = 2; i < argc; i++) {
        mlist_push(o->u.list, mem_sbuf_new(argv[i], lens[i]), left);
        mem_charge(x->m, o, (long long)(lens[i] + ELEM_OVERHEAD));
    }
    return store_reply_int((long long)o->u.list->n);
}

static struct store_reply *cmd_rpush(ARGS)
{
    return do_push(x, argc, argv, lens, false);
}

static struct store_reply *cmd_lpush(ARGS)
{
    return do_push(x, argc, argv, lens, true);
}

static struct store_reply *do_pop(struct store_exec *x, int argc, const char *const *argv,
                                  const size_t *lens, bool left)
{
    struct store_reply *err, *r;
    struct mentry *e;
    struct mobj *o;
    long long count = 1;
    size_t i;

    if (argc > 3)
        return store_reply_error("ERR wrong number of arguments for '%s' command", left ? "lpop" : "rpop");
    if (argc == 3 && (!arg_ll(argv, lens, 2, &count) || count < 0))
        return store_reply_error("ERR value is out of range, must be positive");
    e = mem_key_for_read(x, argv[1], lens[1], T_LIST, &err);
    if (err)
        return err;
    if (e == NULL)
        return store_reply_nil();
    o = e->val;
    if (argc == 2) {
        struct sbuf *b = mlist_pop(o->u.list, left);

        r = store_reply_str(b->p, b->n);
        mem_charge(x->m, o, -(long long)(b->n + ELEM_OVERHEAD));
        free(b);
    } else {
        size_t n = (size_t)count < o->u.list->n ? (size_t)count : o->u.list->n;

        r = store_reply_array(n);
        for (i = 0; i < n; i++) {
            struct sbuf *b = mlist_pop(o->u.list, left);

            r->element[i] = store_reply_str(b->p, b->n);
            mem_charge(x->m, o, -(long long)(b->n + ELEM_OVERHEAD));
            free(b);
        }
    }
    mem_drop_if_empty(x->m, e);
    return r;
}

static struct store_reply *cmd_lpop(ARGS)
{
    return do_pop(x, argc, argv, lens, true);
}

static struct store_reply *cmd_rpop(ARGS)
{
    return do_pop(x, argc, argv, lens, false);
}

static struct store_reply *cmd_llen(ARGS)
{
    struct store_reply *err;
    struct mentry *e = mem_key_for_read(x, argv[1], lens[1], T_LIST, &err);

    (void)argc;
    if (err)
        return err;
    return store_reply_int(e ? (long long)((struct mobj *)e->val)->u.list->n : 0);
}

/* Redis's start/stop index normalisation; false when the range is empty. */
static bool norm_range(long long start, long long stop, size_t n, size_t *a, size_t *b)
{
    long long len = (long long)n;

    if (start < 0)
        start += len;
    if (stop < 0)
        stop += len;
    if (start < 0)
        start = 0;
    if (start > stop || start >= len)
        return false;
    if (stop >= len)
        stop = len - 1;
    *a = (size_t)start;
    *b = (size_t)stop;
    return true;
}

static struct store_reply *cmd_lrange(ARGS)
{
    struct store_reply *err, *r;
    struct mentry *e;
    long long start, stop;
    size_t a, b, i;
    struct mlist *l;

    (void)argc;
    if (!arg_ll(argv, lens, 2, &start) || !arg_ll(argv, lens, 3, &stop))
        return err_int();
    e = mem_key_for_read(x, argv[1], lens[1], T_LIST, &err);
    if (err)
        return err;
    if (e == NULL)
        return store_reply_array(0);
    l = ((struct mobj *)e->val)->u.list;
    if (!norm_range(start, stop, l->n, &a, &b))
        return store_reply_array(0);
    r = store_reply_array(b - a + 1);
    for (i = a; i <= b; i++)
        r->element[i - a] = store_reply_str(mlist_at(l, i)->p, mlist_at(l, i)->n);
    return r;
}

static struct store_reply *cmd_lindex(ARGS)
{
    struct store_reply *err;
    struct mentry *e;
    struct mlist *l;
    long long i;

    (void)argc;
    if (!arg_ll(argv, lens, 2, &i))
        return err_int();
    e = mem_key_for_read(x, argv[1], lens[1], T_LIST, &err);
    if (err)
        return err;
    if (e == NULL)
        return store_reply_nil();
    l = ((struct mobj *)e->val)->u.list;
    if (i < 0)
        i += (long long)l->n;
    if (i < 0 || i >= (long long)l->n)
        return store_reply_nil();
    return store_reply_str(mlist_at(l, (size_t)i)->p, mlist_at(l, (size_t)i)->n);
}

/* Rebuild list `o` keeping the elements for which keep[i] is true. */
static void list_filter(struct mem *m, struct mobj *o, const bool *keep)
{
    struct mlist *l = o->u.list, nl = {NULL, 0, 0, 0};
    size_t i;

    for (i = 0; i < l->n; i++) {
        struct sbuf *b = mlist_at(l, i);

        if (keep[i]) {
            mlist_push(&nl, b, false);
        } else {
            mem_charge(m, o, -(long long)(b->n + ELEM_OVERHEAD));
            free(b);
        }
    }
    free(l->v);
    *l = nl;
}

static struct store_reply *cmd_lrem(ARGS)
{
    struct store_reply *err;
    struct mentry *e;
    struct mlist *l;
    long long count, removed = 0;
    bool *keep;
    size_t i;

    (void)argc;
    if (!arg_ll(argv, lens, 2, &count))
        return err_int();
    e = mem_key_for_read(x, argv[1], lens[1], T_LIST, &err);
    if (err)
        return err;
    if (e == NULL)
        return store_reply_int(0);
    l = ((struct mobj *)e->val)->u.list;
    keep = xcalloc(l->n ? l->n : 1, sizeof(*keep));
    for (i = 0; i < l->n; i++)
        keep[i] = true;
    for (i = 0; i < l->n; i++) {
        size_t j = count < 0 ? l->n - 1 - i : i;
        struct sbuf *b = mlist_at(l, j);

        if (count != 0 && removed == (count < 0 ? -count : count))
            break;
        if (b->n == lens[3] && memcmp(b->p, argv[3], b->n) == 0) {
            keep[j] = false;
            removed++;
        }
    }
    if (removed)
        list_filter(x->m, e->val, keep);
    free(keep);
    mem_drop_if_empty(x->m, e);
    return store_reply_int(removed);
}

static struct store_reply *cmd_ltrim(ARGS)
{
    struct store_reply *err;
    struct mentry *e;
    struct mlist *l;
    long long start, stop;
    size_t a = 1, b = 0, i;
    bool *keep, any;

    (void)argc;
    if (!arg_ll(argv, lens, 2, &start) || !arg_ll(argv, lens, 3, &stop))
        return err_int();
    e = mem_key_for_read(x, argv[1], lens[1], T_LIST, &err);
    if (err)
        return err;
    if (e == NULL)
        return store_reply_status("OK");
    l = ((struct mobj *)e->val)->u.list;
    any = norm_range(start, stop, l->n, &a, &b);
    keep = xcalloc(l->n ? l->n : 1, sizeof(*keep));
    for (i = 0; i < l->n; i++)
        keep[i] = any && i >= a && i <= b;
    list_filter(x->m, e->val, keep);
    free(keep);
    mem_drop_if_empty(x->m, e);
    return store_reply_status("OK");
}

/* ------------------------------------------------------------- sets */

static struct store_reply *cmd_sadd(ARGS)
{
    struct store_reply *err;
    struct mentry *e;
    struct mobj *o;
    size_t extra = 0;
    long long added = 0;
    int i;

    for (i = 2; i < argc; i++)
        extra += lens[i] + ELEM_OVERHEAD;
    if ((e = mem_key_for_write(x, argv[1], lens[1], T_SET, extra, &err)) == NULL)
        return err;
    o = e->val;
    for (i = 2; i < argc; i++) {
        if (mdict_find(o->u.set, argv[i], lens[i]))
            continue;
        mdict_add(o->u.set, argv[i], lens[i], NULL);
        mem_charge(x->m, o, (long long)(lens[i] + ELEM_OVERHEAD));
        added++;
    }
    mem_drop_if_empty(x->m, e);
    return store_reply_int(added);
}

static struct store_reply *cmd_srem(ARGS)
{
    struct store_reply *err;
    struct mentry *e = mem_key_for_read(x, argv[1], lens[1], T_SET, &err);
    struct mobj *o;
    long long n = 0;
    int i;

    if (err)
        return err;
    if (e == NULL)
        return store_reply_int(0);
    o = e->val;
    for (i = 2; i < argc; i++) {
        struct mentry *m = mdict_find(o->u.set, argv[i], lens[i]);

        if (m) {
            mem_charge(x->m, o, -(long long)(lens[i] + ELEM_OVERHEAD));
            mdict_del(o->u.set, m);
            n++;
        }
    }
    mem_drop_if_empty(x->m, e);
    return store_reply_int(n);
}

static struct store_reply *cmd_smembers(ARGS)
{
    struct store_reply *err, *r;
    struct mentry *e = mem_key_for_read(x, argv[1], lens[1], T_SET, &err), *m;
    size_t i = 0;

    (void)argc;
    if (err)
        return err;
    if (e == NULL)
        return store_reply_array(0);
    r = store_reply_array(((struct mobj *)e->val)->u.set->n);
    for (m = ((struct mobj *)e->val)->u.set->first; m; m = m->next)
        r->element[i++] = store_reply_str(m->key, m->klen);
    return r;
}

static struct store_reply *cmd_sismember(ARGS)
{
    struct store_reply *err;
    struct mentry *e = mem_key_for_read(x, argv[1], lens[1], T_SET, &err);

    (void)argc;
    if (err)
        return err;
    return store_reply_int(e && mdict_find(((struct mobj *)e->val)->u.set, argv[2], lens[2]) ? 1 : 0);
}

static struct store_reply *cmd_scard(ARGS)
{
    struct store_reply *err;
    struct mentry *e = mem_key_for_read(x, argv[1], lens[1], T_SET, &err);

    (void)argc;
    if (err)
        return err;
    return store_reply_int(e ? (long long)((struct mobj *)e->val)->u.set->n : 0);
}

/* ------------------------------------------------------------- hashes */

/* Set field `f` of hash object `o` to `v`; returns true if it was new. */
static bool hash_put(struct mem *m, struct mobj *o, const char *f, size_t fn, const char *v, size_t vn)
{
    struct mentry *fe = mdict_find(o->u.hash, f, fn);

    if (fe) {
        struct sbuf *old = fe->val;

        mem_charge(m, o, (long long)vn - (long long)old->n);
        free(old);
        fe->val = mem_sbuf_new(v, vn);
        return false;
    }
    mdict_add(o->u.hash, f, fn, mem_sbuf_new(v, vn));
    mem_charge(m, o, (long long)(fn + vn + ELEM_OVERHEAD));
    return true;
}

static struct store_reply *cmd_hset(ARGS)
{
    struct store_reply *err;
    struct mentry *e;
    size_t extra = 0;
    long long added = 0;
    int i;

    if (argc % 2 != 0)
        return store_reply_error("ERR wrong number of arguments for 'hset' command");
    for (i = 2; i < argc; i += 2)
        extra += lens[i] + lens[i + 1] + ELEM_OVERHEAD;
    if ((e = mem_key_for_write(x, argv[1], lens[1], T_HASH, extra, &err)) == NULL)
        return err;
    for (i = 2; i < argc; i += 2)
        if (hash_put(x->m, e->val, argv[i], lens[i], argv[i + 1], lens[i + 1]))
            added++;
    return store_reply_int(added);
}

static struct store_reply *cmd_hsetnx(ARGS)
{
    struct store_reply *err;
    struct mentry *e;

    (void)argc;
    e = mem_key_for_read(x, argv[1], lens[1], T_HASH, &err);
    if (err)
        return err;
    if (e && mdict_find(((struct mobj *)e->val)->u.hash, argv[2], lens[2]))
        return store_reply_int(0);
    if ((e = mem_key_for_write(x, argv[1], lens[1], T_HASH, lens[2] + lens[3] + ELEM_OVERHEAD, &err)) == NULL)
        return err;
    hash_put(x->m, e->val, argv[2], lens[2], argv[3], lens[3]);
    return store_reply_int(1);
}

static struct store_reply *cmd_hget(ARGS)
{
    struct store_reply *err;
    struct mentry *e = mem_key_for_read(x, argv[1], lens[1], T_HASH, &err), *fe;

    (void)argc;
    if (err)
        return err;
    if (e == NULL || (fe = mdict_find(((struct mobj *)e->val)->u.hash, argv[2], lens[2])) == NULL)
        return store_reply_nil();
    return store_reply_str(((struct sbuf *)fe->val)->p, ((struct sbuf *)fe->val)->n);
}

static struct store_reply *cmd_hmget(ARGS)
{
    struct store_reply *err, *r;
    struct mentry *e = mem_key_for_read(x, argv[1], lens[1], T_HASH, &err), *fe;
    int i;

    if (err)
        return err;
    r = store_reply_array((size_t)argc - 2);
    for (i = 2; i < argc; i++) {
        fe = e ? mdict_find(((struct mobj *)e->val)->u.hash, argv[i], lens[i]) : NULL;
        r->element[i - 2] = fe ? store_reply_str(((struct sbuf *)fe->val)->p, ((struct sbuf *)fe->val)->n)
                               : store_reply_nil();
    }
    return r;
}

static struct store_reply *cmd_hdel(ARGS)
{
    struct store_reply *err;
    struct mentry *e = mem_key_for_read(x, argv[1], lens[1], T_HASH, &err);
    struct mobj *o;
    long long n = 0;
    int i;

    if (err)
        return err;
    if (e == NULL)
        return store_reply_int(0);
    o = e->val;
    for (i = 2; i < argc; i++) {
        struct mentry *fe = mdict_find(o->u.hash, argv[i], lens[i]);

        if (fe) {
            mem_charge(x->m, o, -(long long)(fe->klen + ((struct sbuf *)fe->val)->n + ELEM_OVERHEAD));
            free(fe->val);
            mdict_del(o->u.hash, fe);
            n++;
        }
    }
    mem_drop_if_empty(x->m, e);
    return store_reply_int(n);
}

/* HGETALL (keys and values), HKEYS (keys), HVALS (values). */
static struct store_reply *hash_list(struct store_exec *x, const char *k, size_t kn, bool keys, bool vals)
{
    struct store_reply *err, *r;
    struct mentry *e = mem_key_for_read(x, k, kn, T_HASH, &err), *fe;
    size_t i = 0;

    if (err)
        return err;
    if (e == NULL)
        return store_reply_array(0);
    r = store_reply_array(((struct mobj *)e->val)->u.hash->n * ((keys && vals) ? 2 : 1));
    for (fe = ((struct mobj *)e->val)->u.hash->first; fe; fe = fe->next) {
        if (keys)
            r->element[i++] = store_reply_str(fe->key, fe->klen);
        if (vals)
            r->element[i++] = store_reply_str(((struct sbuf *)fe->val)->p, ((struct sbuf *)fe->val)->n);
    }
    return r;
}

static struct store_reply *cmd_hgetall(ARGS)
{
    (void)argc;
    return hash_list(x, argv[1], lens[1], true, true);
}

static struct store_reply *cmd_hkeys(ARGS)
{
    (void)argc;
    return hash_list(x, argv[1], lens[1], true, false);
}

static struct store_reply *cmd_hvals(ARGS)
{
    (void)argc;
    return hash_list(x, argv[1], lens[1], false, true);
}

static struct store_reply *cmd_hlen(ARGS)
{
    struct store_reply *err;
    struct mentry *e = mem_key_for_read(x, argv[1], lens[1], T_HASH, &err);

    (void)argc;
    if (err)
        return err;
    return store_reply_int(e ? (long long)((struct mobj *)e->val)->u.hash->n : 0);
}

static struct store_reply *cmd_hexists(ARGS)
{
    struct store_reply *err;
    struct mentry *e = mem_key_for_read(x, argv[1], lens[1], T_HASH, &err);

    (void)argc;
    if (err)
        return err;
    return store_reply_int(e && mdict_find(((struct mobj *)e->val)->u.hash, argv[2], lens[2]) ? 1 : 0);
}

static struct store_reply *cmd_hincrby(ARGS)
{
    struct store_reply *err;
    struct mentry *e, *fe;
    long long by, v = 0;
    char buf[32];
    int n;

    (void)argc;
    if (!arg_ll(argv, lens, 3, &by))
        return err_int();
    e = mem_key_for_read(x, argv[1], lens[1], T_HASH, &err);
    if (err)
        return err;
    fe = e ? mdict_find(((struct mobj *)e->val)->u.hash, argv[2], lens[2]) : NULL;
    if (fe && !store_parse_ll(((struct sbuf *)fe->val)->p, ((struct sbuf *)fe->val)->n, &v))
        return store_reply_error("ERR hash value is not an integer");
    if ((by > 0 && v > LLONG_MAX - by) || (by < 0 && v < LLONG_MIN - by))
        return store_reply_error("ERR increment or decrement would overflow");
    v += by;
    n = snprintf(buf, sizeof(buf), "%lld", v);
    if ((e = mem_key_for_write(x, argv[1], lens[1], T_HASH, lens[2] + (size_t)n + ELEM_OVERHEAD, &err)) == NULL)
        return err;
    hash_put(x->m, e->val, argv[2], lens[2], buf, (size_t)n);
    return store_reply_int(v);
}

/* ------------------------------------------------------------- sorted sets */

static int zcmp(double s1, const char *m1, size_t n1, const struct zent *z)
{
    int c;

    if (s1 < z->score)
        return -1;
    if (s1 > z->score)
        return 1;
    c = memcmp(m1, z->m, n1 < z->n ? n1 : z->n);
    if (c)
        return c;
    return n1 < z->n ? -1 : n1 > z->n ? 1 : 0;
}

/* Index of the first entry >= (score, member). */
static size_t zfind(const struct mzset *zs, double score, const char *m, size_t n)
{
    size_t lo = 0, hi = zs->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (zcmp(score, m, n, zs->v[mid]) > 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void zremove_at(struct mem *m, struct mobj *o, size_t i)
{
    struct mzset *zs = o->u.zset;
    struct zent *z = zs->v[i];

    mdict_del(zs->d, mdict_find(zs->d, z->m, z->n));
    mem_charge(m, o, -(long long)(z->n + ELEM_OVERHEAD));
    memmove(&zs->v[i], &zs->v[i + 1], (zs->n - i - 1) * sizeof(*zs->v));
    zs->n--;
    free(z);
}

static void zinsert(struct mem *m, struct mobj *o, double score, const char *mem, size_t n)
{
    struct mzset *zs = o->u.zset;
    struct zent *z = xmalloc(sizeof(*z) + n + 1);
    size_t i;

    z->score = score;
    z->n = n;
    memcpy(z->m, mem, n);
    z->m[n] = '\0';
    if (zs->n == zs->cap) {
        zs->cap = zs->cap ? zs->cap * 2 : 8;
        zs->v = xrealloc(zs->v, zs->cap * sizeof(*zs->v));
    }
    i = zfind(zs, score, mem, n);
    memmove(&zs->v[i + 1], &zs->v[i], (zs->n - i) * sizeof(*zs->v));
    zs->v[i] = z;
    zs->n++;
    mdict_add(zs->d, mem, n, z);
    mem_charge(m, o, (long long)(n + ELEM_OVERHEAD));
}

static struct store_reply *cmd_zadd(ARGS)
{
    bool nx = false, xx = false, ch = false;
    struct store_reply *err;
    struct mentry *e;
    struct mobj *o;
    long long added = 0, changed = 0;
    size_t extra = 0;
    double *scores;
    int i, first;

    for (i = 2; i < argc; i++) {
        if (arg_is(argv, lens, i, "NX"))
            nx = true;
        else if (arg_is(argv, lens, i, "XX"))
            xx = true;
        else if (arg_is(argv, lens, i, "CH"))
            ch = true;
        else
            break;
    }
    first = i;
    if (first >= argc || (argc - first) % 2 != 0)
        return err_syntax();
    if (nx && xx)
        return store_reply_error("ERR XX and NX options at the same time are not compatible");
    scores = xcalloc((size_t)(argc - first) / 2, sizeof(*scores));
    for (i = first; i < argc; i += 2) {
        if (!arg_double(argv[i], lens[i], &scores[(i - first) / 2], false, NULL)) {
            free(scores);
            return store_reply_error("ERR value is not a valid float");
        }
        extra += lens[i + 1] + ELEM_OVERHEAD;
    }
    if (xx && mem_lookup(x, argv[1], lens[1]) == NULL) {
        free(scores);
        return store_reply_int(0);
    }
    if ((e = mem_key_for_write(x, argv[1], lens[1], T_ZSET, extra, &err)) == NULL) {
        free(scores);
        return err;
    }
    o = e->val;
    for (i = first; i < argc; i += 2) {
        double sc = scores[(i - first) / 2];
        struct mentry *me = mdict_find(o->u.zset->d, argv[i + 1], lens[i + 1]);

        if (me) {
            struct zent *z = me->val;

            if (nx || z->score == sc)
                continue;
            zremove_at(x->m, o, zfind(o->u.zset, z->score, z->m, z->n));
            zinsert(x->m, o, sc, argv[i + 1], lens[i + 1]);
            changed++;
        } else if (!xx) {
            zinsert(x->m, o, sc, argv[i + 1], lens[i + 1]);
            added++;
        }
    }
    free(scores);
    mem_drop_if_empty(x->m, e);
    return store_reply_int(ch ? added + changed : added);
}

static struct store_reply *cmd_zrem(ARGS)
{
    struct store_reply *err;
    struct mentry *e = mem_key_for_read(x, argv[1], lens[1], T_ZSET, &err);
    struct mobj *o;
    long long n = 0;
    int i;

    if (err)
        return err;
    if (e == NULL)
        return store_reply_int(0);
    o = e->val;
    for (i = 2; i < argc; i++) {
        struct mentry *me = mdict_find(o->u.zset->d, argv[i], lens[i]);

        if (me) {
            struct zent *z = me->val;

            zremove_at(x->m, o, zfind(o->u.zset, z->score, z->m, z->n));
            n++;
        }
    }
    mem_drop_if_empty(x->m, e);
    return store_reply_int(n);
}

static struct store_reply *score_reply(double d)
{
    char buf[64];
    size_t n = fmt_double(d, buf, sizeof(buf));

    return store_reply_str(buf, n);
}

static struct store_reply *cmd_zscore(ARGS)
{
    struct store_reply *err;
    struct mentry *e = mem_key_for_read(x, argv[1], lens[1], T_ZSET, &err), *me;

    (void)argc;
    if (err)
        return err;
    if (e == NULL || (me = mdict_find(((struct mobj *)e->val)->u.zset->d, argv[2], lens[2])) == NULL)
        return store_reply_nil();
    return score_reply(((struct zent *)me->val)->score);
}

static struct store_reply *cmd_zcard(ARGS)
{
    struct store_reply *err;
    struct mentry *e = mem_key_for_read(x, argv[1], lens[1], T_ZSET, &err);

    (void)argc;
    if (err)
        return err;
    return store_reply_int(e ? (long long)((struct mobj *)e->val)->u.zset->n : 0);
}

static bool in_range(double s, double min, bool minx, double max, bool maxx)
{
    return (minx ? s > min : s >= min) && (maxx ? s < max : s <= max);
}

/* Entries [a, b] of the zset as a reply, with scores if asked. */
static struct store_reply *zslice(const struct mzset *zs, size_t a, size_t b, bool scores)
{
    struct store_reply *r = store_reply_array((b - a + 1) * (scores ? 2 : 1));
    size_t i, j = 0;

    for (i = a; i <= b; i++) {
        r->element[j++] = store_reply_str(zs->v[i]->m, zs->v[i]->n);
        if (scores)
            r->element[j++] = score_reply(zs->v[i]->score);
    }
    return r;
}

static struct store_reply *cmd_zrange(ARGS)
{
    struct store_reply *err;
    struct mentry *e;
    long long start, stop;
    bool scores = false;
    size_t a, b;

    if (argc == 5 && arg_is(argv, lens, 4, "WITHSCORES"))
        scores = true;
    else if (argc != 4)
        return err_syntax();
    if (!arg_ll(argv, lens, 2, &start) || !arg_ll(argv, lens, 3, &stop))
        return err_int();
    e = mem_key_for_read(x, argv[1], lens[1], T_ZSET, &err);
    if (err)
        return err;
    if (e == NULL || !norm_range(start, stop, ((struct mobj *)e->val)->u.zset->n, &a, &b))
        return store_reply_array(0);
    return zslice(((struct mobj *)e->val)->u.zset, a, b, scores);
}

static struct store_reply *cmd_zrangebyscore(ARGS)
{
    struct store_reply *err, *r;
    struct mentry *e;
    double min, max;
    bool minx, maxx, scores = false;
    long long off = 0, count = -1;
    struct mzset *zs;
    size_t i, n = 0, k = 0;
    int j;

    if (!arg_double(argv[2], lens[2], &min, true, &minx) || !arg_double(argv[3], lens[3], &max, true, &maxx))
        return store_reply_error("ERR min or max is not a float");
    for (j = 4; j < argc; j++) {
        if (arg_is(argv, lens, j, "WITHSCORES")) {
            scores = true;
        } else if (arg_is(argv, lens, j, "LIMIT") && j + 2 < argc) {
            if (!arg_ll(argv, lens, j + 1, &off) || !arg_ll(argv, lens, j + 2, &count))
                return err_int();
            j += 2;
        } else {
            return err_syntax();
        }
    }
    e = mem_key_for_read(x, argv[1], lens[1], T_ZSET, &err);
    if (err)
        return err;
    if (e == NULL || off < 0)
        return store_reply_array(0);
    zs = ((struct mobj *)e->val)->u.zset;
    for (i = 0; i < zs->n; i++)
        if (in_range(zs->v[i]->score, min, minx, max, maxx))
            n++;
    if ((long long)n <= off)
        return store_reply_array(0);
    n -= (size_t)off;
    if (count >= 0 && (long long)n > count)
        n = (size_t)count;
    r = store_reply_array(n * (scores ? 2 : 1));
    for (i = 0; i < zs->n && n > 0; i++) {
        if (!in_range(zs->v[i]->score, min, minx, max, maxx))
            continue;
        if (off > 0) {
            off--;
            continue;
        }
        r->element[k++] = store_reply_str(zs->v[i]->m, zs->v[i]->n);
        if (scores)
            r->element[k++] = score_reply(zs->v[i]->score);
        n--;
    }
    return r;
}

static struct store_reply *cmd_zcount(ARGS)
{
    struct store_reply *err;
    struct mentry *e;
    double min, max;
    bool minx, maxx;
    long long n = 0;
    size_t i;

    (void)argc;
    if (!arg_double(argv[2], lens[2], &min, true, &minx) || !arg_double(argv[3], lens[3], &max, true, &maxx))
        return store_reply_error("ERR min or max is not a float");
    e = mem_key_for_read(x, argv[1], lens[1], T_ZSET, &err);
    if (err)
        return err;
    if (e == NULL)
        return store_reply_int(0);
    for (i = 0; i < ((struct mobj *)e->val)->u.zset->n; i++)
        if (in_range(((struct mobj *)e->val)->u.zset->v[i]->score, min, minx, max, maxx))
            n++;
    return store_reply_int(n);
}

static struct store_reply *cmd_zremrangebyscore(ARGS)
{
    struct store_reply *err;
    struct mentry *e;
    double min, max;
    bool minx, maxx;
    long long n = 0;
    size_t i;

    (void)argc;
    if (!arg_double(argv[2], lens[2], &min, true, &minx) || !arg_double(argv[3], lens[3], &max, true, &maxx))
        return store_reply_error("ERR min or max is not a float");
    e = mem_key_for_read(x, argv[1], lens[1], T_ZSET, &err);
    if (err)
        return err;
    if (e == NULL)
        return store_reply_int(0);
    for (i = 0; i < ((struct mobj *)e->val)->u.zset->n;) {
        if (in_range(((struct mobj *)e->val)->u.zset->v[i]->score, min, minx, max, maxx)) {
            zremove_at(x->m, e->val, i);
            n++;
        } else {
            i++;
        }
    }
    mem_drop_if_empty(x->m, e);
    return store_reply_int(n);
}

/* ------------------------------------------------------------- the command table */

const struct mcmd store_mem_commands[] = {
    {"append", cmd_append, 3},
    {"dbsize", cmd_dbsize, 1},
    {"decr", cmd_decr, 2},
    {"decrby", cmd_decrby, 3},
    {"del", cmd_del, -2},
    {"echo", cmd_echo, 2},
    {"exists", cmd_exists, -2},
    {"expire", cmd_expire, -3},
    {"expireat", cmd_expireat, -3},
    {"flushall", cmd_flushdb, -1},
    {"flushdb", cmd_flushdb, -1},
    {"get", cmd_get, 2},
    {"getset", cmd_getset, 3},
    {"hdel", cmd_hdel, -3},
    {"hexists", cmd_hexists, 3},
    {"hget", cmd_hget, 3},
    {"hgetall", cmd_hgetall, 2},
    {"hincrby", cmd_hincrby, 4},
    {"hkeys", cmd_hkeys, 2},
    {"hlen", cmd_hlen, 2},
    {"hmget", cmd_hmget, -3},
    {"hset", cmd_hset, -4},
    {"hsetnx", cmd_hsetnx, 4},
    {"hvals", cmd_hvals, 2},
    {"incr", cmd_incr, 2},
    {"incrby", cmd_incrby, 3},
    {"keys", cmd_keys, 2},
    {"lindex", cmd_lindex, 3},
    {"llen", cmd_llen, 2},
    {"lpop", cmd_lpop, -2},
    {"lpush", cmd_lpush, -3},
    {"lrange", cmd_lrange, 4},
    {"lrem", cmd_lrem, 4},
    {"ltrim", cmd_ltrim, 4},
    {"mget", cmd_mget, -2},
    {"mset", cmd_mset, -3},
    {"persist", cmd_persist, 2},
    {"pexpire", cmd_pexpire, -3},
    {"pexpireat", cmd_pexpireat, -3},
    {"ping", cmd_ping, -1},
    {"psetex", cmd_psetex, 4},
    {"pttl", cmd_pttl, 2},
    {"publish", cmd_publish, 3},
    {"rpop", cmd_rpop, -2},
    {"rpush", cmd_rpush, -3},
    {"sadd", cmd_sadd, -3},
    {"scan", cmd_scan, -2},
    {"scard", cmd_scard, 2},
    {"select", cmd_select, 2},
    {"set", cmd_set, -3},
    {"setex", cmd_setex, 4},
    {"setnx", cmd_setnx, 3},
    {"sismember", cmd_sismember, 3},
    {"smembers", cmd_smembers, 2},
    {"srem", cmd_srem, -3},
    {"strlen", cmd_strlen, 2},
    {"ttl", cmd_ttl, 2},
    {"type", cmd_type, 2},
    {"unlink", cmd_del, -2},
    {"zadd", cmd_zadd, -4},
    {"zcard", cmd_zcard, 2},
    {"zcount", cmd_zcount, 4},
    {"zrange", cmd_zrange, -4},
    {"zrangebyscore", cmd_zrangebyscore, -4},
    {"zrem", cmd_zrem, -3},
    {"zremrangebyscore", cmd_zremrangebyscore, 4},
    {"zscore", cmd_zscore, 3},
};

int mem_cmd_cmp(const void *k, const void *e)
{
    return strcasecmp(k, ((const struct mcmd *)e)->name);
}

const size_t store_mem_ncommands = sizeof(store_mem_commands) / sizeof(store_mem_commands[0]);
