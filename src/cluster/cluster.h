/*
 * cluster.h - the pub/sub channel and the RPC of cluster.md §2-§3, on top
 * of store.h.
 *
 * One subscription on config.general.channel ("actionhero").  Every
 * message is a JSON object carrying messageType, serverToken and serverId;
 * a message whose serverToken differs from config.general.serverToken, or
 * that is not JSON (treated as {}), is ignored; otherwise the handler
 * registered for its messageType runs (unknown types are ignored).  The
 * built-in types are `do` and `doResponse` (RPC); chat registers `chat`.
 *
 * Messages are handled on the loop turn after they arrive (a queue drained
 * by an idle handle), never inside the store's delivery.  On the memory
 * backend this makes a publisher see its PUBLISH reply before its own
 * message, as it does with Redis (chat.md §6: the speaker's reply comes
 * before the chat message).
 *
 * RPC (doCluster): a `do` message names a method by dotted path
 * ("api.chatRoom.addMember"); the servers holding the target connection
 * (or every server, untargeted) run it and answer with `doResponse`.
 * C methods are registered under the path after "api." ("log",
 * "chatRoom.addMember").  A method that fails sends no response, as in
 * Actionhero, so a waiting caller gets `RPC Timeout`.
 *
 * The "cluster" initializer loads at 201 (after the store, 200), announces
 * `actionhero member <id> has joined the cluster` at start (101; once the
 * subscription is active, so that this server hears it as well) and
 * `... has left the cluster` at stop (99998, before the store closes).
 * Everything runs on the loop thread.
 */
#ifndef AH_SRC_CLUSTER_CLUSTER_H
#define AH_SRC_CLUSTER_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include <ah/ah.h>

#include "cluster/store.h"

/* A handler for one messageType; `message` is borrowed for the call. */
typedef void (*cluster_handler_fn)(ah_app_t *app, json_t *message, void *arg);

/* Register (or replace; fn NULL removes) the handler of `type`.  Returns 0
 * or AH_ESTATE when the cluster layer is not loaded. */
int cluster_handle(ah_app_t *app, const char *type, cluster_handler_fn fn, void *arg);

/* PUBLISH `payload` (borrowed) as JSON.stringify text on general.channel.
 * `cb` (may be NULL) gets the store's result (the receiver count).  A
 * failure is logged (`cannot send message, redis disconnected`, error,
 * with channel and payload) before `cb` runs.  Returns 0, or AH_ESTATE
 * without a store / cluster layer (cb never runs). */
int cluster_publish(ah_app_t *app, const json_t *payload, store_cb cb, void *arg);
/* Same with the text already rendered (`json` borrowed). */
int cluster_publish_text(ah_app_t *app, const char *json, size_t len, store_cb cb, void *arg);
/* Same, taking `text` (malloc'd, NUL-terminated), also on failure. */
int cluster_publish_take(ah_app_t *app, char *text, size_t len, store_cb cb, void *arg);

/* config.general.serverToken and the server id (app->id). */
const char *cluster_server_token(ah_app_t *app);
const char *cluster_server_id(ah_app_t *app);

/* ------------------------------------------------------------------ RPC */

struct cluster_call;
/* An RPC method: `args` (a borrowed array) are the call's arguments.  Call
 * cluster_call_reply() or cluster_call_fail() exactly once, now or on a
 * later loop turn. */
typedef void (*cluster_method_fn)(struct cluster_call *call, json_t *args, void *arg);

/* Register `fn` under `path` ("log", "chatRoom.addMember"); replaces. */
int cluster_method_add(ah_app_t *app, const char *path, cluster_method_fn fn, void *arg);
ah_app_t *cluster_call_app(const struct cluster_call *call);
/* Answer (publish doResponse with `response` borrowed; NULL: no response
 * field) and free the call. */
void cluster_call_reply(struct cluster_call *call, json_t *response);
/* The method failed: log it (warning) and free the call; no response. */
void cluster_call_fail(struct cluster_call *call, const char *fmt, ...) AH_PRINTF(2, 3);

/* Outcome of cluster_do: status 0 and `response` (borrowed; NULL when the
 * answer had none), or status <0 and `error`: "RPC Timeout" after
 * general.rpcTimeout, the store's text when the request could not be
 * published, or the shutting-down text when the server stops first.
 * Without waiting, `response` is the PUBLISH reply (receiver count). */
typedef void (*cluster_rpc_cb)(ah_app_t *app, int status, json_t *response, const char *error, void *arg);

/* redis.doCluster(method, args, connectionId, waitForResponse):
 * `args_take` (an array; NULL: []) is stolen; `connection_id` NULL targets
 * every server.  `cb` may be NULL.  Returns 0, AH_EINVAL (no method),
 * AH_ELIMIT (general.rpcMaxPending calls already wait), AH_ESTATE (not
 * loaded / stopping): then cb never runs. */
int cluster_do(ah_app_t *app, const char *method, json_t *args_take, const char *connection_id, bool wait,
               cluster_rpc_cb cb, void *arg);

/* Called whenever the store's client connection becomes ready again after
 * being down (Redis), e.g. to re-create starting rooms.  One per name. */
int cluster_on_ready(ah_app_t *app, const char *name, void (*fn)(ah_app_t *app, void *arg), void *arg);

#endif /* AH_SRC_CLUSTER_CLUSTER_H */
