/*
 * core.h - allocation, growable buffers, clock and ids shared by every
 * subsystem.  Nothing here knows about connections or actions.
 */
#ifndef AH_SRC_CORE_CORE_H
#define AH_SRC_CORE_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include <ah/ah.h>

/* Allocation that aborts on failure (Redis, h2o, Kore): limits bound memory,
 * so running out is treated as fatal.  xcalloc checks n * size. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) AH_PRINTF(1, 2);

#define AH_BUG(msg) core_bug(__FILE__, __LINE__, (msg))
void core_bug(const char *file, int line, const char *msg) __attribute__((noreturn));

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Growable byte buffer (Git's strbuf).  `data` is always NUL-terminated
 * (the NUL is not counted in `len`). */
struct buf {
    char *data;
    size_t len;
    size_t cap;
};
#define BUF_INIT {NULL, 0, 0}
void buf_init(struct buf *b);
void buf_release(struct buf *b);             /* free the contents */
void buf_reset(struct buf *b);               /* len = 0, keep the memory */
void buf_grow(struct buf *b, size_t extra);  /* ensure room for `extra` more */
/* Appends: inline, the common case (room left) is a copy and a store. */
static inline void buf_add(struct buf *b, const void *p, size_t n)
{
    if (b->cap == 0 || b->cap - b->len <= n)
        buf_grow(b, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}
static inline void buf_adds(struct buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}
static inline void buf_addc(struct buf *b, char c)
{
    if (b->cap == 0 || b->cap - b->len <= 1)
        buf_grow(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}
void buf_addf(struct buf *b, const char *fmt, ...) AH_PRINTF(2, 3);
void buf_vaddf(struct buf *b, const char *fmt, va_list ap);
char *buf_detach(struct buf *b, size_t *len); /* caller frees; b is reset */

/* Clocks. */
uint64_t core_now_ms(void);        /* wall clock, ms since the epoch */
uint64_t core_mono_ms(void);       /* monotonic ms */
/* "Thu, 03 Dec 2026 13:18:16 GMT" (RFC 7231 / JS toUTCString). out >= 32. */
void core_http_date(uint64_t ms, char *out, size_t outlen);
/* "2026-12-03T13:18:16.941Z" (JS toISOString).  out >= 32. */
void core_iso_date(uint64_t ms, char *out, size_t outlen);
/* Parse an HTTP date; returns 0 and *ms on success, -1 otherwise. */
int core_parse_http_date(const char *s, uint64_t *ms);

/* Ids from libsodium's CSPRNG.  core_init() must have run (sodium_init). */
int core_init(void);
void core_random_bytes(void *out, size_t n); /* pooled: cheap for small n */
void core_uuid4(char out[37]);
void core_random_hex(char *out, size_t nbytes); /* out: 2*nbytes+1 chars */
/* Lower-case hex of n bytes, NUL-terminated (out: 2*n+1 chars); a table
 * lookup, not constant time: for ids and digests, not for secrets. */
void core_hex(char *out, const void *in, size_t n);
double core_random_unit(void);

/* Hex of SHA-1 / MD5 (OpenSSL libcrypto). out: 41 / 33 chars. */
void core_sha1_hex(const void *p, size_t n, char out[41]);

/* JSON.parse: any value, "\u0000" allowed, integers past 64 bits read as
 * doubles.  Returns a NEW reference or NULL with *err filled (err may be
 * NULL). */
json_t *core_json_parse(const char *s, size_t n, json_error_t *err);
/* The same through jansson's json_loadb alone (core_json_parse's fallback
 * for refused input, and the reference its unit test compares against). */
json_t *core_json_parse_jansson(const char *s, size_t n, json_error_t *err);
/* core_json_parse's fast path alone (yajl): NULL where it refuses or
 * leaves the text to jansson.  For the unit test. */
json_t *core_json_parse_yajl(const char *s, size_t n);

/* JS-compatible helpers. */
/* Is `s` a canonical array index ("0", "1", ... no leading zeros, < 2^32-1)? */
bool core_is_array_index(const char *s, uint32_t *out);
/* Decimal text of v into out (>= 21 bytes, NUL-terminated); returns the
 * length.  No snprintf: this is on every request's path. */
int core_fmt_i64(char *out, long long v);
/* Copy src into dst of `size` bytes, cut if needed, always terminated
 * (size > 0); returns strlen(src), like BSD strlcpy. */
size_t core_strlcpy(char *dst, const char *src, size_t size);
/* True if s[0..n) is well-formed UTF-8 (no overlongs, surrogates or
 * code points past U+10FFFF), as jansson requires of strings. */
bool core_utf8_valid(const char *s, size_t n);
/* JS truthiness of a JSON value (NULL = undefined = false). */
bool core_truthy(const void *json_value);

#endif /* AH_SRC_CORE_CORE_H */
