#!/usr/bin/env python3
"""One thread's GIL waits by what it was doing, real against replayed
(issue 14: the MainThread rows of the replay table, replay notes 4, 26, 29,
30 and 34).

A thread's GIL wait, counted ask to hold on both sides as the replay table
counts it (`gil_ask_to_hold_ns`), is cut into its waits, and each wait is
put under the Python-level operation it lies in:

  start NAME  Thread.start(NAME): the starter's take-back after the new
              thread's `_started.set()` (a recording's ask inside the
              `Event.wait` whose Event NAME set first; the model's op
              `start NAME`)
  join        Thread.join (either side)
  OP          any other blocking call the ask lies in (`Condition.wait`,
              `Queue.get`, ...; the model's `get`/`put` on a fitted queue
              named after it)
  run         none: the re-takes after C calls and unnamed releases (the
              imports at start-up, the fit's `c_call` ops)

and the per-category totals are printed side by side: the real recording,
and each model run (median over the runs, with the range), so the rows
that carry a difference are named. Model runs are `gilsim run FIT --csv`
files; with --gilsim and --fit the tool runs them itself (--set, --seeds).

    python3 tests/reality/main_waits.py REC.json RUN.csv [RUN2.csv ...]
    python3 tests/reality/main_waits.py REC.json --gilsim BIN --fit FIT.json \
        [--set KEY=VALUE ...] [--seeds 1,2,3] [--thread MainThread] [--each]
    python3 tests/reality/main_waits.py --kept DIR --gilsim BIN [--only NAME,...]
    python3 tests/reality/main_waits.py --self-test

--kept DIR reads the recordings an earlier `replay.py --keep DIR` kept: per
program and setting, the thread's totals by category in every repetition,
real against the run of that repetition's 5 ms fit at the setting (the
fits `replay.py --refit DIR` wrote with the same build, *.refit.json, or
the kept *.fit.json), and the sums over the repetitions.

--each also lists every wait over 50 us on both sides, in time order."""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
from recording import load_recording, model_lanes  # noqa: E402

NAMED = ("Event.wait", "Thread.join")  # the outer call names the category


def recording_waits(rec, thread="MainThread"):
    """[(ask_ns, hold_ns, category)] of one thread of a recording object."""
    first_set, mine = {}, None
    for th in rec["threads"]:
        for e in th["events"]:
            if e[1] == "call" and len(e) > 6 and e[3] == "Event.set":
                first_set.setdefault(e[6], th["name"])
        if th["name"] == thread:
            mine = th
    if mine is None:
        raise ValueError("no thread %r in the recording" % thread)
    ev = sorted(mine["events"], key=lambda e: e[0])
    spans = [(e[0], e[2], e[3], e[5] if len(e) > 5 else None) for e in ev
             if e[1] == "wait" and len(e) > 3]
    out, ask = [], None
    for e in ev:
        if e[1] == "ask":
            ask = e[0]
        elif e[1] == "hold" and ask is not None:
            out.append((ask, e[0], _rec_category(spans, ask, first_set)))
            ask = None
    return out


def _rec_category(spans, t, first_set):
    inside = [s for s in spans if s[0] <= t <= s[1]]
    for s in inside:
        if s[2] == "Event.wait":
            who = first_set.get(s[3])
            return "start " + who if who else "Event.wait"
        if s[2] == "Thread.join":
            return "join"
    if inside:
        return min(inside, key=lambda s: s[1] - s[0])[2]
    return "run"


OP_RE = re.compile(r"program\[[^ ]*\] (\w+)(?: (.*))?$")


def _model_category(op):
    m = OP_RE.search(op or "")
    if not m:
        return "run"
    verb, arg = m.group(1), (m.group(2) or "")
    if verb == "start":
        return "start " + arg
    if verb == "join":
        return "join"
    if verb in ("get", "put", "acquire", "wait"):
        # a fitted queue is named "THREAD OP" (the recorded call) or
        # "lock-N for THREAD"; a declared object keeps its name
        parts = arg.split(" ")
        return parts[-1] if len(parts) == 2 and "." in parts[-1] else verb + " " + arg
    return "run"


def model_waits(path, thread="MainThread"):
    """[(ask_ns, hold_ns, category)] of one thread of a `gilsim run --csv`
    file: each wait_gil and the ready/switch right after it up to the hold
    (ask to hold, the recording's way of counting)."""
    holds, lanes = model_lanes(path)
    if thread not in lanes:
        raise ValueError("%s: no thread %r in the run" % (path, thread))
    out, cur = [], None
    for s, e, state, op in lanes[thread]:
        if state == "wait_gil":
            if cur and cur[1] == s:
                cur = (cur[0], e, cur[2])
            else:
                if cur:
                    out.append(cur)
                cur = (s, e, _model_category(op))
        elif state in ("ready", "switch") and cur and cur[1] == s:
            cur = (cur[0], e, cur[2])
        elif cur:
            out.append(cur)
            cur = None
    if cur:
        out.append(cur)
    return out


def totals(waits):
    t = {}
    for a, h, c in waits:
        t[c] = t.get(c, 0) + (h - a)
    return t


def ms(ns):
    return "%.2f" % (ns / 1e6)


