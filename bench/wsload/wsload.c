/*
 * wsload.c - a WebSocket load generator that speaks Actionhero's Primus
 * protocol (libuv + wslay), for bench/run.sh.  A Node client saturates near
 * 30k messages/s, which would hide the server's speed; this one does not.
 *
 *   wsload rt     --port P [--sockets 100] [--seconds 5] [--warmup 1]
 *   wsload fanout --port P [--members 1000] [--idle 0] [--rounds 30]
 *   wsload idle   --port P [--sockets 10000]
 *   wsload slow   --port P [--members 32] [--slow 16] [--seconds 5]
 *                 [--rate 100] [--size 32768]
 *   common: [--host 127.0.0.1] [--pid SERVER_PID] [--room benchRoom]
 *           [--timeout 120] [--sources K] [--settle 1000]
 *
 * Every mode prints one JSON object on stdout (or {"error": "..."} and
 * exits 2).  With --pid, the server's CPU time (utime + stime from
 * /proc/PID/stat), its read/write syscall counts (/proc/PID/io) and its
 * RSS (/proc/PID/status) are sampled at the edges of the measured phase,
 * so connection set-up is not counted.
 *
 * rt:     N sockets, one `randomNumber` action in flight each (numeric
 *         messageId, checked on the reply); round trips/s and latency
 *         percentiles over the measured seconds, after a warm-up.
 * fanout: N members join the room (roomAdd), M idle sockets connect and
 *         do nothing; then, round after round, member 0 says a message and
 *         the time until every member (the speaker included, chat.md) has
 *         it is recorded.  Three warm-up rounds are not recorded.
 * idle:   RSS before, with M idle sockets (welcomed, then --settle ms),
 *         and 2 x --settle ms after they closed; the difference per
 *         connection.
 * slow:   members + K slow members + a speaker join the room; the speaker
 *         says --size byte messages at --rate per second.  --settle ms with
 *         everybody reading give the members' baseline latency; then the
 *         slow members stop reading for --seconds while the flood goes on
 *         (members' latency, server RSS sampled every 50 ms); then the slow
 *         members read again for 2 x --settle ms, and one that meets
 *         end-of-stream or a reset was dropped by the server.
 *
 * Connections: at most 256 handshakes in flight; --sources K spreads the
 * client sockets over the source addresses 127.0.0.1 .. 127.0.0.K (one
 * address has ~28k ephemeral ports towards one server port).
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>
#include <wslay/wslay.h>

#define MAX_CONNECTING 256
#define HS_MAX 4096

enum mode { M_RT, M_FANOUT, M_IDLE, M_SLOW };
enum role { R_RT, R_MEMBER, R_IDLE, R_SLOW, R_SPEAKER };
enum state { S_NEW, S_CONNECTING, S_HANDSHAKE, S_OPEN, S_CLOSED };

struct out {
    char *data;
    size_t len, cap;
};

struct ws {
    uv_tcp_t tcp;
    uv_connect_t creq;
    wslay_event_context_ptr ctx;
    unsigned idx;
    enum role role;
    enum state state;
    char *hs;               /* handshake response bytes, until "\r\n\r\n" */
    size_t hslen;
    const uint8_t *in;      /* the current read, fed to wslay */
    size_t inlen;
    struct out out;         /* frames wslay produced, not yet written */
    int writing;            /* a uv_write is in flight */
    int welcomed, joined, dropped, reading;
    uint64_t next_id;       /* messageId of the next message */
    uint64_t sent_at;       /* uv_hrtime() of the message in flight */
    unsigned got_round;     /* last fan-out round seen */
    uint64_t bytes_in;
};

struct wreq {
    uv_write_t req;
    struct ws *c;
    char *data;
};

/* latency samples in nanoseconds */
struct samples {
    uint64_t *v;
    size_t n, cap;
};

struct procsample {
    double cpu_us;
    unsigned long long syscr, syscw;
    long rss_kb;
};

static struct opts {
    enum mode mode;
    const char *host;
    int port;
    int pid;
    unsigned sockets, members, idle, slow, rounds, sources;
    double seconds, warmup, timeout;
    unsigned rate, size, settle;
    const char *room;
} o = {
    .host = "127.0.0.1", .port = 8080, .pid = 0, .sockets = 0, .members = 0,
    .idle = 0, .slow = 16, .rounds = 30, .sources = 1, .seconds = 5,
    .warmup = 1, .timeout = 120, .rate = 100, .size = 32768, .settle = 1000, .room = "benchRoom",
};

