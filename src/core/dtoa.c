/*
 * dtoa.c - shortest round-trip digits of a double (see dtoa.h).
 *
 * The method is Giulietti's "Schubfach", written here from the paper's
 * description.  A finite v > 0 is c * 2^q (c < 2^53).  Every real in its
 * rounding interval R, from the midpoint with its predecessor to the one with
 * its successor, reads back as v; both ends belong to R when c is even
 * (round-half-even), neither when c is odd.  In units of 2^(q-2) the ends are
 * cbl = 4c - 2 (4c - 1 when c = 2^52 sits on a binade boundary: the spacing
 * below is half the spacing above) and cbr = 4c + 2.
 *
 * Pick k = floor(log10 |R|): then 10^k <= |R| < 10^(k+1), so R holds at least
 * one multiple of 10^k and at most one multiple of 10^(k+1).  With
 * s = floor(v / 10^k):
 *
 *  - if R holds a multiple of 10^(k+1), it is 10*floor(s/10) or that plus 10,
 *    it is the only one, and fewer digits are impossible: the answer;
 *  - else the answer has the digits of s or s + 1 (whichever is in R; when
 *    both are, the one nearer to v, the even one on a tie).
 *
 * All the comparisons are between 4 * x * 10^-k (x = v or an end of R) and
 * multiples of 4 (or 4s + 2 for the tie), so it is enough to know
 * floor(4 x 10^-k) and whether it was exact: "round to odd",
 * floor(y) | (y != floor(y)).  dtoa_pow10 holds 10^-k to 128 bits, rounded up
 * (tools/gen-dtoa-table.mjs), and its exact product with the at most 58-bit
 * cp = cb << h is y plus less than 2^-69.  tools/gen-dtoa-table.mjs proves,
 * for every binary exponent, with a continued-fraction walk over all
 * cb < 2^55 + 3, that a non-integral y is never within 2^-69 of an integer
 * (the closest is about 2^-66), so the rounded-to-odd value is exact.
 *
 * tests/unit/test_dtoa.c checks it against Node's String(x) on a fixture and
 * against glibc's printf/strtod on random doubles.
 */
#include "core/dtoa.h"

#include <string.h>

__extension__ typedef unsigned __int128 u128;

/* "00" "01" ... "99" */
#define PAIRS(a) a "0" a "1" a "2" a "3" a "4" a "5" a "6" a "7" a "8" a "9"
static const char pairs[201] =
    PAIRS("0") PAIRS("1") PAIRS("2") PAIRS("3") PAIRS("4")
    PAIRS("5") PAIRS("6") PAIRS("7") PAIRS("8") PAIRS("9");

/* floor(q log10 2), floor(log10(3/4 2^q)) and floor(e log2 10), exact over
 * the exponents used (checked by tools/gen-dtoa-table.mjs). */
static inline int flog10pow2(int q) { return (q * 315653) >> 20; }
static inline int flog10threequarterspow2(int q) { return (q * 315653 - 131237) >> 20; }
static inline int flog2pow10(int e) { return (e * 1741647) >> 19; }

/* Round to odd of y = cp * 4 x 10^-k (above): g * cp / 2^127, g = 10^-k
 * scaled.  g * cp is exact (192 bits) and exceeds y * 2^127 by less than
 * cp < 2^58; a fraction of y is either 0 or at least 2^-69 (and at most
 * 1 - 2^-69), so "inexact" is a fraction of at least 2^-69. */
static inline uint64_t rop(const uint64_t *g, uint64_t cp)
{
    u128 hi = (u128)g[0] * cp;
    u128 lo = (u128)g[1] * cp;
    u128 m = hi + (uint64_t)(lo >> 64);         /* g * cp / 2^64 */
    uint64_t frac = ((uint64_t)m & 0x7fffffffffffffffULL) | ((uint64_t)lo >> 58);

    return (uint64_t)(m >> 63) | (frac != 0);
}

