#!/usr/bin/env python3
"""bench_fit.py - gilsim fit and replay against the real programs (issue 14).

    bench_fit.py --gilsim G --examples DIR [--python PY] [--reps N] [--quick]
                 [--only EXAMPLE.py,...] [--parts big,ratio] [--write-docs SOURCE_DIR]

big     a 10 s, 16-thread recording (the program of bench_record.py): the
        time `gilsim fit` takes on it (target: under 2 s), the size of the
        scenario with and without --exact.
ratio   each example program run for real (unrecorded) and its fitted
        scenario simulated (`gilsim run FIT --quiet`, a whole process),
        interleaved, N times each, and one run of a 50-run sweep of it (the
        sweep's time over 50): the medians and their ratios, real over
        simulated (target: at least 50x, so 50 what-ifs cost less than one
        real run); `gilsim replay REC --quiet` (load, fit, simulate) too.
        The real run is the whole process, as the simulations are; the sweep
        ratio of each interleaved pair is given too, and the program alone,
        timed inside the interpreter (one more run of it, interleaved:
        runpy runs the file as __main__ between two perf_counter reads, so
        the interpreter's start-up and exit are not counted), with its
        ratio to the sweep's run, median and pair by pair.
With --write-docs the tables replace the "fit" block of docs/performance.md.
Exits 0, 77 when the interpreter cannot be recorded."""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_record import BIG, replace_section  # noqa: E402  (one program for both)

EXAMPLES = [("convoy.py", []), ("io_two_cpu.py", []), ("two_cpu.py", []), ("hash_pool.py", []),
            ("producer_consumer.py", []), ("lock_contention.py", []), ("c_call_ticker.py", [])]


# 50 what-ifs: five switch intervals, ten seeds each
SWEEP = "python.switch_interval=1ms,2ms,3ms,4ms,5ms"
# the program alone: the file run as __main__ between two clock reads inside
# the interpreter (after its start-up, before its exit); prints the seconds
ALONE = ("import os, runpy, sys, time\n"
         "sys.argv = sys.argv[1:]\n"
         "sys.path[0] = os.path.dirname(os.path.abspath(sys.argv[0]))  # as python3 FILE\n"
         "t0 = time.perf_counter()\n"
         "runpy.run_path(sys.argv[0], run_name='__main__')\n"
         "sys.stderr.write('gilsim-bench-alone %.9f\\n' % (time.perf_counter() - t0))\n")


def timed_inside(a, path, args):
    r = subprocess.run([a.python, "-c", ALONE, path] + args, check=True, capture_output=True,
                       text=True)
    m = re.search(r"gilsim-bench-alone ([0-9.]+)", r.stderr)
    if not m:
        raise SystemExit(f"bench_fit: {path} printed no time: {r.stderr[-300:]}")
    return float(m.group(1))


def timed(cmd, **kw):
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)
    return time.perf_counter() - t


def fmt_s(x):
    if x < 0.01:
        return f"{x * 1000:.1f} ms"
    return f"{x * 1000:.0f} ms" if x < 1 else f"{x:.2f} s"


def spread(xs):
    return f"{fmt_s(min(xs))}-{fmt_s(max(xs))}"


def record(a, script, args, out):
    r = subprocess.run([a.gilsim, "record", "-q", "-o", out, "--python", a.python, script] + args,
                       capture_output=True, text=True, timeout=900)
    if r.returncode in (125, 126, 127):
        print(f"cannot record with {a.python}: {r.stderr.strip()[:300]}")
        sys.exit(77)
    return out


