/*
 * chat_testlib.h - helpers for the chat unit tests: test apps on the
 * memory backend or on a private redis-server, synchronous-looking chat
 * calls that also check the callback contract (once, never inline), and
 * waiting for messages to reach test connections.
 */
#ifndef AH_TESTS_CHAT_TESTLIB_H
#define AH_TESTS_CHAT_TESTLIB_H

#include <stdlib.h>
#include <string.h>

#include <ah/ah.h>

#include "app/app.h"
#include "cluster/cluster.h"
#include "conn/conn.h"
#include "core/json_out.h"
#include "store_testlib.h"
#include "testkit/testkit.h"

/* ------------------------------------------------------------- apps */

struct chat_app_opts {
    int redis_port;          /* 0: memory backend */
    long long rpc_timeout;   /* 0: 300 ms */
    long long max_members;   /* 0: default */
    long long max_message;   /* 0: default */
    long long max_rooms;     /* 0: default */
};

static inline void chat_configure(ah_app_t *app, void *arg)
{
    const struct chat_app_opts *o = arg;

    testkit_config_set(app, "general.startingChatRooms",
                       json_pack("{s:{}, s:{}}", "defaultRoom", "otherRoom"));
    testkit_config_set(app, "general.serverToken", json_string("serverToken-0"));
    testkit_config_set(app, "general.rpcTimeout", json_integer(o->rpc_timeout ? o->rpc_timeout : 300));
    if (o->max_members)
        testkit_config_set(app, "general.maxRoomMembers", json_integer(o->max_members));
    if (o->max_rooms)
        testkit_config_set(app, "general.maxRoomsPerConnection", json_integer(o->max_rooms));
    if (o->max_message)
        testkit_config_set(app, "general.maxChatMessageBytes", json_integer(o->max_message));
    if (o->redis_port) {
        testkit_config_set(app, "redis.enabled", json_true());
        testkit_config_set(app, "redis.host", json_string("127.0.0.1"));
        testkit_config_set(app, "redis.port", json_integer(o->redis_port));
        testkit_config_set(app, "redis.retryFirstDelay", json_integer(50));
        testkit_config_set(app, "redis.connectTimeout", json_integer(2000));
    }
}

static inline ah_app_t *chat_app_new(const struct chat_app_opts *o)
{
    struct chat_app_opts copy = {0};

    if (o)
        copy = *o;
    return testkit_app_new_with(chat_configure, &copy);
}

/* Run every given loop once, without blocking. */
static inline void chat_spin(ah_app_t **apps, size_t n)
{
    size_t i;
    int active = 0;

    for (i = 0; i < n; i++)
        active += uv_run(apps[i]->loop, UV_RUN_NOWAIT);
    if (active == 0)
        usleep(200);
    else
        usleep(50);
}

/* Drive the apps' loops until *flag or timeout_ms. */
static inline bool chat_run_until(ah_app_t **apps, size_t n, const bool *flag, uint64_t timeout_ms)
{
    uint64_t deadline = core_mono_ms() + timeout_ms;

    while (!*flag && core_mono_ms() < deadline)
        chat_spin(apps, n);
    return *flag;
}

/* Drive them for about `ms`. */
static inline void chat_run_for(ah_app_t **apps, size_t n, uint64_t ms)
{
    bool never = false;

    chat_run_until(apps, n, &never, ms);
}

/* ------------------------------------------------------------- calls */

struct chat_res {
    bool done;
    int calls;
    json_t *result;
    char *error;
};

static inline void chat_res_cb(ah_app_t *app, json_t *result, const char *error, void *arg)
{
    struct chat_res *r = arg;

    (void)app;
    r->calls++;
    r->done = true;
    json_decref(r->result);
    free(r->error);
    r->result = result ? json_incref(result) : NULL;
    r->error = error ? xstrdup(error) : NULL;
}

