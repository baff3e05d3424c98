// 60-cluster-two-servers.mjs - two actionhero-c processes on one private
// redis-server form a cluster (cluster.md): they announce themselves to
// each other, share the cache (Actionhero's keys and JSON), and reach each
// other's connections with api.connections.apply (§4): lookup, sendMessage,
// set, verbs, destroy, the RPC Timeout of an unknown id or a refused
// method.  Chat across the two is 32-chat-redis-cluster.mjs; tasks across
// the two are 52-tasks-two-servers.mjs.
import { startServer, check, eq, sleep, done } from '../lib/lib.mjs';
import { startRedis } from '../lib/redis.mjs';
import { wsClient } from '../lib/ws-client.mjs';

const redis = await startRedis();
const overrides = JSON.stringify({
  redis: { enabled: true, host: '127.0.0.1', port: redis.port },
  general: { rpcTimeout: 600 },
  web: { automaticRoutes: ['get'] },
  logger: { level: 'info', colors: false },
  websocket: { server: { pingInterval: false } },
});
async function until(fn, ms = 3000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v || Date.now() > end) return v;
    await sleep(20);
  }
}

const s1 = await startServer({ env: { ACTIONHERO_CONFIG_OVERRIDES: overrides, ACTIONHERO_TITLE: 'server-one' } });
// a server announces itself once subscribed: then it hears the next one
check('server one hears itself join', await until(() => s1.log.includes('actionhero member server-one has joined the cluster')));
const s2 = await startServer({ env: { ACTIONHERO_CONFIG_OVERRIDES: overrides, ACTIONHERO_TITLE: 'server-two' } });
async function api(srv, action, params = {}) {
  const q = new URLSearchParams(params).toString();
  const r = await fetch(`${srv.url}/api/${action}?${q}`);
  return r.json();
}

// --- lifecycle (§5): every member logs the newcomer, itself included
check('server one hears server two join',
  await until(() => s1.log.includes('actionhero member server-two has joined the cluster')), s1.log.slice(-2000));
check('server two hears itself join', await until(() => s2.log.includes('actionhero member server-two has joined the cluster')));

// --- cache: saved through one, loaded through the other
let r = await api(s1, 'cacheSaveTest', { key: 'shared', value: JSON.stringify({ n: 1, s: 'é', a: [true, null] }) });
eq('saved through server one', r.result, true);
r = await api(s2, 'cacheLoadTest', { key: 'shared' });
eq('loaded through server two', r.result && r.result.value, { n: 1, s: 'é', a: [true, null] });
check('createdAt set by server one', r.result && Number.isInteger(r.result.createdAt) && r.result.createdAt > 1.6e12, r);
const raw = JSON.parse(redis.cli('GET', 'actionhero:cache:shared'));
eq('the Redis value is Actionhero\'s', Object.keys(raw), ['value', 'createdAt']);
r = await api(s2, 'cacheSaveTest', { key: 'shared', value: '"overwritten"', expireTimeMS: '60000' });
eq('overwritten through server two', r.result, true);
r = await api(s1, 'cacheLoadTest', { key: 'shared' });
eq('server one sees the new value', r.result && r.result.value, 'overwritten');
eq('load answers key, value, createdAt (v29)', r.result && Object.keys(r.result), ['key', 'value', 'createdAt']);
const ttl = Number(redis.cli('PTTL', 'actionhero:cache:shared'));
check('and the TTL in Redis', ttl > 50000 && ttl <= 60000, { ttl });
r = await api(s2, 'cacheLoadTest', { key: 'nope' });
eq('a missing key is the same error on both', [r.error, (await api(s1, 'cacheLoadTest', { key: 'nope' })).error],
  ['Object not found', 'Object not found']);

// --- connections.apply across servers
const b = wsClient(s2.port);
await b.opened;
await b.welcome;
let n = 0;
const verb = (c, event, fields = {}) => c.ask({ event, ...fields, messageId: `v${n++}` });
const idb = (await verb(b, 'detailsView')).data.id;

