/*
 * test_ws_handshake.c - the opening handshake checks, the accept key, the
 * answers for plain requests under the Primus path, path ownership and
 * the configuration checks of the websocket server.
 */
#include <string.h>

#include "app/app.h"
#include "check.h"
#include "ws/ws_internal.h"

static struct ws_upgrade_req good(void)
{
    struct ws_upgrade_req r;

    memset(&r, 0, sizeof(r));
    r.url = "/primus?sessionID=abc";
    r.method = "GET";
    r.http_major = 1;
    r.http_minor = 1;
    r.upgrade = "websocket";
    r.connection = "Upgrade";
    r.key = "dGhlIHNhbXBsZSBub25jZQ==";
    r.version = "13";
    return r;
}

static int check_req(const struct ws_upgrade_req *r, int *status, const char **body,
                     struct ws_handshake *hs)
{
    *status = 0;
    *body = NULL;
    return ws_handshake_check(r, hs, status, body);
}

static void test_handshake(void)
{
    struct ws_upgrade_req r = good();
    struct ws_handshake hs;
    struct buf b = BUF_INIT;
    const char *body;
    char acc[WS_ACCEPT_LEN + 1];
    int status;

    /* RFC 6455 §1.3 example */
    ws_handshake_accept("dGhlIHNhbXBsZSBub25jZQ==", acc);
    CHECK_EQ_STR(acc, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");

    CHECK_EQ_INT(check_req(&r, &status, &body, &hs), 0);
    CHECK_EQ_STR(hs.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    CHECK_EQ_STR(hs.protocol, "");
    ws_handshake_response(&b, &hs);
    CHECK_EQ_STR(b.data, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                         "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
    buf_release(&b);

    /* case-insensitive tokens, token lists */
    r.upgrade = "WebSocket";
    r.connection = "keep-alive, UPGRADE";
    CHECK_EQ_INT(check_req(&r, &status, &body, &hs), 0);
    r.upgrade = "foo, websocket";
    CHECK_EQ_INT(check_req(&r, &status, &body, &hs), 0);

    /* not an upgrade at all: the plain-request answer */
    r = good();
    r.connection = "keep-alive";
    CHECK(check_req(&r, &status, &body, &hs) < 0);
    CHECK_EQ_INT(status, 426);
    CHECK_EQ_STR(body, "Upgrade Required");
    r = good();
    r.connection = NULL;
    CHECK(check_req(&r, &status, &body, &hs) < 0);
    CHECK_EQ_INT(status, 426);
    r = good();
    r.connection = "upgrades";
    CHECK(check_req(&r, &status, &body, &hs) < 0);
    CHECK_EQ_INT(status, 426);
    r = good();
    r.upgrade = NULL;
    CHECK(check_req(&r, &status, &body, &hs) < 0);
    CHECK_EQ_INT(status, 426);

    r = good();
    r.method = "POST";
    CHECK(check_req(&r, &status, &body, &hs) < 0);
    CHECK_EQ_INT(status, 405);
    CHECK_EQ_STR(body, "Invalid HTTP method");

    r = good();
    r.http_minor = 0;
    CHECK(check_req(&r, &status, &body, &hs) < 0);
    CHECK_EQ_INT(status, 400);
    CHECK_EQ_STR(body, "Invalid HTTP version");

    r = good();
    r.upgrade = "h2c";
    CHECK(check_req(&r, &status, &body, &hs) < 0);
    CHECK_EQ_INT(status, 400);
    CHECK_EQ_STR(body, "Invalid Upgrade header");
    r.upgrade = "websocketx";
    CHECK(check_req(&r, &status, &body, &hs) < 0);
    CHECK_EQ_INT(status, 400);

    /* keys: absent, not base64, wrong decoded length, trailing bytes */
    {
        static const char *const bad_keys[] = {
            NULL, "", "short", "dGhlIHNhbXBsZSBub25jZQ", "dGhlIHNhbXBsZSBub25jZQ=!",
            "dGhlIHNhbXBsZSBub25jZQ==x", "dGhlIHNhbXBsZSBub25jZXh4", "!!!!!!!!!!!!!!!!!!!!!!==",
            "dGhlIHNhbXBsZSBub25j ZQ=",
        };
        size_t i;

        for (i = 0; i < ARRAY_SIZE(bad_keys); i++) {
            r = good();
            r.key = bad_keys[i];
            CHECK(check_req(&r, &status, &body, &hs) < 0);
            CHECK_EQ_INT(status, 400);
            CHECK_EQ_STR(body, "Missing or invalid Sec-WebSocket-Key header");
        }
    }

    /* versions: only 13 */
    {
        static const char *const bad_versions[] = {NULL, "", "8", "12", "14", "13 ", "013", "13,8"};
        size_t i;

        for (i = 0; i < ARRAY_SIZE(bad_versions); i++) {
            r = good();
            r.version = bad_versions[i];
            CHECK(check_req(&r, &status, &body, &hs) < 0);
            CHECK_EQ_INT(status, 426);
            CHECK_EQ_STR(body, "Missing or invalid Sec-WebSocket-Version header");
        }
    }
    CHECK(strstr(ws_upgrade_error_headers(426), "Sec-WebSocket-Version: 13\r\n") != NULL);
    CHECK_EQ_STR(ws_upgrade_error_headers(400), "");

    /* subprotocols: the first offered one is selected, like ws */
    r = good();
    r.protocol = "chat, superchat";
    CHECK_EQ_INT(check_req(&r, &status, &body, &hs), 0);
    CHECK_EQ_STR(hs.protocol, "chat");
    ws_handshake_response(&b, &hs);
    CHECK(strstr(b.data, "\r\nSec-WebSocket-Protocol: chat\r\n\r\n") != NULL);
    buf_release(&b);
    {
        static const char *const bad_protocols[] = {"", ",", "a,,b", "a b", "a,a", "a;b", "a, "};
        size_t i;

        for (i = 0; i < ARRAY_SIZE(bad_protocols); i++) {
            r = good();
            r.protocol = bad_protocols[i];
            CHECK(check_req(&r, &status, &body, &hs) < 0);
            CHECK_EQ_INT(status, 400);
            CHECK_EQ_STR(body, "Invalid Sec-WebSocket-Protocol header");
        }
    }

    CHECK(ws_header_has_token("a, b ,c", "b"));
    CHECK(ws_header_has_token("a,\tUpgrade", "upgrade"));
    CHECK(!ws_header_has_token("upgrade-insecure", "upgrade"));
    CHECK(!ws_header_has_token(NULL, "upgrade"));
}

static ah_app_t *app_with(uv_loop_t *loop, const char *config)
{
    ah_app_t *app = app_new(loop);
    json_error_t err;

    app->config = json_loads(config, 0, &err);
    if (app->config == NULL)
        printf("# bad test config: %s\n", err.text);
    return app;
}

static void test_http_answers(void)
{
    uv_loop_t loop;
    ah_app_t *app;
    int status;
    const char *ctype, *hdrs, *body;
    size_t blen;

    uv_loop_init(&loop);
    app = app_with(&loop, "{\"websocket\": {\"echoPathForTests\": \"/__echo\"}}");
    CHECK_EQ_INT(ws_server_start(app), 0);

    CHECK(ws_owns_path(app, "/primus", 7));
    CHECK(ws_owns_path(app, "/primusX", 8));
    CHECK(ws_owns_path(app, "/primus/spec", 12));
    CHECK(!ws_owns_path(app, "/primu", 6));
    CHECK(!ws_owns_path(app, "/api/primus", 11));
    CHECK(ws_owns_path(app, "/__echo", 7));
    CHECK(ws_owns_path(app, "/__echo/primus", 14));
    CHECK(!ws_owns_path(app, "/__echo2", 8));

    ws_http_answer(app, "/primus/spec", 12, &status, &ctype, &hdrs, &body, &blen);
    CHECK_EQ_INT(status, 200);
    CHECK_EQ_STR(ctype, "application/json");
    CHECK_EQ_STR(body, "{\"pingInterval\":30000,\"pathname\":\"/primus\",\"version\":\"8.0.9\","
                       "\"parser\":\"json\",\"transformer\":\"websockets\"}");
    CHECK_EQ_INT(blen, strlen(body));

    ws_http_answer(app, "/primus/primus.js", 17, &status, &ctype, &hdrs, &body, &blen);
    CHECK_EQ_INT(status, 200);
    CHECK_EQ_STR(ctype, "text/javascript; charset=utf-8");
    CHECK(strstr(body, "/public/javascript/ActionheroWebsocketClient.js") != NULL);

    ws_http_answer(app, "/primus", 7, &status, &ctype, &hdrs, &body, &blen);
    CHECK_EQ_INT(status, 426);
    CHECK_EQ_STR(ctype, "text/plain");
    CHECK_EQ_STR(body, "Upgrade Required");
    CHECK_EQ_INT(blen, 16);
    CHECK_EQ_STR(hdrs, "Cache-Control: no-store, no-cache, must-revalidate, max-age=0\r\n"
                       "Pragma: no-cache\r\n");
    ws_http_answer(app, "/primusfoo", 10, &status, &ctype, &hdrs, &body, &blen);
    CHECK_EQ_INT(status, 426);
    ws_http_answer(app, "/primus/spec/x", 14, &status, &ctype, &hdrs, &body, &blen);
    CHECK_EQ_INT(status, 426);

    CHECK_EQ_INT(ws_server_stop(app), 0);
    CHECK(!ws_owns_path(app, "/primus", 7));
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_EQ_INT(uv_loop_close(&loop), 0);
    app_free(app);

    /* Primus option names, a custom pathname without '/', heartbeat off */
    uv_loop_init(&loop);
    app = app_with(&loop, "{\"websocket\": {\"server\": {\"pathname\": \"realtime\", \"pingInterval\": false}}}");
    CHECK_EQ_INT(ws_server_start(app), 0);
    CHECK(ws_owns_path(app, "/realtime", 9));
    CHECK(!ws_owns_path(app, "/primus", 7));
    ws_http_answer(app, "/realtime/spec", 14, &status, &ctype, &hdrs, &body, &blen);
    CHECK_EQ_INT(status, 200);
    CHECK_EQ_STR(body, "{\"pingInterval\":false,\"pathname\":\"/realtime\",\"version\":\"8.0.9\","
                       "\"parser\":\"json\",\"transformer\":\"websockets\"}");
    CHECK_EQ_INT(ws_server_get(app)->cfg.ping_interval, 0);
    CHECK_EQ_INT(ws_server_stop(app), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_EQ_INT(uv_loop_close(&loop), 0);
    app_free(app);

    /* disabled: nothing is owned, upgrades are refused */
    uv_loop_init(&loop);
    app = app_with(&loop, "{\"websocket\": {\"enabled\": false}}");
    CHECK_EQ_INT(ws_server_start(app), 0);
    CHECK(!ws_owns_path(app, "/primus", 7));
    CHECK_EQ_INT(ws_server_stop(app), 0);
    CHECK_EQ_INT(uv_loop_close(&loop), 0);
    app_free(app);
}

static void test_config_errors(void)
{
    static const struct {
        const char *config;
        const char *message;
    } cases[] = {
        {"{\"web\": {\"enabled\": false}}", "websocket server requires web server to be enabled"},
        {"{\"websocket\": {\"maxPayload\": 0}}", "config: 'websocket.maxPayload' must be between 1 and 2147483647 (got 0)"},
        {"{\"websocket\": {\"maxPayload\": \"big\"}}", "config: 'websocket.maxPayload' must be an integer"},
        {"{\"websocket\": {\"maxOutboundBytes\": 10}}", "config: 'websocket.maxOutboundBytes' must be between 1024 and 2147483648 (got 10)"},
        {"{\"websocket\": {\"closeTimeout\": -1}}", "config: 'websocket.closeTimeout' must be between 1 and 600000 (got -1)"},
        {"{\"websocket\": {\"pingInterval\": \"often\"}}", "config: 'websocket.server.pingInterval' must be a number of ms or false"},
        {"{\"websocket\": {\"echoPathForTests\": \"echo\"}}", "config: 'websocket.echoPathForTests' must be a path starting with '/'"},
    };
    size_t i;

    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        uv_loop_t loop;
        ah_app_t *app;

        uv_loop_init(&loop);
        app = app_with(&loop, cases[i].config);
        CHECK(ws_server_start(app) < 0);
        CHECK_EQ_STR(app->fail_msg, cases[i].message);
        CHECK(ws_server_get(app) == NULL);
        CHECK_EQ_INT(uv_loop_close(&loop), 0);
        app_free(app);
    }
}

int main(void)
{
    core_init();
    test_handshake();
    test_http_answers();
    test_config_errors();
    return check_done();
}
