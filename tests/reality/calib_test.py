#!/usr/bin/env python3
"""Properties of reality.py's machine calibration (issue 15).

  calib_test.py --self-test   the calibration run on scripted measurements
                              (programs.py's functions and noise.Meter
                              replaced): a disturbed block does not move a
                              constant, idle trips are filtered, the wake-up
                              curve and the timer curve are built as
                              documented; no timing, no real threads (label
                              unit)
  calib_test.py --kernel-policy
                              the kernel's scheduler as the calibration
                              detects it (release strings of 6.18, 6.1, 5.15,
                              garbage), no timing (label reality)
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
import types
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True

import noise  # noqa: E402
import programs as P  # noqa: E402
import reality as R  # noqa: E402
import scenarios as S  # noqa: E402

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


def test_fit_on_grid():
    # requester_first's fit (reality.py, fit_requester_first): the model's
    # share need not be monotone in requester_first (on 2026-12-07 it had
    # two modes at 0, was flat from 0.05 to 0.3 and then fell); the fit must
    # keep a point the model cannot tell from the nearest, and of those the
    # one nearest 0.5
    rnd = random.Random(7)
    xs = [i / 20 for i in range(21)]
    for _ in range(300):
        top = rnd.uniform(0.3, 0.8)
        ys = [0.55 - abs(x - top) * rnd.uniform(0.3, 0.6) + rnd.uniform(-0.01, 0.01)
              for x in xs]
        ses = [rnd.uniform(0.0, 0.02) for _ in xs]
        target = rnd.uniform(0.1, 0.7)
        x, y, tied = R.fit_on_grid(xs, ys, ses, target)
        d = [abs(v - target) for v in ys]
        b = d.index(min(d))
        check(b in [xs.index(t) for t in tied] and x in tied and y == ys[xs.index(x)],
              "fit_on_grid: %r (tied %r) leaves out the nearest %r" % (x, tied, xs[b]))
        for k in range(len(xs)):
            close = d[k] - d[b] <= 2 * (ses[k] ** 2 + ses[b] ** 2) ** 0.5
            check((xs[k] in tied) == close,
                  "fit_on_grid: %r tied %s, its distance %.3f against %.3f (errors %.3f, %.3f)"
                  % (xs[k], xs[k] in tied, d[k], d[b], ses[k], ses[b]))
            if xs[k] in tied:
                check(abs(x - 0.5) <= abs(xs[k] - 0.5),
                      "fit_on_grid kept %r over %r, nearer 0.5" % (x, xs[k]))
        # without errors it is the nearest point
        x0, y0, _ = R.fit_on_grid(xs, ys, [0.0] * len(xs), target)
        check(abs(y0 - target) == min(d), "fit_on_grid without errors kept %r, not the nearest" % x0)
    # the 10:00 calibration's case: measured 0.59; one run per point gave
    # 0.73 / 0.58 / 0.51 at 0 / 0.25 / 0.5 and the bisection fitted 0.03; a
    # flat stretch within the noise ties, and the point nearest 0.5 wins
    xs5 = [0, 0.1, 0.2, 0.3, 0.4, 0.5]
    check(R.fit_on_grid(xs5, [0.65, 0.56, 0.57, 0.56, 0.54, 0.51],
                        [0.03, 0.005, 0.005, 0.005, 0.005, 0.005], 0.59)[0] == 0.3,
          "a flat stretch within the noise does not fit its point nearest 0.5")
    # a share well beyond the flat stretch: the two-moded end, alone
    check(R.fit_on_grid(xs5, [0.62, 0.56, 0.57, 0.56, 0.54, 0.51],
                        [0.008, 0.005, 0.005, 0.005, 0.005, 0.005], 0.64)[0] == 0,
          "a share only the end reaches does not fit the end")
    # of two as near, as far from 0.5, the lower
    check(R.fit_on_grid([0.25, 0.5, 0.75], [0.4, 0.1, 0.4], [0, 0, 0], 0.4)[0] == 0.25,
          "two points as near and as far from 0.5: not the lower")
    # a share beyond the model's reach: its highest point
    check(R.fit_on_grid([0, 0.5, 1], [0.25, 0.52, 0.41], [0.01] * 3, 0.55)[:2] == (0.5, 0.52),
          "a share beyond the model's reach does not get its nearest point")
    # a point without a share (nan) is left out; none at all is an error
    check(R.fit_on_grid([0, 0.5], [float("nan"), 0.3], [0, 0], 0.1)[0] == 0.5,
          "a point without a share was kept")
    try:
        R.fit_on_grid([0, 1], [float("nan")] * 2, [0, 0], 0.5)
        check(False, "fit_on_grid without any share did not raise")
    except ValueError:
        pass


def test_measured_requester_first():
    # requester_first from the traced race: the share of drops on two CPUs at
    # which the requester was asleep, pooled over the least disturbed half
    # of the runs; too few such drops (a loaded machine puts the threads on
    # one CPU) leave it to the model fit
    q = {"apart": 50, "asleep": 10, "mutex": 20, "drops": 500, "aba": 0.6, "others": 0.1}
    busy = {"apart": 40, "asleep": 40, "mutex": 40, "drops": 100, "aba": 0.3, "others": 0.8}
    check(R.measured_requester_first([q, busy, dict(q, asleep=20)]) == 0.3,
          "the busy run was pooled in: %r" % R.measured_requester_first([q, busy, q]))
    check(R.measured_requester_first([dict(q, apart=30, asleep=6)]) is None,
          "30 drops on two CPUs measured requester_first")
    check(R.measured_requester_first([]) is None and R.measured_requester_first([None]) is None,
          "no traced run measured requester_first")
    check(R.measured_requester_first([dict(q, others=None)]) == 0.2,
          "a run without its others' share was not kept")
    # the curve: the 1 ms and 5 ms shares at their kept runs' median depths
    q1, q5 = dict(q, depth=0.9e-3), dict(q, asleep=25, depth=4.8e-3)
    got = R.measured_curve([q1, busy, dict(q1, depth=1.1e-3)], [q5, dict(q5, depth=5e-3)])
    check(got is not None and [round(d * 1e6) for d, _ in got] == [1100, 5000]
          and [round(p, 2) for _, p in got] == [0.2, 0.5],
          "measured_curve %r" % (got,))
    # requester_first_own: the drops after a thread of the program, pooled
    # over both intervals' least disturbed runs; too few, or runs traced
    # before the split was read (an old record), write nothing
    o1, o5 = dict(q, own_apart=12, own_asleep=11), dict(q, own_apart=10, own_asleep=10)
    got = R.measured_requester_first_own([o1, dict(busy, own_apart=30, own_asleep=0), o5])
    check(got is not None and round(got, 3) == round(21 / 22, 3),
          "requester_first_own %r, want 21/22 (the busy run left out)" % got)
    check(R.measured_requester_first_own([o1]) is None, "12 such drops measured it")
    check(R.measured_requester_first_own([q, dict(q)]) is None,
          "runs without the split measured requester_first_own")
    check(R.measured_curve([q1], []) is None, "a curve without the 5 ms runs")
    check(R.measured_curve([q1], [dict(q5, depth=0.5e-3)]) is None,
          "a curve whose depths do not grow (a busy machine)")


def test_share_mean_se():
    # the error of a grid point's share: the seeds' spread, but never below
    # the binomial error of the switches counted (one run, or seeds that
    # agree by chance, still carry their counting noise)
    m, se = R.share_mean_se([(0.5, 1000)])
    check(m == 0.5 and abs(se - (0.25 / 1000) ** 0.5) < 1e-12,
          "one run's error is not its binomial one: %r" % se)
    m, se = R.share_mean_se([(0.56, 1000)] * 4 + [(0.76, 1000)] * 4)
    check(abs(m - 0.66) < 1e-9 and se > 0.03, "two modes' spread is not the error: %r" % se)
    m, se = R.share_mean_se([(0.56, 1000), (0.56, 1000)])
    check(abs(se - (0.56 * 0.44 / 2000) ** 0.5) < 1e-12,
          "seeds that agree have less than the pooled binomial error: %r" % se)
    m, se = R.share_mean_se([(float("nan"), 0), (0.4, 500)])
    check(m == 0.4, "a run without switches counted")
    m, se = R.share_mean_se([])
    check(m != m and se == float("inf"), "no runs: not (nan, inf)")


def migration_trial(u, cold, delay=40 * US, idle_ok=True):
    """A migcost.c trial as migration_pulls returns it: pulled at the tick
    (delay after it) when cold, else run on its own CPU a tick later."""
    t = {"u": u, "resumed": u + delay if cold else u + 4 * MS,
         "where": "idle" if cold else "own", "idle_ok": idle_ok}
    t["outcome"] = P.classify_migration(t)
    return t


def test_migration_step():
    """migration_step finds the step task_hot makes in the pulls at the tick:
    between the trials it parts when the step is clean, whatever the
    threshold and the pull's delay; the trials whose idle CPU was busy,
    those the spinner's slice ended on and those a later balance pulled do
    not move it; no clean step, no cost."""
    rnd = random.Random(15)
    for _ in range(300):
        c = rnd.uniform(0.3, 1.0) * MS
        delay = rnd.uniform(10, 190) * US
        us = [150 * US * math.exp(rnd.random() * math.log(1.25 / 0.15)) for _ in range(60)]
        trials = [migration_trial(u, u + delay >= c, delay) for u in us]
        st = P.migration_step(trials)
        xs = sorted(u + delay for u in us)
        lo = max([x for x in xs if x < c], default=None)
        hi = min([x for x in xs if x >= c], default=None)
        if lo is None or hi is None or min(sum(x < c for x in xs), sum(x >= c for x in xs)) < 4:
            check(st["cost"] is None, "migration_step gave %r with %d/%d trials on a side"
                  % (st["cost"], sum(x < c for x in xs), sum(x >= c for x in xs)))
            continue
        check(st["cost"] is not None and lo <= st["cost"] <= hi,
              "migration_step: threshold %.3f ms, step found at %r (between %.3f and %.3f)"
              % (c / MS, st["cost"], lo / MS, hi / MS))
        check(abs(st["delay"] - delay) < 1e-12, "migration_step: the pull's delay %r, not %r"
              % (st["delay"], delay))
        # trials whose idle CPU was busy (left, whatever their u) and trials
        # the spinner's slice ended on (run on their own CPU at the tick)
        # leave the step where it was
        noise_trials = [migration_trial(rnd.choice(us), False, delay, idle_ok=False)
                        for _ in range(30)]
        own = {"u": 1.2 * MS, "resumed": 1.23 * MS, "where": "own", "idle_ok": True}
        own["outcome"] = P.classify_migration(own)
        # a pull by a later balance, whatever the thread's age at the tick
        late = {"u": 0.2 * MS, "resumed": 0.6 * MS, "where": "idle", "idle_ok": True}
        late["outcome"] = P.classify_migration(late)
        st2 = P.migration_step(trials + noise_trials + [own] * 10 + [late] * 5)
        check(st2["cost"] == st["cost"], "busy or own-CPU trials moved the step %r -> %r"
              % (st["cost"], st2["cost"]))
        check(st2["counts"].get("busy") == 30 and st2["counts"].get("own") == 10
              and st2["counts"].get("late") == 5,
              "migration_step's counts %r" % st2["counts"])
    us = [(0.2 + 0.02 * i) * MS for i in range(50)]
    # never pulled, always pulled (the threshold below the range), pulled
    # as often below as above: no step
    for what, cold in (("never pulled", lambda u: False), ("always pulled", lambda u: True),
                       ("pulled every other trial", lambda u: round(u / (0.02 * MS)) % 2 == 0)):
        st = P.migration_step([migration_trial(u, cold(u)) for u in us])
        check(st["cost"] is None and st["why"], "%s: migration_step gave %r" % (what, st["cost"]))
    # every trial's idle CPU busy: nothing measured, and the reason says so
    st = P.migration_step([migration_trial(u, u >= 0.6 * MS, idle_ok=False) for u in us])
    check(st["cost"] is None and "idled" in (st["why"] or ""),
          "all busy: migration_step gave %r, %r" % (st["cost"], st["why"]))
    # a step with a fifth of the trials pulled below it: not clean
    st = P.migration_step([migration_trial(u, u >= 0.6 * MS or round(u / (0.02 * MS)) % 3 == 0)
                           for u in us])
    check(st["cost"] is None and "no clean step" in (st["why"] or ""),
          "a step with a third pulled below: %r %r" % (st["cost"], st["why"]))
    # how a trial is read
    for t, want in (({"u": 5e-4, "resumed": 5.4e-4, "where": "idle"}, "pulled"),
                    ({"u": 5e-4, "resumed": 4.5e-4, "where": "idle"}, "early"),
                    ({"u": 5e-4, "resumed": 5.4e-4, "where": "own"}, "own"),
                    ({"u": 5e-4, "resumed": 4.5e-3, "where": "idle"}, "stayed"),
                    ({"u": 5e-4, "resumed": 4.5e-3, "where": "own"}, "stayed"),
                    ({"u": 5e-4, "resumed": 8.5e-4, "where": "idle"}, "late")):
        check(P.classify_migration(t) == want, "classify_migration %r: %s, not %s"
              % (t, P.classify_migration(t), want))


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

    # the traced race (race_drops): every other run on a busy machine, its
    # drops mostly on one CPU and its requester always asleep
    RACE = [{"apart": 30, "asleep": 9, "mutex": 12, "drops": 500, "aba": 0.6, "others": 0.05,
             "depth": 1e-3},
            {"apart": 2, "asleep": 2, "mutex": 2, "drops": 90, "aba": 0.3, "others": 0.7,
             "depth": 0.0}]

    def race_drops(self, k, interval_s, seconds):
        self.races = getattr(self, "races", 0) + 1
        r = dict(self.RACE[(self.races - 1) % 2])
        if interval_s > 2e-3:  # at 5 ms: deeper idle, more asleep
            r.update(asleep=r["asleep"] * 2, depth=r["depth"] * 5)
        return r

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

    # the Lock ping-pong's placement: the first run under a burst of load,
    # every woken thread on its waker's CPU; the quiet runs 0.05
    def lock_placement(self, n):
        self.lp = getattr(self, "lp", 0) + 1
        disturbed = self.lp == 1
        self.share = 0.9 if disturbed else 0.0
        return (0.99 if disturbed else 0.05,)

    # the same read by where each woken thread last ran (stayed on the
    # waker's CPU / hand-offs whose woken thread had last run there, the
    # share of all): under load the pair shares a CPU throughout; quiet, it
    # shared one in 100 hand-offs, 30 of which stayed. no_stay: a record made
    # before this reading (answers None, lock_placement is read instead)
    def lock_placement_stay(self, n):
        if getattr(self, "no_stay", False):
            return None
        self.lp = getattr(self, "lp", 0) + 1
        disturbed = self.lp == 1
        self.share = 0.9 if disturbed else 0.0
        return (1490, 1490, 0.99) if disturbed else (30, 100, 0.05)

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

    # migcost.c's pulls at the tick: a step at MIGRATION (the pull 40 us after
    # the tick), except the first block, under a burst of load, whose balance
    # pulls every thread (hot ones too: a kernel whose balancing failed
    # repeatedly), and its idle CPU seen idle all the same
    MIGRATION = 0.6 * MS

    def migration_probe(self):
        return True

    def migration_pulls(self, pair, tick_s, trials, u_s=(150 * US, 1.25 * MS), budget_s=1.0,
                        seed=1):
        self.mp = getattr(self, "mp", 0) + 1
        disturbed = self.mp == 1
        self.share = 0.9 if disturbed else 0.0
        us = [(0.15 + 1.1 * ((i * 0.618 + seed * 0.1) % 1)) * MS for i in range(trials)]
        return {"trials": [migration_trial(u, disturbed or u + 40 * US >= self.MIGRATION)
                           for u in us], "no_switch": 0, "lost": 0, "tick_phase": 0.0}


    # migcost.c's newidle mode: a CPU going idle pulled a cold thread at once
    # in 1 of 8 quiet trials (NI_RANDOM's die), never a hot one; the first
    # block, under a burst of load, pulled every thread, hot ones too
    def newidle_probe(self):
        return True

    def migration_newidle(self, pair, trials, d_s=(150 * US, 1.25 * MS), budget_s=1.0, seed=1):
        self.mn = getattr(self, "mn", 0) + 1
        disturbed = self.mn == 1
        self.share = 0.9 if disturbed else 0.0
        return {"trials": [newidle_trial((0.15 + 1.1 * ((i * 0.618) % 1)) * MS,
                                         disturbed or i % 8 == 0) for i in range(trials)],
                "ran_before": 0, "late": 0}


def newidle_trial(d, pulled, entries=1):
    """A migcost.c newidle trial as migration_newidle returns it: pulled onto
    the idle CPU 30 us after it went idle if `pulled` and the thread was
    cold (d >= Script.MIGRATION), else run on its own CPU 2 ms later."""
    cold = d >= Script.MIGRATION
    return {"d": d, "where": "idle" if pulled and cold else "own",
            "delay": 30 * US if pulled and cold else 2 * MS, "entries": entries}


def test_newidle_share():
    """newidle_share: of the cold trials whose CPU went idle, the share
    pulled at once gives the kernel's ratio, 1024 x share - 2 within 0 to
    1024; hot trials, trials whose CPU did not idle and pulls after 0.1 ms
    are not counted as pulls of the cold; too few cold trials give None."""
    cost = 0.5 * MS
    cold = [newidle_trial(0.9 * MS, i % 4 == 0) for i in range(40)]  # 10 of 40
    hot = [newidle_trial(0.2 * MS, True) for _ in range(30)]
    busy = [newidle_trial(1.0 * MS, True, entries=0) for _ in range(30)]
    late = [dict(newidle_trial(1.0 * MS, True), delay=0.3 * MS) for _ in range(10)]
    sh = P.newidle_share(cold + hot + busy + late, cost)
    check(sh["cold"] == 50 and sh["pulled"] == 10 and sh["ratio"] == round(1024 * 10 / 50) - 2,
          "newidle_share %r: want 10 of 50 cold pulled, ratio %d" % (sh, round(1024 / 5) - 2))
    check(sh["hot"] == 30 and sh["hot_pulled"] == 0, "newidle_share's hot trials %r" % sh)
    none = P.newidle_share([newidle_trial(0.9 * MS, False) for _ in range(40)], cost)
    check(none["ratio"] == 0, "no cold trial pulled: ratio %r, not 0" % none["ratio"])
    every = P.newidle_share([newidle_trial(0.9 * MS, True) for _ in range(40)], cost)
    check(every["ratio"] == 1022, "every cold trial pulled: ratio %r, not 1022" % every["ratio"])
    few = P.newidle_share(cold[:9], cost)
    check(few["ratio"] is None and "fewer than 10" in few["why"],
          "9 cold trials: %r" % few)


def test_timer_late_curve():
    """timer_late is the overshoot less the slack and half the jitter, no
    wake-up subtracted; clamped at 0 and the clamped lengths reported with
    by how much the model's sleep is then later than measured."""
    curve, below = R.timer_late_curve([(0.0, 55 * US), (1 * MS, 90 * US)], 50 * US, 20 * US)
    check(curve[0] == (0.0, 0.0) and abs(curve[1][1] - 30 * US) < 1e-12,
          "timer_late_curve %r" % curve)
    check(len(below) == 1 and below[0][0] == 0.0 and abs(below[0][1] - 5 * US) < 1e-12,
          "timer_late_curve's clamped lengths %r" % below)


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
        for full, no_stay in ((False, False), (True, False), (False, True)):
            script.pp = script.races = script.lp = script.mp = script.mn = 0
            script.no_stay = no_stay
            m = R.Machine.calibrate(R.Plan(full))
            check_scripted(m, full, 0.05 if no_stay else 0.30)
        # the measured newidle ratio written into the scenarios when asked
        write = R.Machine.NEWIDLE_WRITE
        try:
            R.Machine.NEWIDLE_WRITE = not write
            script.pp = script.races = script.lp = script.mp = script.mn = 0
            script.no_stay = False
            check_scripted(R.Machine.calibrate(R.Plan(False)), False, 0.30)
        finally:
            R.Machine.NEWIDLE_WRITE = write
    finally:
        for n, fn in saved.items():
            setattr(P, n, fn)
        noise.Meter = saved_meter


