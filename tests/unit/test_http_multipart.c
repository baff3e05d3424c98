/*
 * test_http_multipart.c - the streaming multipart/form-data parser.
 *
 * Expected names, filenames, extensions and error texts were checked
 * against formidable 3.5 (its IncomingForm run under node) when the test
 * was written; every body is parsed whole, byte by byte and in random splits.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/json_out.h"
#include "http/multipart.h"

#include "check.h"

static char dir[64];

static struct multipart_opts defaults(void)
{
    struct multipart_opts o = {dir, false, false, 20 << 20, 200 << 20, 1000};

    return o;
}

struct result {
    int rc;
    char err[512];
    json_t *fields, *files;
};

static uint64_t rng = 0x2545F4914F6CDD1DULL;

static size_t next_split(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return 1 + (size_t)(rng % 23);
}

/* mode 0: whole body; 1: byte by byte; 2: random splits. */
static void parse(struct result *r, const char *ct, const struct multipart_opts *o,
                  const char *body, size_t n, int mode)
{
    char err[200];
    struct multipart *mp = multipart_new(ct, o, err, sizeof(err));
    size_t i = 0;
    int rc = 0;

    memset(r, 0, sizeof(*r));
    if (mp == NULL) {
        r->rc = -1;
        snprintf(r->err, sizeof(r->err), "%s", err);
        return;
    }
    while (i < n && rc == 0) {
        size_t k = mode == 0 ? n : mode == 1 ? 1 : next_split();

        if (k > n - i)
            k = n - i;
        rc = multipart_feed(mp, body + i, k);
        i += k;
    }
    r->rc = multipart_finish(mp, &r->fields, &r->files);
    if (r->rc)
        snprintf(r->err, sizeof(r->err), "%s", multipart_error(mp));
    multipart_free(mp);
}

static void result_free(struct result *r)
{
    json_decref(r->fields);
    json_decref(r->files);
}

static char *dump(const json_t *v)
{
    return json_out_str(v, 0, 0, NULL);
}

static int count_files(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    if (d)
        closedir(d);
    return n;
}

static void clean_dir(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[512];

    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.') {
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            unlink(path);
        }
    if (d)
        closedir(d);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct buf b = BUF_INIT;
    char tmp[4096];
    size_t k;

    buf_init(&b);
    if (f == NULL)
        return NULL;
    while ((k = fread(tmp, 1, sizeof(tmp), f)) > 0)
        buf_add(&b, tmp, k);
    fclose(f);
    return buf_detach(&b, len);
}

#define CT "multipart/form-data; boundary=XyZ"

static const char basic[] =
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"title\"\r\n"
    "\r\n"
    "hello world\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"up\"; filename=\"up.txt\"\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "line1\r\nline2 \r\n--XyZx \r\n--Xy\r\n-\r\n--XyZ-\r\n--XyZ\r-end\r\n"
    "--XyZ\r\n"
    "content-disposition: form-data; name=empty\r\n"
    "\r\n"
    "\r\n"
    "--XyZ--\r\n"
    "epilogue is ignored --XyZ\r\n";

static const char basic_file[] = "line1\r\nline2 \r\n--XyZx \r\n--Xy\r\n-\r\n--XyZ-\r\n--XyZ\r-end";

