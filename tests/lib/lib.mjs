// tests/lib/lib.mjs - helpers for integration tests written for Node.
//
//   import { startServer, check, done } from '../lib/lib.mjs';
//   const srv = await startServer({ env: { FOO: '1' }, args: [] });
//   check('name', got === want, { got, want });
//   await srv.stop(); done();
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const top = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const bin = process.env.AH_BIN || path.join(top, 'build/actionhero-test');
let failures = 0;
const servers = [];

export function check(name, cond, detail) {
  if (cond) { console.log(`ok - ${name}`); return true; }
  failures++;
  console.log(`not ok - ${name}`);
  if (detail !== undefined) {
    for (const line of JSON.stringify(detail, null, 1).split('\n').slice(0, 20)) console.log(`#   ${line}`);
  }
  return false;
}
export function eq(name, got, want) {
  return check(name, JSON.stringify(got) === JSON.stringify(want), { got, want });
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
    s.on('error', reject);
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Start the server in a fresh project dir (copies of config/ and public/).
export async function startServer({ env = {}, args = [], files = {} } = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ah-'));
  cpSync(path.join(top, 'config'), path.join(dir, 'config'), { recursive: true });
  cpSync(path.join(top, 'public'), path.join(dir, 'public'), { recursive: true });
  for (const [rel, content] of Object.entries(files)) {
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), content);
  }
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const logFile = path.join(dir, 'server.log');
  let log = '';
  const child = spawn(bin, ['start', '--bindIP=127.0.0.1', ...args], {
    cwd: dir,
    env: { ...process.env, NODE_ENV: 'test', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const srv = {
    port, dir, child, exited, logFile,
    url: `http://127.0.0.1:${port}`,
    get log() { return log; },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const r = await Promise.race([exited, sleep(10000).then(() => null)]);
      if (!r) child.kill('SIGKILL');
      return r;
    },
    cleanup() { rmSync(dir, { recursive: true, force: true }); },
  };
  servers.push(srv);
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) break;
    const up = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (up) return srv;
    await sleep(25);
  }
  throw new Error(`server did not start:\n${log}`);
}

// Send raw bytes, collect everything until the server closes (or timeout).
export function rawRequest(port, chunks, { timeout = 3000, halfClose = false, delay = 0 } = {}) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    let closed = false;
    const t = setTimeout(() => { s.destroy(); resolve({ data: data.toString('latin1'), closed }); }, timeout);
    s.on('connect', async () => {
      for (const c of [].concat(chunks)) {
        s.write(c);
        if (delay) await sleep(delay);
      }
      if (halfClose) s.end();
    });
    s.on('data', (d) => { data = Buffer.concat([data, d]); });
    s.on('error', () => {});
    s.on('close', () => { closed = true; clearTimeout(t); resolve({ data: data.toString('latin1'), closed }); });
  });
}

export async function done() {
  for (const s of servers) { await s.stop(); s.cleanup(); }
  if (process.env.AH_BIN && /asan/.test(process.env.AH_BIN)) {
    // sanitizer reports land in the server log
    for (const s of servers) {
      if (/Sanitizer|runtime error:/.test(s.log)) {
        failures++;
        console.log('not ok - sanitizer report in server log');
        console.log(s.log.split('\n').filter((l) => /Sanitizer|runtime error|#\d/.test(l)).slice(0, 30).map((l) => `#   ${l}`).join('\n'));
      }
    }
  }
  process.exit(failures ? 1 : 0);
}

export function readLog(srv) { try { return readFileSync(srv.logFile, 'utf8'); } catch { return srv.log; } }
