// 51-tasks-crash-recovery.mjs - a job in progress when its process dies is
// not lost: it stays visible as in progress (the worker's working-on record,
// resque semantics); another server's scheduler finds the worker's stale
// ping (stuckWorkerTimeout), turns the job into a failure record and, with
// retryStuckJobs, puts it back in its queue, where a worker takes it.
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
const overrides = (tasks) => JSON.stringify({ redis: { enabled: true, host: '127.0.0.1', port: redisPort },
  general: { shutdownTimeout: 500 }, tasks });

// server A takes a long job, then dies
const a = await startServer({ env: { ACTIONHERO_CONFIG_OVERRIDES: overrides({ minTaskProcessors: 1, maxTaskProcessors: 1, timeout: 100, queues: ['default'] }) } });
const aWorker = `${os.hostname()}:${a.child.pid}+1`;
await queue.enqueue('default', 'testAsync', [{ ms: 2000, tag: 'survivor' }]);
const working = await until('A to take the job', async () => {
  const w = (await queue.allWorkingOn())[aWorker];
  return typeof w === 'object' ? w : null;
});
eq('A works on the job', working && working.payload, { class: 'testAsync', queue: 'default', args: [{ ms: 2000, tag: 'survivor' }] });
a.child.kill('SIGKILL');
await a.exited;
eq('after the crash the job is still visibly in progress',
  JSON.parse(await queue.workingOn(aWorker, 'default') || 'null')?.payload?.args, [{ ms: 2000, tag: 'survivor' }]);
eq('the dead worker is still registered', (await queue.workers())[aWorker], 'default');
eq('the queue is empty (the job is not lost, it is in progress)', await queue.length('default'), 0);

// server B: scheduler with a short stuckWorkerTimeout and retryStuckJobs
const b = await startServer({
  env: {
    ACTIONHERO_CONFIG_OVERRIDES: overrides({ minTaskProcessors: 1, maxTaskProcessors: 1, timeout: 100, queues: ['default'],
      scheduler: true, stuckWorkerTimeout: 1000, retryStuckJobs: true }),
  },
});
const bWorker = `${os.hostname()}:${b.child.pid}+1`;
const taken = await until('B to take the retried job', async () => {
  const w = (await queue.allWorkingOn())[bWorker];
  return typeof w === 'object' && w.payload?.args?.[0]?.tag === 'survivor' ? w : null;
}, 10000);
check('B runs the job of the dead worker', !!taken, await queue.allWorkingOn());
eq('the dead worker is gone', (await queue.workers())[aWorker], undefined);
eq('its keys are gone', [await queue.workingOn(aWorker, 'default')], [null]);
eq('the retried failure record was removed', await queue.failedCount(), 0);
eq('stat:failed counts the forced clean-up', (await queue.stats()).failed, '1');
b.child.kill('SIGKILL');
await b.exited;
await queue.end();
done();
