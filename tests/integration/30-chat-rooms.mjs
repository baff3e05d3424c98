// 30-chat-rooms.mjs - chat between websocket clients on the real server
// (chat.md, websocket.md §4.2 / §4.5, connection.md §6): createChatRoom,
// roomAdd / roomView / roomLeave / say with their exact replies and error
// shapes, the speaker's reply before its own message, one message per
// member, U+2028 escaping, leaving on disconnect.
import { startServer, check, eq, sleep, done } from '../lib/lib.mjs';
import { wsClient } from '../lib/ws-client.mjs';

const srv = await startServer({
  env: { ACTIONHERO_CONFIG_OVERRIDES: JSON.stringify({ websocket: { server: { pingInterval: false } } }) },
});

const a = wsClient(srv.port);
const b = wsClient(srv.port);
const outsider = wsClient(srv.port);
await Promise.all([a.opened, b.opened, outsider.opened]);
await Promise.all([a.welcome, b.welcome, outsider.welcome]);
const ida = (await a.ask({ event: 'detailsView', messageId: 'd' })).data.id;
const idb = (await b.ask({ event: 'detailsView', messageId: 'd' })).data.id;

// --- createChatRoom over the socket (what chat.html does first)
let r = await a.ask({ event: 'action', params: { action: 'createChatRoom', name: 'defaultRoom' }, messageId: 'c1' });
eq('createChatRoom on a starting room', r, { name: 'defaultRoom', didCreate: false, context: 'response', messageId: 'c1' });
r = await a.ask({ event: 'action', params: { action: 'createChatRoom', name: 'lobby' }, messageId: 'c2' });
eq('createChatRoom on a new room', r, { name: 'lobby', didCreate: true, context: 'response', messageId: 'c2' });
r = await a.ask({ event: 'action', params: { action: 'createChatRoom' }, messageId: 'c3' });
eq('createChatRoom without a name', r && r.error, 'name is a required parameter for this action');

// --- roomAdd
let t = await a.askText({ event: 'roomAdd', room: 'lobby', messageId: 'm1' });
eq('roomAdd reply (exact text)', t, '{"status":"OK","context":"response","data":true,"messageId":"m1"}');
r = await b.ask({ event: 'roomAdd', room: 'lobby', messageId: 7 });
eq('roomAdd with a numeric messageId', r, { status: 'OK', context: 'response', data: true, messageId: 7 });
t = await a.askText({ event: 'roomAdd', room: 'lobby', messageId: 'm2' });
eq('roomAdd twice (exact text)', t,
  '{"status":"Error: connection already in this room (lobby)","error":"Error: connection already in this room (lobby)","context":"response","data":{},"messageId":"m2"}');
t = await a.askText({ event: 'roomAdd', room: 'nope', messageId: 'm3' });
eq('roomAdd on a missing room (exact text)', t,
  '{"status":"Error: room does not exist","error":"Error: room does not exist","context":"response","data":{},"messageId":"m3"}');
r = await a.ask({ event: 'roomAdd', messageId: 'm4' });
eq('roomAdd without a room', r && r.error, 'Error: room does not exist');
r = await a.ask({ event: 'roomAdd', room: 'defaultRoom', messageId: 'm5' });
eq('roomAdd a second room', r && r.data, true);
r = await a.ask({ event: 'detailsView', messageId: 'd2' });
eq('rooms in join order', r && r.data.rooms, ['lobby', 'defaultRoom']);

// --- roomView
r = await a.ask({ event: 'roomView', room: 'lobby', messageId: 'v1' });
eq('roomView reply keys', r && Object.keys(r).join(','), 'status,context,data,messageId');
eq('roomView data keys', r && Object.keys(r.data).join(','), 'room,members,membersCount');
eq('roomView room', r && r.data.room, 'lobby');
eq('roomView membersCount', r && r.data.membersCount, 2);
eq('roomView member ids', r && Object.keys(r.data.members).sort(), [ida, idb].sort());
eq('roomView member shape', r && Object.keys(r.data.members[ida]).join(','), 'id,joinedAt');
check('roomView joinedAt is a time in ms', r && Number.isInteger(r.data.members[ida].joinedAt) && r.data.members[ida].joinedAt > 1.6e12, r);
t = await outsider.askText({ event: 'roomView', room: 'lobby', messageId: 'v2' });
eq('roomView when not a member (exact text)', t,
  '{"status":"Error: connection not in this room (lobby)","error":"Error: connection not in this room (lobby)","context":"response","data":{},"messageId":"v2"}');

