#!/usr/bin/env bash
# test_fit.sh GILSIM JSONCHECK - `gilsim fit` and `gilsim replay` end to end
# on the hand-written recordings of tests/data/fit: the scenario they write,
# the side-by-side table and summary, a what-if, and every kind of bad input.
set -u
. "$(dirname "$0")/../cli/tap.sh"
tap_begin "${1:?usage: test_fit.sh GILSIM JSONCHECK}" "${2:?usage: test_fit.sh GILSIM JSONCHECK}" fit
D=$SRC/tests/data/fit
key() { "$JC" get "$1" "$2" >/dev/null; } # key FILE PATH: the JSON has it

expect 0 "help lists fit and replay" "$GILSIM" help
finds "general help names fit" "fit REC" out.txt
finds "general help names replay" "replay REC" out.txt
expect 0 "fit --help" "$GILSIM" fit --help
finds "fit help shows --exact" "--exact" out.txt
expect 0 "replay --help" "$GILSIM" replay --help
finds "replay help shows --set" "--set KEY=VALUE" out.txt

# fit: to a file, atomically; the scenario validates and runs.
expect 0 "fit to a file" "$GILSIM" fit "$D/convoy.rec.json" -o convoy.fit.json
check "nothing on stdout with -o" test ! -s out.txt
expect 0 "the fitted scenario validates" "$GILSIM" validate convoy.fit.json
expect 0 "the fitted scenario runs" "$GILSIM" run convoy.fit.json --summary s.json --quiet
check "its threads are the recording's" test "$("$JC" get s.json threads.2.name)" = cpu
expect 0 "fit to stdout" "$GILSIM" fit "$D/convoy.rec.json"
finds "stdout holds the scenario" '"name": "fitted to handmade.py"' out.txt
finds "the description names the recording" "from the recording .*convoy.rec.json" out.txt
finds "a repeat block for the loop after its first turn (the I/O thread's bootstrap)" '"repeat":4' out.txt
expect 0 "--exact keeps every op" "$GILSIM" fit "$D/convoy.rec.json" --exact
lacks '"repeat"' out.txt && pass "no repeat block with --exact" || fail "no repeat block with --exact"
finds "sleeps of 10 us less what the model adds" '{"sleep":"7us"}' out.txt
expect 1 "the output may not be the recording" "$GILSIM" fit "$D/convoy.rec.json" -o "$D/convoy.rec.json"
expect 1 "fit needs a recording" "$GILSIM" fit
finds "and says which" "no REC given" err.txt

# The host's costs, calibrated at record time, go into the machine block.
expect 0 "fit a calibrated recording" "$GILSIM" fit "$D/convoy.rec.json"
finds "its wake-up latency" '"wakeup_latency": "1us"' out.txt
finds "the description says they were measured" "Machine costs measured on the host" out.txt
expect 0 "fit a recording without calibration" "$GILSIM" fit "$D/queue.rec.json"
finds "the description says defaults" "gilsim's defaults: the recording holds no calibration" out.txt

# A hash pool on two cores: the time without a core comes out of the
# durations (the model adds it), unless --raw-cpu; what its own threads do not
# explain is the other load, a process.
expect 0 "fit scales the CPU ops to the kernel's" "$GILSIM" fit "$D/hash_pool.rec.json"
finds "and says how many threads wanted a core" \
    "hasher_1: .*3.6 of its program's threads wanted one at once on average, on 2" out.txt
