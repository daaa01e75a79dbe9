#!/usr/bin/env python3
"""wake_return.py's self-test (`wake_return.py --self-test` runs it): a
woken main thread's wake-up preemptions in a kernel trace and a model run
made by hand (fixture.py): whether the CPU went back to the thread it
preempted, by how long that had run; where the kernel put the wakee and
how soon it ran; each CPU's shares; files that are not what they should be
refused."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
from fixture import KernelTrace, ModelRun, check, exit_status, refused, workdir  # noqa: E402
import wake_return as wr  # noqa: E402

us = 1000


def kernel_trace():
    """CPU 0: w0 (101) runs from 1000 us; at 1100 it wakes main (100) onto
    its own CPU, main preempts it at 1103 and sleeps at 1108: back to w0
    (ran 103 us). At 5000 w1 (102, on CPU 1 since 2000) wakes main onto CPU
    0 (w0 busy there): main runs at 5022 on CPU 0 replacing w0 (ran 3914 us
    since 1108), sleeps at 5030 and CPU 0 goes to another process (555),
    which also ran on CPU 1 until 2000."""
    kt = KernelTrace(header="# tracer: nop\n")
    kt.switch(999 * us, 1, 0, "R", 555).switch(1000 * us, 0, 0, "R", 101) \
        .switch(2000 * us, 1, 555, "R", 102)
    kt.wake(1100 * us, 0, 101, 100, 0, flags="dN.3.") \
        .wake(1101 * us, 0, 101, 100, 0, kind="sched_wakeup", flags="dN.3.")
    kt.switch(1103 * us, 0, 101, "R", 100).switch(1108 * us, 0, 100, "S", 101)
    kt.wake(5000 * us, 1, 102, 100, 0, flags="dN.3.") \
        .wake(5001 * us, 1, 102, 100, 0, kind="sched_wakeup", flags="dN.3.")
    return kt.switch(5022 * us, 0, 101, "R", 100).switch(5030 * us, 0, 100, "S", 555) \
        .switch(6000 * us, 0, 555, "S", 101).switch(7000 * us, 0, 101, "S", 0) \
        .switch(7000 * us, 1, 102, "S", 0)


def model_run():
    """Core 0: w0 runs 0-1000 us, goes ready at 1000 as main switches in
    (2 us) and waits for the GIL; w1 then runs (not back). Later w0 runs
    2000-2040, main preempts it at 2040, and w0 runs again from 2045 (back,
    ran 40 us). An "other load" thread preempted by main is not counted;
    nor is a thread that blocked rather than went ready."""
    return ModelRun().core(0, "w0", "c_nogil", 0, 1000 * us) \
        .lane("w0", "ready", 1000 * us, 2000 * us) \
        .core(0, "MainThread", "switch", 1000 * us, 1002 * us) \
        .core(0, "w1", "python", 1002 * us, 2000 * us) \
        .core(0, "w0", "python", 2000 * us, 2040 * us) \
        .lane("w0", "ready", 2040 * us, 2045 * us, "w0: program[3] put MainThread q") \
        .core(0, "MainThread", "switch", 2040 * us, 2042 * us) \
        .core(0, "MainThread", "python", 2042 * us, 2045 * us) \
        .core(0, "w0", "python", 2045 * us, 2100 * us) \
        .core(1, "other load 0", "python", 0, 500 * us) \
        .lane("other load 0", "ready", 500 * us, 600 * us, process="load") \
        .core(1, "MainThread", "switch", 500 * us, 502 * us) \
        .core(1, "other load 0", "python", 502 * us, 600 * us) \
        .core(1, "w1", "python", 600 * us, 700 * us) \
        .core(1, "MainThread", "switch", 700 * us, 702 * us) \
        .core(1, "w1", "python", 702 * us, 800 * us)


def main():
    with workdir() as d:
        pre = d.path("t")
        d.put("t.tids.json", {"100": "MainThread", "101": "w0", "102": "w1"})
        d.put("t.sched.txt", kernel_trace())
        c = wr.kernel(pre, "MainThread", wr.new_counts())
        w, a = c["its waker"], c["not known to be its waker"]
        check(w["back"] == [0, 1, 0, 0, 0] and sum(w["other"]) == 0 and sum(a["back"]) == 0
              and a["other"] == [0, 0, 0, 0, 1],
              "kernel: its waker, which ran 103 us, gets its CPU back; another thread, which "
              "ran 3.9 ms, does not (%s)" % {k: c[k] for k in wr.KINDS})
        check(sorted((k, v) for k, v in c["lands"].items()) ==
              [("busy (program)", [22000]), ("waker's CPU", [3000])],
              "kernel: the wake onto the waker's CPU ran 3 us after the waking, the one onto "
              "the other busy CPU 22 us after it (%s)" % dict(c["lands"]))
        shares = [(k, round(m, 4), round(o, 4)) for k, m, o in c["cpu_shares"]]
        check(shares == [(0, round(5030 / 6000, 4), round(970 / 6000, 4)),
                         (1, round(5000 / 6000, 4), round(1000 / 6000, 4))],
              "kernel: the program's and other processes' shares of each CPU in the run (%s)"
              % shares)
        m = wr.model(d.put("run.csv", model_run()), "MainThread", wr.new_counts())
        w, a = m["its waker"], m["not known to be its waker"]
        check(w["back"] == [1, 0, 0, 0, 0] and sum(w["other"]) == 0 and sum(a["back"]) == 0
              and a["other"] == [0, 0, 1, 0, 0],
              "model: its waker (preempted at its put), which ran 40 us, gets its core back; "
              "another thread, which ran 1 ms, does not; the other load and a thread that "
              "blocked are not counted (%s)" % {k: m[k] for k in wr.KINDS})
        refused("model: a file that is not a run CSV is refused",
                lambda: wr.model(pre + ".sched.txt", "MainThread", wr.new_counts()),
                "not a gilsim run --csv")
        refused("kernel: a missing trace is refused",
                lambda: wr.kernel(d.path("missing"), "MainThread", wr.new_counts()),
                "not a kept trace")
    return exit_status()


if __name__ == "__main__":
    sys.exit(main())
