/*
 * verbs.c - connection.verbs(verb, words) (connection.md §6).
 *
 * The result is computed at once; the callback runs on a later loop turn
 * (a zero timer), never inside ah_connection_verbs(), as the API contract
 * says.  Errors reach the callback in their JS string form: "Error: <message>"
 * (or "TypeError: ..." for `documentation`), which is what websocket clients
 * receive in `status` and `error`.
 */
#include "conn/conn_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "app/app.h"
#include "chat/chat.h"
#include "config/config.h"
#include "core/core.h"
#include "core/json_out.h"
#include "dispatch/dispatch.h"
#include "log/log.h"

const char *const conn_verbs_all[] = {"quit", "exit", "paramAdd", "paramDelete", "paramView", "paramsView",
                                      "paramsDelete", "roomAdd", "roomLeave", "roomView", "detailsView",
                                      "say", NULL};

struct verb_call {
    uv_timer_t timer;
    ah_connection_t *c;
    ah_verb_cb cb;
    void *arg;
    json_t *result;
    char *error;
};

static void on_call_closed(uv_handle_t *h)
{
    struct verb_call *vc = h->data;

    json_decref(vc->result);
    free(vc->error);
    ah_connection_unref(vc->c);
    free(vc);
}

static void on_call_timer(uv_timer_t *t)
{
    struct verb_call *vc = t->data;

    if (vc->cb)
        vc->cb(vc->c, vc->result, vc->error, vc->arg);
    uv_close((uv_handle_t *)&vc->timer, on_call_closed);
}

/* config.errors text with one placeholder, or the built-in text. */
static char *err_text(ah_app_t *app, const char *key, const char *var, const char *val, const char *fmt)
{
    char *t = config_error_text(app, key, var, val, NULL);
    char *out;

    if (t == NULL || strcmp(t, key) == 0) {
        free(t);
        t = xasprintf(fmt, val);
    }
    out = xasprintf("Error: %s", t);
    free(t);
    return out;
}

static bool allowed(const ah_connection_t *c, const char *verb)
{
    const char *const *p;

    for (p = c->server->verbs; p && *p; p++)
        if (strcmp(*p, verb) == 0)
            return true;
    return false;
}

/* words[i] as a C string: strings as is, numbers in JS form, else NULL. */
static const char *word(json_t *words, size_t i, char *tmp, size_t n)
{
    json_t *w = json_array_get(words, i);

    if (json_is_string(w))
        return json_string_value(w);
    if (json_is_number(w)) {
        char *s = dispatch_js_string(w);

        snprintf(tmp, n, "%s", s);
        free(s);
        return tmp;
    }
    return NULL;
}

static void param_add(ah_connection_t *c, json_t *words)
{
    char tmp[64], *key = NULL;
    const char *k = word(words, 0, tmp, sizeof(tmp));
    json_t *value = json_array_get(words, 1);
    json_t *split_value = NULL;

    if (k == NULL)
        return;
    if (strchr(k, '=')) {
        /* "key=value": parts 0 and 1, the rest is lost (v29) */
        const char *eq = strchr(k, '=');
        const char *eq2 = strchr(eq + 1, '=');

        key = xstrndup(k, (size_t)(eq - k));
        split_value = eq2 ? json_stringn(eq + 1, (size_t)(eq2 - eq - 1)) : json_string(eq + 1);
        value = split_value;
    } else {
        key = xstrdup(k);
    }
    if (config_bool(c->app, "general.disableParamScrubbing", false) || dispatch_is_post_variable(c->app, key)) {
        if (value)
            json_object_set_new(c->params, key, json_deep_copy(value));
        else
            json_object_del(c->params, key); /* params[key] = undefined */
    }
    json_decref(split_value);
    free(key);
}

static json_t *details(const ah_connection_t *c)
{
    json_t *o = json_object();

    json_object_set_new(o, "id", json_string(c->id));
    json_object_set_new(o, "fingerprint", json_string(c->fingerprint));
    json_object_set_new(o, "remoteIP", json_string(c->remote_ip));
    json_object_set_new(o, "remotePort", conn_port_json(c));
    json_object_set(o, "params", c->params);
    json_object_set_new(o, "connectedAt", json_integer((json_int_t)c->connected_at));
    json_object_set(o, "rooms", c->rooms);
    json_object_set_new(o, "totalActions", json_integer(c->total_actions));
    json_object_set_new(o, "pendingActions", json_integer(c->pending_actions));
    return o;
}