finds "and says how big the other load is" "Other load: " out.txt
expect 0 "fit --raw-cpu" "$GILSIM" fit "$D/hash_pool.rec.json" --raw-cpu
lacks "scaled to that" out.txt && pass "--raw-cpu scales nothing" || fail "--raw-cpu scales nothing"
lacks '"processes"' out.txt && pass "--raw-cpu fits no load" || fail "--raw-cpu fits no load"
expect 0 "fit --no-load" "$GILSIM" fit "$D/hash_pool.rec.json" --no-load
lacks '"processes"' out.txt && pass "--no-load fits no load" || fail "--no-load fits no load"
expect 1 "fit with an unknown option" "$GILSIM" fit "$D/hash_pool.rec.json" --no-loads
# --race-shape: bad shapes are refused naming what would be valid.
expect 0 "fit --race-shape" "$GILSIM" fit "$D/convoy.rec.json" --race-shape 1ms=0.13,5ms=0.44
# convoy's recording has no race to read (one CPU-bound thread): the shape is
# unused, said on stderr in one line and in the description, not silently.
finds "an unused --race-shape is said on stderr" "convoy.rec.json: --race-shape was not used" err.txt
check "in one line" test "$(wc -l <err.txt)" -eq 1
finds "and in the description" "The shape given (--race-shape) is unused: it scales a race read off the recording, and none was read" out.txt
lacks '"requester_first_idle":' out.txt && pass "no curve written" || fail "no curve written"
# convoy-many's recording has one (its forced drops with two or more
# waiters): the curve is written and stderr stays empty.
expect 0 "fit --race-shape with a race read" "$GILSIM" fit "$SRC/tests/data/reality/convoy_many_4cpu_1ms.rec.json" --race-shape 1ms=0.13,5ms=0.44
finds "the curve is written" '"requester_first_idle":' out.txt
check "and nothing on stderr" test ! -s err.txt
expect 1 "a shape's depths must grow" "$GILSIM" fit "$D/convoy.rec.json" --race-shape 5ms=0.1,1ms=0.2
finds "and it says so" "point 2: the depths must grow; expected DEPTH=CHANCE pairs" err.txt
expect 1 "a shape's chance is 0 to 1" "$GILSIM" fit "$D/convoy.rec.json" --race-shape 1ms=1.5
finds "and it says which" "point 1: chance '1.5'" err.txt
expect 1 "a shape's depth has a unit" "$GILSIM" fit "$D/convoy.rec.json" --race-shape 1=0.5
expect 1 "a shape has pairs" "$GILSIM" fit "$D/convoy.rec.json" --race-shape 1ms
finds "and it says what is missing" "'1ms' has no '='" err.txt

# replay: the table, the summary, a what-if.
expect 0 "replay prints real beside replay" "$GILSIM" replay "$D/convoy.rec.json"
finds "the header names both columns" "real *replay *diff" out.txt
finds "a makespan row" "makespan" out.txt
finds "a row per thread" "^  io$" out.txt
lacks "what-if" out.txt && pass "no what-if column without --set" || fail "no what-if column without --set"
expect 0 "replay with a what-if" "$GILSIM" replay "$D/convoy.rec.json" --set machine.cores=1 \
    --summary both.json
finds "a what-if column" "what-if *vs replay" out.txt
finds "the what-if is named" "machine.cores=1" out.txt
finds "the key under the table says what the what-if columns are" \
    "^what-if: the replay with --set machine.cores=1; vs replay: what-if against replay" out.txt
check "the summary holds the recording" key both.json recording.makespan_ns
check "the summary holds the replay" key both.json replay.makespan_ns
check "the summary holds the what-if" key both.json what_if.makespan_ns
check "and its settings" test "$("$JC" get both.json what_if_settings.0)" = machine.cores=1
check "the what-if ran on one core" test "$("$JC" get both.json what_if.cores.count)" = 1
check "the replay on the recorded two" test "$("$JC" get both.json replay.cores.count)" = 2
# Each thread's "GIL wait" runs from asking for the GIL to holding it on both
# sides (gil_ask_to_hold_ns, issue 14): a recording sees no core inside the
# wait, the model shows its part without a core as ready/switch, which its
# gil_wait_ns leaves out. The hash pool's replay (other load on 2 cores) has
# a hasher whose wait was mostly without a core.
expect 0 "replay of a hash pool with its summary" "$GILSIM" replay "$D/hash_pool.rec.json" \
    --summary hp.json
# wait_cells: "NAME REAL_NS REPLAY_NS" per thread from the table's GIL wait rows
awk '/^  [^ ]/ { t = $1 }
     /^    GIL wait / { v[1] = $3; u[1] = $4; v[2] = $5; u[2] = $6
         for (k = 1; k <= 2; k++) m[k] = v[k] * (u[k] == "s" ? 1e9 : u[k] == "ms" ? 1e6 : u[k] == "us" ? 1e3 : 1)
         printf "%s %.0f %.0f\n", t, m[1], m[2] }' out.txt >cells.txt
i=0 rows=0 wider=0
while read -r name real model; do
    [ "$("$JC" get hp.json "recording.threads.$i.name")" = "$name" ] || break
    rw=$("$JC" get hp.json "recording.threads.$i.gil_wait_ns")
    ra=$("$JC" get hp.json "recording.threads.$i.gil_ask_to_hold_ns")
    mw=$("$JC" get hp.json "replay.threads.$i.gil_wait_ns")
    ma=$("$JC" get hp.json "replay.threads.$i.gil_ask_to_hold_ns")
    mc=$("$JC" get hp.json "replay.threads.$i.core_wait_ns")
    [ "$rw" = "$ra" ] || fail "$name: a recording's ask to hold is its wait_gil ($ra, $rw)"
    awk -v a="$ma" -v w="$mw" -v c="$mc" 'BEGIN { exit !(a >= 0 && a <= w + c) }' ||
        fail "$name: the model's ask to hold $ma is at most gil_wait $mw plus core_wait $mc"
    # the table shows 3 significant figures of ask to hold on both sides
    awk -v x="$real" -v y="$ra" -v p="$model" -v q="$ma" \
        'BEGIN { exit !(x - y <= 0.006 * y && y - x <= 0.006 * y && p - q <= 0.006 * q && q - p <= 0.006 * q) }' ||
        fail "$name: the table's GIL wait ($real, $model) is ask to hold ($ra, $ma)"
    awk -v a="$ma" -v w="$mw" 'BEGIN { exit !(a > 10 * w + 1000000) }' && wider=$((wider + 1))
    i=$((i + 1)) rows=$((rows + 1))
