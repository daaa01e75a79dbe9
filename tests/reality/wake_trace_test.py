#!/usr/bin/env python3
"""wake_trace.py's self-test (`wake_trace.py --self-test` runs it): the
GIL's hand-offs classified on a recording and kernel trace made by hand
(fixture.py): four hand-offs, one of each class (the waiter not asleep,
woken on the waker's own CPU, on an idle CPU and how long it idled, on a
CPU busy with another program), with known latencies."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
from fixture import KernelTrace, Recording, check, exit_status, workdir  # noqa: E402
import wake_trace as wt  # noqa: E402

T0 = 1_000_000_000  # the recording's t0_monotonic_ns, the trace's clock


def recording():
    """101 signals 102 four times; 102's woken after each."""
    rec = Recording(format=None, t0_monotonic_ns=T0)
    rec.thread(None, tid=101).signal(1000, 1).signal(100000, 1).signal(200000, 1) \
        .signal(300000, 1)
    rec.thread(None, tid=102).woken(2500).woken(106000).woken(232000).woken(325000)
    return rec


def kernel_trace():
    """Every line logged by python3-101 (the reader goes by the fields)."""
    kt = KernelTrace(t0_ns=T0)
    by = ("python3", 101)

    def sw(t, cpu, prev, nxt):
        kt.switch(t, cpu, prev, "S", nxt, prev_comm="a", next_comm="b", by=by)

    def wake(t, cpu, target):
        kt.wake(t, cpu, 101, 102, target).wake(t, cpu, 101, 102, target, kind="sched_wakeup")
    sw(0, 1, 102, 0)                  # CPU 1 idle from 0
    wake(101000, 0, 0)                # 2: the waker's own CPU
    sw(104000, 0, 101, 102)
    sw(110000, 0, 102, 101)
    sw(150000, 1, 0, 0)               # CPU 1 idle again, 150 us
    wake(201000, 0, 1)                # 3: idle CPU 1, 51 us idle
    sw(231000, 1, 0, 102)
    sw(240000, 1, 102, 555)           # another program on CPU 1
    wake(301000, 0, 1)                # 4: busy with another
    sw(323000, 1, 555, 102)
    return kt


def main():
    with workdir() as d:
        d.put("t.sched.txt", kernel_trace())
        rows = wt.handoffs(recording().dict(), wt.kernel(d.path("t")))
    want = [("asleep? no", None, 1.5, None), ("same CPU", None, 6.0, 3.0),
            ("idle CPU", 51.0, 32.0, 30.0), ("busy (other)", None, 25.0, 22.0)]
    ok = len(rows) == 4 and all(
        a[0] == b[0] and all((x is None and y is None) or (x is not None and y is not None
                                                             and abs(x - y) < 0.01)
                             for x, y in zip(a[1:], b[1:])) for a, b in zip(rows, want))
    check(ok, "the hand-offs' classes and latencies (%s)" % rows
          + ("" if ok else ", want %s" % want))
    return exit_status()


if __name__ == "__main__":
    sys.exit(main())