r = await api(s1, 'connectionApplyTest', { connectionId: idb });
const snap = r.connection;
eq('server one finds the connection of server two', snap && [snap.id, snap.type, snap.remoteIP], [idb, 'websocket', '127.0.0.1']);
eq('its serialised fields', snap && Object.keys(snap).sort(), ['canChat', 'connectedAt', 'destroyed', 'error', 'fingerprint',
  'id', 'messageId', 'params', 'pendingActions', 'remoteIP', 'remotePort', 'rooms', 'session', 'totalActions', 'type'].sort());
eq('counters as server two has them', snap && [snap.totalActions, snap.pendingActions, snap.canChat, snap.destroyed], [0, 0, true, false]);
r = await api(s2, 'connectionApplyTest', { connectionId: idb });
eq('and server two finds its own (through Redis too)', r.connection && r.connection.id, idb);

const before = b.messages.length;
r = await api(s1, 'connectionApplyTest', { connectionId: idb, method: 'sendMessage', args: JSON.stringify({ hello: 'from one' }) });
eq('sendMessage answers the connection', r.connection && r.connection.id, idb);
const got = await b.waitFor((m) => m.v && m.v.hello === 'from one', 3000, before);
check('the websocket client of server two got the message', got, b.messages.slice(before));

r = await api(s1, 'connectionApplyTest', { connectionId: idb, method: 'set', args: JSON.stringify(['auth', { user: 'evan' }]) });
eq('set a property', r.connection && r.connection.auth, { user: 'evan' });
r = await api(s1, 'connectionApplyTest', { connectionId: idb });
eq('it stays on the connection', r.connection && r.connection.auth, { user: 'evan' });
r = await api(s1, 'connectionApplyTest', { connectionId: idb, method: 'set', args: JSON.stringify(['session', { a: 1 }]) });
eq('set the session', r.connection && r.connection.session, { a: 1 });
r = await api(s1, 'connectionApplyTest', { connectionId: idb, method: 'set', args: JSON.stringify(['auth']) });
eq('set without a value removes it', r.connection && 'auth' in r.connection, false);

r = await api(s1, 'connectionApplyTest', { connectionId: idb, method: 'verbs', args: JSON.stringify(['roomAdd', 'defaultRoom']) });
eq('verbs roomAdd through apply', r.connection && r.connection.rooms, ['defaultRoom']);
eq('the client is in the room', (await verb(b, 'detailsView')).data.rooms, ['defaultRoom']);
eq('and the member is in Redis', JSON.parse(redis.cli('HGET', 'actionhero:chatRoom:members:defaultRoom', idb)).host, 'server-two');

// errors: the holder sends no answer (Actionhero's handler throws), so RPC Timeout
r = await api(s1, 'connectionApplyTest', { connectionId: idb, method: 'set', args: JSON.stringify(['id', 'x']) });
eq('a managed property is refused', r.error, 'RPC Timeout');
check('server two says why', await until(() => s2.log.includes('cannot set that property: the server manages that property')));
r = await api(s1, 'connectionApplyTest', { connectionId: idb, method: 'fly', args: '[]' });
eq('an unknown method', r.error, 'RPC Timeout');
check('server two logs it', await until(() => s2.log.includes('connection.fly is not a function')));
r = await api(s1, 'connectionApplyTest', { connectionId: idb, method: 'verbs', args: JSON.stringify(['roomView', 'otherRoom']) });
eq('a failing verb', r.error, 'RPC Timeout');
r = await api(s1, 'connectionApplyTest', { connectionId: 'no-such-connection' });
eq('an id no server holds', r.error, 'RPC Timeout');

r = await api(s1, 'connectionApplyTest', { connectionId: idb, method: 'destroy', args: '[]' });
eq('destroy answers the destroyed connection', r.connection && [r.connection.id, r.connection.destroyed], [idb, true]);
eq('the websocket of server two closes', await Promise.race([b.closed.then(() => 'closed'), sleep(3000).then(() => 'open')]), 'closed');
eq('its room membership is gone', redis.cli('HEXISTS', 'actionhero:chatRoom:members:defaultRoom', idb), '0');
r = await api(s1, 'connectionApplyTest', { connectionId: idb });
eq('and nobody holds it any more', r.error, 'RPC Timeout');

// --- lifecycle: leaving
await s2.stop();
check('server one hears server two leave', await until(() => s1.log.includes('actionhero member server-two has left the cluster')));
await done();
