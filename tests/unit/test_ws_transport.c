/*
 * test_ws_transport.c - RFC 6455 over the loopback rig, on the test-only
 * raw echo path: handshake hand-off, lengths, masking, reserved bits and
 * opcodes, fragmentation with control frames in between, close codes,
 * UTF-8, the message size limit and the outbound bound (a client that does
 * not read is dropped, one that reads gets everything, others are served).
 */
#include "test_ws_harness.h"

#define MAX_PAYLOAD 100000

static struct harness H;

/* Open a websocket on the echo path; optionally send `extra` in the same
 * write as the request head. */
static bool ws_open(struct client *c, const char *path, const struct buf *extra)
{
    struct buf b = BUF_INIT;

    client_open(&H, c);
    buf_adds(&b, handshake_for(path));
    if (extra)
        buf_add(&b, extra->data, extra->len);
    client_send(c, b.data, b.len);
    buf_release(&b);
    run_until(&H, has_head, c, NULL, 2000);
    return c->head_len > 0 && strncmp(c->in.data, "HTTP/1.1 101 ", 13) == 0;
}

/* Send frames, wait for a close frame and the end of the TCP connection;
 * returns the close code (-1: none). */
static int expect_close(const char *name, struct buf *frames)
{
    struct client c;
    int code;

    if (!ws_open(&c, "/echo", NULL)) {
        printf("not ok - %s: no 101\n", name);
        client_close(&c);
        return -2;
    }
    client_send(&c, frames->data, frames->len);
    run_until(&H, is_eof, &c, NULL, 3000);
    code = client_close_code(&c);
    if (!c.eof)
        printf("# %s: the server did not close the TCP connection\n", name);
    CHECK(c.eof);
    client_close(&c);
    buf_release(frames);
    return code;
}

/* Send frames; wait for `want` frames; returns them in f (client kept open). */
static size_t exchange(struct client *c, struct buf *frames, struct frame *f, size_t want)
{
    client_send(c, frames->data, frames->len);
    buf_release(frames);
    run_until(&H, has_frames, c, &want, 3000);
    return client_frames(c, f, 64);
}

static bool frame_is(const struct frame *f, int op, const void *p, size_t n)
{
    return f->op == op && f->fin == 1 && f->len == n && memcmp(f->data, p, n) == 0;
}

