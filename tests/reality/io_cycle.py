#!/usr/bin/env python3
"""The I/O thread's cycle in the convoy-many experiment (an I/O thread doing
200 us sleeps beside CPU-bound threads), step by step, from a real recording
(gilsim record, optionally with the kernel's sched events of the same run)
or from a model run's Chrome trace (gilsim run --trace), measured the same
way so the two compare like with like:

  hold      the I/O thread holds the GIL (its `sleep` starts when it lets go)
  sleep     from letting the GIL go to its timer's end (recording: the
            kernel's sched_waking; model: the end of its `sleeping` slice)
  core      from the timer's end to running on a core (recording: the
            kernel's sched_switch to it; model: the end of `ready`)
  ask       from the GIL's release to asking for it again (the whole sleep,
            as the recording sees it without the kernel's events)
  gil       from asking to holding the GIL, with how many holds of other
            threads (forced drops) it waited through
  op        from one hold to the next

Prints the 10th/50th/90th percentiles of each step, and with the kernel's
events: what the two CPUs ran when the timer ended (our threads or other
processes) and whether the woken thread had to wait for a CPU thread's
slice, a wake-up preemption or another process.

    sudo python3 tests/reality/io_cycle.py --record PREFIX [--cpu 4 --interval 0.001 --ops 300]
    python3 tests/reality/io_cycle.py PREFIX.rec.json [--sched PREFIX.sched.txt]
    gilsim run sc.json --trace run.trace.json --quiet
    python3 tests/reality/io_cycle.py run.trace.json
"""
import argparse
import json
import os
import subprocess
import sys

sys.dont_write_bytecode = True
from recording import load_recording, pct  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PROGRAM = os.path.join(HERE, "..", "data", "reality", "convoy_many.py")


def cycles_of_recording(path, io, sched=None):
    """Per I/O op: dict of the step boundaries in ns from the recording's
    start: hold, release, ask, taken (the next hold); with sched also
    waking and oncore."""
    r = load_recording(path)
    th = [t for t in r["threads"] if t["name"].startswith(io)]
    if len(th) != 1:
        raise ValueError("%s: %d threads named %s*; give --io" % (path, len(th), io))
    t = th[0]
    holds = sorted((e[0], t2["name"]) for t2 in r["threads"] for e in t2["events"]
                   if e[1] == "hold")
    ev = sorted((e[0], e[1]) for e in t["events"] if e[1] in ("hold", "release", "ask"))
    kern = load_sched(sched, r, t["tid"]) if sched else None
    out, cur = [], None
    for ts, kind in ev:
        if kind == "hold":
            if cur and "ask" in cur:
                cur["taken"] = ts
                out.append(cur)
            cur = {"hold": ts}
        elif kind == "release" and cur is not None and "release" not in cur:
            cur["release"] = ts
        elif kind == "ask" and cur is not None and "release" in cur:
            cur["ask"] = ts
    for c in out:
        c["others"] = sum(1 for h, n in holds if c["ask"] < h < c["taken"] and n != t["name"])
        if kern:
            w = next((k for k in kern["waking"] if c["release"] <= k < c["ask"]), None)
            if w is not None:
                c["waking"] = w
                c["oncore"] = next((k for k in kern["in"] if k >= w), None)
                c["cpus"] = kern["running_at"](w)
    return out


def load_sched(path, rec, tid):
    """The kernel's view of the I/O thread (tid): its wake-ups (sched_waking)
    and its switches onto a CPU, in ns from the recording's start, and a
    function telling what each CPU ran at a moment ('ours' or 'other')."""
    t0 = rec["t0_monotonic_ns"]
    ours = {th["tid"] for th in rec["threads"]}
    from tracefs import read_sched_events
    waking, oncore, switches = [], [], []
    for t, cpu, kind, f in read_sched_events(path):
        t -= t0
        if kind == "sched_waking" and int(f["pid"]) == tid:
            waking.append(t)
        elif kind == "sched_switch":
            nxt = int(f["next_pid"])
            switches.append((t, cpu, "idle" if nxt == 0 else
                             "ours" if nxt in ours else "other"))
            if nxt == tid:
                oncore.append(t)

    switches.sort()

    def running_at(t):
        state = {}
        for ts, cpu, what in switches:
            if ts > t:
                break
            state[cpu] = what
        return tuple(sorted(state.values()))
    return {"waking": sorted(waking), "in": sorted(oncore), "running_at": running_at}


