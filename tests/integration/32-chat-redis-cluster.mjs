// 32-chat-redis-cluster.mjs - chat across two server processes sharing a
// private redis-server (the Redis backend of store.h, no chat changes):
// websocket clients on different servers chat, roomView lists the members
// of both, the keys and values in Redis are Actionhero's, a message
// published in a Node server's format reaches both servers' members, a
// message with another serverToken reaches nobody, and destroying a room
// on one server removes the members of the other.
import { startRedis } from '../lib/redis.mjs';
import { startServer, check, eq, sleep, done } from '../lib/lib.mjs';
import { wsClient } from '../lib/ws-client.mjs';

const redisServer = await startRedis(); // tests/lib/redis.mjs
const redisPort = redisServer.port;
const cli = redisServer.cli;

const overrides = JSON.stringify({
  redis: { enabled: true, host: '127.0.0.1', port: redisPort },
  websocket: { server: { pingInterval: false } },
});
const s1 = await startServer({ env: { ACTIONHERO_CONFIG_OVERRIDES: overrides, ACTIONHERO_TITLE: 'server-one' } });
const s2 = await startServer({ env: { ACTIONHERO_CONFIG_OVERRIDES: overrides, ACTIONHERO_TITLE: 'server-two' } });

const a = wsClient(s1.port);
const b = wsClient(s2.port);
await Promise.all([a.opened, b.opened]);
await Promise.all([a.welcome, b.welcome]);
let n = 0;
const verb = (c, event, fields = {}) => c.ask({ event, ...fields, messageId: `v${n++}` });
const ida = (await verb(a, 'detailsView')).data.id;
const idb = (await verb(b, 'detailsView')).data.id;

// --- the starting rooms, in Redis
eq('starting rooms in the rooms set', cli('SMEMBERS', 'actionhero:chatRoom:rooms').split('\n').sort(), ['defaultRoom', 'otherRoom']);

// --- join on both servers
eq('a joins on server one', (await verb(a, 'roomAdd', { room: 'defaultRoom' })).data, true);
eq('b joins on server two', (await verb(b, 'roomAdd', { room: 'defaultRoom' })).data, true);
const raw = JSON.parse(cli('HGET', 'actionhero:chatRoom:members:defaultRoom', ida));
eq('member value keys', Object.keys(raw).join(','), 'id,joinedAt,host');
eq('member value', [raw.id, raw.host], [ida, 'server-one']);
check('joinedAt in ms', Number.isInteger(raw.joinedAt) && raw.joinedAt > 1.6e12, raw);
eq('b recorded by server two', JSON.parse(cli('HGET', 'actionhero:chatRoom:members:defaultRoom', idb)).host, 'server-two');
let r = await verb(a, 'roomView', { room: 'defaultRoom' });
eq('roomView on one lists both servers', r && [r.data.membersCount, Object.keys(r.data.members).sort()], [2, [ida, idb].sort()]);

// --- chat across servers
const na = a.messages.length;
const nb = b.messages.length;
r = await verb(a, 'say', { room: 'defaultRoom', message: 'hello from one' });
eq('say on server one', r && r.status, 'OK');
const mb = await b.waitFor((m) => m.v && m.v.context === 'user', 3000, nb);
const ma = await a.waitFor((m) => m.v && m.v.context === 'user', 3000, na);
eq('server two delivers it', mb && [mb.v.message, mb.v.from, mb.v.room], ['hello from one', ida, 'defaultRoom']);
eq('server one delivers it to the speaker', ma && ma.text, mb && mb.text);
r = await verb(b, 'say', { room: 'defaultRoom', message: 'and back' });
const back = await a.waitFor((m) => m.v && m.v.message === 'and back');
eq('and back', back && back.v.from, idb);

// --- a Node server's message, straight into Redis
const receivers = cli('PUBLISH', 'actionhero', JSON.stringify({
  messageType: 'chat', serverToken: 'serverToken-0', serverId: '192.0.2.2', message: 'from node',
  sentAt: 1796300526753, connection: { id: 'd2a84a42', room: 'defaultRoom' },
}));
eq('both servers are subscribed', receivers, '2');
const fa = await a.waitFor((m) => m.v && m.v.message === 'from node');
const fb = await b.waitFor((m) => m.v && m.v.message === 'from node');
eq('a Node message on server one (exact text)', fa && fa.text,
  '{"message":"from node","room":"defaultRoom","from":"d2a84a42","context":"user","sentAt":1796300526753}');
eq('and on server two', fb && fb.text, fa && fa.text);
cli('PUBLISH', 'actionhero', JSON.stringify({
  messageType: 'chat', serverToken: 'another-cluster', serverId: 'x', message: 'not for us',
  sentAt: 1, connection: { id: 'x', room: 'defaultRoom' },
}));
await sleep(200);
check('another serverToken reaches nobody', !a.messages.concat(b.messages).some((m) => m.v && m.v.message === 'not for us'));

// --- destroy on server one removes server two's member (RPC)
await a.ask({ event: 'action', params: { action: 'createChatRoom', name: 'shared' }, messageId: 'c1' });
eq('b joins the shared room on two', (await verb(b, 'roomAdd', { room: 'shared' })).data, true);
eq('a joins the shared room on one', (await verb(a, 'roomAdd', { room: 'shared' })).data, true);
eq('two members in Redis', cli('HLEN', 'actionhero:chatRoom:members:shared'), '2');
r = await a.ask({ event: 'action', params: { action: 'chatDestroyTest', room: 'shared' }, messageId: 'd1' });
eq('destroy on server one', r && r.ok, true);
let rooms = null;
for (let i = 0; i < 50; i++) {
  rooms = (await verb(b, 'detailsView')).data.rooms;
  if (!rooms.includes('shared')) break;
  await sleep(20);
}
eq('server two removed its member', rooms, ['defaultRoom']);
eq('the members hash is gone', cli('EXISTS', 'actionhero:chatRoom:members:shared'), '0');
eq('the room is gone', cli('SISMEMBER', 'actionhero:chatRoom:rooms', 'shared'), '0');

// --- a client leaving server two
b.ws.close();
await b.closed;
let len = '2';
for (let i = 0; i < 50 && len !== '1'; i++) { await sleep(20); len = cli('HLEN', 'actionhero:chatRoom:members:defaultRoom'); }
eq('a closed client on server two left the room', len, '1');

a.ws.close();
await a.closed;
await done();