static void test_basic(void)
{
    int mode;

    for (mode = 0; mode < 3; mode++) {
        struct multipart_opts o = defaults();
        struct result r;
        json_t *f;
        const char *nf, *fp, *mtime;
        char *s, *data, want[256];
        size_t len, i;

        parse(&r, CT, &o, basic, sizeof(basic) - 1, mode);
        CHECK_EQ_INT(r.rc, 0);
        s = dump(r.fields);
        CHECK_EQ_STR(s, "{\"title\":\"hello world\",\"empty\":\"\"}");
        free(s);
        f = json_object_get(r.files, "up");
        CHECK(json_is_object(f));
        CHECK_EQ_INT(json_integer_value(json_object_get(f, "size")), strlen(basic_file));
        CHECK_EQ_STR(json_string_value(json_object_get(f, "mimetype")), "text/plain");
        CHECK_EQ_STR(json_string_value(json_object_get(f, "originalFilename")), "up.txt");
        nf = json_string_value(json_object_get(f, "newFilename"));
        fp = json_string_value(json_object_get(f, "filepath"));
        mtime = json_string_value(json_object_get(f, "mtime"));
        CHECK(nf && strlen(nf) == 25);
        CHECK(nf && nf[0] >= 'a' && nf[0] <= 'z');
        for (i = 0; nf && i < 25; i++)
            CHECK((nf[i] >= 'a' && nf[i] <= 'z') || (nf[i] >= '0' && nf[i] <= '9'));
        snprintf(want, sizeof(want), "%s/%s", dir, nf ? nf : "");
        CHECK_EQ_STR(fp, want);
        CHECK(mtime && strlen(mtime) == 24 && mtime[10] == 'T' && mtime[23] == 'Z');
        /* key order of the description, as formidable's toJSON */
        s = dump(f);
        CHECK(strncmp(s, "{\"size\":", 8) == 0);
        CHECK(strstr(s, "\"filepath\":") < strstr(s, "\"newFilename\":"));
        CHECK(strstr(s, "\"mimetype\":") < strstr(s, "\"mtime\":"));
        CHECK(strstr(s, "\"mtime\":") < strstr(s, "\"originalFilename\":"));
        free(s);
        data = slurp(fp, &len);
        CHECK(data != NULL);
        CHECK_EQ_INT(len, strlen(basic_file));
        CHECK(data && memcmp(data, basic_file, len) == 0);
        free(data);
        CHECK_EQ_INT(count_files(), 1);     /* kept after a good parse */
        result_free(&r);
        clean_dir();
    }
}

static void test_random_splits(void)
{
    struct multipart_opts o = defaults();
    struct buf body = BUF_INIT;
    int i, round;

    /* A large file crosses the 64 KiB write buffer several times and holds
     * lots of near-boundaries. */
    buf_init(&body);
    buf_adds(&body, "--XyZ\r\nContent-Disposition: form-data; name=\"big\"; filename=\"b.bin\"\r\n"
                    "Content-Type: application/octet-stream\r\n\r\n");
    for (i = 0; i < 40000; i++)
        buf_addf(&body, "%c\r\n--X%s%c", (char)(i * 7), i % 3 ? "y" : "yZ", 'a' + i % 26);
    buf_adds(&body, "\r\n--XyZ--");
    for (round = 0; round < 4; round++) {
        struct result r;
        json_t *f;
        char *data;
        size_t len, head;

        parse(&r, CT, &o, body.data, body.len, round == 0 ? 0 : 2);
        CHECK_EQ_INT(r.rc, 0);
        f = json_object_get(r.files, "big");
        head = (size_t)(strstr(body.data, "\r\n\r\n") + 4 - body.data);
        CHECK_EQ_INT(json_integer_value(json_object_get(f, "size")), body.len - head - 9);
        data = slurp(json_string_value(json_object_get(f, "filepath")), &len);
        CHECK_EQ_INT(len, body.len - head - 9);
        CHECK(data && memcmp(data, body.data + head, len) == 0);
        free(data);
        result_free(&r);
        clean_dir();
    }
    buf_release(&body);
}

static void test_boundaries(void)
{
    static const char *const cts[] = {
        "multipart/form-data; boundary=\"XyZ\"",
        "multipart/form-data; charset=utf-8; boundary=XyZ",
        "Multipart/Form-Data; BOUNDARY=XyZ; foo=bar",
    };
    static const char body[] = "\r\n--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--XyZ--";
    struct multipart_opts o = defaults();
    struct result r;
    size_t i;
    char *s;

    for (i = 0; i < ARRAY_SIZE(cts); i++) {
        parse(&r, cts[i], &o, body, sizeof(body) - 1, 1);
        CHECK_EQ_INT(r.rc, 0);
        s = dump(r.fields);
        CHECK_EQ_STR(s, "{\"a\":\"1\"}");
        free(s);
        result_free(&r);
    }
    /* No usable boundary: the constructor refuses, with formidable's text. */
    parse(&r, "multipart/form-data", &o, body, sizeof(body) - 1, 0);
    CHECK_EQ_INT(r.rc, -1);
    CHECK_EQ_STR(r.err, "bad content-type header, no multipart boundary");
    parse(&r, "multipart/form-data; boundary=", &o, body, sizeof(body) - 1, 0);
    CHECK_EQ_INT(r.rc, -1);
    parse(&r, NULL, &o, body, sizeof(body) - 1, 0);
    CHECK_EQ_INT(r.rc, -1);

    /* A body with only the closing boundary; preamble before CRLF. */
    parse(&r, CT, &o, "--XyZ--", 7, 0);
    CHECK_EQ_INT(r.rc, 0);
    CHECK_EQ_INT(json_object_size(r.fields), 0);
    result_free(&r);
    {
        static const char pre[] =
            "some preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=p\r\n\r\nv\r\n--XyZ--";

        parse(&r, CT, &o, pre, sizeof(pre) - 1, 1);
    }
    CHECK_EQ_INT(r.rc, 0);
    CHECK_EQ_STR(json_string_value(json_object_get(r.fields, "p")), "v");
    result_free(&r);

    /* formidable accepts a body that stops after CRLF--boundary. */
    {
        static const char cut[] = "--XyZ\r\nContent-Disposition: form-data; name=p\r\n\r\nv\r\n--XyZ";

        parse(&r, CT, &o, cut, sizeof(cut) - 1, 1);
    }
    CHECK_EQ_INT(r.rc, 0);
    CHECK_EQ_STR(json_string_value(json_object_get(r.fields, "p")), "v");
    result_free(&r);
    parse(&r, CT, &o, "--XyZ\r\n", 7, 0);
    CHECK_EQ_INT(r.rc, 0);
    result_free(&r);
}

