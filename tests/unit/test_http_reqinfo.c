/*
 * test_http_reqinfo.c - cookies and the fingerprint cookie (connection.md
 * §2.1), remote IP/port from headers (§2.3), path splitting (web.md §4.1),
 * the "payload" merge rule (§6.1), JSONP escaping and the error status
 * mapping (§6.4-§6.5).
 */
#include <stdlib.h>
#include <string.h>

#include "core/json_out.h"
#include "dispatch/dispatch.h"
#include "http/http_internal.h"

#include "check.h"

static char *dump(json_t *v)
{
    static char *last;

    free(last);
    last = v ? json_out_str(v, 0, 0, NULL) : strdup("(null)");
    return last;
}

static void test_cookies(void)
{
    const char *s = " sessionID = abc ; other=x=y;flag; =v;;last=1";
    json_t *c = http_parse_cookies(s, strlen(s));

    CHECK_EQ_STR(dump(c), "{\"sessionID\":\"abc\",\"other\":\"x\",\"flag\":\"\",\"\":\"\",\"last\":\"1\"}");
    json_decref(c);
    c = http_parse_cookies("a=1; a=2", 8);
    CHECK_EQ_STR(dump(c), "{\"a\":\"2\"}");
    json_decref(c);
}

static void test_fingerprint_cookie(void)
{
    struct buf b = BUF_INIT;
    json_t *settings = json_pack("{s:s, s:i}", "path", "/", "expires", 3600000);
    /* 2026-12-03T12:18:16.000Z */
    uint64_t now = 1796300296000ULL;

    http_fingerprint_cookie("sessionID", "0123abc", settings, now, &b);
    CHECK_EQ_STR(b.data, "sessionID=0123abc;path=/;expires=Thu, 03 Dec 2026 13:18:16 GMT;");
    buf_reset(&b);
    json_decref(settings);
    /* falsy values render as a bare key, in insertion order */
    settings = json_pack("{s:b, s:s, s:b, s:s}", "httpOnly", 1, "domain", "", "secure", 0, "sameSite", "Lax");
    http_fingerprint_cookie("k", "fp", settings, now, &b);
    CHECK_EQ_STR(b.data, "k=fp;httpOnly=true;domain;secure;sameSite=Lax;");
    buf_reset(&b);
    json_decref(settings);
    http_fingerprint_cookie("k", "fp", NULL, now, &b);
    CHECK_EQ_STR(b.data, "k=fp");
    buf_reset(&b);
    settings = json_string("path=/x;");
    http_fingerprint_cookie("k", "fp", settings, now, &b);
    CHECK_EQ_STR(b.data, "k=fp;path=/x;");
    buf_reset(&b);
    json_decref(settings);
    settings = json_object();
    http_fingerprint_cookie("k", "fp", settings, now, &b);
    CHECK_EQ_STR(b.data, "k=fp;");
    json_decref(settings);
    buf_release(&b);
}

#define ADDR(xff, xfp, xri, rc_want, ip_want, port_want, str_want) do { \
        struct remote_addr ra_; \
        int rc_ = http_remote_addr(xff, xfp, xri, &ra_); \
        CHECK_EQ_INT(rc_, rc_want); \
        if (rc_ == 0) { \
            CHECK_EQ_STR(ra_.have_ip ? ra_.ip : "", ip_want); \
            CHECK_EQ_STR(ra_.have_port ? ra_.port : "", port_want); \
            if (ra_.have_port) CHECK_EQ_INT(ra_.port_is_string, str_want); \
        } \
    } while (0)

static void test_remote_addr(void)
{
    ADDR(NULL, NULL, NULL, 0, "", "", 0);
    ADDR("10.0.0.1", NULL, NULL, 0, "10.0.0.1", "", 0);
    ADDR("10.0.0.1, 172.16.0.1", NULL, NULL, 0, "10.0.0.1", "", 0);
    ADDR("10.0.0.1:5555", NULL, NULL, 0, "10.0.0.1", "5555", 1);
    ADDR("::ffff:10.0.0.2", NULL, NULL, 0, "10.0.0.2", "", 0);
    ADDR("::ffff:10.0.0.2:81", NULL, NULL, 0, "10.0.0.2", "81", 1);
    /* neither '.' nor ':' counts as IPv4 */
    ADDR("unknown", NULL, NULL, 0, "unknown", "", 0);
    /* IPv6 */
    ADDR("2001:db8::1", NULL, NULL, 0, "2001:db8::1", "80", 0);
    ADDR("[2001:db8::1]:8443", NULL, NULL, 0, "2001:db8::1", "8443", 0);
    ADDR("[fe80::1%eth0]:9", NULL, NULL, 0, "fe80::1%eth0", "9", 0);
    ADDR("[not:an:address", NULL, NULL, 0, "[not:an:address", "80", 0);
    ADDR("[zz::1]:80", NULL, NULL, -1, "", "", 0);
    ADDR("[::1]", NULL, NULL, -1, "", "", 0);
    /* X-Forwarded-Port overrides the port (a string), X-Real-IP the IP */
    ADDR("10.0.0.1:5555", "443", NULL, 0, "10.0.0.1", "443", 1);
    ADDR("[::1]:80", "443", "192.168.1.9", 0, "192.168.1.9", "443", 1);
    ADDR(NULL, NULL, "192.168.1.9", 0, "192.168.1.9", "", 0);
    ADDR(NULL, "8080", NULL, 0, "", "8080", 1);
}

