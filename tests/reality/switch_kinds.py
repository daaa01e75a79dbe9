#!/usr/bin/env python3
"""The GIL's hand-overs by kind, in a recording and in model runs of its fit
(issue 14: `hash_pool`'s replayed switches/s).

A switch is a change of GIL holder (CPython's `switch_number`, gilsim's
`gil.switches`); a re-take is a hold by the thread that held the GIL last.
Each hand-over is put under what the previous holder's release was:

  forced      a drop request answered (the holder goes on waiting for it)
  C call      C code that releases the GIL (a recording's `call` of category
              c_nogil, e.g. hashlib; the model's c_nogil; a recording's
              unnamed release, which the fit makes a C call, is its own kind)
  unnamed     a recording's release no wrapped call names (the fit's C call)
  wait        a blocking wait: a lock, an Event, a Condition, a Queue, a join
              (a recording's `wait` or `lock_wait`; the model's wait_* but
              wait_gil)
  sleep/io    a sleep or I/O call
  exit        the thread's end

and counted per kind as "to main" / "to a worker" (the next holder), with
how many of those switches went to a thread that had asked for the GIL
before the release ("waiting") and how many to one that asked after it
(the GIL free in between), and the re-takes. With --holds, the number of
holds per thread and their Python (GIL held) time on both sides. With
--wakes, the main thread's blocking waits that another thread's release
ended (a recording's `lock_wait` with the `lock_post` that ended it; the
model's `wait_queue`, `wait_event`, `wait_lock` and `wait_join`) and how
long after that release it held the GIL (median, and how many took over
1 ms): a main thread slow to get back finds more of its futures done and
blocks less, so fewer hand-overs (replay point 25).

    python3 tests/reality/switch_kinds.py REC.json [RUN.csv ...] [--main NAME]
    python3 tests/reality/switch_kinds.py --self-test

RUN.csv is `gilsim run FIT --csv RUN.csv` of the recording's fit (`gilsim
fit REC -o FIT`). The fitted "other load" threads are left out."""
import argparse
import csv
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
from recording import load_recording, model_lanes  # noqa: E402

KINDS = ("forced", "C call", "unnamed", "wait", "sleep/io", "exit", "other")
WAIT_CATS = ("lock", "event", "queue", "join", "condition")


def _span_kind(spans, t):
    """The kind of the recorded call or wait whose span holds time t."""
    best = None
    for s, e, kind in spans:
        if s <= t <= e and (best is None or s > best[0]):
            best = (s, kind)
    return best[1] if best else None


def recording(path):
    """[(start, end, thread, kind)] holds in time order, {thread: [asks]}."""
    d = load_recording(path)
    holds, asks = [], {}
    for th in d["threads"]:
        name, ev = th["name"], th["events"]
        spans, lock_waits = [], []
        for e in ev:
            if e[1] == "call" and len(e) > 4:
                cat = e[4]
                spans.append((e[0], e[2], "C call" if cat == "c_nogil" else
                              "wait" if cat in WAIT_CATS else "sleep/io"))
            elif e[1] == "wait":
                spans.append((e[0], e[2], "wait"))
            elif e[1] == "lock_wait":
                lock_waits.append(e[0])
        asks[name] = sorted(e[0] for e in ev if e[1] == "ask")
        held = None
        for e in ev:
            if e[1] == "hold":
                held = e[0]
            elif e[1] == "release" and held is not None:
                why = e[2] if len(e) > 2 else ""
                if why in ("forced", "exit"):
                    kind = why
                elif why == "unnamed":
                    kind = "unnamed"
                else:
                    kind = _span_kind(spans, e[0])
                    if kind is None:
                        # a lock wait the shim saw begins right after the release
                        kind = "wait" if any(0 <= w - e[0] < 50_000 for w in lock_waits) \
                            else "other"
                holds.append((held, e[0], name, kind))
                held = None
    holds.sort()
    return holds, asks


# a model op of these verbs that releases the GIL is a blocking wait's start
BLOCKING_VERBS = ("get", "put", "acquire", "wait", "join")
MODEL_KIND = {"c_nogil": "C call", "sleep": "sleep/io", "io": "sleep/io",
              "wait_gil": "forced"}


def model(path):
    """The same from `gilsim run --csv` of the fitted scenario."""
    gil, lanes = model_lanes(path)
    holds, asks = [], {}
    for name, iv in lanes.items():
        last, a = None, []
        for s, e, st, _ in iv:
            if st == "wait_gil" and last != s:  # a new GIL wait, not its continuation
                a.append(s)
            if st in ("wait_gil", "ready", "switch"):
                last = e
        asks[name] = a
    for s, e, name in sorted(gil):
        if name.startswith("other load"):
            continue
        after = [x for x in lanes.get(name, []) if x[0] >= e and x[2] not in ("ready", "switch")]
        if not after:
            kind = "exit"
        else:
            st, op = after[0][2], after[0][3]
            kind = MODEL_KIND.get(st, "wait" if st.startswith("wait_") else "other")
            if st == "c_nogil" and any(" %s " % v in op for v in BLOCKING_VERBS):
                kind = "wait"  # a get's or acquire's own step before it blocks
        holds.append((s, e, name, kind))
    return holds, asks


