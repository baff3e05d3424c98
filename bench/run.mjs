// bench/run.mjs - the benchmark harness (bench/README.md); bench/run.sh
// installs what it needs and starts this.
//
//   node bench/run.mjs [--smoke] [--rounds=N] [--seconds=S] [--only=ID,ID]
//                      [--skip=ID,ID] [--ah-bin=PATH] [--no-big] [--json=PATH]
//
// Each scenario runs against actionhero-c, Actionhero 29 (bench/peer on
// bench/node_modules) and, for HTTP, the floor server (bench/floor), in turn
// (A B A B ...), the servers pinned to core 0 and the load generators (wrk,
// build/bench/wsload) to core 1.  The server's CPU time per request comes
// from /proc/<pid>/stat (utime + stime) before and after each run, and its
// write syscalls per request from /proc/<pid>/io.  One table is printed and
// written as JSON to bench/results/<timestamp>.json.
//
// A server that cannot run a scenario (it does not start, the route is
// missing, the room cannot be joined) gets "n/a" with the reason; nothing
// else is skipped.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const TOP = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const ARGS = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
    if (!m) {
      console.error(`bench: unknown argument '${a}'`);
      process.exit(64);
    }
    return [m[1], m[2] ?? true];
  }),
);
const SMOKE = !!ARGS.smoke;
// --callgrind: actionhero-c alone, under valgrind --tool=callgrind, one
// fresh server and one round per scenario, instructions collected only
// during the measured run; prints the top functions per scenario.
const CALLGRIND = !!ARGS.callgrind;
const ROUNDS = CALLGRIND ? 1 : Number(ARGS.rounds ?? (SMOKE ? 1 : 3));
const SECONDS = Number(ARGS.seconds ?? (SMOKE ? 2 : 10));
const WARMUP = SMOKE || CALLGRIND ? 0 : Number(ARGS.warmup ?? 2);
const SETTLE_MS = SMOKE ? 300 : 1000; // quiet time before memory is read
const ONLY = ARGS.only ? String(ARGS.only).split(",") : null;
const SKIP = ARGS.skip ? String(ARGS.skip).split(",") : [];
const AH_BIN = path.resolve(ARGS["ah-bin"] ?? path.join(TOP, "build/actionhero"));
const WSLOAD = path.join(TOP, "build/bench/wsload");
const FANOUT_FLOOR = path.join(TOP, "build/bench/fanout-floor");
const FLOOR = path.join(TOP, "build/bench/floor");
const PEER = path.join(TOP, "bench/peer/server.js");
const NCPU = os.cpus().length;
const SERVER_CPU = "0";
const LOAD_CPU = NCPU > 1 ? "1" : "0";
const KEEP = []; // run directories, removed at exit
const LOG_PROBLEMS = []; // sanitizer reports found in server logs
const CHILDREN = new Set();

const log = (...a) => console.error("#", ...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const has = (cmd) => spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;

// ---------------------------------------------------------------- processes

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

// Start `argv` pinned to `cpu` with a raised open-files limit; returns the
// ChildProcess (its pid is the program's: sh execs taskset, which execs it).
function startPinned(argv, { cpu, cwd, env, out, nofile = 65536 }) {
  const q = (s) => `'${String(s).replace(/'/g, "'\\''")}'`;
  const script = `ulimit -n ${nofile} 2>/dev/null || ulimit -n $(ulimit -Hn); exec taskset -c ${cpu} ${argv.map(q).join(" ")}`;
  const fd = fs.openSync(out, "a");
  const child = spawn("sh", ["-c", script], { cwd, env: { ...process.env, ...env }, stdio: ["ignore", fd, fd] });
  fs.closeSync(fd);
  CHILDREN.add(child);
  child.on("exit", () => CHILDREN.delete(child));
  return child;
}

async function stopChild(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  const t = setTimeout(() => child.kill("SIGKILL"), 8000);
  await done;
  clearTimeout(t);
}

// Run a load generator to completion (pinned to the load core); resolves
// with {code, stdout, stderr}.
function runLoad(argv, { nofile = 65536, timeoutMs = 600000 } = {}) {
  return new Promise((resolve) => {
    const q = (s) => `'${String(s).replace(/'/g, "'\\''")}'`;
    const script = `ulimit -n ${nofile} 2>/dev/null || ulimit -n $(ulimit -Hn); exec taskset -c ${LOAD_CPU} ${argv.map(q).join(" ")}`;
    const child = spawn("sh", ["-c", script], { stdio: ["ignore", "pipe", "pipe"] });
    CHILDREN.add(child);
    let stdout = "",
      stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const t = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("exit", (code, sig) => {
      clearTimeout(t);
      CHILDREN.delete(child);
      resolve({ code: code ?? 128, signal: sig, stdout, stderr });
    });
  });
}

function procSample(pid) {
  const r = { cpu_us: NaN, user_us: NaN, sys_us: NaN, syscr: NaN, syscw: NaN, rss_kb: NaN };
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // f[0] is field 3 (state): utime is field 14, stime 15
    const hz = 100; // USER_HZ on Linux
    r.user_us = (Number(f[11]) * 1e6) / hz;
    r.sys_us = (Number(f[12]) * 1e6) / hz;
    r.cpu_us = r.user_us + r.sys_us;
  } catch {}
  try {
    const io = fs.readFileSync(`/proc/${pid}/io`, "utf8");
    r.syscr = Number(/syscr: (\d+)/.exec(io)[1]);
    r.syscw = Number(/syscw: (\d+)/.exec(io)[1]);
  } catch {}
  try {
    const st = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    r.rss_kb = Number(/VmRSS:\s+(\d+)/.exec(st)[1]);
  } catch {}
  return r;
}

