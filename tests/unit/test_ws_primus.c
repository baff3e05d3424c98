/*
 * test_ws_primus.c - the Primus layer over the loopback rig, on the
 * test-only Primus echo path: JSON framing and what is not JSON,
 * primus::id / pong / other control strings, U+2028/9 escaping, JS number
 * output, binary frames, the heartbeat and its timeout (close without
 * primus::server::close, then TCP closed after websocket.closeTimeout when
 * the peer does not answer).
 */
#include "test_ws_harness.h"

static struct harness H;

static bool ws_open(struct client *c)
{
    client_open(&H, c);
    client_sends(c, handshake_for("/echo/primus"));
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

/* Text of data frame i that is not a heartbeat ping, or NULL. */
static char *nth_text(struct client *c, size_t i)
{
    static char out[4096];
    struct frame f[64];
    size_t n = client_frames(c, f, 64), k, seen = 0;

    for (k = 0; k < n; k++) {
        if (f[k].op != 1 || (f[k].len > 15 && memcmp(f[k].data, "\"primus::ping::", 15) == 0))
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

static bool has_texts(struct client *c, void *arg)
{
    return nth_text(c, *(size_t *)arg - 1) != NULL || c->eof;
}

static const char *roundtrip(struct client *c, size_t i, const char *msg)
{
    size_t want = i + 1;

    send_text(c, msg);
    run_until(&H, has_texts, c, &want, 2000);
    return nth_text(c, i);
}

static void test_json(void)
{
    struct client c;
    const char *r;

    CHECK(ws_open(&c));
    CHECK_EQ_STR(roundtrip(&c, 0, "{\"a\":1,\"b\":[true,null,\"x\"],\"c\":{}}"),
                 "{\"a\":1,\"b\":[true,null,\"x\"],\"c\":{}}");
    CHECK_EQ_STR(roundtrip(&c, 1, " 5 "), "5");
    CHECK_EQ_STR(roundtrip(&c, 2, "\"str\""), "\"str\"");
    /* not JSON: dropped, the connection stays */
    send_text(&c, "{bad");
    send_text(&c, "");
    send_text(&c, "1 2");
    CHECK_EQ_STR(roundtrip(&c, 3, "[1]"), "[1]");
    /* JS output of numbers and key order */
    CHECK_EQ_STR(roundtrip(&c, 4, "[0.1,1e21,-0,1.0,12345678901234567890]"),
                 "[0.1,1e+21,0,1,12345678901234567000]");
    CHECK_EQ_STR(roundtrip(&c, 5, "{\"b\":1,\"2\":2,\"a\":3,\"1\":4}"), "{\"1\":4,\"2\":2,\"b\":1,\"a\":3}");
    /* U+2028 / U+2029 leave escaped, whatever form they came in */
    CHECK_EQ_STR(roundtrip(&c, 6, "\"a\xe2\x80\xa8" "b\\u2029c\""), "\"a\\u2028b\\u2029c\"");
    CHECK_EQ_STR(roundtrip(&c, 7, "{\"k\xe2\x80\xa9\":\"\xe2\x82\xac\"}"), "{\"k\\u2029\":\"\xe2\x82\xac\"}");
    /* control strings */
    r = roundtrip(&c, 8, "\"primus::id::\"");
    CHECK(r != NULL && strncmp(r, "\"primus::id::", 13) == 0 && strlen(r) == 13 + 21 + 1);
    send_text(&c, "\"primus::pong::1234\"");
    CHECK_EQ_STR(roundtrip(&c, 9, "\"primus::foo::x\""), "\"primus::foo::x\"");
    CHECK_EQ_STR(roundtrip(&c, 10, "\"primus::pong\""), "\"primus::pong\"");
    CHECK_EQ_STR(roundtrip(&c, 11, "\"primus:x\""), "\"primus:x\"");
    {
        /* binary frames are not JSON-decoded */
        struct buf b = BUF_INIT;
        struct frame f[64];
        size_t n, want;

        frame(&b, 1, 2, "\x00\xff{", 3);
        client_send(&c, b.data, b.len);
        buf_release(&b);
        want = 13;
        run_until(&H, has_frames, &c, &want, 2000);
        n = client_frames(&c, f, 64);
        CHECK(n >= 13 && f[n - 1].op == 2 && f[n - 1].len == 3 && memcmp(f[n - 1].data, "\x00\xff{", 3) == 0);
    }
    client_close(&c);
}

static size_t count_pings(struct client *c, size_t *answered)
{
    struct frame f[64];
    size_t n = client_frames(c, f, 64), k, pings = 0;

    for (k = 0; k < n; k++) {
        if (f[k].op == 1 && f[k].len > 15 && memcmp(f[k].data, "\"primus::ping::", 15) == 0) {
            size_t j;
            bool digits = f[k].data[f[k].len - 1] == '"' && f[k].len > 16;

            for (j = 15; j + 1 < f[k].len; j++)
                digits = digits && f[k].data[j] >= '0' && f[k].data[j] <= '9';
            CHECK(digits);
            pings++;
            if (answered && pings > *answered) {
                /* answer like a client: "primus::pong::<same number>" */
                char pong[64];

                snprintf(pong, sizeof(pong), "\"primus::pong::%.*s", (int)(f[k].len - 15), f[k].data + 15);
                send_text(c, pong);
                *answered = pings;
            }
        }
    }
    return pings;
}

static void test_heartbeat(void)
{
    struct client live, pinger, silent;
    struct buf b = BUF_INIT;
    struct frame f[64];
    size_t n, k, answered = 0, i;
    bool server_close_text = false;

    CHECK(ws_open(&live));
    CHECK(ws_open(&pinger));
    CHECK(ws_open(&silent));

    /* `live` answers every ping with "primus::pong::<same number>",
     * `pinger` only sends WebSocket pings (also life), `silent` does
     * nothing.  Run until `silent` is gone and `live` saw four pings. */
    frame(&b, 1, 9, "", 0);
    for (i = 0; i < 200; i++) {
        settle(&H, &live, 50);
        count_pings(&live, &answered);
        client_send(&pinger, b.data, b.len);
        if (silent.eof && answered >= 4)
            break;
    }
    buf_release(&b);
    CHECK(answered >= 4);
    CHECK(!live.eof);
    CHECK(!pinger.eof);
    CHECK(count_pings(&pinger, NULL) >= 2);
    CHECK_EQ_STR(roundtrip(&live, 0, "\"ok\""), "\"ok\"");

    /* `silent` got one ping, then a close frame without status code and
     * without "primus::server::close"; it did not answer the close, so the
     * server dropped TCP after closeTimeout */
    CHECK(silent.eof);
    CHECK_EQ_INT(client_close_code(&silent), 1005);
    n = client_frames(&silent, f, 64);
    for (k = 0; k < n; k++)
        if (f[k].op == 1 && f[k].len == 23 && memcmp(f[k].data, "\"primus::server::close\"", 23) == 0)
            server_close_text = true;
    CHECK(!server_close_text);
    CHECK_EQ_INT(count_pings(&silent, NULL), 1);

    client_close(&live);
    client_close(&pinger);
    client_close(&silent);
}

static void test_close_answered(void)
{
    struct client c;
    struct buf b = BUF_INIT;

    /* heartbeat timeout, and this client answers the close frame: TCP is
     * closed right after, well before closeTimeout */
    CHECK(ws_open(&c));
    run_until(&H, has_close, &c, NULL, 5000);
    CHECK_EQ_INT(client_close_code(&c), 1005);
    close_frame(&b, 1000, NULL);
    client_send(&c, b.data, b.len);
    buf_release(&b);
    run_until(&H, is_eof, &c, NULL, 5000);
    CHECK(c.eof);
    client_close(&c);
}

int main(void)
{
    /* no heartbeat while checking the framing: nothing answers pings there */
    if (harness_init(&H, "{\"websocket\": {\"echoPathForTests\": \"/echo\", \"pingInterval\": false}}") < 0)
        return 1;
    test_json();
    harness_done(&H);

    if (harness_init(&H, "{\"websocket\": {\"echoPathForTests\": \"/echo\", \"closeTimeout\": 300,"
                         " \"server\": {\"pingInterval\": 100}}}") < 0)
        return 1;
    test_heartbeat();
    test_close_answered();
    harness_done(&H);
    return check_done();
}
