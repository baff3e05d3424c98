// 60-cluster-node-actionhero.mjs - an actionhero-c server and a Node Actionhero
// 29 server (from npm, the peer project in tests/interop/peer) on one
// private redis-server with the same serverToken form one cluster:
//   - each hears the other join and leave (api.log over RPC);
//   - cache entries cross both ways (save on one, load on the other);
//   - chat messages cross both ways between websocket clients (Primus at
//     /primus on both), rooms list the members of both servers;
//   - api.connections.apply reaches a connection held by the other server,
//     both ways (lookup, sendMessage, set);
//   - a task enqueued on one runs on the other's worker, both ways (the
//     same task name on both; C's workers take queue `default`, Node's
//     queue `node`).
// Needs tests/interop/node_modules (make test-interop installs it).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, check, eq, freePort, sleep, done } from '../lib/lib.mjs';
import { startRedis } from '../lib/redis.mjs';
import { wsClient } from '../lib/ws-client.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
if (!existsSync(path.join(here, 'node_modules/actionhero/package.json'))) {
  console.log('not ok - tests/interop/node_modules/actionhero is missing (make test-interop installs it)');
  process.exit(1);
}
const TOKEN = 'interop-token';
const redis = await startRedis();

// --- actionhero-c
const overrides = JSON.stringify({
  redis: { enabled: true, host: '127.0.0.1', port: redis.port },
  general: { serverToken: TOKEN, rpcTimeout: 2000 },
  web: { automaticRoutes: ['get'] },
  logger: { level: 'info', colors: false },
  websocket: { server: { pingInterval: false } },
  tasks: { queues: ['default'], minTaskProcessors: 1, maxTaskProcessors: 1, timeout: 50 },
});
const c = await startServer({ env: { ACTIONHERO_CONFIG_OVERRIDES: overrides, ACTIONHERO_TITLE: 'c-server' } });
// subscribed once it has heard itself: then it hears the peer join
for (let i = 0; i < 200 && !c.log.includes('actionhero member c-server has joined the cluster'); i++) await sleep(25);

