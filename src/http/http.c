/*
 * http.c - the web server's initializer (web.md §1-§2): configuration,
 * boot validation, listening, the graceful stop.
 *
 * The configuration is read once at load into struct http_cfg (plain C
 * values), so the request path never walks the JSON tree.
 */
#include "http/http_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/app.h"
#include "config/config.h"
#include "log/log.h"

static const char ct_json[] = "application/json; charset=utf-8";
static const char *const computed[] = {"content-length", "transfer-encoding", "connection", "keep-alive", "date",
                                       NULL};

static char **split_prefix(const char *s, size_t *n)
{
    json_t *parts;
    char **v;
    size_t i, first = 0, total;

    *n = 0;
    if (s == NULL || *s == '\0')
        return NULL;
    /* split("/") with only the leading empty parts removed */
    parts = json_array();
    {
        const char *p = s;

        for (;;) {
            const char *slash = strchr(p, '/');
            size_t l = slash ? (size_t)(slash - p) : strlen(p);

            json_array_append_new(parts, json_stringn(p, l));
            if (!slash)
                break;
            p = slash + 1;
        }
    }
    total = json_array_size(parts);
    while (first < total && json_string_length(json_array_get(parts, first)) == 0)
        first++;
    v = xcalloc(total - first + 1, sizeof(*v));
    for (i = first; i < total; i++)
        v[i - first] = xstrdup(json_string_value(json_array_get(parts, i)));
    *n = total - first;
    json_decref(parts);
    return v;
}

