// 50-tasks-node-resque.mjs - tasks interoperate with node-resque 9 (the
// library Actionhero 29 uses) on one private redis-server:
//  - jobs enqueued by node-resque's Queue (at once and delayed) are run by
//    our worker (promoted by our scheduler), runAction included;
//  - our failure records, worker registration and leader lock read back
//    through node-resque's Queue, and node-resque's retryAndRemoveFailed
//    finds our records byte for byte;
//  - a graceful stop untracks our worker and releases the leader lock;
//  - jobs we enqueue (the `task enqueue` command, and enqueueIn from an
//    action) are run by a node-resque Worker (promoted by a node-resque
//    Scheduler) with the same args.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startRedis } from '../lib/redis.mjs';
import { startServer, check, eq, sleep, done, bin } from '../lib/lib.mjs';
import NR from 'node-resque';

const { Queue, Worker, Scheduler } = NR;

const redisServer = await startRedis(); // tests/lib/redis.mjs
const redisPort = redisServer.port;
const cli = redisServer.cli;

const connection = { host: '127.0.0.1', port: redisPort, namespace: 'resque' };
const queue = new Queue({ connection });
queue.on('error', () => {});
await queue.connect();

async function until(what, fn, ms = 8000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) { console.log(`# timed out waiting for ${what}`); return v; }
    await sleep(25);
  }
}

// ---------------------------------------------------------------- node -> C
const overrides = (tasks) => JSON.stringify({ redis: { enabled: true, host: '127.0.0.1', port: redisPort }, tasks });
const worker = await startServer({
  env: {
    ACTIONHERO_CONFIG_OVERRIDES: overrides({ minTaskProcessors: 1, maxTaskProcessors: 1, scheduler: true, timeout: 100, queues: ['default', 'failing'] }),
  },
});

const hostname = os.hostname();
const cWorker = await until('our worker in resque:workers', async () => {
  const w = await queue.workers();
  return Object.keys(w).find((k) => k.startsWith(`${hostname}:`) && k.endsWith('+1'));
});
check('our worker is registered as <host>:<pid>+1', !!cWorker, await queue.workers());
eq('with its queues string', (await queue.workers())[cWorker], 'default,failing');

const params = { key: 'interop:1', text: 'héllo "wörld" \u2028', n: [1, 2.5, -3], deep: { a: null, b: true } };
eq('node-resque enqueue', await queue.enqueue('default', 'testSetKey', [params]), true);
const stored = await until('the job to run', () => { const v = cli('GET', 'interop:1'); return v || null; });
eq('our worker ran the node-resque job with its args', JSON.parse(stored || 'null'), params);
eq('the queue is empty', await queue.length('default'), 0);

// delayed by node-resque, promoted by our scheduler
await queue.enqueueIn(50, 'default', 'testSetKey', [{ key: 'interop:2', delayed: true }]);
const stored2 = await until('the delayed job to run', () => cli('GET', 'interop:2') || null);
eq('a delayed node-resque job is promoted and run', JSON.parse(stored2 || 'null'), { key: 'interop:2', delayed: true });
eq('no delayed timestamps left', await queue.timestamps(), []);
eq('leader is our scheduler', await queue.leader(), `${hostname}:${worker.child.pid}`);

// runAction, enqueued the way Actionhero's task.enqueue does
const processed = Number((await queue.stats()).processed || 0);
await queue.enqueue('default', 'runAction', [{ action: 'randomNumber', params: {} }]);
await until('runAction to be processed', async () => Number((await queue.stats()).processed || 0) > processed);
check('runAction ran', Number((await queue.stats()).processed) > processed, await queue.stats());

await queue.enqueue('default', 'runAction', [{ action: 'noSuchAction' }]);
const failures = await until('a failure record', async () => { const f = await queue.failed(0, -1); return f.length ? f : null; });
const rec = failures && failures[0];
eq('failure record keys', rec && Object.keys(rec).sort(), ['backtrace', 'error', 'exception', 'failed_at', 'payload', 'queue', 'worker']);
eq('failure worker', rec && rec.worker, cWorker);
eq('failure queue', rec && rec.queue, 'default');
eq('failure payload', rec && rec.payload, { class: 'runAction', queue: 'default', args: [{ action: 'noSuchAction' }] });
eq('failure error', rec && rec.error, 'Error: unknown action or invalid apiVersion');
eq('failure exception', rec && rec.exception, 'Error');
check('failed_at parses as a date', rec && !Number.isNaN(Date.parse(rec.failed_at)) && Math.abs(Date.parse(rec.failed_at) - Date.now()) < 60000, rec);
check('backtrace is an array of strings', rec && Array.isArray(rec.backtrace) && rec.backtrace.every((l) => typeof l === 'string'), rec);
eq('failedCount', await queue.failedCount(), 1);
eq('stat:failed', (await queue.stats()).failed, '1');

