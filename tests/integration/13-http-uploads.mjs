// 13-http-uploads.mjs - request bodies that become files or many fields
// (web.md §6.3): multipart fields and files, multiples, octet-stream,
// formOptions limits, saveRawBody.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { startServer, check, eq, done, readLog, sleep } from '../lib/lib.mjs';

function request(port, p, { method = 'POST', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: p, method, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function multipart(parts, boundary = 'XyZzy12345') {
  let out = '';
  for (const p of parts) {
    out += `--${boundary}\r\n`;
    if (p.filename !== undefined) {
      out += `Content-Disposition: form-data; name="${p.name}"; filename="${p.filename}"\r\n`;
      out += `Content-Type: ${p.type || 'text/plain'}\r\n\r\n`;
    } else {
      out += `Content-Disposition: form-data; name="${p.name}"\r\n\r\n`;
    }
    out += `${p.value}\r\n`;
  }
  out += `--${boundary}--\r\n`;
  return { body: Buffer.from(out), type: `multipart/form-data; boundary=${boundary}` };
}

const uploadDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ah-up-'));
const base = { web: { automaticRoutes: ['post'], formOptions: { uploadDir } }, logger: { level: 'info' } };
const srv = await startServer({ env: { ACTIONHERO_CONFIG_OVERRIDES: JSON.stringify(base) } });
const P = srv.port;

// ---------------------------------------------------------------- multipart
{
  const m = multipart([
    { name: 'a', value: '1' },
    { name: 'k', value: 'first' },
    { name: 'k', value: 'second' },
    { name: 'up', filename: 'up.txt', value: 'hello upload' },
  ]);
  const r = await request(P, '/api/webEcho', { headers: { 'Content-Type': m.type }, body: m.body });
  eq('multipart: fields', [r.status, r.json.params.a, r.json.params.k], [200, '1', 'second']);
  const f = r.json.params.up;
  check('multipart: file description', f && f.size === 12 && f.originalFilename === 'up.txt' && f.mimetype === 'text/plain' &&
    /^[a-z0-9]+$/.test(f.newFilename) && f.filepath === path.join(uploadDir, f.newFilename) && !Number.isNaN(Date.parse(f.mtime)), f);
  check('multipart: file written to uploadDir', f && fs.readFileSync(f.filepath, 'utf8') === 'hello upload');
  eq('multipart: rawConnection.params.body', r.json.body, { a: '1', k: 'second' });
  check('multipart: rawConnection.params.files', r.json.files && r.json.files.up && r.json.files.up.size === 12, r.json.files);
  eq('multipart: no error', r.json.connectionError, null);
}
{
  // split into tiny writes: the parser streams
  const m = multipart([{ name: 'b', value: 'x'.repeat(5000) }, { name: 'bin', filename: 'b.bin', type: 'application/octet-stream', value: 'y'.repeat(70000) }]);
  const r = await new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: P, path: '/api/webEcho', method: 'POST', agent: false,
      headers: { 'Content-Type': m.type, 'Content-Length': m.body.length } }, (res) => {
      let t = '';
      res.on('data', (d) => { t += d; });
      res.on('end', () => resolve(JSON.parse(t)));
    });
    req.on('error', reject);
    (async () => {
      for (let i = 0; i < m.body.length; i += 997) { req.write(m.body.subarray(i, i + 997)); await sleep(0); }
      req.end();
    })();
  });
  eq('multipart in small pieces: field', r.params.b.length, 5000);
  eq('multipart in small pieces: file', r.params.bin.size, 70000);
}
{
  const r = await request(P, '/api/webEcho', { headers: { 'Content-Type': 'multipart/form-data' }, body: 'whatever' });
  eq('multipart without boundary: the action runs with the form error', [r.status, r.json.connectionError], [200, 'There was an error processing this form.']);
  const m = multipart([{ name: 'a', value: '1' }]);
  const r2 = await request(P, '/api/webEcho', { headers: { 'Content-Type': m.type }, body: m.body.subarray(0, m.body.length - 10) });
  eq('truncated multipart: form error', r2.json.connectionError, 'There was an error processing this form.');
  await sleep(100);
  check('form errors are logged', (readLog(srv).match(/\[server: web\] error processing form: /g) || []).length >= 2, readLog(srv).slice(-500));
}

// ---------------------------------------------------------------- octet-stream
{
  const r = await request(P, '/api/webEcho', { headers: { 'Content-Type': 'application/octet-stream', 'X-File-Name': 'data.bin' }, body: Buffer.from([0, 1, 2, 255]) });
  const f = r.json.params.file;
  check('octet-stream: one file named file', f && f.size === 4 && f.originalFilename === 'data.bin', f);
  check('octet-stream: bytes on disk', f && fs.readFileSync(f.filepath).equals(Buffer.from([0, 1, 2, 255])));
  check('octet-stream: no extension kept by default', f && !f.newFilename.includes('.'), f && f.newFilename);
}

// ---------------------------------------------------------------- multiples, keepExtensions, limits, saveRawBody
{
  const s2 = await startServer({
    env: {
      ACTIONHERO_CONFIG_OVERRIDES: JSON.stringify({
        web: {
          automaticRoutes: ['post'], saveRawBody: true,
          formOptions: { uploadDir, multiples: true, keepExtensions: true, maxFileSize: 1000, maxFieldsSize: 2000 },
        },
      }),
    },
  });
  let m = multipart([{ name: 'k', value: 'v' }, { name: 'f', filename: 'pic.png', type: 'image/png', value: 'png!' }]);
  let r = await request(s2.port, '/api/webEcho', { headers: { 'Content-Type': m.type }, body: m.body });
  eq('multiples: fields are arrays', r.json.params.k, ['v']);
  check('multiples: files are arrays, extension kept', Array.isArray(r.json.params.f) && r.json.params.f[0].newFilename.endsWith('.png'), r.json.params.f);
  eq('saveRawBody: the exact bytes', r.json.rawBody, m.body.toString('latin1'));
  r = await request(s2.port, '/api/webEcho', { headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'k=a&k=b' });
  eq('multiples: urlencoded repeats kept', r.json.params.k, ['a', 'b']);
  r = await request(s2.port, '/api/webEcho', { headers: { 'Content-Type': 'application/json' }, body: '{"n":[1,2]}' });
  eq('multiples: JSON unchanged', r.json.params.n, [1, 2]);
  m = multipart([{ name: 'f', filename: 'big.txt', value: 'z'.repeat(1500) }]);
  r = await request(s2.port, '/api/webEcho', { headers: { 'Content-Type': m.type }, body: m.body });
  eq('maxFileSize: form error, action runs', [r.status, r.json.connectionError], [200, 'There was an error processing this form.']);
  r = await request(s2.port, '/api/webEcho', { headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: `k=${'q'.repeat(3000)}` });
  eq('maxFieldsSize: form error', r.json.connectionError, 'There was an error processing this form.');
  const many = Array.from({ length: 1100 }, (_, i) => `f${i}=1`).join('&');
  const s3 = await startServer({ env: { ACTIONHERO_CONFIG_OVERRIDES: JSON.stringify({ web: { automaticRoutes: ['post'] } }) } });
  r = await request(s3.port, '/api/webEcho', { headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: many });
  eq('more than 1000 fields: form error', r.json.connectionError, 'There was an error processing this form.');
  r = await request(s3.port, '/api/webEcho', { headers: { 'Content-Type': 'application/json' }, body: '{"a":1}' });
  eq('saveRawBody off: rawBody empty', r.json.rawBody, '');
}

fs.rmSync(uploadDir, { recursive: true, force: true });
await done();
