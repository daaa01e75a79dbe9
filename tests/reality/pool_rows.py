#!/usr/bin/env python3
"""A thread pool's per-worker GIL rows scored by rank, beside replay.py's
rows by name (replay point 32).

A ThreadPoolExecutor's workers are interchangeable: which of them did how
many items, and which drew the long GIL waits, is the machine's doing from
one run to the next (hash_pool on one core: the same hasher waited 0.02 to
16.9 ms in three real runs), and `gilsim fit` deals a pool's items evenly
(sim/fit/pool.c). replay.py scores each worker's held and wait totals by
name, the model's hasher_2 against the real hasher_2, so a worker's row
says which hasher drew the stretched holds as much as how long they were.
This scores the same recordings and fits a second way: in each repetition
the workers' totals are sorted, on both sides, and the largest is compared
with the largest ("hasher#1"), the second with the second, and so on, with
replay.py's floor, medians and bound. Nothing in replay.py's table changes;
this prints both counts and every row by rank.

A pool is two or more threads named PREFIX_N with one PREFIX, as
concurrent.futures names them (pool.c's rule, without the starter, which a
summary does not say).

    python3 tests/reality/pool_rows.py --gilsim BIN --refit DIR [--only NAME,...]
        [--model-set KEY=VALUE ...]        (the records an earlier replay.py --keep kept)
    python3 tests/reality/pool_rows.py --self-test   (ctest)
Exit: 0 done, 1 self-test failed, 2 bad input.
"""
import argparse
import os
import re
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))  # tests/checks.py
sys.dont_write_bytecode = True
import replay as R  # noqa: E402

WORKER = re.compile(r"^(.+)_(\d+)$")


def pools(names):
    """{prefix: [names]} for the prefixes two or more of the names share."""
    out = {}
    for n in names:
        m = WORKER.match(n)
        if m:
            out.setdefault(m.group(1), []).append(n)
    return {p: sorted(v) for p, v in out.items() if len(v) >= 2}


def by_rank(totals, members, prefix):
    """The members' totals as {"PREFIX#k": total}, the largest first."""
    vals = sorted((totals.get(n, 0) for n in members), reverse=True)
    return {"%s#%d" % (prefix, k + 1): v for k, v in enumerate(vals)}


def rows(pairs, key, rank):
    """{row: median ratio} of a pool's workers for one figure (held or
    wait), by name or by rank, over the repetitions' (model, real) figures;
    a row counts where it passed replay.py's floor in most repetitions."""
    per = {}
    for p, m in pairs:
        for prefix, members in pools(list(m[key])).items():
            if rank:
                pv, mv = by_rank(p[key], members, prefix), by_rank(m[key], members, prefix)
            else:
                pv = {n: p[key].get(n, 0) for n in members}
                mv = {n: m[key][n] for n in members}
            ratios, _ = R.thread_ratios(pv, mv, m["makespan"])
            for n, r in ratios.items():
                per.setdefault(n, []).append(r)
    return {n: statistics.median(v) for n, v in per.items() if 2 * len(v) > len(pairs)}


def score(results):
    """Lines: per program and setting, the pool rows within their bound by
    name and by rank, then each row by rank; last the totals."""
    lines, tot = [], {False: [0, 0], True: [0, 0]}
    for name, res in results:
        for s in R.SETTINGS:
            pairs = [(p, m) for p, m in zip(res["model"][s], res["real"][s]) if p]
            if not pairs:
                continue
            counts, detail = {}, []
            for rank in (False, True):
                hit = n = 0
                for key in ("held", "wait"):
                    for row, r in sorted(rows(pairs, key, rank).items()):
                        hit += R.within(r, R.TOL)
                        n += 1
                        if rank:
                            detail.append("    %-10s %-4s %s" % (row, key, R.pct(r)))
                counts[rank] = (hit, n)
                tot[rank][0] += hit
                tot[rank][1] += n
            if counts[False][1] or counts[True][1]:
                lines.append("%s %s: pool rows within by name %d of %d, by rank %d of %d" % (
                    name, s, *counts[False], *counts[True]))
                lines += detail
    lines.append("all: by name %d of %d, by rank %d of %d" % (*tot[False], *tot[True]))
    return lines


def self_test():
    from checks import check, exit_status
    ms = 100e6

    def figs(held, wait):
        return {"makespan": ms, "held": held, "wait": wait}
    # two repetitions; the long wait falls on w_0 then w_1 really, on w_1
    # then w_0 in the model: by name each worker passes the floor (2 ms of
    # 100) in one repetition of two, so no row is scored; by rank the
    # largest is 10 ms against 11 ms twice: one row, within
    real = [figs({"MainThread": 50e6}, {"w_0": 10e6, "w_1": 0.1e6}),
            figs({"MainThread": 50e6}, {"w_0": 0.1e6, "w_1": 10e6})]
    model = [figs({"MainThread": 50e6}, {"w_0": 0.1e6, "w_1": 11e6}),
             figs({"MainThread": 50e6}, {"w_0": 11e6, "w_1": 0.1e6})]
    pairs = list(zip(model, real))
    check(pools(["MainThread", "w_0", "w_1", "x_3", "ThreadPoolExecutor-0_0",
                 "ThreadPoolExecutor-0_1"]) ==
          {"w": ["w_0", "w_1"], "ThreadPoolExecutor-0": ["ThreadPoolExecutor-0_0",
                                                         "ThreadPoolExecutor-0_1"]},
          "pools: two or more PREFIX_N names, a lone x_3 and MainThread left out")
    check(rows(pairs, "wait", False) == {}, "by name: each worker scored in one repetition "
          "of two: no row")
    r = rows(pairs, "wait", True)
    check(list(r) == ["w#1"] and abs(r["w#1"] - 1.1) < 1e-9,
          "by rank: the largest against the largest, 1.1 in both repetitions (%s)" % r)
    check(rows(pairs, "held", True) == {}, "no pool in held: MainThread is no pool")
    res = {"model": {"5ms": model}, "real": {"5ms": real}}
    res["model"].update({s: [] for s in R.SETTINGS if s != "5ms"})
    res["real"].update({s: [] for s in R.SETTINGS if s != "5ms"})
    out = score([("toy", res)])
    check(out[0] == "toy 5ms: pool rows within by name 0 of 0, by rank 1 of 1" and
          out[-1] == "all: by name 0 of 0, by rank 1 of 1", "score's lines (%s)" % out)
    return exit_status()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gilsim")
    ap.add_argument("--refit", metavar="DIR")
    ap.add_argument("--only", default="hash_pool,mixed_pool")
    ap.add_argument("--model-set", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--self-test", action="store_true")
    a = ap.parse_args(argv)
    if a.self_test:
        return self_test()
    if not a.gilsim or not a.refit:
        ap.error("--gilsim and --refit are needed (or --self-test)")
    if not os.path.isdir(a.refit):
        print("pool_rows: %s: not a directory of kept recordings" % a.refit, file=sys.stderr)
        return 2
    bad = [n for n in a.only.split(",") if n not in R.NAMES]
    if bad:
        ap.error("unknown program %s; valid: %s" % (", ".join(bad), ", ".join(R.NAMES)))
    tools = R.Tools(a.gilsim, "/usr/bin/python3", a.refit)
    results = [(n, R.refit(tools, n, R.kept(a.refit, n), list(R.SETTINGS), None, [],
                           a.model_set)) for n in a.only.split(",")]
    print("\n".join(score([(n, r) for n, r in results if r["real"][R.BASE]])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
