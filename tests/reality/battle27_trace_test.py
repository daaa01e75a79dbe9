#!/usr/bin/env python3
"""battle27_trace.py's self-test (`battle27_trace.py --self-test` runs it):
a Python 2.7 GIL battle's kernel trace made by hand (fixture.py), and each
figure the analysis reads off it (which wake-ups pulled the waiter, how
long the pair shared a CPU, what ended the sharing)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
from fixture import KernelTrace, exit_status, same, workdir  # noqa: E402
import battle27_trace as bt  # noqa: E402

us = 1000


def kernel_trace():
    """Workers 101 and 102, another process 200. 102 sleeps on CPU 1 and is
    woken there twice (cross, its CPU idle), sleeps again with 200 on CPU 1
    and is woken onto 101's CPU 0 (cross, pulled), runs there preempting
    101, is woken there once more (same); a balance then moves 101 to CPU
    1, ending the 40 us the two shared CPU 0 of the 300 us run. That
    balance is logged in the softirq of CPU 1 while 200 runs there: the
    periodic balance of a busy CPU. The wake-up that began the stretch
    found 102's previous CPU 1 running 200 (comm "y", as every next_comm
    here). Every line is logged by x-1, times in us from 5000 s."""
    kt = KernelTrace(t0_ns=5000 * 1000000000, header="# tracer: nop\n")

    def sw(t, cpu, comm, prev, state, nxt):
        kt.switch(t * us, cpu, prev, state, nxt, prev_comm=comm, next_comm="y", by=("x", 1))

    def wake(t, cpu, pid, target):
        kt.wake(t * us, cpu, 1, pid, cpu, comm="python2.7", by_comm="x")
        kt.wake(t * us, cpu, 1, pid, target, kind="sched_wakeup", comm="python2.7", by_comm="x")

    def migrate(t, cpu, pid, orig, dest, flags="d..2."):
        kt.event(t * us, cpu, "x", 1, "sched_migrate_task",
                 "comm=python2.7 pid=%d prio=120 orig_cpu=%d dest_cpu=%d" % (pid, orig, dest),
                 flags)
    sw(0, 0, "python2.7", 100, "S", 101)
    sw(10, 1, "<idle>", 0, "R", 102)
    sw(20, 1, "python2.7", 102, "S", 0)
    wake(30, 0, 102, 1)
    sw(40, 1, "<idle>", 0, "R", 102)
    sw(45, 1, "python2.7", 102, "S", 0)
    wake(47, 0, 102, 1)
    sw(48, 1, "<idle>", 0, "R", 102)
    sw(50, 1, "python2.7", 102, "S", 200)
    kt.wake(60 * us, 0, 1, 102, 0, comm="python2.7", by_comm="x")
    migrate(60, 0, 102, 1, 0)
    kt.wake(60 * us, 0, 1, 102, 0, kind="sched_wakeup", comm="python2.7", by_comm="x")
    sw(70, 0, "python2.7", 101, "R", 102)
    sw(80, 0, "python2.7", 102, "S", 101)
    wake(90, 0, 102, 0)
    sw(95, 0, "python2.7", 101, "R", 102)
    migrate(100, 1, 101, 0, 1, flags="d.s2.")  # the balance, in CPU 1's softirq
    sw(110, 1, "cc1", 200, "R", 101)
    sw(200, 0, "python2.7", 102, "X", 0)
    sw(300, 1, "python2.7", 101, "X", 0)
    return kt


def main():
    with workdir() as d:
        d.put("run.pairs.json", [{"tids": [101, 102], "ratio": 1.5, "serial_s": 1,
                                  "two_s": 1.5}])
        d.put("run.sched.txt", kernel_trace())
        a = bt.analyse(d.path("run"))[0]
    want = {"span_ms": 0.3, "shared_share": 40 / 300, "episodes": 1,
            "episode_median_ms": 0.04, "ends": {"wakeup": 0, "balance": 1},
            "starts": {"wakeup": 1, "balance": 0, "start": 0},
            "balance_moves": 1, "vol": [0, 4], "preempted": [0, 2],
            "others_share": 60 / 600, "ratio": 1.5,
            "balance_kinds": {"busy": 1}, "join_balance": {},
            "join_wake": {"pulled": 1, "prev_idle": 0, "prev_worker": 0, "prev_other": 1},
            "join_wake_others": {"y": 1},
            "busy_for_ms": {"pulled": [0.01], "stayed": []},
            "wakes": {"total": 4, "by_worker": 4, "same": 1, "cross": 3, "pulled": 1,
                      "prev_idle": 2}}
    for k, v in want.items():
        got = a.get(k)
        if isinstance(v, float) and isinstance(got, float):
            same(k, round(got, 9), round(v, 9))
        else:
            same(k, got, v)
    return exit_status()


if __name__ == "__main__":
    sys.exit(main())