async function httpGet(port, p, timeoutMs = 2000) {
  const ctl = new AbortController();
  const t = setTimeout(() => ctl.abort(), timeoutMs);
  try {
    const res = await fetch(`http://127.0.0.1:${port}${p}`, { signal: ctl.signal });
    return { status: res.status, body: await res.text() };
  } finally {
    clearTimeout(t);
  }
}

// ------------------------------------------------------------------ servers

let redis = null; // {child, port}

async function startRedis() {
  if (!has("redis-server")) return null;
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-redis-"));
  KEEP.push(dir);
  const child = startPinned(
    ["redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir],
    { cpu: SERVER_CPU, cwd: dir, env: {}, out: path.join(dir, "redis.log") },
  );
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise((r) => {
      const s = net.connect(port, "127.0.0.1", () => {
        s.end();
        r(true);
      });
      s.on("error", () => r(false));
    });
    if (ok) return { child, port };
    await sleep(50);
  }
  await stopChild(child);
  return null;
}

const SERVERS = {
  c: { label: "actionhero-c" },
  node: { label: "Actionhero" },
  floor: { label: "floor" },
};

function availability() {
  const why = {};
  if (!fs.existsSync(AH_BIN)) why.c = `${path.relative(TOP, AH_BIN)} is not built`;
  if (!fs.existsSync(path.join(TOP, "bench/node_modules/actionhero/package.json")))
    why.node = "actionhero@29 is not installed in bench/node_modules";
  else if (!redis) why.node = "redis-server is not available";
  if (!fs.existsSync(FLOOR)) why.floor = "build/bench/floor is not built";
  else if (!fs.existsSync(FANOUT_FLOOR)) why.floor = "build/bench/fanout-floor is not built";
  return why;
}

// Stop a server and look at its log for sanitizer reports (an ASan build
// of actionhero-c can be benchmarked too: --ah-bin=build/asan/actionhero).
async function stopServer(srv) {
  await stopChild(srv.child);
  if (CALLGRIND && srv.kind === "c") saveProfile(srv);
  try {
    const text = fs.readFileSync(path.join(srv.dir, "server.log"), "utf8");
    const m = /(ERROR: \w+Sanitizer.*|runtime error:.*)/.exec(text);
    if (m) {
      LOG_PROBLEMS.push({ server: srv.kind, env: srv.env, line: m[1].slice(0, 300) });
      log(`${SERVERS[srv.kind].label} log: ${m[1].slice(0, 300)}`);
    }
  } catch {}
}

// The profile of a callgrind run: kept under bench/results/, summarised
// with callgrind_annotate (exclusive instructions per function).
let CURRENT_SCENARIO = null;
const PROFILES = [];

// Calls per function name in a callgrind output file (names are compressed:
// "cfn=(12) name" the first time, "cfn=(12)" after; "calls=N" follows).
function callCounts(file) {
  const names = new Map(),
    calls = {};
  let pending = null;
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    let m;
    if ((m = /^c?fn=\((\d+)\)(?: (.*))?$/.exec(line))) {
      if (m[2]) names.set(m[1], m[2]);
      pending = line.startsWith("cfn") ? names.get(m[1]) : null;
    } else if (pending && (m = /^calls=(\d+)/.exec(line))) {
      calls[pending] = (calls[pending] ?? 0) + Number(m[1]);
      pending = null;
    }
  }
  return calls;
}

// The function called once per unit of work of each scenario.
const UNIT_FN = {
  "http-prod": "http_request_run",
  "http-dev": "http_request_run",
  "http-pipeline": "http_request_run",
  static: "http_request_run",
  "ws-rt": "dispatch_action_ex",
  fanout: "ws_conn_send",
  "fanout-idle": "ws_conn_send",
};

function saveProfile(srv) {
  const src = path.join(srv.dir, "callgrind.out");
  if (!fs.existsSync(src)) return;
  const id = CURRENT_SCENARIO?.id ?? "run";
  const dst = path.join(TOP, "bench/results", `callgrind.${id}.${new Date().toISOString().replace(/[:.]/g, "-")}.out`);
  fs.mkdirSync(path.dirname(dst), { recursive: true });
  fs.copyFileSync(src, dst);
  const a = spawnSync("callgrind_annotate", ["--inclusive=no", "--threshold=99", dst], { encoding: "utf8" });
  const inc = spawnSync("callgrind_annotate", ["--inclusive=yes", "--threshold=99", dst], { encoding: "utf8" });
  fs.writeFileSync(dst.replace(/\.out$/, ".txt"), `${a.stdout}\n\n==== inclusive ====\n${inc.stdout}`);
  PROFILES.push({ scenario: id, file: path.relative(TOP, dst), self: a.stdout, inclusive: inc.stdout, calls: callCounts(dst) });
}

// A scratch project directory: config/ (actionhero-c), public/simple.html.
function runDir(kind) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `bench-${kind}-`));
  KEEP.push(dir);
  fs.mkdirSync(path.join(dir, "public"));
  fs.copyFileSync(path.join(TOP, "public/simple.html"), path.join(dir, "public/simple.html"));
  if (kind === "c") {
    fs.cpSync(path.join(TOP, "config"), path.join(dir, "config"), { recursive: true });
    const routesFile = path.join(dir, "config/routes.json");
    const routes = JSON.parse(fs.readFileSync(routesFile, "utf8"));
    routes.get = [...(routes.get ?? []), { path: "/random", action: "randomNumber" }];
    fs.writeFileSync(routesFile, JSON.stringify(routes, null, 2));
  }
  return dir;
}

