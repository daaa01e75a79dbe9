#!/usr/bin/env python3
"""One thread's GIL waits, by what came before each and who held the GIL
meanwhile, and the order in which the threads take turns at the GIL, on a
recording and on model runs of its fit (issue 14, replay point 33:
`pipeline`'s writer).

For the named thread it prints, on each side:

  its GIL waits (ask to hold, as the replay table scores them) by what the
  thread did just before it asked: `queue` (a blocking wait woken by
  another thread: a recording's `lock_wait` that ended within 5 us before
  the ask; a model's `get`/`put` op), a C call off the GIL (a recording's
  innermost call around the ask, as kind:name; a model's `c_call` op),
  I/O, a sleep, or `other`; n, sum, p50 and p90, and the waits longer than
  --long (default 300 us: a whole turn of another thread lost), their count
  and sum;
  the same waits by the other threads that held the GIL during them, in
  order (`transformer,reader`: the writer asked while the transformer
  held the GIL and the reader took it next);
  the turn order: the sequence of GIL holders (consecutive holds of one
  thread merged, each thread by its initial, MainThread `M`), and how often
  each 4-turn pattern starting at the --from thread (default: the thread
  that held the GIL longest) occurs.

    python3 tests/reality/turn_order.py THREAD REC.json [RUN.csv ...]
    gilsim run FIT --csv RUN.csv --quiet
    python3 tests/reality/turn_order.py --self-test
"""
import argparse
import os
import sys
from collections import Counter, defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
from recording import load_recording, model_lanes, pct  # noqa: E402

QUEUE_NEAR = 5000  # ns: a lock wait that ended this close before an ask woke it


def rec_holds(d):
    """A recording's GIL holds [(start, end, thread)], sorted."""
    holds = []
    for th in d["threads"]:
        held = None
        for e in th["events"]:
            if e[1] == "hold":
                held = e[0]
            elif e[1] == "release" and held is not None:
                holds.append((held, e[0], th["name"]))
                held = None
    return sorted(holds)


def rec_waits(d, who):
    """A recording's GIL waits of thread who: [(ask, ask to hold, cause)]."""
    th = next((t for t in d["threads"] if t["name"] == who), None)
    if th is None:
        raise ValueError("no thread %r in the recording (threads: %s)"
                         % (who, ", ".join(t["name"] for t in d["threads"])))
    asks, lock_ends, calls, ask = [], [], [], None
    for e in th["events"]:
        if e[1] == "ask":
            ask = e[0]
        elif e[1] == "hold" and ask is not None:
            asks.append((ask, e[0] - ask))
            ask = None
        elif e[1] == "lock_wait":
            lock_ends.append(e[2])
        elif e[1] == "call":
            calls.append((e[0], e[2], "%s:%s" % (e[4], e[3])))
    out = []
    for a, w in asks:
        if any(0 <= a - end < QUEUE_NEAR for end in lock_ends):
            cause = "queue"
        else:
            around = [c for c in calls if c[0] <= a <= c[1]]
            cause = min(around, key=lambda c: c[1] - c[0])[2] if around else "other"
        out.append((a, w, cause))
    return out


def model_cause(op):
    if " get " in op or " put " in op:
        return "queue"
    for word in ("c_call", "sleep", "io"):
        if " %s " % word in op:
            return word
    return "other"


def model_waits(lanes, who):
    """A model run's GIL waits of thread who: a `wait_gil` and the `ready`
    and `switch` after it until the thread runs (its ask to hold)."""
    if who not in lanes:
        raise ValueError("no thread %r in the run (threads: %s)" % (who, ", ".join(sorted(lanes))))
    iv, out, i = lanes[who], [], 0
    while i < len(iv):
        s, _, state, op = iv[i]
        if state != "wait_gil":
            i += 1
            continue
        j = i
        while j + 1 < len(iv) and iv[j + 1][2] in ("wait_gil", "ready", "switch"):
            j += 1
        out.append((s, iv[j][1] - s, model_cause(op)))
        i = j + 1
    return out


