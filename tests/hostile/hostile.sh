#!/usr/bin/env bash
# hostile.sh GILSIM - what docs/limits.md promises, tried as an attacker
# would. Prints "ok N - name" or "not ok N - name" per check; exits non-zero
# if any failed.
set -u
TESTLIB=$(dirname "$(realpath "$0")")/../testlib.sh
GILSIM=$(realpath "${1:?usage: hostile.sh GILSIM}")
SAN=${GILSIM_SANITIZE:-}
W=$(mktemp -d /tmp/gilsim-hostile-XXXXXX)
trap 'rm -rf "$W"' EXIT
cd "$W" || exit 2

. "$TESTLIB"
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

# ---- strict input: what RFC 8259 forbids and cJSON accepts ----------------
bad_input() { # bad_input NAME FILE EXPECTED-MESSAGE
    expect 1 "$1 is refused" "$GILSIM" validate "$2"
    check "  with a precise message" has "$3" err.txt
}
T='"threads":[{"name":"a","program":[{"cpu":"1ms"}]}]'
printf '{"seed": 02, %s}' "$T" >lz.json
bad_input "a leading zero" lz.json "lz.json:1:10: a number with a leading zero (02)"
printf '{"name": "a\tb", %s}' "$T" >ctl.json
bad_input "a raw control character in a string" ctl.json "raw control character (U+0009)"
printf '{"name": "a\0b", %s}' "$T" >nul.json
bad_input "a NUL byte in a string" nul.json "a NUL byte"
printf '\0{%s}' "$T" >lead.json
bad_input "a leading NUL byte" lead.json "lead.json:1:1: a NUL byte"
printf '{"threads":[{"name":"a\\u0000b","program":[{"cpu":"1ms"}]},{"name":"a","program":[{"cpu":"1ms"}]}]}' >alias.json
bad_input "\\u0000 in a name (two names would alias)" alias.json "u0000 (the NUL character)"
printf '{"name": "caf\xe9", %s}' "$T" >latin1.json
bad_input "invalid UTF-8 (Latin-1)" latin1.json "invalid UTF-8 (byte 0xE9)"
printf '{"name": "\xed\xa0\x80", %s}' "$T" >cesu.json
bad_input "UTF-8 of a surrogate" cesu.json "invalid UTF-8 (byte 0xED)"
printf '{"name": "x\\udc00", %s}' "$T" >lone.json
bad_input "a lone low surrogate" lone.json "lone UTF-16 low surrogate"
printf '{"name": "x\\ud83dy", %s}' "$T" >lone2.json
bad_input "a lone high surrogate" lone2.json "lone UTF-16 high surrogate"
printf '\xef\xbb\xbf\n' >bom.json
bad_input "a file of only a BOM" bom.json "only a UTF-8 byte order mark"
printf '{%s}' "$T" | iconv -f UTF-8 -t UTF-16 >u16.json
bad_input "a UTF-16 file" u16.json "UTF-16"
printf '{%s}' "$T" | iconv -f UTF-8 -t UTF-16BE >u16be.json
bad_input "a UTF-16 file without a BOM" u16be.json "looks like UTF-16"
printf '{"name": "caf\xc3\xa9 \\ud83d\\ude00", %s}' "$T" >good.json
expect 0 "UTF-8 and an escaped surrogate pair are fine" "$GILSIM" validate good.json
printf '\xef\xbb\xbf{%s}' "$T" >bomjson.json
expect 0 "a BOM before the JSON is fine (RFC 8259 8.1)" "$GILSIM" validate bomjson.json
printf '{"events": ["e"], "threads":[{"name":"a","program":[{"wait": 3}]}]}' >ev.json
expect 1 "a wrong event reference" "$GILSIM" validate ev.json
check "  says 'the name of an event'" has "the name of an event" err.txt

# ---- what an input may be -------------------------------------------------
mkdir dir.json
expect 3 "a directory as input" "$GILSIM" run dir.json
check "  says it is a directory" has "dir.json: this is a directory; a scenario must be a regular file" err.txt
mkfifo fifo.json
expect 3 "a FIFO as input does not block" timeout 20 "$GILSIM" run fifo.json
check "  and says what it is" has "named pipe (FIFO)" err.txt
expect 3 "a character device as input" "$GILSIM" validate /dev/zero
check "  says what it is" has "character device" err.txt
expect 0 "- reads standard input" "$GILSIM" run - --quiet <ok.json
expect 0 "a pipe the shell passes as /dev/fd/N (<(...)) is read" "$GILSIM" run <(cat ok.json) --quiet

