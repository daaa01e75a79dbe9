#!/usr/bin/env python3
"""How much one key figure of the validation page moves between real runs,
and whether it falls into modes (issue 15: three rows that were within 25%
on one quiet page and out on the next).

The page takes each real figure as the median of 3 (or 5) runs and each
model figure from one seed. Where a row moves between pages, three things
can have moved it: the real program (a wide or two-moded distribution whose
median of 3 lands anywhere in it), the model's seed, or a calibrated
constant the model's row is sensitive to. This tool measures the first and
third on the real machine; seed_modes.py measures the second.

  real    N rounds of the three rows' real programs, in turn (a round runs
          each once, the order rotating round by round so that no row always
          follows the same one): the lock ping-pong beside a spinner at 1 ms
          (programs.lock_pingpong_beside_cpu, 2000 rounds), the queue with 2
          consumers (programs.queue_consumers, 20000 items) and blocking C
          beside one spinner (programs.c_calls_beside_cpu, 3 hashing threads
          at 5 ms). Per run: the figure as reality.py computes it, the share
          of the machine other processes used meanwhile (noise.Meter; the
          whole round's for a run too short to meter, under 50 ms), the
          load average, and the process's voluntary and involuntary context
          switches during the run (getrusage: a GIL or lock hand-off that
          sleeps is a voluntary switch, so a queue run that hands the GIL
          over at each item counts thousands and a round robin of forced
          switches few; nothing is added to the program's paths).
          --cs also measures the context switch as reality.py's calibration
          does (the 1-CPU pipe round trip pinned to the first CPU, halved,
          less a pipe write and read measured unpinned) and as it would with
          the write and read measured on the same CPU, each round: is the
          calibrated constant steady, and does the real ping-pong rate move
          with it?
  report  JSON: the same summary from a kept run.
  tapes   FILE ...: the same rows' runs out of kept real measurements, a
          reality.py --save-real tape or a model_variants.py record (the
          page's own runs: 3 of the ping-pong and of the queue, 5 of
          blocking C, and the queue's further runs where the tape has them);
          each tape's first attempt (a retried experiment's later attempts
          are listed after it). Blocking C is given against the same run's
          median without a spinner (the page divides by one thread's calls,
          which a tape does not keep), so compare its spread, not its level.

Summary per row: median, 10th-90th percentile, min-max, the spread of the
page's own draw (the median of 3 consecutive runs), and modes: the runs
sorted and cut at their widest gap when it is wider than a quarter of the
median and each side holds at least a fifth of the runs.

    python3 tests/reality/row_spread.py real --rounds 20 --json OUT.json [--cs]
    python3 tests/reality/row_spread.py report OUT.json
    python3 tests/reality/row_spread.py tapes /tmp/mv_q3 /tmp/mv_q4
"""
import argparse
import json
import os
import pickle
import random
import resource
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True

import noise  # noqa: E402
import programs as P  # noqa: E402

MS = 1e-3
PP_ROUNDS = 2000        # reality.py's exp_pingpong_cpu, full
Q_ITEMS, Q_WORK = 20000, 200   # exp_queue, full
BC_IV = 5 * MS          # exp_blocking_c
GAP = 0.25              # a gap between modes: wider than this share of the median
MIN_SIDE = 0.2          # each mode at least this share of the runs


class Rows:
    """The three rows' real programs, each returning its page figure."""

    def __init__(self):
        import hashlib
        self.buf = random.Random(2).randbytes(1 << 20)
        self.fn = lambda b: hashlib.sha256(b).digest()  # noqa: E731
        self.call_s = P.best_time(lambda: self.fn(self.buf), 5)
        self.k = max(4, int(0.12 / self.call_s))
        # reality.py divides by k calls less what a call holds the GIL for
        t = P.best_time(lambda: self.fn(b""), 5)
        self.call_rel_s = max(self.call_s - t, 1e-6)

    def pingpong(self):
        return 2 * PP_ROUNDS / P.lock_pingpong_beside_cpu(PP_ROUNDS, 1 * MS)

    def queue(self):
        elapsed, _ = P.queue_consumers(2, Q_ITEMS, Q_WORK)
        return Q_ITEMS / elapsed

    def blocking(self):
        return P.c_calls_beside_cpu(self.fn, self.buf, self.k, 3, 1, BC_IV) / (
            self.k * self.call_rel_s)


