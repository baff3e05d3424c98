/*
 * worker.c - workers and their pool (tasks.md §7.2; node-resque's Worker
 * and MultiWorker).
 *
 * A worker registers itself (`workers` set, `worker:<name>:<queues>:started`,
 * a ping key refreshed every `timeout` ms), then polls its queues in order.
 * Taking a job is one atomic step (the popAndStoreJob script): the job
 * leaves the queue and becomes the worker's working-on record in the same
 * instant, so a job is always either queued or visibly in progress.  If the
 * process dies mid-job the record stays; the scheduler's stuck-worker check
 * (or cleanOldWorkers) turns it into a failure record that can be retried.
 *
 * The pool keeps between minTaskProcessors and maxTaskProcessors workers,
 * checking every checkTimeout ms with node-resque's rules (event-loop lag
 * above maxEventLoopDelay counts as blocked).
 *
 * Where node-resque's "*" worker untracks and re-tracks itself on every
 * idle cycle (deleting its ping, `started` key and per-worker stats), we
 * re-register only when the list of queues changed.
 */
#include "tasks/tasks_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "core/json_out.h"
#include "dispatch/dispatch.h"
#include "log/log.h"

struct worker {
    struct pool *pool;
    struct tasks *t;
    int id;
    char *name;
    char **queues;            /* current list (owned strings) */
    size_t n_queues;
    bool star;                /* configured as "*" */
    char *qstr;               /* stringQueues() */
    uv_timer_t poll_timer;
    uv_timer_t ping_timer;
    int open_handles;
    int pending;              /* store commands in flight */
    bool running;             /* may take new jobs */
    bool working;             /* a job is being taken or performed */
    bool ending;              /* leave when idle */
    bool ended;
    bool stopped;             /* the store is going: send nothing more */
    bool poll_after_check;    /* checkQueues at start: poll, not pause */
    size_t nq;
    struct ah_job *job;
    json_t *payload;          /* the parsed job, or the raw text */
    uint64_t job_start;
    struct worker *next;      /* every worker of the pool (active and ending) */
};

struct pool {
    struct tasks *t;
    struct worker *all;
    struct worker **active;
    size_t n_active;
    uv_timer_t check;
    bool check_open;
    uint64_t last_check;
    bool running;
};

static void worker_poll(struct worker *w);
static void worker_end(struct worker *w);

/* A worker event with {workerId} as the log line's data. */
static void wlog(struct worker *w, int level, const char *fmt, ...) AH_PRINTF(3, 4);
static void wlog(struct worker *w, int level, const char *fmt, ...)
{
    json_t *data;
    va_list ap;

    if (!log_enabled(level))
        return;
    data = json_pack("{s:i}", "workerId", w->id);
    va_start(ap, fmt);
    log_vmsg(level, data, fmt, ap);
    va_end(ap);
    json_decref(data);
}

/* ---------------------------------------------------------------- commands */

struct wreq {
    struct worker *w;
    void (*fn)(struct worker *w, int status, const struct store_reply *r);
};

static void worker_maybe_free(struct worker *w);

static void on_wreply(int status, const struct store_reply *r, void *arg)
{
    struct wreq *q = arg;
    struct worker *w = q->w;
    void (*fn)(struct worker *, int, const struct store_reply *) = q->fn;

    free(q);
    w->pending--;
    if (status == 0 && r && r->type == STORE_REPLY_ERROR)
        status = AH_EFAIL;
    if (fn)
        fn(w, status, r);
    worker_maybe_free(w);
}

static struct wreq *wreq_new(struct worker *w, void (*fn)(struct worker *, int, const struct store_reply *))
{
    struct wreq *q = xcalloc(1, sizeof(*q));

    q->w = w;
    q->fn = fn;
    w->pending++;
    return q;
}

/* Send; on an immediate failure `fn` is NOT called: the caller handles rc. */
static int wcmd(struct worker *w, void (*fn)(struct worker *, int, const struct store_reply *), int argc,
                const char *const *argv)
{
    struct store *s = w->stopped ? NULL : tasks_store(w->t);
    struct wreq *q;
    int rc;

    if (s == NULL)
        return AH_ESTATE;
    q = wreq_new(w, fn);
    rc = store_commandv(s, STORE_TASKS, argc, argv, NULL, on_wreply, q);
    if (rc < 0) {
        w->pending--;
        free(q);
    }
    return rc;
}

