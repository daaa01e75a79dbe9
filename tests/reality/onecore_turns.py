#!/usr/bin/env python3
"""The turns of CPU-bound threads confined to one CPU, per forced GIL switch,
from a real recording with the kernel's sched events of the same run, or
from a model run's Chrome trace, measured the same way:

  sleep   the waiter's timed wait: from going to sleep to its timer's wake
          (kernel: its switch out, then sched_waking; model: the
          `waiting for the GIL` slice's start, then `GIL wait timed out`)
  core    from that wake to running (does it preempt the holder at once, or
          wait for a tick?)
  req     from running to setting the drop request
  drop    from the request to the holder's release
  take    from the release to the waiter's hold
  back    from the hold to the dropper running again (the new holder's turn)
  ask     from the hold to the dropper asking for the GIL again

and, per switch, whether the dropper was back before the first tick after
the switch (A), by the second (B) or later (x): on one CPU EEVDF has two
regimes for two CPU-bound threads (tests/check_onecore.c, replay_notes.md
point 21). With the kernel's events it also says how long other tasks ran
on the CPU during each switch's turn: their picks move a run between the
regimes.

    sudo python3 tests/reality/onecore_turns.py --record PREFIX [--seconds 2] [--own-group]
    python3 tests/reality/onecore_turns.py PREFIX            (PREFIX.rec.json + .sched.txt)
    gilsim run fit.json --set cpus=0 --trace t.json --quiet
    python3 tests/reality/onecore_turns.py t.json [--tick 4ms]
    python3 tests/reality/onecore_turns.py --self-test      (ctest)

--record runs examples/two_cpu.py under `taskset -c 0` (gilsim record) with
sched_switch, sched_waking and the hrtimer expiries traced on every CPU;
--own-group puts it in a session of its own at autogroup nice -20, which
keeps other sessions' programs mostly off CPU 0 (the scheduling between the
program's own threads is that of one group's queue, as before).
"""
import argparse
import bisect
import collections
import json
import os
import subprocess
import sys

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from recording import load_recording, pct  # noqa: E402

STEPS = ("sleep", "core", "req", "drop", "take", "back", "ask")
KTHREADS = ("kworker", "ksoftirqd", "rcu", "migration", "cpuhp", "swapper", "idle_inject")


def regime(back_ns, tick_ns=4000000):
    return "A" if back_ns < tick_ns else "B" if back_ns < 2 * tick_ns else "x"


def _after(lst, t, kind=None):
    return next((x for x in lst if x[0] >= t and (kind is None or x[1] == kind)), None)


def _before(lst, t, kind=None):
    r = None
    for x in lst:
        if x[0] > t:
            break
        if kind is None or x[1] == kind:
            r = x
    return r


def load_real(prefix, cpu=0):
    """(threads, kernel): the recording's cpu* threads' GIL events by tid,
    and the kernel's switches and wakes of those tids on `cpu`, the other
    tasks that ran there ([start, end, comm]) and the CPU's ticks, in ns
    from the recording's start."""
    from tracefs import read_sched_events
    rec = load_recording(prefix + ".rec.json")
    t0 = rec["t0_monotonic_ns"]
    names = {t["tid"]: t["name"] for t in rec["threads"] if t["name"].startswith("cpu")}
    if len(names) < 2:
        raise ValueError("%s.rec.json: wants two or more threads named cpu*" % prefix)
    ev = {tid: sorted((e[0], e[1]) for t in rec["threads"] if t["tid"] == tid
                      for e in t["events"]) for tid in names}
    rel = {tid: sorted(e[0] for t in rec["threads"] if t["tid"] == tid for e in t["events"]
                       if e[1] == "release" and len(e) > 2 and e[2] == "forced")
           for tid in names}
    sw, wk, ticks, others = (collections.defaultdict(list), collections.defaultdict(list),
                             [], [])
    ours = {t["tid"] for t in rec["threads"]}
    run, n = None, 0
    for t, c, kind, f in read_sched_events(prefix + ".sched.txt"):
        t -= t0
        n += 1
        if kind == "sched_switch" and c == cpu:
            a, b = int(f["prev_pid"]), int(f["next_pid"])
            if a in names:
                sw[a].append((t, "out"))
            if b in names:
                sw[b].append((t, "in"))
            if run is not None:
                run[1] = t
            run = None
            if b not in ours and b != 0:
                run = [t, None, f.get("next_comm", "")]
                others.append(run)
        elif kind == "sched_waking" and int(f["pid"]) in names:
            wk[int(f["pid"])].append((t, "waking"))
        elif kind == "hrtimer_expire_entry" and c == cpu and "tick" in f.get("function", ""):
            ticks.append(t)
    if not n:
        raise ValueError("%s.sched.txt: no sched events" % prefix)
    return rec, names, ev, rel, sw, wk, ticks, [o for o in others if o[1] is not None]


