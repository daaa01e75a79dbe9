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

         and the I/O thread's place among the waiters at that drop: on a
         quiet machine the real op is fast when the I/O thread is the
         longest waiter then (glibc's condition variable wakes its oldest
         waiter) and slow otherwise, whoever asked; the share of fast ops
         and whether a fast op follows a fast one more often than a slow
         one (a mode a run keeps, or ops that alternate); with --sched
         (one recording and the kernel's events of the same run), the CPU
         the I/O thread asked on against the holder's, and the share of
         fast ops of each;
         and, after each forced drop the I/O thread took, how the
         dropper's next wait ended (it took the GIL, its timeout asked for
         a drop, or a switch since it began voided its timeout): what sets
         whether a CPU waiter's request comes before the I/O thread's.

  seeds  SC.json: the model over seeds (gilsim run --trace per seed), each
         seed's ops read as `ops` reads them: its median op, the share of
         fast ops, who asked first, how often the requester took the first
         drop and the longest-waiter rule; then how many seeds' medians
         are fast. A row whose fast share is near a half has a median
         that falls on either side by chance, on both sides of the page.
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
    python3 tests/reality/convoy_modes.py seeds SC.json --seeds 1-20 [--set K=V ...]
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


# an op (the I/O thread's request to its hold, in intervals) under this is
# "fast": its first forced drop went to it (about one interval, 0.97-1.03);
# otherwise it waited through two or more
FAST = 1.45


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
    print(persistence([r["lat"] for r in runs], 1.5), file=out)
    if oth:
        print("other processes used %.2f of the machine (median of the runs; %.2f-%.2f)"
              % (statistics.median(oth), min(oth), max(oth)), file=out)


def op_chain(events, interval_ns, io="io"):
    """Per I/O op (its request to its next hold) a dict: op (in intervals),
    asked (who asked for the first forced drop after the request: 'io',
    'cpu', or None when there was none), took ('io', 'requester' or
    'other'; None with asked), rank (the I/O thread's place among the
    threads waiting at that drop, by the start of their current wait: 1 is
    the longest waiter, the one glibc's condition variable wakes first; a
    waiter that times out or sets the drop request starts a new wait) and
    waiters (how many waited then, the dropper not counted). events as
    forced_drops.gil_events_of_*."""
    events = sorted(events, key=lambda x: (x[0], forced_drops.ORDER[x[2]]))
    out = []
    waiting = {}
    asked, first, requester, pending = None, None, None, None
    for t, who, kind in events:
        if kind == "ask":
            waiting[who] = t
            # a model trace begins a new 'waiting for the GIL' slice at
            # each wait after a timeout: the op runs from the first ask
            # since the I/O thread's last hold, as a recording's does
            if who.startswith(io) and asked is None:
                asked, first = t, None
        elif kind == "timeout" and who in waiting:
            waiting[who] = t
        elif kind == "drop_request":
            if who in waiting:
                waiting[who] = t
            if requester is None:
                requester = who
        elif kind == "forced":
            if asked is not None and first is None:
                w = {k: v for k, v in waiting.items() if k != who}
                iot = next((k for k in w if k.startswith(io)), None)
                rank = None if iot is None else 1 + sum(1 for k in w if w[k] < w[iot])
                pending = (requester, rank, len(w))
            requester = None
        elif kind == "hold":
            waiting.pop(who, None)
            if asked is not None and first is None and pending is not None:
                req, rank, nw = pending
                if req is not None:
                    took = "io" if who.startswith(io) else "requester" if who == req else "other"
                    first = ("io" if req.startswith(io) else "cpu", took, rank, nw)
            pending = None
            if who.startswith(io) and asked is not None:
                f = first or (None, None, None, None)
                out.append({"op": (t - asked) / interval_ns, "asked": f[0], "took": f[1],
                            "rank": f[2], "waiters": f[3]})
                asked, first = None, None
    return out


