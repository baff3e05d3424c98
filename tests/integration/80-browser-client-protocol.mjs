// The browser client (public/javascript/ActionheroWebsocketClient.js) run in
// Node with the `ws` package against a fake Primus server: pins the wire
// protocol, the message routing and the reconnect behaviour independently of
// the C server.  spec/websocket.md §2 and §6.
import WebSocket from 'ws';
import { check, eq, done } from '../lib/lib.mjs';
import { startFakePrimus } from '../browser/fake-primus.mjs';
import { loadClient } from '../browser/load-client.mjs';

const Client = loadClient();
const fake = await startFakePrimus();

const once = (emitter, event) => new Promise((resolve) => emitter.once(event, (...a) => resolve(a.length > 1 ? a : a[0])));
const call = (fn) => new Promise((resolve) => fn(resolve));
const connect = (c) => new Promise((resolve) => c.connect((err, details) => resolve({ err, details })));
const fast = { min: 20, max: 200, retries: 3, factor: 2, timeout: 2000 };
const clients = [];
function make(opts = {}) {
  const c = new Client({ url: fake.url, WebSocket, reconnect: fast, ...opts });
  clients.push(c);
  return c;
}

// ---- defaults and exports
{
  const c = new Client({ url: fake.url });
  eq('defaults: apiPath, cookieKey, pathname', [c.options.apiPath, c.options.cookieKey, c.options.pathname], ['/api', 'sessionID', '/primus']);
  eq('defaults: Primus timeouts', [c.options.timeout, c.options.pingTimeout], [10000, 45000]);
  eq('initial public fields', [c.id, c.rooms, c.state, c.messageId, c.callbacks], [null, [], 'disconnected', 0, {}]);
  check('emitter API present', ['on', 'once', 'off', 'removeListener', 'removeAllListeners', 'emit', 'listeners']
    .every((m) => typeof c[m] === 'function'));
  const u = new URL(new Client({ url: 'https://example.test:8443/', cookie: 'a=1; sessionID=abc%20def; sessionIDx=no' }).urlWithSession());
  eq('URL: https origin becomes wss + /primus', `${u.protocol}//${u.host}${u.pathname}`, 'wss://example.test:8443/primus');
  eq('URL: sessionID cookie copied into the query (exact cookie name)', u.searchParams.get('sessionID'), 'abc def');
  check('URL: cache buster _primuscb', /^[0-9a-z]+-\d+$/.test(u.searchParams.get('_primuscb') || ''), u.search);
  const u2 = new URL(new Client({ url: 'http://h:1' }).urlWithSession());
  eq('URL: no cookie, no sessionID', [u2.protocol, u2.searchParams.has('sessionID')], ['ws:', false]);
}

// ---- connect, welcome, detailsView
const a = make({ cookie: 'sessionID=fp-alpha' });
const seen = { welcome: [], connected: 0, message: [] };
a.on('welcome', (m) => seen.welcome.push(m));
a.on('connected', () => { seen.connected++; });
a.on('message', (m) => seen.message.push(m));
{
  const { err, details } = await connect(a);
  const conn = fake.last();
  eq('connect: callback(null, detailsView reply)', [err, details.status, details.data.id], [null, 'OK', conn.id]);
  eq('connect: id and fingerprint stored', [a.id, a.fingerprint], [conn.id, 'fp-alpha']);
  eq('connect: state connected, one connected event', [a.state, seen.connected], ['connected', 1]);
  eq('connect: first frame is detailsView with messageId 1', conn.raw[0], '{"event":"detailsView","messageId":1}');
  eq('connect: query has sessionID', conn.query.sessionID, 'fp-alpha');
  eq('welcome event and welcomeMessage', [seen.welcome.length, a.welcomeMessage], [1, 'Welcome to the actionhero api']);
  check('message event for every inbound object', seen.message.length === 2 && seen.message[0].welcome !== undefined);
}
const A = () => fake.conns.find((c) => c.id === a.id);

// ---- actions
{
  const params = { x: 1 };
  const r = await call((cb) => a.action('randomNumber', params, cb));
  const sent = A().received.at(-1);
  eq('action: frame {event, params: {..., action}, messageId}', sent, { event: 'action', params: { x: 1, action: 'randomNumber' }, messageId: 2 });
  check('action: callback gets the reply', typeof r.randomNumber === 'number' && r.stringRandomNumber === `Your random number is ${r.randomNumber}` && r.messageId === 2, r);
  eq('action: caller params not modified', params, { x: 1 });
  const r2 = await call((cb) => a.action('echo', cb));
  eq('action: params optional', r2.params, { action: 'echo' });
  const r3 = await call((cb) => a.action('echo', { messageId: 'mine' }, cb));
  eq('action: params.messageId becomes the messageId', [A().received.at(-1).messageId, r3.messageId], ['mine', 'mine']);
  const r4 = await call((cb) => a.action('nope', cb));
  eq('action: error reply reaches the callback', r4.error, 'unknown action or invalid apiVersion');
}