static uv_loop_t *loop;
static struct ws **conns;
static unsigned nconns, next_connect, connecting, opened, joined_count, closed_count;
static struct sockaddr_storage dst;
static uv_timer_t phase_timer, watchdog, pace_timer, sample_timer;
static int phase;           /* mode-specific */
static char inbuf[1 << 16];
static uint64_t rng = 0x9E3779B97F4A7C15ull;

/* rt */
static uint64_t rt_count, rt_errors;
static struct samples lat;
static uint64_t t_start, t_end;
static struct procsample ps0, ps1;

/* fanout */
static unsigned round_no, round_recv, round_acked;
static uint64_t round_t0;
static struct samples fan;
static unsigned warm_rounds = 3;

/* slow */
static struct samples lat_base, lat_flood;
static long rss_peak_kb;
static uint64_t flood_sent, flood_recv_members, flood_expected;
static char *say_buf;
static uint64_t pace_t0, pace_sent, t_flood0, t_flood1;

static void start_phase(void);
static void open_next(void);
static void send_text(struct ws *c, const char *s, size_t len);

/* ------------------------------------------------------------------ utils */

static void die(const char *fmt, ...)
{
    va_list ap;
    char msg[512];

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    printf("{\"error\":\"");
    for (const char *p = msg; *p; p++)
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if ((unsigned char)*p >= 0x20)
            putchar(*p);
    printf("\"}\n");
    fflush(stdout);
    _exit(2);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (p == NULL)
        die("out of memory");
    return p;
}

static void out_add(struct out *b, const void *data, size_t len)
{
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap : 256;

        while (cap < b->len + len)
            cap *= 2;
        b->data = realloc(b->data, cap);
        if (b->data == NULL)
            die("out of memory");
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
}

static void sample_add(struct samples *s, uint64_t ns)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 4096;
        s->v = realloc(s->v, s->cap * sizeof(*s->v));
        if (s->v == NULL)
            die("out of memory");
    }
    s->v[s->n++] = ns;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* Percentile p (0..100) in microseconds; -1 without samples. */
static double pct(struct samples *s, double p)
{
    size_t i;

    if (s->n == 0)
        return -1;
    qsort(s->v, s->n, sizeof(*s->v), cmp_u64);
    i = (size_t)(p / 100.0 * (double)(s->n - 1) + 0.5);
    return (double)s->v[i] / 1000.0;
}

static double mean_us(const struct samples *s)
{
    double sum = 0;

    for (size_t i = 0; i < s->n; i++)
        sum += (double)s->v[i];
    return s->n ? sum / (double)s->n / 1000.0 : -1;
}

static struct procsample proc_sample(void)
{
    struct procsample ps = {.cpu_us = -1, .rss_kb = -1};
    char path[64], buf[4096], *p;
    unsigned long long ut = 0, st = 0;
    FILE *f;
    size_t n;

    if (o.pid <= 0)
        return ps;
    snprintf(path, sizeof(path), "/proc/%d/stat", o.pid);
    if ((f = fopen(path, "r")) != NULL) {
        n = fread(buf, 1, sizeof(buf) - 1, f);
        buf[n] = '\0';
        fclose(f);
        /* fields after the command name "(...)": state is field 3,
         * utime 14, stime 15 */
        if ((p = strrchr(buf, ')')) != NULL &&
            sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) == 2)
            ps.cpu_us = (double)(ut + st) * 1e6 / (double)sysconf(_SC_CLK_TCK);
    }
    snprintf(path, sizeof(path), "/proc/%d/io", o.pid);
    if ((f = fopen(path, "r")) != NULL) {
        while (fgets(buf, sizeof(buf), f)) {
            sscanf(buf, "syscr: %llu", &ps.syscr);
            sscanf(buf, "syscw: %llu", &ps.syscw);
        }
        fclose(f);
    }
    snprintf(path, sizeof(path), "/proc/%d/status", o.pid);
    if ((f = fopen(path, "r")) != NULL) {
        while (fgets(buf, sizeof(buf), f))
            sscanf(buf, "VmRSS: %ld", &ps.rss_kb);
        fclose(f);
    }
    return ps;
}

static void print_proc(const char *sep)
{
    if (o.pid <= 0)
        return;
    printf("%s\"cpu_us\":%.0f,\"syscr\":%llu,\"syscw\":%llu,\"rss_before_kb\":%ld,\"rss_after_kb\":%ld",
           sep, ps1.cpu_us - ps0.cpu_us, ps1.syscr - ps0.syscr, ps1.syscw - ps0.syscw,
           ps0.rss_kb, ps1.rss_kb);
}

