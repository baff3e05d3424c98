#!/bin/sh
# 71-config-env: configuration seen on the wire: PORT, --port, --set,
# the environment overlays (production: compact JSON without metadata;
# test: metadata), AUTOMATIC_ROUTES, config files and environment files.
. "$(dirname "$0")/../lib/lib.sh"

# start_web [ENV=V ...] -- ARGS: start on $PORT_USED in $AH_DIR, wait until it answers
start_web() {
    envs=""
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do envs="$envs $1"; shift; done
    shift
    LOG="$AH_DIR/server-$(date +%s%N).log"
    # shellcheck disable=SC2086
    (cd "$AH_DIR" && exec env $envs "$AH_BIN" start --bindIP=127.0.0.1 "$@" >"$LOG" 2>&1) &
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
stop_web() {
    kill "$PID" 2>/dev/null
    wait "$PID"
    RC=$?
}

# PORT from the environment; the test environment turns metadata on
PORT_USED=$(free_port)
start_web NODE_ENV=test PORT="$PORT_USED" AUTOMATIC_ROUTES=get -- || exit 1
BODY=$(curl -s "http://127.0.0.1:$PORT_USED/api/randomNumber")
check_eq "PORT: served on it" "$(json_get "$BODY" requesterInformation.receivedParams.action)" "randomNumber"
check_eq "test: serverInformation on" "$(json_get "$BODY" serverInformation.serverName)" "actionhero"
check_contains "padding 2: indented" "$BODY" '
  "randomNumber": '
stop_web
check_eq "PORT run: exit 0" "$RC" 0

# production: padding null (compact), no metadata, from the built-in overlay
# and the shipped config/environments/production.json alike
PORT_USED=$(free_port)
start_web NODE_ENV=production AUTOMATIC_ROUTES=get -- --port="$PORT_USED" || exit 1
BODY=$(curl -s "http://127.0.0.1:$PORT_USED/api/randomNumber")
case "$BODY" in
'{"randomNumber":'*'}') ok "production: compact JSON" ;;
*) not_ok "production: compact JSON" "$BODY" ;;
esac
check_not_contains "production: no serverInformation" "$BODY" "serverInformation"
check_not_contains "production: no requesterInformation" "$BODY" "requesterInformation"
stop_web

# --set and references: X-Powered-By follows general.serverName
PORT_USED=$(free_port)
start_web NODE_ENV=development -- --port="$PORT_USED" --set=general.serverName=shop \
    '--set=web.httpHeaders.X-Extra="yes"' --set=web.padding=null || exit 1
HDRS=$(curl -s -D - -o "$AH_DIR/body.txt" "http://127.0.0.1:$PORT_USED/api/status" | tr -d '\r' | tr 'A-Z' 'a-z')
check_contains "--set: X-Powered-By follows serverName" "$HDRS" "x-powered-by: shop"
check_contains "--set: extra header" "$HDRS" "x-extra: yes"
check_eq "--set null: compact JSON (one line)" "$(wc -l < "$AH_DIR/body.txt" | tr -d ' '):$(head -c 6 "$AH_DIR/body.txt")" '0:{"id":'
stop_web

# config files: a project's web.json and an environment file
PORT_USED=$(free_port)
node -e '
const fs = require("fs"), f = process.argv[1] + "/config/web.json";
const o = JSON.parse(fs.readFileSync(f, "utf8")); o.urlPathForActions = "v1"; fs.writeFileSync(f, JSON.stringify(o));
fs.mkdirSync(process.argv[1] + "/config/environments", {recursive: true});
fs.writeFileSync(process.argv[1] + "/config/environments/staging.json", JSON.stringify({web: {rootEndpointType: "api"}}));
' "$AH_DIR"
start_web NODE_ENV=staging PORT="$PORT_USED" AUTOMATIC_ROUTES=get -- || exit 1
check_eq "config/web.json: urlPathForActions" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT_USED/v1/randomNumber")" 200
check_eq "environment file: rootEndpointType api" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT_USED/randomNumber")" 200
check_eq "the old prefix is gone" "$(json_get "$(curl -s "http://127.0.0.1:$PORT_USED/api/randomNumber")" error)" "unknown action or invalid apiVersion"
stop_web
