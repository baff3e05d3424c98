/*
 * queue.c - node-resque 9's Queue over the store: every read and write of
 * the task API, with node-resque's keys, encodings and results
 * (tasks.md §2, §4), so that Node processes sharing the Redis database see
 * the same data.
 *
 * Where node-resque is not atomic or loses data on a crash, we keep its
 * Redis effects but close the gap (noted where it happens): forceCleanWorker
 * also deletes the working-on key it means to delete, and retryStuckJobs
 * does not skip records after a retried one.
 */
#include "tasks/tasks_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/json_out.h"
#include "log/log.h"

static void fail_from(struct op *op, int status, const char *error)
{
    op_fail(op, status, "%s", error ? error : ah_strerror(status));
}

/* Parsed job text; text that is not JSON is kept as a string. */
static json_t *parsed_or_raw(const struct store_reply *r)
{
    json_t *v = tq_parse(r->str, r->len);

    return v ? v : json_stringn_nocheck(r->str, r->len);
}

static json_t *parsed_array(const struct store_reply *r)
{
    json_t *a = json_array();
    size_t i;

    for (i = 0; r && r->type == STORE_REPLY_ARRAY && i < r->elements; i++)
        if (tq_reply_str(r->element[i]))
            json_array_append_new(a, parsed_or_raw(r->element[i]));
    return a;
}

static void started(struct op *op)
{
    op->in_call = false;
}

static void ll(char *out, size_t n, long long v)
{
    snprintf(out, n, "%lld", v);
}

/* ---------------------------------------------------------------- scan */

struct scan_op {
    struct op op;
    char *pattern;
    char cursor[32];
    char count[24];
    json_t *keys;
};

static void scan_release(struct op *op)
{
    struct scan_op *x = (struct scan_op *)op;

    free(x->pattern);
    json_decref(x->keys);
}

static void scan_next(struct op *op, const struct store_reply *r)
{
    struct scan_op *x = (struct scan_op *)op;
    const struct store_reply *keys;
    size_t i;

    if (r->type != STORE_REPLY_ARRAY || r->elements != 2 || !tq_reply_str(r->element[0]) ||
        r->element[1]->type != STORE_REPLY_ARRAY) {
        op_fail(op, AH_EFAIL, "unexpected SCAN reply");
        return;
    }
    keys = r->element[1];
    for (i = 0; i < keys->elements; i++)
        if (tq_reply_str(keys->element[i]))
            json_array_append_new(x->keys, json_stringn_nocheck(keys->element[i]->str, keys->element[i]->len));
    snprintf(x->cursor, sizeof(x->cursor), "%s", r->element[0]->str);
    if (strcmp(x->cursor, "0") == 0) {
        json_t *k = x->keys;

        x->keys = NULL;
        op_done(op, k);
        return;
    }
    op_cmdl(op, scan_next, "SCAN", x->cursor, "MATCH", x->pattern, "COUNT", x->count, NULL);
}

void tq_scan(struct tasks *t, const char *pattern, tq_cb cb, void *arg)
{
    struct scan_op *x = (struct scan_op *)op_new(t, sizeof(*x), cb, arg);

    x->op.release = scan_release;
    x->pattern = xstrdup(pattern);
    x->keys = json_array();
    ll(x->count, sizeof(x->count), config_int(t->app, "redis.scanCount", 1000));
    op_cmdl(&x->op, scan_next, "SCAN", "0", "MATCH", x->pattern, "COUNT", x->count, NULL);
    started(&x->op);
}

/* ---------------------------------------------------------------- enqueue */

struct enq_op {
    struct op op;
    struct ah_job *job;
    char *qkey, *queues_key, *enc;
};

static void enq_release(struct op *op)
{
    struct enq_op *x = (struct enq_op *)op;

    job_free(x->job);
    free(x->qkey);
    free(x->queues_key);
    free(x->enc);
}

static void enq_after(struct ah_job *job, int rc, void *arg)
{
    struct op *op = arg;

    if (rc < 0)
        op_fail(op, rc, "%s", job->error ? job->error : ah_strerror(rc));
    else
        op_done(op, json_true());
}

static void enq_pushed(struct op *op, const struct store_reply *r)
{
    struct enq_op *x = (struct enq_op *)op;

    (void)r;
    plugins_run(x->job, HOOK_AFTER_ENQUEUE, enq_after, op);
}

static void enq_before(struct ah_job *job, int rc, void *arg)
{
    struct enq_op *x = arg;
    struct store_batch b = STORE_BATCH_INIT;

    if (rc < 0) {
        op_fail(&x->op, rc, "%s", job->error ? job->error : ah_strerror(rc));
        return;
    }
    if (rc == 0) {
        op_done(&x->op, json_false());
        return;
    }
    /* the plugins may have changed the args */
    x->enc = tq_encode(job->queue, job->cls, job->args);
    x->qkey = tq_key(x->op.t, "queue", job->queue, NULL);
    x->queues_key = tq_key(x->op.t, "queues", NULL);
    store_batch_add(&b, "SADD", x->queues_key, job->queue, NULL);
    store_batch_add(&b, "RPUSH", x->qkey, x->enc, NULL);
    op_multi(&x->op, enq_pushed, &b);
    store_batch_release(&b);
}

void tq_enqueue(struct tasks *t, const char *q, const char *cls, json_t *args, tq_cb cb, void *arg)
{
    struct enq_op *x = (struct enq_op *)op_new(t, sizeof(*x), cb, arg);

    x->op.release = enq_release;
    x->job = job_new(t, q, cls, args, NULL);
    plugins_run(x->job, HOOK_BEFORE_ENQUEUE, enq_before, x);
    started(&x->op);
}

/* ---------------------------------------------------------------- enqueueAt */