static void finish(void)
{
    fflush(stdout);
    _exit(0);   /* the kernel closes every socket (FIN) */
}

/* ------------------------------------------------------------ websocket io */

static void on_written(uv_write_t *w, int status);

static void flush(struct ws *c)
{
    struct wreq *r;
    uv_buf_t b;
    int n;

    if (c->writing || c->out.len == 0 || c->state == S_CLOSED)
        return;
    b = uv_buf_init(c->out.data, (unsigned)c->out.len);
    n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    if (n == (int)c->out.len) {
        c->out.len = 0;
        return;
    }
    if (n < 0 && n != UV_EAGAIN)
        return; /* the read side sees the error */
    if (n < 0)
        n = 0;
    r = xmalloc(sizeof(*r));
    r->c = c;
    r->data = xmalloc(c->out.len - (size_t)n);
    memcpy(r->data, c->out.data + n, c->out.len - (size_t)n);
    b = uv_buf_init(r->data, (unsigned)(c->out.len - (size_t)n));
    c->out.len = 0;
    c->writing = 1;
    if (uv_write(&r->req, (uv_stream_t *)&c->tcp, &b, 1, on_written) < 0) {
        free(r->data);
        free(r);
        c->writing = 0;
    }
}

static void on_written(uv_write_t *w, int status)
{
    struct wreq *r = (struct wreq *)w;
    struct ws *c = r->c;

    free(r->data);
    free(r);
    c->writing = 0;
    if (status == 0)
        flush(c);
}

static ssize_t cb_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *user)
{
    struct ws *c = user;

    (void)ctx;
    (void)flags;
    out_add(&c->out, data, len);
    return (ssize_t)len;
}

static ssize_t cb_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
                       void *user)
{
    struct ws *c = user;

    (void)flags;
    if (c->inlen == 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    if (len > c->inlen)
        len = c->inlen;
    memcpy(buf, c->in, len);
    c->in += len;
    c->inlen -= len;
    return (ssize_t)len;
}

/* Masking keys need not be unpredictable for a load generator. */
static int cb_genmask(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *user)
{
    (void)ctx;
    (void)user;
    for (size_t i = 0; i < len; i++) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        buf[i] = (uint8_t)rng;
    }
    return 0;
}

static void send_text(struct ws *c, const char *s, size_t len)
{
    struct wslay_event_msg m = {WSLAY_TEXT_FRAME, (const uint8_t *)s, len};

    if (c->state != S_OPEN)
        return;
    if (wslay_event_queue_msg(c->ctx, &m) != 0)
        die("wslay_event_queue_msg failed");
    wslay_event_send(c->ctx);
    flush(c);
}

/* The value after "key": as an unsigned number; 0 when absent. */
static uint64_t find_u64(const char *s, size_t len, const char *key)
{
    size_t kl = strlen(key);
    const char *p = memmem(s, len, key, kl);

    if (p == NULL)
        return 0;
    p += kl;
    return strtoull(p, NULL, 10);
}

static int has(const uint8_t *s, size_t len, const char *needle)
{
    return memmem(s, len, needle, strlen(needle)) != NULL;
}

/* ------------------------------------------------------------- scenarios */

static void send_action(struct ws *c)
{
    char msg[128];
    int n = snprintf(msg, sizeof(msg),
                     "{\"event\":\"action\",\"params\":{\"action\":\"randomNumber\"},\"messageId\":%" PRIu64 "}",
                     ++c->next_id);

    c->sent_at = uv_hrtime();
    send_text(c, msg, (size_t)n);
}

static void send_join(struct ws *c)
{
    char msg[256];
    int n = snprintf(msg, sizeof(msg), "{\"event\":\"roomAdd\",\"room\":\"%s\",\"messageId\":%" PRIu64 "}",
                     o.room, ++c->next_id);

    send_text(c, msg, (size_t)n);
}

static void send_say(struct ws *c, const char *text)
{
    char head[256];
    struct out m = {0};
    int n = snprintf(head, sizeof(head), "{\"event\":\"say\",\"room\":\"%s\",\"message\":\"", o.room);

    out_add(&m, head, (size_t)n);
    out_add(&m, text, strlen(text));
    n = snprintf(head, sizeof(head), "\",\"messageId\":%" PRIu64 "}", ++c->next_id);
    out_add(&m, head, (size_t)n);
    send_text(c, m.data, m.len);
    free(m.data);
}

