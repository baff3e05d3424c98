/*
 * messages.c - Actionhero's websocket messages (websocket.md §3-§5).
 *
 * TODO(#3): the connection registry (src/conn) and the action processor
 * (src/dispatch) are not on main yet.  Until they are, an upgrade on the
 * Primus path is refused with 503; the transport and the Primus layer work
 * on the test-only echo paths (server.c).
 */
#include "ws/ws_internal.h"

int ws_messages_open(struct ws_conn *c, const struct ws_upgrade_req *req)
{
    (void)c;
    (void)req;
    return AH_EUNAVAIL;
}

void ws_messages_on_data(struct ws_conn *c, json_t *value)
{
    (void)c;
    (void)value;
}

void ws_messages_on_binary(struct ws_conn *c, const char *p, size_t n)
{
    (void)c;
    (void)p;
    (void)n;
}

void ws_messages_on_close(struct ws_conn *c)
{
    (void)c;
}

void ws_messages_destroy(struct ws_conn *c)
{
    (void)c;
}
