/*
 * tasks_testlib.h - helpers for the task unit tests: an app on the memory
 * store or on a private redis-server, synchronous-looking task API calls
 * that also check the libuv contract (callback once, never inline), and
 * direct store commands to look at node-resque's keys.
 */
#ifndef AH_TESTS_TASKS_TESTLIB_H
#define AH_TESTS_TASKS_TESTLIB_H

#include "store_testlib.h"

#include "app/app.h"
#include "core/json_out.h"
#include "testkit/testkit.h"
#include "tasks/tasks.h"
#include "tasks/tasks_internal.h"
#include "../tasks/test_tasks.h"

struct tcfg {
    int redis_port;            /* 0: memory store */
    int min_workers, max_workers;
    bool scheduler;
    const char *queues_json;   /* NULL: ["*"] */
    long long timeout, stuck_timeout;
    bool retry_stuck;
};

static inline void tcfg_apply(ah_app_t *app, void *arg)
{
    struct tcfg *c = arg;

    if (c->redis_port) {
        testkit_config_set(app, "redis.enabled", json_true());
        testkit_config_set(app, "redis.port", json_integer(c->redis_port));
        testkit_config_set(app, "redis.retryFirstDelay", json_integer(50));
    }
    testkit_config_set(app, "tasks.minTaskProcessors", json_integer(c->min_workers));
    testkit_config_set(app, "tasks.maxTaskProcessors", json_integer(c->max_workers));
    testkit_config_set(app, "tasks.scheduler", json_boolean(c->scheduler));
    testkit_config_set(app, "tasks.timeout", json_integer(c->timeout ? c->timeout : 50));
    testkit_config_set(app, "tasks.checkTimeout", json_integer(20));
    testkit_config_set(app, "tasks.maxEventLoopDelay", json_integer(1000));
    if (c->stuck_timeout)
        testkit_config_set(app, "tasks.stuckWorkerTimeout", json_integer(c->stuck_timeout));
    testkit_config_set(app, "tasks.retryStuckJobs", json_boolean(c->retry_stuck));
    if (c->queues_json)
        testkit_config_set(app, "tasks.queues", json_loads(c->queues_json, 0, NULL));
}

static inline ah_app_t *tapp_new(struct tcfg *c)
{
    return testkit_app_new_with(tcfg_apply, c);
}

/* ---------------------------------------------------------------- results */

struct tr {
    bool done;
    int calls;
    int status;
    json_t *result;
    char *error;
};

static inline void tr_reset(struct tr *r)
{
    json_decref(r->result);
    free(r->error);
    memset(r, 0, sizeof(*r));
}

static inline void tr_cb(ah_app_t *app, int status, json_t *result, const char *error, void *arg)
{
    struct tr *r = arg;

    (void)app;
    r->calls++;
    r->done = true;
    r->status = status;
    json_decref(r->result);
    r->result = result ? json_incref(result) : NULL;
    free(r->error);
    r->error = error ? xstrdup(error) : NULL;
}

/* Wait for a call started with `rc`; checks the contract.  Returns the
 * result (borrowed until the next use of r) or NULL. */
static inline json_t *tr_wait(ah_app_t *app, struct tr *r, int rc, const char *what)
{
    if (rc < 0) {
        printf("not ok - %s: returned %d (%s)\n", what, rc, ah_strerror(rc));
        check_failed++;
        return NULL;
    }
    if (r->done) {
        printf("not ok - %s: callback ran inline\n", what);
        check_failed++;
    }
    if (!test_run_until(app->loop, &r->done, 10000)) {
        printf("not ok - %s: callback never ran\n", what);
        check_failed++;
        return NULL;
    }
    if (r->calls != 1) {
        printf("not ok - %s: callback ran %d times\n", what, r->calls);
        check_failed++;
    }
    if (r->status < 0)
        printf("# %s: status %d, error %s\n", what, r->status, r->error ? r->error : "(null)");
    return r->result;
}

#define CALL(app, r, expr) (tr_reset(r), tr_wait((app), (r), (expr), #expr))

/* jansson's json_is_* macros evaluate their argument twice: functions. */
static inline bool is_true(json_t *v) { return json_is_true(v); }
static inline bool is_false(json_t *v) { return json_is_false(v); }
static inline bool is_null(json_t *v) { return json_is_null(v); }

/* JSON text of a value (for CHECK_EQ_STR); static buffer per call site. */
static inline const char *jtext(json_t *v)
{
    static char buf[8][4096];
    static int i;
    char *s = v ? json_out_str(v, 0, 0, NULL) : NULL;

    i = (i + 1) % 8;
    snprintf(buf[i], sizeof(buf[i]), "%s", s ? s : "(null)");
    free(s);
    return buf[i];
}

/* ---------------------------------------------------------------- the store */

/* A raw command on the app's store; returns an owned copy of the reply. */
static inline struct store_reply *tstore(ah_app_t *app, const char *const *argv, int argc)
{
    struct tres t;

    memset(&t, 0, sizeof(t));
    if (!tres_wait(app->loop, &t, store_commandv(store_get(app), STORE_TASKS, argc, argv, NULL, tres_cb, &t),
                   argv[0]))
        return NULL;
    return t.r;
}

#define TS(app, ...)                                                                              \
    tstore((app), (const char *const[]){__VA_ARGS__},                                             \
           (int)(sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *)))

/* Reply as text: strings as is, ints as digits, nil as "nil", arrays as
 * JSON arrays of those.  Frees the reply. */
static inline const char *rtext(struct store_reply *r)
{
    static char buf[8][8192];
    static int i;
    struct buf b = BUF_INIT;
    size_t k;

    i = (i + 1) % 8;
    if (r == NULL)
        buf_adds(&b, "(no reply)");
    else if (r->type == STORE_REPLY_STR || r->type == STORE_REPLY_STATUS || r->type == STORE_REPLY_ERROR)
        buf_add(&b, r->str, r->len);
    else if (r->type == STORE_REPLY_INT)
        buf_addf(&b, "%lld", r->integer);
    else if (r->type == STORE_REPLY_NIL)
        buf_adds(&b, "nil");
    else {
        buf_addc(&b, '[');
        for (k = 0; k < r->elements; k++) {
            if (k)
                buf_addc(&b, ',');
            if (r->element[k]->type == STORE_REPLY_INT)
                buf_addf(&b, "%lld", r->element[k]->integer);
            else if (r->element[k]->str)
                buf_add(&b, r->element[k]->str, r->element[k]->len);
            else
                buf_adds(&b, "nil");
        }
        buf_addc(&b, ']');
    }
    snprintf(buf[i], sizeof(buf[i]), "%s", b.data ? b.data : "");
    buf_release(&b);
    store_reply_free(r);
    return buf[i];
}

static inline void tflush(ah_app_t *app)
{
    store_reply_free(TS(app, "FLUSHDB"));
}

/* Run the loop until cond() holds (polling), at most ms. */
static inline bool twait_for(ah_app_t *app, bool (*cond)(ah_app_t *app, void *arg), void *arg, uint64_t ms)
{
    uint64_t deadline = core_mono_ms() + ms;

    while (core_mono_ms() < deadline) {
        if (cond(app, arg))
            return true;
        test_run_for(app->loop, 10);
    }
    return cond(app, arg);
}

#endif /* AH_TESTS_TASKS_TESTLIB_H */
