#!/usr/bin/env python3
"""mutex_gaps.py's self-test (`mutex_gaps.py --self-test` runs it): a
recording and a model run's rows made by hand (fixture.py); the gaps
between a drop_gil's signal and its release (a model's dropper preempted
at its release), with the holds and asks inside; the summary line."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
from fixture import ModelRun, Recording, check, exit_status, same  # noqa: E402
import mutex_gaps as mg  # noqa: E402


def recording():
    """a signals b at 200 ns and releases at 0.9 ms (a call): one gap with
    b's ask inside; b's hold after it, its signal that woke nobody no gap."""
    rec = Recording(format=None)
    rec.thread("a", cpu=0, index=0).hold(100).signal(200, 1).release(900_000, "call")
    rec.thread("b", cpu=1, index=1).ask(50).ask(300_000).hold(950_000).signal(960_000, -1) \
        .release(970_000, "call")
    return rec.dict()


def run_rows():
    """a preempted at its drop (ready at 10 ns) until its switch ends at
    502 ns; c's hold and b's ask inside, b's hold after."""
    return ModelRun().gil("a", 0, 10).lane("a", "ready", 10, 500).lane("a", "switch", 500, 502) \
        .lane("b", "wait_gil", 20, 510).gil("c", 100, 120).gil("b", 510, 520).dicts()


def main():
    g = mg.rec_gaps(recording())
    same("a recording: one signalled drop, its ask inside, b's hold after it, b's signal "
         "that woke nobody not a gap", g, [(899_800, 0, 1, "call")])
    g = mg.run_gaps(run_rows())
    same("a model run: a preempted at its drop until its switch ends at 502, c's hold and "
         "b's ask inside, b's hold after", g, [(492, 1, 1, "?")])
    check(mg.summary("real", 1, [(2e6, 0, 1, "call"), (1e5, 1, 0, "forced")], 3e5) ==
          "real, 1 file(s): 1 gaps of 0.3 ms or more (1.00 a file over 1 ms), 0 with "
          "another thread's hold inside, 1 with an ask inside; by release: call 1 (0 with "
          "a hold)", "the summary line")
    return exit_status()


if __name__ == "__main__":
    sys.exit(main())
