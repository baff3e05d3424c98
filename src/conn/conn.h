/*
 * conn.h - connection lifetime, the registry of live connections, connection
 * middleware and verbs (connection.md).
 */
#ifndef AH_SRC_CONN_CONN_H
#define AH_SRC_CONN_CONN_H

#include <stdbool.h>
#include <stddef.h>

#include <ah/ah.h>

struct conn_init {
    const char *id;            /* NULL: new UUID v4 */
    const char *fingerprint;   /* NULL: equals id */
    const char *message_id;    /* NULL: "0" */
    const char *remote_ip;
    const char *remote_port;
    bool remote_port_is_string;
    void *raw;
};

/* Create a connection of server type `st` and put it in the registry.
 * Runs no middleware.  The connection starts with ONE reference, the
 * creator's, which ah_connection_destroy() drops as its last step: after
 * destroy the struct may already be freed, unless the server took its own
 * reference first (ah_connection_ref, released with ah_connection_unref).
 * Actions in flight hold references, so a connection destroyed while an
 * action is pending lives (destroyed = true, sends are no-ops) until the
 * action's completion callback has run.  When the connection is finally
 * freed, st->release(c) runs (free c->raw there).
 * Fields longer than their array (id 95, fingerprint 63, message_id 63,
 * remote_ip 63, remote_port 15 bytes) are truncated: bound them first.
 * Returns NULL (logged at error) if st has no name, or if
 * general.enforceConnectionProperties is on and remote_ip / remote_port are
 * missing ("remoteIP is required to create a new connection object"). */
ah_connection_t *conn_new(ah_app_t *app, const ah_server_type_t *st, const struct conn_init *init);

/* Run connection create middleware (priority order), then log
 * `new connection` and send the welcome message when the server type says
 * so.  Returns 0, or <0 if a create hook refused (logged at error): the
 * caller then answers/closes and calls ah_connection_destroy(c).  If a hook
 * destroyed the connection itself, <0 too (AH_ESTATE unless the hook
 * returned an error) and c stays readable until the next loop turn. */
int conn_start(ah_connection_t *c);

/* Number of live connections and lookup by id. */
size_t conn_count(ah_app_t *app);
ah_connection_t *conn_find(ah_app_t *app, const char *id);
/* Call fn for every live connection (fn must not destroy others). */
void conn_foreach(ah_app_t *app, void (*fn)(ah_connection_t *c, void *arg), void *arg);

/* The 12 connection verbs of connection.md §6 (NULL-terminated), e.g. for
 * a server type's `verbs`. */
extern const char *const conn_verbs_all[];

int conn_registry_init(ah_app_t *app);
void conn_registry_free(ah_app_t *app);

#endif /* AH_SRC_CONN_CONN_H */
