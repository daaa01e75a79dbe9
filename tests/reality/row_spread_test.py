#!/usr/bin/env python3
"""ctest reality_row_spread: row_spread.py's reading of real runs (modes,
the page's median-of-3 draws, rank correlation, the rows out of a tape in
both formats, a bad tape's one-line error), and the median draw that
reality.py's queue and blocking-C rows now take on both sides: with the
tape's further runs the measured figure is the median of all runs and the
predicted one the median of as many seeds (each its own seed); a tape
recorded before the further runs replays as it did (three runs, one seed).
No real timing: the programs and the simulator are stand-ins."""

import os
import pickle
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True

import programs as P  # noqa: E402
import reality as R  # noqa: E402
import row_spread as RS  # noqa: E402

FAILS = []


def check(ok, what):
    if not ok:
        FAILS.append(what)
        print("FAIL: " + what)


def test_modes():
    two = [100, 101, 99, 98, 102, 200, 205, 198, 201, 100]
    split = RS.modes(two)
    check(split is not None and len(split[0]) == 6 and len(split[1]) == 4,
          "two clusters 100 and 200 not split 6/4: %r" % (split,))
    check(RS.modes([100, 103, 98, 101, 99, 102, 97, 104]) is None,
          "one cluster was split")
    # a lone outlier is not a mode (fewer than a fifth of the runs)
    check(RS.modes([100, 101, 99, 98, 102, 97, 103, 96, 104, 240]) is None,
          "one outlier in ten made a mode")
    check(RS.medians_of_3([1, 5, 3, 10, 2, 4, 7]) == [3, 4],
          "medians of 3 consecutive runs: %r" % RS.medians_of_3([1, 5, 3, 10, 2, 4, 7]))
    check(abs(RS.spearman([1, 2, 3, 4, 5, 6], [10, 20, 30, 40, 50, 60]) - 1) < 1e-9
          and abs(RS.spearman([1, 2, 3, 4, 5, 6], [6, 5, 4, 3, 2, 1]) + 1) < 1e-9,
          "Spearman of monotone series is not +-1")


def fake_calls(more):
    pp = [4000 / 2000.0, 4000 / 2500.0, 4000 / 3000.0, 4.0, 4.1, 4.2]   # 2000, 2500, 3000/s
    q = [(20000 / 100e3, 0.5), (20000 / 150e3, 0.55), (20000 / 90e3, 0.52),
         (0.2, 0.4), (0.2, 0.4), (0.2, 0.4)]
    bc = [1.0] * 5 + [8.0, 7.0, 9.0, 6.0, 10.0] + [12.0] * 5
    calls = {"lock_pingpong_beside_cpu": pp, "queue_consumers": q, "c_calls_beside_cpu": bc}
    if more:
        calls["queue_consumers_more"] = [[(20000 / 240e3, 0.5)], [(0.2, 0.4)]]
    return calls


def test_tapes():
    with tempfile.TemporaryDirectory() as d:
        a, b, bad = (os.path.join(d, x) for x in ("a", "b", "bad"))
        with open(a, "wb") as f:  # reality.py --save-real: name -> list
            pickle.dump(fake_calls(True), f)
        with open(b, "wb") as f:  # model_variants.py record: (name, n) -> value
            pickle.dump({(k, i): v for k, vs in fake_calls(False).items()
                         for i, v in enumerate(vs)}, f)
        with open(bad, "w") as f:
            f.write("{}")
        for path, n_q in ((a, 4), (b, 3)):
            pp, q, bc, _ = RS.tape_rows(RS.tape_calls(path))
            check([round(x) for x in pp] == [2000, 2500, 3000],
                  "%s: ping-pong rates %r" % (path, pp))
            check(len(q) == n_q and round(q[0]) == 100000 and
                  (n_q == 3 or round(q[3]) == 240000),
                  "%s: queue rates %r" % (path, q))
            check(bc == [8.0, 7.0, 9.0, 6.0, 10.0], "%s: blocking C %r" % (path, bc))
        out = subprocess.run([sys.executable, os.path.join(HERE, "row_spread.py"), "tapes",
                              a, b], capture_output=True, text=True)
        check(out.returncode == 0 and "(pooled): 7 runs" in out.stdout
              and "240k" in out.stdout, "tapes a b: %d %s %s"
              % (out.returncode, out.stdout, out.stderr))
        out = subprocess.run([sys.executable, os.path.join(HERE, "row_spread.py"), "tapes",
                              bad], capture_output=True, text=True)
        check(out.returncode == 2 and out.stderr.count("\n") == 1 and bad in out.stderr
              and "Traceback" not in out.stderr,
              "a file that is no tape: %d %r" % (out.returncode, out.stderr))