// Start one server; resolves {kind, pid, port, child, dir} or throws an Error
// whose message says why it is not available.
async function startServer(kind, { env = "production", maxConnections } = {}) {
  const port = await freePort();
  const dir = runDir(kind);
  const out = path.join(dir, "server.log");
  let child;
  if (kind === "c") {
    const overrides = { general: { startingChatRooms: { benchRoom: {} } } };
    if (maxConnections) overrides.web = { maxConnections };
    const cg = CALLGRIND
      ? ["valgrind", "--tool=callgrind", "--instr-atstart=no", `--callgrind-out-file=${path.join(dir, "callgrind.out")}`]
      : [];
    child = startPinned([...cg, AH_BIN, "start", "--bindIP=127.0.0.1", `--port=${port}`], {
      cpu: SERVER_CPU,
      cwd: dir,
      out,
      nofile: 200000,
      env: { NODE_ENV: env, ACTIONHERO_CONFIG_OVERRIDES: JSON.stringify(overrides) },
    });
  } else if (kind === "node") {
    child = startPinned([process.execPath, PEER], {
      cpu: SERVER_CPU,
      cwd: dir,
      out,
      nofile: 200000,
      env: { NODE_ENV: env, PORT: String(port), REDIS_PORT: String(redis.port), REDIS_HOST: "127.0.0.1" },
    });
  } else {
    child = startPinned([FLOOR, port], { cpu: SERVER_CPU, cwd: dir, out, nofile: 200000, env: {} });
  }
  const deadline = Date.now() + (kind === "node" || CALLGRIND ? 60000 : 10000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    try {
      await httpGet(port, "/", 1000);
      return { kind, pid: child.pid, port, child, dir, env };
    } catch {}
    await sleep(100);
  }
  const exited = child.exitCode !== null || child.signalCode !== null;
  await stopChild(child);
  const tail = fs.readFileSync(out, "utf8").trim().split("\n").slice(-3).join(" | ");
  throw new Error(
    exited
      ? `exited at start (${tail.slice(0, 200)})`
      : `does not answer HTTP on its port (not available)`,
  );
}

// ------------------------------------------------------------- load tools

// Lines the server logged since the last call (its log is then emptied, so
// that long runs do not fill the disk; the server appends with O_APPEND).
function callgrindControl(srv, onoff) {
  spawnSync("callgrind_control", ["-i", onoff, String(srv.pid)], { stdio: "ignore" });
}

function logLines(srv) {
  const file = path.join(srv.dir, "server.log");
  let n = 0;
  try {
    const buf = fs.readFileSync(file);
    const m = /(ERROR: \w+Sanitizer.*|runtime error:.*)/.exec(buf.includes("Sanitizer") || buf.includes("runtime error:") ? buf.toString() : "");
    if (m) {
      LOG_PROBLEMS.push({ server: srv.kind, env: srv.env, line: m[1].slice(0, 300) });
      log(`${SERVERS[srv.kind].label} log: ${m[1].slice(0, 300)}`);
    }
    for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) n++;
    fs.truncateSync(file, 0);
  } catch {}
  return n;
}

function parseWrkTime(s) {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(s);
  if (!m) return NaN;
  return Number(m[1]) * { us: 1e-3, ms: 1, s: 1e3, m: 6e4 }[m[2]];
}

async function wrk(srv, urlPath, { seconds, script, connections = 64 }) {
  const args = ["wrk", "-t1", `-c${connections}`, `-d${seconds}s`, "--latency"];
  if (script) args.push("-s", script);
  args.push(`http://127.0.0.1:${srv.port}${urlPath}`);
  logLines(srv);
  if (CALLGRIND) callgrindControl(srv, "on");
  const before = procSample(srv.pid);
  const r = await runLoad(args, { timeoutMs: (seconds + 30) * 1000 });
  const after = procSample(srv.pid);
  if (CALLGRIND) callgrindControl(srv, "off");
  const lines = logLines(srv);
  if (r.code !== 0) throw new Error(`wrk failed: ${(r.stderr || r.stdout).trim().slice(0, 200)}`);
  const out = r.stdout;
  const total = Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const errs = /Socket errors: (.*)/.exec(out)?.[1];
  const lat = {};
  for (const m of out.matchAll(/^\s+(50|75|90|99)%\s+(\S+)$/gm)) lat[m[1]] = parseWrkTime(m[2]);
  if (!(total > 0)) throw new Error(`wrk measured nothing: ${out.trim().slice(0, 200)}`);
  if (non2xx > total * 0.01) throw new Error(`${non2xx} of ${total} responses were not 2xx`);
  return {
    rps,
    requests: total,
    p50_ms: lat["50"],
    p99_ms: lat["99"],
    cpu_us_per_req: (after.cpu_us - before.cpu_us) / total,
    user_us_per_req: (after.user_us - before.user_us) / total,
    sys_us_per_req: (after.sys_us - before.sys_us) / total,
    // every write(2): socket writes and log writes.  Actionhero writes
    // each log line with its own write; actionhero-c collects the lines of
    // one loop iteration into one write, so the two cannot be told apart
    // from /proc and are reported together.
    writes_per_req: (after.syscw - before.syscw) / total,
    log_lines_per_req: lines / total,
    reads_per_req: (after.syscr - before.syscr) / total,
    socket_errors: errs ?? null,
    rss_kb: after.rss_kb,
  };
}

async function wsload(srv, mode, opts, { nofile = 65536 } = {}) {
  const args = [WSLOAD, mode, "--port", srv.port, "--pid", srv.pid];
  if (CALLGRIND) args.push("--instrument", "1", "--timeout", "900");
  for (const [k, v] of Object.entries(opts)) args.push(`--${k}`, v);
  const r = await runLoad(args, { nofile, timeoutMs: 900000 });
  let res;
  try {
    res = JSON.parse(r.stdout.trim().split("\n").pop());
  } catch {
    throw new Error(`wsload ${mode} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().slice(0, 200)}`);
  }
  if (res.error) throw new Error(`wsload ${mode}: ${res.error}`);
  return res;
}