static void test_multiples(void)
{
    static const char body[] =
        "--XyZ\r\nContent-Disposition: form-data; name=k\r\n\r\na\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=k\r\n\r\nb\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=\"1\"\r\n\r\none\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=f; filename=one.txt\r\nContent-Type: text/plain\r\n\r\n1\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=f; filename=two.txt\r\nContent-Type: text/plain\r\n\r\n22\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=__proto__\r\n\r\nx\r\n"
        "--XyZ--\r\n";
    struct multipart_opts o = defaults();
    struct result r;
    char *s;

    parse(&r, CT, &o, body, sizeof(body) - 1, 2);
    CHECK_EQ_INT(r.rc, 0);
    s = dump(r.fields);
    CHECK_EQ_STR(s, "{\"1\":\"one\",\"k\":\"b\"}");
    free(s);
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(r.files, "f"), "originalFilename")),
                 "two.txt");
    CHECK_EQ_INT(count_files(), 1);     /* one.txt was replaced: removed */
    result_free(&r);
    clean_dir();

    o.multiples = true;
    parse(&r, CT, &o, body, sizeof(body) - 1, 2);
    CHECK_EQ_INT(r.rc, 0);
    s = dump(r.fields);
    CHECK_EQ_STR(s, "{\"1\":[\"one\"],\"k\":[\"a\",\"b\"]}");
    free(s);
    CHECK_EQ_INT(json_array_size(json_object_get(r.files, "f")), 2);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(json_object_get(r.files, "f"), 1), "size")), 2);
    result_free(&r);
    clean_dir();
}

/* Content-Disposition parsing, expected values from formidable. */
static void test_names(void)
{
    static const struct {
        const char *cd;
        const char *name;       /* field name used */
        const char *filename;   /* NULL = null */
    } cases[] = {
        {"form-data; name=\"f\"; filename=\"up.txt\"", "f", "up.txt"},
        {"form-data; name=\"f\"; filename=\"C:\\dir\\w.doc\"", "f", "w.doc"},
        {"form-data; filename=\"q%22uote.txt\"; name=x", "x", "q\"uote.txt"},
        {"form-data; name=f; filename=\"x&#0233;.bin\"", "f", "x\xc3\xa9.bin"},
        {"form-data; name=f; filename*=UTF-8''e.txt", "f", NULL},
        {"form-data; name=f; filename=plain.png", "f", "plain.png"},
        {"form-data; name=f; filename=a b; filename=\"c.txt\"", "f", "c.txt"},
        {"form-data; name=f; filename=\"a\"b.txt\"; x=1", "f", "a\"b.txt"},
        {"form-data; name=f; filename=\"\"", "f", ""},
        {"form-data; name=f; xfilename=\"no.txt\"", "f", NULL},
        {"form-data; name=f; FileName=\"UP.TXT\"", "f", "UP.TXT"},
        {"form-data; name=f; filename=\"semi;colon.txt\"", "f", "semi;colon.txt"},
        {"form-data; name=f; filename=x;y", "f", NULL},
        {"form-data; x-name=\"q\"; name=\"r\"", "q", NULL},
        {"form-data; NAME=\"up\"", "up", NULL},
        {"form-data; name=a;b", "a", NULL},
        {"form-data; name=\"\"", "", NULL},
        {"form-data; filename=\"nameless.txt\"", "null", "nameless.txt"},
        {"form-data; name=\"caf\xc3\xa9\"", "caf\xc3\xa9", NULL},
        {"form-data; name=\"bad\xff\"", "bad\xef\xbf\xbd", NULL},
    };
    struct multipart_opts o = defaults();
    size_t i;

    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        struct buf body = BUF_INIT;
        struct result r;
        json_t *f;

        buf_init(&body);
        buf_addf(&body, "--XyZ\r\nContent-Disposition: %s\r\nContent-Type: text/plain\r\n\r\nx\r\n--XyZ--",
                 cases[i].cd);
        parse(&r, CT, &o, body.data, body.len, (int)(i % 3));
        CHECK_EQ_INT(r.rc, 0);
        f = json_object_get(r.files, cases[i].name);
        if (f == NULL)
            printf("# case %zu: no file under '%s'\n", i, cases[i].name);
        CHECK(f != NULL);
        if (cases[i].filename)
            CHECK_EQ_STR(json_string_value(json_object_get(f, "originalFilename")), cases[i].filename);
        else
            CHECK(json_is_null(json_object_get(f, "originalFilename")));
        result_free(&r);
        buf_release(&body);
    }
    clean_dir();
}

