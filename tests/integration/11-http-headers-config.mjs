// 11-http-headers-config.mjs - configured web.httpHeaders on every kind of
// response (web.md §3 step 4, §8.3, §9.1): mixed-case names sent lower-cased,
// configured names overriding the defaults and being overridden by what a
// response queues, a configured Cache-Control kept on files, a configured
// Set-Cookie kept next to the fingerprint cookie, header blocks of 304 and
// HEAD answers, a configured "Connection: close", and the same headers on
// the first (threadpool) and the cached answer of a file.
import { startServer, eq, check, done, rawRequest } from '../lib/lib.mjs';

// one raw exchange: status, header lines in order (name as sent), body
async function raw(port, head) {
  const r = await rawRequest(port, [`${head}Host: x\r\nConnection: close\r\n\r\n`]);
  const [top, ...rest] = r.data.split('\r\n\r\n');
  const lines = top.split('\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0])?.[1] || 0);
  const headers = lines.slice(1).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]);
  return { status, headers, names: headers.map((h) => h[0]), body: rest.join('\r\n\r\n') };
}
const get = (r, name) => r.headers.filter((h) => h[0].toLowerCase() === name).map((h) => h[1]);

const srv = await startServer({
  files: { 'public/page.html': '<p>page</p>\n' },
  env: {
    ACTIONHERO_CONFIG_OVERRIDES: JSON.stringify({
      web: {
        automaticRoutes: ['get', 'head'],
        httpHeaders: {
          'X-Mixed-CaSe': 'Value Keeps Its Case',
          'content-TYPE': 'text/x-configured',
          'Cache-Control': 'no-store',
          'Set-Cookie': 'cfg=1',
          'X-Powered-By': 'configured',
        },
      },
      logger: { level: 'error' },
    }),
  },
});
const P = srv.port;

// ---------------------------------------------------------------- a file: first answer and cached answer
for (const round of ['first', 'cached']) {
  const r = await raw(P, 'GET /public/page.html HTTP/1.1\r\n');
  eq(`${round} file: status and body`, [r.status, r.body], [200, '<p>page</p>\n']);
  eq(`${round} file: header order`, r.names, ['content-type', 'set-cookie', 'cache-control', 'x-mixed-case',
    'strict-transport-security', 'access-control-allow-headers', 'access-control-allow-methods',
    'access-control-allow-origin', 'x-powered-by', 'set-cookie', 'etag', 'content-length', 'Date', 'Connection']);
  eq(`${round} file: the file's type replaces the configured one`, get(r, 'content-type'), ['text/html']);
  eq(`${round} file: a configured Cache-Control is kept (no max-age added)`, get(r, 'cache-control'), ['no-store']);
  eq(`${round} file: mixed-case name lower-cased, value untouched`, get(r, 'x-mixed-case'), ['Value Keeps Its Case']);
  eq(`${round} file: configured X-Powered-By overrides the default`, get(r, 'x-powered-by'), ['configured']);
  const cookies = get(r, 'set-cookie');
  check(`${round} file: configured and fingerprint cookies both sent`,
    cookies.length === 2 && cookies[0] === 'cfg=1' && /^sessionID=[0-9a-f]{40};path=\/;expires=/.test(cookies[1]), cookies);
  check(`${round} file: weak etag`, /^W\/"c-[0-9a-f]+"$/.test(get(r, 'etag')[0] || ''), get(r, 'etag'));
  eq(`${round} file: content-length`, get(r, 'content-length'), ['12']);
}

