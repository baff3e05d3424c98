/*
 * create_chat_room.c - the `createChatRoom` action (builtin.md §1.5).
 */
#include <ah/ah.h>

static int run(ah_ctx_t *ctx)
{
    /* TODO(#3): chatRoom.exists / chatRoom.add and {name, didCreate} once
     * src/chat exists. */
    return ah_fail(ctx, AH_EUNAVAIL, "chat rooms are not available yet");
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