// ---------------------------------------------------------------- scenarios

const HTTP_SERVERS = ["c", "node", "floor"];
// What one fully used core would serve: 1e6 / (server CPU µs per request).
// On a shared machine the measured req/s depend on what else runs on the
// server's core; this does not (much).
const PER_CORE_REQ = {
  key: "per_core",
  label: "req/s per core (1e6 / CPU µs)",
  better: "higher",
  derive: (r) => 1e6 / r.cpu_us_per_req,
};
const WS_SERVERS = ["c", "node"];
const pipelineLua = path.join(TOP, "bench/pipeline.lua");

async function probeRandom(srv) {
  if (srv.kind === "floor") return;
  const r = await httpGet(srv.port, "/api/random");
  if (r.status !== 200 || !r.body.includes("randomNumber"))
    throw new Error(`GET /api/random answered ${r.status} (not available)`);
}

async function probeStatic(srv) {
  if (srv.kind === "floor") return;
  const r = await httpGet(srv.port, "/public/simple.html");
  if (r.status !== 200) throw new Error(`GET /public/simple.html answered ${r.status} (not available)`);
}

const big = (n, smallN) => (SMOKE ? smallN : n);

// Each scenario: servers, how they start (env; a fresh server for every run
// when `fresh`), a probe, one measured run, and the metrics shown.  Metric
// `better`: "higher" or "lower".
const SCENARIOS = [
  {
    id: "http-prod",
    title: "HTTP keep-alive, randomNumber via a route, production config (wrk -t1 -c64)",
    servers: HTTP_SERVERS,
    env: "production",
    probe: probeRandom,
    run: (s) => wrk(s, "/api/random", { seconds: SECONDS }),
    warm: (s) => wrk(s, "/api/random", { seconds: WARMUP }),
    metrics: [
      { key: "rps", label: "req/s", better: "higher" },
      PER_CORE_REQ,
      { key: "cpu_us_per_req", label: "server CPU µs/req", better: "lower" },
      { key: "sys_us_per_req", label: "  of which kernel µs", better: "lower" },
      { key: "p99_ms", label: "p99 ms", better: "lower" },
      { key: "writes_per_req", label: "write(2) calls/req (socket + log)", better: "lower" },
      { key: "log_lines_per_req", label: "log lines/req", better: "lower" },
    ],
    targets: (t) => [
      t.ratio("per_core", "node", ">=", 20, "≥ 20× Actionhero's req/s (per core: 1e6 / CPU µs per request)"),
      t.ratio("cpu_us_per_req", "floor", "<=", 1.3, "CPU/req ≤ 1.3× the floor's"),
      t.abs("p99_ms", "<=", 3, "p99 ≤ 3 ms"),
    ],
  },
  {
    id: "http-dev",
    title: "HTTP keep-alive, randomNumber via a route, development config (padded JSON, metadata)",
    servers: HTTP_SERVERS,
    env: "development",
    probe: probeRandom,
    run: (s) => wrk(s, "/api/random", { seconds: SECONDS }),
    warm: (s) => wrk(s, "/api/random", { seconds: WARMUP }),
    metrics: [
      { key: "rps", label: "req/s", better: "higher" },
      { key: "cpu_us_per_req", label: "server CPU µs/req", better: "lower" },
      { key: "p99_ms", label: "p99 ms", better: "lower" },
    ],
    targets: (t) => [t.ratio("cpu_us_per_req", "floor", "<=", 1.6, "CPU/req ≤ 1.6× the floor's")],
  },
  {
    id: "http-pipeline",
    title: "HTTP pipelining, 16 requests per write (wrk -t1 -c64, bench/pipeline.lua)",
    servers: HTTP_SERVERS,
    env: "production",
    probe: probeRandom,
    run: (s) => wrk(s, "/api/random", { seconds: SECONDS, script: pipelineLua }),
    warm: (s) => wrk(s, "/api/random", { seconds: WARMUP, script: pipelineLua }),
    metrics: [
      { key: "rps", label: "req/s", better: "higher" },
      PER_CORE_REQ,
      { key: "cpu_us_per_req", label: "server CPU µs/req", better: "lower" },
      { key: "writes_per_req", label: "write(2) calls/req (socket + log)", better: "lower" },
      { key: "log_lines_per_req", label: "log lines/req", better: "lower" },
    ],
    targets: (t) => [
      t.abs("per_core", ">=", 300000, "≥ 300k req/s (per core: 1e6 / CPU µs per request)"),
      t.abs("writes_per_req", "<=", 2.2 / 16, "responses batched: one socket write (and one log write) per 16-request read"),
    ],
  },
  {
    id: "static",
    title: "static file /public/simple.html, keep-alive (wrk -t1 -c64)",
    servers: HTTP_SERVERS,
    env: "production",
    probe: probeStatic,
    run: (s) => wrk(s, "/public/simple.html", { seconds: SECONDS }),
    warm: (s) => wrk(s, "/public/simple.html", { seconds: WARMUP }),
    metrics: [
      { key: "rps", label: "req/s", better: "higher" },
      { key: "cpu_us_per_req", label: "server CPU µs/req", better: "lower" },
      { key: "p99_ms", label: "p99 ms", better: "lower" },
    ],
    targets: (t) => [t.ratio("cpu_us_per_req", "floor", "<=", 1.3, "CPU/req ≤ 1.3× the floor's")],
  },
  {
    id: "ws-rt",
    title: "WebSocket action round trips, 100 sockets, one randomNumber in flight each",
    servers: WS_SERVERS,
    env: "production",
    run: async (s) => {
      const r = await wsload(s, "rt", { sockets: 100, seconds: SECONDS, warmup: SMOKE ? 0.5 : WARMUP || 1 });
      return {
        rate: r.rate,
        cpu_us_per_action: r.cpu_us / r.count,
        sys_us_per_action: r.sys_us / r.count,
        p50_us: r.p50_us,
        p99_us: r.p99_us,
        writes_per_action: r.syscw / r.count,
        errors: r.errors,
        count: r.count,
      };
    },
    metrics: [
      { key: "rate", label: "actions/s", better: "higher" },
      { key: "per_core", label: "actions/s per core (1e6 / CPU µs)", better: "higher", derive: (r) => 1e6 / r.cpu_us_per_action },
      { key: "cpu_us_per_action", label: "server CPU µs/action", better: "lower" },
      { key: "sys_us_per_action", label: "  of which kernel µs", better: "lower" },
      { key: "p50_us", label: "p50 µs", better: "lower" },
      { key: "p99_us", label: "p99 µs", better: "lower" },
      { key: "writes_per_action", label: "write syscalls/action", better: "lower" },
    ],
    targets: (t) => [
      t.abs("cpu_us_per_action", "<=", 15, "≤ 15 µs CPU/action"),
      t.ratio("per_core", "node", ">=", 6, "≥ 6× Actionhero's actions/s (per core: 1e6 / CPU µs per action)"),
    ],
  },
  {
    id: "fanout",
    title: "chat fan-out: one say to a room of 1,000 members, time until all have it (floor: one write(2) of the same size to each of 1,000 loopback sockets)",
    servers: ["c", "node", "floor"],
    env: "production",
    run: async (s) => (s.kind === "floor" ? fanoutFloor() : fanout(s, 0)),
    metrics: [
      { key: "median_ms", label: "fan-out ms (median of rounds)", better: "lower" },
      { key: "max_ms", label: "fan-out ms (slowest round)", better: "lower" },
      { key: "cpu_us_per_delivery", label: "server CPU µs/delivery", better: "lower" },
      { key: "sys_us_per_delivery", label: "  of which kernel µs", better: "lower" },
      { key: "writes_per_delivery", label: "write syscalls/delivery", better: "lower" },
    ],
    targets: (t) => [
      t.abs("median_ms", "<=", 5, "≤ 5 ms"),
      t.abs("cpu_us_per_delivery", "<=", 3, "≤ 3 µs CPU/delivery"),
    ],
  },
  {
    id: "fanout-idle",
    title: `chat fan-out to 1,000 members with ${big(5000, 500)} idle non-members connected`,
    servers: WS_SERVERS,
    env: "production",
    run: async (s) => fanout(s, big(5000, 500)),
    metrics: [
      { key: "median_ms", label: "fan-out ms (median of rounds)", better: "lower" },
      { key: "cpu_us_per_delivery", label: "server CPU µs/delivery", better: "lower" },
    ],
    targets: (t) => [t.vsScenario("median_ms", "fanout", 1.1, "no slower than without them (≤ 1.1×)")],
  },
  {
    id: "idle-rss",
    title: "idle server RSS (fresh server, 2 s after it answers; 0.6 s in the smoke run)",
    servers: ["c", "node", "floor"],
    env: "production",
    fresh: true,
    run: async (s) => {
      await sleep(2 * SETTLE_MS);
      return { rss_mb: procSample(s.pid).rss_kb / 1024 };
    },
    metrics: [{ key: "rss_mb", label: "RSS MB", better: "lower" }],
    targets: (t) => [t.abs("rss_mb", "<=", 5, "≤ 5 MB")],
  },
  {
    id: "ws-rss-10k",
    title: `RSS per idle WebSocket connection, ${big(10000, 1000)} connections (fresh server)`,
    servers: WS_SERVERS,
    env: "production",
    fresh: true,
    maxConnections: 200000,
    run: (s) => idleConns(s, big(10000, 1000)),
    metrics: idleMetrics(),
    targets: idleTargets,
  },
  {
    id: "ws-rss-50k",
    title: "RSS per idle WebSocket connection, 50,000 connections (raised open-files limit)",
    servers: WS_SERVERS,
    env: "production",
    fresh: true,
    big: true,
    needFiles: 50000 + 2000,
    maxConnections: 200000,
    run: (s) => idleConns(s, 50000),
    metrics: idleMetrics(),
    targets: idleTargets,
  },
  {
    id: "slow",
    title: "16 clients stop reading while a room floods (32 members read; 100 x 32 KB says/s, smoke 50 x 8 KB)",
    servers: WS_SERVERS,
    env: "production",
    fresh: true,
    run: async (s) => {
      const r = await wsload(s, "slow", {
        members: 32,
        slow: 16,
        seconds: SMOKE ? Math.min(SECONDS, 2) : 5,
        // the smoke run floods gently: it checks the harness, not the policy
        rate: SMOKE ? 50 : 100,
        size: SMOKE ? 8192 : 32768,
        settle: SETTLE_MS,
      });
      return {
        rss_growth_mb: (r.rss_peak_kb - r.rss_base_kb) / 1024,
        slow_dropped: r.slow_dropped,
        members_dropped: r.members_dropped,
        base_p99_ms: r.base_p99_us / 1000,
        flood_p99_ms: r.flood_p99_us / 1000,
        member_delivery_pct: r.member_expected ? (100 * r.member_deliveries) / r.member_expected : NaN,
        flood_cpu_pct: r.flood_cpu_pct,
      };
    },
    metrics: [
      { key: "rss_growth_mb", label: "server RSS growth MB (peak)", better: "lower" },
      { key: "slow_dropped", label: "slow clients dropped (of 16)", better: "higher" },
      { key: "members_dropped", label: "reading members dropped (of 32)", better: "lower" },
      { key: "base_p99_ms", label: "members' p99 ms before", better: "lower" },
      { key: "flood_p99_ms", label: "members' p99 ms while 16 stall", better: "lower" },
      { key: "member_delivery_pct", label: "members' deliveries %", better: "higher" },
      { key: "flood_cpu_pct", label: "server CPU % during the flood", better: "lower" },
    ],
    targets: (t) => [
      t.abs("rss_growth_mb", "<=", 16 * 4 + 16, "RSS bounded (≤ 16 × 4 MB outbound + 16 MB)"),
      t.abs("slow_dropped", ">=", 16, "the 16 slow clients are dropped"),
      t.abs("members_dropped", "<=", 0, "no reading member is dropped"),
      t.custom("flood_p99_ms", (c) => c.flood_p99_ms <= Math.max(2 * c.base_p99_ms, c.base_p99_ms + 1),
        "others keep their latency (p99 ≤ 2× or +1 ms)"),
    ],
  },
];

