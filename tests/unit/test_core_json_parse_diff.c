/*
 * test_core_json_parse_diff.c - core_json_parse (yajl building jansson
 * values) against core_json_parse_jansson (json_loadb, the reference) on
 * every input we can find or make: the fuzz corpora, the JSON files and
 * data lines under tests/, and a few hundred thousand generated texts
 * (random values written with random whitespace, then truncated, flipped,
 * cut and spliced).  Both must fail, or both succeed with the same value:
 * json_equal, the same key order, the same number kinds (integer vs real,
 * and the sign of a zero), and the same json_error_t fields.
 *
 * JSON_DIFF_N=<count> and JSON_DIFF_SEED=<n> run more or other texts.
 */
#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/core.h"
#include "check.h"

static long compared, failed_both, mismatches, fast_hits;

/* ---- comparing ---- */

static bool same_value(json_t *a, json_t *b)
{
    if (json_typeof(a) != json_typeof(b))
        return false;
    switch (json_typeof(a)) {
    case JSON_OBJECT: {
        void *ia = json_object_iter(a), *ib = json_object_iter(b);

        if (json_object_size(a) != json_object_size(b))
            return false;
        for (; ia && ib; ia = json_object_iter_next(a, ia), ib = json_object_iter_next(b, ib)) {
            size_t la = json_object_iter_key_len(ia), lb = json_object_iter_key_len(ib);

            if (la != lb || memcmp(json_object_iter_key(ia), json_object_iter_key(ib), la) != 0 ||
                !same_value(json_object_iter_value(ia), json_object_iter_value(ib)))
                return false;
        }
        return ia == NULL && ib == NULL;
    }
    case JSON_ARRAY: {
        size_t i;

        if (json_array_size(a) != json_array_size(b))
            return false;
        for (i = 0; i < json_array_size(a); i++)
            if (!same_value(json_array_get(a, i), json_array_get(b, i)))
                return false;
        return true;
    }
    case JSON_STRING:
        return json_string_length(a) == json_string_length(b) &&
               memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) == 0;
    case JSON_INTEGER:
        return json_integer_value(a) == json_integer_value(b);
    case JSON_REAL: {
        double x = json_real_value(a), y = json_real_value(b);

        return memcmp(&x, &y, sizeof x) == 0; /* -0.0 is not 0.0 here */
    }
    default:
        return true;
    }
}

static void show(const char *why, const char *s, size_t n)
{
    size_t i;

    printf("# mismatch (%s) on %zu bytes: ", why, n);
    for (i = 0; i < n && i < 300; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c >= 0x20 && c < 0x7f && c != '\\')
            putchar(c);
        else
            printf("\\x%02x", c);
    }
    printf("%s\n", n > 300 ? "..." : "");
}

static void compare(const char *s, size_t n)
{
    json_error_t ea, eb;
    json_t *a, *b, *y;
    const char *why = NULL;

    memset(&ea, 0x5a, sizeof ea);
    memset(&eb, 0x5a, sizeof eb);
    a = core_json_parse(s, n, &ea);
    b = core_json_parse_jansson(s, n, &eb);
    compared++;
    if ((a == NULL) != (b == NULL))
        why = a ? "only the new path accepts" : "only jansson accepts";
    else if (a && (!json_equal(a, b) || !same_value(a, b)))
        why = "values differ";
    else if (ea.line != eb.line || ea.column != eb.column || ea.position != eb.position ||
             strcmp(ea.source, eb.source) != 0 || strcmp(ea.text, eb.text) != 0 ||
             ea.text[JSON_ERROR_TEXT_LENGTH - 1] != eb.text[JSON_ERROR_TEXT_LENGTH - 1])
        why = "json_error_t differs";
    /* and the yajl path alone, where it answers, answers the same */
    y = core_json_parse_yajl(s, n);
    if (y) {
        fast_hits++;
        if (why == NULL && (b == NULL || !json_equal(y, b) || !same_value(y, b)))
            why = "the yajl path alone differs";
        json_decref(y);
    }
    if (a == NULL && b == NULL)
        failed_both++;
    if (why) {
        if (mismatches < 20)
            show(why, s, n);
        mismatches++;
    }
    json_decref(a);
    json_decref(b);
}

