// 52-tasks-two-servers.mjs - two actionhero-c servers with workers and a
// scheduler on one redis-server: every job (enqueued at once or delayed) runs
// exactly once, exactly one scheduler holds the leader lock, the per-worker
// counts add up, and a stop untracks every worker.
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { startRedis } from '../lib/redis.mjs';
import { startServer, check, eq, sleep, done } from '../lib/lib.mjs';
import NR from 'node-resque';

const { Queue } = NR;

const redisServer = await startRedis(); // tests/lib/redis.mjs
const redisPort = redisServer.port;
const queue = new Queue({ connection: { host: '127.0.0.1', port: redisPort } });
queue.on('error', () => {});
for (let i = 0; i < 100; i++) {
  try { await queue.connect(); break; } catch { await sleep(50); }
}
async function until(what, fn, ms = 8000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) { console.log(`# timed out waiting for ${what}`); return v; }
    await sleep(25);
  }
}

const overrides = JSON.stringify({
  redis: { enabled: true, host: '127.0.0.1', port: redisPort },
  tasks: { minTaskProcessors: 2, maxTaskProcessors: 2, timeout: 50, scheduler: true, queues: ['default'] },
});
const s1 = await startServer({ env: { ACTIONHERO_CONFIG_OVERRIDES: overrides } });
const s2 = await startServer({ env: { ACTIONHERO_CONFIG_OVERRIDES: overrides } });
const host = os.hostname();
const names = [`${host}:${s1.child.pid}`, `${host}:${s2.child.pid}`];

await until('four workers', async () => Object.keys(await queue.workers()).length === 4);
eq('two workers per server', Object.keys(await queue.workers()).map((w) => w.replace(/\+\d$/, '')).sort(), [...names, ...names].sort());
const leader = await until('a leader', () => queue.leader());
check('one of the two servers is the leader', names.includes(leader), { leader, names });

const N = 40;
const D = 10;
for (let i = 0; i < N; i++) await queue.enqueue('default', 'testIncr', [{ key: `count:${i}` }]);
for (let i = 0; i < D; i++) await queue.enqueueIn(10 * i, 'default', 'testIncr', [{ key: `delayed:${i}` }]);
await until('every job to run', async () => Number((await queue.stats()).processed || 0) >= N + D);
await sleep(300);
const cli = (...args) => execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(redisPort), ...args]).toString().trim();
const counts = cli('MGET', ...Array.from({ length: N }, (_, i) => `count:${i}`)).split('\n');
eq('each job ran exactly once', counts.filter((c) => c === '1').length, N);
const dcounts = cli('MGET', ...Array.from({ length: D }, (_, i) => `delayed:${i}`)).split('\n');
eq('each delayed job ran exactly once', dcounts.filter((c) => c === '1').length, D);
eq('processed', (await queue.stats()).processed, String(N + D));
const per = Object.entries(await queue.stats()).filter(([k]) => k.startsWith('processed:'));
const byServer = names.map((n) => per.filter(([k]) => k.startsWith(`processed:${n}+`)).reduce((s, [, v]) => s + Number(v), 0));
eq('per-worker counts add up', byServer[0] + byServer[1], N + D);
eq('the leader did not change', await queue.leader(), leader);
eq('nothing failed', await queue.failedCount(), 0);

await s1.stop();
await s2.stop();
eq('every worker untracked itself', await queue.workers(), {});
eq('the leader lock is released', await queue.leader(), null);
await queue.end();
done();
