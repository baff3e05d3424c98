// 61-cluster-redis-restart.mjs - two actionhero-c servers on one private
// redis-server; the redis-server is killed and started again on the same
// port (empty: no persistence).  Meanwhile both servers keep serving what
// needs no Redis, and what needs it answers a clear error at once (cache,
// chat, connections.apply, task enqueue).  Once Redis is back everything
// resumes without a restart: the subscription (chat across servers, RPC),
// the starting rooms, the cache, task workers.
import { startServer, check, eq, sleep, done } from '../lib/lib.mjs';
import { startRedis } from '../lib/redis.mjs';
import { wsClient } from '../lib/ws-client.mjs';

const redis = await startRedis();
const overrides = JSON.stringify({
  redis: { enabled: true, host: '127.0.0.1', port: redis.port, retryFirstDelay: 100, retryStep: 50, retryMaxDelay: 200 },
  general: { rpcTimeout: 2000 },
  web: { automaticRoutes: ['get'] },
  tasks: { minTaskProcessors: 1, maxTaskProcessors: 1, queues: ['*'], timeout: 50 },
  logger: { level: 'info', colors: false },
  websocket: { server: { pingInterval: false } },
});
const s1 = await startServer({ env: { ACTIONHERO_CONFIG_OVERRIDES: overrides, ACTIONHERO_TITLE: 'server-one' } });
const s2 = await startServer({ env: { ACTIONHERO_CONFIG_OVERRIDES: overrides, ACTIONHERO_TITLE: 'server-two' } });

async function until(fn, ms = 8000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v || Date.now() > end) return v;
    await sleep(25);
  }
}
// every request has a deadline: "nothing hangs" is checked by each answer
async function api(srv, action, params = {}) {
  const q = new URLSearchParams(params).toString();
  try {
    const r = await fetch(`${srv.url}/api/${action}?${q}`, { signal: AbortSignal.timeout(5000) });
    return await r.json();
  } catch (e) {
    return { hung: String(e) };
  }
}
let n = 0;
const verb = async (c, event, fields = {}) => {
  const r = await c.ask({ event, ...fields, messageId: `v${n++}` });
  return r || { hung: true };
};

// both subscribed (each hears its own join)
check('both servers joined', await until(() => s1.log.includes('member server-one has joined')
  && s2.log.includes('member server-two has joined')));

const a = wsClient(s1.port);
const b = wsClient(s2.port);
await Promise.all([a.opened, b.opened, a.welcome, b.welcome]);
const idb = (await verb(b, 'detailsView')).data.id;
eq('a joins on one', (await verb(a, 'roomAdd', { room: 'defaultRoom' })).data, true);
eq('b joins on two', (await verb(b, 'roomAdd', { room: 'defaultRoom' })).data, true);
eq('say before', (await verb(a, 'say', { room: 'defaultRoom', message: 'before' })).status, 'OK');
check('b hears it', await b.waitFor((m) => m.v && m.v.message === 'before'));

// ---------------------------------------------------------------- Redis away
await redis.kill();
check('server one notices (alert)', await until(() => s1.log.includes('alert: Redis connection `client` error')), s1.log.slice(-1500));
check('server two too', await until(() => s2.log.includes('alert: Redis connection `subscriber` error')));

let r = await api(s1, 'randomNumber');
check('actions without Redis still work', typeof r.randomNumber === 'number', r);
r = await api(s2, 'cacheSaveTest', { key: 'k', value: '1' });
eq('cache save: clear error', r.error, 'redis not connected, cache cannot be used');
r = await api(s1, 'cacheLoadTest', { key: 'k' });
eq('cache load: clear error', r.error, 'redis not connected, cache cannot be used');
r = await api(s1, 'connectionApplyTest', { connectionId: idb });
eq('connections.apply: clear error', r.error, 'redis unavailable');
r = await api(s1, 'taskEnqueueTest', { task: 'testSetKey', inputs: JSON.stringify({ key: 'during' }) });
eq('task enqueue: clear error', r.error, 'redis unavailable');
r = await verb(a, 'say', { room: 'defaultRoom', message: 'while down' });
eq('say: an error answer', [r.status, r.error], ['Error: redis unavailable', 'Error: redis unavailable']);
r = await verb(b, 'roomAdd', { room: 'otherRoom' });
eq('roomAdd: an error answer', [r.status, r.error], ['Error: redis unavailable', 'Error: redis unavailable']);
eq('detailsView still answers', (await verb(b, 'detailsView')).data.id, idb);
r = await api(s2, 'status');
check('status answers', r && !r.hung, r);

// ---------------------------------------------------------------- Redis back
await redis.restart();
r = await until(async () => { const x = await api(s1, 'cacheSaveTest', { key: 'after', value: '"back"' }); return x.result === true && x; });
check('server one writes the cache again', r && r.result === true, r);
r = await until(async () => { const x = await api(s2, 'cacheLoadTest', { key: 'after' }); return x.result && x; });
eq('server two reads it', r && r.result.value, 'back');
check('starting rooms are back in Redis',
  await until(() => redis.cli('SMEMBERS', 'actionhero:chatRoom:rooms').split('\n').sort().join() === 'defaultRoom,otherRoom'));

// the subscription is back: RPC and chat across servers
r = await until(async () => { const x = await api(s1, 'connectionApplyTest', { connectionId: idb }); return x.connection && x; });
eq('connections.apply across servers again', r && r.connection.id, idb);
const nb = b.messages.length;
r = await until(async () => {
  await verb(a, 'say', { room: 'defaultRoom', message: 'after' });
  return b.waitFor((m) => m.v && m.v.message === 'after', 300, nb);
});
check('chat from one reaches two again', r, b.messages.slice(nb));
const na = a.messages.length;
eq('say on two', (await verb(b, 'say', { room: 'defaultRoom', message: 'and back' })).status, 'OK');
check('reaches one', await a.waitFor((m) => m.v && m.v.message === 'and back', 3000, na));
eq('roomAdd works again', (await verb(b, 'roomAdd', { room: 'otherRoom' })).data, true);

// tasks: a worker picks up a job enqueued now
r = await api(s1, 'taskEnqueueTest', { task: 'testSetKey', inputs: JSON.stringify({ key: 'task:after' }) });
eq('enqueue works again', r.enqueued, true);
const v = await until(() => redis.cli('GET', 'task:after'));
eq('and a worker ran it', v && JSON.parse(v).key, 'task:after');

a.ws.close();
b.ws.close();
await Promise.all([a.closed, b.closed]);
for (const s of [s1, s2]) {
  const r2 = await s.stop();
  eq(`${s === s1 ? 'server one' : 'server two'} stops cleanly`, r2 && r2.code, 0);
}
await done();
