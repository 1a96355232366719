#!/bin/sh
# Runs every test program given as arguments, then every interop script under
# tests/interop/ (unless SKIP_INTEROP=1), and adds up their "SUMMARY <passed>
# <failed>" lines. A program that dies without a summary counts as one failure.
# The last line is "N passed, N failed"; the exit status is non-zero on any failure.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
passed=0
failed=0
log_dir=$BUILD/test-logs
mkdir -p "$log_dir"

run_one() {
    name=$1
    shift
    log="$log_dir/$(basename "$name").log"
    "$@" >"$log" 2>&1
    status=$?
    summary=$(grep '^SUMMARY ' "$log" | tail -n 1)
    if [ -z "$summary" ]; then
        echo "FAIL $name (exit $status, no summary; see $log)"
        tail -n 20 "$log"
        failed=$((failed + 1))
        return
    fi
    p=$(echo "$summary" | cut -d' ' -f2)
    f=$(echo "$summary" | cut -d' ' -f3)
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$f" -ne 0 ] || [ "$status" -ne 0 ]; then
        echo "FAIL $name: $p passed, $f failed (see $log)"
        grep -E '^(not ok|[^:]+:[0-9]+:[EF]:)' "$log" | head -n 40
        [ "$f" -eq 0 ] && failed=$((failed + 1))
    else
        echo "ok   $name: $p passed"
    fi
}

for bin in "$@"; do
    run_one "$bin" "$bin"
done

if [ "${SKIP_INTEROP:-0}" != 1 ]; then
    for script in tests/interop/*.sh; do
        [ -e "$script" ] || continue
        run_one "$script" sh "$script"
    done
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