def check_scripted(m, full, wake_affine):
    tag = "full" if full else "short"
    # the traced race: one run per block, measured_requester_first keeps the
    # quiet runs (full: 3 of 5, 90 drops on two CPUs, 27 asleep: 0.30; short:
    # 2 of 3, 60 drops, 18 asleep: 0.30)
    check(len(m.race_runs) == (5 if full else 3), "%s: %d traced race runs" % (tag, len(m.race_runs)))
    check(len(m.race_runs5) == (3 if full else 2), "%s: %d at 5 ms" % (tag, len(m.race_runs5)))
    rf = R.measured_requester_first(m.race_runs)
    check(rf is not None and abs(rf - 0.3) < 1e-12,
          "%s: requester_first measured %r from %r" % (tag, rf, m.race_runs))
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

    below = []
    for d, late in m.timer_curve:
        # the timer wakes its sleeper on its own CPU (timer_wake "local"):
        # nothing is subtracted for a wake-up
        want = Script.OVER[d] - m.slack_s - m.timer_jitter_s / 2
        check(late >= 0 and abs(late - max(0.0, want)) < 1e-12,
              "%s: timer_late at %g ms is %r, not max(0, %r)" % (tag, d / MS, late, want))
        if want < 0:
            below.append(d)
    check(getattr(m, "timer_wake", None) == "local", "%s: timer_wake %r, not local"
          % (tag, getattr(m, "timer_wake", None)))
    sc = S.base("t", "t", m, 5 * MS, [{"name": "a", "program": [{"sleep": "0us"}]}])
    check(sc["machine"].get("timer_wake") == "local" and "timer_late" in sc["machine"],
          "%s: a generated scenario's machine %r lacks timer_wake local or timer_late"
          % (tag, sc["machine"]))
    note = m.notes.get("sleeps the model makes later than measured (timer_late would be "
                       "below 0)", "")
    check(bool(below) == bool(note) and all(("%g ms" % (d / MS)) in note for d in below),
          "%s: the note of sleeps the model makes late (%r) does not list %r" % (tag, note, below))
    check(m.eevdf_slice_s == 1.4 * MS and m.eevdf_slice_from == "a script",
          "%s: the slice read is not the one written" % tag)
    check(m.wake_ipi_s > 0 and abs(m.wake_ipi_s - 10 * US) < 1e-12, "%s: wake_ipi" % tag)
    check(m.tick_s == 1 / 250, "%s: tick" % tag)
    # where a woken thread runs: the run under load left out; the share of the
    # hand-offs whose woken thread had last run on its waker's CPU that stayed
    # (0.30), or with a record made before, the share of all (0.05)
    check(m.wake_affine == wake_affine, "%s: wake_affine %r, want %r (the disturbed run's "
          "0.99 left out)" % (tag, m.wake_affine, wake_affine))
    # the migration cost: the step of the quiet blocks, the disturbed one
    # (every thread pulled) left out, and written into the scenarios
    mc = getattr(m, "migration_cost_s", None)
    check(mc is not None and abs(mc - Script.MIGRATION) < 0.05 * MS,
          "%s: migration_cost %r, not the quiet blocks' step at %r" % (tag, mc, Script.MIGRATION))
    check(sc["machine"].get("migration_cost") == S.dur(mc or 0),
          "%s: a generated scenario's migration_cost %r"
          % (tag, sc["machine"].get("migration_cost")))
    # the newidle ratio: the quiet blocks' share of cold threads pulled at
    # once (the disturbed block, every thread pulled, left out), written
    # into the scenarios
    script2 = Script()
    script2.mn = 1  # its next block is a quiet one
    want = P.newidle_share(script2.migration_newidle(None, 300 if full else 60)["trials"],
                           mc)["ratio"]
    check(want is not None and 0 < want < 1022 and m.newidle_measured == want,
          "%s: newidle_ratio measured %r, not the quiet blocks' %r"
          % (tag, m.newidle_measured, want))
    written = want if R.Machine.NEWIDLE_WRITE else None
    check(m.newidle_ratio == written and sc["machine"].get("newidle_ratio") == written,
          "%s: newidle_ratio %r and a generated scenario's %r, want %r (NEWIDLE_WRITE %r)"
          % (tag, m.newidle_ratio, sc["machine"].get("newidle_ratio"), written,
             R.Machine.NEWIDLE_WRITE))