static void on_all_open(void)
{
    unsigned i;

    switch (o.mode) {
    case M_RT:
        phase = 1; /* warm-up */
        for (i = 0; i < nconns; i++)
            send_action(conns[i]);
        uv_timer_start(&phase_timer, (uv_timer_cb)start_phase, (uint64_t)(o.warmup * 1000), 0);
        break;
    case M_IDLE:
        uv_timer_start(&phase_timer, (uv_timer_cb)start_phase, o.settle, 0);
        break;
    case M_FANOUT:
    case M_SLOW:
        for (i = 0; i < nconns; i++)
            if (conns[i]->role != R_IDLE)
                send_join(conns[i]);
        break;
    }
}

static void fan_round(void)
{
    char text[32];

    round_no++;
    round_recv = 0;
    round_acked = 0;
    snprintf(text, sizeof(text), "r%u", round_no);
    if (round_no == warm_rounds + 1)
        ps0 = proc_sample();
    round_t0 = uv_hrtime();
    send_say(conns[0], text);
}

static void fan_check_done(void)
{
    if (round_recv < o.members || !round_acked)
        return;
    if (round_no > warm_rounds)
        sample_add(&fan, uv_hrtime() - round_t0);
    if (round_no == warm_rounds + o.rounds) {
        ps1 = proc_sample();
        printf("{\"mode\":\"fanout\",\"members\":%u,\"idle\":%u,\"rounds\":%u,"
               "\"median_ms\":%.3f,\"min_ms\":%.3f,\"max_ms\":%.3f,\"p90_ms\":%.3f,\"deliveries\":%" PRIu64,
               o.members, o.idle, o.rounds, pct(&fan, 50) / 1000, pct(&fan, 0) / 1000,
               pct(&fan, 100) / 1000, pct(&fan, 90) / 1000, (uint64_t)o.rounds * o.members);
        print_proc(",");
        printf("}\n");
        finish();
    }
    /* a short pause so that every round starts from a quiet server */
    uv_timer_start(&phase_timer, (uv_timer_cb)fan_round, 10, 0);
}

static void slow_report(void)
{
    unsigned i, dropped = 0;
    uint64_t slow_bytes = 0;

    for (i = 0; i < nconns; i++)
        if (conns[i]->role == R_SLOW) {
            dropped += conns[i]->dropped;
            slow_bytes += conns[i]->bytes_in;
        }
    printf("{\"mode\":\"slow\",\"members\":%u,\"slow\":%u,\"rate\":%u,\"size\":%u,\"seconds\":%.1f,"
           "\"sent\":%" PRIu64 ",\"member_deliveries\":%" PRIu64 ",\"member_expected\":%" PRIu64 ","
           "\"slow_dropped\":%u,\"slow_bytes_read\":%" PRIu64 ","
           "\"base_p50_us\":%.1f,\"base_p99_us\":%.1f,\"flood_p50_us\":%.1f,\"flood_p99_us\":%.1f,"
           "\"rss_base_kb\":%ld,\"rss_peak_kb\":%ld,\"rss_end_kb\":%ld}\n",
           o.members, o.slow, o.rate, o.size, o.seconds, flood_sent, flood_recv_members, flood_expected,
           dropped, slow_bytes, pct(&lat_base, 50), pct(&lat_base, 99), pct(&lat_flood, 50),
           pct(&lat_flood, 99), ps0.rss_kb, rss_peak_kb, proc_sample().rss_kb);
    finish();
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b);
static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b);

static void slow_check_timeout(uv_timer_t *t)
{
    (void)t;
    slow_report();
}

static void mark_closed(struct ws *c, int dropped)
{
    if (c->state == S_CLOSED)
        return;
    c->state = S_CLOSED;
    c->dropped = dropped;
    closed_count++;
    uv_close((uv_handle_t *)&c->tcp, NULL);
    if (!dropped)
        return;
    /* closed by the server: expected only for slow members */
    if (o.mode == M_SLOW && c->role == R_SLOW)
        return;
    if (o.mode == M_RT && phase == 9)
        return;
    die("connection %u was closed by the server (opened %u of %u)", c->idx, opened, nconns);
}

static void sample_rss(uv_timer_t *t)
{
    struct procsample ps = proc_sample();

    (void)t;
    if (ps.rss_kb > rss_peak_kb)
        rss_peak_kb = ps.rss_kb;
}

