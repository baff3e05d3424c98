/*
 * targets.h - the fuzz entry points for the parsers we feed from the
 * network, shared by the libFuzzer harnesses (fuzz_*.c) and by
 * tests/unit/test_fuzz_replay.c, which replays tests/fuzz/corpus/ under
 * `make test` (and so under ASan+UBSan) without clang.
 *
 * Each target checks properties, not just "no crash": every parse result
 * is a tree of valid UTF-8 strings that json_out can print; decodeURIComponent
 * output is valid UTF-8; a multipart body gives the same result whole,
 * byte by byte and in odd splits, and leaves no file behind on error.
 */
#ifndef AH_TESTS_FUZZ_TARGETS_H
#define AH_TESTS_FUZZ_TARGETS_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "core/core.h"
#include "core/json_out.h"
#include "http/multipart.h"
#include "http/query.h"

#define FUZZ_ASSERT(c) do { if (!(c)) { \
    fprintf(stderr, "fuzz property failed: %s (%s:%d)\n", #c, __FILE__, __LINE__); abort(); } } while (0)

static inline void fuzz_check_tree(json_t *v, int depth)
{
    const char *k;
    json_t *x;
    size_t i;

    FUZZ_ASSERT(v != NULL && depth < 200);
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        json_object_foreach(v, k, x)
            fuzz_check_tree(x, depth + 1);
        break;
    case JSON_ARRAY:
        json_array_foreach(v, i, x)
            fuzz_check_tree(x, depth + 1);
        break;
    case JSON_STRING:
        /* jansson refuses invalid UTF-8, so a copy must succeed */
        x = json_stringn(json_string_value(v), json_string_length(v));
        FUZZ_ASSERT(x != NULL);
        json_decref(x);
        break;
    default:
        break;
    }
}

static inline void fuzz_check_result(json_t *v)
{
    size_t len;
    char *s;

    FUZZ_ASSERT(json_is_object(v));
    fuzz_check_tree(v, 0);
    s = json_out_str(v, 0, 0, &len);
    FUZZ_ASSERT(len >= 2 && s[0] == '{' && s[len - 1] == '}');
    free(s);
    json_decref(v);
}

/* query_parse_qs (default and tight options), query_parse_simple and
 * query_unescape. */
static inline int fuzz_qs(const uint8_t *d, size_t n)
{
    const char *s = (const char *)d;
    struct qs_opts def = QS_OPTS_DEFAULT, tight = {2, 3, 16};
    struct buf b = BUF_INIT;

    fuzz_check_result(query_parse_qs(s, n, &def));
    fuzz_check_result(query_parse_qs(s, n, &tight));
    fuzz_check_result(query_parse_simple(s, n));
    buf_init(&b);
    if (query_unescape(&b, s, n, true, true) == 0) {
        json_t *x = json_stringn(b.data, b.len);

        FUZZ_ASSERT(x != NULL);
        json_decref(x);
    } else {
        FUZZ_ASSERT(b.len == 0);
    }
    buf_reset(&b);
    FUZZ_ASSERT(query_unescape(&b, s, n, false, false) == 0);
    FUZZ_ASSERT(b.len <= n);
    buf_release(&b);
    return 0;
}

/* query_parse_form with both multiples rules and a small field limit. */
static inline int fuzz_form(const uint8_t *d, size_t n)
{
    const char *s = (const char *)d;
    json_t *v;

    fuzz_check_result(query_parse_form(s, n, false, 1000));
    fuzz_check_result(query_parse_form(s, n, true, 1000));
    v = query_parse_form(s, n, true, 4);
    if (v)
        fuzz_check_result(v);
    return 0;
}

static inline int fuzz_dir_count(const char *dir)
{
    DIR *dp = opendir(dir);
    struct dirent *e;
    int count = 0;

    while (dp && (e = readdir(dp)))
        if (e->d_name[0] != '.')
            count++;
    if (dp)
        closedir(dp);
    return count;
}

static char fuzz_dir[64];

static inline void fuzz_remove_dir(void)
{
    if (fuzz_dir[0])
        rmdir(fuzz_dir);
}

static inline const char *fuzz_upload_dir(void)
{
    if (fuzz_dir[0] == '\0') {
        snprintf(fuzz_dir, sizeof(fuzz_dir), "/tmp/ah-fuzz-mp-XXXXXX");
        FUZZ_ASSERT(mkdtemp(fuzz_dir) != NULL);
        FUZZ_ASSERT(core_init() == 0);
        atexit(fuzz_remove_dir);
    }
    return fuzz_dir;
}

struct fuzz_mp_result {
    int rc;
    char *fields;           /* json_out of the fields */
    char *files;            /* sizes, mimetypes, names and contents */
};

