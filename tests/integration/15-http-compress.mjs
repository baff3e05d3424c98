// 15-http-compress.mjs - web.compress (web.md §9.2): gzip or deflate chosen
// from Accept-Encoding (whole words, first one wins), strings compressed
// with their compressed Content-Length, files streamed compressed and
// chunked (HTTP/1.0: until close), 304 and HEAD unaffected bodies.
import http from 'node:http';
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { startServer, check, eq, done, rawRequest } from '../lib/lib.mjs';

function request(port, p, { method = 'GET', headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: p, method, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

const big = crypto.randomBytes(1024 * 1024).toString('hex'); // 2 MB of text
const files = { 'public/small.txt': 'hello '.repeat(100), 'public/big.txt': big, 'public/empty.txt': '' };
const srv = await startServer({ files, env: { AUTOMATIC_ROUTES: 'get', ACTIONHERO_CONFIG_OVERRIDES: JSON.stringify({ web: { compress: true } }) } });
const P = srv.port;

{
  let r = await request(P, '/api/randomNumber', { headers: { 'Accept-Encoding': 'gzip' } });
  eq('gzip: content-encoding', r.headers['content-encoding'], 'gzip');
  eq('gzip: compressed content-length', Number(r.headers['content-length']), r.body.length);
  const json = JSON.parse(zlib.gunzipSync(r.body).toString());
  check('gzip: the JSON inside', typeof json.randomNumber === 'number', json);
  r = await request(P, '/api/randomNumber', { headers: { 'Accept-Encoding': 'deflate' } });
  eq('deflate: content-encoding', r.headers['content-encoding'], 'deflate');
  check('deflate: zlib format', typeof JSON.parse(zlib.inflateSync(r.body).toString()).randomNumber === 'number');
  r = await request(P, '/api/randomNumber', { headers: { 'Accept-Encoding': 'deflate, gzip' } });
  eq('first of the two wins', r.headers['content-encoding'], 'deflate');
  r = await request(P, '/api/randomNumber', { headers: { 'Accept-Encoding': 'gzip;q=0, deflate' } });
  eq('no q-value parsing', r.headers['content-encoding'], 'gzip');
  r = await request(P, '/api/randomNumber', { headers: { 'Accept-Encoding': 'xgzip, br' } });
  eq('whole words only', r.headers['content-encoding'], undefined);
  r = await request(P, '/api/randomNumber');
  eq('no Accept-Encoding: plain', [r.headers['content-encoding'], typeof JSON.parse(r.body).randomNumber], [undefined, 'number']);
  r = await request(P, '/api/randomNumber', { method: 'HEAD', headers: { 'Accept-Encoding': 'gzip' } });
  check('HEAD: compressed length of an empty body, no body', r.headers['content-encoding'] === 'gzip' && Number(r.headers['content-length']) > 0 && r.body.length === 0, r.headers);
}
{
  let r = await request(P, '/small.txt', { headers: { 'Accept-Encoding': 'gzip' } });
  eq('small file gzip: chunked, no length', [r.headers['content-encoding'], r.headers['transfer-encoding'], r.headers['content-length']], ['gzip', 'chunked', undefined]);
  eq('small file gzip: content', zlib.gunzipSync(r.body).toString(), 'hello '.repeat(100));
  r = await request(P, '/big.txt', { headers: { 'Accept-Encoding': 'gzip' } });
  check('big file gzip: content intact', zlib.gunzipSync(r.body).toString() === big, r.body.length);
  check('big file gzip: smaller on the wire', r.body.length < big.length, r.body.length);
  r = await request(P, '/big.txt', { headers: { 'Accept-Encoding': 'deflate' } });
  check('big file deflate: content intact', zlib.inflateSync(r.body).toString() === big);
  r = await request(P, '/empty.txt', { headers: { 'Accept-Encoding': 'gzip' } });
  eq('empty file gzip', zlib.gunzipSync(r.body).toString(), '');
  r = await request(P, '/big.txt', { method: 'HEAD', headers: { 'Accept-Encoding': 'gzip' } });
  eq('HEAD file gzip: header, no body', [r.headers['content-encoding'], r.body.length], ['gzip', 0]);
  const tag = (await request(P, '/small.txt')).headers.etag;
  r = await request(P, '/small.txt', { headers: { 'Accept-Encoding': 'gzip', 'If-None-Match': tag } });
  eq('304 is not compressed', [r.status, r.headers['content-encoding']], [304, undefined]);
  r = await request(P, '/nope.txt', { headers: { 'Accept-Encoding': 'gzip' } });
  eq('404 text compressed', [r.status, zlib.gunzipSync(r.body).toString()], [404, 'that file is not found']);
  const raw = await rawRequest(P, ['GET /big.txt HTTP/1.0\r\nAccept-Encoding: gzip\r\n\r\n'], { timeout: 5000 });
  const bytes = Buffer.from(raw.data, 'latin1');
  const sep = bytes.indexOf('\r\n\r\n');
  const head = bytes.subarray(0, sep).toString();
  check('HTTP/1.0: no chunking, closed after the body', raw.closed && !/transfer-encoding/i.test(head) && /Connection: close/.test(head), head);
  check('HTTP/1.0: content intact', zlib.gunzipSync(bytes.subarray(sep + 4)).toString() === big);
}
{
  const off = await startServer({ files, env: { AUTOMATIC_ROUTES: 'get' } });
  const r = await request(off.port, '/api/randomNumber', { headers: { 'Accept-Encoding': 'gzip' } });
  eq('compress false (default): plain', r.headers['content-encoding'], undefined);
}
await done();