/* ---- files ---- */

static long files_read;

static void compare_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf, *p, *nl;
    long len;

    if (f == NULL)
        return;
    if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || len > (8 << 20) || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return;
    }
    buf = malloc((size_t)len + 1);
    if (buf && fread(buf, 1, (size_t)len, f) == (size_t)len) {
        files_read++;
        compare(buf, (size_t)len);
        /* and each line: data files hold one value (or a few words) a line */
        for (p = buf; p < buf + len; p = nl + 1) {
            nl = memchr(p, '\n', (size_t)(buf + len - p));
            if (nl == NULL)
                nl = buf + len;
            compare(p, (size_t)(nl - p));
        }
    }
    free(buf);
    fclose(f);
}

/* Every file under dir (corpora) or, with suffix, those ending so. */
static void walk(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[PATH_MAX];
    struct stat st;

    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);

        if (e->d_name[0] == '.' || strcmp(e->d_name, "node_modules") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode))
            walk(path, suffix);
        else if (suffix == NULL || (l > strlen(suffix) && strcmp(e->d_name + l - strlen(suffix), suffix) == 0))
            compare_file(path);
    }
    closedir(d);
}

/* ---- generated texts ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static unsigned pick(unsigned n)
{
    return (unsigned)(rnd() % n);
}

struct tbuf {
    char *p;
    size_t len, cap;
};

static void put(struct tbuf *b, const void *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        if (b->p == NULL)
            abort();
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void puts_(struct tbuf *b, const char *s)
{
    put(b, s, strlen(s));
}

static void ws(struct tbuf *b)
{
    static const char *const w[] = {"", "", "", "", "", "", " ", "\n", "\t", "\r\n", "  ", " \t",
                                    "\v", "\f"};
    unsigned r = pick(2000);

    if (r < 1900)
        puts_(b, w[r % 12]);
    else if (r < 1902)
        puts_(b, w[12 + (r & 1)]); /* yajl's whitespace, not jansson's */
}

static void utf8(struct tbuf *b, unsigned cp)
{
    char o[4];

    if (cp < 0x80) {
        o[0] = (char)cp;
        put(b, o, 1);
    } else if (cp < 0x800) {
        o[0] = (char)(0xc0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3f));
        put(b, o, 2);
    } else if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12);
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        put(b, o, 3);
    } else {
        o[0] = (char)(0xf0 | cp >> 18);
        o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[3] = (char)(0x80 | (cp & 0x3f));
        put(b, o, 4);
    }
}

static void uesc(struct tbuf *b, unsigned v)
{
    char t[8];
    static const char hx[] = "0123456789abcdef0123456789ABCDEF";
    int upper = pick(2) ? 16 : 0;

    t[0] = '\\';
    t[1] = 'u';
    t[2] = hx[upper + ((v >> 12) & 15)];
    t[3] = hx[upper + ((v >> 8) & 15)];
    t[4] = hx[upper + ((v >> 4) & 15)];
    t[5] = hx[upper + (v & 15)];
    put(b, t, 6);
}

