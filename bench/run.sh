#!/bin/sh
# bench/run.sh - install what the benchmark needs, then run it (bench/run.mjs).
#
#   sh bench/run.sh [--smoke] [--rounds=N] [--seconds=S] [--only=ID,...]
#                   [--skip=ID,...] [--ah-bin=PATH] [--no-big] [--json=PATH]
#
# Installs when missing: Debian wrk and redis-server (apt-get, as root),
# Actionhero 29 from npm into bench/node_modules (bench/package-lock.json),
# and builds build/actionhero, build/bench/floor and build/bench/wsload.
# Whatever cannot be installed makes its columns say "n/a"; the run goes on.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

say() { echo "# bench: $*" >&2; }

apt_install() { # package
    [ "$(id -u)" = 0 ] || { say "not root: cannot apt-get install $1"; return 1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$1" >/dev/null 2>&1 && return 0
    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$1" >/dev/null 2>&1
}

command -v node >/dev/null 2>&1 || { say "node is required"; exit 1; }
command -v taskset >/dev/null 2>&1 || apt_install util-linux
command -v wrk >/dev/null 2>&1 || apt_install wrk || say "wrk is not available: the HTTP scenarios will say n/a"
command -v redis-server >/dev/null 2>&1 || apt_install redis-server ||
    say "redis-server is not available: Actionhero will say n/a"

if [ ! -f bench/node_modules/actionhero/package.json ]; then
    say "installing actionhero@29 into bench/node_modules"
    (cd bench && npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>&1) ||
        (cd bench && npm install --no-audit --no-fund --loglevel=error >/dev/null 2>&1) ||
        say "npm could not install actionhero: Actionhero will say n/a"
fi

for f in build/actionhero build/bench/floor build/bench/wsload; do
    if [ ! -x "$f" ]; then
        make --no-print-directory -s all build/bench/floor build/bench/wsload >&2 || exit 1
        break
    fi
done

exec node bench/run.mjs "$@"
