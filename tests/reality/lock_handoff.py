#!/usr/bin/env python3
"""Who hands the GIL to whom in a Lock program (issue 14, replay point 23:
`lock_contention`'s what-ifs), counted the same way on a recording and on
model runs of its fit.

Every change of the GIL's holder (what `gil.switches` counts, on both sides)
is put in one kind, by what the thread that let the GIL go did next and by
what the thread that took it had been waiting for:

  the releaser: `lock` (it blocked on a Lock: a recording's `lock_wait`
  after its release; a model's `get` op, its `wait_queue`), `sleep`
  (time.sleep), `forced` (a forced drop: it still wants the GIL), `exit`,
  `other` (a C call, join, start...);
  the taker: `lock` (its GIL wait began as a Lock wait ended: it was woken
  by a Lock release and holds the Lock), `sleep`, `forced` (it had been
  forced off and wanted the GIL back), `start`, `other`.

It prints the counts of each releaser>taker pair, the switches per second
over the run, and the releases with no switch (the same thread takes the
GIL back: a sleep inside the Lock with nobody else asking); per thread, how
many Lock waits it made.

With --race (a recording only: a model run of a fit has no race, the fit
names the waiter each release wakes) it prints the Lock's race at each
release that had a thread blocked on it (`lock_post`): split into a
thread's first release after a time.sleep it made holding the Lock and the
others, how many a waiter won (another thread's `lock_wait` on the same
Lock ends before the Lock's next release) and, for those, how long after
the release the waiter's wait ended and the releaser let the GIL go (its
next try failed: it blocks on the Lock), p10/p50/p90.

    python3 tests/reality/lock_handoff.py REC.json [RUN.csv ...]
    python3 tests/reality/lock_handoff.py --race REC.json
    gilsim run FIT --set python.switch_interval=20ms --csv RUN.csv --quiet
    python3 tests/reality/lock_handoff.py --self-test
"""
import argparse
import os
import sys
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
from recording import load_recording, model_lanes, pct  # noqa: E402

# how close (ns) a release and the blocking that follows it, or an ask and
# the wait that ended before it, must be to belong together
NEAR = 50000


def recording(path):
    """(holds [(start, end, thread, release kind, taker origin)], lock waits
    {thread: n}, duration) of a recording."""
    d = load_recording(path)
    holds, lockwaits = [], {}
    for th in d["threads"]:
        name = th["name"]
        ev = sorted(th["events"], key=lambda e: e[0])
        # blocking that follows a release: lock waits and sleeps by start
        lw = sorted(e[0] for e in ev if e[1] == "lock_wait")
        lw_end = sorted(e[2] for e in ev if e[1] == "lock_wait")
        sl = [(e[0], e[2]) for e in ev if e[1] == "call" and len(e) > 3 and e[3] == "time.sleep"]
        lockwaits[name] = len(lw)
        held = ask = None
        origin = "start"
        prev_forced = False
        for e in ev:
            k = e[1]
            if k == "ask":
                ask = e[0]
            elif k == "hold":
                held = e[0]
                a = ask if ask is not None else e[0]
                if prev_forced:
                    origin = "forced"
                elif any(a - NEAR <= x <= a for x in lw_end):
                    origin = "lock"
                elif any(s <= a <= y + NEAR for s, y in sl):
                    origin = "sleep"
                elif origin != "start":
                    origin = "other"
                cur_origin = origin
                origin = "other"
            elif k == "release" and held is not None:
                why = e[2] if len(e) > 2 else ""
                t = e[0]
                nxt = [x for x in lw if t <= x <= t + NEAR]
                if why == "forced":
                    kind = "forced"
                elif why == "exit":
                    kind = "exit"
                elif any(s <= t + 1000 and y > t for s, y in sl):
                    kind = "sleep"
                elif nxt and not any(t < h[0] < nxt[0] for h in ev if h[1] == "hold"):
                    kind = "lock"
                else:
                    kind = "other"
                prev_forced = kind == "forced"
                holds.append((held, t, name, kind, cur_origin))
                held, ask = None, None
        if held is not None:
            holds.append((held, ev[-1][0], name, "exit", cur_origin))
    holds.sort()
    return holds, lockwaits, d.get("duration_ns", holds[-1][1] if holds else 0)


def model(path):
    """The same from `gilsim run --csv` of the fitted scenario."""
    gil, lanes = model_lanes(path)
    lockwaits = {n: sum(1 for x in iv if x[2] == "wait_queue") for n, iv in lanes.items()}

    def after(name, t):
        """What the releaser does at t: the first lane state from t on that is
        not Python or a GIL-holding C call."""
        for s, e, st, op in lanes.get(name, ()):
            if e <= t or st in ("python", "c_gil", "switch"):
                continue
            if st in ("ready", "wait_gil"):
                return "forced"
            if " get " in op or st == "wait_queue":
                return "lock"
            if st == "sleep" or " sleep " in op:
                return "sleep"
            if st == "done":
                return "exit"
            return "other"
        return "exit"

    def before(name, t):
        """What the taker waited for before its GIL wait ending at t."""
        iv = [x for x in lanes.get(name, ()) if x[0] < t]
        j = len(iv) - 1
        while j >= 0 and iv[j][2] in ("ready", "switch", "wait_gil"):
            j -= 1
        if j < 0:
            return "start"
        st, op = iv[j][2], iv[j][3]
        if st == "wait_queue":
            return "lock"
        if st == "sleep":
            return "sleep"
        if st in ("python", "c_gil"):
            return "forced"
        return "other"

    holds = [(s, e, n, after(n, e), before(n, s)) for s, e, n in sorted(gil)]
    end = max([h[1] for h in holds] + [x[1] for iv in lanes.values() for x in iv] + [0])
    return holds, lockwaits, end


