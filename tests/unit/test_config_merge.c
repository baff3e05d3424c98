/*
 * test_config_merge.c - Actionhero's hashMerge rules, dotted paths, and the
 * error texts of config.errors with their placeholders.
 */
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "app/app.h"
#include "check.h"
#include "config/config.h"
#include "config/config_internal.h"
#include "core/core.h"

static json_t *J(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &e);

    if (v == NULL) {
        printf("bad test JSON: %s: %s\n", text, e.text);
        abort();
    }
    return v;
}

/* merge `b` into `a`, compare with `want` */
static void merge_case(const char *a, const char *b, const char *want)
{
    json_t *x = J(a), *y = J(b), *w = J(want);
    char *got, *exp;

    config_merge(x, y);
    got = json_dumps(x, JSON_COMPACT | JSON_SORT_KEYS);
    exp = json_dumps(w, JSON_COMPACT | JSON_SORT_KEYS);
    if (!json_equal(x, w))
        printf("# merge %s <- %s\n", a, b);
    CHECK_EQ_STR(got, exp);
    free(got);
    free(exp);
    json_decref(x);
    json_decref(y);
    json_decref(w);
}

static void test_merge(void)
{
    /* objects merge recursively */
    merge_case("{\"a\":{\"x\":1,\"y\":2}}", "{\"a\":{\"y\":3,\"z\":4}}", "{\"a\":{\"x\":1,\"y\":3,\"z\":4}}");
    /* arrays replace, never concatenate */
    merge_case("{\"a\":[1,2,3]}", "{\"a\":[4]}", "{\"a\":[4]}");
    merge_case("{\"a\":[1,2,3]}", "{\"a\":[]}", "{\"a\":[]}");
    /* scalars replace, types may change */
    merge_case("{\"a\":1}", "{\"a\":\"x\"}", "{\"a\":\"x\"}");
    merge_case("{\"a\":{\"x\":1}}", "{\"a\":5}", "{\"a\":5}");
    merge_case("{\"a\":5}", "{\"a\":{\"x\":1}}", "{\"a\":{\"x\":1}}");
    /* null deletes */
    merge_case("{\"a\":1,\"b\":2}", "{\"a\":null}", "{\"b\":2}");
    merge_case("{\"a\":{\"x\":1,\"y\":2}}", "{\"a\":{\"x\":null}}", "{\"a\":{\"y\":2}}");
    merge_case("{\"a\":1}", "{\"zz\":null}", "{\"a\":1}");
    /* an empty object creates, never replaces (hashMerge) */
    merge_case("{\"a\":{\"x\":1}}", "{\"a\":{}}", "{\"a\":{\"x\":1}}");
    merge_case("{\"a\":7}", "{\"a\":{}}", "{\"a\":7}");
    merge_case("{}", "{\"a\":{}}", "{\"a\":{}}");
    /* an object replacing a non-object leaves out its null members */
    merge_case("{\"a\":5}", "{\"a\":{\"x\":null,\"y\":{\"z\":null,\"k\":1}}}", "{\"a\":{\"y\":{\"k\":1}}}");
    /* nulls inside arrays are values */
    merge_case("{}", "{\"a\":[null,\"\"]}", "{\"a\":[null,\"\"]}");
    /* key order: existing keys keep their place, new ones go last */
    {
        json_t *x = J("{\"b\":1,\"a\":2}"), *y = J("{\"c\":3,\"b\":4}");
        const char *k;
        json_t *v;
        char order[8] = "";

        config_merge(x, y);
        json_object_foreach(x, k, v)
            strncat(order, k, 1);
        CHECK_EQ_STR(order, "bac");
        json_decref(x);
        json_decref(y);
    }
    /* the source is copied, not shared */
    {
        json_t *x = J("{}"), *y = J("{\"a\":{\"b\":[1]}}");

        config_merge(x, y);
        json_array_append_new(json_object_get(json_object_get(y, "a"), "b"), json_integer(2));
        CHECK_EQ_INT(json_array_size(config_tree_get(x, "a.b")), 1);
        json_decref(x);
        json_decref(y);
    }
}

