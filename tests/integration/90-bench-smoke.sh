#!/bin/sh
# 90-bench-smoke: the benchmark harness (bench/run.sh --smoke, 1-second
# runs) runs end to end against $AH_BIN, Actionhero 29 and the floor server,
# and produces its table and JSON with numbers for every server it could
# start.  No timing assertions: only that each scenario measured something.
. "$(dirname "$0")/../lib/lib.sh"

OUT="$AH_DIR/bench.out"
JSON="$AH_DIR/bench.json"
(cd "$AH_TOP" && make --no-print-directory -s build/bench/floor build/bench/fanout-floor build/bench/wsload >/dev/null 2>&1)
sh "$AH_TOP/bench/run.sh" --smoke --seconds=1 --ah-bin="$AH_BIN" --json="$JSON" >"$OUT" 2>"$AH_DIR/bench.err"
RC=$?
check_eq "bench/run.sh --smoke exit code" "$RC" 0
if [ "$RC" != 0 ]; then
    tail -n 20 "$AH_DIR/bench.err" | sed 's/^/#   /'
fi
TABLE=$(cat "$OUT")
check_contains "table header" "$TABLE" "| scenario"
check_contains "table has the http-prod row" "$TABLE" "| http-prod"
check_contains "table has the ws-rt row" "$TABLE" "| ws-rt"
check_contains "targets listed" "$TABLE" "Targets for actionhero-c:"

# Every scenario has numbers for each server, unless that server could not be
# installed (then every scenario says so).  actionhero-c must always run.
node - "$JSON" <<'EOF'
const fs = require("fs");
let doc;
try {
  doc = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
} catch (e) {
  console.log(`not ok - bench JSON written\n#   ${e.message}`);
  process.exit(0);
}
console.log("ok - bench JSON written");
const want = ["http-prod", "http-dev", "http-pipeline", "static", "ws-rt", "fanout", "fanout-idle",
              "idle-rss", "ws-rss-10k", "slow"];
const ids = doc.results.map((r) => r.id);
const missing = want.filter((id) => !ids.includes(id));
console.log(missing.length ? `not ok - every scenario ran\n#   missing: ${missing}` : "ok - every scenario ran");
const notInstalled = /not installed|not built|not available: |redis-server is not available|wrk is not installed/;
for (const kind of ["c", "node", "floor"]) {
  const entries = doc.results.filter((r) => r.servers[kind]).map((r) => [r.id, r.servers[kind]]);
  const skipped = kind !== "c" && entries.length > 0 && entries.every(([, e]) => e.na && notInstalled.test(e.na));
  if (skipped) {
    console.log(`ok - ${kind}: not installed here (${entries[0][1].na}), its cells say n/a`);
    continue;
  }
  const bad = entries.filter(([, e]) => {
    if (e.na || !e.runs.length) return true;
    const first = Object.values(e.summary)[0];
    return !first || !Number.isFinite(first.median);
  });
  if (bad.length === 0) console.log(`ok - ${kind}: numbers in all ${entries.length} scenarios`);
  else
    console.log(`not ok - ${kind}: numbers in all ${entries.length} scenarios\n` +
      bad.map(([id, e]) => `#   ${id}: ${e.na ?? "no numbers"}`).join("\n"));
}
const probs = doc.server_log_problems ?? [];
console.log(probs.length === 0 ? "ok - no sanitizer report in the server logs"
  : `not ok - no sanitizer report in the server logs\n${probs.map((p) => `#   ${p.server}: ${p.line}`).join("\n")}`);
// the measured values that cannot be wrong in any run
const c = Object.fromEntries(doc.results.map((r) => [r.id, r.servers.c]));
const med = (id, key) => c[id]?.summary?.[key]?.median;
const positive = [["http-prod", "rps"], ["http-prod", "cpu_us_per_req"], ["ws-rt", "rate"],
                  ["fanout", "median_ms"], ["idle-rss", "rss_mb"]];
for (const [id, key] of positive) {
  const v = med(id, key);
  console.log(v > 0 ? `ok - actionhero-c ${id} ${key} > 0` : `not ok - actionhero-c ${id} ${key} > 0\n#   got ${v}`);
}
EOF