static void test_extensions(void)
{
    static const struct {
        const char *filename, *ext;
    } cases[] = {
        {"a.txt", ".txt"}, {"a.tar.gz", ".tar.gz"}, {"a", ""}, {"a.", ""}, {".hidden", ""},
        {"..a", "..a"}, {"a.b c", ".b"}, {"sp ace.t-xt", ".t"}, {"x.PNG", ".PNG"},
        {"a.b.", ".b."}, {"\xc3\xa9.png", ".png"}, {"dir/x.js", ".js"}, {"a.%22", ""},
        {"...", "..."},
    };
    struct multipart_opts o = defaults();
    size_t i;

    o.keep_extensions = true;
    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        struct buf body = BUF_INIT;
        struct result r;
        const char *nf;

        buf_init(&body);
        buf_addf(&body, "--XyZ\r\nContent-Disposition: form-data; name=f; filename=\"%s\"\r\n"
                        "Content-Type: text/plain\r\n\r\nx\r\n--XyZ--", cases[i].filename);
        parse(&r, CT, &o, body.data, body.len, 0);
        CHECK_EQ_INT(r.rc, 0);
        nf = json_string_value(json_object_get(json_object_get(r.files, "f"), "newFilename"));
        CHECK(nf && strlen(nf) >= 25);
        CHECK_EQ_STR(nf ? nf + 25 : NULL, cases[i].ext);
        result_free(&r);
        buf_release(&body);
    }
    clean_dir();
}

static void test_kinds(void)
{
    static const char body[] =
        "--XyZ\r\nContent-Disposition: form-data; name=named; filename=\"x.txt\"\r\n\r\nfield after all\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=ct\r\nContent-Type: image/png\r\n\r\nPNG\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=emptyct\r\nContent-Type:\r\n\r\nfield\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=b64\r\nContent-Transfer-Encoding: BASE64\r\n"
        "Content-Type: application/octet-stream\r\n\r\nSGVsbG8g\r\nd29y\r\nbGQ=\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=latin\r\nContent-Transfer-Encoding: binary\r\n\r\ncaf\xe9\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=utf\r\n\r\ncaf\xc3\xa9 \xff\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=nul\r\n\r\na\0b\r\n"
        "--XyZ\r\n\r\nno headers\r\n"
        "--XyZ--";
    struct multipart_opts o = defaults();
    struct result r;
    char *s, *data;
    size_t len;

    parse(&r, CT, &o, body, sizeof(body) - 1, 1);
    CHECK_EQ_INT(r.rc, 0);
    s = dump(r.fields);
    CHECK_EQ_STR(s, "{\"named\":\"field after all\",\"emptyct\":\"field\",\"latin\":\"caf\xc3\xa9\","
                    "\"utf\":\"caf\xc3\xa9 \xef\xbf\xbd\",\"nul\":\"a\\u0000b\",\"null\":\"no headers\"}");
    free(s);
    CHECK(json_is_null(json_object_get(json_object_get(r.files, "ct"), "originalFilename")));
    data = slurp(json_string_value(json_object_get(json_object_get(r.files, "b64"), "filepath")), &len);
    CHECK_EQ_INT(len, 11);
    CHECK(data && memcmp(data, "Hello world", 11) == 0);
    free(data);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(r.files, "b64"), "size")), 11);
    result_free(&r);
    clean_dir();
}

