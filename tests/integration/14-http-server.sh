#!/bin/sh
# 14-http-server.sh - the web server's boot and stop (web.md §1-§2): boot
# log, Unix socket with chmod 0777, listen errors and bootAttempts, boot
# validation, dual-stack "::" listener (::ffff: addresses), web.enabled,
# a graceful stop that closes keep-alive sockets.
. "$(dirname "$0")/../lib/lib.sh"

# run the binary by hand (ah_start forces --bindIP=127.0.0.1)
run() { # logfile env... -- args...
    log=$1
    shift
    (cd "$AH_DIR" && exec env NODE_ENV=test "$@" >"$log" 2>&1) &
    AH_PIDS="$AH_PIDS $!"
    echo $!
}
wait_for() { # command...: up to 5 s
    i=0
    while [ $i -lt 100 ]; do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.05
        i=$((i + 1))
    done
    return 1
}
loglevel='{"logger":{"level":"info"}}'

# ---------------------------------------------------------------- boot log, TCP
ah_start ACTIONHERO_CONFIG_OVERRIDES="$loglevel"
sleep 0.2
check_contains "boot log line" "$(cat "$AH_LOG")" "Starting server: \`web\` @ http://127.0.0.1:$AH_PORT"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$AH_PORT/api/status")
check_eq "serving on 127.0.0.1" "$code" "200"

# ---------------------------------------------------------------- port in use
out="$AH_DIR/inuse.log"
(cd "$AH_DIR" && env NODE_ENV=test PORT="$AH_PORT" "$AH_BIN" start --bindIP=127.0.0.1 >"$out" 2>&1)
rc=$?
check_eq "port in use: exit 1" "$rc" "1"
check_contains "port in use: message" "$(cat "$out")" "cannot start web server @ 127.0.0.1:$AH_PORT => Error: listen EADDRINUSE: address already in use 127.0.0.1:$AH_PORT"
out="$AH_DIR/retry.log"
(cd "$AH_DIR" && env NODE_ENV=test PORT="$AH_PORT" ACTIONHERO_CONFIG_OVERRIDES='{"web":{"bootAttempts":2},"logger":{"level":"info"}}' "$AH_BIN" start --bindIP=127.0.0.1 >"$out" 2>&1)
rc=$?
check_eq "bootAttempts 2: still exit 1" "$rc" "1"
check_contains "bootAttempts 2: retry logged" "$(cat "$out")" "cannot boot web server; trying again [Error: listen EADDRINUSE"
check_contains "bootAttempts 2: second attempt logged" "$(cat "$out")" "attempting to boot again.."

# ---------------------------------------------------------------- boot validation
out="$AH_DIR/val.log"
(cd "$AH_DIR" && env NODE_ENV=test PORT="$(free_port)" ACTIONHERO_CONFIG_OVERRIDES='{"web":{"urlPathForFiles":null}}' "$AH_BIN" start >"$out" 2>&1)
check_eq "file root without urlPathForFiles: exit 1" "$?" "1"
check_contains "file root without urlPathForFiles: message" "$(cat "$out")" 'rootEndpointType cannot be "file" without a urlPathForFiles'
(cd "$AH_DIR" && env NODE_ENV=test PORT="$(free_port)" AUTOMATIC_ROUTES=get,fetch "$AH_BIN" start >"$out" 2>&1)
check_eq "bad automaticRoutes verb: exit 1" "$?" "1"
check_contains "bad automaticRoutes verb: message" "$(cat "$out")" "fetch is not an HTTP verb"

(cd "$AH_DIR" && env NODE_ENV=test PORT="$(free_port)" ACTIONHERO_CONFIG_OVERRIDES='{"web":{"secure":true}}' "$AH_BIN" start >"$out" 2>&1)
check_eq "web.secure: exit 1" "$?" "1"
check_contains "web.secure: says HTTPS is not built in" "$(cat "$out")" "web.secure: HTTPS is not built into this server"