static void gen_string_body(struct tbuf *b, bool bad)
{
    static const char *const esc[] = {"\\n", "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\r", "\\t"};
    static const char *const badbytes[] = {"\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xed\xa0\x80", "\xed\xbf\xbf",
                                           "\xf0\x80\x80\x80", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\x80",
                                           "\xbf", "\xc3", "\xe2\x82", "\xff", "\xfe", "\x01", "\x1f", "\n",
                                           "\x7f", "\\x", "\\u12", "\\uzzzz", "\\U0041", "\\"};
    unsigned n = pick(4) == 0 ? pick(40) : pick(8), i;

    for (i = 0; i < n; i++) {
        unsigned r = pick(100);

        if (r < 50) {
            char c = (char)(' ' + pick(95));

            if (c == '"' || c == '\\')
                c = 'x';
            put(b, &c, 1);
        } else if (r < 60) {
            puts_(b, esc[pick(8)]);
        } else if (r < 66) {
            uesc(b, pick(3) ? pick(0x80) : pick(0x10000) & 0xffff); /* may be a lone surrogate */
        } else if (r < 72) { /* a proper pair */
            unsigned cp = 0x10000 + pick(0x100000);

            uesc(b, 0xd800 + ((cp - 0x10000) >> 10));
            uesc(b, 0xdc00 + ((cp - 0x10000) & 0x3ff));
        } else if (r < 74) { /* a high surrogate and something else */
            uesc(b, 0xd800 + pick(0x400));
            if (pick(2))
                uesc(b, pick(0x10000));
        } else if (r < 76) {
            uesc(b, 0);
        } else if (r < 92) {
            static const unsigned ranges[][2] = {{0x80, 0x7ff}, {0x800, 0xd7ff}, {0xe000, 0xffff}, {0x10000, 0x10ffff}};
            unsigned k = pick(4);

            utf8(b, ranges[k][0] + pick(ranges[k][1] - ranges[k][0] + 1));
        } else if (bad && r < 97) {
            puts_(b, badbytes[pick(sizeof badbytes / sizeof *badbytes)]);
        } else {
            puts_(b, "\\u00e9");
        }
    }
}

static void gen_string(struct tbuf *b, bool bad)
{
    put(b, "\"", 1);
    gen_string_body(b, bad);
    put(b, "\"", 1);
}

static void gen_number(struct tbuf *b, bool bad)
{
    static const char *const fixed[] = {
        "0", "-0", "0.0", "-0.0", "1", "-1", "1.0", "1.5", "1e2", "1E2", "1e+2", "1e-2", "-1.5e-3",
        "9007199254740991", "9007199254740992", "9007199254740993", "-9007199254740993",
        "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
        "18446744073709551616", "123456789012345678901234567890", "100000000000000000000",
        "999999999999999999", "1000000000000000000", "-999999999999999999", "1e308", "1.7976931348623157e308",
        "1.8e308", "1e309", "-1e400", "1e-400", "5e-324", "2.5e-324", "0.1", "0.30000000000000004",
        "1.0e0", "4.0", "9007199254740992.0", "9007199254740993.0", "1e15", "1e16", "1e21", "123e-2",
        "0e0", "-0e+0", "0.000001", "1e-7", "12345678901234567890e-10"};
    static const char *const broken[] = {"01", "-01", "1.", "-", ".5", "+1", "1e", "1e+", "1.e3", "0x10", "- 1",
                                         "1.2.3", "--1", "Infinity", "NaN", "-Infinity", "1ee2", "00"};
    unsigned r = pick(100);
    char t[64];

    if (bad && r < 4) {
        puts_(b, broken[pick(sizeof broken / sizeof *broken)]);
    } else if (r < 35) {
        puts_(b, fixed[pick(sizeof fixed / sizeof *fixed)]);
    } else if (r < 60) {
        snprintf(t, sizeof t, "%lld", (long long)(pick(2) ? (int)pick(2000) - 1000 : (long long)rnd()));
        puts_(b, t);
    } else if (r < 70) { /* a long run of digits */
        unsigned n = 15 + pick(30), i;

        if (pick(2))
            put(b, "-", 1);
        t[0] = (char)('1' + pick(9));
        put(b, t, 1);
        for (i = 1; i < n; i++) {
            t[0] = (char)('0' + pick(10));
            put(b, t, 1);
        }
        if (pick(4) == 0)
            puts_(b, pick(2) ? ".0" : "e-5");
    } else {
        double d;

        memcpy(&d, &(uint64_t){rnd()}, sizeof d);
        if (d != d || d - d != 0)
            d = 1.25;
        snprintf(t, sizeof t, pick(2) ? "%.17g" : "%g", pick(2) ? d : (double)(int)pick(100) / 8);
        puts_(b, t);
    }
}

