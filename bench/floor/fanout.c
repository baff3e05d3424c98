/*
 * fanout.c - the floor for chat fan-out on this machine: one frame of the
 * same size as a chat `say` written with one write(2) to each of N
 * loopback TCP sockets, and the time until a reader has them all.
 *
 *   fanout-floor --members N --rounds R --bytes B --server-cpu C --load-cpu L
 *
 * The writer (the server's part) runs on CPU C, the reader (the clients'
 * part, one epoll loop over the N sockets like the load generator) on
 * CPU L.  Prints one JSON line: median and slowest round in ms, and the
 * writer's CPU time per delivery (user + kernel, and kernel alone).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static void pin(int cpu)
{
    cpu_set_t set;

    if (cpu < 0)
        return;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof(set), &set);
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static void die(const char *what)
{
    printf("{\"error\":\"%s: %s\"}\n", what, strerror(errno));
    exit(1);
}

/* The reader: connect n sockets, then per round read until every socket
 * has `bytes` more, and report the finishing time on `done`. */
static void reader(struct sockaddr_in *a, int n, int rounds, int bytes, int ready, int done)
{
    int ep = epoll_create1(0), i, r;
    int *fd = calloc((size_t)n, sizeof(*fd)), *got = calloc((size_t)n, sizeof(*got));
    struct epoll_event ev[256];
    char buf[65536];

    for (i = 0; i < n; i++) {
        struct epoll_event e = {.events = EPOLLIN, .data.u32 = (uint32_t)i};

        fd[i] = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(fd[i], (struct sockaddr *)a, sizeof(*a)) < 0)
            _exit(2);
        epoll_ctl(ep, EPOLL_CTL_ADD, fd[i], &e);
    }
    (void)!write(ready, "r", 1);
    for (r = 0; r < rounds; r++) {
        int complete = 0;

        while (complete < n) {
            int k = epoll_wait(ep, ev, 256, 10000), j;

            if (k <= 0)
                _exit(3);
            for (j = 0; j < k; j++) {
                int s = (int)ev[j].data.u32;
                ssize_t m = read(fd[s], buf, sizeof(buf));

                if (m <= 0)
                    _exit(4);
                got[s] += (int)m;
                if (got[s] >= bytes * (r + 1) && got[s] - (int)m < bytes * (r + 1))
                    complete++;
            }
        }
        {
            double t = now_us();

            (void)!write(done, &t, sizeof(t));
        }
    }
    _exit(0);
}

int main(int argc, char **argv)
{
    int n = 1000, rounds = 30, bytes = 140, scpu = -1, lcpu = -1, i, r;
    int lfd, one = 1, ready[2], done[2], *fd;
    struct sockaddr_in a = {0};
    socklen_t al = sizeof(a);
    double *ms, cpu = 0, sys = 0;
    char *frame;
    pid_t pid;

    for (i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--members") == 0)
            n = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--rounds") == 0)
            rounds = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--bytes") == 0)
            bytes = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--server-cpu") == 0)
            scpu = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--load-cpu") == 0)
            lcpu = atoi(argv[i + 1]);
    }
    if (n < 1 || rounds < 1 || bytes < 1 || bytes > 65536)
        return 1;
    signal(SIGPIPE, SIG_IGN);
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lfd, 4096) < 0 ||
        getsockname(lfd, (struct sockaddr *)&a, &al) < 0)
        die("listen");
    if (pipe(ready) < 0 || pipe(done) < 0)
        die("pipe");
    pid = fork();
    if (pid == 0) {
        pin(lcpu);
        reader(&a, n, rounds, bytes, ready[1], done[1]);
    }
    pin(scpu);
    fd = calloc((size_t)n, sizeof(*fd));
    ms = calloc((size_t)rounds, sizeof(*ms));
    frame = malloc((size_t)bytes);
    memset(frame, 'x', (size_t)bytes);
    for (i = 0; i < n; i++) {
        fd[i] = accept(lfd, NULL, NULL);
        if (fd[i] < 0)
            die("accept");
        setsockopt(fd[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    {
        char c;

        if (read(ready[0], &c, 1) != 1)
            die("reader");
    }
    for (r = 0; r < rounds; r++) {
        struct rusage u0, u1;
        double t0, t1;

        usleep(20000);
        getrusage(RUSAGE_SELF, &u0);
        t0 = now_us();
        for (i = 0; i < n; i++)
            if (write(fd[i], frame, (size_t)bytes) != bytes)
                die("write");
        getrusage(RUSAGE_SELF, &u1);
        if (read(done[0], &t1, sizeof(t1)) != sizeof(t1))
            die("reader");
        ms[r] = (t1 - t0) / 1000;
        cpu += (u1.ru_utime.tv_sec - u0.ru_utime.tv_sec) * 1e6 + (u1.ru_utime.tv_usec - u0.ru_utime.tv_usec) +
               (u1.ru_stime.tv_sec - u0.ru_stime.tv_sec) * 1e6 + (u1.ru_stime.tv_usec - u0.ru_stime.tv_usec);
        sys += (u1.ru_stime.tv_sec - u0.ru_stime.tv_sec) * 1e6 + (u1.ru_stime.tv_usec - u0.ru_stime.tv_usec);
    }
    waitpid(pid, NULL, 0);
    qsort(ms, (size_t)rounds, sizeof(*ms), cmp);
    printf("{\"median_ms\":%.3f,\"max_ms\":%.3f,\"cpu_us\":%.0f,\"sys_us\":%.0f,\"deliveries\":%d,\"writes\":%d}\n",
           ms[rounds / 2], ms[rounds - 1], cpu, sys, n * rounds, n * rounds);
    return 0;
}
