// tests/browser/fake-primus.mjs - a tiny stand-in for Actionhero's websocket
// server, speaking the Primus wire protocol (spec/websocket.md §2-4) with the
// `ws` package.  It lets the browser client's protocol handling be tested on
// its own, with the server's side under the test's control.
//
//   const fake = await startFakePrimus();
//   fake.url                         http://127.0.0.1:<port>
//   fake.conns                       every connection, oldest first:
//        {id, fingerprint, query, rooms, received: [parsed frames], raw: [texts], ws, closed}
//   fake.hook = (conn, msg) => true  handle a message yourself (true: no default reply)
//   fake.http                        HTTP requests seen: {method, url, headers, body}
//   await fake.waitFor(() => cond)   poll until cond() is truthy (2 s, then throws)
//   fake.refuse = true               answer new upgrades with 503
//   fake.close()
import http from 'node:http';
import crypto from 'node:crypto';
import path from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { WebSocketServer } from 'ws';

export async function startFakePrimus({ rooms = ['defaultRoom', 'otherRoom'], welcome = true, staticDir = null } = {}) {
  const fake = {
    conns: [],
    http: [],
    rooms: new Set(rooms),
    hook: null,
    refuse: false,
    pathname: '/primus',
  };

  // HTTP: with `staticDir`, GET /<file> and /public/<file> serve files and
  // set a sessionID cookie like the real server; /api/status answers with
  // requesterInformation; anything else echoes the request as JSON.
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      fake.http.push({ method: req.method, url: req.url, headers: req.headers, body });
      const u = new URL(req.url, 'http://x');
      const jar = Object.fromEntries((req.headers.cookie || '').split(';').map((c) => c.trim().split('=')));
      let fp = jar.sessionID;
      const headers = {};
      if (!fp) {
        fp = crypto.randomBytes(20).toString('hex');
        headers['Set-Cookie'] = `sessionID=${fp};path=/;expires=${new Date(Date.now() + 3600000).toUTCString()};`;
      }
      if (staticDir && req.method === 'GET' && !u.pathname.startsWith('/api')) {
        const rel = u.pathname.replace(/^\/public\//, '/').replace(/^\/+/, '') || 'index.html';
        const file = path.join(staticDir, rel);
        if (file.startsWith(staticDir) && existsSync(file)) {
          const type = { '.html': 'text/html', '.js': 'application/javascript', '.css': 'text/css' }[path.extname(file)] || 'text/plain';
          res.writeHead(200, { ...headers, 'Content-Type': type });
          res.end(readFileSync(file));
          return;
        }
        res.writeHead(404, headers);
        res.end('that file is not found');
        return;
      }
      if (u.pathname === '/api/status') {
        res.writeHead(200, { ...headers, 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ id: 'fake', requesterInformation: { id: `${fp}-x`, fingerprint: fp, receivedParams: { action: 'status' } } }));
        return;
      }
      const out = JSON.stringify({ fake: true, method: req.method, url: req.url });
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(out);
    });
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const u = new URL(req.url, 'http://x');
    if (fake.refuse || !u.pathname.startsWith(fake.pathname)) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, req, u));
  });

  function send(conn, value) {
    if (conn.ws.readyState !== 1) return;
    conn.ws.send(JSON.stringify(value));
  }
  fake.send = send;

  // server-initiated close, like connection.destroy(): control string, then close
  fake.end = (conn) => {
    send(conn, 'primus::server::close');
    conn.ws.close();
  };
  // network loss as the client sees it: no control string, no close handshake
  fake.drop = (conn) => conn.ws.terminate();

  function reply(conn, msg, fields) {
    send(conn, { ...fields, context: 'response', messageId: msg.messageId });
  }
  function verbError(conn, msg, text) {
    const data = { ...msg };
    delete data.event; delete data.messageId; delete data.room;
    reply(conn, msg, { status: `Error: ${text}`, error: `Error: ${text}`, data });
  }
  function members(room) {
    const out = {};
    for (const c of fake.conns) if (!c.closed && c.rooms.includes(room)) out[c.id] = { id: c.id, joinedAt: c.joinedAt[room] };
    return out;
  }

  function onConnection(ws, req, u) {
    const id = crypto.randomUUID();
    const conn = {
      id,
      fingerprint: u.searchParams.get('sessionID') || id,
      query: Object.fromEntries(u.searchParams),
      url: req.url,
      rooms: [],
      joinedAt: {},
      received: [],
      raw: [],
      ws,
      closed: false,
      connectedAt: Date.now(),
    };
    fake.conns.push(conn);
    ws.on('close', () => { conn.closed = true; });
    ws.on('error', () => {});
    ws.on('message', (data, isBinary) => {
      const text = data.toString();
      conn.raw.push(isBinary ? { binary: text } : text);
      let msg;
      try { msg = JSON.parse(text); } catch { return; }
      conn.received.push(msg);
      if (typeof msg === 'string') return; // primus::pong etc.
      if (fake.hook && fake.hook(conn, msg)) return;
      handle(conn, msg);
    });
    if (welcome) send(conn, { welcome: 'Welcome to the actionhero api', context: 'api' });
  }

  function handle(conn, msg) {
    switch (msg.event) {
      case 'detailsView':
        return reply(conn, msg, {
          status: 'OK',
          data: {
            id: conn.id, fingerprint: conn.fingerprint, remoteIP: '127.0.0.1', remotePort: '1',
            params: {}, connectedAt: conn.connectedAt, rooms: conn.rooms.slice(), totalActions: 0, pendingActions: 0,
          },
        });
      case 'roomAdd':
        if (conn.rooms.includes(msg.room)) return verbError(conn, msg, `connection already in this room (${msg.room})`);
        if (!fake.rooms.has(msg.room)) return verbError(conn, msg, 'room does not exist');
        conn.rooms.push(msg.room);
        conn.joinedAt[msg.room] = Date.now();
        return reply(conn, msg, { status: 'OK', data: true });
      case 'roomLeave':
        if (!conn.rooms.includes(msg.room)) return verbError(conn, msg, `connection not in this room (${msg.room})`);
        conn.rooms.splice(conn.rooms.indexOf(msg.room), 1);
        return reply(conn, msg, { status: 'OK', data: true });
      case 'roomView': {
        if (!fake.rooms.has(msg.room)) return verbError(conn, msg, 'room does not exist');
        const m = members(msg.room);
        return reply(conn, msg, { status: 'OK', data: { room: msg.room, members: m, membersCount: Object.keys(m).length } });
      }
      case 'say': {
        if (!conn.rooms.includes(msg.room)) return verbError(conn, msg, `connection not in this room (${msg.room})`);
        reply(conn, msg, { status: 'OK' });
        const out = { message: msg.message, room: msg.room, from: conn.id, context: 'user', sentAt: Date.now() };
        for (const c of fake.conns) if (!c.closed && c.rooms.includes(msg.room)) send(c, out);
        return undefined;
      }
      case 'file':
        if (staticDir && typeof msg.file === 'string' && existsSync(path.join(staticDir, msg.file))) {
          const content = readFileSync(path.join(staticDir, msg.file), 'utf8');
          return reply(conn, msg, { content, mime: 'text/plain', length: Buffer.byteLength(content), lastModified: new Date().toISOString() });
        }
        if (msg.file === 'simple.html') {
          return reply(conn, msg, { content: '<h1>fake</h1>', mime: 'text/html', length: 13, lastModified: '2026-01-01T00:00:00.000Z' });
        }
        return reply(conn, msg, { error: 'that file is not found', content: null, mime: 'text/html', length: 22 });
      case 'action': {
        const p = msg.params || {};
        if (p.action === 'randomNumber') {
          const n = Math.random();
          return reply(conn, msg, { randomNumber: n, stringRandomNumber: `Your random number is ${n}` });
        }
        if (p.action === 'echo') return reply(conn, msg, { params: p });
        if (p.action === 'createChatRoom') {
          const didCreate = !fake.rooms.has(p.name);
          fake.rooms.add(p.name);
          return reply(conn, msg, { name: p.name, didCreate });
        }
        return reply(conn, msg, { error: 'unknown action or invalid apiVersion' });
      }
      case 'quit':
      case 'exit':
        return fake.end(conn);
      case 'documentation':
        return verbError(conn, msg, "Cannot read properties of undefined (reading 'documentation')");
      default:
        return verbError(conn, msg, `verb not found or not allowed (${msg.event})`);
    }
  }

  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.port = server.address().port;
  fake.url = `http://127.0.0.1:${fake.port}`;
  fake.live = () => fake.conns.filter((c) => !c.closed);
  fake.last = () => fake.conns[fake.conns.length - 1];
  fake.waitFor = async (cond, what = 'condition', ms = 3000) => {
    const t0 = Date.now();
    for (;;) {
      const v = cond();
      if (v) return v;
      if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  fake.close = () => new Promise((resolve) => {
    for (const c of wss.clients) c.terminate();
    wss.close();
    server.closeAllConnections?.();
    server.close(() => resolve());
  });
  return fake;
}
