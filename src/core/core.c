/*
 * core.c - allocation, buffers, clocks and random ids.
 */
#include "core/core.h"
#include "core/dtoa.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
/* Low-level SHA-1 (deprecated in OpenSSL 3, silenced here only): the server
 * links libcrypto.a statically and wants its SHA-1 alone, not EVP. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <pthread.h>
#include <sodium.h>

void core_bug(const char *file, int line, const char *msg)
{
    fprintf(stderr, "BUG: %s:%d: %s\n", file, line, msg);
    abort();
}

static void oom(size_t n)
{
    fprintf(stderr, "fatal: out of memory allocating %zu bytes\n", n);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (p == NULL)
        oom(n);
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p;

    if (size && n > SIZE_MAX / size)
        oom(SIZE_MAX);
    if (n * size <= 1024 && n * size > 0) {
        /* glibc's calloc skips the per-thread cache (tcache) that malloc
         * uses: for the small structs made per request, malloc + memset
         * is several times cheaper */
        p = malloc(n * size);
        if (p == NULL)
            oom(n * size);
        return memset(p, 0, n * size);
    }
    p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL)
        oom(n * size);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);

    if (q == NULL)
        oom(n);
    return q;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);

    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *xasprintf(const char *fmt, ...)
{
    struct buf b = BUF_INIT;
    va_list ap;

    va_start(ap, fmt);
    buf_vaddf(&b, fmt, ap);
    va_end(ap);
    return buf_detach(&b, NULL);
}

/* ---------------------------------------------------------------- buf */

static char buf_empty[1];

void buf_init(struct buf *b)
{
    b->data = buf_empty;
    b->len = 0;
    b->cap = 0;
}

void buf_release(struct buf *b)
{
    if (b->cap)
        free(b->data);
    buf_init(b);
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->cap)
        b->data[0] = '\0';
}

void buf_grow(struct buf *b, size_t extra)
{
    size_t need;

    if (b->data == NULL)
        buf_init(b);
    if (extra > SIZE_MAX - b->len - 1)
        oom(SIZE_MAX);
    need = b->len + extra + 1;
    if (need <= b->cap)
        return;
    if (need < b->cap * 2)
        need = b->cap * 2;
    if (need < 64)
        need = 64;
    if (b->cap == 0) {
        b->data = xmalloc(need);
        b->data[0] = '\0';
    } else {
        b->data = xrealloc(b->data, need);
    }
    b->cap = need;
}

void buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
    va_list cp;
    int n;

    buf_grow(b, 64);
    va_copy(cp, ap);
    n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, cp);
    va_end(cp);
    if (n < 0)
        return;
    if ((size_t)n >= b->cap - b->len) {
        buf_grow(b, (size_t)n);
        n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    }
    b->len += (size_t)n;
}

void buf_addf(struct buf *b, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    buf_vaddf(b, fmt, ap);
    va_end(ap);
}

char *buf_detach(struct buf *b, size_t *len)
{
    char *p;

    if (b->cap == 0)
        p = xstrdup("");
    else
        p = b->data;
    if (len)
        *len = b->len;
    buf_init(b);
    return p;
}

/* ---------------------------------------------------------------- clocks */

uint64_t core_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t core_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t ah_now_ms(void)
{
    return core_now_ms();
}

static const char wdays[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void core_http_date(uint64_t ms, char *out, size_t outlen)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    snprintf(out, outlen, "%s, %02d %s %04d %02d:%02d:%02d GMT", wdays[tm.tm_wday],
             tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
             tm.tm_sec);
}

