#!/usr/bin/env bash
# lessons_documented.sh SOURCE_DIR [GILSIM_VIEW] - every scenario in scenarios/
# is a lesson a teacher can find: it is named in docs/lessons.md together with
# its picture (img/<stem>.png), and tests/lessons/ has a test that loads it.
# Every lesson's "Vary it" has an "In the viewer" line that says which keys to
# press (issue 17), and with GILSIM_VIEW every gilsim-view command in those
# lines draws (--render) without an error.
set -uo pipefail
src=${1:?usage: lessons_documented.sh SOURCE_DIR [GILSIM_VIEW]}
view=${2:-}
notes="$src/docs/lessons.md"
fail=0
n=0
for f in "$src"/scenarios/*.json; do
    stem=$(basename "$f" .json)
    n=$((n + 1))
    grep -q "$stem.json" "$notes" || { echo "FAIL $stem.json is not named in docs/lessons.md"; fail=1; }
    grep -q "img/$stem.png" "$notes" || { echo "FAIL docs/lessons.md shows no picture img/$stem.png"; fail=1; }
    grep -q "\"$stem.json\"" "$src"/tests/lessons/*.c 2>/dev/null ||
        { echo "FAIL no test in tests/lessons/ loads $stem.json"; fail=1; }
done
# per lesson section ("## N. ..."): a "Vary it" needs an "In the viewer" line
awk '/^## [0-9]+\./ { if (title != "" && vary && !viewer) print title; title = $0; vary = 0; viewer = 0 }
     /^\*\*Vary it:\*\*/ { vary = 1 }
     /^\*In the viewer:\*/ { viewer = 1 }
     END { if (title != "" && vary && !viewer) print title }' "$notes" >"${TMPDIR:-/tmp}/gilsim-vary.$$"
while IFS= read -r t; do
    echo "FAIL docs/lessons.md: '$t' has a 'Vary it' but no '*In the viewer:*' line with its keys"
    fail=1
done <"${TMPDIR:-/tmp}/gilsim-vary.$$"
rm -f "${TMPDIR:-/tmp}/gilsim-vary.$$"
if [ -n "$view" ]; then
    n_view=0
    while IFS= read -r cmd; do
        n_view=$((n_view + 1))
        args=${cmd#gilsim-view }
        out=$(cd "$src" && eval "\"$view\" --render \"${TMPDIR:-/tmp}/gilsim-lesson-$$.png\" --size 640x360 $args" 2>&1) ||
            { echo "FAIL docs/lessons.md: $cmd: $out"; fail=1; }
    done < <(grep '^\*In the viewer:\*' "$notes" | grep -o '`gilsim-view [^`]*`' | tr -d '`')
    rm -f "${TMPDIR:-/tmp}/gilsim-lesson-$$.png"
    [ "$n_view" -ge 5 ] || { echo "FAIL only $n_view gilsim-view commands in the notes"; fail=1; }
    echo "ok   $n_view gilsim-view commands of the notes draw"
fi
[ "$n" -ge 14 ] || { echo "FAIL only $n scenario files, issue 8 lists 14 lessons"; fail=1; }
[ $fail -eq 0 ] && echo "ok   $n scenario files, each documented with a picture and tested"
exit $fail