# --- the race measured when each experiment runs ----------------------------------

def test_race_before_each_experiment():
    """reality.py --full: an experiment the race decides gets it traced again
    right before each of its attempts (P.race_now called just before the
    experiment, the experiment's machine carrying that race and the kept
    attempt the race it ran with), the shared Machine untouched; an
    experiment the race does not decide, the short run, a machine that
    cannot trace and fresh traces with too few drops on two CPUs keep the
    shared race, and the page says which."""
    import contextlib
    import io
    import report
    log = []
    fresh = iter([0.6, 0.7, 0.8, 0.9])
    state = {"share": 0.0, "busy_first": False, "trace": True, "apart": 100}

    def race_now(k, runs, runs5):
        if not state["trace"]:
            log.append(("race", None))
            return None
        x = next(fresh)
        log.append(("race", x))
        one = {"apart": state["apart"], "asleep": round(x * state["apart"]), "mutex": 0,
               "drops": 200, "aba": 0.5, "others": 0.0, "depth": 1e-3}
        five = dict(one, asleep=round(min(1.0, x + 0.1) * state["apart"]), depth=5e-3)
        return {"runs1": [dict(one) for _ in runs], "runs5": [dict(five) for _ in runs5],
                "start": 1000.0 + len(log), "end": 1010.0 + len(log)}

    def experiment(eid):
        def fn(plan, machine, sim):
            log.append((eid, machine.requester_first, machine.requester_first_idle))
            state["share"] = 0.9 if state["busy_first"] and eid == "queue" and \
                sum(1 for x in log if x[0] == "queue") == 1 else 0.0
            return R.Result(eid, eid, "a scripted experiment")
        return fn

    shared = R.Machine.default()
    shared.race_runs = [{"apart": 100, "asleep": 20, "mutex": 0, "drops": 200, "aba": 0.5,
                         "others": 0.0, "depth": 1e-3}]
    shared.requester_first, shared.requester_first_from = 0.2, "measured"
    shared.requester_first_idle = [(1e-3, 0.2), (5e-3, 0.33)]

    class Meter:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.others = state["share"]
            return False

    saved = (P.race_now, R.Machine.__dict__["calibrate"], list(R.EXPERIMENTS), noise.Meter,
             noise.loadavg)
    results = {}

    def write(path, res, meta):
        results["res"], results["meta"] = res, meta
    saved_write = report.write
    try:
        P.race_now = race_now
        R.Machine.calibrate = staticmethod(lambda plan: shared)
        R.EXPERIMENTS[:] = [experiment(e) for e in R.IDS]
        noise.Meter = Meter
        noise.loadavg = lambda: (0.0, 0.0, 0.0)
        report.write = write

        def run(*argv):
            del log[:]
            with contextlib.redirect_stdout(io.StringIO()):
                R.main(list(argv) + ["--write", "unused.md"])
            return results["res"]

        # full: queue (busy at its first attempt) and blocking-c get their own
        # race before each attempt, cpu the shared one, without a trace
        state["busy_first"] = True
        res = run("--full", "--only", "locked,queue,blocking-c")
        check([x[:2] for x in log] == [("locked", 0.2), ("race", 0.6), ("queue", 0.6),
                                         ("race", 0.7), ("queue", 0.7), ("race", 0.8),
                                         ("blocking-c", 0.8)],
              "full: the race is not traced right before each attempt: %r" % log)
        check(log[2][2] == [(1e-3, 0.6), (5e-3, 0.7)],
              "full: queue's machine has not the fresh curve: %r" % (log[2][2],))
        check(shared.requester_first == 0.2 and shared.requester_first_idle[1] == (5e-3, 0.33),
              "the shared Machine was changed by a fresh race")
        kept = {r.id: r for r in res}
        check(kept["queue"].race["used"] == "fresh"
              and kept["queue"].race["fresh"]["requester_first"] == 0.7,
              "the kept queue attempt (the quiet second) does not keep its own race: %r"
              % kept["queue"].race)
        check(kept["locked"].race["used"] == "shared" and kept["locked"].race["fresh"] is None,
              "locked, which the race does not decide, was given a fresh race")
        page = "\n".join(report._experiment(kept["queue"]))
        check("measured right before this experiment" in page and "0.70" in page
              and "the calibration's" in page and "0.20" in page,
              "the page does not say queue's fresh race and the shared one: %s" % page)
        check("does not depend on it" in "\n".join(report._experiment(kept["locked"])),
              "the page does not say why locked used the shared race")
        check("measured again right before each attempt" in
              "\n".join(report._race_scheme(results["meta"])), "the scheme is not on the page")

        # --race shared: measured, not used
        state["busy_first"] = False
        res = run("--full", "--only", "convoy", "--race", "shared")
        check([x[:2] for x in log] == [("race", 0.9), ("convoy", 0.2)] and
              res[0].race["fresh"]["requester_first"] == 0.9 and
              "--race shared" in R.race_text(res[0].race),
              "--race shared: %r %r" % (log, res[0].race))

        # without tracing: the shared race, and the page says why
        state["trace"] = False
        res = run("--full", "--only", "switches")
        check([x[:2] for x in log] == [("race", None), ("switches", 0.2)]
              and log[1][2] == shared.requester_first_idle,
              "without a trace switches did not run with the shared race: %r" % log)
        check("could not be traced" in R.race_text(res[0].race),
              "the fallback does not say why: %s" % R.race_text(res[0].race))
        # a calibration that could not trace: not even tried
        state["trace"], shared.race_runs = True, []
        res = run("--full", "--only", "pingpong-cpu")
        check([x[0] for x in log] == ["pingpong-cpu"] and "cannot trace" in res[0].race["why"],
              "a run that cannot trace traced the race: %r" % log)
        # fresh traces on one CPU (too few drops on two): the shared race
        shared.race_runs, state["apart"] = [{"apart": 100}], 5
        fresh = iter([0.5])
        res = run("--full", "--only", "convoy-many")
        check(log[1][1] == 0.2 and res[0].race["used"] == "shared"
              and "fewer than" in res[0].race["why"],
              "fresh traces with 15 drops on two CPUs were used: %r %r" % (log, res[0].race))
        # fresh traces whose 5 ms runs had too few drops on two CPUs: the 1 ms
        # share alone does not replace the calibration's curve
        state["apart"], fresh = 100, iter([0.5])
        saved_rn = P.race_now
        P.race_now = lambda k, runs, runs5: dict(saved_rn(k, runs, runs5), runs5=[
            {"apart": 10, "asleep": 5, "mutex": 0, "drops": 50, "aba": 0.5, "others": 0.0,
             "depth": 5e-3}])
        res = run("--full", "--only", "queue")
        check(log[1][1] == 0.2 and res[0].race["used"] == "shared"
              and res[0].race["fresh"]["requester_first"] == 0.5
              and "curve" in res[0].race["why"],
              "a fresh 1 ms share without its curve replaced the calibration's curve: %r %r"
              % (log, res[0].race))
        # the same where the calibration had no curve either: the fresh share
        shared.requester_first_idle, fresh = None, iter([0.5])
        res = run("--full", "--only", "queue")
        check(log[1][1:] == (0.5, None) and res[0].race["used"] == "fresh",
              "a fresh 1 ms share did not replace the calibration's flat one: %r" % log)
        P.race_now = saved_rn
        # short mode: no fresh race
        res = run("--only", "queue")
        check([x[0] for x in log] == ["queue"] and "short mode" in res[0].race["why"],
              "short mode traced the race: %r" % log)
    finally:
        (P.race_now, R.Machine.calibrate, R.EXPERIMENTS[:], noise.Meter,
         noise.loadavg) = saved
        report.write = saved_write