def recording_wakes(path, main="MainThread"):
    """[ns from the release that ended each of main's lock waits to its
    next hold]."""
    d = load_recording(path)
    posts, mine = {}, None
    for th in d["threads"]:
        if th["name"] == main:
            mine = th["events"]
            continue
        for e in th["events"]:
            if e[1] == "lock_post":
                posts.setdefault(e[2], []).append(e[0])
    if mine is None:
        raise ValueError("%s: no thread %s" % (path, main))
    holds = sorted(e[0] for e in mine if e[1] == "hold")
    out = []
    for e in mine:
        if e[1] != "lock_wait":
            continue
        p = [t for t in posts.get(e[3], ()) if e[0] <= t <= e[2]]
        h = [t for t in holds if t >= e[2]]
        if p and h:
            out.append(h[0] - p[-1])
    return out


BLOCKS = ("wait_queue", "wait_event", "wait_lock", "wait_join")


def model_wakes(path, main="MainThread"):
    """The same from `gilsim run --csv`: a blocking wait's end to the next hold."""
    holds, ends = [], []
    with open(path) as f:
        for r in csv.DictReader(f):
            if r["thread"] != main:
                continue
            if r["lane_kind"] == "gil" and r["state"] == "gil_held":
                holds.append(int(r["start_ns"]))
            elif r["lane_kind"] == "thread" and r["state"] in BLOCKS:
                ends.append(int(r["end_ns"]))
    holds.sort()
    out = []
    for t in sorted(ends):
        h = [x for x in holds if x >= t]
        if h:
            out.append(h[0] - t)
    return out


def report_wakes(label, w):
    w = sorted(w)
    print("%s: %d blocking waits ended by another thread, to the GIL after: median %.0f us, "
          "over 1 ms %d" % (label, len(w), w[len(w) // 2] / 1e3 if w else float("nan"),
                            sum(1 for x in w if x > 1_000_000)))


def tally(holds, asks, main="MainThread"):
    """{kind: {"main": n, "worker": n, "waiting": n, "retake": n}}: each hold
    after the first by the kind of the release before it."""
    out = {k: {"main": 0, "worker": 0, "waiting": 0, "retake": 0} for k in KINDS}
    for a, b in zip(holds, holds[1:]):
        row = out[a[3]]
        if a[2] == b[2]:
            row["retake"] += 1
            continue
        row["main" if b[2] == main else "worker"] += 1
        # b asked before a's release: its last ask before its hold
        prior = [t for t in asks.get(b[2], ()) if t <= b[0]]
        if prior and prior[-1] <= a[1]:
            row["waiting"] += 1
    return out


def per_thread(holds):
    out = {}
    for s, e, name, _ in holds:
        n, t = out.get(name, (0, 0))
        out[name] = (n + 1, t + e - s)
    return out


def report(label, holds, asks, main, show_holds):
    t = tally(holds, asks, main)
    total = sum(r["main"] + r["worker"] for r in t.values())
    print("%s: %d switches, %d re-takes" % (label, total, sum(r["retake"] for r in t.values())))
    for k in KINDS:
        r = t[k]
        if r["main"] + r["worker"] + r["retake"]:
            print("  %-9s switches %3d (to %s %d, to a worker %d; to a waiter %d), re-takes %d"
                  % (k, r["main"] + r["worker"], main, r["main"], r["worker"], r["waiting"],
                     r["retake"]))
    if show_holds:
        for name, (n, held) in sorted(per_thread(holds).items()):
            print("  %-12s holds %4d, held %.2f ms" % (name, n, held / 1e6))


def recording_wakes_of(rec):
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        rp = os.path.join(d, "r.rec.json")
        with open(rp, "w") as f:
            json.dump(rec, f)
        return recording_wakes(rp)


def self_test():
    """switch_kinds_test.py, on a recording and model run made by hand."""
    import switch_kinds_test
    return switch_kinds_test.main()


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("recording", nargs="?")
    ap.add_argument("runs", nargs="*", help="gilsim run FIT --csv RUN.csv of its fit")
    ap.add_argument("--main", default="MainThread", help="the thread counted apart")
    ap.add_argument("--holds", action="store_true", help="also holds per thread")
    ap.add_argument("--wakes", action="store_true",
                    help="also the main thread's wake-ups by another thread, to its next hold")
    ap.add_argument("--self-test", action="store_true",
                    help="check the counts on a hand-written recording and model run")
    a = ap.parse_args(argv)
    if a.self_test:
        return self_test()
    if not a.recording:
        ap.error("a recording is needed (or --self-test)")
    try:
        real = recording(a.recording)
        runs = [(r, model(r)) for r in a.runs]
        wakes = [recording_wakes(a.recording, a.main)] + [model_wakes(r, a.main) for r in a.runs] \
            if a.wakes else None
    except (OSError, ValueError, KeyError, IndexError) as e:
        print("switch_kinds: %s" % e, file=sys.stderr)
        return 2
    report("real " + a.recording, *real, a.main, a.holds)
    if wakes:
        report_wakes("  %s" % a.main, wakes[0])
    for k, (r, m) in enumerate(runs):
        report("model " + r, *m, a.main, a.holds)
        if wakes:
            report_wakes("  %s" % a.main, wakes[k + 1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
