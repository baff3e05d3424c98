// X-Forwarded-For / X-Forwarded-Port with bytes that are not printable
// ASCII still give a remoteIP / remotePort (as text), never a missing key.
import { startServer, rawRequest, check, done } from '../lib/lib.mjs';

const srv = await startServer();
const req = Buffer.concat([
  Buffer.from('GET /api/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Forwarded-For: '),
  Buffer.from([0xff, 0xfe, 0x80]),
  Buffer.from('\r\n\r\n'),
]);
const r = await rawRequest(srv.port, req, { timeout: 3000 });
check('answered 200', /^HTTP\/1\.1 200 /.test(r.data), r.data.slice(0, 200));
const body = r.data.slice(r.data.indexOf('\r\n\r\n') + 4);
let j = {};
try { j = JSON.parse(body); } catch { /* checked below */ }
check('requesterInformation.remoteIP is present', typeof (j.requesterInformation || {}).remoteIP === 'string', body.slice(0, 600));
check('and printable', /^[\x20-\x7e]+$/.test((j.requesterInformation || {}).remoteIP || ''), j.requesterInformation);
await done();
