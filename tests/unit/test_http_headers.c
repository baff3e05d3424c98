/*
 * test_http_headers.c - response header finalisation (web.md §9.1): the
 * queue reversed, duplicates removed keeping the last queued,
 * every Set-Cookie kept, names lower-cased, Transfer-Encoding dropped for
 * HEAD, computed headers skipped; header validity; reason phrases; the
 * per-request arena.
 */
#include <stdlib.h>
#include <string.h>

#include "http/http_internal.h"

#include "check.h"

#define H(n, v) {n, v, sizeof(n) - 1, sizeof(v) - 1}

static const char *const skip[] = {"content-length", "connection", NULL};

static void test_default_order(void)
{
    /* the queue Actionhero builds for a cookie-less request */
    const struct hdr q[] = {
        H("Set-Cookie", "sessionID=abc;path=/;"),
        H("Content-Type", "application/json; charset=utf-8"),
        H("X-Powered-By", "actionhero"),
        H("Access-Control-Allow-Origin", "*"),
        H("Access-Control-Allow-Methods", "HEAD, GET"),
        H("Access-Control-Allow-Headers", "Content-Type"),
        H("Strict-Transport-Security", "max-age=31536000; includeSubDomains"),
    };
    struct buf b = BUF_INIT;

    CHECK_EQ_INT(hdr_finalize(q, ARRAY_SIZE(q), false, NULL, &b), 7);
    CHECK_EQ_STR(b.data, "strict-transport-security: max-age=31536000; includeSubDomains\r\n"
                         "access-control-allow-headers: Content-Type\r\n"
                         "access-control-allow-methods: HEAD, GET\r\n"
                         "access-control-allow-origin: *\r\n"
                         "x-powered-by: actionhero\r\n"
                         "content-type: application/json; charset=utf-8\r\n"
                         "set-cookie: sessionID=abc;path=/;\r\n");
    buf_release(&b);
}

static void test_last_wins(void)
{
    const struct hdr q[] = {
        H("Set-Cookie", "a=1"),
        H("Content-Type", "application/json"),
        H("X-Test", "first"),
        H("set-cookie", "b=2"),
        H("x-TEST", "second"),
        H("Content-Type", "image/png"),
        H("Content-Length", "999"),
        H("Connection", "close"),
        H("SET-COOKIE", "c=3"),
    };
    struct buf b = BUF_INIT;

    /* 9 entries: the two duplicates go, the two computed ones are skipped */
    CHECK_EQ_INT(hdr_finalize(q, ARRAY_SIZE(q), false, skip, &b), 5);
    CHECK_EQ_STR(b.data, "set-cookie: c=3\r\n"
                         "content-type: image/png\r\n"
                         "x-test: second\r\n"
                         "set-cookie: b=2\r\n"
                         "set-cookie: a=1\r\n");
    buf_release(&b);
}

static void test_head_transfer_encoding(void)
{
    const struct hdr q[] = {
        H("Transfer-Encoding", "chunked"),
        H("X-A", "1"),
    };
    struct buf b = BUF_INIT;

    CHECK_EQ_INT(hdr_finalize(q, ARRAY_SIZE(q), true, NULL, &b), 1);
    CHECK_EQ_STR(b.data, "x-a: 1\r\n");
    buf_reset(&b);
    CHECK_EQ_INT(hdr_finalize(q, ARRAY_SIZE(q), false, NULL, &b), 2);
    CHECK_EQ_STR(b.data, "x-a: 1\r\ntransfer-encoding: chunked\r\n");
    buf_release(&b);
}

static void test_validity(void)
{
    CHECK(hdr_valid_name("X-Test", 6));
    CHECK(hdr_valid_name("a!#$%&'*+-.^_`|~z", 17));
    CHECK(!hdr_valid_name("", 0));
    CHECK(!hdr_valid_name("X Test", 6));
    CHECK(!hdr_valid_name("X:Test", 6));
    CHECK(!hdr_valid_name("X\r\nY", 4));
    CHECK(hdr_valid_value("a b\tc", 5));
    CHECK(hdr_valid_value("", 0));
    CHECK(!hdr_valid_value("a\r\nSet-Cookie: x=1", 18));
    CHECK(!hdr_valid_value("a\nb", 3));
    CHECK(!hdr_valid_value("a\0b", 3));
    CHECK(!hdr_valid_value("a\x7f", 2));
}

