/*
 * test_ws_messages.c - Actionhero's websocket messages over the loopback
 * rig, with the real connection registry and action processor: welcome,
 * actions with message ids of every JSON type, unknown actions, params
 * reset per message, verbs and their error shapes, what is not an object,
 * binary frames, quit, too many pending actions, and the socket closing
 * under a running action.
 */
#include "conn/conn.h"
#include "dispatch/dispatch.h"
#include "test_ws_harness.h"

static struct harness H;

static bool ws_open(struct client *c, const char *path)
{
    client_open(&H, c);
    client_sends(c, handshake_for(path));
    run_until(&H, has_head, c, NULL, 2000);
    return c->head_len > 0 && strncmp(c->in.data, "HTTP/1.1 101 ", 13) == 0;
}

static void send_text(struct client *c, const char *s)
{
    struct buf b = BUF_INIT;

    frame(&b, 1, 1, s, strlen(s));
    client_send(c, b.data, b.len);
    buf_release(&b);
}

/* Text frame i (0 = the welcome), copied, or NULL. */
static char *text_at(struct client *c, size_t i)
{
    static char out[8192];
    struct frame f[64];
    size_t n = client_frames(c, f, 64), k, seen = 0;

    for (k = 0; k < n; k++) {
        if (f[k].op != 1)
            continue;
        if (seen++ == i) {
            size_t len = f[k].len < sizeof(out) - 1 ? f[k].len : sizeof(out) - 1;

            memcpy(out, f[k].data, len);
            out[len] = '\0';
            return out;
        }
    }
    return NULL;
}

static bool has_text(struct client *c, void *arg)
{
    return text_at(c, *(size_t *)arg) != NULL || c->eof;
}

static const char *wait_text(struct client *c, size_t i)
{
    run_until(&H, has_text, c, &i, 3000);
    return text_at(c, i);
}

/* Send a message and return reply number i, parsed (NEW) or NULL. */
static json_t *ask(struct client *c, size_t i, const char *msg)
{
    const char *t;

    send_text(c, msg);
    t = wait_text(c, i);
    return t ? json_loads(t, JSON_DECODE_ANY, NULL) : NULL;
}

/* Is v equal to the JSON text? */
static bool json_is(json_t *v, const char *text)
{
    json_t *w = json_loads(text, JSON_DECODE_ANY, NULL);
    bool eq = json_equal(v, w);

    json_decref(w);
    return eq;
}

static const char *str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* The keys of an object, in order, comma-separated. */
static const char *keys(json_t *o)
{
    static char out[512];
    const char *k;
    json_t *v;

    out[0] = '\0';
    json_object_foreach(o, k, v) {
        if (out[0])
            strncat(out, ",", sizeof(out) - strlen(out) - 1);
        strncat(out, k, sizeof(out) - strlen(out) - 1);
    }
    return out;
}

