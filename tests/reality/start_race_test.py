#!/usr/bin/env python3
"""start_race.py's self-test (`start_race.py --self-test` runs it): the two
races of a Thread.start read off recordings made by hand (fixture.py) and a
model run's Chrome trace, whose outcomes are known; an empty trace
refused."""
import io
import os
import sys
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
from fixture import Recording, exit_status, refused, same, workdir  # noqa: E402
import start_race as sr  # noqa: E402


def recording(first_hold, cpu_takes, cpu_turn_before=False):
    """MainThread starts io beside cpu (already waiting); io wins the drop
    race and holds first_hold ns; at io's release either cpu or MainThread
    takes the GIL. cpu_turn_before: cpu held the GIL once (1005-1008 ns,
    forced off) between the start and io's first hold."""
    end = 1020 + first_hold
    rec = Recording()
    mt = rec.thread("MainThread").start(0).hold(0).wait(900, 9000, "Event.wait", "event", 77) \
        .release(1000, "call").ask(1100 + first_hold)
    rec.thread("io").start(1010).ask(1010).hold(1020) \
        .call(1030, 1040, "Event.set", "event", False, 77).release(end, "call")
    cpu = rec.thread("cpu").ask(500)
    if cpu_turn_before:
        cpu.hold(1005).release(1008, "forced")
    (cpu if cpu_takes else mt).hold(end + 5).release(end + 900, "call")
    if cpu_takes:
        mt.hold(end + 950).release(end + 990, "call")
    return rec


def model_trace():
    """MainThread drops at 1 us, cpu (waiting) takes it, io's first hold is
    forced off, then MainThread takes it (Chrome trace events, us)."""
    def M(tid, n):
        return {"ph": "M", "name": "thread_name", "pid": 1, "tid": tid, "args": {"name": n}}

    def X(tid, n, ts, dur):
        return {"ph": "X", "name": n, "pid": 1, "tid": tid, "ts": ts, "dur": dur}
    return {"traceEvents": [
        M(0, "GIL"), M(1, "MainThread"), M(2, "cpu"), M(3, "io"),
        X(0, "MainThread", 0.0, 1.0), X(1, "running Python (holds the GIL)", 0.0, 1.0),
        X(2, "waiting for the GIL", 0.0, 1.1), X(0, "cpu", 1.1, 5000.0),
        X(3, "ready, waiting for a core", 1.0, 20.0), X(3, "waiting for the GIL", 21.0, 5080.1),
        X(0, "io", 5101.1, 100.0), X(1, "waiting for the GIL", 5102.0, 99.0),
        {"ph": "i", "name": "forced switch", "pid": 1, "tid": 3, "ts": 5201.1,
         "args": {"kind": "forced_switch"}},
        X(0, "MainThread", 5201.1, 10.0)]}


def main():
    with workdir() as d:
        paths = [d.put("r%d.rec.json" % i, recording(h, cpu_takes))
                 for i, (h, cpu_takes) in enumerate([(50, True), (60, False), (70, True)])]
        buf = io.StringIO()
        same("the counts over three recordings", sr.report(paths, quiet=True, out=buf),
             Counter({("MainThread>io", "new", "voluntary", "other"): 2,
                      ("MainThread>io", "new", "voluntary", "starter"): 1}))
        r = sr.races(sr.from_recording(paths[0]))[0]
        same("io's first hold, the starter's ask, io's wait",
             (r["first_hold"], r["starter_ask"], r["new_wait"]), (50, 80, 20))
        same("in the start: io's hold, cpu's turn, then back", r["in_start"], 1020)
        # the starter is the thread waiting on the Event the new thread sets
        # first, not whoever held the GIL last before the start
        r = sr.races(sr.from_recording(d.put("r3.rec.json", recording(50, True, True))))[0]
        same("the starter, the drop's winner and taker", (r["starter"], r["drop_winner"],
                                                          r["drop_taker"]),
             ("MainThread", "old", "cpu"))
        rows = sr.races(sr.from_trace(d.put("m.trace.json", model_trace())))
        same("model: one start", len(rows), 1)
        r = rows[0]
        same("model: the drop's winner and taker, io's first hold's end and winner",
             (r["drop_winner"], r["drop_taker"], r["first_end"], r["first_winner"]),
             ("old", "cpu", "forced", "starter"))
        same("model: io's wait, the starter's ask", (r["new_wait"], r["starter_ask"]),
             (5100100, -99100))
        bad = d.put("bad.json", {"traceEvents": []})
        refused("an empty trace is refused", lambda: sr.read(bad), "no GIL holds")
    return exit_status()


if __name__ == "__main__":
    sys.exit(main())