struct enqat_op {
    struct op op;
    char *enc, *tskey, *dkey, *skey;
    char member[48], secs[24];
    bool suppress;
};

static void enqat_release(struct op *op)
{
    struct enqat_op *x = (struct enqat_op *)op;

    free(x->enc);
    free(x->tskey);
    free(x->dkey);
    free(x->skey);
}

static void enqat_pushed(struct op *op, const struct store_reply *r)
{
    (void)r;
    op_done(op, json_true());
}

static void enqat_checked(struct op *op, const struct store_reply *r)
{
    struct enqat_op *x = (struct enqat_op *)op;
    struct store_batch b = STORE_BATCH_INIT;

    if (r->type == STORE_REPLY_INT && r->integer == 1) {
        if (x->suppress)
            op_done(op, json_null());
        else
            op_fail(op, AH_EINVAL, "Job already enqueued at this time with same arguments");
        return;
    }
    store_batch_add(&b, "RPUSH", x->dkey, x->enc, NULL);
    store_batch_add(&b, "SADD", x->tskey, x->member, NULL);
    store_batch_add(&b, "ZADD", x->skey, x->secs, x->secs, NULL);
    op_multi(op, enqat_pushed, &b);
    store_batch_release(&b);
}

void tq_enqueue_at(struct tasks *t, long long ts_ms, const char *q, const char *cls, json_t *args,
                   bool suppress, tq_cb cb, void *arg)
{
    struct enqat_op *x = (struct enqat_op *)op_new(t, sizeof(*x), cb, arg);
    long long secs = (long long)floor((double)ts_ms / 1000.0 + 0.5); /* Math.round */
    char *tspart;

    x->op.release = enqat_release;
    x->suppress = suppress;
    x->enc = tq_encode(q, cls, args);
    ll(x->secs, sizeof(x->secs), secs);
    snprintf(x->member, sizeof(x->member), "delayed:%lld", secs);
    tspart = xasprintf("timestamps:%s", x->enc);
    x->tskey = tq_key(t, tspart, NULL);
    free(tspart);
    x->dkey = tq_key(t, x->member, NULL);
    x->skey = tq_key(t, "delayed_queue_schedule", NULL);
    op_cmdl(&x->op, enqat_checked, "SISMEMBER", x->tskey, x->member, NULL);
    started(&x->op);
}

/* ---------------------------------------------------------------- simple replies */

/* An op whose result is the reply converted by `conv`. */
struct simple_op {
    struct op op;
    json_t *(*conv)(const struct store_reply *r, void *carg);
    void *carg;
};

static void simple_got(struct op *op, const struct store_reply *r)
{
    struct simple_op *x = (struct simple_op *)op;

    op_done(op, x->conv(r, x->carg));
}

static json_t *conv_int(const struct store_reply *r, void *carg)
{
    (void)carg;
    return json_integer(r->type == STORE_REPLY_INT ? r->integer : 0);
}

static json_t *conv_str_or_null(const struct store_reply *r, void *carg)
{
    (void)carg;
    return tq_reply_str(r) ? json_stringn_nocheck(r->str, r->len) : json_null();
}

static json_t *conv_parsed_array(const struct store_reply *r, void *carg)
{
    (void)carg;
    return parsed_array(r);
}

static json_t *conv_null(const struct store_reply *r, void *carg)
{
    (void)r;
    (void)carg;
    return json_null();
}

static json_t *conv_tail_ints(const struct store_reply *r, void *carg)
{
    json_t *a = json_array();
    size_t i;

    (void)carg;
    for (i = 0; r->type == STORE_REPLY_ARRAY && i < r->elements; i++)
        if (tq_reply_str(r->element[i]))
            json_array_append_new(a, json_integer(tq_tail_int(r->element[i]->str)));
    return a;
}

static struct simple_op *simple_new(struct tasks *t, json_t *(*conv)(const struct store_reply *, void *),
                                    tq_cb cb, void *arg)
{
    struct simple_op *x = (struct simple_op *)op_new(t, sizeof(*x), cb, arg);

    x->conv = conv;
    return x;
}

void tq_del(struct tasks *t, const char *q, const char *cls, json_t *args, long long count, tq_cb cb,
            void *arg)
{
    struct simple_op *x = simple_new(t, conv_int, cb, arg);
    char *enc = tq_encode(q, cls, args), *key = tq_key(t, "queue", q, NULL), n[24];

    ll(n, sizeof(n), count);
    op_cmdl(&x->op, simple_got, "LREM", key, n, enc, NULL);
    free(enc);
    free(key);
    started(&x->op);
}

void tq_scheduled_at(struct tasks *t, const char *q, const char *cls, json_t *args, tq_cb cb, void *arg)
{
    struct simple_op *x = simple_new(t, conv_tail_ints, cb, arg);
    char *enc = tq_encode(q, cls, args), *part = xasprintf("timestamps:%s", enc), *key = tq_key(t, part, NULL);

    op_cmdl(&x->op, simple_got, "SMEMBERS", key, NULL);
    free(enc);
    free(part);
    free(key);
    started(&x->op);
}

void tq_queued(struct tasks *t, const char *q, long long start, long long stop, tq_cb cb, void *arg)
{
    struct simple_op *x = simple_new(t, conv_parsed_array, cb, arg);
    char *key = tq_key(t, "queue", q, NULL), a[24], b[24];

    ll(a, sizeof(a), start);
    ll(b, sizeof(b), stop);
    op_cmdl(&x->op, simple_got, "LRANGE", key, a, b, NULL);
    free(key);
    started(&x->op);
}