static int wmulti(struct worker *w, void (*fn)(struct worker *, int, const struct store_reply *),
                  const struct store_batch *b)
{
    struct store *s = w->stopped ? NULL : tasks_store(w->t);
    struct wreq *q;
    int rc;

    if (s == NULL)
        return AH_ESTATE;
    q = wreq_new(w, fn);
    rc = store_multi(s, STORE_TASKS, b, on_wreply, q);
    if (rc < 0) {
        w->pending--;
        free(q);
    }
    return rc;
}

/* ---------------------------------------------------------------- popAndStoreJob */

static const char pop_lua[] =
    "local payload = redis.call('lpop', KEYS[1])\n"
    "if payload then\n"
    "  local body = payload\n"
    "  if not pcall(cjson.decode, payload) then body = cjson.encode(payload) end\n"
    "  redis.call('set', KEYS[2], '{\"run_at\":' .. cjson.encode(ARGV[1]) .. ',\"queue\":' ..\n"
    "    cjson.encode(ARGV[2]) .. ',\"worker\":' .. cjson.encode(ARGV[3]) .. ',\"payload\":' .. body .. '}')\n"
    "end\n"
    "return payload\n";

static struct store_reply *pop_mem(struct store_exec *x, int nkeys, int argc, const char *const *argv,
                                   const size_t *lens)
{
    struct store_reply *r;
    json_t *rec, *payload;
    char *enc;

    (void)lens;
    if (nkeys != 2 || argc != 5)
        return store_reply_error("ERR wrong number of arguments for popAndStoreJob");
    r = store_exec(x, "LPOP", argv[0], NULL);
    if (r == NULL || r->type != STORE_REPLY_STR)
        return r;
    payload = tq_parse(r->str, r->len);
    if (payload == NULL)
        payload = json_stringn_nocheck(r->str, r->len);
    rec = json_pack("{s:s,s:s,s:s,s:o}", "run_at", argv[2], "queue", argv[3], "worker", argv[4], "payload",
                    payload);
    enc = json_out_str(rec, 0, 0, NULL);
    store_reply_free(store_exec(x, "SET", argv[1], enc, NULL));
    free(enc);
    json_decref(rec);
    return r;
}

static const struct store_script pop_script = {
    .name = "popAndStoreJob",
    .lua = pop_lua,
    .mem = pop_mem,
};

/* ---------------------------------------------------------------- registration */

static char *wkey(struct worker *w, const char *suffix)
{
    return suffix ? tq_key(w->t, "worker", w->name, w->qstr, suffix, NULL) : tq_key(w->t, "worker", w->name, w->qstr, NULL);
}

static void set_queues(struct worker *w, char **names, size_t n)
{
    struct buf b = BUF_INIT;
    size_t i;

    for (i = 0; i < w->n_queues; i++)
        free(w->queues[i]);
    free(w->queues);
    w->queues = names;
    w->n_queues = n;
    for (i = 0; i < n; i++) {
        if (i)
            buf_addc(&b, ',');
        buf_adds(&b, names[i]);
    }
    if (n == 0)
        buf_adds(&b, "*");
    free(w->qstr);
    w->qstr = buf_detach(&b, NULL);
}

static void ping(struct worker *w)
{
    char *key = tq_key(w->t, "worker", "ping", w->name, NULL), *enc;
    json_t *p = json_pack("{s:I,s:s,s:s}", "time", (json_int_t)((core_now_ms() + 500) / 1000), "name", w->name,
                          "queues", w->qstr);
    const char *argv[3];

    enc = json_out_str(p, 0, 0, NULL);
    argv[0] = "SET";
    argv[1] = key;
    argv[2] = enc;
    (void)wcmd(w, NULL, 3, argv);
    free(enc);
    free(key);
    json_decref(p);
}

static void on_ping_timer(uv_timer_t *h)
{
    struct worker *w = h->data;

    if (!w->ended)
        ping(w);
}