static void test_errors(void)
{
    static const struct {
        const char *body;
        const char *err;
    } cases[] = {
        {"--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nunterminated",
         "MultipartParser.end(): stream ended unexpectedly: state = PART_DATA"},
        {"--XyZ\r\nX-Bad1: x\r\n\r\nv\r\n--XyZ--",
         "MultipartParser.end(): stream ended unexpectedly: state = HEADER_FIELD"},
        {"--XyZ\r\n: x\r\n\r\nv\r\n--XyZ--",
         "MultipartParser.end(): stream ended unexpectedly: state = HEADER_FIELD"},
        {"--XyZ\r\nA: x\rB\r\n\r\nv\r\n--XyZ--",
         "MultipartParser.end(): stream ended unexpectedly: state = HEADER_VALUE_ALMOST_DONE"},
        {"--XyZ\r\nA: x\r\n\rv\r\n--XyZ--",
         "MultipartParser.end(): stream ended unexpectedly: state = HEADERS_ALMOST_DONE"},
        {"--XyZ x\r\n", "MultipartParser.end(): stream ended unexpectedly: state = START_BOUNDARY"},
        {"--XyZ-x", "MultipartParser.end(): stream ended unexpectedly: state = START_BOUNDARY"},
        {"--XyZ\rx", "MultipartParser.end(): stream ended unexpectedly: state = START_BOUNDARY"},
        {"no boundary at all", "MultipartParser.end(): stream ended unexpectedly: state = START_BOUNDARY"},
        {"", "MultipartParser.end(): stream ended unexpectedly: state = START"},
        {"--XyZ\r\nContent-Disposition: form-data; name=f\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nx\r\n--XyZ--",
         "unknown transfer-encoding"},
        {"--XyZ\r\nContent-Disposition: form-data; name=f; filename=e.txt\r\nContent-Type: text/plain\r\n\r\n\r\n--XyZ--",
         "options.allowEmptyFiles is false, file size should be greater than 0"},
    };
    struct multipart_opts o = defaults();
    size_t i;
    int mode;

    for (i = 0; i < ARRAY_SIZE(cases); i++)
        for (mode = 0; mode < 3; mode++) {
            struct result r;

            parse(&r, CT, &o, cases[i].body, strlen(cases[i].body), mode);
            CHECK(r.rc < 0);
            CHECK_EQ_STR(r.err, cases[i].err);
            CHECK(r.fields != NULL && r.files != NULL);
            CHECK_EQ_INT(json_object_size(r.files), 0);
            CHECK_EQ_INT(count_files(), 0);
            result_free(&r);
        }
}

static void test_limits(void)
{
    static const char three[] =
        "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\n12345\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=f; filename=f.txt\r\nContent-Type: text/plain\r\n\r\n123456\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=b\r\n\r\n67890\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=g; filename=g.txt\r\nContent-Type: text/plain\r\n\r\n1234\r\n"
        "--XyZ--";
    struct multipart_opts o;
    struct result r;
    char *s;

    /* Field bytes: 10 in total; 9 allowed.  What came before stays. */
    o = defaults();
    o.max_fields_size = 9;
    parse(&r, CT, &o, three, sizeof(three) - 1, 0);
    CHECK(r.rc < 0);
    CHECK_EQ_STR(r.err, "options.maxFieldsSize (9 bytes) exceeded, received 10 bytes of field data");
    s = dump(r.fields);
    CHECK_EQ_STR(s, "{\"a\":\"12345\"}");
    free(s);
    CHECK_EQ_INT(json_object_size(r.files), 0);
    CHECK_EQ_INT(count_files(), 0);     /* f.txt was complete, and is gone */
    result_free(&r);
    o.max_fields_size = 10;
    parse(&r, CT, &o, three, sizeof(three) - 1, 1);
    CHECK_EQ_INT(r.rc, 0);
    result_free(&r);
    clean_dir();

    /* File bytes: a limit on all files together. */
    o = defaults();
    o.max_file_size = 9;
    parse(&r, CT, &o, three, sizeof(three) - 1, 0);
    CHECK(r.rc < 0);
    CHECK_EQ_STR(r.err, "options.maxTotalFileSize (9 bytes) exceeded, received 10 bytes of file data");
    CHECK_EQ_INT(count_files(), 0);
    result_free(&r);
    o.max_file_size = 10;
    parse(&r, CT, &o, three, sizeof(three) - 1, 2);
    CHECK_EQ_INT(r.rc, 0);
    CHECK_EQ_INT(count_files(), 2);
    result_free(&r);
    clean_dir();

    /* Count of fields and files. */
    o = defaults();
    o.max_fields = 3;
    parse(&r, CT, &o, three, sizeof(three) - 1, 1);
    CHECK(r.rc < 0);
    CHECK_EQ_STR(r.err, "options.maxFields (3) exceeded");
    s = dump(r.fields);
    CHECK_EQ_STR(s, "{\"a\":\"12345\",\"b\":\"67890\"}");
    free(s);
    CHECK_EQ_INT(count_files(), 0);
    result_free(&r);

    /* Part headers are bounded. */
    {
        struct buf body = BUF_INIT;
        int i;

        buf_init(&body);
        buf_adds(&body, "--XyZ\r\nContent-Disposition: form-data; name=\"");
        for (i = 0; i < 20000; i++)
            buf_addc(&body, 'n');
        buf_adds(&body, "\"\r\n\r\nv\r\n--XyZ--");
        o = defaults();
        parse(&r, CT, &o, body.data, body.len, 2);
        CHECK(r.rc < 0);
        CHECK_EQ_STR(r.err, "multipart part headers larger than 16384 bytes");
        result_free(&r);
        buf_release(&body);
    }
}