void tq_del_queue(struct tasks *t, const char *q, tq_cb cb, void *arg)
{
    struct simple_op *x = simple_new(t, conv_null, cb, arg);
    char *key = tq_key(t, "queue", q, NULL), *qs = tq_key(t, "queues", NULL);
    struct store_batch b = STORE_BATCH_INIT;

    store_batch_add(&b, "DEL", key, NULL);
    store_batch_add(&b, "SREM", qs, q, NULL);
    op_multi(&x->op, simple_got, &b);
    store_batch_release(&b);
    free(key);
    free(qs);
    started(&x->op);
}

void tq_del_lock(struct tasks *t, const char *lock, tq_cb cb, void *arg)
{
    struct simple_op *x = simple_new(t, conv_int, cb, arg);
    char *key = tq_key(t, lock, NULL);

    op_cmdl(&x->op, simple_got, "DEL", key, NULL);
    free(key);
    started(&x->op);
}

void tq_working_on(struct tasks *t, const char *name, const char *queues, tq_cb cb, void *arg)
{
    struct simple_op *x = simple_new(t, conv_str_or_null, cb, arg);
    char *full = xasprintf("%s:%s", name, queues), *key = tq_key(t, "worker", full, NULL);

    op_cmdl(&x->op, simple_got, "GET", key, NULL);
    free(full);
    free(key);
    started(&x->op);
}

void tq_failed_count(struct tasks *t, tq_cb cb, void *arg)
{
    struct simple_op *x = simple_new(t, conv_int, cb, arg);
    char *key = tq_key(t, "failed", NULL);

    op_cmdl(&x->op, simple_got, "LLEN", key, NULL);
    free(key);
    started(&x->op);
}

void tq_failed(struct tasks *t, long long start, long long stop, tq_cb cb, void *arg)
{
    struct simple_op *x = simple_new(t, conv_parsed_array, cb, arg);
    char *key = tq_key(t, "failed", NULL), a[24], b[24];

    ll(a, sizeof(a), start);
    ll(b, sizeof(b), stop);
    op_cmdl(&x->op, simple_got, "LRANGE", key, a, b, NULL);
    free(key);
    started(&x->op);
}

void tq_remove_failed(struct tasks *t, json_t *record, tq_cb cb, void *arg)
{
    struct simple_op *x = simple_new(t, conv_int, cb, arg);
    char *key = tq_key(t, "failed", NULL), *enc = json_out_str(record, 0, 0, NULL);

    op_cmdl(&x->op, simple_got, "LREM", key, "1", enc, NULL);
    free(key);
    free(enc);
    started(&x->op);
}

/* ---------------------------------------------------------------- delByFunction */

struct dbf_op {
    struct op op;
    char *key, *cls;
    long long n;
};

static void dbf_release(struct op *op)
{
    struct dbf_op *x = (struct dbf_op *)op;

    free(x->key);
    free(x->cls);
}

static void dbf_deleted(struct op *op, const struct store_reply *r)
{
    (void)r;
    op_done(op, json_integer(((struct dbf_op *)op)->n));
}

static void dbf_listed(struct op *op, const struct store_reply *r)
{
    struct dbf_op *x = (struct dbf_op *)op;
    struct store_batch b = STORE_BATCH_INIT;
    size_t i;

    for (i = 0; r->type == STORE_REPLY_ARRAY && i < r->elements; i++) {
        const struct store_reply *e = r->element[i];
        json_t *job = tq_reply_str(e) ? tq_parse(e->str, e->len) : NULL;
        const char *c = json_string_value(json_object_get(job, "class"));

        if (c && strcmp(c, x->cls) == 0) {
            const char *argv[] = {"LREM", x->key, "0", e->str};
            size_t lens[] = {4, strlen(x->key), 1, e->len};

            store_batch_addv(&b, 4, argv, lens);
            x->n++;
        }
        json_decref(job);
    }
    if (x->n == 0)
        op_done(op, json_integer(0));
    else
        op_multi(op, dbf_deleted, &b);
    store_batch_release(&b);
}

void tq_del_by_function(struct tasks *t, const char *q, const char *cls, long long start, long long stop,
                        tq_cb cb, void *arg)
{
    struct dbf_op *x = (struct dbf_op *)op_new(t, sizeof(*x), cb, arg);
    char a[24], b[24];

    x->op.release = dbf_release;
    x->key = tq_key(t, "queue", q, NULL);
    x->cls = xstrdup(cls);
    ll(a, sizeof(a), start);
    ll(b, sizeof(b), stop);
    op_cmdl(&x->op, dbf_listed, "LRANGE", x->key, a, b, NULL);
    started(&x->op);
}

/* ---------------------------------------------------------------- delDelayed */

struct dd_op {
    struct op op;
    char *enc, *tskey;
    json_t *members;   /* array of "delayed:<s>" */
    size_t i;
    json_t *removed;   /* array of members removed from */
};

static void dd_release(struct op *op)
{
    struct dd_op *x = (struct dd_op *)op;

    free(x->enc);
    free(x->tskey);
    json_decref(x->members);
    json_decref(x->removed);
}

static void dd_srem_done(struct op *op, const struct store_reply *r)
{
    struct dd_op *x = (struct dd_op *)op;
    json_t *out = json_array();
    size_t i;
    json_t *m;

    (void)r;
    json_array_foreach(x->removed, i, m)
        json_array_append_new(out, json_integer(tq_tail_int(json_string_value(m))));
    op_done(op, out);
}

static void dd_step(struct op *op, const struct store_reply *r);

