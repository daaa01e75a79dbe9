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
     "The mechanism is in the model: with two CPU-bound threads, the waiting CPU thread "
     "times out, sets the drop request and re-enters pthread_cond_timedwait on its own "
     "core; the holder drops at once and signals, and glibc's condition variable lets "
     "the requester, not yet asleep, take that signal (nptl/pthread_cond_wait.c: \"If "
     "there is an available signal, don't block\") while the I/O thread sleeps on; that "
     "switch also voids the I/O thread's own timeout (switch_number moved). The model "
     "steals with the chance signal_steal (0.83, calibrated here) and so waits a random "
     "number of intervals, about four at the median at any interval. What it leaves out "
     "is why a real run stays on one side for a while (which of glibc's two waiter "
     "groups each thread sits in, which decides whether a steal can happen, changes "
     "slowly) and why real waits tend to be longer at 5 ms than at 1 ms."),
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
