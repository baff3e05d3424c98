/*
 * scheduler.c - node-resque's Scheduler (tasks.md §7.3): leader election
 * on `resque_scheduler_leader_lock`, moving due delayed jobs into their
 * queues (beforeEnqueue / afterEnqueue plugins run then), and force-
 * cleaning workers whose ping is older than stuckWorkerTimeout.
 *
 * Moving a delayed job: node-resque LPOPs it, then enqueues it, so a crash
 * between the two loses it.  We read the head (LINDEX), drop its timestamps
 * entry, run the plugins, then remove and push it in one script; a job is
 * always in one place.  A
 * delayed entry that is not a JSON job, or whose plugins fail, becomes a
 * failure record instead of being dropped.  The leader election and the
 * timestamp clean-up are scripts too (node-resque: GET/EXPIRE and
 * WATCH/MULTI), with the same effects.
 */
#include "tasks/tasks_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "core/json_out.h"
#include "log/log.h"

#define LEADER_LOCK_TIMEOUT "180"

struct scheduler {
    struct tasks *t;
    char *name;
    uv_timer_t timer;
    bool timer_open;
    bool running;
    bool leader;
    bool cycling;       /* a poll cycle is in flight */
};

/* ---------------------------------------------------------------- scripts */

static struct store_reply *leader_mem(struct store_exec *x, int nkeys, int argc, const char *const *argv,
                                      const size_t *lens)
{
    struct store_reply *r;
    bool mine;

    (void)nkeys;
    (void)argc;
    (void)lens;
    r = store_exec(x, "SET", argv[0], argv[1], "EX", argv[2], "NX", NULL);
    mine = r && r->type == STORE_REPLY_STATUS;
    store_reply_free(r);
    if (mine)
        return store_reply_int(1);
    r = store_exec(x, "GET", argv[0], NULL);
    mine = r && r->type == STORE_REPLY_STR && strcmp(r->str, argv[1]) == 0;
    store_reply_free(r);
    if (!mine)
        return store_reply_int(0);
    store_reply_free(store_exec(x, "EXPIRE", argv[0], argv[2], NULL));
    return store_reply_int(1);
}

static const struct store_script leader_script = {
    .name = "tryForLeader",
    .lua = "if redis.call('set', KEYS[1], ARGV[1], 'EX', ARGV[2], 'NX') then return 1 end\n"
           "if redis.call('get', KEYS[1]) == ARGV[1] then\n"
           "  redis.call('expire', KEYS[1], ARGV[2])\n"
           "  return 1\n"
           "end\n"
           "return 0\n",
    .mem = leader_mem,
};

static struct store_reply *release_mem(struct store_exec *x, int nkeys, int argc, const char *const *argv,
                                       const size_t *lens)
{
    struct store_reply *r = store_exec(x, "GET", argv[0], NULL);
    bool mine = r && r->type == STORE_REPLY_STR && strcmp(r->str, argv[1]) == 0;

    (void)nkeys;
    (void)argc;
    (void)lens;
    store_reply_free(r);
    if (!mine)
        return store_reply_int(0);
    return store_exec(x, "DEL", argv[0], NULL);
}

static const struct store_script release_script = {
    .name = "releaseLeaderLock",
    .lua = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end\n"
           "return 0\n",
    .mem = release_mem,
};

/* KEYS: delayed:<s>, timestamps:<job>, queues, queue:<q> (or failed)
 * ARGV: job text, "delayed:<s>", queue name, text to push, mode
 * mode "1": move into the queue, "F": push a failure record, "0": drop */
static struct store_reply *move_mem(struct store_exec *x, int nkeys, int argc, const char *const *argv,
                                    const size_t *lens)
{
    const char *lrem[] = {"LREM", argv[0], "1", argv[4]};
    size_t lrem_lens[] = {4, lens[0], 1, lens[4]};
    struct store_reply *r;
    long long n;

    (void)nkeys;
    (void)argc;
    r = store_execv(x, 4, lrem, lrem_lens);
    n = r && r->type == STORE_REPLY_INT ? r->integer : 0;
    store_reply_free(r);
    if (n > 0) {
        const char *srem[] = {"SREM", argv[1], argv[5]};
        size_t srem_lens[] = {4, lens[1], lens[5]};

        store_reply_free(store_execv(x, 3, srem, srem_lens));
        if (strcmp(argv[8], "1") == 0) {
            store_reply_free(store_exec(x, "SADD", argv[2], argv[6], NULL));
            store_reply_free(store_exec(x, "RPUSH", argv[3], argv[7], NULL));
        } else if (strcmp(argv[8], "F") == 0) {
            store_reply_free(store_exec(x, "RPUSH", argv[3], argv[7], NULL));
        }
    }
    return store_reply_int(n);
}

