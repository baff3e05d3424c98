/*
 * dispatch.c - the action table (actions.md §1-§2), action middleware
 * registration (§5), the post-variable list, the deferred-work queue and the
 * "actions" initializer.
 *
 * The table is built once at boot from the generated registry
 * (ah_gen_actions[]): every descriptor is validated with Actionhero's
 * messages, versions are keyed by their text, and each name keeps its
 * version list sorted the way JavaScript's default sort does (as strings),
 * because "latest" is the last element of that list: with versions 1, 2, 10
 * the latest is 2.
 */
#include "dispatch/dispatch_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "config/config.h"
#include "core/core.h"
#include "core/json_out.h"
#include "log/log.h"

static const char *const safe_params[] = {"file", "apiVersion", "callback", "action", "messageId", NULL};

static const char *const verbs[] = {"quit", "exit", "paramAdd", "paramDelete", "paramView", "paramsView",
                                    "paramsDelete", "roomAdd", "roomLeave", "roomView", "detailsView",
                                    "say", NULL};

bool dispatch_is_safe_param(const char *name)
{
    size_t i;

    for (i = 0; safe_params[i]; i++)
        if (strcmp(safe_params[i], name) == 0)
            return true;
    return false;
}

static bool is_verb(const char *name)
{
    size_t i;

    for (i = 0; verbs[i]; i++)
        if (strcmp(verbs[i], name) == 0)
            return true;
    return false;
}

struct dispatch *dispatch_get(ah_app_t *app)
{
    return app ? app->dispatch : NULL;
}

static const char *version_of(const ah_action_t *a)
{
    return a->version && a->version[0] ? a->version : "1";
}

/* ---------------------------------------------------------------- lookup */

static struct action_name *find_name(struct dispatch *d, const char *name)
{
    size_t lo = 0, hi = d->n_names;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(name, d->names[mid].name);