static void test_paths(void)
{
    json_t *r = J("{\"web\":{\"port\":8080,\"f\":{\"g\":\"h\"}},\"n\":null}");

    CHECK_EQ_INT(json_integer_value(config_tree_get(r, "web.port")), 8080);
    CHECK_EQ_STR(json_string_value(config_tree_get(r, "web.f.g")), "h");
    CHECK(config_tree_get(r, "web.nope") == NULL);
    CHECK(config_tree_get(r, "web.port.x") == NULL);
    CHECK(config_tree_get(r, "") == NULL);
    CHECK_EQ_INT(config_tree_set(r, "a.b.c", json_integer(1)), 0);
    CHECK_EQ_INT(json_integer_value(config_tree_get(r, "a.b.c")), 1);
    CHECK_EQ_INT(config_tree_set(r, "web.port.x", json_integer(1)), -1);  /* through a number */
    CHECK_EQ_INT(config_tree_set(r, "a..b", json_integer(1)), -1);
    CHECK_EQ_INT(config_tree_set(r, "a.b.c", json_null()), 0);            /* null deletes */
    CHECK(config_tree_get(r, "a.b.c") == NULL);
    CHECK(json_is_object(config_tree_get(r, "a.b")));
    CHECK_EQ_INT(config_tree_set(r, "x.y.z", NULL), 0);                   /* nothing to delete */
    CHECK(config_tree_get(r, "x") == NULL);
    json_decref(r);
}

static void test_origins(void)
{
    struct config_origins o = {NULL};
    json_t *dst = J("{\"web\":{\"port\":1}}"), *src = J("{\"web\":{\"port\":2,\"fo\":{\"a\":1}}}");

    config_merge_from(dst, src, "", &o, "config/web.json");
    CHECK_EQ_STR(config_origin_get(&o, "web.port"), "config/web.json");
    CHECK_EQ_STR(config_origin_get(&o, "web.fo.a"), "config/web.json");
    CHECK(config_origin_get(&o, "web.other") == NULL);
    config_origin_set(&o, "web.fo", "option --set");
    CHECK_EQ_STR(config_origin_get(&o, "web.fo.a"), "option --set");
    CHECK_EQ_STR(config_origin_get(&o, "web.port"), "config/web.json");
    json_decref(o.map);
    json_decref(dst);
    json_decref(src);
}

