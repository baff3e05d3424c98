#!/bin/sh
# Run every suite: unit tests (normal and ASan+UBSan builds), then the
# integration tests against both binaries.  Ends with "N passed, N failed".
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
results=$(mktemp)
trap 'rm -f "$results"' EXIT

run_unit() { # builddir label
    for t in "$1"/unit/test_*; do
        [ -x "$t" ] || continue
        out=$("$t" 2>&1)
        rc=$?
        line=$(printf '%s\n' "$out" | sed -n 's/^# passed \([0-9]*\) failed \([0-9]*\)$/\1 \2/p' | tail -n 1)
        [ -n "$line" ] || line="0 1"
        set -- "$1" "$2" $line
        p=$3 f=$4
        if [ $rc -ne 0 ] && [ "$f" = 0 ]; then f=1; fi
        if [ "$f" != 0 ]; then
            printf '%s\n' "$out" | grep -v '^# passed' | tail -n 40
            echo "FAIL unit [$2] $(basename "$t"): $p passed, $f failed (exit $rc)"
        else
            echo "ok   unit [$2] $(basename "$t"): $p passed"
        fi
        echo "$p $f" >> "$results"
        set -- "$1" "$2"
    done
}

run_integration() { # binary label
    for t in tests/integration/[0-9]* tests/interop/[0-9]*; do
        case "$t" in *.sh|*.mjs) ;; *) continue ;; esac
        if [ -n "${ONLY:-}" ] && ! echo "$t" | grep -q -- "$ONLY"; then continue; fi
        case "$t" in
        *.sh) out=$(AH_BIN="$1" timeout 300 sh "$t" 2>&1) ;;
        *.mjs) out=$(AH_BIN="$1" timeout 300 node "$t" 2>&1) ;;
        esac
        rc=$?
        p=$(printf '%s\n' "$out" | grep -c '^ok ')
        f=$(printf '%s\n' "$out" | grep -c '^not ok ')
        if [ $rc -ne 0 ] && [ "$f" = 0 ]; then f=1; fi
        if printf '%s\n' "$out" | grep -q 'ERROR: \(Address\|Leak\)Sanitizer\|runtime error:'; then
            f=$((f + 1))
            printf '%s\n' "$out" | grep -A20 'Sanitizer\|runtime error:' | head -n 40
        fi
        if [ "$f" != 0 ]; then
            printf '%s\n' "$out" | grep -v '^ok ' | tail -n 40
            echo "FAIL integration [$2] $t: $p passed, $f failed (exit $rc)"
        else
            echo "ok   integration [$2] $t: $p passed"
        fi
        echo "$p $f" >> "$results"
    done
}

if [ -z "${SKIP_UNIT:-}" ]; then
    run_unit build normal
    [ -d build/asan/unit ] && run_unit build/asan asan
fi
if [ -z "${SKIP_INTEGRATION:-}" ]; then
    run_integration "$top/build/actionhero-test" normal
    if [ -x build/asan/actionhero-test ] && [ -z "${SKIP_ASAN:-}" ]; then
        export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1
        run_integration "$top/build/asan/actionhero-test" asan
    fi
fi

passed=$(awk '{s+=$1} END {print s+0}' "$results")
failed=$(awk '{s+=$2} END {print s+0}' "$results")
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
