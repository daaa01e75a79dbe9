#!/usr/bin/env bash
# bench_cli.sh GILSIM BENCH_EXPORT [--quick] - the CLI figures of
# docs/performance.md ("CLI and exports"). Not a test: run by ./run.sh bench.
#   1. a sweep of 1000 runs of the convoy lesson, --jobs 1 vs --jobs 2
#      (target: jobs 2 takes <= 0.6 x the time of jobs 1 on 2 cores)
#   2. `gilsim run` on a lesson (target: well under 100 ms)
#   3. exports of a ~1 000 000-interval trace (target: seconds)
set -eu
GILSIM=$1
EXPORT=$2
RUNS=1000
[ "${3:-}" = --quick ] && RUNS=100
SRC=${GILSIM_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
SCEN=$SRC/scenarios/03-convoy.json
W=$(mktemp -d /tmp/gilsim-bench-cli-XXXXXX)
trap 'rm -rf "$W"' EXIT
secs() { local a b; a=$(date +%s.%N); "$@" >/dev/null 2>&1; b=$(date +%s.%N); echo "$a $b" | awk '{printf "%.3f", $2 - $1}'; }

echo "== sweep of $RUNS convoy runs"
best_of3() { local b=999 t; for _ in 1 2 3; do t=$(secs "$@"); b=$(echo "$b $t" | awk '{print ($2 < $1) ? $2 : $1}'); done; echo "$b"; }
t1=$(best_of3 "$GILSIM" sweep "$SCEN" --set machine.cores=2 --repeat $RUNS --jobs 1 --out "$W/j1.csv")
t2=$(best_of3 "$GILSIM" sweep "$SCEN" --set machine.cores=2 --repeat $RUNS --jobs 2 --out "$W/j2.csv")
echo "jobs 1: $t1 s   jobs 2: $t2 s   ratio: $(echo "$t1 $t2" | awk '{printf "%.2f", $2 / $1}') (target <= 0.6)"
cmp -s "$W/j1.csv" "$W/j2.csv" && echo "rows identical for --jobs 1 and 2"

echo "== gilsim run on the convoy lesson (best of 5)"
best=9
for _ in 1 2 3 4 5; do
    t=$(secs "$GILSIM" run "$SCEN" --quiet)
    best=$(echo "$best $t" | awk '{print ($2 < $1) ? $2 : $1}')
done
echo "gilsim run: $best s (target well under 0.1 s)"
t=$(secs "$GILSIM" run "$SCEN" --quiet --summary "$W/s.json" --trace "$W/t.json" --csv "$W/t.csv" --svg "$W/t.svg")
echo "gilsim run with all four exports: $t s"

echo "== exports of a fabricated trace"
if [ "${3:-}" = --quick ]; then "$EXPORT" --quick; else "$EXPORT"; fi
