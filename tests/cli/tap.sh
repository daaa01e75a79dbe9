# tap.sh - shared by the CLI test scripts (source it): TAP output and the
# checks they make. tap_begin GILSIM JSONCHECK PREFIX makes both paths
# absolute, sets SRC (the source tree) and moves into a fresh folder W that
# is removed at exit. Then: pass NAME, fail NAME [DETAIL...], check NAME
# CMD... (CMD must succeed), expect CODE NAME CMD... (exit CODE; its output
# in out.txt and err.txt), has/lacks PATTERN FILE (true/false), finds NAME
# PATTERN FILE (a check that FILE has PATTERN), tap_end (the plan, status).
tap_begin() {
    GILSIM=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
    JC=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
    SRC=${GILSIM_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
    W=$(mktemp -d "/tmp/gilsim-$3-XXXXXX")
    trap 'rm -rf "$W"' EXIT
    cd "$W" || exit 2
    n=0
    failed=0
}
# pass, fail, skip, check, expect, has, lacks: the helpers every shell suite shares.
. "$(dirname "${BASH_SOURCE[0]}")/../testlib.sh"
finds() { if grep -q -- "$2" "$3"; then pass "$1"; else fail "$1" "no '$2' in $3:" "$(head -c 800 "$3")"; fi; }
tap_end() {
    echo "1..$n"
    [ "$failed" -eq 0 ]
}
