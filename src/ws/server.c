/*
 * server.c - the websocket server: its initializer, configuration, the
 * upgrade hand-off from the web server and the heartbeat timer.
 *
 * Configuration (websocket.md §1).  Actionhero passes `websocket.server` to
 * Primus, so the Primus option names there are honoured first; the flat
 * names are this server's own:
 *
 *   websocket.enabled                    true
 *   websocket.server.pathname            "/primus"   (or websocket.pathname)
 *   websocket.server.pingInterval        30000 ms, false/0 disables the
 *                                        heartbeat   (or websocket.pingInterval)
 *   websocket.server.maxLength           10485760 bytes per message
 *                                        (or websocket.maxPayload)
 *   websocket.maxOutboundBytes           4194304 bytes queued per client
 *   websocket.closeTimeout               5000 ms to wait for the peer's
 *                                        close frame after ours
 *   websocket.destroyClientsOnShutdown   false
 *   websocket.echoPathForTests           unset.  TEST ONLY: a path (e.g.
 *        "/__ws_echo") where a websocket is a plain RFC 6455 echo (text and
 *        binary messages come back unchanged, no Primus), and
 *        "<path>/primus" where it speaks Primus (heartbeat, primus::id, JSON)
 *        and echoes every data value instead of running Actionhero messages.
 *        The transport and Primus tests use it; never set it in production.
 */
#include <string.h>

#include "app/app.h"
#include "config/config.h"
#include "log/log.h"
#include "ws/ws_internal.h"

#define SLOT "websocket"

struct ws_server *ws_server_get(ah_app_t *app)
{
    return ah_app_get(app, SLOT);
}

/* ---------------------------------------------------------------- config */

static json_t *pick(ah_app_t *app, const char *primus_name, const char *own_name)
{
    json_t *v = config_get(app, primus_name);

    return v ? v : config_get(app, own_name);
}

static int int_option(ah_app_t *app, json_t *v, const char *name, long long dflt,
                      long long min, long long max, long long *out)
{
    if (v == NULL) {
        *out = dflt;
        return 0;
    }
    if (!json_is_integer(v) && !(json_is_real(v) && json_real_value(v) == (double)(long long)json_real_value(v)))
        return ah_app_fail(app, "config: '%s' must be an integer", name);
    *out = json_is_integer(v) ? json_integer_value(v) : (long long)json_real_value(v);
    if (*out < min || *out > max)
        return ah_app_fail(app, "config: '%s' must be between %lld and %lld (got %lld)",
                           name, min, max, *out);
    return 0;
}

static void config_release(struct ws_config *cfg)
{
    free(cfg->pathname);
    free(cfg->echo_path);
    free(cfg->cookie_key);
    json_decref(cfg->ping_interval_json);
    memset(cfg, 0, sizeof(*cfg));
}

