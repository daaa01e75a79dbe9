#!/usr/bin/env python3
"""Properties of reality.py's machine calibration (issue 15).

  calib_test.py --self-test   the calibration run on scripted measurements
                              (programs.py's functions and noise.Meter
                              replaced): a disturbed block does not move a
                              constant, idle trips are filtered, the wake-up
                              curve and the timer curve are built as
                              documented; no timing, no real threads (label
                              unit)
  calib_test.py --live        one short calibration on this machine, and the
                              properties every calibration must have whatever
                              the load: finite, ordered, consistent with each
                              other (label reality; no figure is compared
                              with a number of this machine)

Exit 0 pass, 1 fail.
"""
import math
import os
import random
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True

import noise  # noqa: E402
import programs as P  # noqa: E402
import reality as R  # noqa: E402

US, MS = 1e-6, 1e-3
FAILS = []


def check(cond, what):
    if not cond:
        FAILS.append(what)
        print("FAIL: " + what)


# --- pure functions -------------------------------------------------------------

def test_least_disturbed():
    rnd = random.Random(15)
    for _ in range(500):
        k = rnd.randint(1, 9)
        vals = [rnd.uniform(1, 100) for _ in range(k)]
        shares = [rnd.choice([None, 0.0, rnd.random()]) for _ in range(k)]
        got = R.least_disturbed(vals, shares)
        s = [x or 0.0 for x in shares]
        bar = sorted(s)[(k + 1) // 2 - 1]
        kept = [v for v, x in zip(vals, s) if x <= bar]
        check(min(kept) <= got <= max(kept),
              "least_disturbed %r %r = %r lies outside its kept blocks" % (vals, shares, got))
        check(len(kept) * 2 >= k, "least_disturbed kept fewer than half the blocks")
        # equal shares: the plain median
        check(R.least_disturbed(vals, [0.3] * k) == statistics.median(vals),
              "least_disturbed with equal shares is not the plain median")
        # one block made as bad as can be (far out, others used the whole
        # machine) cannot move the value beyond the other blocks' range
        if k >= 3:
            i = rnd.randrange(k)
            bad = vals[:i] + [1e6] + vals[i + 1:]
            bs = s[:i] + [1.0] + s[i + 1:]
            rest = vals[:i] + vals[i + 1:]
            got = R.least_disturbed(bad, bs)
            check(min(rest) <= got <= max(rest),
                  "one disturbed block moved least_disturbed to %r" % got)
    check(math.isnan(R.least_disturbed([], [])), "least_disturbed of nothing is not nan")


def test_idled():
    # 100 us of idling in a 150 us span, entered twice: idled
    check(P.idled((10, 1000), (12, 1100), 150 * US), "a CPU idle 100 of 150 us did not idle")
    # no idle entry: another program kept the CPU
    check(not P.idled((10, 1000), (10, 1000), 150 * US), "a CPU never idle idled")
    # entered idle but for under half the span
    check(not P.idled((10, 1000), (11, 1020), 150 * US), "a CPU idle 20 of 150 us idled")
    r = {"kept": [1.0] * 3, "all": [1.0] * 3 + [9.0] * 7}
    check(R.idle_or_all(r, 9) == r["kept"], "a third of the sleeps idled: not kept")
    check(R.idle_or_all(r, 10) == r["all"], "under a third idled: not all used")


def test_nearest_on_grid():
    # requester_first's fit: the model's share rises, then falls (as it did
    # on 2026-12-07); the fit must keep the grid point nearest the measured
    # share whatever the shape, and the first of equals
    rnd = random.Random(7)
    xs = [i / 20 for i in range(21)]
    for _ in range(300):
        top = rnd.uniform(0.3, 0.8)
        ys = [0.55 - abs(x - top) * rnd.uniform(0.3, 0.6) + rnd.uniform(-0.01, 0.01)
              for x in xs]
        target = rnd.uniform(0.1, 0.7)
        x, y = R.nearest_on_grid(xs, ys, target)
        best = min(abs(v - target) for v in ys)
        check(abs(y - target) == best and y == ys[xs.index(x)],
              "nearest_on_grid kept %r (%r) for %r, the nearest is %r off" % (x, y, target, best))
    check(R.nearest_on_grid([0, 0.5, 1], [0.2, 0.4, 0.2], 0.2) == (0, 0.2),
          "nearest_on_grid does not keep the first of equals")
    # a share beyond the model's reach: its highest point
    check(R.nearest_on_grid([0, 0.5, 1], [0.25, 0.52, 0.41], 0.55) == (0.5, 0.52),
          "a share beyond the model's reach does not get its nearest point")


# --- the calibration on scripted measurements -------------------------------------

class Script:
    """Stands in for programs.py's measurements: quiet values, except that
    every third ping-pong block is disturbed (x50, and the block's meter
    says others used 90% of the machine)."""

    HOT_RT = 60 * US       # a 2-CPU ping-pong round trip
    SELF = 0.4 * US        # a pipe write+read
    OVER = {0.0: 70 * US, 50 * US: 70 * US, 200 * US: 72 * US, 1 * MS: 80 * US,
            5 * MS: 95 * US}
    WAKE = {0.0: (30 * US, 0.07 * MS, 30), 0.05 * MS: (40 * US, 0.12 * MS, 30), 0.5 * MS: (35 * US, 0.57 * MS, 30),
            2 * MS: (45 * US, 2.07 * MS, 4),  # too few idled: left out
            10 * MS: (50 * US, 10.07 * MS, 30)}

    def __init__(self):
        self.pp = 0
        self.share = 0.0

    def pipe_self_cost(self, *a):
        return self.SELF

    def cpu_pair(self):
        return (0, 1)

    def pipe_pingpong(self, n, cpu=None, cpus=None):
        self.pp += 1
        disturbed = self.pp % 3 == 0
        self.share = 0.9 if disturbed else 0.0
        base = self.HOT_RT if cpus else 3 * US
        return base * (50 if disturbed else 1)

    def idle_oversleeps(self, d, n, cpu=None):
        o = self.OVER[min(self.OVER, key=lambda k: abs(k - d))]
        # the sleeps whose CPU idled: all but a few much later ones
        kept = [o - 4 * US, o - 2 * US, o, o + 2 * US, o + 4 * US] * (n // 5)
        return {"kept": sorted(kept), "all": sorted(kept + [5 * MS] * (n // 5)),
                "filtered": True}

    def futex_wake_cost(self, n, cpus):
        return (0.3 * US if cpus[0] == cpus[1] else 10.3 * US, None)

    def bare_syscall_cost(self):
        return 0.1 * US

    def pipe_wakeups(self, n, pair):
        return [self.HOT_RT + (i % 4) * US for i in range(n)]

    def thread_create_cost(self, n):
        return 8 * US

    def eevdf_base_slice(self):
        return 1.4 * MS, "a script"

    def spinner_runs(self, cpu):
        return 4 * MS

    def lock_placement(self, n):
        return (0.0,)

    def kernel_version(self):
        return (6, 18)

    def kernel_hz(self):
        return 250

    def timer_slack_s(self):
        return 50 * US

    def idle_wakeups(self, idle, n, cpus):
        lat, depth, kept = self.WAKE[idle]
        kept = min(kept, n)
        return {"lat": lat, "depth": depth, "kept": kept, "tried": 3 * n, "filtered": True}

    def timer_arm_cost_s(self, pair, runs, reps):
        return 6.3 * US, [6.3 * US] * runs

    def cal_spin_ns(self):
        return 15.0

    def cal_switch_counter_ns(self):
        return 20.0

    def holder_sequence(self, k, iv, n):
        return [0, 1, 0, 2, 1, 2, 0, 1]


def test_scripted_calibration():
    script = Script()
    names = [n for n in dir(Script) if not n.startswith("_") and callable(getattr(Script, n))]
    saved = {n: getattr(P, n) for n in names}
    saved_meter = noise.Meter

    class Meter:
        def __enter__(self):
            script.share = 0.0
            return self

        def __exit__(self, *exc):
            self.others = script.share
            return False
    try:
        for n in names:
            setattr(P, n, getattr(script, n))
        noise.Meter = Meter
        for full in (False, True):
            script.pp = 0
            m = R.Machine.calibrate(R.Plan(full))
            check_scripted(m, full)
    finally:
        for n, fn in saved.items():
            setattr(P, n, fn)
        noise.Meter = saved_meter


def check_scripted(m, full):
    tag = "full" if full else "short"
    hot = Script.HOT_RT / 2 - Script.SELF
    check(abs(m.wake_hot_s - hot) < 1e-12,
          "%s: the disturbed ping-pong blocks moved wake_hot to %r (quiet %r)"
          % (tag, m.wake_hot_s, hot))
    check(abs(m.context_switch_s - (1.5 * US - Script.SELF)) < 1e-12,
          "%s: the disturbed blocks moved context_switch to %r" % (tag, m.context_switch_s))
    # the sleeps that idled are the ones used: the 5 ms outliers are not
    check(abs(m.wake_cold_s - Script.OVER[1 * MS]) < 1e-12,
          "%s: wake_cold %r is not the idled sleeps' median" % (tag, m.wake_cold_s))
    # the wake-up curve: at the depths the CPU waited, ascending, the 2 ms
    # point (too few idle trips) left out and said so
    xs = [x for x, _ in m.wake_curve]
    check(all(a < b for a, b in zip(xs, xs[1:])), "%s: wake curve depths %r" % (tag, xs))
    check(xs[1:] == [0.07 * MS, 0.12 * MS, 0.57 * MS, 10.07 * MS],
          "%s: wake curve depths %r are not the measured ones without 2 ms" % (tag, xs))
    check("left out" in m.notes.get("pipe wake-up after a 2 ms sleep", ""),
          "%s: the 2 ms point's note does not say it was left out" % tag)
    check(m.wake_curve[0] == (min(hot, 0.025 * MS), hot), "%s: the hot point" % tag)

    def wake_at(d):
        c = m.wake_curve
        for (x0, y0), (x1, y1) in zip(c, c[1:]):
            if d <= x1:
                return y0 + (y1 - y0) * (d - x0) / (x1 - x0)
        return c[-1][1]
    below = []
    for d, late in m.timer_curve:
        want = Script.OVER[d] - m.slack_s - m.timer_jitter_s / 2 - wake_at(d + m.slack_s)
        check(late >= 0 and abs(late - max(0.0, want)) < 1e-12,
              "%s: timer_late at %g ms is %r, not max(0, %r)" % (tag, d / MS, late, want))
        if want < 0:
            below.append(d)
    note = m.notes.get("sleeps the model makes later than measured (timer_late would be "
                       "below 0)", "")
    check(bool(below) == bool(note) and all(("%g ms" % (d / MS)) in note for d in below),
          "%s: the note of sleeps the model makes late (%r) does not list %r" % (tag, note, below))
    check(m.eevdf_slice_s == 1.4 * MS and m.eevdf_slice_from == "a script",
          "%s: the slice read is not the one written" % tag)
    check(m.wake_ipi_s > 0 and abs(m.wake_ipi_s - 10 * US) < 1e-12, "%s: wake_ipi" % tag)
    check(m.tick_s == 1 / 250, "%s: tick" % tag)


# --- one calibration of this machine ----------------------------------------------

def live():
    m = R.Machine.calibrate(R.Plan(False))
    times = {k: getattr(m, k) for k in ("wake_hot_s", "wake_cold_s", "context_switch_s",
                                        "futex_s", "wake_ipi_s", "wake_jitter_s",
                                        "timer_jitter_s", "slack_s", "tick_s", "timer_arm_s")}
    for k, v in times.items():
        check(isinstance(v, float) and math.isfinite(v) and v >= 0, "%s = %r" % (k, v))
    # a switch between two threads on one CPU costs less than waking a
    # thread on another CPU, which adds the other CPU's wake-up
    check(m.context_switch_s < m.wake_hot_s,
          "context switch %r not below the hot wake-up %r" % (m.context_switch_s, m.wake_hot_s))
    check(0 < m.futex_s < m.futex_s + m.wake_ipi_s or m.wake_ipi_s == 0, "futex, wake_ipi")
    xs = [x for x, _ in m.wake_curve]
    check(all(a < b for a, b in zip(xs, xs[1:])), "wake curve depths not ascending: %r" % xs)
    for x, lat in m.wake_curve[1:]:
        # a point's depth is the sleep plus its overshoot, which is at least
        # a good part of the timer slack (the timer fires within its range)
        check(x >= m.slack_s / 2 and lat >= 0, "wake curve point %r (slack %r)"
              % ((x, lat), m.slack_s))
    lens = [d for d, _ in m.timer_curve]
    check(lens == [0.0, 50 * US, 200 * US, 1 * MS, 5 * MS], "timer lengths %r" % lens)
    check(all(late >= 0 for _, late in m.timer_curve), "timer_late below 0")
    if m.eevdf_slice_s is not None:
        # the kernel clamps a slice to 0.1 .. 100 ms (sched_attr's runtime)
        check(0.1 * MS <= m.eevdf_slice_s <= 100 * MS,
              "EEVDF slice %r read from %s" % (m.eevdf_slice_s, m.eevdf_slice_from))
    check(m.tick_s in (1 / 100, 1 / 250, 1 / 300, 1 / 1000), "tick %r" % m.tick_s)
    check(0 <= m.back_share <= 1, "back_share %r" % m.back_share)
    print("calib_test: live calibration: hot %.1f us, cold %.1f us, slice %s (%s)"
          % (m.wake_hot_s / US, m.wake_cold_s / US,
             "%.2f ms" % (m.eevdf_slice_s / MS) if m.eevdf_slice_s else "-",
             m.eevdf_slice_from))


def main(argv):
    if argv == ["--self-test"]:
        test_least_disturbed()
        test_idled()
        test_nearest_on_grid()
        test_scripted_calibration()
    elif argv == ["--live"]:
        if not sys.platform.startswith("linux"):
            print("calib_test: SKIP: Linux only")
            return 77
        live()
    else:
        print(__doc__)
        return 2
    print("calib_test: %s" % ("FAIL (%d)" % len(FAILS) if FAILS else "PASS"))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
