/*
 * test_log_format.c - the console line (winston's printf format), JS
 * String() of data values, JSON lines, colours, levels, the file sink and
 * the rate limit for peer-triggered warnings.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "app/app.h"
#include "check.h"
#include "config/config.h"
#include "core/core.h"
#include "log/log.h"

/* 2026-12-03T12:18:09.519Z */
#define TS 1796300289519ULL

static json_t *J(const char *text)
{
    json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);

    if (v == NULL)
        abort();
    return v;
}

static char *fmt(int level, const char *data, const char *msg, bool json, bool color)
{
    struct buf b = BUF_INIT;
    json_t *d = data ? J(data) : NULL;

    log_format(&b, TS, level, d, msg, json, color);
    json_decref(d);
    return buf_detach(&b, NULL);
}

#define CHECK_FMT(level, data, msg, json, color, want) do { \
    char *s_ = fmt(level, data, msg, json, color); CHECK_EQ_STR(s_, want); free(s_); } while (0)

static char *js(const char *json)
{
    struct buf b = BUF_INIT;
    json_t *v = J(json);

    buf_adds(&b, "");
    log_js_string(&b, v);
    json_decref(v);
    return buf_detach(&b, NULL);
}

#define CHECK_JS(json, want) do { char *s_ = js(json); CHECK_EQ_STR(s_, want); free(s_); } while (0)

static void test_text(void)
{
    /* the message is followed by one space even without data (winston printf) */
    CHECK_FMT(AH_LOG_NOTICE, NULL, "Starting server: `web` @ http://:::8080", false, false,
              "2026-12-03T12:18:09.519Z - notice: Starting server: `web` @ http://:::8080 \n");
    CHECK_FMT(AH_LOG_INFO, "{\"to\":\"::ffff:127.0.0.1\",\"action\":\"randomNumber\","
                           "\"params\":\"{\\\"action\\\":\\\"randomNumber\\\",\\\"apiVersion\\\":1}\","
                           "\"duration\":1,\"method\":\"GET\",\"pathname\":\"/api/randomNumber\",\"error\":\"\"}",
              "[ action @ web ]", false, false,
              "2026-12-03T12:18:09.519Z - info: [ action @ web ] to=::ffff:127.0.0.1 action=randomNumber "
              "params={\"action\":\"randomNumber\",\"apiVersion\":1} duration=1 method=GET "
              "pathname=/api/randomNumber \n");
    /* null and "" are skipped, insertion order kept, level/message/timestamp keys skipped */
    CHECK_FMT(AH_LOG_WARNING, "{\"b\":null,\"a\":\"\",\"z\":0,\"y\":false,\"message\":\"m\",\"level\":\"x\",\"o\":{\"k\":1},"
                              "\"arr\":[1,null,\"s\",[2,3]],\"r\":0.1}",
              "hello", false, false,
              "2026-12-03T12:18:09.519Z - warning: hello z=0 y=false o=[object Object] arr=1,,s,2,3 r=0.1 \n");
    /* every level name */
    CHECK_FMT(AH_LOG_EMERG, NULL, "m", false, false, "2026-12-03T12:18:09.519Z - emerg: m \n");
    CHECK_FMT(AH_LOG_ALERT, NULL, "m", false, false, "2026-12-03T12:18:09.519Z - alert: m \n");
    CHECK_FMT(AH_LOG_CRIT, NULL, "m", false, false, "2026-12-03T12:18:09.519Z - crit: m \n");
    CHECK_FMT(AH_LOG_ERROR, NULL, "m", false, false, "2026-12-03T12:18:09.519Z - error: m \n");
    CHECK_FMT(AH_LOG_DEBUG, NULL, "m", false, false, "2026-12-03T12:18:09.519Z - debug: m \n");
    /* an unknown severity is logged as info */
    CHECK_FMT(42, NULL, "m", false, false, "2026-12-03T12:18:09.519Z - info: m \n");
    CHECK_FMT(-3, NULL, "m", false, false, "2026-12-03T12:18:09.519Z - info: m \n");
    /* colours: the level only (winston colorize + syslog colours) */
    CHECK_FMT(AH_LOG_NOTICE, NULL, "m", false, true, "2026-12-03T12:18:09.519Z - \x1b[33mnotice\x1b[39m: m \n");
    CHECK_FMT(AH_LOG_INFO, NULL, "m", false, true, "2026-12-03T12:18:09.519Z - \x1b[32minfo\x1b[39m: m \n");
    CHECK_FMT(AH_LOG_ERROR, NULL, "m", false, true, "2026-12-03T12:18:09.519Z - \x1b[31merror\x1b[39m: m \n");
    CHECK_FMT(AH_LOG_DEBUG, NULL, "m", false, true, "2026-12-03T12:18:09.519Z - \x1b[34mdebug\x1b[39m: m \n");
    CHECK_FMT(AH_LOG_ALERT, NULL, "m", false, true, "2026-12-03T12:18:09.519Z - \x1b[33malert\x1b[39m: m \n");
}