static void test_io(void)
{
    static const char body[] =
        "--XyZ\r\nContent-Disposition: form-data; name=f; filename=f.txt\r\nContent-Type: text/plain\r\n\r\ndata\r\n--XyZ--";
    struct multipart_opts o = defaults();
    char missing[128], relative[256], cwd[200], err[200];
    struct multipart *mp;
    struct result r;
    json_t *fields, *files;

    /* An upload directory that does not exist: Node's fs error text. */
    snprintf(missing, sizeof(missing), "%s/nope", dir);
    o.upload_dir = missing;
    parse(&r, CT, &o, body, sizeof(body) - 1, 0);
    CHECK(r.rc < 0);
    CHECK(strncmp(r.err, "ENOENT: no such file or directory, open '", 41) == 0);
    CHECK(strstr(r.err, "/nope/") != NULL);
    result_free(&r);

    /* A relative directory is resolved against the cwd, "." and ".." too. */
    CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
    CHECK(chdir(dir) == 0);
    o.upload_dir = "./sub/../.";
    parse(&r, CT, &o, body, sizeof(body) - 1, 0);
    CHECK_EQ_INT(r.rc, 0);
    snprintf(relative, sizeof(relative), "%s/", dir);
    CHECK(strncmp(json_string_value(json_object_get(json_object_get(r.files, "f"), "filepath")),
                  relative, strlen(relative)) == 0);
    CHECK(strchr(json_string_value(json_object_get(json_object_get(r.files, "f"), "filepath")) +
                     strlen(relative), '/') == NULL);
    result_free(&r);
    CHECK(chdir(cwd) == 0);
    clean_dir();

    /* Freed before finishing: its files are removed; input after an error
     * or after the end is refused. */
    o = defaults();
    mp = multipart_new(CT, &o, err, sizeof(err));
    CHECK_EQ_INT(multipart_feed(mp, body, 100), 0);
    CHECK_EQ_INT(count_files(), 1);
    multipart_free(mp);
    CHECK_EQ_INT(count_files(), 0);

    mp = multipart_new(CT, &o, err, sizeof(err));
    CHECK(multipart_feed(mp, "--XyZ x", 7) < 0);
    CHECK(multipart_feed(mp, body, sizeof(body) - 1) < 0);
    CHECK(multipart_finish(mp, &fields, &files) < 0);
    json_decref(fields);
    json_decref(files);
    multipart_free(mp);

    mp = multipart_new(CT, &o, err, sizeof(err));
    CHECK_EQ_INT(multipart_feed(mp, body, sizeof(body) - 1), 0);
    CHECK_EQ_INT(multipart_finish(mp, &fields, &files), 0);
    CHECK(multipart_error(mp) == NULL);
    CHECK(multipart_feed(mp, "x", 1) < 0);
    json_decref(fields);
    json_decref(files);
    multipart_free(mp);
    CHECK_EQ_INT(count_files(), 1);     /* a good parse keeps its files */
    clean_dir();
}

int main(void)
{
    snprintf(dir, sizeof(dir), "/tmp/ah-mp-XXXXXX");
    if (mkdtemp(dir) == NULL || core_init() < 0) {
        perror("setup");
        return 1;
    }
    test_basic();
    test_random_splits();
    test_boundaries();
    test_multiples();
    test_names();
    test_extensions();
    test_kinds();
    test_errors();
    test_limits();
    test_io();
    clean_dir();
    rmdir(dir);
    return check_done();
}