static void dd_next(struct op *op)
{
    struct dd_op *x = (struct dd_op *)op;

    if (x->i < json_array_size(x->members)) {
        char *key = tq_key(op->t, json_string_value(json_array_get(x->members, x->i)), NULL);

        op_cmdl(op, dd_step, "LREM", key, "0", x->enc, NULL);
        free(key);
        return;
    }
    if (json_array_size(x->removed) == 0) {
        op_done(op, json_array());
    } else {
        struct store_batch b = STORE_BATCH_INIT;
        size_t i;
        json_t *m;

        json_array_foreach(x->removed, i, m)
            store_batch_add(&b, "SREM", x->tskey, json_string_value(m), NULL);
        op_multi(op, dd_srem_done, &b);
        store_batch_release(&b);
    }
}

static void dd_step(struct op *op, const struct store_reply *r)
{
    struct dd_op *x = (struct dd_op *)op;

    if (r->type == STORE_REPLY_INT && r->integer > 0)
        json_array_append(x->removed, json_array_get(x->members, x->i));
    x->i++;
    dd_next(op);
}

static void dd_members(struct op *op, const struct store_reply *r)
{
    struct dd_op *x = (struct dd_op *)op;
    size_t i;

    for (i = 0; r->type == STORE_REPLY_ARRAY && i < r->elements; i++)
        if (tq_reply_str(r->element[i]))
            json_array_append_new(x->members, json_stringn_nocheck(r->element[i]->str, r->element[i]->len));
    dd_next(op);
}

void tq_del_delayed(struct tasks *t, const char *q, const char *cls, json_t *args, tq_cb cb, void *arg)
{
    struct dd_op *x = (struct dd_op *)op_new(t, sizeof(*x), cb, arg);
    char *part;

    x->op.release = dd_release;
    x->enc = tq_encode(q, cls, args);
    part = xasprintf("timestamps:%s", x->enc);
    x->tskey = tq_key(t, part, NULL);
    free(part);
    x->members = json_array();
    x->removed = json_array();
    op_cmdl(&x->op, dd_members, "SMEMBERS", x->tskey, NULL);
    started(&x->op);
}

/* ---------------------------------------------------------------- timestamps, delayedAt, allDelayed */

static int cmp_js_sort(const void *a, const void *b)
{
    /* Array#sort without a comparator compares the numbers as strings */
    char x[32], y[32];

    snprintf(x, sizeof(x), "%lld", *(const long long *)a);
    snprintf(y, sizeof(y), "%lld", *(const long long *)b);
    return strcmp(x, y);
}

static json_t *timestamps_of(json_t *keys)
{
    size_t n = json_array_size(keys), i;
    long long *v = xcalloc(n + 1, sizeof(*v));
    json_t *out = json_array();

    for (i = 0; i < n; i++)
        v[i] = tq_tail_int(json_string_value(json_array_get(keys, i))) * 1000;
    qsort(v, n, sizeof(*v), cmp_js_sort);
    for (i = 0; i < n; i++)
        json_array_append_new(out, json_integer(v[i]));
    free(v);
    return out;
}

struct ts_op {
    struct op op;
};

static void ts_scanned(int status, json_t *result, const char *error, void *arg)
{
    struct op *op = arg;

    if (status < 0)
        fail_from(op, status, error);
    else
        op_done(op, timestamps_of(result));
}

void tq_timestamps(struct tasks *t, tq_cb cb, void *arg)
{
    struct ts_op *x = (struct ts_op *)op_new(t, sizeof(*x), cb, arg);
    char *pattern = tq_key(t, "delayed:*", NULL);

    tq_scan(t, pattern, ts_scanned, x);
    free(pattern);
    started(&x->op);
}

struct dat_op {
    struct op op;
    long long secs;
};

static void dat_got(struct op *op, const struct store_reply *r)
{
    struct dat_op *x = (struct dat_op *)op;

    op_done(op, json_pack("{s:o,s:I}", "tasks", parsed_array(r), "rTimestamp", (json_int_t)x->secs));
}

void tq_delayed_at(struct tasks *t, long long ts_ms, tq_cb cb, void *arg)
{
    struct dat_op *x = (struct dat_op *)op_new(t, sizeof(*x), cb, arg);
    char part[48], *key;

    x->secs = (long long)floor((double)ts_ms / 1000.0 + 0.5);
    snprintf(part, sizeof(part), "delayed:%lld", x->secs);
    key = tq_key(t, part, NULL);
    op_cmdl(&x->op, dat_got, "LRANGE", key, "0", "-1", NULL);
    free(key);
    started(&x->op);
}

struct ad_op {
    struct op op;
    json_t *ts;        /* array of ms */
    size_t i;
    json_t *out;
};

static void ad_release(struct op *op)
{
    struct ad_op *x = (struct ad_op *)op;

    json_decref(x->ts);
    json_decref(x->out);
}

static void ad_next(struct ad_op *x);

static void ad_got(int status, json_t *result, const char *error, void *arg)
{
    struct ad_op *x = arg;
    char k[32];

    if (status < 0) {
        fail_from(&x->op, status, error);
        return;
    }
    snprintf(k, sizeof(k), "%lld", (long long)json_integer_value(json_object_get(result, "rTimestamp")) * 1000);
    json_object_set(x->out, k, json_object_get(result, "tasks"));
    x->i++;
    ad_next(x);
}

static void ad_next(struct ad_op *x)
{
    json_t *out;

    if (x->i < json_array_size(x->ts)) {
        tq_delayed_at(x->op.t, (long long)json_integer_value(json_array_get(x->ts, x->i)), ad_got, x);
        return;
    }
    out = x->out;
    x->out = NULL;
    op_done(&x->op, out);
}

static void ad_ts(int status, json_t *result, const char *error, void *arg)
{
    struct ad_op *x = arg;

    if (status < 0) {
        fail_from(&x->op, status, error);
        return;
    }
    x->ts = json_incref(result);
    ad_next(x);
}