static void test_js_string(void)
{
    CHECK_JS("\"abc\"", "abc");
    CHECK_JS("12", "12");
    CHECK_JS("-7", "-7");
    CHECK_JS("1.5", "1.5");
    CHECK_JS("0.1", "0.1");
    CHECK_JS("1e21", "1e+21");
    CHECK_JS("1e-7", "1e-7");
    CHECK_JS("1.2345678901234568e20", "123456789012345680000");
    CHECK_JS("5.0", "5");
    CHECK_JS("true", "true");
    CHECK_JS("false", "false");
    CHECK_JS("null", "null");
    CHECK_JS("{}", "[object Object]");
    CHECK_JS("{\"a\":1}", "[object Object]");
    CHECK_JS("[]", "");
    CHECK_JS("[null]", "");
    CHECK_JS("[1,[2,[3]],{}]", "1,2,3,[object Object]");
}

static void test_json(void)
{
    /* keys sorted (winston's JSON format), data merged, nested sorted */
    CHECK_FMT(AH_LOG_INFO, "{\"to\":\"1.2.3.4\",\"action\":\"status\",\"duration\":23,\"error\":\"\",\"n\":null,"
                           "\"o\":{\"z\":1,\"a\":[{\"y\":1,\"b\":2}]},\"r\":0.5}",
              "[ action @ web ]", true, false,
              "{\"action\":\"status\",\"duration\":23,\"error\":\"\",\"level\":\"info\",\"message\":\"[ action @ web ]\","
              "\"n\":null,\"o\":{\"a\":[{\"b\":2,\"y\":1}],\"z\":1},\"r\":0.5,"
              "\"timestamp\":\"2026-12-03T12:18:09.519Z\",\"to\":\"1.2.3.4\"}\n");
    /* data cannot override level, message or timestamp; colour never applies */
    CHECK_FMT(AH_LOG_ERROR, "{\"level\":\"x\",\"message\":\"y\",\"timestamp\":\"z\"}", "quote \" and \n newline", true, true,
              "{\"level\":\"error\",\"message\":\"quote \\\" and \\n newline\",\"timestamp\":\"2026-12-03T12:18:09.519Z\"}\n");
    /* invalid UTF-8 in the message does not lose the line */
    CHECK_FMT(AH_LOG_INFO, NULL, "bad \xff", true, false,
              "{\"level\":\"info\",\"message\":\"(invalid UTF-8)\",\"timestamp\":\"2026-12-03T12:18:09.519Z\"}\n");
}

static char *fmt_fields(const struct log_field *f, size_t n, bool json)
{
    struct buf b = BUF_INIT;

    log_format_fields(&b, TS, AH_LOG_INFO, f, n, "[ action @ web ]", json, false);
    return buf_detach(&b, NULL);
}

/* The action log line's fields (no json_t object) print exactly what the
 * equivalent data object prints, in both formats. */
static void test_fields(void)
{
    json_t *params = J("{\"action\":\"randomNumber\",\"apiVersion\":1,\"q\":\"a\\\"b\"}");
    struct log_field f[] = {
        {.key = "to", .kind = LOG_F_STR, .s = "127.0.0.1", .len = 9},
        {.key = "action", .kind = LOG_F_STR, .s = "randomNumber", .len = 12},
        {.key = "params", .kind = LOG_F_JSON_TEXT, .v = params},
        {.key = "duration", .kind = LOG_F_INT, .i = -12},
        {.key = "method", .kind = LOG_F_STR, .s = "GET", .len = 3},
        {.key = "pathname", .kind = LOG_F_STR, .s = "/api/\xff", .len = 6}, /* invalid: left out */
        {.key = "error", .kind = LOG_F_STR, .s = "", .len = 0},
        {.key = "response", .kind = LOG_F_JSON_TEXT, .v = NULL},
        {.key = "n", .kind = LOG_F_VALUE, .v = NULL},                       /* undefined: left out */
        {.key = "level", .kind = LOG_F_STR, .s = "x", .len = 1},           /* never overrides */
    };
    char *s;

    s = fmt_fields(f, ARRAY_SIZE(f), false);
    CHECK_EQ_STR(s, "2026-12-03T12:18:09.519Z - info: [ action @ web ] to=127.0.0.1 action=randomNumber "
                    "params={\"action\":\"randomNumber\",\"apiVersion\":1,\"q\":\"a\\\"b\"} duration=-12 "
                    "method=GET response=null \n");
    free(s);
    s = fmt_fields(f, ARRAY_SIZE(f), true);
    CHECK_EQ_STR(s, "{\"action\":\"randomNumber\",\"duration\":-12,\"error\":\"\",\"level\":\"info\","
                    "\"message\":\"[ action @ web ]\",\"method\":\"GET\","
                    "\"params\":\"{\\\"action\\\":\\\"randomNumber\\\",\\\"apiVersion\\\":1,\\\"q\\\":\\\"a\\\\\\\"b\\\"}\","
                    "\"response\":\"null\",\"timestamp\":\"2026-12-03T12:18:09.519Z\",\"to\":\"127.0.0.1\"}\n");
    free(s);
    json_decref(params);
}

