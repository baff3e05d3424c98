// 12-http-protocol.mjs - the HTTP/1.1 transport (web.md §9.3 and the
// limits of the C server): pipelining in order, half-close, keep-alive,
// HTTP/1.0, Expect, timeouts, size limits, maxConnections, back-pressure,
// and bad input of every kind (request smuggling probes, the llhttp
// request fixtures in data/), which must get a 4xx and a close, never a
// crash or a response to a smuggled request.
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, check, eq, done, rawRequest, sleep } from '../lib/lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

// Split a byte stream into HTTP responses (all ours carry Content-Length,
// except 1xx/204/304 which have no body).
function parseResponses(data) {
  const out = [];
  let rest = data;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const head = rest.slice(0, end);
    const lines = head.split('\r\n');
    const m = /^HTTP\/1\.1 (\d{3})/.exec(lines[0]);
    if (!m) break;
    const headers = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
    }
    const status = Number(m[1]);
    const len = status < 200 || status === 204 || status === 304 ? 0 : Number(headers['content-length'] || 0);
    const body = rest.slice(end + 4, end + 4 + len);
    out.push({ status, headers, body });
    rest = rest.slice(end + 4 + len);
  }
  return out;
}
const statuses = (data) => parseResponses(data).map((r) => r.status);

// Send raw bytes, wait for the server to close (or time out).
async function raw(port, chunks, opts = {}) {
  const r = await rawRequest(port, chunks, { timeout: 4000, halfClose: true, ...opts });
  return { ...r, responses: parseResponses(r.data), statuses: statuses(r.data) };
}

const routes = {
  all: [
    { path: '/big', action: 'webBig' },
    { path: '/', action: 'webEcho' },
    { path: '/:p', action: 'webEcho', matchTrailingPathParts: true },
  ],
};
const srv = await startServer({
  env: {
    ACTIONHERO_CONFIG_OVERRIDES: JSON.stringify({
      routes,
      web: {
        rootEndpointType: 'api',
        maxBodyBytes: 4096,
        maxUrlLength: 1024,
        maxHeaderBytes: 4096,
        keepAliveTimeout: 1000,
        headersTimeout: 1000,
        requestTimeout: 1500,
        maxPipelineBytes: 2048,
        maxOutboundBytes: 65536,
        metadataOptions: { serverInformation: false, requesterInformation: false },
        padding: null,
      },
    }),
  },
});
const P = srv.port;
const get = (i, extra = '') => `GET /echo?i=${i}${extra} HTTP/1.1\r\nHost: x\r\n\r\n`;
const order = (r) => r.responses.map((x) => JSON.parse(x.body).params.i);