done <cells.txt
check "a GIL wait row per thread of the recording, ask to hold on both sides" test "$rows" = 5
check "and a hasher waited over 1 ms more from ask to hold than in wait_gil" test "$wider" -ge 1
finds "the key says what GIL wait counts" "^GIL wait: from asking for the GIL to holding it" out.txt
expect 0 "--summary - writes only the JSON" "$GILSIM" replay "$D/queue.rec.json" --summary -
check "stdout is the summary" key out.txt replay.events
expect 1 "a what-if key that does not exist" "$GILSIM" replay "$D/convoy.rec.json" \
    --set python.switch_intervall=1ms
finds "the error names the key" "switch_intervall" err.txt
# fifo runs each thread until it blocks: the fitted other load's busy
# threads never block, so with them the what-if ran to the 60 s time limit
# (the error blaming nothing of the kind). The what-if runs without the load,
# as SCHED_FIFO outranks other programs, and says so; the replay keeps it.
expect 0 "a fifo what-if on a recording with other load ends" "$GILSIM" replay \
    "$D/hash_pool.rec.json" --set machine.policy=fifo --summary fifo.json
finds "it says the load was left out, and why" \
    'what-if without the other load (process "other load", as --set processes=\[\]): fifo runs each thread until it blocks' out.txt
check "the summary says so" test "$("$JC" get fifo.json what_if_without_load)" = true
check "the settings listed are the ones given" test "$("$JC" get fifo.json what_if_settings.0)" = machine.policy=fifo
check "the what-if ends before the time limit" test "$("$JC" get fifo.json what_if.outcome)" = done
check "the replay keeps the load" test "$("$JC" get fifo.json replay.threads.5.name)" = "other load-1"
check "the what-if has the program's threads only" test "$("$JC" get fifo.json what_if.threads.4.name)" = hasher_3 -a -z "$("$JC" get fifo.json what_if.threads.5.name 2>/dev/null)"
expect 0 "another policy keeps the load" "$GILSIM" replay "$D/hash_pool.rec.json" --set machine.policy=rr
lacks "what-if without the other load" out.txt && pass "and says nothing of it" || fail "and says nothing of it"
# Where the program's own threads hold every core under fifo, the what-if
# still stops, and the line after the engine's says why in fifo's terms.
expect 2 "fifo on one core with a loop until an event" "$GILSIM" replay "$D/until.rec.json" \
    --set machine.policy=fifo --set machine.cores=1
finds "says fifo keeps a core until its thread blocks" "under machine.policy=fifo a thread keeps its core until it blocks.*machine.policy=rr" err.txt

# A long run fitted with --exact can be over a scenario's 4 MiB: it says so.
awk 'BEGIN { printf "{\"format\": \"gilsim-recording\", \"version\": 1, \"threads\": [{\"name\": \"t\", \"events\": [[0, \"start\"], [0, \"hold\"]"
    t = 100
    for (i = 0; i < 100000; i++) {
        d = 4000 + i % 7 * 100
        printf ",\n[%d, \"call\", %d, \"time.sleep\", \"sleep\", true], [%d, \"release\", \"call\"], [%d, \"ask\"], [%d, \"hold\"]", t, t + d + 1000, t + 10, t + d, t + d + 100
        t += d + 2000
    }
    printf ",\n[%d, \"release\", \"exit\"]]}]}\n", t }' > long.rec.json
expect 1 "--exact over 4 MiB is refused" "$GILSIM" fit long.rec.json --exact -o long.json
finds "naming the limit" "the limit is 4194304 bytes" err.txt
finds "and what to do" "fit without --exact or record a shorter run" err.txt
check "and writing nothing" test ! -e long.json
expect 0 "folded, it fits" "$GILSIM" fit long.rec.json -o long.json
check "in a few lines" test "$(wc -l < long.json)" -lt 40

# gilsim run REC --set points to replay.
expect 1 "run REC --set is refused" "$GILSIM" run "$D/convoy.rec.json" --set machine.cores=1
finds "and points to replay" "gilsim replay .*convoy.rec.json --set KEY=VALUE" err.txt