// node-resque finds our record by its exact JSON and re-enqueues it
eq('retryAndRemoveFailed on our record', await queue.retryAndRemoveFailed(rec), true);
await until('the retried job to fail again', async () => (await queue.failedCount()) === 1);
eq('it failed again (one record)', await queue.failedCount(), 1);

// a job of a class we do not know
await queue.enqueue('failing', 'onlyInNode', [{ z: 1 }]);
const f2 = await until('the unknown-class failure', async () => { const f = await queue.failed(1, 1); return f.length ? f[0] : null; });
eq('unknown class error', f2 && f2.error, 'No job defined for class "onlyInNode"');

// graceful stop: the worker untracks, the leader lock is released
const stopped = await worker.stop();
eq('server exits 0 on SIGTERM', stopped && stopped.code, 0);
eq('our worker left resque:workers', Object.keys(await queue.workers()).filter((k) => k.startsWith(`${hostname}:${worker.child.pid}`)), []);
eq('leader lock released', await queue.leader(), null);
eq('no ping key left', cli('EXISTS', `resque:worker:ping:${cWorker}`), '0');

// ---------------------------------------------------------------- C -> node
const seen = [];
const jobs = {
  testEcho: { perform: async (p) => { seen.push(p); return 'ok'; } },
  testQueueLock: { plugins: ['QueueLock'], perform: async (p) => { seen.push({ locked: p }); return 'ok'; } },
};
// The `locked` queue gets its worker only once the lock has been checked:
// QueueLock's beforePerform deletes the lock, so a worker polling that queue
// could take the first copy (and free the lock) before the second enqueue.
const nodeWorker = new Worker({ connection, queues: ['default'], timeout: 50 }, jobs);
nodeWorker.on('error', () => {});
await nodeWorker.connect();
nodeWorker.start();
const lockWorker = new Worker({ connection, queues: ['locked'], timeout: 50 }, jobs);
lockWorker.on('error', () => {});
await lockWorker.connect();
const scheduler = new Scheduler({ connection, timeout: 50 });
scheduler.on('error', () => {});
await scheduler.connect();

const env = { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'info', ACTIONHERO_CONFIG_OVERRIDES: overrides({}) };
const tmp = mkdtempSync(path.join(os.tmpdir(), 'ah-cli-'));
let out = '';
try {
  out = execFileSync(bin, ['task', 'enqueue', '--name', 'testEcho', '--args', '{"from":"c","list":[1,"two",{"x":null}]}'],
    { cwd: worker.dir, env, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
} catch (e) { out = `${e.stdout}${e.stderr}`; }
check('task enqueue logs enqueued: true', /enqueued: true/.test(out), out);
await until('the node worker to run our job', () => seen.length >= 1);
eq('node-resque ran our job with our args', seen[0], { from: 'c', list: [1, 'two', { x: null }] });

let bad = '';
try { execFileSync(bin, ['task', 'enqueue', '--name', 'nope'], { cwd: worker.dir, env, stdio: ['ignore', 'pipe', 'pipe'] }); } catch (e) { bad = `${e.status} ${e.stderr}`; }
check('unknown task: exit 1, Task "nope" not found', /^1 /.test(bad) && bad.includes('Task "nope" not found'), bad);

// our plugin keys work with node-resque's: QueueLock taken by us, released by the node worker
const noWorkers = await startServer({
  env: { ACTIONHERO_CONFIG_OVERRIDES: overrides({ minTaskProcessors: 0, scheduler: false }), AUTOMATIC_ROUTES: 'get' },
});
const act = async (p) => (await fetch(`${noWorkers.url}/api/taskEnqueueTest?${new URLSearchParams(p)}`)).json();
eq('enqueue with QueueLock', (await act({ task: 'testQueueLock', inputs: '{"q":1}' })).enqueued, true);
eq('a second copy is vetoed by the lock', (await act({ task: 'testQueueLock', inputs: '{"q":1}' })).enqueued, false);
eq('the lock is held while the job waits', cli('EXISTS', 'resque:lock:testQueueLock:locked:[{"q":1}]'), '1');
eq('one copy in the queue', await queue.length('locked'), 1);
lockWorker.start();
await until('the node worker to run the locked job', () => seen.length >= 2);
eq('node ran it', seen[1], { locked: { q: 1 } });
eq('node-resque QueueLock released our lock', cli('EXISTS', 'resque:lock:testQueueLock:locked:[{"q":1}]'), '0');

// delayed by us (enqueueIn from an action), promoted by node-resque's scheduler
eq('enqueueIn from an action', (await act({ task: 'testEcho', inputs: '{"later":true}', in: '10' })).enqueued, true);
check('it is in the delayed set', (await queue.timestamps()).length === 1, await queue.allDelayed());
await scheduler.start();
await until('node-resque to promote and run our delayed job', () => seen.length >= 3);
eq('node-resque ran our delayed job', seen[2], { later: true });

await scheduler.end();
await lockWorker.end();
await nodeWorker.end();
await queue.end();
rmSync(tmp, { recursive: true, force: true });
done();
