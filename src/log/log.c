/*
 * log.c - the logger (minimal first version: text to stdout).
 * TODO(#2): JSON lines, file sinks, colours.
 */
#include "log/log.h"

#include <stdio.h>
#include <string.h>

#include "core/core.h"

static struct log_opts opts = {AH_LOG_INFO, false, false, NULL, AH_LOG_INFO};

static const char *const names[] = {"emerg", "alert", "crit", "error",
                                    "warning", "notice", "info", "debug"};

int log_setup(const struct log_opts *o)
{
    opts = *o;
    return 0;
}

void log_shutdown(void)
{
}

int log_level_parse(const char *name)
{
    int i;

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
    return level <= opts.level;
}

void log_vmsg(int level, json_t *data, const char *fmt, va_list ap)
{
    char ts[32];
    struct buf b = BUF_INIT;

    (void)data;
    if (!log_enabled(level))
        return;
    core_iso_date(core_now_ms(), ts, sizeof(ts));
    buf_addf(&b, "%s - %s: ", ts, log_level_name(level));
    buf_vaddf(&b, fmt, ap);
    buf_addc(&b, '\n');
    fwrite(b.data, 1, b.len, stdout);
    fflush(stdout);
    buf_release(&b);
}

void log_msg(int level, json_t *data, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vmsg(level, data, fmt, ap);
    va_end(ap);
}