def big(a, tmp):
    p = os.path.join(tmp, "big.py")
    with open(p, "w") as f:
        f.write(BIG)
    rec = record(a, p, [], os.path.join(tmp, "big.rec.json"))
    j = json.load(open(rec))
    fit, exact = os.path.join(tmp, "big.fit.json"), os.path.join(tmp, "big.exact.json")
    ts = [timed([a.gilsim, "fit", rec, "-o", fit]) for _ in range(a.reps)]
    # --exact keeps every op: a long, busy recording can come out over a
    # scenario's 4 MiB, which gilsim fit refuses with exit 1 (and writes
    # nothing): the row says so rather than the bench failing.
    te, refused = [], 0
    for _ in range(a.reps):
        t = time.perf_counter()
        r = subprocess.run([a.gilsim, "fit", rec, "--exact", "-o", exact],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if r.returncode == 1 and "limit" in r.stderr:
            refused += 1
        else:
            if r.returncode != 0:
                raise SystemExit(f"gilsim fit --exact failed: {r.stderr.strip()[:300]}")
            te.append(time.perf_counter() - t)
    lines = sum(1 for _ in open(fit))
    if refused:
        print(f"big: gilsim fit --exact refused {refused} of {a.reps} (over a scenario's limits)")
    if te:
        exact_cells = (f"{fmt_s(statistics.median(te))} ({spread(te)}) | "
                       f"{sum(1 for _ in open(exact))} lines")
    else:
        exact_cells = "refused: over a scenario's 4 MiB | -"
    row = (f"| {len(j['threads'])} threads, {j['duration_ns'] / 1e9:.1f} s, "
           f"{j['events_recorded']} events, {os.path.getsize(rec) / 2**20:.1f} MiB | "
           f"{fmt_s(statistics.median(ts))} ({spread(ts)}) | {lines} lines | {exact_cells} |")
    print("big:", row, flush=True)
    return ["| recording | `gilsim fit` (median, range) | scenario | `gilsim fit --exact` | "
            "scenario |", "|---|---|---|---|---|", row]


def ratio(a, tmp):
    rows = []
    for script, args in EXAMPLES:
        if a.only and script not in a.only.split(","):
            continue
        path = os.path.join(a.examples, script)
        rec = record(a, path, args, os.path.join(tmp, script + ".rec.json"))
        fit = os.path.join(tmp, script + ".fit.json")
        subprocess.run([a.gilsim, "fit", rec, "-o", fit], check=True)
        real, sim, swp, rep, alone, pair, apair = [], [], [], [], [], [], []
        csv = os.path.join(tmp, "sweep.csv")
        for _ in range(a.reps):  # interleaved: the same load for all
            real.append(timed([a.python, path] + args))
            alone.append(timed_inside(a, path, args))
            sim.append(timed([a.gilsim, "run", fit, "--quiet"]))
            swp.append(timed([a.gilsim, "sweep", fit, "--set", SWEEP, "--repeat", "10",
                              "--jobs", "1", "--out", csv]) / 50)
            rep.append(timed([a.gilsim, "replay", rec, "--quiet"]))
            pair.append(real[-1] / swp[-1])
            apair.append(alone[-1] / swp[-1])
        med = statistics.median
        row = (f"| `{script}` | {fmt_s(med(real))} ({spread(real)}) | "
               f"{fmt_s(med(sim))} ({spread(sim)}) | **{med(real) / med(sim):.0f}x** | "
               f"{fmt_s(med(swp))} ({spread(swp)}) | **{med(real) / med(swp):.0f}x** | "
               f"{fmt_s(med(rep))} ({spread(rep)}) | {med(pair):.0f}x ({min(pair):.0f}x-"
               f"{max(pair):.0f}x) | {fmt_s(med(alone))} ({spread(alone)}): "
               f"**{med(alone) / med(swp):.0f}x**, pair by pair {med(apair):.0f}x "
               f"({min(apair):.0f}x-{max(apair):.0f}x) |")
        print("ratio:", row, flush=True)
        rows.append(row)
    return ["| program | real run (median, range) | its fitted scenario simulated, one "
            "process (`gilsim run FIT --quiet`) | ratio | one run of a 50-run sweep (`gilsim "
            "sweep FIT --set python.switch_interval=1ms,2ms,3ms,4ms,5ms --repeat 10 --jobs 1`, "
            "divided by 50) | ratio | `gilsim replay REC "
            "--quiet` (load, fit, simulate) | sweep ratio of each interleaved pair: median "
            "(range) | the program alone (timed inside the interpreter): median (range), its "
            "ratio to the sweep's run |", "|---|---|---|---|---|---|---|---|---|"] + rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gilsim", required=True)
    ap.add_argument("--examples", required=True)
    ap.add_argument("--python", default="/usr/bin/python3")
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--write-docs")
    ap.add_argument("--parts", default="big,ratio")
    ap.add_argument("--only", help="the examples to measure, e.g. producer_consumer.py (all)")
    a = ap.parse_args()
    if not os.access(a.python, os.X_OK):
        print(f"{a.python} not found: skipped")
        return 77
    if a.quick:
        a.reps = 3
    parts = a.parts.split(",")
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="gilsim-bench-fit-") as tmp:
        rt = ratio(a, tmp) if "ratio" in parts else []
        bg = big(a, tmp) if "big" in parts and not a.quick else []
    load = (load0 + os.getloadavg()[0]) / 2
    ver = subprocess.run([a.python, "-V"], capture_output=True, text=True).stdout.strip()
    note = (f"Measured by `bench/bench_fit.py` with {ver} ({a.python}), {a.reps} runs each, "
            f"on the 2-vCPU project machine shared with other work (load average about "
            f"{load:.1f} while it ran).")
    print(note)
    if a.write_docs:
        replace_section(os.path.join(a.write_docs, "docs/performance.md"), "fit",
                        bg + [""] + rt + ["", note], "### Measured")
    return 0


if __name__ == "__main__":
    sys.exit(main())