// out-of-order replies are matched by messageId
{
  const held = [];
  fake.hook = (conn, msg) => { if (msg.event === 'action') { held.push([conn, msg]); return true; } return false; };
  const p1 = call((cb) => a.action('echo', { n: 1 }, cb));
  const p2 = call((cb) => a.action('echo', { n: 2 }, cb));
  await fake.waitFor(() => held.length === 2, 'two held actions');
  fake.hook = null;
  for (const [conn, msg] of held.reverse()) fake.send(conn, { n: msg.params.n, context: 'response', messageId: msg.messageId });
  const [x1, x2] = await Promise.all([p1, p2]);
  eq('replies in reverse order reach the right callbacks', [x1.n, x2.n], [1, 2]);
  eq('callbacks are deleted once called', Object.keys(a.callbacks), []);
}

// ---- heartbeat
{
  fake.send(A(), 'primus::ping::1796300430206');
  await fake.waitFor(() => A().raw.includes('"primus::pong::1796300430206"'), 'pong');
  check('primus::ping::<n> answered with "primus::pong::<n>"', true);
  const before = seen.message.length;
  fake.send(A(), 'primus::other::x');
  await fake.waitFor(() => seen.message.length > before, 'unknown primus string as data');
  eq('unknown primus:: string is data (message event)', seen.message.at(-1), 'primus::other::x');
  const errs = [];
  a.on('error', (e) => errs.push(e));
  A().ws.send('{not json');
  fake.send(A(), 'primus::ping::7');
  await fake.waitFor(() => A().raw.includes('"primus::pong::7"'), 'pong 7');
  check('invalid JSON from the server: error event, client keeps working', errs.length === 1 && /invalid JSON/.test(errs[0].message), errs.map(String));
  a.removeAllListeners('error');
}

// ---- routing by context
{
  const got = {};
  for (const ev of ['say', 'alert', 'api']) a.on(ev, (m) => { got[ev] = m; });
  fake.send(A(), { message: 'hi', room: 'r', from: 'x', context: 'user', sentAt: 1 });
  fake.send(A(), { message: 'careful', context: 'alert' });
  fake.send(A(), { something: 1, context: 'api' });
  fake.send(A(), { context: 'response', messageId: 999, stray: true });
  await fake.waitFor(() => got.api, 'api event');
  eq('context user -> say', got.say && got.say.message, 'hi');
  eq('context alert -> alert', got.alert && got.alert.message, 'careful');
  eq('context api without welcome -> api', got.api && got.api.something, 1);
  eq('a response without a callback is harmless', a.state, 'connected');
}

// ---- verbs
{
  const add = await call((cb) => a.roomAdd('defaultRoom', cb));
  eq('roomAdd: reply passed to the callback', [add.status, add.data], ['OK', true]);
  const frames = A().received.slice(-2);
  eq('roomAdd: then detailsView to refresh', frames.map((f) => f.event), ['roomAdd', 'detailsView']);
  eq('roomAdd: rooms refreshed', a.rooms, ['defaultRoom']);
  const bad = await call((cb) => a.roomAdd('missingRoom', cb));
  eq('roomAdd error: error text and unchanged rooms', [bad.error, a.rooms], ['Error: room does not exist', ['defaultRoom']]);
  const view = await call((cb) => a.roomView('defaultRoom', cb));
  eq('roomView: members', [view.data.membersCount, Object.keys(view.data.members)], [1, [a.id]]);
  const sayEv = once(a, 'say');
  const s = await call((cb) => a.say('defaultRoom', 'hello there', cb));
  eq('say: frame', A().received.at(-1), { event: 'say', room: 'defaultRoom', message: 'hello there', messageId: A().received.at(-1).messageId });
  eq('say: OK reply without data', [s.status, 'data' in s], ['OK', false]);
  const heard = await sayEv;
  eq('say: own message comes back as a say event', [heard.message, heard.from, heard.room], ['hello there', a.id, 'defaultRoom']);
  const notIn = await call((cb) => a.say('otherRoom', 'x', cb));
  eq('say outside the room: verb error with data', [notIn.error, notIn.data], ['Error: connection not in this room (otherRoom)', { message: 'x' }]);
  const d = await call((cb) => a.detailsView(cb));
  eq('detailsView', [d.data.id, d.data.fingerprint, d.data.rooms], [a.id, 'fp-alpha', ['defaultRoom']]);
  const f = await call((cb) => a.file('simple.html', cb));
  eq('file: frame and reply', [A().received.at(-1).event, A().received.at(-1).file, f.content, f.mime], ['file', 'simple.html', '<h1>fake</h1>', 'text/html']);
  const nf = await call((cb) => a.file('nope.txt', cb));
  eq('file not found', [nf.error, nf.content], ['that file is not found', null]);
  const doc = await call((cb) => a.documentation(cb));
  eq('documentation: frame and reply', [A().received.at(-1).event, doc.error], ['documentation', "Error: Cannot read properties of undefined (reading 'documentation')"]);
  await call((cb) => a.roomAdd('otherRoom', cb));
  eq('two rooms', a.rooms, ['defaultRoom', 'otherRoom']);
}