def persistence(runs, fast):
    """One line: the share of fast ops (under `fast` intervals) over all the
    runs' ops, its range over the runs, and how an op follows the one
    before it in the same run (a mode that a run keeps would give a fast op
    after a fast one far more often than after a slow one)."""
    ops = [x for lat in runs for x in lat]
    if not ops:
        return "no ops"
    shares = [sum(1 for x in lat if x < fast) / len(lat) for lat in runs if lat]
    ff = fa = sf = sa = 0
    for lat in runs:
        f = [x < fast for x in lat]
        for a, b in zip(f, f[1:]):
            if a:
                fa += 1
                ff += b
            else:
                sa += 1
                sf += b
    return ("ops under %.2f intervals: %.2f of %d (each run %.2f-%.2f); a fast op follows a "
            "fast one in %.2f, a slow one in %.2f" % (
                fast, sum(1 for x in ops if x < fast) / len(ops), len(ops), min(shares),
                max(shares), ff / max(1, fa), sf / max(1, sa)))


def ops_of(events, interval_ns, io="io"):
    """Per I/O op (its request to its next hold): (op in intervals, who
    asked for the first forced drop after the request: 'io', 'cpu' or
    None when there was none, who took that drop: 'io', 'requester' or
    'other'). events as forced_drops.gil_events_of_*."""
    return [(d["op"], d["asked"], d["took"]) for d in op_chain(events, interval_ns, io)]


def longest_rule(chain, fast=FAST):
    """Does the op's speed follow from whether the I/O thread was the
    longest waiter at the first forced drop after its request? (ops with
    such a drop, fast of them when it was the longest, ops where it was
    not, fast of those), fast meaning under `fast` intervals (the op's
    request to its hold: one interval and the hold's own path)."""
    ds = [d for d in chain if d["asked"] is not None and d["rank"] is not None]
    lo = [d for d in ds if d["rank"] == 1]
    no = [d for d in ds if d["rank"] != 1]
    return (len(lo), sum(1 for d in lo if d["op"] < fast), len(no),
            sum(1 for d in no if d["op"] < fast))


def request_cpus(events, runs, interval_ns, io="io", fast=FAST):
    """Per I/O op, where the I/O thread ran as it asked for the GIL against
    the GIL's holder then: a Counter of (place, fast) with place 'holder's
    CPU', 'other CPU' or 'no CPU seen'; runs as request_core.cpu_runs (the
    kernel's events of the same run)."""
    import request_core
    c, holder, asked = Counter(), None, None
    for t, who, kind in sorted(events, key=lambda x: (x[0], forced_drops.ORDER[x[2]])):
        if kind == "hold":
            if who.startswith(io) and asked is not None:
                c[(asked[1], (t - asked[0]) / interval_ns < fast)] += 1
                asked = None
            holder = who
        elif kind == "ask" and who.startswith(io) and asked is None:
            ci = request_core.cpu_at(runs, who, t)
            ch = request_core.cpu_at(runs, holder, t) if holder else None
            asked = (t, "no CPU seen" if ci is None else
                     "holder's CPU" if ci == ch else "other CPU")
    return c


def print_longest(chain, out=sys.stdout):
    n_lo, f_lo, n_no, f_no = longest_rule(chain)
    n = n_lo + n_no
    if not n:
        return
    print("  the I/O thread the longest waiter at its op's first forced drop: %d of %d ops "
          "(%.0f%%), %.0f%% of them fast; not the longest: %.0f%% fast (fast: under %.2f "
          "intervals from its request)" % (
              n_lo, n, 100.0 * n_lo / n, 100.0 * f_lo / max(1, n_lo),
              100.0 * f_no / max(1, n_no), FAST), file=out)


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


def seed_rows(a):
    """The model over seeds: per seed, its ops read as a recording's."""
    import shutil
    import tempfile
    import seed_modes
    with open(a.scenario) as f:
        sc = json.load(f)
    iv = a.interval and int(round(a.interval * 1e9))
    if not iv:
        iv = seed_modes.dur_ns(sc.get("python", {}).get("switch_interval", "5ms"))
    rows = []
    tmp = tempfile.mkdtemp(prefix="convoy-modes-")
    try:
        for seed in seed_modes.seeds(a.seeds):
            tr = os.path.join(tmp, "t.json")
            cmd = [a.gilsim, "run", a.scenario, "--seed", str(seed), "--trace", tr, "--quiet"]
            for kv in a.set:
                cmd += ["--set", kv]
            p = subprocess.run(cmd, capture_output=True, text=True)
            if p.returncode != 0:
                raise RuntimeError("%s exited %d: %s" % (" ".join(cmd), p.returncode,
                                                         (p.stderr or p.stdout).strip()[-300:]))
            chain = op_chain(forced_drops.gil_events_of_trace(tr), iv, a.io)
            os.unlink(tr)
            if not chain:
                raise ValueError("%s: no ops of a thread named %s* (give --io)"
                                 % (a.scenario, a.io))
            rows.append((seed, chain))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return rows


