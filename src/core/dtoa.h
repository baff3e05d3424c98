/*
 * dtoa.h - shortest round-trip decimal digits of a double.
 *
 * dtoa_shortest(v, dig, &n) for finite v > 0 writes the digits d1..dk (k <=
 * 17, no trailing zeros, not NUL-terminated) of the shortest decimal that
 * reads back as v, the one closest to v when several k-digit ones do (the
 * even one on an exact tie), and returns k; *n is the decimal point's place:
 * v ~ 0.d1d2..dk * 10^n.  That is ECMAScript's Number::toString choice of
 * s, k and n.  No allocation, no libc, a few hundred instructions.
 */
#ifndef AH_CORE_DTOA_H
#define AH_CORE_DTOA_H

#include <stdint.h>

#define DTOA_MAX_DIGITS 17

int dtoa_shortest(double v, char *dig, int *n);

/* Writes the decimal digits of u (no NUL) and returns how many (1..20). */
int dtoa_u64(uint64_t u, char *out);

/* Internal to dtoa.c: the generated table in dtoa_table.c. */
#define DTOA_E_MIN (-292)
#define DTOA_E_MAX 324
extern const uint64_t dtoa_pow10[DTOA_E_MAX - DTOA_E_MIN + 1][2];

#endif
