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
    """A hand-written recording and model run of one main thread and two
    workers: each kind counted as the docstring says, checked by hand."""
    import tempfile
    rec = {"format": "gilsim-recording", "duration_ns": 100000, "threads": [
        # main: holds, waits on a lock (worker A takes the GIL, it had asked
        # at 5 us: a waiter), holds again at 40 us after asking at 39 us
        {"name": "MainThread", "events": [
            [0, "hold"], [10000, "release", "call"], [10010, "lock_wait", 38000, 7],
            [39000, "ask"], [40000, "hold"], [45000, "release", "exit"]]},
        # A: asked at 5 us; a hashlib call releases at 20 us (B, asking at
        # 25 us, after it, holds); A asks at 29 us and holds at 30 us after
        # B's C call; an unnamed release at 32 us and A holds again at 33 us
        # (a re-take); forced at 36 us (B asked at 35.5 us: a waiter)
        {"name": "A", "events": [
            [5000, "ask"], [10500, "hold"], [20000, "release", "call"],
            [29000, "ask"], [30000, "hold"], [32000, "release", "unnamed"],
            [32500, "ask"], [33000, "hold"], [36000, "release", "forced"],
            [19000, "call", 29000, "hashlib.sha256", "c_nogil", True, 0],
            [50000, "ask"], [51000, "hold"], [52000, "release", "exit"]]},
        {"name": "B", "events": [
            [25000, "ask"], [25000, "hold"], [27000, "release", "call"],
            [26500, "call", 35000, "hashlib.sha256", "c_nogil", True, 0],
            [35500, "ask"], [36000, "hold"], [37000, "release", "call"],
            [36500, "wait", 60000, "Queue.get", "queue", 1]]}]}
    csv_text = ("lane_kind,lane,process,thread,state,start_ns,end_ns,op\n"
                "gil,GIL,main,MainThread,gil_held,0,10000,\n"
                "gil,GIL,main,A,gil_held,10000,20000,\n"
                "gil,GIL,main,A,gil_held,21000,22000,\n"
                "gil,GIL,main,B,gil_held,30000,31000,\n"
                "gil,GIL,main,MainThread,gil_held,40000,45000,\n"
                "gil,GIL,other load,other load,gil_held,46000,47000,\n"
                "thread,MainThread,main,MainThread,c_nogil,10000,11000,m: program[1] get q\n"
                "thread,MainThread,main,MainThread,wait_queue,11000,38000,m: program[1] get q\n"
                "thread,MainThread,main,MainThread,wait_gil,38000,40000,m\n"
                "thread,A,main,A,wait_gil,5000,10000,a\n"
                "thread,A,main,A,c_nogil,20000,20500,a\n"
                "thread,A,main,A,wait_gil,20500,21000,a\n"
                "thread,A,main,A,ready,22000,23000,a\n"
                "thread,A,main,A,wait_event,23000,50000,a\n"
                "thread,B,main,B,wait_gil,28000,29000,b\n"
                "thread,B,main,B,ready,29000,29500,b\n"
                "thread,B,main,B,wait_gil,29500,30000,b\n"
                "thread,B,main,B,c_nogil,31000,33000,b: program[0] c_call 2ms\n"
                "thread,other load,other load,other load,c_nogil,0,90000,\n")
    fails = []

    def check(what, got, want):
        if got != want:
            fails.append("%s: got %r, want %r" % (what, got, want))
    with tempfile.TemporaryDirectory() as d:
        rp, cp = os.path.join(d, "r.rec.json"), os.path.join(d, "m.csv")
        with open(rp, "w") as f:
            json.dump(rec, f)
        with open(cp, "w") as f:
            f.write(csv_text)
        r, m = tally(*recording(rp)), tally(*model(cp))
        mh = model(cp)[0]
    z = {"main": 0, "worker": 0, "waiting": 0, "retake": 0}
    # real: main (a lock wait) -> A (a waiter); A (C call) -> B (asked
    # after); B (C call) -> A (asked after); A (unnamed) -> A (a re-take);
    # A (forced) -> B (a waiter); B (Queue.get) -> main (asked after);
    # main (exit) -> A (asked after)
    check("real C call", r["C call"], dict(z, worker=2))
    check("real wait", r["wait"], dict(z, main=1, worker=1, waiting=1))
    check("real unnamed", r["unnamed"], dict(z, retake=1))
    check("real forced", r["forced"], dict(z, worker=1, waiting=1))
    check("real exit", r["exit"], dict(z, worker=1))
    # model: main (wait) -> A (asked at 5 us: a waiter); A (C call) -> A (a
    # re-take); A (a wait, after ready) -> B (asked at 28 us, after A's
    # release at 22 us); B (C call) -> main; main's last hold: no hand-over
    check("model wait", m["wait"], dict(z, worker=2, waiting=1))
    check("model C call", m["C call"], dict(z, main=1, retake=1))
    check("model exit", m["exit"], z)
    check("model holds", len(mh), 5)
    # main's lock wait 10.01-38 us has no lock_post: not counted; one with a
    # post at 37 us (by A) to main's hold at 40 us is 3 us
    check("real wakes none", recording_wakes_of(rec), [])
    rec["threads"][1]["events"].append([37000, "lock_post", 7])
    check("real wakes", recording_wakes_of(rec), [3000])
    with tempfile.TemporaryDirectory() as d:
        cp = os.path.join(d, "m.csv")
        with open(cp, "w") as f:
            f.write(csv_text)
        check("model wakes", model_wakes(cp), [2000])
    for f in fails:
        print("switch_kinds self-test: " + f)
    print("switch_kinds self-test: %s" % ("FAILED" if fails else "ok"))
    return 1 if fails else 0


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