def cycles_of_trace(path, io):
    """The same from a model run's Chrome trace: sleep start = the GIL's
    release before the `sleeping` slice, waking = that slice's end, oncore =
    the end of the `ready` slice after it (or waking if none), ask = the
    `waiting for the GIL` slice's start, taken = the I/O thread's next GIL
    hold."""
    tr = json.load(open(path))
    ev = tr["traceEvents"] if isinstance(tr, dict) else tr
    names = {e["tid"]: e["args"]["name"] for e in ev
             if e.get("ph") == "M" and e.get("name") == "thread_name"}
    iot = [k for k, n in names.items() if n.startswith(io)]
    if len(iot) != 1:
        raise ValueError("%s: %d threads named %s*; give --io" % (path, len(iot), io))
    iot = iot[0]
    gil = [k for k, n in names.items() if n == "GIL"][0]
    ns = lambda x: int(round(x * 1000))
    holds = sorted((ns(e["ts"]), ns(e["ts"] + e["dur"]), e["name"]) for e in ev
                   if e.get("tid") == gil and e.get("ph") == "X")
    mine = sorted((ns(e["ts"]), ns(e["ts"] + e["dur"]), e["name"]) for e in ev
                  if e.get("tid") == iot and e.get("ph") == "X")
    out = []
    myholds = [h for h in holds if h[2] == names[iot]]
    for i in range(len(myholds) - 1):
        h0, r0, _ = myholds[i]
        h1 = myholds[i + 1][0]
        c = {"hold": h0, "release": r0, "taken": h1}
        sl = next((s for s in mine if s[2] == "sleeping" and r0 - 1000 <= s[0] < h1), None)
        if sl is None:
            continue
        c["waking"] = sl[1]
        rd = next((s for s in mine if s[2].startswith("ready") and s[0] == sl[1]), None)
        c["oncore"] = rd[1] if rd else sl[1]
        ask = next((s for s in mine if s[2] == "waiting for the GIL" and s[0] >= sl[1]), None)
        if ask is None or ask[0] > h1:
            continue
        c["ask"] = ask[0]
        c["others"] = sum(1 for h in holds if c["ask"] < h[0] < h1 and h[2] != names[iot])
        out.append(c)
    return out


def report(cycles, out=sys.stdout):
    if not cycles:
        print("no complete I/O cycles", file=out)
        return
    steps = [("hold (GIL held by the I/O thread)", "hold", "release"),
             ("sleep start -> timer end", "release", "waking"),
             ("timer end -> on a core", "waking", "oncore"),
             ("on a core -> GIL request", "oncore", "ask"),
             ("GIL release -> GIL request", "release", "ask"),
             ("GIL request -> GIL taken", "ask", "taken"),
             ("op (hold -> next hold)", "hold", "taken")]
    print("%d I/O cycles; us: p10 / p50 / p90" % len(cycles), file=out)
    for label, a, b in steps:
        xs = [(c[b] - c[a]) / 1000 for c in cycles if a in c and b in c and c[b] is not None]
        if xs:
            print("  %-36s %8.1f %8.1f %8.1f" % (label, pct(xs, .1), pct(xs, .5), pct(xs, .9)),
                  file=out)
    xs = [c["others"] for c in cycles]
    print("  %-36s %8d %8d %8d" % ("other threads' holds while it waits", pct(xs, .1),
                                   pct(xs, .5), pct(xs, .9)), file=out)
    cp = [c["cpus"] for c in cycles if "cpus" in c]
    if cp:
        from collections import Counter
        print("  CPUs at the timer's end (what each ran):", file=out)
        for k, v in Counter(cp).most_common():
            print("    %-28s %3d of %d" % ("+".join(k), v, len(cp)), file=out)


def record(args):
    sys.path.insert(0, HERE)
    from tracefs import sched_trace
    prog = open(PROGRAM).read()
    with sched_trace("gilsim-convoy", ("sched_switch", "sched_waking"), 40000, prog,
                     args.record) as (put, p):
        put("tracing_on", "1")
        subprocess.run([args.gilsim, "record", "-q", "-o", args.record + ".rec.json", "--",
                        args.python, p, str(args.cpu), str(args.interval), str(args.ops)],
                       check=True)
        put("tracing_on", "0")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("file", nargs="?", help="a recording (.rec.json) or a model --trace JSON")
    ap.add_argument("--sched", help="with a recording: the kernel's events of the same run")
    ap.add_argument("--io", default="io", help="name prefix of the I/O thread (default io)")
    ap.add_argument("--record", metavar="PREFIX",
                    help="record convoy_many.py with the kernel's events (root) and analyse")
    ap.add_argument("--gilsim", default="build/sim/cli/gilsim")
    ap.add_argument("--python", default="python3")
    ap.add_argument("--cpu", type=int, default=4)
    ap.add_argument("--interval", type=float, default=0.001)
    ap.add_argument("--ops", type=int, default=300)
    a = ap.parse_args(argv)
    try:
        if a.record:
            record(a)
            a.file, a.sched = a.record + ".rec.json", a.record + ".sched.txt"
        if not a.file:
            ap.error("give a file or --record PREFIX")
        with open(a.file) as f:
            doc = json.load(f)
        if isinstance(doc, list) or "traceEvents" in doc:
            cyc = cycles_of_trace(a.file, a.io)
        else:
            cyc = cycles_of_recording(a.file, a.io, a.sched)
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as e:
        print("io_cycle: %s" % e, file=sys.stderr)
        return 2
    report(cyc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