/* Run the verb; *result (NEW) and *error (malloc'd) are the outcome.
 * Returns true for the chat verbs, which src/chat runs asynchronously. */
static bool run_verb(ah_connection_t *c, const char *verb, json_t *words, json_t **result, char **error)
{
    char tmp[64];
    const char *w0;

    if (!allowed(c, verb)) {
        *error = err_text(c->app, "verbNotAllowed", "verb", verb, "verb not found or not allowed (%s)");
        return false;
    }
    if (log_enabled(AH_LOG_DEBUG)) {
        char *p = json_out_str(words, 0, 0, NULL);
        json_t *data = json_pack("{s:s, s:s, s:s}", "verb", verb, "to", c->remote_ip, "params", p ? p : "[]");

        log_msg(AH_LOG_DEBUG, data, "[server: %s] verb", c->type);
        json_decref(data);
        free(p);
    }
    w0 = word(words, 0, tmp, sizeof(tmp));
    if (strcmp(verb, "quit") == 0 || strcmp(verb, "exit") == 0) {
        ah_connection_destroy(c);
    } else if (strcmp(verb, "paramAdd") == 0) {
        param_add(c, words);
    } else if (strcmp(verb, "paramDelete") == 0) {
        if (w0)
            json_object_del(c->params, w0);
    } else if (strcmp(verb, "paramView") == 0) {
        json_t *v = w0 ? json_object_get(c->params, w0) : NULL;

        *result = v ? json_incref(v) : NULL;
    } else if (strcmp(verb, "paramsView") == 0) {
        *result = json_incref(c->params);
    } else if (strcmp(verb, "paramsDelete") == 0) {
        json_object_clear(c->params);
    } else if (strcmp(verb, "detailsView") == 0) {
        *result = details(c);
    } else if (strcmp(verb, "documentation") == 0) {
        /* v29 has no documentation initializer: always this TypeError */
        *error = xstrdup("TypeError: Cannot read properties of undefined (reading 'documentation')");
    } else if (chat_is_verb(verb)) {
        /* roomAdd, roomLeave, roomView, say: src/chat answers later */
        return true;
    } else {
        *error = err_text(c->app, "verbNotFound", "verb", verb, "verb not found or not allowed (%s)");
    }
    return false;
}

/* A chat verb finished (on a later loop turn): answer now. */
static void on_chat_verb(ah_connection_t *c, json_t *result, const char *error, void *arg)
{
    struct verb_call *vc = arg;

    (void)c;
    vc->result = result ? json_incref(result) : NULL;
    vc->error = error ? xstrdup(error) : NULL;
    on_call_timer(&vc->timer);
}

int ah_connection_verbs(ah_connection_t *c, const char *verb, json_t *words, ah_verb_cb cb, void *arg)
{
    struct verb_call *vc;
    json_t *list;
    int rc;

    if (c == NULL || verb == NULL)
        return AH_EINVAL;
    if (words == NULL)
        list = json_array();
    else if (json_is_array(words))
        list = json_incref(words);
    else
        list = json_pack("[O]", words); /* a single word */
    vc = xcalloc(1, sizeof(*vc));
    if ((rc = uv_timer_init(c->app->loop, &vc->timer)) < 0) {
        json_decref(list);
        free(vc);
        return rc;
    }
    vc->timer.data = vc;
    vc->c = c;
    vc->cb = cb;
    vc->arg = arg;
    ah_connection_ref(c);
    if (run_verb(c, verb, list, &vc->result, &vc->error)) {
        if (chat_verb(c, verb, list, on_chat_verb, vc) == 0) {
            json_decref(list);
            return 0;
        }
        vc->error = xstrdup("Error: redis not connected, chatRoom cannot be used");
    }
    json_decref(list);
    uv_timer_start(&vc->timer, on_call_timer, 0, 0);
    return 0;
}
