// 21-ws-rfc6455.mjs - RFC 6455 framing through the real server, on the
// test-only raw echo path (websocket.echoPathForTests): lengths, masking,
// reserved bits and opcodes, fragmentation with interleaved control frames,
// close codes, UTF-8, the message size limit (1009, on /primus too), and the
// outbound bound: a client that stops reading is dropped while another one
// keeps working.  The cases of shared/tools/wsconf.js are all here.
import crypto from 'node:crypto';
import net from 'node:net';
import WebSocket from '../node_modules/ws/index.js';
import { startServer, check, eq, sleep, done } from '../lib/lib.mjs';

const MAX = 100000;
const srv = await startServer({
  env: {
    ACTIONHERO_CONFIG_OVERRIDES: JSON.stringify({
      websocket: { echoPathForTests: '/__ws_echo', maxPayload: MAX, maxOutboundBytes: 262144, closeTimeout: 1000 },
      logger: { level: 'warning' },
    }),
  },
});

function frame(op, payload, { fin = true, rsv = 0, mask = true, len64 = null } = {}) {
  const body = Buffer.from(payload);
  let head;
  if (len64 !== null) {
    head = Buffer.alloc(10);
    head[1] = 127;
    head.writeBigUInt64BE(len64, 2);
  } else if (body.length < 126) {
    head = Buffer.alloc(2);
    head[1] = body.length;
  } else if (body.length < 65536) {
    head = Buffer.alloc(4);
    head[1] = 126;
    head.writeUInt16BE(body.length, 2);
  } else {
    head = Buffer.alloc(10);
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(body.length), 2);
  }
  head[0] = (fin ? 0x80 : 0) | (rsv << 4) | op;
  if (!mask) return Buffer.concat([head, body]);
  head[1] |= 0x80;
  const key = crypto.randomBytes(4);
  for (let i = 0; i < body.length; i++) body[i] ^= key[i & 3];
  return Buffer.concat([head, key, body]);
}
const closeFrame = (code, reason = '') => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(code);
  return frame(8, Buffer.concat([b, Buffer.from(reason)]));
};
function parse(buf) {
  const out = [];
  let o = 0;
  while (buf.length - o >= 2) {
    const op = buf[o] & 15;
    const fin = !!(buf[o] & 0x80);
    let len = buf[o + 1] & 127;
    let p = o + 2;
    if (len === 126) { if (buf.length < p + 2) break; len = buf.readUInt16BE(p); p += 2; }
    else if (len === 127) { if (buf.length < p + 8) break; len = Number(buf.readBigUInt64BE(p)); p += 8; }
    if (buf.length < p + len) break;
    out.push({ op, fin, data: buf.subarray(p, p + len) });
    o = p + len;
  }
  return out;
}