// ---------------------------------------------------------------- pipelining
{
  let all = '';
  for (let i = 0; i < 16; i++) all += get(i);
  let r = await raw(P, [all]);
  eq('16 pipelined requests in one write: 16 responses', r.statuses.length, 16);
  eq('... in order', order(r), [...Array(16).keys()].map(String));
  check('... then the half-closed connection is closed', r.closed);

  all = '';
  for (let i = 0; i < 8; i++) all += get(i, i % 2 ? '&delay=30' : '');
  r = await raw(P, [all]);
  eq('pipelined async and sync actions stay in order', order(r), [...Array(8).keys()].map(String));

  r = await raw(P, [get(0) + `GET /echo?i=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n` + get(2)], { halfClose: false });
  eq('Connection: close in a pipeline: later requests are not answered', order(r), ['0', '1']);
  check('... and the connection closes', r.closed);

  const post = (i, body) => `POST /echo?i=${i} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  const chunked = 'POST /echo?i=2 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{"k"\r\n5\r\n:"v"}\r\n0\r\n\r\n';
  r = await raw(P, [post(0, '{"k":"a"}') + post(1, '{"k":"b"}') + chunked + get(3)]);
  eq('pipelined bodies (Content-Length and chunked)', r.responses.map((x) => JSON.parse(x.body).params.k ?? null), ['a', 'b', 'v', null]);

  r = await raw(P, [...get(7)], { delay: 1 });
  eq('a request sent one byte at a time', order(r), ['7']);

  // more pipelined input than maxPipelineBytes while an action is pending
  all = get(0, '&delay=200');
  for (let i = 1; i < 60; i++) all += get(i);
  r = await raw(P, [all]);
  eq('pipeline over maxPipelineBytes: all answered in order', order(r), [...Array(60).keys()].map(String));
}

// ---------------------------------------------------------------- back-pressure
{
  // 20 responses of 200 kB each to a client that does not read at first
  const s = net.connect(P, '127.0.0.1');
  await new Promise((r) => s.on('connect', r));
  let req = '';
  for (let i = 0; i < 20; i++) req += `GET /big?n=200000&i=${i} HTTP/1.1\r\nHost: x\r\n\r\n`;
  s.pause();
  s.write(req);
  await sleep(300);
  let data = Buffer.alloc(0);
  s.on('data', (d) => { data = Buffer.concat([data, d]); });
  s.resume();
  s.end();
  await new Promise((r) => s.on('close', r));
  const rs = parseResponses(data.toString('latin1'));
  eq('slow reader: every response arrives', rs.length, 20);
  check('... complete', rs.every((x) => x.status === 200 && x.body.length > 200000), rs.map((x) => x.body.length));
}

// ---------------------------------------------------------------- keep-alive, HTTP/1.0
{
  let r = await raw(P, ['GET /echo HTTP/1.0\r\n\r\n'], { halfClose: false });
  eq('HTTP/1.0: answered with HTTP/1.1 and Connection: close', [r.statuses, r.responses[0].headers.connection], [[200], 'close']);
  check('HTTP/1.0: closed', r.closed);
  r = await raw(P, ['GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n'], { halfClose: false, timeout: 300 });
  eq('HTTP/1.0 keep-alive', r.responses[0].headers.connection, 'keep-alive');
  check('HTTP/1.0 keep-alive: still open', !r.closed);
  r = await raw(P, [get(1)], { halfClose: false, timeout: 6000 });
  eq('keep-alive: advertised timeout', r.responses[0].headers['keep-alive'], 'timeout=1');
  check('idle keep-alive connection is closed by the server', r.closed);
  r = await raw(P, [get(1), get(2)], { halfClose: false, timeout: 6000, delay: 300 });
  eq('a second request within keepAliveTimeout reuses the connection', order(r), ['1', '2']);
}

// ---------------------------------------------------------------- timeouts
{
  let r = await raw(P, ['GET /echo HTTP/1.1\r\nHost: x\r\n'], { halfClose: false, timeout: 6000 });
  eq('headersTimeout: 408', r.statuses, [408]);
  check('headersTimeout: JSON error, connection closed', r.closed && JSON.parse(r.responses[0].body).error === 'request timeout', r.data);
  r = await raw(P, ['POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc'], { halfClose: false, timeout: 6000 });
  eq('requestTimeout (slow body): 408', r.statuses, [408]);
  r = await raw(P, [], { halfClose: false, timeout: 6000 });
  check('a silent connection is closed without a response', r.closed && r.data === '', r);
}

// ---------------------------------------------------------------- limits
{
  let r = await raw(P, ['POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n'], { halfClose: false });
  eq('Content-Length over maxBodyBytes: 413 before the body', r.statuses, [413]);
  check('413: closed', r.closed);
  eq('413: JSON error', JSON.parse(r.responses[0].body), { error: 'request body too large' });
  const chunk = `800\r\n${'x'.repeat(0x800)}\r\n`;
  r = await raw(P, [`POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n${chunk}${chunk}${chunk}0\r\n\r\n`]);
  eq('chunked body over maxBodyBytes: 413', r.statuses, [413]);
  r = await raw(P, [`POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 4096\r\n\r\n${'y'.repeat(4096)}`]);
  eq('a body of exactly maxBodyBytes is fine', r.statuses, [200]);
  r = await raw(P, [`GET /${'a'.repeat(1100)} HTTP/1.1\r\nHost: x\r\n\r\n`]);
  eq('URL over maxUrlLength: 414', r.statuses, [414]);
  r = await raw(P, [`GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(5000)}\r\n\r\n`]);
  eq('headers over maxHeaderBytes: 431', r.statuses, [431]);
  let many = 'GET /echo HTTP/1.1\r\nHost: x\r\n';
  for (let i = 0; i < 600; i++) many += `X-${i}: v\r\n`;
  r = await raw(P, [many + '\r\n']);
  eq('many small headers over maxHeaderBytes: 431', r.statuses, [431]);
  r = await raw(P, ['POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n0\r\n' + `X-Trailer: ${'t'.repeat(5000)}\r\n\r\n`]);
  eq('trailers count towards maxHeaderBytes', r.statuses, [431]);
}

// ---------------------------------------------------------------- Expect
{
  let r = await raw(P, ['POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 9\r\nExpect: 100-continue\r\n\r\n', '{"k":"e"}'], { delay: 50 });
  eq('Expect: 100-continue', r.statuses, [100, 200]);
  eq('... then the body is read', JSON.parse(r.responses[1].body).params.k, 'e');
  r = await raw(P, ['POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nExpect: teapot\r\n\r\nx']);
  eq('unknown expectation: 417', r.statuses, [417]);
}

// ---------------------------------------------------------------- bad input
{
  const cases = {
    'both Content-Length and Transfer-Encoding': 'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    'two TE': 'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked-false\r\n\r\n1\r\nA\r\n0\r\n\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n',
    'folded TE': 'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n , identity\r\nContent-Length: 3\r\n\r\n0\r\n\r\n',
    'obs-fold': 'GET /echo HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n 2\r\n\r\n',
    'CL 2^64': 'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551616\r\n\r\n',
    'chunk size 17 hex digits': 'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n',
    'invalid chunk size': 'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n',
    'two different CL': 'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhelloX',
    'two equal CL': 'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello',
    'CL +5': 'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello',
    'TE space-colon': 'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n',
    'TE xchunked': 'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n',
    'TE chunked, gzip': 'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n',
    'unknown TE': 'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\nabc',
    'bare LF between headers': 'GET /echo HTTP/1.1\nHost: a\n\n',
    'bare LF after a header': 'GET /echo HTTP/1.1\r\nHost: a\nX: 1\r\n\r\n',
    'bare CR in a header': 'GET /echo HTTP/1.1\r\nHost: a\rX: 1\r\n\r\n',
    'CR inside a value': 'GET /echo HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n',
    'NUL in a header value': 'GET /echo HTTP/1.1\r\nHost: a\r\nX: a\u0000b\r\n\r\n',
    'NUL in the path': 'GET /a\u0000b HTTP/1.1\r\nHost: a\r\n\r\n',
    'space before colon': 'GET /echo HTTP/1.1\r\nHost : a\r\n\r\n',
    'invalid header name': 'GET /echo HTTP/1.1\r\nHo(st: a\r\n\r\n',
    'header without colon': 'GET /echo HTTP/1.1\r\nHost a\r\n\r\n',
    'space+../ in the request line': 'GET /static/x /../../sentinel HTTP/1.1\r\nHost: a\r\n\r\n',
    'HTTP/0.9': 'GET /echo\r\n\r\n',
    'HTTP/1.2': 'GET /echo HTTP/1.2\r\nHost: a\r\n\r\n',
    'HTTP/2.0 as text': 'GET /echo HTTP/2.0\r\nHost: a\r\n\r\n',
    'HTTP/0.9 version': 'GET /echo HTTP/0.9\r\nHost: a\r\n\r\n',
    'lower-case method': 'get /echo HTTP/1.1\r\nHost: a\r\n\r\n',
    'unknown method': 'FOO /echo HTTP/1.1\r\nHost: a\r\n\r\n',
    'CONNECT': 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
    'garbage': '\u0001\u0002\u0003\u0004\r\n\r\n',
    'binary after a request': 'GET /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n\u00ff\u00fe\r\n\r\n',
  };
  for (const [name, bytes] of Object.entries(cases)) {
    const r = await raw(P, [Buffer.from(bytes, 'latin1')]);
    const ok2 = r.statuses.filter((s) => s >= 200 && s < 300).length;
    const allowed = name === 'binary after a request' ? 1 : 0;
    check(`${name}: no smuggled success`, ok2 <= allowed, r.statuses);
    check(`${name}: 400 then close`, r.statuses.at(-1) === 400 && r.closed, { statuses: r.statuses, closed: r.closed, data: r.data.slice(0, 120) });
  }
  const r = await raw(P, [Buffer.from(cases['two different CL'], 'latin1')]);
  check('errors name the problem', /^\{"error":"[^"]+"\}$/.test(r.responses[0]?.body ?? ''), r.data);
}

// ---------------------------------------------------------------- llhttp request fixtures
{
  // Valid cases must get as many answers as messages; methods without a
  // route list answer 404, which still is an answer.  Error cases must not
  // get more answers than the messages before the error.
  const deliberate = new Set(['No HTTP version']); // HTTP/0.9 is refused with 400
  let n = 0;
  for (const line of fs.readFileSync(path.join(here, 'data/llhttp-request-fixtures.jsonl'), 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const c = JSON.parse(line);
    if (c.meta.type !== 'request' || c.meta.skipBody) continue;
    const r = await raw(P, [Buffer.from(c.raw_b64, 'base64')], { timeout: 2000 });
    const answers = r.statuses.filter((s) => (s >= 200 && s < 300) || s === 404).length;
    const name = `llhttp fixture ${c.file} :: ${c.title}`;
    if (deliberate.has(c.title)) check(name, answers === 0 && r.statuses.includes(400), r.statuses);
    else if (c.error) check(name, answers <= c.completes_before_error, { statuses: r.statuses, error: c.error });
    else check(name, answers === c.completes_before_error, { statuses: r.statuses, want: c.completes_before_error });
    n++;
  }
  check('llhttp fixtures replayed', n > 100, n);
}

// ---------------------------------------------------------------- upgrade, websocket path
{
  let r = await raw(P, ['GET /echo HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: foo\r\n\r\n' + get(9)], { halfClose: false });
  eq('upgrade to an unknown protocol: answered, then closed', [r.statuses, r.closed], [[200], true]);
  r = await raw(P, ['GET /primus/spec HTTP/1.1\r\nHost: x\r\n\r\n']);
  eq('/primus/spec belongs to the websocket server', r.statuses, [200]);
  check('... its JSON', JSON.parse(r.responses[0].body).pathname === '/primus', r.responses[0]?.body);
  r = await raw(P, ['GET /primusX HTTP/1.1\r\nHost: x\r\n\r\n']);
  eq('other /primus* paths: 426', r.statuses, [426]);
}

// ---------------------------------------------------------------- websocket hand-over
{
  // the echo path is a test-only websocket endpoint of the websocket server
  const ws = await startServer({
    env: { ACTIONHERO_CONFIG_OVERRIDES: JSON.stringify({ routes, web: { rootEndpointType: 'api' }, websocket: { echoPathForTests: '/echo-ws' } }) },
  });
  const frame = (text) => {
    const payload = Buffer.from(text);
    const mask = Buffer.from([1, 2, 3, 4]);
    const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]));
    return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]);
  };
  const upgrade = 'GET /echo-ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
  // a slow request first: the upgrade waits until its response is written,
  // and the frame sent in the same packet reaches the websocket
  const r = await raw(ws.port, [Buffer.concat([Buffer.from(get(1, '&delay=100') + upgrade), frame('hello ws')])], { halfClose: false, timeout: 1500 });
  eq('pipelined request answered before the upgrade', r.statuses.slice(0, 1), [200]);
  check('101 after it', /HTTP\/1\.1 101 Switching Protocols/.test(r.data) && r.data.indexOf('101 Switching') > r.data.indexOf('200 OK'), r.data.slice(0, 300));
  check('bytes after the upgrade request reach the websocket', r.data.includes('hello ws'), r.data.slice(-60));
}

// ---------------------------------------------------------------- the server survived everything
{
  const r = await raw(P, [get('alive')]);
  eq('still serving', order(r), ['alive']);
}

// ---------------------------------------------------------------- maxConnections
{
  const small = await startServer({
    env: { ACTIONHERO_CONFIG_OVERRIDES: JSON.stringify({ routes, web: { rootEndpointType: 'api', maxConnections: 3 } }) },
  });
  await sleep(200); // let the readiness probe's connection go
  const open = [];
  for (let i = 0; i < 3; i++) {
    const s = net.connect(small.port, '127.0.0.1');
    s.on('error', () => {});
    // a keep-alive request proves the connection was accepted and stays open
    await new Promise((r) => { s.once('data', r); s.write('GET /echo HTTP/1.1\r\nHost: x\r\n\r\n'); });
    open.push(s);
  }
  let r = await raw(small.port, [get(1)]);
  eq("over maxConnections: 503 and close", [r.statuses, r.closed], [[503], true]);
  open[0].destroy();
  await sleep(100);
  r = await raw(small.port, [get(2)]);
  eq('a slot freed: accepted again', order(r), ['2']);
  for (const s of open) s.destroy();
}

await done();