void core_iso_date(uint64_t ms, char *out, size_t outlen)
{
    /* The date and time up to the seconds are cached per thread: a busy
     * server formats the same second thousands of times (every log line). */
    static __thread uint64_t cached_sec = UINT64_MAX;
    static __thread char head[64];
    uint64_t sec = ms / 1000;
    unsigned milli = (unsigned)(ms % 1000);

    if (sec != cached_sec) {
        time_t t = (time_t)sec;
        struct tm tm;

        gmtime_r(&t, &tm);
        snprintf(head, sizeof(head), "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        cached_sec = strlen(head) == 19 ? sec : UINT64_MAX; /* years past 9999: never cached */
    }
    if (cached_sec == UINT64_MAX || outlen < 25) {
        char full[96];

        snprintf(full, sizeof(full), "%s.%03uZ", head, milli % 1000);
        core_strlcpy(out, full, outlen);
        return;
    }
    memcpy(out, head, 19);
    out[19] = '.';
    out[20] = (char)('0' + milli / 100);
    out[21] = (char)('0' + milli / 10 % 10);
    out[22] = (char)('0' + milli % 10);
    out[23] = 'Z';
    out[24] = '\0';
}

int core_parse_http_date(const char *s, uint64_t *ms)
{
    struct tm tm;
    const char *end;
    time_t t;

    memset(&tm, 0, sizeof(tm));
    end = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (end == NULL)
        end = strptime(s, "%A, %d-%b-%y %H:%M:%S GMT", &tm);
    if (end == NULL)
        end = strptime(s, "%a %b %e %H:%M:%S %Y", &tm);
    if (end == NULL)
        return -1;
    t = timegm(&tm);
    if (t < 0)
        return -1;
    *ms = (uint64_t)t * 1000;
    return 0;
}

/* ---------------------------------------------------------------- ids */

int core_init(void)
{
    return sodium_init() < 0 ? -1 : 0;
}

/* A pool of CSPRNG bytes refilled 4 KiB at a time, per thread, by "fast
 * key erasure" (Bernstein): ChaCha20 keystream under a 32-byte key; the
 * first 32 bytes of each refill become the next key and are never handed
 * out, so earlier output cannot be recomputed from the state.  The key
 * comes from the OS (randombytes_buf: getrandom) at first use, in a forked
 * child, and every 256 refills (1 MiB); libsodium's own generator asks the
 * kernel for every 256 bytes, which was 0.17 getrandom(2) calls per web
 * request.  Bytes handed out are wiped from the pool. */
static _Thread_local unsigned char pool[4096];
static _Thread_local size_t pool_left;
static _Thread_local unsigned char pool_key[crypto_stream_chacha20_KEYBYTES];
static _Thread_local unsigned pool_refills;

/* In a forked child (only the forking thread exists there) the copied
 * pool and key must not be used: drop them, so the next call reseeds. */
static void pool_forget(void)
{
    sodium_memzero(pool, sizeof(pool));
    sodium_memzero(pool_key, sizeof(pool_key));
    pool_left = 0;
    pool_refills = 0;
}

static void register_fork_handler(void)
{
    pthread_atfork(NULL, NULL, pool_forget);
}

static void pool_refill(void)
{
    static const unsigned char nonce[crypto_stream_chacha20_NONCEBYTES];
    static pthread_once_t once = PTHREAD_ONCE_INIT;

    if (pool_refills % 256 == 0) {
        pthread_once(&once, register_fork_handler);
        randombytes_buf(pool_key, sizeof(pool_key));
    }
    pool_refills++;
    /* a fresh key each time, so the fixed nonce never repeats under one */
    crypto_stream_chacha20(pool, sizeof(pool), nonce, pool_key);
    memcpy(pool_key, pool, sizeof(pool_key));
    sodium_memzero(pool, sizeof(pool_key));
    pool_left = sizeof(pool) - sizeof(pool_key);
}

void core_random_bytes(void *out, size_t n)
{
    unsigned char *o = out;

    while (n > 0) {
        size_t take;

        if (pool_left == 0)
            pool_refill();
        take = n < pool_left ? n : pool_left;
        memcpy(o, pool + sizeof(pool) - pool_left, take);
        sodium_memzero(pool + sizeof(pool) - pool_left, take);
        pool_left -= take;
        o += take;
        n -= take;
    }
}

/* "00".."ff": the two lower-case hex digits of every byte value.  Ids are
 * random, not secret-dependent lookups, so a table is fine (no need for
 * sodium_bin2hex's constant-time arithmetic). */
static const char hex_pairs[513] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
    "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
    "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
    "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
    "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
    "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

static char *hex_put(char *out, const unsigned char *in, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++, out += 2)
        memcpy(out, hex_pairs + 2 * (size_t)in[i], 2);
    return out;
}

