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

  calib_spread.py N DIR [--short] [--json SUMMARY.json]
  calib_spread.py --summarize DIR     the table again from DIR/cal*.json

No model is run (requester_first is fitted by reality.py with the model and is
left out here).
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
              "timer_jitter_s", "slack_s", "tick_s", "eevdf_slice_s", "back_share"):
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


def main(argv):
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
    args = [a for a in argv if not a.startswith("--")]
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
        with open(os.path.join(out, "cal%d.json" % (i + 1)), "w") as f:
            json.dump({"machine": d}, f, indent=1)
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
