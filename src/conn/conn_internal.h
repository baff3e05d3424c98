/*
 * conn_internal.h - the registry state shared by the files of src/conn.
 */
#ifndef AH_SRC_CONN_CONN_INTERNAL_H
#define AH_SRC_CONN_CONN_INTERNAL_H

#include <stddef.h>

#include "conn/conn.h"

struct conn_mw_entry {
    const ah_connection_middleware_t *mw;
    int priority;
};

/* Freed connections kept for reuse: their rooms/params/session containers
 * emptied, everything else zeroed (what xcalloc would give). */
#define CONN_SPARE_MAX 256

struct conn_registry {
    ah_connection_t *head;        /* live connections, newest first */
    size_t count;
    ah_connection_t *spare[CONN_SPARE_MAX]; /* recycled connections (a stack) */
    size_t n_spare;
    struct conn_mw_entry *mws;    /* stable-sorted by priority */
    size_t n_mws;
};

struct conn_registry *conn_registry_get(ah_app_t *app);
/* remotePort as JSON: a number, or a string when the server said so. */
json_t *conn_port_json(const ah_connection_t *c);

#endif /* AH_SRC_CONN_CONN_INTERNAL_H */