// --- say: the reply first, then the message, to every member once
const before = Date.now();
const na = a.messages.length;
const nb = b.messages.length;
t = await a.askText({ event: 'say', room: 'lobby', message: 'hello there', messageId: 's1' });
eq('say reply (exact text, no data)', t, '{"status":"OK","context":"response","messageId":"s1"}');
const ma = await a.waitFor((m) => m.v && m.v.context === 'user', 3000, na);
const mb = await b.waitFor((m) => m.v && m.v.context === 'user', 3000, nb);
check('the speaker gets its own message', ma !== null);
check('the other member gets the message', mb !== null);
const replyIndex = a.messages.findIndex((m, i) => i >= na && m.v && m.v.messageId === 's1');
check('the speaker gets its reply before its message', ma && replyIndex >= 0 && replyIndex < a.messages.indexOf(ma), { replyIndex, msgIndex: ma && a.messages.indexOf(ma) });
eq('chat message keys (no messageId)', mb && Object.keys(mb.v).join(','), 'message,room,from,context,sentAt');
eq('chat message', mb && { ...mb.v, sentAt: 0 }, { message: 'hello there', room: 'lobby', from: ida, context: 'user', sentAt: 0 });
check('sentAt is the time it was said', mb && mb.v.sentAt >= before && mb.v.sentAt <= Date.now(), mb && mb.v);
eq('both got the same bytes', ma && ma.text, mb && mb.text);
await sleep(100);
eq('each member got it once', [a.chats().length, b.chats().length], [1, 1]);
eq('a non-member got nothing', outsider.chats().length, 0);

// words: `message` plus any other fields, joined with spaces
r = await b.ask({ event: 'say', room: 'lobby', message: 'one', extra: 'two', messageId: 's2' });
eq('say with extra fields', r && r.status, 'OK');
const m2 = await a.waitFor((m) => m.v && m.v.context === 'user' && m.v.from === idb);
eq('extra fields are joined into the message', m2 && m2.v.message, 'one two');

// U+2028 / U+2029 escaped on the wire
await b.ask({ event: 'say', room: 'lobby', message: 'a\u2028b\u2029c', messageId: 's3' });
const m3 = await a.waitFor((m) => m.v && m.v.context === 'user' && m.v.message === 'a\u2028b\u2029c');
check('U+2028 / U+2029 escaped in the frame', m3 && m3.text.includes('a\\u2028b\\u2029c'), m3 && m3.text);

// --- say errors (websocket.md §4.2)
t = await outsider.askText({ event: 'say', room: 'lobby', message: 'hello there', messageId: 'e1' });
eq('say to a room not joined (exact text)', t,
  '{"status":"Error: connection not in this room (lobby)","error":"Error: connection not in this room (lobby)","context":"response","data":{"message":"hello there"},"messageId":"e1"}');
t = await a.askText({ event: 'say', room: 'lobby', messageId: 'e2' });
eq('say without a message (exact text)', t,
  '{"status":"Error: both room and message are required","error":"Error: both room and message are required","context":"response","data":{},"messageId":"e2"}');
r = await a.ask({ event: 'say', room: 'lobby', message: '', messageId: 'e3' });
eq('say with an empty message', r && r.error, 'Error: both room and message are required');
// without `room` the words are just ["no room"]: that is the room, and
// there is no message left
r = await a.ask({ event: 'say', message: 'no room', messageId: 'e4' });
eq('say without a room', r && [r.error, r.data], ['Error: both room and message are required', { message: 'no room' }]);

// --- roomLeave
t = await b.askText({ event: 'roomLeave', room: 'lobby', messageId: 'l1' });
eq('roomLeave reply (exact text)', t, '{"status":"OK","context":"response","data":true,"messageId":"l1"}');
t = await b.askText({ event: 'roomLeave', room: 'lobby', messageId: 'l2' });
eq('roomLeave twice (exact text)', t,
  '{"status":"Error: connection not in this room (lobby)","error":"Error: connection not in this room (lobby)","context":"response","data":{},"messageId":"l2"}');
r = await a.ask({ event: 'roomView', room: 'lobby', messageId: 'v3' });
eq('roomView after a leave', r && [r.data.membersCount, Object.keys(r.data.members)], [1, [ida]]);
const nbChats = b.chats().length;
await a.ask({ event: 'say', room: 'lobby', message: 'anyone?', messageId: 's4' });
await a.waitFor((m) => m.v && m.v.message === 'anyone?');
await sleep(100);
eq('a member that left gets nothing more', b.chats().length, nbChats);

// --- a client that goes away leaves its rooms
await b.ask({ event: 'roomAdd', room: 'lobby', messageId: 'j' });
r = await a.ask({ event: 'roomView', room: 'lobby', messageId: 'v4' });
eq('two members again', r && r.data.membersCount, 2);
b.ws.close();
await b.closed;
let count = 2;
for (let i = 0; i < 50 && count !== 1; i++) {
  await sleep(20);
  r = await a.ask({ event: 'roomView', room: 'lobby', messageId: `v5-${i}` });
  count = r && r.data.membersCount;
}
eq('a closed client left the room', count, 1);
// and quit does the same
await outsider.ask({ event: 'roomAdd', room: 'lobby', messageId: 'j2' });
outsider.send({ event: 'quit' });
await outsider.closed;
count = 2;
for (let i = 0; i < 50 && count !== 1; i++) {
  await sleep(20);
  r = await a.ask({ event: 'roomView', room: 'lobby', messageId: `v6-${i}` });
  count = r && r.data.membersCount;
}
eq('quit left the room', count, 1);

a.ws.close();
await a.closed;
await done();