static void gen_value(struct tbuf *b, int depth, bool bad);

static void gen_key(struct tbuf *b, bool bad)
{
    static const char *const keys[] = {"\"a\"", "\"b\"", "\"event\"", "\"params\"", "\"messageId\"", "\"\"",
                                       "\"a\\u0000b\"", "\"\\u0061\"", "\"\\u00e9\"", "\"\xc3\xa9\"", "\"x\\ny\"",
                                       "\"\\ud83d\\ude00\"", "\"\\ud800\"", "\"__proto__\"", "\"\xed\xa0\x80\"",
                                       "\"\xc0\xaf\""};

    if (pick(3))
        puts_(b, keys[pick(bad ? 16 : 14)]);
    else
        gen_string(b, bad);
}

static void gen_value(struct tbuf *b, int depth, bool bad)
{
    unsigned r = pick(depth > 6 ? 60 : 100), n, i;

    ws(b);
    if (r < 18) {
        gen_string(b, bad);
    } else if (r < 36) {
        gen_number(b, bad);
    } else if (r < 42) {
        static const char *const lit[] = {"true", "false", "null", "tru", "nul", "True", "nulll", "falsey"};

        puts_(b, lit[pick(bad && pick(20) == 0 ? 8 : 3)]);
    } else if (r < 60 && depth < 20) {
        n = pick(6);
        put(b, "[", 1);
        for (i = 0; i < n; i++) {
            if (i)
                put(b, ",", 1);
            gen_value(b, depth + 1, bad);
        }
        ws(b);
        if (bad && pick(50) == 0)
            put(b, ",", 1);
        put(b, "]", 1);
    } else if (depth < 20) {
        n = pick(7);
        put(b, "{", 1);
        for (i = 0; i < n; i++) {
            if (i)
                put(b, ",", 1);
            ws(b);
            gen_key(b, bad);
            ws(b);
            put(b, ":", 1);
            gen_value(b, depth + 1, bad);
        }
        ws(b);
        put(b, "}", 1);
    } else {
        puts_(b, "0");
    }
    ws(b);
}

static void gen_deep(struct tbuf *b)
{
    static const unsigned depths[] = {100, 255, 256, 257, 1000, 2046, 2047, 2048, 2049, 3000};
    unsigned d = pick(3) ? depths[pick(10)] : pick(3000), i, kind = pick(3);

    for (i = 0; i < d; i++)
        puts_(b, kind == 0 ? "[" : kind == 1 ? "{\"k\":" : (i & 1 ? "[" : "{\"k\":"));
    if (pick(2))
        gen_value(b, 19, false);
    else if (pick(2))
        puts_(b, "[]");
    else
        puts_(b, "1");
    for (i = d; i-- > 0;)
        puts_(b, kind == 0 ? "]" : kind == 1 ? "}" : (i & 1 ? "]" : "}"));
}

static void mutate(struct tbuf *b)
{
    static const char inter[] = "\"\\{}[]:,0-.eE+u \n\v\f\x80\xff\xed\xc3";
    unsigned k = 1 + pick(3), j;

    for (j = 0; j < k && b->len > 0; j++) {
        size_t at = pick((unsigned)b->len);

        switch (pick(6)) {
        case 0: /* truncate */
            b->len = at;
            break;
        case 1: /* flip a bit */
            b->p[at] = (char)(b->p[at] ^ (1 << pick(8)));
            break;
        case 2: /* replace with an interesting byte */
            b->p[at] = inter[pick(sizeof inter - 1)];
            break;
        case 3: /* insert one */
            put(b, "", 0);
            put(b, " ", 1);
            memmove(b->p + at + 1, b->p + at, b->len - 1 - at);
            b->p[at] = inter[pick(sizeof inter - 1)];
            break;
        case 4: /* delete one */
            memmove(b->p + at, b->p + at + 1, b->len - at - 1);
            b->len--;
            break;
        default: /* the NUL byte */
            b->p[at] = '\0';
            break;
        }
    }
}

