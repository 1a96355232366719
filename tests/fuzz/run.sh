#!/bin/sh
# tests/fuzz/run.sh NAME... — what `make fuzz` runs after building $BUILD/fuzz/fuzz_NAME.
#
# Each target runs FUZZ_SECONDS (default 60) from its corpus tests/fuzz/corpus/NAME/
# (read only) into a scratch corpus $BUILD/fuzz/work/NAME/, with the -max_len that suits
# its inputs and tests/fuzz/dict/NAME.dict when there is one. Then the scratch inputs
# that add coverage are merged into tests/fuzz/corpus/NAME/ (-merge=1). A crash leaves
# its input in $BUILD/fuzz/artifacts/NAME/ (minimise it with -minimize_crash=1, fix the
# bug, then copy it into the corpus as a regression input). One line per target:
# executions, seconds, final cov/ft, files merged, crashes. FUZZ_ARGS adds libFuzzer
# options. Exit status: non-zero when any target crashed.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_ARGS=${FUZZ_ARGS:-}
status=0

max_len() {
    case $1 in
    server | client) echo 24000 ;;
    record) echo 20000 ;;
    certkey) echo 12000 ;;
    msgs | verify | config) echo 8192 ;;
    session_store) echo 4096 ;;
    ticket) echo 2048 ;;
    proxy) echo 1024 ;;
    *) echo 4096 ;;
    esac
}

for name in "$@"; do
    bin=$BUILD/fuzz/fuzz_$name
    corpus=tests/fuzz/corpus/$name
    work=$BUILD/fuzz/work/$name
    art=$BUILD/fuzz/artifacts/$name
    log=$BUILD/fuzz/logs/$name.log
    len=$(max_len "$name")
    mkdir -p "$corpus" "$work" "$art" "$BUILD/fuzz/logs"
    dict=""
    [ -f "tests/fuzz/dict/$name.dict" ] && dict="-dict=tests/fuzz/dict/$name.dict"
    before=$(ls "$corpus" | wc -l)
    start=$(date +%s)
    # shellcheck disable=SC2086 # dict and FUZZ_ARGS are lists of options
    "$bin" -max_total_time="$FUZZ_SECONDS" -max_len="$len" -timeout=30 -rss_limit_mb=2560 \
        -print_final_stats=1 -artifact_prefix="$art/" $dict $FUZZ_ARGS "$work" "$corpus" \
        >"$log" 2>&1 </dev/null
    rc=$?
    secs=$(($(date +%s) - start))
    "$bin" -merge=1 -max_len="$len" "$corpus" "$work" >"$log.merge" 2>&1 </dev/null
    after=$(ls "$corpus" | wc -l)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    covft=$(grep -E '^#[0-9]+.*cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1 |
        sed -E 's/.*cov: ([0-9]+) ft: ([0-9]+).*/cov \1 ft \2/')
    crashes=$(ls "$art" | grep -E '^(crash|leak|timeout|oom|slow-unit)-' | tr '\n' ' ')
    echo "$name: ${execs:-0} execs in ${secs}s, ${covft:-cov ? ft ?}, corpus $before -> $after files${crashes:+, FOUND: $crashes}"
    if [ "$rc" -ne 0 ] || [ -n "$crashes" ]; then
        status=1
        grep -E 'ERROR: |runtime error|invariant broken|SUMMARY: ' "$log" | head -n 5
    fi
done
exit $status
