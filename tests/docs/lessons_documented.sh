#!/usr/bin/env bash
# lessons_documented.sh SOURCE_DIR - every scenario in scenarios/ is a lesson
# a teacher can find: it is named in docs/lessons.md together with its picture
# (img/<stem>.png), and tests/lessons/ has a test that loads it.
set -uo pipefail
src=${1:?usage: lessons_documented.sh SOURCE_DIR}
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
[ "$n" -ge 14 ] || { echo "FAIL only $n scenario files, issue 8 lists 14 lessons"; fail=1; }
[ $fail -eq 0 ] && echo "ok   $n scenario files, each documented with a picture and tested"
exit $fail
