// 24-ws-shutdown.mjs - websocket clients when the server stops
// (websocket.md §2.4): by default the sockets just close (the client sees
// 1006 and would reconnect); with destroyClientsOnShutdown each connection
// is destroyed first (primus::server::close, then a close frame).  An action
// in flight when the stop begins still gets its reply.
import WebSocket from '../node_modules/ws/index.js';
import { startServer, check, eq, done } from '../lib/lib.mjs';

async function connect(srv) {
  const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/primus`);
  const messages = [];
  ws.on('message', (d) => messages.push(JSON.parse(d.toString())));
  const closed = new Promise((r) => ws.on('close', (code) => r(code)));
  await new Promise((r, j) => { ws.on('open', r); ws.on('error', j); });
  while (messages.length === 0) await new Promise((r) => setTimeout(r, 10));
  return { ws, messages, closed };
}

{
  const srv = await startServer();
  const c = await connect(srv);
  c.ws.send(JSON.stringify({ event: 'action', params: { action: 'sleepTest', sleepDuration: 300 }, messageId: 'slow' }));
  await new Promise((r) => setTimeout(r, 50));
  const exit = srv.stop('SIGTERM');
  const code = await c.closed;
  const r = await exit;
  check('the action in flight was answered before the close', c.messages.some((m) => m.messageId === 'slow' && m.sleepDuration !== undefined),
    c.messages);
  eq('default: the socket just closes (1006)', code, 1006);
  check('no primus::server::close by default', !c.messages.includes('primus::server::close'));
  eq('the server exits 0', r && r.code, 0);
}

{
  const srv = await startServer({
    env: { ACTIONHERO_CONFIG_OVERRIDES: JSON.stringify({ websocket: { destroyClientsOnShutdown: true } }) },
  });
  const c = await connect(srv);
  const exit = srv.stop('SIGTERM');
  const code = await c.closed;
  const r = await exit;
  eq('destroyClientsOnShutdown: primus::server::close first', c.messages[c.messages.length - 1], 'primus::server::close');
  eq('destroyClientsOnShutdown: then a close frame without code', code, 1005);
  eq('the server exits 0', r && r.code, 0);
}

await done();
