#!/usr/bin/env python3
"""ctest reality_row_spread: row_spread.py's reading of real runs (modes,
the page's median-of-3 draws, rank correlation, the rows out of a tape in
both formats, a bad tape's one-line error). No real timing."""

import os
import pickle
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True

import programs as P  # noqa: E402
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


def main():
    had_more = hasattr(P, "queue_consumers_more")
    old_more = getattr(P, "queue_consumers_more", None)
    try:
        test_modes()
        test_tapes()
    finally:
        if had_more:
            P.queue_consumers_more = old_more
    print("%d failed" % len(FAILS) if FAILS else "row_spread: all checks passed")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