static const struct store_script move_script = {
    .name = "moveDelayedJob",
    .lua = "local n = redis.call('lrem', KEYS[1], 1, ARGV[1])\n"
           "if n > 0 then\n"
           "  redis.call('srem', KEYS[2], ARGV[2])\n"
           "  if ARGV[5] == '1' then\n"
           "    redis.call('sadd', KEYS[3], ARGV[3])\n"
           "    redis.call('rpush', KEYS[4], ARGV[4])\n"
           "  elseif ARGV[5] == 'F' then\n"
           "    redis.call('rpush', KEYS[4], ARGV[4])\n"
           "  end\n"
           "end\n"
           "return n\n",
    .mem = move_mem,
};

static struct store_reply *cleanup_mem(struct store_exec *x, int nkeys, int argc, const char *const *argv,
                                       const size_t *lens)
{
    struct store_reply *r = store_exec(x, "LLEN", argv[0], NULL);
    bool empty = r && r->type == STORE_REPLY_INT && r->integer == 0;

    (void)nkeys;
    (void)argc;
    (void)lens;
    store_reply_free(r);
    if (empty) {
        store_reply_free(store_exec(x, "DEL", argv[0], NULL));
        store_reply_free(store_exec(x, "ZREM", argv[1], argv[2], NULL));
    }
    return store_reply_int(empty ? 1 : 0);
}

static const struct store_script cleanup_script = {
    .name = "cleanupTimestamp",
    .lua = "if redis.call('llen', KEYS[1]) == 0 then\n"
           "  redis.call('del', KEYS[1])\n"
           "  redis.call('zrem', KEYS[2], ARGV[1])\n"
           "  return 1\n"
           "end\n"
           "return 0\n",
    .mem = cleanup_mem,
};

/* ---------------------------------------------------------------- one cycle */

struct cycle {
    struct op op;
    struct scheduler *s;
    char secs[24];
    char member[48];
    char *dkey;
    char *text;          /* the job at the head of delayed:<s> */
    struct ah_job *job;
    json_t *pings;       /* ping keys */
    json_t *stuck;       /* [{name, delta}] */
    size_t i;
};

static void cycle_release(struct op *op)
{
    struct cycle *c = (struct cycle *)op;

    free(c->dkey);
    free(c->text);
    job_free(c->job);
    json_decref(c->pings);
    json_decref(c->stuck);
}

static void try_leader(struct cycle *c);
static void next_timestamp(struct cycle *c);
static void next_job(struct cycle *c);
static void cleaned(struct op *op, const struct store_reply *r);

static void cycle_fail(struct cycle *c, int status, const char *error)
{
    op_fail(&c->op, status, "%s", error ? error : ah_strerror(status));
}

/* --- stuck workers */

static void stuck_next(struct cycle *c);

static void stuck_retried(int status, json_t *result, const char *error, void *arg)
{
    struct cycle *c = arg;

    (void)result;
    if (status < 0)
        cycle_fail(c, status, error);
    else
        op_done(&c->op, json_true());
}

static void stuck_cleaned(int status, json_t *result, const char *error, void *arg)
{
    struct cycle *c = arg;
    json_t *item = json_array_get(c->stuck, c->i), *data;

    if (status < 0) {
        cycle_fail(c, status, error);
        return;
    }
    data = json_pack("{s:O,s:O,s:O}", "workerName", json_object_get(item, "name"), "errorPayload", result,
                     "delta", json_object_get(item, "delta"));
    log_msg(AH_LOG_WARNING, data, "cleaned stuck worker");
    json_decref(data);
    c->i++;
    stuck_next(c);
}

static void stuck_next(struct cycle *c)
{
    struct tasks *t = c->op.t;

    if (c->i < json_array_size(c->stuck)) {
        tq_force_clean_worker(t, json_string_value(json_object_get(json_array_get(c->stuck, c->i), "name")),
                              stuck_cleaned, c);
        return;
    }
    if (t->cfg.retry_stuck_jobs) {
        tq_retry_stuck_jobs(t, stuck_retried, c);
        return;
    }
    op_done(&c->op, json_true());
}

