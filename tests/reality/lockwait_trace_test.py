#!/usr/bin/env python3
"""lockwait_trace.py's self-test (`lockwait_trace.py --self-test` runs it):
a recording and its kernel trace made by hand (fixture.py); each woken
lock waiter classified (queued on its waker's CPU behind a thread that
then sleeps, or run on the idle other CPU), and the recording-only
--behind count."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
from fixture import KernelTrace, Recording, exit_status, same, workdir  # noqa: E402
import lockwait_trace as lt  # noqa: E402

T0 = 1_000_000_000  # the recording's t0_monotonic_ns, the trace's clock


def recording():
    """Lock waits as the first recordings wrote them (no object)."""
    rec = Recording(format=None, t0_monotonic_ns=T0, duration_ns=1_000_000,
                    host={"cores_online": 2})
    rec.thread("producer", tid=11).raw(150_000, "lock_wait", 400_000)
    rec.thread("consumer1", tid=12).raw(0, "lock_wait", 150_800) \
        .raw(200_000, "lock_wait", 320_900)
    return rec


def kernel_trace():
    """Two CPUs; the producer (pid 11) on CPU 0 posts consumer1 (pid 12)
    twice: once while CPU 1 runs another program (the kernel queues the
    consumer on CPU 0; it runs when the producer sleeps), once while CPU 1
    is idle (it runs there 20 us later)."""
    kt = KernelTrace(t0_ns=T0)
    kt.switch(1_000, 0, 0, "R", 11, prev_comm="swapper/0")
    kt.switch(1_000, 1, 0, "R", 99, prev_comm="swapper/1", next_comm="cc1")
    kt.wake(30_000, 0, 11, 12, 0)
    kt.switch(150_000, 0, 11, "S", 12)
    kt.switch(160_000, 1, 99, "S", 0, prev_comm="cc1", next_comm="swapper/1")
    kt.switch(190_000, 0, 12, "S", 11)
    kt.wake(300_000, 0, 11, 12, 1)
    return kt.switch(320_000, 1, 0, "R", 12, prev_comm="swapper/1")


def main():
    rec = recording()
    with workdir() as d:
        prefix = d.path("t")
        d.put("t.rec.json", rec)
        d.put("t.sched.txt", kernel_trace())
        _, rows = lt.analyse(prefix, {"consumer1"}, 10)
    same("where each woken wait ran (where, the other CPU, what it replaced, post to on-CPU "
         "us, on-CPU to the wait's end us)",
         [(x["where"], x["other"], x["replaced"], round(x["post_on"]), round(x["on_end"], 1))
          for x in rows],
         [("waker's CPU", "others", "own sleeping", 120, 0.8),
          ("other CPU", "idle", "idle", 20, 0.9)])
    same("--behind: 2 waits, 1 ended just after another thread blocked",
         lt.behind(rec.dict(), {"consumer1"}, 10), (2, 1))
    return exit_status()


if __name__ == "__main__":
    sys.exit(main())