# ---- outputs: what a path is decides how it is written --------------------
expect 0 "two outputs to /dev/null" "$GILSIM" run ok.json --summary /dev/null --csv /dev/null --quiet
check "  leave /dev/null a character device" test -c /dev/null
expect 0 "--csv >(gzip > x.gz) streams into the pipe" "$GILSIM" run ok.json --csv >(gzip >x.gz) --quiet
# gzip runs on after gilsim exits: wait for a whole file (up to 30 s; a
# loaded machine made 3 s too short)
for _ in $(seq 1 300); do [ -s x.gz ] && gzip -t x.gz 2>/dev/null && break; sleep 0.1; done
check "  and gzip got the whole CSV" sh -c 'gzip -dc x.gz | head -1 | grep -q lane_kind'
"$GILSIM" run ok.json --summary /dev/stdout --quiet >so.json 2>err.txt
check "--summary /dev/stdout writes into the file the shell opened" has '"outcome"' so.json
ln -s real.json link.json
expect 0 "a symlink output" "$GILSIM" run ok.json --summary link.json --quiet
check "  is followed: the link stays a link" test -L link.json
check "  and its target gets the summary" has '"outcome"' real.json
chmod 600 real.json
"$GILSIM" run ok.json --summary real.json --quiet 2>err.txt
check "a replaced file keeps its permissions" test "$(stat -c %a real.json)" = 600
mkfifo out.fifo
expect 3 "a FIFO output without a reader fails at once" timeout 20 "$GILSIM" run ok.json --summary out.fifo
check "  saying so" has "FIFO with no reader" err.txt
# The reader's open must come first, and under load a fixed sleep may not
# be enough for cat to get there: until it has, gilsim fails at once with
# "no reader" (checked above), so that answer is tried again (up to 20 s).
cat out.fifo >fromfifo.txt &
rpid=$!
for _ in $(seq 1 200); do
    timeout 20 "$GILSIM" run ok.json --summary out.fifo --quiet >out.txt 2>err.txt
    rc=$?
    [ "$rc" -eq 3 ] && has "FIFO with no reader" err.txt || break
    sleep 0.1
done
check "a FIFO output with a reader is streamed (exit $rc)" test "$rc" -eq 0
[ "$rc" -eq 0 ] || : >out.fifo # never leave cat blocked in its open
wait $rpid # cat ends at gilsim's close: the reader has all it will get
check "  in place (it is still a FIFO)" test -p out.fifo
check "  and the reader got the summary" has '"outcome"' fromfifo.txt
mkdir outdir
expect 3 "a directory as output" "$GILSIM" run ok.json --csv outdir
check "  says what it is" has "it is a directory" err.txt
cp ok.json in.json
expect 1 "an output equal to the input is refused" "$GILSIM" run in.json --csv in.json
check "  before anything runs" has "is the scenario file it reads" err.txt
expect 1 "the input through another name too" "$GILSIM" run in.json --csv ./in.json
expect 1 "two outputs on one path are refused" "$GILSIM" run ok.json --summary a.json --trace a.json
check "  naming both flags" has "summary a.json and --trace a.json are one file" err.txt
ln -s a.json b.json
echo '{}' >a.json
expect 1 "  also through a symlink (device and inode)" "$GILSIM" run ok.json --summary a.json --trace b.json
check "no temporary file is left behind" no_temp_files
# several outputs commit together: one that cannot be written leaves the
# others untouched (old content), and no temporary files.
echo old >keep.json
mkdir ro && chmod 555 ro
if [ "$(id -u)" -eq 0 ]; then
    expect 3 "an output in a missing folder" "$GILSIM" run ok.json --summary keep.json --csv nodir/x.csv
else
    expect 3 "an output in a read-only folder" "$GILSIM" run ok.json --summary keep.json --csv ro/x.csv
fi
check "  leaves the other outputs as they were" test "$(cat keep.json)" = old
check "  and no temporary file" no_temp_files
cat >long.json <<'JSON'
{"until":"1000s","python":{"switch_interval":"5us"},"threads":[{"name":"a","program":[{"cpu":"100s"}]},{"name":"b","program":[{"cpu":"100s"}]}]}
JSON
"$GILSIM" run long.json --summary long.sum.json --csv long.csv --quiet 2>err.txt &
pid=$!
sleep 1
kill -INT $pid
wait $pid
rc=$?
check "SIGINT stops gilsim run with 130 (got $rc)" test "$rc" -eq 130
check "  and the outputs say interrupted" has '"outcome":.*"interrupted"' long.sum.json
check "  with no temporary file left" no_temp_files