// Open a raw websocket, send frames, collect until the server closes TCP
// (or `until` is satisfied, or the timeout).
function run(path, frames, { until = null, timeout = 3000 } = {}) {
  return new Promise((resolve) => {
    const s = net.connect(srv.port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    let up = false;
    let finished = false;
    const finish = (why) => {
      if (finished) return;
      finished = true;
      clearTimeout(t);
      s.destroy();
      const fr = parse(buf);
      const c = fr.find((f) => f.op === 8);
      resolve({ frames: fr, closeCode: c ? (c.data.length >= 2 ? c.data.readUInt16BE(0) : 1005) : null, why, up });
    };
    const t = setTimeout(() => finish('timeout'), timeout);
    s.on('error', () => finish('error'));
    s.on('close', () => finish('tcp-close'));
    s.on('connect', () => s.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`));
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (!up) {
        const i = buf.indexOf('\r\n\r\n');
        if (i < 0) return;
        if (!buf.toString('latin1', 0, 13).startsWith('HTTP/1.1 101')) return finish('no-101');
        buf = buf.subarray(i + 4);
        up = true;
        s.write(Buffer.concat(frames));
      }
      if (until && until(parse(buf))) finish('until');
    });
  });
}
const echo = (frames, n) => run('/__ws_echo', frames, { until: (fr) => fr.length >= n });
const closes = (frames) => run('/__ws_echo', frames);
const same = (f, op, data) => f && f.op === op && f.fin && Buffer.compare(f.data, Buffer.from(data)) === 0;
const big = (n, c = 'a') => Buffer.alloc(n, c);

async function expectClose(name, frames, code) {
  const r = await closes(frames);
  eq(`${name}: close code`, r.closeCode, code);
  eq(`${name}: TCP closed by the server`, r.why, 'tcp-close');
}

// --- data that must come back unchanged
{
  const r = await echo([frame(1, 'hello'), frame(1, big(126)), frame(1, big(65535)), frame(1, big(65536)),
    frame(2, Buffer.from([0, 255, 1])), frame(1, '')], 6);
  check('text 5 bytes echoed', same(r.frames[0], 1, 'hello'));
  check('text 126 bytes (16-bit length)', same(r.frames[1], 1, big(126)));
  check('text 65535 bytes', same(r.frames[2], 1, big(65535)));
  check('text 65536 bytes (64-bit length)', same(r.frames[3], 1, big(65536)));
  check('binary echoed', same(r.frames[4], 2, Buffer.from([0, 255, 1])));
  check('empty text echoed', same(r.frames[5], 1, ''));
}
{
  const r = await echo([frame(10, 'unsolicited pong'), frame(9, 'p1')], 1);
  check('ping answered by a pong with the same payload (pongs ignored)', same(r.frames[0], 10, 'p1'), r.frames);
}
{
  const r = await echo([frame(1, 'frag', { fin: false }), frame(9, 'mid'), frame(0, 'me', { fin: false }), frame(0, 'nt')], 2);
  check('ping between fragments: pong first', same(r.frames[0], 10, 'mid'));
  check('then the whole message', same(r.frames[1], 1, 'fragment'));
}
{
  const r = await echo([frame(1, Buffer.from([0xe2, 0x82]), { fin: false }), frame(0, Buffer.from([0xac]))], 1);
  check('UTF-8 split across fragments is valid', same(r.frames[0], 1, Buffer.from([0xe2, 0x82, 0xac])));
}
{
  const r = await echo([frame(2, big(MAX / 2, 'b'), { fin: false }), frame(0, big(MAX / 2, 'b'))], 1);
  check('a message of exactly maxPayload passes', same(r.frames[0], 2, big(MAX, 'b')));
}

// --- protocol errors
await expectClose('ping payload > 125', [frame(9, big(126))], 1002);
await expectClose('unmasked client frame', [frame(1, 'x', { mask: false })], 1002);
await expectClose('RSV1 without extension', [frame(1, 'x', { rsv: 4 })], 1002);
await expectClose('RSV3', [frame(1, 'x', { rsv: 1 })], 1002);
await expectClose('reserved data opcode 3', [frame(3, '')], 1002);
await expectClose('reserved control opcode 11', [frame(11, '')], 1002);
await expectClose('fragmented ping', [frame(9, 'a', { fin: false }), frame(0, 'b')], 1002);
await expectClose('continuation without start', [frame(0, 'x')], 1002);
await expectClose('new message inside a fragmented one', [frame(1, 'a', { fin: false }), frame(1, 'b')], 1002);
await expectClose('64-bit length with the MSB set', [frame(2, '', { len64: 0x8000000000000000n })], 1002);
await expectClose('invalid UTF-8 (surrogate)', [frame(1, Buffer.from([0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc,
  0xce, 0xb5, 0xed, 0xa0, 0x80, 0x65, 0x64, 0x69, 0x74, 0x65, 0x64]))], 1007);
await expectClose('overlong NUL', [frame(1, Buffer.from([0xc0, 0x80]))], 1007);
await expectClose('invalid UTF-8 across fragments', [frame(1, Buffer.from([0xe2, 0x82]), { fin: false }), frame(0, 'a')], 1007);
await expectClose('truncated UTF-8 at the end', [frame(1, Buffer.from([0x61, 0xe2, 0x82]))], 1007);
await expectClose('frame over maxPayload', [frame(2, big(MAX + 1))], 1009);
await expectClose('fragments over maxPayload', [frame(1, big(MAX / 2), { fin: false }), frame(0, big(MAX / 2 + 1))], 1009);

// --- the close handshake
await expectClose('close 1000 echoed', [closeFrame(1000)], 1000);
await expectClose('close 1001 with a reason echoed', [closeFrame(1001, 'bye')], 1001);
await expectClose('close 3000 echoed', [closeFrame(3000)], 3000);
await expectClose('close 4999 echoed', [closeFrame(4999)], 4999);
await expectClose('close 1012 echoed (as ws does)', [closeFrame(1012)], 1012);
await expectClose('empty close echoed', [frame(8, '')], 1005);
await expectClose('close payload of 1 byte', [frame(8, Buffer.from([3]))], 1002);
await expectClose('close reason not UTF-8', [frame(8, Buffer.from([0x03, 0xe8, 0xff, 0xfe]))], 1007);
for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000]) {
  await expectClose(`close code ${code} refused`, [closeFrame(code)], 1002);
}

// --- the limit applies to the Primus path too
{
  const r = await run('/primus', [frame(1, JSON.stringify({ event: 'detailsView', pad: 'x'.repeat(MAX) }))]);
  eq('/primus: message over maxPayload -> 1009', r.closeCode, 1009);
}

// --- back-pressure: a client that stops reading is dropped, others are served
{
  const fast = new WebSocket(`ws://127.0.0.1:${srv.port}/__ws_echo`);
  await new Promise((r) => fast.on('open', r));
  const slow = net.connect(srv.port, '127.0.0.1');
  await new Promise((r) => slow.on('connect', r));
  slow.write('GET /__ws_echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  await new Promise((r) => slow.once('data', r));
  slow.pause(); // stop reading: the kernel buffers fill, then the server's queue
  let slowClosed = false;
  slow.on('close', () => { slowClosed = true; });
  slow.on('error', () => {});
  const chunk = frame(2, big(60000));
  let echoed = 0;
  fast.on('message', () => { echoed++; });
  for (let i = 0; i < 400 && !slowClosed; i++) {
    slow.write(chunk);
    if (i % 20 === 0) fast.send('ping ' + i);
    await sleep(2);
  }
  for (let i = 0; i < 200 && !/dropping a client that does not read/.test(srv.log); i++) await sleep(25);
  check('the server logs that it dropped the client that does not read', /warning: .*dropping a client that does not read/.test(srv.log));
  slow.resume();
  for (let i = 0; i < 200 && !slowClosed; i++) await sleep(25);
  check('the slow client was disconnected', slowClosed);
  fast.send('still here');
  const last = await new Promise((r) => fast.on('message', (d) => { if (d.toString() === 'still here') r(d.toString()); }));
  eq('the other client kept working', last, 'still here');
  check('the other client got its echoes meanwhile', echoed >= 1, { echoed });
  fast.close();
}

await done();
