#!/usr/bin/env bash
# instructions.sh GILSIM SCENARIO.json [TOP] - the engine's own instructions per
# simulated run, counted by callgrind (valgrind), which a loaded machine does
# not disturb: the bench's 50-run sweep (five switch intervals, ten seeds)
# of SCENARIO on one job, the total over 50 and the TOP (default 20)
# functions' share, per run. docs/performance.md ("The engine's own
# instructions") was measured with it on the fitted producer_consumer.py.
set -eu
G=${1:?usage: instructions.sh GILSIM SCENARIO.json [TOP]}
F=${2:?usage: instructions.sh GILSIM SCENARIO.json [TOP]}
TOP=${3:-20}
command -v valgrind >/dev/null || { echo "instructions.sh: valgrind is not installed" >&2; exit 77; }
W=$(mktemp -d /tmp/gilsim-instr-XXXXXX)
trap 'rm -rf "$W"' EXIT
valgrind --tool=callgrind --callgrind-out-file="$W/cg.out" "$G" sweep "$F" \
    --set python.switch_interval=1ms,2ms,3ms,4ms,5ms --repeat 10 --jobs 1 --out "$W/s.csv" \
    >"$W/log" 2>&1 || { cat "$W/log" >&2; exit 1; }
total=$(grep -o 'refs: *[0-9,]*' "$W/log" | tr -d ', ' | cut -d: -f2)
awk -v t="$total" 'BEGIN { printf "%.3f M instructions a run (%s over 50 runs)\n", t / 50e6, t }'
callgrind_annotate "$W/cg.out" 2>/dev/null | awk -v top="$TOP" '
    /file:function/ { on = 1; next }
    on && /^ *[0-9,]+ *\( *[0-9.]+%\) / && n < top {
        v = $1; gsub(/,/, "", v)
        name = $0; sub(/^ *[0-9,]+ *\( *[0-9.]+%\) */, "", name); sub(/ \[.*$/, "", name)
        printf "%8.3f M  %s\n", v / 50e6, name; n++ }'