static void pings_got(struct op *op, const struct store_reply *r)
{
    struct cycle *c = (struct cycle *)op;
    long long now = (long long)((core_now_ms() + 500) / 1000);
    long long limit = (long long)((op->t->cfg.stuck_worker_timeout + 500) / 1000);
    size_t i;

    json_decref(c->stuck);
    c->stuck = json_array();
    for (i = 0; r->type == STORE_REPLY_ARRAY && i < r->elements; i++) {
        json_t *p = tq_reply_str(r->element[i]) ? tq_parse(r->element[i]->str, r->element[i]->len) : NULL;
        const char *name = json_string_value(json_object_get(p, "name"));
        json_t *time = json_object_get(p, "time");

        if (name && json_is_number(time) && now - (long long)json_number_value(time) > limit)
            json_array_append_new(c->stuck, json_pack("{s:s,s:I}", "name", name, "delta",
                                                      (json_int_t)(now - (long long)json_number_value(time))));
        json_decref(p);
    }
    c->i = 0;
    stuck_next(c);
}

static void pings_scanned(int status, json_t *result, const char *error, void *arg)
{
    struct cycle *c = arg;
    size_t n = json_array_size(result), i;
    const char **argv;

    if (status < 0) {
        cycle_fail(c, status, error);
        return;
    }
    if (n == 0) {
        stuck_next(c);
        return;
    }
    c->pings = json_incref(result);
    argv = xcalloc(n + 1, sizeof(*argv));
    argv[0] = "MGET";
    for (i = 0; i < n; i++)
        argv[i + 1] = json_string_value(json_array_get(result, i));
    op_cmd(&c->op, pings_got, (int)n + 1, argv, NULL);
    free(argv);
}

static void check_stuck_workers(struct cycle *c)
{
    char *pattern = tq_key(c->op.t, "worker", "ping", "*", NULL);

    json_decref(c->stuck);
    c->stuck = json_array();
    tq_scan(c->op.t, pattern, pings_scanned, c);
    free(pattern);
}

/* --- delayed jobs */

static void moved(struct op *op, const struct store_reply *r);

static void after_enqueue_done(struct ah_job *job, int rc, void *arg)
{
    struct cycle *c = arg;
    json_t *data;

    if (rc < 0)
        log_error("afterEnqueue of a delayed %s job failed: %s", job->cls, job->error ? job->error : "");
    data = json_pack("{s:s,s:s}", "class", job->cls, "queue", job->queue);
    log_msg(c->op.t->cfg.sl_transferred, data, "resque scheduler transferred a job timestamp=%s", c->secs);
    json_decref(data);
    job_free(c->job);
    c->job = NULL;
    next_job(c);
}

/* mode "1" move, "F" record a failure, "0" drop (a plugin vetoed) */
static void move(struct cycle *c, const char *mode, const char *qname, const char *text, const char *push_key)
{
    struct tasks *t = c->op.t;
    char *tspart = xasprintf("timestamps:%s", c->text);
    char *tskey = tq_key(t, tspart, NULL), *queues = tq_key(t, "queues", NULL);
    const char *argv[9] = {c->dkey, tskey, queues, push_key, c->text, c->member, qname, text, mode};

    op_eval(&c->op, moved, &move_script, 4, 9, argv, NULL);
    free(tspart);
    free(tskey);
    free(queues);
}

static void moved(struct op *op, const struct store_reply *r)
{
    struct cycle *c = (struct cycle *)op;

    if (c->job && r->type == STORE_REPLY_INT && r->integer > 0) {
        plugins_run(c->job, HOOK_AFTER_ENQUEUE, after_enqueue_done, c);
        return;
    }
    job_free(c->job);
    c->job = NULL;
    next_job(c);
}

