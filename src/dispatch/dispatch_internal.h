/*
 * dispatch_internal.h - state shared by the files of src/dispatch: the action
 * table, the middleware registry, the per-invocation context and the
 * deferred-work queue.
 */
#ifndef AH_SRC_DISPATCH_DISPATCH_INTERNAL_H
#define AH_SRC_DISPATCH_DISPATCH_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>
#include <uv.h>

#include "dispatch/dispatch.h"

/* One registered action version. */
struct action_entry {
    const ah_action_t *a;
    const char *version;          /* key: descriptor's version or "1" */
    const char *file;             /* source file (messages), may be NULL */
};

/* All versions of one name; `sorted` is the JS-string-sorted version list
 * (the last one is "latest"). */
struct action_name {
    const char *name;
    struct action_entry *entries; /* one per distinct version */
    size_t n_entries;
    const char **sorted;          /* version keys, ascending by string */
    size_t n_sorted;
};

/* A parsed default_json, kept for the life of the table. */
struct input_default {
    const ah_input_t *in;
    json_t *value;
};

struct mw_entry {
    const ah_action_middleware_t *mw;
    int priority;
};

/* Deferred work: run on the next loop turn. */
struct defer_item {
    void (*fn)(void *arg);
    void *arg;
    struct defer_item *next;
};

struct dctx;

struct dispatch {
    ah_app_t *app;

    /* every loaded entry in load order (dispatch_at) */
    struct action_entry *all;
    size_t n_all;
    /* names sorted by strcmp for bsearch */
    struct action_name *names;
    size_t n_names;

    struct input_default *defaults;
    size_t n_defaults;

    /* the post-variable list */
    char **post_vars;
    size_t n_post_vars;

    /* action middleware: by name, and the sorted global list */
    struct mw_entry *mws;
    size_t n_mws;
    struct mw_entry *globals;     /* stable-sorted by priority */
    size_t n_globals;

    int in_flight;
    struct dctx *free_ctxs;       /* recycled contexts */
    size_t n_free_ctxs;
    struct dctx *zombies;         /* finished async contexts, freed next turn */
    struct defer_item *defer_head, *defer_tail;
    uv_idle_t idle;
    bool idle_init;
    bool idle_active;
    bool stopping;                /* stop phase ran; free when idle */
};

/* Stages of an invocation (actions.md §4.1). */
enum dstage {
    ST_PRE = 0,
    ST_PARAMS,
    ST_RUN,
    ST_POST,
    ST_DONE,
};

struct arena_chunk;
struct nan_mark;

struct dctx {
    struct ah_ctx pub;
    struct dispatch *d;
    dispatch_done_cb cb;
    void *cb_arg;

    enum dstage stage;
    size_t mw_index;
    const ah_action_middleware_t **chain;  /* resolved middleware */
    size_t n_chain;
    const ah_action_middleware_t *chain_inline[8];
    const char *chain_missing;             /* unknown middleware name */

    bool in_hook;       /* a hook is executing */
    bool done_early;    /* ah_done called while the hook ran */
    bool waiting;       /* a hook returned AH_PENDING; ah_done resumes */
    bool went_async;    /* at least one hook was pending */
    bool finished;      /* completion ran */
    bool params_locked;
    int fail_code;      /* ah_fail() was called */
    char *fail_msg;
    bool error_is_exception; /* response.error is an Error we placed */

    char action_buf[128]; /* action name when it is not a C string we own */
    char log_method[16];
    char *log_pathname;
    char log_pathname_buf[128];

    struct arena_chunk *arena;
    struct nan_mark *nan_marks;   /* params a stock formatter made NaN */
    struct dctx *next;
};

static inline struct dctx *dctx_of(ah_ctx_t *ctx)
{
    return (struct dctx *)ctx;
}

static inline struct dispatch *dispatch_of_ctx(ah_ctx_t *ctx)
{
    return dctx_of(ctx)->d;
}

/* dispatch.c */
struct dispatch *dispatch_get(ah_app_t *app);
const ah_action_middleware_t *dispatch_mw_find(struct dispatch *d, const char *name);
json_t *dispatch_input_default(struct dispatch *d, const ah_input_t *in);
void dispatch_defer(struct dispatch *d, void (*fn)(void *arg), void *arg);
void dispatch_zombie(struct dispatch *d, struct dctx *x);
void dispatch_maybe_free(struct dispatch *d);
bool dispatch_is_safe_param(const char *name);

/* inputs.c: scrub and validate params (steps 8.2, 8.3).  Returns 0, or <0
 * when a formatter or default failed (x->fail_msg set). */
int inputs_reduce_validate(struct dctx *x);

/* log_action.c: the log line of a finished invocation (actions.md §8). */
void dispatch_log_action(struct dctx *x);

/* processor.c */
void dispatch_arena_free(struct dctx *x);

#endif /* AH_SRC_DISPATCH_DISPATCH_INTERNAL_H */
