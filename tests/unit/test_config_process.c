/*
 * test_config_process.c - the pid file (process.md §4) and the hard-stop
 * watchdog (process.md §5), which must fire even when the loop is stuck.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uv.h>

#include "app/app.h"
#include "check.h"
#include "config/config.h"
#include "core/core.h"
#include "log/log.h"

static char *read_all(const char *path)
{
    struct buf b = BUF_INIT;
    char tmp[256];
    ssize_t n;
    int fd = open(path, O_RDONLY);

    if (fd < 0)
        return NULL;
    buf_adds(&b, "");
    while ((n = read(fd, tmp, sizeof(tmp))) > 0)
        buf_add(&b, tmp, (size_t)n);
    close(fd);
    return buf_detach(&b, NULL);
}

static void test_pid_file(void)
{
    char dir[] = "/tmp/ah-pid-test-XXXXXX";
    uv_loop_t loop;
    ah_app_t *app;
    char *pids, *want, *got, pid[32];
    FILE *devnull = fopen("/dev/null", "w");
    struct log_opts o = {AH_LOG_INFO, false, false, NULL, AH_LOG_INFO, 0, devnull};

    log_setup(&o);
    CHECK(mkdtemp(dir) != NULL);
    uv_loop_init(&loop);
    app = app_new(&loop);
    app->config = config_defaults();
    pids = xasprintf("%s/a/b/pids", dir);
    config_set(app, "general.paths.pid", json_pack("[s]", pids));
    app->id = xstrdup("  fe80::1 my host/x  ");
    CHECK_EQ_INT(app_write_pid(app), 0);
    /* trimmed; ':' -> '-', ' ' -> '_' ('/' -> '_' too); parents created */
    want = xasprintf("%s/actionhero-fe80--1_my_host_x", pids);
    CHECK_EQ_STR(app->pid_file, want);
    got = read_all(want);
    snprintf(pid, sizeof(pid), "%d", (int)getpid());
    CHECK_EQ_STR(got, pid);                 /* no newline */
    free(got);
    app_remove_pid(app);
    CHECK(access(want, F_OK) != 0);
    CHECK(app->pid_file == NULL);
    app_remove_pid(app);                    /* twice: nothing to do */
    free(want);

    /* an unwritable directory fails with one line */
    config_set(app, "general.paths.pid", json_pack("[s]", "/proc/self/nope"));
    CHECK(app_write_pid(app) < 0);
    CHECK(strncmp(app->fail_msg, "cannot ", 7) == 0);
    CHECK(strstr(app->fail_msg, "/proc/self/nope") != NULL);

    app_free(app);
    CHECK_EQ_INT(uv_loop_close(&loop), 0);
    {
        char *cmd = xasprintf("rm -rf '%s'", dir);
        int rc = system(cmd);

        (void)rc;
        free(cmd);
    }
    free(pids);
    log_shutdown();
    fclose(devnull);
}

/* A child arms the watchdog and then blocks forever: the parent sees the
 * message on stderr and exit status 1, and the pid file removed. */
static void test_watchdog(void)
{
    int fds[2];
    pid_t child;
    int status = 0;
    char buf[256] = "";
    ssize_t n, total = 0;
    char pidfile[] = "/tmp/ah-wd-test-XXXXXX";
    int fd = mkstemp(pidfile);

    CHECK(fd >= 0);
    close(fd);
    CHECK(pipe(fds) == 0);
    child = fork();
    if (child == 0) {
        uv_loop_t loop;
        ah_app_t *app;

        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        uv_loop_init(&loop);
        app = app_new(&loop);
        app->pid_file = xstrdup(pidfile);
        app_watchdog_arm(app, 150);
        for (;;)
            pause();
    }
    close(fds[1]);
    while ((n = read(fds[0], buf + total, sizeof(buf) - 1 - (size_t)total)) > 0)
        total += n;
    buf[total] = '\0';
    close(fds[0]);
    waitpid(child, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK_EQ_INT(WEXITSTATUS(status), 1);
    CHECK_EQ_STR(buf, "Process did not terminate within 150ms. Stopping now!\n");
    CHECK(access(pidfile, F_OK) != 0);
    unlink(pidfile);

    /* disarmed: nothing happens */
    child = fork();
    if (child == 0) {
        app_watchdog_arm(NULL, 50);
        app_watchdog_disarm();
        usleep(200 * 1000);
        _exit(0);
    }
    waitpid(child, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(void)
{
    test_pid_file();
    test_watchdog();
    return check_done();
}
