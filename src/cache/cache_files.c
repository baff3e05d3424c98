/*
 * cache_files.c - the namespace calls: keys, locks, getKeys, size, clear
 * (SCAN with MATCH/COUNT until the cursor is back to 0, as Actionhero's
 * getKeys), and dumpWrite / dumpRead with their files read and written
 * through libuv's fs requests (never a blocking read on the loop).
 */
#include "cache/cache_internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "core/json_out.h"

#define CHUNK 1000          /* keys per DEL, commands per pipeline */

/* ------------------------------------------------------------- scans */

static void scan_next(struct creq *q);

static void on_scan(struct creq *q, int status, const struct store_reply *r)
{
    const struct store_reply *cur, *arr;
    size_t i;

    if (status < 0) {
        cache_fail_store(q, status, r);
        return;
    }
    if (r->type != STORE_REPLY_ARRAY || r->elements != 2 || (cur = r->element[0])->type != STORE_REPLY_STR ||
        (arr = r->element[1])->type != STORE_REPLY_ARRAY || cur->len >= sizeof(q->cursor)) {
        cache_finish(q, AH_EFAIL, NULL, "unexpected SCAN reply");
        return;
    }
    for (i = 0; i < arr->elements; i++) {
        if (arr->element[i]->type != STORE_REPLY_STR)
            continue;
        if (json_array_size(q->keys) >= q->c->cfg.max_scan_keys) {
            char msg[128];

            snprintf(msg, sizeof(msg), "more than cache.maxScanKeys (%zu) keys match '%.40s'",
                     q->c->cfg.max_scan_keys, q->pattern);
            cache_finish(q, AH_ELIMIT, NULL, msg);
            return;
        }
        json_array_append_new(q->keys, cache_js_string(arr->element[i]->str, arr->element[i]->len));
    }
    memcpy(q->cursor, cur->str, cur->len);
    q->cursor[cur->len] = '\0';
    if (strcmp(q->cursor, "0") == 0)
        q->after_scan(q);
    else
        scan_next(q);
}

static int scan_send(struct creq *q)
{
    char count[32];

    snprintf(count, sizeof(count), "%lld", q->count);
    return cache_send_cmd(q, on_scan, "SCAN", q->cursor, "MATCH", q->pattern, "COUNT", count, NULL);
}

static void scan_next(struct creq *q)
{
    cache_later(q, scan_send(q));
}

/* getKeys(pattern, count): collect, then after_scan(q). */
static int scan_start(struct creq *q, const char *pattern, long long count, void (*after)(struct creq *))
{
    q->pattern = xstrdup(pattern);
    q->count = count > 0 ? count : q->c->cfg.scan_count;
    q->keys = json_array();
    snprintf(q->cursor, sizeof(q->cursor), "0");
    q->after_scan = after;
    return scan_send(q);
}

static void after_keys(struct creq *q)
{
    json_t *keys = q->keys;

    q->keys = NULL;
    cache_finish(q, 0, keys, NULL);
}

static void after_size(struct creq *q)
{
    cache_finish(q, 0, json_integer((json_int_t)json_array_size(q->keys)), NULL);
}

/* DEL the scanned keys, CHUNK per command, in one pipeline; then `next`. */
static void del_keys(struct creq *q, step_fn next)
{
    struct store_batch b = STORE_BATCH_INIT;
    struct store *s = store_get(q->app);
    size_t n = json_array_size(q->keys), i, j;
    int rc = AH_EUNAVAIL;

    for (i = 0; i < n; i += CHUNK) {
        size_t m = n - i < CHUNK ? n - i : CHUNK;
        const char **argv = xcalloc(m + 1, sizeof(*argv));
        size_t *lens = xcalloc(m + 1, sizeof(*lens));

        argv[0] = "DEL";
        lens[0] = 3;
        for (j = 0; j < m; j++) {
            json_t *k = json_array_get(q->keys, i + j);

            argv[j + 1] = json_string_value(k);
            lens[j + 1] = json_string_length(k);
        }
        store_batch_addv(&b, (int)m + 1, argv, lens);
        free(argv);
        free(lens);
    }
    q->next = next;
    if (s)
        rc = store_pipeline(s, STORE_CLIENT, &b, cache_on_store, q);
    store_batch_release(&b);
    cache_later(q, rc);
}

static void on_cleared(struct creq *q, int status, const struct store_reply *r)
{
    json_t *keys;

    if (status < 0) {
        cache_fail_store(q, status, r);
        return;
    }
    keys = q->keys;
    q->keys = NULL;
    cache_finish(q, 0, keys, NULL);
}

