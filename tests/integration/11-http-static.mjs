// 11-http-static.mjs - static files (web.md §8): index files, MIME types,
// cache headers, ETag / If-None-Match / If-Modified-Since, HEAD, large
// files, every way out of public/ (all 404), sendFile from an action,
// dir routes, the file log line.
import http from 'node:http';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { startServer, check, eq, done, rawRequest, readLog, sleep } from '../lib/lib.mjs';

function request(port, p, { method = 'GET', headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: p, method, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode, headers: res.headers, raw: res.rawHeaders, body, text: body.toString('utf8') });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

// status line of a raw request (for paths http.request would refuse)
async function rawStatus(port, target) {
  const r = await rawRequest(port, [`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`]);
  const m = /^HTTP\/1\.1 (\d{3})/.exec(r.data);
  const body = r.data.split('\r\n\r\n').slice(1).join('\r\n\r\n');
  return { status: m ? Number(m[1]) : 0, body };
}

const big = crypto.randomBytes(3 * 1024 * 1024 + 123);
const png = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
const files = {
  'public/index.html': '<h1>index</h1>\n',
  'public/css/site.css': 'body { color: red }\n',
  'public/sub/index.html': '<h1>sub</h1>',
  'public/sub/page.html': '<p>page</p>',
  'public/big.bin': big,
  'public/empty.txt': '',
  'public/data.unknownext': 'x',
  'public/logo/actionhero.png': png,
  'public/with space.txt': 'spaced',
  'secret.txt': 'TOP SECRET',
  'public-evil/x.txt': 'evil',
  'plug/public/plug.txt': 'from the plugin',
  'plug/public/index.html': 'plugin index (shadowed)',
  'hidden/public/hidden.txt': 'not public',
};

const srv = await startServer({
  files,
  env: {
    AUTOMATIC_ROUTES: 'get',
    ACTIONHERO_CONFIG_OVERRIDES: JSON.stringify({ logger: { level: 'debug' } }),
  },
});
const pub = path.join(srv.dir, 'public');
fs.symlinkSync(path.join(srv.dir, 'secret.txt'), path.join(pub, 'link-out.txt'));
fs.symlinkSync(path.join(pub, 'css/site.css'), path.join(pub, 'link-in.css'));
fs.symlinkSync(srv.dir, path.join(pub, 'dirlink'));
const P = srv.port;