ROWS = (("pingpong-cpu 1 ms: hand-offs/s", "pingpong"),
        ("queue 2 consumers: items/s", "queue"),
        ("blocking C beside 1 spinner: elapsed / one thread's calls", "blocking"))


def measured(fn):
    """fn() with the share others used, the load and our context switches."""
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    with noise.Meter() as m:
        v = fn()
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    return {"value": v, "others": m.others, "load": noise.loadavg()[0],
            "vcsw": r1.ru_nvcsw - r0.ru_nvcsw, "ivcsw": r1.ru_nivcsw - r0.ru_nivcsw,
            "at": time.time()}


def pinned_self_cost(cpu):
    """A pipe write + read on cpu (the thread pinned there, then unpinned)."""
    old = os.sched_getaffinity(0)
    try:
        os.sched_setaffinity(0, {cpu})
        return P.pipe_self_cost()
    finally:
        os.sched_setaffinity(0, old)


def cs_now():
    """The context switch as the calibration takes it and on one CPU."""
    cpu = sorted(os.sched_getaffinity(0))[0]
    rt1 = P.pipe_pingpong(4000, cpu)
    unpinned = min(P.pipe_self_cost() for _ in range(3))
    same = min(pinned_self_cost(cpu) for _ in range(3))
    return {"rt1": rt1, "self_unpinned": unpinned, "self_same_cpu": same,
            "cs_calibration": max(0.5e-6, rt1 / 2 - unpinned),
            "cs_same_cpu": max(0.5e-6, rt1 / 2 - same)}


def run_real(args):
    rows = Rows()
    out = {"rows": {k: [] for _, k in ROWS}, "cs": [], "k": rows.k,
           "call_s": rows.call_s, "started": time.time(),
           "load_before": noise.loadavg()}
    keys = [k for _, k in ROWS]
    for i in range(args.rounds):
        order = keys[i % len(keys):] + keys[:i % len(keys)]
        with noise.Meter() as whole:
            for k in order:
                out["rows"][k].append(measured(getattr(rows, k)))
        for k in order:  # a run under 50 ms has no share of its own: the round's
            if out["rows"][k][-1]["others"] is None:
                out["rows"][k][-1]["others"] = whole.others
                out["rows"][k][-1]["others_of"] = "round"
        if args.cs:
            out["cs"].append(cs_now())
        print("round %d/%d: %s" % (i + 1, args.rounds, ", ".join(
            "%s %.4g (others %s)" % (k, out["rows"][k][-1]["value"],
                                     pct(out["rows"][k][-1]["others"])) for k in keys)),
              file=sys.stderr)
    out["load_after"] = noise.loadavg()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
    print(report(out))
    return 0


def pct(x):
    return "?" if x is None else "%.0f%%" % (100 * x)


def modes(values):
    """(low, high) split at the widest gap of the sorted values, or None."""
    xs = sorted(values)
    if len(xs) < 5:
        return None
    med = statistics.median(xs)
    gaps = [(xs[i + 1] - xs[i], i) for i in range(len(xs) - 1)]
    g, i = max(gaps)
    lo, hi = xs[:i + 1], xs[i + 1:]
    if g < GAP * med or min(len(lo), len(hi)) < MIN_SIDE * len(xs):
        return None
    return lo, hi


def medians_of_3(values):
    """The page's draw: the median of each 3 consecutive runs."""
    return [statistics.median(values[i:i + 3]) for i in range(0, len(values) - 2, 3)]


