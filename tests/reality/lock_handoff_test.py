#!/usr/bin/env python3
"""lock_handoff.py's self-test (`lock_handoff.py --self-test` runs it): two
workers and a Lock, a recording and a model run made by hand (fixture.py);
the hand-offs counted as releaser > taker, and the Lock's race at each
release (won or lost, the gaps)."""
import os
import sys
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
from fixture import ModelRun, Recording, check, exit_status, same, workdir  # noqa: E402
import lock_handoff as lh  # noqa: E402


def recording(w1_woken=45000, again=False):
    """w0 holds the Lock (1), sleeps inside it (takes the GIL back, no
    switch), releases it at 40 us; w1, woken by the release at w1_woken,
    asks and takes the GIL when w0 blocks on the Lock; MainThread is forced
    off once by w0 at the start. again: w0 posts the Lock once more at
    54 us, after its exit, not after a sleep."""
    rec = Recording(duration_ns=100000)
    rec.thread("MainThread").start(0).hold(0).release(5000, "forced") \
        .turn(5000, 90000, 100000, "exit")
    w0 = rec.thread("w0").start(1000).ask(1000).hold(5000) \
        .call(10000, 30000, "time.sleep", "sleep").release(10000, "call") \
        .ask(30000).hold(30000).lock_post(40000, 1) \
        .release(50000, "call").lock_wait(50500, 95000, 1).release(60000, "exit")
    if again:
        w0.ask(52000).hold(53000).lock_post(54000, 1)
    rec.thread("w1").start(2000).lock_wait(2000, w1_woken, 1) \
        .turn(45000, 50100, 80000, "exit")
    return rec


def model_run():
    """The same story in lanes (the last hold of w0 left out)."""
    run = ModelRun()
    for who, s, e in (("MainThread", 0, 5000), ("w0", 5000, 10000), ("w0", 30000, 50000),
                      ("w1", 50100, 80000), ("MainThread", 90000, 100000)):
        run.gil(who, s, e)
    m, put1, get0 = "m: program[0] cpu 9us", "w0: program[3] put lock-1 for w1", \
        "w0: program[5] get lock-1 for w0"
    get1 = "w1: program[0] get lock-1 for w1"
    for who, state, s, e, op in (
            ("MainThread", "python", 0, 5000, m), ("MainThread", "wait_gil", 5000, 90000, m),
            ("MainThread", "python", 90000, 100000, m),
            ("w0", "wait_gil", 1000, 5000, "w0: program[0] cpu 5us"),
            ("w0", "python", 5000, 10000, "w0: program[0] cpu 5us"),
            ("w0", "sleep", 10000, 30000, "w0: program[1] sleep 20us"),
            ("w0", "python", 30000, 40000, "w0: program[2] cpu 10us"),
            ("w0", "c_gil", 40000, 41000, put1),
            ("w0", "python", 41000, 50000, "w0: program[4] cpu 9us"),
            ("w0", "wait_queue", 50000, 95000, get0),
            ("w1", "wait_queue", 2000, 45000, get1), ("w1", "wait_gil", 45000, 50100, get1),
            ("w1", "python", 50100, 80000, "w1: program[1] cpu 29.9us")):
        run.lane(who, state, s, e, op)
    return run


def main():
    with workdir() as d:
        r = lh.recording(d.put("r.rec.json", recording()))
        m = lh.model(d.put("m.csv", model_run()))
        for label, (holds, lw, dur) in (("recording", r), ("model", m)):
            c = lh.count(holds, dur)
            same("%s: the hand-offs" % label, c["pairs"],
                 Counter({"forced>start": 1, "lock>lock": 1, "exit>forced": 1}))
            same("%s: taken back by the releaser" % label, c["same"], Counter({"sleep": 1}))
            check(abs(c["per_s"] - 3 / 100e-6) <= 1e-6,
                  "%s: 3 switches in 100 us (%r/s)" % (label, c["per_s"]))
            same("%s: a Lock wait each" % label, (lw.get("w1"), lw.get("w0")), (1, 1))
        # the race: w0's post at 40 us is its first after its sleep (held
        # again at 30 us), w1's wait on the same Lock ends 5 us later, before
        # any other post: won, and w0 lets the GIL go 10 us after its post
        same("the race", lh.race(d.put("r.rec.json", recording())),
             {"after sleep": (1, [5000], [10000]), "other": (0, [], [])})
        # w1's wait now ends at 60 us: after w0's second post (54 us), so
        # the first post is lost and the second (not after a sleep) won at
        # 6 us; w0 lets the GIL go at its exit, 6 us after that post
        same("the race, a second post", lh.race(d.put("r.rec.json", recording(60000, True))),
             {"after sleep": (1, [], []), "other": (1, [6000], [6000])})
    return exit_status()


if __name__ == "__main__":
    sys.exit(main())