static void record_failure(struct cycle *c, json_t *payload, const char *error)
{
    char *kf = tq_key(c->op.t, "failed", NULL);
    json_t *bt = json_pack("[s,s,s]", "    at scheduler#transfer", "scheduler#transfer", "actionhero-c");
    json_t *rec = tq_failure_record(c->op.t->hostname, json_string_value(json_object_get(payload, "queue")),
                                    payload, "Error", error, bt);
    char *enc = json_out_str(rec, 0, 0, NULL);

    log_error("cannot move a delayed job (timestamp %s) into its queue: %s; it is now a failure record", c->secs,
              error);
    job_free(c->job);
    c->job = NULL;
    move(c, "F", "", enc, kf);
    free(kf);
    free(enc);
    json_decref(rec);
    json_decref(bt);
}

static void before_enqueue_done(struct ah_job *job, int rc, void *arg)
{
    struct cycle *c = arg;
    char *qkey, *enc;

    if (rc < 0) {
        json_t *payload = json_pack("{s:s,s:s,s:O}", "class", job->cls, "queue", job->queue, "args", job->args);
        char *err = xstrdup(job->error ? job->error : "beforeEnqueue failed");

        record_failure(c, payload, err);
        json_decref(payload);
        free(err);
        return;
    }
    if (rc == 0) {
        move(c, "0", "", "", "");
        job_free(c->job);
        c->job = NULL;
        return;
    }
    qkey = tq_key(c->op.t, "queue", job->queue, NULL);
    enc = tq_encode(job->queue, job->cls, job->args);
    move(c, "1", job->queue, enc, qkey);
    free(qkey);
    free(enc);
}

static void unindexed(struct op *op, const struct store_reply *r);

static void head_got(struct op *op, const struct store_reply *r)
{
    struct cycle *c = (struct cycle *)op;
    char *key, *tspart;

    free(c->text);
    c->text = NULL;
    if (!tq_reply_str(r)) {
        /* empty: drop the timestamp, then look for the next one */
        key = tq_key(op->t, "delayed_queue_schedule", NULL);
        {
            const char *argv[] = {c->dkey, key, c->secs};

            op_eval(op, cleaned, &cleanup_script, 2, 3, argv, NULL);
        }
        free(key);
        return;
    }
    c->text = xstrndup(r->str, r->len);
    /* as node-resque does before enqueueing (so that DelayQueueLock does not
     * see the job itself), drop the job's timestamps entry first; the job
     * stays in delayed:<s> until it is in its queue */
    tspart = xasprintf("timestamps:%s", c->text);
    key = tq_key(op->t, tspart, NULL);
    op_cmdl(op, unindexed, "SREM", key, c->member, NULL);
    free(tspart);
    free(key);
}

static void unindexed(struct op *op, const struct store_reply *r)
{
    struct cycle *c = (struct cycle *)op;
    json_t *job = tq_parse(c->text, strlen(c->text));

    (void)r;
    if (!json_is_object(job) || !json_is_string(json_object_get(job, "class"))) {
        json_t *raw = json_string_nocheck(c->text);

        record_failure(c, raw, "cannot parse the delayed job: not a JSON job");
        json_decref(raw);
        json_decref(job);
        return;
    }
    c->job = job_new(op->t, json_string_value(json_object_get(job, "queue")),
                     json_string_value(json_object_get(job, "class")), json_object_get(job, "args"), NULL);
    if (json_object_get(job, "args") == NULL) {
        json_decref(c->job->args);
        c->job->args = json_array();
    }
    json_decref(job);
    plugins_run(c->job, HOOK_BEFORE_ENQUEUE, before_enqueue_done, c);
}

static void next_job(struct cycle *c)
{
    op_cmdl(&c->op, head_got, "LINDEX", c->dkey, "0", NULL);
}

static void due_got(struct op *op, const struct store_reply *r)
{
    struct cycle *c = (struct cycle *)op;
    const struct store_reply *e = r->type == STORE_REPLY_ARRAY && r->elements > 0 ? r->element[0] : NULL;

    if (!tq_reply_str(e)) {
        check_stuck_workers(c);
        return;
    }
    snprintf(c->secs, sizeof(c->secs), "%lld", strtoll(e->str, NULL, 10));
    snprintf(c->member, sizeof(c->member), "delayed:%s", c->secs);
    free(c->dkey);
    c->dkey = tq_key(op->t, c->member, NULL);
    log_msg(op->t->cfg.sl_working, NULL, "resque scheduler working timestamp %s", c->secs);
    next_job(c);
}