static void after_clear(struct creq *q)
{
    if (json_array_size(q->keys) == 0)
        after_keys(q);
    else
        del_keys(q, on_cleared);
}

/* ------------------------------------------------------------- files */

/* Node's fs error text: "ENOENT: no such file or directory, open 'x'". */
static void fail_fs(struct creq *q, int rc, const char *op)
{
    char msg[600];

    if (strcmp(op, "open") == 0)
        snprintf(msg, sizeof(msg), "%s: %s, open '%.400s'", uv_err_name(rc), uv_strerror(rc), q->file);
    else
        snprintf(msg, sizeof(msg), "%s: %s, %s", uv_err_name(rc), uv_strerror(rc), op);
    cache_finish(q, AH_EFAIL, NULL, msg);
}

/* -- dumpWrite: keys() -> GET in pipelines -> write the file */

static void write_next(uv_fs_t *req);

static void on_write_closed(uv_fs_t *req)
{
    struct creq *q = req->data;
    int rc = (int)req->result;

    uv_fs_req_cleanup(req);
    q->fd = -1;
    if (rc < 0)
        fail_fs(q, rc, "close");
    else
        cache_finish(q, 0, json_integer((json_int_t)json_array_size(q->keys)), NULL);
}

static void write_close(struct creq *q)
{
    int rc = uv_fs_close(q->app->loop, &q->fs, q->fd, on_write_closed);

    if (rc < 0) {
        q->fd = -1;
        fail_fs(q, rc, "close");
    }
}

static void on_written(uv_fs_t *req)
{
    struct creq *q = req->data;
    ssize_t n = req->result;

    uv_fs_req_cleanup(req);
    if (n < 0) {
        uv_fs_close(q->app->loop, &q->fs, q->fd, NULL); /* synchronous */
        uv_fs_req_cleanup(&q->fs);
        q->fd = -1;
        fail_fs(q, (int)n, "write");
        return;
    }
    q->off += (size_t)n;
    write_next(req);
}

static void write_next(uv_fs_t *req)
{
    struct creq *q = req->data;
    uv_buf_t b;
    int rc;

    if (q->off >= q->data.len) {
        write_close(q);
        return;
    }
    b = uv_buf_init(q->data.data + q->off, (unsigned)(q->data.len - q->off));
    rc = uv_fs_write(q->app->loop, &q->fs, q->fd, &b, 1, -1, on_written);
    if (rc < 0) {
        uv_fs_close(q->app->loop, &q->fs, q->fd, NULL); /* synchronous */
        uv_fs_req_cleanup(&q->fs);
        q->fd = -1;
        fail_fs(q, rc, "write");
    }
}

static void on_write_open(uv_fs_t *req)
{
    struct creq *q = req->data;
    int rc = (int)req->result;

    uv_fs_req_cleanup(req);
    if (rc < 0) {
        fail_fs(q, rc, "open");
        return;
    }
    q->fd = rc;
    q->off = 0;
    write_next(req);
}

static void dump_get_next(struct creq *q);

static void on_dump_gets(struct creq *q, int status, const struct store_reply *r)
{
    size_t i;

    if (status < 0) {
        cache_fail_store(q, status, r);
        return;
    }
    for (i = 0; i < r->elements; i++) {
        const struct store_reply *e = r->element[i];
        json_t *k = json_array_get(q->keys, q->idx + i);

        if (e->type == STORE_REPLY_ERROR) {
            /* a list under the prefix: Actionhero throws WRONGTYPE too */
            cache_fail_store(q, AH_EFAIL, e);
            return;
        }
        json_object_setn_new(q->dump, json_string_value(k), json_string_length(k),
                             e->type == STORE_REPLY_STR ? cache_js_string(e->str, e->len) : json_null());
    }
    q->idx += r->elements;
    dump_get_next(q);
}