def turns_real(prefix, cpu=0):
    rec, names, ev, rel, sw, wk, ticks, others = load_real(prefix, cpu)
    holds = sorted((e[0], tid) for tid in names for e in ev[tid] if e[1] == "hold")
    rows = []
    for i in range(1, len(holds)):
        th, w = holds[i]
        hp, h = holds[i - 1]
        if w == h:
            continue
        r = [x for x in rel[h] if hp <= x <= th]
        req = _before(ev[w], th, "drop_request")
        wake = _before(wk[w], req[0]) if req else None
        if not r or not req or req[0] < hp or not wake:
            continue
        sleep = _before(sw[w], wake[0], "out")
        run = _after(sw[w], wake[0], "in")
        back = _after(sw[h], th, "in")
        ask = _after(ev[h], th, "ask")
        if not (sleep and run and back and ask):
            continue
        hi = back[0]
        ran = sum(min(e, hi) - max(s, th) for s, e, c in others
                  if e > th and s < hi and not c.startswith(KTHREADS))
        tk = bisect.bisect_right(ticks, th) - 1
        rows.append({"hold": th, "sleep": wake[0] - sleep[0], "core": run[0] - wake[0],
                     "req": req[0] - run[0], "drop": r[-1] - req[0], "take": th - r[-1],
                     "back": back[0] - th, "ask": ask[0] - th, "others_ns": ran,
                     "tick_phase": th - ticks[tk] if tk >= 0 else None})
    return rec["duration_ns"], rows


def turns_model(path, tick_ns=4000000):
    """The same steps from `gilsim run --trace`: the model's ticks are at
    multiples of the tick from the run's start."""
    tr = json.load(open(path))
    ev = tr["traceEvents"] if isinstance(tr, dict) else tr
    names = {e["tid"]: e["args"]["name"] for e in ev
             if e.get("ph") == "M" and e.get("name") == "thread_name"}
    gil = [k for k, n in names.items() if n == "GIL"]
    if not gil:
        raise ValueError("%s: no GIL lane: not a gilsim --trace file" % path)

    def ns(x):
        return int(round(x * 1000))
    holds = []
    for e in sorted((e for e in ev if e.get("tid") == gil[0] and e.get("ph") == "X"),
                    key=lambda e: e["ts"]):
        who, a, b = e["args"]["thread"], ns(e["ts"]), ns(e["ts"] + e["dur"])
        if holds and holds[-1][2] == who and a - holds[-1][1] < 5000:
            holds[-1][1] = b  # a voluntary re-take within 5 us: the same hold
        else:
            holds.append([a, b, who])
    lanes = collections.defaultdict(list)
    for e in ev:
        if e.get("ph") in ("X", "i") and names.get(e.get("tid"), "").startswith("cpu"):
            a = ns(e["ts"])
            lanes[names[e["tid"]]].append((a, a + ns(e.get("dur", 0)), e["name"]))
    for v in lanes.values():
        v.sort()
    rows = []
    for i in range(1, len(holds)):
        th, _, w = holds[i]
        _, rel, h = holds[i - 1]
        if w == h or not (w.startswith("cpu") and h.startswith("cpu")):
            continue
        W, H = lanes[w], lanes[h]
        req = [x[0] for x in W if x[2] == "drop request" and x[0] <= th]
        to = [x[0] for x in W if x[2] == "GIL wait timed out" and x[0] <= th]
        if not req or not to or req[-1] < holds[i - 1][0]:
            continue
        req, to = req[-1], to[-1]
        ready = [x[1] for x in W if x[2].startswith("ready") and x[0] == to]
        run = ready[0] if ready else to
        slept = [x[0] for x in W if x[2] == "waiting for the GIL" and x[0] <= to]
        # the dropper waits ready from its drop; on a core again at that
        # slice's end (it asks for the GIL at once, or runs first)
        back = [x[1] for x in H if x[2].startswith("ready") and x[0] <= th < x[1]]
        back = back or [x[0] for x in H if x[0] > th and x[1] > x[0]]
        ask = [x[0] for x in H if x[2] == "waiting for the GIL" and x[0] >= th]
        if not slept or not back or not ask:
            continue
        rows.append({"hold": th, "sleep": to - slept[-1], "core": run - to, "req": req - run,
                     "drop": rel - req, "take": th - rel, "back": back[0] - th,
                     "ask": ask[0] - th, "others_ns": None, "tick_phase": th % tick_ns})
    return max(h[1] for h in holds), rows


