# testlib.sh - the TAP-style helpers the shell suites share (sourced).
#   check NAME CMD...       ok if CMD succeeds
#   expect CODE NAME CMD... ok if CMD exits CODE; its output in out.txt/err.txt
#   skip REASON             a check that cannot run here, and why
#   has TEXT FILE / lacks TEXT FILE
# The suite ends with: echo "1..$n"; exit $((failed > 0))
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
