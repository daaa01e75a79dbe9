#!/usr/bin/env python3
"""The GIL's mutex held across a preemption: who holds the GIL meanwhile
(replay point 48; sim/engine/gil.c mutex_taken).

CPython's drop_gil signals the GIL condition holding gil->mutex and unlocks
it right after; take_gil begins by locking it. A dropper preempted between
the two keeps the mutex, and every thread that asks for the GIL sleeps on
it: nobody holds the GIL, free as it is, until the dropper unlocks.

A recording shows it as a `signal` that woke a thread and the `release`
after it: GAP is the time between them. For each gap of at least --min
(default 0.3 ms) this says whether another thread's `hold` lies inside
(never, if the mutex works as CPython's does) and how many `ask`s.

A model run (`gilsim run FIT --csv RUN.csv`) shows it as a GIL hold whose
holder goes `ready` the instant it ends (preempted at its release by the
wake-up its signal made): the window lasts until the dropper has switched
back onto a core. The same two questions, per window of at least --min,
and the windows over 1 ms per run. A CSV does not say which drops were
forced: there, with per-core queues or one CPU, the model lets the woken
waiter take the GIL before the preempted dropper is back (gil.c
forced_signal_first), key or not, so a program with forced drops (the
convoy) shows holds inside its windows either way; a recording's gaps are
counted apart by the release's reason (call, forced, ...).

    python3 tests/reality/mutex_gaps.py REC.json|RUN.csv ... [--min MS]
    python3 tests/reality/mutex_gaps.py --self-test   (ctest)
Exit: 0 done, 1 self-test failed, 2 bad input."""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))  # tests/checks.py
sys.dont_write_bytecode = True
from recording import load_recording, model_rows  # noqa: E402


def rec_gaps(rec):
    """[(gap_ns, holds_inside, asks_inside, reason)] of a recording's
    signalled drops: a signal that woke a thread, then the same thread's
    release (reason: the release's, "call", "forced", ...)."""
    evs = []
    for t in rec.get("threads", []):
        for e in t.get("events", []):
            if len(e) >= 2 and e[1] in ("hold", "ask"):
                evs.append((e[0], t["index"], e[1]))
    out = []
    for t in rec.get("threads", []):
        sig = None
        for e in t.get("events", []):
            if e[1] == "signal":
                sig = e[0] if len(e) > 2 and e[2] != -1 else None
            elif e[1] == "release" and sig is not None:
                inside = [k for at, who, k in evs if sig < at < e[0] and who != t["index"]]
                out.append((e[0] - sig, inside.count("hold"), inside.count("ask"),
                            e[2] if len(e) > 2 else "?"))
                sig = None
    return out


def run_gaps(rows):
    """The same from a model run's CSV rows: windows in which a dropper,
    preempted the instant its hold ended, had no core."""
    lanes, holds = {}, []
    for r in rows:
        s, e = int(r["start_ns"]), int(r["end_ns"])
        if r["lane_kind"] == "thread":
            lanes.setdefault(r["thread"], []).append((s, e, r["state"]))
        elif r["lane_kind"] == "gil" and r["state"] == "gil_held":
            holds.append((s, e, r["thread"]))
    holds.sort()
    out = []
    for _, end, d in holds:
        lane = lanes.get(d, [])
        i = next((k for k, x in enumerate(lane) if x[0] == end and x[2] == "ready"), None)
        if i is None:
            continue
        j = i
        while (j + 1 < len(lane) and lane[j][2] == "ready"
               and lane[j + 1][2] in ("ready", "switch")):
            j += 1
        back = lane[j][1]  # its switch onto a core ends: it unlocks
        n_holds = sum(1 for s, _, who in holds if end < s < back and who != d)
        n_asks = sum(1 for th, ivs in lanes.items() if th != d
                     for s, _, st in ivs if st == "wait_gil" and end < s < back)
        out.append((back - end, n_holds, n_asks, "?"))
    return out


def read(path):
    if path.endswith(".csv"):
        return "model", run_gaps(list(model_rows(path)))
    return "real", rec_gaps(load_recording(path))


def summary(kind, n_files, gaps, min_ns):
    long_ = [g for g in gaps if g[0] >= min_ns]
    with_hold = sum(1 for g in long_ if g[1])
    line = ("%s, %d file(s): %d gaps of %.1f ms or more (%.2f a file over 1 ms), %d with "
            "another thread's hold inside, %d with an ask inside" % (
                kind, n_files, len(long_), min_ns / 1e6,
                sum(1 for g in gaps if g[0] >= 1e6) / n_files if n_files else 0.0,
                with_hold, sum(1 for g in long_ if g[2])))
    reasons = sorted({g[3] for g in long_} - {"?"})
    if reasons:
        line += "; by release: " + ", ".join(
            "%s %d (%d with a hold)" % (r, sum(1 for g in long_ if g[3] == r),
                                        sum(1 for g in long_ if g[3] == r and g[1]))
            for r in reasons)
    return line


def self_test():
    """mutex_gaps_test.py, on a recording and model rows made by hand."""
    import mutex_gaps_test
    return mutex_gaps_test.main()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="*")
    ap.add_argument("--min", type=float, default=0.3, help="ms (default 0.3)")
    ap.add_argument("--self-test", action="store_true")
    a = ap.parse_args(argv)
    if a.self_test:
        return self_test()
    if not a.files:
        ap.error("give recordings or model run CSVs")
    by = {"real": [], "model": []}
    n = {"real": 0, "model": 0}
    for p in a.files:
        try:
            kind, gaps = read(p)
        except (OSError, ValueError) as e:
            print("mutex_gaps: %s" % e, file=sys.stderr)
            return 2
        by[kind] += gaps
        n[kind] += 1
    for kind in ("real", "model"):
        if n[kind]:
            print(summary(kind, n[kind], by[kind], a.min * 1e6))
    return 0


if __name__ == "__main__":
    sys.exit(main())