class Sim:
    """Stands in for reality.Gilsim: the queue's end and the hashers' finish
    grow with the seed, so a median over seeds is told from one seed."""
    ok, seed = True, None

    def __init__(self):
        self.offsets = []

    def run(self, scenario, name, csv=False, stall_ok=False, seed_offset=0):
        self.offsets.append((name, seed_offset))
        seed = scenario.get("seed", 1) + seed_offset
        if name.startswith("queue"):
            n = len([t for t in scenario["threads"] if t["name"] == "consumer"])
            end = int(1e8 * seed)          # 20000 items: 200k/s at seed 1
            return {"end_ns": end, "threads": [
                {"name": "producer", "python_ns": 0},
                {"name": "consumer", "python_ns": end // (n + 1)}]}
        return {"threads": [{"name": "hasher", "finished_ns": int(1e9 * seed)}]}


def with_programs(saved, **fns):
    for k, v in fns.items():
        saved.setdefault(k, getattr(P, k))
        setattr(P, k, v)


def test_queue_median_draw():
    saved = {}
    runs = iter([100e3, 150e3, 90e3, 80e3, 80e3, 80e3])
    try:
        with_programs(saved, cal_spin_ns=lambda: 15.0, best_time=lambda fn, n=3: 1e-3,
                      queue_consumers=lambda k, n, w: (n / next(runs), 0.5))
        for more, n_runs in ((True, 9), (False, 3)):
            runs = iter([100e3, 150e3, 90e3, 80e3, 80e3, 80e3])
            extra = {2: [(20000 / x, 0.5) for x in (240e3, 95e3, 96e3, 97e3, 230e3, 98e3)],
                     3: [(0.25, 0.4)] * 6}
            P.queue_consumers_more = ((lambda k, n, w, m: extra[k][:m]) if more
                                      else (lambda k, n, w, m: None))
            sim = Sim()
            res = R.exp_queue(R.Plan(True), R.Machine.default(), sim)
            rate2 = next(x for x in res.rows if x.label == "2 consumers: items per second")
            want = sorted([100e3, 150e3, 90e3, 240e3, 95e3, 96e3, 97e3, 230e3, 98e3])[4] \
                if more else 100e3
            check(abs(rate2.measured - want) < 1, "queue (%s further runs): measured %r, "
                  "want the median of %d runs %r" % (more, rate2.measured, n_runs, want))
            seeds = [o for name, o in sim.offsets if name.startswith("queue-2")]
            check(seeds == list(range(n_runs if more else 1)),
                  "queue: the model's seeds %r" % seeds)
            # seeds 1..9 give 200k/s / seed: the median seed is the 5th
            want_p = 20000 / (1e-1 * (5 if more else 1))
            check(abs(rate2.predicted - want_p) < 1, "queue (%s): predicted %r, want %r"
                  % (more, rate2.predicted, want_p))
            check(("Median of %d" % n_runs) in res.program and
                  (any("real runs" in n for n in res.notes) == more),
                  "queue: the text does not say the runs: %r %r" % (res.program, res.notes))
    finally:
        for k, v in saved.items():
            setattr(P, k, v)


def test_blocking_median_of_seeds():
    saved = {}
    try:
        for full, n_seeds in ((True, 5), (False, 1)):
            times = iter([1e-3, 1e-6])  # the call on 1 MiB, then on an empty input
            with_programs(saved, best_time=lambda fn, n=5: next(times),
                          c_calls_beside_cpu=lambda fn, buf, k, n, c, iv: 1.0)
            sim = Sim()
            res = R.exp_blocking_c(R.Plan(full), R.Machine.default(), sim)
            seeds = [o for name, o in sim.offsets if name.startswith("blocking-c-1")]
            check(seeds == list(range(n_seeds)), "blocking C (full %s): seeds %r"
                  % (full, seeds))
            row = next(x for x in res.rows if "1 CPU thread" in x.label)
            k = res.calibration["calls per thread"]
            call_s = 1e-3 - 1e-6
            want = (3 if full else 1) / (k * call_s)   # seeds 1..5: the median is 3 s
            check(abs(row.predicted / want - 1) < 1e-6, "blocking C (full %s): predicted "
                  "%r, want the median seed's %r" % (full, row.predicted, want))
    finally:
        for k, v in saved.items():
            setattr(P, k, v)


def main():
    had_more = hasattr(P, "queue_consumers_more")
    old_more = getattr(P, "queue_consumers_more", None)
    try:
        test_modes()
        test_tapes()
        test_queue_median_draw()
        test_blocking_median_of_seeds()
    finally:
        if had_more:
            P.queue_consumers_more = old_more
    print("%d failed" % len(FAILS) if FAILS else "row_spread: all checks passed")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