static void generated(long count)
{
    struct tbuf b = {0};
    long i;

    for (i = 0; i < count; i++) {
        unsigned r = pick(100);

        b.len = 0;
        if (r < 2) {
            gen_deep(&b);
        } else if (r < 12) { /* the WebSocket message shape */
            puts_(&b, "{\"event\":\"action\",\"params\":{\"action\":");
            gen_string(&b, false);
            puts_(&b, ",\"x\":");
            gen_value(&b, 2, false);
            puts_(&b, "},\"messageId\":");
            gen_number(&b, false);
            puts_(&b, "}");
        } else {
            gen_value(&b, 0, r < 30);
        }
        if (pick(4) == 0)
            mutate(&b);
        compare(b.p ? b.p : "", b.len);
    }
    free(b.p);
}

/* ---- hand-picked cases, each with the answer ---- */

static json_t *parse(const char *s)
{
    return core_json_parse(s, strlen(s), NULL);
}

static void known(void)
{
    static const char *const agree[] = {
        "{\"a\":1,\"b\":2,\"a\":3}", "[\"\\ud83d\\ude00\"]", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"",
        "\"\\ud800\\ud800\"", "\"\xed\xa0\x80\"", "\"\xc0\xaf\"", "\"\xf4\x90\x80\x80\"", "1\v", "\f1",
        "[1,\v2]", "{\"a\\u0000\":1}", "[1e400]", "[99999999999999999999, 1e400]", "", " ", "[", "{\"a\"",
        "[1,]", "{\"a\":1,}", "01", "1 2", "[] x", "\"a\\u0000b\"", "-0", "-0.0", "[1.0, 1e2]",
        "[1.0, 1e2, 99999999999999999999, 9007199254740993, -0.0, 1.5]", "\xef\xbb\xbf{}", "nul", "[tru]",
        "\"\\/\"", "\"\t\"", "9223372036854775807", "-9223372036854775808", "9223372036854775808",
        "{\"a\":[{\"b\":{}}],\"c\":\"\\\\u0041\"}", "\"\\\\ud800\"", "{\"\\ud800\\udc00\":true}"};
    size_t i;
    json_t *v;

    for (i = 0; i < sizeof agree / sizeof *agree; i++)
        compare(agree[i], strlen(agree[i]));

    /* the WebSocket message is the fast path's, and so are big integers */
    {
        static const char *const fast[] = {
            "{\"event\":\"action\",\"params\":{\"action\":\"randomNumber\"},\"messageId\":7}",
            "[1.0, 99999999999999999999]", "\"\\ud83d\\ude00\"", "5", " {} ", "\"\xc3\xa9\""};

        for (i = 0; i < sizeof fast / sizeof *fast; i++) {
            v = core_json_parse_yajl(fast[i], strlen(fast[i]));
            CHECK(v != NULL);
            json_decref(v);
        }
        /* and what it must leave to jansson */
        CHECK(core_json_parse_yajl("1\v", 2) == NULL);
        CHECK(core_json_parse_yajl("0\"", 2) == NULL);
        CHECK(core_json_parse_yajl("\"\\ud800x\"", 9) == NULL);
        CHECK(core_json_parse_yajl("\"\xc0\xaf\"", 4) == NULL);
    }
    /* duplicate keys: the last value, at the first key's place (as in JS) */
    v = parse("{\"a\":1,\"b\":2,\"a\":{\"c\":3}}");
    CHECK(v && json_object_size(v) == 2);
    CHECK(v && strcmp(json_object_iter_key(json_object_iter(v)), "a") == 0);
    CHECK(v && json_is_object(json_object_get(v, "a")));
    json_decref(v);
    /* -0 is the integer 0; 1.0 stays a real unless a big integer sends the
     * whole text through the as-real pass */
    v = parse("[-0, 1.0, -0.0]");
    CHECK(v && json_is_integer(json_array_get(v, 0)) && json_is_real(json_array_get(v, 1)));
    CHECK(v && json_is_real(json_array_get(v, 2)) && signbit(json_real_value(json_array_get(v, 2))));
    json_decref(v);
    v = parse("[1.0, 99999999999999999999, 9007199254740993]");
    CHECK(v && json_is_integer(json_array_get(v, 0)) && json_is_real(json_array_get(v, 1)));
    /* ints_back: rounded to 2^53, which is still "exact", so an integer */
    CHECK(v && json_is_integer(json_array_get(v, 2)) && json_integer_value(json_array_get(v, 2)) == 9007199254740992LL);
    json_decref(v);
    v = parse("9007199254740993");
    CHECK(v && json_is_integer(v) && json_integer_value(v) == 9007199254740993LL);
    json_decref(v);
    /* a surrogate pair is one character */
    v = parse("\"\\ud83d\\ude00\"");
    CHECK(v && json_string_length(v) == 4 && memcmp(json_string_value(v), "\xf0\x9f\x98\x80", 4) == 0);
    json_decref(v);
    CHECK(parse("\"\\ud800\"") == NULL);
    CHECK(parse("\"\\ud800\\u0041\"") == NULL);
    CHECK(parse("1\v") == NULL);
    CHECK(parse("\"\xc0\xaf\"") == NULL);
    CHECK(parse("{\"a\\u0000\":1}") == NULL);
}