def race(path):
    """{'after sleep' | 'other': (posts, [waiter's wait end - post],
    [releaser's next GIL release - post])} of a recording; the lists have
    one entry per post a waiter won."""
    d = load_recording(path)
    posts, ends, info = [], [], {}
    for th in d["threads"]:
        name = th["name"]
        ev = sorted(th["events"], key=lambda e: e[0])
        sl = [(e[0], e[2]) for e in ev if e[1] == "call" and len(e) > 3 and e[3] == "time.sleep"]
        holds = [e[0] for e in ev if e[1] == "hold"]
        info[name] = [e[0] for e in ev if e[1] == "release"]
        last = None
        for e in ev:
            if e[1] == "lock_wait":
                ends.append((e[2], e[3] if len(e) > 3 else 0, name))
            elif e[1] == "lock_post":
                h = max((x for x in holds if x <= e[0]), default=None)
                # the hold this post is in began as a sleep ended, and no
                # post of this thread came since
                after = (h is not None and any(s < h <= y + 20000 for s, y in sl)
                         and (last is None or last < h))
                posts.append((e[0], e[2] if len(e) > 2 else 0, name, after))
                last = e[0]
    posts.sort()
    out = {"after sleep": [0, [], []], "other": [0, [], []]}
    for i, (t, obj, name, after) in enumerate(posts):
        nxt = next((p[0] for p in posts[i + 1:] if p[1] == obj), float("inf"))
        won = [w for w, o, n in ends if o == obj and n != name and t <= w < nxt]
        o = out["after sleep" if after else "other"]
        o[0] += 1
        if won:
            o[1].append(min(won) - t)
            rel = [r for r in info[name] if r >= t]
            if rel:
                o[2].append(rel[0] - t)
    return {k: tuple(v) for k, v in out.items()}


def report_race(label, r):
    for k, (n, waiter, releaser) in r.items():
        print("%s: %s: %d releases, %d won by a waiter; its wait ended %s us after the "
              "release, the releaser let the GIL go %s us after it (p10/p50/p90)" % (
                  label, k, n, len(waiter),
                  "/".join("%.1f" % (pct(waiter, q) / 1e3) for q in (.1, .5, .9)),
                  "/".join("%.1f" % (pct(releaser, q) / 1e3) for q in (.1, .5, .9))))


def count(holds, duration):
    """{'pairs': Counter('releaser>taker'), 'switches', 'per_s', 'same':
    Counter(release kind of a release the same thread takes back)}."""
    pairs, same = Counter(), Counter()
    for a, b in zip(holds, holds[1:]):
        if a[2] != b[2]:
            pairs["%s>%s" % (a[3], b[4])] += 1
        else:
            same[a[3]] += 1
    n = sum(pairs.values())
    return {"pairs": pairs, "switches": n, "per_s": n / (duration / 1e9) if duration else 0.0,
            "same": same}


def report(label, holds, lockwaits, duration):
    c = count(holds, duration)
    print("%s: %d switches in %.1f ms (%.0f/s): %s" % (
        label, c["switches"], duration / 1e6, c["per_s"],
        ", ".join("%s %d" % kv for kv in c["pairs"].most_common())))
    print("  taken back by the releaser: %s; Lock waits %s" % (
        ", ".join("%s %d" % kv for kv in c["same"].most_common()) or "none",
        ", ".join("%s %d" % kv for kv in sorted(lockwaits.items()))))


def self_test():
    """lock_handoff_test.py, on recordings and a model run made by hand."""
    import lock_handoff_test
    return lock_handoff_test.main()


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("recording", nargs="?")
    ap.add_argument("runs", nargs="*", help="gilsim run FIT --csv RUN.csv of its fit")
    ap.add_argument("--race", action="store_true",
                    help="the Lock's race at each release of a recording (no runs)")
    ap.add_argument("--self-test", action="store_true",
                    help="check the counts on a hand-written recording and model run")
    a = ap.parse_args(argv)
    if a.self_test:
        return self_test()
    if not a.recording:
        ap.error("a recording is needed (or --self-test)")
    try:
        if a.race:
            report_race("real " + a.recording, race(a.recording))
            return 0
        real = recording(a.recording)
        runs = [(r, model(r)) for r in a.runs]
    except (OSError, ValueError, KeyError) as e:
        print("lock_handoff: %s" % e, file=sys.stderr)
        return 2
    report("real " + a.recording, *real)
    for r, m in runs:
        report("model " + r, *m)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
