// 31-chat-server-side.mjs - chat driven by the server, seen by websocket
// clients (chat.md §2, §4, §6): destroying a room (the "this room has been
// deleted" broadcast, members removed), broadcasts from server code, and
// the test build's chat middleware (tests/actions/chat_test.c) blocking
// joins, leaves and messages, dropping and rewriting them.
import { startServer, check, eq, sleep, done } from '../lib/lib.mjs';
import { wsClient } from '../lib/ws-client.mjs';

const srv = await startServer({
  env: { ACTIONHERO_CONFIG_OVERRIDES: JSON.stringify({ websocket: { server: { pingInterval: false } } }) },
});

const a = wsClient(srv.port);
const b = wsClient(srv.port);
const admin = wsClient(srv.port);
await Promise.all([a.opened, b.opened, admin.opened]);
await Promise.all([a.welcome, b.welcome, admin.welcome]);
let n = 0;
const act = (c, action, params = {}) => c.ask({ event: 'action', params: { action, ...params }, messageId: `x${n++}` });
const verb = (c, event, fields = {}) => c.ask({ event, ...fields, messageId: `v${n++}` });

// --- destroy
await act(admin, 'createChatRoom', { name: 'tempRoom' });
eq('a joins', (await verb(a, 'roomAdd', { room: 'tempRoom' })).data, true);
eq('b joins', (await verb(b, 'roomAdd', { room: 'tempRoom' })).data, true);
await verb(a, 'roomAdd', { room: 'defaultRoom' });
const na = a.messages.length;
const nb = b.messages.length;
let r = await act(admin, 'chatDestroyTest', { room: 'tempRoom' });
eq('destroy answers', r, { ok: true, context: 'response', messageId: r && r.messageId });
const da = await a.waitFor((m) => m.v && m.v.context === 'user', 3000, na);
const db = await b.waitFor((m) => m.v && m.v.context === 'user', 3000, nb);
eq('members hear the room was deleted', da && { ...da.v, sentAt: 0 },
  { message: 'this room has been deleted', room: 'tempRoom', from: '0', context: 'user', sentAt: 0 });
eq('both members', db && db.text, da && da.text);
r = await verb(a, 'detailsView');
eq('a is no longer in the room', r && r.data.rooms, ['defaultRoom']);
r = await verb(b, 'detailsView');
eq('b is no longer in the room', r && r.data.rooms, []);
r = await verb(a, 'roomView', { room: 'tempRoom' });
eq('roomView on the deleted room', r && r.error, 'Error: connection not in this room (tempRoom)');
r = await verb(a, 'roomAdd', { room: 'tempRoom' });
eq('the room is gone', r && r.error, 'Error: room does not exist');
r = await act(admin, 'createChatRoom', { name: 'tempRoom' });
eq('it can be created again', r && r.didCreate, true);
r = await act(admin, 'chatDestroyTest', { room: 'noSuchRoom' });
eq('destroying a missing room', r && r.error, 'room does not exist');

// --- broadcast from server code: from "0", to any room
const nb2 = b.messages.length;
await verb(b, 'roomAdd', { room: 'tempRoom' });
r = await act(admin, 'chatBroadcastTest', { room: 'tempRoom', message: 'server speaking' });
eq('server broadcast answers', r && r.ok, true);
const sb = await b.waitFor((m) => m.v && m.v.context === 'user', 3000, nb2);
eq('server broadcast arrives', sb && [sb.v.message, sb.v.from, sb.v.room], ['server speaking', '0', 'tempRoom']);
r = await act(admin, 'chatBroadcastTest', { room: 'tempRoom', message: 0 });
eq('server broadcast of a falsy message', r && r.error, 'both room and message are required');

// --- middleware: joins and leaves
await act(admin, 'createChatRoom', { name: 'noJoinRoom' });
let t = await a.askText({ event: 'roomAdd', room: 'noJoinRoom', messageId: 'j1' });
eq('a blocked join (exact text)', t,
  '{"status":"Error: joining rooms blocked","error":"Error: joining rooms blocked","context":"response","data":{},"messageId":"j1"}');
r = await verb(a, 'detailsView');
eq('a blocked join leaves rooms unchanged', r && r.data.rooms, ['defaultRoom']);
await act(admin, 'createChatRoom', { name: 'noLeaveRoom' });
eq('joining the sticky room', (await verb(a, 'roomAdd', { room: 'noLeaveRoom' })).data, true);
eq('b joins the sticky room', (await verb(b, 'roomAdd', { room: 'noLeaveRoom' })).data, true);
t = await a.askText({ event: 'roomLeave', room: 'noLeaveRoom', messageId: 'l1' });
eq('a blocked leave (exact text)', t,
  '{"status":"Error: leaving rooms blocked","error":"Error: leaving rooms blocked","context":"response","data":{},"messageId":"l1"}');
r = await verb(b, 'roomView', { room: 'noLeaveRoom' });
eq('still two members', r && r.data.membersCount, 2);

// --- middleware: messages
const before = b.chats().length;
t = await a.askText({ event: 'say', room: 'noLeaveRoom', message: '!block this', messageId: 's1' });
eq('a blocked message (exact text)', t,
  '{"status":"Error: message blocked","error":"Error: message blocked","context":"response","data":{"message":"!block this"},"messageId":"s1"}');
r = await verb(a, 'say', { room: 'noLeaveRoom', message: '!drop this' });
eq('a dropped message is still OK for the speaker', r && r.status, 'OK');
r = await verb(a, 'say', { room: 'noLeaveRoom', message: '!upper make me big' });
eq('a rewritten message is OK', r && r.status, 'OK');
const up = await b.waitFor((m) => m.v && m.v.context === 'user' && m.v.room === 'noLeaveRoom');
eq('the rewrite reaches the members', up && up.v.message, 'MAKE ME BIG');
await sleep(100);
eq('blocked and dropped messages reach nobody', b.chats().length - before, 1);

// --- a leave hook cannot keep a closing connection in its room
a.ws.close();
await a.closed;
let count = 2;
for (let i = 0; i < 50 && count !== 1; i++) {
  await sleep(20);
  r = await verb(b, 'roomView', { room: 'noLeaveRoom' });
  count = r && r.data.membersCount;
}
eq('a closed connection left the sticky room', count, 1);

b.ws.close();
admin.ws.close();
await Promise.all([b.closed, admin.closed]);
check('the server is still up', srv.child.exitCode === null);
await done();
