/*
 * op.c - asynchronous command sequences over the store, and the small
 * helpers every tasks file needs: node-resque's keys and job encoding,
 * JavaScript dates, JSON parsing of Redis text.
 *
 * An operation is a struct starting with `struct op`.  Each step sends one
 * command (or a batch, or a script) with the step to continue with; a
 * store error finishes the operation with that error.  The caller's
 * callback runs exactly once and never inside the call that started the
 * operation (op_done defers it while `in_call`), which is the libuv
 * contract of every API function here.
 */
#include "tasks/tasks_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/json_out.h"
#include "dispatch/dispatch.h"

struct op *op_new(struct tasks *t, size_t size, tq_cb cb, void *arg)
{
    struct op *op = xcalloc(1, size);

    op->t = t;
    op->cb = cb;
    op->arg = arg;
    op->in_call = true;
    tasks_ref(t);
    return op;
}

static void op_fire(void *p)
{
    struct op *op = p;
    struct tasks *t = op->t;

    if (op->cb)
        op->cb(op->status, op->status < 0 ? NULL : op->result, op->error, op->arg);
    if (op->release)
        op->release(op);
    json_decref(op->result);
    free(op->error);
    free(op);
    tasks_unref(t);
}

void op_done(struct op *op, json_t *result_take)
{
    if (op->finished)
        AH_BUG("operation finished twice");
    op->finished = true;
    op->result = result_take ? result_take : json_null();
    if (op->in_call)
        tasks_defer(op->t, op_fire, op);
    else
        op_fire(op);
}

void op_fail(struct op *op, int status, const char *fmt, ...)
{
    va_list ap;
    struct buf b = BUF_INIT;

    va_start(ap, fmt);
    buf_vaddf(&b, fmt, ap);
    va_end(ap);
    free(op->error);
    op->error = buf_detach(&b, NULL);
    op->status = status < 0 ? status : AH_EFAIL;
    op_done(op, NULL);
}

/* A reply that is an error, or an array holding one (MULTI), fails the op. */
static const struct store_reply *error_in(const struct store_reply *r)
{
    size_t i;

    if (r == NULL)
        return NULL;
    if (r->type == STORE_REPLY_ERROR)
        return r;
    if (r->type == STORE_REPLY_ARRAY)
        for (i = 0; i < r->elements; i++)
            if (r->element[i] && r->element[i]->type == STORE_REPLY_ERROR)
                return r->element[i];
    return NULL;
}

static void on_reply(int status, const struct store_reply *r, void *arg)
{
    struct op *op = arg;
    const struct store_reply *e;

    if (status < 0) {
        op_fail(op, status, "%s", store_strerror(status, r));
        return;
    }
    if ((e = error_in(r)) != NULL) {
        op_fail(op, AH_EFAIL, "%s", e->str ? e->str : "redis error");
        return;
    }
    op->next(op, r);
}

static void sent(struct op *op, int rc)
{
    if (rc < 0)
        op_fail(op, rc, "%s", rc == AH_ESTATE ? "store is closing" : rc == AH_EUNAVAIL ? "redis unavailable"
                                                                                     : ah_strerror(rc));
}

void op_cmd(struct op *op, op_step next, int argc, const char *const *argv, const size_t *lens)
{
    struct store *s = tasks_store(op->t);

    op->next = next;
    sent(op, s ? store_commandv(s, STORE_TASKS, argc, argv, lens, on_reply, op) : AH_ESTATE);
}

void op_cmdl(struct op *op, op_step next, const char *name, ...)
{
    const char *argv[16];
    int argc = 0;
    va_list ap;
    const char *a;

    argv[argc++] = name;
    va_start(ap, name);
    while ((a = va_arg(ap, const char *)) != NULL && argc < 16)
        argv[argc++] = a;
    va_end(ap);
    op_cmd(op, next, argc, argv, NULL);
}

void op_multi(struct op *op, op_step next, const struct store_batch *b)
{
    struct store *s = tasks_store(op->t);

    op->next = next;
    sent(op, s ? store_multi(s, STORE_TASKS, b, on_reply, op) : AH_ESTATE);
}

void op_eval(struct op *op, op_step next, const struct store_script *sc, int nkeys, int argc,
             const char *const *argv, const size_t *lens)
{
    struct store *s = tasks_store(op->t);

    op->next = next;
    sent(op, s ? store_eval(s, STORE_TASKS, sc, nkeys, argc, argv, lens, on_reply, op) : AH_ESTATE);
}

