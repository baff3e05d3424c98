#!/bin/sh
# Install what the build and the tests need, from the project's own files.
#
#   tools/deps.sh build   Debian -dev packages + llhttp 9.2 (trixie) in build/deps
#   tools/deps.sh test    the above + redis-server, curl, node packages for tests
#   tools/deps.sh browser the above + chromium and playwright-core
#
# Debian packages are installed with apt-get when we run as root; otherwise
# the apt-get command is printed and we stop.  llhttp is fetched without
# touching the machine's package state: a private sources list naming the
# trixie suite of the mirror this machine already uses, apt-get download, and
# dpkg -x into build/deps (bookworm's node-llhttp 8.1 accepts bare-CR header
# separators and obs-fold, which lets requests be smuggled).
set -eu

what=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
deps="$top/build/deps"

pkgs="build-essential pkg-config libuv1-dev libwslay-dev libjansson-dev libyajl-dev libsodium-dev libhiredis-dev libssl-dev libpcre2-dev zlib1g-dev"
case "$what" in
test|browser) pkgs="$pkgs redis-server curl python3" ;;
esac
case "$what" in
browser) pkgs="$pkgs chromium" ;;
esac

missing=""
for p in $pkgs; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "deps: installing$missing"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null || apt-get update
        apt-get install -y -qq --no-install-recommends $missing >/dev/null
    else
        echo "deps: missing Debian packages:$missing" >&2
        echo "deps: run: sudo apt-get install -y$missing" >&2
        exit 1
    fi
fi

# llhttp >= 9.2 from Debian trixie, unpacked under build/deps.
if [ ! -f "$deps/lib/libllhttp.a" ] || [ ! -f "$deps/include/llhttp.h" ]; then
    echo "deps: fetching llhttp 9.2 from Debian trixie into build/deps"
    aptdir="$top/build/apt"
    mkdir -p "$aptdir/lists/partial" "$aptdir/archives/partial" "$deps"
    # the mirror the machine already uses
    mirror=$( (sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/*.sources 2>/dev/null;
               sed -n 's/^deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]\{1,\}\)\{0,1\}\([^[:space:]]*\).*/\2/p' \
                   /etc/apt/sources.list 2>/dev/null) | tr ' ' '\n' | grep -E '^https?://' | grep -v security | head -n 1)
    [ -n "$mirror" ] || mirror="http://deb.debian.org/debian"
    echo "deb [trusted=yes] $mirror trixie main" > "$aptdir/sources.list"
    aptopts="-o Dir::Etc::SourceList=$aptdir/sources.list -o Dir::Etc::SourceParts=/dev/null \
             -o Dir::State::Lists=$aptdir/lists -o Dir::Cache::Archives=$aptdir/archives \
             -o Dir::State::Status=/var/lib/dpkg/status -o APT::Get::List-Cleanup=0 \
             -o Acquire::Check-Valid-Until=false -o Debug::NoLocking=1 -o APT::Sandbox::User=root"
    # shellcheck disable=SC2086
    apt-get $aptopts -qq update >/dev/null
    (cd "$aptdir/archives" && apt-get $aptopts -qq download libllhttp-dev libllhttp9.2 >/dev/null)
    rm -rf "$aptdir/x" && mkdir -p "$aptdir/x"
    for f in "$aptdir"/archives/libllhttp*.deb; do dpkg -x "$f" "$aptdir/x"; done
    mkdir -p "$deps/lib" "$deps/include" "$deps/lib/pkgconfig"
    a=$(find "$aptdir/x" -name 'libllhttp.a' | head -n 1)
    h=$(find "$aptdir/x" -name 'llhttp.h' | head -n 1)
    pc=$(find "$aptdir/x" -name 'libllhttp.pc' | head -n 1)
    [ -n "$a" ] && [ -n "$h" ] || { echo "deps: libllhttp.a or llhttp.h not found in the trixie packages" >&2; exit 1; }
    cp "$a" "$deps/lib/libllhttp.a"
    cp "$h" "$deps/include/llhttp.h"
    [ -n "$pc" ] && cp "$pc" "$deps/lib/pkgconfig/libllhttp.pc"
    echo "deps: llhttp $(sed -n 's/^#define LLHTTP_VERSION_MAJOR //p' "$deps/include/llhttp.h").$(sed -n 's/^#define LLHTTP_VERSION_MINOR //p' "$deps/include/llhttp.h") in build/deps"
fi

case "$what" in
test|browser)
    if [ ! -d "$top/tests/node_modules/ws" ] || [ ! -d "$top/tests/node_modules/node-resque" ]; then
        echo "deps: npm install in tests/"
        (cd "$top/tests" && npm install --no-audit --no-fund --silent >/dev/null)
    fi
    # Node Actionhero 29 for the interop tests (docs/cluster.md)
    if [ ! -d "$top/tests/interop/node_modules/actionhero" ]; then
        echo "deps: npm install in tests/interop/ (actionhero 29)"
        (cd "$top/tests/interop" && npm install --no-audit --no-fund --silent >/dev/null)
    fi
    ;;
esac
case "$what" in
browser)
    # the browser tests drive /usr/bin/chromium (Debian) with playwright-core;
    # playwright never downloads a browser of its own here
    if [ ! -d "$top/tests/node_modules/playwright-core" ]; then
        echo "deps: npm install in tests/ (playwright-core)"
        (cd "$top/tests" && npm install --no-audit --no-fund --silent >/dev/null)
    fi
    [ -x /usr/bin/chromium ] || { echo "deps: /usr/bin/chromium is missing after installing chromium" >&2; exit 1; }
    ;;
esac
exit 0