# Bad input: each says what is wrong.
expect 1 "a truncated recording" "$GILSIM" fit "$D/truncated.rec.json"
finds "it says truncated, with the place" "truncated.rec.json:[0-9]*:[0-9]*: the recording ends here.*truncated" err.txt
expect 1 "a partial recording" "$GILSIM" replay "$D/partial.rec.json"
finds "it says partial and why" "partial recording (interrupted by SIGINT" err.txt
finds "and what to do" "record it again to the end, or .*--partial" err.txt
expect 0 "--partial fits it anyway" "$GILSIM" fit "$D/partial.rec.json" --partial
finds "and the scenario says so" "the recording is partial" out.txt
# Shown as a run, its lines say it in words, not the outcome key "horizon"
# (the summary JSON keeps the key).
expect 2 "a partial recording shown" "$GILSIM" run "$D/partial.rec.json" --summary part.json
finds "stderr says it was cut short, and why" "partial.rec.json: the recording was cut short before the program ended: partial recording: interrupted by SIGINT" err.txt
finds "so does the table's outcome" "outcome: cut short before the program ended - partial recording" out.txt
lacks horizon err.txt && lacks horizon out.txt && pass "no 'horizon' in its lines" || fail "no 'horizon' in its lines"
check "the summary keeps the key" test "$("$JC" get part.json outcome)" = horizon
expect 1 "a newer format" "$GILSIM" fit "$D/newer.rec.json"
finds "it names both versions" "version 2; this gilsim reads version 1" err.txt
expect 1 "a scenario is not a recording" "$GILSIM" fit "$SRC/scenarios/03-convoy.json"
finds "it says so" "not a gilsim recording" err.txt
printf '\x7fELF\x02\x01' > binary.rec
expect 1 "a binary file" "$GILSIM" replay binary.rec
finds "it is not JSON" "not valid JSON here: not a gilsim recording" err.txt
head -c 10 "$D/convoy.rec.json" > cut10.rec
expect 1 "a recording cut inside its first line" "$GILSIM" replay cut10.rec
finds "is truncated too, at its end (2:9), not 'not JSON'" \
    "cut10.rec:2:9: the recording ends here.*truncated" err.txt
expect 0 "a recording's summary" "$GILSIM" run "$D/convoy.rec.json"
finds "says its cores were not recorded (not 0%)" "cores not recorded   speed-up" out.txt
expect 0 "a scenario's summary" "$GILSIM" run "$SRC/scenarios/03-convoy.json"
finds "has its cores' utilisation" "cores [0-9.]*%   speed-up" out.txt
: > empty.rec
expect 1 "an empty file" "$GILSIM" fit empty.rec
finds "it says empty" "empty file" err.txt
expect 3 "a missing file" "$GILSIM" replay nowhere.rec.json
finds "it says it cannot open it" "cannot open" err.txt
check "no output left behind by a failed fit" test ! -e half.json -a -z "$(ls .half.json* 2>/dev/null)"
"$GILSIM" fit "$D/truncated.rec.json" -o half.json 2>/dev/null
check "a failed fit writes no file" test ! -e half.json

# run, explain and replay simulate through one cli_simulate: explain now
# takes the memory budget too.
expect 0 "explain takes --memory-budget" "$GILSIM" explain "$SRC/scenarios/03-convoy.json" \
    --memory-budget 64M
expect 1 "and checks it" "$GILSIM" explain "$SRC/scenarios/03-convoy.json" --memory-budget 10
finds "saying what is valid" "at least 1M" err.txt
expect 0 "replay takes --memory-budget" "$GILSIM" replay "$D/convoy.rec.json" --memory-budget 64M \
    --quiet

# replay passes the fit's opt-in mechanisms to its fit: its replay is the run
# of `gilsim fit --send-put-after`'s scenario, and not the default fit's.
H=$D/http_server.rec.json
expect 0 "replay takes --send-put-after" "$GILSIM" replay "$H" --send-put-after --summary rp.json --quiet
expect 0 "the same fit by gilsim fit" "$GILSIM" fit "$H" --send-put-after -o put.fit.json
expect 0 "and its run" "$GILSIM" run put.fit.json --summary put.json --quiet
check "the replay is that fit's run" test "$("$JC" get rp.json replay.makespan_ns)" = \
    "$("$JC" get put.json makespan_ns)"
expect 0 "replay without it" "$GILSIM" replay "$H" --summary rd.json --quiet
check "which differs from the default fit's" test "$("$JC" get rp.json replay.makespan_ns)" != \
    "$("$JC" get rd.json replay.makespan_ns)"
expect 0 "replay takes --lock-race and --wake-curve" "$GILSIM" replay "$D/convoy.rec.json" \
    --lock-race --wake-curve --quiet

tap_end
