#!/usr/bin/env python3
"""How much reality.py's machine calibration moves from one run to the next.

Runs reality.py's calibration (Machine.calibrate, the full plan unless
--short) N times in a row and prints, for every constant the generated
scenarios use, each run's value, the median and the spread (the range and
the interquartile range against the median), with the share of the machine
other processes used during each calibration and the load average. Each
calibration is written as DIR/calN.json in the form of reality.py's --json
"machine" block, so model_variants.py can replay one recorded real side with
each of them (`model_variants.py replay CACHE --machine DIR/cal3.json ...`):
which rows a constant's spread moves.

  calib_spread.py N DIR [--short] [--json SUMMARY.json] [--gilsim BIN]
  calib_spread.py --summarize DIR     the table again from DIR/cal*.json
  calib_spread.py --fit DIR --gilsim BIN
  calib_spread.py --extremes DIR OUT  one constant at a time: OUT/NAME-lo.json
                                      and OUT/NAME-hi.json are DIR's middle
                                      calibration with that constant taken
                                      from the calibration where it was
                                      lowest or highest (OUT/mid.json: the
                                      middle one itself), to replay each with
                                      model_variants.py --machine: which rows
                                      each constant's spread moves

With --gilsim, each calibration's requester_first is fitted with the model as
reality.py fits it (from the calibration's back_share), so that a replay with
--machine uses it; --fit does that to the calibrations already in DIR.
Without, no model is run and requester_first is left at 0.5.
"""
import glob
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True

import noise  # noqa: E402


def constants(m):
    """The constants a generated scenario takes from machine m (a dict as
    reality.py's --json writes it), flat: name -> seconds or share."""
    out = {}
    for k in ("wake_hot_s", "wake_cold_s", "context_switch_s", "futex_s", "bare_syscall_s",
              "wake_ipi_s", "wake_jitter_s", "thread_create_s", "wake_affine", "timer_arm_s",
              "timer_jitter_s", "slack_s", "tick_s", "eevdf_slice_s", "back_share",
              "migration_cost_s"):
        v = m.get(k)
        if isinstance(v, (int, float)):
            out[k] = float(v)
    for d, lat in m.get("wake_curve") or []:
        out["wake_idle@%gus" % round(d * 1e6, 3)] = lat
    for d, late in m.get("timer_curve") or []:
        out["timer_late@%gus" % round(d * 1e6, 3)] = late
    for k, v in (m.get("notes") or {}).items():
        if k.startswith("time.sleep(") and isinstance(v, (int, float)):
            out["overshoot " + k[len("time.sleep("):].split(")")[0]] = v
    return out


def spread_table(runs):
    """Rows (name, values, median, range/median, IQR/median) over the runs'
    constants; a name missing from a run is left out of that run."""
    names = []
    for c in runs:
        for k in c:
            if k not in names:
                names.append(k)
    rows = []
    for k in names:
        xs = [c[k] for c in runs if k in c]
        med = statistics.median(xs)
        rng = (max(xs) - min(xs)) / med if med else float("nan")
        if len(xs) >= 2:
            q = statistics.quantiles(xs, n=4, method="inclusive")
            iqr = (q[2] - q[0]) / med if med else float("nan")
        else:
            iqr = 0.0
        rows.append((k, xs, med, rng, iqr))
    return rows


def fmt(k, v):
    if k in ("wake_affine", "back_share"):
        return "%.2f" % v
    return "%.1fus" % (v * 1e6) if abs(v) < 1e-3 else "%.3fms" % (v * 1e3)


def print_table(runs, others):
    print("%-26s %10s %7s %7s  %s" % ("constant", "median", "range", "IQR", "each run"))
    for k, xs, med, rng, iqr in spread_table(runs):
        print("%-26s %10s %6.0f%% %6.0f%%  %s" % (
            k, fmt(k, med), 100 * rng, 100 * iqr, " ".join(fmt(k, x) for x in xs)))
    if others:
        print("%-26s %10s %7s %7s  %s" % ("others' share", "", "", "",
                                        " ".join("%.0f%%" % (100 * (o or 0)) for o in others)))


def fit(path, sim, reality):
    """Fits the requester_first of the calibration in path (in place)."""
    with open(path) as f:
        d = json.load(f)
    m = reality.Machine.default()
    for k, v in d["machine"].items():
        setattr(m, k, [tuple(p) for p in v] if k in ("wake_curve", "timer_curve") else v)
    m.fit_requester_first(sim)
    d["machine"]["requester_first"] = m.requester_first
    with open(path, "w") as f:
        json.dump(d, f, indent=1)
    return m.requester_first


def gilsim(argv, reality, workdir):
    if "--gilsim" not in argv:
        return None
    sim = reality.Gilsim(argv[argv.index("--gilsim") + 1], workdir)
    if not sim.ok:
        raise SystemExit("calib_spread: %s" % sim.error)
    return sim


# the calibration's constants as groups that move together (a curve is one
# constant; requester_first is fitted from back_share, so they go together)
GROUPS = {"wake_hot": ("wake_hot_s",), "wake_curve": ("wake_curve",),
          "wake_cold": ("wake_cold_s",), "context_switch": ("context_switch_s",),
          "wake_jitter": ("wake_jitter_s",), "timer_jitter": ("timer_jitter_s",),
          "timer_curve": ("timer_curve",), "thread_create": ("thread_create_s",),
          "wake_affine": ("wake_affine",), "requester_first": ("back_share", "requester_first"),
          "futex": ("futex_s",), "wake_ipi": ("wake_ipi_s",),
          "migration_cost": ("migration_cost_s",)}