def report(label, duration_ns, rows, tick_ns=4000000, out=sys.stdout):
    print("%s: %d forced switches in %.0f ms (%.0f/s)" % (
        label, len(rows), duration_ns / 1e6, len(rows) / duration_ns * 1e9), file=out)
    for k in STEPS + ("tick_phase",):
        xs = [r[k] for r in rows if r[k] is not None]
        if xs:
            print("  %-10s p10 %8.0f  p50 %8.0f  p90 %8.0f us" % (
                k, pct(xs, .1) / 1e3, pct(xs, .5) / 1e3, pct(xs, .9) / 1e3), file=out)
    seq = "".join(regime(r["back"], tick_ns) for r in rows)
    c = collections.Counter(seq)
    print("  dropper back by the first tick (A) %d, by the second (B) %d, later %d" % (
        c["A"], c["B"], c["x"]), file=out)
    print("  in order: " + seq, file=out)
    o = [r for r in rows if r["others_ns"] is not None]
    if o:
        quiet = [r for r in o if r["others_ns"] == 0]
        cq = collections.Counter(regime(r["back"], tick_ns) for r in quiet)
        print("  turns with no other program on the CPU: %d (A %d, B %d)" % (
            len(quiet), cq["A"], cq["B"]), file=out)


def record(args):
    from tracefs import sched_trace
    prog = os.path.join(HERE, "..", "..", "examples", "two_cpu.py")
    events = ("sched_switch", "sched_waking", "timer/hrtimer_expire_entry")
    with sched_trace("gilsim-onecore-%d" % os.getpid(), events, 60000, "", args.record) as (
            put, _):
        cmd = [args.gilsim, "record", "-q", "--switch-interval", args.interval, "-o",
               args.record + ".rec.json", "--", args.python, prog, str(args.seconds)]
        cmd = ["taskset", "-c", "0"] + cmd
        if args.own_group:
            cmd = ["setsid", "sh", "-c", 'echo -20 > /proc/self/autogroup; exec "$@"', "sh"] + cmd
        put("tracing_on", "1")
        try:
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        finally:
            put("tracing_on", "0")


def _ms(s):
    s = s.strip()
    for suf, k in (("ms", 1000000), ("us", 1000), ("ns", 1), ("s", 1000000000)):
        if s.endswith(suf):
            return int(float(s[:-len(suf)]) * k)
    raise argparse.ArgumentTypeError("a duration like 4ms, not %r" % s)


def self_test():
    """onecore_turns_test.py, on a recording, kernel trace and model trace
    made by hand."""
    import onecore_turns_test
    return onecore_turns_test.main()


def main(argv=None):
    if argv is None and sys.argv[1:] == ["--self-test"]:
        return self_test()
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("what", nargs="?", help="PREFIX of a --record, or a model --trace JSON")
    ap.add_argument("--record", metavar="PREFIX")
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--interval", default="5ms")
    ap.add_argument("--own-group", action="store_true")
    ap.add_argument("--gilsim", default="build/sim/cli/gilsim")
    ap.add_argument("--python", default="python3")
    ap.add_argument("--tick", type=_ms, default=4000000)
    args = ap.parse_args(argv)
    try:
        if args.record:
            record(args)
            args.what = args.record
        if not args.what:
            ap.error("give a PREFIX, a trace JSON or --record PREFIX")
        if args.what.endswith(".json"):
            dur, rows = turns_model(args.what, args.tick)
        else:
            dur, rows = turns_real(args.what)
    except (OSError, ValueError, KeyError) as err:
        print("onecore_turns: %s" % err, file=sys.stderr)
        return 2
    report(args.what, dur, rows, args.tick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