def summary(label, runs, fmt="%.4g"):
    vs = [r["value"] for r in runs]
    lines = ["%s: %d runs" % (label, len(vs))]
    if not vs:
        return lines
    q = statistics.quantiles(vs, n=10) if len(vs) >= 2 else [vs[0]] * 9
    f = lambda x: fmt % x  # noqa: E731
    lines.append("  median %s, p10-p90 %s-%s, min-max %s-%s (spread p90/p10 %.2f)"
                 % (f(statistics.median(vs)), f(q[0]), f(q[-1]), f(min(vs)), f(max(vs)),
                    q[-1] / q[0] if q[0] else float("nan")))
    m3 = medians_of_3(vs)
    if m3:
        lines.append("  the page's draw, medians of 3 consecutive runs: %s-%s (%d draws)"
                     % (f(min(m3)), f(max(m3)), len(m3)))
    oth = [r["others"] for r in runs if r["others"] is not None]
    if oth:
        lines.append("  others used %s of the machine (median; %s-%s), load %.1f-%.1f"
                     % (pct(statistics.median(oth)), pct(min(oth)), pct(max(oth)),
                        min(r["load"] for r in runs), max(r["load"] for r in runs)))
    split = modes(vs)
    if split:
        lo, hi = split
        lines.append("  two modes: %d runs %s-%s (median %s), %d runs %s-%s (median %s)"
                     % (len(lo), f(lo[0]), f(lo[-1]), f(statistics.median(lo)),
                        len(hi), f(hi[0]), f(hi[-1]), f(statistics.median(hi))))
        cut = lo[-1]
        for name in ("vcsw", "ivcsw"):
            a = [r[name] for r in runs if r["value"] <= cut]
            b = [r[name] for r in runs if r["value"] > cut]
            lines.append("    %s (context switches of the process): low mode median %d, "
                         "high mode median %d" % (name, statistics.median(a),
                                                  statistics.median(b)))
    else:
        lines.append("  one mode (no gap wider than %.0f%% of the median with %.0f%% of the "
                     "runs on each side)" % (100 * GAP, 100 * MIN_SIDE))
    if len(oth) == len(vs) and len(vs) >= 6:
        lines.append("  against others' share: Spearman %.2f" % spearman(
            vs, [r["others"] for r in runs]))
    vc = [r["vcsw"] for r in runs]
    lines.append("  voluntary switches per run: median %d (%d-%d); against the figure: "
                 "Spearman %.2f" % (statistics.median(vc), min(vc), max(vc),
                                    spearman(vs, vc) if len(vs) >= 6 else float("nan")))
    return lines


