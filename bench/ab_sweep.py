#!/usr/bin/env python3
"""ab_sweep.py - two gilsim builds' sweeps of one scenario, interleaved.

    ab_sweep.py --a GILSIM_A --b GILSIM_B --fit SCENARIO.json [--pairs N] [--repeat R]

Runs `gilsim sweep SCENARIO --set python.switch_interval=1ms,2ms,3ms,4ms,5ms
--repeat R --jobs 1` with A and B alternately (A B, then B A, ...), N pairs,
and prints each build's wall and CPU time (user + system of the process) per
simulated run, medians and ranges, and B over A pair by pair. Pairs taken in
the same minute share the machine's load, so their ratio is the figure to
read on a shared machine (docs/performance.md). Exits 0."""
import argparse
import os
import resource
import statistics
import subprocess
import time

SWEEP = "python.switch_interval=1ms,2ms,3ms,4ms,5ms"


def one(gilsim, fit, repeat, out):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run([gilsim, "sweep", fit, "--set", SWEEP, "--repeat", str(repeat), "--jobs", "1",
                    "--out", out], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--a", required=True)
    ap.add_argument("--b", required=True)
    ap.add_argument("--fit", required=True)
    ap.add_argument("--pairs", type=int, default=15)
    ap.add_argument("--repeat", type=int, default=40)
    ap.add_argument("--out", default="/tmp/gilsim-ab-sweep.csv")
    a = ap.parse_args()
    runs = 5 * a.repeat
    res = {"A": ([], []), "B": ([], [])}
    load0 = os.getloadavg()[0]
    for i in range(a.pairs):
        for k in (("A", "B") if i % 2 == 0 else ("B", "A")):
            w, c = one(a.a if k == "A" else a.b, a.fit, a.repeat, a.out)
            res[k][0].append(w / runs * 1e3)
            res[k][1].append(c / runs * 1e3)
    med = statistics.median
    for k in ("A", "B"):
        w, c = res[k]
        print(f"{k}: wall per run {med(w):.3f} ms ({min(w):.3f}-{max(w):.3f}), "
              f"CPU per run {med(c):.3f} ms ({min(c):.3f}-{max(c):.3f})")
    pw = [b / x for x, b in zip(res["A"][0], res["B"][0])]
    pc = [b / x for x, b in zip(res["A"][1], res["B"][1])]
    print(f"B/A pair by pair, {a.pairs} pairs of {runs}-run sweeps: wall {med(pw):.3f} "
          f"({min(pw):.3f}-{max(pw):.3f}), CPU {med(pc):.3f} ({min(pc):.3f}-{max(pc):.3f}); "
          f"load average {load0:.1f} -> {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
