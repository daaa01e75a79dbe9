"""Why a prediction misses: for each miss, the known cause and what would fix
it, chosen by experiment, figure and direction of the miss.  The causes were
found by reading the traces and CPython's Python/ceval_gil.c (3.11); keep the
text true when the model changes."""

BUSY = 0.25

# (experiment id, text in the figure's label, "hi" when the model predicts too
# much / "lo" too little / "any", explanation)
WHY = [
    ("cpu", "", "any",
     "Two CPU-bound threads cost the same as one thread doing the work twice, in the "
     "model and in reality; a miss here comes from the real run, whose two halves were "
     "disturbed differently by other processes (see the share they used above)."),
    ("switches", "0.1 ms", "lo",
     "At 0.1 ms a switch costs mostly wake-ups, not the interval, and the model charges "
     "too much for them. A switch cycle has three wake-ups on its critical path: the "
     "waiter's timed wait expiring, the holder's signal waking it, and the forced dropper "
     "waking on switch_cond before its own timed wait can start. The model charges each "
     "the one calibrated wake-up latency, the cold one (how late a 1 ms timer fires, timer "
     "slack included), so a cycle costs the interval plus three cold wake-ups. In reality "
     "only the timeout is that late; the other two wake a thread that went to sleep "
     "microseconds before, on a vCPU that had no time to idle deeply, and cost a few "
     "microseconds (the hot figure). Fix in the model: a wake-up latency that depends on "
     "how long the core has been idle (or a separate hot figure for short sleeps), and "
     "the timer slack (50 us on Linux) as a cost of timed waits only."),
    ("switches", "0.1 ms", "hi",
     "At 0.1 ms reality switched less than the model: other processes kept the waiter "
     "from a core, and a waiter without a core cannot set the drop request; with the CPUs "
     "busy the switches fall back to the 4 ms scheduler tick."),
    ("switches", "", "any",
     "Switches per second are about 1 / (interval + the wake-ups of one switch); at long "
     "intervals a miss comes from the few switches counted (about 20 per second at 50 ms) "
     "and from other processes delaying the waiter's wake-up by up to a 4 ms tick."),
    ("convoy", "2 CPU threads", "any",
     "This figure is metastable in CPython: the median wait of the I/O thread ranges "
     "from 1.5 to 7 intervals from one run to the next, with a wide spread within a run "
     "(see the percentiles above), so a single run can land far from any one prediction. "
     "In the model it comes from glibc's condition variable: a requester that loses the "
     "race to the GIL's mutex lets the holder drop while it is still entering its futex "
     "wait, and takes the signal ahead of the sleeping I/O thread when "
     "a group switch has just put both in G1; each such switch also voids the I/O "
     "thread's own timeout. How often the race goes each way is the one calibrated "
     "chance (requester_first, from the 3-thread hand-off pattern); the rest is the "
     "order of the waiters' timeouts, which the timer jitter reshuffles. What would fix "
     "a remaining miss: a distribution of the race's two path lengths (user code of "
     "take_gil and of the eval breaker, a cache-line transfer) instead of one chance; "
     "they cannot be measured from Python, only through the hand-off pattern."),
    ("convoy", "", "hi",
     "The model charges the cold wake-up latency (timer slack plus waking an idle vCPU, "
     "about 0.1 ms) three times per I/O op: after the I/O, after the GIL wait's timeout and "
     "after the holder's signal. In reality the last one is a hot wake-up (the waiter went "
     "back to sleep microseconds before), so the model is about 0.1-0.2 ms high; the "
     "shorter the interval, the more it shows. Fix: an idle-dependent wake-up latency."),
    ("convoy", "", "lo",
     "Reality waited longer than the model: other processes held the second core, so the "
     "woken thread waited for the next 4 ms tick before it ran (the model gives the machine "
     "to our threads only)."),
    ("crelease", "", "hi",
     "The model scales GIL-releasing C calls perfectly with cores. In reality both threads "
     "also share the memory bandwidth and caches, and any other process on the machine "
     "takes one of the two cores away from them (see the share they used above)."),
    ("starve", "", "any",
     "The ticker starves for the whole C call in both; the gap also contains the time the "
     "sorter needs to take the GIL from the ticker (up to one interval), which depends on "
     "where in the interval the sorter's sleep ends."),
    ("sleeps", "", "any",
     "The sleeps overlap in both; what remains is the timer slack and the wake-ups of 8 "
     "threads that take the GIL one after the other."),
    ("locks", "", "any",
     "A hand-off costs one wake-up of the blocked thread plus the kernel work of the "
     "release and of the blocking acquire's return; the model gets both from a pipe "
     "ping-pong run back to back with each lock run (a different program: the prediction "
     "is about one pipe leg). What remains is what separates a futex-based Lock from a "
     "pipe, and the noise of a VM whose hand-off costs vary by 1.5x from one second to "
     "the next."),
    ("convoy-many", "", "any",
     "Beside 3 or 4 CPU-bound threads the I/O thread's wait is set by glibc's condvar "
     "groups, the race of each drop request (requester_first, calibrated on the 3-thread "
     "hand-off pattern, not on this figure) and the order of the timeouts (timer jitter). "
     "With more runnable threads than cores the real CPU threads are also preempted by "
     "the kernel's tick (4 ms; the model preempts at exact slice ends) and other "
     "processes take cores from them; a tick-driven scheduler (EEVDF, not modelled yet) "
     "is what would move the 5 ms figures."),
    ("pingpong-cpu", "", "hi",
     "The model hands the GIL to the woken ping-pong thread almost every time (it has a "
     "head start of one futex call on the signalled spinner) and charges a hand-off two "
     "wake-ups and two futex calls. Real hand-offs beside a spinner cost 3-4x more than "
     "alone: each drop also wakes the spinner, whose futile wake-ups take one of the two "
     "cores and delay the next wake-up, and the GIL mutex is contended by three threads. "
     "What would fix it: charge the futile wake-up's core time to the core (the model "
     "wakes it on an idle core at no cost to the others), and a wake-up latency that "
     "depends on what the core was doing."),
    ("pingpong-cpu", "", "lo",
     "The spinner took the GIL at a hand-off and kept it for a whole interval: in the "
     "model that happens when the woken thread's head start (one futex call) is shorter "
     "than the difference of the two wake-ups, which the calibrated figures of this run "
     "decide all at once (the model has no spread of wake-up latencies); reality mixes "
     "both outcomes."),
    ("queue", "items per second", "any",
     "The model's queue is a counter with waiters; the real queue.Queue is a Condition on "
     "a Lock in Python, whose waits and notifies each cost bytecodes and, when a consumer "
     "blocks, a semaphore acquire and a futex wake. Items per second depend on how often "
     "a consumer finds the queue empty and blocks, which the GIL's hand-offs decide."),
    ("queue", "share", "any",
     "Which consumer gets the GIL after a voluntary drop is decided by glibc's condvar "
     "(the longest sleeper, unless one is still entering its wait); the real share also "
     "depends on when each consumer's Condition wait times out in Python, which the model "
     "does not have."),
    ("sleep0", "", "any",
     "time.sleep(0) asks the kernel for a timer of length 0; it still ends late by the "
     "timer slack and the wake-up of an idle CPU, which the model takes from the 1 ms "
     "sleep's overshoot (slack and jitter). What would fix it: calibrate the slack per "
     "timer length (0, 50 us, 1 ms), as the kernel's hrtimer slack rounds each to its own "
     "expiry range."),
]


def explain(r):
    """Markdown lines explaining each key miss of result r."""
    misses = [x for x in r.rows if x.key and x.within is False]
    out = []
    if r.others is not None and r.others > BUSY:
        out.append("*Other processes used %.0f%% of the machine during this experiment, "
                   "so its figures are not trustworthy; re-run on a quiet machine.*"
                   % (100 * r.others))
        out.append("")
    if not misses:
        return out
    out.append("**Why the misses.**")
    out.append("")
    groups = {}  # explanation -> the misses it explains, in table order
    for x in misses:
        way = "hi" if x.ratio > 1 else "lo"
        text = next((t for eid, lab, d, t in WHY
                     if eid == r.id and lab in x.label and d in (way, "any")),
                    "Not explained yet.")
        groups.setdefault(text, []).append(x)
    for text, xs in groups.items():
        out.append("- %s: the model predicts %s the measurement. %s" % (
            "; ".join(x.label for x in xs),
            ", ".join("%.2fx" % x.ratio for x in xs), text))
    return out