/* The batch that registers (track + started) or unregisters a worker. */
static void add_track(struct worker *w, struct store_batch *b)
{
    char *workers = tq_key(w->t, "workers", NULL), *member = xasprintf("%s:%s", w->name, w->qstr);
    char *started = wkey(w, "started"), secs[24];

    snprintf(secs, sizeof(secs), "%llu", (unsigned long long)((core_now_ms() + 500) / 1000));
    store_batch_add(b, "SADD", workers, member, NULL);
    store_batch_add(b, "SET", started, secs, NULL);
    free(workers);
    free(member);
    free(started);
}

static void add_untrack(struct worker *w, struct store_batch *b, bool stats)
{
    char *workers = tq_key(w->t, "workers", NULL), *member = xasprintf("%s:%s", w->name, w->qstr);
    char *pingk = tq_key(w->t, "worker", "ping", w->name, NULL), *working = wkey(w, NULL);
    char *started = wkey(w, "started");
    char *sf = tq_key(w->t, "stat", "failed", w->name, NULL), *sp = tq_key(w->t, "stat", "processed", w->name, NULL);

    store_batch_add(b, "SREM", workers, member, NULL);
    store_batch_add(b, "DEL", working, NULL);
    store_batch_add(b, "DEL", started, NULL);
    if (stats) {
        store_batch_add(b, "DEL", pingk, NULL);
        store_batch_add(b, "DEL", sf, NULL);
        store_batch_add(b, "DEL", sp, NULL);
    }
    free(workers);
    free(member);
    free(pingk);
    free(working);
    free(started);
    free(sf);
    free(sp);
}

static void pause_worker(struct worker *w);

static void on_queues_listed(struct worker *w, int status, const struct store_reply *r)
{
    struct store_batch b = STORE_BATCH_INIT;
    char **names;
    size_t n = 0, i, j;
    char *old;

    if (status < 0) {
        log_msg(w->t->cfg.wl_internal, NULL, "[ worker ] cannot list queues: %s", store_strerror(status, r));
        pause_worker(w);
        return;
    }
    names = xcalloc((r->type == STORE_REPLY_ARRAY ? r->elements : 0) + 1, sizeof(*names));
    for (i = 0; r->type == STORE_REPLY_ARRAY && i < r->elements; i++)
        if (tq_reply_str(r->element[i]))
            names[n++] = xstrndup(r->element[i]->str, r->element[i]->len);
    for (i = 1; i < n; i++) /* sort, as Array#sort on strings */
        for (j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char *tmp = names[j];

            names[j] = names[j - 1];
            names[j - 1] = tmp;
        }
    old = xstrdup(w->qstr);
    add_untrack(w, &b, false);
    set_queues(w, names, n);
    if (strcmp(old, w->qstr) != 0) {
        add_track(w, &b);
        (void)wmulti(w, NULL, &b);
        ping(w);
    }
    store_batch_release(&b);
    free(old);
    if (w->poll_after_check && w->n_queues > 0) {
        w->poll_after_check = false;
        w->nq = 0;
        worker_poll(w);
        return;
    }
    w->poll_after_check = false;
    pause_worker(w);
}

/* checkQueues for "*": re-read the queue set, then pause. */
static void check_queues_then_pause(struct worker *w)
{
    char *key = tq_key(w->t, "queues", NULL);
    const char *argv[] = {"SMEMBERS", key};

    if (wcmd(w, on_queues_listed, 2, argv) < 0)
        pause_worker(w);
    free(key);
}

/* ---------------------------------------------------------------- polling */

static void on_poll_timer(uv_timer_t *h)
{
    struct worker *w = h->data;

    w->nq = 0;
    worker_poll(w);
}

static void pause_worker(struct worker *w)
{
    if (!w->running || w->ended) {
        if (w->ending && !w->working)
            worker_end(w);
        return;
    }
    wlog(w, w->t->cfg.wl_pause, "[ worker ] paused");
    uv_timer_start(&w->poll_timer, on_poll_timer, w->t->cfg.timeout, 0);
}

