#!/usr/bin/env bash
# hostile.sh GILSIM - what docs/limits.md promises, tried as an attacker
# would. Prints "ok N - name" or "not ok N - name" per check; exits non-zero
# if any failed.
set -u
GILSIM=$(realpath "${1:?usage: hostile.sh GILSIM}")
SAN=${GILSIM_SANITIZE:-}
W=$(mktemp -d /tmp/gilsim-hostile-XXXXXX)
trap 'rm -rf "$W"' EXIT
cd "$W" || exit 2

n=0
failed=0
pass() { n=$((n + 1)); echo "ok $n - $1"; }
fail() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; [ $# -gt 0 ] && printf '    %s\n' "$@"; }
skip() { n=$((n + 1)); echo "ok $n - # SKIP $1"; }
check() { # check NAME CONDITION...
    local name=$1; shift
    if "$@"; then pass "$name"; else fail "$name" "failed: $*" "stderr: $(head -c 400 err.txt 2>/dev/null)"; fi
}
# expect CODE NAME CMD...: runs CMD with stdout/stderr in out.txt/err.txt
expect() {
    local want=$1 name=$2; shift 2
    "$@" >out.txt 2>err.txt
    local got=$?
    if [ "$got" -eq "$want" ]; then pass "$name (exit $want)"; else
        fail "$name" "exit $got, wanted $want: $*" "stderr: $(head -c 600 err.txt)"
    fi
}
has() { grep -q -- "$1" "$2"; }
lacks() { ! grep -q -- "$1" "$2"; }
no_temp_files() { [ -z "$(find . -name '.*.??????' -print -quit)" ]; }

cat >ok.json <<'JSON'
{ "name": "ok", "threads": [ { "name": "a", "program": [ { "cpu": "2ms" } ] } ] }
JSON
# ~140 bytes that validate and would grow without bound: zero-time puts into
# an unbounded queue, a huge repeat, a long until and max_events.
cat >bomb.json <<'JSON'
{"until":"1000s","max_events":1000000000000,"queues":{"q":{}},"threads":[{"name":"p","program":[{"repeat":1000000000,"do":[{"put":"q"}]}]}]}
JSON

# ---- the memory budget ---------------------------------------------------
expect 2 "a memory bomb stops at the budget" "$GILSIM" run bomb.json --memory-budget 16M --summary s.json --csv c.csv --quiet
check "the message names the budget and how to raise it" has "memory budget of 16 MiB.*--memory-budget" err.txt
check "the summary is written, outcome limit" has '"outcome":.*"limit"' s.json
check "the CSV up to that point is written" test -s c.csv
GILSIM_MEMORY_BUDGET=8M "$GILSIM" run bomb.json --quiet >out.txt 2>err.txt
check "GILSIM_MEMORY_BUDGET sets the budget" has "memory budget of 8 MiB" err.txt
expect 1 "a bad --memory-budget is a usage error" "$GILSIM" run ok.json --memory-budget 12Q
check "  which says what is valid" has "512M, 4G" err.txt
expect 2 "a sweep's runs have the budget too" "$GILSIM" sweep bomb.json --set seed=1,2 --memory-budget 8M --out sw.csv
check "  and their rows say limit" test "$(grep -c ',limit,' sw.csv)" -eq 2
if [ -n "$SAN" ]; then
    skip "memory bomb under ulimit -v: sanitizers reserve terabytes of address space"
else
    # Less memory than the default budget: the first failed allocation ends
    # the run promptly with a clear message (no crash, no minutes of work).
    (ulimit -v 300000; exec "$GILSIM" run bomb.json --quiet) >out.txt 2>err.txt
    rc=$?
    check "under ulimit -v the bomb ends with exit 2, not a crash (got $rc)" test "$rc" -eq 2
    check "  saying out of memory or limit" grep -Eq "out of memory|memory budget" err.txt
fi

echo "1..$n"
exit $((failed > 0))