static void test_error_texts(void)
{
    uv_loop_t loop;
    ah_app_t *app;
    char *s;

    uv_loop_init(&loop);
    app = app_new(&loop);

    /* without a loaded config: the built-in texts */
    s = config_error_text(app, "missingParams", "param", "key", NULL);
    CHECK_EQ_STR(s, "key is a required parameter for this action");
    free(s);

    app->config = config_defaults();
    s = config_error_text(app, "missingParams", "param", "key", NULL);
    CHECK_EQ_STR(s, "key is a required parameter for this action");
    free(s);
    s = config_error_text(app, "unsupportedServerType", "type", "websocket", NULL);
    CHECK_EQ_STR(s, "this action does not support the websocket connection type");
    free(s);
    s = config_error_text(app, "verbNotFound", "verb", "nope", NULL);
    CHECK_EQ_STR(s, "verb not found or not allowed (nope)");
    free(s);
    s = config_error_text(app, "verbNotAllowed", "verb", "roomAdd", NULL);
    CHECK_EQ_STR(s, "verb not found or not allowed (roomAdd)");
    free(s);
    s = config_error_text(app, "connectionNotInRoom", "room", "defaultRoom", NULL);
    CHECK_EQ_STR(s, "connection not in this room (defaultRoom)");
    free(s);
    s = config_error_text(app, "connectionAlreadyInRoom", "room", "r1", NULL);
    CHECK_EQ_STR(s, "connection already in this room (r1)");
    free(s);
    s = config_error_text(app, "fileReadError", "error", "EACCES: permission denied", NULL);
    CHECK_EQ_STR(s, "error reading file: EACCES: permission denied");
    free(s);
    s = config_error_text(app, "unknownAction", NULL);
    CHECK_EQ_STR(s, "unknown action or invalid apiVersion");
    free(s);
    s = config_error_text(app, "serverShuttingDown", NULL);
    CHECK_EQ_STR(s, "the server is shutting down");
    free(s);
    s = config_error_text(app, "tooManyPendingActions", NULL);
    CHECK_EQ_STR(s, "you have too many pending requests");
    free(s);
    s = config_error_text(app, "fileNotFound", NULL);
    CHECK_EQ_STR(s, "that file is not found");
    free(s);
    s = config_error_text(app, "fileNotProvided", NULL);
    CHECK_EQ_STR(s, "file is a required param to send a file");
    free(s);
    s = config_error_text(app, "connectionRoomAndMessage", NULL);
    CHECK_EQ_STR(s, "both room and message are required");
    free(s);
    s = config_error_text(app, "connectionRoomHasBeenDeleted", NULL);
    CHECK_EQ_STR(s, "this room has been deleted");
    free(s);
    s = config_error_text(app, "connectionRoomNotExist", NULL);
    CHECK_EQ_STR(s, "room does not exist");
    free(s);
    s = config_error_text(app, "connectionRoomExists", NULL);
    CHECK_EQ_STR(s, "room exists");
    free(s);
    s = config_error_text(app, "connectionRoomRequired", NULL);
    CHECK_EQ_STR(s, "a room is required");
    free(s);
    s = config_error_text(app, "invalidParams", "error", "first error", NULL);
    CHECK_EQ_STR(s, "first error");
    free(s);

    /* user texts: placeholders anywhere, repeated, unknown ones kept */
    config_set(app, "errors.missingParams", json_string("{param}! missing: {param} ({other}) {"));
    s = config_error_text(app, "missingParams", "param", "k", NULL);
    CHECK_EQ_STR(s, "k! missing: k ({other}) {");
    free(s);
    /* a NULL value reads as undefined, like a JS template */
    s = config_error_text(app, "missingParams", "param", NULL, NULL);
    CHECK_EQ_STR(s, "undefined! missing: undefined ({other}) {");
    free(s);
    /* a non-string entry falls back to the built-in text */
    config_set(app, "errors.missingParams", json_integer(5));
    s = config_error_text(app, "missingParams", "param", "k", NULL);
    CHECK_EQ_STR(s, "k is a required parameter for this action");
    free(s);
    /* an unknown key: the key itself */
    s = config_error_text(app, "noSuchError", NULL);
    CHECK_EQ_STR(s, "noSuchError");
    free(s);
    /* values are not re-scanned for placeholders */
    s = config_error_text(app, "verbNotFound", "verb", "{verb}", NULL);
    CHECK_EQ_STR(s, "verb not found or not allowed ({verb})");
    free(s);

    app_free(app);
    CHECK_EQ_INT(uv_loop_close(&loop), 0);
}

static void test_lookups(void)
{
    uv_loop_t loop;
    ah_app_t *app;

    uv_loop_init(&loop);
    app = app_new(&loop);
    app->config = J("{\"a\":{\"i\":5,\"r\":2.5,\"s\":\"x\",\"t\":true,\"z\":0,\"e\":\"\",\"n\":null}}");
    CHECK_EQ_INT(config_int(app, "a.i", 1), 5);
    CHECK_EQ_INT(config_int(app, "a.r", 1), 2);
    CHECK_EQ_INT(config_int(app, "a.s", 7), 7);
    CHECK_EQ_INT(config_int(app, "a.missing", 7), 7);
    CHECK(config_real(app, "a.r", 0) == 2.5);
    CHECK(config_real(app, "a.i", 0) == 5.0);
    CHECK_EQ_STR(config_str(app, "a.s", "d"), "x");
    CHECK_EQ_STR(config_str(app, "a.i", "d"), "d");
    CHECK(config_bool(app, "a.t", false));
    CHECK(!config_bool(app, "a.z", true));
    CHECK(!config_bool(app, "a.e", true));
    CHECK(!config_bool(app, "a.n", true));
    CHECK(config_bool(app, "a.missing", true));
    CHECK(config_bool(app, "a.s", false));
    CHECK(ah_config(app, "a.i") == config_get(app, "a.i"));
    CHECK_EQ_INT(config_set(app, "a.i", json_integer(9)), 0);
    CHECK_EQ_INT(config_int(app, "a.i", 1), 9);
    CHECK_EQ_INT(config_set(app, "a.i.j", json_integer(9)), AH_EINVAL);
    CHECK_EQ_INT(config_set(app, "a.i", NULL), 0);
    CHECK(config_get(app, "a.i") == NULL);
    app_free(app);
    CHECK_EQ_INT(uv_loop_close(&loop), 0);
}

