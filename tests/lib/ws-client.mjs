// tests/lib/ws-client.mjs - a raw Primus-over-WebSocket client for the
// integration tests (Node's `ws` package): every text frame is one JSON
// value; control strings ("primus::ping::<n>") are answered.
//
//   import { wsClient } from '../lib/ws-client.mjs';
//   const c = wsClient(srv.port);
//   await c.opened; await c.welcome;
//   const r = await c.ask({ event: 'roomAdd', room: 'defaultRoom', messageId: 'm1' });
//   const m = await c.waitFor((m) => m.v.context === 'user');
//   c.ws.close();
import WebSocket from '../node_modules/ws/index.js';

export function wsClient(port, query = '', headers = {}) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/primus${query}`, { headers });
  const messages = []; // {text, v} in arrival order (control strings excluded)
  const waiters = [];
  ws.on('message', (d, isBinary) => {
    const m = { text: d.toString(), binary: isBinary };
    try { m.v = JSON.parse(m.text); } catch { m.v = undefined; }
    if (typeof m.v === 'string' && m.v.startsWith('primus::ping::')) {
      ws.send(JSON.stringify(`primus::pong::${m.v.slice(14)}`));
      return;
    }
    messages.push(m);
    for (const w of waiters.slice()) {
      if (w.pred(m)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(m); }
    }
  });
  const closed = new Promise((r) => ws.on('close', (code) => r(code)));
  const opened = new Promise((r, j) => { ws.on('open', r); ws.on('error', j); });
  // the first message matching pred (already received or coming), or null
  const waitFor = (pred, ms = 3000, from = 0) => new Promise((resolve) => {
    const found = messages.slice(from).find(pred);
    if (found) return resolve(found);
    const w = { pred: (m) => messages.indexOf(m) >= from && pred(m), resolve };
    waiters.push(w);
    setTimeout(() => { const i = waiters.indexOf(w); if (i >= 0) { waiters.splice(i, 1); resolve(null); } }, ms);
  });
  const welcome = waitFor((m) => m.v && m.v.context === 'api' && m.v.welcome !== undefined);
  const send = (msg) => ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  // send a message and wait for the reply carrying messageId `id`
  const ask = async (msg, id = msg.messageId) => {
    send(msg);
    const r = await waitFor((m) => m.v && m.v.messageId === id);
    return r ? r.v : null;
  };
  // same, the raw text of the reply
  const askText = async (msg, id = msg.messageId) => {
    send(msg);
    const r = await waitFor((m) => m.v && m.v.messageId === id);
    return r ? r.text : null;
  };
  const chats = () => messages.filter((m) => m.v && m.v.context === 'user');
  return { ws, messages, closed, opened, welcome, waitFor, send, ask, askText, chats };
}
