// 10-http-actions.mjs - action requests over HTTP (web.md §3-§7, §9-§10):
// the response envelope, headers, fingerprint cookie, routing, params,
// status mapping, JSONP, OPTIONS/TRACE/HEAD, web connection methods.
import http from 'node:http';
import { startServer, check, eq, done, readLog, sleep } from '../lib/lib.mjs';

const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });

function request(port, path, { method = 'GET', headers = {}, body, agent = false } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, raw: res.rawHeaders, text, json });
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

const routes = {
  get: [
    { path: '/status', action: 'status' },
    { path: '/echo/:a', action: 'webEcho' },
    { path: '/trail/:rest', action: 'webEchoNoMime', matchTrailingPathParts: true },
    { path: '/quirk/:rest', action: 'webEcho', matchTrailingPathParts: true },
    { path: '/v:apiVersion/versioned', action: 'versionString' },
    { path: '/pinned', action: 'versionString', apiVersion: '2' },
    { path: '/pinnedbad', action: 'versionString', apiVersion: '7' },
    { path: '/ext/:name', action: 'webEcho' },
    { path: '/extplain/:name', action: 'webEchoNoMime' },
    { path: '/user/:id(^\\d{3}$)', action: 'webEcho' },
    { path: '/Mixed/Case', action: 'webEcho' },
  ],
  all: [{ path: '/anyverb', action: 'webEcho' }],
};
const overrides = {
  routes,
  web: { automaticRoutes: ['get', 'post', 'put', 'head'] },
  general: { serverName: 'actionhero' },
  logger: { level: 'info' },
};
const srv = await startServer({ env: { ACTIONHERO_CONFIG_OVERRIDES: JSON.stringify(overrides) } });
const P = srv.port;

// ---------------------------------------------------------------- envelope
{
  const r = await request(P, '/api/randomNumber', { agent: keepAlive });
  eq('randomNumber: 200', r.status, 200);
  check('randomNumber: a number', typeof r.json.randomNumber === 'number' && r.json.randomNumber < 1, r.json);
  eq('envelope: keys in order', Object.keys(r.json),
    ['randomNumber', 'stringRandomNumber', 'serverInformation', 'requesterInformation']);
  eq('serverInformation keys', Object.keys(r.json.serverInformation),
    ['serverName', 'apiVersion', 'requestDuration', 'currentTime']);
  eq('serverName', r.json.serverInformation.serverName, 'actionhero');
  check('currentTime is now', Math.abs(r.json.serverInformation.currentTime - Date.now()) < 60000, r.json.serverInformation);
  eq('requesterInformation keys', Object.keys(r.json.requesterInformation),
    ['id', 'fingerprint', 'messageId', 'remoteIP', 'receivedParams']);
  const ri = r.json.requesterInformation;
  check('fingerprint: 40 hex', /^[0-9a-f]{40}$/.test(ri.fingerprint), ri);
  check('messageId: uuid v4', /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(ri.messageId), ri);
  eq('id = fingerprint-messageId', ri.id, `${ri.fingerprint}-${ri.messageId}`);
  eq('remoteIP from the socket', ri.remoteIP, '127.0.0.1');
  eq('receivedParams: action from the route', ri.receivedParams, { action: 'randomNumber' });
  check('padding 2', r.text.startsWith('{\n  "randomNumber": '), r.text.slice(0, 40));
  // headers on the wire: lower-cased names in Actionhero's order
  const names = [];
  for (let i = 0; i < r.raw.length; i += 2) names.push(r.raw[i]);
  eq('header order', names, ['strict-transport-security', 'access-control-allow-headers',
    'access-control-allow-methods', 'access-control-allow-origin', 'x-powered-by', 'content-type',
    'set-cookie', 'content-length', 'Date', 'Connection', 'Keep-Alive']);
  eq('content-type', r.headers['content-type'], 'application/json; charset=utf-8');
  eq('x-powered-by', r.headers['x-powered-by'], 'actionhero');
  eq('CORS methods', r.headers['access-control-allow-methods'], 'HEAD, GET, POST, PUT, PATCH, DELETE, OPTIONS, TRACE');
  eq('HSTS', r.headers['strict-transport-security'], 'max-age=31536000; includeSubDomains');
  eq('keep-alive', [r.headers.connection, r.headers['keep-alive']], ['keep-alive', 'timeout=5']);
  eq('content-length is the byte length', Number(r.headers['content-length']), Buffer.byteLength(r.text));
  const cookie = r.headers['set-cookie'][0];
  const m = /^sessionID=([0-9a-f]{40});path=\/;expires=(.*);$/.exec(cookie);
  check('set-cookie format', m && m[1] === ri.fingerprint, cookie);
  const exp = m ? Date.parse(m[2]) : 0;
  check('cookie expires in about an hour', Math.abs(exp - Date.now() - 3600000) < 120000, m && m[2]);
  check('Date header', Math.abs(Date.parse(r.headers.date) - Date.now()) < 60000, r.headers.date);
  const c = await request(P, '/api/randomNumber', { headers: { Connection: 'close' } });
  eq('Connection: close is answered with close', [c.headers.connection, c.headers['keep-alive']], ['close', undefined]);
  keepAlive.destroy();
}