static int read_config(ah_app_t *app, struct ws_config *cfg)
{
    json_t *v;
    long long n;
    int rc;

    memset(cfg, 0, sizeof(*cfg));
    cfg->enabled = config_bool(app, "websocket.enabled", true);

    v = pick(app, "websocket.server.pathname", "websocket.pathname");
    if (json_is_string(v) && json_string_value(v)[0] != '/')
        cfg->pathname = xasprintf("/%s", json_string_value(v));
    else
        cfg->pathname = xstrdup(json_is_string(v) ? json_string_value(v) : "/primus");
    cfg->pathname_len = strlen(cfg->pathname);

    /* Primus: `'pingInterval' in options ? options.pingInterval : 30000`,
     * and the heartbeat runs only if the value is truthy. */
    v = pick(app, "websocket.server.pingInterval", "websocket.pingInterval");
    if (v == NULL)
        v = json_integer(30000);
    else
        json_incref(v);
    cfg->ping_interval_json = v;
    if (json_is_number(v) && json_number_value(v) > 0) {
        if (json_number_value(v) > 86400000.0)
            return ah_app_fail(app, "config: 'websocket.server.pingInterval' must be at most 86400000 ms");
        cfg->ping_interval = (long long)json_number_value(v);
        if (cfg->ping_interval < 1)
            cfg->ping_interval = 1;
    } else if (core_truthy(v)) {
        return ah_app_fail(app, "config: 'websocket.server.pingInterval' must be a number of ms or false");
    }

    /* Primus: `options.maxLength || 10485760` */
    v = config_get(app, "websocket.server.maxLength");
    if (v == NULL || !core_truthy(v))
        v = config_get(app, "websocket.maxPayload");
    if ((rc = int_option(app, v, "websocket.maxPayload", 10485760, 1, 2147483647LL, &n)) < 0)
        return rc;
    cfg->max_payload = (uint64_t)n;

    v = config_get(app, "websocket.maxOutboundBytes");
    if ((rc = int_option(app, v, "websocket.maxOutboundBytes", 4194304, 1024, 1LL << 31, &n)) < 0)
        return rc;
    cfg->max_outbound = (size_t)n;

    v = config_get(app, "websocket.closeTimeout");
    if ((rc = int_option(app, v, "websocket.closeTimeout", 5000, 1, 600000, &n)) < 0)
        return rc;
    cfg->close_timeout = n;

    v = config_get(app, "websocket.echoPathForTests");
    if (json_is_string(v) && json_string_value(v)[0] == '/')
        cfg->echo_path = xstrdup(json_string_value(v));
    else if (v != NULL && core_truthy(v))
        return ah_app_fail(app, "config: 'websocket.echoPathForTests' must be a path starting with '/'");

    cfg->cookie_key = xstrdup(config_str(app, "web.fingerprintOptions.cookieKey", "sessionID"));
    cfg->destroy_on_shutdown = config_bool(app, "websocket.destroyClientsOnShutdown", false);
    return 0;
}

/* ------------------------------------------------------------------ paths */

static bool is_echo(const struct ws_server *srv, const char *path, size_t len, bool *primus)
{
    size_t n;

    if (srv->cfg.echo_path == NULL)
        return false;
    n = strlen(srv->cfg.echo_path);
    if (len == n && memcmp(path, srv->cfg.echo_path, n) == 0) {
        *primus = false;
        return true;
    }
    if (len == n + 7 && memcmp(path, srv->cfg.echo_path, n) == 0 && memcmp(path + n, "/primus", 7) == 0) {
        *primus = true;
        return true;
    }
    return false;
}

bool ws_owns_path(ah_app_t *app, const char *path, size_t len)
{
    struct ws_server *srv = ws_server_get(app);
    bool primus;

    if (srv == NULL || srv->stopped || !srv->cfg.enabled)
        return false;
    if (len >= srv->cfg.pathname_len && memcmp(path, srv->cfg.pathname, srv->cfg.pathname_len) == 0)
        return true;
    return is_echo(srv, path, len, &primus);
}

/* ----------------------------------------------------------------- upgrade */

int ws_upgrade(ah_app_t *app, uv_tcp_t *tcp, const struct ws_upgrade_req *req,
               const char *rest, size_t restlen, int *status, const char **body)
{
    struct ws_server *srv = ws_server_get(app);
    struct ws_handshake hs;
    struct ws_conn *c;
    struct buf resp = BUF_INIT;
    enum ws_mode mode = WS_MODE_ACTIONHERO;
    const char *url = req->url ? req->url : "/";
    size_t pathlen = strcspn(url, "?#");
    bool primus;
    void *old_data = tcp->data;

    if (srv == NULL || !srv->cfg.enabled) {
        *status = 404;
        *body = "Not Found";
        return AH_ENOTFOUND;
    }
    if (srv->stopped) {
        *status = 503;
        *body = "Service Unavailable";
        return AH_ESTATE;
    }
    if (is_echo(srv, url, pathlen, &primus))
        mode = primus ? WS_MODE_ECHO_PRIMUS : WS_MODE_ECHO_RAW;
    if (ws_handshake_check(req, &hs, status, body) < 0) {
        log_debug("[server: websocket] upgrade refused: %d %s", *status, *body);
        return AH_EINVAL;
    }

    c = ws_conn_new(srv, tcp, mode);
    ws_primus_spark_id(c->spark_id);
    ws_handshake_response(&resp, &hs);
    ws_conn_write_raw(c, resp.data, resp.len);
    buf_release(&resp);
    if (mode == WS_MODE_ACTIONHERO && (ws_messages_open(c, req) < 0 || c->dead)) {
        ws_messages_on_close(c);
        ws_conn_discard(c);
        tcp->data = old_data;
        *status = 500;
        *body = "Internal Server Error";
        return AH_EFAIL;
    }
    ws_conn_start(c, rest, restlen);
    return 0;
}