        if (c == 0)
            return &d->names[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

static struct action_name *add_name(struct dispatch *d, const char *name)
{
    size_t lo = 0, hi = d->n_names;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;

        if (strcmp(name, d->names[mid].name) < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    d->names = xrealloc(d->names, (d->n_names + 1) * sizeof(*d->names));
    memmove(&d->names[lo + 1], &d->names[lo], (d->n_names - lo) * sizeof(*d->names));
    memset(&d->names[lo], 0, sizeof(d->names[lo]));
    d->names[lo].name = name;
    d->n_names++;
    return &d->names[lo];
}

const ah_action_t *dispatch_find(ah_app_t *app, const char *name, const char *version)
{
    struct dispatch *d = dispatch_get(app);
    struct action_name *n;
    size_t i;

    if (d == NULL || name == NULL)
        return NULL;
    n = find_name(d, name);
    if (n == NULL || n->n_sorted == 0)
        return NULL;
    if (version == NULL)
        version = n->sorted[n->n_sorted - 1];
    for (i = 0; i < n->n_entries; i++)
        if (strcmp(n->entries[i].version, version) == 0)
            return n->entries[i].a;
    return NULL;
}

const char *dispatch_latest_version(ah_app_t *app, const char *name)
{
    struct dispatch *d = dispatch_get(app);
    struct action_name *n = d && name ? find_name(d, name) : NULL;

    return n && n->n_sorted ? n->sorted[n->n_sorted - 1] : NULL;
}

const ah_action_t *dispatch_find_last_key(ah_app_t *app, const char *name)
{
    struct dispatch *d = dispatch_get(app);
    struct action_name *n = d && name ? find_name(d, name) : NULL;
    const ah_action_t *best_index = NULL, *last_other = NULL;
    uint32_t best = 0, idx;
    size_t i;

    for (i = 0; n && i < n->n_entries; i++) {
        if (core_is_array_index(n->entries[i].version, &idx)) {
            if (best_index == NULL || idx >= best) {
                best = idx;
                best_index = n->entries[i].a;
            }
        } else {
            last_other = n->entries[i].a;
        }
    }
    return last_other ? last_other : best_index;
}

size_t dispatch_count(ah_app_t *app)
{
    struct dispatch *d = dispatch_get(app);

    return d ? d->n_all : 0;
}

const ah_action_t *dispatch_at(ah_app_t *app, size_t i)
{
    struct dispatch *d = dispatch_get(app);

    return d && i < d->n_all ? d->all[i].a : NULL;
}

bool dispatch_is_post_variable(ah_app_t *app, const char *name)
{
    struct dispatch *d = dispatch_get(app);
    size_t i;

    if (d == NULL)
        return dispatch_is_safe_param(name);
    for (i = 0; i < d->n_post_vars; i++)
        if (strcmp(d->post_vars[i], name) == 0)
            return true;
    return false;
}

size_t dispatch_post_variables(ah_app_t *app, const char *const **out)
{
    struct dispatch *d = dispatch_get(app);

    *out = d ? (const char *const *)d->post_vars : NULL;
    return d ? d->n_post_vars : 0;
}

/* JS Number#toString (json_out.h does the work). */
int dispatch_number_text(double v, char out[32])
{
    return json_out_number(v, out);
}

/* Is `s` exactly the JS text of a number (so the version was a number)? */
static bool numeric_text(const char *s, double *out)
{
    char *end;
    char back[32];
    double v;

    if (*s == '\0' || *s == ' ' || *s == '+')
        return false;
    v = strtod(s, &end);
    if (*end != '\0' || v != v || v - v != 0)
        return false;
    dispatch_number_text(v, back);
    if (strcmp(back, s) != 0)
        return false;
    *out = v;
    return true;
}

json_t *dispatch_version_json(const ah_action_t *a)
{
    /* asked on every request without an apiVersion: the answer for the
     * last few descriptors (immutable) is remembered per thread */
    static __thread struct {
        const ah_action_t *a;
        int kind;               /* 1 integer, 2 real, 3 string */
        double num;
    } memo[8];
    unsigned slot = (unsigned)((uintptr_t)a >> 4) & 7;
    const char *v = version_of(a);
    double num;

    if (memo[slot].a != a) {
        memo[slot].a = a;
        memo[slot].kind = 3;
        if (numeric_text(v, &num)) {
            memo[slot].num = num;
            memo[slot].kind = num == (double)(json_int_t)num && num >= -9007199254740992.0 &&
                              num <= 9007199254740992.0 ? 1 : 2;
        }
    }
    switch (memo[slot].kind) {
    case 1:
        return json_integer((json_int_t)memo[slot].num);
    case 2:
        return json_real(memo[slot].num);
    default:
        return json_string(v);
    }
}

/* ---------------------------------------------------------------- defaults */

json_t *dispatch_input_default(struct dispatch *d, const ah_input_t *in)
{
    size_t i;

    for (i = 0; i < d->n_defaults; i++)
        if (d->defaults[i].in == in)
            return d->defaults[i].value;
    return NULL;
}

static int load_defaults(struct dispatch *d, const ah_action_t *a, const ah_input_t *inputs, const char *file)
{
    const ah_input_t *in;

    for (in = inputs; in && in->name; in++) {
        if (in->default_json && dispatch_input_default(d, in) == NULL) {
            json_error_t jerr;
            json_t *v = json_loads(in->default_json, JSON_DECODE_ANY, &jerr);

            if (v == NULL)
                return ah_app_fail(d->app, "default of input `%s` in action `%s` is not valid JSON (%s): %s",
                                   in->name, a->name, file ? file : "?", jerr.text);
            d->defaults = xrealloc(d->defaults, (d->n_defaults + 1) * sizeof(*d->defaults));
            d->defaults[d->n_defaults].in = in;
            d->defaults[d->n_defaults].value = v;
            d->n_defaults++;
        }
        if (in->schema && load_defaults(d, a, in->schema, file) < 0)
            return AH_EFAIL;
    }
    return 0;
}

/* ---------------------------------------------------------------- loading */

/* actions.md §1: the messages of Action#validate, in its order. */
static const char *validate_action(const ah_action_t *a, char *msg, size_t n)
{
    const ah_input_t *in;

    if (a->name == NULL || a->name[0] == '\0') {
        snprintf(msg, n, "name is required for this action");
        return msg;
    }
    if (a->run == NULL) {
        snprintf(msg, n, "action `%s` has no run method", a->name);
        return msg;
    }
    if (is_verb(a->name)) {
        snprintf(msg, n, "action `%s` is a reserved verb for connections. choose a new name", a->name);
        return msg;
    }
    for (in = a->inputs; in && in->name; in++) {
        if (dispatch_is_safe_param(in->name)) {
            snprintf(msg, n, "input `%s` in action `%s` is a reserved param", in->name, a->name);
            return msg;
        }
    }
    return NULL;
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

int dispatch_load_action(ah_app_t *app, const ah_action_t *a, const char *file)
{
    struct dispatch *d = dispatch_get(app);
    struct action_name *n;
    const char *ver;
    char msg[512];
    size_t i;

    if (validate_action(a, msg, sizeof(msg))) {
        json_t *data = json_pack("{s:s}", "file", file ? file : "");

        log_msg(AH_LOG_ALERT, data, "Error from Initializer: %s", msg);
        json_decref(data);
        /* v29 only survives a bad definition when another version of the
         * same name was registered before it. */
        if (a->name && a->name[0] && (n = find_name(d, a->name)) && n->n_entries > 0)
            return 0;
        return ah_app_fail(app, "%s", msg);
    }
    if (load_defaults(d, a, a->inputs, file) < 0)
        return AH_EFAIL;
    ver = version_of(a);
    n = find_name(d, a->name);
    if (n == NULL)
        n = add_name(d, a->name);
    for (i = 0; i < n->n_entries; i++) {
        if (strcmp(n->entries[i].version, ver) == 0) {
            size_t k;

            log_warn("an existing action with the same name `%s` will be overridden by the file %s", a->name,
                     file ? file : "?");
            for (k = 0; k < d->n_all; k++)
                if (d->all[k].a == n->entries[i].a)
                    d->all[k].a = a, d->all[k].file = file;
            n->entries[i].a = a;
            n->entries[i].file = file;
            goto loaded;
        }
    }
    n->entries = xrealloc(n->entries, (n->n_entries + 1) * sizeof(*n->entries));
    n->entries[n->n_entries].a = a;
    n->entries[n->n_entries].version = ver;
    n->entries[n->n_entries].file = file;
    n->n_entries++;
    n->sorted = xrealloc(n->sorted, (n->n_sorted + 1) * sizeof(*n->sorted));
    n->sorted[n->n_sorted++] = ver;
    /* JS's default sort compares UTF-16 strings; byte order of UTF-8 is the
     * same for every version text below U+E000. */
    qsort(n->sorted, n->n_sorted, sizeof(*n->sorted), cmp_str);
    d->all = xrealloc(d->all, (d->n_all + 1) * sizeof(*d->all));
    d->all[d->n_all].a = a;
    d->all[d->n_all].version = ver;
    d->all[d->n_all].file = file;
    d->n_all++;
loaded:
    log_debug("action loaded: %s @ v%s, %s", a->name, ver, file ? file : "?");
    return 0;
}

void dispatch_build_post_variables(ah_app_t *app)
{
    struct dispatch *d = dispatch_get(app);
    size_t i, j;

    for (i = 0; i < d->n_post_vars; i++)
        free(d->post_vars[i]);
    free(d->post_vars);
    d->post_vars = NULL;
    d->n_post_vars = 0;
    for (i = 0; safe_params[i]; i++) {
        d->post_vars = xrealloc(d->post_vars, (d->n_post_vars + 1) * sizeof(char *));
        d->post_vars[d->n_post_vars++] = xstrdup(safe_params[i]);
    }
    for (i = 0; i < d->n_all; i++) {
        const ah_input_t *in;

        for (in = d->all[i].a->inputs; in && in->name; in++) {
            bool seen = false;

            for (j = 0; j < d->n_post_vars && !seen; j++)
                seen = strcmp(d->post_vars[j], in->name) == 0;
            if (seen)
                continue;
            d->post_vars = xrealloc(d->post_vars, (d->n_post_vars + 1) * sizeof(char *));
            d->post_vars[d->n_post_vars++] = xstrdup(in->name);
        }
    }
}

/* ---------------------------------------------------------------- middleware */

const ah_action_middleware_t *dispatch_mw_find(struct dispatch *d, const char *name)
{
    size_t i;

    for (i = 0; i < d->n_mws; i++)
        if (strcmp(d->mws[i].mw->name, name) == 0)
            return d->mws[i].mw;
    return NULL;
}

int ah_action_middleware_add(ah_app_t *app, const ah_action_middleware_t *mw)
{
    struct dispatch *d = dispatch_get(app);
    int prio;
    size_t i, j;

    if (mw == NULL || mw->name == NULL || mw->name[0] == '\0') {
        log_error("middleware.name is required");
        return AH_EINVAL;
    }
    if (d == NULL) {
        log_error("cannot add action middleware `%s`: the actions initializer has not run", mw->name);
        return AH_ESTATE;
    }
    prio = mw->priority ? mw->priority : (int)config_int(app, "general.defaultMiddlewarePriority", 100);
    /* Re-adding a name replaces the definition (v29 stores by name). */
    for (i = 0; i < d->n_mws; i++)
        if (strcmp(d->mws[i].mw->name, mw->name) == 0)
            break;
    if (i == d->n_mws) {
        d->mws = xrealloc(d->mws, (d->n_mws + 1) * sizeof(*d->mws));
        d->n_mws++;
    }
    d->mws[i].mw = mw;
    d->mws[i].priority = prio;
    /* Remove a previous global entry of that name: v29 would list it twice
     * (and run it twice); we keep one. */
    for (i = 0; i < d->n_globals; i++) {
        if (strcmp(d->globals[i].mw->name, mw->name) == 0) {
            memmove(&d->globals[i], &d->globals[i + 1], (d->n_globals - i - 1) * sizeof(*d->globals));
            d->n_globals--;
            break;
        }
    }
    if (mw->global) {
        /* stable insertion: after every entry of lower or equal priority */
        d->globals = xrealloc(d->globals, (d->n_globals + 1) * sizeof(*d->globals));
        for (j = d->n_globals; j > 0 && d->globals[j - 1].priority > prio; j--)
            d->globals[j] = d->globals[j - 1];
        d->globals[j].mw = mw;
        d->globals[j].priority = prio;
        d->n_globals++;
    }
    return 0;
}

/* ---------------------------------------------------------------- deferred work */

static void free_ctx_memory(struct dctx *x)
{
    free(x);
}

static void on_idle(uv_idle_t *h)
{
    struct dispatch *d = h->data;
    struct defer_item *it;
    struct dctx *z;

    /* Take the whole lists: work queued while running goes to the next turn. */
    it = d->defer_head;
    d->defer_head = d->defer_tail = NULL;
    z = d->zombies;
    d->zombies = NULL;
    while (z) {
        struct dctx *next = z->next;

        free_ctx_memory(z);
        z = next;
    }
    while (it) {
        struct defer_item *next = it->next;

        it->fn(it->arg);
        free(it);
        it = next;
    }
    if (d->defer_head == NULL && d->zombies == NULL) {
        uv_idle_stop(&d->idle);
        d->idle_active = false;
        dispatch_maybe_free(d);
    }
}

static void wake(struct dispatch *d)
{
    if (!d->idle_init) {
        /* after the stop phase closed the handle: nothing runs any more,
         * but keep the memory until dispatch_maybe_free */
        return;
    }
    if (!d->idle_active) {
        uv_idle_start(&d->idle, on_idle);
        d->idle_active = true;
    }
}

void dispatch_defer(struct dispatch *d, void (*fn)(void *arg), void *arg)
{
    struct defer_item *it = xmalloc(sizeof(*it));

    it->fn = fn;
    it->arg = arg;
    it->next = NULL;
    if (d->defer_tail)
        d->defer_tail->next = it;
    else
        d->defer_head = it;
    d->defer_tail = it;
    wake(d);
}

void dispatch_zombie(struct dispatch *d, struct dctx *x)
{
    x->next = d->zombies;
    d->zombies = x;
    wake(d);
}

/* ---------------------------------------------------------------- lifetime */

static void free_all(struct dispatch *d)
{
    size_t i;

    while (d->defer_head) {
        struct defer_item *it = d->defer_head;

        d->defer_head = it->next;
        it->fn(it->arg);
        free(it);
    }
    while (d->zombies) {
        struct dctx *z = d->zombies;

        d->zombies = z->next;
        free_ctx_memory(z);
    }
    while (d->free_ctxs) {
        struct dctx *z = d->free_ctxs;

        d->free_ctxs = z->next;
        free_ctx_memory(z);
    }
    for (i = 0; i < d->n_names; i++) {
        free(d->names[i].entries);
        free(d->names[i].sorted);
    }
    free(d->names);
    free(d->all);
    for (i = 0; i < d->n_defaults; i++)
        json_decref(d->defaults[i].value);
    free(d->defaults);
    for (i = 0; i < d->n_post_vars; i++)
        free(d->post_vars[i]);
    free(d->post_vars);
    free(d->mws);
    free(d->globals);
    free(d);
}

static void on_idle_closed(uv_handle_t *h)
{
    free_all(h->data);
}

/* Free the table once the stop phase ran and nothing is in flight. */
void dispatch_maybe_free(struct dispatch *d)
{
    if (!d->stopping || d->in_flight > 0 || d->defer_head || d->zombies)
        return;
    if (d->app && d->app->dispatch == d)
        d->app->dispatch = NULL;
    d->app = NULL;
    if (d->idle_init) {
        d->idle_init = false;
        uv_idle_stop(&d->idle);
        uv_close((uv_handle_t *)&d->idle, on_idle_closed);
    } else {
        free_all(d);
    }
}

void dispatch_free(ah_app_t *app)
{
    struct dispatch *d = dispatch_get(app);

    if (d == NULL)
        return;
    d->stopping = true;
    /* Contexts still in flight keep `d` alive (orphaned from the app) until
     * the last one completes. */
    app->dispatch = NULL;
    dispatch_maybe_free(d);
}

int dispatch_init(ah_app_t *app)
{
    struct dispatch *d;
    size_t i;
    int rc;

    if (app->dispatch)
        return 0;
    d = xcalloc(1, sizeof(*d));
    d->app = app;
    app->dispatch = d;
    if (uv_idle_init(app->loop, &d->idle) == 0) {
        d->idle.data = d;
        d->idle_init = true;
    }
    for (i = 0; ah_gen_actions[i]; i++) {
        if ((rc = dispatch_load_action(app, ah_gen_actions[i], ah_gen_action_files[i])) < 0)
            return rc;
    }
    dispatch_build_post_variables(app);
    for (i = 0; ah_gen_action_middleware[i]; i++) {
        if ((rc = ah_action_middleware_add(app, ah_gen_action_middleware[i])) < 0)
            return ah_app_fail(app, "middleware.name is required");
    }
    return 0;
}

/* ---------------------------------------------------------------- initializer */

static int actions_initialize(ah_app_t *app)
{
    return dispatch_init(app);
}

static int actions_stop(ah_app_t *app)
{
    dispatch_free(app);
    return 0;
}

AH_INITIALIZER(core_actions) = {
    .name = "actions",
    .load_priority = PRIO_ACTIONS,
    .start_priority = PRIO_DEFAULT,
    .stop_priority = 9100, /* after the connections (9000): last of all */
    .initialize = actions_initialize,
    .stop = actions_stop,
};