static void dump_get_next(struct creq *q)
{
    size_t n = json_array_size(q->keys), i, m;
    struct store_batch b = STORE_BATCH_INIT;
    struct store *s;
    char *text;
    int rc = AH_EUNAVAIL;

    if (q->idx >= n) {
        size_t len;

        text = cache_dump_json(q->dump, &len);
        buf_release(&q->data);
        buf_add(&q->data, text, len);
        free(text);
        q->fs.data = q;
        rc = uv_fs_open(q->app->loop, &q->fs, q->file, O_WRONLY | O_CREAT | O_TRUNC, 0666, on_write_open);
        if (rc < 0)
            fail_fs(q, rc, "open");
        return;
    }
    m = n - q->idx < CHUNK ? n - q->idx : CHUNK;
    for (i = 0; i < m; i++) {
        json_t *k = json_array_get(q->keys, q->idx + i);
        const char *argv[2] = {"GET", json_string_value(k)};
        size_t lens[2] = {3, json_string_length(k)};

        store_batch_addv(&b, 2, argv, lens);
    }
    q->next = on_dump_gets;
    if ((s = store_get(q->app)) != NULL)
        rc = store_pipeline(s, STORE_CLIENT, &b, cache_on_store, q);
    store_batch_release(&b);
    cache_later(q, rc);
}

static void after_dump_keys(struct creq *q)
{
    q->dump = json_object();
    q->idx = 0;
    dump_get_next(q);
}

/* -- dumpRead: read and check the file -> clear() -> SET ... KEEPTTL */

static void on_dump_sets(struct creq *q, int status, const struct store_reply *r);

/* The stored text for one dump entry: strings as they are; numbers and
 * booleans as JavaScript's String() would give them (what ioredis sends). */
static char *entry_text(json_t *v, size_t *len)
{
    char num[64];

    if (json_is_string(v)) {
        *len = json_string_length(v);
        return xstrndup(json_string_value(v), *len);
    }
    if (json_is_integer(v))
        snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        json_out_number(json_real_value(v), num);
    else if (json_is_boolean(v))
        snprintf(num, sizeof(num), "%s", json_is_true(v) ? "true" : "false");
    else if (json_is_null(v))
        num[0] = '\0';
    else
        return NULL;
    *len = strlen(num);
    return xstrdup(num);
}

static void dump_set_next(struct creq *q)
{
    struct store_batch b = STORE_BATCH_INIT;
    void *it = json_object_iter(q->dump);
    struct store *s;
    size_t i, m = 0;
    int rc = AH_EUNAVAIL;

    /* skip the entries already sent */
    for (i = 0; it && i < q->idx; i++)
        it = json_object_iter_next(q->dump, it);
    if (it == NULL) {
        cache_finish(q, 0, json_integer((json_int_t)json_object_size(q->dump)), NULL);
        return;
    }
    for (; it && m < CHUNK; it = json_object_iter_next(q->dump, it), m++) {
        const char *k = json_object_iter_key(it);
        size_t vlen = 0;
        char *v = entry_text(json_object_iter_value(it), &vlen);
        const char *argv[4] = {"SET", k, v, "KEEPTTL"};
        size_t lens[4] = {3, strlen(k), vlen, 7};

        store_batch_addv(&b, 4, argv, lens);
        free(v);
    }
    q->idx += m;
    q->next = on_dump_sets;
    if ((s = store_get(q->app)) != NULL)
        rc = store_pipeline(s, STORE_CLIENT, &b, cache_on_store, q);
    store_batch_release(&b);
    cache_later(q, rc);
}

static void on_dump_sets(struct creq *q, int status, const struct store_reply *r)
{
    size_t i;

    if (status < 0) {
        cache_fail_store(q, status, r);
        return;
    }
    for (i = 0; i < r->elements; i++) {
        if (r->element[i]->type == STORE_REPLY_ERROR) {
            cache_fail_store(q, store_reply_status_of(r->element[i]), r->element[i]);
            return;
        }
    }
    dump_set_next(q);
}

static void on_dump_cleared(struct creq *q, int status, const struct store_reply *r)
{
    if (status < 0) {
        cache_fail_store(q, status, r);
        return;
    }
    q->idx = 0;
    dump_set_next(q);
}

static void after_dump_clear_scan(struct creq *q)
{
    if (json_array_size(q->keys) == 0) {
        q->idx = 0;
        dump_set_next(q);
    } else {
        del_keys(q, on_dump_cleared);
    }
}