function idleMetrics() {
  return [
    { key: "per_conn_kb", label: "RSS KB per connection", better: "lower" },
    { key: "rss_open_mb", label: "RSS MB with them open", better: "lower" },
    { key: "kept_after_close_mb", label: "RSS MB kept after they closed", better: "lower" },
  ];
}

function idleTargets(t) {
  return [
    t.abs("per_conn_kb", "<=", 2, "≤ 2 KB per connection"),
    t.custom("kept_after_close_mb", (c) => c.kept_after_close_mb <= Math.max(1, 0.2 * (c.rss_open_mb - c.rss_before_mb)),
      "memory returned after close (≤ 20% kept)"),
  ];
}

async function idleConns(s, n) {
  const sources = Math.ceil(n / 20000);
  const r = await wsload(s, "idle", { sockets: n, sources, timeout: 600, settle: SETTLE_MS }, { nofile: n + 10000 });
  return {
    per_conn_kb: r.per_conn_bytes / 1024,
    rss_before_mb: r.rss_before_kb / 1024,
    rss_open_mb: r.rss_open_kb / 1024,
    kept_after_close_mb: (r.rss_closed_kb - r.rss_before_kb) / 1024,
  };
}

async function fanout(s, idle) {
  const r = await wsload(
    s,
    "fanout",
    { members: 1000, idle, rounds: SMOKE ? 5 : 30, timeout: 300 },
    { nofile: 1000 + idle + 10000 },
  );
  return {
    median_ms: r.median_ms,
    max_ms: r.max_ms,
    cpu_us_per_delivery: r.cpu_us / r.deliveries,
    sys_us_per_delivery: r.sys_us / r.deliveries,
    writes_per_delivery: r.syscw / r.deliveries,
    deliveries: r.deliveries,
  };
}

