/*
 * conn_test.c - probes for connection recycling (src/conn/conn.c keeps
 * freed connections for reuse).  `connProbeInstall` adds a connection
 * middleware (run time, so that nothing else sees it) whose create hook
 * counts the connections per type and notes any that does not start as a
 * fresh one would (params, session, rooms, error, response, matched route,
 * props, extension, counters), then marks the session with a serial
 * number; its destroy hook counts too.  `connProbeStats` returns the
 * counts, its own connection's session, params and id, and dirties the
 * session for the next connection to trip over.  `connLateTouch` (param
 * delay, ms) finishes on a timer and then reads and writes its connection,
 * whose client may have gone: it must still be the same connection (its
 * id unchanged, destroyed), not a recycled one.
 */
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include <ah/ah.h>

#include "app/app.h"

enum { K_WEB, K_WS, K_OTHER, K_N };

static struct {
    long creates[K_N], destroys[K_N];
    long dirty;
    long serial;
    long late_same, late_changed, late_destroyed;
    char first_dirty[256];
} st;

static int kind(const ah_connection_t *c)
{
    if (strcmp(c->type, "web") == 0)
        return K_WEB;
    if (strcmp(c->type, "websocket") == 0)
        return K_WS;
    return K_OTHER;
}

/* What is not as conn_new makes it (NULL: fresh). */
static const char *stale(const ah_connection_t *c)
{
    if (json_object_size(c->session) != 0)
        return "session";
    if (json_object_size(c->params) != 0)
        return "params";
    if (json_array_size(c->rooms) != 0)
        return "rooms";
    if (c->error || c->response || c->matched_route || c->props || c->extension)
        return "error/response/matchedRoute/props/extension";
    if (c->total_actions || c->pending_actions || c->destroyed)
        return "counters";
    return NULL;
}

static int probe_create(ah_connection_t *c)
{
    const char *what = stale(c);

    st.creates[kind(c)]++;
    if (what) {
        if (st.dirty++ == 0)
            snprintf(st.first_dirty, sizeof(st.first_dirty), "%s (%s)", what, c->type);
    }
    json_object_set_new(c->session, "probe", json_integer(++st.serial));
    return 0;
}

static void probe_destroy(ah_connection_t *c)
{
    st.destroys[kind(c)]++;
}

static const ah_connection_middleware_t probe = {
    .name = "connProbe", .priority = 1, .create = probe_create, .destroy = probe_destroy};

static int run_install(ah_ctx_t *ctx)
{
    memset(&st, 0, sizeof(st));
    /* this request's own connection: its destroy hook will count */
    st.creates[K_WEB] = 1;
    return ah_connection_middleware_add(ah_app(ctx), &probe) < 0 ? AH_EFAIL : 0;
}

static json_t *counts(int k)
{
    return json_pack("{s:I, s:I}", "creates", (json_int_t)st.creates[k], "destroys", (json_int_t)st.destroys[k]);
}

static int run_stats(ah_ctx_t *ctx)
{
    ah_connection_t *c = ah_connection(ctx);
    json_t *r = ah_response(ctx);

    json_object_set_new(r, "web", counts(K_WEB));
    json_object_set_new(r, "websocket", counts(K_WS));
    json_object_set_new(r, "dirty", json_integer(st.dirty));
    json_object_set_new(r, "firstDirty", json_string(st.first_dirty));
    json_object_set_new(r, "lateSame", json_integer(st.late_same));
    json_object_set_new(r, "lateChanged", json_integer(st.late_changed));
    json_object_set_new(r, "lateDestroyed", json_integer(st.late_destroyed));
    json_object_set_new(r, "session", json_deep_copy(c->session));
    json_object_set_new(r, "paramKeys", json_integer((json_int_t)json_object_size(c->params)));
    json_object_set_new(r, "connectionId", json_string(c->id));
    /* left behind for the next connection, should this one be reused */
    json_object_set_new(c->session, "leftBehind", json_true());
    return 0;
}

struct late {
    uv_timer_t t;
    ah_ctx_t *ctx;
    char id[96];
};

static void on_late_closed(uv_handle_t *h)
{
    struct late *l = h->data;
    ah_ctx_t *ctx = l->ctx;
    ah_connection_t *c = ah_connection(ctx);

    if (strcmp(c->id, l->id) == 0)
        st.late_same++;
    else
        st.late_changed++;
    if (c->destroyed)
        st.late_destroyed++;
    /* touch everything a late action might */
    json_object_set_new(c->session, "late", json_true());
    json_object_set_new(c->params, "late", json_true());
    json_object_set_new(ah_response(ctx), "late", json_true());
    free(l);
    ah_done(ctx);
}

static void on_late_timer(uv_timer_t *t)
{
    uv_close((uv_handle_t *)t, on_late_closed);
}

static int run_late(ah_ctx_t *ctx)
{
    struct late *l = calloc(1, sizeof(*l));
    long long delay = ah_param_int(ctx, "delay", 1);

    if (l == NULL)
        return AH_EFAIL;
    l->ctx = ctx;
    snprintf(l->id, sizeof(l->id), "%s", ah_connection(ctx)->id);
    uv_timer_init(ah_app(ctx)->loop, &l->t);
    l->t.data = l;
    uv_timer_start(&l->t, on_late_timer, delay > 0 ? (uint64_t)delay : 1, 0);
    return AH_PENDING;
}

static const ah_input_t late_inputs[] = {
    {.name = "delay", .format = ah_format_integer},
    {0},
};

AH_ACTION(conn_probe_install) = {.name = "connProbeInstall", .run = run_install};
AH_ACTION(conn_probe_stats) = {.name = "connProbeStats", .run = run_stats};
AH_ACTION(conn_late_touch) = {.name = "connLateTouch", .inputs = late_inputs, .run = run_late};
