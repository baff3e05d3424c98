#!/bin/sh
# 72-process-signals: the boot log, the pid file (written with the pid, no
# newline; removed at stop), SIGTERM / SIGINT stop with exit 0, the stop log.
. "$(dirname "$0")/../lib/lib.sh"

# start_bg [ENV=V ...] -- ARGS: start in $AH_DIR, wait for the Started line
start_bg() {
    envs=""
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do envs="$envs $1"; shift; done
    shift
    LOG="$AH_DIR/server-$$-$(date +%s%N).log"
    # shellcheck disable=SC2086
    (cd "$AH_DIR" && exec env NODE_ENV=test LOG_LEVEL=info PORT="$(free_port)" $envs "$AH_BIN" start --bindIP=127.0.0.1 "$@" >"$LOG" 2>&1) &
    PID=$!
    AH_PIDS="$AH_PIDS $PID"
    i=0
    while [ $i -lt 200 ]; do
        grep -q 'Started \*\*\*' "$LOG" 2>/dev/null && return 0
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.05
        i=$((i + 1))
    done
    echo "# server did not start; log:"; sed 's/^/#   /' "$LOG"
    return 1
}

# wait_exit PID: waits (up to 10 s), sets RC
wait_exit() {
    i=0
    while kill -0 "$1" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
    wait "$1"
    RC=$?
}

start_bg -- --title=node:1 || exit 1
PIDFILE="$AH_DIR/pids/actionhero-node-1"
check_eq "pid file holds the pid (no newline)" "$(cat "$PIDFILE" 2>/dev/null)" "$PID"
check_eq "pid file size" "$(wc -c < "$PIDFILE" | tr -d ' ')" "${#PID}"
# the boot lines, in order (process.md §2)
BOOT=$(sed -n 's/^[0-9TZ:.-]* - \([a-z]*\): \(.*\) $/\1: \2/p' "$LOG")
check_eq "boot log" "$(printf '%s\n' "$BOOT" | grep -E '^(notice|info): (pid|environment|\*\*\*|server ID)')" "notice: pid: $PID
notice: environment: test
info: *** Starting actionhero ***
notice: server ID: node:1
notice: *** actionhero Started ***"
case "$(head -n 1 "$LOG")" in
[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z\ -\ *) ok "timestamp format" ;;
*) not_ok "timestamp format" "$(head -n 1 "$LOG")" ;;
esac
check_not_contains "no colours when not a terminal" "$(cat "$LOG")" "$(printf '\033')"

kill -TERM "$PID"
wait_exit "$PID"
check_eq "SIGTERM: exit code 0" "$RC" 0
check_eq "SIGTERM: pid file removed" "$(ls "$AH_DIR/pids" | wc -l | tr -d ' ')" 0
STOP=$(sed -n 's/^[0-9TZ:.-]* - \([a-z]*\): \(.*\) $/\1: \2/p' "$LOG" | sed -n '/SIGNAL/,$p')
check_contains "SIGTERM: signal line" "$STOP" "notice: [ SIGNAL ] - SIGTERM"
check_contains "SIGTERM: stopping line" "$STOP" "notice: stopping process..."
check_eq "SIGTERM: stopped line last" "$(printf '%s\n' "$STOP" | tail -n 1)" "notice: *** actionhero Stopped ***"

start_bg -- --pid-dir=run/p --set=general.serverName=shop || exit 1
check_contains "serverName from --set" "$(cat "$LOG")" "info: *** Starting shop *** "
check_eq "--pid-dir" "$(ls "$AH_DIR/run/p" | wc -l | tr -d ' ')" 1
kill -INT "$PID"
wait_exit "$PID"
check_eq "SIGINT: exit code 0" "$RC" 0
check_contains "SIGINT: signal line" "$(cat "$LOG")" "[ SIGNAL ] - SIGINT"
check_eq "SIGINT: pid file removed" "$(ls "$AH_DIR/run/p" | wc -l | tr -d ' ')" 0

# JSON lines
start_bg -- --log-json --title=j || exit 1
kill -TERM "$PID"
wait_exit "$PID"
check_eq "JSON lines: exit code" "$RC" 0
BAD=$(node -e '
const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n");
let bad = [];
for (const l of lines) {
  try {
    const o = JSON.parse(l);
    if (!o.level || !o.message || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(o.timestamp)) bad.push(l);
  } catch (e) { bad.push(l); }
}
if (!lines.some(l => l.includes("\"message\":\"*** actionhero Stopped ***\""))) bad.push("no Stopped line");
console.log(bad.join("\n"));' "$LOG")
check_eq "JSON lines: every line is an object with level, message, timestamp" "$BAD" ""

# test environment: crit unless LOG_LEVEL
PORT2=$(free_port)
(cd "$AH_DIR" && exec env NODE_ENV=test PORT="$PORT2" "$AH_BIN" start --bindIP=127.0.0.1 --title=quiet >"$AH_DIR/quiet.log" 2>&1) &
QPID=$!
AH_PIDS="$AH_PIDS $QPID"
i=0
while [ ! -f "$AH_DIR/pids/actionhero-quiet" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
kill -TERM "$QPID"
wait_exit "$QPID"
check_eq "test environment logs at crit" "$RC:$(cat "$AH_DIR/quiet.log")" "0:"

# the logger's file sink: JSON lines in log/<id>-<env>.log
start_bg -- --title=f --set=logger.file=log/{id}-{env}.log --set=logger.fileLevel=debug || exit 1
kill -TERM "$PID"
wait_exit "$PID"
check_contains "file sink" "$(cat "$AH_DIR/log/f-test.log" 2>/dev/null)" '"message":"*** actionhero Stopped ***"'