/* The file is read: parse and check it, then clear() the namespace. */
static void dump_parsed(struct creq *q)
{
    json_error_t jerr;
    const char *k;
    json_t *v;
    char msg[600], *pattern;
    int rc;

    q->dump = cache_parse_json(q->data.data ? q->data.data : "", q->data.len, &jerr);
    if (q->dump == NULL || !json_is_object(q->dump)) {
        if (q->dump == NULL)
            snprintf(msg, sizeof(msg), "invalid JSON in '%.400s': %s (line %d)", q->file, jerr.text, jerr.line);
        else
            snprintf(msg, sizeof(msg), "invalid dump file '%.400s': expected a JSON object", q->file);
        cache_finish(q, AH_EFAIL, NULL, msg);
        return;
    }
    json_object_foreach(q->dump, k, v) {
        if (!json_is_string(v) && !json_is_number(v) && !json_is_boolean(v) && !json_is_null(v)) {
            snprintf(msg, sizeof(msg), "invalid dump file '%.400s': the value of '%.100s' is not a string",
                     q->file, k);
            cache_finish(q, AH_EFAIL, NULL, msg);
            return;
        }
    }
    buf_release(&q->data);
    pattern = xasprintf("%s*", q->c->prefix);
    rc = scan_start(q, pattern, 0, after_dump_clear_scan);
    free(pattern);
    cache_later(q, rc);
}

static void read_next(struct creq *q);

static void on_read_closed(uv_fs_t *req)
{
    struct creq *q = req->data;

    uv_fs_req_cleanup(req);
    q->fd = -1;
    dump_parsed(q);
}

static void on_read(uv_fs_t *req)
{
    struct creq *q = req->data;
    ssize_t n = req->result;
    int rc;

    uv_fs_req_cleanup(req);
    if (n < 0) {
        uv_fs_close(q->app->loop, &q->fs, q->fd, NULL); /* synchronous */
        uv_fs_req_cleanup(&q->fs);
        q->fd = -1;
        fail_fs(q, (int)n, "read");
        return;
    }
    q->data.len += (size_t)n;
    q->data.data[q->data.len] = '\0';
    if (q->data.len > q->c->cfg.max_dump_bytes) {
        char msg[600];

        uv_fs_close(q->app->loop, &q->fs, q->fd, NULL); /* synchronous */
        uv_fs_req_cleanup(&q->fs);
        q->fd = -1;
        snprintf(msg, sizeof(msg), "dump file '%.400s' is larger than cache.maxDumpBytes (%zu)", q->file,
                 q->c->cfg.max_dump_bytes);
        cache_finish(q, AH_ELIMIT, NULL, msg);
        return;
    }
    if (n == 0) {
        rc = uv_fs_close(q->app->loop, &q->fs, q->fd, on_read_closed);
        if (rc < 0) {
            q->fd = -1;
            dump_parsed(q);
        }
        return;
    }
    read_next(q);
}

static void read_next(struct creq *q)
{
    uv_buf_t b;
    int rc;

    buf_grow(&q->data, 65536);
    b = uv_buf_init(q->data.data + q->data.len, (unsigned)(q->data.cap - q->data.len - 1));
    rc = uv_fs_read(q->app->loop, &q->fs, q->fd, &b, 1, -1, on_read);
    if (rc < 0) {
        uv_fs_close(q->app->loop, &q->fs, q->fd, NULL); /* synchronous */
        uv_fs_req_cleanup(&q->fs);
        q->fd = -1;
        fail_fs(q, rc, "read");
    }
}

static void on_read_open(uv_fs_t *req)
{
    struct creq *q = req->data;
    int rc = (int)req->result;

    uv_fs_req_cleanup(req);
    if (rc < 0) {
        fail_fs(q, rc, "open");
        return;
    }
    q->fd = rc;
    read_next(q);
}

/* ------------------------------------------------------------- entry points */

int cache_op_scan(struct creq *q, const char *prefix, const char *scope, const char *pattern, long long count,
                  enum cache_scan kind)
{
    void (*after)(struct creq *) = kind == CACHE_SCAN_SIZE ? after_size
                                 : kind == CACHE_SCAN_CLEAR ? after_clear : after_keys;

    char *p = pattern ? xstrdup(pattern) : xasprintf("%s%s*", prefix, scope ? scope : "");
    int rc = scan_start(q, p, count, after);

    free(p);
    return cache_start_req(q, rc);
}

int cache_op_dump_write(struct creq *q, const char *file)
{
    q->file = xstrdup(file);
    char *p = xasprintf("%s*", q->c->prefix);
    int rc = scan_start(q, p, 0, after_dump_keys);

    free(p);
    return cache_start_req(q, rc);
}

int cache_op_dump_read(struct creq *q, const char *file)
{
    q->file = xstrdup(file);
    q->fs.data = q;
    return cache_start_req(q, uv_fs_open(q->app->loop, &q->fs, q->file, O_RDONLY, 0, on_read_open));
}