static void test_welcome_and_actions(void)
{
    struct client c;
    json_t *r;

    CHECK(ws_open(&c, "/primus?sessionID=fp-123&x=1"));
    CHECK_EQ_STR(wait_text(&c, 0), "{\"welcome\":\"Welcome to the actionhero api\",\"context\":\"api\"}");

    r = ask(&c, 1, "{\"event\":\"action\",\"params\":{\"action\":\"randomNumber\"},\"messageId\":\"abc\"}");
    CHECK_EQ_STR(keys(r), "randomNumber,stringRandomNumber,context,messageId");
    CHECK(json_is_real(json_object_get(r, "randomNumber")));
    CHECK_EQ_STR(str(r, "context"), "response");
    CHECK_EQ_STR(str(r, "messageId"), "abc");
    json_decref(r);

    /* the message id keeps its JSON type */
    r = ask(&c, 2, "{\"event\":\"action\",\"params\":{\"action\":\"randomNumber\"},\"messageId\":5}");
    CHECK(json_is_integer(json_object_get(r, "messageId")) && json_integer_value(json_object_get(r, "messageId")) == 5);
    json_decref(r);
    r = ask(&c, 3, "{\"event\":\"action\",\"params\":{\"action\":\"randomNumber\"},\"messageId\":{\"a\":[1]}}");
    CHECK(json_is(json_object_get(r, "messageId"), "{\"a\":[1]}"));
    json_decref(r);

    /* unknown action, missing params: a fresh UUID as message id */
    r = ask(&c, 4, "{\"event\":\"action\",\"params\":{\"action\":\"nope\"}}");
    CHECK_EQ_STR(keys(r), "error,context,messageId");
    CHECK_EQ_STR(str(r, "error"), "unknown action or invalid apiVersion");
    CHECK(str(r, "messageId") && strlen(str(r, "messageId")) == 36);
    json_decref(r);
    r = ask(&c, 5, "{\"event\":\"action\",\"messageId\":0}");
    CHECK_EQ_STR(str(r, "error"), "unknown action or invalid apiVersion");
    CHECK(str(r, "messageId") && strlen(str(r, "messageId")) == 36);  /* 0 is falsy */
    json_decref(r);
    /* a messageId inside params is only a param */
    r = ask(&c, 6, "{\"event\":\"action\",\"params\":{\"action\":\"randomNumber\",\"messageId\":\"inner\"},\"messageId\":\"outer\"}");
    CHECK_EQ_STR(str(r, "messageId"), "outer");
    json_decref(r);

    /* params never persist: detailsView after an action shows {} */
    r = ask(&c, 7, "{\"event\":\"detailsView\",\"messageId\":\"d1\"}");
    CHECK_EQ_STR(keys(r), "status,context,data,messageId");
    CHECK_EQ_STR(str(r, "status"), "OK");
    CHECK_EQ_STR(str(r, "messageId"), "d1");
    CHECK_EQ_STR(keys(json_object_get(r, "data")),
                 "id,fingerprint,remoteIP,remotePort,params,connectedAt,rooms,totalActions,pendingActions");
    CHECK_EQ_STR(str(json_object_get(r, "data"), "fingerprint"), "fp-123");
    CHECK_EQ_STR(str(json_object_get(r, "data"), "remoteIP"), "127.0.0.1");
    CHECK_EQ_INT(json_object_size(json_object_get(json_object_get(r, "data"), "params")), 0);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(r, "data"), "totalActions")), 6);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(r, "data"), "pendingActions")), 0);
    json_decref(r);
    /* members the response already has: kept in place, replaced in place
     * when falsy, no messageId for another context */
    r = ask(&c, 8, "{\"event\":\"action\",\"params\":{\"action\":\"replyShape\",\"mode\":\"custom\"},\"messageId\":\"s1\"}");
    CHECK_EQ_STR(keys(r), "context,z");
    CHECK_EQ_STR(str(r, "context"), "custom");
    json_decref(r);
    r = ask(&c, 9, "{\"event\":\"action\",\"params\":{\"action\":\"replyShape\",\"mode\":\"falsyContext\"},\"messageId\":\"s2\"}");
    CHECK_EQ_STR(keys(r), "context,z,messageId");
    CHECK_EQ_STR(str(r, "context"), "response");
    CHECK_EQ_STR(str(r, "messageId"), "s2");
    json_decref(r);
    r = ask(&c, 10, "{\"event\":\"action\",\"params\":{\"action\":\"replyShape\",\"mode\":\"falsyId\"},\"messageId\":\"s3\"}");
    CHECK_EQ_STR(keys(r), "messageId,z,context");
    CHECK_EQ_STR(str(r, "messageId"), "s3");
    json_decref(r);
    r = ask(&c, 11, "{\"event\":\"action\",\"params\":{\"action\":\"replyShape\",\"mode\":\"ownId\"},\"messageId\":\"s4\"}");
    CHECK_EQ_STR(keys(r), "messageId,z,context");
    CHECK_EQ_STR(str(r, "messageId"), "mine");
    json_decref(r);

    client_close(&c);
}

