/*
 * log.c - the logger: Actionhero's console line (winston's printf format of
 * config/logger.ts), JSON lines, an optional JSON-lines file, and a rate
 * limit for warnings that peers can trigger.
 *
 * One mutex serialises formatting state and writes, so lines from worker
 * threads never interleave.  Each line is built in a buffer and written with
 * one call; the console is flushed per line (a pipe to a supervisor must see
 * every line even if the process is killed).
 */
#include "log/log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/app.h"
#include "config/config.h"
#include "core/json_out.h"

static const char *const names[] = {"emerg", "alert", "crit", "error",
                                    "warning", "notice", "info", "debug"};
/* winston's syslog colours (triple-beam config.syslog.colors) */
static const char *const colors[] = {"\x1b[31m", "\x1b[33m", "\x1b[31m", "\x1b[31m",
                                     "\x1b[31m", "\x1b[33m", "\x1b[32m", "\x1b[34m"};
#define COLOR_OFF "\x1b[39m"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static bool configured;
static struct log_opts opts = {AH_LOG_INFO, false, false, NULL, AH_LOG_INFO, 10, NULL};
static char *file_path;
static int file_fd = -1;
static uv_check_t flush_check; /* log_attach_loop */
static bool batching;
static struct buf line = BUF_INIT; /* the line being formatted, under the lock */
/* Console lines not yet handed to stdio (batching: flushed once per loop
 * iteration, at a warning or worse, or at LOG_PENDING_MAX bytes). */
#define LOG_PENDING_MAX 65536
static struct buf pending = BUF_INIT;
static FILE *pending_out;
static void flush_pending(void);

/* ------------------------------------------------------------ levels */

