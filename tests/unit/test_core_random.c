/*
 * test_core_random.c - the pooled CSPRNG (core_random_bytes): output spans
 * refills without repeats, looks uniform, never hands out the same bytes
 * twice, and a forked child does not replay its parent's stream.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "core/core.h"

#define TOTAL (2u << 20) /* 2 MiB: crosses the 1 MiB reseed too */

int main(void)
{
    unsigned char *buf = malloc(TOTAL);
    unsigned long count[256] = {0};
    size_t off = 0, i, step = 1;
    int bad = 0, fds[2];
    unsigned char mine[32], childs[32];
    pid_t pid;

    CHECK(core_init() == 0);
    /* odd sizes so that requests straddle every refill boundary */
    while (off < TOTAL) {
        size_t n = step < TOTAL - off ? step : TOTAL - off;

        core_random_bytes(buf + off, n);
        off += n;
        step = step % 97 + 13;
    }
    for (i = 0; i < TOTAL; i++)
        count[buf[i]]++;
    for (i = 0; i < 256; i++) {
        /* expected 8192 per value, sd ~90: 8 sd either way */
        if (count[i] < 8192 - 720 || count[i] > 8192 + 720)
            bad++;
    }
    CHECK_EQ_INT(bad, 0);
    /* no 32-byte block repeats anywhere (a replayed key or pool would) */
    bad = 0;
    for (i = 0; i + 64 <= TOTAL; i += 4096 - 7)
        if (memcmp(buf + i, buf + i + 32, 32) == 0)
            bad++;
    for (i = 0; i + 4096 + 32 <= TOTAL && bad == 0; i += 4093)
        if (memcmp(buf + i, buf + i + 4096, 32) == 0)
            bad++;
    CHECK_EQ_INT(bad, 0);
    /* after fork the child reseeds: parent and child draw different bytes */
    CHECK_EQ_INT(pipe(fds), 0);
    pid = fork();
    if (pid == 0) {
        core_random_bytes(childs, sizeof(childs));
        (void)!write(fds[1], childs, sizeof(childs));
        _exit(0);
    }
    core_random_bytes(mine, sizeof(mine));
    CHECK_EQ_INT(read(fds[0], childs, sizeof(childs)), (long long)sizeof(childs));
    waitpid(pid, NULL, 0);
    CHECK(memcmp(mine, childs, sizeof(mine)) != 0);
    free(buf);
    return check_done();
}
