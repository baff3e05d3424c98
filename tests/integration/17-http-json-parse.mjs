// JSON bodies and websocket messages are read as JSON.parse reads them:
// "\u0000" inside strings and integers past 64 bits are valid JSON.
import WebSocket from 'ws';
import { startServer, check, eq, done } from '../lib/lib.mjs';

const srv = await startServer({ env: { AUTOMATIC_ROUTES: 'post' }, args: ['--set=general.disableParamScrubbing=true'] });
const body = '{"nul":"a\\u0000b","big":123456789012345680000,"small":7}';
const res = await fetch(`${srv.url}/api/webEcho`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
const j = await res.json();
eq('a body with \\u0000 and a big integer is not dropped', res.status, 200);
eq('the string keeps its NUL', j.params && j.params.nul, 'a\u0000b');
eq('an integer past 64 bits reads as a double', j.params && j.params.big, 123456789012345680000);
eq('small integers stay integers', j.params && j.params.small, 7);

const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/primus`);
const msgs = [];
ws.on('message', (m) => msgs.push(JSON.parse(m.toString())));
await new Promise((r) => ws.on('open', r));
ws.send('{"event":"action","params":{"action":"randomNumber","x":"a\\u0000b","y":123456789012345680000},"messageId":"nul"}');
for (let i = 0; i < 100 && !msgs.find((m) => m.messageId === 'nul'); i++) await new Promise((r) => setTimeout(r, 20));
const reply = msgs.find((m) => m.messageId === 'nul');
check('a websocket message with \\u0000 and a big integer gets its reply', reply && typeof reply.randomNumber === 'number', msgs);
ws.close();
await done();
