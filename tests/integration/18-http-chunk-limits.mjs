// Chunked bodies: a chunk announcing more than web.maxBodyBytes is refused
// before its bytes arrive, and chunk extensions are bounded (16 KiB).
import { startServer, rawRequest, check, done } from '../lib/lib.mjs';

const srv = await startServer({ args: ['--set=web.maxBodyBytes=1000'] });
const head = 'POST /api/status HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n';

let r = await rawRequest(srv.port, head + '7fffffffffffffff\r\n', { timeout: 3000 });
check('a huge chunk size gets 413 at once', /^HTTP\/1\.1 413 /.test(r.data), r.data.slice(0, 200));
check('and the connection is closed', r.closed);

r = await rawRequest(srv.port, head + '3e9\r\n', { timeout: 3000 });
check('a chunk one byte over the limit gets 413', /^HTTP\/1\.1 413 /.test(r.data), r.data.slice(0, 200));

r = await rawRequest(srv.port, head + '5;' + 'a'.repeat(20000) + '\r\nhello\r\n0\r\n\r\n', { timeout: 3000 });
check('20 KB of chunk extensions get 413', /^HTTP\/1\.1 413 /.test(r.data), r.data.slice(0, 200));
check('naming the problem', r.data.includes('chunk extensions too large'), r.data.slice(0, 400));

r = await rawRequest(srv.port, head + '2;a=b\r\n{}\r\n0\r\n\r\n', { timeout: 1500 });
check('a small chunked body with an extension is answered normally', /^HTTP\/1\.1 404 /.test(r.data), r.data.slice(0, 200));
await done();
