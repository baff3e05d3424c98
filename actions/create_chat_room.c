/*
 * create_chat_room.c - the `createChatRoom` action (builtin.md §1.5):
 * chatRoom.exists(name), then chatRoom.add(name) when it does not;
 * responds {name, didCreate}.  The room is String(params.name); `name`
 * echoes the param as it was given.
 */
#include <stdlib.h>
#include <string.h>

#include <ah/ah.h>

struct create {
    ah_ctx_t *ctx;
    const char *room;
};

static void on_added(ah_app_t *app, json_t *result, const char *error, void *arg)
{
    struct create *cr = arg;

    (void)app;
    (void)result;
    /* "room exists": created meanwhile by someone else, so not by us */
    if (error && strcmp(error, "room exists") != 0)
        ah_fail(cr->ctx, AH_EFAIL, "%s", error);
    else if (error == NULL)
        json_object_set_new(ah_response(cr->ctx), "didCreate", json_true());
    ah_done(cr->ctx);
}

static void on_exists(ah_app_t *app, json_t *result, const char *error, void *arg)
{
    struct create *cr = arg;
    int rc;

    if (error) {
        ah_fail(cr->ctx, AH_EFAIL, "%s", error);
        ah_done(cr->ctx);
        return;
    }
    if (json_is_true(result)) {
        ah_done(cr->ctx);
        return;
    }
    if ((rc = ah_chat_add(app, cr->room, on_added, cr)) < 0) {
        ah_fail(cr->ctx, rc, "cannot create the room");
        ah_done(cr->ctx);
    }
}

/* String(value) for the values a param can hold. */
static const char *js_string(ah_ctx_t *ctx, json_t *v)
{
    char *s;
    const char *out;

    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_object(v))
        return "[object Object]";
    s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    out = ah_strdup(ctx, s ? s : "");
    free(s);
    return out;
}

static int run(ah_ctx_t *ctx)
{
    json_t *name = ah_param(ctx, "name");
    struct create *cr = ah_alloc(ctx, sizeof(*cr));
    int rc;

    cr->ctx = ctx;
    cr->room = js_string(ctx, name);
    json_object_set(ah_response(ctx), "name", name);
    json_object_set_new(ah_response(ctx), "didCreate", json_false());
    if ((rc = ah_chat_exists(ah_app(ctx), cr->room, on_exists, cr)) < 0)
        return ah_fail(ctx, rc, "chat rooms are not available");
    return AH_PENDING;
}

static const ah_input_t inputs[] = {
    {.name = "name", .required = true},
    {0},
};

AH_ACTION(create_chat_room) = {
    .name = "createChatRoom",
    .description = "I will create a chatroom with the given name",
    .inputs = inputs,
    .output_example = "{}",
    .run = run,
};