/* Every 5 ms: say as many messages as --rate asks for by now.  Each starts
 * with its send time ("t" and 20 digits of uv_hrtime()). */
static void slow_pace(uv_timer_t *t)
{
    uint64_t now = uv_hrtime(), due = (now - pace_t0) * o.rate / 1000000000u;
    char stamp[32];
    int n;

    (void)t;
    while (pace_sent < due) {
        n = snprintf(stamp, sizeof(stamp), "t%020" PRIu64, uv_hrtime());
        memcpy(say_buf, stamp, (size_t)n);
        send_say(conns[0], say_buf);
        pace_sent++;
        if (phase == 2) {
            flood_sent++;
            flood_expected += o.members;
        }
    }
}

static void start_phase(void)
{
    unsigned i;

    switch (o.mode) {
    case M_RT:
        if (phase == 1) { /* warm-up over: measure */
            phase = 2;
            rt_count = 0;
            lat.n = 0;
            ps0 = proc_sample();
            t_start = uv_hrtime();
            uv_timer_start(&phase_timer, (uv_timer_cb)start_phase, (uint64_t)(o.seconds * 1000), 0);
        } else {
            t_end = uv_hrtime();
            ps1 = proc_sample();
            phase = 9;
            double secs = (double)(t_end - t_start) / 1e9;
            printf("{\"mode\":\"rt\",\"sockets\":%u,\"seconds\":%.3f,\"count\":%" PRIu64
                   ",\"rate\":%.1f,\"errors\":%" PRIu64 ",\"p50_us\":%.1f,\"p90_us\":%.1f,"
                   "\"p99_us\":%.1f,\"max_us\":%.1f,\"mean_us\":%.1f",
                   o.sockets, secs, rt_count, (double)rt_count / secs, rt_errors, pct(&lat, 50),
                   pct(&lat, 90), pct(&lat, 99), pct(&lat, 100), mean_us(&lat));
            print_proc(",");
            printf("}\n");
            finish();
        }
        break;
    case M_IDLE:
        if (phase == 0) { /* all welcomed and settled: measure, then close */
            ps1 = proc_sample();
            phase = 1;
            for (i = 0; i < nconns; i++)
                mark_closed(conns[i], 0);
            uv_timer_start(&phase_timer, (uv_timer_cb)start_phase, 2 * (uint64_t)o.settle, 0);
        } else {
            struct procsample ps2 = proc_sample();

            printf("{\"mode\":\"idle\",\"sockets\":%u,\"rss_before_kb\":%ld,\"rss_open_kb\":%ld,"
                   "\"rss_closed_kb\":%ld,\"per_conn_bytes\":%.0f}\n",
                   o.sockets, ps0.rss_kb, ps1.rss_kb, ps2.rss_kb,
                   (double)(ps1.rss_kb - ps0.rss_kb) * 1024.0 / o.sockets);
            finish();
        }
        break;
    case M_SLOW:
        if (phase == 1) { /* baseline over: the slow members stop reading */
            phase = 2;
            t_flood0 = uv_hrtime();
            for (i = 0; i < nconns; i++)
                if (conns[i]->role == R_SLOW) {
                    uv_read_stop((uv_stream_t *)&conns[i]->tcp);
                    conns[i]->reading = 0;
                }
            uv_timer_start(&phase_timer, (uv_timer_cb)start_phase, (uint64_t)(o.seconds * 1000), 0);
        } else if (phase == 2) { /* flood over: did the server drop them? */
            phase = 3;
            t_flood1 = uv_hrtime();
            uv_timer_stop(&pace_timer);
            for (i = 0; i < nconns; i++)
                if (conns[i]->role == R_SLOW && conns[i]->state != S_CLOSED) {
                    conns[i]->reading = 1;
                    uv_read_start((uv_stream_t *)&conns[i]->tcp, on_alloc, on_read);
                }
            /* The slow members read what is queued: a dropped one meets the
             * end of the stream, the others stay open.  Messages still in
             * flight to the members arrive meanwhile. */
            uv_timer_start(&phase_timer, slow_check_timeout, 2 * (uint64_t)o.settle, 0);
        }
        break;
    case M_FANOUT:
        break;
    }
}

