#!/usr/bin/env bash
# test_explain_recording.sh GILSIM JSONCHECK - `gilsim explain` on a real
# recording of examples/convoy.py: a drop request the I/O thread set is
# reported as pending, with its age, as for a simulation; what a recording
# cannot know (the cores, which lock) is said to be not recorded. Exits 77
# (skipped) when nothing here can be recorded (no python3, or no C headers:
# python3-dev).
set -u
. "$(dirname "$0")/tap.sh"
tap_begin "${1:?usage: test_explain_recording.sh GILSIM JSONCHECK}" "${2:?usage}" explain-rec

command -v python3 >/dev/null || { echo "1..0 # SKIP no python3"; exit 77; }
"$GILSIM" record -o rec.json --quiet "$SRC/examples/convoy.py" 20 >rec-out.txt 2>rec-err.txt
rc=$?
if [ "$rc" -eq 125 ] || [ "$rc" -eq 126 ] || [ "$rc" -eq 127 ]; then
    echo "1..0 # SKIP cannot record here (exit $rc): $(head -c 300 rec-err.txt)"
    exit 77
fi
[ "$rc" -eq 0 ] && pass "the convoy is recorded" || fail "the convoy is recorded" "exit $rc" "$(head -c 400 rec-err.txt)"

# An instant where io waits for the GIL and its drop request is pending: the
# middle between one of its requests and the holder's release that answered
# it (the request that waited longest, among those no other thread's came
# before).
at=$(python3 - rec.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
th = {t["name"]: t["events"] for t in d["threads"]}
releases = sorted(e[0] for evs in th.values() for e in evs if e[1] == "release")
others = sorted(e[0] for n, evs in th.items() if n != "io" for e in evs if e[1] == "drop_request")
best = None
for e in th["io"]:
    if e[1] == "drop_request":
        # io's request is the pending one only if no other thread's came
        # first since the last release (the first requester stays: the
        # main thread also waits, in Thread.start)
        last = max((r for r in releases if r <= e[0]), default=-1)
        if any(last < o <= e[0] for o in others):
            continue
        nxt = next((r for r in releases if r > e[0]), None)
        if nxt is not None and (best is None or nxt - e[0] > best[1] - best[0]):
            best = (e[0], nxt)
if best and best[1] - best[0] >= 2000:
    print("%dns" % ((best[0] + best[1]) // 2))
PY
)
if [ -z "$at" ]; then
    fail "the recording has a drop request pending for 2 us or more" "$(head -c 600 rec.json)"
    tap_end
    exit
fi
pass "an instant with a pending drop request: $at"

expect 0 "explain the recording at $at" "$GILSIM" explain rec.json --at "$at" --thread io
finds "io waits for the GIL" "io is waiting for the GIL for" out.txt
finds "held by the CPU thread" "the GIL is held by cpu" out.txt
finds "the drop request is pending, set by io, with its age" "Drop request set by io at .*, pending for [0-9.]* [um]s" out.txt
finds "the machine state has it too" "Drop request: set by io at" out.txt
finds "the chain goes on to the holder" "-> cpu is " out.txt
finds "the cores are said to be unknown" "Ready queue (waiting for a core): not recorded" out.txt
finds "and which lock too" "who holds a lock, are not recorded" out.txt
lacks "core -1" out.txt && pass "no core -1" || fail "no core -1" "$(cat out.txt)"

expect 0 "blame totals of the recording" "$GILSIM" explain rec.json
finds "io's wait is blamed on cpu" "by cpu" out.txt
expect 1 "--set does not apply to a recording" "$GILSIM" explain rec.json --at "$at" --set machine.cores=4
finds "and it says why" "is a recording of a real run" err.txt
printf '{"format": "gilsim-recording", "version": 1, "threads": [ {"name": "a"' >bad.json
expect 1 "a damaged recording is refused" "$GILSIM" explain bad.json --at 1ms
finds "with where it broke" "bad.json:1:" err.txt

tap_end