def holders_during(holds, who, a, w):
    return tuple(n for s, e, n in holds if e > a and s < a + w and n != who)


def initial(name):
    return "M" if name == "MainThread" else name[:1].upper()


def turns(holds):
    seq = []
    for _, _, n in holds:
        if not seq or seq[-1] != n:
            seq.append(n)
    return seq


def report(label, holds, waits, who, long_ns, first):
    lines = []
    tot = sum(w for _, w, _ in waits)
    lines.append("%s: %s's GIL waits n=%d, %.2f ms in all, over %.0f us: %d (%.2f ms)" % (
        label, who, len(waits), tot / 1e6, long_ns / 1e3,
        sum(1 for _, w, _ in waits if w > long_ns),
        sum(w for _, w, _ in waits if w > long_ns) / 1e6))
    by_cause, by_holders = defaultdict(list), defaultdict(list)
    for a, w, c in waits:
        by_cause[c].append(w)
        hs = holders_during(holds, who, a, w)
        by_holders[(c, ",".join(hs[:3]) + (",..." if len(hs) > 3 else "") or "-")].append(w)
    lines.append("  after:")
    for c, v in sorted(by_cause.items(), key=lambda x: -sum(x[1])):
        lines.append("    %-24s n=%4d sum %7.2f ms p50 %8.1f us p90 %8.1f us, over: %d (%.2f ms)" % (
            c, len(v), sum(v) / 1e6, pct(v, 0.5) / 1e3, pct(v, 0.9) / 1e3,
            sum(1 for x in v if x > long_ns), sum(x for x in v if x > long_ns) / 1e6))
    lines.append("  held by others meanwhile:")
    for (c, h), v in sorted(by_holders.items(), key=lambda x: -sum(x[1]))[:10]:
        lines.append("    %-48s n=%4d sum %7.2f ms" % ("%s: %s" % (c, h), len(v), sum(v) / 1e6))
    seq = turns(holds)
    if first is None:
        held = Counter()
        for s, e, n in holds:
            held[n] += e - s
        first = held.most_common(1)[0][0] if held else None
    grams = Counter("".join(initial(n) for n in seq[i:i + 4])
                    for i in range(len(seq) - 3) if seq[i] == first)
    n = sum(grams.values())
    lines.append("  turns from %s (%d): %s" % (first, n, ", ".join(
        "%s %d (%.0f%%)" % (g, k, 100.0 * k / n) for g, k in grams.most_common(6))))
    return lines


def analyse(who, rec, runs, long_ns=300000, first=None):
    d = load_recording(rec)
    out = report("real " + rec, rec_holds(d), rec_waits(d, who), who, long_ns, first)
    for r in runs:
        holds, lanes = model_lanes(r)
        out += report("model " + r, holds, model_waits(lanes, who), who, long_ns, first)
    return out


def self_test():
    """turn_order_test.py, on a recording and model run made by hand."""
    import turn_order_test
    return turn_order_test.main()


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("thread", nargs="?")
    ap.add_argument("recording", nargs="?")
    ap.add_argument("runs", nargs="*", help="gilsim run FIT --csv RUN.csv of its fit")
    ap.add_argument("--long", type=float, default=300.0,
                    help="a wait over this many us counts as a lost turn (default 300)")
    ap.add_argument("--from", dest="first",
                    help="the thread the turn patterns start at (default: the longest holder)")
    ap.add_argument("--self-test", action="store_true")
    a = ap.parse_args(argv)
    if a.self_test:
        return self_test()
    if not a.recording:
        ap.error("a thread and a recording are needed (or --self-test)")
    try:
        print("\n".join(analyse(a.thread, a.recording, a.runs, int(a.long * 1000), a.first)))
    except (OSError, ValueError) as e:
        print("turn_order: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