// The physical floor of a fan-out here: build/bench/fanout-floor writes a
// frame of a say's size (the writer on the server's CPU) to 1,000 loopback
// TCP sockets read by one epoll loop on the load CPU.
async function fanoutFloor() {
  const rounds = SMOKE ? 5 : 30;
  const r = await runLoad(
    [FANOUT_FLOOR, "--members", 1000, "--rounds", rounds, "--bytes", 140, "--server-cpu", SERVER_CPU, "--load-cpu", LOAD_CPU],
    { nofile: 4096, timeoutMs: 300000 },
  );
  let res;
  try {
    res = JSON.parse(r.stdout.trim().split("\n").pop());
  } catch {
    throw new Error(`fanout-floor failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().slice(0, 200)}`);
  }
  if (res.error) throw new Error(`fanout-floor: ${res.error}`);
  return {
    median_ms: res.median_ms,
    max_ms: res.max_ms,
    cpu_us_per_delivery: res.cpu_us / res.deliveries,
    sys_us_per_delivery: res.sys_us / res.deliveries,
    writes_per_delivery: res.writes / res.deliveries,
    deliveries: res.deliveries,
  };
}

// ------------------------------------------------------------------- stats

const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};

function summarize(runs, m) {
  const v = runs.map((r) => (m.derive ? m.derive(r) : r[m.key])).filter((x) => typeof x === "number" && Number.isFinite(x));
  if (v.length === 0) return null;
  return { median: median(v), min: Math.min(...v), max: Math.max(...v), n: v.length };
}

function fmt(x) {
  if (x === null || x === undefined || !Number.isFinite(x)) return "-";
  const a = Math.abs(x);
  if (a >= 100000) return `${(x / 1000).toFixed(0)}k`;
  if (a >= 10000) return `${(x / 1000).toFixed(1)}k`;
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  if (a === 0) return "0";
  return x.toPrecision(2);
}

function cell(s) {
  if (!s) return "-";
  if (s.n === 1) return fmt(s.median);
  return `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})`;
}

// --------------------------------------------------------------------- main

// Servers shared by the scenarios that do not need a fresh one, one per
// (kind, environment); a server that failed to start is not retried.
const POOL = new Map();

async function pooled(kind, env, entry) {
  const key = `${kind}/${env}`;
  if (!POOL.has(key)) {
    try {
      POOL.set(key, { srv: await startServer(kind, { env }) });
    } catch (e) {
      POOL.set(key, { err: e.message });
    }
  }
  const p = POOL.get(key);
  if (p.srv && (p.srv.child.exitCode !== null || p.srv.child.signalCode !== null))
    p.err = p.err ?? `exited during the run (see its log)`;
  if (p.err) {
    entry.na = p.err;
    return null;
  }
  return p.srv;
}

async function stopPool() {
  for (const p of POOL.values()) if (p.srv) await stopServer(p.srv);
  POOL.clear();
}

