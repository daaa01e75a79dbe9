#!/usr/bin/env python3
"""main_waits.py's self-test (`main_waits.py --self-test` runs it): the main
thread's GIL waits, a recording and a model run made by hand (fixture.py),
each wait in the category of the operation it lies in."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
from fixture import ModelRun, Recording, exit_status, same, workdir  # noqa: E402
import main_waits as mw  # noqa: E402


def recording():
    """MainThread: an unnamed release (a 10 ns wait: "run"), a lock wait
    inside Event.wait (the start of io: 5 us), Thread.join (0.5 us),
    Condition.wait (1 us); io's Event.set, a call of no length."""
    rec = Recording()
    rec.thread("MainThread").hold(0).release(100, "unnamed").ask(150).hold(160) \
        .release(1000, "call").lock_wait(1010, 2000, 7).ask(2000).hold(7000) \
        .wait(900, 7100, "Event.wait", "event", 55) \
        .release(8000, "call").ask(9000).hold(9500) \
        .wait(7900, 9600, "Thread.join", "join", 66) \
        .release(10000, "call").ask(11000).hold(12000) \
        .wait(9900, 12100, "Condition.wait", "event", 77)
    rec.thread("io").call(1500, 1500, "Event.set", "event", None, 55, 1)
    return rec


def model_run():
    run = ModelRun()
    c_call, start = "m: program[0].do[1] c_call 1us", "m: program[2] start io"
    cond = "m: program[5].do[0] get MainThread Condition.wait"
    for state, s, e, op in (("c_nogil", 100, 150, c_call), ("wait_gil", 150, 170, c_call),
                            ("wait_event", 1000, 2000, start), ("ready", 2000, 2100, start),
                            ("wait_gil", 2100, 8000, start), ("switch", 8000, 8100, start),
                            ("wait_join", 8200, 9000, "m: program[4] join io"),
                            ("wait_gil", 9000, 9100, "m: program[4] join io"),
                            ("ready", 9100, 9150, "m: program[4] join io"),
                            ("wait_queue", 9200, 9900, cond), ("wait_gil", 9900, 10900, cond)):
        run.lane("MainThread", state, s, e, op)
    return run


def main():
    same("real", mw.totals(mw.recording_waits(recording().dict())),
         {"run": 10, "start io": 5000, "join": 500, "Condition.wait": 1000})
    with workdir() as d:
        # the ready before the wait_gil is the wake-up, not the wait; the
        # switch after it, and a ready after it (the join's), are inside
        # (ask to hold)
        same("model", mw.totals(mw.model_waits(d.put("m.csv", model_run()))),
             {"run": 20, "start io": 6000, "join": 150, "Condition.wait": 1000})
    same("category of a lock queue", mw._model_category("m: program[3] get lock-1 for w"),
         "get lock-1 for w")
    return exit_status()


if __name__ == "__main__":
    sys.exit(main())
