#!/usr/bin/env bash
# view_cli.sh VIEW - gilsim-view's command line: --render writes a PNG (and
# nothing when it fails), errors have clear messages and exit codes.
set -u
VIEW=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

is_png() { [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; }
png_size() { od -An -tu1 -j16 -N8 "$1" | awk '{print $3*256+$4 "x" $7*256+$8}'; }

# the built-in default scenario, default size
"$VIEW" --render "$dir/default.png" || fail "default render exited $?"
is_png "$dir/default.png" || fail "default.png is not a PNG"
[ "$(png_size "$dir/default.png")" = 1920x1080 ] || fail "default size is $(png_size "$dir/default.png")"

# a size, a time, a range, an override, compare
"$VIEW" --render "$dir/a.png" --size 1280x720 --at 12ms --range 0ms:30ms \
    --set machine.cores=4 --compare || fail "render with options exited $?"
[ "$(png_size "$dir/a.png")" = 1280x720 ] || fail "--size ignored"

# a broken scenario: exit 1, the location in the message, no PNG, no temp file
printf '{\n  "name": "x",\n  "threads": [ { "name": "a", }\n' > "$dir/bad.json"
out=$("$VIEW" --render "$dir/bad.png" "$dir/bad.json" 2>&1); rc=$?
[ $rc -eq 1 ] || fail "broken scenario exited $rc"
echo "$out" | grep -q "bad.json:[0-9]*:[0-9]*" || fail "no file:line:col in: $out"
[ ! -e "$dir/bad.png" ] || fail "a PNG was written for a broken scenario"

# bad flags and values: exit 1 with a hint
for args in "--size big" "--at soon" "--range 5ms" "--bogus" "--set nokey" "--render"; do
    out=$("$VIEW" $args 2>&1); rc=$?
    [ $rc -eq 1 ] || fail "'$args' exited $rc"
    [ -n "$out" ] || fail "'$args' printed nothing"
done
# no display: exit 3 with the message at once, not a window nobody sees
out=$(env -u DISPLAY -u WAYLAND_DISPLAY -u SDL_VIDEODRIVER timeout 30 "$VIEW" --quit-after 5000 2>&1); rc=$?
[ $rc -eq 3 ] && echo "$out" | grep -q "no display" || fail "no display: exit $rc, $out"

# bare numbers have no unit: refused with the fix, as by gilsim
out=$("$VIEW" --render "$dir/n.png" --at 12 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$out" | grep -q 'write "12ms"' || fail "--at 12 (bare): $rc $out"
out=$("$VIEW" --render "$dir/n.png" --range 0ms:20 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$out" | grep -q 'write "20ms"' || fail "--range 0ms:20 (bare): $rc $out"
[ ! -e "$dir/n.png" ] || fail "a PNG was written for a refused --at"
"$VIEW" --render "$dir/z.png" --range 0ms:20ms --at 0ms >/dev/null 2>&1 || fail "--at 0ms refused"
# times are read as everywhere in gilsim (gilsim/units.h): a bare number is
# refused, as in a scenario or `gilsim run --set`
for args in "--at 15" "--range 0:15ms" "--at 1.5e3ms"; do
    out=$("$VIEW" --render "$dir/u.png" $args 2>&1); rc=$?
    [ $rc -eq 1 ] || fail "'$args' exited $rc"
    [ ! -e "$dir/u.png" ] || fail "'$args' wrote a PNG"
done
out=$("$VIEW" --render "$dir/u.png" --at 15 2>&1)
echo "$out" | grep -q 'has no unit: write "15ms"' || fail "--at 15 does not say why: $out"
out=$("$VIEW" --render "$dir/s.png" --select nobody 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$out" | grep -q nobody || fail "--select of an unknown thread: $rc $out"
out=$("$VIEW" --render "$dir/c.png" --compare python.gil=bogus 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$out" | grep -q bogus || fail "--compare with a bad value: $rc $out"
[ ! -e "$dir/c.png" ] || fail "--compare with a bad value wrote a PNG"

# an unwritable destination: exit 3, nothing left behind
out=$("$VIEW" --render "$dir/missing/dir/x.png" 2>&1); rc=$?
[ $rc -eq 3 ] || fail "unwritable destination exited $rc ($out)"
ls "$dir" | grep -q tmp && fail "a temporary file was left behind"

# a recording beside its replay (issue 14): a picture, and clear refusals
rec=$(dirname "$(realpath "$0")")/../data/fit/queue.rec.json
"$VIEW" --render "$dir/r.png" "$rec" --replay --set machine.cores=1 || fail "--replay exited $?"
is_png "$dir/r.png" || fail "--replay wrote no PNG"
printf '{"threads": [{"name": "MainThread", "program": [{"cpu": "1ms"}]}]}' > "$dir/s.json"
"$VIEW" --render "$dir/w.png" --compare-with "$rec" "$dir/s.json" || fail "--compare-with exited $?"
for args in "--replay" "$dir/s.json --replay" "--compare-with $rec" "--compare-with $dir/s.json $dir/s.json" \
            "--compare-with $dir/none.rec.json $dir/s.json" "--compare-with $rec $rec" \
            "$rec --replay --compare" "$rec --replay --compare-with $rec"; do
    out=$("$VIEW" --render "$dir/x.png" $args 2>&1); rc=$?
    [ $rc -eq 1 ] || fail "'$args' exited $rc ($out)"
    echo "$out" | grep -Eq "recording|REC|one or the other|cannot read" || fail "'$args' does not say why: $out"
    [ ! -e "$dir/x.png" ] || fail "'$args' wrote a PNG"
done
# a what-if the model cannot take: said as the what-if's, exit 1, no PNG
out=$("$VIEW" --render "$dir/y.png" "$rec" --replay --set python.switch_interval=fast 2>&1); rc=$?
[ $rc -eq 1 ] || fail "--replay with a bad --set exited $rc"
echo "$out" | grep -q "what-if (C, --set and the knobs): .*switch_interval: expected a duration" ||
    fail "--replay with a bad --set: $out"
[ ! -e "$dir/y.png" ] || fail "a PNG was written for a bad what-if"
out=$("$VIEW" --render "$dir/x.png" "$dir/s.json" --replay 2>&1)
echo "$out" | grep -q "not a recording (gilsim record" || fail "--replay of a scenario: $out"

"$VIEW" --help | grep -q -- "--render" || fail "--help does not list --render"
"$VIEW" --help | grep -q -- "--compare-with REC" || fail "--help does not list --compare-with"
echo ok