static void test_handshake_over_tcp(void)
{
    struct client c;
    struct buf b = BUF_INIT;
    struct frame f[64];
    size_t n;

    CHECK(ws_open(&c, "/echo", NULL));
    CHECK(strstr(c.in.data, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n") != NULL);
    frame(&b, 1, 1, "hello", 5);
    n = exchange(&c, &b, f, 1);
    CHECK_EQ_INT(n, 1);
    CHECK(n >= 1 && frame_is(&f[0], 1, "hello", 5));
    client_close(&c);

    /* frames in the same packet as the request head (the HTTP layer passes
     * them as `rest`) */
    frame(&b, 1, 1, "early", 5);
    frame(&b, 1, 2, "\x00\x01", 2);
    CHECK(ws_open(&c, "/echo", &b));
    buf_release(&b);
    {
        size_t want = 2;

        run_until(&H, has_frames, &c, &want, 2000);
    }
    n = client_frames(&c, f, 64);
    CHECK_EQ_INT(n, 2);
    CHECK(n >= 2 && frame_is(&f[0], 1, "early", 5) && frame_is(&f[1], 2, "\x00\x01", 2));
    client_close(&c);

    /* a bad handshake gets the HTTP error and nothing else */
    client_open(&H, &c);
    client_sends(&c, "GET /echo HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: " TEST_KEY "\r\nSec-WebSocket-Version: 8\r\n\r\n");
    run_until(&H, is_eof, &c, NULL, 2000);
    CHECK(strncmp(c.in.data, "HTTP/1.1 426 ", 13) == 0);
    CHECK(strstr(c.in.data, "Sec-WebSocket-Version: 13\r\n") != NULL);
    client_close(&c);
}

/* Count pong frames (all of them, not just the first 64) and check that
 * their payloads cycle 0..9. */
static size_t count_pongs(struct client *c, struct frame *unused, bool *ordered)
{
    const unsigned char *p = (const unsigned char *)c->in.data + c->head_len;
    const unsigned char *end = (const unsigned char *)c->in.data + c->in.len;
    size_t n = 0;

    (void)unused;
    if (c->head_len == 0)
        return 0;
    while (end - p >= 2 && (p[1] & 0x7f) < 126 && end - p >= 2 + (p[1] & 0x7f)) {
        size_t len = p[1] & 0x7f;

        if ((p[0] & 0x0f) == 10) {
            if (len != 1 || p[2] != (unsigned char)('0' + n % 10))
                *ordered = false;
            n++;
        }
        p += 2 + len;
    }
    return n;
}

static bool pongs_at_least(struct client *c, void *arg)
{
    bool ordered = true;

    return count_pongs(c, NULL, &ordered) >= *(size_t *)arg || c->eof;
}

static void test_data(void)
{
    static char big[70000];
    struct client c;
    struct buf b = BUF_INIT;
    struct frame f[64];
    size_t n;

    memset(big, 'a', sizeof(big));
    CHECK(ws_open(&c, "/echo", NULL));
    frame(&b, 1, 1, big, 125);
    frame(&b, 1, 1, big, 126);
    frame(&b, 1, 1, big, 65535);
    frame(&b, 1, 1, big, 65536);
    frame(&b, 1, 2, big, 70000);
    frame(&b, 1, 1, "", 0);
    n = exchange(&c, &b, f, 6);
    CHECK_EQ_INT(n, 6);
    if (n == 6) {
        CHECK(frame_is(&f[0], 1, big, 125));
        CHECK(frame_is(&f[1], 1, big, 126));
        CHECK(frame_is(&f[2], 1, big, 65535));
        CHECK(frame_is(&f[3], 1, big, 65536));
        CHECK(frame_is(&f[4], 2, big, 70000));
        CHECK(frame_is(&f[5], 1, "", 0));
    }
    client_close(&c);

    /* ping -> pong with the same payload; pongs are ignored */
    CHECK(ws_open(&c, "/echo", NULL));
    frame(&b, 1, 10, "unsolicited", 11);
    frame(&b, 1, 9, "p1", 2);
    n = exchange(&c, &b, f, 1);
    CHECK_EQ_INT(n, 1);
    CHECK(n >= 1 && frame_is(&f[0], 10, "p1", 2));
    client_close(&c);

    /* a read full of pings: every pong comes back, in order */
    {
        struct frame fs[64];
        size_t i, want = 3000, got;
        bool ordered = true;

        CHECK(ws_open(&c, "/echo", NULL));
        for (i = 0; i < want; i++) {
            char p[8];

            snprintf(p, sizeof(p), "%zu", i % 10);
            frame(&b, 1, 9, p, 1);
        }
        client_send(&c, b.data, b.len);
        buf_release(&b);
        run_until(&H, pongs_at_least, &c, &want, 5000);
        got = count_pongs(&c, fs, &ordered);
        CHECK_EQ_INT(got, want);
        CHECK(ordered);
        CHECK(!c.eof);
        client_close(&c);
    }

    /* fragmented message with a ping in between: pong, then the whole message */
    CHECK(ws_open(&c, "/echo", NULL));
    frame(&b, 0, 1, "frag", 4);
    frame(&b, 1, 9, "mid", 3);
    frame(&b, 0, 0, "me", 2);
    frame(&b, 1, 0, "nt", 2);
    n = exchange(&c, &b, f, 2);
    CHECK_EQ_INT(n, 2);
    CHECK(n >= 2 && frame_is(&f[0], 10, "mid", 3) && frame_is(&f[1], 1, "fragment", 8));
    client_close(&c);

    /* UTF-8 split across fragments is valid; bytes arriving one by one */
    CHECK(ws_open(&c, "/echo", NULL));
    frame(&b, 0, 1, "\xe2\x82", 2);
    frame(&b, 1, 0, "\xac", 1);
    {
        size_t i;

        for (i = 0; i < b.len; i++)
            client_send(&c, b.data + i, 1);
        buf_reset(&b);
    }
    n = exchange(&c, &b, f, 1);
    CHECK_EQ_INT(n, 1);
    CHECK(n >= 1 && frame_is(&f[0], 1, "\xe2\x82\xac", 3));
    client_close(&c);

    /* exactly the limit is fine, fragmented too */
    {
        static char lim[MAX_PAYLOAD];

        memset(lim, 'b', sizeof(lim));
        CHECK(ws_open(&c, "/echo", NULL));
        frame(&b, 0, 2, lim, MAX_PAYLOAD / 2);
        frame(&b, 1, 0, lim, MAX_PAYLOAD / 2);
        n = exchange(&c, &b, f, 1);
        CHECK_EQ_INT(n, 1);
        CHECK(n >= 1 && frame_is(&f[0], 2, lim, MAX_PAYLOAD));
        client_close(&c);
    }
}

static void test_protocol_errors(void)
{
    static char big[MAX_PAYLOAD + 1];
    struct buf b = BUF_INIT;

    memset(big, 'x', sizeof(big));

    frame(&b, 1, 9, big, 126);
    CHECK_EQ_INT(expect_close("ping payload > 125", &b), 1002);
    frame_ex(&b, 1, 0, 1, "x", 1, false, -1);
    CHECK_EQ_INT(expect_close("unmasked frame", &b), 1002);
    frame_ex(&b, 1, 4, 1, "x", 1, true, -1);
    CHECK_EQ_INT(expect_close("RSV1", &b), 1002);
    frame_ex(&b, 1, 2, 1, "x", 1, true, -1);
    CHECK_EQ_INT(expect_close("RSV2", &b), 1002);
    frame_ex(&b, 1, 1, 1, "x", 1, true, -1);
    CHECK_EQ_INT(expect_close("RSV3", &b), 1002);
    frame(&b, 1, 3, "", 0);
    CHECK_EQ_INT(expect_close("reserved data opcode 3", &b), 1002);
    frame(&b, 1, 11, "", 0);
    CHECK_EQ_INT(expect_close("reserved control opcode 11", &b), 1002);
    frame(&b, 0, 1, "a", 1);
    frame(&b, 1, 7, "", 0);
    CHECK_EQ_INT(expect_close("reserved opcode inside a fragmented message", &b), 1002);
    frame(&b, 0, 9, "a", 1);
    frame(&b, 1, 0, "b", 1);
    CHECK_EQ_INT(expect_close("fragmented ping", &b), 1002);
    frame(&b, 1, 0, "x", 1);
    CHECK_EQ_INT(expect_close("continuation without start", &b), 1002);
    frame(&b, 0, 1, "a", 1);
    frame(&b, 1, 1, "b", 1);
    CHECK_EQ_INT(expect_close("new message inside a fragmented one", &b), 1002);
    frame_ex(&b, 1, 0, 2, "", 0, true, (long long)0x7fffffffffffffffLL);
    b.data[2] |= (char)0x80;  /* MSB of the 64-bit length */
    CHECK_EQ_INT(expect_close("64-bit length with the MSB set", &b), 1002);
    frame_ex(&b, 1, 0, 1, "abc", 3, true, 3);
    CHECK_EQ_INT(expect_close("non-minimal 64-bit length", &b), 1002);

    /* UTF-8 */
    frame(&b, 1, 1, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64", 16);
    CHECK_EQ_INT(expect_close("surrogate in text", &b), 1007);
    frame(&b, 1, 1, "\xc0\x80", 2);
    CHECK_EQ_INT(expect_close("overlong NUL", &b), 1007);
    frame(&b, 1, 1, "\xf4\x90\x80\x80", 4);
    CHECK_EQ_INT(expect_close("above U+10FFFF", &b), 1007);
    frame(&b, 1, 1, "ok\xe2\x82", 4);
    CHECK_EQ_INT(expect_close("truncated sequence at the end", &b), 1007);
    frame(&b, 0, 1, "\xe2\x82", 2);
    frame(&b, 1, 0, "a", 1);
    CHECK_EQ_INT(expect_close("invalid across fragments", &b), 1007);

    /* sizes */
    frame(&b, 1, 2, big, MAX_PAYLOAD + 1);
    CHECK_EQ_INT(expect_close("frame over maxPayload", &b), 1009);
    frame(&b, 0, 2, big, MAX_PAYLOAD / 2 + 1);
    frame(&b, 1, 0, big, MAX_PAYLOAD / 2);
    CHECK_EQ_INT(expect_close("fragments over maxPayload", &b), 1009);
    frame_ex(&b, 1, 0, 2, "x", 1, true, (long long)1 << 40);
    CHECK_EQ_INT(expect_close("announced 1 TiB, one byte sent", &b), 1009);
}

static void test_close_handshake(void)
{
    struct buf b = BUF_INIT;

    close_frame(&b, 1000, NULL);
    CHECK_EQ_INT(expect_close("close 1000", &b), 1000);
    close_frame(&b, 1001, "going away");
    CHECK_EQ_INT(expect_close("close 1001 with reason", &b), 1001);
    close_frame(&b, -1, NULL);
    CHECK_EQ_INT(expect_close("close without code", &b), 1005);
    close_frame(&b, 3000, NULL);
    CHECK_EQ_INT(expect_close("close 3000", &b), 3000);
    close_frame(&b, 4999, NULL);
    CHECK_EQ_INT(expect_close("close 4999", &b), 4999);
    close_frame(&b, 1012, NULL);
    CHECK_EQ_INT(expect_close("close 1012 (accepted like ws)", &b), 1012);
    close_frame(&b, 1014, "x");
    CHECK_EQ_INT(expect_close("close 1014", &b), 1014);
    {
        static const int bad[] = {0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535};
        size_t i;

        for (i = 0; i < ARRAY_SIZE(bad); i++) {
            close_frame(&b, bad[i], NULL);
            CHECK_EQ_INT(expect_close("invalid close code", &b), 1002);
        }
    }
    frame(&b, 1, 8, "\x03", 1);
    CHECK_EQ_INT(expect_close("close payload of 1 byte", &b), 1002);
    frame(&b, 1, 8, "\x03\xe8\xff\xfe", 4);
    CHECK_EQ_INT(expect_close("close reason not UTF-8", &b), 1007);

    /* data after the close frame is ignored */
    close_frame(&b, 1000, NULL);
    frame(&b, 1, 1, "after", 5);
    {
        struct client c;
        struct frame f[64];
        size_t n;

        CHECK(ws_open(&c, "/echo", NULL));
        client_send(&c, b.data, b.len);
        buf_release(&b);
        run_until(&H, is_eof, &c, NULL, 3000);
        n = client_frames(&c, f, 64);
        CHECK_EQ_INT(n, 1);
        CHECK(n >= 1 && f[0].op == 8);
        CHECK(c.eof);
        client_close(&c);
    }
}

static bool conns_at_most(struct client *c, void *arg)
{
    (void)c;
    return ws_server_get(H.app)->n_conns <= *(size_t *)arg;
}

static void test_backpressure(void)
{
    static char chunk[60000];
    struct client slow, fast;
    struct buf b = BUF_INIT;
    struct frame f[64];
    size_t i, n, one = 1;

    memset(chunk, 'z', sizeof(chunk));

    /* A client that reads gets far more than maxOutboundBytes in total. */
    CHECK(ws_open(&fast, "/echo", NULL));
    for (i = 0; i < 40; i++)
        frame(&b, 1, 2, chunk, sizeof(chunk));
    client_send(&fast, b.data, b.len);
    buf_release(&b);
    {
        size_t want = 40;

        run_until(&H, has_frames, &fast, &want, 10000);
    }
    n = client_frames(&fast, f, 64);
    CHECK_EQ_INT(n, 40);
    CHECK(!fast.eof);
    buf_reset(&fast.in);
    fast.head_len = 0;
    buf_adds(&fast.in, "HTTP/1.1 101 x\r\n\r\n");
    fast.head_len = fast.in.len;

    /* A client that stops reading is dropped once its queue would pass the
     * bound, and the other one is served meanwhile. */
    CHECK(ws_open(&slow, "/echo", NULL));
    uv_read_stop((uv_stream_t *)&slow.tcp);
    for (i = 0; i < 400; i++)
        frame(&b, 1, 2, chunk, sizeof(chunk));
    client_send(&slow, b.data, b.len);
    buf_release(&b);
    CHECK(run_until(&H, conns_at_most, &slow, &one, 20000));
    CHECK_EQ_INT(ws_server_get(H.app)->n_conns, 1);

    frame(&b, 1, 1, "still here", 10);
    n = exchange(&fast, &b, f, 1);
    CHECK_EQ_INT(n, 1);
    CHECK(n >= 1 && frame_is(&f[0], 1, "still here", 10));
    client_close(&slow);
    client_close(&fast);
}

/* ------------------------------------------------------------- memory */

/* The newest connection on the server (ws_conn_start puts it first). */
static struct ws_conn *newest(void)
{
    return ws_server_get(H.app)->conns;
}

static bool pend_is(struct client *c, void *arg)
{
    (void)c;
    return newest() != NULL && newest()->pend.len == *(size_t *)arg;
}

static bool bound_is(struct client *c, void *arg)
{
    (void)c;
    return ws_server_get(H.app)->n_bound == *(size_t *)arg;
}

/* Forget the frames received so far. */
static void forget_frames(struct client *c)
{
    buf_reset(&c->in);
    buf_adds(&c->in, "HTTP/1.1 101 x\r\n\r\n");
    c->head_len = c->in.len;
}

static bool idle_conn(const struct ws_conn *wc)
{
    return wc->slot == NULL && wc->pend.cap == 0 && wc->msg.cap == 0 && wc->out.cap == 0 && wc->w == NULL &&
           wc->cl == NULL;
}

static void test_memory(void)
{
    enum { MANY = WS_POOL_MAX + 4 };
    static char big[300];
    static struct client cs[MANY];
    struct ws_server *srv = ws_server_get(H.app);
    struct client c;
    struct buf b = BUF_INIT;
    struct frame f[64];
    size_t i, n, one = 1, made;
    bool ok = true;

    memset(big, 'q', sizeof(big));

    /* idle after the handshake: no wslay context, no buffer */
    CHECK(ws_open(&c, "/echo", NULL));
    settle(&H, &c, 20);
    CHECK_EQ_INT(srv->n_bound, 0);
    CHECK(newest() != NULL && idle_conn(newest()));

    /* a frame arriving byte by byte, one read each: the partial frame waits
     * in `pend` (header bytes too) and no context is bound meanwhile */
    frame(&b, 1, 1, big, sizeof(big));
    for (i = 0; i + 1 < b.len; i++) {
        size_t want = i + 1;

        client_send(&c, b.data + i, 1);
        if (!run_until(&H, pend_is, &c, &want, 2000) || srv->n_bound != 0)
            ok = false;
    }
    CHECK(ok);
    client_send(&c, b.data + i, 1);
    buf_reset(&b);
    run_until(&H, has_frames, &c, &one, 2000);
    n = client_frames(&c, f, 64);
    CHECK_EQ_INT(n, 1);
    CHECK(n >= 1 && frame_is(&f[0], 1, big, sizeof(big)));
    CHECK_EQ_INT(srv->n_bound, 0);
    CHECK(idle_conn(newest()));
    forget_frames(&c);

    /* the first byte of a frame, then the rest of it with a whole frame and
     * half of a third: header bytes read ahead go back to the next frame */
    frame(&b, 1, 1, "abcde", 5);
    frame(&b, 1, 2, big, 200);
    frame(&b, 1, 1, "xyz", 3);
    {
        size_t want = 1, rest = b.len - 1 - 5;

        client_send(&c, b.data, 1);
        run_until(&H, pend_is, &c, &want, 2000);
        client_send(&c, b.data + 1, rest);
        want = 4;  /* of the third frame's 9 bytes */
        CHECK(run_until(&H, pend_is, &c, &want, 2000));
        want = 2;
        run_until(&H, has_frames, &c, &want, 2000);
        CHECK_EQ_INT(srv->n_bound, 0);
        client_send(&c, b.data + 1 + rest, 5);
        want = 3;
        run_until(&H, has_frames, &c, &want, 2000);
    }
    buf_reset(&b);
    n = client_frames(&c, f, 64);
    CHECK_EQ_INT(n, 3);
    CHECK(n >= 3 && frame_is(&f[0], 1, "abcde", 5) && frame_is(&f[1], 2, big, 200) &&
          frame_is(&f[2], 1, "xyz", 3));
    CHECK(idle_conn(newest()));
    forget_frames(&c);

    /* a fragmented message with a ping in between, each frame its own
     * read (the UTF-8 of the text split between them): the context stays
     * bound while the message is open, and goes back to the pool after */
    frame(&b, 0, 1, "frag\xe2\x82", 6);
    client_send(&c, b.data, b.len);
    buf_reset(&b);
    CHECK(run_until(&H, bound_is, &c, &one, 2000));
    CHECK(newest()->frag_open);
    frame(&b, 1, 9, "mid", 3);
    n = exchange(&c, &b, f, 1);
    CHECK_EQ_INT(n, 1);
    CHECK(n >= 1 && frame_is(&f[0], 10, "mid", 3));
    CHECK_EQ_INT(srv->n_bound, 1);
    frame(&b, 0, 0, "\xac", 1);
    client_send(&c, b.data, b.len);
    buf_reset(&b);
    settle(&H, &c, 20);
    CHECK_EQ_INT(srv->n_bound, 1);
    frame(&b, 1, 0, "ment", 4);
    n = exchange(&c, &b, f, 2);
    CHECK_EQ_INT(n, 2);
    CHECK(n >= 2 && frame_is(&f[1], 1, "frag\xe2\x82\xacment", 11));
    CHECK_EQ_INT(srv->n_bound, 0);
    CHECK(srv->pool_len >= 1 && srv->pool_len <= WS_POOL_MAX);
    CHECK(idle_conn(newest()));
    client_close(&c);

    /* many sockets idle, then all active at once: one pooled context
     * serves them in turn */
    ok = true;
    for (i = 0; i < MANY; i++)
        ok = ws_open(&cs[i], "/echo", NULL) && ok;
    CHECK(ok);
    made = srv->n_slots_made;
    for (i = 0; i < MANY; i++) {
        char m[16];

        snprintf(m, sizeof(m), "m%zu", i);
        frame(&b, 1, 1, m, strlen(m));
        client_send(&cs[i], b.data, b.len);
        buf_reset(&b);
    }
    ok = true;
    for (i = 0; i < MANY; i++) {
        char m[16];

        snprintf(m, sizeof(m), "m%zu", i);
        run_until(&H, has_frames, &cs[i], &one, 2000);
        n = client_frames(&cs[i], f, 64);
        ok = ok && n == 1 && frame_is(&f[0], 1, m, strlen(m));
        forget_frames(&cs[i]);
    }
    CHECK(ok);
    CHECK_EQ_INT(srv->n_slots_made, made);
    CHECK_EQ_INT(srv->n_bound, 0);

    /* more connections mid-message than the pool keeps: each gets its own
     * context; when they finish, the pool keeps WS_POOL_MAX of them */
    for (i = 0; i < MANY; i++) {
        frame(&b, 0, 2, "part", 4);
        client_send(&cs[i], b.data, b.len);
        buf_reset(&b);
    }
    {
        size_t want = MANY;

        CHECK(run_until(&H, bound_is, &c, &want, 3000));
    }
    CHECK(srv->n_slots_made >= made + MANY - WS_POOL_MAX);
    for (i = 0; i < MANY; i++) {
        char m[16];

        snprintf(m, sizeof(m), "%zu", i);
        frame(&b, 1, 0, m, strlen(m));
        client_send(&cs[i], b.data, b.len);
        buf_reset(&b);
    }
    ok = true;
    for (i = 0; i < MANY; i++) {
        char m[16];

        snprintf(m, sizeof(m), "part%zu", i);
        run_until(&H, has_frames, &cs[i], &one, 2000);
        n = client_frames(&cs[i], f, 64);
        ok = ok && n == 1 && frame_is(&f[0], 2, m, strlen(m));
    }
    CHECK(ok);
    CHECK_EQ_INT(srv->n_bound, 0);
    CHECK_EQ_INT(srv->pool_len, WS_POOL_MAX);
    for (i = 0; i < MANY; i++)
        client_close(&cs[i]);

    /* the client leaves in the middle of a frame: the partial frame goes
     * with the connection */
    {
        size_t before, want = 10;

        settle(&H, &c, 50);
        before = srv->n_conns;
        CHECK(ws_open(&c, "/echo", NULL));
        frame(&b, 1, 1, big, sizeof(big));
        client_send(&c, b.data, 10);
        buf_reset(&b);
        CHECK(run_until(&H, pend_is, &c, &want, 2000));
        client_close(&c);
        CHECK(run_until(&H, conns_at_most, &c, &before, 2000));
    }

    /* the server closes in the middle of a frame: the close frame goes out
     * at once, the rest of the frame is not echoed, and the peer's close
     * ends the connection */
    {
        size_t want = 10;

        CHECK(ws_open(&c, "/echo", NULL));
        frame(&b, 1, 1, big, sizeof(big));
        client_send(&c, b.data, 10);
        CHECK(run_until(&H, pend_is, &c, &want, 2000));
        ws_conn_close(newest(), 1001);
        run_until(&H, has_close, &c, NULL, 2000);
        CHECK_EQ_INT(client_close_code(&c), 1001);
        client_send(&c, b.data + 10, b.len - 10);
        buf_reset(&b);
        close_frame(&b, 1001, NULL);
        client_send(&c, b.data, b.len);
        buf_reset(&b);
        run_until(&H, is_eof, &c, NULL, 3000);
        CHECK(c.eof);
        n = client_frames(&c, f, 64);
        CHECK_EQ_INT(n, 1);
        client_close(&c);
    }

    /* a frame announced over maxPayload is refused on its header, without
     * waiting for (or storing) its payload */
    {
        CHECK(ws_open(&c, "/echo", NULL));
        frame_ex(&b, 1, 0, 2, big, 10, true, MAX_PAYLOAD + 1);
        client_send(&c, b.data, b.len);
        buf_release(&b);
        run_until(&H, is_eof, &c, NULL, 3000);
        CHECK_EQ_INT(client_close_code(&c), 1009);
        client_close(&c);
    }
}

int main(void)
{
    if (harness_init(&H, "{\"websocket\": {\"echoPathForTests\": \"/echo\", \"maxPayload\": 100000,"
                         " \"maxOutboundBytes\": 262144, \"closeTimeout\": 500, \"pingInterval\": false}}") < 0)
        return 1;
    test_handshake_over_tcp();
    test_data();
    test_protocol_errors();
    test_close_handshake();
    test_backpressure();
    test_memory();
    harness_done(&H);
    return check_done();
}