// ---------------------------------------------------------------- index files and types
{
  for (const p of ['/', '/public', '/public/', '/index.html', '/public/index.html']) {
    const r = await request(P, p);
    eq(`${p} -> index.html`, [r.status, r.text, r.headers['content-type']], [200, '<h1>index</h1>\n', 'text/html']);
  }
  let r = await request(P, '/sub/');
  eq('/sub/ -> sub/index.html', r.text, '<h1>sub</h1>');
  r = await request(P, '/sub');
  eq('/sub (a directory) -> its index', r.text, '<h1>sub</h1>');
  r = await request(P, '/css/');
  eq('/css/ without index: 404', [r.status, r.headers['content-type'], r.headers['content-length']], [404, 'text/html', '22']);
  r = await request(P, '/css/site.css');
  eq('css type', [r.status, r.headers['content-type'], r.text], [200, 'text/css', 'body { color: red }\n']);
  r = await request(P, '/data.unknownext');
  eq('unknown type: octet-stream', r.headers['content-type'], 'application/octet-stream');
  r = await request(P, '/with%20space.txt');
  eq('percent-decoded file name', [r.status, r.text], [200, 'spaced']);
  r = await request(P, '/empty.txt');
  eq('empty file', [r.status, r.headers['content-length'], r.text], [200, '0', '']);
  r = await request(P, '/link-in.css');
  eq('symlink inside public is served', [r.status, r.text], [200, 'body { color: red }\n']);
  r = await request(P, '/index.html');
  eq('cache-control', r.headers['cache-control'], 'max-age=60, must-revalidate, public');
  const st = fs.statSync(path.join(pub, 'index.html'));
  const etag = `W/"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
  eq('weak etag', r.headers.etag, etag);
  check('no last-modified with etags', r.headers['last-modified'] === undefined);
  const names = [];
  for (let i = 0; i < r.raw.length; i += 2) names.push(r.raw[i]);
  eq('file header order', names, ['cache-control', 'content-type', 'strict-transport-security',
    'access-control-allow-headers', 'access-control-allow-methods', 'access-control-allow-origin',
    'x-powered-by', 'set-cookie', 'etag', 'content-length', 'Date', 'Connection']);
}

// ---------------------------------------------------------------- conditional requests
{
  const first = await request(P, '/css/site.css');
  const tag = first.headers.etag;
  let r = await request(P, '/css/site.css', { headers: { 'If-None-Match': tag } });
  eq('If-None-Match: 304', [r.status, r.text, r.headers['content-length']], [304, '', undefined]);
  eq('304 keeps the etag', r.headers.etag, tag);
  r = await request(P, '/css/site.css', { headers: { 'If-None-Match': `"x", ${tag}` } });
  eq('If-None-Match list', r.status, 304);
  r = await request(P, '/css/site.css', { headers: { 'If-None-Match': '*' } });
  eq('If-None-Match *', r.status, 304);
  r = await request(P, '/css/site.css', { headers: { 'If-None-Match': 'W/"1-1"' } });
  eq('other etag: 200', r.status, 200);
  r = await request(P, '/css/site.css', { headers: { 'If-None-Match': tag, 'Cache-Control': 'no-cache' } });
  eq('no-cache disables 304', r.status, 200);
  const future = new Date(Date.now() + 3600e3).toUTCString();
  r = await request(P, '/css/site.css', { headers: { 'If-Modified-Since': future } });
  eq('If-Modified-Since after mtime: 304 without etag', [r.status, r.headers.etag], [304, undefined]);
  r = await request(P, '/css/site.css', { headers: { 'If-Modified-Since': 'Thu, 01 Jan 1970 00:00:00 GMT' } });
  eq('If-Modified-Since before mtime: 200 without etag', [r.status, r.headers.etag, r.text], [200, undefined, 'body { color: red }\n']);
  r = await request(P, '/css/site.css', { headers: { 'If-Modified-Since': 'garbage' } });
  eq('unparsable If-Modified-Since: 200', r.status, 200);
}

// ---------------------------------------------------------------- HEAD and large files
{
  let r = await request(P, '/big.bin', { method: 'HEAD' });
  eq('HEAD file: real length, no body', [r.status, r.headers['content-length'], r.body.length], [200, String(big.length), 0]);
  r = await request(P, '/nope.txt', { method: 'HEAD' });
  eq('HEAD missing file: 404, length 22, no body', [r.status, r.headers['content-length'], r.body.length], [404, '22', 0]);
  r = await request(P, '/big.bin');
  eq('large file streamed intact', [r.status, r.body.length, crypto.createHash('sha1').update(r.body).digest('hex')],
    [200, big.length, crypto.createHash('sha1').update(big).digest('hex')]);
  // several large downloads at once
  const all = await Promise.all([1, 2, 3, 4].map(() => request(P, '/big.bin')));
  check('concurrent large files intact', all.every((x) => x.body.equals(big)));
  // clients that stop reading mid-file do not disturb others
  const paused = [];
  for (let i = 0; i < 3; i++) {
    const s = net.connect(P, '127.0.0.1');
    s.on('error', () => {});
    s.write('GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n');
    s.pause();
    paused.push(s);
  }
  await sleep(200);
  r = await request(P, '/css/site.css');
  eq('server still serves others', r.status, 200);
  for (const s of paused) s.destroy();
}

// ---------------------------------------------------------------- no way out of public/
{
  const attempts = [
    '/public/../secret.txt',
    '/../secret.txt',
    '/%2e%2e/secret.txt',
    '/public/%2e%2e/secret.txt',
    '/public/..%2fsecret.txt',
    '/%2e%2e%2fsecret.txt',
    '/..%5csecret.txt',
    '/public/..\\secret.txt',
    '/%2e%2e/public-evil/x.txt',
    '/../public-evil/x.txt',
    '/link-out.txt',
    '/dirlink/secret.txt',
    '/index.html%00.png',
    '/%00',
    '/css/%2e%2e/%2e%2e/secret.txt',
    '//etc/passwd',
    '/%2fetc%2fpasswd',
    '/public/%2e%2e%2f%2e%2e%2fetc/passwd',
  ];
  for (const a of attempts) {
    const r = await rawStatus(P, a);
    check(`escape attempt ${a}: 404`, (r.status === 404 && r.body === 'that file is not found') || r.status === 400, r);
    check(`escape attempt ${a}: no secret`, !r.body.includes('TOP SECRET') && !r.body.includes('evil') && !r.body.includes('root:'), r.body.slice(0, 80));
  }
  const bad = await rawStatus(P, '/%E0%A4%A');
  eq('bad percent-encoding: 404', bad.status, 404);
}

// ---------------------------------------------------------------- sendFile from actions
{
  let r = await request(P, '/api/sendFile');
  eq('sendFile action', [r.status, r.headers['content-type'], r.body.equals(png)], [200, 'image/png', true]);
  r = await request(P, '/api/webFile?path=css/site.css');
  eq('connection.sendFile(path)', [r.status, r.headers['content-type'], r.text], [200, 'text/css', 'body { color: red }\n']);
  r = await request(P, '/api/webFile?path=../secret.txt');
  eq('sendFile cannot escape either', [r.status, r.text], [404, 'that file is not found']);
  r = await request(P, '/api/webFile?path=big.bin');
  eq('sendFile of a large file', r.body.equals(big), true);
}

// ---------------------------------------------------------------- the small-file cache never serves stale files
{
  fs.writeFileSync(path.join(pub, 'cached.txt'), 'version one');
  let r = await request(P, '/cached.txt');
  r = await request(P, '/cached.txt');
  eq('cached file served', r.text, 'version one');
  fs.writeFileSync(path.join(pub, 'cached.txt'), 'version two, longer');
  r = await request(P, '/cached.txt');
  eq('changed file: new content', r.text, 'version two, longer');
  fs.rmSync(path.join(pub, 'cached.txt'));
  fs.writeFileSync(path.join(pub, 'cached2.txt'), 'same size!!');
  fs.renameSync(path.join(pub, 'cached2.txt'), path.join(pub, 'cached.txt'));
  r = await request(P, '/cached.txt');
  eq('replaced file (new inode): new content', r.text, 'same size!!');
  fs.rmSync(path.join(pub, 'cached.txt'));
  r = await request(P, '/cached.txt');
  eq('deleted file: 404', r.status, 404);
  fs.writeFileSync(path.join(pub, 'cached.txt'), 'back');
  await request(P, '/cached.txt');
  fs.rmSync(path.join(pub, 'cached.txt'));
  fs.symlinkSync(path.join(srv.dir, 'secret.txt'), path.join(pub, 'cached.txt'));
  r = await request(P, '/cached.txt');
  eq('replaced by a symlink out of public/: 404', [r.status, r.text.includes('SECRET')], [404, false]);
}

// ---------------------------------------------------------------- log line
{
  await sleep(100);
  const log = readLog(srv);
  // at general.fileRequestLogLevel (info; debug in production)
  check('file log line', /info: \[ file @ web \] to=127\.0\.0\.1 file=\S+\/public\/css\/site\.css requestedFile=css\/site\.css size=20 duration=\d+ success=true/.test(log), log.split('\n').filter((l) => l.includes('file @')).slice(-3));
  check('file log line for a miss', /\[ file @ web \] to=127\.0\.0\.1 file=\{not found\} requestedFile=nope\.txt .*success=false/.test(log), log.split('\n').filter((l) => l.includes('not found')).slice(-3));
}

// ---------------------------------------------------------------- ETags off, dir routes, cache duration
{
  const dir = 'sub';
  const s2 = await startServer({
    files,
    env: {
      ACTIONHERO_CONFIG_OVERRIDES: JSON.stringify({
        web: { enableEtag: false, flatFileCacheDuration: 5 },
        plugins: { plug: { path: 'plug' }, hidden: { path: 'hidden', public: false } },
        routes: { get: [{ path: '/docs', dir, matchTrailingPathParts: true }] },
      }),
    },
  });
  let r = await request(s2.port, '/css/site.css');
  const st = fs.statSync(path.join(s2.dir, 'public/css/site.css'));
  eq('enableEtag false: Last-Modified', r.headers['last-modified'], new Date(Math.floor(st.mtimeMs / 1000) * 1000).toUTCString());
  check('enableEtag false: no etag', r.headers.etag === undefined);
  eq('flatFileCacheDuration', r.headers['cache-control'], 'max-age=5, must-revalidate, public');
  r = await request(s2.port, '/css/site.css', { headers: { 'If-None-Match': '*' } });
  eq('enableEtag false: If-None-Match ignored', r.status, 200);
  r = await request(s2.port, '/docs/page.html');
  eq('dir route', [r.status, r.text], [200, '<p>page</p>']);
  const esc = await rawStatus(s2.port, '/docs/../../secret.txt');
  eq('dir route cannot escape', esc.status, 404);
  r = await request(s2.port, '/plug.txt');
  eq('plugin public directory searched', [r.status, r.text], [200, 'from the plugin']);
  r = await request(s2.port, '/index.html');
  eq('project public first', r.text, '<h1>index</h1>\n');
  r = await request(s2.port, '/hidden.txt');
  eq('plugin with public: false', r.status, 404);
}

await done();
