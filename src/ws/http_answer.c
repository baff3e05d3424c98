/*
 * http_answer.c - plain (non-upgrade) HTTP requests under the Primus path
 * (web.md §11).
 *
 *   <pathname>/spec       200 application/json, Primus's server spec
 *   <pathname>/primus.js  200 text/javascript: Actionhero serves the Primus
 *                         client library here.  We do not ship Primus's
 *                         code; this small script says where the browser
 *                         client is (it speaks the Primus wire protocol
 *                         itself) and fails loudly if a page still relies
 *                         on a global `Primus`.
 *   anything else         426 text/plain "Upgrade Required" with Primus's
 *                         no-cache headers.
 */
#include <string.h>

#include "ws/ws_internal.h"

static const char primus_js[] =
    "/*\n"
    " * actionhero-c does not serve the Primus client library.\n"
    " * Use the Actionhero websocket client instead; it speaks the Primus wire\n"
    " * protocol over the browser's native WebSocket:\n"
    " *\n"
    " *   <script src=\"/public/javascript/ActionheroWebsocketClient.js\"></script>\n"
    " *   const client = new ActionheroWebsocketClient();\n"
    " *   client.connect((error, details) => { ... });\n"
    " */\n"
    "(function () {\n"
    "  var text = 'actionhero-c: /primus/primus.js is not the Primus library; '\n"
    "    + 'load /public/javascript/ActionheroWebsocketClient.js instead';\n"
    "  if (typeof console !== 'undefined' && console.error) console.error(text);\n"
    "})();\n";

static const char no_cache[] =
    "Cache-Control: no-store, no-cache, must-revalidate, max-age=0\r\n"
    "Pragma: no-cache\r\n";

static bool is_sub(const struct ws_server *srv, const char *path, size_t len, const char *sub)
{
    size_t n = srv->cfg.pathname_len, m = strlen(sub);

    return len == n + m && memcmp(path, srv->cfg.pathname, n) == 0 && memcmp(path + n, sub, m) == 0;
}

void ws_http_answer(ah_app_t *app, const char *path, size_t len, int *status,
                    const char **content_type, const char **extra_headers,
                    const char **body, size_t *body_len)
{
    struct ws_server *srv = ws_server_get(app);

    *extra_headers = "";
    if (srv == NULL) {
        *status = 404;
        *content_type = "text/plain";
        *body = "Not Found";
        *body_len = strlen(*body);
        return;
    }
    if (is_sub(srv, path, len, "/spec")) {
        *status = 200;
        *content_type = "application/json";
        *body = srv->spec_json;
        *body_len = strlen(srv->spec_json);
        return;
    }
    if (is_sub(srv, path, len, "/primus.js")) {
        *status = 200;
        *content_type = "text/javascript; charset=utf-8";
        *body = primus_js;
        *body_len = sizeof(primus_js) - 1;
        return;
    }
    *status = 426;
    *content_type = "text/plain";
    *extra_headers = no_cache;
    *body = "Upgrade Required";
    *body_len = strlen(*body);
}
