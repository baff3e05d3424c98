#!/bin/sh
# Build the fuzz harnesses into build/fuzz/.
#
#   sh tests/fuzz/build.sh            libFuzzer + ASan + UBSan with clang when
#                                     it supports -fsanitize=fuzzer, else
#                                     replay-only binaries with cc + ASan
#   mkdir -p /tmp/qs-work
#   build/fuzz/fuzz_qs -max_total_time=60 /tmp/qs-work tests/fuzz/corpus/qs
#       (libFuzzer writes new inputs into the FIRST directory: keep the
#       committed corpus second; copy real finds into it by hand)
#   build/fuzz/replay_qs tests/fuzz/corpus/qs        (replay-only build)
#
# `make test` does not need this: tests/unit/test_fuzz_replay.c replays the
# corpus through the same targets (targets.h).
set -e
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
out=build/fuzz
mkdir -p "$out"
srcs="src/http/query.c src/http/multipart.c src/core/json_out.c src/core/core.c src/core/errors.c"
pkgs="jansson libsodium libcrypto libuv"
cflags="-std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer -Iinclude -Isrc $(pkg-config --cflags $pkgs)"
libs="$(pkg-config --libs $pkgs) -lm"
if printf 'int LLVMFuzzerTestOneInput(const char*d,long n){(void)d;(void)n;return 0;}\n' |
    clang -x c -fsanitize=fuzzer -o /dev/null - 2>/dev/null; then
    for t in qs form multipart; do
        clang $cflags -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
            -o "$out/fuzz_$t" tests/fuzz/fuzz_$t.c $srcs $libs
    done
    echo "built libFuzzer harnesses in $out"
else
    for t in qs form multipart; do
        ${CC:-cc} $cflags -fsanitize=address,undefined -o "$out/replay_$t" \
            tests/fuzz/fuzz_$t.c tests/fuzz/replay_main.c $srcs $libs
    done
    echo "no libFuzzer: built replay-only harnesses in $out"
fi