static void job_finished(struct worker *w)
{
    job_free(w->job);
    w->job = NULL;
    json_decref(w->payload);
    w->payload = NULL;
    w->working = false;
    w->t->jobs_in_flight--;
    if (w->ending || !w->running) {
        if (w->ending)
            worker_end(w);
        return;
    }
    w->nq = 0;
    worker_poll(w);
}

static void on_working_deleted(struct worker *w, int status, const struct store_reply *r)
{
    if (status < 0)
        log_msg(w->t->cfg.wl_internal, NULL, "[ worker ] cannot clear the working-on record of %s: %s", w->name,
                store_strerror(status, r));
    job_finished(w);
}

static void clear_working(struct worker *w)
{
    char *key = wkey(w, NULL);
    const char *argv[] = {"DEL", key};

    if (wcmd(w, on_working_deleted, 2, argv) < 0) {
        log_msg(w->t->cfg.wl_internal, NULL,
                "[ worker ] store gone: the working-on record of %s stays until it is cleaned", w->name);
        job_finished(w);
    }
    free(key);
}

static void on_stats_written(struct worker *w, int status, const struct store_reply *r)
{
    if (status < 0)
        log_msg(w->t->cfg.wl_internal, NULL, "[ worker ] cannot record the job's result: %s",
                store_strerror(status, r));
    clear_working(w);
}

/* The job as node-resque's this.job (args as the plugins left them). */
static json_t *job_payload(struct worker *w)
{
    json_t *p;

    if (!json_is_object(w->payload))
        return json_incref(w->payload);
    p = json_deep_copy(w->payload);
    json_object_set(p, "args", w->job->args);
    return p;
}

static json_t *args0_for_log(struct worker *w)
{
    json_t *a0 = json_array_get(w->job->args, 0);
    json_t *f;
    char *s;

    if (a0 == NULL)
        return json_string("undefined");
    f = json_is_object(a0) ? dispatch_filter_for_log(w->t->app, a0, "general.filteredParams") : json_incref(a0);
    json_t *out;

    s = json_out_str(f, 0, 0, NULL);
    json_decref(f);
    out = json_string_nocheck(s);
    free(s);
    return out;
}

static void on_performed(struct ah_job *job, int outcome, void *arg)
{
    struct worker *w = arg;
    struct tasks *t = w->t;
    struct store_batch b = STORE_BATCH_INIT;
    uint64_t duration = core_now_ms() - w->job_start;
    json_t *data;
    char *k1, *k2;

    if (outcome < 0) {
        json_t *payload = job_payload(w), *bt, *rec;
        char *enc, *kf, *line, *stack;

        line = xasprintf("    at %s.run (%s)", job->cls, job->entry ? job->entry->file : "node-resque");
        bt = json_pack("[s]", line);
        rec = tq_failure_record(w->name, job->queue, payload, job->exception ? job->exception : "Error",
                                job->error, bt);
        enc = json_out_str(rec, 0, 0, NULL);
        k1 = tq_key(t, "stat", "failed", NULL);
        k2 = tq_key(t, "stat", "failed", w->name, NULL);
        kf = tq_key(t, "failed", NULL);
        store_batch_add(&b, "INCR", k1, NULL);
        store_batch_add(&b, "INCR", k2, NULL);
        store_batch_add(&b, "RPUSH", kf, enc, NULL);
        stack = xasprintf("%s: %s\n%s", job->exception ? job->exception : "Error", job->error, line);
        data = json_pack("{s:s,s:s,s:s,s:o,s:s}", "name", "", "queue", job->queue, "worker", w->name, "arguments",
                         args0_for_log(w), "stack", stack);
        json_object_set_new(data, "name", json_sprintf("task:%s", job->cls));
        log_msg(t->cfg.wl_failure, data, "Error from Task");
        json_decref(data);
        json_decref(payload);
        json_decref(bt);
        json_decref(rec);
        free(enc);
        free(kf);
        free(line);
        free(stack);
    } else if (outcome > 0) {
        k1 = tq_key(t, "stat", "processed", NULL);
        k2 = tq_key(t, "stat", "processed", w->name, NULL);
        store_batch_add(&b, "INCR", k1, NULL);
        store_batch_add(&b, "INCR", k2, NULL);
        data = json_pack("{s:i,s:s,s:s,s:o,s:O,s:I}", "workerId", w->id, "class", job->cls, "queue", job->queue,
                         "args", args0_for_log(w), "result", job->result ? job->result : json_null(), "duration",
                         (json_int_t)duration);
        log_msg(t->cfg.wl_success, data, "[ worker ] task success");
        json_decref(data);
    } else {
        clear_working(w);
        return;
    }
    if (wmulti(w, on_stats_written, &b) < 0) {
        log_msg(t->cfg.wl_internal, NULL, "[ worker ] store gone: the job's result of %s is not recorded", w->name);
        clear_working(w);
    }
    store_batch_release(&b);
    free(k1);
    free(k2);
}

