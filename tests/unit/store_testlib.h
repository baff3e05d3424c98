/*
 * store_testlib.h - helpers for the store and cache unit tests: a private
 * redis-server (through tests/lib/redis.sh), running the loop until a
 * callback fired, and synchronous-looking command calls that also check
 * the libuv contract (callback once, never inline).
 *
 * Tests run from the repository root (tests/run-all.sh does so).
 */
#ifndef AH_TESTS_STORE_TESTLIB_H
#define AH_TESTS_STORE_TESTLIB_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uv.h>

#include "check.h"
#include "cluster/store.h"
#include "core/core.h"

/* ------------------------------------------------------------- redis-server */

struct test_redis {
    int port;
    pid_t pid;
    char dir[256];
};

static inline bool test_redis_available(void)
{
    return system("sh tests/lib/redis.sh available") == 0;
}

static inline int test_free_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = 0;

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

/* Output of redis-cli (trailing newline removed), or NULL.  Free it. */
static inline char *test_redis_cli(const struct test_redis *r, const char *args)
{
    char cmd[4096];
    struct buf b = BUF_INIT;
    char chunk[512];
    size_t n;
    FILE *f;

    snprintf(cmd, sizeof(cmd), "redis-cli -h 127.0.0.1 -p %d %s 2>&1", r->port, args);
    if ((f = popen(cmd, "r")) == NULL)
        return NULL;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        buf_add(&b, chunk, n);
    pclose(f);
    while (b.len > 0 && b.data[b.len - 1] == '\n')
        b.data[--b.len] = '\0';
    if (b.data == NULL)
        buf_adds(&b, "");
    return buf_detach(&b, NULL);
}

static inline bool test_redis_ping(const struct test_redis *r)
{
    char *out = test_redis_cli(r, "ping");
    bool ok = out && strcmp(out, "PONG") == 0;

    free(out);
    return ok;
}

/* Start redis-server on `port` (0: a free one).  The server dies with this
 * process (PR_SET_PDEATHSIG) even if the test crashes. */
static inline bool test_redis_start(struct test_redis *r, int port)
{
    char portstr[16];
    int i;

    if (r->dir[0] == '\0') {
        snprintf(r->dir, sizeof(r->dir), "/tmp/ah-test-redis-XXXXXX");
        if (mkdtemp(r->dir) == NULL)
            return false;
    }
    r->port = port ? port : test_free_port();
    snprintf(portstr, sizeof(portstr), "%d", r->port);
    fflush(stdout);
    r->pid = fork();
    if (r->pid < 0)
        return false;
    if (r->pid == 0) {
        int devnull = open("/dev/null", 1);

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (devnull >= 0) {
            dup2(devnull, 1);
            dup2(devnull, 2);
        }
        execlp("sh", "sh", "tests/lib/redis.sh", "exec", portstr, r->dir, (char *)NULL);
        _exit(127);
    }
    for (i = 0; i < 200; i++) {
        if (test_redis_ping(r))
            return true;
        if (waitpid(r->pid, NULL, WNOHANG) == r->pid) {
            r->pid = 0;
            return false;
        }
        usleep(25000);
    }
    return false;
}

static inline void test_redis_stop(struct test_redis *r)
{
    if (r->pid > 0) {
        kill(r->pid, SIGTERM);
        waitpid(r->pid, NULL, 0);
        r->pid = 0;
    }
}

static inline void test_redis_cleanup(struct test_redis *r)
{
    char cmd[300];

    test_redis_stop(r);
    if (r->dir[0]) {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", r->dir);
        if (system(cmd) != 0)
            printf("# could not remove %s\n", r->dir);
        r->dir[0] = '\0';
    }
}

/* ------------------------------------------------------------- the loop */

/* Run the loop until *flag, at most timeout_ms.  Returns *flag. */
static inline bool test_run_until(uv_loop_t *loop, const bool *flag, uint64_t timeout_ms)
{
    uint64_t deadline = core_mono_ms() + timeout_ms;

    while (!*flag && core_mono_ms() < deadline) {
        if (uv_run(loop, UV_RUN_NOWAIT) == 0)
            usleep(1000);
        else if (!*flag)
            usleep(200);
    }
    return *flag;
}

/* Run the loop for about `ms`. */
static inline void test_run_for(uv_loop_t *loop, uint64_t ms)
{
    bool never = false;

    test_run_until(loop, &never, ms);
}