void tq_all_delayed(struct tasks *t, tq_cb cb, void *arg)
{
    struct ad_op *x = (struct ad_op *)op_new(t, sizeof(*x), cb, arg);

    x->op.release = ad_release;
    x->out = json_object();
    tq_timestamps(t, ad_ts, x);
    started(&x->op);
}

/* ---------------------------------------------------------------- locks, stats */

/* Scan one or two patterns, MGET the keys, strip `strip` from each key. */
struct kv_op {
    struct op op;
    char *pat2;
    char *strip;
    bool strip_colon;
    json_t *keys;
};

static void kv_release(struct op *op)
{
    struct kv_op *x = (struct kv_op *)op;

    free(x->pat2);
    free(x->strip);
    json_decref(x->keys);
}

static void kv_got(struct op *op, const struct store_reply *r)
{
    struct kv_op *x = (struct kv_op *)op;
    json_t *out = json_object();
    size_t i;

    for (i = 0; i < json_array_size(x->keys); i++) {
        const char *k = json_string_value(json_array_get(x->keys, i));
        const char *hit = strstr(k, x->strip); /* String#replace: the first occurrence */
        const struct store_reply *v = r->type == STORE_REPLY_ARRAY && i < r->elements ? r->element[i] : NULL;
        struct buf b = BUF_INIT;

        if (hit) {
            buf_add(&b, k, (size_t)(hit - k));
            buf_adds(&b, hit + strlen(x->strip));
        } else {
            buf_adds(&b, k);
        }
        if (x->strip_colon && b.len && b.data[0] == ':')
            json_object_set_new(out, b.data + 1, tq_reply_str(v) ? json_stringn_nocheck(v->str, v->len) : json_null());
        else
            json_object_set_new(out, b.data ? b.data : "",
                                tq_reply_str(v) ? json_stringn_nocheck(v->str, v->len) : json_null());
        buf_release(&b);
    }
    op_done(op, out);
}

static void kv_mget(struct kv_op *x)
{
    size_t n = json_array_size(x->keys), i;
    const char **argv;

    if (n == 0) {
        op_done(&x->op, json_object());
        return;
    }
    argv = xcalloc(n + 1, sizeof(*argv));
    argv[0] = "MGET";
    for (i = 0; i < n; i++)
        argv[i + 1] = json_string_value(json_array_get(x->keys, i));
    op_cmd(&x->op, kv_got, (int)n + 1, argv, NULL);
    free(argv);
}

static void kv_scanned2(int status, json_t *result, const char *error, void *arg)
{
    struct kv_op *x = arg;

    if (status < 0) {
        fail_from(&x->op, status, error);
        return;
    }
    json_array_extend(x->keys, result);
    kv_mget(x);
}

static void kv_scanned(int status, json_t *result, const char *error, void *arg)
{
    struct kv_op *x = arg;

    if (status < 0) {
        fail_from(&x->op, status, error);
        return;
    }
    x->keys = json_incref(result);
    if (x->pat2)
        tq_scan(x->op.t, x->pat2, kv_scanned2, x);
    else
        kv_mget(x);
}

void tq_locks(struct tasks *t, tq_cb cb, void *arg)
{
    struct kv_op *x = (struct kv_op *)op_new(t, sizeof(*x), cb, arg);
    char *p1 = tq_key(t, "lock:*", NULL);

    x->op.release = kv_release;
    x->pat2 = tq_key(t, "workerslock:*", NULL);
    x->strip = tq_key(t, "", NULL);
    x->strip_colon = true;
    tq_scan(t, p1, kv_scanned, x);
    free(p1);
    started(&x->op);
}

void tq_stats(struct tasks *t, tq_cb cb, void *arg)
{
    struct kv_op *x = (struct kv_op *)op_new(t, sizeof(*x), cb, arg);
    char *p1 = tq_key(t, "stat:*", NULL);

    x->op.release = kv_release;
    x->strip = tq_key(t, "stat:", NULL);
    tq_scan(t, p1, kv_scanned, x);
    free(p1);
    started(&x->op);
}

/* ---------------------------------------------------------------- workers */

