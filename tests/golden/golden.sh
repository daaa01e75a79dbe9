#!/usr/bin/env bash
# golden.sh GILSIM [--update] - the golden corpus: simulated output, byte for byte.
#
# Runs every lesson in scenarios/, every scenario in tests/scenario/good/ and
# tests/golden/scenarios/ through GILSIM and compares what it writes with the
# files recorded under tests/golden/out/:
#   NAME.txt           the printed summary and timeline, then "exit N"
#   NAME.trace.json    --trace (Chrome/Perfetto JSON)
#   NAME.csv           --csv
#   NAME.summary.json  --summary
#   NAME.svg           --svg
#   NAME.seed11.csv, NAME.seed11.summary.json   the same run at --seed 11
# Without --update: exit 0 when every byte agrees, 1 (with a diff excerpt and
# the list of differing files) when not. ctest runs it as `golden_corpus`.
#
# When a change is MEANT to change simulated output, regenerate the corpus in
# the same commit and say in the message which behaviour changed and why:
#   cmake --build --preset default -j2
#   tests/golden/golden.sh build/sim/cli/gilsim --update
#   git diff --stat tests/golden/out     # read what moved before committing
# A refactoring must leave the corpus untouched.
set -u
GILSIM=${1:?usage: golden.sh GILSIM [--update]}
MODE=${2:-check}
case "$MODE" in check | --update) ;; *)
    echo "golden.sh: unknown option '$MODE' (valid: --update)" >&2; exit 2 ;;
esac
GILSIM=$(cd "$(dirname "$GILSIM")" && pwd)/$(basename "$GILSIM")
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
OUT=$HERE/out
W=$(mktemp -d /tmp/gilsim-golden-XXXXXX)
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/out"

# record NAME FILE: every output of one scenario into $W/out.
record() {
    local name=$1 file=$2 o=$W/out/$1 rc
    # Relative to the source tree, so that no absolute path reaches the files.
    (cd "$SRC" && "$GILSIM" run "$file" >"$o.txt" 2>&1; echo "exit $?" >>"$o.txt")
    (cd "$SRC" && "$GILSIM" run "$file" --quiet --trace "$o.trace.json" --csv "$o.csv" \
        --summary "$o.summary.json" --svg "$o.svg" >/dev/null 2>&1)
    (cd "$SRC" && "$GILSIM" run "$file" --quiet --seed 11 --csv "$o.seed11.csv" \
        --summary "$o.seed11.summary.json" >/dev/null 2>&1)
    return 0
}

cd "$SRC" || exit 2
for f in scenarios/*.json; do record "lesson-$(basename "$f" .json)" "$f"; done
for f in tests/scenario/good/*.json; do record "good-$(basename "$f" .json)" "$f"; done
for f in tests/golden/scenarios/*.json; do record "test-$(basename "$f" .json)" "$f"; done

if [ "$MODE" = --update ]; then
    rm -rf "$OUT"
    cp -r "$W/out" "$OUT"
    echo "golden.sh: recorded $(find "$OUT" -type f | wc -l) files in $OUT"
    exit 0
fi
if [ ! -d "$OUT" ]; then
    echo "golden.sh: no corpus in $OUT; record it with: $0 $GILSIM --update" >&2
    exit 1
fi
if diff -r -q "$OUT" "$W/out" >"$W/diff.txt"; then
    echo "golden.sh: $(find "$OUT" -type f | wc -l) files, every byte as recorded"
    exit 0
fi
echo "golden.sh: the simulated output moved; differing files:"
sed 's/^/  /' "$W/diff.txt"
first=$(grep -m1 '^Files ' "$W/diff.txt" | awk '{print $2}')
if [ -n "$first" ]; then
    echo "first difference, in $(basename "$first"):"
    diff "$first" "$W/out/$(basename "$first")" | head -20
fi
echo "If the change is meant (a model fix), regenerate in the same commit:"
echo "  $0 <build>/sim/cli/gilsim --update   and say in the commit what changed and why."
exit 1
