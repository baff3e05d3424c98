/*
 * test_dtoa.c - dtoa_shortest / json_out_number against Node and glibc.
 *
 *  1. tests/unit/data/dtoa-node.txt (tools/gen-dtoa-fixture.mjs): doubles as
 *     bit patterns with Node 20's String(x); json_out_number must print the
 *     same bytes.
 *  2. random bit patterns (and random [0,1) and subnormal ones): the digits
 *     read back bitwise (strtod), no decimal with one digit fewer reads back
 *     (both neighbours of v at that length, found with glibc's correctly
 *     rounded printf, are tried), and when the correctly rounded decimal of
 *     the same length reads back, it is the one chosen (closest rule; glibc
 *     rounds exact ties to even, like ECMAScript).
 */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/dtoa.h"
#include "core/json_out.h"

#include "check.h"

#ifndef FIXTURE
#define FIXTURE "tests/unit/data/dtoa-node.txt"
#endif

static double of_bits(uint64_t b)
{
    double d;

    memcpy(&d, &b, sizeof d);
    return d;
}

static uint64_t bits_of(double d)
{
    uint64_t b;

    memcpy(&b, &d, sizeof b);
    return b;
}

static uint64_t rng = 0x243f6a8885a308d3ULL;

static uint64_t next(void)      /* splitmix64 */
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void test_fixture(void)
{
    FILE *f = fopen(FIXTURE, "r");
    char line[128], got[40];
    int n = 0, bad = 0;

    CHECK(f != NULL);
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        char *sp = strchr(line, ' ');
        uint64_t b;
        size_t len;

        if (!sp)
            continue;
        b = strtoull(line, NULL, 16);
        len = strcspn(sp + 1, "\n");
        sp[1 + len] = '\0';
        json_out_number(of_bits(b), got);
        n++;
        if (strcmp(got, sp + 1) != 0 && ++bad <= 20) {
            printf("# %016" PRIx64 "\n", b);
            CHECK_EQ_STR(got, sp + 1);
        }
        if (strtod(got, NULL) != of_bits(b))
            CHECK(!"json_out_number reads back");
    }
    fclose(f);
    CHECK(n >= 20000);
    CHECK_EQ_INT(bad, 0);
}

/* Digits (no trailing zeros) and the point place n of a "%.*e" string. */
static int parse_e(const char *s, char *dig, int *n)
{
    int k = 0, i;

    for (i = 0; s[i] && s[i] != 'e'; i++)
        if (s[i] >= '0' && s[i] <= '9')
            dig[k++] = s[i];
    *n = atoi(s + i + 1) + 1;
    while (k > 1 && dig[k - 1] == '0')
        k--;
    dig[k] = '\0';
    return k;
}

/* Whether the m-digit decimal just below or just above v reads back as v. */
static int shorter_reads_back(double v, int m)
{
    char s[48], dig[24];
    uint64_t d = 0;
    int n, k, i;
    double r;

    snprintf(s, sizeof s, "%.*e", m - 1, v);
    r = strtod(s, NULL);
    if (r == v)
        return 1;
    k = parse_e(s, dig, &n);
    for (i = 0; i < m; i++)
        d = d * 10 + (uint64_t)(i < k ? dig[i] - '0' : 0);
    d = r < v ? d + 1 : d - 1;      /* the neighbour on v's other side */
    snprintf(s, sizeof s, "%" PRIu64 "e%d", d, n - m);
    return strtod(s, NULL) == v;
}

static int check_one(double v)
{
    char dig[DTOA_MAX_DIGITS + 1], ref[24], s[48];
    int k, n, rk, rn;

    k = dtoa_shortest(v, dig, &n);
    dig[k] = '\0';
    if (k < 1 || k > 17 || dig[0] == '0' || dig[k - 1] == '0')
        return 0;
    snprintf(s, sizeof s, "0.%se%d", dig, n);
    if (bits_of(strtod(s, NULL)) != bits_of(v))
        return 0;
    if (k > 1 && shorter_reads_back(v, k - 1))
        return 0;
    snprintf(s, sizeof s, "%.*e", k - 1, v);
    if (strtod(s, NULL) == v) {
        rk = parse_e(s, ref, &rn);
        if (rk != k || rn != n || strcmp(ref, dig) != 0)
            return 0;
    }
    return 1;
}

