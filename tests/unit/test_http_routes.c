/*
 * test_http_routes.c - the route table and matchURL (web.md §5), with
 * every example of §5.3 and the quirks: "contains" literal prefix,
 * unanchored JS regexes, case-insensitive literals, trailing parts, the
 * `all` fan-out, variable decoding, first match wins.
 */
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "app/app.h"
#include "core/json_out.h"
#include "http/http_internal.h"
#include "http/routes.h"

#include "check.h"

static ah_app_t *app;

/* Match "a/b/c" (split on '/', no prefix handling) in `method`; returns
 * the action (or "dir:<dir>") and the variables as compact JSON. */
static const char *match(const char *method, const char *path, char *vars_out, size_t n)
{
    json_t *segs = json_array(), *vars = NULL;
    const char *p = path;
    const struct route *r;

    if (*p) {
        for (;;) {
            const char *slash = strchr(p, '/');
            size_t l = slash ? (size_t)(slash - p) : strlen(p);

            json_array_append_new(segs, json_stringn(p, l));
            if (!slash)
                break;
            p = slash + 1;
        }
    }
    r = routes_match(app, method, segs, &vars);
    json_decref(segs);
    vars_out[0] = '\0';
    if (r == NULL) {
        CHECK(vars == NULL);
        return NULL;
    }
    {
        char *s = json_out_str(vars, 0, 0, NULL);

        snprintf(vars_out, n, "%s", s);
        free(s);
    }
    json_decref(vars);
    return r->action ? r->action : r->dir;
}

#define MATCH(method, path, want_action, want_vars) do { \
        char v_[512]; const char *m_ = match(method, path, v_, sizeof v_); \
        CHECK_EQ_STR(m_ ? m_ : "(none)", want_action); \
        if (m_) CHECK_EQ_STR(v_, want_vars); \
    } while (0)

static void reset(void)
{
    routes_free(app);
}

static void test_spec_examples(void)
{
    reset();
    CHECK_EQ_INT(routes_register(app, "get", "/user/:id(^\\d{3}$)", "user", NULL, false, NULL), 0);
    CHECK_EQ_INT(routes_register(app, "get", "/pfx/thing-:id", "thing", NULL, false, NULL), 0);
    CHECK_EQ_INT(routes_register(app, "get", "/file/:id", "file", NULL, true, NULL), 0);
    CHECK_EQ_INT(routes_register(app, "get", "/Mixed/Case", "mixed", NULL, false, NULL), 0);
    CHECK_EQ_INT(routes_register(app, "get", "/v:apiVersion/login", "login", NULL, false, NULL), 0);

    MATCH("get", "user/123", "user", "{\"id\":\"123\"}");
    MATCH("get", "user/1234", "(none)", "");
    MATCH("get", "pfx/thing-77", "thing", "{\"id\":\"77\"}");
    MATCH("get", "file/a/b/c.txt", "file", "{\"id\":\"a/b/c.txt\"}");
    MATCH("get", "mixed/case", "mixed", "{}");
    MATCH("get", "MIXED/CASE", "mixed", "{}");
    MATCH("get", "v2/login", "login", "{\"apiVersion\":\"2\"}");
    MATCH("get", "vthree/login", "login", "{\"apiVersion\":\"three\"}");
    /* "contains", not "starts with": the first occurrence is removed */
    MATCH("get", "xv1/login", "login", "{\"apiVersion\":\"x1\"}");
    MATCH("get", "1/login", "(none)", "");
    /* segment counts must agree without trailing parts */
    MATCH("get", "user", "(none)", "");
    MATCH("get", "mixed/case/extra", "(none)", "");
    /* the file route needs at least its own segment */
    MATCH("get", "file", "(none)", "");
    MATCH("get", "file/x", "file", "{\"id\":\"x\"}");
    /* other method lists are separate */
    MATCH("post", "user/123", "(none)", "");
    MATCH("trace", "user/123", "(none)", "");
    MATCH("propfind", "user/123", "(none)", "");
}

static void test_regex_semantics(void)
{
    reset();
    /* unanchored unless the regex anchors itself */
    CHECK_EQ_INT(routes_register(app, "get", "/n/:id(\\d+)", "digits", NULL, false, NULL), 0);
    CHECK_EQ_INT(routes_register(app, "get", "/a/:id(^\\d+$)", "anchored", NULL, false, NULL), 0);
    CHECK_EQ_INT(routes_register(app, "get", "/u/:c(\\u0041)", "uescape", NULL, false, NULL), 0);
    CHECK_EQ_INT(routes_register(app, "get", "/alt/:w(cat|dog)", "alt", NULL, false, NULL), 0);
    MATCH("get", "n/abc123", "digits", "{\"id\":\"abc123\"}");
    MATCH("get", "n/abc", "(none)", "");
    MATCH("get", "a/123", "anchored", "{\"id\":\"123\"}");
    MATCH("get", "a/x123", "(none)", "");
    MATCH("get", "u/xAx", "uescape", "{\"c\":\"xAx\"}");
    MATCH("get", "u/a", "(none)", "");
    MATCH("get", "alt/hotdog", "alt", "{\"w\":\"hotdog\"}");
    /* an invalid regex is refused at registration */
    CHECK_EQ_INT(routes_register(app, "get", "/bad/:id(a(b)", "bad", NULL, false, NULL), AH_EINVAL);
    CHECK_EQ_INT(routes_count(app, "get"), 4);
}