static void perform(struct worker *w, const struct store_reply *r, const char *queue)
{
    const char *cls = NULL;
    json_t *args = NULL, *data, *f;

    w->payload = tq_parse(r->str, r->len);
    if (json_is_object(w->payload)) {
        cls = json_string_value(json_object_get(w->payload, "class"));
        args = json_object_get(w->payload, "args");
    } else {
        json_decref(w->payload);
        w->payload = json_stringn_nocheck(r->str, r->len);
    }
    w->job = job_new(w->t, queue, cls ? cls : "", json_is_array(args) ? args : NULL, w->name);
    if (!json_is_array(args) && args) {
        json_decref(w->job->args);
        w->job->args = tq_args_of(args);
    }
    w->job_start = core_now_ms();
    w->t->jobs_in_flight++;
    f = args0_for_log(w);
    data = json_pack("{s:i,s:s,s:s,s:o}", "workerId", w->id, "class", w->job->cls, "queue", queue, "args", f);
    log_msg(w->t->cfg.wl_job, data, "[ worker ] working job %s", queue);
    json_decref(data);
    if (!json_is_object(w->payload)) {
        ah_job_fail(w->job, AH_EINVAL, "cannot parse the job: not a JSON object");
        on_performed(w->job, -1, w);
        return;
    }
    job_perform(w->job, on_performed, w);
}

static void on_popped(struct worker *w, int status, const struct store_reply *r)
{
    const char *queue = w->nq < w->n_queues ? w->queues[w->nq] : "";

    if (status < 0) {
        log_msg(w->t->cfg.wl_internal, NULL, "[ worker ] cannot poll %s: %s", queue, store_strerror(status, r));
        w->working = false;
        pause_worker(w);
        return;
    }
    if (tq_reply_str(r)) {
        /* taken and recorded as ours: perform it even if we are ending */
        perform(w, r, queue);
        return;
    }
    w->working = false;
    if (!w->running) {
        pause_worker(w);
        return;
    }
    if (w->nq + 1 >= w->n_queues) {
        if (w->star)
            check_queues_then_pause(w);
        else
            pause_worker(w);
        return;
    }
    w->nq++;
    worker_poll(w);
}

static void worker_poll(struct worker *w)
{
    char *qkey, *wk, date[96];
    const char *argv[5];
    struct store *s;
    int rc;

    if (!w->running || w->ended || w->working)
        return;
    if (w->nq >= w->n_queues) {
        check_queues_then_pause(w);
        return;
    }
    wlog(w, w->t->cfg.wl_poll, "[ worker ] polling %s", w->queues[w->nq]);
    s = w->stopped ? NULL : tasks_store(w->t);
    if (s == NULL) {
        pause_worker(w);
        return;
    }
    qkey = tq_key(w->t, "queue", w->queues[w->nq], NULL);
    wk = wkey(w, NULL);
    tq_date_string(core_now_ms(), date, sizeof(date));
    argv[0] = qkey;
    argv[1] = wk;
    argv[2] = date;
    argv[3] = w->queues[w->nq];
    argv[4] = w->name;
    w->working = true;
    {
        struct wreq *q = wreq_new(w, on_popped);

        rc = store_eval(s, STORE_TASKS, &pop_script, 2, 5, argv, NULL, on_wreply, q);
        if (rc < 0) {
            w->pending--;
            free(q);
            w->working = false;
            log_msg(w->t->cfg.wl_internal, NULL, "[ worker ] cannot poll: %s", ah_strerror(rc));
            pause_worker(w);
        }
    }
    free(qkey);
    free(wk);
}

