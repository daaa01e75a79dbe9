"""thread_start.py - what Thread.start() costs the starter in real CPython.

threading.Thread.start waits on the new thread's `_started` Event, which the
new thread sets once it holds the GIL (docs/model.md, "Thread.start"). This
times start() around the call in the situations the model's tests state:
an empty thread on an idle interpreter, an empty thread beside a thread
that keeps the GIL, a thread that itself keeps the GIL, starts in a row.

  python3 tests/reality/thread_start.py [SWITCH_INTERVAL_SECONDS]

Prints medians, quartiles and extremes; the figures in docs/model.md came
from three runs at 5 ms and one each at 1 ms and 20 ms, with the machine's
load average printed beside them (a loaded machine moves every figure).
"""
import os
import statistics
import sys
import threading
import time
import _thread


def spin(stop):
    while not stop.is_set():
        pass


def nothing():
    pass


def one_start(beside_cpu, target):
    """ms one start() takes; target is nothing or spin."""
    stop = threading.Event()
    cpu = None
    if beside_cpu:
        cpu = threading.Thread(target=spin, args=(stop,))
        cpu.start()
        time.sleep(0.002)  # it holds the GIL now; we take it back to start
    t = threading.Thread(target=target, args=(stop,) if target is spin else ())
    t0 = time.perf_counter()
    t.start()
    t1 = time.perf_counter()
    stop.set()
    t.join()
    if cpu:
        cpu.join()
    return (t1 - t0) * 1e3


def starts_in_a_row(k, target):
    stop = threading.Event()
    ts = [threading.Thread(target=target, args=(stop,) if target is spin else ())
          for _ in range(k)]
    t0 = time.perf_counter()
    for t in ts:
        t.start()
    t1 = time.perf_counter()
    stop.set()
    for t in ts:
        t.join()
    return (t1 - t0) * 1e3


def create_only():
    """ms that _thread.start_new_thread itself takes (the OS thread's creation,
    the GIL held), with the thread given time to end before the next."""
    t0 = time.perf_counter()
    _thread.start_new_thread(nothing, ())
    t1 = time.perf_counter()
    time.sleep(0.002)
    return (t1 - t0) * 1e3


def show(what, v):
    v = sorted(v)
    n = len(v)
    print("%-48s median %8.3f ms (q1 %.3f, q3 %.3f, min %.3f, max %.3f, n=%d)"
          % (what, statistics.median(v), v[n // 4], v[3 * n // 4], v[0], v[-1], n))


def main():
    si = float(sys.argv[1]) if len(sys.argv) > 1 else 0.005
    sys.setswitchinterval(si)
    print("python %s, switch interval %g s, load average %.2f"
          % (sys.version.split()[0], si, os.getloadavg()[0]))
    show("_thread.start_new_thread alone", [create_only() for _ in range(300)])
    show("start() of an empty thread", [one_start(False, nothing) for _ in range(30)])
    show("start() of an empty thread beside a CPU thread",
         [one_start(True, nothing) for _ in range(30)])
    show("start() of a thread that keeps the GIL", [one_start(False, spin) for _ in range(30)])
    show("10 starts of empty threads in a row", [starts_in_a_row(10, nothing) for _ in range(9)])
    show("4 starts of GIL-keeping threads in a row", [starts_in_a_row(4, spin) for _ in range(9)])


if __name__ == "__main__":
    main()