# ---- sweeps ----------------------------------------------------------------
cat >s1.json <<'JSON'
{"python":{"switch_interval":"5us"},"threads":[{"name":"a","program":[{"cpu":"1s"}]},{"name":"b","program":[{"cpu":"1s"}]}]}
JSON
expect 0 "--set seed=1,2" "$GILSIM" sweep s1.json --set seed=1,2 --out seed.csv
check "  has one seed column" test "$(head -1 seed.csv | tr ',' '\n' | grep -c '^seed$')" -eq 1
check "  holding the values" test "$(cut -d, -f3 seed.csv | tr '\n' ' ')" = "seed 1 2 "
expect 1 "--set seed with --seed is refused" "$GILSIM" sweep s1.json --set seed=1 --seed 3 --out x.csv
expect 3 "an unwritable --out fails before the first run" timeout 20 "$GILSIM" sweep s1.json --set seed=1,2,3 --out nodir/x.csv
check "  quickly, naming it" has "nodir/" err.txt
expect 1 "--out equal to the scenario is refused" "$GILSIM" sweep s1.json --set seed=1 --out s1.json
expect 1 "--plot equal to --out is refused" "$GILSIM" sweep s1.json --set seed=1 --out p.csv --plot p.csv
# The second sweep starts once the first holds its lock, not after a
# guessed sleep (the first may be quick: 96 runs; under TSan minutes).
SW=(sweep s1.json --set seed=1,2,3,4,5,6,7,8,9,10,11,12 --repeat 4 --jobs 2)
"$GILSIM" "${SW[@]}" --out long.csv 2>/dev/null &
pid=$!
for _ in $(seq 1 600); do
    grep -qx "$pid" .long.csv.lock 2>/dev/null && break
    sleep 0.1
done
expect 3 "a second sweep on the same --out is refused" "$GILSIM" sweep s1.json --set seed=1 --out long.csv
check "  naming the first one's pid" has "another sweep (pid $pid)" err.txt
# SIGKILL once a checkpoint holds rows (seconds here, longer under TSan;
# 60 s was once too short at a load of 6-8 on 2 cores: up to 10 min now,
# ending as soon as the rows are there).
for _ in $(seq 1 1200); do
    [ "$(wc -l <long.csv)" -ge 3 ] && break
    sleep 0.5
done
kill -KILL $pid
wait $pid 2>/dev/null
kept=$(($(wc -l <long.csv) - 1))
check "SIGKILL keeps the rows checkpointed before it ($kept rows)" test "$kept" -ge 1
check "  as a complete CSV (every row has every column)" \
    awk -F, 'NR==1{n=NF} NF!=n{exit 1}' long.csv
