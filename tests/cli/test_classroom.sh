#!/usr/bin/env bash
# test_classroom.sh GILSIM JSONCHECK - the defects a new user found (issue 17)
# in the exports: SVG subtitle and legend, the sweep chart's units, clipping
# and closing message, the Perfetto counter tracks and hand-off flows.
set -u
. "$(dirname "$0")/tap.sh"
tap_begin "${1:?usage: test_classroom.sh GILSIM JSONCHECK}" "${2:?usage: test_classroom.sh GILSIM JSONCHECK}" classroom

# SVG: "done (shown: ...)", not "done:  (shown"; a deadlock's reason on lines
# of its own that fit; the legend has the striped "ready, still holding".
"$GILSIM" run "$SRC/scenarios/03-convoy.json" --quiet --svg c.svg
check "SVG subtitle reads 'done (shown:'" grep -q 'seed 7, done (shown: ' c.svg
check "no empty message in the subtitle" sh -c '! grep -q "done:  (shown" c.svg'
check "legend names 'ready, still holding the GIL'" grep -q 'ready, still holding the GIL' c.svg
"$GILSIM" run "$SRC/scenarios/11-deadlock.json" --quiet --svg d.svg
check "deadlock subtitle has no message glued to it" grep -q 'deadlock (shown: ' d.svg
check "the cycle is on its own lines" grep -q '>transfer-1 holds lock' d.svg
long=$(grep -o '<text[^>]*>[^<]*</text>' d.svg | sed 's/<[^>]*>//g' | awk 'length > 150' | wc -l)
check "no text line longer than the picture holds" test "$long" -eq 0
"$GILSIM" run "$SRC/scenarios/10-more-threads-than-cores.json" --quiet --svg r.svg --set machine.policy=rr
check "a thread ready while holding the GIL is striped" grep -q 'height="[0-9.]*" fill="#0072B2" pointer-events="none"' r.svg

# Sweep: times in ms, not 5e+06; a long series legend fits; a closing line.
"$GILSIM" sweep "$SRC/scenarios/03-convoy.json" --set python.switch_interval=1ms,5ms,20ms \
    --set 'threads[0].name=a-rather-long-thread-name-for-a-legend,b' --out s.csv \
    --plot s.svg --metric io_to_gil_ns.p50 2>err.txt
check "sweep says how many rows, where, how long" grep -q '6 rows written to s.csv, chart in s.svg in [0-9.]* s' err.txt
check "no raw exponent on the chart" sh -c '! grep -q "e+0" s.svg'
check "the y axis is in time units" grep -q 'text-anchor="end">[0-9.]* ms<' s.svg
width=$(grep -o 'svg xmlns[^>]*width="[0-9]*"' s.svg | grep -o '[0-9]*"$' | tr -d '"')
need=$(grep -o '<text x="[0-9.]*"[^>]*font-size="13"[^>]*>[^<]*' s.svg | sed 's/<text x="\([0-9.]*\)".*>\(.*\)/\1 \2/' |
    awk '{x=$1; $1=""; w=x+7.5*length($0); if (w>m) m=w} END {printf "%d", m}')
check "the legend fits in the picture ($need <= $width px)" test "$need" -le "$width"

# Perfetto: counters and a flow per GIL hand-off.
for f in 03-convoy 12-producer-consumer; do
    "$GILSIM" run "$SRC/scenarios/$f.json" --quiet --trace t.json --summary s.json
    "$JC" trace t.json >trace.txt
    check "$f: trace has counter tracks" grep -q 'counters=[1-9]' trace.txt
    sw=$("$JC" get s.json gil.switches)
    check "$f: a flow per GIL hand-off ($sw)" grep -q "flows=$sw\$" trace.txt
    check "$f: GIL waiters counter" grep -q '"name":"GIL waiters","ph":"C"' t.json
done
check "producer-consumer has a queue depth track" grep -q '"name":"queue [^"]*","ph":"C"' t.json

tap_end