static void test_random(long count)
{
    long i, bad = 0;

    for (i = 0; i < count; i++) {
        uint64_t b = next();
        double v;

        switch (i & 7) {
        case 0:                 /* like Math.random() */
            v = (double)(b >> 11) / 9007199254740992.0;
            break;
        case 1:                 /* subnormal */
            v = of_bits(b & ((1ULL << 52) - 1));
            break;
        case 2:                 /* few significant bits: many short answers */
            v = of_bits((b & 0x7ff0000000000000ULL) | (b & 0x000ff00000000000ULL));
            break;
        default:
            v = of_bits(b & 0x7fffffffffffffffULL);
            break;
        }
        if (!(v > 0) || v > 1.7976931348623157e308)
            continue;
        if (!check_one(v) && ++bad <= 20) {
            char got[40];

            json_out_number(v, got);
            printf("# %016" PRIx64 " %s %.17g\n", bits_of(v), got, v);
            CHECK(!"shortest, closest, round-trips");
        }
    }
    CHECK_EQ_INT(bad, 0);
}

static void test_edges(void)
{
    static const double v[] = { 5e-324, 1e-323, 2.2250738585072014e-308,
        2.225073858507201e-308, 1.7976931348623157e308, 9007199254740993.0, 1e23,
        0.1, 1e21, 1e22, 9007199254740992.0 * 2, 123456789012345678.0,
        /* 4 v / 10^k is 2^-66 above an integer: the closest call for the
         * round-to-odd product (tools/gen-dtoa-table.mjs) */
        8887055249355788.0 * 0x1p664, 8887055249355787.0 * 0x1p664,
        8887055249355789.0 * 0x1p664 };
    char out[40];
    size_t i;
    int e;

    for (i = 0; i < sizeof v / sizeof v[0]; i++)
        CHECK(check_one(v[i]));
    /* every power of two and its neighbours (binade boundaries) */
    for (e = -1074; e <= 1023; e++) {
        uint64_t b = bits_of(ldexp(1.0, e));

        CHECK(check_one(of_bits(b)));
        if (b > 1)
            CHECK(check_one(of_bits(b - 1)));
        if (e < 1023)
            CHECK(check_one(of_bits(b + 1)));
    }
    json_out_number(1e23, out);
    CHECK_EQ_STR(out, "1e+23");
    json_out_number(-9007199254740991.0, out);
    CHECK_EQ_STR(out, "-9007199254740991");
    json_out_number(4294967296.0, out);
    CHECK_EQ_STR(out, "4294967296");
    json_out_number(0.5, out);
    CHECK_EQ_STR(out, "0.5");
}

static void test_integers(void)
{
    static const struct { json_int_t i; const char *s; } v[] = {
        { 0, "0" }, { 7, "7" }, { -7, "-7" }, { 10, "10" }, { 99, "99" }, { 100, "100" },
        { 1234567890123LL, "1234567890123" }, { INT64_MAX, "9223372036854775807" },
        { INT64_MIN, "-9223372036854775808" }, { -1000000, "-1000000" },
    };
    char num[24];
    size_t i;

    for (i = 0; i < sizeof v / sizeof v[0]; i++) {
        json_t *j = json_integer(v[i].i);
        char *s = json_out_str(j, 0, 0, NULL);
        struct buf b = {0};

        CHECK_EQ_STR(s, v[i].s);
        json_out_js_string(&b, j);
        buf_add(&b, "", 1);
        CHECK_EQ_STR(b.data, v[i].s);
        buf_release(&b);
        free(s);
        json_decref(j);
    }
    num[dtoa_u64(18446744073709551615ULL, num)] = '\0';
    CHECK_EQ_STR(num, "18446744073709551615");
    num[dtoa_u64(5, num)] = '\0';
    CHECK_EQ_STR(num, "5");
}

int main(int argc, char **argv)
{
    long count = argc > 1 ? atol(argv[1]) : 2000000;

    test_integers();
    test_edges();
    test_fixture();
    test_random(count);
    return check_done();
}