/* ---------------------------------------------------------------- lifecycle */

static void on_handle_closed(uv_handle_t *h)
{
    struct worker *w = h->data;

    w->open_handles--;
    worker_maybe_free(w);
}

static void worker_close_handles(struct worker *w)
{
    if (!uv_is_closing((uv_handle_t *)&w->poll_timer)) {
        uv_timer_stop(&w->poll_timer);
        uv_close((uv_handle_t *)&w->poll_timer, on_handle_closed);
    }
    if (!uv_is_closing((uv_handle_t *)&w->ping_timer)) {
        uv_timer_stop(&w->ping_timer);
        uv_close((uv_handle_t *)&w->ping_timer, on_handle_closed);
    }
}

static void pool_release(struct pool *p)
{
    struct tasks *t = p->t;

    free(p->active);
    free(p);
    t->pool = NULL;
    tasks_unref(t);
}

static void worker_maybe_free(struct worker *w)
{
    struct pool *p = w->pool;
    struct worker **pp;
    size_t i;

    if (!w->ended || w->open_handles > 0 || w->pending > 0 || w->working)
        return;
    if (w->pool) {
        for (pp = &w->pool->all; *pp; pp = &(*pp)->next)
            if (*pp == w) {
                *pp = w->next;
                break;
            }
    }
    for (i = 0; i < w->n_queues; i++)
        free(w->queues[i]);
    free(w->queues);
    free(w->qstr);
    free(w->name);
    tasks_unref(w->t);
    free(w);
    if (p && !p->check_open && p->all == NULL)
        pool_release(p);
}

/* Leave: untrack (unless the store is gone), close the timers. */
static void worker_end(struct worker *w)
{
    struct store_batch b = STORE_BATCH_INIT;

    if (w->ended)
        return;
    w->running = false;
    if (w->working) {
        w->ending = true;
        return;
    }
    w->ended = true;
    add_untrack(w, &b, true);
    (void)wmulti(w, NULL, &b);
    store_batch_release(&b);
    wlog(w, w->t->cfg.wl_end, "[ worker ] ended");
    worker_close_handles(w);
}

static struct worker *worker_new(struct pool *p, int id)
{
    struct tasks *t = p->t;
    struct worker *w = xcalloc(1, sizeof(*w));
    char **names;
    size_t i, n = 0;

    w->pool = p;
    w->t = t;
    w->id = id;
    w->name = xasprintf("%s:%d+%d", t->hostname, (int)uv_os_getpid(), id);
    names = xcalloc(t->cfg.n_queues + 1, sizeof(*names));
    for (i = 0; i < t->cfg.n_queues; i++)
        names[n++] = xstrdup(t->cfg.queues[i]);
    w->star = n == 0 || (n == 1 && strcmp(names[0], "*") == 0);
    if (w->star) {
        for (i = 0; i < n; i++)
            free(names[i]);
        n = 0;
    }
    set_queues(w, names, n);
    uv_timer_init(t->app->loop, &w->poll_timer);
    uv_timer_init(t->app->loop, &w->ping_timer);
    w->poll_timer.data = w;
    w->ping_timer.data = w;
    w->open_handles = 2;
    tasks_ref(t);
    w->next = p->all;
    p->all = w;
    return w;
}

static void worker_start(struct worker *w)
{
    struct store_batch b = STORE_BATCH_INIT;

    w->running = true;
    wlog(w, w->t->cfg.wl_start, "[ worker ] started");
    add_track(w, &b);
    (void)wmulti(w, NULL, &b);
    store_batch_release(&b);
    ping(w);
    uv_timer_start(&w->ping_timer, on_ping_timer, w->t->cfg.timeout, w->t->cfg.timeout);
    w->nq = 0;
    if (w->star) {
        w->poll_after_check = true;
        check_queues_then_pause(w);
    } else {
        worker_poll(w);
    }
}

/* ---------------------------------------------------------------- the pool */