// ---------------------------------------------------------------- 304 and HEAD keep the same block
{
  const full = await raw(P, 'GET /public/page.html HTTP/1.1\r\nCookie: sessionID=abc\r\n');
  const tag = get(full, 'etag')[0];
  const nm = await raw(P, `GET /public/page.html HTTP/1.1\r\nCookie: sessionID=abc\r\nIf-None-Match: ${tag}\r\n`);
  eq('304: status, empty body', [nm.status, nm.body], [304, '']);
  eq('304: same headers minus content-length', nm.names, full.names.filter((n) => n !== 'content-length'));
  eq('304: same values', nm.headers.filter((h) => h[0] !== 'Date'), full.headers.filter((h) => h[0] !== 'Date' && h[0] !== 'content-length'));
  const ims = await raw(P, 'GET /public/page.html HTTP/1.1\r\nCookie: sessionID=abc\r\nIf-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT\r\n');
  eq('If-Modified-Since 304: no etag, configured headers kept', [ims.status, get(ims, 'etag'), get(ims, 'cache-control'), get(ims, 'x-mixed-case')],
    [304, [], ['no-store'], ['Value Keeps Its Case']]);
  const head = await raw(P, 'HEAD /public/page.html HTTP/1.1\r\nCookie: sessionID=abc\r\n');
  eq('HEAD file: same headers and values as GET, no body', [head.status, head.headers.filter((h) => h[0] !== 'Date'), head.body],
    [200, full.headers.filter((h) => h[0] !== 'Date'), '']);
  const nf = await raw(P, 'HEAD /public/nope.html HTTP/1.1\r\nCookie: sessionID=abc\r\n');
  eq('HEAD missing file: 404, text/html, no cache-control added, configured kept',
    [nf.status, get(nf, 'content-type'), get(nf, 'cache-control'), get(nf, 'content-length'), nf.body],
    [404, ['text/html'], ['no-store'], ['22'], '']);
}

// ---------------------------------------------------------------- an action: configured Content-Type wins over the default JSON one
{
  const r = await raw(P, 'GET /api/webEcho HTTP/1.1\r\nCookie: sessionID=abc\r\n');
  eq('action: configured content-type replaces the JSON default', get(r, 'content-type'), ['text/x-configured']);
  eq('action: header order', r.names, ['set-cookie', 'cache-control', 'content-type', 'x-mixed-case',
    'strict-transport-security', 'access-control-allow-headers', 'access-control-allow-methods',
    'access-control-allow-origin', 'x-powered-by', 'content-length', 'Date', 'Connection']);
  const q = await raw(P, 'GET /api/webHeaders HTTP/1.1\r\nCookie: sessionID=abc\r\n');
  eq('action with queued headers: queued first (last wins), then the configured ones', q.names.slice(0, 7),
    ['X-Direct', 'x-test', 'set-cookie', 'set-cookie', 'set-cookie', 'cache-control', 'content-type']);
  eq('action with queued headers: every cookie, reverse order', get(q, 'set-cookie'), ['b=2', 'a=1', 'cfg=1']);
  const h = await raw(P, 'HEAD /api/webEcho HTTP/1.1\r\nCookie: sessionID=abc\r\n');
  eq('HEAD action: headers as GET, no body', [h.names, h.body], [r.names, '']);
}
await srv.stop();

// ---------------------------------------------------------------- a configured Connection: close
{
  const s2 = await startServer({
    env: { ACTIONHERO_CONFIG_OVERRIDES: JSON.stringify({ web: { httpHeaders: { connection: 'Close' } }, logger: { level: 'error' } }) },
  });
  for (const target of ['/public/simple.html', '/api/status']) {
    const r = await rawRequest(s2.port, [`GET ${target} HTTP/1.1\r\nHost: x\r\n\r\nGET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`]);
    const answers = r.data.split(/(?=HTTP\/1\.1 \d{3} )/).filter((x) => x.startsWith('HTTP/1.1'));
    eq(`Connection: close configured (${target}): one answer, closed`, [answers.length, /\r\nConnection: close\r\n/.test(answers[0] || ''), r.closed], [1, true, true]);
    check(`Connection: close configured (${target}): the configured line itself is not repeated`, !/\r\nconnection: Close\r\n/.test(answers[0] || ''));
  }
  await s2.stop();
}
await done();