/* ---------------------------------------------------------------- keys and jobs */

static bool blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r' && *s != '\v' && *s != '\f')
            return false;
    return true;
}

char *tq_key(struct tasks *t, ...)
{
    struct buf b = BUF_INIT;
    va_list ap;
    const char *p;

    if (!blank(t->cfg.ns))
        buf_adds(&b, t->cfg.ns);
    va_start(ap, t);
    while ((p = va_arg(ap, const char *)) != NULL) {
        if (blank(p))
            continue;
        if (b.len)
            buf_addc(&b, ':');
        buf_adds(&b, p);
    }
    va_end(ap);
    if (b.data == NULL)
        buf_adds(&b, "");
    return buf_detach(&b, NULL);
}

char *tq_encode(const char *queue, const char *cls, json_t *args)
{
    json_t *o = json_object();
    char *s;

    json_object_set_new(o, "class", json_string_nocheck(cls ? cls : ""));
    json_object_set_new(o, "queue", json_string_nocheck(queue ? queue : ""));
    json_object_set_new(o, "args", args ? json_incref(args) : json_array());
    s = json_out_str(o, 0, 0, NULL);
    json_decref(o);
    return s;
}

json_t *tq_args_of(json_t *inputs)
{
    json_t *a = json_array();

    json_array_append_new(a, inputs ? json_incref(inputs) : json_null());
    return a;
}

json_t *tq_parse(const char *s, size_t len)
{
    json_error_t err;
    json_t *v;

    if (s == NULL)
        return NULL;
    v = core_json_parse(s, len, &err); /* JSON.parse, as node-resque reads */
    return v;
}

const char *tq_reply_str(const struct store_reply *r)
{
    if (r && (r->type == STORE_REPLY_STR || r->type == STORE_REPLY_STATUS))
        return r->str;
    return NULL;
}

long long tq_tail_int(const char *s)
{
    const char *c = strrchr(s, ':');

    return strtoll(c ? c + 1 : s, NULL, 10);
}

char *tq_js_string(json_t *v)
{
    return dispatch_js_string(v);
}

/* ---------------------------------------------------------------- dates */

static const char *const wdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void tq_date_string(uint64_t ms, char *out, size_t outlen)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&secs, &tm);
    snprintf(out, outlen, "%s %s %02d %04d %02d:%02d:%02d GMT+0000 (Coordinated Universal Time)",
             wdays[tm.tm_wday], months[tm.tm_mon], tm.tm_mday, tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
             tm.tm_sec);
}

bool tq_date_parse(const char *s, uint64_t *ms)
{
    struct tm tm;
    char wd[8], mon[8], sign = '+';
    int day, year, hh, mm, ss, off = 0, n = 0, i, msec = 0;
    time_t secs;

    memset(&tm, 0, sizeof(tm));
    if (s == NULL)
        return false;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &tm.tm_mon, &day, &hh, &mm, &ss, &n) == 6) {
        tm.tm_mon -= 1;
        if (s[n] == '.')
            msec = atoi(s + n + 1);
    } else if (sscanf(s, "%7s %7s %d %d %d:%d:%d GMT%c%4d", wd, mon, &day, &year, &hh, &mm, &ss, &sign, &off) >= 7) {
        for (i = 0; i < 12 && strcmp(months[i], mon) != 0; i++)
            ;
        if (i == 12)
            return false;
        tm.tm_mon = i;
    } else {
        return false;
    }
    if (tm.tm_mon < 0 || tm.tm_mon > 11 || day < 1 || day > 31 || hh > 24 || mm > 59 || ss > 60)
        return false;
    tm.tm_year = year - 1900;
    tm.tm_mday = day;
    tm.tm_hour = hh;
    tm.tm_min = mm;
    tm.tm_sec = ss;
    secs = timegm(&tm);
    /* GMT-0800 is 8 hours behind UTC: add them back */
    secs -= (sign == '-' ? -1 : 1) * ((off / 100) * 3600 + (off % 100) * 60);
    if (secs < 0)
        return false;
    *ms = (uint64_t)secs * 1000 + (uint64_t)(msec >= 0 && msec < 1000 ? msec : 0);
    return true;
}
