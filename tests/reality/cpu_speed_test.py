#!/usr/bin/env python3
"""cpu_speed.py's self-test (`cpu_speed.py --self-test` runs it): a pool's
workers' holds on two CPUs, made by hand (fixture.py); only the holds ended
by a C call on the CPU they began on, 0.5 ms or more, of the matching
threads, per CPU; the line; a recording without CPUs; a file that is not
one."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
from fixture import Recording, check, exit_status, workdir  # noqa: E402
import cpu_speed as cs  # noqa: E402

ms = 1000000


def recording():
    rec = Recording(duration_ns=20 * ms)
    rec.thread("worker_0", os_cpu_ns=8 * ms) \
        .hold(0, 0).release(1 * ms, "call", 0) \
        .hold(2 * ms, 0).release(3.2 * ms, "call", 0) \
        .hold(4 * ms, 1).release(5.5 * ms, "call", 1) \
        .hold(6 * ms, 0).release(8 * ms, "call", 1) \
        .hold(9 * ms, 1).release(11 * ms, "forced", 1) \
        .hold(12 * ms, 1).release(12.1 * ms, "call", 1)
    # 1.0 ms and 1.2 ms on CPU 0, 1.5 ms on CPU 1; then migrated, forced and
    # short holds, all left out
    rec.thread("worker_1", os_cpu_ns=2 * ms).hold(0, 1).release(1.7 * ms, "call", 1)
    rec.thread("MainThread", os_cpu_ns=9 * ms).hold(0, 0).release(9 * ms, "call", 0)  # no worker
    return rec.dict()


def main():
    rec = recording()
    by = cs.holds_by_cpu(rec, "worker")
    check(sorted(by) == [0, 1] and sorted(by[0]) == [1 * ms, 1.2 * ms] and
          sorted(by[1]) == [1.5 * ms, 1.7 * ms],
          "holds: only those ended by a C call on the CPU they began on, 0.5 ms or more, "
          "of the matching threads (%s)" % by)
    line = cs.report("r.rec.json", rec, "worker")
    check(line == "r.rec.json: CPU 0 2 holds median 1.100 ms, CPU 1 2 holds median "
          "1.600 ms; slowest/fastest 1.45; kernel CPU 19.0 ms in 20.0 ms", "the line (%s)" % line)
    check(cs.holds_by_cpu(rec, ".")[0] == [1 * ms, 1.2 * ms, 9 * ms], "every thread by default")
    old = Recording()
    old.thread("worker_0").hold(0).release(ms, "call")
    check("no CPUs" in cs.report("old.rec.json", old.dict()),
          "a recording without CPUs is said so")
    with workdir() as d:
        check(cs.main_run([d.put("x.json", "[1, 2]")]) == 2, "not a recording: exit 2")
    return exit_status()


if __name__ == "__main__":
    sys.exit(main())