static void test_lists_and_order(void)
{
    const struct route *r;

    reset();
    CHECK_EQ_INT(routes_register(app, "all", "/everywhere", "all1", NULL, false, NULL), 0);
    CHECK_EQ_INT(routes_count(app, "all"), 1);
    CHECK_EQ_INT(routes_count(app, "head"), 1);
    CHECK_EQ_INT(routes_count(app, "get"), 1);
    CHECK_EQ_INT(routes_count(app, "patch"), 1);
    CHECK_EQ_INT(routes_count(app, "post"), 1);
    CHECK_EQ_INT(routes_count(app, "put"), 1);
    CHECK_EQ_INT(routes_count(app, "delete"), 1);
    CHECK_EQ_INT(routes_register(app, "get", "/:any", "second", NULL, false, NULL), 0);
    CHECK_EQ_INT(routes_register(app, "get", "/everywhere", "third", NULL, false, NULL), 0);
    /* first matching entry in list order */
    MATCH("get", "everywhere", "all1", "{}");
    MATCH("get", "other", "second", "{\"any\":\"other\"}");
    MATCH("delete", "everywhere", "all1", "{}");
    /* HEAD searches only the head list (which has the `all` entry) */
    MATCH("head", "other", "(none)", "");
    CHECK_EQ_INT(routes_register(app, "propfind", "/x", "x", NULL, false, NULL), AH_EINVAL);
    r = routes_at(app, "get", 1);
    CHECK(r != NULL && strcmp(r->action, "second") == 0);
    CHECK(routes_at(app, "get", 3) == NULL);
    {
        char *s = json_out_str(r->json, 0, 0, NULL);

        CHECK_EQ_STR(s, "{\"path\":\"/:any\",\"matchTrailingPathParts\":false,\"action\":\"second\"}");
        free(s);
    }
}

static void test_root_and_empty(void)
{
    reset();
    CHECK_EQ_INT(routes_register(app, "get", "/", "root", NULL, false, NULL), 0);
    CHECK_EQ_INT(routes_register(app, "get", "/x/:y", "xy", NULL, false, NULL), 0);
    CHECK_EQ_INT(routes_register(app, "get", "/t/:rest", "trail", NULL, true, NULL), 0);
    CHECK_EQ_INT(routes_register(app, "get", "/lit/end", "litend", NULL, true, NULL), 0);
    /* "/" has no segments and matches the bare prefix */
    MATCH("get", "", "root", "{}");
    /* an empty path part never matches */
    MATCH("get", "x/", "(none)", "");
    /* trailing parts keep empty middle parts */
    MATCH("get", "t/a//b", "trail", "{\"rest\":\"a//b\"}");
    /* the literal is compared with its own path part, the rest is ignored */
    MATCH("get", "lit/end/more/parts", "litend", "{}");
    MATCH("get", "lit/other/end", "(none)", "");
}

static void test_decoding(void)
{
    reset();
    CHECK_EQ_INT(routes_register(app, "get", "/d/:v", "dec", NULL, false, NULL), 0);
    CHECK_EQ_INT(routes_register(app, "get", "/e/:a/:b", "two", NULL, false, NULL), 0);
    CHECK_EQ_INT(routes_register(app, "get", "/n/:na%20me", "name", NULL, false, NULL), 0);
    MATCH("get", "d/a%20b+c", "dec", "{\"v\":\"a b c\"}");
    MATCH("get", "d/%C3%A9t%C3%A9", "dec", "{\"v\":\"\xc3\xa9t\xc3\xa9\"}");
    /* a malformed escape skips the variable, the route still matches */
    MATCH("get", "d/%E0%A4%A", "dec", "{}");
    MATCH("get", "d/%ZZ", "dec", "{}");
    MATCH("get", "e/%ff/ok", "two", "{\"b\":\"ok\"}");
    /* names are decoded too */
    MATCH("get", "n/v", "name", "{\"na me\":\"v\"}");
}

static void test_api_version(void)
{
    const struct route *r;
    json_t *segs = json_pack("[s]", "old"), *vars = NULL;

    reset();
    CHECK_EQ_INT(routes_register(app, "get", "/old", "login", "1", false, NULL), 0);
    CHECK_EQ_INT(routes_register(app, "get", "/static", NULL, NULL, false, "/srv/static"), 0);
    r = routes_match(app, "get", segs, &vars);
    CHECK(r != NULL);
    if (r) {
        CHECK_EQ_STR(r->api_version, "1");
        CHECK(json_is_string(routes_api_version(r)));
    }
    json_decref(vars);
    json_decref(segs);
    MATCH("get", "static", "/srv/static", "{}");
    r = routes_at(app, "get", 1);
    CHECK(r && r->action == NULL && strcmp(r->dir, "/srv/static") == 0);
}

int main(void)
{
    uv_loop_t loop;

    uv_loop_init(&loop);
    app = app_new(&loop);
    test_spec_examples();
    test_regex_semantics();
    test_lists_and_order();
    test_root_and_empty();
    test_decoding();
    test_api_version();
    routes_free(app);
    app_free(app);
    CHECK_EQ_INT(uv_loop_close(&loop), 0);
    return check_done();
}