async function runScenario(sc, why, results) {
  const res = { id: sc.id, title: sc.title, servers: {} };
  results.push(res);
  for (const k of sc.servers)
    res.servers[k] = why[k] ? { na: `${why[k]}`, runs: [] } : { na: null, runs: [] };
  const live = {};
  const start = async (k) => {
    try {
      return await startServer(k, { env: sc.env, maxConnections: sc.maxConnections });
    } catch (e) {
      res.servers[k].na = e.message;
      return null;
    }
  };
  if (!sc.fresh) {
    for (const k of sc.servers) {
      if (res.servers[k].na) continue;
      live[k] = await pooled(k, sc.env, res.servers[k]);
      if (!live[k]) continue;
      try {
        if (sc.probe) await sc.probe(live[k]);
        if (sc.warm && WARMUP > 0) await sc.warm(live[k]);
      } catch (e) {
        res.servers[k].na = e.message;
        live[k] = null;
      }
    }
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const k of sc.servers) {
      const entry = res.servers[k];
      if (entry.na) continue;
      let srv = live[k];
      if (sc.fresh) srv = await start(k);
      if (!srv) continue;
      try {
        const r = await sc.run(srv);
        entry.runs.push(r);
        log(`${sc.id} ${SERVERS[k].label} round ${round + 1}: ${JSON.stringify(r)}`);
      } catch (e) {
        entry.na = e.message;
        log(`${sc.id} ${SERVERS[k].label}: ${e.message}`);
      }
      if (sc.fresh) await stopServer(srv);
    }
  }
  for (const k of sc.servers) {
    const e = res.servers[k];
    e.summary = {};
    for (const m of sc.metrics) e.summary[m.key] = summarize(e.runs, m);
    if (!e.na && e.runs.length === 0) e.na = "no run completed";
  }
  return res;
}

function judge(sc, res, byId) {
  const c = res.servers.c;
  const med = (k, key) => res.servers[k]?.summary?.[key]?.median;
  const ok = (v) => (v === undefined || v === null || Number.isNaN(v) ? null : !!v);
  const cmp = (a, op, b) => (op === ">=" ? a >= b : a <= b);
  const t = {
    ratio: (key, other, op, v, text) => {
      const a = med("c", key),
        b = med(other, key);
      return { text, met: ok(a !== undefined && b !== undefined ? cmp(a / b, op, v) : undefined) };
    },
    abs: (key, op, v, text) => {
      const a = med("c", key);
      return { text, met: ok(a !== undefined ? cmp(a, op, v) : undefined) };
    },
    vsScenario: (key, otherId, factor, text) => {
      const a = med("c", key),
        b = byId[otherId]?.servers?.c?.summary?.[key]?.median;
      return { text, met: ok(a !== undefined && b !== undefined ? a <= b * factor : undefined) };
    },
    custom: (key, fn, text) => {
      const meds = {};
      for (const r of c?.runs ?? []) for (const k of Object.keys(r)) meds[k] = median(c.runs.map((x) => x[k]));
      return { text, met: c?.runs?.length ? ok(fn(meds)) : null };
    },
  };
  return sc.targets ? sc.targets(t) : [];
}

function table(results, byId) {
  const lines = [];
  const hdr = ["scenario", "metric", "actionhero-c", "Actionhero", "floor", "c/AH", "c/floor"];
  const rows = [];
  for (const res of results) {
    const sc = SCENARIOS.find((s) => s.id === res.id);
    sc.metrics.forEach((m, i) => {
      const get = (k) => {
        const e = res.servers[k];
        if (!e) return "";
        if (e.na) return i === 0 ? `n/a (${e.na.replace(/ \(not available\)$/, "")})`.slice(0, 60) : "n/a";
        return cell(e.summary[m.key]);
      };
      const med = (k) => res.servers[k]?.summary?.[m.key]?.median;
      const ratio = (k) => (med("c") !== undefined && med(k) !== undefined && med(k) !== 0 ? fmt(med("c") / med(k)) : "");
      rows.push([i === 0 ? res.id : "", m.label, get("c"), get("node"), get("floor"), ratio("node"), ratio("floor")]);
    });
  }
  const w = hdr.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r) => `| ${r.map((x, i) => x.padEnd(w[i])).join(" | ")} |`;
  lines.push(line(hdr));
  lines.push(`|${w.map((x) => "-".repeat(x + 2)).join("|")}|`);
  for (const r of rows) lines.push(line(r));
  lines.push("");
  lines.push("Targets for actionhero-c:");
  for (const res of results) {
    for (const t of res.targets) {
      const mark = t.met === true ? "met   " : t.met === false ? "MISSED" : "n/a   ";
      lines.push(`  ${mark} ${res.id}: ${t.text}`);
    }
  }
  return lines.join("\n");
}

