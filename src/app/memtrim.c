/*
 * memtrim.c - give freed heap back to the system after many connections
 * closed.
 *
 * glibc keeps what free() returned inside its heap: after 10,000 websockets
 * close, ~100 MB stay resident although nothing uses them (the next
 * connections would reuse them, so it is not a leak, but an idle server
 * should not look like it holds them).  malloc_trim(0) returns the free
 * pages (madvise) and the free top of the heap (sbrk).  It walks the free
 * lists, so it must not run per close: subsystems report what they freed
 * with app_note_freed(), and once that adds up to APP_TRIM_MIN_BYTES a
 * one-shot timer runs the trim APP_TRIM_QUIET_MS after the last report (a
 * mass close is one burst), at the latest APP_TRIM_MAX_WAIT_MS after the
 * first one (steady churn trims at most about once per that period).
 */
#include "app/app.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "log/log.h"

static void on_trim_closed(uv_handle_t *h)
{
    ah_app_t *app = h->data;

    app->trim_timer_open = false;
}

static void on_trim(uv_timer_t *t)
{
    ah_app_t *app = t->data;
    size_t freed = app->trim_freed;
    int released = 0;

    app->trim_freed = 0;
    app->trim_armed = false;
#if defined(__GLIBC__)
    released = malloc_trim(0);
#endif
    app->trim_count++;
    log_debug("malloc_trim after %zu bytes of connections were freed: %s", freed,
              released ? "memory returned" : "nothing to return");
}

void app_note_freed(ah_app_t *app, size_t bytes)
{
    uint64_t now, due;

    app->trim_freed += bytes;
    if (app->trim_freed < APP_TRIM_MIN_BYTES || !app->running || app->shutting_down)
        return;
    if (!app->trim_timer_open) {
        uv_timer_init(app->loop, &app->trim_timer);
        app->trim_timer.data = app;
        uv_unref((uv_handle_t *)&app->trim_timer);
        app->trim_timer_open = true;
    }
    now = uv_now(app->loop);
    if (!app->trim_armed) {
        app->trim_armed = true;
        app->trim_first = now;
    }
    due = now + APP_TRIM_QUIET_MS;
    if (due > app->trim_first + APP_TRIM_MAX_WAIT_MS)
        due = app->trim_first + APP_TRIM_MAX_WAIT_MS;
    uv_timer_start(&app->trim_timer, on_trim, due > now ? due - now : 0, 0);
}

void app_trim_close(ah_app_t *app)
{
    app->trim_armed = false;
    app->trim_freed = 0;
    if (app->trim_timer_open && !uv_is_closing((uv_handle_t *)&app->trim_timer)) {
        uv_timer_stop(&app->trim_timer);
        uv_close((uv_handle_t *)&app->trim_timer, on_trim_closed);
    }
}
