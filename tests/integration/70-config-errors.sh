#!/bin/sh
# 70-config-errors: bad configuration stops boot with exit 1 and one line on
# stderr naming the source (file, variable or flag), the key and the problem;
# the command line's tool commands and their errors.
. "$(dirname "$0")/../lib/lib.sh"

# run_bin NAME [ENV=V ...] -- ARGS: runs the binary in $AH_DIR, sets RC, OUT, ERR
run_bin() {
    envs=""
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do envs="$envs $1"; shift; done
    shift
    # shellcheck disable=SC2086
    (cd "$AH_DIR" && env NODE_ENV=development $envs timeout 10 "$AH_BIN" "$@" >"$AH_DIR/out.txt" 2>"$AH_DIR/err.txt")
    RC=$?
    OUT=$(cat "$AH_DIR/out.txt")
    ERR=$(cat "$AH_DIR/err.txt")
}

# check_fail NAME WANT_LINE: exit 1 and exactly WANT_LINE on stderr, nothing on stdout
check_fail() {
    check_eq "$1: exit code" "$RC" 1
    check_eq "$1: one line on stderr" "$ERR" "$2"
    check_eq "$1: nothing on stdout" "$OUT" ""
}

cp "$AH_DIR/config/web.json" "$AH_DIR/web.json.orig"

printf '{\n  "port": 8080,\n  "padding": 2,\n}\n' > "$AH_DIR/config/web.json"
run_bin -- start
check_fail "bad JSON" "error: config/web.json:4:1: invalid JSON: string or '}' expected near '}'"

printf '{"port": "abc"}' > "$AH_DIR/config/web.json"
run_bin -- start
check_fail "bad value" 'error: config/web.json: web.port: expected an integer 1..65535 or a socket path, got "abc"'

printf '{"rootEndpointType": "both"}' > "$AH_DIR/config/web.json"
run_bin -- start
check_fail "rootEndpointType" "error: config/web.json: web.rootEndpointType: rootEndpointType can only be 'api' or 'file'"

printf '{"maxHeaderBytes": 1}' > "$AH_DIR/config/web.json"
run_bin -- start
check_fail "limit out of range" "error: config/web.json: web.maxHeaderBytes: expected an integer 1024..1048576, got 1"

cp "$AH_DIR/web.json.orig" "$AH_DIR/config/web.json"
mkdir -p "$AH_DIR/config/environments"
printf '{"web": {"padding": "x"}}' > "$AH_DIR/config/environments/staging.json"
run_bin -- start --NODE_ENV=staging
check_fail "environment file" 'error: config/environments/staging.json: web.padding: expected an integer 0..10, got "x"'
rm "$AH_DIR/config/environments/staging.json"

run_bin PORT=abc -- start
check_fail "PORT variable" 'error: environment variable PORT: web.port: expected an integer 1..65535 or a socket path, got "abc"'

run_bin AUTOMATIC_ROUTES=get,fetch -- start
check_fail "AUTOMATIC_ROUTES" "error: environment variable AUTOMATIC_ROUTES: web.automaticRoutes: fetch is not an HTTP verb"

run_bin 'ACTIONHERO_CONFIG_OVERRIDES={bad' -- start
check_fail "overrides variable" "error: could not parse ACTIONHERO_CONFIG_OVERRIDES: string or '}' expected near 'bad' (line 1, column 4)"

run_bin -- start '--ACTIONHERO_CONFIG_OVERRIDES={"web":{"port":"x"}}'
check_fail "overrides flag value" 'error: option --ACTIONHERO_CONFIG_OVERRIDES: web.port: expected an integer 1..65535 or a socket path, got "x"'

run_bin -- start --nope=1
check_fail "unknown flag" "error: unknown option '--nope'"

run_bin -- start extra
check_fail "positional argument" "error: unexpected argument 'extra'"

run_bin -- start --port=99999
check_fail "--port" 'error: option --port: web.port: expected an integer 1..65535 or a socket path, got "99999"'

run_bin -- start --set=web.enableEtag=maybe
check_fail "--set" 'error: option --set: web.enableEtag: expected true or false, got "maybe"'

run_bin -- start --config=nowhere
check_fail "--config missing" "error: option --config: config directory 'nowhere' does not exist"

run_bin -- bogus
check_eq "unknown command: exit code" "$RC" 1
check_eq "unknown command: message" "$ERR" "error: unknown command 'bogus'"

run_bin -- version
check_eq "version" "$RC:$OUT" "0:0.1.0"
run_bin -- --version
check_eq "--version" "$RC:$OUT" "0:0.1.0"
run_bin -- -V
check_eq "-V" "$RC:$OUT" "0:0.1.0"
run_bin -- help
check_eq "help: exit code" "$RC" 0
check_contains "help: lists start" "$OUT" "start "
check_contains "help: lists actions" "$OUT" "actions "

# a fatal error leaves no pid file behind
run_bin -- start --port=abc
check_eq "no pid file after a config error" "$(ls "$AH_DIR/pids" 2>/dev/null | wc -l | tr -d ' ')" 0
