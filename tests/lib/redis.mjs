// tests/lib/redis.mjs - a private redis-server for Node integration tests,
// on 127.0.0.1, on a free port, without persistence, removed on exit.
//
//   import { startRedis } from '../lib/redis.mjs';
//   const redis = await startRedis();      // prints `not ok` and exits 1 if missing
//   redis.port; redis.cli('GET', 'k');     // redis-cli output, trimmed
//   await redis.kill();                    // SIGKILL, wait for the port to be free
//   await redis.restart();                 // same port, same (empty) data dir
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, sleep } from './lib.mjs';

export function haveRedis() {
  try {
    execFileSync('redis-server', ['--version']);
    execFileSync('redis-cli', ['--version']);
    return true;
  } catch { return false; }
}

export async function startRedis() {
  if (!haveRedis()) {
    console.log('not ok - redis-server is not installed (make test installs it)');
    process.exit(1);
  }
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ah-redis-'));
  let child = null;
  const cli = (...args) => execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args],
    { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  const ping = () => { try { return cli('ping') === 'PONG'; } catch { return false; } };
  async function up() {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--dir', dir, '--daemonize', 'no'], { stdio: 'ignore' });
    for (let i = 0; i < 200; i++) {
      if (ping()) return;
      await sleep(25);
    }
    throw new Error(`redis-server did not start on port ${port}`);
  }
  async function kill() {
    if (!child) return;
    const c = child;
    child = null;
    const gone = new Promise((r) => c.on('exit', r));
    c.kill('SIGKILL');
    await gone;
    for (let i = 0; i < 100 && ping(); i++) await sleep(20);
  }
  await up();
  process.on('exit', () => { if (child) child.kill('SIGKILL'); rmSync(dir, { recursive: true, force: true }); });
  return { port, cli, ping, kill, restart: up, get pid() { return child && child.pid; } };
}