def test_tape_unrecorded_and_selection():
    """reality.py's tape: a measurement the tape never recorded (race_now on
    a tape made before it) answers None and is noted; one recorded and used
    up still stops the replay; a replay with other experiments than the
    tape's is refused."""
    import tempfile
    saved = ({k: getattr(P, k) for k in dir(P)}, noise.Meter, noise.loadavg)
    try:
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "tape")
            rec = R.Tape(path, False)
            rec.check_selection(["--full", "--only", "queue"])
            check(rec.take("x", lambda: 1) == 1, "a recorded call did not give its value")
            rec.save()
            play = R.Tape(path, True)
            play.check_selection(["--full", "--only", "queue"])
            check(play.take("x", lambda: 2) == 1, "the replay did not give the recorded value")
            check(play.take("race_now", lambda: 3) is None and play.missing == {"race_now"},
                  "an unrecorded measurement was not answered None and noted")
            for again, what in ((lambda: play.take("x", lambda: 2)), "a used-up call"), \
                    ((lambda: R.Tape(path, True).check_selection(["--full"])),
                     "another selection"):
                try:
                    again()
                    check(False, "%s did not stop the replay" % what)
                except SystemExit:
                    pass
    finally:
        for k, v in saved[0].items():
            setattr(P, k, v)
        noise.Meter, noise.loadavg = saved[1], saved[2]


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
    # the migration cost, where its step was clean: after the pull's own
    # delay and below the tick (the probe's u stops short of the slice)
    mc = getattr(m, "migration_cost_s", None)
    check(mc is None or 0 < mc < m.tick_s, "migration_cost %r (tick %r)" % (mc, m.tick_s))
    print("calib_test: live calibration: hot %.1f us, cold %.1f us, slice %s (%s)"
          % (m.wake_hot_s / US, m.wake_cold_s / US,
             "%.2f ms" % (m.eevdf_slice_s / MS) if m.eevdf_slice_s else "-",
             m.eevdf_slice_from))