/* config_get remembers answers: every way a tree can change must be seen,
 * and one path buffer reused for another path must not return the old
 * answer. */
static void test_lookup_memo(void)
{
    uv_loop_t loop;
    ah_app_t *app, *other;
    char path[64];
    int i;

    uv_loop_init(&loop);
    app = app_new(&loop);
    other = app_new(&loop);
    app->config = J("{\"a\":{\"i\":5,\"s\":\"x\"},\"b\":{\"i\":6}}");
    other->config = J("{\"a\":{\"i\":50}}");
    for (i = 0; i < 3; i++) {                  /* hits after the first */
        CHECK_EQ_INT(config_int(app, "a.i", 0), 5);
        CHECK_EQ_INT(config_int(other, "a.i", 0), 50); /* same path, other tree */
    }
    strcpy(path, "a.i");
    CHECK_EQ_INT(config_int(app, path, 0), 5);
    strcpy(path, "b.i");                       /* same address, new text */
    CHECK_EQ_INT(config_int(app, path, 0), 6);
    {
        json_t *src = J("{\"a\":{\"i\":7}}");

        config_merge(app->config, src);
        json_decref(src);
    }
    CHECK_EQ_INT(config_int(app, "a.i", 0), 7); /* merge */
    CHECK_EQ_INT(config_set(app, "a.i", json_integer(8)), 0);
    CHECK_EQ_INT(config_int(app, "a.i", 0), 8); /* set */
    json_object_set_new(json_object_get(app->config, "a"), "i", json_integer(9));
    config_changed();
    CHECK_EQ_INT(config_int(app, "a.i", 0), 9); /* direct change + config_changed */
    CHECK_EQ_INT(config_int(app, "a.missing", 3), 3);
    CHECK_EQ_INT(config_set(app, "a.missing", json_integer(4)), 0);
    CHECK_EQ_INT(config_int(app, "a.missing", 3), 4); /* a remembered miss is forgotten */
    json_decref(app->config);                   /* a new tree at maybe the same address */
    config_changed();
    app->config = J("{\"a\":{\"i\":10}}");
    CHECK_EQ_INT(config_int(app, "a.i", 0), 10);
    /* many distinct paths: no stale answers when sets overflow */
    for (i = 0; i < 500; i++) {
        char k[32];

        snprintf(k, sizeof(k), "p.k%d", i);
        config_set(app, k, json_integer(i));
    }
    for (i = 0; i < 500; i++) {
        char k[32];

        snprintf(k, sizeof(k), "p.k%d", i);
        if (config_int(app, k, -1) != i)
            break;
    }
    CHECK_EQ_INT(i, 500);
    app_free(app);
    app_free(other);
    CHECK_EQ_INT(uv_loop_close(&loop), 0);
}

