#!/bin/sh
# 74-process-drain: a stop lets in-flight actions finish (up to
# general.shutdownTimeout) while new connections are refused; a second
# signal during the drain exits at once with status 1; a drain deadline
# cuts the wait; a failed boot (port in use) exits 1 with one line; an
# action that finishes in the very loop turn the stop begins is answered
# and everything is still freed.
. "$(dirname "$0")/../lib/lib.sh"

start_web() { # [ENV=V ...] -- ARGS
    envs=""
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do envs="$envs $1"; shift; done
    shift
    PORT_USED=$(free_port)
    LOG="$AH_DIR/server-$PORT_USED.log"
    # shellcheck disable=SC2086
    (cd "$AH_DIR" && exec env NODE_ENV=test LOG_LEVEL=info AUTOMATIC_ROUTES=get PORT="$PORT_USED" $envs "$AH_BIN" start --bindIP=127.0.0.1 "$@" >"$LOG" 2>&1) &
    PID=$!
    AH_PIDS="$AH_PIDS $PID"
    i=0
    while [ $i -lt 200 ]; do
        if curl -s -o /dev/null "http://127.0.0.1:$PORT_USED/" 2>/dev/null; then return 0; fi
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.05
        i=$((i + 1))
    done
    echo "# server did not start; log:"; sed 's/^/#   /' "$LOG"
    return 1
}
wait_exit() {
    i=0
    while kill -0 "$1" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.05; i=$((i + 1)); done
    wait "$1"
    RC=$?
}
# wait_log TEXT: until the server log contains TEXT (5 s)
wait_log() {
    i=0
    while ! grep -qF -- "$1" "$LOG" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
}
# start_request PATH: a request in the background, its answer in
# $AH_DIR/req.*.  It is in flight once curl has sent it (curl -v shows the
# request line) and a later request on another connection has been
# answered: the server reads the earlier socket no later than it accepts
# the later one, and dispatches as it parses.
start_request() {
    rm -f "$AH_DIR/req.body" "$AH_DIR/req.code" "$AH_DIR/req.trace"
    (curl -s -v -o "$AH_DIR/req.body" -w '%{http_code}' "http://127.0.0.1:$PORT_USED$1" >"$AH_DIR/req.code" 2>"$AH_DIR/req.trace") &
    CURL=$!
    i=0
    while ! grep -q "^> GET ${1%%\?*}" "$AH_DIR/req.trace" 2>/dev/null && [ $i -lt 200 ]; do
        sleep 0.02
        i=$((i + 1))
    done
    curl -s -o /dev/null "http://127.0.0.1:$PORT_USED/api/randomNumber"
}
# start_sleep MS: a sleepTest request in flight
start_sleep() {
    start_request "/api/sleepTest?sleepDuration=$1"
}

# 1. graceful drain
start_web -- || exit 1
start_sleep 1500
kill -TERM "$PID"
wait_log "stopping process..."
REFUSED=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT_USED/api/randomNumber"; echo " exit=$?")
check_eq "new connections are refused during the drain" "$REFUSED" "000 exit=7"
wait "$CURL"
check_eq "the in-flight request gets its answer" "$(cat "$AH_DIR/req.code")" 200
check_eq "with its body" "$(json_get "$(cat "$AH_DIR/req.body")" sleepDuration)" 1500
wait_exit "$PID"
check_eq "exit 0 after the drain" "$RC" 0
check_eq "the Stopped line comes last" "$(tail -n 1 "$LOG" | sed 's/^[^ ]* - //')" "notice: *** actionhero Stopped *** "

# 2. a second signal during the drain: exit 1 at once, pid file removed
start_web -- --title=twice || exit 1
start_sleep 5000
kill -TERM "$PID"
wait_log "stopping process..."
kill -TERM "$PID"
wait_exit "$PID"
check_eq "second SIGTERM: exit 1" "$RC" 1
check_contains "second SIGTERM: logged" "$(cat "$LOG")" "[ SIGNAL ] - SIGTERM (second signal: exiting now)"
check_eq "second SIGTERM: pid file removed" "$(ls "$AH_DIR/pids" | grep -c twice)" 0
wait "$CURL"

# 3. the drain deadline: general.shutdownTimeout cuts a long action
start_web ACTIONHERO_SHUTDOWN_TIMEOUT=300 -- || exit 1
start_sleep 20000
kill -TERM "$PID"
wait_exit "$PID"
check_eq "deadline: exit 0" "$RC" 0
check_contains "deadline: logged" "$(cat "$LOG")" "stop deadline reached with 1 action(s) still running"
wait "$CURL"

# 4. boot failure: the port is taken
start_web -- --title=first || exit 1
FIRST=$PID
(cd "$AH_DIR" && env NODE_ENV=test PORT="$PORT_USED" "$AH_BIN" start --bindIP=127.0.0.1 --title=second >"$AH_DIR/second.out" 2>"$AH_DIR/second.err")
RC=$?
check_eq "port in use: exit 1" "$RC" 1
check_eq "port in use: one line on stderr" "$(wc -l < "$AH_DIR/second.err" | tr -d ' ')" 1
check_contains "port in use: says so" "$(cat "$AH_DIR/second.err")" "error: cannot start web server @ 127.0.0.1:$PORT_USED"
check_eq "port in use: no pid file left" "$(ls "$AH_DIR/pids" | grep -c second)" 0
kill -TERM "$FIRST"
wait_exit "$FIRST"
check_eq "the first server is unharmed" "$RC" 0

# 5. an action that finishes in the very loop turn the stop begins: the
# web server queues its connection to resume at the next idle phase, but
# the drain's first tick stops the servers before that phase runs; the
# connection must still be closed and freed (a sanitizer build reports a
# leak and exits 1 otherwise)
start_web -- || exit 1
start_request /api/stopTurnTest
kill -TERM "$PID"
wait "$CURL"
check_eq "same-turn finish: answered" "$(cat "$AH_DIR/req.code")" 200
check_eq "same-turn finish: with its body" "$(json_get "$(cat "$AH_DIR/req.body")" finishedOnStop)" true
wait_exit "$PID"
check_eq "same-turn finish: exit 0" "$RC" 0
check_eq "same-turn finish: the Stopped line comes last" "$(tail -n 1 "$LOG" | sed 's/^[^ ]* - //')" "notice: *** actionhero Stopped *** "
