/*
 * cluster_test.c - test-build actions for the cluster tests (6x and
 * tests/interop): connections.apply, and cache save / load as two actions
 * so that a value saved through one server can be loaded through another.
 *
 * JSON-valued params (args, value) may come as JSON text (HTTP) or as JSON
 * (websocket `action` params); text that is not JSON is taken as a string.
 */
#include <stdlib.h>
#include <string.h>

#include <ah/ah.h>

/* The param as JSON: a NEW reference, or NULL when absent. */
static json_t *json_param(ah_ctx_t *ctx, const char *name)
{
    json_t *v = ah_param(ctx, name);
    json_t *parsed;

    if (v == NULL)
        return NULL;
    if (json_is_string(v)) {
        parsed = json_loads(json_string_value(v), JSON_DECODE_ANY, NULL);
        if (parsed)
            return parsed;
    }
    return json_incref(v);
}

/* connectionApplyTest: api.connections.apply(connectionId, method, args)
 * -> {connection} or the error text. */
static void on_applied(ah_ctx_t *ctx, int status, json_t *connection, const char *error)
{
    if (status < 0)
        ah_set_error(ctx, "%s", error);
    else
        json_object_set(ah_response(ctx), "connection", connection ? connection : json_null());
    ah_done(ctx);
}

static int apply_run(ah_ctx_t *ctx)
{
    json_t *args = json_param(ctx, "args");
    int rc = ah_connections_apply(ctx, ah_param_str(ctx, "connectionId"), ah_param_str(ctx, "method"), args,
                                  on_applied);

    json_decref(args);
    if (rc < 0)
        return ah_fail(ctx, rc, "cannot apply: %s", ah_strerror(rc));
    return AH_PENDING;
}

static const ah_input_t apply_inputs[] = {
    {.name = "connectionId", .required = true},
    {.name = "method"},
    {.name = "args"},
    {0},
};

AH_ACTION(connection_apply_test) = {
    .name = "connectionApplyTest",
    .description = "api.connections.apply (test build)",
    .inputs = apply_inputs,
    .run = apply_run,
};

/* cacheSaveTest: cache.save(key, value, expireTimeMS) -> {saved}. */
static void on_cache(ah_ctx_t *ctx, int status, json_t *result, const char *error)
{
    if (status < 0)
        ah_set_error(ctx, "%s", error);
    else
        json_object_set(ah_response(ctx), "result", result);
    ah_done(ctx);
}

static int save_run(ah_ctx_t *ctx)
{
    json_t *value = json_param(ctx, "value");
    json_t *exp = ah_param(ctx, "expireTimeMS");
    long long ms = json_is_integer(exp) ? json_integer_value(exp)
                   : json_is_string(exp) ? strtoll(json_string_value(exp), NULL, 10)
                                         : 0;
    int rc = ah_cache_save(ctx, ah_param_str(ctx, "key"), value, ms, on_cache);

    json_decref(value);
    if (rc < 0)
        return ah_fail(ctx, rc, "cannot save: %s", ah_strerror(rc));
    return AH_PENDING;
}

static const ah_input_t save_inputs[] = {
    {.name = "key", .required = true},
    {.name = "value", .required = true},
    {.name = "expireTimeMS"},
    {0},
};

AH_ACTION(cache_save_test) = {
    .name = "cacheSaveTest",
    .description = "cache.save (test build)",
    .inputs = save_inputs,
    .run = save_run,
};

/* cacheLoadTest: cache.load(key) -> {result: {key, value, createdAt, ...}}. */
static int load_run(ah_ctx_t *ctx)
{
    int rc = ah_cache_load(ctx, ah_param_str(ctx, "key"), NULL, on_cache);

    if (rc < 0)
        return ah_fail(ctx, rc, "cannot load: %s", ah_strerror(rc));
    return AH_PENDING;
}

static const ah_input_t load_inputs[] = {
    {.name = "key", .required = true},
    {0},
};

AH_ACTION(cache_load_test) = {
    .name = "cacheLoadTest",
    .description = "cache.load (test build)",
    .inputs = load_inputs,
    .run = load_run,
};

/* chatMemberTest: chatRoom.addMember / removeMember(connectionId, room)
 * (op "add" or "remove"), for a connection on any server -> {result}. */
static void on_member(ah_app_t *app, json_t *result, const char *error, void *arg)
{
    ah_ctx_t *ctx = arg;

    (void)app;
    if (error)
        ah_set_error(ctx, "%s", error);
    else
        json_object_set(ah_response(ctx), "result", result ? result : json_null());
    ah_done(ctx);
}

static int member_run(ah_ctx_t *ctx)
{
    const char *op = ah_param_str(ctx, "op");
    const char *id = ah_param_str(ctx, "connectionId");
    const char *room = ah_param_str(ctx, "room");
    int rc;

    if (op && strcmp(op, "remove") == 0)
        rc = ah_chat_remove_member(ah_app(ctx), id, room, true, on_member, ctx);
    else
        rc = ah_chat_add_member(ah_app(ctx), id, room, on_member, ctx);
    if (rc < 0)
        return ah_fail(ctx, rc, "cannot change the room: %s", ah_strerror(rc));
    return AH_PENDING;
}

static const ah_input_t member_inputs[] = {
    {.name = "connectionId", .required = true},
    {.name = "room", .required = true},
    {.name = "op"},
    {0},
};

AH_ACTION(chat_member_test) = {
    .name = "chatMemberTest",
    .description = "chatRoom.addMember / removeMember (test build)",
    .inputs = member_inputs,
    .run = member_run,
};
