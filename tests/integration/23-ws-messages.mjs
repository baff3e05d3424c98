// 23-ws-messages.mjs - Actionhero's websocket messages (websocket.md §3-§5):
// welcome, action round trips with message ids of every JSON type, unknown
// action and missing params, params reset per message, verbs with the exact
// success and error shapes, detailsView (fingerprint from ?sessionID=,
// remote address from X-Forwarded-For), documentation, messages that are not
// objects, binary frames, concurrent actions and simultaneousActions, quit.
import WebSocket from '../node_modules/ws/index.js';
import { startServer, check, eq, sleep, done } from '../lib/lib.mjs';

const srv = await startServer({
  env: { ACTIONHERO_CONFIG_OVERRIDES: JSON.stringify({ websocket: { server: { pingInterval: false } } }) },
  files: {
    'public/ws-test.txt': 'h\u00e9llo\n',
    'public/ws-bin.dat': Buffer.from([0x61, 0xff, 0x62, 0xe2, 0x82]),
  },
});

function client(query = '', headers = {}) {
  const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/primus${query}`, { headers });
  const messages = [];
  const waiters = [];
  ws.on('message', (d) => {
    const m = { text: d.toString() };
    try { m.v = JSON.parse(m.text); } catch { m.v = undefined; }
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
  // send a message and wait for the reply carrying messageId `id`
  const ask = async (msg, id = msg.messageId) => {
    ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
    const r = await waitFor((m) => m.v && m.v.messageId === id);
    return r ? r.v : null;
  };
  return { ws, messages, closed, opened, waitFor, ask };
}
const keys = (o) => (o && typeof o === 'object' ? Object.keys(o).join(',') : String(o));

// --- welcome and actions
{
  const c = client('?sessionID=fp-123&_primuscb=x', { 'X-Forwarded-For': '10.1.2.3:4567' });
  await c.opened;
  const w = await c.waitFor(() => true);
  eq('welcome message', w && w.text, '{"welcome":"Welcome to the actionhero api","context":"api"}');

  let r = await c.ask({ event: 'action', params: { action: 'randomNumber' }, messageId: 'abc' });
  eq('action reply keys', keys(r), 'randomNumber,stringRandomNumber,context,messageId');
  check('randomNumber is a number', r && typeof r.randomNumber === 'number');
  eq('context', r && r.context, 'response');

  r = await c.ask({ event: 'action', params: { action: 'randomNumber' }, messageId: 5 });
  check('a numeric messageId stays a number', r !== null && r.messageId === 5, r);
  r = await c.ask({ event: 'action', params: { action: 'randomNumber' }, messageId: 1.5 });
  check('a real messageId stays a number', r !== null && r.messageId === 1.5, r);

  c.ws.send(JSON.stringify({ event: 'action', params: { action: 'nope' } }));
  r = (await c.waitFor((m) => m.v && m.v.error === 'unknown action or invalid apiVersion')).v;
  eq('unknown action: keys', keys(r), 'error,context,messageId');
  check('unknown action: a UUID message id', /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(r.messageId), r);

  r = await c.ask({ event: 'action', messageId: 'noparams' });
  eq('missing params: unknown action', r && r.error, 'unknown action or invalid apiVersion');
  r = await c.ask({ event: 'action', params: { action: 'randomNumber', messageId: 'inner' }, messageId: 'outer' });
  check('a messageId inside params is only a param', r !== null && typeof r.randomNumber === 'number');

  r = await c.ask({ event: 'action', params: { action: 'sleepTest' }, messageId: 'sleep' });
  check('an asynchronous action answers', r !== null && r.sleepDuration !== undefined, r);

  r = await c.ask({ event: 'detailsView', messageId: 'd1' });
  eq('detailsView reply keys', keys(r), 'status,context,data,messageId');
  eq('detailsView status', r && r.status, 'OK');
  eq('detailsView data keys', keys(r && r.data), 'id,fingerprint,remoteIP,remotePort,params,connectedAt,rooms,totalActions,pendingActions');
  eq('fingerprint from ?sessionID=', r && r.data.fingerprint, 'fp-123');
  eq('remoteIP from X-Forwarded-For', r && r.data.remoteIP, '10.1.2.3');
  eq('remotePort from X-Forwarded-For is a string', r && r.data.remotePort, '4567');
  eq('params never persist between messages', r && r.data.params, {});
  eq('rooms', r && r.data.rooms, []);
  eq('totalActions counts every attempt', r && r.data.totalActions, 7);
  eq('pendingActions', r && r.data.pendingActions, 0);
  check('connection id is a UUID', r && /^[0-9a-f-]{36}$/.test(r.data.id));
  c.ws.close();
  await c.closed;
}

// --- verbs and other messages
{
  const c = client();
  await c.opened;
  await c.waitFor(() => true);
  c.ws.send(JSON.stringify({ event: 'paramAdd', key: 'k', messageId: 'm1' }));
  let m = await c.waitFor((x) => x.v && x.v.messageId === 'm1');
  eq('paramAdd is not allowed on websocket', m && m.text,
    '{"status":"Error: verb not found or not allowed (paramAdd)","error":"Error: verb not found or not allowed (paramAdd)",' +
    '"context":"response","data":{"key":"k"},"messageId":"m1"}');
  c.ws.send(JSON.stringify({ event: 'documentation', messageId: 'm2' }));
  m = await c.waitFor((x) => x.v && x.v.messageId === 'm2');
  eq('documentation error of v29', m && m.v.error, "TypeError: Cannot read properties of undefined (reading 'documentation')");
  eq('documentation status equals error', m && m.v.status, m && m.v.error);

  c.ws.send(JSON.stringify({ event: 'roomView', room: 'defaultRoom', messageId: 'm3' }));
  m = await c.waitFor((x) => x.v && x.v.messageId === 'm3');
  eq('roomView of a room not joined', m && m.v.error, 'Error: connection not in this room (defaultRoom)');
  eq('roomView error data has no room', m && m.v.data, {});

  let r = await c.ask({ messageId: 'x1' });
  eq('object without event', r, {
    status: 'Error: verb not found or not allowed (undefined)', error: 'Error: verb not found or not allowed (undefined)',
    context: 'response', data: {}, messageId: 'x1',
  });
  c.ws.send('5');
  m = await c.waitFor((x) => x.v && x.v.data === 5);
  eq('a number: verb error with data 5', m && m.v.error, 'Error: verb not found or not allowed (undefined)');
  c.ws.send('"hello"');
  m = await c.waitFor((x) => x.v && x.v.data === 'hello');
  check('a string: verb error with the string as data', m !== null);
  c.ws.send(JSON.stringify({ event: 5, messageId: 'num-event' }));
  m = await c.waitFor((x) => x.v && x.v.messageId === 'num-event');
  eq('a non-string event', m && m.v.error, 'Error: verb not found or not allowed (5)');

  c.ws.send(Buffer.from([1, 2, 255]), { binary: true });
  m = await c.waitFor((x) => x.v && x.v.data && x.v.data.type === 'Buffer');
  eq('binary frame: a Buffer in data', m && m.v.data, { type: 'Buffer', data: [1, 2, 255] });
  eq('binary frame: the verb error', m && m.v.error, 'Error: verb not found or not allowed (undefined)');

  // quit: no reply, primus::server::close then a close frame without code
  c.ws.send(JSON.stringify({ event: 'quit', messageId: 'q' }));
  const code = await c.closed;
  eq('quit: close without status code', code, 1005);
  eq('quit: primus::server::close is the last message', c.messages[c.messages.length - 1].v, 'primus::server::close');
  check('quit: no reply', !c.messages.some((x) => x.v && x.v.messageId === 'q'));
}

// --- file events and connection.sendFile
{
  const c = client();
  await c.opened;
  await c.waitFor(() => true);
  const { statSync } = await import('node:fs');
  const path = await import('node:path');
  const mtime = statSync(path.join(srv.dir, 'public/ws-test.txt')).mtime.toISOString();
  let r = await c.ask({ event: 'file', file: 'ws-test.txt', messageId: 'f1' });
  eq('file found', r, { content: 'h\u00e9llo\n', mime: 'text/plain', length: 7, lastModified: mtime, context: 'response', messageId: 'f1' });
  r = await c.ask({ event: 'file', file: 'ws-bin.dat', messageId: 'f2' });
  eq('binary bytes decoded as UTF-8 with U+FFFD', r && r.content, 'a\ufffdb\ufffd');
  eq('unknown extension: mime null (mime.getType)', r && r.mime, null);
  eq('length is the byte size', r && r.length, 5);
  const notFound = (id) => ({ error: 'that file is not found', content: null, mime: 'text/html', length: 22, context: 'response', messageId: id });
  r = await c.ask({ event: 'file', file: 'nope.html', messageId: 'f3' });
  eq('missing file', r, notFound('f3'));
  r = await c.ask({ event: 'file', file: '../config/web.json', messageId: 'f4' });
  eq('a path out of public/ is not found', r, notFound('f4'));
  r = await c.ask({ event: 'file', messageId: 'f5' });
  eq('no file param', r, notFound('f5'));
  r = await c.ask({ event: 'file', file: 'css/', messageId: 'f6' });
  eq('a directory without index.html', r, notFound('f6'));
  r = await c.ask({ event: 'file', file: 'simple.html', messageId: 7 });
  check('simple.html', r !== null && r.mime === 'text/html' && typeof r.content === 'string' && r.content.length > 0 && r.messageId === 7, r);
  // an action calling connection.sendFile (toRender false): the file reply only
  r = await c.ask({ event: 'action', params: { action: 'sendFile' }, messageId: 'sf' });
  check('sendFile from an action', r !== null && r.mime === 'image/png' && typeof r.content === 'string' && r.length > 0, r);
  check('sendFile: no second reply', c.messages.filter((x) => x.v && x.v.messageId === 'sf').length === 1);
  r = await c.ask({ event: 'detailsView', messageId: 'after-file' });
  eq('params reset after a file event', r && r.data.params, {});
  c.ws.close();
}

// --- chat verbs between two clients (rooms of the test environment)
{
  const a = client();
  const b = client();
  await Promise.all([a.opened, b.opened]);
  await Promise.all([a.waitFor(() => true), b.waitFor(() => true)]);
  let r = await a.ask({ event: 'roomAdd', room: 'defaultRoom', messageId: 'ra' });
  eq('roomAdd reply', r, { status: 'OK', context: 'response', data: true, messageId: 'ra' });
  r = await b.ask({ event: 'roomAdd', room: 'defaultRoom', messageId: 'rb' });
  eq('roomAdd reply (second client)', r && r.status, 'OK');
  const aid = (await a.ask({ event: 'detailsView', messageId: 'aid' })).data.id;
  r = await a.ask({ event: 'say', room: 'defaultRoom', message: 'hello there', messageId: 's1' });
  eq('say reply has no data', r, { status: 'OK', context: 'response', messageId: 's1' });
  const got = await b.waitFor((m) => m.v && m.v.context === 'user');
  eq('the other member gets the message: keys', keys(got && got.v), 'message,room,from,context,sentAt');
  eq('message', got && got.v.message, 'hello there');
  eq('room', got && got.v.room, 'defaultRoom');
  eq('from', got && got.v.from, aid);
  check('sentAt is a time in ms', got && typeof got.v.sentAt === 'number' && got.v.sentAt > 1.5e12);
  check('the sender gets its own message too', (await a.waitFor((m) => m.v && m.v.context === 'user')) !== null);
  r = await a.ask({ event: 'roomView', room: 'defaultRoom', messageId: 'rv' });
  eq('roomView data keys', keys(r && r.data), 'room,members,membersCount');
  eq('roomView membersCount', r && r.data.membersCount, 2);
  r = await a.ask({ event: 'roomAdd', room: 'noSuchRoom', messageId: 'nr' });
  eq('roomAdd of a missing room', r && r.error, 'Error: room does not exist');
  eq('roomAdd of a missing room: data', r && r.data, {});
  r = await a.ask({ event: 'say', room: 'otherRoom', message: 'x', messageId: 'nm' });
  eq('say in a room not joined', r && r.error, 'Error: connection not in this room (otherRoom)');
  eq('say in a room not joined: data', r && r.data, { message: 'x' });
  r = await b.ask({ event: 'roomLeave', room: 'defaultRoom', messageId: 'rl' });
  eq('roomLeave reply', r, { status: 'OK', context: 'response', data: true, messageId: 'rl' });
  a.ws.close();
  b.ws.close();
}

// --- concurrency: replies by messageId, the 6th concurrent action refused
{
  const c = client();
  await c.opened;
  await c.waitFor(() => true);
  for (let i = 1; i <= 6; i++) {
    c.ws.send(JSON.stringify({ event: 'action', params: { action: 'sleepTest', sleepDuration: 100 }, messageId: i }));
  }
  const replies = [];
  for (let i = 1; i <= 6; i++) replies.push((await c.waitFor((x) => x.v && x.v.messageId === i)).v);
  const refused = replies.filter((x) => x.error === 'you have too many pending requests');
  eq('one of six concurrent actions is refused', refused.length, 1);
  eq('the refused one is the sixth', refused[0] && refused[0].messageId, 6);
  eq('the others complete', replies.filter((x) => x.sleepDuration !== undefined).length, 5);
  const order = c.messages.filter((x) => x.v && typeof x.v.messageId === 'number').map((x) => x.v.messageId);
  eq('the refusal comes first (replies are out of order)', order[0], 6);
  // leave while an action runs: the server is fine
  c.ws.send(JSON.stringify({ event: 'action', params: { action: 'sleepTest', sleepDuration: 100 } }));
  c.ws.terminate();
  await sleep(300);
  const d = client();
  await d.opened;
  const r = await d.ask({ event: 'detailsView', messageId: 'alive' });
  eq('the server still answers after a client left mid-action', r && r.status, 'OK');
  d.ws.close();
}
check('no crash in the log', !/Sanitizer|runtime error|Assertion/.test(srv.log));

await done();