def test_model_variants_replays_only_its_selection():
    """A replay that selects other experiments than its record is refused
    (the cache answers calls in order), and the same selection is not."""
    import pickle
    import tempfile
    import model_variants as mv
    check(mv.selection(["--full", "--gilsim", "g", "--only", "convoy", "--json", "o"])
          == ["--full", "--only", "convoy"], "selection keeps --full and --only")
    with tempfile.TemporaryDirectory() as d:
        cache = os.path.join(d, "c.pickle")
        with open(cache, "wb") as f:
            pickle.dump({("__selection__",): ["--full"]}, f)
        try:
            mv.run("replay", [cache], ["--full", "--only", "convoy"])
            check(False, "a replay with --only of a --full record is refused")
        except SystemExit as e:
            check("select the same experiments" in str(e), "the refusal says why: %s" % e)


def test_kernel_policy():
    """The kernel's scheduler as the calibration detects it: the release
    string read (programs.kernel_release_version), then the policy
    (reality.kernel_policy), and the calibration's own use of both."""
    cases = [  # (uname release, version read, policy)
        ("6.18.0-1-cloud-amd64", (6, 18), "eevdf"),
        ("6.18.0-...", (6, 18), "eevdf"),
        ("6.6.0", (6, 6), "eevdf"),        # the first EEVDF release
        ("6.5.13-generic", (6, 5), "cfs"),  # the last CFS one
        ("6.5-rc7", (6, 5), "cfs"),         # the minor's leading digits only
        ("6.1.0-13-amd64", (6, 1), "cfs"),
        ("5.15.0", (5, 15), "cfs"),
        ("5.15.90.1-microsoft-standard-WSL2", (5, 15), "cfs"),
        ("4.19.0", (4, 19), "cfs"),
        ("10.0.0", (10, 0), "eevdf"),       # compared as numbers, not text
        ("garbage", None, "eevdf"),
        ("", None, "eevdf"),
        ("6", None, "eevdf"),
        ("v6.6", None, "eevdf"),
        (".6.6", None, "eevdf"),
        (None, None, "eevdf"),
    ]
    for release, kv, policy in cases:
        got = P.kernel_release_version(release)
        check(got == kv, "kernel release %r read as %r, not %r" % (release, got, kv))
        pol, note = R.kernel_policy(got)
        check(pol == policy, "kernel release %r: policy %s, not %s" % (release, pol, policy))
        if kv is None:
            check("unknown" in note and pol in note,
                  "an unread kernel version's note %r does not say so" % note)
        else:
            check(note.startswith("%d.%d:" % kv) and note.endswith(pol),
                  "kernel %r: note %r" % (kv, note))
    # a tape's answer that is not a version is refused, not read as one
    for bad in [(6,), (6, 6, 0), "6.6", (6, "6"), (6, -1), (True, 6), 6.6]:
        try:
            R.kernel_policy(bad)
            check(False, "kernel_policy(%r) accepted a version that is not two numbers" % (bad,))
        except ValueError as e:
            check("expected (major, minor)" in str(e), "kernel_policy(%r): %s" % (bad, e))
    # the calibration uses it: the running kernel's release read the same way
    import platform
    check(P.kernel_version() == P.kernel_release_version(platform.release()),
          "kernel_version is not this kernel's release read by kernel_release_version")
    m = R.Machine.default()
    saved = P.kernel_version, P.kernel_hz
    # the tick read from the config, so that nothing is timed (without it the
    # calibration counts a busy CPU's timer interrupts)
    P.kernel_hz = lambda: 250
    try:
        for kv, pol in [((6, 18), "eevdf"), ((6, 1), "cfs"), (None, "eevdf")]:
            P.kernel_version = lambda kv=kv: kv
            m.policy, m.notes = None, {}
            try:
                m.calibrate_kernel(StopAfterPolicy())
            except StopAfterPolicy.Stop:
                pass
            check(m.policy == pol and m.notes.get("kernel") == R.kernel_policy(kv)[1],
                  "calibrate_kernel on kernel %r: policy %r, note %r" % (
                      kv, m.policy, m.notes.get("kernel")))
    finally:
        P.kernel_version, P.kernel_hz = saved


