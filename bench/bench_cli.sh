#!/usr/bin/env bash
# bench_cli.sh GILSIM BENCH_EXPORT [--quick] - the CLI figures of
# docs/performance.md ("CLI and exports"). Not a test: run by ./run.sh bench.
#   1. a sweep of 1000 runs of the convoy lesson, --jobs 1 vs --jobs 2
#      (target: jobs 2 takes <= 0.6 x the time of jobs 1 on 2 cores), with
#      what bounds that ratio: the fixed cost of any sweep and the part
#      that is runs; the same for a sweep over two parameters and for
#      10 000 runs
#   2. `gilsim run` on a lesson (target: well under 100 ms)
#   3. exports of a ~1 000 000-interval trace (target: seconds)
# Whole commands are timed by bench_timeit (next to BENCH_EXPORT), in
# interleaved rounds, and compared by their medians.
set -eu
GILSIM=$1
EXPORT=$2
TIMEIT=$(dirname "$EXPORT")/bench_timeit
RUNS=1000
ROUNDS=15
[ "${3:-}" = --quick ] && RUNS=100 && ROUNDS=3
SRC=${GILSIM_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
SCEN=$SRC/scenarios/03-convoy.json
W=$(mktemp -d /tmp/gilsim-bench-cli-XXXXXX)
trap 'rm -rf "$W"' EXIT
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", b / a}'; }

# scaling LABEL ROUNDS SWEEP-ARGS...: --jobs 1 and --jobs 2, interleaved.
scaling() {
    local label=$1 rounds=$2
    shift 2
    local out m1 m2
    out=$("$TIMEIT" "$rounds" "$GILSIM" sweep "$@" --jobs 1 --out "$W/j1.csv" ";;" \
        "$GILSIM" sweep "$@" --jobs 2 --out "$W/j2.csv")
    m1=$(echo "$out" | sed -n 1p | cut -d' ' -f1)
    m2=$(echo "$out" | sed -n 2p | cut -d' ' -f1)
    echo "$label: jobs 1 $m1 ms, jobs 2 $m2 ms (medians of $rounds), ratio $(ratio "$m1" "$m2") (target <= 0.6)"
    cmp -s "$W/j1.csv" "$W/j2.csv" || echo "  ROWS DIFFER between --jobs 1 and 2"
    J1=$m1 J2=$m2
}

echo "== sweeps of the convoy lesson"
scaling "$RUNS runs (--repeat)" "$ROUNDS" "$SCEN" --set machine.cores=2 --repeat "$RUNS"
# What every sweep costs besides its runs: the process, loading, writing
# the CSV (fsync and rename included); measured as a sweep of two runs.
fixed=$("$TIMEIT" "$ROUNDS" "$GILSIM" sweep "$SCEN" --set machine.cores=2 --repeat 2 --jobs 1 \
    --out "$W/f.csv" ";;" "$GILSIM" --version)
f=$(echo "$fixed" | sed -n 1p | cut -d' ' -f1)
v=$(echo "$fixed" | sed -n 2p | cut -d' ' -f1)
echo "  fixed part: a 2-run sweep $f ms, of which starting and ending a process ('gilsim --version') $v ms"
echo "  the runs alone: jobs 1 $(awk -v a="$J1" -v f="$f" 'BEGIN {printf "%.1f", a - f}') ms," \
    "jobs 2 $(awk -v a="$J2" -v f="$f" 'BEGIN {printf "%.1f", a - f}') ms," \
    "ratio $(awk -v a="$J1" -v b="$J2" -v f="$f" 'BEGIN {printf "%.2f", (b - f) / (a - f)}')"
scaling "$RUNS runs (5 switch intervals x 4 core counts x $((RUNS / 20)))" "$ROUNDS" "$SCEN" \
    --set python.switch_interval=1ms,2ms,5ms,10ms,20ms --set machine.cores=1,2,4,8 \
    --repeat $((RUNS / 20))
scaling "$((RUNS * 10)) runs (--repeat)" 3 "$SCEN" --set machine.cores=2 --repeat $((RUNS * 10))

echo "== gilsim run on the convoy lesson (best of 5)"
runs=$("$TIMEIT" 5 "$GILSIM" run "$SCEN" --quiet ";;" \
    "$GILSIM" run "$SCEN" --quiet --summary "$W/s.json" --trace "$W/t.json" --csv "$W/t.csv" \
    --svg "$W/t.svg")
echo "gilsim run: $(echo "$runs" | sed -n 1p | cut -d' ' -f2) ms (target well under 100 ms)"
echo "gilsim run with all four exports: $(echo "$runs" | sed -n 2p | cut -d' ' -f2) ms"

echo "== exports of a fabricated trace"
if [ "${3:-}" = --quick ]; then "$EXPORT" --quick; else "$EXPORT"; fi