async function main() {
  process.on("SIGINT", () => process.exit(130));
  process.on("SIGTERM", () => process.exit(143));
  process.on("exit", () => {
    for (const c of CHILDREN) {
      try {
        c.kill("SIGKILL");
      } catch {}
    }
    for (const d of KEEP) fs.rmSync(d, { recursive: true, force: true });
  });

  if (ARGS.from) return rerender(String(ARGS.from));
  if (!fs.existsSync(WSLOAD)) {
    console.error("bench: build/bench/wsload is missing (make build/bench/wsload)");
    process.exit(1);
  }
  if (NCPU < 2) log("only one CPU: the server and the load generators share it");
  if (!has("taskset")) {
    console.error("bench: taskset (util-linux) is missing");
    process.exit(1);
  }
  redis = await startRedis();
  const why = availability();
  const haveWrk = has("wrk");
  const started = new Date();
  log(`rounds ${ROUNDS}, ${SECONDS} s per run${SMOKE ? " (smoke)" : ""}; server on CPU ${SERVER_CPU}, load on CPU ${LOAD_CPU}`);
  for (const [k, v] of Object.entries(why)) log(`${SERVERS[k].label}: ${v}`);

  const results = [];
  const byId = {};
  // Run order: the shared production servers, then the development ones,
  // then the scenarios that start a fresh server each time (on a machine
  // with no other server left running); the table keeps the order.
  let chosen = SCENARIOS.filter(
    (sc) => !(ONLY && !ONLY.includes(sc.id)) && !SKIP.includes(sc.id) && !(sc.big && (SMOKE || ARGS["no-big"])),
  );
  if (CALLGRIND)
    chosen = chosen
      .filter((sc) => !["idle-rss", "ws-rss-10k", "ws-rss-50k", "slow"].includes(sc.id))
      .map((sc) => ({ ...sc, servers: ["c"], fresh: true, probe: undefined }));
  const order = [
    ...chosen.filter((sc) => !sc.fresh && sc.env === "production"),
    ...chosen.filter((sc) => !sc.fresh && sc.env !== "production"),
    ...chosen.filter((sc) => sc.fresh),
  ];
  let poolEnv = null;
  for (const sc of order) {
    if (sc.fresh || sc.env !== poolEnv) await stopPool();
    poolEnv = sc.fresh ? null : sc.env;
    const w = { ...why };
    if (sc.needFiles && !canOpen(sc.needFiles))
      for (const k of sc.servers)
        w[k] = w[k] ?? `open-files hard limit ${hardFiles()} < ${sc.needFiles}, cannot raise it`;
    if (sc.servers.includes("floor") && !haveWrk) for (const k of sc.servers) w[k] = w[k] ?? "wrk is not installed";
    log(`scenario ${sc.id}: ${sc.title}`);
    CURRENT_SCENARIO = sc;
    byId[sc.id] = await runScenario(sc, w, []);
  }
  for (const sc of chosen) results.push(byId[sc.id]);
  await stopPool();
  for (const res of results) res.targets = judge(SCENARIOS.find((s) => s.id === res.id), res, byId);

  const text = table(results, byId);
  console.log(`\nactionhero-c benchmark, ${started.toISOString()}, ${ROUNDS} round(s) of ${SECONDS} s${SMOKE ? " (smoke)" : ""}`);
  console.log(`cells: median (min–max) over the rounds; c/AH and c/floor: ratio of the medians\n`);
  console.log(text);
  for (const p of PROFILES) {
    const unit = UNIT_FN[p.scenario];
    const n = p.calls[unit];
    const total = Number((/^([\d,]+) .*PROGRAM TOTALS/m.exec(p.self)?.[1] ?? "").replace(/,/g, ""));
    console.log(`\n== callgrind ${p.scenario}: ${p.file}: ${total} instructions` +
      (n && total ? `, ${n} calls of ${unit}: ${Math.round(total / n)} instructions each` : ""));
    const lines = p.self.split("\n");
    const at = lines.findIndex((l) => /file:function/.test(l));
    console.log(lines.slice(at, at + 27).join("\n"));
  }
  for (const p of LOG_PROBLEMS) console.log(`\nserver log (${SERVERS[p.server].label}, ${p.env}): ${p.line}`);

  const stamp = started.toISOString().replace(/[:.]/g, "-");
  const file = ARGS.json ? path.resolve(String(ARGS.json)) : path.join(TOP, "bench/results", `${stamp}.json`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const doc = {
    started: started.toISOString(),
    smoke: SMOKE,
    rounds: ROUNDS,
    seconds: SECONDS,
    machine: { cpus: NCPU, model: os.cpus()[0]?.model, kernel: os.release(), mem_gb: os.totalmem() / 2 ** 30 },
    actionhero_c: { binary: path.relative(TOP, AH_BIN), commit: gitHead() },
    results: results.map((r) => ({ ...r })),
    server_log_problems: LOG_PROBLEMS,
    table: text,
  };
  fs.writeFileSync(file, JSON.stringify(doc, null, 2) + "\n");
  console.log(`\nJSON: ${path.relative(process.cwd(), file)}`);
  if (redis) await stopChild(redis.child);
}

// Can a process started by us have `n` open files?  (Raising the hard limit
// needs CAP_SYS_RESOURCE, which containers often drop.)
function canOpen(n) {
  return spawnSync("sh", ["-c", `ulimit -n ${n}`], { stdio: "ignore" }).status === 0;
}

function hardFiles() {
  return spawnSync("sh", ["-c", "ulimit -Hn"], { encoding: "utf8" }).stdout.trim();
}

// --from=FILE: print the table of a saved run again (with this version's
// metrics and targets, computed from the saved raw runs).
function rerender(file) {
  const doc = JSON.parse(fs.readFileSync(file, "utf8"));
  const byId = {};
  const results = [];
  for (const res of doc.results) {
    const sc = SCENARIOS.find((x) => x.id === res.id);
    if (!sc) continue;
    for (const e of Object.values(res.servers)) {
      e.summary = {};
      for (const m of sc.metrics) e.summary[m.key] = summarize(e.runs, m);
    }
    byId[res.id] = res;
    results.push(res);
  }
  for (const res of results) res.targets = judge(SCENARIOS.find((x) => x.id === res.id), res, byId);
  console.log(`actionhero-c benchmark, ${doc.started}, ${doc.rounds} round(s) of ${doc.seconds} s${doc.smoke ? " (smoke)" : ""}` +
    `, actionhero-c ${doc.actionhero_c?.commit ?? "?"}`);
  console.log(`cells: median (min–max) over the rounds; c/AH and c/floor: ratio of the medians\n`);
  console.log(table(results, byId));
}

function gitHead() {
  const r = spawnSync("git", ["-C", TOP, "rev-parse", "--short", "HEAD"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : null;
}

main().catch((e) => {
  console.error(`bench: ${e.stack || e}`);
  process.exit(1);
});