def test_invert_aba():
    """reality.py invert_aba: the untraced A B A read through the model's
    curve run with race_holder_sleeps false, which falls as requester_first
    rises: the nearest point, a bracket that holds it and every point the
    model cannot tell from it, the ends for a share beyond the curve, and a
    curve that rises refused with the points named."""
    rnd = random.Random(15)
    xs = [i / 10 for i in range(11)]
    for _ in range(300):
        top, slope = rnd.uniform(0.5, 0.7), rnd.uniform(0.3, 0.7)
        curve = [(max(0.0, top - slope * x + rnd.uniform(-0.005, 0.005)),
                  rnd.uniform(0.0, 0.01)) for x in xs]
        curve.sort(key=lambda c: -c[0])  # falling, as the reading needs
        target = rnd.uniform(-0.1, 0.8)
        r = R.invert_aba(xs, curve, target)
        d = [abs(m - target) for m, _ in curve]
        check(d[xs.index(r["value"])] == min(d) and r["share"] == curve[xs.index(r["value"])][0],
              "invert_aba kept %r, not the point nearest %.3f" % (r["value"], target))
        check(r["lo"] <= r["value"] <= r["hi"], "invert_aba: %r outside its bracket %r-%r"
              % (r["value"], r["lo"], r["hi"]))
        b = xs.index(r["value"])
        for k, x in enumerate(xs):
            close = d[k] - d[b] <= 2 * (curve[k][1] ** 2 + curve[b][1] ** 2) ** 0.5
            if close:
                check(r["lo"] <= x <= r["hi"], "invert_aba: %r, as near as %r within the "
                      "errors, outside the bracket %r-%r" % (x, r["value"], r["lo"], r["hi"]))
        if target > curve[0][0]:
            check(r["value"] == 0, "a share above the curve: %r, not its top end" % r["value"])
        if target < curve[-1][0]:
            check(r["share"] == curve[-1][0], "a share below the curve: %r (%.3f), not its low "
                  "end" % (r["value"], r["share"]))
    # the 17:43 record, replayed (docs/model.md): 0.54 reads 0.1, bracket 0-0.2
    rec = [0.57, 0.54, 0.50, 0.45, 0.41, 0.37, 0.32, 0.25, 0.19, 0.10, 0.00]
    r = R.invert_aba(xs, [(m, 0.015) for m in rec], 0.544)
    check((r["value"], r["lo"], r["hi"]) == (0.1, 0.0, 0.2),
          "the 17:43 record's A B A 0.544 read as %r" % r)
    # the old reading's curve rises from 0 to 0.25: not readable, said so
    try:
        R.invert_aba([0, 0.25, 0.5], [(0.50, 0.005), (0.58, 0.005), (0.51, 0.005)], 0.55)
        check(False, "a rising curve was read")
    except ValueError as e:
        check("0 and 0.25" in str(e), "the error does not say where it rose: %s" % e)


