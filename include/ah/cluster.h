/*
 * cluster.h - the cluster as an action or initializer sees it
 * (spec/cluster.md §4, connection.md §7): reach a connection held by
 * whichever server of the cluster holds it.
 *
 *   api.connections.apply(connectionId, method?, args?)
 *
 * publishes doCluster("api.connections.applyResponder",
 * [connectionId, method, args], connectionId, waitForResponse = true) on the
 * cluster channel.  The server holding the connection (this one included;
 * C or Node Actionhero) optionally calls `method` on it and answers with
 * the connection's serialised form (ah_connection_to_json() plus the
 * properties set through "set").
 *
 * Methods ("sendMessage" and "sendFile" take `args` as one value; the
 * others take an array of arguments, as Function.prototype.apply does):
 *
 *   sendMessage   message            send it to the client (any JSON value)
 *   sendFile      "path"             the server's file flow
 *   destroy       []                 close the connection
 *   set           [key, value]       connection[key] = value: params and
 *                                    session (objects), canChat (boolean),
 *                                    messageId, or any other name (kept in
 *                                    connection->props; value missing
 *                                    removes it); names the server manages
 *                                    (id, rooms, ...) are refused
 *   verbs         [verb, words]      connection.verbs(verb, words)
 *   setHeader     [name, value]      web connections only
 *   setStatusCode [code]             web connections only
 *
 * Without a method, or with `args` NULL (Actionhero: `method && args`), the
 * connection is only looked up.
 *
 * Each function returns 0, and then its callback runs exactly once on a
 * later loop turn, or a negative code (AH_EINVAL: connection id NULL or
 * empty, or callback NULL; AH_ESTATE: the cluster layer is not running; AH_ELIMIT: general.
 * rpcMaxPending calls already wait), and then it never runs.  The callback
 * gets:
 *
 *   status 0      `connection` (borrowed; json_incref() it to keep it) is
 *                 the serialised connection, or NULL when the answering
 *                 server had nothing to say (a Node server whose
 *                 connection went away in between)
 *   AH_EFAIL      "RPC Timeout": no server answered within
 *                 general.rpcTimeout (no server holds that id, or the
 *                 method failed there: Actionhero sends no answer then)
 *   AH_EUNAVAIL   the request could not be published: "redis unavailable"
 *                 (Redis is down; or another store error and its text)
 *   AH_ESTATE     the server stopped first
 *
 * `args` is borrowed (serialised before the call returns).  Everything runs
 * on the loop thread.
 */
#ifndef AH_CLUSTER_H
#define AH_CLUSTER_H

#include <jansson.h>

#include <ah/ah.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*ah_apply_cb)(ah_ctx_t *ctx, int status, json_t *connection, const char *error);
typedef void (*ah_apply_app_cb)(ah_app_t *app, int status, json_t *connection, const char *error, void *arg);

/* From an action: ctx stays valid (the action is pending) until cb. */
int ah_connections_apply(ah_ctx_t *ctx, const char *connection_id, const char *method, json_t *args,
                         ah_apply_cb cb);
/* From anywhere else. */
int ah_connections_app_apply(ah_app_t *app, const char *connection_id, const char *method, json_t *args,
                             ah_apply_app_cb cb, void *arg);

#ifdef __cplusplus
}
#endif

#endif /* AH_CLUSTER_H */
