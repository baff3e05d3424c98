#!/usr/bin/env node
// gen-dtoa-table.mjs - writes src/core/dtoa_table.c, the powers of ten used by
// src/core/dtoa.c, with exact BigInt arithmetic:
//
//   for e = -k in [DTOA_E_MIN, DTOA_E_MAX]:  b = floor(log2(10^e))
//   g(e) = floor(10^e * 2^(127 - b)) + 1,   2^127 < g(e) < 2^128
//
// stored as { high 64 bits, low 64 bits }.  g overestimates 10^e * 2^(127-b)
// by at most one unit, which dtoa.c relies on.
//
// It also checks, for every exponent dtoa.c can meet, that the integer
// formulas dtoa.c uses for floor(log10 2^q), floor(log10 (3/4 2^q)) and
// floor(log2 10^e) are exact; it stops with an error otherwise.
//
//   node tools/gen-dtoa-table.mjs > src/core/dtoa_table.c
import process from 'node:process';

const E_MIN = -292, E_MAX = 324;   // e = -k, k in [-324, 292]
const Q_MIN = -1074, Q_MAX = 971;   // binary exponents of doubles (c * 2^q)

const bitlen = (x) => x.toString(2).length;
const pow10 = (n) => 10n ** BigInt(n);

// exact floor(log10(num / den)) for positive BigInts
function floorLog10(num, den) {
  let k = Math.floor((bitlen(num) - bitlen(den)) * Math.log10(2)) - 2;
  const le = (kk) => kk >= 0 ? pow10(kk) * den <= num : den <= num * pow10(-kk);
  while (!le(k)) k--;
  while (le(k + 1)) k++;
  return k;
}
// exact floor(log2(10^e))
function floorLog2Pow10(e) {
  if (e >= 0) return bitlen(pow10(e)) - 1;
  return -bitlen(pow10(-e)) - (pow10(-e) === 1n << BigInt(bitlen(pow10(-e)) - 1) ? -1 : 0);
}
const two = (q) => q >= 0 ? [1n << BigInt(q), 1n] : [1n, 1n << BigInt(-q)];

// The formulas in dtoa.c (gcc's >> of a negative int is arithmetic: floor).
const flog10pow2 = (q) => Math.floor((q * 315653) / 2 ** 20);
const flog10threeQuartersPow2 = (q) => Math.floor((q * 315653 - 131237) / 2 ** 20);
const flog2pow10 = (e) => Math.floor((e * 1741647) / 2 ** 19);

let bad = 0;
for (let q = Q_MIN; q <= Q_MAX; q++) {
  const [n, d] = two(q);
  if (flog10pow2(q) !== floorLog10(n, d)) { console.error('flog10pow2', q); bad++; }
  if (flog10threeQuartersPow2(q) !== floorLog10(3n * n, 4n * d)) {
    console.error('flog10threeQuartersPow2', q); bad++;
  }
  for (const k of [flog10pow2(q), flog10threeQuartersPow2(q)]) {
    if (-k < E_MIN || -k > E_MAX) { console.error('table range', q, k); bad++; }
    const h = q + flog2pow10(-k);
    if (h < 0 || h > 3) { console.error('h out of [0,3]', q, k, h); bad++; }
  }
}
for (let e = E_MIN; e <= E_MAX; e++)
  if (flog2pow10(e) !== floorLog2Pow10(e)) { console.error('flog2pow10', e); bad++; }
if (bad) { console.error(`${bad} checks failed`); process.exit(1); }