// --- Node Actionhero
async function startPeer() {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ah-peer-'));
  let log = '';
  const child = spawn(process.execPath, [path.join(here, 'peer/server.js')], {
    cwd: dir,
    env: {
      ...process.env, NODE_ENV: 'development', PORT: String(port), REDIS_HOST: '127.0.0.1', REDIS_PORT: String(redis.port),
      REDIS_DB: '0', ACTIONHERO_CONFIG: path.join(here, 'peer/config'), PEER_SERVER_TOKEN: TOKEN, LOG_LEVEL: 'info',
      ACTIONHERO_TITLE: 'node-peer', ACTIONHERO_CONFIG_OVERRIDES: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  const exited = new Promise((r) => child.on('exit', (code) => r(code)));
  process.on('exit', () => { child.kill('SIGKILL'); rmSync(dir, { recursive: true, force: true }); });
  for (let i = 0; i < 400 && child.exitCode === null; i++) {
    if (log.includes('*** actionhero Started ***')) break;
    await sleep(25);
  }
  if (!log.includes('*** actionhero Started ***')) {
    console.log('not ok - the Node Actionhero peer did not start');
    console.log(log.split('\n').slice(-30).map((l) => `#   ${l}`).join('\n'));
    process.exit(1);
  }
  return {
    port, url: `http://127.0.0.1:${port}`, get log() { return log; },
    async stop() { child.kill('SIGTERM'); return Promise.race([exited, sleep(10000).then(() => 'timeout')]); },
  };
}
const t0 = Date.now();
const node = await startPeer();
console.log(`# Node Actionhero peer started in ${Date.now() - t0} ms`);

async function until(fn, ms = 5000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v || Date.now() > end) return v;
    await sleep(25);
  }
}
async function api(srv, action, params = {}) {
  const q = new URLSearchParams(params).toString();
  const r = await fetch(`${srv.url}/api/${action}?${q}`, { signal: AbortSignal.timeout(8000) });
  return r.json();
}

// --- lifecycle
check('C hears Node join', await until(() => c.log.includes('actionhero member node-peer has joined the cluster')), c.log.slice(-1500));
check('Node hears itself join', node.log.includes('actionhero member node-peer has joined the cluster'));

// --- cache, both ways
const value = { n: 1, s: 'é ☃', nested: { a: [1, 2.5, null, true] } };
let r = await api(c, 'cacheSaveTest', { key: 'fromC', value: JSON.stringify(value) });
eq('C saves', r.result, true);
r = await api(node, 'cacheLoadTest', { key: 'fromC' });
eq('cache C -> Node: the value', r.result && r.result.value, value);
const createdC = r.result && r.result.createdAt;
r = await api(c, 'cacheLoadTest', { key: 'fromC' });
eq('cache C -> Node: the same createdAt', r.result && r.result.createdAt, createdC);
r = await api(node, 'cacheSaveTest', { key: 'fromNode', value: JSON.stringify(value), expireTimeMS: '60000' });
eq('Node saves', r.result, true);
r = await api(c, 'cacheLoadTest', { key: 'fromNode' });
eq('cache Node -> C: the value', r.result && r.result.value, value);
eq('cache Node -> C: the answer\'s keys', r.result && Object.keys(r.result), ['key', 'value', 'createdAt']);
r = await api(node, 'cacheLoadTest', { key: 'fromNode' });
eq('cache Node -> C: createdAt as Node reads it', (await api(c, 'cacheLoadTest', { key: 'fromNode' })).result.createdAt,
  r.result && r.result.createdAt);
r = await api(c, 'cacheSaveTest', { key: 'fromNode', value: '"replaced by C"' });
r = await api(node, 'cacheLoadTest', { key: 'fromNode' });
eq('C overwrites what Node saved', r.result && r.result.value, 'replaced by C');
eq('a missing key: the same error', [(await api(c, 'cacheLoadTest', { key: 'missing' })).error,
  (await api(node, 'cacheLoadTest', { key: 'missing' })).error], ['Object not found', 'Object not found']);

// --- chat, both ways
const a = wsClient(c.port);
const b = wsClient(node.port);
await Promise.all([a.opened, b.opened]);
const wa = await a.welcome;
const wb = await b.welcome;
check('both welcome their websocket client', wa && wb, { wa: wa && wa.v, wb: wb && wb.v });
let n = 0;
const verb = (cl, event, fields = {}) => cl.ask({ event, ...fields, messageId: `v${n++}` });
const ida = (await verb(a, 'detailsView')).data.id;
const idb = (await verb(b, 'detailsView')).data.id;
eq('C client joins', (await verb(a, 'roomAdd', { room: 'defaultRoom' })).data, true);
eq('Node client joins', (await verb(b, 'roomAdd', { room: 'defaultRoom' })).data, true);
r = await verb(a, 'roomView', { room: 'defaultRoom' });
eq('roomView on C lists both', r && Object.keys(r.data.members).sort(), [ida, idb].sort());
r = await verb(b, 'roomView', { room: 'defaultRoom' });
eq('roomView on Node lists both', r && Object.keys(r.data.members).sort(), [ida, idb].sort());

let nb = b.messages.length;
r = await verb(a, 'say', { room: 'defaultRoom', message: 'hello from C' });
eq('say on C', r && r.status, 'OK');
const atNode = await b.waitFor((m) => m.v && m.v.context === 'user', 3000, nb);
eq('chat C -> Node', atNode && [atNode.v.message, atNode.v.room, atNode.v.from], ['hello from C', 'defaultRoom', ida]);
const atC = await a.waitFor((m) => m.v && m.v.message === 'hello from C');
eq('the same text on both servers', atC && atC.text, atNode && atNode.text);
let na = a.messages.length;
r = await verb(b, 'say', { room: 'defaultRoom', message: 'hello from Node' });
eq('say on Node', r && r.status, 'OK');
const fromNode = await a.waitFor((m) => m.v && m.v.context === 'user', 3000, na);
eq('chat Node -> C', fromNode && [fromNode.v.message, fromNode.v.room, fromNode.v.from], ['hello from Node', 'defaultRoom', idb]);
const echo = await b.waitFor((m) => m.v && m.v.message === 'hello from Node');
eq('the same text on both servers (from Node)', echo && echo.text, fromNode && fromNode.text);

// --- chat RPC: members held by the other server
const rooms = async (cl) => {
  const d = await verb(cl, 'detailsView');
  if (!d) {
    console.log(`# no detailsView answer (messageId v${n - 1}); last messages:`);
    for (const m of cl.messages.slice(-6)) console.log(`#   ${m.text.slice(0, 300)}`);
    console.log(node.log.split('\n').slice(-25).map((l) => `# node: ${l.slice(0, 400)}`).join('\n'));
    return null;
  }
  return d.data.rooms;
};
r = await api(node, 'chatMemberTest', { connectionId: ida, room: 'otherRoom' });
eq('Node adds the C client to a room (RPC api.chatRoom.addMember to C)', r.result, true);
eq('the C client is in it', await rooms(a), ['defaultRoom', 'otherRoom']);
// Actionhero 29 has no api.chatRoom.addMember (only removeMember), so a
// Node server cannot answer it, from C or from another Node server
r = await api(c, 'chatMemberTest', { connectionId: idb, room: 'otherRoom' });
eq('C adds the Node client: Node cannot answer (no api.chatRoom.addMember in v29)', r.error, 'RPC Timeout');
check('Node says so', node.log.includes('RPC method `chatRoom.addMember` not found'));
eq('the Node client joins itself', (await verb(b, 'roomAdd', { room: 'otherRoom' })).data, true);
r = await verb(a, 'roomView', { room: 'otherRoom' });
eq('both are members', r && Object.keys(r.data.members).sort(), [ida, idb].sort());
r = await api(node, 'chatMemberTest', { connectionId: ida, room: 'otherRoom', op: 'remove' });
eq('Node removes the C client (RPC api.chatRoom.removeMember to C)', r.result, true);
eq('the C client left', await rooms(a), ['defaultRoom']);
r = await api(c, 'chatMemberTest', { connectionId: idb, room: 'otherRoom', op: 'remove' });
eq('C removes the Node client', r.result, true);
eq('the Node client left', await rooms(b), ['defaultRoom']);

// --- a room destroyed on one server loses the members of the other
// (createChatRoom answers didCreate: true; chatRoom.add itself, in the
// peer's action, the SADD reply 1)
for (const [who, srv, other, otherId, create, created] of [['C', c, b, idb, 'createChatRoom', true],
  ['Node', node, a, ida, 'createChatRoomTest', 1]]) {
  const room = `shared${who}`;
  r = await api(srv, create, { name: room });
  eq(`${who} creates ${room}`, r.didCreate, created);
  eq(`the other server's client joins ${room}`, (await verb(other, 'roomAdd', { room })).data, true);
  const k = other.messages.length;
  r = await api(srv, 'chatDestroyTest', { room });
  eq(`${who} destroys ${room}`, r.ok, true);
  const note = await other.waitFor((m) => m.v && m.v.room === room && m.v.context === 'user', 3000, k);
  eq(`the other client hears it (${who} destroyed)`, note && note.v.message, 'this room has been deleted');
  eq(`and is no longer in ${room}`, await until(async () => { const rs = await rooms(other); return rs && !rs.includes(room) && 'gone'; }), 'gone');
  eq(`${room} is gone from Redis`, redis.cli('SISMEMBER', 'actionhero:chatRoom:rooms', room), '0');
  check(`no member left for ${otherId}`, redis.cli('HEXISTS', `actionhero:chatRoom:members:${room}`, otherId) === '0');
}

// --- connections.apply, both ways
r = await api(c, 'connectionApplyTest', { connectionId: idb });
eq('C finds the Node connection', r.connection && [r.connection.id, r.connection.type, r.connection.rooms],
  [idb, 'websocket', ['defaultRoom']]);
r = await api(node, 'connectionApplyTest', { connectionId: ida });
eq('Node finds the C connection', r.connection && [r.connection.id, r.connection.type, r.connection.rooms],
  [ida, 'websocket', ['defaultRoom']]);
nb = b.messages.length;
r = await api(c, 'connectionApplyTest', { connectionId: idb, method: 'sendMessage', args: JSON.stringify({ note: 'C to Node' }) });
check('sendMessage C -> Node client', await b.waitFor((m) => m.v && m.v.note === 'C to Node', 3000, nb), b.messages.slice(nb));
na = a.messages.length;
r = await api(node, 'connectionApplyTest', { connectionId: ida, method: 'sendMessage', args: JSON.stringify({ note: 'Node to C' }) });
check('sendMessage Node -> C client', await a.waitFor((m) => m.v && m.v.note === 'Node to C', 3000, na), a.messages.slice(na));
r = await api(node, 'connectionApplyTest', { connectionId: ida, method: 'set', args: JSON.stringify(['auth', true]) });
eq('Node sets a property on the C connection', r.connection && r.connection.auth, true);
r = await api(c, 'connectionApplyTest', { connectionId: idb, method: 'set', args: JSON.stringify(['auth', 'yes']) });
eq('C sets a property on the Node connection', r.connection && r.connection.auth, 'yes');
r = await api(node, 'connectionApplyTest', { connectionId: 'nobody' });
eq('Node: an id nobody holds', r.error, 'RPC Timeout');

// --- tasks, both ways
r = await api(c, 'taskEnqueueTest', { task: 'testSetKey', inputs: JSON.stringify({ key: 'job:c2n', n: 1 }), queue: 'node' });
eq('C enqueues for the Node worker', r.enqueued, true);
let v = await until(() => redis.cli('GET', 'job:c2n'));
eq('the Node worker ran it, with our params', v && JSON.parse(v), { key: 'job:c2n', n: 1, by: 'node' });
r = await api(node, 'taskEnqueueTest', { task: 'testSetKey', inputs: JSON.stringify({ key: 'job:n2c', n: 2 }), queue: 'default' });
eq('Node enqueues for the C worker', r.enqueued, true);
v = await until(() => redis.cli('GET', 'job:n2c'));
eq('the C worker ran it, with Node\'s params', v && JSON.parse(v), { key: 'job:n2c', n: 2 });
eq('nothing failed', redis.cli('LLEN', 'resque:failed'), '0');

// --- leaving
a.ws.close();
b.ws.close();
await Promise.all([a.closed, b.closed]);
eq('the Node peer stops', await node.stop(), 0);
check('C hears Node leave', await until(() => c.log.includes('actionhero member node-peer has left the cluster')));
await done();