static void on_joined(struct ws *c)
{
    (void)c;
    if (++joined_count < o.members + (o.mode == M_SLOW ? o.slow + 1 : 0))
        return;
    if (o.mode == M_FANOUT) {
        uv_timer_start(&phase_timer, (uv_timer_cb)fan_round, 200, 0);
    } else {
        ps0 = proc_sample();
        rss_peak_kb = ps0.rss_kb;
        phase = 1;
        pace_t0 = uv_hrtime();
        uv_timer_start(&pace_timer, slow_pace, 5, 5);
        uv_timer_start(&sample_timer, sample_rss, 50, 50);
        uv_timer_start(&phase_timer, (uv_timer_cb)start_phase, o.settle, 0);
    }
}

static void on_message(struct ws *c, const uint8_t *m, size_t len)
{
    uint64_t id;

    if (len > 15 && memcmp(m, "\"primus::ping::", 15) == 0) {
        char pong[64];
        size_t k = len - 15 - 1;

        if (k > 30)
            k = 30;
        int n = snprintf(pong, sizeof(pong), "\"primus::pong::%.*s\"", (int)k, (const char *)m + 15);
        send_text(c, pong, (size_t)n);
        return;
    }
    if (len > 0 && m[0] == '"')
        return; /* other Primus control strings */
    if (!c->welcomed) {
        if (!has(m, len, "\"welcome\""))
            return;
        c->welcomed = 1;
        c->state = S_OPEN;
        connecting--;
        opened++;
        open_next();
        if (opened == nconns)
            on_all_open();
        return;
    }
    if (has(m, len, "\"context\":\"user\"")) {
        if (o.mode == M_FANOUT) {
            /* "message":"r<round>" */
            unsigned r = (unsigned)find_u64((const char *)m, len, "\"message\":\"r");

            if (r == round_no && c->got_round != r) {
                c->got_round = r;
                round_recv++;
                fan_check_done();
            }
        } else if (o.mode == M_SLOW) {
            uint64_t t = find_u64((const char *)m, len, "\"message\":\"t");

            /* sorted by the time the message was said */
            if (c->role != R_MEMBER || t == 0)
                return;
            if (t_flood0 == 0 || t < t_flood0)
                sample_add(&lat_base, uv_hrtime() - t);
            else if (t_flood1 == 0 || t < t_flood1) {
                sample_add(&lat_flood, uv_hrtime() - t);
                flood_recv_members++;
            }
        }
        return;
    }
    if (!has(m, len, "\"context\":\"response\""))
        return;
    id = find_u64((const char *)m, len, "\"messageId\":");
    if (!c->joined && (o.mode == M_FANOUT || o.mode == M_SLOW)) {
        if (!has(m, len, "\"status\":\"OK\""))
            die("roomAdd failed: %.*s", (int)(len > 200 ? 200 : len), (const char *)m);
        c->joined = 1;
        on_joined(c);
        return;
    }
    switch (o.mode) {
    case M_RT:
        if (id != c->next_id)
            die("reply to messageId %" PRIu64 " while %" PRIu64 " was in flight", id, c->next_id);
        if (has(m, len, "\"error\""))
            rt_errors++;
        else if (!has(m, len, "\"randomNumber\""))
            die("unexpected reply: %.*s", (int)(len > 200 ? 200 : len), (const char *)m);
        if (phase == 2) {
            rt_count++;
            sample_add(&lat, uv_hrtime() - c->sent_at);
        }
        if (phase < 9)
            send_action(c);
        break;
    case M_FANOUT:
        if (c == conns[0] && id == c->next_id) {
            if (!has(m, len, "\"status\":\"OK\""))
                die("say failed: %.*s", (int)(len > 200 ? 200 : len), (const char *)m);
            round_acked = 1;
            fan_check_done();
        }
        break;
    default:
        break;
    }
}

static void cb_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                   void *user)
{
    struct ws *c = user;

    (void)ctx;
    if (arg->opcode == WSLAY_TEXT_FRAME)
        on_message(c, arg->msg, arg->msg_length);
    else if (arg->opcode == WSLAY_CONNECTION_CLOSE)
        mark_closed(c, 1);
}

static const struct wslay_event_callbacks callbacks = {
    .recv_callback = cb_recv,
    .send_callback = cb_send,
    .genmask_callback = cb_genmask,
    .on_msg_recv_callback = cb_msg,
};

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    (void)h;
    (void)hint;
    b->base = inbuf;
    b->len = sizeof(inbuf);
}

