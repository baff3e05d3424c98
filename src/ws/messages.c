/*
 * messages.c - Actionhero's websocket server type (websocket.md §3-§5,
 * connection.md §2.2-§4): one ah_connection_t per socket, the messages a
 * client sends (action, file, verbs) and the shape of every reply.
 *
 * Lifetime.  The connection is created at upgrade with the creator's
 * reference (dropped by ah_connection_destroy) and we take a second one
 * for the socket, so that `raw` (our ws_conn) and `ac` point at each other
 * exactly while both live.  When the socket goes, we detach them first,
 * then destroy (destroy middleware, rooms, log; goodbye sees no socket) and
 * drop our reference; an action still running keeps the connection
 * readable and its reply is dropped.  A server-side destroy (quit, exit,
 * an action calling connection.destroy()) says goodbye: Primus's end, that
 * is "primus::server::close" then a close frame, and the socket follows
 * when the client answers.
 *
 * Message ids keep the JSON type the client sent (a number stays a number):
 * the value is kept here; c->message_id holds its text for logs and
 * ah_connection_to_json.
 */
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "config/config.h"
#include "conn/conn.h"
#include "dispatch/dispatch.h"
#include "http/http.h"
#include "http/query.h"
#include "log/log.h"
#include "ws/ws_internal.h"

static void on_send_message(ah_connection_t *ac, json_t *message);
static void on_send_serialized(ah_connection_t *ac, const char *json, size_t len);
static void on_send_file(ah_connection_t *ac, const char *path);
static void on_goodbye(ah_connection_t *ac);

static const char *const ws_verbs[] = {"quit",      "exit",     "documentation", "roomAdd", "roomLeave",
                                       "roomView",  "detailsView", "say",        NULL};

static const ah_server_type_t ws_server_type = {
    .name = "websocket",
    .can_chat = true,
    .log_connections = true,
    .log_exits = true,
    .send_welcome_message = true,
    .verbs = ws_verbs,
    .send_message = on_send_message,
    .send_serialized = on_send_serialized,
    .send_file = on_send_file,
    .goodbye = on_goodbye,
};

/* ------------------------------------------------------------- message id */

/* connection.messageId = value (borrowed, truthy) or a new UUID. */
static void set_message_id(struct ws_conn *c, json_t *value)
{
    char uuid[37];
    char *text;

    json_decref(c->message_id);
    if (value != NULL && core_truthy(value)) {
        c->message_id = json_incref(value);
    } else {
        core_uuid4(uuid);
        c->message_id = json_string(uuid);
    }
    /* connection.messageId = String(id): strings and integers directly */
    if (json_is_string(c->message_id)) {
        core_strlcpy(c->ac->message_id, json_string_value(c->message_id), sizeof(c->ac->message_id));
    } else if (json_is_integer(c->message_id) && sizeof(c->ac->message_id) >= 21) {
        core_fmt_i64(c->ac->message_id, (long long)json_integer_value(c->message_id));
    } else {
        text = dispatch_js_string(c->message_id);
        core_strlcpy(c->ac->message_id, text, sizeof(c->ac->message_id));
        free(text);
    }
}

/* The current message id as JSON: NEW reference. */
static json_t *current_message_id(struct ws_conn *c)
{
    if (c->message_id)
        return json_incref(c->message_id);
    return json_string(c->ac ? c->ac->message_id : "0");
}

/* ------------------------------------------------------------ sending */

/* config.errors.serializers.servers.websocket: error.message (as a string)
 * when truthy, else the error itself.  NEW reference. */
static json_t *serialize_error(json_t *err)
{
    json_t *m = json_is_object(err) ? json_object_get(err, "message") : NULL;

    if (m && core_truthy(m)) {
        char *s = dispatch_js_string(m);
        json_t *out = json_string(s);

        free(s);
        return out ? out : json_incref(err);
    }
    return json_incref(err);
}

/* The websocket server's sendMessage (websocket.md §4): serialise a truthy
 * `error`, add context "response" when there is none, and for responses
 * without a truthy messageId add `message_id` (or the connection's).
 * Strings and arrays go as they are.  `error_take` (may be NULL) replaces
 * message.error before the rules apply. */
/* The members send_reply adds to a response, written while encoding. */
struct reply_extra {
    struct ws_conn *c;
    json_t *message_id;
    bool context, mid;
};