static void test_option_table(void)
{
    size_t n, i;
    const struct config_option *opts = config_options(&n);
    json_t *d = config_defaults();
    int bad = 0;

    CHECK(n > 100);
    for (i = 0; i < n; i++) {
        json_t *v = config_tree_get(d, opts[i].name);

        /* every default parses and sits at its path */
        if (opts[i].dflt && v == NULL && strcmp(opts[i].name, "web.formOptions.uploadDir") != 0) {
            printf("# no default at %s\n", opts[i].name);
            bad++;
        }
        if ((opts[i].type == CONFIG_INT || opts[i].type == CONFIG_NUM) && opts[i].min > opts[i].max) {
            printf("# bad range at %s\n", opts[i].name);
            bad++;
        }
        if (opts[i].type == CONFIG_INT && v && (json_integer_value(v) < opts[i].min || json_integer_value(v) > opts[i].max)) {
            printf("# default out of range at %s\n", opts[i].name);
            bad++;
        }
        if (config_option_find(opts[i].name) != &opts[i]) {
            printf("# duplicate option %s\n", opts[i].name);
            bad++;
        }
    }
    CHECK_EQ_INT(bad, 0);
    CHECK(config_option_find("web.nope") == NULL);
    /* the limits of the brief */
    CHECK_EQ_INT(json_integer_value(config_tree_get(d, "web.maxHeaderBytes")), 16384);
    CHECK_EQ_INT(json_integer_value(config_tree_get(d, "web.maxUrlLength")), 8192);
    CHECK_EQ_INT(json_integer_value(config_tree_get(d, "web.maxBodyBytes")), 20971520);
    CHECK_EQ_INT(json_integer_value(config_tree_get(d, "web.formOptions.maxFields")), 1000);
    CHECK_EQ_INT(json_integer_value(config_tree_get(d, "web.formOptions.maxFieldsSize")), 20971520);
    CHECK_EQ_INT(json_integer_value(config_tree_get(d, "web.formOptions.maxFileSize")), 209715200);
    CHECK_EQ_INT(json_integer_value(config_tree_get(d, "web.headersTimeout")), 60000);
    CHECK_EQ_INT(json_integer_value(config_tree_get(d, "web.requestTimeout")), 300000);
    CHECK_EQ_INT(json_integer_value(config_tree_get(d, "web.keepAliveTimeout")), 5000);
    CHECK_EQ_INT(json_integer_value(config_tree_get(d, "web.maxConnections")), 10000);
    CHECK_EQ_INT(json_integer_value(config_tree_get(d, "web.maxPipelineBytes")), 1048576);
    CHECK_EQ_INT(json_integer_value(config_tree_get(d, "web.maxOutboundBytes")), 8388608);
    CHECK_EQ_INT(json_integer_value(config_tree_get(d, "general.shutdownTimeout")), 30000);
    CHECK_EQ_INT(json_integer_value(config_tree_get(d, "websocket.maxPayload")), 10485760);
    CHECK_EQ_INT(json_integer_value(config_tree_get(d, "websocket.maxOutboundBytes")), 4194304);
    CHECK_EQ_INT(json_integer_value(config_tree_get(d, "websocket.pingInterval")), 30000);
    /* Actionhero's values */
    CHECK_EQ_STR(json_string_value(config_tree_get(d, "general.serverName")), "actionhero");
    CHECK_EQ_STR(json_string_value(config_tree_get(d, "general.apiVersion")), "0.1.0");
    CHECK_EQ_STR(json_string_value(config_tree_get(d, "general.welcomeMessage")), "Welcome to the actionhero api");
    CHECK_EQ_INT(json_integer_value(config_tree_get(d, "web.port")), 8080);
    CHECK_EQ_STR(json_string_value(config_tree_get(d, "web.bindIP")), "::");
    CHECK_EQ_INT(json_integer_value(config_tree_get(d, "web.padding")), 2);
    CHECK(json_is_true(config_tree_get(d, "web.metadataOptions.serverInformation")));
    {
        json_t *want = J("[null,\"\"]");

        CHECK(json_equal(config_tree_get(d, "general.missingParamChecks"), want));
        json_decref(want);
    }
    CHECK(json_is_string(config_tree_get(d, "web.formOptions.uploadDir")));
    {
        /* httpHeaders in Actionhero's order */
        const char *k;
        json_t *v;
        struct buf b = BUF_INIT;

        json_object_foreach(config_tree_get(d, "web.httpHeaders"), k, v) {
            buf_adds(&b, k);
            buf_addc(&b, ';');
        }
        CHECK_EQ_STR(b.data, "X-Powered-By;Access-Control-Allow-Origin;Access-Control-Allow-Methods;"
                             "Access-Control-Allow-Headers;Strict-Transport-Security;");
        buf_release(&b);
    }
    json_decref(d);
}

int main(void)
{
    test_merge();
    test_paths();
    test_origins();
    test_error_texts();
    test_lookups();
    test_lookup_memo();
    test_option_table();
    return check_done();
}
