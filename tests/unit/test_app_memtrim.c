/*
 * test_app_memtrim.c - app_note_freed(): the heap goes back to the system
 * from a timer once enough was freed, not below the bound, not while the
 * app is not running, and the timer never keeps the loop alive.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "core/core.h"

#include "check.h"

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, res = 0;

    if (f == NULL)
        return -1;
    if (fscanf(f, "%ld %ld", &size, &res) != 2)
        res = -1;
    fclose(f);
    return res < 0 ? -1 : res * 4;
}

static void on_tick(uv_timer_t *t)
{
    (void)t;
}

/* Run the loop for about `ms` (a referenced timer keeps it alive: the
 * trim timer alone does not). */
static void run_for(uv_loop_t *loop, unsigned ms)
{
    uv_timer_t t;

    uv_timer_init(loop, &t);
    uv_timer_start(&t, on_tick, ms, 0);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
}

int main(void)
{
    enum { N = 1500, SZ = 16000 };
    static void *blocks[N], *small[N];
    uv_loop_t loop;
    ah_app_t *app;
    long before, after;
    size_t i;

    uv_loop_init(&loop);
    app = app_new(&loop);

    /* not running: nothing is armed, whatever was freed */
    app_note_freed(app, 10 * APP_TRIM_MIN_BYTES);
    CHECK(!app->trim_timer_open);
    app->trim_freed = 0;

    app->running = true;
    /* below the bound: only counted */
    app_note_freed(app, APP_TRIM_MIN_BYTES / 2);
    CHECK(!app->trim_armed);
    CHECK(uv_run(&loop, UV_RUN_NOWAIT) == 0);  /* nothing keeps the loop */
    CHECK_EQ_INT(app->trim_count, 0);

    /* ~24 MB in blocks with a live small one after each, so that the freed
     * blocks are holes glibc keeps (it returns only the top of the heap by
     * itself), like the memory of closed connections between live ones */
    for (i = 0; i < N; i++) {
        blocks[i] = malloc(SZ);
        memset(blocks[i], 1, SZ);
        small[i] = malloc(64);
    }
    for (i = 0; i < N; i++)
        free(blocks[i]);
    before = rss_kb();

    /* a burst of closes: many reports, one trim after the quiet time */
    for (i = 0; i < 100; i++)
        app_note_freed(app, APP_TRIM_MIN_BYTES / 50);
    CHECK(app->trim_armed);
    CHECK_EQ_INT(app->trim_count, 0);  /* never inside the caller */
    run_for(&loop, APP_TRIM_QUIET_MS + 200);
    CHECK_EQ_INT(app->trim_count, 1);
    CHECK(!app->trim_armed);
    CHECK_EQ_INT(app->trim_freed, 0);
    after = rss_kb();
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__)
    if (!(before - after > 10000))
        printf("# rss before %ld kB after %ld kB\n", before, after);
    CHECK(before - after > 10000);
#else
    (void)before;
    (void)after;
#endif

    /* nothing more was freed: no second trim */
    run_for(&loop, APP_TRIM_QUIET_MS + 100);
    CHECK_EQ_INT(app->trim_count, 1);

    /* stopping: the timer is closed, reports are ignored */
    app_note_freed(app, 2 * APP_TRIM_MIN_BYTES);
    CHECK(app->trim_armed);
    app_trim_close(app);
    app->shutting_down = true;
    app_note_freed(app, 2 * APP_TRIM_MIN_BYTES);
    CHECK(!app->trim_armed);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(!app->trim_timer_open);
    CHECK_EQ_INT(app->trim_count, 1);
    CHECK_EQ_INT(uv_loop_close(&loop), 0);

    for (i = 0; i < N; i++)
        free(small[i]);
    app->running = false;
    app_free(app);
    return check_done();
}