/* core_iso_date caches the seconds: changing second, millisecond and a
 * date far apart must all come out right. */
static void test_iso_date(void)
{
    char d[32];
    char small[10];

    core_iso_date(TS, d, sizeof(d));
    CHECK_EQ_STR(d, "2026-12-03T12:18:09.519Z");
    core_iso_date(TS + 1, d, sizeof(d));
    CHECK_EQ_STR(d, "2026-12-03T12:18:09.520Z");
    core_iso_date(TS + 481, d, sizeof(d));
    CHECK_EQ_STR(d, "2026-12-03T12:18:10.000Z");
    core_iso_date(0, d, sizeof(d));
    CHECK_EQ_STR(d, "1970-01-01T00:00:00.000Z");
    core_iso_date(951782400999ULL, d, sizeof(d)); /* leap day 2000 */
    CHECK_EQ_STR(d, "2000-02-29T00:00:00.999Z");
    core_iso_date(TS, small, sizeof(small));      /* truncated, still terminated */
    CHECK_EQ_STR(small, "2026-12-0");
    core_iso_date(253402300800000ULL, d, sizeof(d)); /* year 10000: not cached */
    CHECK_EQ_STR(d, "10000-01-01T00:00:00.000Z");
    core_iso_date(TS, d, sizeof(d));
    CHECK_EQ_STR(d, "2026-12-03T12:18:09.519Z");
}

static void test_core_helpers(void)
{
    char n[24];

    CHECK_EQ_INT(core_fmt_i64(n, 0), 1);
    CHECK_EQ_STR(n, "0");
    core_fmt_i64(n, -9223372036854775807LL - 1);
    CHECK_EQ_STR(n, "-9223372036854775808");
    core_fmt_i64(n, 9223372036854775807LL);
    CHECK_EQ_STR(n, "9223372036854775807");
    core_fmt_i64(n, -42);
    CHECK_EQ_STR(n, "-42");
    CHECK(core_utf8_valid("caf\xc3\xa9 \xf0\x9f\x98\x80", 10));
    CHECK(!core_utf8_valid("\xc0\xaf", 2));          /* overlong '/' */
    CHECK(!core_utf8_valid("\xed\xa0\x80", 3));      /* surrogate */
    CHECK(!core_utf8_valid("\xf4\x90\x80\x80", 4)); /* past U+10FFFF */
    CHECK(!core_utf8_valid("\xe2\x82", 2));          /* cut short */
    CHECK(!core_utf8_valid("\x80", 1));
    CHECK(core_utf8_valid("", 0));
}

static char *slurp(FILE *f)
{
    struct buf b = BUF_INIT;
    char tmp[512];
    size_t n;

    fflush(f);
    rewind(f);
    buf_adds(&b, "");
    while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
        buf_add(&b, tmp, n);
    return buf_detach(&b, NULL);
}

