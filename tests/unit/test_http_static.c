/*
 * test_http_static.c - the pure parts of the static file server (web.md
 * §8): path normalisation and containment (every escape attempt), the
 * weak ETag, the 304 decision and MIME lookup by extension.
 */
#include <stdlib.h>
#include <string.h>

#include "http/http_internal.h"

#include "check.h"

static const char *norm(const char *p)
{
    static struct buf b = BUF_INIT;

    http_path_normalize(p, strlen(p), &b);
    return b.data;
}

static void test_normalize(void)
{
    CHECK_EQ_STR(norm("/a/b/../c"), "/a/c");
    CHECK_EQ_STR(norm("/a//b/./c/"), "/a/b/c/");
    CHECK_EQ_STR(norm("/../../etc"), "/etc");
    CHECK_EQ_STR(norm("a/../../b"), "../b");
    CHECK_EQ_STR(norm("./"), ".");
    CHECK_EQ_STR(norm("/"), "/");
    CHECK_EQ_STR(norm("/srv/public/"), "/srv/public/");
    CHECK_EQ_STR(norm("/x/.../y"), "/x/.../y");
}

/* resolve params.file (already percent-decoded) against a root */
static int resolve(const char *rel, size_t n, const char **out)
{
    static struct buf b = BUF_INIT;
    bool ok = http_path_resolve("/srv/public", rel, n, &b);

    *out = b.data ? b.data : "";
    return ok;
}

#define RES(rel, want_ok, want_path) do { const char *o_; \
        int r_ = resolve(rel, strlen(rel), &o_); \
        CHECK_EQ_INT(r_, want_ok); \
        if (r_) CHECK_EQ_STR(o_, want_path); \
    } while (0)

static void test_containment(void)
{
    const char *o;

    RES("index.html", 1, "/srv/public/index.html");
    RES("css/x.css", 1, "/srv/public/css/x.css");
    RES("css/../index.html", 1, "/srv/public/index.html");
    RES("", 1, "/srv/public");
    /* every way out is refused */
    RES("../package.json", 0, "");
    RES("css/../../package.json", 0, "");
    RES("../public-evil/x", 0, "");   /* sibling with the same prefix */
    RES("..", 0, "");
    RES("/etc/passwd", 0, "");        /* absolute: used as is, outside */
    RES("/srv/public/ok.txt", 1, "/srv/public/ok.txt");
    RES("/srv/public/../secret", 0, "");
    RES("/srv/publicx/a", 0, "");
    /* "%2e%2e" arrives decoded as ".." (decodeURIComponent ran before) */
    RES("%2e%2e/x", 1, "/srv/public/%2e%2e/x");
    /* backslashes are ordinary file name characters on POSIX */
    RES("..\\..\\etc\\passwd", 1, "/srv/public/..\\..\\etc\\passwd");
    /* a NUL byte (from %00) never names a file */
    CHECK_EQ_INT(resolve("index.html\0.png", 15, &o), 0);
    CHECK(http_path_inside("/srv/public", "/srv/public"));
    CHECK(http_path_inside("/srv/public/a", "/srv/public"));
    CHECK(!http_path_inside("/srv/publica", "/srv/public"));
    CHECK(http_path_inside("/anything", "/"));
}

static void test_etag(void)
{
    char e[64];

    http_etag(101, 0x1a23bd7194aULL, e);
    CHECK_EQ_STR(e, "W/\"65-1a23bd7194a\"");
    http_etag(0, 0, e);
    CHECK_EQ_STR(e, "W/\"0-0\"");
    http_etag(UINT64_MAX, 0x10, e);
    CHECK_EQ_STR(e, "W/\"ffffffffffffffff-10\"");
}

static void test_not_modified(void)
{
    /* 2026-12-03T12:00:00.500Z */
    uint64_t mtime = 1796299200500ULL;
    char etag[64];
    bool add;

    http_etag(10, mtime, etag);
    /* If-Modified-Since: mtime truncated to seconds, <= date -> 304; no ETag */
    CHECK(http_not_modified("Thu, 03 Dec 2026 12:00:00 GMT", NULL, NULL, true, 10, mtime, etag, &add));
    CHECK(!add);
    CHECK(!http_not_modified("Thu, 03 Dec 2026 11:59:59 GMT", NULL, NULL, true, 10, mtime, etag, &add));
    CHECK(!http_not_modified("not a date", NULL, NULL, true, 10, mtime, etag, &add));
    CHECK(!add);
    /* If-Modified-Since wins over If-None-Match */
    CHECK(!http_not_modified("Thu, 03 Dec 2026 11:00:00 GMT", "*", NULL, true, 10, mtime, etag, &add));
    /* ETags */
    CHECK(!http_not_modified(NULL, NULL, NULL, true, 10, mtime, etag, &add));
    CHECK(add);
    CHECK(http_not_modified(NULL, etag, NULL, true, 10, mtime, etag, &add));
    CHECK(http_not_modified(NULL, "*", NULL, true, 10, mtime, etag, &add));
    CHECK(http_not_modified(NULL, "\"other\", W/\"x\" ,  *", NULL, true, 10, mtime, etag, &add));
    {
        char list[200];

        snprintf(list, sizeof(list), "\"a\",%s", etag);
        CHECK(http_not_modified(NULL, list, NULL, true, 10, mtime, etag, &add));
        /* "W/" + the weak tag also matches */
        snprintf(list, sizeof(list), "W/%s", etag);
        CHECK(http_not_modified(NULL, list, NULL, true, 10, mtime, etag, &add));
    }
    CHECK(!http_not_modified(NULL, "W/\"9-1\"", NULL, true, 10, mtime, etag, &add));
    /* Cache-Control: no-cache disables the 304 */
    CHECK(!http_not_modified(NULL, etag, "no-cache", true, 10, mtime, etag, &add));
    CHECK(!http_not_modified(NULL, etag, "max-age=0, no-cache", true, 10, mtime, etag, &add));
    /* ETags off: no ETag header, no 304 from If-None-Match */
    CHECK(!http_not_modified(NULL, etag, NULL, false, 10, mtime, etag, &add));
    CHECK(!add);
}

static void test_mime(void)
{
    CHECK_EQ_STR(http_mime_lookup("index.html"), "text/html");
    CHECK_EQ_STR(http_mime_lookup("/srv/public/css/x.css"), "text/css");
    CHECK_EQ_STR(http_mime_lookup("png"), "image/png");
    CHECK_EQ_STR(http_mime_lookup("a.JS"), "application/javascript");
    CHECK_EQ_STR(http_mime_lookup("logo/actionhero.png"), "image/png");
    CHECK_EQ_STR(http_mime_lookup("favicon.ico"), "image/vnd.microsoft.icon");
    CHECK_EQ_STR(http_mime_lookup("a.json"), "application/json");
    CHECK_EQ_STR(http_mime_lookup("a.svg"), "image/svg+xml");
    CHECK_EQ_STR(http_mime_lookup("a.txt"), "text/plain");
    /* the extension quirk: "/api/v1.2/x" gives "2/x", which has a path and
     * no dot, so no type */
    CHECK(http_mime_lookup("2/x") == NULL);
    CHECK(http_mime_lookup("file.unknownext") == NULL);
    CHECK(http_mime_lookup("Makefile") == NULL);
}

int main(void)
{
    test_normalize();
    test_containment();
    test_etag();
    test_not_modified();
    test_mime();
    return check_done();
}