static inline void chat_res_reset(struct chat_res *r)
{
    json_decref(r->result);
    free(r->error);
    memset(r, 0, sizeof(*r));
}

/* Wait for a call started with `rc` (driving every app's loop); checks the
 * contract.  Returns r. */
static inline struct chat_res *chat_wait_on(ah_app_t **apps, size_t n, struct chat_res *r, int rc,
                                            const char *file, int line)
{
    char where[256];

    snprintf(where, sizeof(where), "%s:%d", file, line);
    if (rc < 0) {
        check_report(0, file, line, "chat call returned an error", ah_strerror(rc), "0");
        return r;
    }
    check_report(!r->done, file, line, "callback did not run inline", NULL, NULL);
    if (!chat_run_until(apps, n, &r->done, 10000)) {
        check_report(0, file, line, "callback ran", "never", "once");
        return r;
    }
    chat_run_for(apps, n, 1);
    check_report(r->calls == 1, file, line, "callback ran once", r->calls == 1 ? "1" : "more", "1");
    (void)where;
    return r;
}

/* CALL(app, &res, ah_chat_xxx(app, ..., chat_res_cb, &res)) */
#define CALL(app, r, expr) \
    (chat_res_reset(r), chat_wait_on(&(app), 1, (r), (expr), __FILE__, __LINE__))
#define CALLN(apps, n, r, expr) \
    (chat_res_reset(r), chat_wait_on((apps), (n), (r), (expr), __FILE__, __LINE__))

/* The result as compact JSON.stringify text (static buffer), "(null)" when
 * there is none. */
static inline const char *chat_text(json_t *v)
{
    static char out[4096];
    char *s;

    if (v == NULL)
        return "(null)";
    s = json_out_str(v, 0, 0, NULL);
    snprintf(out, sizeof(out), "%s", s ? s : "(bad)");
    free(s);
    return out;
}

/* ------------------------------------------------------------- messages */

static inline size_t chat_msg_count(ah_connection_t *c)
{
    return json_array_size(testkit_messages(c));
}

/* The last message of a test connection (borrowed). */
static inline json_t *chat_last_msg(ah_connection_t *c)
{
    json_t *m = testkit_messages(c);

    return json_array_get(m, json_array_size(m) - 1);
}

/* Wait until `c` has at least `n` messages (a few loop turns at most on
 * the memory backend; a round trip on Redis). */
static inline bool chat_wait_msgs(ah_app_t **apps, size_t napps, ah_connection_t *c, size_t n)
{
    uint64_t deadline = core_mono_ms() + 5000;

    while (chat_msg_count(c) < n && core_mono_ms() < deadline)
        chat_spin(apps, napps);
    return chat_msg_count(c) >= n;
}

/* A verb through testkit, words as JSON text. */
static inline int chat_verb_j(ah_connection_t *c, const char *verb, const char *words_json, json_t **res,
                              char **err)
{
    json_t *w = words_json ? json_loads(words_json, JSON_DECODE_ANY, NULL) : NULL;
    int rc = testkit_verb(c, verb, w, res, err);

    json_decref(w);
    return rc;
}

/* The list result sorted, as text: ["a","b"]. */
static inline const char *chat_sorted(json_t *arr)
{
    json_t *copy = json_array();
    size_t i, j, n = json_array_size(arr);
    const char *out;

    for (i = 0; i < n; i++)
        json_array_append(copy, json_array_get(arr, i));
    for (i = 1; i < n; i++)
        for (j = i; j > 0 && strcmp(json_string_value(json_array_get(copy, j - 1)),
                                    json_string_value(json_array_get(copy, j))) > 0;
             j--) {
            json_t *a = json_incref(json_array_get(copy, j - 1));

            json_array_set(copy, j - 1, json_array_get(copy, j));
            json_array_set_new(copy, j, a);
        }
    out = chat_text(copy);
    json_decref(copy);
    return out;
}

#endif /* AH_TESTS_CHAT_TESTLIB_H */