# SIGTERM during runs that take seconds: they stop at their next event.
# (200 million requests: ~10 s a run at ~50 ns each, in 2 MB; a GIL battle
# of the same length would need hundreds of MB of trace, and got quick
# enough with the tick-less EEVDF core to end before the signal; the default
# max_events of 50 million now stops a run after ~1 s, before the signal too)
cat >slow.json <<'JSON'
{"max_events":1000000000,"threads":[{"name":"a","program":[{"repeat":200000000,"do":[{"cpu":"1us"}]}]}]}
JSON
# "Promptly" is the CPU the sweep (all its threads) uses from the signal to
# its exit: its whole CPU (the shell's reaped children's, by `times`, before
# and after) less what /proc/PID/stat gave it at the signal. A run going on
# to its end would use ~10 s of it; the wall time to exit grows with the
# machine's load instead (a sleep-and-clock check failed once at a load of
# 8 on 2 cores).
child_ms() { # the children's CPU (user + sys) in ms, from the `times` output in $1
    local t
    t=$(tail -1 "$1")
    t=${t//m/ }
    set -- ${t//s/}
    awk -v a="$1" -v b="$2" -v c="$3" -v d="$4" 'BEGIN { printf "%d\n", (a * 60 + b + c * 60 + d) * 1000 }'
}
cpu_ms() { # utime + stime of the live process $1 (the fields after the command's ')')
    local st
    st=$(cat "/proc/$1/stat") || return 1
    set -- ${st##*) }
    echo $(((${12} + ${13}) * 1000 / $(getconf CLK_TCK)))
}
times >times0.txt
"$GILSIM" sweep slow.json --set seed=1,2,3,4 --jobs 2 --out slow.csv >out.txt 2>err.txt &
pid=$!
sleep 1
before=$(cpu_ms $pid)
kill -TERM $pid
wait $pid
rc=$?
times >times1.txt
ms=$(($(child_ms times1.txt) - $(child_ms times0.txt) - before))
check "SIGTERM during long runs exits 130 (got $rc)" test "$rc" -eq 130
check "  promptly ($ms ms of CPU after the signal; a run takes seconds of it)" \
    test "$ms" -lt 3000
check "  and says how to resume" has "resume with" err.txt
check "  keeping no row of a stopped run" test "$(wc -l <slow.csv)" -eq 1
expect 0 "--resume after SIGKILL completes the sweep" "$GILSIM" "${SW[@]}" --out long.csv --resume
"$GILSIM" "${SW[@]}" --jobs 1 --out whole.csv 2>/dev/null
check "  equal to an uninterrupted sweep" cmp -s long.csv whole.csv
check "  and no lock or temporary file is left" test -z "$(find . -name '.long.csv*' -print -quit)"
cp seed.csv foreign.csv
sed -i 's/^1,0,2,/1,0,21,/' foreign.csv
expect 1 "--resume refuses a row whose seed differs (21 for 2)" "$GILSIM" sweep s1.json --set seed=1,2 --out foreign.csv --resume
check "  with its line number" has "foreign.csv:3: this row does not belong" err.txt
cp seed.csv garbage.csv
echo "garbage" >>garbage.csv
expect 1 "--resume refuses a garbage line" "$GILSIM" sweep s1.json --set seed=1,2 --out garbage.csv --resume
check "  with its line number" has "garbage.csv:4:" err.txt
"$GILSIM" sweep s1.json --set 'name="x
y",z' --out nl.csv 2>/dev/null
expect 0 "--resume takes its own rows holding a newline" "$GILSIM" sweep s1.json --set 'name="x
y",z' --out nl.csv --resume
check "  and runs nothing again" has "2 runs already in nl.csv, 0 to go" err.txt

# ---- stalls ----------------------------------------------------------------
cat >mutual.json <<'JSON'
{"threads":[{"name":"a","autostart":false,"program":[{"start":"b"},{"cpu":"1ms"}]},
            {"name":"b","autostart":false,"program":[{"start":"a"},{"cpu":"1ms"}]}]}
JSON
expect 2 "two threads that only start each other are a stall" "$GILSIM" run mutual.json --quiet
check "  explained" has "2 threads never started (a, b)" err.txt

# ---- terminal output -------------------------------------------------------
printf '{"name":"evil\\u001b[2J\\u001b]0;pwned\\u0007 \\u009b","threads":[{"name":"x","program":[{"cpu":"2ms"}]}]}' >esc.json
"$GILSIM" run esc.json >out.txt 2>err.txt
check "escape sequences in a scenario's name are not printed raw" sh -c '! LC_ALL=C grep -q "$(printf "\033")" out.txt'
check "  but shown escaped" has 'evil\\x1b\[2J\\x1b\]0;pwned\\x07 \\u009b' out.txt
printf '{"locks":["l"],"threads":[{"name":"x","program":[{"acquire":"l\\u001b[2J"}]}]}' >escref.json
"$GILSIM" validate escref.json >out.txt 2>err.txt
check "  nor in the loader's messages" sh -c '! LC_ALL=C grep -q "$(printf "\033")" err.txt'
"$GILSIM" run ok.json >&- 2>err.txt
rc=$?
check "a closed standard output is exit 3 (got $rc)" test "$rc" -eq 3
check "  with a message" has "standard output is closed" err.txt
"$GILSIM" run ok.json --quiet >&- 2>err.txt
check "  but nothing to print (--quiet) is fine" test $? -eq 0
if [ -w /dev/full ]; then
    "$GILSIM" run ok.json >/dev/full 2>err.txt
    check "a full standard output is exit 3 with a message" has "No space left" err.txt
fi

# ---- out of memory while loading is not an invalid file -------------------
if [ -n "$SAN" ]; then
    skip "loading under ulimit -v: sanitizers reserve terabytes of address space"
else
    python3 -c "
import json
n = 10000
json.dump({'locks': ['l%d' % i for i in range(n)], 'queues': {'q%d' % i: {} for i in range(n)},
           'threads': [{'name': 't', 'program': [{'cpu': '1ms'}]}]}, open('big.json', 'w'))"
    # Whatever the cap, loading ends in success or "out of memory" (exit 2;
    # 3 when not even a thread can start),
    # never in a syntax error about a valid file (exit 1).
    wrong=""
    oom=0
    for v in 5000 6000 7000 8000 9000 10000 11000 12000 14000 16000; do
        for cmd in validate sweep; do
            if [ $cmd = sweep ]; then args=(sweep big.json --set seed=1,2 --jobs 1 --out big.csv); else args=(validate big.json); fi
            (ulimit -v $v; exec "$GILSIM" "${args[@]}") >out.txt 2>err.txt
            rc=$?
            grep -q "out of memory" err.txt && oom=$((oom + 1))
            case $rc in 0 | 2 | 3) ;; *) wrong="$wrong $cmd@${v}k:exit$rc" ;; esac
            grep -Eq "unexpected|missing" err.txt && wrong="$wrong $cmd@${v}k:syntax"
        done
    done
    check "out of memory while loading is never reported as an invalid file${wrong}" test -z "$wrong"
    check "  (and some of those caps did run out while loading: $oom)" test "$oom" -gt 0
fi

echo "1..$n"
exit $((failed > 0))