def group_value(m, keys):
    """A number to rank calibrations by for one group: the value, or a
    curve's mean latency."""
    v = m.get(keys[0])
    if isinstance(v, list):
        return statistics.mean(p[1] for p in v) if v else 0.0
    return v if isinstance(v, (int, float)) else None


def extremes(src, out):
    ms = []
    for p in sorted(glob.glob(os.path.join(src, "cal*.json"))):
        with open(p) as f:
            ms.append((os.path.basename(p), json.load(f)["machine"]))
    if len(ms) < 3:
        raise SystemExit("calib_spread: --extremes needs 3 calibrations or more in %s" % src)
    os.makedirs(out, exist_ok=True)
    # the middle calibration: the one whose constants sit nearest their
    # medians (the sum of each group's rank distance from the middle)
    n = len(ms)
    dist = [0.0] * n
    for keys in GROUPS.values():
        vals = [group_value(m, keys) for _, m in ms]
        if any(v is None for v in vals):
            continue
        order = sorted(range(n), key=lambda i: vals[i])
        for r, i in enumerate(order):
            dist[i] += abs(r - (n - 1) / 2)
    mid = min(range(n), key=lambda i: dist[i])
    with open(os.path.join(out, "mid.json"), "w") as f:
        json.dump({"machine": ms[mid][1]}, f, indent=1)
    print("middle calibration: %s" % ms[mid][0])
    for name, keys in GROUPS.items():
        vals = [group_value(m, keys) for _, m in ms]
        if any(v is None for v in vals):
            continue
        for tag, i in (("lo", min(range(n), key=lambda i: vals[i])),
                       ("hi", max(range(n), key=lambda i: vals[i]))):
            m = dict(ms[mid][1])
            for k in keys:
                m[k] = ms[i][1].get(k)
            with open(os.path.join(out, "%s-%s.json" % (name, tag)), "w") as f:
                json.dump({"machine": m}, f, indent=1)
            print("%s-%s: from %s (%s)" % (name, tag, ms[i][0], fmt(keys[0], vals[i])
                                           if keys[0] not in ("back_share",) else
                                           "%.2f" % vals[i]))


def main(argv):
    import tempfile
    if len(argv) == 3 and argv[0] == "--extremes":
        extremes(argv[1], argv[2])
        return 0
    if len(argv) == 4 and argv[0] == "--fit":
        import reality
        with tempfile.TemporaryDirectory() as w:
            sim = gilsim(argv, reality, w)
            if sim is None:
                raise SystemExit("calib_spread: --fit needs --gilsim BIN")
            for p in sorted(glob.glob(os.path.join(argv[1], "cal*.json"))):
                print("%s: requester_first %.2f" % (p, fit(p, sim, reality)))
        return 0
    if len(argv) == 2 and argv[0] == "--summarize":
        runs, others = [], []
        for p in sorted(glob.glob(os.path.join(argv[1], "cal*.json")),
                        key=lambda p: int("".join(ch for ch in os.path.basename(p)
                                                  if ch.isdigit()) or 0)):
            with open(p) as f:
                m = json.load(f)["machine"]
            runs.append(constants(m))
            others.append(m.get("others"))
        if not runs:
            raise SystemExit("calib_spread: no cal*.json in %s" % argv[1])
        print_table(runs, others)
        return 0
    args = [a for i, a in enumerate(argv) if not a.startswith("--")
            and (i == 0 or argv[i - 1] not in ("--json", "--gilsim"))]
    if len(args) < 2 or not args[0].isdigit() or int(args[0]) < 1:
        print(__doc__)
        return 2
    n, out = int(args[0]), args[1]
    summary = argv[argv.index("--json") + 1] if "--json" in argv else None
    import reality
    plan = reality.Plan("--short" not in argv)
    os.makedirs(out, exist_ok=True)
    runs, others = [], []
    for i in range(n):
        la = noise.loadavg()
        t = time.perf_counter()
        with noise.Meter() as meter:
            m = reality.Machine.calibrate(plan)
        m.others = meter.others
        d = json.loads(json.dumps(vars(m), default=str))
        d["loadavg"] = la
        path = os.path.join(out, "cal%d.json" % (i + 1))
        with open(path, "w") as f:
            json.dump({"machine": d}, f, indent=1)
        if "--gilsim" in argv:
            with tempfile.TemporaryDirectory() as w:
                fit(path, gilsim(argv, reality, w), reality)
        runs.append(constants(d))
        others.append(m.others)
        print("calibration %d of %d: %.1f s, others used %s, load %.2f" % (
            i + 1, n, time.perf_counter() - t,
            "?" if m.others is None else "%.0f%%" % (100 * m.others), la[0]), flush=True)
    print_table(runs, others)
    if summary:
        with open(summary, "w") as f:
            json.dump([{"constant": k, "each": xs, "median": med, "range": rng, "iqr": iqr}
                       for k, xs, med, rng, iqr in spread_table(runs)], f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