static void put_reply_extra(struct json_out_w *w, void *arg)
{
    struct reply_extra *e = arg;

    if (e->context) {
        json_out_w_key(w, "context");
        json_out_w_string(w, "response");
    }
    if (e->mid) {
        json_t *id = e->message_id ? json_incref(e->message_id) : current_message_id(e->c);

        if (id != NULL) { /* as json_object_set_new(m, "messageId", NULL): no key */
            json_out_w_key(w, "messageId");
            json_out_w_value(w, id);
            json_decref(id);
        }
    }
}

/* The common reply (no error; context and messageId absent or already
 * set) is encoded straight from the response object; anything that would
 * replace a member in place takes the copy below. */
static bool send_reply_direct(struct ws_conn *c, json_t *message, json_t *message_id)
{
    json_t *ctx = json_object_get(message, "context"), *mid = json_object_get(message, "messageId");
    struct reply_extra e = {c, message_id, false, false};
    bool response;

    if (core_truthy(json_object_get(message, "error")) || (ctx != NULL && !core_truthy(ctx)))
        return false;
    e.context = ctx == NULL;
    response = e.context || (json_is_string(ctx) && strcmp(json_string_value(ctx), "response") == 0);
    if (response && mid != NULL && !core_truthy(mid))
        return false;
    e.mid = response && mid == NULL;
    ws_primus_write_object(c, message, put_reply_extra, &e);
    return true;
}

static void send_reply(struct ws_conn *c, json_t *message, json_t *message_id, json_t *error_take)
{
    json_t *m, *ctx;

    if (!ws_conn_open(c)) {
        json_decref(error_take);
        return;
    }
    if (!json_is_object(message)) {
        json_decref(error_take);
        ws_primus_write(c, message);
        return;
    }
    if (error_take == NULL && send_reply_direct(c, message, message_id))
        return;
    m = json_copy(message);
    if (error_take)
        json_object_set_new(m, "error", error_take);
    if (core_truthy(json_object_get(m, "error")))
        json_object_set_new(m, "error", serialize_error(json_object_get(m, "error")));
    ctx = json_object_get(m, "context");
    if (!core_truthy(ctx)) {
        json_object_set_new(m, "context", json_string("response"));
        ctx = json_object_get(m, "context");
    }
    if (json_is_string(ctx) && strcmp(json_string_value(ctx), "response") == 0 &&
        !core_truthy(json_object_get(m, "messageId")))
        json_object_set_new(m, "messageId", message_id ? json_incref(message_id) : current_message_id(c));
    ws_primus_write(c, m);
    json_decref(m);
}

static void on_send_message(ah_connection_t *ac, json_t *message)
{
    struct ws_conn *c = ac->raw;

    if (c != NULL)
        send_reply(c, message, NULL, NULL);
}

/* Chat fan-out: the bytes are already this server's encoding of a message
 * send_reply would not change (ws_json_encode, with a context other than
 * "response" and no error); one text frame, as ws_primus_write sends. */
static void on_send_serialized(ah_connection_t *ac, const char *json, size_t len)
{
    struct ws_conn *c = ac->raw;

    if (c != NULL && ws_conn_open(c))
        ws_conn_send(c, WSLAY_TEXT_FRAME, json, len);
}

static void on_goodbye(ah_connection_t *ac)
{
    struct ws_conn *c = ac->raw;

    if (c != NULL)
        ws_primus_end(c, false);
}

/* -------------------------------------------------------------- actions */

static void on_action_done(ah_ctx_t *ctx, void *arg)
{
    json_t *message_id = arg;
    struct ws_conn *c = ctx->connection->raw;

    if (c != NULL && ctx->to_render)
        send_reply(c, ctx->response, message_id, dispatch_serialize_error(ctx, "websocket"));
    json_decref(message_id);
}

/* connection.params = {...message.params}: JS copies the enumerable keys
 * of whatever `params` is (object keys, array indices, string indices). */
