#!/usr/bin/env python3
"""The two races of every Thread.start (issue 14: io_two_cpu's start modes),
read the same way off a recording (gilsim record) and off a model run's
trace (gilsim run --trace), so the two can be compared like with like.

Thread.start creates the OS thread holding the GIL, then waits on the new
thread's `_started` Event: the starter drops the GIL there (its drop), the
new thread must take the GIL to set the Event, and the starter, woken by
the set, must take it back. Two races decide what the start costs:

  drop    who takes the GIL the starter dropped: the new thread (`new`),
          or a thread already waiting for it (`old`: a CPU-bound thread the
          starter took it from), which keeps it for a switch interval while
          the new thread waits;
  first   who takes the GIL when the new thread first lets it go (its
          first hold: the set, then its own Python up to its first
          release, `voluntary` or `forced`): the starter (`starter`), or
          another waiter (`other`), after which the starter waits again.

Per start it prints the two winners, the new thread's first hold and how
it ended, when the starter asked against that release, and the starter's
time in start() (its drop to its next hold); then the counts of each mode,
per starter's thread pair (e.g. MainThread>io). Across several files the
counts are summed, so N model seeds read like N real runs.

    python3 tests/reality/start_race.py REC.json [REC2.json ...]
    gilsim run FIT --seed 3 --trace RUN.trace.json --quiet
    python3 tests/reality/start_race.py RUN.trace.json [...]
    python3 tests/reality/start_race.py --only io --quiet FILES...
    python3 tests/reality/start_race.py --self-test

With --kernel (root; a tracefs instance of its own) it records PROGRAM with
`gilsim record` while the kernel's sched_wakeup_new, sched_waking,
sched_wakeup and sched_switch are traced on the same clock, and says per
start where the kernel put the new thread (its CPU and when it first ran,
against the starter's drop) and the waiter the starter's drop signalled
(its previous CPU, the CPU it woke on, when it ran): whether the two were
queued on one CPU is what the drop race turns on. --analyse PREFIX reads
such a run's kept files again.

    sudo python3 tests/reality/start_race.py --kernel --out PREFIX \
        -- examples/convoy.py 40 1
    python3 tests/reality/start_race.py --analyse PREFIX
"""
import argparse
import json
import os
import sys
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
from recording import load_recording  # noqa: E402


class Run:
    """What the two races need, from either side: holds [(start, end,
    thread, forced)] in time order, each thread's asks (times a GIL wait
    began), each started thread's start time and its starter."""

    def __init__(self):
        self.holds, self.asks, self.starts, self.starter = [], {}, {}, {}


def from_recording(path):
    return from_recording_obj(load_recording(path))


def from_recording_obj(d):
    run = Run()
    waits = {}  # Event.wait object -> (thread, begin)
    first_set = {}
    for th in d["threads"]:
        name = th["name"]
        hold = None
        for e in sorted(th["events"], key=lambda e: e[0]):
            k = e[1]
            if k == "start":
                run.starts[name] = e[0]
            elif k == "ask":
                run.asks.setdefault(name, []).append(e[0])
            elif k == "hold":
                hold = e[0]
            elif k == "release" and hold is not None:
                run.holds.append((hold, e[0], name, len(e) > 2 and e[2] == "forced"))
                hold = None
            elif k == "wait" and len(e) > 5 and e[3] == "Event.wait":
                waits.setdefault(e[5], (name, e[0]))
            elif k == "call" and len(e) > 6 and e[3] == "Event.set":
                first_set.setdefault(name, e[6])
    run.holds.sort()
    for name, t0 in run.starts.items():
        w = waits.get(first_set.get(name))
        run.starter[name] = w[0] if w else last_holder(run.holds, t0)
    return run


def from_trace(path):
    with open(path) as f:
        try:
            tr = json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError("%s: not a gilsim recording or trace (not JSON: %s)" % (path, e))
    ev = tr.get("traceEvents") if isinstance(tr, dict) else tr
    if not isinstance(ev, list) or not all(isinstance(e, dict) for e in ev):
        raise ValueError("%s: neither a gilsim recording nor a gilsim run --trace file" % path)
    names = {(e["pid"], e["tid"]): e["args"]["name"] for e in ev
             if e.get("ph") == "M" and e.get("name") == "thread_name"}
    threads = {n for n in names.values() if n != "GIL" and not n.startswith("core ")}
    run = Run()
    first, forced = {}, set()
    for e in ev:
        who = names.get((e.get("pid"), e.get("tid")))
        if who is None or "ts" not in e:
            continue
        t = int(round(e["ts"] * 1000))
        if e.get("ph") == "X" and who == "GIL" and e.get("name") in threads:
            run.holds.append((t, t + int(round(e.get("dur", 0) * 1000)), e["name"], False))
        elif who in threads and e.get("ph") == "X":
            first[who] = min(first.get(who, t), t)
            if e.get("name") == "waiting for the GIL":
                run.asks.setdefault(who, []).append(t)
        elif e.get("ph") == "i" and e.get("args", {}).get("kind") == "forced_switch":
            forced.add((who, t))
    if not run.holds:
        raise ValueError("%s: no GIL holds in this trace (is it gilsim run --trace output?)"
                         % path)
    run.holds.sort()
    run.holds = [(s, e, n, (n, e) in forced) for s, e, n, _ in run.holds]
    # a thread the trace shows before any GIL hold of another thread is the
    # program's first; every other one was started by the last holder
    t_first = run.holds[0][0]
    for name, t in first.items():
        if t > t_first:
            run.starts[name] = t
            run.starter[name] = last_holder(run.holds, t)
    return run