static void test_verbs_and_odd_messages(void)
{
    struct client c;
    json_t *r;
    const char *t;

    CHECK(ws_open(&c, "/primus"));
    CHECK(wait_text(&c, 0) != NULL);

    t = (send_text(&c, "{\"event\":\"paramAdd\",\"key\":\"k\",\"messageId\":\"m1\"}"), wait_text(&c, 1));
    CHECK_EQ_STR(t, "{\"status\":\"Error: verb not found or not allowed (paramAdd)\","
                    "\"error\":\"Error: verb not found or not allowed (paramAdd)\","
                    "\"context\":\"response\",\"data\":{\"key\":\"k\"},\"messageId\":\"m1\"}");
    t = (send_text(&c, "{\"event\":\"documentation\",\"messageId\":\"m2\"}"), wait_text(&c, 2));
    CHECK_EQ_STR(t, "{\"status\":\"TypeError: Cannot read properties of undefined (reading 'documentation')\","
                    "\"error\":\"TypeError: Cannot read properties of undefined (reading 'documentation')\","
                    "\"context\":\"response\",\"data\":{},\"messageId\":\"m2\"}");
    t = (send_text(&c, "{\"messageId\":\"x1\"}"), wait_text(&c, 3));
    CHECK_EQ_STR(t, "{\"status\":\"Error: verb not found or not allowed (undefined)\","
                    "\"error\":\"Error: verb not found or not allowed (undefined)\","
                    "\"context\":\"response\",\"data\":{},\"messageId\":\"x1\"}");
    r = ask(&c, 4, "5");
    CHECK_EQ_STR(str(r, "error"), "Error: verb not found or not allowed (undefined)");
    CHECK(json_integer_value(json_object_get(r, "data")) == 5);
    CHECK_EQ_INT(strlen(str(r, "messageId")), 36);
    json_decref(r);
    r = ask(&c, 5, "{\"event\":7,\"room\":\"r\",\"a\":\"\xe2\x80\xa8\"}");
    CHECK_EQ_STR(str(r, "error"), "Error: verb not found or not allowed (7)");
    CHECK_EQ_STR(keys(json_object_get(r, "data")), "a");
    json_decref(r);
    /* U+2028 is escaped on the wire */
    CHECK(strstr(text_at(&c, 5), "\"a\":\"\\u2028\"") != NULL);
    /* a falsy room is not taken out of data */
    r = ask(&c, 6, "{\"event\":\"nope\",\"room\":\"\",\"messageId\":\"m3\"}");
    CHECK_EQ_STR(keys(json_object_get(r, "data")), "room");
    json_decref(r);
    /* not JSON: no answer; the next message gets reply 7 */
    send_text(&c, "{not json");
    r = ask(&c, 7, "{\"event\":\"detailsView\",\"messageId\":\"m4\"}");
    CHECK_EQ_STR(str(r, "messageId"), "m4");
    json_decref(r);

    /* binary: a Buffer with no event */
    {
        struct buf b = BUF_INIT;

        frame(&b, 1, 2, "\x01\xff", 2);
        client_send(&c, b.data, b.len);
        buf_release(&b);
        r = json_loads(wait_text(&c, 8) ? text_at(&c, 8) : "null", JSON_DECODE_ANY, NULL);
        CHECK_EQ_STR(str(r, "error"), "Error: verb not found or not allowed (undefined)");
        CHECK(json_is(json_object_get(r, "data"), "{\"type\":\"Buffer\",\"data\":[1,255]}"));
        CHECK_EQ_STR(keys(r), "status,error,context,data,messageId");
        json_decref(r);
    }

    /* quit: no reply, primus::server::close then a close frame */
    send_text(&c, "{\"event\":\"quit\",\"messageId\":\"q\"}");
    run_until(&H, has_close, &c, NULL, 3000);
    CHECK_EQ_STR(text_at(&c, 9), "\"primus::server::close\"");
    CHECK(text_at(&c, 10) == NULL);
    CHECK_EQ_INT(client_close_code(&c), 1005);
    {
        struct buf b = BUF_INIT;

        close_frame(&b, 1000, NULL);
        client_send(&c, b.data, b.len);
        buf_release(&b);
    }
    run_until(&H, is_eof, &c, NULL, 3000);
    CHECK(c.eof);
    client_close(&c);
}

static bool n_texts(struct client *c, void *arg)
{
    return text_at(c, *(size_t *)arg - 1) != NULL || c->eof;
}

