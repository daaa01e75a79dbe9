#!/usr/bin/env bash
# view_bounded.sh VIEW - gilsim-view is bounded as gilsim run is (issue 18,
# docs/limits.md): the memory budget (--memory-budget, GILSIM_MEMORY_BUDGET)
# ends a memory bomb with the CLI's message, also under an address-space cap
# (ulimit -v); a window quits at once in the middle of a long run. Prints
# "ok N - name" per check.
set -u
TESTLIB=$(dirname "$(realpath "$0")")/../testlib.sh
VIEW=$(realpath "${1:?usage: view_bounded.sh VIEW}")
SAN=${GILSIM_SANITIZE:-}
W=$(mktemp -d /tmp/gilsim-view-bounded-XXXXXX)
trap 'rm -rf "$W"' EXIT
cd "$W" || exit 2
. "$TESTLIB"

# The issue's memory bomb: zero-time puts into an unbounded queue.
cat >bomb.json <<'JSON'
{"until":"1000s","max_events":1000000000000,"queues":{"q":{}},"threads":[{"name":"p","program":[{"repeat":1000000000,"do":[{"put":"q"}]}]}]}
JSON
# Two threads of 1 us ops for 1000 s: ~20 s to reach the default budget here.
cat >long.json <<'JSON'
{"name":"long","until":"1000s","max_events":1000000000000,"threads":[
 {"name":"a","program":[{"repeat":1000000000,"do":[{"cpu":"1us"},{"io":"1us"}]}]},
 {"name":"b","program":[{"repeat":1000000000,"do":[{"cpu":"1us"},{"io":"1us"}]}]}]}
JSON

# ---- --render: the picture up to the bound, gilsim run's message, exit 2 ----
expect 2 "a memory bomb stops at --memory-budget" timeout 120 "$VIEW" --render b.png --memory-budget 64M bomb.json
check "  with gilsim run's message" has "bomb.json: simulation stopped (limit): stopped at the memory budget of 64 MiB.*raise it with --memory-budget SIZE" err.txt
check "  and the picture up to there" test -s b.png
GILSIM_MEMORY_BUDGET=32M timeout 120 "$VIEW" --render e.png bomb.json >out.txt 2>err.txt
check "GILSIM_MEMORY_BUDGET sets the viewer's budget too" has "memory budget of 32 MiB" err.txt
expect 1 "a bad --memory-budget is a usage error" "$VIEW" --render x.png --memory-budget 12Q bomb.json
check "  which says what is valid" has "512M, 4G" err.txt
check "  and writes no picture" test ! -e x.png
expect 1 "a budget under 1M is refused, as by gilsim run" "$VIEW" --render x.png --memory-budget 1000 bomb.json
"$VIEW" --help | grep -q -- "--memory-budget" && pass "--help lists --memory-budget" || fail "--help lists --memory-budget"

if [ -n "$SAN" ]; then
    skip "memory bomb under ulimit -v: sanitizers reserve terabytes of address space"
    skip "default budget under ulimit -v"
else
    # A cap above the budget: the budget ends it (the view's own copies fit).
    start=$(date +%s)
    (ulimit -v 2500000; exec timeout 120 "$VIEW" --render c.png bomb.json) >out.txt 2>err.txt
    rc=$?
    check "under ulimit -v 2.5 GB the default budget (1 GiB) ends the bomb: exit 2 (got $rc)" test "$rc" -eq 2
    check "  with the budget's message ($(($(date +%s) - start)) s)" has "memory budget of 1 GiB" err.txt
    # A cap below the budget: out of memory first, said as such, promptly.
    (ulimit -v 800000; exec timeout 120 "$VIEW" --render d.png bomb.json) >out.txt 2>err.txt
    rc=$?
    check "under ulimit -v 800 MB the bomb ends with exit 2, not a crash (got $rc)" test "$rc" -eq 2
    check "  saying out of memory and what to lower" grep -Eq "out of memory.*lower the memory budget|memory budget of" err.txt
fi

# ---- a window: Q in the middle of a long run --------------------------------
if ! command -v xvfb-run >/dev/null; then
    skip "xvfb-run not installed: the window checks"
else
    # --quit-after sets the same flag as Q, 800 ms after the first frame,
    # while the run (~20 s to its budget) is still going.
    start=$(date +%s%N)
    xvfb-run -a -s "-screen 0 1280x720x24" timeout 120 "$VIEW" --quit-after 800 --timing long.json >out.txt 2>err.txt
    rc=$?
    ms=$((($(date +%s%N) - start) / 1000000))
    check "a window quits during a long run (exit $rc)" test "$rc" -eq 0
    check "  and it had drawn a frame meanwhile" has "first frame" err.txt
    check "  promptly: ${ms} ms, the run alone would take ~20 s" test "$ms" -lt 12000
    if [ -z "$SAN" ]; then
        xvfb-run -a -s "-screen 0 1280x720x24" bash -c 'ulimit -v 2500000; exec timeout 120 "$0" --quit-after 2000 bomb.json' "$VIEW" >out.txt 2>err.txt
        rc=$?
        check "a window with the bomb under ulimit -v stays up and quits (exit $rc)" test "$rc" -eq 0
    fi
fi

echo "1..$n"
exit $((failed > 0))