static int free_id(struct pool *p)
{
    int id;
    struct worker *w;

    for (id = 1;; id++) {
        for (w = p->all; w; w = w->next)
            if (w->id == id && !(w->ended && w->open_handles == 0))
                break;
        if (w == NULL)
            return id;
    }
}

static void add_worker(struct pool *p)
{
    struct worker *w = worker_new(p, free_id(p));

    p->active = xrealloc(p->active, (p->n_active + 1) * sizeof(*p->active));
    p->active[p->n_active++] = w;
    worker_start(w);
}

static void remove_worker(struct pool *p)
{
    struct worker *w;

    if (p->n_active == 0)
        return;
    w = p->active[--p->n_active];
    worker_end(w);
}

/* checkWorkers (node-resque's MultiWorker), every checkTimeout ms. */
static void on_check(uv_timer_t *h)
{
    struct pool *p = h->data;
    struct tasks *t = p->t;
    uint64_t now = core_mono_ms();
    uint64_t lag = p->last_check && now > p->last_check + t->cfg.check_timeout
                       ? now - p->last_check - t->cfg.check_timeout : 0;
    bool blocked = lag > t->cfg.max_event_loop_delay;
    size_t n = p->n_active, working = 0, i;
    size_t min = (size_t)t->cfg.min_processors, max = (size_t)t->cfg.max_processors;
    const char *verb;

    p->last_check = now;
    for (i = 0; i < n; i++)
        if (p->active[i]->working)
            working++;
    if (!p->running)
        verb = n > 0 ? "--" : "x";
    else if (blocked && n > min)
        verb = "-";
    else if (blocked)
        verb = "x";
    else if (n < min)
        verb = "+";
    else if (n < max && (n == 0 || (double)working / (double)n > 0.5))
        verb = "+";
    else if (n > min && (double)working / (double)n < 0.5)
        verb = "-";
    else
        verb = "x";
    if (strcmp(verb, "+") == 0)
        add_worker(p);
    else if (strcmp(verb, "-") == 0)
        remove_worker(p);
    log_msg(t->cfg.wl_multi, NULL, "[ multiworker ] checked for worker status: %s (event loop delay: %llums)", verb,
            (unsigned long long)lag);
}

static void on_check_closed(uv_handle_t *h)
{
    struct pool *p = h->data;
    struct tasks *t = p->t;

    (void)t;
    p->check_open = false;
    if (p->all == NULL)
        pool_release(p);
}

int pool_start(struct tasks *t)
{
    struct pool *p;

    if (t->cfg.min_processors <= 0)
        return 0;
    p = xcalloc(1, sizeof(*p));
    p->t = t;
    p->running = true;
    uv_timer_init(t->app->loop, &p->check);
    p->check.data = p;
    p->check_open = true;
    tasks_ref(t);
    t->pool = p;
    uv_timer_start(&p->check, on_check, 0, t->cfg.check_timeout);
    return 0;
}

int pool_busy(struct tasks *t)
{
    struct worker *w;
    int n = 0;

    for (w = t->pool ? t->pool->all : NULL; w; w = w->next)
        if (w->working && !w->stopped)
            n++;
    return n;
}

void pool_quiesce(struct tasks *t)
{
    struct pool *p = t->pool;
    struct worker *w;

    if (p == NULL || !p->running)
        return;
    p->running = false;
    uv_timer_stop(&p->check);
    for (w = p->all; w; w = w->next) {
        w->running = false;
        uv_timer_stop(&w->poll_timer);
    }
}

void pool_stop(struct tasks *t)
{
    struct pool *p = t->pool;
    struct worker *w, *next;

    if (p == NULL)
        return;
    pool_quiesce(t);
    /* idle workers untrack now; a worker in the middle of a job keeps its
     * working-on record (the job is visibly in progress) and leaves when
     * the job ends */
    for (w = p->all; w; w = next) {
        next = w->next;
        worker_end(w);
        if (w->ending)
            worker_close_handles(w);
    }
    for (w = p->all; w; w = w->next)
        w->stopped = true;
    p->n_active = 0;
    if (p->check_open && !uv_is_closing((uv_handle_t *)&p->check))
        uv_close((uv_handle_t *)&p->check, on_check_closed);
}