static void test_split_path(void)
{
    json_t *a = http_split_path("//api//status", 13);

    CHECK_EQ_STR(dump(a), "[\"api\",\"\",\"status\"]");
    json_decref(a);
    a = http_split_path("/api/status/", 12);
    CHECK_EQ_STR(dump(a), "[\"api\",\"status\"]");
    json_decref(a);
    a = http_split_path("/a//", 4);
    CHECK_EQ_STR(dump(a), "[\"a\",\"\"]");
    json_decref(a);
    a = http_split_path("/", 1);
    CHECK_EQ_STR(dump(a), "[]");
    json_decref(a);
    a = http_split_path("////", 4);
    CHECK_EQ_STR(dump(a), "[]");
    json_decref(a);
}

static void test_payload_rule(void)
{
    json_t *params = json_object(), *v;

    v = json_pack("{s:s, s:s}", "0", "a", "1", "b");
    http_fill_params(params, v);
    json_decref(v);
    CHECK_EQ_STR(dump(params), "{\"payload\":[\"a\",\"b\"]}");
    /* keys given out of order still make an index-ordered array */
    v = json_pack("{s:i, s:i, s:i}", "2", 3, "0", 1, "1", 2);
    json_object_clear(params);
    http_fill_params(params, v);
    json_decref(v);
    CHECK_EQ_STR(dump(params), "{\"payload\":[1,2,3]}");
    /* not exactly 0..n-1: merged key by key */
    v = json_pack("{s:s, s:s}", "0", "a", "2", "b");
    json_object_clear(params);
    http_fill_params(params, v);
    json_decref(v);
    CHECK_EQ_STR(dump(params), "{\"0\":\"a\",\"2\":\"b\"}");
    v = json_pack("{s:s, s:s}", "0", "a", "x", "b");
    json_object_clear(params);
    http_fill_params(params, v);
    json_decref(v);
    CHECK_EQ_STR(dump(params), "{\"0\":\"a\",\"x\":\"b\"}");
    v = json_pack("{s:s, s:s}", "00", "a", "1", "b");
    CHECK(http_collapse_to_array(v) == NULL);
    json_decref(v);
    v = json_object();
    CHECK(http_collapse_to_array(v) == NULL);
    json_decref(v);
    /* later merges win */
    json_object_clear(params);
    v = json_pack("{s:s, s:s}", "k", "query", "q", "1");
    http_fill_params(params, v);
    json_decref(v);
    v = json_pack("{s:s}", "k", "body");
    http_fill_params(params, v);
    json_decref(v);
    CHECK_EQ_STR(dump(params), "{\"k\":\"body\",\"q\":\"1\"}");
    json_decref(params);
}

static void test_callback_escape(void)
{
    struct buf b = BUF_INIT;

    http_callback_escape("alert('hi');foo", &b);
    CHECK_EQ_STR(b.data, "alert&#39;hi&#39;;foo");
    buf_reset(&b);
    http_callback_escape("<a href=\"x\">&(y)</a>", &b);
    CHECK_EQ_STR(b.data, "&lt;a href=&quot;x&quot;&gt;&amp;y&lt;/a&gt;");
    buf_release(&b);
}

static void test_error_status(void)
{
    json_t *e = json_pack("{s:i}", "code", 418), *s = json_string("boom");
    json_t *str_code = json_pack("{s:s}", "code", "403abc"), *bad = json_pack("{s:i}", "code", 42);
    json_t *real = json_pack("{s:f}", "code", 401.9);

    CHECK_EQ_INT(http_error_status(e, AH_STATUS_COMPLETE, 200, true, 500, true), 418);
    CHECK_EQ_INT(http_error_status(str_code, AH_STATUS_COMPLETE, 200, true, 500, true), 403);
    CHECK_EQ_INT(http_error_status(real, AH_STATUS_COMPLETE, 200, true, 500, true), 401);
    CHECK_EQ_INT(http_error_status(bad, AH_STATUS_COMPLETE, 200, true, 500, true), 500);
    CHECK_EQ_INT(http_error_status(s, AH_STATUS_UNKNOWN_ACTION, 200, true, 500, true), 404);
    CHECK_EQ_INT(http_error_status(s, AH_STATUS_MISSING_PARAMS, 200, true, 500, true), 422);
    CHECK_EQ_INT(http_error_status(s, AH_STATUS_VALIDATOR_ERRORS, 200, true, 500, true), 500);
    CHECK_EQ_INT(http_error_status(s, AH_STATUS_GENERIC_ERROR, 200, true, 503, true), 503);
    /* a code set by the action (setStatusCode) is kept */
    CHECK_EQ_INT(http_error_status(e, AH_STATUS_COMPLETE, 201, true, 500, true), 201);
    /* returnErrorCodes false, or no error: unchanged */
    CHECK_EQ_INT(http_error_status(e, AH_STATUS_UNKNOWN_ACTION, 200, false, 500, true), 200);
    CHECK_EQ_INT(http_error_status(NULL, AH_STATUS_COMPLETE, 200, true, 500, false), 200);
    json_decref(e);
    json_decref(s);
    json_decref(str_code);
    json_decref(bad);
    json_decref(real);
}

int main(void)
{
    test_cookies();
    test_fingerprint_cookie();
    test_remote_addr();
    test_split_path();
    test_payload_rule();
    test_callback_escape();
    test_error_status();
    return check_done();
}