def last_holder(holds, t):
    """The thread whose hold began last at or before t (the one that made
    the new thread runnable, holding the GIL for the creation)."""
    best = None
    for s, _, n, _ in holds:
        if s > t:
            break
        best = n
    return best


def races(run):
    """One row per started thread whose start both races can be read for."""
    rows = []
    for name, t0 in sorted(run.starts.items(), key=lambda x: x[1]):
        st = run.starter.get(name)
        if st is None or st == name:
            continue
        # the starter's drop: the end of its last hold that began by the start
        drop = None
        for s, e, n, _ in run.holds:
            if s > t0:
                break
            if n == st:
                drop = e
        mine = [h for h in run.holds if h[2] == name and h[0] >= (drop or t0)]
        if drop is None or not mine:
            continue
        after = [h for h in run.holds if h[0] >= drop]
        taker1 = after[0][2]
        h1 = mine[0]
        nxt = [h for h in run.holds if h[0] >= h1[1] and h[2] != name]
        back = [h for h in run.holds if h[0] >= drop and h[2] == st]
        asked = [a for a in run.asks.get(st, []) if a >= h1[0]]
        rows.append({
            "thread": name, "starter": st, "start": t0, "drop": drop,
            "drop_winner": "new" if taker1 == name else "starter" if taker1 == st else "old",
            "drop_taker": taker1, "new_wait": h1[0] - drop,
            "first_hold": h1[1] - h1[0], "first_end": "forced" if h1[3] else "voluntary",
            "first_winner": ("starter" if nxt and nxt[0][2] == st else "other"),
            "first_taker": nxt[0][2] if nxt else None,
            "starter_ask": asked[0] - h1[1] if asked else None,
            "in_start": back[0][0] - drop if back else None,
        })
    return rows


def read(path):
    with open(path) as f:
        head = f.read(4096)
    return from_recording(path) if "gilsim-recording" in head else from_trace(path)


def us(ns):
    return "-" if ns is None else "%.1f" % (ns / 1000)


def report(paths, only=None, quiet=False, out=sys.stdout):
    modes, total = Counter(), Counter()
    for p in paths:
        for r in races(read(p)):
            if only and r["thread"] not in only:
                continue
            pair = "%s>%s" % (r["starter"], r["thread"])
            key = (pair, r["drop_winner"], r["first_end"], r["first_winner"])
            modes[key] += 1
            total[pair] += 1
            if not quiet:
                print("%s %-22s drop->%-10s (%s) new waited %s us, first hold %s us %-9s "
                      "starter asked %s us vs its end, then %-10s; in start() %s us"
                      % (os.path.basename(p), pair, r["drop_taker"], r["drop_winner"],
                         us(r["new_wait"]), us(r["first_hold"]), r["first_end"],
                         us(r["starter_ask"]), r["first_taker"], us(r["in_start"])), file=out)
    print("start  drop race  first hold ends  then taken by  count", file=out)
    for (pair, dw, fe, fw), n in sorted(modes.items()):
        print("%-22s %-6s %-10s %-8s %d of %d" % (pair, dw, fe, fw, n, total[pair]), file=out)
    return modes


KEVENTS = ("sched_switch", "sched_waking", "sched_wakeup", "sched_wakeup_new")