static void test_reasons(void)
{
    CHECK_EQ_STR(http_reason(200), "OK");
    CHECK_EQ_STR(http_reason(302), "Found");
    CHECK_EQ_STR(http_reason(304), "Not Modified");
    CHECK_EQ_STR(http_reason(404), "Not Found");
    CHECK_EQ_STR(http_reason(408), "Request Timeout");
    CHECK_EQ_STR(http_reason(413), "Payload Too Large");
    CHECK_EQ_STR(http_reason(414), "URI Too Long");
    CHECK_EQ_STR(http_reason(422), "Unprocessable Entity");
    CHECK_EQ_STR(http_reason(431), "Request Header Fields Too Large");
    CHECK_EQ_STR(http_reason(299), "unknown");
}

static void test_queue_and_arena(void)
{
    struct hdr_queue q;
    struct harena a = {NULL};
    char name[16];
    int i;

    hdrq_init(&q);
    for (i = 0; i < 50; i++) {
        char *n, *v;

        snprintf(name, sizeof(name), "X-%d", i % 7);
        n = harena_dup(&a, name, strlen(name));
        v = harena_dup(&a, name, strlen(name));
        hdrq_push(&q, n, strlen(n), v, strlen(v));
    }
    CHECK_EQ_INT(q.n, 50);
    CHECK(hdrq_last(&q, "x-6") == &q.v[48]);
    CHECK(hdrq_last(&q, "X-0") == &q.v[49]);
    CHECK(hdrq_last(&q, "x-7") == NULL);
    {
        /* a string larger than a block gets its own block */
        char *big = xmalloc(5000);
        char *d;

        memset(big, 'x', 4999);
        big[4999] = '\0';
        d = harena_dup(&a, big, 4999);
        CHECK_EQ_INT(strlen(d), 4999);
        free(big);
    }
    harena_reset(&a);
    CHECK(a.head != NULL && a.head->used == 0 && a.head->next == NULL);
    harena_release(&a);
    hdrq_release(&q);
}

static void test_block_index(void)
{
    /* the defaults as the server builds them at boot: finalised, each line
     * indexed by its lower-cased name, flags for the names some responses
     * leave out */
    const struct hdr q[] = {
        H("Content-Type", "application/json; charset=utf-8"),
        H("X-Mixed-CaSe", "Keep Case"),
        H("ETag", "configured"),
        H("Set-Cookie", "a=1"),
        H("content-type", "text/x-configured"),
        H("Content-Encoding", "identity"),
        H("Content-Length", "99"),
        H("Set-Cookie", "b=2"),
    };
    struct hdr_block b = {BUF_INIT, NULL, 0};
    size_t i;

    hdr_block_build(&b, q, ARRAY_SIZE(q), skip);
    CHECK_EQ_STR(b.text.data, "set-cookie: b=2\r\n"
                              "content-encoding: identity\r\n"
                              "content-type: text/x-configured\r\n"
                              "set-cookie: a=1\r\n"
                              "etag: configured\r\n"
                              "x-mixed-case: Keep Case\r\n");
    CHECK_EQ_INT(b.n, 6);
    for (i = 0; i < b.n && i < 6; i++) {
        static const char *const names[] = {"set-cookie", "content-encoding", "content-type",
                                            "set-cookie", "etag", "x-mixed-case"};
        static const unsigned flags[] = {HL_COOKIE, HL_CE, 0, HL_COOKIE, HL_ETAG, 0};
        const struct hdr_line *l = &b.lines[i];

        CHECK_EQ_INT(l->nlen, strlen(names[i]));
        CHECK(memcmp(b.text.data + l->off, names[i], l->nlen) == 0);
        CHECK_EQ_INT(l->flags, flags[i]);
        CHECK(l->len > l->nlen + 2 && memcmp(b.text.data + l->off + l->len - 2, "\r\n", 2) == 0);
    }
    CHECK_EQ_INT(b.lines[5].off + b.lines[5].len, b.text.len);
    /* rebuilt in place (config reload) */
    hdr_block_build(&b, q, 1, skip);
    CHECK_EQ_INT(b.n, 1);
    CHECK_EQ_STR(b.text.data, "content-type: application/json; charset=utf-8\r\n");
    hdr_block_release(&b);
    CHECK(b.lines == NULL && b.n == 0);
}

int main(void)
{
    test_default_order();
    test_last_wins();
    test_head_transfer_encoding();
    test_validity();
    test_reasons();
    test_queue_and_arena();
    test_block_index();
    return check_done();
}