{
  // metadata keys the action already set keep their places (JS assignment)
  const r = await request(P, '/api/webMetaOwn?q=1', { agent: keepAlive });
  eq('own metadata keys: order', Object.keys(r.json), ['7', 'serverInformation', 'a', 'requesterInformation']);
  eq('own metadata: serverInformation replaced', Object.keys(r.json.serverInformation),
    ['serverName', 'apiVersion', 'requestDuration', 'currentTime']);
  eq('own metadata: requesterInformation replaced', Object.keys(r.json.requesterInformation),
    ['id', 'fingerprint', 'messageId', 'remoteIP', 'receivedParams']);
  eq('own metadata: receivedParams (scrubbed)', r.json.requesterInformation.receivedParams, { action: 'webMetaOwn' });
  check('own metadata: padded', r.text.startsWith('{\n  "7": true,\n  "serverInformation": {\n    "serverName"'), r.text.slice(0, 80));
}

// ---------------------------------------------------------------- fingerprint
{
  const r = await request(P, '/api/webEcho', { headers: { Cookie: 'a=1; sessionID=myfp123; b=x=y' } });
  eq('cookie fingerprint reused', r.json.fingerprint, 'myfp123');
  check('no set-cookie for a known client', r.headers['set-cookie'] === undefined, r.headers['set-cookie']);
  check('id uses the cookie', r.json.id.startsWith('myfp123-'), r.json.id);
  eq('rawConnection.cookies (a value with = is cut)', r.json.cookies, { a: '1', sessionID: 'myfp123', b: 'x' });
  const r2 = await request(P, '/api/webEcho', { headers: { 'X-SessionID': 'fromheader' } });
  eq('x-sessionid header fingerprint', r2.json.fingerprint, 'fromheader');
  check('no cookie for x-sessionid', r2.headers['set-cookie'] === undefined);
  // a long header fingerprint is cut to 63 bytes on a character boundary,
  // so ids and the metadata stay valid UTF-8 (62 x 'a' + 'é' is 64 bytes)
  const long = 'a'.repeat(62) + Buffer.from('\u00e9', 'utf8').toString('latin1');
  const rl = await request(P, '/api/webEcho', { headers: { 'X-SessionID': long } });
  eq('long header fingerprint cut on a character', rl.json && rl.json.fingerprint, 'a'.repeat(62));
  const rm = await request(P, '/api/randomNumber', { headers: { 'X-SessionID': long } });
  eq('metadata fingerprint of a cut header', rm.json && rm.json.requesterInformation.fingerprint, 'a'.repeat(62));
  const r3 = await request(P, '/api/webEcho', { headers: { sessionID: 'ignored' } });
  check('mixed-case cookieKey header never matches', /^[0-9a-f]{40}$/.test(r3.json.fingerprint), r3.json.fingerprint);
  const a = await request(P, '/api/webEcho');
  const b = await request(P, '/api/webEcho');
  check('a new fingerprint per cookie-less request', a.json.fingerprint !== b.json.fingerprint);
  check('messageId changes per request', a.json.messageId !== b.json.messageId);
}

