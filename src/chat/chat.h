/*
 * chat.h - what the rest of the server needs from src/chat (the chatRoom
 * API itself is public: include/ah/chat.h).
 */
#ifndef AH_SRC_CHAT_CHAT_H
#define AH_SRC_CHAT_CHAT_H

#include <stdbool.h>

#include <ah/ah.h>

/* Is `verb` one of the chat verbs (roomAdd, roomLeave, roomView, say)? */
bool chat_is_verb(const char *verb);

/* Run a chat verb for `c` (connection.md §6): roomAdd, roomLeave,
 * roomView, say with `words` (a borrowed array).  Same contract as
 * ah_connection_verbs: returns 0 and `cb` runs once on a later loop turn,
 * with the result (borrowed) or the error in its JS string form
 * ("Error: room does not exist"); or <0 (chat not loaded, unknown verb)
 * and `cb` never runs. */
int chat_verb(ah_connection_t *c, const char *verb, json_t *words, ah_verb_cb cb, void *arg);

/* connection.destroy() step 3 (connection.md §4): `c` leaves every room at
 * once: leave middleware runs for each (it cannot stop a destroy: a
 * refusal is logged), the room is dropped from c->rooms and from local
 * delivery, and its member entry is deleted in the store (not awaited).
 * Safe to call when chat is not loaded (then only c->rooms is emptied). */
void chat_connection_leave_all(ah_connection_t *c);

#endif /* AH_SRC_CHAT_CHAT_H */
