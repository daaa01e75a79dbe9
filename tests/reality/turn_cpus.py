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
import csv
import os
import sys
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
from recording import event_cpu, has_cpus, load_recording  # noqa: E402


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
    with open(path, newline="") as f:
        rows = csv.DictReader(f)
        if rows.fieldnames is None or "lane_kind" not in rows.fieldnames:
            raise ValueError("%s: not a gilsim run --csv file (no lane_kind column)" % path)
        for r in rows:
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


def ev(t, kind, *rest):
    return [t, kind, *rest]


# T holds on CPU 0; W then R take the GIL on CPU 1, twice; then R first on CPU 0.
SELF_REC = {"format": "gilsim-recording", "version": 1, "threads": [
    {"name": "T", "events": [ev(0, "hold", 0), ev(1000, "release", "call", 0),
                             ev(5000, "hold", 0), ev(6000, "release", "call", 0),
                             ev(10000, "hold", 0), ev(11000, "release", "call", 0),
                             ev(15000, "hold", 0), ev(16000, "release", "call", 0)]},
    {"name": "W", "events": [ev(1100, "hold", 1), ev(1500, "release", "call", 1),
                             ev(6100, "hold", 1), ev(6500, "release", "call", 1),
                             ev(12000, "hold", 1), ev(12500, "release", "call", 1)]},
    {"name": "R", "events": [ev(1600, "hold", 1), ev(2000, "release", "call", 1),
                             ev(6600, "hold", 1), ev(7000, "release", "call", 1),
                             ev(11100, "hold", 0), ev(11500, "release", "call", 0)]}]}
# The model: R on T's core, W on the other.
SELF_CSV = """lane_kind,lane,process,thread,state,start_ns,end_ns,op
gil,GIL,main,T,gil_held,0,1000,
gil,GIL,main,R,gil_held,1100,1500,
gil,GIL,main,W,gil_held,1600,2000,
gil,GIL,main,T,gil_held,5000,6000,
gil,GIL,main,T,gil_held,6000,6200,
gil,GIL,main,W,gil_held,6300,6500,
gil,GIL,main,R,gil_held,6600,7000,
gil,GIL,main,T,gil_held,8000,9000,
core,core 0,main,T,python,0,1000,
core,core 0,main,R,python,1100,1500,
core,core 1,main,W,python,1600,2000,
core,core 0,main,T,python,5000,6200,
core,core 1,main,W,switch,6250,6300,
core,core 1,main,W,python,6300,6500,
core,core 0,main,R,python,6600,7000,
core,core 0,main,T,python,8000,9000,
"""


def self_test():
    import json
    import tempfile
    fails = []
    with tempfile.TemporaryDirectory() as td:
        rp, cp = os.path.join(td, "r.json"), os.path.join(td, "m.csv")
        with open(rp, "w") as f:
            json.dump(SELF_REC, f)
        with open(cp, "w") as f:
            f.write(SELF_CSV)
        rt = rec_turns(load_recording(rp))
        if patterns(rt, "T") != Counter({"w/ r/": 2, "r= w/": 1}):
            fails.append("recording patterns %r" % patterns(rt, "T"))
        mt = model_turns(cp)
        if [w for _, _, w, _ in mt] != ["T", "R", "W", "T", "W", "R", "T"]:
            fails.append("model turns %r (T's two holds merged)" % mt)
        if patterns(mt, "T") != Counter({"r= w/": 1, "w/ r=": 1}):
            fails.append("model patterns %r" % patterns(mt, "T"))
        txt = "\n".join(analyse(rp, [cp]))
        for want in ("turns from T (3): w/ r/ 2 (67%), r= w/ 1 (33%)",
                     "R on T's CPU 1, on another 2", "W on T's CPU 0, on another 3",
                     "turns from T (2): r= w/ 1 (50%), w/ r= 1 (50%)",
                     "R on T's CPU 2, on another 0"):
            if want not in txt:
                fails.append("report lacks %r:\n%s" % (want, txt))
        nocpu = {"format": "gilsim-recording", "version": 1, "threads": [
            {"name": "T", "events": [[0, "hold"], [10, "release", "call"]]}]}
        with open(rp, "w") as f:
            json.dump(nocpu, f)
        try:
            analyse(rp, [])
            fails.append("a recording without CPUs was not refused")
        except ValueError as e:
            if "has no CPUs" not in str(e):
                fails.append("no CPUs: %s" % e)
    for f in fails:
        print("turn_cpus self-test: " + f)
    print("turn_cpus self-test: %s" % ("FAILED" if fails else "ok"))
    return 1 if fails else 0


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