static int count_lines(const char *s)
{
    int n = 0;

    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void test_sink(void)
{
    FILE *out = tmpfile();
    char path[] = "/tmp/ah-log-test-XXXXXX";
    char *file, *s;
    struct log_opts o = {0};

    CHECK(mkdtemp(path) != NULL);
    file = xasprintf("%s/sub/dir/server.log", path);
    CHECK_EQ_INT(log_level_parse("warning"), AH_LOG_WARNING);
    CHECK_EQ_INT(log_level_parse("warn"), -1);
    CHECK_EQ_INT(log_level_parse(NULL), -1);
    CHECK_EQ_STR(log_level_name(AH_LOG_CRIT), "crit");
    CHECK_EQ_STR(log_level_name(99), "info");

    o.level = AH_LOG_NOTICE;
    o.out = out;
    o.file = file;
    o.file_level = AH_LOG_DEBUG;
    o.peer_per_sec = 3;
    CHECK_EQ_INT(log_setup(&o), 0);
    CHECK(log_enabled(AH_LOG_DEBUG));      /* the file wants debug */
    log_info("not on the console %d", 1);
    log_notice("on the console");
    {
        json_t *d = json_pack("{s:s, s:i}", "k", "v", "n", 2);

        log_msg(AH_LOG_ERROR, d, "with %s", "data");
        json_decref(d);
    }
    s = slurp(out);
    CHECK_EQ_INT(count_lines(s), 2);
    CHECK(strstr(s, " - notice: on the console \n") != NULL);
    CHECK(strstr(s, " - error: with data k=v n=2 \n") != NULL);
    CHECK(strstr(s, "not on the console") == NULL);
    free(s);
    log_shutdown();
    {
        FILE *f = fopen(file, "r");

        CHECK(f != NULL);
        if (f) {
            s = slurp(f);
            fclose(f);
            CHECK_EQ_INT(count_lines(s), 3);
            CHECK(strstr(s, "{\"level\":\"info\",\"message\":\"not on the console 1\",\"timestamp\":\"") != NULL);
            CHECK(strstr(s, "{\"k\":\"v\",\"level\":\"error\",\"message\":\"with data\",\"n\":2,\"timestamp\":\"") != NULL);
            free(s);
        }
    }

    /* JSON lines on the console */
    o.file = NULL;
    o.json = true;
    o.level = AH_LOG_INFO;
    CHECK_EQ_INT(log_setup(&o), 0);
    if (ftruncate(fileno(out), 0) != 0)
        CHECK(0);
    rewind(out);
    log_info("json %s", "line");
    log_debug("hidden");
    s = slurp(out);
    CHECK_EQ_INT(count_lines(s), 1);
    CHECK(strncmp(s, "{\"level\":\"info\",\"message\":\"json line\",\"timestamp\":\"20", 52) == 0);
    free(s);

    /* the rate limit: 3 per second per call site, then one line says how
     * many were dropped */
    o.json = false;
    CHECK_EQ_INT(log_setup(&o), 0);
    if (ftruncate(fileno(out), 0) != 0)
        CHECK(0);
    rewind(out);
    {
        static struct log_ratelimit rl;
        int i;

        for (i = 0; i < 10; i++)
            log_peer(&rl, AH_LOG_WARNING, NULL, "bad frame %d", i);
        s = slurp(out);
        CHECK_EQ_INT(count_lines(s), 3);
        CHECK_EQ_INT(rl.suppressed, 7);
        free(s);
        rl.window--;  /* as if a second had passed */
        log_peer(&rl, AH_LOG_WARNING, NULL, "bad frame %d", 10);
        s = slurp(out);
        CHECK(strstr(s, "bad frame 10 suppressed=7 \n") != NULL);
        CHECK_EQ_INT(rl.suppressed, 0);
        free(s);
    }

    /* an unopenable file: an error, the console still works */
    o.file = "/proc/nope/x.log";
    CHECK(log_setup(&o) < 0);
    log_shutdown();
    fclose(out);
    {
        char *cmd = xasprintf("rm -rf '%s'", path);
        int rc = system(cmd);

        (void)rc;
        free(cmd);
    }
    free(file);
}

static void test_configure(void)
{
    uv_loop_t loop;
    ah_app_t *app;
    char err[256], dir[] = "/tmp/ah-log-cfg-XXXXXX", *tmpl, *want;

    CHECK(mkdtemp(dir) != NULL);
    uv_loop_init(&loop);
    app = app_new(&loop);
    app->config = config_defaults();
    app->id = xstrdup("192.0.2.2");
    app->env = xstrdup("test");
    tmpl = xasprintf("%s/log/{id}-{env}.log", dir);
    config_set(app, "logger.file", json_string(tmpl));
    config_set(app, "logger.level", json_string("crit"));
    CHECK_EQ_INT(log_configure(app, err, sizeof(err)), 0);
    CHECK(!log_enabled(AH_LOG_DEBUG));
    log_crit("configured");
    log_shutdown();
    want = xasprintf("%s/log/192.0.2.2-test.log", dir);
    CHECK(access(want, R_OK) == 0);
    config_set(app, "logger.file", json_string("/proc/none/x.log"));
    CHECK(log_configure(app, err, sizeof(err)) < 0);
    CHECK(strncmp(err, "cannot open log file '/proc/none/x.log': ", 41) == 0);
    log_shutdown();
    app_free(app);
    CHECK_EQ_INT(uv_loop_close(&loop), 0);
    {
        char *cmd = xasprintf("rm -rf '%s'", dir);
        int rc = system(cmd);

        (void)rc;
        free(cmd);
    }
    free(tmpl);
    free(want);
}

int main(void)
{
    test_text();
    test_js_string();
    test_json();
    test_fields();
    test_iso_date();
    test_core_helpers();
    test_sink();
    test_configure();
    return check_done();
}