def rank(xs):
    order = sorted(range(len(xs)), key=lambda i: xs[i])
    r = [0.0] * len(xs)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and xs[order[j + 1]] == xs[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2
        i = j + 1
    return r


def spearman(a, b):
    ra, rb = rank(a), rank(b)
    ma, mb = statistics.mean(ra), statistics.mean(rb)
    num = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    den = (sum((x - ma) ** 2 for x in ra) * sum((y - mb) ** 2 for y in rb)) ** 0.5
    return num / den if den else float("nan")


def report(out):
    lines = []
    for label, k in ROWS:
        lines += summary(label, out["rows"].get(k, []))
    cs = out.get("cs") or []
    if cs:
        for name in ("cs_calibration", "cs_same_cpu", "self_unpinned", "self_same_cpu", "rt1"):
            xs = [c[name] * 1e9 for c in cs]
            lines.append("%s: median %.0f ns, %.0f-%.0f ns (%d rounds)"
                         % (name, statistics.median(xs), min(xs), max(xs), len(xs)))
        pp = [r["value"] for r in out["rows"]["pingpong"]]
        if len(pp) == len(cs) and len(cs) >= 6:
            for name in ("cs_calibration", "cs_same_cpu"):
                lines.append("pingpong-cpu's rate against %s of its round: Spearman %.2f"
                             % (name, spearman(pp, [c[name] for c in cs])))
    return "\n".join(lines)


def tape_calls(path):
    """{name: [results in call order]} of a reality.py tape or a
    model_variants.py record (keys (name, n))."""
    with open(path, "rb") as f:
        d = pickle.load(f)
    if not isinstance(d, dict):
        raise ValueError("not a tape (a pickled dict)")
    if d and all(isinstance(k, tuple) for k in d):
        calls = {}
        for k, v in d.items():
            if len(k) == 2 and isinstance(k[1], int):
                calls.setdefault(k[0], []).append((k[1], v))
        return {k: [v for _, v in sorted(x, key=lambda p: p[0])] for k, x in calls.items()}
    return {k: v for k, v in d.items() if isinstance(v, list)}


def tape_rows(calls):
    """The three rows' runs in a tape: (pingpong 1 ms rates, queue 2-consumer
    rates, blocking C beside 1 spinner / the median alone), first attempt."""
    pp = calls.get("lock_pingpong_beside_cpu") or []
    q = calls.get("queue_consumers") or []
    more = calls.get("queue_consumers_more") or []
    bc = calls.get("c_calls_beside_cpu") or []
    if len(pp) < 3 and len(q) < 3 and len(bc) < 10:
        raise ValueError("no --full run of pingpong-cpu, queue or blocking-c in it (%d, %d "
                         "and %d runs)" % (len(pp), len(q), len(bc)))
    rate_q = [Q_ITEMS / x[0] for x in q[:3]] if len(q) >= 3 else []
    if rate_q and more and more[0]:
        rate_q += [Q_ITEMS / x[0] for x in more[0]]
    alone = statistics.median(bc[:5]) if len(bc) >= 10 else None
    return ([2 * PP_ROUNDS / x for x in pp[:3]] if len(pp) >= 3 else [], rate_q,
            [x / alone for x in bc[5:10]] if alone else [],
            {"attempts": max(len(pp) // 6, len(q) // 6, len(bc) // 15, 1)})


def run_tapes(files):
    pooled = ([], [], [])
    for path in files:
        try:
            rows = tape_rows(tape_calls(path))
        except OSError as e:
            print("row_spread.py: %s: %s" % (path, e.strerror or e), file=sys.stderr)
            return 2
        except (ValueError, EOFError, ImportError, AttributeError, IndexError,
                TypeError, pickle.UnpicklingError) as e:
            print("row_spread.py: %s: not a tape of reality.py's real measurements (%s)"
                  % (path, e), file=sys.stderr)
            return 2
        for acc, xs in zip(pooled, rows[:3]):
            acc.extend(xs)
        print("%s: pingpong-cpu 1 ms %s; queue 2 consumers %s; blocking C beside 1 spinner "
              "/ alone %s%s" % (path, " ".join("%.0f" % x for x in rows[0]) or "-",
                                " ".join("%.0fk" % (x / 1e3) for x in rows[1]) or "-",
                                " ".join("%.2f" % x for x in rows[2]) or "-",
                                "" if rows[3]["attempts"] == 1 else
                                " (%d attempts: the first)" % rows[3]["attempts"]))
    if len(files) > 1:
        labels = [ROWS[0][0], ROWS[1][0], "blocking C beside 1 spinner, against alone"]
        for label, xs in zip(labels, pooled):
            if not xs:
                continue
            lines = summary(label + " (pooled)", [{"value": x, "others": None, "load": 0,
                                                   "vcsw": 0, "ivcsw": 0} for x in xs])
            print("\n".join(x for x in lines if "switches" not in x))
    return 0


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("real", help="run the three rows' real programs in turn")
    r.add_argument("--rounds", type=int, default=20)
    r.add_argument("--json", help="keep every run's figures here")
    r.add_argument("--cs", action="store_true",
                   help="measure the calibration's context switch each round too")
    p = sub.add_parser("report", help="summarise a kept --json file")
    p.add_argument("file")
    t = sub.add_parser("tapes", help="the rows' runs in kept real measurements")
    t.add_argument("files", nargs="+")
    args = ap.parse_args(argv)
    if args.cmd == "tapes":
        return run_tapes(args.files)
    if args.cmd == "real":
        if args.rounds < 1:
            ap.error("--rounds %d: expected at least 1" % args.rounds)
        return run_real(args)
    try:
        with open(args.file) as f:
            out = json.load(f)
        if not isinstance(out, dict) or not isinstance(out.get("rows"), dict):
            raise ValueError("no \"rows\" object: not a row_spread.py --json file")
        print(report(out))
    except (OSError, ValueError) as e:
        print("row_spread.py: %s: %s" % (args.file, e), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
