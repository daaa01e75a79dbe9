#!/usr/bin/env python3
"""On which CPU each GIL turn ran, relative to one thread's (issue 14,
replay point 46: `pipeline`'s reader beside its transformer in the model,
beside its writer for real).

For a recording with CPUs (`gilsim record` writes each event's CPU,
docs/recording.md) and model runs of its fit (`gilsim run FIT --csv
RUN.csv`: the core lanes), it prints, on each side:

  the turn patterns from the --from thread (default: the thread that held
  the GIL longest): after each of its turns (consecutive holds of one
  thread merged), the next two holders by initial (MainThread `M`) and
  whether each took the GIL on the --from thread's CPU (`=`) or another
  (`/`): `w/ r/` is the writer, then the reader, each on another CPU than
  the transformer's. A recording's CPU of a turn is its `hold` event's; a
  model's, the core its holder was on at the hold's start (or, for a hold
  that began as it arrived, the core it ran on next);
  each thread's asks for the GIL after which it held it on the --from
  thread's CPU or on another.

    python3 tests/reality/turn_cpus.py REC.json [RUN.csv ...] [--from THREAD]
    python3 tests/reality/turn_cpus.py --self-test

A recording without CPUs is refused with a message (recordings made
before `gilsim record` wrote them)."""
import argparse
import bisect
import os
import sys
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
from recording import event_cpu, has_cpus, load_recording, model_rows  # noqa: E402


def initial(name):
    return name[0]


def rec_turns(d):
    """A recording's GIL turns [(start, end, thread, cpu)], consecutive holds
    of one thread merged (the first hold's CPU)."""
    holds = []
    for th in d["threads"]:
        held = None
        for e in th["events"]:
            if e[1] == "hold":
                held = (e[0], event_cpu(e))
            elif e[1] == "release" and held is not None:
                holds.append((held[0], e[0], th["name"], held[1]))
                held = None
    return merge(sorted(holds))


def merge(holds):
    out = []
    for h in holds:
        if out and out[-1][2] == h[2]:
            out[-1] = (out[-1][0], h[1], h[2], out[-1][3])
        else:
            out.append(h)
    return out


def model_turns(path):
    """A `gilsim run --csv` file's GIL turns [(start, end, thread, core)]."""
    holds, cores = [], {}
    for r in model_rows(path):
        s, e = int(r["start_ns"]), int(r["end_ns"])
        if r["lane_kind"] == "gil" and r["state"] == "gil_held":
            holds.append((s, e, r["thread"]))
        elif r["lane_kind"] == "core":
            cores.setdefault(r["thread"], []).append((s, e, r["lane"]))
    for v in cores.values():
        v.sort()

    def core_at(who, t):
        v = cores.get(who, [])
        i = bisect.bisect_right(v, (t, float("inf"), "")) - 1
        if i >= 0 and v[i][0] <= t < v[i][1]:
            return v[i][2]
        return v[i + 1][2] if i + 1 < len(v) else None

    return merge([(s, e, w, core_at(w, s)) for s, e, w in sorted(holds)])


def longest(turns):
    held = Counter()
    for s, e, w, _ in turns:
        held[w] += e - s
    return held.most_common(1)[0][0] if held else None


def patterns(turns, first):
    """After each turn of `first`, the next two holders and whether each
    ran on first's CPU (=) or another (/)."""
    pat = Counter()
    for i, (_, _, w, c) in enumerate(turns[:-2]):
        if w != first or c is None:
            continue
        nxt = turns[i + 1:i + 3]
        pat[" ".join("%s%s" % (initial(x[2]).lower(), "=" if x[3] == c else "/")
                     for x in nxt)] += 1
    return pat


def per_thread(turns, first):
    """Per thread: its turns on first's CPU (at first's last turn) or another."""
    out, at = {}, None
    for _, _, w, c in turns:
        if w == first:
            at = c
            continue
        if at is None or c is None:
            continue
        same, other = out.get(w, (0, 0))
        out[w] = (same + (c == at), other + (c != at))
    return out


def report(label, turns, first):
    pat = patterns(turns, first)
    n = sum(pat.values())
    lines = ["%s: turns from %s (%d): %s" % (
        label, first, n, ", ".join("%s %d (%.0f%%)" % (k, v, 100.0 * v / n)
                                   for k, v in pat.most_common(6)) if n else "none")]
    for w, (same, other) in sorted(per_thread(turns, first).items()):
        lines.append("%s:   %s on %s's CPU %d, on another %d" % (label, w, first, same, other))
    return lines


def analyse(rec, runs, first=None):
    d = load_recording(rec)
    if not has_cpus(d):
        raise ValueError("%s: the recording has no CPUs (made before gilsim record wrote "
                         "them): nothing to read" % rec)
    rt = rec_turns(d)
    first = first or longest(rt)
    out = report("real " + rec, rt, first)
    for p in runs:
        out += report("model " + p, model_turns(p), first)
    return out


def self_test():
    """turn_cpus_test.py, on a recording and model run made by hand."""
    import turn_cpus_test
    return turn_cpus_test.main()


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("recording", nargs="?")
    ap.add_argument("runs", nargs="*", help="gilsim run FIT --csv RUN.csv of its fit")
    ap.add_argument("--from", dest="first",
                    help="the thread the turns are read from (default: the longest holder)")
    ap.add_argument("--self-test", action="store_true")
    a = ap.parse_args(argv)
    if a.self_test:
        return self_test()
    if not a.recording:
        ap.error("a recording is needed (or --self-test)")
    try:
        print("\n".join(analyse(a.recording, a.runs, a.first)))
    except (OSError, ValueError) as e:
        print("turn_cpus: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