static void feed(struct ws *c, const char *data, size_t len)
{
    c->in = (const uint8_t *)data;
    c->inlen = len;
    if (wslay_event_recv(c->ctx) != 0) {
        mark_closed(c, 1);
        return;
    }
    if (c->state != S_CLOSED && wslay_event_want_write(c->ctx)) {
        wslay_event_send(c->ctx);
        flush(c);
    }
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    struct ws *c = s->data;
    char *end;

    if (n < 0) {
        if (c->state == S_HANDSHAKE || c->state == S_CONNECTING)
            die("connection %u: %s during the handshake", c->idx, uv_strerror((int)n));
        mark_closed(c, 1);
        return;
    }
    if (n == 0)
        return;
    c->bytes_in += (uint64_t)n;
    if (c->state == S_HANDSHAKE) {
        size_t take = (size_t)n;

        if (c->hslen + take > HS_MAX)
            die("handshake response too long");
        memcpy(c->hs + c->hslen, b->base, take);
        c->hslen += take;
        c->hs[c->hslen] = '\0';
        if ((end = strstr(c->hs, "\r\n\r\n")) == NULL)
            return;
        if (strncmp(c->hs, "HTTP/1.1 101", 12) != 0)
            die("handshake refused: %.*s", (int)strcspn(c->hs, "\r\n"), c->hs);
        c->state = S_OPEN; /* frames may follow; "opened" counts at the welcome */
        size_t rest = c->hslen - (size_t)(end + 4 - c->hs);
        char tmp[HS_MAX];

        memcpy(tmp, end + 4, rest);
        free(c->hs);
        c->hs = NULL;
        if (wslay_event_context_client_init(&c->ctx, &callbacks, c) != 0)
            die("wslay_event_context_client_init failed");
        if (rest > 0)
            feed(c, tmp, rest);
        return;
    }
    if (c->state == S_OPEN)
        feed(c, b->base, (size_t)n);
}

