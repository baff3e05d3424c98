// 20-ws-handshake.mjs - the websocket upgrade on the web port (websocket.md
// §2.1, RFC 6455 §4) and plain HTTP requests under /primus (web.md §11):
// a good handshake with the `ws` client and raw sockets, every refused
// variant with its status, body and headers, and /primus/spec, primus.js,
// the 426 answer.
import crypto from 'node:crypto';
import WebSocket from '../node_modules/ws/index.js';
import { startServer, check, eq, rawRequest, done } from '../lib/lib.mjs';

const srv = await startServer({
  env: { ACTIONHERO_CONFIG_OVERRIDES: JSON.stringify({ websocket: { server: { pingInterval: 30000 } } }) },
});
const key = 'dGhlIHNhbXBsZSBub25jZQ==';

function upgrade(lines, { path = '/primus', method = 'GET', version = '1.1' } = {}) {
  return `${method} ${path} HTTP/${version}\r\nHost: 127.0.0.1:${srv.port}\r\n${lines.join('\r\n')}\r\n\r\n`;
}
const good = ['Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${key}`, 'Sec-WebSocket-Version: 13'];
const without = (name) => good.filter((l) => !l.startsWith(name));
const statusOf = (data) => Number((/^HTTP\/1\.1 (\d{3})/.exec(data) || [])[1]);
const bodyOf = (data) => data.slice(data.indexOf('\r\n\r\n') + 4);
const headerOf = (data, name) => {
  const head = data.slice(0, data.indexOf('\r\n\r\n'));
  const m = new RegExp(`^${name}: *(.*)$`, 'mi').exec(head);
  return m ? m[1].trim() : undefined;
};

// --- the ws client: a real connection, the welcome arrives
{
  const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/primus?sessionID=abc`);
  const first = await new Promise((resolve, reject) => {
    ws.on('message', (d) => resolve(d.toString()));
    ws.on('error', reject);
  });
  eq('ws client: welcome is the first message', first, '{"welcome":"Welcome to the actionhero api","context":"api"}');
  ws.close();
}

// --- raw handshake: exact 101 response
{
  const r = await rawRequest(srv.port, upgrade(good), { timeout: 500 });
  const head = r.data.slice(0, r.data.indexOf('\r\n\r\n') + 4);
  eq('101 response head', head,
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n');
  check('welcome frame follows the 101', r.data.includes('"welcome":"Welcome to the actionhero api"'), r.data);
}
{
  // key computed for a random key, case-insensitive tokens, query string, prefix path
  const k = crypto.randomBytes(16).toString('base64');
  const want = crypto.createHash('sha1').update(`${k}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
  const lines = ['upgrade: WebSocket', 'connection: keep-alive, Upgrade', `sec-websocket-key: ${k}`, 'sec-websocket-version: 13'];
  const r = await rawRequest(srv.port, upgrade(lines, { path: '/primus/x?_primuscb=1&sessionID=s' }), { timeout: 500 });
  eq('101 for lower-case headers and token lists', statusOf(r.data), 101);
  eq('accept key', headerOf(r.data, 'Sec-WebSocket-Accept'), want);
}
{
  const r = await rawRequest(srv.port, upgrade([...good, 'Sec-WebSocket-Protocol: chat, superchat']), { timeout: 500 });
  eq('first offered subprotocol is selected', headerOf(r.data, 'Sec-WebSocket-Protocol'), 'chat');
}

// --- refused upgrades
const refused = [
  ['Upgrade: h2c', upgrade([...without('Upgrade'), 'Upgrade: h2c']), 400, 'Invalid Upgrade header'],
  ['missing key', upgrade(without('Sec-WebSocket-Key')), 400, 'Missing or invalid Sec-WebSocket-Key header'],
  ['key not base64', upgrade([...without('Sec-WebSocket-Key'), 'Sec-WebSocket-Key: !!!!!!!!!!!!!!!!!!!!!!==']), 400,
    'Missing or invalid Sec-WebSocket-Key header'],
  ['key of 15 bytes', upgrade([...without('Sec-WebSocket-Key'), `Sec-WebSocket-Key: ${Buffer.alloc(15).toString('base64')}`]),
    400, 'Missing or invalid Sec-WebSocket-Key header'],
  ['version 8', upgrade([...without('Sec-WebSocket-Version'), 'Sec-WebSocket-Version: 8']), 426,
    'Missing or invalid Sec-WebSocket-Version header'],
  ['missing version', upgrade(without('Sec-WebSocket-Version')), 426, 'Missing or invalid Sec-WebSocket-Version header'],
  ['bad subprotocol list', upgrade([...good, 'Sec-WebSocket-Protocol: a,,b']), 400, 'Invalid Sec-WebSocket-Protocol header'],
  ['duplicate subprotocol', upgrade([...good, 'Sec-WebSocket-Protocol: a, a']), 400, 'Invalid Sec-WebSocket-Protocol header'],
];
for (const [name, req, status, body] of refused) {
  const r = await rawRequest(srv.port, req, { timeout: 2000 });
  eq(`${name}: status`, statusOf(r.data), status);
  eq(`${name}: body`, bodyOf(r.data), body);
  check(`${name}: no 101 and no frame`, !r.data.includes('101 Switching') && !r.data.includes('welcome'), r.data);
  check(`${name}: text/plain`, (headerOf(r.data, 'content-type') || '').startsWith('text/plain'), r.data);
  eq(`${name}: connection closed`, r.closed, true);
  if (status === 426) eq(`${name}: Sec-WebSocket-Version header`, headerOf(r.data, 'Sec-WebSocket-Version'), '13');
}

// --- plain requests under the Primus path
{
  const res = await fetch(`${srv.url}/primus/spec`);
  eq('/primus/spec status', res.status, 200);
  check('/primus/spec content type', (res.headers.get('content-type') || '').startsWith('application/json'), res.headers.get('content-type'));
  eq('/primus/spec body', await res.text(),
    '{"pingInterval":30000,"pathname":"/primus","version":"8.0.9","parser":"json","transformer":"websockets"}');
}
{
  const res = await fetch(`${srv.url}/primus/primus.js`);
  eq('/primus/primus.js status', res.status, 200);
  eq('/primus/primus.js content type', res.headers.get('content-type'), 'text/javascript; charset=utf-8');
  check('/primus/primus.js points at the client', (await res.text()).includes('/public/javascript/ActionheroWebsocketClient.js'));
}
for (const path of ['/primus', '/primus/', '/primusX', '/primus/anything?x=1']) {
  const res = await fetch(`${srv.url}${path}`);
  eq(`GET ${path}: 426`, res.status, 426);
  eq(`GET ${path}: body`, await res.text(), 'Upgrade Required');
  check(`GET ${path}: text/plain`, (res.headers.get('content-type') || '').startsWith('text/plain'), res.headers.get('content-type'));
  eq(`GET ${path}: cache-control`, res.headers.get('cache-control'), 'no-store, no-cache, must-revalidate, max-age=0');
  eq(`GET ${path}: pragma`, res.headers.get('pragma'), 'no-cache');
}
{
  // the web server hands only GET upgrades over: another method is a plain
  // request under the Primus path (ws_handshake_check's 405 is unit-tested)
  const r = await rawRequest(srv.port, upgrade(good, { method: 'POST' }), { timeout: 2000 });
  eq('POST with upgrade headers -> 426', statusOf(r.data), 426);
  eq('POST with upgrade headers: body', bodyOf(r.data), 'Upgrade Required');
}
{
  // an upgrade header without Connection: upgrade is a plain request
  const r = await rawRequest(srv.port, upgrade(without('Connection')), { timeout: 2000 });
  eq('no Connection: upgrade -> 426', statusOf(r.data), 426);
}

// --- an upgrade on a path the websocket server does not own is answered as
// HTTP (never left hanging) and the socket is not upgraded
{
  const r = await rawRequest(srv.port, upgrade(good, { path: '/api/randomNumber' }), { timeout: 3000 });
  eq('upgrade on /api/randomNumber: answered by the web server (no route: 404)', statusOf(r.data), 404);
  check('upgrade on /api/randomNumber: the action error JSON', bodyOf(r.data).includes('unknown action or invalid apiVersion'), r.data);
  eq('upgrade on /api/randomNumber: closed after the answer', r.closed, true);
  const n = await rawRequest(srv.port, upgrade(good, { path: '/nothing-here' }), { timeout: 3000 });
  eq('upgrade on an unknown path: 404', statusOf(n.data), 404);
}

await done();