static void free_strv(char **v, size_t n)
{
    size_t i;

    for (i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

void http_cfg_release(struct http_cfg *cfg)
{
    size_t i;

    free_strv(cfg->allowed_hosts, cfg->n_allowed_hosts);
    free_strv(cfg->actions_prefix, cfg->n_actions_prefix);
    free_strv(cfg->files_prefix, cfg->n_files_prefix);
    for (i = 0; i < cfg->n_headers; i++) {
        free(cfg->headers[i].name);
        free(cfg->headers[i].value);
    }
    free(cfg->headers);
    free(cfg->cookie_key);
    free(cfg->cookie_key_lower);
    free(cfg->cookie_header);
    free(cfg->server_name);
    free(cfg->api_version);
    free(cfg->directory_file_type);
    free_strv(cfg->public_paths, cfg->n_public_paths);
    free(cfg->bind_ip);
    free(cfg->port_text);
    free(cfg->upload_dir);
    memset(cfg, 0, sizeof(*cfg));
}

static size_t cfg_size(ah_app_t *app, const char *path, long long dflt)
{
    long long v = config_int(app, path, dflt);

    return v < 0 ? 0 : (size_t)v;
}

static char *js_string_of(json_t *v)
{
    char buf[64];

    if (json_is_string(v))
        return xstrdup(json_string_value(v));
    if (json_is_integer(v)) {
        snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
        return xstrdup(buf);
    }
    if (json_is_real(v)) {
        snprintf(buf, sizeof(buf), "%.17g", json_real_value(v));
        return xstrdup(buf);
    }
    if (json_is_true(v))
        return xstrdup("true");
    if (json_is_false(v))
        return xstrdup("false");
    return xstrdup("null");
}

static int load_cfg(ah_app_t *app, struct http_cfg *cfg)
{
    json_t *v, *e;
    const char *k, *root;
    size_t i;

    cfg->max_header_bytes = cfg_size(app, "web.maxHeaderBytes", 16384);
    cfg->max_url_length = cfg_size(app, "web.maxUrlLength", 8192);
    cfg->max_body_bytes = cfg_size(app, "web.maxBodyBytes", 20971520);
    cfg->max_pipeline_bytes = cfg_size(app, "web.maxPipelineBytes", 1048576);
    cfg->max_outbound_bytes = cfg_size(app, "web.maxOutboundBytes", 8388608);
    cfg->max_connections = cfg_size(app, "web.maxConnections", 10000);
    cfg->headers_timeout = cfg_size(app, "web.headersTimeout", 60000);
    cfg->request_timeout = cfg_size(app, "web.requestTimeout", 300000);
    cfg->keepalive_timeout = cfg_size(app, "web.keepAliveTimeout", 5000);

    cfg->secure = config_bool(app, "web.secure", false);
    if (cfg->secure)
        return ah_app_fail(app, "web.secure: HTTPS is not built into this server; terminate TLS in a proxy "
                                "in front of it (X-Forwarded-Proto is honoured)");
    cfg->enable_etag = config_bool(app, "web.enableEtag", true);
    cfg->save_raw_body = config_bool(app, "web.saveRawBody", false);
    cfg->compress = json_is_true(config_get(app, "web.compress"));
    v = config_get(app, "web.returnErrorCodes");
    cfg->return_error_codes = v ? json_is_true(v) : true;
    cfg->meta_server = config_bool(app, "web.metadataOptions.serverInformation", true);
    cfg->meta_requester = config_bool(app, "web.metadataOptions.requesterInformation", true);
    cfg->disable_param_scrubbing = json_is_true(config_get(app, "general.disableParamScrubbing"));
    v = config_get(app, "web.padding");
    cfg->padding = json_is_integer(v) ? (int)json_integer_value(v) : json_is_real(v) ? (int)json_real_value(v) : 0;
    if (cfg->padding < 0)
        cfg->padding = 0;
    if (cfg->padding > 10)
        cfg->padding = 10;
    cfg->default_error_status = (int)config_int(app, "web.defaultErrorStatusCode", 500);
    cfg->flat_file_cache_duration = config_int(app, "web.flatFileCacheDuration", 60);

    v = config_get(app, "web.allowedRequestHosts");
    if (json_is_array(v) && json_array_size(v) > 0) {
        cfg->allowed_hosts = xcalloc(json_array_size(v), sizeof(char *));
        json_array_foreach(v, i, e) cfg->allowed_hosts[cfg->n_allowed_hosts++] = js_string_of(e);
    }
    cfg->actions_prefix = split_prefix(config_str(app, "web.urlPathForActions", NULL), &cfg->n_actions_prefix);
    cfg->files_prefix = split_prefix(config_str(app, "web.urlPathForFiles", NULL), &cfg->n_files_prefix);
    {
        const char *ret = config_str(app, "web.rootEndpointType", "file");

        if (strcmp(ret, "api") != 0 && strcmp(ret, "file") != 0)
            return ah_app_fail(app, "rootEndpointType can only be 'api' or 'file'");
        cfg->root_api = strcmp(ret, "api") == 0;
        if (!cfg->root_api && !core_truthy(config_get(app, "web.urlPathForFiles")))
            return ah_app_fail(app, "rootEndpointType cannot be \"file\" without a urlPathForFiles");
    }
    v = config_get(app, "web.httpHeaders");
    if (json_is_object(v)) {
        cfg->headers = xcalloc(json_object_size(v) + 1, sizeof(*cfg->headers));
        json_object_foreach(v, k, e) {
            struct http_kv *h;

            if (!core_truthy(e))
                continue;
            h = &cfg->headers[cfg->n_headers];
            h->name = xstrdup(k);
            h->value = js_string_of(e);
            h->nlen = strlen(h->name);
            h->vlen = strlen(h->value);
            if (!hdr_valid_name(h->name, h->nlen) || !hdr_valid_value(h->value, h->vlen)) {
                int rc = ah_app_fail(app, "web.httpHeaders: invalid header '%s'", k);

                free(h->name);
                free(h->value);
                return rc;
            }
            cfg->n_headers++;
        }
        cfg->headers_have_acam = core_truthy(json_object_get(v, "Access-Control-Allow-Methods"));
        cfg->headers_have_acao = core_truthy(json_object_get(v, "Access-Control-Allow-Origin"));
    }

    cfg->cookie_key = xstrdup(config_str(app, "web.fingerprintOptions.cookieKey", "__browser_fingerprint"));
    cfg->cookie_key_lower = xstrdup(cfg->cookie_key);
    for (i = 0; cfg->cookie_key_lower[i]; i++)
        cfg->cookie_key_lower[i] = (char)tolower((unsigned char)cfg->cookie_key_lower[i]);
    cfg->cookie_header = xasprintf("x-%s", cfg->cookie_key_lower);
    v = config_get(app, "web.fingerprintOptions.toSetCookie");
    cfg->to_set_cookie = v ? json_is_true(v) : true;
    cfg->cookie_settings = config_get(app, "web.fingerprintOptions.settings");

    cfg->server_name = js_string_of(config_get(app, "general.serverName"));
    cfg->api_version = js_string_of(config_get(app, "general.apiVersion"));
    cfg->directory_file_type = xstrdup(config_str(app, "general.directoryFileType", "index.html"));
    root = app->project_root;
    v = config_get(app, "general.paths.public");
    if (!json_is_array(v)) {
        /* default: <project root>/public */
        char cwd[4096];
        struct buf p = BUF_INIT, n = BUF_INIT;

        buf_addf(&p, "%s/public", root ? root : (getcwd(cwd, sizeof(cwd)) ? cwd : "."));
        http_path_normalize(p.data, p.len, &n);
        cfg->public_paths = xcalloc(2, sizeof(char *));
        cfg->public_paths[cfg->n_public_paths++] = buf_detach(&n, NULL);
        buf_release(&p);
    } else {
        cfg->public_paths = xcalloc(json_array_size(v) + 1, sizeof(char *));
        json_array_foreach(v, i, e) {
            struct buf p = BUF_INIT, n = BUF_INIT;
            char cwd[4096];

            if (!json_is_string(e))
                continue;
            if (json_string_value(e)[0] != '/')
                buf_addf(&p, "%s/", root ? root : (getcwd(cwd, sizeof(cwd)) ? cwd : "."));
            buf_adds(&p, json_string_value(e));
            http_path_normalize(p.data, p.len, &n);
            /* a location never ends with '/' (but "/" stays "/") */
            if (n.len > 1 && n.data[n.len - 1] == '/')
                n.data[--n.len] = '\0';
            cfg->public_paths[cfg->n_public_paths++] = buf_detach(&n, NULL);
            buf_release(&p);
        }
    }
    /* then <plugin>/public of each plugin that has one (web.md §8.1) */
    v = config_get(app, "plugins");
    if (json_is_object(v)) {
        json_object_foreach(v, k, e) {
            json_t *pp = json_object_get(e, "path");
            struct buf p = BUF_INIT, n = BUF_INIT;
            struct stat st;
            char cwd[4096];
            bool dup = false;

            if (!json_is_string(pp) || json_is_false(json_object_get(e, "public")))
                continue;
            if (json_string_value(pp)[0] != '/')
                buf_addf(&p, "%s/", root ? root : (getcwd(cwd, sizeof(cwd)) ? cwd : "."));
            buf_addf(&p, "%s/public", json_string_value(pp));
            http_path_normalize(p.data, p.len, &n);
            if (n.len > 1 && n.data[n.len - 1] == '/')
                n.data[--n.len] = '\0';
            for (i = 0; i < cfg->n_public_paths && !dup; i++)
                dup = strcmp(cfg->public_paths[i], n.data) == 0;
            if (!dup && stat(n.data, &st) == 0 && S_ISDIR(st.st_mode)) {
                cfg->public_paths = xrealloc(cfg->public_paths, (cfg->n_public_paths + 2) * sizeof(char *));
                cfg->public_paths[cfg->n_public_paths++] = buf_detach(&n, NULL);
            }
            buf_release(&n);
            buf_release(&p);
        }
    }
    {
        struct buf all = BUF_INIT;

        for (i = 0; i < cfg->n_public_paths; i++)
            buf_addf(&all, "%s%s", i ? ", " : "", cfg->public_paths[i]);
        log_debug("static files will be served from these directories: %s", all.data ? all.data : "");
        buf_release(&all);
    }
    {
        const char *lvl = config_str(app, "general.fileRequestLogLevel", "info");

        cfg->file_log_level = log_level_parse(lvl);
        if (cfg->file_log_level < 0)
            cfg->file_log_level = AH_LOG_INFO;
    }

    cfg->upload_dir = xstrdup(config_str(app, "web.formOptions.uploadDir", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp"));
    cfg->form.upload_dir = cfg->upload_dir;
    cfg->form.keep_extensions = config_bool(app, "web.formOptions.keepExtensions", false);
    cfg->form.multiples = config_bool(app, "web.formOptions.multiples", false);
    cfg->form.max_fields_size = cfg_size(app, "web.formOptions.maxFieldsSize", 20971520);
    cfg->form.max_file_size = cfg_size(app, "web.formOptions.maxFileSize", 209715200);
    cfg->form.max_fields = cfg_size(app, "web.formOptions.maxFields", 1000);
    cfg->qs.depth = (int)config_int(app, "web.queryParseOptions.depth", 5);
    cfg->qs.array_limit = (int)config_int(app, "web.queryParseOptions.arrayLimit", 20);
    cfg->qs.parameter_limit = (int)config_int(app, "web.queryParseOptions.parameterLimit", 1000);

    /* where to listen */
    v = config_get(app, "web.port");
    cfg->port_text = v ? js_string_of(v) : xstrdup("8080");
    {
        const char *bind = config_str(app, "web.bindIP", NULL);

        cfg->bind_ip = bind && *bind ? xstrdup(bind) : NULL;
        cfg->unix_socket = cfg->bind_ip == NULL && strchr(cfg->port_text, '/') != NULL;
        if (!cfg->unix_socket && strspn(cfg->port_text, "0123456789") != strlen(cfg->port_text))
            return ah_app_fail(app, "web.port: '%s' is neither a port number nor a socket path", cfg->port_text);
    }
    return 0;
}

/* Build the default part of the header queue and its finalised form. */
static void build_base(struct http_server *srv)
{
    struct http_cfg *cfg = &srv->cfg;
    size_t i;

    srv->base = xcalloc(cfg->n_headers + 1, sizeof(*srv->base));
    srv->base[0].name = "Content-Type";
    srv->base[0].nlen = 12;
    srv->base[0].value = ct_json;
    srv->base[0].vlen = (uint32_t)strlen(ct_json);
    for (i = 0; i < cfg->n_headers; i++) {
        srv->base[i + 1].name = cfg->headers[i].name;
        srv->base[i + 1].nlen = (uint32_t)cfg->headers[i].nlen;
        srv->base[i + 1].value = cfg->headers[i].value;
        srv->base[i + 1].vlen = (uint32_t)cfg->headers[i].vlen;
        if (strcmp(cfg->headers[i].name, "Transfer-Encoding") == 0)
            srv->base_has_te = true;
    }
    srv->n_base = cfg->n_headers + 1;
    hdr_block_build(&srv->base_block, srv->base, srv->n_base, computed);
    /* a configured "Connection: close" closes after every response */
    for (i = srv->n_base; i-- > 0;) {
        const struct hdr *h = &srv->base[i];

        if (h->nlen == 10 && strncasecmp(h->name, "connection", 10) == 0) {
            srv->base_conn_close = h->vlen >= 5 && strncasecmp(h->value, "close", 5) == 0;
            break;
        }
    }
    {
        int n = snprintf(srv->cache_control, sizeof(srv->cache_control), "max-age=%lld, must-revalidate, public",
                         cfg->flat_file_cache_duration);

        srv->cache_control_len = n > 0 && (size_t)n < sizeof(srv->cache_control) ? (size_t)n : 0;
    }
    if (cfg->keepalive_timeout > 0)
        buf_addf(&srv->keepalive_line, "Keep-Alive: timeout=%llu", (unsigned long long)(cfg->keepalive_timeout / 1000));
}

/* ------------------------------------------------------------ initializer */

static void on_stop_accepting(ah_app_t *app)
{
    if (app->http)
        http_server_stop_accepting(app->http);
}

static int web_initialize(ah_app_t *app)
{
    struct http_server *srv;
    int rc;

    if (!config_bool(app, "web.enabled", true))
        return 0;
    srv = xcalloc(1, sizeof(*srv));
    srv->app = app;
    if ((rc = load_cfg(app, &srv->cfg)) < 0) {
        http_cfg_release(&srv->cfg);
        free(srv);
        return rc;
    }
    srv->boot_attempts = (int)config_int(app, "web.bootAttempts", 1);
    if (srv->boot_attempts < 1)
        srv->boot_attempts = 1;
    build_base(srv);
    http_settings_init(&srv->settings);
    uv_idle_init(app->loop, &srv->resume_idle);
    srv->resume_idle.data = srv;
    app->http = srv;
    app_on_stop_accepting(app, on_stop_accepting);
    log_debug("Initialized server: web");
    return 0;
}

static int web_start(ah_app_t *app)
{
    struct http_server *srv = app->http;
    int rc;

    if (srv == NULL)
        return 0;
    if (srv->cfg.bind_ip)
        log_notice("Starting server: `web` @ http://%s:%s", srv->cfg.bind_ip, srv->cfg.port_text);
    else
        log_notice("Starting server: `web` ");
    if ((rc = http_server_listen(srv)) < 0)
        return rc;
    log_debug("Server started: web");
    return 0;
}

static int web_stop(ah_app_t *app)
{
    struct http_server *srv = app->http;

    if (srv == NULL)
        return 0;
    log_notice("Stopping server: web");
    http_server_shutdown(srv);
    log_debug("Server stopped: web");
    return 0;
}

AH_INITIALIZER(web) = {
    .name = "web",
    .load_priority = PRIO_SERVERS_LOAD,
    .start_priority = PRIO_SERVERS_START,
    .stop_priority = PRIO_SERVERS_STOP,
    .initialize = web_initialize,
    .start = web_start,
    .stop = web_stop,
};