static json_t *copy_params(json_t *p)
{
    json_t *out = json_object();
    char key[32];
    size_t i;

    if (json_is_object(p)) {
        json_object_update(out, p);
    } else if (json_is_array(p)) {
        for (i = 0; i < json_array_size(p); i++) {
            snprintf(key, sizeof(key), "%zu", i);
            json_object_set(out, key, json_array_get(p, i));
        }
    } else if (json_is_string(p)) {
        const char *s = json_string_value(p);
        size_t n = json_string_length(p), k = 0;

        for (i = 0; i < n; k++) {
            size_t len = 1;

            while (i + len < n && ((unsigned char)s[i + len] & 0xc0) == 0x80)
                len++;
            snprintf(key, sizeof(key), "%zu", k);
            json_object_set_new(out, key, json_stringn(s + i, len));
            i += len;
        }
    }
    return out;
}

static void run_action(struct ws_conn *c, json_t *msg)
{
    ah_connection_t *ac = c->ac;
    json_t *message_id = json_incref(c->message_id);
    int rc;

    json_decref(ac->params);
    ac->params = copy_params(json_object_get(msg, "params"));
    json_decref(ac->error);
    ac->error = NULL;
    json_decref(ac->response);
    ac->response = json_object();
    /* The callback may run inside this call (synchronous actions). */
    rc = dispatch_action(ac, NULL, NULL, NULL, on_action_done, message_id);
    if (rc < 0) {
        /* the dispatcher is stopping: answer like the processor would */
        json_t *r = json_pack("{s:s}", "error", "the server is shutting down");

        send_reply(c, r, message_id, NULL);
        json_decref(r);
        json_decref(message_id);
    }
}

/* ---------------------------------------------------------------- verbs */

struct verb_call {
    json_t *message_id;
    json_t *data;      /* the message minus event, messageId and room */
};

static void on_verb_done(ah_connection_t *ac, json_t *result, const char *error, void *arg)
{
    struct verb_call *vc = arg;
    struct ws_conn *c = ac->raw;
    json_t *m;

    if (c != NULL) {
        if (error != NULL) {
            m = json_pack("{s:s, s:s, s:s, s:O}", "status", error, "error", error, "context", "response",
                          "data", vc->data);
        } else {
            m = json_pack("{s:s, s:s}", "status", "OK", "context", "response");
            if (result != NULL)
                json_object_set(m, "data", result);
        }
        send_reply(c, m, vc->message_id, NULL);
        json_decref(m);
    }
    json_decref(vc->message_id);
    json_decref(vc->data);
    free(vc);
}

static void run_verb(struct ws_conn *c, json_t *verb, json_t *msg)
{
    ah_connection_t *ac = c->ac;
    struct verb_call *vc = xcalloc(1, sizeof(*vc));
    json_t *words = json_array(), *room, *v;
    const char *k;
    char *name = dispatch_js_string(verb);
    int rc;

    json_decref(ac->params);
    ac->params = json_object();
    if (json_is_object(msg)) {
        room = json_object_get(msg, "room");
        if (core_truthy(room)) {
            json_array_append(words, room);
            json_object_del(msg, "room");
        }
        json_object_foreach(msg, k, v)
            json_array_append(words, v);
    } else if (json_is_array(msg)) {
        json_array_extend(words, msg);
    }
    vc->message_id = json_incref(c->message_id);
    vc->data = json_incref(msg);
    rc = ah_connection_verbs(ac, name, words, on_verb_done, vc);
    if (rc < 0) {
        json_t *err = json_string(ah_strerror(rc));

        on_verb_done(ac, NULL, json_string_value(err), vc);
        json_decref(err);
    }
    json_decref(words);
    free(name);
}

/* ----------------------------------------------------------------- files */

/* The websocket server's sendFile (websocket.md §4.3): the file's bytes as
 * UTF-8 text (ill-formed sequences become U+FFFD), its mime, length and
 * mtime; or the not-found shape.  Files larger than the client's outbound
 * bound could never be delivered: the lookup reports them unreadable. */
static void on_file(ah_connection_t *ac, const struct http_file_result *r, void *arg)
{
    json_t *message_id = arg;
    struct ws_conn *c = ac->raw;

    if (c != NULL && ws_conn_open(c)) {
        json_t *m = json_object();

        if (r->found) {
            struct buf text = BUF_INIT;
            char iso[32];

            query_utf8_sanitize(&text, r->content, r->content_len);
            core_iso_date(r->mtime_ms, iso, sizeof(iso));
            json_object_set_new(m, "content", json_stringn(text.data ? text.data : "", text.len));
            json_object_set_new(m, "mime", r->mime ? json_string(r->mime) : json_null());
            json_object_set_new(m, "length", json_integer((json_int_t)r->length));
            json_object_set_new(m, "lastModified", json_string(iso));
            buf_release(&text);
        } else {
            json_object_set_new(m, "error", json_string(r->error));
            json_object_set_new(m, "content", json_null());
            json_object_set_new(m, "mime", json_string(r->mime));
            json_object_set_new(m, "length", json_integer((json_int_t)r->length));
        }
        send_reply(c, m, message_id, NULL);
        json_decref(m);
    }
    json_decref(message_id);
}

