#!/usr/bin/env python3
"""lock_race_cpu.py's self-test (`lock_race_cpu.py --self-test` runs it): a
Lock passed back and forth, a recording made by hand (fixture.py); the
race by the CPU the waiter won on and the releaser's gap."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
from fixture import Recording, exit_status, same, workdir  # noqa: E402
import lock_race_cpu as lrc  # noqa: E402


def recording():
    """t0 and t1 take turns on semaphore 7 on CPU 0: two same-CPU hand-offs
    (the waiter's wait ends 5 us after the post, asks at 5.5 us, the
    releaser signals 3 us after the waiter's ask + the 2 us context switch
    and blocks), then t0's last post wakes t1 onto CPU 1 (20 us)."""
    rec = Recording(duration_ns=400000, calibration={"context_switch_ns": 2000})
    rec.thread("t0", cpu=0).start(0).ask(0).hold(1000).lock_post(10000, 7).signal(20500, 1) \
        .release(21000, "call").lock_wait(21500, 115000, 7).ask(115500).hold(121200) \
        .lock_post(200000, 7).release(260000, "exit")
    rec.thread("t1", cpu=0).start(0).release(500, "call").lock_wait(600, 15000, 7) \
        .ask(15500).hold(21200).lock_post(110000, 7).signal(120500, 0) \
        .release(121000, "call").lock_wait(121500, 220000, 7, cpu=1).ask(220500, cpu=1) \
        .hold(260100, cpu=1).release(300000, "exit", cpu=1)
    return rec


def main():
    with workdir() as d:
        r = lrc.race_cpu(d.put("r.rec.json", recording()))
    same("the race by CPU and the releaser's gaps", r,
         {"same": [5000, 5000], "other": [20000], "posts": 3, "gaps": [3000, 3000]})
    return exit_status()


if __name__ == "__main__":
    sys.exit(main())