void core_hex(char *out, const void *in, size_t n)
{
    *hex_put(out, in, n) = '\0';
}

void core_uuid4(char out[37])
{
    unsigned char r[16];
    char *o = out;

    core_random_bytes(r, sizeof(r));
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
    /* 8-4-4-4-12 */
    o = hex_put(o, r, 4);
    *o++ = '-';
    o = hex_put(o, r + 4, 2);
    *o++ = '-';
    o = hex_put(o, r + 6, 2);
    *o++ = '-';
    o = hex_put(o, r + 8, 2);
    *o++ = '-';
    o = hex_put(o, r + 10, 6);
    *o = '\0';
}

void ah_uuid4(char out[37])
{
    core_uuid4(out);
}

void core_random_hex(char *out, size_t nbytes)
{
    unsigned char r[64];

    while (nbytes > 0) {
        size_t n = nbytes < sizeof(r) ? nbytes : sizeof(r);

        core_random_bytes(r, n);
        core_hex(out, r, n);
        out += n * 2;
        nbytes -= n;
    }
}

double core_random_unit(void)
{
    uint64_t r;

    core_random_bytes(&r, sizeof(r));
    return (double)(r >> 11) * (1.0 / 9007199254740992.0); /* 53 bits */
}

double ah_random_unit(void)
{
    return core_random_unit();
}

void core_sha1_hex(const void *p, size_t n, char out[41])
{
    unsigned char md[SHA_DIGEST_LENGTH];
    SHA_CTX ctx;

    if (SHA1_Init(&ctx) != 1 || SHA1_Update(&ctx, p, n) != 1 || SHA1_Final(md, &ctx) != 1)
        AH_BUG("SHA-1 failed in libcrypto");
    core_hex(out, md, sizeof(md));
}

/* ---------------------------------------------------------------- js */

bool core_is_array_index(const char *s, uint32_t *out)
{
    uint64_t v = 0;
    const char *p = s;

    if (*p == '\0' || (*p == '0' && p[1] != '\0'))
        return false;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (uint64_t)(*p - '0');
        if (v >= 4294967295ULL)
            return false;
    }
    if (out)
        *out = (uint32_t)v;
    return true;
}

bool core_truthy(const void *json_value)
{
    const json_t *v = json_value;

    if (v == NULL)
        return false;
    switch (json_typeof(v)) {
    case JSON_NULL:
    case JSON_FALSE:
        return false;
    case JSON_STRING:
        return json_string_length(v) > 0;
    case JSON_INTEGER:
        return json_integer_value(v) != 0;
    case JSON_REAL: {
        double d = json_real_value(v);
        return d == d && d != 0.0;
    }
    default:
        return true;
    }
}

size_t core_strlcpy(char *dst, const char *src, size_t size)
{
    size_t n = strlen(src);

    if (size) {
        size_t c = n < size - 1 ? n : size - 1;

        memcpy(dst, src, c);
        dst[c] = '\0';
    }
    return n;
}

int core_fmt_i64(char *out, long long v)
{
    int len = 0;

    if (v < 0)
        out[len++] = '-';
    len += dtoa_u64(v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v, out + len);
    out[len] = '\0';
    return len;
}

bool core_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;

    while (p < end) {
        unsigned c = *p;
        size_t need;
        unsigned cp, min;

        if (c < 0x80) {
            p++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1, cp = c & 0x1f, min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2, cp = c & 0x0f, min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if ((size_t)(end - p) <= need)
            return false;
        for (size_t i = 1; i <= need; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        p += need + 1;
    }
    return true;
}
