#!/usr/bin/env python3
"""onecore_turns.py's self-test (`onecore_turns.py --self-test` runs it):
two CPU-bound threads' turns on one CPU per forced switch, read off a
recording and kernel trace made by hand (fixture.py) and off a model run's
Chrome trace; a trace without a GIL lane refused."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
from fixture import KernelTrace, Recording, exit_status, refused, same, workdir  # noqa: E402
import onecore_turns as ot  # noqa: E402


def recording():
    """Two forced switches on CPU 0, ticks every 4 ms: cpu1 holds; cpu2's
    timed wait (asleep at 0.1 ms) is woken at 5.15 ms, runs 8 us later,
    sets the request, cpu1 drops, cpu2 holds at 5.18 ms; cpu1 is back at
    the tick of 8 ms (A) while another program ran 20 us. Then cpu1's wait
    runs out, it takes the GIL at 13.2 ms and cpu2 is back at the second
    tick, 20 ms (B)."""
    rec = Recording(t0_monotonic_ns=0, duration_ns=24000000)
    rec.thread("cpu1", tid=11).hold(0).release(5170000, "forced").ask(8010000) \
        .drop_request(13180000).hold(13200000)
    rec.thread("cpu2", tid=12).ask(90000).drop_request(5160000).hold(5180000) \
        .release(13190000, "forced").ask(20010000)
    return rec


def kernel_trace():
    """All on CPU 0, to the ns; wakes from interrupts, ticks as hrtimer."""
    kt = KernelTrace(ns=True)

    def sw(t, prev, nxt, state="S", comm="python3"):
        kt.switch(t, 0, prev, state, nxt, next_comm=comm)

    def wk(t, pid):
        kt.wake(t, 0, 0, pid, 0, by_comm="<idle>", flags="d.h2.")

    def tick(t):
        kt.event(t, 0, "python3", 11, "hrtimer_expire_entry",
                 "hrtimer=0000 now=%d function=tick_nohz_handler" % t, flags="d.h1.")
    sw(100000, 12, 11)
    tick(4000000)
    wk(5150000, 12)
    sw(5158000, 11, 12, "R")
    sw(5161000, 12, 11)
    wk(5175000, 12)
    sw(5176000, 11, 12, "R")
    sw(6000000, 12, 99, "R", "other")
    sw(6020000, 99, 12)
    tick(8000000)
    sw(8000000, 12, 11, "R")
    sw(8012000, 11, 12)
    tick(12000000)
    wk(13170000, 11)
    sw(13175000, 12, 11, "R")
    sw(13181000, 11, 12)
    wk(13195000, 11)
    sw(13196000, 12, 11, "R")
    tick(16000000)
    tick(20000000)
    sw(20000000, 11, 12, "R")
    return kt


def model_trace():
    """The same pair's first switch in a model run's --trace (Chrome trace
    events: a GIL lane, a lane per thread; times in us)."""
    ev = [{"ph": "M", "name": "thread_name", "tid": k, "args": {"name": n}}
          for k, n in ((1, "cpu1"), (2, "cpu2"), (9, "GIL"))]

    def x(tid, a, b, name, thr=None):
        e = {"ph": "X", "tid": tid, "ts": a / 1000, "dur": (b - a) / 1000, "name": name}
        if thr:
            e["args"] = {"thread": thr}
        return e

    def i(tid, a, name):
        return {"ph": "i", "tid": tid, "ts": a / 1000, "name": name}
    ev += [x(9, 0, 5170000, "cpu1", "cpu1"), x(9, 5180000, 13190000, "cpu2", "cpu2"),
           x(2, 100000, 5150000, "waiting for the GIL"), i(2, 5150000, "GIL wait timed out"),
           x(2, 5150000, 5158000, "ready, waiting for a core"),
           i(2, 5160000, "drop request"),
           x(1, 5170000, 8000000, "ready, waiting for a core"),
           x(1, 8000000, 8010000, "running Python (holds the GIL)"),
           x(1, 8010000, 13150000, "waiting for the GIL")]
    return {"traceEvents": ev}


def main():
    with workdir() as d:
        p = d.path("r")
        d.put("r.rec.json", recording())
        d.put("r.sched.txt", kernel_trace())
        _, rows = ot.turns_real(p)
        same("real rows (sleep, core, req, back, ask, others, regime)",
             [(r["sleep"], r["core"], r["req"], r["back"], r["ask"], r["others_ns"],
               ot.regime(r["back"])) for r in rows],
             [(5050000, 8000, 2000, 2820000, 2830000, 20000, "A"),
              (5158000, 5000, 5000, 6800000, 6810000, 0, "B")])
        _, rows = ot.turns_model(d.put("r.trace.json", model_trace()))
        same("model rows (sleep, core, back, ask, regime)",
             [(r["sleep"], r["core"], r["back"], r["ask"], ot.regime(r["back"])) for r in rows],
             [(5050000, 8000, 2820000, 2830000, "A")])
        bad = d.put("r.bad.json", {"traceEvents": []})
        refused("a trace without a GIL lane is refused", lambda: ot.turns_model(bad),
                "no GIL lane")
    return exit_status()


if __name__ == "__main__":
    sys.exit(main())
