/*
 * log.h - the one logger: Actionhero's levels (emerg 0 .. debug 7), a console
 * sink in Actionhero's text format or JSON lines, and an optional file sink
 * (JSON lines).
 *
 * Text:  2026-12-03T12:18:09.519Z - notice: message key=value key=value
 *        (winston's console format: "<ts> - <level>: <message> " and then
 *        "key=value " for every data property that is not null or "",
 *        values converted like JS String(); the level is coloured only
 *        when the console is a terminal)
 * JSON:  {"level":"notice","message":"...","timestamp":"...", <data keys>}
 *        (keys sorted, as winston's JSON format writes them)
 *
 * The sink is the one global of the server (with the action table).  Every
 * function may be called from any thread; lines are written whole.
 */
#ifndef AH_SRC_LOG_LOG_H
#define AH_SRC_LOG_LOG_H

#include <jansson.h>
#include <uv.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <ah/ah.h>

#include "core/core.h"

struct log_opts {
    int level;          /* most verbose level printed (AH_LOG_INFO) */
    bool json;          /* JSON lines on the console instead of text */
    bool color;         /* ANSI colours on the level (text only) */
    const char *file;   /* also append JSON lines to this file, or NULL */
    int file_level;
    int peer_per_sec;   /* log_peer() lines per second and call site; 0: no limit */
    FILE *out;          /* console stream; NULL: stdout */
};

/* Configure the sink (safe to call again to reconfigure; the file is opened
 * here, in append mode, its directory created).  Before this runs, messages
 * at info and more severe go to stderr as text.  Returns 0 or a negative
 * errno-style code (the file cannot be opened); the console sink is set
 * up either way. */
int log_setup(const struct log_opts *opts);
/* Set up from the app's config (logger.level, .json, .colors, .file with
 * "{id}"/"{env}" replaced, .fileLevel, .peerWarningsPerSecond); `json` forces
 * JSON lines.  On error writes one line into err and returns <0. */
int log_configure(ah_app_t *app, char *err, size_t errlen);
/* Flush and close the file sink; later messages go to the console only. */
void log_shutdown(void);

/* Batch console output per loop iteration (info and debug lines are
 * flushed by a uv_check handle; warnings and worse at once).  Detach before
 * the loop is closed: it closes the handle and flushes. */
void log_attach_loop(uv_loop_t *loop);
void log_detach_loop(void);

/* Level name <-> number; unknown names give -1. */
int log_level_parse(const char *name);
const char *log_level_name(int level);
bool log_enabled(int level);

/* Log one line.  `data` (may be NULL) is an object of key/values appended as
 * `key=value` (text) or merged (JSON); it is borrowed. */
void log_msg(int level, json_t *data, const char *fmt, ...) AH_PRINTF(3, 4);
void log_vmsg(int level, json_t *data, const char *fmt, va_list ap);

#define log_emerg(...)   log_msg(AH_LOG_EMERG, NULL, __VA_ARGS__)
#define log_alert(...)   log_msg(AH_LOG_ALERT, NULL, __VA_ARGS__)
#define log_crit(...)    log_msg(AH_LOG_CRIT, NULL, __VA_ARGS__)
#define log_error(...)   log_msg(AH_LOG_ERROR, NULL, __VA_ARGS__)
#define log_warn(...)    log_msg(AH_LOG_WARNING, NULL, __VA_ARGS__)
#define log_notice(...)  log_msg(AH_LOG_NOTICE, NULL, __VA_ARGS__)
#define log_info(...)    log_msg(AH_LOG_INFO, NULL, __VA_ARGS__)
#define log_debug(...)   log_msg(AH_LOG_DEBUG, NULL, __VA_ARGS__)

/* Rate limit for warnings a peer can trigger (bad frames, oversized
 * requests...): one static struct per call site.
 *
 *     static struct log_ratelimit rl;
 *     log_peer(&rl, AH_LOG_WARNING, NULL, "bad frame from %s", ip);
 *
 * At most opts.peer_per_sec lines per second pass; the first line after a
 * suppressed burst carries suppressed=<n>. */
struct log_ratelimit {
    uint64_t window;      /* second (monotonic) of the current window */
    unsigned count;
    unsigned suppressed;
};
void log_peer(struct log_ratelimit *rl, int level, json_t *data, const char *fmt, ...) AH_PRINTF(4, 5);

/* A line's data as fields instead of a json_t object: the action log line
 * (one per request) is built from these without allocating.  Text format
 * prints `key=value` in the given order, skipping empty strings and nulls;
 * JSON format merges them with level/message/timestamp, keys sorted.  A
 * LOG_F_STR that is not valid UTF-8 is left out (jansson would refuse it). */
enum log_field_kind {
    LOG_F_STR,       /* s[0..len): a string */
    LOG_F_INT,       /* i: a number */
    LOG_F_JSON_TEXT, /* v: the string JSON.stringify(v) (NULL: "null") */
    LOG_F_VALUE,     /* v: the value itself (String(v) in text format; NULL: left out) */
};
struct log_field {
    const char *key;
    enum log_field_kind kind;
    const char *s;
    size_t len;
    long long i;
    const json_t *v;
};
void log_fields(int level, const char *msg, const struct log_field *f, size_t n);

/* Formatting, exposed for tests: one whole line with its '\n'. */
void log_format_fields(struct buf *b, uint64_t ts_ms, int level, const struct log_field *f,
                       size_t n, const char *msg, bool json, bool color);
void log_format(struct buf *b, uint64_t ts_ms, int level, json_t *data, const char *msg, bool json,
                bool color);
/* JS String(v) of a JSON value: strings as is, numbers as Number#toString,
 * objects "[object Object]", arrays joined with "," (null -> ""). */
void log_js_string(struct buf *b, const json_t *v);

#endif /* AH_SRC_LOG_LOG_H */
