#!/usr/bin/env python3
"""Where a sleeper's timer wakes it, and what that wake-up costs, against a
pipe wake-up of a thread on the other CPU after the same idle.

Linux queues a sleep's hrtimer on the CPU that armed it (the sleeper's) and
wakes the sleeper from that CPU's interrupt: if the sleeper goes back to that
CPU, the wake-up is local (no inter-processor interrupt), and the CPU's idle
exit is part of the sleep's overshoot. The model's machine.timer_wake "local"
rests on that (docs/model.md, "Timers"); this probe measures it:

  - time.sleep(d), the thread pinned to one CPU: the overshoot of the sleeps
    during which that CPU idled (cpuidle's counters, programs.IdleCount);
  - the same unpinned: the overshoot, and the share of sleeps that end on the
    CPU they began on (sched_getcpu before and after);
  - a pipe wake-up of a reader pinned to the other CPU after the writer slept
    d (programs.idle_wakeups: the trips whose reader's CPU idled), the
    wake-up the calibration's wake-up curve is made of.

If a timer's wake-up were a cross-CPU one, a sleep's overshoot would hold
the slack plus that pipe wake-up; a local one holds the slack plus the timer
interrupt's delivery and idle exit only. Each figure is the median of
`rounds` rounds (each a median of n), with the rounds' range; the load
average and the other processes' share of the machine are printed, since a
busy machine shortens the idle and takes CPUs from the sleeper.

  timerwake.py [--rounds 3] [--n 40]
"""
import argparse
import ctypes
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True

import noise  # noqa: E402
import programs as P  # noqa: E402

US = 1e-6
LIBC = ctypes.CDLL(None, use_errno=True)


def getcpu():
    return LIBC.sched_getcpu()


def pinned_overshoots(d, n, cpu):
    """Overshoots of time.sleep(d) pinned to cpu whose CPU idled through."""
    r = P.idle_oversleeps(d, n, cpu)
    v = r["kept"] if len(r["kept"]) * 3 >= n else r["all"]
    return statistics.median(v) if v else None


def unpinned(d, n):
    """(median overshoot, share of sleeps ending on the CPU they began on),
    unpinned."""
    over, same = [], 0
    for _ in range(n):
        c0 = getcpu()
        t = P.perf()
        time.sleep(d)
        e = P.perf()
        c1 = getcpu()
        over.append(e - t - d)
        same += c0 == c1
    return statistics.median(over), same / n


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--n", type=int, default=40)
    a = ap.parse_args(argv)
    pair = P.cpu_pair()
    if not pair:
        print("timerwake: needs two CPUs this process may run on")
        return 77
    slack = P.timer_slack_s() or 50 * US
    load0 = "%.2f" % noise.loadavg()[0]
    rows = {}
    meter = noise.Meter()
    with meter:
        run_rounds(a, pair, rows)
    others = meter.others
    print("timer slack %.1f us; load average %s -> %.2f%s" % (
        slack / US, load0, noise.loadavg()[0],
        "; other processes used %.0f%% of the machine" % (100 * others) if others is not None
        else ""))
    table(a, slack, rows)
    return 0


def run_rounds(a, pair, rows):
    for _ in range(a.rounds):
        for d in (0.0, 50 * US, 1e-3):
            r = rows.setdefault(d, {"pin": [], "free": [], "same": [], "pipe": [], "depth": []})
            r["pin"].append(pinned_overshoots(d, a.n, pair[0]))
            o, s = unpinned(d, a.n)
            r["free"].append(o)
            r["same"].append(s)
            w = P.idle_wakeups(d, a.n, pair)
            if w["lat"] is not None:
                r["pipe"].append(w["lat"])
                r["depth"].append(w["depth"])


def table(a, slack, rows):
    print("%-8s %-22s %-22s %-14s %-22s %s" % ("sleep", "overshoot pinned", "overshoot unpinned",
                                              "same CPU", "pipe wake, other CPU",
                                              "overshoot - slack (pinned)"))

    def med(v, scale=US):
        v = [x for x in v if x is not None]
        if not v:
            return "n/a"
        return "%.1f (%.1f-%.1f)" % (statistics.median(v) / scale, min(v) / scale,
                                     max(v) / scale)
    for d, r in rows.items():
        print("%-8s %-22s %-22s %-14s %-22s %s" % (
            "%g us" % (d / US), med(r["pin"]), med(r["free"]),
            "%.2f" % statistics.median(r["same"]),
            med(r["pipe"]) + (" @%.0f us" % (statistics.median(r["depth"]) / US)
                              if r["depth"] else ""),
            med([x - slack for x in r["pin"] if x is not None])))
    print("(us; each a median of %d rounds, in brackets the rounds' range; the pipe "
          "wake-up's depth is how long the reader's CPU had idled)" % a.rounds)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