static void next_timestamp(struct cycle *c)
{
    char *key = tq_key(c->op.t, "delayed_queue_schedule", NULL), now[24];

    snprintf(now, sizeof(now), "%llu", (unsigned long long)((core_now_ms() + 500) / 1000));
    op_cmdl(&c->op, due_got, "ZRANGEBYSCORE", key, "0", now, "LIMIT", "0", "1", NULL);
    free(key);
}

static void leader_got(struct op *op, const struct store_reply *r)
{
    struct cycle *c = (struct cycle *)op;
    struct scheduler *s = c->s;

    if (!(r->type == STORE_REPLY_INT && r->integer == 1)) {
        s->leader = false;
        op_done(op, json_false());
        return;
    }
    if (!s->leader) {
        s->leader = true;
        log_notice("This node is now the Resque scheduler leader");
    }
    log_msg(op->t->cfg.sl_poll, NULL, "resque scheduler polling");
    next_timestamp(c);
}

static void try_leader(struct cycle *c)
{
    char *key;

    if (!c->s->running) {
        op_done(&c->op, json_false());
        return;
    }
    key = tq_key(c->op.t, "resque_scheduler_leader_lock", NULL);
    {
        const char *argv[] = {key, c->s->name, LEADER_LOCK_TIMEOUT};

        op_eval(&c->op, leader_got, &leader_script, 1, 3, argv, NULL);
    }
    free(key);
}

/* ---------------------------------------------------------------- the timer */

static void on_timer(uv_timer_t *h);

static void sched_free(struct scheduler *s)
{
    struct tasks *t = s->t;

    free(s->name);
    free(s);
    tasks_unref(t);
}

static void on_cycle_done(int status, json_t *result, const char *error, void *arg)
{
    struct scheduler *s = arg;

    (void)result;
    s->cycling = false;
    if (status < 0)
        log_error("[api.resque.scheduler] %s", error ? error : ah_strerror(status));
    if (s->running && s->timer_open)
        uv_timer_start(&s->timer, on_timer, s->t->cfg.timeout, 0);
    else if (!s->timer_open)
        sched_free(s);
}

static void on_timer(uv_timer_t *h)
{
    struct scheduler *s = h->data;
    struct cycle *c;

    if (!s->running || s->cycling)
        return;
    s->cycling = true;
    c = (struct cycle *)op_new(s->t, sizeof(*c), on_cycle_done, s);
    c->op.release = cycle_release;
    c->s = s;
    try_leader(c);
    c->op.in_call = false;
}

/* The cleanup script's reply: look at the schedule again. */
static void cleaned(struct op *op, const struct store_reply *r)
{
    (void)r;
    try_leader((struct cycle *)op);
}

int scheduler_start(struct tasks *t)
{
    struct scheduler *s;

    if (!t->cfg.scheduler)
        return 0;
    s = xcalloc(1, sizeof(*s));
    s->t = t;
    s->name = xasprintf("%s:%d", t->hostname, (int)uv_os_getpid());
    uv_timer_init(t->app->loop, &s->timer);
    s->timer.data = s;
    s->timer_open = true;
    s->running = true;
    t->sched = s;
    tasks_ref(t);
    log_msg(t->cfg.sl_start, NULL, "resque scheduler started");
    uv_timer_start(&s->timer, on_timer, 0, 0);
    return 0;
}

static void on_timer_closed(uv_handle_t *h)
{
    struct scheduler *s = h->data;

    s->timer_open = false;
    if (!s->cycling)
        sched_free(s);
}

static void released(struct op *op, const struct store_reply *r)
{
    (void)r;
    op_done(op, NULL);
}

void scheduler_stop(struct tasks *t)
{
    struct scheduler *s = t->sched;
    struct op *op;
    char *key;

    if (s == NULL)
        return;
    t->sched = NULL;
    s->running = false;
    if (s->leader) {
        const char *argv[2];

        key = tq_key(t, "resque_scheduler_leader_lock", NULL);
        argv[0] = key;
        argv[1] = s->name;
        op = op_new(t, sizeof(*op), NULL, NULL);
        op_eval(op, released, &release_script, 1, 2, argv, NULL);
        op->in_call = false;
        free(key);
    }
    log_msg(t->cfg.sl_end, NULL, "resque scheduler ended");
    uv_timer_stop(&s->timer);
    uv_close((uv_handle_t *)&s->timer, on_timer_closed);
}
