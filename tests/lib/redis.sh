# tests/lib/redis.sh - a private redis-server for tests, on 127.0.0.1, on a
# free port, without persistence, removed afterwards.
#
# Sourced by integration tests (after lib.sh):
#   . "$(dirname "$0")/../lib/redis.sh"
#   redis_start [PORT]    start one; sets REDIS_PORT, REDIS_PID, REDIS_DIR
#                         (returns 1, printing `not ok`, if redis-server is
#                         missing: `make test` installs it)
#   redis_stop            stop it (also done on exit when lib.sh's trap runs
#                         ah_cleanup: call redis_stop from your own trap)
#   redis_cli ARGS...     redis-cli against it
#
# Run as a command (the C unit tests do this):
#   sh tests/lib/redis.sh exec PORT DIR
#       exec redis-server in the foreground (the caller owns the process)
#   sh tests/lib/redis.sh available
#       exit 0 if redis-server and redis-cli are installed

redis_available() {
    command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1
}

redis_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# The options every test server uses: loopback only, no RDB, no AOF.
redis_exec() { # PORT DIR
    exec redis-server --port "$1" --bind 127.0.0.1 --save '' --appendonly no \
        --dir "$2" --logfile "$2/redis.log" --daemonize no --protected-mode yes
}

redis_start() { # [PORT]
    if ! redis_available; then
        echo "not ok - redis-server is not installed (make test installs it; or: apt-get install redis-server)"
        return 1
    fi
    REDIS_PORT=${1:-$(redis_free_port)}
    REDIS_DIR=${REDIS_DIR:-$(mktemp -d)}
    (redis_exec "$REDIS_PORT" "$REDIS_DIR") >/dev/null 2>&1 &
    REDIS_PID=$!
    i=0
    while [ $i -lt 100 ]; do
        if [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; then
            return 0
        fi
        kill -0 "$REDIS_PID" 2>/dev/null || break
        sleep 0.05
        i=$((i + 1))
    done
    echo "not ok - redis-server did not start on port $REDIS_PORT"
    sed 's/^/#   /' "$REDIS_DIR/redis.log" 2>/dev/null | tail -n 20
    return 1
}

redis_stop() {
    if [ -n "${REDIS_PID:-}" ]; then
        kill "$REDIS_PID" 2>/dev/null
        i=0
        while kill -0 "$REDIS_PID" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        kill -9 "$REDIS_PID" 2>/dev/null
        REDIS_PID=""
    fi
}

redis_cleanup() {
    redis_stop
    [ -n "${REDIS_DIR:-}" ] && rm -rf "$REDIS_DIR"
    REDIS_DIR=""
}

redis_cli() {
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"
}

case "${0##*/}" in
redis.sh)
    case "${1:-}" in
    exec) redis_exec "$2" "$3" ;;
    available) redis_available ;;
    *) echo "usage: sh tests/lib/redis.sh exec PORT DIR | available" >&2; exit 2 ;;
    esac
    ;;
esac
