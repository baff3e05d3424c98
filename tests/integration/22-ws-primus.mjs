// 22-ws-primus.mjs - the Primus layer on /primus (websocket.md §2.2-§2.4):
// JSON strings for control messages, primus::id, heartbeat pings with a
// short configured pingInterval, pongs and WebSocket pings keeping a client
// alive, a silent client ended without primus::server::close, what is not
// JSON dropped, U+2028/U+2029 escaped on output.
import WebSocket from '../node_modules/ws/index.js';
import { startServer, check, eq, sleep, done } from '../lib/lib.mjs';

const srv = await startServer({
  env: { ACTIONHERO_CONFIG_OVERRIDES: JSON.stringify({ websocket: { server: { pingInterval: 200 }, closeTimeout: 500 } }) },
});
const url = `ws://127.0.0.1:${srv.port}/primus`;

// A client that records every text message; waitFor(pred) resolves with the
// first message (parsed) that matches, old or new.
function client(path = url) {
  const ws = new WebSocket(path);
  const messages = [];
  const waiters = [];
  ws.on('message', (d, isBinary) => {
    const text = d.toString();
    let v;
    try { v = JSON.parse(text); } catch { v = undefined; }
    const m = { text, v, isBinary };
    messages.push(m);
    for (const w of waiters.slice()) if (w.pred(m)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(m); }
  });
  const closed = new Promise((r) => ws.on('close', (code) => r(code)));
  const opened = new Promise((r, j) => { ws.on('open', r); ws.on('error', j); });
  const waitFor = (pred, ms = 3000) => new Promise((resolve) => {
    const found = messages.find(pred);
    if (found) return resolve(found);
    const w = { pred, resolve };
    waiters.push(w);
    setTimeout(() => { const i = waiters.indexOf(w); if (i >= 0) { waiters.splice(i, 1); resolve(null); } }, ms);
  });
  return { ws, messages, closed, opened, waitFor };
}
const isPing = (m) => typeof m.v === 'string' && m.v.startsWith('primus::ping::');

// --- control strings and JSON
{
  const c = client();
  await c.opened;
  c.ws.on('message', (d) => {
    const v = JSON.parse(d.toString());
    if (typeof v === 'string' && v.startsWith('primus::ping::')) c.ws.send(JSON.stringify(`primus::pong::${v.slice(14)}`));
  });
  const welcome = await c.waitFor((m) => m.v && m.v.welcome);
  check('welcome arrives', welcome !== null);

  c.ws.send(JSON.stringify('primus::id::'));
  const id = await c.waitFor((m) => typeof m.v === 'string' && m.v.startsWith('primus::id::'));
  check('primus::id:: answered with the spark id', id !== null && /^primus::id::[A-Za-z0-9_-]{21}$/.test(id.v), id);
  check('control messages are JSON strings on the wire', id !== null && id.text.startsWith('"primus::id::'));

  // not JSON: dropped, the connection stays; then a message is answered
  c.ws.send('{not json');
  c.ws.send('');
  c.ws.send(JSON.stringify({ event: 'detailsView', messageId: 'after-garbage' }));
  const after = await c.waitFor((m) => m.v && m.v.messageId === 'after-garbage');
  check('non-JSON frames are ignored, the connection stays', after !== null && after.v.status === 'OK');

  // an unknown primus:: string is data: the verb error for a string
  c.ws.send(JSON.stringify('primus::nope::1'));
  const nope = await c.waitFor((m) => m.v && m.v.data === 'primus::nope::1');
  eq('unknown primus:: strings fall through as data', nope && nope.v.error, 'Error: verb not found or not allowed (undefined)');

  // U+2028 / U+2029 escaped on output
  c.ws.send(JSON.stringify({ event: 'nope', x: 'a\u2028b\u2029c', messageId: 'ls' }));
  const ls = await c.waitFor((m) => m.v && m.v.messageId === 'ls');
  check('U+2028/U+2029 are escaped in the frame text', ls !== null && ls.text.includes('"x":"a\\u2028b\\u2029c"'), ls && ls.text);
  eq('and decode back to the same string', ls && ls.v.data.x, 'a\u2028b\u2029c');
  c.ws.close();
  await c.closed;
}

// --- heartbeat
{
  const live = client();
  const pinger = client();
  const silent = client();
  await Promise.all([live.opened, pinger.opened, silent.opened]);
  let pongs = 0;
  live.ws.on('message', (d) => {
    const v = JSON.parse(d.toString());
    if (typeof v === 'string' && v.startsWith('primus::ping::')) {
      live.ws.send(JSON.stringify(`primus::pong::${v.slice(14)}`));
      pongs++;
    }
  });
  const wsPings = setInterval(() => pinger.ws.ping(), 50);
  let silentClose = null;
  silent.closed.then((code) => { silentClose = code; });
  for (let i = 0; i < 100 && (silentClose === null || pongs < 4); i++) await sleep(50);
  clearInterval(wsPings);

  const pings = live.messages.filter(isPing);
  check('pings arrive every pingInterval', pings.length >= 4, { pings: pings.length });
  check('ping payload is the server time in ms', pings.length > 0 && pings.every((m) => /^primus::ping::\d{13}$/.test(m.v)),
    pings.map((m) => m.v));
  check('a client answering pongs stays connected', live.ws.readyState === WebSocket.OPEN);
  check('a client sending WebSocket pings stays connected', pinger.ws.readyState === WebSocket.OPEN);
  eq('a silent client is closed without a status code', silentClose, 1005);
  eq('a silent client got exactly one ping first', silent.messages.filter(isPing).length, 1);
  check('and no primus::server::close', !silent.messages.some((m) => m.v === 'primus::server::close'));
  live.ws.close();
  pinger.ws.close();
}

await done();