static void test_concurrency(void)
{
    struct client c;
    size_t i, want = 7, too_many = 0, done = 0;

    CHECK(ws_open(&c, "/primus"));
    CHECK(wait_text(&c, 0) != NULL);
    for (i = 0; i < 6; i++) {
        char m[160];

        snprintf(m, sizeof(m), "{\"event\":\"action\",\"params\":{\"action\":\"sleepTest\",\"sleepDuration\":50},"
                               "\"messageId\":%zu}", i + 1);
        send_text(&c, m);
    }
    run_until(&H, n_texts, &c, &want, 5000);
    for (i = 1; i <= 6; i++) {
        json_t *r = json_loads(text_at(&c, i) ? text_at(&c, i) : "{}", 0, NULL);

        if (str(r, "error") && strcmp(str(r, "error"), "you have too many pending requests") == 0) {
            too_many++;
            CHECK_EQ_INT(json_integer_value(json_object_get(r, "messageId")), 6);
        } else if (json_object_get(r, "sleepDuration")) {
            done++;
        }
        json_decref(r);
    }
    CHECK_EQ_INT(too_many, 1);
    CHECK_EQ_INT(done, 5);

    /* the client leaves with an action running: nothing breaks, and the
     * connection is gone from the registry once the action is over */
    send_text(&c, "{\"event\":\"action\",\"params\":{\"action\":\"sleepTest\",\"sleepDuration\":50}}");
    settle(&H, &c, 10);
    client_close(&c);
    settle(&H, &c, 200);
    CHECK_EQ_INT(conn_count(H.app), 0);
    CHECK_EQ_INT(ws_server_get(H.app)->n_conns, 0);
}

/* An action that uses connection.sendMessage with every kind of value. */
static int run_send_message(ah_ctx_t *ctx)
{
    ah_connection_t *c = ah_connection(ctx);
    json_t *m;

    m = json_pack("{s:s}", "hello", "world");
    ah_connection_send_message(c, m);
    json_decref(m);
    m = json_pack("{s:s, s:s}", "message", "hi", "context", "user");
    ah_connection_send_message(c, m);
    json_decref(m);
    m = json_pack("{s:{s:s}, s:s}", "error", "message", "boom", "context", "alert");
    ah_connection_send_message(c, m);
    json_decref(m);
    m = json_pack("{s:s, s:s}", "error", "plain", "messageId", "given");
    ah_connection_send_message(c, m);
    json_decref(m);
    m = json_string("just text");
    ah_connection_send_message(c, m);
    json_decref(m);
    json_object_set_new(ah_response(ctx), "sent", json_true());
    return AH_DONE;
}

static const ah_action_t send_message_action = {
    .name = "wsSendMessageTest",
    .run = run_send_message,
};

static void test_send_message(void)
{
    struct client c;

    CHECK(ws_open(&c, "/primus"));
    CHECK(wait_text(&c, 0) != NULL);
    send_text(&c, "{\"event\":\"action\",\"params\":{\"action\":\"wsSendMessageTest\"},\"messageId\":42}");
    CHECK_EQ_STR(wait_text(&c, 1), "{\"hello\":\"world\",\"context\":\"response\",\"messageId\":42}");
    CHECK_EQ_STR(wait_text(&c, 2), "{\"message\":\"hi\",\"context\":\"user\"}");
    CHECK_EQ_STR(wait_text(&c, 3), "{\"error\":\"boom\",\"context\":\"alert\"}");
    CHECK_EQ_STR(wait_text(&c, 4), "{\"error\":\"plain\",\"messageId\":\"given\",\"context\":\"response\"}");
    CHECK_EQ_STR(wait_text(&c, 5), "\"just text\"");
    CHECK_EQ_STR(wait_text(&c, 6), "{\"sent\":true,\"context\":\"response\",\"messageId\":42}");
    client_close(&c);
}

int main(void)
{
    if (harness_init(&H, "{\"websocket\": {\"pingInterval\": false}, \"general\": {\"simultaneousActions\": 5}}") < 0)
        return 1;
    if (conn_registry_init(H.app) < 0 || dispatch_init(H.app) < 0) {
        printf("# init: %s\n", H.app->fail_msg);
        return 1;
    }
    if (dispatch_load_action(H.app, &send_message_action, "test_ws_messages.c") < 0) {
        printf("# load: %s\n", H.app->fail_msg);
        return 1;
    }
    dispatch_build_post_variables(H.app);
    H.app->running = true;
    test_welcome_and_actions();
    test_send_message();
    test_verbs_and_odd_messages();
    test_concurrency();
    ws_server_stop(H.app);
    conn_registry_free(H.app);
    dispatch_free(H.app);
    harness_done(&H);
    return check_done();
}
