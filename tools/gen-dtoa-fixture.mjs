#!/usr/bin/env node
// gen-dtoa-fixture.mjs - writes tests/unit/data/dtoa-node.txt, the doubles
// tests/unit/test_dtoa.c checks json_out_number against: one per line, the
// IEEE bit pattern in hex and Node's String(x).  Deterministic (fixed seed),
// so running it again with the same Node gives the same file.
//
//   node tools/gen-dtoa-fixture.mjs > tests/unit/data/dtoa-node.txt
import process from 'node:process';

const dv = new DataView(new ArrayBuffer(8));
const bitsOf = (x) => { dv.setFloat64(0, x); return dv.getBigUint64(0); };
const ofBits = (b) => { dv.setBigUint64(0, BigInt.asUintN(64, b)); return dv.getFloat64(0); };

// splitmix64
let state = 0x5eed0fd70an;
function next() {
  state = BigInt.asUintN(64, state + 0x9e3779b97f4a7c15n);
  let z = state;
  z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
  z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
  return z ^ (z >> 31n);
}
const below = (n) => Number(next() % BigInt(n));

const seen = new Set();
const out = [];
function add(x) {
  if (!Number.isFinite(x)) return;
  const b = bitsOf(x);
  if (seen.has(b)) return;
  seen.add(b);
  out.push(`${b.toString(16).padStart(16, '0')} ${String(x)}`);
}
const addNear = (x) => { const b = bitsOf(x); for (let d = -1n; d <= 1n; d++) add(ofBits(b + d)); };

// the classics
for (const s of ['9007199254740993', '9007199254740991', '9007199254740992', '9007199254740994',
  '9007199254740995', '1e23', '5e-324', '1e-323', '2.2250738585072014e-308',
  '2.225073858507201e-308', '2.2250738585072009e-308', '1.7976931348623157e308',
  '4.9406564584124654e-324', '2.4703282292062328e-324', '0.1', '0.2', '0.3',
  '0.30000000000000004', '1e21', '999999999999999900000', '1e-7', '1e-6', '0.000001',
  '1.5e-7', '123456789012345680000', '1.2345678901234568e+21', '2.5', '0.5', '-0',
  '5e-7', '4.35', '1.005', '1.0000000000000002', '0.9999999999999999', '3.141592653589793',
  '2.718281828459045', '1.7976931348623157e+308', '8.41e21', '5e-310', '1.8e308'])
  addNear(Number(s));
add(Number.EPSILON); add(Number.MAX_SAFE_INTEGER); add(Number.MIN_SAFE_INTEGER);
add(0.1 + 0.2); add(1 / 3); add(2 / 3); add(Math.PI * 1e100);

// powers of two and ten, and their neighbours (binade boundaries)
for (let e = -1074; e <= 1023; e++) addNear(2 ** e);
for (let e = -324; e <= 308; e++) { addNear(Number(`1e${e}`)); addNear(Number(`5e${e}`)); }

// subnormals: the smallest, random ones, the largest
for (let c = 1; c <= 300; c++) add(ofBits(BigInt(c)));
for (let i = 0; i < 700; i++) add(ofBits(next() & ((1n << 52n) - 1n)));
for (let i = 0; i < 200; i++) add(ofBits((1n << 52n) - 1n - BigInt(i)));

// random bit patterns over the whole exponent range (NaN/Infinity skipped)
for (let i = 0; i < 8000; i++) {
  const b = next();
  add(ofBits(b));
}
// like Math.random(): 53 random bits / 2^53, and shorter fractions
for (let i = 0; i < 4000; i++) add(Number(next() >> 11n) / 2 ** 53);
for (let i = 0; i < 1000; i++) add(Number(next() >> 11n) / 2 ** 53 * 10 ** (below(12) - 6));
// integers: small, near 2^53, above 2^53 (multiples of a power of two), huge
for (let i = 0; i < 1500; i++) add(below(10 ** (1 + below(9))));
for (let i = 0; i < 500; i++) add(2 ** 53 - below(1000));
for (let i = 0; i < 1000; i++) add(Number(next() >> BigInt(below(11))));
for (let i = 0; i < 500; i++) add(Number(next()) * 10 ** below(300));
// decimal-looking values: a few digits times a power of ten
for (let i = 0; i < 1500; i++) add(Number(`${below(10 ** (1 + below(8)))}e${below(600) - 300}`));
// values whose shortest form has 17 digits
for (let n = 0, i = 0; n < 1000 && i < 1e6; i++) {
  const x = ofBits(next() & 0x7fefffffffffffffn);
  const m = String(x).replace(/e.*$/, '').replace(/[-.]/g, '').replace(/^0+/, '');
  if (m.length === 17) { add(x); n++; }
}
// negatives of a sample
const pos = out.slice();
for (let i = 0; i < pos.length; i += 7) add(-ofBits(BigInt('0x' + pos[i].split(' ')[0])));

process.stdout.write(out.join('\n') + '\n');
process.stderr.write(`${out.length} doubles\n`);