// ---- reconnect after a network loss: re-join rooms, refresh id, flush the queue
{
  const oldId = a.id;
  const events = [];
  for (const ev of ['disconnected', 'reconnecting', 'reconnect', 'reconnected', 'connected']) a.on(ev, (info) => events.push([ev, info]));
  // one request in flight when the link dies: its callback must not hang
  fake.hook = (conn, msg) => msg.event === 'action' && msg.params.action === 'hang';
  const hung = call((cb) => a.action('hang', cb));
  await fake.waitFor(() => A().received.some((m) => m.params && m.params.action === 'hang'), 'hang sent');
  fake.hook = null;
  const reconnected = once(a, 'reconnected');
  fake.drop(A());
  const lost = await hung;
  const hangId = A().received.find((m) => m.params && m.params.action === 'hang').messageId;
  eq('in-flight callback answered when the socket dies', [lost.error, lost.context, lost.messageId], ['connection closed before the response arrived', 'response', hangId]);
  await fake.waitFor(() => a.state === 'reconnecting', 'reconnecting state');
  // written while the socket is down: queued, sent after the rooms are re-joined
  const queued = call((cb) => a.action('echo', { q: 1 }, cb));
  await reconnected;
  const q = await queued;
  const conn = fake.last();
  eq('queued action sent after reconnect', q.params, { q: 1, action: 'echo' });
  eq('reconnect: roomAdd for each room, then detailsView, then the queue', conn.received.map((m) => m.event),
    ['roomAdd', 'roomAdd', 'detailsView', 'action']);
  eq('reconnect: server-side rooms re-joined', conn.rooms, ['defaultRoom', 'otherRoom']);
  check('reconnect: id refreshed to the new connection', a.id === conn.id && a.id !== oldId, { id: a.id, oldId });
  eq('reconnect: fingerprint kept (same cookie)', a.fingerprint, 'fp-alpha');
  eq('reconnect: events in order', events.map((e) => e[0]), ['disconnected', 'reconnecting', 'reconnect', 'reconnected', 'connected']);
  const sched = events.find((e) => e[0] === 'reconnecting')[1];
  check('back-off: attempt 1 delay in [min, 2*min]', sched.attempt === 1 && sched.delay >= 20 && sched.delay <= 40, sched);
  eq('state connected again', a.state, 'connected');
  for (const ev of ['disconnected', 'reconnecting', 'reconnect', 'reconnected', 'connected']) a.removeAllListeners(ev);
}

// ---- primus::server::close: no reconnect
{
  const ends = [];
  a.on('end', (e) => ends.push(e));
  const disc = once(a, 'disconnected');
  const n = fake.conns.length;
  a.send({ event: 'quit' });
  await disc;
  eq('server close: state disconnected, end emitted', [a.state, ends.length], ['disconnected', 1]);
  await new Promise((r) => setTimeout(r, 150)); // several back-off periods
  eq('server close: no reconnect attempt', fake.conns.length, n);
  const late = await call((cb) => a.detailsView(cb));
  eq('send after the end: callback gets an error', late.error, 'connection closed before the response arrived');
  const r = await call((cb) => a.action('echo', { z: 1 }, cb));
  eq('action() while disconnected uses HTTP: POST <url>/api/<action>', [r.method, r.url], ['POST', '/api/echo']);
  const h = fake.http.at(-1);
  eq('HTTP fallback: JSON body and content type', [JSON.parse(h.body), h.headers['content-type']], [{ z: 1, action: 'echo' }, 'application/json']);
  const g = await call((cb) => a.actionWeb({ action: 'echo', httpMethod: 'get', q: 'a b&c', o: { k: 1 } }, cb));
  eq('HTTP fallback GET: params in the query, URL-encoded', g.url, '/api/echo?q=a%20b%26c&o=%7B%22k%22%3A1%7D');
}