int log_level_parse(const char *name)
{
    int i;

    if (name == NULL)
        return -1;
    for (i = 0; i < 8; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

const char *log_level_name(int level)
{
    return level >= 0 && level < 8 ? names[level] : "info";
}

bool log_enabled(int level)
{
    int max = configured ? opts.level : AH_LOG_INFO;

    if (configured && file_fd >= 0 && opts.file_level > max)
        max = opts.file_level;
    return level <= max;
}

/* ------------------------------------------------------------ formatting */

void log_js_string(struct buf *b, const json_t *v)
{
    json_out_js_string(b, v);
}

static int by_key(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A copy of `v` with every object's keys in sorted order (winston's JSON
 * format uses safe-stable-stringify, which sorts). */
static json_t *sorted_copy(const json_t *v)
{
    if (json_is_object(v)) {
        size_t n = json_object_size(v), i = 0;
        const char **keys = xcalloc(n ? n : 1, sizeof(*keys));
        json_t *out = json_object();
        const char *k;
        json_t *x;

        json_object_foreach((json_t *)(uintptr_t)v, k, x)
            keys[i++] = k;
        qsort(keys, n, sizeof(*keys), by_key);
        for (i = 0; i < n; i++)
            json_object_set_new(out, keys[i], sorted_copy(json_object_get(v, keys[i])));
        free(keys);
        return out;
    }
    if (json_is_array(v)) {
        json_t *out = json_array();
        size_t i;

        for (i = 0; i < json_array_size(v); i++)
            json_array_append_new(out, sorted_copy(json_array_get(v, i)));
        return out;
    }
    return json_incref((json_t *)(uintptr_t)v);
}

static bool skipped_key(const char *k)
{
    if (k[0] != 'm' && k[0] != 't' && k[0] != 'l')
        return false;
    return strcmp(k, "message") == 0 || strcmp(k, "timestamp") == 0 || strcmp(k, "level") == 0;
}

/* Is the field left out of a text line (undefined, null, empty string)? */
static bool field_empty(const struct log_field *f)
{
    switch (f->kind) {
    case LOG_F_STR:
        return f->s == NULL || f->len == 0 || !core_utf8_valid(f->s, f->len);
    case LOG_F_INT:
        return false;
    case LOG_F_JSON_TEXT:
        return false;       /* NULL renders as "null", as JSON.stringify(null) */
    case LOG_F_VALUE:
        return f->v == NULL || json_is_null(f->v) ||
               (json_is_string(f->v) && json_string_length(f->v) == 0);
    }
    return true;
}

/* Is the field left out of a JSON line (undefined, invalid UTF-8)? */
static bool field_absent(const struct log_field *f)
{
    if (skipped_key(f->key))
        return true;
    if (f->kind == LOG_F_STR)
        return f->s == NULL || !core_utf8_valid(f->s, f->len);
    return f->kind == LOG_F_VALUE && f->v == NULL;
}

static void field_text(struct buf *b, const struct log_field *f)
{
    char num[24];

    switch (f->kind) {
    case LOG_F_STR:
        buf_add(b, f->s, f->len);
        break;
    case LOG_F_INT:
        buf_add(b, num, (size_t)core_fmt_i64(num, f->i));
        break;
    case LOG_F_JSON_TEXT:
        json_out(b, f->v, 0, 0);
        break;
    case LOG_F_VALUE:
        log_js_string(b, f->v);
        break;
    }
}

static void field_json(struct buf *b, const struct log_field *f)
{
    char num[24];

    switch (f->kind) {
    case LOG_F_STR:
        json_out_string(b, f->s, f->len, 0);
        break;
    case LOG_F_INT:
        buf_add(b, num, (size_t)core_fmt_i64(num, f->i));
        break;
    case LOG_F_JSON_TEXT: {
        struct buf t = BUF_INIT;

        json_out(&t, f->v, 0, 0);
        json_out_string(b, t.data, t.len, 0);
        buf_release(&t);
        break;
    }
    case LOG_F_VALUE: {
        json_t *sorted = sorted_copy(f->v);

        json_out(b, sorted, 0, 0);
        json_decref(sorted);
        break;
    }
    }
}

void log_format_fields(struct buf *b, uint64_t ts_ms, int level, const struct log_field *f,
                       size_t n, const char *msg, bool json, bool color)
{
    char ts[32];
    size_t i;

    if (level < 0 || level > AH_LOG_DEBUG)
        level = AH_LOG_INFO;    /* an unknown severity is logged as info */
    core_iso_date(ts_ms, ts, sizeof(ts));
    if (json) {
        /* winston's JSON format sorts the keys (safe-stable-stringify) */
        struct log_field own[3] = {
            {.key = "level", .kind = LOG_F_STR, .s = names[level], .len = strlen(names[level])},
            {.key = "message", .kind = LOG_F_STR, .s = msg, .len = strlen(msg)},
            {.key = "timestamp", .kind = LOG_F_STR, .s = ts, .len = strlen(ts)},
        };
        const struct log_field *stack[32], **all = stack;
        size_t m = 0, j;

        if (!core_utf8_valid(msg, own[1].len)) {
            own[1].s = "(invalid UTF-8)";
            own[1].len = strlen(own[1].s);
        }
        if (n + 3 > ARRAY_SIZE(stack))
            all = xcalloc(n + 3, sizeof(*all));
        for (i = 0; i < n; i++)
            if (!field_absent(&f[i]))
                all[m++] = &f[i];
        for (i = 0; i < 3; i++)
            all[m++] = &own[i];
        for (i = 1; i < m; i++) {           /* insertion sort: a dozen keys */
            const struct log_field *x = all[i];

            for (j = i; j > 0 && strcmp(all[j - 1]->key, x->key) > 0; j--)
                all[j] = all[j - 1];
            all[j] = x;
        }
        buf_addc(b, '{');
        for (i = 0; i < m; i++) {
            if (i)
                buf_addc(b, ',');
            json_out_string(b, all[i]->key, strlen(all[i]->key), 0);
            buf_addc(b, ':');
            field_json(b, all[i]);
        }
        buf_add(b, "}\n", 2);
        if (all != stack)
            free(all);
        return;
    }
    buf_add(b, ts, strlen(ts));
    buf_add(b, " - ", 3);
    if (color)
        buf_adds(b, colors[level]);
    buf_adds(b, names[level]);
    if (color)
        buf_adds(b, COLOR_OFF);
    buf_add(b, ": ", 2);
    buf_adds(b, msg);
    buf_addc(b, ' ');
    for (i = 0; i < n; i++) {
        if (skipped_key(f[i].key) || field_empty(&f[i]))
            continue;
        buf_adds(b, f[i].key);
        buf_addc(b, '=');
        field_text(b, &f[i]);
        buf_addc(b, ' ');
    }
    buf_addc(b, '\n');
}

/* The members of a data object as LOG_F_VALUE fields (into `stack` when it
 * has room, else a new array the caller frees). */
static struct log_field *object_fields(json_t *data, struct log_field *stack, size_t cap, size_t *n)
{
    struct log_field *f = stack;
    const char *k;
    json_t *v;

    *n = 0;
    if (!json_is_object(data))
        return f;
    if (json_object_size(data) > cap)
        f = xcalloc(json_object_size(data), sizeof(*f));
    json_object_foreach(data, k, v) {
        f[*n] = (struct log_field){.key = k, .kind = LOG_F_VALUE, .v = v};
        (*n)++;
    }
    return f;
}

void log_format(struct buf *b, uint64_t ts_ms, int level, json_t *data, const char *msg, bool json,
                bool color)
{
    struct log_field stack[16] = {{0}}, *f;
    size_t n;

    f = object_fields(data, stack, ARRAY_SIZE(stack), &n);
    log_format_fields(b, ts_ms, level, f, n, msg, json, color);
    if (f != stack)
        free(f);
}

/* ------------------------------------------------------------ sinks */

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

static void close_file(void)
{
    if (file_fd >= 0)
        close(file_fd);
    file_fd = -1;
    free(file_path);
    file_path = NULL;
}

/* Create the directory of `path` (and its parents) if missing. */
static void make_parent(const char *path)
{
    char *dir = xstrdup(path), *p;

    p = strrchr(dir, '/');
    if (p && p != dir) {
        *p = '\0';
        for (p = dir + 1; *p; p++) {
            if (*p == '/') {
                *p = '\0';
                mkdir(dir, 0755);
                *p = '/';
            }
        }
        mkdir(dir, 0755);
    }
    free(dir);
}

int log_setup(const struct log_opts *o)
{
    int rc = 0;

    pthread_mutex_lock(&lock);
    flush_pending();    /* lines for the old console go there */
    pending_out = NULL;
    close_file();
    opts = *o;
    opts.file = NULL;
    if (o->file && *o->file) {
        make_parent(o->file);
        file_fd = open(o->file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (file_fd < 0) {
            rc = -errno;
        } else {
            file_path = xstrdup(o->file);
            opts.file = file_path;
        }
    }
    configured = true;
    pthread_mutex_unlock(&lock);
    return rc;
}

void log_shutdown(void)
{
    log_detach_loop();
    pthread_mutex_lock(&lock);
    flush_pending();
    buf_release(&pending);
    pending_out = NULL;
    if (opts.out)
        fflush(opts.out);
    else
        fflush(stdout);
    close_file();
    opts.file = NULL;
    buf_release(&line);
    pthread_mutex_unlock(&lock);
}

static char *expand_file(ah_app_t *app, const char *tmpl)
{
    struct buf b = BUF_INIT;
    const char *p = tmpl;

    buf_adds(&b, "");
    while (*p) {
        if (strncmp(p, "{id}", 4) == 0) {
            buf_adds(&b, app->id ? app->id : "actionhero");
            p += 4;
        } else if (strncmp(p, "{env}", 5) == 0) {
            buf_adds(&b, app->env ? app->env : "development");
            p += 5;
        } else {
            buf_addc(&b, *p++);
        }
    }
    return buf_detach(&b, NULL);
}

int log_configure(ah_app_t *app, char *err, size_t errlen)
{
    struct log_opts o = {0};
    const char *file = config_str(app, "logger.file", NULL);
    char *path = file && *file ? expand_file(app, file) : NULL;
    int rc;

    o.level = log_level_parse(config_str(app, "logger.level", "info"));
    if (o.level < 0)
        o.level = AH_LOG_INFO;
    o.json = config_bool(app, "logger.json", false);
    o.color = !o.json && config_bool(app, "logger.colors", true) && isatty(STDOUT_FILENO);
    o.file = path;
    o.file_level = log_level_parse(config_str(app, "logger.fileLevel", "info"));
    if (o.file_level < 0)
        o.file_level = AH_LOG_INFO;
    o.peer_per_sec = (int)config_int(app, "logger.peerWarningsPerSecond", 10);
    rc = log_setup(&o);
    if (rc < 0)
        snprintf(err, errlen, "cannot open log file '%s': %s", path, strerror(-rc));
    free(path);
    return rc;
}

/* ------------------------------------------------------------ logging */

/* Batching: once log_attach_loop() has run, console lines of info and
 * debug are left in stdio's buffer and flushed once per loop iteration
 * (a uv_check handle, after the I/O callbacks that logged them), so a
 * burst of requests costs one write(2) for its log lines instead of one
 * each.  Warnings and worse are flushed at once. */

static FILE *console(void)
{
    return !configured ? stderr : opts.out ? opts.out : stdout;
}

/* Under the lock: write the pending console lines and flush stdio. */
static void flush_pending(void)
{
    FILE *out = pending_out ? pending_out : console();

    if (pending.len) {
        fwrite(pending.data, 1, pending.len, out);
        buf_reset(&pending);
    }
    fflush(out);
    if (pending.cap > 4 * LOG_PENDING_MAX)
        buf_release(&pending);
}

static void on_flush_check(uv_check_t *h)
{
    (void)h;
    pthread_mutex_lock(&lock);
    flush_pending();
    pthread_mutex_unlock(&lock);
}

/* Lines still pending when the process exits without log_shutdown (an
 * exit() on some path) go out with stdio's own exit flush. */
static void flush_at_exit(void)
{
    pthread_mutex_lock(&lock);
    if (pending.len)
        flush_pending();
    pthread_mutex_unlock(&lock);
}

void log_attach_loop(uv_loop_t *loop)
{
    static bool exit_hook;

    if (batching)
        return;
    if (!exit_hook) {
        exit_hook = true;
        atexit(flush_at_exit);
    }
    uv_check_init(loop, &flush_check);
    uv_check_start(&flush_check, on_flush_check);
    uv_unref((uv_handle_t *)&flush_check); /* never keeps the loop alive */
    batching = true;
}

void log_detach_loop(void)
{
    if (!batching)
        return;
    batching = false;
    uv_check_stop(&flush_check);
    uv_close((uv_handle_t *)&flush_check, NULL);
    pthread_mutex_lock(&lock);
    flush_pending();
    pthread_mutex_unlock(&lock);
}

static void emit_fields(int level, const struct log_field *f, size_t n, const char *msg)
{
    uint64_t now = core_now_ms();
    bool to_console, to_file, file_same = false;
    size_t start = 0;

    if (level < 0 || level > AH_LOG_DEBUG)
        level = AH_LOG_INFO;
    pthread_mutex_lock(&lock);
    to_console = level <= (configured ? opts.level : AH_LOG_INFO);
    to_file = configured && file_fd >= 0 && level <= opts.file_level;
    if (to_console) {
        FILE *out = console();
        bool json = configured && opts.json, color = configured && opts.color;

        if (pending.len && pending_out != out)
            flush_pending();
        pending_out = out;
        start = pending.len;
        log_format_fields(&pending, now, level, f, n, msg, json, color);
        file_same = json && !color;
    }
    if (to_file) {
        if (file_same) {
            write_all(file_fd, pending.data + start, pending.len - start);
        } else {
            buf_reset(&line);
            log_format_fields(&line, now, level, f, n, msg, true, false);
            write_all(file_fd, line.data, line.len);
            if (line.cap > 65536)
                buf_release(&line); /* a huge line: give the memory back */
        }
    }
    if (to_console && (!batching || level <= AH_LOG_WARNING || pending.len >= LOG_PENDING_MAX))
        flush_pending();
    pthread_mutex_unlock(&lock);
}

static void emit(int level, json_t *data, const char *msg)
{
    struct log_field stack[16] = {{0}}, *f;
    size_t n;

    f = object_fields(data, stack, ARRAY_SIZE(stack), &n);
    emit_fields(level, f, n, msg);
    if (f != stack)
        free(f);
}

void log_fields(int level, const char *msg, const struct log_field *f, size_t n)
{
    if (!log_enabled(level < 0 || level > AH_LOG_DEBUG ? AH_LOG_INFO : level))
        return;
    emit_fields(level, f, n, msg);
}

void log_vmsg(int level, json_t *data, const char *fmt, va_list ap)
{
    struct buf b = BUF_INIT;

    if (!log_enabled(level < 0 || level > AH_LOG_DEBUG ? AH_LOG_INFO : level))
        return;
    buf_vaddf(&b, fmt, ap);
    emit(level, data, b.data ? b.data : "");
    buf_release(&b);
}

void log_msg(int level, json_t *data, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vmsg(level, data, fmt, ap);
    va_end(ap);
}

void log_peer(struct log_ratelimit *rl, int level, json_t *data, const char *fmt, ...)
{
    uint64_t sec = core_mono_ms() / 1000;
    unsigned suppressed = 0;
    json_t *d = data;
    va_list ap;
    bool pass;

    if (!log_enabled(level))
        return;
    pthread_mutex_lock(&lock);
    if (rl->window != sec) {
        rl->window = sec;
        rl->count = 0;
    }
    pass = opts.peer_per_sec <= 0 || rl->count < (unsigned)opts.peer_per_sec;
    if (pass) {
        rl->count++;
        suppressed = rl->suppressed;
        rl->suppressed = 0;
    } else {
        rl->suppressed++;
    }
    pthread_mutex_unlock(&lock);
    if (!pass)
        return;
    if (suppressed > 0) {
        d = json_is_object(data) ? json_copy(data) : json_object();
        json_object_set_new(d, "suppressed", json_integer(suppressed));
    }
    va_start(ap, fmt);
    log_vmsg(level, d, fmt, ap);
    va_end(ap);
    if (d != data)
        json_decref(d);
}