// ---------------------------------------------------------------- remote address
{
  const cases = [
    [{ 'X-Forwarded-For': '10.1.2.3, 172.16.0.1' }, '10.1.2.3', null],
    [{ 'X-Forwarded-For': '10.1.2.3:4455' }, '10.1.2.3', '4455'],
    [{ 'X-Forwarded-For': '::ffff:10.9.9.9' }, '10.9.9.9', null],
    [{ 'X-Forwarded-For': '[2001:db8::7]:8443' }, '2001:db8::7', 8443],
    [{ 'X-Forwarded-For': '2001:db8::8' }, '2001:db8::8', 80],
    [{ 'X-Forwarded-For': '10.1.2.3', 'X-Forwarded-Port': '443' }, '10.1.2.3', '443'],
    [{ 'X-Real-IP': '192.168.7.7' }, '192.168.7.7', null],
  ];
  for (const [headers, ip, port] of cases) {
    const r = await request(P, '/api/webEcho', { headers });
    eq(`remoteIP ${JSON.stringify(headers)}`, r.json.remoteIP, ip);
    if (port === null) check(`remotePort from the socket ${JSON.stringify(headers)}`, typeof r.json.remotePort === 'number' && r.json.remotePort > 0, r.json.remotePort);
    else eq(`remotePort ${JSON.stringify(headers)}`, r.json.remotePort, port);
  }
  const bad = await request(P, '/api/webEcho', { headers: { 'X-Forwarded-For': '[zz::1]:80' } });
  eq('unparsable bracketed X-Forwarded-For: 400', bad.status, 400);
  eq('... with an error', bad.json, { error: 'failed to parse address' });
}

// ---------------------------------------------------------------- modes and routing
{
  let r = await request(P, '/api?action=randomNumber');
  eq('?action= does not route', [r.status, r.json.error], [404, 'unknown action or invalid apiVersion']);
  eq('... receivedParams.action is null', r.json.requesterInformation.receivedParams.action, null);
  r = await request(P, '/api/nope');
  eq('unknown action: 404', r.status, 404);
  r = await request(P, '/API/randomNumber');
  eq('prefix is case-sensitive (file mode)', [r.status, r.text], [404, 'that file is not found']);
  r = await request(P, '/api/echo/hello%20there?b=2');
  eq('route variable decoded', r.json.params.a, 'hello there');
  eq('query param', r.json.params.b, '2');
  eq('matchedRoute', r.json.matchedRoute, { path: '/echo/:a', matchTrailingPathParts: false, action: 'webEcho' });
  r = await request(P, '/api/echo/fromroute?a=fromquery');
  eq('route variables override query', r.json.params.a, 'fromroute');
  r = await request(P, '/api/trail/a/b/c.txt');
  eq('matchTrailingPathParts', r.json.params.rest, 'a/b/c.txt');
  eq('extension from the whole path', r.json.extension, 'txt');
  r = await request(P, '/api/v2/versioned');
  eq('version in the path', r.json.version, '2');
  r = await request(P, '/api/vthree/versioned');
  eq('version name in the path', r.json.version, 'three');
  r = await request(P, '/api/v9/versioned');
  eq('unknown version: 404', [r.status, r.json.error], [404, 'unknown action or invalid apiVersion']);
  eq('... the version is in receivedParams', r.json.requesterInformation.receivedParams.apiVersion, '9');
  r = await request(P, '/api/xv2/versioned');
  eq('"contains" prefix quirk (x2)', [r.status, r.json.requesterInformation.receivedParams.apiVersion], [404, 'x2']);
  r = await request(P, '/api/pinned');
  eq('route apiVersion pin', r.json.version, '2');
  r = await request(P, '/api/pinnedbad');
  eq('route apiVersion pin to a missing version', [r.status, r.json.requesterInformation.receivedParams.apiVersion], [404, '7']);
  r = await request(P, '/api/pinnedbad?apiVersion=three');
  eq('request apiVersion wins over the pin', r.json.version, 'three');
  r = await request(P, '/api/user/123');
  eq('regex constraint match', r.json.params.id, '123');
  r = await request(P, '/api/user/1234');
  eq('regex constraint miss', r.status, 404);
  r = await request(P, '/api/mixed/CASE');
  eq('literal segments case-insensitive', r.status, 200);
  r = await request(P, '/api/quirk/v1.2/x');
  eq('extension quirk (dot in a directory)', [r.json.extension, r.headers['content-type']], ['2/x', 'application/json; charset=utf-8']);
  r = await request(P, '/api/anyverb', { method: 'DELETE' });
  eq('all routes: DELETE', r.status, 200);
  r = await request(P, '/api/anyverb', { method: 'PATCH' });
  eq('all routes: PATCH', r.status, 200);
  r = await request(P, '/api/webEcho', { method: 'HEAD' });
  eq('HEAD api: 200 via a head route', r.status, 200);
  eq('HEAD api: Content-Length 0, no body', [r.headers['content-length'], r.text], ['0', '']);
  r = await request(P, '/api/webEcho', { method: 'PROPFIND' });
  eq('method without a route list: 404', r.status, 404);
  r = await request(P, '//api//webEcho');
  eq('empty middle segment kept (no route)', r.status, 404);
}