# ---------------------------------------------------------------- Unix socket
sock="$AH_DIR/web.sock"
pid=$(run "$AH_DIR/unix.log" ACTIONHERO_CONFIG_OVERRIDES="{\"web\":{\"bindIP\":null,\"port\":\"$sock\"},\"logger\":{\"level\":\"info\"}}" "$AH_BIN" start)
if wait_for test -S "$sock"; then
    ok "unix socket created"
    check_eq "unix socket mode 0777" "$(stat -c %a "$sock")" "777"
    body=$(curl -s --unix-socket "$sock" http://localhost/api/status)
    check_eq "unix socket: the status action" "$(json_get "$body" nodeStatus)" "Node Healthy"
    check_eq "unix socket: remoteIP unknown" "$(json_get "$body" requesterInformation.remoteIP)" "0.0.0.0"
    check_contains "unix socket: boot log without address" "$(cat "$AH_DIR/unix.log")" 'Starting server: `web` '
    check_not_contains "unix socket: no http:// in the log" "$(cat "$AH_DIR/unix.log")" "Starting server: \`web\` @"
else
    not_ok "unix socket created" "$(cat "$AH_DIR/unix.log")"
fi
kill "$pid" 2>/dev/null
wait_for sh -c "! kill -0 $pid"
# a stale socket file is removed on the second attempt
touch "$sock.stale" 2>/dev/null
rm -f "$sock"
printf '' >"$sock"
pid=$(run "$AH_DIR/stale.log" ACTIONHERO_CONFIG_OVERRIDES="{\"web\":{\"bindIP\":null,\"port\":\"$sock\",\"bootAttempts\":2},\"logger\":{\"level\":\"info\"}}" "$AH_BIN" start)
if wait_for test -S "$sock"; then
    ok "stale socket file replaced on retry"
    check_contains "stale socket: removal logged" "$(cat "$AH_DIR/stale.log")" "removed stale unix socket @ $sock"
else
    not_ok "stale socket file replaced on retry" "$(cat "$AH_DIR/stale.log")"
fi
kill "$pid" 2>/dev/null

# ---------------------------------------------------------------- dual stack
port=$(free_port)
pid=$(run "$AH_DIR/dual.log" PORT="$port" "$AH_BIN" start --bindIP=::)
if wait_for curl -s -o /dev/null "http://127.0.0.1:$port/api/status"; then
    body=$(curl -s "http://127.0.0.1:$port/api/status")
    check_eq "dual stack: IPv4 client as ::ffff:" "$(json_get "$body" requesterInformation.remoteIP)" "::ffff:127.0.0.1"
    body=$(curl -s -g "http://[::1]:$port/api/status")
    if [ -n "$body" ]; then
        check_eq "dual stack: IPv6 client" "$(json_get "$body" requesterInformation.remoteIP)" "::1"
    else
        ok "dual stack: IPv6 loopback unavailable here (skipped)"
    fi
else
    not_ok "dual stack listener" "$(cat "$AH_DIR/dual.log")"
fi
kill "$pid" 2>/dev/null

# ---------------------------------------------------------------- web.enabled false
port=$(free_port)
pid=$(run "$AH_DIR/off.log" PORT="$port" ACTIONHERO_CONFIG_OVERRIDES='{"web":{"enabled":false},"logger":{"level":"info"}}' "$AH_BIN" start --bindIP=127.0.0.1)
sleep 0.5
if kill -0 "$pid" 2>/dev/null; then ok "web.enabled false: the process runs"; else not_ok "web.enabled false: the process runs" "$(cat "$AH_DIR/off.log")"; fi
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/api/status")
check_eq "web.enabled false: nothing listens" "$code" "000"
check_not_contains "web.enabled false: no boot line" "$(cat "$AH_DIR/off.log")" "Starting server: \`web\`"
kill "$pid" 2>/dev/null

# ---------------------------------------------------------------- graceful stop
port=$(free_port)
(cd "$AH_DIR" && exec env NODE_ENV=test PORT="$port" ACTIONHERO_CONFIG_OVERRIDES='{"logger":{"level":"info"}}' "$AH_BIN" start --bindIP=127.0.0.1 >"$AH_DIR/stop.log" 2>&1) &
pid=$!
AH_PIDS="$AH_PIDS $pid"
wait_for curl -s -o /dev/null "http://127.0.0.1:$port/api/status"
# a keep-alive client that stays connected must not hold the stop
out=$(node -e '
const net = require("net");
const s = net.connect(Number(process.argv[1]), "127.0.0.1", () => s.write("GET /api/status HTTP/1.1\r\nHost: x\r\n\r\n"));
let got = "";
s.on("data", (d) => { got += d; if (got.includes("\r\n\r\n")) process.kill(Number(process.argv[2]), "SIGTERM"); });
s.on("close", () => { console.log("closed " + (got.startsWith("HTTP/1.1 200") ? "after 200" : "early")); process.exit(0); });
setTimeout(() => { console.log("still open"); process.exit(0); }, 8000);
' "$port" "$pid")
check_eq "stop closes keep-alive sockets" "$out" "closed after 200"
wait "$pid"
check_eq "exit code 0 after SIGTERM" "$?" "0"
check_contains "stop log" "$(cat "$AH_DIR/stop.log")" "Stopping server: web"