static void on_connect(uv_connect_t *req, int status)
{
    struct ws *c = req->data;
    char hs[512];
    uv_buf_t b;
    int n;

    if (status < 0)
        die("connection %u: cannot connect to %s:%d: %s", c->idx, o.host, o.port, uv_strerror(status));
    c->state = S_HANDSHAKE;
    c->hs = xmalloc(HS_MAX + 1);
    c->hslen = 0;
    n = snprintf(hs, sizeof(hs),
                 "GET /primus?sessionID=wsload%u HTTP/1.1\r\n"
                 "Host: %s:%d\r\n"
                 "Upgrade: websocket\r\n"
                 "Connection: Upgrade\r\n"
                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                 "Sec-WebSocket-Version: 13\r\n"
                 "\r\n",
                 c->idx, o.host, o.port);
    b = uv_buf_init(hs, (unsigned)n);
    if (uv_try_write((uv_stream_t *)&c->tcp, &b, 1) != n)
        die("connection %u: cannot write the handshake", c->idx);
    c->reading = 1;
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

static void open_next(void)
{
    while (connecting < MAX_CONNECTING && next_connect < nconns) {
        struct ws *c = conns[next_connect++];
        int rc;

        uv_tcp_init_ex(loop, &c->tcp, AF_INET);
        c->tcp.data = c;
        if (c->role == R_SLOW) {
            /* a small receive window, as on a slow link: the server's
             * socket buffer fills after a few hundred kilobytes */
            int sz = 65536;

            uv_recv_buffer_size((uv_handle_t *)&c->tcp, &sz);
        }
        c->creq.data = c;
        if (o.sources > 1) {
            struct sockaddr_in src;
            char ip[32];

            snprintf(ip, sizeof(ip), "127.0.0.%u", 1 + c->idx % o.sources);
            uv_ip4_addr(ip, 0, &src);
            if ((rc = uv_tcp_bind(&c->tcp, (const struct sockaddr *)&src, 0)) < 0)
                die("cannot bind %s: %s", ip, uv_strerror(rc));
        }
        if ((rc = uv_tcp_connect(&c->creq, &c->tcp, (const struct sockaddr *)&dst, on_connect)) < 0)
            die("connection %u: %s", c->idx, uv_strerror(rc));
        uv_tcp_nodelay(&c->tcp, 1);
        c->state = S_CONNECTING;
        connecting++;
    }
}

static void on_watchdog(uv_timer_t *t)
{
    (void)t;
    die("timed out (opened %u of %u, joined %u, round %u, received %u)", opened, nconns, joined_count,
        round_no, round_recv);
}

/* ------------------------------------------------------------------ main */

static void usage(void)
{
    fprintf(stderr, "usage: wsload rt|fanout|idle|slow --port P [options] (see the top of wsload.c)\n");
    exit(64);
}

int main(int argc, char **argv)
{
    unsigned i, n_members_total;
    struct sockaddr_in *sin = (struct sockaddr_in *)&dst;

    if (argc < 2)
        usage();
    if (strcmp(argv[1], "rt") == 0)
        o.mode = M_RT;
    else if (strcmp(argv[1], "fanout") == 0)
        o.mode = M_FANOUT;
    else if (strcmp(argv[1], "idle") == 0)
        o.mode = M_IDLE;
    else if (strcmp(argv[1], "slow") == 0)
        o.mode = M_SLOW;
    else
        usage();
    for (i = 2; i + 1 < (unsigned)argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];

        if (strcmp(k, "--host") == 0) o.host = v;
        else if (strcmp(k, "--port") == 0) o.port = atoi(v);
        else if (strcmp(k, "--pid") == 0) o.pid = atoi(v);
        else if (strcmp(k, "--sockets") == 0) o.sockets = (unsigned)atoi(v);
        else if (strcmp(k, "--members") == 0) o.members = (unsigned)atoi(v);
        else if (strcmp(k, "--idle") == 0) o.idle = (unsigned)atoi(v);
        else if (strcmp(k, "--slow") == 0) o.slow = (unsigned)atoi(v);
        else if (strcmp(k, "--rounds") == 0) o.rounds = (unsigned)atoi(v);
        else if (strcmp(k, "--sources") == 0) o.sources = (unsigned)atoi(v);
        else if (strcmp(k, "--seconds") == 0) o.seconds = atof(v);
        else if (strcmp(k, "--warmup") == 0) o.warmup = atof(v);
        else if (strcmp(k, "--timeout") == 0) o.timeout = atof(v);
        else if (strcmp(k, "--rate") == 0) o.rate = (unsigned)atoi(v);
        else if (strcmp(k, "--size") == 0) o.size = (unsigned)atoi(v);
        else if (strcmp(k, "--room") == 0) o.room = v;
        else if (strcmp(k, "--settle") == 0) o.settle = (unsigned)atoi(v);
        else usage();
    }
    if (i != (unsigned)argc)
        usage();
    if (o.sources < 1 || o.sources > 250)
        die("--sources must be 1..250");
    if (uv_ip4_addr(o.host, o.port, sin) != 0)
        die("bad --host '%s'", o.host);
    signal(SIGPIPE, SIG_IGN);
    loop = uv_default_loop();

    switch (o.mode) {
    case M_RT:
        nconns = o.sockets ? o.sockets : 100;
        o.sockets = nconns;
        break;
    case M_IDLE:
        nconns = o.sockets ? o.sockets : 10000;
        o.sockets = nconns;
        break;
    case M_FANOUT:
        o.members = o.members ? o.members : 1000;
        nconns = o.members + o.idle;
        break;
    case M_SLOW:
        o.members = o.members ? o.members : 32;
        nconns = 1 + o.members + o.slow;
        say_buf = xmalloc(o.size + 1);
        memset(say_buf, 'x', o.size);
        say_buf[o.size] = '\0';
        if (o.size < 24)
            die("--size must be at least 24");
        break;
    }
    n_members_total = nconns;
    conns = xmalloc(n_members_total * sizeof(*conns));
    for (i = 0; i < nconns; i++) {
        struct ws *c = calloc(1, sizeof(*c));

        if (c == NULL)
            die("out of memory");
        c->idx = i;
        switch (o.mode) {
        case M_RT: c->role = R_RT; break;
        case M_IDLE: c->role = R_IDLE; break;
        case M_FANOUT: c->role = i < o.members ? R_MEMBER : R_IDLE; break;
        case M_SLOW: c->role = i == 0 ? R_SPEAKER : i <= o.members ? R_MEMBER : R_SLOW; break;
        }
        conns[i] = c;
    }
    uv_timer_init(loop, &phase_timer);
    uv_timer_init(loop, &pace_timer);
    uv_timer_init(loop, &sample_timer);
    uv_timer_init(loop, &watchdog);
    uv_timer_start(&watchdog, on_watchdog, (uint64_t)(o.timeout * 1000), 0);
    if (o.mode == M_IDLE)
        ps0 = proc_sample();
    open_next();
    uv_run(loop, UV_RUN_DEFAULT);
    die("the event loop ended early");
    return 2;
}
