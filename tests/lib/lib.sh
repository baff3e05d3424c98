# tests/lib/lib.sh - helpers for integration tests written in sh.
#
#   . "$(dirname "$0")/../lib/lib.sh"
#   ah_start [ENV=VALUE ...] [-- server flags]   start $AH_BIN on a free port
#   ok "name" / not_ok "name" "detail"           TAP-ish result lines
#   check_eq "name" "$got" "$want"
#   check_contains "name" "$haystack" "$needle"
# The server runs in a temporary project directory ($AH_DIR) holding copies
# of config/ and public/; everything is cleaned up on exit.
set -u
AH_TOP=$(cd "$(dirname "$0")/../.." && pwd)
AH_BIN=${AH_BIN:-$AH_TOP/build/actionhero-test}
AH_DIR=$(mktemp -d)
AH_PIDS=""
cp -r "$AH_TOP/config" "$AH_DIR/config"
cp -r "$AH_TOP/public" "$AH_DIR/public"

ah_cleanup() {
    for p in $AH_PIDS; do kill "$p" 2>/dev/null; done
    for p in $AH_PIDS; do
        i=0
        while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        kill -9 "$p" 2>/dev/null
    done
    # every server log, whatever the test named it (server-PORT.log, stop.log...)
    if cat "$AH_DIR"/*.log 2>/dev/null | grep -q 'Sanitizer\|runtime error:'; then
        echo "not ok - sanitizer report in the server log"
        grep -A15 'Sanitizer\|runtime error:' "$AH_DIR"/*.log | head -n 40 | sed 's/^/#   /'
    fi
    rm -rf "$AH_DIR"
}
trap ah_cleanup EXIT INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# ah_start [VAR=value ...]: start the server; sets AH_PORT, AH_PID, AH_LOG.
ah_start() {
    AH_PORT=$(free_port)
    AH_LOG="$AH_DIR/server-$AH_PORT.log"
    (cd "$AH_DIR" && exec env PORT="$AH_PORT" NODE_ENV="${NODE_ENV:-test}" "$@" "$AH_BIN" start --bindIP=127.0.0.1 >"$AH_LOG" 2>&1) &
    AH_PID=$!
    AH_PIDS="$AH_PIDS $AH_PID"
    i=0
    while [ $i -lt 100 ]; do
        if curl -s -o /dev/null "http://127.0.0.1:$AH_PORT/" 2>/dev/null; then return 0; fi
        if ! kill -0 "$AH_PID" 2>/dev/null; then break; fi
        sleep 0.05
        i=$((i + 1))
    done
    echo "# server did not start; log:"; sed 's/^/#   /' "$AH_LOG"
    return 1
}

ah_stop() { # pid
    kill "${1:-$AH_PID}" 2>/dev/null
}

ok() { echo "ok - $1"; }
not_ok() { echo "not ok - $1"; [ $# -gt 1 ] && printf '%s\n' "$2" | head -n 20 | sed 's/^/#   /'; return 0; }

check_eq() { # name got want
    if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "got:  $2
want: $3"; fi
}
check_contains() { # name haystack needle
    case "$2" in
    *"$3"*) ok "$1" ;;
    *) not_ok "$1" "missing: $3
in: $(printf '%s' "$2" | head -c 600)" ;;
    esac
}
check_not_contains() {
    case "$2" in
    *"$3"*) not_ok "$1" "unexpected: $3" ;;
    *) ok "$1" ;;
    esac
}
# JSON field via node: json_get "$json" 'x.y'
json_get() {
    node -e 'let o=JSON.parse(process.argv[1]);for(const k of process.argv[2].split(".").filter(Boolean)){o=o==null?undefined:o[k]};console.log(typeof o==="object"?JSON.stringify(o):String(o))' "$1" "$2"
}