def print_seeds(rows, out=sys.stdout):
    meds = []
    for seed, chain in rows:
        lat = [d["op"] for d in chain]
        n_lo, f_lo, n_no, f_no = longest_rule(chain)
        io_asked = sum(1 for d in chain if d["asked"] == "io")
        took_req = sum(1 for d in chain if d["took"] == "requester")
        med = statistics.median(lat)
        meds.append(med)
        print("seed %3d: %d ops, median %.2f intervals (%s), fast %.2f; the I/O thread asked "
              "first %.2f, the requester took the first drop %.2f; the I/O thread longest %d "
              "(fast %d), not %d (fast %d)" % (
                  seed, len(lat), med, "fast" if med < FAST else "slow",
                  sum(1 for x in lat if x < FAST) / len(lat), io_asked / len(chain),
                  took_req / len(chain), n_lo, f_lo, n_no, f_no), file=out)
    fast = sum(1 for m in meds if m < FAST)
    print("%d seeds: median op under %.2f intervals (fast) in %d, the others %s" % (
        len(meds), FAST, fast, " ".join("%.2f" % m for m in sorted(meds) if m >= FAST) or "none"),
        file=out)
    print(persistence([[d["op"] for d in c] for _, c in rows], FAST), file=out)


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
    o.add_argument("--sched", help="with one recording: the kernel's events of the same run "
                   "(io_cycle.py --record writes them): where the I/O thread asked")
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
    m = sub.add_parser("seeds", help="the model over seeds, each seed's ops read as by ops")
    m.add_argument("scenario", help="a scenario of the convoy (reality.py --keep writes them)")
    m.add_argument("--seeds", default="1-20", help="N, N-M or N,M,... (default 1-20)")
    m.add_argument("--gilsim", default="build/sim/cli/gilsim")
    m.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    m.add_argument("--io", default="io")
    m.add_argument("--interval", type=float,
                   help="switch interval in seconds (default: the scenario's)")
    a = ap.parse_args(argv)
    try:
        if a.cmd == "seeds":
            print_seeds(seed_rows(a))
            return 0
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
        if a.sched and (len(a.files) != 1 or not a.files[0].endswith(".rec.json")):
            raise ValueError("--sched goes with one recording (.rec.json) of the same run")
        for p in a.files:
            ev, iv = events_and_interval(p)
            if a.interval:
                iv = int(round(a.interval * 1e9))
            if not iv:
                raise ValueError("%s: give --interval (the trace does not say it)" % p)
            print(p)
            chain = op_chain(ev, iv, a.io)
            print_ops([(d["op"], d["asked"], d["took"]) for d in chain])
            print_longest(chain)
            print("  " + persistence([[d["op"] for d in chain]], FAST))
            if a.sched:
                import request_core
                from recording import load_recording
                rec = load_recording(p)
                tids = {th["tid"]: th["name"] for th in rec["threads"]}
                runs = request_core.cpu_runs(a.sched, rec["t0_monotonic_ns"], tids)
                c = request_cpus(ev, runs, iv, a.io)
                for place in ("holder's CPU", "other CPU", "no CPU seen"):
                    n = c[(place, True)] + c[(place, False)]
                    if n:
                        print("  the I/O thread asked on the %-12s %4d ops, %3.0f%% fast"
                              % (place, n, 100.0 * c[(place, True)] / n))
            print_dropper(dropper_after(ev, a.io))
    except (OSError, ValueError, KeyError, RuntimeError, json.JSONDecodeError) as e:
        print("convoy_modes: %s" % e, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