// ---------------------------------------------------------------- params
{
  let r = await request(P, '/api/webEcho?a[b][c]=1&list[]=x&list[]=y&same=1&same=2');
  eq('qs nesting', r.json.params.a, { b: { c: '1' } });
  eq('qs arrays', r.json.params.list, ['x', 'y']);
  eq('qs repeats', r.json.params.same, ['1', '2']);
  eq('rawConnection.params.query (flat)', r.json.query, { 'a[b][c]': '1', 'list[]': ['x', 'y'], same: ['1', '2'] });
  r = await request(P, '/api/webEcho?0=a&1=b');
  eq('numeric keys become payload (quirk)', r.json.params.payload, ['a', 'b']);
  r = await request(P, '/api/webEcho', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"k":"v","n":[1,2,3],"o":{"x":[1,2]}}' });
  eq('JSON body', r.json.params.k, 'v');
  eq('multiples false: last element of top-level arrays', r.json.params.n, 3);
  eq('nested arrays untouched', r.json.params.o, { x: [1, 2] });
  eq('rawConnection.params.body', r.json.body, { k: 'v', n: 3, o: { x: [1, 2] } });
  r = await request(P, '/api/webEcho', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '[1,2,3]' });
  eq('JSON array body -> payload', r.json.params.payload, [1, 2, 3]);
  r = await request(P, '/api/webEcho', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '"hello"' });
  eq('JSON string body -> payload of characters (quirk)', r.json.params.payload, ['h', 'e', 'l', 'l', 'o']);
  r = await request(P, '/api/webEcho?k=query', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'k=a&k=b&x%5By%5D=1&s=a+b' });
  eq('urlencoded: last repeated value, body wins over query', r.json.params.k, 'b');
  eq('urlencoded: no bracket nesting', r.json.params['x[y]'], '1');
  eq('urlencoded: + is a space', r.json.params.s, 'a b');
  r = await request(P, '/api/webEcho', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{bad json' });
  eq('bad JSON: the action still runs', r.status, 200);
  eq('bad JSON: connection.error', r.json.connectionError, 'There was an error processing this form.');
  await sleep(100);
  check('bad JSON: logged', /\[server: web\] error processing form: /.test(readLog(srv)), readLog(srv).slice(-400));
  r = await request(P, '/api/webEcho', { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'hi' });
  eq('unknown content type: no parser found', r.json.connectionError, 'There was an error processing this form.');
  await sleep(100);
  check('no parser found: logged', /error processing form: Error: no parser found/.test(readLog(srv)));
  r = await request(P, '/api/webEcho', { method: 'POST', body: '{"k":1}' });
  eq('no Content-Type: body ignored', [r.json.params.k, r.json.connectionError], [undefined, null]);
  r = await request(P, '/api/webEcho?q=1', { method: 'GET', headers: { 'Content-Type': 'application/json' }, body: '{"k":1}' });
  eq('GET bodies are not parsed', [r.json.params.k, r.json.params.q], [undefined, '1']);
  r = await request(P, '/api/webEcho', { method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Length': '0' } });
  eq('Content-Length 0: no fields, no error', [r.json.connectionError, r.json.body], [null, {}]);
  r = await request(P, '/api/webEcho', { method: 'PUT', headers: { 'Content-Type': 'application/octet-stream', 'X-File-Name': 'up.bin' }, body: 'binary data' });
  const f = r.json.params.file;
  check('octet-stream: a file param', f && f.size === 11 && f.originalFilename === 'up.bin' && f.mimetype === 'application/octet-stream' && /^[a-z0-9]{25}$/.test(f.newFilename), f);
  r = await request(P, '/api/webEcho', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"action":"status","file":"x"}' });
  eq('params.action reset before routing', r.json.params.action, 'webEcho');
  eq('receivedParams: only post variables', Object.keys(r.json.requesterInformation.receivedParams).sort(), ['action', 'file']);
}

// ---------------------------------------------------------------- status codes and errors
{
  let r = await request(P, '/api/errorSetTest');
  eq('action error: 500', [r.status, r.json.error], [500, 'custom error 7']);
  eq('error key order', Object.keys(r.json)[0], 'partial');
  r = await request(P, '/api/inputsTest');
  eq('missing params: 422', r.status, 422);
  r = await request(P, '/api/webErrorCode?code=418');
  eq('error.code in 100..599 becomes the status', r.status, 418);
  r = await request(P, '/api/webErrorCode?code=42');
  eq('error.code out of range: default 500', r.status, 500);
  r = await request(P, '/api/webStatus?code=201');
  eq('setStatusCode', [r.status, r.json.status], [201, 201]);
  r = await request(P, '/api/webStatus?code=409&error=conflict');
  eq('setStatusCode wins over the error mapping', [r.status, r.json.error], [409, 'conflict']);
  r = await request(P, '/api/stringResponseTest');
  eq('string response: a JSON string', r.text, '"just a string"');
  r = await request(P, '/api/stringResponseTest?fail=1');
  eq('failed string response: 200 "Error: ..."', [r.status, r.json], [200, 'Error: string failed']);
  r = await request(P, '/api/arrayResponseTest');
  eq('array response: plain array', r.json, [1, 2, 3]);
}

// ---------------------------------------------------------------- extension mime
{
  let r = await request(P, '/api/ext/abc.png');
  eq('extension sets Content-Type', r.headers['content-type'], 'image/png');
  eq('non-JSON type renders String(response) (quirk)', r.text, '[object Object]');
  r = await request(P, '/api/extplain/abc.png');
  eq('matchExtensionMimeType false keeps JSON', r.headers['content-type'], 'application/json; charset=utf-8');
  r = await request(P, '/api/ext/abc.unknownext');
  eq('unknown extension keeps JSON', r.headers['content-type'], 'application/json; charset=utf-8');
}

// ---------------------------------------------------------------- JSONP
{
  const r = await request(P, "/api/randomNumber?callback=alert('hi');foo");
  eq('JSONP content type', r.headers['content-type'], 'application/javascript');
  check('JSONP escaped callback', r.text.startsWith('alert&#39;hi&#39;;foo({\n') && r.text.endsWith('});'), r.text.slice(0, 60));
}

// ---------------------------------------------------------------- OPTIONS, TRACE
{
  let r = await request(P, '/anything/at/all', { method: 'OPTIONS' });
  eq('OPTIONS any path: 200 empty', [r.status, r.text, r.headers['content-length']], [200, '', '0']);
  eq('OPTIONS CORS', [r.headers['access-control-allow-origin'], r.headers['access-control-allow-methods']],
    ['*', 'HEAD, GET, POST, PUT, PATCH, DELETE, OPTIONS, TRACE']);
  eq('OPTIONS content-type stays JSON', r.headers['content-type'], 'application/json; charset=utf-8');
  r = await request(P, '/api/webEcho?zzz=1&callback=c', { method: 'TRACE' });
  eq('TRACE: requester information', Object.keys(r.json), ['id', 'fingerprint', 'messageId', 'remoteIP', 'receivedParams']);
  eq('TRACE: scrubbed params', r.json.receivedParams, { callback: 'c', action: null });
  check('TRACE: padded', r.text.startsWith('{\n  "id"'));
}

// ---------------------------------------------------------------- web connection methods
{
  let r = await request(P, '/api/webHeaders');
  eq('queued header: last wins', r.headers['x-test'], 'second');
  eq('setHeader kept', r.headers['x-direct'], 'direct');
  eq('every Set-Cookie kept, reverse order', r.headers['set-cookie'].slice(0, 2), ['b=2', 'a=1']);
  check('invalid headers are not sent', r.headers['bad name'] === undefined && r.headers['x-injected'] === undefined && !r.headers['set-cookie'].includes('evil=1'), r.headers);
  r = await request(P, '/api/webMessage?message=hello');
  eq('sendMessage: String(message) body', [r.status, r.text], [200, 'hello']);
  r = await request(P, '/api/webMessage');
  eq('sendMessage of an object: [object Object]', r.text, '[object Object]');
  r = await request(P, '/api/webMessage?message=later&delay=20');
  eq('sendMessage later (toRender false)', r.text, 'later');
  r = await request(P, '/api/webPipe');
  eq('pipe: body and headers', [r.status, r.text, r.headers['content-type'], r.headers['x-pipe']], [200, 'piped body', 'text/plain', 'yes']);
  check('pipe: queued defaults not sent', r.headers['x-powered-by'] === undefined, r.headers);
  r = await request(P, '/api/webDoubleAnswer');
  eq('an answered action is not rendered again', r.text, 'first answer');
  r = await request(P, '/api/webStatus?code=204');
  eq('204: no body, no content-length', [r.status, r.text, r.headers['content-length']], [204, '', undefined]);
}

// ---------------------------------------------------------------- production-style rendering
{
  const prod = await startServer({
    env: {
      ACTIONHERO_CONFIG_OVERRIDES: JSON.stringify({ web: { padding: null, metadataOptions: { serverInformation: false, requesterInformation: false }, returnErrorCodes: false } }),
      AUTOMATIC_ROUTES: 'get',
    },
  });
  let r = await request(prod.port, '/api/randomNumber');
  check('compact JSON, no metadata', /^\{"randomNumber":0\.\d+,"stringRandomNumber":"Your random number is 0\.\d+"\}$/.test(r.text), r.text);
  r = await request(prod.port, '/api/nope');
  eq('returnErrorCodes false: 200', [r.status, r.text], [200, '{"error":"unknown action or invalid apiVersion"}']);
  const env = await startServer({ env: { NODE_ENV: 'production', AUTOMATIC_ROUTES: 'get' } });
  r = await request(env.port, '/api/randomNumber');
  const h = await request(env.port, '/api/status', { method: 'HEAD' });
  eq('HEAD only searches head routes (quirk)', h.status, 404);
  check('NODE_ENV=production: compact, no metadata', /^\{"randomNumber":[^,]+,"stringRandomNumber":"[^"]+"\}$/.test(r.text), r.text);
}

// ---------------------------------------------------------------- allowedRequestHosts
{
  const ah = await startServer({ env: { ACTIONHERO_CONFIG_OVERRIDES: JSON.stringify({ web: { allowedRequestHosts: ['https://good.example'] } }), AUTOMATIC_ROUTES: 'get' } });
  let r = await request(ah.port, '/api/randomNumber?x=1', { headers: { Host: 'evil.example' } });
  eq('not allowed: 302', r.status, 302);
  eq('Location', r.headers.location, 'https://good.example/api/randomNumber?x=1');
  eq('redirect body', r.text, 'You are being redirected to https://good.example/api/randomNumber?x=1\r\n');
  check('no CORS or cookie on the redirect', r.headers['set-cookie'] === undefined && r.headers['access-control-allow-origin'] === undefined, r.headers);
  r = await request(ah.port, '/api/randomNumber', { headers: { Host: 'good.example', 'X-Forwarded-Proto': 'https' } });
  eq('X-Forwarded-Proto https + host: allowed', r.status, 200);
  r = await request(ah.port, '/api/randomNumber', { headers: { Host: 'good.example' } });
  eq('http origin not in the list: 302', r.status, 302);
}

// ---------------------------------------------------------------- logs
{
  await sleep(50);
  const log = readLog(srv);
  check('boot log line', /Starting server: `web` @ http:\/\/127\.0\.0\.1:\d+/.test(log), log.slice(0, 600));
  check('automatic routes log line', log.includes('creating routes automatically for all actions responding to GET HTTP verb'));
}

await done();