class AbaSim:
    """A model that answers the calibration's 3-thread program with a GIL
    sequence whose A B A share is 0.57 x (1 - requester_first) with
    race_holder_sleeps false, and a flat 0.56 without it (the old reading's
    flat stretch), each run 1,000 switches drawn with its seed."""
    ok = True

    def __init__(self):
        self.calls = []

    def run(self, sc, name, csv=False, **kw):
        mc = sc["machine"]
        sleeps = mc.get("race_holder_sleeps", True)
        self.calls.append((mc["requester_first"], sleeps))
        p = 0.56 if sleeps else 0.57 * (1 - mc["requester_first"])
        rnd = random.Random(sc["seed"] * 1000 + round(100 * mc["requester_first"]))
        seq = [0, 1]
        for _ in range(1000):
            seq.append(seq[-2] if rnd.random() < p else 3 - seq[-1] - seq[-2])
        rows = [{"lane_kind": "gil", "start_ns": str(1000 * i), "thread": str(t)}
                for i, t in enumerate(seq)]
        return {"_csv": rows}


def test_race_from_aba():
    """fit_requester_first with the untraced reading: --race-from aba takes
    the inverted value, one chance for every drop (the traced curve and own
    chance dropped) and race_holder_sleeps false, which the scenarios then
    carry; the default keeps the traced race and reports the reading as a
    cross-check; only the inversion's runs carry the key; a machine whose
    reading fails stays traced (reality.calibrated)."""
    def machine():
        m = R.Machine.default()
        m.back_share = 0.57 * (1 - 0.3)
        m.race_runs = [{"apart": 100, "asleep": 45, "mutex": 0, "drops": 200, "others": 0.0,
                        "depth": 1e-3}]
        m.race_runs5 = [{"apart": 100, "asleep": 60, "mutex": 0, "drops": 200, "others": 0.0,
                         "depth": 5e-3}]
        return m
    for mode in ("trace", "aba"):
        m, sim = machine(), AbaSim()
        m.race_from = mode
        m.fit_requester_first(sim)
        keyed = [c for c in sim.calls if not c[1]]
        check(len(keyed) >= len(R.Machine.RF_ABA_GRID) and len(sim.calls) > len(keyed),
              "%s: %d of %d runs with race_holder_sleeps false" % (mode, len(keyed),
                                                                   len(sim.calls)))
        ab = m.aba_fit
        check(ab is not None and ab["lo"] <= 0.3 <= ab["hi"] and abs(ab["value"] - 0.3) <= 0.1,
              "%s: the A B A of requester_first 0.3 read as %r" % (mode, ab))
        check(any("untraced A B A" in k for k in m.notes), "%s: no note of the reading" % mode)
        sc = S.base("x", "", m, 1 * MS, [{"name": "cpu", "count": 1,
                                          "program": [{"cpu": "1ms"}]}])
        if mode == "aba":
            check(m.requester_first == ab["value"] and m.requester_first_from == "A B A",
                  "aba: requester_first %r from %r" % (m.requester_first, m.requester_first_from))
            check(m.race_holder_sleeps is False and m.requester_first_idle is None
                  and m.requester_first_own is None,
                  "aba: the traced curve or own chance kept, or the holder still sleeps")
            check(sc["machine"].get("race_holder_sleeps") is False,
                  "aba: the scenarios do not carry race_holder_sleeps false")
        else:
            check(m.requester_first == 0.45 and m.requester_first_from == "measured",
                  "trace: requester_first %r from %r" % (m.requester_first,
                                                         m.requester_first_from))
            check(m.race_holder_sleeps is True and "race_holder_sleeps" not in sc["machine"],
                  "trace: the scenarios carry race_holder_sleeps")
    # the model not there: no reading, the race stays traced
    saved = R.Machine.calibrate
    try:
        R.Machine.calibrate = staticmethod(lambda plan: machine())
        m = R.calibrated(R.Plan(False), types.SimpleNamespace(ok=False), "aba")
    finally:
        R.Machine.calibrate = saved
    check(m.race_from == "trace" and m.race_holder_sleeps is True,
          "aba without a model: race_from %r, race_holder_sleeps %r" % (m.race_from,
                                                                        m.race_holder_sleeps))


class StopAfterPolicy:
    """A plan that stops calibrate_kernel at its first size asked for, after
    the policy and before anything timed."""
    class Stop(Exception):
        pass

    full = False

    def pick(self, full, short):
        raise self.Stop()


def main(argv):
    if argv == ["--kernel-policy"]:
        test_kernel_policy()
    elif argv == ["--self-test"]:
        test_least_disturbed()
        test_idled()
        test_fit_on_grid()
        test_invert_aba()
        test_race_from_aba()
        test_share_mean_se()
        test_measured_requester_first()
        test_timer_late_curve()
        test_migration_step()
        test_newidle_share()
        test_scripted_calibration()
        test_race_before_each_experiment()
        test_tape_unrecorded_and_selection()
        test_model_variants_replays_only_its_selection()
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
