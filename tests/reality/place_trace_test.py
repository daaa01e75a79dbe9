#!/usr/bin/env python3
"""place_trace.py's self-test (`place_trace.py --self-test` runs it): where
the kernel ran a program thread another one woke, on kernel traces made by
hand (fixture.py): threads 11 and 12 of the program, 99 another process's,
5 the main thread; each wake one case of the classes."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
from fixture import KernelTrace, exit_status, same  # noqa: E402
import place_trace as pt  # noqa: E402

us = 1000


class Trace(KernelTrace):
    """The place tests' shorthand: times in us from 100 s; switches logged
    as comm x; a wake is its sched_waking (target: the previous CPU) and,
    1 us later, its sched_wakeup (target: where it is queued)."""

    def __init__(self):
        super().__init__(t0_ns=100 * 1000000000)

    def sw(self, t, cpu, p, state, n, by=None):
        self.switch(t * us, cpu, p, state, n, prev_comm="x", next_comm="y",
                    by=("x", p if by is None else by))

    def wk(self, t, by, cpu, pid, prev, tgt, flags="d..2."):
        self.wake(t * us, cpu, by, pid, prev, flags=flags)
        self.wake((t + 1) * us, cpu, by, pid, tgt, kind="sched_wakeup", flags=flags)


def classes_trace():
    kt = Trace()
    kt.sw(10, 0, 0, "R", 11)
    kt.sw(11, 1, 0, "R", 12)
    kt.sw(20, 1, 12, "S", 0)            # 12 sleeps on CPU 1, which idles
    kt.wk(30, 11, 0, 12, 1, 1)          # 1: prev idle, back to it
    kt.sw(40, 1, 0, "R", 12)
    kt.sw(50, 1, 12, "S", 0)
    kt.wk(60, 11, 0, 12, 1, 0)          # 2: prev idle, pulled to the waker's
    kt.sw(70, 0, 11, "S", 12)           # 11 sleeps; 12 runs on CPU 0
    kt.wk(80, 12, 0, 11, 0, 0)          # 3: prev is the waker's CPU (1 idle), stayed
    kt.sw(90, 0, 12, "S", 11)
    kt.wk(100, 11, 0, 12, 0, 1)         # 4: prev is the waker's CPU, to the idle other
    kt.sw(110, 1, 0, "R", 12)
    kt.sw(120, 1, 12, "S", 99)          # 12 sleeps, another process runs on CPU 1
    kt.wk(130, 11, 0, 12, 1, 0)         # 5: prev busy (other), to the waker's
    kt.sw(140, 0, 11, "R", 12)          # 12 preempts 11: 11 not asleep
    kt.wk(150, 12, 0, 11, 0, 0)         # 6: not asleep
    kt.sw(160, 1, 99, "S", 0)
    kt.sw(170, 0, 12, "S", 11)
    kt.sw(180, 0, 11, "S", 0)           # both asleep, both CPUs idle
    kt.wk(190, 11, 0, 12, 0, 0, flags="d.h2.")   # 7: a timer in an interrupt: no waker
    kt.sw(195, 0, 0, "R", 12)
    kt.sw(196, 0, 12, "S", 0)
    kt.wk(200, 5, 1, 11, 0, 1)          # 8: the main thread's wake: no waker of the program
    return kt


def pending_trace():
    """A pending wake (pid 77 queued on CPU 1) makes the idle CPU 1 not idle
    (Linux idle_cpu: nr_running)."""
    kt = Trace()
    kt.sw(10, 0, 0, "R", 11)
    kt.sw(11, 1, 0, "R", 12)
    kt.sw(20, 1, 12, "S", 0)
    kt.sw(21, 0, 11, "R", 13)
    kt.wake(30 * us, 0, 13, 77, 1, kind="sched_wakeup", comm="z", by_comm="x")
    kt.wk(40, 13, 0, 12, 1, 0)
    return kt


def main():
    res = pt.analyse(pt.parse(classes_trace().lines), [11, 12])
    bp, nw, ai = res["by_program"], res["no_waker"], res["by_program_another_idle"]
    same("idle prev", bp["idle"], {"prev": 1, "waker's": 1, "other": 0})
    same("waker's prev", bp["waker's"], {"prev": 1, "waker's": 0, "other": 1})
    same("busy prev", bp["other"], {"prev": 0, "waker's": 1, "other": 0})
    same("not asleep", bp["not asleep"], {"prev": 1, "waker's": 0, "other": 0})
    same("no waker", (nw["idle"], nw["waker's"]),
         ({"prev": 1, "waker's": 0, "other": 1}, dict.fromkeys(pt.LANDED, 0)))
    # wake 5: CPU 1 runs another process and CPU 0 the waker: no CPU idle
    same("another idle (busy prev)", ai["other"], dict.fromkeys(pt.LANDED, 0))
    same("another idle (waker's prev)", ai["waker's"], {"prev": 1, "waker's": 0, "other": 1})
    s = pt.shares(res)
    same("kept_idle_prev", s["kept_idle_prev"], 0.5)
    same("affine_busy_prev", s["affine_busy_prev"], 0.5)
    same("same", s["same"], 0.6)
    res = pt.analyse(pt.parse(pending_trace().lines), [11, 12, 13])
    same("idle, wake pending", res["by_program"]["idle, wake pending"],
         {"prev": 0, "waker's": 1, "other": 0})
    return exit_status()


if __name__ == "__main__":
    sys.exit(main())