/* "<host>:<pid>+<n>:<queues>" -> name and queues, as node-resque splits. */
static void split_worker(const char *s, char **name, char **queues)
{
    const char *c1 = strchr(s, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

    if (c1 == NULL) {
        *name = xstrdup(s);
        *queues = NULL;
    } else if (c2 == NULL) {
        *name = xstrndup(s, (size_t)(c1 - s));
        *queues = xstrdup(c1 + 1);
    } else {
        *name = xstrndup(s, (size_t)(c2 - s));
        *queues = xstrdup(c2 + 1);
    }
}

static json_t *conv_workers(const struct store_reply *r, void *carg)
{
    json_t *out = json_object();
    size_t i;

    (void)carg;
    for (i = 0; r->type == STORE_REPLY_ARRAY && i < r->elements; i++) {
        char *name, *queues;

        if (!tq_reply_str(r->element[i]))
            continue;
        split_worker(r->element[i]->str, &name, &queues);
        json_object_set_new(out, name, queues ? json_string_nocheck(queues) : json_null());
        free(name);
        free(queues);
    }
    return out;
}

void tq_workers(struct tasks *t, tq_cb cb, void *arg)
{
    struct simple_op *x = simple_new(t, conv_workers, cb, arg);
    char *key = tq_key(t, "workers", NULL);

    op_cmdl(&x->op, simple_got, "SMEMBERS", key, NULL);
    free(key);
    started(&x->op);
}

struct awo_op {
    struct op op;
    json_t *workers;
    json_t *names;
    size_t i;
    json_t *out;
};

static void awo_release(struct op *op)
{
    struct awo_op *x = (struct awo_op *)op;

    json_decref(x->workers);
    json_decref(x->names);
    json_decref(x->out);
}

static void awo_next(struct awo_op *x);

static void awo_got(struct op *op, const struct store_reply *r)
{
    struct awo_op *x = (struct awo_op *)op;

    if (tq_reply_str(r)) {
        json_t *p = tq_parse(r->str, r->len);
        const char *w = json_string_value(json_object_get(p, "worker"));

        if (json_is_object(p) && w)
            json_object_set(x->out, w, p);
        json_decref(p);
    }
    x->i++;
    awo_next(x);
}

static void awo_next(struct awo_op *x)
{
    json_t *out;

    if (x->i < json_array_size(x->names)) {
        const char *w = json_string_value(json_array_get(x->names, x->i));
        const char *q = json_string_value(json_object_get(x->workers, w));
        char *full = xasprintf("%s:%s", w, q ? q : ""), *key = tq_key(x->op.t, "worker", full, NULL);

        op_cmdl(&x->op, awo_got, "GET", key, NULL);
        free(full);
        free(key);
        return;
    }
    out = x->out;
    x->out = NULL;
    op_done(&x->op, out);
}

static void awo_workers(int status, json_t *result, const char *error, void *arg)
{
    struct awo_op *x = arg;
    const char *k;
    json_t *v;

    if (status < 0) {
        fail_from(&x->op, status, error);
        return;
    }
    x->workers = json_incref(result);
    x->names = json_array();
    json_object_foreach(result, k, v) {
        json_array_append_new(x->names, json_string_nocheck(k));
        json_object_set_new(x->out, k, json_string("started"));
    }
    awo_next(x);
}

void tq_all_working_on(struct tasks *t, tq_cb cb, void *arg)
{
    struct awo_op *x = (struct awo_op *)op_new(t, sizeof(*x), cb, arg);

    x->op.release = awo_release;
    x->out = json_object();
    tq_workers(t, awo_workers, x);
    started(&x->op);
}

/* ---------------------------------------------------------------- failures */

json_t *tq_failure_record(const char *worker, const char *queue, json_t *payload, const char *exception,
                          const char *error, json_t *backtrace)
{
    char date[96];
    json_t *o = json_object();

    tq_date_string(core_now_ms(), date, sizeof(date));
    json_object_set_new(o, "worker", json_string_nocheck(worker ? worker : ""));
    json_object_set_new(o, "queue", queue ? json_string_nocheck(queue) : json_null());
    json_object_set_new(o, "payload", payload ? json_incref(payload) : json_object());
    json_object_set_new(o, "exception", json_string_nocheck(exception ? exception : "Error"));
    json_object_set_new(o, "error", json_string_nocheck(error ? error : ""));
    json_object_set_new(o, "backtrace", backtrace ? json_incref(backtrace) : json_null());
    json_object_set_new(o, "failed_at", json_string(date));
    return o;
}

struct raf_op {
    struct op op;
    json_t *record;
};

static void raf_release(struct op *op)
{
    json_decref(((struct raf_op *)op)->record);
}

static void raf_enqueued(int status, json_t *result, const char *error, void *arg)
{
    struct raf_op *x = arg;

    if (status < 0)
        fail_from(&x->op, status, error);
    else
        op_done(&x->op, json_incref(result));
}

static void raf_removed(int status, json_t *result, const char *error, void *arg)
{
    struct raf_op *x = arg;
    json_t *payload, *args;

    if (status < 0) {
        fail_from(&x->op, status, error);
        return;
    }
    if (json_integer_value(result) < 1) {
        op_fail(&x->op, AH_ENOTFOUND, "This job is not in failed queue");
        return;
    }
    payload = json_object_get(x->record, "payload");
    args = json_object_get(payload, "args");
    args = json_is_array(args) ? json_incref(args) : tq_args_of(args);
    tq_enqueue(x->op.t, json_string_value(json_object_get(x->record, "queue")),
               json_string_value(json_object_get(payload, "class")), args, raf_enqueued, x);
    json_decref(args);
}

void tq_retry_and_remove_failed(struct tasks *t, json_t *record, tq_cb cb, void *arg)
{
    struct raf_op *x = (struct raf_op *)op_new(t, sizeof(*x), cb, arg);

    x->op.release = raf_release;
    x->record = json_deep_copy(record);
    tq_remove_failed(t, x->record, raf_removed, x);
    started(&x->op);
}

/* forceCleanWorker: the stuck worker's job becomes a failure record. */
struct fcw_op {
    struct op op;
    char *name;
    char *queues;
    json_t *payload;
};

static void fcw_release(struct op *op)
{
    struct fcw_op *x = (struct fcw_op *)op;

    free(x->name);
    free(x->queues);
    json_decref(x->payload);
}

static void fcw_cleaned(struct op *op, const struct store_reply *r)
{
    struct fcw_op *x = (struct fcw_op *)op;
    json_t *p = x->payload;

    (void)r;
    x->payload = NULL;
    op_done(op, p ? p : json_null());
}

static void fcw_working(struct op *op, const struct store_reply *r)
{
    struct fcw_op *x = (struct fcw_op *)op;
    struct tasks *t = op->t;
    struct store_batch b = STORE_BATCH_INIT;
    const char *q = x->queues ? x->queues : "";
    char *full = xasprintf("%s:%s", x->name, q);
    char *k_failed = tq_key(t, "stat", "failed", NULL), *k_wfailed = tq_key(t, "stat", "failed", x->name, NULL);
    char *k_wproc = tq_key(t, "stat", "processed", x->name, NULL), *k_ping = tq_key(t, "worker", "ping", x->name, NULL);
    char *k_started = tq_key(t, "worker", x->name, q, "started", NULL), *k_w = tq_key(t, "worker", x->name, NULL);
    char *k_working = tq_key(t, "worker", full, NULL), *k_workers = tq_key(t, "workers", NULL);
    char *k_flist = tq_key(t, "failed", NULL);

    if (tq_reply_str(r)) {
        json_t *w = tq_parse(r->str, r->len);
        json_t *payload = json_object_get(w, "payload");
        char date[96], *line;
        json_t *bt;

        tq_date_string(core_now_ms(), date, sizeof(date));
        line = xasprintf("killed by %s at %s", t->hostname, date);
        bt = json_pack("[s,s,s]", line, "queue#forceCleanWorker", "node-resque");
        x->payload = tq_failure_record(x->name, json_string_value(json_object_get(w, "queue")),
                                       payload ? payload : NULL, "Worker Timeout (killed manually)",
                                       "Worker Timeout (killed manually)", bt);
        if (payload == NULL)
            json_object_set_new(x->payload, "payload", json_object());
        json_decref(bt);
        json_decref(w);
        free(line);
    }
    store_batch_add(&b, "INCR", k_failed, NULL);
    store_batch_add(&b, "DEL", k_wfailed, NULL);
    store_batch_add(&b, "DEL", k_wproc, NULL);
    store_batch_add(&b, "DEL", k_ping, NULL);
    store_batch_add(&b, "DEL", k_started, NULL);
    store_batch_add(&b, "DEL", k_w, NULL);
    store_batch_add(&b, "DEL", k_working, NULL); /* node-resque leaves this one behind */
    store_batch_add(&b, "SREM", k_workers, full, NULL);
    if (x->payload) {
        char *enc = json_out_str(x->payload, 0, 0, NULL);

        store_batch_add(&b, "RPUSH", k_flist, enc, NULL);
        free(enc);
    }
    op_multi(op, fcw_cleaned, &b);
    store_batch_release(&b);
    free(full);
    free(k_failed);
    free(k_wfailed);
    free(k_wproc);
    free(k_ping);
    free(k_started);
    free(k_w);
    free(k_working);
    free(k_workers);
    free(k_flist);
}

static void fcw_workers(int status, json_t *result, const char *error, void *arg)
{
    struct fcw_op *x = arg;
    const char *q;
    char *full, *key;

    if (status < 0) {
        fail_from(&x->op, status, error);
        return;
    }
    q = json_string_value(json_object_get(result, x->name));
    if (q == NULL || q[0] == '\0') {
        log_error("force-cleaning worker %s, but cannot find queues", x->name);
        q = "";
    }
    x->queues = xstrdup(q);
    full = xasprintf("%s:%s", x->name, q);
    key = tq_key(x->op.t, "worker", full, NULL);
    op_cmdl(&x->op, fcw_working, "GET", key, NULL);
    free(full);
    free(key);
}

void tq_force_clean_worker(struct tasks *t, const char *name, tq_cb cb, void *arg)
{
    struct fcw_op *x = (struct fcw_op *)op_new(t, sizeof(*x), cb, arg);

    x->op.release = fcw_release;
    x->name = xstrdup(name);
    tq_workers(t, fcw_workers, x);
    started(&x->op);
}

struct cow_op {
    struct op op;
    long long age;
    json_t *working;
    json_t *names;
    size_t i;
    json_t *out;
};

static void cow_release(struct op *op)
{
    struct cow_op *x = (struct cow_op *)op;

    json_decref(x->working);
    json_decref(x->names);
    json_decref(x->out);
}

static void cow_next(struct cow_op *x);

static void cow_cleaned(int status, json_t *result, const char *error, void *arg)
{
    struct cow_op *x = arg;
    const char *w;

    if (status < 0) {
        fail_from(&x->op, status, error);
        return;
    }
    w = json_string_value(json_object_get(result, "worker"));
    if (w && *w)
        json_object_set(x->out, w, result);
    x->i++;
    cow_next(x);
}

static void cow_next(struct cow_op *x)
{
    uint64_t now = core_now_ms(), at;
    json_t *out;

    for (; x->i < json_array_size(x->names); x->i++) {
        const char *w = json_string_value(json_array_get(x->names, x->i));
        json_t *p = json_object_get(x->working, w);

        if (json_is_object(p) && tq_date_parse(json_string_value(json_object_get(p, "run_at")), &at) &&
            (long long)(now - at) > x->age) {
            tq_force_clean_worker(x->op.t, w, cow_cleaned, x);
            return;
        }
    }
    out = x->out;
    x->out = NULL;
    op_done(&x->op, out);
}

static void cow_working(int status, json_t *result, const char *error, void *arg)
{
    struct cow_op *x = arg;
    const char *k;
    json_t *v;

    if (status < 0) {
        fail_from(&x->op, status, error);
        return;
    }
    x->working = json_incref(result);
    x->names = json_array();
    json_object_foreach(result, k, v)
        json_array_append_new(x->names, json_string_nocheck(k));
    cow_next(x);
}

void tq_clean_old_workers(struct tasks *t, long long age_ms, tq_cb cb, void *arg)
{
    struct cow_op *x = (struct cow_op *)op_new(t, sizeof(*x), cb, arg);

    x->op.release = cow_release;
    x->age = age_ms;
    x->out = json_object();
    tq_all_working_on(t, cow_working, x);
    started(&x->op);
}

/* retryStuckJobs: re-enqueue records that forceCleanWorker wrote.  Records
 * that stay are counted so that the next batch starts after them (node-
 * resque advances by a whole batch and skips records after retried ones). */
#define RSJ_BATCH 100
#define RSJ_MAX_ROUNDS 10000

struct rsj_op {
    struct op op;
    long long start;
    json_t *batch;
    size_t i;
    long long kept;
    int rounds;
    long long retried;
};

static void rsj_release(struct op *op)
{
    json_decref(((struct rsj_op *)op)->batch);
}

static void rsj_load(struct rsj_op *x);
static void rsj_next(struct rsj_op *x);

static void rsj_retried(int status, json_t *result, const char *error, void *arg)
{
    struct rsj_op *x = arg;

    (void)result;
    if (status < 0) {
        log_error("cannot retry a stuck job: %s", error ? error : ah_strerror(status));
        x->kept++;
    } else {
        x->retried++;
    }
    x->i++;
    rsj_next(x);
}

static void rsj_next(struct rsj_op *x)
{
    for (; x->i < json_array_size(x->batch); x->i++) {
        json_t *rec = json_array_get(x->batch, x->i);
        const char *b1 = json_string_value(json_array_get(json_object_get(rec, "backtrace"), 1));

        if (b1 && strcmp(b1, "queue#forceCleanWorker") == 0) {
            tq_retry_and_remove_failed(x->op.t, rec, rsj_retried, x);
            return;
        }
        x->kept++;
    }
    x->start += x->kept;
    rsj_load(x);
}

static void rsj_got(int status, json_t *result, const char *error, void *arg)
{
    struct rsj_op *x = arg;

    if (status < 0) {
        fail_from(&x->op, status, error);
        return;
    }
    json_decref(x->batch);
    x->batch = json_incref(result);
    x->i = 0;
    x->kept = 0;
    if (json_array_size(x->batch) == 0) {
        op_done(&x->op, json_integer(x->retried));
        return;
    }
    rsj_next(x);
}

static void rsj_load(struct rsj_op *x)
{
    if (++x->rounds > RSJ_MAX_ROUNDS) {
        op_done(&x->op, json_integer(x->retried));
        return;
    }
    tq_failed(x->op.t, x->start, x->start + RSJ_BATCH - 1, rsj_got, x);
}

void tq_retry_stuck_jobs(struct tasks *t, tq_cb cb, void *arg)
{
    struct rsj_op *x = (struct rsj_op *)op_new(t, sizeof(*x), cb, arg);

    x->op.release = rsj_release;
    rsj_load(x);
    started(&x->op);
}

/* ---------------------------------------------------------------- details */

struct det_op {
    struct op op;
    json_t *out;
    json_t *queues;    /* names */
    char *leader_key;
};

static void det_release(struct op *op)
{
    struct det_op *x = (struct det_op *)op;

    json_decref(x->out);
    json_decref(x->queues);
    free(x->leader_key);
}

static void det_leader(struct op *op, const struct store_reply *r)
{
    struct det_op *x = (struct det_op *)op;
    json_t *out = x->out;

    json_object_set_new(out, "leader", tq_reply_str(r) ? json_stringn_nocheck(r->str, r->len) : json_null());
    x->out = NULL;
    op_done(op, out);
}

static void det_lengths(struct op *op, const struct store_reply *r)
{
    struct det_op *x = (struct det_op *)op;
    json_t *qs = json_object_get(x->out, "queues");
    size_t i;

    for (i = 0; i < json_array_size(x->queues); i++) {
        const struct store_reply *e = r->type == STORE_REPLY_ARRAY && i < r->elements ? r->element[i] : NULL;

        json_object_set_new(qs, json_string_value(json_array_get(x->queues, i)),
                            json_pack("{s:I}", "length", (json_int_t)(e && e->type == STORE_REPLY_INT ? e->integer : 0)));
    }
    op_cmdl(op, det_leader, "GET", x->leader_key, NULL);
}

static void det_queues(struct op *op, const struct store_reply *r)
{
    struct det_op *x = (struct det_op *)op;
    struct store_batch b = STORE_BATCH_INIT;
    size_t i;

    x->queues = json_array();
    for (i = 0; r->type == STORE_REPLY_ARRAY && i < r->elements; i++)
        if (tq_reply_str(r->element[i]))
            json_array_append_new(x->queues, json_stringn_nocheck(r->element[i]->str, r->element[i]->len));
    if (json_array_size(x->queues) == 0) {
        op_cmdl(op, det_leader, "GET", x->leader_key, NULL);
        return;
    }
    for (i = 0; i < json_array_size(x->queues); i++) {
        char *k = tq_key(op->t, "queue", json_string_value(json_array_get(x->queues, i)), NULL);

        store_batch_add(&b, "LLEN", k, NULL);
        free(k);
    }
    op_multi(op, det_lengths, &b);
    store_batch_release(&b);
}

static void det_stats(int status, json_t *result, const char *error, void *arg)
{
    struct det_op *x = arg;
    char *k;

    if (status < 0) {
        fail_from(&x->op, status, error);
        return;
    }
    json_object_set(x->out, "stats", result);
    k = tq_key(x->op.t, "queues", NULL);
    op_cmdl(&x->op, det_queues, "SMEMBERS", k, NULL);
    free(k);
}

static void det_workers(int status, json_t *result, const char *error, void *arg)
{
    struct det_op *x = arg;

    if (status < 0) {
        fail_from(&x->op, status, error);
        return;
    }
    json_object_set(x->out, "workers", result);
    tq_stats(x->op.t, det_stats, x);
}

void tq_details(struct tasks *t, tq_cb cb, void *arg)
{
    struct det_op *x = (struct det_op *)op_new(t, sizeof(*x), cb, arg);

    x->op.release = det_release;
    x->out = json_pack("{s:{},s:{},s:n,s:n}", "queues", "workers", "stats", "leader");
    x->leader_key = tq_key(t, "resque_scheduler_leader_lock", NULL);
    tq_all_working_on(t, det_workers, x);
    started(&x->op);
}
