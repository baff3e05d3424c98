// 25-conn-recycle.mjs - connection objects are recycled (src/conn/conn.c):
// connection middleware create/destroy still run once per web request and
// per websocket; a reused connection starts fresh (no params, session data
// set by middleware or an action, rooms joined by a websocket, ids of the
// one before); a connection an action still holds after its client left is
// not reused under it.  Uses the connProbe* / connLateTouch test actions
// (tests/actions/conn_test.c).
import http from 'node:http';
import net from 'node:net';
import WebSocket from '../node_modules/ws/index.js';
import { startServer, check, eq, sleep, done } from '../lib/lib.mjs';

const srv = await startServer({
  env: {
    ACTIONHERO_CONFIG_OVERRIDES: JSON.stringify({
      general: { startingChatRooms: { probeRoom: {} } },
      routes: {
        get: ['connProbeInstall', 'connProbeStats', 'connLateTouch', 'randomNumber']
          .map((a) => ({ path: `/${a}`, action: a })),
      },
      websocket: { server: { pingInterval: false } },
    }),
  },
});
const P = srv.port;

const keysOf = (o) => (o && typeof o === 'object' ? Object.keys(o) : o);

function get(path) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: P, path, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, json, text });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

let r = await get('/api/connProbeInstall');
eq('probe installed', r.status, 200);

// --- two web requests: nothing of the first reaches the second
const a = await get('/api/connProbeStats?foo=1&bar=2');
const b = await get('/api/connProbeStats');
eq('first: 200', a.status, 200);
eq('second: 200', b.status, 200);
eq('first: session is the middleware mark only', keysOf(a.json?.session), ['probe']);
eq('second: session is the middleware mark only (no leftBehind)', keysOf(b.json?.session), ['probe']);
check('second: a new mark', b.json?.session?.probe === a.json?.session?.probe + 1, [a.json?.session, b.json?.session]);
eq('second: receivedParams has no foo/bar', b.json?.requesterInformation?.receivedParams, { action: 'connProbeStats' });
check('second: a new id', a.json?.connectionId !== b.json?.connectionId, [a.json?.connectionId, b.json?.connectionId]);
check('second: a new messageId', a.json?.requesterInformation?.messageId !== b.json?.requesterInformation?.messageId);
eq('no connection started dirty', [b.json?.dirty, b.json?.firstDirty], [0, '']);
// install itself, a, b: three created; install and a destroyed, b is live
eq('web create/destroy once per request', b.json?.web, { creates: 3, destroys: 2 });

// --- a websocket that joins a room, adds params, then goes away
{
  const ws = new WebSocket(`ws://127.0.0.1:${P}/primus`);
  const msgs = [];
  const waiters = [];
  ws.on('message', (d) => {
    let v;
    try { v = JSON.parse(d.toString()); } catch { v = undefined; }
    msgs.push(v);
    for (const w of waiters.splice(0)) w();
  });
  const closed = new Promise((res) => ws.on('close', res));
  await new Promise((res, rej) => { ws.on('open', res); ws.on('error', rej); });
  const ask = async (m) => {
    ws.send(JSON.stringify(m));
    for (let i = 0; i < 100; i++) {
      const hit = msgs.find((x) => x && x.messageId === m.messageId);
      if (hit) return hit;
      await new Promise((res) => { waiters.push(res); setTimeout(res, 30); });
    }
    return null;
  };
  let v = await ask({ event: 'roomAdd', room: 'probeRoom', messageId: 'j1' });
  eq('ws: roomAdd', v && v.status, 'OK');
  v = await ask({ event: 'action', params: { action: 'connProbeStats', stale: 'yes' }, messageId: 'p1' });
  eq('ws: an action with params', keysOf(v?.session), ['probe']);
  v = await ask({ event: 'detailsView', messageId: 'd1' });
  eq('ws: in the room', v && v.data && v.data.rooms, ['probeRoom']);
  ws.close();
  await closed;
  await sleep(200);
}
// several requests: the websocket's struct is reused by one of them
for (let i = 0; i < 4; i++) {
  r = await get('/api/connProbeStats');
  eq(`after ws ${i}: session is the mark only`, keysOf(r.json?.session), ['probe']);
  eq(`after ws ${i}: no params but the action`, r.json?.requesterInformation?.receivedParams,
    { action: 'connProbeStats' });
}
eq('after ws: nothing started dirty', [r.json?.dirty, r.json?.firstDirty], [0, '']);
eq('websocket create/destroy once', r.json?.websocket, { creates: 1, destroys: 1 });
eq('web create/destroy once per request', r.json?.web, { creates: 7, destroys: 6 });
// the room no longer lists the closed websocket
{
  const ws = new WebSocket(`ws://127.0.0.1:${P}/primus`);
  const msgs = [];
  ws.on('message', (d) => { try { msgs.push(JSON.parse(d.toString())); } catch { /* */ } });
  await new Promise((res, rej) => { ws.on('open', res); ws.on('error', rej); });
  ws.send(JSON.stringify({ event: 'roomAdd', room: 'probeRoom', messageId: 'j2' }));
  // roomView only after the join has answered (it needs the membership)
  for (let i = 0; i < 100 && !msgs.find((m) => m.messageId === 'j2'); i++) await sleep(20);
  ws.send(JSON.stringify({ event: 'roomView', room: 'probeRoom', messageId: 'v2' }));
  for (let i = 0; i < 100 && !msgs.find((m) => m.messageId === 'v2'); i++) await sleep(20);
  const view = msgs.find((m) => m.messageId === 'v2');
  eq('room: only the new member', view && view.data && view.data.membersCount, 1);
  if (!view) console.log('# no roomView reply; got: ' + JSON.stringify(msgs));
  const closed = new Promise((res) => ws.on('close', res));
  ws.close();
  await closed;
  await sleep(100);
}

// --- a slow action whose client left: its connection is not reused under it
{
  // the client resets the socket while the action waits
  const aborted = new Promise((resolve) => {
    const sock = net.connect(P, '127.0.0.1', () => {
      sock.write('GET /api/connLateTouch?delay=400 HTTP/1.1\r\nHost: x\r\n\r\n');
      setTimeout(() => sock.resetAndDestroy(), 100);
    });
    sock.on('error', () => {});
    sock.on('close', () => resolve());
  });
  await aborted;
  // fresh connections meanwhile (they would take a recycled struct)
  for (let i = 0; i < 6; i++) await get('/api/randomNumber');
  await sleep(600);
  r = await get('/api/connProbeStats');
  eq('late action: saw its own connection', [r.json?.lateSame, r.json?.lateChanged], [1, 0]);
  eq('late action: the connection was destroyed', r.json?.lateDestroyed, 1);
  eq('late: session is the mark only', keysOf(r.json?.session), ['probe']);
  eq('late: nothing started dirty', [r.json?.dirty, r.json?.firstDirty], [0, '']);
  // 7 + late + 6 + this one
  eq('late: web create/destroy once per request', r.json?.web, { creates: 15, destroys: 14 });
  eq('late: websockets', r.json?.websocket, { creates: 2, destroys: 2 });
}

await done();
