#!/usr/bin/env python3
"""Where a replay of a queue program parts from its recording (issue 14,
replay point 18: `producer_consumer`), one GIL hand-off at a time.

Reads a recording (`gilsim record`) and, optionally, model runs of its fit
(`gilsim run FIT --csv RUN.csv`) and prints for each, over the phase in
which the threads other than MainThread ran (their first GIL hold to their
last release; MainThread's start-up and exit are left out, since they are
not the queue's):

  the phase's length, the GIL held in it and the GIL free in it, with the
  free gaps between two holds by size (a hand-off to a thread already on a
  core takes about a microsecond; one to a thread asleep in its GIL wait
  takes a wake-up; a gap of milliseconds is a thread without a core);
  per thread: its blocking waits (a recording's `lock_wait`s, the
  Condition's waiter lock inside Queue.get/put; a model's `wait_queue`s)
  and the GIL waits that follow them (the `ask` within 2 us after a
  `lock_wait`'s end to the `hold`; a model's `wait_gil` after its queue wait
  with only `ready`/`switch` between), p10/p50/p90 and sums;
  the time before the phase (MainThread's start-up) and after it.

and, over the whole run (replay point 19):

  vain re-checks per thread: holds of a thread woken inside a Queue.get or
  put that found nothing to do and waited again in the same call (a
  recording's holds inside the call's span that end before its last
  release; a model's `python` runs of a get/put op, its queue's recheck),
  each a change of GIL holder CPython counts;
  who asks at a release: at each voluntary release of the GIL by a thread
  other than MainThread, how many other threads had asked for it and did
  not hold it yet (0: the next holder asks after the release, when it gets
  a core; 2: the GIL's order picks between two waiters);
  woken threads (replay point 27): of the threads a put or get woke (a
  recording's `lock_post` and the end of the woken thread's `lock_wait` on
  that lock; a model's `wait_queue` that ends), how many ran while their
  waker still held the GIL (on another CPU: they ask and wait for it) and
  how many only after its release (queued behind it on its CPU: they find
  the GIL free).
  With CPUs in the recording (docs/recording.md), per woken thread: how
  often it ran on the CPU its waker posted from, and how often that agrees
  with the timing-based reading of sim/fit/wakeplace.c (--wake-ns, its
  idle wake-up); without them it says they were not recorded.

    python3 tests/reality/queue_handoff.py REC.json [RUN.csv ...]
    python3 tests/reality/queue_handoff.py --self-test

A model run of a fit without a queue `recheck` (before replay point 19)
has zero-length holds for those re-checks, with no interval in the CSV's
GIL lane: their hand-offs show as one gap of two wake-ups."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
from recording import event_cpu, has_cpus, load_recording, model_lanes  # noqa: E402


def quant(v):
    v = sorted(v)
    n = len(v)
    if not n:
        return "n=0"
    return "n=%d p10=%.1f p50=%.1f p90=%.1f us, sum %.1f ms" % (
        n, v[n // 10] / 1e3, v[n // 2] / 1e3, v[9 * n // 10] / 1e3, sum(v) / 1e6)


def recording(path):
    """GIL holds [(start, end, thread)], per thread its lock waits and the
    GIL waits after them, from a recording."""
    d = load_recording(path)
    holds, waits, after = [], {}, {}
    for th in d["threads"]:
        name = th["name"]
        held = ask = lw_end = None
        waits[name], after[name] = [], []
        for e in th["events"]:
            kind = e[1]
            if kind == "hold":
                if ask is not None and lw_end is not None and ask - lw_end < 2000:
                    after[name].append(e[0] - ask)
                held, ask, lw_end = e[0], None, None
            elif kind == "release" and held is not None:
                holds.append((held, e[0], name))
                held = None
            elif kind == "ask":
                ask = e[0]
            elif kind == "lock_wait":
                waits[name].append(e[2] - e[0])
                lw_end = e[2]
        if held is not None:
            holds.append((held, th["events"][-1][0], name))
    holds.sort()
    return holds, waits, after, d.get("duration_ns", holds[-1][1] if holds else 0)


def model(path):
    """The same from `gilsim run --csv` of the fitted scenario."""
    holds, lanes = model_lanes(path, load=True)
    waits, after, end = {}, {}, 0
    for name, iv in lanes.items():
        waits[name] = [e - s for s, e, st, _ in iv if st == "wait_queue"]
        after[name] = []
        for i, (s, e, st, _) in enumerate(iv):
            if not name.startswith("other load"):
                end = max(end, e)  # the fitted load's daemons run on past the program
            if st != "wait_gil":
                continue
            j = i - 1
            while j >= 0 and iv[j][2] in ("ready", "switch"):
                j -= 1
            if j >= 0 and iv[j][2] == "wait_queue":
                after[name].append(e - s)
    end = max([end] + [h[1] for h in holds])
    return holds, waits, after, end


def recording_turns(path, main="MainThread"):
    """({thread: vain re-checks}, {others asking: releases}) of a recording."""
    d = load_recording(path)
    vain, marks = {}, []
    for th in d["threads"]:
        name = th["name"]
        holds, rels, held = [], [], None
        for e in th["events"]:
            if e[1] in ("ask", "hold", "release"):
                marks.append((e[0], {"ask": 0, "release": 1, "hold": 2}[e[1]], name, e[1],
                              e[2] if len(e) > 2 else ""))
            if e[1] == "hold":
                held = e[0]
            elif e[1] == "release":
                rels.append(e[0])
                if held is not None and (len(e) < 3 or e[2] != "forced"):
                    holds.append((held, e[0]))
                held = None
        n = 0
        for e in th["events"]:
            if e[1] == "wait" and len(e) > 3 and e[3] in ("Queue.get", "Queue.put"):
                inside = [r for r in rels if e[0] < r < e[2]]
                if inside:
                    n += sum(1 for a, b in holds if a > e[0] and b <= inside[-1])
        vain[name] = n
    return vain, asking(sorted(marks), main)


def model_turns(path, main="MainThread"):
    """The same from `gilsim run --csv` of the fitted scenario."""
    holds, lanes = model_lanes(path)
    marks = [m for s, e, t in holds for m in ((s, 2, t, "hold", ""), (e, 1, t, "release", ""))]
    vain = {}
    for name, iv in lanes.items():
        # a get/put op runs Python only for its recheck; one preempted in the
        # middle is one re-check (the same op on either side of ready/switch)
        seq = [x for x in iv if x[2] not in ("ready", "switch")]
        vain[name] = sum(1 for k, x in enumerate(seq)
                         if x[2] == "python" and (" get " in x[3] or " put " in x[3])
                         and not (k and seq[k - 1][2] == "python" and seq[k - 1][3] == x[3]))
        last = None
        for s, e, st, _ in iv:
            if st == "wait_gil" and last != s:  # a new GIL wait, not its continuation
                marks.append((s, 0, name, "ask", ""))
            if st == "wait_gil":
                last = e
    return vain, asking(sorted(marks), main)


def recording_woken(path):
    """[(post, run, release)] of a recording: each `lock_post` (a notify
    that woke a thread blocked on its waiter lock), when the woken thread
    ran again (the end of its `lock_wait` on that lock) and when the waker
    next released the GIL."""
    d = load_recording(path)
    waits, out = [], []
    for th in d["threads"]:
        waits += [(e[0], e[2], e[3]) for e in th["events"]
                  if e[1] == "lock_wait" and len(e) > 3]
    for th in d["threads"]:
        rels = sorted(e[0] for e in th["events"] if e[1] == "release")
        for e in th["events"]:
            if e[1] != "lock_post" or len(e) < 3:
                continue
            ends = [b for a, b, o in waits if o == e[2] and a <= e[0] < b]
            rel = [r for r in rels if r >= e[0]]
            if ends and rel:
                out.append((e[0], min(ends), rel[0]))
    return out


def recording_woken_cpus(path, wake_ns=20000):
    """None for a recording without CPUs (made before `gilsim record` wrote
    them); else [(woken thread, same, timing)] per woken thread as in
    recording_woken: same is True when it ran (its `lock_wait`'s end) on
    the CPU its waker posted from, False on another, None when either is
    not known; timing is what sim/fit/wakeplace.c reads off the times with
    an idle wake-up of wake_ns: "beside" (it ran only after the waker's
    release, or sooner than half a wake-up after the post), "away" (the
    idle CPU), None (the waker released within 1.25 wake-ups of the post:
    not counted there)."""
    d = load_recording(path)
    if not has_cpus(d):
        return None
    waits, out = [], []
    for th in d["threads"]:
        waits += [(e[0], e[2], e[3], event_cpu(e), th["name"]) for e in th["events"]
                  if e[1] == "lock_wait" and len(e) > 3]
    for th in d["threads"]:
        rels = sorted(e[0] for e in th["events"] if e[1] == "release")
        for e in th["events"]:
            if e[1] != "lock_post" or len(e) < 3:
                continue
            ends = sorted((b, c, n) for a, b, o, c, n in waits if o == e[2] and a <= e[0] < b)
            rel = [r for r in rels if r >= e[0]]
            if not (ends and rel):
                continue
            run, cpu, name = ends[0]
            waker = event_cpu(e)
            same = None if cpu is None or waker is None else cpu == waker
            timing = (None if rel[0] - e[0] < 1.25 * wake_ns else
                      "beside" if run >= rel[0] or run - e[0] < wake_ns / 2 else "away")
            out.append((name, same, timing))
    return out


def report_woken_cpus(label, rows):
    """Per woken thread, how often it ran on its waker's CPU, and how often
    that agrees with the timing-based reading (wakeplace.c)."""
    if rows is None:
        print("%s: CPUs not recorded (a recording made before gilsim record wrote them): "
              "where woken threads ran is not known" % label)
        return
    for name in sorted({r[0] for r in rows}):
        mine = [r for r in rows if r[0] == name]
        same = sum(1 for r in mine if r[1] is True)
        other = sum(1 for r in mine if r[1] is False)
        agree = sum(1 for r in mine if r[1] is not None and r[2] is not None
                    and r[1] == (r[2] == "beside"))
        counted = sum(1 for r in mine if r[1] is not None and r[2] is not None)
        print("%s: %s woken %d times: on its waker's CPU %d, on another %d, unknown %d; "
              "timing (wakeplace) agrees %d of %d counted" % (
                  label, name, len(mine), same, other, len(mine) - same - other, agree, counted))


def model_woken(path):
    """The same from `gilsim run --csv`: a thread's `wait_queue` that ends
    (its wake-up), the start of its first state after it that is not
    `ready` or `switch` (it runs), and the end of the GIL hold at the
    wake-up (its waker's)."""
    gil, lanes = model_lanes(path)
    out = []
    for iv in lanes.values():
        for k, (s, e, st, _) in enumerate(iv):
            if st != "wait_queue":
                continue
            nxt = [x for x in iv[k + 1:] if x[2] not in ("ready", "switch")]
            held = [h for h in gil if h[0] <= e < h[1]]
            if nxt and held and nxt[0][2] != "wait_queue":
                out.append((e, nxt[0][0], held[0][1]))
    return out


def report_woken(label, woken):
    """How a woken thread met its waker's GIL: ran before the waker let it go
    (it asks, and waits for the GIL) or only after (it finds the GIL free)."""
    early = [run - post for post, run, rel in woken if run < rel]
    late = [run - rel for post, run, rel in woken if run >= rel]
    print("%s: of %d threads woken by a put/get, %d ran before their waker released the GIL "
          "(post to run %s), %d after it (release to run %s)" % (
              label, len(woken), len(early), quant(early), len(late), quant(late)))


def asking(marks, main):
    """{others asking at a voluntary release by a thread not main: count}."""
    waiting, hist = set(), {}
    for _, _, name, kind, why in marks:
        if kind == "ask":
            waiting.add(name)
        elif kind == "hold":
            waiting.discard(name)
        elif name != main and why != "forced":
            k = len(waiting - {name})
            hist[k] = hist.get(k, 0) + 1
    return dict(sorted(hist.items()))


def report_turns(label, vain, hist):
    print("%s: vain re-checks %s; others asking at a release %s" % (
        label, ", ".join("%s %d" % (n, v) for n, v in sorted(vain.items()) if v) or "none",
        ", ".join("%d: %d" % kv for kv in hist.items())))


def figures(holds, waits, after, end, main="MainThread"):
    """The queue phase's figures (ns), or None if only `main` held the GIL."""
    work = [h for h in holds if h[2] != main]
    if not work:
        return None
    s, e = min(h[0] for h in work), max(h[1] for h in work)
    inside = [h for h in holds if h[0] >= s and h[1] <= e]
    gaps = [b[0] - a[1] for a, b in zip(inside, inside[1:]) if b[0] > a[1]]
    bins = []
    for lo, hi in BINS:
        x = [g for g in gaps if g >= lo and (hi is None or g < hi)]
        bins.append((len(x), sum(x)))
    return {
        "phase": e - s, "before": s, "after": max(0, end - e),
        "held": sum(min(h[1], e) - max(h[0], s) for h in holds if h[1] > s and h[0] < e),
        "free": sum(gaps), "bins": bins,
        "threads": {n: (sorted(waits[n]), sorted(after[n])) for n in sorted(waits)
                    if n != main and not n.startswith("other load")},
    }


BINS = ((0, 5e3), (5e3, 15e3), (15e3, 40e3), (40e3, None))


def report(label, holds, waits, after, end, main="MainThread"):
    f = figures(holds, waits, after, end, main)
    if f is None:
        print("%s: no thread but %s held the GIL" % (label, main))
        return
    print("%s: phase %.1f ms (before it %.1f ms, after it %.1f ms), GIL held %.1f ms, free %.1f ms"
          % (label, f["phase"] / 1e6, f["before"] / 1e6, f["after"] / 1e6, f["held"] / 1e6,
             f["free"] / 1e6))
    parts = []
    for (lo, hi), (n, total) in zip(BINS, f["bins"]):
        parts.append("%s us: %d (%.1f ms)" % ("%g-%g" % (lo / 1e3, hi / 1e3) if hi else
                                              ">%g" % (lo / 1e3), n, total / 1e6))
    print("  free gaps between holds: " + ", ".join(parts))
    for name, (w, a) in f["threads"].items():
        print("  %-10s blocking waits %s" % (name, quant(w)))
        print("  %-10s GIL wait after one %s" % ("", quant(a)))


def self_test():
    """queue_handoff_test.py, on recordings and model runs made by hand."""
    import queue_handoff_test
    return queue_handoff_test.main()


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("recording", nargs="?")
    ap.add_argument("runs", nargs="*", help="gilsim run FIT --csv RUN.csv of its fit")
    ap.add_argument("--wake-ns", type=int, default=20000,
                    help="the idle wake-up for the timing reading (the fit's machine.wakeup; "
                         "wakeplace.c's default 20000)")
    ap.add_argument("--self-test", action="store_true",
                    help="check the figures on a hand-written recording and model run")
    a = ap.parse_args(argv)
    if a.self_test:
        return self_test()
    if not a.recording:
        ap.error("a recording is needed (or --self-test)")
    try:
        real = (recording(a.recording), recording_turns(a.recording),
                recording_woken(a.recording), recording_woken_cpus(a.recording, a.wake_ns))
        runs = [(r, model(r), model_turns(r), model_woken(r)) for r in a.runs]
    except (OSError, ValueError, KeyError) as e:
        print("queue_handoff: %s" % e, file=sys.stderr)
        return 2
    report("real " + a.recording, *real[0])
    report_turns("real", *real[1])
    report_woken("real", real[2])
    report_woken_cpus("real", real[3])
    for r, m, turns, woken in runs:
        report("model " + r, *m)
        report_turns("model", *turns)
        report_woken("model", woken)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