/* api.staticFile.get for c->params.file, then the reply. */
static void get_file(struct ws_conn *c, json_t *message_id)
{
    ah_connection_t *ac = c->ac;
    json_t *id = message_id ? json_incref(message_id) : current_message_id(c);

    if (http_static_get(ac, c->srv->cfg.max_outbound, on_file, id) < 0) {
        /* no web server to resolve against: not found */
        struct http_file_result r;
        char *text = config_error_text(ac->app, "fileNotFound", NULL);

        memset(&r, 0, sizeof(r));
        r.error = text;
        r.mime = "text/html";
        r.length = strlen(text);
        on_file(ac, &r, id);
        free(text);
    }
}

static void on_send_file(ah_connection_t *ac, const char *path)
{
    struct ws_conn *c = ac->raw;

    (void)path; /* already in params.file */
    if (c != NULL && ws_conn_open(c))
        get_file(c, NULL);
}

static void run_file(struct ws_conn *c, json_t *msg)
{
    ah_connection_t *ac = c->ac;
    json_t *file = json_object_get(msg, "file");

    json_decref(ac->params);
    ac->params = json_object();
    if (file)
        json_object_set(ac->params, "file", file);
    get_file(c, c->message_id);
}

/* ------------------------------------------------------------- messages */

void ws_messages_on_data(struct ws_conn *c, json_t *value)
{
    ah_connection_t *ac = c->ac;
    json_t *verb = NULL;

    if (ac == NULL || ac->destroyed)
        return;
    if (json_is_object(value)) {
        verb = json_incref(json_object_get(value, "event"));
        json_object_del(value, "event");
        set_message_id(c, json_object_get(value, "messageId"));
        json_object_del(value, "messageId");
    } else {
        /* a number, string, array or null: `data.event` is undefined */
        set_message_id(c, NULL);
    }
    if (json_is_string(verb) && strcmp(json_string_value(verb), "action") == 0)
        run_action(c, value);
    else if (json_is_string(verb) && strcmp(json_string_value(verb), "file") == 0)
        run_file(c, value);
    else
        run_verb(c, verb, value);
    json_decref(verb);
}

/* A binary frame reaches Actionhero as a Buffer with no `event`: the verb
 * error, whose data is JSON.stringify(buffer) = {"type":"Buffer","data":[..]}.
 * That array is written directly (n bytes would be n jansson integers);
 * a reply that could never fit in the client's outbound bound is refused
 * before anything is built. */
struct binary_call {
    json_t *message_id;
    size_t n;
    unsigned char bytes[];
};

static void on_binary_verb_done(ah_connection_t *ac, json_t *result, const char *error, void *arg)
{
    struct binary_call *bc = arg;
    struct ws_conn *c = ac->raw;
    struct buf b = BUF_INIT;
    json_t *head;
    size_t i;

    (void)result;
    if (c != NULL && ws_conn_open(c)) {
        head = json_pack("{s:s, s:s, s:s}", "status", error ? error : "OK", "error", error ? error : "",
                         "context", "response");
        ws_json_encode(&b, head);
        json_decref(head);
        b.len--; /* reopen the object */
        buf_adds(&b, ",\"data\":{\"type\":\"Buffer\",\"data\":[");
        for (i = 0; i < bc->n; i++)
            buf_addf(&b, i ? ",%u" : "%u", bc->bytes[i]);
        buf_adds(&b, "]},\"messageId\":");
        ws_json_encode(&b, bc->message_id);
        buf_addc(&b, '}');
        ws_conn_send(c, WSLAY_TEXT_FRAME, b.data, b.len);
        buf_release(&b);
    }
    json_decref(bc->message_id);
    free(bc);
}