// dtoa.c's round to odd is exact when the fraction of
// Y = cb * 2^(q-k) * 5^-k (cb: 4c and the ends of the rounding interval,
// all below 2^55 + 3) is 0 or in [2^-69, 1 - 2^-69]: the exact product
// g * cp / 2^127 exceeds Y by less than cp / 2^127 < 2^-69 (g is at most
// one unit too big, cp < 2^58), and dtoa.c calls it inexact when its
// fraction is at least 2^-69.  Y = cb * A / B with coprime
// A, B, so the question is how close cb * A mod B gets to 0 and to B for
// 1 <= cb <= N: minmax() walks the best approximations (continued
// fractions) to answer it exactly.
// [smallest nonzero (a*n mod b), largest (a*n mod b)] over 1 <= n <= N;
// gcd(a, b) = 1 and N < b, so no n in range gives 0.
function minmax(a, b, N) {
  let p = 1n, x = a % b;      // x = p*a mod b: the smallest residue so far
  let r = 0n, y = b;          // r*a = -y mod b: the nearest to b so far
  for (;;) {
    if (x < y) {
      let t = (N - r) / p;
      const lim = (y - 1n) / x;
      if (lim < t) t = lim;
      if (t === 0n) break;
      r += t * p; y -= t * x;
    } else {
      let t = (N - p) / r;
      const lim = (x - 1n) / y;
      if (lim < t) t = lim;
      if (t === 0n) break;
      p += t * r; x -= t * y;
    }
  }
  return [x, b - y];
}
{ // minmax against brute force on small cases
  let seed = 1;
  const rnd = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
  const gcd = (u, v) => (v ? gcd(v, u % v) : u);
  for (let i = 0; i < 20000; i++) {
    const b = 2 + rnd(5000), a = 1 + rnd(b - 1), N = 1 + rnd(b - 1);
    if (gcd(a, b) !== 1) continue;
    let lo = b, hi = 0;
    for (let n = 1; n <= N; n++) { const m = (a * n) % b; if (m < lo) lo = m; if (m > hi) hi = m; }
    const [l, h] = minmax(BigInt(a), BigInt(b), BigInt(N));
    if (Number(l) !== lo || Number(h) !== hi) { console.error('minmax', a, b, N, lo, hi, l, h); process.exit(1); }
  }
}
const CB_MAX = (1n << 55n) + 2n;
let worstLo = 0, worstHi = 0;
for (let q = Q_MIN; q <= Q_MAX; q++) {
  for (const irregular of [false, true]) {
    if (irregular && q === Q_MIN) continue;
    const k = irregular ? flog10threeQuartersPow2(q) : flog10pow2(q);
    const t2 = q - k, t5 = -k;  // Y = cb * 2^t2 * 5^t5
    const A = (t2 > 0 ? 1n << BigInt(t2) : 1n) * (t5 > 0 ? 5n ** BigInt(t5) : 1n);
    const B = (t2 < 0 ? 1n << BigInt(-t2) : 1n) * (t5 < 0 ? 5n ** BigInt(-t5) : 1n);
    if (B === 1n) continue;  // Y always an integer
    let lo, hi;
    if (irregular) {         // c = 2^52: cb = 2^54 and its ends only
      const r = [(1n << 54n) - 1n, 1n << 54n, (1n << 54n) + 2n].map((cb) => (cb * A) % B).filter((m) => m);
      if (!r.length) continue;
      lo = r.reduce((u, v) => (v < u ? v : u)); hi = r.reduce((u, v) => (v > u ? v : u));
    } else if (CB_MAX >= B) { // every residue appears
      lo = 1n; hi = B - 1n;
    } else {
      [lo, hi] = minmax(A % B, B, CB_MAX);
    }
    // need lo / B >= 2^-69 and (B - hi) / B >= 2^-69
    const l = (lo << 69n) >= B, h = ((B - hi) << 69n) >= B;
    if (!l || !h) { console.error('round to odd not exact', q, irregular, lo, hi, B); bad++; }
    const bl = bitlen(B) - bitlen(lo), bh = bitlen(B) - bitlen(B - hi);
    if (bl > worstLo) worstLo = bl;
    if (bh > worstHi) worstHi = bh;
  }
}
if (bad) { console.error(`${bad} checks failed`); process.exit(1); }
console.error(`round to odd exact: nonzero fractions >= 2^-${worstLo}, <= 1 - 2^-${worstHi} (bit lengths)`);

const M64 = (1n << 64n) - 1n;
const hex = (x) => '0x' + x.toString(16).padStart(16, '0') + 'ULL';
const rows = [];
for (let e = E_MIN; e <= E_MAX; e++) {
  const b = floorLog2Pow10(e);
  const sh = 127 - b;             // 10^e * 2^sh in [2^127, 2^128)
  let num = e >= 0 ? pow10(e) : 1n, den = e >= 0 ? 1n : pow10(-e);
  if (sh >= 0) num <<= BigInt(sh); else den <<= BigInt(-sh);
  const g = num / den + 1n;
  if (g <= 1n << 127n || g >= 1n << 128n) { console.error('g range', e); process.exit(1); }
  rows.push(`    { ${hex(g >> 64n)}, ${hex(g & M64)} }, /* 1e${e} */`);
}

process.stdout.write(`/*
 * dtoa_table.c - generated by tools/gen-dtoa-table.mjs; do not edit.
 *
 * dtoa_pow10[e - DTOA_E_MIN] = floor(10^e * 2^(127 - floor(log2 10^e))) + 1
 * as { high, low } 64-bit halves, for e in [DTOA_E_MIN, DTOA_E_MAX].
 */
#include "core/dtoa.h"

const uint64_t dtoa_pow10[DTOA_E_MAX - DTOA_E_MIN + 1][2] = {
${rows.join('\n')}
};
`);