/* ---------------------------------------------------------------- lifecycle */

static void on_heartbeat(uv_timer_t *t)
{
    ws_primus_heartbeat(t->data);
}

static void server_free(struct ws_server *srv)
{
    ws_conn_pool_release(srv);
    config_release(&srv->cfg);
    buf_release(&srv->scratch);
    free(srv->spec_json);
    free(srv);
}

static void on_heartbeat_close(uv_handle_t *h)
{
    struct ws_server *srv = h->data;

    srv->heartbeat_started = false;
    ws_server_maybe_free(srv);
}

void ws_server_maybe_free(struct ws_server *srv)
{
    if (srv->stopped && srv->n_conns == 0 && !srv->heartbeat_started)
        server_free(srv);
}

int ws_server_start(ah_app_t *app)
{
    struct ws_server *srv;
    struct buf b = BUF_INIT;
    json_t *spec;
    int rc;

    if (!config_bool(app, "websocket.enabled", true))
        return 0;
    if (!config_bool(app, "web.enabled", true))
        return ah_app_fail(app, "websocket server requires web server to be enabled");
    srv = xcalloc(1, sizeof(*srv));
    srv->app = app;
    buf_init(&srv->scratch);
    if ((rc = read_config(app, &srv->cfg)) < 0) {
        server_free(srv);
        return rc;
    }
    spec = json_pack("{s:O,s:s,s:s,s:s,s:s}", "pingInterval", srv->cfg.ping_interval_json,
                     "pathname", srv->cfg.pathname, "version", "8.0.9", "parser", "json",
                     "transformer", "websockets");
    ws_json_encode(&b, spec);
    json_decref(spec);
    srv->spec_json = buf_detach(&b, NULL);

    if (srv->cfg.ping_interval > 0) {
        uv_timer_init(app->loop, &srv->heartbeat);
        srv->heartbeat.data = srv;
        uv_timer_start(&srv->heartbeat, on_heartbeat, (uint64_t)srv->cfg.ping_interval,
                       (uint64_t)srv->cfg.ping_interval);
        srv->heartbeat_started = true;
    }
    ah_app_set(app, SLOT, srv);
    log_debug("[server: websocket] webSockets bound to %s:%lld path=%s",
              config_str(app, "web.bindIP", "::"), config_int(app, "web.port", 8080),
              srv->cfg.pathname);
    return 0;
}

int ws_server_stop(ah_app_t *app)
{
    struct ws_server *srv = ws_server_get(app);
    struct ws_conn *c;

    if (srv == NULL)
        return 0;
    ah_app_set(app, SLOT, NULL);
    /* With destroyClientsOnShutdown each connection says goodbye first
     * (destroy middleware, room leaves, primus::server::close); otherwise
     * the sockets just close, like Actionhero's web server destroying them. */
    if (srv->cfg.destroy_on_shutdown) {
        for (c = srv->conns; c; c = c->next)
            if (!c->dead && c->mode == WS_MODE_ACTIONHERO)
                ws_messages_destroy(c);
    }
    srv->stopped = true;
    for (c = srv->conns; c; c = c->next)
        ws_conn_abort(c);
    if (srv->heartbeat_started)
        uv_close((uv_handle_t *)&srv->heartbeat, on_heartbeat_close);
    else
        ws_server_maybe_free(srv);
    return 0;
}

AH_INITIALIZER(websocket_server) = {
    .name = "websocket",
    .load_priority = PRIO_SERVERS_LOAD,
    .start_priority = PRIO_SERVERS_START,
    .stop_priority = PRIO_SERVERS_STOP,
    .start = ws_server_start,
    .stop = ws_server_stop,
};