def kernel_rows(rec, kev):
    """Per start of recording rec (its races() rows), with the kernel's
    events kev (tracefs.read_sched_events, monotonic ns): where the new
    thread and the waiter the starter's drop signalled were put. Times are
    us after the starter's drop; None where the trace has no such event."""
    run = from_recording_obj(rec)
    t0 = rec.get("t0_monotonic_ns")
    if t0 is None:
        raise ValueError("the recording has no t0_monotonic_ns: not one to set beside a "
                         "kernel trace")
    tid = {t["name"]: t["tid"] for t in rec["threads"]}
    names = [t["name"] for t in rec["threads"]]
    out = []

    def first(pred, after):
        return next((x for x in kev if x[0] >= after and pred(x)), None)

    def rel(x):
        return None if x is None else (x[0] - drop) / 1e3

    for r in races(run):
        drop = t0 + r["drop"]
        st_tid, new_tid = str(tid[r["starter"]]), str(tid[r["thread"]])
        sig = [e for e in next(t for t in rec["threads"] if t["name"] == r["starter"])["events"]
               if e[1] == "signal" and e[0] <= r["drop"]]
        old = names[sig[-1][2]] if sig and sig[-1][2] is not None and sig[-1][2] >= 0 else None
        on_st = [x for x in kev if x[0] <= drop and x[2] == "sched_switch"
                 and x[3].get("next_pid") == st_tid]
        row = {"start": r, "starter_cpu": on_st[-1][1] if on_st else None, "old": old}
        wn = first(lambda x: x[2] == "sched_wakeup_new" and x[3].get("pid") == new_tid,
                   drop - 5_000_000)
        row["new_cpu"] = int(wn[3]["target_cpu"]) if wn else None
        row["new_placed"] = rel(wn)
        on = first(lambda x: x[2] == "sched_switch" and x[3].get("next_pid") == new_tid,
                   wn[0] if wn else drop)
        row["new_ran"], row["new_ran_cpu"] = rel(on), on[1] if on else None
        if old is not None:
            o = str(tid[old])
            wk = first(lambda x: x[2] == "sched_waking" and x[3].get("pid") == o, drop - 50_000)
            wu = first(lambda x: x[2] == "sched_wakeup" and x[3].get("pid") == o,
                       wk[0] if wk else drop)
            oon = first(lambda x: x[2] == "sched_switch" and x[3].get("next_pid") == o,
                        wk[0] if wk else drop)
            row["old_prev"] = int(wk[3]["target_cpu"]) if wk else None
            row["old_cpu"] = int(wu[3]["target_cpu"]) if wu else None
            row["old_woken"], row["old_ran"] = rel(wk), rel(oon)
        out.append(row)
    return out


def kernel_report(prefix, out=sys.stdout):
    from tracefs import read_sched_events
    rec = load_recording(prefix + ".rec.json")
    kev = sorted(read_sched_events(prefix + ".sched.txt"), key=lambda x: x[0])
    rows = kernel_rows(rec, kev)
    for k in rows:
        r = k["start"]
        print("%s>%s: starter on CPU %s; drop -> %s (%s). new thread placed on CPU %s at %s us, "
              "ran on %s at %s us; signalled waiter %s: previous CPU %s, woken on %s at %s us, "
              "ran at %s us" % (
                  r["starter"], r["thread"], k["starter_cpu"], r["drop_taker"], r["drop_winner"],
                  k["new_cpu"], fmt(k["new_placed"]), k["new_ran_cpu"], fmt(k["new_ran"]),
                  k["old"], k.get("old_prev"), k.get("old_cpu"), fmt(k.get("old_woken")),
                  fmt(k.get("old_ran"))), file=out)
    return rows


def fmt(v):
    return "-" if v is None else "%.1f" % v


def trace_run(args):
    import subprocess
    import tempfile
    from tracefs import TRACEFS, sched_trace
    if not os.access(os.path.join(TRACEFS, "instances"), os.W_OK):
        print("start_race: --kernel needs a writable %s/instances (root)" % TRACEFS,
              file=sys.stderr)
        return 2
    prefix = args.out or os.path.join(tempfile.mkdtemp(prefix="start-race-"), "run")
    with sched_trace("gilsim-start-race", KEVENTS, 20000, "", prefix) as (put, _prog):
        put("tracing_on", "1")
        subprocess.run([args.gilsim, "record", "-q", "-o", prefix + ".rec.json"]
                       + (["--switch-interval", args.switch_interval]
                          if args.switch_interval else [])
                       + ["--", args.python] + args.files, check=True)
        put("tracing_on", "0")
    with open(prefix + ".load", "w") as f:
        f.write(open("/proc/loadavg").read())
    print("files: %s.rec.json, %s.sched.txt" % (prefix, prefix))
    kernel_report(prefix)
    return 0


def self_test():
    """start_race_test.py, on recordings and a model trace made by hand."""
    import start_race_test
    return start_race_test.main()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="*")
    ap.add_argument("--only", help="started threads to count, comma-separated")
    ap.add_argument("--quiet", action="store_true", help="the counts only")
    ap.add_argument("--self-test", action="store_true")
    ap.add_argument("--kernel", action="store_true", help="record the program (FILES: a "
                    "script and its arguments) beside a kernel trace (root)")
    ap.add_argument("--analyse", metavar="PREFIX", help="an earlier --kernel run's files")
    ap.add_argument("--out", help="with --kernel: the prefix of the files kept")
    ap.add_argument("--gilsim", default="build/sim/cli/gilsim")
    ap.add_argument("--python", default="/usr/bin/python3")
    ap.add_argument("--switch-interval", help="with --kernel: gilsim record's, e.g. 20ms")
    a = ap.parse_args(argv)
    if a.self_test:
        return self_test()
    if a.kernel:
        return trace_run(a)
    if a.analyse:
        try:
            kernel_report(a.analyse)
        except (OSError, ValueError) as e:
            print("start_race: %s" % e, file=sys.stderr)
            return 2
        return 0
    if not a.files:
        ap.error("give recordings or model traces (or --self-test)")
    try:
        report(a.files, set(a.only.split(",")) if a.only else None, a.quiet)
    except (OSError, ValueError) as e:
        print("start_race: %s" % e, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