void ws_messages_on_binary(struct ws_conn *c, const char *p, size_t n)
{
    ah_connection_t *ac = c->ac;
    struct binary_call *bc;
    json_t *words;

    if (ac == NULL || ac->destroyed)
        return;
    set_message_id(c, NULL);
    json_decref(ac->params);
    ac->params = json_object();
    /* at least two characters per byte ("0,") */
    if (n > c->srv->cfg.max_outbound / 2) {
        static struct log_ratelimit rl;
        json_t *data = json_pack("{s:s, s:I, s:I}", "to", ac->remote_ip, "bytes", (json_int_t)n, "limit",
                                 (json_int_t)c->srv->cfg.max_outbound);

        log_peer(&rl, AH_LOG_WARNING, data, "[server: websocket] dropping a client: the answer to its "
                 "binary message cannot fit in websocket.maxOutboundBytes");
        json_decref(data);
        ws_conn_abort(c);
        return;
    }
    bc = xmalloc(sizeof(*bc) + n);
    bc->message_id = json_incref(c->message_id);
    bc->n = n;
    memcpy(bc->bytes, p, n);
    words = json_array();
    if (ah_connection_verbs(ac, "undefined", words, on_binary_verb_done, bc) < 0) {
        json_decref(bc->message_id);
        free(bc);
    }
    json_decref(words);
}

/* ------------------------------------------------------------- lifetime */

/* Primus's spark.query[key] (Node's querystring.parse of the URL's query;
 * a repeated key gives an array: its first value is taken).  NEW string
 * or NULL when absent. */
static char *query_value(const char *url, const char *key)
{
    const char *q = strchr(url, '?');
    json_t *all, *v;
    char *out = NULL;

    if (q == NULL)
        return NULL;
    q++;
    all = query_parse_simple(q, strcspn(q, "#"));
    v = json_object_get(all, key);
    if (json_is_array(v))
        v = json_array_get(v, 0);
    if (json_is_string(v))
        out = xstrdup(json_string_value(v));
    json_decref(all);
    return out;
}

static void peer_address(uv_tcp_t *tcp, char *ip, size_t iplen, char *port, size_t portlen)
{
    struct sockaddr_storage ss;
    int len = sizeof(ss);

    snprintf(ip, iplen, "0.0.0.0");
    snprintf(port, portlen, "0");
    if (tcp->type != UV_TCP || uv_tcp_getpeername(tcp, (struct sockaddr *)&ss, &len) != 0)
        return;
    if (ss.ss_family == AF_INET) {
        uv_ip4_name((struct sockaddr_in *)&ss, ip, iplen);
        snprintf(port, portlen, "%u", ntohs(((struct sockaddr_in *)&ss)->sin_port));
    } else if (ss.ss_family == AF_INET6) {
        uv_ip6_name((struct sockaddr_in6 *)&ss, ip, iplen);
        snprintf(port, portlen, "%u", ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
    }
}

int ws_messages_open(struct ws_conn *c, const struct ws_upgrade_req *req)
{
    struct conn_init init;
    char ip[64], port[16];
    char *fingerprint = query_value(req->url ? req->url : "", c->srv->cfg.cookie_key);
    ah_connection_t *ac;
    int rc;

    peer_address(c->tcp, ip, sizeof(ip), port, sizeof(port));
    memset(&init, 0, sizeof(init));
    init.fingerprint = fingerprint;
    init.remote_ip = req->remote_ip && req->remote_ip[0] ? req->remote_ip : ip;
    init.remote_port = req->remote_port && req->remote_port[0] ? req->remote_port : port;
    init.remote_port_is_string = req->remote_port && req->remote_port[0] ? req->remote_port_is_string : false;
    init.raw = c;
    ac = conn_new(c->srv->app, &ws_server_type, &init);
    free(fingerprint);
    if (ac == NULL)
        return AH_EFAIL;
    ah_connection_ref(ac);  /* the socket's reference */
    c->ac = ac;
    rc = conn_start(ac);
    return rc < 0 ? rc : 0;
}

void ws_messages_on_close(struct ws_conn *c)
{
    ah_connection_t *ac = c->ac;

    if (ac == NULL)
        return;
    c->ac = NULL;
    ac->raw = NULL;
    ah_connection_destroy(ac);
    ah_connection_unref(ac);
    json_decref(c->message_id);
    c->message_id = NULL;
}

void ws_messages_destroy(struct ws_conn *c)
{
    if (c->ac)
        ah_connection_destroy(c->ac);
}