/* One parse with chunks of `step` bytes (0: whole). */
static inline void fuzz_mp_once(const char *ct, const struct multipart_opts *o, const char *body,
                                size_t n, size_t step, struct fuzz_mp_result *r)
{
    char err[128];
    struct multipart *mp = multipart_new(ct, o, err, sizeof(err));
    json_t *fields, *files, *f;
    struct buf desc = BUF_INIT;
    const char *k;
    size_t i = 0;
    int rc = 0;

    memset(r, 0, sizeof(*r));
    if (mp == NULL) {
        r->rc = -1;
        return;
    }
    while (i < n && rc == 0) {
        size_t c = step ? step : n;

        if (c > n - i)
            c = n - i;
        rc = multipart_feed(mp, body + i, c);
        i += c;
    }
    r->rc = multipart_finish(mp, &fields, &files);
    FUZZ_ASSERT(fields != NULL && files != NULL);
    fuzz_check_tree(fields, 0);
    r->fields = json_out_str(fields, 0, 0, NULL);
    buf_init(&desc);
    if (r->rc)
        FUZZ_ASSERT(json_object_size(files) == 0 && multipart_error(mp) != NULL);
    json_object_foreach(files, k, f) {
        json_t *one, *list = json_is_array(f) ? f : NULL;
        size_t j, cnt = list ? json_array_size(list) : 1;

        for (j = 0; j < cnt; j++) {
            const char *path;
            FILE *fp;
            int ch;

            one = list ? json_array_get(list, j) : f;
            path = json_string_value(json_object_get(one, "filepath"));
            FUZZ_ASSERT(path != NULL);
            buf_addf(&desc, "%s:%lld:%s:", k, (long long)json_integer_value(json_object_get(one, "size")),
                     json_string_value(json_object_get(one, "mimetype")));
            fp = fopen(path, "rb");
            FUZZ_ASSERT(fp != NULL);
            while ((ch = fgetc(fp)) != EOF)
                buf_addc(&desc, (char)ch);
            fclose(fp);
            unlink(path);
            buf_addc(&desc, '\n');
        }
    }
    r->files = buf_detach(&desc, NULL);
    json_decref(fields);
    json_decref(files);
    multipart_free(mp);
}

/* Input: optional "CT:<content-type>\n" and "LIMITS\n" lines, then the
 * body.  Default Content-Type: multipart/form-data; boundary=XyZ. */
static inline int fuzz_multipart(const uint8_t *d, size_t n)
{
    const char *s = (const char *)d, *nl;
    char ct[256] = "multipart/form-data; boundary=XyZ";
    struct multipart_opts o = {NULL, true, false, 20 << 20, 200 << 20, 1000};
    struct fuzz_mp_result whole, bytes, odd;

    o.upload_dir = fuzz_upload_dir();
    if (n >= 3 && memcmp(s, "CT:", 3) == 0 && (nl = memchr(s, '\n', n)) != NULL) {
        size_t l = (size_t)(nl - s) - 3;

        if (l >= sizeof(ct))
            l = sizeof(ct) - 1;
        memcpy(ct, s + 3, l);
        ct[l] = '\0';
        n -= (size_t)(nl + 1 - s);
        s = nl + 1;
    }
    if (n >= 7 && memcmp(s, "LIMITS\n", 7) == 0) {
        o.max_fields_size = 64;
        o.max_file_size = 256;
        o.max_fields = 6;
        o.multiples = true;
        s += 7;
        n -= 7;
    }
    if (memchr(ct, '\0', sizeof(ct)) == NULL)
        return 0;
    fuzz_mp_once(ct, &o, s, n, 0, &whole);
    FUZZ_ASSERT(fuzz_dir_count(o.upload_dir) == 0);
    fuzz_mp_once(ct, &o, s, n, 1, &bytes);
    fuzz_mp_once(ct, &o, s, n, 7, &odd);
    FUZZ_ASSERT(fuzz_dir_count(o.upload_dir) == 0);
    /* Chunking never changes the outcome. */
    FUZZ_ASSERT((whole.rc == 0) == (bytes.rc == 0) && (whole.rc == 0) == (odd.rc == 0));
    if (whole.rc == 0) {
        FUZZ_ASSERT(strcmp(whole.fields, bytes.fields) == 0 && strcmp(whole.fields, odd.fields) == 0);
        FUZZ_ASSERT(strcmp(whole.files, bytes.files) == 0 && strcmp(whole.files, odd.files) == 0);
    }
    free(whole.fields);
    free(whole.files);
    free(bytes.fields);
    free(bytes.files);
    free(odd.fields);
    free(odd.files);
    return 0;
}

#endif /* AH_TESTS_FUZZ_TARGETS_H */
