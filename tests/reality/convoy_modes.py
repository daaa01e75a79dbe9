#!/usr/bin/env python3
"""The convoy's two modes (issue 15): an I/O thread doing 200 us sleeps
beside CPU-bound threads, at a 5 ms switch interval, waits about one
interval per op in some runs and about two in others. This tool measures
that from the outside and says, op by op, which way the GIL went.

  runs   N short real runs of tests/data/reality/convoy_many.py, each its own
         process: per run the median time per op in switch intervals, the
         medians of its successive windows of ops (does a run change mode
         part-way?), and the share of the machine other processes used
         meanwhile (noise.py). --policy runs the program under `nice -n -20`
         or `chrt -f 1` (root), to see what the kernel's choices do.
  ops    FILE ...: recordings (gilsim record) or model traces (gilsim run
         --trace): per I/O op, the first forced drop after its request: who
         asked for it (the I/O thread itself, or a CPU-bound waiter whose
         timed wait ran out first) and who took the GIL (the I/O thread, the
         requester, another thread), against the op's length. That is the
         chain that makes an op one interval or two:

           the CPU-bound waiter began its wait when the last forced
           switch ended, the I/O thread 0.2-0.3 ms later (its sleep), so
           the CPU waiter's timed wait usually runs out first; it asks for
           the drop and starts a new wait, now newer than the I/O
           thread's. If the holder drops while the requester is still on
           its way into the futex, the requester takes the GIL (glibc:
           "if there is an available signal, don't block") and the I/O
           thread's own timeout is voided by that switch: two intervals.
           If the holder first blocks on the GIL's mutex, which the
           requester holds until it is back in its wait, the signal wakes
           the longest sleeper, the I/O thread: one interval.

         and, after each forced drop the I/O thread took, how the
         dropper's next wait ended (it took the GIL, its timeout asked for
         a drop, or a switch since it began voided its timeout): what sets
         whether a CPU waiter's request comes before the I/O thread's.

  race   the first of those races without the recorder, whose own cost at
         each call lengthens the I/O thread's hold: the kernel's futex and
         clock_nanosleep system calls of a real run (--record PREFIX, root;
         tracefs), or of a kept PREFIX.txt + PREFIX.out.json. Per I/O op
         after a forced drop: the I/O thread's hold (from its GIL wait's
         return to its clock_nanosleep), the user time from its
         switch_cond wake (which wakes the dropper) to its drop's wake, the
         dropper's return (its futex wait's return) and the next CPU
         thread's, both against the I/O thread's drop. The next thread's
         return is its take only if it slept in its GIL wait: on a loaded
         machine, where it may wait for a core instead, it reads late.

    python3 tests/reality/convoy_modes.py runs --n 20 --cpu 2 --interval 0.005 --ops 60
    python3 tests/reality/convoy_modes.py ops --interval 0.005 REC.json [RUN.trace.json ...]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import forced_drops  # noqa: E402

PROGRAM = os.path.join(HERE, "..", "data", "reality", "convoy_many.py")
POLICIES = {"none": [], "nice": ["nice", "-n", "-20"], "fifo": ["chrt", "-f", "1"]}


def mode_of(x):
    """The mode a run's (or window's) median time per op falls in, in
    switch intervals: 'fast' under 1.5, 'slow' from 1.5 to 2.5, 'slower'
    above (the 200 us sleep itself is 0.04 of a 5 ms interval)."""
    return "fast" if x < 1.5 else "slow" if x < 2.5 else "slower"


def windows(lat, size):
    """Medians of successive windows of `size` ops (the last may be short)."""
    return [statistics.median(lat[i:i + size]) for i in range(0, len(lat), size)]


def real_runs(a):
    import noise
    runs = []
    for i in range(a.n):
        cmd = POLICIES[a.policy] + [a.python, PROGRAM, str(a.cpu), str(a.interval),
                                    str(a.ops), "--lat"]
        with noise.Meter() as m:
            p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError("%s failed (%d): %s" % (" ".join(cmd), p.returncode,
                                                       p.stderr.strip()[-300:]))
        lat = json.loads(p.stdout.strip().splitlines()[-1])["lat"]
        runs.append({"lat": lat, "others": m.others, "load": os.getloadavg()[0]})
        if not a.quiet:
            w = windows(lat, a.window)
            print("run %2d: %.2f intervals (%s); windows of %d: %s; others %.2f" % (
                i, statistics.median(lat), mode_of(statistics.median(lat)), a.window,
                " ".join("%.2f" % x for x in w), m.others if m.others is not None else -1),
                flush=True)
    return runs


def summarise_runs(runs, window, out=sys.stdout):
    meds = [statistics.median(r["lat"]) for r in runs]
    modes = Counter(mode_of(x) for x in meds)
    switched = sum(1 for r in runs if len({mode_of(x) for x in windows(r["lat"], window)}) > 1)
    oth = [r["others"] for r in runs if r["others"] is not None]
    print("%d runs: median per run %.2f intervals (min %.2f, max %.2f); fast (<1.5) %d, "
          "slow (1.5-2.5) %d, slower %d; runs whose windows of %d ops change mode: %d"
          % (len(runs), statistics.median(meds), min(meds), max(meds), modes["fast"],
             modes["slow"], modes["slower"], window, switched), file=out)
    if oth:
        print("other processes used %.2f of the machine (median of the runs; %.2f-%.2f)"
              % (statistics.median(oth), min(oth), max(oth)), file=out)


def ops_of(events, interval_ns, io="io"):
    """Per I/O op (its request to its next hold): (op in intervals, who
    asked for the first forced drop after the request: 'io', 'cpu' or
    None when there was none, who took that drop: 'io', 'requester' or
    'other'). events as forced_drops.gil_events_of_*."""
    events = sorted(events, key=lambda x: (x[0], forced_drops.ORDER[x[2]]))
    out = []
    asked, first, requester, pending = None, None, None, None
    for t, who, kind in events:
        if kind == "ask" and who.startswith(io):
            # a model trace begins a new 'waiting for the GIL' slice at
            # each wait after a timeout: the op runs from the first ask
            # since the I/O thread's last hold, as a recording's does
            if asked is None:
                asked, first = t, None
        elif kind == "drop_request":
            if requester is None:
                requester = who
        elif kind == "forced":
            if asked is not None and first is None:
                pending = requester
            requester = None
        elif kind == "hold":
            if asked is not None and first is None and pending is not None:
                req = pending
                took = "io" if who.startswith(io) else "requester" if who == req else "other"
                first = ("io" if req.startswith(io) else "cpu", took)
            pending = None
            if who.startswith(io) and asked is not None:
                f = first or (None, None)
                out.append(((t - asked) / interval_ns, f[0], f[1]))
                asked, first = None, None
    return out


def dropper_after(events, io="io"):
    """After each forced drop the I/O thread took: how the dropper's next
    GIL wait ended. 'took' (it found the GIL free when it came back, or
    took it at the I/O thread's release), 'request' (its timed wait ran out
    with no switch since it began: it asks for the next drop, ahead of the
    I/O thread) or 'voided' (ran out after a switch: it waits again and the
    I/O thread's request may come first). A Counter."""
    events = sorted(events, key=lambda x: (x[0], forced_drops.ORDER[x[2]]))
    c = Counter()
    for k, (t, who, kind) in enumerate(events):
        if kind != "forced":
            continue
        nxt = next((e for e in events[k + 1:] if e[2] == "hold"), None)
        if nxt is None or not nxt[1].startswith(io):
            continue
        mine = [e for e in events[k + 1:] if e[1] == who and e[2] in
                ("timeout", "drop_request", "hold")][:2]
        if not mine:
            continue
        end = mine[0][2]
        # a model trace marks the timer's end (timeout) and then, once the
        # waiter has run, the request it sets; a recording writes the
        # request only
        if (end == "timeout" and len(mine) > 1 and mine[1][2] == "drop_request"
                and mine[1][0] - mine[0][0] < 1_000_000):
            end = "drop_request"
        c[{"hold": "took", "drop_request": "request", "timeout": "voided"}[end]] += 1
    return c


def print_dropper(c, out=sys.stdout):
    n = sum(c.values())
    if n:
        print("  after a forced drop the I/O thread took (%d), the dropper's next wait ended: "
              "it took the GIL %d, its timeout asked for a drop %d, its timeout was voided by "
              "a switch %d" % (n, c["took"], c["request"], c["voided"]), file=out)


def print_ops(ops, out=sys.stdout):
    if not ops:
        print("  no I/O ops", file=out)
        return
    c = Counter((r, w) for _, r, w in ops)
    print("  %d I/O ops, median %.2f intervals" % (len(ops), statistics.median(x for x, _, _ in ops)),
          file=out)
    for (r, w), n in c.most_common():
        xs = [x for x, rr, ww in ops if (rr, ww) == (r, w)]
        label = ("no forced drop" if r is None else
                 "%s asked, %s took it" % ("the I/O thread" if r == "io" else "a CPU waiter",
                                           {"io": "the I/O thread", "requester": "the requester",
                                            "other": "another thread"}[w]))
        print("    first drop: %-44s %4d ops (%3.0f%%), op median %.2f intervals"
              % (label, n, 100.0 * n / len(ops), statistics.median(xs)), file=out)


TRACE_EVENTS = ("syscalls/sys_enter_futex", "syscalls/sys_exit_futex",
                "syscalls/sys_enter_clock_nanosleep", "syscalls/sys_exit_clock_nanosleep")
SYSLINE = re.compile(r"-(\d+)\s+\[(\d+)\]\s+\S+\s+(\d+\.\d+): (sys_\w+)(.*)$")
FUTEX_WAKE = 1


def syscalls_of(path, tids):
    """A kept trace's futex and clock_nanosleep calls of the threads in
    tids (kernel id -> name): {name: [(t_us, kind)]}, kind 'wait' or 'wake'
    (a futex call's start), 'ret' (a futex call's return), 'sleep' (a
    clock_nanosleep's start)."""
    out = {n: [] for n in tids.values()}
    for line in open(path):
        m = SYSLINE.search(line)
        if not m or int(m.group(1)) not in tids:
            continue
        who, t, name, rest = tids[int(m.group(1))], float(m.group(3)) * 1e6, m.group(4), m.group(5)
        if name == "sys_futex":
            if "->" in rest:
                out[who].append((t, "ret"))
            else:
                op = re.search(r"op: (0x[0-9a-f]+)", rest)
                if op is None:
                    raise ValueError("%s: a futex call without its op: %s" % (path, line.strip()))
                out[who].append((t, "wake" if int(op.group(1), 16) & 0x7f == FUTEX_WAKE else "wait"))
        elif name == "sys_clock_nanosleep" and "->" not in rest:
            out[who].append((t, "sleep"))
    return out


def race_of(calls, io="io"):
    """Per I/O op whose GIL wait ended with the dropper to wake (a futex
    wait, then at least two wakes before its sleep: switch_cond's and the
    drop's), in us: hold (wait's return -> sleep), user (switch_cond
    wake's return -> the drop's wake), dropper (its next futex return
    after the switch_cond wake, less the drop's wake) and next (the other
    CPU thread's first futex return after the drop's wake, less it)."""
    ev = calls[io]
    cpus = [n for n in calls if n != io]
    out, seg = [], []

    def first_ret(name, after):
        return next((t for t, k in calls[name] if k == "ret" and t >= after), None)
    for t, k in ev:
        if k != "sleep":
            seg.append((t, k))
            continue
        done = [(seg[i][0], seg[i][1], seg[i + 1][0]) for i in range(len(seg) - 1)
                if seg[i][1] in ("wait", "wake") and seg[i + 1][1] == "ret"]
        seg = []
        waits = [c for c in done if c[1] == "wait"]
        if not waits:
            continue
        wakes = [c for c in done if c[1] == "wake" and c[0] > waits[-1][2]]
        if len(wakes) < 2:
            continue
        back, sw, drop = waits[-1][2], wakes[0], wakes[-1]
        rets = sorted((first_ret(c, sw[0]), c) for c in cpus if first_ret(c, sw[0]) is not None)
        if len(rets) < 2:
            continue
        dropper, other = rets[0], rets[1][1]
        nxt = first_ret(other, drop[0])
        if nxt is None:
            continue
        out.append({"hold": t - back, "user": drop[0] - sw[2], "dropper": dropper[0] - drop[0],
                    "next": nxt - drop[0]})
    return out


def print_race(rows, out=sys.stdout):
    if not rows:
        print("  no I/O op after a forced drop found", file=out)
        return
    print("  %d I/O ops after a forced drop; us, p10 / p50 / p90:" % len(rows), file=out)
    for key, label in (("hold", "I/O thread's hold (GIL wait return -> sleep)"),
                       ("user", "its user time, switch_cond wake -> drop"),
                       ("dropper", "dropper back, less the I/O thread's drop"),
                       ("next", "next CPU thread back, less that drop")):
        xs = sorted(r[key] for r in rows)
        q = lambda f: xs[min(len(xs) - 1, int(f * len(xs)))]
        print("    %-46s %8.1f %8.1f %8.1f" % (label, q(.1), q(.5), q(.9)), file=out)
    first = sum(1 for r in rows if r["dropper"] < r["next"])
    print("    the dropper back before the next CPU thread: %d of %d" % (first, len(rows)),
          file=out)


def race_record(a):
    from tracefs import TRACEFS
    inst = os.path.join(TRACEFS, "instances", "gilsim-convoy-race")
    os.makedirs(inst, exist_ok=True)

    def put(f, v):
        with open(os.path.join(inst, f), "w") as out:
            out.write(v)
    try:
        put("trace_clock", "mono")
        put("buffer_size_kb", "30000")
        for ev in TRACE_EVENTS:
            put("events/%s/enable" % ev, "1")
        put("trace", "")
        put("tracing_on", "1")
        cmd = POLICIES[a.policy] + [a.python, PROGRAM, str(a.cpu), str(a.interval),
                                    str(a.ops), "--lat"]
        p = subprocess.run(cmd, capture_output=True, text=True)
        put("tracing_on", "0")
        if p.returncode != 0:
            raise RuntimeError("%s failed (%d): %s" % (" ".join(cmd), p.returncode,
                                                       p.stderr.strip()[-300:]))
        with open(a.record + ".out.json", "w") as f:
            f.write(p.stdout.strip().splitlines()[-1])
        with open(os.path.join(inst, "trace")) as src, open(a.record + ".txt", "w") as dst:
            dst.write(src.read())
    finally:
        for ev in TRACE_EVENTS:
            try:
                put("events/%s/enable" % ev, "0")
            except OSError:
                pass
        os.rmdir(inst)


def race_main(a):
    if a.record:
        race_record(a)
        a.prefix = a.record
    if not a.prefix:
        raise ValueError("give PREFIX (a kept PREFIX.txt and PREFIX.out.json) or --record PREFIX")
    with open(a.prefix + ".out.json") as f:
        run = json.load(f)
    tids = {int(v): k for k, v in run["tids"].items()}
    print("%s: %d ops, median %.2f intervals" % (a.prefix, len(run["lat"]),
                                                 statistics.median(run["lat"])))
    print_race(race_of(syscalls_of(a.prefix + ".txt", tids)))


def events_and_interval(path):
    with open(path) as f:
        doc = json.load(f)
    if isinstance(doc, dict) and doc.get("format") == "gilsim-recording":
        return forced_drops.gil_events_of_recording(path), doc["switch_interval_ns"]
    if isinstance(doc, list) or "traceEvents" in doc:
        ev = doc["traceEvents"] if isinstance(doc, dict) else doc
        iv = next((e["args"].get("switch_interval_ns") for e in ev
                   if e.get("ph") == "M" and "switch_interval_ns" in e.get("args", {})), None)
        return forced_drops.gil_events_of_trace(path), iv
    raise ValueError("%s: neither a gilsim recording nor a gilsim run --trace file" % path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("runs", help="many short real runs")
    r.add_argument("--n", type=int, default=20)
    r.add_argument("--cpu", type=int, default=2)
    r.add_argument("--interval", type=float, default=0.005)
    r.add_argument("--ops", type=int, default=60)
    r.add_argument("--window", type=int, default=20)
    r.add_argument("--policy", choices=sorted(POLICIES), default="none")
    r.add_argument("--python", default="python3")
    r.add_argument("--json", help="write every run's latencies and load here")
    r.add_argument("--quiet", action="store_true")
    o = sub.add_parser("ops", help="classify each I/O op of recordings or model traces")
    o.add_argument("files", nargs="+")
    o.add_argument("--io", default="io")
    o.add_argument("--interval", type=float,
                   help="switch interval in seconds: a model trace does not say it, and a "
                        "recording says the one at its start (convoy_many.py sets its own "
                        "later)")
    c = sub.add_parser("race", help="the dropper's race from the kernel's system calls")
    c.add_argument("prefix", nargs="?", help="a kept PREFIX.txt and PREFIX.out.json")
    c.add_argument("--record", metavar="PREFIX", help="trace a real run first (root)")
    c.add_argument("--cpu", type=int, default=2)
    c.add_argument("--interval", type=float, default=0.005)
    c.add_argument("--ops", type=int, default=60)
    c.add_argument("--policy", choices=sorted(POLICIES), default="none")
    c.add_argument("--python", default="python3")
    a = ap.parse_args(argv)
    try:
        if a.cmd == "race":
            race_main(a)
            return 0
        if a.cmd == "runs":
            runs = real_runs(a)
            summarise_runs(runs, a.window)
            if a.json:
                with open(a.json, "w") as f:
                    json.dump({"args": vars(a), "runs": runs}, f)
            return 0
        for p in a.files:
            ev, iv = events_and_interval(p)
            if a.interval:
                iv = int(round(a.interval * 1e9))
            if not iv:
                raise ValueError("%s: give --interval (the trace does not say it)" % p)
            print(p)
            print_ops(ops_of(ev, iv, a.io))
            print_dropper(dropper_after(ev, a.io))
    except (OSError, ValueError, KeyError, RuntimeError, json.JSONDecodeError) as e:
        print("convoy_modes: %s" % e, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