static inline void put2(char *p, uint32_t x)    /* x < 100 */
{
    memcpy(p, pairs + 2 * x, 2);
}

static inline void put8(char *p, uint32_t x)    /* x < 10^8, zero-padded */
{
    uint32_t a = x / 10000, b = x % 10000;

    put2(p, a / 100);
    put2(p + 2, a % 100);
    put2(p + 4, b / 100);
    put2(p + 6, b % 100);
}

static int put_small(char *p, uint32_t x)       /* x < 10^8 */
{
    int n = x < 10 ? 1 : x < 100 ? 2 : x < 1000 ? 3 : x < 10000 ? 4
          : x < 100000 ? 5 : x < 1000000 ? 6 : x < 10000000 ? 7 : 8;
    char *e = p + n;

    while (x >= 100) {
        e -= 2;
        put2(e, x % 100);
        x /= 100;
    }
    if (x >= 10)
        put2(e - 2, x);
    else
        e[-1] = (char)('0' + x);
    return n;
}

int dtoa_u64(uint64_t u, char *out)
{
    const uint64_t e8 = 100000000, e16 = e8 * e8;
    uint64_t hi, mid;
    int n;

    if (u < e8)
        return put_small(out, (uint32_t)u);
    if (u < e16) {
        hi = u / e8;
        n = put_small(out, (uint32_t)hi);
        put8(out + n, (uint32_t)(u - hi * e8));
        return n + 8;
    }
    hi = u / e16;               /* <= 1844 */
    u -= hi * e16;
    mid = u / e8;
    n = put_small(out, (uint32_t)hi);
    put8(out + n, (uint32_t)mid);
    put8(out + n + 8, (uint32_t)(u - mid * e8));
    return n + 16;
}

int dtoa_shortest(double v, char *dig, int *n)
{
    uint64_t bits, frac, c, cb, cbl, cbr, vb, vbl, vbr, s, t, f;
    const uint64_t *g;
    int bexp, q, k, h, out, len;

    memcpy(&bits, &v, sizeof bits);
    frac = bits & ((1ULL << 52) - 1);
    bexp = (int)(bits >> 52) & 0x7ff;
    if (bexp) {
        c = frac | (1ULL << 52);
        q = bexp - 1075;
    } else {
        c = frac;
        q = -1074;
    }
    out = (int)(c & 1);
    cb = c << 2;
    cbr = cb + 2;
    if (frac != 0 || bexp <= 1) {
        cbl = cb - 2;
        k = flog10pow2(q);
    } else {
        cbl = cb - 1;
        k = flog10threequarterspow2(q);
    }
    h = q + flog2pow10(-k);
    g = dtoa_pow10[-k - DTOA_E_MIN];
    vb = rop(g, cb << h);
    vbl = rop(g, cbl << h);
    vbr = rop(g, cbr << h);

    s = vb >> 2;
    if (s >= 10) {
        /* One digit fewer: a multiple of 10^(k+1) in R.  (For s < 10 that
         * would be 10 alone, a one-digit answer like s and s + 1 themselves,
         * which the closeness rule below handles.) */
        uint64_t sp10 = s / 10 * 10, tp10 = sp10 + 10;
        int upin = vbl + (uint64_t)out <= sp10 << 2;
        int wpin = (tp10 << 2) + (uint64_t)out <= vbr;

        if (upin != wpin) {
            f = upin ? sp10 : tp10;
            goto digits;
        }
    }
    t = s + 1;
    {
        int uin = vbl + (uint64_t)out <= s << 2;
        int win = (t << 2) + (uint64_t)out <= vbr;

        if (uin != win) {
            f = uin ? s : t;
        } else {                /* both in R: the nearer, the even on a tie */
            uint64_t mid = (s + t) << 1;

            f = vb < mid || (vb == mid && (s & 1) == 0) ? s : t;
        }
    }
digits:
    len = dtoa_u64(f, dig);
    *n = len + k;
    while (dig[len - 1] == '0')     /* f > 0 */
        len--;
    return len;
}
