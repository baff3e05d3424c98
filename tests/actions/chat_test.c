/*
 * chat_test.c - test-only chat modules (the test build, build/actionhero-test
 * and the unit tests, compiles tests/actions/).
 *
 * A chat middleware that only acts on names and texts no real test uses by
 * accident:
 *   join          rooms named "noJoin..."  -> "joining rooms blocked"
 *   leave         rooms named "noLeave..." -> "leaving rooms blocked"
 *   onSayReceive  "!block ..."  -> "message blocked"
 *                 "!drop ..."   -> dropped (nobody receives it)
 *                 "!upper ..."  -> the rest in upper case
 * It has no `say` hook, so deliveries keep the serialise-once path.
 *
 * Actions, to drive the server's side of chat from a client:
 *   chatDestroyTest   {room}           chatRoom.destroy(room)
 *   chatBroadcastTest {room, message}  chatRoom.broadcast({}, room, message)
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <ah/ah.h>

static bool starts(const char *s, const char *prefix)
{
    return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

static int on_join(ah_chat_event_t *ev)
{
    if (starts(ev->room, "noJoin"))
        return ah_chat_block(ev, "joining rooms blocked");
    return 0;
}

static int on_leave(ah_chat_event_t *ev)
{
    if (starts(ev->room, "noLeave"))
        return ah_chat_block(ev, "leaving rooms blocked");
    return 0;
}

static int on_say_receive(ah_chat_event_t *ev)
{
    const char *m = json_string_value(json_object_get(ev->payload, "message"));
    char *up;
    size_t i;

    if (starts(m, "!block"))
        return ah_chat_block(ev, "message blocked");
    if (starts(m, "!drop")) {
        ah_chat_set_payload(ev, NULL);
        return 0;
    }
    if (starts(m, "!upper ")) {
        up = strdup(m + 7);
        for (i = 0; up && up[i]; i++)
            up[i] = (char)toupper((unsigned char)up[i]);
        json_object_set_new(ev->payload, "message", json_string(up ? up : ""));
        free(up);
    }
    return 0;
}

AH_CHAT_MIDDLEWARE(chat_test_middleware) = {
    .name = "chat test middleware",
    .priority = 1000,
    .join = on_join,
    .leave = on_leave,
    .on_say_receive = on_say_receive,
};

/* ---------------------------------------------------------------- actions */

static void on_chat_done(ah_app_t *app, json_t *result, const char *error, void *arg)
{
    ah_ctx_t *ctx = arg;

    (void)app;
    (void)result;
    if (error)
        ah_fail(ctx, AH_EFAIL, "%s", error);
    else
        json_object_set_new(ah_response(ctx), "ok", json_true());
    ah_done(ctx);
}

static int destroy_run(ah_ctx_t *ctx)
{
    int rc = ah_chat_destroy(ah_app(ctx), ah_param_str(ctx, "room"), on_chat_done, ctx);

    return rc < 0 ? ah_fail(ctx, rc, "cannot destroy") : AH_PENDING;
}

static int broadcast_run(ah_ctx_t *ctx)
{
    int rc = ah_chat_broadcast(ah_app(ctx), NULL, ah_param_str(ctx, "room"), ah_param(ctx, "message"),
                               on_chat_done, ctx);

    return rc < 0 ? ah_fail(ctx, rc, "cannot broadcast") : AH_PENDING;
}

static const ah_input_t destroy_inputs[] = {
    {.name = "room", .required = true},
    {0},
};

static const ah_input_t broadcast_inputs[] = {
    {.name = "room", .required = true},
    {.name = "message", .required = true},
    {0},
};

AH_ACTION(chat_destroy_test) = {
    .name = "chatDestroyTest",
    .description = "test only: chatRoom.destroy(room)",
    .inputs = destroy_inputs,
    .run = destroy_run,
};

AH_ACTION(chat_broadcast_test) = {
    .name = "chatBroadcastTest",
    .description = "test only: chatRoom.broadcast({}, room, message)",
    .inputs = broadcast_inputs,
    .run = broadcast_run,
};
