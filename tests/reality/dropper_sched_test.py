#!/usr/bin/env python3
"""dropper_sched.py's self-test (`dropper_sched.py --self-test` runs it):
where a forced dropper's time goes, on a recording and kernel trace made
by hand (fixture.py): three forced drops, one of each kind; then a file
with no sched events refused."""
import collections
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
from fixture import KernelTrace, Recording, exit_status, refused, same, workdir  # noqa: E402
import dropper_sched as ds  # noqa: E402


def recording():
    """cpu-0 woken onto the CPU of the new holder (cpu-1) and run there 1.2
    ms later; cpu-1 preempted (switched out runnable) and asking 800 us
    later; cpu-0 woken onto an idle CPU and asking after 30 us."""
    rec = Recording(t0_monotonic_ns=0)
    rec.thread("cpu-0", tid=10).hold(0).release(1000, "forced").ask(1300000).hold(5000000) \
        .release(6000000, "forced").ask(6030000)
    rec.thread("cpu-1", tid=11).hold(2000).release(3000000, "forced").ask(3800000)
    rec.thread("cpu-2", tid=12).hold(3001000).hold(6002000)
    return rec


def kernel_trace():
    """To the ns (the drops are microseconds apart); wakes logged by pid 1."""
    kt = KernelTrace(ns=True)

    def sw(t, cpu, prev, nxt, state="S"):
        kt.switch(t, cpu, prev, state, nxt)

    def wk(t, cpu, pid, target):
        kt.wake(t, cpu, 1, pid, target, flags="d..4.")
    sw(500, 1, 0, 11)
    sw(1500, 0, 10, 0)
    wk(3000, 1, 10, 1)
    sw(1203000, 1, 11, 10, "R")  # cpu-0 runs on cpu-1's CPU 1.2 ms later
    sw(3000500, 0, 0, 12)
    sw(3000600, 1, 10, 11)
    sw(3001500, 1, 11, 10, "R")
    sw(3799000, 0, 12, 11, "R")
    sw(6001000, 1, 10, 0)
    wk(6010000, 0, 10, 1)
    sw(6020000, 1, 0, 10)
    return kt


def main():
    with workdir() as d:
        rp, sp, ep = d.put("r.rec.json", recording()), d.put("s.txt", kernel_trace()), \
            d.put("e.txt", "")
        beside, prev = collections.Counter(), collections.Counter()
        rows, waits = ds.analyse(*ds.load(rp, sp), "cpu", beside, prev)
        same("beside", dict(beside), {(">=700us", "idle"): 1})  # CPU 0 idles from 1.5 us
        # cpu-0 left CPU 0 at 1.5 us, cpu-1 holds on CPU 1: the wake at 3 us
        # onto CPU 1 is the holder's, CPU 0 idle; at the wake of 6.01 ms the
        # holder (cpu-2) is on no CPU, so that wake is not sorted
        same("prev", dict(prev),
             {("holder elsewhere", "another CPU idle", "woken onto the holder's CPU"): 1})
        same("rows", dict(rows),
             {(">=700us", "woken onto a CPU running the new GIL holder, ran there"): 1,
              (">=700us", "no wake seen, left its CPU R"): 1,
              ("<100us", "woken onto a CPU running idle, ran there"): 1})
        same("waits", (waits.get(">=700us"), waits.get("<100us")), ([1200000], [10000]))
        refused("a file without sched events is refused", lambda: ds.load(rp, ep),
                "no sched_switch")
    return exit_status()


if __name__ == "__main__":
    sys.exit(main())