def table(real, runs, out=sys.stdout):
    """real: {cat: ns}; runs: [{cat: ns}] -> the side-by-side lines."""
    cats = sorted(set(real) | {c for r in runs for c in r},
                  key=lambda c: (-real.get(c, 0), c))
    rows = [("category", "real ms", "model ms (median)", "range", "model - real")]
    for c in cats + ["all"]:
        rv = sum(real.values()) if c == "all" else real.get(c, 0)
        mv = [sum(r.values()) if c == "all" else r.get(c, 0) for r in runs]
        med = statistics.median(mv) if mv else 0
        rows.append((c, ms(rv), ms(med), "%s-%s" % (ms(min(mv)), ms(max(mv))) if mv else "-",
                     "%+.2f" % ((med - rv) / 1e6)))
    w = [max(len(r[i]) for r in rows) for i in range(5)]
    for r in rows:
        print("  ".join(x.ljust(w[i]) if i == 0 else x.rjust(w[i]) for i, x in enumerate(r)),
              file=out)


def run_model(gilsim, fit, sets, seed, d):
    csv = os.path.join(d, "run-%s.csv" % seed)
    cmd = [gilsim, "run", fit, "--quiet", "--csv", csv]
    for s in list(sets) + (["seed=%s" % seed] if seed is not None else []):
        cmd += ["--set", s]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if r.returncode not in (0, 2):
        raise RuntimeError("%s: %s" % (" ".join(cmd), r.stderr.strip()[-300:]))
    return csv


def each(label, waits, out=sys.stdout):
    print("%s:" % label, file=out)
    for a, h, c in waits:
        if h - a >= 50000:
            print("  %10.3f ms  %8.3f ms  %s" % (a / 1e6, (h - a) / 1e6, c), file=out)


def kept_report(wd, gilsim, thread, only, seeds, out=sys.stdout):
    import replay  # the kept files' layout and the settings' --set
    names = only.split(",") if only else replay.NAMES
    for name in names:
        for setting, (_, _, sets) in replay.SETTINGS.items():
            real_sum, model_sum, lines = {}, [], []
            for reps in replay.kept(wd, name):
                if setting not in reps or replay.BASE not in reps:
                    continue
                base = reps[replay.BASE]
                fit = base.replace(".rec.json", ".refit.json")
                if not os.path.exists(fit):
                    fit = base.replace(".rec.json", ".fit.json")
                try:
                    real = totals(recording_waits(load_recording(reps[setting]), thread))
                    with tempfile.TemporaryDirectory() as d:
                        runs = [totals(model_waits(run_model(gilsim, fit, sets, s, d), thread))
                                for s in seeds]
                except ValueError:
                    continue
                for c, v in real.items():
                    real_sum[c] = real_sum.get(c, 0) + v
                model_sum.append(runs)
                lines.append("  %s: real %s ms, model %s ms" % (
                    os.path.basename(reps[setting]), ms(sum(real.values())),
                    "/".join(ms(sum(r.values())) for r in runs)))
            if not lines:
                continue
            print("%s %s, %s (summed over %d repetitions):" % (name, setting, thread,
                                                                len(lines)), file=out)
            for ln in lines:
                print(ln, file=out)
            # one model sum per seed, over the repetitions
            per_seed = [{} for _ in seeds]
            for runs in model_sum:
                for i, r in enumerate(runs):
                    for c, v in r.items():
                        per_seed[i][c] = per_seed[i].get(c, 0) + v
            table(real_sum, per_seed, out)


def self_test():
    """main_waits_test.py, on a recording and model run made by hand."""
    import main_waits_test
    return main_waits_test.main()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("recording", nargs="?")
    ap.add_argument("runs", nargs="*", help="gilsim run FIT --csv RUN.csv of its fit")
    ap.add_argument("--thread", default="MainThread")
    ap.add_argument("--gilsim", help="run the fit itself (with --fit)")
    ap.add_argument("--fit", help="the fitted scenario to run (with --gilsim)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--seeds", default="", help="comma-separated seeds (default: the fit's)")
    ap.add_argument("--each", action="store_true", help="also every wait over 50 us")
    ap.add_argument("--kept", metavar="DIR", help="every program an earlier replay.py --keep "
                    "DIR kept (with --gilsim)")
    ap.add_argument("--only", help="with --kept: these programs (replay.py's names)")
    ap.add_argument("--self-test", action="store_true")
    a = ap.parse_args(argv)
    if a.self_test:
        return self_test()
    if a.kept:
        if not a.gilsim:
            ap.error("--kept needs --gilsim")
        kept_report(a.kept, a.gilsim, a.thread, a.only,
                    [s for s in a.seeds.split(",") if s] or [None])
        return 0
    if not a.recording or not (a.runs or (a.gilsim and a.fit)):
        ap.error("give a recording and run CSVs, or --gilsim BIN --fit FIT")
    try:
        real = recording_waits(load_recording(a.recording), a.thread)
        with tempfile.TemporaryDirectory() as d:
            paths = list(a.runs)
            if a.gilsim and a.fit:
                seeds = [s for s in a.seeds.split(",") if s] or [None]
                paths += [run_model(a.gilsim, a.fit, a.set, s, d) for s in seeds]
            runs = [model_waits(p, a.thread) for p in paths]
    except (OSError, ValueError, RuntimeError, KeyError, IndexError) as e:
        print("main_waits: %s" % e, file=sys.stderr)
        return 1
    print("%s's GIL waits (ask to hold) by operation, %s against %d model run(s):"
          % (a.thread, os.path.basename(a.recording), len(runs)))
    table(totals(real), [totals(r) for r in runs])
    if a.each:
        each("real", real)
        for i, r in enumerate(runs):
            each("model run %d" % (i + 1), r)
    return 0


if __name__ == "__main__":
    sys.exit(main())