static void deep(void)
{
    struct tbuf b = {0};
    int d;
    json_t *v;

    /* jansson counts values: 2048 nested arrays hold nothing more */
    for (d = 2047; d <= 2049; d++) {
        b.len = 0;
        for (int i = 0; i < d; i++)
            put(&b, "[", 1);
        for (int i = 0; i < d; i++)
            put(&b, "]", 1);
        v = core_json_parse(b.p, b.len, NULL);
        CHECK((v != NULL) == (d <= 2048));
        json_decref(v);
        compare(b.p, b.len);
    }
    free(b.p);
}

static bool find_tests_dir(char *out, size_t outlen)
{
    struct stat st;

    snprintf(out, outlen, "tests/fuzz/corpus");
    if (stat(out, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(out, outlen, "tests");
        return true;
    }
    return false;
}

int main(void)
{
    char tests[PATH_MAX], path[PATH_MAX + 32];
    const char *env;
    long n, c0, f0, h0;

#ifdef __SANITIZE_ADDRESS__
    n = 60000; /* ASan is ~10x slower; the normal build runs the full count */
#else
    n = 200000;
#endif
    if ((env = getenv("JSON_DIFF_N")) != NULL)
        n = atol(env);
    if ((env = getenv("JSON_DIFF_SEED")) != NULL)
        rng_state ^= (uint64_t)strtoull(env, NULL, 0) * 0x2545f4914f6cdd1dull;

    known();
    deep();

    CHECK(find_tests_dir(tests, sizeof tests));
    snprintf(path, sizeof path, "%s/fuzz/corpus", tests);
    walk(path, NULL);
    walk(tests, ".json");
    snprintf(path, sizeof path, "%s/unit/data", tests);
    walk(path, NULL);
    walk(tests, ".mjs"); /* JSON texts in the integration tests, line by line */
    CHECK(files_read >= 100);

    c0 = compared;
    f0 = failed_both;
    h0 = fast_hits;
    generated(n);

    printf("# compared %ld texts (%ld files), %ld refused by both, %ld mismatches\n", compared, files_read,
           failed_both, mismatches);
    CHECK_EQ_INT(mismatches, 0);
    /* the generator makes both kinds */
    CHECK(failed_both - f0 > (compared - c0) / 20);
    CHECK((compared - c0) - (failed_both - f0) > (compared - c0) / 4);
    /* most valid texts are read by yajl (the rest: \v, \f, lone surrogates,
     * deep nesting), so the comparison above is of two parsers */
    printf("# yajl read %ld of the %ld generated texts jansson accepts\n", fast_hits - h0,
           (compared - c0) - (failed_both - f0));
    CHECK(fast_hits - h0 > ((compared - c0) - (failed_both - f0)) * 9 / 10);
    return check_done();
}