/* Close every handle left and check that the loop closes (leaks fail it). */
static inline void test_walk_close(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

/* ------------------------------------------------------------- commands */

struct tres {
    bool done;
    int calls;
    int status;
    struct store_reply *r;
};

static inline void tres_cb(int status, const struct store_reply *r, void *arg)
{
    struct tres *t = arg;

    t->calls++;
    t->done = true;
    t->status = status;
    store_reply_free(t->r);
    t->r = store_reply_dup(r);
}

static inline void tres_reset(struct tres *t)
{
    store_reply_free(t->r);
    memset(t, 0, sizeof(*t));
}

/* Wait for a result started with `rc`; checks the contract. */
static inline bool tres_wait(uv_loop_t *loop, struct tres *t, int rc, const char *what)
{
    if (rc < 0) {
        printf("not ok - %s: returned %d (%s)\n", what, rc, ah_strerror(rc));
        check_failed++;
        return false;
    }
    if (t->done) {
        printf("not ok - %s: callback ran inline\n", what);
        check_failed++;
    }
    if (!test_run_until(loop, &t->done, 15000)) {
        printf("not ok - %s: callback never ran\n", what);
        check_failed++;
        return false;
    }
    test_run_for(loop, 0);
    if (t->calls != 1) {
        printf("not ok - %s: callback ran %d times\n", what, t->calls);
        check_failed++;
    }
    return true;
}

/* Run one command to completion; the reply stays in *t until the next use. */
static inline const struct store_reply *tcmdv(uv_loop_t *loop, struct store *s, struct tres *t, int argc,
                                              const char *const *argv)
{
    int rc;

    tres_reset(t);
    rc = store_commandv(s, STORE_CLIENT, argc, argv, NULL, tres_cb, t);
    if (!tres_wait(loop, t, rc, argv[0]))
        return NULL;
    return t->r;
}

#define TCMD(loop, s, t, ...) \
    tcmdv((loop), (s), (t), (int)(sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *)), \
          (const char *const[]){__VA_ARGS__})

/* Reply checks: print both sides on failure. */
static inline void check_reply(const char *file, int line, const struct store_reply *r, int type,
                               long long i, const char *s)
{
    char got[256], want[256];
    bool ok;

    if (r == NULL) {
        snprintf(got, sizeof(got), "(no reply)");
        ok = false;
    } else {
        switch (r->type) {
        case STORE_REPLY_INT: snprintf(got, sizeof(got), "int %lld", r->integer); break;
        case STORE_REPLY_NIL: snprintf(got, sizeof(got), "nil"); break;
        case STORE_REPLY_ARRAY: snprintf(got, sizeof(got), "array of %zu", r->elements); break;
        default: snprintf(got, sizeof(got), "type %d '%.200s'", r->type, r->str ? r->str : ""); break;
        }
        ok = r->type == type;
        if (ok && type == STORE_REPLY_INT)
            ok = r->integer == i;
        if (ok && type == STORE_REPLY_ARRAY)
            ok = (long long)r->elements == i;
        if (ok && s && (type == STORE_REPLY_STR || type == STORE_REPLY_STATUS))
            ok = r->str && strcmp(r->str, s) == 0;
        if (ok && s && type == STORE_REPLY_ERROR)
            ok = r->str && strncmp(r->str, s, strlen(s)) == 0;
    }
    switch (type) {
    case STORE_REPLY_INT: snprintf(want, sizeof(want), "int %lld", i); break;
    case STORE_REPLY_NIL: snprintf(want, sizeof(want), "nil"); break;
    case STORE_REPLY_ARRAY: snprintf(want, sizeof(want), "array of %lld", i); break;
    default: snprintf(want, sizeof(want), "type %d '%.200s'", type, s ? s : ""); break;
    }
    check_report(ok, file, line, "reply", got, want);
}

#define CHECK_INT(r, v) check_reply(__FILE__, __LINE__, (r), STORE_REPLY_INT, (v), NULL)
#define CHECK_NIL(r) check_reply(__FILE__, __LINE__, (r), STORE_REPLY_NIL, 0, NULL)
#define CHECK_STR(r, v) check_reply(__FILE__, __LINE__, (r), STORE_REPLY_STR, 0, (v))
#define CHECK_STATUS(r, v) check_reply(__FILE__, __LINE__, (r), STORE_REPLY_STATUS, 0, (v))
#define CHECK_ERR(r, prefix) check_reply(__FILE__, __LINE__, (r), STORE_REPLY_ERROR, 0, (prefix))
#define CHECK_ARR(r, n) check_reply(__FILE__, __LINE__, (r), STORE_REPLY_ARRAY, (n), NULL)

/* A store on `loop`: memory, or Redis on `port`, ready. */
static inline struct store *test_store(uv_loop_t *loop, enum store_kind kind, int port)
{
    struct store_config cfg;
    struct store *s;

    store_config_defaults(&cfg);
    cfg.kind = kind;
    cfg.port = port;
    cfg.retry_first = 50; /* tests do not wait Actionhero's 5 s */
    cfg.retry_step = 10;
    cfg.retry_max = 100;
    cfg.connect_timeout = 2000;
    cfg.command_timeout = 3000;
    s = store_new(loop, &cfg);
    if (store_open(s) < 0 || store_wait(s, 5000) < 0) {
        printf("not ok - store (%s) did not become ready\n", kind == STORE_REDIS ? "redis" : "memory");
        check_failed++;
    }
    return s;
}

static inline void test_set_flag(void *arg)
{
    *(bool *)arg = true;
}

/* Close the store and wait until it has freed itself. */
static inline void test_store_close(uv_loop_t *loop, struct store *s)
{
    bool closed = false;

    store_close(s, test_set_flag, &closed);
    if (!test_run_until(loop, &closed, 5000)) {
        printf("not ok - the store did not finish closing\n");
        check_failed++;
    }
}

/* Close the loop; every handle must be closed by now. */
static inline void test_loop_done(uv_loop_t *loop)
{
    int rc;

    test_run_for(loop, 20);
    rc = uv_loop_close(loop);
    if (rc != 0) {
        uv_walk(loop, test_walk_close, NULL);
        test_run_for(loop, 20);
        uv_loop_close(loop);
    }
    CHECK_EQ_INT(rc, 0);
}

#endif /* AH_TESTS_STORE_TESTLIB_H */
