/*
 * log.h - the one logger: Actionhero's levels (emerg 0 .. debug 7), a console
 * sink in Actionhero's text format or JSON lines, and optional file sinks.
 *
 * Text:  2026-12-03T12:18:09.519Z - notice: message key=value key=value
 * JSON:  {"level":"notice","message":"...","timestamp":"...", <data keys>}
 *
 * The sink is the one global of the server (with the action table).
 */
#ifndef AH_SRC_LOG_LOG_H
#define AH_SRC_LOG_LOG_H

#include <jansson.h>
#include <stdbool.h>

#include <ah/ah.h>

struct log_opts {
    int level;          /* most verbose level printed (AH_LOG_INFO) */
    bool json;          /* JSON lines on stdout instead of text */
    bool color;         /* ANSI colours on the level (text only) */
    const char *file;   /* also append JSON lines to this file, or NULL */
    int file_level;
};

/* Configure the sink (safe to call again to reconfigure).  Before this runs,
 * messages at info and more severe go to stderr as text. */
int log_setup(const struct log_opts *opts);
void log_shutdown(void);

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

#endif /* AH_SRC_LOG_LOG_H */
