#!/usr/bin/env bash
# test_explain.sh GILSIM JSONCHECK - `gilsim explain` end to end, and the
# summary JSON's blame totals added up against the thread's own figures.
set -u
. "$(dirname "$0")/tap.sh"
tap_begin "${1:?usage: test_explain.sh GILSIM JSONCHECK}" "${2:?usage: test_explain.sh GILSIM JSONCHECK}" explain

expect 0 "help lists explain" "$GILSIM" help
finds "general help names explain" "explain \[FILE\]" out.txt
expect 0 "explain --help" "$GILSIM" explain --help
finds "explain help shows --at" "--at TIME" out.txt

# The issue's own example: a C call that keeps the GIL ignores the request.
C=$SRC/scenarios/06-c-keeps-gil.json
expect 0 "explain the C-call lesson at 20ms" "$GILSIM" explain "$C" --at 20ms --thread heartbeat
finds "the waiter waits for the GIL held by worker" "heartbeat is waiting for the GIL.*held by worker" out.txt
finds "the drop request is pending, with its age" "Drop request set by heartbeat at .* pending for" out.txt
finds "the reason it is not honoured" "C call that keeps the GIL: no eval-breaker check" out.txt
finds "the chain goes on to the holder" "-> worker is running C that keeps the GIL on core" out.txt
finds "the machine state names the GIL holder" "GIL of main: held by worker" out.txt

# Lock chain: the lesson with a lock.
expect 0 "explain the convoy without --at" "$GILSIM" explain "$SRC/scenarios/03-convoy.json"
finds "blame names the holder" "by cruncher" out.txt
finds "blame names I/O" "I/O" out.txt

# A deadlock: the chain ends in the cycle; a full queue is named as full.
expect 0 "explain the deadlock lesson" "$GILSIM" explain "$SRC/scenarios/11-deadlock.json" --at 2ms --thread transfer-1
finds "the lock chain names the holder" "lock 'bob' is held by transfer-2" out.txt
finds "and the holder's own wait" "-> transfer-2 is waiting for a lock" out.txt
finds "and says it is a cycle" "This is a cycle: transfer-2 waits on transfer-1" out.txt
expect 0 "explain the producer at 10ms" "$GILSIM" explain "$SRC/scenarios/12-producer-consumer.json" --at 10ms --thread producer
finds "a put on a full queue" "queue 'jobs' is full (3 of 3 items): its put waits for a get" out.txt

# Bad input.
expect 1 "a bare number for --at is refused" "$GILSIM" explain "$C" --at 20
finds "it says which unit to add" "has no unit" err.txt
expect 1 "an unknown thread is refused" "$GILSIM" explain "$C" --at 1ms --thread nobody
finds "it lists the threads" "the threads are: heartbeat, worker" err.txt
expect 3 "a missing file" "$GILSIM" explain nowhere.json --at 1ms
expect 1 "an unknown option" "$GILSIM" explain "$C" --when 1ms
expect 0 "--at after the end shows the end" "$GILSIM" explain "$C" --at 10s
finds "and says so" "after the run's end" err.txt

# The summary's blame adds up to the time each thread was not running.
for f in 03-convoy 06-c-keeps-gil 11-lock-contention 12-producer-consumer; do
    "$GILSIM" run "$SRC/scenarios/$f.json" --quiet --summary s.json
    nt=$(grep -c '"blame"' s.json)
    [ "$nt" -ge 2 ] || fail "$f: the summary has a blame per thread" "found $nt"
    for ((i = 0; i < nt; i++)); do
        g() { "$JC" get s.json "threads.$i.$1"; }
        sum=0
        for k in gil_held gil_handoff no_core context_switch lock_held lock_handoff event queue join io sleep; do
            sum=$((sum + $(g "blame.${k}_ns")))
        done
        start=$(g started_ns); fin=$(g finished_ns); cpu=$(g cpu_ns); total=$(g blame.total_ns)
        [ "$fin" = null ] && fin=$("$JC" get s.json end_ns)
        if [ "$sum" = "$total" ] && [ "$total" = $((fin - start - cpu)) ]; then
            pass "$f thread $i: blame sums to life minus CPU ($total ns)"
        else
            fail "$f thread $i: blame" "sum $sum total $total life-cpu $((fin - start - cpu))"
        fi
    done
done

# gilsim exercise: seeded, hidden until asked, the same answer for a seed.
for topic in convoy switch-interval c-calls cores locks; do
    expect 0 "exercise $topic asks" "$GILSIM" exercise --topic "$topic" --seed 5 </dev/null
    if grep -q "^Answer:" out.txt; then fail "exercise $topic hides the answer"; else pass "exercise $topic hides the answer"; fi
    finds "exercise $topic says how to reveal" "--guess YOUR-PREDICTION" out.txt
    "$GILSIM" exercise --topic "$topic" --seed 5 --answer >a1.txt 2>&1
    "$GILSIM" exercise --topic "$topic" --seed 5 --answer >a2.txt 2>&1
    if cmp -s a1.txt a2.txt && grep -q "^Answer: " a1.txt; then pass "exercise $topic: same seed, same answer"
    else fail "exercise $topic: same seed, same answer" "$(diff a1.txt a2.txt | head -5)"; fi
done
answers=$(for s in 1 2 3 4 5 6 7 8; do "$GILSIM" exercise --topic convoy --seed $s --answer | grep '^Answer'; done | sort -u | wc -l)
if [ "$answers" -ge 3 ]; then pass "seeds give different variants ($answers answers)"; else fail "seeds vary the exercise" "$answers"; fi
expect 0 "a prediction is scored" "$GILSIM" exercise --topic c-calls --seed 2 --guess 10ms
finds "the score says by how much" "You predicted 10 ms: too [a-z]* by [0-9]*%" out.txt
finds "the answer comes with its chain" "C call that keeps the GIL" out.txt
finds "and the viewer command" "See it: gilsim-view .*--at [0-9.]*ms" out.txt
# the answer is the simulation's: the same figure as gilsim run's summary
"$GILSIM" exercise --topic convoy --seed 4 --answer >a.txt
set4=$(grep '^See it' a.txt | grep -o -- '--set [^ ]*' | grep -v seed= | sed 's/--set //' | tr '\n' ' ')
args=(); for s in $set4; do args+=(--set "$s"); done
"$GILSIM" run "$SRC/scenarios/03-convoy.json" "${args[@]}" --seed 4 --quiet --summary s4.json
p50=$("$JC" get s4.json threads.1.io_to_gil_ns.p50)
want=$(awk -v ns="$p50" 'BEGIN { if (ns >= 1e6) printf "%.3g ms", ns / 1e6; else printf "%.3g us", ns / 1e3 }')
ans=$(grep '^Answer' a.txt | sed 's/Answer: //')
if [ -n "$p50" ] && [ "$ans" = "$want" ] || [ "$ans" = "$(printf '%s' "$want" | sed 's/\.0* / /')" ]; then
    pass "exercise answer = the run's io_to_gil p50 ($ans)"
else fail "exercise answer = the run's p50" "answer '$ans', summary $p50 ns ('$want')"; fi
expect 1 "an unknown topic lists the topics" "$GILSIM" exercise --topic nope
finds "the topics are named" "convoy switch-interval c-calls cores locks" err.txt
expect 1 "a guess that is not a figure" "$GILSIM" exercise --topic convoy --guess soon

tap_end