// ---- reconnect: the client reconnects after connect() again, rooms re-joined
{
  const { err } = await connect(a);
  eq('connect() again after the end re-joins the rooms it knew', [err, fake.last().rooms], [null, ['defaultRoom', 'otherRoom']]);
  const left = await call((cb) => a.roomLeave('otherRoom', cb));
  eq('roomLeave: reply and rooms', [left.status, a.rooms], ['OK', ['defaultRoom']]);
  const disc = once(a, 'disconnected');
  a.disconnect();
  await disc;
  eq('disconnect(): state', a.state, 'disconnected');
  await new Promise((r) => setTimeout(r, 100));
  check('disconnect(): socket closed, no reconnect', fake.last().closed && fake.live().length === 0, fake.live().length);
}

// ---- ping timeout: no ping for pingTimeout ms -> timeout, reconnect
{
  const b = make({ pingTimeout: 150 });
  await connect(b);
  const first = b.id;
  const t = once(b, 'timeout');
  const re = once(b, 'reconnected');
  await t;
  await re;
  check('ping timeout: timeout event then a new connection', b.id !== first && b.state === 'connected');
  // pings keep it alive
  let pings = 0;
  const keep = setInterval(() => { for (const c of fake.live()) { fake.send(c, `primus::ping::${Date.now()}`); } pings++; }, 40);
  const idNow = b.id;
  await new Promise((r) => setTimeout(r, 400));
  clearInterval(keep);
  check('regular pings keep the connection', b.id === idNow && b.state === 'connected' && pings > 5, { pings });
  b.disconnect();
}

// ---- giving up: retries exhausted
{
  const c = make({ reconnect: { min: 5, retries: 2, timeout: 500 } });
  await connect(c);
  const failed = once(c, 'reconnect failed');
  const ended = once(c, 'end');
  const attempts = [];
  c.on('reconnecting', (i) => attempts.push(i));
  fake.refuse = true;
  fake.drop(fake.last());
  const err = await failed;
  await ended;
  fake.refuse = false;
  eq('retries exhausted: reconnect failed after 2 attempts', [attempts.map((i) => i.attempt), err.message], [[1, 2], 'unable to reconnect after 2 attempts']);
  check('back-off grows: attempt 2 delay in [2*min, 4*min]', attempts[1].delay >= 10 && attempts[1].delay <= 20, attempts);
  eq('retries exhausted: state disconnected', c.state, 'disconnected');
}

// ---- reconnect disabled; first connect refused
{
  const c = make({ reconnect: false });
  fake.refuse = true;
  const { err } = await connect(c);
  fake.refuse = false;
  check('reconnect: false and a refused connect: callback(error)', err instanceof Error && c.state === 'disconnected', String(err));
}

// ---- bounded queue while reconnecting
{
  const c = make({ queueSize: 2, reconnect: { min: 200, retries: 2 } });
  await connect(c);
  fake.drop(fake.last());
  await fake.waitFor(() => c.state === 'reconnecting', 'reconnecting');
  const results = await Promise.all([1, 2, 3].map((n) => call((cb) => c.action('echo', { n }, cb))));
  eq('queue bound: the third message is refused', results[2].error, 'the client is not connected and its send queue is full');
  eq('queued ones are sent after the reconnect', [results[0].params.n, results[1].params.n], [1, 2]);
  c.disconnect();
}

// ---- connect timeout: the handshake never completes
{
  const net = await import('node:net');
  const silent = net.createServer(() => {});
  await new Promise((r) => silent.listen(0, '127.0.0.1', r));
  const c = make({ url: `http://127.0.0.1:${silent.address().port}`, timeout: 100, reconnect: false });
  const tEv = once(c, 'timeout');
  const { err } = await connect(c);
  await tEv;
  check('connect timeout: timeout event and callback(error)', err instanceof Error && c.state === 'disconnected', String(err));
  silent.close();
}

for (const c of clients) if (c.state !== 'disconnected') c.disconnect();
await fake.close();
await done();
